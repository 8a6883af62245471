"""The joint party statement in headless Chromium: record an adoption by keyboard, see it in the
table, the map's summary and the elections, then correct and remove it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from dashboard import calendar as cal
from dashboard import statement as st
from dashboard.access import Viewer
from dashboard.models import Resource, User
from dashboard.records import day_text
from dashboard.reference import ResourceKind
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM, COVENTRY, DERBY = "E08000025", "E08000026", "E06000015"


@pytest.fixture
def statement_app(settings, sqlite_db, password_hash):
    today = date.today()
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        statement = Resource(kind=ResourceKind.STATEMENT.value, title="Joint statement on respectful campaigning",
                             summary="Parties commit not to exploit race, religion or migration for votes.",
                             link="https://resources.partnership.example/statement",
                             published_on=today - timedelta(days=90))
        s.add(statement)
        s.flush()
        cora = Viewer.from_user(s.get(User, people.council_member.id))
        st.record_adoption(s, cora, statement.id, {"area": COVENTRY, "adopted_on": today - timedelta(days=20),
                                                   "notes": "Adopted by full council."}, today=today)
        polling = today + timedelta(days=30)
        cal.create_event(s, cora, cal.EventForm(kind="election", title="Local council elections",
                                                starts_on=polling, area_codes=[BIRMINGHAM, DERBY]))
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


def test_stm101_record_an_adoption_and_see_it_in_the_table(dash_duo, statement_app):
    app, people, polling = statement_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/statement")
    dash_duo.wait_for_contains_text("#statement-summary", "1 of 65 districts has adopted the statement", timeout=15)
    assert dash_duo.find_element("#statement-title").text == "Joint statement on respectful campaigning"
    headline = dash_duo.find_element("#statement-headline").text
    assert "1 of 65" in headline and f"{polling:%a} {day_text(polling)}" in headline
    assert "2 of them have not adopted it" in headline
    dash_duo.wait_for_contains_text("#statement-elections", "Local council elections", timeout=10)
    assert "Birmingham" in dash_duo.find_element("#statement-elections").text
    # another organisation's entry: shown, but this member may not change it
    coventry = dash_duo.find_element(f"#statement-row-{COVENTRY}").text
    assert "Adopted on" in coventry and "Recorded by another organisation" in coventry
    assert "Not adopted" in dash_duo.find_element(f"#statement-row-{BIRMINGHAM}").text
    assert axe_violations(driver) == []

    # saving an empty form: an error summary naming each field takes focus
    dash_duo.find_element("#statement-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#statement-form-errors", "Choose the district that adopted the statement.",
                                    timeout=10)
    assert "Enter the date the district adopted the statement." in dash_duo.find_element("#statement-form-errors").text
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "statement-form-errors")
    assert axe_violations(driver) == []
    # a district that already adopted is refused with where to go instead
    Select(dash_duo.find_element("#statement-form-area")).select_by_value(COVENTRY)
    adopted_on = date.today() - timedelta(days=3)
    type_date(dash_duo.find_element("#statement-form-adopted-on"), adopted_on)
    dash_duo.find_element("#statement-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#statement-form-area-error", "Coventry already adopted it on", timeout=10)
    assert "change that entry instead" in dash_duo.find_element("#statement-form-errors").text

    # record Birmingham by keyboard
    Select(dash_duo.find_element("#statement-form-area")).select_by_value(BIRMINGHAM)
    dash_duo.find_element("#statement-form-notes").send_keys("Adopted by full council.")
    dash_duo.find_element("#statement-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text(
        "#statement-status", f"Recorded that Birmingham adopted the statement on {day_text(adopted_on)}.", timeout=10)
    assert dash_duo.find_element("#statement-form-errors").get_attribute("hidden") is not None
    dash_duo.wait_for_contains_text(f"#statement-row-{BIRMINGHAM}", f"Adopted on {day_text(adopted_on)}", timeout=10)
    row = dash_duo.find_element(f"#statement-row-{BIRMINGHAM}").text
    assert "Adopted by full council." in row and "Pat Police, Test Police" in row
    dash_duo.wait_for_contains_text("#statement-summary", "2 of 65 districts have adopted the statement", timeout=10)
    # Birmingham no longer in the list of districts voting without the statement
    WebDriverWait(driver, 10).until(
        lambda d: "Birmingham" not in d.find_element(By.ID, "statement-elections").text)
    assert "Derby" in dash_duo.find_element("#statement-elections").text
    # the map's values (its hover text says the same in words)
    hover = driver.execute_script(
        "const gd = document.querySelector('#statement-map .js-plotly-plot');"
        f"const i = gd.data[0].locations.indexOf('{BIRMINGHAM}'); return gd.data[0].text[i];")
    assert f"Adopted on {day_text(adopted_on)}" in hover

    # correct it: the form fills in and takes focus
    change = driver.find_element(By.XPATH, "//button[contains(., 'Change') and contains(., 'in Birmingham')]")
    change.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#statement-form-heading", "Change the adoption in Birmingham", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "statement-form-heading")
    notes = dash_duo.find_element("#statement-form-notes")
    assert notes.get_attribute("value") == "Adopted by full council."
    notes.send_keys(Keys.CONTROL, "a")
    notes.send_keys("Adopted unanimously.")
    dash_duo.find_element("#statement-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#statement-status", "Saved the adoption in Birmingham", timeout=10)
    dash_duo.wait_for_contains_text(f"#statement-row-{BIRMINGHAM}", "Adopted unanimously.", timeout=10)
    assert dash_duo.find_element("#statement-form-heading").text == "Record an adoption"

    # only adopted districts
    dash_duo.find_element("#statement-show input[value='adopted']").send_keys(Keys.SPACE)
    dash_duo.wait_for_contains_text("#statement-table", "2 districts that have adopted the statement", timeout=10)

    # remove it, after confirming
    remove = driver.find_element(By.XPATH, "//button[contains(., 'Remove') and contains(., 'in Birmingham')]")
    remove.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.alert_is_present())
    alert = driver.switch_to.alert
    assert "Remove the adoption in Birmingham" in alert.text
    alert.accept()
    dash_duo.wait_for_contains_text("#statement-status", "Removed the adoption in Birmingham.", timeout=10)
    dash_duo.wait_for_contains_text("#statement-table", "1 district that has adopted the statement", timeout=10)
    dash_duo.wait_for_contains_text("#statement-summary", "1 of 65 districts has adopted the statement", timeout=10)

    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []


def test_stm102_the_national_team_has_no_statement_page(dash_duo, statement_app):
    app, people, _polling = statement_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.sci.email, TEST_PASSWORD)
    assert "Party statement" not in dash_duo.find_element("nav").text
    dash_duo.driver.get(dash_duo.server.url + "/statement")
    dash_duo.wait_for_contains_text("#main", "Your role does not give access to this page", timeout=15)
    assert "Coventry" not in dash_duo.find_element("#main").text
    assert dash_duo.get_logs() == []
