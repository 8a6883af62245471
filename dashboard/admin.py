"""Administration: member organisations, users (role, organisation, disabling), their sessions,
and resetting a lost second factor. Invitations are in dashboard/invitations.py.

Rules kept here, whoever asks (the admin pages, the command line):
- only an administrator of an active member organisation may do any of it (`may_manage`);
- the partnership is never left without an active administrator (role admin, account active and
  activated, organisation an active member);
- an administrator cannot change their own role, disable themselves, or suspend their own
  organisation;
- suspending an organisation or ending its membership signs its users out at once, as disabling
  a user, resetting their second factor or "sign out everywhere" does;
- every change is audited, in the same transaction as the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from . import audit, auth
from .access import Viewer
from .config import Settings
from .models import Organisation, RecoveryCode, User, UserInvitation, UserSession, utcnow
from .reference import ROLE_LABELS, MembershipStatus, Role, Sector, UserStatus

NOT_ALLOWED = "Only administrators of an active member organisation can manage organisations and users."
NAME_MAX = 160
SHORT_NAME_MAX = 40

SECTOR_LABELS = {
    Sector.STATUTORY: "Statutory",
    Sector.VOLUNTARY: "Voluntary and community",
    Sector.FAITH: "Faith",
    Sector.TRADE_UNION: "Trade union",
}
MEMBERSHIP_LABELS = {
    MembershipStatus.ACTIVE: "Active member",
    MembershipStatus.SUSPENDED: "Suspended",
    MembershipStatus.LEFT: "Membership ended",
}


class UserState:
    """A user's status as the users page shows and filters it."""

    ACTIVE = "active"
    INVITED = "invited"
    EXPIRED = "expired"
    DISABLED = "disabled"


USER_STATE_LABELS = {
    UserState.ACTIVE: "Active",
    UserState.INVITED: "Invited",
    UserState.EXPIRED: "Invitation expired",
    UserState.DISABLED: "Disabled",
}


class AdminError(ValueError):
    """A change that cannot be made; `field` names what is wrong (a form field, or "record")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def may_manage(viewer: Viewer | None) -> bool:
    """Whether this viewer may manage organisations, users and their sessions."""
    return viewer is not None and viewer.role == Role.ADMIN and viewer.is_partner


def require_admin(viewer: Viewer | None) -> None:
    if not may_manage(viewer):
        raise PermissionError(NOT_ALLOWED)


def _actor(viewer: Viewer) -> dict:
    return {"user_id": viewer.user_id or None, "actor": viewer.email or "command line"}


def clean_text(value) -> str:
    """A one-line text field: surrounding and repeated spaces removed."""
    return " ".join(str(value or "").split())


def one_of(value, allowed) -> str:
    """`value` when it is one of the `allowed` strings, else "" (whatever type it arrived as)."""
    return value if isinstance(value, str) and value in {str(a) for a in allowed} else ""


def as_id(raw) -> int | None:
    """A record id from a form or a button, or None when it is not a positive whole number that
    fits the database's ids."""
    text = str(raw if isinstance(raw, (int, str)) and not isinstance(raw, bool) else "").strip()
    if not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= 2_147_483_647 else None


# --- organisations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationView:
    id: int
    name: str
    short_name: str
    sector: str
    membership_status: str
    active_users: int
    users: int
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.membership_status == MembershipStatus.ACTIVE

    @property
    def sector_label(self) -> str:
        return SECTOR_LABELS.get(self.sector, self.sector)

    @property
    def membership_label(self) -> str:
        return MEMBERSHIP_LABELS.get(self.membership_status, self.membership_status)

    def form_values(self) -> dict[str, str]:
        """The values the change form opens with (compared again when it is saved)."""
        return {"name": self.name, "short_name": self.short_name, "sector": self.sector,
                "membership_status": self.membership_status}


def _active_user_condition():
    return (User.status == UserStatus.ACTIVE) & User.activated_at.is_not(None)


def _organisation_views(session: Session, *conditions) -> list[OrganisationView]:
    active = func.sum(case((_active_user_condition(), 1), else_=0))
    rows = session.execute(
        select(Organisation, func.count(User.id), func.coalesce(active, 0))
        .outerjoin(User, User.organisation_id == Organisation.id)
        .where(*conditions)
        .group_by(Organisation.id)
        .order_by(func.lower(Organisation.name))
    ).all()
    return [
        OrganisationView(
            id=org.id, name=org.name, short_name=org.short_name or "", sector=org.sector,
            membership_status=org.membership_status, active_users=int(active_users or 0), users=int(users or 0),
            created_at=org.created_at,
        )
        for org, users, active_users in rows
    ]


