"""Signing in and server-side sessions (DOMAIN.md security baseline), with no web framework in it.

- The same answer for unknown e-mail addresses and wrong passwords, and the same work (a dummy
  argon2 verification) so that timing does not tell them apart either.
- At most `lockout_threshold` failures per address in `lockout_window`, then a temporary lock
  that doubles with each further lock, up to `lockout_max`.
- Sessions live in the database; the browser holds only a random token. Logout, idle time,
  the absolute lifetime, disabling a user and changing a password all end them on the server.
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


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str = ""
    locked_for: timedelta | None = None

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
        return SignInResult(
            None,
            f"Too many failed attempts for this account. Try again in {_minutes(wait)}.",
            locked_for=wait,
        )

    user = session.scalar(select(User).where(User.email == email))
    matches = verify_password(user.password_hash if user else None, password)
    allowed = (
        user is not None
        and matches
        and user.status == UserStatus.ACTIVE
        and user.organisation.membership_status == MembershipStatus.ACTIVE
    )
    if allowed:
        throttle.failures = 0
        throttle.window_started_at = None
        throttle.locked_until = None
        throttle.lock_count = 0
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record(session, "sign-in", user_id=user.id, actor=email, ip_address=ip_address)
        return SignInResult(user)

    if throttle.window_started_at is None or now - throttle.window_started_at > settings.lockout_window:
        throttle.window_started_at = now
        throttle.failures = 0
    throttle.failures += 1
    audit.record(
        session,
        "sign-in failed",
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
        return SignInResult(
            None,
            f"Too many failed attempts for this account. Try again in {_minutes(lock)}.",
            locked_for=lock,
        )
    return SignInResult(None, GENERIC_FAILURE)


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
    session: Session, settings: Settings, token: str, *, now: datetime | None = None
) -> ResolvedSession:
    """The user behind a session token, ending the session if it has timed out."""
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
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return ResolvedSession(user)


def end_session(session: Session, token: str, reason: str = "signed out") -> int | None:
    """End one session; returns its user's id, or None when there was no open session."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at = utcnow()
    row.end_reason = reason
    return row.user_id


def end_all_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every open session of a user; returns how many were open."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount or 0


def set_password(session: Session, user: User, new_password: str) -> None:
    """Set a password that meets the policy, and end every session the user had."""
    check_policy(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(session, user.id, "password changed")


def change_password(session: Session, user: User, current: str, new_password: str) -> None:
    """A user's own change: the current password is required."""
    if not verify_password(user.password_hash, current):
        raise ValueError("Your current password is not right.")
    set_password(session, user, new_password)
    audit.record(session, "password changed", user_id=user.id, actor=user.email)


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
