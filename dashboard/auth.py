"""Signing in and server-side sessions (DOMAIN.md security baseline), with no web framework in it.

- The same answer for unknown e-mail addresses and wrong passwords, and the same work (a dummy
  argon2 verification) so that timing does not tell them apart either.
- At most `lockout_threshold` failures per address in `lockout_window`, then a temporary lock
  that doubles with each further lock, up to `lockout_max`.
- Sessions live in the database; the browser holds only a random token. Logout, idle time,
  the absolute lifetime, disabling a user and changing a password all end them on the server.
- With a second factor (dashboard/two_factor.py) a right password is only the first step: the
  lockout counter is not reset and "sign-in" is not audited until the code has been given too
  (`complete_sign_in`), so knowing the password does not buy unlimited guesses at the code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit
from .config import Settings
from .models import LoginThrottle, User, UserSession, utcnow
from .passwords import check_policy, hash_password, needs_rehash, verify_password
from .reference import MembershipStatus, UserStatus

GENERIC_FAILURE = "The e-mail address or password is not right."
# How often a session's last-seen time is written (every request would be a write per callback).
TOUCH_INTERVAL = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


SECOND_FACTOR_VERIFY = "verify"  # enrolled: the code (or a recovery code) comes next
SECOND_FACTOR_SETUP = "setup"  # the role requires a second factor and there is none yet


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str = ""
    locked_for: timedelta | None = None
    # After a right password: which second-factor step must follow before a session starts.
    second_factor: str | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _throttle(session: Session, email: str) -> LoginThrottle:
    throttle = session.get(LoginThrottle, email)
    if throttle is None:
        throttle = LoginThrottle(email=email, failures=0, lock_count=0)
        session.add(throttle)
    return throttle


def _minutes(delta: timedelta) -> str:
    minutes = max(1, int((delta.total_seconds() + 59) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def locked_message(wait: timedelta) -> str:
    return f"Too many failed attempts for this account. Try again in {_minutes(wait)}."


def second_factor_step(settings: Settings, user: User) -> str | None:
    """Which second-factor step a user must pass after their password, or None."""
    if user.totp_enabled_at is not None:
        return SECOND_FACTOR_VERIFY
    if user.role in settings.second_factor_roles:
        return SECOND_FACTOR_SETUP
    return None


def can_sign_in(user: User | None) -> bool:
    """An activated, active account of an active member organisation."""
    return (
        user is not None
        and user.activated_at is not None  # an invitation still open: the link sets the password
        and user.status == UserStatus.ACTIVE
        and user.organisation.membership_status == MembershipStatus.ACTIVE
    )


def authenticate(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    *,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Check a sign-in attempt, updating the lockout counters and the audit log."""
    now = now or utcnow()
    email = normalise_email(email)[:254]
    throttle = _throttle(session, email)

    if throttle.locked_until and throttle.locked_until > now:
        verify_password(None, password)  # same work as a real check
        wait = throttle.locked_until - now
        audit.record(session, "sign-in refused (locked)", actor=email, ip_address=ip_address)
        return SignInResult(None, locked_message(wait), locked_for=wait)

    user = session.scalar(select(User).where(User.email == email))
    matches = verify_password(user.password_hash if user else None, password)
    if matches and can_sign_in(user):
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        step = second_factor_step(settings, user)
        if step is None:
            complete_sign_in(session, user, ip_address=ip_address, now=now)
            return SignInResult(user)
        # The failure count stands until the second factor is passed too (complete_sign_in).
        audit.record(session, "sign-in password accepted", user_id=user.id, actor=email, ip_address=ip_address,
                     detail={"next_step": step})
        return SignInResult(user, second_factor=step)

    return _count_failure(session, settings, throttle, user, email, ip_address, now, "sign-in failed",
                          GENERIC_FAILURE)


