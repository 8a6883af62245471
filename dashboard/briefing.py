"""The chair's briefing pack: what has happened since the last meeting, for the next one.

One build gathers, for the signed-in chair and as of `today`, the same figures the dashboard
shows for the period since the last meeting (`since_meeting.since_last_meeting`, the overview's
tension levels and headline), the tension map, upcoming triggers and the actions digest, into a
`BriefingPack`; `render_html` makes it a self-contained printable page and `render_pdf` a PDF.

Everything is read through the access gate for the chair, so the pack counts only what the chair
may see. It carries the most restrictive marking of the incidents and tension assessments its
figures count, printed as text at the top and bottom of every page, and lists the organisations
whose records those are. Each build is audited (`record_build`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import actions as actions_domain
from . import audit
from . import meetings as meetings_domain
from .access import Purpose, RecordFilters, Viewer, highest_marking, visible
from .calendar import CalendarEvent
from .documents import laid_out, template_environment
from .exports import file_safe_marking
from .models import AppSetting, Area, Incident, Organisation, TensionAssessment
from .overview import (
    Headline,
    latest_assessments,
    latest_tension_by_district,
    overdue_actions_count,
)
from .reference import (
    HATE_CRIME_CAVEAT,
    MAP_ATTRIBUTION,
    MARKING_DESCRIPTIONS,
    TENSION_LEVELS,
    Marking,
    Role,
)
from .since_meeting import FALLBACK_DAYS, SinceMeeting, since_last_meeting
from .static_map import summary as map_summary
from .static_map import tension_map_svg
from .surges import RULE_TEXT, Band

# Without a next meeting on record, actions falling due in the next quarter are listed.
DEFAULT_HORIZON_DAYS = 91
MAP_LEVEL_FROM = 3  # the table beside the map lists districts at this level or higher
AUDIT_ACTION = "briefing-built"
WARNING_ROWS = 25
UPCOMING_WEEKS = 12  # calendar.upcoming's default, as on the since-last-meeting page
# FIRST TLP 2.0's colours for the label, printed on black.
TLP_COLOURS = {
    Marking.RED: "#FF2B2B",
    Marking.AMBER_STRICT: "#FFC000",
    Marking.AMBER: "#FFC000",
    Marking.GREEN: "#33FF00",
    Marking.CLEAR: "#FFFFFF",
}
FLAG_ROWS = 15

# What each marking asks of a reader of the pack (FIRST TLP 2.0, in the partnership's words).
HANDLING = {
    Marking.RED: "For the named recipients of its records only. Do not share it or its contents.",
    Marking.AMBER_STRICT: "Limited disclosure: within the originating organisation only.",
    Marking.AMBER: (
        "Limited disclosure: within the originating organisations and the organisations listed on "
        "its records, on a need-to-know basis."
    ),
    Marking.GREEN: "Within the partnership only: not for publication.",
    Marking.CLEAR: "No restriction within the partnership; publish only after disclosure control.",
}


class BriefingPermissionError(Exception):
    """Only the chair builds the briefing pack."""

    def __init__(self) -> None:
        super().__init__("Only the chair can build the briefing pack.")


@dataclass(frozen=True)
class OrganisationShare:
    """One organisation whose records the pack counts."""

    name: str
    incidents: int
    assessments: int


@dataclass(frozen=True)
class LevelRow:
    code: str
    name: str
    level: int
    label: str
    assessed_on: date


@dataclass(frozen=True)
class PackOutline:
    """What the pack will cover, for the page that offers it (cheap: no figures)."""

    period_start: date
    period_end: date
    last_meeting_on: date | None
    last_meeting_title: str
    next_meeting_on: date | None
    next_meeting_title: str
    next_meeting_kind: str

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def for_meeting(self) -> str:
        """"Quarterly meeting, March 2027 on 10 March 2027" or the fallback wording."""
        if self.next_meeting_on is None:
            return "the next meeting (date not yet recorded)"
        return f"{self.next_meeting_title} on {day_text(self.next_meeting_on)}"


@dataclass(frozen=True)
class BriefingPack:
    """Everything the printed pack shows, counted for the chair who built it."""

    built_at: datetime  # UTC
    built_by: str  # "Chris Chair (Test Refugee Charity)"
    built_by_user_id: int
    outline: PackOutline
    marking: Marking | None  # the most restrictive marking counted; None: no records
    organisations: tuple[OrganisationShare, ...]
    incidents_counted: int
    assessments_counted: int
    records_from: date  # the earliest incident date any figure counts
    headline: Headline
    since: SinceMeeting
    levels: dict[str, tuple[int, date]]  # district -> latest level as of today, and its date
    levels_at_or_above: tuple[LevelRow, ...]
    map_svg: str
    map_summary: str
    actions: actions_domain.ActionsDigest
    actions_horizon: date
    demo: bool

    @property
    def period_start(self) -> date:
        return self.outline.period_start

    @property
    def period_end(self) -> date:
        return self.outline.period_end

    @property
    def banner_marking(self) -> str:
        return (self.marking or Marking.CLEAR).value

    @property
    def handling(self) -> str:
        """The line printed with the marking at the top and bottom of every page."""
        if self.marking is None:
            return "Contains no records. " + HANDLING[Marking.CLEAR]
        return HANDLING[self.marking]

    @property
    def pdf_filename(self) -> str:
        return f"briefing-pack-{file_safe_marking(self.banner_marking)}-{self.period_end.isoformat()}.pdf"

    @property
    def organisation_names(self) -> list[str]:
        return [o.name for o in self.organisations]

    @property
    def surge_areas(self) -> int:
        return sum(1 for a in self.since.warning.areas if a.band is Band.SHARP_RISE)


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def may_build(viewer: Viewer) -> bool:
    """The briefing pack is the chair's (an active chair of an active member organisation)."""
    return viewer.is_partner and viewer.role == Role.CHAIR


