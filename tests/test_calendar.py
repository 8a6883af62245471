"""The trigger calendar: validation, who may change what, version conflicts, soft delete, audit,
the reads the trend charts use, and that the national team can neither read nor write it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import calendar as cal
from dashboard.access import Viewer
from dashboard.models import AuditEvent, TriggerEvent, User
from dashboard.reference import ELECTION_RUN_UP_DAYS, TriggerKind
from tests.conftest import TEST_PASSWORD, csrf_from, make_people

BIRMINGHAM, COVENTRY, DERBY = "E08000025", "E08000026", "E06000015"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def form(**changes) -> cal.EventForm:
    values = {
        "kind": TriggerKind.RALLY.value,
        "title": "Planned march in Birmingham",
        "starts_on": "2026-06-13",
        "ends_on": "",
        "region_wide": False,
        "area_codes": [BIRMINGHAM],
        "notes": "A counter-protest is expected.",
    }
    return cal.EventForm(**(values | changes))


def audit_actions(session, event_id) -> list[str]:
    return list(session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == "trigger_event", AuditEvent.record_id == str(event_id))
        .order_by(AuditEvent.id)
    ))


def count_events(session) -> int:
    return session.scalar(select(func.count()).select_from(TriggerEvent))


# --- creating and validation ---------------------------------------------------------------------


def test_cal001_a_member_adds_an_event_and_it_is_audited(db, people):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        event = cal.create_event(s, pat, form(title="  Planned   march in Birmingham "), ip_address="10.0.0.9")
    assert event.title == "Planned march in Birmingham"  # spaces tidied
    assert event.ends_on == event.starts_on == date(2026, 6, 13)  # blank end: a one-day event
    assert event.area_codes == (BIRMINGHAM,) and event.area_names == ("Birmingham",)
    assert event.created_by == "Pat Police" and event.can_edit and event.run_up is None
    with db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "trigger event created")).one()
        assert audit.user_id == people.police_member.id and audit.record_id == str(event.id)
        assert audit.ip_address == "10.0.0.9" and audit.detail["areas"] == [BIRMINGHAM]


def test_cal002_every_wrong_field_is_named_and_nothing_is_written(db, people):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        with pytest.raises(cal.EventValidationError) as caught:
            cal.create_event(s, pat, cal.EventForm(kind="picnic", title="   ", starts_on="", area_codes=[],
                                                   notes="x" * (cal.NOTES_MAX + 1)))
        assert count_events(s) == 0
    errors = caught.value.errors
    assert list(errors) == ["kind", "title", "starts_on", "areas", "notes"]  # in the form's order
    assert "kind of event" in errors["kind"]
    assert errors["title"] == "Enter a title for the event."
    assert errors["starts_on"] == "Enter the date the event starts."
    assert "at least one district" in errors["areas"] and "Region-wide" in errors["areas"]
    assert "4,000 characters or fewer" in errors["notes"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"title": "x" * 201}, "title", "200 characters or fewer"),
        ({"starts_on": "2026-02-30"}, "starts_on", "must be a real date"),
        ({"starts_on": "not a date"}, "starts_on", "must be a real date"),
        ({"starts_on": "1066-10-14"}, "starts_on", "between 2000 and 2099"),
        ({"ends_on": "2026-06-12"}, "ends_on", "same as or after the start date"),
        ({"ends_on": "2027-09-01"}, "ends_on", "at most 366 days"),
        ({"area_codes": ["E99999999"]}, "areas", "from the list only"),
        ({"kind": ""}, "kind", "Choose the kind of event"),
    ],
)
def test_cal003_each_rule_names_its_field(sqlite_db, password_hash, changes, field, words):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        with pytest.raises(cal.EventValidationError) as caught:
            cal.create_event(s, viewer(s, people.police_member), form(**changes))
    assert list(caught.value.errors) == [field]
    assert words in caught.value.errors[field]


def test_cal004_region_wide_needs_no_district_and_keeps_none(db, people):
    with db.session() as s:
        event = cal.create_event(
            s, viewer(s, people.council_member),
            form(kind="national incident", title="National shock", region_wide=True, area_codes=[BIRMINGHAM],
                 starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 3)),
        )
    assert event.region_wide and event.area_codes == () and event.where() == "Region-wide"


# --- who may change what ----------------------------------------------------------------------------


def test_cal005_the_creators_organisation_chairs_and_admins_may_edit(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    allowed = {people.police_member2: True, people.charity_chair: True, people.council_admin: True,
               people.council_member: False}
    for user, may in allowed.items():
        with db.session() as s:
            v = viewer(s, user)
            assert cal.get_event(s, v, event.id).can_edit is may, user.name
    with db.session() as s:
        cora = viewer(s, people.council_member)
        with pytest.raises(cal.EventPermissionError):
            cal.update_event(s, cora, event.id, event.version, form(title="Changed by the council"))
        with pytest.raises(cal.EventPermissionError):
            cal.delete_event(s, cora, event.id, event.version)
    with db.session() as s:
        paul = viewer(s, people.police_member2)  # a colleague in the same organisation
        changed = cal.update_event(s, paul, event.id, event.version, form(title="March moved to Coventry",
                                                                          area_codes=[COVENTRY]))
    assert changed.title == "March moved to Coventry" and changed.area_codes == (COVENTRY,)
    assert changed.version == event.version + 1
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        cal.update_event(s, chair, event.id, changed.version, form(title="Chair's wording"))
        row = s.get(TriggerEvent, event.id)
        assert row.updated_by_id == people.charity_chair.id and row.title == "Chair's wording"
        assert audit_actions(s, event.id) == ["trigger event created", "trigger event updated", "trigger event updated"]


def test_cal006_the_national_team_sees_and_writes_nothing(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    with db.session() as s:
        sci = viewer(s, people.sci)
        assert cal.events_between(s, sci, date(2000, 1, 1), date(2099, 1, 1)) == []
        assert cal.list_events(s, sci, date(2000, 1, 1), cal.ListFilters(include_past=True)).events == []
        assert cal.get_event(s, sci, event.id) is None
        with pytest.raises(cal.EventPermissionError):
            cal.create_event(s, sci, form(title="From SCI"))
        with pytest.raises(cal.EventNotFoundError):
            cal.update_event(s, sci, event.id, event.version, form(title="From SCI"))
        with pytest.raises(cal.EventNotFoundError):
            cal.delete_event(s, sci, event.id, event.version)
    with db.session() as s:
        assert count_events(s) == 1 and s.get(TriggerEvent, event.id).title == "Planned march in Birmingham"


# --- version conflicts and soft delete ---------------------------------------------------------------


def test_cal007_a_stale_edit_is_refused_with_a_clear_message(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    with db.session() as s:
        cal.update_event(s, viewer(s, people.police_member2), event.id, event.version, form(title="First edit"))
    with db.session() as s:
        with pytest.raises(cal.StaleEventError) as caught:
            cal.update_event(s, viewer(s, people.police_member), event.id, event.version, form(title="Second edit"))
        with pytest.raises(cal.StaleEventError):
            cal.delete_event(s, viewer(s, people.police_member), event.id, event.version)
    assert "Someone else changed this event" in str(caught.value) and "Reload" in str(caught.value)
    with db.session() as s:
        assert s.get(TriggerEvent, event.id).title == "First edit"
        assert s.get(TriggerEvent, event.id).deleted_at is None
        assert audit_actions(s, event.id) == ["trigger event created", "trigger event updated"]


def test_cal008_a_change_committed_while_saving_is_caught_at_write(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    with pytest.raises(cal.StaleEventError), db.session() as slow:
        slow.get(TriggerEvent, event.id)  # read the event at its current version...
        with db.session() as fast:  # ...someone else saves meanwhile...
            cal.update_event(fast, viewer(fast, people.charity_chair), event.id, event.version, form(title="Fast"))
        # ...and the slow edit, checked against what it read, fails when it writes.
        cal.update_event(slow, viewer(slow, people.police_member), event.id, event.version, form(title="Slow"))
    with db.session() as s:
        assert s.get(TriggerEvent, event.id).title == "Fast"
        assert audit_actions(s, event.id).count("trigger event updated") == 1


def test_cal009_only_districts_changed_still_moves_the_version_on(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    with db.session() as s:
        changed = cal.update_event(s, viewer(s, people.police_member), event.id, event.version,
                                   form(area_codes=[BIRMINGHAM, COVENTRY]))
    assert changed.version == event.version + 1 and changed.area_codes == (BIRMINGHAM, COVENTRY)
    with db.session() as s:
        detail = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "trigger event updated")).one()
        assert detail["changed"] == ["areas"]
        same = cal.update_event(s, viewer(s, people.police_member), event.id, changed.version,
                                form(area_codes=[COVENTRY, BIRMINGHAM]))
        assert same.version == changed.version  # nothing changed: nothing written
        assert audit_actions(s, event.id).count("trigger event updated") == 1


def test_cal010_delete_is_soft_audited_and_leaves_every_list(db, people):
    with db.session() as s:
        event = cal.create_event(s, viewer(s, people.police_member), form())
    with db.session() as s:
        assert cal.delete_event(s, viewer(s, people.council_admin), event.id, event.version) == event.title
    with db.session() as s:
        pat = viewer(s, people.police_member)
        row = s.get(TriggerEvent, event.id)
        assert row.deleted_at is not None and row.updated_by_id == people.council_admin.id  # kept, marked
        assert cal.get_event(s, pat, event.id) is None
        assert cal.events_between(s, pat, date(2026, 1, 1), date(2026, 12, 31)) == []
        assert cal.list_events(s, pat, date(2026, 1, 1), cal.ListFilters(include_past=True)).events == []
        with pytest.raises(cal.EventNotFoundError):
            cal.delete_event(s, pat, event.id, row.version)
        assert audit_actions(s, event.id) == ["trigger event created", "trigger event deleted"]


# --- reads for the charts and the page ----------------------------------------------------------------


@pytest.fixture
def calendar(db, people):
    """A rally in Birmingham, a trial in Coventry spanning May/June, a region-wide anniversary and
    local elections in Derby and Birmingham on 7 May 2026."""
    with db.session() as s:
        pat = viewer(s, people.police_member)
        made = {
            "rally": cal.create_event(s, pat, form(starts_on="2026-04-18")),
            "trial": cal.create_event(s, pat, form(kind="trial or sentencing", title="Sentencing", starts_on="2026-05-28",
                                                   ends_on="2026-06-02", area_codes=[COVENTRY])),
            "anniversary": cal.create_event(s, pat, form(kind="anniversary", title="Anniversary", starts_on="2026-07-07",
                                                         region_wide=True, area_codes=[])),
            "election": cal.create_event(s, pat, form(kind="election", title="Local elections 2026",
                                                      starts_on="2026-05-07", area_codes=[DERBY, BIRMINGHAM])),
        }
    return {name: e.id for name, e in made.items()}


def titles(events) -> list[str]:
    return [e.title for e in events]


def test_cal011_events_between_overlap_areas_and_run_up(db, people, calendar):
    with db.session() as s:
        cora = viewer(s, people.council_member)
        # overlap: the trial starts before the window and ends inside it
        assert titles(cal.events_between(s, cora, date(2026, 6, 1), date(2026, 6, 30))) == ["Sentencing"]
        # the window ends before polling day, but inside the election's run-up
        early = cal.events_between(s, cora, date(2026, 4, 1), date(2026, 4, 20))
        assert titles(early) == ["Planned march in Birmingham", "Local elections 2026"]
        election = early[1]
        assert election.run_up == (date(2026, 3, 26), date(2026, 5, 6))
        assert (election.starts_on - election.run_up[0]).days == ELECTION_RUN_UP_DAYS
        # before the run-up starts: no election
        assert titles(cal.events_between(s, cora, date(2026, 1, 1), date(2026, 3, 25))) == []
        # districts: events in any of them, and region-wide ones
        assert titles(cal.events_between(s, cora, date(2026, 1, 1), date(2026, 12, 31), [COVENTRY])) == [
            "Sentencing", "Anniversary"]
        assert titles(cal.events_between(s, cora, date(2026, 1, 1), date(2026, 12, 31), [DERBY])) == [
            "Local elections 2026", "Anniversary"]
        assert election.area_names == ("Birmingham", "Derby")
        with pytest.raises(ValueError, match="on or before"):
            cal.events_between(s, cora, date(2026, 2, 1), date(2026, 1, 1))


def test_cal012_upcoming_and_the_filtered_list(db, people, calendar):
    with db.session() as s:
        cora = viewer(s, people.council_member)
        today = date(2026, 5, 1)
        assert titles(cal.upcoming(s, cora, today, weeks=4)) == ["Local elections 2026", "Sentencing"]
        assert titles(cal.upcoming(s, cora, today)) == ["Local elections 2026", "Sentencing", "Anniversary"]
        assert titles(cal.list_events(s, cora, today).events) == ["Local elections 2026", "Sentencing", "Anniversary"]
        past = cal.list_events(s, cora, today, cal.ListFilters(include_past=True)).events
        assert titles(past) == ["Anniversary", "Sentencing", "Local elections 2026", "Planned march in Birmingham"]
        assert titles(cal.list_events(s, cora, today, cal.ListFilters(kind="election")).events) == ["Local elections 2026"]
        assert titles(cal.list_events(s, cora, today, cal.ListFilters(area_code=COVENTRY)).events) == [
            "Sentencing", "Anniversary"]
        listing = cal.list_events(s, cora, today, cal.ListFilters(include_past=True), limit=2)
        assert len(listing.events) == 2 and listing.more
        assert sum(len(g.districts) for g in cal.district_groups(s)) == 65


# --- through the web: the national team cannot use the page's callbacks ---------------------------------


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = viewer(s, s.get(User, people.police_member.id))
        event = cal.create_event(s, pat, form(starts_on=(date.today() + timedelta(days=10)).isoformat()))
    return create_app(settings, sqlite_db), sqlite_db, people, event


def _sign_in(client, email):
    token = csrf_from(client.get("/login").data)
    client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"})
    client.get("/")
    return client.get_cookie("_csrf_token").value


def _call(app, client, token, output_contains: str, values: dict):
    """Post a callback of the calendar page the way dash-renderer does."""
    key = next(k for k in app.callback_map if output_contains in k)
    spec = app.callback_map[key]

    def item(dep):
        raw = dep["id"]
        if raw.startswith("{"):
            return []  # a pattern-matching dependency with no components
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
        "changedPropIds": [k for k in values if k.endswith("n_clicks") or k.endswith("submit_n_clicks")],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": token, "Content-Type": "application/json"})


SAVE_VALUES = {
    "calendar-form-save.n_clicks": 1,
    "calendar-form-kind.value": "rally or march",
    "calendar-form-title.value": "Written through the callback",
    "calendar-form-start.value": "2026-09-01",
    "calendar-form-region-wide.value": ["region-wide"],
}


def test_cal013_the_national_team_cannot_read_or_write_through_the_callbacks(web):
    app, db, people, event = web
    sci = app.server.test_client()
    token = _sign_in(sci, people.sci.email)
    listed = _call(app, sci, token, "calendar-upcoming.children", {})
    assert listed.status_code == 204 and b"Planned march" not in listed.data
    saved = _call(app, sci, token, "calendar-form-save.children", SAVE_VALUES)
    assert saved.status_code == 204
    pending = {"calendar-delete-confirm.submit_n_clicks": 1,
               "calendar-pending-delete.data": {"id": event.id, "version": event.version}}
    deleted = _call(app, sci, token, "calendar-delete-confirm.message", {})
    assert deleted.status_code == 204
    confirmed = _call(app, sci, token, "calendar-status.children@", pending)
    assert confirmed.status_code == 204
    with db.session() as s:
        assert count_events(s) == 1 and s.get(TriggerEvent, event.id).deleted_at is None

    # the same requests from a partner do read and write (so the refusal above is the role's)
    member = app.server.test_client()
    token = _sign_in(member, people.council_member.email)
    listed = _call(app, member, token, "calendar-upcoming.children", {})
    assert listed.status_code == 200 and b"Planned march in Birmingham" in listed.data
    saved = _call(app, member, token, "calendar-form-save.children", SAVE_VALUES)
    assert saved.status_code == 200 and b"Added" in saved.data
    with db.session() as s:
        assert count_events(s) == 2
    # but the council may not delete the police's event, even by posting the request directly
    refused = _call(app, member, token, "calendar-status.children@", pending)
    assert b"not deleted" in refused.data
    with db.session() as s:
        assert s.get(TriggerEvent, event.id).deleted_at is None
