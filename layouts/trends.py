"""The trends page: incidents over time with trigger events, early warning and the caveat."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.filters import FilterState, Vocabulary
from dashboard.overview import GEOGRAPHY_LABELS, Geography
from dashboard.reference import HATE_CRIME_CAVEAT
from dashboard.trends import (
    GRAIN_LABELS,
    MAX_AREAS,
    MEASURE_LABELS,
    SPLIT_LABELS,
    Grain,
    Measure,
    Split,
    Trend,
    bucket_label,
    year_before,
)

from .filters import filters_panel, radio_group

# The Government Analysis Function's colour-blind-safe categorical palette (DOMAIN.md), with a
# marker shape for each line as well, so that colour is never the only difference.
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
# A chart's legend, under it. Clicking a legend entry would hide a series, which only a mouse can
# do (the chart is not reachable by keyboard) and makes a target smaller than 24 px: the entries are
# labels only; the table and the page's own controls choose what is shown.
LEGEND = {"orientation": "h", "x": 0, "itemclick": False, "itemdoubleclick": False}
EVENT_COLOUR = "#3D3D3D"
RUN_UP_FILL = "rgba(162, 133, 209, 0.18)"


def parse_view(query: dict) -> dict:
    """The chart's own choices from the URL (with defaults for anything missing or unknown)."""

    def pick(key, enum, default):
        value = query.get(key)
        return value if isinstance(value, str) and value in {e.value for e in enum} else default.value

    areas = [a for a in str(query.get("areas", "")).split(",") if a][:MAX_AREAS]
    return {
        "grain": pick("grain", Grain, Grain.WEEK),
        "split": pick("split", Split, Split.CATEGORY),
        "geography": pick("geo", Geography, Geography.DISTRICT),
        "measure": pick("measure", Measure, Measure.COUNT),
        "compare": query.get("compare") == "year",
        "areas": areas,
    }


def query_string(state: FilterState, view: dict) -> str:
    query = state.to_query()
    query.update({"grain": view["grain"], "split": view["split"], "geo": view["geography"]})
    if view["areas"]:
        query["areas"] = ",".join(view["areas"])
    if view["measure"] != Measure.COUNT.value:
        query["measure"] = view["measure"]
    if view["compare"]:
        query["compare"] = "year"
    return "?" + urlencode(query, safe=",:+")


def chart_controls(view: dict, area_options: list[tuple[str, str]]) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    radio_group("trends-grain", "Count by", GRAIN_LABELS, view["grain"], "me-4 mb-2"),
                    radio_group("trends-measure", "Show", MEASURE_LABELS, view["measure"], "me-4 mb-2"),
                    html.Fieldset(
                        [
                            html.Legend("Compare", className="fs-6 fw-semibold"),
                            dbc.Checklist(
                                id="trends-compare",
                                options=[{"label": "The same period a year before", "value": "year"}],
                                value=["year"] if view["compare"] else [],
                            ),
                        ],
                        className="mb-2",
                    ),
                ],
                className="d-flex flex-wrap",
            ),
            radio_group("trends-split", "One line for each", SPLIT_LABELS, view["split"], "me-4 mb-2"),
            html.Div(
                [
                    radio_group("trends-geography", "Areas are", GEOGRAPHY_LABELS, view["geography"], "me-4 mb-2"),
                    html.Details(
                        [
                            html.Summary(
                                f"Choose areas (up to {MAX_AREAS}; none means the whole region)",
                                className="filter-summary",
                            ),
                            html.Div(id="trends-areas-error", className="field-error", role="alert"),
                            html.Fieldset(
                                [
                                    html.Legend("Areas", className="visually-hidden"),
                                    dbc.Checklist(
                                        id="trends-areas",
                                        options=[{"label": name, "value": code} for code, name in area_options],
                                        value=view["areas"],
                                    ),
                                ],
                                className="trends-areas",
                            ),
                        ],
                        className="filter-group mb-2",
                        id="trends-areas-section",
                        open=bool(view["areas"]),
                    ),
                ]
            ),
        ],
        className="trends-controls mb-2",
    )


