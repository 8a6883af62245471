"""The second factor through the real Flask app (SQLite and PostgreSQL): admins and chairs are
forced through set-up, enrolled people give a code after their password, a half-finished sign-in
reaches nothing else and expires, recovery codes, the account page, limits and the lockout."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from dashboard import two_factor
from dashboard.models import AuditEvent, User, UserSession
from dashboard.web import PENDING_KEY
from tests.conftest import TEST_PASSWORD, csrf_from, make_people

DEFAULT_ROLES = frozenset({"admin", "chair"})


class Clock:
    """The second factor's clock, moved on by hand so each test can have as many codes as it needs."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: int = 30) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(two_factor, "utcnow", clock)
    return clock


@pytest.fixture
def web(db, settings, password_hash, clock):
    with db.session() as s:
        people = make_people(s, password_hash)
    cfg = settings.with_overrides(database_url=db.url, second_factor_roles=DEFAULT_ROLES,
                                  login_rate_limit="1000 per minute")
    return create_app(cfg, db), db, people


def code_now(secret: str, clock: Clock) -> str:
    return two_factor.code_at(secret, two_factor.step_at(clock.now))


def password_step(client, email, next_url="/"):
    token = csrf_from(client.get("/login").data)
    return client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token,
                                       "next": next_url})


FORM_PAGES = {  # where each POST-only route's form is
    "/account/two-factor/recovery-codes": "/account/two-factor",
    "/account/two-factor/turn-off": "/account/two-factor",
    "/login/two-factor/finish": "/login/two-factor/setup",  # which then offers to carry on
}


def post(client, path, **data):
    """A form POST with the CSRF token of the page the form is on."""
    token = csrf_from(client.get(FORM_PAGES.get(path, path)).data)
    return client.post(path, data={**data, "csrf_token": token})


def secret_on(page: bytes) -> str:
    match = re.search(rb'id="two-factor-secret">([A-Z2-7 ]+)</p>', page)
    assert match, "the set-up page shows the key as text"
    return match.group(1).decode().replace(" ", "")


def codes_on(page: bytes) -> list[str]:
    return re.findall(r"<li>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</li>", page.decode())


def nothing_else_reachable(client) -> None:
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/account/two-factor").status_code == 302


def enrol(db, cfg, person, clock) -> tuple[str, list[str]]:
    with db.session() as s:
        secret = two_factor.begin_enrolment(s, cfg, s.get(User, person.id)).secret
    with db.session() as s:
        checked = two_factor.confirm_enrolment(s, cfg, s.get(User, person.id), code_now(secret, clock))
    clock.tick()
    return secret, checked.recovery_codes


def sign_in_events(db, person) -> list[dict | None]:
    with db.session() as s:
        return [e.detail for e in s.scalars(select(AuditEvent).where(
            AuditEvent.user_id == person.id, AuditEvent.action == "sign-in").order_by(AuditEvent.id))]


def test_an_admin_without_a_second_factor_is_set_up_before_any_page(web, clock):
    app, db, people = web
    client = app.server.test_client()
    response = password_step(client, people.council_admin.email, next_url="/audit")
    assert response.status_code == 302 and response.headers["Location"] == "/login/two-factor/setup"
    nothing_else_reachable(client)
    page = client.get("/login/two-factor/setup")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in text and 'alt="QR code' in text  # drawn here, not fetched
    assert 'href="otpauth://totp/Midlands%20Partnership%20Dashboard:ada.admin%40council.example?secret=' in text
    assert 'inputmode="numeric"' in text and 'autocomplete="one-time-code"' in text
    secret = secret_on(page.data)
    assert len(secret) == 32

    wrong = post(client, "/login/two-factor/setup", code="12345")
    assert b"There is a problem" in wrong.data and b'href="#code">Enter the code as 6 digits' in wrong.data
    with db.session() as s:
        assert s.get(User, people.council_admin.id).totp_enabled_at is None
    done = post(client, "/login/two-factor/setup", code=code_now(secret, clock))
    codes = codes_on(done.data)
    assert len(codes) == 10 and b"I have saved these codes" in done.data and b"shown only this once" in done.data
    nothing_else_reachable(client)  # still not signed in while the codes are on screen

    cookie = client.get_cookie("dashboard_session").value
    response = post(client, "/login/two-factor/finish")
    assert response.status_code == 302 and response.headers["Location"] == "/audit"
    assert client.get("/").status_code == 200
    assert sign_in_events(db, people.council_admin) == [{"second_factor": "totp"}]

    # The "codes saved" step finishes one sign-in only: a copy of its cookie does nothing more.
    replay = app.server.test_client()
    replay.set_cookie("dashboard_session", cookie)
    token = csrf_from(replay.get("/login/two-factor/setup").data)
    assert replay.post("/login/two-factor/finish", data={"csrf_token": token}).headers["Location"] == "/login"
    assert replay.get("/").status_code == 302
    with db.session() as s:
        assert len(s.scalars(select(UserSession).where(UserSession.user_id == people.council_admin.id)).all()) == 1


