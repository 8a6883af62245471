"""Backing up the whole database to one file, and restoring it, on SQLite and PostgreSQL alike.

A backup is one gzip file of JSON lines, the same for both databases (a SQLite backup restores
into PostgreSQL and back):

- line 1, the header: ``{"format": "partnership-dashboard-backup", "version": 1, "schema": <the
  Alembic revision>, "created_at": <UTC>, "backend": ..., "tables": {table: rows}}``;
- one line per row, ``{"t": table, "r": {column: value}}``, table by table in dependency order
  (parents first) and each table in key order. Values are written losslessly: times in ISO 8601
  with their zone and microseconds, dates in ISO 8601, floats exactly (shortest round-trip form),
  JSON columns as their JSON text (so SQL NULL and JSON null stay apart), bytes in base64,
  decimals as text;
- the last line: ``{"end": "partnership-dashboard-backup", "rows": N, "sha256": <hash of every
  line before it>}``, so a truncated or altered file is refused.

Left out, because restoring rebuilds them from the records: generated columns (an incident's
`audience`), the monthly and trend count tables (`rollups.refresh_months`) and the text-search
index (`search.suspended`). `alembic_version` is left out too: a backup restores only into a
database at the schema revision it was made at.

A backup is read in one snapshot (a REPEATABLE READ transaction on PostgreSQL, one read
transaction on SQLite), streamed a few thousand rows at a time. A restore checks the whole file
first, then writes everything in one transaction: it commits complete or not at all.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Text,
    Time,
    TypeDecorator,
    bindparam,
    cast,
    func,
    inspect,
    literal,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import audit, rollups, search
from .database import Database, alembic_config, upgrade_schema
from .models import Base, UserSession

FORMAT = "partnership-dashboard-backup"
VERSION = 1
# Tables restore recounts from the incidents rather than reading them from the file.
DERIVED_TABLES = frozenset({"incident_monthly_counts", "incident_trend_counts", "incident_region_trend_counts",
                            "incident_quarter_counts"})
# Tables `init-db` fills: a database holding only these counts as empty (the backup has its own).
REFERENCE_TABLES = frozenset({"areas", "area_successions", "incident_categories", "strands"})
BATCH = 5_000
SESSIONS_ENDED = "database restored"

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupHeader:
    schema: str
    created_at: datetime
    backend: str
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    schema: str
    tables: dict[str, int]
    size: int  # bytes on disk
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def line(self) -> str:
        return (
            f"Backed up {self.rows:,} rows from {len(self.tables)} tables (schema {self.schema}) to "
            f"{self.path} ({self.size / 1_000_000:.1f} MB) in {self.seconds:.1f} s."
        )


@dataclass(frozen=True)
class RestoreSummary:
    path: Path
    schema: str
    backup_created_at: datetime
    tables: dict[str, int]
    replaced: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def line(self) -> str:
        made = self.backup_created_at.strftime("%d %b %Y %H:%M UTC")
        return (
            f"Restored {self.rows:,} rows into {len(self.tables)} tables from {self.path} "
            f"(made {made}, schema {self.schema}) in {self.seconds:.1f} s."
        )


# --- which tables and columns, and how their values are written -------------------------------


def backed_up_tables() -> list[Table]:
    """Every table of the models except the derived counts, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in DERIVED_TABLES]


def _columns(table: Table) -> list[Column]:
    """The columns a row is written and restored with (generated columns are left out)."""
    return [c for c in table.columns if c.computed is None]


def _kind(column: Column) -> str:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Time):
        return "time"
    if isinstance(kind, LargeBinary):
        return "bytes"
    if isinstance(kind, Float):
        return "float"
    if isinstance(kind, Numeric):
        return "decimal"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):
        return "int"
    return "text"


def _encode(kind: str, value):
    if value is None:
        return None
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "decimal":
        return str(value)
    return value  # json (already its text), float, int, bool, text


