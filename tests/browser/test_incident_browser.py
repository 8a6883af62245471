"""Logging, finding and editing an incident in headless Chromium: the error summary, the duplicate
check with corroboration, the record with its marking and history, and accessibility checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from dashboard.models import Incident, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"


@pytest.fixture
def incident_app(settings, sqlite_db, password_hash):
    day = date.today() - timedelta(days=2)
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        cora = s.get(User, people.council_member.id)
        original = add_incident(s, cora, Marking.GREEN, day=day, area=BIRMINGHAM, category="literature",
                                title="Leaflets through doors on Park Road").id
    return create_app(settings, sqlite_db), sqlite_db, people, original, day


def type_date(element, day: date) -> None:
    """Type a date into a date input the way a keyboard user does (Chromium's field order)."""
    element.send_keys(f"{day:%m}{day:%d}{day:%Y}")
    if element.get_attribute("value") != day.isoformat():  # a day-first locale
        element.send_keys(Keys.SHIFT + Keys.TAB, Keys.SHIFT + Keys.TAB)
        element.send_keys(f"{day:%d}{day:%m}{day:%Y}")
    assert element.get_attribute("value") == day.isoformat()


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def say_why(dash_duo) -> None:
    """Answer the question a restricted record's page asks first (the first common reason)."""
    dash_duo.wait_for_element("#incident-view-open", timeout=15)
    dash_duo.driver.find_element(By.ID, "incident-view-reason-0").send_keys(Keys.SPACE)
    dash_duo.find_element("#incident-view-open").send_keys(Keys.ENTER)


def test_inc101_log_edit_and_find_an_incident(dash_duo, incident_app):
    app, db, people, original, day = incident_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/incidents/new")
    dash_duo.wait_for_text_to_equal("#incident-form-heading", "Log an incident", timeout=15)

    # saving the empty form: the error summary takes focus and links to each wrong field
    dash_duo.find_element("#incident-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#incident-form-errors", "Enter a title", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "incident-form-errors")
    summary = dash_duo.find_element("#incident-form-errors").text
    assert "There is a problem" in summary
    assert "Choose the district where it happened." in summary and "Choose a severity" in summary
    assert dash_duo.find_element("#incident-form-title-error").text.split("\n")[-1].startswith("Enter a title")
    assert dash_duo.find_element("#incident-form-title").get_attribute("aria-invalid") == "true" or \
        "is-invalid" in dash_duo.find_element("#incident-form-title").get_attribute("class")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "#incident-form-errors a[href='#incident-form-title']").send_keys(Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "incident-form-title")
    driver.find_element(By.CSS_SELECTOR, "#incident-form-errors a[href='#incident-form-severity-0']")

    # fill it in; the same district, date and category as a partner's report: the form says so
    dash_duo.find_element("#incident-form-title").send_keys("Leaflets on Park Road, seen by our officers")
    type_date(dash_duo.find_element("#incident-form-occurred-on"), day)
    Select(dash_duo.find_element("#incident-form-area")).select_by_value(BIRMINGHAM)
    Select(dash_duo.find_element("#incident-form-category")).select_by_value("literature")
    dash_duo.wait_for_contains_text("#incident-similar", "This may already be logged:", timeout=10)
    similar = dash_duo.find_element("#incident-similar").text
    assert "Leaflets through doors on Park Road" in similar and "Test Council" in similar and "TLP:GREEN" in similar
    driver.find_element(By.XPATH, f"//button[.='Log mine as a corroborating report of #{original}']").send_keys(
        Keys.ENTER)
    dash_duo.wait_for_contains_text("#incident-corroborate-note",
                                    f"Your report will be saved as corroborating incident #{original}", timeout=10)
    dash_duo.find_element("#incident-form-description").send_keys("About 200 leaflets, same design as before.")
    driver.find_element(By.ID, "incident-form-severity-1").send_keys(Keys.SPACE)
    driver.find_element(By.ID, "incident-form-marking-2").send_keys(Keys.SPACE)  # TLP:AMBER
    WebDriverWait(driver, 5).until(
        lambda d: d.find_element(By.ID, "incident-form-listed-block").get_attribute("hidden") is None)
    assert axe_violations(driver) == []
    dash_duo.find_element("#incident-form-save").send_keys(Keys.ENTER)

    # the record (TLP:AMBER: asked why first): its marking in words, its fields, the link to the
    # incident it corroborates, its history
    say_why(dash_duo)
    dash_duo.wait_for_text_to_equal("#incident-title", "Leaflets on Park Road, seen by our officers", timeout=15)
    with db.session() as s:
        mine = s.query(Incident).filter(Incident.corroborates_id == original).one().id
    assert driver.current_url.endswith(f"/incidents/{mine}?done=corroborating")
    banner = dash_duo.find_element("#incident-marking").text
    assert "TLP:AMBER" in banner and "The originating organisation and organisations listed on the record" in banner
    assert "saved as a corroborating report" in dash_duo.find_element("#incident-status").text
    record = dash_duo.find_element("#incident-summary").text
    assert "Birmingham" in record and "2 - Moderate" in record and "Pat Police (Test Police)" in record
    assert f"#{original} Leaflets through doors on Park Road" in dash_duo.find_element("#incident-corroborates").text
    assert "Created by Pat Police (Test Police)" in dash_duo.find_element("#incident-history").text
    assert axe_violations(driver) == []

    # edit the title: the record shows the new title and its history the change
    dash_duo.find_element("#incident-edit-link").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#incident-form-heading", f"Edit incident #{mine}", timeout=15)
    title = dash_duo.find_element("#incident-form-title")
    assert title.get_attribute("value") == "Leaflets on Park Road, seen by our officers"
    assert driver.find_element(By.ID, "incident-form-marking-2").is_selected()
    assert axe_violations(driver) == []
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys("Leaflets on Park Road and Mill Lane")
    dash_duo.find_element("#incident-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#incident-title", "Leaflets on Park Road and Mill Lane", timeout=15)
    history = dash_duo.find_element("#incident-history").text
    assert "Updated by Pat Police (Test Police)" in history
    assert "Title Leaflets on Park Road, seen by our officers Leaflets on Park Road and Mill Lane" in history
    assert "Your changes were saved" in dash_duo.find_element("#incident-status").text

    # find it in the register: a search for words of the new title finds it, with its marking
    driver.get(dash_duo.server.url + "/register")
    search = dash_duo.find_element("#register-search")
    search.send_keys("Mill Lane", Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#register-status", "1 incident matches \u201cMill Lane\u201d.", timeout=15)
    rows = ".register-grid .ag-center-cols-container .ag-row"
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 1)
    found = driver.find_element(By.CSS_SELECTOR, rows).text
    assert "Leaflets on Park Road and Mill Lane" in found and "TLP:AMBER" in found and str(mine) in found

    # the incident it corroborates now says so, to its own organisation's partners too
    driver.get(dash_duo.server.url + f"/incidents/{original}")
    dash_duo.wait_for_contains_text("#incident-corroborated-by", "Corroborated by 1 partner", timeout=15)
    assert "Leaflets on Park Road and Mill Lane" in dash_duo.find_element("#incident-corroborating-reports").text
    assert dash_duo.get_logs() == []


