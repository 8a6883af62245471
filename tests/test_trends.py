"""Incidents over time: exact counts for different viewers, splits, grains and geographies (both
backends), trend counts that match counting incidents one by one, and the chart's annotations."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import plotly.graph_objects as go
import pytest
from sqlalchemy import func, select

from dashboard import demo
from dashboard.access import Purpose, RecordFilters, Viewer, visible
from dashboard.calendar import events_between
from dashboard.database import Database
from dashboard.models import (
    Incident,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    Strand,
    TriggerEvent,
    User,
    utcnow,
)
from dashboard.overview import Geography
from dashboard.reference import Marking
from dashboard.trends import (
    OTHERS,
    Grain,
    Measure,
    Split,
    TrendQuery,
    bucket_of,
    summary_sentence,
    table_data,
    trend,
)
from layouts.trends import trend_figure, trend_table
from tests.conftest import add_incident
from tests.test_rollups import _viewers

BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"
BIRMINGHAM_POP = 1_140_525
WEST_MIDLANDS_POLICE = "E23000014"
# Thursday 1 October to Wednesday 4 November 2026: weeks from Monday 28 September.
PERIOD = RecordFilters(start=date(2026, 10, 1), end=date(2026, 11, 4))


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


@pytest.fixture
def dataset(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        chris = s.get(User, people.charity_chair.id)
        race, religion = s.get(Strand, "race"), s.get(Strand, "religion")
        for day in (date(2026, 9, 29), date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 15)):
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM)
        hate = add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 20), area=COVENTRY, category="hc-abuse")
        hate.strands = [race, religion]
        add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 10, 6), area=BIRMINGHAM)
        add_incident(s, pat, Marking.RED, day=date(2026, 11, 3), area=COVENTRY, recipients=[chris])
        add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 4), area=LEICESTER)  # the unfinished week
        add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 5), area=LEICESTER)  # after the end
        add_incident(s, cora, Marking.GREEN, day=date(2025, 10, 8), area=BIRMINGHAM)  # a year before
        s.add(TriggerEvent(kind="rally or march", title="Planned march in the city centre",
                           starts_on=date(2026, 10, 18), ends_on=date(2026, 10, 18), region_wide=True,
                           created_by_id=cora.id))
        s.add(TriggerEvent(kind="election", title="By-election", starts_on=date(2026, 12, 3),
                           ends_on=date(2026, 12, 3), region_wide=True, created_by_id=cora.id))
    return people


def test_tr001_weekly_counts_by_category_for_a_council_member(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD))
    # The period is widened to start on Monday 28 September; the last week has 3 of 7 days.
    assert t.start == date(2026, 9, 28) and t.end == date(2026, 11, 4)
    assert t.buckets == tuple(date(2026, 9, 28) + timedelta(weeks=i) for i in range(6))
    assert t.bucket_days == (7, 7, 7, 7, 7, 3)
    assert not t.bucket_complete(5) and t.bucket_complete(0)
    lines = {s.key: s.counts for s in t.series}
    assert lines["literature"] == (3, 0, 1, 0, 0, 1)  # the AMBER+STRICT and RED are not theirs
    assert lines["hc-abuse"] == (0, 0, 0, 1, 0, 0)
    assert t.total == 6


def test_tr002_the_reporting_police_member_sees_their_own_records(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, split=Split.NONE))
    (line,) = t.series
    assert line.counts == (3, 1, 1, 1, 0, 2)  # own AMBER+STRICT (week 2) and own RED (last week)


def test_tr003_months_and_last_year(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, grain=Grain.MONTH, split=Split.NONE, compare_last_year=True))
    assert t.buckets == (date(2026, 10, 1), date(2026, 11, 1))
    assert t.series[0].counts == (4, 1)  # (29 September is before the first whole month)
    assert (t.last_year_start, t.last_year_end) == (date(2025, 10, 1), date(2025, 11, 4))
    assert t.last_year[0].counts == (1, 0)
    assert "A year earlier the same period had 1" in summary_sentence(t)


def test_tr004_strands_count_an_incident_in_each_of_its_strands(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, split=Split.STRAND))
        only_race = trend(s, viewer, TrendQuery(replace(PERIOD, strands=("race",)), split=Split.STRAND))
    assert {s.key: s.total for s in t.series} == {"race": 1, "religion": 1}
    assert {s.key for s in only_race.series} == {"race"}
    assert t.shows_hate_crime and any("no strand" in n for n in t.notes)


def test_tr005_areas_side_by_side_as_rates(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, split=Split.AREA, areas=(BIRMINGHAM, COVENTRY),
                                        measure=Measure.RATE))
        force = trend(s, viewer, TrendQuery(PERIOD, split=Split.AREA, geography=Geography.FORCE,
                                            areas=(WEST_MIDLANDS_POLICE,)))
    lines = {s.key: s for s in t.series}
    assert set(lines) == {BIRMINGHAM, COVENTRY}
    assert lines[BIRMINGHAM].counts == (3, 0, 1, 0, 0, 0)
    assert lines[BIRMINGHAM].values(Measure.RATE)[0] == pytest.approx(round(3 / BIRMINGHAM_POP * 100_000, 2))
    assert t.area_names == ("Birmingham", "Coventry")
    (wmp,) = force.series
    assert wmp.label == "West Midlands Police" and wmp.total == 5  # Birmingham and Coventry


def test_tr006_reporting_organisation_and_verification_are_counted_record_by_record(db, dataset):
    viewer = viewer_of(db, dataset.police_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, split=Split.ORGANISATION))
        confirmed = trend(s, viewer, TrendQuery(replace(PERIOD, verification=("confirmed",)), split=Split.NONE))
    by_org = {s.label: s.total for s in t.series}
    assert by_org == {"Test Council": 6, "Test Police": 2}
    assert confirmed.total == 0


def test_tr007_unknown_areas_and_too_many_are_refused(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s, pytest.raises(ValueError, match="Unknown area"):
        trend(s, viewer, TrendQuery(PERIOD, areas=("E99999999",)))
    with pytest.raises(ValueError, match="at most 6"):
        TrendQuery(PERIOD, areas=tuple(f"E0800002{i}" for i in range(7)))


def test_tr008_calendar_events_and_election_run_ups_are_drawn(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    filters = replace(PERIOD, end=date(2026, 11, 30))
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(filters))
        events = events_between(s, viewer, t.start, t.end)
    fig = trend_figure(t, events)
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert "Planned march in the city c…" in texts  # long titles are shortened on the chart
    assert "Election run-up" in texts
    lines = [sh for sh in fig["layout"]["shapes"] if sh["type"] == "line"]
    rects = [sh for sh in fig["layout"]["shapes"] if sh["type"] == "rect"]
    assert [sh["x0"] for sh in lines] == ["2026-10-18"]
    # the by-election on 3 December: its 6-week run-up starts on 22 October, shaded to the end
    assert [(r["x0"], r["x1"]) for r in rects] == [("2026-10-22", "2026-11-30")]
    # every line has its own marker shape too (colour is never the only difference)
    symbols = {line["marker"]["symbol"][0] for line in fig["data"]}
    assert len(symbols) == len(fig["data"])
    # the figure is valid for plotly (and draws as such in the browser test)
    go.Figure(fig)


def test_tr009_table_and_summary_say_what_the_chart_shows(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        t = trend(s, viewer, TrendQuery(PERIOD, split=Split.NONE))
    words = summary_sentence(t)
    assert words.startswith("6 incidents you can see in the whole region, 6 weeks from 28 Sep 2026")
    assert "The busiest whole week was w/c 28 Sep 2026 with 3." in words
    assert "The last week is not over yet (3 days so far)." in words
    table = trend_table(table_data(t))
    text = str(table.to_plotly_json())
    assert "w/c 2 Nov 2026 (not over: 3 days)" in text


def test_tr010_caveat_follows_the_hate_crime_content(db, dataset):
    viewer = viewer_of(db, dataset.council_member)
    with db.session() as s:
        leaflets = trend(s, viewer, TrendQuery(replace(PERIOD, categories=("literature",))))
        abuse = trend(s, viewer, TrendQuery(replace(PERIOD, categories=("hc-abuse",))))
        everything = trend(s, viewer, TrendQuery(PERIOD))
    assert not leaflets.shows_hate_crime
    assert abuse.shows_hate_crime and everything.shows_hate_crime


# --- the trend counts give exactly what counting incidents one by one gives ---------------------

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("trends") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    demo.seed_demo(db, incidents=6_000, seed=5, today=TODAY)
    yield db, _viewers(db)
    db.dispose()


def _one_by_one(session, viewer, query: TrendQuery, start: date) -> Counter:
    """(bucket, key) -> incidents, from every incident row the viewer may see."""
    filters = replace(query.filters, start=start)
    rows = session.execute(
        visible(viewer, Incident, filters, Purpose.AGGREGATE).with_only_columns(
            Incident.occurred_on, Incident.category_code, Incident.area_code, Incident.source_org_id
        )
    )
    out = Counter()
    for day, category, area, org in rows:
        key = {Split.CATEGORY: category, Split.AREA: area, Split.ORGANISATION: str(org), Split.NONE: "all"}[query.split]
        out[(bucket_of(day, query.grain), key)] += 1
    return out


@pytest.mark.parametrize("who", ["police member", "voluntary member", "chair", "admin", "departed organisation"])
@pytest.mark.parametrize(
    "grain, split, start, end",
    [
        (Grain.WEEK, Split.CATEGORY, date(2025, 11, 24), date(2026, 11, 23)),
        (Grain.WEEK, Split.AREA, date(2026, 2, 3), date(2026, 9, 30)),
        (Grain.MONTH, Split.CATEGORY, date(2024, 12, 1), date(2026, 11, 20)),
        (Grain.MONTH, Split.NONE, date(2026, 1, 1), date(2026, 3, 31)),
        (Grain.WEEK, Split.ORGANISATION, date(2026, 5, 1), date(2026, 8, 9)),
        (Grain.WEEK, Split.CATEGORY, date(2026, 3, 4), date(2026, 11, 1)),  # five categories: no merging
    ],
)
def test_tr020_trend_counts_equal_counting_one_by_one(seeded, who, grain, split, start, end):
    db, viewers = seeded
    viewer = viewers[who]
    categories = ("literature", "stickers", "hc-abuse", "online", "demonstration") if start.day == 4 else ()
    query = TrendQuery(RecordFilters(start=start, end=end, categories=categories), grain=grain, split=split)
    with db.session() as s:
        t = trend(s, viewer, query)
        expected = _one_by_one(s, viewer, query, t.start)
    got = Counter()
    for series in t.series:
        for bucket, n in zip(t.buckets, series.counts, strict=True):
            if n:
                got[(bucket, series.key)] += n
    if t.merged:  # some lines were added up as "All others": compare each bucket's total
        assert t.series[-1].key == OTHERS
        got = Counter({b: sum(n for (bb, _), n in got.items() if bb == b) for b in t.buckets})
        expected = Counter({b: sum(n for (bb, _), n in expected.items() if bb == b) for b in t.buckets})
    assert +got == +expected
    assert t.total == sum(expected.values())


def test_tr021_national_team_counts_only_green_and_clear_and_a_disabled_user_nothing(seeded):
    db, viewers = seeded
    query = TrendQuery(RecordFilters(start=date(2026, 1, 1), end=date(2026, 6, 30)), split=Split.NONE)
    with db.session() as s:
        sci = trend(s, viewers["sci"], query)
        disabled = trend(s, replace(viewers["chair"], active=False), query)
        shared = s.execute(
            select(Incident.id).where(
                Incident.marking.in_([Marking.GREEN.value, Marking.CLEAR.value]), Incident.deleted_at.is_(None),
                Incident.occurred_on >= date(2025, 12, 29), Incident.occurred_on <= date(2026, 6, 30),
            )
        ).all()
    assert sci.total == len(shared) > 0
    assert disabled.total == 0


def _region_rows(session) -> set[tuple]:
    return set(session.execute(select(
        IncidentRegionTrendCount.bucket, IncidentRegionTrendCount.audience, IncidentRegionTrendCount.category_code,
        IncidentRegionTrendCount.strand_mask, IncidentRegionTrendCount.incidents)).all())


def _districts_added_up(session) -> set[tuple]:
    t = IncidentTrendCount
    keys = (t.bucket, t.audience, t.category_code, t.strand_mask)
    return set(session.execute(select(*keys, func.sum(t.incidents)).group_by(*keys)).all())


def test_tr022_region_counts_stay_the_sum_of_the_districts(db, dataset):
    with db.session() as s:
        assert _region_rows(s) == _districts_added_up(s) and _region_rows(s)
        moved = s.scalars(select(Incident).where(Incident.area_code == BIRMINGHAM).limit(1)).one()
        moved.occurred_on, moved.category_code = date(2026, 6, 3), "stickers"
        gone = s.scalars(select(Incident).where(Incident.area_code == LEICESTER).limit(1)).one()
        gone.deleted_at = utcnow()
    with db.session() as s:
        assert _region_rows(s) == _districts_added_up(s)
        june = {(b, c): n for b, _a, c, _m, n in _region_rows(s) if b == date(2026, 6, 1)}
        assert june == {(date(2026, 6, 1), "stickers"): 1}
