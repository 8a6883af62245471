"""Downloads of a national summary: its tables as CSV or Excel (XLSX), and a one-page PDF.

Every file holds only the summary's published figures (after disclosure control: 0, "<5",
"[c]" or a multiple of 5), so it says no more than the summaries page. Each carries the
summary's handling marking as text (the first line of the CSV, the first row of every sheet,
the top and bottom of the PDF), the period, the filters, the markings counted and the rules
applied. Text cells a spreadsheet would run as a formula are escaped as in the register's
exports. Every download is recorded in the audit log with the reason the person gave, in the
caller's transaction.

The CSV and the workbook are written from `summaries.to_dict`, the shape the API returns, so all
three give the same figures. The PDF is one A4 page: the district table would not fit, so it
shows the headline totals, the quarter-by-quarter totals, the totals by police force area or
region, the period totals by category or strand, the tension level distribution of the latest
quarter and the rules; the full tables are in the CSV and the workbook.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, date
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy.orm import Session

from . import audit
from . import summaries as summaries_domain
from .access import Viewer
from .briefing import HANDLING, TLP_COLOURS
from .documents import laid_out, template_environment
from .exports import (
    REASON_MAX_LENGTH,
    REASON_MESSAGE,
    REASON_MIN_LENGTH,
    ExportError,
    escape_cell,
    file_safe_marking,
)
from .geography import read_districts
from .reference import DEFAULT_CATEGORIES, Marking
from .summaries import BREAKDOWN_LABELS, GEOGRAPHY_LABELS, Breakdown, Geography, Summary

AUDIT_ACTION = "summary-exported"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
FORMAT_LABELS = {
    "csv": "CSV (the tables)",
    "xlsx": "Excel workbook (the tables)",
    "pdf": "PDF (one-page summary)",
}
FORMAT_MESSAGE = "Choose CSV, Excel workbook (XLSX) or PDF (one-page summary) for the download."
TOTAL_HEADING = "Total"
# Worksheet names by table key; any other table is named from its title.
SHEET_NAMES = {"by_quarter": "By quarter", "tension": "Tension levels"}
SHEET_NAME_LENGTH = 31  # Excel's limit
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# The PDF is tried at these text sizes (points), largest first, until it fits one page.
PDF_FONT_SIZES = (9.0, 8.25, 7.5, 6.75, 6.0, 5.25)


class SummaryExportError(ExportError):
    """The download cannot be made: `field` is the form field to point at ("reason" or
    "format") and the message says what to do."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field)
        self.message = message


@dataclass(frozen=True)
class SummaryFile:
    filename: str
    mimetype: str
    content: bytes


# --- what every file says about the summary ------------------------------------------------------


def _day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def handling_line(summary: Summary) -> str:
    """The marking and what it asks of the reader: the first line of every file."""
    try:
        handling = HANDLING[Marking(summary.marking)]
    except ValueError:
        handling = ""
    return f"{summary.marking} - {handling}".strip(" -")


def generated_text(summary: Summary) -> str:
    """"2026-11-24 10:00 UTC"."""
    moment = summary.generated_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def period_text(summary: Summary) -> str:
    """"1 October 2025 to 30 September 2026 (4 quarters, 2025Q4 to 2026Q3)"."""
    query = summary.query
    if query.quarters == 1:
        quarters = f"1 quarter, {query.to.code}"
    else:
        quarters = f"{query.quarters} quarters, {query.first.code} to {query.to.code}"
    return f"{_day_text(query.start)} to {_day_text(query.end)} ({quarters})"


def summary_filename(summary: Summary, fmt: str) -> str:
    """"national-summary-2025Q4-to-2026Q3-TLP-GREEN.csv"."""
    query = summary.query
    return f"national-summary-{query.first.code}-to-{query.to.code}-{file_safe_marking(summary.marking)}.{fmt}"


@lru_cache(maxsize=1)
def _district_names() -> dict[str, str]:
    return {row["code"]: row["name"] for row in read_districts()}


