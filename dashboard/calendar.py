"""The trigger calendar: elections, rallies and marches, trials, anniversaries, national incidents.

Trigger events are partnership working records with no handling marking: every partner may read
and add them, the national team (SCI) sees none (the access gate decides, `access.visible`).
The creator's organisation, chairs and administrators may change or delete an event. Reads return
small frozen rows (`CalendarEvent`); the trend charts use `events_between` for their annotations
and election run-up shading, this page uses `upcoming` and `list_events`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from . import audit, records
from .access import Viewer, visible
from .models import Area, TriggerEvent, User, trigger_event_areas, utcnow
from .reference import ELECTION_RUN_UP_DAYS, Role, TriggerKind

TITLE_MAX = 200
NOTES_MAX = 4000
LONGEST_EVENT_DAYS = 366
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
LIST_LIMIT = 500
RECORD_TYPE = "trigger_event"

KIND_LABELS = {
    TriggerKind.ELECTION: "Election",
    TriggerKind.RALLY: "Rally or march",
    TriggerKind.TRIAL: "Trial or sentencing",
    TriggerKind.ANNIVERSARY: "Anniversary",
    TriggerKind.NATIONAL_INCIDENT: "National incident",
    TriggerKind.OTHER: "Other",
}

# The form's fields, in the order they appear (and errors are listed).
FIELD_LABELS = {
    "kind": "Kind of event",
    "title": "Title",
    "starts_on": "Start date",
    "ends_on": "End date",
    "areas": "Districts",
    "notes": "Notes",
}

EDITOR_ROLES = frozenset({Role.CHAIR, Role.ADMIN})


# --- errors -------------------------------------------------------------------------------------


class CalendarError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class EventValidationError(records.RecordValidationError, CalendarError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS) to what is wrong."""

    field_labels = FIELD_LABELS


class EventNotFoundError(CalendarError):
    def __init__(self) -> None:
        super().__init__("This event no longer exists: it may have been deleted. Reload the calendar.")


class EventPermissionError(CalendarError):
    pass


class StaleEventError(CalendarError):
    def __init__(self) -> None:
        super().__init__(
            "Someone else changed this event while you were editing it, so your change was not "
            "saved. Reload the event to see their version, then make your change again."
        )


# --- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEvent:
    """One trigger event as a viewer sees it."""

    id: int
    kind: str
    title: str
    starts_on: date
    ends_on: date
    region_wide: bool
    area_codes: tuple[str, ...]
    area_names: tuple[str, ...]
    notes: str
    version: int
    created_by: str
    can_edit: bool
    # For elections: the ELECTION_RUN_UP_DAYS days before polling day (first and last day, both
    # inclusive); None for every other kind.
    run_up: tuple[date, date] | None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def where(self) -> str:
        """The event's areas in words."""
        if self.region_wide:
            return "Region-wide"
        return ", ".join(self.area_names) if self.area_names else "No district recorded"


@dataclass(frozen=True)
class EventForm:
    """What a person typed in the event form (strings as given; `validate` checks them)."""

    kind: str | None = None
    title: str | None = None
    starts_on: str | date | None = None
    ends_on: str | date | None = None  # blank: a one-day event
    region_wide: bool = False
    area_codes: Sequence[str] = ()
    notes: str | None = None

    @classmethod
    def from_event(cls, event: CalendarEvent) -> EventForm:
        return cls(
            event.kind, event.title, event.starts_on, event.ends_on, event.region_wide,
            tuple(event.area_codes), event.notes,
        )


@dataclass(frozen=True)
class ValidEvent:
    kind: str
    title: str
    starts_on: date
    ends_on: date
    region_wide: bool
    area_codes: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class ListFilters:
    """The calendar list's filters: one kind, one district (region-wide events always count)."""

    kind: str | None = None
    area_code: str | None = None
    include_past: bool = False


@dataclass(frozen=True)
class Listing:
    events: list[CalendarEvent]
    more: bool = False  # True when more events matched than are listed


@dataclass(frozen=True)
class DistrictGroup:
    """Districts of one police force area, for the form's grouped district choice."""

    force_code: str
    force: str
    districts: list[tuple[str, str]] = field(default_factory=list)  # (code, name)


# --- reading ------------------------------------------------------------------------------------


