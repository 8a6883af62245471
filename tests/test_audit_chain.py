"""The audit log's hash chain: every entry is chained as it is written, concurrent writers do not
fork the chain, and `verify` names exactly the entry where a changed, removed or re-hashed entry
breaks it. Tampering needs the append-only triggers lifted first, as an attacker with the
database's owner account could."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from dashboard import audit
from dashboard.database import Database, alembic_config, upgrade_schema
from dashboard.models import AuditEvent


def write(db: Database, n: int, prefix: str = "test") -> None:
    with db.session() as session:
        for i in range(n):
            audit.record(session, f"{prefix}-{i % 3}", actor=f"{prefix}@example.org", record_type="incident",
                         record_id=i, ip_address="192.0.2.1", reason=f"reason {i}",
                         detail={"n": i, "ünïcode": "✓", "list": (1, 2)})


def tamper(db: Database, *statements: str, **params) -> None:
    """Run statements with the append-only triggers lifted (they refuse UPDATE and DELETE)."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        for statement in statements:
            conn.execute(text(statement), params)


def check(db: Database) -> audit.VerifyResult:
    with db.session() as session:
        return audit.verify(session, batch=7)


def name_of(db: Database, entry_id: int) -> str:
    with db.session() as session:
        event = session.get(AuditEvent, entry_id)
        return f"Entry {entry_id} ({event.at:%Y-%m-%d %H:%M:%S} UTC, {event.action})"


def test_an_empty_log_verifies(db):
    result = check(db)
    assert (result.ok, result.checked, result.first_broken_id) == (True, 0, None)


def test_a_clean_log_verifies_and_each_entry_follows_the_last(db):
    for _ in range(4):
        write(db, 30)
    with db.session() as session:  # an entry added without audit.record is chained too
        session.add(AuditEvent(action="direct", actor="test"))
    result = check(db)
    assert result.ok, result.problem
    assert result.checked == 121 and result.first_broken_id is None
    with db.session() as session:
        rows = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [r.id for r in rows] == list(range(1, 122))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0].detail == {"n": 0, "ünïcode": "✓", "list": [1, 2]}
    assert rows[0].at.tzinfo is not None
    assert result.last_id == 121 and result.last_hash == rows[-1].entry_hash
    assert "intact" in result.problem and "121" in result.problem


def test_the_event_has_its_id_and_hashes_in_the_same_transaction(db):
    with db.session() as session:
        event = audit.record(session, "sign-in", actor="a@example.org")
        session.flush()
        assert event.id == 1 and event.prev_hash == audit.GENESIS and len(event.entry_hash) == 64
        second = audit.record(session, "sign-out", actor="a@example.org")
        session.flush()
        assert (second.id, second.prev_hash) == (2, event.entry_hash)
    assert check(db).ok


def test_a_rolled_back_entry_leaves_no_gap(db):
    write(db, 3)
    with pytest.raises(RuntimeError), db.session() as session:
        audit.record(session, "doomed")
        session.flush()
        raise RuntimeError("the change it described failed")
    write(db, 3)
    result = check(db)
    assert result.ok, result.problem
    with db.session() as session:
        assert session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == [1, 2, 3, 4, 5, 6]


def test_a_changed_entry_is_named(db):
    write(db, 20)
    tamper(db, "UPDATE audit_events SET reason = 'nothing to see' WHERE id = 12")
    result = check(db)
    assert not result.ok and result.first_broken_id == 12 and result.checked == 11
    assert result.problem == f"{name_of(db, 12)}: its contents do not match its hash."


def test_a_changed_time_is_named(db):
    write(db, 10)
    tamper(db, "UPDATE audit_events SET at = :at WHERE id = 4", at=datetime(2026, 1, 1, 9, 0))
    result = check(db)
    assert result.first_broken_id == 4
    assert result.problem == "Entry 4 (2026-01-01 09:00:00 UTC, test-0): its contents do not match its hash."


def test_a_removed_entry_is_named_as_missing(db):
    write(db, 20)
    tamper(db, "DELETE FROM audit_events WHERE id = 7")
    result = check(db)
    assert not result.ok and result.first_broken_id == 8
    assert result.problem == f"{name_of(db, 8)}: entry 7 is missing."


def test_removed_first_entries_are_named(db):
    write(db, 5)
    tamper(db, "DELETE FROM audit_events WHERE id IN (1, 2)")
    result = check(db)
    assert result.first_broken_id == 3 and result.problem.endswith(": entries 1 to 2 are missing.")


def test_a_changed_hash_is_named(db):
    write(db, 20)
    tamper(db, "UPDATE audit_events SET entry_hash = :h WHERE id = 15", h="f" * 64)
    result = check(db)
    assert result.first_broken_id == 15
    assert result.problem == f"{name_of(db, 15)}: its contents do not match its hash."


def test_a_rehashed_change_is_caught_by_the_next_entry(db):
    write(db, 20)
    with db.session() as session:
        fields = {name: getattr(session.get(AuditEvent, 9), name) for name in audit.HASHED_FIELDS}
    fields["reason"] = "rewritten"
    tamper(db, "UPDATE audit_events SET reason = 'rewritten', entry_hash = :h WHERE id = 9",
           h=audit.compute_hash(fields))
    result = check(db)
    assert result.first_broken_id == 10
    assert result.problem == f"{name_of(db, 10)}: it does not follow entry 9."


