"""Tension assessments: recording, editing, deleting and restoring them, and their history.

The same rules as incidents (`incidents.py`): reads through the access gate, any partner may
record an assessment, the originating organisation edits and deletes it and chairs correct it
(only the originator changes its marking and who it is shared with), administrators restore,
every save is checked against the version the person read, and every change goes into the
record's history and the audit log (field names only). An assessment's indicators are rows of
their own: an edit replaces them, and the assessment's version moves on by one per save.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from . import audit, history
from .access import RecordFilters, Viewer, visible
from .history import HistoryEntry
from .incidents import (
    NOT_GIVEN,
    ConflictRow,
    check_sharing,
    conflict_message,
    day_text,
    district_choices,
    is_admin,
    marking_choices,
    may_change_marking,
    may_edit,
    member_organisations,
    names_text,
    parse_day,
    partner_people,
    raw_text,
    sharing_changes_refused,
)
from .models import (
    Area,
    Organisation,
    TensionAssessment,
    TensionIndicator,
    User,
    assessment_organisations,
    assessment_recipients,
    utcnow,
)
from .reference import TENSION_LEVELS, Confidence, EvidenceType, Trend

RECORD_TYPE = history.RECORD_ASSESSMENT
RATIONALE_MAX = 10_000
INDICATOR_MAX = 1_000
INDICATORS_MAX = 10
REASON_MAX = 1_000
LIST_LIMIT = 500

FIELD_LABELS = {
    "area_code": "District",
    "assessed_on": "Date of the assessment",
    "level": "Tension level",
    "trend": "Trend",
    "confidence": "Confidence",
    "rationale": "Rationale",
    "indicators": "Indicators",
    "review_on": "Review date",
    "marking": "Handling marking",
    "recipients": "Named recipients (TLP:RED)",
    "listed_organisations": "Organisations it is shared with (TLP:AMBER)",
}
OTHER_LABELS = {"reason": "Reason for deleting"}

TREND_LABELS = {Trend.RISING.value: "Rising", Trend.STABLE.value: "Stable", Trend.FALLING.value: "Falling"}
CONFIDENCE_LABELS = {Confidence.LOW.value: "Low", Confidence.MEDIUM.value: "Medium", Confidence.HIGH.value: "High"}
EVIDENCE_LABELS = {
    EvidenceType.EVIDENCED.value: "Evidenced (recorded facts)",
    EvidenceType.EXPERIENCED.value: "Experienced (what communities and staff report)",
    EvidenceType.POTENTIAL.value: "Potential (upcoming triggers)",
}
# How an indicator's type reads before its description ("Evidenced: leaflets in two wards").
EVIDENCE_SHORT = {e.value: e.value.capitalize() for e in EvidenceType}


def level_text(level: int | None) -> str:
    """E.g. "3 - Elevated"."""
    if level not in TENSION_LEVELS:
        return NOT_GIVEN
    return f"{level} - {TENSION_LEVELS[level].label}"


# --- errors -------------------------------------------------------------------------------------


class AssessmentError(Exception):
    """Something the person asked for cannot be done; the message says why, in plain words."""


class AssessmentValidationError(AssessmentError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS order) to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        ordered = {name: errors[name] for name in FIELD_LABELS if name in errors}
        ordered.update({k: v for k, v in errors.items() if k not in ordered})
        self.errors = ordered
        labels = FIELD_LABELS | OTHER_LABELS
        super().__init__("; ".join(f"{labels.get(k, k)}: {v}" for k, v in ordered.items()))


class AssessmentNotFoundError(AssessmentError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (
            "This tension assessment does not exist, has been deleted, or is not shared with you. "
            "Go back to the list of assessments and reload it."
        ))


class AssessmentPermissionError(AssessmentError):
    pass


class AssessmentConflictError(AssessmentError):
    """Someone else saved the assessment since the person read it; nothing was written."""

    def __init__(self, current: AssessmentView, rows: list[ConflictRow], changed_by: str,
                 changed_at: datetime | None, *, deleting: bool = False) -> None:
        self.current = current
        self.rows = rows
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(conflict_message("tension assessment", changed_by, changed_at, deleting=deleting))


# --- records as the viewer sees them ----------------------------------------------------------------


def _assessment_text(name: str, get: Callable[[str], object]) -> str:
    value = get(name)
    if name == "area_code":
        return str(get("area_name"))
    if name in ("assessed_on", "review_on"):
        return day_text(value)
    if name == "level":
        return level_text(value)
    if name == "trend":
        return TREND_LABELS.get(value, str(value))
    if name == "confidence":
        return CONFIDENCE_LABELS.get(value, str(value))
    if name == "rationale":
        return value or NOT_GIVEN
    if name == "indicators":
        return "; ".join(f"{EVIDENCE_SHORT.get(kind, kind)}: {text}" for text, kind in value) or "None"
    if name in ("recipients", "listed_organisations"):
        return names_text(value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class AssessmentView:
    id: int
    version: int
    area_code: str
    area_name: str
    assessed_on: date
    level: int
    level_label: str  # e.g. "Elevated" (field_text("level") gives "3 - Elevated")
    trend: str
    confidence: str
    rationale: str
    indicators: tuple[tuple[str, str], ...]  # (description, evidence type)
    review_on: date | None
    marking: str
    source_org_id: int
    source_org_name: str
    reporter_name: str
    recipients: tuple[tuple[int, str], ...]
    listed_organisations: tuple[tuple[int, str], ...]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    can_edit: bool
    can_delete: bool
    can_restore: bool
    can_change_marking: bool
    reporter_id: int = 0
    deleted_by_name: str | None = None

    @property
    def trend_label(self) -> str:
        return TREND_LABELS.get(self.trend, self.trend)

    @property
    def confidence_label(self) -> str:
        return CONFIDENCE_LABELS.get(self.confidence, self.confidence)

    def field_text(self, name: str) -> str:
        """A field (FIELD_LABELS) as shown on screen."""
        return _assessment_text(name, lambda key: getattr(self, key))


@dataclass(frozen=True)
class AssessmentForm:
    """What a person typed in the assessment form (strings as given; validation checks them)."""

    area_code: str | None = None
    assessed_on: str | date | None = None
    level: str | int | None = None
    trend: str | None = None
    confidence: str | None = None
    rationale: str | None = None
    indicators: Sequence[tuple[str, str]] = ()  # (description, evidence type)
    review_on: str | date | None = None
    marking: str | None = "TLP:GREEN"
    recipients: Sequence[int] = ()
    listed_organisations: Sequence[int] = ()

    @classmethod
    def from_view(cls, view: AssessmentView) -> AssessmentForm:
        return cls(
            area_code=view.area_code,
            assessed_on=view.assessed_on.isoformat(),
            level=str(view.level),
            trend=view.trend,
            confidence=view.confidence,
            rationale=view.rationale,
            indicators=tuple(view.indicators),
            review_on=view.review_on.isoformat() if view.review_on else None,
            marking=view.marking,
            recipients=tuple(uid for uid, _ in view.recipients),
            listed_organisations=tuple(oid for oid, _ in view.listed_organisations),
        )


@dataclass(frozen=True)
class AssessmentChoices:
    districts: list[tuple[str, list[tuple[str, str]]]]
    levels: list[tuple[int, str]]
    trends: list[tuple[str, str]]
    confidences: list[tuple[str, str]]
    evidence_types: list[tuple[str, str]]
    markings: list[tuple[str, str]]
    organisations: list[tuple[int, str]]
    people: list[tuple[int, str]]


@dataclass(frozen=True)
class AssessmentRow:
    id: int
    assessed_on: date
    area_name: str
    level: int
    level_label: str
    trend: str  # label, e.g. "Rising"
    confidence: str  # label, e.g. "High"
    organisation: str
    marking: str


def assessment_choices(session: Session, viewer: Viewer) -> AssessmentChoices:
    partner = viewer.is_partner
    return AssessmentChoices(
        districts=district_choices(session),
        levels=[(level, level_text(level)) for level in TENSION_LEVELS],
        trends=list(TREND_LABELS.items()),
        confidences=list(CONFIDENCE_LABELS.items()),
        evidence_types=list(EVIDENCE_LABELS.items()),
        markings=marking_choices(),
        organisations=member_organisations(session) if partner else [],
        people=partner_people(session) if partner else [],
    )


def _load(session: Session, viewer: Viewer, assessment_id: int, *, include_deleted: bool = False
          ) -> tuple[TensionAssessment, AssessmentView] | None:
    filters = RecordFilters(include_deleted=True) if include_deleted else None
    reporter, deleter = aliased(User), aliased(User)
    row = session.execute(
        visible(viewer, TensionAssessment, filters)
        .where(TensionAssessment.id == assessment_id)
        .join(Area, Area.code == TensionAssessment.area_code)
        .join(Organisation, Organisation.id == TensionAssessment.source_org_id)
        .join(reporter, reporter.id == TensionAssessment.reporter_id)
        .outerjoin(deleter, deleter.id == TensionAssessment.deleted_by_id)
        .add_columns(Area.name, Organisation.name, reporter.name, deleter.name)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    assessment, area_name, org_name, reporter_name, deleter_name = row
    indicators = session.execute(
        select(TensionIndicator.description, TensionIndicator.evidence_type)
        .where(TensionIndicator.assessment_id == assessment.id)
        .order_by(TensionIndicator.id)
    ).all()
    recipients = session.execute(
        select(User.id, User.name, Organisation.name)
        .join(assessment_recipients, assessment_recipients.c.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(assessment_recipients.c.record_id == assessment.id)
        .order_by(User.name, User.id)
    ).all()
    listed = session.execute(
        select(Organisation.id, Organisation.name)
        .join(assessment_organisations, assessment_organisations.c.organisation_id == Organisation.id)
        .where(assessment_organisations.c.record_id == assessment.id)
        .order_by(Organisation.name)
    ).all()
    deleted = assessment.deleted_at is not None
    level = TENSION_LEVELS.get(assessment.level)
    view = AssessmentView(
        id=assessment.id,
        version=assessment.version,
        area_code=assessment.area_code,
        area_name=area_name,
        assessed_on=assessment.assessed_on,
        level=assessment.level,
        level_label=level.label if level else "",
        trend=assessment.trend,
        confidence=assessment.confidence,
        rationale=assessment.rationale or "",
        indicators=tuple((text, kind) for text, kind in indicators),
        review_on=assessment.review_on,
        marking=assessment.marking,
        source_org_id=assessment.source_org_id,
        source_org_name=org_name,
        reporter_name=reporter_name,
        recipients=tuple((uid, f"{name} ({org})") for uid, name, org in recipients),
        listed_organisations=tuple((oid, name) for oid, name in listed),
        created_at=assessment.created_at,
        updated_at=assessment.updated_at,
        deleted_at=assessment.deleted_at,
        can_edit=not deleted and may_edit(viewer, assessment.source_org_id),
        can_delete=not deleted and may_edit(viewer, assessment.source_org_id),
        can_restore=deleted and is_admin(viewer),
        can_change_marking=not deleted and may_change_marking(viewer, assessment.source_org_id),
        reporter_id=assessment.reporter_id,
        deleted_by_name=deleter_name,
    )
    return assessment, view


def get_assessment(session: Session, viewer: Viewer, assessment_id: int, *, include_deleted: bool = False
                   ) -> AssessmentView | None:
    """The assessment as the viewer sees it; None when it does not exist, is deleted or is not
    shared with them (administrators may ask for deleted ones they may read)."""
    loaded = _load(session, viewer, assessment_id, include_deleted=include_deleted)
    return loaded[1] if loaded else None


def assessment_history(session: Session, viewer: Viewer, assessment_id: int, *,
                       include_deleted: bool = False) -> list[HistoryEntry]:
    """The assessment's history, oldest first; empty when the viewer may not see it."""
    filters = RecordFilters(include_deleted=True) if include_deleted else None
    seen = session.scalar(
        visible(viewer, TensionAssessment, filters).where(TensionAssessment.id == assessment_id)
        .with_only_columns(TensionAssessment.id)
    )
    return history.entries(session, RECORD_TYPE, assessment_id) if seen is not None else []


