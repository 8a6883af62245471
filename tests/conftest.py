"""Shared fixtures: throwaway databases (SQLite, and PostgreSQL when reachable), apps and people.

Each test gets its own database, copied from one migrated template per run: a SQLite file copy,
or `CREATE DATABASE ... TEMPLATE` on PostgreSQL, so tests never see each other's records.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import date

import pytest

from dashboard.config import Settings
from dashboard.database import Database, upgrade_schema
from dashboard.geography import load_reference_data
from dashboard.models import Incident, Organisation, User
from dashboard.passwords import hash_password
from dashboard.reference import Marking, Role

PG_ADMIN_URL = os.environ.get(
    "DASHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_PASSWORD = "a long test passphrase 4 everyone"
SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


class PostgresDatabases:
    """Creates a migrated template database once, then one copy per test; drops them all."""

    def __init__(self) -> None:
        import psycopg

        self.psycopg = psycopg
        self.prefix = f"dashtest_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_template"
        self.created: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        db = Database(self.url(self.template))
        _prepare(db)
        db.dispose()

    def url(self, name: str) -> str:
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def _execute(self, sql: str) -> None:
        with self.psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(sql)

    def new(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


def _prepare(db: Database) -> None:
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    _prepare(db)
    with db.engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return str(path)


@pytest.fixture(scope="session")
def postgres_databases():
    if not postgres_available():
        if os.environ.get("DASHBOARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db(request, backend, tmp_path, sqlite_template) -> Database:
    """A fresh, migrated database with the reference data, on each backend."""
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
    else:
        pg = request.getfixturevalue("postgres_databases")
        url = pg.new()
        database = Database(url)
        yield database
        database.dispose()
        pg.drop(url)


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    """A fresh SQLite database, for tests that are about the web layer rather than the backend."""
    path = tmp_path / "web.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path, sqlite_db) -> Settings:
    return Settings.from_env(
        {"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": SECRET},
        database_url=sqlite_db.url,
        testing=True,
        # The second factor has its own tests (test_two_factor*.py); elsewhere admins and chairs
        # sign in with their password alone, as members do.
        second_factor_roles=frozenset(),
    )


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2id hash of TEST_PASSWORD, shared so tests do not pay for hashing each user."""
    return hash_password(TEST_PASSWORD)


@dataclass
class People:
    """A small partnership: three member organisations, SCI, and users in each role."""

    police: Organisation
    council: Organisation
    charity: Organisation
    sci_org: Organisation
    police_member: User
    police_member2: User
    council_member: User
    charity_chair: User
    sci: User
    council_admin: User


def make_people(session, password_hash: str) -> People:
    police = Organisation(name="Test Police", sector="statutory")
    council = Organisation(name="Test Council", sector="statutory")
    charity = Organisation(name="Test Refugee Charity", sector="voluntary and community")
    sci_org = Organisation(name="Safe Communities Initiative", sector="statutory")
    session.add_all([police, council, charity, sci_org])
    session.flush()

    def user(email: str, name: str, org: Organisation, role: str) -> User:
        u = User(email=email, name=name, organisation_id=org.id, role=role, password_hash=password_hash)
        session.add(u)
        return u

    people = People(
        police=police,
        council=council,
        charity=charity,
        sci_org=sci_org,
        police_member=user("pat.police@police.example", "Pat Police", police, Role.MEMBER),
        police_member2=user("paul.police@police.example", "Paul Police", police, Role.MEMBER),
        council_member=user("cora.council@council.example", "Cora Council", council, Role.MEMBER),
        charity_chair=user("chris.chair@charity.example", "Chris Chair", charity, Role.CHAIR),
        sci=user("sam.sci@sci.example", "Sam Sci", sci_org, Role.SCI),
        council_admin=user("ada.admin@council.example", "Ada Admin", council, Role.ADMIN),
    )
    session.flush()
    return people


@pytest.fixture
def people(db, password_hash) -> People:
    with db.session() as session:
        return make_people(session, password_hash)


def add_incident(session, reporter: User, marking: Marking, *, day: date = date(2026, 10, 1),
                 area: str = "E08000025", category: str = "literature", recipients=(), listed=(),
                 title: str | None = None) -> Incident:
    incident = Incident(
        category_code=category,
        occurred_on=day,
        area_code=area,
        title=title or f"{marking.value} report by {reporter.name}",
        source_org_id=reporter.organisation_id,
        reporter_id=reporter.id,
        marking=marking.value,
    )
    incident.recipients = list(recipients)
    incident.listed_organisations = list(listed)
    session.add(incident)
    session.flush()
    return incident


def csrf_from(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1).decode()


# --- real-browser tests (dash.testing + Debian's Chromium) --------------------------------------


def pytest_setup_options():
    """Headless Debian Chromium, kept off the network (dash.testing's hook)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--disable-dev-shm-usage", "--disable-quic",
        # No smooth scrolling or fading dialogs: a click lands where the element is, and axe
        # measures contrast on a dialog that has finished appearing.
        "--force-prefers-reduced-motion",
    ):
        options.add_argument(arg)
    return options


def field_error_text(children) -> str:
    """The message a field's error element shows (its callback's `children`), checked to be in the
    GOV.UK pattern: a visually hidden "Error: " first, then the message; "" for no error."""
    if not children:
        return ""
    assert isinstance(children, list) and len(children) == 2, children
    hidden, message = children
    assert hidden["type"] == "Span" and hidden["props"] == {"children": "Error: ", "className": "visually-hidden"}
    assert isinstance(message, str) and message
    return message


@dataclass(frozen=True)
class PdfTags:
    """What a screen reader gets from a PDF: its language, title, whether it is tagged, and its
    structure tree in reading order as (type, alternative text) pairs."""

    lang: str
    title: str
    shows_title: bool
    marked: bool
    elements: list[tuple[str, str]]

    def of(self, kind: str) -> list[str]:
        """The alternative texts of the elements of one type ("/H2", "/Figure", ...)."""
        return [alt for k, alt in self.elements if k == kind]


def pdf_tags(pdf: bytes) -> PdfTags:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    elements: list[tuple[str, str]] = []

    def walk(node) -> None:
        node = node.get_object()
        if "/S" in node:
            elements.append((str(node["/S"]), str(node.get("/Alt", ""))))
        kids = node.get("/K")
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        for kid in kids:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if hasattr(kid, "keys") and kid.get("/Type") not in ("/MCR", "/OBJR"):
                walk(kid)

    if "/StructTreeRoot" in root:
        walk(root["/StructTreeRoot"])
    return PdfTags(
        lang=str(root.get("/Lang", "")),
        title=str((reader.metadata or {}).get("/Title", "")),
        shows_title=bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)),
        marked=bool(root.get("/MarkInfo", {}).get("/Marked", False)),
        elements=elements,
    )
