"""The lifecycle shared by marked records: incidents (`incidents.py`) and tension assessments
(`assessments.py`).

Who may edit a record and change its marking, the checks of its marking and who it is shared with
(named recipients for TLP:RED, listed organisations for TLP:AMBER), the version check that turns
a stale save into a conflict showing both versions, soft delete and restore, and the history and
audit entries every change adds. Each record type describes itself once (`RecordKind`: its history
type, what people call it, its model and its error classes); the modules keep their own fields,
checks and messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from . import audit, history
from .access import PARTNERSHIP_ROLES, RecordFilters, Viewer, visible
from .models import Area, Organisation, User, utcnow
from .reference import MARKING_DESCRIPTIONS, Marking, MembershipStatus, Role, UserStatus

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
REASON_MAX = 1_000
NOT_GIVEN = "Not given"
NONE_CHOSEN = "None"

MARKING_MESSAGE = "Only the originating organisation can change a record's marking and who it is shared with."
RED_NEEDS_RECIPIENTS = (
    "Choose at least one named recipient: TLP:RED records are seen only by the people named on "
    "them and the reporter."
)


# --- on-screen text ---------------------------------------------------------------------------------


def day_text(day: date | None) -> str:
    """A date as people read it: "3 Nov 2026"."""
    return f"{day.day} {day:%b %Y}" if day else NOT_GIVEN


def names_text(pairs: Sequence[tuple[object, str]]) -> str:
    return "; ".join(name for _, name in pairs) or NONE_CHOSEN


def raw_text(value) -> str:
    """What the person typed, as text (for a conflict shown while the form is still wrong)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return day_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(raw_text(v) for v in value)
    return str(value)


# --- errors -------------------------------------------------------------------------------------------


class RecordValidationError(Exception):
    """Base of the modules' validation errors: `errors` maps each field (in the order of
    `field_labels`) to what is wrong; the message names each field by its label."""

    field_labels: Mapping[str, str] = MappingProxyType({})
    other_labels: Mapping[str, str] = MappingProxyType({})

    def __init__(self, errors: Mapping[str, str]) -> None:
        ordered = {name: errors[name] for name in self.field_labels if name in errors}
        ordered.update({k: v for k, v in errors.items() if k not in ordered})
        self.errors = ordered
        labels = {**self.field_labels, **self.other_labels}
        super().__init__("; ".join(f"{labels.get(k, k)}: {v}" for k, v in ordered.items()))


class RecordNotFoundError(Exception):
    """Base of the modules' not-found errors, with their own default message."""

    default_message = "This record does not exist, has been deleted, or is not shared with you."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


@dataclass(frozen=True)
class ConflictRow:
    """One field of a conflict: the person's value and the value saved meanwhile, as text."""

    field: str
    label: str
    yours: str
    theirs: str
    differs: bool


def conflict_message(kind: str, changed_by: str, changed_at: datetime | None, *, deleting: bool = False) -> str:
    when = f" at {changed_at:%H:%M} UTC on {day_text(changed_at.date())}" if changed_at else ""
    if deleting:
        return (
            f"{changed_by} changed this {kind}{when} after you opened it, so it has not been deleted. "
            f"Check their version, then delete it again if you still want to."
        )
    return (
        f"{changed_by} changed this {kind}{when} while you were editing it, so your changes have not "
        f"been saved. Their version and yours are shown side by side: check the differences, then "
        f"save again to apply yours on top of theirs."
    )


class RecordConflictError(Exception):
    """Base of the modules' conflict errors: someone else saved the record since the person read
    it; nothing was written. `current` is the record as saved now, `rows` every field's two
    values, `changed_by` and `changed_at` who saved it last and when."""

    noun = "record"

    def __init__(self, current, rows: list[ConflictRow], changed_by: str,
                 changed_at: datetime | None, *, deleting: bool = False) -> None:
        self.current = current
        self.rows = rows
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(conflict_message(self.noun, changed_by, changed_at, deleting=deleting))


@dataclass(frozen=True)
class RecordKind:
    """What the shared lifecycle needs to know of a record type."""

    record_type: str  # history.RECORD_INCIDENT or history.RECORD_ASSESSMENT
    noun: str  # as people call it: "incident", "tension assessment"
    model: type
    field_labels: Mapping[str, str]
    invalid: type[RecordValidationError]
    not_found: type[RecordNotFoundError]
    conflict: type[RecordConflictError]
    denied: type[Exception]  # the module's permission error


