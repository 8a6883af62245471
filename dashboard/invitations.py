"""Inviting a new user: a one-time activation link with which they choose their password.

- Inviting makes the account at once (so its role and organisation are set by the admin) with
  `activated_at` None and a random password nobody knows: it cannot sign in until the link is used.
- The link carries 256 random bits (`secrets.token_urlsafe(32)`); only its SHA-256 hash is kept.
  It is shown once to the admin (and e-mailed to the person when SMTP is configured), works once,
  until `settings.invitation_days` have passed, and stops working when a new link is sent or the
  invitation is cancelled.
- Every refusal of a link (unknown, used, expired, revoked, account disabled) looks the same.
- Every step is audited, never with the link itself.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import func, null, select, update
from sqlalchemy.orm import Session

from . import audit
from .access import Viewer
from .admin import NAME_MAX, AdminError, as_id, clean_text, one_of, require_admin
from .auth import normalise_email, token_hash
from .config import Settings
from .mail import APP_NAME, Mailer, SmtpError
from .models import Organisation, User, UserInvitation, utcnow
from .passwords import check_policy, hash_password
from .reference import ROLE_LABELS, MembershipStatus, Role, UserStatus

ACTIVATE_PATH = "/activate/"
LINK_NOT_WORKING = "This link has expired or has already been used. Ask your administrator for a new one."
EMAIL_MAX = 254
# Loose on purpose: an address with one @, something before it and a dotted domain after it.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvitationError(AdminError):
    """An invitation that cannot be made or changed; `field` names what is wrong."""


class LinkNotWorking(Exception):
    """The activation link is unknown, used, expired, revoked, or its account cannot be activated."""

    def __init__(self) -> None:
        super().__init__(LINK_NOT_WORKING)


@dataclass(frozen=True)
class SentInvitation:
    """A new invitation as the admin sees it once: the link is kept nowhere else."""

    user_id: int
    name: str
    email: str
    organisation: str
    role: str
    expires_at: datetime
    link: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class Invitee:
    """Who an activation link is for, as the activation page shows them."""

    user_id: int
    name: str
    email: str
    organisation: str
    expires_at: datetime


def link_for(base_url: str, token: str) -> str:
    """The full activation link, on the public address when there is one."""
    return f"{base_url.rstrip('/')}{ACTIVATE_PATH}{token}"


def base_url(settings: Settings, request_host_url: str | None) -> str:
    """settings.public_url if set, else the address the admin's request came to."""
    return (settings.public_url or request_host_url or "").rstrip("/")