def test_a_renumbered_entry_is_caught(db):
    write(db, 6)
    # id 6 moved to 9: the link holds, but entries 6 to 8 are missing
    tamper(db, "UPDATE audit_events SET id = 9 WHERE id = 6")
    result = check(db)
    assert result.first_broken_id == 9 and "entries 6 to 8 are missing" in result.problem


def test_the_append_only_triggers_still_refuse_changes(db):
    write(db, 2)
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_events SET reason = 'x' WHERE id = 1")
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events WHERE id = 2")


def _writer(db: Database, prefix: str, n: int, errors: list) -> None:
    try:
        for i in range(n):
            with db.session() as session:
                audit.record(session, prefix, actor=f"{prefix}@example.org", detail={"i": i})
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(error)


def test_concurrent_writers_do_not_fork_the_chain(db):
    errors: list = []
    threads = [threading.Thread(target=_writer, args=(db, name, 50, errors)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = check(db)
    assert result.ok, result.problem
    assert result.checked == 100


def test_a_second_writer_waits_for_the_first_to_commit(db):
    """The first transaction holds the chain's lock from its flush to its commit, so the second
    reads the first's entry as the last one, not the entry before it."""
    write(db, 1)
    done = threading.Event()
    errors: list = []

    def second():
        try:
            with db.session() as session:
                audit.record(session, "second")
                session.flush()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        done.set()

    with db.session() as session:
        audit.record(session, "first")
        session.flush()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set(), "the second writer waits for the chain's lock"
    thread.join(10)
    assert errors == [] and done.is_set()
    result = check(db)
    assert result.ok and result.checked == 3, result.problem
    with db.session() as session:
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == [
            "test-0", "first", "second"]


# --- the upgrade chains what is already there ----------------------------------------------------


@pytest.fixture
def empty_db(request, backend, tmp_path):
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'upgrade.db'}")
        yield database
        database.dispose()
    else:
        pg = request.getfixturevalue("postgres_databases")
        name = f"{pg.prefix}_upgrade"
        pg._execute(f'CREATE DATABASE "{name}"')
        pg.created.append(name)
        database = Database(pg.url(name))
        yield database
        database.dispose()
        pg.drop(pg.url(name))


def test_the_upgrade_chains_existing_entries(empty_db):
    from alembic import command

    cfg = alembic_config(empty_db.url)
    with empty_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    at = datetime(2026, 3, 1, 12, 0, 0, 123456)
    with empty_db.engine.begin() as conn:  # ids 3 and 4 were lost to rollbacks before the chain
        for i in (1, 2, 5, 6):
            conn.execute(text("INSERT INTO audit_events (id, at, actor, action, detail) "
                              "VALUES (:id, :at, 'old@example.org', 'sign-in', :detail)"),
                         {"id": i, "at": at, "detail": '{"b": 1, "a": [1, "x"]}'})
    upgrade_schema(empty_db)

    with empty_db.session() as session:
        result = audit.verify(session)
        started = session.scalars(select(AuditEvent).where(AuditEvent.action == audit.CHAIN_STARTED)).one()
    assert result.ok, result.problem
    assert result.checked == 5
    assert started.id == 7 and started.detail == {"entries_chained": 4, "missing_ids": [[3, 4]]}

    with empty_db.session() as session:  # new entries follow on
        audit.record(session, "sign-out", actor="new@example.org")
    with empty_db.session() as session:
        assert audit.verify(session).checked == 6
        assert session.get(AuditEvent, 8).prev_hash == started.entry_hash

    with pytest.raises(Exception, match="append-only"), empty_db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events WHERE id = 1")
    tamper(empty_db, "DELETE FROM audit_events WHERE id = 5")  # a gap that was not there before
    with empty_db.session() as session:
        result = audit.verify(session)
    assert result.first_broken_id == 6 and result.problem.endswith("entry 5 is missing.")


def test_chaining_needs_no_entries():
    assert audit._ranges([3, 4, 9, 11, 12]) == [[3, 4], [9, 9], [11, 12]]
    fields = {"id": 1, "at": datetime(2026, 11, 24, 10, 0, tzinfo=UTC), "actor": "a", "action": "x",
              "prev_hash": audit.GENESIS}
    assert audit.canonical(fields) == (
        '{"action":"x","actor":"a","at":"2026-11-24T10:00:00.000000+00:00","detail":null,"id":1,'
        '"ip_address":null,"prev_hash":"' + "0" * 64 + '","reason":null,"record_id":null,'
        '"record_type":null,"user_id":null}'
    )


def test_only_gaps_found_by_the_upgrade_are_explained():
    allowed = {(3, 4), (8, 9)}
    assert audit._unexplained(3, 4, allowed) is None
    assert audit._unexplained(3, 5, allowed) == (5, 5)
    assert audit._unexplained(2, 4, allowed) == (2, 2)
    assert audit._unexplained(3, 9, allowed) == (5, 7)
    assert audit._unexplained(8, 9, ()) == (8, 9)
