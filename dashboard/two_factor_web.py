"""The second-factor pages: the code at sign-in, enrolment (at sign-in when the role requires it,
or by choice from the account page), recovery codes and turning it off.

Between a right password and the second factor the browser holds only a signed "pending" note
in its Flask session (web.PENDING_KEY); no server-side session exists, so nothing but these
pages can be reached (web._guard). The note lasts `two_factor.PENDING_LIFETIME`.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import or_, update

from . import auth, two_factor
from .access import Viewer
from .models import User, utcnow
from .reference import ROLE_LABELS, Role
from .web import (
    PENDING_KEY,
    LoginForm,
    demo_mode,
    extension,
    safe_next,
    start_signed_in_session,
)

bp = Blueprint("two_factor", __name__, template_folder="templates")

# The POST routes, limited per address like the sign-in route (one budget shared between them).
LIMITED_ENDPOINTS = ("two_factor.verify", "two_factor.setup", "two_factor.finish", "two_factor.account_setup",
                     "two_factor.new_codes", "two_factor.turn_off")
ACCOUNT_PAGE = "/account/two-factor"
TITLE = "Two-step verification"


def _page(template: str, *, title: str = TITLE, errors=(), notice: str = "", status: int = 200, **context):
    """Render a second-factor page; `errors` is [(field id, message)], shown in the summary and
    beside each field."""
    errors = list(errors)
    return (
        render_template(template, title=title, errors=errors, field_errors=dict(errors), notice=notice,
                        demo=demo_mode(), signed_in=current_user.is_authenticated, **context),
        status,
    )


def _ip() -> str | None:
    return request.remote_addr


# --- the half-finished sign-in ----------------------------------------------------------------


def _pending() -> dict | None:
    pending = session.get(PENDING_KEY)
    return pending if isinstance(pending, dict) and isinstance(pending.get("user_id"), int) else None


def _expired(since: float | None, now: datetime) -> bool:
    if not isinstance(since, int | float):
        return True
    return now.timestamp() - since > two_factor.PENDING_LIFETIME.total_seconds()


def _restart(reason: str | None = None):
    """Back to the sign-in page, the half-finished sign-in forgotten."""
    session.pop(PENDING_KEY, None)
    return redirect(url_for("auth.login", **({"reason": reason} if reason else {})))


def _pending_or_restart(step: str):
    """The pending note for this step, or a response sending the browser back to sign in."""
    if current_user.is_authenticated:
        return None, redirect("/")
    pending = _pending()
    if pending is None:
        return None, _restart()
    if _expired(pending.get("at"), utcnow()):
        return None, _restart("two-factor-expired")
    if pending.get("step") != step:
        return None, redirect(url_for("two_factor.verify" if pending.get("step") == auth.SECOND_FACTOR_VERIFY
                                      else "two_factor.setup"))
    return pending, None


def _signed_in(s, user: User, second_factor: str) -> tuple[str, Viewer]:
    """Finish the sign-in: audited, the failure count cleared, a new server-side session."""
    auth.complete_sign_in(s, user, second_factor=second_factor, ip_address=_ip())
    token = auth.start_session(s, user, ip_address=_ip(), user_agent=request.headers.get("User-Agent"))
    return token, Viewer.from_user(user)


def _locked_out(message: str):
    """The account locked mid-way: the half-finished sign-in ends; the sign-in page says why."""
    session.pop(PENDING_KEY, None)
    return render_template("login.html", form=LoginForm(), errors=[("email", message)], notice="",
                           next_url="/", demo=demo_mode()), 429


@bp.route("/login/verify", methods=["GET", "POST"])
def verify():
    """The code (or a recovery code) after a right password, for an enrolled account."""
    pending, elsewhere = _pending_or_restart(auth.SECOND_FACTOR_VERIFY)
    if elsewhere:
        return elsewhere
    method = "recovery" if request.values.get("method") == "recovery" else "totp"
    title = "Enter a recovery code" if method == "recovery" else "Enter your code"
    if request.method == "GET":
        return _page("two_factor_verify.html", title=title, method=method)
    ext = extension()
    token = None
    with ext.db.session() as s:
        user = s.get(User, pending["user_id"])
        if not auth.can_sign_in(user) or not two_factor.is_enrolled(user):
            return _restart()
        if method == "recovery":
            checked = two_factor.use_recovery_code(s, ext.settings, user, request.form.get("recovery_code"),
                                                   ip_address=_ip())
        else:
            checked = two_factor.verify_code(s, ext.settings, user, request.form.get("code"), ip_address=_ip())
        if checked.ok:
            token, viewer = _signed_in(s, user, "recovery code" if method == "recovery" else "totp")
    if token:
        next_url = safe_next(pending.get("next"))
        start_signed_in_session(token, viewer)
        if method == "recovery":
            # A recovery code usually means a lost phone: show what is left and how to make more.
            return redirect(url_for("two_factor.account", recovery_used=1))
        return redirect(next_url)
    if checked.locked_for:
        return _locked_out(checked.message)
    return _page("two_factor_verify.html", title=title, method=method, errors=[(checked.field, checked.message)])


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
def setup():
    """Setting up the second factor at sign-in, for a role that requires it."""
    pending = _pending()
    if pending and pending.get("step") == "codes" and not current_user.is_authenticated:
        if request.method == "GET":  # the codes were shown once; the page offers to carry on
            return _page("two_factor_codes.html", title="Your recovery codes", codes=None,
                         finish_url=url_for("two_factor.finish"))
        return redirect(url_for("two_factor.setup"))
    pending, elsewhere = _pending_or_restart(auth.SECOND_FACTOR_SETUP)
    if elsewhere:
        return elsewhere
    ext = extension()
    checked = None
    with ext.db.session() as s:
        user = s.get(User, pending["user_id"])
        if not auth.can_sign_in(user) or two_factor.is_enrolled(user):
            return _restart()
        if request.method == "POST":
            checked = two_factor.confirm_enrolment(s, ext.settings, user, request.form.get("code"),
                                                   ip_address=_ip())
        enrolment = None if checked and checked.ok else two_factor.begin_enrolment(s, ext.settings, user)
        required = two_factor.is_required(ext.settings, user)
    if checked and checked.ok:
        session[PENDING_KEY] = {**pending, "step": "codes", "confirmed_at": utcnow().timestamp()}
        return _page("two_factor_codes.html", title="Save your recovery codes", codes=checked.recovery_codes,
                     finish_url=url_for("two_factor.finish"))
    if checked and checked.locked_for:
        return _locked_out(checked.message)
    errors = [(checked.field, checked.message)] if checked else []
    return _page("two_factor_setup.html", title="Set up two-step verification", errors=errors, enrolment=enrolment,
                 required=required, action=url_for("two_factor.setup"), cancel_url=url_for("auth.login"),
                 cancel_text="Cancel and go back to sign in")


@bp.route("/login/two-factor/finish", methods=["POST"])
def finish():
    """"I have saved these codes": the sign-in that began with the password is complete."""
    if current_user.is_authenticated:
        return redirect("/")
    pending = _pending()
    if pending is None or pending.get("step") != "codes":
        return _restart()
    confirmed_at = pending.get("confirmed_at")
    if _expired(confirmed_at, utcnow()):
        return _restart("two-factor-expired")
    ext = extension()
    token = None
    with ext.db.session() as s:
        user = s.get(User, pending["user_id"])
        if not auth.can_sign_in(user) or not two_factor.is_enrolled(user):
            return _restart()
        # This note finishes one sign-in only: a copy of the cookie replayed later finds the
        # sign-in time already past the confirmation and is refused.
        confirmed = datetime.fromtimestamp(confirmed_at, tz=utcnow().tzinfo)
        first = s.execute(
            update(User).where(User.id == user.id, or_(User.last_login_at.is_(None), User.last_login_at < confirmed))
            .values(last_login_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount == 1
        if first:
            token, viewer = _signed_in(s, user, "totp")
    if not token:
        return _restart()
    next_url = safe_next(pending.get("next"))
    start_signed_in_session(token, viewer)
    return redirect(next_url)


# --- signed in: the account page ----------------------------------------------------------------


def _account_user(s) -> User:
    return s.get(User, current_user.viewer.user_id)


def _role_label(user: User) -> str:
    return ROLE_LABELS.get(Role(user.role), user.role)


NOTICES = {
    "enrolled": "Two-step verification is on. From now on, signing in asks for a code from your app.",
    "off": "Two-step verification is off. Your other sessions have ended.",
}


def _account_page(s, user: User, *, errors=(), notice: str = "", status: int = 200):
    ext = extension()
    return _page("two_factor_account.html", errors=errors, notice=notice, status=status,
                 state=two_factor.status(s, ext.settings, user), role_label=_role_label(user))


@bp.route(ACCOUNT_PAGE, methods=["GET"])
def account():
    """The signed-in user's second factor: status, set up, new recovery codes, turn off."""
    with extension().db.session() as s:
        user = _account_user(s)
        notice = NOTICES.get(request.args.get("done", ""), "")
        if request.args.get("recovery_used") and two_factor.is_enrolled(user):
            left = two_factor.recovery_codes_left(s, user.id)
            notice = (f"You signed in with a recovery code, which cannot be used again. You have {left} "
                      f"left. If you have lost your phone, ask your administrator to reset your two-step "
                      f"verification; if you have it, make new codes below.")
        return _account_page(s, user, notice=notice)