def _new_link(session: Session, user: User, viewer: Viewer, days: int, now: datetime) -> tuple[UserInvitation, str]:
    """Revoke any link still open for the user and make a new one; returns it and its token."""
    session.execute(
        update(UserInvitation)
        .where(UserInvitation.user_id == user.id, UserInvitation.used_at.is_(None),
               UserInvitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = UserInvitation(user_id=user.id, token_hash=token_hash(token), created_at=now,
                                created_by_id=viewer.user_id or None, expires_at=now + timedelta(days=days))
    session.add(invitation)
    session.flush()
    return invitation, token


def _clean_email(session: Session, email) -> str:
    address = normalise_email(str(email or ""))
    if not address:
        raise InvitationError("email", "Enter the person\u2019s e-mail address.")
    if len(address) > EMAIL_MAX or not EMAIL_PATTERN.match(address):
        raise InvitationError("email", "Enter an e-mail address in the right form, like name@example.org.")
    existing = session.scalar(select(User.name).where(func.lower(User.email) == address))
    if existing is not None:
        raise InvitationError("email", f"There is already an account with the e-mail address {address} "
                                       f"({existing}). Find them in the list of users.")
    return address


def invite(session: Session, viewer: Viewer | None, settings: Settings, name, email, organisation_id, role, *,
           base: str, ip_address: str | None = None, now: datetime | None = None) -> SentInvitation:
    """Make the account (not yet activated) and its first activation link. Raises
    InvitationError naming the first wrong field; `errors` on it holds every wrong field."""
    require_admin(viewer)
    now = now or utcnow()
    errors: dict[str, str] = {}
    clean_name = clean_text(name)
    if not clean_name:
        errors["name"] = "Enter the person\u2019s full name."
    elif len(clean_name) > NAME_MAX:
        errors["name"] = f"The name must be {NAME_MAX} characters or fewer."
    address = ""
    try:
        address = _clean_email(session, email)
    except InvitationError as error:
        errors["email"] = error.message
    org_id = as_id(organisation_id)
    org = session.get(Organisation, org_id) if org_id else None
    if org is None or org.membership_status != MembershipStatus.ACTIVE:
        errors["organisation"] = "Choose the person\u2019s organisation (an active member organisation)."
    if not one_of(role, Role):
        errors["role"] = "Choose the person\u2019s role."
    if errors:
        field, message = next(iter(errors.items()))
        error = InvitationError(field, message)
        error.errors = errors
        raise error
    # activated_at: SQL NULL, said explicitly (a plain None would let the column's default fill it in).
    user = User(email=address, name=clean_name, organisation_id=org.id, role=role, status=UserStatus.ACTIVE,
                password_hash=hash_password(secrets.token_urlsafe(32)), created_at=now, activated_at=null())
    session.add(user)
    session.flush()
    invitation, token = _new_link(session, user, viewer, settings.invitation_days, now)
    audit.record(session, "invitation sent", user_id=viewer.user_id or None, actor=viewer.email or "command line",
                 record_type="user", record_id=user.id, ip_address=ip_address,
                 detail={"invitation_id": invitation.id, "email": address, "role": role, "organisation_id": org.id,
                         "expires_at": invitation.expires_at.isoformat(), "new_account": True})
    return SentInvitation(user.id, user.name, user.email, org.name, role, invitation.expires_at,
                          link_for(base, token))


def _invited_user(session: Session, user_id) -> User:
    found = as_id(user_id)
    user = session.get(User, found) if found else None
    if user is None:
        raise InvitationError("record", "There is no such user. They may have been removed; reload the page.")
    if user.activated_at is not None:
        raise InvitationError("record", f"{user.name} has already activated their account: there is no "
                                        "invitation to change.")
    return user


def resend(session: Session, viewer: Viewer | None, settings: Settings, user_id, *, base: str,
           ip_address: str | None = None, now: datetime | None = None) -> SentInvitation:
    """A new link for someone who has not activated their account; the old link stops working."""
    require_admin(viewer)
    now = now or utcnow()
    user = _invited_user(session, user_id)
    if user.status != UserStatus.ACTIVE:
        raise InvitationError("record", f"{user.name}\u2019s account is disabled. Enable it before sending a new link.")
    if user.organisation.membership_status != MembershipStatus.ACTIVE:
        raise InvitationError("record", f"{user.organisation.name} is not an active member organisation, so "
                                        f"{user.name} could not sign in. Move them to an active organisation first.")
    invitation, token = _new_link(session, user, viewer, settings.invitation_days, now)
    audit.record(session, "invitation sent", user_id=viewer.user_id or None, actor=viewer.email or "command line",
                 record_type="user", record_id=user.id, ip_address=ip_address,
                 detail={"invitation_id": invitation.id, "email": user.email, "role": user.role,
                         "organisation_id": user.organisation_id, "expires_at": invitation.expires_at.isoformat(),
                         "new_account": False})
    return SentInvitation(user.id, user.name, user.email, user.organisation.name, user.role, invitation.expires_at,
                          link_for(base, token))


def cancel(session: Session, viewer: Viewer | None, user_id, *, ip_address: str | None = None,
           now: datetime | None = None) -> int:
    """Cancel an invitation: its link stops working and the account, never activated, is disabled
    (it stays, so that the audit log keeps its name). Returns how many links were withdrawn."""
    require_admin(viewer)
    now = now or utcnow()
    user = _invited_user(session, user_id)
    if user.status != UserStatus.ACTIVE:
        raise InvitationError("record", f"{user.name}\u2019s invitation was already cancelled.")
    withdrawn = session.execute(
        update(UserInvitation)
        .where(UserInvitation.user_id == user.id, UserInvitation.used_at.is_(None),
               UserInvitation.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount or 0
    user.status = UserStatus.DISABLED
    audit.record(session, "invitation cancelled", user_id=viewer.user_id or None,
                 actor=viewer.email or "command line", record_type="user", record_id=user.id,
                 ip_address=ip_address, detail={"links_withdrawn": withdrawn})
    return withdrawn


# --- the link ------------------------------------------------------------------------------------


def _working(session: Session, token: str | None, now: datetime) -> tuple[UserInvitation, User] | None:
    text = (token or "").strip()
    if not TOKEN_PATTERN.match(text):
        return None  # no database work for junk
    row = session.execute(
        select(UserInvitation, User).join(User, UserInvitation.user_id == User.id)
        .where(UserInvitation.token_hash == token_hash(text))
    ).first()
    if row is None:
        return None
    invitation, user = row
    if (invitation.used_at is not None or invitation.revoked_at is not None or invitation.expires_at <= now
            or user.activated_at is not None or user.status != UserStatus.ACTIVE
            or user.organisation.membership_status != MembershipStatus.ACTIVE):
        return None
    return invitation, user


def check_link(session: Session, token: str | None, *, now: datetime | None = None) -> Invitee | None:
    """Who a working link is for, or None (every kind of refusal alike)."""
    found = _working(session, token, now or utcnow())
    if found is None:
        return None
    invitation, user = found
    return Invitee(user.id, user.name, user.email, user.organisation.name, invitation.expires_at)


def activate(session: Session, token: str | None, password: str, *, ip_address: str | None = None,
             now: datetime | None = None) -> Invitee:
    """Set the person's password from their link and activate the account; the link is then used.

    Raises LinkNotWorking (for every kind of bad link) or passwords.PasswordPolicyError (the link
    still works: the person can try another password)."""
    now = now or utcnow()
    found = _working(session, token, now)
    if found is None:
        raise LinkNotWorking()
    invitation, user = found
    check_policy(password or "", email=user.email, name=user.name, organisation=user.organisation.name)
    # Single use even when two requests race: only one of them can mark the link used.
    claimed = session.execute(
        update(UserInvitation)
        .where(UserInvitation.id == invitation.id, UserInvitation.used_at.is_(None),
               UserInvitation.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise LinkNotWorking()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.activated_at = now
    audit.record(session, "account activated", user_id=user.id, actor=user.email, record_type="user",
                 record_id=user.id, ip_address=ip_address, detail={"invitation_id": invitation.id})
    return Invitee(user.id, user.name, user.email, user.organisation.name, invitation.expires_at)


# --- the e-mail -----------------------------------------------------------------------------------


def compose(invitation: SentInvitation, settings: Settings) -> EmailMessage:
    """The invitation e-mail: who invited them to what, the link and when it stops working."""
    message = EmailMessage()
    message["From"] = settings.smtp_from or ""
    message["To"] = invitation.email
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=(settings.smtp_from or "dashboard").rpartition("@")[2] or None)
    message["Subject"] = f"Your account on the {APP_NAME}"
    expires = invitation.expires_at.strftime("%d %B %Y at %H:%M UTC")
    message.set_content("\n".join([
        f"Hello {invitation.name},",
        "",
        f"An administrator has made you an account on the {APP_NAME}, for {invitation.organisation} "
        f"({invitation.role_label}).",
        "",
        "Open this link to choose your password. It works once, until " + expires + ":",
        invitation.link,
        "",
        "If it has expired, ask your administrator for a new one. If you did not expect this e-mail, ignore it.",
        "Please do not forward this e-mail: the link is for you alone.",
    ]) + "\n")
    return message


def send_email(invitation: SentInvitation, settings: Settings) -> tuple[bool, str]:
    """E-mail the link when SMTP is configured: (sent, why not)."""
    if not settings.smtp_host:
        return False, "E-mail is not set up on this server."
    try:
        with Mailer(settings) as mailer:
            mailer.send(compose(invitation, settings))
    except SmtpError as error:
        return False, f"Sending failed ({error})."
    return True, ""
