"""The trigger calendar page: upcoming events, the full list with filters, and the event form."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.calendar import (
    FIELD_LABELS,
    KIND_LABELS,
    NOTES_MAX,
    TITLE_MAX,
    CalendarEvent,
    DistrictGroup,
    Listing,
)
from dashboard.reference import ELECTION_RUN_UP_DAYS

REGION_WIDE = "region-wide"
SHOW_PAST = "past"
ANY = "any"  # the filters' "all kinds" and "all districts"
AREAS_TYPE = "calendar-form-areas"
EDIT_TYPE = "calendar-edit"
DELETE_TYPE = "calendar-delete"

# Where each field's error links to, and the element that shows it beside the field.
FIELD_TARGETS = {
    "kind": "calendar-form-kind",
    "title": "calendar-form-title",
    "starts_on": "calendar-form-start",
    "ends_on": "calendar-form-end",
    "areas": "calendar-form-areas-fieldset",
    "notes": "calendar-form-notes",
}
ERROR_IDS = {name: f"{target}-error" for name, target in FIELD_TARGETS.items()}
KIND_OPTIONS = [{"label": label, "value": kind.value} for kind, label in KIND_LABELS.items()]


# --- words ------------------------------------------------------------------------------------------


def _day(day: date, today: date | None = None, weekday: bool = False) -> str:
    text = f"{day:%-d %b}" if today and day.year == today.year else f"{day:%-d %b %Y}"
    return f"{day:%a} {text}" if weekday else text


def dates_text(event: CalendarEvent, today: date | None = None) -> str:
    """'Thu 7 May 2026' or '7 May to 9 May 2026'."""
    if event.starts_on == event.ends_on:
        return _day(event.starts_on, today, weekday=True)
    return f"{_day(event.starts_on, today)} to {_day(event.ends_on, today)}"


def run_up_text(event: CalendarEvent) -> str:
    """'run-up from 26 Mar' for elections, '' otherwise."""
    if event.run_up is None:
        return ""
    first = event.run_up[0]
    shown = f"{first:%-d %b}" if first.year == event.starts_on.year else f"{first:%-d %b %Y}"
    return f"run-up from {shown}"


def when_text(event: CalendarEvent, today: date) -> str:
    """Where the event stands against today, in words."""
    if event.starts_on <= today <= event.ends_on:
        return "under way"
    if event.ends_on < today:
        return "past"
    if event.run_up and event.run_up[0] <= today:
        return "in its run-up"
    days = (event.starts_on - today).days
    if days == 1:
        return "tomorrow"
    if days < 14:
        return f"in {days} days"
    return f"in {days // 7} weeks"


def event_summary(event: CalendarEvent) -> str:
    """One line naming the event, for messages."""
    return f"\u201c{event.title}\u201d ({dates_text(event)})"


# --- the page -----------------------------------------------------------------------------------------


def not_a_partner() -> html.Div:
    return html.Div(
        [
            html.H1("Trigger calendar"),
            html.P(
                "The calendar is shared by the partnership's member organisations. Your account or "
                "organisation is not an active member, so it is not shown. Ask your administrator."
            ),
        ]
    )


def _field_label(text: str, target: str, hint: str | None = None) -> list:
    """A label, the field's error (read out with the label) and an optional hint."""
    children: list = [
        dbc.Label(
            [text, html.Span(id=f"{target}-error", className="field-error d-block")],
            html_for=target,
            className="fw-semibold mb-1",
        )
    ]
    if hint:
        children.append(html.Div(hint, className="form-text mt-0 mb-1", id=f"{target}-hint"))
    return children


def _districts(groups: list[DistrictGroup]) -> html.Fieldset:
    return html.Fieldset(
        [
            html.Legend(
                [
                    "Districts",
                    html.Span(id=ERROR_IDS["areas"], className="field-error d-block fs-6"),
                ],
                className="fs-6 fw-semibold mb-1",
            ),
            html.Div(
                "Tick every district the event affects, grouped by police force area. "
                "Not needed for region-wide events.",
                className="form-text mt-0 mb-1",
            ),
            html.Div(
                [
                    html.Fieldset(
                        [
                            html.Legend(group.force, className="fs-6 fw-semibold calendar-force"),
                            dbc.Checklist(
                                id={"type": AREAS_TYPE, "force": group.force_code},
                                options=[{"label": name, "value": code} for code, name in group.districts],
                                value=[],
                            ),
                        ],
                        className="mb-2",
                    )
                    for group in groups
                ],
                className="calendar-districts border rounded p-2",
                style={"maxHeight": "18rem", "overflowY": "auto"},
            ),
        ],
        id=FIELD_TARGETS["areas"],
        className="mb-3",
    )


