"""Administration in the domain (both backends): organisations, users' role and organisation,
disabling, signing out everywhere and resetting a second factor; the self and last-admin rules;
admins only; everything audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard import admin, auth
from dashboard.access import Viewer
from dashboard.admin import AdminError, UserState
from dashboard.api_tokens import command_line_viewer
from dashboard.config import Settings
from dashboard.models import AuditEvent, Organisation, RecoveryCode, User, UserSession, utcnow
from dashboard.reference import MembershipStatus, Role, UserStatus

SETTINGS = Settings(database_url="sqlite://", secret_key="k" * 40, instance_dir=None)


def viewer_of(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def signed_in(db, user) -> str:
    with db.session() as s:
        return auth.start_session(s, s.get(User, user.id), ip_address="192.0.2.5",
                                  user_agent="Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/128.0")


def still_signed_in(db, token) -> bool:
    with db.session() as s:
        return auth.resolve_session(s, SETTINGS, token).user is not None


def events(db, action):
    with db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- who may -------------------------------------------------------------------------------------


def test_only_admins_of_active_organisations_may_manage(db, people):
    with db.session() as s:
        for user in (people.police_member, people.charity_chair, people.sci):
            viewer = viewer_of(s, user)
            assert not admin.may_manage(viewer)
            for attempt in (
                lambda v: admin.list_organisations(s, v),
                lambda v: admin.list_users(s, v),
                lambda v: admin.add_organisation(s, v, "Mine", "", "faith", "active"),
                lambda v: admin.disable(s, v, people.police_member2.id),
                lambda v: admin.sign_out_everywhere(s, v, people.police_member2.id),
                lambda v: admin.reset_second_factor(s, v, people.police_member2.id),
            ):
                with pytest.raises(PermissionError):
                    attempt(viewer)
        assert admin.may_manage(viewer_of(s, people.council_admin))
        s.get(Organisation, people.council.id).membership_status = MembershipStatus.SUSPENDED
        s.flush()
        assert not admin.may_manage(viewer_of(s, people.council_admin))


# --- organisations -------------------------------------------------------------------------------


def test_the_list_counts_each_organisations_active_users(db, people):
    with db.session() as s:
        s.get(User, people.police_member2.id).status = UserStatus.DISABLED
        orgs = {o.name: o for o in admin.list_organisations(s, viewer_of(s, people.council_admin))}
    assert list(orgs) == sorted(orgs, key=str.lower)
    assert (orgs["Test Police"].active_users, orgs["Test Police"].users) == (1, 2)
    assert orgs["Test Refugee Charity"].sector_label == "Voluntary and community"
    assert orgs["Test Council"].membership_label == "Active member"


def test_an_organisation_is_added_and_audited(db, people):
    with db.session() as s:
        view = admin.add_organisation(s, viewer_of(s, people.council_admin), "  Midlands  Faith Forum ", "MFF",
                                      "faith", "active", "192.0.2.1")
    assert (view.name, view.short_name, view.sector, view.active_users) == ("Midlands Faith Forum", "MFF", "faith", 0)
    (event,) = events(db, "organisation added")
    assert event.user_id == people.council_admin.id and event.record_id == str(view.id)
    assert event.detail["after"]["name"] == "Midlands Faith Forum" and event.ip_address == "192.0.2.1"


@pytest.mark.parametrize(
    ("name", "short", "sector", "status", "field"),
    [
        ("   ", "", "faith", "active", "name"),
        ("test POLICE", "", "faith", "active", "name"),  # a duplicate, whatever its case
        ("x" * 161, "", "faith", "active", "name"),
        ("New Org", "x" * 41, "faith", "active", "short_name"),
        ("New Org", "", "church", "active", "sector"),
        ("New Org", "", "faith", "dormant", "membership_status"),
    ],
)
def test_a_wrong_organisation_names_the_field_and_adds_nothing(db, people, name, short, sector, status, field):
    with db.session() as s:
        before = s.scalar(select(func.count(Organisation.id)))
        with pytest.raises(AdminError) as refused:
            admin.add_organisation(s, viewer_of(s, people.council_admin), name, short, sector, status)
        assert refused.value.field == field and refused.value.message
    with db.session() as s:
        assert s.scalar(select(func.count(Organisation.id))) == before
        assert events(db, "organisation added") == []


def test_a_duplicate_name_is_refused_when_renaming(db, people):
    with db.session() as s:
        viewer = viewer_of(s, people.council_admin)
        opened = admin.get_organisation(s, viewer, people.police.id).form_values()
        with pytest.raises(AdminError, match="already an organisation called") as refused:
            admin.change_organisation(s, viewer, people.police.id, opened, "Test Council", "", "statutory", "active")
        assert refused.value.field == "name"


def test_a_change_made_since_the_form_was_opened_stops_the_save(db, people):
    with db.session() as s:
        opened = admin.get_organisation(s, viewer_of(s, people.council_admin), people.charity.id).form_values()
        s.get(Organisation, people.charity.id).short_name = "TRC"  # someone else's change
    with db.session() as s:
        with pytest.raises(AdminError, match="changed Test Refugee Charity since you opened it") as refused:
            admin.change_organisation(s, viewer_of(s, people.council_admin), people.charity.id, opened,
                                      "Test Refugee Charity", "", "faith", "active")
        assert refused.value.field == "record"
    with db.session() as s:
        assert s.get(Organisation, people.charity.id).sector == "voluntary and community"


def test_suspending_an_organisation_signs_its_users_out_at_once_and_is_audited(db, people):
    police_token = signed_in(db, people.police_member)
    council_token = signed_in(db, people.council_member)
    with db.session() as s:
        viewer = viewer_of(s, people.council_admin)
        opened = admin.get_organisation(s, viewer, people.police.id).form_values()
        change = admin.change_organisation(s, viewer, people.police.id, opened, "Test Police", "TP", "statutory",
                                           "suspended", "192.0.2.1")
    assert change.sessions_ended == 1 and change.organisation.membership_label == "Suspended"
    with db.session() as s:
        row = s.scalar(select(UserSession).where(UserSession.user_id == people.police_member.id))
        assert row.ended_at is not None and row.end_reason == "organisation not active"
    assert not still_signed_in(db, police_token)
    assert still_signed_in(db, council_token)
    (event,) = events(db, "organisation changed")
    assert event.detail == {"before": {"short_name": None, "membership_status": "active"},
                            "after": {"short_name": "TP", "membership_status": "suspended"}, "sessions_ended": 1}
    with db.session() as s:  # suspended organisations are not offered for users
        ids = [i for i, _name in admin.organisation_choices(s, viewer_of(s, people.council_admin))]
        assert people.police.id not in ids and people.council.id in ids


def test_an_admin_cannot_suspend_their_own_organisation(db, people):
    with db.session() as s:
        viewer = viewer_of(s, people.council_admin)
        opened = admin.get_organisation(s, viewer, people.council.id).form_values()
        for status in ("suspended", "left"):
            with pytest.raises(AdminError, match="your own organisation") as refused:
                admin.change_organisation(s, viewer, people.council.id, opened, "Test Council", "", "statutory",
                                          status)
            assert refused.value.field == "membership_status"
    with db.session() as s:
        assert s.get(Organisation, people.council.id).membership_status == "active"


# --- users --------------------------------------------------------------------------------------


def test_users_are_listed_with_their_status_and_filtered(db, people):
    signed_in(db, people.police_member)
    with db.session() as s:
        s.get(User, people.police_member2.id).status = UserStatus.DISABLED
        s.get(User, people.sci.id).totp_enabled_at = utcnow()
        viewer = viewer_of(s, people.council_admin)
        every = {u.email: u for u in admin.list_users(s, viewer, SETTINGS)}
        assert every[people.police_member.email].open_sessions == 1
        assert every[people.police_member2.email].state_label == "Disabled"
        assert every[people.sci.email].second_factor_on and not every[people.council_member.email].second_factor_on
        police = admin.list_users(s, viewer, organisation_id=people.police.id)
        assert {u.name for u in police} == {"Pat Police", "Paul Police"}
        assert [u.name for u in admin.list_users(s, viewer, role=Role.CHAIR)] == ["Chris Chair"]
        assert [u.name for u in admin.list_users(s, viewer, state=UserState.DISABLED)] == ["Paul Police"]
        assert [u.name for u in admin.list_users(s, viewer, words="refugee")] == ["Chris Chair"]
        assert [u.name for u in admin.list_users(s, viewer, words="PAT police.example")] == ["Pat Police"]


def test_a_session_past_its_limits_is_not_counted_as_open(db, people):
    token = signed_in(db, people.police_member)
    with db.session() as s:
        row = s.scalar(select(UserSession))
        row.last_seen_at = utcnow() - timedelta(hours=1)
        assert admin.user_sessions(s, viewer_of(s, people.council_admin), people.police_member.id, SETTINGS) == []
    assert token


def test_sessions_show_when_where_and_which_browser(db, people):
    signed_in(db, people.police_member)
    with db.session() as s:
        (shown,) = admin.user_sessions(s, viewer_of(s, people.council_admin), people.police_member.id, SETTINGS)
    assert (shown.ip_address, shown.browser) == ("192.0.2.5", "Firefox on Windows")
    assert admin.browser_name(None) == "Not known"
    assert admin.browser_name("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 "
                              "Safari/605.1.15") == "Safari on macOS"


def test_changing_a_role_is_audited_with_before_and_after(db, people):
    with db.session() as s:
        view = admin.change_role(s, viewer_of(s, people.council_admin), people.police_member.id, Role.CHAIR,
                                 people.charity.id, opened={"role": "member", "organisation_id": people.police.id},
                                 ip_address="192.0.2.1")
    assert (view.role, view.organisation) == ("chair", "Test Refugee Charity")
    (event,) = events(db, "user role changed")
    assert event.record_id == str(people.police_member.id) and event.user_id == people.council_admin.id
    assert event.detail["before"] == {"role": "member", "organisation_id": people.police.id,
                                      "organisation": "Test Police"}
    assert event.detail["after"] == {"role": "chair", "organisation_id": people.charity.id,
                                     "organisation": "Test Refugee Charity"}


def test_a_role_change_refuses_own_role_inactive_organisations_and_stale_forms(db, people):
    with db.session() as s:
        s.get(Organisation, people.police.id).membership_status = MembershipStatus.LEFT
    with db.session() as s:
        viewer = viewer_of(s, people.council_admin)
        with pytest.raises(AdminError, match="your own role") as own:
            admin.change_role(s, viewer, people.council_admin.id, Role.MEMBER, people.council.id)
        assert own.value.field == "role"
        with pytest.raises(AdminError, match="active member organisation") as inactive:
            admin.change_role(s, viewer, people.council_member.id, Role.MEMBER, people.police.id)
        assert inactive.value.field == "organisation"
        with pytest.raises(AdminError, match="since you opened") as stale:
            admin.change_role(s, viewer, people.council_member.id, Role.CHAIR, people.council.id,
                              opened={"role": "chair", "organisation_id": people.council.id})
        assert stale.value.field == "record"
        with pytest.raises(AdminError) as junk:
            admin.change_role(s, viewer, people.council_member.id, "superuser", people.council.id)
        assert junk.value.field == "role"
    with db.session() as s:
        assert s.get(User, people.council_member.id).role == Role.MEMBER
        assert events(db, "user role changed") == []


def test_the_partnership_keeps_an_active_admin(db, people):
    """The command line (the server's operator) is bound by the rule as well as admins are."""
    operator = command_line_viewer()
    with db.session() as s:
        with pytest.raises(AdminError, match="at least one active administrator"):
            admin.change_role(s, operator, people.council_admin.id, Role.MEMBER, people.council.id)
    with db.session() as s:
        with pytest.raises(AdminError, match="at least one active administrator"):
            admin.disable(s, operator, people.council_admin.id)
    with db.session() as s:
        assert s.get(User, people.council_admin.id).role == Role.ADMIN
        assert s.get(User, people.council_admin.id).status == UserStatus.ACTIVE
        assert events(db, "user disabled") == []
        # With a second admin, the first can step down.
        s.get(User, people.police_member.id).role = Role.ADMIN
    with db.session() as s:
        admin.change_role(s, operator, people.council_admin.id, Role.MEMBER, people.council.id)
        assert admin.active_admin_count(s) == 1


def test_disabling_signs_out_at_once_and_enabling_restores(db, people):
    token = signed_in(db, people.police_member)
    with db.session() as s:
        viewer = viewer_of(s, people.council_admin)
        with pytest.raises(AdminError, match="your own account"):
            admin.disable(s, viewer, people.council_admin.id)
        view = admin.disable(s, viewer, people.police_member.id, ip_address="192.0.2.1")
        assert view.state == UserState.DISABLED
    assert not still_signed_in(db, token)
    with db.session() as s:
        user = s.get(User, people.police_member.id)
        assert not auth.authenticate(s, SETTINGS, user.email, "a long test passphrase 4 everyone").ok
        with pytest.raises(AdminError, match="already disabled"):
            admin.disable(s, viewer_of(s, people.council_admin), user.id)
    with db.session() as s:
        view = admin.enable(s, viewer_of(s, people.council_admin), people.police_member.id)
        assert view.state == UserState.ACTIVE
    with db.session() as s:
        assert auth.authenticate(s, SETTINGS, people.police_member.email, "a long test passphrase 4 everyone").ok
    assert [e.user_id for e in events(db, "user disabled")] == [people.council_admin.id]
    assert [e.record_id for e in events(db, "user enabled")] == [str(people.police_member.id)]


def test_sign_out_everywhere_ends_every_session_so_the_next_request_is_refused(db, people):
    first = signed_in(db, people.police_member)
    second = signed_in(db, people.police_member)
    other = signed_in(db, people.police_member2)
    with db.session() as s:
        assert admin.sign_out_everywhere(s, viewer_of(s, people.council_admin), people.police_member.id,
                                         ip_address="192.0.2.1") == 2
    assert not still_signed_in(db, first) and not still_signed_in(db, second)
    assert still_signed_in(db, other)
    with db.session() as s:
        reasons = s.scalars(select(UserSession.end_reason).where(UserSession.user_id == people.police_member.id)).all()
        assert set(reasons) == {"signed out everywhere"}
    (event,) = events(db, "user signed out everywhere")
    assert event.detail == {"sessions_ended": 2} and event.record_id == str(people.police_member.id)


def test_resetting_the_second_factor_clears_it_withdraws_codes_and_signs_out(db, people):
    token = signed_in(db, people.charity_chair)
    with db.session() as s:
        user = s.get(User, people.charity_chair.id)
        user.totp_secret, user.totp_enabled_at, user.totp_last_step = "encrypted-secret", utcnow(), 123456
        s.add_all([RecoveryCode(user_id=user.id, code_hash="a" * 64), RecoveryCode(user_id=user.id, code_hash="b" * 64,
                                                                                    used_at=utcnow())])
    with db.session() as s:
        assert admin.reset_second_factor(s, viewer_of(s, people.council_admin), people.charity_chair.id) == 1
    with db.session() as s:
        user = s.get(User, people.charity_chair.id)
        assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
        assert s.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_(None))) == 0
        with pytest.raises(AdminError, match="no second factor"):
            admin.reset_second_factor(s, viewer_of(s, people.council_admin), people.charity_chair.id)
    assert not still_signed_in(db, token)
    (event,) = events(db, "second factor reset")
    assert event.detail == {"recovery_codes_withdrawn": 1, "sessions_ended": 1}