def kind_label(kind: str) -> str:
    try:
        return KIND_LABELS[TriggerKind(kind)]
    except ValueError:
        return kind.capitalize()


def run_up(kind: str, starts_on: date) -> tuple[date, date] | None:
    """The election run-up before polling day, or None for other kinds of event."""
    if kind != TriggerKind.ELECTION:
        return None
    return starts_on - timedelta(days=ELECTION_RUN_UP_DAYS), starts_on - timedelta(days=1)


def may_edit(viewer: Viewer, creator_organisation_id: int | None) -> bool:
    """Whether the viewer may change or delete an event whose creator belongs to that organisation."""
    if not viewer.is_partner:
        return False
    if viewer.role in EDITOR_ROLES:
        return True
    return creator_organisation_id is not None and creator_organisation_id == viewer.organisation_id


def _in_areas(area_codes: Collection[str]):
    return or_(
        TriggerEvent.region_wide.is_(True),
        TriggerEvent.id.in_(
            select(trigger_event_areas.c.trigger_event_id).where(
                trigger_event_areas.c.area_code.in_(list(area_codes))
            )
        ),
    )


def _overlapping(start: date, end: date):
    """Events overlapping [start, end]; elections also when only their run-up does."""
    return and_(
        TriggerEvent.ends_on >= start,
        or_(
            TriggerEvent.starts_on <= end,
            and_(
                TriggerEvent.kind == TriggerKind.ELECTION.value,
                TriggerEvent.starts_on <= end + timedelta(days=ELECTION_RUN_UP_DAYS),
            ),
        ),
    )


def _rows(session: Session, viewer: Viewer, query) -> list[CalendarEvent]:
    """Run a `visible(viewer, TriggerEvent)` selection and turn it into rows with their areas."""
    creator = aliased(User)
    result = session.execute(
        query.outerjoin(creator, creator.id == TriggerEvent.created_by_id).add_columns(
            creator.name, creator.organisation_id
        )
    ).all()
    ids = [event.id for event, _name, _org in result]
    areas: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        for event_id, code, name in session.execute(
            select(trigger_event_areas.c.trigger_event_id, Area.code, Area.name)
            .join(Area, Area.code == trigger_event_areas.c.area_code)
            .where(trigger_event_areas.c.trigger_event_id.in_(chunk))
            .order_by(Area.name)
        ):
            areas[event_id].append((code, name))
    return [
        CalendarEvent(
            id=event.id,
            kind=event.kind,
            title=event.title,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            region_wide=event.region_wide,
            area_codes=tuple(code for code, _ in areas[event.id]),
            area_names=tuple(name for _, name in areas[event.id]),
            notes=event.notes or "",
            version=event.version,
            created_by=creator_name or "Unknown",
            can_edit=may_edit(viewer, creator_org),
            run_up=run_up(event.kind, event.starts_on),
        )
        for event, creator_name, creator_org in result
    ]


def events_between(
    session: Session,
    viewer: Viewer,
    start: date,
    end: date,
    area_codes: Collection[str] | None = None,
) -> list[CalendarEvent]:
    """Events the viewer may see that overlap [start, end] (both inclusive), in date order.

    Elections count when their run-up overlaps, so that a chart can shade a run-up whose polling
    day lies after its end. With `area_codes`, only events in any of those districts or
    region-wide ones.
    """
    if start > end:
        raise ValueError("The start date must be on or before the end date.")
    query = visible(viewer, TriggerEvent).where(_overlapping(start, end))
    if area_codes is not None:
        query = query.where(_in_areas(area_codes))
    return _rows(session, viewer, query.order_by(TriggerEvent.starts_on, TriggerEvent.id))


def upcoming(
    session: Session,
    viewer: Viewer,
    today: date,
    weeks: int = 12,
    area_codes: Collection[str] | None = None,
) -> list[CalendarEvent]:
    """Events under way or starting in the next `weeks` weeks (and elections whose run-up
    starts by then), soonest first."""
    return events_between(session, viewer, today, today + timedelta(weeks=weeks), area_codes)


