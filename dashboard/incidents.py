"""Incidents: logging, editing, deleting and restoring them, their history and corroboration.

Reads go through the access gate (`access.visible` / `get_visible`), so a record a viewer may not
see is "not found" for them, whoever asks. Any partner may log an incident; members of the
originating organisation may edit and delete it, and chairs may correct it (but only the
originating organisation may change its marking and who it is shared with); administrators
restore deleted records. Every edit is checked against the version the person read: if someone
else saved in between, `IncidentConflictError` carries both versions and nothing is written.
Every change adds an entry to the record's history (`history.py`) and to the audit log; audit
details name fields only, never record text. What incidents share with tension assessments
(permissions, sharing checks, the version check, soft delete and restore, history and audit) is
in `records.py`.

A corroborating report (`corroborates_id`) is a partner's own record of an incident already
logged, with its own marking and originator; the original counts the other organisations that
corroborate it (`corroborated_by`) without its version moving on, so that nobody editing it is
told of a conflict over a derived count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from . import history, records
from .access import RecordFilters, Viewer, visible
from .history import HistoryEntry
from .models import (
    Area,
    Incident,
    IncidentCategory,
    Organisation,
    Strand,
    TensionAssessment,
    User,
    incident_organisations,
    incident_recipients,
    incident_strands,
)
from .records import (
    MARKING_MESSAGE,  # noqa: F401 (re-exported: the pages and tests use it)
    NOT_GIVEN,
    RED_NEEDS_RECIPIENTS,  # noqa: F401 (re-exported)
    ConflictRow,  # noqa: F401 (re-exported: part of IncidentConflictError)
    check_sharing,
    day_text,
    district_choices,
    is_admin,
    marking_choices,
    names_text,
    parse_day,
    raw_text,
)
from .reference import (
    SEVERITY_LABELS,
    TENSION_LEVELS,
    DatePrecision,
    LocationPrecision,
    Marking,
    Verification,
    precise_day,
)

RECORD_TYPE = history.RECORD_INCIDENT
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
# The Midlands' extent (the 65 districts reach 51.83-53.61 N and 3.24 W-0.36 E), rounded out.
LATITUDE_RANGE = (51.8, 53.7)
LONGITUDE_RANGE = (-3.3, 0.4)
COORDINATE_DECIMALS = 6

# The form's fields, in the order they appear (and errors and conflicts are listed).
FIELD_LABELS = {
    "title": "Title",
    "occurred_on": "Date it happened",
    "date_precision": "How exact the date is",
    "area_code": "District",
    "category_code": "Category",
    "strands": "Hate-crime strands",
    "description": "Description",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "location_precision": "How exact the location is",
    "severity": "Severity",
    "verification": "Verification",
    "marking": "Handling marking",
    "recipients": "Named recipients (TLP:RED)",
    "listed_organisations": "Organisations it is shared with (TLP:AMBER)",
}
# Errors about things that are not form fields in the usual sense.
OTHER_LABELS = {"corroborates_id": "Corroborating report of", "reason": "Reason for deleting"}
CORROBORATED_BY_LABEL = "Corroborated by"

DATE_PRECISION_LABELS = {
    DatePrecision.DAY.value: "Exact day",
    DatePrecision.WEEK.value: "Week (sometime that week)",
    DatePrecision.MONTH.value: "Month (sometime that month)",
}
LOCATION_PRECISION_LABELS = {
    LocationPrecision.EXACT.value: "Exact",
    LocationPrecision.APPROXIMATE.value: "Approximate",
    LocationPrecision.AREA.value: "Area only",
}
VERIFICATION_LABELS = {
    Verification.REPORTED.value: "Reported",
    Verification.CORROBORATED.value: "Corroborated",
    Verification.CONFIRMED.value: "Confirmed",
}

# --- errors -------------------------------------------------------------------------------------


class IncidentError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class IncidentValidationError(records.RecordValidationError, IncidentError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS order) to what is wrong."""

    field_labels = FIELD_LABELS
    other_labels = OTHER_LABELS


class IncidentNotFoundError(records.RecordNotFoundError, IncidentError):
    default_message = (
        "This incident does not exist, has been deleted, or is not shared with you. "
        "Go back to the register and reload it."
    )


class IncidentPermissionError(IncidentError):
    pass


