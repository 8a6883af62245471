"""The incident register: the incidents a viewer may see, a page at a time, for the register's grid.

Every read starts from the access gate (`access.visible(viewer, Incident, filters)`, record-level
purpose), so a record the viewer may not see never leaves the database; the national team (SCI)
and anyone who is not an active partner get nothing. The grid (AG Grid's infinite row model)
asks for blocks of rows with its sort and filter models; `RegisterQuery.from_grid` checks them
and turns them into a query the database can answer quickly at a million incidents:

- the order is the date the incident happened, newest first, then the reference (id), which the
  index `ix_incidents_occurred_id` gives without sorting; the reference alone is the other order.
  Other columns are not sortable (sorting a million rows by them on every page would be slow);
- quick search is the database's own text index (`search.matching`);
- column filters: text filters (contains, does not contain, equals, does not equal, begins with,
  ends with) on the title and on the district, category, verification, marking and reporting
  organisation as they are shown (matched against names and labels, then filtered by code);
  number filters on Ref, Severity and Corroborated by; date filters on Date. "In range" includes
  both ends. Two or more conditions on one column are combined with AND or OR.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session

from . import search
from .access import Purpose, RecordFilters, Viewer, visible
from .models import Area, Incident, IncidentCategory, Organisation, Strand, User, incident_strands
from .reference import SEVERITY_LABELS, Marking, Verification
from .rollups import incidents_by_area

MAX_BLOCK = 500
MAX_CONDITIONS = 10
MAX_FILTER_LENGTH = 200

VERIFICATION_LABELS = {
    Verification.REPORTED.value: "Reported",
    Verification.CORROBORATED.value: "Corroborated",
    Verification.CONFIRMED.value: "Confirmed",
}
DATE_PRECISION_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
LOCATION_PRECISION_LABELS = {"exact": "Exact", "approximate": "Approximate", "area": "Area only"}

TEXT_TYPES = {
    "contains": "contains",
    "notContains": "does not contain",
    "equals": "equals",
    "notEqual": "does not equal",
    "startsWith": "begins with",
    "endsWith": "ends with",
}
NUMBER_TYPES = {
    "equals": "equals",
    "notEqual": "does not equal",
    "lessThan": "less than",
    "lessThanOrEqual": "less than or equal to",
    "greaterThan": "greater than",
    "greaterThanOrEqual": "greater than or equal to",
    "inRange": "between",
}
DATE_TYPES = {
    "equals": "on",
    "notEqual": "not on",
    "lessThan": "before",
    "greaterThan": "after",
    "inRange": "between",
}
FILTER_TYPES = {"text": TEXT_TYPES, "number": NUMBER_TYPES, "date": DATE_TYPES}


@dataclass(frozen=True)
class RegisterColumn:
    id: str
    label: str
    sortable: bool
    filter: str | None  # "text" | "number" | "date" | None
    # The AG Grid filter options the server accepts for this column.
    filter_options: tuple[str, ...] = ()


def _column(id_: str, label: str, sortable: bool, kind: str) -> RegisterColumn:
    return RegisterColumn(id_, label, sortable, kind, tuple(FILTER_TYPES[kind]))


COLUMNS: tuple[RegisterColumn, ...] = (
    _column("id", "Ref", True, "number"),
    _column("occurred_on", "Date", True, "date"),
    _column("area", "District", False, "text"),
    _column("category", "Category", False, "text"),
    _column("title", "Title", False, "text"),
    _column("severity", "Severity", False, "number"),
    _column("verification", "Verification", False, "text"),
    _column("marking", "Marking", False, "text"),
    _column("organisation", "Reported by", False, "text"),
    _column("corroborated_by", "Corroborated by", False, "number"),
)
COLUMNS_BY_ID = {c.id: c for c in COLUMNS}
DEFAULT_SORT = (("occurred_on", "desc"),)


class RegisterQueryError(ValueError):
    """The grid asked for something the register cannot do; `column` is the column id (or
    "search"), the message says what is wrong in plain words."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Condition:
    """One filter condition: an AG Grid filter type and its value(s), already checked."""

    type: str
    value: str | float | date
    value_to: str | float | date | None = None


