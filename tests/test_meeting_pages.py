"""The meeting pages and the chair's action form through the real app: the list, a meeting with its
attendance, agenda, minutes (as text, never markup), actions and history, the chair's forms with
errors linked to their fields, the version conflict shown side by side, delete; members read but
cannot write (the server refuses a forged save), and the national team (SCI) gets nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import actions, meetings
from dashboard.access import Viewer
from dashboard.config import Settings
from dashboard.models import Action, Meeting, User
from dashboard.reference import Marking
from layouts import action_form as action_layout
from layouts import meetings as meeting_layout
from tests.conftest import SECRET, add_incident, field_error_text, make_people
from tests.test_record_pages import components, open_page, response_of, sign_in, text_of

TODAY = date.today()
BIRMINGHAM = "E08000025"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


@pytest.fixture
def web(db, tmp_path, password_hash):
    """The app on a fresh database of each backend (SQLite and PostgreSQL), with its people."""
    settings = Settings.from_env({"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": SECRET},
                                 database_url=db.url, testing=True,
                                 second_factor_roles=frozenset())  # see conftest.settings
    with db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, db), db, people


def meeting_form(**changes) -> dict:
    values = {"held_on": (TODAY - timedelta(days=7)).isoformat(), "kind": "quarterly",
              "title": "Quarterly meeting, spring", "attendees": [], "agenda": "1. Welcome\n2. Tensions",
              "minutes": "Agreed to share leaflet reports."}
    return values | changes


def add_meeting(db, people, **changes) -> int:
    with db.session() as s:
        return meetings.create_meeting(s, viewer(s, people.charity_chair), meeting_form(**changes))


def post(app, client, trigger: str, values: dict, patterns: dict | None = None):
    """Post the callback whose inputs include `trigger` ("id.prop") the way dash-renderer does:
    `values` by "id.prop"; `patterns` gives, by type, the pattern-matching components on the page
    as (id, value) pairs, used for their inputs, states and outputs alike."""
    patterns = patterns or {}
    key = next(k for k, spec in app.callback_map.items()
               if any(f"{d['id']}.{d['property']}" == trigger for d in spec["inputs"]))
    spec = app.callback_map[key]

    def item(dep):
        raw = dep["id"]
        if raw.startswith("{"):
            kind = json.loads(raw)["type"]
            return [{"id": ident, "property": dep["property"], "value": value}
                    for ident, value in patterns.get(kind, [])]
        return {"id": raw, "property": dep["property"], "value": values.get(f"{raw}.{dep['property']}")}

    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        prop = prop.split("@")[0]
        if ident.startswith("{"):
            kind = json.loads(ident)["type"]
            outputs.append([{"id": i, "property": prop} for i, _value in patterns.get(kind, [])])
        else:
            outputs.append({"id": ident, "property": prop})
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec["state"]],
        "changedPropIds": [trigger],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": client.get_cookie("_csrf_token").value,
                                "Content-Type": "application/json"})


def meeting_values(form: dict | None = None, **changes) -> dict:
    form = form or meeting_form()
    values = {f"{meeting_layout.FIELD_IDS[name]}.value": form[name] for name in meeting_layout.FIELD_IDS}
    return values | {"meeting-form-save.n_clicks": 1} | changes


def summary_links(response: dict, summary_id: str) -> dict[str, str]:
    return {c["props"]["href"]: text_of(c) for c in components(response[summary_id]["children"])
            if c["type"] == "A"}


def by_id(page) -> dict:
    return {json.dumps(c["props"]["id"]) if isinstance(c["props"].get("id"), dict) else c["props"].get("id"): c
            for c in components(page) if c["props"].get("id")}


# --- meetings ------------------------------------------------------------------------------------------


def test_meet001_a_chair_records_a_meeting_and_it_appears_in_the_list(web):
    app, db, people = web
    chair = sign_in(app, people.charity_chair.email)
    empty = open_page(chair, "/meetings")
    assert "No meetings have been recorded yet." in empty and "Record a meeting" in empty

    page = json.loads(open_page(chair, "/meetings/new"))
    found = list(components(page))
    labels = {c["props"].get("html_for"): text_of(c) for c in found if c["type"] == "Label"}
    legends = [text_of(c) for c in found if c["type"] == "Legend"]
    for name, component_id in meeting_layout.FIELD_IDS.items():
        if name in meeting_layout.GROUPS:
            assert any(legend.startswith(meetings.FIELD_LABELS[name]) for legend in legends), name
        else:
            assert labels[component_id].startswith(meetings.FIELD_LABELS[name]), name
    assert "Test Council" in json.dumps(page)  # organisations to tick as attending

    form = meeting_form(attendees=[people.police.id, people.council.id])
    response = response_of(post(app, chair, "meeting-form-save.n_clicks", meeting_values(form)))
    assert response["meeting-form-errors"]["hidden"] is True
    with db.session() as s:
        saved = s.scalars(select(Meeting)).one()
        assert {o.name for o in saved.attendees} == {"Test Police", "Test Council"}
    assert response["meeting-redirect"]["href"] == f"/meetings/{saved.id}?done=created"

    listing = json.loads(open_page(chair, "/meetings"))
    row = by_id(listing)[f"meeting-list-row-{saved.id}"]
    cells = [text_of(cell) for cell in row["props"]["children"]]
    day = TODAY - timedelta(days=7)
    assert cells[0] == f"{day.day} {day:%b %Y}" and cells[1] == "Quarterly meeting"
    assert cells[2] == "Quarterly meeting, spring" and cells[3].startswith("2 organisations")
    assert "Test Council" in cells[3] and "Test Police" in cells[3]  # the names, behind the count
    assert cells[4] == "No actions"
    assert any(c["type"] == "Link" and c["props"]["href"] == f"/meetings/{saved.id}" for c in components(row))

    record = open_page(chair, f"/meetings/{saved.id}?done=created")
    assert "The meeting was recorded." in record and "1. Welcome\\n2. Tensions" in record
    assert f"/actions/new?meeting={saved.id}" in record and "Created by Chris Chair" in record

    # filtered by kind: another kind has none
    other = response_of(post(app, chair, "meeting-list-kind.value", {"meeting-list-kind.value": "extraordinary"}))
    assert "No meetings of this kind have been recorded." in json.dumps(other["meeting-list"]["children"])
    same = response_of(post(app, chair, "meeting-list-kind.value", {"meeting-list-kind.value": "quarterly"}))
    assert "Quarterly meeting, spring" in json.dumps(same["meeting-list"]["children"])


def test_meet002_bad_input_is_shown_by_field_and_nothing_is_saved(web):
    app, db, people = web
    chair = sign_in(app, people.charity_chair.email)
    bad = meeting_form(held_on="2026-02-30", kind=None, title="  ", attendees=[999_999])
    response = response_of(post(app, chair, "meeting-form-save.n_clicks", meeting_values(bad)))
    summary = response["meeting-form-errors"]
    assert summary["hidden"] is False and "There is a problem" in text_of(summary["children"])
    links = summary_links(response, "meeting-form-errors")
    assert set(links) == {"#meeting-form-held-on", "#meeting-form-kind-0", "#meeting-form-title",
                          "#meeting-form-attendees-0"}
    assert links["#meeting-form-kind-0"] == "Choose the kind of meeting from the list."
    assert links["#meeting-form-title"].startswith("Enter a title for the meeting")
    # each error beside its field, and the invalid flag on single inputs
    assert field_error_text(response["meeting-form-title-error"]["children"]).startswith("Enter a title")
    assert field_error_text(response["meeting-form-kind-error"]["children"]) == "Choose the kind of meeting from the list."
    assert response["meeting-form-title"]["invalid"] is True and response["meeting-form-agenda"]["invalid"] is False
    assert "meeting-redirect" not in response
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0


def test_meet003_members_read_meetings_but_cannot_change_them(web):
    app, db, people = web
    made = add_meeting(db, people, title="Quarterly meeting, summer")
    with db.session() as s:
        version = s.get(Meeting, made).version
    member = sign_in(app, people.police_member.email)
    listing = open_page(member, "/meetings")
    assert "Quarterly meeting, summer" in listing and "meeting-new-link" not in listing
    record = open_page(member, f"/meetings/{made}")
    assert "Quarterly meeting, summer" in record
    for control in ("meeting-edit-link", '"meeting-delete"', "meeting-add-action", "meeting-delete-dialog"):
        assert control not in record, control
    for path in ("/meetings/new", f"/meetings/{made}/edit"):
        assert "Only the chair records meetings" in open_page(member, path)
    assert "Only the chair adds actions" in open_page(member, f"/actions/new?meeting={made}")

    # forged requests: a new meeting, an edit, a delete: all refused on the server
    assert post(app, member, "meeting-form-save.n_clicks", meeting_values()).status_code == 204
    assert post(app, member, "meeting-form-save.n_clicks", meeting_values(
        meeting_form(title="Forged"), **{"meeting-form-record.data": made,
                                         "meeting-form-version.data": version})).status_code == 204
    assert post(app, member, "meeting-delete-confirm.n_clicks", {
        "meeting-delete-confirm.n_clicks": 1,
        "meeting-record.data": {"id": made, "version": version}}).status_code == 204
    with db.session() as s:  # the domain refuses too, whatever reaches it
        with pytest.raises(meetings.MeetingPermissionError):
            meetings.update_meeting(s, viewer(s, people.police_member), made, version, meeting_form(title="Forged"))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1
        saved = s.get(Meeting, made)
        assert saved.title == "Quarterly meeting, summer" and saved.deleted_at is None

    # the national team: no page, no callback
    sci = sign_in(app, people.sci.email)
    assert "Your role does not give access to this page" in open_page(sci, f"/meetings/{made}")
    assert "Quarterly meeting, summer" not in open_page(sci, "/meetings")
    assert post(app, sci, "meeting-list-kind.value", {"meeting-list-kind.value": "quarterly"}).status_code == 204


def test_meet004_minutes_with_markup_are_shown_as_text(web):
    app, db, people = web
    minutes = "Agreed:\n<script>alert('x')</script>\n<b>bold</b> [link](javascript:alert(1))"
    made = add_meeting(db, people, minutes=minutes, agenda="")
    member = sign_in(app, people.council_member.email)
    page = json.loads(open_page(member, f"/meetings/{made}"))
    shown = by_id(page)["meeting-minutes"]
    assert shown["type"] == "Pre" and shown["props"]["children"] == minutes  # the text itself, line breaks kept
    kinds = {c["type"] for c in components(page)}
    assert "Markdown" not in kinds and "Iframe" not in kinds
    assert not any("dangerously_allow_html" in c["props"] for c in components(page))
    assert by_id(page)["meeting-agenda"]["props"]["children"] == "No agenda recorded."


def test_meet005_a_stale_edit_shows_both_versions_and_the_chair_chooses(web):
    app, db, people = web
    made = add_meeting(db, people)
    with db.session() as s:
        version = s.get(Meeting, made).version
    chair = sign_in(app, people.charity_chair.email)
    page = json.loads(open_page(chair, f"/meetings/{made}/edit"))
    found = by_id(page)
    assert found["meeting-form-title"]["props"]["value"] == "Quarterly meeting, spring"
    assert found["meeting-form-kind"]["props"]["value"] == "quarterly"
    assert found["meeting-form-version"]["props"]["data"] == version

    with db.session() as s:  # saved meanwhile, from another tab
        meetings.update_meeting(s, viewer(s, people.charity_chair), made, version,
                                meeting_form(title="Their title", attendees=[people.council.id]))
    mine = meeting_values(meeting_form(title="My title"), **{
        "meeting-form-record.data": made, "meeting-form-version.data": version})
    response = response_of(post(app, chair, "meeting-form-save.n_clicks", mine))
    problem = text_of(response["meeting-form-errors"]["children"])
    assert "Someone else changed this meeting while you were editing it (by Chris Chair (Test Refugee Charity)" \
        in problem and "Nothing was saved." in problem
    assert response["meeting-conflict"]["hidden"] is False
    rows = [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(response["meeting-conflict-table"]["children"]) if row["type"] == "Tr"]
    assert ["Title", "My title", "Their title", "Differs"] in rows
    assert ["Organisations attending", "(blank)", "Test Council", "Differs"] in rows
    assert ["Kind of meeting", "Quarterly meeting", "Quarterly meeting", "Same"] in rows
    assert "meeting-redirect" not in response
    with db.session() as s:
        current = s.get(Meeting, made).version
        assert s.get(Meeting, made).title == "Their title"
    assert response["meeting-conflict-version"]["data"] == current

    discarded = response_of(post(app, chair, "meeting-conflict-discard.n_clicks", mine | {
        "meeting-conflict-discard.n_clicks": 1, "meeting-conflict-version.data": current}))
    assert discarded["meeting-form-title"]["value"] == "Their title"
    assert discarded["meeting-form-attendees"]["value"] == [people.council.id]
    assert discarded["meeting-form-version"]["data"] == current and discarded["meeting-conflict"]["hidden"]

    overwrite = response_of(post(app, chair, "meeting-conflict-overwrite.n_clicks", mine | {
        "meeting-conflict-overwrite.n_clicks": 1, "meeting-conflict-version.data": current}))
    assert overwrite["meeting-redirect"]["href"] == f"/meetings/{made}?done=updated"
    with db.session() as s:
        assert s.get(Meeting, made).title == "My title"
    record = open_page(chair, f"/meetings/{made}?done=updated")
    assert "Your changes were saved" in record and "Their title" in record  # the history keeps both


def test_meet006_the_chair_deletes_a_meeting_after_confirming(web):
    app, db, people = web
    made = add_meeting(db, people, title="Recorded twice")
    with db.session() as s:
        version = s.get(Meeting, made).version
    chair = sign_in(app, people.charity_chair.email)
    record = json.loads(open_page(chair, f"/meetings/{made}"))
    dialog = by_id(record)["meeting-delete-dialog"]
    assert dialog["props"]["is_open"] is False and "Reason (optional)" in json.dumps(dialog)
    opened = response_of(post(app, chair, "meeting-delete.n_clicks", {"meeting-delete.n_clicks": 1}))
    assert opened["meeting-delete-dialog"]["is_open"] is True

    stale = response_of(post(app, chair, "meeting-delete-confirm.n_clicks", {
        "meeting-delete-confirm.n_clicks": 1, "meeting-record.data": {"id": made, "version": version + 5}}))
    assert "The meeting was not deleted." in field_error_text(stale["meeting-delete-error"]["children"])

    deleted = response_of(post(app, chair, "meeting-delete-confirm.n_clicks", {
        "meeting-delete-confirm.n_clicks": 1, "meeting-delete-reason.value": "Recorded twice",
        "meeting-record.data": {"id": made, "version": version}}))
    assert deleted["meeting-redirect"]["href"] == f"/meetings?deleted={made}"
    listing = open_page(chair, f"/meetings?deleted={made}")
    assert f"Meeting #{made} was deleted" in listing and "No meetings have been recorded yet." in listing
    assert "not found or is not available to you" in open_page(chair, f"/meetings/{made}")


# --- the action form ---------------------------------------------------------------------------------------


def action_values(page_found: dict, **changes) -> dict:
    values = {
        "action-form-meeting.value": page_found["action-form-meeting"]["props"]["value"],
        "action-form-description.value": "Send the myth-busting leaflet to ward councillors",
        "action-form-owner.value": None, "action-form-lead.value": "Cohesion team",
        "action-form-due-on.value": (TODAY + timedelta(days=30)).isoformat(),
        "action-form-status.value": "not started", "action-form-progress.value": "0",
        "action-form-triggers.value": [], "action-form-incidents.value": "", "action-form-note.value": "",
        "action-form-form-save.n_clicks": 1,
    }
    return values | changes


def area_groups(page) -> list:
    """The district checklists on the form, as (id, value) pairs."""
    return [(c["props"]["id"], c["props"]["value"]) for c in components(page)
            if isinstance(c["props"].get("id"), dict) and c["props"]["id"].get("type") == action_layout.AREAS_TYPE]


def test_meet007_the_chair_adds_an_action_that_links_to_incidents_and_districts(web):
    app, db, people = web
    made = add_meeting(db, people)
    with db.session() as s:
        green = add_incident(s, s.get(User, people.police_member.id), Marking.GREEN, title="Leaflets at the mosque").id
        hidden = add_incident(s, s.get(User, people.police_member.id), Marking.AMBER_STRICT,
                              title="Police only").id
    chair = sign_in(app, people.charity_chair.email)
    page = json.loads(open_page(chair, f"/actions/new?meeting={made}"))
    found = by_id(page)
    assert found["action-form-meeting"]["props"]["value"] == str(made)  # preselected from the address
    groups = area_groups(page)
    assert groups, "districts are offered, grouped by police force area"
    legends = [text_of(c) for c in components(page) if c["type"] == "Legend"]
    assert "West Midlands Police" in legends
    labels = {c["props"].get("html_for"): text_of(c) for c in components(page) if c["type"] == "Label"}
    for name in action_layout.SINGLE:
        assert labels[action_layout.FIELD_IDS[name]].startswith(actions.FIELD_LABELS[name]), name

    # the districts: tick Birmingham in its force's list
    ticked = []
    for ident, _value in groups:
        options = next(c for c in components(page) if c["props"].get("id") == ident)["props"]["options"]
        ticked.append((ident, [BIRMINGHAM] if any(o["value"] == BIRMINGHAM for o in options) else []))

    # typed incidents are looked up as the chair types: titles for those shared, the same words otherwise
    preview = response_of(post(app, chair, "action-form-incidents.value",
                               {"action-form-incidents.value": f"{green}, {hidden}, 999999"}))
    shown = json.dumps(preview["action-form-incidents-found"]["children"])
    assert "Leaflets at the mosque" in shown and "Police only" not in shown
    assert f"#{hidden}: not found, or not shared with you." in shown

    # a typing slip and an incident not shared with the chair: errors on the incidents field
    slip = response_of(post(app, chair, "action-form-form-save.n_clicks", action_values(
        found, **{"action-form-owner.value": str(people.council.id),
                  "action-form-incidents.value": f"{green}, abc"}), {action_layout.AREAS_TYPE: ticked}))
    links = summary_links(slip, "action-form-form-errors")
    assert "\u201cabc\u201d is not an incident number" in links["#action-form-incidents"]
    refused = response_of(post(app, chair, "action-form-form-save.n_clicks", action_values(
        found, **{"action-form-owner.value": str(people.council.id),
                  "action-form-incidents.value": f"{green}, {hidden}"}), {action_layout.AREAS_TYPE: ticked}))
    assert str(hidden) in summary_links(refused, "action-form-form-errors")["#action-form-incidents"]
    missing = response_of(post(app, chair, "action-form-form-save.n_clicks", action_values(
        found, **{"action-form-description.value": ""}), {action_layout.AREAS_TYPE: ticked}))
    links = summary_links(missing, "action-form-form-errors")
    assert "#action-form-description" in links and "#action-form-owner" in links
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0

    saved = response_of(post(app, chair, "action-form-form-save.n_clicks", action_values(
        found, **{"action-form-owner.value": str(people.council.id),
                  "action-form-incidents.value": f"#{green}"}), {action_layout.AREAS_TYPE: ticked}))
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert action.meeting_id == made and action.owner_org_id == people.council.id
        assert [i.id for i in action.incidents] == [green] and [a.code for a in action.areas] == [BIRMINGHAM]
    assert saved["action-form-redirect"]["href"] == f"/actions/{action.id}?done=created"

    record = json.loads(open_page(chair, f"/meetings/{made}"))
    row = by_id(record)[f"meeting-action-{action.id}"]
    cells = [text_of(cell) for cell in row["props"]["children"]]
    assert cells[:2] == ["Send the myth-busting leaflet to ward councillors", "Test Council"]
    assert cells[4:] == ["Not started", "On track", "0%"]
    assert any(c["type"] == "Link" and c["props"]["href"] == f"/actions/{action.id}" for c in components(row))
    listing = open_page(chair, "/meetings")
    assert "1 action: 1 open, " in listing

    # the edit page shows the linked incidents with their titles
    edit = json.loads(open_page(chair, f"/actions/{action.id}/edit"))
    assert by_id(edit)["action-form-incidents"]["props"]["value"] == str(green)
    assert "Leaflets at the mosque" in json.dumps(by_id(edit)["action-form-incidents-found"])
    # a member may not open it, nor save it by a forged request
    member = sign_in(app, people.council_member.email)
    assert "Only the chair adds actions" in open_page(member, f"/actions/{action.id}/edit")
    forged = post(app, member, "action-form-form-save.n_clicks", action_values(
        found, **{"action-form-owner.value": str(people.council.id), "action-form-form-record.data": action.id,
                  "action-form-form-version.data": action.version, "action-form-description.value": "Forged"}),
        {action_layout.AREAS_TYPE: ticked})
    assert forged.status_code == 204
    with db.session() as s:
        assert s.get(Action, action.id).description.startswith("Send the myth-busting")


def test_meet008_a_stale_action_edit_shows_both_versions(web):
    app, db, people = web
    made = add_meeting(db, people)
    with db.session() as s:
        chair_viewer = viewer(s, people.charity_chair)
        action_id = actions.create_action(s, chair_viewer, {
            "meeting": made, "description": "Brief the faith forum", "owner": people.police.id, "lead": "",
            "due_on": (TODAY + timedelta(days=20)).isoformat(), "status": "not started", "progress": "0"})
    chair = sign_in(app, people.charity_chair.email)
    page = json.loads(open_page(chair, f"/actions/{action_id}/edit"))
    found = by_id(page)
    assert found["action-form-description"]["props"]["value"] == "Brief the faith forum"
    version = found["action-form-form-version"]["props"]["data"]
    with db.session() as s:  # the police update its progress meanwhile
        actions.update_progress(s, viewer(s, people.police_member), action_id, version,
                                status="in progress", progress="40", note="Met the forum's secretary.")
    groups = area_groups(page)
    mine = action_values(found, **{
        "action-form-owner.value": str(people.police.id), "action-form-description.value": "Brief the faith forums",
        "action-form-form-record.data": action_id, "action-form-form-version.data": version})
    response = response_of(post(app, chair, "action-form-form-save.n_clicks", mine,
                                {action_layout.AREAS_TYPE: groups}))
    assert "Someone else changed this action while you were editing it (by Pat Police (Test Police)" in text_of(
        response["action-form-form-errors"]["children"])
    assert response["action-form-conflict"]["hidden"] is False
    rows = [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(response["action-form-conflict-table"]["children"]) if row["type"] == "Tr"]
    assert ["Action", "Brief the faith forums", "Brief the faith forum", "Differs"] in rows
    assert ["Status", "Not started", "In progress", "Differs"] in rows
    assert ["Owner organisation", "Test Police", "Test Police", "Same"] in rows
    with db.session() as s:
        assert s.get(Action, action_id).description == "Brief the faith forum"
        current = s.get(Action, action_id).version
    assert response["action-form-conflict-version"]["data"] == current

    discarded = response_of(post(app, chair, "action-form-conflict-discard.n_clicks", mine | {
        "action-form-conflict-discard.n_clicks": 1, "action-form-conflict-version.data": current},
        {action_layout.AREAS_TYPE: groups}))
    assert discarded["action-form-status"]["value"] == "in progress"
    assert discarded["action-form-progress"]["value"] == "40"
    assert discarded["action-form-form-version"]["data"] == current

    # saved over the current version: the fields by the edit, the status by a progress update
    fresh = mine | {"action-form-form-version.data": current, "action-form-status.value": "blocked",
                    "action-form-progress.value": "40"}
    blocked = response_of(post(app, chair, "action-form-form-save.n_clicks", fresh,
                               {action_layout.AREAS_TYPE: groups}))
    assert "#action-form-note" in summary_links(blocked, "action-form-form-errors")  # blocked needs a reason
    with db.session() as s:
        assert s.get(Action, action_id).description == "Brief the faith forum"  # all or nothing
    saved = response_of(post(app, chair, "action-form-form-save.n_clicks", fresh | {
        "action-form-note.value": "The forum has not met since June."}, {action_layout.AREAS_TYPE: groups}))
    assert saved["action-form-redirect"]["href"] == f"/actions/{action_id}?done=edited"
    with db.session() as s:
        action = s.get(Action, action_id)
        assert (action.description, action.status, action.progress) == ("Brief the faith forums", "blocked", 40)
        assert action.updates[-1].note == "The forum has not met since June."


def test_meet009_the_action_form_needs_a_meeting_and_refuses_the_national_team(web):
    app, db, people = web
    chair = sign_in(app, people.charity_chair.email)
    assert "no meeting has been recorded yet" in open_page(chair, "/actions/new")
    made = add_meeting(db, people)
    page = json.loads(open_page(chair, "/actions/new?meeting=999999"))
    assert by_id(page)["action-form-meeting"]["props"]["value"] == ""  # an unknown meeting is not chosen
    sci = sign_in(app, people.sci.email)
    assert "Your role does not give access to this page" in open_page(sci, f"/actions/new?meeting={made}")
    assert post(app, sci, "action-form-form-save.n_clicks", action_values(
        by_id(page), **{"action-form-meeting.value": str(made), "action-form-owner.value": str(people.police.id)}),
        {action_layout.AREAS_TYPE: area_groups(page)}).status_code == 204
    assert post(app, sci, "action-form-incidents.value", {"action-form-incidents.value": "1"}).status_code == 204
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0
