"""Early warning: which areas and categories show a surge in the last 7 days.

How a surge is found, in plain words (the same rule is shown to users as `RULE_TEXT`):

- The window is the 7 days ending on the chosen date ("as of"). The baseline is the 12 weeks
  (84 days) just before the window, taken as 12 weekly counts, for each district (and for each
  force area or region, the sum of its districts), for all categories together and for each
  category on its own.
- Expected: the baseline's weekly average (at least 1/12, one incident in the 12 weeks, so that
  a baseline of nothing but zeros still gives a sensible expectation).
- Usual variation: how much the 12 weekly counts vary around that average. Incident counts
  often vary more than pure chance would make them (reports come in waves), so the rule uses a
  negative binomial distribution with the baseline's mean and its variance/mean ratio (at least
  1, the Poisson distribution's, where the weeks vary no more than chance would), widened by a
  twelfth for the uncertainty of an average taken from only 12 weeks. `p_high` is the chance of
  a week at least as busy as the window's if nothing had changed; `p_low` the chance of a week at
  least as quiet.
- Bands:
  - sharp rise (a surge, and what alerts are sent for): at least 5 incidents in the window, at
    least 3 more than expected, and p_high below 0.005 (fewer than 1 ordinary week in 200);
  - rise: at least 3 incidents and p_high below 0.05 (fewer than 1 ordinary week in 20);
  - fall: a usual week holds at least 3 incidents and p_low below 0.05;
  - stable: anything else.
- Tiny counts never flag: one incident after none (or two, or four) is never a sharp rise,
  however unusual it is, and nothing below 3 is ever a rise.

What it does not know: seasons and long trends beyond the 12 weeks, reports that arrive late (the
last days of the window are often incomplete, which can look like a fall), and incidents dated
only to a week or a month (they count on the day they are dated to). With about 65 districts
and 12 categories, a few hundred series are tested each week, so an odd flag by chance is
possible: a flag is a prompt to look, not a finding. On simulated series that do not change,
fewer than 1 in 100 flag as a sharp rise where weeks vary as chance does, and about 2 in 100
where weeks vary three to six times as much (12 weeks estimate that variation roughly); a week
at three times the usual rate (plus 4) is found 7 times in 10 at 2 a week and almost always
from 10 a week (tests/test_surges.py).

Counting goes through the access gate (`access.visible`, for aggregates): records a viewer
cannot see never count in that viewer's early warning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Integer, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from .access import Purpose, RecordFilters, Viewer, visible
from .models import Area, Incident, IncidentCategory
from .overview import UNIT_COLUMNS, Geography
from .rollups import grouping_key

WINDOW_DAYS = 7
BASELINE_WEEKS = 12
MIN_EXPECTED = 1 / BASELINE_WEEKS  # one incident in the 12 weeks
MIN_SURGE_COUNT = 5  # a sharp rise needs at least this many incidents in the window
MIN_SURGE_EXCESS = 3  # ... and at least this many more than expected
SURGE_P = 0.005
MIN_RISE_COUNT = 3
RISE_P = 0.05
MIN_FALL_EXPECTED = 3
FALL_P = 0.05
ALL_CATEGORIES = "All categories"

RULE_TEXT = (
    "Each area's last 7 days are compared with the 12 weeks before them: how many incidents a "
    "usual week held, and how much the weeks varied. A sharp rise (a surge) is at least 5 "
    "incidents, at least 3 more than usual, and a count an ordinary week would reach less than "
    "once in 200 weeks. A rise is at least 3 incidents and a count reached less than once in 20 "
    "weeks. A fall is a count as low as this less than once in 20 weeks, where a usual week holds "
    "at least 3. Anything else is stable. A handful of incidents after a quiet spell is never a "
    "surge. A flag is a prompt to look, not a finding: late reports, seasons and chance also "
    "move the counts."
)


class Band(StrEnum):
    """How the window compares with the baseline (the value is the label shown to people)."""

    SHARP_RISE = "sharp rise"
    RISE = "rise"
    STABLE = "stable"
    FALL = "fall"

    @property
    def rank(self) -> int:
        """0 for a fall up to 3 for a sharp rise: the order of the map's colour scale."""
        return {Band.FALL: 0, Band.STABLE: 1, Band.RISE: 2, Band.SHARP_RISE: 3}[self]


# Fill and text colours (a blue-orange scale safe for colour-blind readers); always shown with
# the band's name, never alone.
BAND_COLOURS = {
    Band.FALL: ("#7FA6CC", "#000000"),
    Band.STABLE: ("#F2F2F2", "#000000"),
    Band.RISE: ("#F7A06B", "#000000"),
    Band.SHARP_RISE: ("#A63D0A", "#FFFFFF"),
}