def list_organisations(session: Session, viewer: Viewer | None) -> list[OrganisationView]:
    """Every organisation, by name, with how many users it has and how many are active."""
    require_admin(viewer)
    return _organisation_views(session)


def get_organisation(session: Session, viewer: Viewer | None, organisation_id) -> OrganisationView | None:
    require_admin(viewer)
    found = _organisation_views(session, Organisation.id == as_id(organisation_id))
    return found[0] if found else None


def organisation_choices(session: Session, viewer: Viewer | None) -> list[tuple[int, str]]:
    """(id, name) of the active member organisations, by name: where users can be put."""
    require_admin(viewer)
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.membership_status == MembershipStatus.ACTIVE)
        .order_by(func.lower(Organisation.name))
    ).all()
    return [(org_id, name) for org_id, name in rows]


def _clean_organisation(session: Session, name, short_name, sector, membership_status,
                        own_id: int | None) -> dict[str, str | None]:
    errors: dict[str, str] = {}
    clean_name = clean_text(name)
    if not clean_name:
        errors["name"] = "Enter the organisation\u2019s name."
    elif len(clean_name) > NAME_MAX:
        errors["name"] = f"The organisation\u2019s name must be {NAME_MAX} characters or fewer."
    else:
        clash = session.scalar(
            select(Organisation.name).where(func.lower(Organisation.name) == clean_name.lower(),
                                            Organisation.id != (own_id or 0))
        )
        if clash:
            errors["name"] = f"There is already an organisation called \u201c{clash}\u201d. Choose another name."
    clean_short = clean_text(short_name)
    if len(clean_short) > SHORT_NAME_MAX:
        errors["short_name"] = f"The short name must be {SHORT_NAME_MAX} characters or fewer."
    if not one_of(sector, Sector):
        errors["sector"] = "Choose the organisation\u2019s sector."
    if not one_of(membership_status, MembershipStatus):
        errors["membership_status"] = "Choose the organisation\u2019s membership status."
    if errors:
        field, message = next(iter(errors.items()))
        error = AdminError(field, message)
        error.errors = errors  # every wrong field, for the form's error summary
        raise error
    return {"name": clean_name, "short_name": clean_short or None, "sector": sector,
            "membership_status": membership_status}


def add_organisation(session: Session, viewer: Viewer | None, name, short_name, sector, membership_status,
                     ip_address: str | None = None) -> OrganisationView:
    """Add a member organisation (audited)."""
    require_admin(viewer)
    values = _clean_organisation(session, name, short_name, sector, membership_status or MembershipStatus.ACTIVE,
                                 None)
    org = Organisation(**values)
    session.add(org)
    session.flush()
    audit.record(session, "organisation added", **_actor(viewer), record_type="organisation", record_id=org.id,
                 ip_address=ip_address, detail={"after": values})
    return get_organisation(session, viewer, org.id)


@dataclass(frozen=True)
class OrganisationChange:
    organisation: OrganisationView
    changed: dict[str, tuple]  # field -> (before, after)
    sessions_ended: int


