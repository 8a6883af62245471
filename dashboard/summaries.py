"""National-policy summaries: incidents and tension levels, quarter by quarter, after disclosure
control (the SCI summaries page, its downloads and the API).

Every figure is counted with the national viewer's access (`access.national_viewer()`, with
`Purpose.AGGREGATE`), whoever asks, so only TLP:GREEN and TLP:CLEAR records count and every reader
gets the same published figures. Incident counts are added up in the database from the quarter
counts (`IncidentQuarterCount`, made from the trend counts and kept in step with them); tension levels from each district's latest assessment at each quarter end.
Every table then goes through `disclosure.protect`, and each table's one-sentence summary is
written from the published figures only, never from the true counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, func, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from . import cache, disclosure
from .access import Purpose, RecordFilters, Viewer, national_viewer, visible
from .disclosure import Cell, ProtectedTable, Suppression
from .models import (
    Area,
    IncidentCategory,
    IncidentQuarterCount,
    IncidentTrendCount,
    Strand,
    TensionAssessment,
)
from .reference import PUBLISHABLE_MARKINGS, TENSION_LEVELS, Role

MAX_QUARTERS = 20
DEFAULT_QUARTERS = 4
TENSION_WINDOW_QUARTERS = 4  # an assessment counts for the 12 months up to a quarter's end
MAX_VALUES = 200  # area or category codes in one query, at most (there are 65 districts)
NO_ASSESSMENT = "none"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SummaryError(ValueError):
    """A summary parameter is not acceptable: `field` names it ("to", "quarters", "geography",
    "breakdown", "area", "category"), the message says what was given and what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Geography(StrEnum):
    REGION = "region"
    POLICE_FORCE_AREA = "police-force-area"
    DISTRICT = "district"


class Breakdown(StrEnum):
    CATEGORY = "category"
    STRAND = "strand"


GEOGRAPHY_LABELS = {
    Geography.REGION: "Region",
    Geography.POLICE_FORCE_AREA: "Police force area",
    Geography.DISTRICT: "District",
}
_GEOGRAPHY_PLURALS = {
    Geography.REGION: "regions",
    Geography.POLICE_FORCE_AREA: "police force areas",
    Geography.DISTRICT: "districts",
}
BREAKDOWN_LABELS = {Breakdown.CATEGORY: "Category", Breakdown.STRAND: "Hate-crime strand"}
_UNIT_COLUMNS = {
    Geography.DISTRICT: (Area.code, Area.name),
    Geography.POLICE_FORCE_AREA: (Area.pfa_code, Area.police_force),
    Geography.REGION: (Area.region_code, Area.region),
}

STRAND_NOTE = (
    "An incident can have more than one hate-crime strand, so it can be counted under several "
    "strands and the figures in a row do not add up to a total; incidents with no strand recorded "
    "are not counted in this table."
)
TENSION_NOTE = (
    "Each district is counted once, under the level of its latest TLP:GREEN or TLP:CLEAR tension "
    "assessment made in the 12 months up to the end of the quarter; a district with none is "
    'counted under "No assessment".'
)
SUMMARY_RULES = (
    "Incidents are counted in the quarter in which they happened; deleted records never count.",
    "Tension levels are each district's latest TLP:GREEN or TLP:CLEAR tension assessment made in "
    'the 12 months up to the end of the quarter; districts with none are shown as "No assessment".',
)


# --- quarters ----------------------------------------------------------------------------------

_QUARTER_TEXT = re.compile(r"\s*([1-9]\d{3})\s*-?\s*[Qq]\s*([1-4])\s*")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: Q1 is January to March."""

    year: int
    number: int  # 1..4

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 1000 <= self.year <= 9999:
            raise SummaryError("to", f"There is no quarter {self.number} of {self.year}.")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """"2026Q3" (also "2026-Q3", "2026 q3")."""
        match = _QUARTER_TEXT.fullmatch(text or "")
        if not match:
            raise SummaryError(
                "to", f'The last quarter (to) must be a quarter written like 2026Q3, not "{_shorten(text)}".'
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def latest_complete(cls, today: date) -> Quarter:
        """The last quarter that ended before `today`."""
        return cls.containing(today).minus(1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The quarter's last day (inclusive)."""
        following = date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)
        return following - timedelta(days=1)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """"Jul to Sep 2026"."""
        return f"{MONTHS[3 * self.number - 3]} to {MONTHS[3 * self.number - 1]} {self.year}"

    def minus(self, n: int) -> Quarter:
        """The quarter `n` quarters before this one (after it, for a negative `n`)."""
        index = self.year * 4 + self.number - 1 - n
        return Quarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return self.code


