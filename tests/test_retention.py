"""Retention review: which records are due, the queue a page at a time, redaction (the texts gone
from the record, its history and the text index; every figure unchanged), keeping for longer,
and refusals (non-admins, bad requests) that change nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, func, select, text, update

from dashboard import assessments as ta
from dashboard import incidents as inc
from dashboard import overview, retention, search, summaries, trends
from dashboard.access import RecordFilters, Viewer
from dashboard.models import (
    AuditEvent,
    Incident,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    RecordChange,
    TensionAssessment,
    TensionIndicator,
    User,
    utcnow,
)
from dashboard.reference import Marking, MembershipStatus
from dashboard.retention import QueueFilters, RetentionError, add_months, last_due_day
from dashboard.rollups import incidents_by_area
from tests.conftest import add_incident

TODAY = date(2026, 11, 24)
MONTHS = 24
PERIOD_ENDS = date(2024, 11, 24)  # a record of this day is due today; of the next day, tomorrow
BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def incident_form(**changes) -> inc.IncidentForm:
    values = {
        "title": "Leaflets naming Jo Bloggs pushed through doors",
        "occurred_on": "2023-05-10",
        "date_precision": "day",
        "area_code": BIRMINGHAM,
        "category_code": "literature",
        "strands": ["race"],
        "description": "Around 40 leaflets on Elm Road, outside number 12.",
        "latitude": "52.48",
        "longitude": "-1.89",
        "location_precision": "exact",
        "severity": "2",
        "verification": "reported",
        "marking": "TLP:GREEN",
    }
    return inc.IncidentForm(**(values | changes))


def assessment_form(**changes) -> ta.AssessmentForm:
    values = {
        "area_code": BIRMINGHAM,
        "assessed_on": "2024-01-05",
        "level": "3",
        "trend": "rising",
        "confidence": "medium",
        "rationale": "Reports from the Sparkbrook mosque committee about a named man.",
        "indicators": [("Leaflets at Greenway school", "evidenced"), ("March planned by Kestrel", "potential")],
        "review_on": "2024-02-05",
        "marking": "TLP:GREEN",
    }
    return ta.AssessmentForm(**(values | changes))


def due_keys(db, people, filters=QueueFilters(), today=TODAY) -> list[str]:
    with db.session() as s:
        page = retention.queue(s, viewer(s, people.council_admin), filters, today=today, months=MONTHS,
                               page_size=1000)
        return [r.key for r in page.records]


def redact(db, people, keys, reason="Past the retention period; no open case", today=TODAY):
    with db.session() as s:
        return retention.redact(s, viewer(s, people.council_admin), keys, reason, today=today, months=MONTHS,
                                ip_address="192.0.2.9")


# --- when a record is due -------------------------------------------------------------------------


@given(st.dates(date(2001, 1, 1), date(2090, 12, 31)), st.dates(date(2001, 1, 1), date(2090, 12, 31)),
       st.integers(1, 240))
def test_a_record_is_due_from_its_date_plus_the_period(record_day, today, months):
    """The SQL condition (record date <= last_due_day) says the same as the rule in words."""
    assert (add_months(record_day, months) <= today) == (record_day <= last_due_day(today, months))


def test_month_ends_and_leap_days():
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 1, 15), -14) == date(2024, 11, 15)
    assert last_due_day(TODAY, MONTHS) == PERIOD_ENDS
    assert last_due_day(date(2025, 2, 28), 6) == date(2024, 8, 31)


@pytest.fixture
def dataset(db, people):
    """Records on each side of every boundary, one of each kind of personal detail."""
    with db.session() as s:
        pat, cora = s.get(User, people.police_member.id), s.get(User, people.council_member.id)

        def incident(day, **changes):
            item = add_incident(s, pat, Marking.GREEN, day=day, title=changes.pop("title", f"Report of {day}"))
            for name, value in changes.items():
                setattr(item, name, value)
            s.flush()
            return item.id

        ids = {
            "old": incident(date(2023, 5, 10), description="Named a neighbour", latitude=52.48, longitude=-1.89,
                            location_precision="exact"),
            "period_ends_today": incident(PERIOD_ENDS),
            "period_ends_tomorrow": incident(PERIOD_ENDS + timedelta(days=1)),
            "kept_until_today": incident(date(2020, 1, 1), retain_until=TODAY),
            "kept_until_tomorrow": incident(date(2020, 1, 2), retain_until=TODAY + timedelta(days=1)),
            "recent_but_kept_until_past": incident(date(2026, 1, 1), retain_until=date(2026, 11, 1)),
            "redacted": incident(date(2021, 3, 3), redacted_at=utcnow()),
            "deleted": incident(date(2022, 6, 6), deleted_at=utcnow(), deleted_by_id=pat.id),
            "coventry": incident(date(2022, 7, 7), area_code=COVENTRY),
        }
        red = add_incident(s, pat, Marking.RED, day=date(2022, 8, 8), recipients=[pat],
                           title="Named informant's report")
        ids["red"] = red.id
        cora_own = add_incident(s, cora, Marking.GREEN, day=date(2022, 9, 9), title="Council's own report")
        ids["council"] = cora_own.id
        old_assessment = ta.create_assessment(s, viewer(s, pat), assessment_form())
        new_assessment = ta.create_assessment(s, viewer(s, pat), assessment_form(assessed_on="2026-06-01",
                                                                               review_on="2026-07-01"))
        ids["assessment_old"], ids["assessment_new"] = old_assessment.id, new_assessment.id
    return ids


def test_the_queue_lists_exactly_the_due_records_oldest_first(db, people, dataset):
    ids = dataset
    due = due_keys(db, people)
    assert due == [
        f"incident:{ids['kept_until_today']}",  # 2020, kept until today
        f"incident:{ids['deleted']}",  # 2022-06-06, deleted but still holding its details
        f"incident:{ids['coventry']}",
        f"incident:{ids['red']}",
        f"incident:{ids['council']}",
        f"incident:{ids['old']}",  # 2023-05-10
        f"tension_assessment:{ids['assessment_old']}",  # 2024-01-05
        f"incident:{ids['period_ends_today']}",  # 2024-11-24: 24 months end today
        f"incident:{ids['recent_but_kept_until_past']}",  # 2026, but kept only until 1 Nov 2026
    ]
    # Tomorrow, the record whose period ends tomorrow and the one kept until tomorrow come in.
    tomorrow = due_keys(db, people, today=TODAY + timedelta(days=1))
    assert set(tomorrow) - set(due) == {f"incident:{ids['period_ends_tomorrow']}",
                                        f"incident:{ids['kept_until_tomorrow']}"}
    with db.session() as s:
        admin = viewer(s, people.council_admin)
        assert retention.count_due(s, admin, today=TODAY, months=MONTHS) == len(due)
        rows = {r.key: r for r in retention.queue(s, admin, today=TODAY, months=MONTHS).records}
    old = rows[f"incident:{ids['old']}"]
    assert old.filled == ("title", "description", "exact location") and old.area_name == "Birmingham"
    assert old.review_due == date(2025, 5, 10) and old.organisation == "Test Police"
    assert rows[f"incident:{ids['period_ends_today']}"].filled == ("title",)
    assert rows[f"incident:{ids['kept_until_today']}"].review_due == TODAY
    assert rows[f"incident:{ids['deleted']}"].deleted
    # The administrator sees the TLP:RED record is due, but not its title.
    assert rows[f"incident:{ids['red']}"].title is None and rows[f"incident:{ids['red']}"].marking == "TLP:RED"
    assessment = rows[f"tension_assessment:{ids['assessment_old']}"]
    assert assessment.filled == ("rationale", "indicator descriptions")
    assert assessment.title == "Birmingham: tension level 3 - Elevated"


def test_the_queue_filters_by_kind_district_and_organisation(db, people, dataset):
    ids = dataset
    assert due_keys(db, people, QueueFilters(kind="tension_assessment")) == [
        f"tension_assessment:{ids['assessment_old']}"]
    assert len(due_keys(db, people, QueueFilters(kind="incident"))) == 8
    assert due_keys(db, people, QueueFilters(area=COVENTRY)) == [f"incident:{ids['coventry']}"]
    assert due_keys(db, people, QueueFilters(organisation=people.council.id)) == [f"incident:{ids['council']}"]
    assert due_keys(db, people, QueueFilters(kind="tension_assessment", area=COVENTRY)) == []
    with pytest.raises(ValueError):
        QueueFilters(kind="meeting")


def test_the_queue_pages_in_the_database_and_counts(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        for n in range(23):
            add_incident(s, pat, Marking.GREEN, day=date(2021, 1, 1) + timedelta(days=n * 3 % 40),
                         area=(BIRMINGHAM, COVENTRY, LEICESTER)[n % 3])
        for n in range(4):
            ta.create_assessment(s, viewer(s, pat), assessment_form(assessed_on=f"2021-01-{10 + n:02d}",
                                                                    review_on="2021-03-01"))
    whole = due_keys(db, people)
    assert len(whole) == 27
    with db.session() as s:
        admin = viewer(s, people.council_admin)
        pages = [retention.queue(s, admin, today=TODAY, months=MONTHS, page=n, page_size=6) for n in range(1, 6)]
        assert [p.total for p in pages] == [27] * 5 and [p.pages for p in pages] == [5] * 5
        assert [p.first for p in pages] == [1, 7, 13, 19, 25] and len(pages[-1].records) == 3
        assert [r.key for p in pages for r in p.records] == whole
        days = [r.day for p in pages for r in p.records]
        assert days == sorted(days)
        # past the end: the last page; before the start: the first
        assert retention.queue(s, admin, today=TODAY, months=MONTHS, page=99, page_size=6).page == 5
        assert retention.queue(s, admin, today=TODAY, months=MONTHS, page=0, page_size=6).page == 1
        assert retention.count_due(s, admin, QueueFilters(area=COVENTRY), today=TODAY, months=MONTHS) == 8
        coventry = retention.queue(s, admin, QueueFilters(area=COVENTRY), today=TODAY, months=MONTHS, page_size=5)
        assert coventry.total == 8 and coventry.pages == 2 and {r.area_code for r in coventry.records} == {COVENTRY}


# --- redaction ------------------------------------------------------------------------------------------


OLD_WORDS = ("Bloggs", "Elm", "neighbour", "Sparkbrook", "Greenway", "Kestrel")


def _history_text(session, record_type, record_id) -> str:
    return json.dumps([[c.changes, c.note] for c in session.scalars(
        select(RecordChange).where(RecordChange.record_type == record_type, RecordChange.record_id == record_id))])


def _found(session, dialect, words) -> list[int]:
    return list(session.scalars(select(Incident.id).where(search.matching(dialect, words))))


def test_redaction_removes_the_texts_from_the_record_its_history_and_the_text_index(db, people):
    with db.session() as s:
        pat = viewer(s, people.police_member)
        created = inc.create_incident(s, pat, incident_form())
        # An edit puts the old and new texts in the history.
        inc.update_incident(s, pat, created.id, created.version, incident_form(
            title="Leaflets naming Jo Bloggs and a neighbour", description="Elm Road again; the neighbour at 14.",
            latitude="52.49", longitude="-1.88"))
        assessment = ta.create_assessment(s, pat, assessment_form())
        ta.update_assessment(s, pat, assessment.id, assessment.version, assessment_form(
            rationale="The Sparkbrook committee named him again.",
            indicators=[("Leaflets at Greenway school", "evidenced"), ("Kestrel march", "potential")]))
        kept = add_incident(s, s.get(User, people.police_member.id), Marking.GREEN, day=date(2023, 1, 1),
                            title="Bloggs leaflets not yet reviewed")
        kept.retain_until = date(2027, 1, 1)
    with db.session() as s:
        before = s.get(Incident, created.id)
        version, strands, map_cell = before.version, [x.code for x in before.strands], before.map_cell
        assert map_cell is not None
        assert set(_found(s, db.dialect, "Bloggs")) == {created.id, kept.id}
        assert _found(s, db.dialect, "neighbour Elm") == [created.id]
        assert "Bloggs" in _history_text(s, "incident", created.id)
        assert "Sparkbrook" in _history_text(s, "tension_assessment", assessment.id)

    result = redact(db, people, [f"incident:{created.id}", f"tension_assessment:{assessment.id}"],
                    reason="Past the retention period; case closed")
    assert (result.incidents, result.assessments, result.count) == ((created.id,), (assessment.id,), 2)

    with db.session() as s:
        incident = s.get(Incident, created.id)
        assert incident.title == "Redacted: Literature and leaflets in Birmingham"
        assert incident.description == "" and incident.latitude is None and incident.longitude is None
        assert incident.location_precision == "area" and incident.map_cell is None
        assert incident.redacted_at is not None and incident.version == version + 1
        # What the figures count is kept.
        assert (incident.occurred_on, incident.area_code, incident.category_code, incident.severity,
                incident.marking, incident.source_org_id, [x.code for x in incident.strands]) == (
            date(2023, 5, 10), BIRMINGHAM, "literature", 2, "TLP:GREEN", people.police.id, strands)
        record = s.get(TensionAssessment, assessment.id)
        assert record.rationale == "" and record.redacted_at is not None and record.level == 3
        assert [(i.description, i.evidence_type) for i in s.scalars(
            select(TensionIndicator).where(TensionIndicator.assessment_id == assessment.id)
            .order_by(TensionIndicator.id))] == [("[redacted]", "evidenced"), ("[redacted]", "potential")]

        # The history keeps who changed what and when, but none of the old texts.
        for record_type, record_id in (("incident", created.id), ("tension_assessment", assessment.id)):
            kept_history = _history_text(s, record_type, record_id)
            assert not [w for w in OLD_WORDS if w in kept_history], kept_history
            assert "[redacted]" in kept_history
        entries = inc.incident_history(s, viewer(s, people.police_member), created.id)
        assert [e.action for e in entries] == ["created", "updated", "updated"]
        assert entries[-1].note == "Personal details redacted after review: Past the retention period; case closed"
        assert entries[-1].who == "Ada Admin"
        assert {c.field for c in entries[1].changes} >= {"Title", "Description", "Latitude", "Longitude"}

        # The text index no longer finds the old words (but the unreviewed record still matches).
        assert _found(s, db.dialect, "Bloggs") == [kept.id]
        assert _found(s, db.dialect, "neighbour") == [] and _found(s, db.dialect, "Elm") == []
        assert _found(s, db.dialect, "redacted literature") == [created.id]
        if db.dialect == "sqlite":
            # Not even in the index's older segments (merged after the redaction).
            left = s.execute(text("SELECT count(*) FROM incident_search_data WHERE instr(block, 'neighbour') > 0"))
            assert left.scalar() == 0

        # One audit event for the batch: the reason, the kinds and ids, and no content.
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "records redacted")).all()
        assert len(events) == 1
        event = events[0]
        assert event.reason == "Past the retention period; case closed" and event.user_id == people.council_admin.id
        assert event.detail == {"incidents": [created.id], "tension_assessments": [assessment.id], "count": 2}
        assert not [w for w in OLD_WORDS if w in json.dumps(event.detail)]
    # Redacted records leave the queue.
    assert f"incident:{created.id}" not in due_keys(db, people)


def _figures(db, people) -> dict:
    """Every figure a viewer sees that redaction could touch: counts by district, the overview,
    the trends, the national summary, and the rollup tables row for row."""
    out = {}
    with db.session() as s:
        period = RecordFilters(start=date(2020, 1, 1), end=date(2026, 11, 22))
        for user in (people.police_member, people.council_member, people.charity_chair, people.sci):
            who = viewer(s, user)
            out[user.email, "by_area"] = dict(incidents_by_area(s, who, period))
            if who.is_partner:
                view = overview.area_overview(s, who, period)
                out[user.email, "overview"] = [(a.code, a.incidents, a.previous, a.tension_level) for a in view.areas]
                trend = trends.trend(s, who, trends.TrendQuery(period, grain=trends.Grain.MONTH))
                out[user.email, "trend"] = [(x.key, x.counts) for x in trend.series]
        query = summaries.query_from_params({"quarters": "12", "to": "2026Q3"}, TODAY)
        out["summary"] = summaries.to_dict(summaries.build(s, viewer(s, people.sci), query))["tables"]
        for table in (IncidentMonthlyCount, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount):
            out[table.__tablename__] = sorted(tuple(r) for r in s.execute(select(table.__table__)).all())
        out["assessments"] = sorted(tuple(r) for r in s.execute(select(
            TensionAssessment.id, TensionAssessment.area_code, TensionAssessment.assessed_on, TensionAssessment.level,
            TensionAssessment.trend, TensionAssessment.confidence, TensionAssessment.marking)).all())
    return out


def test_every_figure_is_unchanged_by_redaction(db, people):
    with db.session() as s:
        users = [s.get(User, u.id) for u in (people.police_member, people.council_member, people.charity_chair)]
        markings = [Marking.GREEN, Marking.CLEAR, Marking.AMBER, Marking.AMBER_STRICT, Marking.RED]
        categories = ["literature", "stickers", "online", "demonstration"]
        for n in range(90):
            reporter = users[n % 3]
            item = add_incident(
                s, reporter, markings[n % 5], day=date(2022, 1, 3) + timedelta(days=n * 11),
                area=(BIRMINGHAM, COVENTRY, LEICESTER)[n % 3], category=categories[n % 4],
                recipients=[users[(n + 1) % 3]] if markings[n % 5] is Marking.RED else (),
                listed=[users[(n + 2) % 3].organisation] if markings[n % 5] is Marking.AMBER else (),
                title=f"Report {n} naming someone")
            item.description = f"Details {n}"
            if n % 2:
                item.latitude, item.longitude, item.location_precision = 52.4 + n / 1000, -1.9, "exact"
            if n % 7 == 0:
                item.deleted_at = utcnow()
        for n in range(6):
            ta.create_assessment(s, viewer(s, users[n % 3]), assessment_form(
                assessed_on=f"2023-0{n + 1}-10", review_on=f"2023-0{n + 2}-10", level=str(n % 5 + 1),
                area_code=(BIRMINGHAM, COVENTRY)[n % 2]))
    before = _figures(db, people)
    with db.session() as s:
        points_before = sum(c.incidents for c in overview.incident_points(
            s, viewer(s, people.police_member), RecordFilters(start=date(2020, 1, 1), end=TODAY))[0])
    due = due_keys(db, people)
    assert len(due) > 60
    for start in range(0, len(due), 40):  # in batches, as the page does
        redact(db, people, due[start:start + 40])
    assert due_keys(db, people) == []
    assert _figures(db, people) == before
    # The incident-locations map layer is the one thing that changes: no exact points are left.
    with db.session() as s:
        points = overview.incident_points(s, viewer(s, people.police_member),
                                          RecordFilters(start=date(2020, 1, 1), end=TODAY))[0]
        assert points_before > 0 and points == []


# --- keeping for longer -----------------------------------------------------------------------------------


def test_keeping_for_longer_takes_records_out_of_the_queue_until_their_day(db, people, dataset):
    ids = dataset
    keys = [f"incident:{ids['old']}", f"tension_assessment:{ids['assessment_old']}"]
    with db.session() as s:
        versions = (s.get(Incident, ids["old"]).version, s.get(TensionAssessment, ids["assessment_old"]).version)
        result = retention.keep(s, viewer(s, people.council_admin), keys, "12", "Needed for the trial in spring",
                                today=TODAY, months=MONTHS)
    assert result.retain_until == date(2027, 11, 24) and result.count == 2
    assert not set(keys) & set(due_keys(db, people))
    assert not set(keys) & set(due_keys(db, people, today=date(2027, 11, 23)))
    assert set(keys) <= set(due_keys(db, people, today=date(2027, 11, 24)))
    with db.session() as s:
        incident = s.get(Incident, ids["old"])
        assert incident.retain_until == date(2027, 11, 24) and incident.description == "Named a neighbour"
        # A review date is not an edit: the version stays, so nobody editing it meets a conflict.
        assert (incident.version, s.get(TensionAssessment, ids["assessment_old"]).version) == versions
        last = inc.incident_history(s, viewer(s, people.police_member), ids["old"])[-1]
        assert last.note == "Personal details kept after review until 24 Nov 2027: Needed for the trial in spring"
        assert [(c.field, c.before, c.after) for c in last.changes] == [
            ("Personal details reviewed again on", "10 May 2025", "24 Nov 2027")]
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "records kept"))
        assert event.reason == "Needed for the trial in spring"
        assert event.detail == {"incidents": [ids["old"]], "tension_assessments": [ids["assessment_old"]],
                                "count": 2, "months": 12, "retain_until": "2027-11-24"}
    # 24 months, from the day it is kept again
    with db.session() as s:
        retention.keep(s, viewer(s, people.council_admin), [keys[0]], 24, "Still needed",
                       today=date(2027, 11, 24), months=MONTHS)
        assert s.get(Incident, ids["old"]).retain_until == date(2029, 11, 24)


# --- refusals -------------------------------------------------------------------------------------------


def _snapshot(db) -> tuple:
    with db.session() as s:
        return (
            sorted(tuple(r) for r in s.execute(select(
                Incident.id, Incident.title, Incident.description, Incident.latitude, Incident.version,
                Incident.retain_until, Incident.redacted_at)).all()),
            sorted(tuple(r) for r in s.execute(select(
                TensionAssessment.id, TensionAssessment.rationale, TensionAssessment.version,
                TensionAssessment.retain_until, TensionAssessment.redacted_at)).all()),
            s.scalar(select(func.count()).select_from(RecordChange)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )


def test_only_admins_of_active_organisations_may_review(db, people, dataset):
    ids = dataset
    before = _snapshot(db)
    with db.session() as s:
        for user in (people.police_member, people.charity_chair, people.sci):
            who = viewer(s, user)
            assert not retention.may_review(who)
            for call in (
                lambda w: retention.queue(s, w, today=TODAY, months=MONTHS),
                lambda w: retention.count_due(s, w, today=TODAY, months=MONTHS),
                lambda w: retention.filter_choices(s, w),
                lambda w: retention.redact(s, w, [f"incident:{ids['old']}"], "Because", today=TODAY, months=MONTHS),
                lambda w: retention.keep(s, w, [f"incident:{ids['old']}"], 12, "Because", today=TODAY,
                                         months=MONTHS),
            ):
                with pytest.raises(PermissionError):
                    call(who)
        s.get(User, people.council_admin.id).organisation.membership_status = MembershipStatus.LEFT
        s.flush()
        with pytest.raises(PermissionError):
            retention.redact(s, viewer(s, people.council_admin), [f"incident:{ids['old']}"], "Because",
                             today=TODAY, months=MONTHS)
        s.rollback()
    assert _snapshot(db) == before


@pytest.mark.parametrize(
    "keys, reason, field, words",
    [
        (["old"], "   ", "reason", "Reason: say why"),
        (["old"], "x" * 1001, "reason", "1,000 characters or fewer"),
        ([], "Past the period", "records", "choose at least one record"),
        (["old", "incident:999999"], "Past the period", "records", "there is no incident #999999"),
        (["old", "redacted"], "Past the period", "records", "was redacted already"),
        (["old", "period_ends_tomorrow"], "Past the period", "records", "is not due for review"),
        (["old", "tension_assessment:assessment_new"], "Past the period", "records", "is not due for review"),
        (["old", "meeting:3"], "Past the period", "records", "is not a record of the queue"),
        (["old", "incident:abc"], "Past the period", "records", "is not a record of the queue"),
    ],
)
def test_a_bad_request_is_refused_by_name_and_changes_nothing(db, people, dataset, keys, reason, field, words):
    ids = dataset

    def key(name: str) -> str:
        if ":" in name:
            kind, _, rest = name.partition(":")
            return f"{kind}:{ids.get(rest, rest)}"
        return f"incident:{ids[name]}"

    asked = [key(k) for k in keys]
    before = _snapshot(db)
    for act in ("redact", "keep"):
        with pytest.raises(RetentionError) as refused, db.session() as s:
            admin = viewer(s, people.council_admin)
            if act == "redact":
                retention.redact(s, admin, asked, reason, today=TODAY, months=MONTHS)
            else:
                retention.keep(s, admin, asked, 12, reason, today=TODAY, months=MONTHS)
        assert field in refused.value.errors and words in refused.value.errors[field]
        assert _snapshot(db) == before


def test_a_wrong_length_of_time_to_keep_is_refused_by_name(db, people, dataset):
    before = _snapshot(db)
    for months in ("6", "", None, "twelve"):
        with pytest.raises(RetentionError) as refused, db.session() as s:
            retention.keep(s, viewer(s, people.council_admin), [f"incident:{dataset['old']}"], months, "",
                           today=TODAY, months=MONTHS)
        # every wrong field at once: the length of time and the missing reason
        assert set(refused.value.errors) == {"months", "reason"}
        assert "12 months or 24 months" in refused.value.errors["months"]
    assert _snapshot(db) == before


def test_a_record_changed_meanwhile_stops_the_whole_batch(db, people, dataset):
    """Someone saves one record of the batch after the admin's checks: nothing is redacted."""
    ids = dataset
    before_old = _snapshot(db)
    def bump(session, _context, _instances):
        if not session.info.get("bumped"):
            session.info["bumped"] = True
            with db.engine.begin() as other:
                other.execute(update(Incident).where(Incident.id == ids["coventry"])
                              .values(version=Incident.version + 1))

    with db.session() as s:
        event.listen(s, "before_flush", bump)
        with pytest.raises(RetentionError) as refused:
            retention.redact(s, viewer(s, people.council_admin),
                             [f"incident:{ids['old']}", f"incident:{ids['coventry']}"], "Past the period",
                             today=TODAY, months=MONTHS)
    assert "someone changed one of them" in refused.value.errors["records"]
    after = _snapshot(db)
    # Only the other writer's version bump landed; no redaction, history or audit entry.
    assert after[2:] == before_old[2:]
    assert [r for r in after[0] if r[0] != ids["coventry"]] == [r for r in before_old[0] if r[0] != ids["coventry"]]
