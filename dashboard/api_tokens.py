"""Per-user tokens for the read-only API: admins issue and revoke them; the API checks them.

- A token is "pdk_" and 256 random bits (`secrets.token_urlsafe(32)`). It is shown once, when it
  is issued; the database keeps only its SHA-256 hash (looked up by that unique hash, as the
  sign-in sessions are) and its first characters (`prefix`) so that people can tell tokens apart.
- A token works while it is not revoked, not expired, and its user and their organisation are
  active. It carries its user's access, nothing more: the API only publishes national summaries.
- Only an administrator of an active member organisation may issue, revoke or list tokens; each
  issue and revoke is audited (never with the token itself).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from . import audit
from .access import Viewer
from .auth import token_hash
from .models import ApiToken, Organisation, User, utcnow
from .reference import MembershipStatus, Role, UserStatus

TOKEN_PREFIX = "pdk_"  # noqa: S105 - the visible start of every token, not a secret
PREFIX_LENGTH = 12  # "pdk_" and 8 random characters: enough to tell tokens apart, nothing to guess with
TOKEN_PATTERN = re.compile(r"^pdk_[A-Za-z0-9_-]{43}$")
NAME_MAX = 120
# How long a token lasts, in days (None: until revoked); what the admin page and the CLI offer.
EXPIRY_CHOICES: tuple[int | None, ...] = (30, 90, 365, None)
DEFAULT_EXPIRY_DAYS = 90
# How often a token's last-used time is written (every call would be a write per call).
LAST_USED_INTERVAL = timedelta(seconds=60)

NOT_ALLOWED = "Only administrators of an active member organisation can manage API tokens."


class ApiTokenError(ValueError):
    """A request to issue or revoke a token that cannot be done; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class TokenStatus:
    ACTIVE = "Active"
    REVOKED = "Revoked"
    EXPIRED = "Expired"
    USER_DISABLED = "Not working: the user is disabled"
    ORGANISATION_INACTIVE = "Not working: the organisation is not an active member"


@dataclass(frozen=True)
class TokenView:
    """One token as the admin page and the command line show it (never the token itself)."""

    id: int
    user_id: int
    user_name: str
    user_email: str
    user_role: str
    organisation: str
    name: str
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str
    status: str

    @property
    def active(self) -> bool:
        return self.status == TokenStatus.ACTIVE

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def label(self) -> str:
        """'"Monthly pull" (pdk_AbCdEfGh…) for Sam Sci'."""
        return f"\u201c{self.name}\u201d ({self.prefix}\u2026) for {self.user_name}"


@dataclass(frozen=True)
class TokenCheck:
    """What a presented token turned out to be: its viewer when it works, otherwise why not.

    `reason` is for the audit log only; every refusal gets the same answer from the API."""

    viewer: Viewer | None
    token_id: int | None = None
    user_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.viewer is not None


def may_manage(viewer: Viewer | None) -> bool:
    """Whether this viewer may issue, revoke and list API tokens."""
    return viewer is not None and viewer.role == Role.ADMIN and viewer.is_partner


def command_line_viewer() -> Viewer:
    """Who issues and revokes tokens from the command line (the operator of the server, who
    can change the database anyway); audited as "command line"."""
    return Viewer(user_id=0, organisation_id=0, role=Role.ADMIN, email="command line", name="Command line")


def _require_admin(viewer: Viewer | None) -> None:
    if not may_manage(viewer):
        raise PermissionError(NOT_ALLOWED)


def new_token_text() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def expiry_label(days: int | None) -> str:
    return "No expiry (until revoked)" if days is None else f"{days} days"


def _status(token: ApiToken, user: User, now: datetime) -> str:
    if token.revoked_at is not None:
        return TokenStatus.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenStatus.EXPIRED
    if user.status != UserStatus.ACTIVE:
        return TokenStatus.USER_DISABLED
    if user.organisation is None or user.organisation.membership_status != MembershipStatus.ACTIVE:
        return TokenStatus.ORGANISATION_INACTIVE
    return TokenStatus.ACTIVE