def list_assessments(
    session: Session,
    viewer: Viewer,
    *,
    area_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = LIST_LIMIT,
) -> tuple[list[AssessmentRow], bool]:
    """Assessments the viewer may see, latest first, and whether more matched than are listed."""
    filters = RecordFilters(start=start, end=end, areas=(area_code,) if area_code else ())
    rows = session.execute(
        visible(viewer, TensionAssessment, filters)
        .join(Area, Area.code == TensionAssessment.area_code)
        .join(Organisation, Organisation.id == TensionAssessment.source_org_id)
        .with_only_columns(TensionAssessment.id, TensionAssessment.assessed_on, Area.name,
                           TensionAssessment.level, TensionAssessment.trend, TensionAssessment.confidence,
                           Organisation.name, TensionAssessment.marking)
        .order_by(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc())
        .limit(limit + 1)
    ).all()
    listed = [
        AssessmentRow(
            id=r[0], assessed_on=r[1], area_name=r[2], level=r[3],
            level_label=TENSION_LEVELS[r[3]].label if r[3] in TENSION_LEVELS else "",
            trend=TREND_LABELS.get(r[4], r[4]), confidence=CONFIDENCE_LABELS.get(r[5], r[5]),
            organisation=r[6], marking=r[7],
        )
        for r in rows[:limit]
    ]
    return listed, len(rows) > limit