@dataclass(frozen=True)
class ColumnFilter:
    column: str
    conditions: tuple[Condition, ...]
    operator: str = "AND"  # how the conditions combine: "AND" or "OR"

    def describe(self) -> str:
        """In words, e.g. "District contains 'leic'" (for the audit log and the page)."""
        label = COLUMNS_BY_ID[self.column].label
        kind = COLUMNS_BY_ID[self.column].filter
        words = FILTER_TYPES[kind]
        parts = []
        for c in self.conditions:
            value = f"'{c.value}'" if kind == "text" else _shown(c.value)
            if c.type == "inRange":
                parts.append(f"{label} between {value} and {_shown(c.value_to)}")
            else:
                parts.append(f"{label} {words[c.type]} {value}")
        return f" {self.operator.lower()} ".join(parts)


def _shown(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class RegisterQuery:
    filters: RecordFilters = field(default_factory=RecordFilters)
    search: str = ""
    sort: tuple[tuple[str, str], ...] = ()
    column_filters: tuple[ColumnFilter, ...] = ()

    @classmethod
    def from_grid(
        cls,
        filters: RecordFilters | None,
        search_text: str | None,
        sort_model: list[dict] | None,
        filter_model: dict | None,
    ) -> RegisterQuery:
        """The grid's sortModel and filterModel, checked. Unknown columns, columns that cannot be
        sorted or filtered that way, and values that are not what the filter needs raise
        RegisterQueryError naming the column."""
        text = (search_text or "").strip()
        if len(text) > search.MAX_LENGTH:
            raise RegisterQueryError(
                "search", f"The search is {len(text)} characters long; use at most {search.MAX_LENGTH}."
            )
        return cls(
            filters=filters or RecordFilters(),
            search=text,
            sort=_parse_sort(sort_model),
            column_filters=_parse_filters(filter_model),
        )

    def summary(self) -> dict:
        """What the query asked for, as plain JSON data (for the audit log)."""
        f = self.filters
        chosen = {
            "start": f.start.isoformat() if f.start else None,
            "end": f.end.isoformat() if f.end else None,
            "areas": list(f.areas),
            "categories": list(f.categories),
            "strands": list(f.strands),
            "verification": list(f.verification),
            "markings": list(f.markings),
            "organisations": list(f.organisations),
            "include_deleted": f.include_deleted or None,
        }
        return {
            "filters": {k: v for k, v in chosen.items() if v},
            "columns": [cf.describe() for cf in self.column_filters],
            "sort": [f"{c} {d}" for c, d in self.effective_sort()],
        }

    def effective_sort(self) -> tuple[tuple[str, str], ...]:
        """The order rows come in: the first sort column, then the reference in the same
        direction (so that rows with the same date always come in the same order)."""
        column, direction = (self.sort or DEFAULT_SORT)[0]
        return ((column, direction),) if column == "id" else ((column, direction), ("id", direction))


def _known_column(col_id, what: str) -> RegisterColumn:
    column = COLUMNS_BY_ID.get(col_id) if isinstance(col_id, str) else None
    if column is None:
        raise RegisterQueryError(str(col_id), f"The register has no column {col_id!r} to {what}.")
    return column


def _parse_sort(sort_model) -> tuple[tuple[str, str], ...]:
    if not sort_model:
        return ()
    if not isinstance(sort_model, list):
        raise RegisterQueryError("sort", "The sort order is not in the form the grid sends.")
    sort = []
    for entry in sort_model:
        if not isinstance(entry, Mapping):
            raise RegisterQueryError("sort", "The sort order is not in the form the grid sends.")
        column = _known_column(entry.get("colId"), "sort by")
        direction = entry.get("sort")
        if direction not in ("asc", "desc"):
            raise RegisterQueryError(column.id, f"{column.label}: sort ascending or descending.")
        if not column.sortable:
            sortable = " or ".join(c.label for c in COLUMNS if c.sortable)
            raise RegisterQueryError(
                column.id,
                f"The register cannot be sorted by {column.label}; sort by {sortable}, "
                "or use the column's filter.",
            )
        sort.append((column.id, direction))
    return tuple(sort)


def _parse_filters(filter_model) -> tuple[ColumnFilter, ...]:
    if not filter_model:
        return ()
    if not isinstance(filter_model, Mapping):
        raise RegisterQueryError("filter", "The column filters are not in the form the grid sends.")
    parsed = []
    for col_id, model in filter_model.items():
        column = _known_column(col_id, "filter")
        if not isinstance(model, Mapping):
            raise RegisterQueryError(column.id, f"{column.label}: the filter is not in the form the grid sends.")
        kind = model.get("filterType", column.filter)
        if kind != column.filter:
            raise RegisterQueryError(
                column.id, f"{column.label} takes a {column.filter} filter, not a {kind} filter."
            )
        if "conditions" in model or "condition1" in model or "operator" in model:
            operator = str(model.get("operator") or "AND").upper()
            if operator not in ("AND", "OR"):
                raise RegisterQueryError(column.id, f"{column.label}: combine conditions with AND or OR.")
            raw = model.get("conditions")
            if raw is None:
                raw = [model[k] for k in ("condition1", "condition2") if model.get(k)]
            if not isinstance(raw, list) or not raw:
                raise RegisterQueryError(column.id, f"{column.label}: the combined filter has no conditions.")
            if len(raw) > MAX_CONDITIONS:
                raise RegisterQueryError(
                    column.id, f"{column.label}: use at most {MAX_CONDITIONS} conditions in one filter."
                )
            conditions = tuple(_parse_condition(column, c) for c in raw)
        else:
            operator = "AND"
            conditions = (_parse_condition(column, model),)
        parsed.append(ColumnFilter(column.id, conditions, operator))
    return tuple(parsed)


def _parse_condition(column: RegisterColumn, model) -> Condition:
    if not isinstance(model, Mapping):
        raise RegisterQueryError(column.id, f"{column.label}: the filter is not in the form the grid sends.")
    kind = column.filter
    types = FILTER_TYPES[kind]
    kind_of_condition = model.get("filterType", kind)
    if kind_of_condition != kind:
        raise RegisterQueryError(column.id, f"{column.label} takes a {kind} filter, not a {kind_of_condition} filter.")
    ftype = model.get("type")
    if ftype not in types:
        offered = ", ".join(f'"{w}"' for w in types.values())
        raise RegisterQueryError(
            column.id, f"{column.label} cannot be filtered that way ({ftype!r}); choose one of {offered}."
        )
    if kind == "text":
        value = model.get("filter")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = _shown(float(value))
        if not isinstance(value, str) or not value.strip():
            raise RegisterQueryError(column.id, f"{column.label}: enter the text to filter by.")
        if len(value) > MAX_FILTER_LENGTH:
            raise RegisterQueryError(
                column.id, f"{column.label}: the filter text is too long (at most {MAX_FILTER_LENGTH} characters)."
            )
        return Condition(ftype, value.strip())
    if kind == "number":
        low = _number(column, model.get("filter"))
        high = _number(column, model.get("filterTo")) if ftype == "inRange" else None
        return Condition(ftype, *_ordered(low, high))
    low = _day(column, model.get("dateFrom"))
    high = _day(column, model.get("dateTo")) if ftype == "inRange" else None
    return Condition(ftype, *_ordered(low, high))


def _ordered(low, high):
    if high is not None and high < low:
        return high, low
    return low, high


def _number(column: RegisterColumn, value) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise RegisterQueryError(column.id, f"{column.label}: enter a number to filter by.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RegisterQueryError(column.id, f"{column.label}: {value!r} is not a number.") from None
    if not math.isfinite(number) or abs(number) > 2**31:
        raise RegisterQueryError(column.id, f"{column.label}: {value!r} is not a number the register holds.")
    return number


def _day(column: RegisterColumn, value) -> date:
    if not isinstance(value, str) or not value.strip():
        raise RegisterQueryError(column.id, f"{column.label}: choose a date to filter by.")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise RegisterQueryError(
            column.id, f"{column.label}: {value!r} is not a date (use the date picker or YYYY-MM-DD)."
        ) from None


# --- pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterPage:
    rows: list[dict]
    last_row: int | None  # the number of rows in all, once the end is known


@dataclass(frozen=True)
class _Labels:
    areas: dict[str, str]
    categories: dict[str, str]
    organisations: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> _Labels:
        return cls(
            dict(session.execute(select(Area.code, Area.name)).all()),
            dict(session.execute(select(IncidentCategory.code, IncidentCategory.label)).all()),
            dict(session.execute(select(Organisation.id, Organisation.name)).all()),
        )


def _text_predicate(condition: Condition) -> Callable[[str], bool]:
    wanted = condition.value.casefold()
    tests = {
        "contains": lambda s: wanted in s,
        "notContains": lambda s: wanted not in s,
        "equals": lambda s: s == wanted,
        "notEqual": lambda s: s != wanted,
        "startsWith": lambda s: s.startswith(wanted),
        "endsWith": lambda s: s.endswith(wanted),
    }
    return tests[condition.type]


def _marking_names(marking: str) -> list[str]:
    """A marking is matched as written ("TLP:AMBER") and without its prefix ("AMBER")."""
    return [marking.casefold(), marking.removeprefix("TLP:").casefold()]


def _labelled_condition(condition: Condition, column_sql, labels: Mapping) -> ColumnElement[bool]:
    """A text filter on what people read (a name or label), as a filter on the stored codes."""
    test = _text_predicate(condition)
    negative = condition.type in ("notContains", "notEqual")
    matched = []
    for code, names in labels.items():
        names = names if isinstance(names, list) else [str(names).casefold()]
        hit = all(test(n) for n in names) if negative else any(test(n) for n in names)
        if hit:
            matched.append(code)
    return column_sql.in_(matched) if matched else false()


def _title_condition(condition: Condition) -> ColumnElement[bool]:
    value = condition.value
    title = Incident.title
    return {
        "contains": lambda: title.icontains(value, autoescape=True),
        "notContains": lambda: not_(title.icontains(value, autoescape=True)),
        "equals": lambda: func.lower(title) == value.lower(),
        "notEqual": lambda: func.lower(title) != value.lower(),
        "startsWith": lambda: title.istartswith(value, autoescape=True),
        "endsWith": lambda: title.iendswith(value, autoescape=True),
    }[condition.type]()


def _compare(column_sql, condition: Condition) -> ColumnElement[bool]:
    low, high = condition.value, condition.value_to
    return {
        "equals": lambda: column_sql == low,
        "notEqual": lambda: column_sql != low,
        "lessThan": lambda: column_sql < low,
        "lessThanOrEqual": lambda: column_sql <= low,
        "greaterThan": lambda: column_sql > low,
        "greaterThanOrEqual": lambda: column_sql >= low,
        "inRange": lambda: column_sql.between(low, high),
    }[condition.type]()


_NUMBER_COLUMNS = {"id": Incident.id, "severity": Incident.severity, "corroborated_by": Incident.corroborated_by}


def _condition_sql(column: str, condition: Condition, labels: _Labels) -> ColumnElement[bool]:
    if column == "title":
        return _title_condition(condition)
    if column == "area":
        return _labelled_condition(condition, Incident.area_code, labels.areas)
    if column == "category":
        return _labelled_condition(condition, Incident.category_code, labels.categories)
    if column == "organisation":
        return _labelled_condition(condition, Incident.source_org_id, labels.organisations)
    if column == "verification":
        return _labelled_condition(condition, Incident.verification, VERIFICATION_LABELS)
    if column == "marking":
        return _labelled_condition(
            condition, Incident.marking, {m.value: _marking_names(m.value) for m in Marking}
        )
    if column == "occurred_on":
        return _compare(Incident.occurred_on, condition)
    number = condition.value
    if column in _NUMBER_COLUMNS:
        if condition.type == "equals" and not float(number).is_integer():
            return false()
        return _compare(_NUMBER_COLUMNS[column], condition)
    raise RegisterQueryError(column, f"The register has no column {column!r} to filter.")  # pragma: no cover


def _column_filter_sql(cf: ColumnFilter, labels: _Labels) -> ColumnElement[bool]:
    parts = [_condition_sql(cf.column, c, labels) for c in cf.conditions]
    return (or_ if cf.operator == "OR" else and_)(*parts) if len(parts) > 1 else parts[0]


def _selection(session: Session, viewer: Viewer, query: RegisterQuery, labels: _Labels) -> Select:
    """SELECT incidents the viewer may see and the query asks for (no order, no columns yet)."""
    stmt = visible(viewer, Incident, query.filters, Purpose.RECORDS)
    matched = search.matching(session.get_bind().dialect.name, query.search)
    if matched is not None:
        stmt = stmt.where(matched)
    for cf in query.column_filters:
        stmt = stmt.where(_column_filter_sql(cf, labels))
    return stmt


def _sort_keys(query: RegisterQuery, *, by_index: bool = True) -> list:
    """ORDER BY for the query; with by_index=False written so that the database finds the rows
    first (from the text index) and sorts them, instead of walking the date index in order."""
    keys = []
    for column, direction in query.effective_sort():
        sql = Incident.id if column == "id" else Incident.occurred_on
        if not by_index:
            sql = func.coalesce(sql, sql)
        keys.append(sql.desc() if direction == "desc" else sql.asc())
    return keys


def when_text(day: date, precision: str) -> str:
    """The date as the register shows it: "3 Nov 2026", "week of 2 Nov 2026" or "Nov 2026"."""
    if precision == "month":
        return f"{day:%b %Y}"
    text = f"{day.day} {day:%b %Y}"
    return f"week of {text}" if precision == "week" else text


_PAGE_COLUMNS = (
    Incident.id, Incident.occurred_on, Incident.date_precision, Incident.area_code, Incident.category_code,
    Incident.title, Incident.severity, Incident.verification, Incident.corroborated_by, Incident.marking,
    Incident.source_org_id,
)


def _check_block(start: int, end: int) -> None:
    if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end <= start:
        raise RegisterQueryError("rows", "Ask for rows from a start position to a later end position.")
    if end - start > MAX_BLOCK:
        raise RegisterQueryError("rows", f"Ask for at most {MAX_BLOCK} rows at a time.")


def rows(session: Session, viewer: Viewer, query: RegisterQuery, start: int, end: int) -> RegisterPage:
    """The rows from `start` to `end` (end excluded, at most 500) in the query's order; `last_row`
    is the number of rows in all when this block reaches the end."""
    _check_block(start, end)
    if not viewer.is_partner:
        return RegisterPage([], 0)
    labels = _Labels.load(session)
    wanted = end - start
    found = _search_block(session, viewer, query, labels, start, wanted) if query.search else None
    if found is None:
        stmt = (
            _selection(session, viewer, query, labels)
            .with_only_columns(*_PAGE_COLUMNS)
            .order_by(*_sort_keys(query, by_index=_by_index(session, query)))
            .offset(start)
            .limit(wanted + 1)  # one more, to know whether this block is the last
        )
        found = session.execute(stmt).all()
    page = [_page_row(r, labels) for r in found[:wanted]]
    last_row = start + len(found) if len(found) <= wanted else None
    return RegisterPage(page, last_row)


# A search is answered either from the text index (every match found, then sorted) or by reading
# the date index in order and keeping the matches (quick when matches are common, but a read of
# every row when they are rare). Left to themselves, SQLite picks the first (300 ms for a common
# word at a million incidents) and PostgreSQL the second (15 s for a word nothing matches, as it
# works out each row's words). So a block is first looked for in date order among the newest (or
# oldest) rows, a window of SEARCH_WINDOW rows; only when the window does not hold the whole
# block is it found from the text index and sorted.
SEARCH_WINDOW = 50_000  # SQLite keeps a list of the matches and reads 50,000 rows in about 25 ms
POSTGRES_SEARCH_WINDOW = 5_000  # PostgreSQL works out each row's words there: about 3 us a row


def _by_index(session: Session, query: RegisterQuery) -> bool:
    """Whether a search should be read in date order (SQLite) or found first (PostgreSQL)."""
    return not (query.search and session.get_bind().dialect.name == "postgresql")


def _search_condition(session: Session, text: str) -> ColumnElement[bool] | None:
    """search.matching's condition for reading rows in index order and stopping early."""
    return search.matching(session.get_bind().dialect.name, text, in_index_order=True)


def _search_block(session, viewer, query, labels, start: int, wanted: int):
    """The block from the window of newest (or oldest) rows in order, or None when the window
    may not hold all of it (then the caller finds the matches first)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and start + wanted > 500:
        return None  # (deep blocks: the window would have to be too wide)
    condition = _search_condition(session, query.search)
    if condition is None:
        return None
    column, direction = query.effective_sort()[0]
    key = Incident.id if column == "id" else Incident.occurred_on
    order = _sort_keys(query)
    window = max(POSTGRES_SEARCH_WINDOW if postgres else SEARCH_WINDOW, (start + wanted) * 20)
    # Where the window ends: a date (or reference) read from the index alone. It only bounds
    # the query below, which goes through the access gate; no record is read here.
    edge = session.scalar(select(key).order_by(*order).offset(window).limit(1))
    stmt = visible(viewer, Incident, query.filters, Purpose.RECORDS).where(condition)
    for cf in query.column_filters:
        stmt = stmt.where(_column_filter_sql(cf, labels))
    if edge is not None:
        stmt = stmt.where(key >= edge if direction == "desc" else key <= edge)
    found = session.execute(
        stmt.with_only_columns(*_PAGE_COLUMNS).order_by(*order).offset(start).limit(wanted + 1)
    ).all()
    if edge is None or len(found) > wanted:
        return found
    return None


def _page_row(r, labels: _Labels) -> dict:
    return {
        "id": r.id,
        "occurred_on": r.occurred_on.isoformat(),
        "when": when_text(r.occurred_on, r.date_precision),
        "area": labels.areas.get(r.area_code, r.area_code),
        "area_code": r.area_code,
        "category": labels.categories.get(r.category_code, r.category_code),
        "title": r.title,
        "severity": int(r.severity),
        "severity_label": SEVERITY_LABELS.get(int(r.severity), str(r.severity)),
        "verification": VERIFICATION_LABELS.get(r.verification, r.verification),
        "corroborated_by": int(r.corroborated_by or 0),
        "marking": r.marking,
        "organisation": labels.organisations.get(r.source_org_id, ""),
    }


def count(session: Session, viewer: Viewer, query: RegisterQuery) -> int:
    """How many incidents the viewer may see match the query (the register's "N incidents")."""
    if not viewer.is_partner:
        return 0
    if not query.search and not query.column_filters:
        return _count_from_summaries(session, viewer, query.filters)
    labels = _Labels.load(session)
    stmt = _selection(session, viewer, query, labels).with_only_columns(func.count(Incident.id))
    return int(session.scalar(stmt) or 0)


def _count_from_summaries(session: Session, viewer: Viewer, filters: RecordFilters) -> int:
    """The same count as counting the rows one by one, from the monthly counts for whole months
    (rollups.incidents_by_area): a million rows are not read to say how many there are."""
    start, end = filters.start, filters.end
    if start is None or end is None:
        dates = visible(viewer, Incident, filters, Purpose.RECORDS).with_only_columns(Incident.occurred_on)
        first = session.scalar(dates.order_by(Incident.occurred_on.asc(), Incident.id.asc()).limit(1))
        last = session.scalar(dates.order_by(Incident.occurred_on.desc(), Incident.id.desc()).limit(1))
        if first is None or last is None:
            return 0
        start, end = start or first, end or last
        if start > end:
            return 0
    by_area: Counter = incidents_by_area(session, viewer, replace(filters, start=start, end=end))
    return int(sum(by_area.values()))


# --- exports ------------------------------------------------------------------------------------

EXPORT_CHUNK = 2_000

_EXPORT_COLUMNS = (
    *_PAGE_COLUMNS, Incident.description, Incident.latitude, Incident.longitude, Incident.location_precision,
    Incident.reporter_id, Incident.created_at,
)


def iter_export_rows(session: Session, viewer: Viewer, query: RegisterQuery, limit: int) -> Iterator[dict]:
    """Every column of up to `limit` incidents of the query, in its order: the references in
    order first (one query), then their rows EXPORT_CHUNK at a time."""
    if not viewer.is_partner or limit <= 0:
        return
    labels = _Labels.load(session)
    strand_labels = dict(session.execute(select(Strand.code, Strand.label)).all())
    selection = _selection(session, viewer, query, labels)
    ids = session.scalars(
        selection.with_only_columns(Incident.id)
        .order_by(*_sort_keys(query, by_index=_by_index(session, query)))
        .limit(limit)
    ).all()
    for first in range(0, len(ids), EXPORT_CHUNK):
        part = ids[first:first + EXPORT_CHUNK]
        found = {
            r.id: r
            for r in session.execute(selection.with_only_columns(*_EXPORT_COLUMNS).where(Incident.id.in_(part)))
        }
        strands = _strands_of(session, part, strand_labels)
        reporters = dict(
            session.execute(select(User.id, User.name).where(User.id.in_({r.reporter_id for r in found.values()})))
            .all()
        )
        for incident_id in part:
            r = found.get(incident_id)
            if r is None:
                continue  # (deleted or re-marked since the references were read)
            row = _page_row(r, labels)
            row.update(
                occurred_on=r.occurred_on,
                date_precision=DATE_PRECISION_LABELS.get(r.date_precision, r.date_precision),
                strands="; ".join(strands.get(r.id, ())),
                description=r.description or "",
                latitude=r.latitude,
                longitude=r.longitude,
                location_precision=LOCATION_PRECISION_LABELS.get(r.location_precision, r.location_precision),
                reporter=reporters.get(r.reporter_id, ""),
                created_at=r.created_at,
            )
            yield row


def _strands_of(session: Session, ids: list[int], strand_labels: Mapping[str, str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for part in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        for incident_id, code in session.execute(
            select(incident_strands.c.incident_id, incident_strands.c.strand_code)
            .where(incident_strands.c.incident_id.in_(part))
            .order_by(incident_strands.c.incident_id, incident_strands.c.strand_code)
        ):
            found.setdefault(incident_id, []).append(strand_labels.get(code, code))
    return found


__all__ = [
    "COLUMNS", "ColumnFilter", "Condition", "RegisterColumn", "RegisterPage", "RegisterQuery",
    "RegisterQueryError", "count", "iter_export_rows", "rows", "when_text",
]
