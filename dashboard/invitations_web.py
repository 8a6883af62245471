"""The activation page a new user reaches from their invitation link: /activate/<token>.

Public (the person has no password yet), so the route guard lets `activation.activate` through;
the link itself is the credential. GET shows who the account is for and a "choose a password"
form; POST (CSRF-protected, rate-limited per address like the sign-in form) sets the password,
activates the account, uses up the link and sends the person to the sign-in page. Every link
that does not work gets the same page, whatever the reason.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from limits import parse_many
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from . import invitations
from .passwords import MIN_LENGTH, PasswordPolicyError
from .web import demo_mode, extension

bp = Blueprint("activation", __name__, template_folder="templates")

ENDPOINTS = ("activation.activate",)  # the route guard's allow-list needs these
SIGN_IN_REASON = "activated"  # /login?reason=activated says "Your account is ready. Sign in."
TOO_MANY = "Too many attempts from your network. Wait a minute, then try again."


class ActivationForm(FlaskForm):
    password = PasswordField(
        "Choose a password",
        validators=[DataRequired("Enter the password you want to use."), Length(max=1024)],
    )


def _over_limit() -> bool:
    """Count this POST against the sign-in limit for the address it came from."""
    strategy = extension().limiter.limiter
    key = get_remote_address() or "unknown"
    return not all(strategy.hit(item, "activation", key) for item in parse_many(extension().settings.login_rate_limit))


def _page(form, invitee=None, errors=(), status=200, expired=False, blocked=""):
    return render_template(
        "activate.html", form=form, invitee=invitee, errors=list(errors), expired=expired, blocked=blocked,
        link_not_working=invitations.LINK_NOT_WORKING, min_length=MIN_LENGTH, demo=demo_mode(),
    ), status


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str):
    form = ActivationForm()
    if request.method == "POST" and _over_limit():
        return _page(form, status=429, blocked=TOO_MANY)
    db = extension().db
    with db.session() as s:
        invitee = invitations.check_link(s, token)
    if invitee is None:
        # 410 Gone: the same answer for unknown, used, expired and withdrawn links.
        return _page(form, status=410, expired=True)
    if request.method == "GET":
        return _page(form, invitee)
    if not form.validate_on_submit():
        errors = [("password", m) for m in form.password.errors]
        if form.csrf_token.errors:
            errors.append(("password", "The form had expired. Please try again."))
        return _page(form, invitee, errors, status=400)
    try:
        with db.session() as s:
            invitations.activate(s, token, form.password.data, ip_address=request.remote_addr)
    except PasswordPolicyError as error:
        return _page(form, invitee, [("password", str(error))], status=400)
    except invitations.LinkNotWorking:
        return _page(form, status=410, expired=True)
    return redirect(url_for("auth.login", reason=SIGN_IN_REASON))
