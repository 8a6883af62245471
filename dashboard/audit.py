"""The audit log: who did what, when (UTC), to which record or export, from where, and why."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    actor: str = "",
    record_type: str | None = None,
    record_id: str | int | None = None,
    ip_address: str | None = None,
    reason: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (it lands with the change it describes)."""
    event = AuditEvent(
        action=action,
        user_id=user_id,
        actor=actor,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        ip_address=ip_address,
        reason=reason,
        detail=detail,
    )
    session.add(event)
    return event
