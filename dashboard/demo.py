"""Synthetic demo data over the real 65 districts (DOMAIN.md "Demo data").

`seed_demo()` fills an empty database (schema created, reference data loaded) with partner
organisations, fictional users, fictional organised groups, a calendar of trigger events,
incidents with realistic patterns, tension assessments, meetings with actions, and resources,
all in one transaction, and marks the database as a demo (`app_settings.demo_mode`).
`clear_records()` empties every non-reference table so that a database can be seeded again.

For a given (incidents, seed, today) the content is always the same; only the sign-in passwords
are random, because DOMAIN.md forbids default accounts even in a demo.
"""

from __future__ import annotations

import importlib
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice

import numpy as np
from sqlalchemy import Connection, Table, literal, literal_column, select, text

from . import geography, passwords, rollups, search
from .database import Database
from .models import (
    Action,
    ActionUpdate,
    Actor,
    AppSetting,
    Area,
    Base,
    Incident,
    IncidentCategory,
    Meeting,
    Organisation,
    Resource,
    StatementAdoption,
    Strand,
    TensionAssessment,
    TensionIndicator,
    TriggerEvent,
    User,
    action_areas,
    action_incidents,
    action_triggers,
    assessment_organisations,
    incident_organisations,
    incident_recipients,
    incident_strands,
    incident_triggers,
    meeting_attendance,
    organisation_areas,
    resource_areas,
    trigger_event_areas,
)
from .reference import (
    APPROXIMATE_CELL_OFFSET,
    DEFAULT_STRANDS,
    ELECTION_RUN_UP_DAYS,
    ActionStatus,
    Confidence,
    DatePrecision,
    EvidenceType,
    LocationPrecision,
    Marking,
    MeetingKind,
    MembershipStatus,
    ResourceKind,
    Role,
    Sector,
    Trend,
    TriggerKind,
    UserStatus,
    Verification,
)

__all__ = ["DemoDataError", "DemoSignIn", "clear_records", "first_thursday_in_may", "seed_demo"]

REFERENCE_TABLES = frozenset(
    {"areas", "area_successions", "incident_categories", "strands", "alembic_version"}
)
# Tables seed_demo fills with explicit ids; a row in any of them means the database is in use.
SEEDED_TABLES: tuple[Table, ...] = tuple(
    model.__table__
    for model in (
        Organisation, User, Actor, TriggerEvent, Incident, TensionAssessment, TensionIndicator,
        Meeting, Action, ActionUpdate, Resource, StatementAdoption,
    )
)
# Tables written in bulk (executemany or COPY) rather than through SQLAlchemy.
BULK_TABLES = (
    "incidents", "incident_strands", "incident_recipients", "incident_organisations",
    "incident_triggers",
)

YEARS_OF_HISTORY = 5
SHOCK_DAYS_AGO = 548  # about 18 months
RUN_UP_DAYS = ELECTION_RUN_UP_DAYS  # the six weeks before polling day
LEFT_DAYS_AGO = 700  # when the organisation that left stopped attending
HOTSPOTS = 5
POINT_POOL = 256  # candidate map points per district
SECONDS_PER_DAY = 86_400
EPOCH = date(1970, 1, 1)


class DemoDataError(ValueError):
    """The demo data cannot be written; the message says why and what to do."""


@dataclass(frozen=True)
class DemoSignIn:
    """A demo account whose random password is shown once, to whoever seeded the database."""

    email: str
    password: str
    role: str
    organisation: str


# --- the cast: partner organisations, fictional people and fictional groups -------------------


@dataclass(frozen=True)
class _OrgSpec:
    key: str
    name: str
    short_name: str
    domain: str  # users' e-mail addresses are first.last@<domain>.example
    sector: Sector
    kind: str  # decides what it reports (SOURCE_WEIGHTS) and what it assesses
    covers: str  # "all", "region:<region>", "force:<police force>" or "district:<district>"
    users: int
    status: MembershipStatus = MembershipStatus.ACTIVE


S, V, F, T = Sector.STATUTORY, Sector.VOLUNTARY, Sector.FAITH, Sector.TRADE_UNION
ORGANISATIONS: tuple[_OrgSpec, ...] = (
    _OrgSpec("wmp", "West Midlands Police", "WMP", "wmp", S, "police",
             "force:West Midlands Police", 3),
    _OrgSpec("staffs", "Staffordshire Police", "Staffs Police", "staffs-police", S, "police",
             "force:Staffordshire Police", 2),
    _OrgSpec("leics", "Leicestershire Police", "Leics Police", "leics-police", S, "police",
             "force:Leicestershire Police", 2),
    _OrgSpec("notts", "Nottinghamshire Police", "Notts Police", "notts-police", S, "police",
             "force:Nottinghamshire Police", 1),
    _OrgSpec("derbys", "Derbyshire Constabulary", "Derbyshire Police", "derbyshire-police", S,
             "police", "force:Derbyshire Constabulary", 1),
    _OrgSpec("wmerc", "West Mercia Police", "West Mercia Police", "westmercia-police", S,
             "police", "force:West Mercia Police", 1),
    _OrgSpec("cps", "Crown Prosecution Service (West Midlands)", "CPS WM", "cps-wm", S,
             "prosecution", "region:West Midlands", 1),
    _OrgSpec("bcc", "Birmingham City Council", "Birmingham CC", "birmingham-cc", S, "council",
             "district:Birmingham", 2),
    _OrgSpec("ncc", "Nottingham City Council", "Nottingham CC", "nottingham-cc", S, "council",
             "district:Nottingham", 1),
    _OrgSpec("lcc", "Leicester City Council", "Leicester CC", "leicester-cc", S, "council",
             "district:Leicester", 1),
    _OrgSpec("cov", "Coventry City Council", "Coventry CC", "coventry-cc", S, "council",
             "district:Coventry", 1),
    _OrgSpec("dcc", "Derby City Council", "Derby CC", "derby-cc", S, "council",
             "district:Derby", 1),
    _OrgSpec("wmcn", "West Midlands Councils Cohesion Network", "WM Cohesion", "wm-cohesion", S,
             "network", "region:West Midlands", 1),
    _OrgSpec("emcn", "East Midlands Councils Cohesion Network", "EM Cohesion", "em-cohesion", S,
             "network", "region:East Midlands", 1),
    _OrgSpec("mrec", "Midlands Race Equality Council", "MREC", "mrec", V, "race-equality",
             "all", 2),
    _OrgSpec("emren", "East Midlands Race Equality Network", "EMREN", "emren", V,
             "race-equality", "region:East Midlands", 1),
    _OrgSpec("tuc", "Midlands TUC", "Midlands TUC", "midlands-tuc", T, "union", "all", 1),
    _OrgSpec("ca", "Citizens Advice (Midlands)", "Citizens Advice", "ca-midlands", V, "advice",
             "all", 2),
    _OrgSpec("rasn", "Midlands Refugee and Asylum Support Network", "RASN", "rasn", V,
             "refugee", "all", 1),
    _OrgSpec("mif", "Midlands Interfaith Forum", "Interfaith Forum", "interfaith", F, "faith",
             "all", 1),
    _OrgSpec("mfln", "Midlands Faith Leaders Network", "Faith Leaders", "faith-leaders", F,
             "faith", "all", 1),
    _OrgSpec("sci", "Safe Communities Initiative (SCI)", "SCI", "sci", S, "national", "all", 1),
    _OrgSpec("cjb", "Midlands Criminal Justice Board", "CJB", "mcjb", S, "justice-board", "all",
             1, MembershipStatus.LEFT),
)
del S, V, F, T
CHAIR_ORG, ADMIN_ORG, SCI_ORG = "mrec", "bcc", "sci"
POLICE_SIGN_IN_ORG, VOLUNTARY_SIGN_IN_ORG = "wmp", "ca"

# Relative weight of each kind of organisation as the source of (hate crime, other reports),
# among the organisations covering the district.
SOURCE_WEIGHTS: dict[str, tuple[float, float]] = {
    "police": (10.0, 1.5),
    "prosecution": (0.3, 0.0),
    "council": (0.6, 2.0),
    "network": (0.4, 0.8),
    "race-equality": (0.6, 2.0),
    "union": (0.1, 1.0),
    "advice": (0.3, 0.6),
    "refugee": (0.35, 1.0),
    "faith": (0.3, 1.0),
    "national": (0.0, 0.0),
    "justice-board": (0.0, 0.0),
}

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Daniel", "Ewa", "Farah", "Gareth", "Hannah", "Imran", "Jas",
    "Kwame", "Laura", "Mohammed", "Niamh", "Owen", "Priya", "Rachel", "Sanjay", "Tom", "Uzma",
    "Vikram", "Wendy", "Yusuf", "Zoe", "Aisha", "Callum", "Deepa", "Elliot", "Grace",
    "Harpreet", "Ifeoma", "Jamal", "Katie", "Liam", "Meera", "Nathan", "Olivia", "Rhys",
    "Sophie", "Tariq",
)
LAST_NAMES = (
    "Ahmed", "Bennett", "Chowdhury", "Davies", "Edwards", "Fletcher", "Gill", "Hughes", "Iqbal",
    "Jones", "Kaur", "Lewis", "Mistry", "Nowak", "Okafor", "Patel", "Quinn", "Rahman", "Sandhu",
    "Thompson", "Walsh", "Young", "Begum", "Clarke", "Dhillon", "Evans", "Francis", "Grant",
    "Hussain", "Kowalski", "Mensah", "Parker", "Reid", "Shah", "Turner", "Ward",
)

# Invented names, each saying it is fictional: (name, kind, lean to West, to East Midlands).
ACTORS: tuple[tuple[str, str, float, float], ...] = (
    ("Iron Oak Brotherhood (fictional)", "group", 3.0, 1.0),
    ("Heartland Sentinel Movement (fictional)", "group", 2.0, 2.0),
    ("Grey Lantern Network (fictional)", "online network", 1.5, 1.5),
    ("Bulwark Union (fictional)", "group", 1.0, 3.0),
    ("Stone Banner Collective (fictional)", "group", 2.0, 0.5),
    ("Vigil Seven (fictional)", "online network", 1.0, 1.0),
    ("Kestrel Patriots (fictional)", "group", 0.5, 2.0),
    ("Hearth and Shield League (fictional)", "group", 1.0, 1.0),
    ("Ember Standard (fictional)", "youth group", 1.0, 0.8),
    ("Oakline Youth (fictional)", "youth group", 0.6, 1.2),
)


# --- incident patterns ------------------------------------------------------------------------


@dataclass(frozen=True)
class _CategorySpec:
    """How one incident category behaves in the demo; titles take {area}."""

    code: str
    weight: float  # share of incidents in an ordinary week
    election_boost: float  # extra rate (x times) at the end of an election run-up
    shock_boost: float  # extra rate just after the national shock event
    summer: float  # seasonal swing, peak in July
    point_share: float  # share recorded with a map point
    day_share: float  # share dated to the day (the rest to the week, then the month)
    week_share: float
    severity: tuple[float, float, float, float]
    actor_share: float  # share attributed to an organised group
    strand_share: float  # share with hate-crime strands (1 for hate crime)
    titles: tuple[str, str, str]
    details: tuple[str, str]

    @property
    def hate_crime(self) -> bool:
        return self.code.startswith("hc-")


