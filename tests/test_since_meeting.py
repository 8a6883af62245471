"""Since the last meeting: rises, new hotspots, tension changes and upcoming triggers, counted
for the viewer (both backends)."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard.access import Viewer
from dashboard.models import Meeting, TensionAssessment, TriggerEvent, User
from dashboard.reference import Marking
from dashboard.since_meeting import FALLBACK_DAYS, since_last_meeting
from tests.conftest import add_incident

TODAY = date(2026, 11, 24)
MEETING = date(2026, 10, 15)  # 40 days since: 16 Oct to 24 Nov; before: 6 Sep to 15 Oct
BIRMINGHAM, COVENTRY, RUTLAND = "E08000025", "E08000026", "E06000017"


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def _dataset(db, people):
    with db.session() as s:
        cora = s.get(User, people.council_member.id)
        pat = s.get(User, people.police_member.id)
        s.add(Meeting(held_on=MEETING, title="Autumn quarterly meeting"))
        s.add(Meeting(held_on=date(2026, 7, 10), title="Summer quarterly meeting"))
        for i in range(6):  # Birmingham: 6 since, 2 before
            add_incident(s, cora, Marking.GREEN, day=date(2026, 10, 20) + timedelta(days=i), area=BIRMINGHAM)
        for day in (date(2026, 9, 10), date(2026, 9, 20)):
            add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM)
        for i in range(5):  # Rutland (small population): a new hotspot
            add_incident(s, cora, Marking.GREEN, day=date(2026, 11, 1) + timedelta(days=i), area=RUTLAND)
        for i in range(9):  # Coventry: the police's own restricted reports, a rise only they see
            add_incident(s, pat, Marking.AMBER_STRICT, day=date(2026, 11, 2) + timedelta(days=i), area=COVENTRY)
        for day, level, area, who, marking in (
            (date(2026, 10, 1), 2, BIRMINGHAM, cora, Marking.GREEN),
            (date(2026, 11, 10), 4, BIRMINGHAM, cora, Marking.GREEN),
            (date(2026, 11, 12), 3, RUTLAND, cora, Marking.GREEN),
            (date(2026, 11, 12), 5, COVENTRY, pat, Marking.AMBER_STRICT),
        ):
            s.add(TensionAssessment(area_code=area, assessed_on=day, level=level, marking=marking.value,
                                    source_org_id=who.organisation_id, reporter_id=who.id))
        s.add(TriggerEvent(kind="rally or march", title="Planned rally", starts_on=date(2026, 12, 5),
                           ends_on=date(2026, 12, 5), region_wide=True, created_by_id=cora.id))
        s.add(TriggerEvent(kind="anniversary", title="Long past", starts_on=date(2026, 9, 1),
                           ends_on=date(2026, 9, 1), region_wide=True, created_by_id=cora.id))


def test_since001_council_member_view(db, people):
    _dataset(db, people)
    with db.session() as s:
        result = since_last_meeting(s, viewer_of(db, people.council_member), TODAY)
    assert (result.meeting_on, result.meeting_title) == (MEETING, "Autumn quarterly meeting")
    assert (result.start, result.end, result.days) == (date(2026, 10, 16), TODAY, 40)
    assert (result.before_start, result.before_end) == (date(2026, 9, 6), date(2026, 10, 15))
    assert (result.total, result.before_total) == (11, 2)
    assert [(r.name, r.now, r.before, r.change) for r in result.rises] == [
        ("Rutland", 5, 0, 5), ("Birmingham", 6, 2, 4)
    ]
    assert [h.name for h in result.new_hotspots] == ["Rutland", "Birmingham"]
    changes = {t.name: (t.before, t.now) for t in result.tension_changes}
    assert changes == {"Birmingham": (2, 4), "Rutland": (None, 3)}  # Coventry's is police-only
    assert [e.title for e in result.upcoming] == ["Planned rally"]


def test_since002_the_police_see_their_own_restricted_rise(db, people):
    _dataset(db, people)
    with db.session() as s:
        result = since_last_meeting(s, viewer_of(db, people.police_member), TODAY)
    assert result.rises[0].name == "Coventry" and result.rises[0].now == 9
    assert {t.name: t.now for t in result.tension_changes}["Coventry"] == 5


def test_since003_without_a_meeting_the_last_twelve_weeks(db, people):
    with db.session() as s:
        result = since_last_meeting(s, viewer_of(db, people.council_member), TODAY)
    assert result.meeting_on is None
    assert result.days == FALLBACK_DAYS and result.end == TODAY
    assert result.rises == [] and result.tension_changes == []
