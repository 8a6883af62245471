"""Engine and sessions, and the schema's creation and upgrade through Alembic."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with the settings this app relies on for each backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            try:  # SQLite builds without the math functions lack floor(), which queries use
                cur.execute("SELECT floor(1.5)")
            except Exception:  # noqa: BLE001 - sqlite3.OperationalError on such builds
                dbapi_conn.create_function("floor", 1, math.floor, deterministic=True)
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One engine and its session factory; `session()` is a unit of work that commits or rolls back."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.factory = sessionmaker(self.engine, expire_on_commit=False)
        from .rollups import keep_in_step  # the monthly counts follow every change to incidents

        keep_in_step(self.factory)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_schema(db: Database) -> None:
    """Create or upgrade the schema to the newest migration (safe to run again)."""
    from alembic import command

    cfg = alembic_config(db.url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class SchemaNotReady(RuntimeError):
    """The database has no schema yet, or an older one: run `python -m dashboard init-db`."""


def schema_is_current(db: Database, raise_if_not: bool = False) -> bool:
    """True when the database is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return True
    if raise_if_not:
        state = "has no schema" if current is None else f"is at schema {current}, not {head}"
        raise SchemaNotReady(
            f"The database {db.engine.url.render_as_string(hide_password=True)} {state}. "
            "Run: python -m dashboard init-db"
        )
    return False
