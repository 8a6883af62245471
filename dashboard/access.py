"""The access gate: the one place that decides which records a viewer may see.

Every read of records (maps, charts, tables, exports, briefings, API) starts from `visible()`,
which returns a SQL selection with the viewer's handling-marking rules (DOMAIN.md, FIRST TLP 2.0)
already in its WHERE clause, so that a record a viewer may not see never leaves the database and
never counts in that viewer's figures. Anything not explicitly allowed is denied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_, select, true
from sqlalchemy.orm import Session

from .models import (
    Action,
    Alert,
    AlertRecipient,
    Incident,
    IncidentMonthlyCount,
    IncidentQuarterCount,
    IncidentRegionTrendCount,
    IncidentTrendCount,
    Meeting,
    Resource,
    Strand,
    TensionAssessment,
    TriggerEvent,
    User,
    assessment_organisations,
    assessment_recipients,
    incident_organisations,
    incident_recipients,
)
from .reference import (
    AUDIENCE_CLEAR,
    AUDIENCE_LISTED,
    AUDIENCE_PARTNERS,
    PUBLISHABLE_MARKINGS,
    Marking,
    MembershipStatus,
    ResourceKind,
    Role,
    UserStatus,
)


class Purpose(StrEnum):
    """Why records are read: record-level detail, or counts that only leave as aggregates."""

    RECORDS = "records"
    AGGREGATE = "aggregate"


PARTNERSHIP_ROLES = frozenset({Role.MEMBER, Role.CHAIR, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: everything the gate needs, detached from any database session."""

    user_id: int
    organisation_id: int
    role: str
    email: str = ""
    name: str = ""
    organisation_name: str = ""
    active: bool = True
    organisation_active: bool = True

    @classmethod
    def from_user(cls, user: User) -> Viewer:
        org = user.organisation
        return cls(
            user_id=user.id,
            organisation_id=user.organisation_id,
            role=user.role,
            email=user.email,
            name=user.name,
            organisation_name=org.name if org else "",
            active=user.status == UserStatus.ACTIVE,
            organisation_active=bool(org) and org.membership_status == MembershipStatus.ACTIVE,
        )

    @property
    def is_partner(self) -> bool:
        """An active user of an active member organisation in a role that sees records."""
        return self.active and self.organisation_active and self.role in PARTNERSHIP_ROLES

    @property
    def scope_key(self) -> str:
        """What a cached result may be shared across: the same user (RED lists name users)."""
        return f"u{self.user_id}:o{self.organisation_id}:{self.role}:{int(self.is_partner)}"


@dataclass(frozen=True)
class RecordFilters:
    """What the viewer asked for; the gate adds what the viewer may see."""

    start: date | None = None
    end: date | None = None  # inclusive
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    strands: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()
    markings: tuple[str, ...] = ()
    organisations: tuple[int, ...] = ()
    include_deleted: bool = False

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError("The start date must be on or before the end date.")
        unknown = set(self.markings) - {m.value for m in Marking}
        if unknown:
            raise ValueError(f"Unknown marking: {', '.join(sorted(unknown))}.")


def partnership_wide(filters: RecordFilters | None = None) -> tuple[Viewer, RecordFilters]:
    """A viewer and filters for figures every partner may see (TLP:GREEN and TLP:CLEAR records
    only): for what goes to many members at once, such as alerts. Use with Purpose.AGGREGATE."""
    shared = (Marking.GREEN.value, Marking.CLEAR.value)
    filters = filters or RecordFilters()
    markings = tuple(m for m in (filters.markings or shared) if m in shared)
    if not markings:
        raise ValueError("Only TLP:GREEN and TLP:CLEAR records count in partnership-wide figures.")
    viewer = Viewer(user_id=0, organisation_id=0, role=Role.MEMBER, name="Every partner")
    return viewer, replace(filters, markings=markings)


def national_viewer() -> Viewer:
    """The viewer national summaries are counted for: the national policy team's access, so
    only TLP:GREEN and TLP:CLEAR records count, and only as aggregates (Purpose.AGGREGATE).
    The same for whoever opens a summary, so every reader gets the same published figures."""
    return Viewer(user_id=0, organisation_id=0, role=Role.SCI, name="National summaries")


# The marked record types and their TLP:RED recipient and TLP:AMBER listed-organisation tables.
_MARKED = {
    Incident: (incident_recipients, incident_organisations),
    TensionAssessment: (assessment_recipients, assessment_organisations),
}
# Record types with no marking: partnership working records, never shown to SCI record by record.
# (Resources are not among them: see `_resource_condition`.)
_UNMARKED = (TriggerEvent, Meeting, Action)
# The date each record type is filtered by.
_DATE_COLUMN = {
    Incident: Incident.occurred_on,
    IncidentMonthlyCount: IncidentMonthlyCount.month,
    IncidentTrendCount: IncidentTrendCount.bucket,
    IncidentQuarterCount: IncidentQuarterCount.quarter,
    IncidentRegionTrendCount: IncidentRegionTrendCount.bucket,
    TensionAssessment: TensionAssessment.assessed_on,
    TriggerEvent: TriggerEvent.starts_on,
    Meeting: Meeting.held_on,
    Action: Action.due_on,
}


