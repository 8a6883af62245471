"""Since the last meeting: what the chair reviews before a meeting.

The period since the last meeting (the day after it to today) is compared with the period of the
same length just before it, so that the counts are like for like. Everything is counted through
the access gate for the viewer, as on the other pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from . import calendar as cal
from .access import RecordFilters, Viewer, visible
from .models import Meeting
from .overview import Geography, area_overview, latest_tension_by_district
from .surges import EarlyWarning, early_warning

# With no meeting on record, the view looks back this far instead.
FALLBACK_DAYS = 84
TOP = 10
HOTSPOT_MIN_INCIDENTS = 5


@dataclass(frozen=True)
class AreaChange:
    code: str
    name: str
    now: int
    before: int
    rate_now: float  # per 100,000 residents

    @property
    def change(self) -> int:
        return self.now - self.before

    @property
    def percent(self) -> float | None:
        """Percentage change, or None on a base under 10 (too small to mean anything)."""
        return None if self.before < 10 else self.change / self.before * 100


@dataclass(frozen=True)
class TensionChange:
    code: str
    name: str
    before: int | None  # the latest level on the meeting day (None: none assessed)
    now: int
    assessed_on: date


@dataclass(frozen=True)
class SinceMeeting:
    meeting_on: date | None
    meeting_title: str
    start: date
    end: date
    before_start: date
    before_end: date
    total: int
    before_total: int
    rises: list[AreaChange]
    new_hotspots: list[AreaChange]
    warning: EarlyWarning
    tension_changes: list[TensionChange]
    upcoming: list[cal.CalendarEvent]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _last_meeting(session: Session, viewer: Viewer, today: date) -> Meeting | None:
    return session.scalars(
        visible(viewer, Meeting).where(Meeting.held_on < today).order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(1)
    ).first()


def _hotspots(figures, top: int) -> set[str]:
    """The districts with the highest rates (with at least a handful of incidents)."""
    ranked = sorted((f for f in figures if f[1] >= HOTSPOT_MIN_INCIDENTS), key=lambda f: -f[2])
    return {code for code, _n, _rate in ranked[:top]}


def since_last_meeting(session: Session, viewer: Viewer, today: date) -> SinceMeeting:
    meeting = _last_meeting(session, viewer, today)
    start = meeting.held_on + timedelta(days=1) if meeting else today - timedelta(days=FALLBACK_DAYS - 1)
    overview = area_overview(session, viewer, RecordFilters(start=start, end=today), Geography.DISTRICT)
    changes = [AreaChange(a.code, a.name, a.incidents, a.previous, a.rate) for a in overview.areas]

    rises = sorted((c for c in changes if c.change > 0), key=lambda c: (-c.change, c.name))[:TOP]
    populations = {a.code: a.population for a in overview.areas}
    now_hot = _hotspots([(c.code, c.now, c.rate_now) for c in changes], TOP)
    before_hot = _hotspots(
        [(c.code, c.before, c.before / populations[c.code] * 100_000 if populations[c.code] else 0) for c in changes],
        TOP,
    )
    new_hotspots = sorted((c for c in changes if c.code in now_hot - before_hot), key=lambda c: -c.rate_now)

    names = {a.code: a.name for a in overview.areas}
    at_meeting = latest_tension_by_district(session, viewer, RecordFilters(), start - timedelta(days=1))
    latest = latest_tension_by_district(session, viewer, RecordFilters(), today)
    tension_changes = sorted(
        (
            TensionChange(code, names.get(code, code), at_meeting.get(code, (None, None))[0], level, day)
            for code, (level, day) in latest.items()
            if at_meeting.get(code, (None, None))[0] != level
        ),
        key=lambda t: (-t.now, t.name),
    )
    return SinceMeeting(
        meeting_on=meeting.held_on if meeting else None,
        meeting_title=meeting.title if meeting else "",
        start=start,
        end=today,
        before_start=overview.previous_start,
        before_end=overview.previous_end,
        total=overview.total,
        before_total=overview.previous_total,
        rises=rises,
        new_hotspots=new_hotspots,
        warning=early_warning(session, viewer, RecordFilters(), today, Geography.DISTRICT),
        tension_changes=tension_changes,
        upcoming=cal.upcoming(session, viewer, today),
    )
