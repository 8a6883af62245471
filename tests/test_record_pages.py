"""The incident and tension-assessment pages through the real app: forms with labelled fields, the
record with its marking and history, the same answer for a missing and a hidden record, and the
callbacks that save (errors linked to their fields, a new record, the version conflict shown side
by side), delete and restore; the national team (SCI) can do none of it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import assessments, incidents
from dashboard.access import Viewer
from dashboard.models import Incident, TensionAssessment, User
from dashboard.reference import Marking
from layouts import assessment as assessment_layout
from layouts import incident as incident_layout
from tests.conftest import TEST_PASSWORD, csrf_from, field_error_text, make_people

BIRMINGHAM, COVENTRY = "E08000025", "E08000026"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def incident_form(**changes) -> incidents.IncidentForm:
    values = {"title": "Leaflets on Park Road", "occurred_on": YESTERDAY, "area_code": BIRMINGHAM,
              "category_code": "literature", "description": "About 200 leaflets.", "severity": "2",
              "marking": Marking.GREEN.value}
    return incidents.IncidentForm(**(values | changes))


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def sign_in(app, email: str):
    client = app.server.test_client()
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    client.get("/")  # sets the CSRF cookie Dash reads
    return client


def open_page(client, path: str) -> str:
    """What Dash's router answers for `path`: the page's components, as JSON text."""
    pathname, _, search = path.partition("?")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": f"?{search}" if search else ""}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = client.post("/_dash-update-component", json=body,
                           headers={"X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert response.status_code == 200
    return json.dumps(response.get_json()["response"]["_pages_content"]["children"])


def components(tree):
    """Every component in a layout (as JSON), depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict) and "props" in tree:
        yield tree
        for value in tree["props"].values():
            yield from components(value)


def text_of(tree) -> str:
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list):
        return "".join(text_of(t) for t in tree)
    if isinstance(tree, dict) and "props" in tree:
        return text_of(tree["props"].get("children"))
    return ""


def call(app, client, trigger: str, values: dict, pattern: dict | None = None):
    """Post the callback whose inputs include `trigger` ("id.prop") the way dash-renderer does,
    with `values` by "id.prop" and, for pattern-matching inputs, `pattern` by their type."""
    def matches(dep) -> bool:
        if trigger.startswith("{"):  # a pattern-matching input: the same type
            ident, prop = trigger.rsplit(".", 1)
            return dep["id"].startswith("{") and json.loads(dep["id"])["type"] == json.loads(ident)["type"] \
                and dep["property"] == prop
        return f"{dep['id']}.{dep['property']}" == trigger

    key = next(k for k, spec in app.callback_map.items() if any(matches(d) for d in spec["inputs"]))
    spec = app.callback_map[key]

    def item(dep):
        raw = dep["id"]
        if raw.startswith("{"):
            return (pattern or {}).get(json.loads(raw)["type"], [])
        return {"id": raw, "property": dep["property"], "value": values.get(f"{raw}.{dep['property']}")}

    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        outputs.append([] if ident.startswith("{") else {"id": ident, "property": prop.split("@")[0]})
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


def open_with_reason(app, client, path: str, prefix: str = "incident") -> str:
    """A restricted record's page after saying why it is opened (dashboard.record_views): what is
    then shown, as JSON text; a page that does not ask is returned as it is."""
    page = open_page(client, path)
    ask = f"{prefix}-view"
    if f'"{ask}-request"' not in page:
        return page
    request = next(c["props"]["data"] for c in components(json.loads(page)) if c["props"].get("id") == f"{ask}-request")
    answer = response_of(call(app, client, f"{ask}-open.n_clicks", {
        f"{ask}-open.n_clicks": 1, f"{ask}-request.data": request, f"{ask}-reason.value": "checking"}))
    return json.dumps(answer[f"{ask}-{request['page']}"]["children"])


def incident_values(form: incidents.IncidentForm | None = None, **changes) -> dict:
    form = form or incident_form()
    values = {f"{incident_layout.FIELD_IDS[name]}.value": getattr(form, name) for name in incident_layout.FIELD_IDS}
    return values | {"incident-form-save.n_clicks": 1} | changes


def response_of(result) -> dict:
    assert result.status_code == 200, result.status_code
    return result.get_json()["response"]


