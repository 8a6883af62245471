"""Incidents over time for the trends page: by week or month, split by category, strand, area or
reporting organisation, as counts or rates, with the same period a year before.

Every count is made in the database through the access gate (`Purpose.AGGREGATE`), so it holds
only the records the viewer may see. Whole weeks and months are summed from the trend counts
(`incident_trend_counts`: stretches of days that are whole weeks cut at month ends); the AMBER
and RED records (whose visibility depends on their lists), the days of an unfinished stretch at
the end of the period, and anything the trend counts cannot answer (verification, reporting
organisation) are counted from the incidents' covering index. Results are a few hundred rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import cache
from .access import Purpose, RecordFilters, Viewer, visible
from .models import (
    Area,
    Incident,
    IncidentCategory,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    Organisation,
    Strand,
)
from .overview import Geography
from .reference import AUDIENCE_LISTED
from .rollups import (
    bucket_start,
    grouping_key,
    in_parallel,
    month_start,
    next_month,
    week_start,
)


class Grain(StrEnum):
    WEEK = "week"
    MONTH = "month"


class Split(StrEnum):
    NONE = "none"
    CATEGORY = "category"
    STRAND = "strand"
    AREA = "area"
    ORGANISATION = "organisation"


class Measure(StrEnum):
    COUNT = "count"
    RATE = "rate"


GRAIN_LABELS = {Grain.WEEK: "Week", Grain.MONTH: "Month"}
SPLIT_LABELS = {
    Split.NONE: "Nothing (all incidents)",
    Split.CATEGORY: "Category",
    Split.STRAND: "Hate-crime strand",
    Split.AREA: "Area",
    Split.ORGANISATION: "Reporting organisation",
}
MEASURE_LABELS = {Measure.COUNT: "Number of incidents", Measure.RATE: "Incidents per 100,000 residents"}
# One line per series at most this many (the colour-blind-safe palette has six colours); the
# rest are added up as "All others".
MAX_SERIES = 6
MAX_AREAS = 6
HATE_CRIME_PREFIX = "hc-"
OTHERS = "__others__"


@dataclass(frozen=True)
class TrendQuery:
    """What the viewer asked for. `areas` are codes of the chosen geography (none: the region)."""

    filters: RecordFilters
    grain: Grain = Grain.WEEK
    split: Split = Split.CATEGORY
    geography: Geography = Geography.DISTRICT
    areas: tuple[str, ...] = ()
    measure: Measure = Measure.COUNT
    compare_last_year: bool = False

    def __post_init__(self) -> None:
        if self.filters.start is None or self.filters.end is None:
            raise ValueError("A trend needs a start and an end date.")
        if len(self.areas) > MAX_AREAS:
            raise ValueError(f"Compare at most {MAX_AREAS} areas at once.")


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    counts: tuple[int, ...]
    population: int

    @property
    def total(self) -> int:
        return sum(self.counts)

    def values(self, measure: Measure) -> tuple[float, ...]:
        if measure is Measure.RATE:
            scale = 100_000 / self.population if self.population else 0.0
            return tuple(round(n * scale, 2) for n in self.counts)
        return tuple(float(n) for n in self.counts)


@dataclass(frozen=True)
class Trend:
    query: TrendQuery
    start: date  # the period, widened to start with a whole week or month
    end: date
    buckets: tuple[date, ...]  # the first day of each week or month
    bucket_days: tuple[int, ...]  # days of each bucket inside the period (the last may be short)
    series: tuple[Series, ...]
    last_year: tuple[Series, ...] = ()  # the same keys, bucket by bucket a year earlier
    last_year_start: date | None = None
    last_year_end: date | None = None
    merged: int = 0  # series added up into "All others"
    area_names: tuple[str, ...] = ()  # the areas compared or chosen, by name
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)

    @property
    def last_year_total(self) -> int:
        return sum(s.total for s in self.last_year)

    def bucket_complete(self, index: int) -> bool:
        full = 7 if self.query.grain is Grain.WEEK else _month_length(self.buckets[index])
        return self.bucket_days[index] >= full

    @property
    def shows_hate_crime(self) -> bool:
        """Whether hate-crime figures are on the chart (the caveat then goes beside it)."""
        q = self.query
        if q.split is Split.STRAND or q.filters.strands:
            return True
        if q.filters.categories:
            return any(c.startswith(HATE_CRIME_PREFIX) for c in q.filters.categories)
        return True  # every category, hate-crime ones included


def _month_length(first: date) -> int:
    return (next_month(first) - first).days


def bucket_of(day: date, grain: Grain) -> date:
    return week_start(day) if grain is Grain.WEEK else month_start(day)


def _next_bucket(first: date, grain: Grain) -> date:
    return first + timedelta(days=7) if grain is Grain.WEEK else next_month(first)


def _stretch_end(first: date) -> date:
    """The last day of the stretch (week cut at month end) that starts on `first`."""
    return min(week_start(first) + timedelta(days=6), next_month(first) - timedelta(days=1))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- counting --------------------------------------------------------------------------------


def _key_columns(split: Split, model, *, plain: bool = False):
    """The column a split groups by. The trend counts group by the plain column, so that the
    index for that split hands rows over in order; the incidents by `grouping_key`, so that
    SQLite keeps counting from their covering index."""
    column = {
        Split.CATEGORY: getattr(model, "category_code", None),
        Split.STRAND: getattr(model, "strand_mask", None),
        Split.AREA: getattr(model, "area_code", None),
        Split.ORGANISATION: getattr(model, "source_org_id", None),
    }.get(split)
    if column is None:
        return []  # all incidents together (PostgreSQL refuses to group by a constant)
    return [column if plain else grouping_key(column)]


def _keyed(rows) -> Counter:
    """(day, [key,] n) rows -> Counter((stretch start, key) -> n); the key 'all' when none."""
    out: Counter = Counter()
    for row in rows:
        key = row[1] if len(row) == 3 else "all"
        out[(bucket_start(_as_date(row[0])), key)] += int(row[-1])
    return out


def _from_trend_counts(session: Session, viewer: Viewer, filters: RecordFilters, split: Split) -> Counter:
    """(stretch start, key) -> incidents, from the trend counts, for the stretches that start in
    [filters.start, filters.end]: the region's own counts when no district is asked for."""
    table = IncidentTrendCount if (filters.areas or split is Split.AREA) else IncidentRegionTrendCount
    keys = _key_columns(split, table, plain=True)
    stmt = (
        visible(viewer, table, filters, Purpose.AGGREGATE)
        .with_only_columns(table.bucket, *keys, func.sum(table.incidents))
        .group_by(table.bucket, *keys)
    )
    return _keyed(session.execute(stmt))