def _shorten(text, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryQuery:
    """What a summary covers: `quarters` quarters ending with `to`, at a geography, broken down
    by category or strand, for some districts (none: all 65) and categories (none: all)."""

    to: Quarter
    quarters: int = DEFAULT_QUARTERS
    geography: Geography = Geography.DISTRICT
    breakdown: Breakdown = Breakdown.CATEGORY
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.quarters, bool) or not isinstance(self.quarters, int) or not (
            1 <= self.quarters <= MAX_QUARTERS
        ):
            raise SummaryError(
                "quarters", f"The number of quarters must be a whole number from 1 to {MAX_QUARTERS}, "
                f'not "{_shorten(self.quarters)}".'
            )
        try:
            object.__setattr__(self, "geography", Geography(self.geography))
        except ValueError:
            raise SummaryError("geography", f'Unknown geography "{_shorten(self.geography)}".') from None
        try:
            object.__setattr__(self, "breakdown", Breakdown(self.breakdown))
        except ValueError:
            raise SummaryError("breakdown", f'Unknown breakdown "{_shorten(self.breakdown)}".') from None
        object.__setattr__(self, "areas", tuple(self.areas))
        object.__setattr__(self, "categories", tuple(self.categories))

    @property
    def first(self) -> Quarter:
        return self.to.minus(self.quarters - 1)

    @property
    def start(self) -> date:
        return self.first.start

    @property
    def end(self) -> date:
        return self.to.end

    @property
    def quarter_list(self) -> list[Quarter]:
        """The quarters of the period, oldest first."""
        return [self.to.minus(n) for n in range(self.quarters - 1, -1, -1)]

    @property
    def period_label(self) -> str:
        """"Oct 2025 to Sep 2026", or one quarter's label."""
        if self.quarters == 1:
            return self.to.label
        first = self.first
        return f"{MONTHS[3 * first.number - 3]} {first.year} to {MONTHS[3 * self.to.number - 1]} {self.to.year}"

    def params(self) -> dict[str, str | list[str]]:
        """The query-string form (what `query_from_params` reads back): `to` always, the rest
        only where it is not the default."""
        out: dict[str, str | list[str]] = {"to": self.to.code}
        if self.quarters != DEFAULT_QUARTERS:
            out["quarters"] = str(self.quarters)
        if self.geography is not Geography.DISTRICT:
            out["geography"] = self.geography.value
        if self.breakdown is not Breakdown.CATEGORY:
            out["breakdown"] = self.breakdown.value
        if self.areas:
            out["area"] = list(self.areas)
        if self.categories:
            out["category"] = list(self.categories)
        return out


@dataclass(frozen=True)
class SummaryChoices:
    """What a summary can be asked for (and the only area and category codes accepted back)."""

    districts: list[tuple[str, str]]  # (code, name) sorted by name
    categories: list[tuple[str, str]]  # (code, label)
    strands: list[tuple[str, str]]  # (code, label)
    quarters: list[Quarter]  # newest first


