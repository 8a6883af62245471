"""The page walk: every registered page, opened through Dash's own router by every role.

Pages are discovered from the app's page registry, so a new page cannot be missed: each answers
without a server error, and a role a page does not serve gets the refusal, never its content.
Record pages are opened with a record that exists and one that does not.
"""

from __future__ import annotations

import re

import dash
import pytest

from app import create_app
from callbacks.pages import PAGES
from dashboard.reference import Marking, Role
from tests.conftest import TEST_PASSWORD, add_incident, csrf_from, make_people

REFUSAL = "Your role does not give access to this page"


@pytest.fixture
def people(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        return make_people(s, password_hash)


@pytest.fixture
def app(settings, sqlite_db, people):
    return create_app(settings, sqlite_db)


@pytest.fixture
def incident_id(sqlite_db, people) -> int:
    with sqlite_db.session() as s:
        return add_incident(s, people.police_member, Marking.GREEN, title="A leaflet drop on the high street").id


def sign_in(client, email):
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def open_page(client, path: str) -> tuple[int, str]:
    """What Dash's router answers for `path` (the page's content, as JSON text)."""
    pathname, _, search = path.partition("?")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": f"?{search}" if search else ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
    }
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    return response.status_code, response.get_data(as_text=True)


def concrete_paths(template: str, record_id: int) -> list[str]:
    """A page's path(s): record pages with an existing and a missing record."""
    if "<" not in template:
        return [template]
    return [re.sub(r"<\w+>", str(n), template) for n in (record_id, 999_999)]


def users_by_role(people) -> dict[str, str]:
    return {
        Role.MEMBER: people.police_member.email,
        Role.CHAIR: people.charity_chair.email,
        Role.SCI: people.sci.email,
        Role.ADMIN: people.council_admin.email,
    }


def test_every_page_is_in_the_walk(app):
    app.server.test_client().get("/")
    registered = {p["path_template"] or p["path"] for p in dash.page_registry.values()}
    walked = {page.path_template or page.path for page in PAGES}
    assert walked <= registered
    assert registered - walked <= {"/404"}, "every page but the not-found page is declared in PAGES"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.CHAIR, Role.SCI, Role.ADMIN])
def test_every_page_answers_every_role_without_errors(app, people, incident_id, role):
    client = app.server.test_client()
    sign_in(client, users_by_role(people)[role])
    client.get("/")  # sets the CSRF cookie Dash reads
    for page in PAGES:
        for path in concrete_paths(page.path_template or page.path, incident_id):
            status, content = open_page(client, path)
            assert status == 200, (role, path, status)
            if role not in page.roles:
                assert REFUSAL in content, (role, path)
                assert "A leaflet drop" not in content, (role, path)
            else:
                assert REFUSAL not in content, (role, path)


def test_sci_never_sees_a_record_through_any_page(app, people, incident_id):
    client = app.server.test_client()
    sign_in(client, people.sci.email)
    client.get("/")
    for page in PAGES:
        for path in concrete_paths(page.path_template or page.path, incident_id):
            _status, content = open_page(client, path)
            assert "A leaflet drop" not in content, path


def server_callbacks(app) -> list[tuple[str, dict]]:
    """Every callback of ours the app runs on the server, discovered from the app itself (Dash's
    own page router is walked above; pattern-matching callbacks, whose inputs are lists of
    components, are left to their pages' own tests)."""
    app.server.test_client().get("/login")  # Dash registers its callbacks on the first request
    return [(key, spec) for key, spec in app.callback_map.items()
            if spec.get("callback") is not None and "{" not in key and "_pages_content" not in key
            and not any(isinstance(i["id"], dict) or "{" in str(i["id"]) for i in spec["inputs"] + spec["state"])]


def call_with_nothing(client, key: str, spec: dict) -> tuple[int, str]:
    """Ask for one callback with every input and state empty, as a forged request could."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]
    values = [{"id": i["id"], "property": i["property"], "value": None} for i in spec["inputs"]]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": values,
        "state": [{"id": i["id"], "property": i["property"], "value": None} for i in spec["state"]],
        "changedPropIds": [f"{values[0]['id']}.{values[0]['property']}"] if values else [],
    }
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    return response.status_code, response.get_data(as_text=True)


def test_sci_never_gets_a_record_from_any_callback(app, people, incident_id):
    callbacks = server_callbacks(app)
    assert len(callbacks) > 40  # every page's callbacks, found from the app
    client = app.server.test_client()
    sign_in(client, people.sci.email)
    client.get("/")
    for key, spec in callbacks:
        status, content = call_with_nothing(client, key, spec)
        assert status in (200, 204), (key, status)
        assert "A leaflet drop" not in content, key
