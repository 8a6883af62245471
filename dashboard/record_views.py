"""Views of restricted records: a partner opening an incident or tension assessment marked
TLP:AMBER, TLP:AMBER+STRICT or TLP:RED says why first, and every view is in the audit log.

The access gate decides, as everywhere, whether the viewer may see the record at all; this module
only adds the question and the audit entry ("restricted record viewed", with the reason given and
the marking). The reason is asked once per record per signed-in session: the audit log itself is
the memory (a "restricted record viewed" entry of this user for this record since the session
started), so nothing is kept in the browser or in the server's memory. Later views in the same
session are audited too, with the reason "as given earlier in this session", so the log lists
every view. TLP:GREEN and TLP:CLEAR records open straight away and are not audited as views.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import assessments, audit, auth, incidents
from .access import Viewer
from .models import AuditEvent, UserSession
from .reference import Marking

ACTION = "restricted record viewed"
EARLIER = "as given earlier in this session"
REASON_MAX = 500
OTHER = "other"
ID_MAX = 2**31 - 1  # the largest record id the databases hold
# The common reasons (value, words as kept in the audit log), then "Another reason" with a text box.
REASONS: tuple[tuple[str, str], ...] = (
    ("meeting", "Preparing for a partnership meeting"),
    ("follow-up", "Follow-up by my organisation"),
    ("checking", "Checking or correcting the record"),
    ("safeguarding", "Safeguarding or risk assessment"),
    (OTHER, "Another reason"),
)
RESTRICTED = frozenset({Marking.RED.value, Marking.AMBER_STRICT.value, Marking.AMBER.value})
# Each record type and how the access gate reads it for a viewer (None when they may not see it).
READERS: dict[str, Callable] = {
    incidents.RECORD_TYPE: incidents.get_incident,
    assessments.RECORD_TYPE: assessments.get_assessment,
}


class ReasonError(ValueError):
    """A missing or unusable reason; `field` is "choice" (the radios) or "other" (the text box)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def is_restricted(marking: str) -> bool:
    """Whether opening a record with this marking needs a reason (AMBER, AMBER+STRICT, RED)."""
    return str(marking) in RESTRICTED


def reason_text(choice, other) -> str:
    """The reason as kept in the audit log: the common reason's words, or the text typed for
    "Another reason" (required then, up to REASON_MAX characters). ReasonError otherwise."""
    chosen = str(choice or "").strip()
    words = dict(REASONS)
    if not chosen:
        raise ReasonError("choice", "Choose why you are opening this record.")
    if chosen not in words:
        raise ReasonError("choice", "Choose one of the reasons listed, or \u201cAnother reason\u201d.")
    if chosen != OTHER:
        return words[chosen]
    typed = " ".join(str(other or "").split())  # one line: newlines and runs of spaces become one space
    if not typed:
        raise ReasonError("other", "Enter your reason for opening this record.")
    if len(typed) > REASON_MAX:
        raise ReasonError("other", f"Your reason must be {REASON_MAX} characters or fewer; it has {len(typed)}.")
    return typed


def session_started(session: Session, viewer: Viewer, token: str | None) -> datetime | None:
    """When the viewer's open sign-in session behind `token` started; None without one."""
    if not token:
        return None
    return session.scalar(
        select(UserSession.created_at).where(
            UserSession.token_hash == auth.token_hash(token),
            UserSession.user_id == viewer.user_id,
            UserSession.ended_at.is_(None),
        )
    )


def viewed_this_session(session: Session, viewer: Viewer, record_type: str, record_id: int,
                        token: str | None) -> bool:
    """Whether the viewer has opened this record (and so said why) since this session started."""
    started = session_started(session, viewer, token)
    if started is None:
        return False
    return session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == ACTION,
            AuditEvent.user_id == viewer.user_id,
            AuditEvent.record_type == record_type,
            AuditEvent.record_id == str(record_id),
            AuditEvent.at >= started,
        ).limit(1)
    ) is not None


def record_view(session: Session, viewer: Viewer, record_type: str, record_id: int, marking: str, reason: str,
                ip_address: str | None = None) -> AuditEvent:
    """Audit one view of a restricted record, in the session's transaction."""
    return audit.record(session, ACTION, user_id=viewer.user_id, actor=viewer.email, record_type=record_type,
                        record_id=record_id, ip_address=ip_address, reason=reason, detail={"marking": marking})


def may_open(session: Session, viewer: Viewer, record_type: str, view, *, token: str | None,
             ip_address: str | None = None) -> bool:
    """Whether a page may show `view` (a record the access gate let the viewer read) without
    asking why: yes for TLP:GREEN and TLP:CLEAR (not audited); for a restricted record, yes when
    the viewer gave a reason for it earlier in this session, and this view is then audited with
    the reason EARLIER; no when the viewer must say why first (nothing audited)."""
    if not is_restricted(view.marking):
        return True
    if not viewed_this_session(session, viewer, record_type, view.id, token):
        return False
    record_view(session, viewer, record_type, view.id, view.marking, EARLIER, ip_address)
    return True


def reason_given(session: Session, viewer: Viewer, record_type: str, record_id: int, token: str | None) -> bool:
    """Whether a callback may send a record's content again (an edit form's "discard my changes",
    a version conflict's comparison): yes unless the record is restricted and the viewer has not
    said why they opened it in this session. Not audited: the page that showed it was. A record
    the viewer may not see is left to the caller's own refusal."""
    view = READERS[record_type](session, viewer, record_id)
    if view is None or not is_restricted(view.marking):
        return True
    return viewed_this_session(session, viewer, record_type, record_id, token)


def open_with_reason(session: Session, viewer: Viewer, record_type: str, record_id, choice, other, *,
                     ip_address: str | None = None, shown: Callable[[object], bool] | None = None):
    """The record, now that the viewer has said why they open it, read through the access gate:
    None when it does not exist or they may not see it (nothing audited, whatever the reason);
    ReasonError when the reason is missing or too long (nothing audited); otherwise the record's
    view, with this view audited with the reason when its marking is restricted. When `shown(view)`
    is false the page will not show the record's content (an edit form the viewer may not use):
    the view is returned unaudited, as it is not a view of the record."""
    read = READERS.get(record_type)
    if read is None:
        raise ValueError(f"Unknown record type: {record_type!r}")
    text = str(record_id).strip() if isinstance(record_id, (int, str)) and not isinstance(record_id, bool) else ""
    if not text.isdigit() or not 0 < int(text) <= ID_MAX:
        return None
    wanted = int(text)
    view = read(session, viewer, wanted)
    if view is None:
        return None
    if not is_restricted(view.marking) or (shown is not None and not shown(view)):
        return view  # a marking relaxed since the page asked, or a page without the content
    record_view(session, viewer, record_type, view.id, view.marking, reason_text(choice, other), ip_address)
    return view
