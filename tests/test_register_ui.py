"""The incident register page through the real app: who gets the page, what the grid's callback
answers each viewer, and the export and import forms' callbacks (through Dash's own endpoint,
the way the browser calls them)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date

import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import func, select

from app import create_app
from callbacks import incident_register
from dashboard import imports
from dashboard.access import Viewer
from dashboard.models import AuditEvent, Incident, User
from dashboard.reference import Marking
from layouts.incident_register import grid_row
from tests.conftest import TEST_PASSWORD, add_incident, csrf_from, field_error_text, make_people

REFUSAL = "Your role does not give access to this page"
YEAR = "?period=custom&from=2026-01-01&to=2026-12-31"


@pytest.fixture
def web(settings, db, password_hash):
    """The app on each test database (SQLite and PostgreSQL: search and filters differ by
    database), with four incidents of different markings from the police and the council."""
    with db.session() as s:
        people = make_people(s, password_hash)
        add_incident(s, people.police_member, Marking.GREEN, title="Leaflets pushed through doors in Birmingham")
        add_incident(s, people.police_member, Marking.AMBER_STRICT, title="Police-only sighting of a known organiser",
                     day=date(2026, 10, 2))
        add_incident(s, people.council_member, Marking.RED, title="Named threat against a councillor",
                     recipients=[people.council_admin], day=date(2026, 10, 3))
        add_incident(s, people.council_member, Marking.AMBER, title="Council report shared with the police",
                     listed=[people.police], day=date(2026, 10, 4), area="E08000026")
    return create_app(settings, db), db, people


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def sign_in(client, email) -> str:
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    client.get("/")  # a page load sets the CSRF cookie Dash reads
    return client.get_cookie("_csrf_token").value


def open_page(client, token, path: str) -> tuple[int, str]:
    """What Dash's router answers for `path` (the page's content, as JSON text)."""
    pathname, _, search = path.partition("?")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": f"?{search}" if search else ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    if response.status_code != 200:
        return response.status_code, response.get_data(as_text=True)
    return 200, json.dumps(response.get_json())  # as plain JSON text (Dash escapes "/" and "<")


def call(app, client, token, output_contains: str, values: dict, changed: list[str]):
    """Post a callback of the register page the way dash-renderer does; `values` are the
    inputs' and states' values by "id.property"."""
    key = next(k for k in app.callback_map if output_contains in k)
    spec = app.callback_map[key]

    def item(dep):
        return {"id": dep["id"], "property": dep["property"], "value": values.get(f"{dep['id']}.{dep['property']}")}

    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop.split("@")[0]})
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec["state"]],
        "changedPropIds": changed,
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": token, "Content-Type": "application/json"})


def responded(response) -> dict:
    """The callback's answer as {"id.property": value}."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_json()["response"]
    return {f"{ident}.{prop}": value for ident, props in data.items() for prop, value in props.items()}


def text_of(value) -> str:
    return json.dumps(value)


def get_rows(app, client, token, query=YEAR, start=0, end=100, sort=None, filters=None):
    request = {"startRow": start, "endRow": end, "sortModel": sort or [], "filterModel": filters or {}}
    return call(app, client, token, "register-grid.getRowsResponse",
                {"register-grid.getRowsRequest": request, "register-query.data": query},
                ["register-grid.getRowsRequest"])


def titles(answer: dict) -> list[str]:
    return [row["title"] for row in answer["register-grid.getRowsResponse"]["rowData"]]


# --- the page ---------------------------------------------------------------------------------------


