"""Callbacks of the "Change your password" page (every role).

The callback re-checks the signed-in viewer on the server and changes only that viewer's own
password. On success every session of the user has ended and the domain has opened a new one:
its token goes into this browser's Flask session (the cookie is set on the callback's answer),
so the person stays signed in here and is signed out everywhere else.

The passwords travel only in the callback's request: they are in no dcc.Store, in no browser
storage, and are never sent back (the fields are only ever cleared)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate
from flask import request
from flask_login import login_user

from dashboard import account
from dashboard.reference import Role
from dashboard.web import SignedInUser, extension, get_db
from layouts import account as layout
from layouts import record_parts as parts

from .common import require_viewer
from .record_forms import clicked, client_address, focus_when_shown

EVERYONE = frozenset(Role)


def page(viewer, **query):
    """The form for the signed-in viewer (the page guard has checked there is one)."""
    return layout.layout(viewer)


def _messages(errors: dict[str, str]) -> dict:
    out = {"summary": layout.error_summary(errors) if errors else [], "summary_hidden": not errors}
    for name in layout.FIELD_IDS:
        out[f"error_{name}"] = parts.field_error(errors.get(name))
        out[f"invalid_{name}"] = name in errors
    return out


def register(app: dash.Dash) -> None:
    outputs = {
        "summary": Output(layout.SUMMARY_ID, "children"),
        "summary_hidden": Output(layout.SUMMARY_ID, "hidden"),
        **{f"error_{name}": Output(error_id, "children") for name, error_id in layout.ERROR_IDS.items()},
        **{f"invalid_{name}": Output(field_id, "invalid") for name, field_id in layout.FIELD_IDS.items()},
        **{f"value_{name}": Output(field_id, "value") for name, field_id in layout.FIELD_IDS.items()},
        "done": Output(layout.DONE_ID, "children"),
        "done_hidden": Output(layout.DONE_ID, "hidden"),
        "form_hidden": Output(f"{layout.PREFIX}-form-section", "hidden"),
    }

    @app.callback(
        output=outputs,
        inputs={
            "clicks": Input(layout.SUBMIT_ID, "n_clicks"),
            "submits": [Input(field_id, "n_submit") for field_id in layout.FIELD_IDS.values()],
        },
        state={name: State(field_id, "value") for name, field_id in layout.FIELD_IDS.items()},
        prevent_initial_call=True,
    )
    def change(clicks, submits, current, new, confirm):
        viewer = require_viewer(EVERYONE)
        if not clicked():
            raise PreventUpdate
        ext = extension()
        with get_db().session() as session:
            result = account.change_own_password(
                session, ext.settings, viewer.user_id, current, new, confirm,
                ip_address=client_address(), user_agent=request.headers.get("User-Agent"),
            )
        out = {key: no_update for key in outputs}
        if not result.ok:
            return out | _messages(result.errors)
        # The old session has ended with every other one: this browser continues on the new one.
        login_user(SignedInUser(result.token, result.viewer))
        return out | _messages({}) | {f"value_{name}": "" for name in layout.FIELD_IDS} | {
            "done": layout.done_panel(), "done_hidden": False, "form_hidden": True,
        }

    # Focus follows the answer: the error summary when it shows problems, the confirmation once done.
    focus_when_shown(app, f"{layout.PREFIX}-focus-sink", [
        (layout.SUMMARY_ID, "children", layout.SUMMARY_ID),
        (layout.DONE_ID, "children", layout.DONE_ID),
    ])
