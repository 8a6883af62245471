"""Retention review: the records whose personal details are due for review, and what an
administrator does with them: redact the personal details (the figures stay) or keep them for
longer, with a reason.

- **Personal details** (`PERSONAL_FIELDS`) are the free text and exact places that can name or
  describe people: an incident's title, description and map point; a tension assessment's
  rationale and the descriptions of its indicators; and the same texts in each record's history
  (`RecordChange.changes` keeps the before and after of every edit, so it would give them back).
- **What stays** (`KEPT_FIELDS`) is everything the figures are counted from: id, category, date
  and how exact it is, district, strands, severity, verification, marking, organisation,
  reporter, corroboration links, an assessment's level, trend, confidence and evidence types.
  Every count, map, trend, rollup table and national summary is therefore unchanged by a
  redaction, except that a redacted incident is no longer drawn on the incident-locations map
  layer (its point is gone; it still counts in its district).
- **Due for review**: not redacted yet, and either kept until a day (`retain_until`) that has
  come, or never kept and older than the retention period (`Settings.retention_months`): a
  record dated D is due from D + that many months. Deleted records are included: their personal
  details are still held.
- Only administrators of an active member organisation review records. They see every due
  record (that is the job), but a record's title only where its marking lets them read it, and
  never a description: the queue names which personal fields are filled, not what they say.
- A redaction or a decision to keep is one transaction for the whole batch; nothing is written
  if any record asked for cannot be done. Each record's history gets an entry, the audit log one
  event for the batch, with the reason, the kind and ids of the records and no content.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, selectinload

from . import assessments, audit, history, incidents, records
from .access import RecordFilters, Viewer, visible
from .models import (
    Area,
    Incident,
    IncidentCategory,
    Organisation,
    RecordChange,
    TensionAssessment,
    TensionIndicator,
    utcnow,
)
from .reference import TENSION_LEVELS, LocationPrecision

INCIDENT = history.RECORD_INCIDENT
ASSESSMENT = history.RECORD_ASSESSMENT
KINDS = (INCIDENT, ASSESSMENT)
KIND_WORDS = {INCIDENT: "Incident", ASSESSMENT: "Tension assessment"}
KIND_PLURALS = {INCIDENT: "incidents", ASSESSMENT: "tension assessments"}

PAGE_SIZE = 25
MAX_BATCH = 100
REASON_MAX = records.REASON_MAX
KEEP_CHOICES = (12, 24)
REDACTED = "[redacted]"

NOT_ALLOWED = "Only administrators of an active member organisation can review records for retention."

# What redaction removes, as the page lists it: (record kind, field as people know it, what
# becomes of it).
PERSONAL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("Incidents", "Title", "replaced by its category and district, e.g. \u201cRedacted: Stickers and graffiti "
                           "in Birmingham\u201d"),
    ("Incidents", "Description", "emptied"),
    ("Incidents", "Exact location (latitude and longitude)", "removed; the location becomes \u201cArea only\u201d"),
    ("Tension assessments", "Rationale", "emptied"),
    ("Tension assessments", "Indicator descriptions",
     f"each replaced by \u201c{REDACTED}\u201d (its evidence type stays)"),
    ("Both", "The same texts in the record\u2019s history",
     f"each before and after replaced by \u201c{REDACTED}\u201d"),
)
# What stays, so that the figures are unchanged.
KEPT_FIELDS: tuple[str, ...] = (
    "the reference number, category, date and how exact it is, district and hate-crime strands",
    "severity, verification, corroboration links and how many partners corroborated it",
    "the handling marking, who it is shared with, the organisation and the reporter",
    "an assessment\u2019s tension level, trend, confidence and its indicators\u2019 evidence types",
    "the record\u2019s history (who changed what, and when) and the audit log",
)

# The history's labels (the form labels) of the personal fields, per record type.
HISTORY_LABELS = {
    INCIDENT: frozenset(incidents.FIELD_LABELS[name] for name in ("title", "description", "latitude", "longitude")),
    ASSESSMENT: frozenset(assessments.FIELD_LABELS[name] for name in ("rationale", "indicators")),
}
# How each filled personal field is named in the queue.
FIELD_NAMES = {
    "title": "title",
    "description": "description",
    "location": "exact location",
    "rationale": "rationale",
    "indicators": "indicator descriptions",
}


class RetentionError(ValueError):
    """A review that cannot be done; `errors` maps each wrong field ("records", "reason",
    "months") to what is wrong, in words that name it. Nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


