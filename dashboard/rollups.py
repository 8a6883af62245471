"""Monthly incident counts kept in step with the incidents, and counting that uses them.

Counting a year of a million incidents row by row takes SQLite about a third of a second. Whole
months are therefore read from `incident_monthly_counts` (district x month x audience), and only
the days at the edges of a period, and the AMBER and RED records whose visibility depends on
their lists, are counted from the incidents, through their covering index. Both parts go
through the access gate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from .access import Purpose, RecordFilters, Viewer, visible
from .models import (
    Incident,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
)
from .reference import AUDIENCE_DELETED, AUDIENCE_LISTED, map_cell

_PENDING = "dashboard.rollup_months"
T = TypeVar("T")


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def next_quarter(day: date) -> date:
    first = quarter_start(day)
    return date(first.year + 1, 1, 1) if first.month == 10 else date(first.year, first.month + 3, 1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def bucket_start(day: date) -> date:
    """The first day of the stretch (a Monday-to-Sunday week cut at month ends) holding `day`."""
    return max(week_start(day), month_start(day))


def _bucket_expression(dialect: str):
    if dialect == "postgresql":
        return func.cast(
            func.greatest(func.date_trunc("week", Incident.occurred_on), func.date_trunc("month", Incident.occurred_on)),
            IncidentTrendCount.bucket.type,
        )
    weekday = func.cast(func.strftime("%w", Incident.occurred_on), Integer)  # 0 is Sunday
    monday = func.date(Incident.occurred_on, "-" + func.cast((weekday + 6) % 7, String) + " days")
    return func.max(monday, func.date(Incident.occurred_on, "start of month"))


def _quarter_expression(dialect: str):
    """The first day of the quarter of a trend count's stretch."""
    bucket = IncidentTrendCount.bucket
    if dialect == "postgresql":
        return func.cast(func.date_trunc("quarter", bucket), IncidentQuarterCount.quarter.type)
    months_in = (func.cast(func.strftime("%m", bucket), Integer) - 1) % 3
    return func.date(bucket, "start of month", "-" + func.cast(months_in, String) + " months")


def refresh_quarter_counts(session: Session | Connection, quarters: set[date] | None = None) -> None:
    """Recount the quarter counts of the given quarters (every quarter when None) from the trend
    counts, in this transaction."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    t = IncidentTrendCount
    quarter = _quarter_expression(dialect.name)
    keys = (quarter, t.area_code, t.audience, t.category_code, t.strand_mask)
    summed = select(*keys, func.sum(t.incidents)).group_by(*keys)
    columns = ["quarter", "area_code", "audience", "category_code", "strand_mask", "incidents"]
    if quarters is None:
        session.execute(delete(IncidentQuarterCount))
        session.execute(insert(IncidentQuarterCount).from_select(columns, summed))
        return
    for first in sorted({quarter_start(q) for q in quarters}):
        after = next_quarter(first)
        session.execute(delete(IncidentQuarterCount).where(
            IncidentQuarterCount.quarter >= first, IncidentQuarterCount.quarter < after))
        session.execute(insert(IncidentQuarterCount).from_select(
            columns, summed.where(t.bucket >= first, t.bucket < after)))


def refresh_trend_counts(
    session: Session | Connection, months: set[date] | None = None, *, with_quarters: bool = True
) -> None:
    """Recount the trend counts of the given months (every month when None), and the region and
    quarter counts made from them, in this transaction."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    bucket = _bucket_expression(dialect.name)
    keys = (bucket, Incident.area_code, Incident.audience, Incident.category_code, Incident.strand_mask)
    counted = (
        select(*keys, func.count())
        .where(Incident.audience.not_in([AUDIENCE_LISTED, AUDIENCE_DELETED]))
        .group_by(*keys)
    )
    columns = ["bucket", "area_code", "audience", "category_code", "strand_mask", "incidents"]
    t = IncidentTrendCount
    region_keys = (t.bucket, t.audience, t.category_code, t.strand_mask)
    region = select(*region_keys, func.sum(t.incidents)).group_by(*region_keys)
    region_columns = ["bucket", "audience", "category_code", "strand_mask", "incidents"]
    if months is None:
        session.execute(delete(IncidentTrendCount))
        session.execute(insert(IncidentTrendCount).from_select(columns, counted))
        session.execute(delete(IncidentRegionTrendCount))
        session.execute(insert(IncidentRegionTrendCount).from_select(region_columns, region))
        if with_quarters:
            refresh_quarter_counts(session)
        return
    for first in sorted({month_start(m) for m in months}):
        after = next_month(first)
        for table in (IncidentTrendCount, IncidentRegionTrendCount):
            session.execute(delete(table).where(table.bucket >= first, table.bucket < after))
        session.execute(
            insert(IncidentTrendCount).from_select(
                columns, counted.where(Incident.occurred_on >= first, Incident.occurred_on < after)
            )
        )
        session.execute(
            insert(IncidentRegionTrendCount).from_select(
                region_columns, region.where(t.bucket >= first, t.bucket < after)
            )
        )
    if with_quarters:
        refresh_quarter_counts(session, set(months))


