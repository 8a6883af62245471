"""The read-only API through the real Flask app: tokens only, the same 401 for every bad token,
the national summary exactly as `summaries` builds it, parameters checked, limits, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from dashboard import api, api_tokens, summaries
from dashboard.access import Viewer
from dashboard.models import AuditEvent, Strand, TensionAssessment, User, utcnow
from dashboard.reference import Marking, MembershipStatus, UserStatus
from dashboard.web import SELF_AUTHENTICATING_BLUEPRINTS
from tests.conftest import TEST_PASSWORD, add_incident, csrf_from, make_people

TODAY = date(2026, 11, 24)  # the latest complete quarter is 2026Q3 (Jul to Sep)
BIRMINGHAM, AMBER_VALLEY, BLABY = "E08000025", "E07000032", "E07000129"
HIGH = "10000 per minute"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(api, "_today", lambda: TODAY)


@pytest.fixture
def people(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        reporter = s.get(User, people.police_member.id)
        race = s.get(Strand, "race")
        for n in range(14):
            incident = add_incident(s, reporter, Marking.GREEN if n % 3 else Marking.CLEAR,
                                    day=date(2026, 7, 1) + timedelta(days=6 * n),
                                    area=(BIRMINGHAM, AMBER_VALLEY)[n % 2],
                                    category=("literature", "stickers")[n % 2 if n < 10 else 0])
            incident.strands = [race]
        add_incident(s, reporter, Marking.GREEN, day=date(2026, 2, 3), area=BLABY)
        s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=date(2026, 8, 1), level=3,
                                marking=Marking.GREEN.value, source_org_id=reporter.organisation_id,
                                reporter_id=reporter.id))
        return people


def make_app(settings, db, **limits):
    limits = {"api_rate_limit": HIGH, "api_auth_failure_limit": HIGH} | limits
    return create_app(settings.with_overrides(**limits), db)


@pytest.fixture
def app(settings, sqlite_db, people):
    return make_app(settings, sqlite_db)


@pytest.fixture
def client(app):
    return app.server.test_client()


def issue(db, people, user=None, *, days=90, now=None) -> tuple[int, str]:
    with db.session() as s:
        admin = Viewer.from_user(s.get(User, people.council_admin.id))
        token, text = api_tokens.issue(s, admin, (user or people.sci).id, "Test pull", days, now=now)
        return token.id, text


@pytest.fixture
def token(sqlite_db, people) -> str:
    return issue(sqlite_db, people)[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def expected(db, params=None) -> dict:
    """What the summaries module itself makes of these parameters (without generated_at)."""
    with db.session() as s:
        vocabulary = summaries.choices(s, TODAY)
        query = summaries.query_from_params(params or {}, TODAY, vocabulary)
        sci = Viewer.from_user(s.get(User, s.scalar(select(User.id).where(User.role == "sci"))))
        data = summaries.to_dict(summaries.build(s, sci, query))
    data.pop("generated_at")
    return data


def published(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert data.pop("generated_at").endswith("Z")
    return data


def api_calls(db) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "api-call").order_by(AuditEvent.id)))


def sign_in(client, email):
    csrf = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf})
    assert response.status_code == 302


# --- who gets in ----------------------------------------------------------------------------------


def test_the_guard_lets_only_the_api_blueprint_check_its_own_tokens():
    assert api.BLUEPRINT in SELF_AUTHENTICATING_BLUEPRINTS and api.bp.name == api.BLUEPRINT


def test_every_bad_token_gets_the_same_401(client, sqlite_db, people, token):
    revoked_id, revoked = issue(sqlite_db, people)
    _expired_id, expired = issue(sqlite_db, people, days=30, now=utcnow() - timedelta(days=31))
    _id, disabled = issue(sqlite_db, people, people.police_member2)
    _id, suspended = issue(sqlite_db, people, people.charity_chair)
    with sqlite_db.session() as s:
        api_tokens.revoke(s, Viewer.from_user(s.get(User, people.council_admin.id)), revoked_id)
        s.get(User, people.police_member2.id).status = UserStatus.DISABLED
        s.get(User, people.charity_chair.id).organisation.membership_status = MembershipStatus.SUSPENDED
    headers = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {token} extra"},
        bearer("not-a-token"),
        bearer("pdk_" + "A" * 43),
        bearer(token[:-1] + ("A" if token[-1] != "A" else "B")),
        bearer(revoked),
        bearer(expired),
        bearer(disabled),
        bearer(suspended),
    ]
    bodies = set()
    for header in headers:
        response = client.get("/api/v1/summary", headers=header)
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.mimetype == "application/json"
        bodies.add(response.get_data())
    assert len(bodies) == 1
    assert response.get_json()["error"]["field"] == "Authorization"
    assert "Sign in required" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/summary", headers=bearer(token)).status_code == 200


def test_a_browser_session_alone_does_not_open_the_summary(client, people):
    sign_in(client, people.sci.email)
    assert client.get("/summaries").status_code == 200  # signed in
    response = client.get("/api/v1/summary")
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == api.UNAUTHORISED


def test_other_paths_under_api_need_a_session_even_with_a_token(client, token, people):
    for path in ("/api/", "/api/v1/", "/api/v1/summaries", "/api/v2/summary", "/api/v1/summary/extra"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 401, path
        assert b"Sign in required" in response.data
    response = client.post("/api/v1/summary", headers=bearer(token))
    assert response.status_code == 401  # no method but GET reaches the API


def test_a_token_whose_user_may_not_view_gets_403(client, token, monkeypatch, sqlite_db):
    monkeypatch.setattr(summaries, "may_view", lambda viewer: False)
    response = client.get("/api/v1/summary", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json() == {"error": {"field": "Authorization", "message": api.FORBIDDEN}}
    assert api_calls(sqlite_db)[-1].detail["status"] == 403


# --- what it answers ------------------------------------------------------------------------------


def test_a_working_token_gets_the_national_summary(client, sqlite_db, token):
    response = client.get("/api/v1/summary", headers=bearer(token))
    assert published(response) == expected(sqlite_db)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Handling-Marking"] == "TLP:GREEN"
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["period"] == {"from": "2025Q4", "to": "2026Q3", "start": "2025-10-01", "end": "2026-09-30"}
    by_area = data["tables"][0]
    assert by_area["key"] == "by_area" and by_area["totals"]["total"] == 15


@pytest.mark.parametrize(
    "query",
    [
        {"to": "2026Q3", "quarters": "1"},
        {"to": "2026Q1", "quarters": "20", "geography": "region", "breakdown": "strand"},
        {"geography": "police-force-area", "area": [BIRMINGHAM, AMBER_VALLEY], "category": ["literature"]},
        {"area": [BLABY, BLABY]},
        {"to": "2000Q1"},
    ],
)
def test_parameters_mean_what_they_mean_on_the_summaries_page(client, sqlite_db, token, query):
    response = client.get("/api/v1/summary", query_string=query, headers=bearer(token))
    assert published(response) == expected(sqlite_db, query)


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"to": "2026Q9"}, "to", "2026Q9"),
        ({"to": "2026Q4"}, "to", "2026Q3"),  # not ended yet
        ({"to": "1999Q4"}, "to", "2000Q1"),
        ({"to": "2026q3"}, "to", "2026q3"),
        ({"to": ["2026Q1", "2026Q2"]}, "to", "once"),
        ({"quarters": "0"}, "quarters", "1 to 20"),
        ({"quarters": "21"}, "quarters", "1 to 20"),
        ({"quarters": "four"}, "quarters", "four"),
        ({"geography": "county"}, "geography", "county"),
        ({"breakdown": "Category"}, "breakdown", "Category"),
        ({"area": "E99999999"}, "area", "E99999999"),
        ({"area": ""}, "area", "district"),
        ({"category": "nothing"}, "category", "nothing"),
        ({"token": "pdk_x"}, "token", "Unknown parameter: token"),
        ({"zeta": "1", "alpha": "2"}, "alpha", "alpha, zeta"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, token, query, field, words):
    response = client.get("/api/v1/summary", query_string=query, headers=bearer(token))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert words in error["message"]


def test_restricted_records_never_change_the_answer(client, sqlite_db, people, token):
    _id, reporters_token = issue(sqlite_db, people, people.police_member)
    before = published(client.get("/api/v1/summary", headers=bearer(token)))
    with sqlite_db.session() as s:
        pat = s.get(User, people.police_member.id)
        chris = s.get(User, people.charity_chair.id)
        for n in range(9):
            for marking in (Marking.AMBER, Marking.AMBER_STRICT, Marking.RED):
                add_incident(s, pat, marking, day=date(2026, 8, 1) + timedelta(days=n), area=BIRMINGHAM,
                             recipients=[chris] if marking is Marking.RED else ())
        s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=date(2026, 9, 1), level=5,
                                marking=Marking.RED.value, source_org_id=pat.organisation_id, reporter_id=pat.id))
    assert published(client.get("/api/v1/summary", headers=bearer(token))) == before
    # Not even for the person who reported them and may see them all.
    assert published(client.get("/api/v1/summary", headers=bearer(reporters_token))) == before


# --- limits ---------------------------------------------------------------------------------------


def test_calls_over_the_limit_get_429_per_token(settings, sqlite_db, people):
    client = make_app(settings, sqlite_db, api_rate_limit="3 per minute").server.test_client()
    _id, first = issue(sqlite_db, people)
    _id, second = issue(sqlite_db, people)
    for _ in range(3):
        assert client.get("/api/v1/summary", headers=bearer(first)).status_code == 200
    response = client.get("/api/v1/summary", headers=bearer(first))
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["error"]["field"] is None
    assert "calls with this token" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/summary", headers=bearer(second)).status_code == 200
    assert [e.detail["status"] for e in api_calls(sqlite_db)] == [200, 200, 200, 429, 200]


def test_failed_token_checks_are_limited_per_address(settings, sqlite_db, people, token):
    client = make_app(settings, sqlite_db, api_auth_failure_limit="3 per minute").server.test_client()
    for _ in range(3):
        assert client.get("/api/v1/summary", headers=bearer("pdk_" + "B" * 43)).status_code == 401
    response = client.get("/api/v1/summary", headers=bearer("pdk_" + "B" * 43))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    # Until the minute is up, the address is refused before any token is looked at.
    assert client.get("/api/v1/summary", headers=bearer(token)).status_code == 429
    other = client.get("/api/v1/summary", headers=bearer(token), environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert other.status_code == 200
    assert [e.detail["status"] for e in api_calls(sqlite_db)] == [401, 401, 401, 200]


# --- the audit log ---------------------------------------------------------------------------------


def test_every_call_is_audited_and_no_token_is_written_down(client, sqlite_db, people, token):
    client.get("/api/v1/summary", query_string={"quarters": "2", "area": [BLABY]}, headers=bearer(token))
    client.get("/api/v1/summary", query_string={"quarters": "99"}, headers=bearer(token))
    client.get("/api/v1/summary", headers=bearer("pdk_" + "C" * 43))
    client.get("/api/v1/summary")
    client.get("/api/v1/openapi.json", headers=bearer(token))
    events = api_calls(sqlite_db)
    assert [(e.user_id, e.detail["status"]) for e in events] == [
        (people.sci.id, 200), (people.sci.id, 400), (None, 401), (None, 401), (people.sci.id, 200)]
    assert events[0].detail["params"] == {"quarters": ["2"], "area": [BLABY]}
    assert events[0].detail["path"] == "/api/v1/summary" and events[4].detail["path"] == "/api/v1/openapi.json"
    assert events[2].detail["refused_because"] == "unknown" and events[3].detail["refused_because"] == "missing"
    assert all(e.actor == "api" and e.ip_address == "127.0.0.1" for e in events)
    assert token[12:] not in str([(e.actor, e.detail) for e in events])


def test_a_refused_token_of_a_known_user_is_audited_under_that_user(client, sqlite_db, people):
    token_id, token = issue(sqlite_db, people)
    with sqlite_db.session() as s:
        api_tokens.revoke(s, Viewer.from_user(s.get(User, people.council_admin.id)), token_id)
    assert client.get("/api/v1/summary", headers=bearer(token)).status_code == 401
    event = api_calls(sqlite_db)[-1]
    assert (event.user_id, event.detail["token_id"], event.detail["refused_because"]) == (
        people.sci.id, token_id, "revoked")


# --- the OpenAPI description -------------------------------------------------------------------------


def test_the_openapi_description_lists_todays_vocabulary(client, sqlite_db, people, token):
    assert client.get("/api/v1/openapi.json").status_code == 401
    response = client.get("/api/v1/openapi.json", headers=bearer(token))
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    operation = spec["paths"]["/api/v1/summary"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert list(parameters) == list(api.PARAMETERS)
    with sqlite_db.session() as s:
        vocabulary = summaries.choices(s, TODAY)
    assert parameters["area"]["items"]["enum"] == [code for code, _ in vocabulary.districts]
    assert len(parameters["area"]["items"]["enum"]) == 65
    assert parameters["category"]["items"]["enum"] == [code for code, _ in vocabulary.categories]
    assert parameters["to"]["enum"][0] == "2026Q3" and parameters["to"]["enum"][-1] == "2000Q1"
    assert set(operation["responses"]) == {"200", "400", "401", "403", "429"}
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"][
            "description"]}


def test_signed_in_people_can_read_the_description_in_a_browser(client, people):
    sign_in(client, people.police_member.email)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"] == "3.0.3"


def test_a_call_that_fails_on_the_server_is_still_audited(client, sqlite_db, people, token, monkeypatch):
    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(summaries, "build", broken)
    with pytest.raises(RuntimeError):  # the test app propagates errors; in production: a 500
        client.get("/api/v1/summary", headers=bearer(token))
    event = api_calls(sqlite_db)[-1]
    assert (event.user_id, event.detail["status"]) == (people.sci.id, 500)


def test_a_malformed_authorization_header_is_audited_as_such(client, sqlite_db):
    client.get("/api/v1/summary", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    event = api_calls(sqlite_db)[-1]
    assert event.detail["refused_because"] == "malformed" and "dXNlcjpwYXNz" not in str(event.detail)