def _decode(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time_of_day.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value.encode("ascii"), validate=True)
    if kind == "decimal":
        return Decimal(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if kind == "json":
        if not isinstance(value, str):
            raise ValueError("a JSON column's value must be its JSON text")
        json.loads(value)
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _head_revision(db: Database) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _describe(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=True)


# --- backing up -------------------------------------------------------------------------------


def backup(db: Database, path: str | os.PathLike, *, say: Say = print, overwrite: bool = False,
           actor: str = "command line") -> BackupSummary:
    """Write every record of the database to `path` (a gzip file of JSON lines, mode 600).

    The file appears only when complete (it is written beside `path` and renamed). Refuses an
    existing file unless `overwrite`. Records an audit event "database backed up" afterwards.
    """
    began = time.perf_counter()
    target = Path(path)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists: choose another file name, or delete it first.")
    if not target.parent.is_dir():
        raise BackupError(f"There is no folder {target.parent} to write the backup in.")
    head = _head_revision(db)
    tables = backed_up_tables()
    with _snapshot(db) as conn:
        current = _current_revision(conn)
        if current != head:
            state = "has no schema" if current is None else f"is at schema {current}, not {head}"
            raise BackupError(f"The database {_describe(db)} {state}. Run: python -m dashboard init-db")
        _warn_unknown_tables(conn, say)
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
        say(f"Backing up {sum(counts.values()):,} rows from {len(tables)} tables (schema {head})")
        try:
            fd, temporary = tempfile.mkstemp(prefix=".backup-", suffix=".part", dir=target.parent)
        except OSError as exc:
            raise BackupError(f"Could not write in {target.parent}: {exc.strerror or exc}.") from None
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
                digest = hashlib.sha256()

                def write(obj) -> None:
                    line = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
                    digest.update(line)
                    out.write(line)

                write({
                    "format": FORMAT, "version": VERSION, "schema": head,
                    "created_at": datetime.now(UTC).isoformat(), "backend": db.dialect,
                    "tables": counts,
                    "note": "Holds personal data: keep it as safe as the database itself.",
                })
                written = 0
                for table in tables:
                    n = 0
                    for row in _rows(conn, table):
                        write({"t": table.name, "r": row})
                        n += 1
                    if n != counts[table.name]:  # (cannot happen inside one snapshot)
                        raise BackupError(f"{table.name} changed while being backed up; try again.")
                    if n >= 10_000:
                        say(f"  {table.name}: {n:,} rows")
                    written += n
                trailer = {"end": FORMAT, "rows": written, "sha256": digest.hexdigest()}
                out.write((json.dumps(trailer) + "\n").encode("utf-8"))
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise BackupError(f"Could not write the backup to {target}: {exc.strerror or exc}. "
                              "No backup was made.") from None
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    with db.engine.begin() as conn:
        _audit(conn, "database backed up", actor,
               {"file": target.name, "rows": sum(counts.values()), "schema": head})
    summary = BackupSummary(target, head, counts, target.stat().st_size, time.perf_counter() - began)
    say(summary.line())
    return summary


class _snapshot:
    """One connection reading a consistent snapshot of the whole database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Connection:
        if self.db.dialect == "postgresql":
            self.conn = self.db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
            self.conn.begin()
            self.conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            self.conn = self.db.engine.connect()
            self.conn.exec_driver_sql("BEGIN")  # pysqlite would read each statement on its own
        return self.conn

    def __exit__(self, *exc) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()


def _warn_unknown_tables(conn: Connection, say: Say) -> None:
    known = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    others = sorted(
        name for name in inspect(conn).get_table_names()
        if name not in known and not search.is_search_object(name)
    )
    if others:
        say(f"Warning: tables the dashboard does not know are not backed up: {', '.join(others)}.")


def _rows(conn: Connection, table: Table) -> Iterator[dict]:
    columns = _columns(table)
    kinds = [_kind(c) for c in columns]
    selected = [cast(c, Text).label(c.name) if k == "json" else c for c, k in zip(columns, kinds, strict=True)]
    stmt = select(*selected).order_by(*table.primary_key.columns)
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
    names = [c.name for c in columns]
    for values in result:
        yield {name: _encode(kind, value) for name, kind, value in zip(names, kinds, values, strict=True)}


# --- reading a backup -------------------------------------------------------------------------


def check(path: str | os.PathLike) -> BackupHeader:
    """Read the whole file and return its header if it is a complete, intact backup that this
    version of the dashboard can restore; raise BackupError naming the line otherwise."""
    header: BackupHeader | None = None
    for item in _read(Path(path)):
        if isinstance(item, BackupHeader):
            header = item
    assert header is not None
    return header


def _read(path: Path) -> Iterator[BackupHeader | tuple[int, Table, dict]]:
    """The header, then (line number, table, decoded row) for every row, checking as it goes."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    tables = {t.name: t for t in backed_up_tables()}
    layouts = {name: [(c.name, _kind(c)) for c in _columns(t)] for name, t in tables.items()}
    digest = hashlib.sha256()
    seen: dict[str, int] = {}
    number = 0
    header: BackupHeader | None = None
    ended = False
    try:
        with gzip.open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):  # noqa: B007 - used after the loop
                if ended:
                    raise BackupError(f"{path}, line {number}: there is more after the end of the backup.")
                if not line.endswith(b"\n"):
                    raise BackupError(f"{path}, line {number}: the file ends in the middle of a line "
                                      "(it is truncated).")
                try:
                    obj = json.loads(line)
                except ValueError:
                    raise BackupError(f"{path}, line {number}: not a line of a backup (damaged file).") from None
                if not isinstance(obj, dict):
                    raise BackupError(f"{path}, line {number}: not a line of a backup (damaged file).")
                if header is None:
                    header = _header(path, obj, tables)
                    digest.update(line)
                    yield header
                    continue
                if "end" in obj:
                    _trailer(path, number, obj, digest, seen, header)
                    ended = True
                    continue
                digest.update(line)
                name, row = obj.get("t"), obj.get("r")
                if name not in tables or not isinstance(row, dict):
                    raise BackupError(f"{path}, line {number}: a row of an unknown table ({name!r}).")
                layout = layouts[name]
                if len(row) != len(layout) or any(c not in row for c, _ in layout):
                    wanted = {c for c, _ in layout}
                    problems = [f"unknown column {c}" for c in sorted(set(row) - wanted)]
                    problems += [f"missing column {c}" for c in sorted(wanted - set(row))]
                    raise BackupError(f"{path}, line {number}: the row of {name} has {', '.join(problems)}.")
                decoded = {}
                for column, kind in layout:
                    try:
                        decoded[column] = _decode(kind, row[column])
                    except (ValueError, TypeError, AttributeError) as exc:
                        raise BackupError(
                            f"{path}, line {number}: {name}.{column} holds {row[column]!r}, which is not "
                            f"a valid {kind} value ({exc})."
                        ) from None
                seen[name] = seen.get(name, 0) + 1
                yield number, tables[name], decoded
    except (EOFError, zlib.error) as exc:
        raise BackupError(f"{path}: the file is truncated or damaged after line {number} ({exc}). "
                          "Nothing was restored from it.") from None
    except gzip.BadGzipFile:
        raise BackupError(f"{path} is not a backup made by this dashboard (not a gzip file).") from None
    except OSError as exc:
        raise BackupError(f"{path} could not be read: {exc}.") from None
    if header is None:
        raise BackupError(f"{path} is empty: not a backup.")
    if not ended:
        raise BackupError(f"{path}: the file stops after line {number}, before the end of the backup "
                          "(it is truncated).")