# --- the pages --------------------------------------------------------------------------------------


def test_rec001_the_incident_form_labels_every_field(web):
    app, _db, people = web
    client = sign_in(app, people.police_member.email)
    page = json.loads(open_page(client, "/incidents/new"))
    found = list(components(page))
    labels = {c["props"].get("html_for"): text_of(c) for c in found if c["type"] == "Label"}
    legends = [text_of(c) for c in found if c["type"] == "Legend"]
    for name, component_id in incident_layout.FIELD_IDS.items():
        label = incidents.FIELD_LABELS[name]
        if name in incident_layout.GROUPS:
            assert any(legend.startswith(label) for legend in legends), name
            group = next(c for c in found if c["props"].get("id") == component_id)
            assert all(option["input_id"] for option in group["props"]["options"])  # the summary links to them
        else:
            assert labels[component_id].startswith(label), name  # a <label for=...> with the field's name
    assert text_of(next(c for c in found if c["props"].get("id") == "incident-form-heading")) == "Log an incident"
    assert "The originating organisation and organisations listed on the record" in json.dumps(page)
    # the error summary is there, empty and hidden, ready to take focus
    summary = next(c for c in found if c["props"].get("id") == "incident-form-errors")
    assert summary["props"]["hidden"] is True and summary["props"]["role"] == "alert"


def test_rec002_the_record_shows_its_marking_fields_and_history(web):
    app, db, people = web
    with db.session() as s:
        pat = viewer(s, people.police_member)
        made = incidents.create_incident(s, pat, incident_form(
            marking=Marking.AMBER.value, listed_organisations=[people.council.id]))
    with db.session() as s:
        incidents.update_incident(s, viewer(s, people.police_member2), made.id, made.version,
                                  incident_form(title="Leaflets on Park Road and Mill Lane",
                                                marking=Marking.AMBER.value,
                                                listed_organisations=[people.council.id]))
    client = sign_in(app, people.council_member.email)  # a listed organisation
    page = open_with_reason(app, client, f"/incidents/{made.id}?done=updated")  # TLP:AMBER: says why first
    assert "TLP:AMBER" in page and "The originating organisation and organisations listed on the record" in page
    assert "Leaflets on Park Road and Mill Lane" in page and "Pat Police (Test Police)" in page
    assert "Created by Pat Police (Test Police)" in page and "Updated by Paul Police (Test Police)" in page
    history = json.loads(page)
    table = next(c for c in components(history) if c["props"].get("id") == "incident-history-1-changes")
    assert "TitleLeaflets on Park RoadLeaflets on Park Road and Mill Lane" in text_of(table)
    assert "Your changes were saved" in page
    # the council may see it but not change it: no Edit or Delete
    assert "incident-edit-link" not in page and '"incident-delete"' not in page


def test_rec003_missing_and_hidden_records_get_the_same_answer(web):
    app, db, people = web
    with db.session() as s:
        police_only = incidents.create_incident(s, viewer(s, people.police_member),
                                                incident_form(marking=Marking.AMBER_STRICT.value)).id
        assessment = assessments.create_assessment(s, viewer(s, people.police_member), assessments.AssessmentForm(
            area_code=BIRMINGHAM, assessed_on=YESTERDAY, level="3", trend="rising", confidence="high",
            rationale="Leafleting before the by-election.", marking=Marking.AMBER_STRICT.value)).id
        deleted = incidents.create_incident(s, viewer(s, people.council_member), incident_form())
        incidents.delete_incident(s, viewer(s, people.council_member), deleted.id, deleted.version)
    client = sign_in(app, people.council_member.email)
    answers = {open_page(client, path) for path in (
        f"/incidents/{police_only}", "/incidents/999999", "/incidents/abc", f"/incidents/{deleted.id}",
        f"/incidents/{police_only}/edit", "/incidents/999999/edit")}
    assert len(answers) == 1
    (answer,) = answers
    assert "not found or is not available to you" in answer and "Leaflets" not in answer
    assessment_answers = {open_page(client, p) for p in (f"/assessments/{assessment}", "/assessments/999999",
                                                         f"/assessments/{assessment}/edit")}
    assert len(assessment_answers) == 1 and "Leafleting" not in assessment_answers.pop()
    # the organisation that logged it does see it
    police = sign_in(app, people.police_member.email)
    assert "Leaflets on Park Road" in open_with_reason(app, police, f"/incidents/{police_only}")