def _category_names(summary: Summary) -> dict[str, str]:
    names = dict(DEFAULT_CATEGORIES)
    if summary.query.breakdown == Breakdown.CATEGORY:
        for table in summary.tables:
            if table.key != "tension":
                names.update(dict(table.columns))
    return names


def _listed(codes: tuple[str, ...], names: dict[str, str]) -> str:
    return "; ".join(f"{names[c]} ({c})" if c in names else c for c in codes)


def filter_lines(summary: Summary) -> list[tuple[str, str]]:
    """(what, chosen) for each filter, in words."""
    query = summary.query
    districts = _district_names()
    areas = _listed(query.areas, districts) if query.areas else f"All {len(districts)} districts"
    categories = _listed(query.categories, _category_names(summary)) if query.categories else "All categories"
    return [
        ("Areas shown by", GEOGRAPHY_LABELS[Geography(query.geography)]),
        ("Broken down by", BREAKDOWN_LABELS[Breakdown(query.breakdown)]),
        ("Districts", areas),
        ("Categories", categories),
    ]


def header_lines(summary: Summary, data: dict) -> list[tuple[str, str]]:
    """The block at the top of the CSV and the workbook's Notes sheet (after the marking)."""
    lines = [("Title", data["title"]), ("Period", period_text(summary))]
    lines += filter_lines(summary)
    lines.append(("Records counted", "Only records marked " + " and ".join(summary.markings_counted)))
    lines += [("Rule applied", rule) for rule in summary.rules]
    lines.append(("Generated at (UTC)", generated_text(summary)))
    return lines


def _table_dicts(summary: Summary, data: dict) -> list[dict]:
    """The tables of `to_dict`, each with the heading of its totals column ("Total", or
    "Districts" for the tension levels)."""
    labels = {t.key: t.total_label for t in summary.tables}
    return [{**t, "total_label": labels.get(t["key"], TOTAL_HEADING)} for t in data["tables"]]


def _heading_row(table: dict) -> list[str]:
    headings = [table["row_heading"], *(c["label"] for c in table["columns"])]
    if _has_row_totals(table):
        headings.append(table["total_label"])
    return headings


def _has_row_totals(table: dict) -> bool:
    return any(row["total"] is not None for row in table["rows"])


def _body_rows(table: dict) -> list[list]:
    """The table's rows then its totals row (where it has one), cells exactly as published."""
    with_totals = _has_row_totals(table)
    rows = []
    for row in table["rows"]:
        rows.append([row["label"], *row["values"], *([row["total"]] if with_totals else [])])
    totals = table["totals"]
    if totals["values"] is not None:
        rows.append([TOTAL_HEADING, *totals["values"], *([totals["total"]] if with_totals else [])])
    return rows


def _table_texts(table: dict) -> list[str]:
    """Title, description, note (when there is one) and the one-sentence summary."""
    return [t for t in (table["title"], table["description"], table["note"], table["summary"]) if t]


# --- CSV ---------------------------------------------------------------------------------------


