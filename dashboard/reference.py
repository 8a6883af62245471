"""The partnership's fixed vocabularies: markings, roles, tension levels and defaults (DOMAIN.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Marking(StrEnum):
    """FIRST TLP 2.0 handling markings, most restrictive first."""

    RED = "TLP:RED"
    AMBER_STRICT = "TLP:AMBER+STRICT"
    AMBER = "TLP:AMBER"
    GREEN = "TLP:GREEN"
    CLEAR = "TLP:CLEAR"

    @property
    def rank(self) -> int:
        """0 for the most restrictive (RED) up to 4 for CLEAR."""
        return list(Marking).index(self)

    @classmethod
    def most_restrictive(cls, markings: list[str] | set[str]) -> Marking | None:
        present = [cls(m) for m in markings]
        return min(present, key=lambda m: m.rank) if present else None


MARKING_DESCRIPTIONS = {
    Marking.RED: "Named recipients and the reporter only",
    Marking.AMBER_STRICT: "The originating organisation only",
    Marking.AMBER: "The originating organisation and organisations listed on the record",
    Marking.GREEN: "Every member of the partnership",
    Marking.CLEAR: "Anyone with an account; may be published after disclosure control",
}

# An incident's audience (models.Incident.audience): who may see it, as one number. A positive
# number is the originating organisation's id (TLP:AMBER+STRICT).
AUDIENCE_CLEAR = -1  # TLP:CLEAR: anyone with an account
AUDIENCE_PARTNERS = 0  # TLP:GREEN: every member of the partnership
AUDIENCE_LISTED = -2  # TLP:AMBER and TLP:RED: decided by the lists on the record
AUDIENCE_DELETED = -9  # soft-deleted: nobody, in any figure

# Only these ever enter national (SCI) summaries or anything published.
PUBLISHABLE_MARKINGS = (Marking.GREEN, Marking.CLEAR)


class Role(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    SCI = "sci"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.MEMBER: "Member",
    Role.CHAIR: "Chair",
    Role.SCI: "National policy (SCI)",
    Role.ADMIN: "Administrator",
}


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Sector(StrEnum):
    STATUTORY = "statutory"
    VOLUNTARY = "voluntary and community"
    FAITH = "faith"
    TRADE_UNION = "trade union"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


class DatePrecision(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def precise_day(day: date, precision: str) -> date:
    """The date an incident is stored under: the day itself, or for a date known only to its
    week or month, that week's Monday or that month's first day (so that every partner's report
    of the same week reads the same, and the register can say "week of …")."""
    if precision == DatePrecision.WEEK:
        return day - timedelta(days=day.weekday())
    if precision == DatePrecision.MONTH:
        return day.replace(day=1)
    return day


class LocationPrecision(StrEnum):
    EXACT = "exact"
    APPROXIMATE = "approximate"
    AREA = "area"


class Verification(StrEnum):
    REPORTED = "reported"
    CORROBORATED = "corroborated"
    CONFIRMED = "confirmed"


SEVERITY_LABELS = {1: "Low", 2: "Moderate", 3: "Serious", 4: "Critical"}


class Trend(StrEnum):
    RISING = "rising"
    STABLE = "stable"
    FALLING = "falling"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EvidenceType(StrEnum):
    EVIDENCED = "evidenced"
    EXPERIENCED = "experienced"
    POTENTIAL = "potential"


@dataclass(frozen=True)
class TensionLevel:
    level: int
    label: str
    colour: str  # always shown with the label and number, never alone
    text_colour: str


TENSION_LEVELS = {
    # An ordered (sequential, colour-blind-safe) scale: light for low, dark for critical.
    1: TensionLevel(1, "Low", "#FFFFB2", "#000000"),
    2: TensionLevel(2, "Moderate", "#FECC5C", "#000000"),
    3: TensionLevel(3, "Elevated", "#FD8D3C", "#000000"),
    4: TensionLevel(4, "High", "#E31A1C", "#FFFFFF"),
    5: TensionLevel(5, "Critical", "#800026", "#FFFFFF"),
}


class TriggerKind(StrEnum):
    ELECTION = "election"
    RALLY = "rally or march"
    TRIAL = "trial or sentencing"
    ANNIVERSARY = "anniversary"
    NATIONAL_INCIDENT = "national incident"
    OTHER = "other"


class MeetingKind(StrEnum):
    QUARTERLY = "quarterly"
    EXTRAORDINARY = "extraordinary"
    COMMUNITY_BRIEFING = "community briefing"


class ActionStatus(StrEnum):
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    DONE = "done"
    BLOCKED = "blocked"
    DROPPED = "dropped"


class ResourceKind(StrEnum):
    GOOD_PRACTICE = "good practice"
    FACT_SHEET = "myth-rebuttal fact sheet"
    PUBLICATION = "publication"
    STATEMENT = "joint party statement"


# Defaults loaded by init-db; admins may edit them later.
DEFAULT_CATEGORIES = [
    ("literature", "Literature and leaflets"),
    ("stickers", "Stickers and graffiti"),
    ("demonstration", "Demonstration, rally or march"),
    ("public-meeting", "Public meeting or event"),
    ("online", "Online activity and misinformation"),
    ("election", "Election campaigning"),
    ("recruitment", "Recruitment"),
    ("hc-violence", "Hate crime - violence"),
    ("hc-damage", "Hate crime - damage and desecration"),
    ("hc-threats", "Hate crime - threats"),
    ("hc-abuse", "Hate crime - abusive behaviour"),
    ("other", "Other"),
]

DEFAULT_STRANDS = [
    ("race", "Race (incl. colour, nationality, ethnic or national origin)", False),
    ("religion", "Religion (incl. no faith)", False),
    ("sexual-orientation", "Sexual orientation", False),
    ("disability", "Disability", False),
    ("transgender", "Transgender identity", False),
    ("subculture", "Alternative subculture (local strand)", True),
    ("sex-gender", "Sex or gender (local strand)", True),
]

HATE_CRIME_CAVEAT = (
    "Police-recorded hate crime reflects recording practice as well as prevalence, "
    "so rises are not simply rises in offending."
)

MAP_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2024."
)


# Map cells: where an incident may be drawn (models.Incident.map_cell). Exact locations are
# pooled into cells of 0.01 degrees (about 1 km), approximate ones into cells of 0.1 degrees
# (about 10 km), so an approximate record is never drawn at a precise point; records located
# to their area only have no cell and are never drawn.
EXACT_CELL_DEGREES = 0.01
APPROXIMATE_CELL_DEGREES = 0.1
APPROXIMATE_CELL_OFFSET = 800_000_000


def map_cell(latitude: float | None, longitude: float | None, precision: str) -> int | None:
    if latitude is None or longitude is None:
        return None
    if precision == LocationPrecision.EXACT:
        return math.floor((latitude + 90) * 100) * 40_000 + math.floor((longitude + 180) * 100)
    if precision == LocationPrecision.APPROXIMATE:
        return APPROXIMATE_CELL_OFFSET + math.floor((latitude + 90) * 10) * 4_000 + math.floor((longitude + 180) * 10)
    return None


def cell_centre(cell: int) -> tuple[float, float, bool]:
    """(latitude, longitude, approximate) of the centre of a map cell."""
    if cell >= APPROXIMATE_CELL_OFFSET:
        y, x = divmod(cell - APPROXIMATE_CELL_OFFSET, 4_000)
        size, approximate = APPROXIMATE_CELL_DEGREES, True
    else:
        y, x = divmod(cell, 40_000)
        size, approximate = EXACT_CELL_DEGREES, False
    return round((y + 0.5) * size - 90, 4), round((x + 0.5) * size - 180, 4), approximate


# An election's run-up: the six weeks before polling day, when leaflets, canvassing and tension
# rise (DOMAIN.md). The trigger calendar lists it and the trend charts shade it.
ELECTION_RUN_UP_DAYS = 42
