"""The good practice library in headless Chromium: a member adds a resource by keyboard (a mistake
first: the error summary takes focus), finds it again by its topic, and opens it; axe-core finds
no WCAG 2.2 AA violation on the way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from dashboard import library
from dashboard.access import Viewer
from dashboard.models import User
from dashboard.reference import ResourceKind
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"


@pytest.fixture
def library_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = Viewer.from_user(s.get(User, people.police_member.id))
        library.create(s, pat, {"kind": ResourceKind.FACT_SHEET.value, "title": "Asylum accommodation: myths answered",
                                "topic": "Asylum and migration", "summary": "The rumours heard most often.",
                                "published_on": (date.today() - timedelta(days=40)).isoformat()})
    return create_app(settings, sqlite_db), people


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_lib101_add_a_resource_then_find_it_by_topic(dash_duo, library_app):
    app, people = library_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/library")
    dash_duo.wait_for_contains_text("#library-count", "1 resource in the library", timeout=15)
    assert axe_violations(driver) == []

    dash_duo.find_element("#library-add").send_keys(Keys.ENTER)
    title = dash_duo.wait_for_element("#resource-form-title", timeout=10)
    title.send_keys("Reassurance after a national incident: a checklist")
    dash_duo.find_element("#resource-form-topic").send_keys("Community reassurance")
    link = dash_duo.find_element("#resource-form-link")
    link.send_keys("javascript:alert(1)")
    # the kind is not chosen and the link is not a web address: both named, and the summary takes focus
    dash_duo.find_element("#resource-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#resource-form-errors", "Choose the kind of resource", timeout=10)
    assert "starting with https://" in dash_duo.find_element("#resource-form-errors").text
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "resource-form-errors")
    assert "starting with https://" in dash_duo.find_element("#resource-form-link-error").text
    assert axe_violations(driver) == []

    dash_duo.find_element("#resource-form-kind-0").send_keys(Keys.SPACE)  # good practice
    link.send_keys(Keys.CONTROL, "a")
    link.send_keys("https://www.example.org/reassurance.pdf")
    dash_duo.find_element(f"#resource-form-areas input[value='{BIRMINGHAM}']").send_keys(Keys.SPACE)
    dash_duo.find_element("#resource-form-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#resource-title", "Reassurance after a national incident: a checklist",
                                    timeout=10)
    assert "The resource was added to the library." in dash_duo.find_element("#resource-status").text

    # find it by its topic; the address bar keeps the search
    driver.get(dash_duo.server.url + "/library")
    dash_duo.wait_for_contains_text("#library-count", "2 resources in the library", timeout=15)
    Select(dash_duo.find_element("#library-topic")).select_by_visible_text("Community reassurance")
    dash_duo.wait_for_contains_text("#library-count", "1 resource matches your search", timeout=10)
    results = dash_duo.find_element("#library-results").text
    assert "Reassurance after a national incident" in results and "Asylum accommodation" not in results
    assert "Birmingham" in results and "Test Council" in results
    WebDriverWait(driver, 5).until(lambda d: "topic=Community+reassurance" in d.current_url)
    assert axe_violations(driver) == []
    # back to any topic, and again
    Select(dash_duo.find_element("#library-topic")).select_by_visible_text("Any topic")
    dash_duo.wait_for_contains_text("#library-count", "2 resources in the library", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: d.current_url.rstrip("/").endswith("/library"))
    Select(dash_duo.find_element("#library-topic")).select_by_visible_text("Community reassurance")
    dash_duo.wait_for_contains_text("#library-count", "1 resource matches your search", timeout=10)

    driver.find_element(By.LINK_TEXT, "Reassurance after a national incident: a checklist").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#resource-title", "Reassurance after a national incident: a checklist",
                                    timeout=10)
    shown = dash_duo.find_element("#resource-link")
    assert shown.get_attribute("href") == "https://www.example.org/reassurance.pdf"
    assert shown.get_attribute("rel") == "noopener noreferrer"
    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []
