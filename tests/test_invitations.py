"""Invitations: the account made by an admin cannot sign in until its one-time link is used; the
link is random, kept only as a hash, works once and until it expires, stops working when a new
one is sent or the invitation is cancelled; every bad link gets the same answer; audited without
the link. Then the activation page end to end, through the real app."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app import create_app
from dashboard import admin, auth, invitations, web
from dashboard.access import Viewer
from dashboard.config import Settings
from dashboard.invitations import InvitationError, LinkNotWorking
from dashboard.models import AuditEvent, Base, User, UserInvitation, utcnow
from dashboard.passwords import PasswordPolicyError
from dashboard.reference import MembershipStatus, Role, UserStatus
from tests.conftest import csrf_from, make_people

SETTINGS = Settings(database_url="sqlite://", secret_key="k" * 40, instance_dir=None)
NEW_PASSWORD = "violet kettle harbour lantern"
BASE = "https://dashboard.example.org"


def admin_viewer(session, people) -> Viewer:
    return Viewer.from_user(session.get(User, people.council_admin.id))


def invite(db, people, *, email="Nadia.New@Charity.example ", name="Nadia New", org=None, role=Role.MEMBER,
           now=None):
    with db.session() as s:
        return invitations.invite(s, admin_viewer(s, people), SETTINGS, name, email, (org or people.charity).id, role,
                                  base=BASE, ip_address="192.0.2.1", now=now)


def token_of(sent) -> str:
    return sent.link.rsplit("/", 1)[1]


def test_inviting_makes_an_account_that_cannot_sign_in_until_activated(db, people):
    sent = invite(db, people)
    token = token_of(sent)
    assert sent.link == f"{BASE}/activate/{token}" and len(token) == 43
    assert sent.expires_at - utcnow() > timedelta(days=6, hours=23)
    with db.session() as s:
        user = s.get(User, sent.user_id)
        assert (user.email, user.name, user.role, user.organisation_id) == (
            "nadia.new@charity.example", "Nadia New", "member", people.charity.id)
        assert user.activated_at is None and user.status == UserStatus.ACTIVE
        assert user.password_hash.startswith("$argon2id$")
        row = s.scalar(select(UserInvitation))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.created_by_id == people.council_admin.id
        # The token is in no column of any table.
        for table in Base.metadata.sorted_tables:
            for record in s.execute(select(table)).all():
                assert token not in str(record), table.name
        # Nobody knows the password; and even the right one would not open an account not yet activated.
        assert not auth.authenticate(s, SETTINGS, user.email, NEW_PASSWORD).ok
        user.password_hash = people.council_admin.password_hash
        s.flush()
        assert not auth.authenticate(s, SETTINGS, user.email, "a long test passphrase 4 everyone").ok


def test_the_link_activates_once_then_sign_in_works(db, people):
    sent = invite(db, people)
    with db.session() as s:
        invitee = invitations.check_link(s, token_of(sent))
        assert (invitee.name, invitee.organisation, invitee.email) == (
            "Nadia New", "Test Refugee Charity", "nadia.new@charity.example")
        invitations.activate(s, token_of(sent), NEW_PASSWORD, ip_address="192.0.2.7")
    with db.session() as s:
        assert s.get(User, sent.user_id).activated_at is not None
        assert s.scalar(select(UserInvitation.used_at)) is not None
        assert auth.authenticate(s, SETTINGS, "nadia.new@charity.example", NEW_PASSWORD).ok
    with db.session() as s:
        assert invitations.check_link(s, token_of(sent)) is None
        with pytest.raises(LinkNotWorking):
            invitations.activate(s, token_of(sent), "another good passphrase here")
    with db.session() as s:
        assert auth.authenticate(s, SETTINGS, "nadia.new@charity.example", NEW_PASSWORD).ok
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "account activated")).all()
        assert event.user_id == sent.user_id and event.ip_address == "192.0.2.7"


def test_a_password_the_policy_refuses_leaves_the_link_working(db, people):
    sent = invite(db, people)
    for weak in ("short", "nadia new nadia new", "password1234567"):
        with db.session() as s, pytest.raises(PasswordPolicyError):
            invitations.activate(s, token_of(sent), weak)
    with db.session() as s:
        assert invitations.check_link(s, token_of(sent)) is not None
        assert s.get(User, sent.user_id).activated_at is None


def test_a_link_expires(db, people):
    sent = invite(db, people, now=utcnow() - timedelta(days=7, minutes=1))
    with db.session() as s:
        assert invitations.check_link(s, token_of(sent)) is None
        assert invitations.check_link(s, token_of(sent), now=utcnow() - timedelta(days=1)) is not None
        with pytest.raises(LinkNotWorking):
            invitations.activate(s, token_of(sent), NEW_PASSWORD)
        views = {v.id: v for v in admin.list_users(s, admin_viewer(s, people))}
        assert views[sent.user_id].state_label == "Invitation expired"


def test_a_new_link_revokes_the_old_one(db, people):
    first = invite(db, people)
    with db.session() as s:
        second = invitations.resend(s, admin_viewer(s, people), SETTINGS, first.user_id, base=BASE)
    assert token_of(second) != token_of(first)
    with db.session() as s:
        assert invitations.check_link(s, token_of(first)) is None
        assert invitations.check_link(s, token_of(second)) is not None
        revoked = s.scalars(select(UserInvitation).where(UserInvitation.revoked_at.is_not(None))).all()
        assert len(revoked) == 1
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "invitation sent")).all()
        assert [e.detail["new_account"] for e in events] == [True, False]


def test_cancelling_withdraws_the_link_and_disables_the_account(db, people):
    sent = invite(db, people)
    with db.session() as s:
        assert invitations.cancel(s, admin_viewer(s, people), sent.user_id, ip_address="192.0.2.1") == 1
    with db.session() as s:
        assert invitations.check_link(s, token_of(sent)) is None
        assert s.get(User, sent.user_id).status == UserStatus.DISABLED
        with pytest.raises(InvitationError, match="Enable it"):
            invitations.resend(s, admin_viewer(s, people), SETTINGS, sent.user_id, base=BASE)
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "invitation cancelled")).all()
        assert event.record_id == str(sent.user_id) and event.detail == {"links_withdrawn": 1}


def test_there_is_no_invitation_to_change_once_activated(db, people):
    with db.session() as s:
        with pytest.raises(InvitationError, match="already activated"):
            invitations.resend(s, admin_viewer(s, people), SETTINGS, people.police_member.id, base=BASE)
        with pytest.raises(InvitationError, match="already activated"):
            invitations.cancel(s, admin_viewer(s, people), people.police_member.id)


@pytest.mark.parametrize("presented", ["", "junk", "A" * 43, "../../etc/passwd", None])
def test_unknown_and_malformed_links_do_not_work(db, people, presented):
    invite(db, people)
    with db.session() as s:
        assert invitations.check_link(s, presented) is None
        with pytest.raises(LinkNotWorking):
            invitations.activate(s, presented, NEW_PASSWORD)


def test_a_link_stops_working_when_the_organisation_is_suspended(db, people):
    sent = invite(db, people)
    with db.session() as s:
        s.get(User, sent.user_id).organisation.membership_status = MembershipStatus.SUSPENDED
    with db.session() as s:
        assert invitations.check_link(s, token_of(sent)) is None


@pytest.mark.parametrize(
    ("name", "email", "org", "role", "field"),
    [
        ("  ", "n@charity.example", "charity", "member", "name"),
        ("Nadia", "", "charity", "member", "email"),
        ("Nadia", "not an address", "charity", "member", "email"),
        ("Nadia", " PAT.POLICE@police.example", "charity", "member", "email"),  # taken, whatever its case
        ("Nadia", "n@charity.example", "", "member", "organisation"),
        ("Nadia", "n@charity.example", "suspended", "member", "organisation"),
        ("Nadia", "n@charity.example", "charity", "owner", "role"),
    ],
)
def test_a_wrong_invitation_names_the_field_and_makes_nothing(db, people, name, email, org, role, field):
    with db.session() as s:
        if org == "suspended":
            s.get(User, people.police_member.id).organisation.membership_status = MembershipStatus.SUSPENDED
            org_id = people.police.id
        else:
            org_id = people.charity.id if org else ""
        users = s.scalar(select(func.count(User.id)))
    with db.session() as s:
        with pytest.raises(InvitationError) as refused:
            invitations.invite(s, admin_viewer(s, people), SETTINGS, name, email, org_id, role, base=BASE)
        assert field in refused.value.errors and refused.value.errors[field]
    with db.session() as s:
        assert s.scalar(select(func.count(User.id))) == users
        assert s.scalar(select(func.count(UserInvitation.id))) == 0


def test_only_admins_invite(db, people):
    with db.session() as s:
        for user in (people.police_member, people.charity_chair, people.sci):
            with pytest.raises(PermissionError):
                invitations.invite(s, Viewer.from_user(s.get(User, user.id)), SETTINGS, "N", "n@x.example",
                                   people.charity.id, "member", base=BASE)


def test_inviting_is_audited_without_the_link(db, people):
    sent = invite(db, people)
    with db.session() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "invitation sent")).all()
        assert event.user_id == people.council_admin.id and event.record_id == str(sent.user_id)
        assert event.detail["email"] == "nadia.new@charity.example" and event.detail["role"] == "member"
        assert token_of(sent) not in str(s.execute(text("SELECT * FROM audit_events")).all())


def test_the_email_carries_the_link_only_when_smtp_is_set_up(monkeypatch, db, people):
    sent = invite(db, people)
    assert invitations.send_email(sent, SETTINGS) == (False, "E-mail is not set up on this server.")
    delivered = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            self.host = host

        def starttls(self, context):
            pass

        def send_message(self, message):
            delivered.append(message)
            return {}

        def quit(self):
            pass

    monkeypatch.setattr("dashboard.mail.smtplib.SMTP", FakeSMTP)
    mailing = SETTINGS.with_overrides(smtp_host="smtp.example.org", smtp_from="dashboard@example.org")
    assert invitations.send_email(sent, mailing) == (True, "")
    (message,) = delivered
    assert message["To"] == "nadia.new@charity.example"
    assert sent.link in message.get_content() and "works once" in message.get_content()


# --- the activation page, end to end --------------------------------------------------------------


@pytest.fixture
def site(settings, sqlite_db, password_hash, monkeypatch):
    # The route guard's allow-list is kept in dashboard/web.py; the page is public.
    monkeypatch.setattr(web, "PUBLIC_ENDPOINTS", web.PUBLIC_ENDPOINTS | {"activation.activate"})
    monkeypatch.setitem(web.TIMEOUT_MESSAGES, "activated", "Your account is ready. Sign in.")
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def activation_form(client, path):
    page = client.get(path)
    return page, csrf_from(page.data) if page.status_code == 200 else ""


def test_the_activation_page_sets_the_password_then_sign_in_works(site):
    app, db, people = site
    sent = invite(db, people)
    client = app.server.test_client()
    path = f"/activate/{token_of(sent)}"
    page, csrf = activation_form(client, path)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nadia New" in body and "Test Refugee Charity" in body
    assert 'autocomplete="new-password"' in body and "At least 12 characters" in body
    assert "onpaste" not in body  # pasting from a password manager is allowed

    weak = client.post(path, data={"password": "short", "csrf_token": csrf})
    assert weak.status_code == 400
    assert 'class="error-summary"' in weak.get_data(as_text=True)
    assert "at least 12 characters" in weak.get_data(as_text=True)
    forged = client.post(path, data={"password": NEW_PASSWORD})
    assert forged.status_code == 400
    with db.session() as s:
        assert s.get(User, sent.user_id).activated_at is None

    done = client.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login?reason=activated")
    notice = client.get(done.headers["Location"])
    assert "Your account is ready. Sign in." in notice.get_data(as_text=True)

    signed_in = client.post("/login", data={"email": "nadia.new@charity.example", "password": NEW_PASSWORD,
                                            "csrf_token": csrf_from(notice.data)})
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]

    again = app.server.test_client().get(path)
    assert again.status_code == 410
    assert invitations.LINK_NOT_WORKING in again.get_data(as_text=True)


def test_every_bad_link_gets_the_same_page(site):
    app, db, people = site
    expired = invite(db, people, email="old@charity.example", now=utcnow() - timedelta(days=8))
    revoked = invite(db, people, email="gone@charity.example")
    with db.session() as s:
        invitations.resend(s, admin_viewer(s, people), SETTINGS, revoked.user_id, base=BASE)
    client = app.server.test_client()
    answers = set()
    for token in (token_of(expired), token_of(revoked), "A" * 43, "nonsense"):
        response = client.get(f"/activate/{token}")
        assert response.status_code == 410
        # The same page whatever the reason (only the CSRF token would differ, and it is not on it).
        answers.add(re.sub(r"/activate/[^\"]+", "", response.get_data(as_text=True)))
    assert len(answers) == 1 and invitations.LINK_NOT_WORKING in answers.pop()


def test_activation_posts_are_rate_limited_per_address(site, monkeypatch):
    app, db, people = site
    app.server.extensions[web.EXTENSION].settings = app.server.extensions[web.EXTENSION].settings.with_overrides(
        login_rate_limit="2 per minute")
    client = app.server.test_client()
    csrf = csrf_from(client.get("/login").data)
    statuses = [client.post("/activate/" + "A" * 43, data={"password": "x", "csrf_token": csrf}).status_code
                for _ in range(3)]
    assert statuses == [410, 410, 429]
