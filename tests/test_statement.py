"""The joint party statement: recording, correcting and removing adoptions (who may, validation,
conflicts, audit), the adoption figures and the elections ahead in districts that have not
adopted it, and that the national team can neither read nor write any of it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard import calendar as cal
from dashboard import statement as st
from dashboard.access import Viewer
from dashboard.models import (
    AuditEvent,
    Organisation,
    Resource,
    StatementAdoption,
    TriggerEvent,
    User,
    utcnow,
)
from dashboard.reference import MembershipStatus, ResourceKind, TriggerKind
from layouts import statement as layout
from tests.conftest import TEST_PASSWORD, csrf_from, make_people

BIRMINGHAM, COVENTRY, DERBY, SOLIHULL = "E08000025", "E08000026", "E06000015", "E08000029"
TODAY = date(2026, 5, 20)
PUBLISHED = date(2026, 2, 1)


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def add_statement(session, *, title="Joint statement on respectful campaigning", published_on=PUBLISHED,
                  kind=ResourceKind.STATEMENT, deleted=False) -> int:
    resource = Resource(kind=kind.value, title=title, summary="Parties commit to respectful campaigning.",
                        link="https://resources.partnership.example/statement", published_on=published_on,
                        deleted_at=utcnow() if deleted else None)
    session.add(resource)
    session.flush()
    return resource.id


def form(**changes) -> dict:
    return {"area": BIRMINGHAM, "adopted_on": "2026-03-03", "notes": "Adopted by full council."} | changes


def audit_events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def count_adoptions(session) -> int:
    return session.scalar(select(func.count()).select_from(StatementAdoption))


@pytest.fixture
def statement_id(db, people) -> int:
    with db.session() as s:
        return add_statement(s)


def record(db, user, statement_id, **changes) -> st.AdoptionEntry:
    with db.session() as s:
        who = viewer(s, user)
        adoption_id = st.record_adoption(s, who, statement_id, form(**changes), today=TODAY)
        return st.get_adoption(s, who, adoption_id)


# --- recording ----------------------------------------------------------------------------------------


def test_stm001_a_member_records_an_adoption_audited_with_who_recorded_it(db, people, statement_id):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        adoption_id = st.record_adoption(s, pat, statement_id, form(notes="  Adopted by full council. "),
                                         today=TODAY, ip_address="10.0.0.7")
    with db.session() as s:
        row = s.get(StatementAdoption, adoption_id)
        assert (row.area_code, row.adopted_on, row.notes) == (BIRMINGHAM, date(2026, 3, 3), "Adopted by full council.")
        assert row.recorded_by_id == people.police_member.id
        [event] = audit_events(s, "statement-adoption-recorded")
        assert event.user_id == people.police_member.id and event.record_type == "statement_adoption"
        assert event.record_id == str(adoption_id) and event.ip_address == "10.0.0.7"
        assert event.detail == {"statement_id": statement_id, "area_code": BIRMINGHAM, "adopted_on": "2026-03-03",
                                "notes": "Adopted by full council."}
        overview = st.adoption(s, viewer(s, people.council_member), statement_id, TODAY)
    birmingham = next(d for d in overview.districts if d.code == BIRMINGHAM)
    assert birmingham.adopted_on == date(2026, 3, 3) and birmingham.notes == "Adopted by full council."
    assert birmingham.adoption.recorded_by == "Pat Police" and birmingham.adoption.recording_organisation == "Test Police"
    assert overview.headline() == "1 of 65 districts has adopted the statement"


def test_stm002_every_wrong_field_is_named_and_nothing_is_written(db, people, statement_id):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        with pytest.raises(st.AdoptionValidationError) as caught:
            st.record_adoption(s, pat, statement_id, {"area": "", "adopted_on": "", "notes": "x" * 2001}, today=TODAY)
        assert count_adoptions(s) == 0
    assert caught.value.errors == {
        "area": "Choose the district that adopted the statement.",
        "adopted_on": "Enter the date the district adopted the statement.",
        "notes": "Notes must be 2,000 characters or fewer (they have 2,001).",
    }
    assert list(caught.value.errors) == ["area", "adopted_on", "notes"]  # in the form's order


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"adopted_on": "2026-05-21"}, "adopted_on", "The date adopted cannot be in the future (today is 20 May 2026)."),
        ({"adopted_on": "2026-02-30"}, "adopted_on",
         "The date adopted must be a real date, for example 3 Mar 2026 (2026-03-03)."),
        ({"adopted_on": "2026-01-31"}, "adopted_on",
         "The date adopted cannot be before the statement was published on 1 Feb 2026."),
        ({"area": "E99999999"}, "area", "Choose the district from the list: that code is not a Midlands district."),
    ],
)
def test_stm003_each_rule_names_its_field(db, people, statement_id, changes, field, message):
    with db.session() as s:
        with pytest.raises(st.AdoptionValidationError) as caught:
            st.record_adoption(s, viewer(s, people.police_member), statement_id, form(**changes), today=TODAY)
    assert caught.value.errors == {field: message}


def test_stm004_today_is_allowed_and_a_district_adopts_only_once(db, people, statement_id):
    record(db, people.police_member, statement_id, adopted_on=TODAY.isoformat())
    with db.session() as s:
        with pytest.raises(st.AdoptionValidationError) as caught:
            st.record_adoption(s, viewer(s, people.council_member), statement_id, form(adopted_on="2026-03-03"),
                               today=TODAY)
        assert count_adoptions(s) == 1
    assert caught.value.errors == {"area": "Birmingham already adopted it on 20 May 2026: change that entry instead."}


def test_stm005_the_same_district_recorded_at_the_same_moment_is_refused_cleanly(db, people, statement_id,
                                                                               monkeypatch):
    """Two partners both pass the check; the database's unique rule refuses the second."""
    record(db, people.police_member, statement_id)
    monkeypatch.setattr(st, "_existing", lambda session, sid, code, exclude: None)  # both pass the check
    with db.session() as s:
        with pytest.raises(st.AdoptionValidationError) as caught:
            st.record_adoption(s, viewer(s, people.council_member), statement_id, form(), today=TODAY)
        # the transaction is still usable after the refusal (a savepoint was rolled back)
        assert count_adoptions(s) == 1
    assert "Birmingham already adopted it" in caught.value.errors["area"]