def change_organisation(session: Session, viewer: Viewer | None, organisation_id, opened: dict | None,
                        name, short_name, sector, membership_status,
                        ip_address: str | None = None) -> OrganisationChange:
    """Change an organisation's name, short name, sector or membership status.

    `opened` holds the values the form was opened with: if the organisation has changed since,
    nothing is saved (AdminError on "record"). Suspending an organisation or ending its membership
    ends every session of its users at once."""
    require_admin(viewer)
    org = session.get(Organisation, as_id(organisation_id) or 0)
    if org is None:
        raise AdminError("record", "There is no such organisation. It may have been removed; reload the page.")
    before = {"name": org.name, "short_name": org.short_name, "sector": org.sector,
              "membership_status": org.membership_status}
    if opened is not None:
        opened = opened if isinstance(opened, dict) else {}
        now_shown = {k: (v or "") for k, v in before.items()}
        if any(str(opened.get(k) or "") != now_shown[k] for k in now_shown):
            raise AdminError(
                "record",
                f"Someone else changed {org.name} since you opened it. Nothing was saved: "
                "open it again to see the change, then make yours.",
            )
    values = _clean_organisation(session, name, short_name, sector, membership_status, org.id)
    leaving = (before["membership_status"] == MembershipStatus.ACTIVE
               and values["membership_status"] != MembershipStatus.ACTIVE)
    if leaving and org.id == viewer.organisation_id:
        raise AdminError(
            "membership_status",
            "You cannot suspend your own organisation or end its membership: you would lose access yourself. "
            "Ask an administrator of another member organisation.",
        )
    changed = {k: (before[k], values[k]) for k in values if before[k] != values[k]}
    if not changed:
        raise AdminError("record", f"Nothing was changed: {org.name} already has these details.")
    if leaving:
        _keep_an_admin(session, "membership_status", f"{org.name} has the only ones.", besides_organisation=org.id)
    for key, value in values.items():
        setattr(org, key, value)
    session.flush()
    ended = 0
    if leaving:
        user_ids = session.scalars(select(User.id).where(User.organisation_id == org.id)).all()
        ended = sum(auth.end_all_sessions(session, user_id, "organisation not active") for user_id in user_ids)
    audit.record(
        session, "organisation changed", **_actor(viewer), record_type="organisation", record_id=org.id,
        ip_address=ip_address,
        detail={"before": {k: b for k, (b, _a) in changed.items()}, "after": {k: a for k, (_b, a) in changed.items()},
                "sessions_ended": ended},
    )
    return OrganisationChange(get_organisation(session, viewer, org.id), changed, ended)


def users_signed_out_if_inactive(session: Session, viewer: Viewer | None, organisation_id) -> int:
    """How many of an organisation's users would be signed out if it stopped being a member."""
    require_admin(viewer)
    return int(session.scalar(
        select(func.count(User.id)).where(User.organisation_id == (as_id(organisation_id) or 0),
                                          _active_user_condition())
    ) or 0)


# --- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    organisation_id: int
    organisation: str
    organisation_active: bool
    role: str
    state: str  # UserState
    invitation_expires_at: datetime | None  # the open invitation's expiry, while invited
    second_factor_since: datetime | None
    last_login_at: datetime | None
    open_sessions: int
    created_at: datetime
    activated_at: datetime | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def state_label(self) -> str:
        return USER_STATE_LABELS[self.state]

    @property
    def second_factor_on(self) -> bool:
        return self.second_factor_since is not None

    @property
    def disabled(self) -> bool:
        return self.state == UserState.DISABLED

    @property
    def not_activated(self) -> bool:
        return self.activated_at is None


@dataclass(frozen=True)
class SessionView:
    id: int
    created_at: datetime
    last_seen_at: datetime
    ip_address: str
    browser: str


def _open_session_conditions(settings: Settings | None, now: datetime) -> list:
    conditions = [UserSession.ended_at.is_(None)]
    if settings is not None:  # a session past its limits is ended at its next request: not open
        conditions += [UserSession.created_at > now - settings.absolute_timeout,
                       UserSession.last_seen_at > now - settings.idle_timeout]
    return conditions


def _open_invitations(session: Session, user_ids, now: datetime) -> dict[int, datetime]:
    """The latest expiry of each user's working invitation."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(UserInvitation.user_id, func.max(UserInvitation.expires_at))
        .where(UserInvitation.user_id.in_(list(user_ids)), UserInvitation.used_at.is_(None),
               UserInvitation.revoked_at.is_(None), UserInvitation.expires_at > now)
        .group_by(UserInvitation.user_id)
    ).all()
    return {user_id: expires for user_id, expires in rows}


def _state(user: User, invitation_expires: datetime | None) -> str:
    if user.status != UserStatus.ACTIVE:
        return UserState.DISABLED
    if user.activated_at is None:
        return UserState.INVITED if invitation_expires else UserState.EXPIRED
    return UserState.ACTIVE


def _user_views(session: Session, settings: Settings | None, now: datetime, *conditions) -> list[UserView]:
    users = session.scalars(
        select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(*conditions).order_by(func.lower(User.name), User.email)
    ).unique().all()
    ids = [u.id for u in users]
    sessions = dict(session.execute(
        select(UserSession.user_id, func.count(UserSession.id))
        .where(UserSession.user_id.in_(ids), *_open_session_conditions(settings, now))
        .group_by(UserSession.user_id)
    ).all()) if ids else {}
    invitations = _open_invitations(session, ids, now)
    views = []
    for user in users:
        expires = invitations.get(user.id) if user.activated_at is None else None
        views.append(UserView(
            id=user.id, name=user.name, email=user.email, organisation_id=user.organisation_id,
            organisation=user.organisation.name if user.organisation else "",
            organisation_active=bool(user.organisation)
            and user.organisation.membership_status == MembershipStatus.ACTIVE,
            role=user.role, state=_state(user, expires), invitation_expires_at=expires,
            second_factor_since=user.totp_enabled_at, last_login_at=user.last_login_at,
            open_sessions=int(sessions.get(user.id, 0)), created_at=user.created_at, activated_at=user.activated_at,
        ))
    return views


def list_users(session: Session, viewer: Viewer | None, settings: Settings | None = None, *,
               organisation_id=None, role: str | None = None, state: str | None = None, words: str | None = None,
               now: datetime | None = None) -> list[UserView]:
    """Users by name, narrowed by organisation, role, status (UserState) and words found in the
    name, e-mail address or organisation's name."""
    require_admin(viewer)
    now = now or utcnow()
    conditions = []
    org_id = as_id(organisation_id)
    if org_id:
        conditions.append(User.organisation_id == org_id)
    if one_of(role, Role):
        conditions.append(User.role == role)
    views = _user_views(session, settings, now, *conditions)
    if state:
        views = [v for v in views if v.state == state]
    terms = [t for t in re.split(r"\s+", (words or "").lower()) if t]
    if terms:
        views = [v for v in views
                 if all(t in f"{v.name} {v.email} {v.organisation}".lower() for t in terms)]
    return views


