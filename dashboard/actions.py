"""Actions agreed at meetings: who does what by when, how it is going, and what came of it.

Actions are partnership working records with no handling marking: active partners read them,
the national team (SCI) sees none (the access gate decides, `access.visible`). Chairs create
actions, change their fields and links, and delete them; members of the owner organisation (and
any chair) update their status and progress with a note. An action of a deleted meeting leaves
every list, count and digest with its meeting. Linked incidents are shown only where the viewer
may see them, and an action's outcome view counts only incidents the viewer may count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Integer, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, history, records
from .access import Purpose, RecordFilters, Viewer, visible
from .meetings import OPEN_ACTION_STATUSES, meeting_label, tidy_text, whole_numbers
from .models import (
    Action,
    ActionUpdate,
    Area,
    Incident,
    Meeting,
    Organisation,
    TensionAssessment,
    TriggerEvent,
    User,
    action_areas,
    action_incidents,
    action_triggers,
    utcnow,
)
from .reference import ActionStatus, Role

RECORD_TYPE = history.RECORD_ACTION
OPEN_STATUSES = OPEN_ACTION_STATUSES  # not started, in progress, blocked
CLOSED_STATUSES = (ActionStatus.DONE, ActionStatus.DROPPED)
DUE_SOON_DAYS = 14
OUTCOME_WEEKS = 12
DESCRIPTION_MAX = 2_000
LEAD_MAX = 160
NOTE_MAX = 4_000
TRACKER_LIMIT = 1000
REASON_MAX = records.REASON_MAX
NOTE_NEEDED = (ActionStatus.BLOCKED, ActionStatus.DROPPED)
# The form's trigger event choices: events that ended up to this long ago, or start up to this far ahead.
TRIGGER_CHOICE_PAST_DAYS = 183
TRIGGER_CHOICE_AHEAD_DAYS = 366
_CHUNK = 900  # ids per IN (...) list
ACTION_EDITORS = frozenset({Role.CHAIR})

STATUS_LABELS = {
    ActionStatus.NOT_STARTED.value: "Not started",
    ActionStatus.IN_PROGRESS.value: "In progress",
    ActionStatus.DONE.value: "Done",
    ActionStatus.BLOCKED.value: "Blocked",
    ActionStatus.DROPPED.value: "Dropped",
}


class Rag(StrEnum):
    """An action's red-amber-green rating (always shown with its label, never colour alone)."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    CLOSED = "closed"


RAG_ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2, Rag.CLOSED: 3}

# The form's fields, in the order they appear (and errors are listed).
FIELD_LABELS = {
    "meeting": "Meeting",
    "description": "Action",
    "owner": "Owner organisation",
    "lead": "Lead",
    "due_on": "Due date",
    "status": "Status",
    "progress": "Progress (%)",
    "areas": "Districts",
    "triggers": "Trigger events",
    "incidents": "Incidents",
    "note": "Progress note",
}

# Fields that are not on the form but may be wrong (named in error messages).
OTHER_LABELS = {"reason": "Reason for deleting"}


# --- the rating ---------------------------------------------------------------------------------


def rag(status: str, due_on: date, today: date) -> Rag:
    """Closed when done or dropped; red when open and due before today (due today is not
    overdue); amber when blocked or due within DUE_SOON_DAYS days; else green."""
    if status in CLOSED_STATUSES:
        return Rag.CLOSED
    if due_on < today:
        return Rag.RED
    if status == ActionStatus.BLOCKED or due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return Rag.AMBER
    return Rag.GREEN


def rag_label(status: str, due_on: date, today: date) -> str:
    """The rating in words: "Done", "Dropped", "Overdue", "Blocked", "Due soon" or "On track"."""
    rating = rag(status, due_on, today)
    if rating is Rag.CLOSED:
        return STATUS_LABELS.get(status, str(status).capitalize())
    if rating is Rag.RED:
        return "Overdue"
    if rating is Rag.AMBER:
        return "Blocked" if status == ActionStatus.BLOCKED else "Due soon"
    return "On track"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, str(status).capitalize())


# --- errors -------------------------------------------------------------------------------------