# --- the rule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """One window judged against its baseline."""

    observed: int
    expected: float  # the baseline's weekly mean (with the floor)
    baseline_weeks: int
    dispersion: float  # variance / mean of the baseline weeks (at least 1), times (1 + 1/weeks)
    p_high: float  # P(a week at least as busy as the window | baseline)
    p_low: float  # P(a week at least as quiet as the window | baseline)
    band: Band

    @property
    def excess(self) -> float:
        return self.observed - self.expected

    def describe(self) -> str:
        """E.g. 'sharp rise: 12 incidents in the 7 days, against about 3.1 in a usual week'."""
        return (
            f"{self.band.value}: {self.observed:,} incident{'s' if self.observed != 1 else ''} in the 7 days, "
            f"against about {_about(self.expected)} in a usual week"
        )


def _about(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


_TOLERANCE = 1e-12  # tail sums stop once a term adds less than this share


class _Distribution:
    """Negative binomial with a given mean and variance/mean ratio (Poisson when the ratio is 1),
    with tail sums computed term by term from a recurrence (no special functions needed)."""

    def __init__(self, mean: float, dispersion: float) -> None:
        self.mean = mean
        self.poisson = dispersion <= 1.0 + 1e-9
        if not self.poisson:
            self.size = mean / (dispersion - 1.0)  # r
            self.fail = 1.0 - 1.0 / dispersion  # 1 - p, with p = r / (r + mean) = 1 / dispersion

    def log_pmf(self, k: int) -> float:
        if self.poisson:
            return -self.mean + k * math.log(self.mean) - math.lgamma(k + 1)
        r = self.size
        return (
            math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1)
            + r * math.log(1.0 - self.fail) + k * math.log(self.fail)
        )

    def upper(self, k: int) -> float:
        """P(X >= k), summed upwards from k (quick when k is above the mean)."""
        if k <= 0:
            return 1.0
        mean, poisson = self.mean, self.poisson
        size, fail = (0.0, 0.0) if poisson else (self.size, self.fail)
        term = math.exp(self.log_pmf(k))
        total = 0.0
        while term > 0.0:
            total += term
            if k > mean and term < total * _TOLERANCE:
                break
            # the next term from this one: pmf(k + 1) / pmf(k)
            term *= mean / (k + 1) if poisson else (k + size) / (k + 1) * fail
            k += 1
        return min(1.0, total)

    def lower(self, k: int) -> float:
        """P(X <= k), summed downwards from k (quick when k is below the mean)."""
        if k < 0:
            return 0.0
        mean, poisson = self.mean, self.poisson
        size, fail = (0.0, 0.0) if poisson else (self.size, self.fail)
        term = math.exp(self.log_pmf(k))
        total = 0.0
        while term > 0.0:
            total += term
            if k == 0 or (k < mean and term < total * _TOLERANCE):
                break
            # the previous term from this one: pmf(k - 1) / pmf(k)
            term *= k / mean if poisson else k / ((k - 1 + size) * fail)
            k -= 1
        return min(1.0, total)

    def at_least(self, k: int) -> float:
        return self.upper(k) if k > self.mean else max(0.0, 1.0 - self.lower(k - 1))

    def at_most(self, k: int) -> float:
        return self.lower(k) if k < self.mean else max(0.0, 1.0 - self.upper(k + 1))


def assess(observed: int, baseline: Sequence[int]) -> Assessment:
    """Judge a window's count against the weekly counts of its baseline (the rule above)."""
    if observed < 0 or any(n < 0 for n in baseline):
        raise ValueError("Counts cannot be negative.")
    if len(baseline) < 2:
        raise ValueError("A baseline needs at least two weeks.")
    weeks = len(baseline)
    mean = sum(baseline) / weeks
    expected = max(mean, MIN_EXPECTED)
    variance = sum((n - mean) ** 2 for n in baseline) / (weeks - 1)  # (statistics.variance is slow)
    # How much a new week varies around an average taken from only 12 weeks: the weeks' own
    # variation, plus the uncertainty of that average (a twelfth more).
    dispersion = max(1.0, variance / expected) * (1 + 1 / weeks)
    dist = _Distribution(expected, dispersion)
    p_high = dist.at_least(observed)
    p_low = dist.at_most(observed)
    if observed >= MIN_SURGE_COUNT and observed - expected >= MIN_SURGE_EXCESS and p_high < SURGE_P:
        band = Band.SHARP_RISE
    elif observed >= MIN_RISE_COUNT and observed > expected and p_high < RISE_P:
        band = Band.RISE
    elif expected >= MIN_FALL_EXPECTED and observed < expected and p_low < FALL_P:
        band = Band.FALL
    else:
        band = Band.STABLE
    return Assessment(observed, expected, weeks, dispersion, p_high, p_low, band)


