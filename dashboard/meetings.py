"""Meetings of the partnership: quarterly meetings, extraordinary meetings, community briefings.

Meetings are partnership working records with no handling marking: active partners (members,
chairs, administrators) read them, the national team (SCI) sees none (the access gate decides,
`access.visible`). Only chairs record, change and delete meetings. A deleted meeting's actions
leave every list, count and digest with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from . import audit, history, records
from .access import Viewer, visible
from .models import Action, Meeting, Organisation, meeting_attendance, utcnow
from .reference import ActionStatus, MeetingKind, Role

RECORD_TYPE = history.RECORD_MEETING
MEETING_EDITORS = frozenset({Role.CHAIR})
TITLE_MAX = 200
TEXT_MAX = 20_000
LIST_LIMIT = 200
REASON_MAX = records.REASON_MAX
OPEN_ACTION_STATUSES = (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED)

KIND_LABELS: dict[str, str] = {
    MeetingKind.QUARTERLY.value: "Quarterly meeting",
    MeetingKind.EXTRAORDINARY.value: "Extraordinary meeting",
    MeetingKind.COMMUNITY_BRIEFING.value: "Community briefing",
}

# The form's fields, in the order they appear (and errors are listed).
FIELD_LABELS = {
    "held_on": "Date",
    "kind": "Kind of meeting",
    "title": "Title",
    "attendees": "Organisations attending",
    "agenda": "Agenda",
    "minutes": "Minutes",
}

# Fields that are not on the form but may be wrong (named in error messages).
OTHER_LABELS = {"reason": "Reason for deleting"}


# --- errors -------------------------------------------------------------------------------------


class MeetingError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class MeetingValidationError(records.RecordValidationError, MeetingError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS) to what is wrong."""

    field_labels = FIELD_LABELS
    other_labels = OTHER_LABELS


class MeetingNotFoundError(MeetingError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "This meeting does not exist or has been deleted. Reload the list of meetings.")


class MeetingPermissionError(MeetingError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "Only chairs may record, change or delete meetings.")


class MeetingConflictError(MeetingError):
    """Someone else saved the meeting since the person opened it; nothing was written.
    `current` is the meeting as saved now (None if it has gone)."""

    def __init__(self, current: MeetingView | None, *, deleting: bool = False) -> None:
        self.current = current
        if deleting:
            message = (
                "Someone else changed this meeting after you opened it, so it has not been deleted. "
                "Check their version, then delete it again if you still want to."
            )
        else:
            message = (
                "Someone else changed this meeting while you were editing it, so your changes have "
                "not been saved. Reload the meeting to see their version, then make your change again."
            )
        super().__init__(message)


# --- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingView:
    """One meeting as a viewer sees it, with counts of its (not deleted) actions."""

    id: int
    held_on: date
    kind: str
    kind_label: str
    title: str
    agenda: str
    minutes: str
    attendees: tuple[tuple[int, str], ...]  # (organisation id, name), by name
    version: int
    action_count: int
    open_action_count: int
    overdue_action_count: int  # open and due before `today`
    may_edit: bool


# --- reading ------------------------------------------------------------------------------------


def may_edit_meetings(viewer: Viewer) -> bool:
    """Whether the viewer may record, change and delete meetings (chairs only)."""
    return viewer.is_partner and viewer.role in MEETING_EDITORS


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, str(kind).capitalize())


def meeting_label(title: str, held_on: date) -> str:
    """How a meeting is named in lists and choices: "Quarterly meeting, June 2026 (10 Jun 2026)"."""
    return f"{title} ({records.day_text(held_on)})"


def _action_counts(session: Session, ids: list[int], today: date) -> dict[int, tuple[int, int, int]]:
    """(all, open, overdue as of `today`) actions of each meeting, counted in the database."""
    if not ids:
        return {}
    is_open = Action.status.in_([s.value for s in OPEN_ACTION_STATUSES])
    rows = session.execute(
        select(
            Action.meeting_id,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, Action.due_on < today), 1), else_=0)),
        )
        .where(Action.meeting_id.in_(ids), Action.deleted_at.is_(None))
        .group_by(Action.meeting_id)
    )
    return {meeting_id: (int(n), int(o or 0), int(d or 0)) for meeting_id, n, o, d in rows}