class IncidentConflictError(records.RecordConflictError, IncidentError):
    """Someone else saved the incident since the person read it; nothing was written.

    `current` is the incident as saved now (an IncidentView), `rows` every field's two values,
    `changed_by` and `changed_at` who saved it last and when."""

    noun = "incident"


KIND = records.RecordKind(RECORD_TYPE, "incident", Incident, FIELD_LABELS, IncidentValidationError,
                          IncidentNotFoundError, IncidentConflictError, IncidentPermissionError)


# --- on-screen text --------------------------------------------------


def number_text(value: float | None) -> str:
    if value is None:
        return NOT_GIVEN
    return f"{value:.{COORDINATE_DECIMALS}f}".rstrip("0").rstrip(".")


def _incident_text(name: str, get: Callable[[str], object]) -> str:
    """A field as shown on screen, from the view (attributes) or a checked form (its values)."""
    value = get(name)
    if name == "occurred_on":
        return day_text(value)
    if name == "date_precision":
        return DATE_PRECISION_LABELS.get(value, str(value))
    if name == "area_code":
        return str(get("area_name"))
    if name == "category_code":
        return str(get("category_label"))
    if name in ("strands", "recipients", "listed_organisations"):
        return names_text(value)
    if name == "description":
        return value or NOT_GIVEN
    if name in ("latitude", "longitude"):
        return number_text(value)
    if name == "location_precision":
        return LOCATION_PRECISION_LABELS.get(value, str(value))
    if name == "severity":
        return f"{value} - {SEVERITY_LABELS.get(value, '')}"
    if name == "verification":
        return VERIFICATION_LABELS.get(value, str(value))
    return "" if value is None else str(value)


def partners_text(count: int) -> str:
    return "No partners" if count == 0 else f"{count} partner{'s' if count != 1 else ''}"


# --- records as the viewer sees them ---------------------------------------------------------------


@dataclass(frozen=True)
class ReportLink:
    """Another incident linked to this one (the original, or a corroborating report)."""

    id: int
    title: str
    organisation: str
    marking: str
    occurred_on: date


@dataclass(frozen=True)
class IncidentView:
    id: int
    version: int
    title: str
    occurred_on: date
    date_precision: str
    area_code: str
    area_name: str
    category_code: str
    category_label: str
    strands: tuple[tuple[str, str], ...]
    description: str
    latitude: float | None
    longitude: float | None
    location_precision: str
    severity: int
    severity_label: str
    verification: str
    verification_label: str
    marking: str
    source_org_id: int
    source_org_name: str
    reporter_name: str
    recipients: tuple[tuple[int, str], ...]
    listed_organisations: tuple[tuple[int, str], ...]
    corroborated_by: int
    corroborates: ReportLink | None
    corroborating_reports: tuple[ReportLink, ...]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    redacted_at: datetime | None
    deleted_by_name: str | None
    can_edit: bool
    can_delete: bool
    can_restore: bool
    can_change_marking: bool
    reporter_id: int = 0
    corroborates_id: int | None = None

    def field_text(self, name: str) -> str:
        """A field (FIELD_LABELS) as shown on screen."""
        return _incident_text(name, lambda key: getattr(self, key))

    @property
    def corroborated_text(self) -> str:
        """E.g. "Corroborated by 2 partners" (empty when nobody has corroborated it)."""
        return f"Corroborated by {partners_text(self.corroborated_by)}" if self.corroborated_by else ""


@dataclass(frozen=True)
class IncidentForm:
    """What a person typed in the incident form (strings as given; validation checks them)."""

    title: str | None = None
    occurred_on: str | date | None = None
    date_precision: str | None = DatePrecision.DAY.value
    area_code: str | None = None
    category_code: str | None = None
    strands: Sequence[str] = ()
    description: str | None = None
    latitude: str | float | None = None
    longitude: str | float | None = None
    location_precision: str | None = LocationPrecision.AREA.value
    severity: str | int | None = None
    verification: str | None = Verification.REPORTED.value
    marking: str | None = Marking.GREEN.value
    recipients: Sequence[int] = ()  # user ids, for TLP:RED
    listed_organisations: Sequence[int] = ()  # organisation ids, for TLP:AMBER
    corroborates_id: int | str | None = None

    @classmethod
    def from_view(cls, view: IncidentView) -> IncidentForm:
        return cls(
            title=view.title,
            occurred_on=view.occurred_on.isoformat(),
            date_precision=view.date_precision,
            area_code=view.area_code,
            category_code=view.category_code,
            strands=tuple(code for code, _ in view.strands),
            description=view.description,
            latitude=None if view.latitude is None else number_text(view.latitude),
            longitude=None if view.longitude is None else number_text(view.longitude),
            location_precision=view.location_precision,
            severity=str(view.severity),
            verification=view.verification,
            marking=view.marking,
            recipients=tuple(uid for uid, _ in view.recipients),
            listed_organisations=tuple(oid for oid, _ in view.listed_organisations),
            corroborates_id=view.corroborates.id if view.corroborates else None,
        )