def test_inc102_delete_with_a_reason_then_an_administrator_restores_it(dash_duo, incident_app):
    app, db, people, _original, day = incident_app
    with db.session() as s:
        pat = s.get(User, people.police_member.id)
        mine = add_incident(s, pat, Marking.AMBER_STRICT, day=day, title="Police-only report of graffiti").id
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + f"/incidents/{mine}")
    say_why(dash_duo)  # TLP:AMBER+STRICT
    dash_duo.wait_for_text_to_equal("#incident-title", "Police-only report of graffiti", timeout=15)
    assert "TLP:AMBER+STRICT" in dash_duo.find_element("#incident-marking").text

    # the confirmation dialog, by keyboard: it takes focus, asks for an optional reason
    dash_duo.find_element("#incident-delete").send_keys(Keys.ENTER)
    dash_duo.wait_for_element("#incident-delete-reason", timeout=10)
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script("return !!document.activeElement.closest('.modal')"))
    assert axe_violations(driver) == []
    dash_duo.find_element("#incident-delete-reason").send_keys("Logged twice")
    dash_duo.find_element("#incident-delete-confirm").send_keys(Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith(f"/register?deleted={mine}"))
    with db.session() as s:
        assert s.get(Incident, mine).deleted_at is not None

    # an administrator of another organisation restores it without reading it
    dash_duo.find_element("#shell-sign-out").click()
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver.get(dash_duo.server.url + "/deleted")
    dash_duo.wait_for_contains_text("#deleted-table", f"#{mine}", timeout=15)
    listed = dash_duo.find_element("#deleted-table").text
    assert "TLP:AMBER+STRICT" in listed and "Pat Police" in listed and "Not shown: restricted by its marking" in listed
    assert "graffiti" not in listed
    assert axe_violations(driver) == []
    driver.find_element(By.XPATH, f"//button[contains(., 'Restore') and contains(., '#{mine}')]").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#deleted-status", f"Restored incident #{mine}", timeout=10)
    dash_duo.wait_for_contains_text("#deleted-list", "There are no deleted records.", timeout=10)
    with db.session() as s:
        assert s.get(Incident, mine).deleted_at is None
    assert dash_duo.get_logs() == []


