"""Your access: who you are signed in as, what you may see, and how many records that is."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.access import Viewer
from dashboard.queries import MarkingCount
from dashboard.reference import MARKING_DESCRIPTIONS, Marking, Role

from .components import card, marking_label

PERIODS = [
    {"label": "Last 4 weeks", "value": "4w"},
    {"label": "Last 12 months", "value": "12m"},
    {"label": "All time", "value": "all"},
]
PERIOD_LABELS = {p["value"]: p["label"] for p in PERIODS}
PERIOD_PHRASES = {"4w": "in the last 4 weeks", "12m": "in the last 12 months", "all": "in all time"}


def _access_rules(viewer: Viewer) -> html.Ul:
    if viewer.role == Role.SCI:
        return html.Ul(
            [
                html.Li(
                    "As the national policy team you see counts only, from records marked "
                    "TLP:GREEN or TLP:CLEAR, after disclosure control. No record-level detail."
                )
            ]
        )
    org = viewer.organisation_name
    rules = {
        Marking.RED: "only if you are named on the record or reported it",
        Marking.AMBER_STRICT: f"only if {org} reported it",
        Marking.AMBER: f"if {org} reported it or is listed on the record",
        Marking.GREEN: "always, as a member of the partnership",
        Marking.CLEAR: "always",
    }
    return html.Ul(
        [
            html.Li([marking_label(m), f" ({MARKING_DESCRIPTIONS[m].lower()}): you see these {rules[m]}."])
            for m in Marking
        ]
    )


def layout(viewer: Viewer, **_query):
    return html.Div(
        [
            html.H1("Your access"),
            html.P(
                f"Signed in as {viewer.name} of {viewer.organisation_name}. "
                "Every figure on this dashboard counts only the records you are allowed to see.",
                className="lead",
            ),
            card("What you can see", _access_rules(viewer), id_="access-access"),
            card(
                "Incidents you can see, by handling marking",
                html.Fieldset(
                    [
                        html.Legend("Period", className="form-label fs-6 fw-semibold"),
                        # dbc's radios are plain labelled inputs (Dash 4's own use listbox roles).
                        dbc.RadioItems(id="access-period", name="access-period", options=PERIODS, value="12m", inline=True),
                    ],
                    className="mb-3",
                ),
                dcc.Loading(html.Div(id="access-marking-counts", **{"aria-live": "polite"}), type="dot"),
                id_="access-counts",
            )
            if viewer.role != Role.SCI
            else html.Div(),
        ]
    )


def marking_table(rows: list[MarkingCount], period: str) -> html.Div:
    total = sum(r.incidents for r in rows)
    period_label = PERIOD_LABELS[period]
    biggest = max(rows, key=lambda r: r.incidents)
    summary = f"You can see {total:,} incidents {PERIOD_PHRASES[period]}" + (
        f"; most are marked {biggest.marking.value}." if total else "."
    )
    table = html.Table(
        [
            html.Caption(f"Incidents by handling marking, {period_label.lower()}"),
            html.Thead(html.Tr([html.Th("Marking", scope="col"), html.Th("Incidents", scope="col", className="text-end")])),
            html.Tbody(
                [
                    html.Tr([html.Td(marking_label(r.marking)), html.Td(f"{r.incidents:,}", className="text-end")])
                    for r in rows
                ]
                + [html.Tr([html.Th("Total", scope="row"), html.Td(f"{total:,}", className="text-end fw-semibold")])]
            ),
        ],
        className="table table-sm w-auto",
    )
    return html.Div([html.P(summary, id="access-counts-summary"), table])
