"""The chair's briefing pack: the dashboard's own figures for the period since the last meeting,
counted for the chair, marked with the most restrictive marking it counts, as HTML and PDF, for
the chair only, and audited (both backends)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from defusedxml import ElementTree as ET
from pypdf import PdfReader
from sqlalchemy import select

from app import create_app
from dashboard import briefing
from dashboard.access import RecordFilters, Viewer
from dashboard.config import Settings
from dashboard.models import (
    Action,
    ActionUpdate,
    AuditEvent,
    Meeting,
    Organisation,
    TensionAssessment,
    TriggerEvent,
    User,
)
from dashboard.overview import Geography, area_overview, headline, latest_tension_by_district
from dashboard.reference import ActionStatus, Marking
from dashboard.since_meeting import since_last_meeting
from dashboard.static_map import district_shapes, tension_map_svg
from tests.conftest import SECRET, TEST_PASSWORD, add_incident, csrf_from, pdf_tags

TODAY = date(2026, 11, 24)
MEETING = date(2026, 10, 15)  # the period: 16 Oct to 24 Nov 2026 (40 days)
NEXT_MEETING = date(2026, 12, 10)
BIRMINGHAM, COVENTRY, RUTLAND = "E08000025", "E08000026", "E06000017"
SVG = "{http://www.w3.org/2000/svg}"


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def _meetings(s, *, next_title="Winter quarterly meeting"):
    s.add(Meeting(held_on=MEETING, title="Autumn quarterly meeting"))
    s.add(Meeting(held_on=date(2026, 7, 10), title="Summer quarterly meeting"))
    s.add(Meeting(held_on=NEXT_MEETING, title=next_title))


def _dataset(db, people):
    """Council GREEN reports the chair sees; the police's AMBER+STRICT ones the chair does not."""
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        pat = s.get(User, people.police_member.id)
        _meetings(s)
        for i in range(6):  # Birmingham: 6 since, 2 before
            add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 20) + timedelta(days=i), area=BIRMINGHAM)
        for day in (date(2026, 9, 10), date(2026, 9, 20)):
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM)
        for i in range(5):  # Rutland: a new hotspot
            add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 1) + timedelta(days=i), area=RUTLAND)
        for i in range(9):  # Coventry: the police's own restricted reports
            add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 11, 2) + timedelta(days=i), area=COVENTRY,
                         title="Police only: restricted surveillance note")
        for day, level, area, who, marking in (
            (date(2026, 10, 1), 2, BIRMINGHAM, cora, Marking.GREEN),
            (date(2026, 11, 10), 4, BIRMINGHAM, cora, Marking.GREEN),
            (date(2026, 11, 12), 3, RUTLAND, cora, Marking.GREEN),
            (date(2026, 11, 12), 5, COVENTRY, pat, Marking.AMBER_STRICT),
        ):
            s.add(TensionAssessment(area_code=area, assessed_on=day, level=level, marking=marking.value,
                                    source_org_id=who.organisation_id, reporter_id=who.id))
        s.add(TriggerEvent(kind="rally or march", title="Planned rally", starts_on=date(2026, 12, 5),
                           ends_on=date(2026, 12, 5), region_wide=True, created_by_id=cora.id))


def _build(db, user, **kwargs) -> briefing.BriefingPack:
    with db.session() as s:
        return briefing.build_pack(s, viewer_of(db, user), TODAY, **kwargs)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- the figures ------------------------------------------------------------------------------


