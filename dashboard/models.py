"""The shared database (DOMAIN.md "Records"), as SQLAlchemy 2 typed models.

Conventions: times are stored in UTC; records that people edit carry a `version` used for
optimistic locking and a `deleted_at` for soft delete; marked records carry their TLP marking,
originating organisation, reporter, named recipients (TLP:RED) and listed organisations
(TLP:AMBER) so that the access gate can express every rule as a query condition.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .reference import (
    AUDIENCE_CLEAR,
    AUDIENCE_DELETED,
    AUDIENCE_LISTED,
    AUDIENCE_PARTNERS,
    ActionStatus,
    Confidence,
    DatePrecision,
    EvidenceType,
    LocationPrecision,
    Marking,
    MeetingKind,
    MembershipStatus,
    ResourceKind,
    Role,
    Sector,
    Trend,
    TriggerKind,
    UserStatus,
    Verification,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def _one_of(column: str, values) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


# --- reference data -------------------------------------------------------------------------


class Area(Base):
    """A local authority district, keyed by its GSS code."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    district_type: Mapped[str] = mapped_column(String(60))
    county: Mapped[str | None] = mapped_column(String(120))
    county_code: Mapped[str | None] = mapped_column(String(9))
    region: Mapped[str] = mapped_column(String(60))
    region_code: Mapped[str] = mapped_column(String(9), index=True)
    police_force: Mapped[str] = mapped_column(String(120))
    pfa_code: Mapped[str] = mapped_column(String(9), index=True)
    combined_authority: Mapped[str | None] = mapped_column(String(120))
    population: Mapped[int] = mapped_column(Integer)


class AreaSuccession(Base):
    """Old district codes and the current district that replaced them (imports map through it)."""

    __tablename__ = "area_successions"

    old_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    old_name: Mapped[str] = mapped_column(String(120))
    new_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    ended_on: Mapped[date] = mapped_column(Date)


class IncidentCategory(Base):
    __tablename__ = "incident_categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Strand(Base):
    """A monitored hate-crime strand; forces may add local ones."""

    __tablename__ = "strands"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # This strand's bit in Incident.strand_mask (0 to 30).
    bit: Mapped[int] = mapped_column(SmallInteger, unique=True)


class AppSetting(Base):
    """Small key/value facts about this installation (for example that it holds demo data)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- people -----------------------------------------------------------------------------------


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        _one_of("sector", list(Sector)),
        _one_of("membership_status", list(MembershipStatus)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(40), default=Sector.STATUTORY)
    membership_status: Mapped[str] = mapped_column(String(20), default=MembershipStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    # The districts the organisation works in: its members get the alerts for them.
    covered_areas: Mapped[list[Area]] = relationship(secondary="organisation_areas")


organisation_areas = Table(
    "organisation_areas",
    Base.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("areas.code"), primary_key=True, index=True),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_one_of("role", list(Role)), _one_of("status", list(UserStatus)))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10), default=Role.MEMBER)
    status: Mapped[str] = mapped_column(String(10), default=UserStatus.ACTIVE)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # When the person set their password from their invitation; None while the invitation is
    # open (an account that was never activated cannot sign in, whatever its status). An invitation
    # sets it to None explicitly; accounts made any other way are active from their creation.
    activated_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # The TOTP second factor (dashboard/two_factor.py): the shared secret, encrypted with a key
    # derived from the app's secret key; when it was confirmed (None: not enrolled); and the
    # last 30-second step accepted, so that a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")


class UserInvitation(Base):
    """A one-time activation link sent to a new user: only a SHA-256 hash of its token is kept.
    It works once (used_at), until expires_at, unless an admin revokes it or sends a new one."""

    __tablename__ = "user_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecoveryCode(Base):
    """One single-use recovery code for the second factor; only a SHA-256 hash is kept (the
    codes are random, 80 bits each, shown once at enrolment)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class UserSession(Base):
    """A server-side sign-in session; the browser holds only a random token for it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class LoginThrottle(Base):
    """Failed sign-in count and lock per e-mail address (known or not, so answers never differ)."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    lock_count: Mapped[int] = mapped_column(Integer, default=0)


