"""Users pages callbacks (admins). The list: filter it, invite a user (the link shown once, and
e-mailed when SMTP is set up), hide the link. One user's page: each action (role and
organisation, disable, enable, a new link, cancel the invitation, reset the second factor, sign
out everywhere) asks for a confirmation, then is done and the page drawn again. Each callback
re-checks on the server that the viewer is an administrator of an active member organisation.

A new link travels only in the output that draws its panel: it is in no dcc.Store and in no
browser storage, and it is gone from the page when the panel is hidden or the page is left."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashboard import admin, invitations
from dashboard.admin import USER_STATE_LABELS
from dashboard.reference import ROLE_LABELS, Role
from dashboard.web import extension, get_db
from layouts import admin_users as layout
from layouts import record_parts as parts

from .admin_organisations import bump
from .common import require_viewer
from .record_forms import (
    clicked,
    client_address,
    copy_button,
    focus_when_shown,
    message_outputs,
    messages,
)

PREFIX = layout.PREFIX
USER = layout.USER
ADMINS = frozenset({Role.ADMIN})
FIELDS = layout.FIELD_TARGETS
SINGLE = ["name", "email", "organisation"]
SUMMARY = f"{PREFIX}-form-errors"
USER_SUMMARY = f"{USER}-form-errors"
ACTIONS = ("role", "disable", "enable", "resend", "cancel", "reset", "signout")


def admin_viewer():
    """The signed-in viewer, if they may manage users; otherwise the callback does nothing."""
    viewer = require_viewer(ADMINS)
    if not admin.may_manage(viewer):
        raise PreventUpdate
    return viewer


def _chosen(organisation=None, role=None, state=None, words=None) -> dict[str, str]:
    """The filters, with anything unknown dropped."""
    org = admin.as_id(organisation)
    return {
        "organisation": str(org) if org else "",
        "role": admin.one_of(role, ROLE_LABELS),
        "state": admin.one_of(state, USER_STATE_LABELS),
        "words": " ".join(words.split())[:200] if isinstance(words, str) else "",
    }


def _users(session, viewer, chosen: dict[str, str]):
    return admin.list_users(session, viewer, extension().settings, organisation_id=chosen["organisation"] or None,
                            role=chosen["role"] or None, state=chosen["state"] or None, words=chosen["words"])


def page(viewer, **query):
    """The list of users with its filters (?organisation=, role=, status=, q=) and the invite form."""
    if not admin.may_manage(viewer):
        return layout.not_allowed()
    chosen = _chosen(query.get("organisation"), query.get("role"), query.get("status"), query.get("q"))
    with get_db().session() as session:
        users = _users(session, viewer, chosen)
        every = [(o.id, o.name) for o in admin.list_organisations(session, viewer)]
        active = admin.organisation_choices(session, viewer)
    return layout.layout(users, every, active, chosen, extension().settings.invitation_days)


def record_page(viewer, user_id=None, **query):
    """One user's page."""
    if not admin.may_manage(viewer):
        return layout.not_allowed("User")
    record = parts.parse_id(user_id)
    if record is None:
        return layout.not_found()
    settings = extension().settings
    with get_db().session() as session:
        view = admin.get_user(session, viewer, record, settings)
        if view is None:
            return layout.not_found()
        sessions = admin.user_sessions(session, viewer, record, settings)
        organisations = admin.organisation_choices(session, viewer)
    return layout.user_layout(view, sessions, organisations, view.id == viewer.user_id)


def _base_url() -> str:
    return invitations.base_url(extension().settings, request.host_url if request else None)


def _mail(sent) -> tuple[bool, str]:
    """E-mail the new link, after its transaction has been committed."""
    return invitations.send_email(sent, extension().settings)


def _body(viewer, user_id: int, errors: dict | None = None):
    settings = extension().settings
    with get_db().session() as session:
        view = admin.get_user(session, viewer, user_id, settings)
        if view is None:
            return layout.not_found()
        sessions = admin.user_sessions(session, viewer, user_id, settings)
        organisations = admin.organisation_choices(session, viewer)
    return layout.user_body(view, sessions, organisations, view.id == viewer.user_id, errors)