# --- who and when ------------------------------------------------------------------------------


def may_review(viewer: Viewer | None) -> bool:
    """Whether this viewer may see the queue and redact or keep records."""
    return viewer is not None and records.is_admin(viewer)


def _require_admin(viewer: Viewer | None) -> None:
    if not may_review(viewer):
        raise PermissionError(NOT_ALLOWED)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier, when negative), on the month's last day when
    that month is shorter: 31 Aug + 6 months is 28 (or 29) Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_due_on(record_day: date, retain_until: date | None, months: int) -> date:
    """When a record's personal details come up for review."""
    return retain_until if retain_until is not None else add_months(record_day, months)


def last_due_day(today: date, months: int) -> date:
    """The latest record date whose period of `months` has ended by `today` (inclusive): a
    record dated D is due when add_months(D, months) <= today. On a month's last day, every day
    of the month `months` before has ended (31 Aug + 6 months is the end of February)."""
    day = add_months(today, -months)
    if today.day == calendar.monthrange(today.year, today.month)[1]:
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day


def _due(model, day_column, today: date, months: int) -> ColumnElement[bool]:
    return and_(
        model.redacted_at.is_(None),
        or_(
            model.retain_until <= today,
            and_(model.retain_until.is_(None), day_column <= last_due_day(today, months)),
        ),
    )


# --- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to: a kind (None: both), a district, an organisation."""

    kind: str | None = None
    area: str | None = None
    organisation: int | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"Unknown kind of record: {self.kind!r}.")


@dataclass(frozen=True)
class DueRecord:
    """One record in the queue, as the page shows it (never its personal text)."""

    kind: str
    id: int
    day: date
    date_precision: str
    review_due: date
    area_code: str
    area_name: str
    organisation: str
    marking: str
    deleted: bool
    # Its title where the marking lets the administrator read it, else None.
    title: str | None
    filled: tuple[str, ...]  # the personal fields that hold something (FIELD_NAMES values)

    @property
    def key(self) -> str:
        """"incident:12": how the page names the record when asking for a redaction."""
        return f"{self.kind}:{self.id}"

    @property
    def reference(self) -> str:
        return f"{KIND_WORDS[self.kind]} #{self.id}"

    @property
    def filled_text(self) -> str:
        return ", ".join(self.filled) if self.filled else "none (nothing to remove)"


@dataclass(frozen=True)
class QueuePage:
    records: tuple[DueRecord, ...]
    total: int  # every due record matching the filters
    page: int
    pages: int
    first: int  # the position of the first record shown (1-based; 0 when none)


def _incident_rows(filters: QueueFilters, today: date, months: int):
    conditions = [_due(Incident, Incident.occurred_on, today, months)]
    if filters.area:
        conditions.append(Incident.area_code == filters.area)
    if filters.organisation:
        conditions.append(Incident.source_org_id == filters.organisation)
    return select(
        literal_column(f"'{INCIDENT}'").label("kind"),
        Incident.id.label("id"),
        Incident.occurred_on.label("day"),
        Incident.date_precision.label("date_precision"),
        Incident.retain_until.label("retain_until"),
        Incident.area_code.label("area_code"),
        Incident.source_org_id.label("source_org_id"),
        Incident.marking.label("marking"),
        Incident.deleted_at.label("deleted_at"),
    ).where(*conditions)


