"""The good practice library's domain (dashboard/library.py) on SQLite and PostgreSQL: search by
words, kind, topic and district (region-wide resources match every district), who reads (every
active account, SCI included; the statement stays with partners) and who writes (partners add; the
adding organisation, chairs and admins change), each field's check, the version check, soft
delete and the audit log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import library
from dashboard.access import Viewer
from dashboard.models import AuditEvent, Organisation, Resource, User
from dashboard.reference import MembershipStatus, ResourceKind, UserStatus

TODAY = date.today()
BIRMINGHAM, COVENTRY, DERBY = "E08000025", "E08000026", "E06000015"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def form(**changes) -> dict:
    values = {"kind": ResourceKind.FACT_SHEET.value, "title": "Asylum accommodation: common myths answered",
              "summary": "Answers to the rumours heard most often.", "topic": "Asylum and migration",
              "link": "https://www.example.org/myths.pdf", "published_on": (TODAY - timedelta(days=30)).isoformat(),
              "areas": []}
    return values | changes


def add(db, user, **changes) -> int:
    with db.session() as s:
        return library.create(s, viewer(s, user), form(**changes), ip_address="192.0.2.1")


def titles(db, user, **query) -> list[str]:
    with db.session() as s:
        rows, total = library.search(s, viewer(s, user), library.LibraryQuery(**query))
    assert total == len(rows)
    return [r.title for r in rows]


@pytest.fixture
def shelf(db, people):
    """Four resources from two organisations, and the joint party statement."""
    ids = {
        "myths": add(db, people.police_member),
        "leaflets": add(db, people.council_member, kind=ResourceKind.GOOD_PRACTICE.value,
                        title="Responding to far-right leafleting", summary="A guide for councils (100% tested).",
                        topic="Elections", areas=[BIRMINGHAM], published_on=(TODAY - timedelta(days=5)).isoformat()),
        "stickers": add(db, people.council_member, kind=ResourceKind.GOOD_PRACTICE.value,
                        title="Removing hate stickers within 48 hours", summary="What worked in Derby.",
                        topic="stickers and graffiti", areas=[DERBY], published_on=""),
        "report": add(db, people.police_member, kind=ResourceKind.PUBLICATION.value, title="Annual report",
                      summary="The partnership's year: leafleting waves and what was done.", topic="annual_report",
                      published_on=(TODAY - timedelta(days=400)).isoformat()),
    }
    with db.session() as s:
        statement = Resource(kind=ResourceKind.STATEMENT.value, title="Joint statement on respectful campaigning",
                             summary="Parties commit to respectful campaigning.", topic="elections",
                             published_on=TODAY - timedelta(days=60), organisation_id=people.charity.id)
        s.add(statement)
        s.flush()
        ids["statement"] = statement.id
    return ids


# --- searching ------------------------------------------------------------------------------------------------


def test_lib001_newest_first_and_undated_last(db, people, shelf):
    assert titles(db, people.police_member) == [
        "Responding to far-right leafleting", "Asylum accommodation: common myths answered",
        "Joint statement on respectful campaigning", "Annual report", "Removing hate stickers within 48 hours",
    ]


def test_lib002_words_match_title_summary_or_topic_in_any_case(db, people, shelf):
    member = people.council_member
    assert titles(db, member, text="LEAFLET") == ["Responding to far-right leafleting", "Annual report"]
    assert titles(db, member, text="leaflet councils") == ["Responding to far-right leafleting"]  # every word
    assert titles(db, member, text="migration") == ["Asylum accommodation: common myths answered"]  # topic
    assert titles(db, member, text="derby") == ["Removing hate stickers within 48 hours"]  # summary
    assert titles(db, member, text="nothing-like-this") == []
    # % and _ are matched as themselves, not as wildcards
    assert titles(db, member, text="100%") == ["Responding to far-right leafleting"]
    assert titles(db, member, text="%") == ["Responding to far-right leafleting"]
    assert titles(db, member, text="l_aflet") == []
    assert titles(db, member, text="annual_") == ["Annual report"]


def test_lib003_by_kind_and_by_topic(db, people, shelf):
    member = people.police_member
    assert titles(db, member, kind=ResourceKind.GOOD_PRACTICE.value) == [
        "Responding to far-right leafleting", "Removing hate stickers within 48 hours"]
    assert titles(db, member, kind=ResourceKind.STATEMENT.value) == ["Joint statement on respectful campaigning"]
    # a topic is matched whole, whatever its case
    assert titles(db, member, topic="elections") == [
        "Responding to far-right leafleting", "Joint statement on respectful campaigning"]
    assert titles(db, member, topic="ELECTIONS", kind=ResourceKind.GOOD_PRACTICE.value) == [
        "Responding to far-right leafleting"]
    assert titles(db, member, topic="election") == []
    with db.session() as s:
        assert library.topics(s, viewer(s, member)) == [
            "annual_report", "Asylum and migration", "Elections", "stickers and graffiti"]


def test_lib004_a_district_finds_its_own_and_region_wide_resources(db, people, shelf):
    member = people.police_member
    assert titles(db, member, area=BIRMINGHAM) == [
        "Responding to far-right leafleting", "Asylum accommodation: common myths answered",
        "Joint statement on respectful campaigning", "Annual report",
    ]
    assert "Responding to far-right leafleting" not in titles(db, member, area=COVENTRY)
    assert "Removing hate stickers within 48 hours" in titles(db, member, area=DERBY)
    assert titles(db, member, area=DERBY, topic="stickers and graffiti", text="48") == [
        "Removing hate stickers within 48 hours"]


def test_lib005_pages_of_results_and_the_total(db, people, shelf):
    with db.session() as s:
        sam = viewer(s, people.police_member)
        first, total = library.search(s, sam, library.LibraryQuery(), limit=2, offset=0)
        second, _ = library.search(s, sam, library.LibraryQuery(), limit=2, offset=2)
        third, _ = library.search(s, sam, library.LibraryQuery(), limit=2, offset=4)
    assert total == 5 and [len(first), len(second), len(third)] == [2, 2, 1]
    assert len({r.id for r in first + second + third}) == 5


def test_lib006_the_query_string_is_parsed_without_failing_on_junk(db, people, shelf):
    parse = library.query_from_params
    query = parse({"text": "  leaflet   guide ", "kind": "good practice", "topic": "Elections",
                   "area": "e08000025", "page": "2"})
    assert query == library.LibraryQuery("leaflet guide", "good practice", "Elections", BIRMINGHAM, 2)
    assert query.query_string() == "?text=leaflet+guide&kind=good+practice&topic=Elections&area=E08000025&page=2"
    junk = parse({"text": ["a", "b"], "kind": "<script>", "area": "Birmingham'--", "page": "-3", "topic": "x" * 500})
    assert (junk.text, junk.kind, junk.area, junk.page, len(junk.topic)) == ("a", "", "", 1, 80)
    assert parse({"page": "99999999999"}).page == 1 and parse({}) == library.LibraryQuery()
    with db.session() as s:
        sci_choices = library.search_choices(s, viewer(s, people.sci))
        member_choices = library.search_choices(s, viewer(s, people.police_member))
    # against the choices: the statement is no kind for SCI; topics take their saved case
    assert parse({"kind": "joint party statement"}, sci_choices).kind == ""
    assert parse({"kind": "joint party statement"}, member_choices).kind == "joint party statement"
    assert parse({"topic": "ELECTIONS", "area": "E99999999"}, member_choices) == library.LibraryQuery(topic="Elections")


# --- who reads ----------------------------------------------------------------------------------------------


def test_lib007_the_national_team_searches_the_library_but_not_the_statement(db, people, shelf):
    assert titles(db, people.sci, text="leaflet") == ["Responding to far-right leafleting", "Annual report"]
    assert "Joint statement on respectful campaigning" not in titles(db, people.sci)
    assert len(titles(db, people.sci)) == 4
    with db.session() as s:
        sam = viewer(s, people.sci)
        found = library.get_resource(s, sam, shelf["myths"])
        assert found.title == "Asylum accommodation: common myths answered" and not found.can_change
        assert library.get_resource(s, sam, shelf["statement"]) is None
        # a member of an organisation that left: the library, not the statement
        s.get(Organisation, people.council.id).membership_status = MembershipStatus.LEFT.value
    assert "Joint statement on respectful campaigning" not in titles(db, people.council_member)
    assert len(titles(db, people.council_member)) == 4


def test_lib008_a_disabled_user_sees_nothing(db, people, shelf):
    with db.session() as s:
        s.get(User, people.police_member.id).status = UserStatus.DISABLED.value
    with db.session() as s:
        pat = viewer(s, people.police_member)
        assert library.search(s, pat, library.LibraryQuery()) == ([], 0)
        assert library.get_resource(s, pat, shelf["myths"]) is None
        assert library.topics(s, pat) == []
        with pytest.raises(library.ResourcePermissionError):
            library.create(s, pat, form())


def test_lib009_a_resource_names_the_organisation_never_the_person(db, people, shelf):
    with db.session() as s:
        found = library.get_resource(s, viewer(s, people.sci), shelf["leaflets"])
    assert found.organisation == "Test Council" and found.areas == ((BIRMINGHAM, "Birmingham"),)
    shown = repr(found)
    assert "Cora" not in shown and "council.example" not in shown


# --- checks -----------------------------------------------------------------------------------------------


def errors_of(db, user, **changes) -> dict[str, str]:
    with db.session() as s, pytest.raises(library.ResourceValidationError) as caught:
        library.create(s, viewer(s, user), form(**changes))
    return caught.value.errors


@pytest.mark.parametrize("changes, field, words", [
    ({"kind": "joint party statement"}, "kind", "Choose the kind of resource"),
    ({"kind": "leaflet"}, "kind", "Choose the kind of resource"),
    ({"title": "   "}, "title", "Enter a title"),
    ({"title": "x" * 201}, "title", "200 characters or fewer (it has 201)"),
    ({"summary": "x" * 5001}, "summary", "5,000 characters or fewer"),
    ({"topic": "x" * 81}, "topic", "80 characters or fewer"),
    ({"link": "javascript:alert(1)"}, "link", "starting with https://"),
    ({"link": "JaVaScRiPt:alert(document.cookie)"}, "link", "starting with https://"),
    ({"link": "data:text/html;base64,PHNjcmlwdD4="}, "link", "starting with https://"),
    ({"link": "/library/1"}, "link", "starting with https://"),
    ({"link": "www.example.org"}, "link", "starting with https://"),
    ({"link": "https://"}, "link", "starting with https://"),
    ({"link": "https://exa mple.org/"}, "link", "starting with https://"),
    ({"link": "https://[::1"}, "link", "starting with https://"),
    ({"link": "https://example.org/" + "x" * 500}, "link", "500 characters or fewer"),
    ({"published_on": "2026-02-30"}, "published_on", "must be a real date"),
    ({"published_on": (TODAY + timedelta(days=1)).isoformat()}, "published_on", "cannot be in the future"),
    ({"areas": [BIRMINGHAM, "E99999999"]}, "areas", "Choose districts from the list only"),
])
def test_lib010_each_field_is_checked_and_named(db, people, changes, field, words):
    errors = errors_of(db, people.police_member, **changes)
    assert list(errors) == [field] and words in errors[field]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resource)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_lib011_every_wrong_field_at_once_in_the_form_order_and_the_message_names_them(db, people):
    with db.session() as s, pytest.raises(library.ResourceValidationError) as caught:
        library.create(s, viewer(s, people.police_member),
                       form(kind="", title="", link="javascript:void(0)", areas=["nowhere"]))
    assert list(caught.value.errors) == ["kind", "title", "link", "areas"]
    assert str(caught.value).startswith("Kind of resource: Choose") and "Link: The link must" in str(caught.value)


def test_lib012_optional_fields_and_tidying(db, people):
    made = add(db, people.police_member, summary="", topic="  Online   misinformation ", link=" ", published_on="",
               title="  Spotting   misinformation ", areas=[COVENTRY.lower(), COVENTRY])
    with db.session() as s:
        found = library.get_resource(s, viewer(s, people.police_member), made)
    assert (found.title, found.topic, found.link, found.published_on, found.summary) == (
        "Spotting misinformation", "Online misinformation", None, None, "")
    assert found.areas == ((COVENTRY, "Coventry"),)


# --- who writes ---------------------------------------------------------------------------------------------


def test_lib013_only_partners_add(db, people):
    with db.session() as s, pytest.raises(library.ResourcePermissionError):
        library.create(s, viewer(s, people.sci), form())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resource)) == 0
        for user, may in ((people.sci, False), (people.police_member, True), (people.charity_chair, True),
                          (people.council_admin, True)):
            assert library.may_add(viewer(s, user)) is may


def version_of(db, resource_id: int) -> int:
    with db.session() as s:
        return s.get(Resource, resource_id).version


def test_lib014_the_adding_organisation_chairs_and_admins_change_it_and_no_one_else(db, people, shelf):
    made = shelf["myths"]  # added by Test Police
    with db.session() as s:
        for user, may in ((people.police_member, True), (people.police_member2, True), (people.charity_chair, True),
                          (people.council_admin, True), (people.council_member, False), (people.sci, False)):
            assert library.get_resource(s, viewer(s, user), made).can_change is may, user.name
    for outsider in (people.council_member, people.sci):
        with db.session() as s, pytest.raises(library.ResourcePermissionError):
            library.edit(s, viewer(s, outsider), made, form(title="Forged"), version_of(db, made))
        with db.session() as s, pytest.raises(library.ResourcePermissionError):
            library.delete(s, viewer(s, outsider), made, version_of(db, made))
    for editor, title in ((people.police_member2, "By a colleague"), (people.charity_chair, "By the chair"),
                          (people.council_admin, "By an admin")):
        with db.session() as s:
            library.edit(s, viewer(s, editor), made, form(title=title), version_of(db, made))
        with db.session() as s:
            assert s.get(Resource, made).title == title
    with db.session() as s:
        saved = s.get(Resource, made)
        assert saved.deleted_at is None and saved.organisation_id == people.police.id  # still theirs


def test_lib015_the_statement_is_not_changed_in_the_library(db, people, shelf):
    with db.session() as s:
        chair = viewer(s, people.charity_chair)
        assert library.get_resource(s, chair, shelf["statement"]).can_change is False
        with pytest.raises(library.ResourcePermissionError, match="statement"):
            library.edit(s, chair, shelf["statement"], form(), version_of(db, shelf["statement"]))
        with pytest.raises(library.ResourcePermissionError, match="statement"):
            library.delete(s, chair, shelf["statement"], version_of(db, shelf["statement"]))


def test_lib016_a_stale_edit_is_a_conflict_and_writes_nothing(db, people, shelf):
    made = shelf["myths"]
    opened = version_of(db, made)
    with db.session() as s:  # a colleague saves first
        library.edit(s, viewer(s, people.police_member2), made, form(title="Their title"), opened)
    with db.session() as s, pytest.raises(library.ResourceConflictError) as caught:
        library.edit(s, viewer(s, people.police_member), made, form(title="My title"), opened)
    current = caught.value.current
    assert current.title == "Their title" and current.version == opened + 1
    assert current.updated_by_organisation == "Test Police"
    with db.session() as s, pytest.raises(library.ResourceConflictError):
        library.delete(s, viewer(s, people.police_member), made, opened)
    with db.session() as s:
        saved = s.get(Resource, made)
        assert saved.title == "Their title" and saved.deleted_at is None
        assert s.scalar(select(func.count()).where(AuditEvent.action == "resource-updated")) == 1
    # saving on top of theirs, knowingly: the version they saw
    with db.session() as s:
        library.edit(s, viewer(s, people.police_member), made, form(title="My title"), current.version)
    assert version_of(db, made) == opened + 2


def test_lib017_nothing_changed_writes_nothing(db, people, shelf):
    made = shelf["leaflets"]
    opened = version_of(db, made)
    with db.session() as s:
        view = library.get_resource(s, viewer(s, people.council_member), made)
        library.edit(s, viewer(s, people.council_member), made, library.view_values(view) | {
            "published_on": view.published_on.isoformat(), "areas": [BIRMINGHAM]}, opened)
    assert version_of(db, made) == opened
    with db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "resource-updated")) == 0


def test_lib018_a_deleted_resource_leaves_the_search_and_its_page(db, people, shelf):
    made = shelf["leaflets"]
    with db.session() as s:
        library.delete(s, viewer(s, people.council_member), made, version_of(db, made), reason="Replaced",
                       ip_address="192.0.2.9")
    for user in (people.council_member, people.sci, people.council_admin):
        assert "Responding to far-right leafleting" not in titles(db, user)
        with db.session() as s:
            assert library.get_resource(s, viewer(s, user), made) is None
    with db.session() as s:
        saved = s.get(Resource, made)
        assert saved.deleted_at is not None and saved.deleted_by_id == people.council_member.id  # kept
        assert "Elections" not in library.topics(s, viewer(s, people.council_member))
        with pytest.raises(library.ResourceNotFoundError):
            library.edit(s, viewer(s, people.council_member), made, form(), saved.version)


def test_lib019_every_write_is_audited_with_the_change(db, people):
    made = add(db, people.police_member, areas=[BIRMINGHAM])
    with db.session() as s:
        library.edit(s, viewer(s, people.charity_chair), made, form(topic="Asylum", areas=[BIRMINGHAM]),
                     version_of(db, made), ip_address="192.0.2.2")
    with db.session() as s:
        library.delete(s, viewer(s, people.council_admin), made, version_of(db, made), reason="Out of date",
                       ip_address="192.0.2.3")
    with db.session() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.user_id, e.record_type, e.record_id, e.ip_address) for e in events] == [
        ("resource-created", people.police_member.id, "resource", str(made), "192.0.2.1"),
        ("resource-updated", people.charity_chair.id, "resource", str(made), "192.0.2.2"),
        ("resource-deleted", people.council_admin.id, "resource", str(made), "192.0.2.3"),
    ]
    assert events[0].detail["areas"] == [BIRMINGHAM] and events[0].detail["kind"] == ResourceKind.FACT_SHEET.value
    assert events[1].detail["changed"] == ["topic"]
    assert events[1].detail["before"] == {"topic": "Asylum and migration"} and events[1].detail["after"] == {
        "topic": "Asylum"}
    assert events[2].reason == "Out of date" and events[2].detail["title"].startswith("Asylum accommodation")


def test_lib020_a_failed_write_leaves_no_audit_event(db, people, shelf):
    with db.session() as s, pytest.raises(library.ResourceValidationError):
        library.edit(s, viewer(s, people.police_member), shelf["myths"], form(link="javascript:x"),
                     version_of(db, shelf["myths"]))
    with db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action != "resource-created")) == 0
        assert s.get(Resource, shelf["myths"]).link == "https://www.example.org/myths.pdf"