def test_brief001_figures_are_the_dashboards_for_the_same_period(db, people):
    _dataset(db, people)
    chair = viewer_of(db, people.charity_chair)
    pack = _build(db, people.charity_chair)
    with db.session() as s:
        since = since_last_meeting(s, chair, TODAY)
        overview = area_overview(s, chair, RecordFilters(start=pack.period_start, end=pack.period_end),
                                 Geography.DISTRICT)
        dashboard_headline = headline(s, chair, overview, TODAY)
        levels = latest_tension_by_district(s, chair, RecordFilters(), TODAY)
        outline = briefing.pack_outline(s, chair, TODAY)

    assert (pack.period_start, pack.period_end) == (date(2026, 10, 16), TODAY)
    assert (outline.period_start, outline.period_end) == (pack.period_start, pack.period_end)
    assert pack.headline.incidents == since.total == overview.total == 11
    assert pack.headline == dashboard_headline
    assert pack.since.rises == since.rises
    assert [(r.name, r.now, r.before) for r in pack.since.rises] == [("Rutland", 5, 0), ("Birmingham", 6, 2)]
    assert pack.since.new_hotspots == since.new_hotspots
    assert pack.since.tension_changes == since.tension_changes
    assert pack.levels == levels
    assert [(r.name, r.level, r.label) for r in pack.levels_at_or_above] == [
        ("Birmingham", 4, "High"), ("Rutland", 3, "Elevated")
    ]
    assert [e.title for e in pack.since.upcoming] == ["Planned rally"]

    html = briefing.render_html(pack)
    assert "Winter quarterly meeting on 10 December 2026" in html
    assert "16 October 2026 to 24 November 2026" in html
    assert '<span class="value">11</span>' in html
    assert "Police-recorded hate crime reflects recording practice" in html  # the caveat


def test_brief002_a_restricted_record_of_another_organisation_neither_counts_nor_shows(db, people):
    _dataset(db, people)
    pack = _build(db, people.charity_chair)
    assert "Coventry" not in [r.name for r in pack.since.rises]
    assert COVENTRY not in pack.levels  # the police-only level 5
    assert pack.organisation_names == ["Test Council"]
    assert pack.marking is Marking.GREEN
    assert pack.banner_marking != Marking.AMBER_STRICT.value
    html = briefing.render_html(pack)
    assert "Test Police" not in html
    assert "TLP:AMBER+STRICT</strong>" not in html
    assert "restricted surveillance note" not in html
    assert '<strong>TLP:GREEN</strong>' in html

    # A police member would count them: the pack is the chair's own view.
    police = viewer_of(db, people.police_member)
    with db.session() as s:
        assert since_last_meeting(s, police, TODAY).total == 20


def test_brief003_the_chairs_own_amber_record_marks_the_pack_amber_in_html_and_pdf(db, people):
    _dataset(db, people)
    with db.session() as s:
        chair = s.get(User, people.charity_chair.id)
        add_incident(s, chair, Marking.AMBER, day=date(2026, 11, 3), area=BIRMINGHAM)
    pack = _build(db, people.charity_chair)
    assert pack.marking is Marking.AMBER
    assert pack.organisation_names == ["Test Council", "Test Refugee Charity"]
    assert pack.pdf_filename == "briefing-pack-TLP-AMBER-2026-11-24.pdf"

    html = briefing.render_html(pack)
    assert '<p class="banner" id="briefing-banner-top"><strong>TLP:AMBER</strong>' in html
    assert '<p class="banner" id="briefing-banner-bottom"><strong>TLP:AMBER</strong>' in html
    assert "@top-center" in html and "@bottom-center" in html  # on every printed page

    pdf = briefing.render_pdf(pack)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    for page in reader.pages:  # the banner at the top and bottom of every page
        assert page.extract_text().count("TLP:AMBER") >= 2
    text = _pdf_text(pdf)
    assert "Limited disclosure" in text
    assert "Test Refugee Charity" in text


def test_brief003b_the_pdf_is_tagged_so_a_screen_reader_finds_its_headings_tables_and_map(db, people):
    _dataset(db, people)
    pack = _build(db, people.charity_chair)
    html = briefing.render_html(pack)
    pdf = briefing.render_pdf(pack)
    tags = pdf_tags(pdf)
    assert tags.marked and tags.lang == "en-GB" and tags.shows_title  # the title, not the file name
    assert tags.title.startswith("TLP:GREEN Briefing pack for Winter quarterly meeting on 10 December 2026")
    kinds = [kind for kind, _alt in tags.elements]
    assert kinds.count("/H1") == 1 and kinds.index("/H1") < kinds.index("/H2")
    assert kinds.count("/H2") == html.count("<h2") and kinds.count("/H3") == html.count("<h3")
    # every table, with its caption and its header cells (read out with each data cell)
    assert kinds.count("/Table") == html.count("<table") == len(re.findall(r"<caption>", html))
    assert kinds.count("/TH") == len(re.findall(r"<th[ >]", html))
    (map_alt,) = tags.of("/Figure")
    assert map_alt.startswith("Map of the latest tension level in each district on 24 November 2026")

    # on paper, each table's caption is on the page of its first rows, not alone at a page's foot
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    for caption, first_heading in re.findall(r"<caption>([^<]+)</caption>\s*<thead><tr><th[^>]*>([^<]+)<", html):
        (page,) = [text for text in pages if caption in text]
        assert first_heading in page.split(caption, 1)[1], f"the caption {caption!r} is parted from its table"