_PARAMS = ("to", "quarters", "geography", "breakdown", "area", "category")
_GSS_CODE = re.compile(r"[A-Z]\d{8}")
_CATEGORY_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def _values(params: Mapping, name: str) -> list[str]:
    """Every value given for `name`: a str, a list of str, or a MultiDict's list."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if callable(getlist) else params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, Sequence):
        return [v if isinstance(v, str) else str(v) for v in raw]
    return [str(raw)]


def _single(params: Mapping, name: str, label: str) -> str | None:
    """The one value of a single-valued parameter, None when absent or blank."""
    given = [v.strip() for v in _values(params, name) if v.strip()]
    if len(set(given)) > 1:
        raise SummaryError(name, f"Give one {label} ({name}), not {len(set(given))}.")
    return given[0] if given else None


def _codes(params: Mapping, name: str) -> list[str]:
    """A repeatable parameter's values, also accepting comma-separated lists, without blanks or
    repeats, in order."""
    out: list[str] = []
    for value in _values(params, name):
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    if len(out) > MAX_VALUES:
        raise SummaryError(name, f"Give at most {MAX_VALUES} values of {name}, not {len(out)}.")
    return out


def query_from_params(
    params: Mapping[str, str | list[str]], today: date, vocabulary: SummaryChoices | None = None
) -> SummaryQuery:
    """The one parser for the summaries page's address bar, the download routes and the API.

    Missing values take their defaults (`to`: the latest complete quarter). An invalid value
    raises SummaryError naming the parameter, the value and what is allowed. With `vocabulary`,
    area and category codes are checked against it. Unknown parameters are ignored.
    """
    latest = Quarter.latest_complete(today)
    text = _single(params, "to", "last quarter")
    if text is None:
        to = latest
    else:
        to = Quarter.parse(text)
        if to > latest:
            raise SummaryError(
                "to", f"The last quarter (to) must be one that has ended: {latest.code} or earlier, not {to.code}."
            )

    quarters = DEFAULT_QUARTERS
    text = _single(params, "quarters", "number of quarters")
    if text is not None:
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_QUARTERS:
            raise SummaryError(
                "quarters",
                f'The number of quarters (quarters) must be a whole number from 1 to {MAX_QUARTERS}, '
                f'not "{_shorten(text)}".',
            )
        quarters = int(text)

    geography = Geography.DISTRICT
    text = _single(params, "geography", "geography")
    if text is not None:
        try:
            geography = Geography(text.lower())
        except ValueError:
            allowed = ", ".join(g.value for g in Geography)
            raise SummaryError(
                "geography", f'The geography must be one of {allowed}, not "{_shorten(text)}".'
            ) from None

    breakdown = Breakdown.CATEGORY
    text = _single(params, "breakdown", "breakdown")
    if text is not None:
        try:
            breakdown = Breakdown(text.lower())
        except ValueError:
            allowed = ", ".join(b.value for b in Breakdown)
            raise SummaryError(
                "breakdown", f'The breakdown must be one of {allowed}, not "{_shorten(text)}".'
            ) from None

    areas = _codes(params, "area")
    for code in areas:
        if not _GSS_CODE.fullmatch(code):
            raise SummaryError(
                "area", f'An area must be a district\'s GSS code such as E07000032, not "{_shorten(code)}".'
            )
    categories = _codes(params, "category")
    for code in categories:
        if not _CATEGORY_CODE.fullmatch(code):
            raise SummaryError(
                "category", f'A category must be a category code such as literature, not "{_shorten(code)}".'
            )
    if vocabulary is not None:
        known_areas = {code for code, _ in vocabulary.districts}
        unknown = [code for code in areas if code not in known_areas]
        if unknown:
            raise SummaryError("area", f"Unknown district code (area): {', '.join(unknown[:5])}.")
        known_categories = {code for code, _ in vocabulary.categories}
        unknown = [code for code in categories if code not in known_categories]
        if unknown:
            raise SummaryError("category", f"Unknown category code (category): {', '.join(unknown[:5])}.")
        # the vocabulary's order, so the same choice always reads the same
        area_order = {code: i for i, (code, _) in enumerate(vocabulary.districts)}
        category_order = {code: i for i, (code, _) in enumerate(vocabulary.categories)}
        areas.sort(key=area_order.__getitem__)
        categories.sort(key=category_order.__getitem__)
    else:
        areas.sort()
    return SummaryQuery(to, quarters, geography, breakdown, tuple(areas), tuple(categories))


def _categories(session: Session) -> list[tuple[str, str, bool]]:
    return [
        tuple(row) for row in session.execute(
            select(IncidentCategory.code, IncidentCategory.label, IncidentCategory.active)
            .order_by(IncidentCategory.sort_order, IncidentCategory.label)
        )
    ]


def _strands(session: Session) -> list[tuple[str, str, bool]]:
    return [
        tuple(row) for row in session.execute(
            select(Strand.code, Strand.label, Strand.active).order_by(Strand.local, Strand.label)
        )
    ]


def choices(session: Session, today: date) -> SummaryChoices:
    """The districts, categories, strands and quarters a summary can be asked for."""
    viewer = national_viewer()
    districts = [tuple(r) for r in session.execute(select(Area.code, Area.name).order_by(Area.name))]
    first_day = session.scalar(
        visible(viewer, IncidentTrendCount, RecordFilters(), Purpose.AGGREGATE)
        .with_only_columns(func.min(IncidentTrendCount.bucket))
    )
    first_assessed = session.scalar(
        visible(viewer, TensionAssessment, RecordFilters(), Purpose.AGGREGATE)
        .with_only_columns(func.min(TensionAssessment.assessed_on))
    )
    latest = Quarter.latest_complete(today)
    days = [_as_date(d) for d in (first_day, first_assessed) if d is not None]
    first = min(Quarter.containing(min(days)), latest) if days else latest
    quarters, q = [], latest
    while q >= first:
        quarters.append(q)
        q = q.minus(1)
    return SummaryChoices(
        districts=districts,
        categories=[(code, label) for code, label, _active in _categories(session)],
        strands=[(code, label) for code, label, _active in _strands(session)],
        quarters=quarters,
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- the summary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryTable:
    key: str  # "by_area" | "by_quarter" | "tension"
    title: str
    description: str  # one sentence: what is counted
    row_heading: str
    rows: tuple[tuple[str, str], ...]  # (code, label)
    columns: tuple[tuple[str, str], ...]  # (code, label)
    protected: ProtectedTable  # disclosure.protect(...) of the true counts
    summary: str  # one sentence from the published figures only
    note: str = ""
    total_label: str = "Total"


@dataclass(frozen=True)
class Summary:
    query: SummaryQuery
    tables: tuple[SummaryTable, ...]  # by_area, by_quarter, tension
    rules: tuple[str, ...]
    markings_counted: tuple[str, ...]
    marking: str  # the handling marking of the output
    generated_at: datetime  # UTC

    def table(self, key: str) -> SummaryTable:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    @property
    def title(self) -> str:
        return f"National summary of incidents and tension levels, {self.query.period_label}"


SUMMARY_ROLES = frozenset({Role.SCI, Role.MEMBER, Role.CHAIR, Role.ADMIN})


def may_view(viewer: Viewer | None) -> bool:
    """Whether this viewer may see national summaries: any active account (they hold only
    published figures, the same for everyone)."""
    return viewer is not None and viewer.active and viewer.role in SUMMARY_ROLES


@dataclass(frozen=True)
class _Areas:
    districts: tuple[str, ...]  # the districts counted (codes)
    units: tuple[tuple[str, str], ...]  # (code, name) of the geography's units holding them, by name


def _areas(session: Session, query: SummaryQuery) -> _Areas:
    code_col, name_col = _UNIT_COLUMNS[query.geography]
    wanted = set(query.areas)
    districts, units = [], {}
    for district, code, name in session.execute(select(Area.code, code_col, name_col)):
        if wanted and district not in wanted:
            continue
        districts.append(district)
        units[code] = name
    return _Areas(tuple(sorted(districts)), tuple(sorted(units.items(), key=lambda u: (u[1], u[0]))))


def _incident_counts(session: Session, query: SummaryQuery, areas: _Areas) -> dict[tuple[int, str, str], int]:
    """(quarter index, unit code, column code) -> incidents, summed in the database from the
    quarter counts through the access gate.

    The quarter counts are added up by quarter, district and category (or strand bits) first, in
    one pass over their covering index; only those few thousand sums are then joined to the
    strands (a count per strand whose bit is set) and the areas (districts into force areas or
    regions), so neither join runs once per quarter count.
    """
    t = IncidentQuarterCount
    quarters = query.quarter_list
    # Each row is one quarter (its first day): its index, found from the quarters' last days.
    quarter = case(
        *((t.quarter <= q.end, i) for i, q in enumerate(quarters[:-1])), else_=len(quarters) - 1
    ) if len(quarters) > 1 else None
    key = t.category_code if query.breakdown is Breakdown.CATEGORY else t.strand_mask
    filters = RecordFilters(start=query.start, end=query.end, areas=query.areas, categories=query.categories)
    keys = [k for k in (quarter, t.area_code, key) if k is not None]
    sums = (
        visible(national_viewer(), t, filters, Purpose.AGGREGATE)
        .with_only_columns(
            *(quarter.label("quarter"),) if quarter is not None else (),
            t.area_code.label("area_code"), key.label("key"), func.sum(t.incidents).label("incidents"),
        )
        .group_by(*keys)
    )
    if query.geography is Geography.DISTRICT and query.breakdown is Breakdown.CATEGORY:
        rows = session.execute(sums)
    else:
        sub = sums.subquery()
        unit = sub.c.area_code if query.geography is Geography.DISTRICT else _UNIT_COLUMNS[query.geography][0]
        column = sub.c.key if query.breakdown is Breakdown.CATEGORY else Strand.code
        in_quarter = [sub.c.quarter] if quarter is not None else []
        stmt = select(*in_quarter, unit, column, func.sum(sub.c.incidents)).select_from(sub)
        if query.breakdown is Breakdown.STRAND:
            # a strand's count: the incidents whose strand bits include its bit
            stmt = stmt.join(Strand, sub.c.key.op("&")(literal_column("1").op("<<")(Strand.bit)) != 0)
        if query.geography is not Geography.DISTRICT:
            stmt = stmt.join(Area, Area.code == sub.c.area_code)
        rows = session.execute(stmt.group_by(*in_quarter, unit, column))
    if quarter is None:
        return {(0, u, c): int(n) for u, c, n in rows}
    return {(int(q), u, c): int(n) for q, u, c, n in rows}


def _tension_counts(session: Session, query: SummaryQuery, areas: _Areas) -> dict[tuple[int, int], int]:
    """(quarter index, level) -> districts whose latest TLP:GREEN/CLEAR tension assessment made
    in the 12 months up to the quarter's end was at that level: one statement, a part per quarter."""
    a = TensionAssessment
    parts = []
    for i, q in enumerate(query.quarter_list):
        window = RecordFilters(
            start=q.minus(TENSION_WINDOW_QUARTERS - 1).start, end=q.end, areas=query.areas
        )
        latest = (
            visible(national_viewer(), a, window, Purpose.AGGREGATE)
            .with_only_columns(
                a.level,
                func.row_number()
                .over(partition_by=a.area_code, order_by=(a.assessed_on.desc(), a.id.desc()))
                .label("recency"),
            )
            .subquery()
        )
        parts.append(
            select(literal(i).label("quarter"), latest.c.level, func.count().label("districts"))
            .where(latest.c.recency == 1)
            .group_by(latest.c.level)
        )
    return {(int(q), int(level)): int(n) for q, level, n in session.execute(union_all(*parts))}