def test_an_enrolled_person_gives_a_code_after_the_password_and_the_code_works_once(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    secret, _ = enrol(db, cfg, people.police_member, clock)
    client = app.server.test_client()
    response = password_step(client, people.police_member.email, next_url="/trends")
    assert response.headers["Location"] == "/login/verify"
    page = client.get("/login/verify").get_data(as_text=True)
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page
    assert 'for="code"' in page and "Use a recovery code instead" in page and "maxlength" not in page
    nothing_else_reachable(client)

    wrong = post(client, "/login/verify", code="000000" if code_now(secret, clock) != "000000" else "111111")
    assert wrong.status_code == 200 and b'href="#code">The code is not right' in wrong.data
    assert b'aria-invalid="true"' in wrong.data and b"<title>Error: " in wrong.data
    typed = code_now(secret, clock)
    response = post(client, "/login/verify", code=typed)
    assert response.status_code == 302 and response.headers["Location"] == "/trends"
    assert client.get("/").status_code == 200
    assert sign_in_events(db, people.police_member) == [{"second_factor": "totp"}]

    # Signed out and in again at once: the same code is refused.
    again = app.server.test_client()
    password_step(again, people.police_member.email)
    replay = post(again, "/login/verify", code=typed)
    assert b"already been used" in replay.data
    nothing_else_reachable(again)


def test_a_recovery_code_signs_in_once_and_the_account_page_says_how_many_are_left(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    _, codes = enrol(db, cfg, people.charity_chair, clock)
    client = app.server.test_client()
    password_step(client, people.charity_chair.email)
    page = client.get("/login/verify?method=recovery")
    assert b'for="recovery_code"' in page.data and b"Use a code from your authenticator app instead" in page.data
    response = post(client, "/login/verify", method="recovery", recovery_code=codes[3].upper())
    assert response.headers["Location"] == "/account/two-factor?recovery_used=1"
    account = client.get(response.headers["Location"])
    assert b"You signed in with a recovery code" in account.data and b"You have 9 left" in account.data
    assert sign_in_events(db, people.charity_chair) == [{"second_factor": "recovery code"}]

    other = app.server.test_client()
    password_step(other, people.charity_chair.email)
    refused = post(other, "/login/verify", method="recovery", recovery_code=codes[3])
    assert b'href="#recovery_code">The recovery code is not right, or it has already been used.' in refused.data
    nothing_else_reachable(other)


def test_a_half_finished_sign_in_expires_after_five_minutes(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    secret, _ = enrol(db, cfg, people.police_member, clock)
    client = app.server.test_client()
    password_step(client, people.police_member.email)
    token = csrf_from(client.get("/login/verify").data)
    with client.session_transaction() as flask_session:
        flask_session[PENDING_KEY] = {**flask_session[PENDING_KEY],
                                      "at": flask_session[PENDING_KEY]["at"] - 301}
    response = client.post("/login/verify", data={"code": code_now(secret, clock), "csrf_token": token})
    assert response.status_code == 302 and "reason=two-factor-expired" in response.headers["Location"]
    assert b"more than 5 minutes" in client.get(response.headers["Location"]).data
    assert client.get("/login/verify").headers["Location"].startswith("/login?next=")  # the note is gone
    nothing_else_reachable(client)
    with db.session() as s:
        assert s.get(User, people.police_member.id).totp_last_step < two_factor.step_at(clock.now)


def test_wrong_codes_lock_the_account_after_the_threshold(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    secret, _ = enrol(db, cfg, people.police_member, clock)
    client = app.server.test_client()
    password_step(client, people.police_member.email)
    wrong = "000000" if code_now(secret, clock) != "000000" else "111111"
    for _ in range(cfg.lockout_threshold - 1):
        assert b"The code is not right" in post(client, "/login/verify", code=wrong).data
    locked = post(client, "/login/verify", code=wrong)
    assert locked.status_code == 429 and b"Try again in 5 minutes" in locked.data
    nothing_else_reachable(client)
    # Locked: the right password no longer even reaches the code.
    response = password_step(client, people.police_member.email)
    assert response.status_code == 429 and b"Too many failed attempts" in response.data


def test_a_member_may_sign_in_without_and_may_set_it_up_from_the_shell(web, clock):
    app, db, people = web
    client = app.server.test_client()
    assert password_step(client, people.council_member.email).headers["Location"] == "/"
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert '"href": "/account/two-factor"' in layout and "Two-step verification" in layout
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and b"Two-step verification is off" in page.data
    assert b"Sign out" in page.data and b'href="/account/two-factor/setup"' in page.data
    setup = client.get("/account/two-factor/setup")
    secret = secret_on(setup.data)
    done = post(client, "/account/two-factor/setup", code=code_now(secret, clock))
    codes = codes_on(done.data)
    assert len(codes) == 10 and b'href="/account/two-factor?done=enrolled"' in done.data
    page = client.get("/account/two-factor?done=enrolled")
    assert b"Two-step verification is on" in page.data and b"10 unused recovery codes" in page.data

    clock.tick()
    other = app.server.test_client()
    assert password_step(other, people.council_member.email).headers["Location"] == "/login/verify"
    with db.session() as s:
        events = list(s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == people.council_member.id)))
    assert "second factor enrolled" in events and "sign-in password accepted" in events


def test_new_recovery_codes_and_turning_off_from_the_account_page(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    secret, old = enrol(db, cfg, people.police_member, clock)
    client, elsewhere = app.server.test_client(), app.server.test_client()
    for browser in (client, elsewhere):
        password_step(browser, people.police_member.email)
        post(browser, "/login/verify", code=code_now(secret, clock))
        clock.tick()
    assert client.get("/").status_code == elsewhere.get("/").status_code == 200

    refused = post(client, "/account/two-factor/recovery-codes", code="")
    assert b'href="#codes-code">Enter the 6-digit code' in refused.data
    made = post(client, "/account/two-factor/recovery-codes", code=code_now(secret, clock))
    new = codes_on(made.data)
    assert len(new) == 10 and not set(new) & set(old) and b"no longer work" in made.data
    clock.tick()

    wrong = post(client, "/account/two-factor/turn-off", password="not the password at all", code="123456")
    assert b'href="#off-password">The password is not right.' in wrong.data
    off = post(client, "/account/two-factor/turn-off", password=TEST_PASSWORD, code=code_now(secret, clock))
    assert off.headers["Location"] == "/account/two-factor?done=off"
    assert b"Your other sessions have ended" in client.get(off.headers["Location"]).data
    assert client.get("/").status_code == 200  # this browser stays signed in
    ended = elsewhere.get("/")
    assert ended.status_code == 302 and "reason=second+factor+turned+off" in ended.headers["Location"]
    assert password_step(elsewhere, people.police_member.email).headers["Location"] == "/"


def test_an_admin_cannot_turn_it_off(web, clock):
    app, db, people = web
    cfg = app.server.extensions["partnership_dashboard"].settings
    secret, _ = enrol(db, cfg, people.council_admin, clock)
    client = app.server.test_client()
    password_step(client, people.council_admin.email)
    post(client, "/login/verify", code=code_now(secret, clock))
    clock.tick()
    page = client.get("/account/two-factor")
    assert b"requires two-step verification, so it cannot be turned off" in page.data
    assert b'action="/account/two-factor/turn-off"' not in page.data
    refused = post(client, "/account/two-factor/turn-off", password=TEST_PASSWORD, code=code_now(secret, clock))
    assert b"cannot be turned off" in refused.data
    with db.session() as s:
        assert s.get(User, people.council_admin.id).totp_enabled_at is not None


def test_a_session_without_the_required_second_factor_reaches_only_the_set_up_page(web, settings, clock):
    app, db, people = web
    # Signed in while the role did not yet require it (as before an admin reset it) ...
    before = create_app(settings.with_overrides(database_url=db.url), db)
    client = before.server.test_client()
    assert password_step(client, people.council_admin.email).headers["Location"] == "/"
    # ... the same session, now that it does:
    now = app.server.test_client()
    now.set_cookie("dashboard_session", client.get_cookie("dashboard_session").value)
    assert now.get("/").headers["Location"] == "/account/two-factor/setup"
    assert now.get("/_dash-layout").status_code == 403
    setup = now.get("/account/two-factor/setup")
    assert setup.status_code == 200 and b"Your role requires it" in setup.data
    assert b"Cancel" not in setup.data
    post(now, "/account/two-factor/setup", code=code_now(secret_on(setup.data), clock))
    assert now.get("/").status_code == 200


def test_the_second_factor_posts_need_csrf_and_are_limited_per_address(db, settings, password_hash, clock):
    with db.session() as s:
        people = make_people(s, password_hash)
    app = create_app(settings.with_overrides(database_url=db.url, second_factor_roles=DEFAULT_ROLES,
                                             login_rate_limit="3 per minute"), db)
    client = app.server.test_client()
    password_step(client, people.council_admin.email)
    assert client.post("/login/two-factor/setup", data={"code": "123456"}).status_code == 400
    answers = [post(client, "/login/two-factor/setup", code="12345").status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    limited = post(client, "/login/two-factor/setup", code="12345")
    assert limited.status_code == 429 and b"Too many attempts from your network" in limited.data
    assert client.get("/login/two-factor/setup").status_code == 200  # reading the page is not limited


def test_the_pending_pages_need_a_pending_sign_in(web):
    app, _db, people = web
    client = app.server.test_client()
    for path in ("/login/verify", "/login/two-factor/setup"):
        assert client.get(path).headers["Location"].startswith("/login?next=")
    assert client.post("/login/two-factor/finish").status_code == 401
    assert password_step(client, people.police_member.email).headers["Location"] == "/"
    assert client.get("/login/verify").headers["Location"] == "/"  # signed in: nothing to verify
