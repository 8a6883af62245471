"""The trends page in headless Chromium: the chart with its trigger events, its words and table,
areas side by side, the early warning, by keyboard, with no console errors and no axe findings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.keys import Keys

from app import create_app
from dashboard.models import Meeting, TriggerEvent, User
from dashboard.reference import Marking
from tests.browser.helpers import axe_violations, sign_in, start_app, wait_for_address
from tests.conftest import TEST_PASSWORD, add_incident, make_people

pytestmark = pytest.mark.browser
BIRMINGHAM, COVENTRY = "E08000025", "E08000026"


@pytest.fixture
def trends_app(settings, sqlite_db, password_hash):
    today = date.today()
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        cora = s.get(User, people.council_member.id)
        pat = s.get(User, people.police_member.id)
        # a quiet baseline in Birmingham, then a burst in the last week: a surge
        for weeks_ago in range(1, 13):
            add_incident(s, cora, Marking.GREEN, day=today - timedelta(days=7 * weeks_ago + 3), area=BIRMINGHAM)
        for days_ago in range(0, 6):
            for _ in range(2):
                add_incident(s, cora, Marking.GREEN, day=today - timedelta(days=days_ago), area=BIRMINGHAM)
        add_incident(s, cora, Marking.GREEN, day=today - timedelta(days=20), area=COVENTRY, category="hc-abuse")
        add_incident(s, pat, Marking.AMBER_STRICT, day=today - timedelta(days=2), area=COVENTRY,
                     title="Police-only report")
        s.add(Meeting(held_on=today - timedelta(days=8), title="Extraordinary meeting", kind="extraordinary"))
        s.add(TriggerEvent(kind="rally or march", title="March through the city", region_wide=True,
                           starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=30),
                           created_by_id=cora.id))
        s.add(TriggerEvent(kind="election", title="Council by-election", region_wide=True,
                           starts_on=today + timedelta(days=20), ends_on=today + timedelta(days=20),
                           created_by_id=cora.id))
    return create_app(settings, sqlite_db), people


def test_trd001_trends_chart_table_areas_and_warning(dash_duo, trends_app):
    app, people = trends_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.council_member.email, TEST_PASSWORD)
    dash_duo.driver.get(dash_duo.server.url + "/trends?period=quarter")
    dash_duo.wait_for_contains_text("#trends-summary", "25 incidents you can see in the whole region", timeout=15)

    # the trigger event is drawn on the chart, and listed; the election is upcoming
    dash_duo.wait_for_contains_text("#trends-graph", "March through the city", timeout=10)
    dash_duo.wait_for_contains_text("#trends-events", "Council by-election", timeout=10)
    assert "Election run-up" in dash_duo.find_element("#trends-graph").text
    # the hate-crime caveat sits beside the chart
    assert "recording practice" in dash_duo.find_element("#trends-caveat").text

    # the early warning names the surge in Birmingham
    dash_duo.wait_for_contains_text("#trends-warning", "Birmingham", timeout=10)
    assert "sharp rise" in dash_duo.find_element("#trends-warning").text

    # areas side by side, chosen by keyboard
    dash_duo.find_element("#trends-split input[value='area']").send_keys(Keys.SPACE)
    dash_duo.find_element("#trends-areas-section summary").send_keys(Keys.ENTER)
    for code in (BIRMINGHAM, COVENTRY):
        dash_duo.find_element(f"#trends-areas input[value='{code}']").send_keys(Keys.SPACE)
    dash_duo.wait_for_contains_text("#trends-summary", "in Birmingham and Coventry", timeout=10)
    wait_for_address(dash_duo.driver, "areas=", "split=area")

    # the same numbers as a table
    dash_duo.find_element("#trends-table-toggle").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#trends-data-table", "Birmingham", timeout=10)
    assert dash_duo.find_element("#trends-table-toggle").get_attribute("aria-expanded") == "true"
    assert "Police-only report" not in dash_duo.driver.page_source

    assert axe_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []


def test_trd002_since_the_last_meeting_for_the_chair(dash_duo, trends_app):
    app, people = trends_app
    start_app(dash_duo, app)
    sign_in(dash_duo, people.charity_chair.email, TEST_PASSWORD)
    # Leave the overview once it has drawn: a page left mid-request logs the aborted request.
    dash_duo.wait_for_contains_text("#overview-summary", "Most incidents", timeout=15)
    dash_duo.find_element("a[href='/since-last-meeting']").click()
    dash_duo.wait_for_contains_text("#since-intro", "Last meeting: Extraordinary meeting", timeout=15)
    dash_duo.wait_for_contains_text("#since-rises", "Birmingham", timeout=10)
    assert "sharp rise" in dash_duo.find_element("#since-surges-section").text
    assert "Council by-election" in dash_duo.find_element("#since-upcoming").text
    assert axe_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