def build(session: Session, viewer: Viewer, query: SummaryQuery) -> Summary:
    """The national summary the query asks for, after disclosure control. The same for every
    viewer allowed to see it; PermissionError for anyone else; SummaryError for a district or
    category code that does not exist."""
    if not may_view(viewer):
        raise PermissionError("Only people with an active account can see national summaries.")
    # The same figures for every reader: one cache entry for all, under the national viewer.
    return cache.cached(session, "summary", national_viewer(), query, lambda: _build(session, query))


def _build(session: Session, query: SummaryQuery) -> Summary:
    areas = _areas(session, query)
    unknown = sorted(set(query.areas) - set(areas.districts))
    if unknown:
        raise SummaryError("area", f"Unknown district code (area): {', '.join(unknown[:5])}.")
    categories = _categories(session)
    unknown = sorted(set(query.categories) - {code for code, _label, _active in categories})
    if unknown:
        raise SummaryError("category", f"Unknown category code (category): {', '.join(unknown[:5])}.")
    counts = _incident_counts(session, query, areas)
    # Every active category or strand is a column (0s included), and any other with a count.
    present = {c for (_q, _u, c), n in counts.items() if n}
    if query.breakdown is Breakdown.CATEGORY:
        chosen = set(query.categories)
        columns = tuple(
            (code, label) for code, label, active in categories
            if ((code in chosen) if chosen else (active or code in present))
        )
    else:
        columns = tuple((code, label) for code, label, active in _strands(session) if active or code in present)
    tension = _tension_counts(session, query, areas)
    tables = (
        _by_area_table(query, areas, columns, counts),
        _by_quarter_table(query, areas, columns, counts),
        _tension_table(query, areas, tension),
    )
    rules = disclosure.RULES + SUMMARY_RULES
    if query.breakdown is Breakdown.STRAND:
        rules += ("An incident can have more than one hate-crime strand, so strand figures do not add up to a total.",)
    return Summary(
        query=query,
        tables=tables,
        rules=rules,
        markings_counted=tuple(sorted(m.value for m in PUBLISHABLE_MARKINGS)),
        marking="TLP:GREEN",
        generated_at=datetime.now(UTC).replace(microsecond=0),
    )


