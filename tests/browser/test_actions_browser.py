"""The action tracker and an action's page in headless Chromium, by keyboard: a member narrows the
tracker to their organisation's actions, opens an overdue one, records progress (after an error
the summary takes focus), sees it in the updates, and opens the outcome chart's table; focus is
visible and axe-core finds nothing on either page."""

from __future__ import annotations

import base64
import io
import unicodedata
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from dashboard import actions, meetings
from dashboard.access import Viewer
from dashboard.models import Action, ActionUpdate, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"


@pytest.fixture
def actions_app(settings, sqlite_db, password_hash):
    today = date.today()
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        chair = Viewer.from_user(s.get(User, people.charity_chair.id))
        for n in (-100, -90, -30, -20):
            add_incident(s, people.police_member, Marking.GREEN, day=today + timedelta(days=n), area=BIRMINGHAM)
        incident = add_incident(s, people.council_member, Marking.GREEN, day=today - timedelta(days=65),
                                area=BIRMINGHAM, title="Leaflets on Park Road").id
        meeting = meetings.create_meeting(s, chair, {
            "held_on": (today - timedelta(days=60)).isoformat(), "kind": "quarterly",
            "title": "Quarterly meeting", "attendees": [people.police.id, people.council.id]})

        def action(description, owner, due_in, **more):
            return actions.create_action(s, chair, {
                "meeting": meeting, "description": description, "owner": owner.id, "lead": "A. Lead",
                "due_on": (today + timedelta(days=due_in)).isoformat(), **more})

        overdue = action("Brief faith leaders on the leafleting", people.police, -12,
                         areas=[BIRMINGHAM], incidents=[incident])
        action("Publish the myth-buster leaflet", people.council, 5)
        action("Share the CCTV review", people.police, 40)
    return create_app(settings, sqlite_db), sqlite_db, people, overdue, incident


def focused(driver):
    return driver.switch_to.active_element


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def focus_ring(driver) -> tuple[str, str]:
    return tuple(driver.execute_script(
        "var s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];"))


def test_act101_a_member_follows_up_their_organisations_overdue_action(dash_duo, actions_app):
    app, db, people, overdue, incident = actions_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/actions")
    dash_duo.wait_for_contains_text("#actions-tracker-table", "Publish the myth-buster leaflet", timeout=15)
    assert dash_duo.find_element("#actions-summary").text == \
        "3 actions: 1 overdue, 1 due soon or blocked, 1 on track and 0 done or dropped."
    first = driver.find_element(By.CSS_SELECTOR, "#actions-tracker-table tbody tr").text
    assert "Overdue (12 days)" in first and "Brief faith leaders" in first
    assert axe_violations(driver) == []

    # "My organisation's actions", by keyboard: the list, the summary and the address bar follow
    driver.find_element(By.ID, "actions-view-1").send_keys(Keys.SPACE)
    dash_duo.wait_for_text_to_equal(
        "#actions-summary", "2 actions: 1 overdue, 0 due soon or blocked, 1 on track and 0 done or dropped.",
        timeout=10)
    assert "myth-buster" not in dash_duo.find_element("#actions-tracker-table").text
    assert dash_duo.find_element("#actions-count").text == "Showing all 2 actions, overdue first."
    WebDriverWait(driver, 5).until(lambda d: d.current_url.endswith("/actions?view=mine"))
    assert axe_violations(driver) == []

    # tab from the last filter to the first action: the focus is visible
    dash_duo.find_element("#actions-filter-rag").send_keys("")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert focused(driver).get_attribute("id") == "actions-clear"
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert focused(driver).get_attribute("href").endswith(f"/actions/{overdue}")
    assert focus_ring(driver) == ("solid", "3px")
    ActionChains(driver).send_keys(Keys.ENTER).perform()

    # the action: its rating in words, its links, the outcome chart and the form
    dash_duo.wait_for_text_to_equal("#action-title", "Brief faith leaders on the leafleting", timeout=15)
    assert "Overdue (12 days)" in dash_duo.find_element("#action-summary").text
    assert driver.find_element(By.CSS_SELECTOR, f"#action-incidents a[href='/incidents/{incident}']")
    assert driver.find_element(By.CSS_SELECTOR, f"#action-districts a[href='/?area={BIRMINGHAM}']")
    dash_duo.wait_for_element("#action-outcome-graph .main-svg", timeout=15)
    assert "Birmingham" in dash_duo.find_element("#action-outcome-summary").text
    assert "No progress has been recorded yet." in dash_duo.find_element("#action-updates").text
    assert axe_violations(driver) == []

    # a progress figure out of range: the error summary takes focus and links to the field
    progress = dash_duo.find_element("#action-update-progress")
    progress.send_keys(Keys.CONTROL, "a")
    progress.send_keys("150")
    dash_duo.find_element("#action-update-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#action-update-errors", "whole number from 0 to 100", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "action-update-errors")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "#action-update-errors a[href='#action-update-progress']").send_keys(
        Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "action-update-progress")

    # in progress, 50%, with a note: saved, and at the top of the progress updates
    progress.send_keys(Keys.CONTROL, "a")
    progress.send_keys("50")
    driver.find_element(By.ID, "action-update-status-1").send_keys(Keys.SPACE)  # In progress
    dash_duo.find_element("#action-update-note").send_keys("Met the faith leaders; a follow-up is booked.")
    dash_duo.find_element("#action-update-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#action-status", "Your progress update was saved: In progress, 50%.",
                                    timeout=10)
    latest = dash_duo.find_element("#action-updates-0").text
    assert "Pat Police" in latest and "Test Police" in latest and "In progress" in latest and "50%" in latest
    assert "Met the faith leaders; a follow-up is booked." in latest
    assert "50%" in dash_duo.find_element("#action-summary").text
    assert dash_duo.find_element("#action-update-errors").get_attribute("hidden") is not None
    with db.session() as s:
        saved = s.get(Action, overdue)
        assert (saved.status, saved.progress) == ("in progress", 50)
        assert s.query(ActionUpdate).filter(ActionUpdate.action_id == overdue).one().user_id == \
            people.police_member.id

    # the outcome chart as a table
    dash_duo.find_element("#action-outcome-table-toggle").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#action-outcome-table-toggle", "Hide table", timeout=10)
    dash_duo.wait_for_contains_text("#action-outcome-data-table", "Before it was agreed", timeout=10)
    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []


def test_act102_the_tracker_prints_without_navigation_or_filters(dash_duo, actions_app):
    app, _db, people, _overdue, _incident = actions_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.charity_chair.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/actions")
    dash_duo.wait_for_contains_text("#actions-tracker-table", "Share the CCTV review", timeout=15)
    pdf = PdfReader(io.BytesIO(base64.b64decode(driver.print_page())))
    # (NFKC: the PDF's text has ligatures, "ﬂ" for "fl")
    printed = unicodedata.normalize("NFKC", " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages))
    for words in ("Action tracker", "Brief faith leaders on the leafleting", "Publish the myth-buster leaflet",
                  "Share the CCTV review", "Overdue (12 days)", "Due soon", "On track",
                  "3 actions: 1 overdue"):
        assert words in printed, words
    for words in ("Sign out", "Skip to main content", "Choose which actions to show", "Clear the filters",
                  "Print this list", "Add an action", "All organisations"):
        assert words not in printed, words
    assert dash_duo.get_logs() == []