def test_inc103_record_and_list_a_tension_assessment(dash_duo, incident_app):
    app, _db, people, _original, day = incident_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/assessments/new")
    dash_duo.wait_for_text_to_equal("#assessment-form-heading", "Record a tension assessment", timeout=15)
    dash_duo.find_element("#assessment-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#assessment-form-errors", "Choose a tension level", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "assessment-form-errors")
    assert axe_violations(driver) == []

    Select(dash_duo.find_element("#assessment-form-area")).select_by_value(BIRMINGHAM)
    type_date(dash_duo.find_element("#assessment-form-assessed-on"), day)
    driver.find_element(By.ID, "assessment-form-level-3").send_keys(Keys.SPACE)  # 4 - High
    driver.find_element(By.ID, "assessment-form-trend-0").send_keys(Keys.SPACE)  # rising
    driver.find_element(By.ID, "assessment-form-confidence-1").send_keys(Keys.SPACE)  # medium
    dash_duo.find_element("#assessment-form-rationale").send_keys("Leafleting before the by-election.")
    dash_duo.find_element("#assessment-form-indicator-1").send_keys("Leaflets in two wards")
    Select(dash_duo.find_element("#assessment-form-indicator-1-type")).select_by_value("evidenced")
    dash_duo.find_element("#assessment-form-save").send_keys(Keys.ENTER)

    dash_duo.wait_for_text_to_equal("#assessment-title", f"Birmingham, {day.day} {day:%b %Y}", timeout=15)
    summary = dash_duo.find_element("#assessment-summary").text
    assert "Level 4 - High" in summary and "Rising" in summary and "Leaflets in two wards" in summary
    assert "TLP:GREEN" in dash_duo.find_element("#assessment-marking").text
    assert "Created by Cora Council (Test Council)" in dash_duo.find_element("#assessment-history").text
    assert axe_violations(driver) == []

    dash_duo.find_element("#assessment-edit-link").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#assessment-form-heading", "Edit tension assessment", timeout=15)
    assert driver.find_element(By.ID, "assessment-form-level-3").is_selected()
    assert dash_duo.find_element("#assessment-form-indicator-1").get_attribute("value") == "Leaflets in two wards"
    assert axe_violations(driver) == []

    driver.get(dash_duo.server.url + "/assessments")
    dash_duo.wait_for_contains_text("#assessment-list-table", "Level 4 - High", timeout=15)
    assert "Birmingham" in dash_duo.find_element("#assessment-list-table").text
    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []
