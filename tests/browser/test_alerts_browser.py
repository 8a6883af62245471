"""Alerts in headless Chromium: the header count, acknowledging by keyboard, accessibility."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app import create_app
from dashboard import alerts
from dashboard.models import AlertRecipient, TensionAssessment, User, organisation_areas
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"


@pytest.fixture
def alerts_app(settings, sqlite_db, password_hash):
    """Police cover Birmingham: a surge there (all categories and leaflets) and a level-4
    assessment give the police members three alerts."""
    today = date.today()
    window_start = today - timedelta(days=6)
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        s.execute(organisation_areas.insert(), [{"organisation_id": people.police.id, "area_code": BIRMINGHAM}])
        cora = s.get(User, people.council_member.id)
        for week in range(1, 13):
            add_incident(s, cora, Marking.GREEN, day=window_start - timedelta(days=7 * week - 3), area=BIRMINGHAM)
        for i in range(8):
            add_incident(s, cora, Marking.GREEN, day=window_start + timedelta(days=i % 7), area=BIRMINGHAM)
        s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=today, level=4,
                                source_org_id=people.council.id, reporter_id=cora.id))
        s.flush()
        assert len(alerts.check_alerts(s, today).created) == 3
    return create_app(settings, sqlite_db), people


def _wait_for_count(dash_duo, text: str) -> None:
    """The header link's text as read aloud (its visually hidden word included)."""
    WebDriverWait(dash_duo.driver, 10).until(
        lambda d: d.find_element(By.ID, "shell-alerts-link").get_attribute("textContent") == text
    )


def _focused(driver):
    return driver.switch_to.active_element


def test_alr101_acknowledge_by_keyboard(dash_duo, alerts_app, sqlite_db):
    app, people = alerts_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    _wait_for_count(dash_duo, "Alerts (3 waiting)")

    dash_duo.find_element("#shell-alerts-link").click()
    dash_duo.wait_for_contains_text("#alerts-waiting-heading", "Waiting for acknowledgement (3)", timeout=10)
    page = dash_duo.find_element("#alerts-list").text
    assert "Sharp rise in incidents in Birmingham" in page
    assert "Tension level 4 (High) in Birmingham" in page
    assert "TLP:GREEN" in page and "See the evidence" in page
    evidence = dash_duo.find_element("#alerts-waiting a").get_attribute("href")
    assert "/trends?" in evidence or "metric=tension" in evidence
    assert axe_violations(dash_duo.driver) == []

    # keyboard: tab to the first "Acknowledge" button and press Enter
    driver = dash_duo.driver
    dash_duo.find_element("#alerts-waiting a").send_keys("")  # focus the first evidence link
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert "Acknowledge" in _focused(driver).text
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    dash_duo.wait_for_text_to_equal("#alerts-status", "Acknowledged 1 alert. 2 still waiting.", timeout=10)
    _wait_for_count(dash_duo, "Alerts (2 waiting)")
    # focus moved on to the next waiting alert's button, so the keyboard user keeps their place
    dash_duo.wait_for_contains_text("#alerts-waiting-heading", "(2)", timeout=10)
    assert "alerts-ack" in _focused(driver).get_attribute("class")
    assert "Acknowledged by you" in dash_duo.find_element("#alerts-acknowledged").text

    # "Acknowledge all" with the space bar
    dash_duo.find_element("#alerts-list button.btn-outline-primary").send_keys(Keys.SPACE)
    dash_duo.wait_for_text_to_equal("#alerts-status", "Acknowledged 2 alerts. No alerts are waiting.", timeout=10)
    _wait_for_count(dash_duo, "Alerts (0 waiting)")
    assert _focused(driver).get_attribute("id") == "alerts-waiting-heading"
    assert "No alerts are waiting for you." in dash_duo.find_element("#alerts-list").text

    with sqlite_db.session() as s:
        mine = s.scalars(select(AlertRecipient).where(AlertRecipient.user_id == people.police_member.id)).all()
        others = s.scalars(select(AlertRecipient).where(AlertRecipient.user_id != people.police_member.id)).all()
        assert len(mine) == 3 and all(r.acknowledged_at for r in mine)
        assert others and not any(r.acknowledged_at for r in others)

    assert axe_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
