"""The national summaries page: counts from TLP:GREEN and TLP:CLEAR records after disclosure
control, by area, quarter by quarter and by tension level, with the rules applied, two charts
(each with its caption, its generated sentence and its table), the filters and the downloads.

Nothing here is record-level: every figure comes from a `SummaryTable`'s protected cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.disclosure import CONCEALED, SUPPRESSED, Cell
from dashboard.exports import REASON_MAX_LENGTH, REASON_MIN_LENGTH
from dashboard.summaries import (
    BREAKDOWN_LABELS,
    GEOGRAPHY_LABELS,
    Summary,
    SummaryChoices,
    SummaryQuery,
    SummaryTable,
)

from . import record_parts as parts
from .components import card, marking_label
from .trends import LEGEND, PALETTE

PAGE_ID = "summaries-page"
QUERY_STORE = "summaries-query"
RESULTS_ID = "summaries-results"
ERRORS_ID = "summaries-errors"
DOWNLOAD_ERRORS_ID = "summaries-download-errors"

# The filters, by the name `query_from_params` (and SummaryError.field) gives each.
CONTROL_IDS = {
    "to": "summaries-to",
    "quarters": "summaries-quarters",
    "geography": "summaries-geography",
    "breakdown": "summaries-breakdown",
    "area": "summaries-areas",
    "category": "summaries-categories",
}
CONTROL_LABELS = {
    "to": "Up to",
    "quarters": "Number of quarters",
    "geography": "Areas shown as",
    "breakdown": "Break down by",
    "area": "Districts",
    "category": "Categories",
}
CONTROL_GROUPS = {"geography", "breakdown", "area", "category"}  # radios and checkboxes
CONTROL_SINGLE = [name for name in CONTROL_IDS if name not in CONTROL_GROUPS]
CONTROL_TARGETS = {name: parts.link_target(i, name in CONTROL_GROUPS, [1]) for name, i in CONTROL_IDS.items()}
QUARTER_COUNTS = (1, 2, 4, 8, 12, 20)

DOWNLOAD_IDS = {"format": "summaries-download-format", "reason": "summaries-download-reason"}
DOWNLOAD_SINGLE = ["reason"]
DOWNLOAD_TARGETS = {"format": f"{DOWNLOAD_IDS['format']}-0", "reason": DOWNLOAD_IDS["reason"]}

# Section ids and short headings of the three tables (the caption carries the full title).
TABLE_IDS = {"by_area": "summaries-by-area", "by_quarter": "summaries-by-quarter", "tension": "summaries-tension"}
QUARTERS_GRAPH = "summaries-graph-quarters"
TENSION_GRAPH = "summaries-graph-tension"
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}

SUPPRESSED_TITLE = "Fewer than 5: a count from 1 to 4, hidden"
CONCEALED_TITLE = "Hidden so that another hidden figure cannot be worked out"

# Tension levels in the Analysis Function's palette, each with its own fill pattern too, so that
# neither colour nor pattern alone tells them apart (the legend says "1 Low" ... in words).
LEVEL_STYLES = {
    "1": ("#28A197", "", "#0B0C0C"),
    "2": ("#12436D", "/", "#FFFFFF"),
    "3": ("#A285D1", ".", "#0B0C0C"),
    "4": ("#F46A25", "x", "#0B0C0C"),
    "5": ("#801650", "\\", "#FFFFFF"),
    "none": ("#3D3D3D", "-", "#FFFFFF"),
}
# A pattern for each bar series as well as its colour: 8 patterns and 6 colours never repeat together
# for the strands (up to 24 series).
BAR_PATTERNS = ("", "/", ".", "x", "\\", "-", "|", "+")
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
_AXIS = {"gridcolor": "#E1E5EA", "linecolor": "#3D3D3D", "zerolinecolor": "#3D3D3D", "automargin": True}


# --- the address bar ------------------------------------------------------------------------------


def query_string(query: SummaryQuery) -> str:
    """The view as a query string ("?to=2026Q3&breakdown=strand"): choices only, never records."""
    params = query.params()
    return "?" + urlencode(params, doseq=True) if params else ""


def field_message(field: str, message: str) -> str:
    """An error message that names the filter it is about ("Up to: ...")."""
    label = CONTROL_LABELS.get(field, "")
    if label and label.lower() not in message.lower():
        return f"{label}: {message}"
    return message


# --- words and cells ---------------------------------------------------------------------------------


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def cell_text(cell: Cell | None) -> str:
    """A published figure as the page shows it: a number, or "<5" / "[c]" (the key above the
    tables says what they mean; plain text keeps a 65-row table's answer small)."""
    if cell is None:
        return ""
    return str(cell.shown) if cell.suppressed else f"{int(cell.shown):,}"


def period_text(query: SummaryQuery) -> str:
    return (f"{query.period_label} ({_plural(query.quarters, 'quarter')}, {parts.day_text(query.start)} to "
            f"{parts.day_text(query.end)})")


# --- the rules ---------------------------------------------------------------------------------------


def rules_card(rules: Sequence[str]) -> html.Section:
    return card(
        "Rules applied",
        html.P("Every figure on this page, and in its downloads, follows these rules:", className="mb-1"),
        html.Ul([html.Li(rule) for rule in rules], id="summaries-rules-list", className="summaries-rules-list"),
        html.H3("What the symbols in the tables mean", className="h6"),
        html.Dl(
            [
                html.Div([html.Dt(html.Abbr(SUPPRESSED, title=SUPPRESSED_TITLE)),
                          html.Dd(f"\u201c{SUPPRESSED}\u201d: fewer than 5. The count is from 1 to 4 and is "
                                  "hidden so that nobody can be identified.")],
                         className="summaries-key-row"),
                html.Div([html.Dt(html.Abbr(CONCEALED, title=CONCEALED_TITLE)),
                          html.Dd(f"\u201c{CONCEALED}\u201d: hidden to protect another figure. Without it, a "
                                  "hidden count could be worked out from the totals.")],
                         className="summaries-key-row"),
            ],
            className="summaries-key mb-0",
            id="summaries-key",
        ),
        id_="summaries-rules",
    )


# --- the filters ------------------------------------------------------------------------------------


def _quarter_options(choices: SummaryChoices, query: SummaryQuery) -> list[dict]:
    quarters = list(choices.quarters)
    if query.to not in quarters:  # a quarter from the address bar that the list does not hold
        quarters = sorted([*quarters, query.to], reverse=True)
    return [{"label": q.label, "value": q.code} for q in quarters]


def _count_options(query: SummaryQuery) -> list[dict]:
    counts = sorted({*QUARTER_COUNTS, query.quarters})
    return [{"label": _plural(n, "quarter"), "value": str(n)} for n in counts]


def _select(name: str, options: list[dict], value: str, hint: str | None = None) -> html.Div:
    id_ = CONTROL_IDS[name]
    return html.Div(
        [*parts.field_label(CONTROL_LABELS[name], id_, parts.error_id(id_), hint),
         dbc.Select(id=id_, options=options, value=value)],
        className="summaries-filter me-3 mb-3",
    )


def _radios(name: str, choices: Sequence[tuple[str, str]], value: str) -> html.Fieldset:
    return parts.radio_field(CONTROL_IDS[name], CONTROL_LABELS[name], choices, value, inline=True,
                             class_name="summaries-filter me-4 mb-3")


def _checklist(name: str, choices: Sequence[tuple[str, str]], value: Sequence[str], everything: str) -> html.Details:
    id_ = CONTROL_IDS[name]
    label = CONTROL_LABELS[name]
    chosen = [code for code in value if code in {c for c, _ in choices}]
    summary = f"{label} ({_plural(len(chosen), 'chosen', 'chosen')})" if chosen else f"{label} ({everything})"
    return html.Details(
        [
            html.Summary(summary, className="filter-summary", id=f"{id_}-summary"),
            html.Fieldset(
                [
                    *parts.legend(label, parts.error_id(id_), f"Choose none to count {everything}."),
                    html.Div(
                        dbc.Checklist(id=id_, options=parts.choice_options(id_, choices), value=chosen),
                        className="summaries-choices",
                    ),
                ],
                id=f"{id_}-fieldset",
            ),
        ],
        className="filter-group summaries-filter-group",
        open=bool(chosen),
        id=f"{id_}-details",
    )


def filters(query: SummaryQuery, choices: SummaryChoices) -> html.Section:
    return html.Section(
        [
            html.H2("Choose what to count", className="card-title h5", id="summaries-filters-heading"),
            html.P("The tables and charts change as soon as you choose; the address bar keeps your "
                   "choices, so you can bookmark or share the view.", className="small"),
            html.Div(
                [
                    _select("to", _quarter_options(choices, query), query.to.code,
                            "The last quarter counted."),
                    _select("quarters", _count_options(query), str(query.quarters),
                            "How many quarters, ending with that one."),
                ],
                className="d-flex flex-wrap align-items-end",
            ),
            html.Div(
                [
                    _radios("geography", [(g.value, label) for g, label in GEOGRAPHY_LABELS.items()],
                            query.geography.value),
                    _radios("breakdown", [(b.value, label) for b, label in BREAKDOWN_LABELS.items()],
                            query.breakdown.value),
                ],
                className="d-flex flex-wrap",
            ),
            _checklist("area", choices.districts, query.areas, f"all {len(choices.districts)} districts"),
            _checklist("category", choices.categories, query.categories, "every category"),
            html.P(dcc.Link("Clear the filters", href="/summaries", id="summaries-clear"),
                   className="small mb-0 mt-2"),
        ],
        className="card card-body mb-4 summaries-filters",
        id="summaries-filters",
        **{"aria-labelledby": "summaries-filters-heading"},
    )


# --- tables ------------------------------------------------------------------------------------------


def summary_id(table: SummaryTable) -> str:
    return f"{TABLE_IDS.get(table.key, 'summaries-' + table.key)}-summary"


def table_id(key: str) -> str:
    return f"{TABLE_IDS.get(key, 'summaries-' + key)}-table"


def summary_table(table: SummaryTable) -> html.Div:
    """A table of published figures: column and row headers, and totals marked up as totals."""
    p = table.protected
    with_row_totals = p.row_totals is not None
    head = [html.Th(table.row_heading, scope="col")]
    head += [html.Th(label, scope="col", className="text-end") for _code, label in table.columns]
    if with_row_totals:
        head.append(html.Th(table.total_label, scope="col", className="text-end summaries-total"))
    body = []
    for r, (_code, label) in enumerate(table.rows):
        cells = [html.Th(label, scope="row")]  # (not bold: the stylesheet)
        cells += [html.Td(cell_text(c)) for c in p.cells[r]]  # (right-aligned by the stylesheet)
        if with_row_totals:
            cells.append(html.Td(cell_text(p.row_totals[r]), className="summaries-total"))
        body.append(html.Tr(cells))
    children = [
        html.Caption(table.title),
        html.Thead(html.Tr(head)),
        html.Tbody(body),
    ]
    if p.column_totals is not None:
        foot = [html.Th(table.total_label, scope="row")]
        foot += [html.Td(cell_text(c)) for c in p.column_totals]
        if with_row_totals:
            foot.append(html.Td(cell_text(p.grand_total)))
        children.append(html.Tfoot(html.Tr(foot, className="summaries-total-row")))
    return html.Div(
        html.Table(children, className="table table-sm summaries-table mb-0", id=table_id(table.key)),
        className="table-responsive summaries-table-wrap",
        tabIndex="0",
        role="region",
        **{"aria-label": f"{table.title} (scrolls)"},
    )


def _table_intro(table: SummaryTable, with_summary: bool) -> list:
    """What the table counts, its sentence (unless its chart's caption gives it) and its note."""
    children = [html.P(table.description, className="mb-1")]
    if with_summary:
        children.append(html.P(table.summary, className="fw-semibold mb-1", id=summary_id(table)))
    if table.note:
        children.append(html.P(table.note, className="small mb-1", role="note"))
    return children


# --- charts -----------------------------------------------------------------------------------------


def _figure(height: int = 380) -> dict:
    return {
        "data": [],
        "layout": {
            "height": height, "margin": {"l": 60, "r": 20, "t": 20, "b": 40},
            "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF",
            "font": {"family": _FONT, "color": "#0B0C0C"},
            "xaxis": dict(_AXIS, type="category"), "yaxis": dict(_AXIS, rangemode="tozero"),
            "legend": LEGEND | {"y": -0.2},
        },
    }


def _hidden_marks(x: Sequence[str], cells: Sequence[Cell]) -> dict | None:
    """Text at the foot of the axis where a figure is hidden, so no bar is read as zero."""
    points = [(label, str(c.shown)) for label, c in zip(x, cells, strict=True) if c.suppressed]
    if not points:
        return None
    return {
        "type": "scatter", "mode": "text", "x": [p[0] for p in points], "y": [0] * len(points),
        "text": [p[1] for p in points], "textposition": "top center", "cliponaxis": False,
        "textfont": {"size": 14, "color": "#0B0C0C"},
        "name": f"Hidden figure ({SUPPRESSED} or {CONCEALED}): no bar drawn",
        "hovertemplate": "%{x}: hidden (%{text})<extra></extra>",
    }


def quarter_figure(table: SummaryTable) -> dict:
    """The by-quarter table as bars: each quarter's published total (or, where the rows do not add
    up to a total, as with strands, a bar for each column). A hidden figure draws no bar but its
    "<5" or "[c]" as text."""
    fig = _figure()
    x = [label for _code, label in table.rows]
    p = table.protected
    if p.row_totals is not None:
        series = [(table.total_label, list(p.row_totals), PALETTE[0])]
    else:
        series = [(label, [row[j] for row in p.cells], PALETTE[j % len(PALETTE)])
                  for j, (_code, label) in enumerate(table.columns)]
    for n, (name, cells, colour) in enumerate(series):
        pattern = {"shape": BAR_PATTERNS[n % len(BAR_PATTERNS)], "fillmode": "overlay", "fgcolor": "#FFFFFF",
                   "fgopacity": 0.5, "solidity": 0.25}
        fig["data"].append({
            "type": "bar", "name": name, "x": x,
            "y": [c.number for c in cells],
            "text": [cell_text(c) if not c.suppressed else "" for c in cells],
            "textposition": "outside", "cliponaxis": False,
            "marker": {"color": colour, "pattern": pattern},
            "hovertemplate": f"{name}, %{{x}}: %{{y:,}}<extra></extra>",
            "showlegend": len(series) > 1,
        })
    if len(series) == 1:
        marks = _hidden_marks(x, series[0][1])
        if marks:
            fig["data"].append(marks)
    else:
        # Several bars a quarter: say under the quarter how many of its figures are hidden.
        notes = []
        for i, label in enumerate(x):
            count = sum(1 for _name, cells, _c in series if cells[i].suppressed)
            if count:
                notes.append({"x": label, "y": 0, "yanchor": "top", "yshift": -2, "showarrow": False,
                              "text": f"{count} hidden", "font": {"size": 11, "color": "#0B0C0C"}})
        fig["layout"]["annotations"] = notes
        fig["layout"]["barmode"] = "group"
    fig["layout"]["yaxis"]["title"] = {"text": "Incidents (rounded to the nearest 5)"}
    fig["layout"]["xaxis"]["title"] = {"text": "Quarter"}
    return fig


def tension_figure(table: SummaryTable) -> dict:
    """The tension table as stacked bars: for each quarter, how many districts were at each level.
    Hidden figures are not drawn; the number hidden is written above the bar."""
    fig = _figure(420)
    x = [label for _code, label in table.rows]
    p = table.protected
    for j, (code, label) in enumerate(table.columns):
        colour, shape, text_colour = LEVEL_STYLES.get(code, (PALETTE[j % len(PALETTE)], "", "#0B0C0C"))
        cells = [row[j] for row in p.cells]
        fig["data"].append({
            "type": "bar", "name": label, "x": x,
            "y": [c.number for c in cells],
            "text": ["" if c.suppressed or not c.number else cell_text(c) for c in cells],
            "textposition": "inside", "insidetextanchor": "middle",
            "textfont": {"color": text_colour},
            "marker": {"color": colour, "line": {"color": "#FFFFFF", "width": 1},
                       "pattern": {"shape": shape, "fillmode": "overlay", "fgcolor": text_colour,
                                   "fgopacity": 0.45, "solidity": 0.2}},
            "hovertemplate": f"{label}, %{{x}}: %{{y:,}} districts<extra></extra>",
        })
    notes = []
    for i, label in enumerate(x):
        count = sum(1 for cell in p.cells[i] if cell.suppressed)
        if count:
            top = sum(cell.number or 0 for cell in p.cells[i])
            notes.append({"x": label, "y": top, "yanchor": "bottom", "showarrow": False,
                          "text": f"{count} hidden", "font": {"size": 11, "color": "#0B0C0C"}})
    fig["layout"].update(barmode="stack", annotations=notes,
                         legend=LEGEND | {"y": -0.2, "traceorder": "normal",
                                 "title": {"text": "Tension level"}})
    fig["layout"]["yaxis"]["title"] = {"text": "Districts"}
    fig["layout"]["xaxis"]["title"] = {"text": "Quarter"}
    return fig


def chart(graph_id: str, caption: str, table: SummaryTable, figure: dict, drawn: str) -> html.Figure:
    """A chart with its caption, its one-sentence summary, and a link to its table."""
    return html.Figure(
        [
            html.Figcaption(
                [
                    html.Span(caption, className="d-block h5 mb-1 summaries-caption"),
                    html.Span(table.summary, className="d-block fw-semibold", id=summary_id(table)),
                    html.Span(drawn, className="d-block small"),
                    html.A("The figures are in the table below", href=f"#{table_id(table.key)}",
                           className="small"),
                ],
            ),
            dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, className="summaries-graph"),
        ],
        className="summaries-figure mb-3",
    )