@dataclass(frozen=True)
class FormChoices:
    categories: list[tuple[str, str]]
    strands: list[tuple[str, str]]
    districts: list[tuple[str, list[tuple[str, str]]]]  # (police force, [(code, name)])
    markings: list[tuple[str, str]]  # (value, who may see it)
    date_precisions: list[tuple[str, str]]
    location_precisions: list[tuple[str, str]]
    severities: list[tuple[int, str]]
    verifications: list[tuple[str, str]]
    organisations: list[tuple[int, str]]  # active member organisations (TLP:AMBER lists)
    people: list[tuple[int, str]]  # active partner users, "Name (Organisation)" (TLP:RED)


@dataclass(frozen=True)
class SimilarIncident:
    id: int
    title: str
    occurred_on: date
    area_name: str
    category_label: str
    organisation: str
    marking: str
    corroborated_by: int


@dataclass(frozen=True)
class DeletedRecord:
    """A deleted record in the administrators' list; title and date only when they may read it."""

    record_type: str  # history.RECORD_INCIDENT or history.RECORD_ASSESSMENT
    id: int
    marking: str
    organisation: str
    deleted_at: datetime
    deleted_by: str
    title: str | None
    occurred_on: date | None


def form_choices(session: Session, viewer: Viewer) -> FormChoices:
    """What the incident form offers (people and organisations only to partners)."""
    return FormChoices(
        categories=[tuple(r) for r in session.execute(
            select(IncidentCategory.code, IncidentCategory.label)
            .where(IncidentCategory.active.is_(True))
            .order_by(IncidentCategory.sort_order, IncidentCategory.label)
        )],
        strands=[tuple(r) for r in session.execute(
            select(Strand.code, Strand.label).where(Strand.active.is_(True)).order_by(Strand.bit)
        )],
        districts=district_choices(session),
        markings=marking_choices(),
        date_precisions=list(DATE_PRECISION_LABELS.items()),
        location_precisions=list(LOCATION_PRECISION_LABELS.items()),
        severities=[(level, f"{level} - {label}") for level, label in SEVERITY_LABELS.items()],
        verifications=list(VERIFICATION_LABELS.items()),
        **records.sharing_choices(session, viewer),
    )


# --- checking what was typed ------------------------------------------