class ActionError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class ActionValidationError(records.RecordValidationError, ActionError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS) to what is wrong."""

    field_labels = FIELD_LABELS
    other_labels = OTHER_LABELS


class ActionNotFoundError(ActionError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "This action does not exist or has been deleted (or its meeting has). "
            "Reload the action tracker."
        )


class ActionPermissionError(ActionError):
    pass


class ActionConflictError(ActionError):
    """Someone else saved the action since the person opened it; nothing was written.
    `current` is the action as saved now (None if it has gone)."""

    def __init__(self, current: ActionView | None, *, deleting: bool = False) -> None:
        self.current = current
        if deleting:
            message = (
                "Someone else changed this action after you opened it, so it has not been deleted. "
                "Check their version, then delete it again if you still want to."
            )
        else:
            message = (
                "Someone else changed this action while you were working on it, so your change has "
                "not been saved. Reload the action to see their version, then make your change again."
            )
        super().__init__(message)


# --- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedIncident:
    id: int
    occurred_on: date
    title: str
    marking: str


@dataclass(frozen=True)
class ActionView:
    """One action as a viewer sees it."""

    id: int
    meeting_id: int
    meeting_title: str
    meeting_held_on: date
    description: str
    owner_org_id: int
    owner: str
    lead: str
    due_on: date
    status: str
    status_label: str
    progress: int
    rag: Rag
    rag_label: str
    days_overdue: int  # 0 unless RED
    completed_on: date | None  # the day of the latest update that set status done, else None
    updated_at: datetime | None
    version: int
    areas: tuple[tuple[str, str], ...]  # (GSS code, name)
    triggers: tuple[tuple[int, str, date], ...]  # (id, title, starts_on)
    incidents: tuple[LinkedIncident, ...]  # only those the viewer may see
    may_update: bool  # may change status / progress / add a note
    may_edit: bool  # may change the fields and links, or delete (chair)


@dataclass(frozen=True)
class ActionFilters:
    owners: tuple[int, ...] = ()
    meetings: tuple[int, ...] = ()
    areas: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    rags: tuple[str, ...] = ()
    mine: bool = False  # only the viewer's organisation's actions
    include_closed: bool = True


@dataclass(frozen=True)
class UpdateEntry:
    at: datetime
    who: str
    organisation: str
    status: str
    status_label: str
    progress: int
    note: str


@dataclass(frozen=True)
class ActionChoices:
    """The action form's choices."""

    meetings: list[tuple[int, str]]  # (id, "Quarterly meeting, June 2026 (10 Jun 2026)"), newest first
    owners: list[tuple[int, str]]  # member organisations, by name
    areas: list[tuple[str, list[tuple[str, str]]]]  # districts grouped by police force area
    triggers: list[tuple[int, str]]  # (id, "title (7 May 2026)"), recent and upcoming


@dataclass(frozen=True)
class OutcomeWeek:
    week_start: date  # a Monday
    incidents: int
    level: int | None  # the latest assessed tension level on the week's last day


@dataclass(frozen=True)
class Outcome:
    action_id: int
    area_code: str
    area_name: str
    start: date  # the meeting's date (when the action was agreed)
    end: date  # completed_on, else min(due_on, today)
    weeks: tuple[OutcomeWeek, ...]
    before_incidents: int
    after_incidents: int
    before_level: int | None
    after_level: int | None
    # The length of the two windows compared, in whole weeks (0 until a whole week has passed
    # after `end`); `completed` says whether `end` is the day the action was completed.
    window_weeks: int = 0
    completed: bool = False
    due_on: date | None = None

    @property
    def end_phrase(self) -> str:
        """What `end` is, in words: "it was completed on 3 Sep 2026", "it was due on ...", "today"."""
        if self.completed:
            return f"it was completed on {records.day_text(self.end)}"
        if self.due_on is not None and self.end == self.due_on:
            return f"it was due on {records.day_text(self.end)}"
        return f"today ({records.day_text(self.end)})"

    def sentence(self) -> str:
        """One sentence saying what the chart shows, for screen readers and the caption."""
        from .overview import tension_label

        agreed = records.day_text(self.start)
        n = self.window_weeks
        if n == 0:
            before = sum(w.incidents for w in self.weeks if w.week_start < _monday(self.start))
            return (
                f"{self.area_name}: {_incidents(before)} you can see in the {_weeks(OUTCOME_WEEKS)} "
                f"before this action was agreed on {agreed}; it is too soon to compare a whole week "
                f"after {self.end_phrase}; {self._tension_text(tension_label)}."
            )
        change = self.after_incidents - self.before_incidents
        direction = "fewer" if change < 0 else "more" if change > 0 else "the same number of"
        amount = f"{abs(change):,} {direction}" if change else direction
        return (
            f"{self.area_name}: {_incidents(self.before_incidents)} you can see in the {_weeks(n)} before "
            f"this action was agreed on {agreed} and {self.after_incidents:,} in the {_weeks(n)} after "
            f"{self.end_phrase} ({amount}); {self._tension_text(tension_label)}."
        )

    def _tension_text(self, tension_label) -> str:
        if self.before_level is None and self.after_level is None:
            return "no tension assessment you can see for these weeks"
        if self.window_weeks == 0:
            return f"latest tension level before: {tension_label(self.before_level).lower()}"
        return (
            f"latest tension level {tension_label(self.before_level).lower()} before and "
            f"{tension_label(self.after_level).lower()} after"
        )


def _incidents(n: int) -> str:
    return f"{n:,} incident{'' if n == 1 else 's'}"


def _weeks(n: int) -> str:
    return f"{n} week{'' if n == 1 else 's'}"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class ActionsDigest:
    done: list[ActionView]  # completed within [start, end]
    overdue: list[ActionView]  # RED as of today
    due: list[ActionView]  # open, due in [today, horizon]


# --- who may do what ----------------------------------------------------------------------------


def may_update(viewer: Viewer, owner_org_id: int) -> bool:
    """Whether the viewer may change the status or progress of an action of that owner: members
    and administrators of the owner organisation, and any chair."""
    if not viewer.is_partner:
        return False
    return viewer.role == Role.CHAIR or viewer.organisation_id == owner_org_id


def may_edit_actions(viewer: Viewer) -> bool:
    """Whether the viewer may create actions, change their fields and links, and delete them."""
    return viewer.is_partner and viewer.role in ACTION_EDITORS



# --- reading ------------------------------------------------------------------------------------


def _live(viewer: Viewer):
    """`visible(viewer, Action)` joined to its meeting: actions not deleted whose meeting is not
    deleted either (a deleted meeting's actions leave every list with it)."""
    return (
        visible(viewer, Action)
        .join(Meeting, Meeting.id == Action.meeting_id)
        .where(Meeting.deleted_at.is_(None))
    )


