"""Importing incidents from CSV and XLSX: good files land whole (values, strands, markings and
their lists, old district codes mapped, history, counts, search), a file with one bad row adds
nothing, every problem is named by row and column, unsafe or unreadable files are refused with a
clear message, and the command line does the same."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from dashboard import cli, imports, rollups
from dashboard.access import Viewer, visible
from dashboard.models import (
    AuditEvent,
    Incident,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    RecordChange,
    User,
)
from dashboard.reference import Marking, map_cell
from dashboard.register import RegisterQuery, rows
from tests.conftest import add_incident, make_people

TODAY = date(2026, 11, 24)
HEADINGS = imports.COLUMN_NAMES


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def line(**values) -> dict:
    base = {"title": "Leaflets on Melton Road", "occurred_on": "2026-11-03", "area_code": "E06000016",
            "category": "literature"}
    return base | values


def as_csv(records: list[dict], headings=HEADINGS, bom: bool = True) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for r in records:
        writer.writerow([r.get(h, "") for h in headings])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def as_xlsx(records: list[list], headings=HEADINGS, sheet_name: str = "Incidents") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    sheet.append(list(headings))
    for r in records:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_import(db, user, name: str, content: bytes):
    with db.session() as s:
        return imports.import_incidents(s, viewer(s, user), name, content, today=TODAY, ip_address="10.1.1.1")


def counts(db) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Incident)),
                s.scalar(select(func.count()).select_from(RecordChange)))


def count_tables(session) -> dict:
    return {
        t.__tablename__: sorted(tuple(r) for r in session.execute(select(t.__table__)).all())
        for t in (IncidentMonthlyCount, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount)
    }


def refused(db, user, name: str, content: bytes) -> str:
    report = run_import(db, user, name, content)
    assert not report.ok and report.imported == 0
    assert report.refused, report
    return report.refused


# --- good files -----------------------------------------------------------------------------------


def test_imp001_a_good_csv_lands_whole(db, people):
    records = [
        line(title="Leaflets on Melton Road", occurred_on="03/11/2026", category="Literature and leaflets",
             strands="race; Religion (incl. no faith)", description="About 40 leaflets.\nMore next day.",
             latitude="52.6536", longitude="-1.1198", location_precision="exact", severity="Moderate"),
        line(title="Threats at a bus stop", occurred_on="2026-10-01", area_code="E07000153", category="HC-THREATS",
             marking="red", recipients=f"{people.police_member2.email.upper()}; {people.council_member.email}"),
        line(title="Stickers near the mosque", area_code="Leicester", category="stickers", marking="AMBER",
             listed_organisations="test council; Test Police", date_precision="week", severity="3",
             verification="confirmed"),
    ]
    report = run_import(db, people.police_member, "partners.csv", as_csv(records))
    assert report.ok and report.imported == report.rows == 3, report
    assert report.mapped_codes == [(3, "E07000153", "E06000061")]
    assert report.summary().startswith("Imported 3 incidents from partners.csv")
    assert "1 row had an old district code" in report.summary()
    with db.session() as s:
        got = {i.title: i for i in s.scalars(select(Incident))}
        leaflets, threats, stickers = (got["Leaflets on Melton Road"], got["Threats at a bus stop"],
                                       got["Stickers near the mosque"])
        assert leaflets.occurred_on == date(2026, 11, 3) and leaflets.category_code == "literature"
        assert sorted(st.code for st in leaflets.strands) == ["race", "religion"]
        assert leaflets.strand_mask == sum(1 << st.bit for st in leaflets.strands)
        assert leaflets.description == "About 40 leaflets.\nMore next day."
        assert (leaflets.latitude, leaflets.longitude, leaflets.location_precision) == (52.6536, -1.1198, "exact")
        assert leaflets.map_cell == map_cell(52.6536, -1.1198, "exact")
        assert leaflets.severity == 2 and leaflets.marking == "TLP:GREEN" and leaflets.verification == "reported"
        assert leaflets.reporter_id == people.police_member.id and leaflets.source_org_id == people.police.id
        assert leaflets.version == 1 and leaflets.corroborated_by == 0 and leaflets.deleted_at is None
        assert threats.area_code == "E06000061" and threats.marking == "TLP:RED"
        assert threats.category_code == "hc-threats"
        assert {u.id for u in threats.recipients} == {people.police_member2.id, people.council_member.id}
        assert stickers.area_code == "E06000016" and stickers.marking == "TLP:AMBER"
        assert [o.id for o in stickers.listed_organisations] == [people.council.id]  # own organisation dropped
        assert stickers.date_precision == "week" and stickers.severity == 3 and stickers.verification == "confirmed"
        history = s.execute(select(RecordChange.record_id, RecordChange.action, RecordChange.note,
                                   RecordChange.user_id, RecordChange.version)).all()
        assert sorted(h.record_id for h in history) == sorted(i.id for i in got.values())
        assert {(h.action, h.note, h.user_id, h.version) for h in history} == {
            ("imported", "Imported from partners.csv", people.police_member.id, 1)}
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "incidents imported")).one()
        assert event.user_id == people.police_member.id and event.ip_address == "10.1.1.1"
        assert event.detail["rows"] == 3 and event.detail["file_name"] == "partners.csv"
        assert event.detail["sha256"] == report.sha256 and len(report.sha256) == 64
        # who sees what: the markings hold for imported records as for any other
        council = viewer(s, people.council_member)
        charity = viewer(s, people.charity_chair)
        seen = lambda v: set(s.scalars(visible(v, Incident).with_only_columns(Incident.title)))  # noqa: E731
        assert seen(council) == {"Leaflets on Melton Road", "Threats at a bus stop", "Stickers near the mosque"}
        assert seen(charity) == {"Leaflets on Melton Road"}


def test_imp002_the_count_tables_match_a_full_recount_and_search_finds_imported_records(db, people):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        add_incident(s, s.get(User, people.council_member.id), Marking.GREEN, day=date(2026, 11, 2), area="E06000016")
    records = [
        line(title=f"Imported {n}", occurred_on=f"2026-{m:02d}-{d:02d}", marking=mark, strands=strands,
             description="graffiti on the underpass", listed_organisations="Test Council" if mark == "AMBER" else "")
        for n, (m, d, mark, strands) in enumerate([
            (11, 2, "GREEN", "race"), (11, 9, "CLEAR", ""), (10, 31, "AMBER+STRICT", "religion; race"),
            (9, 1, "GREEN", ""), (11, 2, "AMBER", "disability")])
    ]
    assert run_import(db, people.police_member, "more.csv", as_csv(records)).ok
    with db.session() as s:
        after_import = count_tables(s)
        assert after_import["incident_monthly_counts"]  # (AMBER is never in them; the others are)
        rollups.refresh_months(s, None)
        assert count_tables(s) == after_import
        found = rows(s, pat, RegisterQuery(search="underpass"), 0, 50)
        assert len(found.rows) == 5 and found.last_row == 5
    with db.session() as s:  # records added later are found too, with ids after the imported ones
        later = add_incident(s, s.get(User, people.police_member.id), Marking.GREEN, title="Underpass tunnel")
        assert later.id > max(s.scalars(select(Incident.id).where(Incident.title.like("Imported%"))))
    with db.session() as s:
        assert [r["id"] for r in rows(s, pat, RegisterQuery(search="underpass tunnel"), 0, 50).rows] == [later.id]
        if db.dialect == "sqlite":
            triggers = s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
            assert "incident_search_insert" in triggers


def test_imp003_a_good_xlsx_with_date_cells_and_numbers_lands(db, people):
    content = as_xlsx([
        ["Vandalised war memorial", datetime(2026, 11, 1), "day", "E06000016", "hc-damage", "race", "",
         52.63, -1.13, "approximate", 4, "corroborated", "TLP:CLEAR", None, None],
        ["Rally in the square", date(2026, 10, 3), "month", "E07000150", "Demonstration, rally or march", None,
         "A long description " * 20, None, None, None, None, None, None, None, None],
    ])
    report = run_import(db, people.council_member, "from excel.xlsx", content)
    assert report.ok and report.imported == 2, report
    assert report.mapped_codes == [(3, "E07000150", "E06000061")]
    with db.session() as s:
        got = {i.title: i for i in s.scalars(select(Incident))}
        memorial = got["Vandalised war memorial"]
        assert memorial.occurred_on == date(2026, 11, 1) and memorial.severity == 4
        assert (memorial.latitude, memorial.longitude) == (52.63, -1.13)
        assert memorial.marking == "TLP:CLEAR" and memorial.verification == "corroborated"
        rally = got["Rally in the square"]
        assert rally.area_code == "E06000061" and rally.date_precision == "month"
        assert rally.category_code == "demonstration" and rally.location_precision == "area"
        assert rally.severity == 1 and rally.marking == "TLP:GREEN"
        assert rally.source_org_id == people.council.id


def test_imp005_workbooks_with_inline_text_the_1904_date_system_and_the_sheet_not_first(db, people):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook(write_only=True)
    book.epoch = CALENDAR_MAC_1904  # (Excel for Mac's old date system)
    book.create_sheet("Notes").append(["Anything else is ignored"])
    sheet = book.create_sheet("Incidents")
    sheet.append(HEADINGS)
    sheet.append(["Written by a script", datetime(2026, 10, 30), "day", "E06000016", "other", "", "",
                  None, None, None, 2.0])
    out = io.BytesIO()
    book.save(out)
    report = run_import(db, people.police_member, "script.xlsx", out.getvalue())
    assert report.ok, report
    with db.session() as s:
        incident = s.scalars(select(Incident)).one()
        assert (incident.title, incident.occurred_on, incident.severity) == ("Written by a script", date(2026, 10, 30), 2)


def test_imp004_the_downloadable_templates_hold_the_headings_and_import_once_filled(db, people):
    text = imports.template_csv().decode("utf-8-sig")
    assert text.strip() == ",".join(HEADINGS)
    book = load_workbook(io.BytesIO(imports.template_xlsx()))
    assert book.sheetnames == ["Incidents", "Columns"]
    assert [c.value for c in book["Incidents"][1]] == HEADINGS
    guide = [[c.value for c in row] for row in book["Columns"].iter_rows(min_row=2, max_row=len(HEADINGS) + 1)]
    assert [g[0] for g in guide] == HEADINGS
    assert {g[0] for g in guide if g[1] == "Required"} == {"title", "occurred_on", "area_code", "category"}
    assert all(g[2] and g[3] for g in guide)  # every column described, with an example
    book["Incidents"].append(["Filled in the template", "2026-11-20", None, "E06000016", "literature"])
    out = io.BytesIO()
    book.save(out)
    report = run_import(db, people.police_member, "template.xlsx", out.getvalue())
    assert report.ok and report.imported == 1, report


# --- files with bad rows ------------------------------------------------------------------------------


def test_imp010_a_file_with_one_bad_row_changes_nothing(db, people):
    before = counts(db)
    records = [line(title="Fine one"), line(title="Fine two"), line(title="From the future", occurred_on="2026-12-25"),
               line(title="Fine three")]
    report = run_import(db, people.police_member, "one-bad.csv", as_csv(records))
    assert not report.ok and report.imported == 0 and report.rows == 4
    assert report.errors == [imports.RowError(4, "occurred_on", "The date 2026-12-25 is in the future (today is 2026-11-24).")]
    assert report.summary() == ("one-bad.csv was not imported: 1 problem in 1 row of 4. Nothing was added. "
                                "Correct them and import the whole file again.")
    assert counts(db) == before
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "incident import refused")).one()
        assert event.detail["errors"] == 1 and "not imported" in event.reason
        assert event.detail["first_errors"] == ["Row 4, column occurred_on: The date 2026-12-25 is in the future (today is 2026-11-24)."]


def test_imp011_every_problem_is_named_by_row_column_and_reason(db, people):
    bad = [
        line(title="x" * 201),
        line(occurred_on="1999-12-31"),
        line(occurred_on="31/02/2026"),
        line(occurred_on="next Tuesday"),
        line(area_code="E99999999"),
        line(area_code="E10000021"),
        line(category="picnic"),
        line(strands="race; astrology"),
        line(latitude="52.6"),
        line(latitude="54.9", longitude="-1.1", location_precision="exact"),
        line(location_precision="exact"),
        line(latitude="52.6", longitude="-1.1"),
        line(severity="7"),
        line(verification="rumoured"),
        line(marking="TLP:WHITE"),
        line(marking="TLP:RED"),
        line(marking="TLP:RED", recipients="nobody@nowhere.example"),
        line(recipients=people.council_member.email),
        line(listed_organisations="Test Council"),
        line(marking="AMBER", listed_organisations="The Moon Society"),
        line(title="", category="", area_code="", occurred_on="", description="Only a description"),
        line(description="y" * 10_001, date_precision="fortnight"),
    ]
    report = run_import(db, people.police_member, "bad.csv", as_csv(bad))
    assert counts(db) == (0, 0)
    got = {(e.row, e.column): e.message for e in report.errors}
    expect = {
        (2, "title"): "The title must be 200 characters or fewer (it has 201).",
        (3, "occurred_on"): "The date 1999-12-31 is before 2000; check the year.",
        (4, "occurred_on"): "\u201c31/02/2026\u201d is not a real date.",
        (5, "occurred_on"): "\u201cnext Tuesday\u201d is not a date: write it as YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-11-03).",
        (6, "area_code"): "\u201cE99999999\u201d is not a Midlands district code or name.",
        (8, "category"): "\u201cpicnic\u201d is not a category; see the template's list of categories.",
        (9, "strands"): "Not a hate-crime strand: \u201castrology\u201d. Separate strands with ;.",
        (10, "longitude"): "Enter the longitude as well as the latitude, or leave both blank.",
        (11, "latitude"): "Latitude must be a number between 51.8 and 53.7 (the Midlands); 54.9 is not.",
        (12, "location_precision"): "An exact location needs a latitude and longitude; without them write area.",
        (13, "location_precision"): "Say how exact the location is: exact, approximate or area.",
        (14, "severity"): "\u201c7\u201d is not a severity: use 1 (low) to 4 (critical).",
        (15, "verification"): "\u201crumoured\u201d is not one of reported, corroborated or confirmed.",
        (17, "recipients"): "A TLP:RED record needs at least one recipient: the e-mail addresses of the partners "
                            "who may see it, separated by ;.",
        (18, "recipients"): "Not an active partner: nobody@nowhere.example.",
        (19, "recipients"): "Recipients are for TLP:RED records only: leave this blank, or mark the record TLP:RED.",
        (20, "listed_organisations"): "Listed organisations are for TLP:AMBER records only: leave this blank, or "
                                      "mark the record TLP:AMBER.",
        (21, "listed_organisations"): "Not a member organisation: \u201cThe Moon Society\u201d.",
        (22, "title"): "Enter a title: a few words saying what happened.",
        (22, "occurred_on"): "Enter the date the incident happened, as YYYY-MM-DD or DD/MM/YYYY.",
        (22, "area_code"): "Enter the district's GSS code (for example E06000016) or its name.",
        (22, "category"): "Enter the category (its code or name).",
        (23, "description"): "The description must be 10,000 characters or fewer (it has 10,001).",
        (23, "date_precision"): "\u201cfortnight\u201d is not one of day, week or month.",
    }
    for key, message in expect.items():
        assert got.get(key) == message, (key, got.get(key))
    assert "North Northamptonshire (E06000061) and West Northamptonshire (E06000062)" in got[(7, "area_code")]
    assert "TLP:AMBER+STRICT" in got[(16, "marking")]
    assert report.rows == len(bad) and report.rows_with_errors == len(bad)
    assert report.error_count == len(report.errors) == len(expect) + 2


def test_imp012_the_report_lists_at_most_1000_problems_and_counts_them_all(db, people, monkeypatch):
    report = run_import(db, people.police_member, "many.csv",
                        as_csv([line(category="picnic", severity="9")] * 600))
    assert report.error_count == 1_200 and len(report.errors) == imports.MAX_LISTED_ERRORS
    assert report.rows_with_errors == 600
    assert "1,200 problems in 600 rows of 600 (the first 1,000 are listed)" in report.summary()
    lines = imports.errors_csv(report).decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Column,Problem" and lines[1].startswith("2,category,")
    assert lines[-1] == ",,... and 200 more problems"


def test_imp013_formula_cells_are_row_errors(db, people):
    content = as_xlsx([
        ["=HYPERLINK(\"http://evil.example\",\"click\")", "2026-11-01", None, "E06000016", "literature"],
        ["Plain title", "2026-11-01", None, "E06000016", "=A1"],
    ])
    report = run_import(db, people.police_member, "formulas.xlsx", content)
    assert [(e.row, e.column) for e in report.errors] == [(2, "title"), (3, "category")]
    assert all(e.message.startswith("holds a formula; paste values only") for e in report.errors)
    assert counts(db) == (0, 0)


def test_imp014_values_under_no_heading_are_pointed_out(db, people):
    content = as_csv([line()], headings=[*HEADINGS[:5], ""]).replace(b"literature,\r\n", b"literature,surprise\r\n")
    report = run_import(db, people.police_member, "extra.csv", content)
    assert report.errors == [imports.RowError(2, "", "Column 6 holds a value but has no heading; remove it or add the heading.")]


# --- files refused as a whole --------------------------------------------------------------------------


def test_imp020_refusals_of_unreadable_files_say_what_to_do(db, people):
    pat = people.police_member
    assert refused(db, pat, "empty.csv", b"") == "The file is empty."
    assert refused(db, pat, "big.csv", b"x" * int(31.2 * 1024 * 1024)) == (
        "The file is 31.2 MB; the largest accepted is 20 MB. Split it into smaller files.")
    latin = "title,occurred_on,area_code,category\r\nfine,2026-11-01,E06000016,literature\r\nCaf\xe9,2026-11-01,E06000016,literature\r\n"
    message = refused(db, pat, "latin.csv", latin.encode("latin-1"))
    assert "not UTF-8" in message and "line 3" in message and "CSV UTF-8" in message
    assert "NUL byte on line 2" in refused(db, pat, "nul.csv", b"title,occurred_on\r\nab\x00c,2026-11-01\r\n")
    assert "UTF-16" in refused(db, pat, "u16.csv", "title\r\n".encode("utf-16"))
    assert "separated by semicolons" in refused(db, pat, "semi.csv", b"title;occurred_on;area_code;category\r\n")
    assert refused(db, pat, "notes.txt", b"title\r\n").startswith("Only .csv and .xlsx files can be imported")
    assert "old-style Excel file" in refused(db, pat, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "named .xlsx but is not an Excel workbook" in refused(db, pat, "fake.xlsx", b"title,occurred_on\r\n")
    assert "named .csv but is a zip file" in refused(db, pat, "zip.csv", as_xlsx([]))
    assert "not a valid Excel workbook" in refused(db, pat, "broken.xlsx", b"PK\x03\x04" + b"garbage" * 100)
    assert refused(db, pat, "headings.csv", as_csv([])) == "The file has its column headings but no incidents below them."
    assert "first row should hold" in refused(db, pat, "blank.csv", b"\r\n\r\n")
    with db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "incident import refused")).all()
        assert len(events) == 13 and all(e.reason and e.user_id == pat.id for e in events)
    assert counts(db) == (0, 0)


def test_imp021_unknown_missing_and_repeated_headings_are_named(db, people):
    pat = people.police_member
    message = refused(db, pat, "odd.csv", as_csv([line()], headings=[*HEADINGS, "Weather", "mood"]))
    assert "\u201cWeather\u201d, \u201cmood\u201d" in message and "title, occurred_on" in message
    message = refused(db, pat, "short.csv", as_csv([line()], headings=["title", "description", "category"]))
    assert message.startswith("The file has no occurred_on, area_code columns")
    message = refused(db, pat, "twice.csv", as_csv([line()], headings=[*HEADINGS, "Title"]))
    assert message == "These columns appear more than once: title. Keep one of each."
    # headings are read kindly: any capitals, spaces for underscores, a required marker
    kind = b"Title*,Occurred on,Area code,Category\r\nKindly read,2026-11-01,E06000016,literature\r\n"
    report = run_import(db, pat, "kind.csv", kind)
    assert report.ok, report


def test_imp022_too_many_rows_are_refused(db, people, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    message = refused(db, people.police_member, "four.csv", as_csv([line()] * 4))
    assert message == "The file has 4 incidents; at most 3 can be imported at once. Split it into smaller files."


def _workbook_with(extra: dict[str, bytes], base: bytes | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(base or as_xlsx([["t", "2026-11-01", None, "E06000016", "literature"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, extra.pop(item.filename, data))
        for name, data in extra.items():
            target.writestr(name, data)
    return out.getvalue()


def test_imp023_zip_bombs_macros_and_entities_are_refused_before_parsing(db, people, monkeypatch):
    pat = people.police_member
    bomb = _workbook_with({"xl/worksheets/sheet1.xml": b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < 1024 * 1024
    assert "zip bomb" in refused(db, pat, "bomb.xlsx", bomb)
    macros = _workbook_with({"xl/vbaProject.bin": b"\x00" * 100})
    assert "contains macros" in refused(db, pat, "macro.xlsx", macros)
    assert "Macro-enabled" in refused(db, pat, "macro.xlsm", macros)
    laughs = _workbook_with({"xl/sharedStrings.xml": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                             b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'})
    assert "XML declarations that are not allowed" in refused(db, pat, "laughs.xlsx", laughs)
    not_a_book = io.BytesIO()
    with zipfile.ZipFile(not_a_book, "w") as z:
        z.writestr("hello.txt", "hi")
    assert "zip file but not an Excel workbook" in refused(db, pat, "hello.xlsx", not_a_book.getvalue())
    monkeypatch.setattr(imports, "MAX_UNCOMPRESSED", 1_000)
    assert "would unpack to" in refused(db, pat, "big.xlsx", as_xlsx([]))
    assert counts(db) == (0, 0)


def test_imp024_workbook_xml_is_read_by_defusedxml_which_refuses_any_dtd(db, people):
    padding = b"<!--" + b"x" * 10_000 + b"-->"  # (past the quick look at each part's first 4 KB)
    sst = (b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&a;</t></si></sst>')
    book = _workbook_with({"xl/sharedStrings.xml": sst}, base=as_xlsx([["t", "2026-11-01", None, "E06000016", "other"]]))
    assert "XML declarations that are not allowed" in refused(db, people.police_member, "dtd.xlsx", book)


def test_imp025_only_partners_may_import(db, people):
    for user in (people.sci,):
        assert refused(db, user, "x.csv", as_csv([line()])) == "Only partnership members can import incidents."
    assert counts(db) == (0, 0)


# --- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(sqlite_db, tmp_path, monkeypatch, password_hash):
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with sqlite_db.session() as s:
        return make_people(s, password_hash)


def test_imp030_the_command_line_imports_a_good_file(cli_db, tmp_path, capsys, sqlite_db):
    path = tmp_path / "good.csv"
    path.write_bytes(as_csv([line(), line(title="Old code", area_code="E07000154")]))
    code = cli.main(["import-incidents", str(path), "--as", cli_db.police_member.email.upper()])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0].startswith("Imported 2 incidents from good.csv in")
    assert "Row 3: old district code E07000154 changed to E06000062." in out
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 2


def test_imp031_the_command_line_prints_each_problem_and_exits_1(cli_db, tmp_path, capsys, sqlite_db):
    path = tmp_path / "bad.csv"
    path.write_bytes(as_csv([line(), line(), line(), line(), line(), line(occurred_on="2099-01-01")]))
    code = cli.main(["import-incidents", str(path), "--as", cli_db.police_member.email])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad.csv was not imported: 1 problem in 1 row of 6" in out
    assert "Row 7, column occurred_on: The date 2099-01-01 is in the future" in out
    path.write_bytes(b"")
    assert cli.main(["import-incidents", str(path), "--as", cli_db.police_member.email]) == 1
    assert "The file is empty." in capsys.readouterr().out
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_imp032_the_command_line_needs_an_active_partner_and_a_file(cli_db, tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_bytes(as_csv([line()]))
    assert cli.main(["import-incidents", str(path), "--as", cli_db.sci.email]) == cli.EXIT_BAD_INPUT
    assert "cannot import incidents" in capsys.readouterr().err
    assert cli.main(["import-incidents", str(path), "--as", "nobody@x.example"]) == cli.EXIT_BAD_INPUT
    assert "is not a user" in capsys.readouterr().err
    assert cli.main(["import-incidents", str(tmp_path / "missing.csv"), "--as", cli_db.police_member.email]) == 2
    assert "No file at" in capsys.readouterr().err


def test_imp006_dates_known_to_their_week_or_month_are_kept_as_its_monday_or_first_day(db, people):
    content = as_csv([
        line(title="Week", occurred_on="2026-10-07", date_precision="week"),
        line(title="Month", occurred_on="07/10/2026", date_precision="month"),
    ])
    assert run_import(db, people.police_member, "dates.csv", content).ok
    with db.session() as s:
        stored = dict(s.execute(select(Incident.title, Incident.occurred_on)).all())
    assert stored == {"Week": date(2026, 10, 5), "Month": date(2026, 10, 1)}
