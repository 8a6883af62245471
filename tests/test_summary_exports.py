"""Downloads of the national summary: the CSV, the workbook and the one-page PDF hold exactly the
published figures (after disclosure control) with the marking, period, filters and rules; text a
spreadsheet would run as a formula is escaped; no TLP:AMBER or TLP:RED record changes a byte;
every download is in the audit log with its reason, and a bad request is refused naming the field
with nothing recorded."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from dashboard import summaries, summary_exports
from dashboard.access import Viewer
from dashboard.exports import REASON_MESSAGE
from dashboard.models import AuditEvent, IncidentCategory, Strand, TensionAssessment, User
from dashboard.reference import Marking
from tests.conftest import add_incident, pdf_tags

TODAY = date(2026, 11, 24)  # the default period: 2025Q4 to 2026Q3
REASON = "Quarterly national policy briefing"
BIRMINGHAM, COVENTRY, DERBY = "E08000025", "E08000026", "E06000015"
FORMULA_LABEL = "=SUM(A1:A9)"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


@pytest.fixture
def records(db, people):
    """TLP:GREEN and TLP:CLEAR incidents in three quarters and two police force areas (counts
    that round without hiding anything), one category whose label a spreadsheet would run as a
    formula, and one tension assessment (so the tension table has a "<5" and a "[c]")."""
    with db.session() as s:
        s.add(IncidentCategory(code="formula", label=FORMULA_LABEL, sort_order=99, active=True))
        s.flush()
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        race = s.scalars(select(Strand).where(Strand.code == "race")).one()
        for _ in range(12):  # Jul to Sep 2026: 12 + 6 = 18, shown as 20
            incident = add_incident(s, pat, Marking.GREEN, day=date(2026, 8, 10), area=BIRMINGHAM,
                                    category="literature")
            incident.strands = [race]
        for _ in range(6):
            add_incident(s, cora, Marking.CLEAR, day=date(2026, 9, 1), area=BIRMINGHAM, category="formula")
        for _ in range(10):  # Jan to Mar 2026
            add_incident(s, cora, Marking.GREEN, day=date(2026, 2, 1), area=COVENTRY, category="stickers")
        for _ in range(8):  # Oct to Dec 2025, in Derbyshire
            add_incident(s, pat, Marking.GREEN, day=date(2025, 11, 3), area=DERBY, category="online")
        s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=date(2026, 9, 15), level=4,
                                source_org_id=pat.organisation_id, reporter_id=pat.id, marking=Marking.GREEN))
    return people


def build(db, user, **params):
    with db.session() as s:
        query = summaries.query_from_params(params, TODAY)
        return summaries.build(s, viewer(s, user), query)


def download(db, user, summary, fmt, reason=REASON):
    with db.session() as s:
        return summary_exports.export_summary(s, viewer(s, user), summary, fmt, reason, ip_address="10.3.3.3")


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8, as the register's exports
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def shown(value) -> str:
    """A published CELL as the CSV writes it."""
    return str(value)


def expected_table_rows(table: dict, total_label: str) -> list[list[str]]:
    """The heading row, the rows and the totals row of a `to_dict` table, as CSV text."""
    with_totals = any(r["total"] is not None for r in table["rows"])
    rows = [[table["row_heading"], *(c["label"] for c in table["columns"]), *([total_label] if with_totals else [])]]
    for r in table["rows"]:
        rows.append([r["label"], *map(shown, r["values"]), *([shown(r["total"])] if with_totals else [])])
    if table["totals"]["values"] is not None:
        rows.append(["Total", *map(shown, table["totals"]["values"]),
                     *([shown(table["totals"]["total"])] if with_totals else [])])
    return [[summary_exports.escape_cell(v) for v in row] for row in rows]


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def marking_heights(content: bytes) -> list[float]:
    """Where on the first page (0 bottom, 1 top) each text starting with the marking is."""
    page = PdfReader(io.BytesIO(content)).pages[0]
    height = float(page.mediabox.height)
    found = []

    def visit(text, cm, tm, _font, _size):
        if text.strip().startswith("TLP:GREEN"):
            found.append((cm[5] + tm[5] * cm[3]) / height)

    page.extract_text(visitor_text=visit)
    return found


# --- CSV -----------------------------------------------------------------------------------------


def test_sexp001_csv_holds_the_header_block_and_every_table_as_published(db, records):
    summary = build(db, records.sci)
    data = summaries.to_dict(summary)
    result = download(db, records.sci, summary, "csv")
    assert result.filename == "national-summary-2025Q4-to-2026Q3-TLP-GREEN.csv"
    assert result.mimetype == "text/csv; charset=utf-8"
    rows = csv_rows(result.content)
    assert rows[0][0].startswith("TLP:GREEN - ")  # the marking, as text, on the first line
    header = {}
    for row in rows[1:]:
        if not row:
            break
        header.setdefault(row[0], []).append(row[1])
    assert header["Title"] == [data["title"]]
    assert header["Period"] == ["1 October 2025 to 30 September 2026 (4 quarters, 2025Q4 to 2026Q3)"]
    assert header["Areas shown by"] == ["District"] and header["Broken down by"] == ["Category"]
    assert header["Districts"] == ["All 65 districts"] and header["Categories"] == ["All categories"]
    assert header["Records counted"] == ["Only records marked TLP:CLEAR and TLP:GREEN"]
    assert header["Rule applied"] == list(summary.rules)
    assert header["Generated at (UTC)"] == [summary.generated_at.strftime("%Y-%m-%d %H:%M UTC")]

    text_rows = [r for r in rows if r]
    for table, source in zip(data["tables"], summary.tables, strict=True):
        start = text_rows.index([summary_exports.escape_cell(table["title"])])
        texts = [t for t in (table["description"], table["note"], table["summary"]) if t]
        assert text_rows[start + 1:start + 1 + len(texts)] == [[t] for t in texts]
        expected = expected_table_rows(table, source.total_label)
        body_start = start + 1 + len(texts)
        assert text_rows[body_start:body_start + len(expected)] == expected
    # The figures are the published ones: 12 + 6 incidents in Jul to Sep 2026 show as 20, the
    # period's 36 as 35; one district at level 4 as "<5", and so the other 64 as "[c]".
    assert ["Jul to Sep 2026", "10", *["0"] * 11, "5", "20"] in text_rows
    assert ["Birmingham", "10", *["0"] * 11, "5", "20"] in text_rows
    assert ["Total", "10", "10", "0", "0", "10", *["0"] * 7, "5", "35"] in text_rows
    assert ["Jul to Sep 2026", "0", "0", "0", "<5", "0", "[c]", "65"] in text_rows


def test_sexp002_a_label_a_spreadsheet_would_run_is_escaped_in_csv_and_xlsx(db, records):
    summary = build(db, records.sci)
    rows = csv_rows(download(db, records.sci, summary, "csv").content)
    headings = [r for r in rows if r and r[0] == "District"][0]
    assert "'" + FORMULA_LABEL in headings and FORMULA_LABEL not in headings
    book = load_workbook(io.BytesIO(download(db, records.sci, summary, "xlsx").content))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)  # no formula anywhere
    escaped = [c for c in cells if c.value == "'" + FORMULA_LABEL]
    assert escaped and all(c.data_type == "s" for c in escaped)


def test_sexp003_no_amber_or_red_record_changes_a_byte_of_the_csv(db, records):
    def without_generated_at(content: bytes) -> list[str]:
        return [line for line in content.decode("utf-8-sig").split("\r\n") if not line.startswith("Generated at")]

    before = download(db, records.sci, build(db, records.sci), "csv").content
    with db.session() as s:
        pat = s.get(User, records.police_member.id)
        cora = s.get(User, records.council_member.id)
        for marking in (Marking.AMBER, Marking.AMBER_STRICT, Marking.RED):
            for _ in range(4):
                add_incident(s, pat, marking, day=date(2026, 8, 11), area=BIRMINGHAM, category="literature",
                             recipients=[cora] if marking is Marking.RED else (),
                             listed=[cora.organisation] if marking is Marking.AMBER else ())
                add_incident(s, pat, marking, day=date(2026, 1, 5), area=COVENTRY, category="formula")
            s.add(TensionAssessment(area_code=COVENTRY, assessed_on=date(2026, 9, 20), level=5,
                                    source_org_id=pat.organisation_id, reporter_id=pat.id, marking=marking))
    after = download(db, records.sci, build(db, records.sci), "csv").content
    assert without_generated_at(after) == without_generated_at(before)
    # and a partner who may see those records gets the same file: figures are the national ones
    partner = download(db, records.police_member, build(db, records.police_member), "csv").content
    assert without_generated_at(partner) == without_generated_at(before)


# --- XLSX ----------------------------------------------------------------------------------------


def test_sexp004_workbook_has_notes_then_a_sheet_per_table_with_numbers_as_numbers(db, records):
    summary = build(db, records.sci, breakdown="strand")
    data = summaries.to_dict(summary)
    result = download(db, records.sci, summary, "xlsx")
    assert result.filename == "national-summary-2025Q4-to-2026Q3-TLP-GREEN.xlsx"
    assert result.mimetype == summary_exports.FORMATS["xlsx"]
    book = load_workbook(io.BytesIO(result.content))
    assert book.sheetnames == ["Notes", "By district", "By quarter", "Tension levels"]
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(min_row=2, values_only=True)}
    assert notes["Period"] == "1 October 2025 to 30 September 2026 (4 quarters, 2025Q4 to 2026Q3)"
    assert notes["Broken down by"] == "Hate-crime strand"
    assert [r[1] for r in book["Notes"].iter_rows(values_only=True) if r[0] == "Rule applied"] == list(summary.rules)
    for sheet in book.worksheets:
        assert sheet["A1"].value.startswith("TLP:GREEN - ") and sheet["A1"].font.b
    for table, source, sheet in zip(data["tables"], summary.tables, book.worksheets[1:], strict=True):
        rows = list(sheet.iter_rows())
        heading_at = next(i for i, r in enumerate(rows) if r[0].value == table["row_heading"])
        assert sheet.freeze_panes == f"B{heading_at + 2}"  # headings and labels stay in view
        assert all(c.font.b for c in rows[heading_at] if c.value is not None)
        values = [[c.value for c in r] for r in rows[heading_at:]]
        expected = expected_table_rows(table, source.total_label)
        assert [[v for v in row if v is not None] for row in values] == [
            [int(v) if v.isdigit() else v for v in row] for row in expected
        ]
        for r in rows[heading_at + 1:]:
            for c in r[1:]:
                if isinstance(c.value, int):
                    assert c.data_type == "n"
                elif c.value is not None:
                    assert c.value in ("<5", "[c]") and c.data_type == "s"
        assert sheet.column_dimensions["A"].width >= 12


def test_sexp005_sheet_names_are_valid_and_unique():
    taken = {"Notes"}
    assert summary_exports.sheet_name("By police force area", taken) == "By police force area"
    long = summary_exports.sheet_name("Incidents: by [district]/category? * and more words", taken)
    assert len(long) <= 31 and not set(long) & set("[]:*?/\\")
    again = summary_exports.sheet_name("Incidents: by [district]/category? * and more words", taken)
    assert again != long and len(again) <= 31
    assert summary_exports.sheet_name("notes", taken) == "notes (2)"


# --- PDF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("geography", ["district", "region"])
def test_sexp006_pdf_is_one_page_with_the_marking_period_and_published_totals(db, records, geography):
    summary = build(db, records.sci, geography=geography)
    data = summaries.to_dict(summary)
    result = download(db, records.sci, summary, "pdf")
    assert result.content.startswith(b"%PDF")
    assert result.filename == "national-summary-2025Q4-to-2026Q3-TLP-GREEN.pdf"
    assert result.mimetype == "application/pdf"
    pages, text = pdf_text(result.content)
    assert pages == 1
    # the marking as text at the top and at the bottom of the page
    assert "TLP:GREEN - Within the partnership only: not for publication." in text
    assert summary.generated_at.strftime("TLP:GREEN - generated %Y-%m-%d %H:%M UTC") in text
    heights = marking_heights(result.content)
    assert max(heights) > 0.95 and min(heights) < 0.05
    assert "1 October 2025 to 30 September 2026" in text
    by_quarter = {t["key"]: t for t in data["tables"]}["by_quarter"]
    assert "Jul to Sep 2026 20" in text and by_quarter["rows"][-1]["total"] == 20
    assert f"{by_quarter['totals']['total']} incidents counted in the period" in text
    assert "Literature and leaflets 10" in text and f"{FORMULA_LABEL} 5" in text  # 12 and 6, rounded
    # the areas: police force areas for a summary by district (whose table would not fit)
    if geography == "district":
        assert "West Midlands Police 30" in text and "Derbyshire Constabulary 10" in text
        assert "Amber Valley" not in text
    else:
        assert "West Midlands 30" in text and "East Midlands 10" in text
    assert "Tension levels at the end of Jul to Sep 2026" in text and "4 High <5" in text
    for rule in summary.rules[:3]:
        assert rule in text


def test_sexp006b_the_pdf_is_tagged_so_a_screen_reader_finds_its_headings_and_tables(db, records):
    summary = build(db, records.sci, geography="region")
    html = summary_exports.render_html(summary)
    tags = pdf_tags(summary_exports.pdf_bytes(summary))
    assert tags.marked and tags.lang == "en-GB" and tags.shows_title
    assert tags.title == f"TLP:GREEN {summaries.to_dict(summary)['title']}"
    kinds = [kind for kind, _alt in tags.elements]
    assert kinds.count("/H1") == 1 and kinds.index("/H1") < kinds.index("/H2")
    assert kinds.count("/H2") == html.count("<h2")
    assert kinds.count("/Table") == html.count("<table") and kinds.count("/Caption") == html.count("<caption")
    assert kinds.count("/TH") == len(re.findall(r"<th[ >]", html))  # column and row headers


def test_sexp007_pdf_of_a_long_period_by_strand_still_fits_one_page(db, records):
    summary = build(db, records.sci, quarters="20", breakdown="strand", geography="police-force-area")
    pages, text = pdf_text(summary_exports.pdf_bytes(summary))
    assert pages == 1
    assert "Oct to Dec 2021" in text and "Jul to Sep 2026" in text and "TLP:GREEN" in text
    html = summary_exports.render_html(summary)
    assert not any(ref in html for ref in ("src=", "href=", "url(", "@import", "<link"))  # nothing to fetch


# --- the download ------------------------------------------------------------------------------


def test_sexp008_each_download_is_audited_with_reason_format_and_query(db, records):
    summary = build(db, records.sci, geography="region", category=["formula", "literature"])
    result = download(db, records.sci, summary, "xlsx", reason="  For the   national policy briefing ")
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "summary-exported")).one()
        assert event.user_id == records.sci.id and event.record_type == "summary"
        assert event.reason == "For the national policy briefing"
        assert event.ip_address == "10.3.3.3"
        assert event.detail == {
            "format": "xlsx",
            "query": {"to": "2026Q3", "geography": "region", "category": ["formula", "literature"]},
            "file": result.filename,
            "bytes": len(result.content),
        }
    notes = {r[0]: r[1] for r in load_workbook(io.BytesIO(result.content))["Notes"].iter_rows(values_only=True)}
    assert notes["Categories"] == "'=SUM(A1:A9) (formula); Literature and leaflets (literature)"


@pytest.mark.parametrize(
    ("fmt", "reason", "field", "message"),
    [
        ("csv", "", "reason", REASON_MESSAGE),
        ("csv", None, "reason", REASON_MESSAGE),
        ("pdf", "too short", "reason", REASON_MESSAGE),
        ("xlsx", "x" * 1001, "reason", "Keep the reason to 1,000 characters or fewer."),
        ("docx", REASON, "format", summary_exports.FORMAT_MESSAGE),
        ("", REASON, "format", summary_exports.FORMAT_MESSAGE),
    ],
)
def test_sexp009_a_bad_request_is_refused_naming_the_field_and_nothing_is_audited(
    db, records, fmt, reason, field, message
):
    summary = build(db, records.sci)
    with db.session() as s:
        with pytest.raises(summary_exports.SummaryExportError) as error:
            summary_exports.export_summary(s, viewer(s, records.sci), summary, fmt, reason)
        assert error.value.field == field and str(error.value) == message
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_sexp010_someone_who_may_not_view_summaries_gets_nothing(db, records):
    summary = build(db, records.sci)
    with db.session() as s:
        inactive = replace(viewer(s, records.sci), active=False)
        with pytest.raises(PermissionError):
            summary_exports.export_summary(s, inactive, summary, "csv", REASON)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