def _assessment_rows(filters: QueueFilters, today: date, months: int):
    conditions = [_due(TensionAssessment, TensionAssessment.assessed_on, today, months)]
    if filters.area:
        conditions.append(TensionAssessment.area_code == filters.area)
    if filters.organisation:
        conditions.append(TensionAssessment.source_org_id == filters.organisation)
    return select(
        literal_column(f"'{ASSESSMENT}'").label("kind"),
        TensionAssessment.id.label("id"),
        TensionAssessment.assessed_on.label("day"),
        literal_column("'day'").label("date_precision"),
        TensionAssessment.retain_until.label("retain_until"),
        TensionAssessment.area_code.label("area_code"),
        TensionAssessment.source_org_id.label("source_org_id"),
        TensionAssessment.marking.label("marking"),
        TensionAssessment.deleted_at.label("deleted_at"),
    ).where(*conditions)


def _parts(filters: QueueFilters, today: date, months: int) -> list:
    parts = []
    if filters.kind in (None, INCIDENT):
        parts.append(_incident_rows(filters, today, months))
    if filters.kind in (None, ASSESSMENT):
        parts.append(_assessment_rows(filters, today, months))
    return parts


def count_due(session: Session, viewer: Viewer | None, filters: QueueFilters = QueueFilters(), *,
              today: date, months: int) -> int:
    """How many records are due for review (counted in the database)."""
    _require_admin(viewer)
    return sum(
        session.scalar(select(func.count()).select_from(part.subquery())) or 0
        for part in _parts(filters, today, months)
    )


def queue(session: Session, viewer: Viewer | None, filters: QueueFilters = QueueFilters(), *, today: date,
          months: int, page: int = 1, page_size: int = PAGE_SIZE) -> QueuePage:
    """A page of the due records, oldest first (then incidents before assessments, then by
    number), read a page at a time from the database; a page past the end gives the last."""
    _require_admin(viewer)
    total = count_due(session, viewer, filters, today=today, months=months)
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    offset = (page - 1) * page_size
    # Each kind gives at most offset + page_size of its oldest rows (in its date index's order),
    # then the two are merged: a page never reads more than it needs from either table.
    arms = [
        select(part.order_by(part.selected_columns.day, part.selected_columns.id)
               .limit(offset + page_size).subquery())
        for part in _parts(filters, today, months)
    ]
    merged = (arms[0] if len(arms) == 1 else union_all(*arms)).subquery()
    rows = session.execute(
        select(merged).order_by(merged.c.day, merged.c.kind, merged.c.id).limit(page_size).offset(offset)
    ).all()
    found = _describe(session, viewer, rows, months)
    return QueuePage(tuple(found), total, page, pages, offset + 1 if found else 0)