def _attendees(session: Session, ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if not ids:
        return found
    for meeting_id, org_id, name in session.execute(
        select(meeting_attendance.c.meeting_id, Organisation.id, Organisation.name)
        .join(Organisation, Organisation.id == meeting_attendance.c.organisation_id)
        .where(meeting_attendance.c.meeting_id.in_(ids))
        .order_by(Organisation.name, Organisation.id)
    ):
        found[meeting_id].append((org_id, name))
    return found


def _views(session: Session, viewer: Viewer, query, today: date) -> list[MeetingView]:
    """Run a `visible(viewer, Meeting)` selection and turn it into views: one query for the
    meetings, one for their attendance, one for their action counts."""
    meetings = list(session.scalars(query.execution_options(populate_existing=True)))
    ids = [m.id for m in meetings]
    attendees: dict[int, list[tuple[int, str]]] = defaultdict(list)
    counts: dict[int, tuple[int, int, int]] = {}
    for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        attendees.update(_attendees(session, chunk))
        counts.update(_action_counts(session, chunk, today))
    editor = may_edit_meetings(viewer)
    return [
        MeetingView(
            id=m.id,
            held_on=m.held_on,
            kind=m.kind,
            kind_label=kind_label(m.kind),
            title=m.title,
            agenda=m.agenda or "",
            minutes=m.minutes or "",
            attendees=tuple(attendees.get(m.id, ())),
            version=m.version,
            action_count=counts.get(m.id, (0, 0, 0))[0],
            open_action_count=counts.get(m.id, (0, 0, 0))[1],
            overdue_action_count=counts.get(m.id, (0, 0, 0))[2],
            may_edit=editor,
        )
        for m in meetings
    ]


def list_meetings(
    session: Session, viewer: Viewer, today: date, *, kinds: Iterable[str] = (), limit: int = LIST_LIMIT
) -> list[MeetingView]:
    """The meetings the viewer may see (optionally of some kinds only), newest first."""
    query = visible(viewer, Meeting)
    kinds = [str(k) for k in kinds if k]
    if kinds:
        query = query.where(Meeting.kind.in_(kinds))
    query = query.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)
    return _views(session, viewer, query, today)


def get_meeting(session: Session, viewer: Viewer, meeting_id: int, today: date) -> MeetingView | None:
    """One meeting if the viewer may see it (None also when it does not exist or was deleted)."""
    found = _views(session, viewer, visible(viewer, Meeting).where(Meeting.id == meeting_id), today)
    return found[0] if found else None


def last_meeting(session: Session, viewer: Viewer, before: date) -> MeetingView | None:
    """The latest meeting held before `before` (its action counts as of `before`)."""
    query = (
        visible(viewer, Meeting)
        .where(Meeting.held_on < before)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(1)
    )
    found = _views(session, viewer, query, before)
    return found[0] if found else None


def next_meeting(session: Session, viewer: Viewer, on_or_after: date) -> MeetingView | None:
    """The earliest meeting held on or after `on_or_after` (its action counts as of that day)."""
    query = (
        visible(viewer, Meeting)
        .where(Meeting.held_on >= on_or_after)
        .order_by(Meeting.held_on, Meeting.id)
        .limit(1)
    )
    found = _views(session, viewer, query, on_or_after)
    return found[0] if found else None


def organisation_choices(session: Session) -> list[tuple[int, str]]:
    """Member organisations as (id, name), by name: who may be recorded as attending."""
    return records.member_organisations(session)


def meeting_history(session: Session, viewer: Viewer, meeting_id: int) -> list[history.HistoryEntry]:
    """The meeting's history (oldest first), or [] if the viewer may not see the meeting."""
    seen = session.scalar(
        visible(viewer, Meeting).where(Meeting.id == meeting_id).with_only_columns(Meeting.id)
    )
    return history.entries(session, RECORD_TYPE, meeting_id) if seen is not None else []


# --- checking what was typed --------------------------------------------------------------------


