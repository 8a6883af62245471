"""The monthly counts and strand bits stay in step with the incidents, and counting with them
gives exactly what counting the incidents one by one gives, for every kind of viewer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashboard import demo
from dashboard.access import RecordFilters, Viewer
from dashboard.models import (
    Incident,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    Organisation,
    Strand,
    User,
    utcnow,
)
from dashboard.reference import Marking, Role
from dashboard.rollups import _raw_counts, incidents_by_area, refresh_months
from tests.conftest import add_incident

TODAY = date(2026, 11, 23)


def _viewers(db) -> dict[str, Viewer]:
    with db.session() as s:
        def first(role, org_name=None):
            stmt = select(User).where(User.role == role).order_by(User.id)
            if org_name:
                stmt = stmt.join(Organisation).where(Organisation.name == org_name)
            return Viewer.from_user(s.scalars(stmt).first())

        police = first(Role.MEMBER, "West Midlands Police")
        return {
            "police member": police,
            "voluntary member": first(Role.MEMBER, "Citizens Advice (Midlands)"),
            "chair": first(Role.CHAIR),
            "sci": first(Role.SCI),
            "admin": first(Role.ADMIN),
            "departed organisation": replace(police, organisation_active=False),
        }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, sqlite_template):
    """A small demo database, seeded once for the module (SQLite)."""
    import shutil

    from dashboard.database import Database

    path = tmp_path_factory.mktemp("rollups") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    demo.seed_demo(db, incidents=6_000, seed=3, today=TODAY)
    yield db, _viewers(db)
    db.dispose()


COUNT_TABLES = (IncidentMonthlyCount, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount)


def _stored(session) -> dict[str, set[tuple]]:
    """Every count table's rows: monthly, trend, region trend and quarter counts."""
    return {t.__tablename__: set(session.execute(select(t.__table__)).all()) for t in COUNT_TABLES}


def _full_recount(session) -> dict[str, set[tuple]]:
    """What the count tables should hold, counted afresh from the incidents."""
    refresh_months(session)
    return _stored(session)


periods = st.tuples(
    st.dates(min_value=date(2021, 6, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=800),
)
markings = st.sets(st.sampled_from([m.value for m in Marking]), max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=periods, chosen=markings, who=st.sampled_from(
    ["police member", "voluntary member", "chair", "sci", "admin", "departed organisation"]))
def test_counting_with_monthly_counts_equals_counting_incidents(seeded, period, chosen, who):
    db, viewers = seeded
    start, days = period
    filters = RecordFilters(start=start, end=start + timedelta(days=days), markings=tuple(sorted(chosen)))
    with db.session() as s:
        fast = incidents_by_area(s, viewers[who], filters)
        slow = _raw_counts(s, viewers[who], filters)
    assert fast == +slow


def test_whole_months_come_from_the_monthly_counts(seeded):
    db, viewers = seeded
    filters = RecordFilters(start=date(2025, 1, 1), end=date(2025, 12, 31))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IncidentMonthlyCount)) > 0
        assert incidents_by_area(s, viewers["chair"], filters) == +_raw_counts(s, viewers["chair"], filters)


def test_edits_keep_every_count_table_in_step(db, people):
    """Monthly, trend, region and quarter counts equal a full recount after each kind of edit,
    including a move to another month and quarter, a marking change, a soft and a hard delete."""
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        a = add_incident(s, pat, Marking.GREEN, day=date(2026, 3, 15))
        b = add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 3, 20))
        c = add_incident(s, pat, Marking.CLEAR, day=date(2026, 4, 2))
        ids = a.id, b.id, c.id
    edits = [
        lambda inc: setattr(inc[0], "occurred_on", date(2026, 5, 1)),  # moves to another month
        lambda inc: setattr(inc[1], "marking", Marking.RED.value),  # leaves the monthly counts
        lambda inc: setattr(inc[2], "deleted_at", utcnow()),  # soft delete
        lambda inc: setattr(inc[0], "area_code", "E06000016"),  # another district
        lambda inc: setattr(inc[1], "marking", Marking.GREEN.value),  # comes back
    ]
    for edit in edits:
        with db.session() as s:
            edit([s.get(Incident, i) for i in ids])
        with db.session() as s:
            stored = _stored(s)
            assert stored == _full_recount(s)
            s.rollback()
    with db.session() as s:
        s.delete(s.get(Incident, ids[0]))
    with db.session() as s:
        assert _stored(s) == _full_recount(s)
        s.rollback()


def test_strand_bits_follow_the_strands(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        incident = add_incident(s, pat, Marking.GREEN, category="hc-abuse")
        incident.strands = [s.get(Strand, "race")]
        incident_id = incident.id
        race_bit = s.get(Strand, "race").bit
        religion_bit = s.get(Strand, "religion").bit
    with db.session() as s:
        incident = s.get(Incident, incident_id)
        assert incident.strand_mask == 1 << race_bit
        incident.strands.append(s.get(Strand, "religion"))
    with db.session() as s:
        incident = s.get(Incident, incident_id)
        assert incident.strand_mask == (1 << race_bit) | (1 << religion_bit)
        incident.strands = []
    with db.session() as s:
        assert s.get(Incident, incident_id).strand_mask == 0


def test_strand_bits_are_distinct_and_small(db):
    with db.session() as s:
        bits = s.scalars(select(Strand.bit)).all()
    assert len(bits) == len(set(bits)) and all(0 <= b <= 30 for b in bits)


def test_a_departed_organisation_counts_clear_records_only(seeded):
    db, viewers = seeded
    filters = RecordFilters(start=date(2024, 1, 1), end=TODAY)
    with db.session() as s:
        departed = incidents_by_area(s, viewers["departed organisation"], filters)
        clear_only = _raw_counts(s, viewers["chair"], replace(filters, markings=(Marking.CLEAR.value,)))
    assert departed == +clear_only


def test_bulk_loaded_map_cells_match_the_rule(seeded):
    from dashboard.reference import map_cell

    db, _ = seeded
    with db.session() as s:
        rows = s.execute(
            select(Incident.latitude, Incident.longitude, Incident.location_precision, Incident.map_cell).limit(2000)
        ).all()
    assert any(cell is not None for *_, cell in rows)
    for lat, lon, precision, cell in rows:
        assert cell == map_cell(lat, lon, precision)


def test_the_quarter_counts_are_read_for_whole_quarters_only():
    """A range that cuts a quarter would count the whole quarter: the gate refuses it."""
    from dashboard.access import Purpose, RecordFilters, national_viewer, visible

    visible(national_viewer(), IncidentQuarterCount, RecordFilters(start=date(2026, 1, 1), end=date(2026, 6, 30)),
            Purpose.AGGREGATE)
    for start, end in [(date(2026, 1, 2), date(2026, 6, 30)), (date(2026, 1, 1), date(2026, 6, 29)),
                       (date(2026, 2, 1), date(2026, 3, 31))]:
        with pytest.raises(ValueError, match="whole quarters"):
            visible(national_viewer(), IncidentQuarterCount, RecordFilters(start=start, end=end), Purpose.AGGREGATE)