CATEGORIES: tuple[_CategorySpec, ...] = (  # in DEFAULT_CATEGORIES order
    # code, weight, election, shock, summer, points, day, week, severity 1-4, actor, strands
    _CategorySpec(
        "literature", 0.10, 2.5, 1.0, 0.3, 0.65, 0.60, 0.30, (0.72, 0.22, 0.05, 0.01), 0.35, 0.10,
        ("Leaflets delivered to homes in {area}",
         "Far-right literature left in public places in {area}",
         "Anti-migrant flyers handed out in {area}"),
        ("Residents reported unsolicited leaflets blaming migrants for local problems.",
         "Printed material with conspiracy claims was found at several sites."),
    ),
    _CategorySpec(
        "stickers", 0.15, 0.6, 1.6, 0.3, 0.80, 0.55, 0.30, (0.70, 0.23, 0.06, 0.01), 0.25, 0.15,
        ("Racist stickers on street furniture in {area}",
         "Graffiti with far-right symbols in {area}",
         "Sticker campaign near a place of worship in {area}"),
        ("Stickers with a group logo and slogans were found on lamp posts and bus stops.",
         "Painted symbols associated with organised racist groups appeared overnight."),
    ),
    _CategorySpec(
        "demonstration", 0.025, 0.3, 3.0, 0.6, 0.85, 0.98, 0.02, (0.30, 0.42, 0.22, 0.06),
        0.55, 0.05,
        ("Street demonstration in {area}",
         "Small rally outside council offices in {area}",
         "March and counter-protest in {area}"),
        ("A group gathered with banners and loudspeakers; numbers were estimated by partners.",
         "Protesters and counter-protesters were kept apart by police."),
    ),
    _CategorySpec(
        "public-meeting", 0.015, 1.0, 1.0, 0.2, 0.80, 0.97, 0.03, (0.50, 0.35, 0.12, 0.03),
        0.50, 0.05,
        ("Public meeting promoted by an organised group in {area}",
         "Hall booking for a far-right speaker event in {area}",
         "Closed meeting advertised to supporters in {area}"),
        ("The event was advertised online with the venue released on the day.",
         "Venue staff were not told who had booked the room."),
    ),
    _CategorySpec(
        "online", 0.10, 0.8, 3.5, 0.1, 0.05, 0.85, 0.10, (0.45, 0.35, 0.15, 0.05), 0.30, 0.10,
        ("Misinformation about a local incident circulating online ({area})",
         "Online channel targeting residents of {area}",
         "Posts calling for protest in {area} shared widely"),
        ("Posts repeated false claims about an incident and named a local street.",
         "A channel shared edited images and urged followers to turn up in person."),
    ),
    _CategorySpec(
        "election", 0.008, 12.0, 0.0, 0.0, 0.40, 0.75, 0.20, (0.60, 0.30, 0.08, 0.02), 0.45, 0.05,
        ("Candidate leaflets with divisive messaging in {area}",
         "Election material blaming migrants in {area}",
         "Canvassers using racist language in {area}"),
        ("Campaign material linked local crime to migrants without evidence.",
         "Residents complained to the returning officer about the material."),
    ),
    _CategorySpec(
        "recruitment", 0.025, 0.3, 1.2, 0.3, 0.60, 0.80, 0.15, (0.45, 0.38, 0.14, 0.03), 0.50,
        0.02,
        ("Recruitment stall and approaches to young people in {area}",
         "Recruitment flyers near a college in {area}",
         "Invitations to a fitness club used for recruitment in {area}"),
        ("Young people were approached and given contact details for a closed chat group.",
         "Flyers invited people to 'active' training sessions."),
    ),
    _CategorySpec(
        "hc-violence", 0.07, 0.15, 1.6, 0.3, 0.70, 0.97, 0.02, (0.05, 0.35, 0.40, 0.20), 0.0, 1.0,
        ("Hate-motivated assault in {area}",
         "Assault on a worshipper in {area}",
         "Attack on a taxi driver in {area}"),
        ("The victim was punched and abused by two men.",
         "The victim was pushed to the ground and needed hospital treatment."),
    ),
    _CategorySpec(
        "hc-damage", 0.06, 0.15, 2.2, 0.3, 0.80, 0.85, 0.10, (0.30, 0.45, 0.20, 0.05), 0.0, 1.0,
        ("Criminal damage to a place of worship in {area}",
         "Vandalism at a family home in {area}",
         "Damage to a shopfront with hate graffiti in {area}"),
        ("Windows were broken and offensive words were painted on the wall.",
         "Property was damaged overnight; the owners believe they were targeted."),
    ),
    _CategorySpec(
        "hc-threats", 0.09, 0.15, 2.4, 0.3, 0.50, 0.90, 0.07, (0.25, 0.45, 0.22, 0.08), 0.0, 1.0,
        ("Threats made to a shop owner in {area}",
         "Threatening letters sent to residents in {area}",
         "Online threats against a local councillor in {area}"),
        ("The victim received repeated threats referring to their background.",
         "Anonymous letters threatened violence unless the family moved away."),
    ),
    _CategorySpec(
        "hc-abuse", 0.29, 0.15, 2.0, 0.3, 0.60, 0.93, 0.05, (0.55, 0.35, 0.09, 0.01), 0.0, 1.0,
        ("Abuse on public transport in {area}",
         "Verbal abuse in the street in {area}",
         "Abuse directed at staff and guests at an accommodation site in {area}"),
        ("The victim was shouted at and insulted in the street.",
         "Abuse was directed at the victim in front of their children."),
    ),
    _CategorySpec(
        "other", 0.04, 0.0, 1.0, 0.3, 0.50, 0.75, 0.15, (0.70, 0.25, 0.05, 0.00), 0.0, 0.05,
        ("Community concern reported in {area}",
         "Suspicious gathering reported in {area}",
         "Rumours causing concern in {area}"),
        ("Partners reported rising concern among residents.",
         "The report could not yet be linked to any organised activity."),
    ),
)
FOLLOW_UPS = {  # hate crime? -> closing sentences
    True: ("Reported to the police; victim support offered.",
           "The victim was referred to a local support service.",
           "Officers are reviewing CCTV.",
           "Similar reports have come from the same location in recent months."),
    False: ("Material photographed and removed.",
            "The council's cleansing team was asked to remove it.",
            "Partners asked to watch for further activity.",
            "Shared with the partnership for awareness."),
}
# Strand shares among hate crimes, in DEFAULT_STRANDS order (race and religion most common).
STRAND_SHARES = (0.66, 0.17, 0.10, 0.04, 0.025, 0.0025, 0.0025)
SECOND_STRAND_SHARE = 0.08
# Marking shares in Marking order (RED, AMBER+STRICT, AMBER, GREEN, CLEAR): hate crime, other.
MARKING_SHARES = ((0.045, 0.07, 0.13, 0.705, 0.05), (0.015, 0.03, 0.11, 0.695, 0.15))
# Verification shares (reported, corroborated, confirmed): police-reported hate crime, the rest.
VERIFICATION_SHARES = ((0.45, 0.20, 0.35), (0.62, 0.30, 0.08))
WEEKDAY_FACTORS = (0.95, 0.95, 0.95, 1.0, 1.1, 1.2, 0.85)  # Monday first
RALLY_BOOSTS = {
    "demonstration": 6.0, "stickers": 2.5, "literature": 2.0, "online": 2.0,
    "hc-violence": 1.4, "hc-damage": 1.4, "hc-threats": 1.4, "hc-abuse": 1.4,
}


# --- public entry points ----------------------------------------------------------------------


def seed_demo(
    db: Database,
    incidents: int = 60_000,
    seed: int = 1,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    replace: bool = False,
) -> list[DemoSignIn]:
    """Fill an empty database with the demo data in one transaction, and return the sign-ins.

    Raises DemoDataError when the reference data is missing or the database already holds
    partnership records, unless `replace` is given: then the records are cleared first in the
    same transaction, so a failed reseed leaves the old records in place. The sign-ins (chair,
    admin, SCI and members of two organisations) carry random passwords stored nowhere else.
    """
    if incidents < 0:
        raise DemoDataError("The number of incidents cannot be negative.")
    say = progress or (lambda _message: None)
    today = today or date.today()
    began = time.perf_counter()
    # SQLite checks foreign keys row by row on delete, far too slowly for a million incidents;
    # with replace they are checked once, at the end, instead.
    with _transaction(db, foreign_keys=not replace) as conn, search.suspended(conn):
        if replace:
            say("Clearing the existing records")
            _clear(conn)
        say("Checking the database is ready for demo data")
        plan = _make_plan(_check_ready(conn), today, seed)
        say(f"Adding {len(ORGANISATIONS)} organisations and their users")
        people, sign_ins = _add_people(conn, plan)
        _add_coverage(conn, plan)
        _add_actors(conn)
        triggers = _add_trigger_events(conn, plan, people)
        say(f"Generating {incidents:,} incidents")
        data = _generate_incidents(plan, people, triggers, incidents)
        say(f"Writing {incidents:,} incidents")
        writer = _BulkWriter(conn)
        with writer.foreign_keys_checked_after():
            _write_incidents(writer, plan, data)
        say("Adding tension assessments")
        _add_assessments(conn, plan, people, triggers, data)
        say("Adding meetings and actions")
        _add_meetings(conn, plan, people, triggers, data)
        say("Adding resources and the joint party statement")
        _add_resources(conn, plan, people)
        say("Counting incidents by month")
        rollups.refresh_months(conn)
        _add_settings(conn, plan, incidents)
        writer.reset_id_sequences(SEEDED_TABLES)
        if replace:
            _check_foreign_keys(conn)
    _analyse(db)
    say("Checking for alerts (surges, tension at level 4 or 5)")
    from . import alerts

    with db.session() as session:
        say(alerts.check_alerts(session, today).lines()[0])
    say(f"Demo data ready in {time.perf_counter() - began:.1f} s")
    return sign_ins


def _analyse(db: Database) -> None:
    """Refresh the query planner's statistics after a bulk load, so it picks the right indexes;
    on PostgreSQL also VACUUM, so that counting can read the covering indexes alone."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def clear_records(db: Database) -> None:
    """Delete every record except the reference data, in one transaction (audit log included).

    The audit log's append-only triggers are lifted only inside that transaction: they are back
    in place when it commits, and untouched if it fails.
    """
    with _transaction(db, foreign_keys=False) as conn:
        _clear(conn)


def first_thursday_in_may(year: int) -> date:
    """Polling day of the year's local elections."""
    first = date(year, 5, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7)


# --- transactions and bulk writing --------------------------------------------------------------


@contextmanager
def _transaction(db: Database, foreign_keys: bool = True) -> Iterator[Connection]:
    """One connection in one transaction that also covers DDL; commits, or rolls back on error.

    With foreign_keys=False, SQLite skips its foreign-key checks (whoever deletes does it in
    dependency order) and they are switched back on afterwards; PostgreSQL is unaffected.
    """
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite and not foreign_keys:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no effect inside a transaction
        try:
            if sqlite:
                # pysqlite opens transactions lazily, before DML only; BEGIN makes DDL part of it.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite and not foreign_keys:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _clear(conn: Connection) -> None:
    """Empty every non-reference table on the connection's open transaction."""
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    if conn.dialect.name == "postgresql":
        # TRUNCATE, not DELETE: deleting a million incidents checks the unindexed
        # self-reference (corroborates_id) once per deleted row.
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY")
        conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
        return
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
    for table in tables:
        conn.execute(table.delete())
    migration = importlib.import_module("dashboard.migrations.versions.0001_initial_schema")
    for statement in migration.APPEND_ONLY_SQLITE:
        conn.exec_driver_sql(statement)


