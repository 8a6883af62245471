"""The accessibility statement: public, linked from the sign-in page and every page of the app,
and saying what the regulations ask of it."""

from __future__ import annotations

import json

import pytest

from app import create_app
from tests.conftest import make_people
from tests.test_web import sign_in


@pytest.fixture
def client(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db).server.test_client(), people


def test_anyone_can_read_the_statement_without_signing_in(client):
    client, _people = client
    page = client.get("/accessibility")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<title>Accessibility statement - Midlands Partnership Dashboard</title>" in text
    for required in ["Compliance status", "partially compliant", "Web Content Accessibility Guidelines version 2.2",
                     "Non-accessible content", "Feedback and contact information", "Enforcement procedure",
                     "Equality and Human Rights Commission", "How we tested", "This statement was prepared on",
                     "last reviewed on"]:
        assert required in text, required
    assert 'lang="en"' in text and 'href="#main"' in text  # the frame of the other public pages


def test_the_sign_in_page_and_every_app_page_link_to_it(client):
    client, people = client
    assert 'href="/accessibility"' in client.get("/login").get_data(as_text=True)
    sign_in(client, people.police_member.email)
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert "shell-accessibility-link" in layout and "/accessibility" in layout
