"""Backing up and restoring the whole database: every row comes back exactly, on each backend and
across them; damaged, truncated or mismatched files and occupied databases are refused, and then
nothing is written."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from dashboard import audit, backup, search
from dashboard.access import RecordFilters, Viewer
from dashboard.database import Database
from dashboard.demo import seed_demo
from dashboard.models import (
    Alert,
    AlertRecipient,
    ApiToken,
    AppSetting,
    AuditEvent,
    Base,
    Incident,
    LoginThrottle,
    Organisation,
    RecordChange,
    RecoveryCode,
    TensionAssessment,
    User,
    UserInvitation,
    UserSession,
)
from dashboard.reference import Marking
from dashboard.rollups import incidents_by_area
from tests.conftest import add_incident, make_people

TODAY = date(2026, 11, 1)
WORD = "Quillferntastic"  # in one incident's title only


def quiet(_message: str) -> None:
    pass


def seed_everything(db: Database, password_hash: str) -> None:
    """A small demo, plus a record of every kind the demo does not make."""
    seed_demo(db, incidents=300, seed=11, today=TODAY)
    with db.session() as session:
        people = make_people(session, password_hash)
        red = add_incident(session, people.police_member, Marking.RED, recipients=[people.council_member],
                           title=f"{WORD} leaflets near the station")
        amber = add_incident(session, people.council_member, Marking.AMBER, listed=[people.charity, people.police])
        later = add_incident(session, people.charity_chair, Marking.GREEN, title="Corroborated later")
        amber.corroborates_id = later.id  # a reference to a row that comes after it
        red.latitude, red.longitude, red.description = 52.4862, -1.890401, "Ünïcode — “quotes” and\nnew lines"
        now = datetime(2026, 10, 30, 9, 15, 42, 123456, tzinfo=UTC)
        session.add_all([
            ApiToken(user_id=people.sci.id, name="Monthly pull", prefix="abc123", token_hash="f" * 64,
                     created_at=now, expires_at=now + timedelta(days=90), created_by_id=people.council_admin.id),
            UserSession(token_hash="e" * 64, user_id=people.police_member.id, created_at=now, last_seen_at=now,
                        ip_address="192.0.2.1", user_agent="pytest"),
            LoginThrottle(email="nobody@example.org", failures=3, window_started_at=now),
            RecordChange(record_type="incident", record_id=red.id, version=1, at=now, user_id=people.police_member.id,
                         action="created", changes=[{"field": "Title", "before": None, "after": "x", "n": 0.1}]),
            RecordChange(record_type="incident", record_id=red.id, version=2, at=now, action="updated", changes=None),
            AppSetting(key="backup-test", value="yes"),
            UserInvitation(user_id=people.council_member.id, token_hash="d" * 64, created_at=now,
                           created_by_id=people.council_admin.id, expires_at=now + timedelta(days=7)),
            RecoveryCode(user_id=people.council_admin.id, code_hash="c" * 64, created_at=now, used_at=now),
        ])
        people.council_admin.totp_secret, people.council_admin.totp_last_step = "v1:sealed", 59_000_000
        alert = Alert(key="test-alert", kind="surge", area_code="E08000025", title="A surge", expected=1.0 / 3,
                      observed=7, window_start=TODAY, window_end=TODAY)
        alert.recipients = [AlertRecipient(user_id=people.council_member.id, acknowledged_at=now)]
        session.add(alert)
        session.add(TensionAssessment(area_code="E08000025", assessed_on=TODAY, level=4, rationale="RED",
                                      source_org_id=people.police.id, reporter_id=people.police_member.id,
                                      marking=Marking.RED.value, recipients=[people.council_member]))
        audit.record(session, "test event", user_id=people.council_admin.id, actor="ada", ip_address="192.0.2.9",
                     reason="checking", detail={"list": [1, 2.5, None], "text": "naïve"})


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table (derived counts included), in key order, values as read back."""
    tables = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = list(rows)
    return tables


def as_restored(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The rows a restore should give back, compared with the restored database's rows less the
    restore's own audit event: the same, except that open sign-in sessions were ended."""
    return {**tables, "user_sessions": _sessions_less_their_end(tables["user_sessions"])}


def _sessions_less_their_end(rows) -> list[tuple]:
    return [tuple(v for k, v in row._mapping.items() if k not in ("ended_at", "end_reason")) for row in rows]


def without_last_audit(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    sessions = tables["user_sessions"]
    assert all(row.ended_at is not None for row in sessions)
    return {**tables, "audit_events": tables["audit_events"][:-1], "user_sessions": _sessions_less_their_end(sessions)}


def last_audit_action(db: Database) -> str:
    with db.session() as session:
        return session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))


