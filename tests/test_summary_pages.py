"""The national summaries page through the real app (on SQLite and PostgreSQL): every role gets
it, the national team gets it at "/", the address bar's view and its mistakes, the filters'
callback, the download (reason, file, audit), and no record-level text anywhere."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from sqlalchemy import select

from app import create_app
from callbacks import summaries as summaries_callbacks
from dashboard.disclosure import protect
from dashboard.models import AuditEvent, TensionAssessment
from dashboard.reference import Marking, Role
from dashboard.summaries import SummaryTable
from layouts.summaries import quarter_figure, tension_figure
from tests.conftest import add_incident, field_error_text, make_people
from tests.test_pages import open_page, sign_in, users_by_role
from tests.test_register_ui import call, responded

TODAY = date(2026, 11, 24)  # the latest complete quarter is Jul to Sep 2026 (2026Q3)
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"
SECRET_TITLE = "Leaflets through the door of 12 Elm Road"
SECRET_RATIONALE = "Talk at the Elm Road community centre of a march"
AMBER_TITLE = "Police-only sighting of an organiser"
REASON = "Figures for the national policy briefing"


@pytest.fixture
def web(settings, db, password_hash, monkeypatch):
    """The app on each test database: 12 TLP:GREEN and CLEAR leaflet incidents in Birmingham in
    August 2026 (one with a title that must never be shown), 5 TLP:AMBER+STRICT ones that must
    not count, and a TLP:GREEN tension assessment with its rationale."""
    monkeypatch.setattr(summaries_callbacks, "today", lambda: TODAY)
    with db.session() as s:
        people = make_people(s, password_hash)
        add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 8, 3), area=BIRMINGHAM,
                     title=SECRET_TITLE)
        for n in range(10):
            add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 8, 4 + n), area=BIRMINGHAM)
        add_incident(s, people.council_member, Marking.CLEAR, day=date(2026, 8, 20), area=BIRMINGHAM)
        for n in range(5):
            add_incident(s, people.police_member, Marking.AMBER_STRICT, day=date(2026, 8, 5 + n), area=BIRMINGHAM,
                         title=AMBER_TITLE)
        s.add(TensionAssessment(area_code=COVENTRY, assessed_on=date(2026, 9, 1), level=3,
                                rationale=SECRET_RATIONALE, source_org_id=people.council.id,
                                reporter_id=people.council_member.id, marking=Marking.GREEN.value))
    return create_app(settings, db), db, people


def signed_in(app, email: str):
    client = app.server.test_client()
    sign_in(client, email)
    client.get("/")  # a page load sets the CSRF cookie Dash reads
    return client, client.get_cookie("_csrf_token").value


def page_text(client, path: str) -> str:
    """The page's content as plain JSON text (Dash escapes "<" and "/" in its own answer)."""
    status, content = open_page(client, path)
    assert status == 200, content[:500]
    return json.dumps(json.loads(content))


# --- the page -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SCI, Role.MEMBER, Role.CHAIR, Role.ADMIN])
def test_sum201_every_role_gets_the_same_published_figures_and_no_record(web, role):
    app, _db, people = web
    client, _token = signed_in(app, users_by_role(people)[role])
    content = page_text(client, "/summaries")
    assert "National summaries" in content and "Rules applied" in content
    for section in ("summaries-by-area", "summaries-by-quarter", "summaries-tension"):
        assert f'"id": "{section}"' in content
    # 12 GREEN and CLEAR incidents, rounded to 10; the 5 AMBER+STRICT ones never count (17 -> 15)
    assert "Across the 65 districts, about 10 incidents were counted from Oct 2025 to Sep 2026" in content
    assert "about 15" not in content
    # the rules and what "<5" and "[c]" mean, in words
    assert "A count from 1 to 4 is shown as" in content and "hidden to protect another figure" in content
    # nothing record-level, whoever asks
    for text in (SECRET_TITLE, AMBER_TITLE, SECRET_RATIONALE, "Elm Road", "Pat Police"):
        assert text not in content, (role, text)


def test_sum202_the_national_team_gets_the_summaries_at_home(web):
    app, _db, people = web
    client, _token = signed_in(app, people.sci.email)
    content = page_text(client, "/")
    assert '"id": "summaries-page"' in content and "National summaries" in content
    assert SECRET_TITLE not in content
    # partners still get the regional overview there
    client, _token = signed_in(app, people.police_member.email)
    assert '"id": "summaries-page"' not in page_text(client, "/")


def test_sum203_the_address_bar_gives_the_view(web):
    app, _db, people = web
    client, _token = signed_in(app, people.sci.email)
    content = page_text(client, f"/?to=2026Q2&quarters=2&geography=police-force-area&breakdown=strand"
                                f"&area={BIRMINGHAM}&area={COVENTRY}")
    assert "Incidents by police force area and hate-crime strand, Jan 2026 to Jun 2026" in content
    assert '"value": "2026Q2"' in content and '"value": "strand"' in content
    assert "There is a problem" not in content
    assert "the 2 districts chosen" in content


def test_sum204_a_bad_quarter_in_the_address_names_the_filter(web):
    app, _db, people = web
    client, _token = signed_in(app, people.police_member.email)
    content = page_text(client, "/summaries?to=2026Q9&breakdown=strand")
    assert "There is a problem" in content
    assert "Up to: " in content and "2026Q9" in content
    assert "#summaries-to" in content  # the error links to the control
    # the rest of the view still applies, with the default quarter
    assert "Incidents by district and hate-crime strand, Oct 2025 to Sep 2026" in content
    content = page_text(client, "/summaries?geography=county")
    assert "Areas shown as: " in content and "#summaries-geography-0" in content


# --- the filters' callback -------------------------------------------------------------------------------