def test_brief004_an_amber_record_listing_the_chairs_organisation_counts_and_names_its_source(db, people):
    with db.session() as s:
        _meetings(s)
        cora = s.get(User, people.council_member.id)
        charity = s.get(Organisation, people.charity.id)
        add_incident(s, cora, Marking.AMBER, day=date(2026, 11, 3), listed=[charity])
        pat = s.get(User, people.police_member.id)
        add_incident(s, pat, Marking.AMBER, day=date(2026, 11, 3))  # not listed: not seen
    pack = _build(db, people.charity_chair)
    assert pack.headline.incidents == 1
    assert pack.marking is Marking.AMBER
    assert pack.organisation_names == ["Test Council"]


def test_brief005_a_pack_with_no_records_says_so_under_tlp_clear(db, people):
    pack = _build(db, people.charity_chair)
    assert pack.marking is None and pack.organisations == ()
    assert pack.banner_marking == "TLP:CLEAR"
    assert pack.outline.for_meeting == "the next meeting (date not yet recorded)"
    assert pack.outline.last_meeting_on is None
    html = briefing.render_html(pack)
    assert "<strong>TLP:CLEAR</strong> Contains no records." in html
    assert "this pack contains no records" in html
    assert "the next meeting (date not yet recorded)" in html
    assert pack.pdf_filename == "briefing-pack-TLP-CLEAR-2026-11-24.pdf"


