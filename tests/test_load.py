"""The load test: its command end to end on a small demo (a short smoke run), and its guards."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "load-test"

sys.path.insert(0, str(ROOT / "loadtest"))


def _run(tmp_path: Path, timeout: int = 120, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment |= {"DASHBOARD_INSTANCE": str(tmp_path / "instance"), "LOAD_OUTPUT": str(tmp_path / "out")} | env
    return subprocess.run([str(SCRIPT)], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.slow
def test_a_short_run_signs_users_in_and_walks_every_page_without_a_failure(tmp_path):
    # Short pauses, so that every simulated person walks all three pages within the short run.
    done = _run(tmp_path, LOAD_INCIDENTS="1500", LOAD_USERS="5", LOAD_SPAWN_RATE="5", LOAD_RUN_TIME="12s",
                LOAD_THINK_SECONDS="0.1-0.3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Errors: 0" in done.stdout
    out = tmp_path / "out"
    rows = {r["Name"]: r for r in csv.DictReader((out / "stats_stats.csv").open(encoding="utf-8"))}
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    # every user signed in, and each page and its main callbacks answered
    assert int(rows["sign-in: submit"]["Request Count"]) == 5
    for name in ("page: overview (router)", "overview: map, summary, headline", "page: trends (router)",
                 "trends: chart and summary", "page: register (router)", "register: rows (first block)"):
        assert int(rows[name]["Request Count"]) >= 1, name
    assert (out / "report.html").stat().st_size > 0
    assert "| overview: map, summary, headline" in done.stdout  # the printed p50/p95 table
    # the accounts were made on the demo database, members only, and their passwords kept private
    assert (out / "accounts.txt").stat().st_mode & 0o077 == 0
    # the server was stopped
    port = done.stdout.split("at http://127.0.0.1:")[1].split()[0]
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', "
                            f"{int(port)}), timeout=1)"], capture_output=True, check=False)
    assert probe.returncode != 0


@pytest.mark.parametrize("host", ["10.0.0.5", "example.org", "0.0.0.0"])  # noqa: S104
def test_the_command_refuses_a_host_that_is_not_loopback(tmp_path, host):
    done = _run(tmp_path, timeout=30, LOAD_HOST=host)
    assert done.returncode == 2
    assert "loopback" in done.stderr
    assert not (tmp_path / "instance").exists()  # refused before anything was made


def test_the_scenario_refuses_a_host_that_is_not_loopback():
    from support import is_loopback

    assert is_loopback("http://127.0.0.1:8050") and is_loopback("http://[::1]:8050")
    assert is_loopback("http://localhost:8050")
    for host in ("http://10.0.0.5:8050", "https://dashboard.example.org", "http://0.0.0.0:8050", "", None,
                 "ftp://127.0.0.1"):
        assert not is_loopback(host), host


def test_accounts_are_never_added_to_a_database_that_is_not_a_demo(db, people):
    from accounts import prepare

    with pytest.raises(SystemExit, match="not a demo database"):
        prepare(db.url, 3)


def test_the_scenario_reads_initial_values_from_the_page_layout():
    from support import layout_values

    tree = {"type": "Div", "namespace": "dash_html_components", "props": {"children": [
        {"type": "Dropdown", "namespace": "dash_core_components",
         "props": {"id": "overview-period", "value": "12m", "options": []}},
        {"type": "Div", "namespace": "dash_html_components", "props": {"children": {
            "type": "Input", "namespace": "dash_core_components", "props": {"id": "register-search", "value": ""}}}},
    ]}}
    assert layout_values(tree) == {"overview-period.value": "12m", "overview-period.options": [],
                                   "overview-period.id": "overview-period", "register-search.value": "",
                                   "register-search.id": "register-search"}