def _marking_condition(viewer: Viewer, model, purpose: Purpose) -> ColumnElement[bool]:
    """The TLP table of DOMAIN.md as a SQL condition on `model` for this viewer."""
    if not viewer.active:
        return false()
    if viewer.role == Role.SCI:
        # National policy team: GREEN and CLEAR only, and only ever as aggregates.
        if purpose is not Purpose.AGGREGATE:
            return false()
        return model.marking.in_([m.value for m in PUBLISHABLE_MARKINGS])
    if viewer.role not in PARTNERSHIP_ROLES:
        return false()
    if not viewer.organisation_active:
        # A user whose organisation is no longer a member keeps only what any account may see.
        return model.marking == Marking.CLEAR.value
    recipients, listed = _MARKED[model]
    named = model.id.in_(
        select(recipients.c.record_id).where(recipients.c.user_id == viewer.user_id)
    )
    listed_here = model.id.in_(
        select(listed.c.record_id).where(listed.c.organisation_id == viewer.organisation_id)
    )
    own_org = model.source_org_id == viewer.organisation_id
    return or_(
        model.marking.in_([Marking.CLEAR.value, Marking.GREEN.value]),
        and_(model.marking == Marking.AMBER.value, or_(own_org, listed_here)),
        and_(model.marking == Marking.AMBER_STRICT.value, own_org),
        and_(model.marking == Marking.RED.value, or_(model.reporter_id == viewer.user_id, named)),
    )


def visible_audiences(viewer: Viewer, purpose: Purpose) -> list[int]:
    """The incident audiences (reference.AUDIENCE_*) this viewer may count or see; the same
    rules as `_marking_condition`, for records whose marking is summed up in one number."""
    if not viewer.active:
        return []
    if viewer.role == Role.SCI:
        return [AUDIENCE_CLEAR, AUDIENCE_PARTNERS] if purpose is Purpose.AGGREGATE else []
    if viewer.role not in PARTNERSHIP_ROLES:
        return []
    if not viewer.organisation_active:
        return [AUDIENCE_CLEAR]
    return [AUDIENCE_CLEAR, AUDIENCE_PARTNERS, viewer.organisation_id, AUDIENCE_LISTED]


def _incident_condition(viewer: Viewer, purpose: Purpose) -> ColumnElement[bool]:
    """The TLP rules for incidents through their audience, so the database answers from the
    figures index; only AMBER and RED records (one shared audience) look at their lists."""
    audiences = visible_audiences(viewer, purpose)
    if not audiences:
        return false()
    condition = Incident.audience.in_(audiences)
    if AUDIENCE_LISTED in audiences:
        recipients, listed = _MARKED[Incident]
        amber = and_(
            Incident.marking == Marking.AMBER.value,
            or_(
                Incident.source_org_id == viewer.organisation_id,
                Incident.id.in_(
                    select(listed.c.record_id).where(listed.c.organisation_id == viewer.organisation_id)
                ),
            ),
        )
        red = and_(
            Incident.marking == Marking.RED.value,
            or_(
                Incident.reporter_id == viewer.user_id,
                Incident.id.in_(select(recipients.c.record_id).where(recipients.c.user_id == viewer.user_id)),
            ),
        )
        condition = and_(condition, or_(Incident.audience != AUDIENCE_LISTED, amber, red))
    return condition


_ROLLUPS = (IncidentMonthlyCount, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount)


def _rollup_condition(viewer: Viewer, model, purpose: Purpose) -> ColumnElement[bool]:
    """Incident counts (monthly, trend) hold no AMBER or RED records and are never records
    themselves: aggregates only, for the audiences the viewer may see."""
    if purpose is not Purpose.AGGREGATE:
        return false()
    audiences = [a for a in visible_audiences(viewer, purpose) if a != AUDIENCE_LISTED]
    return model.audience.in_(audiences) if audiences else false()


def _access_condition(viewer: Viewer, model, purpose: Purpose, include_deleted: bool) -> ColumnElement[bool]:
    if model is Incident and not include_deleted:
        return _incident_condition(viewer, purpose)
    if model in _ROLLUPS:
        return _rollup_condition(viewer, model, purpose)
    if model in _MARKED:
        return _marking_condition(viewer, model, purpose)
    if model in _UNMARKED:
        return true() if viewer.is_partner else false()
    if model is Resource:
        return _resource_condition(viewer)
    if model is Alert:
        return _alert_condition(viewer)
    return false()  # a record type the gate does not know is denied


def _resource_condition(viewer: Viewer) -> ColumnElement[bool]:
    """The good practice library's guides, fact sheets and publications are not records about
    people or incidents: every active account reads them, the national team included. The joint
    party statement (also a resource) carries the partnership's adoption records, so it stays
    with active partners, like the other unmarked working records."""
    if not viewer.active or viewer.role not in {r.value for r in Role}:
        return false()
    if viewer.is_partner:
        return true()
    return Resource.kind != ResourceKind.STATEMENT.value


