"""axe-core on every page of the app, for every role, in headless Chromium.

Each role signs in to a demo database and opens every page its role may open (the navigation's
pages, a record of each kind with its edit form, the forms for new records, the server-rendered
account pages), waits for the page's callbacks to finish, and runs axe-core with the wcag2a,
wcag2aa, wcag21a, wcag21aa and wcag22aa rules. Any violation on any page fails the test, naming
the page, the rule and the elements; so does a chart that is not a figure with a caption sentence
and a table of its figures.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from callbacks.pages import PAGES
from dashboard.access import Purpose, Viewer, visible
from dashboard.models import Action, Incident, Meeting, Resource, TensionAssessment, User
from dashboard.reference import Marking, Role
from tests.browser.helpers import axe_violations, sign_in, start_app

pytestmark = pytest.mark.browser

# The server-rendered pages of a signed-in person, and the chair's briefing pack as a web page.
EXTRA_PATHS = {
    Role.MEMBER: ["/account/two-factor"],
    Role.CHAIR: ["/account/two-factor", "/briefing/pack"],
    Role.SCI: ["/account/two-factor"],
    Role.ADMIN: ["/account/two-factor"],
}
OPEN_MARKINGS = (Marking.CLEAR.value, Marking.GREEN.value)  # (AMBER and RED first ask why: see their tests)


def _first(session, viewer: Viewer, model, *conditions) -> int | None:
    stmt = visible(viewer, model, purpose=Purpose.RECORDS).with_only_columns(model.id).where(*conditions)
    return session.scalar(stmt.order_by(model.id).limit(1))


def record_ids(db, email: str) -> dict[str, int | None]:
    """For each kind of record page, the id of a record this person may open."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        viewer = Viewer.from_user(user)
        other = s.scalar(select(User.id).where(User.id != user.id).order_by(User.id).limit(1))
        return {
            "incident_id": _first(s, viewer, Incident, Incident.marking.in_(OPEN_MARKINGS)),
            "assessment_id": _first(s, viewer, TensionAssessment, TensionAssessment.marking.in_(OPEN_MARKINGS)),
            "meeting_id": _first(s, viewer, Meeting),
            "action_id": _first(s, viewer, Action),
            "resource_id": _first(s, viewer, Resource),
            "user_id": other,
        }


def paths_for(role: str, ids: dict[str, int | None]) -> list[str]:
    paths = []
    for page in PAGES:
        if role not in page.roles:
            continue
        if page.path_template is None:
            paths.append(page.path)
            continue
        name = page.path_template.split("<")[1].split(">")[0]
        if ids.get(name) is not None:
            paths.append(page.path_template.replace(f"<{name}>", str(ids[name])))
    return paths + EXTRA_PATHS[Role(role)]


def settled(dash_duo) -> None:
    """Wait until the page's callbacks have all answered (charts, tables, grids drawn)."""
    WebDriverWait(dash_duo.driver, 30, poll_frequency=0.2).until(lambda _d: dash_duo._wait_for_callbacks())


@pytest.mark.parametrize("role", [Role.MEMBER, Role.CHAIR, Role.SCI, Role.ADMIN])
def test_axe_finds_nothing_on_any_page_for_any_role(dash_duo, demo, role):
    app, db, accounts = demo
    account = accounts[role.value]
    start_app(dash_duo, app)
    sign_in(dash_duo, account.email, account.password)
    driver = dash_duo.driver
    found = {}
    charts_seen = 0
    paths = paths_for(role.value, record_ids(db, account.email))
    assert len(paths) >= 5
    for path in paths:
        driver.get(dash_duo.server.url + path)
        WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
        if driver.find_elements(By.ID, "react-entry-point"):
            settled(dash_duo)
        violations = axe_violations(driver)
        if violations:
            found[path] = [(v["id"], v["help"], v["nodes"][:3]) for v in violations]
        charts = driver.execute_script(CHARTS_WITHOUT_ALTERNATIVES)
        charts_seen += charts["count"]
        if charts["wanting"]:
            found[path + " (charts)"] = charts["wanting"]
    assert found == {}, "\n".join(f"{path}: {v}" for path, v in found.items())
    assert charts_seen >= 2  # (the check did find the charts: the overview map, trends, summaries)


# Every chart is a <figure> whose caption has a sentence, with its figures in a table on the page
# (a "Show as table" button controlling it, or a link to it).
CHARTS_WITHOUT_ALTERNATIVES = """
var wanting = [];
var graphs = document.querySelectorAll('.dash-graph');
graphs.forEach(function (graph) {
  var figure = graph.closest('figure');
  var caption = figure && figure.querySelector('figcaption');
  var sentence = caption && /[A-Za-z].*[.:]/.test(caption.textContent);
  var scope = graph.closest('section') || document;
  var toTable = Array.prototype.some.call(scope.querySelectorAll('button[aria-controls], a[href^="#"]'),
    function (el) { return /table/i.test(el.textContent + ' ' + (el.getAttribute('href') || '')); });
  if (!(figure && sentence && toTable)) {
    wanting.push((graph.id || graph.className) + (figure ? '' : ': not in a figure') +
                 (sentence ? '' : ': no caption sentence') + (toTable ? '' : ': no table'));
  }
});
return {count: graphs.length, wanting: wanting};
"""
