"""Production deployment: the real gunicorn with two workers behind a (pretend) TLS proxy, the
structured request log and what it must never hold, plain 500 pages, and the proxy and logging
settings."""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import gunicorn
import pytest
from flask import jsonify, request
from sqlalchemy import select
from werkzeug.test import Client

from dashboard import cli
from dashboard.config import ConfigError, Settings
from dashboard.database import Database
from dashboard.logging_setup import JsonFormatter, loggable_path, redact
from dashboard.models import AuditEvent, User
from dashboard.web import TrustedProxyFix
from tests.conftest import SECRET, TEST_PASSWORD, csrf_from

PROJECT = Path(__file__).resolve().parent.parent
EMAIL = "sam.okafor@leics.police.example"
CLIENT_ADDRESS = "203.0.113.7"  # the browser, as the proxy reports it
PUBLIC_HOST = "dashboard.example.org"
ACTIVATION_SECRET = "Zq8activation-link-secret-Zq8"
QUERY_SECRET = "query-value-that-must-not-be-logged"
FAILURE_SECRET = "detail-only-for-the-operator"
PROXY = {"X-Forwarded-For": CLIENT_ADDRESS, "X-Forwarded-Proto": "https", "X-Forwarded-Host": PUBLIC_HOST}


def server_with_test_routes():
    """The production `app:server` plus two routes only this test has: one that fails, and one that
    says what the app saw of the request. gunicorn builds it: `tests.test_deployment:server_with_test_routes()`."""
    import app

    server = app.server

    @server.route("/_test/fail")
    def _fail():
        raise RuntimeError(f"deliberate failure: {FAILURE_SECRET}")

    @server.route("/_test/request")
    def _seen():
        return jsonify(scheme=request.scheme, remote_addr=request.remote_addr, url_root=request.url_root)

    return server