def _count_failure(
    session: Session,
    settings: Settings,
    throttle: LoginThrottle,
    user: User | None,
    email: str,
    ip_address: str | None,
    now: datetime,
    action: str,
    message: str,
) -> SignInResult:
    """Count a wrong password against the account (at sign-in, or when changing the password),
    locking it after `lockout_threshold` failures in `lockout_window`."""
    if throttle.window_started_at is None or now - throttle.window_started_at > settings.lockout_window:
        throttle.window_started_at = now
        throttle.failures = 0
    throttle.failures += 1
    audit.record(
        session,
        action,
        user_id=user.id if user else None,
        actor=email,
        ip_address=ip_address,
        detail={"known_account": user is not None, "failures_in_window": throttle.failures},
    )
    if throttle.failures >= settings.lockout_threshold:
        throttle.lock_count += 1
        lock = min(settings.lockout_base * (2 ** (throttle.lock_count - 1)), settings.lockout_max)
        throttle.locked_until = now + lock
        throttle.failures = 0
        throttle.window_started_at = None
        audit.record(
            session,
            "account locked",
            user_id=user.id if user else None,
            actor=email,
            ip_address=ip_address,
            detail={"minutes": int(lock.total_seconds() // 60), "lock_count": throttle.lock_count},
        )
        return SignInResult(None, locked_message(lock), locked_for=lock)
    return SignInResult(None, message)


def complete_sign_in(
    session: Session,
    user: User,
    *,
    second_factor: str | None = None,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> None:
    """Every check has passed: clear the failure count, note the time and audit "sign-in" (with
    the second factor used, "totp" or "recovery code"). The caller then starts the session."""
    now = now or utcnow()
    _reset(_throttle(session, normalise_email(user.email)))
    user.last_login_at = now
    detail = {"second_factor": second_factor} if second_factor else None
    audit.record(session, "sign-in", user_id=user.id, actor=user.email, ip_address=ip_address, detail=detail)


def refuse_if_locked(
    session: Session, user: User, action: str, *, ip_address: str | None = None, now: datetime | None = None
) -> SignInResult | None:
    """A refusal (audited as `action`) while the account is locked, else None."""
    now = now or utcnow()
    throttle = _throttle(session, normalise_email(user.email))
    if throttle.locked_until and throttle.locked_until > now:
        wait = throttle.locked_until - now
        audit.record(session, action, user_id=user.id, actor=user.email, ip_address=ip_address)
        return SignInResult(None, locked_message(wait), locked_for=wait)
    return None


def count_failure(
    session: Session,
    settings: Settings,
    user: User,
    action: str,
    message: str,
    *,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Count a wrong answer other than the password (a second-factor code) towards the same
    lockout as a failed sign-in; audited as `action`."""
    now = now or utcnow()
    email = normalise_email(user.email)
    return _count_failure(session, settings, _throttle(session, email), user, email, ip_address, now, action,
                          message)


def _reset(throttle: LoginThrottle) -> None:
    throttle.failures = 0
    throttle.window_started_at = None
    throttle.locked_until = None
    throttle.lock_count = 0


def start_session(
    session: Session,
    user: User,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Open a new server-side session and return its token (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300],
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class ResolvedSession:
    user: User | None
    ended_reason: str | None = None  # why a session that existed is no longer valid


def resolve_session(
    session: Session, settings: Settings, token: str, *, now: datetime | None = None, touch: bool = True
) -> ResolvedSession:
    """The user behind a session token, ending the session if it has timed out.

    `touch=False` peeks: the request does not count as activity (the idle warning's status
    check must not keep the session alive by asking how long it has left)."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None:
        return ResolvedSession(None)
    if row.ended_at is not None:
        return ResolvedSession(None, row.end_reason or "ended")
    reason = None
    if now - row.created_at > settings.absolute_timeout:
        reason = "expired"
    elif now - row.last_seen_at > settings.idle_timeout:
        reason = "idle"
    user = session.get(User, row.user_id)
    if reason is None and (
        user is None
        or user.status != UserStatus.ACTIVE
        or user.organisation.membership_status != MembershipStatus.ACTIVE
    ):
        reason = "disabled"
    if reason:
        row.ended_at = now
        row.end_reason = reason
        audit.record(
            session,
            "session ended",
            user_id=row.user_id,
            actor=user.email if user else "",
            detail={"reason": reason},
        )
        return ResolvedSession(None, reason)
    if touch and now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return ResolvedSession(user)


@dataclass(frozen=True)
class TimeLeft:
    """How long an open session has left, in whole seconds (rounded down, never below 0)."""

    idle_seconds: int  # until the idle timeout, unless there is activity first
    absolute_seconds: int  # until the absolute lifetime ends, whatever happens


def session_time_left(
    session: Session,
    settings: Settings,
    token: str,
    *,
    keep_alive: bool = False,
    now: datetime | None = None,
) -> TimeLeft | None:
    """How long the open session behind `token` has left; None when there is no open session.

    `keep_alive=True` is the user's "stay signed in": it marks the session as active now,
    whatever TOUCH_INTERVAL says. It never revives a session that has already timed out:
    call `resolve_session` first (the web layer does, on every request)."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    idle_left = settings.idle_timeout - (now - row.last_seen_at)
    absolute_left = settings.absolute_timeout - (now - row.created_at)
    if idle_left.total_seconds() < 0 or absolute_left.total_seconds() < 0:
        return None
    if keep_alive:
        row.last_seen_at = now
        idle_left = settings.idle_timeout
    return TimeLeft(
        idle_seconds=max(0, int(idle_left.total_seconds())),
        absolute_seconds=max(0, int(absolute_left.total_seconds())),
    )


def end_session(session: Session, token: str, reason: str = "signed out") -> int | None:
    """End one session; returns its user's id, or None when there was no open session."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at = utcnow()
    row.end_reason = reason
    return row.user_id


def end_all_sessions(session: Session, user_id: int, reason: str, *, except_token: str | None = None) -> int:
    """End every open session of a user (but the one behind `except_token`, if given); returns
    how many ended."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if except_token:
        statement = statement.where(UserSession.token_hash != token_hash(except_token))
    return session.execute(statement).rowcount or 0


WRONG_CURRENT_PASSWORD = "The current password is wrong."  # noqa: S105 - a message, not a password


class CurrentPasswordError(ValueError):
    """The current password given to change it was wrong, or the account is locked."""

    def __init__(self, message: str, locked_for: timedelta | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.locked_for = locked_for


def set_password(session: Session, user: User, new_password: str) -> int:
    """Set a password that meets the policy, and end every session the user had; returns how
    many sessions ended."""
    organisation = user.organisation.name if user.organisation else ""
    check_policy(new_password, email=user.email, name=user.name, organisation=organisation)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    return end_all_sessions(session, user.id, "password changed")


def check_current_password(
    session: Session,
    settings: Settings,
    user: User,
    password: str,
    *,
    ip_address: str | None = None,
    now: datetime | None = None,
    purpose: str = "password change",
) -> SignInResult:
    """A signed-in user proving their password again (to change it, or for another `purpose`,
    which names the audited failures). A wrong one counts towards the same lockout as a failed
    sign-in, and a locked account is refused as at sign-in. Nothing is reset on success: the
    change itself does that."""
    now = now or utcnow()
    throttle = _throttle(session, normalise_email(user.email))
    if throttle.locked_until and throttle.locked_until > now:
        verify_password(None, password)  # same work as a real check
        wait = throttle.locked_until - now
        audit.record(session, f"{purpose} refused (locked)", user_id=user.id, actor=user.email,
                     ip_address=ip_address)
        return SignInResult(None, locked_message(wait), locked_for=wait)
    if verify_password(user.password_hash, password):
        return SignInResult(user)
    return _count_failure(session, settings, throttle, user, normalise_email(user.email), ip_address, now,
                          f"{purpose} failed", WRONG_CURRENT_PASSWORD)


def change_password(
    session: Session,
    user: User,
    current: str,
    new_password: str,
    *,
    settings: Settings | None = None,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> int:
    """A user's own change: the current password is required. Ends every session of the user,
    the one making the change too (the caller starts a new one for it); returns how many ended.

    Raises CurrentPasswordError for a wrong current password (with `settings`, counted towards
    the lockout: catch it inside the database session so the count is kept) and
    PasswordPolicyError for a new password the policy refuses."""
    if settings is not None:
        checked = check_current_password(session, settings, user, current, ip_address=ip_address, now=now)
        if not checked.ok:
            raise CurrentPasswordError(checked.message, checked.locked_for)
    elif not verify_password(user.password_hash, current):
        raise CurrentPasswordError(WRONG_CURRENT_PASSWORD)
    ended = set_password(session, user, new_password)
    throttle = session.get(LoginThrottle, normalise_email(user.email))
    if throttle is not None:
        _reset(throttle)
    audit.record(session, "password changed", user_id=user.id, actor=user.email, ip_address=ip_address,
                 detail={"sessions_ended": ended})
    return ended


def disable_user(session: Session, user: User, *, by: User | None = None) -> None:
    """Disable an account and sign it out everywhere at once."""
    user.status = UserStatus.DISABLED
    ended = end_all_sessions(session, user.id, "user disabled")
    audit.record(
        session,
        "user disabled",
        user_id=by.id if by else None,
        actor=by.email if by else "command line",
        record_type="user",
        record_id=user.id,
        detail={"sessions_ended": ended},
    )