# --- the tables --------------------------------------------------------------------------------


def _what_is_counted(query: SummaryQuery, areas: _Areas) -> str:
    where = f"the {len(areas.districts)} districts chosen" if query.areas else f"the {len(areas.districts)} districts"
    which = f" in the {len(query.categories)} categories chosen" if query.categories else ""
    return (f"Incidents marked TLP:GREEN or TLP:CLEAR{which} that happened in {where} from "
            f"{_long_date(query.start)} to {_long_date(query.end)}")


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def _by_area_table(query, areas: _Areas, columns, counts) -> SummaryTable:
    unit_index = {code: i for i, (code, _) in enumerate(areas.units)}
    column_index = {code: j for j, (code, _) in enumerate(columns)}
    grid = [[0] * len(columns) for _ in areas.units]
    for (_q, unit, column), n in counts.items():
        if unit in unit_index and column in column_index:
            grid[unit_index[unit]][column_index[column]] += n
    category = query.breakdown is Breakdown.CATEGORY
    protected = disclosure.protect(grid, row_totals=category, column_totals=True)
    geo = GEOGRAPHY_LABELS[query.geography].lower()
    by = BREAKDOWN_LABELS[query.breakdown].lower()
    table_rows = tuple(areas.units)
    return SummaryTable(
        key="by_area",
        title=f"Incidents by {geo} and {by}, {query.period_label}",
        description=f"{_what_is_counted(query, areas)}, by {geo} and {by}.",
        row_heading=GEOGRAPHY_LABELS[query.geography],
        rows=table_rows,
        columns=tuple(columns),
        protected=protected,
        summary=_by_area_sentence(query, areas, table_rows, columns, protected),
        note="" if category else STRAND_NOTE,
    )