def whole_numbers(values) -> tuple[list[int], bool]:
    """Ids chosen in a form (a list, or one value), without repeats, and whether each was one."""
    if values is None or isinstance(values, str | int):
        values = [] if values in (None, "") else [values]
    found: list[int] = []
    ok = True
    for value in values:
        if value is None or value == "":
            continue
        number = records.whole_number(value)
        if number is None:
            ok = False
        elif number not in found:
            found.append(number)
    return found, ok


def tidy_text(value, limit: int, errors: dict[str, str], name: str, what: str) -> str:
    """Free text with its ends trimmed, or an error in `errors[name]` when longer than `limit`."""
    text = str(value or "").strip()
    if len(text) > limit:
        errors[name] = f"{what} must be {limit:,} characters or fewer (it has {len(text):,})."
    return text


def _check(session: Session, form: Mapping[str, object], current: MeetingView | None = None) -> dict:
    """The form's values checked and tidied, or MeetingValidationError naming every wrong field."""
    errors: dict[str, str] = {}
    values: dict = {}
    values["held_on"] = records.parse_day(
        form.get("held_on"), errors, "held_on", what="The date of the meeting",
        example="10 June 2026 (2026-06-10)", missing="Enter the date of the meeting.",
        allow_future=True, today=records.LATEST_DAY,
    )

    kind = str(form.get("kind") or "").strip()
    if kind not in KIND_LABELS:
        errors["kind"] = "Choose the kind of meeting from the list."
    values["kind"] = kind

    title = " ".join(str(form.get("title") or "").split())
    if not title:
        errors["title"] = "Enter a title for the meeting, for example \u201cQuarterly meeting, June 2026\u201d."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title must be {TITLE_MAX} characters or fewer (it has {len(title)})."
    values["title"] = title

    ids, ok = whole_numbers(form.get("attendees"))
    # Organisations that attended stay listed even if they have since left the partnership.
    already = dict(current.attendees) if current else {}
    members = dict(records.member_organisations(session, [i for i in ids if i not in already]))
    known = {**members, **{i: name for i, name in already.items() if i in ids}}
    if not ok or set(ids) - set(known):
        errors["attendees"] = "Choose the organisations attending from the list only."
    values["attendees"] = tuple(sorted(((i, known[i]) for i in ids if i in known), key=lambda p: (p[1], p[0])))

    values["agenda"] = tidy_text(form.get("agenda"), TEXT_MAX, errors, "agenda", "The agenda")
    values["minutes"] = tidy_text(form.get("minutes"), TEXT_MAX, errors, "minutes", "The minutes")
    if errors:
        raise MeetingValidationError(errors)
    return values


def _texts(values: Mapping) -> dict[str, str]:
    """Each field as shown on screen (for the history)."""
    return {
        "held_on": records.day_text(values["held_on"]),
        "kind": kind_label(values["kind"]),
        "title": values["title"],
        "attendees": records.names_text(values["attendees"]),
        "agenda": values["agenda"],
        "minutes": values["minutes"],
    }


def _view_values(view: MeetingView) -> dict:
    return {"held_on": view.held_on, "kind": view.kind, "title": view.title, "attendees": view.attendees,
            "agenda": view.agenda, "minutes": view.minutes}


# --- changes ------------------------------------------------------------------------------------


def _require_editor(viewer: Viewer) -> None:
    if not may_edit_meetings(viewer):
        raise MeetingPermissionError


def _audit(session: Session, viewer: Viewer, event: str, meeting_id: int, ip_address: str | None,
           detail: dict, reason: str | None = None) -> None:
    audit.record(session, event, user_id=viewer.user_id, actor=viewer.email, record_type=RECORD_TYPE,
                 record_id=meeting_id, ip_address=ip_address, reason=reason, detail=detail)


def _organisations(session: Session, pairs) -> list[Organisation]:
    ids = [i for i, _ in pairs]
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(ids)))) if ids else []