# --- checking what was typed -----------------------------------------------------------------------


def _indicators(rows, errors: dict[str, str], values: dict) -> None:
    problems: list[str] = []
    kept: list[tuple[str, str]] = []
    filled = []
    for number, row in enumerate(rows or (), start=1):
        text, kind = (tuple(row) + ("", ""))[:2] if row is not None else ("", "")
        text, kind = str(text or "").strip(), str(kind or "").strip()
        if text or kind:
            filled.append((number, text, kind))
    if len(filled) > INDICATORS_MAX:
        errors["indicators"] = f"Give at most {INDICATORS_MAX} indicators (there are {len(filled)})."
        return
    for number, text, kind in filled:
        if not text:
            problems.append(f"Indicator {number}: describe it, or clear its evidence type.")
        elif len(text) > INDICATOR_MAX:
            problems.append(
                f"Indicator {number}: the description must be {INDICATOR_MAX:,} characters or fewer "
                f"(it has {len(text):,})."
            )
        elif kind not in EVIDENCE_LABELS:
            problems.append(f"Indicator {number}: choose its evidence type (evidenced, experienced or potential).")
        else:
            kept.append((text, kind))
    if problems:
        errors["indicators"] = " ".join(problems)
    else:
        values["indicators"] = tuple(kept)


