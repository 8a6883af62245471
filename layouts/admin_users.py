"""The users pages (admins): the list of users with filters and the "invite a user" form, the new
activation link shown once, and one user's page (role and organisation, account, second factor,
open sessions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.admin import (
    NAME_MAX,
    NOT_ALLOWED,
    USER_STATE_LABELS,
    SessionView,
    UserState,
    UserView,
)
from dashboard.invitations import EMAIL_MAX, SentInvitation
from dashboard.reference import ROLE_LABELS, Role

from . import record_parts as parts

PREFIX = "admin-users"  # the list page
USER = "admin-user"  # one user's page
ANY = "all"  # a filter's "all" choice (not blank: a blank value would show the placeholder)
ACTION_TYPE = "admin-user-action"
FILTER_IDS = {"organisation": f"{PREFIX}-filter-organisation", "role": f"{PREFIX}-filter-role",
              "state": f"{PREFIX}-filter-status", "words": f"{PREFIX}-filter-words"}
FIELD_TARGETS = {"name": f"{PREFIX}-name", "email": f"{PREFIX}-email", "organisation": f"{PREFIX}-organisation",
                 "role": f"{PREFIX}-role"}
LINK_TARGETS = FIELD_TARGETS | {"role": f"{PREFIX}-role-0"}
USER_FIELDS = {"role": f"{USER}-role", "organisation": f"{USER}-organisation"}
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]
ROLE_HINTS = {
    Role.MEMBER.value: "Logs incidents and assessments for their organisation; sees what the markings allow.",
    Role.CHAIR.value: "As a member, plus the briefing pack, meetings and the group\u2019s management views.",
    Role.SCI.value: "The national policy team: national summaries only, never record-level detail.",
    Role.ADMIN.value: "Manages organisations, users and tokens; reads the audit log. No extra record access.",
}


def not_allowed(title: str = "Users") -> html.Div:
    return html.Div([html.H1(title), html.P(NOT_ALLOWED, id=f"{PREFIX}-not-allowed")])


def not_found() -> html.Div:
    return html.Div([
        html.H1("User not found"),
        html.P("There is no such user.", id=f"{USER}-not-found"),
        html.P(dcc.Link("Back to the users", href="/admin/users")),
    ])


def _when(moment, never: str = "Never") -> str:
    return parts.uk_time(moment) if moment else never


def state_text(view: UserView) -> str:
    """The status in words: "Active", "Invited (link expires 3 Nov 2026 at 14:05 GMT)"..."""
    if view.state == UserState.INVITED:
        return f"Invited (link expires {parts.uk_time(view.invitation_expires_at)})"
    return view.state_label


def second_factor_text(view: UserView) -> str:
    return f"On (since {parts.uk_time(view.second_factor_since)})" if view.second_factor_on else "Off"


# --- the list ------------------------------------------------------------------------------------


def _filter_select(key: str, label: str, everything: str, choices: Sequence[tuple], value) -> html.Div:
    options = [{"label": everything, "value": ANY}] + [{"label": str(lab), "value": str(val)} for val, lab in choices]
    return html.Div(
        [dbc.Label(label, html_for=FILTER_IDS[key], className="fw-semibold mb-1"),
         dbc.Select(id=FILTER_IDS[key], options=options, value=str(value) if value not in (None, "") else ANY)],
        className="me-3 mb-2",
    )


def filters(organisations: Sequence[tuple[int, str]], chosen: Mapping[str, str]) -> html.Section:
    return html.Section(
        [
            html.H2("Choose which users to show", className="h6", id=f"{PREFIX}-filters-heading"),
            html.Div(
                [
                    _filter_select("organisation", "Organisation", "All organisations", organisations,
                                   chosen.get("organisation")),
                    _filter_select("role", "Role", "All roles", ROLE_CHOICES, chosen.get("role")),
                    _filter_select("state", "Status", "All statuses", list(USER_STATE_LABELS.items()),
                                   chosen.get("state")),
                    html.Div(
                        [dbc.Label("Name, e-mail or organisation contains", html_for=FILTER_IDS["words"],
                                   className="fw-semibold mb-1"),
                         dbc.Input(id=FILTER_IDS["words"], type="search", value=chosen.get("words") or "",
                                   debounce=True, autoComplete="off", maxLength=200)],
                        className="me-3 mb-2",
                    ),
                ],
                className="d-flex flex-wrap align-items-end",
            ),
        ],
        className="card card-body mb-3",
        id=f"{PREFIX}-filters",
        **{"aria-labelledby": f"{PREFIX}-filters-heading"},
    )


def user_table(users: Sequence[UserView], filtered: bool = False) -> html.Div | html.P:
    if not users:
        return html.P("No users match these filters." if filtered else "There are no users yet.",
                      id=f"{PREFIX}-empty")
    rows = [
        html.Tr(
            [
                html.Th(dcc.Link(u.name, href=f"/admin/users/{u.id}", id=f"{PREFIX}-link-{u.id}"), scope="row",
                        className="fw-normal"),
                html.Td(u.email),
                html.Td(u.organisation),
                html.Td(u.role_label),
                html.Td(state_text(u) if u.state == UserState.ACTIVE else html.Strong(state_text(u))),
                html.Td("On" if u.second_factor_on else "Off"),
                html.Td(_when(u.last_login_at)),
                html.Td(str(u.open_sessions)),
            ],
            id=f"{PREFIX}-row-{u.id}",
        )
        for u in users
    ]
    return html.Div(
        html.Table(
            [
                html.Caption(f"{len(users)} user{'' if len(users) == 1 else 's'}, by name. Times are UK time."),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Name", "E-mail address", "Organisation", "Role", "Status", "Second factor", "Last sign-in",
                    "Open sessions")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{PREFIX}-table-grid",
        ),
        className="table-responsive", tabIndex="0", role="region", **{"aria-label": "Users (scrollable)"},
    )


def _invite_form(organisations: Sequence[tuple[int, str]], invitation_days: int) -> html.Section:
    return html.Section(
        [
            html.H2("Invite a user", className="card-title h5", id=f"{PREFIX}-form-heading", tabIndex="-1"),
            html.P(
                f"The person gets an account and a link to choose their password. The link works once, for "
                f"{invitation_days} day{'' if invitation_days == 1 else 's'}; until it is used, the account "
                "cannot sign in.",
                className="small",
            ),
            parts.error_summary_box(f"{PREFIX}-form-errors"),
            parts.text_field(FIELD_TARGETS["name"], "Full name", "", max_length=NAME_MAX,
                             hint="As their colleagues would recognise it."),
            parts.text_field(FIELD_TARGETS["email"], "E-mail address", "", max_length=EMAIL_MAX, input_type="email",
                             hint="Their work address. They sign in with it."),
            parts.select_field(FIELD_TARGETS["organisation"], "Organisation", organisations, "",
                               "Choose an organisation", hint="Active member organisations."),
            parts.radio_field(FIELD_TARGETS["role"], "Role", ROLE_CHOICES, None, hints=ROLE_HINTS),
            html.Button("Send invitation", id=f"{PREFIX}-invite", type="button", n_clicks=0,
                        className="btn btn-primary"),
        ],
        className="card card-body mb-4",
        id=f"{PREFIX}-form",
        **{"aria-labelledby": f"{PREFIX}-form-heading"},
    )


def invitation_panel(prefix: str, sent: SentInvitation, emailed: bool, why_not: str) -> html.Section:
    """The new activation link, shown this once, with a copy button and whether it was e-mailed."""
    value_id = f"{prefix}-new-value"
    if emailed:
        mail = f"It was also e-mailed to {sent.email}."
    else:
        mail = f"It was not e-mailed: {why_not} Give it to {sent.name} yourself, in a safe way."
    return html.Section(
        [
            html.H2("Copy the activation link now", className="h5", id=f"{prefix}-new-heading", tabIndex="-1"),
            html.P(
                [
                    html.Strong("This is the only time the link is shown. "),
                    "Only a fingerprint of it is kept, so nobody can show it again. If it is lost, send a new one "
                    f"from {sent.name}\u2019s page.",
                ],
                className="mb-2",
                id=f"{prefix}-new-warning",
            ),
            html.P(mail, className="mb-2", id=f"{prefix}-new-mail"),
            dbc.Label(f"Activation link for {sent.name} ({sent.email}), works once until "
                      f"{parts.uk_time(sent.expires_at)}", html_for=value_id, className="fw-semibold mb-1"),
            html.Div(
                [
                    dcc.Input(id=value_id, type="text", value=sent.link, readOnly=True, autoComplete="off",
                              spellCheck=False, className="form-control font-monospace", style={"maxWidth": "42rem"}),
                    # A real button (dcc.Clipboard draws a div that a keyboard cannot reach).
                    html.Button("Copy the link", id=f"{prefix}-copy", type="button", n_clicks=0,
                                className="btn btn-primary"),
                ],
                className="d-flex gap-2 align-items-center flex-wrap mb-2",
            ),
            html.P(id=f"{prefix}-copy-status", className="small mb-2", role="status", **{"aria-live": "polite"}),
            html.Button("I have copied it: hide the link", id=f"{prefix}-new-hide", type="button", n_clicks=0,
                        className="btn btn-outline-secondary"),
        ],
        className="card card-body mb-4 border-warning",
        id=f"{prefix}-new-panel",
        role="region",
        **{"aria-labelledby": f"{prefix}-new-heading"},
    )


def layout(users: Sequence[UserView], all_organisations: Sequence[tuple[int, str]],
           active_organisations: Sequence[tuple[int, str]], chosen: Mapping[str, str], invitation_days: int) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=f"{PREFIX}-changed", data=0),
            html.Div(id=f"{PREFIX}-focus-sink", hidden=True),
            html.H1("Users"),
            html.P("Everyone with an account: invite people, and open a person\u2019s page to change their role or "
                   "organisation, disable them, reset their second factor or sign them out everywhere.",
                   className="lead"),
            html.P(dcc.Link("Back to administration", href="/admin")),
            parts.status_region(f"{PREFIX}-status"),
            html.Div(id=f"{PREFIX}-new"),
            filters(all_organisations, chosen),
            html.Section(
                [
                    html.H2("Users", className="card-title h5", id=f"{PREFIX}-table-heading"),
                    html.Div(user_table(users, any(v not in (None, "", ANY) for v in chosen.values())),
                             id=f"{PREFIX}-table"),
                ],
                className="card card-body mb-4",
                **{"aria-labelledby": f"{PREFIX}-table-heading"},
            ),
            dbc.Row(dbc.Col(_invite_form(active_organisations, invitation_days), lg=8)),
        ]
    )


# --- one user ------------------------------------------------------------------------------------


def _action(action: str, label: str, name: str, danger: bool = False) -> html.Button:
    return html.Button(
        [label, html.Span(f" for {name}", className="visually-hidden")],
        id={"type": ACTION_TYPE, "action": action}, type="button", n_clicks=0,
        className=f"btn {'btn-outline-danger' if danger else 'btn-outline-primary'}",
    )


def session_table(sessions: Sequence[SessionView]) -> html.Div | html.P:
    if not sessions:
        return html.P("No open sessions: this person is not signed in anywhere.", id=f"{USER}-no-sessions")
    rows = [
        html.Tr([html.Th(_when(s.created_at), scope="row", className="fw-normal"), html.Td(_when(s.last_seen_at)),
                 html.Td(s.ip_address), html.Td(s.browser)], id=f"{USER}-session-{s.id}")
        for s in sessions
    ]
    return html.Div(
        html.Table(
            [
                html.Caption(f"{len(sessions)} open session{'' if len(sessions) == 1 else 's'}, most recently "
                             "active first. Times are UK time."),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                    ("Started", "Last active", "IP address", "Browser")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{USER}-sessions-table",
        ),
        className="table-responsive",
    )


def _role_section(view: UserView, organisations: Sequence[tuple[int, str]], is_self: bool,
                  errors: Mapping[str, str] | None = None) -> html.Section:
    errors = errors or {}
    choices = list(organisations)
    if view.organisation_id not in {i for i, _n in choices}:  # a suspended organisation: shown, not offered
        choices = [(view.organisation_id, f"{view.organisation} (not an active member)"), *choices]
    role_hint = ("You cannot change your own role." if is_self else
                 "Members, chairs and administrators see records as their markings allow; SCI sees national "
                 "summaries only.")
    return html.Section(
        [
            html.H2("Role and organisation", className="h5", id=f"{USER}-role-heading"),
            html.Div([
                *parts.field_label("Role", USER_FIELDS["role"], parts.error_id(USER_FIELDS["role"]), role_hint,
                                   errors.get("role")),
                dbc.Select(id=USER_FIELDS["role"], value=view.role, disabled=is_self, invalid="role" in errors,
                           options=[{"label": lab, "value": val} for val, lab in ROLE_CHOICES]),
            ], className="mb-3"),
            html.Div([
                *parts.field_label("Organisation", USER_FIELDS["organisation"],
                                   parts.error_id(USER_FIELDS["organisation"]), "Active member organisations.",
                                   errors.get("organisation")),
                dbc.Select(id=USER_FIELDS["organisation"], value=str(view.organisation_id),
                           invalid="organisation" in errors,
                           options=[{"label": name, "value": str(i)} for i, name in choices]),
            ], className="mb-3"),
            _action("role", "Change role and organisation", view.name),
        ],
        className="card card-body mb-4",
        **{"aria-labelledby": f"{USER}-role-heading"},
    )


def _account_section(view: UserView, is_self: bool) -> html.Section:
    buttons = []
    if view.not_activated and not view.disabled:
        explanation = ("The person has not yet chosen their password. Send a new link if theirs was lost or has "
                       "expired (the old one stops working), or cancel the invitation (the account is disabled).")
        buttons += [_action("resend", "Send a new link", view.name), _action("cancel", "Cancel the invitation",
                                                                               view.name, danger=True)]
    elif view.disabled:
        explanation = "The account is disabled: it cannot sign in."
        buttons.append(_action("enable", "Enable the account", view.name))
    elif is_self:
        explanation = "You cannot disable your own account."
    else:
        explanation = "Disabling the account signs the person out everywhere at once; it can be enabled again."
        buttons.append(_action("disable", "Disable the account", view.name, danger=True))
    return html.Section(
        [html.H2("Account", className="h5", id=f"{USER}-account-heading"),
         html.P(f"Status: {state_text(view)}.", className="fw-semibold mb-1", id=f"{USER}-state"),
         html.P(explanation),
         html.Div(buttons, className="d-flex gap-2 flex-wrap")],
        className="card card-body mb-4",
        **{"aria-labelledby": f"{USER}-account-heading"},
    )


def _second_factor_section(view: UserView) -> html.Section:
    children = [html.H2("Second factor", className="h5", id=f"{USER}-2fa-heading"),
                html.P(f"Second factor: {second_factor_text(view)}.", className="fw-semibold mb-1",
                       id=f"{USER}-2fa-state")]
    if view.second_factor_on:
        children += [
            html.P("If the person has lost their phone and their recovery codes, reset it: their authenticator and "
                   "recovery codes stop working, they are signed out everywhere, and they set up a second factor "
                   "again at their next sign-in. Check who is asking before you do."),
            html.Div(_action("reset", "Reset the second factor", view.name, danger=True)),
        ]
    else:
        children.append(html.P("Nothing to reset. If their role needs a second factor, they set it up at their next "
                               "sign-in.", className="mb-0"))
    return html.Section(children, className="card card-body mb-4", **{"aria-labelledby": f"{USER}-2fa-heading"})


def _sessions_section(view: UserView, sessions: Sequence[SessionView], is_self: bool) -> html.Section:
    children = [html.H2("Open sessions", className="h5", id=f"{USER}-sessions-heading"), session_table(sessions)]
    if sessions:
        if is_self:
            children.append(html.P("This includes the session you are using: signing out everywhere signs you out "
                                   "here too.", className="small"))
        children.append(html.Div(_action("signout", "Sign out everywhere", view.name, danger=True)))
    return html.Section(children, className="card card-body mb-4",
                        **{"aria-labelledby": f"{USER}-sessions-heading"})


def user_body(view: UserView, sessions: Sequence[SessionView], organisations: Sequence[tuple[int, str]],
              is_self: bool, errors: Mapping[str, str] | None = None) -> list:
    """Everything about the user that an action can change (drawn again after each one), with
    the role and organisation fields' errors when a change was refused."""
    details = parts.summary_list([
        ("E-mail address", view.email),
        ("Organisation", view.organisation + ("" if view.organisation_active else " (not an active member)")),
        ("Role", view.role_label),
        ("Status", state_text(view)),
        ("Second factor", second_factor_text(view)),
        ("Account made", parts.uk_time(view.created_at)),
        ("Activated", _when(view.activated_at, "Not yet")),
        ("Last sign-in", _when(view.last_login_at)),
        ("Open sessions", str(view.open_sessions)),
    ], f"{USER}-details")
    return [
        dcc.Store(id=f"{USER}-record", data={"id": view.id, "role": view.role,
                                             "organisation_id": view.organisation_id}),
        html.H1(view.name + (" (you)" if is_self else ""), id=f"{USER}-heading"),
        details,
        dbc.Row([
            dbc.Col([_role_section(view, organisations, is_self, errors), _account_section(view, is_self)], lg=6),
            dbc.Col([_second_factor_section(view), _sessions_section(view, sessions, is_self)], lg=6),
        ]),
    ]


def user_layout(view: UserView, sessions: Sequence[SessionView], organisations: Sequence[tuple[int, str]],
                is_self: bool) -> html.Div:
    return html.Div(
        [
            dcc.Location(id=f"{USER}-redirect", refresh=True),
            dcc.Store(id=f"{USER}-pending", data=None),
            dcc.ConfirmDialog(id=f"{USER}-confirm", message=""),
            html.Div(id=f"{USER}-focus-sink", hidden=True),
            html.P(dcc.Link("Back to the users", href="/admin/users")),
            parts.status_region(f"{USER}-status"),
            parts.error_summary_box(f"{USER}-form-errors"),
            html.Div(id=f"{USER}-new"),
            html.Div(user_body(view, sessions, organisations, is_self), id=f"{USER}-body"),
        ]
    )