def refresh(app, client, token, **values):
    chosen = {"to": "2026Q3", "quarters": "4", "geography": "district", "breakdown": "category",
              "area": [], "category": []} | values
    ids = {"to": "summaries-to", "quarters": "summaries-quarters", "geography": "summaries-geography",
           "breakdown": "summaries-breakdown", "area": "summaries-areas", "category": "summaries-categories"}
    return call(app, client, token, "summaries-results.children",
                {f"{ids[k]}.value": v for k, v in chosen.items()}, ["summaries-breakdown.value"])


def test_sum205_choosing_filters_updates_the_tables_and_the_address(web):
    app, _db, people = web
    client, token = signed_in(app, people.charity_chair.email)
    answer = responded(refresh(app, client, token, breakdown="strand", area=[BIRMINGHAM]))
    assert answer["summaries-query.data"] == f"?to=2026Q3&breakdown=strand&area={BIRMINGHAM}"
    results = json.dumps(answer["summaries-results.children"])
    assert "Incidents by district and hate-crime strand" in results and "Birmingham" in results
    assert answer["summaries-errors.hidden"] is True
    assert SECRET_TITLE not in results
    # a value the controls never offer (a forged request) is named, and the tables are kept
    answer = responded(refresh(app, client, token, geography="county"))
    assert "summaries-results.children" not in answer
    assert answer["summaries-errors.hidden"] is False
    assert "Areas shown as: " in json.dumps(answer["summaries-errors.children"])
    assert field_error_text(answer["summaries-geography-error.children"]).startswith("Areas shown as: ")


# --- downloads ------------------------------------------------------------------------------------------


def download(app, client, token, reason, fmt="csv", query="?to=2026Q3"):
    return call(app, client, token, "summaries-download.data", {
        "summaries-download-button.n_clicks": 1, "summaries-download-format.value": fmt,
        "summaries-download-reason.value": reason, "summaries-query.data": query,
    }, ["summaries-download-button.n_clicks"])


def audit_events(db) -> list[AuditEvent]:
    with db.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "summary-exported")))
        s.expunge_all()
        return events


def test_sum206_a_download_needs_a_reason_and_names_the_field(web):
    app, db, people = web
    client, token = signed_in(app, people.sci.email)
    answer = responded(download(app, client, token, "  "))
    assert "summaries-download.data" not in answer  # nothing downloaded
    assert answer["summaries-download-errors.hidden"] is False
    assert answer["summaries-download-reason.invalid"] is True
    assert field_error_text(answer["summaries-download-reason-error.children"]).startswith("Say why you need this")
    assert "#summaries-download-reason" in json.dumps(answer["summaries-download-errors.children"])
    answer = responded(download(app, client, token, REASON, fmt="docx"))
    assert "summaries-download.data" not in answer
    assert answer["summaries-download-format-error.children"]
    assert audit_events(db) == []


def test_sum207_a_download_gives_the_file_and_is_audited(web):
    app, db, people = web
    client, token = signed_in(app, people.sci.email)
    answer = responded(download(app, client, token, REASON, query="?to=2026Q3&breakdown=strand"))
    file = answer["summaries-download.data"]
    assert file["filename"] == "national-summary-2025Q4-to-2026Q3-TLP-GREEN.csv"
    content = base64.b64decode(file["content"]).decode("utf-8-sig")
    assert "TLP:GREEN" in content.splitlines()[0]
    for text in (SECRET_TITLE, AMBER_TITLE, SECRET_RATIONALE):
        assert text not in content
    status = answer["summaries-download-status.children"]
    assert "national-summary-2025Q4-to-2026Q3-TLP-GREEN.csv" in status and "is ready" in status
    assert answer["summaries-download-errors.hidden"] is True
    [event] = audit_events(db)
    assert event.user_id == people.sci.id and event.reason == REASON
    assert event.detail["format"] == "csv" and event.detail["query"]["breakdown"] == "strand"


# --- the charts (pure figure builders) --------------------------------------------------------------


def test_sum208_a_hidden_total_draws_no_bar_but_its_symbol():
    quarters = (("2026Q2", "Apr to Jun 2026"), ("2026Q3", "Jul to Sep 2026"))
    by_quarter = SummaryTable(
        key="by_quarter", title="Incidents by quarter and category", description="", row_heading="Quarter",
        rows=quarters, columns=(("literature", "Literature"), ("stickers", "Stickers")),
        protected=protect([[3, 0], [12, 9]]), summary="",
    )
    figure = quarter_figure(by_quarter)
    bars, marks = figure["data"]
    # 3 is "<5" and 21, which would give it away from the grand total of 25, is "[c]": neither
    # quarter has a bar (not a bar of 0); each has its symbol as text instead
    assert bars["y"] == [None, None]
    assert marks["mode"] == "text" and marks["text"] == ["<5", "[c]"]
    assert marks["x"] == ["Apr to Jun 2026", "Jul to Sep 2026"]
    tension = SummaryTable(
        key="tension", title="Districts by tension level", description="", row_heading="Quarter", rows=quarters,
        columns=(("1", "1 Low"), ("4", "4 High"), ("none", "No assessment")),
        protected=protect([[2, 0, 63], [30, 10, 25]], column_totals=False), summary="", total_label="Districts",
    )
    figure = tension_figure(tension)
    assert [trace["name"] for trace in figure["data"]] == ["1 Low", "4 High", "No assessment"]
    assert len({(t["marker"]["color"], t["marker"]["pattern"]["shape"]) for t in figure["data"]}) == 3
    assert figure["data"][0]["y"][0] is None  # a hidden level is not drawn...
    assert [note["text"] for note in figure["layout"]["annotations"]][0].endswith("hidden")  # ...but said