def _check(session: Session, viewer: Viewer, form: AssessmentForm, *, source_org_id: int, reporter_id: int,
           today: date | None = None) -> tuple[dict, dict[str, str]]:
    """(values, errors): the fields that are right, checked and tidied, and what is wrong with
    the others."""
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict = {}

    code = str(form.area_code or "").strip().upper()
    if not code:
        errors["area_code"] = "Choose the district the assessment is for."
    else:
        name = session.scalar(select(Area.name).where(Area.code == code))
        if name is None:
            errors["area_code"] = "Choose the district from the list: that code is not a Midlands district."
        else:
            values["area_code"], values["area_name"] = code, name

    assessed_on = parse_day(
        form.assessed_on, errors, "assessed_on", what="The date of the assessment", example="2026-11-03",
        missing="Enter the date of the assessment, for example 2026-11-03.", allow_future=False, today=today,
    )
    if assessed_on:
        values["assessed_on"] = assessed_on

    try:
        level = int(str(form.level).strip()) if form.level not in (None, "") else None
    except ValueError:
        level = None
    if level in TENSION_LEVELS:
        values["level"] = level
    else:
        errors["level"] = "Choose a tension level from 1 (low) to 5 (critical)."

    trend = str(form.trend or "").strip()
    if trend in TREND_LABELS:
        values["trend"] = trend
    else:
        errors["trend"] = "Choose whether tension is rising, stable or falling."

    confidence = str(form.confidence or "").strip()
    if confidence in CONFIDENCE_LABELS:
        values["confidence"] = confidence
    else:
        errors["confidence"] = "Choose how confident the assessment is: low, medium or high."

    rationale = str(form.rationale or "").strip()
    if not rationale:
        errors["rationale"] = "Enter the rationale: why tension is at this level in this district."
    elif len(rationale) > RATIONALE_MAX:
        errors["rationale"] = (
            f"The rationale must be {RATIONALE_MAX:,} characters or fewer (it has {len(rationale):,})."
        )
    else:
        values["rationale"] = rationale

    _indicators(form.indicators, errors, values)

    review_on = parse_day(
        form.review_on, errors, "review_on", what="The review date", example="2026-12-01",
        missing=None, allow_future=True, today=today,
    )
    if review_on and assessed_on and review_on < assessed_on:
        errors["review_on"] = "The review date must be the same as or after the date of the assessment."
    elif "review_on" not in errors:
        values["review_on"] = review_on

    check_sharing(session, form, errors, values, viewer=viewer, source_org_id=source_org_id,
                  reporter_id=reporter_id)
    return values, errors