def _header(path: Path, obj: dict, tables: dict[str, Table]) -> BackupHeader:
    if obj.get("format") != FORMAT:
        raise BackupError(f"{path}, line 1: not a backup made by this dashboard.")
    if obj.get("version") != VERSION:
        raise BackupError(f"{path}, line 1: backup format version {obj.get('version')!r}; this version of "
                          f"the dashboard reads version {VERSION} only.")
    counts = obj.get("tables")
    try:
        created = datetime.fromisoformat(obj["created_at"])
        schema = str(obj["schema"])
        assert isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values())
    except (KeyError, TypeError, ValueError, AssertionError):
        raise BackupError(f"{path}, line 1: the header is damaged.") from None
    unknown, missing = sorted(set(counts) - set(tables)), sorted(set(tables) - set(counts))
    if unknown or missing:
        raise BackupError(
            f"{path}, line 1: the backup's tables do not match this version of the dashboard "
            f"(unknown: {', '.join(unknown) or 'none'}; missing: {', '.join(missing) or 'none'}). "
            f"It was made at schema {schema}: restore it with the version of the dashboard that made it."
        )
    return BackupHeader(schema, created, str(obj.get("backend", "")), dict(counts))


def _trailer(path: Path, number: int, obj: dict, digest, seen: dict[str, int], header: BackupHeader) -> None:
    if obj.get("end") != FORMAT or obj.get("sha256") != digest.hexdigest() or obj.get("rows") != sum(seen.values()):
        raise BackupError(f"{path}, line {number}: the checksum does not match: the file has been changed "
                          "or damaged since the backup was made.")
    for name, expected in header.tables.items():
        if seen.get(name, 0) != expected:
            raise BackupError(f"{path}, line {number}: {name} has {seen.get(name, 0):,} rows, the header "
                              f"says {expected:,}: the file is damaged.")


