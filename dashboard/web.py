"""The Flask side of the app: sign-in pages, the route guard, CSRF and security headers.

`init_server()` is called by the app factory before Dash attaches its own routes, so the guard
covers every route Dash (or anything else) adds later.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, generate_csrf
from sqlalchemy import select, text
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from . import auth
from .access import Viewer
from .config import Settings
from .database import Database
from .logging_setup import init_request_logging
from .models import AppSetting, utcnow

EXTENSION = "partnership_dashboard"
SESSION_TOKEN_KEY = "_user_id"  # noqa: S105 - flask-login's key; it holds our opaque session token
CSRF_COOKIE = "_csrf_token"  # the cookie dash-renderer reads for its X-CSRFToken header

# Routes anyone may reach: the sign-in page, the health check, a new user's activation link and
# the sign-in page's own assets.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.health", "activation.activate", "accessibility.statement"})
# Between a right password and the second factor: the Flask session (a signed cookie) holds
# {"user_id", "at", "next", "step"} under this key, and these routes are all it can reach.
PENDING_KEY = "two_factor_pending"
PENDING_ENDPOINTS = frozenset({"two_factor.verify", "two_factor.setup", "two_factor.finish"})
# Routes a signed-in user whose role requires a second factor can reach before setting one up.
SETUP_FIRST_ENDPOINTS = frozenset({
    "two_factor.account", "two_factor.account_setup", "auth.logout", "auth.logout_form_only",
    "auth.session_status", "auth.session_keepalive",
})
PUBLIC_PATHS = frozenset({"/assets/vendor/bootstrap.min.css", "/assets/app.css"})
# Blueprints whose endpoints check their own credentials: the read-only API (dashboard/api.py)
# takes bearer tokens only. Any other path under /api/ still needs a signed-in session.
SELF_AUTHENTICATING_BLUEPRINTS = frozenset({"api"})
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")

TIMEOUT_MESSAGES = {
    "idle": "You were signed out after {idle} without activity. Please sign in again.",
    "expired": "Your session reached its limit of {maximum}. Please sign in again.",
    "disabled": "Your session has ended. Please sign in again.",
    "password changed": "Your password was changed, so you were signed out everywhere.",
    "user disabled": "Your session has ended. Please sign in again.",
    "signed out everywhere": "You were signed out everywhere. Please sign in again.",
    "second factor reset": "Your two-step verification was reset, so you were signed out. Please sign in again.",
    "second factor turned off": "Two-step verification was turned off for your account, so you were signed out. "
                                "Please sign in again.",
    "organisation not active": "Your organisation's membership was suspended or ended, so you were signed out.",
    "activated": "Your account is ready. Sign in.",
    "two-factor-expired": "Signing in took more than 5 minutes, so it was stopped. Please sign in again.",
    "ended": "Your session has ended, for example after {idle} without activity. Please sign in again.",
}


@dataclass
class Extension:
    settings: Settings
    db: Database
    limiter: Limiter


def extension(app: Flask | None = None) -> Extension:
    return (app or current_app).extensions[EXTENSION]


def get_db() -> Database:
    return extension().db


class SignedInUser(UserMixin):
    """flask-login's user for one request: the session token and the viewer it resolved to."""

    def __init__(self, token: str, viewer: Viewer) -> None:
        self.token = token
        self.viewer = viewer

    def get_id(self) -> str:
        return self.token


def current_viewer() -> Viewer | None:
    """The signed-in viewer of this request, or None (callers must then deny)."""
    if current_user and current_user.is_authenticated:
        return current_user.viewer
    return None


def demo_mode() -> bool:
    """Whether this database holds synthetic demo data (set by `seed-demo`)."""
    cached = g.get("_demo_mode")
    if cached is None:
        with get_db().session() as s:
            cached = s.scalar(select(AppSetting.value).where(AppSetting.key == "demo_mode")) == "true"
        g._demo_mode = cached
    return cached


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