def test_rec004_the_edit_page_is_prefilled_and_locks_the_marking_for_a_chair_of_another_organisation(web):
    app, db, people = web
    with db.session() as s:
        made = incidents.create_incident(s, viewer(s, people.police_member), incident_form(strands=["race"]))
    chair = sign_in(app, people.charity_chair.email)
    page = json.loads(open_page(chair, f"/incidents/{made.id}/edit"))
    found = {c["props"].get("id"): c for c in components(page) if c["props"].get("id")}
    assert found["incident-form-title"]["props"]["value"] == "Leaflets on Park Road"
    assert found["incident-form-strands"]["props"]["value"] == ["race"]
    assert found["incident-form-version"]["props"]["data"] == made.version
    assert all(o["disabled"] for o in found["incident-form-marking"]["props"]["options"])
    assert "Only the organisation that reported this record can change its marking" in json.dumps(page)
    council = sign_in(app, people.council_member.email)  # may see it, may not edit it
    assert "You cannot edit this incident" in open_page(council, f"/incidents/{made.id}/edit")


# --- saving through the callbacks ------------------------------------------------------------------------


def test_rec005_bad_input_gets_an_error_summary_linking_to_each_field(web):
    app, db, people = web
    client = sign_in(app, people.police_member.email)
    blank = incidents.IncidentForm(title="  ", occurred_on="2026-02-30", latitude="91")
    response = response_of(call(app, client, "incident-form-save.n_clicks", incident_values(blank)))
    summary = response["incident-form-errors"]
    assert summary["hidden"] is False
    links = {c["props"]["href"]: text_of(c) for c in components(summary["children"]) if c["type"] == "A"}
    assert links["#incident-form-title"] == "Enter a title: a few words saying what happened."
    assert "must be a real date" in links["#incident-form-occurred-on"]
    assert links["#incident-form-area"] == "Choose the district where it happened."
    assert links["#incident-form-severity-0"].startswith("Choose a severity")  # the first radio of the group
    assert "Latitude must be a number" in links["#incident-form-latitude"]
    assert "There is a problem" in text_of(summary["children"])
    # each field's own error beside its label, and the invalid flag on single inputs
    assert field_error_text(response["incident-form-title-error"]["children"]).startswith("Enter a title")
    assert response["incident-form-title"]["invalid"] is True
    assert response["incident-form-description"]["invalid"] is False
    assert "incident-redirect" not in response
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_rec006_good_input_creates_the_incident_and_goes_to_it(web):
    app, db, people = web
    client = sign_in(app, people.police_member.email)
    form = incident_form(strands=["race", "religion"], latitude="52.4862", longitude="-1.8904",
                         location_precision="approximate", marking=Marking.RED.value,
                         recipients=[people.council_member.id])
    response = response_of(call(app, client, "incident-form-save.n_clicks", incident_values(form)))
    assert response["incident-form-errors"]["hidden"] is True
    with db.session() as s:
        saved = s.scalars(select(Incident)).one()
        assert saved.title == "Leaflets on Park Road" and saved.marking == Marking.RED.value
        assert {u.id for u in saved.recipients} == {people.council_member.id}
        assert saved.reporter_id == people.police_member.id and saved.location_precision == "approximate"
    assert response["incident-redirect"]["href"] == f"/incidents/{saved.id}?done=created"