# --- a real gunicorn ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Plain HTTP to gunicorn, keeping cookies by hand: the proxy speaks plain HTTP to gunicorn, so a
    Secure cookie must still be sent back (a normal client's cookie jar would hold it back)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = headers or {}
        self.cookies: dict[str, str] = {}
        self.set_cookies: dict[str, SimpleCookie] = {}

    def fetch(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        content = response.read()
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.set_cookies[name] = cookie
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return response.status, response.headers, content


class Gunicorn:
    """`gunicorn TARGET` from the project folder (so it reads gunicorn.conf.py), its output in files."""

    def __init__(self, tmp_path: Path, target: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.stdout_path = tmp_path / "gunicorn.out"
        self.stderr_path = tmp_path / "gunicorn.err"
        full_env = {k: v for k, v in os.environ.items() if k not in {
            "DATABASE_URL", "RATELIMIT_STORAGE_URI", "REDIS_URL", "TRUSTED_PROXIES", "SECURE_COOKIES",
            "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "FORWARDED_ALLOW_IPS", "LOG_FORMAT", "LOG_LEVEL"}}
        full_env.update(HOST="127.0.0.1", PORT=str(self.port), ALERT_CHECK_MINUTES="0", SECRET_KEY=SECRET,
                        PYTHONUNBUFFERED="1", **env)
        command = [sys.executable, "-m", "gunicorn", target]
        if int(gunicorn.__version__.split(".")[0]) >= 25:  # its control socket: one per server, not per user
            command[3:3] = ["--control-socket", str(tmp_path / "gunicorn.ctl")]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT, env=full_env, stdout=out, stderr=err, start_new_session=True,
            )

    def wait_until_healthy(self, timeout: float = 40) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn stopped (exit {self.process.returncode}): {self.stderr()}{self.stdout()}")
            try:
                status, _headers, body = Browser(self.port).fetch("GET", "/health")
                if status == 200:
                    return json.loads(body)
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer /health within {timeout} s: {self.stderr()}{self.stdout()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def _prepare(monkeypatch, tmp_path: Path, url: str) -> int:
    """init-db, one organisation and one member, through the command line an operator uses; the
    member's user id."""
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DASHBOARD_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    assert cli.main(["init-db"]) == 0
    assert cli.main(["create-org", "--name", "Leicestershire Police"]) == 0
    assert cli.main(["create-user", "--email", EMAIL, "--name", "Sam Okafor", "--org", "Leicestershire Police",
                     "--role", "member"]) == 0
    db = Database(url)
    try:
        with db.session() as s:
            return s.scalar(select(User.id).where(User.email == EMAIL))
    finally:
        db.dispose()


def _sign_in(browser: Browser, referer: str | None = None) -> tuple[str, dict]:
    """Sign in through /login; the CSRF token of the form and the sign-in answer's headers."""
    status, _headers, page = browser.fetch("GET", "/login")
    assert status == 200
    csrf = csrf_from(page)
    status, headers, _ = browser.fetch(
        "POST", "/login", {"email": EMAIL, "password": TEST_PASSWORD, "csrf_token": csrf, "next": "/"},
        headers={"Referer": referer} if referer else None,
    )
    assert status == 302, _
    assert headers["Location"] in {"/", f"https://{PUBLIC_HOST}/"}
    return csrf, headers


def _log_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "gunicorn and the app wrote log lines"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return parsed


def _request_lines(lines: list[dict]) -> list[dict]:
    found = [line for line in lines if line["logger"] == "dashboard.requests"]
    for line in found:
        assert set(line) >= {"time", "level", "message", "method", "path", "status", "duration_ms", "user_id",
                             "request_id"}
        assert line["time"].endswith("Z")
        assert "?" not in line["path"] and "?" not in line["message"]
    return found


@pytest.mark.slow
def test_gunicorn_behind_a_tls_proxy_serves_signs_in_logs_json_and_hides_errors(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'production.db'}"
    user_id = _prepare(monkeypatch, tmp_path, url)
    server = Gunicorn(tmp_path, "tests.test_deployment:server_with_test_routes()", {
        "DATABASE_URL": url, "WEB_CONCURRENCY": "2", "SECURE_COOKIES": "true", "TRUSTED_PROXIES": "127.0.0.1",
        "FLASK_DEBUG": "1",  # must not switch the debugger (or tracebacks in answers) on
    })
    try:
        assert server.wait_until_healthy() == {"status": "ok"}
        browser = Browser(server.port, PROXY)

        # Signed out, a page sends the browser to the sign-in page on this https site.
        status, headers, _ = browser.fetch("GET", "/trends")
        assert status == 302
        assert headers["Location"].startswith(("/login", f"https://{PUBLIC_HOST}/login"))

        csrf, signed_in = _sign_in(browser, referer=f"https://{PUBLIC_HOST}/login")
        session_cookie = browser.set_cookies["dashboard_session"]["dashboard_session"]
        assert session_cookie["secure"] and session_cookie["httponly"]
        assert session_cookie["samesite"] == "Lax"
        session_value = browser.cookies["dashboard_session"]

        status, _headers, page = browser.fetch("GET", "/")
        assert status == 200 and b"Midlands Partnership Dashboard" in page
        csrf_cookie = browser.set_cookies["_csrf_token"]["_csrf_token"]
        assert csrf_cookie["secure"] and csrf_cookie["samesite"] == "Strict"
        csrf_cookie_value = browser.cookies["_csrf_token"]

        # What the app saw: the browser's address, https and the public host, not the proxy's.
        status, _headers, body = browser.fetch("GET", "/_test/request")
        assert json.loads(body) == {"scheme": "https", "remote_addr": CLIENT_ADDRESS,
                                    "url_root": f"https://{PUBLIC_HOST}/"}

        # A failure gives a plain page with a reference, never the traceback or the error's text.
        status, headers, body = browser.fetch("GET", "/_test/fail")
        assert status == 500
        reference = headers["X-Request-ID"]
        text = body.decode()
        assert "Sorry, something went wrong" in text and reference in text
        for leak in ("Traceback", "RuntimeError", FAILURE_SECRET, "test_deployment", "Werkzeug Debugger"):
            assert leak not in text

        browser.fetch("GET", f"/?q={QUERY_SECRET}")
        browser.fetch("GET", f"/activate/{ACTIVATION_SECRET}?next={QUERY_SECRET}")
    finally:
        exit_code = server.stop() if server.process.poll() is None else server.process.returncode
        server.kill()
    assert exit_code == 0, server.stderr()

    output = server.stdout() + server.stderr()
    for secret in (TEST_PASSWORD, session_value, csrf, csrf_cookie_value, ACTIVATION_SECRET, QUERY_SECRET, EMAIL):
        assert secret not in output
    lines = _log_lines(server.stdout())
    assert {"gunicorn.error", "dashboard.requests"} <= {line["logger"] for line in lines}
    requests = _request_lines(lines)
    by_path = {(line["method"], line["path"], line["status"]): line for line in requests}
    assert by_path[("POST", "/login", 302)]["user_id"] == user_id
    assert by_path[("GET", "/", 200)]["user_id"] == user_id
    assert by_path[("GET", "/health", 200)]["user_id"] is None
    assert ("GET", "/activate/[redacted]", 410) in by_path or any(
        line["path"] == "/activate/[redacted]" for line in requests)
    failed = by_path[("GET", "/_test/fail", 500)]
    assert failed["request_id"] == reference and failed["level"] == "ERROR"
    # The operator gets the traceback, under the same request id.
    errors = [line for line in lines if line.get("exception") and line.get("request_id") == reference]
    assert errors and "RuntimeError" in errors[0]["exception"] and FAILURE_SECRET in errors[0]["exception"]

    # Behind the proxy the audit log has the browser's address, not the proxy's.
    db = Database(url)
    try:
        with db.session() as s:
            addresses = set(s.scalars(select(AuditEvent.ip_address).where(AuditEvent.user_id == user_id)))
    finally:
        db.dispose()
    assert CLIENT_ADDRESS in addresses


@pytest.mark.slow
@pytest.mark.postgres
def test_gunicorn_runs_on_postgresql(tmp_path, monkeypatch, postgres_databases):
    url = postgres_databases.new()
    try:
        user_id = _prepare(monkeypatch, tmp_path, url)
        server = Gunicorn(tmp_path, "app:server", {"DATABASE_URL": url, "WEB_CONCURRENCY": "2"})
        try:
            assert server.wait_until_healthy() == {"status": "ok"}
            browser = Browser(server.port)
            _sign_in(browser)
            assert browser.fetch("GET", "/")[0] == 200
        finally:
            exit_code = server.stop() if server.process.poll() is None else server.process.returncode
            server.kill()
        assert exit_code == 0, server.stderr()
        requests = _request_lines(_log_lines(server.stdout()))
        assert any(line["path"] == "/" and line["status"] == 200 and line["user_id"] == user_id
                   for line in requests)
        assert TEST_PASSWORD not in server.stdout() + server.stderr()
    finally:
        postgres_databases.drop(url)


# --- the pieces, without a server ---------------------------------------------------------------


def _echo(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    seen = {"addr": environ.get("REMOTE_ADDR"), "scheme": environ["wsgi.url_scheme"], "host": environ.get("HTTP_HOST")}
    return [json.dumps(seen).encode()]


@pytest.mark.parametrize("sender, believed", [
    ("10.1.2.3", True),      # the proxy's network
    ("198.51.100.9", False),  # anyone else: the headers could be forged
])
def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(sender, believed):
    client = Client(TrustedProxyFix(_echo, ("10.0.0.0/8",)))
    response = client.get("/", headers=PROXY, environ_base={"REMOTE_ADDR": sender})
    seen = json.loads(response.get_data())
    if believed:
        assert seen == {"addr": CLIENT_ADDRESS, "scheme": "https", "host": PUBLIC_HOST}
    else:
        assert seen == {"addr": sender, "scheme": "http", "host": "localhost"}


def test_only_the_last_hop_is_believed():
    """A browser's own X-Forwarded-For entry, passed on by the proxy, is not taken for its address."""
    client = Client(TrustedProxyFix(_echo, ("127.0.0.1",), hops=1))
    response = client.get("/", headers={"X-Forwarded-For": f"192.0.2.66, {CLIENT_ADDRESS}"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert json.loads(response.get_data())["addr"] == CLIENT_ADDRESS


def _settings(tmp_path, **env):
    return Settings.from_env({"DASHBOARD_INSTANCE": str(tmp_path), "SECRET_KEY": SECRET, **env})


def test_deployment_settings_are_read_and_checked(tmp_path):
    settings = _settings(tmp_path)
    assert settings.trusted_proxies == () and settings.log_format == "json"
    assert settings.rate_limit_storage == "memory://"
    settings = _settings(tmp_path, TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8", PROXY_HOPS="2", LOG_FORMAT="TEXT")
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert settings.proxy_hops == 2 and settings.log_format == "text"
    # With several workers the rate limits must be shared: Redis unless told otherwise.
    assert _settings(tmp_path, REDIS_URL="redis://cache:6379/0").rate_limit_storage == "redis://cache:6379/0"
    assert _settings(tmp_path, REDIS_URL="redis://cache:6379/0",
                     RATELIMIT_STORAGE_URI="memcached://m:11211").rate_limit_storage == "memcached://m:11211"
    for name, value in (("TRUSTED_PROXIES", "proxy.internal"), ("LOG_FORMAT", "xml"), ("REDIS_URL", "cache:6379"),
                        ("PROXY_HOPS", "0"), ("LOG_LEVEL", "loud")):
        with pytest.raises(ConfigError, match=name):
            _settings(tmp_path, **{name: value})


def test_a_json_log_line_has_the_fields_and_hides_activation_links():
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, 'Exception on "/activate/%s" [GET]',
                               ("tok-EN_123",), None)
    record.status = 500
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "app" and line["status"] == 500
    assert line["message"] == 'Exception on "/activate/[redacted]" [GET]'
    assert line["time"].endswith("Z") and "T" in line["time"]
    assert loggable_path("/activate/abc/def") == "/activate/[redacted]"
    assert loggable_path("/incidents/12") == "/incidents/12"
    assert redact("see /activate/abc?x=1") == "see /activate/[redacted]?x=1"
