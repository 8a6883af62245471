"""Changing your password in headless Chromium: from the shell's link, one error first (the
summary takes focus and links to the field), then the change; still signed in; then sign out and
in again with the new password."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser
NEW = "copper kettles hum beside the canal"


@pytest.fixture
def account_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), people


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_acc101_change_the_password_after_one_error_then_sign_in_with_it(dash_duo, account_app):
    app, people = account_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    link = dash_duo.find_element("#shell-password-link")
    assert link.text == "Change your password"
    link.click()
    dash_duo.wait_for_text_to_equal("h1", "Change your password", timeout=10)
    current = dash_duo.find_element("#account-password-current")
    assert current.get_attribute("type") == "password"
    assert current.get_attribute("autocomplete") == "current-password"
    assert dash_duo.find_element("#account-password-new").get_attribute("autocomplete") == "new-password"
    assert axe_violations(driver) == []

    # One error first: a new password that is too short. The summary takes focus and links to the field.
    current.send_keys(TEST_PASSWORD)
    dash_duo.find_element("#account-password-new").send_keys("too-short")
    dash_duo.find_element("#account-password-confirm").send_keys("too-short")
    dash_duo.find_element("#account-password-submit").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text(
        "#account-password-errors", "Your new password must be at least 12 characters long (it is 9).", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "account-password-errors")
    assert "at least 12 characters" in dash_duo.find_element("#account-password-new-error").text
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "#account-password-errors a[href='#account-password-new']").click()

    # Correct it and press Enter in the last field: changed, and still signed in here.
    for field in ("#account-password-new", "#account-password-confirm"):
        element = dash_duo.find_element(field)
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.BACKSPACE)
        element.send_keys(NEW)
    dash_duo.find_element("#account-password-confirm").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text(
        "#account-password-done", "Your password has been changed. You have been signed out everywhere else.",
        timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "account-password-done")
    assert dash_duo.find_element("#account-password-errors").get_attribute("hidden") is not None
    assert axe_violations(driver) == []
    dash_duo.find_element("a.nav-link[href='/access']").click()
    dash_duo.wait_for_contains_text("#access-counts-summary", "You can see", timeout=10)
    assert "/login" not in driver.current_url
    assert dash_duo.get_logs() == []

    # Sign out and in again with the new password.
    dash_duo.find_element("#shell-sign-out").click()
    dash_duo.wait_for_contains_text("main", "You have signed out", timeout=10)
    sign_in(dash_duo, people.council_member.email, NEW)
    dash_duo.wait_for_text_to_equal("#shell-user-name", "Cora Council", timeout=10)