def test_brief006_record_text_is_escaped(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        s.add(Meeting(held_on=MEETING, title="<script>alert('meeting')</script>"))
        s.add(TriggerEvent(kind="rally or march", title="<script>alert(1)</script> & <b>rally</b>",
                           starts_on=date(2026, 12, 5), ends_on=date(2026, 12, 5), region_wide=True,
                           created_by_id=cora.id))
        meeting = Meeting(held_on=date(2026, 9, 1), title="Older meeting")
        s.add(meeting)
        s.flush()
        s.add(Action(meeting_id=meeting.id, description='<img src=x onerror="alert(2)">', lead="<i>lead</i>",
                     owner_org_id=cora.organisation_id, due_on=date(2026, 11, 1), status=ActionStatus.NOT_STARTED))
    html = briefing.render_html(_build(db, people.charity_chair))
    assert "<script>" not in html and "<img" not in html and "<i>lead" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;rally&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#39;meeting&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html


def test_brief007_actions_done_overdue_and_due_by_the_next_meeting(db, people):
    with db.session() as s:
        _meetings(s)
        cora = s.get(User, people.council_member.id)
        autumn = s.scalar(select(Meeting).where(Meeting.title == "Autumn quarterly meeting"))

        def action(description, due_on, status):
            a = Action(meeting_id=autumn.id, description=description, owner_org_id=cora.organisation_id,
                       lead="Cora Council", due_on=due_on, status=status)
            s.add(a)
            s.flush()
            return a

        action("Overdue leaflet clean-up", date(2026, 11, 1), ActionStatus.IN_PROGRESS)
        action("Due before the next meeting", date(2026, 12, 1), ActionStatus.NOT_STARTED)
        action("Due after the next meeting", date(2027, 1, 20), ActionStatus.NOT_STARTED)
        done = action("Finished community briefing", date(2026, 11, 30), ActionStatus.DONE)
        s.add(ActionUpdate(action_id=done.id, user_id=cora.id, at=datetime(2026, 11, 2, 10, tzinfo=UTC),
                           status=ActionStatus.DONE, progress=100, note="Held"))
        gone = Meeting(held_on=date(2026, 9, 1), title="Deleted meeting", deleted_at=datetime(2026, 9, 2, tzinfo=UTC))
        s.add(gone)
        s.flush()
        s.add(Action(meeting_id=gone.id, description="Action of a deleted meeting", owner_org_id=cora.organisation_id,
                     due_on=date(2026, 10, 1), status=ActionStatus.NOT_STARTED))
    pack = _build(db, people.charity_chair)
    assert pack.actions_horizon == NEXT_MEETING
    assert [a.description for a in pack.actions.overdue] == ["Overdue leaflet clean-up"]
    assert [a.description for a in pack.actions.due] == ["Due before the next meeting"]
    assert [a.description for a in pack.actions.done] == ["Finished community briefing"]
    assert pack.headline.overdue_actions == 1  # the deleted meeting's action went with it
    html = briefing.render_html(pack)
    overdue, due, done_html = (html.index(f'id="briefing-actions-{k}"') for k in ("overdue", "due", "done"))
    assert overdue < html.index("Overdue leaflet clean-up") < due
    assert due < html.index("Due before the next meeting") < done_html
    assert html.index("Finished community briefing") > done_html
    assert "Due after the next meeting" not in html and "Action of a deleted meeting" not in html


def test_brief008_the_demo_notice_follows_the_database(db, people):
    assert "synthetic demonstration data" in briefing.render_html(_build(db, people.charity_chair, demo=True))
    assert "synthetic demonstration data" not in briefing.render_html(_build(db, people.charity_chair))


def test_brief009_only_the_chair_builds_a_pack(db, people):
    for user in (people.police_member, people.sci, people.council_admin):
        with db.session() as s, pytest.raises(briefing.BriefingPermissionError):
            briefing.build_pack(s, viewer_of(db, user), TODAY)
    left = replace(viewer_of(db, people.charity_chair), organisation_active=False)
    with db.session() as s, pytest.raises(briefing.BriefingPermissionError):
        briefing.build_pack(s, left, TODAY)


# --- the static map ---------------------------------------------------------------------------


def test_brief020_the_map_draws_every_district_with_its_level_number_and_a_legend():
    shapes = district_shapes()
    assert len(shapes) == 65
    levels = {BIRMINGHAM: (4, date(2026, 11, 10)), RUTLAND: (3, date(2026, 11, 12))}
    svg = tension_map_svg(levels, TODAY, id_prefix="m")
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and "tension level" in root.get("aria-label")
    assert root.find(f"{SVG}title").text.startswith("Map of the latest tension level")
    desc = root.find(f"{SVG}desc").text
    assert desc == ("Latest tension level of the 65 districts on 24 November 2026: 1 at level 4 High, "
                    "1 at level 3 Elevated, and 63 with no assessment you may see.")
    paths = root.findall(f"{SVG}g[@class='districts']/{SVG}path")
    assert len(paths) == 65
    titles = {p.find(f"{SVG}title").text for p in paths}
    assert "Birmingham: level 4 High, assessed 10 November 2026" in titles
    assert "Coventry: No assessment" in titles
    hatched = [p for p in paths if p.get("fill") == "url(#m-hatch)"]
    assert len(hatched) == 63
    numbers = [t.text for t in root.iter(f"{SVG}text") if t.text in {"1", "2", "3", "4", "5"}]
    assert sorted(numbers) == ["1", "2", "3", "3", "4", "4", "5"]  # two on the map, five in the legend
    legend = " ".join(t.text for t in root.find(f"{SVG}g[@class='legend']").iter(f"{SVG}text"))
    for words in ("Low (0)", "Elevated (1)", "High (1)", "Critical (0)", "No assessment (63)"):
        assert words in legend


# --- the web routes and the page --------------------------------------------------------------


@pytest.fixture
def web(db, people, tmp_path, monkeypatch):
    import callbacks.briefing
    import dashboard.briefing_web

    monkeypatch.setattr(callbacks.briefing, "today", lambda: TODAY)
    monkeypatch.setattr(dashboard.briefing_web, "_today", lambda: TODAY)
    settings = Settings.from_env(
        {"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": SECRET},
        database_url=db.url,
        testing=True,
        second_factor_roles=frozenset(),  # see conftest.settings
    )
    return create_app(settings, db)


def sign_in(client, email):
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def _audits(db) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "briefing-built").order_by(AuditEvent.id)))


