"""A freshly started worker answers a burst of simultaneous first requests correctly.

Dash finishes its own set-up (its scripts, the pages router, the callback table) on the first
request a process serves, and marks it done before it has done it. Under gunicorn's threads a
second request arriving meanwhile went on with the set-up half done and could fail: an HTTP 500 on
the sign-in page ("dictionary changed size during iteration"), seen in the load test. The app runs
that set-up once, under a lock, before any request goes on (`app.run_dash_setup_once`).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import dash._validate
import pytest
from werkzeug.serving import make_server

from app import create_app


@pytest.fixture
def slow_dash_setup(monkeypatch) -> dict[str, float]:
    """Make Dash's set-up take a noticeable time, as on a busy machine, and note when it ends."""
    check = dash._validate.validate_background_callbacks  # the last step of the set-up
    finished: dict[str, float] = {}

    def slow_check(callback_map):
        time.sleep(0.5)
        try:
            return check(callback_map)
        finally:
            finished["at"] = time.monotonic()

    monkeypatch.setattr(dash._validate, "validate_background_callbacks", slow_check)
    return finished


@pytest.mark.parametrize("path", ["/login", "/accessibility"])  # pages anyone may open
def test_fr001_a_burst_of_first_requests_waits_for_the_set_up_and_all_succeed(settings, slow_dash_setup, path):
    server = make_server("127.0.0.1", 0, create_app(settings).server, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_port}{path}"
    start = threading.Barrier(8)
    answers: list[tuple[int, float]] = []

    def fetch() -> None:
        start.wait()
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        answers.append((status, time.monotonic()))

    try:
        fetchers = [threading.Thread(target=fetch) for _ in range(8)]
        for fetcher in fetchers:
            fetcher.start()
        for fetcher in fetchers:
            fetcher.join(timeout=60)
    finally:
        server.shutdown()
    assert [status for status, _ in answers] == [200] * 8
    # No request was answered with Dash half set up: each came after the set-up had finished.
    assert all(at > slow_dash_setup["at"] for _, at in answers)