# --- changes -------------------------------------------------------------------------------------


def _audit(session: Session, viewer: Viewer, action: str, assessment_id: int, ip_address: str | None,
           detail: dict) -> None:
    audit.record(session, action, user_id=viewer.user_id, actor=viewer.email, record_type=RECORD_TYPE,
                 record_id=assessment_id, ip_address=ip_address, detail=detail)


def _texts(values: Mapping) -> dict[str, str]:
    return {name: _assessment_text(name, values.get) for name in FIELD_LABELS}


def _conflict(session: Session, viewer: Viewer, assessment_id: int, form: AssessmentForm | None
              ) -> AssessmentConflictError:
    current = get_assessment(session, viewer, assessment_id)
    if current is None:
        raise AssessmentNotFoundError(
            "Someone else deleted this tension assessment or stopped sharing it with you while you "
            "were working on it, so your changes have not been saved."
        )
    rows: list[ConflictRow] = []
    if form is not None:
        values, _errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                                 reporter_id=current.reporter_id)
        for name, label in FIELD_LABELS.items():
            if name in values:
                yours = _assessment_text(name, values.get)
            elif name == "indicators":
                yours = "; ".join(raw_text(list(row)) for row in form.indicators or () if row)
            else:
                yours = raw_text(getattr(form, name, None))
            theirs = current.field_text(name)
            rows.append(ConflictRow(name, label, yours, theirs, yours != theirs))
    last = history.latest(session, RECORD_TYPE, assessment_id)
    changed_by = f"{last.who} ({last.organisation})" if last and last.organisation else (
        last.who if last else "Someone else")
    return AssessmentConflictError(current, rows, changed_by, last.at if last else current.updated_at,
                                   deleting=form is None)


def _flush(session: Session, viewer: Viewer, assessment_id: int, form: AssessmentForm | None) -> None:
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise _conflict(session, viewer, assessment_id, form) from error


def _users(session: Session, pairs) -> list[User]:
    ids = [i for i, _ in pairs]
    return list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def _organisations(session: Session, pairs) -> list[Organisation]:
    ids = [i for i, _ in pairs]
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(ids)))) if ids else []


_COLUMNS = ("area_code", "assessed_on", "level", "trend", "confidence", "rationale", "review_on", "marking")


def create_assessment(session: Session, viewer: Viewer, form: AssessmentForm, *, ip_address: str | None = None
                      ) -> AssessmentView:
    """Record a tension assessment for the viewer's organisation (any partner may)."""
    if not viewer.is_partner:
        raise AssessmentPermissionError("Only members of the partnership can record tension assessments.")
    values, errors = _check(session, viewer, form, source_org_id=viewer.organisation_id,
                            reporter_id=viewer.user_id)
    if errors:
        raise AssessmentValidationError(errors)
    now = utcnow()
    assessment = TensionAssessment(
        **{name: values[name] for name in _COLUMNS},
        source_org_id=viewer.organisation_id,
        reporter_id=viewer.user_id,
        created_at=now,
        updated_at=now,
    )
    with session.no_autoflush:
        assessment.indicators = [TensionIndicator(description=t, evidence_type=k) for t, k in values["indicators"]]
        assessment.recipients = _users(session, values["recipients"])
        assessment.listed_organisations = _organisations(session, values["listed_organisations"])
    session.add(assessment)
    session.flush()
    history.add(session, RECORD_TYPE, assessment.id, assessment.version, "created", viewer.user_id)
    _audit(session, viewer, "tension assessment created", assessment.id, ip_address,
           {"marking": assessment.marking, "version": assessment.version})
    return get_assessment(session, viewer, assessment.id)


def _editable(session: Session, viewer: Viewer, assessment_id: int) -> tuple[TensionAssessment, AssessmentView]:
    if not viewer.is_partner:
        raise AssessmentPermissionError("Only members of the partnership can change or delete tension assessments.")
    loaded = _load(session, viewer, assessment_id)
    if loaded is None:
        raise AssessmentNotFoundError
    if not may_edit(viewer, loaded[1].source_org_id):
        raise AssessmentPermissionError(
            "Only the organisation that made this assessment can change or delete it "
            "(and the partnership's chairs, to correct it)."
        )
    return loaded


