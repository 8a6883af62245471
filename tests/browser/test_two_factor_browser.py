"""Two-step verification in headless Chromium, by keyboard, checked with axe-core: an admin's
first sign-in goes through set-up (a wrong code first: the summary takes focus), the recovery
codes, then the dashboard; the next sign-in asks for the code, then a recovery code instead,
which lands on the account page."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from dashboard import two_factor
from dashboard.models import utcnow
from tests.browser.helpers import axe_violations, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def two_factor_app(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings.with_overrides(second_factor_roles=frozenset({"admin", "chair"})), sqlite_db), people


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def wait_for_heading(driver, text: str) -> None:
    # The page may be replaced between finding the heading and reading it (a sign-in step redirects).
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == text)


def password_by_keyboard(driver, url: str, email: str) -> None:
    driver.get(url + "/login")
    driver.find_element(By.ID, "email").send_keys(email, Keys.TAB, TEST_PASSWORD, Keys.ENTER)


def code(secret: str, steps: int = 0) -> str:
    return two_factor.code_at(secret, two_factor.step_at(utcnow()) + steps)


def test_2fa101_set_up_then_sign_in_with_a_code_and_with_a_recovery_code(dash_duo, two_factor_app):
    app, people = two_factor_app
    start_app(dash_duo, app)
    driver, url = dash_duo.driver, dash_duo.server.url

    # The password first: an admin with no second factor goes to set-up.
    password_by_keyboard(driver, url, people.council_admin.email)
    wait_for_heading(driver, "Set up two-step verification")
    qr = driver.find_element(By.ID, "two-factor-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml") and "QR code" in qr.get_attribute("alt")
    assert driver.find_element(By.ID, "two-factor-uri").get_attribute("href").startswith("otpauth://totp/")
    secret = driver.find_element(By.ID, "two-factor-secret").text.replace(" ", "")
    field = driver.find_element(By.ID, "code")
    assert field.get_attribute("inputmode") == "numeric" and field.get_attribute("autocomplete") == "one-time-code"
    assert axe_violations(driver) == []

    # A wrong code: the error summary takes focus and names the field.
    field.send_keys("12345", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "error-summary")
    summary = driver.find_element(By.ID, "error-summary")
    assert "Enter the code as 6 digits" in summary.text
    assert summary.find_element(By.CSS_SELECTOR, "a").get_attribute("href").endswith("#code")
    assert driver.title.startswith("Error: ")
    assert axe_violations(driver) == []

    # The right code: the recovery codes, once; "I have saved these codes" has focus.
    driver.find_element(By.ID, "code").send_keys(code(secret), Keys.ENTER)
    wait_for_heading(driver, "Save your recovery codes")
    codes = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#two-factor-recovery-codes li")]
    assert len(codes) == 10
    WebDriverWait(driver, 5).until(lambda d: active_id(d) == "two-factor-codes-saved")
    assert axe_violations(driver) == []
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#shell-user-name", "Ada Admin", timeout=15)
    assert dash_duo.find_element("#shell-two-factor-link").text == "Two-step verification"

    # Signing in again asks for the code: the next one from the app.
    dash_duo.find_element("#shell-sign-out").click()
    dash_duo.wait_for_contains_text("main", "You have signed out", timeout=10)
    password_by_keyboard(driver, url, people.council_admin.email)
    wait_for_heading(driver, "Enter your code")
    assert active_id(driver) == "code"
    assert axe_violations(driver) == []
    driver.switch_to.active_element.send_keys(code(secret, steps=1), Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#shell-user-name", "Ada Admin", timeout=15)

    # And once more, with a recovery code instead (the link reached by keyboard).
    dash_duo.find_element("#shell-sign-out").click()
    dash_duo.wait_for_contains_text("main", "You have signed out", timeout=10)
    password_by_keyboard(driver, url, people.council_admin.email)
    wait_for_heading(driver, "Enter your code")
    driver.switch_to.active_element.send_keys(Keys.TAB)  # from the code field to Continue
    driver.switch_to.active_element.send_keys(Keys.TAB)  # and on to the link
    assert active_id(driver) == "two-factor-use-recovery"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for_heading(driver, "Enter a recovery code")
    assert active_id(driver) == "recovery_code"
    assert axe_violations(driver) == []
    driver.switch_to.active_element.send_keys(codes[0], Keys.ENTER)
    wait_for_heading(driver, "Two-step verification")
    notice = driver.find_element(By.ID, "two-factor-notice").text
    assert "You signed in with a recovery code" in notice and "You have 9 left" in notice
    assert "cannot be turned off" in driver.find_element(By.ID, "two-factor-required").text
    assert axe_violations(driver) == []
