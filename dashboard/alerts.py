"""Early-warning alerts: a sharp rise in incidents in a district, or its tension level at 4 or 5.

`check_alerts()` looks for both and gives each warning once (its `key`), to the members of the
organisations that cover the district and to the chair. Surge figures count only records every
partner may see (TLP:GREEN and TLP:CLEAR, `access.partnership_wide`); a tension alert goes only
to those the access gate lets see the assessment. Members read and acknowledge their own copies
through the gate (`alerts_for`, `acknowledge`); e-mails follow the rule in `mail.py`.

Run by `python -m dashboard check-alerts` (from a timer), at the end of `seed-demo`, and by the
app's background checker (`AlertChecker`) every ALERT_CHECK_MINUTES.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from . import audit, mail, surges
from .access import PARTNERSHIP_ROLES, Purpose, Viewer, get_visible, partnership_wide, visible
from .config import Settings
from .models import (
    Alert,
    AlertRecipient,
    Area,
    IncidentCategory,
    Organisation,
    TensionAssessment,
    User,
    organisation_areas,
    utcnow,
)
from .reference import TENSION_LEVELS, MembershipStatus, Role, UserStatus

log = logging.getLogger(__name__)

SURGE, TENSION = "surge", "tension"
KIND_LABELS = {SURGE: "Sharp rise in incidents", TENSION: "High tension level"}
ALERT_TENSION_LEVEL = 4  # levels 4 (high) and 5 (critical) raise an alert
# E-mails go out for alerts this recent only (so switching e-mail on does not send a backlog),
# and a failed e-mail is tried again at later checks within the same time.
EMAIL_WINDOW = timedelta(days=2)
ACKNOWLEDGED_SHOWN = 200  # acknowledged alerts listed on the page, newest first


# --- what a check finds ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewAlert:
    id: int
    key: str
    kind: str
    title: str
    recipients: int


@dataclass(frozen=True)
class EmailResult:
    configured: bool
    sent: int = 0
    failed: int = 0
    error: str | None = None  # why nothing could be sent at all (e.g. the server was unreachable)


@dataclass(frozen=True)
class CheckResult:
    as_of: date
    created: tuple[NewAlert, ...] = ()
    already_raised: int = 0
    email: EmailResult = field(default_factory=lambda: EmailResult(configured=False))

    def lines(self) -> list[str]:
        """What the check did, in words (the command line prints these)."""
        kinds = {k: sum(1 for a in self.created if a.kind == k) for k in (SURGE, TENSION)}
        out = [
            f"Alert check as of {self.as_of.isoformat()}: {len(self.created)} new alert(s) "
            f"({kinds[SURGE]} surge, {kinds[TENSION]} tension); "
            f"{self.already_raised} already raised earlier."
        ]
        out += [f"  new {a.kind}: {a.title} ({a.recipients} recipient(s))" for a in self.created]
        if not self.email.configured:
            out.append("E-mail: not configured (SMTP_HOST is unset); alerts are shown in the app only.")
        else:
            out.append(f"E-mail: {self.email.sent} sent, {self.email.failed} failed.")
            if self.email.error:
                out.append(f"  E-mail error: {self.email.error}")
        return out


# --- the surge engine (dashboard/surges.py) ---------------------------------------------------


def find_surges(session: Session, as_of: date) -> list:
    """District-level sharp rises up to `as_of`, from figures every partner may see."""
    viewer, filters = partnership_wide()
    return list(surges.surge_flags(session, viewer, filters, as_of))


def surge_key(flag) -> str:
    year, week, _ = flag.window_end.isocalendar()
    return f"surge:{flag.area_code}:{flag.category_code or 'all'}:{year}-W{week:02d}"


def surge_link(area_code: str, category_code: str | None) -> str:
    link = f"/trends?period=quarter&grain=week&geo=district&areas={area_code}&split=category"
    return link + (f"&category={category_code}" if category_code else "")


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _surge_texts(flag) -> tuple[str, str]:
    what = flag.category_label.lower() if flag.category_code else "incidents"
    title = f"Sharp rise in {what} in {flag.area_name}"
    counted = "incident" if flag.observed == 1 else "incidents"
    scope = f" of {flag.category_label.lower()}" if flag.category_code else ""
    days = (flag.window_end - flag.window_start).days + 1
    summary = (
        f"{flag.observed} {counted}{scope} recorded in {flag.area_name} in the {days} days "
        f"{_day(flag.window_start)} to {_day(flag.window_end)}, against about "
        f"{flag.expected:.1f} in a usual week of the 12 before. "
        "Counts include only records every partner may see (TLP:GREEN and TLP:CLEAR)."
    )
    return title[:200], summary


# --- who receives an alert -------------------------------------------------------------------


def _partners_for(session: Session, area_code: str) -> list[User]:
    """Active users (member, chair, admin) of active organisations covering the district, and
    every active chair; never SCI, never a disabled user or an organisation that has left."""
    covering = select(organisation_areas.c.organisation_id).where(
        organisation_areas.c.area_code == area_code
    )
    users = session.scalars(
        select(User)
        .join(Organisation, User.organisation_id == Organisation.id)
        .where(
            User.status == UserStatus.ACTIVE.value,
            Organisation.membership_status == MembershipStatus.ACTIVE.value,
            User.role.in_([r.value for r in PARTNERSHIP_ROLES]),
            or_(User.organisation_id.in_(covering), User.role == Role.CHAIR.value),
        )
        .order_by(User.id)
    ).all()
    return [u for u in users if Viewer.from_user(u).is_partner]


def _create(session: Session, alert: Alert, users: Iterable[User]) -> NewAlert | None:
    """Store an alert and its copies unless its key exists (another check may race us)."""
    users = list(users)
    try:
        with session.begin_nested():
            alert.recipients = [AlertRecipient(user_id=u.id) for u in users]
            session.add(alert)
            session.flush()
    except IntegrityError:
        log.info("alert %s was raised by another check at the same time", alert.key)
        return None
    audit.record(
        session, "alert raised", actor="alert check", record_type="alert", record_id=alert.id,
        detail={"key": alert.key, "recipients": len(users)},
    )
    return NewAlert(alert.id, alert.key, alert.kind, alert.title, len(users))


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Alert.key).where(Alert.key.in_(keys))))


def _surge_alerts(session: Session, as_of: date) -> tuple[list[NewAlert], int]:
    flags = find_surges(session, as_of)
    keyed = {surge_key(f): f for f in flags}
    existing = _existing_keys(session, list(keyed))
    created = []
    for key, flag in keyed.items():
        if key in existing:
            continue
        title, summary = _surge_texts(flag)
        alert = Alert(
            key=key, kind=SURGE, area_code=flag.area_code, category_code=flag.category_code,
            title=title, summary=summary, marking="TLP:GREEN",
            link=surge_link(flag.area_code, flag.category_code),
            window_start=flag.window_start, window_end=flag.window_end,
            observed=int(flag.observed), expected=float(flag.expected),
        )
        made = _create(session, alert, _partners_for(session, flag.area_code))
        if made:
            created.append(made)
    return created, len(existing)


def _latest_high_assessments(session: Session, as_of: date) -> list[TensionAssessment]:
    """Each district's latest assessment on or before `as_of` (not deleted), when at level 4+.

    The check reads every assessment, as the system; who hears of one is decided per recipient
    through the access gate (`_tension_alerts`)."""
    ranked = (
        select(
            TensionAssessment.id,
            TensionAssessment.level,
            func.row_number()
            .over(
                partition_by=TensionAssessment.area_code,
                order_by=(TensionAssessment.assessed_on.desc(), TensionAssessment.id.desc()),
            )
            .label("recency"),
        )
        .where(TensionAssessment.deleted_at.is_(None), TensionAssessment.assessed_on <= as_of)
        .subquery()
    )
    ids = select(ranked.c.id).where(ranked.c.recency == 1, ranked.c.level >= ALERT_TENSION_LEVEL)
    return list(
        session.scalars(
            select(TensionAssessment).where(TensionAssessment.id.in_(ids)).order_by(TensionAssessment.area_code)
        )
    )


def _tension_texts(a: TensionAssessment, area_name: str) -> tuple[str, str]:
    label = TENSION_LEVELS[a.level].label
    title = f"Tension level {a.level} ({label}) in {area_name}"
    # No rationale or indicators: the alert points at the assessment, it does not repeat it.
    summary = (
        f"The latest tension assessment for {area_name}, made on {_day(a.assessed_on)}, puts "
        f"community tension at level {a.level} ({label}), trend {a.trend}, "
        f"confidence {a.confidence}."
    )
    return title, summary


def _tension_alerts(session: Session, as_of: date) -> tuple[list[NewAlert], int]:
    assessments = _latest_high_assessments(session, as_of)
    keyed = {f"tension:{a.id}": a for a in assessments}
    existing = _existing_keys(session, list(keyed))
    names = dict(session.execute(select(Area.code, Area.name)).all())
    created = []
    for key, a in keyed.items():
        if key in existing:
            continue
        # An AMBER+STRICT assessment alerts its own organisation only (and so on): ask the gate.
        users = [
            u for u in _partners_for(session, a.area_code)
            if get_visible(session, Viewer.from_user(u), TensionAssessment, a.id) is not None
        ]
        title, summary = _tension_texts(a, names.get(a.area_code, a.area_code))
        alert = Alert(
            key=key, kind=TENSION, area_code=a.area_code, title=title, summary=summary,
            marking=a.marking, link=f"/?metric=tension&area={a.area_code}",
            window_end=a.assessed_on, level=a.level, assessment_id=a.id,
        )
        made = _create(session, alert, users)
        if made:
            created.append(made)
    return created, len(existing)


def check_alerts(session: Session, as_of: date, settings: Settings | None = None) -> CheckResult:
    """Raise the alerts due as of `as_of` (each once), then e-mail copies if SMTP is configured.

    Safe to run again and from several processes at once: an alert's key is unique. Commits the
    new alerts before any e-mail is sent.
    """
    surge_new, surge_old = _surge_alerts(session, as_of)
    tension_new, tension_old = _tension_alerts(session, as_of)
    session.commit()
    email = send_pending_emails(session, settings) if settings else EmailResult(configured=False)
    return CheckResult(
        as_of=as_of, created=tuple(surge_new + tension_new),
        already_raised=surge_old + tension_old, email=email,
    )


# --- e-mail ------------------------------------------------------------------------------------


def send_pending_emails(session: Session, settings: Settings | None, now: datetime | None = None) -> EmailResult:
    """E-mail each recipient's copy of a recent alert once, recording when or why not.

    Each copy is claimed (emailed_at set, committed) before it is sent, so two checkers running
    at once never send it twice; a failure clears the claim and keeps a short error, and the copy
    is tried again at later checks while the alert is recent (EMAIL_WINDOW). Never raises for
    SMTP problems. Copies already acknowledged in the app, and users who may no longer see the
    alert, get no e-mail.
    """
    if settings is None or not settings.smtp_host:
        return EmailResult(configured=False)
    now = now or utcnow()
    pending = session.execute(
        select(AlertRecipient.alert_id, AlertRecipient.user_id)
        .join(Alert, Alert.id == AlertRecipient.alert_id)
        .where(
            AlertRecipient.emailed_at.is_(None),
            AlertRecipient.acknowledged_at.is_(None),
            Alert.created_at >= now - EMAIL_WINDOW,
        )
        .order_by(AlertRecipient.alert_id, AlertRecipient.user_id)
    ).all()
    if not pending:
        return EmailResult(configured=True)
    sent = failed = 0
    try:
        with mail.Mailer(settings) as mailer:
            for alert_id, user_id in pending:
                outcome = _send_copy(session, mailer, settings, alert_id, user_id)
                sent += outcome == "sent"
                failed += outcome == "failed"
    except mail.SmtpError as exc:
        # The server could not be reached or refused us: keep the reason on the copies not sent.
        message = str(exc)
        session.rollback()
        by_alert: dict[int, list[int]] = {}
        for alert_id, user_id in pending:
            by_alert.setdefault(alert_id, []).append(user_id)
        for alert_id, user_ids in by_alert.items():
            session.execute(
                update(AlertRecipient)
                .where(
                    AlertRecipient.alert_id == alert_id,
                    AlertRecipient.user_id.in_(user_ids),
                    AlertRecipient.emailed_at.is_(None),
                )
                .values(email_error=message)
            )
        session.commit()
        log.warning("alert e-mails not sent: %s", message)
        return EmailResult(configured=True, sent=sent, failed=failed, error=message)
    return EmailResult(configured=True, sent=sent, failed=failed)


def _send_copy(session: Session, mailer: mail.Mailer, settings: Settings, alert_id: int, user_id: int) -> str:
    user = session.get(User, user_id)
    viewer = Viewer.from_user(user) if user else None
    alert = get_visible(session, viewer, Alert, alert_id) if viewer and viewer.is_partner else None
    if alert is None:
        return "skipped"
    claim = session.execute(
        update(AlertRecipient)
        .where(
            AlertRecipient.alert_id == alert_id,
            AlertRecipient.user_id == user_id,
            AlertRecipient.emailed_at.is_(None),
        )
        .values(emailed_at=utcnow())
    )
    session.commit()
    if claim.rowcount != 1:
        return "skipped"  # another checker has it
    message = mail.compose(
        mail.AlertMail(alert.id, alert.marking, alert.title, alert.summary, alert.link), user.email, settings
    )
    try:
        mailer.send(message)
    except mail.SmtpError as exc:
        session.execute(
            update(AlertRecipient)
            .where(AlertRecipient.alert_id == alert_id, AlertRecipient.user_id == user_id)
            .values(emailed_at=None, email_error=str(exc))
        )
        session.commit()
        return "failed"
    session.execute(
        update(AlertRecipient)
        .where(AlertRecipient.alert_id == alert_id, AlertRecipient.user_id == user_id)
        .values(email_error=None)
    )
    session.commit()
    return "sent"


# --- reading and acknowledging, through the gate ---------------------------------------------


@dataclass(frozen=True)
class AlertItem:
    """One alert as the viewer sees it (their own copy)."""

    id: int
    kind: str
    area_code: str
    area_name: str
    category_label: str | None
    title: str
    summary: str
    marking: str
    link: str
    created_at: datetime
    acknowledged_at: datetime | None
    level: int | None = None
    observed: int | None = None
    expected: float | None = None
    window_start: date | None = None
    window_end: date | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def _own_copies(viewer: Viewer):
    """The viewer's copies of the alerts the gate lets them see."""
    gated = visible(viewer, Alert, purpose=Purpose.RECORDS).subquery()
    return gated, (
        select(gated, AlertRecipient.acknowledged_at, Area.name.label("area_name"),
               IncidentCategory.label.label("category_label"))
        .join(AlertRecipient, and_(AlertRecipient.alert_id == gated.c.id, AlertRecipient.user_id == viewer.user_id))
        .join(Area, Area.code == gated.c.area_code)
        .outerjoin(IncidentCategory, IncidentCategory.code == gated.c.category_code)
    )


