"""The incident register page: every incident the viewer may see in a grid that pages, sorts and
filters on the server, with quick search, the shared filters, export and import."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.filters import FilterState, Vocabulary

from .filters import filters_panel

PREFIX = "register"
GRID_ID = "register-grid"
BLOCK_SIZE = 100  # rows the grid asks the server for at a time (the register allows up to 500)
ERROR_ROWS_SHOWN = 1_000  # import errors listed on the page; the full list is a download

# The grid's filters for each kind of register column.
GRID_FILTERS = {"text": "agTextColumnFilter", "number": "agNumberColumnFilter", "date": "agDateColumnFilter"}
# Columns shown from another field of the row than their id (the id stays the grid's colId, so
# the sort and filter models name the register's columns).
DISPLAY_FIELDS = {"occurred_on": "when", "title": "title_link", "severity": "severity_text"}
COLUMN_SIZES = {
    "id": {"width": 120},
    "occurred_on": {"width": 190},
    "title": {"flex": 1, "minWidth": 320},
    "marking": {"width": 185},
    "area": {"width": 170},
    "category": {"width": 200},
    "severity": {"width": 140},
    "verification": {"width": 150},
    "organisation": {"width": 210},
    "corroborated_by": {"width": 170},
}
# The grid's order: what identifies an incident and how it may be handled come first.
COLUMN_ORDER = tuple(COLUMN_SIZES)
MARKING_CLASSES = {
    "register-tlp-red": "TLP:RED",
    "register-tlp-amber-strict": "TLP:AMBER+STRICT",
    "register-tlp-amber": "TLP:AMBER",
    "register-tlp-green": "TLP:GREEN",
    "register-tlp-clear": "TLP:CLEAR",
}

# Export form fields: where each error links to and the element that shows it beside the field.
EXPORT_TARGETS = {"format": "register-export-format", "reason": "register-export-reason"}
EXPORT_FORMATS = [{"label": "CSV (opens in any spreadsheet)", "value": "csv"},
                  {"label": "Excel (XLSX)", "value": "xlsx"}]

# The register's own parts of the address bar (the shared filters add theirs).
DISTRICTS_KEY = "district"
SEARCH_KEY = "q"


# --- the address bar ------------------------------------------------------------------------------


def parse_view(query: Mapping[str, str], vocab: Vocabulary) -> tuple[list[str], str]:
    """The chosen districts (known codes only, in the list's order) and the search, from the URL."""
    chosen = {c for c in str(query.get(DISTRICTS_KEY, "") or "").split(",") if c}
    districts = [code for code, _ in vocab.districts if code in chosen]
    search = clean_search(query.get(SEARCH_KEY))
    return districts, search


def clean_search(text) -> str:
    """A search as typed, with its spaces tidied (at most 200 characters, as the box allows)."""
    return " ".join(str(text or "").split())[:200]


def query_string(state: FilterState, districts: Sequence[str], search: str) -> str:
    """The view as a query string ("?period=12m&district=...&q=..."): choices only, never records."""
    query = state.to_query()
    if districts:
        query[DISTRICTS_KEY] = ",".join(districts)
    if search:
        query[SEARCH_KEY] = search
    return "?" + urlencode(query, safe=",:+")


# --- the grid ---------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark


def markdown_text(text: str) -> str:
    """Text shown literally by the grid's markdown cells (every punctuation mark escaped, no
    line breaks), so that a title can never become a link, an image or formatting."""
    flat = " ".join(str(text or "").split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def grid_row(row: Mapping) -> dict:
    """A register row as the grid shows it: the title as a link to the incident's page."""
    shown = dict(row)
    shown["title_link"] = f"[{markdown_text(row.get('title') or 'Untitled incident')}](/incidents/{int(row['id'])})"
    severity = row.get("severity")
    label = row.get("severity_label") or ""
    shown["severity_text"] = f"{severity} - {label}" if label else str(severity)
    return shown


def column_defs(columns: Iterable) -> list[dict]:
    """AG Grid column definitions from the register's columns (register.COLUMNS): each sorts
    and filters only as the server can, with the filter options it accepts."""
    defs = []
    rank = {col_id: n for n, col_id in enumerate(COLUMN_ORDER)}
    for column in sorted(columns, key=lambda c: rank.get(c.id, len(rank))):
        col = {
            "colId": column.id,
            "field": DISPLAY_FIELDS.get(column.id, column.id),
            "headerName": column.label,
            "sortable": bool(column.sortable),
            **COLUMN_SIZES.get(column.id, {"width": 160}),
        }
        if column.filter:
            col["filter"] = GRID_FILTERS[column.filter]
            col["floatingFilter"] = True
            col["filterParams"] = {"buttons": ["reset"], "maxNumConditions": 2, "debounceMs": 600}
            options = list(getattr(column, "filter_options", ()) or ())
            if options:  # only the ways of filtering the server accepts
                col["filterParams"]["filterOptions"] = options
        else:
            col["filter"] = False
        if column.id == "title":
            col["cellRenderer"] = "markdown"
        if column.id == "marking":
            col["cellClass"] = "register-marking"
            col["cellClassRules"] = {css: f"params.value === '{value}'" for css, value in MARKING_CLASSES.items()}
        if column.id in ("id", "corroborated_by"):
            col["type"] = "rightAligned"
        defs.append(col)
    return defs


# The grid is one Tab stop, as the ARIA grid pattern has it: Tab enters it, the arrow keys (Home,
# End, Page Up, Page Down) move between its cells, and Tab leaves it for the export and import
# forms below (AG Grid's own Tab would go through every cell of every row first). Enter on a row's
# cell opens the incident; the page's callback follows eventData to the incident.
LEAVE_ON_TAB = {"function": "false"}
OPEN_ON_ENTER = "params.event.key === 'Enter' && params.data ? setEventData({open: params.data.id}) : null"


def grid(columns: Iterable) -> dag.AgGrid:
    return dag.AgGrid(
        id=GRID_ID,
        eventListeners={"cellKeyDown": [OPEN_ON_ENTER]},
        rowModelType="infinite",
        columnDefs=column_defs(columns),
        defaultColDef={"resizable": True, "suppressHeaderMenuButton": True, "minWidth": 90},
        dashGridOptions={
            "cacheBlockSize": BLOCK_SIZE,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            # dash-ag-grid answers one request at a time: more would be given the wrong rows.
            "maxConcurrentDatasourceRequests": 1,
            "blockLoadDebounceMillis": 150,
            "rowHeight": 44,
            "headerHeight": 48,
            # Screen readers and keyboards get every column and rows in reading order.
            "ensureDomOrder": True,
            "suppressColumnVirtualisation": True,
            "suppressDragLeaveHidesColumns": True,
            "enableCellTextSelection": True,
            "tabToNextCell": LEAVE_ON_TAB,
            "tabToNextHeader": LEAVE_ON_TAB,
            "localeText": {"noRowsToShow": "No incidents match.", "loadingOoo": "Loading incidents..."},
        },
        className="register-grid",
        style={"height": "640px", "width": "100%"},
    )


# --- the page -----------------------------------------------------------------------------------------


def not_a_partner() -> html.Div:
    return html.Div(
        [
            html.H1("Incident register"),
            html.P(
                "The incident register is shared by the partnership's member organisations. Your account "
                "or organisation is not an active member, so no incidents are shown. Ask your administrator."
            ),
        ]
    )


def _actions(is_admin: bool) -> html.Div:
    links = [
        dcc.Link("Log an incident", href="/incidents/new", className="btn btn-primary", id="register-new-incident"),
        dcc.Link("Record a tension assessment", href="/assessments/new", className="btn btn-outline-primary",
                 id="register-new-assessment"),
    ]
    if is_admin:
        links.append(dcc.Link("Deleted records", href="/deleted", className="btn btn-outline-secondary",
                              id="register-deleted"))
    return html.Div(links, className="d-flex flex-wrap gap-2 mb-3")


def _districts(vocab: Vocabulary, chosen: Sequence[str]) -> html.Details:
    return html.Details(
        [
            html.Summary("Districts", className="filter-summary"),
            html.Fieldset(
                [
                    html.Legend("Districts", className="visually-hidden"),
                    dbc.Checklist(
                        id="register-districts",
                        options=[{"label": name, "value": code} for code, name in vocab.districts],
                        value=list(chosen),
                    ),
                ],
                className="register-districts",
            ),
        ],
        className="filter-group",
        open=bool(chosen),
        id="register-districts-section",
    )


def _search(search: str) -> html.Div:
    return html.Div(
        [
            dbc.Label("Search titles and descriptions", html_for="register-search", className="fw-semibold mb-1"),
            html.Div(
                "Finds incidents whose title or description has every word you type; the start of a word "
                "is enough (\u201cleaf\u201d finds \u201cleaflets\u201d).",
                id="register-search-hint",
                className="form-text mt-0 mb-1",
            ),
            html.Div(
                [
                    dbc.Input(
                        id="register-search", type="search", value=search, debounce=700, maxlength=200,
                        autocomplete="off", n_submit=0,
                    ),
                    html.Button("Search", id="register-search-button", type="button", n_clicks=0,
                                className="btn btn-primary"),
                ],
                className="input-group register-search",
            ),
        ],
        className="mb-3",
        role="search",
    )


def _field_label(text: str, target: str, hint: str | None = None) -> list:
    """A label, the field's error (read out with the label) and an optional hint."""
    children: list = [
        dbc.Label([text, html.Span(id=f"{target}-error", className="field-error d-block")],
                  html_for=target, className="fw-semibold mb-1")
    ]
    if hint:
        children.append(html.Div(hint, className="form-text mt-0 mb-1", id=f"{target}-hint"))
    return children


def export_section(row_limit: int, reason_min: int) -> html.Section:
    return html.Section(
        [
            html.H2("Export this view", className="card-title h5", id="register-export-heading"),
            html.P(
                f"Download the incidents of this view (its filters, search, column filters and order) that "
                f"you may see, up to {row_limit:,}, with every column. The file\u2019s name and first line "
                "give the most restrictive marking in it: handle the file by that marking.",
                className="small",
            ),
            html.Div(id="register-export-errors", className="error-summary", role="alert", tabIndex="-1",
                     hidden=True, **{"aria-labelledby": "register-export-errors-title"}),
            html.Fieldset(
                [
                    html.Legend(["Format", html.Span(id="register-export-format-error",
                                                     className="field-error d-block fs-6")],
                                className="fs-6 fw-semibold mb-1"),
                    dbc.RadioItems(id=EXPORT_TARGETS["format"], name=EXPORT_TARGETS["format"], options=EXPORT_FORMATS,
                                   value="csv"),
                ],
                className="mb-3",
            ),
            html.Div(
                [
                    *_field_label(
                        "Why do you need this export?", EXPORT_TARGETS["reason"],
                        f"Kept in the audit log with your name, the time and what was exported. "
                        f"At least {reason_min} characters.",
                    ),
                    dbc.Textarea(id=EXPORT_TARGETS["reason"], value="", rows=3, maxlength=1000),
                ],
                className="mb-3",
            ),
            html.Button("Export", id="register-export-button", type="button", n_clicks=0, className="btn btn-primary"),
            dcc.Loading(
                html.Div(id="register-export-status", role="status", className="mt-2",
                         **{"aria-live": "polite", "aria-atomic": "true"}),
                type="dot", delay_show=300,
            ),
            dcc.Download(id="register-export-download"),
        ],
        className="card card-body mb-4",
        id="register-export",
        **{"aria-labelledby": "register-export-heading"},
    )


def template_table(columns: Iterable) -> html.Table:
    rows = [
        html.Tr(
            [
                html.Th(html.Code(c.name), scope="row", className="fw-normal"),
                html.Td("Required" if c.required else "Optional"),
                html.Td(c.description),
                html.Td(html.Code(str(c.example)) if c.example not in (None, "") else ""),
            ]
        )
        for c in columns
    ]
    return html.Table(
        [
            html.Caption("The template\u2019s columns"),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Column", "Required", "What to enter", "Example")])),
            html.Tbody(rows),
        ],
        className="table table-sm align-top",
        id="register-template-columns",
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def accepted_codes(lines: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> list:
    """The codes some template columns take (e.g. category, strands), each with its name."""
    children: list = []
    for column, codes in lines:
        children.append(html.H3(["Codes for ", html.Code(column)], className="h6 mt-2"))
        children.append(html.Ul([html.Li([html.Code(code), f" {label}"]) for code, label in codes],
                                className="register-codes small"))
    return children


def import_section(template_columns: Iterable, max_bytes: int, max_rows: int,
                   codes: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()) -> html.Section:
    return html.Section(
        [
            html.H2("Import incidents from a spreadsheet", className="card-title h5", id="register-import-heading"),
            html.P(
                "Fill in the template, one incident a row, then upload it. Every row is checked (codes, "
                "dates, categories, strands, markings) and nothing is imported unless every row is right, "
                "so a file can be corrected and uploaded again. Old Northamptonshire district codes are "
                "changed to the districts that replaced them, and the report says so.",
                className="small",
            ),
            html.Div(
                [
                    html.Button("Download the CSV template", id="register-template-csv", type="button", n_clicks=0,
                                className="btn btn-outline-primary btn-sm"),
                    html.Button("Download the Excel (XLSX) template", id="register-template-xlsx", type="button",
                                n_clicks=0, className="btn btn-outline-primary btn-sm"),
                ],
                className="d-flex flex-wrap gap-2 mb-2",
            ),
            dcc.Download(id="register-template-download"),
            html.Details(
                [
                    html.Summary("What goes in each column", className="filter-summary"),
                    html.Div(template_table(template_columns), className="table-responsive mt-2"),
                    *accepted_codes(codes),
                ],
                className="mb-3",
                id="register-template-details",
            ),
            html.Div(
                [
                    html.H3("Upload a completed file", className="h6 mb-1", id="register-upload-heading"),
                    html.Div(
                        f"A .csv or .xlsx file of up to {_megabytes(max_bytes)} and {max_rows:,} rows. "
                        "A larger file, or a file of another kind, is not accepted.",
                        className="form-text mt-0 mb-1",
                        id="register-upload-hint",
                    ),
                    # The file field's label is the visible button-like face (a click on it, or
                    # Space or Enter on the focused field, opens the file chooser).
                    html.Label(
                        dcc.Upload(
                            html.Span("Choose a file to import", className="btn btn-primary register-upload-face"),
                            id="register-upload",
                            accept=".csv,.xlsx",
                            max_size=max_bytes,
                            multiple=False,
                            disable_click=True,
                            className="register-upload",
                            className_active="register-upload is-active",
                            className_reject="register-upload is-rejected",
                        ),
                        className="register-upload-label",
                        id="register-upload-field",
                    ),
                    html.Div("You can also drop the file on the button.", className="form-text"),
                ],
                className="mb-3",
            ),
            dcc.Loading(
                html.Div(
                    id="register-import-report",
                    tabIndex="-1",
                    className="register-import-report",
                    **{"aria-live": "polite"},
                ),
                type="circle",
                delay_show=300,
                overlay_style={"visibility": "visible", "opacity": 0.5},
            ),
            html.Button("Download the full error list", id="register-import-errors-button", type="button",
                        n_clicks=0, hidden=True, className="btn btn-outline-secondary btn-sm mt-2"),
            dcc.Store(id="register-import-errors", data=None),
            dcc.Download(id="register-import-errors-download"),
        ],
        className="card card-body mb-4",
        id="register-import",
        **{"aria-labelledby": "register-import-heading"},
    )


def layout(
    vocab: Vocabulary,
    state: FilterState,
    districts: Sequence[str],
    search: str,
    columns: Iterable,
    *,
    is_admin: bool,
    template_columns: Iterable,
    max_bytes: int,
    max_rows: int,
    export_limit: int,
    reason_min: int,
    import_codes: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="register-query", data=query_string(state, districts, search)),
            dcc.Store(id="register-refresh", data=0),
            html.Div(id="register-url-sink", hidden=True),
            html.Div(id="register-focus-sink", hidden=True),
            html.Div(id="register-grid-sink", hidden=True),
            html.Div(id="register-open-sink", hidden=True),
            html.H1("Incident register"),
            html.P(
                "Every incident you may see, newest first: search, filter and sort them, open one to read "
                "or change it, export the view, or import incidents from a spreadsheet.",
                className="lead",
            ),
            _actions(is_admin),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            filters_panel(PREFIX, vocab, state),
                            _districts(vocab, districts),
                        ],
                        lg=3,
                        className="mb-3",
                    ),
                    dbc.Col(
                        [
                            html.Section(
                                [
                                    html.H2("Incidents", className="h5 visually-hidden", id="register-grid-heading"),
                                    _search(search),
                                    html.Div(
                                        id="register-errors", className="error-summary", role="alert",
                                        tabIndex="-1", hidden=True,
                                        **{"aria-labelledby": "register-errors-title"},
                                    ),
                                    html.P(id="register-status", role="status", className="register-status fw-semibold",
                                           **{"aria-live": "polite", "aria-atomic": "true"}),
                                    html.P(
                                        "Sort by Ref or Date from their column headings; filter any column from "
                                        "the box under its heading. Open an incident from its title: in the grid, the "
                                        "arrow keys move between cells and Enter opens the incident of the row.",
                                        className="small text-body-secondary",
                                        id="register-grid-help",
                                    ),
                                    dcc.Loading(
                                        grid(columns),
                                        type="circle",
                                        delay_show=600,
                                        show_initially=False,
                                        overlay_style={"visibility": "visible", "opacity": 0.6},
                                        target_components={GRID_ID: "getRowsResponse"},
                                    ),
                                ],
                                className="mb-4",
                                **{"aria-labelledby": "register-grid-heading"},
                            ),
                            dbc.Row(
                                [
                                    dbc.Col(export_section(export_limit, reason_min), xl=5),
                                    dbc.Col(import_section(template_columns, max_bytes, max_rows, import_codes), xl=7),
                                ]
                            ),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ],
        className="register-page",
    )


# --- pieces the callbacks fill in ----------------------------------------------------------------------


def status_text(total: int, search: str = "") -> str:
    noun = "incident matches" if total == 1 else "incidents match"
    text = f"{total:,} {noun}"
    if search:
        text += f" \u201c{search}\u201d"
    return text + "."


def error_summary(prefix: str, errors: Mapping[str, str], targets: Mapping[str, str] | None = None,
                  problem: str | None = None) -> list:
    """An error summary's content: each problem as a link to the control it is about."""
    children: list = [html.H2("There is a problem", className="h5", id=f"{prefix}-errors-title")]
    if problem:
        children.append(html.P(problem, className="mb-0"))
    if errors:
        items = []
        for name, message in errors.items():
            target = (targets or {}).get(name)
            items.append(html.Li(html.A(message, href=f"#{target}") if target else message))
        children.append(html.Ul(items, className="mb-0"))
    return children


def export_done(rows: int, highest_marking: str | None, filename: str) -> str:
    noun = "incident" if rows == 1 else "incidents"
    if not rows or not highest_marking:
        return f"Exported {rows:,} {noun} to {filename}."
    return (f"Exported {rows:,} {noun}; the most restrictive marking in the file is {highest_marking}. "
            f"The file is {filename}.")


def mapped_text(mapped_codes: Sequence, names: Mapping[str, str] | None = None) -> str:
    """Which old district codes were changed, e.g. "E07000150 to North Northamptonshire
    (E06000061) in 3 rows"."""
    names = names or {}
    counted: dict[tuple[str, str], int] = {}
    for _row, old, new in mapped_codes:
        counted[(old, new)] = counted.get((old, new), 0) + 1
    parts = []
    for (old, new), n in counted.items():
        successor = f"{names[new]} ({new})" if new in names else new
        parts.append(f"{old} to {successor} in {n:,} row{'' if n == 1 else 's'}")
    return "; ".join(parts)


def import_report(report, names: Mapping[str, str] | None = None) -> list:
    """What happened to an uploaded file: the summary and the old district codes changed, or
    when it was refused or had errors, a table of the first problems (row, column, problem)."""
    if report.ok:
        children: list = [
            html.H3("File imported", className="h6", id="register-import-title"),
            html.P(report.summary(), className="mb-1"),
        ]
        if report.mapped_codes:
            children.append(html.P(f"Old district codes changed: {mapped_text(report.mapped_codes, names)}.",
                                   className="small mb-0"))
        return [html.Div(children, className="notice mb-0")]
    children = [
        html.H3("The file was not imported", className="h5", id="register-import-title"),
        html.P(report.summary(), className="mb-2"),
    ]
    if report.errors:
        shown = report.errors[:ERROR_ROWS_SHOWN]
        total = max(getattr(report, "error_count", 0) or 0, len(report.errors))
        caption = (f"The first {len(shown):,} of {total:,} problems" if total > len(shown)
                   else f"{len(shown):,} problem{'' if len(shown) == 1 else 's'}")
        children.append(
            html.Div(
                html.Table(
                    [
                        html.Caption(caption),
                        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Row", "Column", "Problem")])),
                        html.Tbody([
                            html.Tr([html.Td(f"{e.row:,}" if e.row else "-"), html.Td(e.column or "-"),
                                     html.Td(e.message)])
                            for e in shown
                        ]),
                    ],
                    className="table table-sm align-top mb-0",
                    id="register-import-errors-table",
                ),
                className="table-responsive register-import-errors",
                tabIndex="0",
                role="region",
                **{"aria-label": "Problems found in the file"},
            )
        )
    return [html.Div(children, className="error-summary mb-0")]