def test_reg201_a_member_gets_the_grid_search_export_and_import(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    status, content = open_page(client, token, "/register" + YEAR + "&q=leaflets&district=E08000025")
    assert status == 200 and REFUSAL not in content
    for part in ('"register-grid"', '"infinite"', '"register-search"', "Search titles and descriptions",
                 "register-export-reason", "Why do you need this export?", "Kept in the audit log",
                 "Import incidents from a spreadsheet", '"register-upload"', "Download the CSV template",
                 '"href": "/incidents/new"', '"href": "/assessments/new"'):
        assert part in content, part
    assert "Deleted records" not in content  # for admins only
    # the shared view comes back from the address bar: search, district and chosen dates
    assert '"value": "leaflets"' in content
    assert '"value": ["E08000025"]' in content and '"value": "2026-01-01"' in content
    # no record is in the page itself: the grid fetches its rows through the gate
    assert "Leaflets pushed through doors" not in content
    # every template column is documented on the page
    for column in imports.TEMPLATE_COLUMNS:
        assert column.name in content


def test_reg202_admins_get_a_link_to_deleted_records(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.council_admin.email)
    _status, content = open_page(client, token, "/register")
    assert '"href": "/deleted"' in content and "Deleted records" in content


def test_reg203_the_national_team_and_former_members_are_refused(web):
    app, db, people = web
    sci = app.server.test_client()
    token = sign_in(sci, people.sci.email)
    status, content = open_page(sci, token, "/register")
    assert status == 200 and REFUSAL in content and "register-grid" not in content
    # and the grid's callback gives the national team nothing, whatever it asks
    assert get_rows(app, sci, token).status_code == 204

    # a member whose organisation has left the partnership cannot sign in; were a session to
    # outlive the change, the page itself refuses the viewer
    with app.server.test_request_context("/register"):
        former = replace(viewer_of(db, people.council_member), organisation_active=False)
        content = json.dumps(incident_register.page(former).to_plotly_json(), cls=PlotlyJSONEncoder)
    assert "not an active member" in content and "register-grid" not in content


# --- the grid's rows -------------------------------------------------------------------------------


def test_reg204_the_grid_gets_only_the_rows_the_viewer_may_see(web):
    app, _db, people = web
    expected = {
        people.police_member: {"Leaflets pushed through doors in Birmingham",
                               "Police-only sighting of a known organiser", "Council report shared with the police"},
        people.council_member: {"Leaflets pushed through doors in Birmingham", "Named threat against a councillor",
                                "Council report shared with the police"},
        people.charity_chair: {"Leaflets pushed through doors in Birmingham"},
        people.council_admin: {"Leaflets pushed through doors in Birmingham", "Named threat against a councillor",
                               "Council report shared with the police"},
    }
    for user, visible in expected.items():
        client = app.server.test_client()
        token = sign_in(client, user.email)
        answer = responded(get_rows(app, client, token))
        assert set(titles(answer)) == visible, user.name
        response = answer["register-grid.getRowsResponse"]
        assert response["rowCount"] == len(visible)
        assert answer["register-status.children"] == f"{len(visible)} incident{'s match' if len(visible) > 1 else ' matches'}."
        for row in response["rowData"]:
            assert row["marking"].startswith("TLP:")  # the marking as text, in every row
            assert row["title_link"].endswith(f"](/incidents/{row['id']})")


def test_reg205_search_districts_sort_and_column_filters_narrow_the_rows(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    answer = responded(get_rows(app, client, token, YEAR + "&q=leaflets"))
    assert titles(answer) == ["Leaflets pushed through doors in Birmingham"]
    assert answer["register-status.children"] == "1 incident matches \u201cleaflets\u201d."
    answer = responded(get_rows(app, client, token, YEAR + "&district=E08000026"))
    assert titles(answer) == ["Council report shared with the police"]
    answer = responded(get_rows(app, client, token, sort=[{"colId": "occurred_on", "sort": "asc"}]))
    assert titles(answer)[0] == "Leaflets pushed through doors in Birmingham"
    answer = responded(get_rows(app, client, token, filters={
        "marking": {"filterType": "text", "type": "equals", "filter": "TLP:AMBER+STRICT"}}))
    assert titles(answer) == ["Police-only sighting of a known organiser"]
    # a later block leaves the status alone
    later = responded(get_rows(app, client, token, start=100, end=200))
    assert later["register-grid.getRowsResponse"]["rowData"] == []
    assert "register-status.children" not in later


def test_reg206_a_filter_the_register_cannot_use_is_named_in_the_error_summary(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    answer = responded(get_rows(app, client, token, filters={
        "severity": {"filterType": "number", "type": "equals", "filter": "very"}}))
    assert answer["register-grid.getRowsResponse"] == {"rowData": [], "rowCount": 0}
    assert answer["register-errors.hidden"] is False
    summary = text_of(answer["register-errors.children"])
    assert "There is a problem" in summary and "Severity" in summary and "not a number" in summary
    answer = responded(get_rows(app, client, token, sort=[{"colId": "marking", "sort": "asc"}]))
    assert "cannot be sorted by Marking" in text_of(answer["register-errors.children"])


def test_reg207_filters_and_search_go_to_the_address_bar(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    values = {
        "register-period.value": "custom", "register-start.value": "2026-01-01", "register-end.value": "2026-12-31",
        "register-markings.value": ["TLP:GREEN"], "register-districts.value": ["E08000025", "not-a-code"],
        "register-search.value": "  leaflets   doors ", "register-query.data": "?period=12m",
    }
    answer = responded(call(app, client, token, "register-query.data", values, ["register-search.value"]))
    assert answer["register-query.data"] == (
        "?period=custom&from=2026-01-01&to=2026-12-31&marking=TLP:GREEN&district=E08000025&q=leaflets+doors"
    )
    # an impossible period is refused beside the field and the grid keeps its rows
    values |= {"register-start.value": "2026-12-31", "register-end.value": "2026-01-01"}
    answer = responded(call(app, client, token, "register-query.data", values, ["register-start.value"]))
    assert "register-query.data" not in answer
    assert "on or before the end date" in field_error_text(answer["register-start-error.children"])


# --- export ------------------------------------------------------------------------------------------


def export(app, client, token, reason, fmt="csv", query=YEAR, filters=None):
    grid_request = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": filters or {}}
    return call(app, client, token, "register-export-download.data", {
        "register-export-button.n_clicks": 1, "register-export-format.value": fmt,
        "register-export-reason.value": reason, "register-grid.getRowsRequest": grid_request,
        "register-query.data": query,
    }, ["register-export-button.n_clicks"])


def test_reg208_export_needs_a_reason_and_names_the_field(web):
    app, db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    answer = responded(export(app, client, token, ""))
    assert "register-export-download.data" not in answer  # nothing downloaded
    assert answer["register-export-errors.hidden"] is False
    assert answer["register-export-reason.invalid"] is True
    assert answer["register-export-reason-error.children"]
    summary = text_of(answer["register-export-errors.children"])
    assert "#register-export-reason" in summary  # the error links to the field
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("%export%"))) == 0


def test_reg209_export_downloads_the_viewers_rows_and_says_the_marking(web):
    app, db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    answer = responded(export(app, client, token, "Figures for the quarterly briefing pack"))
    download = answer["register-export-download.data"]
    content = base64.b64decode(download["content"]).decode("utf-8-sig")
    assert "Leaflets pushed through doors" in content and "Police-only sighting" in content
    assert "Named threat" not in content  # TLP:RED for others
    assert "AMBER" in download["filename"]
    status = answer["register-export-status.children"]
    assert status.startswith("Exported 3 incidents; the most restrictive marking in the file is TLP:AMBER+STRICT.")
    assert answer["register-export-errors.hidden"] is True
    with db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action.like("%export%"))).one()
        assert audit.user_id == people.police_member.id
        assert audit.reason == "Figures for the quarterly briefing pack" and audit.detail["rows"] == 3
    # the grid's own column filters narrow the file too
    answer = responded(export(app, client, token, "Figures for the quarterly briefing pack",
                              filters={"marking": {"filterType": "text", "type": "equals", "filter": "TLP:GREEN"}}))
    assert answer["register-export-status.children"].startswith("Exported 1 incident;")