@bp.route(ACCOUNT_PAGE + "/setup", methods=["GET", "POST"])
def account_setup():
    """Setting up the second factor from the account page (or because the role now requires it)."""
    ext = extension()
    checked = None
    with ext.db.session() as s:
        user = _account_user(s)
        if two_factor.is_enrolled(user):
            return redirect(ACCOUNT_PAGE)
        if request.method == "POST":
            checked = two_factor.confirm_enrolment(s, ext.settings, user, request.form.get("code"),
                                                   ip_address=_ip())
        enrolment = None if checked and checked.ok else two_factor.begin_enrolment(s, ext.settings, user)
        required = two_factor.is_required(ext.settings, user)
    if checked and checked.ok:
        return _page("two_factor_codes.html", title="Save your recovery codes", codes=checked.recovery_codes,
                     continue_url=url_for("two_factor.account", done="enrolled"))
    errors = [(checked.field, checked.message)] if checked else []
    return _page("two_factor_setup.html", title="Set up two-step verification", errors=errors, enrolment=enrolment,
                 required=required, action=url_for("two_factor.account_setup"),
                 cancel_url=None if required else ACCOUNT_PAGE, cancel_text="Cancel",
                 status=429 if checked and checked.locked_for else 200)


@bp.route(ACCOUNT_PAGE + "/recovery-codes", methods=["POST"])
def new_codes():
    """A new set of recovery codes, for a current code from the app."""
    ext = extension()
    with ext.db.session() as s:
        user = _account_user(s)
        if not two_factor.is_enrolled(user):
            return redirect(ACCOUNT_PAGE)
        checked = two_factor.replace_recovery_codes(s, ext.settings, user, request.form.get("code"),
                                                    ip_address=_ip())
        if not checked.ok:
            return _account_page(s, user, errors=[("codes-code", checked.message)],
                                 status=429 if checked.locked_for else 200)
    return _page("two_factor_codes.html", title="Save your new recovery codes", codes=checked.recovery_codes,
                 replaced=True, continue_url=ACCOUNT_PAGE)


@bp.route(ACCOUNT_PAGE + "/turn-off", methods=["POST"])
def turn_off():
    """Turning the second factor off, where the role allows it: the password and a code."""
    ext = extension()
    with ext.db.session() as s:
        user = _account_user(s)
        result = two_factor.turn_off(s, ext.settings, user, request.form.get("password"), request.form.get("code"),
                                     keep_token=current_user.token, ip_address=_ip())
        if not result.ok:
            errors = [("off-" + name, message) for name, message in result.errors.items()]
            return _account_page(s, user, errors=errors, status=429 if result.locked_for else 200)
    return redirect(url_for("two_factor.account", done="off"))


def too_many_requests():
    """The per-address limit on these pages was reached."""
    return _page("two_factor_base.html", title=TITLE, status=429, errors=[
        ("main", "Too many attempts from your network. Wait a minute, then try again.")])


@bp.record
def _limit_posts(state) -> None:
    """Limit the POSTs per address like the sign-in route (runs when the app registers this
    blueprint, after the routes above are in place)."""
    app = state.app
    ext = extension(app)
    shared = ext.limiter.shared_limit(ext.settings.login_rate_limit, scope="second-factor", methods=["POST"])
    for endpoint in LIMITED_ENDPOINTS:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])
