"""The regional overview's figures, exactly, for viewers with different access (both backends)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from plotly.io.json import to_json_plotly

from dashboard.access import RecordFilters, Viewer
from dashboard.filters import FilterError, FilterState, Vocabulary, preset_dates
from dashboard.models import Action, Meeting, TensionAssessment, TriggerEvent, User
from dashboard.overview import (
    Geography,
    Metric,
    area_detail,
    area_overview,
    headline,
    incident_points,
    summary_sentence,
)
from dashboard.reference import LocationPrecision, Marking
from dashboard.surges import Band, early_warning
from layouts import maps
from layouts import overview as overview_layout
from tests.conftest import add_incident

BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"
BIRMINGHAM_POP = 1_140_525
WEST_MIDLANDS_POLICE = "E23000014"
PERIOD = RecordFilters(start=date(2026, 10, 1), end=date(2026, 10, 31))
TODAY = date(2026, 11, 1)


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


@pytest.fixture
def dataset(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        chris = s.get(User, people.charity_chair.id)
        for day in (date(2026, 10, 2), date(2026, 10, 15), date(2026, 10, 31)):
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM)
        add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 10, 5), area=BIRMINGHAM)
        for day in (date(2026, 9, 1), date(2026, 9, 30)):  # the previous period
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM)
        add_incident(s, pat, Marking.RED, day=date(2026, 10, 20), area=COVENTRY, recipients=[chris])
        add_incident(s, cora, Marking.GREEN, day=date(2026, 8, 30), area=LEICESTER)  # in neither
        add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 1), area=LEICESTER)  # after the end
        for day, level, marking, who, area in (
            (date(2026, 9, 1), 2, Marking.GREEN, cora, BIRMINGHAM),
            (date(2026, 10, 15), 4, Marking.GREEN, cora, BIRMINGHAM),
            (date(2026, 11, 1), 1, Marking.GREEN, cora, BIRMINGHAM),  # after the period: ignored
            (date(2026, 10, 20), 5, Marking.AMBER_STRICT, pat, COVENTRY),
        ):
            s.add(TensionAssessment(area_code=area, assessed_on=day, level=level, marking=marking.value,
                                    source_org_id=who.organisation_id, reporter_id=who.id))
    return people


def by_code(overview):
    return {a.code: a for a in overview.areas}


def test_district_figures_for_a_council_member(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        result = area_overview(s, viewer, PERIOD, Geography.DISTRICT)
    areas = by_code(result)
    assert len(areas) == 65
    brum = areas[BIRMINGHAM]
    assert (brum.incidents, brum.previous, brum.change) == (3, 2, 1)
    assert brum.rate == pytest.approx(3 / BIRMINGHAM_POP * 100_000)
    assert (brum.tension_level, brum.tension_assessed_on) == (4, date(2026, 10, 15))
    cov = areas[COVENTRY]
    assert (cov.incidents, cov.tension_level) == (0, None)  # the RED and the AMBER+STRICT are hidden
    assert areas[LEICESTER].incidents == 0 and areas[LEICESTER].previous == 0
    assert (result.total, result.previous_total) == (3, 2)
    assert (result.previous_start, result.previous_end) == (date(2026, 8, 31), date(2026, 9, 30))


def test_district_figures_for_the_reporting_police_member(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    with db.session() as s:
        areas = by_code(area_overview(s, viewer, PERIOD, Geography.DISTRICT))
    assert areas[BIRMINGHAM].incidents == 4  # own AMBER+STRICT counts
    assert (areas[COVENTRY].incidents, areas[COVENTRY].tension_level) == (1, 5)  # own RED, own assessment


def test_force_areas_and_regions_add_up_their_districts(db, dataset):
    council = viewer_of(db, dataset.council_member)
    police = viewer_of(db, dataset.police_member)
    with db.session() as s:
        forces_c = by_code(area_overview(s, council, PERIOD, Geography.FORCE))
        forces_p = by_code(area_overview(s, police, PERIOD, Geography.FORCE))
        regions = by_code(area_overview(s, council, PERIOD, Geography.REGION))
    assert len(forces_c) == 9 and len(regions) == 2
    wmp = forces_c[WEST_MIDLANDS_POLICE]
    assert (wmp.name, wmp.incidents, wmp.previous, wmp.population) == ("West Midlands Police", 3, 2, 2_939_927)
    assert wmp.tension_level == 4
    assert (forces_p[WEST_MIDLANDS_POLICE].incidents, forces_p[WEST_MIDLANDS_POLICE].tension_level) == (5, 5)
    assert regions["E12000005"].incidents == 3 and regions["E12000004"].incidents == 0
    assert sum(r.population for r in regions.values()) == sum(f.population for f in forces_c.values())


def test_filters_narrow_the_figures(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    only_green = RecordFilters(start=PERIOD.start, end=PERIOD.end, markings=(Marking.GREEN.value,))
    with db.session() as s:
        areas = by_code(area_overview(s, viewer, only_green, Geography.DISTRICT))
        by_org = by_code(
            area_overview(s, viewer, RecordFilters(start=PERIOD.start, end=PERIOD.end,
                                                   organisations=(dataset.police.id,)), Geography.DISTRICT)
        )
    assert areas[BIRMINGHAM].incidents == 3 and areas[COVENTRY].incidents == 0
    assert by_org[BIRMINGHAM].incidents == 1 and by_org[COVENTRY].incidents == 1


def test_headline_figures(db, dataset):
    with db.session() as s:
        meeting = Meeting(held_on=date(2026, 9, 1), title="Quarterly meeting")
        s.add(meeting)
        s.flush()
        for due, status in ((date(2026, 10, 1), "in progress"), (date(2026, 10, 1), "done"),
                            (date(2026, 12, 1), "not started"), (date(2026, 10, 31), "blocked")):
            s.add(Action(meeting_id=meeting.id, description="x", owner_org_id=dataset.council.id,
                         due_on=due, status=status))
    for who, high in (("council_member", 1), ("police_member", 2)):
        viewer = viewer_of(db, getattr(dataset, who))
        with db.session() as s:
            for geography in Geography:
                head = headline(s, viewer, area_overview(s, viewer, PERIOD, geography), TODAY)
                assert head.districts_high == high, (who, geography)
                assert head.overdue_actions == 2  # in progress and blocked, past due; not done, not future


def test_area_detail_shows_only_what_the_viewer_may_see(db, dataset):
    with db.session() as s:
        trigger = TriggerEvent(kind="rally or march", title="Planned march", starts_on=date(2026, 11, 20),
                               ends_on=date(2026, 11, 20))
        trigger.areas = []
        s.add(trigger)
        s.flush()
        s.execute(maps_area_link(trigger.id, COVENTRY))
        s.add(TriggerEvent(kind="election", title="Past election", starts_on=date(2026, 5, 7), ends_on=date(2026, 5, 7),
                           region_wide=True))
    chair = viewer_of(db, dataset.charity_chair)
    council = viewer_of(db, dataset.council_member)
    with db.session() as s:
        for_chair = area_detail(s, chair, COVENTRY, PERIOD, TODAY)
        for_council = area_detail(s, council, COVENTRY, PERIOD, TODAY)
        sci = area_detail(s, viewer_of(db, dataset.sci), COVENTRY, PERIOD, TODAY)
        missing = area_detail(s, chair, "E99999999", PERIOD, TODAY)
    assert [i.marking for i in for_chair.incidents] == [Marking.RED.value]
    assert for_council.incidents == [] and for_council.assessments == []
    assert [t.title for t in for_chair.triggers] == ["Planned march"]
    assert sci.incidents == [] and sci.triggers == [] and sci.actions == []
    assert missing is None


def maps_area_link(trigger_id: int, area: str):
    from dashboard.models import trigger_event_areas

    return trigger_event_areas.insert().values(trigger_event_id=trigger_id, area_code=area)


def test_points_never_place_area_only_or_approximate_records_precisely(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        for lat, lon, precision in (
            (52.4801, -1.9021, LocationPrecision.EXACT),
            (52.4809, -1.9029, LocationPrecision.EXACT),  # same ~1 km cell
            (52.4123, -1.5123, LocationPrecision.APPROXIMATE),
            (52.9500, -1.1500, LocationPrecision.AREA),
        ):
            incident = add_incident(s, pat, Marking.GREEN)
            incident.latitude, incident.longitude, incident.location_precision = lat, lon, precision.value
    viewer = viewer_of(db, people.council_member)
    with db.session() as s:
        cells, left_out = incident_points(s, viewer, RecordFilters())
    assert left_out == 0
    exact = [c for c in cells if not c.approximate]
    approximate = [c for c in cells if c.approximate]
    assert len(exact) == 1 and exact[0].incidents == 2
    assert (exact[0].latitude, exact[0].longitude) == (52.485, -1.905)  # the cell's centre
    assert len(approximate) == 1 and (approximate[0].latitude, approximate[0].longitude) == (52.45, -1.55)
    assert sum(c.incidents for c in cells) == 3  # the area-only record is never drawn


def test_points_are_bounded(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        for i in range(30):
            incident = add_incident(s, pat, Marking.GREEN)
            incident.latitude, incident.longitude = 52.0 + i * 0.05, -2.0
            incident.location_precision = LocationPrecision.EXACT.value
    with db.session() as s:
        cells, left_out = incident_points(s, viewer_of(db, people.council_member), RecordFilters(), limit=10)
    assert len(cells) == 10 and left_out == 20


def test_summary_sentence_names_the_top_areas(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    with db.session() as s:
        result = area_overview(s, viewer, PERIOD, Geography.DISTRICT)
    assert summary_sentence(result, Metric.COUNT).startswith("Most incidents: Birmingham (4), followed by Coventry (1).")
    assert summary_sentence(result, Metric.RATE).startswith(
        "Most incidents per 100,000 residents: Birmingham (0.4), followed by Coventry (0.3)."
    )
    assert summary_sentence(result, Metric.TENSION).startswith("Highest latest tension level: 5 Critical, in Coventry")
    assert "Biggest rise: Birmingham (+2)" in summary_sentence(result, Metric.CHANGE)


def test_map_update_is_small_and_carries_no_record_text(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    with db.session() as s:
        result = area_overview(s, viewer, PERIOD, Geography.DISTRICT)
        cells, _ = incident_points(s, viewer, PERIOD)
        warning = early_warning(s, viewer, PERIOD, PERIOD.end, Geography.DISTRICT, by_category=False)
    for metric in Metric:
        payload = to_json_plotly(maps.map_patch(result, metric, warning=warning).to_plotly_json())
        assert len(payload) < 100_000
        assert "report by" not in payload  # incident titles never reach the map
    points = to_json_plotly(maps.points_patch(cells).to_plotly_json())
    assert len(points) < 100_000 and "report by" not in points
    figure = maps.base_figure("district")
    assert [t.visible for t in figure.data[:3]] == [True, False, False]  # every geography, sent once
    assert all(isinstance(t.geojson, dict) for t in figure.data[:3])


# --- early warning on the map ----------------------------------------------------------------------


@pytest.fixture
def surge(db, people):
    """Council leaflets in Birmingham at 1 a week for 12 weeks, then 9 in the period's last 7 days;
    and a police-only (AMBER+STRICT) burst in Coventry that council members cannot see."""
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        pat = s.get(User, people.police_member.id)
        for week in range(1, 13):
            add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 31) - timedelta(weeks=week), area=BIRMINGHAM)
        for day in range(9):
            add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 31) - timedelta(days=day % 7), area=BIRMINGHAM)
        for _ in range(8):
            add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 10, 30), area=COVENTRY)
    return people


def test_ovw010_warning_colours_the_map_and_names_the_band_in_words(db, surge):
    viewer = viewer_of(db, surge.council_member)
    with db.session() as s:
        result = area_overview(s, viewer, PERIOD, Geography.DISTRICT)
        warning = early_warning(s, viewer, PERIOD, PERIOD.end, Geography.DISTRICT, by_category=False)
    patch = maps.map_patch(result, Metric.WARNING, warning=warning).to_plotly_json()
    operations = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"] if "value" in op["params"]}
    codes, values = operations[("data", 0, "locations")], operations[("data", 0, "z")]
    z = dict(zip(codes, values, strict=True))
    assert z[BIRMINGHAM] == Band.SHARP_RISE.rank and z[COVENTRY] == Band.STABLE.rank  # police-only: not counted
    assert operations[("data", 0, "colorbar")]["ticktext"] == ["Fall", "Stable", "Rise", "Sharp rise"]
    hover = dict(zip(codes, operations[("data", 0, "text")], strict=True))
    assert "Early warning: sharp rise: 9 incidents in the 7 days, against about 1.0 in a usual week" in hover[BIRMINGHAM]
    assert "Early warning: stable" in hover[COVENTRY]
    # not by colour alone: a large circle marks the sharp rise, and the sentence names it
    assert operations[("data", maps.TENSION_TRACE, "marker", "size")] == [maps.BAND_MARKER_SIZE[Band.SHARP_RISE]]
    assert operations[("data", maps.TENSION_TRACE, "text")][0].startswith("Birmingham: sharp rise")
    sentence = summary_sentence(result, Metric.WARNING, warning)
    assert sentence.startswith(
        "1 district shows a sharp rise (Birmingham), in the 7 days to 31 Oct 2026 against the 12 weeks before; "
        "64 are stable."
    )
    assert "sharp rise (a surge)" in overview_layout.LEGENDS[Metric.WARNING]
    assert set(overview_layout.LEGENDS) == set(Metric)
    with pytest.raises(ValueError):
        maps.map_patch(result, Metric.WARNING)  # the bands are needed to colour by them


def test_ovw011_warning_in_the_table_and_for_force_areas(db, surge):
    police = viewer_of(db, surge.police_member)
    with db.session() as s:
        forces = area_overview(s, police, PERIOD, Geography.FORCE)
        warning = early_warning(s, police, PERIOD, PERIOD.end, Geography.FORCE, by_category=False)
    table = str(overview_layout.area_table(forces, Metric.WARNING, warning).to_plotly_json())
    assert "Early warning" in table
    assert "Sharp rise: 17 incidents in the 7 days" in table  # West Midlands Police: Birmingham and Coventry
    assert "early warning for 25 Oct to 31 Oct 2026" in table
    rows = overview_layout.area_table(forces, Metric.WARNING, warning).children[2].children
    assert rows[0].children[0].children == "West Midlands Police"  # the sharpest rise first
    plain = str(overview_layout.area_table(forces, Metric.COUNT).to_plotly_json())
    assert "Early warning" not in plain


# --- filters ------------------------------------------------------------------------------------

VOCAB = Vocabulary(
    categories=[("literature", "Literature and leaflets"), ("online", "Online")],
    strands=[("race", "Race")],
    organisations=[(1, "Police"), (2, "Council")],
    last_meeting=date(2026, 9, 10),
)


@pytest.mark.parametrize(
    "preset, start",
    [("4w", date(2026, 10, 5)), ("quarter", date(2026, 8, 3)), ("meeting", date(2026, 9, 11)),
     ("12m", date(2025, 11, 2))],
)
def test_presets_end_today(preset, start):
    assert preset_dates(preset, date(2026, 11, 1), date(2026, 9, 10)) == (start, date(2026, 11, 1))


def test_filter_state_round_trips_through_the_url():
    state = FilterState.from_controls(
        VOCAB, TODAY, preset="custom", start="2026-01-01", end="2026-03-31",
        categories=["online", "bogus"], strands=["race"], verification=["confirmed"],
        markings=["TLP:AMBER", "TLP:PURPLE"], organisations=["2", "99", "x"],
    )
    assert state.categories == ("online",) and state.markings == ("TLP:AMBER",) and state.organisations == (2,)
    query = state.to_query()
    assert query == {"period": "custom", "from": "2026-01-01", "to": "2026-03-31", "category": "online",
                     "strand": "race", "verification": "confirmed", "marking": "TLP:AMBER", "org": "2"}
    assert FilterState.from_query(query, VOCAB, TODAY) == state


@pytest.mark.parametrize(
    "start, end, field, message",
    [("2026-03-01", "2026-02-01", "start", "on or before the end date"),
     ("2026-02-30", "2026-03-01", "start", "real date"),
     ("", "2026-03-01", "start", "Enter a start date"),
     ("2026-03-01", "", "end", "Enter an end date"),
     ("2001-01-01", "2026-03-01", "start", "at most ten years")],
)
def test_bad_dates_name_the_field(start, end, field, message):
    with pytest.raises(FilterError, match=message) as error:
        FilterState.from_controls(VOCAB, TODAY, preset="custom", start=start, end=end)
    assert error.value.field == field


def test_a_malformed_shared_url_falls_back_to_the_default_view():
    state = FilterState.from_query({"period": "custom", "from": "garbage"}, VOCAB, TODAY)
    assert state.preset == "12m" and state.end == TODAY
