"""Actions: the red-amber-green rating at its date boundaries, who may change what, validation
by field, version conflicts, soft delete, linked incidents through the access gate, the outcome
view's counts and windows, the tracker's filters and order, and the briefing pack's digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import actions as act
from dashboard import meetings as mtg
from dashboard.access import Viewer
from dashboard.models import (
    Action,
    ActionUpdate,
    AuditEvent,
    RecordChange,
    TensionAssessment,
    TriggerEvent,
    User,
)
from dashboard.reference import ActionStatus, Marking, Role
from tests.conftest import add_incident

TODAY = date(2026, 6, 15)  # a Monday
HELD = date(2026, 6, 10)  # the meeting, a Wednesday
BIRMINGHAM, COVENTRY, DERBY = "E08000025", "E08000026", "E06000015"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def chair(session, people) -> Viewer:
    return viewer(session, people.charity_chair)


def new_meeting(session, people, held_on: date = HELD, title: str = "Quarterly meeting, June 2026") -> int:
    return mtg.create_meeting(session, chair(session, people), {
        "held_on": held_on, "kind": "quarterly", "title": title,
        "attendees": [people.police.id, people.council.id, people.charity.id],
    })


def form(meeting_id: int, owner_id: int, **changes) -> dict:
    values = {
        "meeting": meeting_id,
        "description": "Brief ward councillors on leafleting",
        "owner": owner_id,
        "lead": "Cora Council",
        "due_on": "2026-07-10",
        "status": "",
        "progress": "",
        "areas": [BIRMINGHAM],
        "triggers": [],
        "incidents": [],
        "note": "",
    }
    return values | changes


def add_action(session, people, meeting_id: int, owner_id: int, **changes) -> int:
    return act.create_action(session, chair(session, people), form(meeting_id, owner_id, **changes))


def audit_names(session, action_id: int) -> list[str]:
    return list(session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == "action", AuditEvent.record_id == str(action_id))
        .order_by(AuditEvent.id)
    ))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def make_user(session, org, role: str, name: str) -> User:
    user = User(email=f"{name.lower().replace(' ', '.')}@example.org", name=name, organisation_id=org.id,
                role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


# --- the rating at its date boundaries ---------------------------------------------------------


@pytest.mark.parametrize(("status", "due", "expected", "label"), [
    ("not started", -1, act.Rag.RED, "Overdue"),  # due yesterday
    ("in progress", 0, act.Rag.AMBER, "Due soon"),  # due today is not overdue
    ("in progress", 1, act.Rag.AMBER, "Due soon"),
    ("not started", 14, act.Rag.AMBER, "Due soon"),
    ("not started", 15, act.Rag.GREEN, "On track"),
    ("blocked", 60, act.Rag.AMBER, "Blocked"),
    ("blocked", -1, act.Rag.RED, "Overdue"),  # overdue wins over blocked
    ("done", -30, act.Rag.CLOSED, "Done"),
    ("dropped", -30, act.Rag.CLOSED, "Dropped"),
    ("done", 30, act.Rag.CLOSED, "Done"),
])
def test_act001_rag_at_the_date_boundaries(status, due, expected, label):
    due_on = TODAY + timedelta(days=due)
    assert act.rag(status, due_on, TODAY) is expected
    assert act.rag_label(status, due_on, TODAY) == label


def test_act002_today_is_what_the_caller_says():
    due_on = date(2026, 7, 1)
    assert act.rag("in progress", due_on, date(2026, 6, 1)) is act.Rag.GREEN  # 30 days ahead
    assert act.rag("in progress", due_on, date(2026, 6, 17)) is act.Rag.AMBER  # 14 days ahead
    assert act.rag("in progress", due_on, date(2026, 6, 16)) is act.Rag.GREEN  # 15 days ahead
    assert act.rag("in progress", due_on, date(2026, 7, 1)) is act.Rag.AMBER
    assert act.rag("in progress", due_on, date(2026, 7, 2)) is act.Rag.RED


def test_act003_the_database_rates_and_orders_as_the_rule_does(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        ids = {}
        for name, status, due in (
            ("green", "not started", 15), ("amber14", "not started", 14), ("today", "in progress", 0),
            ("yesterday", "not started", -1), ("blocked", "blocked", 60), ("done", "done", -3),
            ("dropped", "dropped", 5), ("long overdue", "in progress", -5),
        ):
            ids[name] = add_action(s, people, meeting, people.police.id, description=name, status=status,
                                   due_on=max(TODAY + timedelta(days=due), HELD), note="Reason given")
    with db.session() as s:
        rows = act.tracker(s, viewer(s, people.council_member), act.ActionFilters(), TODAY)
        # overdue first, then by due date (then id)
        assert [r.description for r in rows] == [
            "long overdue", "yesterday", "today", "amber14", "blocked", "green", "done", "dropped",
        ]
        by_name = {r.description: r for r in rows}
        for row in rows:
            assert row.rag is act.rag(row.status, row.due_on, TODAY)
            assert row.rag_label == act.rag_label(row.status, row.due_on, TODAY)
        assert by_name["long overdue"].days_overdue == 5 and by_name["yesterday"].days_overdue == 1
        assert by_name["today"].days_overdue == 0 and by_name["done"].days_overdue == 0
        assert by_name["done"].completed_on is not None and by_name["dropped"].completed_on is None
        assert by_name["done"].progress == 100  # done is 100%
        counts = act.tracker_counts(s, viewer(s, people.council_member), act.ActionFilters(), TODAY)
        assert counts == {act.Rag.RED: 2, act.Rag.AMBER: 3, act.Rag.GREEN: 1, act.Rag.CLOSED: 2}
        # a day later, "today" is overdue too
        tomorrow = TODAY + timedelta(days=1)
        assert act.tracker_counts(s, viewer(s, people.council_member), act.ActionFilters(), tomorrow)[
            act.Rag.RED] == 3


# --- creating and validation -----------------------------------------------------------------------


def test_act004_a_chair_records_an_action_with_its_links_history_and_audit(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        rally = TriggerEvent(kind="rally or march", title="Planned march", starts_on=date(2026, 7, 4),
                             ends_on=date(2026, 7, 4))
        s.add(rally)
        incident = add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 6, 1))
        s.flush()
        action_id = act.create_action(s, chair(s, people), form(
            meeting, people.council.id, areas=[COVENTRY, BIRMINGHAM], triggers=[str(rally.id)],
            incidents=f"#{incident.id}", status="in progress", progress="20", note="Started",
        ), ip_address="10.1.1.1")
        rally_id, incident_id = rally.id, incident.id
    with db.session() as s:
        view = act.get_action(s, viewer(s, people.council_member), action_id, TODAY)
        assert view.meeting_title == "Quarterly meeting, June 2026" and view.meeting_held_on == HELD
        assert view.owner == "Test Council" and view.lead == "Cora Council"
        assert view.due_on == date(2026, 7, 10) and view.status_label == "In progress"
        assert view.progress == 20 and view.version == 1
        assert view.areas == ((BIRMINGHAM, "Birmingham"), (COVENTRY, "Coventry"))
        assert view.triggers == ((rally_id, "Planned march", date(2026, 7, 4)),)
        assert [i.id for i in view.incidents] == [incident_id]
        assert view.may_update and not view.may_edit
        updates = act.action_updates(s, viewer(s, people.council_member), action_id)
        assert [(u.who, u.status, u.progress, u.note) for u in updates] == [
            ("Chris Chair", "in progress", 20, "Started")
        ]
        assert [e.action for e in act.action_history(s, chair(s, people), action_id)] == ["created"]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "action-created")).one()
        assert event.user_id == people.charity_chair.id and event.ip_address == "10.1.1.1"
        assert event.record_id == str(action_id)


def test_act005_every_wrong_field_is_named_and_nothing_is_written(db, people):
    with db.session() as s:
        new_meeting(s, people)
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, chair(s, people), {
                "meeting": "", "description": "  ", "owner": "", "lead": "x" * 161, "due_on": "soon",
                "status": "finished", "progress": "101", "areas": ["E99999999"], "triggers": ["999"],
                "incidents": "12, abc",
            })
        assert count(s, Action) == 0 and count(s, ActionUpdate) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("action%"))) == 0
    errors = caught.value.errors
    assert list(errors) == ["meeting", "description", "owner", "lead", "due_on", "status", "progress",
                            "areas", "triggers", "incidents"]  # the form's order
    assert errors["meeting"] == "Choose the meeting that agreed the action."
    assert errors["description"] == "Describe the action: what is to be done."
    assert errors["owner"] == "Choose the organisation that owns the action."
    assert errors["lead"] == "The lead must be 160 characters or fewer (it has 161)."
    assert errors["due_on"] == "The due date must be a real date, for example 10 September 2026 (2026-09-10)."
    assert errors["status"] == "Choose the status from the list."
    assert errors["progress"] == "Enter the progress as a whole number from 0 to 100, for example 40."
    assert errors["areas"] == "Choose districts from the list only."
    assert errors["triggers"].startswith("Choose trigger events from the list only")
    assert errors["incidents"] == "Enter incident numbers as whole numbers, for example 1234."
    assert str(caught.value).startswith("Meeting: Choose the meeting")


def test_act006_due_dates_notes_and_owners_are_checked(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        c = chair(s, people)
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, c, form(meeting, people.police.id, due_on="2026-06-09"))
        assert caught.value.errors == {
            "due_on": "The due date must be on or after the date of the meeting (10 Jun 2026)."
        }
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, c, form(meeting, people.police.id, due_on=""))
        assert caught.value.errors == {"due_on": "Enter the date the action is due."}
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, c, form(meeting, people.police.id, status="blocked"))
        assert list(caught.value.errors) == ["note"] and "blocked" in caught.value.errors["note"]
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, c, form(meeting, people.sci_org.id))  # the national team owns nothing
        assert caught.value.errors == {
            "owner": "Choose the owner organisation from the list of member organisations."
        }
        with pytest.raises(act.ActionValidationError) as caught:
            act.create_action(s, c, form(meeting + 100, people.police.id))
        assert caught.value.errors["meeting"].startswith("Choose a meeting from the list")
        assert count(s, Action) == 0


# --- who may do what -------------------------------------------------------------------------------


def test_act007_a_member_cannot_update_another_organisations_action(db, people):
    with db.session() as s:
        action_id = add_action(s, people, new_meeting(s, people), people.police.id)
    with db.session() as s:
        cora = viewer(s, people.council_member)
        assert not act.get_action(s, cora, action_id, TODAY).may_update
        with pytest.raises(act.ActionPermissionError, match="Only members of Test Police"):
            act.update_progress(s, cora, action_id, 1, status="done", progress="", note="Finished")
    with db.session() as s:
        action = s.get(Action, action_id)
        assert (action.status, action.progress, action.version) == ("not started", 0, 1)
        assert count(s, ActionUpdate) == 0 and audit_names(s, action_id) == ["action-created"]


@pytest.mark.parametrize("who", ["police_member", "police_member2", "charity_chair"])
def test_act008_the_owner_organisations_members_and_any_chair_update_progress(db, people, who):
    with db.session() as s:
        action_id = add_action(s, people, new_meeting(s, people), people.police.id)
    with db.session() as s:
        v = viewer(s, getattr(people, who))
        assert act.may_update(v, people.police.id)
        act.update_progress(s, v, action_id, 1, status="in progress", progress="40", note="Under way",
                            ip_address="10.2.2.2")
    with db.session() as s:
        view = act.get_action(s, viewer(s, people.police_member), action_id, TODAY)
        assert (view.status, view.progress, view.version) == ("in progress", 40, 2)
        update = act.action_updates(s, viewer(s, people.council_member), action_id)[0]
        assert (update.who, update.status_label, update.progress, update.note) == (
            getattr(people, who).name, "In progress", 40, "Under way")
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "action-progress")).one()
        assert event.user_id == getattr(people, who).id and event.ip_address == "10.2.2.2"
        assert event.detail["status"] == "in progress" and event.detail["progress"] == 40


def test_act009_an_administrator_of_the_owner_updates_but_not_of_another(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        council_action = add_action(s, people, meeting, people.council.id)
        police_action = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        ada = viewer(s, people.council_admin)
        act.update_progress(s, ada, council_action, 1, status="in progress", progress=10, note="")
        with pytest.raises(act.ActionPermissionError):
            act.update_progress(s, ada, police_action, 1, status="in progress", progress=10, note="")


@pytest.mark.parametrize("who", ["police_member", "council_admin", "sci"])
def test_act010_only_a_chair_creates_edits_or_deletes_actions(db, people, who):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        other = viewer(s, getattr(people, who))
        assert not act.may_edit_actions(other)
        with pytest.raises(act.ActionPermissionError, match="Only chairs"):
            act.create_action(s, other, form(meeting, people.police.id))
        with pytest.raises(act.ActionPermissionError):
            act.edit_action(s, other, action_id, 1, form(meeting, people.police.id, description="Changed"))
        with pytest.raises(act.ActionPermissionError):
            act.delete_action(s, other, action_id, 1)
    with db.session() as s:
        assert count(s, Action) == 1
        action = s.get(Action, action_id)
        assert action.description == "Brief ward councillors on leafleting" and action.deleted_at is None
        assert audit_names(s, action_id) == ["action-created"]


def test_act011_the_national_team_reads_no_action_and_changes_none(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        sci = viewer(s, people.sci)
        assert act.tracker(s, sci, act.ActionFilters(), TODAY) == []
        assert act.tracker_counts(s, sci, act.ActionFilters(), TODAY) == dict.fromkeys(act.Rag, 0)
        assert act.get_action(s, sci, action_id, TODAY) is None
        assert act.open_actions_for_area(s, sci, BIRMINGHAM, TODAY) == []
        assert act.action_updates(s, sci, action_id) == [] and act.action_history(s, sci, action_id) == []
        assert act.outcome(s, sci, action_id, BIRMINGHAM, TODAY) is None
        pack = act.digest(s, sci, date(2026, 1, 1), TODAY, TODAY, TODAY + timedelta(days=60))
        assert (pack.done, pack.overdue, pack.due) == ([], [], [])
        choices = act.form_choices(s, sci, TODAY)
        assert (choices.meetings, choices.owners, choices.triggers) == ([], [], [])
        assert not act.may_update(sci, people.sci_org.id)
        with pytest.raises(act.ActionPermissionError):
            act.update_progress(s, sci, action_id, 1, status="done", progress=100, note="")


# --- progress ------------------------------------------------------------------------------------------


def test_act012_progress_rules(db, people):
    with db.session() as s:
        action_id = add_action(s, people, new_meeting(s, people), people.police.id)
    with db.session() as s:
        pat = viewer(s, people.police_member)
        for status, progress, note, field in (
            ("blocked", "", "", "note"),  # becoming blocked needs a note
            ("dropped", "", " ", "note"),  # ... and dropped
            ("not started", "", "", "note"),  # nothing changed and nothing said
            ("in progress", "-5", "x", "progress"),
            ("in progress", "12.5", "x", "progress"),
            ("paused", "5", "x", "status"),
        ):
            with pytest.raises(act.ActionValidationError) as caught:
                act.update_progress(s, pat, action_id, 1, status=status, progress=progress, note=note)
            assert list(caught.value.errors) == [field]
        assert count(s, ActionUpdate) == 0 and s.get(Action, action_id).version == 1

        act.update_progress(s, pat, action_id, 1, status="blocked", progress="30", note="Waiting for funding")
        # still blocked: a progress change needs no new note
        act.update_progress(s, pat, action_id, 2, status="blocked", progress="35", note="")
        # done sets 100%, whatever was typed
        act.update_progress(s, pat, action_id, 3, status="done", progress="50", note="")
    with db.session() as s:
        view = act.get_action(s, viewer(s, people.police_member), action_id, TODAY)
        assert (view.status, view.progress, view.version, view.rag) == ("done", 100, 4, act.Rag.CLOSED)
        assert view.completed_on == datetime.now(UTC).date()
        updates = act.action_updates(s, viewer(s, people.police_member), action_id)
        assert [(u.status, u.progress) for u in updates] == [("done", 100), ("blocked", 35), ("blocked", 30)]
        # progress updates are not field edits: the history holds only the creation
        assert [e.action for e in act.action_history(s, chair(s, people), action_id)] == ["created"]


# --- editing, conflicts, deleting ----------------------------------------------------------------


def test_act013_a_chair_edits_fields_and_links_with_history(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        act.edit_action(s, chair(s, people), action_id, 1, form(
            meeting, people.council.id, description="Brief councillors and faith leaders", lead="",
            due_on="2026-07-31", areas=[BIRMINGHAM, DERBY],
            status="done", progress="100",  # ignored: progress goes through update_progress
        ), ip_address="10.3.3.3")
    with db.session() as s:
        view = act.get_action(s, chair(s, people), action_id, TODAY)
        assert view.description == "Brief councillors and faith leaders" and view.owner == "Test Council"
        assert view.lead == "" and view.due_on == date(2026, 7, 31) and view.version == 2
        assert view.areas == ((BIRMINGHAM, "Birmingham"), (DERBY, "Derby"))
        assert view.status == "not started" and view.progress == 0
        entry = act.action_history(s, chair(s, people), action_id)[-1]
        assert entry.action == "updated" and entry.version == 2
        assert [(c.field, c.before, c.after) for c in entry.changes] == [
            ("Action", "Brief ward councillors on leafleting", "Brief councillors and faith leaders"),
            ("Owner organisation", "Test Police", "Test Council"),
            ("Lead", "Cora Council", "Not given"),
            ("Due date", "10 Jul 2026", "31 Jul 2026"),
            ("Districts", "Birmingham", "Birmingham; Derby"),
        ]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "action-updated")).one()
        assert event.detail == {"changed": ["description", "owner", "lead", "due_on", "areas"], "version": 2}
        assert event.ip_address == "10.3.3.3"
        # the same form again writes nothing
        act.edit_action(s, chair(s, people), action_id, 2, form(
            meeting, people.council.id, description="Brief councillors and faith leaders", lead="",
            due_on="2026-07-31", areas=[DERBY, BIRMINGHAM]))
        assert s.get(Action, action_id).version == 2


def test_act014_links_alone_move_the_version_on(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        act.edit_action(s, chair(s, people), action_id, 1, form(meeting, people.police.id, areas=[]))
    with db.session() as s:
        view = act.get_action(s, chair(s, people), action_id, TODAY)
        assert view.areas == () and view.version == 2


def test_act015_stale_saves_are_refused_with_the_saved_version(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id)
    with db.session() as s:
        act.update_progress(s, viewer(s, people.police_member), action_id, 1, status="in progress",
                            progress=10, note="")
    with db.session() as s:
        with pytest.raises(act.ActionConflictError) as caught:
            act.update_progress(s, viewer(s, people.police_member2), action_id, 1, status="in progress",
                                progress=50, note="")
        assert caught.value.current.progress == 10 and caught.value.current.version == 2
        assert "Someone else changed this action" in str(caught.value)
        with pytest.raises(act.ActionConflictError):
            act.edit_action(s, chair(s, people), action_id, 1, form(meeting, people.police.id, lead="X"))
        with pytest.raises(act.ActionConflictError, match="has not been deleted"):
            act.delete_action(s, chair(s, people), action_id, 1)
    with db.session() as s:
        action = s.get(Action, action_id)
        assert (action.progress, action.lead, action.deleted_at, action.version) == (10, "Cora Council", None, 2)
        assert count(s, ActionUpdate) == 1


def test_act016_two_people_saving_at_once_the_second_gets_a_conflict(db, people):
    with db.session() as s:
        action_id = add_action(s, people, new_meeting(s, people), people.police.id)
    first, second = db.factory(), db.factory()
    try:
        paul = viewer(second, people.police_member2)
        theirs = second.get(Action, action_id)  # opened at version 1
        theirs.progress = 70
        act.update_progress(first, viewer(first, people.police_member), action_id, 1, status="in progress",
                            progress=20, note="")
        first.commit()
        with pytest.raises(act.ActionConflictError) as caught:
            act._flush(second, paul, action_id)
        assert caught.value.current.progress == 20
    finally:
        first.close()
        second.close()


def test_act017_a_deleted_action_leaves_every_list(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        gone = add_action(s, people, meeting, people.police.id, due_on="2026-06-12")
        kept = add_action(s, people, meeting, people.police.id, due_on="2026-06-13")
    with db.session() as s:
        act.delete_action(s, chair(s, people), gone, 1, "Duplicate of another action", ip_address="10.4.4.4")
    with db.session() as s:
        v = viewer(s, people.police_member)
        assert [a.id for a in act.tracker(s, v, act.ActionFilters(), TODAY)] == [kept]
        assert act.get_action(s, v, gone, TODAY) is None
        assert act.tracker_counts(s, v, act.ActionFilters(), TODAY)[act.Rag.RED] == 1
        assert [a.id for a in act.open_actions_for_area(s, v, BIRMINGHAM, TODAY)] == [kept]
        assert mtg.get_meeting(s, v, meeting, TODAY).action_count == 1
        pack = act.digest(s, v, date(2026, 1, 1), TODAY, TODAY, TODAY + timedelta(days=30))
        assert [a.id for a in pack.overdue] == [kept]
        with pytest.raises(act.ActionNotFoundError):
            act.update_progress(s, v, gone, 2, status="done", progress=100, note="")
        entry = s.scalars(select(RecordChange).where(RecordChange.record_type == "action",
                                                     RecordChange.action == "deleted")).one()
        assert entry.note == "Duplicate of another action"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "action-deleted")).one()
        assert event.reason == "Duplicate of another action" and event.ip_address == "10.4.4.4"
        assert event.user_id == people.charity_chair.id


# --- linked incidents and the access gate -------------------------------------------------------------


def test_act018_an_incident_the_chair_cannot_see_cannot_be_linked_and_is_not_revealed(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        strict = add_incident(s, people.police_member, Marking.AMBER_STRICT)
        missing = strict.id + 1000
        c = chair(s, people)
        with pytest.raises(act.ActionValidationError) as hidden:
            act.create_action(s, c, form(meeting, people.police.id, incidents=[strict.id]))
        with pytest.raises(act.ActionValidationError) as absent:
            act.create_action(s, c, form(meeting, people.police.id, incidents=[missing]))
        # the same words for a record the chair may not see as for one that does not exist
        assert hidden.value.errors["incidents"].replace(str(strict.id), "N") == \
            absent.value.errors["incidents"].replace(str(missing), "N")
        assert hidden.value.errors["incidents"] == (
            f"There is no incident number {strict.id} that you can see: check the number."
        )
        assert count(s, Action) == 0


def test_act019_linked_incidents_are_shown_only_to_who_may_see_them_and_kept_on_edit(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        strict = add_incident(s, people.police_member, Marking.AMBER_STRICT, title="Police only")
        shared = add_incident(s, people.police_member, Marking.GREEN, title="Everyone")
        other = add_incident(s, people.council_member, Marking.GREEN, title="Another")
        police_chair = make_user(s, people.police, Role.CHAIR, "Pam Police Chair")
        pam = viewer(s, police_chair)
        action_id = act.create_action(s, pam, form(meeting, people.police.id, incidents=[strict.id, shared.id]))
        ids = strict.id, shared.id, other.id
    strict_id, shared_id, other_id = ids
    with db.session() as s:
        assert {i.id for i in act.get_action(s, viewer(s, people.police_member), action_id, TODAY).incidents} \
            == {strict_id, shared_id}
        seen_by_chair = act.get_action(s, chair(s, people), action_id, TODAY).incidents
        assert [(i.id, i.title, i.marking) for i in seen_by_chair] == [(shared_id, "Everyone", "TLP:GREEN")]
        tracker_row = act.tracker(s, viewer(s, people.council_member), act.ActionFilters(), TODAY)[0]
        assert [i.id for i in tracker_row.incidents] == [shared_id]
        # the charity's chair edits the links as they see them: the police-only link stays
        act.edit_action(s, chair(s, people), action_id, 1, form(meeting, people.police.id, incidents=[other_id]))
    with db.session() as s:
        assert {i.id for i in act.get_action(s, viewer(s, people.police_member), action_id, TODAY).incidents} \
            == {strict_id, other_id}
        assert [i.id for i in act.get_action(s, chair(s, people), action_id, TODAY).incidents] == [other_id]
        # the history shows each reader only the incidents they may see
        change = act.action_history(s, chair(s, people), action_id)[-1].changes
        assert [(c.field, c.before, c.after) for c in change] == [("Incidents", f"#{shared_id}", f"#{other_id}")]
        change = act.action_history(s, viewer(s, people.police_member), action_id)[-1].changes
        assert [(c.field, c.before, c.after) for c in change] == [
            ("Incidents", f"#{min(strict_id, shared_id)}; #{max(strict_id, shared_id)}",
             f"#{min(strict_id, other_id)}; #{max(strict_id, other_id)}")
        ]


def test_act020_an_edit_of_hidden_links_only_is_not_shown_to_who_cannot_see_them(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        strict = add_incident(s, people.police_member, Marking.AMBER_STRICT)
        pam = viewer(s, make_user(s, people.police, Role.CHAIR, "Pam Police Chair"))
        action_id = act.create_action(s, pam, form(meeting, people.police.id))
        act.edit_action(s, pam, action_id, 1, form(meeting, people.police.id, incidents=[strict.id]))
    with db.session() as s:
        assert [e.action for e in act.action_history(s, chair(s, people), action_id)] == ["created"]
        assert [e.action for e in act.action_history(s, viewer(s, people.police_member), action_id)] == [
            "created", "updated"]


# --- the outcome view ----------------------------------------------------------------------------------


def test_act021_outcome_counts_visible_incidents_in_equal_windows(db, people):
    agreed = date(2026, 1, 14)  # a Wednesday; its week starts Monday 12 Jan
    today = date(2026, 6, 17)  # a Wednesday
    with db.session() as s:
        meeting = new_meeting(s, people, held_on=agreed, title="January")
        action_id = add_action(s, people, meeting, people.police.id, due_on="2026-03-04",
                               areas=[BIRMINGHAM, COVENTRY])
        a = s.get(Action, action_id)
        # completed on Wednesday 4 Mar 2026 (week of Monday 2 Mar)
        a.status, a.progress = "done", 100
        s.add(ActionUpdate(action_id=action_id, user_id=people.police_member.id, status="done", progress=100,
                           at=datetime(2026, 3, 4, 12, tzinfo=UTC)))
        pat = people.police_member
        for day in (date(2025, 10, 20), date(2025, 10, 19), date(2026, 1, 11), date(2026, 1, 12),
                    date(2026, 3, 9), date(2026, 5, 31), date(2026, 6, 1)):
            add_incident(s, pat, Marking.GREEN, day=day)
        add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 1, 5))  # police only
        add_incident(s, pat, Marking.GREEN, day=date(2026, 1, 5), area=COVENTRY)  # another district
        for assessed_on, level in ((date(2025, 9, 1), 2), (date(2026, 1, 7), 4), (date(2026, 5, 27), 3)):
            s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=assessed_on, level=level,
                                    source_org_id=people.police.id, reporter_id=pat.id))
    with db.session() as s:
        result = act.outcome(s, chair(s, people), action_id, BIRMINGHAM, today)
        assert result.area_name == "Birmingham"
        assert result.start == agreed and result.end == date(2026, 3, 4)
        # Mondays from 12 weeks before the meeting's week to 12 weeks after the completion's week
        assert result.weeks[0].week_start == date(2025, 10, 20)
        assert result.weeks[-1].week_start == date(2026, 5, 25)
        assert all(w.week_start.weekday() == 0 for w in result.weeks)
        assert len(result.weeks) == 32
        weekly = {w.week_start: w.incidents for w in result.weeks}
        assert weekly[date(2025, 10, 20)] == 1  # the 19th is a Sunday, before the first week
        assert weekly[date(2026, 1, 5)] == 1  # a Sunday (11 Jan): the AMBER+STRICT one is not counted
        assert weekly[date(2026, 1, 12)] == 1
        assert weekly[date(2026, 3, 9)] == 1 and weekly[date(2026, 5, 25)] == 1
        assert sum(weekly.values()) == 5  # 1 June is after the last week
        # 12 whole weeks on each side: 20 Oct 2025 - 11 Jan 2026 and 9 Mar - 31 May 2026
        assert result.window_weeks == 12
        assert (result.before_incidents, result.after_incidents) == (2, 2)
        levels = {w.week_start: w.level for w in result.weeks}
        assert levels[date(2025, 10, 20)] == 2  # carried from September
        assert levels[date(2026, 1, 5)] == 4 and levels[date(2026, 5, 18)] == 4
        assert levels[date(2026, 5, 25)] == 3
        assert (result.before_level, result.after_level) == (4, 3)
        sentence = result.sentence()
        assert sentence.startswith("Birmingham: 2 incidents you can see in the 12 weeks before this action "
                                   "was agreed on 14 Jan 2026 and 2 in the 12 weeks after it was completed "
                                   "on 4 Mar 2026")
        assert sentence.endswith("; latest tension level 4 high before and 3 elevated after.")

        # the police see their own AMBER+STRICT report counted
        police = act.outcome(s, viewer(s, people.police_member), action_id, BIRMINGHAM, today)
        assert police.before_incidents == 3
        # a district the action is not linked to, or an action not visible: nothing
        assert act.outcome(s, chair(s, people), action_id, DERBY, today) is None
        assert act.outcome(s, chair(s, people), action_id + 99, BIRMINGHAM, today) is None


def test_act022_outcome_of_an_open_action_stops_at_today(db, people):
    with db.session() as s:
        meeting = new_meeting(s, people)
        action_id = add_action(s, people, meeting, people.police.id, due_on="2026-07-31")
    with db.session() as s:
        result = act.outcome(s, chair(s, people), action_id, BIRMINGHAM, TODAY)
        assert result.end == TODAY  # not due yet: today
        assert result.weeks[-1].week_start == date(2026, 6, 15)  # never past today's week
        assert result.window_weeks == 0 and result.after_level is None
        assert "too soon to compare" in result.sentence()
        # due three weeks ago and still open: windows end three whole weeks later
        later = act.outcome(s, chair(s, people), action_id, BIRMINGHAM, date(2026, 8, 24))
        assert later.end == date(2026, 7, 31) and later.window_weeks == 3
        assert "it was due on 31 Jul 2026" in later.sentence()


# --- the tracker ----------------------------------------------------------------------------------------


def test_act023_tracker_filters(db, people):
    with db.session() as s:
        june = new_meeting(s, people)
        march = new_meeting(s, people, held_on=date(2026, 3, 11), title="March")
        a = add_action(s, people, june, people.police.id, areas=[BIRMINGHAM], due_on="2026-06-12")
        b = add_action(s, people, june, people.council.id, areas=[COVENTRY], due_on="2026-09-01")
        c = add_action(s, people, march, people.police.id, areas=[], due_on="2026-04-01", status="done")
        d = add_action(s, people, march, people.charity.id, areas=[BIRMINGHAM, COVENTRY], due_on="2026-06-20",
                       status="blocked", note="Waiting")
    with db.session() as s:
        pat = viewer(s, people.police_member)

        def ids(**filters) -> list[int]:
            return [r.id for r in act.tracker(s, pat, act.ActionFilters(**filters), TODAY)]

        assert ids() == [a, d, b, c]  # overdue, amber, green, closed
        assert ids(owners=(people.police.id,)) == [a, c]
        assert ids(owners=(people.council.id, people.charity.id)) == [d, b]
        assert ids(mine=True) == [a, c]
        assert ids(meetings=(march,)) == [d, c]
        assert ids(areas=(COVENTRY,)) == [d, b]
        assert ids(areas=(BIRMINGHAM,), meetings=(june,)) == [a]
        assert ids(statuses=("blocked", "done")) == [d, c]
        assert ids(include_closed=False) == [a, d, b]
        assert ids(rags=("red", "green")) == [a, b]
        assert [r.id for r in act.tracker(s, pat, act.ActionFilters(), TODAY, limit=2)] == [a, d]
        counts = act.tracker_counts(s, pat, act.ActionFilters(areas=(BIRMINGHAM,)), TODAY)
        assert counts == {act.Rag.RED: 1, act.Rag.AMBER: 1, act.Rag.GREEN: 0, act.Rag.CLOSED: 0}
        cora = viewer(s, people.council_member)
        assert [r.id for r in act.tracker(s, cora, act.ActionFilters(mine=True), TODAY)] == [b]
        # a district's open actions, overdue first
        assert [r.id for r in act.open_actions_for_area(s, pat, BIRMINGHAM, TODAY)] == [a, d]
        assert [r.id for r in act.open_actions_for_area(s, pat, COVENTRY, TODAY, limit=1)] == [d]


def test_act024_the_tracker_reads_a_page_in_a_fixed_number_of_queries(db, people):
    from sqlalchemy import event

    with db.session() as s:
        meeting = new_meeting(s, people)
        incident = add_incident(s, people.police_member, Marking.GREEN)
        for i in range(30):
            add_action(s, people, meeting, people.police.id, description=f"Action {i}",
                       areas=[BIRMINGHAM, COVENTRY], incidents=[incident.id])
    with db.session() as s:
        pat = viewer(s, people.police_member)
        statements: list[str] = []

        def count_statement(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count_statement)
        try:
            rows = act.tracker(s, pat, act.ActionFilters(), TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
        assert len(rows) == 30 and all(len(r.areas) == 2 and len(r.incidents) == 1 for r in rows)
        assert len(statements) == 4  # the rows, then districts, trigger events, incidents


# --- the briefing pack's digest -------------------------------------------------------------------------


def test_act025_digest_buckets(db, people):
    start, end = date(2026, 3, 11), date(2026, 6, 14)
    horizon = TODAY + timedelta(days=28)
    with db.session() as s:
        meeting = new_meeting(s, people, held_on=date(2026, 3, 11), title="March")
        done_in = add_action(s, people, meeting, people.police.id, due_on="2026-05-01")
        done_before = add_action(s, people, meeting, people.police.id, due_on="2026-03-20")
        done_after = add_action(s, people, meeting, people.police.id, due_on="2026-06-30")
        overdue = add_action(s, people, meeting, people.police.id, due_on="2026-06-14")
        due_today = add_action(s, people, meeting, people.police.id, due_on="2026-06-15")
        due_at_horizon = add_action(s, people, meeting, people.police.id, due_on=horizon.isoformat())
        add_action(s, people, meeting, people.police.id, due_on=(horizon + timedelta(days=1)).isoformat())
        dropped = add_action(s, people, meeting, people.police.id, due_on="2026-06-01")
        for action_id, at in ((done_in, datetime(2026, 6, 14, 23, 30, tzinfo=UTC)),
                              (done_before, datetime(2026, 3, 10, 23, 59, tzinfo=UTC)),
                              (done_after, datetime(2026, 6, 15, 0, 1, tzinfo=UTC))):
            s.get(Action, action_id).status = "done"
            s.add(ActionUpdate(action_id=action_id, user_id=people.police_member.id, status="done",
                               progress=100, at=at))
        s.get(Action, dropped).status = "dropped"
    with db.session() as s:
        pack = act.digest(s, viewer(s, people.council_member), start, end, TODAY, horizon)
        assert [a.id for a in pack.done] == [done_in]
        assert pack.done[0].completed_on == date(2026, 6, 14)
        assert [a.id for a in pack.overdue] == [overdue]
        assert [a.id for a in pack.due] == [due_today, due_at_horizon]


def test_act026_form_choices(db, people):
    with db.session() as s:
        new_meeting(s, people, held_on=date(2026, 3, 11), title="Quarterly meeting, March 2026")
        new_meeting(s, people)
        s.add_all([
            TriggerEvent(kind="election", title="Local elections", starts_on=date(2026, 5, 7),
                         ends_on=date(2026, 5, 7)),
            TriggerEvent(kind="rally or march", title="Old march", starts_on=date(2025, 6, 1),
                         ends_on=date(2025, 6, 1)),
        ])
    with db.session() as s:
        choices = act.form_choices(s, viewer(s, people.police_member), TODAY)
        assert [label for _, label in choices.meetings] == [
            "Quarterly meeting, June 2026 (10 Jun 2026)", "Quarterly meeting, March 2026 (11 Mar 2026)",
        ]
        assert [name for _, name in choices.owners] == ["Test Council", "Test Police", "Test Refugee Charity"]
        assert [label for _, label in choices.triggers] == ["Local elections (7 May 2026)"]
        assert any(code == BIRMINGHAM for _, districts in choices.areas for code, _ in districts)


def test_act027_status_is_always_given_in_words():
    assert act.STATUS_LABELS == {s.value: act.status_label(s) for s in ActionStatus}
    assert set(act.STATUS_LABELS.values()) == {"Not started", "In progress", "Done", "Blocked", "Dropped"}
