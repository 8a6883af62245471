"""Opening a TLP:RED incident in headless Chromium, by keyboard: the page asks why before it shows
anything of the record, the error summary takes focus, "Another reason" reveals its text box, and
once the reason is given the record is shown with focus on its heading; axe-core checks both."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app import create_app
from dashboard import record_views
from dashboard.models import AuditEvent, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def red_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat, cora = s.get(User, people.police_member.id), s.get(User, people.council_member.id)
        red = add_incident(s, pat, Marking.RED, day=date.today() - timedelta(days=2), recipients=[cora],
                           title="Meeting at the snooker hall")
        red.description = "Forty people from two groups."
        red_id = red.id
    return create_app(settings, sqlite_db), sqlite_db, people, red_id


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_rvb101_a_red_incident_is_opened_by_keyboard_after_saying_why(dash_duo, red_app):
    app, db, people, red = red_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)  # named on the record
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + f"/incidents/{red}")
    dash_duo.wait_for_text_to_equal("#incident-view-heading", f"Incident #{red}", timeout=15)
    main = dash_duo.find_element("#main").text
    assert "TLP:RED" in main and "Why are you opening this record?" in main
    assert "snooker" not in main.lower() and "Forty people" not in main
    assert not dash_duo.find_element("#incident-view-other-block").is_displayed()
    assert axe_violations(driver) == []

    # no reason: the error summary takes focus and links to the question
    dash_duo.find_element("#incident-view-open").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#incident-view-errors", "Choose why you are opening this record.", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "incident-view-errors")
    assert driver.find_elements(By.CSS_SELECTOR, "#incident-view-errors a[href='#incident-view-reason-0']")
    assert axe_violations(driver) == []

    # "Another reason" (the last radio) reveals the text box, next in the tab order
    driver.find_element(By.ID, "incident-view-reason-4").send_keys(Keys.SPACE)
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "incident-view-other").is_displayed())
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert active_id(driver) == "incident-view-other"
    driver.switch_to.active_element.send_keys("Preparing the safeguarding board report")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert active_id(driver) == "incident-view-open"
    driver.switch_to.active_element.send_keys(Keys.ENTER)

    # the record, with focus on its heading
    dash_duo.wait_for_text_to_equal("#incident-title", "Meeting at the snooker hall", timeout=15)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "incident-title")
    assert "Forty people from two groups." in dash_duo.find_element("#incident-summary").text
    assert not driver.find_elements(By.ID, "incident-view-reason")
    assert axe_violations(driver) == []
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == record_views.ACTION))
        assert (event.user_id, event.record_id, event.reason) == (
            people.council_member.id, str(red), "Preparing the safeguarding board report")

    # again in this session: straight to the record
    driver.get(dash_duo.server.url + f"/incidents/{red}")
    dash_duo.wait_for_text_to_equal("#incident-title", "Meeting at the snooker hall", timeout=15)
    assert dash_duo.get_logs() == []
