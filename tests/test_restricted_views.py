"""Views of restricted records: an incident or tension assessment marked TLP:AMBER, AMBER+STRICT or
RED is shown (on its page and its edit page) only once the viewer has said why they open it; each
view is audited with the reason; the same session is not asked twice (but still audited); a new
session asks again; GREEN and CLEAR records open straight away; refusals stay as they were.
Domain and web tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from dashboard import assessments, auth, incidents, record_views
from dashboard.access import Viewer
from dashboard.config import Settings
from dashboard.models import AuditEvent, Incident, Organisation, User, UserSession, utcnow
from dashboard.reference import Marking
from tests.conftest import SECRET, add_incident, field_error_text
from tests.test_record_pages import components, open_page, sign_in

BIRMINGHAM = "E08000025"
DAY = date.today() - timedelta(days=3)
SECRET_WORDS = ("Meeting at the snooker hall", "Forty people from two groups", "52.4862", "Birmingham")
REASON_IDS = ("incident-view-reason", "incident-view-other", "incident-view-open")


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def add_red_incident(db, people, marking=Marking.RED, **extra) -> int:
    """A restricted incident by Pat Police, with a title, description and point that must not leak."""
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        recipients = [s.get(User, people.council_member.id)] if marking == Marking.RED else []
        made = add_incident(s, pat, marking, day=DAY, area=BIRMINGHAM, recipients=recipients,
                            title="Meeting at the snooker hall", **extra)
        made.description = "Forty people from two groups."
        made.latitude, made.longitude, made.location_precision = 52.4862, -1.8904, "exact"
        return made.id


def add_assessment(db, people, marking=Marking.AMBER_STRICT) -> int:
    with db.session() as s:
        return assessments.create_assessment(s, viewer(s, people.council_member), assessments.AssessmentForm(
            area_code=BIRMINGHAM, assessed_on=DAY.isoformat(), level="4", trend="rising", confidence="high",
            rationale="A march is planned outside the mosque.", marking=marking.value)).id


def views(db, record_id=None) -> list[AuditEvent]:
    with db.session() as s:
        query = select(AuditEvent).where(AuditEvent.action == record_views.ACTION).order_by(AuditEvent.id)
        if record_id is not None:
            query = query.where(AuditEvent.record_id == str(record_id))
        return list(s.scalars(query))


# --- the domain ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("choice", "other", "expected"), [
    ("meeting", "", "Preparing for a partnership meeting"),
    ("safeguarding", "ignored when a common reason is chosen", "Safeguarding or risk assessment"),
    ("other", "  Answering a   question\nfrom the coroner ", "Answering a question from the coroner"),
    ("other", "x" * 500, "x" * 500),
])
def test_a_reason_is_kept_in_words(choice, other, expected):
    assert record_views.reason_text(choice, other) == expected


@pytest.mark.parametrize(("choice", "other", "field", "words"), [
    (None, "", "choice", "Choose why you are opening this record."),
    ("curious", "", "choice", "Choose one of the reasons listed"),
    ("other", "   ", "other", "Enter your reason for opening this record."),
    ("other", "x" * 501, "other", "500 characters or fewer; it has 501"),
])
def test_a_missing_or_too_long_reason_names_its_field(choice, other, field, words):
    with pytest.raises(record_views.ReasonError) as refused:
        record_views.reason_text(choice, other)
    assert refused.value.field == field and words in refused.value.message


def test_only_amber_and_red_markings_need_a_reason():
    assert {m for m in Marking if record_views.is_restricted(m.value)} == {
        Marking.RED, Marking.AMBER_STRICT, Marking.AMBER}


def test_a_view_is_remembered_for_the_session_it_was_given_in_only(db, people):
    red = add_red_incident(db, people)
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        first = auth.start_session(s, cora, now=utcnow() - timedelta(minutes=5))
        view = record_views.open_with_reason(s, viewer(s, cora), incidents.RECORD_TYPE, red, "checking", "",
                                             ip_address="192.0.2.4")
        assert view.title == "Meeting at the snooker hall"
    with db.session() as s:
        cora = viewer(s, people.council_member)
        assert record_views.viewed_this_session(s, cora, incidents.RECORD_TYPE, red, first)
        view = incidents.get_incident(s, cora, red)
        assert record_views.may_open(s, cora, incidents.RECORD_TYPE, view, token=first, ip_address="192.0.2.4")
        # another session (a later sign-in, or someone else's token), or none at all: asked again
        second = auth.start_session(s, s.get(User, people.council_member.id), now=utcnow() + timedelta(seconds=1))
        pats = auth.start_session(s, s.get(User, people.police_member.id))
        for token in (second, pats, None, "not-a-token"):
            assert not record_views.may_open(s, cora, incidents.RECORD_TYPE, view, token=token)
        # an ended session no longer counts
        s.scalar(select(UserSession).where(UserSession.token_hash == auth.token_hash(first))).ended_at = utcnow()
        s.flush()
        assert not record_views.viewed_this_session(s, cora, incidents.RECORD_TYPE, red, first)
    events = views(db)
    assert [(e.reason, e.user_id, e.ip_address, e.detail) for e in events] == [
        ("Checking or correcting the record", people.council_member.id, "192.0.2.4", {"marking": "TLP:RED"}),
        (record_views.EARLIER, people.council_member.id, "192.0.2.4", {"marking": "TLP:RED"}),
    ]
    assert {(e.record_type, e.record_id) for e in events} == {("incident", str(red))}


def test_a_record_the_viewer_may_not_see_is_not_opened_or_audited_whatever_the_reason(db, people):
    red = add_red_incident(db, people)
    with db.session() as s:
        paul = viewer(s, people.police_member2)  # same organisation, but not named on the TLP:RED record
        for record in (red, 999999, "abc", -1, 10**40, True, [red], 1.0):
            assert record_views.open_with_reason(s, paul, incidents.RECORD_TYPE, record, "meeting", "") is None
        assert record_views.open_with_reason(s, paul, incidents.RECORD_TYPE, red, None, "") is None
    assert views(db) == []


def test_green_records_open_without_a_reason_or_a_view_entry(db, people):
    with db.session() as s:
        green = add_incident(s, s.get(User, people.police_member.id), Marking.GREEN).id
    with db.session() as s:
        cora = viewer(s, people.council_member)
        view = incidents.get_incident(s, cora, green)
        assert record_views.may_open(s, cora, incidents.RECORD_TYPE, view, token=None)
        assert record_views.open_with_reason(s, cora, incidents.RECORD_TYPE, green, None, "").id == green
    assert views(db) == []


# --- through the real app, on both backends -------------------------------------------------------------
# sign_in, open_page and components: as tests/test_record_pages.py opens pages.


@pytest.fixture
def web(db, people, tmp_path):
    settings = Settings.from_env({"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": SECRET},
                                 database_url=db.url, testing=True, second_factor_roles=frozenset())
    return create_app(settings, db), db, people


def found(page: str) -> dict:
    return {c["props"]["id"]: c for c in components(json.loads(page)) if isinstance(c["props"].get("id"), str)}


def give_reason(app, client, prefix: str, request: dict, choice="meeting", other=""):
    """Press "Open the record" the way dash-renderer does; the response (or its status code)."""
    ask = f"{prefix}-view"
    key = next(k for k, spec in app.callback_map.items()
               if any(d["id"] == f"{ask}-open" for d in spec["inputs"]))
    spec = app.callback_map[key]
    values = {f"{ask}-open.n_clicks": 1, f"{ask}-request.data": request, f"{ask}-reason.value": choice,
              f"{ask}-other.value": other}
    body = {
        "output": key,
        "outputs": [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
                    for part in key[2:-2].split("...")],
        "inputs": [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                   for d in spec["inputs"]],
        "state": [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                  for d in spec["state"]],
        "changedPropIds": [f"{ask}-open.n_clicks"],
    }
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           headers={"X-CSRFToken": client.get_cookie("_csrf_token").value,
                                    "Content-Type": "application/json"})
    return response.get_json()["response"] if response.status_code == 200 else response.status_code


def test_rv001_a_restricted_incident_is_not_sent_before_the_reason_then_is_and_the_view_is_audited(web):
    app, db, people = web
    red = add_red_incident(db, people)
    cora = sign_in(app, people.council_member.email)  # named on the TLP:RED record
    page = open_page(cora, f"/incidents/{red}?done=updated")
    for words in SECRET_WORDS:
        assert words not in page, words  # nothing of the record in the layout JSON
    parts = found(page)
    assert parts["incident-view-heading"]["props"]["children"] == f"Incident #{red}"
    assert "TLP:RED" in json.dumps(parts["incident-view-marking"]) and "Named recipients and the reporter only" in page
    assert "Why are you opening this record?" in page and "Open the record" in page
    radios = parts["incident-view-reason"]["props"]["options"]
    assert [o["value"] for o in radios] == [value for value, _ in record_views.REASONS]
    assert all(o["input_id"] for o in radios)  # the error summary links to the first
    assert parts["incident-view-other"]["props"]["maxLength"] == 500
    assert parts["incident-view-other-block"]["props"]["hidden"] is True
    assert parts["incident-view-errors"]["props"]["hidden"] is True and "incident-title" not in parts
    assert views(db) == []

    answer = give_reason(app, cora, "incident", parts["incident-view-request"]["props"]["data"], "other",
                         "Preparing the safeguarding board report")
    shown = json.dumps(answer["incident-view-record"]["children"])
    for words in SECRET_WORDS:
        assert words in shown, words
    assert '"incident-title"' in shown and "Your changes were saved" in shown  # the same page as before
    assert answer["incident-view-ask"]["children"] == [] and answer["incident-view-errors"]["hidden"] is True
    (event,) = views(db)
    assert (event.user_id, event.actor, event.record_type, event.record_id) == (
        people.council_member.id, people.council_member.email, "incident", str(red))
    assert event.reason == "Preparing the safeguarding board report" and event.detail == {"marking": "TLP:RED"}
    assert event.ip_address == "127.0.0.1"

    # the same session again: no question, the record at once, and the view audited
    again = open_page(cora, f"/incidents/{red}")
    assert "Meeting at the snooker hall" in again and "Why are you opening this record?" not in again
    assert [e.reason for e in views(db)] == ["Preparing the safeguarding board report", record_views.EARLIER]

    # a new session (signing in again) asks again
    later = sign_in(app, people.council_member.email)
    asked = open_page(later, f"/incidents/{red}")
    assert "Why are you opening this record?" in asked and "Meeting at the snooker hall" not in asked
    assert len(views(db)) == 2


@pytest.mark.parametrize(("choice", "other", "field", "words"), [
    (None, "", "incident-view-reason-error", "Choose why you are opening this record."),
    ("other", "", "incident-view-other-error", "Enter your reason for opening this record."),
    ("other", "y" * 501, "incident-view-other-error", "500 characters or fewer"),
])
def test_rv002_the_reason_is_required_and_capped_and_nothing_is_sent_without_it(web, choice, other, field, words):
    app, db, people = web
    amber = add_red_incident(db, people, Marking.AMBER_STRICT)
    paul = sign_in(app, people.police_member2.email)  # the originating organisation
    answer = give_reason(app, paul, "incident", {"id": amber, "page": "record"}, choice, other)
    assert answer["incident-view-errors"]["hidden"] is False
    summary = json.dumps(answer["incident-view-errors"]["children"])
    assert "There is a problem" in summary and words in summary
    target = "#incident-view-reason-0" if field.startswith("incident-view-reason") else "#incident-view-other"
    assert f'"href": "{target}"' in summary
    assert words in field_error_text(answer[field]["children"])
    assert answer["incident-view-other"]["invalid"] is (field == "incident-view-other-error")
    assert "incident-view-record" not in answer and "Snooker" not in json.dumps(answer)
    assert views(db) == []


def test_rv003_someone_who_may_not_see_it_gets_the_same_refusal_and_no_view_is_audited(web):
    app, db, people = web
    red = add_red_incident(db, people)
    paul = sign_in(app, people.police_member2.email)  # not named on it
    refused = open_page(paul, f"/incidents/{red}")
    assert refused == open_page(paul, "/incidents/999999")
    assert "not found or is not available to you" in refused and "Why are you opening" not in refused
    assert open_page(paul, f"/incidents/{red}/edit") == refused
    # a forged "Open the record" for it: the same refusal, nothing of it, nothing audited
    forged = give_reason(app, paul, "incident", {"id": red, "page": "record"})
    shown = json.dumps(forged["incident-view-record"]["children"])
    assert "not found or is not available to you" in shown and "snooker" not in shown.lower()
    for request in ({"id": "1 OR 1=1", "page": "record"}, {"page": "record"}, {"id": red, "page": "edit"}):
        assert "snooker" not in json.dumps(give_reason(app, paul, "incident", request)).lower()
    # the national team's role may not use the callback at all
    sci = sign_in(app, people.sci.email)
    assert give_reason(app, sci, "incident", {"id": red, "page": "record"}) == 204
    assert give_reason(app, sci, "assessment", {"id": red, "page": "record"}) == 204
    assert views(db) == []


def test_rv004_green_and_clear_records_open_at_once_and_are_not_audited_as_views(web):
    app, db, people = web
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        green = add_incident(s, pat, Marking.GREEN, title="Stickers on the bus shelter").id
        clear = add_incident(s, pat, Marking.CLEAR, title="Published leaflet wave").id
    cora = sign_in(app, people.council_member.email)
    assert "Stickers on the bus shelter" in open_page(cora, f"/incidents/{green}")
    assert "Published leaflet wave" in open_page(cora, f"/incidents/{clear}")
    assert "Why are you opening" not in open_page(cora, f"/incidents/{green}")
    assert views(db) == []


def test_rv005_the_edit_page_asks_too_then_shows_the_form(web):
    app, db, people = web
    amber = add_red_incident(db, people, Marking.AMBER_STRICT)
    paul = sign_in(app, people.police_member2.email)  # may edit: same organisation
    page = open_page(paul, f"/incidents/{amber}/edit")
    assert "Why are you opening this record?" in page and "incident-form-title" not in page
    for words in SECRET_WORDS:
        assert words not in page, words
    request = found(page)["incident-view-request"]["props"]["data"]
    assert request["page"] == "edit"
    answer = give_reason(app, paul, "incident", request, "checking")
    form = {c["props"]["id"]: c for c in components(answer["incident-view-edit"]["children"])
            if isinstance(c["props"].get("id"), str)}
    assert form["incident-form-title"]["props"]["value"] == "Meeting at the snooker hall"
    assert form["incident-form-heading"]["props"]["tabIndex"] == "-1"  # focus lands on it
    assert "incident-view-record" not in answer
    assert [(e.reason, e.detail) for e in views(db, amber)] == [
        ("Checking or correcting the record", {"marking": "TLP:AMBER+STRICT"})]
    # the record page in the same session: not asked again
    assert "Meeting at the snooker hall" in open_page(paul, f"/incidents/{amber}")
    assert len(views(db, amber)) == 2


def test_rv006_someone_who_may_see_but_not_edit_it_is_told_so_without_being_asked(web):
    app, db, people = web
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        amber = add_incident(s, pat, Marking.AMBER, listed=[s.get(Organisation, people.council.id)],
                             title="Graffiti on the community centre").id
    cora = sign_in(app, people.council_member.email)  # listed organisation: may see, may not edit
    page = open_page(cora, f"/incidents/{amber}/edit")
    assert "You cannot edit this incident" in page and "Graffiti" not in page and "Why are you" not in page
    forged = give_reason(app, cora, "incident", {"id": amber, "page": "edit"})
    assert "You cannot edit this incident" in json.dumps(forged["incident-view-edit"]["children"])
    assert "Graffiti" not in json.dumps(forged)
    assert views(db) == []


def test_rv007_a_restricted_tension_assessment_asks_first_on_its_page_and_its_edit_page(web):
    app, db, people = web
    made = add_assessment(db, people)
    council = sign_in(app, people.council_member.email)
    page = open_page(council, f"/assessments/{made}")
    assert f"Tension assessment #{made}" in page and "TLP:AMBER+STRICT" in page
    assert "march is planned" not in page and "Birmingham" not in page and "Level 4" not in page
    answer = give_reason(app, council, "assessment", found(page)["assessment-view-request"]["props"]["data"],
                         "safeguarding")
    shown = json.dumps(answer["assessment-view-record"]["children"])
    assert "A march is planned outside the mosque." in shown and '"assessment-title"' in shown
    edit = open_page(council, f"/assessments/{made}/edit")  # the same session: not asked again
    assert "assessment-form-rationale" in edit and "Why are you opening" not in edit
    assert [(e.record_type, e.reason) for e in views(db)] == [
        ("tension_assessment", "Safeguarding or risk assessment"), ("tension_assessment", record_views.EARLIER)]
    # another organisation gets the refusal it got before
    police = sign_in(app, people.police_member.email)
    assert "not found or is not available to you" in open_page(police, f"/assessments/{made}")
    assert "march" not in json.dumps(give_reason(app, police, "assessment", {"id": made, "page": "record"}))
    assert len(views(db)) == 2


def test_rv008_the_edit_form_callbacks_do_not_send_the_record_before_the_reason(web):
    app, db, people = web
    amber = add_red_incident(db, people, Marking.AMBER_STRICT)
    with db.session() as s:
        version = s.get(Incident, amber).version
    paul = sign_in(app, people.police_member2.email)
    # "Discard my changes" and a stale save (whose comparison would show the record) are refused
    key = next(k for k, spec in app.callback_map.items()
               if any(d["id"] == "incident-conflict-discard" for d in spec["inputs"]))
    spec = app.callback_map[key]
    values = {"incident-conflict-discard.n_clicks": 1, "incident-form-record.data": amber,
              "incident-form-version.data": version - 1, "incident-form-title.value": "Mine",
              "incident-form-save.n_clicks": 0}
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]}
               for p in key[2:-2].split("...")]

    def post(trigger):
        body = {"output": key, "outputs": outputs, "changedPropIds": [trigger],
                "inputs": [{"id": d["id"], "property": d["property"],
                            "value": values.get(f"{d['id']}.{d['property']}")} for d in spec["inputs"]],
                "state": [{"id": d["id"], "property": d["property"],
                           "value": values.get(f"{d['id']}.{d['property']}")} for d in spec["state"]]}
        return paul.post("/_dash-update-component", data=json.dumps(body), headers={
            "X-CSRFToken": paul.get_cookie("_csrf_token").value, "Content-Type": "application/json"}).get_json()

    discarded = json.dumps(post("incident-conflict-discard.n_clicks"))
    assert "snooker" not in discarded.lower() and "or is not shared with you" in discarded
    values["incident-form-save.n_clicks"] = 1
    saved = json.dumps(post("incident-form-save.n_clicks"))
    assert "snooker" not in saved.lower() and "say why you are opening it" in saved
    with db.session() as s:
        assert s.get(Incident, amber).title == "Meeting at the snooker hall"
    assert views(db) == []
