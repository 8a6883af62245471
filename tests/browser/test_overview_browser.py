"""The regional overview in headless Chromium: filters, the map's drill-down, the table view."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from app import create_app
from dashboard.models import TensionAssessment, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app, wait_for_address
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"


@pytest.fixture
def overview_app(settings, sqlite_db, password_hash):
    today = date.today()
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = s.get(User, people.police_member.id)
        cora = s.get(User, people.council_member.id)
        for days_ago in (3, 10, 40, 200):
            add_incident(s, cora, Marking.GREEN, day=today - timedelta(days=days_ago), area=BIRMINGHAM,
                         title=f"Leaflets found {days_ago} days ago")
        add_incident(s, pat, Marking.AMBER_STRICT, day=today - timedelta(days=5), area=COVENTRY,
                     title="Police-only report")
        s.add(TensionAssessment(area_code=BIRMINGHAM, assessed_on=today - timedelta(days=7), level=4,
                                source_org_id=cora.organisation_id, reporter_id=cora.id))
    return create_app(settings, sqlite_db), people


def test_ovw001_filters_drill_down_and_table(dash_duo, overview_app):
    app, people = overview_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents: Birmingham (4)", timeout=15)
    dash_duo.wait_for_contains_text("#overview-headline", "Districts at tension level 4 or 5")

    # a preset period, by keyboard-operable radio: only the two recent incidents remain
    dash_duo.find_element("label[for$='_input_4w']").click()
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents: Birmingham (2)", timeout=10)
    wait_for_address(dash_duo.driver, "period=4w")  # the view can be shared by its address

    # colour by tension level
    dash_duo.find_element("label[for$='_input_tension']").click()
    dash_duo.wait_for_contains_text("#overview-summary", "Highest latest tension level: 4 High, in Birmingham", timeout=10)

    # the district chooser (the keyboard route to the drill-down)
    Select(dash_duo.find_element("#overview-area")).select_by_value(BIRMINGHAM)
    dash_duo.wait_for_text_to_equal("#overview-area-name", "Birmingham", timeout=10)
    panel = dash_duo.find_element("#overview-area-panel").text
    assert "Leaflets found 3 days ago" in panel and "TLP:GREEN" in panel
    assert "Police-only report" not in panel

    # the table view of the same numbers
    dash_duo.find_element("#overview-table-toggle").click()
    dash_duo.wait_for_contains_text("#overview-area-table", "Birmingham", timeout=10)
    assert dash_duo.find_element("#overview-table-toggle").get_attribute("aria-expanded") == "true"
    assert "4 High" in dash_duo.find_element("#overview-area-table").text

    # the locations layer is drawn above the areas, whatever the map re-created last
    dash_duo.find_element("#overview-layers input[value='points']").send_keys(Keys.SPACE)
    dash_duo.find_element("#overview-geography input[value='force']").send_keys(Keys.SPACE)
    dash_duo.wait_for_contains_text("#overview-summary", "force area", timeout=10)
    layers = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#overview-map .js-plotly-plot');"
        "return gd._fullLayout.map._subplot.map.getStyle().layers.map(l => l.id);"
    )
    assert layers.index("plotly-trace-layer-locations-circle") > layers.index("plotly-trace-layer-areas-force-fill")

    # colour by early warning, by keyboard: the band in words in the summary, legend and table
    dash_duo.find_element("#overview-metric input[value='warning']").send_keys(Keys.SPACE)
    dash_duo.wait_for_contains_text(
        "#overview-summary", "No force area shows a rise or a fall in the 7 days to", timeout=10
    )
    assert "sharp rise (a surge)" in dash_duo.find_element("#overview-legend").text
    dash_duo.wait_for_contains_text("#overview-area-table", "Early warning", timeout=10)
    assert "Stable: 1 incident in the 7 days" in dash_duo.find_element("#overview-area-table").text
    wait_for_address(dash_duo.driver, "metric=warning")

    assert axe_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []


def test_ovw002_custom_dates_with_an_error_named(dash_duo, overview_app):
    app, people = overview_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.police_member.email, TEST_PASSWORD)
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents", timeout=15)
    today = date.today()
    start = dash_duo.find_element("#overview-start")
    dash_duo.driver.execute_script(
        "const el = arguments[0]; el.focus(); const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "setter.call(el, arguments[1]); el.dispatchEvent(new Event('input', {bubbles: true}));"
        "el.dispatchEvent(new Event('change', {bubbles: true})); el.blur();",
        start, (today + timedelta(days=30)).isoformat(),
    )
    dash_duo.wait_for_contains_text("#overview-start-error", "on or before the end date", timeout=10)
    assert dash_duo.get_logs() == []
