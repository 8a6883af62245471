"""The audit log: who did what, when (UTC), to which record or export, from where, and why.

The log is append-only (database triggers refuse UPDATE, DELETE and TRUNCATE) and tamper-evident:
each entry carries `entry_hash`, the SHA-256 of its contents together with `prev_hash`, the hash
of the entry before it (64 zeros for the first). Changing an entry, removing one or slipping one
in breaks the chain, and `verify` names the first entry where it breaks.

How entries are chained, and why concurrent writers cannot fork the chain: every new AuditEvent
(whether added by `record` or directly) is given its id and hashes just before its session
flushes it (a `before_flush` listener on every Session). Before reading the last entry the
transaction takes the chain's lock, held until it commits or rolls back:

- PostgreSQL: `pg_advisory_xact_lock(CHAIN_LOCK)`. Under READ COMMITTED the next statement (the
  read of the last entry) sees every entry committed before the lock was granted.
- SQLite: the database's single write lock, taken by a write that changes nothing
  (`UPDATE audit_events SET id = id WHERE 0`; pysqlite opens the transaction before it). Once a
  transaction holds the write lock no other can commit, so its read of the last entry is current.

The id is given explicitly (the last id + 1) rather than by the PostgreSQL sequence, so a
transaction that rolls back leaves no gap: the next writer reuses the id. Hashes are therefore
known before the INSERT, which matters because the append-only triggers refuse any UPDATE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import AuditEvent, UTCDateTime, utcnow

GENESIS = "0" * 64
# pg_advisory_xact_lock key for the chain ("auditlog" as a big-endian 64-bit integer).
CHAIN_LOCK = int.from_bytes(b"auditlog", "big")
CHAIN_STARTED = "audit-chain-started"
HASHED_FIELDS = ("id", "at", "user_id", "actor", "action", "record_type", "record_id",
                 "ip_address", "reason", "detail", "prev_hash")


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    actor: str = "",
    record_type: str | None = None,
    record_id: str | int | None = None,
    ip_address: str | None = None,
    reason: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (it lands with the change it describes).

    The event gets its id and its place in the chain when the session next flushes, in the same
    transaction."""
    event = AuditEvent(
        action=action,
        user_id=user_id,
        actor=actor,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        ip_address=ip_address,
        reason=reason,
        detail=detail,
    )
    session.add(event)
    return event


# --- hashing ----------------------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def canonical(fields: dict) -> str:
    """The text that is hashed: the entry's fields as sorted, compact, ASCII-only JSON."""
    values = {name: fields.get(name) for name in HASHED_FIELDS}
    values["at"] = _iso(values["at"])
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def compute_hash(fields: dict) -> str:
    """SHA-256 (hex) of the entry's canonical text; `fields` holds HASHED_FIELDS."""
    return hashlib.sha256(canonical(fields).encode("ascii")).hexdigest()


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in HASHED_FIELDS}


def _as_stored(detail):
    """The detail as it reads back from the JSON column (e.g. tuples become lists, keys text)."""
    return None if detail is None else json.loads(json.dumps(detail))


# --- chaining new entries ----------------------------------------------------------------------


def _lock_chain(connection: Connection) -> None:
    """Hold the chain's lock until this transaction ends (see the module docstring)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    else:
        connection.exec_driver_sql("UPDATE audit_events SET id = id WHERE 0")


def _last_entry(connection: Connection) -> tuple[int, str]:
    row = connection.execute(
        select(AuditEvent.id, AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row[0], row[1])


def _chain_new_events(session: Session, _flush_context, _instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    connection = session.connection()
    _lock_chain(connection)
    last_id, last_hash = _last_entry(connection)
    for entry in sorted(new, key=lambda obj: inspect(obj).insert_order):
        if entry.at is None:
            entry.at = utcnow()
        elif entry.at.tzinfo is not None:
            entry.at = entry.at.astimezone(UTC)
        # a naive time is left for the column type to refuse when the entry is written
        if entry.actor is None:
            entry.actor = ""
        entry.detail = _as_stored(entry.detail)
        entry.id = last_id + 1
        entry.prev_hash = last_hash
        entry.entry_hash = compute_hash(_fields(entry))
        last_id, last_hash = entry.id, entry.entry_hash


def install_chaining() -> None:
    """Chain every new audit entry as its session flushes (idempotent; models.py calls it)."""
    if not sa_event.contains(Session, "before_flush", _chain_new_events):
        sa_event.listen(Session, "before_flush", _chain_new_events)


install_chaining()


# --- checking the chain ------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_id: int | None
    problem: str
    last_id: int | None = None  # the newest entry checked, and its hash: note them elsewhere
    last_hash: str | None = None  # to notice later if entries are removed from the end


def _entry_name(row) -> str:
    at = row.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if row.at else "no time"
    return f"Entry {row.id} ({at}, {row.action})"


def _missing_text(first: int, last: int) -> str:
    if first == last:
        return f"entry {first} is missing"
    return f"entries {first} to {last} are missing"


def _unexplained(first: int, last: int, allowed: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """The first run of ids from first to last that the upgrade did not find already missing."""
    start = first
    for a, b in sorted(allowed):
        if b < start or a > last:
            continue
        if a > start:
            return start, a - 1
        start = b + 1
        if start > last:
            return None
    return (start, last) if start <= last else None


def _gaps_before_chain(session: Session) -> tuple[int, set[tuple[int, int]]]:
    """Ids already missing when the upgrade chained the existing entries (PostgreSQL used to skip
    ids after a rollback), as the upgrade's own chained entry lists them."""
    row = session.execute(
        select(AuditEvent.id, AuditEvent.detail)
        .where(AuditEvent.action == CHAIN_STARTED).order_by(AuditEvent.id).limit(1)
    ).first()
    if row is None or not isinstance(row.detail, dict):
        return 0, set()
    gaps = row.detail.get("missing_ids") or []
    return row.id, {(int(a), int(b)) for a, b in gaps}


