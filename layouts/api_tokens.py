"""The API tokens page (admins): the tokens issued, the form to issue one, the new token shown
once with a copy button, and how to call the API."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.api_tokens import EXPIRY_CHOICES, NAME_MAX, NOT_ALLOWED, TokenView, expiry_label
from dashboard.openapi import OPENAPI_PATH, SUMMARY_PATH

from . import record_parts as parts

PREFIX = "api-tokens"
REVOKE_TYPE = "api-tokens-revoke"
# Each field's component id; its error is shown in its label, and the error summary links to
# the field (for the radios, the first of them).
FIELD_TARGETS = {"user": f"{PREFIX}-user", "name": f"{PREFIX}-name", "expiry": f"{PREFIX}-expiry"}
LINK_TARGETS = FIELD_TARGETS | {"expiry": f"{PREFIX}-expiry-0"}
ERROR_IDS = {name: parts.error_id(target) for name, target in FIELD_TARGETS.items()}
NEW_VALUE_ID = f"{PREFIX}-new-value"
NONE = "none"  # the expiry radio's value for "no expiry"


def expiry_value(days: int | None) -> str:
    return NONE if days is None else str(days)


def not_allowed() -> html.Div:
    return html.Div([html.H1("API tokens"), html.P(NOT_ALLOWED, id=f"{PREFIX}-not-allowed")])


def _form(users: Sequence[tuple[int, str]], default_days: int | None) -> html.Section:
    return html.Section(
        [
            html.H2("Issue a token", className="card-title h5", id=f"{PREFIX}-form-heading", tabIndex="-1"),
            html.P(
                "A token lets one person\u2019s programs read the national summaries without signing in. "
                "It carries that person\u2019s name in the audit log, so issue one per person and purpose.",
                className="small",
            ),
            parts.error_summary_box(f"{PREFIX}-form-errors"),
            parts.select_field(
                FIELD_TARGETS["user"], "Who the token is for", users, "", "Choose a person",
                hint="Active users of active member organisations.",
            ),
            parts.text_field(
                FIELD_TARGETS["name"], "What it is for", "", max_length=NAME_MAX,
                hint=f"For example \u201cMonthly summary pull\u201d. Up to {NAME_MAX} characters.",
            ),
            parts.radio_field(
                FIELD_TARGETS["expiry"], "How long it lasts",
                [(expiry_value(d), expiry_label(d)) for d in EXPIRY_CHOICES], expiry_value(default_days),
                hint="It stops working after this; you can revoke it at any time before.",
            ),
            html.Button("Issue token", id=f"{PREFIX}-issue", type="button", n_clicks=0, className="btn btn-primary"),
        ],
        className="card card-body mb-4",
        id=f"{PREFIX}-form",
        **{"aria-labelledby": f"{PREFIX}-form-heading"},
    )


def new_token_panel(view: TokenView, token_text: str) -> html.Section:
    """The new token, shown this once: a read-only field to select or copy it from."""
    return html.Section(
        [
            html.H2("Copy the new token now", className="h5", id=f"{PREFIX}-new-heading", tabIndex="-1"),
            html.P(
                [
                    html.Strong("This is the only time the token is shown. "),
                    "Only a fingerprint of it is kept, so nobody can show it again. Copy it now and give it "
                    f"to {view.user_name} in a safe way. If it is lost, revoke it and issue a new one.",
                ],
                className="mb-2",
                id=f"{PREFIX}-new-warning",
            ),
            dbc.Label(f"API token {view.label}", html_for=NEW_VALUE_ID, className="fw-semibold mb-1"),
            html.Div(
                [
                    dcc.Input(id=NEW_VALUE_ID, type="text", value=token_text, readOnly=True, autoComplete="off",
                              spellCheck=False, className="form-control font-monospace",
                              style={"maxWidth": "38rem"}),
                    # A real button (dcc.Clipboard draws a div that a keyboard cannot reach).
                    html.Button("Copy the token", id=f"{PREFIX}-copy", type="button", n_clicks=0,
                                className="btn btn-primary"),
                ],
                className="d-flex gap-2 align-items-center flex-wrap mb-2",
            ),
            html.P(id=f"{PREFIX}-copy-status", className="small mb-2", role="status",
                   **{"aria-live": "polite"}),
            html.Button("I have copied it: hide the token", id=f"{PREFIX}-new-hide", type="button", n_clicks=0,
                        className="btn btn-outline-secondary"),
        ],
        className="card card-body mb-4 border-warning",
        id=f"{PREFIX}-new-panel",
        role="region",
        **{"aria-labelledby": f"{PREFIX}-new-heading"},
    )


def _when(moment) -> str:
    return parts.uk_time(moment) if moment else "Never"


def _expires(view: TokenView) -> str:
    return parts.uk_time(view.expires_at) if view.expires_at else "No expiry"


def _revoke_button(view: TokenView):
    if view.revoked:
        return html.Span(f"Revoked {parts.uk_time(view.revoked_at)}" + (f" by {view.revoked_by}" if view.revoked_by
                                                                          else ""), className="small")
    return html.Button(
        ["Revoke", html.Span(f" the token {view.label}", className="visually-hidden")],
        id={"type": REVOKE_TYPE, "index": view.id, "version": 0},
        type="button", n_clicks=0, className="btn btn-outline-danger btn-sm",
    )


def token_table(tokens: Sequence[TokenView]) -> html.Div | html.P:
    if not tokens:
        return html.P("No tokens have been issued yet.", id=f"{PREFIX}-empty")
    working = sum(1 for t in tokens if t.active)
    rows = [
        html.Tr(
            [
                html.Td([html.Div(t.user_name), html.Div(t.user_email, className="small")]),
                html.Td(t.organisation),
                html.Th(t.name, scope="row", className="fw-normal"),
                html.Td(html.Code(f"{t.prefix}\u2026")),
                html.Td(parts.uk_time(t.created_at)),
                html.Td(t.created_by or "Unknown"),
                html.Td(_when(t.last_used_at)),
                html.Td(_expires(t)),
                html.Td(html.Strong(t.status) if t.active else t.status),
                html.Td(_revoke_button(t)),
            ],
            id=f"{PREFIX}-row-{t.id}",
            className=None if t.active else "text-body-secondary",
        )
        for t in tokens
    ]
    return html.Div(
        html.Table(
            [
                html.Caption(f"{len(tokens)} token{'' if len(tokens) == 1 else 's'}, newest first; "
                             f"{working} working. Times are UK time."),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "User", "Organisation", "Name", "Starts with", "Created", "Created by", "Last used", "Expires",
                    "Status", "Revoke")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{PREFIX}-table-grid",
        ),
        # Scrolls sideways on narrow screens, so it can take focus to be scrolled by keyboard.
        className="table-responsive", tabIndex="0", role="region", **{"aria-label": "Tokens (scrollable)"},
    )


def _how_to() -> html.Section:
    example = (f'curl -H "Authorization: Bearer pdk_..." \\\n'
               f'  "https://dashboard.example.org{SUMMARY_PATH}?to=2026Q3&quarters=4&geography=district"')
    return html.Section(
        [
            html.H2("Using the API", className="card-title h5"),
            html.P([
                "The API is read-only and gives the same national summaries as the ",
                dcc.Link("national summaries page", href="/summaries"),
                ": counts from TLP:GREEN and TLP:CLEAR records only, after disclosure control, marked TLP:GREEN. "
                "Send the token in the Authorization header:",
            ]),
            html.Pre(html.Code(example), className="bg-light p-2 small", tabIndex="0"),
            html.P([
                "The parameters, the answer\u2019s shape and the errors are described in the ",
                html.A("OpenAPI description", href=OPENAPI_PATH),
                ". Every call is recorded in the audit log.",
            ], className="mb-0"),
        ],
        className="card card-body mb-4",
        id=f"{PREFIX}-how-to",
    )


def layout(tokens: Sequence[TokenView], users: Sequence[tuple[int, str]], default_days: int | None) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=f"{PREFIX}-changed", data=0),
            dcc.Store(id=f"{PREFIX}-pending-revoke", data=None),
            dcc.ConfirmDialog(id=f"{PREFIX}-revoke-confirm", message=""),
            html.Div(id=f"{PREFIX}-focus-sink", hidden=True),
            html.H1("API tokens"),
            html.P(
                "Issue and revoke the tokens people use to read the national summaries through the read-only "
                "API. A token is shown once, when it is issued; afterwards only its first characters are shown.",
                className="lead",
            ),
            parts.status_region(f"{PREFIX}-status"),
            html.Div(id=f"{PREFIX}-new"),
            # The table takes the whole width (its Revoke buttons stay in view); the form and
            # the API's instructions sit side by side below it.
            html.Section(
                [
                    html.H2("Tokens", className="card-title h5", id=f"{PREFIX}-table-heading"),
                    html.Div(token_table(tokens), id=f"{PREFIX}-table"),
                ],
                className="card card-body mb-4",
                **{"aria-labelledby": f"{PREFIX}-table-heading"},
            ),
            dbc.Row([dbc.Col(_form(users, default_days), lg=6), dbc.Col(_how_to(), lg=6)]),
        ]
    )


def error_summary(errors: dict[str, str], problem: str | None = None) -> list:
    return parts.error_summary(errors, LINK_TARGETS, f"{PREFIX}-form-errors-title", problem,
                               fallback=f"{PREFIX}-form")
