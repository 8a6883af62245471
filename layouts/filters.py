"""The record filters shared by the pages that chart incidents: period (with presets and chosen
dates), categories, strands, verification, marking and reporting organisation."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.filters import PRESETS, FilterError, FilterState, Vocabulary
from dashboard.reference import Marking, Verification

from .record_parts import field_error


def _checklist_group(id_: str, legend: str, options: list[tuple], value: list) -> html.Details:
    return html.Details(
        [
            html.Summary(legend, className="filter-summary"),
            html.Fieldset(
                [
                    html.Legend(legend, className="visually-hidden"),
                    dbc.Checklist(
                        id=id_,
                        options=[{"label": label, "value": code} for code, label in options],
                        value=value,
                    ),
                ]
            ),
        ],
        className="filter-group",
        open=bool(value),
    )


def filters_panel(prefix: str, vocab: Vocabulary, state: FilterState) -> html.Section:
    """The filters of a page whose control ids start with `prefix` (e.g. "trends-period")."""
    custom = state.preset == "custom"
    return html.Section(
        [
            html.H2("Filters", className="h5"),
            html.Fieldset(
                [
                    html.Legend("Period", className="fs-6 fw-semibold"),
                    dbc.RadioItems(
                        id=f"{prefix}-period", name=f"{prefix}-period",
                        options=[
                            {"label": label, "value": key, "disabled": key == "meeting" and vocab.last_meeting is None}
                            for key, label in PRESETS.items()
                        ],
                        value=state.preset,
                    ),
                ],
                className="mb-2",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("From", html_for=f"{prefix}-start"),
                            html.Div(id=f"{prefix}-start-error", className="field-error", role="alert"),
                            dbc.Input(id=f"{prefix}-start", type="date", value=state.start.isoformat(), debounce=True),
                        ],
                        className="mb-2",
                    ),
                    html.Div(
                        [
                            dbc.Label("To", html_for=f"{prefix}-end"),
                            html.Div(id=f"{prefix}-end-error", className="field-error", role="alert"),
                            dbc.Input(id=f"{prefix}-end", type="date", value=state.end.isoformat(), debounce=True),
                        ],
                        className="mb-3",
                    ),
                ],
                className="date-range" + (" is-custom" if custom else ""),
            ),
            _checklist_group(f"{prefix}-categories", "Categories", vocab.categories, list(state.categories)),
            _checklist_group(f"{prefix}-strands", "Hate-crime strands", vocab.strands, list(state.strands)),
            _checklist_group(
                f"{prefix}-verification", "Verification",
                [(v.value, v.value.capitalize()) for v in Verification], list(state.verification),
            ),
            _checklist_group(
                f"{prefix}-markings", "Handling marking", [(m.value, m.value) for m in Marking], list(state.markings)
            ),
            _checklist_group(
                f"{prefix}-organisations", "Reporting organisation", vocab.organisations, list(state.organisations)
            ),
            html.P(
                "No boxes ticked in a group means no limit on it. Figures count only records you may see.",
                className="small text-body-secondary mt-2",
            ),
        ],
        className="filters-panel",
        **{"aria-label": "Filters"},
    )


def radio_group(id_: str, legend: str, options: dict, value: str, class_name: str = "me-4") -> html.Fieldset:
    """A fieldset of inline radio buttons, one per (enum member -> label) of `options`."""
    return html.Fieldset(
        [
            html.Legend(legend, className="fs-6 fw-semibold"),
            dbc.RadioItems(
                id=id_, name=id_, options=[{"label": label, "value": key.value} for key, label in options.items()],
                value=value, inline=True,
            ),
        ],
        className=class_name,
    )


def date_errors(error: FilterError) -> tuple:
    """What the period's "From" and "To" fields say for a filter the dates made invalid: the
    message beside the field it names (in the GOV.UK pattern), nothing beside the other."""
    return tuple(field_error(str(error)) if error.field == name else "" for name in ("start", "end"))