def list_events(
    session: Session, viewer: Viewer, today: date, filters: ListFilters | None = None, limit: int = LIST_LIMIT
) -> Listing:
    """The full calendar for the page: events not yet over, soonest first; or, with past events,
    every event, latest first."""
    filters = filters or ListFilters()
    query = visible(viewer, TriggerEvent)
    if filters.kind:
        query = query.where(TriggerEvent.kind == filters.kind)
    if filters.area_code:
        query = query.where(_in_areas([filters.area_code]))
    if filters.include_past:
        query = query.order_by(TriggerEvent.starts_on.desc(), TriggerEvent.id.desc())
    else:
        query = query.where(TriggerEvent.ends_on >= today).order_by(TriggerEvent.starts_on, TriggerEvent.id)
    rows = _rows(session, viewer, query.limit(limit + 1))
    return Listing(rows[:limit], more=len(rows) > limit)


def get_event(session: Session, viewer: Viewer, event_id: int) -> CalendarEvent | None:
    """One event if the viewer may see it (None also when it does not exist or was deleted)."""
    rows = _rows(session, viewer, visible(viewer, TriggerEvent).where(TriggerEvent.id == event_id))
    return rows[0] if rows else None


def district_groups(session: Session) -> list[DistrictGroup]:
    """Every district, grouped by police force area (reference data, not records)."""
    groups: dict[str, DistrictGroup] = {}
    for code, name, force_code, force in session.execute(
        select(Area.code, Area.name, Area.pfa_code, Area.police_force).order_by(Area.police_force, Area.name)
    ):
        groups.setdefault(force_code, DistrictGroup(force_code, force)).districts.append((code, name))
    return list(groups.values())


# --- validation -----------------------------------------------------------------------------------


def _parse_day(value, label: str, errors: dict[str, str], name: str) -> date | None:
    if isinstance(value, date):
        day = value
    else:
        text = (value or "").strip()
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = f"{label} must be a real date, for example 7 May 2026 (2026-05-07)."
            return None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        errors[name] = f"{label} must be between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
        return None
    return day


def validate(session: Session, form: EventForm) -> ValidEvent:
    """The form's values checked and tidied, or EventValidationError naming every wrong field."""
    errors: dict[str, str] = {}
    kind = (form.kind or "").strip()
    if kind not in {k.value for k in TriggerKind}:
        errors["kind"] = "Choose the kind of event from the list."

    title = " ".join((form.title or "").split())
    if not title:
        errors["title"] = "Enter a title for the event."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title must be {TITLE_MAX} characters or fewer (it has {len(title)})."

    starts_on = _parse_day(form.starts_on, "The start date", errors, "starts_on")
    if starts_on is None and "starts_on" not in errors:
        errors["starts_on"] = "Enter the date the event starts."
    ends_on = _parse_day(form.ends_on, "The end date", errors, "ends_on")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "The end date must be the same as or after the start date."
        elif (ends_on - starts_on).days > LONGEST_EVENT_DAYS:
            errors["ends_on"] = f"An event can last at most {LONGEST_EVENT_DAYS} days; add longer ones in parts."
    if starts_on and ends_on is None and "ends_on" not in errors:
        ends_on = starts_on

    region_wide = bool(form.region_wide)
    codes = tuple(dict.fromkeys(str(c) for c in (form.area_codes or ()) if c))
    if region_wide:
        codes = ()  # the whole region: a district list would only repeat it
    elif not codes:
        errors["areas"] = "Choose at least one district, or tick \u201cRegion-wide\u201d."
    else:
        known = set(session.scalars(select(Area.code).where(Area.code.in_(codes))))
        if set(codes) - known:
            errors["areas"] = "Choose districts from the list only."

    notes = (form.notes or "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Notes must be {NOTES_MAX:,} characters or fewer (they have {len(notes):,})."

    if errors:
        raise EventValidationError(errors)
    return ValidEvent(kind, title, starts_on, ends_on, region_wide, tuple(sorted(codes)), notes)


# --- changes --------------------------------------------------------------------------------------


def _creator_organisation(session: Session, event: TriggerEvent) -> int | None:
    if event.created_by_id is None:
        return None
    return session.scalar(select(User.organisation_id).where(User.id == event.created_by_id))


def _editable(session: Session, viewer: Viewer, event_id: int, expected_version: int) -> TriggerEvent:
    """The event, loaded for change, after checking it exists, the viewer may change it and
    nobody changed it since the viewer read it."""
    event = session.scalar(visible(viewer, TriggerEvent).where(TriggerEvent.id == event_id))
    if event is None:
        raise EventNotFoundError
    if not may_edit(viewer, _creator_organisation(session, event)):
        raise EventPermissionError(
            "Only the organisation that added this event, chairs and administrators may change it."
        )
    if event.version != expected_version:
        raise StaleEventError
    return event


def _areas(session: Session, codes: Sequence[str]) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.code.in_(codes)).order_by(Area.code))) if codes else []


