"""What the benchmark compares the app's callbacks with (see dashboard/bench.py).

- **Plain SQL**: for each callback, the same question asked as one straightforward SQL statement
  (or two, for two periods) through the access gate: a GROUP BY over the incidents themselves,
  with no count tables, no splitting of the period and no cache. A callback within twice this
  time spends no more than the database's own time on everything else (access checks, the
  vocabulary, building the figure, JSON).
- **Naive**: the way a first Dash app often does it: read the whole incident table into pandas
  on every request, then filter and group in Python. It is run in a process of its own, so that
  its memory is measured apart from the app's.

Neither is used by the app; both answer with the same groupings as the callbacks they stand for.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .access import Purpose, RecordFilters, Viewer, national_viewer, visible, visible_audiences
from .models import Area, Incident, TensionAssessment
from .overview import UNIT_COLUMNS, Geography
from .reference import AUDIENCE_LISTED
from .surges import BASELINE_WEEKS, WINDOW_DAYS


def _month(dialect: str):
    if dialect == "postgresql":
        return func.date_trunc("month", Incident.occurred_on)
    return func.strftime("%Y-%m", Incident.occurred_on)


def _week(dialect: str):
    if dialect == "postgresql":
        return func.date_trunc("week", Incident.occurred_on)
    return func.strftime("%Y-%W", Incident.occurred_on)


def _counts(session: Session, viewer: Viewer, filters: RecordFilters, *keys, join_areas: bool = False) -> int:
    """Run one GROUP BY through the gate; the number of groups (the rows are only fetched)."""
    stmt = visible(viewer, Incident, filters, Purpose.AGGREGATE)
    if join_areas:
        stmt = stmt.join(Area, Area.code == Incident.area_code)
    return len(session.execute(stmt.with_only_columns(*keys, func.count()).group_by(*keys)).all())


def _unit(geography: Geography):
    """The column an area figure groups by, and whether it needs the areas joined."""
    if geography is Geography.DISTRICT:
        return Incident.area_code, False
    return UNIT_COLUMNS[geography][0], True


def previous_period(filters: RecordFilters) -> RecordFilters:
    length = filters.end - filters.start
    return replace(filters, start=filters.start - length - timedelta(days=1), end=filters.start - timedelta(days=1))


def overview(session: Session, viewer: Viewer, filters: RecordFilters, geography: Geography) -> int:
    """The map's colours and the headline: incidents per area in the period and the one before."""
    unit, join = _unit(geography)
    return (_counts(session, viewer, filters, unit, join_areas=join)
            + _counts(session, viewer, previous_period(filters), unit, join_areas=join))


def locations(session: Session, viewer: Viewer, filters: RecordFilters) -> int:
    """The locations layer: located incidents per map cell."""
    stmt = (visible(viewer, Incident, filters, Purpose.AGGREGATE)
            .with_only_columns(Incident.map_cell, func.count())
            .where(Incident.map_cell.is_not(None)).group_by(Incident.map_cell))
    return len(session.execute(stmt).all())


def weekly(session: Session, viewer: Viewer, filters: RecordFilters, as_of: date, *, by_category: bool) -> int:
    """The early warning: per district (and category) and week, the 13 weeks to `as_of`."""
    start = as_of - timedelta(days=WINDOW_DAYS * (BASELINE_WEEKS + 1) - 1)
    keys = [Incident.area_code, _week(session.get_bind().dialect.name)]
    if by_category:
        keys.insert(1, Incident.category_code)
    return _counts(session, viewer, replace(filters, start=start, end=as_of), *keys)


def table(session: Session, viewer: Viewer, filters: RecordFilters, geography: Geography) -> int:
    """The overview's table: incidents per area, and the early-warning bands."""
    unit, join = _unit(geography)
    return (_counts(session, viewer, filters, unit, join_areas=join)
            + weekly(session, viewer, filters, filters.end, by_category=False))


def drill_down(session: Session, viewer: Viewer, filters: RecordFilters, district: str) -> int:
    """A district's panel: its incidents in the period and the one before, its latest tension
    assessments and its latest incidents (the panel's triggers and actions are small tables)."""
    one = replace(filters, areas=(district,))
    n = (_counts(session, viewer, one, Incident.area_code)
         + _counts(session, viewer, previous_period(one), Incident.area_code))
    n += len(session.execute(
        visible(viewer, TensionAssessment, RecordFilters(areas=(district,)), Purpose.AGGREGATE)
        .order_by(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc()).limit(24)).all())
    n += len(session.execute(
        visible(viewer, Incident, one).order_by(Incident.occurred_on.desc(), Incident.id.desc()).limit(10)).all())
    return n


