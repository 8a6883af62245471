"""The demo data: deterministic, realistic, consistent, and safe to clear and seed again."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from dashboard import demo, geography, passwords
from dashboard.database import Database, upgrade_schema
from dashboard.demo import DemoDataError, clear_records, first_thursday_in_may, seed_demo
from dashboard.models import (
    Action,
    AppSetting,
    Area,
    AuditEvent,
    Incident,
    Meeting,
    Organisation,
    StatementAdoption,
    TensionAssessment,
    User,
    incident_strands,
)
from dashboard.reference import DEFAULT_CATEGORIES, Marking, MeetingKind, Role, Sector

TODAY = date(2026, 11, 23)
INCIDENTS = 5_000
SEED = 7
SHOCK = TODAY - timedelta(days=demo.SHOCK_DAYS_AGO)


def make_db(url: str) -> Database:
    db = Database(url)
    upgrade_schema(db)
    with db.session() as session:
        geography.load_reference_data(session)
    return db


def incident_checksum(db: Database) -> str:
    """A digest of every incident column and strand, read back through the typed models."""
    digest = hashlib.sha256()
    strands = select(incident_strands).order_by(
        incident_strands.c.incident_id, incident_strands.c.strand_code
    )
    with db.engine.connect() as conn:
        for query in (select(Incident.__table__).order_by(Incident.id), strands):
            for row in conn.execute(query):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def scalar(db: Database, sql: str, **params):
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture
def fast_hashing(monkeypatch):
    """Skip argon2 for seeds whose passwords the test never uses (it costs ~0.1 s per user)."""
    monkeypatch.setattr(passwords, "hash_password", lambda password: "not-a-real-hash")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The main demo database; its users get real argon2id hashes, with cheap parameters."""
    db = make_db(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    messages: list[str] = []
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hash_password", cheap.hash)
        sign_ins = seed_demo(
            db, incidents=INCIDENTS, seed=SEED, today=TODAY, progress=messages.append
        )
    yield db, sign_ins, messages
    db.dispose()


@pytest.fixture
def db(seeded) -> Database:
    return seeded[0]


@pytest.fixture
def sqlite_db(tmp_path):
    fresh = make_db(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield fresh
    fresh.dispose()


def test_category_patterns_cover_the_default_categories_in_order():
    assert [c.code for c in demo.CATEGORIES] == [code for code, _label in DEFAULT_CATEGORIES]


def test_counts_are_exact_and_progress_is_reported(seeded):
    db, _sign_ins, messages = seeded
    assert scalar(db, "SELECT count(*) FROM incidents") == INCIDENTS
    assert scalar(db, "SELECT min(id) FROM incidents") == 1
    assert scalar(db, "SELECT max(id) FROM incidents") == INCIDENTS
    assert scalar(db, "SELECT count(*) FROM organisations") == len(demo.ORGANISATIONS)
    assert 25 <= scalar(db, "SELECT count(*) FROM users") <= 40
    assert scalar(db, "SELECT count(*) FROM actors") == len(demo.ACTORS)
    assert any("Writing 5,000 incidents" in m for m in messages)
    assert messages[-1].startswith("Demo data ready")


def test_same_arguments_give_the_same_incidents(seeded, tmp_path, fast_hashing):
    again = make_db(f"sqlite:///{tmp_path / 'again.db'}")
    seed_demo(again, incidents=INCIDENTS, seed=SEED, today=TODAY)
    other_seed = make_db(f"sqlite:///{tmp_path / 'other.db'}")
    seed_demo(other_seed, incidents=INCIDENTS, seed=SEED + 1, today=TODAY)
    assert incident_checksum(again) == incident_checksum(seeded[0])
    assert incident_checksum(other_seed) != incident_checksum(seeded[0])
    again.dispose()
    other_seed.dispose()


def test_every_marking_is_present_with_its_recipients_and_listed_organisations(db):
    with db.engine.connect() as conn:
        query = text("SELECT marking, count(*) FROM incidents GROUP BY marking")
        shares = dict(conn.execute(query).all())
    assert set(shares) == {m.value for m in Marking}
    assert 0.6 < shares[Marking.GREEN] / INCIDENTS < 0.8
    assert scalar(db, """SELECT count(*) FROM incidents i WHERE marking = 'TLP:RED' AND NOT EXISTS
        (SELECT 1 FROM incident_recipients r WHERE r.record_id = i.id)""") == 0
    assert scalar(db, """SELECT count(*) FROM incidents i WHERE marking = 'TLP:AMBER' AND NOT EXISTS
        (SELECT 1 FROM incident_organisations o WHERE o.record_id = i.id)""") == 0
    assert scalar(db, """SELECT count(*) FROM incident_recipients r
        JOIN incidents i ON i.id = r.record_id
        WHERE r.user_id = i.reporter_id OR i.marking != 'TLP:RED'""") == 0
    assert scalar(db, """SELECT count(*) FROM incident_organisations o
        JOIN incidents i ON i.id = o.record_id
        WHERE o.organisation_id = i.source_org_id OR i.marking != 'TLP:AMBER'""") == 0
    # Named recipients come from other organisations too, not only the reporter's.
    assert scalar(db, """SELECT count(*) FROM incident_recipients r
        JOIN incidents i ON i.id = r.record_id JOIN users u ON u.id = r.user_id
        WHERE u.organisation_id != i.source_org_id""") > 0


def test_incidents_are_in_the_65_districts_and_reported_by_their_source(db):
    assert scalar(db, "SELECT count(*) FROM areas") == 65
    assert scalar(db, "SELECT count(DISTINCT area_code) FROM incidents") == 65
    assert scalar(
        db, "SELECT count(*) FROM incidents WHERE area_code NOT IN (SELECT code FROM areas)"
    ) == 0
    assert scalar(db, """SELECT count(*) FROM incidents i JOIN users u ON u.id = i.reporter_id
        WHERE u.organisation_id != i.source_org_id OR u.status != 'active'""") == 0
    police_share = scalar(db, """SELECT avg(CASE WHEN o.name LIKE '%Police%'
        OR o.name LIKE '%Constabulary%' THEN 1.0 ELSE 0.0 END)
        FROM incidents i JOIN organisations o ON o.id = i.source_org_id
        WHERE i.category_code LIKE 'hc-%'""")
    assert police_share > 0.5  # police forces report most hate crime


def test_dates_span_five_years_and_points_lie_in_the_midlands(db):
    with db.session() as session:
        first, last = session.execute(
            select(func.min(Incident.occurred_on), func.max(Incident.occurred_on))
        ).one()
        latest = session.scalar(select(func.max(Incident.updated_at)))
    assert first <= TODAY.replace(year=TODAY.year - 5) and last <= TODAY
    assert latest.date() <= TODAY
    located = scalar(
        db, "SELECT avg(CASE WHEN latitude IS NULL THEN 0.0 ELSE 1.0 END) FROM incidents"
    )
    assert 0.5 < located < 0.7
    assert scalar(db, """SELECT count(*) FROM incidents
        WHERE (latitude IS NULL) != (location_precision = 'area')
        OR latitude NOT BETWEEN 51.7 AND 53.8 OR longitude NOT BETWEEN -3.3 AND 0.4""") == 0
    assert scalar(db, "SELECT count(DISTINCT date_precision) FROM incidents") == 3


def test_leaflets_rise_in_local_election_run_ups(db):
    def leaflets(first: date, last: date) -> int:
        return scalar(db, """SELECT count(*) FROM incidents
            WHERE category_code IN ('literature', 'election')
            AND occurred_on >= :first AND occurred_on < :last""", first=first, last=last)

    run_up = quiet = 0
    for year in range(TODAY.year - 4, TODAY.year + 1):
        polling = first_thursday_in_may(year)
        run_up += leaflets(polling - timedelta(weeks=6), polling)
        quiet += leaflets(polling - timedelta(weeks=19), polling - timedelta(weeks=13))
    assert run_up > 1.5 * quiet


def test_hate_crime_rises_sharply_after_the_shock_event(db):
    def hate_crimes(first: date) -> int:
        return scalar(db, """SELECT count(*) FROM incidents WHERE category_code LIKE 'hc-%'
            AND occurred_on >= :first AND occurred_on < :last""",
                      first=first, last=first + timedelta(weeks=4))

    assert hate_crimes(SHOCK) > 1.8 * hate_crimes(SHOCK - timedelta(weeks=10))
    assert scalar(db, """SELECT count(*) FROM trigger_events
        WHERE kind = 'national incident' AND region_wide AND starts_on = :shock""",
                  shock=SHOCK) == 1


def test_hate_crimes_carry_strands_race_and_religion_most(db):
    assert scalar(db, """SELECT count(*) FROM incidents i WHERE category_code LIKE 'hc-%'
        AND NOT EXISTS (SELECT 1 FROM incident_strands s WHERE s.incident_id = i.id)""") == 0
    with db.engine.connect() as conn:
        ranked = conn.execute(text("""SELECT strand_code FROM incident_strands
            GROUP BY strand_code ORDER BY count(*) DESC""")).scalars().all()
    assert ranked[:2] == ["race", "religion"]
    assert scalar(db, "SELECT count(*) FROM incidents WHERE deleted_at IS NOT NULL") >= 3


def test_the_database_says_it_holds_demo_data(db):
    with db.session() as session:
        settings = {s.key: s.value for s in session.scalars(select(AppSetting))}
    assert settings["demo_mode"] == "true"
    assert "demo_seeded_at" in settings


def test_sign_ins_cover_each_role_with_working_random_passwords(seeded):
    db, sign_ins, _messages = seeded
    expected = [Role.CHAIR, Role.ADMIN, Role.SCI, Role.MEMBER, Role.MEMBER]
    assert sorted(s.role for s in sign_ins) == sorted(expected)
    with db.session() as session:
        users = {s.email: session.scalar(select(User).where(User.email == s.email))
                 for s in sign_ins}
        for sign_in in sign_ins:
            user = users[sign_in.email]
            assert user.role == sign_in.role and user.organisation.name == sign_in.organisation
            assert user.status == "active" and user.organisation.membership_status == "active"
            assert sign_in.email.endswith(".example")
            passwords.check_policy(sign_in.password, email=sign_in.email, name=user.name)
            assert passwords.verify_password(user.password_hash, sign_in.password)
            assert not passwords.verify_password(user.password_hash, sign_in.password + "x")
        members = [users[s.email].organisation for s in sign_ins if s.role == Role.MEMBER]
        assert members[0].id != members[1].id
        assert {m.sector for m in members} == {Sector.STATUTORY, Sector.VOLUNTARY}
        hashes = session.scalars(select(User.password_hash)).all()
    assert len(set(hashes)) == len(hashes)  # every user has a password of their own


def test_tension_assessments_are_roughly_monthly_and_mostly_low(db):
    with db.session() as session:
        levels = dict(session.execute(
            select(TensionAssessment.level, func.count()).group_by(TensionAssessment.level)
        ).all())
        per_area = session.execute(
            select(TensionAssessment.area_code, func.count())
            .group_by(TensionAssessment.area_code)
        ).all()
    assert set(levels) <= {1, 2, 3, 4, 5}
    assert levels[1] + levels[2] > sum(levels.values()) / 2
    assert len(per_area) == 65 and all(18 <= n <= 24 for _area, n in per_area)
    assert scalar(db, """SELECT count(*) FROM tension_assessments t WHERE NOT EXISTS
        (SELECT 1 FROM tension_indicators i WHERE i.assessment_id = t.id)""") == 0
    assert scalar(db, """SELECT count(*) FROM tension_assessments t
        WHERE marking = 'TLP:AMBER' AND NOT EXISTS
        (SELECT 1 FROM tension_assessment_organisations o WHERE o.record_id = t.id)""") == 0


def test_meetings_are_quarterly_with_actions_some_overdue(db):
    with db.session() as session:
        meetings = session.scalars(select(Meeting).order_by(Meeting.held_on)).all()
        *held, scheduled = meetings
        for meeting in held:
            assert 8 <= len(meeting.attendees) <= 15 and 3 <= len(meeting.actions) <= 6
            assert meeting.held_on < TODAY and meeting.minutes
        # the next quarterly meeting is scheduled: an agenda, nothing else yet
        assert scheduled.kind == MeetingKind.QUARTERLY and TODAY <= scheduled.held_on < TODAY + timedelta(92)
        assert scheduled.agenda and not scheduled.minutes and not scheduled.attendees and not scheduled.actions
        overdue = session.scalar(select(func.count()).select_from(Action).where(
            Action.due_on < TODAY, Action.status.not_in(["done", "dropped"])))
        # the chair closes old actions: none due over a year ago is still open
        stale = session.scalar(select(func.count()).select_from(Action).where(
            Action.due_on < TODAY - timedelta(365), Action.status.not_in(["done", "dropped"])))
        done = session.scalar(
            select(func.count()).select_from(Action).where(Action.status == "done")
        )
        adoptions = session.scalar(select(func.count()).select_from(StatementAdoption))
    assert len([m for m in meetings if m.kind == MeetingKind.QUARTERLY]) >= 20
    assert any(m.kind == MeetingKind.EXTRAORDINARY and SHOCK < m.held_on <= SHOCK + timedelta(14)
               for m in meetings)
    assert 0 < overdue < done and stale == 0
    assert adoptions == demo.ADOPTIONS


def test_seeding_a_database_in_use_is_refused(db):
    with pytest.raises(DemoDataError, match="already holds"):
        seed_demo(db, incidents=10, seed=SEED, today=TODAY)
    assert scalar(db, "SELECT count(*) FROM incidents") == INCIDENTS


def test_seeding_needs_the_reference_data(tmp_path):
    bare = Database(f"sqlite:///{tmp_path / 'bare.db'}")
    upgrade_schema(bare)
    with pytest.raises(DemoDataError, match="reference data"):
        seed_demo(bare, incidents=10, today=TODAY)
    bare.dispose()


def _fail_late(monkeypatch) -> None:
    def broken(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "_add_resources", broken)


def test_a_failed_seed_leaves_nothing_behind(sqlite_db, fast_hashing, monkeypatch):
    _fail_late(monkeypatch)
    with pytest.raises(RuntimeError):
        seed_demo(sqlite_db, incidents=500, seed=SEED, today=TODAY)
    for table in ("organisations", "users", "incidents", "incident_strands", "meetings"):
        assert scalar(sqlite_db, f"SELECT count(*) FROM {table}") == 0  # noqa: S608


def _check_clear_and_reseed(db: Database) -> None:
    with db.session() as session:
        session.add(AuditEvent(action="demo.test", actor="test"))
    clear_records(db)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Area)) == 65
        for model in (Organisation, User, Incident, Meeting, AuditEvent, AppSetting):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        session.add(AuditEvent(action="demo.after-clear", actor="test"))
    with pytest.raises(Exception, match="append-only"), db.session() as session:
        session.execute(text("DELETE FROM audit_events"))
    seed_demo(db, incidents=300, seed=SEED, today=TODAY)
    assert scalar(db, "SELECT count(*) FROM incidents") == 300


