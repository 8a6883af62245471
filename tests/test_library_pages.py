"""The good practice library's pages through the real app (Flask test client and Dash's router):
the search page for every role, the search callback and the address bar, a resource with its
external link, the form with errors linked to their fields, the version conflict, delete; the
national team (SCI) reads but a forged save or delete writes nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import library
from dashboard.access import Viewer
from dashboard.config import Settings
from dashboard.models import AuditEvent, Resource, User
from dashboard.reference import ResourceKind
from layouts import library as layout
from tests.conftest import SECRET, field_error_text, make_people
from tests.test_meeting_pages import by_id, post, summary_links
from tests.test_record_pages import components, open_page, response_of, sign_in, text_of

TODAY = date.today()
BIRMINGHAM, DERBY = "E08000025", "E06000015"
REFUSAL = "Your role does not give access to this page"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


@pytest.fixture
def web(db, tmp_path, password_hash):
    """The app on a fresh database of each backend, with its people, a resource added by Test Police
    for Birmingham, and the joint party statement."""
    settings = Settings.from_env({"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": SECRET},
                                 database_url=db.url, testing=True,
                                 second_factor_roles=frozenset())  # see conftest.settings
    with db.session() as s:
        people = make_people(s, password_hash)
        guide = library.create(s, viewer(s, people.police_member), resource_form())
        statement = Resource(kind=ResourceKind.STATEMENT.value, title="Joint statement on respectful campaigning",
                             summary="Parties commit to respectful campaigning.", topic="elections",
                             published_on=TODAY - timedelta(days=60))
        s.add(statement)
        s.flush()
        ids = {"guide": guide, "statement": statement.id}
    return create_app(settings, db), db, people, ids


def resource_form(**changes) -> dict:
    values = {"kind": ResourceKind.GOOD_PRACTICE.value, "title": "Responding to far-right leafleting",
              "summary": "A guide for councils.\nStep 1: <b>report it</b>.", "topic": "Elections",
              "link": "https://www.example.org/leafleting.pdf",
              "published_on": (TODAY - timedelta(days=10)).isoformat(), "areas": [BIRMINGHAM]}
    return values | changes


def form_values(form: dict | None = None, **changes) -> dict:
    form = form or resource_form()
    values = {f"{layout.FIELD_IDS[name]}.value": form[name] for name in layout.FIELD_IDS}
    return values | {"resource-form-save.n_clicks": 1} | changes


def count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Resource))


def resource_events(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).where(AuditEvent.action.like("resource-%")))


# --- every role ------------------------------------------------------------------------------------------------


def test_libp001_the_pages_for_each_role(web):
    app, _db, people, ids = web
    guide, statement = ids["guide"], ids["statement"]
    member, other, chair, sci, admin = (sign_in(app, u.email) for u in (
        people.police_member, people.council_member, people.charity_chair, people.sci, people.council_admin))

    for client in (member, other, chair, sci, admin):
        listing = open_page(client, "/library")
        assert "Good practice library" in listing and "Responding to far-right leafleting" in listing
        record = open_page(client, f"/library/{guide}")
        assert "Responding to far-right leafleting" in record and "Test Police" in record
        assert "Pat Police" not in record and "pat.police" not in record  # the organisation, never the person
    # partners add; SCI reads only
    for client in (member, other, chair, admin):
        assert "library-add" in open_page(client, "/library")
        assert "Add to the library" in open_page(client, "/library/new")
    assert "library-add" not in open_page(sci, "/library")
    for path in ("/library/new", f"/library/{guide}/edit"):
        page = open_page(sci, path)
        assert REFUSAL in page and "Add to the library" not in page, path
    # the adding organisation, the chair and admins change it; another organisation cannot
    for client in (member, chair, admin):
        assert "resource-edit-link" in open_page(client, f"/library/{guide}")
        assert "Save changes" in open_page(client, f"/library/{guide}/edit")
    for client in (other, sci):
        assert "resource-edit-link" not in open_page(client, f"/library/{guide}")
        assert "resource-delete-dialog" not in open_page(client, f"/library/{guide}")
    refused = open_page(other, f"/library/{guide}/edit")
    assert "Only Test Police, chairs and administrators can change this resource" in refused
    assert "Save changes" not in refused
    # the statement: listed for partners, linking to its own page; SCI never sees it
    listing = json.loads(open_page(member, "/library"))
    assert by_id(listing)[f"library-link-{statement}"]["props"]["href"] == "/statement"
    assert "See which districts have adopted it" in open_page(member, f"/library/{statement}")
    assert "Save changes" not in open_page(chair, f"/library/{statement}/edit")
    assert "Joint statement" not in open_page(sci, "/library")
    assert "not found or is not available to you" in open_page(sci, f"/library/{statement}")
    # missing and junk addresses
    for path in ("/library/999999", "/library/abc", "/library/999999/edit", "/library/-1/edit"):
        assert "not found or is not available to you" in open_page(member, path), path


def test_libp002_the_resource_page_shows_its_link_as_an_external_link_and_text_as_text(web):
    app, db, people, ids = web
    sci = sign_in(app, people.sci.email)
    page = json.loads(open_page(sci, f"/library/{ids['guide']}"))
    found = by_id(page)
    link = found["resource-link"]["props"]
    assert link["href"] == "https://www.example.org/leafleting.pdf" and link["rel"] == "noopener noreferrer"
    assert text_of(found["resource-link"]).startswith("https://www.example.org/leafleting.pdf")
    assert found["resource-summary-text"]["props"]["children"] == "A guide for councils.\nStep 1: <b>report it</b>."
    assert "All districts" not in json.dumps(found["resource-summary"]) and "Birmingham" in json.dumps(
        found["resource-summary"])
    assert not any("dangerously_allow_html" in c["props"] for c in components(page))
    # a link saved before the checks (or by hand) that is not a web address is never a link
    with db.session() as s:
        s.get(Resource, ids["guide"]).link = "javascript:alert(1)"
    page = json.loads(open_page(sci, f"/library/{ids['guide']}"))
    assert "resource-link" not in by_id(page)
    assert not any(str(c["props"].get("href", "")).lower().startswith("javascript") for c in components(page))


# --- searching ---------------------------------------------------------------------------------------------


def search(app, client, **values) -> dict:
    inputs = {f"{layout.SEARCH_IDS[k]}.value": values.get(k, "" if k == "text" else layout.ANY)
              for k in layout.SEARCH_IDS}
    return response_of(post(app, client, f"{layout.SEARCH_BUTTON}.n_clicks",
                            inputs | {f"{layout.SEARCH_BUTTON}.n_clicks": 1}))


def test_libp003_search_by_topic_and_district_and_the_address_bar_keeps_it(web):
    app, db, people, ids = web
    with db.session() as s:
        library.create(s, viewer(s, people.council_member), resource_form(
            title="Removing hate stickers", topic="Stickers and graffiti", areas=[DERBY], link=""))
    sci = sign_in(app, people.sci.email)
    found = search(app, sci, topic="Elections")
    results = json.dumps(found["library-results"]["children"])
    assert "Responding to far-right leafleting" in results and "Removing hate stickers" not in results
    assert found["library-count"]["children"] == "1 resource matches your search, newest first."
    assert found["library-query"]["data"] == "?topic=Elections"

    found = search(app, sci, area=DERBY, text="hate")
    assert "Removing hate stickers" in json.dumps(found["library-results"]["children"])
    assert found["library-query"]["data"] == f"?text=hate&area={DERBY}"
    nothing = search(app, sci, text="no such words")
    assert "No resources match" in json.dumps(nothing["library-results"]["children"])

    # opening the address: the controls and the results follow it
    page = json.loads(open_page(sci, f"/library?topic=elections&area={BIRMINGHAM}"))
    controls = by_id(page)
    assert controls[layout.SEARCH_IDS["topic"]]["props"]["value"] == "Elections"
    assert controls[layout.SEARCH_IDS["area"]]["props"]["value"] == BIRMINGHAM
    assert "Responding to far-right leafleting" in json.dumps(controls["library-results"])
    assert "Removing hate stickers" not in json.dumps(controls["library-results"])
    assert controls["library-query"]["props"]["data"] == f"?topic=Elections&area={BIRMINGHAM}"
    # a resource for the whole region shows in every district's search, and says so
    with db.session() as s:
        regional = library.create(s, viewer(s, people.charity_chair), resource_form(
            title="Community reassurance checklist", topic="Reassurance", areas=[]))
    rows = by_id(json.loads(open_page(sci, f"/library?area={DERBY}")))
    assert "All districts (the whole region)" in text_of(rows[f"library-row-{regional}"])
    assert "Birmingham" in text_of(by_id(json.loads(open_page(sci, "/library")))[f"library-row-{ids['guide']}"])
    assert f"library-row-{ids['guide']}" not in rows
    # junk in the address is ignored, never an error
    junk = open_page(sci, "/library?kind=<script>&area=nowhere&page=abc&topic=" + "x" * 300)
    assert "Responding to far-right leafleting" in junk


def test_libp004_a_disabled_account_gets_nothing_from_the_search(web):
    app, db, people, _ids = web
    member = sign_in(app, people.council_member.email)
    with db.session() as s:
        s.get(User, people.council_member.id).status = "disabled"
    assert post(app, member, f"{layout.SEARCH_BUTTON}.n_clicks",
                {f"{layout.SEARCH_BUTTON}.n_clicks": 1}).status_code in (204, 401)


# --- the form ------------------------------------------------------------------------------------------------


def test_libp005_a_member_adds_a_resource_after_fixing_the_errors(web):
    app, db, people, _ids = web
    member = sign_in(app, people.council_member.email)
    page = json.loads(open_page(member, "/library/new"))
    found = list(components(page))
    labels = {c["props"].get("html_for"): text_of(c) for c in found if c["type"] == "Label"}
    legends = [text_of(c) for c in found if c["type"] == "Legend"]
    for name, component_id in layout.FIELD_IDS.items():
        if name in layout.GROUPS:
            assert any(legend.startswith(library.FIELD_LABELS[name]) for legend in legends), name
        else:
            assert labels[component_id].startswith(library.FIELD_LABELS[name]), name

    bad = resource_form(kind=None, title=" ", link="javascript:alert(document.cookie)", areas=["E99999999"])
    response = response_of(post(app, member, "resource-form-save.n_clicks", form_values(bad)))
    assert response["resource-form-errors"]["hidden"] is False
    links = summary_links(response, "resource-form-errors")
    assert set(links) == {"#resource-form-kind-0", "#resource-form-title", "#resource-form-link",
                          "#resource-form-areas-0"}
    assert "starting with https://" in links["#resource-form-link"]
    assert "starting with https://" in field_error_text(response["resource-form-link-error"]["children"])
    assert response["resource-form-link"]["invalid"] is True and response["resource-form-topic"]["invalid"] is False
    assert "resource-redirect" not in response
    before = count(db)

    response = response_of(post(app, member, "resource-form-save.n_clicks",
                                form_values(resource_form(title="Myths about asylum hotels", link=""))))
    assert response["resource-form-errors"]["hidden"] is True
    with db.session() as s:
        made = s.scalar(select(Resource.id).where(Resource.title == "Myths about asylum hotels"))
        assert s.get(Resource, made).organisation_id == people.council.id
    assert count(db) == before + 1
    assert response["resource-redirect"]["href"] == f"/library/{made}?done=created"
    assert "The resource was added to the library." in open_page(member, f"/library/{made}?done=created")


def test_libp006_a_forged_save_or_delete_by_the_national_team_writes_nothing(web):
    app, db, people, ids = web
    guide = ids["guide"]
    with db.session() as s:
        version = s.get(Resource, guide).version
    sci = sign_in(app, people.sci.email)
    before = (count(db), resource_events(db))
    assert post(app, sci, "resource-form-save.n_clicks", form_values()).status_code == 204
    assert post(app, sci, "resource-form-save.n_clicks", form_values(resource_form(title="Forged"), **{
        "resource-form-record.data": guide, "resource-form-version.data": version})).status_code == 204
    assert post(app, sci, "resource-conflict-overwrite.n_clicks", form_values(resource_form(title="Forged"), **{
        "resource-conflict-overwrite.n_clicks": 1, "resource-form-record.data": guide,
        "resource-conflict-version.data": version})).status_code == 204
    assert post(app, sci, "resource-delete-confirm.n_clicks", {
        "resource-delete-confirm.n_clicks": 1, "resource-record.data": {"id": guide, "version": version}}
    ).status_code == 204
    # another organisation's member gets through the role check, and the domain refuses
    other = sign_in(app, people.council_member.email)
    refused = response_of(post(app, other, "resource-form-save.n_clicks", form_values(resource_form(title="Forged"), **{
        "resource-form-record.data": guide, "resource-form-version.data": version})))
    assert "Nothing was saved. Only the organisation that added a resource" in text_of(
        refused["resource-form-errors"]["children"])
    deleted = response_of(post(app, other, "resource-delete-confirm.n_clicks", {
        "resource-delete-confirm.n_clicks": 1, "resource-record.data": {"id": guide, "version": version}}))
    assert field_error_text(deleted["resource-delete-error"]["children"]).startswith("The resource was not deleted.")
    assert (count(db), resource_events(db)) == before
    with db.session() as s:
        saved = s.get(Resource, guide)
        assert saved.title == "Responding to far-right leafleting" and saved.deleted_at is None
        assert saved.version == version


def test_libp007_a_stale_edit_shows_both_versions_and_the_person_chooses(web):
    app, db, people, ids = web
    guide = ids["guide"]
    with db.session() as s:
        version = s.get(Resource, guide).version
    member = sign_in(app, people.police_member.email)
    page = by_id(json.loads(open_page(member, f"/library/{guide}/edit")))
    assert page["resource-form-title"]["props"]["value"] == "Responding to far-right leafleting"
    assert page["resource-form-areas"]["props"]["value"] == [BIRMINGHAM]
    assert page["resource-form-version"]["props"]["data"] == version

    with db.session() as s:  # the chair saves meanwhile
        library.edit(s, viewer(s, people.charity_chair), guide, resource_form(title="Chair's title"), version)
    mine = form_values(resource_form(title="My title"), **{
        "resource-form-record.data": guide, "resource-form-version.data": version})
    response = response_of(post(app, member, "resource-form-save.n_clicks", mine))
    problem = text_of(response["resource-form-errors"]["children"])
    assert "Someone else changed this resource while you were editing it (by someone at Test Refugee Charity" \
        in problem and "Nothing was saved." in problem
    assert response["resource-conflict"]["hidden"] is False
    rows = [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(response["resource-conflict-table"]["children"]) if row["type"] == "Tr"]
    assert ["Title", "My title", "Chair's title", "Differs"] in rows
    assert ["Districts", "Birmingham", "Birmingham", "Same"] in rows
    current = response["resource-conflict-version"]["data"]
    assert current == version + 1

    discarded = response_of(post(app, member, "resource-conflict-discard.n_clicks", mine | {
        "resource-conflict-discard.n_clicks": 1, "resource-conflict-version.data": current}))
    assert discarded["resource-form-title"]["value"] == "Chair's title"
    assert discarded["resource-form-version"]["data"] == current

    overwrite = response_of(post(app, member, "resource-conflict-overwrite.n_clicks", mine | {
        "resource-conflict-overwrite.n_clicks": 1, "resource-conflict-version.data": current}))
    assert overwrite["resource-redirect"]["href"] == f"/library/{guide}?done=updated"
    with db.session() as s:
        assert s.get(Resource, guide).title == "My title"


def test_libp008_the_adding_organisation_deletes_after_confirming(web):
    app, db, people, ids = web
    guide = ids["guide"]
    with db.session() as s:
        version = s.get(Resource, guide).version
    member = sign_in(app, people.police_member2.email)  # a colleague of the one who added it
    dialog = by_id(json.loads(open_page(member, f"/library/{guide}")))["resource-delete-dialog"]
    assert dialog["props"]["is_open"] is False and "Reason (optional)" in json.dumps(dialog)
    opened = response_of(post(app, member, "resource-delete.n_clicks", {"resource-delete.n_clicks": 1}))
    assert opened["resource-delete-dialog"]["is_open"] is True
    deleted = response_of(post(app, member, "resource-delete-confirm.n_clicks", {
        "resource-delete-confirm.n_clicks": 1, "resource-delete-reason.value": "Replaced",
        "resource-record.data": {"id": guide, "version": version}}))
    assert deleted["resource-redirect"]["href"] == f"/library?deleted={guide}"
    listing = open_page(member, f"/library?deleted={guide}")
    assert f"Resource #{guide} was deleted from the library." in listing
    assert "Responding to far-right leafleting" not in listing
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "resource-deleted")).one()
        assert event.reason == "Replaced" and event.user_id == people.police_member2.id