def event_form(groups: list[DistrictGroup]) -> html.Section:
    return html.Section(
        [
            html.H2("Add an event", id="calendar-form-heading", className="card-title h5", tabIndex="-1"),
            html.Div(
                id="calendar-form-errors",
                className="error-summary",
                role="alert",
                tabIndex="-1",
                hidden=True,
                **{"aria-labelledby": "calendar-form-errors-title"},
            ),
            html.Div(
                [
                    *_field_label(FIELD_LABELS["kind"], FIELD_TARGETS["kind"]),
                    dbc.Select(id=FIELD_TARGETS["kind"], options=KIND_OPTIONS, value="",
                               placeholder="Choose the kind of event"),
                ],
                className="mb-3",
            ),
            html.Div(
                [
                    *_field_label(FIELD_LABELS["title"], FIELD_TARGETS["title"],
                                  f"For example \u201cLocal elections 2026\u201d. Up to {TITLE_MAX} characters."),
                    dbc.Input(id=FIELD_TARGETS["title"], type="text", value="", maxLength=TITLE_MAX,
                              autoComplete="off"),
                ],
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            *_field_label(FIELD_LABELS["starts_on"], FIELD_TARGETS["starts_on"],
                                          "Polling day, for elections."),
                            dbc.Input(id=FIELD_TARGETS["starts_on"], type="date", value=""),
                        ],
                        sm=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        [
                            *_field_label(FIELD_LABELS["ends_on"], FIELD_TARGETS["ends_on"],
                                          "Leave blank for a one-day event."),
                            dbc.Input(id=FIELD_TARGETS["ends_on"], type="date", value=""),
                        ],
                        sm=6,
                        className="mb-3",
                    ),
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("Where", className="visually-hidden"),
                    dbc.Checklist(
                        id="calendar-form-region-wide",
                        options=[{"label": "Region-wide: affects the whole Midlands", "value": REGION_WIDE}],
                        value=[],
                    ),
                ],
                className="mb-2",
            ),
            _districts(groups),
            html.Div(
                [
                    *_field_label(FIELD_LABELS["notes"], FIELD_TARGETS["notes"],
                                  f"What partners should know or prepare for. Up to {NOTES_MAX:,} characters."),
                    dbc.Textarea(id=FIELD_TARGETS["notes"], value="", rows=4, maxLength=NOTES_MAX),
                ],
                className="mb-3",
            ),
            html.Div(
                [
                    html.Button("Add event", id="calendar-form-save", type="button", n_clicks=0,
                                className="btn btn-primary"),
                    html.Button("Cancel editing", id="calendar-form-cancel", type="button", n_clicks=0,
                                className="btn btn-outline-secondary", hidden=True),
                ],
                className="d-flex gap-2",
            ),
        ],
        className="card card-body mb-4",
        id="calendar-form",
        **{"aria-labelledby": "calendar-form-heading"},
    )


def filters(districts: list[tuple[str, str]]) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label("Kind", html_for="calendar-filter-kind"),
                    dbc.Select(id="calendar-filter-kind", options=[{"label": "All kinds", "value": ANY}, *KIND_OPTIONS],
                               value=ANY),
                ],
                className="me-3 mb-2",
            ),
            html.Div(
                [
                    dbc.Label("District", html_for="calendar-filter-area"),
                    dbc.Select(
                        id="calendar-filter-area",
                        options=[{"label": "All districts", "value": ANY},
                                 *[{"label": name, "value": code} for code, name in districts]],
                        value=ANY,
                    ),
                ],
                className="me-3 mb-2",
            ),
            html.Fieldset(
                [
                    html.Legend("Past events", className="visually-hidden"),
                    dbc.Checklist(id="calendar-filter-past",
                                  options=[{"label": "Show past events", "value": SHOW_PAST}], value=[]),
                ],
                className="mb-2 align-self-end",
            ),
        ],
        className="d-flex flex-wrap align-items-start",
    )


