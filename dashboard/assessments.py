"""Tension assessments: recording, editing, deleting and restoring them, and their history.

The same rules as incidents (`incidents.py`; the lifecycle they share is in `records.py`): reads
through the access gate, any partner may record an assessment, the originating organisation
edits and deletes it and chairs correct it (only the originator changes its marking and who it
is shared with), administrators restore, every save is checked against the version the person
read, and every change goes into the record's history and the audit log (field names only). An assessment's indicators are rows of
their own: an edit replaces them, and the assessment's version moves on by one per save.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import history, records
from .access import RecordFilters, Viewer, visible
from .history import HistoryEntry
from .models import (
    Area,
    Organisation,
    TensionAssessment,
    TensionIndicator,
    assessment_organisations,
    assessment_recipients,
)
from .records import (
    NOT_GIVEN,
    ConflictRow,
    check_sharing,
    day_text,
    district_choices,
    is_admin,
    marking_choices,
    names_text,
    parse_day,
    raw_text,
)
from .reference import TENSION_LEVELS, Confidence, EvidenceType, Trend

RECORD_TYPE = history.RECORD_ASSESSMENT
RATIONALE_MAX = 10_000
INDICATOR_MAX = 1_000
INDICATORS_MAX = 10
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


class AssessmentValidationError(records.RecordValidationError, AssessmentError):
    """The form has wrong fields: `errors` maps each field (FIELD_LABELS order) to what is wrong."""

    field_labels = FIELD_LABELS
    other_labels = OTHER_LABELS


class AssessmentNotFoundError(records.RecordNotFoundError, AssessmentError):
    default_message = (
        "This tension assessment does not exist, has been deleted, or is not shared with you. "
        "Go back to the list of assessments and reload it."
    )


class AssessmentPermissionError(AssessmentError):
    pass


class AssessmentConflictError(records.RecordConflictError, AssessmentError):
    """Someone else saved the assessment since the person read it; nothing was written."""

    noun = "tension assessment"


KIND = records.RecordKind(RECORD_TYPE, "tension assessment", TensionAssessment, FIELD_LABELS,
                          AssessmentValidationError, AssessmentNotFoundError, AssessmentConflictError,
                          AssessmentPermissionError)


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
    redacted_at: datetime | None
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
    return AssessmentChoices(
        districts=district_choices(session),
        levels=[(level, level_text(level)) for level in TENSION_LEVELS],
        trends=list(TREND_LABELS.items()),
        confidences=list(CONFIDENCE_LABELS.items()),
        evidence_types=list(EVIDENCE_LABELS.items()),
        markings=marking_choices(),
        **records.sharing_choices(session, viewer),
    )


def _load(session: Session, viewer: Viewer, assessment_id: int, *, include_deleted: bool = False
          ) -> tuple[TensionAssessment, AssessmentView] | None:
    row = records.load_row(session, viewer, KIND, assessment_id, include_deleted=include_deleted)
    if row is None:
        return None
    assessment, area_name, org_name, reporter_name, deleter_name = row
    indicators = session.execute(
        select(TensionIndicator.description, TensionIndicator.evidence_type)
        .where(TensionIndicator.assessment_id == assessment.id)
        .order_by(TensionIndicator.id)
    ).all()
    recipients, listed = records.sharing_lists(session, assessment_recipients, assessment_organisations,
                                               assessment.id)
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
        recipients=recipients,
        listed_organisations=listed,
        created_at=assessment.created_at,
        updated_at=assessment.updated_at,
        deleted_at=assessment.deleted_at,
        redacted_at=assessment.redacted_at,
        **records.permissions(viewer, assessment.source_org_id, assessment.deleted_at is not None),
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
    if not records.may_see(session, viewer, KIND, assessment_id, include_deleted=include_deleted):
        return []
    return history.entries(session, RECORD_TYPE, assessment_id)


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

    records.check_area(session, form.area_code, errors, values,
                       missing="Choose the district the assessment is for.")

    assessed_on = parse_day(
        form.assessed_on, errors, "assessed_on", what="The date of the assessment", example="2026-11-03",
        missing="Enter the date of the assessment, for example 2026-11-03.", allow_future=False, today=today,
    )
    if assessed_on:
        values["assessed_on"] = assessed_on

    level = records.whole_number(form.level)
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


def _texts(values: Mapping) -> dict[str, str]:
    return {name: _assessment_text(name, values.get) for name in FIELD_LABELS}


def _conflict(session: Session, viewer: Viewer, assessment_id: int, form: AssessmentForm | None
              ) -> AssessmentConflictError:
    current = get_assessment(session, viewer, assessment_id)
    if current is None:
        raise records.gone_while_working(KIND)
    rows: list[ConflictRow] = []
    if form is not None:
        values, _errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                                 reporter_id=current.reporter_id)

        def typed(name: str) -> str:
            if name == "indicators":
                return "; ".join(raw_text(list(row)) for row in form.indicators or () if row)
            return raw_text(getattr(form, name, None))

        rows = records.conflict_rows(FIELD_LABELS, values, _assessment_text, typed, current)
    return records.conflict(session, KIND, current, rows, deleting=form is None)


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

    def set_indicators(assessment: TensionAssessment) -> None:
        assessment.indicators = [TensionIndicator(description=t, evidence_type=k) for t, k in values["indicators"]]

    assessment = records.create(session, viewer, KIND, values, _COLUMNS, set_lists=set_indicators,
                                ip_address=ip_address)
    return get_assessment(session, viewer, assessment.id)


def _editable(session: Session, viewer: Viewer, assessment_id: int, expected_version: int,
              form: AssessmentForm | None) -> tuple[TensionAssessment, AssessmentView]:
    return records.editable(
        session, viewer, KIND, _load, assessment_id, expected_version,
        lambda: _conflict(session, viewer, assessment_id, form),
        outsider="Only members of the partnership can change or delete tension assessments.",
        other_organisation=("Only the organisation that made this assessment can change or delete it "
                            "(and the partnership's chairs, to correct it)."),
    )


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
    assessment, current = _editable(session, viewer, assessment_id, expected_version, form)
    values, errors = _check(session, viewer, form, source_org_id=current.source_org_id,
                            reporter_id=current.reporter_id)

    def set_indicators(changed: list[str]) -> None:
        if "indicators" in changed:
            assessment.indicators = [
                TensionIndicator(description=t, evidence_type=k) for t, k in values["indicators"]
            ]

    if not records.save_edit(session, viewer, KIND, assessment, current, values, errors,
                             texts=lambda: _texts(values), columns=_COLUMNS, set_lists=set_indicators,
                             stale=lambda: _conflict(session, viewer, assessment_id, form), ip_address=ip_address):
        return current
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
    assessment, current = _editable(session, viewer, assessment_id, expected_version, None)
    records.soft_delete(session, viewer, KIND, assessment, reason,
                        lambda: _conflict(session, viewer, assessment_id, None), ip_address)
    return f"{current.area_name}, {day_text(current.assessed_on)}"


def restore_assessment(session: Session, viewer: Viewer, assessment_id: int, *, ip_address: str | None = None
                       ) -> None:
    """Bring back a deleted assessment (administrators only, also ones they may not read)."""
    if not is_admin(viewer):
        raise AssessmentPermissionError("Only administrators can restore deleted records.")
    records.restore(session, viewer, KIND, assessment_id, ip_address)
