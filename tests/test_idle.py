"""The idle warning's server side: /session/status (a peek) and /session/keepalive ("stay signed in")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import create_app
from dashboard import auth
from dashboard.models import UserSession, utcnow
from dashboard.web import warning_lead
from tests.conftest import TEST_PASSWORD, csrf_from, make_people


@pytest.fixture
def people(db, password_hash):
    with db.session() as s:
        return make_people(s, password_hash)


@pytest.fixture
def app(settings, db, people):
    return create_app(settings, db)


@pytest.fixture
def client(app, people):
    client = app.server.test_client()
    token = csrf_from(client.get("/login").data)
    response = client.post(
        "/login", data={"email": people.police_member.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    client.get("/")  # a page load sets the CSRF cookie the browser's script sends back
    return client


def csrf_header(client) -> dict[str, str]:
    return {"X-CSRFToken": client.get_cookie("_csrf_token").value}


def session_row(db, people) -> UserSession:
    with db.session() as s:
        return s.scalars(select(UserSession).where(UserSession.user_id == people.police_member.id)).one()


def idle_for(db, people, minutes: float) -> None:
    """Pretend the signed-in user last did something `minutes` ago."""
    with db.session() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == people.police_member.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )


def test_warning_lead_is_two_minutes_or_half_a_shorter_timeout():
    assert warning_lead(timedelta(minutes=30)) == timedelta(minutes=2)
    assert warning_lead(timedelta(minutes=1)) == timedelta(seconds=30)
    assert warning_lead(timedelta(seconds=20)) == timedelta(seconds=10)


def test_both_routes_need_a_signed_in_user(app):
    anonymous = app.server.test_client()
    response = anonymous.post("/session/keepalive")
    assert response.status_code == 401
    response = anonymous.get("/session/status")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_keepalive_needs_the_csrf_header(client, db, people):
    idle_for(db, people, 0.5)  # within the interval at which ordinary requests are recorded
    before = session_row(db, people).last_seen_at
    assert client.post("/session/keepalive").status_code == 400
    assert client.post("/session/keepalive", headers={"X-CSRFToken": "forged"}).status_code == 400
    assert session_row(db, people).last_seen_at == before


def test_keepalive_extends_the_session(client, db, people):
    idle_for(db, people, 25)
    response = client.post("/session/keepalive", headers=csrf_header(client))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["seconds_left"] == body["idle_seconds"] == 30 * 60
    assert body["warning_seconds"] == 120
    assert utcnow() - session_row(db, people).last_seen_at < timedelta(seconds=5)
    # the full idle timeout from now: 29 more minutes without activity do not end it
    idle_for(db, people, 29)
    assert client.get("/session/status").status_code == 200


def test_status_tells_the_time_left_without_counting_as_activity(client, db, people):
    idle_for(db, people, 10)  # well past the interval at which ordinary requests are recorded
    before = session_row(db, people).last_seen_at
    response = client.get("/session/status")
    assert response.status_code == 200
    body = response.get_json()
    assert 20 * 60 - 5 <= body["seconds_left"] <= 20 * 60
    assert body["idle_seconds"] == 30 * 60 and body["warning_seconds"] == 120
    assert 12 * 3600 - 60 <= body["absolute_seconds_left"] <= 12 * 3600
    assert session_row(db, people).last_seen_at == before  # unchanged
    # an ordinary request does count
    client.get("/")
    assert session_row(db, people).last_seen_at > before


def test_after_the_timeout_the_session_has_ended(client, db, people):
    idle_for(db, people, 31)
    response = client.get("/session/status")
    assert response.status_code == 302
    assert "reason=idle" in response.headers["Location"]
    row = session_row(db, people)
    assert row.ended_at is not None and row.end_reason == "idle"
    # "stay signed in" cannot revive it
    assert client.post("/session/keepalive", headers=csrf_header(client)).status_code == 401
    assert session_row(db, people).ended_at is not None
    assert client.get("/").status_code == 302


def test_short_timeouts_for_tests_come_from_settings(settings, db, people):
    app = create_app(replace(settings, idle_timeout=timedelta(seconds=20)), db)
    client = app.server.test_client()
    token = csrf_from(client.get("/login").data)
    client.post("/login", data={"email": people.police_member.email, "password": TEST_PASSWORD, "csrf_token": token})
    body = client.get("/session/status").get_json()
    assert body["idle_seconds"] == 20 and body["warning_seconds"] == 10
    assert 15 <= body["seconds_left"] <= 20


def test_session_time_left_and_peeking(db, people, settings):
    with db.session() as s:
        token = auth.start_session(s, people.police_member)
    now = utcnow()
    with db.session() as s:
        s.execute(update(UserSession).values(last_seen_at=now - timedelta(minutes=5)))
    with db.session() as s:
        assert auth.resolve_session(s, settings, token, touch=False).user is not None
    with db.session() as s:
        left = auth.session_time_left(s, settings, token, now=now)
        assert left.idle_seconds == 25 * 60
        assert left.absolute_seconds <= 12 * 3600
    with db.session() as s:
        left = auth.session_time_left(s, settings, token, keep_alive=True, now=now)
        assert left.idle_seconds == 30 * 60
    with db.session() as s:
        assert auth.session_time_left(s, settings, "no such token") is None
        auth.end_session(s, token)
    with db.session() as s:
        assert auth.session_time_left(s, settings, token, keep_alive=True) is None
