"""The early-warning rule on constructed series, and its counting through the access gate."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from dashboard.access import RecordFilters, Viewer, partnership_wide
from dashboard.models import User
from dashboard.overview import Geography
from dashboard.reference import Marking
from dashboard.surges import (
    ALL_CATEGORIES,
    MIN_SURGE_COUNT,
    RULE_TEXT,
    Band,
    _Distribution,
    assess,
    early_warning,
    surge_flags,
    weekly_counts,
    window_dates,
)
from tests.conftest import add_incident

BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"
WEST_MIDLANDS_POLICE, WEST_MIDLANDS_REGION = "E23000014", "E12000005"
AS_OF = date(2026, 10, 31)  # window 25-31 Oct; baseline 2 Aug - 24 Oct
STEADY = [9, 11, 10, 10, 12, 8, 10, 9, 11, 10, 10, 10]


# --- the rule on constructed series -------------------------------------------------------------


@pytest.mark.parametrize("observed", [1, 2, 3, 4])
def test_sur001_a_few_incidents_after_none_are_never_a_surge(observed):
    result = assess(observed, [0] * 12)
    assert result.band is not Band.SHARP_RISE
    assert result.expected == pytest.approx(1 / 12)  # the floor: an all-zero baseline is not degenerate
    if observed < 3:
        assert result.band is Band.STABLE  # one or two after none is not even a rise


def test_sur002_one_incident_in_a_quiet_district_is_stable():
    assert assess(1, [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]).band is Band.STABLE
    assert assess(2, [1] * 12).band is Band.STABLE


@pytest.mark.parametrize(
    "baseline, observed",
    [
        ([1] * 12, 8),  # 8 after a steady 1 a week
        ([0] * 12, MIN_SURGE_COUNT),  # 5 after twelve empty weeks
        ([3, 2, 4, 3, 3, 2, 4, 3, 3, 3, 2, 4], 12),
        (STEADY, 25),
        ([50 + 7 * d for d in (0, 1, -1, 0, 1, -1, 0, 0, 1, -1, 0, 0)], 85),
        ([200 + 14 * d for d in (0, 1, -1, 0, 1, -1, 0, 0, 1, -1, 0, 0)], 270),
    ],
)
def test_sur003_true_surges_are_flagged_at_every_baseline_level(baseline, observed):
    result = assess(observed, baseline)
    assert result.band is Band.SHARP_RISE
    assert result.p_high < 0.005 and result.observed - result.expected >= 3


def test_sur004_a_noisy_but_steady_series_is_not_flagged_inside_its_range():
    noisy = [10, 2, 14, 6, 12, 4, 16, 8, 10, 2, 14, 6]
    for observed in range(min(noisy), max(noisy) + 1):
        assert assess(observed, noisy).band is Band.STABLE, observed
    assert assess(16, noisy).dispersion > 2  # it is the spread of the weeks that keeps 16 ordinary
    assert assess(16, [8] * 12).band is Band.RISE  # the same 16 after a flat 8 a week stands out
    assert assess(20, noisy).band is Band.RISE and assess(20, [8] * 12).band is Band.SHARP_RISE


def test_sur005_rises_and_falls():
    assert assess(18, STEADY).band is Band.RISE  # unusual, but not a surge
    assert assess(2, STEADY).band is Band.FALL
    assert assess(0, [4] * 12).band is Band.FALL  # a week with none where 4 is usual
    assert assess(0, [2] * 12).band is Band.STABLE  # a usual week of under 3: a quiet week is no news
    assert assess(10, STEADY).band is Band.STABLE


def test_sur006_bands_are_named_for_people():
    assert [b.value for b in Band] == ["sharp rise", "rise", "stable", "fall"]
    assert sorted(Band, key=lambda b: b.rank) == [Band.FALL, Band.STABLE, Band.RISE, Band.SHARP_RISE]
    assert "12 weeks" in RULE_TEXT and "at least 5" in RULE_TEXT
    assert assess(12, STEADY).describe() == "stable: 12 incidents in the 7 days, against about 10 in a usual week"


@pytest.mark.parametrize(
    "mean, dispersion", [(1 / 12, 1.0), (1.0, 1.0), (7.8, 2.6), (10.0, 1.0), (50.0, 3.0), (200.0, 5.0)]
)
def test_sur007_tail_probabilities_equal_the_sums_of_the_distribution(mean, dispersion):
    dist = _Distribution(mean, dispersion)
    pmf = [math.exp(dist.log_pmf(k)) for k in range(3000)]
    assert sum(pmf) == pytest.approx(1.0)
    variance = sum((k - mean) ** 2 * p for k, p in enumerate(pmf))
    assert variance == pytest.approx(mean * dispersion, rel=1e-6)
    for k in {0, 1, int(mean), int(mean) + 1, int(mean * 2) + 3}:
        assert dist.at_least(k) == pytest.approx(sum(pmf[k:]), rel=1e-9, abs=1e-15)
        assert dist.at_most(k) == pytest.approx(sum(pmf[: k + 1]), rel=1e-9, abs=1e-15)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


@pytest.mark.parametrize(
    "mean, dispersion, at_most",
    [(0.5, 1, 0.01), (2.0, 1, 0.01), (10.0, 1, 0.01), (30.0, 1, 0.01), (3.0, 3, 0.025), (20.0, 3, 0.025),
     (20.0, 6, 0.025)],
)
def test_sur008_unchanged_series_rarely_flag(mean, dispersion, at_most):
    """Weeks drawn from one unchanging process: sharp rises stay rarer than 1 in 100 (2.5 in 100
    where weeks vary far more than chance, which 12 weeks can only estimate roughly)."""
    rng = random.Random(20261031)

    def week() -> int:
        if dispersion == 1:
            return _poisson(rng, mean)
        # each week's rate varies (gamma), as reports come in waves: variance = dispersion * mean
        return _poisson(rng, rng.gammavariate(mean / (dispersion - 1), dispersion - 1))

    trials = 2000
    sharp = sum(assess(week(), [week() for _ in range(12)]).band is Band.SHARP_RISE for _ in range(trials))
    assert sharp / trials < at_most


@pytest.mark.parametrize("mean, at_least", [(2.0, 0.6), (3.0, 0.75), (10.0, 0.95), (30.0, 0.99)])
def test_sur009_a_tripled_week_is_found(mean, at_least):
    rng = random.Random(4)
    trials = 500
    found = sum(
        assess(_poisson(rng, 3 * mean + 4), [_poisson(rng, mean) for _ in range(12)]).band is Band.SHARP_RISE
        for _ in range(trials)
    )
    assert found / trials > at_least


def test_sur010_bad_input_is_refused():
    with pytest.raises(ValueError):
        assess(-1, [1] * 12)
    with pytest.raises(ValueError):
        assess(1, [1])


def test_sur011_window_dates():
    assert window_dates(AS_OF) == (date(2026, 8, 2), date(2026, 10, 24), date(2026, 10, 25), AS_OF)


# --- counting through the access gate (both backends) -------------------------------------------


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def weekly_baseline(session, reporter, area: str, *, per_week: int = 1, category: str = "literature",
                    marking: Marking = Marking.GREEN) -> None:
    """`per_week` incidents in each of the 12 baseline weeks."""
    baseline_start = window_dates(AS_OF)[0]
    for week in range(12):
        for i in range(per_week):
            add_incident(session, reporter, marking, day=baseline_start + timedelta(weeks=week, days=i % 7),
                         area=area, category=category)


def burst(session, reporter, area: str, n: int, *, category: str = "literature",
          marking: Marking = Marking.GREEN) -> None:
    for i in range(n):
        add_incident(session, reporter, marking, day=AS_OF - timedelta(days=i % 7), area=area, category=category)


def test_sur020_weekly_counts_put_each_day_in_its_week(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        for day, category in (
            (date(2026, 8, 1), "literature"),  # the day before the baseline: not counted
            (date(2026, 8, 2), "literature"),  # the first baseline day
            (date(2026, 8, 8), "online"),  # the last day of the first week
            (date(2026, 8, 9), "literature"),  # the second week
            (date(2026, 10, 24), "literature"),  # the last baseline day
            (date(2026, 10, 25), "online"),  # the first window day
            (date(2026, 10, 31), "literature"),  # the as-of date
            (date(2026, 11, 1), "literature"),  # after it: not counted
        ):
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM, category=category)
        add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 27), area=COVENTRY)
    viewer = viewer_of(db, people.police_member)
    with db.session() as s:
        overall = weekly_counts(s, viewer, RecordFilters(), AS_OF, by_category=False)
        by_category = weekly_counts(s, viewer, RecordFilters(), AS_OF, by_category=True)
        online_only = weekly_counts(s, viewer, RecordFilters(categories=("online",)), AS_OF, by_category=False)
    assert overall == {
        (BIRMINGHAM, None): [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2],
        (COVENTRY, None): [0] * 12 + [1],
    }
    assert by_category[(BIRMINGHAM, "literature")] == [1, 1] + [0] * 9 + [1, 1]
    assert by_category[(BIRMINGHAM, "online")] == [1] + [0] * 11 + [1]
    assert online_only == {(BIRMINGHAM, None): [1] + [0] * 11 + [1]}


@pytest.fixture
def police_burst(db, people):
    """A steady 1 a week of council leaflets in Birmingham, then 8 police-only (AMBER+STRICT)
    reports in the window; and a GREEN surge of online activity in Leicester."""
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        weekly_baseline(s, cora, BIRMINGHAM)
        burst(s, cora, BIRMINGHAM, 1)
        burst(s, pat, BIRMINGHAM, 8, marking=Marking.AMBER_STRICT)
        weekly_baseline(s, cora, LEICESTER, category="online")
        burst(s, cora, LEICESTER, 9, category="online")
    return people


def test_sur021_records_a_viewer_cannot_see_never_flag(db, police_burst):
    council = viewer_of(db, police_burst.council_member)
    police = viewer_of(db, police_burst.police_member)
    with db.session() as s:
        for_council = early_warning(s, council, RecordFilters(), AS_OF)
        for_police = early_warning(s, police, RecordFilters(), AS_OF)
    assert for_council.by_code()[BIRMINGHAM].band is Band.STABLE  # 1 after 1 a week
    assert for_police.by_code()[BIRMINGHAM].band is Band.SHARP_RISE  # their own 8 count for them
    assert {(f.area_code, f.category_code) for f in for_council.flags} == {(LEICESTER, None), (LEICESTER, "online")}
    assert {(f.area_code, f.category_code) for f in for_police.flags} == {
        (LEICESTER, None), (LEICESTER, "online"), (BIRMINGHAM, None), (BIRMINGHAM, "literature"),
    }
    assert len(for_council.areas) == 65
    assert sum(a.band is Band.STABLE for a in for_council.areas) == 64


def test_sur022_flags_say_where_what_and_how_many(db, police_burst):
    police = viewer_of(db, police_burst.police_member)
    with db.session() as s:
        flags = early_warning(s, police, RecordFilters(), AS_OF).flags
    assert [f.p_high for f in flags] == sorted(f.p_high for f in flags)  # most significant first
    leicester = next(f for f in flags if f.area_code == LEICESTER and f.category_code == "online")
    assert (leicester.area_name, leicester.category_label) == ("Leicester", "Online activity and misinformation")
    assert (leicester.window_start, leicester.window_end) == (date(2026, 10, 25), AS_OF)
    assert (leicester.observed, leicester.expected, leicester.band) == (9, 1.0, Band.SHARP_RISE)
    overall = next(f for f in flags if f.area_code == BIRMINGHAM and f.category_code is None)
    assert (overall.category_label, overall.observed) == (ALL_CATEGORIES, 9)
    assert leicester.describe() == (
        "Leicester, Online activity and misinformation: 9 in the 7 days to 31 Oct 2026 (about 1.0 in a usual week)"
    )


def test_sur023_force_areas_and_regions_add_up_their_districts(db, police_burst):
    police = viewer_of(db, police_burst.police_member)
    council = viewer_of(db, police_burst.council_member)
    with db.session() as s:
        forces = early_warning(s, police, RecordFilters(), AS_OF, Geography.FORCE).by_code()
        regions = early_warning(s, council, RecordFilters(), AS_OF, Geography.REGION, by_category=False)
    assert len(forces) == 9
    wmp = forces[WEST_MIDLANDS_POLICE]
    assert (wmp.name, wmp.assessment.observed, wmp.band) == ("West Midlands Police", 9, Band.SHARP_RISE)
    assert regions.by_code()[WEST_MIDLANDS_REGION].assessment.observed == 1  # Birmingham's one GREEN
    assert regions.by_code()["E12000004"].band is Band.SHARP_RISE  # East Midlands: Leicester's surge
    assert all(f.category_code is None for f in regions.flags)  # by_category=False: overall flags only


def test_sur024_the_filters_apply(db, police_burst):
    police = viewer_of(db, police_burst.police_member)
    with db.session() as s:
        literature = early_warning(s, police, RecordFilters(categories=("literature",)), AS_OF)
        green = early_warning(s, police, RecordFilters(markings=(Marking.GREEN.value,)), AS_OF)
        coventry = early_warning(s, police, RecordFilters(areas=(COVENTRY,)), AS_OF)
    assert {f.area_code for f in literature.flags} == {BIRMINGHAM}
    assert {f.area_code for f in green.flags} == {LEICESTER}
    assert [a.code for a in coventry.areas] == [COVENTRY] and coventry.flags == []


def test_sur025_partnership_wide_flags_count_only_green_and_clear(db, police_burst):
    with db.session() as s:
        flags = surge_flags(s, *partnership_wide(), AS_OF)
    assert {(f.area_code, f.category_code) for f in flags} == {(LEICESTER, None), (LEICESTER, "online")}
    assert all(f.band is Band.SHARP_RISE for f in flags)


def test_sur026_the_summary_names_the_areas(db, police_burst):
    police = viewer_of(db, police_burst.police_member)
    with db.session() as s:
        warning = early_warning(s, police, RecordFilters(), AS_OF)
        quiet = early_warning(s, police, RecordFilters(), date(2026, 6, 1))
    text = warning.sentence()
    assert text.startswith("2 districts show a sharp rise (")
    assert "Birmingham" in text and "Leicester" in text
    assert "in the 7 days to 31 Oct 2026 against the 12 weeks before; 63 are stable." in text
    assert "Sharpest rise in one category:" in text
    assert quiet.sentence() == (
        "No district shows a rise or a fall in the 7 days to 1 Jun 2026 against the 12 weeks before: all 65 are stable."
    )