def _check_foreign_keys(conn: Connection) -> None:
    """Raise DemoDataError if SQLite, writing with its checks off, broke a foreign key."""
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise DemoDataError(f"Demo data would break foreign keys, e.g. {tuple(broken[0])}.")


@dataclass(frozen=True)
class _Column:
    """One column for a bulk write: a numpy array, its kind, and which entries are NULL."""

    name: str
    kind: str  # "int", "float", "text" (object array of str) or "timestamp" (epoch seconds)
    values: np.ndarray
    nulls: np.ndarray | None = None


class _BulkWriter:
    """Writes many rows in the open transaction: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.driver = conn.connection.driver_connection

    def write(self, table: str, columns: Sequence[_Column]) -> None:
        names = ", ".join(c.name for c in columns)
        if self.dialect == "postgresql":
            self._copy(table, names, [self._copy_text(c) for c in columns])
            return
        marks = ", ".join("?" * len(columns))
        cursor = self.driver.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - fixed names
                zip(*(self._python_values(c) for c in columns), strict=True),
            )
        finally:
            cursor.close()

    @contextmanager
    def foreign_keys_checked_after(self) -> Iterator[None]:
        """Check the bulk tables' foreign keys once per key after loading, not once per row.

        On PostgreSQL the keys are dropped and added back in the same transaction (adding a key
        validates all rows in one set-based query); SQLite's own checks are cheap enough.
        """
        if self.dialect != "postgresql":
            yield
            return
        keys = self.conn.execute(
            select(
                literal_column("conrelid::regclass::text"),
                literal_column("conname"),
                literal_column("pg_get_constraintdef(oid)"),
            )
            .select_from(text("pg_constraint"))
            .where(text("contype = 'f' AND conrelid::regclass::text = ANY(:tables)"))
            .order_by(text("1, 2")),
            {"tables": list(BULK_TABLES)},
        ).all()
        for table, name, _definition in keys:
            self.conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        yield
        for table, name, definition in keys:
            self.conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def reset_id_sequences(self, tables: Sequence[Table]) -> None:
        """After explicit ids, move PostgreSQL's id sequences past the highest id."""
        if self.dialect != "postgresql":
            return
        for table in tables:
            self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
            )

    def _copy(self, table: str, names: str, texts: list[list[str]], block: int = 50_000) -> None:
        lines = map("\t".join, zip(*texts, strict=True))
        with (
            self.driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            while chunk := list(islice(lines, block)):
                copy.write("\n".join(chunk) + "\n")

    def _python_values(self, column: _Column) -> list:
        if column.kind == "timestamp":
            values = _timestamp_text(column.values, self.dialect).astype(object)
        else:
            values = column.values.astype(object)
        if column.nulls is not None:
            values[column.nulls] = None
        return values.tolist()

    def _copy_text(self, column: _Column) -> list[str]:
        if column.kind == "timestamp":
            values = _timestamp_text(column.values, self.dialect).astype(object)
        elif column.kind == "text":
            values = column.values.copy()
        else:
            values = column.values.astype(str).astype(object)
        if column.nulls is not None:
            values[column.nulls] = r"\N"
        return values.tolist()


def _timestamp_text(seconds: np.ndarray, dialect: str) -> np.ndarray:
    """Epoch seconds as the naive UTC text each backend stores for UTCDateTime columns."""
    iso = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    stamps = np.strings.replace(iso, "T", " ")
    # SQLite compares these as strings, so they must match SQLAlchemy's own format exactly.
    return np.strings.add(stamps, ".000000") if dialect == "sqlite" else stamps


# --- the plan: period, calendar, districts and hotspots -----------------------------------------


@dataclass(frozen=True)
class _Areas:
    codes: list[str]
    names: list[str]
    population: np.ndarray
    regions: list[str]
    forces: list[str]


@dataclass(frozen=True)
class _Plan:
    """Everything fixed before records are written: the period, the calendar and the districts."""

    seed: int
    today: date
    start: date
    local_elections: tuple[date, ...]  # polling days in the period, then the next one ahead
    general_election: date
    shock: date
    areas: _Areas
    hotspots: np.ndarray  # district indices
    hot_factor: np.ndarray  # per district: 1, or 3-6 for a hotspot

    @property
    def days(self) -> int:
        return (self.today - self.start).days + 1

    @property
    def past_local_elections(self) -> tuple[date, ...]:
        return tuple(d for d in self.local_elections if d <= self.today)

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def day_of(self, index: int) -> date:
        return self.start + timedelta(days=int(index))

    def rng(self, stage: str) -> np.random.Generator:
        return _stage_rng(self.seed, stage)


def _stage_rng(seed: int, stage: str) -> np.random.Generator:
    """An independent random stream per stage, so changing one stage leaves the others alone."""
    return np.random.default_rng([seed, *stage.encode()])


def _make_plan(areas: _Areas, today: date, seed: int) -> _Plan:
    start = date(today.year - YEARS_OF_HISTORY, 1, 1)
    polling_days = [first_thursday_in_may(y) for y in range(start.year, today.year + 2)]
    upcoming = next(d for d in polling_days if d > today)
    rng = _stage_rng(seed, "areas")
    # Hotspots lean to larger districts without excluding small ones.
    weights = np.sqrt(areas.population) / np.sqrt(areas.population).sum()
    hotspots = np.sort(rng.choice(len(areas.codes), HOTSPOTS, replace=False, p=weights))
    hot_factor = np.ones(len(areas.codes))
    hot_factor[hotspots] = rng.uniform(3.0, 6.0, HOTSPOTS)
    return _Plan(
        seed=seed, today=today, start=start,
        local_elections=(*(d for d in polling_days if d <= today), upcoming),
        general_election=_general_election(start, today),
        shock=today - timedelta(days=SHOCK_DAYS_AGO),
        areas=areas, hotspots=hotspots, hot_factor=hot_factor,
    )


def _general_election(start: date, today: date) -> date:
    """The 2024 general election when it falls in the period, else a Thursday ~2.5 years back."""
    real = date(2024, 7, 4)
    if start + timedelta(days=RUN_UP_DAYS + 30) <= real <= today - timedelta(days=60):
        return real
    guess = today - timedelta(days=900)
    return guess + timedelta(days=(3 - guess.weekday()) % 7)


def _check_ready(conn: Connection) -> _Areas:
    """The districts, once reference data is known to be loaded and no records to exist."""
    rows = conn.execute(
        select(Area.code, Area.name, Area.population, Area.region, Area.police_force)
        .order_by(Area.code)
    ).all()
    if not rows:
        raise DemoDataError(
            "The reference data is not loaded: create the database (init-db) first."
        )
    missing = (
        ({c.code for c in CATEGORIES} - set(conn.scalars(select(IncidentCategory.code))))
        | ({s[0] for s in DEFAULT_STRANDS} - set(conn.scalars(select(Strand.code))))
    )
    if missing:
        raise DemoDataError(f"Default categories or strands are missing: {sorted(missing)}.")
    occupied = [
        t.name for t in SEEDED_TABLES
        if conn.scalar(select(literal(1)).select_from(t).limit(1)) is not None
    ]
    if occupied:
        raise DemoDataError(
            f"The database already holds partnership records ({', '.join(occupied)}). Demo data "
            "goes only into an empty database: clear the records first (--replace)."
        )
    return _Areas(
        codes=[r.code for r in rows],
        names=[r.name for r in rows],
        population=np.array([r.population for r in rows], dtype=float),
        regions=[r.region for r in rows],
        forces=[r.police_force for r in rows],
    )


# --- people ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    email: str
    org: int  # index into ORGANISATIONS; the organisation's id is org + 1
    role: Role
    status: UserStatus


@dataclass(frozen=True)
class _People:
    users: list[_Person]

    def members_of(self, org: int) -> list[_Person]:
        """Active users of an organisation who log records (members and the chair)."""
        return [
            u for u in self.users
            if u.org == org and u.status == UserStatus.ACTIVE
            and u.role in (Role.MEMBER, Role.CHAIR)
        ]

    def first(self, role: Role) -> _Person:
        return next(u for u in self.users if u.role == role)


def _org_index(key: str) -> int:
    return next(i for i, spec in enumerate(ORGANISATIONS) if spec.key == key)


def _add_people(conn: Connection, plan: _Plan) -> tuple[_People, list[DemoSignIn]]:
    """The organisations and their users, each with a random password; one sign-in per role."""
    founded = _at(plan.start, 0)
    conn.execute(Organisation.__table__.insert(), [
        {"id": o + 1, "name": s.name, "short_name": s.short_name, "sector": s.sector,
         "membership_status": s.status, "created_at": founded}
        for o, s in enumerate(ORGANISATIONS)
    ])
    people = _cast(plan)
    secret = {u.id: _random_password(u) for u in people.users}
    # argon2 releases the GIL, so threads hash on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        hashes = dict(zip(secret, pool.map(passwords.hash_password, secret.values()), strict=True))
    now = datetime.now(UTC)
    conn.execute(User.__table__.insert(), [
        {"id": u.id, "email": u.email, "name": u.name, "organisation_id": u.org + 1,
         "role": u.role, "status": u.status, "password_hash": hashes[u.id],
         "password_changed_at": now, "created_at": founded, "last_login_at": None}
        for u in people.users
    ])
    return people, [
        DemoSignIn(u.email, secret[u.id], u.role.value, ORGANISATIONS[u.org].name)
        for u in _sign_in_people(people)
    ]


def _add_coverage(conn: Connection, plan: _Plan) -> None:
    """Each organisation's districts (its spec's `covers`): their alerts go to its members."""
    coverage = _coverage(plan)
    conn.execute(organisation_areas.insert(), [
        {"organisation_id": int(o) + 1, "area_code": plan.areas.codes[int(a)]}
        for o, a in zip(*coverage.nonzero(), strict=True)
    ])


def _cast(plan: _Plan) -> _People:
    """The fictional users, organisation by organisation, with the chair, admin and SCI roles."""
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    picks = plan.rng("people").permutation(len(names))
    users: list[_Person] = []
    for org, spec in enumerate(ORGANISATIONS):
        roles = [Role.SCI if spec.key == SCI_ORG else Role.MEMBER] * spec.users
        if spec.key == CHAIR_ORG:
            roles[0] = Role.CHAIR
        if spec.key == ADMIN_ORG:
            roles.append(Role.ADMIN)
        active = spec.status == MembershipStatus.ACTIVE
        for role in roles:
            first, last = names[picks[len(users)]]
            users.append(_Person(
                id=len(users) + 1, name=f"{first} {last}",
                email=f"{first}.{last}@{spec.domain}.example".lower(), org=org, role=role,
                status=UserStatus.ACTIVE if active else UserStatus.DISABLED,
            ))
    return _People(users)


def _sign_in_people(people: _People) -> list[_Person]:
    """Chair, admin, SCI, and members of a police force and of a voluntary organisation."""
    return [
        people.first(Role.CHAIR), people.first(Role.ADMIN), people.first(Role.SCI),
        people.members_of(_org_index(POLICE_SIGN_IN_ORG))[0],
        people.members_of(_org_index(VOLUNTARY_SIGN_IN_ORG))[0],
    ]


def _random_password(person: _Person) -> str:
    """A random password that passes the policy (a rare draw may contain a name or common word)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            passwords.check_policy(candidate, email=person.email, name=person.name)
        except passwords.PasswordPolicyError:
            continue
        return candidate


def _add_actors(conn: Connection) -> None:
    conn.execute(Actor.__table__.insert(), [
        {"id": i + 1, "name": name, "kind": kind,
         "notes": "Invented for the demo; any likeness to a real group is unintended."}
        for i, (name, kind, _west, _east) in enumerate(ACTORS)
    ])


# --- calendar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trigger:
    id: int
    kind: TriggerKind
    title: str
    starts: date
    ends: date
    region_wide: bool
    areas: tuple[int, ...]  # district indices
    notes: str


def _add_trigger_events(conn: Connection, plan: _Plan, people: _People) -> list[_Trigger]:
    """Elections, rallies, trials, anniversaries and the national shock event, with districts."""
    triggers = _calendar(plan)
    chair = people.first(Role.CHAIR).id
    conn.execute(TriggerEvent.__table__.insert(), [
        {"id": t.id, "kind": t.kind, "title": t.title, "starts_on": t.starts, "ends_on": t.ends,
         "region_wide": t.region_wide, "notes": t.notes, "created_by_id": chair,
         "created_at": _at(min(t.starts - timedelta(days=30), plan.today - timedelta(days=1)), 9),
         "deleted_at": None, "version": 1}
        for t in triggers
    ])
    links = [
        {"trigger_event_id": t.id, "area_code": plan.areas.codes[a]}
        for t in triggers for a in t.areas
    ]
    if links:
        conn.execute(trigger_event_areas.insert(), links)
    return triggers


def _calendar(plan: _Plan) -> list[_Trigger]:
    """The trigger events, in date order, numbered from 1."""
    rng = plan.rng("calendar")
    n_areas = len(plan.areas.codes)
    events: list[tuple] = []  # the _Trigger fields after id
    for day in plan.local_elections:
        voting = tuple(sorted(rng.choice(n_areas, int(n_areas * 0.7), replace=False).tolist()))
        upcoming = "Upcoming. " if day > plan.today else ""
        events.append((TriggerKind.ELECTION, f"Local elections {day.year}", day, day, False,
                       voting, f"{upcoming}Polling day; leaflets and canvassing expected in the "
                       "six weeks before."))
    general = plan.general_election
    events.append((TriggerKind.ELECTION, f"General election {general.year}", general, general,
                   True, (), "Polling day across the region; a campaign of about six weeks."))
    events.append((TriggerKind.NATIONAL_INCIDENT, "National shock event (fictional scenario)",
                   plan.shock, plan.shock + timedelta(days=2), True, (),
                   "A major attack elsewhere in the country, invented for the demo. Expect a sharp "
                   "rise in hate crime, online misinformation and street protest for some weeks."))
    anniversary = plan.shock + timedelta(days=365)
    events.append((TriggerKind.ANNIVERSARY, "First anniversary of the national shock event",
                   anniversary, anniversary, True, (),
                   "Possible vigils, counter-events and online activity."))
    for year in range(plan.start.year, plan.today.year + 1):
        day = date(year, 1, 27)
        events.append((TriggerKind.ANNIVERSARY, f"Holocaust Memorial Day {year}", day, day, True,
                       (), "Commemorations; watch for antisemitic stickers and online abuse."))
    events += _rallies(plan, rng) + _trials(plan, rng)
    events.sort(key=lambda e: (e[2], e[1]))
    return [_Trigger(i + 1, *event) for i, event in enumerate(events)]


def _rallies(plan: _Plan, rng: np.random.Generator) -> list[tuple]:
    """Marches in hotspot districts: eight past, two just after the shock, three in 8 weeks."""
    shock = plan.day_index(plan.shock)
    days = [int(d) for d in rng.integers(30, plan.days - 30, 8)] + [shock + 5, shock + 12]
    days += [plan.days - 1 + int(d) for d in sorted(rng.integers(10, 56, 3))]
    out = []
    for index, day in enumerate(days):
        area = int(plan.hotspots[index % len(plan.hotspots)])
        actor = ACTORS[int(rng.integers(len(ACTORS)))][0]
        when = plan.day_of(day)
        upcoming = "Upcoming; police planning under way. " if when > plan.today else ""
        out.append((TriggerKind.RALLY, f"Planned march in {plan.areas.names[area]} ({actor})",
                    when, when, False, (area,), f"{upcoming}A counter-protest is expected."))
    return out


def _trials(plan: _Plan, rng: np.random.Generator) -> list[tuple]:
    """Four past sentencing hearings and one in the coming weeks, in larger districts."""
    weights = plan.areas.population / plan.areas.population.sum()
    out = []
    for k in range(5):
        area = int(rng.choice(len(weights), p=weights))
        if k < 4:
            day = plan.today - timedelta(days=int(rng.integers(60, plan.days - 60)))
        else:
            day = plan.today + timedelta(days=int(rng.integers(14, 50)))
        out.append((TriggerKind.TRIAL,
                    f"Sentencing hearing: assault case from {plan.areas.names[area]}", day,
                    day + timedelta(days=int(rng.integers(0, 4))), False, (area,),
                    "Court dates may prompt online comment and protest outside court."))
    return out


# --- incidents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _IncidentData:
    """The generated incidents as columns, in occurred_on order; row i has id i + 1."""

    day: np.ndarray  # occurred_on as a day index (rounded to its week or month when imprecise)
    area: np.ndarray
    category: np.ndarray
    precision: np.ndarray  # index into DatePrecision
    latitude: np.ndarray  # NaN when area only
    longitude: np.ndarray
    location: np.ndarray  # index into LocationPrecision
    actor: np.ndarray  # actor id, 0 for none
    title: np.ndarray
    description: np.ndarray
    source_org: np.ndarray  # organisation id
    reporter: np.ndarray  # user id
    verification: np.ndarray  # index into Verification
    corroborated_by: np.ndarray
    severity: np.ndarray
    marking: np.ndarray  # index into Marking
    created: np.ndarray  # epoch seconds
    updated: np.ndarray
    deleted: np.ndarray  # epoch seconds, or -1
    strands: tuple[np.ndarray, np.ndarray]  # (row, strand index)
    recipients: tuple[np.ndarray, np.ndarray]  # (row, user id)
    listed_orgs: tuple[np.ndarray, np.ndarray]  # (row, organisation id)
    triggers: tuple[np.ndarray, np.ndarray]  # (row, trigger event id)

    @property
    def shared(self) -> np.ndarray:
        """Rows every partner may count (TLP:GREEN or TLP:CLEAR, not deleted)."""
        shareable = [list(Marking).index(m) for m in (Marking.GREEN, Marking.CLEAR)]
        return np.isin(self.marking, shareable) & (self.deleted < 0)


def _hate_crime(category: np.ndarray) -> np.ndarray:
    return np.array([c.hate_crime for c in CATEGORIES])[category]


def _generate_incidents(
    plan: _Plan, people: _People, triggers: list[_Trigger], n: int
) -> _IncidentData:
    """All incident columns, vectorised: when, where and what from a day x district x category
    rate, the rest drawn per row from shares that depend on the category and the source."""
    rng = plan.rng("incidents")
    actual_day, area, category = _sample_cells(plan, triggers, rng, n)
    day, precision = _round_dates(plan, actual_day, category, rng)
    order = np.argsort(day, kind="stable")
    actual_day, day, area, category, precision = (
        column[order] for column in (actual_day, day, area, category, precision)
    )
    group = (~_hate_crime(category)).astype(int)  # 0 hate crime, 1 everything else
    latitude, longitude, location = _locations(plan, area, category, rng)
    actor = _actors(plan, area, category, rng)
    source_org, reporter = _sources(plan, people, area, group, rng)
    police = np.array([s.kind == "police" for s in ORGANISATIONS])[source_org - 1]
    verification = _pick(rng, 1 - ((group == 0) & police), VERIFICATION_SHARES)
    corroborated_by = np.select(
        [verification == 1, verification == 2],
        [_pick(rng, np.zeros(n, int), [(0.6, 0.3, 0.1)]) + 1, rng.integers(0, 3, n)],
        0,
    )
    marking = _pick(rng, group, MARKING_SHARES)
    title, description = _texts(plan, area, category, actor, rng)
    created, updated, deleted = _timestamps(plan, actual_day, group, verification, rng)
    return _IncidentData(
        day=day, area=area, category=category, precision=precision, latitude=latitude,
        longitude=longitude, location=location, actor=actor, title=title,
        description=description, source_org=source_org, reporter=reporter,
        verification=verification, corroborated_by=corroborated_by,
        severity=_pick(rng, category, [c.severity for c in CATEGORIES]) + 1, marking=marking,
        created=created, updated=updated, deleted=deleted, strands=_strands(category, rng),
        recipients=_recipients(people, marking, reporter, rng),
        listed_orgs=_listed_orgs(marking, source_org, rng),
        triggers=_trigger_links(plan, triggers, day, area, category, rng),
    )


def _sample_cells(plan: _Plan, triggers: list[_Trigger], rng: np.random.Generator, n: int):
    """Day, district and category of n incidents, drawn from the rate of every combination."""
    rate = _rates(plan, triggers, rng)
    n_areas, n_categories = rate.shape[1], rate.shape[2]
    p = rate.ravel()
    cells = np.sort(rng.choice(p.size, size=n, p=p / p.sum()))
    return (cells // (n_areas * n_categories), (cells // n_categories) % n_areas,
            cells % n_categories)


def _rates(plan: _Plan, triggers: list[_Trigger], rng: np.random.Generator) -> np.ndarray:
    """Relative incident rate per (day, district, category)."""
    n_areas = len(plan.areas.codes)
    noise = rng.lognormal(0.0, 0.25, (n_areas, len(CATEGORIES)))
    area_rates = (plan.areas.population * plan.hot_factor)[:, None] * noise
    organised = np.array([not c.hate_crime and c.code != "other" for c in CATEGORIES])
    area_rates[np.ix_(plan.hotspots, organised)] *= 1.3  # groups concentrate their effort
    rate = _day_rates(plan)[:, None, :] * area_rates[None, :, :]
    rally = np.array([RALLY_BOOSTS.get(c.code, 1.0) for c in CATEGORIES])
    for trigger in triggers:
        if trigger.kind == TriggerKind.RALLY:
            day = plan.day_index(trigger.starts)
            rate[max(day - 7, 0):max(day + 3, 0), trigger.areas[0], :] *= rally
    for _ in range(12):  # short local flare-ups
        area = int(rng.choice(n_areas, p=area_rates.sum(1) / area_rates.sum()))
        first = int(rng.integers(0, plan.days))
        rate[first:first + int(rng.integers(14, 29)), area, :] *= 1.8
    return rate


def _day_rates(plan: _Plan) -> np.ndarray:
    """Relative rate per (day, category): season, weekday, slow growth, run-ups, the shock."""
    days = np.arange(plan.days)
    dates = [plan.day_of(d) for d in days]
    day_of_year = np.array([d.timetuple().tm_yday for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    summer = np.cos(2 * np.pi * (day_of_year - 196) / 365.25)
    rate = np.array([c.weight for c in CATEGORIES])[None, :] * (
        1 + np.outer(summer, [c.summer for c in CATEGORIES])
    )
    rate *= (np.array(WEEKDAY_FACTORS)[weekday] * (1 + 0.05 * days / 365.25))[:, None]
    boost = np.array([c.election_boost for c in CATEGORIES])
    polling = [(d, 1.0) for d in plan.local_elections] + [(plan.general_election, 1.3)]
    for polling_day, scale in polling:
        end = plan.day_index(polling_day)
        window = np.arange(max(end - RUN_UP_DAYS, 0), min(end, plan.days))
        ramp = 0.3 + 0.7 * (window - (end - RUN_UP_DAYS)) / (RUN_UP_DAYS - 1)
        rate[window] *= 1 + scale * np.outer(ramp, boost)
    after = days - plan.day_index(plan.shock)
    # About three times the usual rate for ten days, then back to normal over four weeks.
    shock = np.where(after < 0, 0.0, np.where(after < 10, 1.0, np.exp(-(after - 10) / 12.0)))
    rate *= 1 + np.outer(shock, [c.shock_boost for c in CATEGORIES])
    return rate


def _round_dates(plan: _Plan, day: np.ndarray, category: np.ndarray, rng: np.random.Generator):
    """Occurred-on dates at their precision: the day, Monday of the week, or 1st of the month."""
    shares = [(c.day_share, c.week_share, 1 - c.day_share - c.week_share) for c in CATEGORIES]
    precision = _pick(rng, category, shares)
    weekday = ((plan.start - EPOCH).days + day + 3) % 7  # 1 January 1970 was a Thursday
    month_start = np.array(
        [plan.day_index(plan.day_of(d).replace(day=1)) for d in range(plan.days)]
    )
    rounded = np.select([precision == 1, precision == 2], [day - weekday, month_start[day]], day)
    before_start = rounded < 0
    return np.where(before_start, day, rounded), np.where(before_start, 0, precision)


def _locations(plan: _Plan, area: np.ndarray, category: np.ndarray, rng: np.random.Generator):
    """Points inside the district for about 60 %, exact or approximate; the rest area only."""
    pool_lat, pool_lon = _point_pools(plan)
    n = area.size
    has_point = rng.random(n) < np.array([c.point_share for c in CATEGORIES])[category]
    approximate = rng.random(n) < 0.4
    pick = rng.integers(0, POINT_POOL, n)
    lat, lon = pool_lat[area, pick], pool_lon[area, pick]
    jitter = rng.normal(0.0, 0.0004, (2, n))
    lat = np.where(approximate, np.round(lat, 3), np.round(lat + jitter[0], 5))
    lon = np.where(approximate, np.round(lon, 3), np.round(lon + jitter[1], 5))
    location = np.where(has_point, approximate.astype(int), 2)
    return np.where(has_point, lat, np.nan), np.where(has_point, lon, np.nan), location


def _point_pools(plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """POINT_POOL points inside each district, clustered around a few centres like towns."""
    rng = plan.rng("points")
    features = {f["properties"]["code"]: f for f in geography.boundaries("district")["features"]}
    lats = np.empty((len(plan.areas.codes), POINT_POOL))
    lons = np.empty_like(lats)
    for index, code in enumerate(plan.areas.codes):
        lons[index], lats[index] = _points_inside(_rings(features[code]["geometry"]), rng)
    return lats, lons


def _rings(geometry: dict) -> list[np.ndarray]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    return [np.asarray(ring, dtype=float) for polygon in polygons for ring in polygon]


def _points_inside(rings: list[np.ndarray], rng: np.random.Generator):
    """POINT_POOL (lon, lat) points inside the rings: half spread out, half near three centres."""
    corners = np.vstack(rings)
    low, high = corners.min(0), corners.max(0)
    batch = 4 * POINT_POOL
    centres = None
    found = np.empty((0, 2))
    for _ in range(100):
        uniform = rng.uniform(low, high, (batch, 2))
        if centres is None:
            inside = uniform[_inside(uniform, rings)]
            if len(inside) < 3:
                continue
            centres = inside[:3]
        near = centres[rng.integers(0, 3, batch)] + rng.normal(0, 0.06 * (high - low), (batch, 2))
        candidates = np.vstack([uniform[: batch // 2], near])
        found = np.vstack([found, candidates[_inside(candidates, rings)]])
        if len(found) >= POINT_POOL:
            chosen = found[rng.permutation(len(found))[:POINT_POOL]]
            return chosen[:, 0], chosen[:, 1]
    raise DemoDataError("Could not place points inside a district boundary.")


def _inside(points: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd point-in-polygon test over all rings (holes and islands included)."""
    x, y = points[:, :1], points[:, 1:]
    result = np.zeros(len(points), dtype=bool)
    for ring in rings:
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        spans = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        result ^= (np.sum(spans & (x < crossing_x), axis=1) % 2).astype(bool)
    return result


def _actors(plan: _Plan, area: np.ndarray, category: np.ndarray, rng: np.random.Generator):
    """Actor id for about 30 % of organised activity, leaning to each group's home region."""
    east = np.array([r == "East Midlands" for r in plan.areas.regions])[area].astype(int)
    chosen = _pick(rng, east, [[a[2] for a in ACTORS], [a[3] for a in ACTORS]]) + 1
    attributed = rng.random(area.size) < np.array([c.actor_share for c in CATEGORIES])[category]
    return np.where(attributed, chosen, 0)


def _coverage(plan: _Plan) -> np.ndarray:
    """Which organisations cover which districts: (organisations, districts) booleans."""
    names, regions, forces = plan.areas.names, plan.areas.regions, plan.areas.forces
    table = np.zeros((len(ORGANISATIONS), len(names)), dtype=bool)
    for o, spec in enumerate(ORGANISATIONS):
        scope, _, value = spec.covers.partition(":")
        for a in range(len(names)):
            table[o, a] = (
                scope == "all"
                or (scope == "region" and regions[a] == value)
                or (scope == "force" and forces[a] == value)
                or (scope == "district" and names[a] == value)
            )
    return table


def _sources(
    plan: _Plan, people: _People, area: np.ndarray, group: np.ndarray, rng: np.random.Generator
):
    """Source organisation id and a reporter from it: police report most hate crime locally."""
    coverage = _coverage(plan)
    weights = np.array([SOURCE_WEIGHTS[s.kind] for s in ORGANISATIONS])  # (organisations, 2)
    pools = [[u.id for u in people.members_of(o)] for o in range(len(ORGANISATIONS))]
    weights[[not pool for pool in pools]] = 0.0
    # One distribution per (district, group), keyed district * 2 + group.
    tables = [coverage[:, a] * weights[:, g] for a in range(coverage.shape[1]) for g in (0, 1)]
    org = _pick(rng, area * 2 + group, tables)
    sizes = np.array([len(pool) for pool in pools])
    padded = np.array([pool + [0] * (sizes.max() - len(pool)) for pool in pools])
    reporter = padded[org, (rng.random(area.size) * sizes[org]).astype(int)]
    return org + 1, reporter


def _texts(plan: _Plan, area, category, actor, rng: np.random.Generator):
    """Titles and descriptions from the category templates (each distinct text built once)."""
    titles = np.array(
        [[[t.format(area=name) for name in plan.areas.names] for t in c.titles]
         for c in CATEGORIES],
        dtype=object,
    )
    linked = [""] + [f" Linked by partners to {name}." for name, *_ in ACTORS]
    descriptions = np.array(
        [[[[f"{detail} {closing}{link}" for link in linked]
           for closing in FOLLOW_UPS[c.hate_crime]] for detail in c.details]
         for c in CATEGORIES],
        dtype=object,
    )
    _check_copy_safe(titles.ravel().tolist() + descriptions.ravel().tolist())
    n = area.size
    title = titles[category, rng.integers(0, 3, n), area]
    description = descriptions[category, rng.integers(0, 2, n), rng.integers(0, 4, n), actor]
    return title, description


def _check_copy_safe(texts: list[str]) -> None:
    """Template texts go into COPY's text format unescaped, so they must not need escaping."""
    bad = [t for t in texts if any(ch in t for ch in "\t\n\r\\")]
    if bad:
        raise DemoDataError(f"Template text needs escaping: {bad[0]!r}")


def _timestamps(plan: _Plan, day, group, verification, rng: np.random.Generator):
    """created_at after the incident (reports lag), updated_at after verification, few deleted."""
    n = day.size
    first_second = (plan.start - EPOCH).days * SECONDS_PER_DAY
    # Nothing is stamped later than the first hour of today.
    cap = (plan.today - EPOCH).days * SECONDS_PER_DAY + rng.integers(0, 3600, n)
    lag = np.floor(rng.exponential(np.where(group == 0, 1.0, 2.5))).astype(np.int64)
    created = first_second + (day + lag) * SECONDS_PER_DAY + rng.integers(7 * 3600, 21 * 3600, n)
    created = np.minimum(created, cap)
    later = np.where(verification > 0, rng.integers(3600, 14 * SECONDS_PER_DAY, n), 0)
    updated = np.maximum(np.minimum(created + later, cap), created)
    deleted = np.full(n, -1, dtype=np.int64)
    if n:
        rows = rng.choice(n, min(n, max(3, min(50, n // 10_000))), replace=False)
        when = updated[rows] + rng.integers(3600, 5 * SECONDS_PER_DAY, rows.size)
        deleted[rows] = np.maximum(np.minimum(when, cap[rows]), updated[rows])
        updated[rows] = deleted[rows]
    return created, updated, deleted


def _strands(category: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Strands: one for every hate crime (two for some), and race or religion for a few others."""
    n = category.size
    hate = _hate_crime(category)
    share = np.array([c.strand_share for c in CATEGORIES])[category]
    tagged = hate | (rng.random(n) < share)
    race, religion = 0, 1
    primary = np.where(
        hate, _pick(rng, np.zeros(n, int), [STRAND_SHARES]),
        np.where(rng.random(n) < 0.3, religion, race),
    )
    second = np.where(primary == race, religion, race)
    has_second = hate & (rng.random(n) < SECOND_STRAND_SHARE)
    rows = np.concatenate([np.flatnonzero(tagged), np.flatnonzero(has_second)])
    codes = np.concatenate([primary[tagged], second[has_second]])
    order = np.lexsort((codes, rows))
    return rows[order], codes[order]


def _recipients(people: _People, marking, reporter, rng: np.random.Generator):
    """1-3 named recipients per TLP:RED incident, from any organisation, never the reporter."""
    candidates = np.array([u.id for o in range(len(ORGANISATIONS)) for u in people.members_of(o)])
    red = np.flatnonzero(marking == list(Marking).index(Marking.RED))
    return _choose_others(rng, red, candidates, reporter)


def _listed_orgs(marking, source_org, rng: np.random.Generator):
    """1-3 listed partner organisations per TLP:AMBER incident, never the originating one."""
    candidates = np.array([
        o + 1 for o, s in enumerate(ORGANISATIONS)
        if s.status == MembershipStatus.ACTIVE and s.kind != "national"
    ])
    amber = np.flatnonzero(marking == list(Marking).index(Marking.AMBER))
    return _choose_others(rng, amber, candidates, source_org)


def _choose_others(
    rng: np.random.Generator, rows: np.ndarray, candidates: np.ndarray, own: np.ndarray
):
    """For each row, 1-3 distinct candidates other than own[row], as (rows, chosen) pairs."""
    keys = rng.random((rows.size, candidates.size))
    keys[candidates[None, :] == own[rows][:, None]] = 2.0  # sorts last: never in the first three
    top = candidates[np.argsort(keys, axis=1)[:, :3]]
    count = _pick(rng, np.zeros(rows.size, int), [(0.5, 0.35, 0.15)]) + 1
    keep = np.arange(3)[None, :] < count[:, None]
    return np.repeat(rows, 3).reshape(-1, 3)[keep], top[keep]


# (first day, last day) relative to the event, the categories linked and the share linked.
TRIGGER_LINKS = {
    TriggerKind.ELECTION: ((-RUN_UP_DAYS, 0), ("election", "literature", "public-meeting"), 0.5),
    TriggerKind.NATIONAL_INCIDENT: (
        (0, RUN_UP_DAYS),
        ("online", "demonstration", "hc-violence", "hc-damage", "hc-threats", "hc-abuse"),
        0.35,
    ),
    TriggerKind.RALLY: ((-7, 2), ("demonstration", "stickers", "online"), 0.6),
    TriggerKind.TRIAL: ((-3, 7), ("online", "hc-threats", "demonstration"), 0.3),
}


def _trigger_links(
    plan: _Plan, triggers: list[_Trigger], day, area, category, rng: np.random.Generator
):
    """Links from incidents to the trigger events that plausibly prompted them."""
    codes = [c.code for c in CATEGORIES]
    rows, ids = [np.array([], int)], [np.array([], int)]
    for t in triggers:
        if t.kind not in TRIGGER_LINKS:
            continue
        (before, after), linked, share = TRIGGER_LINKS[t.kind]
        first, last = plan.day_index(t.starts) + before, plan.day_index(t.ends) + after
        candidates = np.arange(np.searchsorted(day, first), np.searchsorted(day, last, "right"))
        ok = np.isin(category[candidates], [codes.index(c) for c in linked])
        ok &= rng.random(candidates.size) < share
        if not t.region_wide:
            ok &= np.isin(area[candidates], t.areas)
        rows.append(candidates[ok])
        ids.append(np.full(int(ok.sum()), t.id))
    pair_rows, pair_ids = np.concatenate(rows), np.concatenate(ids)
    order = np.lexsort((pair_ids, pair_rows))
    return pair_rows[order], pair_ids[order]


def _pick(rng: np.random.Generator, keys: np.ndarray, tables: Sequence[Sequence[float]]):
    """For each row, an index drawn with the relative weights tables[keys[row]]."""
    weights = np.asarray(tables, dtype=float)
    totals = weights.sum(1, keepdims=True)
    cumulative = np.cumsum(weights, axis=1) / np.where(totals > 0, totals, 1)
    u = rng.random(keys.size)
    out = np.zeros(keys.size, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(len(weights) + 1))
    for k in range(len(weights)):
        rows = order[bounds[k]:bounds[k + 1]]
        if rows.size:
            out[rows] = np.searchsorted(cumulative[k], u[rows], side="right")
    return np.minimum(out, weights.shape[1] - 1)


def _write_incidents(writer: _BulkWriter, plan: _Plan, data: _IncidentData) -> None:
    """The incidents and their strands, recipients, listed organisations and trigger links."""
    n = data.day.size
    ids = np.arange(1, n + 1)

    def labels(values) -> np.ndarray:
        return np.array([getattr(v, "value", v) for v in values], dtype=object)

    day_text = labels(plan.day_of(d).isoformat() for d in range(plan.days))
    no_point = np.isnan(data.latitude)
    kept = data.deleted < 0
    writer.write("incidents", [
        _Column("id", "int", ids),
        _Column("category_code", "text", labels(c.code for c in CATEGORIES)[data.category]),
        _Column("occurred_on", "text", day_text[data.day]),
        _Column("date_precision", "text", labels(DatePrecision)[data.precision]),
        _Column("area_code", "text", labels(plan.areas.codes)[data.area]),
        _Column("latitude", "float", data.latitude, no_point),
        _Column("longitude", "float", data.longitude, no_point),
        _Column("location_precision", "text", labels(LocationPrecision)[data.location]),
        _Column("actor_id", "int", data.actor, data.actor == 0),
        _Column("title", "text", data.title),
        _Column("description", "text", data.description),
        _Column("source_org_id", "int", data.source_org),
        _Column("reporter_id", "int", data.reporter),
        _Column("verification", "text", labels(Verification)[data.verification]),
        _Column("corroborated_by", "int", data.corroborated_by),
        _Column("severity", "int", data.severity),
        _Column("marking", "text", labels(Marking)[data.marking]),
        _Column("created_at", "timestamp", data.created),
        _Column("updated_at", "timestamp", data.updated),
        _Column("deleted_at", "timestamp", np.maximum(data.deleted, 0), kept),
        _Column("deleted_by_id", "int", data.reporter, kept),
        _Column("version", "int", np.ones(n, dtype=np.int64)),
        _Column("strand_mask", "int", _strand_masks(writer, n, *data.strands)),
        _Column("map_cell", "int", *_map_cells(data)),
    ])
    rows, strands = data.strands
    writer.write(incident_strands.name, [
        _Column("incident_id", "int", ids[rows]),
        _Column("strand_code", "text", labels(s[0] for s in DEFAULT_STRANDS)[strands]),
    ])
    for table, (rows, other), column in (
        (incident_recipients, data.recipients, "user_id"),
        (incident_organisations, data.listed_orgs, "organisation_id"),
        (incident_triggers, data.triggers, "trigger_event_id"),
    ):
        first = "incident_id" if table is incident_triggers else "record_id"
        writer.write(table.name, [_Column(first, "int", ids[rows]), _Column(column, "int", other)])


def _map_cells(data: _IncidentData) -> tuple[np.ndarray, np.ndarray]:
    """reference.map_cell for every incident, vectorised; and where there is none."""
    located = ~np.isnan(data.latitude)
    lat = np.where(located, data.latitude, 0.0)
    lon = np.where(located, data.longitude, 0.0)
    exact = data.location == list(LocationPrecision).index(LocationPrecision.EXACT)
    approximate = data.location == list(LocationPrecision).index(LocationPrecision.APPROXIMATE)
    fine = np.floor((lat + 90) * 100).astype(np.int64) * 40_000 + np.floor((lon + 180) * 100).astype(np.int64)
    coarse = APPROXIMATE_CELL_OFFSET + np.floor((lat + 90) * 10).astype(np.int64) * 4_000 + np.floor((lon + 180) * 10).astype(np.int64)
    cells = np.where(exact, fine, coarse)
    return cells, ~located | ~(exact | approximate)


def _strand_masks(writer: _BulkWriter, n: int, rows: np.ndarray, strands: np.ndarray) -> np.ndarray:
    """Each incident's strands as the bits the database gives them (Strand.bit)."""
    bits = dict(writer.conn.execute(select(Strand.code, Strand.bit)).all())
    bit_of = np.array([bits[code] for code, _label, _local in DEFAULT_STRANDS], dtype=np.int64)
    masks = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(masks, rows, np.left_shift(1, bit_of[strands]))
    return masks


# --- tension assessments -----------------------------------------------------------------------

EXPERIENCED = (
    "Community groups report heightened anxiety after recent online rumours.",
    "Faith leaders report worshippers feel less safe travelling to services.",
    "Council staff report more abuse directed at frontline workers.",
    "Residents' groups report tension around an accommodation site.",
    "Youth workers report young people being approached by organised groups.",
    "Partners report no noticeable change in community mood.",
)
RATIONALES = {
    Trend.RISING: "Shared incident reports are above this district's usual level and partners "
                  "report rising concern.",
    Trend.STABLE: "Shared incident reports are close to this district's usual level.",
    Trend.FALLING: "Activity has eased since the last assessment; partners report calmer "
                   "conditions.",
}


@dataclass(frozen=True)
class _Activity:
    """Running totals of shared incidents per (district, day), to count any window quickly."""

    incidents: np.ndarray
    hate_crimes: np.ndarray

    @classmethod
    def of(cls, plan: _Plan, data: _IncidentData) -> _Activity:
        shared = data.shared
        hate = shared & _hate_crime(data.category)
        return cls(_running_totals(plan, data, shared), _running_totals(plan, data, hate))

    def last_28_days(self, area: int, day: int) -> tuple[int, int]:
        """(shared incidents, shared hate crimes) in the district in the 28 days up to `day`."""
        start = max(day - 28, 0)
        return (int(self.incidents[area, day] - self.incidents[area, start]),
                int(self.hate_crimes[area, day] - self.hate_crimes[area, start]))


def _running_totals(plan: _Plan, data: _IncidentData, rows: np.ndarray) -> np.ndarray:
    n_areas = len(plan.areas.codes)
    keys = data.area[rows] * plan.days + data.day[rows]
    counts = np.bincount(keys, minlength=n_areas * plan.days).reshape(n_areas, plan.days)
    return np.cumsum(counts, axis=1)


def _add_assessments(
    conn: Connection, plan: _Plan, people: _People, triggers: list[_Trigger],
    data: _IncidentData,
) -> None:
    """Roughly monthly tension assessments per district over the last two years."""
    rng = plan.rng("assessments")
    activity = _Activity.of(plan, data)
    usual = activity.incidents[:, -1] / plan.days * 28  # shared incidents in a usual 28 days
    rank = np.argsort(np.argsort(usual / plan.areas.population))
    assessors = _assessing_orgs(plan, people)
    assessments, indicators, listed = [], [], []
    for area in range(len(plan.areas.codes)):
        if area in plan.hotspots:
            base = 3
        else:
            base = 2 if rank[area] >= 2 * len(rank) // 3 else 1
        previous = base
        for months_ago in range(24, 0, -1):
            assessed = _months_before(plan.today, months_ago)
            assessed += timedelta(days=int(rng.integers(0, 27)))
            if rng.random() < 0.08 or assessed >= plan.today:
                continue  # roughly monthly: sometimes an assessment is skipped
            recent, hate = activity.last_28_days(area, plan.day_index(assessed))
            upcoming = _upcoming(triggers, area, assessed)
            level = _tension_level(rng, base, (recent + 8) / (usual[area] + 8), upcoming)
            trend = (Trend.RISING if level > previous
                     else Trend.FALLING if level < previous else Trend.STABLE)
            previous = level
            assessment_id = len(assessments) + 1
            org = assessors[area]
            reporters = people.members_of(org)
            amber = rng.random() < 0.08
            stamp = _at(assessed, int(rng.integers(9, 17)))
            assessments.append({
                "id": assessment_id, "area_code": plan.areas.codes[area],
                "assessed_on": assessed, "level": level, "trend": trend,
                "confidence": list(Confidence)[int(rng.choice(
                    3, p=[0.15, 0.55, 0.3] if recent >= 5 else [0.4, 0.5, 0.1]))],
                "rationale": f"{RATIONALES[trend]} Level {level} agreed with local partners.",
                "source_org_id": org + 1,
                "reporter_id": reporters[int(rng.integers(len(reporters)))].id,
                "review_on": assessed + timedelta(days=30),
                "marking": Marking.AMBER if amber else Marking.GREEN,
                "created_at": stamp, "updated_at": stamp, "deleted_at": None, "version": 1,
            })
            evidence = _indicators(rng, assessed, recent, hate, upcoming)
            indicators += [
                {"id": len(indicators) + i + 1, "assessment_id": assessment_id,
                 "description": description, "evidence_type": kind}
                for i, (description, kind) in enumerate(evidence)
            ]
            if amber:
                listed.append({"record_id": assessment_id,
                               "organisation_id": _amber_partner(plan, area, org) + 1})
    conn.execute(TensionAssessment.__table__.insert(), assessments)
    conn.execute(TensionIndicator.__table__.insert(), indicators)
    if listed:
        conn.execute(assessment_organisations.insert(), listed)


def _tension_level(
    rng: np.random.Generator, base: int, ratio: float, upcoming: _Trigger | None
) -> int:
    """1-5 from the district's usual level, its recent activity against usual, and what's ahead.

    `ratio` carries pseudo-counts so that one busy month in a quiet district is not a surge.
    """
    level = base + int(ratio > 1.6) + int(ratio > 2.4)
    level += int(rng.choice([-1, 0, 1], p=[0.15, 0.7, 0.15]))
    level += int(upcoming is not None and rng.random() < 0.3)
    # Critical (5) only where activity really surged, as after the shock event.
    return int(np.clip(level, 1, 5 if ratio > 2.2 else 4))


def _indicators(
    rng: np.random.Generator, assessed: date, recent: int, hate: int, upcoming: _Trigger | None
) -> list[tuple[str, EvidenceType]]:
    """1-3 indicators: what was recorded, what people report, and what is coming."""
    ahead = (f"Upcoming: {upcoming.title} on {upcoming.starts:%d %B %Y}." if upcoming
             else "No major trigger events in the next eight weeks.")
    evidence = [
        (f"{recent} shared incidents recorded in the 28 days to {assessed:%d %B %Y}, "
         f"{hate} of them hate crimes.", EvidenceType.EVIDENCED),
        (EXPERIENCED[int(rng.integers(len(EXPERIENCED)))], EvidenceType.EXPERIENCED),
        (ahead, EvidenceType.POTENTIAL),
    ]
    return evidence[: int(rng.integers(1, 4))]


def _amber_partner(plan: _Plan, area: int, own: int) -> int:
    """Who an AMBER assessment is shared with: the district's police force if a member."""
    coverage = _coverage(plan)
    police = [o for o, s in enumerate(ORGANISATIONS) if s.kind == "police" and o != own]
    local = [o for o in police if coverage[o, area]]
    return (local or police)[0]


def _assessing_orgs(plan: _Plan, people: _People) -> list[int]:
    """Per district: its member council, else its member police force, else its region's network."""
    coverage = _coverage(plan)
    out = []
    for area in range(len(plan.areas.codes)):
        for kind in ("council", "police", "network"):
            found = [o for o, s in enumerate(ORGANISATIONS)
                     if s.kind == kind and coverage[o, area] and people.members_of(o)]
            if found:
                out.append(found[0])
                break
        else:
            raise DemoDataError(f"No organisation can assess {plan.areas.names[area]}.")
    return out


def _upcoming(triggers: list[_Trigger], area: int, day: date) -> _Trigger | None:
    """The next trigger event within eight weeks that concerns this district."""
    for t in triggers:
        if day < t.starts <= day + timedelta(weeks=8) and (t.region_wide or area in t.areas):
            return t
    return None


def _months_before(day: date, months: int) -> date:
    """The first day of the month `months` before day's month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


# --- meetings and actions ----------------------------------------------------------------------

ACTION_TEMPLATES = (
    "Circulate the myth-rebuttal fact sheet to ward councillors in {area}",
    "Arrange removal of stickers and graffiti reported in {area} within 48 hours",
    "Brief faith leaders in {area} on reassurance patrols",
    "Share the joint party statement with party agents ahead of polling day",
    "Review tension assessments for districts at level 3 or higher and report back",
    "Map victim-support referral routes for partners in {area}",
    "Prepare the regional briefing for the national policy team",
    "Agree a joint response protocol for protests near accommodation sites",
    "Run a community listening event in {area}",
    "Update the partnership's guidance on reporting online misinformation",
    "Contact venue operators about the advertised speaker event in {area}",
    "Draft agreed press lines for use after a national incident",
    "Check data-sharing agreement renewals with member organisations",
    "Plan the annual conference on tackling organised hate",
)
UPDATE_NOTES = {
    ActionStatus.IN_PROGRESS: "Work started; first contacts made.",
    ActionStatus.BLOCKED: "Waiting on a partner's sign-off.",
    ActionStatus.DONE: "Completed and reported back to the group.",
    ActionStatus.DROPPED: "No longer needed; agreed by the chair.",
}
# Status shares of actions whose due date is over a year ago, long past, recently past, and
# still ahead: the chair closes old actions, so the overdue ones are mostly recent.
ACTION_STATUSES = {
    "old": ((ActionStatus.DONE, 0.88), (ActionStatus.DROPPED, 0.12)),
    "long past": ((ActionStatus.DONE, 0.72), (ActionStatus.DROPPED, 0.08),
                  (ActionStatus.IN_PROGRESS, 0.12), (ActionStatus.NOT_STARTED, 0.04),
                  (ActionStatus.BLOCKED, 0.04)),
    "past": ((ActionStatus.DONE, 0.5), (ActionStatus.IN_PROGRESS, 0.3),
             (ActionStatus.BLOCKED, 0.1), (ActionStatus.NOT_STARTED, 0.1)),
    "ahead": ((ActionStatus.NOT_STARTED, 0.35), (ActionStatus.IN_PROGRESS, 0.5),
              (ActionStatus.BLOCKED, 0.05), (ActionStatus.DONE, 0.1)),
}


@dataclass(frozen=True)
class _MeetingSpec:
    held: date
    kind: MeetingKind
    title: str


def _meeting_dates(plan: _Plan) -> list[_MeetingSpec]:
    """Quarterly meetings (second Wednesday of Mar, Jun, Sep, Dec), two after the shock, and
    the next quarterly meeting, already scheduled (an agenda, no minutes yet)."""
    out = []
    for year in range(plan.start.year, plan.today.year + 2):
        for month in (3, 6, 9, 12):
            first = date(year, month, 1)
            held = first + timedelta(days=(2 - first.weekday()) % 7 + 7)
            if held < plan.start:
                continue
            out.append(_MeetingSpec(held, MeetingKind.QUARTERLY, f"Quarterly meeting, {held:%B %Y}"))
            if held >= plan.today:
                break
        if out and out[-1].held >= plan.today:
            break
    out.append(_MeetingSpec(plan.shock + timedelta(days=9), MeetingKind.EXTRAORDINARY,
                            "Extraordinary meeting after the national shock event"))
    out.append(_MeetingSpec(plan.shock + timedelta(days=20), MeetingKind.COMMUNITY_BRIEFING,
                            "Community briefing: reassurance after the national shock event"))
    return sorted(out, key=lambda m: m.held)


def _add_meetings(
    conn: Connection, plan: _Plan, people: _People, triggers: list[_Trigger],
    data: _IncidentData,
) -> None:
    """Meetings with attendance, agenda and minutes; 3-6 actions each with their history."""
    rng = plan.rng("meetings")
    chair = people.first(Role.CHAIR)
    shared = data.shared
    per_day = np.bincount(data.day[shared], minlength=plan.days)
    hate_per_day = np.bincount(data.day[shared & _hate_crime(data.category)],
                               minlength=plan.days)
    shock = next(t for t in triggers if t.kind == TriggerKind.NATIONAL_INCIDENT)
    meetings, attendance, actions, updates = [], [], [], []
    links: dict[Table, set[tuple]] = {action_areas: set(), action_triggers: set(),
                                      action_incidents: set()}
    for number, spec in enumerate(_meeting_dates(plan), start=1):
        if spec.held >= plan.today:  # scheduled: the agenda is out, nothing else yet
            meetings.append({
                "id": number, "held_on": spec.held, "kind": spec.kind, "title": spec.title,
                "agenda": _agenda(spec), "created_by_id": chair.id, "minutes": "",
                "created_at": _at(plan.today - timedelta(days=7), 10), "deleted_at": None, "version": 1,
            })
            continue
        d = plan.day_index(spec.held)
        quarter, previous = slice(max(d - 91, 0), d), slice(max(d - 182, 0), max(d - 91, 0))
        busiest = _busiest_areas(plan, data, shared, d)
        orgs = _attendees(plan, rng, spec.held)
        meetings.append({
            "id": number, "held_on": spec.held, "kind": spec.kind, "title": spec.title,
            "agenda": _agenda(spec), "created_by_id": chair.id,
            "minutes": _minutes(len(orgs), int(per_day[quarter].sum()),
                                int(per_day[previous].sum()), int(hate_per_day[quarter].sum()),
                                [plan.areas.names[a] for a in busiest]),
            "created_at": _at(spec.held, 18), "deleted_at": None, "version": 1,
        })
        attendance += [{"meeting_id": number, "organisation_id": o + 1} for o in orgs]
        election = next((t for t in triggers if t.kind == TriggerKind.ELECTION
                         and spec.held < t.starts <= spec.held + timedelta(days=100)), None)
        for _ in range(int(rng.integers(3, 7))):
            action_id = len(actions) + 1
            template = ACTION_TEMPLATES[int(rng.integers(len(ACTION_TEMPLATES)))]
            area = int(rng.choice(busiest)) if "{area}" in template else None
            owner = orgs[int(rng.integers(len(orgs)))]
            action, history = _action(plan, rng, people, action_id, number, spec.held,
                                      template, area, owner)
            actions.append(action)
            updates += [{**u, "id": len(updates) + i + 1} for i, u in enumerate(history)]
            if area is not None:
                links[action_areas].add((action_id, plan.areas.codes[area]))
                prompted = _serious_incident(data, shared, area, d)
                if prompted is not None:
                    links[action_incidents].add((action_id, prompted))
            if spec.kind != MeetingKind.QUARTERLY:
                links[action_triggers].add((action_id, shock.id))
            elif election and "joint party statement" in template:
                links[action_triggers].add((action_id, election.id))
    conn.execute(Meeting.__table__.insert(), meetings)
    conn.execute(meeting_attendance.insert(), attendance)
    conn.execute(Action.__table__.insert(), actions)
    if updates:
        conn.execute(ActionUpdate.__table__.insert(), updates)
    for table, pairs in links.items():
        if pairs:
            names = [c.name for c in table.columns]
            conn.execute(table.insert(), [dict(zip(names, p, strict=True)) for p in sorted(pairs)])


def _serious_incident(data: _IncidentData, shared: np.ndarray, area: int, day: int):
    """Id of the latest shared serious incident in the district in the 91 days before `day`."""
    lo, hi = np.searchsorted(data.day, day - 91), np.searchsorted(data.day, day)
    serious = shared[lo:hi] & (data.area[lo:hi] == area) & (data.severity[lo:hi] >= 3)
    rows = np.flatnonzero(serious)
    return int(lo + rows[-1]) + 1 if rows.size else None


def _busiest_areas(plan: _Plan, data: _IncidentData, shared: np.ndarray, day: int) -> list[int]:
    """The three districts with most shared incidents per head in the 91 days before `day`."""
    lo, hi = np.searchsorted(data.day, day - 91), np.searchsorted(data.day, day)
    window = data.area[lo:hi][shared[lo:hi]]
    per_head = np.bincount(window, minlength=len(plan.areas.codes)) / plan.areas.population
    return [int(a) for a in np.argsort(-per_head, kind="stable")[:3]]


def _attendees(plan: _Plan, rng: np.random.Generator, held: date) -> list[int]:
    """8-15 organisations: always the chair's, usually SCI's, the leaver only before it left."""
    left_on = plan.today - timedelta(days=LEFT_DAYS_AGO)
    chair, sci = _org_index(CHAIR_ORG), _org_index(SCI_ORG)
    others = [
        o for o, s in enumerate(ORGANISATIONS)
        if o not in (chair, sci) and (s.status == MembershipStatus.ACTIVE or held < left_on)
    ]
    chosen = [chair] + ([sci] if rng.random() < 0.8 else [])
    count = int(rng.integers(8, 16)) - len(chosen)
    chosen += [int(o) for o in rng.choice(others, count, replace=False)]
    return sorted(chosen)


def _agenda(spec: _MeetingSpec) -> str:
    if spec.kind == MeetingKind.EXTRAORDINARY:
        items = ["Situation report after the national shock event",
                 "District tension assessments", "Community reassurance and joint messaging",
                 "Planned protests in the coming weeks", "Actions and next steps"]
    elif spec.kind == MeetingKind.COMMUNITY_BRIEFING:
        items = ["What partners are seeing", "Support for affected communities",
                 "Questions from community groups"]
    else:
        items = ["Welcome, apologies and minutes of the last meeting",
                 "Trends since the last meeting", "Tension assessments at elevated or higher",
                 "Trigger events in the coming quarter", "Review of actions",
                 "Any other business"]
        if spec.held.month == 3:
            items.insert(3, "Election run-up: leaflet monitoring and the joint party statement")
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def _minutes(attended: int, recent: int, before: int, hate: int, busiest: list[str]) -> str:
    """Minutes quoting only shared (GREEN or CLEAR) records, since every partner reads them."""
    if before >= 10:
        change = f"{(recent - before) / before:+.0%} on the quarter before"
    else:
        change = "too few to compare"
    return (
        f"Demo minutes (synthetic data). {attended} organisations attended. The group reviewed "
        f"{recent:,} shared incidents in the 13 weeks before the meeting ({change}), of which "
        f"{hate:,} were hate crimes. Activity per head was highest in {', '.join(busiest)}. "
        "The group agreed the actions below."
    )


def _action(
    plan: _Plan, rng: np.random.Generator, people: _People, action_id: int, meeting_id: int,
    held: date, template: str, area: int | None, owner: int,
) -> tuple[dict, list[dict]]:
    """One action with a status fitting its age (some overdue) and its update history."""
    due = held + timedelta(days=int(rng.integers(30, 92)))
    if due < plan.today - timedelta(days=365):
        age = "old"
    elif due < plan.today - timedelta(days=60):
        age = "long past"
    else:
        age = "past" if due < plan.today else "ahead"
    statuses, shares = zip(*ACTION_STATUSES[age], strict=True)
    status = statuses[int(rng.choice(len(statuses), p=shares))]
    progress = {ActionStatus.DONE: 100, ActionStatus.NOT_STARTED: 0}.get(
        status, int(rng.integers(1, 19)) * 5
    )
    members = people.members_of(owner)
    editor = members[0] if members else people.first(Role.CHAIR)
    end = min(due, plan.today - timedelta(days=1))
    history: list[dict] = []
    if status != ActionStatus.NOT_STARTED and end > held:
        steps = int(rng.integers(1, 4))
        offsets = sorted(int(x) for x in rng.integers(1, max((end - held).days, 2), steps))
        for i, offset in enumerate(offsets):
            last = i == steps - 1
            step = status if last else ActionStatus.IN_PROGRESS
            history.append({
                "action_id": action_id, "user_id": editor.id,
                "at": _at(held + timedelta(days=offset), 11), "status": step,
                "progress": progress if last else _partial(progress, i + 1, steps + 1),
                "note": UPDATE_NOTES.get(step, ""),
            })
    created = _at(held, 17)
    action = {
        "id": action_id, "meeting_id": meeting_id,
        "description": template.format(area=plan.areas.names[area]) if area is not None
        else template,
        "owner_org_id": owner + 1, "lead": editor.name if members else _fictional_name(rng),
        "due_on": due, "status": status, "progress": progress, "created_at": created,
        "updated_at": history[-1]["at"] if history else created, "deleted_at": None,
        "version": 1,
    }
    return action, history


def _partial(progress: int, step: int, steps: int) -> int:
    """Progress at an intermediate update: a share of the final figure, in steps of 5 (min 5)."""
    return max(5, progress * step // steps // 5 * 5)


def _fictional_name(rng: np.random.Generator) -> str:
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    return f"{first} {LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]}"


# --- resources and settings --------------------------------------------------------------------

RESOURCES = (  # kind, title, topic, organisation, published (years after the period starts)
    (ResourceKind.GOOD_PRACTICE, "Responding to far-right leafleting: a guide for councils",
     "elections", "wmcn", 0.6),
    (ResourceKind.GOOD_PRACTICE, "Removing hate stickers and graffiti within 48 hours",
     "stickers and graffiti", "bcc", 1.4),
    (ResourceKind.GOOD_PRACTICE, "Community reassurance after a national incident: a checklist",
     "community reassurance", "mif", 3.2),
    (ResourceKind.FACT_SHEET, "Asylum accommodation: common myths answered",
     "asylum and migration", "rasn", 1.1),
    (ResourceKind.FACT_SHEET, "Migration and local services: the facts",
     "asylum and migration", "ca", 2.3),
    (ResourceKind.FACT_SHEET, "Spotting and reporting online misinformation",
     "online misinformation", "mrec", 3.6),
    (ResourceKind.PUBLICATION, "Partnership annual report", "annual report", "mrec", 1.9),
    (ResourceKind.PUBLICATION, "Conference report: tackling organised hate in the Midlands",
     "conference", "tuc", 2.8),
)
# What each resource (by title) says, and the districts it is about (none: the whole region).
RESOURCE_SUMMARIES = {
    "Responding to far-right leafleting: a guide for councils":
        "Who to tell, how to record a leaflet drop, when to remove leaflets and how to reassure residents.",
    "Removing hate stickers and graffiti within 48 hours":
        "How one council's street teams, housing officers and the police report and remove hate stickers.",
    "Community reassurance after a national incident: a checklist":
        "The first 72 hours: contacting faith leaders, visible patrols, a shared message and checking on tension.",
    "Asylum accommodation: common myths answered":
        "Answers, with sources, to the rumours most often heard about hotels and housing for people seeking asylum.",
    "Migration and local services: the facts":
        "What the figures say about migration, GP lists, school places and housing waiting lists.",
    "Spotting and reporting online misinformation":
        "How to recognise a false story, where to report it, and how to answer it without spreading it.",
    "Partnership annual report": "The year's meetings, what partners logged, the actions agreed and what came of them.",
    "Conference report: tackling organised hate in the Midlands":
        "Talks and workshop notes from the partnership's conference on organised hate.",
}
RESOURCE_AREAS = {  # GSS codes
    "Responding to far-right leafleting: a guide for councils": (
        "E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031"),
    "Removing hate stickers and graffiti within 48 hours": ("E08000025",),
}
STATEMENT = (
    "Joint statement by political parties on respectful campaigning",
    "Parties standing in the region commit not to exploit race, religion or migration for votes.",
)
ADOPTIONS = 40


def _add_resources(conn: Connection, plan: _Plan, people: _People) -> None:
    """Guides, fact sheets and publications, the joint party statement and its adoptions."""
    rng = plan.rng("resources")
    chair, admin = people.first(Role.CHAIR), people.first(Role.ADMIN)
    rows = [
        (kind, title, f"{RESOURCE_SUMMARIES.get(title, '')} (Synthetic demo resource.)".strip(), topic, org,
         plan.start + timedelta(days=int(years * 365)))
        for kind, title, topic, org, years in RESOURCES
    ]
    # Published ten weeks before the second local elections of the period.
    elections = plan.past_local_elections
    statement_day = elections[min(1, len(elections) - 1)] - timedelta(days=75)
    rows.append((ResourceKind.STATEMENT, *STATEMENT, "elections", CHAIR_ORG, statement_day))
    conn.execute(Resource.__table__.insert(), [
        {"id": i + 1, "kind": kind, "title": title, "summary": summary, "topic": topic,
         "link": f"https://resources.partnership.example/{i + 1}", "added_by_id": chair.id,
         "organisation_id": _org_index(org) + 1, "published_on": published,
         "created_at": _at(published, 12), "deleted_at": None}
        for i, (kind, title, summary, topic, org, published) in enumerate(rows)
    ])
    known = set(plan.areas.codes)
    linked = [{"resource_id": i + 1, "area_code": code}
              for i, (_kind, title, *_rest) in enumerate(rows) for code in RESOURCE_AREAS.get(title, ())
              if code in known]
    if linked:
        conn.execute(resource_areas.insert(), linked)
    # Districts adopt it in the weeks before one of the local elections that follow.
    later = [e for e in elections if e > statement_day] or [plan.today]
    adopting = np.sort(rng.choice(len(plan.areas.codes), ADOPTIONS, replace=False))
    adoptions = []
    for i, area in enumerate(adopting):
        polling = later[int(rng.integers(len(later)))]
        adopted = polling - timedelta(days=int(rng.integers(7, 60)))
        adoptions.append({
            "id": i + 1, "statement_id": len(rows), "area_code": plan.areas.codes[area],
            "adopted_on": min(max(adopted, statement_day + timedelta(days=1)), plan.today),
            "notes": "Adopted by full council.", "recorded_by_id": admin.id,
        })
    conn.execute(StatementAdoption.__table__.insert(), adoptions)


def _add_settings(conn: Connection, plan: _Plan, incidents: int) -> None:
    """Mark the database as synthetic demo data, so the app can say so on every page."""
    values = {
        "demo_mode": "true",
        "demo_seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "demo_parameters": f"incidents={incidents}; seed={plan.seed}; today={plan.today}",
    }
    table = AppSetting.__table__
    conn.execute(table.delete().where(table.c.key.in_(values)))
    conn.execute(table.insert(), [{"key": k, "value": v} for k, v in values.items()])


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
