"""Figures for the regional overview: per-area counts, rates, tension levels and change.

Every figure is computed in the database through the access gate, so it counts only what the
viewer may see; results are small rows (65 districts at most), never records by the thousand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import actions, cache
from .access import Purpose, RecordFilters, Viewer, visible
from .models import (
    Area,
    Incident,
    IncidentCategory,
    Organisation,
    TensionAssessment,
    TriggerEvent,
    trigger_event_areas,
)
from .reference import TENSION_LEVELS, Role, cell_centre
from .rollups import grouping_key, in_parallel, incidents_by_area_in_periods, split_period

if TYPE_CHECKING:
    from .surges import EarlyWarning


class Geography(StrEnum):
    DISTRICT = "district"
    FORCE = "force"
    REGION = "region"


class Metric(StrEnum):
    COUNT = "count"
    RATE = "rate"
    TENSION = "tension"
    CHANGE = "change"
    WARNING = "warning"  # the early warning's band (surges.py), for the period's last 7 days


METRIC_LABELS = {
    Metric.COUNT: "Incidents in the period",
    Metric.RATE: "Incidents per 100,000 residents",
    Metric.TENSION: "Latest tension level",
    Metric.CHANGE: "Change on the previous period",
    Metric.WARNING: "Early warning",
}
GEOGRAPHY_LABELS = {
    Geography.DISTRICT: "Districts",
    Geography.FORCE: "Police force areas",
    Geography.REGION: "Regions",
}
UNIT_COLUMNS = {
    Geography.DISTRICT: (Area.code, Area.name),
    Geography.FORCE: (Area.pfa_code, Area.police_force),
    Geography.REGION: (Area.region_code, Area.region),
}


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


@dataclass(frozen=True)
class AreaFigure:
    """One map unit's figures for the period."""

    code: str
    name: str
    population: int
    incidents: int
    previous: int
    tension_level: int | None = None
    tension_assessed_on: date | None = None
    tension_districts: int = 0  # for force areas and regions: districts with a level

    @property
    def rate(self) -> float:
        return self.incidents / self.population * 100_000 if self.population else 0.0

    @property
    def change(self) -> int:
        return self.incidents - self.previous

    @property
    def change_percent(self) -> float | None:
        """Percentage change, or None where the previous count is too small to mean anything."""
        return None if self.previous < 10 else (self.incidents - self.previous) / self.previous * 100

    def value(self, metric: Metric) -> float | None:
        """The figure the map colours by; None for tension with no assessment, and for the early
        warning, whose band comes from `surges.early_warning`."""
        if metric is Metric.WARNING:
            return None
        if metric is Metric.COUNT:
            return float(self.incidents)
        if metric is Metric.RATE:
            return round(self.rate, 2)
        if metric is Metric.TENSION:
            return None if self.tension_level is None else float(self.tension_level)
        return float(self.change)


