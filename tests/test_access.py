"""The access gate: who sees which record, on SQLite and PostgreSQL (DOMAIN.md TLP table)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func

from dashboard.access import Purpose, RecordFilters, Viewer, get_visible, visible
from dashboard.models import (
    Incident,
    Meeting,
    Strand,
    TensionAssessment,
    User,
    utcnow,
)
from dashboard.queries import incidents_by_marking
from dashboard.reference import Marking, UserStatus
from tests.conftest import add_incident


@pytest.fixture
def records(db, people):
    """One incident of each kind, all reported by Pat (police) unless said otherwise."""
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        chris = s.get(User, people.charity_chair.id)
        council = cora.organisation
        made = {
            "clear": add_incident(s, pat, Marking.CLEAR),
            "green": add_incident(s, pat, Marking.GREEN),
            "amber": add_incident(s, pat, Marking.AMBER, listed=[council]),
            "amber_strict": add_incident(s, pat, Marking.AMBER_STRICT),
            "red": add_incident(s, pat, Marking.RED, recipients=[chris]),
            "red_by_council": add_incident(s, cora, Marking.RED),
            "deleted": add_incident(s, pat, Marking.GREEN),
        }
        made["deleted"].deleted_at = utcnow()
        return {name: incident.id for name, incident in made.items()}


def seen(db, viewer: Viewer, records, purpose=Purpose.RECORDS, filters=None) -> set[str]:
    by_id = {v: k for k, v in records.items()}
    with db.session() as s:
        ids = s.scalars(visible(viewer, Incident, filters, purpose).with_only_columns(Incident.id))
        return {by_id[i] for i in ids}


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


EXPECTED = {
    # reporter of everything from the police: all but the council's RED
    "police_member": {"clear", "green", "amber", "amber_strict", "red"},
    # same organisation, not the reporter or a named recipient: no RED
    "police_member2": {"clear", "green", "amber", "amber_strict"},
    # listed on the AMBER record, reporter of its own RED; not the police's AMBER+STRICT
    "council_member": {"clear", "green", "amber", "red_by_council"},
    # named recipient of the police RED; not listed on the AMBER; another org's AMBER+STRICT
    "charity_chair": {"clear", "green", "red"},
    # an admin gets no extra record access by role: as a council member who reported nothing
    "council_admin": {"clear", "green", "amber"},
    # SCI never gets records
    "sci": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_viewer_sees_exactly_what_the_markings_allow(db, people, records, who):
    viewer = viewer_of(db, getattr(people, who))
    assert seen(db, viewer, records) == EXPECTED[who]


def test_sci_aggregates_count_only_green_and_clear(db, people, records):
    viewer = viewer_of(db, people.sci)
    assert seen(db, viewer, records, Purpose.AGGREGATE) == {"clear", "green"}
    with db.session() as s:
        counts = {c.marking: c.incidents for c in incidents_by_marking(s, viewer, RecordFilters())}
    assert counts == {
        Marking.RED: 0, Marking.AMBER_STRICT: 0, Marking.AMBER: 0, Marking.GREEN: 1, Marking.CLEAR: 1,
    }


def test_counts_per_viewer_include_only_what_each_may_see(db, people, records):
    with db.session() as s:
        chair = incidents_by_marking(s, viewer_of(db, people.charity_chair), RecordFilters())
        pat = incidents_by_marking(s, viewer_of(db, people.police_member), RecordFilters())
    assert {c.marking: c.incidents for c in chair}[Marking.AMBER] == 0
    assert {c.marking: c.incidents for c in chair}[Marking.RED] == 1
    assert sum(c.incidents for c in pat) == 5  # the soft-deleted record never counts


def test_disabled_user_and_departed_organisation(db, people, records):
    viewer = viewer_of(db, people.police_member)
    assert seen(db, replace(viewer, active=False), records) == set()
    assert seen(db, replace(viewer, organisation_active=False), records) == {"clear"}
    with db.session() as s:
        s.get(User, people.council_member.id).status = UserStatus.DISABLED
    assert seen(db, viewer_of(db, people.council_member), records) == set()


def test_unknown_role_sees_nothing(db, people, records):
    viewer = replace(viewer_of(db, people.police_member), role="guest")
    assert seen(db, viewer, records) == set()
    assert seen(db, viewer, records, Purpose.AGGREGATE) == set()


def test_soft_deleted_records_only_for_admins_who_ask(db, people, records):
    admin = viewer_of(db, people.council_admin)
    member = viewer_of(db, people.police_member)
    include = RecordFilters(include_deleted=True)
    assert "deleted" in seen(db, admin, records, filters=include)
    assert "deleted" not in seen(db, member, records, filters=include)


def test_filters_narrow_but_never_widen(db, people, records):
    chair = viewer_of(db, people.charity_chair)
    asked = RecordFilters(markings=(Marking.AMBER.value, Marking.AMBER_STRICT.value, Marking.RED.value))
    assert seen(db, chair, records, filters=asked) == {"red"}
    assert seen(db, chair, records, filters=RecordFilters(end=date(2026, 9, 30))) == set()
    assert seen(db, chair, records, filters=RecordFilters(areas=("E08000026",))) == set()
    assert seen(db, chair, records, filters=RecordFilters(organisations=(people.council.id,))) == set()


def test_strand_and_category_filters(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        race = add_incident(s, pat, Marking.GREEN, category="hc-abuse")
        race.strands = [s.get(Strand, "race"), s.get(Strand, "religion")]
        add_incident(s, pat, Marking.GREEN, category="literature")
        race_id = race.id
    viewer = viewer_of(db, people.council_member)
    with db.session() as s:
        by_strand = s.scalars(
            visible(viewer, Incident, RecordFilters(strands=("religion",))).with_only_columns(Incident.id)
        ).all()
        by_category = s.scalar(
            visible(viewer, Incident, RecordFilters(categories=("literature",)), Purpose.AGGREGATE)
            .with_only_columns(func.count())
        )
    assert by_strand == [race_id]
    assert by_category == 1


def test_get_visible_does_not_reveal_hidden_records(db, people, records):
    chair = viewer_of(db, people.charity_chair)
    with db.session() as s:
        assert get_visible(s, chair, Incident, records["red"]).id == records["red"]
        assert get_visible(s, chair, Incident, records["amber_strict"]) is None
        assert get_visible(s, chair, Incident, 999_999) is None


def test_tension_assessments_follow_the_same_rules(db, people):
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        for marking in (Marking.GREEN, Marking.AMBER_STRICT):
            s.add(
                TensionAssessment(
                    area_code="E08000025", assessed_on=date(2026, 10, 1), level=3,
                    source_org_id=pat.organisation_id, reporter_id=pat.id, marking=marking.value,
                )
            )
    for who, expected in (("police_member2", 2), ("council_member", 1), ("sci", 0)):
        viewer = viewer_of(db, getattr(people, who))
        with db.session() as s:
            count = s.scalar(visible(viewer, TensionAssessment).with_only_columns(func.count()))
        assert count == expected, who


def test_unmarked_working_records_are_for_partners_only(db, people):
    with db.session() as s:
        s.add(Meeting(held_on=date(2026, 9, 1), title="Quarterly meeting"))
    for who, expected in (("charity_chair", 1), ("police_member", 1), ("sci", 0)):
        viewer = viewer_of(db, getattr(people, who))
        with db.session() as s:
            assert s.scalar(visible(viewer, Meeting).with_only_columns(func.count())) == expected, who


def test_unknown_record_type_is_denied(db, people):
    viewer = viewer_of(db, people.police_member)
    with db.session() as s:
        assert s.scalar(visible(viewer, User).with_only_columns(func.count())) == 0


def test_filters_reject_nonsense():
    with pytest.raises(ValueError, match="start date"):
        RecordFilters(start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(ValueError, match="Unknown marking"):
        RecordFilters(markings=("TLP:PURPLE",))