# --- marked records -------------------------------------------------------------------------


# The access gate asks "which records name this user / list this organisation?": the indexes
# answer it alone (user or organisation, then record), without reading the table.
def _recipients_table(name: str, record_table: str) -> Table:
    return Table(
        name,
        Base.metadata,
        Column("record_id", ForeignKey(f"{record_table}.id", ondelete="CASCADE"), primary_key=True),
        Column("user_id", ForeignKey("users.id"), primary_key=True),
        Index(f"ix_{name}_user_record", "user_id", "record_id"),
    )


def _listed_orgs_table(name: str, record_table: str) -> Table:
    return Table(
        name,
        Base.metadata,
        Column("record_id", ForeignKey(f"{record_table}.id", ondelete="CASCADE"), primary_key=True),
        Column("organisation_id", ForeignKey("organisations.id"), primary_key=True),
        Index(f"ix_{name}_organisation_record", "organisation_id", "record_id"),
    )


incident_strands = Table(
    "incident_strands",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("strand_code", ForeignKey("strands.code"), primary_key=True),
    Index("ix_incident_strands_strand_incident", "strand_code", "incident_id"),
)
incident_recipients = _recipients_table("incident_recipients", "incidents")
incident_organisations = _listed_orgs_table("incident_organisations", "incidents")
incident_triggers = Table(
    "incident_triggers",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("trigger_event_id", ForeignKey("trigger_events.id", ondelete="CASCADE"), primary_key=True),
)
assessment_recipients = _recipients_table("tension_assessment_recipients", "tension_assessments")
assessment_organisations = _listed_orgs_table(
    "tension_assessment_organisations", "tension_assessments"
)


