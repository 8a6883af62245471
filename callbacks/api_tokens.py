"""API tokens page callbacks (admins): issue a token (shown once), hide it, revoke one after a
confirmation, redraw the table. Each callback re-checks on the server that the viewer is an
administrator of an active member organisation.

The new token travels only in the output that draws its panel: it is in no dcc.Store and in no
browser storage, and it is gone from the page when the panel is hidden or the page is left."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import api_tokens
from dashboard.reference import Role
from dashboard.web import extension, get_db
from layouts import api_tokens as layout
from layouts import record_parts as parts

from .common import require_viewer
from .record_forms import (
    ask_to_confirm,
    clicked,
    client_address,
    confirmed_delete,
    copy_button,
    focus_when_shown,
)

PREFIX = layout.PREFIX
ADMINS = frozenset({Role.ADMIN})


def admin_viewer():
    """The signed-in viewer, if they may manage tokens; otherwise the callback does nothing."""
    viewer = require_viewer(ADMINS)
    if not api_tokens.may_manage(viewer):
        raise PreventUpdate
    return viewer


def page(viewer, **query):
    """The page for administrators of active member organisations (the page guard refuses other roles)."""
    if not api_tokens.may_manage(viewer):
        return layout.not_allowed()
    with get_db().session() as session:
        tokens = api_tokens.list_tokens(session, viewer)
        users = api_tokens.user_choices(session, viewer)
    return layout.layout(tokens, users, extension().settings.api_token_days)


def _messages(errors: dict[str, str] | None = None, problem: str | None = None) -> dict:
    """The error summary, each field's own error and the invalid flags."""
    errors = errors or {}
    has = bool(errors or problem)
    out = {"summary": layout.error_summary(errors, problem) if has else [], "summary_hidden": not has}
    for name in layout.FIELD_TARGETS:
        out[f"error_{name}"] = parts.field_error(errors.get(name))
    out["invalid_user"] = "user" in errors
    out["invalid_name"] = "name" in errors
    return out


def _expiry_days(value) -> int | None | str:
    """The radio's value as days (None: no expiry); anything else is left for the domain to refuse."""
    if value == layout.NONE:
        return None
    return "" if value in (None, "") else str(value)


def register(app: dash.Dash) -> None:
    issue_outputs = {
        "panel": Output(f"{PREFIX}-new", "children"),
        "summary": Output(f"{PREFIX}-form-errors", "children"),
        "summary_hidden": Output(f"{PREFIX}-form-errors", "hidden"),
        **{f"error_{name}": Output(error_id, "children") for name, error_id in layout.ERROR_IDS.items()},
        "invalid_user": Output(layout.FIELD_TARGETS["user"], "invalid"),
        "invalid_name": Output(layout.FIELD_TARGETS["name"], "invalid"),
        "name": Output(layout.FIELD_TARGETS["name"], "value"),
        "status": Output(f"{PREFIX}-status", "children"),
        "changed": Output(f"{PREFIX}-changed", "data"),
    }

    @app.callback(
        output=issue_outputs,
        inputs={"clicks": Input(f"{PREFIX}-issue", "n_clicks")},
        state={
            "user": State(layout.FIELD_TARGETS["user"], "value"),
            "name": State(layout.FIELD_TARGETS["name"], "value"),
            "expiry": State(layout.FIELD_TARGETS["expiry"], "value"),
            "changed": State(f"{PREFIX}-changed", "data"),
        },
        prevent_initial_call=True,
    )
    def issue(clicks, user, name, expiry, changed):
        viewer = admin_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in issue_outputs}
        try:
            with get_db().session() as session:
                token, text = api_tokens.issue(session, viewer, user, name, _expiry_days(expiry),
                                               client_address())
                view = api_tokens.get_token(session, viewer, token.id)
        except api_tokens.ApiTokenError as error:
            return out | _messages({error.field: error.message}) | {"status": "", "panel": []}
        return out | _messages() | {
            "panel": layout.new_token_panel(view, text),
            "name": "",
            "status": f"Issued the token {view.label}. Copy it now: it is shown only once.",
            "changed": (changed or 0) + 1,
        }

    @app.callback(
        Output(f"{PREFIX}-new", "children", allow_duplicate=True),
        Output(f"{PREFIX}-status", "children", allow_duplicate=True),
        Input(f"{PREFIX}-new-hide", "n_clicks"),
        prevent_initial_call=True,
    )
    def hide(_clicks):
        admin_viewer()
        if not clicked():
            raise PreventUpdate
        return [], "The new token is hidden. It cannot be shown again."

    @app.callback(
        Output(f"{PREFIX}-table", "children"),
        Input(f"{PREFIX}-changed", "data"),
        prevent_initial_call=True,
    )
    def redraw(_changed):
        viewer = admin_viewer()
        with get_db().session() as session:
            return layout.token_table(api_tokens.list_tokens(session, viewer))

    @app.callback(
        Output(f"{PREFIX}-revoke-confirm", "displayed"),
        Output(f"{PREFIX}-revoke-confirm", "message"),
        Output(f"{PREFIX}-pending-revoke", "data"),
        Input({"type": layout.REVOKE_TYPE, "index": ALL, "version": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_revoke(_clicks):
        return ask_to_confirm(
            admin_viewer(), api_tokens.get_token, lambda view: not view.revoked,
            lambda view: (
                f"Revoke the token {view.label}? It stops working at once, and cannot be used again. "
                "Programs using it will be refused until they are given a new token."
            ),
        )

    @app.callback(
        Output(f"{PREFIX}-status", "children", allow_duplicate=True),
        Output(f"{PREFIX}-changed", "data", allow_duplicate=True),
        Output(f"{PREFIX}-pending-revoke", "data", allow_duplicate=True),
        Output(f"{PREFIX}-form-errors", "children", allow_duplicate=True),
        Output(f"{PREFIX}-form-errors", "hidden", allow_duplicate=True),
        Input(f"{PREFIX}-revoke-confirm", "submit_n_clicks"),
        State(f"{PREFIX}-pending-revoke", "data"),
        State(f"{PREFIX}-changed", "data"),
        prevent_initial_call=True,
    )
    def confirm_revoke(submitted, pending, changed):
        return confirmed_delete(
            admin_viewer(), submitted, pending, changed,
            lambda session, viewer, token_id, _version, ip_address: api_tokens.revoke(
                session, viewer, token_id, ip_address),
            failed=api_tokens.ApiTokenError,
            problem=lambda error: layout.error_summary({}, f"The token was not revoked. {error}"),
            done=lambda view: f"Revoked the token {view.label}. It no longer works.",
        )

    copy_button(app, PREFIX, "token")

    # Focus follows the change: the error summary when it appears, the new token's panel when shown.
    focus_when_shown(app, f"{PREFIX}-focus-sink", [
        (f"{PREFIX}-form-errors", "children", f"{PREFIX}-form-errors"),
        (f"{PREFIX}-new", "children", f"{PREFIX}-new-heading"),
    ])
