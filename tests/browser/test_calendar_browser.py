"""The trigger calendar in headless Chromium: add, edit and delete an event by keyboard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from dashboard import calendar as cal
from dashboard.access import Viewer
from dashboard.models import User
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"


@pytest.fixture
def calendar_app(settings, sqlite_db, password_hash):
    today = date.today()
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = Viewer.from_user(s.get(User, people.police_member.id))
        polling = today + timedelta(days=30)
        cal.create_event(s, pat, cal.EventForm(kind="election", title="By-election in Coventry",
                                               starts_on=polling, area_codes=["E08000026"]))
    return create_app(settings, sqlite_db), people, polling


def type_date(element, day: date) -> None:
    """Type a date into a date input the way a keyboard user does (Chromium's field order)."""
    element.send_keys(f"{day:%m}{day:%d}{day:%Y}")
    if element.get_attribute("value") != day.isoformat():  # a day-first locale
        element.send_keys(Keys.SHIFT + Keys.TAB, Keys.SHIFT + Keys.TAB)
        element.send_keys(f"{day:%d}{day:%m}{day:%Y}")
    assert element.get_attribute("value") == day.isoformat()


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_cal101_add_edit_and_delete_an_event_by_keyboard(dash_duo, calendar_app):
    app, people, polling = calendar_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/calendar")
    dash_duo.wait_for_contains_text("#calendar-upcoming", "By-election in Coventry", timeout=15)
    run_up = polling - timedelta(days=42)
    assert f"run-up from {run_up.day} {run_up:%b}" in dash_duo.find_element("#calendar-upcoming").text
    # another organisation's event: listed, but this member may not change it
    assert "Added by another organisation" in dash_duo.find_element("#calendar-events-table").text

    # saving an empty form: an error summary naming each field takes focus
    dash_duo.find_element("#calendar-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#calendar-form-errors", "Enter a title for the event.", timeout=10)
    summary = dash_duo.find_element("#calendar-form-errors").text
    assert "Choose the kind of event" in summary and "Choose at least one district" in summary
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "calendar-form-errors")
    assert dash_duo.find_element("#calendar-form-title-error").text.split() == "Error: Enter a title for the event.".split()
    assert axe_violations(driver) == []
    # each error links to its field
    driver.find_element(By.CSS_SELECTOR, "#calendar-form-errors a[href='#calendar-form-title']").send_keys(Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "calendar-form-title")

    # fill the form by keyboard
    day = date.today() + timedelta(days=15)
    dash_duo.find_element("#calendar-form-kind").send_keys("Rally")
    dash_duo.find_element("#calendar-form-title").send_keys("Planned march in Birmingham city centre")
    type_date(dash_duo.find_element("#calendar-form-start"), day)
    driver.find_element(By.CSS_SELECTOR, f"input[value='{BIRMINGHAM}']").send_keys(Keys.SPACE)
    dash_duo.find_element("#calendar-form-notes").send_keys("A counter-protest is expected.")
    dash_duo.find_element("#calendar-form-save").send_keys(Keys.ENTER)

    dash_duo.wait_for_contains_text("#calendar-status", "Added \u201cPlanned march in Birmingham city centre\u201d",
                                    timeout=10)
    assert dash_duo.find_element("#calendar-form-errors").get_attribute("hidden") is not None
    dash_duo.wait_for_contains_text("#calendar-upcoming", "Planned march in Birmingham city centre", timeout=10)
    upcoming = dash_duo.find_element("#calendar-upcoming").text
    assert "Rally or march · Birmingham · in 2 weeks" in upcoming
    assert dash_duo.find_element("#calendar-form-title").get_attribute("value") == ""  # ready for the next

    # edit it: the form fills in and takes focus; change the title and save
    edit = driver.find_element(By.XPATH, "//button[contains(., 'Edit') and contains(., 'Birmingham city centre')]")
    edit.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#calendar-form-heading", "Edit event: Planned march", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "calendar-form-heading")
    title = dash_duo.find_element("#calendar-form-title")
    assert title.get_attribute("value") == "Planned march in Birmingham city centre"
    assert driver.find_element(By.CSS_SELECTOR, f"input[value='{BIRMINGHAM}']").is_selected()
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys("March moved to Saturday")
    dash_duo.find_element("#calendar-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#calendar-status", "Saved changes to \u201cMarch moved to Saturday\u201d",
                                    timeout=10)
    dash_duo.wait_for_contains_text("#calendar-events-table", "March moved to Saturday", timeout=10)
    assert dash_duo.find_element("#calendar-form-heading").text == "Add an event"

    # the full list's filters: elections only
    dash_duo.find_element("#calendar-filter-kind").send_keys("Election")
    dash_duo.wait_for_contains_text("#calendar-events-table", "1 event, soonest first", timeout=10)
    assert "March moved" not in dash_duo.find_element("#calendar-events-table").text
    dash_duo.find_element("#calendar-filter-kind").send_keys(Keys.HOME)  # the first choice: all kinds
    dash_duo.wait_for_contains_text("#calendar-events-table", "2 events, soonest first", timeout=10)

    # delete it, after confirming
    delete = driver.find_element(By.XPATH, "//button[contains(., 'Delete') and contains(., 'March moved')]")
    delete.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.alert_is_present())
    alert = driver.switch_to.alert
    assert "Delete \u201cMarch moved to Saturday\u201d" in alert.text
    alert.accept()
    dash_duo.wait_for_contains_text("#calendar-status", "Deleted \u201cMarch moved to Saturday\u201d", timeout=10)
    WebDriverWait(driver, 10).until(
        lambda d: "March moved" not in d.find_element(By.ID, "calendar-upcoming").text
    )

    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []


def test_cal102_the_national_team_has_no_calendar(dash_duo, calendar_app):
    app, people, _polling = calendar_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.sci.email, TEST_PASSWORD)
    nav = dash_duo.find_element("nav").text
    assert "Calendar" not in nav
    dash_duo.driver.get(dash_duo.server.url + "/calendar")
    dash_duo.wait_for_contains_text("#main", "Your role does not give access to this page", timeout=15)
    assert "By-election" not in dash_duo.find_element("#main").text
    assert dash_duo.get_logs() == []
