"""The regional overview: the tension map with its filters, headline figures and drill-down."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.filters import FilterState, Vocabulary
from dashboard.overview import (
    GEOGRAPHY_LABELS,
    METRIC_LABELS,
    AreaDetail,
    Geography,
    Headline,
    Metric,
    Overview,
    tension_label,
)
from dashboard.reference import MAP_ATTRIBUTION, TENSION_LEVELS
from dashboard.surges import RULE_TEXT, AreaWarning, EarlyWarning

from .components import marking_label
from .filters import filters_panel, radio_group

LAYER_POINTS = "points"
LAYER_TILES = "tiles"

LEGENDS = {
    Metric.COUNT: "Darker blue means more incidents in the period. Grey: none you can see.",
    Metric.RATE: "Darker blue means more incidents for each 100,000 residents. Grey: none you can see.",
    Metric.TENSION: "Each area is coloured by its latest tension level, and the circle at its centre "
    "grows with the level: "
    + "; ".join(f"{lv} {t.label}" for lv, t in TENSION_LEVELS.items())
    + ". Grey: no assessment you can see.",
    Metric.CHANGE: "Orange and brown: more incidents than in the previous period of the same length; "
    "blue: fewer; light grey: about the same.",
    Metric.WARNING: "Early warning for the last 7 days of the period against the 12 weeks before: "
    "dark brown with a large circle, sharp rise (a surge); light orange with a small circle, rise; "
    "light grey, stable; blue, fall. How it is worked out: " + RULE_TEXT,
}


def parse_view(query: dict) -> dict:
    """The map's own choices from the URL (geography, metric, layers, chosen district)."""
    geography = query.get("geo") if query.get("geo") in {g.value for g in Geography} else Geography.DISTRICT.value
    metric = query.get("metric") if query.get("metric") in {m.value for m in Metric} else Metric.COUNT.value
    layers = [v for v in str(query.get("layers", "")).split(",") if v in {LAYER_POINTS, LAYER_TILES}]
    return {"geography": geography, "metric": metric, "layers": layers, "area": query.get("area") or ""}


def query_string(state: FilterState, geography: str, metric: str, layers: list[str], area: str | None) -> str:
    query = state.to_query()
    if geography != Geography.DISTRICT.value:
        query["geo"] = geography
    if metric != Metric.COUNT.value:
        query["metric"] = metric
    if layers:
        query["layers"] = ",".join(sorted(layers))
    if area:
        query["area"] = area
    return "?" + urlencode(query, safe=",:+")


def map_controls(view: dict, tiles_available: bool) -> html.Div:
    layer_options = [{"label": "Incident locations (pooled)", "value": LAYER_POINTS}]
    if tiles_available:
        layer_options.append({"label": "Street map underneath (needs internet)", "value": LAYER_TILES})
    return html.Div(
        [
            radio_group("overview-geography", "Show", GEOGRAPHY_LABELS, view["geography"]),
            radio_group("overview-metric", "Colour by", METRIC_LABELS, view["metric"]),
            html.Fieldset(
                [
                    html.Legend("Layers", className="fs-6 fw-semibold"),
                    dbc.Checklist(id="overview-layers", options=layer_options, value=view["layers"], inline=True),
                ]
            ),
        ],
        className="d-flex flex-wrap gap-2 mb-2 map-controls",
    )