def _user_problem(problem: str | None = None, errors: dict | None = None) -> tuple:
    """(summary children, hidden) for the user page's error summary."""
    if not problem and not errors:
        return [], True
    return parts.error_summary(errors or {}, layout.USER_FIELDS, f"{USER_SUMMARY}-title", problem,
                               fallback=f"{USER}-body"), False


def _user_field_errors(errors: dict | None = None) -> tuple:
    """(role error, organisation error, role invalid, organisation invalid) beside the fields."""
    errors = errors or {}
    return (parts.field_error(errors.get("role")), parts.field_error(errors.get("organisation")),
            "role" in errors, "organisation" in errors)


def _question(action: str, view, pending: dict, organisations: dict[int, str], is_self: bool) -> str:
    name = view.name
    if action == "role":
        parts_ = []
        if pending["role"] != view.role:
            parts_.append(f"role from {view.role_label} to {ROLE_LABELS.get(pending['role'], pending['role'])}")
        if str(pending["organisation_id"]) != str(view.organisation_id):
            new_org = organisations.get(int(pending["organisation_id"]), "the organisation chosen")
            parts_.append(f"organisation from {view.organisation} to {new_org}")
        return (f"Change {name}\u2019s {' and '.join(parts_)}? It takes effect at their next click, and changes "
                "which records they see.")
    if action == "disable":
        return (f"Disable {name}\u2019s account? They are signed out everywhere at once and cannot sign in until an "
                "administrator enables the account again.")
    if action == "enable":
        extra = " They still need an activation link to choose a password." if view.not_activated else ""
        return f"Enable {name}\u2019s account? They can sign in again.{extra}"
    if action == "resend":
        return f"Send {name} a new activation link? The link sent before stops working at once."
    if action == "cancel":
        return (f"Cancel {name}\u2019s invitation? The link stops working and the account is disabled. It stays in "
                "the list of users, so that the audit log keeps its name.")
    if action == "reset":
        return (f"Reset {name}\u2019s second factor? Their authenticator and recovery codes stop working, they are "
                "signed out everywhere, and they set up a second factor again at their next sign-in."
                + (" You will be signed out too." if is_self else ""))
    if action == "signout":
        count = view.open_sessions
        own = " This includes your own session: you will need to sign in again." if is_self else ""
        return (f"Sign {name} out everywhere? {count} open session{'' if count == 1 else 's'} end at once; they "
                f"can sign in again.{own}")
    raise PreventUpdate