def _month_expression(dialect: str):
    if dialect == "postgresql":
        return func.cast(func.date_trunc("month", Incident.occurred_on), IncidentMonthlyCount.month.type)
    return func.date(Incident.occurred_on, "start of month")


def refresh_months(session: Session | Connection, months: set[date] | None = None) -> None:
    """Recount the given months (every month when None) from the incidents, in this transaction:
    the monthly counts and the trend counts."""
    refresh_trend_counts(session, months)
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    month = _month_expression(dialect.name)
    counted = (
        select(month, Incident.area_code, Incident.audience, func.count())
        .where(Incident.audience.not_in([AUDIENCE_LISTED, AUDIENCE_DELETED]))
        .group_by(month, Incident.area_code, Incident.audience)
    )
    target = insert(IncidentMonthlyCount).from_select(
        ["month", "area_code", "audience", "incidents"], counted
    )
    if months is None:
        session.execute(delete(IncidentMonthlyCount))
        session.execute(target)
        return
    for first in sorted({month_start(m) for m in months}):
        session.execute(delete(IncidentMonthlyCount).where(IncidentMonthlyCount.month == first))
        session.execute(
            insert(IncidentMonthlyCount).from_select(
                ["month", "area_code", "audience", "incidents"],
                counted.where(Incident.occurred_on >= first, Incident.occurred_on < next_month(first)),
            )
        )


def keep_in_step(factory: sessionmaker) -> None:
    """Have every session of this (new) factory recount the months its flushes change."""
    event.listen(factory, "before_flush", _note_changed_months)
    event.listen(factory, "after_flush_postexec", _refresh_changed_months)


def _note_changed_months(session: Session, _context, _instances) -> None:
    """Remember the months (old and new dates) of every incident this flush changes, and keep
    each changed incident's strand bits and map cell in step with its strands and location."""
    months: set[date] = session.info.setdefault(_PENDING, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Incident):
            state = inspect(obj)
            if obj in session.new or state.attrs.strands.history.has_changes():
                obj.strand_mask = sum(1 << strand.bit for strand in obj.strands)
            if obj not in session.deleted:
                obj.map_cell = map_cell(obj.latitude, obj.longitude, obj.location_precision)
            if obj.occurred_on is not None:
                months.add(month_start(obj.occurred_on))
            history = state.attrs.occurred_on.history
            months.update(month_start(d) for d in history.deleted if d is not None)


def _refresh_changed_months(session: Session, _context) -> None:
    months = session.info.pop(_PENDING, None)
    if months:
        refresh_months(session, months)


# --- counting ---------------------------------------------------------------------------------


class grouping_key(FunctionElement):  # noqa: N801 - used like a SQL function
    """A column to group by, which SQLite must not take as a reason to read rows in that
    column's index order: grouping by area, it would otherwise walk the area index and read the
    table row by row (three times slower) instead of counting from the figures index."""

    inherit_cache = True
    name = "grouping_key"