def layout(
    viewer,
    vocab: Vocabulary,
    state: FilterState,
    view: dict,
    districts: list[tuple[str, str]],
    figure,
    tiles_available: bool,
) -> html.Div:
    area_options = [{"label": name, "value": code} for code, name in districts]
    return html.Div(
        [
            dcc.Store(id="overview-query"),
            html.Div(id="overview-url-sink", hidden=True),
            html.H1("Regional overview"),
            html.P(
                "Where tension and organised activity are in the region, for the period you choose. "
                "Every figure counts only the records you may see.",
                className="lead",
            ),
            dbc.Row(
                [
                    dbc.Col(filters_panel("overview", vocab, state), lg=3, className="mb-3"),
                    dbc.Col(
                        [
                            dcc.Loading(html.Div(id="overview-headline", className="headline-cards"), type="dot"),
                            html.Section(
                                [
                                    html.H2("Map", className="h5"),
                                    map_controls(view, tiles_available),
                                    html.Figure(
                                        [
                                            dcc.Loading(
                                                dcc.Graph(
                                                    id="overview-map",
                                                    figure=figure,
                                                    config={
                                                        "displaylogo": False,
                                                        "scrollZoom": True,
                                                        "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"],
                                                    },
                                                    className="overview-map",
                                                ),
                                                type="circle",
                                                delay_show=250,
                                            ),
                                            html.Figcaption(
                                                [
                                                    html.P(id="overview-summary", **{"aria-live": "polite"}),
                                                    html.P(id="overview-legend", className="small"),
                                                    html.P(
                                                        "Incident locations, when shown, are purple circles, larger for "
                                                        "more incidents; paler ones are approximate (within about 10 km). "
                                                        "Records located to their district only are never drawn.",
                                                        className="small",
                                                    ),
                                                    html.P(MAP_ATTRIBUTION, className="map-attribution small"),
                                                ]
                                            ),
                                        ],
                                        className="mb-2",
                                    ),
                                    html.Button(
                                        "Show as table",
                                        id="overview-table-toggle",
                                        className="btn btn-outline-secondary btn-sm align-self-start",
                                        type="button",
                                        n_clicks=0,
                                        **{"aria-expanded": "false", "aria-controls": "overview-table-collapse"},
                                    ),
                                    dbc.Collapse(html.Div(id="overview-table", className="mt-2"), id="overview-table-collapse", is_open=False),
                                ],
                                className="card card-body mb-3",
                            ),
                            html.Section(
                                [
                                    html.H2("District detail", className="h5"),
                                    html.P(
                                        "Click a district on the map, or choose it here.",
                                        className="small text-body-secondary",
                                    ),
                                    dbc.Label("District", html_for="overview-area"),
                                    dbc.Select(
                                        id="overview-area", options=area_options, value=view["area"],
                                        placeholder="Choose a district", className="mb-3", style={"maxWidth": "24rem"},
                                    ),
                                    dcc.Loading(html.Div(id="overview-area-panel"), type="dot"),
                                ],
                                className="card card-body mb-3",
                                id="overview-detail",
                            ),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ]
    )


# --- pieces the callbacks fill in -------------------------------------------------------------


def _change_words(current: int, previous: int) -> str:
    if previous == 0:
        return "none in the previous period" if current else "none in either period"
    change = (current - previous) / previous * 100
    if abs(change) < 0.5:
        return f"no change on {previous:,}"
    return f"{'up' if change > 0 else 'down'} {abs(change):.0f}% on {previous:,}"


def headline_cards(head: Headline) -> dbc.Row:
    cards = [
        ("Incidents this period", f"{head.incidents:,}", _change_words(head.incidents, head.previous)),
        ("Districts at tension level 4 or 5", f"{head.districts_high}", "latest assessments you can see"),
    ]
    if head.overdue_actions is not None:
        cards.append(("Overdue actions", f"{head.overdue_actions:,}", "past their due date, not done"))
    return dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [html.H2(title, className="headline-title"), html.P(value, className="headline-value"), html.P(note, className="headline-note")],
                    className="headline-card",
                ),
                md=4,
            )
            for title, value, note in cards
        ],
        className="g-2 mb-3",
    )


def _warning_cell(found: AreaWarning | None) -> str:
    return found.assessment.describe().capitalize() if found else "Not worked out"


def area_table(overview: Overview, metric: Metric, warning: EarlyWarning | None = None) -> html.Table:
    """The map's figures as a table; with `warning`, an early-warning column too."""
    unit = GEOGRAPHY_LABELS[overview.geography][:-1] if overview.geography != Geography.REGION else "Region"
    warned = warning.by_code() if warning is not None else {}
    if metric is Metric.WARNING and warning is not None:

        def urgency(a):
            found = warned.get(a.code)
            if found is None:
                return (1, 1.0, a.name)
            return (-found.band.rank, found.assessment.p_high, a.name)

        rows = sorted(overview.areas, key=urgency)
    else:
        rows = sorted(overview.areas, key=lambda a: (a.value(metric) is None, -(a.value(metric) or 0), a.name))
    caption = f"{METRIC_LABELS[metric]} by {unit.lower()}, {overview.start:%-d %b %Y} to {overview.end:%-d %b %Y}"
    if warning is not None:
        caption += (f"; early warning for {warning.window_start:%-d %b} to {warning.window_end:%-d %b %Y} "
                    "against the 12 weeks before")
    return html.Table(
        [
            html.Caption(caption),
            html.Thead(
                html.Tr(
                    [
                        html.Th(unit, scope="col"),
                        html.Th("Incidents", scope="col", className="text-end"),
                        html.Th("Previous period", scope="col", className="text-end"),
                        html.Th("Change", scope="col", className="text-end"),
                        html.Th("Per 100,000", scope="col", className="text-end"),
                        html.Th("Latest tension level", scope="col"),
                        *([html.Th("Early warning", scope="col")] if warning is not None else []),
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Th(a.name, scope="row"),
                            html.Td(f"{a.incidents:,}", className="text-end"),
                            html.Td(f"{a.previous:,}", className="text-end"),
                            html.Td(f"{a.change:+,}", className="text-end"),
                            html.Td(f"{a.rate:,.1f}", className="text-end"),
                            html.Td(
                                tension_label(a.tension_level)
                                + (f" (assessed {a.tension_assessed_on:%-d %b %Y})" if a.tension_assessed_on else "")
                            ),
                            *([html.Td(_warning_cell(warned.get(a.code)))] if warning is not None else []),
                        ]
                    )
                    for a in rows
                ]
            ),
        ],
        className="table table-sm table-striped",
        id="overview-area-table",
    )