# --- the results ------------------------------------------------------------------------------------


def _section(table: SummaryTable, heading: str, before_table: list | None = None) -> html.Section:
    section_id = TABLE_IDS.get(table.key, f"summaries-{table.key}")
    return html.Section(
        [
            html.H2(heading, className="h4", id=f"{section_id}-heading"),
            *_table_intro(table, with_summary=not before_table),
            *(before_table or []),
            summary_table(table),
        ],
        className="summaries-section mb-4",
        id=section_id,
        **{"aria-labelledby": f"{section_id}-heading"},
    )


def results(summary: Summary) -> list:
    """The figures for the view: the period and marking, then the three tables (two with charts)."""
    query = summary.query
    by_area, by_quarter, tension = (summary.table(k) for k in ("by_area", "by_quarter", "tension"))
    geography = GEOGRAPHY_LABELS[query.geography].lower()
    quarters_drawn = (
        f"One bar a quarter. A hidden total draws no bar: its \u201c{SUPPRESSED}\u201d or "
        f"\u201c{CONCEALED}\u201d is written where the bar would be."
        if by_quarter.protected.row_totals is not None else
        "A bar for each column of the table, a group for each quarter. A hidden figure draws no bar; "
        "the number hidden is written under the quarter."
    )
    tension_drawn = ("A bar for each quarter, made up of the districts at each level (level 1 at the "
                     "bottom). Each level has its own colour and pattern and is named in the legend; "
                     "hidden figures are not drawn, and the number hidden is written above the bar.")
    counted = " and ".join(summary.markings_counted)
    return [
        html.Div(
            [
                html.P([html.Strong("Period: "), period_text(query)], className="mb-1", id="summaries-period"),
                html.P([html.Strong("Counted: "), f"records marked {counted}, after disclosure control."],
                       className="mb-1"),
                html.P([html.Strong("Handling: "), marking_label(summary.marking),
                        " \u2014 these figures may be shared across the partnership and with the national "
                        "policy team."], className="mb-1", id="summaries-marking"),
                html.P(f"Worked out {parts.uk_time(summary.generated_at)}.", className="small mb-0"),
            ],
            className="notice summaries-about",
        ),
        _section(by_area, f"By {geography}"),
        _section(by_quarter, "Quarter by quarter", [
            chart(QUARTERS_GRAPH, "Incidents counted each quarter", by_quarter, quarter_figure(by_quarter),
                  quarters_drawn),
        ]),
        _section(tension, "Tension levels", [
            chart(TENSION_GRAPH, "Districts at each tension level, quarter by quarter", tension,
                  tension_figure(tension), tension_drawn),
        ]),
    ]


