"""The joint party statement: which districts adopted it and when, and the elections ahead in
districts that have not.

The statement is a resource of kind "joint party statement" (a partnership working record with no
marking: the access gate shows it to active partners only, never to the national team). Adoptions
are read only through a statement the viewer may see. Any active partner may record an adoption;
the recording organisation's users and any chair may correct or remove it. An adoption has no
version column: the form carries a fingerprint of the values the person opened (`version`), and a
change is written only if the row still holds them, so a change saved meanwhile is refused as a
conflict. Removing an adoption deletes its row; the audit event keeps what it said.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, records
from . import calendar as cal
from .access import Viewer, visible
from .models import Area, Organisation, Resource, StatementAdoption, User
from .reference import ResourceKind, Role, TriggerKind

RECORD_TYPE = "statement_adoption"
ELECTION_HORIZON_DAYS = 365  # elections this many days ahead (inclusive) are "upcoming"
NOTES_MAX = 2000

# The form's fields, in the order they appear (and errors are listed).
FIELD_LABELS = {"area": "District", "adopted_on": "Date adopted", "notes": "Notes"}


# --- errors ---------------------------------------------------------------------------------------


class StatementError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class AdoptionValidationError(records.RecordValidationError, StatementError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS) to what is wrong."""

    field_labels = FIELD_LABELS


class StatementNotFoundError(StatementError):
    def __init__(self) -> None:
        super().__init__("This statement is not available: it may have been removed. Reload the page.")


class AdoptionNotFoundError(StatementError):
    def __init__(self) -> None:
        super().__init__(
            "This adoption is no longer recorded: someone may have removed it. The table now shows "
            "what is recorded."
        )


class AdoptionPermissionError(StatementError):
    pass


class AdoptionConflictError(StatementError):
    """Someone changed or removed the adoption since the person opened it; nothing was written."""

    def __init__(self, current: AdoptionEntry | None) -> None:
        self.current = current
        if current is None:
            message = (
                "Someone removed this adoption while you were working on it, so nothing was saved. "
                "The table now shows what is recorded."
            )
        else:
            message = (
                f"Someone changed the adoption in {current.area_name} while you were working on it "
                f"(it now says adopted on {records.day_text(current.adopted_on)}), so nothing was saved. "
                "Check the table, then make your change again if it is still needed."
            )
        super().__init__(message)


# --- rows -------------------------------------------------------------------------------------------


class StatementChoice(NamedTuple):
    id: int
    title: str
    published_on: date | None


@dataclass(frozen=True)
class Statement:
    id: int
    title: str
    summary: str
    link: str | None
    published_on: date | None


@dataclass(frozen=True)
class AdoptionEntry:
    """One district's recorded adoption, as the viewer sees it."""

    id: int
    statement_id: int
    area_code: str
    area_name: str
    adopted_on: date
    notes: str
    recorded_by: str
    recording_organisation: str
    version: str  # a fingerprint of the values; edits carry it (see the module's docstring)
    may_change: bool


@dataclass(frozen=True)
class NextElection:
    id: int
    title: str
    starts_on: date


@dataclass(frozen=True)
class DistrictAdoption:
    """A district's row in the adoption table."""

    code: str
    name: str
    county: str  # the county, or what the district is when it has none
    adoption: AdoptionEntry | None
    next_election: NextElection | None  # within ELECTION_HORIZON_DAYS

    @property
    def adopted_on(self) -> date | None:
        return self.adoption.adopted_on if self.adoption else None

    @property
    def notes(self) -> str:
        return self.adoption.notes if self.adoption else ""

    @property
    def may_change(self) -> bool:
        return bool(self.adoption and self.adoption.may_change)


@dataclass(frozen=True)
class ElectionGap:
    """An upcoming election and the districts voting in it that have not adopted the statement."""

    id: int
    title: str
    starts_on: date
    ends_on: date
    region_wide: bool
    voting: int  # districts voting (65 for a region-wide election)
    not_adopted: tuple[tuple[str, str], ...]  # (code, name) by name