def _by_quarter_table(query, areas: _Areas, columns, counts) -> SummaryTable:
    quarters = query.quarter_list
    column_index = {code: j for j, (code, _) in enumerate(columns)}
    grid = [[0] * len(columns) for _ in quarters]
    for (q, _unit, column), n in counts.items():
        if column in column_index:
            grid[q][column_index[column]] += n
    category = query.breakdown is Breakdown.CATEGORY
    protected = disclosure.protect(grid, row_totals=category, column_totals=True)
    by = BREAKDOWN_LABELS[query.breakdown].lower()
    rows = tuple((q.code, q.label) for q in quarters)
    return SummaryTable(
        key="by_quarter",
        title=f"Incidents by quarter and {by}, {query.period_label}",
        description=f"{_what_is_counted(query, areas)}, by the quarter they happened in and {by}.",
        row_heading="Quarter",
        rows=rows,
        columns=tuple(columns),
        protected=protected,
        summary=_by_quarter_sentence(query, rows, columns, protected),
        note="" if category else STRAND_NOTE,
    )


def _tension_table(query, areas: _Areas, tension) -> SummaryTable:
    quarters = query.quarter_list
    districts = len(areas.districts)
    grid = []
    for i in range(len(quarters)):
        levels = [tension.get((i, level), 0) for level in TENSION_LEVELS]
        grid.append([*levels, districts - sum(levels)])
    protected = disclosure.protect(grid, row_totals=True, column_totals=False)
    columns = (*((str(level), f"{level} {t.label}") for level, t in TENSION_LEVELS.items()),
               (NO_ASSESSMENT, "No assessment"))
    rows = tuple((q.code, q.label) for q in quarters)
    where = f"the {districts} districts chosen" if query.areas else f"the {districts} districts"
    return SummaryTable(
        key="tension",
        title=f"Districts by latest tension level at the end of each quarter, {query.period_label}",
        description=(
            f"The number of {where} whose latest TLP:GREEN or TLP:CLEAR tension assessment, made in "
            f"the 12 months up to the end of each quarter, was at each level."
        ),
        row_heading="Quarter",
        rows=rows,
        columns=columns,
        protected=protected,
        summary=_tension_sentence(query, districts, rows, columns, protected),
        note=TENSION_NOTE,
        total_label="Districts",
    )


# --- the sentences, from the published figures only ------------------------------------------