def _from_incidents(
    session: Session, viewer: Viewer, filters: RecordFilters, split: Split, *, listed_only: bool = False
) -> Counter:
    """(stretch start, key) -> incidents, counted from the incidents themselves (by day: a few
    thousand rows at most, and cheaper than working out each record's stretch in SQL)."""
    keys = _key_columns(split, Incident)
    day = grouping_key(Incident.occurred_on)
    stmt = visible(viewer, Incident, filters, Purpose.AGGREGATE).with_only_columns(day, *keys, func.count())
    if listed_only:
        stmt = stmt.where(Incident.audience == AUDIENCE_LISTED)
    return _keyed(session.execute(stmt.group_by(day, *keys)))


def _trend_counts_apply(filters: RecordFilters, split: Split) -> bool:
    return split is not Split.ORGANISATION and not (
        filters.verification or filters.organisations or filters.include_deleted
    )


def _counting_tasks(viewer: Viewer, filters: RecordFilters, split: Split) -> list[Callable[[Session], Counter]]:
    """The reads that together count [filters.start, filters.end] by stretch and key."""
    start, end = filters.start, filters.end
    if not _trend_counts_apply(filters, split):
        middle = start + (end - start) // 2
        return [
            lambda s: _from_incidents(s, viewer, replace(filters, end=middle), split),
            lambda s: _from_incidents(s, viewer, replace(filters, start=middle + timedelta(days=1)), split),
        ]
    # Whole stretches come from the trend counts; the stretch holding `end` is whole only when
    # `end` is its last day. Each read is cut in two halves so that the two connections get
    # about the same work (see `_run`).
    last = bucket_start(end)
    whole_to = end if _stretch_end(last) == end else last - timedelta(days=1)
    tasks: list[Callable[[Session], Counter]] = []
    if whole_to >= start:
        middle = bucket_start(start + (whole_to - start) // 2)
        halves = [(start, middle - timedelta(days=1)), (middle, whole_to)] if middle > start else [(start, whole_to)]
        for first, to in halves:
            # (the trend counts are filtered by stretch start: every stretch starting in range is whole)
            tasks.append(
                lambda s, a=first, b=to: _from_trend_counts(s, viewer, replace(filters, start=a, end=bucket_start(b)), split)
            )
        for first, to in halves:
            tasks.append(
                lambda s, a=first, b=to: _from_incidents(s, viewer, replace(filters, start=a, end=b), split, listed_only=True)
            )
    if whole_to < end:
        tasks.append(lambda s, a=max(start, whole_to + timedelta(days=1)):
                     _from_incidents(s, viewer, replace(filters, start=a), split))
    return tasks


def _run(session: Session, tasks: list[Callable[[Session], Counter]]) -> Counter:
    """Run the reads on two connections at once (every other read on the second), add them up."""
    if len(tasks) <= 1:
        return sum((t(session) for t in tasks), Counter())

    def share(part: list[Callable[[Session], Counter]]) -> Callable[[Session], Counter]:
        return lambda s: sum((t(s) for t in part), Counter())

    a, b = in_parallel(session, [share(tasks[0::2]), share(tasks[1::2])])
    return a + b


# --- labels and areas -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Districts:
    unit_of: dict[str, str]  # district code -> code of the chosen geography's unit
    unit_names: dict[str, str]
    unit_population: dict[str, int]


def _districts(session: Session, geography: Geography) -> _Districts:
    columns = {
        Geography.DISTRICT: (Area.code, Area.name),
        Geography.FORCE: (Area.pfa_code, Area.police_force),
        Geography.REGION: (Area.region_code, Area.region),
    }[geography]
    unit_of, names, population = {}, {}, Counter()
    for district, code, name, people in session.execute(select(Area.code, *columns, Area.population)):
        unit_of[district] = code
        names[code] = name
        population[code] += people
    return _Districts(unit_of, names, dict(population))


def area_choices(session: Session, geography: Geography) -> list[tuple[str, str]]:
    """(code, name) of every unit of a geography, by name."""
    d = _districts(session, geography)
    return sorted(d.unit_names.items(), key=lambda item: item[1])


def districts_of(session: Session, geography: Geography, areas: Collection[str]) -> list[str]:
    """The district codes inside the given units of a geography."""
    d = _districts(session, geography)
    wanted = set(areas)
    return sorted(code for code, unit in d.unit_of.items() if unit in wanted)


def _labels(session: Session, split: Split, districts: _Districts) -> dict[str, str]:
    if split is Split.CATEGORY:
        return dict(session.execute(select(IncidentCategory.code, IncidentCategory.label)).all())
    if split is Split.STRAND:
        return dict(session.execute(select(Strand.code, Strand.label)).all())
    if split is Split.ORGANISATION:
        return {str(i): n for i, n in session.execute(select(Organisation.id, Organisation.name))}
    if split is Split.AREA:
        return districts.unit_names
    return {"all": "All incidents"}


def _series_counts(
    raw: Counter, query: TrendQuery, buckets: list[date], districts: _Districts, strand_bits: dict[int, str]
) -> dict[str, list[int]]:
    """(stretch, key) counts -> per series key, counts per chart bucket."""
    index = {b: i for i, b in enumerate(buckets)}
    wanted_strands = set(query.filters.strands)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for (stretch, key), n in raw.items():
        i = index.get(bucket_of(stretch, query.grain))
        if i is None:
            continue
        if query.split is Split.STRAND:
            mask = int(key or 0)
            for bit, code in strand_bits.items():
                if mask & (1 << bit) and (not wanted_strands or code in wanted_strands):
                    out[code][i] += n
            continue
        if query.split is Split.AREA:
            key = districts.unit_of.get(key)
            if query.areas and key not in query.areas:
                continue
        out[str(key)][i] += n
    return out


def _buckets(start: date, end: date, grain: Grain) -> tuple[list[date], list[int]]:
    buckets, days = [], []
    first = start
    while first <= end:
        following = _next_bucket(first, grain)
        buckets.append(first)
        days.append((min(following - timedelta(days=1), end) - first).days + 1)
        first = following
    return buckets, days


def year_before(day: date, grain: Grain) -> date:
    """The same point a year earlier: 52 weeks (same weekday) for weeks, 12 months for months."""
    if grain is Grain.WEEK:
        return day - timedelta(weeks=52)
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def trend(session: Session, viewer: Viewer, query: TrendQuery) -> Trend:
    """The incidents the viewer may see over time, as the query asks."""
    return cache.cached(session, "trend", viewer, query, lambda: _trend(session, viewer, query))


def _trend(session: Session, viewer: Viewer, query: TrendQuery) -> Trend:
    grain = query.grain
    start = bucket_of(query.filters.start, grain)
    end = query.filters.end
    districts = _districts(session, query.geography)
    unknown = [a for a in query.areas if a not in districts.unit_names]
    if unknown:
        raise ValueError(f"Unknown area: {', '.join(unknown)}.")
    chosen_districts = tuple(sorted(d for d, u in districts.unit_of.items() if not query.areas or u in query.areas))
    filters = replace(query.filters, start=start, end=end, areas=chosen_districts if query.areas else ())
    buckets, days = _buckets(start, end, grain)

    tasks = _counting_tasks(viewer, filters, query.split)
    ly_start = ly_end = None
    if query.compare_last_year:
        ly_start, ly_end = year_before(start, grain), year_before(end, grain)
        ly_filters = replace(filters, start=ly_start, end=ly_end)
        ly_tasks = _counting_tasks(viewer, ly_filters, query.split)

        def tagged(task, tag: int) -> Callable[[Session], Counter]:
            return lambda s: Counter({(tag, key): n for key, n in task(s).items()})

        # Both years' reads, shared evenly between the two connections.
        both = _run(session, [tagged(t, 0) for t in tasks] + [tagged(t, 1) for t in ly_tasks])
        current = Counter({key: n for (tag, key), n in both.items() if tag == 0})
        before = Counter({key: n for (tag, key), n in both.items() if tag == 1})
    else:
        current, before = _run(session, tasks), Counter()

    strand_bits = {bit: code for code, bit in session.execute(select(Strand.code, Strand.bit))}
    labels = _labels(session, query.split, districts)
    counts = _series_counts(current, query, buckets, districts, strand_bits)
    ly_buckets = [year_before(b, grain) for b in buckets]
    before_counts = _series_counts(before, query, ly_buckets, districts, strand_bits) if query.compare_last_year else {}

    whole_population = sum(districts.unit_population[u] for u in
                           ({districts.unit_of[d] for d in chosen_districts}))

    def population(key: str) -> int:
        if query.split is Split.AREA:
            return districts.unit_population.get(key, 0)
        return whole_population

    # Which series get their own line: for areas, every chosen area (or the largest); otherwise
    # the largest by total this period; the rest are added up.
    keys = set(counts) | set(before_counts)
    if query.split is Split.AREA and query.areas:
        keys |= set(query.areas)
    ranked = sorted(keys, key=lambda k: (-sum(counts.get(k, ())), labels.get(k, k)))
    merged = 0
    if len(ranked) > MAX_SERIES:
        shown, rest = ranked[: MAX_SERIES - 1], ranked[MAX_SERIES - 1 :]
        merged = len(rest)
    else:
        shown, rest = ranked, []

    def build(source: dict[str, list[int]]) -> tuple[Series, ...]:
        out = [
            Series(k, labels.get(k, k), tuple(source.get(k, [0] * len(buckets))), population(k)) for k in shown
        ]
        if rest:
            summed = [sum(source.get(k, [0] * len(buckets))[i] for k in rest) for i in range(len(buckets))]
            pop = sum(population(k) for k in rest) if query.split is Split.AREA else whole_population
            out.append(Series(OTHERS, f"All others ({len(rest)})", tuple(summed), pop))
        return tuple(out)

    if query.split is Split.NONE and not keys:
        shown = ["all"]
    notes = []
    if query.split is Split.STRAND:
        notes.append("Incidents with no strand recorded are not in any line; an incident with two strands "
                     "is in both lines.")
    if query.split is Split.ORGANISATION or query.filters.verification or query.filters.organisations:
        notes.append("Counted record by record (these choices are not in the weekly summaries), so this "
                     "view can take a little longer.")
    area_names = tuple(districts.unit_names[a] for a in query.areas)
    return Trend(
        query=query,
        start=start,
        end=end,
        buckets=tuple(buckets),
        bucket_days=tuple(days),
        series=build(counts),
        last_year=build(before_counts) if query.compare_last_year else (),
        last_year_start=ly_start,
        last_year_end=ly_end,
        merged=merged,
        area_names=area_names,
        notes=tuple(notes),
    )


def table_data(t: Trend) -> dict:
    """The chart's numbers as plain data (aggregates only, no records), for its table view."""
    q = t.query
    columns = [(s.label, s) for s in t.series] + [(f"{s.label}, a year before", s) for s in t.last_year]
    return {
        "grain": q.grain.value,
        "measure": q.measure.value,
        "start": t.start.isoformat(),
        "end": t.end.isoformat(),
        "rows": [
            {"label": bucket_label(b, q.grain), "days": t.bucket_days[i], "complete": t.bucket_complete(i)}
            for i, b in enumerate(t.buckets)
        ],
        "columns": [{"label": label, "values": list(s.values(q.measure)), "total": s.total} for label, s in columns],
    }


# --- words ------------------------------------------------------------------------------------


def bucket_label(first: date, grain: Grain) -> str:
    return f"w/c {first:%-d %b %Y}" if grain is Grain.WEEK else f"{first:%b %Y}"


def _where(trend_: Trend) -> str:
    if not trend_.area_names:
        return "the whole region"
    if len(trend_.area_names) == 1:
        return trend_.area_names[0]
    return ", ".join(trend_.area_names[:-1]) + " and " + trend_.area_names[-1]


def summary_sentence(t: Trend) -> str:
    """What the chart shows, in words (the chart's text alternative)."""
    q = t.query
    unit = "weeks" if q.grain is Grain.WEEK else "months"
    total = t.total
    parts = [
        f"{total:,} incidents you can see in {_where(t)}, {len(t.buckets)} {unit} from "
        f"{t.start:%-d %b %Y} to {t.end:%-d %b %Y}."
    ]
    if t.series and total:
        per_bucket = [sum(s.counts[i] for s in t.series) for i in range(len(t.buckets))]
        complete = [i for i in range(len(t.buckets)) if t.bucket_complete(i)]
        if complete:
            peak = max(complete, key=lambda i: per_bucket[i])
            parts.append(f"The busiest whole {q.grain.value} was {bucket_label(t.buckets[peak], q.grain)} "
                         f"with {per_bucket[peak]:,}.")
        if q.split is not Split.NONE:
            top = max(t.series, key=lambda s: s.total)
            parts.append(f"The largest line is {top.label} ({top.total:,}).")
    if q.compare_last_year and t.last_year_start:
        before = t.last_year_total
        if before:
            change = (total - before) / before * 100
            parts.append(f"A year earlier the same period had {before:,} ({'up' if change >= 0 else 'down'} "
                         f"{abs(change):.0f}% since).")
        else:
            parts.append("A year earlier the same period had none you can see.")
    if t.buckets and not t.bucket_complete(len(t.buckets) - 1):
        parts.append(f"The last {q.grain.value} is not over yet ({t.bucket_days[-1]} days so far).")
    return " ".join(parts)