def _coordinate(value, label: str, bounds: tuple[float, float], errors: dict[str, str], name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = f"{label} must be a number between {bounds[0]} and {bounds[1]} (the Midlands)."
    if isinstance(value, bool):
        errors[name] = message
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        errors[name] = message
        return None
    if not (math.isfinite(number) and bounds[0] <= number <= bounds[1]):
        errors[name] = message
        return None
    return round(number, COORDINATE_DECIMALS)


def _check(
    session: Session,
    viewer: Viewer,
    form: IncidentForm,
    *,
    source_org_id: int,
    reporter_id: int,
    current: IncidentView | None = None,
    today: date | None = None,
) -> tuple[dict, dict[str, str]]:
    """(values, errors): every field that is right, checked and tidied, and what is wrong with
    the others. On an edit (`current`), the record's own category and strands stay allowed even
    if they have since been retired."""
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict = {}

    title = " ".join(str(form.title or "").split())
    if not title:
        errors["title"] = "Enter a title: a few words saying what happened."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title must be {TITLE_MAX} characters or fewer (it has {len(title)})."
    else:
        values["title"] = title

    day = parse_day(
        form.occurred_on, errors, "occurred_on", what="The date the incident happened",
        example="2026-11-03", today=today, allow_future=False,
        missing="Enter the date the incident happened, for example 2026-11-03.",
    )
    if day:
        values["occurred_on"] = day

    precision = str(form.date_precision or "").strip() or DatePrecision.DAY.value
    if precision in DATE_PRECISION_LABELS:
        values["date_precision"] = precision
        if day:
            values["occurred_on"] = precise_day(day, precision)
    else:
        errors["date_precision"] = "Choose how exact the date is: the exact day, the week or the month."

    records.check_area(session, form.area_code, errors, values,
                       missing="Choose the district where it happened.")

    category = str(form.category_code or "").strip()
    if not category:
        errors["category_code"] = "Choose the category of incident."
    else:
        row = session.execute(
            select(IncidentCategory.label, IncidentCategory.active).where(IncidentCategory.code == category)
        ).first()
        if row is None or not (row.active or (current and current.category_code == category)):
            errors["category_code"] = "Choose a category from the list."
        else:
            values["category_code"], values["category_label"] = category, row.label

    codes = list(dict.fromkeys(str(c).strip() for c in (form.strands or ()) if str(c or "").strip()))
    kept = {c for c, _ in current.strands} if current else set()
    found = session.execute(
        select(Strand.code, Strand.label, Strand.active).where(Strand.code.in_(codes)).order_by(Strand.bit)
    ).all() if codes else []
    allowed = [(c, label) for c, label, active in found if active or c in kept]
    if len(allowed) != len(codes):
        errors["strands"] = "Choose hate-crime strands from the list only."
    else:
        values["strands"] = tuple(allowed)

    description = str(form.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = (
            f"The description must be {DESCRIPTION_MAX:,} characters or fewer (it has {len(description):,})."
        )
    else:
        values["description"] = description

    latitude = _coordinate(form.latitude, "Latitude", LATITUDE_RANGE, errors, "latitude")
    longitude = _coordinate(form.longitude, "Longitude", LONGITUDE_RANGE, errors, "longitude")
    if "latitude" not in errors and "longitude" not in errors:
        if latitude is None and longitude is not None:
            errors["latitude"] = "Enter the latitude as well as the longitude, or leave both blank."
        elif longitude is None and latitude is not None:
            errors["longitude"] = "Enter the longitude as well as the latitude, or leave both blank."
        else:
            values["latitude"], values["longitude"] = latitude, longitude
    has_point = latitude is not None and longitude is not None
    location = str(form.location_precision or "").strip() or (
        "" if has_point else LocationPrecision.AREA.value
    )
    if location not in LOCATION_PRECISION_LABELS:
        errors["location_precision"] = "Choose how exact the location is: exact, approximate or area only."
    elif location != LocationPrecision.AREA.value and not has_point and "latitude" not in errors \
            and "longitude" not in errors:
        errors["location_precision"] = (
            "Enter the latitude and longitude for an exact or approximate location, or choose \u201cArea only\u201d."
        )
    else:
        values["location_precision"] = location

    severity = records.whole_number(form.severity)
    if severity in SEVERITY_LABELS:
        values["severity"] = severity
    else:
        errors["severity"] = "Choose a severity from 1 (low) to 4 (critical)."

    verification = str(form.verification or "").strip() or Verification.REPORTED.value
    if current and current.corroborated_by and verification == Verification.REPORTED.value:
        # Partners' reports corroborate it (counted as they come, without a new version): a form
        # read before the last of them arrived must not set it back to "reported".
        verification = Verification.CORROBORATED.value
    if verification in VERIFICATION_LABELS:
        values["verification"] = verification
    else:
        errors["verification"] = "Choose how far the report is verified: reported, corroborated or confirmed."

    check_sharing(session, form, errors, values, viewer=viewer, source_org_id=source_org_id,
                  reporter_id=reporter_id)
    return values, errors


def _check_corroborates(session: Session, viewer: Viewer, value, errors: dict[str, str]) -> int | None:
    """The incident a new report corroborates: visible to the viewer, live and itself an original."""
    if value is None or value == "":
        return None
    try:
        original_id = int(str(value).strip())
    except ValueError:
        errors["corroborates_id"] = "Choose the incident this report corroborates from the list."
        return None
    row = session.execute(
        visible(viewer, Incident).where(Incident.id == original_id)
        .with_only_columns(Incident.id, Incident.corroborates_id)
    ).first()
    if row is None:
        errors["corroborates_id"] = (
            "The incident you chose to corroborate no longer exists or is not shared with you: "
            "choose another, or save this as a new incident."
        )
    elif row.corroborates_id is not None:
        errors["corroborates_id"] = (
            "That incident is itself a corroborating report: link yours to the incident it corroborates."
        )
    else:
        return original_id
    return None


# --- reading -----------------------------------------------------------------------------------


def _load(session: Session, viewer: Viewer, incident_id: int, *, include_deleted: bool = False
          ) -> tuple[Incident, IncidentView] | None:
    """The incident (fresh from the database) and its view, if the viewer may see it; a few
    queries in all, whatever the number of strands, recipients and linked reports."""
    row = records.load_row(
        session, viewer, KIND, incident_id, include_deleted=include_deleted,
        joins=[(IncidentCategory, IncidentCategory.code == Incident.category_code)],
        columns=[IncidentCategory.label],
    )
    if row is None:
        return None
    incident, area_name, category_label, org_name, reporter_name, deleter_name = row

    strands = session.execute(
        select(Strand.code, Strand.label)
        .join(incident_strands, incident_strands.c.strand_code == Strand.code)
        .where(incident_strands.c.incident_id == incident.id)
        .order_by(Strand.bit)
    ).all()
    recipients, listed = records.sharing_lists(session, incident_recipients, incident_organisations,
                                               incident.id)
    # The incident this one corroborates and the reports corroborating it, as far as the viewer
    # may see them (each keeps its own marking and originator).
    linked = [Incident.corroborates_id == incident.id]
    if incident.corroborates_id is not None:
        linked.append(Incident.id == incident.corroborates_id)
    links = session.execute(
        visible(viewer, Incident)
        .where(or_(*linked))
        .join(Organisation, Organisation.id == Incident.source_org_id)
        .with_only_columns(Incident.id, Incident.title, Organisation.name, Incident.marking,
                           Incident.occurred_on)
        .order_by(Incident.occurred_on, Incident.id)
    ).all()
    corroborates = next((ReportLink(*r) for r in links if r.id == incident.corroborates_id), None)
    reports = tuple(ReportLink(*r) for r in links if r.id != incident.corroborates_id)

    view = IncidentView(
        id=incident.id,
        version=incident.version,
        title=incident.title,
        occurred_on=incident.occurred_on,
        date_precision=incident.date_precision,
        area_code=incident.area_code,
        area_name=area_name,
        category_code=incident.category_code,
        category_label=category_label,
        strands=tuple((c, label) for c, label in strands),
        description=incident.description or "",
        latitude=incident.latitude,
        longitude=incident.longitude,
        location_precision=incident.location_precision,
        severity=incident.severity,
        severity_label=SEVERITY_LABELS.get(incident.severity, ""),
        verification=incident.verification,
        verification_label=VERIFICATION_LABELS.get(incident.verification, incident.verification),
        marking=incident.marking,
        source_org_id=incident.source_org_id,
        source_org_name=org_name,
        reporter_name=reporter_name,
        recipients=recipients,
        listed_organisations=listed,
        corroborated_by=incident.corroborated_by or 0,
        corroborates=corroborates,
        corroborating_reports=reports,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        deleted_at=incident.deleted_at,
        redacted_at=incident.redacted_at,
        deleted_by_name=deleter_name,
        **records.permissions(viewer, incident.source_org_id, incident.deleted_at is not None),
        reporter_id=incident.reporter_id,
        corroborates_id=incident.corroborates_id,
    )
    return incident, view


def get_incident(session: Session, viewer: Viewer, incident_id: int, *, include_deleted: bool = False
                 ) -> IncidentView | None:
    """The incident as the viewer sees it; None when it does not exist, is deleted or is not
    shared with them (administrators may ask for deleted ones they may read)."""
    loaded = _load(session, viewer, incident_id, include_deleted=include_deleted)
    return loaded[1] if loaded else None


_REPORT_NUMBER = re.compile(r"#(\d+)")


def incident_history(session: Session, viewer: Viewer, incident_id: int, *, include_deleted: bool = False
                     ) -> list[HistoryEntry]:
    """The incident's history, oldest first; empty when the viewer may not see the incident.

    Corroboration entries name the partner's report: for a report the viewer may not see,
    who recorded it and where it came from are left out."""
    if not records.may_see(session, viewer, KIND, incident_id, include_deleted=include_deleted):
        return []
    entries = history.entries(session, RECORD_TYPE, incident_id)
    referenced = {
        int(m.group(1)) for e in entries if e.action == "corroborated"
        for m in [_REPORT_NUMBER.search(e.note)] if m
    }
    if not referenced:
        return entries
    visible_reports = set(session.scalars(
        visible(viewer, Incident).where(Incident.id.in_(referenced)).with_only_columns(Incident.id)
    ))
    redacted = []
    for entry in entries:
        match = _REPORT_NUMBER.search(entry.note) if entry.action == "corroborated" else None
        if match and int(match.group(1)) not in visible_reports:
            event = entry.note.rsplit(" ", 1)[-1] if entry.note.endswith(("deleted", "restored")) else "added"
            entry = replace(entry, who="a partner", organisation="",
                            note=f"A corroborating report that is not shared with you was {event}.")
        redacted.append(entry)
    return redacted



def similar_incidents(
    session: Session,
    viewer: Viewer,
    area_code: str,
    occurred_on: date | str,
    category_code: str,
    *,
    exclude_id: int | None = None,
    days: int = 3,
    limit: int = 5,
) -> list[SimilarIncident]:
    """Incidents the viewer may see that look like this one (same district and category, within
    `days` days), newest first: originals only, never corroborating reports themselves."""
    if isinstance(occurred_on, str):
        try:
            occurred_on = date.fromisoformat(occurred_on.strip())
        except ValueError:
            return []
    if not (area_code and category_code and occurred_on):
        return []
    filters = RecordFilters(
        start=occurred_on - timedelta(days=days), end=occurred_on + timedelta(days=days),
        areas=(area_code,), categories=(category_code,),
    )
    query = (
        visible(viewer, Incident, filters)
        .where(Incident.corroborates_id.is_(None))
        .join(Area, Area.code == Incident.area_code)
        .join(IncidentCategory, IncidentCategory.code == Incident.category_code)
        .join(Organisation, Organisation.id == Incident.source_org_id)
        .with_only_columns(Incident.id, Incident.title, Incident.occurred_on, Area.name, IncidentCategory.label,
                           Organisation.name, Incident.marking, Incident.corroborated_by)
        .order_by(Incident.occurred_on.desc(), Incident.id.desc())
        .limit(limit)
    )
    if exclude_id is not None:
        query = query.where(Incident.id != exclude_id)
    return [SimilarIncident(*row[:7], row[7] or 0) for row in session.execute(query)]


# --- changes -------------------------------------------------------------------------------------


def _texts(values: Mapping) -> dict[str, str]:
    return {name: _incident_text(name, values.get) for name in FIELD_LABELS}


def _conflict(session: Session, viewer: Viewer, incident_id: int, form: IncidentForm | None
              ) -> IncidentConflictError:
    """The conflict to raise: the record as saved now, both values of every field, and who saved
    it last. (Raises IncidentNotFoundError when the record has gone meanwhile.)"""
    current = get_incident(session, viewer, incident_id)
    if current is None:
        raise records.gone_while_working(KIND)
    rows: list[ConflictRow] = []
    if form is not None:
        values, _errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                                 reporter_id=current.reporter_id, current=current)
        # (a district or category is in `values` only with its name)
        rows = records.conflict_rows(FIELD_LABELS, values, _incident_text,
                                     lambda name: raw_text(getattr(form, name, None)), current)
    return records.conflict(session, KIND, current, rows, deleting=form is None)


def _strands(session: Session, pairs) -> list[Strand]:
    codes = [c for c, _ in pairs]
    return list(session.scalars(select(Strand).where(Strand.code.in_(codes)))) if codes else []


_COLUMNS = ("title", "occurred_on", "date_precision", "area_code", "category_code", "description",
            "latitude", "longitude", "location_precision", "severity", "verification", "marking")


def create_incident(session: Session, viewer: Viewer, form: IncidentForm, *, ip_address: str | None = None
                    ) -> IncidentView:
    """Log an incident for the viewer's organisation (any partner may); with `corroborates_id`,
    as a corroborating report of that incident. Audited and added to its history."""
    if not viewer.is_partner:
        raise IncidentPermissionError("Only members of the partnership can log incidents.")
    values, errors = _check(session, viewer, form, source_org_id=viewer.organisation_id,
                            reporter_id=viewer.user_id)
    original_id = _check_corroborates(session, viewer, form.corroborates_id, errors)
    if errors:
        raise IncidentValidationError(errors)

    def set_strands(incident: Incident) -> None:
        incident.strands = _strands(session, values["strands"])

    incident = records.create(
        session, viewer, KIND, values, _COLUMNS, set_lists=set_strands, ip_address=ip_address,
        detail={"corroborates": original_id},
        note=f"Corroborating report of incident #{original_id}" if original_id else "",
        corroborates_id=original_id, corroborated_by=0,
    )
    if original_id:
        _recount(session, viewer, original_id, incident.id, "added", ip_address)
    return get_incident(session, viewer, incident.id)


def _recount(session: Session, viewer: Viewer, original_id: int, report_id: int, event: str,
             ip_address: str | None) -> None:
    """Count again the organisations corroborating an incident, after one of its corroborating
    reports was added, deleted or restored; its history says so.

    The count is of every live corroborating report, whoever may see it (so it is not read
    through the access gate): viewers of the original see how many partners corroborate it, but
    only the reports shared with them. The original's version does not move on (a Core UPDATE):
    someone editing it meanwhile is not told of a conflict over a count they cannot edit."""
    table = Incident.__table__
    original = session.execute(
        select(table.c.source_org_id, table.c.verification, table.c.corroborated_by, table.c.version)
        .where(table.c.id == original_id)
    ).one()
    count = session.scalar(
        select(func.count(distinct(table.c.source_org_id))).where(
            table.c.corroborates_id == original_id,
            table.c.deleted_at.is_(None),
            table.c.source_org_id != original.source_org_id,
        )
    ) or 0
    before = original.corroborated_by or 0
    verification = original.verification
    if count and verification == Verification.REPORTED.value:
        verification = Verification.CORROBORATED.value
    elif not count and before and verification == Verification.CORROBORATED.value:
        verification = Verification.REPORTED.value  # its corroboration came from reports now gone
    changes = []
    if count != before:
        changes.append(history.FieldChange(CORROBORATED_BY_LABEL, partners_text(before), partners_text(count)))
    if verification != original.verification:
        changes.append(history.FieldChange(FIELD_LABELS["verification"], VERIFICATION_LABELS[original.verification],
                                           VERIFICATION_LABELS[verification]))
    if changes:
        session.execute(
            update(table).where(table.c.id == original_id)
            # (updated_at set to itself: a derived count is not an edit of the record)
            .values(corroborated_by=count, verification=verification, updated_at=table.c.updated_at)
        )
        loaded = session.identity_map.get(session.identity_key(Incident, original_id))
        if loaded is not None:
            session.expire(loaded)
    organisation = session.scalar(
        select(Organisation.name).join(Incident, Incident.source_org_id == Organisation.id)
        .where(Incident.id == report_id)
    )
    note = f"Corroborating report #{report_id} from {organisation}"
    if event != "added":
        note += f" was {event}"
    history.add(session, RECORD_TYPE, original_id, original.version, "corroborated", viewer.user_id,
                changes, note)
    records.audit_event(session, viewer, KIND, "corroboration counted", original_id, ip_address,
                        {"corroborating_report": report_id, "event": event, "corroborated_by": count})


def _editable(session: Session, viewer: Viewer, incident_id: int, expected_version: int,
              form: IncidentForm | None) -> tuple[Incident, IncidentView]:
    """The incident and its view, if the viewer may change it and nobody else has since they read
    `expected_version` (else the conflict, with `form`: the person's changes, None deleting)."""
    return records.editable(
        session, viewer, KIND, _load, incident_id, expected_version,
        lambda: _conflict(session, viewer, incident_id, form),
        outsider="Only members of the partnership can change or delete incidents.",
        other_organisation=("Only the organisation that reported this incident can change or delete it "
                            "(and the partnership's chairs, to correct it)."),
    )


def update_incident(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    expected_version: int,
    form: IncidentForm,
    *,
    ip_address: str | None = None,
) -> IncidentView:
    """Save changes to an incident the viewer may edit, if nobody else saved it since the viewer
    read `expected_version` (else IncidentConflictError, nothing written). Keeps its originator
    and reporter; adds the changed fields to its history; audited by field name."""
    incident, current = _editable(session, viewer, incident_id, expected_version, form)
    values, errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                            reporter_id=current.reporter_id, current=current)

    def set_strands(changed: list[str]) -> None:
        if "strands" in changed:
            incident.strands = _strands(session, values["strands"])

    if not records.save_edit(session, viewer, KIND, incident, current, values, errors,
                             texts=lambda: _texts(values), columns=_COLUMNS, set_lists=set_strands,
                             stale=lambda: _conflict(session, viewer, incident_id, form), ip_address=ip_address):
        return current
    return get_incident(session, viewer, incident_id)


