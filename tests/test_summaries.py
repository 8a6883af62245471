"""National summaries: quarters, the one parameter parser, and published figures that match the
incidents and tension assessments counted straight from their tables (TLP:GREEN and TLP:CLEAR,
not deleted), after disclosure control, the same for everyone."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard import disclosure
from dashboard.access import Viewer
from dashboard.models import (
    Area,
    Incident,
    Organisation,
    Strand,
    TensionAssessment,
    User,
    incident_strands,
)
from dashboard.reference import Marking, UserStatus
from dashboard.summaries import (
    NO_ASSESSMENT,
    STRAND_NOTE,
    Breakdown,
    Geography,
    Quarter,
    SummaryError,
    SummaryQuery,
    build,
    choices,
    may_view,
    query_from_params,
    to_dict,
)
from tests.conftest import add_incident

TODAY = date(2026, 11, 24)  # the latest complete quarter is Jul to Sep 2026
BIRMINGHAM, COVENTRY, STOKE = "E08000025", "E08000026", "E06000021"
LEICESTER, BLABY, AMBER_VALLEY, NOTTINGHAM = "E06000016", "E07000129", "E07000032", "E06000018"
DISTRICTS = (BIRMINGHAM, COVENTRY, STOKE, LEICESTER, BLABY, AMBER_VALLEY, NOTTINGHAM)
CATEGORIES = ("literature", "stickers", "online", "hc-abuse")
STRAND_SETS = ((), ("race",), ("religion",), ("race", "religion"), ("disability",), ("race", "disability"))
# Days in and just outside the period 1 October 2025 to 30 September 2026, its quarter edges first.
EDGE_DAYS = (date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1),
             date(2026, 6, 30), date(2026, 7, 1), date(2026, 9, 30))
OUTSIDE_DAYS = (date(2025, 9, 30), date(2026, 10, 1))


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def default_query(**changes) -> SummaryQuery:
    return SummaryQuery(to=Quarter(2026, 3), **changes)


# --- quarters ---------------------------------------------------------------------------------


def test_quarters_parse_and_know_their_dates():
    assert Quarter.parse("2026Q3") == Quarter.parse("2026-Q3") == Quarter.parse(" 2026 q3 ") == Quarter(2026, 3)
    q = Quarter(2026, 3)
    assert (q.start, q.end, q.code, q.label) == (date(2026, 7, 1), date(2026, 9, 30), "2026Q3", "Jul to Sep 2026")
    assert Quarter(2024, 1).end == date(2024, 3, 31) and Quarter(2025, 4).end == date(2025, 12, 31)
    assert Quarter(2025, 4).label == "Oct to Dec 2025"
    for text in ("abc", "2026Q5", "2026Q0", "26Q3", "2026", "", "2026Q3x"):
        with pytest.raises(SummaryError) as caught:
            Quarter.parse(text)
        assert caught.value.field == "to" and "2026Q3" in str(caught.value)


def test_latest_complete_quarter_at_the_edges():
    assert Quarter.latest_complete(date(2026, 10, 1)) == Quarter(2026, 3)  # the first day of a quarter
    assert Quarter.latest_complete(date(2026, 9, 30)) == Quarter(2026, 2)  # Q3's last day: not ended yet
    assert Quarter.latest_complete(date(2027, 1, 1)) == Quarter(2026, 4)  # the day after a quarter ends
    assert Quarter.latest_complete(date(2026, 1, 1)) == Quarter(2025, 4)
    assert Quarter.containing(date(2026, 12, 31)) == Quarter(2026, 4)


def test_minus_crosses_years_and_orders_quarters():
    assert Quarter(2026, 1).minus(1) == Quarter(2025, 4)
    assert Quarter(2026, 3).minus(3) == Quarter(2025, 4)
    assert Quarter(2026, 3).minus(19) == Quarter(2021, 4)
    assert Quarter(2025, 4).minus(-1) == Quarter(2026, 1)
    assert Quarter(2025, 4) < Quarter(2026, 1) < Quarter(2026, 2)
    query = default_query(quarters=6)
    assert [q.code for q in query.quarter_list] == ["2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert (query.first, query.start, query.end) == (Quarter(2025, 2), date(2025, 4, 1), date(2026, 9, 30))
    assert default_query().period_label == "Oct 2025 to Sep 2026"
    assert default_query(quarters=1).period_label == "Jul to Sep 2026"


# --- the parameters ---------------------------------------------------------------------------


def test_parameters_default_and_round_trip():
    query = query_from_params({}, TODAY)
    assert query == SummaryQuery(Quarter(2026, 3), 4, Geography.DISTRICT, Breakdown.CATEGORY, (), ())
    assert query.params() == {"to": "2026Q3"}
    given = {"to": ["2026Q1"], "quarters": ["8"], "geography": ["police-force-area"], "breakdown": "strand",
             "area": [f"{COVENTRY},{BIRMINGHAM}", LEICESTER, BIRMINGHAM], "category": "online, literature",
             "page": "ignored", "to ": "x"}
    query = query_from_params(given, TODAY)
    assert (query.to, query.quarters, query.geography, query.breakdown) == (
        Quarter(2026, 1), 8, Geography.POLICE_FORCE_AREA, Breakdown.STRAND)
    assert query.areas == tuple(sorted((BIRMINGHAM, COVENTRY, LEICESTER)))  # repeats dropped
    assert set(query.categories) == {"online", "literature"}
    assert query_from_params(query.params(), TODAY) == query
    # Dash pages hand over blank strings for controls left empty
    assert query_from_params({"to": "", "quarters": "", "area": ""}, TODAY) == query_from_params({}, TODAY)


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"to": "abc"}, "to", '"abc"'),
        ({"to": "2026Q4"}, "to", "2026Q3 or earlier"),  # not over yet on 24 November 2026
        ({"to": ["2026Q1", "2026Q2"]}, "to", "one"),
        ({"quarters": "abc"}, "quarters", 'from 1 to 20, not "abc"'),
        ({"quarters": "0"}, "quarters", "from 1 to 20"),
        ({"quarters": "21"}, "quarters", "from 1 to 20"),
        ({"quarters": "2.5"}, "quarters", "whole number"),
        ({"quarters": "-3"}, "quarters", "whole number"),
        ({"geography": "county"}, "geography", "police-force-area"),
        ({"breakdown": "verification"}, "breakdown", "category, strand"),
        ({"area": "Birmingham"}, "area", "GSS code"),
        ({"area": "E08000025,<script>"}, "area", "GSS code"),
        ({"category": "Literature and leaflets"}, "category", "category code"),
    ],
)
def test_parameter_errors_name_the_field(params, field, words):
    with pytest.raises(SummaryError) as caught:
        query_from_params(params, TODAY)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_the_vocabulary_checks_area_and_category_codes(db):
    with db.session() as s:
        vocabulary = choices(s, TODAY)
    assert len(vocabulary.districts) == 65 and vocabulary.quarters == [Quarter(2026, 3)]
    assert query_from_params({"area": BIRMINGHAM, "category": "online"}, TODAY, vocabulary).areas == (BIRMINGHAM,)
    for params, field in (({"area": "E09999999"}, "area"), ({"category": "no-such-thing"}, "category")):
        with pytest.raises(SummaryError) as caught:
            query_from_params(params, TODAY, vocabulary)
        assert caught.value.field == field and params[field] in str(caught.value)
    # the same check when a query is built without the vocabulary
    for query, field in ((default_query(areas=("E09999999",)), "area"), (default_query(categories=("nope",)), "category")):
        with db.session() as s, pytest.raises(SummaryError) as caught:
            build(s, Viewer(user_id=1, organisation_id=1, role="sci"), query)
        assert caught.value.field == field


# --- the figures ------------------------------------------------------------------------------


def _add_dataset(db, people, seed: int = 5) -> None:
    """GREEN and CLEAR incidents in several districts, categories, strands and quarters (cells of
    0, 1-4 and more), some just outside the period, and tension assessments."""
    rng = random.Random(seed)
    with db.session() as s:
        reporters = [s.get(User, people.council_member.id), s.get(User, people.police_member.id)]
        strands = {st.code: st for st in s.scalars(select(Strand))}
        for district in DISTRICTS:
            for category in CATEGORIES:
                for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 8, 11))):
                    days = EDGE_DAYS if rng.random() < 0.3 else ()
                    day = rng.choice(days) if days else date(2025, 10, 1) + timedelta(days=rng.randrange(365))
                    if rng.random() < 0.05:
                        day = rng.choice(OUTSIDE_DAYS)
                    incident = add_incident(s, rng.choice(reporters), rng.choice((Marking.GREEN, Marking.CLEAR)),
                                            day=day, area=district, category=category)
                    incident.strands = [strands[c] for c in rng.choice(STRAND_SETS)]
        s.flush()
        # Tension, six districts each: at level 3 on 30 September 2025 (within 12 months of the
        # ends of Oct to Dec 2025 up to Apr to Jun 2026, not Jul to Sep 2026); at level 1 on
        # 1 October 2025 (the first day within 12 months of 30 September 2026); at level 2 on the
        # period's last day; and at level 2, then level 5 the same day (the later counts).
        # One more is assessed after the period.
        codes = sorted(s.scalars(select(Area.code)))[:24]
        cora = reporters[0]
        for district in codes[:6]:
            s.add(_assessment(cora, district, date(2025, 9, 30), 3))
        for district in codes[6:12]:
            s.add(_assessment(cora, district, date(2025, 10, 1), 1))
        for district in codes[12:]:
            s.add(_assessment(cora, district, date(2026, 9, 30), 2))
        s.flush()
        for district in codes[18:]:
            s.add(_assessment(cora, district, date(2026, 9, 30), 5))
        s.add(_assessment(cora, BLABY, date(2026, 10, 1), 4))


def _assessment(who: User, area: str, day: date, level: int, marking: Marking = Marking.GREEN) -> TensionAssessment:
    return TensionAssessment(area_code=area, assessed_on=day, level=level, marking=marking.value,
                             source_org_id=who.organisation_id, reporter_id=who.id)


def _true_incident_counts(db, query: SummaryQuery):
    """(quarter code, district, column code) -> incidents, straight from the incidents table."""
    with db.session() as s:
        rows = s.execute(
            select(Incident.id, Incident.area_code, Incident.category_code, Incident.occurred_on).where(
                Incident.marking.in_(["TLP:GREEN", "TLP:CLEAR"]), Incident.deleted_at.is_(None),
                Incident.occurred_on >= query.start, Incident.occurred_on <= query.end,
            )
        ).all()
        strands_of = defaultdict(list)
        for incident_id, strand in s.execute(select(incident_strands.c.incident_id, incident_strands.c.strand_code)):
            strands_of[incident_id].append(strand)
    counts: Counter = Counter()
    for incident_id, area, category, day in rows:
        if query.areas and area not in query.areas:
            continue
        if query.categories and category not in query.categories:
            continue
        quarter = Quarter.containing(day).code
        if query.breakdown is Breakdown.CATEGORY:
            counts[quarter, area, category] += 1
        else:
            for strand in strands_of[incident_id]:
                counts[quarter, area, strand] += 1
    return counts


def _units(db, geography: Geography) -> dict[str, str]:
    column = {Geography.DISTRICT: Area.code, Geography.POLICE_FORCE_AREA: Area.pfa_code,
              Geography.REGION: Area.region_code}[geography]
    with db.session() as s:
        return dict(s.execute(select(Area.code, column)).all())


def _check_cells(protected, true_grid, *, row_totals: bool, column_totals: bool) -> None:
    """Every published figure against its true count, and the whole table against disclosure
    control of the true counts."""
    assert protected == disclosure.protect(true_grid, row_totals=row_totals, column_totals=column_totals)
    pairs = [(c, t) for cells, trues in zip(protected.cells, true_grid, strict=True)
             for c, t in zip(cells, trues, strict=True)]
    if row_totals:
        pairs += list(zip(protected.row_totals, [sum(r) for r in true_grid], strict=True))
    else:
        assert protected.row_totals is None
    if column_totals:
        pairs += list(zip(protected.column_totals, [sum(c) for c in zip(*true_grid, strict=True)], strict=True))
    if row_totals and column_totals:
        pairs.append((protected.grand_total, sum(map(sum, true_grid))))
    else:
        assert protected.grand_total is None
    for cell, true in pairs:
        assert (cell.shown == 0) == (true == 0), (cell, true)
        if cell.shown == disclosure.SUPPRESSED:
            assert 1 <= true <= 4
        if 1 <= true <= 4:
            assert cell.suppressed
        if cell.shown == disclosure.CONCEALED:
            assert cell.suppressed and true >= 1
        if not cell.suppressed:
            assert cell.shown == disclosure.show_count(true)


def _check_summary(db, viewer, query: SummaryQuery) -> dict:
    with db.session() as s:
        summary = build(s, viewer, query)
    true = _true_incident_counts(db, query)
    units = _units(db, query.geography)
    by_area, by_quarter, tension = summary.tables
    assert [t.key for t in summary.tables] == ["by_area", "by_quarter", "tension"]
    category = query.breakdown is Breakdown.CATEGORY

    unit_counts: Counter = Counter()
    quarter_counts: Counter = Counter()
    for (quarter, district, column), n in true.items():
        unit_counts[units[district], column] += n
        quarter_counts[quarter, column] += n
    chosen = query.areas or tuple(units)
    assert [code for code, _ in by_area.rows] == sorted({units[d] for d in chosen},
                                                        key=lambda u: dict(by_area.rows)[u])
    columns = [code for code, _ in by_area.columns]
    assert set(c for (_q, _d, c) in true) <= set(columns)
    for table, counts in ((by_area, unit_counts), (by_quarter, quarter_counts)):
        grid = [[counts[row, column] for column in columns] for row, _ in table.rows]
        _check_cells(table.protected, grid, row_totals=category, column_totals=True)
        assert table.note == ("" if category else STRAND_NOTE)
    assert [code for code, _ in by_quarter.rows] == [q.code for q in query.quarter_list]
    return to_dict(summary)


def test_published_figures_match_the_incidents_counted_directly(db, people):
    _add_dataset(db, people)
    viewer = viewer_of(db, people.sci)
    seen_small = seen_rounded = 0
    for geography in Geography:
        for breakdown in Breakdown:
            data = _check_summary(db, viewer, default_query(geography=geography, breakdown=breakdown))
            cells = [v for t in data["tables"][:2] for row in t["rows"] for v in row["values"]]
            seen_small += cells.count("<5")
            seen_rounded += sum(1 for v in cells if isinstance(v, int) and v >= 5)
    # the data really gave suppressed and rounded cells to check
    assert seen_small and seen_rounded
    # a few districts and categories, one quarter, and a longer period
    _check_summary(db, viewer, default_query(areas=(BIRMINGHAM, LEICESTER, BLABY), categories=("online", "stickers"),
                                             geography=Geography.POLICE_FORCE_AREA))
    _check_summary(db, viewer, default_query(quarters=1, breakdown=Breakdown.STRAND))
    _check_summary(db, viewer, default_query(quarters=8))


def test_region_and_force_area_rows_add_up_their_districts(db, people):
    _add_dataset(db, people)
    viewer = viewer_of(db, people.sci)
    with db.session() as s:
        districts = build(s, viewer, default_query()).table("by_area")
        regions = build(s, viewer, default_query(geography=Geography.REGION)).table("by_area")
        forces = build(s, viewer, default_query(geography=Geography.POLICE_FORCE_AREA,
                                                areas=(BIRMINGHAM, COVENTRY, LEICESTER))).table("by_area")
    assert regions.rows == (("E12000004", "East Midlands"), ("E12000005", "West Midlands"))
    assert regions.row_heading == "Region" and districts.row_heading == "District" and len(districts.rows) == 65
    assert forces.rows == (("E23000021", "Leicestershire Police"), ("E23000014", "West Midlands Police"))
    # the same grand total, whichever the rows are
    assert regions.protected.grand_total == districts.protected.grand_total
    true = _true_incident_counts(db, default_query())
    west_midlands = sum(n for (_q, d, _c), n in true.items() if d in (BIRMINGHAM, COVENTRY, STOKE))
    assert regions.protected.row_totals[1].shown == disclosure.show_count(west_midlands) or \
        regions.protected.row_totals[1].suppressed
    wmp = sum(n for (_q, d, _c), n in true.items() if d in (BIRMINGHAM, COVENTRY))
    assert forces.protected.row_totals[1].shown == disclosure.show_count(wmp)


def test_strand_tables_count_each_strand_and_have_no_row_totals(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        race, religion = s.get(Strand, "race"), s.get(Strand, "religion")
        for i in range(7):
            incident = add_incident(s, cora, Marking.GREEN, day=date(2026, 8, 1 + i), area=BIRMINGHAM)
            incident.strands = [race, religion] if i < 6 else [race]
    with db.session() as s:
        summary = build(s, viewer_of(db, people.sci), default_query(breakdown=Breakdown.STRAND))
    for key in ("by_area", "by_quarter"):
        table = summary.table(key)
        assert table.protected.row_totals is None and table.protected.grand_total is None
        assert table.note == STRAND_NOTE and "more than one" in table.note
        totals = dict(zip([c for c, _ in table.columns], table.protected.column_totals, strict=True))
        assert (totals["race"].shown, totals["religion"].shown, totals["disability"].shown) == (5, 5, 0)
    assert "Race" in summary.table("by_area").summary and "more than one strand" in summary.table("by_area").summary
    row = to_dict(summary)["tables"][0]["rows"][0]
    assert row["total"] is None


def test_tension_counts_districts_by_latest_assessment_in_the_twelve_months(db, people):
    _add_dataset(db, people)
    with db.session() as s:
        table = build(s, viewer_of(db, people.sci), default_query()).table("tension")
    assert [c for c, _ in table.columns] == ["1", "2", "3", "4", "5", NO_ASSESSMENT]
    assert table.columns[3] == ("4", "4 High") and table.columns[-1] == (NO_ASSESSMENT, "No assessment")
    assert table.protected.column_totals is None and table.total_label == "Districts"
    # True counts straight from the assessments: each district's latest in the 12 months to the
    # quarter's end.
    with db.session() as s:
        rows = s.execute(select(TensionAssessment.area_code, TensionAssessment.assessed_on, TensionAssessment.id,
                                TensionAssessment.level)
                         .where(TensionAssessment.marking.in_(["TLP:GREEN", "TLP:CLEAR"]),
                                TensionAssessment.deleted_at.is_(None))).all()
    grid = []
    for quarter in default_query().quarter_list:
        window_start = date(quarter.end.year - 1, quarter.end.month, quarter.end.day) + timedelta(days=1)
        latest = {}
        for area, day, _ident, level in sorted(rows, key=lambda r: (r[1], r[2])):
            if window_start <= day <= quarter.end:
                latest[area] = level
        levels = Counter(latest.values())
        grid.append([levels[i] for i in range(1, 6)] + [65 - len(latest)])
    _check_cells(table.protected, grid, row_totals=True, column_totals=False)
    cells = {(code, col): cell.shown for (code, _), row in zip(table.rows, table.protected.cells, strict=True)
             for (col, _), cell in zip(table.columns, row, strict=True)}
    # six districts at level 3 on 30 September 2025 count until the end of Jun 2026, not Sep 2026;
    # those at level 1 on 1 October 2025 still count at the end of Sep 2026
    assert cells["2025Q4", "3"] == 5 and cells["2026Q2", "3"] == 5 and cells["2026Q3", "3"] == 0
    assert cells["2025Q4", "1"] == 5 and cells["2026Q3", "1"] == 5
    # the level 2s of 30 September 2026 count only at its end; the same day's later 5s replace six
    assert cells["2026Q2", "2"] == 0 and cells["2026Q3", "2"] == 5 and cells["2026Q3", "5"] == 5
    assert cells["2026Q3", "4"] == 0  # assessed after the period
    assert cells["2026Q3", NO_ASSESSMENT] == 45 and cells["2026Q2", NO_ASSESSMENT] == 55
    assert all(total.shown == 65 for total in table.protected.row_totals)


def test_amber_red_and_deleted_records_change_nothing(db, people):
    _add_dataset(db, people)
    viewer = viewer_of(db, people.sci)
    queries = [default_query(), default_query(geography=Geography.REGION, breakdown=Breakdown.STRAND)]

    def published() -> list[dict]:
        with db.session() as s:
            out = [to_dict(build(s, viewer, q)) for q in queries]
        for data in out:
            data.pop("generated_at")
        return out

    before = published()
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        chris = s.get(User, people.charity_chair.id)
        council = s.get(Organisation, people.council.id)
        race = s.get(Strand, "race")
        for i in range(12):
            day = date(2026, 2, 1) + timedelta(days=9 * i)
            for marking in (Marking.AMBER, Marking.AMBER_STRICT, Marking.RED):
                incident = add_incident(s, pat, marking, day=day, area=DISTRICTS[i % 7], category=CATEGORIES[i % 4],
                                        recipients=[chris] if marking is Marking.RED else (),
                                        listed=[council] if marking is Marking.AMBER else ())
                incident.strands = [race]
            deleted = add_incident(s, pat, Marking.GREEN, day=day, area=BIRMINGHAM)
            deleted.deleted_at = datetime.now(UTC)
            deleted.deleted_by_id = pat.id
        for district in DISTRICTS:
            for marking in (Marking.AMBER, Marking.AMBER_STRICT, Marking.RED):
                s.add(_assessment(pat, district, date(2026, 9, 30), 5, marking))
            gone = _assessment(pat, district, date(2026, 9, 30), 4)
            gone.deleted_at = datetime.now(UTC)
            s.add(gone)
        s.flush()
        assert s.scalar(select(Incident.id).where(Incident.marking == "TLP:RED").limit(1))
    assert published() == before


def test_every_role_gets_the_same_figures(db, people):
    _add_dataset(db, people)
    query = default_query(geography=Geography.POLICE_FORCE_AREA)
    results = []
    for user in (people.sci, people.police_member, people.charity_chair, people.council_admin):
        viewer = viewer_of(db, user)
        assert may_view(viewer)
        with db.session() as s:
            data = to_dict(build(s, viewer, query))
        data.pop("generated_at")
        results.append(data)
    assert all(r == results[0] for r in results)


def test_a_disabled_account_may_not_view(db, people):
    with db.session() as s:
        s.get(User, people.sci.id).status = UserStatus.DISABLED
    viewer = viewer_of(db, people.sci)
    assert not may_view(viewer) and not may_view(None)
    with db.session() as s, pytest.raises(PermissionError):
        build(s, viewer, default_query())


def test_the_json_shape_and_sentences_use_published_figures(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        for i in range(8):  # 8 shows as 10
            add_incident(s, cora, Marking.CLEAR, day=date(2026, 7, 1 + i), area=LEICESTER, category="stickers")
        for i in range(6):  # 6 shows as 5
            add_incident(s, cora, Marking.GREEN, day=date(2026, 8, 3 + i), area=BLABY, category="online")
    with db.session() as s:
        summary = build(s, viewer_of(db, people.sci), default_query())
    data = to_dict(summary)
    assert data["marking"] == "TLP:GREEN" and data["markings_counted"] == ["TLP:CLEAR", "TLP:GREEN"]
    assert data["period"] == {"from": "2025Q4", "to": "2026Q3", "start": "2025-10-01", "end": "2026-09-30"}
    assert data["filters"] == {"geography": "district", "breakdown": "category", "areas": [], "categories": []}
    assert data["generated_at"].endswith("Z") and data["rules"][: len(disclosure.RULES)] == list(disclosure.RULES)
    assert [t["key"] for t in data["tables"]] == ["by_area", "by_quarter", "tension"]
    for table in data["tables"]:
        for row in table["rows"]:
            for value in row["values"] + [row["total"]]:
                assert value in ("<5", "[c]", None) or (isinstance(value, int) and value % 5 == 0)
    by_area = summary.table("by_area")
    # 14 true incidents are published as 15; the sentence never gives a true count
    assert by_area.protected.grand_total.shown == 15
    assert "about 15 incidents" in by_area.summary and not {"14", "8", "6"} & set(by_area.summary.split())
    assert "Oct 2025 to Sep 2026" in by_area.summary and by_area.title.endswith("Oct 2025 to Sep 2026")
    assert "the most in a category was Stickers and graffiti (about 10)" in by_area.summary
    assert "the most in a district was Leicester (about 10)" in by_area.summary
    quarters = summary.table("by_quarter")
    assert quarters.rows[-1] == ("2026Q3", "Jul to Sep 2026")
    assert "the most in one quarter was Jul to Sep 2026 (about 15)" in quarters.summary
    assert "none of the 65 districts" in summary.table("tension").summary


def test_an_empty_period_says_so(db, people):
    with db.session() as s:
        summary = build(s, viewer_of(db, people.sci), default_query(areas=(BIRMINGHAM,), breakdown=Breakdown.STRAND))
        category = build(s, viewer_of(db, people.sci), default_query())
    assert "no incidents with a hate-crime strand" in summary.table("by_area").summary
    assert "no incidents were counted" in category.table("by_area").summary
    assert "no incidents were counted" in category.table("by_quarter").summary
    assert category.table("by_area").protected.grand_total.shown == 0


def test_choices_run_from_the_first_counted_quarter(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        pat = s.get(User, people.police_member.id)
        add_incident(s, pat, Marking.AMBER_STRICT, day=date(2024, 2, 1))  # never counted
        add_incident(s, cora, Marking.GREEN, day=date(2025, 5, 20))
    with db.session() as s:
        found = choices(s, TODAY)
    assert found.quarters[0] == Quarter(2026, 3) and found.quarters[-1] == Quarter(2025, 2)
    assert len(found.quarters) == 6
    assert ("literature", "Literature and leaflets") in found.categories
    assert found.districts[0][1] <= found.districts[1][1]
    assert "race" in dict(found.strands)