def pack_outline(session: Session, viewer: Viewer, today: date) -> PackOutline:
    """The period the pack covers (the day after the last meeting to today, as on the since-last-
    meeting page) and the meeting it is for."""
    if not may_build(viewer):
        raise BriefingPermissionError()
    last = meetings_domain.last_meeting(session, viewer, today)
    upcoming = meetings_domain.next_meeting(session, viewer, today)
    start = last.held_on + timedelta(days=1) if last else today - timedelta(days=FALLBACK_DAYS - 1)
    return PackOutline(
        period_start=start,
        period_end=today,
        last_meeting_on=last.held_on if last else None,
        last_meeting_title=last.title if last else "",
        next_meeting_on=upcoming.held_on if upcoming else None,
        next_meeting_title=upcoming.title if upcoming else "",
        next_meeting_kind=upcoming.kind_label if upcoming else "",
    )


# --- what the pack counts -------------------------------------------------------------------------


def _latest_assessments(session: Session, viewer: Viewer, as_of: date) -> list[tuple[int, int, str]]:
    """(id, organisation, marking) of each district's latest assessment on or before `as_of`
    that the viewer may see: the same choice as `overview.latest_tension_by_district`."""
    rows = session.execute(latest_assessments(viewer, as_of, ("id", "source_org_id", "marking")))
    return [tuple(r) for r in rows]


@dataclass(frozen=True)
class _Counted:
    markings: frozenset[str]
    organisations: tuple[OrganisationShare, ...]
    incidents: int
    assessments: int