def _open():
    return Action.status.in_([s.value for s in OPEN_STATUSES])


def _rag_rank(today: date):
    """RAG_ORDER of each action as of `today`, in SQL (the same rule as `rag`)."""
    return case(
        (Action.status.in_([s.value for s in CLOSED_STATUSES]), RAG_ORDER[Rag.CLOSED]),
        (Action.due_on < today, RAG_ORDER[Rag.RED]),
        (
            or_(Action.status == ActionStatus.BLOCKED.value,
                Action.due_on <= today + timedelta(days=DUE_SOON_DAYS)),
            RAG_ORDER[Rag.AMBER],
        ),
        else_=RAG_ORDER[Rag.GREEN],
    )


def _completed_at():
    """When a done action was completed: its latest update setting it done (else its last
    change); NULL for every other status."""
    done_at = (
        select(func.max(ActionUpdate.at))
        .where(ActionUpdate.action_id == Action.id, ActionUpdate.status == ActionStatus.DONE.value)
        .correlate(Action)
        .scalar_subquery()
    )
    return case(
        (Action.status == ActionStatus.DONE.value, func.coalesce(done_at, Action.updated_at)),
        else_=None,
    )


def _filtered(viewer: Viewer, filters: ActionFilters, today: date):
    query = _live(viewer)
    owners, _ = whole_numbers(list(filters.owners))
    meetings, _ = whole_numbers(list(filters.meetings))
    if owners:
        query = query.where(Action.owner_org_id.in_(owners))
    if filters.mine:
        query = query.where(Action.owner_org_id == viewer.organisation_id)
    if meetings:
        query = query.where(Action.meeting_id.in_(meetings))
    if filters.areas:
        query = query.where(Action.id.in_(
            select(action_areas.c.action_id).where(action_areas.c.area_code.in_(list(filters.areas)))
        ))
    if filters.statuses:
        query = query.where(Action.status.in_([str(s) for s in filters.statuses]))
    if not filters.include_closed:
        query = query.where(_open())
    if filters.rags:
        ranks = [RAG_ORDER[Rag(r)] for r in filters.rags if r in {g.value for g in Rag}]
        query = query.where(_rag_rank(today).in_(ranks))
    return query


def _chunks(ids: Sequence[int]):
    return (ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK))


def _day(at: datetime | None) -> date | None:
    return at.date() if at else None


def _views(session: Session, viewer: Viewer, query, today: date) -> list[ActionView]:
    """Run an action selection (from `_live`) and turn it into views: one query for the rows,
    one for each kind of link (districts, trigger events, incidents the viewer may see)."""
    rows = session.execute(
        query.join(Organisation, Organisation.id == Action.owner_org_id)
        .add_columns(Meeting.title, Meeting.held_on, Organisation.name, _completed_at())
        .execution_options(populate_existing=True)
    ).all()
    ids = [row[0].id for row in rows]
    areas: dict[int, list[tuple[str, str]]] = defaultdict(list)
    triggers: dict[int, list[tuple[int, str, date]]] = defaultdict(list)
    incidents: dict[int, list[LinkedIncident]] = defaultdict(list)
    for chunk in _chunks(ids):
        for action_id, code, name in session.execute(
            select(action_areas.c.action_id, Area.code, Area.name)
            .join(Area, Area.code == action_areas.c.area_code)
            .where(action_areas.c.action_id.in_(chunk))
            .order_by(Area.name)
        ):
            areas[action_id].append((code, name))
        for action_id, event_id, title, starts_on in session.execute(
            visible(viewer, TriggerEvent)
            .with_only_columns(action_triggers.c.action_id, TriggerEvent.id, TriggerEvent.title,
                               TriggerEvent.starts_on)
            .where(TriggerEvent.id == action_triggers.c.trigger_event_id,
                   action_triggers.c.action_id.in_(chunk))
            .order_by(TriggerEvent.starts_on, TriggerEvent.id)
        ):
            triggers[action_id].append((event_id, title, starts_on))
        for action_id, incident_id, occurred_on, title, marking in session.execute(
            visible(viewer, Incident)
            .with_only_columns(action_incidents.c.action_id, Incident.id, Incident.occurred_on,
                               Incident.title, Incident.marking)
            .where(Incident.id == action_incidents.c.incident_id, action_incidents.c.action_id.in_(chunk))
            .order_by(Incident.occurred_on.desc(), Incident.id.desc())
        ):
            incidents[action_id].append(LinkedIncident(incident_id, occurred_on, title, marking))
    editor = may_edit_actions(viewer)
    views = []
    for action, meeting_title, held_on, owner, completed_at in rows:
        rating = rag(action.status, action.due_on, today)
        views.append(ActionView(
            id=action.id,
            meeting_id=action.meeting_id,
            meeting_title=meeting_title,
            meeting_held_on=held_on,
            description=action.description,
            owner_org_id=action.owner_org_id,
            owner=owner,
            lead=action.lead or "",
            due_on=action.due_on,
            status=action.status,
            status_label=status_label(action.status),
            progress=action.progress,
            rag=rating,
            rag_label=rag_label(action.status, action.due_on, today),
            days_overdue=(today - action.due_on).days if rating is Rag.RED else 0,
            completed_on=_day(completed_at),
            updated_at=action.updated_at,
            version=action.version,
            areas=tuple(areas.get(action.id, ())),
            triggers=tuple(triggers.get(action.id, ())),
            incidents=tuple(incidents.get(action.id, ())),
            may_update=may_update(viewer, action.owner_org_id),
            may_edit=editor,
        ))
    return views