def _alert_condition(viewer: Viewer) -> ColumnElement[bool]:
    """An alert is seen only by the partners it was sent to, and a tension alert only while
    they may still see the assessment it is about."""
    if not viewer.is_partner:
        return false()
    sent_to_viewer = Alert.id.in_(
        select(AlertRecipient.alert_id).where(AlertRecipient.user_id == viewer.user_id)
    )
    assessment_visible = or_(
        Alert.assessment_id.is_(None),
        Alert.assessment_id.in_(
            select(TensionAssessment.id).where(
                _marking_condition(viewer, TensionAssessment, Purpose.RECORDS),
                TensionAssessment.deleted_at.is_(None),
            )
        ),
    )
    return and_(sent_to_viewer, assessment_visible)


def _check_rollup_filters(model, filters: RecordFilters) -> None:
    """A count table cannot answer a filter on something it does not hold: refuse, rather than
    give a figure that silently ignores the filter."""
    held = {
        IncidentMonthlyCount: {"areas"},
        IncidentTrendCount: {"areas", "categories", "strands"},
        IncidentQuarterCount: {"areas", "categories", "strands"},
        IncidentRegionTrendCount: {"categories", "strands"},
    }.get(model)
    if held is None:
        return
    asked = {name for name in ("areas", "categories", "strands", "verification", "organisations", "include_deleted")
             if getattr(filters, name)}
    if asked - held:
        raise ValueError(f"{model.__tablename__} cannot be filtered by {', '.join(sorted(asked - held))}.")
    if model is IncidentQuarterCount and not (
        (filters.start is None or (filters.start.day == 1 and filters.start.month % 3 == 1))
        and (filters.end is None or (filters.end + timedelta(days=1)).day == 1 and filters.end.month % 3 == 0)
    ):
        raise ValueError("incident_quarter_counts can only be read for whole quarters.")


def _filter_conditions(model, filters: RecordFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    day = _DATE_COLUMN.get(model)
    if day is not None and filters.start:
        conditions.append(day >= filters.start)
    if day is not None and filters.end:
        conditions.append(day <= filters.end)
    if filters.areas and hasattr(model, "area_code"):
        conditions.append(model.area_code.in_(filters.areas))
    if filters.markings and hasattr(model, "marking"):
        conditions.append(model.marking.in_(filters.markings))
    if filters.markings and model in _ROLLUPS:
        audiences = {Marking.CLEAR.value: AUDIENCE_CLEAR, Marking.GREEN.value: AUDIENCE_PARTNERS}
        wanted = [audiences[m] for m in filters.markings if m in audiences]
        strict = Marking.AMBER_STRICT.value in filters.markings
        conditions.append(or_(model.audience.in_(wanted), model.audience > 0 if strict else false()))
    if filters.organisations and hasattr(model, "source_org_id"):
        conditions.append(model.source_org_id.in_(filters.organisations))
    if filters.categories and model in (Incident, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount):
        conditions.append(model.category_code.in_(filters.categories))
    if filters.strands and model in (Incident, IncidentTrendCount, IncidentRegionTrendCount, IncidentQuarterCount):
        wanted = (
            select(func.coalesce(func.sum(literal(1).op("<<")(Strand.bit)), 0))
            .where(Strand.code.in_(filters.strands))
            .scalar_subquery()
        )
        conditions.append(model.strand_mask.op("&")(wanted) != 0)
    if filters.verification and model is Incident:
        conditions.append(Incident.verification.in_(filters.verification))
    return conditions


def visible(
    viewer: Viewer,
    model=Incident,
    filters: RecordFilters | None = None,
    purpose: Purpose = Purpose.RECORDS,
) -> Select:
    """`SELECT model WHERE <viewer may see it> AND <filters>`: the only way to read records.

    For aggregates, keep the WHERE clause and change the columns, e.g.
    `visible(v, Incident, f, Purpose.AGGREGATE).with_only_columns(Incident.area_code, func.count())`.
    """
    filters = filters or RecordFilters()
    _check_rollup_filters(model, filters)
    include_deleted = filters.include_deleted and viewer.role == Role.ADMIN
    conditions = [_access_condition(viewer, model, purpose, include_deleted)]
    # (an incident's audience already leaves deleted records out)
    if hasattr(model, "deleted_at") and not include_deleted and model is not Incident:
        conditions.append(model.deleted_at.is_(None))
    conditions.extend(_filter_conditions(model, filters))
    return select(model).where(and_(*conditions))


def get_visible(session: Session, viewer: Viewer, model, record_id: int):
    """One record by id if the viewer may see it, else None (never says whether it exists)."""
    return session.scalar(visible(viewer, model).where(model.id == record_id))


def highest_marking(markings: Iterable[str]) -> Marking | None:
    """The most restrictive marking among those given (for banners and export names)."""
    return Marking.most_restrictive({m for m in markings if m})