def _counted_records(
    session: Session, viewer: Viewer, since: SinceMeeting, records_from: date
) -> _Counted:
    """The markings and organisations of the records the pack's figures count, in the database:
    incidents dated from `records_from` (the comparison period and the early warning's weeks)
    to the end of the period, and the tension assessments shown (each district's latest now and
    at the last meeting) or made in the period."""
    incident_rows = session.execute(
        visible(viewer, Incident, RecordFilters(start=records_from, end=since.end), Purpose.AGGREGATE)
        .with_only_columns(Incident.source_org_id, Incident.marking, func.count())
        .group_by(Incident.source_org_id, Incident.marking)
    ).all()
    in_period = session.execute(
        visible(viewer, TensionAssessment, RecordFilters(start=since.start, end=since.end), Purpose.AGGREGATE)
        .with_only_columns(TensionAssessment.id, TensionAssessment.source_org_id, TensionAssessment.marking)
    ).all()
    assessments = {row[0]: (row[1], row[2]) for row in in_period}
    for as_of in (since.end, since.start - timedelta(days=1)):
        for record_id, org, marking in _latest_assessments(session, viewer, as_of):
            assessments[record_id] = (org, marking)

    incidents_by_org: dict[int, int] = {}
    markings = set()
    for org, marking, n in incident_rows:
        incidents_by_org[org] = incidents_by_org.get(org, 0) + int(n)
        markings.add(marking)
    assessments_by_org: dict[int, int] = {}
    for org, marking in assessments.values():
        assessments_by_org[org] = assessments_by_org.get(org, 0) + 1
        markings.add(marking)
    org_ids = sorted(incidents_by_org.keys() | assessments_by_org.keys())
    names = dict(
        session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))).all()
    )
    shares = sorted(
        (
            OrganisationShare(names.get(o, f"Organisation {o}"), incidents_by_org.get(o, 0),
                              assessments_by_org.get(o, 0))
            for o in org_ids
        ),
        key=lambda share: share.name.casefold(),
    )
    return _Counted(frozenset(markings), tuple(shares), sum(incidents_by_org.values()), len(assessments))


def _demo_mode(session: Session) -> bool:
    return session.scalar(select(AppSetting.value).where(AppSetting.key == "demo_mode")) == "true"


def build_pack(
    session: Session,
    viewer: Viewer,
    today: date,
    *,
    now: datetime | None = None,
    demo: bool | None = None,
) -> BriefingPack:
    """Gather the pack for the chair as of `today` (the period since the last meeting).

    `demo` says whether the database holds synthetic demo data (read from it when None)."""
    if not may_build(viewer):
        raise BriefingPermissionError()
    since = since_last_meeting(session, viewer, today)
    upcoming = meetings_domain.next_meeting(session, viewer, today)
    # The period is the since-last-meeting page's own, so the pack's figures are the page's.
    outline = PackOutline(
        period_start=since.start,
        period_end=since.end,
        last_meeting_on=since.meeting_on,
        last_meeting_title=since.meeting_title,
        next_meeting_on=upcoming.held_on if upcoming else None,
        next_meeting_title=upcoming.title if upcoming else "",
        next_meeting_kind=upcoming.kind_label if upcoming else "",
    )

    levels = latest_tension_by_district(session, viewer, RecordFilters(), today)
    headline = Headline(
        incidents=since.total,
        previous=since.before_total,
        districts_high=sum(1 for level, _day in levels.values() if level >= 4),
        overdue_actions=overdue_actions_count(session, viewer, today),
    )
    names = dict(session.execute(select(Area.code, Area.name)).all())
    at_or_above = tuple(
        sorted(
            (
                LevelRow(code, names.get(code, code), level, TENSION_LEVELS[level].label, day)
                for code, (level, day) in levels.items()
                if level >= MAP_LEVEL_FROM
            ),
            key=lambda r: (-r.level, r.name),
        )
    )
    whose = "the chair"
    horizon = outline.next_meeting_on or today + timedelta(days=DEFAULT_HORIZON_DAYS)
    digest = actions_domain.digest(session, viewer, outline.period_start, today, today, horizon)

    records_from = min(since.before_start, since.warning.baseline_start)
    counted = _counted_records(session, viewer, since, records_from)
    return BriefingPack(
        built_at=now or datetime.now(UTC),
        built_by=f"{viewer.name or viewer.email} ({viewer.organisation_name})",
        built_by_user_id=viewer.user_id,
        outline=outline,
        marking=highest_marking(counted.markings),
        organisations=counted.organisations,
        incidents_counted=counted.incidents,
        assessments_counted=counted.assessments,
        records_from=records_from,
        headline=headline,
        since=since,
        levels=dict(levels),
        levels_at_or_above=at_or_above,
        map_svg=tension_map_svg(levels, today, whose=whose, id_prefix="briefing-map"),
        map_summary=map_summary(levels, today, whose),
        actions=digest,
        actions_horizon=horizon,
        demo=_demo_mode(session) if demo is None else demo,
    )