def _tension_badge(level: int) -> html.Span:
    t = TENSION_LEVELS[level]
    return html.Span(f"{level} {t.label}", className="tension-badge", style={"backgroundColor": t.colour, "color": t.text_colour})


def area_panel(detail: AreaDetail | None, today: date) -> html.Div:
    if detail is None:
        return html.P("Choose a district to see its detail.")
    fig = detail.figure
    facts = [
        f"{detail.district_type}, {detail.police_force}, {detail.region}. Population {detail.population:,} (mid-2020).",
    ]
    if fig:
        facts.append(
            f"{fig.incidents:,} incidents you can see in the period ({_change_words(fig.incidents, fig.previous)}); "
            f"{fig.rate:,.1f} per 100,000 residents."
        )
    children = [html.H3(detail.name, className="h5", id="overview-area-name"), *[html.P(f) for f in facts]]

    children.append(html.H4("Tension assessments", className="h6 mt-3"))
    if detail.assessments:
        children.append(
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Assessed", "Level", "Trend", "Confidence", "By", "Marking")])),
                    html.Tbody(
                        [
                            html.Tr(
                                [
                                    html.Td(f"{a.assessed_on:%-d %b %Y}"),
                                    html.Td(_tension_badge(a.level)),
                                    html.Td(a.trend),
                                    html.Td(a.confidence),
                                    html.Td(a.organisation),
                                    html.Td(marking_label(a.marking)),
                                ]
                            )
                            for a in detail.assessments[:8]
                        ]
                    ),
                ],
                className="table table-sm",
            )
        )
    else:
        children.append(html.P("No tension assessments you can see."))

    children.append(html.H4("Recent incidents", className="h6 mt-3"))
    if detail.incidents:
        children.append(
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Date", "Category", "What", "Reported by", "Verification", "Marking")])),
                    html.Tbody(
                        [
                            html.Tr(
                                [
                                    html.Td(f"{i.occurred_on:%-d %b %Y}" + ("" if i.date_precision == "day" else f" (that {i.date_precision})")),
                                    html.Td(i.category),
                                    html.Td(dcc.Link(i.title, href=f"/incidents/{i.id}")),
                                    html.Td(i.organisation),
                                    html.Td(i.verification),
                                    html.Td(marking_label(i.marking)),
                                ]
                            )
                            for i in detail.incidents
                        ]
                    ),
                ],
                className="table table-sm",
            )
        )
    else:
        children.append(html.P("No incidents you can see in the period."))

    children.append(html.H4("Upcoming trigger events", className="h6 mt-3"))
    if detail.triggers:
        children.append(
            html.Ul(
                [
                    html.Li(f"{t.starts_on:%-d %b %Y}" + (f" to {t.ends_on:%-d %b %Y}" if t.ends_on != t.starts_on else "") + f": {t.title} ({t.kind})")
                    for t in detail.triggers
                ]
            )
        )
    else:
        children.append(html.P("None in the next 12 weeks."))

    children.append(html.H4("Open actions", className="h6 mt-3"))
    if detail.actions:
        children.append(
            html.Ul(
                [
                    html.Li(
                        [
                            html.Span(f"{a.rag_label}: ", className=f"fw-bold rag-text rag-text-{a.rag}"),
                            dcc.Link(a.description, href=f"/actions/{a.id}"),
                            f" ({a.owner}; due {a.due_on:%-d %b %Y}; {a.status_label}, {a.progress}%)",
                        ]
                    )
                    for a in detail.actions
                ]
            )
        )
    else:
        children.append(html.P("No open actions for this district."))
    return html.Div(children)