# --- restoring --------------------------------------------------------------------------------


def restore(db: Database, path: str | os.PathLike, *, say: Say = print, replace: bool = False,
            actor: str = "command line") -> RestoreSummary:
    """Restore a backup into the database, all in one transaction.

    The database must be empty (a new one, or one that holds only the reference data `init-db`
    loads; it is given the schema if it has none) unless `replace`: then its records are deleted
    first, in the same transaction, so a failed restore leaves them as they were. Afterwards the
    id sequences, the count tables and the text index are rebuilt, and an audit event "database
    restored" is added. Sign-in sessions open in the backup are ended (the only change made to the
    records: everyone signs in again).
    """
    began = time.perf_counter()
    source = Path(path)
    say(f"Checking {source}")
    header = check(source)
    head = _head_revision(db)
    if header.schema != head:
        raise BackupError(
            f"The backup was made at schema {header.schema}; this version of the dashboard uses schema {head}. "
            "Restore it with the version of the dashboard that made it, then upgrade with init-db. "
            "Nothing was restored."
        )
    with db.engine.connect() as conn:
        current = _current_revision(conn)
    if current is None:
        say("The database has no schema yet: creating it")
        upgrade_schema(db)
    elif current != head:
        raise BackupError(f"The database {_describe(db)} is at schema {current}, not {head}. "
                          "Run: python -m dashboard init-db. Nothing was restored.")
    notes: list[str] = []
    with _write_transaction(db) as conn, search.suspended(conn):
        occupied = _occupied(conn)
        held = [name for name in occupied if name not in REFERENCE_TABLES | DERIVED_TABLES]
        if held and not replace:
            raise BackupError(
                f"The database {_describe(db)} already holds records ({', '.join(held[:8])}"
                f"{', ...' if len(held) > 8 else ''}). Restore into a new, empty database, or give "
                "--replace to delete them first. Nothing was restored."
            )
        if occupied:
            say("Deleting the records already in the database" if held else "Replacing the reference data")
            _clear(conn)
            if held:
                notes.append("the records that were in the database were deleted and replaced")
        say(f"Restoring {header.rows:,} rows")
        _insert_all(conn, source)
        _check_foreign_keys(conn)
        _reset_sequences(conn)
        ended = _end_sessions(conn)
        if ended:
            notes.append(f"{ended:,} sign-in session(s) open in the backup were ended: everyone signs in again")
        say("Counting incidents by month and week")
        rollups.refresh_months(conn)
        _audit(conn, "database restored", actor, {
            "file": source.name, "rows": header.rows, "schema": header.schema,
            "backup_created_at": header.created_at.isoformat(), "replaced": bool(held),
            "sessions_ended": ended,
        })
        say("Rebuilding the text search index")
    _analyse(db)
    summary = RestoreSummary(source, header.schema, header.created_at, dict(header.tables), bool(held),
                             time.perf_counter() - began, notes)
    say(summary.line())
    for note in notes:
        say(f"Note: {note}.")
    return summary


class _write_transaction:
    """One connection in one transaction that also covers DDL; commits, or rolls back on error.

    On SQLite the foreign keys are checked once at the end (`_check_foreign_keys`) rather than
    row by row, which also lets a table refer to rows of itself that come later."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Connection:
        self.conn = self.db.engine.connect()
        self.sqlite = self.conn.dialect.name == "sqlite"
        try:
            if self.sqlite:
                self.conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # (no effect inside a transaction)
                self.conn.exec_driver_sql("BEGIN IMMEDIATE")  # DDL (the text index) joins the transaction
            else:
                self.conn.begin()
        except BaseException:
            self._close()
            raise
        return self.conn

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        try:
            if self.sqlite:
                self.conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        finally:
            self.conn.close()


def _occupied(conn: Connection) -> list[str]:
    return [
        t.name for t in Base.metadata.sorted_tables
        if conn.scalar(select(literal(1)).select_from(t).limit(1)) is not None
    ]


def _clear(conn: Connection) -> None:
    """Empty every table of the models, lifting the audit log's append-only triggers only inside
    this transaction (they are back when it commits, and untouched if it fails)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY")
        conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
        return
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
    ).all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table in tables:
        conn.execute(table.delete())
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