def tracker(
    session: Session, viewer: Viewer, filters: ActionFilters, today: date, *, limit: int = TRACKER_LIMIT
) -> list[ActionView]:
    """The actions the viewer may see that match the filters: overdue first (RAG_ORDER), then
    by due date, then id; at most `limit`. Filtered and ordered in the database."""
    query = (
        _filtered(viewer, filters, today)
        .order_by(_rag_rank(today), Action.due_on, Action.id)
        .limit(limit)
    )
    return _views(session, viewer, query, today)


def tracker_counts(session: Session, viewer: Viewer, filters: ActionFilters, today: date) -> dict[Rag, int]:
    """How many actions match the filters, by rating (every rating present, zeros included),
    counted in the database."""
    ranked = _filtered(viewer, filters, today).with_only_columns(_rag_rank(today).label("rank")).subquery()
    counts = dict(session.execute(select(ranked.c.rank, func.count()).group_by(ranked.c.rank)).all())
    return {rating: int(counts.get(order, 0)) for rating, order in RAG_ORDER.items()}


def get_action(session: Session, viewer: Viewer, action_id: int, today: date) -> ActionView | None:
    """One action if the viewer may see it (None when missing, deleted or its meeting deleted)."""
    found = _views(session, viewer, _live(viewer).where(Action.id == action_id), today)
    return found[0] if found else None


def open_actions_for_area(
    session: Session, viewer: Viewer, area_code: str, today: date, *, limit: int = 20
) -> list[ActionView]:
    """Open actions linked to a district, overdue first, then by due date."""
    query = (
        _live(viewer)
        .where(_open(), Action.id.in_(
            select(action_areas.c.action_id).where(action_areas.c.area_code == area_code)
        ))
        .order_by(_rag_rank(today), Action.due_on, Action.id)
        .limit(limit)
    )
    return _views(session, viewer, query, today)


def _seen(session: Session, viewer: Viewer, action_id: int) -> bool:
    return session.scalar(
        _live(viewer).where(Action.id == action_id).with_only_columns(Action.id)
    ) is not None