def test_rec007_duplicates_are_offered_and_a_corroborating_report_is_linked(web):
    app, db, people = web
    with db.session() as s:
        original = incidents.create_incident(s, viewer(s, people.council_member), incident_form())
        council_only = incidents.create_incident(s, viewer(s, people.council_member),
                                                 incident_form(marking=Marking.AMBER_STRICT.value)).id
    client = sign_in(app, people.police_member.email)
    # a report the police may not see: not offered, and refused if posted anyway
    refused = response_of(call(app, client, "incident-form-save.n_clicks",
                               incident_values() | {"incident-form-corroborates.data": council_only}))
    links = {c["props"]["href"]: text_of(c) for c in components(refused["incident-form-errors"]["children"])
             if c["type"] == "A"}
    assert "no longer exists or is not shared with you" in links["#incident-corroborate-clear"]
    similar = response_of(call(app, client, "incident-form-area.value", {
        "incident-form-area.value": BIRMINGHAM, "incident-form-occurred-on.value": YESTERDAY,
        "incident-form-category.value": "literature", "incident-form-record.data": None}))
    panel = json.dumps(similar["incident-similar"]["children"])
    assert "This may already be logged:" in panel and f"Log mine as a corroborating report of #{original.id}" in panel
    assert "Test Council" in panel and "TLP:GREEN" in panel and f"#{council_only}" not in panel
    button = {"id": {"type": incident_layout.CORROBORATE_TYPE, "index": original.id}, "property": "n_clicks",
              "value": 1}
    chosen = response_of(call(app, client, json.dumps(button["id"], separators=(",", ":"), sort_keys=True)
                              + ".n_clicks", {}, pattern={incident_layout.CORROBORATE_TYPE: [button]}))
    assert chosen["incident-form-corroborates"]["data"] == original.id
    assert chosen["incident-corroborate-note"]["hidden"] is False
    assert f"corroborating incident #{original.id}" in chosen["incident-corroborate-text"]["children"]
    saved = response_of(call(app, client, "incident-form-save.n_clicks",
                             incident_values(incident_form(title="Our report")) |
                             {"incident-form-corroborates.data": original.id}))
    assert saved["incident-redirect"]["href"].endswith("?done=corroborating")
    page = open_page(client, f"/incidents/{original.id}")
    assert "Corroborated by 1 partner" in page and "Our report" in page


def test_rec008_a_conflict_shows_both_versions_and_saves_nothing_until_asked(web):
    app, db, people = web
    with db.session() as s:
        made = incidents.create_incident(s, viewer(s, people.police_member), incident_form())
    with db.session() as s:  # a colleague saves first
        incidents.update_incident(s, viewer(s, people.police_member2), made.id, made.version,
                                  incident_form(title="Paul's title"))
    client = sign_in(app, people.police_member.email)
    mine = incident_values(incident_form(title="Pat's title"), **{
        "incident-form-record.data": made.id, "incident-form-version.data": made.version})
    response = response_of(call(app, client, "incident-form-save.n_clicks", mine))
    problem = text_of(response["incident-form-errors"]["children"])
    assert "Someone else changed this incident while you were editing it (by Paul Police (Test Police) at" in problem
    assert "Nothing was saved." in problem
    assert response["incident-conflict"]["hidden"] is False
    table = response["incident-conflict-table"]["children"]
    rows = [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(table) if row["type"] == "Tr"]
    assert rows[0] == ["Field", "Your version", "Their version (as saved)", "Compared"]
    assert ["Title", "Pat's title", "Paul's title", "Differs"] in rows
    assert ["District", "Birmingham", "Birmingham", "Same"] in rows
    assert "incident-redirect" not in response  # the user stays on the form with their entries
    with db.session() as s:
        assert s.get(Incident, made.id).title == "Paul's title"
        current = s.get(Incident, made.id).version
    assert response["incident-conflict-version"]["data"] == current

    # "Discard my changes": the form shows the incident as saved
    discarded = response_of(call(app, client, "incident-conflict-discard.n_clicks", mine | {
        "incident-conflict-discard.n_clicks": 1, "incident-conflict-version.data": current}))
    assert discarded["incident-form-title"]["value"] == "Paul's title"
    assert discarded["incident-form-version"]["data"] == current and discarded["incident-conflict"]["hidden"]

    # "Save my version over theirs": saved on top of theirs, and the history keeps both
    overwrite = response_of(call(app, client, "incident-conflict-overwrite.n_clicks", mine | {
        "incident-conflict-overwrite.n_clicks": 1, "incident-conflict-version.data": current}))
    assert overwrite["incident-redirect"]["href"] == f"/incidents/{made.id}?done=updated"
    with db.session() as s:
        assert s.get(Incident, made.id).title == "Pat's title"
        entries = incidents.incident_history(s, viewer(s, people.police_member), made.id)
    assert [e.action for e in entries] == ["created", "updated", "updated"]