def get_user(session: Session, viewer: Viewer | None, user_id, settings: Settings | None = None, *,
             now: datetime | None = None) -> UserView | None:
    require_admin(viewer)
    found = _user_views(session, settings, now or utcnow(), User.id == (as_id(user_id) or 0))
    return found[0] if found else None


def browser_name(user_agent: str | None) -> str:
    """A browser and system in words from a User-Agent header: "Firefox on Windows"."""
    agent = user_agent or ""
    if not agent.strip():
        return "Not known"
    browser = "Another browser"
    for marker, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
                         ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"),
                         ("python-requests", "A program (Python)"), ("Werkzeug", "A program (test client)")):
        if marker in agent:
            browser = name
            break
    system = ""
    for marker, name in (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                         ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")):
        if marker in agent:
            system = name
            break
    return f"{browser} on {system}" if system else browser


def user_sessions(session: Session, viewer: Viewer | None, user_id, settings: Settings | None = None, *,
                  now: datetime | None = None) -> list[SessionView]:
    """A user's open sessions, most recently active first."""
    require_admin(viewer)
    now = now or utcnow()
    rows = session.scalars(
        select(UserSession).where(UserSession.user_id == (as_id(user_id) or 0),
                                  *_open_session_conditions(settings, now))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [SessionView(id=r.id, created_at=r.created_at, last_seen_at=r.last_seen_at,
                        ip_address=r.ip_address or "Not known", browser=browser_name(r.user_agent)) for r in rows]


def _user(session: Session, user_id) -> User:
    user = session.get(User, as_id(user_id) or 0)
    if user is None:
        raise AdminError("record", "There is no such user. They may have been removed; reload the page.")
    return user


def active_admin_count(session: Session, *, besides_user: int | None = None,
                       besides_organisation: int | None = None) -> int:
    """Administrators who can sign in (active, activated, of an active member organisation),
    leaving out one user or one organisation's users when asked."""
    conditions = [User.role == Role.ADMIN, _active_user_condition(),
                  Organisation.membership_status == MembershipStatus.ACTIVE]
    if besides_user is not None:
        conditions.append(User.id != besides_user)
    if besides_organisation is not None:
        conditions.append(User.organisation_id != besides_organisation)
    return int(session.scalar(
        select(func.count(User.id)).join(Organisation, User.organisation_id == Organisation.id).where(*conditions)
    ) or 0)


def _keep_an_admin(session: Session, field: str, why: str, **besides) -> None:
    """Refuse, before anything changes, a change that would leave no active administrator (where
    there is one now)."""
    if active_admin_count(session, **besides) == 0 and active_admin_count(session) > 0:
        raise AdminError(field, f"The partnership must keep at least one active administrator: {why} "
                                "Make someone else an administrator first.")


def change_role(session: Session, viewer: Viewer | None, user_id, role, organisation_id, *,
                opened: dict | None = None, ip_address: str | None = None) -> UserView:
    """Change a user's role and/or organisation (an active member organisation). An admin cannot
    change their own role; the last active admin keeps the role. `opened` ({"role",
    "organisation_id"}) is what the form showed: a change made since by someone else stops it."""
    require_admin(viewer)
    user = _user(session, user_id)
    before = {"role": user.role, "organisation_id": user.organisation_id,
              "organisation": user.organisation.name if user.organisation else ""}
    if opened is not None and not isinstance(opened, dict):
        opened = {}
    if opened is not None and (str(opened.get("role")) != user.role
                               or str(opened.get("organisation_id")) != str(user.organisation_id)):
        raise AdminError("record", f"Someone else changed {user.name}\u2019s role or organisation since you opened "
                                   "the page. Nothing was saved: reload the page to see the change.")
    if not one_of(role, Role):
        raise AdminError("role", "Choose a role.")
    org = session.get(Organisation, as_id(organisation_id) or 0)
    if org is None or org.membership_status != MembershipStatus.ACTIVE:
        raise AdminError("organisation", "Choose an active member organisation.")
    if user.id == viewer.user_id and role != user.role:
        raise AdminError("role", "You cannot change your own role. Ask another administrator.")
    if role == user.role and org.id == user.organisation_id:
        raise AdminError("record", f"Nothing was changed: {user.name} already has this role and organisation.")
    if before["role"] == Role.ADMIN and role != Role.ADMIN:
        _keep_an_admin(session, "role", f"{user.name} is the only one.", besides_user=user.id)
    user.role = role
    user.organisation_id = org.id
    user.organisation = org
    after = {"role": role, "organisation_id": org.id, "organisation": org.name}
    action = "user role changed" if role != before["role"] else "user organisation changed"
    audit.record(session, action, **_actor(viewer), record_type="user", record_id=user.id,
                 ip_address=ip_address, detail={"before": before, "after": after})
    return get_user(session, viewer, user.id)


def disable(session: Session, viewer: Viewer | None, user_id, *, ip_address: str | None = None) -> UserView:
    """Disable an account: it is signed out everywhere at once and cannot sign in."""
    require_admin(viewer)
    user = _user(session, user_id)
    if user.id == viewer.user_id:
        raise AdminError("record", "You cannot disable your own account. Ask another administrator.")
    if user.status == UserStatus.DISABLED:
        raise AdminError("record", f"{user.name}\u2019s account is already disabled.")
    _keep_an_admin(session, "record", f"{user.name} is the only one.", besides_user=user.id)
    by = session.get(User, viewer.user_id) if viewer.user_id else None
    auth.disable_user(session, user, by=by)
    return get_user(session, viewer, user.id)


def enable(session: Session, viewer: Viewer | None, user_id, *, ip_address: str | None = None) -> UserView:
    """Enable a disabled account again (an account never activated still needs its link)."""
    require_admin(viewer)
    user = _user(session, user_id)
    if user.status == UserStatus.ACTIVE:
        raise AdminError("record", f"{user.name}\u2019s account is already enabled.")
    user.status = UserStatus.ACTIVE
    audit.record(session, "user enabled", **_actor(viewer), record_type="user", record_id=user.id,
                 ip_address=ip_address)
    return get_user(session, viewer, user.id)


def sign_out_everywhere(session: Session, viewer: Viewer | None, user_id, *,
                        ip_address: str | None = None) -> int:
    """End every session of a user (the admin's own too, if it is their account); returns how many."""
    require_admin(viewer)
    user = _user(session, user_id)
    ended = auth.end_all_sessions(session, user.id, "signed out everywhere")
    audit.record(session, "user signed out everywhere", **_actor(viewer), record_type="user", record_id=user.id,
                 ip_address=ip_address, detail={"sessions_ended": ended})
    return ended


def reset_second_factor(session: Session, viewer: Viewer | None, user_id, *,
                        ip_address: str | None = None, now: datetime | None = None) -> int:
    """Remove a user's second factor (a lost phone): the secret and its last step are cleared,
    every recovery code stops working, and the user is signed out everywhere; they enrol again
    at their next sign-in if their role needs it. Returns how many sessions ended."""
    require_admin(viewer)
    now = now or utcnow()
    user = _user(session, user_id)
    if user.totp_secret is None and user.totp_enabled_at is None:
        raise AdminError("record", f"{user.name} has no second factor to reset.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    codes = session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount or 0
    ended = auth.end_all_sessions(session, user.id, "second factor reset")
    audit.record(session, "second factor reset", **_actor(viewer), record_type="user", record_id=user.id,
                 ip_address=ip_address, detail={"recovery_codes_withdrawn": codes, "sessions_ended": ended})
    return ended