def alerts_for(session: Session, viewer: Viewer, include_acknowledged: bool = True) -> list[AlertItem]:
    """The viewer's alerts: unacknowledged first, newest first within each group."""
    gated, stmt = _own_copies(viewer)
    unacked = AlertRecipient.acknowledged_at.is_(None)
    rows = list(session.execute(stmt.where(unacked).order_by(gated.c.created_at.desc(), gated.c.id.desc())))
    if include_acknowledged:
        rows += session.execute(
            stmt.where(~unacked)
            .order_by(AlertRecipient.acknowledged_at.desc(), gated.c.id.desc())
            .limit(ACKNOWLEDGED_SHOWN)
        ).all()
    return [
        AlertItem(
            id=r.id, kind=r.kind, area_code=r.area_code, area_name=r.area_name,
            category_label=r.category_label, title=r.title, summary=r.summary, marking=r.marking,
            link=r.link, created_at=r.created_at, acknowledged_at=r.acknowledged_at, level=r.level,
            observed=r.observed, expected=r.expected, window_start=r.window_start,
            window_end=r.window_end,
        )
        for r in rows
    ]


def unacknowledged_count(session: Session, viewer: Viewer) -> int:
    """How many of the viewer's alerts wait for acknowledgement (0 for anyone not a partner)."""
    if not viewer.is_partner:
        return 0
    gated, stmt = _own_copies(viewer)
    counted = stmt.where(AlertRecipient.acknowledged_at.is_(None)).with_only_columns(func.count())
    return int(session.scalar(counted) or 0)