def test_rec009_delete_from_the_record_and_restore_from_the_deleted_list(web):
    app, db, people = web
    with db.session() as s:
        made = incidents.create_incident(s, viewer(s, people.police_member),
                                         incident_form(marking=Marking.AMBER_STRICT.value))
    client = sign_in(app, people.police_member.email)
    deleted = response_of(call(app, client, "incident-delete-confirm.n_clicks", {
        "incident-delete-confirm.n_clicks": 1, "incident-delete-reason.value": "Logged twice",
        "incident-record.data": {"id": made.id, "version": made.version}}))
    assert deleted["incident-redirect"]["href"] == f"/register?deleted={made.id}"
    with db.session() as s:
        assert s.get(Incident, made.id).deleted_at is not None

    admin = sign_in(app, people.council_admin.email)  # an admin of another organisation
    listing = open_page(admin, "/deleted")
    assert f"#{made.id}" in listing and "TLP:AMBER+STRICT" in listing and "Pat Police" in listing
    assert "Not shown: restricted by its marking" in listing and "Leaflets" not in listing
    button = {"id": {"index": made.id, "record": "incident", "type": "deleted-restore"}, "property": "n_clicks",
              "value": 1}
    trigger = json.dumps(button["id"], separators=(",", ":"), sort_keys=True) + ".n_clicks"
    restored = response_of(call(app, admin, trigger, {}, pattern={"deleted-restore": [button]}))
    assert restored["deleted-status"]["children"].startswith(f"Restored incident #{made.id}")
    assert "There are no deleted records." in json.dumps(restored["deleted-list"]["children"])
    with db.session() as s:
        assert s.get(Incident, made.id).deleted_at is None
    # tension assessments are restored the same way
    with db.session() as s:
        assessment = assessments.create_assessment(s, viewer(s, people.police_member), assessments.AssessmentForm(
            area_code=BIRMINGHAM, assessed_on=YESTERDAY, level="2", trend="stable", confidence="low",
            rationale="Quiet."))
        assessments.delete_assessment(s, viewer(s, people.police_member), assessment.id, assessment.version)
    other = {"id": {"index": assessment.id, "record": "tension_assessment", "type": "deleted-restore"},
             "property": "n_clicks", "value": 1}
    other_trigger = json.dumps(other["id"], separators=(",", ":"), sort_keys=True) + ".n_clicks"
    restored = response_of(call(app, admin, other_trigger, {}, pattern={"deleted-restore": [other]}))
    assert restored["deleted-status"]["children"].startswith(f"Restored tension assessment #{assessment.id}")
    with db.session() as s:
        assert s.get(TensionAssessment, assessment.id).deleted_at is None
    # a member cannot restore, even by posting the request
    with db.session() as s:
        incidents.delete_incident(s, viewer(s, people.police_member), made.id, s.get(Incident, made.id).version)
    assert call(app, client, trigger, {}, pattern={"deleted-restore": [button]}).status_code == 204
    with db.session() as s:
        assert s.get(Incident, made.id).deleted_at is not None


def test_rec010_the_national_team_can_neither_read_nor_write(web):
    app, db, people = web
    with db.session() as s:
        made = incidents.create_incident(s, viewer(s, people.police_member), incident_form())
    sci = sign_in(app, people.sci.email)
    assert call(app, sci, "incident-form-save.n_clicks", incident_values()).status_code == 204
    assert call(app, sci, "incident-form-area.value", {
        "incident-form-area.value": BIRMINGHAM, "incident-form-occurred-on.value": YESTERDAY,
        "incident-form-category.value": "literature"}).status_code == 204
    assert call(app, sci, "incident-delete-confirm.n_clicks", {
        "incident-delete-confirm.n_clicks": 1,
        "incident-record.data": {"id": made.id, "version": made.version}}).status_code == 204
    assert call(app, sci, "assessment-form-save.n_clicks", {"assessment-form-save.n_clicks": 1}).status_code == 204
    page = open_page(sci, f"/incidents/{made.id}")
    assert "Your role does not give access to this page" in page and "Leaflets" not in page
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        assert s.get(Incident, made.id).deleted_at is None


# --- tension assessments ----------------------------------------------------------------------------------


