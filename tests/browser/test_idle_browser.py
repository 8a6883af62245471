"""The idle warning in headless Chromium, with a 16-second idle timeout (8 seconds' warning).

Sign in; the dialog appears before the timeout with focus on "Stay signed in"; axe finds nothing
wrong with it open; Enter keeps the session alive past the original timeout and gives focus back;
left alone, the session runs out and the sign-in page says why.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser

IDLE = 16  # seconds; the warning comes min(2 minutes, half the timeout) = 8 seconds before


@pytest.fixture
def idle_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(replace(settings, idle_timeout=timedelta(seconds=IDLE)), sqlite_db), people


def dialog_open(driver) -> bool:
    return driver.execute_script("var d = document.getElementById('idle-dialog'); return Boolean(d && d.open);")


def session_status(driver) -> int:
    """What GET /session/status answers now (it does not count as activity)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/session/status', {redirect: 'manual'}).then(r => done(r.status)).catch(() => done(-1));"
    )


def test_idle001_warning_stay_signed_in_then_time_out(dash_duo, idle_app):
    app, people = idle_app
    start_app(dash_duo, app)
    driver = dash_duo.driver
    signed_in_at = time.monotonic()
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    link = dash_duo.find_element("a.nav-link[href='/access']")
    driver.execute_script("arguments[0].focus();", link)

    # The warning: an alert dialog, with focus on "Stay signed in" and the time left in words.
    WebDriverWait(driver, IDLE).until(dialog_open)
    dialog = dash_duo.find_element("#idle-dialog")
    assert dialog.get_attribute("role") == "alertdialog"
    assert dialog.get_attribute("aria-modal") == "true"
    assert driver.switch_to.active_element.get_attribute("id") == "idle-stay"
    assert "You will be signed out in" in dash_duo.find_element("#idle-dialog-text").text
    assert "seconds because you have not done anything for a while" in dash_duo.find_element("#idle-dialog-text").text
    # Tab stays inside the dialog
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "idle-sign-out"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "idle-stay"
    assert axe_violations(driver) == []

    # "Stay signed in" with the keyboard: the dialog closes, focus goes back, the session lives on.
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: not dialog_open(d))
    assert driver.switch_to.active_element.get_attribute("href").endswith("/access")
    time.sleep(max(0.0, signed_in_at + IDLE + 1 - time.monotonic()))  # past the original timeout
    assert session_status(driver) == 200
    assert "/login" not in driver.current_url
    assert dash_duo.get_logs() == []

    # Left alone, the warning comes back and the session runs out: the sign-in page says why.
    WebDriverWait(driver, IDLE).until(dialog_open)
    WebDriverWait(driver, IDLE).until(lambda d: "/login" in d.current_url)
    assert "reason=idle" in driver.current_url
    dash_duo.wait_for_contains_text("main", "without activity", timeout=5)
    driver.get(dash_duo.server.url + "/access")
    assert "/login" in driver.current_url


def test_idle002_escape_stays_signed_in_and_sign_out_signs_out(dash_duo, settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    start_app(dash_duo, create_app(replace(settings, idle_timeout=timedelta(seconds=10)), sqlite_db))
    driver = dash_duo.driver
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)

    WebDriverWait(driver, 10).until(dialog_open)
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)  # Escape means "stay signed in"
    WebDriverWait(driver, 5).until(lambda d: not dialog_open(d))
    assert session_status(driver) == 200

    WebDriverWait(driver, 10).until(dialog_open)
    dash_duo.find_element("#idle-sign-out").click()  # the ordinary POST /logout, with its CSRF token
    dash_duo.wait_for_contains_text("main", "You have signed out", timeout=5)
    driver.get(dash_duo.server.url + "/")
    assert "/login" in driver.current_url
