"""The retention review page in headless Chromium: an administrator ticks records and redacts
them by keyboard, through the dialog (a missing reason is named and takes focus); axe finds
nothing on the page or the open dialog."""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from dashboard.models import Incident, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def retention_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = s.get(User, people.police_member.id)
        ids = []
        for n in range(4):
            item = add_incident(s, pat, Marking.GREEN, day=date(2020, 2, 1 + n), title=f"Old leaflet report {n}")
            item.description = f"Named resident {n}"
            ids.append(item.id)
    return create_app(settings, sqlite_db), sqlite_db, people, ids


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def row_boxes(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#retention-table input[type=checkbox]")


def test_ret101_redact_two_records_by_keyboard(dash_duo, retention_app):
    app, db, people, ids = retention_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/admin/retention")
    dash_duo.wait_for_element("#retention-table", timeout=15)
    assert "4 records are due for review" in dash_duo.find_element("#retention-count").text
    assert "Named resident" not in driver.find_element(By.TAG_NAME, "body").text
    assert axe_violations(driver) == []

    # Nothing ticked: the problem is named above the table and takes focus.
    dash_duo.find_element("#retention-redact").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "retention-errors")
    assert "tick at least one record" in dash_duo.find_element("#retention-errors").text

    # "Select all on this page" ticks every row; again unticks them; then tick two rows by keyboard.
    select_all = dash_duo.find_element("#retention-select-all")
    select_all.send_keys(Keys.SPACE)
    WebDriverWait(driver, 10).until(lambda d: all(box.is_selected() for box in row_boxes(d)))
    select_all.send_keys(Keys.SPACE)
    WebDriverWait(driver, 10).until(lambda d: not any(box.is_selected() for box in row_boxes(d)))
    boxes = row_boxes(driver)
    boxes[0].send_keys(Keys.SPACE)
    boxes[1].send_keys(Keys.SPACE)
    WebDriverWait(driver, 10).until(lambda d: [b.is_selected() for b in row_boxes(d)] == [True, True, False, False])

    dash_duo.find_element("#retention-redact").send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#retention-redact-title", "Redact 2 records?", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return !!document.activeElement.closest('.modal')"))
    assert "cannot be undone" in dash_duo.find_element("#retention-redact-explanation").text
    assert axe_violations(driver) == []

    # No reason: named in the dialog's error summary, which takes focus; nothing is redacted.
    dash_duo.find_element("#retention-redact-confirm").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "retention-redact-errors")
    assert "Reason: say why" in dash_duo.find_element("#retention-redact-errors").text
    with db.session() as s:
        assert s.get(Incident, ids[0]).redacted_at is None
    assert axe_violations(driver) == []

    reason = dash_duo.find_element("#retention-redact-reason")
    reason.send_keys("Past the retention period; no open case")
    dash_duo.find_element("#retention-redact-confirm").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#retention-status", "Redacted the personal details of 2 records", timeout=10)
    WebDriverWait(driver, 10).until(EC.invisibility_of_element_located((By.ID, "retention-redact-dialog")))
    dash_duo.wait_for_contains_text("#retention-count", "2 records are due for review", timeout=10)
    with db.session() as s:
        redacted = [s.get(Incident, i) for i in ids[:2]]
        assert all(i.redacted_at is not None and i.description == "" for i in redacted)
        assert s.get(Incident, ids[2]).redacted_at is None
    assert axe_violations(driver) == []
    assert dash_duo.get_logs() == []
