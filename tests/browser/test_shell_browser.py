"""The app shell in headless Chromium: sign in, see who you are, use a callback, sign out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import update

from app import create_app
from dashboard.models import AppSetting, User, UserSession, utcnow
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        s.add(AppSetting(key="demo_mode", value="true"))
        pat = s.get(User, people.police_member.id)
        add_incident(s, pat, Marking.GREEN)
        add_incident(s, pat, Marking.AMBER_STRICT)
    return create_app(settings, sqlite_db), people


def test_shell001_sign_in_see_shell_and_sign_out(dash_duo, demo_app):
    app, people = demo_app
    start_app(dash_duo, app)
    dash_duo.driver.get(dash_duo.server.url + "/login")
    assert dash_duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert axe_violations(dash_duo.driver) == []
    # Paste and password managers work: nothing cancels a paste, and the fields say what they hold.
    for field, purpose in (("email", "username"), ("password", "current-password")):
        element = dash_duo.driver.find_element(By.ID, field)
        assert element.get_attribute("autocomplete") == purpose
        assert dash_duo.driver.execute_script(
            "var e = new ClipboardEvent('paste', {bubbles: true, cancelable: true});"
            "arguments[0].dispatchEvent(e); return e.defaultPrevented;", element) is False
    # the accessibility statement, from the sign-in page, before signing in
    dash_duo.driver.find_element(By.LINK_TEXT, "Accessibility statement").click()
    dash_duo.wait_for_text_to_equal("h1", "Accessibility statement for the Midlands Partnership Dashboard")
    assert axe_violations(dash_duo.driver) == []
    dash_duo.driver.get(dash_duo.server.url + "/login")

    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    dash_duo.wait_for_text_to_equal("#shell-user-name", "Cora Council")
    assert "Test Council" in dash_duo.find_element("#shell-user-org").text
    assert "Member" in dash_duo.find_element("#shell-user-role").text
    assert "synthetic demonstration data" in dash_duo.find_element("#shell-demo-notice").text
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents", timeout=15)
    dash_duo.find_element("a.nav-link[href='/access']").click()
    # the callback ran through the gate: the council sees the GREEN record, not the AMBER+STRICT one
    dash_duo.wait_for_contains_text("#access-counts-summary", "You can see 1 incidents", timeout=10)

    assert axe_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    assert dash_duo.find_element("footer #shell-accessibility-link").get_attribute("href").endswith("/accessibility")

    dash_duo.find_element("#shell-sign-out").click()
    dash_duo.wait_for_contains_text("main", "You have signed out", timeout=10)
    dash_duo.driver.get(dash_duo.server.url + "/")
    assert "/login" in dash_duo.driver.current_url


def test_shell002_keyboard_reaches_skip_link_and_period_choice(dash_duo, demo_app):
    app, people = demo_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    dash_duo.driver.get(dash_duo.server.url + "/access")  # a fresh page: focus starts at the top
    dash_duo.wait_for_contains_text("#access-counts-summary", "You can see 2 incidents", timeout=10)
    body = dash_duo.driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = dash_duo.driver.switch_to.active_element
    assert focused.text == "Skip to main content"
    # choose "All time" with the keyboard alone: the group of radios is one Tab stop, and the
    # arrow key moves from the chosen radio to the next and chooses it
    dash_duo.find_element("#access-period input[value='12m']").send_keys(Keys.ARROW_RIGHT)
    focused = dash_duo.driver.switch_to.active_element
    assert focused.get_attribute("value") == "all"
    dash_duo.wait_for_contains_text("#access-counts-summary", "in all time", timeout=10)
    focused.send_keys(Keys.SHIFT + Keys.TAB)  # out of the group, not to the radio before
    assert dash_duo.driver.switch_to.active_element.get_attribute("name") != "access-period"
    assert dash_duo.get_logs() == []


def test_shell003_ended_session_sends_the_user_to_sign_in(dash_duo, demo_app, sqlite_db):
    app, people = demo_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    dash_duo.find_element("a.nav-link[href='/access']").click()
    dash_duo.wait_for_contains_text("#access-counts-summary", "You can see 2 incidents", timeout=10)
    with sqlite_db.session() as s:
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == people.police_member.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    dash_duo.find_element("label[for$='_input_all']").click()
    dash_duo.wait_for_contains_text("main", "Please sign in again", timeout=10)
    assert "/login" in dash_duo.driver.current_url
