"""Alert e-mails over SMTP (standard library only), and what an e-mail may say.

The rule (DOMAIN.md: nothing above TLP:GREEN leaves by e-mail): an alert marked TLP:GREEN or
TLP:CLEAR may name its district, category and counts; any other alert's e-mail says only that
an alert needs the reader's attention and where to read it. No e-mail ever carries record text
(incident titles or descriptions, assessment rationale): alerts are built from aggregates.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .config import Settings
from .reference import Marking

APP_NAME = "Midlands Partnership Dashboard"
SHAREABLE_MARKINGS = frozenset({Marking.GREEN.value, Marking.CLEAR.value})
SMTP_TIMEOUT_SECONDS = 15
ALERTS_PATH = "/alerts"


@dataclass(frozen=True)
class AlertMail:
    """What an alert's e-mail is built from; `summary` is only read for shareable markings."""

    alert_id: int
    marking: str
    title: str
    summary: str
    link: str  # a path inside the dashboard


def is_shareable(marking: str) -> bool:
    """Whether an alert with this marking may be described in an e-mail."""
    return marking in SHAREABLE_MARKINGS


def _address(settings: Settings, path: str) -> str:
    """A full link when PUBLIC_URL is known, else the path (the reader opens it themselves)."""
    return f"{settings.public_url}{path}" if settings.public_url else path


def compose(mail: AlertMail, to: str, settings: Settings) -> EmailMessage:
    """The e-mail for one recipient's copy of an alert, following the marking rule above."""
    message = EmailMessage()
    message["From"] = settings.smtp_from or ""
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=(settings.smtp_from or "dashboard").rpartition("@")[2] or None)
    alerts_link = _address(settings, ALERTS_PATH)
    where = "" if settings.public_url else f" (sign in to the {APP_NAME} and open Alerts)"
    if is_shareable(mail.marking):
        message["Subject"] = f"{APP_NAME} alert: {mail.title}"
        body = [
            f"{mail.title}",
            "",
            mail.summary,
            "",
            f"Handling: {mail.marking}.",
            f"See the evidence: {_address(settings, mail.link)}{where}",
            f"Acknowledge the alert: {alerts_link}",
        ]
    else:
        message["Subject"] = f"{APP_NAME}: an alert needs your attention"
        body = [
            "An alert on the dashboard needs your attention.",
            "",
            "Its details are restricted, so they are not sent by e-mail. Sign in to read it:",
            f"{alerts_link}{where}",
        ]
    body += [
        "",
        "You receive this because your organisation covers the district concerned, or you chair the partnership.",
        "Please do not forward this e-mail.",
    ]
    message.set_content("\n".join(body) + "\n")
    return message


class SmtpError(Exception):
    """Sending failed; the message is short enough to keep with the recipient's copy."""


class Mailer:
    """One SMTP connection for a batch of e-mails: `with Mailer(settings) as m: m.send(msg)`."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise SmtpError("SMTP is not configured (SMTP_HOST is unset).")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpError(short_error(exc)) from exc
        self._smtp = smtp
        return self

    def send(self, message: EmailMessage) -> None:
        assert self._smtp is not None
        try:
            refused = self._smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpError(short_error(exc)) from exc
        if refused:
            raise SmtpError(f"refused: {', '.join(refused)}"[:300])

    def __exit__(self, *_exc) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def short_error(exc: BaseException) -> str:
    """A one-line description of a sending failure (never a password: smtplib puts none in)."""
    text = str(exc).replace("\n", " ").strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:300]
