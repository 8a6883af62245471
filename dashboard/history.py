"""Each record's history, shown on the record: who changed it, when, and what changed.

Incidents and tension assessments keep one `RecordChange` row per create, import, update,
delete, restore and corroboration, meetings and actions one per create, field edit and delete,
with the changed fields as people read them on screen ("TLP:GREEN" -> "TLP:AMBER"). The history
is part of the record: only someone who may see the record may read it, so the callers
(`incidents.incident_history`, `assessments.assessment_history`, `meetings.meeting_history`,
`actions.action_history`) check the record's visibility through the access gate before asking
for its entries here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Organisation, RecordChange, User, utcnow

RECORD_INCIDENT = "incident"
RECORD_ASSESSMENT = "tension_assessment"
RECORD_MEETING = "meeting"
RECORD_ACTION = "action"
RECORD_TYPES = (RECORD_INCIDENT, RECORD_ASSESSMENT, RECORD_MEETING, RECORD_ACTION)

ACTIONS = ("created", "imported", "updated", "deleted", "restored", "corroborated")

# How each action reads in a sentence ("Updated by Pat Police (Test Police)").
ACTION_WORDS = {
    "created": "Created",
    "imported": "Imported",
    "updated": "Updated",
    "deleted": "Deleted",
    "restored": "Restored",
    "corroborated": "Corroboration recorded",
}


@dataclass(frozen=True)
class FieldChange:
    """One field's change, as shown on screen; `field` is the form's label for it."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    organisation: str
    action: str
    version: int  # the record's version after the change
    changes: tuple[FieldChange, ...]
    note: str

    @property
    def summary(self) -> str:
        """One line for the history list, e.g. "Updated by Pat Police (Test Police)"."""
        words = ACTION_WORDS.get(self.action, self.action.capitalize())
        by = f"{self.who} ({self.organisation})" if self.organisation else self.who
        return f"{words} by {by}"


def add(
    session: Session,
    record_type: str,
    record_id: int,
    version: int,
    action: str,
    user_id: int | None,
    changes: Iterable[FieldChange] = (),
    note: str = "",
) -> None:
    """Add a history entry to the session's transaction (it lands with the change it describes)."""
    if record_type not in RECORD_TYPES:
        raise ValueError(f"Unknown record type for history: {record_type!r}.")
    if action not in ACTIONS:
        raise ValueError(f"Unknown history action: {action!r}.")
    session.add(
        RecordChange(
            record_type=record_type,
            record_id=record_id,
            version=version,
            at=utcnow(),
            user_id=user_id,
            action=action,
            changes=[{"field": c.field, "before": c.before, "after": c.after} for c in changes],
            note=note or "",
        )
    )


def _entry(change: RecordChange, name: str | None, organisation: str | None) -> HistoryEntry:
    return HistoryEntry(
        at=change.at,
        who=name or "Unknown user",
        organisation=organisation or "",
        action=change.action,
        version=change.version,
        changes=tuple(
            FieldChange(str(c.get("field", "")), str(c.get("before", "")), str(c.get("after", "")))
            for c in (change.changes or ())
        ),
        note=change.note or "",
    )


def _query(record_type: str, record_id: int):
    return (
        select(RecordChange, User.name, Organisation.name)
        .outerjoin(User, User.id == RecordChange.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(RecordChange.record_type == record_type, RecordChange.record_id == record_id)
    )


def entries(session: Session, record_type: str, record_id: int) -> list[HistoryEntry]:
    """The record's history, oldest first. The caller has checked the viewer may see the record."""
    rows = session.execute(_query(record_type, record_id).order_by(RecordChange.id))
    return [_entry(change, name, org) for change, name, org in rows]


def latest(session: Session, record_type: str, record_id: int) -> HistoryEntry | None:
    """The record's newest history entry (who changed it last, and when), or None."""
    row = session.execute(_query(record_type, record_id).order_by(RecordChange.id.desc()).limit(1)).first()
    return _entry(*row) if row else None


def diff(
    before: Mapping[str, str], after: Mapping[str, str], labels: Mapping[str, str]
) -> list[FieldChange]:
    """The fields (in the order of `labels`) whose on-screen text differs, named by their labels."""
    return [
        FieldChange(label, before.get(name, ""), after.get(name, ""))
        for name, label in labels.items()
        if before.get(name, "") != after.get(name, "")
    ]
