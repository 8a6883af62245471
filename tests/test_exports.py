"""Exports of the register's view: only what the viewer may see, cells a spreadsheet would run as
formulas escaped (numbers left as numbers), the most restrictive marking in the file name and on
the first line, and every export in the audit log with the reason given."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from dashboard import exports
from dashboard.access import RecordFilters, Viewer
from dashboard.models import AuditEvent, Incident, Strand, User
from dashboard.reference import Marking
from dashboard.register import RegisterQuery
from tests.conftest import add_incident

TODAY = date(2026, 11, 24)
REASON = "Briefing pack for the quarterly meeting"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


@pytest.fixture
def records(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        evil = add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 20),
                            title='=HYPERLINK("http://evil.example","Click me")')
        evil.description = "+44 7700 900000 called; -5 degrees\n@mention\tand more"
        evil.latitude, evil.longitude, evil.location_precision = 52.48123, -1.89, "exact"
        evil.severity = 3
        evil.strands = list(s.scalars(select(Strand).where(Strand.code.in_(["race", "religion"]))))
        add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 11, 18), title="Police eyes only")
        add_incident(s, pat, Marking.CLEAR, day=date(2026, 11, 10), title="Public march")
        add_incident(s, pat, Marking.RED, day=date(2026, 11, 5), title="Named source", recipients=[cora])
        add_incident(s, cora, Marking.GREEN, day=date(2025, 1, 5), title="Last year")
    return people


def export(db, user, fmt="csv", query=None, reason=REASON, **kw):
    with db.session() as s:
        return exports.export_incidents(s, viewer(s, user), query or RegisterQuery(), fmt, reason,
                                        today=TODAY, ip_address="10.2.2.2", **kw)


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_exp001_csv_holds_what_the_viewer_may_see_with_cells_escaped(db, records):
    result = export(db, records.police_member)
    assert result.filename == "incidents-TLP-RED-2026-11-24.csv"
    assert result.media_type.startswith("text/csv") and result.rows == 5
    table = csv_rows(result.content)
    assert table[0] == ["TLP:RED - the most restrictive marking in this file. Handle every row as its own Marking "
                        "column says. Exported by Pat Police (Test Police) on 24 November 2026 UTC."]
    assert table[1] == [h for h, _ in exports.EXPORT_COLUMNS]
    assert table[1][:3] == ["Ref", "Date", "Date precision"] and table[1][-1] == "Logged at (UTC)"
    body = {r[7]: dict(zip(table[1], r, strict=True)) for r in table[2:]}
    assert len(body) == 5
    evil = body["'=HYPERLINK(\"http://evil.example\",\"Click me\")"]
    assert evil["Description"] == "'+44 7700 900000 called; -5 degrees\n@mention\tand more"
    assert evil["Longitude"] == "-1.89" and evil["Latitude"] == "52.48123"  # numbers are not escaped
    assert evil["Severity"] == "3" and evil["Corroborated by"] == "0"
    assert evil["Date"] == "2026-11-20" and evil["District"] == "Birmingham" and evil["District code"] == "E08000025"
    assert evil["Strands"] == "Race (incl. colour, nationality, ethnic or national origin); Religion (incl. no faith)"
    assert evil["Marking"] == "TLP:GREEN" and evil["Reported by (organisation)"] == "Test Council"
    assert evil["Reporter"] == "Cora Council" and evil["Location precision"] == "Exact"
    assert len(evil["Logged at (UTC)"]) == 19
    assert [r[1] for r in table[2:]] == sorted((r[1] for r in table[2:]), reverse=True)  # newest first


def test_exp002_the_marking_in_name_and_first_line_follows_what_each_viewer_may_see(db, records):
    police = export(db, records.police_member2)  # police colleague: AMBER+STRICT yes, RED not named
    assert police.filename == "incidents-TLP-AMBER-STRICT-2026-11-24.csv"
    assert police.highest_marking == "TLP:AMBER+STRICT"
    assert csv_rows(police.content)[0][0].startswith("TLP:AMBER+STRICT - the most restrictive marking")
    assert "Police eyes only" in police.content.decode("utf-8-sig")
    view = RecordFilters(start=date(2026, 11, 6), end=date(2026, 11, 30))  # the same view for the council
    police_view = export(db, records.police_member2, query=RegisterQuery(filters=view))
    council_view = export(db, records.council_member, query=RegisterQuery(filters=view))
    assert police_view.filename == "incidents-TLP-AMBER-STRICT-2026-11-24.csv" and police_view.rows == 3
    assert council_view.filename == "incidents-TLP-GREEN-2026-11-24.csv" and council_view.rows == 2
    text = council_view.content.decode("utf-8-sig")
    assert text.startswith("TLP:GREEN - the most restrictive marking in this file.")
    assert "Police eyes only" not in text and "Named source" not in text
    assert "Exported by Cora Council (Test Council)" in text


def test_exp003_xlsx_keeps_text_as_text_and_numbers_as_numbers(db, records):
    result = export(db, records.council_member, fmt="xlsx")
    assert result.filename == "incidents-TLP-RED-2026-11-24.xlsx"  # Cora is named on the RED record
    assert result.media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(result.content))["Incidents"]
    rows = list(sheet.iter_rows())
    assert rows[0][0].value.startswith("TLP:RED - the most restrictive marking in this file.")
    assert [c.value for c in rows[1]] == [h for h, _ in exports.EXPORT_COLUMNS]
    headings = [c.value for c in rows[1]]
    evil = next(dict(zip(headings, r, strict=True)) for r in rows[2:] if "HYPERLINK" in str(r[7].value))
    assert evil["Title"].data_type == "s" and evil["Title"].value.startswith("'=HYPERLINK")
    assert evil["Description"].value.startswith("'+44")
    assert evil["Longitude"].data_type == "n" and evil["Longitude"].value == -1.89
    assert evil["Ref"].data_type == "n" and evil["Severity"].value == 3
    assert evil["Date"].value.date() == date(2026, 11, 20)
    assert not any(c.data_type == "f" for r in rows for c in r)  # no formula anywhere
    assert len(rows) == 2 + result.rows == 2 + 4


def test_exp004_an_empty_view_says_no_records(db, records):
    query = RegisterQuery(search="nothingmatchesthis")
    result = export(db, records.charity_chair, query=query)
    assert result.filename == "incidents-no-records-2026-11-24.csv" and result.rows == 0
    assert result.highest_marking is None
    assert csv_rows(result.content)[0][0].startswith("No records - nothing in this view matched. Exported by Chris Chair")
    book = export(db, records.charity_chair, fmt="xlsx", query=query)
    assert book.filename == "incidents-no-records-2026-11-24.xlsx"


def test_exp005_every_export_is_audited_with_its_reason_in_the_same_transaction(db, records):
    query = RegisterQuery.from_grid(RecordFilters(categories=("literature",)), "march", None,
                                    {"area": {"filterType": "text", "type": "contains", "filter": "birm"}})
    result = export(db, records.police_member, fmt="xlsx", query=query, reason="  For   the chair's briefing ")
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "incidents exported")).one()
    assert event.user_id == records.police_member.id and event.ip_address == "10.2.2.2"
    assert event.reason == "For the chair's briefing" and event.record_type == "export"
    assert event.record_id == result.filename
    assert event.detail == {
        "format": "xlsx", "rows": result.rows, "highest_marking": result.highest_marking,
        "filters": {"filters": {"categories": ["literature"]}, "columns": ["District contains 'birm'"],
                    "sort": ["occurred_on desc", "id desc"]},
        "search": "march", "file_name": result.filename,
    }
    with pytest.raises(RuntimeError), db.session() as s:  # a failing transaction keeps no audit of it
        exports.export_incidents(s, viewer(s, records.police_member), RegisterQuery(), "csv", REASON, today=TODAY)
        raise RuntimeError("the download failed")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "incidents exported")) == 1


def test_exp006_a_missing_reason_a_wrong_format_and_too_many_rows_are_refused(db, records, monkeypatch):
    for reason in ("", "because", "   short   "):
        with pytest.raises(exports.ExportError) as caught:
            export(db, records.police_member, reason=reason)
        assert caught.value.field == "reason"
        assert str(caught.value) == ("Say why you need this export (at least 10 characters); it is kept in the "
                                     "audit log.")
    with pytest.raises(exports.ExportError) as caught:
        export(db, records.police_member, fmt="pdf")
    assert caught.value.field == "format"
    monkeypatch.setattr(exports, "EXPORT_ROW_LIMIT", 3)
    with pytest.raises(exports.ExportError) as caught:
        export(db, records.police_member)
    assert caught.value.field is None
    assert str(caught.value).startswith("This view matches 5 incidents; an export holds at most 3. Narrow the filters")
    with pytest.raises(exports.ExportError, match="Only partnership members"):
        export(db, records.sci)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "incidents exported")) == 0
        assert s.scalar(select(func.count()).select_from(Incident)) == 5


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+44", "'+44"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), ("a=b", "a=b"), (-1.5, -1.5), (3, 3), (None, None),
])
def test_exp007_escape_cell(value, expected):
    assert exports.escape_cell(value) == expected


def test_exp008_file_names_are_safe(monkeypatch):
    assert exports.export_filename("TLP:AMBER+STRICT", TODAY, "xlsx") == "incidents-TLP-AMBER-STRICT-2026-11-24.xlsx"
    assert exports.export_filename(None, TODAY, "csv") == "incidents-no-records-2026-11-24.csv"
