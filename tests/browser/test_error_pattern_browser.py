"""Every form of the dashboard shows its errors in the GOV.UK pattern, in headless Chromium.

For each form a person fills in (records, meetings, actions, resources, the password, the
administrators' forms, the calendar, the party statement, the exports that ask why), sending it
with what it needs left out must:
- show the error summary ("There is a problem") and move focus to it;
- put "Error: " before the page's title while the errors are shown;
- link each problem in the summary to the field it is about, and following the link moves focus
  to that field;
- show the same message beside the field, in its label or legend, read out as "Error: ...";
- mark a single field (a text box, a select) as invalid.
Then correcting the form takes the "Error: " off the title again.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.reference import Role
from tests.browser.helpers import sign_in, start_app
from tests.browser.test_axe_every_page import settled

pytestmark = pytest.mark.browser

# (role, page, the button that sends the form) for every form that can be sent with a gap in it.
FORMS = [
    (Role.MEMBER, "/incidents/new", "incident-form-save"),
    (Role.MEMBER, "/assessments/new", "assessment-form-save"),
    (Role.MEMBER, "/library/new", "resource-form-save"),
    (Role.MEMBER, "/account/password", "account-password-submit"),
    (Role.MEMBER, "/register", "register-export-button"),
    (Role.CHAIR, "/meetings/new", "meeting-form-save"),
    (Role.CHAIR, "/actions/new", "action-form-form-save"),
    (Role.CHAIR, "/calendar", "calendar-form-save"),
    (Role.CHAIR, "/statement", "statement-form-save"),
    (Role.SCI, "/summaries", "summaries-download-button"),
    (Role.ADMIN, "/admin/organisations", "admin-orgs-save"),
    (Role.ADMIN, "/admin/users", "admin-users-invite"),
    (Role.ADMIN, "/admin/api-tokens", "api-tokens-issue"),
    (Role.ADMIN, "/admin/audit", "audit-export"),
]


# What the page shows once the form is sent: the visible error summary that has focus (or the
# one visible), the page's title, and for each link in the summary, where it goes and what the
# field beside it says.
SHOWN = """
var summaries = Array.prototype.filter.call(document.querySelectorAll('.error-summary'), function (s) {
  return !s.closest('[hidden]') && s.getClientRects().length > 0 && s.textContent.trim() !== '';
});
if (!summaries.length) { return null; }
var summary = summaries[0];
var active = document.activeElement;
function fieldError(target) {
  var label = target.id && document.querySelector('label[for="' + target.id + '"]');
  var set = target.closest('fieldset');
  var own = (label && label.querySelector('.field-error')) ||
            (set && set.querySelector('legend .field-error')) ||
            (target.tagName === 'FIELDSET' && target.querySelector('legend .field-error'));
  return own ? own.textContent.replace(/\\s+/g, ' ').trim() : null;
}
return {
  title: document.title,
  focused: summary === active || summary.contains(active),
  heading: (summary.querySelector('h2') || {}).textContent,
  links: Array.prototype.map.call(summary.querySelectorAll('a'), function (a) {
    var id = (a.getAttribute('href') || '').replace(/^#/, '');
    var target = id && document.getElementById(id);
    return {
      text: a.textContent.replace(/\\s+/g, ' ').trim(), id: id, exists: !!target,
      fieldError: target ? fieldError(target) : null,
      invalid: !!target && (target.classList.contains('is-invalid') || target.getAttribute('aria-invalid') === 'true'),
      single: !!target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) &&
              !/^(radio|checkbox)$/.test(target.type),
    };
  }),
};
"""


def send(driver, button_id: str) -> None:
    button = WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, button_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", button)


def shown(driver) -> dict:
    """What the page shows once its error summary is drawn and (if it ever does) has focus."""
    page = WebDriverWait(driver, 20, poll_frequency=0.2).until(lambda d: d.execute_script(SHOWN))
    try:
        return WebDriverWait(driver, 5, poll_frequency=0.1).until(
            lambda d: (now := d.execute_script(SHOWN)) and now["focused"] and now)
    except TimeoutException:
        return page


@pytest.mark.parametrize("role", [Role.MEMBER, Role.CHAIR, Role.SCI, Role.ADMIN])
def test_every_form_shows_its_errors_in_the_govuk_pattern(dash_duo, demo, role):
    app, _db, accounts = demo
    account = accounts[role.value]
    start_app(dash_duo, app)
    sign_in(dash_duo, account.email, account.password)
    driver = dash_duo.driver
    wrong: dict[str, list[str]] = {}
    forms = [(path, button) for who, path, button in FORMS if who == role]
    for path, button in forms:
        driver.get(dash_duo.server.url + path)
        WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
        WebDriverWait(driver, 20).until(lambda d: not d.title.startswith("Error: ") and d.title)
        settled(dash_duo)  # (the page's own first callbacks have answered)
        send(driver, button)
        try:
            page = shown(driver)
        except TimeoutException:
            wrong[path] = ["sending the form showed no error summary"]
            continue
        problems = []
        if not page["focused"]:
            problems.append("focus did not move to the error summary")
        if not page["title"].startswith("Error: "):
            problems.append(f"the title does not start 'Error: ': {page['title']!r}")
        if (page["heading"] or "").strip() != "There is a problem":
            problems.append(f"the summary's heading is {page['heading']!r}")
        if not page["links"]:
            problems.append("the summary links to no field")
        for link in page["links"]:
            if not link["exists"]:
                problems.append(f"{link['text']!r} links to #{link['id']}, which is not on the page")
                continue
            if link["fieldError"] != f"Error: {link['text']}":
                problems.append(f"#{link['id']}'s own error is {link['fieldError']!r}, not 'Error: {link['text']}'")
            if link["single"] and not link["invalid"]:
                problems.append(f"#{link['id']} is not marked invalid")
        first = next((link for link in page["links"] if link["exists"]), None)
        if first:
            anchor = driver.find_element(By.CSS_SELECTOR, f".error-summary a[href='#{first['id']}']")
            driver.execute_script("arguments[0].click();", anchor)
            try:
                WebDriverWait(driver, 5).until(
                    lambda d, target=first["id"]: d.execute_script(
                        "var t = document.getElementById(arguments[0]);"
                        "return t && (document.activeElement === t || t.contains(document.activeElement));",
                        target))
            except TimeoutException:
                problems.append(f"following the link to #{first['id']} did not move focus there")
        if problems:
            wrong[path] = problems
    assert wrong == {}, "\n".join(f"{path}: {p}" for path, ps in wrong.items() for p in ps)
    assert forms


def test_the_title_loses_its_error_prefix_once_the_form_is_put_right(dash_duo, demo):
    app, _db, accounts = demo
    account = accounts[Role.MEMBER.value]
    start_app(dash_duo, app)
    sign_in(dash_duo, account.email, account.password)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/account/password")
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, "account-password-submit")))
    send(driver, "account-password-submit")
    assert shown(driver)["title"].startswith("Error: ")
    driver.find_element(By.ID, "account-password-current").send_keys("not the password at all")
    send(driver, "account-password-submit")
    # one problem left, still an error: the title keeps its prefix, just once
    WebDriverWait(driver, 20).until(lambda d: "Error: Error:" not in d.title and d.title.startswith("Error: "))
    driver.get(dash_duo.server.url + "/")
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
    assert not driver.title.startswith("Error: ")


def test_sign_in_errors_sit_beside_their_fields(dash_duo, demo):
    app, _db, _accounts = demo
    start_app(dash_duo, app)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/login")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".error-summary")))
    assert driver.title.startswith("Error: ")
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
    assert driver.switch_to.active_element == summary
    email_error = driver.execute_script(
        "return document.querySelector('label[for=email] .field-error').textContent.trim()")
    assert email_error.startswith("Error: ") and "e-mail" in email_error.lower()
    assert "is-invalid" in driver.find_element(By.ID, "email").get_attribute("class")