def _describe(session: Session, viewer: Viewer, rows, months: int) -> list[DueRecord]:
    """The page's rows with their district and organisation names, which personal fields are
    filled, and the titles the administrator may read."""
    ids = {kind: [r.id for r in rows if r.kind == kind] for kind in KINDS}
    areas = dict(session.execute(select(Area.code, Area.name)).all())
    organisations = dict(session.execute(select(Organisation.id, Organisation.name)).all())
    filled: dict[tuple[str, int], tuple[str, ...]] = {}
    titles: dict[tuple[str, int], str] = {}
    readable = RecordFilters(include_deleted=True)
    if ids[INCIDENT]:
        for record_id, description, latitude, longitude in session.execute(
            select(Incident.id, func.length(Incident.description) > 0, Incident.latitude, Incident.longitude)
            .where(Incident.id.in_(ids[INCIDENT]))
        ):
            names = [FIELD_NAMES["title"]]
            if description:
                names.append(FIELD_NAMES["description"])
            if latitude is not None or longitude is not None:
                names.append(FIELD_NAMES["location"])
            filled[INCIDENT, record_id] = tuple(names)
        for record_id, title in session.execute(
            visible(viewer, Incident, readable).with_only_columns(Incident.id, Incident.title)
            .where(Incident.id.in_(ids[INCIDENT]))
        ):
            titles[INCIDENT, record_id] = title
    if ids[ASSESSMENT]:
        has_indicators = exists().where(TensionIndicator.assessment_id == TensionAssessment.id,
                                        func.length(TensionIndicator.description) > 0)
        for record_id, rationale, indicators in session.execute(
            select(TensionAssessment.id, func.length(TensionAssessment.rationale) > 0, has_indicators)
            .where(TensionAssessment.id.in_(ids[ASSESSMENT]))
        ):
            names = []
            if rationale:
                names.append(FIELD_NAMES["rationale"])
            if indicators:
                names.append(FIELD_NAMES["indicators"])
            filled[ASSESSMENT, record_id] = tuple(names)
        for record_id, area_name, level in session.execute(
            visible(viewer, TensionAssessment, readable)
            .join(Area, Area.code == TensionAssessment.area_code)
            .with_only_columns(TensionAssessment.id, Area.name, TensionAssessment.level)
            .where(TensionAssessment.id.in_(ids[ASSESSMENT]))
        ):
            label = TENSION_LEVELS[level].label if level in TENSION_LEVELS else ""
            titles[ASSESSMENT, record_id] = f"{area_name}: tension level {level} - {label}"
    return [
        DueRecord(
            kind=r.kind,
            id=r.id,
            day=r.day,
            date_precision=r.date_precision,
            review_due=review_due_on(r.day, r.retain_until, months),
            area_code=r.area_code,
            area_name=areas.get(r.area_code, r.area_code),
            organisation=organisations.get(r.source_org_id, ""),
            marking=r.marking,
            deleted=r.deleted_at is not None,
            title=titles.get((r.kind, r.id)),
            filled=filled.get((r.kind, r.id), ()),
        )
        for r in rows
    ]


