"""Quick search over incidents' titles and descriptions, through each database's own text index.

SQLite keeps an FTS5 table (`incident_search`, porter stemming) in step with the incidents by
triggers; PostgreSQL a GIN index on the English text-search vector of the same two columns. Both
are made by migration 0003; `matching` is the one way to ask them. A search is a few words, each
matched as a word prefix ("leaf" finds "leaflets"), all of which must appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, Connection, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from .models import Incident

# What the text indexes are called (the schema comparison and autogenerate leave them alone).
SQLITE_TABLE = "incident_search"
POSTGRES_INDEX = "ix_incidents_search"
POSTGRES_VECTOR = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, ''))"

MAX_WORDS = 8
MAX_LENGTH = 200

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def is_search_object(name: str | None) -> bool:
    """Whether a table or index name belongs to the text search (not to the models)."""
    return bool(name) and (name == POSTGRES_INDEX or name.startswith(SQLITE_TABLE))


def words(query: str | None) -> list[str]:
    """The words of a search, lower-cased; punctuation and operators are dropped, so nothing a
    person types is read as search syntax."""
    found = _WORD.findall((query or "")[:MAX_LENGTH].lower())
    return list(dict.fromkeys(found))[:MAX_WORDS]


def matching(dialect: str, query: str | None, *, in_index_order: bool = False) -> ColumnElement[bool] | None:
    """A condition on `Incident` that holds for incidents whose title or description contain
    every word of the query (as a word or the start of one); None when the query has no words.

    `in_index_order`: for a query that reads incidents in an index's order and stops early (the
    register's newest rows), SQLite is kept from driving it from the list of matches instead."""
    found = words(query)
    if not found:
        return None
    if dialect == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in found)
        return literal_column(POSTGRES_VECTOR).op("@@")(func.to_tsquery("english", tsquery))
    fts = table(SQLITE_TABLE, column("rowid"))
    expression = " AND ".join(f'"{w}"*' for w in found)
    matches = select(fts.c.rowid).where(
        text(f"{SQLITE_TABLE} MATCH :search_expression").bindparams(search_expression=expression)
    )
    # (+ 0: SQLite's documented way to say "not through the primary key")
    return ((Incident.id + 0) if in_index_order else Incident.id).in_(matches)


# (the table's name written out: these are fixed statements, nothing is put into them)
SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE incident_search USING fts5(title, description, content='incidents', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER incident_search_insert AFTER INSERT ON incidents BEGIN "
    "INSERT INTO incident_search(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER incident_search_delete AFTER DELETE ON incidents BEGIN "
    "INSERT INTO incident_search(incident_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER incident_search_update AFTER UPDATE OF title, description ON incidents BEGIN "
    "INSERT INTO incident_search(incident_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO incident_search(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    "INSERT INTO incident_search(incident_search) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_update",
    f"DROP TABLE IF EXISTS {SQLITE_TABLE}",
]
POSTGRES_UPGRADE = [f"CREATE INDEX {POSTGRES_INDEX} ON incidents USING gin (({POSTGRES_VECTOR}))"]
POSTGRES_DOWNGRADE = [f"DROP INDEX IF EXISTS {POSTGRES_INDEX}"]


@contextmanager
def suspended(conn: Connection) -> Iterator[None]:
    """Bulk loads: the text index is dropped inside the open transaction and built once, whole,
    at the end (keeping it in step row by row makes a million-row load several times slower)."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        for statement in POSTGRES_DOWNGRADE:
            conn.exec_driver_sql(statement)
    else:
        for statement in SQLITE_DOWNGRADE:
            conn.exec_driver_sql(statement)
    yield
    for statement in POSTGRES_UPGRADE if postgres else SQLITE_UPGRADE:
        conn.exec_driver_sql(statement)


@contextmanager
def new_incidents_indexed_together(session: Session) -> Iterator[None]:
    """SQLite: incidents added inside this block enter the text index in one statement at its end.

    The insert trigger adds each row on its own, and FTS5 writes a segment for every row added
    from a trigger (a second for each 3 rows at 100,000 rows). Inside the open write transaction
    the trigger is dropped, the new rows are indexed in one INSERT ... SELECT, and the same
    trigger is created again: other connections never see it missing, and a rollback restores
    it. PostgreSQL's index takes rows as they come; nothing to do there.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    if not session.connection().connection.dbapi_connection.in_transaction:
        # (pysqlite opens its transaction at the first write; DDL outside one would be kept)
        raise RuntimeError("Bulk additions to the text index must run inside a write transaction.")
    create = next(s for s in SQLITE_UPGRADE if s.startswith("CREATE TRIGGER incident_search_insert "))
    before = session.scalar(select(func.max(Incident.id))) or 0
    session.execute(text("DROP TRIGGER IF EXISTS incident_search_insert"))
    try:
        yield
        session.execute(
            text(
                "INSERT INTO incident_search(rowid, title, description) "
                "SELECT id, title, description FROM incidents WHERE id > :before ORDER BY id"
            ),
            {"before": before},
        )
    finally:
        session.execute(text(create))