def delete_incident(
    session: Session,
    viewer: Viewer,
    incident_id: int,
    expected_version: int,
    *,
    reason: str = "",
    ip_address: str | None = None,
) -> str:
    """Soft-delete an incident the viewer may edit: it leaves every list, count and map, and is
    kept for administrators to restore. The reason goes into its history. Returns its title."""
    incident, current = _editable(session, viewer, incident_id, expected_version, None)
    records.soft_delete(session, viewer, KIND, incident, reason,
                        lambda: _conflict(session, viewer, incident_id, None), ip_address)
    if incident.corroborates_id is not None:
        _recount(session, viewer, incident.corroborates_id, incident_id, "deleted", ip_address)
    return current.title


def restore_incident(session: Session, viewer: Viewer, incident_id: int, *, ip_address: str | None = None) -> None:
    """Bring back a deleted incident (administrators only, also ones they may not read)."""
    if not is_admin(viewer):
        raise IncidentPermissionError("Only administrators can restore deleted records.")
    incident = records.restore(session, viewer, KIND, incident_id, ip_address)
    if incident.corroborates_id is not None:
        _recount(session, viewer, incident.corroborates_id, incident_id, "restored", ip_address)


def deleted_records(session: Session, viewer: Viewer, limit: int = 200) -> list[DeletedRecord]:
    """Deleted incidents and tension assessments, most recently deleted first (administrators
    only). Every deleted record is listed so that it can be restored, but its title and date only
    when the administrator may read it by its marking; never its text otherwise."""
    if not is_admin(viewer):
        raise IncidentPermissionError("Only administrators can see deleted records.")
    readable = RecordFilters(include_deleted=True)
    deleter = aliased(User)
    found: list[DeletedRecord] = []
    for model, record_type in ((Incident, history.RECORD_INCIDENT), (TensionAssessment, history.RECORD_ASSESSMENT)):
        rows = session.execute(
            select(model.id, model.marking, Organisation.name, model.deleted_at, deleter.name)
            .join(Organisation, Organisation.id == model.source_org_id)
            .outerjoin(deleter, deleter.id == model.deleted_by_id)
            .where(model.deleted_at.is_not(None))
            .order_by(model.deleted_at.desc(), model.id.desc())
            .limit(limit)
        ).all()
        ids = [r.id for r in rows]
        if model is Incident:
            query = visible(viewer, Incident, readable).with_only_columns(
                Incident.id, Incident.title, Incident.occurred_on)
        else:
            query = (
                visible(viewer, TensionAssessment, readable)
                .join(Area, Area.code == TensionAssessment.area_code)
                .with_only_columns(TensionAssessment.id, Area.name, TensionAssessment.level,
                                   TensionAssessment.assessed_on)
            )
        titles: dict[int, tuple[str, date]] = {}
        for row in session.execute(query.where(model.id.in_(ids))) if ids else ():
            if model is Incident:
                titles[row[0]] = (row[1], row[2])
            else:
                label = TENSION_LEVELS[row[2]].label if row[2] in TENSION_LEVELS else ""
                titles[row[0]] = (f"{row[1]}: tension level {row[2]} - {label}", row[3])
        for record_id, marking, org, deleted_at, deleted_by in rows:
            title, day = titles.get(record_id, (None, None))
            found.append(DeletedRecord(record_type, record_id, marking, org, deleted_at,
                                       deleted_by or "Unknown user", title, day))
    found.sort(key=lambda r: (r.deleted_at, r.id), reverse=True)
    return found[:limit]
