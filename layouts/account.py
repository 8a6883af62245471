"""The "Change your password" page: the current password, the new one twice, the rules, an error
summary that takes focus, and the confirmation once it is changed.

The password fields are never filled in by the server: their values stay in the browser until
the form is sent, and are cleared once the password has changed. They have no `name`, so no
browser form submission could put them in an address."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.access import Viewer
from dashboard.account import DONE, RULES

from . import record_parts as parts

PREFIX = "account-password"
FIELD_IDS = {"current": f"{PREFIX}-current", "new": f"{PREFIX}-new", "confirm": f"{PREFIX}-confirm"}
ERROR_IDS = {name: parts.error_id(target) for name, target in FIELD_IDS.items()}
LABELS = {"current": "Current password", "new": "New password", "confirm": "Confirm new password"}
AUTOCOMPLETE = {"current": "current-password", "new": "new-password", "confirm": "new-password"}
SUMMARY_ID = f"{PREFIX}-errors"
DONE_ID = f"{PREFIX}-done"
FORM_ID = f"{PREFIX}-form"
SUBMIT_ID = f"{PREFIX}-submit"


def error_summary(errors: dict[str, str]) -> list:
    return parts.error_summary(errors, FIELD_IDS, f"{SUMMARY_ID}-title", fallback=FIELD_IDS["current"])


def _password_field(name: str, hint: str | None = None) -> html.Div:
    target = FIELD_IDS[name]
    return html.Div(
        [
            *parts.field_label(LABELS[name], target, ERROR_IDS[name], hint),
            dbc.Input(id=target, type="password", value="", autoComplete=AUTOCOMPLETE[name], n_submit=0,
                      class_name="account-password-input", style={"maxWidth": "30rem"}),
        ],
        className="mb-3",
    )


def done_panel(message: str = DONE) -> list:
    """What the person sees once the password is changed."""
    return [
        html.H2("Password changed", className="h4", id=f"{DONE_ID}-title"),
        html.P(message, id=f"{DONE_ID}-message"),
        html.P(
            [
                "Use your new password next time you sign in, and update it in your password manager "
                "if you use one. ",
                dcc.Link("Go to the overview", href="/", style={"color": "#12436D"}),
            ],
            className="mb-0",
        ),
    ]


def layout(viewer: Viewer) -> html.Div:
    return html.Div(
        [
            html.Div(id=f"{PREFIX}-focus-sink", hidden=True),
            html.H1("Change your password"),
            html.P(
                [
                    "You are changing the password for ",
                    html.Strong(viewer.email, id=f"{PREFIX}-email"),
                    ". You will stay signed in here; you will be signed out on every other browser "
                    "and device.",
                ],
                className="lead",
            ),
            html.Div(id=DONE_ID, className="notice", role="status", tabIndex="-1", hidden=True,
                     **{"aria-labelledby": f"{DONE_ID}-title"}),
            html.Div(
                [
                    parts.error_summary_box(SUMMARY_ID),
                    html.Form(
                        [
                            # For password managers: the account the new password belongs to.
                            dcc.Input(id=f"{PREFIX}-username", type="text", value=viewer.email,
                                      autoComplete="username", readOnly=True, style={"display": "none"}),
                            _password_field("current"),
                            _password_field("new", hint=RULES),
                            _password_field("confirm", hint="Type or paste the new password again."),
                            html.Button("Change password", id=SUBMIT_ID, type="button", n_clicks=0,
                                        className="btn btn-primary"),
                        ],
                        id=FORM_ID,
                        noValidate=True,
                        **{"aria-label": "Change your password"},
                    ),
                ],
                id=f"{PREFIX}-form-section",
            ),
            html.P(
                "Forgotten your current password, or locked out? Ask your partnership administrator.",
                className="mt-4 small",
            ),
        ],
        style={"maxWidth": "48rem"},
    )