@dataclass(frozen=True)
class Overview:
    start: date
    end: date
    previous_start: date
    previous_end: date
    geography: Geography
    areas: list[AreaFigure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(a.incidents for a in self.areas)

    @property
    def previous_total(self) -> int:
        return sum(a.previous for a in self.areas)


def latest_assessments(viewer: Viewer, as_of: date, columns: tuple[str, ...], areas: tuple[str, ...] = ()):
    """A query for `columns` (TensionAssessment's attribute names) of each district's latest
    tension assessment on or before `as_of` that the viewer may see (the latest day, then the
    highest id); `areas` limits it to those districts."""
    gated = (
        visible(viewer, TensionAssessment, RecordFilters(end=as_of, areas=areas), Purpose.AGGREGATE)
        .with_only_columns(
            *(getattr(TensionAssessment, name) for name in columns),
            func.row_number()
            .over(
                partition_by=TensionAssessment.area_code,
                order_by=(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc()),
            )
            .label("recency"),
        )
        .subquery()
    )
    return select(*(gated.c[name] for name in columns)).where(gated.c.recency == 1)


def latest_tension_by_district(session: Session, viewer: Viewer, filters: RecordFilters, as_of: date):
    """Each district's latest tension assessment on or before `as_of` that the viewer may see."""
    rows = session.execute(
        latest_assessments(viewer, as_of, ("area_code", "level", "assessed_on"), filters.areas)
    )
    return {code: (level, day) for code, level, day in rows}


def area_overview(
    session: Session,
    viewer: Viewer,
    filters: RecordFilters,
    geography: Geography = Geography.DISTRICT,
) -> Overview:
    """Counts in the period and the one before it, rates and tension levels, per map unit."""
    if filters.start is None or filters.end is None:
        raise ValueError("The overview needs a start and an end date.")
    return cache.cached(session, "overview", viewer, (filters, geography),
                        lambda: _area_overview(session, viewer, filters, geography))


def _area_overview(session: Session, viewer: Viewer, filters: RecordFilters, geography: Geography) -> Overview:
    prev_start, prev_end = previous_period(filters.start, filters.end)
    current, previous = incidents_by_area_in_periods(
        session, viewer, [filters, replace(filters, start=prev_start, end=prev_end)]
    )
    counts = {code: (current.get(code, 0), previous.get(code, 0)) for code in current.keys() | previous.keys()}
    tension = latest_tension_by_district(session, viewer, filters, filters.end)

    units: dict[str, dict] = {}
    code_col, name_col = UNIT_COLUMNS[geography]
    area_rows = session.execute(
        select(Area.code, code_col, name_col, Area.population).order_by(name_col, Area.code)
    )
    for district, unit_code, unit_name, population in area_rows:
        if filters.areas and district not in filters.areas:
            continue
        unit = units.setdefault(
            unit_code,
            {"name": unit_name, "population": 0, "incidents": 0, "previous": 0, "levels": []},
        )
        current, previous = counts.get(district, (0, 0))
        unit["population"] += population
        unit["incidents"] += current
        unit["previous"] += previous
        if district in tension:
            unit["levels"].append(tension[district])

    figures = []
    for code, unit in units.items():
        # A force area or region shows its highest district level (and when that was assessed).
        top = max(unit["levels"], key=lambda lv: (lv[0], lv[1]), default=(None, None))
        figures.append(
            AreaFigure(
                code=code,
                name=unit["name"],
                population=unit["population"],
                incidents=unit["incidents"],
                previous=unit["previous"],
                tension_level=top[0],
                tension_assessed_on=top[1],
                tension_districts=len(unit["levels"]),
            )
        )
    return Overview(filters.start, filters.end, prev_start, prev_end, geography, figures)


# --- headline figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    incidents: int
    previous: int
    districts_high: int  # districts whose latest level is 4 or 5
    overdue_actions: int | None  # None where the viewer has no view of actions


def overdue_actions_count(session: Session, viewer: Viewer, today: date) -> int:
    """Open actions past their due date (those of deleted meetings are gone with them)."""
    return actions.tracker_counts(session, viewer, actions.ActionFilters(), today)[actions.Rag.RED]


def headline(session: Session, viewer: Viewer, overview: Overview, today: date) -> Headline:
    """The page's headline figures (overdue actions as of `today`)."""
    return cache.cached(session, "headline", viewer, (overview, today),
                        lambda: _headline(session, viewer, overview, today))


def _headline(session: Session, viewer: Viewer, overview: Overview, today: date) -> Headline:
    high = sum(1 for a in overview.areas if a.tension_level and a.tension_level >= 4)
    if overview.geography is not Geography.DISTRICT:
        high = sum(
            1
            for level, _day in latest_tension_by_district(session, viewer, RecordFilters(), overview.end).values()
            if level >= 4
        )
    actions = overdue_actions_count(session, viewer, today) if viewer.role != Role.SCI else None
    return Headline(overview.total, overview.previous_total, high, actions)


# --- the drill-down of one district ------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRow:
    id: int
    occurred_on: date
    date_precision: str
    category: str
    title: str
    marking: str
    organisation: str
    verification: str


@dataclass(frozen=True)
class AssessmentRow:
    assessed_on: date
    level: int
    trend: str
    confidence: str
    organisation: str
    marking: str


@dataclass(frozen=True)
class TriggerRow:
    starts_on: date
    ends_on: date
    kind: str
    title: str


@dataclass(frozen=True)
class AreaDetail:
    code: str
    name: str
    district_type: str
    police_force: str
    region: str
    population: int
    figure: AreaFigure | None
    assessments: list[AssessmentRow]
    incidents: list[IncidentRow]
    triggers: list[TriggerRow]
    actions: list[actions.ActionView]


def area_detail(
    session: Session,
    viewer: Viewer,
    area_code: str,
    filters: RecordFilters,
    today: date,
    *,
    incident_limit: int = 10,
    trigger_weeks: int = 12,
) -> AreaDetail | None:
    """One district's figures, tension history, recent incidents, upcoming triggers, open actions."""
    area = session.get(Area, area_code)
    if area is None:
        return None
    one = replace(filters, areas=(area_code,))
    overview = area_overview(session, viewer, one, Geography.DISTRICT)
    figure = overview.areas[0] if overview.areas else None

    assessments = [
        AssessmentRow(a.assessed_on, a.level, a.trend, a.confidence, org, a.marking)
        for a, org in session.execute(
            visible(viewer, TensionAssessment, RecordFilters(areas=(area_code,)), Purpose.AGGREGATE)
            .join(Organisation, Organisation.id == TensionAssessment.source_org_id)
            .add_columns(Organisation.name)
            .order_by(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc())
            .limit(24)
        )
    ]
    incidents: list[IncidentRow] = []
    triggers: list[TriggerRow] = []
    open_actions: list[actions.ActionView] = []
    if viewer.role != Role.SCI:  # record-level detail is never shown to the national team
        incidents = [
            IncidentRow(i.id, i.occurred_on, i.date_precision, label, i.title, i.marking, org, i.verification)
            for i, label, org in session.execute(
                visible(viewer, Incident, one)
                .join(IncidentCategory, IncidentCategory.code == Incident.category_code)
                .join(Organisation, Organisation.id == Incident.source_org_id)
                .add_columns(IncidentCategory.label, Organisation.name)
                .order_by(Incident.occurred_on.desc(), Incident.id.desc())
                .limit(incident_limit)
            )
        ]
        horizon = today + timedelta(weeks=trigger_weeks)
        triggers = [
            TriggerRow(t.starts_on, t.ends_on, t.kind, t.title)
            for t in session.scalars(
                visible(viewer, TriggerEvent)
                .where(
                    TriggerEvent.ends_on >= today,
                    TriggerEvent.starts_on <= horizon,
                    (TriggerEvent.region_wide.is_(True))
                    | TriggerEvent.id.in_(
                        select(trigger_event_areas.c.trigger_event_id).where(
                            trigger_event_areas.c.area_code == area_code
                        )
                    ),
                )
                .order_by(TriggerEvent.starts_on)
                .limit(10)
            )
        ]
        open_actions = actions.open_actions_for_area(session, viewer, area_code, today)
    return AreaDetail(
        area.code, area.name, area.district_type, area.police_force, area.region, area.population,
        figure, assessments, incidents, triggers, open_actions,
    )


# --- the incident points layer -------------------------------------------------------------------

@dataclass(frozen=True)
class PointCell:
    latitude: float
    longitude: float
    incidents: int
    approximate: bool


def incident_points(
    session: Session, viewer: Viewer, filters: RecordFilters, *, limit: int = 1000
) -> tuple[list[PointCell], int]:
    """Incidents with a location, pooled into map cells (reference.map_cell): the busiest
    `limit` cells, and the count of located incidents left out. Records located to their area
    only are never drawn; approximate ones only in 10 km cells."""
    cell = grouping_key(Incident.map_cell)

    def count_cells(session: Session, part: RecordFilters) -> Counter:
        stmt = (
            visible(viewer, Incident, part, Purpose.AGGREGATE)
            .with_only_columns(cell, func.count())
            .where(Incident.map_cell.is_not(None))
            .group_by(cell)
        )
        return Counter(dict(session.execute(stmt).all()))

    counts: Counter = Counter()
    for part in in_parallel(session, [lambda s, p=p: count_cells(s, p) for p in split_period(filters)]):
        counts.update(part)
    cells = []
    for code, n in counts.items():
        latitude, longitude, approximate = cell_centre(int(code))
        cells.append(PointCell(latitude, longitude, int(n), approximate))
    cells.sort(key=lambda c: c.incidents, reverse=True)
    left_out = sum(c.incidents for c in cells[limit:])
    return cells[:limit], left_out


def tension_label(level: int | None) -> str:
    if level is None:
        return "No assessment"
    return f"{level} {TENSION_LEVELS[level].label}"


def _percent_change(current: int, previous: int) -> str:
    if previous < 10:
        return f"{current:,} incidents against {previous:,} in the previous period"
    change = (current - previous) / previous * 100
    direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
    if direction == "unchanged":
        return f"{current:,} incidents, the same as in the previous period"
    return f"{current:,} incidents, {direction} {abs(change):.0f}% on the previous period ({previous:,})"


def summary_sentence(overview: Overview, metric: Metric, warning: EarlyWarning | None = None) -> str:
    """One generated sentence saying what the map shows, for people who cannot see it (for the
    early warning, `warning` holds the bands)."""
    unit = {Geography.DISTRICT: "district", Geography.FORCE: "force area", Geography.REGION: "region"}[
        overview.geography
    ]
    period = f"{overview.start:%-d %b %Y} to {overview.end:%-d %b %Y}"
    total = _percent_change(overview.total, overview.previous_total)
    if not overview.areas:
        return f"No areas match the filters ({period})."
    if metric is Metric.WARNING:
        if warning is None:
            raise ValueError("The early warning sentence needs the early warning.")
        return f"{warning.sentence()} {period}: {total}."
    if metric is Metric.TENSION:
        assessed = [a for a in overview.areas if a.tension_level is not None]
        if not assessed:
            return f"No tension assessments you can see up to {overview.end:%-d %b %Y}."
        top = max(a.tension_level for a in assessed)
        at_top = sorted(a.name for a in assessed if a.tension_level == top)
        names = ", ".join(at_top[:3]) + (f" and {len(at_top) - 3} more" if len(at_top) > 3 else "")
        return (
            f"Highest latest tension level: {tension_label(top)}, in {names}; "
            f"{len(assessed)} of {len(overview.areas)} {unit}s have an assessment. {period}: {total}."
        )
    if metric is Metric.CHANGE:
        ordered = sorted(overview.areas, key=lambda a: a.change, reverse=True)
        rise, fall = ordered[0], ordered[-1]
        parts = [f"Biggest rise: {rise.name} ({rise.change:+,})" if rise.change > 0 else "No rises"]
        parts.append(f"biggest fall: {fall.name} ({fall.change:+,})" if fall.change < 0 else "no falls")
        return f"{'; '.join(parts)}. {period}: {total}."
    key = (lambda a: a.rate) if metric is Metric.RATE else (lambda a: a.incidents)
    ordered = sorted(overview.areas, key=key, reverse=True)
    if key(ordered[0]) == 0:
        return f"No incidents you can see match the filters, {period}."
    fmt = (lambda a: f"{a.name} ({a.rate:,.1f})") if metric is Metric.RATE else (lambda a: f"{a.name} ({a.incidents:,})")
    label = "Most incidents per 100,000 residents" if metric is Metric.RATE else "Most incidents"
    following = [fmt(a) for a in ordered[1:3] if key(a) > 0]
    tail = f", followed by {' and '.join(following)}" if following else ""
    return f"{label}: {fmt(ordered[0])}{tail}. {period}: {total}."
