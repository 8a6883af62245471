"""The action tracker and an action's page through the real app (Dash's own endpoints, the way the
browser calls them): the tracker's order, text ratings and summary; its filters and "my
organisation's actions" kept in the address bar; the progress form saving for the owner's member
and refused for another organisation's (nothing written); the version conflict; the outcome chart
with its sentence and table; and nothing at all for the national team (SCI)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import actions, assessments, meetings
from dashboard.access import Viewer
from dashboard.models import Action, ActionUpdate, User
from dashboard.reference import Marking
from layouts import actions as layout
from tests.conftest import add_incident, field_error_text, make_people
from tests.test_record_pages import call, components, open_page, response_of, sign_in, text_of

TODAY = date.today()
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
def web(settings, db, password_hash):
    """The app on each test database with one meeting and five actions of every rating: the
    police own an overdue one, a blocked one and a done one; the council one due soon and one
    on track."""
    with db.session() as s:
        people = make_people(s, password_hash)
        chair = viewer(s, people.charity_chair)
        meeting = meetings.create_meeting(s, chair, {
            "held_on": days(-60), "kind": "quarterly", "title": "Quarterly meeting",
            "attendees": [people.police.id, people.council.id], "agenda": "", "minutes": ""})

        def action(description, owner, due, **more):
            return actions.create_action(s, chair, {
                "meeting": meeting, "description": description, "owner": owner.id, "lead": "A. Lead",
                "due_on": days(due), "areas": [BIRMINGHAM], **more})

        ids = {
            "on_track": action("Run a community safety workshop", people.council, 40),
            "overdue": action("Brief faith leaders on the leafleting", people.police, -12),
            "due_soon": action("Publish the myth-buster leaflet", people.council, 5),
            "blocked": action("Share the CCTV review", people.police, 30, status="blocked",
                              note="Waiting for the data-sharing agreement."),
            "done": action("Write to the party agents", people.police, -20, status="done", note="Sent."),
        }
    return create_app(settings, db), db, people, meeting, ids


def tracker_rows(page_json) -> list[list[str]]:
    table = next(c for c in components(page_json) if c["props"].get("id") == "actions-tracker-table")
    return [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(table) if row["type"] == "Tr"]


def found(tree, id_):
    return next(c for c in components(tree) if c["props"].get("id") == id_)


def filter_values(**chosen) -> dict:
    values = {f"{layout.FILTER_IDS[key]}.value": layout.ANY for key in layout.FILTER_KEYS}
    values[f"{layout.VIEW_ID}.value"] = layout.VIEW_ALL
    for key, value in chosen.items():
        target = layout.VIEW_ID if key == "view" else layout.FILTER_IDS[key]
        values[f"{target}.value"] = value
    return values


# --- the tracker ---------------------------------------------------------------------------------------


def test_act001_the_tracker_lists_overdue_first_with_ratings_in_words(web):
    app, _db, people, _meeting, ids = web
    client = sign_in(app, people.council_member.email)
    page = json.loads(open_page(client, "/actions"))
    rows = tracker_rows(page)
    assert rows[0] == ["Rating", "Action", "Owner organisation", "Lead", "Meeting", "Due date", "Status",
                       "Progress", "Districts"]
    ratings = [row[0] for row in rows[1:]]
    # the symbol is part of the badge, the words say it: overdue first, then by due date
    assert [r[1:] for r in ratings] == ["Overdue (12 days)", "Due soon", "Blocked", "On track", "Done"]
    assert rows[1][1] == "Brief faith leaders on the leafleting" and rows[1][2] == "Test Police"
    assert rows[1][6] == "Not started" and rows[1][7] == "0%" and rows[1][8] == "Birmingham"
    assert rows[5][7] == "100%"
    # each action links to its page; headers have their scope; the table has a caption
    table = found(page, "actions-tracker-table")
    links = [c["props"]["href"] for c in components(table) if c["type"] == "Link"]
    assert f"/actions/{ids['overdue']}" in links and f"/actions/{ids['done']}" in links
    assert all(c["props"].get("scope") for c in components(table) if c["type"] == "Th")
    assert text_of(found(page, "actions-tracker-table")["props"]["children"][0]).startswith("5 actions")
    assert text_of(found(page, "actions-summary")) == (
        "5 actions: 1 overdue, 2 due soon or blocked, 1 on track and 1 done or dropped.")
    assert text_of(found(page, "actions-count")) == "Showing all 5 actions, overdue first."
    # every filter is a labelled control
    labels = {c["props"].get("html_for"): text_of(c) for c in components(page) if c["type"] == "Label"}
    for key, text in (("owner", "Owner organisation"), ("meeting", "Meeting"), ("area", "District"),
                      ("status", "Status"), ("rag", "Rating")):
        assert labels[layout.FILTER_IDS[key]] == text
    assert "actions-add" not in json.dumps(page)  # only chairs record actions
    chair = sign_in(app, people.charity_chair.email)
    assert "actions-add" in open_page(chair, "/actions")


def test_act002_filters_and_my_organisations_actions_go_through_the_callback_and_the_address_bar(web):
    app, _db, people, meeting, ids = web
    client = sign_in(app, people.police_member.email)
    mine = response_of(call(app, client, f"{layout.VIEW_ID}.value", filter_values(view="mine")))
    text = json.dumps(mine["actions-table"]["children"])
    assert "Brief faith leaders" in text and "Share the CCTV review" in text and "Write to the party" in text
    assert "community safety workshop" not in text and "myth-buster" not in text
    assert mine["actions-query"]["data"] == "?view=mine"
    assert mine["actions-summary"]["children"] == \
        "3 actions: 1 overdue, 1 due soon or blocked, 0 on track and 1 done or dropped."

    owner = response_of(call(app, client, f"{layout.FILTER_IDS['owner']}.value",
                             filter_values(owner=str(people.council.id), rag="amber")))
    text = json.dumps(owner["actions-table"]["children"])
    assert "myth-buster" in text and "workshop" not in text and "CCTV" not in text
    assert owner["actions-query"]["data"] == f"?owner={people.council.id}&rag=amber"

    none = response_of(call(app, client, f"{layout.FILTER_IDS['area']}.value",
                            filter_values(area=COVENTRY, meeting=str(meeting))))
    assert "No actions match these filters" in json.dumps(none["actions-table"]["children"])
    assert none["actions-summary"]["children"] == "No actions match."

    # the address bar's view is the page's: the controls are set and the list filtered
    page = json.loads(open_page(client, "/actions?view=mine&status=blocked&owner=nonsense"))
    assert found(page, layout.VIEW_ID)["props"]["value"] == "mine"
    assert found(page, layout.FILTER_IDS["status"])["props"]["value"] == "blocked"
    assert found(page, layout.FILTER_IDS["owner"])["props"]["value"] == layout.ANY  # unknown: all
    rows = tracker_rows(page)
    assert len(rows) == 2 and rows[1][1] == "Share the CCTV review" and rows[1][0][1:] == "Blocked"


def test_act003_the_national_team_gets_nothing(web):
    app, db, people, _meeting, ids = web
    sci = sign_in(app, people.sci.email)
    for path in ("/actions", f"/actions/{ids['overdue']}", "/actions?view=mine"):
        page = open_page(sci, path)
        assert "Your role does not give access to this page" in page and "Brief faith" not in page
    assert call(app, sci, f"{layout.VIEW_ID}.value", filter_values(view="mine")).status_code == 204
    assert call(app, sci, "action-update-save.n_clicks", update_values(ids["overdue"], 1)).status_code == 204
    assert call(app, sci, "action-outcome-area.value", {
        "action-outcome-area.value": BIRMINGHAM,
        "action-record.data": {"id": ids["overdue"], "version": 1}}).status_code == 204
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ActionUpdate)) == 2  # the seed's two


# --- the action's page ------------------------------------------------------------------------------------


def update_values(action_id: int, version: int, status="in progress", progress=50, note="Met the leaders.") -> dict:
    return {
        "action-update-save.n_clicks": 1, "action-update-status.value": status,
        "action-update-progress.value": progress, "action-update-note.value": note,
        "action-record.data": {"id": action_id, "version": version}, "action-update-version.data": version,
    }


def test_act004_the_action_page_shows_its_fields_links_and_the_form_to_the_owner(web):
    app, db, people, meeting, _ids = web
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        green = add_incident(s, people.police_member, Marking.GREEN, day=TODAY - timedelta(days=70),
                             title="Leaflets on Park Road").id
        hidden = add_incident(s, people.charity_chair, Marking.AMBER_STRICT, day=TODAY - timedelta(days=70),
                              title="Charity-only report").id
        made = actions.create_action(s, chair, {
            "meeting": meeting, "description": "Visit the mosques on Park Road", "owner": people.police.id,
            "lead": "Inspector Shah", "due_on": days(-3), "areas": [BIRMINGHAM, COVENTRY],
            "incidents": [green, hidden]})
    police = sign_in(app, people.police_member.email)
    page = open_page(police, f"/actions/{made}")
    tree = json.loads(page)
    assert text_of(found(tree, "action-title")) == "Visit the mosques on Park Road"
    summary = text_of(found(tree, "action-summary"))
    for words in ("Overdue (3 days)", "Not started", "0%", "Test Police", "Inspector Shah", "Quarterly meeting"):
        assert words in summary
    assert found(tree, "action-meeting-link")["props"]["href"] == f"/meetings/{meeting}"
    hrefs = [c["props"].get("href") for c in components(tree) if c["type"] in ("Link", "A")]
    assert f"/?area={BIRMINGHAM}" in hrefs and f"/?area={COVENTRY}" in hrefs
    assert f"/incidents/{green}" in hrefs and f"/incidents/{hidden}" not in hrefs
    assert "Charity-only" not in page
    # the owner's member gets the form (labelled), prefilled with the action as it is; no edit link
    form = found(tree, "action-update")
    labels = {c["props"].get("html_for"): text_of(c) for c in components(form) if c["type"] == "Label"}
    assert labels["action-update-progress"].startswith("Progress (%)")
    assert labels["action-update-note"].startswith("Progress note")
    assert any(text_of(c).startswith("Status") for c in components(form) if c["type"] == "Legend")
    assert found(tree, "action-update-status")["props"]["value"] == "not started"
    assert "action-edit-link" not in page
    # another organisation's member sees the action but no form; the chair gets the edit link
    council = open_page(sign_in(app, people.council_member.email), f"/actions/{made}")
    assert "Visit the mosques" in council and '"action-update-save"' not in council
    assert "Only members of the owner organisation and the chair can record progress" in council
    chair_page = json.loads(open_page(sign_in(app, people.charity_chair.email), f"/actions/{made}"))
    assert found(chair_page, "action-edit-link")["props"]["href"] == f"/actions/{made}/edit"
    assert "Charity-only report" in json.dumps(chair_page)
    # missing and malformed ids get the same answer
    answers = {open_page(police, p) for p in ("/actions/999999", "/actions/abc")}
    assert len(answers) == 1 and "not found or is not available to you" in answers.pop()


def test_act005_the_owners_member_records_progress_and_sees_it_in_the_updates(web):
    app, db, people, _meeting, ids = web
    client = sign_in(app, people.police_member.email)
    response = response_of(call(app, client, "action-update-save.n_clicks", update_values(ids["overdue"], 1)))
    assert response["action-update-errors"]["hidden"] is True
    assert response["action-status"]["children"].startswith("Your progress update was saved: In progress, 50%.")
    updates = found(response["action-updates-block"]["children"], "action-updates-table")
    first = [text_of(cell) for cell in found(updates, "action-updates-0")["props"]["children"]]
    assert first[1:] == ["Pat Police", "Test Police", "In progress", "50%", "Met the leaders."]
    assert "Overdue (12 days)" in text_of(response["action-summary-block"]["children"])
    assert "50%" in text_of(response["action-summary-block"]["children"])
    assert response["action-update-note"]["value"] == ""
    with db.session() as s:
        saved = s.get(Action, ids["overdue"])
        assert (saved.status, saved.progress) == ("in progress", 50)
        assert response["action-update-version"]["data"] == saved.version
        assert s.scalars(select(ActionUpdate).where(ActionUpdate.action_id == saved.id)).one().note == \
            "Met the leaders."
    # the page shows it too, in the progress updates with when (UK time) and who
    page = open_page(client, f"/actions/{ids['overdue']}")
    assert "Met the leaders." in page and "Pat Police" in page and ("GMT" in page or "BST" in page)


def test_act006_bad_input_is_named_and_nothing_is_written(web):
    app, db, people, _meeting, ids = web
    client = sign_in(app, people.police_member.email)
    bad = response_of(call(app, client, "action-update-save.n_clicks",
                           update_values(ids["overdue"], 1, status="blocked", progress=150, note="")))
    summary = bad["action-update-errors"]
    assert summary["hidden"] is False
    links = {c["props"]["href"]: text_of(c) for c in components(summary["children"]) if c["type"] == "A"}
    assert "whole number from 0 to 100" in links["#action-update-progress"]
    assert "progress note" in links["#action-update-note"].lower()
    assert bad["action-update-progress"]["invalid"] is True
    assert field_error_text(bad["action-update-progress-error"]["children"]).startswith("Enter the progress")
    with db.session() as s:
        assert s.get(Action, ids["overdue"]).progress == 0
        assert s.scalar(select(func.count()).where(ActionUpdate.action_id == ids["overdue"])) == 0


def test_act007_another_organisations_member_cannot_update_even_by_forging_the_request(web):
    app, db, people, _meeting, ids = web
    council = sign_in(app, people.council_member.email)
    response = response_of(call(app, council, "action-update-save.n_clicks", update_values(ids["overdue"], 1)))
    problem = text_of(response["action-update-errors"]["children"])
    assert "Nothing was saved" in problem and "Test Police" in problem
    assert "action-updates-block" not in response
    with db.session() as s:
        saved = s.get(Action, ids["overdue"])
        assert (saved.status, saved.progress, saved.version) == ("not started", 0, 1)
        assert s.scalar(select(func.count()).where(ActionUpdate.action_id == ids["overdue"])) == 0
    # the chair may update any action
    chair = sign_in(app, people.charity_chair.email)
    done = response_of(call(app, chair, "action-update-save.n_clicks",
                            update_values(ids["overdue"], 1, status="done", progress=20, note="")))
    assert "Done, 100%" in done["action-status"]["children"]


def test_act008_a_conflict_says_so_shows_the_action_as_saved_and_overwrites_nothing(web):
    app, db, people, _meeting, ids = web
    with db.session() as s:  # a colleague saves first
        actions.update_progress(s, viewer(s, people.police_member2), ids["overdue"], 1, status="in progress",
                                progress=30, note="Paul's update")
    client = sign_in(app, people.police_member.email)
    response = response_of(call(app, client, "action-update-save.n_clicks",
                                update_values(ids["overdue"], 1, progress=60, note="Pat's update")))
    problem = text_of(response["action-update-errors"]["children"])
    assert "Someone else updated this action after you opened it" in problem and "nothing was overwritten" in problem
    assert response["action-update-conflict"]["hidden"] is False
    shown = text_of(response["action-update-conflict"]["children"])
    assert "In progress" in shown and "30%" in shown
    assert "Paul's update" in json.dumps(response["action-updates-block"]["children"])
    assert "value" not in response["action-update-note"]  # the person's entries stay in the form
    with db.session() as s:
        saved = s.get(Action, ids["overdue"])
        assert saved.progress == 30
        notes = list(s.scalars(select(ActionUpdate.note).where(ActionUpdate.action_id == saved.id)))
        assert notes == ["Paul's update"]
        assert response["action-update-version"]["data"] == saved.version


# --- the outcome chart ---------------------------------------------------------------------------------


def test_act009_the_outcome_chart_has_its_sentence_caption_and_table(web):
    app, db, people, meeting, _ids = web
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        for n in (-80, -75, -70, -10, -9):
            add_incident(s, people.police_member, Marking.GREEN, day=TODAY + timedelta(days=n), area=BIRMINGHAM)
        add_incident(s, people.council_member, Marking.GREEN, day=TODAY - timedelta(days=40), area=COVENTRY)
        assessments.create_assessment(s, viewer(s, people.council_member), assessments.AssessmentForm(
            area_code=BIRMINGHAM, assessed_on=(TODAY - timedelta(days=90)).isoformat(), level="4",
            trend="rising", confidence="high", rationale="Leafleting."))
        made = actions.create_action(s, chair, {
            "meeting": meeting, "description": "Reassurance patrols", "owner": people.police.id,
            "due_on": days(-30), "areas": [BIRMINGHAM, COVENTRY]})
        expected = actions.outcome(s, chair, made, BIRMINGHAM, TODAY)
        coventry = actions.outcome(s, chair, made, COVENTRY, TODAY)
    client = sign_in(app, people.charity_chair.email)
    tree = json.loads(open_page(client, f"/actions/{made}"))
    section = found(tree, "action-outcome")
    chooser = found(section, "action-outcome-area")
    assert chooser["props"]["value"] == BIRMINGHAM and len(chooser["props"]["options"]) == 2
    figure = found(section, "action-outcome-graph")["props"]["figure"]
    kinds = [(t["type"], t.get("yaxis", "y")) for t in figure["data"]]
    assert kinds == [("bar", "y"), ("scatter", "y2")]
    assert sum(figure["data"][0]["y"]) == sum(w.incidents for w in expected.weeks) == 5
    assert figure["layout"]["yaxis2"]["ticktext"] == ["1 Low", "2 Moderate", "3 Elevated", "4 High", "5 Critical"]
    assert figure["layout"]["shapes"][0]["type"] == "rect"
    assert figure["layout"]["annotations"][0]["text"].startswith("Action period: agreed")
    assert found(section, "action-outcome-graph")["props"]["config"]["displayModeBar"] is False
    assert text_of(found(section, "action-outcome-summary")) == expected.sentence()
    assert "Birmingham" in text_of(found(section, "action-outcome-caption"))
    table = found(section, "action-outcome-data-table")
    rows = [[text_of(cell) for cell in row["props"]["children"]] for row in components(table) if row["type"] == "Tr"]
    assert rows[0] == ["Week starting", "Incidents", "Tension level", "The action"]
    assert len(rows) == len(expected.weeks) + 1
    assert rows[1][2] == "Not assessed" and rows[-1][2] == "4 High"  # assessed 90 days ago, still the latest
    assert {r[3] for r in rows[1:]} >= {"Before it was agreed", "Under way"}
    assert found(section, "action-outcome-table-toggle")["props"]["aria-expanded"] == "false"

    other = response_of(call(app, client, "action-outcome-area.value", {
        "action-outcome-area.value": COVENTRY, "action-record.data": {"id": made, "version": 1}}))
    assert other["action-outcome-summary"]["children"] == coventry.sentence()
    assert sum(other["action-outcome-graph"]["figure"]["data"][0]["y"]) == 1
    # a district the action is not linked to is refused
    assert call(app, client, "action-outcome-area.value", {
        "action-outcome-area.value": "E08000027", "action-record.data": {"id": made, "version": 1}}
    ).status_code == 204
    toggled = response_of(call(app, client, "action-outcome-table-toggle.n_clicks",
                               {"action-outcome-table-toggle.n_clicks": 1}))
    assert toggled["action-outcome-table-collapse"]["is_open"] is True
    assert toggled["action-outcome-table-toggle"]["children"] == "Hide table"


def test_act010_the_outcome_counts_only_what_the_viewer_may_see(web):
    app, db, people, meeting, _ids = web
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        add_incident(s, people.police_member, Marking.AMBER_STRICT, day=TODAY - timedelta(days=70),
                     area=BIRMINGHAM, title="Police-only")
        made = actions.create_action(s, chair, {
            "meeting": meeting, "description": "Reassurance patrols", "owner": people.police.id,
            "due_on": days(-30), "areas": [BIRMINGHAM]})
    council = json.loads(open_page(sign_in(app, people.council_member.email), f"/actions/{made}"))
    police = json.loads(open_page(sign_in(app, people.police_member.email), f"/actions/{made}"))
    council_y = found(council, "action-outcome-graph")["props"]["figure"]["data"][0]["y"]
    police_y = found(police, "action-outcome-graph")["props"]["figure"]["data"][0]["y"]
    assert sum(council_y) == 0 and sum(police_y) == 1
    assert "action-outcome-area" not in json.dumps(council)  # one district: no chooser
