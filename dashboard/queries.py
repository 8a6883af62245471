"""Questions the views ask, answered in the database through the access gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlalchemy.orm import Session

from .access import Purpose, RecordFilters, Viewer, visible
from .models import Incident
from .reference import Marking


@dataclass(frozen=True)
class MarkingCount:
    marking: Marking
    incidents: int


def period_filters(period: str, today: date | None = None) -> RecordFilters:
    """Named periods offered on screen: last 4 weeks, last 12 months, or all time."""
    today = today or date.today()
    starts = {"4w": today - timedelta(weeks=4), "12m": today - timedelta(days=365), "all": None}
    if period not in starts:
        raise ValueError(f"Unknown period {period!r}: choose 4w, 12m or all.")
    return RecordFilters(start=starts[period], end=today)


def incidents_by_marking(session: Session, viewer: Viewer, filters: RecordFilters) -> list[MarkingCount]:
    """How many incidents of each marking this viewer may see (every marking listed, zeros too)."""
    stmt = (
        visible(viewer, Incident, filters, Purpose.AGGREGATE)
        .with_only_columns(Incident.marking, func.count())
        .group_by(Incident.marking)
    )
    found = {marking: count for marking, count in session.execute(stmt)}
    return [MarkingCount(m, int(found.get(m.value, 0))) for m in Marking]