def action_updates(session: Session, viewer: Viewer, action_id: int) -> list[UpdateEntry]:
    """The action's progress updates, newest first; [] if the viewer may not see the action."""
    if not _seen(session, viewer, action_id):
        return []
    rows = session.execute(
        select(ActionUpdate, User.name, Organisation.name)
        .outerjoin(User, User.id == ActionUpdate.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(ActionUpdate.action_id == action_id)
        .order_by(ActionUpdate.at.desc(), ActionUpdate.id.desc())
    )
    return [
        UpdateEntry(u.at, name or "Unknown user", org or "", u.status, status_label(u.status), u.progress,
                    u.note or "")
        for u, name, org in rows
    ]


_INCIDENT_NUMBER = re.compile(r"#(\d+)")


def _incidents_text(ids) -> str:
    return "; ".join(f"#{i}" for i in sorted(ids)) or records.NONE_CHOSEN


def action_history(session: Session, viewer: Viewer, action_id: int) -> list[history.HistoryEntry]:
    """The action's creation, field edits and deletion (oldest first); [] if the viewer may not
    see the action. Linked incidents the viewer may not see are left out of the entries (and an
    edit that changed nothing else the viewer may see is left out)."""
    if not _seen(session, viewer, action_id):
        return []
    entries = history.entries(session, RECORD_TYPE, action_id)
    label = FIELD_LABELS["incidents"]
    referenced = {
        int(n) for e in entries for c in e.changes if c.field == label
        for n in _INCIDENT_NUMBER.findall(f"{c.before} {c.after}")
    }
    shown: set[int] = set()
    for chunk in _chunks(sorted(referenced)):
        shown.update(session.scalars(
            visible(viewer, Incident).where(Incident.id.in_(chunk)).with_only_columns(Incident.id)
        ))

    def redact(text: str) -> str:
        return _incidents_text({int(n) for n in _INCIDENT_NUMBER.findall(text)} & shown)

    out = []
    for entry in entries:
        changes = []
        for change in entry.changes:
            if change.field == label:
                change = history.FieldChange(label, redact(change.before), redact(change.after))
                if change.before == change.after:
                    continue
            changes.append(change)
        if entry.action == "updated" and entry.changes and not changes:
            continue
        out.append(history.HistoryEntry(entry.at, entry.who, entry.organisation, entry.action, entry.version,
                                        tuple(changes), entry.note))
    return out


def _trigger_label(title: str, starts_on: date) -> str:
    return f"{title} ({records.day_text(starts_on)})"


def form_choices(session: Session, viewer: Viewer, today: date, *, action_id: int | None = None) -> ActionChoices:
    """The meetings (newest first), owner organisations, districts and trigger events (recent and
    upcoming, plus those already linked to `action_id`) the action form offers; nothing for a
    viewer who may not see actions."""
    if not viewer.is_partner:
        return ActionChoices([], [], [], [])
    meetings = [
        (meeting_id, meeting_label(title, held_on))
        for meeting_id, title, held_on in session.execute(
            visible(viewer, Meeting)
            .with_only_columns(Meeting.id, Meeting.title, Meeting.held_on)
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        )
    ]
    window = and_(
        TriggerEvent.ends_on >= today - timedelta(days=TRIGGER_CHOICE_PAST_DAYS),
        TriggerEvent.starts_on <= today + timedelta(days=TRIGGER_CHOICE_AHEAD_DAYS),
    )
    if action_id is not None:
        window = or_(window, TriggerEvent.id.in_(
            select(action_triggers.c.trigger_event_id).where(action_triggers.c.action_id == action_id)
        ))
    triggers = [
        (event_id, _trigger_label(title, starts_on))
        for event_id, title, starts_on in session.execute(
            visible(viewer, TriggerEvent)
            .with_only_columns(TriggerEvent.id, TriggerEvent.title, TriggerEvent.starts_on)
            .where(window)
            .order_by(TriggerEvent.starts_on, TriggerEvent.id)
        )
    ]
    return ActionChoices(meetings, records.member_organisations(session), records.district_choices(session),
                         triggers)


# --- the outcome view -----------------------------------------------------------------------------


def _week_index(column, first: date):
    """Whole weeks from the Monday `first` to the date in `column` (0 for first's week). The
    date goes into the SQL as a number, so the grouping and the columns are the same text."""
    from .surges import day_number

    epoch = (first - date(1970, 1, 1)).days
    return (day_number(column) - literal(epoch, Integer, literal_execute=True)) // literal_column("7", Integer)


def outcome(session: Session, viewer: Viewer, action_id: int, area_code: str, today: date) -> Outcome | None:
    """Weekly incidents and tension in a district linked to the action, from 12 weeks before the
    meeting that agreed it to 12 weeks after it was completed (or due, or today), never past
    today; and the equal-length windows before and after compared. Counts only incidents the
    viewer may count (the access gate, for aggregates), in the database. None if the action is
    not visible or not linked to that district."""
    from .overview import latest_tension_by_district

    view = get_action(session, viewer, action_id, today)
    if view is None:
        return None
    area_name = dict(view.areas).get(area_code)
    if area_name is None:
        return None
    start = view.meeting_held_on
    end = max(view.completed_on or min(view.due_on, today), start)
    first = _monday(start) - timedelta(weeks=OUTCOME_WEEKS)
    last = min(_monday(end) + timedelta(weeks=OUTCOME_WEEKS), _monday(today))
    count = (last - first).days // 7 + 1 if last >= first else 0

    incidents = [0] * count
    levels: list[int | None] = [None] * count
    one = RecordFilters(areas=(area_code,))
    seed = latest_tension_by_district(session, viewer, one, first - timedelta(days=1)).get(area_code)
    if count:
        period = RecordFilters(start=first, end=min(last + timedelta(days=6), today), areas=(area_code,))
        week = _week_index(Incident.occurred_on, first)
        for index, n in session.execute(
            visible(viewer, Incident, period, Purpose.AGGREGATE).with_only_columns(week, func.count()).group_by(week)
        ):
            if 0 <= int(index) < count:
                incidents[int(index)] += int(n)
        ranked = (
            visible(viewer, TensionAssessment, period, Purpose.AGGREGATE)
            .with_only_columns(
                _week_index(TensionAssessment.assessed_on, first).label("week"),
                TensionAssessment.level,
                func.row_number().over(
                    partition_by=_week_index(TensionAssessment.assessed_on, first),
                    order_by=(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc()),
                ).label("recency"),
            )
            .subquery()
        )
        latest = dict(session.execute(select(ranked.c.week, ranked.c.level).where(ranked.c.recency == 1)).all())
        level = seed[0] if seed else None
        for index in range(count):
            level = latest.get(index, level)
            levels[index] = level
    weeks = tuple(
        OutcomeWeek(first + timedelta(weeks=i), incidents[i], levels[i]) for i in range(count)
    )

    start_week, end_week = _monday(start), _monday(end)
    before = [w for w in weeks if w.week_start < start_week]
    after = [w for w in weeks if w.week_start > end_week and w.week_start + timedelta(days=6) <= today]
    n = min(len(before), len(after), OUTCOME_WEEKS)
    before_window, after_window = (before[-n:], after[:n]) if n else ([], [])
    before_level = before[-1].level if before else (seed[0] if seed else None)
    return Outcome(
        action_id=view.id,
        area_code=area_code,
        area_name=area_name,
        start=start,
        end=end,
        weeks=weeks,
        before_incidents=sum(w.incidents for w in before_window),
        after_incidents=sum(w.incidents for w in after_window),
        before_level=before_window[-1].level if before_window else before_level,
        after_level=after_window[-1].level if after_window else None,
        window_weeks=n,
        completed=view.completed_on is not None,
        due_on=view.due_on,
    )


# --- for the briefing pack ------------------------------------------------------------------------


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def digest(
    session: Session, viewer: Viewer, start: date, end: date, today: date, horizon: date
) -> ActionsDigest:
    """For the briefing pack: actions completed in [start, end] (by completion day, oldest
    first), overdue as of today (longest overdue first) and open ones due in [today, horizon]
    (soonest first). One query for the rows, one per kind of link."""
    completed = _completed_at()
    done_in_period = and_(
        Action.status == ActionStatus.DONE.value,
        completed >= _utc_midnight(start),
        completed < _utc_midnight(end + timedelta(days=1)),
    )
    open_due = and_(_open(), Action.due_on <= horizon)
    views = _views(session, viewer, _live(viewer).where(or_(done_in_period, open_due))
                   .order_by(Action.due_on, Action.id), today)
    done = sorted(
        (v for v in views if v.status == ActionStatus.DONE and v.completed_on and start <= v.completed_on <= end),
        key=lambda v: (v.completed_on, v.id),
    )
    overdue = [v for v in views if v.rag is Rag.RED]
    due = [v for v in views if v.status in OPEN_STATUSES and today <= v.due_on <= horizon]
    return ActionsDigest(done, overdue, due)


# --- checking what was typed ------------------------------------------------------------------------


def _incident_ids(value) -> tuple[list[int], bool]:
    """Incident numbers from the form: a list, or text such as "#123, 456"."""
    if isinstance(value, str):
        value = [part.lstrip("#") for part in re.split(r"[\s,;]+", value) if part]
    return whole_numbers(value)


def _check_links(session: Session, viewer: Viewer, form: Mapping[str, object], errors: dict[str, str],
                 values: dict) -> None:
    codes = form.get("areas") or ()
    codes = [codes] if isinstance(codes, str) else list(codes)
    codes = list(dict.fromkeys(str(c).strip().upper() for c in codes if c))
    known = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all()) if codes else {}
    if set(codes) - set(known):
        errors["areas"] = "Choose districts from the list only."
    values["areas"] = tuple(sorted(((c, known[c]) for c in codes if c in known), key=lambda p: (p[1], p[0])))

    ids, ok = whole_numbers(form.get("triggers"))
    found = {
        event_id: (title, starts_on)
        for event_id, title, starts_on in session.execute(
            visible(viewer, TriggerEvent)
            .with_only_columns(TriggerEvent.id, TriggerEvent.title, TriggerEvent.starts_on)
            .where(TriggerEvent.id.in_(ids))
        )
    } if ids else {}
    if not ok or set(ids) - set(found):
        errors["triggers"] = "Choose trigger events from the list only: that event may have been deleted."
    values["triggers"] = tuple(sorted(
        ((i, *found[i]) for i in ids if i in found), key=lambda t: (t[2], t[0])
    ))

    ids, ok = _incident_ids(form.get("incidents"))
    seen = set(session.scalars(
        visible(viewer, Incident).where(Incident.id.in_(ids)).with_only_columns(Incident.id)
    )) if ids else set()
    # An incident the viewer may not see is refused exactly like one that does not exist.
    missing = [i for i in ids if i not in seen]
    if not ok:
        errors["incidents"] = "Enter incident numbers as whole numbers, for example 1234."
    elif len(missing) == 1:
        errors["incidents"] = (
            f"There is no incident number {missing[0]} that you can see: check the number."
        )
    elif missing:
        numbers = ", ".join(str(i) for i in missing[:-1]) + f" and {missing[-1]}"
        errors["incidents"] = f"There are no incidents numbered {numbers} that you can see: check the numbers."
    values["incidents"] = tuple(sorted(i for i in ids if i in seen))