# --- who may do what -------------------------------------------------------------------------------


def may_edit(viewer: Viewer, source_org_id: int) -> bool:
    """Members of the originating organisation, and chairs (for corrections)."""
    return viewer.is_partner and (viewer.organisation_id == source_org_id or viewer.role == Role.CHAIR)


def may_change_marking(viewer: Viewer, source_org_id: int) -> bool:
    return viewer.is_partner and viewer.organisation_id == source_org_id


def is_admin(viewer: Viewer) -> bool:
    return viewer.is_partner and viewer.role == Role.ADMIN


def editable(session: Session, viewer: Viewer, kind: RecordKind, load: Callable, record_id: int,
             expected_version: int, stale: Callable[[], Exception], *, outsider: str,
             other_organisation: str) -> tuple:
    """The record and its view (`load(session, viewer, record_id)`), when the viewer may change
    or delete it and it is still at the version they read (else `stale()`, the conflict); else
    the module's permission or not-found error, with the message given."""
    if not viewer.is_partner:
        raise kind.denied(outsider)
    loaded = load(session, viewer, record_id)
    if loaded is None:
        raise kind.not_found()
    if not may_edit(viewer, loaded[1].source_org_id):
        raise kind.denied(other_organisation)
    if loaded[1].version != expected_version:
        raise stale()
    return loaded


def permissions(viewer: Viewer, source_org_id: int, deleted: bool) -> dict[str, bool]:
    """A view's can_edit, can_delete, can_restore and can_change_marking."""
    editable = not deleted and may_edit(viewer, source_org_id)
    return {
        "can_edit": editable,
        "can_delete": editable,
        "can_restore": deleted and is_admin(viewer),
        "can_change_marking": not deleted and may_change_marking(viewer, source_org_id),
    }


# --- reference choices -----------------------------------------------------------------------------