def record_build(
    session: Session, viewer: Viewer, pack: BriefingPack, fmt: str, *, ip_address: str | None = None
) -> None:
    """Audit one build of the pack (in the caller's transaction)."""
    audit.record(
        session,
        AUDIT_ACTION,
        user_id=viewer.user_id,
        record_type="briefing",
        ip_address=ip_address,
        detail={
            "format": fmt,
            "period_start": pack.period_start.isoformat(),
            "period_end": pack.period_end.isoformat(),
            "marking": pack.marking.value if pack.marking else None,
            "organisations": pack.organisation_names,
        },
    )


# --- rendering ------------------------------------------------------------------------------------


def _css_string(text: str) -> str:
    """A CSS string literal (for @page margin boxes): quotes, backslashes, line breaks and
    markup characters escaped."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " .,:;()+-/'?!":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def _change(now: int, before: int) -> str:
    change = now - before
    if before < 10:
        return f"{change:+,}"
    return f"{change:+,} ({change / before * 100:+.0f}%)"


@lru_cache(maxsize=1)
def _environment():
    return template_environment({
        "day": lambda d: day_text(d) if d else "",
        "short_day": lambda d: f"{d.day} {d:%b %Y}" if d else "",
        "num": lambda n: f"{n:,}",
        "change": _change,
    })


def render_html(pack: BriefingPack) -> str:
    """The pack as one complete, self-contained, printable HTML document (inline CSS and SVG;
    nothing fetched)."""
    banner = f"{pack.banner_marking}: {pack.handling}"
    # A CSS string with every character but letters, digits and plain punctuation escaped.
    page_banner = Markup(_css_string(pack.banner_marking + "  " + pack.handling))  # noqa: S704
    hate_crime_flagged = any(
        (f.category_code or "").startswith("hc-") for f in pack.since.warning.flags
    )
    listed_warning = sorted(
        (a for a in pack.since.warning.areas if a.band is not Band.STABLE),
        key=lambda a: ({Band.SHARP_RISE: 0, Band.RISE: 1, Band.FALL: 2}[a.band],
                       a.assessment.p_high if a.band is not Band.FALL else a.assessment.p_low, a.name),
    )
    return _environment().get_template("briefing.html").render(
        pack=pack,
        outline=pack.outline,
        since=pack.since,
        headline=pack.headline,
        banner=banner,
        page_banner=page_banner,
        tlp_colour=TLP_COLOURS[Marking(pack.banner_marking)],
        # Built by static_map, which escapes every text it puts in the SVG.
        map_svg=Markup(pack.map_svg),  # noqa: S704
        levels=TENSION_LEVELS,
        caveat=HATE_CRIME_CAVEAT,
        hate_crime_flagged=hate_crime_flagged,
        rule_text=RULE_TEXT,
        attribution=MAP_ATTRIBUTION,
        marking_descriptions={m.value: d for m, d in MARKING_DESCRIPTIONS.items()},
        warning_areas=listed_warning[:WARNING_ROWS],
        warning_more=max(0, len(listed_warning) - WARNING_ROWS),
        flags=[f for f in pack.since.warning.flags if f.category_code is not None][:FLAG_ROWS],
        upcoming=pack.since.upcoming,
        upcoming_until=pack.period_end + timedelta(weeks=UPCOMING_WEEKS),
        event_where=_event_where,
    )


def _event_where(event: CalendarEvent) -> str:
    return event.where()


def render_pdf(pack: BriefingPack) -> bytes:
    """The same page as a tagged PDF (A4), through WeasyPrint, with no network access. Tagged, a
    screen reader finds its headings, its tables with their header cells, the map's alternative
    text, its language and its title."""
    return laid_out(render_html(pack)).write_pdf(pdf_tags=True)