class Actor(Base):
    """An organised group or network (the demo uses fictional names only)."""

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="group")
    notes: Mapped[str | None] = mapped_column(Text)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        _one_of("marking", list(Marking)),
        _one_of("date_precision", list(DatePrecision)),
        _one_of("location_precision", list(LocationPrecision)),
        _one_of("verification", list(Verification)),
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        # The figures: who may see it (audience), then the date, then every column the filters
        # and groupings use (and the id, for the AMBER and RED lists), so that counting reads
        # this index alone, never the table.
        Index(
            "ix_incidents_audience_figures",
            "audience", "occurred_on", "area_code", "category_code", "verification",
            "source_org_id", "marking", "reporter_id", "strand_mask", "map_cell", "id",
        ),
        # One district's records, newest first (the drill-down), and its figures from this
        # index alone.
        Index(
            "ix_incidents_area_occurred",
            "area_code", "occurred_on", "audience", "category_code", "verification",
            "source_org_id", "marking", "reporter_id", "strand_mask", "id",
        ),
        # The register, newest first (its default order), a page at a time.
        Index("ix_incidents_occurred_id", "occurred_on", "id"),
        Index("ix_incidents_source_org", "source_org_id"),
        Index("ix_incidents_reporter", "reporter_id"),
        # foreign keys that deletes look up
        Index("ix_incidents_corroborates", "corroborates_id"),
        Index("ix_incidents_deleted_by", "deleted_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"))
    occurred_on: Mapped[date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8), default=DatePrecision.DAY)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[str] = mapped_column(String(12), default=LocationPrecision.AREA)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verification: Mapped[str] = mapped_column(String(14), default=Verification.REPORTED)
    corroborated_by: Mapped[int] = mapped_column(SmallInteger, default=0)
    corroborates_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    severity: Mapped[int] = mapped_column(SmallInteger, default=1)
    marking: Mapped[str] = mapped_column(String(16), default=Marking.GREEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Retention (dashboard/retention.py): personal fields come up for review once the record is
    # older than the retention period, or on retain_until when a review kept them; redacted_at
    # is when they were removed (the figures are kept). Who did either is in the record's
    # history and the audit log.
    retain_until: Mapped[date | None] = mapped_column(Date)
    redacted_at: Mapped[datetime | None]
    # The record's strands (incident_strands) as bits (Strand.bit), so that the figures can
    # filter by strand from their index; kept in step on every flush (rollups.py).
    strand_mask: Mapped[int] = mapped_column(Integer, default=0)
    # Where the map may draw it (reference.map_cell): kept in step with the location on flush.
    map_cell: Mapped[int | None] = mapped_column(Integer)
    # Who may see the record, as one small number the database keeps in step with the marking,
    # originating organisation and deletion (see reference.AUDIENCE_*): the access gate counts
    # by it without reading the table. AMBER and RED need their lists, so share one value.
    audience: Mapped[int] = mapped_column(
        Integer,
        Computed(
            f"CASE WHEN deleted_at IS NOT NULL THEN {AUDIENCE_DELETED} "
            f"WHEN marking = '{Marking.CLEAR.value}' THEN {AUDIENCE_CLEAR} "
            f"WHEN marking = '{Marking.GREEN.value}' THEN {AUDIENCE_PARTNERS} "
            f"WHEN marking = '{Marking.AMBER_STRICT.value}' THEN source_org_id "
            f"ELSE {AUDIENCE_LISTED} END",
            persisted=True,
        ),
    )

    __mapper_args__ = {"version_id_col": version}

    category: Mapped[IncidentCategory] = relationship()
    area: Mapped[Area] = relationship()
    actor: Mapped[Actor | None] = relationship()
    source_org: Mapped[Organisation] = relationship(foreign_keys=[source_org_id])
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    strands: Mapped[list[Strand]] = relationship(secondary=incident_strands)
    recipients: Mapped[list[User]] = relationship(secondary=incident_recipients)
    listed_organisations: Mapped[list[Organisation]] = relationship(
        secondary=incident_organisations
    )
    trigger_events: Mapped[list[TriggerEvent]] = relationship(secondary=incident_triggers)


class IncidentMonthlyCount(Base):
    """Incidents per month, district and audience: a summary the figures read for whole months.

    Kept in step with the incidents by `rollups.refresh_months` (called on every flush that
    touches incidents, and after bulk loads). AMBER and RED records are not in it: who may see
    them depends on their lists, so the figures count those from the incidents themselves.
    """

    __tablename__ = "incident_monthly_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    audience: Mapped[int] = mapped_column(Integer, primary_key=True)
    incidents: Mapped[int] = mapped_column(Integer)


class IncidentTrendCount(Base):
    """Incidents per stretch of days, district, audience, category and strands: what the trend
    charts read.

    A stretch (`bucket`) is a Monday-to-Sunday week cut at month ends, so whole weeks and whole
    months are both sums of stretches; `bucket` is its first day. Kept in step like
    `IncidentMonthlyCount` (by `rollups.refresh_months`); AMBER and RED records are not in it.
    """

    __tablename__ = "incident_trend_counts"
    # The trends read a date range for some audiences, grouped by stretch and one of category,
    # district or strands: one index for each, in that order, so that the database answers from
    # the index alone and adds up rows as they come (grouping otherwise costs 5 times as much).
    __table_args__ = (
        Index(
            "ix_incident_trend_counts_by_category",
            "bucket", "category_code", "audience", "area_code", "strand_mask", "incidents",
        ),
        Index(
            "ix_incident_trend_counts_by_area",
            "bucket", "area_code", "audience", "category_code", "strand_mask", "incidents",
        ),
        Index(
            "ix_incident_trend_counts_by_strands",
            "bucket", "strand_mask", "audience", "area_code", "category_code", "incidents",
        ),
    )

    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    audience: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"), primary_key=True)
    strand_mask: Mapped[int] = mapped_column(Integer, primary_key=True)
    incidents: Mapped[int] = mapped_column(Integer)


class IncidentRegionTrendCount(Base):
    """`IncidentTrendCount` added up over the districts: what region-wide trends read (a fiftieth
    of the rows). Recounted with it, from it, by `rollups.refresh_trend_counts`."""

    __tablename__ = "incident_region_trend_counts"

    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    audience: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"), primary_key=True)
    strand_mask: Mapped[int] = mapped_column(Integer, primary_key=True)
    incidents: Mapped[int] = mapped_column(Integer)


class IncidentQuarterCount(Base):
    """`IncidentTrendCount` added up by calendar quarter (`quarter`: its first day): what the
    national summaries read, a quarter of the rows over five years. Recounted with it, from it,
    by `rollups.refresh_trend_counts`; imports add to it like the other count tables."""

    __tablename__ = "incident_quarter_counts"
    # Summaries read a range of quarters for some audiences, grouped by quarter, district and
    # category (or strands): the index holds every column, so they are answered from it alone.
    __table_args__ = (
        Index(
            "ix_incident_quarter_counts_figures",
            "quarter", "area_code", "audience", "category_code", "strand_mask", "incidents",
        ),
    )

    quarter: Mapped[date] = mapped_column(Date, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    audience: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"), primary_key=True)
    strand_mask: Mapped[int] = mapped_column(Integer, primary_key=True)
    incidents: Mapped[int] = mapped_column(Integer)


class TensionAssessment(Base):
    __tablename__ = "tension_assessments"
    __table_args__ = (
        _one_of("marking", list(Marking)),
        _one_of("trend", list(Trend)),
        _one_of("confidence", list(Confidence)),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        Index("ix_tension_assessments_area_assessed", "area_code", "assessed_on"),
        Index("ix_tension_assessments_assessed_id", "assessed_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    assessed_on: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(SmallInteger)
    trend: Mapped[str] = mapped_column(String(8), default=Trend.STABLE)
    confidence: Mapped[str] = mapped_column(String(8), default=Confidence.MEDIUM)
    rationale: Mapped[str] = mapped_column(Text, default="")
    source_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    review_on: Mapped[date | None] = mapped_column(Date)
    marking: Mapped[str] = mapped_column(String(16), default=Marking.GREEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Retention, as for incidents (dashboard/retention.py).
    retain_until: Mapped[date | None] = mapped_column(Date)
    redacted_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}

    area: Mapped[Area] = relationship()
    source_org: Mapped[Organisation] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    indicators: Mapped[list[TensionIndicator]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    recipients: Mapped[list[User]] = relationship(secondary=assessment_recipients)
    listed_organisations: Mapped[list[Organisation]] = relationship(
        secondary=assessment_organisations
    )


class TensionIndicator(Base):
    """One piece of evidence behind an assessment, with its evidence type."""

    __tablename__ = "tension_indicators"
    __table_args__ = (_one_of("evidence_type", list(EvidenceType)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("tension_assessments.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    evidence_type: Mapped[str] = mapped_column(String(12))

    assessment: Mapped[TensionAssessment] = relationship(back_populates="indicators")


# --- calendar, meetings, actions, resources ---------------------------------------------------

trigger_event_areas = Table(
    "trigger_event_areas",
    Base.metadata,
    Column("trigger_event_id", ForeignKey("trigger_events.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("areas.code"), primary_key=True, index=True),
)


class TriggerEvent(Base):
    __tablename__ = "trigger_events"
    __table_args__ = (
        _one_of("kind", list(TriggerKind)),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)
    region_wide: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    areas: Mapped[list[Area]] = relationship(secondary=trigger_event_areas)


meeting_attendance = Table(
    "meeting_attendance",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True),
)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (_one_of("kind", list(MeetingKind)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(24), default=MeetingKind.QUARTERLY)
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    attendees: Mapped[list[Organisation]] = relationship(secondary=meeting_attendance)
    actions: Mapped[list[Action]] = relationship(back_populates="meeting")


action_incidents = Table(
    "action_incidents",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("incident_id", ForeignKey("incidents.id"), primary_key=True, index=True),
)
action_areas = Table(
    "action_areas",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("areas.code"), primary_key=True, index=True),
)
action_triggers = Table(
    "action_triggers",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("trigger_event_id", ForeignKey("trigger_events.id"), primary_key=True),
)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        _one_of("status", list(ActionStatus)),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        Index("ix_actions_owner_status", "owner_org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    lead: Mapped[str] = mapped_column(String(160), default="")
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=ActionStatus.NOT_STARTED)
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    owner_org: Mapped[Organisation] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", order_by="ActionUpdate.at", cascade="all, delete-orphan"
    )
    incidents: Mapped[list[Incident]] = relationship(secondary=action_incidents)
    areas: Mapped[list[Area]] = relationship(secondary=action_areas)
    trigger_events: Mapped[list[TriggerEvent]] = relationship(secondary=action_triggers)


class ActionUpdate(Base):
    """One entry in an action's history: who changed its status or progress, when, and why."""

    __tablename__ = "action_updates"
    __table_args__ = (_one_of("status", list(ActionStatus)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12))
    progress: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Action] = relationship(back_populates="updates")
    user: Mapped[User] = relationship()


resource_areas = Table(
    "resource_areas",
    Base.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("areas.code"), primary_key=True),
)


class Resource(Base):
    """Good practice, myth-rebuttal fact sheets, publications and the joint party statement."""

    __tablename__ = "resources"
    __table_args__ = (_one_of("kind", list(ResourceKind)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(80), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    areas: Mapped[list[Area]] = relationship(secondary=resource_areas)
    adoptions: Mapped[list[StatementAdoption]] = relationship(back_populates="statement")


class StatementAdoption(Base):
    """An area's adoption of the joint party statement."""

    __tablename__ = "statement_adoptions"
    __table_args__ = (UniqueConstraint("statement_id", "area_code", name="one_per_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    adopted_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    statement: Mapped[Resource] = relationship(back_populates="adoptions")
    area: Mapped[Area] = relationship()


# --- alerts -----------------------------------------------------------------------------------


class Alert(Base):
    """An early warning: a surge in incidents or a district's tension level at 4 or 5.

    `key` makes each warning once (for example one surge alert per district, category and week);
    `summary` is what an e-mail may carry, so it never holds record details above TLP:GREEN
    (`marking` is the most restrictive marking of what the alert is about).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        _one_of("kind", ["surge", "tension"]),
        _one_of("marking", list(Marking)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("incident_categories.code"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    marking: Mapped[str] = mapped_column(String(16), default=Marking.GREEN)
    # Where the evidence is: a path and query string inside the dashboard.
    link: Mapped[str] = mapped_column(String(500), default="/")
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    observed: Mapped[int | None] = mapped_column(Integer)
    expected: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("tension_assessments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    area: Mapped[Area] = relationship()
    recipients: Mapped[list[AlertRecipient]] = relationship(
        back_populates="alert", cascade="all, delete-orphan"
    )


class AlertRecipient(Base):
    """One member's copy of an alert: whether they have acknowledged it, and its e-mail."""

    __tablename__ = "alert_recipients"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    acknowledged_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(String(300))

    alert: Mapped[Alert] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship()


# --- record history ---------------------------------------------------------------------------


class RecordChange(Base):
    """One entry in a record's history, shown on the record: who changed it, when, and what.

    `changes` lists what changed as `{"field": label, "before": text, "after": text}`, the values
    as people read them on screen; it is read only by those who may see the record itself.
    """

    __tablename__ = "record_changes"
    __table_args__ = (
        _one_of("action", ["created", "imported", "updated", "deleted", "restored", "corroborated"]),
        Index("ix_record_changes_record", "record_type", "record_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(24))  # "incident" or "tension_assessment"
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # the record's version after the change
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[list | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship()


# --- the read-only API ----------------------------------------------------------------------------


class ApiToken(Base):
    """A per-user token for the read-only API, issued and revoked by an admin.

    Only a SHA-256 hash of the token is kept (the token is 256 random bits, shown once when it is
    issued); `prefix` is its first characters, so that people can tell their tokens apart.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


# --- audit --------------------------------------------------------------------------------------


class AuditEvent(Base):
    """Append-only (the migration adds database triggers that refuse UPDATE and DELETE), and
    tamper-evident: each entry carries the SHA-256 of its contents and of the entry before it
    (prev_hash; 64 zeros for the first), so a changed, removed or inserted entry breaks the
    chain (dashboard.audit.verify). Ids and hashes are given when the entry is flushed."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(60))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @classmethod
    def __declare_last__(cls) -> None:
        # Every new entry, however it is added, is chained when its session flushes.
        from .audit import install_chaining

        install_chaining()