def verify(session: Session, batch: int = 1000) -> VerifyResult:
    """Walk the whole log in id order (streamed), recomputing each hash and checking that each
    entry follows the one before it with no id left out. Names the first broken entry."""
    chain_started_id, allowed_gaps = _gaps_before_chain(session)
    columns = [getattr(AuditEvent, name) for name in HASHED_FIELDS] + [AuditEvent.entry_hash]
    statement = select(*columns).order_by(AuditEvent.id).execution_options(yield_per=batch)
    checked, expected_id, previous_id, previous_hash = 0, 1, None, GENESIS
    for row in session.execute(statement):
        name = _entry_name(row)
        if row.id != expected_id:
            unexplained = _unexplained(expected_id, row.id - 1,
                                       allowed_gaps if row.id <= chain_started_id else ())
            if unexplained:
                return _broken(checked, row.id, f"{name}: {_missing_text(*unexplained)}.")
        if compute_hash(row._asdict()) != row.entry_hash:
            return _broken(checked, row.id, f"{name}: its contents do not match its hash.")
        if row.prev_hash != previous_hash:
            follows = (f"it does not follow entry {previous_id}" if previous_id is not None
                       else "it should begin the log but points to an earlier entry")
            return _broken(checked, row.id, f"{name}: {follows}.")
        checked += 1
        expected_id, previous_id, previous_hash = row.id + 1, row.id, row.entry_hash
    if checked == 0:
        return VerifyResult(True, 0, None, "The audit log is empty: there is nothing to check.")
    return VerifyResult(
        True, checked, None,
        f"The audit log is intact: all {checked:,} entries match their hashes and each follows "
        f"the one before it. The newest is entry {previous_id}, hash {previous_hash}.",
        previous_id, previous_hash,
    )


def _broken(checked: int, entry_id: int, problem: str) -> VerifyResult:
    return VerifyResult(False, checked, entry_id, problem)


# --- chaining entries written before the chain existed (migration 0005) -------------------------

_LEGACY = sa.table(
    "audit_events",
    *(sa.column(name) for name in ("id", "user_id", "actor", "action", "record_type", "record_id",
                                   "ip_address", "reason", "prev_hash", "entry_hash")),
    sa.column("at", UTCDateTime()),
    sa.column("detail", sa.JSON()),
)


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def chain_existing(connection: Connection, now: datetime | None = None) -> int:
    """Chain the entries already in the table, in id order, and (if there were any) add an
    entry saying so, listing any ids that were already missing. Run with the append-only
    triggers lifted (migration 0005 does). Returns how many entries were chained."""
    rows = connection.execute(select(_LEGACY).order_by(_LEGACY.c.id)).mappings().all()
    previous_hash, expected_id, missing, updates = GENESIS, 1, [], []
    for row in rows:
        missing.extend(range(expected_id, row["id"]))
        fields = dict(row) | {"prev_hash": previous_hash, "detail": _as_stored(row["detail"])}
        entry_hash = compute_hash(fields)
        updates.append({"row_id": row["id"], "prev_hash": previous_hash, "entry_hash": entry_hash})
        previous_hash, expected_id = entry_hash, row["id"] + 1
    if not rows:
        return 0
    connection.execute(
        _LEGACY.update().where(_LEGACY.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("prev_hash"), entry_hash=sa.bindparam("entry_hash")),
        updates,
    )
    started = {
        "id": expected_id, "at": (now or utcnow()).astimezone(UTC), "user_id": None,
        "actor": "system", "action": CHAIN_STARTED, "record_type": "audit log", "record_id": None,
        "ip_address": None,
        "reason": "Upgrade: entries written before the hash chain existed were chained in id order.",
        "detail": {"entries_chained": len(rows), "missing_ids": _ranges(missing)},
        "prev_hash": previous_hash,
    }
    started["entry_hash"] = compute_hash(started)
    connection.execute(_LEGACY.insert().values(**started))
    return len(rows)