# --- import ------------------------------------------------------------------------------------------


def upload(app, client, token, name: str, content: bytes):
    data = "data:text/csv;base64," + base64.b64encode(content).decode()
    return call(app, client, token, "register-import-report.children", {
        "register-upload.contents": data, "register-upload.filename": name, "register-refresh.data": 0,
    }, ["register-upload.contents"])


def incident_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Incident))


def good_csv(rows: int = 2, area: str = "E06000016") -> bytes:
    lines = ["title,occurred_on,area_code,category,marking"]
    lines += [f"Imported leaflet report {n},2026-10-0{n},{area},literature,TLP:GREEN" for n in range(1, rows + 1)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_reg210_a_good_file_is_imported_and_the_grid_refreshes(web):
    app, db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.council_member.email)
    before = incident_count(db)
    answer = responded(upload(app, client, token, "two-rows.csv", good_csv(2, area="E07000150")))
    assert incident_count(db) == before + 2
    report = text_of(answer["register-import-report.children"])
    assert "Imported 2 incidents from two-rows.csv" in report
    # the old Corby code was changed to its successor, and the report names both
    assert "E07000150 to North Northamptonshire (E06000061) in 2 rows" in report
    assert answer["register-refresh.data"] == 1  # the grid asks for its rows again
    assert answer["register-import-errors-button.hidden"] is True
    listed = responded(get_rows(app, client, token, YEAR + "&q=imported"))
    assert set(titles(listed)) == {"Imported leaflet report 1", "Imported leaflet report 2"}


