"""The filters people set on the dashboard's views, their presets, and their form in the URL.

The URL carries only filter choices (dates, codes, ids), never record data, so a view can be
shared with a colleague, who then sees it through their own access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qs

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .access import RecordFilters, Viewer, visible
from .models import Area, IncidentCategory, Meeting, Organisation, Strand
from .reference import Marking, MembershipStatus, Verification

PRESETS = {
    "4w": "Last 4 weeks",
    "quarter": "Last quarter",
    "meeting": "Since the last meeting",
    "12m": "Last 12 months",
    "custom": "Chosen dates",
}
DEFAULT_PRESET = "12m"
MAX_SPAN = timedelta(days=366 * 10)


class FilterError(ValueError):
    """A filter value is not acceptable; `field` names the control, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Vocabulary:
    """The choices a viewer is offered (and the only values accepted back)."""

    categories: list[tuple[str, str]] = field(default_factory=list)
    strands: list[tuple[str, str]] = field(default_factory=list)
    organisations: list[tuple[int, str]] = field(default_factory=list)
    last_meeting: date | None = None
    districts: list[tuple[str, str]] = field(default_factory=list)


def vocabulary(session: Session, viewer: Viewer, today: date) -> Vocabulary:
    categories = session.execute(
        select(IncidentCategory.code, IncidentCategory.label)
        .where(IncidentCategory.active.is_(True))
        .order_by(IncidentCategory.sort_order)
    ).all()
    strands = session.execute(
        select(Strand.code, Strand.label).where(Strand.active.is_(True)).order_by(Strand.local, Strand.label)
    ).all()
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.membership_status == MembershipStatus.ACTIVE.value)
        .order_by(Organisation.name)
    ).all()
    districts = session.execute(select(Area.code, Area.name).order_by(Area.name)).all()
    return Vocabulary(
        [tuple(r) for r in categories],
        [tuple(r) for r in strands],
        [tuple(r) for r in organisations],
        last_meeting_on(session, viewer, today),
        [tuple(r) for r in districts],
    )


def last_meeting_on(session: Session, viewer: Viewer, today: date) -> date | None:
    return session.scalar(
        visible(viewer, Meeting).with_only_columns(func.max(Meeting.held_on)).where(Meeting.held_on <= today)
    )


def preset_dates(preset: str, today: date, last_meeting: date | None) -> tuple[date, date]:
    if preset == "4w":
        return today - timedelta(days=27), today
    if preset == "quarter":
        return today - timedelta(days=90), today
    if preset == "meeting" and last_meeting is not None:
        return last_meeting + timedelta(days=1) if last_meeting < today else today, today
    return today - timedelta(days=364), today


def query_params(search) -> dict[str, str]:
    """The last value of each parameter of a ?query string (none when what is given is not text,
    as from a forged request)."""
    text = search if isinstance(search, str) else ""
    return {key: values[-1] for key, values in parse_qs(text.lstrip("?")).items()}


def _date(value, field_name: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise FilterError(field_name, f"{label} must be a real date, like 2026-03-31.") from None


@dataclass(frozen=True)
class FilterState:
    preset: str = DEFAULT_PRESET
    start: date | None = None
    end: date | None = None
    categories: tuple[str, ...] = ()
    strands: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()
    markings: tuple[str, ...] = ()
    organisations: tuple[int, ...] = ()

    @classmethod
    def from_controls(
        cls,
        vocab: Vocabulary,
        today: date,
        *,
        preset=None,
        start=None,
        end=None,
        categories=None,
        strands=None,
        verification=None,
        markings=None,
        organisations=None,
    ) -> FilterState:
        """Build from what the controls (or the URL) hold; unknown choices are dropped, and
        dates that are wrong raise FilterError naming the control."""
        preset = preset if isinstance(preset, str) and preset in PRESETS else DEFAULT_PRESET
        if preset == "custom":
            start_d = _date(start, "start", "The start date")
            end_d = _date(end, "end", "The end date")
            if start_d is None:
                raise FilterError("start", "Enter a start date.")
            if end_d is None:
                raise FilterError("end", "Enter an end date.")
            if start_d > end_d:
                raise FilterError("start", "The start date must be on or before the end date.")
            if end_d - start_d > MAX_SPAN:
                raise FilterError("start", "Choose a period of at most ten years.")
        else:
            start_d, end_d = preset_dates(preset, today, vocab.last_meeting)

        def keep(values, allowed) -> tuple:
            chosen = values if isinstance(values, list | tuple) else ([] if values in (None, "") else [values])
            allowed_list = list(allowed)
            return tuple(v for v in allowed_list if v in set(chosen))

        org_ids = []
        for value in organisations if isinstance(organisations, list | tuple) else [organisations]:
            try:
                org_ids.append(int(value))
            except (TypeError, ValueError):
                continue
        return cls(
            preset=preset,
            start=start_d,
            end=end_d,
            categories=keep(categories, (c for c, _ in vocab.categories)),
            strands=keep(strands, (s for s, _ in vocab.strands)),
            verification=keep(verification, (v.value for v in Verification)),
            markings=keep(markings, (m.value for m in Marking)),
            organisations=keep(org_ids, (o for o, _ in vocab.organisations)),
        )

    @classmethod
    def from_query(cls, query: Mapping[str, str], vocab: Vocabulary, today: date) -> FilterState:
        """From a shared URL's query string; anything malformed falls back to the defaults."""

        def items(key: str) -> list[str]:
            return [v for v in str(query.get(key, "")).split(",") if v]

        try:
            return cls.from_controls(
                vocab,
                today,
                preset=query.get("period"),
                start=query.get("from"),
                end=query.get("to"),
                categories=items("category"),
                strands=items("strand"),
                verification=items("verification"),
                markings=items("marking"),
                organisations=items("org"),
            )
        except FilterError:
            return cls.from_controls(vocab, today)

    def to_query(self) -> dict[str, str]:
        query = {"period": self.preset}
        if self.preset == "custom":
            query["from"] = self.start.isoformat()
            query["to"] = self.end.isoformat()
        for key, values in (
            ("category", self.categories),
            ("strand", self.strands),
            ("verification", self.verification),
            ("marking", self.markings),
            ("org", self.organisations),
        ):
            if values:
                query[key] = ",".join(str(v) for v in values)
        return query

    def record_filters(self) -> RecordFilters:
        return RecordFilters(
            start=self.start,
            end=self.end,
            categories=self.categories,
            strands=self.strands,
            verification=self.verification,
            markings=self.markings,
            organisations=self.organisations,
        )

    def describe(self) -> str:
        """The period in words, e.g. 'from 1 Dec 2025 to 30 Nov 2026'."""
        return f"from {self.start:%-d %b %Y} to {self.end:%-d %b %Y}"