@dataclass
class Source:
    """A seeded database, its rows just before it was backed up, and the backup."""

    db: Database
    before: dict[str, list[tuple]]
    file: Path
    summary: backup.BackupSummary


@pytest.fixture(scope="module")
def sources(request, tmp_path_factory, sqlite_template, password_hash):
    """One seeded database and backup per backend, made when first asked for."""
    made: dict[str, Source] = {}

    def source(kind: str) -> Source:
        if kind not in made:
            folder = tmp_path_factory.mktemp(f"source-{kind}")
            if kind == "sqlite":
                shutil.copyfile(sqlite_template, folder / "source.db")
                db = Database(f"sqlite:///{folder / 'source.db'}")
            else:
                db = Database(request.getfixturevalue("postgres_databases").new())
            seed_everything(db, password_hash)
            before = snapshot(db)
            file = folder / "backup.jsonl.gz"
            made[kind] = Source(db, before, file, backup.backup(db, file, say=quiet))
        return made[kind]

    yield source
    for item in made.values():
        item.db.dispose()


def check_restored(source: Database, restored: Database, before: dict) -> None:
    restored_rows = snapshot(restored)
    assert [row.end_reason for row in restored_rows["user_sessions"]] == [backup.SESSIONS_ENDED]
    after = without_last_audit(restored_rows)
    for name, rows in as_restored(before).items():
        assert after[name] == rows, name
    assert last_audit_action(restored) == "database restored"
    with restored.session() as session:
        # the text index was rebuilt
        condition = search.matching(restored.dialect, WORD.lower()[:6])
        found = session.scalars(select(Incident.title).where(condition)).all()
        assert found == [f"{WORD} leaflets near the station"]
        # the count tables give the same figures as the incidents themselves
        member = session.scalar(select(User).where(User.email == "cora.council@council.example"))
        viewer = Viewer.from_user(member)
        period = RecordFilters(start=date(2025, 11, 1), end=TODAY)
        with source.session() as old:
            assert incidents_by_area(session, viewer, period) == incidents_by_area(old, viewer, period)
        # new rows get new ids (PostgreSQL's sequences were moved on)
        highest = session.scalar(select(func.max(Organisation.id)))
        org = Organisation(name="Added after the restore", sector="statutory")
        session.add(org)
        session.flush()
        assert org.id == highest + 1
        audit.record(session, "after restore", actor="test")
    with restored.session() as session:
        assert audit.verify(session).ok
    # the audit log is still append-only
    with pytest.raises(SQLAlchemyError), restored.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    with pytest.raises(SQLAlchemyError), restored.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    if restored.dialect == "postgresql":
        with pytest.raises(SQLAlchemyError), restored.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_events"))


