"""The API tokens page in headless Chromium: an admin issues a token by keyboard, sees it once
with a copy button, hides it, and revokes a token after confirming; axe finds nothing."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from dashboard import api_tokens
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def tokens_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_tok101_issue_a_token_copy_it_hide_it_and_revoke_it(dash_duo, tokens_app):
    app, db, people = tokens_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/admin/api-tokens")
    dash_duo.wait_for_element("#api-tokens-issue", timeout=15)
    assert "No tokens have been issued yet" in dash_duo.find_element("#api-tokens-table").text
    assert axe_violations(driver) == []

    # An empty name: the error summary takes focus and links to the field.
    Select(dash_duo.find_element("#api-tokens-user")).select_by_visible_text(
        "Sam Sci (sam.sci@sci.example), Safe Communities Initiative")
    dash_duo.find_element("#api-tokens-issue").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "api-tokens-form-errors")
    assert "Enter a name for the token" in dash_duo.find_element("#api-tokens-form-errors").text

    dash_duo.find_element("#api-tokens-name").send_keys("Monthly pull")
    dash_duo.find_element("#api-tokens-issue").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "api-tokens-new-heading")
    token = dash_duo.find_element("#api-tokens-new-value").get_attribute("value")
    assert token.startswith("pdk_") and len(token) == 47
    assert "only time the token is shown" in dash_duo.find_element("#api-tokens-new-panel").text
    with db.session() as s:
        assert api_tokens.authenticate(s, token).user_id == people.sci.id
    dash_duo.wait_for_contains_text("#api-tokens-table", token[:12], timeout=10)
    assert token[12:] not in dash_duo.find_element("#api-tokens-table").text
    # Nothing of it in browser storage.
    stored = driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert token not in stored
    # The copy button is a real button, reached and used by keyboard.
    copy = dash_duo.find_element("#api-tokens-copy")
    assert copy.tag_name == "button"
    copy.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "Cop" in d.find_element(By.ID, "api-tokens-copy-status").text)
    assert axe_violations(driver) == []

    dash_duo.find_element("#api-tokens-new-hide").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.invisibility_of_element_located((By.ID, "api-tokens-new-value")))
    assert "cannot be shown again" in dash_duo.find_element("#api-tokens-status").text

    # Revoke, after the browser's own confirmation.
    revoke = driver.find_element(By.CSS_SELECTOR, "#api-tokens-table button")
    revoke.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.alert_is_present())
    alert = driver.switch_to.alert
    assert "Monthly pull" in alert.text
    alert.accept()
    dash_duo.wait_for_contains_text("#api-tokens-status", "Revoked the token", timeout=10)
    dash_duo.wait_for_contains_text("#api-tokens-table", "Revoked", timeout=10)
    with db.session() as s:
        assert api_tokens.authenticate(s, token) is None
    assert axe_violations(driver) == []