def test_reg211_a_file_with_a_bad_row_changes_nothing_and_names_row_and_column(web):
    app, db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.council_member.email)
    before = incident_count(db)
    content = good_csv(3).replace(b"2026-10-02", b"2026-02-30").replace(b"literature,TLP:GREEN\r\nImported leaflet "
                                                                          b"report 3", b"pamphlets,TLP:GREEN\r\n"
                                                                          b"Imported leaflet report 3")
    answer = responded(upload(app, client, token, "bad.csv", content))
    assert incident_count(db) == before  # all or nothing
    report = answer["register-import-report.children"]
    text = text_of(report)
    assert "was not imported" in text and "Nothing was added" in text
    assert '"Row"' in text and '"Column"' in text and '"Problem"' in text
    assert '"3"' in text and "occurred_on" in text  # row 3 of the file (the headings are row 1)
    assert "category" in text
    assert "register-refresh.data" not in answer
    assert answer["register-import-errors-button.hidden"] is False
    stored = answer["register-import-errors.data"]
    assert [3, "occurred_on"] == stored["errors"][0][:2]
    # the full list downloads as CSV
    download = responded(call(app, client, token, "register-import-errors-download.data", {
        "register-import-errors-button.n_clicks": 1, "register-import-errors.data": stored,
    }, ["register-import-errors-button.n_clicks"]))["register-import-errors-download.data"]
    lines = base64.b64decode(download["content"]).decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Column,Problem" and lines[1].startswith("3,occurred_on,")


def test_reg212_a_file_that_is_not_a_spreadsheet_is_refused_with_a_reason(web):
    app, db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.council_member.email)
    before = incident_count(db)
    answer = responded(upload(app, client, token, "notes.txt", b"hello"))
    assert "Only .csv and .xlsx files can be imported" in text_of(answer["register-import-report.children"])
    assert incident_count(db) == before
    sci = app.server.test_client()
    token = sign_in(sci, people.sci.email)
    assert upload(app, sci, token, "two-rows.csv", good_csv()).status_code == 204
    assert incident_count(db) == before


def test_reg213_templates_download(web):
    app, _db, people = web
    client = app.server.test_client()
    token = sign_in(client, people.police_member.email)
    for button, name in (("register-template-csv", "incident-import-template.csv"),
                         ("register-template-xlsx", "incident-import-template.xlsx")):
        answer = responded(call(app, client, token, "register-template-download.data",
                                {f"{button}.n_clicks": 1}, [f"{button}.n_clicks"]))
        download = answer["register-template-download.data"]
        assert download["filename"] == name
        content = base64.b64decode(download["content"])
        assert content == (imports.template_csv() if name.endswith("csv") else content)
        assert content.startswith(b"\xef\xbb\xbftitle,") if name.endswith("csv") else content.startswith(b"PK")


def test_reg214_a_title_is_shown_literally_in_the_grid_link():
    row = grid_row({"id": 7, "title": "[click](javascript:alert(1)) <b>**x**</b>\nnext", "severity": 2,
                    "severity_label": "Moderate"})
    assert row["title_link"] == (
        r"[\[click\]\(javascript\:alert\(1\)\) \<b\>\*\*x\*\*\<\/b\> next](/incidents/7)"
    )
    assert row["severity_text"] == "2 - Moderate"
