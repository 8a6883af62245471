"""Organisations page callbacks (admins): open an organisation in the form, add or change one
(after a confirmation when the change signs its users out), and redraw the table. Each callback
re-checks on the server that the viewer is an administrator of an active member organisation."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import admin
from dashboard.reference import MembershipStatus, Role
from dashboard.web import get_db
from layouts import admin_organisations as layout

from .common import require_viewer
from .record_forms import clicked, client_address, focus_when_shown, message_outputs, messages

PREFIX = layout.PREFIX
ADMINS = frozenset({Role.ADMIN})
FIELDS = layout.FIELD_TARGETS
SINGLE = ["name", "short_name"]  # fields with their own invalid flag (the radios have their legend)
SUMMARY = f"{PREFIX}-form-errors"


def admin_viewer():
    """The signed-in viewer, if they may manage organisations; otherwise the callback does nothing."""
    viewer = require_viewer(ADMINS)
    if not admin.may_manage(viewer):
        raise PreventUpdate
    return viewer


def bump(changed) -> int:
    """The "something changed" counter, one up (anything that is not a count starts again at 1)."""
    return (changed if isinstance(changed, int) and not isinstance(changed, bool) and 0 <= changed < 2**31 else 0) + 1


def page(viewer, **query):
    """The page for administrators of active member organisations (the page guard refuses other roles)."""
    if not admin.may_manage(viewer):
        return layout.not_allowed()
    with get_db().session() as session:
        organisations = admin.list_organisations(session, viewer)
    return layout.layout(organisations, viewer.organisation_id)


def record_page(viewer, **query):
    """Organisations are changed on their list page; there is no page of one organisation."""
    return page(viewer)


def _show(errors=None, problem=None) -> dict:
    return messages(errors, problem, FIELDS, SINGLE, layout.LINK_TARGETS, SUMMARY)


def _form_state(view=None) -> dict:
    """The form opened on an organisation (`view`), or emptied to add one."""
    if view is None:
        return {"name": "", "short_name": "", "sector": None, "membership_status": MembershipStatus.ACTIVE.value,
                "editing": None, "opened": None, "heading": layout.ADD_HEADING, "save_label": layout.ADD_LABEL,
                "cancel_hidden": True}
    values = view.form_values()
    return {**values, "editing": view.id, "opened": values, "heading": layout.edit_heading(view),
            "save_label": layout.SAVE_LABEL, "cancel_hidden": False}


def register(app: dash.Dash) -> None:
    form_outputs = {
        "name": Output(FIELDS["name"], "value"),
        "short_name": Output(FIELDS["short_name"], "value"),
        "sector": Output(FIELDS["sector"], "value"),
        "membership_status": Output(FIELDS["membership_status"], "value"),
        "editing": Output(f"{PREFIX}-editing", "data"),
        "opened": Output(f"{PREFIX}-opened", "data"),
        "heading": Output(f"{PREFIX}-form-heading", "children"),
        "save_label": Output(f"{PREFIX}-save", "children"),
        "cancel_hidden": Output(f"{PREFIX}-cancel", "hidden"),
    }
    msg_outputs = message_outputs(FIELDS, SINGLE, SUMMARY)

    @app.callback(
        output={**form_outputs, **msg_outputs, "status": Output(f"{PREFIX}-status", "children")},
        inputs={"clicks": Input({"type": layout.EDIT_TYPE, "index": ALL}, "n_clicks"),
                "cancel": Input(f"{PREFIX}-cancel", "n_clicks")},
        prevent_initial_call=True,
    )
    def open_form(clicks, cancel):
        viewer = admin_viewer()
        if not clicked():
            raise PreventUpdate
        trigger = ctx.triggered_id
        if trigger == f"{PREFIX}-cancel":
            return _form_state() | _show() | {"status": ""}
        if not isinstance(trigger, dict):
            raise PreventUpdate
        with get_db().session() as session:
            view = admin.get_organisation(session, viewer, trigger["index"])
        if view is None:
            return {k: no_update for k in form_outputs} | _show(problem="That organisation no longer exists.") | {
                "status": ""}
        return _form_state(view) | _show() | {"status": f"Changing {view.name}: the form is below."}

    save_outputs = {
        **form_outputs, **msg_outputs,
        "status": Output(f"{PREFIX}-status", "children", allow_duplicate=True),
        "changed": Output(f"{PREFIX}-changed", "data"),
        "confirm": Output(f"{PREFIX}-confirm", "displayed"),
        "confirm_message": Output(f"{PREFIX}-confirm", "message"),
    }
    # The form's outputs are shared with open_form: these are duplicates.
    for key in list(form_outputs) + list(msg_outputs):
        output = save_outputs[key]
        save_outputs[key] = Output(output.component_id, output.component_property, allow_duplicate=True)

    @app.callback(
        output=save_outputs,
        inputs={"save": Input(f"{PREFIX}-save", "n_clicks"), "confirmed": Input(f"{PREFIX}-confirm", "submit_n_clicks")},
        state={
            "editing": State(f"{PREFIX}-editing", "data"),
            "opened": State(f"{PREFIX}-opened", "data"),
            "name": State(FIELDS["name"], "value"),
            "short_name": State(FIELDS["short_name"], "value"),
            "sector": State(FIELDS["sector"], "value"),
            "membership_status": State(FIELDS["membership_status"], "value"),
            "changed": State(f"{PREFIX}-changed", "data"),
        },
        prevent_initial_call=True,
    )
    def save(save, confirmed, editing, opened, name, short_name, sector, membership_status, changed):
        viewer = admin_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in save_outputs}
        if editing is not None:
            editing = admin.as_id(editing)
            if editing is None:
                raise PreventUpdate
            opened = opened if isinstance(opened, dict) else {}
        confirming = ctx.triggered_id == f"{PREFIX}-confirm"
        membership_status = admin.one_of(membership_status, MembershipStatus)
        leaving = (editing is not None and opened.get("membership_status") == MembershipStatus.ACTIVE
                   and membership_status in {MembershipStatus.SUSPENDED, MembershipStatus.LEFT})
        if leaving and not confirming and editing != viewer.organisation_id:
            with get_db().session() as session:
                count = admin.users_signed_out_if_inactive(session, viewer, editing)
            word = "Suspend" if membership_status == MembershipStatus.SUSPENDED else "End the membership of"
            people = f"{count} active user{'' if count == 1 else 's'}"
            return out | {"confirm": True, "confirm_message": (
                f"{word} {opened.get('name')}? Its {people} will be signed out at once and cannot sign in "
                "until it is an active member again. Their records stay.")}
        try:
            with get_db().session() as session:
                if editing is None:
                    view = admin.add_organisation(session, viewer, name, short_name, sector, membership_status,
                                                  client_address())
                    done = f"Added {view.name}."
                else:
                    change = admin.change_organisation(session, viewer, editing, opened, name, short_name, sector,
                                                       membership_status, client_address())
                    view = change.organisation
                    done = f"Saved the changes to {view.name}."
                    if leaving:
                        done += (f" Its users were signed out ({change.sessions_ended} session"
                                 f"{'' if change.sessions_ended == 1 else 's'} ended).")
        except admin.AdminError as error:
            errors = getattr(error, "errors", None) or ({error.field: error.message} if error.field in FIELDS else {})
            problem = None if errors else f"Nothing was saved. {error.message}"
            return out | _show(errors, problem) | {"status": ""}
        return out | _form_state() | _show() | {"status": done, "changed": bump(changed)}

    @app.callback(
        Output(f"{PREFIX}-table", "children"),
        Input(f"{PREFIX}-changed", "data"),
        prevent_initial_call=True,
    )
    def redraw(_changed):
        viewer = admin_viewer()
        with get_db().session() as session:
            return layout.organisation_table(admin.list_organisations(session, viewer), viewer.organisation_id)

    # Focus follows the change: the error summary when it appears, the form when an organisation is opened.
    focus_when_shown(app, f"{PREFIX}-focus-sink", [
        (SUMMARY, "children", SUMMARY),
        (f"{PREFIX}-editing", "data", f"{PREFIX}-form-heading"),
    ])