def assessment_values(**changes) -> dict:
    values = {
        "assessment-form-area.value": BIRMINGHAM, "assessment-form-assessed-on.value": YESTERDAY,
        "assessment-form-level.value": "4", "assessment-form-trend.value": "rising",
        "assessment-form-confidence.value": "medium",
        "assessment-form-rationale.value": "Leafleting and a planned march before the by-election.",
        "assessment-form-indicator-1.value": "Leaflets in two wards",
        "assessment-form-indicator-1-type.value": "evidenced",
        "assessment-form-marking.value": Marking.GREEN.value, "assessment-form-save.n_clicks": 1,
    }
    return values | changes


def test_rec011_assessments_are_recorded_listed_and_shown_with_their_level_in_words(web):
    app, db, people = web
    client = sign_in(app, people.council_member.email)
    page = json.loads(open_page(client, "/assessments/new"))
    labels = {c["props"].get("html_for"): text_of(c) for c in components(page) if c["type"] == "Label"}
    assert labels["assessment-form-indicator-1"] == "Indicator 1"
    assert labels["assessment-form-indicator-1-type"] == "Evidence type of indicator 1"
    for name in assessment_layout.SINGLE:
        assert labels[assessment_layout.FIELD_IDS[name]].startswith(assessments.FIELD_LABELS[name]), name

    bad = response_of(call(app, client, "assessment-form-save.n_clicks", assessment_values(**{
        "assessment-form-level.value": None, "assessment-form-indicator-2.value": "A rally is planned",
        "assessment-form-rationale.value": ""})))
    links = {c["props"]["href"]: text_of(c) for c in components(bad["assessment-form-errors"]["children"])
             if c["type"] == "A"}
    assert links["#assessment-form-level-0"].startswith("Choose a tension level")
    assert links["#assessment-form-rationale"].startswith("Enter the rationale")
    assert links["#assessment-form-indicator-2"] == \
        "Indicator 2: choose its evidence type (evidenced, experienced or potential)."

    good = response_of(call(app, client, "assessment-form-save.n_clicks", assessment_values()))
    with db.session() as s:
        saved = s.scalars(select(TensionAssessment)).one()
        assert saved.level == 4 and [i.description for i in saved.indicators] == ["Leaflets in two wards"]
    assert good["assessment-redirect"]["href"] == f"/assessments/{saved.id}?done=created"
    record = open_page(client, f"/assessments/{saved.id}")
    assert "Level 4 - High" in record and "TLP:GREEN" in record and "Every member of the partnership" in record
    assert "Created by Cora Council (Test Council)" in record
    listing = open_page(client, "/assessments")
    assert "Level 4 - High" in listing and f"/assessments/{saved.id}" in listing
    assert "Record a tension assessment" in listing
    filtered = response_of(call(app, client, "assessment-list-area.value", {
        "assessment-list-area.value": COVENTRY, "assessment-list-start.value": "",
        "assessment-list-end.value": ""}))
    assert "No tension assessments that you may see match" in json.dumps(filtered["assessment-list"]["children"])
    wrong = response_of(call(app, client, "assessment-list-area.value", {
        "assessment-list-start.value": "2026-05-01", "assessment-list-end.value": "2026-04-01"}))
    assert "must be the same as or after" in field_error_text(wrong["assessment-list-end-error"]["children"])


def test_rec012_an_assessment_conflict_is_shown_side_by_side(web):
    app, db, people = web
    with db.session() as s:
        made = assessments.create_assessment(s, viewer(s, people.council_member), assessments.AssessmentForm(
            area_code=BIRMINGHAM, assessed_on=YESTERDAY, level="3", trend="rising", confidence="high",
            rationale="First view."))
    with db.session() as s:
        assessments.update_assessment(s, viewer(s, people.charity_chair), made.id, made.version,
                                      replace(assessments.AssessmentForm.from_view(made), level="5"))
    client = sign_in(app, people.council_member.email)
    response = response_of(call(app, client, "assessment-form-save.n_clicks", assessment_values(**{
        "assessment-form-record.data": made.id, "assessment-form-version.data": made.version})))
    assert "Someone else changed this tension assessment while you were editing it (by Chris Chair" in text_of(
        response["assessment-form-errors"]["children"])
    rows = [[text_of(cell) for cell in row["props"]["children"]]
            for row in components(response["assessment-conflict-table"]["children"]) if row["type"] == "Tr"]
    assert ["Tension level", "4 - High", "5 - Critical", "Differs"] in rows
    with db.session() as s:
        assert s.get(TensionAssessment, made.id).level == 5
