"""The users page in headless Chromium: an admin invites a user by keyboard (the error summary
takes focus, then the new link's panel does), copies and hides the link; the new user opens it,
chooses a password and reaches the sign-in page. axe finds nothing on any of them."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from dashboard import invitations, web
from tests.browser.helpers import axe_violations, sign_in, start_app
from tests.conftest import TEST_PASSWORD, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_app(settings, sqlite_db, password_hash, monkeypatch):
    monkeypatch.setattr(web, "PUBLIC_ENDPOINTS", web.PUBLIC_ENDPOINTS | {"activation.activate"})
    monkeypatch.setitem(web.TIMEOUT_MESSAGES, "activated", "Your account is ready. Sign in.")
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_adm101_invite_a_user_by_keyboard_and_activate_the_account(dash_duo, admin_app):
    app, db, people = admin_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/admin/users")
    dash_duo.wait_for_element("#admin-users-invite", timeout=15)
    assert "Pat Police" in dash_duo.find_element("#admin-users-table").text
    assert axe_violations(driver) == []

    # Nothing filled in: the error summary takes focus and names each field.
    dash_duo.find_element("#admin-users-invite").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "admin-users-form-errors")
    summary = dash_duo.find_element("#admin-users-form-errors").text
    assert "Enter the person\u2019s full name." in summary and "Choose the person\u2019s role." in summary
    assert axe_violations(driver) == []

    dash_duo.find_element("#admin-users-name").send_keys("Nadia New")
    dash_duo.find_element("#admin-users-email").send_keys("nadia.new@charity.example")
    Select(dash_duo.find_element("#admin-users-organisation")).select_by_visible_text("Test Refugee Charity")
    dash_duo.find_element("#admin-users-role-0").send_keys(Keys.SPACE)  # Member
    dash_duo.find_element("#admin-users-invite").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "admin-users-new-heading")
    link = dash_duo.find_element("#admin-users-new-value").get_attribute("value")
    assert "/activate/" in link and "only time the link is shown" in dash_duo.find_element(
        "#admin-users-new-panel").text
    assert "not e-mailed" in dash_duo.find_element("#admin-users-new-mail").text
    dash_duo.wait_for_contains_text("#admin-users-table", "Invited (link expires", timeout=10)
    stored = driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert link.rsplit("/", 1)[1] not in stored
    copy = dash_duo.find_element("#admin-users-copy")
    assert copy.tag_name == "button"
    copy.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "Cop" in d.find_element(By.ID, "admin-users-copy-status").text)
    assert axe_violations(driver) == []
    dash_duo.find_element("#admin-users-new-hide").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.invisibility_of_element_located((By.ID, "admin-users-new-value")))

    # The new user's side: the link, a password, then the sign-in page.
    driver.delete_all_cookies()
    driver.get(link)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "password")))
    assert "Nadia New" in driver.find_element(By.ID, "activate-account").text
    assert driver.find_element(By.ID, "password").get_attribute("autocomplete") == "new-password"
    assert axe_violations(driver) == []
    driver.find_element(By.ID, "password").send_keys("violet kettle harbour lantern", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "/login" in d.current_url)
    assert "Your account is ready. Sign in." in driver.find_element(By.CSS_SELECTOR, ".notice").text
    with db.session() as s:
        assert invitations.check_link(s, link.rsplit("/", 1)[1]) is None
    driver.get(link)
    assert invitations.LINK_NOT_WORKING in driver.find_element(By.ID, "activate-not-working").text
    assert axe_violations(driver) == []


def test_adm102_organisations_and_a_users_page_by_keyboard(dash_duo, admin_app):
    app, db, people = admin_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/admin/organisations")
    dash_duo.wait_for_element("#admin-orgs-table-grid", timeout=15)
    assert "(your organisation)" in dash_duo.find_element(f"#admin-orgs-row-{people.council.id}").text
    assert axe_violations(driver) == []
    # "Change" opens the organisation in the form, and focus follows.
    driver.find_element(By.CSS_SELECTOR, f"#admin-orgs-row-{people.charity.id} button").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: active_id(d) == "admin-orgs-form-heading")
    assert dash_duo.find_element("#admin-orgs-form-heading").text == "Change Test Refugee Charity"
    short = dash_duo.find_element("#admin-orgs-short-name")
    short.send_keys("TRC")
    dash_duo.find_element("#admin-orgs-save").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#admin-orgs-status", "Saved the changes to Test Refugee Charity", timeout=10)
    dash_duo.wait_for_contains_text(f"#admin-orgs-row-{people.charity.id}", "TRC", timeout=10)
    assert axe_violations(driver) == []

    driver.get(dash_duo.server.url + f"/admin/users/{people.police_member.id}")
    dash_duo.wait_for_element("#admin-user-details", timeout=15)
    assert axe_violations(driver) == []
    driver.find_element(By.XPATH, "//button[contains(., 'Disable the account')]").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.alert_is_present())
    alert = driver.switch_to.alert
    assert "Disable Pat Police\u2019s account?" in alert.text
    alert.accept()
    dash_duo.wait_for_contains_text("#admin-user-status", "Disabled Pat Police\u2019s account", timeout=10)
    dash_duo.wait_for_contains_text("#admin-user-state", "Disabled", timeout=10)
    assert axe_violations(driver) == []