def layout(vocab: Vocabulary, state: FilterState, view: dict, area_options: list[tuple[str, str]]) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="trends-query"),
            dcc.Store(id="trends-data"),  # the chart's numbers (aggregates), for the table view
            html.Div(id="trends-url-sink", hidden=True),
            html.H1("Trends"),
            html.P(
                "Incidents over time, with the trigger events around them and the early warnings. "
                "Every figure counts only the records you may see.",
                className="lead",
            ),
            dbc.Row(
                [
                    dbc.Col(filters_panel("trends", vocab, state), lg=3, className="mb-3"),
                    dbc.Col(
                        [
                            html.Section(
                                [
                                    html.H2("Incidents over time", className="h5"),
                                    chart_controls(view, area_options),
                                    html.Figure(
                                        [
                                            dcc.Loading(
                                                dcc.Graph(
                                                    id="trends-graph",
                                                    figure=empty_figure(),
                                                    config={
                                                        "displaylogo": False,
                                                        "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"],
                                                    },
                                                    className="trends-graph",
                                                ),
                                                type="circle",
                                                delay_show=250,
                                            ),
                                            html.Figcaption(
                                                [
                                                    html.P(id="trends-summary", **{"aria-live": "polite"}),
                                                    html.P(
                                                        "Dotted lines and their labels mark trigger events; shaded "
                                                        "bands are election run-ups. A hollow last point is a "
                                                        "week or month that is not over yet.",
                                                        className="small",
                                                    ),
                                                    html.Div(id="trends-notes", className="small"),
                                                ]
                                            ),
                                        ],
                                        className="mb-2",
                                    ),
                                    html.Div(
                                        [html.Strong("About hate-crime figures: "), HATE_CRIME_CAVEAT],
                                        id="trends-caveat",
                                        className="notice small",
                                        role="note",
                                    ),
                                    html.Button(
                                        "Show as table",
                                        id="trends-table-toggle",
                                        className="btn btn-outline-secondary btn-sm align-self-start",
                                        type="button",
                                        n_clicks=0,
                                        **{"aria-expanded": "false", "aria-controls": "trends-table-collapse"},
                                    ),
                                    dbc.Collapse(
                                        html.Div(id="trends-table", className="mt-2 table-responsive"),
                                        id="trends-table-collapse",
                                        is_open=False,
                                    ),
                                ],
                                className="card card-body mb-3",
                            ),
                            html.Section(
                                [
                                    html.H2("Early warning", className="h5"),
                                    dcc.Loading(html.Div(id="trends-warning"), type="dot"),
                                ],
                                className="card card-body mb-3",
                                id="trends-warning-section",
                            ),
                            html.Section(
                                [
                                    html.H2("Trigger events", className="h5"),
                                    dcc.Loading(html.Div(id="trends-events"), type="dot"),
                                ],
                                className="card card-body mb-3",
                            ),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ]
    )


# --- the chart --------------------------------------------------------------------------------


_AXIS = {"gridcolor": "#E1E5EA", "linecolor": "#3D3D3D", "zerolinecolor": "#C8CDD3", "automargin": True}


def empty_figure() -> dict:
    """A blank chart. Figures are plain dictionaries: building them through plotly's validating
    objects took 60 ms for a chart of a year by week, most of a callback's time."""
    return {
        "data": [],
        "layout": {
            "height": 460, "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
            "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF",
            "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", "color": "#0B0C0C"},
            "xaxis": dict(_AXIS), "yaxis": dict(_AXIS),
        },
    }


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trend_figure(t: Trend, events: list | tuple = ()) -> dict:
    """The lines (and a year earlier, dotted), trigger events and election run-ups."""
    q = t.query
    fig = empty_figure()
    x = [b.isoformat() for b in t.buckets]
    last_open = bool(t.buckets) and not t.bucket_complete(len(t.buckets) - 1)
    unit = "incidents" if q.measure is Measure.COUNT else "per 100,000"
    labels = [bucket_label(b, q.grain) for b in t.buckets]
    for i, series in enumerate(t.series):
        colour, symbol = PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)]
        symbols = [symbol] * len(x)
        if last_open and symbols:
            symbols[-1] = f"{symbol}-open"
        fig["data"].append({
            "type": "scatter", "x": x, "y": list(series.values(q.measure)), "name": series.label,
            "mode": "lines+markers", "line": {"color": colour, "width": 2},
            "marker": {"symbol": symbols, "size": 8, "color": colour}, "customdata": labels,
            "hovertemplate": f"{series.label}: %{{y:,}} {unit}<br>%{{customdata}}<extra></extra>",
        })
    before = [bucket_label(b, q.grain) for b in _shifted(t)]
    for i, series in enumerate(t.last_year):
        colour = PALETTE[i % len(PALETTE)]
        fig["data"].append({
            "type": "scatter", "x": x, "y": list(series.values(q.measure)),
            "name": f"{series.label}, a year before", "mode": "lines+markers",
            "line": {"color": colour, "width": 1.5, "dash": "dot"},
            "marker": {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 6, "color": colour}, "customdata": before,
            "hovertemplate": f"{series.label}, a year before: %{{y:,}} {unit}<br>%{{customdata}}<extra></extra>",
        })
    shapes, notes = [], []
    for event in events:
        starts, ends = event.starts_on, event.ends_on
        run_up = getattr(event, "run_up", None)
        if run_up:
            r_start, r_end = run_up
            if r_end >= t.start and r_start <= t.end:
                shapes.append({
                    "type": "rect", "xref": "x", "yref": "paper", "x0": max(r_start, t.start).isoformat(),
                    "x1": min(r_end, t.end).isoformat(), "y0": 0, "y1": 1, "fillcolor": RUN_UP_FILL,
                    "line": {"width": 0}, "layer": "below",
                })
                notes.append({"x": max(r_start, t.start).isoformat(), "text": "Election run-up", "yanchor": "bottom",
                              "y": 0.0, "xanchor": "left", "font": {"size": 11, "color": "#3D3D3D"}})
        if t.start <= starts <= t.end or (starts < t.start <= ends):
            at = max(starts, t.start).isoformat()
            shapes.append({
                "type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at, "y0": 0, "y1": 1,
                "line": {"color": EVENT_COLOUR, "width": 1, "dash": "dot"},
            })
            notes.append({"x": at, "text": _short(event.title), "yanchor": "top", "y": 1.0, "xanchor": "left",
                          "font": {"size": 11, "color": "#0B0C0C"}, "bgcolor": "rgba(255,255,255,0.85)"})
    # Stagger event labels so that neighbours do not overlap.
    for n, note in enumerate(a for a in notes if a["yanchor"] == "top"):
        note["y"] = 1.0 - (n % 4) * 0.07
    fig["layout"].update(
        shapes=shapes,
        annotations=[{"xref": "x", "yref": "paper", "showarrow": False, **a} for a in notes],
        hovermode="x unified",
        legend=LEGEND | {"y": -0.18},
    )
    fig["layout"]["xaxis"].update(title={"text": "Week starting" if q.grain is Grain.WEEK else "Month"}, type="date")
    fig["layout"]["yaxis"].update(title={"text": MEASURE_LABELS[q.measure]}, rangemode="tozero")
    return fig