@compiles(grouping_key)
def _grouping_key(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(grouping_key, "sqlite")
def _grouping_key_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)  # SQLite's documented no-index unary +


def _raw_select(viewer: Viewer, filters: RecordFilters, *, listed_only: bool = False):
    """Incidents per district counted from the incidents themselves (a statement, not yet run)."""
    area = grouping_key(Incident.area_code)
    stmt = visible(viewer, Incident, filters, Purpose.AGGREGATE).with_only_columns(area, func.count())
    if listed_only:
        stmt = stmt.where(Incident.audience == AUDIENCE_LISTED)
    return stmt.group_by(area)


def _raw_counts(session: Session, viewer: Viewer, filters: RecordFilters, *, listed_only: bool = False) -> Counter:
    return Counter(dict(session.execute(_raw_select(viewer, filters, listed_only=listed_only)).all()))


def _summary_applies(filters: RecordFilters) -> bool:
    """The monthly counts know district, month and audience only."""
    return not (filters.categories or filters.strands or filters.verification or filters.organisations
                or filters.include_deleted)


def in_parallel(session: Session, tasks: list[Callable[[Session], T]]) -> list[T]:
    """Run tasks that each read with a session: the first on a second connection in a helper
    thread while this session runs the rest. The database does the work (and releases Python's
    lock meanwhile), so on two cores two halves take about the time of one."""
    bind = session.get_bind()
    if len(tasks) < 2 or not isinstance(bind, Engine):
        return [task(session) for task in tasks]

    def first() -> T:
        with Session(bind) as other:
            return tasks[0](other)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(first)
        rest = [task(session) for task in tasks[1:]]
        return [pending.result(), *rest]


def incidents_by_area_in_periods(
    session: Session, viewer: Viewer, periods: list[RecordFilters]
) -> list[Counter]:
    """`incidents_by_area` for several periods (a period and the one before it), in parallel."""
    return in_parallel(session, [lambda s, f=f: incidents_by_area(s, viewer, f) for f in periods])


def split_period(filters: RecordFilters) -> list[RecordFilters]:
    """The period in two halves (one when it is a single day), to count in parallel."""
    if filters.start is None or filters.end is None or filters.start == filters.end:
        return [filters]
    middle = filters.start + (filters.end - filters.start) // 2
    return [replace(filters, end=middle), replace(filters, start=middle + timedelta(days=1))]


def incidents_by_area(session: Session, viewer: Viewer, filters: RecordFilters) -> Counter:
    """Incidents per district that the viewer may see, matching the filters (start and end needed)."""
    start, end = filters.start, filters.end
    if start is None or end is None or not _summary_applies(filters):
        return _raw_counts(session, viewer, filters)
    first_full = start if start.day == 1 else next_month(start)
    last_full = month_start(end + timedelta(days=1)) - timedelta(days=1)  # end of the last whole month
    if first_full > last_full:
        return _raw_counts(session, viewer, filters)
    parts = [
        visible(viewer, IncidentMonthlyCount, replace(filters, start=first_full, end=month_start(last_full)),
                Purpose.AGGREGATE)
        .with_only_columns(IncidentMonthlyCount.area_code, func.sum(IncidentMonthlyCount.incidents))
        .group_by(IncidentMonthlyCount.area_code),
        _raw_select(viewer, replace(filters, start=first_full, end=last_full), listed_only=True),
    ]
    if start < first_full:
        parts.append(_raw_select(viewer, replace(filters, end=first_full - timedelta(days=1))))
    if last_full < end:
        parts.append(_raw_select(viewer, replace(filters, start=last_full + timedelta(days=1))))
    # One statement, so one snapshot on both backends: an import committing meanwhile is counted
    # whole or not at all (separate queries could each see a different state).
    counts: Counter = Counter()
    for code, n in session.execute(union_all(*parts)):
        counts[code] += int(n or 0)
    return Counter({code: int(n) for code, n in counts.items() if n})