# --- correcting and removing -------------------------------------------------------------------------------


def test_stm006_who_may_change_an_adoption(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        def may(user):
            return st.get_adoption(s, viewer(s, user), entry.id).may_change

        assert may(people.police_member) and may(people.police_member2)  # the recording organisation
        assert may(people.charity_chair)  # any chair
        assert not may(people.council_member) and not may(people.council_admin)  # another organisation
        assert st.get_adoption(s, viewer(s, people.sci), entry.id) is None


def test_stm007_the_recording_organisation_corrects_it_and_another_organisation_cannot(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        with pytest.raises(st.AdoptionPermissionError) as refused:
            st.update_adoption(s, viewer(s, people.council_member), entry.id, entry.version,
                               form(notes="Council's version"), today=TODAY)
    assert "Test Police" in str(refused.value) and "chairs" in str(refused.value)
    with db.session() as s:
        saved = st.update_adoption(s, viewer(s, people.police_member2), entry.id, entry.version,
                                   form(adopted_on="2026-03-04", notes="Full council, 4 March."), today=TODAY,
                                   ip_address="10.0.0.8")
    assert saved.adopted_on == date(2026, 3, 4) and saved.notes == "Full council, 4 March."
    assert saved.version != entry.version
    with db.session() as s:
        row = s.get(StatementAdoption, entry.id)
        assert row.recorded_by_id == people.police_member.id  # who recorded it stays
        [event] = audit_events(s, "statement-adoption-changed")
        assert event.user_id == people.police_member2.id and event.ip_address == "10.0.0.8"
        assert event.detail["changed"] == ["adopted_on", "notes"]
        assert event.detail["before"] == {"area_code": BIRMINGHAM, "adopted_on": "2026-03-03",
                                          "notes": "Adopted by full council."}
        assert event.detail["after"]["adopted_on"] == "2026-03-04"


def test_stm008_a_chair_corrects_another_organisations_entry_even_its_district(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    record(db, people.council_member, statement_id, area=COVENTRY, adopted_on="2026-04-01")
    with db.session() as s:
        chris = viewer(s, people.charity_chair)
        # moving it onto a district that already adopted is refused with the same message
        with pytest.raises(st.AdoptionValidationError) as caught:
            st.update_adoption(s, chris, entry.id, entry.version, form(area=COVENTRY), today=TODAY)
        assert caught.value.errors == {"area": "Coventry already adopted it on 1 Apr 2026: change that entry instead."}
        saved = st.update_adoption(s, chris, entry.id, entry.version, form(area=DERBY), today=TODAY)
    assert saved.area_code == DERBY and saved.area_name == "Derby"
    # the same values again change nothing and add no audit event
    with db.session() as s:
        st.update_adoption(s, viewer(s, people.charity_chair), entry.id, saved.version, form(area=DERBY),
                           today=TODAY)
        assert len(audit_events(s, "statement-adoption-changed")) == 1


def test_stm009_a_stale_change_is_refused_and_nothing_is_written(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        st.update_adoption(s, viewer(s, people.charity_chair), entry.id, entry.version,
                           form(notes="Chair's correction"), today=TODAY)
    with db.session() as s:
        with pytest.raises(st.AdoptionConflictError) as caught:
            st.update_adoption(s, viewer(s, people.police_member), entry.id, entry.version,
                               form(notes="Pat's correction"), today=TODAY)
        with pytest.raises(st.AdoptionConflictError):
            st.remove_adoption(s, viewer(s, people.police_member), entry.id, entry.version)
    assert caught.value.current.notes == "Chair's correction"
    assert "Someone changed the adoption in Birmingham" in str(caught.value)
    with db.session() as s:
        assert s.get(StatementAdoption, entry.id).notes == "Chair's correction"


def test_stm010_removing_deletes_the_row_and_the_audit_keeps_what_it_said(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        with pytest.raises(st.AdoptionPermissionError):
            st.remove_adoption(s, viewer(s, people.council_member), entry.id, entry.version)
        assert count_adoptions(s) == 1
    with db.session() as s:
        name = st.remove_adoption(s, viewer(s, people.charity_chair), entry.id, entry.version,
                                  reason="Recorded against the wrong district", ip_address="10.0.0.9")
    assert name == "Birmingham"
    with db.session() as s:
        assert count_adoptions(s) == 0
        [event] = audit_events(s, "statement-adoption-removed")
        assert event.user_id == people.charity_chair.id and event.reason == "Recorded against the wrong district"
        assert event.detail == {
            "statement_id": statement_id,
            "before": {"area_code": BIRMINGHAM, "adopted_on": "2026-03-03", "notes": "Adopted by full council."},
            "recorded_by": "Pat Police", "recording_organisation": "Test Police",
        }
        with pytest.raises(st.AdoptionNotFoundError):
            st.remove_adoption(s, viewer(s, people.police_member), entry.id, entry.version)
        # and the district may be recorded again
        st.record_adoption(s, viewer(s, people.council_member), statement_id, form(), today=TODAY)


# --- the figures and the elections ahead ---------------------------------------------------------------------


def election(session, user, title, starts_on, areas=(), *, kind=TriggerKind.ELECTION) -> int:
    return cal.create_event(session, viewer(session, user), cal.EventForm(
        kind=kind.value, title=title, starts_on=starts_on, region_wide=not areas, area_codes=list(areas),
    )).id


def test_stm011_figures_and_elections_in_districts_that_have_not_adopted(db, people, statement_id):
    record(db, people.police_member, statement_id, area=BIRMINGHAM, adopted_on="2026-03-03")
    record(db, people.council_member, statement_id, area=COVENTRY, adopted_on="2026-04-10")
    with db.session() as s:
        cora = people.council_member
        today_one = election(s, cora, "Coventry by-election", TODAY, [COVENTRY])
        soon = election(s, cora, "Birmingham and Derby elections", TODAY + timedelta(days=10), [BIRMINGHAM, DERBY])
        last_day = election(s, cora, "General election", TODAY + timedelta(days=365))
        election(s, cora, "Too far ahead", TODAY + timedelta(days=366))
        election(s, cora, "Yesterday's by-election", TODAY - timedelta(days=1), [DERBY])
        election(s, cora, "A march, not an election", TODAY + timedelta(days=5), [DERBY], kind=TriggerKind.RALLY)
        deleted = s.get(TriggerEvent, election(s, cora, "Deleted election", TODAY + timedelta(days=3), [DERBY]))
        deleted.deleted_at = utcnow()
    with db.session() as s:
        overview = st.adoption(s, viewer(s, people.charity_chair), statement_id, TODAY)

    assert (overview.adopted, overview.total, overview.not_adopted) == (2, 65, 63)
    assert overview.headline() == "2 of 65 districts have adopted the statement"
    assert overview.sentence() == ("2 of 65 districts have adopted the statement (3%), most recently Coventry "
                                   "on 10 Apr 2026; 63 have not.")
    # the first election anywhere, even where every district voting has adopted
    assert overview.next_election.id == today_one and overview.next_election.not_adopted == ()
    assert overview.elections_in_window == 3
    # only elections with a district that has not adopted, by date; region-wide ones count everywhere
    assert [g.id for g in overview.elections] == [soon, last_day]
    first, general = overview.elections
    assert first.not_adopted == ((DERBY, "Derby"),) and first.voting == 2
    assert general.region_wide and general.voting == 65 and len(general.not_adopted) == 63
    assert BIRMINGHAM not in {code for code, _ in general.not_adopted}
    assert [name for _, name in general.not_adopted][:2] == ["Amber Valley", "Ashfield"]  # by name
    by_code = {d.code: d for d in overview.districts}
    assert by_code[COVENTRY].next_election.id == today_one
    assert by_code[DERBY].next_election.id == soon
    assert by_code[SOLIHULL].next_election.id == last_day
    assert by_code[DERBY].county == "Unitary authority (no county)"
    assert [d.name for d in overview.districts][:3] == ["Amber Valley", "Ashfield", "Bassetlaw"]

    # a day later the first election has passed, and the one a year and a day ahead comes in
    with db.session() as s:
        later = st.adoption(s, viewer(s, people.charity_chair), statement_id, TODAY + timedelta(days=1))
    assert later.next_election.id == soon
    assert [g.title for g in later.elections] == ["Birmingham and Derby elections", "General election",
                                                  "Too far ahead"]


def test_stm012_with_no_elections_ahead_and_none_adopted(db, people, statement_id):
    with db.session() as s:
        overview = st.adoption(s, viewer(s, people.police_member), statement_id, TODAY)
    assert overview.adopted == 0 and overview.next_election is None and overview.elections == ()
    assert overview.sentence() == "None of the 65 districts has adopted the statement yet."
    assert layout.elections(overview).children == (
        "No elections are in the trigger calendar for the next 365 days.")
    assert "None in the calendar" in str(layout.headline(overview))


def test_stm013_statements_newest_first_and_only_statements(db, people):
    with db.session() as s:
        older = add_statement(s, title="2022 statement", published_on=date(2022, 2, 1))
        newer = add_statement(s, title="2026 statement", published_on=date(2026, 2, 1))
        undated = add_statement(s, title="Draft statement", published_on=None)
        add_statement(s, title="Removed statement", published_on=date(2026, 3, 1), deleted=True)
        add_statement(s, title="A fact sheet", kind=ResourceKind.FACT_SHEET, published_on=date(2026, 4, 1))
        choices = st.statements(s, viewer(s, people.police_member))
    assert [c.id for c in choices] == [newer, older, undated]
    assert choices[0] == (newer, "2026 statement", date(2026, 2, 1))


# --- the national team and former members -----------------------------------------------------------------


def test_stm014_the_national_team_sees_and_writes_nothing(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        sam = viewer(s, people.sci)
        assert st.statements(s, sam) == [] and st.adoption(s, sam, statement_id, TODAY) is None
        assert st.get_adoption(s, sam, entry.id) is None
        with pytest.raises(st.AdoptionPermissionError):
            st.record_adoption(s, sam, statement_id, form(area=DERBY), today=TODAY)
        with pytest.raises(st.AdoptionPermissionError):
            st.update_adoption(s, sam, entry.id, entry.version, form(notes="SCI"), today=TODAY)
        with pytest.raises(st.AdoptionPermissionError):
            st.remove_adoption(s, sam, entry.id, entry.version)
        assert count_adoptions(s) == 1


def test_stm015_a_former_member_organisation_may_no_longer_change_its_entry(db, people, statement_id):
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        s.get(Organisation, people.police.id).membership_status = MembershipStatus.LEFT.value
    with db.session() as s:
        pat = viewer(s, people.police_member)
        assert st.adoption(s, pat, statement_id, TODAY) is None
        with pytest.raises(st.AdoptionPermissionError):
            st.remove_adoption(s, pat, entry.id, entry.version)


# --- the page's pieces --------------------------------------------------------------------------------------


def test_stm016_map_and_table_say_adopted_or_not_in_words(db, people, statement_id):
    record(db, people.police_member, statement_id)
    with db.session() as s:
        overview = st.adoption(s, viewer(s, people.council_member), statement_id, TODAY)
    patch = layout.map_patch(overview).to_plotly_json()
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    codes, z, text = ops[("data", 0, "locations")], ops[("data", 0, "z")], ops[("data", 0, "text")]
    at = codes.index(BIRMINGHAM)
    assert z[at] == 1 and sum(z) == 1 and len(codes) == 65
    assert text[at] == "<b>Birmingham</b><br>Adopted on 3 Mar 2026"
    assert text[codes.index(DERBY)] == "<b>Derby</b><br>Not adopted"
    assert len(ops[("data", 1, "lat")]) == 1  # one dot, on the adopted district

    table = str(layout.district_table(overview, layout.SHOW_ALL))
    assert "Adopted on 3 Mar 2026" in table and "Not adopted" in table
    # the council member may not change the police's entry: no buttons, a note instead
    assert "Recorded by another organisation" in table and "statement-remove" not in table
    assert "All 65 districts, by name" in table
    assert "1 district that has adopted" in str(layout.district_table(overview, layout.SHOW_ADOPTED))
    with db.session() as s:
        mine = st.adoption(s, viewer(s, people.police_member2), statement_id, TODAY)
    assert "statement-remove" in str(layout.district_table(mine, layout.SHOW_ADOPTED))


def test_stm017_only_web_addresses_become_links():
    unsafe = st.Statement(1, "Statement", "", "javascript:alert(1)", None)
    assert "javascript" not in str(layout.details(unsafe))
    safe = st.Statement(1, "Statement", "", "https://example.org/statement.pdf", date(2026, 2, 1))
    assert "https://example.org/statement.pdf" in str(layout.details(safe))


# --- through the web: the page's callbacks ---------------------------------------------------------------


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        statement = add_statement(s)
    return create_app(settings, sqlite_db), sqlite_db, people, statement


def _sign_in(client, email):
    token = csrf_from(client.get("/login").data)
    client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"})
    client.get("/")
    return client.get_cookie("_csrf_token").value


def _call(app, client, token, output_contains: str, values: dict):
    """Post a callback of the statement page the way dash-renderer does."""
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
        "changedPropIds": [k for k in values if k.endswith("n_clicks")],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": token, "Content-Type": "application/json"})


def save_values(statement: int, **changes) -> dict:
    return {
        "statement-form-save.n_clicks": 1,
        "statement-choice.value": str(statement),
        "statement-form-area.value": BIRMINGHAM,
        "statement-form-adopted-on.value": (date.today() - timedelta(days=2)).isoformat(),
        "statement-form-notes.value": "Adopted by full council.",
    } | changes


def test_stm018_a_partner_saves_through_the_callback_and_the_national_team_cannot(web):
    app, db, people, statement = web
    sci = app.server.test_client()
    token = _sign_in(sci, people.sci.email)
    assert _call(app, sci, token, "statement-table.children", {"statement-choice.value": str(statement)}
                 ).status_code == 204
    assert _call(app, sci, token, "statement-form-save.children", save_values(statement)).status_code == 204
    with db.session() as s:
        assert count_adoptions(s) == 0

    member = app.server.test_client()
    token = _sign_in(member, people.council_member.email)
    wrong = _call(app, member, token, "statement-form-save.children",
                  save_values(statement, **{"statement-form-area.value": ""}))
    assert wrong.status_code == 200 and b"Choose the district that adopted the statement." in wrong.data
    saved = _call(app, member, token, "statement-form-save.children", save_values(statement))
    assert saved.status_code == 200 and b"Recorded that Birmingham adopted the statement" in saved.data
    with db.session() as s:
        row = s.scalars(select(StatementAdoption)).one()
        assert row.area_code == BIRMINGHAM and row.recorded_by_id == people.council_member.id
        assert len(audit_events(s, "statement-adoption-recorded")) == 1
    again = _call(app, member, token, "statement-form-save.children", save_values(statement))
    assert b"Birmingham already adopted it on" in again.data
    shown = _call(app, member, token, "statement-table.children",
                  {"statement-choice.value": str(statement), "statement-show.value": "all"})
    assert shown.status_code == 200 and b"1 of 65 districts has adopted the statement" in shown.data

    # a member of another organisation cannot remove it, even by posting the request directly
    entry_id = row.id
    with db.session() as s:
        version = st.get_adoption(s, viewer(s, people.council_member), entry_id).version
    police = app.server.test_client()
    token = _sign_in(police, people.police_member.email)
    refused = _call(app, police, token, "statement-status.children@",
                    {"statement-remove-confirm.submit_n_clicks": 1,
                     "statement-pending-remove.data": {"id": entry_id, "version": version}})
    assert b"The adoption was not removed" in refused.data
    with db.session() as s:
        assert count_adoptions(s) == 1


def test_stm019_a_change_saved_between_the_check_and_the_write_is_caught(db, people, statement_id, monkeypatch):
    """The write itself checks that the row still holds what the person opened."""
    entry = record(db, people.police_member, statement_id)
    with db.session() as s:
        s.get(StatementAdoption, entry.id).notes = "Changed meanwhile"
    real = st.get_adoption
    reads: list[int] = []

    def as_opened_first(session, who, adoption_id):
        reads.append(adoption_id)
        return entry if len(reads) == 1 else real(session, who, adoption_id)

    monkeypatch.setattr(st, "get_adoption", as_opened_first)
    with db.session() as s:
        with pytest.raises(st.AdoptionConflictError) as caught:
            st.update_adoption(s, viewer(s, people.police_member), entry.id, entry.version, form(notes="Mine"),
                               today=TODAY)
    assert caught.value.current.notes == "Changed meanwhile"
    reads.clear()
    with db.session() as s:
        with pytest.raises(st.AdoptionConflictError):
            st.remove_adoption(s, viewer(s, people.police_member), entry.id, entry.version)
    with db.session() as s:
        assert s.get(StatementAdoption, entry.id).notes == "Changed meanwhile"
        assert audit_events(s, "statement-adoption-changed") == audit_events(s, "statement-adoption-removed") == []
