"""The incident register in headless Chromium: the grid's rows with their markings, quick search,
opening an incident by keyboard, the export form's error summary, and the upload's refusal of a
file that is too large, with no console errors and no axe-core violations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app, wait_for_address
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser

ROWS = ".register-grid .ag-center-cols-container .ag-row"


@pytest.fixture
def register_app(settings, sqlite_db, password_hash):
    day = date.today() - timedelta(days=3)
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        for n in range(12):
            add_incident(s, people.council_member, Marking.GREEN, day=day - timedelta(days=n),
                         title=f"Stickers on lamp posts, report {n + 1}")
        leaflets = add_incident(s, people.police_member, Marking.AMBER, day=day, listed=[people.council],
                                title="Leaflets pushed through doors near the mosque")
        add_incident(s, people.police_member, Marking.AMBER_STRICT, day=day, title="Police-only leaflets report")
        # a title is shown as written: never as formatting, HTML or a link elsewhere
        add_incident(s, people.council_member, Marking.CLEAR, day=day - timedelta(days=20),
                     title="**Bold** <i>claim</i> [see](https://example.org/x)")
        leaflets_id = leaflets.id
    return create_app(settings, sqlite_db), people, leaflets_id


def grid_rows(driver) -> list[str]:
    return [r.text for r in driver.find_elements(By.CSS_SELECTOR, ROWS)]


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_reg101_find_an_incident_in_the_register(dash_duo, register_app, tmp_path):
    app, people, leaflets_id = register_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/register")

    # the grid shows the rows this member may see, each with its marking as text
    dash_duo.wait_for_text_to_equal("#register-status", "14 incidents match.", timeout=20)
    WebDriverWait(driver, 10).until(lambda d: len(grid_rows(d)) == 14)
    rows = "\n".join(grid_rows(driver))
    assert "Leaflets pushed through doors near the mosque" in rows and "TLP:AMBER" in rows
    assert "TLP:GREEN" in rows and "Stickers on lamp posts, report 1" in rows and "TLP:CLEAR" in rows
    assert "Police-only" not in rows  # TLP:AMBER+STRICT for the police only
    assert "**Bold** <i>claim</i> [see](https://example.org/x)" in rows
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".register-grid a")]
    assert len(links) == 14 and all("/incidents/" in href for href in links)
    assert axe_violations(driver) == []

    # a search narrows the grid, and the address bar keeps it
    search = dash_duo.find_element("#register-search")
    search.send_keys("leaflets", Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#register-status", "1 incident matches \u201cleaflets\u201d.", timeout=15)
    WebDriverWait(driver, 10).until(lambda d: len(grid_rows(d)) == 1)
    assert "Leaflets pushed through doors near the mosque" in grid_rows(driver)[0]
    wait_for_address(driver, "q=leaflets")

    # the export form: no reason given, so the error summary takes focus and links to the field
    dash_duo.find_element("#register-export-button").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#register-export-errors", "There is a problem", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "register-export-errors")
    assert dash_duo.find_element("#register-export-reason-error").text
    assert driver.find_elements(By.CSS_SELECTOR, "#register-export-errors a[href='#register-export-reason']")

    # a file larger than the page accepts is refused with a message, before any upload
    big = tmp_path / "too-big.csv"
    with big.open("wb") as handle:
        handle.truncate(40 * 1024 * 1024)
    driver.find_element(By.CSS_SELECTOR, "#register-upload input[type=file]").send_keys(str(big))
    dash_duo.wait_for_contains_text("#register-import-report", "too-big.csv\u201d was not imported", timeout=10)
    assert "MB" in dash_duo.find_element("#register-import-report").text

    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []

    # by keyboard: the grid is one Tab stop (the arrow keys move within it, Tab leaves it for the
    # export form below), and Enter on a row opens its incident
    cell = driver.find_element(By.CSS_SELECTOR, f"{ROWS}[row-index='0'] .ag-cell[col-id='id']")
    driver.execute_script("arguments[0].focus()", cell)
    driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(driver, 5).until(lambda d: d.switch_to.active_element.get_attribute("col-id") not in (None, "id"))
    driver.switch_to.active_element.send_keys(Keys.TAB)
    WebDriverWait(driver, 5).until(lambda d: d.execute_script(
        "var a = document.activeElement;"
        "return a !== document.body && !a.closest('.register-grid') &&"
        " !!(a.compareDocumentPosition(document.querySelector('.register-grid')) & Node.DOCUMENT_POSITION_PRECEDING);"))
    driver.execute_script("arguments[0].focus()", cell)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(f"/incidents/{leaflets_id}"))


def test_reg102_the_national_team_has_no_register(dash_duo, register_app):
    app, people, _leaflets_id = register_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.sci.email, TEST_PASSWORD)
    assert "Register" not in dash_duo.find_element("nav").text
    dash_duo.driver.get(dash_duo.server.url + "/register")
    dash_duo.wait_for_contains_text("#main", "Your role does not give access to this page", timeout=15)
    assert "Leaflets" not in dash_duo.find_element("#main").text
    assert dash_duo.get_logs() == []