def _flush(session: Session) -> None:
    """Write now, so that a change someone else committed meanwhile is caught here."""
    try:
        session.flush()
    except StaleDataError as error:
        raise StaleEventError from error


def create_event(
    session: Session, viewer: Viewer, form: EventForm, *, ip_address: str | None = None
) -> CalendarEvent:
    """Add an event (any partner may), audited; returns it as the viewer now sees it."""
    if not viewer.is_partner:
        raise EventPermissionError("Only members of the partnership may add events to the calendar.")
    valid = validate(session, form)
    event = TriggerEvent(
        kind=valid.kind,
        title=valid.title,
        starts_on=valid.starts_on,
        ends_on=valid.ends_on,
        region_wide=valid.region_wide,
        notes=valid.notes,
        created_by_id=viewer.user_id,
        created_at=utcnow(),
    )
    event.areas = _areas(session, valid.area_codes)
    session.add(event)
    _flush(session)
    audit.record(
        session, "trigger event created", user_id=viewer.user_id, actor=viewer.email,
        record_type=RECORD_TYPE, record_id=event.id, ip_address=ip_address,
        detail={"kind": valid.kind, "starts_on": valid.starts_on.isoformat(), "areas": list(valid.area_codes),
                "region_wide": valid.region_wide},
    )
    return get_event(session, viewer, event.id)


def update_event(
    session: Session,
    viewer: Viewer,
    event_id: int,
    expected_version: int,
    form: EventForm,
    *,
    ip_address: str | None = None,
) -> CalendarEvent:
    """Change an event the viewer may change, if nobody changed it since `expected_version`;
    audited with the fields that changed."""
    event = _editable(session, viewer, event_id, expected_version)
    valid = validate(session, form)
    before = {
        "kind": event.kind, "title": event.title, "starts_on": event.starts_on, "ends_on": event.ends_on,
        "region_wide": event.region_wide, "areas": tuple(sorted(a.code for a in event.areas)),
        "notes": event.notes or "",
    }
    after = {
        "kind": valid.kind, "title": valid.title, "starts_on": valid.starts_on, "ends_on": valid.ends_on,
        "region_wide": valid.region_wide, "areas": valid.area_codes, "notes": valid.notes,
    }
    changed = [name for name in before if before[name] != after[name]]
    if not changed:
        return get_event(session, viewer, event.id)
    areas = _areas(session, valid.area_codes) if "areas" in changed else None
    with session.no_autoflush:  # one UPDATE, so the version moves on by one
        event.kind, event.title, event.notes = valid.kind, valid.title, valid.notes
        event.starts_on, event.ends_on, event.region_wide = valid.starts_on, valid.ends_on, valid.region_wide
        if areas is not None:
            event.areas = areas
        # Set on every change so that the row itself is updated (and its version moves on) even
        # when only the districts changed.
        event.updated_by_id = viewer.user_id
        event.updated_at = utcnow()
    _flush(session)
    audit.record(
        session, "trigger event updated", user_id=viewer.user_id, actor=viewer.email,
        record_type=RECORD_TYPE, record_id=event.id, ip_address=ip_address,
        detail={"changed": changed, "version": event.version},
    )
    return get_event(session, viewer, event.id)


def delete_event(
    session: Session, viewer: Viewer, event_id: int, expected_version: int, *, ip_address: str | None = None
) -> str:
    """Soft-delete an event the viewer may change (it leaves every list and chart); audited.
    Returns the deleted event's title."""
    event = _editable(session, viewer, event_id, expected_version)
    event.deleted_at = utcnow()
    event.updated_by_id = viewer.user_id
    event.updated_at = event.deleted_at
    _flush(session)
    audit.record(
        session, "trigger event deleted", user_id=viewer.user_id, actor=viewer.email,
        record_type=RECORD_TYPE, record_id=event.id, ip_address=ip_address,
        detail={"title": event.title, "starts_on": event.starts_on.isoformat()},
    )
    return event.title
