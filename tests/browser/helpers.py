"""Helpers for browser tests: signing in through the real form, and axe-core checks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str:
    path = os.environ.get("DASHBOARD_AXE_JS")
    if not path or not Path(path).is_file():
        raise RuntimeError(
            "axe-core is missing: run the tests with scripts/run-tests, which installs it "
            "(or set DASHBOARD_AXE_JS to axe.min.js)."
        )
    return Path(path).read_text(encoding="utf-8")


def axe_violations(driver) -> list[dict]:
    """Run axe-core on the current page with the WCAG 2.2 A/AA rules; return its violations."""
    driver.execute_script(axe_source())
    driver.set_script_timeout(120)  # (a long page on a busy two-core machine)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
        AXE_TAGS,
    )
    return result


def sign_in(dash_duo, email: str, password: str) -> None:
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "shell-user-name")))
    dash_duo.server_url = dash_duo.server.url  # waits for the Dash renderer to be ready


def wait_for_address(driver, *parts: str, timeout: float = 10) -> None:
    """Wait until the address bar holds every part: a page writes its view into the address just
    after drawing it, so the address can trail the page by a moment."""
    WebDriverWait(driver, timeout).until(lambda d: all(part in d.current_url for part in parts))


def start_app(dash_duo, app) -> None:
    """Serve the app on a free port (so that test runs side by side do not collide)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dash_duo.start_server(app, navigate=False, port=port)
