"""Changing your own password (DOMAIN.md security baseline), with no web framework in it.

The form's three fields are checked together so that every problem is named at once. A wrong
current password counts towards the same lockout as a failed sign-in. A change ends every
session of the user, the one making it too, and opens a new session for the browser that made
it: the caller puts the new token in that browser's session, so the person stays signed in there
and is signed out everywhere else. Passwords are never kept, logged or sent back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from . import auth
from .access import Viewer
from .config import Settings
from .models import User
from .passwords import MAX_LENGTH, MIN_LENGTH, PasswordPolicyError, check_policy
from .reference import MembershipStatus, UserStatus

FIELDS = ("current", "new", "confirm")
DONE = "Your password has been changed. You have been signed out everywhere else."
RULES = (
    f"Use at least {MIN_LENGTH} characters (up to {MAX_LENGTH}). Several unrelated words make a "
    "password that is long and easy to remember; there are no rules about capitals, numbers or "
    "symbols. It must not be a common password, and must not be built on the name of the "
    "partnership or your organisation, or on your own name or e-mail address. You can paste it, "
    "or let a password manager make one."
)
# The longest current password hashed to check it (argon2's work grows with the input; no
# password longer than the policy's maximum was ever set).
LONGEST_INPUT = 1024


@dataclass(frozen=True)
class PasswordChange:
    """What happened: each field's problem, or the new session's token and who it belongs to."""

    errors: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    viewer: Viewer | None = None
    other_sessions_ended: int = 0
    locked_for: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def form_errors(user: User, current: str, new: str, confirm: str) -> dict[str, str]:
    """The problems that can be seen without checking the current password."""
    errors: dict[str, str] = {}
    if not current:
        errors["current"] = "Enter your current password."
    if not new:
        errors["new"] = "Enter a new password."
    else:
        try:
            check_policy(new, email=user.email, name=user.name,
                         organisation=user.organisation.name if user.organisation else "")
        except PasswordPolicyError as error:
            errors["new"] = str(error)
        else:
            if current and new == current:
                errors["new"] = "Your new password must be different from your current password."
    if new and not confirm:
        errors["confirm"] = "Enter your new password again, to confirm it."
    elif new and confirm != new:
        errors["confirm"] = "The two new passwords do not match. Enter your new password again."
    return errors


def change_own_password(
    session: Session,
    settings: Settings,
    user_id: int,
    current,
    new,
    confirm,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> PasswordChange:
    """Change the signed-in user's password after checking the current one.

    On success every session of the user has ended (audited "password changed") and a new one
    is open: `token` is for the browser that made the change. Otherwise nothing has changed,
    and a wrong current password has been counted (commit the session either way)."""
    current, new, confirm = _text(current), _text(new), _text(confirm)
    user = session.get(User, user_id)
    if (
        user is None
        or user.status != UserStatus.ACTIVE
        or user.organisation.membership_status != MembershipStatus.ACTIVE
    ):
        return PasswordChange({"current": "Your account is not active, so its password cannot be changed."})
    errors = form_errors(user, current, new, confirm)
    if errors:
        if current and "current" not in errors:
            # A guess at the current password counts even when the rest of the form is wrong.
            checked = auth.check_current_password(
                session, settings, user, current[:LONGEST_INPUT], ip_address=ip_address, now=now
            )
            if not checked.ok:
                errors["current"] = checked.message
                return PasswordChange(errors, locked_for=checked.locked_for)
        return PasswordChange(errors)
    try:
        ended = auth.change_password(
            session, user, current[:LONGEST_INPUT], new, settings=settings, ip_address=ip_address, now=now
        )
    except auth.CurrentPasswordError as error:
        return PasswordChange({"current": error.message}, locked_for=error.locked_for)
    token = auth.start_session(session, user, ip_address=ip_address, user_agent=user_agent, now=now)
    return PasswordChange(token=token, viewer=Viewer.from_user(user), other_sessions_ended=max(0, ended - 1))