def layout(groups: list[DistrictGroup]) -> html.Div:
    districts = sorted(((c, n) for g in groups for c, n in g.districts), key=lambda d: d[1])
    return html.Div(
        [
            dcc.Store(id="calendar-editing", data=None),
            dcc.Store(id="calendar-changed", data=0),
            dcc.Store(id="calendar-pending-delete", data=None),
            dcc.ConfirmDialog(id="calendar-delete-confirm", message=""),
            html.Div(id="calendar-focus-sink", hidden=True),
            html.H1("Trigger calendar"),
            html.P(
                "Elections, planned rallies and marches, trials and sentencing, anniversaries and national "
                "incidents that may raise tension. They appear on the trend charts, and election run-ups "
                f"(the {ELECTION_RUN_UP_DAYS // 7} weeks before polling day) are shaded there.",
                className="lead",
            ),
            html.Div(id="calendar-status", role="status", className="calendar-status mb-3",
                     **{"aria-live": "polite", "aria-atomic": "true"}),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Section(
                                [
                                    html.H2("Upcoming: the next 12 weeks", className="card-title h5"),
                                    dcc.Loading(html.Div(id="calendar-upcoming"), type="dot", delay_show=300),
                                ],
                                className="card card-body mb-4",
                            ),
                            html.Section(
                                [
                                    html.H2("All events", className="card-title h5"),
                                    filters(districts),
                                    html.P("Choosing a district also lists region-wide events.",
                                           className="small text-body-secondary"),
                                    dcc.Loading(html.Div(id="calendar-table"), type="dot", delay_show=300),
                                ],
                                className="card card-body mb-4",
                            ),
                        ],
                        lg=7,
                    ),
                    dbc.Col(event_form(groups), lg=5),
                ]
            ),
        ]
    )


# --- pieces the callbacks fill in ----------------------------------------------------------------------


def upcoming_list(events: list[CalendarEvent], today: date) -> html.Div:
    if not events:
        return html.P("No events in the next 12 weeks.", id="calendar-upcoming-empty")
    items = []
    for e in events:
        details = [e.kind_label, e.where(), when_text(e, today)]
        if e.run_up:
            details.append(run_up_text(e))
        items.append(
            html.Li(
                [
                    html.Span(dates_text(e, today), className="fw-semibold"),
                    ": ",
                    html.Span(e.title),
                    html.Div(" · ".join(details), className="small text-body-secondary"),
                ],
                className="mb-2",
            )
        )
    return html.Ol(items, className="list-unstyled mb-0", id="calendar-upcoming-list")


def _actions(event: CalendarEvent) -> list:
    if not event.can_edit:
        return [html.Span("Added by another organisation", className="small text-body-secondary")]
    return [
        html.Button(
            ["Edit", html.Span(f" {event.title}", className="visually-hidden")],
            id={"type": EDIT_TYPE, "index": event.id},
            type="button",
            n_clicks=0,
            className="btn btn-outline-primary btn-sm me-1 mb-1",
        ),
        html.Button(
            ["Delete", html.Span(f" {event.title}", className="visually-hidden")],
            id={"type": DELETE_TYPE, "index": event.id, "version": event.version},
            type="button",
            n_clicks=0,
            className="btn btn-outline-danger btn-sm mb-1",
        ),
    ]


def events_table(listing: Listing, today: date, include_past: bool) -> html.Div:
    if not listing.events:
        return html.P("No events match these filters." if include_past else
                      "No events from today onwards match these filters.")
    order = "latest first" if include_past else "soonest first"
    rows = []
    for e in listing.events:
        dates = [html.Div(dates_text(e, today))]
        if e.run_up:
            dates.append(html.Div(run_up_text(e), className="small"))
        title = [html.Div(e.title, className="fw-semibold")]
        if e.notes:
            title.append(html.Div(e.notes, className="small calendar-notes"))
        rows.append(
            html.Tr(
                [
                    html.Td(dates),
                    html.Td(e.kind_label),
                    html.Th(title, scope="row", className="fw-normal"),
                    html.Td(e.where(), className="small"),
                    html.Td(e.created_by, className="small"),
                    html.Td(_actions(e)),
                ],
                id=f"calendar-row-{e.id}",
            )
        )
    children = [
        html.Table(
            [
                html.Caption(f"{len(listing.events)} event{'' if len(listing.events) == 1 else 's'}, {order}"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                    ("Dates", "Kind", "Event", "Where", "Added by", "Change")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id="calendar-events-table",
        )
    ]
    if listing.more:
        children.append(html.P("More events match: choose a kind or district to narrow the list.",
                               className="small"))
    return html.Div(children, className="table-responsive")


def error_summary(errors: dict[str, str], problem: str | None = None) -> list:
    """The error summary's content: each wrong field as a link to it, or one problem in words."""
    children: list = [html.H2("There is a problem", className="h5", id="calendar-form-errors-title")]
    if problem:
        children.append(html.P(problem, className="mb-0"))
    if errors:
        children.append(
            html.Ul(
                [html.Li(html.A(message, href=f"#{FIELD_TARGETS.get(name, 'calendar-form')}"))
                 for name, message in errors.items()],
                className="mb-0",
            )
        )
    return children
