"""Sign-in, sessions, the route guard, CSRF and security headers, through the real Flask app."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import create_app
from dashboard import auth
from dashboard.models import AppSetting, AuditEvent, LoginThrottle, User, UserSession, utcnow
from dashboard.reference import Marking
from dashboard.web import PUBLIC_ENDPOINTS, PUBLIC_PATHS
from tests.conftest import TEST_PASSWORD, add_incident, csrf_from, make_people


@pytest.fixture
def people(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        return make_people(s, password_hash)


@pytest.fixture
def app(settings, sqlite_db, people):
    return create_app(settings, sqlite_db)


@pytest.fixture
def client(app):
    return app.server.test_client()


def sign_in(client, email, password=TEST_PASSWORD, next_url="/"):
    token = csrf_from(client.get("/login").data)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": next_url}
    )


def callback_body(period="all"):
    return {
        "output": "access-marking-counts.children",
        "outputs": {"id": "access-marking-counts", "property": "children"},
        "inputs": [{"id": "access-period", "property": "value", "value": period}],
        "changedPropIds": ["access-period.value"],
    }


def call_access_callback(client, period="all", token=None):
    if token is None:
        client.get("/")  # a page load sets the CSRF cookie Dash reads
        token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=callback_body(period), headers={"X-CSRFToken": token})


def concrete_urls(app):
    """Every rule of the server's URL map, with placeholders filled in, and its methods."""
    for rule in app.server.url_map.iter_rules():
        url = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "x/y.js" if m[1] == "path" else "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, url, method


# --- the route walk -------------------------------------------------------------------------


def test_every_route_refuses_anonymous_requests(app, client):
    app.server.test_client().get("/")  # let Dash add the routes it adds on first request
    walked = 0
    for rule, url, method in concrete_urls(app):
        walked += 1
        response = client.open(url, method=method)
        if rule.endpoint in PUBLIC_ENDPOINTS or url in PUBLIC_PATHS:
            # 410: an activation link that is unknown, used or expired (the same answer for each)
            assert response.status_code in (200, 400, 410), (url, method)
            continue
        if url.startswith(("/_dash-", "/api/")) or method != "GET":
            assert response.status_code == 401, (url, method, response.status_code)
            assert b"Sign in required" in response.data
        else:
            assert response.status_code == 302, (url, method, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), url
    assert walked >= 8  # the login, logout, health and Dash's own routes at least


def test_signed_in_walk_has_no_server_errors(app, client, people):
    sign_in(client, people.police_member.email)
    for _rule, url, method in concrete_urls(app):
        if url == "/logout":
            continue
        response = client.open(url, method=method)
        assert response.status_code < 500, (url, method, response.status_code)