# --- downloads ----------------------------------------------------------------------------------------


def download_section(format_labels: Mapping[str, str]) -> html.Section:
    reason_id = DOWNLOAD_IDS["reason"]
    return html.Section(
        [
            html.H2("Download these tables", className="card-title h5", id="summaries-download-heading"),
            html.P(
                "The tables above, for the filters you have chosen, with the same rules applied. Every "
                "download is kept in the audit log with your name, the time, the filters and your reason.",
                className="small",
            ),
            parts.error_summary_box(DOWNLOAD_ERRORS_ID),
            parts.radio_field(DOWNLOAD_IDS["format"], "Format", list(format_labels.items()), "csv"),
            html.Div(
                [
                    # The hint is inside the label, so that it is read out with the field.
                    dbc.Label(
                        [
                            "Why do you need this download?",
                            html.Span(f"Kept in the audit log. At least {REASON_MIN_LENGTH} characters.",
                                      className="form-text d-block mt-0 fw-normal", id=f"{reason_id}-hint"),
                            html.Span(id=parts.error_id(reason_id), className="field-error d-block"),
                        ],
                        html_for=reason_id, className="fw-semibold mb-1",
                    ),
                    dbc.Textarea(id=reason_id, value="", rows=3, maxlength=REASON_MAX_LENGTH, required=True),
                ],
                className="mb-3",
            ),
            html.Button("Download", id="summaries-download-button", type="button", n_clicks=0,
                        className="btn btn-primary align-self-start"),
            dcc.Loading(
                html.Div(id="summaries-download-status", role="status", className="mt-2",
                         **{"aria-live": "polite", "aria-atomic": "true"}),
                type="dot", delay_show=300,
            ),
            dcc.Download(id="summaries-download"),
        ],
        className="card card-body mb-4 summaries-download",
        id="summaries-download-section",
        **{"aria-labelledby": "summaries-download-heading"},
    )