@dataclass(frozen=True)
class AdoptionOverview:
    statement: Statement
    today: date
    districts: tuple[DistrictAdoption, ...]  # by name
    # Elections starting within ELECTION_HORIZON_DAYS: the first one anywhere, and, by date, those
    # in which at least one district that has not adopted the statement votes.
    next_election: ElectionGap | None
    elections: tuple[ElectionGap, ...]
    elections_in_window: int

    @property
    def total(self) -> int:
        return len(self.districts)

    @property
    def adopted(self) -> int:
        return sum(1 for d in self.districts if d.adoption)

    @property
    def not_adopted(self) -> int:
        return self.total - self.adopted

    def headline(self) -> str:
        """'31 of 65 districts have adopted the statement'."""
        verb = "has" if self.adopted == 1 else "have"
        return f"{self.adopted} of {self.total} districts {verb} adopted the statement"

    def latest(self) -> DistrictAdoption | None:
        adopted = [d for d in self.districts if d.adoption]
        return max(adopted, key=lambda d: (d.adopted_on, d.name)) if adopted else None

    def sentence(self) -> str:
        """One sentence for the map's caption and screen readers."""
        if not self.adopted:
            return f"None of the {self.total} districts has adopted the statement yet."
        if self.adopted == self.total:
            return f"All {self.total} districts have adopted the statement."
        latest = self.latest()
        return (
            f"{self.headline()} ({round(100 * self.adopted / self.total)}%), most recently "
            f"{latest.name} on {records.day_text(latest.adopted_on)}; {self.not_adopted} "
            f"{'has' if self.not_adopted == 1 else 'have'} not."
        )


# --- reading ----------------------------------------------------------------------------------------


def _statements(viewer: Viewer):
    """The statements the viewer may see (the gate decides), as a selection of Resource."""
    return visible(viewer, Resource).where(Resource.kind == ResourceKind.STATEMENT.value)


def statements(session: Session, viewer: Viewer) -> list[StatementChoice]:
    """Joint party statements the viewer may see, newest first (undated ones last)."""
    query = _statements(viewer).order_by(
        Resource.published_on.is_(None), Resource.published_on.desc(), Resource.id.desc()
    )
    return [StatementChoice(r.id, r.title, r.published_on) for r in session.scalars(query)]


def get_statement(session: Session, viewer: Viewer, statement_id: int) -> Statement | None:
    row = session.scalar(_statements(viewer).where(Resource.id == statement_id))
    if row is None:
        return None
    return Statement(row.id, row.title, row.summary or "", row.link, row.published_on)


def may_change(viewer: Viewer, recording_organisation_id: int | None) -> bool:
    """Whether the viewer may correct or remove an adoption recorded by that organisation."""
    if not viewer.is_partner:
        return False
    if viewer.role == Role.CHAIR:
        return True
    return recording_organisation_id is not None and recording_organisation_id == viewer.organisation_id


