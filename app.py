"""The app factory: assembles settings, database, the Flask guard, Dash pages and callbacks.

`python app.py` serves the app; `app:server` is the Flask app for gunicorn.
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import dash
from dash.exceptions import DependencyException
from flask import Flask, Response, request
from werkzeug.exceptions import InternalServerError

import callbacks
import layouts
from callbacks import pages
from dashboard.accessibility_web import bp as accessibility_bp
from dashboard.alerts import AlertChecker
from dashboard.api import init_api
from dashboard.briefing_web import bp as briefing_bp
from dashboard.config import Settings
from dashboard.database import Database, schema_is_current
from dashboard.invitations_web import bp as activation_bp
from dashboard.logging_setup import configure_logging, current_request_id
from dashboard.two_factor_web import bp as two_factor_bp
from dashboard.web import allow_dash_inline_scripts, init_server

ASSETS_DIR = Path(__file__).resolve().parent / "assets"

SERVER_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong - Midlands Partnership Dashboard</title>
</head><body><main><h1>Sorry, something went wrong</h1>
<p>The dashboard could not complete your request. Try again in a moment; if it keeps happening, tell
your administrator and quote reference {reference}.</p><p><a href="/">Go to the dashboard</a></p></main>
</body></html>"""


def server_error(_error: InternalServerError) -> Response:
    """A plain 500 answer with the request id to quote; the traceback goes to the log only."""
    reference = current_request_id() or "-"
    if request.path.startswith(("/_dash-", "/api/")):
        body = f'{{"error": "Something went wrong on the server. Reference: {reference}."}}'
        return Response(body, 500, mimetype="application/json")
    return Response(SERVER_ERROR_PAGE.format(reference=reference), 500, mimetype="text/html")


def create_app(settings: Settings | None = None, db: Database | None = None) -> dash.Dash:
    """Build a fresh app; tests pass their own settings and database."""
    settings = settings or Settings.from_env()
    db = db or Database(settings.database_url)
    schema_is_current(db, raise_if_not=True)

    server = Flask(__name__, template_folder=None, static_folder=None)
    server.debug = False  # never the debugger or tracebacks in answers, whatever FLASK_DEBUG says
    init_server(server, settings, db)
    server.register_blueprint(activation_bp)  # a new user's one-time activation link: /activate/<token>
    server.register_blueprint(accessibility_bp)  # the accessibility statement, public: /accessibility
    server.register_blueprint(two_factor_bp)  # the second factor: at sign-in, enrolment, recovery codes
    server.register_blueprint(briefing_bp)  # the chair's briefing pack: /briefing/pack(.pdf)
    init_api(server)  # the read-only API: /api/v1/summary, /api/v1/openapi.json (bearer tokens)

    own_hooks = list(server.before_request_funcs.get(None, []))
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        title="Midlands Partnership Dashboard",
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    # A request for a script Dash does not have is a 404, not a server error.
    server.register_error_handler(DependencyException, lambda _exc: ("Not found", 404))
    server.register_error_handler(InternalServerError, server_error)
    app.index_string = layouts.INDEX_STRING
    pages.register_pages(app)
    pages.register_menu(app)
    app.layout = pages.app_layout
    callbacks.register(app)
    allow_dash_inline_scripts(server, app.csp_hashes)
    run_dash_setup_once(server, own_hooks)
    if settings.alert_check_minutes and not settings.testing:
        # Alerts are also raised between timer runs; a unique key per alert makes overlaps harmless.
        server.extensions["alert_checker"] = AlertChecker(db, settings, settings.alert_check_minutes).start()
    return app


def run_dash_setup_once(server: Flask, own_hooks: list) -> None:
    """Run Dash's first-request set-up once per process, under a lock, before the request goes on.

    Dash finishes setting itself up (scripts, the pages router, its table of callbacks) in
    `before_request` hooks that mark the work done before doing it. Under gunicorn's threads a
    second request that came meanwhile went on with the set-up half done and could fail (a 500 on
    the sign-in page when a new worker's first requests came together; plotly/dash issue 3971).
    Here the hooks Dash added (those not in `own_hooks`) run as one, in their order and their place
    after the sign-in guard, and the first time under a lock, so that other requests wait for the
    set-up to finish."""
    hooks = server.before_request_funcs.setdefault(None, [])
    dash_hooks = [hook for hook in hooks if hook not in own_hooks]
    if not dash_hooks:
        return
    lock = threading.Lock()
    done = threading.Event()

    def run_hooks():
        for hook in dash_hooks:
            answer = hook()
            if answer is not None:
                return answer
        return None

    def dash_setup():
        if done.is_set():
            return run_hooks()  # by now each returns at once (its own flag), as Dash intends
        with lock:
            answer = run_hooks()
            done.set()
            return answer

    first = hooks.index(dash_hooks[0])
    hooks[:] = [hook for hook in hooks if hook not in dash_hooks]
    hooks.insert(first, dash_setup)


def settle_memory() -> None:
    """Take everything built so far (the app, its layouts, Dash's and plotly's own tables: about
    190,000 objects) out of the garbage collector's view. They live as long as the process, and a
    full collection that walks them takes about 95 ms, a pause some request would wait through
    every few seconds. For a served app only: tests build many apps in one process."""
    gc.freeze()


def main() -> None:  # pragma: no cover - thin wrapper around the development server
    env = dict(os.environ)
    env.setdefault("LOG_FORMAT", "text")  # a terminal, not a log collector
    settings = Settings.from_env(env)
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    settle_memory()
    print(f"Midlands Partnership Dashboard: browse to http://{settings.host}:{settings.port}/")
    app.run(host=settings.host, port=settings.port, debug=False)


_app: dash.Dash | None = None


def __getattr__(name: str):
    """`app:server` for gunicorn, built on first use so that importing this module starts nothing."""
    global _app
    if name in {"server", "app"}:
        if _app is None:
            settings = Settings.from_env()
            configure_logging(settings.log_format, settings.log_level)
            _app = create_app(settings)
            settle_memory()
        return _app.server if name == "server" else _app
    raise AttributeError(name)


if __name__ == "__main__":
    main()