def update_assessment(
    session: Session,
    viewer: Viewer,
    assessment_id: int,
    expected_version: int,
    form: AssessmentForm,
    *,
    ip_address: str | None = None,
) -> AssessmentView:
    """Save changes to an assessment the viewer may edit, if nobody else saved it since
    `expected_version` (else AssessmentConflictError, nothing written)."""
    assessment, current = _editable(session, viewer, assessment_id)
    if current.version != expected_version:
        raise _conflict(session, viewer, assessment_id, form)
    values, errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                            reporter_id=current.reporter_id)
    errors.update(sharing_changes_refused(viewer, current.source_org_id, values, current))
    if errors:
        raise AssessmentValidationError(errors)
    before = {name: current.field_text(name) for name in FIELD_LABELS}
    after = _texts(values)
    changes = history.diff(before, after, FIELD_LABELS)
    if not changes:
        return current
    changed = [name for name in FIELD_LABELS if before[name] != after[name]]
    with session.no_autoflush:  # one UPDATE, so the version moves on by one
        for name in _COLUMNS:
            setattr(assessment, name, values[name])
        if "indicators" in changed:
            assessment.indicators = [
                TensionIndicator(description=t, evidence_type=k) for t, k in values["indicators"]
            ]
        if "recipients" in changed:
            assessment.recipients = _users(session, values["recipients"])
        if "listed_organisations" in changed:
            assessment.listed_organisations = _organisations(session, values["listed_organisations"])
        # Set on every change so that the row itself is updated (and its version moves on) even
        # when only its indicators or lists changed.
        assessment.updated_at = utcnow()
    _flush(session, viewer, assessment_id, form)
    history.add(session, RECORD_TYPE, assessment_id, assessment.version, "updated", viewer.user_id, changes)
    _audit(session, viewer, "tension assessment updated", assessment_id, ip_address,
           {"changed": changed, "version": assessment.version, "marking": assessment.marking})
    return get_assessment(session, viewer, assessment_id)


def delete_assessment(
    session: Session,
    viewer: Viewer,
    assessment_id: int,
    expected_version: int,
    *,
    reason: str = "",
    ip_address: str | None = None,
) -> str:
    """Soft-delete an assessment the viewer may edit; returns what it was ("Birmingham, 3 Nov 2026")."""
    assessment, current = _editable(session, viewer, assessment_id)
    if current.version != expected_version:
        raise _conflict(session, viewer, assessment_id, None)
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise AssessmentValidationError(
            {"reason": f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})."}
        )
    now = utcnow()
    assessment.deleted_at, assessment.deleted_by_id, assessment.updated_at = now, viewer.user_id, now
    _flush(session, viewer, assessment_id, None)
    history.add(session, RECORD_TYPE, assessment_id, assessment.version, "deleted", viewer.user_id, note=reason)
    _audit(session, viewer, "tension assessment deleted", assessment_id, ip_address,
           {"version": assessment.version, "marking": assessment.marking, "reason_given": bool(reason)})
    return f"{current.area_name}, {day_text(current.assessed_on)}"


def restore_assessment(session: Session, viewer: Viewer, assessment_id: int, *, ip_address: str | None = None
                       ) -> None:
    """Bring back a deleted assessment (administrators only, also ones they may not read)."""
    if not is_admin(viewer):
        raise AssessmentPermissionError("Only administrators can restore deleted records.")
    # Found by id, not through the gate: administrators restore whatever the marking.
    assessment = session.scalar(
        select(TensionAssessment)
        .where(TensionAssessment.id == assessment_id, TensionAssessment.deleted_at.is_not(None))
        .execution_options(populate_existing=True)
    )
    if assessment is None:
        raise AssessmentNotFoundError(
            "This tension assessment is not among the deleted records: someone may have restored it "
            "already. Reload the list of deleted records."
        )
    assessment.deleted_at, assessment.deleted_by_id, assessment.updated_at = None, None, utcnow()
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise AssessmentNotFoundError(
            "Someone else changed this tension assessment at the same moment: reload the list of deleted records."
        ) from error
    history.add(session, RECORD_TYPE, assessment_id, assessment.version, "restored", viewer.user_id)
    _audit(session, viewer, "tension assessment restored", assessment_id, ip_address,
           {"version": assessment.version})