def _editable(session: Session, viewer: Viewer, meeting_id: int, expected_version: int, *,
              deleting: bool = False) -> tuple[Meeting, MeetingView]:
    """The meeting loaded for change, after checking the viewer is a chair, it exists and nobody
    changed it since the viewer read it (else MeetingConflictError with the meeting as it is)."""
    _require_editor(viewer)
    meeting = session.scalar(
        visible(viewer, Meeting).where(Meeting.id == meeting_id).execution_options(populate_existing=True)
    )
    if meeting is None:
        raise MeetingNotFoundError
    today = utcnow().date()  # only for the counts of the view shown with a conflict
    current = get_meeting(session, viewer, meeting_id, today)
    if meeting.version != expected_version:
        raise MeetingConflictError(current, deleting=deleting)
    return meeting, current


def _flush(session: Session, viewer: Viewer, meeting_id: int, *, deleting: bool = False) -> None:
    """Write now, so that a change someone else committed meanwhile is caught here; nothing of
    this change is kept then."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        current = get_meeting(session, viewer, meeting_id, utcnow().date())
        raise MeetingConflictError(current, deleting=deleting) from error


def create_meeting(
    session: Session, viewer: Viewer, form: Mapping[str, object], *, ip_address: str | None = None
) -> int:
    """Record a meeting (chairs only), with its history and audit entries. Returns its id."""
    _require_editor(viewer)
    values = _check(session, form)
    meeting = Meeting(
        held_on=values["held_on"], kind=values["kind"], title=values["title"], agenda=values["agenda"],
        minutes=values["minutes"], created_by_id=viewer.user_id, created_at=utcnow(),
    )
    with session.no_autoflush:
        meeting.attendees = _organisations(session, values["attendees"])
    session.add(meeting)
    session.flush()
    history.add(session, RECORD_TYPE, meeting.id, meeting.version, "created", viewer.user_id)
    _audit(session, viewer, "meeting-created", meeting.id, ip_address,
           {"held_on": values["held_on"].isoformat(), "kind": values["kind"],
            "attendees": [i for i, _ in values["attendees"]], "version": meeting.version})
    return meeting.id


def update_meeting(
    session: Session,
    viewer: Viewer,
    meeting_id: int,
    expected_version: int,
    form: Mapping[str, object],
    *,
    ip_address: str | None = None,
) -> None:
    """Change a meeting (chairs only) if nobody changed it since `expected_version`; the changed
    fields go into its history and the audit log. Nothing is written when nothing changed."""
    meeting, current = _editable(session, viewer, meeting_id, expected_version)
    values = _check(session, form, current)
    changes = history.diff(_texts(_view_values(current)), _texts(values), FIELD_LABELS)
    changed = [name for name, label in FIELD_LABELS.items() if any(c.field == label for c in changes)]
    if not changed:
        return
    with session.no_autoflush:  # one UPDATE, so the version moves on by one
        meeting.held_on, meeting.kind, meeting.title = values["held_on"], values["kind"], values["title"]
        meeting.agenda, meeting.minutes = values["agenda"], values["minutes"]
        if "attendees" in changed:
            meeting.attendees = _organisations(session, values["attendees"])
        # The row itself is updated (and its version moves on) even when only attendance changed.
        flag_modified(meeting, "title")
    _flush(session, viewer, meeting_id)
    history.add(session, RECORD_TYPE, meeting.id, meeting.version, "updated", viewer.user_id, changes)
    _audit(session, viewer, "meeting-updated", meeting.id, ip_address,
           {"changed": changed, "version": meeting.version})


def delete_meeting(
    session: Session,
    viewer: Viewer,
    meeting_id: int,
    expected_version: int,
    reason: str = "",
    *,
    ip_address: str | None = None,
) -> None:
    """Soft-delete a meeting (chairs only): it and its actions leave every list, count and
    digest; the reason goes into its history and the audit log."""
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise MeetingValidationError(
            {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})."}
        )
    meeting, _current = _editable(session, viewer, meeting_id, expected_version, deleting=True)
    meeting.deleted_at = utcnow()
    _flush(session, viewer, meeting_id, deleting=True)
    history.add(session, RECORD_TYPE, meeting.id, meeting.version, "deleted", viewer.user_id, note=reason)
    _audit(session, viewer, "meeting-deleted", meeting.id, ip_address,
           {"title": meeting.title, "held_on": meeting.held_on.isoformat(), "version": meeting.version},
           reason=reason or None)