def _check_replace_is_atomic(db: Database, monkeypatch) -> None:
    """A failed replacing seed keeps the old records; a good one swaps them in one go."""
    before = incident_checksum(db)
    with monkeypatch.context() as patched:
        _fail_late(patched)
        with pytest.raises(RuntimeError):
            seed_demo(db, incidents=200, seed=SEED + 1, today=TODAY, replace=True)
    assert incident_checksum(db) == before
    seed_demo(db, incidents=200, seed=SEED + 1, today=TODAY, replace=True)
    assert scalar(db, "SELECT count(*) FROM incidents") == 200
    assert scalar(db, "SELECT count(*) FROM organisations") == len(demo.ORGANISATIONS)


def test_clear_records_then_seed_again(sqlite_db, fast_hashing):
    seed_demo(sqlite_db, incidents=1_000, seed=SEED, today=TODAY)
    _check_clear_and_reseed(sqlite_db)
    # Foreign keys are enforced again on the connections that cleared.
    with pytest.raises(Exception, match="FOREIGN KEY"), sqlite_db.session() as session:
        session.execute(text("UPDATE incidents SET reporter_id = 9999 WHERE id = 1"))


def test_replace_swaps_the_records_in_one_transaction(sqlite_db, fast_hashing, monkeypatch):
    seed_demo(sqlite_db, incidents=1_000, seed=SEED, today=TODAY)
    _check_replace_is_atomic(sqlite_db, monkeypatch)


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def postgres_db():
    """A throwaway database on the test PostgreSQL server, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    base = os.environ.get(
        "DASHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    admin_dsn = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {admin_dsn}: {error}")
    name = f"dash_demo_test_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    db = make_db(f"{base.rsplit('/', 1)[0]}/{name}")
    try:
        yield db
    finally:
        db.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_postgres_seed_matches_sqlite_and_can_be_cleared(
    seeded, postgres_db, fast_hashing, monkeypatch
):
    seed_demo(postgres_db, incidents=INCIDENTS, seed=SEED, today=TODAY)
    assert incident_checksum(postgres_db) == incident_checksum(seeded[0])
    # The id sequences continue after the explicit ids, and the foreign keys are back.
    with postgres_db.session() as session:
        org = Organisation(name="A new partner", sector=Sector.VOLUNTARY)
        session.add(org)
        session.flush()
        assert org.id == len(demo.ORGANISATIONS) + 1
    assert scalar(postgres_db, "SELECT nextval('incidents_id_seq')") == INCIDENTS + 1
    assert scalar(postgres_db, """SELECT count(*) FROM pg_constraint
        WHERE contype = 'f' AND conrelid = 'incidents'::regclass""") == 7
    _check_replace_is_atomic(postgres_db, monkeypatch)
    _check_clear_and_reseed(postgres_db)
