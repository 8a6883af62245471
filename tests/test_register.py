"""The incident register's reads: paging in the database's order, quick search, the grid's column
filters, counts, and that a record a viewer may not see never appears (and never counts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from dashboard import register as reg
from dashboard.access import RecordFilters, Viewer
from dashboard.models import Incident, Strand, User, utcnow
from dashboard.reference import Marking
from tests.conftest import add_incident

BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def grid(sort=None, filters=None, search="", record_filters=None) -> reg.RegisterQuery:
    return reg.RegisterQuery.from_grid(record_filters, search, sort, filters)


def ids(session, who, query=None, start=0, end=500) -> list[int]:
    return [r["id"] for r in reg.rows(session, who, query or reg.RegisterQuery(), start, end).rows]


@pytest.fixture
def world(db, people):
    """Eleven incidents: every marking, several dates, districts, categories and texts."""
    made = {}
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        chris = s.get(User, people.charity_chair.id)
        council = s.get(type(people.council), people.council.id)

        def add(key, reporter, marking, day, **kw):
            description = kw.pop("description", "")
            extra = {k: kw.pop(k) for k in list(kw) if k in ("severity", "corroborated_by", "date_precision",
                                                            "latitude", "longitude", "location_precision",
                                                            "verification")}
            strands = kw.pop("strands", ())
            incident = add_incident(s, reporter, marking, day=day, **kw)
            incident.description = description
            for name, value in extra.items():
                setattr(incident, name, value)
            if strands:
                incident.strands = list(s.scalars(select(Strand).where(Strand.code.in_(strands))))
            s.flush()
            made[key] = incident.id

        add("green_new", pat, Marking.GREEN, date(2026, 11, 20), title="Leaflets at the station",
            description="Forty leaflets left on seats", severity=2, strands=("race", "religion"))
        add("green_same_day", cora, Marking.GREEN, date(2026, 11, 20), area=COVENTRY, category="stickers",
            title="Stickers 50% off sign", description="Stickers on lamp posts", severity=1)
        add("clear", chris, Marking.CLEAR, date(2026, 11, 10), area=LEICESTER, category="demonstration",
            title="March through the centre", description="A march with leaflets handed out", severity=3,
            date_precision="week")
        add("strict_police", pat, Marking.AMBER_STRICT, date(2026, 11, 5), title="Police-only intelligence",
            description="leaflets source identified", severity=4, corroborated_by=2, verification="corroborated")
        add("amber_listed", pat, Marking.AMBER, date(2026, 11, 1), listed=[council], title="Shared with the council",
            description="leaflets in the council estate")
        add("amber_unlisted", pat, Marking.AMBER, date(2026, 10, 30), title="Amber for police only",
            description="leaflets and more")
        add("red_named", pat, Marking.RED, date(2026, 10, 20), recipients=[cora], title="Red for Cora",
            description="leaflets named source")
        add("red_private", pat, Marking.RED, date(2026, 10, 15), title="Red for the reporter",
            description="leaflets private")
        add("old", cora, Marking.GREEN, date(2025, 3, 2), area=LEICESTER, category="online",
            title="=HYPERLINK(\"http://x\")", description="an old online post", date_precision="month",
            latitude=52.63, longitude=-1.13, location_precision="approximate")
        add("deleted", pat, Marking.GREEN, date(2026, 11, 21), title="Deleted leaflets report",
            description="leaflets deleted")
        s.get(Incident, made["deleted"]).deleted_at = utcnow()
        add("underscore", chris, Marking.GREEN, date(2026, 9, 1), area=COVENTRY, category="hc-abuse",
            title="Stickers 500 off sign", description="an_underscore in text")
    return made


# --- order and paging -------------------------------------------------------------------------------------


def test_reg001_newest_first_then_by_reference_a_page_at_a_time(db, people, world):
    w = world
    with db.session() as s:
        pat = viewer(s, people.police_member)
        expected = [w["green_same_day"], w["green_new"], w["clear"], w["strict_police"], w["amber_listed"],
                    w["amber_unlisted"], w["red_named"], w["red_private"], w["underscore"], w["old"]]
        assert w["green_same_day"] > w["green_new"]  # same day: the higher reference first
        assert ids(s, pat) == expected
        first = reg.rows(s, pat, reg.RegisterQuery(), 0, 4)
        assert [r["id"] for r in first.rows] == expected[:4] and first.last_row is None
        second = reg.rows(s, pat, reg.RegisterQuery(), 4, 8)
        assert [r["id"] for r in second.rows] == expected[4:8] and second.last_row is None
        last = reg.rows(s, pat, reg.RegisterQuery(), 8, 12)
        assert [r["id"] for r in last.rows] == expected[8:] and last.last_row == 10
        exact = reg.rows(s, pat, reg.RegisterQuery(), 6, 10)  # a block ending exactly at the end
        assert exact.last_row == 10
        assert reg.rows(s, pat, reg.RegisterQuery(), 20, 30) == reg.RegisterPage([], 20)
        assert ids(s, pat, grid(sort=[{"colId": "occurred_on", "sort": "asc"}])) == list(reversed(expected))
        assert ids(s, pat, grid(sort=[{"colId": "id", "sort": "asc"}])) == sorted(expected)
        assert ids(s, pat, grid(sort=[{"colId": "id", "sort": "desc"}])) == sorted(expected, reverse=True)
        assert reg.count(s, pat, reg.RegisterQuery()) == 10


def test_reg002_each_row_shows_its_labels_and_marking_as_text(db, people, world):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        by_id = {r["id"]: r for r in reg.rows(s, pat, reg.RegisterQuery(), 0, 100).rows}
    row = by_id[world["strict_police"]]
    assert row == {
        "id": world["strict_police"], "occurred_on": "2026-11-05", "when": "5 Nov 2026", "area": "Birmingham",
        "area_code": BIRMINGHAM, "category": "Literature and leaflets", "title": "Police-only intelligence",
        "severity": 4, "severity_label": "Critical", "verification": "Corroborated", "corroborated_by": 2,
        "marking": "TLP:AMBER+STRICT", "organisation": "Test Police",
    }
    assert by_id[world["clear"]]["when"] == "week of 10 Nov 2026"
    assert by_id[world["old"]]["when"] == "Mar 2025"
    assert by_id[world["clear"]]["organisation"] == "Test Refugee Charity"


def test_reg003_blocks_and_sorts_the_register_cannot_give_are_refused(db, people, world):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        with pytest.raises(reg.RegisterQueryError, match="at most 500"):
            reg.rows(s, pat, reg.RegisterQuery(), 0, 501)
        with pytest.raises(reg.RegisterQueryError):
            reg.rows(s, pat, reg.RegisterQuery(), -1, 10)
        with pytest.raises(reg.RegisterQueryError):
            reg.rows(s, pat, reg.RegisterQuery(), 10, 10)
    with pytest.raises(reg.RegisterQueryError) as caught:
        grid(sort=[{"colId": "title", "sort": "asc"}])
    assert caught.value.column == "title" and "cannot be sorted by Title" in str(caught.value)
    assert "Ref or Date" in str(caught.value)
    with pytest.raises(reg.RegisterQueryError) as caught:
        grid(sort=[{"colId": "occurred_on", "sort": "sideways"}])
    assert caught.value.column == "occurred_on"
    assert {c.id for c in reg.COLUMNS if c.sortable} == {"id", "occurred_on"}


# --- who sees what -----------------------------------------------------------------------------------------


def test_reg010_hidden_records_never_appear_nor_count(db, people, world):
    w = world
    everyone = {w["green_new"], w["green_same_day"], w["clear"], w["old"], w["underscore"]}
    with db.session() as s:
        seen = {
            "police": (viewer(s, people.police_member), everyone | {w["strict_police"], w["amber_listed"],
                       w["amber_unlisted"], w["red_named"], w["red_private"]}),
            "police2": (viewer(s, people.police_member2), everyone | {w["strict_police"], w["amber_listed"],
                        w["amber_unlisted"]}),
            "council": (viewer(s, people.council_member), everyone | {w["amber_listed"], w["red_named"]}),
            "charity": (viewer(s, people.charity_chair), everyone),
            "sci": (viewer(s, people.sci), set()),
        }
        for name, (who, expected) in seen.items():
            assert set(ids(s, who)) == expected, name
            assert reg.count(s, who, reg.RegisterQuery()) == len(expected), name
            dated = reg.RegisterQuery(filters=RecordFilters(start=date(2026, 10, 1), end=date(2026, 11, 30)))
            in_period = {i for i in expected if i not in (w["old"], w["underscore"])}
            assert set(ids(s, who, dated)) == in_period, name
            assert reg.count(s, who, dated) == len(in_period), name
            searched = reg.RegisterQuery(search="leaflets")
            assert set(ids(s, who, searched)) == expected & {w["green_new"], w["clear"], w["strict_police"],
                                                               w["amber_listed"], w["amber_unlisted"],
                                                               w["red_named"], w["red_private"]}, name
            assert reg.count(s, who, searched) == len(ids(s, who, searched)), name
            export = [r["id"] for r in reg.iter_export_rows(s, who, reg.RegisterQuery(), 100)]
            assert export == ids(s, who), name
        assert reg.rows(s, seen["sci"][0], reg.RegisterQuery(), 0, 100) == reg.RegisterPage([], 0)


def test_reg011_admins_may_list_deleted_records_only_within_their_markings(db, people, world):
    with db.session() as s:
        ada = viewer(s, people.council_admin)
        query = reg.RegisterQuery(filters=RecordFilters(include_deleted=True))
        got = set(ids(s, ada, query))
        assert world["deleted"] in got and world["red_private"] not in got and world["strict_police"] not in got
        assert reg.count(s, ada, query) == len(got)


# --- quick search ---------------------------------------------------------------------------------------------


def test_reg020_search_matches_words_and_word_starts_in_title_and_description(db, people, world):
    w = world
    with db.session() as s:
        cora = viewer(s, people.council_member)
        assert ids(s, cora, reg.RegisterQuery(search="lamp posts")) == [w["green_same_day"]]
        assert set(ids(s, cora, reg.RegisterQuery(search="leaf"))) == {
            w["green_new"], w["clear"], w["amber_listed"], w["red_named"]}
        assert ids(s, cora, reg.RegisterQuery(search="private")) == []  # the reporter's own RED record
        assert ids(s, cora, reg.RegisterQuery(search="   ")) == ids(s, cora)  # no words: no search
        combined = grid(search="leaflets", filters={"category": {"filterType": "text", "type": "contains",
                                                                  "filter": "demonstration"}})
        assert ids(s, cora, combined) == [w["clear"]] and reg.count(s, cora, combined) == 1
    with pytest.raises(reg.RegisterQueryError) as caught:
        grid(search="x" * 201)
    assert caught.value.column == "search"


@pytest.mark.parametrize("window", [1, 3, 50])
def test_reg021_search_windows_give_the_same_blocks_as_finding_every_match(db, password_hash, window, monkeypatch):
    from tests.conftest import make_people

    with db.session() as s:
        people = make_people(s, password_hash)
        for n in range(30):
            incident = add_incident(s, people.police_member if n % 3 else people.council_member,
                                    Marking.GREEN if n % 4 else Marking.AMBER_STRICT,
                                    day=date(2026, 1 + n % 10, 1 + n % 27), title=f"Report {n}")
            incident.description = "leaflets" if n % 2 else "stickers"
    with db.session() as s:
        pat = viewer(s, people.police_member)
        queries = [reg.RegisterQuery(search="leaflets"), grid(search="leaflets", sort=[{"colId": "id", "sort": "asc"}]),
                   grid(search="stickers", sort=[{"colId": "occurred_on", "sort": "asc"}])]
        expected = {}
        for q in queries:
            monkeypatch.setattr(reg, "_search_block", lambda *args: None)  # every match found, then sorted
            expected[q] = [ids(s, pat, q, start, start + 4) for start in range(0, 20, 4)]
        monkeypatch.undo()
        monkeypatch.setattr(reg, "SEARCH_WINDOW", window)
        monkeypatch.setattr(reg, "POSTGRES_SEARCH_WINDOW", window)
        for q in queries:
            assert [ids(s, pat, q, start, start + 4) for start in range(0, 20, 4)] == expected[q]
            plain = [r["id"] for r in reg.rows(s, pat, q, 0, 500).rows]
            assert plain == sum(expected[q], [])


# --- column filters --------------------------------------------------------------------------------------------


def test_reg030_text_filters_match_what_people_read(db, people, world):
    w = world
    cases = [
        ({"title": {"filterType": "text", "type": "contains", "filter": "50%"}}, {w["green_same_day"]}),
        ({"title": {"filterType": "text", "type": "contains", "filter": "STICKERS 50"}},
         {w["green_same_day"], w["underscore"]}),
        ({"title": {"filterType": "text", "type": "startsWith", "filter": "=hyper"}}, {w["old"]}),
        ({"title": {"filterType": "text", "type": "equals", "filter": "red for cora"}}, {w["red_named"]}),
        ({"title": {"filterType": "text", "type": "endsWith", "filter": "_sign"}}, set()),
        ({"area": {"filterType": "text", "type": "contains", "filter": "cov"}}, {w["green_same_day"], w["underscore"]}),
        ({"category": {"filterType": "text", "type": "equals", "filter": "online activity and misinformation"}},
         {w["old"]}),
        ({"organisation": {"filterType": "text", "type": "contains", "filter": "charity"}},
         {w["clear"], w["underscore"]}),
        ({"marking": {"filterType": "text", "type": "contains", "filter": "amber"}},
         {w["strict_police"], w["amber_listed"], w["amber_unlisted"]}),
        ({"marking": {"filterType": "text", "type": "equals", "filter": "amber"}},
         {w["amber_listed"], w["amber_unlisted"]}),
        ({"marking": {"filterType": "text", "type": "notContains", "filter": "green"}},
         {w["clear"], w["strict_police"], w["amber_listed"], w["amber_unlisted"], w["red_named"], w["red_private"]}),
        ({"verification": {"filterType": "text", "type": "equals", "filter": "Corroborated"}}, {w["strict_police"]}),
        ({"area": {"filterType": "text", "type": "equals", "filter": "nowhere"}}, set()),
    ]
    with db.session() as s:
        pat = viewer(s, people.police_member)
        for model, expected in cases:
            query = grid(filters=model)
            assert set(ids(s, pat, query)) == expected, model
            assert reg.count(s, pat, query) == len(expected), model


def test_reg031_number_and_date_filters_and_combined_conditions(db, people, world):
    w = world
    cases = [
        ({"id": {"filterType": "number", "type": "equals", "filter": w["clear"]}}, {w["clear"]}),
        ({"id": {"filterType": "number", "type": "inRange", "filter": w["clear"], "filterTo": w["amber_listed"]}},
         {w["clear"], w["strict_police"], w["amber_listed"]}),
        ({"severity": {"filterType": "number", "type": "greaterThan", "filter": 2}}, {w["clear"], w["strict_police"]}),
        ({"severity": {"filterType": "number", "type": "lessThanOrEqual", "filter": "1"}},
         {w["green_same_day"], w["amber_listed"], w["amber_unlisted"], w["red_named"], w["red_private"], w["old"],
          w["underscore"]}),
        ({"corroborated_by": {"filterType": "number", "type": "equals", "filter": 2}}, {w["strict_police"]}),
        ({"occurred_on": {"filterType": "date", "type": "inRange", "dateFrom": "2026-11-01 00:00:00",
                          "dateTo": "2026-11-10 00:00:00"}}, {w["clear"], w["strict_police"], w["amber_listed"]}),
        ({"occurred_on": {"filterType": "date", "type": "lessThan", "dateFrom": "2026-10-01"}},
         {w["old"], w["underscore"]}),
        ({"occurred_on": {"filterType": "date", "type": "equals", "dateFrom": "2026-11-20"}},
         {w["green_new"], w["green_same_day"]}),
        ({"severity": {"filterType": "number", "operator": "OR", "conditions": [
            {"filterType": "number", "type": "equals", "filter": 3},
            {"filterType": "number", "type": "equals", "filter": 4}]}}, {w["clear"], w["strict_police"]}),
        ({"title": {"filterType": "text", "operator": "AND", "conditions": [
            {"filterType": "text", "type": "contains", "filter": "stickers"},
            {"filterType": "text", "type": "notContains", "filter": "%"}]}}, {w["underscore"]}),
        ({"area": {"filterType": "text", "type": "contains", "filter": "birmingham"},
          "severity": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 2}},
         {w["green_new"], w["strict_police"]}),
    ]
    with db.session() as s:
        pat = viewer(s, people.police_member)
        for model, expected in cases:
            query = grid(filters=model)
            assert set(ids(s, pat, query)) == expected, model
            assert reg.count(s, pat, query) == len(expected), model
    described = grid(filters=cases[1][0] | cases[5][0]).summary()["columns"]
    assert described == [f"Ref between {w['clear']} and {w['amber_listed']}", "Date between 2026-11-01 and 2026-11-10"]


@pytest.mark.parametrize(("model", "column", "words"), [
    ({"nope": {"filterType": "text", "type": "contains", "filter": "x"}}, "nope", "no column 'nope'"),
    ({"severity": {"filterType": "number", "type": "equals", "filter": "abc"}}, "severity", "not a number"),
    ({"severity": {"filterType": "text", "type": "contains", "filter": "2"}}, "severity", "number filter"),
    ({"title": {"filterType": "text", "type": "blank"}}, "title", "cannot be filtered that way"),
    ({"title": {"filterType": "text", "type": "contains", "filter": ""}}, "title", "enter the text"),
    ({"occurred_on": {"filterType": "date", "type": "equals", "dateFrom": "tomorrow"}}, "occurred_on", "not a date"),
    ({"occurred_on": {"filterType": "date", "type": "inRange", "dateFrom": "2026-01-01"}}, "occurred_on",
     "choose a date"),
    ({"area": {"filterType": "set", "values": ["Birmingham"]}}, "area", "text filter, not a set filter"),
    ({"marking": {"filterType": "text", "operator": "XOR", "conditions": [
        {"filterType": "text", "type": "contains", "filter": "a"}]}}, "marking", "AND or OR"),
    ({"marking": "amber"}, "marking", "not in the form"),
])
def test_reg032_a_filter_the_register_cannot_apply_is_refused_naming_its_column(model, column, words):
    with pytest.raises(reg.RegisterQueryError) as caught:
        grid(filters=model)
    assert caught.value.column == column
    assert words in str(caught.value)


def test_reg033_the_export_rows_carry_every_column_in_the_register_order(db, people, world, monkeypatch):
    monkeypatch.setattr(reg, "EXPORT_CHUNK", 3)  # several chunks, each continuing after the last
    with db.session() as s:
        pat = viewer(s, people.police_member)
        for query in (reg.RegisterQuery(), grid(sort=[{"colId": "occurred_on", "sort": "asc"}]),
                      grid(sort=[{"colId": "id", "sort": "desc"}]), reg.RegisterQuery(search="leaflets")):
            got = list(reg.iter_export_rows(s, pat, query, 100))
            assert [r["id"] for r in got] == ids(s, pat, query)
            assert len(list(reg.iter_export_rows(s, pat, query, 4))) == 4
        rows = {r["id"]: r for r in reg.iter_export_rows(s, pat, reg.RegisterQuery(), 100)}
    first = rows[world["green_new"]]
    assert first["strands"] == "Race (incl. colour, nationality, ethnic or national origin); Religion (incl. no faith)"
    assert first["description"] == "Forty leaflets left on seats" and first["reporter"] == "Pat Police"
    assert first["occurred_on"] == date(2026, 11, 20) and first["date_precision"] == "Day"
    old = rows[world["old"]]
    assert (old["latitude"], old["longitude"], old["location_precision"]) == (52.63, -1.13, "Approximate")
    assert old["created_at"].tzinfo is not None


def test_reg034_queries_are_values_that_can_be_compared_and_summarised():
    a = grid(filters={"area": {"filterType": "text", "type": "contains", "filter": "cov"}}, search=" leaflets ",
             record_filters=RecordFilters(categories=("literature",)))
    b = grid(filters={"area": {"filterType": "text", "type": "contains", "filter": "cov"}}, search="leaflets",
             record_filters=RecordFilters(categories=("literature",)))
    assert a == b and hash(a) == hash(b) and a.search == "leaflets"
    assert a.summary() == {"filters": {"categories": ["literature"]}, "columns": ["District contains 'cov'"],
                           "sort": ["occurred_on desc", "id desc"]}
    assert replace(a, sort=(("id", "asc"),)).effective_sort() == (("id", "asc"),)