def _figure(cell: Cell) -> str:
    """A published figure in words: "about 410", "fewer than 5", "0"."""
    if cell.suppression is Suppression.PRIMARY:
        return "fewer than 5"
    if cell.suppressed:
        return "a hidden number of"
    return "0" if cell.number == 0 else f"about {cell.number:,}"


def _largest(
    labels: Sequence[str], cells: Sequence[Cell], total: Cell | None = None, among: int | None = None
) -> str | None:
    """"Label (about 410)" for the largest published figure (ties named together), or None
    where nothing above 0 is shown, or where a hidden figure ("[c]") could be larger: what the
    published figures and the line's published `total` allow it to be (rounding keeps order,
    so a shown figure is never smaller than a smaller shown one's true count). Only the first
    `among` figures compete (all by default); the rest still count towards the total."""
    among = len(cells) if among is None else among
    shown = [(c.number, label) for c, label in zip(cells[:among], labels[:among], strict=True)
             if not c.suppressed and c.number]
    if not shown:
        return None
    top = max(n for n, _ in shown)
    hidden = [i for i, c in enumerate(cells[:among]) if c.suppression is Suppression.SECONDARY]
    if hidden:
        if total is None or total.suppressed:
            return None
        lows = [disclosure.published_range(c)[0] for c in cells]
        most = disclosure.published_range(total)[1]
        top_low = disclosure.published_range(Cell(top))[0]
        if any(most - (sum(lows) - lows[i]) >= top_low for i in hidden):
            return None
    names = [label for n, label in shown if n == top]
    if len(names) == 1:
        return f"{names[0]} (about {top:,})"
    return f"{', '.join(names[:-1])} and {names[-1]} (about {top:,} each)"


def _smallest(labels: Sequence[str], cells: Sequence[Cell]) -> str | None:
    if len(cells) < 2 or any(c.suppressed for c in cells):
        return None
    low = min(c.number for c in cells)
    names = [label for c, label in zip(cells, labels, strict=True) if c.number == low]
    if len(names) != 1 or low == max(c.number for c in cells):
        return None
    return f"{names[0]} ({'about ' if low else ''}{low:,})"


def _column_sums(protected: ProtectedTable) -> tuple[Cell, ...]:
    return protected.column_totals or ()


def _by_area_sentence(query, areas: _Areas, rows, columns, protected: ProtectedTable) -> str:
    count = len(areas.districts)
    lead = f"Across the {count} district{'s' if count != 1 else ''}{' chosen' if query.areas else ''}"
    period = f"from {query.period_label}" if query.quarters > 1 else f"in {query.period_label}"
    column_labels = [label for _, label in columns]
    row_labels = [label for _, label in rows]
    geo = GEOGRAPHY_LABELS[query.geography].lower()
    if query.breakdown is Breakdown.CATEGORY:
        total = protected.grand_total
        if total is None or total.number == 0:
            return f"{lead}, no incidents were counted {period}."
        sentence = f"{lead}, {_figure(total)} incident{'s' if total.number != 1 else ''} were counted {period}"
        extras = []
        top_column = _largest(column_labels, _column_sums(protected), total)
        if top_column and len(columns) > 1:
            extras.append(f"the most in a category was {top_column}")
        top_row = _largest(row_labels, protected.row_totals or (), total) if len(rows) > 1 else None
        if top_row:
            extras.append(f"the most in a {geo} was {top_row}")
        return sentence + ("; " + ", and ".join(extras) if extras else "") + "."
    totals = _column_sums(protected)
    if all(c.number == 0 for c in totals):
        return f"{lead}, no incidents with a hate-crime strand were counted {period}."
    top_column = _largest(column_labels, totals)
    if not top_column:
        return (f"{lead}, incidents with a hate-crime strand were counted {period}; the figures are "
                f"small, so most are hidden.")
    return (f"{lead}, the hate-crime strand recorded most often {period} was {top_column}; an "
            f"incident can have more than one strand.")


