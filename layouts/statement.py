"""The joint party statement page: which districts adopted it (headline, map, table), the
elections ahead in districts that have not, and the form to record or correct an adoption."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Patch, dcc, html

from dashboard.geography import label_points, map_boundaries
from dashboard.records import day_text
from dashboard.reference import MAP_ATTRIBUTION
from dashboard.statement import (
    ELECTION_HORIZON_DAYS,
    FIELD_LABELS,
    NOTES_MAX,
    AdoptionEntry,
    AdoptionOverview,
    DistrictAdoption,
    ElectionGap,
    Statement,
    StatementChoice,
)

from . import record_parts as parts
from .maps import MAP_CENTRE, MAP_ZOOM

CHANGE_TYPE = "statement-change"
REMOVE_TYPE = "statement-remove"
SHOW_ALL, SHOW_ADOPTED, SHOW_NOT = "all", "adopted", "not"
SHOW_LABELS = {SHOW_ALL: "All districts", SHOW_ADOPTED: "Adopted", SHOW_NOT: "Not adopted"}

# Where each field's error links to; its error is shown in the field's label.
FIELD_TARGETS = {"area": "statement-form-area", "adopted_on": "statement-form-adopted-on",
                 "notes": "statement-form-notes"}
ERROR_IDS = {name: parts.error_id(target) for name, target in FIELD_TARGETS.items()}

ADOPTED_FILL = "#12436D"
NOT_ADOPTED_FILL = "#D9D9D9"
# A white dot at the centre of each adopted district, so that colour is not the only cue.
DOT_COLOUR = "#FFFFFF"
LEGEND = (
    "Dark blue with a white dot: adopted. Light grey: not adopted. Hover over a district for its "
    "name and adoption date; the table below gives the same for every district."
)


# --- words ------------------------------------------------------------------------------------------


def weekday_text(day: date) -> str:
    """'Thu 7 May 2026'."""
    return f"{day:%a} {day_text(day)}"


def when_text(day: date, today: date) -> str:
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days < 14:
        return f"in {days} days"
    if days < 70:
        return f"in {days // 7} weeks"
    return f"in {round(days / 30.44)} months"


def _districts(n: int) -> str:
    return f"{n} district{'' if n == 1 else 's'}"


def _has(n: int) -> str:
    return "has" if n == 1 else "have"


def adoption_text(district: DistrictAdoption) -> str:
    return f"Adopted on {day_text(district.adopted_on)}" if district.adoption else "Not adopted"


def _safe_link(link: str | None) -> str | None:
    """Only web addresses become links (never javascript: or data: ones)."""
    if link and link.lower().startswith(("https://", "http://")):
        return link
    return None


# --- the map --------------------------------------------------------------------------------------------


def base_figure() -> go.Figure:
    """The 65 districts (boundaries sent once, with the page) and the adopted districts' dots;
    the callbacks fill in the values with a small patch. No tile server is needed."""
    boundaries = map_boundaries("district")
    codes = [f["properties"]["code"] for f in boundaries["features"]]
    fig = go.Figure(
        [
            go.Choroplethmap(
                name="Adoption", uid="statement-districts", geojson=boundaries, featureidkey="properties.code",
                locations=codes, z=[0] * len(codes), zmin=0, zmax=1,
                colorscale=[[0, NOT_ADOPTED_FILL], [0.5, NOT_ADOPTED_FILL], [0.5, ADOPTED_FILL], [1, ADOPTED_FILL]],
                text=[""] * len(codes), hovertemplate="%{text}<extra></extra>",
                marker={"line": {"color": "#505050", "width": 0.6}, "opacity": 0.95},
                colorbar={"thickness": 14, "len": 0.4, "y": 0.5, "x": 0.99, "xanchor": "right",
                          "tickvals": [0.25, 0.75], "ticktext": ["Not adopted", "Adopted"],
                          "bgcolor": "rgba(255,255,255,0.85)"},
            ),
            go.Scattermap(
                name="Adopted", uid="statement-dots", mode="markers", lat=[], lon=[], text=[],
                hovertemplate="%{text}<extra></extra>", marker={"color": DOT_COLOUR, "size": 8, "opacity": 1},
            ),
        ]
    )
    fig.update_layout(
        map={"style": "white-bg", "center": MAP_CENTRE, "zoom": MAP_ZOOM - 0.2},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=500,
        showlegend=False,
        uirevision="statement-map",
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"},
    )
    return fig


def _hover(district: DistrictAdoption) -> str:
    lines = [f"<b>{district.name}</b>", adoption_text(district)]
    if district.next_election:
        lines.append(f"Next election: {day_text(district.next_election.starts_on)}")
    return "<br>".join(lines)


def map_patch(overview: AdoptionOverview | None) -> Patch:
    """Each district's adoption as the map's values, hover text and dots."""
    patch = Patch()
    districts = overview.districts if overview else ()
    patch["data"][0]["locations"] = [d.code for d in districts]
    patch["data"][0]["z"] = [1 if d.adoption else 0 for d in districts]
    patch["data"][0]["text"] = [_hover(d) for d in districts]
    centres = label_points("district")
    adopted = [d for d in districts if d.adoption and d.code in centres]
    patch["data"][1]["lat"] = [centres[d.code][0] for d in adopted]
    patch["data"][1]["lon"] = [centres[d.code][1] for d in adopted]
    patch["data"][1]["text"] = [f"<b>{d.name}</b><br>{adoption_text(d)}" for d in adopted]
    return patch


# --- the page ---------------------------------------------------------------------------------------------


def no_statement() -> html.Div:
    return html.Div(
        [
            html.H1("Joint party statement"),
            html.P(
                "No joint party statement has been added yet. When the partnership adds one to its "
                "resources, this page shows which districts have adopted it.",
                id="statement-none",
            ),
        ]
    )


def _choice_label(choice: StatementChoice) -> str:
    return f"{choice.title} ({day_text(choice.published_on)})" if choice.published_on else choice.title


def _form(districts: list[tuple[str, str]], today: date) -> html.Section:
    return html.Section(
        [
            html.H2("Record an adoption", id="statement-form-heading", className="card-title h5", tabIndex="-1"),
            html.P(
                "Any partner may record that a district adopted the statement. The organisation that "
                "recorded an adoption, and chairs, may correct or remove it.",
                className="small",
            ),
            parts.error_summary_box("statement-form-errors"),
            parts.select_field(
                FIELD_TARGETS["area"], FIELD_LABELS["area"], districts, "", "Choose a district",
                hint="The district whose council adopted the statement.",
            ),
            parts.text_field(
                FIELD_TARGETS["adopted_on"], FIELD_LABELS["adopted_on"], "",
                hint="The day the council adopted it, for example 3 Mar 2026. Not in the future.",
                input_type="date", max=today.isoformat(),
            ),
            parts.textarea_field(
                FIELD_TARGETS["notes"], FIELD_LABELS["notes"], "",
                hint=f"Optional: for example \u201cAdopted by full council\u201d. Up to {NOTES_MAX:,} characters.",
                max_length=NOTES_MAX, rows=3,
            ),
            html.Div(
                [
                    html.Button("Record adoption", id="statement-form-save", type="button", n_clicks=0,
                                className="btn btn-primary"),
                    html.Button("Cancel changing", id="statement-form-cancel", type="button", n_clicks=0,
                                className="btn btn-outline-secondary", hidden=True),
                ],
                className="d-flex gap-2",
            ),
        ],
        className="card card-body mb-4",
        id="statement-form",
        **{"aria-labelledby": "statement-form-heading"},
    )


def layout(choices: list[StatementChoice], chosen: int, districts: list[tuple[str, str]], today: date) -> html.Div:
    """The page for a partner; `districts` are (code, name) by name."""
    return html.Div(
        [
            dcc.Store(id="statement-changed", data=0),
            dcc.Store(id="statement-editing", data=None),
            dcc.Store(id="statement-pending-remove", data=None),
            dcc.ConfirmDialog(id="statement-remove-confirm", message=""),
            html.Div(id="statement-focus-sink", hidden=True),
            html.Div(id="statement-url-sink", hidden=True),
            html.H1("Joint party statement"),
            html.P(
                "Political parties standing in the region commit to campaign without exploiting race, "
                "religion or migration. Districts adopt the statement before elections: this page shows "
                "which have, and the elections coming up where it has not been adopted.",
                className="lead",
            ),
            html.Div(
                [
                    dbc.Label("Statement", html_for="statement-choice", className="fw-semibold mb-1"),
                    dbc.Select(
                        id="statement-choice",
                        options=[{"label": _choice_label(c), "value": str(c.id)} for c in choices],
                        value=str(chosen),
                        style={"maxWidth": "40rem"},
                    ),
                ],
                className="mb-3",
                id="statement-choice-block",
                hidden=len(choices) < 2,
            ),
            parts.status_region("statement-status"),
            html.Div(id="statement-details", className="mb-3"),
            dcc.Loading(html.Div(id="statement-headline"), type="dot", delay_show=300),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Section(
                                [
                                    html.H2("Map of adoption", className="card-title h5"),
                                    html.Figure(
                                        [
                                            dcc.Graph(
                                                id="statement-map",
                                                figure=base_figure(),
                                                config={"displaylogo": False, "scrollZoom": True,
                                                        "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]},
                                                className="statement-map",
                                            ),
                                            html.Figcaption(
                                                [
                                                    html.P(id="statement-summary", **{"aria-live": "polite"}),
                                                    html.P(
                                                        [
                                                            html.Span(className="level-swatch",
                                                                      style={"backgroundColor": ADOPTED_FILL}),
                                                            "Adopted (with a white dot)",
                                                            html.Span(className="level-swatch ms-3",
                                                                      style={"backgroundColor": NOT_ADOPTED_FILL}),
                                                            "Not adopted",
                                                        ],
                                                        className="small mb-1",
                                                        **{"aria-hidden": "true"},
                                                    ),
                                                    html.P([LEGEND, " ", html.A("Go to the table",
                                                                                href="#statement-table-section")],
                                                           id="statement-legend", className="small"),
                                                    html.P(MAP_ATTRIBUTION, className="map-attribution small"),
                                                ]
                                            ),
                                        ],
                                        className="mb-0",
                                    ),
                                ],
                                className="card card-body mb-4",
                            ),
                            html.Section(
                                [
                                    html.H2("Adoption by district", className="card-title h5",
                                            id="statement-table-heading"),
                                    html.Fieldset(
                                        [
                                            html.Legend("Show", className="fs-6 fw-semibold"),
                                            dbc.RadioItems(
                                                id="statement-show", name="statement-show",
                                                options=parts.choice_options("statement-show",
                                                                             list(SHOW_LABELS.items())),
                                                value=SHOW_ALL,
                                                inline=True,
                                            ),
                                        ],
                                        className="mb-2",
                                    ),
                                    dcc.Loading(html.Div(id="statement-table"), type="dot", delay_show=300),
                                ],
                                className="card card-body mb-4",
                                id="statement-table-section",
                                tabIndex="-1",
                                **{"aria-labelledby": "statement-table-heading"},
                            ),
                        ],
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            _form(districts, today),
                            html.Section(
                                [
                                    html.H2("Upcoming elections in districts that have not adopted it",
                                            className="card-title h5"),
                                    html.P(
                                        [f"Elections in the next {ELECTION_HORIZON_DAYS} days, from the ",
                                         dcc.Link("trigger calendar", href="/calendar"),
                                         ". A region-wide election counts in every district."],
                                        className="small",
                                    ),
                                    dcc.Loading(html.Div(id="statement-elections"), type="dot", delay_show=300),
                                ],
                                className="card card-body mb-4",
                            ),
                        ],
                        lg=4,
                    ),
                ]
            ),
        ]
    )


# --- pieces the callbacks fill in ----------------------------------------------------------------------------


def not_available() -> html.P:
    return html.P("This statement is not available to you: it may have been removed. Reload the page.",
                  id="statement-not-available")


def details(statement: Statement) -> list:
    published = f"Published {day_text(statement.published_on)}" if statement.published_on else "Not dated"
    children = [
        html.H2(statement.title, className="h4 mb-1", id="statement-title"),
        html.P(published, className="mb-1", id="statement-published"),
    ]
    if statement.summary:
        children.append(html.P(statement.summary, className="mb-1"))
    link = _safe_link(statement.link)
    if link:
        children.append(html.P(html.A(["Read the statement", html.Span(f": {statement.title}",
                                                                     className="visually-hidden")],
                                      href=link, rel="noopener noreferrer", target="_blank")))
    return children


def headline(overview: AdoptionOverview) -> dbc.Row:
    nxt = overview.next_election
    if nxt is None:
        election = ("None in the calendar", f"No elections in the next {ELECTION_HORIZON_DAYS} days")
    else:
        missing = len(nxt.not_adopted)
        voting = "every district" if nxt.region_wide else f"{nxt.voting} district{'' if nxt.voting == 1 else 's'}"
        note = (f"{nxt.title}, {when_text(nxt.starts_on, overview.today)}, in {voting}; "
                + (f"{missing} of them {'has' if missing == 1 else 'have'} not adopted it" if missing
                   else "all of them have adopted it"))
        election = (weekday_text(nxt.starts_on), note)
    cards = [
        ("Adoption", f"{overview.adopted} of {overview.total}",
         f"districts {_has(overview.adopted)} adopted the statement; {overview.not_adopted} "
         f"{_has(overview.not_adopted)} not"),
        ("Next election", *election),
    ]
    return dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [html.H2(title, className="headline-title"), html.P(value, className="headline-value"),
                     html.P(note, className="headline-note")],
                    className="headline-card",
                ),
                md=6,
            )
            for title, value, note in cards
        ],
        className="g-2 mb-3",
        id="statement-headline-cards",
    )


def _controls(entry: AdoptionEntry | None, name: str) -> list | str:
    if entry is None:
        return ""
    if not entry.may_change:
        return html.Span("Recorded by another organisation", className="small text-body-secondary")
    return [
        html.Button(
            ["Change", html.Span(f" the adoption in {name}", className="visually-hidden")],
            id={"type": CHANGE_TYPE, "index": entry.id},
            type="button", n_clicks=0, className="btn btn-outline-primary btn-sm me-1 mb-1",
        ),
        html.Button(
            ["Remove", html.Span(f" the adoption in {name}", className="visually-hidden")],
            id={"type": REMOVE_TYPE, "index": entry.id, "version": entry.version},
            type="button", n_clicks=0, className="btn btn-outline-danger btn-sm mb-1",
        ),
    ]


def district_table(overview: AdoptionOverview, show: str) -> html.Div:
    rows = list(overview.districts)
    if show == SHOW_ADOPTED:
        rows = [d for d in rows if d.adoption]
        caption = f"{_districts(len(rows))} that {_has(len(rows))} adopted the statement, by name"
    elif show == SHOW_NOT:
        rows = [d for d in rows if not d.adoption]
        caption = f"{_districts(len(rows))} that {_has(len(rows))} not adopted the statement, by name"
    else:
        caption = f"All {len(rows)} districts, by name: {overview.headline()}"
    caption += f". Next election: the first in the next {ELECTION_HORIZON_DAYS} days, if any."
    if not rows:
        return html.P("No district has adopted the statement yet." if show == SHOW_ADOPTED
                      else "Every district has adopted the statement.", id="statement-table-empty")
    body = []
    for d in rows:
        entry = d.adoption
        adopted = [html.Span(adoption_text(d), className="fw-semibold" if entry else None)]
        recorded = (f"{entry.recorded_by}, {entry.recording_organisation}" if entry else "")
        election = (
            [html.Div(day_text(d.next_election.starts_on)),
             html.Div(d.next_election.title, className="small")]
            if d.next_election else "None"
        )
        body.append(
            html.Tr(
                [
                    html.Th(d.name, scope="row"),
                    html.Td(d.county, className="small"),
                    html.Td(adopted),
                    html.Td(d.notes, className="small statement-notes"),
                    html.Td(recorded, className="small"),
                    html.Td(election),
                    html.Td(_controls(entry, d.name)),
                ],
                id=f"statement-row-{d.code}",
                className="statement-adopted" if entry else None,
            )
        )
    return html.Div(
        html.Table(
            [
                html.Caption(caption),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                    ("District", "County", "Adopted", "Notes", "Recorded by", "Next election",
                                     "Change")])),
                html.Tbody(body),
            ],
            className="table table-sm align-middle",
            id="statement-district-table",
        ),
        className="table-responsive",
    )


def _election_item(gap: ElectionGap, today: date) -> html.Li:
    missing = len(gap.not_adopted)
    where = "region-wide" if gap.region_wide else f"{gap.voting} district{'' if gap.voting == 1 else 's'} voting"
    return html.Li(
        [
            html.Span(weekday_text(gap.starts_on), className="fw-semibold"),
            ": ",
            html.Span(gap.title),
            html.Div(f"{when_text(gap.starts_on, today).capitalize()}; {where}; {missing} "
                     f"{'has' if missing == 1 else 'have'} not adopted the statement:",
                     className="small"),
            html.Ul([html.Li(name) for _code, name in gap.not_adopted], className="small statement-gap-list"),
        ],
        className="mb-3",
        id=f"statement-election-{gap.id}",
    )


def elections(overview: AdoptionOverview) -> html.Div | html.P:
    if not overview.elections:
        if overview.elections_in_window == 0:
            text = f"No elections are in the trigger calendar for the next {ELECTION_HORIZON_DAYS} days."
        else:
            text = (f"Every district with an election in the next {ELECTION_HORIZON_DAYS} days has adopted "
                    "the statement.")
        return html.P(text, id="statement-elections-empty")
    return html.Ol([_election_item(g, overview.today) for g in overview.elections],
                   className="list-unstyled mb-0", id="statement-elections-list")


def error_summary(errors: dict[str, str], problem: str | None = None) -> list:
    return parts.error_summary(errors, FIELD_TARGETS, "statement-form-errors-title", problem,
                               fallback="statement-form")
