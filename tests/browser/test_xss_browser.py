"""Stored script in headless Chromium: records whose text is markup are shown as that text, and
no page that shows them runs it (the register grid, record pages, the overview's drill-down, the
action tracker, meetings, the library, the briefing pack, the admin pages); a library link that
is a script URL is refused when saved."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from app import create_app
from callbacks.pages import PAGES
from dashboard import library
from dashboard.access import Viewer
from dashboard.models import Action, Meeting, Organisation, User
from dashboard.reference import Marking, Role
from tests.browser.helpers import sign_in, start_app
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM = "E08000025"

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
SCRIPT_LINK = "javascript:window.__xss=1"


@pytest.fixture
def stored(settings, sqlite_db, password_hash):
    """Records, an organisation and a user whose text fields are markup, all visible to the chair."""
    day = date.today() - timedelta(days=3)
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        s.get(Organisation, people.police.id).name = f"Test Police {SVG}"
        s.get(User, people.police_member.id).name = f"Pat {SCRIPT}"
        pat = s.get(User, people.police_member.id)
        incident = add_incident(s, pat, Marking.GREEN, day=day, area=BIRMINGHAM, title=f"Leaflets {IMG}")
        incident.description = f"Seen at the station {SCRIPT}"
        meeting = Meeting(held_on=day, kind="quarterly", title=f"Quarterly {SCRIPT}", agenda=f"Agenda {SVG}",
                          minutes=f"Minutes {IMG}", created_by_id=people.charity_chair.id)
        s.add(meeting)
        s.flush()
        action = Action(meeting_id=meeting.id, description=f"Write to schools {SVG}", owner_org_id=people.police.id,
                        lead=f"Lead {IMG}", due_on=day + timedelta(days=30))
        s.add(action)
        s.flush()
        chair = Viewer.from_user(s.get(User, people.charity_chair.id))
        form = {"kind": "good practice", "title": f"Guide {IMG}", "summary": f"Summary {SCRIPT}",
                "topic": f"Topic {SVG}", "link": SCRIPT_LINK, "published_on": None, "areas": []}
        with pytest.raises(library.ResourceValidationError) as refused:
            library.create(s, chair, form)
        assert "link" in refused.value.errors
        resource_id = library.create(s, chair, form | {"link": "https://www.example.org/guide.pdf"})
        ids = {"incident": incident.id, "meeting": meeting.id, "action": action.id, "resource": resource_id}
    return create_app(settings, sqlite_db), people, ids


# Injected markup would be stopped by the Content-Security-Policy too (no inline handlers), so
# the test also looks for the elements themselves and for the policy having had to block one.
WATCH_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.violatedDirective + ' ' + (e.sample || '')));"
)
INJECTED = (
    "return Array.from(document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onload], iframe, script'))"
    ".filter(e => e.tagName !== 'SCRIPT' || e.textContent.includes('__xss')).map(e => e.outerHTML.slice(0, 120));"
)


def watch(driver) -> None:
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_VIOLATIONS})


def no_script_ran(driver) -> None:
    time.sleep(0.5)  # an image's onerror fires just after it is drawn
    where = driver.current_url
    assert driver.execute_script("return typeof window.__xss") == "undefined", where
    assert driver.execute_script(INJECTED) == [], where
    assert driver.execute_script("return window.__violations || []") == [], where


def shows(dash_duo, path: str, *texts: str, timeout: int = 20) -> None:
    """Open `path`, wait until each text is on the page as text, and check that nothing ran."""
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + path)
    for text in texts:
        WebDriverWait(driver, timeout).until(
            lambda d, t=text: t in d.find_element(By.TAG_NAME, "body").text,
            message=f"{text!r} shown as text on {path}",
        )
    no_script_ran(driver)


def test_xss101_markup_in_records_is_shown_as_text_and_never_runs(dash_duo, stored):
    app, people, ids = stored
    start_app(dash_duo, app)
    watch(dash_duo.driver)
    sign_in(dash_duo, people.charity_chair.email, TEST_PASSWORD)
    driver = dash_duo.driver

    shows(dash_duo, "/register", f"Leaflets {IMG}")
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".register-grid a")]
    assert links and all(link.startswith(dash_duo.server.url) for link in links)
    shows(dash_duo, f"/incidents/{ids['incident']}", f"Leaflets {IMG}", f"Seen at the station {SCRIPT}",
          f"Test Police {SVG}")

    shows(dash_duo, "/")
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents", timeout=15)
    Select(dash_duo.find_element("#overview-area")).select_by_value(BIRMINGHAM)
    dash_duo.wait_for_text_to_equal("#overview-area-name", "Birmingham", timeout=10)
    no_script_ran(driver)

    shows(dash_duo, "/actions", f"Write to schools {SVG}")
    shows(dash_duo, f"/actions/{ids['action']}", f"Write to schools {SVG}", f"Lead {IMG}")
    shows(dash_duo, "/meetings", f"Quarterly {SCRIPT}")
    shows(dash_duo, f"/meetings/{ids['meeting']}", f"Quarterly {SCRIPT}", f"Minutes {IMG}", f"Agenda {SVG}")
    shows(dash_duo, "/library", f"Guide {IMG}")
    shows(dash_duo, f"/library/{ids['resource']}", f"Guide {IMG}", f"Summary {SCRIPT}")
    hrefs = [a.get_attribute("href") or "" for a in driver.find_elements(By.CSS_SELECTOR, "#main a")]
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    for path in ("/trends", "/since-last-meeting", "/calendar", "/alerts", "/assessments"):
        shows(dash_duo, path)

    # The briefing pack, as the printable page its route serves.
    shows(dash_duo, "/briefing/pack", f"Write to schools {SVG}")


def test_xss102_admin_pages_show_names_as_text(dash_duo, stored):
    app, people, _ids = stored
    start_app(dash_duo, app)
    watch(dash_duo.driver)
    sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    admin_pages = [p.path for p in PAGES if Role.ADMIN in p.roles and p.path_template is None
                   and Role.MEMBER not in p.roles]
    assert admin_pages
    for path in admin_pages:
        shows(dash_duo, path)
        body = dash_duo.driver.find_element(By.TAG_NAME, "body").text
        # Wherever the page lists organisations or people, their names are the text they hold.
        if "Test Police" in body:
            assert f"Test Police {SVG}" in body, path
        if "Pat " in body:
            assert f"Pat {SCRIPT}" in body, path


def test_xss103_the_check_sees_injected_markup(dash_duo, stored):
    """The checks above would fail if markup were ever inserted as HTML (here, on purpose)."""
    app, people, _ids = stored
    start_app(dash_duo, app)
    watch(dash_duo.driver)
    sign_in(dash_duo, people.charity_chair.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.execute_script("document.body.insertAdjacentHTML('beforeend', arguments[0])", IMG)
    with pytest.raises(AssertionError):
        no_script_ran(driver)
