"""Phones and high zoom, in headless Chromium: at 360 CSS px wide (a phone) and 640 (a 1280-px
laptop at 200% zoom) no page scrolls sideways as a whole (a wide table scrolls in its own box),
and the navigation opens from its "Menu" button by keyboard and closes once a page is chosen.
Printing the action tracker and the briefing pack leaves the navigation out."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.reference import Role
from tests.browser.helpers import sign_in, start_app
from tests.browser.test_axe_every_page import paths_for, record_ids, settled

pytestmark = pytest.mark.browser


def page_width(driver) -> tuple[int, int]:
    return tuple(driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];"))


@pytest.mark.parametrize("width", [360, 640], ids=["phone", "zoom-200"])
def test_no_page_scrolls_sideways_and_the_menu_works_by_keyboard(dash_duo, demo, width):  # noqa: F811
    app, db, accounts = demo
    chair = accounts[Role.CHAIR.value]  # the role with the most pages
    start_app(dash_duo, app)
    driver = dash_duo.driver
    driver.set_window_size(width, 800)
    sign_in(dash_duo, chair.email, chair.password)
    too_wide = {}
    for path in paths_for(Role.CHAIR.value, record_ids(db, chair.email)):
        driver.get(dash_duo.server.url + path)
        WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
        if driver.find_elements(By.ID, "react-entry-point"):
            settled(dash_duo)
        scroll, client = page_width(driver)
        if scroll > client + 1:
            too_wide[path] = scroll
    assert too_wide == {}, f"pages wider than {width} px: {too_wide}"

    # The navigation is behind "Menu": Enter opens it, the links are reachable by Tab, choosing one
    # goes there and closes the menu.
    driver.get(dash_duo.server.url + "/")
    settled(dash_duo)
    menu = dash_duo.find_element("#shell-menu-toggle")
    assert menu.is_displayed() and not dash_duo.find_element("#shell-nav").is_displayed()
    assert menu.get_attribute("aria-expanded") == "false" and menu.get_attribute("aria-controls") == "shell-nav"
    driver.execute_script("arguments[0].focus()", menu)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "shell-nav").is_displayed())
    assert menu.get_attribute("aria-expanded") == "true"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.TAB)  # Overview, then Trends
    assert driver.switch_to.active_element.text == "Trends"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("h1", "Trends", timeout=10)
    WebDriverWait(driver, 5).until(lambda d: not d.find_element(By.ID, "shell-nav").is_displayed())
    assert menu.get_attribute("aria-expanded") == "false"


def test_wide_screens_show_the_links_without_a_menu_button(dash_duo, demo):  # noqa: F811
    app, _db, accounts = demo
    member = accounts[Role.MEMBER.value]
    start_app(dash_duo, app)
    dash_duo.driver.set_window_size(1280, 900)
    sign_in(dash_duo, member.email, member.password)
    assert dash_duo.find_element("#shell-nav").is_displayed()
    assert not dash_duo.find_element("#shell-menu-toggle").is_displayed()

    # Printed, the action tracker and the briefing pack leave out the navigation and sign-out.
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/actions")
    dash_duo.wait_for_element("#actions-tracker-table", timeout=15)
    # On a laptop's screen the tracker's whole table shows, without scrolling inside its box.
    table, box = driver.execute_script(
        "var w = document.querySelector('.actions-table-wrap');"
        "return [w.querySelector('table').scrollWidth, w.clientWidth];")
    assert table <= box, f"the tracker's table is {table - box} px wider than its box at 1280 px"
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not dash_duo.find_element("#shell-nav").is_displayed()
    assert not dash_duo.find_element("#shell-sign-out").is_displayed()
    assert dash_duo.find_element("#actions-tracker-table").is_displayed()
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