def _check_fields(session: Session, viewer: Viewer, form: Mapping[str, object], errors: dict[str, str],
                  current: ActionView | None = None) -> dict:
    """The action's own fields and links checked and tidied (errors by field into `errors`)."""
    values: dict = {}
    meeting_id = records.whole_number(form.get("meeting"))
    meeting = None
    if form.get("meeting") in (None, ""):
        errors["meeting"] = "Choose the meeting that agreed the action."
    else:
        meeting = session.execute(
            visible(viewer, Meeting).with_only_columns(Meeting.id, Meeting.title, Meeting.held_on)
            .where(Meeting.id == meeting_id)
        ).first() if meeting_id is not None else None
        if meeting is None:
            errors["meeting"] = "Choose a meeting from the list: that meeting does not exist or has been deleted."
    values["meeting"] = tuple(meeting) if meeting else None

    description = tidy_text(form.get("description"), DESCRIPTION_MAX, errors, "description",
                            "The description of the action")
    if not description:
        errors["description"] = "Describe the action: what is to be done."
    values["description"] = description

    owner_id = records.whole_number(form.get("owner"))
    if form.get("owner") in (None, ""):
        errors["owner"] = "Choose the organisation that owns the action."
    else:
        owners = dict(records.member_organisations(session, [owner_id])) if owner_id is not None else {}
        if current is not None and owner_id == current.owner_org_id:
            owners[owner_id] = current.owner  # kept even if it has since left the partnership
        if owner_id not in owners:
            errors["owner"] = "Choose the owner organisation from the list of member organisations."
        else:
            values["owner"] = (owner_id, owners[owner_id])

    lead = " ".join(str(form.get("lead") or "").split())
    if len(lead) > LEAD_MAX:
        errors["lead"] = f"The lead must be {LEAD_MAX} characters or fewer (it has {len(lead)})."
    values["lead"] = lead

    due_on = records.parse_day(
        form.get("due_on"), errors, "due_on", what="The due date", example="10 September 2026 (2026-09-10)",
        missing="Enter the date the action is due.", allow_future=True, today=records.LATEST_DAY,
    )
    if due_on and meeting and due_on < meeting[2]:
        errors["due_on"] = (
            f"The due date must be on or after the date of the meeting ({records.day_text(meeting[2])})."
        )
    values["due_on"] = due_on
    _check_links(session, viewer, form, errors, values)
    return values