def _insert_all(conn: Connection, source: Path) -> None:
    postgres = conn.dialect.name == "postgresql"
    statements: dict[str, object] = {}
    batch: list[dict] = []
    later: list[tuple] = []  # rows' references to rows of the same table that come after them
    current: Table | None = None
    first_line = 0

    def statement(table: Table):
        if table.name not in statements:
            values = {}
            for column in _columns(table):
                if _kind(column) == "json":  # the JSON text itself, not a Python value to encode
                    param = bindparam(column.name, type_=Text)
                    values[column.name] = cast(param, column.type) if postgres else param
                else:
                    values[column.name] = bindparam(column.name, type_=column.type)
            statements[table.name] = table.insert().values(values)
        return statements[table.name]

    def flush(last_line: int) -> None:
        if not batch:
            return
        try:
            conn.execute(statement(current), batch)
        except SQLAlchemyError as exc:
            raise _refused(source, current, first_line, last_line, exc) from None
        batch.clear()

    def finish_table(last_line: int) -> None:
        flush(last_line)
        if later:
            key = _single_key(current)
            # (columns that change by themselves on UPDATE, such as updated_at, keep their value)
            kept = [c.name for c in _columns(current) if c.onupdate is not None or c.server_onupdate is not None]
            for name in sorted({item[1] for item in later}):
                values = {name: bindparam("_value"), **{k: bindparam(f"_kept_{k}") for k in kept}}
                stmt = current.update().where(key == bindparam("_key")).values(values)
                params = [{"_key": k, "_value": v, **{f"_kept_{c}": row[c] for c in kept}}
                          for k, n, v, row in later if n == name]
                try:
                    conn.execute(stmt, params)
                except SQLAlchemyError as exc:
                    raise _refused(source, current, 0, last_line, exc) from None
            later.clear()

    number = 0
    for item in _read(source):
        if isinstance(item, BackupHeader):
            continue
        number, table, row = item
        if table is not current:
            if current is not None:
                finish_table(number - 1)
            current, self_refs, pk = table, _self_references(table), _single_key(table)
        if self_refs and pk is not None:
            key = row[pk.name]
            for name in self_refs:
                value = row[name]
                if value is not None and (not isinstance(value, int) or value >= key):
                    later.append((key, name, value, row))
                    row[name] = None
        if not batch:
            first_line = number
        batch.append(row)
        if len(batch) >= BATCH:
            flush(number)
    if current is not None:
        finish_table(number)


def _self_references(table: Table) -> list[str]:
    return sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table is table})


def _single_key(table: Table) -> Column | None:
    keys = list(table.primary_key.columns)
    return keys[0] if len(keys) == 1 else None


def _refused(source: Path, table: Table, first: int, last: int, exc: SQLAlchemyError) -> BackupError:
    where = f"lines {first}-{last}" if first and first != last else f"line {last}"
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return BackupError(f"{source}, {where}: the database refused a row of {table.name}: {reason}. "
                       "Nothing was restored.")


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            raise BackupError(f"The backup's records do not fit together: a row of {table} (rowid {rowid}) "
                              f"refers to a missing row of {parent} ({len(broken):,} such rows). "
                              "Nothing was restored.")


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move each id sequence past the highest id restored (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        key = _single_key(table)
        if key is None or not isinstance(key.type, Integer) or key.autoincrement is False:
            continue
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key.name}'), "  # noqa: S608 - model names
            f"(SELECT COALESCE(MAX({key.name}), 0) + 1 FROM {table.name}), false)"
        )


def _end_sessions(conn: Connection) -> int:
    """End the sign-in sessions that were open when the backup was made: whoever signed out or
    was disabled since then must not be signed in again by the restore. Everyone signs in anew."""
    result = conn.execute(
        UserSession.__table__.update().where(UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC), end_reason=SESSIONS_ENDED)
    )
    return result.rowcount or 0


def _audit(conn: Connection, action: str, actor: str, detail: dict) -> None:
    """An audit event in the connection's open transaction (through a session, which gives it
    its id and its place in the audit log's hash chain)."""
    with Session(bind=conn) as session:
        audit.record(session, action, actor=actor, record_type="database", detail=detail)
        session.flush()


def _analyse(db: Database) -> None:
    """Refresh the query planner's statistics after the load (PostgreSQL also VACUUMs, so that
    counting can read the covering indexes alone)."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
