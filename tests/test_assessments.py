"""Tension assessments: validation messages, indicators, who may edit, version conflicts,
history, soft delete and restore, the list, and that the national team can neither write nor read them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import assessments as ta
from dashboard import incidents as inc
from dashboard.access import Viewer
from dashboard.models import TensionAssessment, TensionIndicator, User
from tests.conftest import make_people

BIRMINGHAM, COVENTRY = "E08000025", "E08000026"


def viewer(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def form(**changes) -> ta.AssessmentForm:
    values = {
        "area_code": BIRMINGHAM,
        "assessed_on": "2026-10-05",
        "level": "3",
        "trend": "rising",
        "confidence": "medium",
        "rationale": "Leafleting before the by-election and a planned march.",
        "indicators": [("Leaflets in two wards", "evidenced"), ("March planned for 14 Nov", "potential")],
        "review_on": "2026-11-05",
        "marking": "TLP:GREEN",
    }
    return ta.AssessmentForm(**(values | changes))


def create(db, user, **changes) -> ta.AssessmentView:
    with db.session() as s:
        return ta.create_assessment(s, viewer(s, user), form(**changes))


def test_ta001_a_member_records_an_assessment_with_its_indicators_and_history(db, people):
    view = create(db, people.police_member, indicators=[("Leaflets in two wards", "evidenced"), ("", ""),
                                                        ("March planned for 14 Nov", "potential")])
    assert (view.level, view.level_label, view.field_text("level")) == (3, "Elevated", "3 - Elevated")
    assert view.indicators == (("Leaflets in two wards", "evidenced"), ("March planned for 14 Nov", "potential"))
    assert view.field_text("indicators") == "Evidenced: Leaflets in two wards; Potential: March planned for 14 Nov"
    assert view.trend_label == "Rising" and view.field_text("review_on") == "5 Nov 2026"
    with db.session() as s:
        [entry] = ta.assessment_history(s, viewer(s, people.council_member), view.id)
        assert entry.summary == "Created by Pat Police (Test Police)"
        rows, more = ta.list_assessments(s, viewer(s, people.council_member))
        assert [(r.id, r.level_label, r.trend, r.organisation, r.marking) for r in rows] == [
            (view.id, "Elevated", "Rising", "Test Police", "TLP:GREEN")] and not more


def test_ta002_every_wrong_field_is_named_in_form_order(db, people):
    with db.session() as s:
        with pytest.raises(ta.AssessmentValidationError) as caught:
            ta.create_assessment(s, viewer(s, people.police_member), form(
                area_code="", assessed_on=(date.today() + timedelta(days=1)).isoformat(), level="6", trend="up",
                confidence="", rationale="  ", indicators=[("Graffiti", ""), ("", "potential"), ("x" * 1001, "evidenced")],
                review_on="not a date", marking="TLP:RED"))
        assert s.scalar(select(func.count()).select_from(TensionAssessment)) == 0
    errors = caught.value.errors
    assert list(errors) == list(ta.FIELD_LABELS)[:8] + ["recipients"]
    assert errors["area_code"] == "Choose the district the assessment is for."
    assert "cannot be in the future" in errors["assessed_on"]
    assert errors["level"] == "Choose a tension level from 1 (low) to 5 (critical)."
    assert errors["trend"] == "Choose whether tension is rising, stable or falling."
    assert errors["rationale"].startswith("Enter the rationale")
    assert errors["indicators"] == (
        "Indicator 1: choose its evidence type (evidenced, experienced or potential). "
        "Indicator 2: describe it, or clear its evidence type. "
        "Indicator 3: the description must be 1,000 characters or fewer (it has 1,001).")
    assert errors["review_on"] == "The review date must be a real date, for example 2026-12-01."
    assert errors["recipients"] == inc.RED_NEEDS_RECIPIENTS


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"assessed_on": ""}, "assessed_on", "Enter the date of the assessment, for example 2026-11-03."),
        ({"review_on": "2026-10-01"}, "review_on", "same as or after the date of the assessment"),
        ({"indicators": [("Sign", "evidenced")] * 11}, "indicators", "at most 10 indicators (there are 11)"),
        ({"rationale": "x" * 10_001}, "rationale", "10,000 characters or fewer"),
        ({"area_code": "E99999999"}, "area_code", "from the list"),
    ],
)
def test_ta003_each_rule_names_its_field(sqlite_db, password_hash, changes, field, words):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        with pytest.raises(ta.AssessmentValidationError) as caught:
            ta.create_assessment(s, viewer(s, people.police_member), form(**changes))
    assert list(caught.value.errors) == [field]
    assert words in caught.value.errors[field]


def test_ta004_editing_replaces_indicators_and_moves_the_version_on_by_one(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        changed = ta.update_assessment(s, viewer(s, people.police_member2), view.id, view.version,
                                       form(indicators=[("Graffiti on the mosque wall", "evidenced")]))
    assert changed.version == view.version + 1
    assert changed.indicators == (("Graffiti on the mosque wall", "evidenced"),)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TensionIndicator)) == 1  # old rows gone
        entries = ta.assessment_history(s, viewer(s, people.police_member), view.id)
    [change] = entries[-1].changes
    assert change.field == "Indicators" and change.after == "Evidenced: Graffiti on the mosque wall"
    assert entries[-1].summary == "Updated by Paul Police (Test Police)"


def test_ta005_other_organisations_may_not_edit_and_chairs_may_not_change_the_marking(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        with pytest.raises(ta.AssessmentPermissionError):
            ta.update_assessment(s, viewer(s, people.council_member), view.id, view.version, form(level="4"))
        chair = viewer(s, people.charity_chair)
        with pytest.raises(ta.AssessmentValidationError) as caught:
            ta.update_assessment(s, chair, view.id, view.version,
                                 form(marking="TLP:AMBER", listed_organisations=[people.charity.id]))
        assert caught.value.errors == {"marking": inc.MARKING_MESSAGE, "listed_organisations": inc.MARKING_MESSAGE}
        fixed = ta.update_assessment(s, chair, view.id, view.version, form(level="4"))
    assert fixed.level == 4 and fixed.marking == "TLP:GREEN" and fixed.source_org_name == "Test Police"


def test_ta006_a_stale_save_shows_both_versions_and_a_second_save_succeeds(db, people):
    view = create(db, people.police_member)
    with db.session() as s:
        ta.update_assessment(s, viewer(s, people.police_member2), view.id, view.version, form(level="4"))
    with db.session() as s, pytest.raises(ta.AssessmentConflictError) as caught:
        ta.update_assessment(s, viewer(s, people.police_member), view.id, view.version, form(level="2"))
    conflict = caught.value
    rows = {r.field: r for r in conflict.rows}
    assert (rows["level"].yours, rows["level"].theirs, rows["level"].differs) == ("2 - Moderate", "4 - High", True)
    assert not rows["rationale"].differs and conflict.changed_by == "Paul Police (Test Police)"
    with db.session() as s:
        assert s.get(TensionAssessment, view.id).level == 4
        saved = ta.update_assessment(s, viewer(s, people.police_member), view.id, conflict.current.version,
                                     form(level="2"))
    assert saved.level == 2 and saved.version == 3


def test_ta007_delete_hides_admin_restores_and_history_shows_both(db, people):
    view = create(db, people.police_member)
    strict = create(db, people.police_member, marking="TLP:AMBER+STRICT", area_code=COVENTRY)
    with db.session() as s:
        pat = viewer(s, people.police_member)
        assert ta.delete_assessment(s, pat, view.id, view.version, reason="Wrong district") == "Birmingham, 5 Oct 2026"
        ta.delete_assessment(s, pat, strict.id, strict.version)
    with db.session() as s:
        cora, admin = viewer(s, people.council_member), viewer(s, people.council_admin)
        assert ta.get_assessment(s, cora, view.id) is None and ta.list_assessments(s, cora) == ([], False)
        with pytest.raises(ta.AssessmentPermissionError):
            ta.restore_assessment(s, cora, view.id)
        listed = {r.id: r for r in inc.deleted_records(s, admin) if r.record_type == "tension_assessment"}
        assert listed[view.id].title == "Birmingham: tension level 3 - Elevated"
        assert listed[strict.id].title is None and listed[strict.id].marking == "TLP:AMBER+STRICT"
        ta.restore_assessment(s, admin, view.id)
    with db.session() as s:
        entries = ta.assessment_history(s, viewer(s, people.council_member), view.id)
        assert [(e.action, e.who, e.note) for e in entries] == [
            ("created", "Pat Police", ""), ("deleted", "Pat Police", "Wrong district"), ("restored", "Ada Admin", "")]


def test_ta008_the_national_team_cannot_record_or_read_assessments(db, people):
    view = create(db, people.police_member, marking="TLP:CLEAR")
    with db.session() as s:
        sci = viewer(s, people.sci)
        assert ta.get_assessment(s, sci, view.id) is None and ta.list_assessments(s, sci) == ([], False)
        assert ta.assessment_history(s, sci, view.id) == []
        with pytest.raises(ta.AssessmentPermissionError):
            ta.create_assessment(s, sci, form())
        with pytest.raises(ta.AssessmentPermissionError):
            ta.update_assessment(s, sci, view.id, view.version, form(level="5"))
        assert s.scalar(select(func.count()).select_from(TensionAssessment)) == 1