def _check_progress(form_status, form_progress, note, errors: dict[str, str], *, previous_status: str | None,
                    previous_progress: int) -> tuple[str, int, str]:
    """The status, progress (0-100, 100 when done, the previous figure when left blank) and note."""
    status = str(form_status or "").strip() or (previous_status or ActionStatus.NOT_STARTED.value)
    if status not in STATUS_LABELS:
        errors["status"] = "Choose the status from the list."
    progress = previous_progress
    if form_progress not in (None, ""):
        number = records.whole_number(form_progress)
        if number is None or not 0 <= number <= 100:
            errors["progress"] = "Enter the progress as a whole number from 0 to 100, for example 40."
        else:
            progress = number
    if status == ActionStatus.DONE:
        progress = 100
    note = tidy_text(note, NOTE_MAX, errors, "note", "The progress note")
    if status in NOTE_NEEDED and status != previous_status and not note and "note" not in errors:
        errors["note"] = (
            f"Add a progress note saying why the action is {STATUS_LABELS[status].lower()}: "
            "partners read it in the tracker and the briefing pack."
        )
    return status, progress, note


def _texts(values: Mapping) -> dict[str, str]:
    """Each field as shown on screen (for the history)."""
    meeting = values.get("meeting")
    return {
        "meeting": meeting_label(meeting[1], meeting[2]) if meeting else "",
        "description": values["description"],
        "owner": values["owner"][1] if values.get("owner") else "",
        "lead": values["lead"] or records.NOT_GIVEN,
        "due_on": records.day_text(values["due_on"]),
        "areas": records.names_text(values["areas"]),
        "triggers": "; ".join(_trigger_label(t, d) for _, t, d in values["triggers"]) or records.NONE_CHOSEN,
        "incidents": _incidents_text(values["incidents"]),
    }


# --- changes --------------------------------------------------------------------------------------


def _audit(session: Session, viewer: Viewer, event: str, action_id: int, ip_address: str | None,
           detail: dict, reason: str | None = None) -> None:
    audit.record(session, event, user_id=viewer.user_id, actor=viewer.email, record_type=RECORD_TYPE,
                 record_id=action_id, ip_address=ip_address, reason=reason, detail=detail)


def _require_editor(viewer: Viewer) -> None:
    if not may_edit_actions(viewer):
        raise ActionPermissionError(
            "Only chairs may record actions, change what an action is, who owns it and when it is due, "
            "or delete it."
        )


def _linked(session: Session, model, ids) -> list:
    ids = list(ids)
    return list(session.scalars(select(model).where(model.id.in_(ids)))) if ids else []


def _areas(session: Session, codes) -> list[Area]:
    codes = list(codes)
    return list(session.scalars(select(Area).where(Area.code.in_(codes)))) if codes else []


def _now_day() -> date:
    """Today in UTC: only for the rating of the action shown with a conflict."""
    return utcnow().date()


def _loaded(session: Session, viewer: Viewer, action_id: int, expected_version: int, *,
            deleting: bool = False) -> tuple[Action, ActionView]:
    """The action loaded for change and its view, if the viewer may see it and nobody changed it
    since `expected_version` (else ActionNotFoundError or ActionConflictError)."""
    action = session.scalar(
        _live(viewer).where(Action.id == action_id).execution_options(populate_existing=True)
    )
    if action is None:
        raise ActionNotFoundError
    current = get_action(session, viewer, action_id, _now_day())
    if action.version != expected_version:
        raise ActionConflictError(current, deleting=deleting)
    return action, current