def register(app: dash.Dash) -> None:
    # --- the list -----------------------------------------------------------------------------

    @app.callback(
        Output(f"{PREFIX}-table", "children"),
        *(Input(layout.FILTER_IDS[key], "value") for key in ("organisation", "role", "state", "words")),
        Input(f"{PREFIX}-changed", "data"),
        prevent_initial_call=True,
    )
    def filter_users(organisation, role, state, words, _changed):
        viewer = admin_viewer()
        chosen = _chosen(*(None if v == layout.ANY else v for v in (organisation, role, state)), words)
        with get_db().session() as session:
            users = _users(session, viewer, chosen)
        return layout.user_table(users, any(chosen.values()))

    invite_outputs = {
        "panel": Output(f"{PREFIX}-new", "children"),
        **message_outputs(FIELDS, SINGLE, SUMMARY),
        "name": Output(FIELDS["name"], "value"),
        "email": Output(FIELDS["email"], "value"),
        "status": Output(f"{PREFIX}-status", "children"),
        "changed": Output(f"{PREFIX}-changed", "data"),
    }

    @app.callback(
        output=invite_outputs,
        inputs={"clicks": Input(f"{PREFIX}-invite", "n_clicks")},
        state={
            "name": State(FIELDS["name"], "value"),
            "email": State(FIELDS["email"], "value"),
            "organisation": State(FIELDS["organisation"], "value"),
            "role": State(FIELDS["role"], "value"),
            "changed": State(f"{PREFIX}-changed", "data"),
        },
        prevent_initial_call=True,
    )
    def invite(clicks, name, email, organisation, role, changed):
        viewer = admin_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in invite_outputs}
        show = lambda errors=None, problem=None: messages(errors, problem, FIELDS, SINGLE,  # noqa: E731
                                                          layout.LINK_TARGETS, SUMMARY)
        try:
            with get_db().session() as session:
                sent = invitations.invite(session, viewer, extension().settings, name, email, organisation, role,
                                          base=_base_url(), ip_address=client_address())
        except invitations.InvitationError as error:
            return out | show(getattr(error, "errors", None) or {error.field: error.message}) | {
                "status": "", "panel": []}
        emailed, why_not = _mail(sent)
        return out | show() | {
            "panel": layout.invitation_panel(PREFIX, sent, emailed, why_not),
            "name": "", "email": "",
            "status": f"Invited {sent.name}. Copy the activation link now: it is shown only once.",
            "changed": bump(changed),
        }

    # --- one user -------------------------------------------------------------------------------

    @app.callback(
        Output(f"{USER}-confirm", "displayed"),
        Output(f"{USER}-confirm", "message"),
        Output(f"{USER}-pending", "data"),
        Output(USER_SUMMARY, "children"),
        Output(USER_SUMMARY, "hidden"),
        Output(parts.error_id(layout.USER_FIELDS["role"]), "children"),
        Output(parts.error_id(layout.USER_FIELDS["organisation"]), "children"),
        Output(layout.USER_FIELDS["role"], "invalid"),
        Output(layout.USER_FIELDS["organisation"], "invalid"),
        Input({"type": layout.ACTION_TYPE, "action": ALL}, "n_clicks"),
        State(f"{USER}-record", "data"),
        State(layout.USER_FIELDS["role"], "value"),
        State(layout.USER_FIELDS["organisation"], "value"),
        prevent_initial_call=True,
    )
    def ask(_clicks, record, role, organisation):
        viewer = admin_viewer()
        trigger = ctx.triggered_id
        if not clicked() or not isinstance(trigger, dict) or not isinstance(record, dict):
            raise PreventUpdate
        action = admin.one_of(trigger.get("action"), ACTIONS)
        user_id = admin.as_id(record.get("id"))
        if not action or user_id is None:
            raise PreventUpdate
        role = admin.one_of(role, ROLE_LABELS)
        organisation = admin.as_id(organisation)
        with get_db().session() as session:
            view = admin.get_user(session, viewer, user_id, extension().settings)
            organisations = dict(admin.organisation_choices(session, viewer))
        if view is None:
            return (False, no_update, None, *_user_problem("This user no longer exists."), *_user_field_errors())
        pending = {"action": action, "id": view.id, "role": role or view.role,
                   "organisation_id": organisation or view.organisation_id,
                   "opened": {"role": record.get("role"), "organisation_id": record.get("organisation_id")}}
        if action == "role" and pending["role"] == view.role and str(pending["organisation_id"]) == str(
                view.organisation_id):
            errors = {"role": "Nothing to change: choose another role or organisation first."}
            return (False, no_update, None, *_user_problem(errors=errors), *_user_field_errors(errors))
        question = _question(action, view, pending, organisations, view.id == viewer.user_id)
        return (True, question, pending, *_user_problem(), *_user_field_errors())

    @app.callback(
        Output(f"{USER}-status", "children"),
        Output(USER_SUMMARY, "children", allow_duplicate=True),
        Output(USER_SUMMARY, "hidden", allow_duplicate=True),
        Output(f"{USER}-body", "children"),
        Output(f"{USER}-new", "children"),
        Output(f"{USER}-redirect", "href"),
        Output(f"{USER}-pending", "data", allow_duplicate=True),
        Input(f"{USER}-confirm", "submit_n_clicks"),
        State(f"{USER}-pending", "data"),
        prevent_initial_call=True,
    )
    def confirmed(submitted, pending):
        viewer = admin_viewer()
        if not submitted or not isinstance(pending, dict):
            raise PreventUpdate
        action, user_id = admin.one_of(pending.get("action"), ACTIONS), admin.as_id(pending.get("id"))
        if not action or user_id is None:
            raise PreventUpdate
        ip = client_address()
        is_self = user_id == viewer.user_id
        panel, redirect, sent = no_update, no_update, None
        try:
            with get_db().session() as session:
                if action == "role":
                    view = admin.change_role(session, viewer, user_id, pending.get("role"),
                                             pending.get("organisation_id"), opened=pending.get("opened"),
                                             ip_address=ip)
                    done = f"Saved: {view.name} is now {view.role_label} at {view.organisation}."
                elif action == "disable":
                    view = admin.disable(session, viewer, user_id, ip_address=ip)
                    done = f"Disabled {view.name}\u2019s account and signed them out everywhere."
                elif action == "enable":
                    view = admin.enable(session, viewer, user_id, ip_address=ip)
                    done = f"Enabled {view.name}\u2019s account."
                elif action == "resend":
                    sent = invitations.resend(session, viewer, extension().settings, user_id, base=_base_url(),
                                              ip_address=ip)
                    done = f"Made a new activation link for {sent.name}. Copy it now: it is shown only once."
                elif action == "cancel":
                    invitations.cancel(session, viewer, user_id, ip_address=ip)
                    done = "Cancelled the invitation: the link no longer works and the account is disabled."
                elif action == "reset":
                    ended = admin.reset_second_factor(session, viewer, user_id, ip_address=ip)
                    done = (f"Reset the second factor and ended {ended} session{'' if ended == 1 else 's'}. "
                            "They set it up again at their next sign-in.")
                    redirect = "/" if is_self else no_update
                elif action == "signout":
                    ended = admin.sign_out_everywhere(session, viewer, user_id, ip_address=ip)
                    done = f"Signed out everywhere: {ended} session{'' if ended == 1 else 's'} ended."
                    redirect = "/" if is_self else no_update
                else:
                    raise PreventUpdate
        except admin.AdminError as error:
            fields = {error.field: error.message} if error.field in layout.USER_FIELDS else None
            summary, hidden = _user_problem(None if fields else f"Nothing was changed. {error.message}", fields)
            return "", summary, hidden, _body(viewer, user_id, fields), no_update, no_update, None
        if sent is not None:
            emailed, why_not = _mail(sent)
            panel = layout.invitation_panel(USER, sent, emailed, why_not)
        if redirect != no_update:  # their own session has ended: the page would only be refused now
            return done, [], True, no_update, panel, redirect, None
        return done, [], True, _body(viewer, user_id), panel, redirect, None

    # --- both: the new link's panel ---------------------------------------------------------------

    for prefix in (PREFIX, USER):
        _link_panel_callbacks(app, prefix)

    focus_when_shown(app, f"{PREFIX}-focus-sink", [
        (SUMMARY, "children", SUMMARY),
        (f"{PREFIX}-new", "children", f"{PREFIX}-new-heading"),
    ])
    focus_when_shown(app, f"{USER}-focus-sink", [
        (USER_SUMMARY, "children", USER_SUMMARY),
        (f"{USER}-new", "children", f"{USER}-new-heading"),
    ])


def _link_panel_callbacks(app: dash.Dash, prefix: str) -> None:
    """Hide the new link's panel; copy the link in the browser (it never goes back to the server)."""

    @app.callback(
        Output(f"{prefix}-new", "children", allow_duplicate=True),
        Output(f"{prefix}-status", "children", allow_duplicate=True),
        Input(f"{prefix}-new-hide", "n_clicks"),
        prevent_initial_call=True,
    )
    def hide(_clicks):
        admin_viewer()
        if not clicked():
            raise PreventUpdate
        return [], "The activation link is hidden. It cannot be shown again; send a new one if it is lost."

    copy_button(app, prefix, "link")
