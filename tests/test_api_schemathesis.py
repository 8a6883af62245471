"""Schemathesis against the OpenAPI description the app serves, through the WSGI app: every
request the description allows is answered as described (200 with a body matching the schema),
every request it does not allow is refused with 4xx, the token is enforced, nothing is a 500."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.generation.modes import GenerationMode
from werkzeug.serving import make_server

from app import create_app
from dashboard import api, api_tokens
from dashboard.access import Viewer
from dashboard.models import Strand, TensionAssessment, User
from dashboard.reference import Marking
from tests.conftest import add_incident, make_people

TODAY = date(2026, 11, 24)


@pytest.fixture
def token(sqlite_db, password_hash) -> str:
    """A SQLite database with a few incidents and assessments, and an SCI user's token."""
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = s.get(User, people.police_member.id)
        race = s.get(Strand, "race")
        for n, (area, category, marking) in enumerate([
            ("E08000025", "literature", Marking.GREEN), ("E08000025", "stickers", Marking.CLEAR),
            ("E07000032", "literature", Marking.GREEN), ("E07000129", "online", Marking.GREEN),
            ("E08000025", "literature", Marking.AMBER), ("E07000032", "hc-abuse", Marking.RED),
        ] * 3):
            incident = add_incident(s, pat, marking, day=date(2025, 6, 1) + timedelta(days=29 * n), area=area,
                                    category=category)
            incident.strands = [race]
        s.add(TensionAssessment(area_code="E08000025", assessed_on=date(2026, 5, 1), level=4,
                                marking=Marking.GREEN.value, source_org_id=pat.organisation_id, reporter_id=pat.id))
        admin = Viewer.from_user(s.get(User, people.council_admin.id))
        return api_tokens.issue(s, admin, people.sci.id, "Schemathesis", 90)[1]


@pytest.fixture
def app(settings, sqlite_db, token, monkeypatch):
    monkeypatch.setattr(api, "_today", lambda: TODAY)
    limits = {"api_rate_limit": "100000 per minute", "api_auth_failure_limit": "100000 per minute"}
    return create_app(settings.with_overrides(**limits), sqlite_db)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["allowed", "not-allowed"])
def test_the_api_does_what_its_description_says(app, token, mode):
    # Through the WSGI app. (schemathesis.pytest.from_fixture does not run under pytest 9, so the
    # schema's Hypothesis strategy is used directly; every default check runs on every case.)
    # (Answers plain: the WSGI transport hands schemathesis the bytes as sent, and the app
    # compresses for clients that ask; the HTTP run below decompresses as any client does.)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server, headers=headers)
    assert "GET /api/v1/summary" in [result.ok().label for result in api_schema.get_all_operations()]

    @given(case=api_schema.as_strategy(mode))
    @hypothesis_settings(max_examples=60, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def check(case):
        case.call_and_validate(headers=headers)

    check()


@pytest.fixture
def served(app):
    """The app on a local port: schemathesis's engine (its coverage phase) speaks HTTP only."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_every_phase_of_a_schemathesis_run_passes(served, token):
    # As `schemathesis run` would: the coverage phase (boundaries, missing and unexpected values,
    # undeclared methods, missing credentials) and fuzzing, with every default check.
    headers = {"Authorization": f"Bearer {token}"}
    config = SchemathesisConfig.from_dict({"headers": headers, "generation": {"max-examples": 40}})
    schema = schemathesis.openapi.from_url(f"{served}/api/v1/openapi.json", config=config, headers=headers)
    schema.config.update(base_url=served)
    ran, problems = {}, []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status != Status.SKIP:
            ran[event.phase.value] = ran.get(event.phase.value, 0) + len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                problems.extend(f"{event.phase.value}: {c.name}: {c.failure_info.failure if c.failure_info else ''}"
                                for c in checks if c.status != Status.SUCCESS)
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            problems.append(repr(event))
    assert problems == []
    assert ran.get("coverage", 0) >= 50 and ran.get("fuzzing", 0) >= 10, ran