def test_pages_redirect_to_login_with_a_same_site_next(client):
    response = client.get("/some/page?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/some/page?tab%3D2"


def test_health_is_public_and_reveals_nothing(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_only_the_login_pages_own_assets_are_public(client):
    assert client.get("/assets/vendor/bootstrap.min.css").status_code == 200
    assert client.get("/assets/app.css").status_code == 200
    assert client.get("/_dash-component-suites/dash/dcc/dash_core_components.js").status_code == 401


# --- signing in -------------------------------------------------------------------------------


def test_sign_in_and_see_the_shell(client, people):
    response = sign_in(client, people.police_member.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    text = json.dumps(layout.get_json())
    assert "Pat Police" in text and "Test Police" in text and "Member" in text
    assert "Sign out" in text and "/logout" in text
    assert "synthetic demonstration data" not in text


def test_answers_scripts_and_styles_travel_compressed_but_html_pages_do_not(client, people):
    """A phone on a weak connection gets the layout, scripts and styles compressed; the HTML
    pages, which carry the CSRF token, are never compressed (BREACH)."""
    import gzip

    accept = {"Accept-Encoding": "gzip"}
    login = client.get("/login", headers=accept)
    assert login.status_code == 200 and "Content-Encoding" not in login.headers
    sign_in(client, people.police_member.email)
    page = client.get("/", headers=accept)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    layout = client.get("/_dash-layout", headers=accept)
    assert layout.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in layout.headers["Vary"]
    assert "Pat Police" in gzip.decompress(layout.get_data()).decode()
    script = next(src for src in re.findall(r'src="([^"]+\.js[^"]*)"', page.get_data(as_text=True))
                  if "dash_ag_grid" in src)
    sent = client.get(script, headers=accept)
    assert sent.status_code == 200 and sent.headers["Content-Encoding"] == "gzip"
    assert len(sent.get_data()) < len(gzip.decompress(sent.get_data())) / 3
    plain = client.get("/_dash-layout")  # a client that does not ask for it gets it plain
    assert "Content-Encoding" not in plain.headers and "Pat Police" in plain.get_data(as_text=True)


def test_demo_notice_only_in_demo_mode(sqlite_db, client, people):
    with sqlite_db.session() as s:
        s.add(AppSetting(key="demo_mode", value="true"))
    sign_in(client, people.police_member.email)
    assert "synthetic demonstration data" in json.dumps(client.get("/_dash-layout").get_json())
    assert b"synthetic demonstration data" in client.application.test_client().get("/login").data


def test_page_has_lang_and_no_external_assets(client, people):
    sign_in(client, people.police_member.email)
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded


@pytest.mark.parametrize(
    "next_url, expected",
    [("/", "/"), ("/reports?x=1", "/reports?x=1"), ("//evil.example/", "/"),
     ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/")],
)
def test_next_is_followed_only_within_the_site(client, people, next_url, expected):
    response = sign_in(client, people.police_member.email, next_url=next_url)
    assert response.headers["Location"] == expected


def test_unknown_user_and_wrong_password_get_the_same_answer(client, people):
    unknown = sign_in(client, "nobody@nowhere.example", "whatever password 123")
    wrong = sign_in(client, people.police_member.email, "whatever password 123")
    assert unknown.status_code == wrong.status_code == 200
    assert auth.GENERIC_FAILURE.encode() in unknown.data
    assert auth.GENERIC_FAILURE.replace("'", "&#39;").encode() in wrong.data or auth.GENERIC_FAILURE.encode() in wrong.data
    strip = lambda r: r.data.replace(b"nobody@nowhere.example", b"").replace(people.police_member.email.encode(), b"")  # noqa: E731
    assert strip(unknown).split(b"csrf_token")[0] == strip(wrong).split(b"csrf_token")[0]


def test_empty_form_names_each_missing_field(client):
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 400
    assert b'href="#email">Enter your e-mail address.' in response.data
    assert b'href="#password">Enter your password.' in response.data


def test_login_without_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"email": people.police_member.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_lockout_after_ten_failures_with_back_off(settings, sqlite_db, people):
    # a generous per-address limit, so that only the per-account lock is at work here
    client = create_app(replace(settings, login_rate_limit="100 per minute"), sqlite_db).server.test_client()
    email = people.police_member.email
    for attempt in range(9):
        assert b"not right" in sign_in(client, email, "wrong password number x").data, attempt
    locked = sign_in(client, email, "wrong password number x")
    assert locked.status_code == 429 and b"Try again in 5 minutes" in locked.data
    # even the right password is refused while locked
    assert b"Too many failed attempts" in sign_in(client, email).data
    with sqlite_db.session() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "account locked")) is not None
        s.get(LoginThrottle, email).locked_until = utcnow() - timedelta(seconds=1)
    for _ in range(10):
        response = sign_in(client, email, "wrong password number x")
    assert b"Try again in 10 minutes" in response.data  # the second lock is twice as long
    with sqlite_db.session() as s:
        s.get(LoginThrottle, email).locked_until = utcnow() - timedelta(seconds=1)
    assert sign_in(client, email).headers["Location"] == "/"


def test_unknown_addresses_lock_the_same_way(client):
    for _ in range(10):
        response = sign_in(client, "ghost@nowhere.example", "wrong password number x")
    assert response.status_code == 429


def test_per_address_rate_limit_on_the_login_route(settings, sqlite_db, people):
    app = create_app(replace(settings, login_rate_limit="3 per minute"), sqlite_db)
    client = app.server.test_client()
    responses = [sign_in(client, f"x{i}@nowhere.example", "wrong password number x") for i in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert b"Too many sign-in attempts from your network" in responses[-1].data
    assert client.get("/login").status_code == 200  # reading the form is not limited


def test_new_session_at_each_sign_in(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    first = client.get_cookie("dashboard_session").value
    sign_in(client.application.test_client(), people.police_member.email)
    client2 = client.application.test_client()
    sign_in(client2, people.police_member.email)
    assert client2.get_cookie("dashboard_session").value != first
    with sqlite_db.session() as s:
        sessions = s.scalars(select(UserSession).where(UserSession.user_id == people.police_member.id)).all()
    assert len(sessions) == 3 and len({x.token_hash for x in sessions}) == 3


# --- sessions ending ---------------------------------------------------------------------------


def _age_sessions(sqlite_db, user_id, **values):
    with sqlite_db.session() as s:
        s.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))


def test_idle_timeout_ends_the_session(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    assert client.get("/").status_code == 200
    _age_sessions(sqlite_db, people.police_member.id, last_seen_at=utcnow() - timedelta(minutes=31))
    assert client.post("/_dash-update-component", json=callback_body()).status_code == 401
    response = client.get("/")
    assert response.status_code == 302
    assert "/login?" in response.headers["Location"]
    with sqlite_db.session() as s:
        row = s.scalar(select(UserSession).where(UserSession.user_id == people.police_member.id))
        assert row.end_reason == "idle" and row.ended_at is not None


def test_idle_message_is_shown_on_the_sign_in_page(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    _age_sessions(sqlite_db, people.police_member.id, last_seen_at=utcnow() - timedelta(minutes=31))
    location = client.get("/").headers["Location"]
    assert "reason=idle" in location
    assert b"30 minutes without activity" in client.get(location).data


def test_activity_keeps_the_session_alive(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    _age_sessions(sqlite_db, people.police_member.id, last_seen_at=utcnow() - timedelta(minutes=29))
    assert client.get("/").status_code == 200
    with sqlite_db.session() as s:
        row = s.scalar(select(UserSession).where(UserSession.user_id == people.police_member.id))
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_absolute_lifetime_of_twelve_hours(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    _age_sessions(sqlite_db, people.police_member.id, created_at=utcnow() - timedelta(hours=12, minutes=1))
    response = client.get("/")
    assert response.status_code == 302 and "reason=expired" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session reached its limit of 12 hours." in page


def test_logout_ends_the_session_on_the_server(sqlite_db, app, client, people):
    sign_in(client, people.police_member.email)
    stolen = client.get_cookie("dashboard_session").value
    client.get("/")
    response = client.post("/logout", data={"csrf_token": client.get_cookie("_csrf_token").value})
    assert response.status_code == 302 and "signed_out=1" in response.headers["Location"]
    assert b"You have signed out" in client.get(response.headers["Location"]).data
    replay = app.server.test_client()
    replay.set_cookie("dashboard_session", stolen)
    assert replay.get("/").status_code == 302
    assert replay.get("/_dash-layout").status_code == 401


def test_logout_needs_post_and_csrf(client, people):
    sign_in(client, people.police_member.email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_disabling_a_user_ends_their_sessions(sqlite_db, client, people):
    sign_in(client, people.police_member.email)
    assert client.get("/").status_code == 200
    with sqlite_db.session() as s:
        auth.disable_user(s, s.get(User, people.police_member.id))
    assert client.get("/").status_code == 302
    assert b"not right" in sign_in(client, people.police_member.email).data


def test_changing_password_ends_every_session(sqlite_db, app, client, people):
    sign_in(client, people.police_member.email)
    other = app.server.test_client()
    sign_in(other, people.police_member.email)
    with sqlite_db.session() as s:
        auth.change_password(s, s.get(User, people.police_member.id), TEST_PASSWORD, "a brand new passphrase 77")
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302
    assert sign_in(client, people.police_member.email, "a brand new passphrase 77").headers["Location"] == "/"


# --- CSRF, headers, callbacks ------------------------------------------------------------------


def test_callbacks_need_the_csrf_header(client, people):
    sign_in(client, people.police_member.email)
    client.get("/")
    assert client.post("/_dash-update-component", json=callback_body()).status_code == 400
    assert call_access_callback(client, token="forged-token").status_code == 400
    assert call_access_callback(client).status_code == 200


@pytest.mark.parametrize("pathname", [None, "", "incidents/1", 7, ["/"]])
def test_a_forged_page_request_without_a_path_is_refused_not_an_error(client, people, pathname):
    sign_in(client, people.police_member.email)
    client.get("/")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = client.post("/_dash-update-component", json=body,
                           headers={"X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request is not one this page sends."}


def test_callback_counts_only_what_the_viewer_may_see(sqlite_db, client, people):
    with sqlite_db.session() as s:
        pat = s.get(User, people.police_member.id)
        add_incident(s, pat, Marking.GREEN)
        add_incident(s, pat, Marking.AMBER_STRICT)
    sign_in(client, people.council_member.email)
    body = json.dumps(call_access_callback(client).get_json())
    assert "You can see 1 incidents" in body
    pat_client = client.application.test_client()
    sign_in(pat_client, people.police_member.email)
    assert "You can see 2 incidents" in json.dumps(call_access_callback(pat_client).get_json())


def test_sci_gets_nothing_from_record_callbacks(client, people):
    sign_in(client, people.sci.email)
    assert call_access_callback(client).status_code == 204


def test_security_headers(client, people):
    for response in (client.get("/login"), client.get("/health")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["Cache-Control"] == "no-store"
    sign_in(client, people.police_member.email)
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in csp.split(";")[1]
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("dashboard_session")
    assert cookie.http_only and cookie.same_site == "Lax"