def filter_choices(session: Session, viewer: Viewer | None) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(districts, organisations) to narrow the queue by, each by name."""
    _require_admin(viewer)
    districts = [tuple(r) for r in session.execute(select(Area.code, Area.name).order_by(Area.name))]
    orgs = [tuple(r) for r in session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))]
    return districts, orgs


# --- checking a request --------------------------------------------------------------------------


def parse_keys(keys) -> list[tuple[str, int]]:
    """("incident", 12) for each "incident:12" (or pair) asked for, once each, in order; anything
    else is refused by name."""
    if keys is None:
        return []
    if not isinstance(keys, (list, tuple)):
        keys = [keys]
    found: dict[tuple[str, int], None] = {}
    for key in keys:
        if isinstance(key, str):
            kind, _, number = key.partition(":")
        elif isinstance(key, (list, tuple)) and len(key) == 2:
            kind, number = key
        else:
            kind, number = None, None
        digits = str(number if number is not None else "").strip()
        if kind not in KINDS or not digits.isdigit() or len(digits) > 12 or int(digits) <= 0:
            raise RetentionError({"records": f"Records: \u201c{str(key)[:40]}\u201d is not a record of the "
                                             "queue. Reload the page and choose again."})
        found[str(kind), int(digits)] = None
    return list(found)


def _clean_reason(reason, what: str) -> str:
    text = " ".join(str(reason or "").split())
    if not text:
        raise RetentionError({"reason": f"Reason: say why {what}, for example \u201cPast the retention "
                                        "period; no open case\u201d."})
    if len(text) > REASON_MAX:
        raise RetentionError({"reason": f"Reason: it must be {REASON_MAX:,} characters or fewer "
                                        f"(it has {len(text):,})."})
    return text


def _names(pairs: Sequence[tuple[str, int]]) -> str:
    shown = ", ".join(f"{KIND_WORDS[kind].lower()} #{record_id}" for kind, record_id in pairs[:10])
    return shown + (f" and {len(pairs) - 10:,} more" if len(pairs) > 10 else "")


def _check(session: Session, keys, reason, what: str, *, today: date, months: int) -> tuple[
        list[tuple[str, int]], str, dict[str, list[int]]]:
    """The records asked for (all of them due for review now) and the cleaned reason; otherwise
    a RetentionError naming every wrong field."""
    errors: dict[str, str] = {}
    try:
        pairs = parse_keys(keys)
    except RetentionError as error:
        errors.update(error.errors)
        pairs = []
    if not pairs and "records" not in errors:
        errors["records"] = "Records: choose at least one record in the queue."
    elif len(pairs) > MAX_BATCH:
        errors["records"] = f"Records: choose at most {MAX_BATCH} records at a time (you chose {len(pairs):,})."
    try:
        clean = _clean_reason(reason, what)
    except RetentionError as error:
        errors.update(error.errors)
        clean = ""
    ids = {kind: [i for k, i in pairs if k == kind] for kind in KINDS}
    if pairs and "records" not in errors:
        missing, redacted, not_due = [], [], []
        for kind, model, day_column in ((INCIDENT, Incident, Incident.occurred_on),
                                        (ASSESSMENT, TensionAssessment, TensionAssessment.assessed_on)):
            if not ids[kind]:
                continue
            rows = session.execute(
                select(model.id, model.redacted_at, _due(model, day_column, today, months))
                .where(model.id.in_(ids[kind]))
            ).all()
            state = {r[0]: (r[1], bool(r[2])) for r in rows}
            for record_id in ids[kind]:
                if record_id not in state:
                    missing.append((kind, record_id))
                elif state[record_id][0] is not None:
                    redacted.append((kind, record_id))
                elif not state[record_id][1]:
                    not_due.append((kind, record_id))
        problems = []
        if missing:
            problems.append(f"there is no {_names(missing)}")
        if redacted:
            problems.append(f"{_names(redacted)} {'was' if len(redacted) == 1 else 'were'} redacted already")
        if not_due:
            problems.append(f"{_names(not_due)} {'is' if len(not_due) == 1 else 'are'} not due for review")
        if problems:
            errors["records"] = ("Records: " + "; ".join(problems) + ". Nothing was changed: reload the "
                                 "queue and choose again.")
    if errors:
        raise RetentionError(errors)
    return pairs, clean, ids


# --- redacting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewResult:
    """What a redaction or a decision to keep did."""

    incidents: tuple[int, ...]
    assessments: tuple[int, ...]
    retain_until: date | None = None

    @property
    def count(self) -> int:
        return len(self.incidents) + len(self.assessments)


def redacted_title(category_label: str, area_name: str) -> str:
    """What a redacted incident is called: its category and district, which the figures keep."""
    return f"Redacted: {category_label} in {area_name}"[: incidents.TITLE_MAX]


def _scrubbed(value) -> str:
    """A history value of a personal field: "[redacted]" unless it held nothing."""
    return str(value or "") if value in (None, "", records.NOT_GIVEN, "None") else REDACTED


def _scrub_history(session: Session, kind: str, ids: Sequence[int]) -> None:
    """Replace the before and after texts of the personal fields in the records' history."""
    labels = HISTORY_LABELS[kind]
    for change in session.scalars(
        select(RecordChange).where(RecordChange.record_type == kind, RecordChange.record_id.in_(ids))
    ):
        if not change.changes or not any(c.get("field") in labels for c in change.changes):
            continue
        # A new list: the JSON column is saved when it is given a new value, not when changed in place.
        change.changes = [
            {**c, "before": _scrubbed(c.get("before")), "after": _scrubbed(c.get("after"))}
            if c.get("field") in labels else dict(c)
            for c in change.changes
        ]


