"""The national summaries in headless Chromium, as the national team uses them: at "/", change
the breakdown by keyboard, see the address bar follow, check accessibility, and download."""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from callbacks import summaries as summaries_callbacks
from dashboard.models import Strand
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
TODAY = date(2026, 11, 24)  # the latest complete quarter is Jul to Sep 2026
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"
SECRET_TITLE = "Leaflets through the door of 12 Elm Road"


@pytest.fixture
def summaries_app(settings, sqlite_db, password_hash, monkeypatch):
    monkeypatch.setattr(summaries_callbacks, "today", lambda: TODAY)
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 8, 3), area=BIRMINGHAM,
                     title=SECRET_TITLE)
        race = s.get(Strand, "race")
        for n in range(11):
            incident = add_incident(s, people.police_member, Marking.GREEN, day=date(2026, 7, 4 + n),
                                    area=BIRMINGHAM)
            incident.strands = [race]
        for n in range(3):
            add_incident(s, people.council_member, Marking.CLEAR, day=date(2026, 9, 2 + n), area=COVENTRY,
                         category="stickers")
    return create_app(settings, sqlite_db), people


def row_of(driver, district: str):
    """The by-district table's row whose header cell names the district."""
    return driver.find_element(
        By.XPATH, f"//table[@id='summaries-by-area-table']/tbody/tr[th[normalize-space()='{district}']]")


def test_sum101_the_national_team_reads_changes_and_downloads_the_summaries(dash_duo, summaries_app):
    app, people = summaries_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.sci.email, TEST_PASSWORD)
    driver = dash_duo.driver
    # "/" is the national summaries page for the national team
    dash_duo.wait_for_text_to_equal("h1", "National summaries", timeout=15)
    dash_duo.wait_for_contains_text("#summaries-by-area-table", "Birmingham", timeout=10)
    assert "Incidents by district and category" in dash_duo.find_element("#summaries-by-area-table caption").text
    assert dash_duo.find_element("#summaries-by-area-summary").text.startswith("Across the 65 districts, about 15")
    assert row_of(driver, "Coventry").text.endswith("<5")
    assert SECRET_TITLE not in driver.find_element(By.ID, "main").text

    # "Break down by": from "Category" to "Hate-crime strand" with the arrow keys
    radio = driver.find_element(By.ID, "summaries-breakdown-0")
    driver.execute_script("arguments[0].focus()", radio)
    driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(driver, 10).until(lambda d: "breakdown=strand" in d.current_url)
    dash_duo.wait_for_contains_text("#summaries-by-area-table caption", "hate-crime strand", timeout=10)
    assert driver.find_element(By.ID, "summaries-breakdown-1").is_selected()
    assert "to=2026Q3" in driver.current_url
    dash_duo.wait_for_contains_text("#summaries-by-area-summary", "Race", timeout=10)
    assert row_of(driver, "Birmingham").text.split()[1:3] == ["0", "10"]

    assert axe_violations(driver) == []

    # download the tables as CSV, by keyboard: a reason is needed, then the file is made and announced
    def press(element_id: str, key: str = Keys.ENTER) -> None:
        element = driver.find_element(By.ID, element_id)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", element)
        driver.switch_to.active_element.send_keys(key)

    press("summaries-download-button")
    dash_duo.wait_for_contains_text("#summaries-download-errors", "Say why you need this", timeout=10)
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script("return document.activeElement.id") == "summaries-download-errors"
    )
    press("summaries-download-reason", "Figures for the national policy briefing")
    press("summaries-download-format-0", Keys.SPACE)  # CSV
    press("summaries-download-button")
    dash_duo.wait_for_contains_text(
        "#summaries-download-status", "national-summary-2025Q4-to-2026Q3-TLP-GREEN.csv", timeout=15
    )
    assert driver.find_element(By.ID, "summaries-download-errors").get_attribute("hidden") is not None
    assert dash_duo.get_logs() == []