def _by_quarter_sentence(query, rows, columns, protected: ProtectedTable) -> str:
    period = f"From {query.period_label}" if query.quarters > 1 else f"In {query.period_label}"
    row_labels = [label for _, label in rows]
    column_labels = [label for _, label in columns]
    if query.breakdown is Breakdown.CATEGORY:
        total = protected.grand_total
        if total is None or total.number == 0:
            return f"{period}, no incidents were counted."
        sentence = f"{period}, {_figure(total)} incident{'s' if total.number != 1 else ''} were counted"
        if len(rows) > 1:
            top = _largest(row_labels, protected.row_totals, total)
            low = _smallest(row_labels, protected.row_totals)
            if top:
                sentence += f"; the most in one quarter was {top}"
                if low:
                    sentence += f" and the fewest {low}"
        elif len(columns) > 1 and (top := _largest(column_labels, protected.column_totals, total)):
            sentence += f"; the most in a category was {top}"
        return sentence + "."
    totals = _column_sums(protected)
    if all(c.number == 0 for c in totals):
        return f"{period}, no incidents with a hate-crime strand were counted."
    top_column = _largest(column_labels, totals)
    if not top_column:
        return f"{period}, incidents with a hate-crime strand were counted; the figures are small, so most are hidden."
    sentence = f"{period}, the hate-crime strand recorded most often was {top_column}"
    if len(rows) > 1:
        j = max((j for j, c in enumerate(totals) if not c.suppressed), key=lambda j: totals[j].number)
        peak = _largest(row_labels, [row[j] for row in protected.cells], totals[j])
        if peak:
            sentence += f", most of all in {peak}"
    return sentence + "."


def _tension_sentence(query, districts: int, rows, columns, protected: ProtectedTable) -> str:
    last = protected.cells[-1]
    quarter = rows[-1][1]
    chosen = " chosen" if query.areas else ""
    if districts == 0:
        return "No districts were chosen."
    none_cell = last[-1]
    if all(c.number == 0 for c in last[:-1]):
        return (f"At the end of {quarter}, none of the {districts} districts{chosen} had a TLP:GREEN or "
                f"TLP:CLEAR tension assessment made in the 12 months before.")
    top = _largest([label for _, label in columns], last, protected.row_totals[-1], among=len(columns) - 1)
    if top:
        sentence = f"At the end of {quarter}, the most common latest tension level among the {districts} districts{chosen} was {top}"
    else:
        sentence = f"At the end of {quarter}, the figures for the {districts} districts{chosen} are small, so most are hidden"
    if none_cell.number == 0:
        return sentence + "; every district had an assessment made in the 12 months before."
    return sentence + f"; {_figure(none_cell)} had no assessment made in the 12 months before."


# --- the shared JSON shape ---------------------------------------------------------------------


def _json_cell(cell: Cell | None) -> int | str | None:
    if cell is None:
        return None
    return cell.shown if cell.suppressed else int(cell.shown)


def _table_dict(table: SummaryTable) -> dict:
    p = table.protected
    return {
        "key": table.key,
        "title": table.title,
        "description": table.description,
        "note": table.note,
        "summary": table.summary,
        "row_heading": table.row_heading,
        "columns": [{"code": code, "label": label} for code, label in table.columns],
        "rows": [
            {
                "code": code,
                "label": label,
                "values": [_json_cell(c) for c in p.cells[i]],
                "total": _json_cell(p.row_totals[i]) if p.row_totals else None,
            }
            for i, (code, label) in enumerate(table.rows)
        ],
        "totals": {
            "values": [_json_cell(c) for c in p.column_totals] if p.column_totals else None,
            "total": _json_cell(p.grand_total),
        },
    }


def to_dict(summary: Summary) -> dict:
    """The summary as the API returns it and the CSV and XLSX downloads write it: published
    figures only (a CELL is 0, a multiple of 5, "<5" or "[c]")."""
    q = summary.query
    return {
        "title": summary.title,
        "marking": summary.marking,
        "generated_at": summary.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": {"from": q.first.code, "to": q.to.code, "start": q.start.isoformat(), "end": q.end.isoformat()},
        "filters": {
            "geography": q.geography.value,
            "breakdown": q.breakdown.value,
            "areas": list(q.areas),
            "categories": list(q.categories),
        },
        "markings_counted": list(summary.markings_counted),
        "rules": list(summary.rules),
        "tables": [_table_dict(t) for t in summary.tables],
    }


__all__ = [
    "BREAKDOWN_LABELS", "DEFAULT_QUARTERS", "GEOGRAPHY_LABELS", "MAX_QUARTERS", "Breakdown", "Geography",
    "Quarter", "Summary", "SummaryChoices", "SummaryError", "SummaryQuery", "SummaryTable", "build",
    "choices", "may_view", "query_from_params", "to_dict",
]