# --- counting through the access gate ---------------------------------------------------------


class day_number(FunctionElement):  # noqa: N801 - used like a SQL function
    """A date column as whole days since 1970-01-01, on SQLite and PostgreSQL alike."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number)
def _day_number(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"  # PostgreSQL: an integer


@compiles(day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def _epoch_days(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def window_dates(as_of: date) -> tuple[date, date, date, date]:
    """(baseline start, baseline end, window start, window end) for a window ending on `as_of`."""
    window_start = as_of - timedelta(days=WINDOW_DAYS - 1)
    baseline_start = window_start - timedelta(weeks=BASELINE_WEEKS)
    return baseline_start, window_start - timedelta(days=1), window_start, as_of


SeriesKey = tuple[str, str | None]


def weekly_counts(
    session: Session, viewer: Viewer, filters: RecordFilters, as_of: date, *, by_category: bool
) -> dict[SeriesKey, list[int]]:
    """Per district (and category, or None for all categories together), 13 weekly counts of
    the incidents the viewer may see that match the filters (their dates are replaced): the 12
    baseline weeks, oldest first, then the window of 7 days ending on `as_of`. Series with no
    incident at all are left out (read them as zeros)."""
    baseline_start = window_dates(as_of)[0]
    weeks = BASELINE_WEEKS + 1
    # Whole weeks before the as-of date: 0 for the window, 12 for the oldest baseline week. The
    # date goes into the SQL as a number, so the grouping and the columns are the same text.
    ago = (
        literal(_epoch_days(as_of), Integer, literal_execute=True) - day_number(Incident.occurred_on)
    ) // literal_column(str(WINDOW_DAYS), Integer)
    area = grouping_key(Incident.area_code)
    keys = (area, grouping_key(Incident.category_code), ago) if by_category else (area, ago)

    stmt = (
        visible(viewer, Incident, replace(filters, start=baseline_start, end=as_of), Purpose.AGGREGATE)
        .with_only_columns(*keys, func.count())
        .group_by(*keys)
    )
    series: dict[SeriesKey, list[int]] = {}
    for row in session.execute(stmt):
        code, category = row[0], (row[1] if by_category else None)
        week_ago, n = int(row[-2]), int(row[-1])
        counts = series.get((code, category))
        if counts is None:
            counts = series[(code, category)] = [0] * weeks
        counts[weeks - 1 - week_ago] += n
    return series


# --- early warning ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SurgeFlag:
    """A sharp rise in one district, for one category or all categories together."""

    area_code: str
    area_name: str
    category_code: str | None
    category_label: str
    window_start: date
    window_end: date
    observed: int
    expected: float
    band: Band
    p_high: float

    def describe(self) -> str:
        """E.g. 'Birmingham, Literature and leaflets: 9 in the 7 days to 3 Nov 2026 (about 1.2 in a usual week)'."""
        return (
            f"{self.area_name}, {self.category_label.lower() if self.category_code is None else self.category_label}: "
            f"{self.observed:,} in the 7 days to {self.window_end:%-d %b %Y} "
            f"(about {_about(self.expected)} in a usual week)"
        )


@dataclass(frozen=True)
class AreaWarning:
    """One map unit's band, all categories together."""

    code: str
    name: str
    assessment: Assessment

    @property
    def band(self) -> Band:
        return self.assessment.band


_BAND_PHRASES = ((Band.SHARP_RISE, "a sharp rise"), (Band.RISE, "a rise"), (Band.FALL, "a fall"))


@dataclass(frozen=True)
class EarlyWarning:
    as_of: date
    geography: Geography
    baseline_start: date
    baseline_end: date
    window_start: date
    window_end: date
    areas: list[AreaWarning]
    flags: list[SurgeFlag]

    def by_code(self) -> dict[str, AreaWarning]:
        return {a.code: a for a in self.areas}

    def in_band(self, band: Band) -> list[AreaWarning]:
        """The areas in a band, most unusual first."""
        chosen = [a for a in self.areas if a.band is band]
        key = (lambda a: a.assessment.p_low) if band is Band.FALL else (lambda a: a.assessment.p_high)
        return sorted(chosen, key=lambda a: (key(a), a.name))

    def sentence(self) -> str:
        """What the early warning shows, in one or two sentences, for people who cannot see the map."""
        unit = {Geography.DISTRICT: "district", Geography.FORCE: "force area", Geography.REGION: "region"}[
            self.geography
        ]
        period = f"the 7 days to {self.window_end:%-d %b %Y} against the 12 weeks before"
        if not self.areas:
            return f"No areas match the filters ({period})."
        found = [(label, self.in_band(band)) for band, label in _BAND_PHRASES]
        found = [(label, areas) for label, areas in found if areas]
        if not found:
            return f"No {unit} shows a rise or a fall in {period}: all {len(self.areas)} are stable."

        def names(areas: list[AreaWarning]) -> str:
            listed = ", ".join(a.name for a in areas[:3])
            return listed + (f" and {len(areas) - 3} more" if len(areas) > 3 else "")

        parts = []
        for label, areas in found:
            n = len(areas)
            head = f"{n} {unit}{'' if n == 1 else 's'} {'shows' if n == 1 else 'show'} {label}" if not parts else f"{n} {label}"
            parts.append(f"{head} ({names(areas)})")
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        stable = sum(1 for a in self.areas if a.band is Band.STABLE)
        text = f"{joined}, in {period}; {stable} {'is' if stable == 1 else 'are'} stable."
        categories = [f for f in self.flags if f.category_code is not None]
        if categories:
            text += f" Sharpest rise in one category: {categories[0].describe()}."
        return text


