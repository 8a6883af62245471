"""Reading the audit log (administrators of active member organisations only): search it, newest
first, 50 entries a page, and export the entries a search matches as CSV. An export is itself an
audit entry ("audit-exported"), with the reason given, in the same transaction."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from . import audit
from .access import Viewer
from .exports import (
    EXPORT_ROW_LIMIT,
    REASON_MAX_LENGTH,
    REASON_MESSAGE,
    REASON_MIN_LENGTH,
    Export,
    ExportError,
    escape_cell,
)
from .models import AuditEvent, User
from .reference import Role

PAGE_SIZE = 50
EXPORT_ACTION = "audit-exported"
TEXT_MAX = 200
UK = ZoneInfo("Europe/London")
NOT_ALLOWED = "Only administrators of active member organisations can read the audit log."
CSV_COLUMNS = ("Entry", "Time (UTC)", "User id", "User", "Actor", "Action", "Record type", "Record",
               "Address", "Reason", "Details", "Previous hash", "Entry hash")


@dataclass(frozen=True)
class AuditQuery:
    """What to look for: words (each must appear in the action, actor, record or reason), one
    action, one user, and UK days from and to (both included); `page` counts from 1."""

    text: str = ""
    action: str = ""
    user_id: int | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1

    def summary(self) -> dict:
        return {
            "words": self.text or None, "action": self.action or None, "user_id": self.user_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user_id: int | None
    user_name: str | None
    user_email: str | None
    actor: str
    action: str
    record_type: str | None
    record_id: str | None
    ip_address: str | None
    reason: str | None
    detail: dict | None
    prev_hash: str
    entry_hash: str

    @property
    def who(self) -> str:
        if self.user_name:
            return f"{self.user_name} ({self.user_email})" if self.user_email else self.user_name
        return self.actor or "Not recorded"

    @property
    def record(self) -> str:
        return " ".join(part for part in (self.record_type, self.record_id) if part)


def may_read(viewer: Viewer | None) -> bool:
    """Whether this viewer may read and export the audit log."""
    return viewer is not None and viewer.role == Role.ADMIN and viewer.is_partner


def _require(viewer: Viewer | None) -> None:
    if not may_read(viewer):
        raise PermissionError(NOT_ALLOWED)


def uk_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments at which a UK calendar day starts and the next one starts."""
    start = datetime.combine(day, time(0), UK).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), UK).astimezone(UTC)
    return start, end


def _like(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    columns = (AuditEvent.action, AuditEvent.actor, AuditEvent.record_type, AuditEvent.record_id,
               AuditEvent.reason)
    for word in (query.text or "")[:TEXT_MAX].split():
        pattern = _like(word)
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in columns)))
    if query.action:
        conditions.append(AuditEvent.action == query.action)
    if query.user_id is not None:
        conditions.append(AuditEvent.user_id == query.user_id)
    if query.start:
        conditions.append(AuditEvent.at >= uk_day_bounds(query.start)[0])
    if query.end:
        conditions.append(AuditEvent.at < uk_day_bounds(query.end)[1])
    return conditions


def _rows_statement(query: AuditQuery):
    return (
        select(AuditEvent, User.name, User.email)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(*_conditions(query))
        .order_by(AuditEvent.id.desc())
    )


def _row(event: AuditEvent, name: str | None, email: str | None) -> AuditRow:
    return AuditRow(event.id, event.at, event.user_id, name, email, event.actor, event.action,
                    event.record_type, event.record_id, event.ip_address, event.reason, event.detail,
                    event.prev_hash, event.entry_hash)


def count(session: Session, viewer: Viewer, query: AuditQuery) -> int:
    _require(viewer)
    return session.scalar(select(func.count(AuditEvent.id)).where(*_conditions(query))) or 0


def search(session: Session, viewer: Viewer, query: AuditQuery) -> tuple[list[AuditRow], int]:
    """One page (PAGE_SIZE entries, newest first) of the entries matching the query, and how
    many match in all."""
    _require(viewer)
    total = count(session, viewer, query)
    page = max(1, int(query.page or 1))
    result = session.execute(_rows_statement(query).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return [_row(*r) for r in result], total


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def actions(session: Session, viewer: Viewer | None = None) -> list[str]:
    """Every action in the log, A to Z (for the filter)."""
    if viewer is not None:
        _require(viewer)
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def user_choices(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """Every user account, as (id, "Name (email)"), A to Z (for the filter)."""
    _require(viewer)
    rows = session.execute(select(User.id, User.name, User.email).order_by(User.name, User.email))
    return [(uid, f"{name} ({email})") for uid, name, email in rows]


def detail_text(detail, limit: int | None = None) -> str:
    """A detail dict as compact text: "rows: 12; format: csv"."""
    if detail in (None, {}, []):
        return ""
    if isinstance(detail, dict):
        parts = [f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
                 for key, value in detail.items()]
        text = "; ".join(parts)
    else:
        text = json.dumps(detail, ensure_ascii=False)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "\u2026"
    return text


def verify(session: Session, viewer: Viewer) -> audit.VerifyResult:
    """Check the chain (see dashboard.audit.verify), for an administrator."""
    _require(viewer)
    return audit.verify(session)


def _clean_reason(reason: str | None) -> str:
    reason = " ".join((reason if isinstance(reason, str) else "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ExportError(REASON_MESSAGE, field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ExportError(f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer.", field="reason")
    return reason


def _csv_row(row: AuditRow) -> list:
    values = [
        row.id, row.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), row.user_id, row.who
        if row.user_name else "", row.actor, row.action, row.record_type, row.record_id, row.ip_address,
        row.reason, None if row.detail is None else json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
        row.prev_hash, row.entry_hash,
    ]
    return ["" if v is None else escape_cell(v) for v in values]


def export_csv(session: Session, viewer: Viewer, query: AuditQuery, reason: str | None,
               ip_address: str | None = None, *, today: date | None = None) -> Export:
    """Every entry the query matches (newest first, at most EXPORT_ROW_LIMIT) as CSV, recorded in
    the audit log as "audit-exported" with the reason given, in the session's transaction."""
    _require(viewer)
    reason = _clean_reason(reason)
    matched = count(session, viewer, query)
    if matched > EXPORT_ROW_LIMIT:
        raise ExportError(
            f"This search matches {matched:,} entries; an export holds at most {EXPORT_ROW_LIMIT:,}. "
            "Narrow it (for example a shorter period, one action or one person) and export again."
        )
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    result = session.execute(_rows_statement(query).limit(EXPORT_ROW_LIMIT).execution_options(yield_per=1000))
    for event, name, email in result:
        writer.writerow(_csv_row(_row(event, name, email)))
        rows += 1
    day = today or datetime.now(UTC).date()
    filename = f"audit-log-{day.isoformat()}.csv"
    audit.record(
        session, EXPORT_ACTION, user_id=viewer.user_id, actor=viewer.email, record_type="export",
        record_id=filename, ip_address=ip_address, reason=reason,
        detail={"format": "csv", "rows": rows, "filters": query.summary(), "file_name": filename},
    )
    content = "\ufeff".encode() + out.getvalue().encode("utf-8")
    return Export(filename, content, "text/csv; charset=utf-8", rows, None)