def trend(session: Session, viewer: Viewer, filters: RecordFilters, *, grain: str, split: str,
          compare_last_year: bool) -> int:
    """The trend chart: incidents per week or month and per line of the split (strands are
    counted by their bits, as the records hold them)."""
    dialect = session.get_bind().dialect.name
    bucket = _week(dialect) if grain == "week" else _month(dialect)
    line = {
        "category": Incident.category_code, "strand": Incident.strand_mask, "area": Incident.area_code,
        "organisation": Incident.source_org_id,
    }.get(split)
    keys = [bucket] if line is None else [bucket, line]
    n = _counts(session, viewer, filters, *keys)
    if compare_last_year:
        n += _counts(session, viewer, replace(filters, start=filters.start - timedelta(days=364),
                                              end=filters.end - timedelta(days=364)), *keys)
    return n


def summary(session: Session, start: date, quarter_ends: list[date]) -> int:
    """A national summary's counts: per quarter, district and category, for the whole partnership."""
    quarter = case(*((Incident.occurred_on <= end, i) for i, end in enumerate(quarter_ends[:-1])),
                   else_=len(quarter_ends) - 1)
    return _counts(session, national_viewer(), RecordFilters(start=start, end=quarter_ends[-1]),
                   quarter, Incident.area_code, Incident.category_code)


# --- the naive way: the whole table into pandas on every request ------------------------------------


@dataclass(frozen=True)
class Question:
    """One request answered the naive way: its periods, and how each answer is grouped."""

    name: str
    periods: tuple[tuple[date, date], ...]
    group: str  # "district", "week-category", "quarter-district-category"


def _whole_table(session: Session):
    import pandas as pd

    columns = select(Incident.occurred_on, Incident.area_code, Incident.category_code, Incident.audience)
    frame = pd.read_sql(columns, session.connection())
    frame["occurred_on"] = pd.to_datetime(frame["occurred_on"])
    return frame


def naive_answer(session: Session, viewer: Viewer, question: Question) -> int:
    """Read every incident, then keep what the viewer may see in each period and group it. (The
    AMBER and RED records, whose visibility depends on their lists, are simply left out, and so
    are deleted ones, whose audience says so: the naive way is given the benefit of the doubt.)"""
    import pandas as pd

    frame = _whole_table(session)
    audiences = [a for a in visible_audiences(viewer, Purpose.AGGREGATE) if a != AUDIENCE_LISTED]
    frame = frame[frame["audience"].isin(audiences)]
    groups = 0
    for start, end in question.periods:
        chosen = frame[(frame["occurred_on"] >= pd.Timestamp(start)) & (frame["occurred_on"] <= pd.Timestamp(end))]
        if question.group == "district":
            keys = ["area_code"]
        elif question.group == "week-category":
            keys = [chosen["occurred_on"].dt.to_period("W"), "category_code"]
        else:
            keys = [chosen["occurred_on"].dt.to_period("Q"), "area_code", "category_code"]
        groups += len(chosen.groupby(keys).size())
    return groups


def naive_questions(today: date) -> list[Question]:
    """The map's, the trend chart's and the national summary's figures, the naive way."""
    year = (today - timedelta(days=364), today)
    before = (today - timedelta(days=729), today - timedelta(days=365))
    return [
        Question("naive: the map's figures (12 months and the 12 before, by district)", (year, before), "district"),
        Question("naive: a trend chart (12 months by week and category)", (year,), "week-category"),
        Question("naive: a national summary (4 quarters by district and category)", (year,),
                 "quarter-district-category"),
    ]


def peak_memory_mb() -> float:
    """This process's peak resident memory (Linux reports it in KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def naive_timings(session_factory: Callable[[], Session], viewer: Viewer, questions: list[Question],
                  repeat: int) -> list[dict]:
    """p50 and p95 of each question answered the naive way, `repeat` times."""
    results = []
    for question in questions:
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            with session_factory() as session:
                naive_answer(session, viewer, question)
            seconds.append(time.perf_counter() - started)
        ms = sorted(s * 1000 for s in seconds)
        results.append({"name": question.name, "runs": repeat, "p50_ms": statistics.median(ms),
                        "p95_ms": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]})
    return results