def test_backup_and_restore_every_row(db, backend, sources):
    source = sources(backend)
    empty = [name for name, rows in source.before.items() if not rows]
    assert not empty, f"the test should hold a record of every kind: {empty}"
    file, summary = source.file, source.summary
    assert file.stat().st_mode & 0o777 == 0o600
    assert summary.tables["incidents"] == 303 and "incident_monthly_counts" not in summary.tables
    assert last_audit_action(source.db) == "database backed up"
    with gzip.open(file, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        assert header["format"] == "partnership-dashboard-backup" and header["schema"] == summary.schema
        assert header["tables"]["incidents"] == 303
        assert json.loads(handle.readline())["t"] == "actors"

    result = backup.restore(db, file, say=quiet)  # into a database holding only the reference data
    assert result.rows == summary.rows and not result.replaced
    check_restored(source.db, db, source.before)
    # restoring again over records needs replace, which restores the same rows
    occupied = snapshot(db)
    with pytest.raises(backup.BackupError, match="already holds records"):
        backup.restore(db, file, say=quiet)
    assert snapshot(db) == occupied
    assert backup.restore(db, file, say=quiet, replace=True).replaced
    assert without_last_audit(snapshot(db)) == as_restored(source.before)


@pytest.mark.postgres
def test_restore_across_backends(db, backend, sources):
    source = sources("postgresql" if backend == "sqlite" else "sqlite")
    backup.restore(db, source.file, say=quiet)
    check_restored(source.db, db, source.before)


def test_restore_creates_the_schema_in_a_new_sqlite_database(sqlite_db, tmp_path, password_hash):
    with sqlite_db.session() as session:
        people = make_people(session, password_hash)
        add_incident(session, people.police_member, Marking.GREEN, title=f"{WORD} stickers")
    file = tmp_path / "small.jsonl.gz"
    before = snapshot(sqlite_db)
    backup.backup(sqlite_db, file, say=quiet)
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(sqlite_db, file, say=quiet)
    target = Database(f"sqlite:///{tmp_path / 'brand-new.db'}")
    try:
        backup.restore(target, file, say=quiet)
        assert without_last_audit(snapshot(target)) == as_restored(before)
    finally:
        target.dispose()


# --- refusals: nothing is written --------------------------------------------------------------


@pytest.fixture
def small_backup(sqlite_db, tmp_path, password_hash):
    with sqlite_db.session() as session:
        people = make_people(session, password_hash)
        for n in range(5):
            add_incident(session, people.police_member, Marking.GREEN, title=f"Report {n}")
    file = tmp_path / "small.jsonl.gz"
    backup.backup(sqlite_db, file, say=quiet)
    return file


def lines_of(file) -> list[bytes]:
    with gzip.open(file, "rb") as handle:
        return handle.readlines()


def write_lines(file, lines: list[bytes], *, reseal: bool = False) -> None:
    """Write lines as a backup; with reseal, give it a trailer that matches them."""
    if reseal:
        body = lines[:-1]
        trailer = json.loads(lines[-1])
        trailer["sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
        lines = [*body, (json.dumps(trailer) + "\n").encode()]
    with gzip.open(file, "wb") as handle:
        handle.writelines(lines)


def assert_untouched(target: Database) -> None:
    with target.session() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


@pytest.mark.parametrize("damage", ["cut bytes", "cut lines", "changed row", "unknown column", "bad date",
                                    "not gzip", "missing table rows"])
def test_damaged_files_are_refused_naming_the_line(db, small_backup, tmp_path, damage):
    lines = lines_of(small_backup)
    bad = tmp_path / "bad.jsonl.gz"
    incident_line = next(i for i, line in enumerate(lines) if line.startswith(b'{"t":"incidents"'))
    expected = {
        "cut bytes": "truncated", "cut lines": "truncated", "changed row": "checksum does not match",
        "unknown column": f"line {incident_line + 1}: the row of incidents has unknown column colour",
        "bad date": f"line {incident_line + 1}: incidents.occurred_on holds 'yesterday'",
        "not gzip": "not a gzip file", "missing table rows": "incidents has 4 rows, the header says 5",
    }[damage]
    if damage == "cut bytes":
        whole = small_backup.read_bytes()
        bad.write_bytes(whole[: len(whole) * 2 // 3])
    elif damage == "cut lines":
        write_lines(bad, lines[: incident_line + 2])
    elif damage == "changed row":
        write_lines(bad, [*lines[:incident_line], lines[incident_line].replace(b"Report 0", b"Report 9"),
                          *lines[incident_line + 1:]])
    elif damage in ("unknown column", "bad date"):
        row = json.loads(lines[incident_line])
        if damage == "unknown column":
            row["r"]["colour"] = "red"
        else:
            row["r"]["occurred_on"] = "yesterday"
        changed = (json.dumps(row) + "\n").encode()
        write_lines(bad, [*lines[:incident_line], changed, *lines[incident_line + 1:]], reseal=True)
    elif damage == "not gzip":
        bad.write_bytes(b"".join(lines))
    else:
        trailer = json.loads(lines[-1])
        trailer["rows"] -= 1
        write_lines(bad, [*lines[:incident_line], *lines[incident_line + 1:-1], (json.dumps(trailer) + "\n").encode()],
                    reseal=True)
    with pytest.raises(backup.BackupError, match=expected):
        backup.restore(db, bad, say=quiet)
    assert_untouched(db)


def test_a_backup_at_another_schema_revision_is_refused(db, small_backup, tmp_path):
    lines = lines_of(small_backup)
    header = json.loads(lines[0])
    header["schema"] = "0001"
    bad = tmp_path / "old.jsonl.gz"
    write_lines(bad, [(json.dumps(header) + "\n").encode(), *lines[1:]], reseal=True)
    assert backup.check(bad).schema == "0001"
    with pytest.raises(backup.BackupError, match="made at schema 0001"):
        backup.restore(db, bad, say=quiet)
    assert_untouched(db)


def test_a_failure_part_way_rolls_everything_back(db, small_backup, tmp_path):
    lines = lines_of(small_backup)
    incident_line = next(i for i, line in enumerate(lines) if line.startswith(b'{"t":"incidents"'))
    row = json.loads(lines[incident_line])
    row["r"]["severity"] = 9  # breaks a check constraint, after many rows were written
    bad = tmp_path / "severity.jsonl.gz"
    write_lines(bad, [*lines[:incident_line], (json.dumps(row) + "\n").encode(), *lines[incident_line + 1:]],
                reseal=True)
    with pytest.raises(backup.BackupError, match="refused a row of incidents"):
        backup.restore(db, bad, say=quiet)
    assert_untouched(db)
    with db.session() as session:  # the reference data init-db loaded is still there
        assert session.scalar(text("SELECT count(*) FROM areas")) == 65