def acknowledge(session: Session, viewer: Viewer, alert_ids: Iterable[int] | None = None,
                ip_address: str | None = None) -> int:
    """Acknowledge the viewer's own copies of these alerts (all of theirs when None); returns
    how many were newly acknowledged. Other users' copies and alerts the viewer may not see are
    left alone. Each acknowledgement is audited."""
    if not viewer.is_partner:
        return 0
    wanted = None if alert_ids is None else sorted({int(i) for i in alert_ids})
    if wanted == []:
        return 0
    mine = visible(viewer, Alert).with_only_columns(Alert.id)
    if wanted is not None:
        mine = mine.where(Alert.id.in_(wanted))
    copies = session.scalars(
        select(AlertRecipient)
        .where(
            AlertRecipient.user_id == viewer.user_id,
            AlertRecipient.acknowledged_at.is_(None),
            AlertRecipient.alert_id.in_(mine),
        )
        .order_by(AlertRecipient.alert_id)
    ).all()
    now = utcnow()
    for copy in copies:
        copy.acknowledged_at = now
        audit.record(
            session, "alert acknowledged", user_id=viewer.user_id, actor=viewer.email,
            record_type="alert", record_id=copy.alert_id, ip_address=ip_address,
        )
    session.flush()
    return len(copies)


# --- the app's background checker ------------------------------------------------------------


class AlertChecker:
    """Runs `check_alerts` every few minutes in a daemon thread of the web app.

    Each run has its own session; the unique alert key and the e-mail claim make overlapping
    runs (several workers, or a timer as well) harmless. Errors are logged, never raised.
    """

    def __init__(self, db, settings: Settings, minutes: int, today=date.today) -> None:
        self.db = db
        self.settings = settings
        self.interval = minutes * 60
        self.today = today
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-checker", daemon=True)

    def start(self) -> AlertChecker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> CheckResult | None:
        try:
            with self.db.session() as session:
                result = check_alerts(session, self.today(), self.settings)
        except (SQLAlchemyError, ImportError, ValueError, RuntimeError):
            log.exception("the alert check failed; it will run again in %d minutes", self.interval // 60)
            return None
        if result.created or result.email.sent or result.email.failed:
            for line in result.lines():
                log.info(line)
        return result

    def _run(self) -> None:
        # The first check waits a full interval: starting the app (or a benchmark) stays quick.
        while not self._stop.wait(self.interval):
            self.run_once()