def csv_bytes(summary: Summary) -> bytes:
    """The summary's tables as one CSV file (UTF-8 with a byte-order mark, as the register's
    exports, so Excel reads it as UTF-8)."""
    data = summaries_domain.to_dict(summary)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escape_cell(handling_line(summary))])
    for what, value in header_lines(summary, data):
        writer.writerow([what, escape_cell(value)])
    for table in _table_dicts(summary, data):
        writer.writerow([])
        for text in _table_texts(table):
            writer.writerow([escape_cell(text)])
        writer.writerow([escape_cell(h) for h in _heading_row(table)])
        for row in _body_rows(table):
            writer.writerow([escape_cell(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


# --- XLSX --------------------------------------------------------------------------------------


def sheet_name(text: str, taken: set[str]) -> str:
    """A valid, unique worksheet name: no []:*?/\\, not starting or ending with an apostrophe,
    at most 31 characters."""
    name = " ".join(_SHEET_NAME_FORBIDDEN.sub(" ", text).split()).strip("'") or "Table"
    name = name[:SHEET_NAME_LENGTH].rstrip()
    candidate, n = name, 2
    while candidate.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        candidate = name[: SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix
        n += 1
    taken.add(candidate)
    return candidate


def _table_sheet_name(table: dict, taken: set[str]) -> str:
    base = SHEET_NAMES.get(table["key"])
    if base is None:
        base = f"By {table['row_heading'].lower()}" if table["key"] == "by_area" else table["title"]
    return sheet_name(base, taken)


def xlsx_bytes(summary: Summary) -> bytes:
    """The summary as an Excel workbook: a Notes sheet (marking, period, filters, rules), then
    one sheet per table. Counts are numbers; "<5" and "[c]" are text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    data = summaries_domain.to_dict(summary)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(sheet, row: int, column: int, value, *, font=None, alignment=None):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", escape_cell(value))
            cell.data_type = "s"  # text, whatever it looks like ("<5", "[c]", a label)
        else:
            cell.value = value
        if font:
            cell.font = font
        if alignment:
            cell.alignment = alignment
        return cell

    book = Workbook()
    book.properties.title = f"{summary.marking} {data['title']}"
    book.properties.creator = "Midlands Partnership Dashboard"
    notes = book.active
    notes.title = "Notes"
    taken = {"Notes"}
    put(notes, 1, 1, handling_line(summary), font=bold)
    for index, (what, value) in enumerate(header_lines(summary, data), start=2):
        put(notes, index, 1, what, font=bold, alignment=wrap)
        put(notes, index, 2, value, alignment=wrap)
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100

    for table in _table_dicts(summary, data):
        sheet = book.create_sheet(_table_sheet_name(table, taken))
        put(sheet, 1, 1, handling_line(summary), font=bold)
        row_number = 2
        for text in _table_texts(table):
            put(sheet, row_number, 1, text, font=bold if row_number == 2 else None)
            row_number += 1
        row_number += 1  # a blank row before the table
        headings = _heading_row(table)
        for column, heading in enumerate(headings, start=1):
            put(sheet, row_number, column, heading, font=bold, alignment=wrap)
        sheet.freeze_panes = sheet.cell(row=row_number + 1, column=2)
        body = _body_rows(table)
        for offset, values in enumerate(body, start=1):
            totals_row = table["totals"]["values"] is not None and offset == len(body)
            for column, value in enumerate(values, start=1):
                put(sheet, row_number + offset, column, value, font=bold if totals_row else None)
        labels = [headings[0]] + [row[0] for row in body]
        sheet.column_dimensions["A"].width = min(45, max(12, max(len(str(t)) for t in labels) + 2))
        for column, heading in enumerate(headings[1:], start=2):
            sheet.column_dimensions[get_column_letter(column)].width = min(22, max(10, len(heading) // 2 + 3))

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfTable:
    """A small table for the one-page summary, cells as published."""

    id: str
    caption: str
    row_heading: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, tuple], ...]  # (label, cells)
    totals: tuple | None  # the cells of the totals row
    wide: bool  # takes the page's full width
    note: str = ""


def _short(label: str) -> str:
    """A column heading for the narrow page: "Race (incl. colour, ...)" -> "Race"."""
    return label.split(" (")[0]


def _cell_text(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _totals_table(table: dict, *, panel_id: str, caption: str, note: str = "") -> PdfTable:
    """`table` shortened for the page: with row totals, one Total column; without (strands), a
    column each."""
    if _has_row_totals(table):
        headings = (TOTAL_HEADING,)
        rows = tuple((r["label"], (r["total"],)) for r in table["rows"])
        totals = (table["totals"]["total"],) if table["totals"]["total"] is not None else None
    else:
        headings = tuple(_short(c["label"]) for c in table["columns"])
        rows = tuple((r["label"], tuple(r["values"])) for r in table["rows"])
        totals = tuple(table["totals"]["values"]) if table["totals"]["values"] is not None else None
    return PdfTable(panel_id, caption, table["row_heading"], headings, rows, totals, wide=len(headings) > 2,
                    note=note)


def _period_totals_table(by_quarter: dict, breakdown_label: str) -> PdfTable | None:
    """The period's totals by category or strand (the quarter table's totals row, turned)."""
    totals = by_quarter["totals"]
    if totals["values"] is None:
        return None
    rows = tuple((c["label"], (v,)) for c, v in zip(by_quarter["columns"], totals["values"], strict=True))
    grand = (totals["total"],) if totals["total"] is not None else None
    return PdfTable("summary-pdf-breakdown", f"By {breakdown_label.lower()}, the whole period",
                    breakdown_label, ("Incidents",), rows, grand, wide=False,
                    note=by_quarter["note"])


def _tension_table(tension: dict) -> PdfTable | None:
    if not tension["rows"]:
        return None
    latest = tension["rows"][-1]
    rows = tuple((c["label"], (v,)) for c, v in zip(tension["columns"], latest["values"], strict=True))
    total = (latest["total"],) if latest["total"] is not None else None
    return PdfTable("summary-pdf-tension", f"Tension levels at the end of {latest['label']}", "Tension level",
                    ("Districts",), rows, total, wide=False)  # its note is among the rules


def _headline(data: dict) -> list[tuple[str, str]]:
    """(published figure, what it is) for the figure cards."""
    tables = {t["key"]: t for t in data["tables"]}
    cards = []
    by_quarter = tables.get("by_quarter")
    if by_quarter and by_quarter["totals"]["total"] is not None:
        cards.append((_cell_text(by_quarter["totals"]["total"]), "incidents counted in the period"))
    if by_quarter and by_quarter["rows"] and by_quarter["rows"][-1]["total"] is not None:
        latest = by_quarter["rows"][-1]
        cards.append((_cell_text(latest["total"]), f"incidents in the latest quarter, {latest['label']}"))
    tension = tables.get("tension")
    if tension and tension["rows"] and tension["rows"][-1]["total"] is not None:
        cards.append((_cell_text(tension["rows"][-1]["total"]), "districts covered"))
    return cards


def _css_string(text: str) -> str:
    """A CSS string literal for the @page margin boxes: every character but letters, digits
    and plain punctuation escaped."""
    out = []
    for ch in text:
        out.append(ch if ch.isalnum() or ch in " .,:;()+-/'?!" else f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


@lru_cache(maxsize=1)
def _environment():
    return template_environment({
        "cell": _cell_text,
    })


def render_html(summary: Summary, areas: Summary | None = None, *, font_size: float = PDF_FONT_SIZES[0]) -> str:
    """The one-page summary as a self-contained HTML document (nothing fetched).

    `areas` is the same query at police force area level, for a summary by district (whose own
    table is too long for the page); without it the page says where the district figures are."""
    data = summaries_domain.to_dict(summary)
    tables = {t["key"]: t for t in data["tables"]}
    geography = Geography(summary.query.geography)
    breakdown_label = BREAKDOWN_LABELS[Breakdown(summary.query.breakdown)]
    panels: list[PdfTable] = []
    notes_given: set[str] = set()

    def once(note: str) -> str:
        """A note is printed under the first table it applies to only."""
        if note in notes_given:
            return ""
        notes_given.add(note)
        return note

    by_quarter = tables.get("by_quarter")
    if by_quarter:
        note = by_quarter["note"] if not _has_row_totals(by_quarter) else ""
        panels.append(_totals_table(by_quarter, panel_id="summary-pdf-quarters", caption="Quarter by quarter",
                                    note=once(note)))
    area_data = None
    if geography != Geography.DISTRICT:
        area_data = tables.get("by_area")
    elif areas is not None:
        area_data = {t["key"]: t for t in summaries_domain.to_dict(areas)["tables"]}.get("by_area")
    if area_data:
        note = area_data["note"] if not _has_row_totals(area_data) else ""
        panels.append(_totals_table(area_data, panel_id="summary-pdf-areas",
                                    caption=f"By {area_data['row_heading'].lower()}, the whole period",
                                    note=once(note)))
    if by_quarter and _has_row_totals(by_quarter):
        period = _period_totals_table(by_quarter, breakdown_label)
        if period:
            panels.append(period)
    if tables.get("tension"):
        tension = _tension_table(tables["tension"])
        if tension:
            panels.append(tension)
    wide = [p for p in panels if p.wide]
    columns: tuple[list[PdfTable], list[PdfTable]] = ([], [])
    for panel in (p for p in panels if not p.wide):
        # Two columns of about equal length, so the page holds as much as it can.
        min(columns, key=lambda c: sum(len(p.rows) + 3 for p in c)).append(panel)
    marking = summary.marking
    try:
        tlp_colour = TLP_COLOURS[Marking(marking)]
    except ValueError:
        tlp_colour = "#FFFFFF"
    return _environment().get_template("summary.html").render(
        data=data,
        marking=marking,
        page_top=Markup(_css_string(handling_line(summary))),  # noqa: S704 - escaped by _css_string
        page_bottom=Markup(_css_string(f"{marking} - generated {generated_text(summary)}")),  # noqa: S704
        tlp_colour=tlp_colour,
        period=period_text(summary),
        filters=filter_lines(summary),
        markings_counted=" and ".join(summary.markings_counted),
        generated=generated_text(summary),
        headline=_headline(data),
        sentences=[t["summary"] for t in data["tables"] if t["summary"]],
        wide_panels=wide,
        columns=[c for c in columns if c],
        district_note=(geography == Geography.DISTRICT and area_data is None),
        rules=list(summary.rules),
        font_size=font_size,
    )



def pdf_bytes(summary: Summary, areas: Summary | None = None) -> bytes:
    """The one-page summary as a tagged A4 PDF, through WeasyPrint with no network access. The
    text is made smaller, step by step, until the page holds everything (a long period, many
    categories). `areas`: as for `render_html`."""
    document = None
    for size in PDF_FONT_SIZES:
        document = laid_out(render_html(summary, areas, font_size=size))
        if len(document.pages) == 1:
            break
    return document.write_pdf(pdf_tags=True)  # tagged, so screen readers get headings and tables


# --- the download ------------------------------------------------------------------------------


def check_reason(reason: str | None) -> str:
    """The reason, whitespace tidied, or SummaryExportError(field="reason") (the register's
    export rules and message)."""
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise SummaryExportError(REASON_MESSAGE, field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise SummaryExportError(f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer.", field="reason")
    return reason


def export_summary(
    session: Session,
    viewer: Viewer,
    summary: Summary,
    fmt: str,
    reason: str,
    ip_address: str | None = None,
) -> SummaryFile:
    """The summary as a CSV, XLSX or PDF file, recorded in the audit log ("summary-exported",
    in the session's transaction) with the reason given.

    PermissionError for anyone who may not view summaries; SummaryExportError naming the field
    for an unknown format or a missing, short or overlong reason (nothing is recorded then)."""
    if not summaries_domain.may_view(viewer):
        raise PermissionError("You do not have access to the national summaries.")
    fmt = (fmt or "").strip().lower()
    if fmt not in FORMATS:
        raise SummaryExportError(FORMAT_MESSAGE, field="format")
    reason = check_reason(reason)
    if fmt == "csv":
        content = csv_bytes(summary)
    elif fmt == "xlsx":
        content = xlsx_bytes(summary)
    else:
        areas = None
        if Geography(summary.query.geography) == Geography.DISTRICT:
            # The page has room for the police force areas, not the districts.
            areas_query = replace(summary.query, geography=Geography.POLICE_FORCE_AREA)
            areas = summaries_domain.build(session, viewer, areas_query)
        content = pdf_bytes(summary, areas)
    filename = summary_filename(summary, fmt)
    audit.record(
        session,
        AUDIT_ACTION,
        user_id=viewer.user_id,
        actor=viewer.email,
        record_type="summary",
        record_id=filename,
        ip_address=ip_address,
        reason=reason,
        detail={"format": fmt, "query": summary.query.params(), "file": filename, "bytes": len(content)},
    )
    return SummaryFile(filename, FORMATS[fmt], content)

