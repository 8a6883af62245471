"""Meetings: who may record them, validation by field, version conflicts, soft delete (which
takes the meeting's actions out of every list), history and audit, and that the national team
(SCI) reads nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import actions as act
from dashboard import meetings as mtg
from dashboard.access import Viewer
from dashboard.models import Action, AuditEvent, Meeting, RecordChange, User
from dashboard.reference import MeetingKind

TODAY = date(2026, 6, 15)
BIRMINGHAM = "E08000025"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def chair(session, people) -> Viewer:
    return viewer(session, people.charity_chair)


def meeting_form(people, **changes) -> dict:
    values = {
        "held_on": "2026-06-10",
        "kind": MeetingKind.QUARTERLY.value,
        "title": "Quarterly meeting, June 2026",
        "attendees": [people.police.id, people.council.id],
        "agenda": "1. Tension since March\n2. Actions",
        "minutes": "The group reviewed the quarter.",
    }
    return values | changes


def action_form(meeting_id: int, owner_id: int, **changes) -> dict:
    values = {
        "meeting": meeting_id,
        "description": "Brief ward councillors on leafleting",
        "owner": owner_id,
        "lead": "Cora Council",
        "due_on": "2026-07-10",
        "areas": [BIRMINGHAM],
    }
    return values | changes


def audit_actions(session, record_type: str, record_id: int) -> list[str]:
    return list(session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == record_type, AuditEvent.record_id == str(record_id))
        .order_by(AuditEvent.id)
    ))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- recording a meeting -------------------------------------------------------------------------


def test_mtg001_a_chair_records_a_meeting_with_history_and_audit(db, people):
    with db.session() as s:
        meeting_id = mtg.create_meeting(
            s, chair(s, people), meeting_form(people, title="  Quarterly   meeting, June 2026 "),
            ip_address="10.0.0.7",
        )
    with db.session() as s:
        view = mtg.get_meeting(s, viewer(s, people.police_member), meeting_id, TODAY)
        assert view.title == "Quarterly meeting, June 2026"  # spaces tidied
        assert view.held_on == date(2026, 6, 10) and view.kind_label == "Quarterly meeting"
        assert view.attendees == ((people.council.id, "Test Council"), (people.police.id, "Test Police"))
        assert view.version == 1 and view.action_count == 0
        assert not view.may_edit  # a member reads it but may not change it
        assert mtg.get_meeting(s, chair(s, people), meeting_id, TODAY).may_edit
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "meeting-created")).one()
        assert event.user_id == people.charity_chair.id and event.ip_address == "10.0.0.7"
        assert event.record_id == str(meeting_id)
        entries = mtg.meeting_history(s, viewer(s, people.police_member), meeting_id)
        assert [e.action for e in entries] == ["created"]
        assert entries[0].summary == "Created by Chris Chair (Test Refugee Charity)"


def test_mtg002_every_wrong_field_is_named_and_nothing_is_written(db, people):
    with db.session() as s:
        with pytest.raises(mtg.MeetingValidationError) as caught:
            mtg.create_meeting(s, chair(s, people), {
                "held_on": "2026-02-30", "kind": "picnic", "title": "   ",
                "attendees": ["x", 99999], "agenda": "a" * (mtg.TEXT_MAX + 1), "minutes": "",
            })
        assert count(s, Meeting) == 0 and count(s, AuditEvent) == 0
    errors = caught.value.errors
    assert list(errors) == ["held_on", "kind", "title", "attendees", "agenda"]  # the form's order
    assert errors["held_on"] == (
        "The date of the meeting must be a real date, for example 10 June 2026 (2026-06-10)."
    )
    assert errors["kind"] == "Choose the kind of meeting from the list."
    assert errors["title"].startswith("Enter a title for the meeting")
    assert errors["attendees"] == "Choose the organisations attending from the list only."
    assert errors["agenda"] == f"The agenda must be {mtg.TEXT_MAX:,} characters or fewer (it has 20,001)."
    assert str(caught.value).startswith("Date: The date of the meeting")

    with db.session() as s, pytest.raises(mtg.MeetingValidationError) as caught:
        mtg.create_meeting(s, chair(s, people), meeting_form(people, held_on=""))
    assert caught.value.errors == {"held_on": "Enter the date of the meeting."}


def test_mtg003_the_national_team_cannot_be_recorded_as_attending(db, people):
    with db.session() as s:
        assert (people.sci_org.id, "Safe Communities Initiative") not in mtg.organisation_choices(s)
        assert mtg.organisation_choices(s) == [
            (people.council.id, "Test Council"), (people.police.id, "Test Police"),
            (people.charity.id, "Test Refugee Charity"),
        ]
        with pytest.raises(mtg.MeetingValidationError) as caught:
            mtg.create_meeting(s, chair(s, people), meeting_form(people, attendees=[people.sci_org.id]))
    assert list(caught.value.errors) == ["attendees"]


@pytest.mark.parametrize("who", ["police_member", "council_admin", "sci"])
def test_mtg004_only_a_chair_records_changes_or_deletes_a_meeting(db, people, who):
    with db.session() as s:
        meeting_id = mtg.create_meeting(s, chair(s, people), meeting_form(people))
    with db.session() as s:
        other = viewer(s, getattr(people, who))
        assert not mtg.may_edit_meetings(other)
        with pytest.raises(mtg.MeetingPermissionError, match="Only chairs"):
            mtg.create_meeting(s, other, meeting_form(people))
        with pytest.raises(mtg.MeetingPermissionError):
            mtg.update_meeting(s, other, meeting_id, 1, meeting_form(people, title="Changed"))
        with pytest.raises(mtg.MeetingPermissionError):
            mtg.delete_meeting(s, other, meeting_id, 1)
    with db.session() as s:
        assert count(s, Meeting) == 1
        meeting = s.get(Meeting, meeting_id)
        assert meeting.title == "Quarterly meeting, June 2026" and meeting.deleted_at is None
        assert meeting.version == 1
        assert audit_actions(s, "meeting", meeting_id) == ["meeting-created"]


def test_mtg005_the_national_team_reads_no_meeting(db, people):
    with db.session() as s:
        meeting_id = mtg.create_meeting(s, chair(s, people), meeting_form(people))
    with db.session() as s:
        sci = viewer(s, people.sci)
        assert mtg.list_meetings(s, sci, TODAY) == []
        assert mtg.get_meeting(s, sci, meeting_id, TODAY) is None
        assert mtg.last_meeting(s, sci, TODAY) is None
        assert mtg.next_meeting(s, sci, date(2026, 1, 1)) is None
        assert mtg.meeting_history(s, sci, meeting_id) == []
        # every partner role reads it
        for user in (people.police_member, people.council_admin, people.charity_chair):
            assert mtg.get_meeting(s, viewer(s, user), meeting_id, TODAY) is not None


# --- changing a meeting --------------------------------------------------------------------------


def test_mtg006_an_edit_moves_the_version_on_and_lists_the_changed_fields(db, people):
    with db.session() as s:
        meeting_id = mtg.create_meeting(s, chair(s, people), meeting_form(people))
    with db.session() as s:
        mtg.update_meeting(s, chair(s, people), meeting_id, 1,
                           meeting_form(people, title="June meeting", held_on=date(2026, 6, 11)),
                           ip_address="10.0.0.8")
    with db.session() as s:
        view = mtg.get_meeting(s, chair(s, people), meeting_id, TODAY)
        assert view.title == "June meeting" and view.held_on == date(2026, 6, 11) and view.version == 2
        updated = mtg.meeting_history(s, chair(s, people), meeting_id)[-1]
        assert updated.action == "updated" and updated.version == 2
        assert [(c.field, c.before, c.after) for c in updated.changes] == [
            ("Date", "10 Jun 2026", "11 Jun 2026"), ("Title", "Quarterly meeting, June 2026", "June meeting"),
        ]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "meeting-updated")).one()
        assert event.detail == {"changed": ["held_on", "title"], "version": 2}
        assert event.ip_address == "10.0.0.8" and event.user_id == people.charity_chair.id

    # attendance alone is a change too: the version moves on
    with db.session() as s:
        mtg.update_meeting(s, chair(s, people), meeting_id, 2,
                           meeting_form(people, title="June meeting", held_on=date(2026, 6, 11),
                                        attendees=[str(people.charity.id)]))
    with db.session() as s:
        view = mtg.get_meeting(s, chair(s, people), meeting_id, TODAY)
        assert view.version == 3 and view.attendees == ((people.charity.id, "Test Refugee Charity"),)
        change = mtg.meeting_history(s, chair(s, people), meeting_id)[-1].changes
        assert [(c.field, c.before, c.after) for c in change] == [
            ("Organisations attending", "Test Council; Test Police", "Test Refugee Charity")
        ]

    # saving the same values writes nothing
    with db.session() as s:
        mtg.update_meeting(s, chair(s, people), meeting_id, 3,
                           meeting_form(people, title="June meeting", held_on="2026-06-11",
                                        attendees=[people.charity.id]))
    with db.session() as s:
        assert s.get(Meeting, meeting_id).version == 3
        assert audit_actions(s, "meeting", meeting_id) == ["meeting-created", "meeting-updated", "meeting-updated"]


def test_mtg007_a_stale_edit_is_refused_with_the_saved_version(db, people):
    with db.session() as s:
        meeting_id = mtg.create_meeting(s, chair(s, people), meeting_form(people))
    with db.session() as s:
        mtg.update_meeting(s, chair(s, people), meeting_id, 1, meeting_form(people, title="First edit"))
    with db.session() as s, pytest.raises(mtg.MeetingConflictError) as caught:
        mtg.update_meeting(s, chair(s, people), meeting_id, 1, meeting_form(people, title="Second edit"))
    assert caught.value.current.title == "First edit" and caught.value.current.version == 2
    assert "Someone else changed this meeting" in str(caught.value)
    with db.session() as s, pytest.raises(mtg.MeetingConflictError):
        mtg.delete_meeting(s, chair(s, people), meeting_id, 1)
    with db.session() as s:
        assert s.get(Meeting, meeting_id).title == "First edit"
        assert s.get(Meeting, meeting_id).deleted_at is None


def test_mtg008_two_chairs_saving_at_once_the_second_gets_a_conflict(db, people):
    with db.session() as s:
        meeting_id = mtg.create_meeting(s, chair(s, people), meeting_form(people))
    first, second = db.factory(), db.factory()
    try:
        # the second chair opens the meeting (version 1) and starts changing it ...
        second_chair = chair(second, people)
        theirs = second.get(Meeting, meeting_id)
        theirs.title = "Theirs"
        # ... while the first saves and commits
        mtg.update_meeting(first, chair(first, people), meeting_id, 1, meeting_form(people, title="Mine"))
        first.commit()
        with pytest.raises(mtg.MeetingConflictError) as caught:
            mtg._flush(second, second_chair, meeting_id)
        assert caught.value.current.title == "Mine" and caught.value.current.version == 2
    finally:
        first.close()
        second.close()
    with db.session() as s:
        assert s.get(Meeting, meeting_id).title == "Mine" and s.get(Meeting, meeting_id).version == 2


# --- deleting a meeting --------------------------------------------------------------------------


def test_mtg009_a_deleted_meeting_and_its_actions_leave_every_list(db, people):
    with db.session() as s:
        c = chair(s, people)
        meeting_id = mtg.create_meeting(s, c, meeting_form(people))
        kept_id = mtg.create_meeting(s, c, meeting_form(people, title="Extraordinary", held_on="2026-06-12",
                                                        kind=MeetingKind.EXTRAORDINARY.value))
        gone = act.create_action(s, c, action_form(meeting_id, people.police.id, due_on="2026-06-11"))
        kept = act.create_action(s, c, action_form(kept_id, people.police.id, due_on="2026-06-12"))
    with db.session() as s:
        view = mtg.get_meeting(s, chair(s, people), meeting_id, TODAY)
        assert (view.action_count, view.open_action_count, view.overdue_action_count) == (1, 1, 1)
        mtg.delete_meeting(s, chair(s, people), meeting_id, 1, "  Entered twice  ", ip_address="10.0.0.9")
    with db.session() as s:
        for user in (people.police_member, people.charity_chair, people.council_admin):
            v = viewer(s, user)
            assert [m.id for m in mtg.list_meetings(s, v, TODAY)] == [kept_id]
            assert mtg.get_meeting(s, v, meeting_id, TODAY) is None
            assert mtg.last_meeting(s, v, TODAY).id == kept_id
            assert [a.id for a in act.tracker(s, v, act.ActionFilters(), TODAY)] == [kept]
            assert act.get_action(s, v, gone, TODAY) is None
            assert act.action_updates(s, v, gone) == [] and act.action_history(s, v, gone) == []
            assert act.tracker_counts(s, v, act.ActionFilters(), TODAY)[act.Rag.RED] == 1
            assert [a.id for a in act.open_actions_for_area(s, v, BIRMINGHAM, TODAY)] == [kept]
            pack = act.digest(s, v, date(2026, 1, 1), TODAY, TODAY, TODAY + timedelta(days=30))
            assert [a.id for a in pack.overdue] == [kept] and pack.due == []
            assert meeting_id not in dict(act.form_choices(s, v, TODAY).meetings)
        with pytest.raises(act.ActionNotFoundError):
            act.update_progress(s, viewer(s, people.police_member), gone, 1, status="in progress",
                                progress=10, note="")
        # the action itself is untouched: restoring the meeting would bring it back
        assert s.get(Action, gone).deleted_at is None
        meeting = s.get(Meeting, meeting_id)
        assert meeting.deleted_at is not None
        entry = s.scalars(select(RecordChange).where(RecordChange.record_type == "meeting",
                                                     RecordChange.action == "deleted")).one()
        assert entry.note == "Entered twice" and entry.user_id == people.charity_chair.id
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "meeting-deleted")).one()
        assert event.reason == "Entered twice" and event.ip_address == "10.0.0.9"
    with db.session() as s, pytest.raises(mtg.MeetingNotFoundError):
        mtg.update_meeting(s, chair(s, people), meeting_id, 2, meeting_form(people))


# --- reading -------------------------------------------------------------------------------------


def test_mtg010_lists_last_and_next_meetings_and_action_counts(db, people):
    with db.session() as s:
        c = chair(s, people)
        march = mtg.create_meeting(s, c, meeting_form(people, held_on="2026-03-11", title="March"))
        june = mtg.create_meeting(s, c, meeting_form(people, held_on="2026-06-15", title="June"))
        briefing = mtg.create_meeting(s, c, meeting_form(people, held_on="2026-07-01", title="Briefing",
                                                          kind=MeetingKind.COMMUNITY_BRIEFING.value))
        for due, status in (("2026-06-14", "not started"), ("2026-06-15", "in progress"),
                            ("2026-05-01", "done")):
            act.create_action(s, c, action_form(march, people.police.id, due_on=due, status=status))
    with db.session() as s:
        v = viewer(s, people.council_member)
        assert [m.title for m in mtg.list_meetings(s, v, TODAY)] == ["Briefing", "June", "March"]
        assert [m.title for m in mtg.list_meetings(s, v, TODAY, kinds=["community briefing"])] == ["Briefing"]
        assert [m.title for m in mtg.list_meetings(s, v, TODAY, limit=1)] == ["Briefing"]
        # "last" is strictly before the day; "next" is on or after it
        assert mtg.last_meeting(s, v, date(2026, 6, 15)).id == march
        assert mtg.last_meeting(s, v, date(2026, 6, 16)).id == june
        assert mtg.next_meeting(s, v, date(2026, 6, 15)).id == june
        assert mtg.next_meeting(s, v, date(2026, 6, 16)).id == briefing
        assert mtg.next_meeting(s, v, date(2026, 7, 2)) is None
        assert mtg.last_meeting(s, v, date(2026, 3, 11)) is None
        # counts: all, open, overdue as of the day given (due today is not overdue)
        view = mtg.get_meeting(s, v, march, TODAY)
        assert (view.action_count, view.open_action_count, view.overdue_action_count) == (3, 2, 1)
        view = mtg.get_meeting(s, v, march, date(2026, 6, 16))
        assert view.overdue_action_count == 2
        assert mtg.get_meeting(s, v, june, TODAY).action_count == 0