def _category_labels(session: Session) -> dict[str, str]:
    return dict(session.execute(select(IncidentCategory.code, IncidentCategory.label)).all())


def _flags(
    counts: dict[SeriesKey, list[int]], names: dict[str, str], labels: dict[str, str], as_of: date
) -> list[SurgeFlag]:
    """District sharp rises, per category (where counted by category) and for all categories,
    most significant first."""
    by_category = {key: series for key, series in counts.items() if key[1] is not None}
    totals = {key: list(series) for key, series in counts.items() if key[1] is None}
    for (code, _category), series in by_category.items():
        total = totals.setdefault((code, None), [0] * len(series))
        for i, n in enumerate(series):
            total[i] += n
    _, _, window_start, window_end = window_dates(as_of)
    flags = []
    for (code, category), series in (*totals.items(), *by_category.items()):
        observed, baseline = series[-1], series[:-1]
        if observed < MIN_SURGE_COUNT or observed - sum(baseline) / len(baseline) < MIN_SURGE_EXCESS:
            continue  # cannot be a sharp rise: no need to work out its chances
        result = assess(observed, baseline)
        if result.band is Band.SHARP_RISE:
            flags.append(
                SurgeFlag(
                    code, names.get(code, code), category,
                    ALL_CATEGORIES if category is None else labels.get(category, category),
                    window_start, window_end, result.observed, result.expected, result.band, result.p_high,
                )
            )
    flags.sort(key=lambda f: (f.p_high, -(f.observed - f.expected), f.area_name, f.category_code or ""))
    return flags


def surge_flags(session: Session, viewer: Viewer, filters: RecordFilters, as_of: date) -> list[SurgeFlag]:
    """The districts' sharp rises (per category, and for all categories together) in the 7 days
    ending on `as_of`, counting only what the viewer may see, most significant first."""
    counts = weekly_counts(session, viewer, filters, as_of, by_category=True)
    names = dict(session.execute(select(Area.code, Area.name)).all())
    return _flags(counts, names, _category_labels(session), as_of)


def early_warning(
    session: Session,
    viewer: Viewer,
    filters: RecordFilters,
    as_of: date,
    geography: Geography = Geography.DISTRICT,
    *,
    by_category: bool = True,
) -> EarlyWarning:
    """A band for every area of the geography (all categories together) and the districts'
    surges (per category and overall), for the 7 days ending on `as_of` against the 12 weeks
    before, counting only what the viewer may see and what matches the filters (dates aside).

    With `by_category=False` the flags are the districts' surges for all categories together
    only, which takes the database about half the time (the map needs no more)."""
    counts = weekly_counts(session, viewer, filters, as_of, by_category=by_category)
    code_col, name_col = UNIT_COLUMNS[geography]
    rows = session.execute(select(Area.code, Area.name, code_col, name_col).order_by(name_col, Area.code)).all()
    weeks = BASELINE_WEEKS + 1
    unit_counts: dict[str, list[int]] = {}
    unit_names: dict[str, str] = {}
    district_of: dict[str, str] = {}
    for district, _name, unit_code, unit_name in rows:
        if filters.areas and district not in filters.areas:
            continue
        unit_counts.setdefault(unit_code, [0] * weeks)
        unit_names[unit_code] = unit_name
        district_of[district] = unit_code
    for (district, _category), series in counts.items():
        unit = district_of.get(district)
        if unit is not None:
            total = unit_counts[unit]
            for i, n in enumerate(series):
                total[i] += n
    areas = [
        AreaWarning(code, unit_names[code], assess(series[-1], series[:-1])) for code, series in unit_counts.items()
    ]
    names = {district: name for district, name, _c, _n in rows}
    flags = _flags(counts, names, _category_labels(session), as_of)
    baseline_start, baseline_end, window_start, window_end = window_dates(as_of)
    return EarlyWarning(as_of, geography, baseline_start, baseline_end, window_start, window_end, areas, flags)