def download_done(filename: str, marking: str) -> str:
    return f"Your file {filename} is ready and has been downloaded. Handle it as {marking}."


# --- the page -----------------------------------------------------------------------------------------


def error_content(errors: Mapping[str, str], problem: str | None = None) -> list:
    if not errors and not problem:
        return []
    return parts.error_summary(errors, CONTROL_TARGETS, f"{ERRORS_ID}-title", problem, fallback=ERRORS_ID)


def layout(summary: Summary, choices: SummaryChoices, format_labels: Mapping[str, str],
           errors: Mapping[str, str] | None = None) -> html.Div:
    """The page for `summary` (its query is the view shown); `errors` are the address bar's
    filters that could not be used (by field), which the view shows with their defaults."""
    errors = dict(errors or {})
    problem = ("The address had a filter that cannot be used, so its default is shown instead."
               if errors else None)
    return html.Div(
        [
            dcc.Store(id=QUERY_STORE, data=query_string(summary.query)),
            html.Div(id="summaries-url-sink", hidden=True),
            html.Div(id="summaries-focus-sink", hidden=True),
            html.H1("National summaries"),
            html.P(
                "Counts of incidents and tension assessments for national policy, from records marked "
                "TLP:GREEN or TLP:CLEAR only, after disclosure control. Nothing here is about a single "
                "record: every figure is a count, rounded or hidden by the rules below.",
                className="lead",
            ),
            html.Div(error_content(errors, problem), id=ERRORS_ID, className="error-summary", role="alert",
                     tabIndex="-1", hidden=not errors, **{"aria-labelledby": f"{ERRORS_ID}-title"}),
            filters_with_errors(summary.query, choices, errors),
            rules_card(summary.rules),
            dcc.Loading(
                html.Div(results(summary), id=RESULTS_ID),
                type="circle", delay_show=300,
                overlay_style={"visibility": "visible", "opacity": 0.5},
            ),
            dbc.Row(dbc.Col(download_section(format_labels), xl=8)),
        ],
        className="summaries-page",
        id=PAGE_ID,
    )


def filters_with_errors(query: SummaryQuery, choices: SummaryChoices, errors: Mapping[str, str]) -> html.Section:
    """The filters, with each address-bar error beside its control."""
    section = filters(query, choices)
    if errors:
        _fill_errors(section, errors)
    return section


def _fill_errors(component, errors: Mapping[str, str]) -> None:
    """Put each field's message into its error element (the label or legend's span)."""
    wanted = {parts.error_id(CONTROL_IDS[name]): message for name, message in errors.items() if name in CONTROL_IDS}
    stack = [component]
    while stack:
        node = stack.pop()
        if getattr(node, "id", None) in wanted:
            node.children = parts.field_error(wanted[node.id])
        kids = getattr(node, "children", None)
        if isinstance(kids, (list, tuple)):
            stack.extend(k for k in kids if hasattr(k, "to_plotly_json"))
        elif hasattr(kids, "to_plotly_json"):
            stack.append(kids)


def not_allowed() -> html.Div:
    return html.Div(
        [
            html.H1("National summaries"),
            html.P("Your account is not active, so the summaries are not shown. Ask your administrator.",
                   id="summaries-not-allowed"),
        ]
    )
