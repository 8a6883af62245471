"""The shared database on SQLite and PostgreSQL: schema, reference data and the guarantees
the rest of the app relies on (append-only audit, optimistic locking, checks, UTC, cascades)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from dashboard.database import Database, SchemaNotReady, schema_is_current, upgrade_schema
from dashboard.geography import load_reference_data
from dashboard.models import (
    Area,
    AreaSuccession,
    AuditEvent,
    Base,
    Incident,
    IncidentCategory,
    Strand,
    TensionAssessment,
    User,
    incident_organisations,
    incident_recipients,
    incident_strands,
)
from dashboard.reference import Marking
from dashboard.search import is_search_object
from tests.conftest import add_incident

COUNTS = {"areas": 65, "successions": 7, "categories": 12, "strands": 7}


@pytest.fixture
def empty_db(request, backend, tmp_path):
    """A database with nothing in it, on each backend."""
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    pg = request.getfixturevalue("postgres_databases")
    name = f"{pg.prefix}_empty_{uuid.uuid4().hex[:8]}"
    pg._execute(f'CREATE DATABASE "{name}"')
    pg.created.append(name)
    database = Database(pg.url(name))
    yield database
    database.dispose()
    pg.drop(pg.url(name))


def count(db: Database, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


# --- schema -----------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_models_schema(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_name": lambda name, type_, parent: not is_search_object(name),
        })
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_schema_is_safe_to_run_again(db, people):
    upgrade_schema(db)
    upgrade_schema(db)

    assert schema_is_current(db)
    assert count(db, Area) == 65
    assert count(db, User) == 6, "re-running the upgrade keeps the records"


def test_an_empty_database_is_not_current_and_says_to_run_init_db(empty_db):
    assert schema_is_current(empty_db) is False
    with pytest.raises(SchemaNotReady, match="has no schema") as refused:
        schema_is_current(empty_db, raise_if_not=True)
    assert "init-db" in str(refused.value)


def test_an_empty_database_becomes_current_after_upgrade(empty_db):
    upgrade_schema(empty_db)

    assert schema_is_current(empty_db, raise_if_not=True) is True


# --- reference data ---------------------------------------------------------------------------


def test_the_65_midlands_districts_are_loaded_with_their_populations(db):
    with db.session() as session:
        areas = {a.code: a for a in session.scalars(select(Area))}

    assert len(areas) == 65
    assert sum(a.population for a in areas.values()) > 10_000_000
    assert all(a.population > 0 for a in areas.values())
    assert {a.region for a in areas.values()} == {"East Midlands", "West Midlands"}
    rutland = areas["E06000017"]
    assert (rutland.name, rutland.police_force) == ("Rutland", "Leicestershire Police")
    assert "E06000013" not in areas, "North Lincolnshire is in Yorkshire and the Humber"


def test_old_northamptonshire_codes_map_to_their_successors(db):
    with db.session() as session:
        successors = {s.old_code: s.new_code for s in session.scalars(select(AreaSuccession))}
        corby = session.get(AreaSuccession, "E07000150")
        assert (corby.old_name, corby.ended_on) == ("Corby", date(2021, 3, 31))

    assert successors["E07000150"] == "E06000061"  # Corby -> North Northamptonshire
    assert successors["E07000154"] == "E06000062"  # Northampton -> West Northamptonshire
    assert "E10000021" not in successors, "the county council split in two: no single successor"
    assert len(successors) == 7


def test_loading_the_reference_data_again_duplicates_nothing_and_keeps_admin_edits(db):
    with db.session() as session:
        session.get(IncidentCategory, "literature").label = "Leaflets and flyers"
        session.get(Strand, "subculture").active = False

    with db.session() as session:
        assert load_reference_data(session) == COUNTS
    with db.session() as session:
        assert load_reference_data(session) == COUNTS

    assert count(db, Area) == 65
    assert count(db, AreaSuccession) == 7
    assert count(db, IncidentCategory) == 12
    assert count(db, Strand) == 7
    with db.session() as session:
        assert session.get(IncidentCategory, "literature").label == "Leaflets and flyers"
        assert session.get(Strand, "subculture").active is False


# --- audit log --------------------------------------------------------------------------------


@pytest.fixture
def audit_event_id(db) -> int:
    with db.session() as session:
        event = AuditEvent(action="export", actor="pat@police.example", reason="quarterly report")
        session.add(event)
        session.flush()
        return event.id


def assert_unchanged(db: Database, event_id: int) -> None:
    with db.session() as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None, "the audit event is still there"
        assert (event.action, event.reason) == ("export", "quarterly report")


def test_audit_events_can_be_added(db, audit_event_id):
    with db.session() as session:
        session.add(AuditEvent(action="view restricted", reason="safeguarding referral"))
    assert count(db, AuditEvent) == 2
    assert_unchanged(db, audit_event_id)


def test_audit_events_cannot_be_changed_through_the_session(db, audit_event_id):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session() as session:
            session.get(AuditEvent, audit_event_id).reason = "nothing to see"
    assert_unchanged(db, audit_event_id)

    with pytest.raises(DBAPIError, match="append-only"):
        with db.session() as session:
            session.delete(session.get(AuditEvent, audit_event_id))
    assert_unchanged(db, audit_event_id)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET reason = 'nothing to see'", "DELETE FROM audit_events"],
)
def test_audit_events_cannot_be_changed_with_sql(db, audit_event_id, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert_unchanged(db, audit_event_id)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_audit_events_cannot_be_truncated_on_postgresql(db, audit_event_id):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
    assert_unchanged(db, audit_event_id)


# --- optimistic locking, checks, time, cascades ------------------------------------------------


def test_a_stale_edit_is_refused_and_the_first_edit_kept(db, people):
    with db.session() as session:
        incident_id = add_incident(session, session.get(User, people.police_member.id), Marking.GREEN).id

    first, second = db.factory(), db.factory()
    try:
        mine = first.get(Incident, incident_id)
        theirs = second.get(Incident, incident_id)
        assert mine.version == theirs.version == 1
        mine.title = "Leaflets at the mosque car park"
        theirs.title = "Leaflets near the mosque"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()

    with db.session() as session:
        stored = session.get(Incident, incident_id)
        assert stored.title == "Leaflets at the mosque car park"
        assert stored.version == 2


def test_an_unknown_marking_is_refused_by_the_database(db, people):
    with pytest.raises(IntegrityError):
        with db.session() as session:
            incident = add_incident(session, session.get(User, people.police_member.id), Marking.GREEN)
            session.execute(
                update(Incident.__table__).where(Incident.id == incident.id).values(marking="TLP:PURPLE")
            )
    with pytest.raises(IntegrityError):
        with db.session() as session:
            pat = session.get(User, people.police_member.id)
            session.add(Incident(category_code="literature", occurred_on=date(2026, 10, 1),
                                 area_code="E08000025", title="x", source_org_id=pat.organisation_id,
                                 reporter_id=pat.id, marking="TLP:PURPLE"))
    assert count(db, Incident) == 0


@pytest.mark.parametrize(("level", "accepted"), [(0, False), (1, True), (5, True), (6, False)])
def test_tension_levels_run_from_1_to_5(db, people, level, accepted):
    def assess():
        with db.session() as session:
            chris = session.get(User, people.charity_chair.id)
            session.add(TensionAssessment(area_code="E06000016", assessed_on=date(2026, 10, 1),
                                          level=level, source_org_id=chris.organisation_id,
                                          reporter_id=chris.id))

    if accepted:
        assess()
        assert count(db, TensionAssessment) == 1
    else:
        with pytest.raises(IntegrityError):
            assess()
        assert count(db, TensionAssessment) == 0


def test_times_are_stored_in_utc_and_come_back_timezone_aware(db):
    # 13:30 on a summer day in London is 12:30 UTC (BST).
    london = datetime(2026, 7, 1, 13, 30, tzinfo=ZoneInfo("Europe/London"))
    with db.session() as session:
        event = AuditEvent(action="sign in", at=london)
        session.add(event)
        session.flush()
        event_id = event.id

    with db.session() as session:
        at = session.get(AuditEvent, event_id).at
        stored = session.execute(text("SELECT at FROM audit_events WHERE id = :id"), {"id": event_id}).scalar()
    assert at == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert at.tzinfo is UTC
    assert str(stored).startswith("2026-07-01 12:30"), "other tools reading the table see UTC"


def test_defaults_are_timezone_aware_utc(db):
    with db.session() as session:
        event = AuditEvent(action="sign in")
        session.add(event)
        session.flush()
        event_id = event.id
    with db.session() as session:
        at = session.get(AuditEvent, event_id).at
    assert at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - at).total_seconds()) < 60


def test_a_naive_datetime_is_refused(db):
    with pytest.raises(StatementError, match="naive datetime"):
        with db.session() as session:
            session.add(AuditEvent(action="sign in", at=datetime(2026, 7, 1, 13, 30)))
    assert count(db, AuditEvent) == 0


def test_deleting_an_incident_removes_its_strands_recipients_and_listed_orgs(db, people):
    with db.session() as session:
        pat = session.get(User, people.police_member.id)
        chris = session.get(User, people.charity_chair.id)
        doomed = add_incident(session, pat, Marking.AMBER, recipients=[chris], listed=[chris.organisation])
        doomed.strands = [session.get(Strand, "race"), session.get(Strand, "religion")]
        kept = add_incident(session, pat, Marking.GREEN)
        kept.strands = [session.get(Strand, "race")]
        session.flush()
        doomed_id, kept_id = doomed.id, kept.id

    with db.engine.begin() as connection:  # in the database itself, not the ORM's bookkeeping
        connection.execute(delete(Incident.__table__).where(Incident.id == doomed_id))

    with db.session() as session:
        assert session.get(Incident, kept_id) is not None
        assert session.execute(select(incident_strands.c.incident_id)).scalars().all() == [kept_id]
        for table in (incident_recipients, incident_organisations):
            assert session.scalar(select(func.count()).select_from(table)) == 0
        assert session.scalar(select(func.count()).select_from(Strand)) == 7, "strands themselves stay"