@contextmanager
def _overwriting_freed_space(session: Session) -> Iterator[None]:
    """SQLite: while the old texts are replaced, the space they took in the file is overwritten
    with zeros (PRAGMA secure_delete), not just marked free. PostgreSQL keeps old row versions
    until VACUUM, which the operator runs (README)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    # (on the connection itself: the session's execute would flush the changes first)
    if sqlite:
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        if sqlite:
            session.connection().exec_driver_sql("PRAGMA secure_delete = OFF")


def _purge_text_index(session: Session) -> None:
    """SQLite: the text index (search.py's FTS5 table) stops finding the old words as soon as the
    incidents change (its triggers add "delete" entries), but the words stay in its older
    segments until they are merged; 'optimize' merges them all now, so the words are gone from
    the file too. It rewrites the index (about 0.1 s for 60,000 incidents). PostgreSQL's GIN
    index drops them when VACUUM cleans the old row versions."""
    if session.get_bind().dialect.name == "sqlite":
        # (the table's name written out, as in search.py: a fixed statement)
        session.execute(text("INSERT INTO incident_search(incident_search) VALUES ('optimize')"))


def _stale() -> RetentionError:
    return RetentionError({"records": "Records: someone changed one of them at the same moment, so nothing "
                                      "was redacted. Reload the queue and try again."})


def redact(session: Session, viewer: Viewer | None, keys, reason, *, today: date, months: int,
           ip_address: str | None = None) -> ReviewResult:
    """Remove the personal details of the records asked for (`"incident:12"`, `"tension_assessment:5"`),
    all due for review, in this transaction; their figures are unchanged. Each record's version
    moves on (so a form opened before cannot save the old text back unnoticed), its history is
    scrubbed and gets an entry with the reason, and the audit log one event for the batch."""
    _require_admin(viewer)
    _pairs, reason, ids = _check(session, keys, reason, "their personal details should be removed",
                                today=today, months=months)
    now = utcnow()
    note = f"Personal details redacted after review: {reason}"
    labels = incidents.FIELD_LABELS
    written: list[tuple[str, object, list[history.FieldChange]]] = []
    if ids[INCIDENT]:
        rows = session.execute(
            select(Incident, IncidentCategory.label, Area.name)
            .join(IncidentCategory, IncidentCategory.code == Incident.category_code)
            .join(Area, Area.code == Incident.area_code)
            .where(Incident.id.in_(ids[INCIDENT]))
        ).all()
        for incident, category_label, area_name in rows:
            title = redacted_title(category_label, area_name)
            changes = [history.FieldChange(labels["title"], REDACTED, title)]
            if incident.description:
                changes.append(history.FieldChange(labels["description"], REDACTED, ""))
            if incident.latitude is not None or incident.longitude is not None:
                changes += [history.FieldChange(labels["latitude"], REDACTED, ""),
                            history.FieldChange(labels["longitude"], REDACTED, "")]
            if incident.location_precision != LocationPrecision.AREA.value:
                changes.append(history.FieldChange(
                    labels["location_precision"],
                    incidents.LOCATION_PRECISION_LABELS.get(incident.location_precision, incident.location_precision),
                    incidents.LOCATION_PRECISION_LABELS[LocationPrecision.AREA.value]))
            incident.title, incident.description = title, ""
            incident.latitude = incident.longitude = None
            incident.location_precision = LocationPrecision.AREA.value
            incident.redacted_at = incident.updated_at = now
            written.append((INCIDENT, incident, changes))
    if ids[ASSESSMENT]:
        found = session.scalars(
            select(TensionAssessment).where(TensionAssessment.id.in_(ids[ASSESSMENT]))
            .options(selectinload(TensionAssessment.indicators))
        ).all()
        alabels = assessments.FIELD_LABELS
        for assessment in found:
            changes = []
            if assessment.rationale:
                changes.append(history.FieldChange(alabels["rationale"], REDACTED, ""))
            if any(i.description for i in assessment.indicators):
                changes.append(history.FieldChange(alabels["indicators"], REDACTED, REDACTED))
            assessment.rationale = ""
            for indicator in assessment.indicators:
                indicator.description = REDACTED
            assessment.redacted_at = assessment.updated_at = now
            written.append((ASSESSMENT, assessment, changes))
    with _overwriting_freed_space(session):
        records.flush(session, _stale)
        for kind in KINDS:
            if ids[kind]:
                _scrub_history(session, kind, ids[kind])
        session.flush()
        if ids[INCIDENT]:
            _purge_text_index(session)
    for kind, record, changes in written:
        history.add(session, kind, record.id, record.version, "updated", viewer.user_id or None, changes, note)
    result = ReviewResult(tuple(sorted(ids[INCIDENT])), tuple(sorted(ids[ASSESSMENT])))
    _audit(session, viewer, "records redacted", result, reason, ip_address)
    return result


def _audit(session: Session, viewer: Viewer, action: str, result: ReviewResult, reason: str,
           ip_address: str | None, **detail) -> None:
    kinds = [kind for kind, ids in ((INCIDENT, result.incidents), (ASSESSMENT, result.assessments)) if ids]
    audit.record(
        session, action, user_id=viewer.user_id or None, actor=viewer.email,
        record_type=kinds[0] if len(kinds) == 1 else "records", ip_address=ip_address, reason=reason,
        detail={"incidents": list(result.incidents), "tension_assessments": list(result.assessments),
                "count": result.count, **detail},
    )


# --- keeping for longer --------------------------------------------------------------------------


def clean_months(value) -> int:
    try:
        months = int(str(value).strip())
    except (TypeError, ValueError):
        months = -1
    if months not in KEEP_CHOICES:
        raise RetentionError({"months": "How long to keep them: choose "
                                        + " or ".join(f"{m} months" for m in KEEP_CHOICES) + "."})
    return months


def keep(session: Session, viewer: Viewer | None, keys, keep_months, reason, *, today: date, months: int,
         ip_address: str | None = None) -> ReviewResult:
    """Keep the personal details of the records asked for (all due for review) for another
    `keep_months` (12 or 24): they leave the queue until that day. The records' versions do not
    move on (nobody editing one is told of a conflict over a review date); each record's history
    gets an entry with the reason, the audit log one event for the batch."""
    _require_admin(viewer)
    errors: dict[str, str] = {}
    try:
        chosen = clean_months(keep_months)
    except RetentionError as error:
        errors.update(error.errors)
        chosen = 0
    try:
        _pairs, reason, ids = _check(session, keys, reason, "their personal details are still needed",
                                    today=today, months=months)
    except RetentionError as error:
        raise RetentionError(error.errors | errors) from None
    if errors:
        raise RetentionError(errors)
    until = add_months(today, chosen)
    note = f"Personal details kept after review until {records.day_text(until)}: {reason}"
    label = "Personal details reviewed again on"
    for kind, model, day_column in ((INCIDENT, Incident, Incident.occurred_on),
                                    (ASSESSMENT, TensionAssessment, TensionAssessment.assessed_on)):
        if not ids[kind]:
            continue
        before = session.execute(
            select(model.id, model.version, day_column, model.retain_until).where(model.id.in_(ids[kind]))
        ).all()
        done = session.execute(
            update(model).where(model.id.in_(ids[kind]), _due(model, day_column, today, months))
            # (updated_at set to itself: a review date is not an edit of the record)
            .values(retain_until=until, updated_at=model.updated_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != len(ids[kind]):
            raise RetentionError({"records": "Records: someone reviewed one of them at the same moment, so "
                                             "nothing was kept. Reload the queue and try again."})
        for record_id, version, day, retain_until in before:
            was = records.day_text(review_due_on(day, retain_until, months))
            history.add(session, kind, record_id, version, "updated", viewer.user_id or None,
                        [history.FieldChange(label, was, records.day_text(until))], note)
    result = ReviewResult(tuple(sorted(ids[INCIDENT])), tuple(sorted(ids[ASSESSMENT])), until)
    _audit(session, viewer, "records kept", result, reason, ip_address, months=chosen,
           retain_until=until.isoformat())
    return result
