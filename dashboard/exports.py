"""Exports of the register's current view as CSV or Excel (XLSX).

An export holds only what the viewer may see (it reads through the register's query, and so
through the access gate), at most EXPORT_ROW_LIMIT rows. The most restrictive marking among its
rows is in the file name and on its first line, so whoever opens the file is told how to handle
it; every row also carries its own marking. Text cells that a spreadsheet would take for a
formula (starting with = + - @, a tab or a carriage return) get a leading apostrophe. Each
export is recorded in the audit log with the reason the person gave, in the same transaction.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from . import audit
from .access import Viewer, highest_marking
from .register import RegisterQuery, count, iter_export_rows

EXPORT_ROW_LIMIT = 100_000
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 1_000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REASON_MESSAGE = (
    f"Say why you need this export (at least {REASON_MIN_LENGTH} characters); it is kept in the audit log."
)

# (heading, key in register.iter_export_rows' rows), in file order.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Ref", "id"),
    ("Date", "occurred_on"),
    ("Date precision", "date_precision"),
    ("District", "area"),
    ("District code", "area_code"),
    ("Category", "category"),
    ("Strands", "strands"),
    ("Title", "title"),
    ("Description", "description"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("Location precision", "location_precision"),
    ("Severity", "severity"),
    ("Verification", "verification"),
    ("Corroborated by", "corroborated_by"),
    ("Marking", "marking"),
    ("Reported by (organisation)", "organisation"),
    ("Reporter", "reporter"),
    ("Logged at (UTC)", "created_at"),
)
_MARKING_COLUMN = [key for _, key in EXPORT_COLUMNS].index("marking")
_COLUMN_WIDTHS = {"Title": 50, "Description": 80, "Category": 30, "Strands": 30, "District": 22,
                  "Reported by (organisation)": 30, "Logged at (UTC)": 20, "Marking": 18}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """The export cannot be made; `field` is the form field to point at ("reason", "format")
    or None, and the message says what to do."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    media_type: str
    rows: int
    highest_marking: str | None


def escape_cell(value):
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe (OWASP's
    advice on CSV injection); everything else, numbers included, is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def file_safe_marking(marking: str) -> str:
    """"TLP:AMBER+STRICT" -> "TLP-AMBER-STRICT" (for file names)."""
    return marking.replace(":", "-").replace("+", "-")


def _day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def first_line(marking: str | None, viewer: Viewer, day: date) -> str:
    """The handling line at the top of the file."""
    by = f"Exported by {viewer.name or viewer.email} ({viewer.organisation_name}) on {_day_text(day)} UTC."
    if marking is None:
        return f"No records - nothing in this view matched. {by}"
    return (
        f"{marking} - the most restrictive marking in this file. Handle every row as its own Marking "
        f"column says. {by}"
    )


def export_filename(marking: str | None, day: date, fmt: str) -> str:
    middle = file_safe_marking(marking) if marking else "no-records"
    return f"incidents-{middle}-{day.isoformat()}.{fmt}"


def export_incidents(
    session: Session,
    viewer: Viewer,
    query: RegisterQuery,
    fmt: str,
    reason: str,
    *,
    today: date | None = None,
    ip_address: str | None = None,
) -> Export:
    """The incidents of the query the viewer may see, as a CSV or XLSX file, recorded in the
    audit log (in the session's transaction) with the reason given."""
    fmt = (fmt if isinstance(fmt, str) else "").strip().lower()
    if fmt not in FORMATS:
        raise ExportError("Choose CSV or Excel (XLSX) for the export.", field="format")
    reason = " ".join((reason if isinstance(reason, str) else "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ExportError(REASON_MESSAGE, field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ExportError(f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer.", field="reason")
    if not viewer.is_partner:
        raise ExportError("Only partnership members can export incidents.")
    matched = count(session, viewer, query)
    if matched > EXPORT_ROW_LIMIT:
        raise ExportError(
            f"This view matches {matched:,} incidents; an export holds at most {EXPORT_ROW_LIMIT:,}. "
            "Narrow the filters (for example a shorter period, fewer districts or categories) and "
            "export again."
        )
    day = today or datetime.now(UTC).date()
    keys = [key for _, key in EXPORT_COLUMNS]
    table = [tuple(row[k] for k in keys) for row in iter_export_rows(session, viewer, query, EXPORT_ROW_LIMIT)]
    top = highest_marking(row[_MARKING_COLUMN] for row in table)
    marking = top.value if top else None
    banner = first_line(marking, viewer, day)
    content = _csv(banner, table) if fmt == "csv" else _xlsx(banner, table)
    filename = export_filename(marking, day, fmt)
    audit.record(
        session,
        "incidents exported",
        user_id=viewer.user_id,
        actor=viewer.email,
        record_type="export",
        record_id=filename,
        ip_address=ip_address,
        reason=reason,
        detail={
            "format": fmt,
            "rows": len(table),
            "highest_marking": marking,
            "filters": query.summary(),
            "search": query.search,
            "file_name": filename,
        },
    )
    return Export(filename, content, FORMATS[fmt], len(table), marking)


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return escape_cell(value)


def _csv(banner: str, table: list[tuple]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escape_cell(banner)])
    writer.writerow([heading for heading, _ in EXPORT_COLUMNS])
    for row in table:
        writer.writerow([_csv_value(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")  # the BOM tells Excel it is UTF-8


def _xlsx(banner: str, table: list[tuple]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Incidents")
    for index, (heading, _) in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _COLUMN_WIDTHS.get(heading, 14)

    def text_cell(value: str, bold: bool = False):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text, whatever it looks like
        if bold:
            cell.font = Font(bold=True)
        return cell

    def value(v):
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", escape_cell(v))
            return text_cell(v) if v in ERROR_CODES else v
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None)  # Excel keeps no time zone: UTC, as headed
        return v

    sheet.append([text_cell(escape_cell(banner), bold=True)])
    sheet.append([text_cell(heading, bold=True) for heading, _ in EXPORT_COLUMNS])
    for row in table:
        sheet.append([value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