def _flush(session: Session, viewer: Viewer, action_id: int, *, deleting: bool = False) -> None:
    """Write now, so that a change someone else committed meanwhile is caught here; nothing of
    this change is kept then (the transaction is rolled back)."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise ActionConflictError(get_action(session, viewer, action_id, _now_day()), deleting=deleting) from error


def create_action(
    session: Session, viewer: Viewer, form: Mapping[str, object], *, ip_address: str | None = None
) -> int:
    """Record an action agreed at a meeting (chairs only): its fields, links, first status and
    progress (with a progress update when either is set or a note given), history and audit
    entries. Returns its id."""
    _require_editor(viewer)
    errors: dict[str, str] = {}
    values = _check_fields(session, viewer, form, errors)
    status, progress, note = _check_progress(
        form.get("status"), form.get("progress"), form.get("note"), errors,
        previous_status=None, previous_progress=0,
    )
    if errors:
        raise ActionValidationError(errors)
    now = utcnow()
    action = Action(
        meeting_id=values["meeting"][0], description=values["description"], owner_org_id=values["owner"][0],
        lead=values["lead"], due_on=values["due_on"], status=status, progress=progress,
        created_at=now, updated_at=now,
    )
    with session.no_autoflush:
        action.areas = _areas(session, [c for c, _ in values["areas"]])
        action.trigger_events = _linked(session, TriggerEvent, [t[0] for t in values["triggers"]])
        action.incidents = _linked(session, Incident, values["incidents"])
    session.add(action)
    session.flush()
    if status != ActionStatus.NOT_STARTED or progress or note:
        session.add(ActionUpdate(action_id=action.id, user_id=viewer.user_id, at=now, status=status,
                                 progress=progress, note=note))
    history.add(session, RECORD_TYPE, action.id, action.version, "created", viewer.user_id)
    _audit(session, viewer, "action-created", action.id, ip_address, {
        "meeting_id": action.meeting_id, "owner_org_id": action.owner_org_id,
        "due_on": action.due_on.isoformat(), "status": status, "progress": progress,
        "areas": [c for c, _ in values["areas"]], "version": action.version,
    })
    return action.id


def edit_action(
    session: Session,
    viewer: Viewer,
    action_id: int,
    expected_version: int,
    form: Mapping[str, object],
    *,
    ip_address: str | None = None,
) -> None:
    """Change an action's fields and links (chairs only) if nobody changed it since
    `expected_version`. Links to incidents the editor may not see are kept as they are. The
    status and progress are changed with `update_progress`, not here (the form's status,
    progress and note are ignored). The changed fields go into the history and the audit log;
    nothing is written when nothing changed."""
    _require_editor(viewer)
    action, current = _loaded(session, viewer, action_id, expected_version)
    errors: dict[str, str] = {}
    values = _check_fields(session, viewer, form, errors, current)
    if errors:
        raise ActionValidationError(errors)
    linked = set(session.scalars(
        select(action_incidents.c.incident_id).where(action_incidents.c.action_id == action_id)
    ))
    hidden = linked - {i.id for i in current.incidents}
    values["incidents"] = tuple(sorted(set(values["incidents"]) | hidden))
    before = {
        "meeting": (current.meeting_id, current.meeting_title, current.meeting_held_on),
        "description": current.description, "owner": (current.owner_org_id, current.owner),
        "lead": current.lead, "due_on": current.due_on, "areas": current.areas,
        "triggers": current.triggers, "incidents": tuple(sorted(linked)),
    }
    changes = history.diff(_texts(before), _texts(values), {k: FIELD_LABELS[k] for k in before})
    changed = [name for name in before if _texts(before)[name] != _texts(values)[name]]
    if not changes:
        return
    with session.no_autoflush:  # one UPDATE, so the version moves on by one
        action.meeting_id, action.description = values["meeting"][0], values["description"]
        action.owner_org_id, action.lead, action.due_on = values["owner"][0], values["lead"], values["due_on"]
        if "areas" in changed:
            action.areas = _areas(session, [c for c, _ in values["areas"]])
        if "triggers" in changed:
            # Links to events deleted since stay out of sight either way; keep them.
            gone = set(session.scalars(
                select(action_triggers.c.trigger_event_id).where(action_triggers.c.action_id == action_id)
            )) - {t[0] for t in current.triggers}
            action.trigger_events = _linked(session, TriggerEvent, {t[0] for t in values["triggers"]} | gone)
        if "incidents" in changed:
            action.incidents = _linked(session, Incident, values["incidents"])
        # Set on every change so that the row itself is updated (and its version moves on) even
        # when only its links changed.
        action.updated_at = utcnow()
    _flush(session, viewer, action_id)
    history.add(session, RECORD_TYPE, action.id, action.version, "updated", viewer.user_id, changes)
    _audit(session, viewer, "action-updated", action.id, ip_address, {"changed": changed, "version": action.version})


def update_progress(
    session: Session,
    viewer: Viewer,
    action_id: int,
    expected_version: int,
    *,
    status: str,
    progress: object,
    note: str,
    ip_address: str | None = None,
) -> None:
    """Record the action's status and progress with a note, as a new progress update: members
    and administrators of the owner organisation and chairs only. "Done" sets the progress to
    100; a blank progress keeps the figure it had; a note is required when the status becomes
    blocked or dropped, and when neither the status nor the progress changes. Audited."""
    if not viewer.is_partner:
        raise ActionPermissionError("Only members of the partnership may update actions.")
    action, current = _loaded(session, viewer, action_id, expected_version)
    if not may_update(viewer, action.owner_org_id):
        raise ActionPermissionError(
            f"Only members of {current.owner} (the organisation that owns this action) and chairs may "
            "update its progress."
        )
    errors: dict[str, str] = {}
    new_status, new_progress, note = _check_progress(
        status, progress, note, errors, previous_status=action.status, previous_progress=action.progress,
    )
    if not errors and new_status == action.status and new_progress == action.progress and not note:
        errors["note"] = "Change the status or the progress, or add a progress note."
    if errors:
        raise ActionValidationError(errors)
    now = utcnow()
    action.status, action.progress, action.updated_at = new_status, new_progress, now
    _flush(session, viewer, action_id)
    session.add(ActionUpdate(action_id=action.id, user_id=viewer.user_id, at=now, status=new_status,
                             progress=new_progress, note=note))
    _audit(session, viewer, "action-progress", action.id, ip_address, {
        "status": new_status, "progress": new_progress, "previous_status": current.status,
        "previous_progress": current.progress, "note_given": bool(note), "version": action.version,
    })


def delete_action(
    session: Session,
    viewer: Viewer,
    action_id: int,
    expected_version: int,
    reason: str = "",
    *,
    ip_address: str | None = None,
) -> None:
    """Soft-delete an action (chairs only): it leaves every list, count and digest; the reason
    goes into its history and the audit log."""
    _require_editor(viewer)
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise ActionValidationError(
            {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})."}
        )
    action, _current = _loaded(session, viewer, action_id, expected_version, deleting=True)
    action.deleted_at = action.updated_at = utcnow()
    _flush(session, viewer, action_id, deleting=True)
    history.add(session, RECORD_TYPE, action.id, action.version, "deleted", viewer.user_id, note=reason)
    _audit(session, viewer, "action-deleted", action.id, ip_address,
           {"meeting_id": action.meeting_id, "version": action.version}, reason=reason or None)