def _shifted(t: Trend) -> list[date]:
    return [year_before(b, t.query.grain) for b in t.buckets]


# --- text and table alternatives ---------------------------------------------------------------


def _number(value: float, measure: Measure) -> str:
    return f"{value:,.0f}" if measure is Measure.COUNT else f"{value:,.2f}"


def trend_table(data: dict) -> html.Table:
    """The chart as a table, from `dashboard.trends.table_data`."""
    grain, measure = Grain(data["grain"]), Measure(data["measure"])
    columns = data["columns"]
    head = html.Tr(
        [html.Th("Week starting" if grain is Grain.WEEK else "Month", scope="col")]
        + [html.Th(c["label"], scope="col", className="text-end") for c in columns]
    )
    rows = []
    for i, row in enumerate(data["rows"]):
        label = row["label"] + ("" if row["complete"] else f" (not over: {row['days']} days)")
        rows.append(html.Tr(
            [html.Th(label, scope="row")]
            + [html.Td(_number(c["values"][i], measure), className="text-end") for c in columns]
        ))
    totals = [html.Th("Total (incidents)", scope="row")] + [
        html.Td(f"{c['total']:,}", className="text-end fw-bold") for c in columns
    ]
    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    return html.Table(
        [
            html.Caption(f"{MEASURE_LABELS[measure]} by {grain.value}, {start:%-d %b %Y} to {end:%-d %b %Y}"),
            html.Thead(head),
            html.Tbody(rows),
            html.Tfoot(html.Tr(totals)),
        ],
        className="table table-sm table-striped",
        id="trends-data-table",
    )


def notes(t: Trend) -> list:
    out = [html.P(n) for n in t.notes]
    if t.merged:
        out.append(html.P(f"The {t.merged} smallest lines are added up as “All others”."))
    return out


def events_panel(events: list, upcoming: list, today: date) -> html.Div:
    def item(e) -> html.Li:
        when = f"{e.starts_on:%-d %b %Y}" + (f" to {e.ends_on:%-d %b %Y}" if e.ends_on != e.starts_on else "")
        where = "region-wide" if e.region_wide else ", ".join(e.area_names[:4]) + (" and more" if len(e.area_names) > 4 else "")
        extra = ""
        if getattr(e, "run_up", None):
            extra = f"; run-up from {e.run_up[0]:%-d %b %Y}"
        return html.Li([html.Strong(e.title), f" ({e.kind}) {when}; {where}{extra}"])

    return html.Div(
        [
            html.H3("In the period shown", className="h6"),
            html.Ul([item(e) for e in events]) if events else html.P("No trigger events you can see in this period."),
            html.H3(f"Upcoming (next 12 weeks from {today:%-d %b %Y})", className="h6 mt-3"),
            html.Ul([item(e) for e in upcoming], id="trends-upcoming") if upcoming else html.P("Nothing in the calendar for the next 12 weeks."),
            dcc.Link("Open the trigger calendar", href="/calendar"),
        ]
    )