def _fingerprint(area_code: str, adopted_on: date, notes: str) -> str:
    text = f"{area_code}\n{adopted_on.isoformat()}\n{notes}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _entries_query(viewer: Viewer):
    """Adoptions of statements the viewer may see, with the district, recorder and organisation."""
    seen = _statements(viewer).with_only_columns(Resource.id)
    return (
        select(StatementAdoption, Area.name, User.name, User.organisation_id, Organisation.name)
        .join(Area, Area.code == StatementAdoption.area_code)
        .outerjoin(User, User.id == StatementAdoption.recorded_by_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(StatementAdoption.statement_id.in_(seen))
    )


def _entry(viewer: Viewer, row) -> AdoptionEntry:
    adoption, area_name, recorder, org_id, org_name = row
    return AdoptionEntry(
        id=adoption.id,
        statement_id=adoption.statement_id,
        area_code=adoption.area_code,
        area_name=area_name,
        adopted_on=adoption.adopted_on,
        notes=adoption.notes or "",
        recorded_by=recorder or "Unknown",
        recording_organisation=org_name or "Unknown",
        version=_fingerprint(adoption.area_code, adoption.adopted_on, adoption.notes or ""),
        may_change=may_change(viewer, org_id),
    )


def get_adoption(session: Session, viewer: Viewer, adoption_id: int) -> AdoptionEntry | None:
    """One adoption, if its statement is visible to the viewer (None also when it was removed)."""
    row = session.execute(_entries_query(viewer).where(StatementAdoption.id == adoption_id)).first()
    return _entry(viewer, row) if row else None


def upcoming_elections(session: Session, viewer: Viewer, today: date) -> list[cal.CalendarEvent]:
    """Election trigger events the viewer may see starting from today to ELECTION_HORIZON_DAYS
    ahead (both inclusive), soonest first."""
    end = today + timedelta(days=ELECTION_HORIZON_DAYS)
    return [
        e for e in cal.events_between(session, viewer, today, end)
        if e.kind == TriggerKind.ELECTION.value and today <= e.starts_on <= end
    ]


def _county(county: str | None, district_type: str) -> str:
    return county or f"{district_type} (no county)"


def adoption(session: Session, viewer: Viewer, statement_id: int, today: date) -> AdoptionOverview | None:
    """Every district with its adoption (or none), the counts, and the upcoming elections in
    districts that have not adopted; None if the viewer may not see the statement."""
    statement = get_statement(session, viewer, statement_id)
    if statement is None:
        return None
    entries = {
        e.area_code: e
        for e in (_entry(viewer, row) for row in session.execute(
            _entries_query(viewer).where(StatementAdoption.statement_id == statement_id)
        ))
    }
    areas = session.execute(select(Area.code, Area.name, Area.county, Area.district_type).order_by(Area.name)).all()
    names = {code: name for code, name, _county, _type in areas}
    elections = upcoming_elections(session, viewer, today)

    def voting(event: cal.CalendarEvent) -> list[str]:
        return list(names) if event.region_wide else [c for c in event.area_codes if c in names]

    next_for: dict[str, NextElection] = {}
    gaps: list[ElectionGap] = []
    first: ElectionGap | None = None
    for event in elections:  # soonest first
        codes = voting(event)
        for code in codes:
            next_for.setdefault(code, NextElection(event.id, event.title, event.starts_on))
        missing = tuple(sorted(((c, names[c]) for c in codes if c not in entries), key=lambda p: p[1]))
        gap = ElectionGap(event.id, event.title, event.starts_on, event.ends_on, event.region_wide, len(codes),
                          missing)
        first = first or gap
        if missing:
            gaps.append(gap)
    districts = tuple(
        DistrictAdoption(code, name, _county(county, district_type), entries.get(code), next_for.get(code))
        for code, name, county, district_type in areas
    )
    return AdoptionOverview(statement, today, districts, first, tuple(gaps), len(elections))


# --- checking what was typed ----------------------------------------------------------------------------


def _text(form: Mapping, name: str) -> str:
    value = form.get(name)
    return "" if value is None else str(value)


def _validate(session: Session, statement: Statement, form: Mapping, today: date,
              exclude_id: int | None = None) -> dict:
    """The form's values checked and tidied, or AdoptionValidationError naming every wrong field."""
    errors: dict[str, str] = {}
    values: dict = {}
    code = _text(form, "area").strip().upper()
    if not code:
        errors["area"] = "Choose the district that adopted the statement."
    else:
        name = session.scalar(select(Area.name).where(Area.code == code))
        if name is None:
            errors["area"] = "Choose the district from the list: that code is not a Midlands district."
        else:
            values["area_code"], values["area_name"] = code, name

    raw_day = form.get("adopted_on")
    day = records.parse_day(
        raw_day, errors, "adopted_on", what="The date adopted", example="3 Mar 2026 (2026-03-03)",
        missing="Enter the date the district adopted the statement.", allow_future=False, today=today,
    )
    if day and statement.published_on and day < statement.published_on:
        errors["adopted_on"] = (
            f"The date adopted cannot be before the statement was published on "
            f"{records.day_text(statement.published_on)}."
        )
    elif day:
        values["adopted_on"] = day

    notes = _text(form, "notes").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Notes must be {NOTES_MAX:,} characters or fewer (they have {len(notes):,})."
    values["notes"] = notes

    if "area_code" in values:
        taken = _existing(session, statement.id, values["area_code"], exclude_id)
        if taken is not None:
            errors["area"] = _already(values["area_name"], taken)
    if errors:
        raise AdoptionValidationError(errors)
    return values


def _existing(session: Session, statement_id: int, area_code: str, exclude_id: int | None) -> date | None:
    query = select(StatementAdoption.adopted_on).where(
        StatementAdoption.statement_id == statement_id, StatementAdoption.area_code == area_code
    )
    if exclude_id is not None:
        query = query.where(StatementAdoption.id != exclude_id)
    return session.scalar(query)


def _already(area_name: str, adopted_on: date) -> str:
    return f"{area_name} already adopted it on {records.day_text(adopted_on)}: change that entry instead."


# --- changes ---------------------------------------------------------------------------------------------


def _require_partner(viewer: Viewer) -> None:
    if not viewer.is_partner:
        raise AdoptionPermissionError(
            "Only members of the partnership may record adoptions of the joint party statement."
        )


def _duplicate(session: Session, statement_id: int, values: dict, exclude_id: int | None) -> AdoptionValidationError:
    """The error for an adoption of the same district saved by someone else a moment ago."""
    taken = _existing(session, statement_id, values["area_code"], exclude_id)
    return AdoptionValidationError({"area": _already(values["area_name"], taken or values["adopted_on"])})


def _audit(session: Session, viewer: Viewer, action: str, adoption_id: int, ip_address: str | None,
           detail: dict, reason: str | None = None) -> None:
    audit.record(session, action, user_id=viewer.user_id, actor=viewer.email, record_type=RECORD_TYPE,
                 record_id=adoption_id, ip_address=ip_address, reason=reason, detail=detail)


def _as_detail(entry_or_values) -> dict:
    get = entry_or_values.get if isinstance(entry_or_values, dict) else lambda k: getattr(entry_or_values, k)
    return {"area_code": get("area_code"), "adopted_on": get("adopted_on").isoformat(), "notes": get("notes")}


def record_adoption(session: Session, viewer: Viewer, statement_id: int, form: Mapping, *, today: date,
                    ip_address: str | None = None) -> int:
    """Record that a district adopted the statement (any active partner may); audited. `form`
    has `area` (GSS code), `adopted_on` ("YYYY-MM-DD" or a date) and `notes`. Returns its id."""
    _require_partner(viewer)
    statement = get_statement(session, viewer, statement_id)
    if statement is None:
        raise StatementNotFoundError
    values = _validate(session, statement, form, today)
    row = StatementAdoption(statement_id=statement.id, area_code=values["area_code"], adopted_on=values["adopted_on"],
                            notes=values["notes"], recorded_by_id=viewer.user_id)
    try:
        with session.begin_nested():  # two partners recording the same district at once
            session.add(row)
            session.flush()
    except IntegrityError:
        raise _duplicate(session, statement.id, values, None) from None
    _audit(session, viewer, "statement-adoption-recorded", row.id, ip_address,
           {"statement_id": statement.id, **_as_detail(values)})
    return row.id


def _changeable(session: Session, viewer: Viewer, adoption_id: int, expected_version: str) -> AdoptionEntry:
    """The adoption, after checking it exists, the viewer may change it and it still holds the
    values the viewer opened."""
    _require_partner(viewer)
    entry = get_adoption(session, viewer, adoption_id)
    if entry is None:
        raise AdoptionNotFoundError
    if not entry.may_change:
        raise AdoptionPermissionError(
            f"Only the organisation that recorded this adoption ({entry.recording_organisation}) and chairs "
            "may change or remove it."
        )
    if entry.version != str(expected_version):
        raise AdoptionConflictError(entry)
    return entry


def _unchanged_since(entry: AdoptionEntry):
    """The row still holds what the viewer opened (checked in the same statement as the write)."""
    return (
        StatementAdoption.id == entry.id,
        StatementAdoption.area_code == entry.area_code,
        StatementAdoption.adopted_on == entry.adopted_on,
        StatementAdoption.notes == entry.notes,
    )


def update_adoption(session: Session, viewer: Viewer, adoption_id: int, expected_version: str, form: Mapping, *,
                    today: date, ip_address: str | None = None) -> AdoptionEntry:
    """Correct an adoption (its district, date or notes) if the viewer may and nobody changed it
    since `expected_version`; audited with the values before and after. Who recorded it stays."""
    entry = _changeable(session, viewer, adoption_id, expected_version)
    statement = get_statement(session, viewer, entry.statement_id)
    values = _validate(session, statement, form, today, exclude_id=entry.id)
    before, after = _as_detail(entry), _as_detail(values)
    changed = [name for name in before if before[name] != after[name]]
    if not changed:
        return entry
    try:
        with session.begin_nested():
            result = session.execute(
                update(StatementAdoption).where(*_unchanged_since(entry)).values(
                    area_code=values["area_code"], adopted_on=values["adopted_on"], notes=values["notes"]
                ).execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise _duplicate(session, entry.statement_id, values, entry.id) from None
    if result.rowcount != 1:
        raise AdoptionConflictError(get_adoption(session, viewer, entry.id))
    session.expire_all()
    _audit(session, viewer, "statement-adoption-changed", entry.id, ip_address,
           {"statement_id": entry.statement_id, "changed": changed, "before": before, "after": after})
    return get_adoption(session, viewer, entry.id)


def remove_adoption(session: Session, viewer: Viewer, adoption_id: int, expected_version: str, reason: str = "",
                    *, ip_address: str | None = None) -> str:
    """Remove an adoption recorded in error (the row is deleted; the audit event keeps what it
    said and who recorded it). Returns the district's name."""
    entry = _changeable(session, viewer, adoption_id, expected_version)
    result = session.execute(
        delete(StatementAdoption).where(*_unchanged_since(entry)).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AdoptionConflictError(get_adoption(session, viewer, entry.id))
    session.expire_all()
    _audit(session, viewer, "statement-adoption-removed", entry.id, ip_address,
           {"statement_id": entry.statement_id, "before": _as_detail(entry), "recorded_by": entry.recorded_by,
            "recording_organisation": entry.recording_organisation},
           reason=(reason or "").strip() or None)
    return entry.area_name