def district_choices(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every district, grouped by police force area, forces and districts in name order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, force in session.execute(
        select(Area.code, Area.name, Area.police_force).order_by(Area.police_force, Area.name)
    ):
        groups.setdefault(force, []).append((code, name))
    return list(groups.items())


def marking_choices() -> list[tuple[str, str]]:
    return [(m.value, MARKING_DESCRIPTIONS[m]) for m in Marking]


def _people_query():
    return (
        select(User.id, User.name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.status == UserStatus.ACTIVE.value,
            User.role.in_([r.value for r in PARTNERSHIP_ROLES]),
            Organisation.membership_status == MembershipStatus.ACTIVE.value,
        )
        .order_by(User.name, User.id)
    )


def partner_people(session: Session, ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
    """Active partner users as (id, "Name (Organisation)"): who may be named on a TLP:RED record."""
    query = _people_query()
    if ids is not None:
        query = query.where(User.id.in_(list(ids)))
    return [(uid, f"{name} ({org})") for uid, name, org in session.execute(query)]


def member_organisations(session: Session, ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
    """Active member organisations as (id, name): who may be listed on a TLP:AMBER record. Only
    organisations with members who read records (not the national team's, whose users see
    aggregates only)."""
    reads_records = (
        select(User.id)
        .where(User.organisation_id == Organisation.id, User.role.in_([r.value for r in PARTNERSHIP_ROLES]))
        .exists()
    )
    query = (
        select(Organisation.id, Organisation.name)
        .where(Organisation.membership_status == MembershipStatus.ACTIVE.value, reads_records)
        .order_by(Organisation.name)
    )
    if ids is not None:
        query = query.where(Organisation.id.in_(list(ids)))
    return [tuple(row) for row in session.execute(query)]


def sharing_choices(session: Session, viewer: Viewer) -> dict[str, list[tuple[int, str]]]:
    """A form's `organisations` and `people` choices (offered to partners only)."""
    partner = viewer.is_partner
    return {
        "organisations": member_organisations(session) if partner else [],
        "people": partner_people(session) if partner else [],
    }


# --- checking what was typed ------------------------------------------------------------------------


def parse_day(value, errors: dict[str, str], name: str, *, what: str, example: str,
              missing: str | None, allow_future: bool, today: date) -> date | None:
    """A date from the form, or None with a message in `errors[name]` (`missing`: the message
    for a blank, or None when a blank is allowed)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = str(value or "").strip()
        if not text:
            if missing:
                errors[name] = missing
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = f"{what} must be a real date, for example {example}."
            return None
    if day < EARLIEST_DAY:
        errors[name] = f"{what} must be in {EARLIEST_DAY.year} or later."
        return None
    if not allow_future and day > today:
        errors[name] = f"{what} cannot be in the future (today is {day_text(today)})."
        return None
    if day > LATEST_DAY:
        errors[name] = f"{what} must be before {LATEST_DAY.year + 1}."
        return None
    return day


def whole_number(value) -> int | None:
    """A whole number chosen in the form (a level or severity), or None when blank or not one."""
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def check_area(session: Session, value, errors: dict[str, str], values: dict, *, missing: str) -> None:
    """The district: `values` gets its code and name, or `errors["area_code"]` what is wrong."""
    code = str(value or "").strip().upper()
    if not code:
        errors["area_code"] = missing
        return
    name = session.scalar(select(Area.name).where(Area.code == code))
    if name is None:
        errors["area_code"] = "Choose the district from the list: that code is not a Midlands district."
    else:
        values["area_code"], values["area_name"] = code, name


def _ids(values) -> tuple[list[int], bool]:
    """Whole numbers from a list (ids from the form), and whether every entry was one."""
    found: list[int] = []
    ok = True
    for value in values or ():
        if value is None or value == "":
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            ok = False
            continue
        if number not in found:
            found.append(number)
    return found, ok


def check_sharing(
    session: Session,
    form,
    errors: dict[str, str],
    values: dict,
    *,
    viewer: Viewer,
    source_org_id: int,
    reporter_id: int,
) -> None:
    """The marking and its lists: named recipients kept for TLP:RED only, listed organisations
    for TLP:AMBER only (the originator is always included without being listed)."""
    marking = str(form.marking or "").strip() or Marking.GREEN.value
    if marking not in {m.value for m in Marking}:
        errors["marking"] = "Choose a handling marking from the list (TLP:RED to TLP:CLEAR)."
        return
    values["marking"] = marking

    if marking == Marking.RED.value:
        ids, ok = _ids(form.recipients)
        known = partner_people(session, ids) if ids else []
        if not ok or len(known) != len(ids):
            errors["recipients"] = (
                "Choose recipients from the list only: each must be an active user of a member organisation."
            )
        elif not known:
            errors["recipients"] = RED_NEEDS_RECIPIENTS
        elif viewer.user_id != reporter_id and viewer.user_id not in ids:
            errors["recipients"] = (
                "Name yourself among the recipients: TLP:RED records are seen only by the people named "
                "on them and the reporter, so you could no longer see this record."
            )
        else:
            values["recipients"] = tuple(known)
    else:
        values["recipients"] = ()

    if marking == Marking.AMBER.value:
        ids, ok = _ids(form.listed_organisations)
        ids = [i for i in ids if i != source_org_id]  # the originator sees it anyway
        known = member_organisations(session, ids) if ids else []
        if not ok or len(known) != len(ids):
            errors["listed_organisations"] = (
                "Choose organisations from the list only: each must be a member of the partnership."
            )
        else:
            values["listed_organisations"] = tuple(known)
    else:
        values["listed_organisations"] = ()


def sharing_changes_refused(viewer: Viewer, source_org_id: int, values: Mapping, current) -> dict[str, str]:
    """Errors for a chair of another organisation who changed the marking or its lists."""
    if may_change_marking(viewer, source_org_id):
        return {}
    refused = {}
    if "marking" in values and values["marking"] != current.marking:
        refused["marking"] = MARKING_MESSAGE
    for name in ("recipients", "listed_organisations"):
        if name in values and {i for i, _ in values[name]} != {i for i, _ in getattr(current, name)}:
            refused[name] = MARKING_MESSAGE
    return refused


# --- reading -----------------------------------------------------------------------------------------


def sharing_lists(session: Session, recipients_table: Table, organisations_table: Table, record_id: int
                  ) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
    """A record's named recipients (id, "Name (Organisation)") and listed organisations (id, name)."""
    recipients = session.execute(
        select(User.id, User.name, Organisation.name)
        .join(recipients_table, recipients_table.c.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(recipients_table.c.record_id == record_id)
        .order_by(User.name, User.id)
    ).all()
    listed = session.execute(
        select(Organisation.id, Organisation.name)
        .join(organisations_table, organisations_table.c.organisation_id == Organisation.id)
        .where(organisations_table.c.record_id == record_id)
        .order_by(Organisation.name)
    ).all()
    return (tuple((uid, f"{name} ({org})") for uid, name, org in recipients),
            tuple((oid, name) for oid, name in listed))


def load_row(session: Session, viewer: Viewer, kind: RecordKind, record_id: int, *, include_deleted: bool,
             joins: Sequence[tuple] = (), columns: Sequence = ()):
    """The record (fresh from the database) if the viewer may see it, with its district's name,
    `columns` (from the `joins`), and the names of its organisation, reporter and deleter; or None."""
    model = kind.model
    filters = RecordFilters(include_deleted=True) if include_deleted else None
    reporter, deleter = aliased(User), aliased(User)
    query = (
        visible(viewer, model, filters)
        .where(model.id == record_id)
        .join(Area, Area.code == model.area_code)
    )
    for target, on in joins:
        query = query.join(target, on)
    return session.execute(
        query
        .join(Organisation, Organisation.id == model.source_org_id)
        .join(reporter, reporter.id == model.reporter_id)
        .outerjoin(deleter, deleter.id == model.deleted_by_id)
        .add_columns(Area.name, *columns, Organisation.name, reporter.name, deleter.name)
        .execution_options(populate_existing=True)
    ).first()


def may_see(session: Session, viewer: Viewer, kind: RecordKind, record_id: int, *,
            include_deleted: bool = False) -> bool:
    """Whether the record is visible to the viewer through the access gate."""
    model = kind.model
    filters = RecordFilters(include_deleted=True) if include_deleted else None
    return session.scalar(
        visible(viewer, model, filters).where(model.id == record_id).with_only_columns(model.id)
    ) is not None


# --- changes -------------------------------------------------------------------------------------------


def users(session: Session, pairs) -> list[User]:
    """The users of (id, name) pairs, to set a record's recipients."""
    ids = [i for i, _ in pairs]
    return list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def organisations(session: Session, pairs) -> list[Organisation]:
    """The organisations of (id, name) pairs, to set a record's listed organisations."""
    ids = [i for i, _ in pairs]
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(ids)))) if ids else []


def create(session: Session, viewer: Viewer, kind: RecordKind, values: Mapping, columns: Sequence[str], *,
           set_lists: Callable[[object], None], ip_address: str | None, detail: Mapping | None = None,
           note: str = "", **fields):
    """Add a checked record for the viewer's organisation (the viewer its reporter): its columns,
    `fields`, its own lists (`set_lists(record)`), recipients and listed organisations; then its
    history and audit entries ("created"). Returns it, flushed."""
    now = utcnow()
    record = kind.model(
        **{name: values[name] for name in columns},
        source_org_id=viewer.organisation_id,
        reporter_id=viewer.user_id,
        **fields,
        created_at=now,
        updated_at=now,
    )
    with session.no_autoflush:
        set_lists(record)
        record.recipients = users(session, values["recipients"])
        record.listed_organisations = organisations(session, values["listed_organisations"])
    session.add(record)
    session.flush()
    record_change(session, viewer, kind, record, "created", ip_address,
                  {"marking": record.marking, "version": record.version, **(detail or {})}, note=note)
    return record


def audit_event(session: Session, viewer: Viewer, kind: RecordKind, event: str, record_id: int,
                ip_address: str | None, detail: dict) -> None:
    """An audit entry "<noun> <event>" (e.g. "incident updated"); details name fields only."""
    audit.record(session, f"{kind.noun} {event}", user_id=viewer.user_id, actor=viewer.email,
                 record_type=kind.record_type, record_id=record_id, ip_address=ip_address, detail=detail)


def record_change(session: Session, viewer: Viewer, kind: RecordKind, record, action: str,
                  ip_address: str | None, detail: dict, *, changes=(), note: str = "") -> None:
    """The history entry (at the record's version now) and the audit entry of one change."""
    history.add(session, kind.record_type, record.id, record.version, action, viewer.user_id, changes, note)
    audit_event(session, viewer, kind, action, record.id, ip_address, detail)


def field_changes(current, after: Mapping[str, str], labels: Mapping[str, str]
                  ) -> tuple[list[history.FieldChange], list[str]]:
    """The changes from a view to the checked form's texts (for the history) and the names of
    the fields that changed."""
    before = {name: current.field_text(name) for name in labels}
    changes = history.diff(before, after, labels)
    return changes, [name for name in labels if before[name] != after[name]]


def conflict_rows(labels: Mapping[str, str], values: Mapping, text: Callable[[str, Callable], str],
                  typed: Callable[[str], str], current) -> list[ConflictRow]:
    """Every field's two values: the person's (`text` of the checked value, or `typed` when it
    was wrong) and the one saved now."""
    rows: list[ConflictRow] = []
    for name, label in labels.items():
        yours = text(name, values.get) if name in values else typed(name)
        theirs = current.field_text(name)
        rows.append(ConflictRow(name, label, yours, theirs, yours != theirs))
    return rows


def save_edit(session: Session, viewer: Viewer, kind: RecordKind, record, current, values: Mapping,
              errors: dict[str, str], *, texts: Callable[[], Mapping[str, str]], columns: Sequence[str],
              set_lists: Callable[[list[str]], None], stale: Callable[[], Exception],
              ip_address: str | None) -> bool:
    """Apply a checked edit (`values`, `errors` from the module's checks) to the record: refuses
    wrong fields and marking changes the viewer may not make, writes the columns and the changed
    lists (`set_lists(changed)` for the record's own ones) in one UPDATE, catches a stale version
    (`stale()`), and adds the changed fields to the history and the audit log. False when
    nothing changed (and nothing was written)."""
    errors.update(sharing_changes_refused(viewer, current.source_org_id, values, current))
    if errors:
        raise kind.invalid(errors)
    changes, changed = field_changes(current, texts(), kind.field_labels)
    if not changes:
        return False
    with session.no_autoflush:  # one UPDATE, so the version moves on by one
        for name in columns:
            setattr(record, name, values[name])
        set_lists(changed)
        if "recipients" in changed:
            record.recipients = users(session, values["recipients"])
        if "listed_organisations" in changed:
            record.listed_organisations = organisations(session, values["listed_organisations"])
        # Set on every change so that the row itself is updated (and its version moves on) even
        # when only its lists changed.
        record.updated_at = utcnow()
    flush(session, stale)
    record_change(session, viewer, kind, record, "updated", ip_address,
                  {"changed": changed, "version": record.version, "marking": record.marking},
                  changes=changes)
    return True


def gone_while_working(kind: RecordKind) -> RecordNotFoundError:
    return kind.not_found(
        f"Someone else deleted this {kind.noun} or stopped sharing it with you while you were "
        f"working on it, so your changes have not been saved."
    )


def conflict(session: Session, kind: RecordKind, current, rows: list[ConflictRow], *, deleting: bool
             ) -> RecordConflictError:
    """The conflict to raise, naming who saved the record last and when."""
    last = history.latest(session, kind.record_type, current.id)
    changed_by = f"{last.who} ({last.organisation})" if last and last.organisation else (
        last.who if last else "Someone else")
    return kind.conflict(current, rows, changed_by, last.at if last else current.updated_at, deleting=deleting)


def flush(session: Session, stale: Callable[[], Exception]) -> None:
    """Write now, so that a change someone else committed meanwhile is caught here; nothing of
    this change is kept then (the transaction is rolled back) and `stale()` is raised."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise stale() from error


def soft_delete(session: Session, viewer: Viewer, kind: RecordKind, record, reason: str,
                stale: Callable[[], Exception], ip_address: str | None) -> None:
    """Mark the record deleted by the viewer (kept for administrators to restore), with the
    reason in its history."""
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise kind.invalid(
            {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})."}
        )
    now = utcnow()
    record.deleted_at, record.deleted_by_id, record.updated_at = now, viewer.user_id, now
    flush(session, stale)
    record_change(session, viewer, kind, record, "deleted", ip_address,
                  {"version": record.version, "marking": record.marking, "reason_given": bool(reason)},
                  note=reason)


def restore(session: Session, viewer: Viewer, kind: RecordKind, record_id: int, ip_address: str | None):
    """Bring back a deleted record (the caller checked the viewer is an administrator); returns it."""
    model = kind.model
    # Found by id, not through the gate: an administrator restores records whatever their marking
    # (and learns nothing of their content by it).
    record = session.scalar(
        select(model).where(model.id == record_id, model.deleted_at.is_not(None))
        .execution_options(populate_existing=True)
    )
    if record is None:
        raise kind.not_found(
            f"This {kind.noun} is not among the deleted records: someone may have restored it already. "
            "Reload the list of deleted records."
        )
    record.deleted_at, record.deleted_by_id, record.updated_at = None, None, utcnow()
    flush(session, lambda: kind.not_found(
        f"Someone else changed this {kind.noun} at the same moment: reload the list of deleted records."
    ))
    record_change(session, viewer, kind, record, "restored", ip_address, {"version": record.version})
    return record