def test_brief030_the_chair_gets_the_html_and_the_pdf_and_each_build_is_audited(db, people, web):
    _dataset(db, people)
    client = web.server.test_client()
    sign_in(client, people.charity_chair.email)

    response = client.get("/briefing/pack")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>") and 'lang="en-GB"' in page
    assert "<strong>TLP:GREEN</strong>" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")

    response = client.get("/briefing/pack.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="briefing-pack-TLP-GREEN-2026-11-24.pdf"'
    )
    assert response.data.startswith(b"%PDF")
    assert "TLP:GREEN" in _pdf_text(response.data)

    events = _audits(db)
    assert [e.detail["format"] for e in events] == ["html", "pdf"]
    assert {e.user_id for e in events} == {people.charity_chair.id}
    assert events[0].record_type == "briefing"
    assert events[0].detail["marking"] == "TLP:GREEN"
    assert (events[0].detail["period_start"], events[0].detail["period_end"]) == ("2026-10-16", "2026-11-24")
    assert events[0].detail["organisations"] == ["Test Council"]
    assert set(events[0].detail) == {"format", "period_start", "period_end", "marking", "organisations"}


@pytest.mark.parametrize("who", ["police_member", "sci", "council_admin"])
def test_brief031_other_roles_are_refused_both_routes(db, people, web, who):
    client = web.server.test_client()
    sign_in(client, getattr(people, who).email)
    for path in ("/briefing/pack", "/briefing/pack.pdf"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.mimetype == "text/html"
        assert b"Only the chair can build the briefing pack" in response.data
    assert _audits(db) == []


def test_brief032_anonymous_requests_go_to_sign_in(db, people, web):
    client = web.server.test_client()
    for path in ("/briefing/pack", "/briefing/pack.pdf"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def _open_page(client, path):
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def _find(tree, component_id):
    """The props of the component with this id in a Dash JSON response."""
    if isinstance(tree, dict):
        if tree.get("id") == component_id:
            return tree
        items = tree.values()
    elif isinstance(tree, list):
        items = tree
    else:
        return None
    for item in items:
        found = _find(item, component_id)
        if found is not None:
            return found
    return None


def _download(client):
    body = {
        "output": "..briefing-pdf-download.data...briefing-pdf-status.children..",
        "outputs": [{"id": "briefing-pdf-download", "property": "data"},
                    {"id": "briefing-pdf-status", "property": "children"}],
        "inputs": [{"id": "briefing-pdf-button", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["briefing-pdf-button.n_clicks"],
    }
    token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def test_brief033_the_page_explains_the_pack_and_downloads_the_pdf(db, people, web):
    _dataset(db, people)
    client = web.server.test_client()
    sign_in(client, people.charity_chair.email)
    client.get("/")
    response = _open_page(client, "/briefing")
    assert response.status_code == 200
    content = response.get_data(as_text=True)
    assert "What the pack covers" in content
    period = _find(json.loads(content), "briefing-period")["children"]
    assert period == ("16 October 2026 to 24 November 2026 (40 days), since the last meeting "
                      "(Autumn quarterly meeting, 15 October 2026).")
    assert _find(json.loads(content), "briefing-next-meeting")["children"] == "Winter quarterly meeting, 10 December 2026"
    link = _find(json.loads(content), "briefing-open")
    assert (link["href"], link["target"], link["rel"]) == ("/briefing/pack", "_blank", "noopener noreferrer")
    assert "opens in a new tab" in json.dumps(link["children"])

    response = _download(client)
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))["response"]
    download = data["briefing-pdf-download"]["data"]
    assert download["filename"] == "briefing-pack-TLP-GREEN-2026-11-24.pdf"
    assert download["type"] == "application/pdf"
    assert download["base64"] is True and download["content"].startswith("JVBER")  # %PDF
    assert [e.detail["format"] for e in _audits(db)] == ["pdf"]


def test_brief034_a_member_cannot_use_the_page_or_its_download(db, people, web):
    client = web.server.test_client()
    sign_in(client, people.police_member.email)
    client.get("/")
    assert "Your role does not give access to this page" in _open_page(client, "/briefing").get_data(as_text=True)
    assert _download(client).status_code == 204
    assert _audits(db) == []


def test_brief035_a_chair_whose_organisation_has_left_gets_no_pack(db, people, web):
    client = web.server.test_client()
    sign_in(client, people.charity_chair.email)
    with db.session() as s:
        s.get(Organisation, people.charity.id).membership_status = "left"
    for path in ("/briefing/pack", "/briefing/pack.pdf"):
        response = client.get(path)  # the session ends with the membership: back to sign-in
        assert response.status_code in (302, 403), path
        assert b"%PDF" not in response.data and b"Briefing pack" not in response.data
    assert _audits(db) == []
