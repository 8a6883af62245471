"""Incidents: validation messages, who may edit, version conflicts, history, soft delete and
restore, corroborating reports, and that the national team can neither write nor read them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, update

from dashboard import incidents as inc
from dashboard.access import Purpose, RecordFilters, Viewer, visible
from dashboard.geography import boundaries
from dashboard.models import AuditEvent, Incident, IncidentCategory, Organisation, User
from dashboard.reference import Marking
from dashboard.rollups import incidents_by_area
from tests.conftest import make_people

BIRMINGHAM, COVENTRY = "E08000025", "E08000026"
DAY = date(2026, 10, 1)


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def form(**changes) -> inc.IncidentForm:
    values = {
        "title": "Leaflets pushed through doors",
        "occurred_on": DAY.isoformat(),
        "date_precision": "day",
        "area_code": BIRMINGHAM,
        "category_code": "literature",
        "strands": ["race"],
        "description": "Around 40 leaflets on Elm Road.",
        "latitude": "52.48",
        "longitude": "-1.89",
        "location_precision": "approximate",
        "severity": "2",
        "verification": "reported",
        "marking": "TLP:GREEN",
    }
    return inc.IncidentForm(**(values | changes))


def create(db, user, **changes) -> inc.IncidentView:
    with db.session() as s:
        return inc.create_incident(s, viewer(s, user), form(**changes))


def audit_details(session, incident_id) -> list[tuple[str, dict]]:
    return [tuple(r) for r in session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.record_type == "incident", AuditEvent.record_id == str(incident_id))
        .order_by(AuditEvent.id)
    )]


# --- logging and validation ---------------------------------------------------------------------


def test_inc001_a_member_logs_an_incident_with_its_history_and_audit(db, people):
    view = create(db, people.police_member, title="  Leaflets   pushed through doors ")
    assert view.title == "Leaflets pushed through doors" and view.version == 1
    assert view.area_name == "Birmingham" and view.category_label == "Literature and leaflets"
    assert view.field_text("strands").startswith("Race") and view.field_text("severity") == "2 - Moderate"
    assert view.field_text("occurred_on") == "1 Oct 2026" and view.field_text("marking") == "TLP:GREEN"
    assert view.source_org_name == "Test Police" and view.reporter_name == "Pat Police"
    assert view.can_edit and view.can_change_marking and not view.can_restore
    with db.session() as s:
        [entry] = inc.incident_history(s, viewer(s, people.council_member), view.id)
        assert entry.action == "created" and entry.summary == "Created by Pat Police (Test Police)"
        [(action, detail)] = audit_details(s, view.id)
        assert action == "incident created" and "Leaflets" not in json.dumps(detail)  # no record text


def test_inc002_every_wrong_field_is_named_in_form_order_and_nothing_is_written(db, people):
    with db.session() as s:
        with pytest.raises(inc.IncidentValidationError) as caught:
            inc.create_incident(s, viewer(s, people.police_member), form(
                title=" ", occurred_on="", area_code="E99999999", category_code="", strands=["nonsense"],
                latitude="60", longitude="", location_precision="exact", severity="9", marking="TLP:RED",
                recipients=[]))
        assert s.scalar(select(func.count()).select_from(Incident)) == 0
    errors = caught.value.errors
    assert list(errors) == ["title", "occurred_on", "area_code", "category_code", "strands", "latitude",
                            "severity", "recipients"]
    assert errors["title"] == "Enter a title: a few words saying what happened."
    assert errors["occurred_on"] == "Enter the date the incident happened, for example 2026-11-03."
    assert "Choose the district from the list" in errors["area_code"]
    assert errors["category_code"] == "Choose the category of incident."
    assert errors["latitude"] == "Latitude must be a number between 51.8 and 53.7 (the Midlands)."
    assert errors["severity"] == "Choose a severity from 1 (low) to 4 (critical)."
    assert errors["recipients"] == inc.RED_NEEDS_RECIPIENTS


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"title": "x" * 201}, "title", "200 characters or fewer (it has 201)"),
        ({"occurred_on": "2026-02-30"}, "occurred_on", "must be a real date, for example 2026-11-03"),
        ({"occurred_on": (date.today() + timedelta(days=1)).isoformat()}, "occurred_on", "cannot be in the future"),
        ({"occurred_on": "1999-12-31"}, "occurred_on", "in 2000 or later"),
        ({"date_precision": "year"}, "date_precision", "the exact day, the week or the month"),
        ({"description": "x" * 10_001}, "description", "10,000 characters or fewer (it has 10,001)"),
        ({"longitude": "two west"}, "longitude", "Longitude must be a number between -3.3 and 0.4"),
        ({"longitude": ""}, "longitude", "Enter the longitude as well as the latitude"),
        ({"latitude": "", "longitude": ""}, "location_precision", "or choose \u201cArea only\u201d"),
        ({"verification": "rumour"}, "verification", "reported, corroborated or confirmed"),
        ({"marking": "SECRET"}, "marking", "Choose a handling marking"),
        ({"marking": "TLP:AMBER", "listed_organisations": [99999]}, "listed_organisations", "from the list only"),
        ({"corroborates_id": 99999}, "corroborates_id", "no longer exists or is not shared with you"),
    ],
)
def test_inc003_each_rule_names_its_field(sqlite_db, password_hash, changes, field, words):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        with pytest.raises(inc.IncidentValidationError) as caught:
            inc.create_incident(s, viewer(s, people.police_member), form(**changes))
    assert list(caught.value.errors) == [field]
    assert words in caught.value.errors[field]


def test_inc004_retired_categories_are_refused_and_the_map_extent_covers_every_district(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        s.execute(update(IncidentCategory).where(IncidentCategory.code == "other").values(active=False))
        with pytest.raises(inc.IncidentValidationError) as caught:
            inc.create_incident(s, viewer(s, people.police_member), form(category_code="other"))
        assert caught.value.errors == {"category_code": "Choose a category from the list."}
        assert "other" not in dict(inc.form_choices(s, viewer(s, people.police_member)).categories)
    points = []

    def walk(coordinates):
        if isinstance(coordinates[0], int | float):
            points.append(coordinates)
        else:
            for part in coordinates:
                walk(part)

    for feature in boundaries("district")["features"]:
        walk(feature["geometry"]["coordinates"])
    assert all(inc.LONGITUDE_RANGE[0] <= x <= inc.LONGITUDE_RANGE[1] for x, _ in points)
    assert all(inc.LATITUDE_RANGE[0] <= y <= inc.LATITUDE_RANGE[1] for _, y in points)


def test_inc005_tlp_red_is_seen_by_its_recipients_and_lists_are_kept_only_for_their_marking(db, people):
    red = create(db, people.police_member, marking="TLP:RED", recipients=[people.council_member.id],
                 listed_organisations=[people.charity.id])
    assert red.recipients == ((people.council_member.id, "Cora Council (Test Council)"),)
    assert red.listed_organisations == ()  # listed organisations are for TLP:AMBER only
    green = create(db, people.police_member, recipients=[people.council_member.id])
    assert green.recipients == ()
    with db.session() as s:
        assert inc.get_incident(s, viewer(s, people.council_member), red.id).marking == "TLP:RED"
        assert inc.get_incident(s, viewer(s, people.police_member2), red.id) is None  # same org, not named
        assert inc.incident_history(s, viewer(s, people.police_member2), red.id) == []
        with pytest.raises(inc.IncidentValidationError) as caught:  # SCI may not be named
            inc.create_incident(s, viewer(s, people.police_member), form(marking="TLP:RED", recipients=[people.sci.id]))
        assert "from the list only" in caught.value.errors["recipients"]


# --- who may edit -----------------------------------------------------------------------------------


def test_inc006_a_colleague_edits_and_the_history_says_what_changed(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        paul = viewer(s, people.police_member2)
        changed = inc.update_incident(s, paul, view.id, view.version, form(
            marking="TLP:AMBER", listed_organisations=[people.council.id, people.police.id],
            strands=["race", "religion"]))
    assert changed.version == view.version + 1
    assert changed.listed_organisations == ((people.council.id, "Test Council"),)  # originator implicit
    assert (changed.source_org_id, changed.reporter_name) == (people.police.id, "Pat Police")  # kept
    with db.session() as s:
        entries = inc.incident_history(s, viewer(s, people.council_member), view.id)
    assert [e.action for e in entries] == ["created", "updated"]
    update_entry = entries[1]
    assert update_entry.summary == "Updated by Paul Police (Test Police)" and update_entry.version == 2
    changes = {c.field: (c.before, c.after) for c in update_entry.changes}
    assert changes["Handling marking"] == ("TLP:GREEN", "TLP:AMBER")
    assert changes["Hate-crime strands"][1].startswith("Race") and "; Religion" in changes["Hate-crime strands"][1]
    assert changes[inc.FIELD_LABELS["listed_organisations"]] == ("None", "Test Council")
    assert set(changes) == {"Handling marking", "Hate-crime strands", inc.FIELD_LABELS["listed_organisations"]}
    with db.session() as s:  # the same values again: nothing written, the version stays
        same = inc.update_incident(s, viewer(s, people.police_member), view.id, changed.version,
                                   inc.IncidentForm.from_view(changed))
        assert same.version == changed.version
        assert len(inc.incident_history(s, viewer(s, people.police_member), view.id)) == 2


def test_inc007_another_organisations_member_may_not_edit_or_delete(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        cora = viewer(s, people.council_member)
        assert not inc.get_incident(s, cora, view.id).can_edit
        with pytest.raises(inc.IncidentPermissionError, match="Only the organisation that reported"):
            inc.update_incident(s, cora, view.id, view.version, form(title="Changed by the council"))
        with pytest.raises(inc.IncidentPermissionError):
            inc.delete_incident(s, cora, view.id, view.version)
    with db.session() as s:
        row = s.get(Incident, view.id)
        assert row.title == "Leaflets pushed through doors" and row.deleted_at is None and row.version == 1


def test_inc008_a_chair_corrects_another_organisations_record_but_not_its_marking(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        seen = inc.get_incident(s, chair, view.id)
        assert seen.can_edit and not seen.can_change_marking
        with pytest.raises(inc.IncidentValidationError) as caught:
            inc.update_incident(s, chair, view.id, view.version, form(title="Corrected", marking="TLP:CLEAR"))
        assert caught.value.errors == {"marking": inc.MARKING_MESSAGE}
        fixed = inc.update_incident(s, chair, view.id, view.version, form(title="Leaflets on Elm Road"))
    assert fixed.title == "Leaflets on Elm Road" and fixed.marking == "TLP:GREEN"
    assert fixed.source_org_name == "Test Police"


# --- version conflicts ----------------------------------------------------------------------------


def test_inc009_a_stale_save_shows_both_versions_and_overwrites_nothing(db, people):
    view = create(db, people.police_member)
    with db.session() as s:  # A (Pat) has the form open at version 1
        pat_read = inc.get_incident(s, viewer(s, people.police_member), view.id)
    with db.session() as s:  # B (Paul) saves version 2
        inc.update_incident(s, viewer(s, people.police_member2), view.id, view.version, form(title="Paul's title"))
    with db.session() as s, pytest.raises(inc.IncidentConflictError) as caught:
        inc.update_incident(s, viewer(s, people.police_member), view.id, pat_read.version,
                            form(title="Pat's title", severity="3"))
    conflict = caught.value
    assert conflict.current.version == 2 and conflict.current.title == "Paul's title"
    assert conflict.changed_by == "Paul Police (Test Police)" and conflict.changed_at is not None
    assert "Paul Police (Test Police) changed this incident" in str(conflict)
    rows = {r.field: r for r in conflict.rows}
    assert list(rows) == list(inc.FIELD_LABELS)
    assert (rows["title"].yours, rows["title"].theirs, rows["title"].differs) == ("Pat's title", "Paul's title", True)
    assert (rows["severity"].yours, rows["severity"].theirs) == ("3 - Serious", "2 - Moderate")
    assert not rows["area_code"].differs and rows["area_code"].yours == "Birmingham"
    with db.session() as s:
        assert s.get(Incident, view.id).title == "Paul's title"
        assert len(inc.incident_history(s, viewer(s, people.police_member), view.id)) == 2
    with db.session() as s:  # A saves again on top of the current version
        saved = inc.update_incident(s, viewer(s, people.police_member), view.id, conflict.current.version,
                                    form(title="Pat's title", severity="3"))
    assert saved.version == 3 and saved.title == "Pat's title"


def test_inc010_a_conflict_on_a_wrong_form_shows_what_was_typed(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        inc.update_incident(s, viewer(s, people.police_member2), view.id, view.version, form(title="Paul's title"))
    with db.session() as s, pytest.raises(inc.IncidentConflictError) as caught:
        inc.update_incident(s, viewer(s, people.police_member), view.id, view.version,
                            form(occurred_on="3rd of May", severity="7"))
    rows = {r.field: r for r in caught.value.rows}
    assert rows["occurred_on"].yours == "3rd of May" and rows["severity"].yours == "7"
    assert rows["title"].yours == "Leaflets pushed through doors" and rows["title"].theirs == "Paul's title"


def test_inc011_a_change_committed_while_saving_is_caught_at_write(db, people):
    view = create(db, people.police_member)
    with db.session() as slow:
        def someone_else_saves_first(*_args):
            with db.session() as fast:
                inc.update_incident(fast, viewer(fast, people.police_member2), view.id, view.version,
                                    form(title="Fast"))

        event.listen(slow, "before_flush", someone_else_saves_first, once=True)
        with pytest.raises(inc.IncidentConflictError) as caught:
            inc.update_incident(slow, viewer(slow, people.police_member), view.id, view.version, form(title="Slow"))
    assert caught.value.current.title == "Fast"
    assert {r.field: r.yours for r in caught.value.rows}["title"] == "Slow"
    with db.session() as s:
        assert s.get(Incident, view.id).title == "Fast"
        assert [e.action for e in inc.incident_history(s, viewer(s, people.police_member), view.id)] == [
            "created", "updated"]


# --- soft delete and restore ---------------------------------------------------------------------


def _count(session, v) -> int:
    return sum(incidents_by_area(session, v, RecordFilters(start=date(2026, 10, 1), end=date(2026, 10, 31))).values())


def test_inc012_delete_hides_restore_brings_back_and_the_history_shows_both(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        assert _count(s, viewer(s, people.council_member)) == 1
        title = inc.delete_incident(s, viewer(s, people.police_member2), view.id, view.version,
                                    reason="Logged twice by mistake")
    assert title == "Leaflets pushed through doors"
    with db.session() as s:
        cora, admin = viewer(s, people.council_member), viewer(s, people.council_admin)
        assert inc.get_incident(s, cora, view.id) is None and _count(s, cora) == 0
        assert s.scalar(select(func.count()).select_from(visible(cora, Incident, purpose=Purpose.AGGREGATE)
                                                         .subquery())) == 0
        assert s.get(Incident, view.id).deleted_by_id == people.police_member2.id  # kept, marked
        with pytest.raises(inc.IncidentPermissionError):
            inc.restore_incident(s, viewer(s, people.police_member), view.id)
        [listed] = inc.deleted_records(s, admin)
        assert (listed.id, listed.deleted_by, listed.title) == (view.id, "Paul Police", title)
        inc.restore_incident(s, admin, view.id)
    with db.session() as s:
        cora = viewer(s, people.council_member)
        assert inc.get_incident(s, cora, view.id).title == title and _count(s, cora) == 1
        entries = inc.incident_history(s, cora, view.id)
        assert [(e.action, e.who) for e in entries] == [
            ("created", "Pat Police"), ("deleted", "Paul Police"), ("restored", "Ada Admin")]
        assert entries[1].note == "Logged twice by mistake"
        assert [a for a, _ in audit_details(s, view.id)] == [
            "incident created", "incident deleted", "incident restored"]
        with pytest.raises(inc.IncidentNotFoundError):  # nothing left to restore
            inc.restore_incident(s, viewer(s, people.council_admin), view.id)


def test_inc013_deleted_records_list_hides_titles_the_admin_may_not_read(db, people):
    strict = create(db, people.police_member, marking="TLP:AMBER+STRICT", title="Police-only detail")
    own = create(db, people.council_member, marking="TLP:AMBER", title="Council's own report")
    with db.session() as s:
        inc.delete_incident(s, viewer(s, people.police_member), strict.id, strict.version)
        inc.delete_incident(s, viewer(s, people.council_member), own.id, own.version)
    with db.session() as s:
        admin = viewer(s, people.council_admin)
        rows = {r.id: r for r in inc.deleted_records(s, admin)}
        assert rows[strict.id].title is None and rows[strict.id].occurred_on is None
        assert (rows[strict.id].marking, rows[strict.id].organisation) == ("TLP:AMBER+STRICT", "Test Police")
        assert rows[own.id].title == "Council's own report"
        assert inc.incident_history(s, admin, strict.id, include_deleted=True) == []
        inc.restore_incident(s, admin, strict.id)  # restorable all the same
        with pytest.raises(inc.IncidentPermissionError):
            inc.deleted_records(s, viewer(s, people.charity_chair))
    with db.session() as s:
        assert inc.get_incident(s, viewer(s, people.police_member), strict.id).title == "Police-only detail"


def test_inc014_deleting_a_version_someone_changed_is_refused(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        inc.update_incident(s, viewer(s, people.police_member2), view.id, view.version, form(title="Newer"))
    with db.session() as s, pytest.raises(inc.IncidentConflictError, match="has not been deleted") as caught:
        inc.delete_incident(s, viewer(s, people.police_member), view.id, view.version)
    assert caught.value.current.title == "Newer"
    with db.session() as s:
        assert s.get(Incident, view.id).deleted_at is None


# --- corroboration -------------------------------------------------------------------------------


def test_inc015_similar_incidents_are_found_and_a_corroborating_report_is_counted(db, people):
    original = create(db, people.police_member)
    create(db, people.police_member, occurred_on="2026-09-20", title="Too early")
    create(db, people.police_member, area_code=COVENTRY, title="Elsewhere")
    with db.session() as s:
        cora = viewer(s, people.council_member)
        similar = inc.similar_incidents(s, cora, BIRMINGHAM, date(2026, 10, 3), "literature")
        assert [i.id for i in similar] == [original.id] and similar[0].organisation == "Test Police"
        assert inc.similar_incidents(s, cora, BIRMINGHAM, date(2026, 10, 3), "literature", exclude_id=original.id) == []
        copy = inc.create_incident(s, cora, form(title="Leaflets seen by the council", marking="TLP:AMBER",
                                                 corroborates_id=original.id))
    assert copy.corroborates.id == original.id and copy.marking == "TLP:AMBER"  # keeps its own marking
    with db.session() as s:
        seen = inc.get_incident(s, viewer(s, people.police_member), original.id)
        assert seen.version == original.version  # a derived count does not move the version on
        assert (seen.corroborated_by, seen.verification) == (1, "corroborated")
        assert seen.corroborated_text == "Corroborated by 1 partner"
        assert [(r.id, r.organisation, r.marking) for r in seen.corroborating_reports] == []  # AMBER: not shared
        council_view = inc.get_incident(s, viewer(s, people.council_member), original.id)
        assert [(r.id, r.organisation, r.marking) for r in council_view.corroborating_reports] == [
            (copy.id, "Test Council", "TLP:AMBER")]
        pat_history = inc.incident_history(s, viewer(s, people.police_member), original.id)
        cora_history = inc.incident_history(s, viewer(s, people.council_member), original.id)
    assert pat_history[-1].action == "corroborated" and "Test Council" not in pat_history[-1].note
    assert pat_history[-1].who == "a partner"
    assert cora_history[-1].note == f"Corroborating report #{copy.id} from Test Council"
    assert {c.field: c.after for c in cora_history[-1].changes} == {
        "Corroborated by": "1 partner", "Verification": "Corroborated"}
    # a form of the original opened before the report came still saves on the version it read,
    # and does not set the verification back to "reported"
    with db.session() as s:
        renamed = inc.update_incident(s, viewer(s, people.police_member), original.id, original.version,
                                      form(title="Renamed"))
    assert (renamed.title, renamed.verification, renamed.corroborated_by) == ("Renamed", "corroborated", 1)


def test_inc016_a_second_report_from_the_same_organisation_and_deletion_recount(db, people):
    original = create(db, people.police_member)
    own = create(db, people.police_member2, corroborates_id=original.id, title="Colleague's report")
    first = create(db, people.council_member, corroborates_id=original.id, title="Council report")
    second = create(db, people.council_member, corroborates_id=original.id, title="Council report 2")
    with db.session() as s:
        seen = inc.get_incident(s, viewer(s, people.charity_chair), original.id)
        assert seen.corroborated_by == 1  # one partner besides the police, however many reports
        assert len(seen.corroborating_reports) == 3
        with pytest.raises(inc.IncidentValidationError, match="itself a corroborating report"):
            inc.create_incident(s, viewer(s, people.charity_chair), form(corroborates_id=own.id))
        assert [i.id for i in inc.similar_incidents(s, viewer(s, people.charity_chair), BIRMINGHAM, DAY,
                                                    "literature")] == [original.id]  # copies left out
    with db.session() as s:
        inc.delete_incident(s, viewer(s, people.council_member), first.id, first.version)
    with db.session() as s:
        assert inc.get_incident(s, viewer(s, people.charity_chair), original.id).corroborated_by == 1
        inc.delete_incident(s, viewer(s, people.council_member), second.id, second.version)
    with db.session() as s:
        seen = inc.get_incident(s, viewer(s, people.charity_chair), original.id)
        assert (seen.corroborated_by, seen.verification) == (0, "reported")
        inc.restore_incident(s, viewer(s, people.council_admin), second.id)
    with db.session() as s:
        seen = inc.get_incident(s, viewer(s, people.charity_chair), original.id)
        assert (seen.corroborated_by, seen.verification) == (1, "corroborated")
        notes = [e.note for e in inc.incident_history(s, viewer(s, people.charity_chair), original.id)]
        assert notes[-1] == f"Corroborating report #{second.id} from Test Council was restored"


# --- who may not -----------------------------------------------------------------------------------


def test_inc017_the_national_team_and_former_members_cannot_write_or_read(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        sci = viewer(s, people.sci)
        assert inc.get_incident(s, sci, view.id) is None and inc.incident_history(s, sci, view.id) == []
        assert inc.similar_incidents(s, sci, BIRMINGHAM, DAY, "literature") == []
        assert inc.form_choices(s, sci).people == []
        with pytest.raises(inc.IncidentPermissionError):
            inc.create_incident(s, sci, form())
        with pytest.raises(inc.IncidentPermissionError):
            inc.update_incident(s, sci, view.id, view.version, form(title="From SCI"))
        with pytest.raises(inc.IncidentPermissionError):
            inc.delete_incident(s, sci, view.id, view.version)
        s.execute(update(Organisation).where(Organisation.id == people.police.id).values(membership_status="left"))
        s.expire_all()
        former = viewer(s, people.police_member2)
        with pytest.raises(inc.IncidentPermissionError):
            inc.create_incident(s, former, form())
        with pytest.raises(inc.IncidentPermissionError):
            inc.update_incident(s, former, view.id, view.version, form(title="After leaving"))
    with db.session() as s:
        assert s.get(Incident, view.id).title == "Leaflets pushed through doors"
        assert s.scalar(select(func.count()).select_from(Incident)) == 1


def test_inc018_an_editor_may_not_lock_themselves_out_with_tlp_red(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        paul = viewer(s, people.police_member2)
        with pytest.raises(inc.IncidentValidationError) as caught:
            inc.update_incident(s, paul, view.id, view.version,
                                form(marking=Marking.RED.value, recipients=[people.council_member.id]))
        assert "Name yourself among the recipients" in caught.value.errors["recipients"]
        red = inc.update_incident(s, paul, view.id, view.version,
                                  form(marking=Marking.RED.value, recipients=[people.police_member2.id]))
    assert red.marking == "TLP:RED"
    with db.session() as s:
        assert inc.get_incident(s, viewer(s, people.council_member), view.id) is None
        assert inc.get_incident(s, viewer(s, people.police_member), view.id) is not None  # the reporter


def test_inc018_records_are_shared_only_with_organisations_whose_members_read_records(db, people):
    with db.session() as s:
        offered = dict(inc.form_choices(s, viewer(s, people.police_member)).organisations)
    assert people.council.name in offered.values() and people.charity.name in offered.values()
    assert people.sci_org.name not in offered.values(), "the national team sees aggregates only"


def test_inc019_a_date_known_to_its_week_or_month_is_kept_as_its_monday_or_first_day(db, people):
    wednesday = date(2026, 10, 7)
    week = create(db, people.police_member, occurred_on=wednesday.isoformat(), date_precision="week")
    month = create(db, people.police_member, occurred_on=wednesday.isoformat(), date_precision="month")
    day = create(db, people.police_member, occurred_on=wednesday.isoformat(), date_precision="day")
    assert (week.occurred_on, month.occurred_on, day.occurred_on) == (
        date(2026, 10, 5), date(2026, 10, 1), wednesday)