def _views(session: Session, *conditions, now: datetime) -> list[TokenView]:
    creator = aliased(User)
    revoker = aliased(User)
    rows = session.execute(
        select(ApiToken, User, creator.name, revoker.name)
        .join(User, ApiToken.user_id == User.id)
        .outerjoin(creator, ApiToken.created_by_id == creator.id)
        .outerjoin(revoker, ApiToken.revoked_by_id == revoker.id)
        .where(*conditions)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [
        TokenView(
            id=token.id,
            user_id=user.id,
            user_name=user.name,
            user_email=user.email,
            user_role=user.role,
            organisation=user.organisation.name if user.organisation else "",
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            created_by=created_by or ("Command line" if token.created_by_id is None else ""),
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            revoked_by=revoked_by or ("Command line" if token.revoked_at and token.revoked_by_id is None else ""),
            status=_status(token, user, now),
        )
        for token, user, created_by, revoked_by in rows
    ]


def list_tokens(session: Session, admin_viewer: Viewer | None, *, now: datetime | None = None) -> list[TokenView]:
    """Every token, newest first, with its user, organisation and status (admins only)."""
    _require_admin(admin_viewer)
    return _views(session, now=now or utcnow())


def get_token(session: Session, admin_viewer: Viewer | None, token_id: int,
              *, now: datetime | None = None) -> TokenView | None:
    """One token (admins only), or None when there is no such token."""
    _require_admin(admin_viewer)
    found = _views(session, ApiToken.id == token_id, now=now or utcnow())
    return found[0] if found else None


def user_choices(session: Session, admin_viewer: Viewer | None) -> list[tuple[int, str]]:
    """(user id, "Name (e-mail), Organisation") for every active user of an active member
    organisation, by name: the people a token can be issued to (admins only)."""
    _require_admin(admin_viewer)
    rows = session.execute(
        select(User.id, User.name, User.email, Organisation.name)
        .join(Organisation, User.organisation_id == Organisation.id)
        .where(User.status == UserStatus.ACTIVE, Organisation.membership_status == MembershipStatus.ACTIVE)
        .order_by(User.name, User.email)
    ).all()
    return [(user_id, f"{name} ({email}), {org}") for user_id, name, email, org in rows]


def _clean_name(name: str | None) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ApiTokenError("name", "Enter a name for the token, for example \u201cMonthly summary pull\u201d.")
    if len(text) > NAME_MAX:
        raise ApiTokenError("name", f"The token\u2019s name must be {NAME_MAX} characters or fewer.")
    return text


def _clean_expiry(expires_days) -> int | None:
    if expires_days in (None, "", "none"):
        return None
    try:
        days = int(expires_days)
    except (TypeError, ValueError):
        days = -1
    if days not in EXPIRY_CHOICES:
        allowed = ", ".join(str(d) for d in EXPIRY_CHOICES if d is not None)
        raise ApiTokenError("expiry", f"Choose how long the token lasts: {allowed} days, or no expiry.")
    return days


def issue(session: Session, admin_viewer: Viewer | None, user_id, name: str, expires_days: int | None,
          ip: str | None = None, *, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token to an active user of an active member organisation. Returns the stored row
    and the token text, which is shown once and kept nowhere: only its hash is stored."""
    _require_admin(admin_viewer)
    now = now or utcnow()
    try:
        user = session.get(User, int(user_id)) if str(user_id or "").strip() else None
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise ApiTokenError("user", "Choose the person the token is for.")
    viewer = Viewer.from_user(user)
    if not (viewer.active and viewer.organisation_active):
        raise ApiTokenError(
            "user", f"{user.name} cannot have a token: their account or organisation is not active."
        )
    clean_name = _clean_name(name)
    days = _clean_expiry(expires_days)
    text = new_token_text()
    token = ApiToken(
        user_id=user.id,
        name=clean_name,
        prefix=text[:PREFIX_LENGTH],
        token_hash=token_hash(text),
        created_at=now,
        created_by_id=admin_viewer.user_id or None,
        expires_at=None if days is None else now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session, "api-token-issued", user_id=admin_viewer.user_id or None, actor=admin_viewer.email,
        record_type="api_token", record_id=token.id, ip_address=ip,
        detail={
            "token_id": token.id, "prefix": token.prefix, "user_id": user.id, "name": clean_name,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, text


def revoke(session: Session, admin_viewer: Viewer | None, token_id, ip: str | None = None,
           *, now: datetime | None = None) -> TokenView:
    """Revoke a token at once; it stops working on its next call. Returns it as revoked."""
    _require_admin(admin_viewer)
    now = now or utcnow()
    try:
        token = session.get(ApiToken, int(token_id))
    except (TypeError, ValueError):
        token = None
    if token is None:
        raise ApiTokenError("token", "There is no such token. It may have been removed; reload the page.")
    if token.revoked_at is not None:
        raise ApiTokenError("token", f"The token \u201c{token.name}\u201d ({token.prefix}\u2026) was already revoked.")
    token.revoked_at = now
    token.revoked_by_id = admin_viewer.user_id or None
    session.flush()
    audit.record(
        session, "api-token-revoked", user_id=admin_viewer.user_id or None, actor=admin_viewer.email,
        record_type="api_token", record_id=token.id, ip_address=ip,
        detail={
            "token_id": token.id, "prefix": token.prefix, "user_id": token.user_id, "name": token.name,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return get_token(session, admin_viewer, token.id, now=now)


def check(session: Session, token_text: str | None, *, now: datetime | None = None) -> TokenCheck:
    """Look a presented token up by its hash (one indexed query) and say whether it works."""
    text = (token_text or "").strip()
    if not text:
        return TokenCheck(None, reason="missing")
    if not TOKEN_PATTERN.match(text):
        return TokenCheck(None, reason="malformed")  # no database work for junk
    now = now or utcnow()
    row = session.execute(
        select(ApiToken, User).join(User, ApiToken.user_id == User.id).where(ApiToken.token_hash == token_hash(text))
    ).first()
    if row is None:
        return TokenCheck(None, reason="unknown")
    token, user = row
    status = _status(token, user, now)
    if status != TokenStatus.ACTIVE:
        reason = {
            TokenStatus.REVOKED: "revoked",
            TokenStatus.EXPIRED: "expired",
            TokenStatus.USER_DISABLED: "user disabled",
            TokenStatus.ORGANISATION_INACTIVE: "organisation not active",
        }[status]
        return TokenCheck(None, token_id=token.id, user_id=user.id, reason=reason)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_INTERVAL:
        token.last_used_at = now
    return TokenCheck(Viewer.from_user(user), token_id=token.id, user_id=user.id)


def authenticate(session: Session, token_text: str | None, *, now: datetime | None = None) -> Viewer | None:
    """The viewer a working token stands for, or None (missing, unknown, revoked, expired, or its
    user or organisation no longer active)."""
    return check(session, token_text, now=now).viewer
