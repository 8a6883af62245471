"""Fixtures for the browser tests: the synthetic demo database, seeded once per test process.

Seeding 400 demo incidents takes seconds; the walks over every page (axe, phone widths, targets,
palette, printing, the error pattern) each get a fresh copy of one seeded file instead, since
signing in and sending forms write to it.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date

import pytest

from app import create_app
from dashboard.database import Database
from dashboard.demo import seed_demo


@pytest.fixture(scope="session")
def demo_seeded(tmp_path_factory, sqlite_template):
    """The demo database (400 synthetic incidents), seeded once: its file and accounts by role."""
    path = tmp_path_factory.mktemp("demo-seeded") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    accounts = seed_demo(db, incidents=400, seed=5, today=date.today())
    with db.engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path, {a.role: a for a in accounts}


@pytest.fixture
def demo(settings, demo_seeded, tmp_path):
    """A copy of the seeded demo database for one test, its app, and the accounts by role."""
    path, accounts = demo_seeded
    copy = tmp_path / "demo.db"
    shutil.copyfile(path, copy)
    db = Database(f"sqlite:///{copy}")
    yield create_app(replace(settings, database_url=db.url), db), db, accounts
    db.dispose()