def _duration(span: timedelta) -> str:
    """A session limit in words: "30 minutes", "1 hour", "90 seconds"."""
    seconds = int(span.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def start_signed_in_session(token: str, viewer: Viewer) -> None:
    """Give this browser a fresh Flask session holding the new server-side session's token."""
    session.clear()  # a new session at sign-in (and no half-finished sign-in left in it)
    session.permanent = True
    login_user(SignedInUser(token, viewer))


def safe_next(target: str | None) -> str:
    """Follow `next` only to a path on this site (a single leading slash, no scheme or host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path.startswith("/login") or parts.path.startswith("/logout"):
        return "/"
    return target


bp = Blueprint("auth", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    if request.method == "GET":
        session.pop(PENDING_KEY, None)  # back at the sign-in page: a half-finished sign-in is abandoned
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    errors: list[tuple[str, str]] = []
    settings = extension().settings
    notice = TIMEOUT_MESSAGES.get(request.args.get("reason", ""), "").format(
        idle=_duration(settings.idle_timeout), maximum=_duration(settings.absolute_timeout))
    if request.args.get("signed_out"):
        notice = "You have signed out."
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            for field in (form.email, form.password):
                errors.extend((field.id, message) for message in field.errors)
            if form.csrf_token.errors:
                errors.append(("email", "The form had expired. Please try again."))
            status = 400
        else:
            ext = extension()
            with ext.db.session() as s:
                result = auth.authenticate(
                    s, ext.settings, form.email.data, form.password.data, ip_address=request.remote_addr
                )
                token = None
                if result.ok and result.second_factor is None:
                    token = auth.start_session(
                        s,
                        result.user,
                        ip_address=request.remote_addr,
                        user_agent=request.headers.get("User-Agent"),
                    )
                    viewer = Viewer.from_user(result.user)
                user_id = result.user.id if result.ok else None
            if token:
                start_signed_in_session(token, viewer)
                return redirect(next_url)
            if result.ok:
                # The password was right; no session until the second factor is passed too.
                session.clear()
                session[PENDING_KEY] = {"user_id": user_id, "at": utcnow().timestamp(), "next": next_url,
                                        "step": result.second_factor}
                endpoint = "two_factor.verify" if result.second_factor == auth.SECOND_FACTOR_VERIFY else "two_factor.setup"
                return redirect(url_for(endpoint))
            errors.append(("email", result.message))
            status = 429 if result.locked_for else 200
    return (
        render_template(
            "login.html",
            form=form,
            errors=errors,
            notice=notice,
            next_url=next_url,
            demo=demo_mode(),
        ),
        status,
    )


@bp.app_errorhandler(429)
def too_many_requests(_error):
    if request.blueprint == "two_factor":
        from .two_factor_web import too_many_requests as two_factor_too_many

        return two_factor_too_many()
    form = LoginForm()
    message = "Too many sign-in attempts from your network. Wait a minute, then try again."
    return (
        render_template(
            "login.html", form=form, errors=[("email", message)], notice="",
            next_url=safe_next(request.values.get("next")), demo=demo_mode(),
        ),
        429,
    )


@bp.route("/logout", methods=["GET"])
def logout_form_only():
    """Signing out changes state, so it is a POST with a CSRF token; a GET is refused."""
    return Response("Sign out with the button on any page.", 405, {"Allow": "POST"})


@bp.route("/logout", methods=["POST"])
def logout():
    token = session.get(SESSION_TOKEN_KEY)
    if token:
        with get_db().session() as s:
            user_id = auth.end_session(s, token)
            if user_id is not None:
                from . import audit

                audit.record(s, "sign-out", user_id=user_id, ip_address=request.remote_addr)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", signed_out=1))


WARNING_LEAD = timedelta(minutes=2)  # the idle warning appears this long before the timeout
NOT_ACTIVITY_ENDPOINTS = frozenset({"auth.session_status"})


def warning_lead(idle_timeout: timedelta) -> timedelta:
    """How long before the idle timeout the browser warns: two minutes, or half of a shorter timeout
    (so a one-minute timeout still warns 30 seconds ahead, above the 20 seconds WCAG 2.2.1 asks)."""
    return min(WARNING_LEAD, idle_timeout / 2)


def _time_left(keep_alive: bool) -> Response:
    """The idle warning's answer: seconds left and the timings, as JSON (401 without a session)."""
    ext = extension()
    time_left = None
    if current_user.is_authenticated:
        with ext.db.session() as s:
            time_left = auth.session_time_left(s, ext.settings, current_user.token, keep_alive=keep_alive)
    if time_left is None:
        return Response(json.dumps({"error": "Sign in required."}), 401, mimetype="application/json")
    return jsonify(
        seconds_left=time_left.idle_seconds,
        absolute_seconds_left=time_left.absolute_seconds,
        idle_seconds=int(ext.settings.idle_timeout.total_seconds()),
        warning_seconds=int(warning_lead(ext.settings.idle_timeout).total_seconds()),
    )


@bp.route("/session/status", methods=["GET"])
def session_status():
    """How long this session has left; asking does not count as activity."""
    return _time_left(keep_alive=False)


@bp.route("/session/keepalive", methods=["POST"])
def session_keepalive():
    """The "stay signed in" button: marks the session as active now (CSRF-protected like every POST)."""
    return _time_left(keep_alive=True)


@bp.route("/health")
def health():
    """Liveness and database reachability; reveals nothing else."""
    try:
        with get_db().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return Response(json.dumps({"status": "unavailable"}), 503, mimetype="application/json")
    return Response(json.dumps({"status": "ok"}), 200, mimetype="application/json")


def _load_user(token: str):
    ext = extension()
    # Asking how long the session has left is not activity (else the question would answer itself).
    touch = not (has_request_context() and request.endpoint in NOT_ACTIVITY_ENDPOINTS)
    with ext.db.session() as s:
        resolved = auth.resolve_session(s, ext.settings, token, touch=touch)
        if resolved.user is None:
            g.session_end_reason = resolved.ended_reason
            return None
        # A session opened before the role required a second factor (or before an admin reset
        # it) reaches nothing but the set-up page until one is set up.
        g.second_factor_setup_needed = auth.second_factor_step(ext.settings, resolved.user) == auth.SECOND_FACTOR_SETUP
        return SignedInUser(token, Viewer.from_user(resolved.user))


def _guard():
    """Deny by default: every route needs a signed-in user unless it is on the allow-list."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.path in PUBLIC_PATHS:
        return None
    if request.blueprint in SELF_AUTHENTICATING_BLUEPRINTS and request.url_rule is not None:
        return None  # the API's own token check decides (a session cookie alone does not open it)
    if request.endpoint in PENDING_ENDPOINTS and session.get(PENDING_KEY):
        return None  # the view checks the half-finished sign-in (its user, its step, its age)
    if current_user.is_authenticated:
        if g.get("second_factor_setup_needed") and request.endpoint not in SETUP_FIRST_ENDPOINTS:
            if request.path.startswith(("/_dash-", "/api/")) or request.method != "GET":
                return Response(json.dumps({"error": "Set up two-step verification first."}), 403,
                                mimetype="application/json")
            return redirect(url_for("two_factor.account_setup"))
        return None
    if request.path.startswith(("/_dash-", "/api/")) or request.method != "GET":
        return Response(
            json.dumps({"error": "Sign in required."}), 401, mimetype="application/json"
        )
    reason = g.get("session_end_reason")
    args = {"next": request.full_path.rstrip("?")}
    if reason in TIMEOUT_MESSAGES:
        args["reason"] = reason
    return redirect(url_for("auth.login", **args))


def _refuse_malformed_router_request():
    """Dash's page router fails inside Dash on a pathname that is not a path (browsers always send
    one starting with "/"); such a forged request is refused with 400 instead."""
    if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        return None
    if "_pages_content" not in str(body.get("output", "")):
        return None  # only the router fails; other callbacks read the path as they like
    for item in body["inputs"]:
        if isinstance(item, dict) and item.get("id") == "_pages_location" and item.get("property") == "pathname":
            value = item.get("value")
            if not isinstance(value, str) or not value.startswith("/"):
                return Response(json.dumps({"error": "The request is not one this page sends."}), 400,
                                mimetype="application/json")
    return None


def _content_security_policy(script_hashes: list[str], tiles_origin: str = "") -> str:
    scripts = " ".join(script_hashes)  # Dash gives them quoted: 'sha256-...'
    tiles = f" {tiles_origin}" if tiles_origin else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}".strip(),
            # Plotly and Dash components set inline styles at run time.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{tiles}",
            "font-src 'self' data:",
            f"connect-src 'self'{tiles}",
            # MapLibre (the map traces) runs its workers from blob: URLs.
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _csp() -> str:
    source = current_app.config.get("DASHBOARD_INLINE_SCRIPT_HASHES")
    tiles = extension().settings.map_tiles_url
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(tiles)) if tiles else ""
    # Dash adds inline scripts (its renderer, clientside callbacks) up to its first request.
    return _content_security_policy(list(source()) if source else [], origin)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = _csp()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=(), payment=()"
    if not request.path.startswith(STATIC_PREFIXES):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if response.mimetype == "text/html" and current_user.is_authenticated:
        response.set_cookie(
            CSRF_COOKIE,
            generate_csrf(),
            secure=extension().settings.secure_cookies,
            httponly=False,  # dash-renderer must read it to send the X-CSRFToken header
            samesite="Strict",
        )
    return response


class TrustedProxyFix:
    """Believe the X-Forwarded-For/-Proto/-Host/-Port headers only from the configured TLS proxies,
    so that behind the proxy the app sees the browser's address and https; from any other sender
    they are ignored (else anyone could claim any address and dodge the per-address limits)."""

    def __init__(self, app, trusted: tuple[str, ...], hops: int = 1) -> None:
        self.app = app
        self.any_sender = "*" in trusted
        self.networks = [ipaddress.ip_network(t) for t in trusted if t != "*"]
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    def trusts(self, address: str | None) -> bool:
        if self.any_sender or not address:
            return True  # no address: a UNIX socket, which only local processes (the proxy) reach
        try:
            ip = ipaddress.ip_address((address or "").split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def init_server(server: Flask, settings: Settings, db: Database) -> None:
    """Configure the Flask server: settings, database, sign-in, guard, CSRF, limits, headers."""
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="dashboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=settings.absolute_timeout,
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_TIME_LIMIT=None,  # pages left open must keep working; the session bounds it
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
        RATELIMIT_HEADERS_ENABLED=True,
        TESTING=settings.testing,
        # The largest request: an imported spreadsheet (imports.MAX_BYTES, 20 MB) reaches its
        # callback base64-encoded, a third larger, inside the callback's JSON.
        MAX_CONTENT_LENGTH=28 * 1024 * 1024,
    )
    if settings.trusted_proxies:
        server.wsgi_app = TrustedProxyFix(server.wsgi_app, settings.trusted_proxies, settings.proxy_hops)
    init_request_logging(server)  # first, so that requests the guard answers are logged too
    login_manager = LoginManager()
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.init_app(server)

    # Order matters: the guard answers anonymous requests before CSRF checks them.
    server.before_request(_guard)
    server.before_request(_refuse_malformed_router_request)
    limiter = Limiter(get_remote_address, app=server, storage_uri=settings.rate_limit_storage)
    CSRFProtect(server)
    server.register_blueprint(bp)
    # A per-address limit on sign-in attempts (this app's limits live on this app's view).
    server.view_functions["auth.login"] = limiter.limit(settings.login_rate_limit, methods=["POST"])(login)
    server.after_request(_security_headers)
    compress_responses(server)
    server.extensions[EXTENSION] = Extension(settings=settings, db=db, limiter=limiter)


# What goes compressed: callback answers, the API, scripts and styles. Not HTML pages: they carry
# a form's CSRF token next to text a request can choose, the pairing BREACH needs.
COMPRESSED_TYPES = ["application/json", "text/javascript", "application/javascript", "text/css",
                    "image/svg+xml", "text/csv"]


def compress_responses(server: Flask) -> None:
    """Compress responses with brotli or gzip, as the browser accepts: a 65-district summary's
    120 KB of callback JSON travels as about 10 KB, and the map and chart scripts as a quarter of
    their size, which is what a phone on a weak connection waits for."""
    server.config.update(COMPRESS_MIMETYPES=COMPRESSED_TYPES)
    Compress(server)


def allow_dash_inline_scripts(server: Flask, script_hashes) -> None:
    """Allow exactly Dash's own inline scripts, by hash (`script_hashes()` lists them)."""
    server.config["DASHBOARD_INLINE_SCRIPT_HASHES"] = script_hashes
