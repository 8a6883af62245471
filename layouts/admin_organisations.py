"""The organisations page (admins): the member organisations with their sector, membership
status and active users, and one form to add an organisation or change one."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from dashboard.admin import (
    MEMBERSHIP_LABELS,
    NAME_MAX,
    NOT_ALLOWED,
    SECTOR_LABELS,
    SHORT_NAME_MAX,
    OrganisationView,
)
from dashboard.reference import MembershipStatus

from . import record_parts as parts

PREFIX = "admin-orgs"
EDIT_TYPE = "admin-orgs-edit"
FIELD_TARGETS = {
    "name": f"{PREFIX}-name",
    "short_name": f"{PREFIX}-short-name",
    "sector": f"{PREFIX}-sector",
    "membership_status": f"{PREFIX}-status-choice",
}
GROUPS = ("sector", "membership_status")
LINK_TARGETS = {k: (f"{v}-0" if k in GROUPS else v) for k, v in FIELD_TARGETS.items()}
ERROR_IDS = {name: parts.error_id(target) for name, target in FIELD_TARGETS.items()}
ADD_HEADING = "Add an organisation"
ADD_LABEL = "Add organisation"
SAVE_LABEL = "Save changes"

SECTOR_CHOICES = [(value.value, label) for value, label in SECTOR_LABELS.items()]
STATUS_CHOICES = [(value.value, label) for value, label in MEMBERSHIP_LABELS.items()]
STATUS_HINTS = {
    MembershipStatus.ACTIVE.value: "Its users can sign in.",
    MembershipStatus.SUSPENDED.value: "Its users are signed out at once and cannot sign in until it is active again.",
    MembershipStatus.LEFT.value: "It has left the partnership: its users are signed out at once and cannot sign in. "
                                 "Its records stay.",
}


def not_allowed() -> html.Div:
    return html.Div([html.H1("Member organisations"), html.P(NOT_ALLOWED, id=f"{PREFIX}-not-allowed")])


def edit_heading(view: OrganisationView) -> str:
    return f"Change {view.name}"


def organisation_table(organisations: Sequence[OrganisationView], own_id: int | None = None) -> html.Div | html.P:
    if not organisations:
        return html.P("There are no organisations yet.", id=f"{PREFIX}-empty")
    rows = []
    for org in organisations:
        name = [org.name]
        if org.id == own_id:
            name.append(html.Span(" (your organisation)", className="small"))
        rows.append(html.Tr(
            [
                html.Th(name, scope="row", className="fw-normal"),
                html.Td(org.short_name or "None"),
                html.Td(org.sector_label),
                html.Td(html.Strong(org.membership_label) if not org.active else org.membership_label),
                html.Td(dcc.Link(
                    [f"{org.active_users} of {org.users}", html.Span(f" users of {org.name}", className="visually-hidden")],
                    href=f"/admin/users?organisation={org.id}",
                )),
                html.Td(html.Button(
                    ["Change", html.Span(f" {org.name}", className="visually-hidden")],
                    id={"type": EDIT_TYPE, "index": org.id}, type="button", n_clicks=0,
                    className="btn btn-outline-primary btn-sm",
                )),
            ],
            id=f"{PREFIX}-row-{org.id}",
        ))
    members = sum(1 for o in organisations if o.active)
    return html.Div(
        html.Table(
            [
                html.Caption(f"{len(organisations)} organisation{'' if len(organisations) == 1 else 's'}, "
                             f"{members} active member{'' if members == 1 else 's'}, by name."),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Name", "Short name", "Sector", "Membership status", "Active users", "Change")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{PREFIX}-table-grid",
        ),
        className="table-responsive", tabIndex="0", role="region",
        **{"aria-label": "Organisations (scrollable)"},
    )


def _form() -> html.Section:
    return html.Section(
        [
            html.H2(ADD_HEADING, className="card-title h5", id=f"{PREFIX}-form-heading", tabIndex="-1"),
            parts.error_summary_box(f"{PREFIX}-form-errors"),
            parts.text_field(FIELD_TARGETS["name"], "Name", "", max_length=NAME_MAX,
                             hint=f"The organisation\u2019s full name, as partners know it. Up to {NAME_MAX} "
                                  "characters; no two organisations may share a name."),
            parts.text_field(FIELD_TARGETS["short_name"], "Short name (optional)", "", max_length=SHORT_NAME_MAX,
                             hint=f"For tables and charts, for example \u201cWMP\u201d. Up to {SHORT_NAME_MAX} "
                                  "characters."),
            parts.radio_field(FIELD_TARGETS["sector"], "Sector", SECTOR_CHOICES, None),
            parts.radio_field(FIELD_TARGETS["membership_status"], "Membership status", STATUS_CHOICES,
                              MembershipStatus.ACTIVE.value, hints=STATUS_HINTS),
            html.Div(
                [
                    html.Button(ADD_LABEL, id=f"{PREFIX}-save", type="button", n_clicks=0,
                                className="btn btn-primary"),
                    html.Button("Cancel: add an organisation instead", id=f"{PREFIX}-cancel", type="button",
                                n_clicks=0, className="btn btn-link", hidden=True),
                ],
                className="d-flex gap-2 align-items-center flex-wrap",
            ),
        ],
        className="card card-body mb-4",
        id=f"{PREFIX}-form",
        **{"aria-labelledby": f"{PREFIX}-form-heading"},
    )


def layout(organisations: Sequence[OrganisationView], own_id: int | None) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=f"{PREFIX}-changed", data=0),
            # The organisation being changed and its values when the form was opened (compared on save).
            dcc.Store(id=f"{PREFIX}-editing", data=None),
            dcc.Store(id=f"{PREFIX}-opened", data=None),
            dcc.ConfirmDialog(id=f"{PREFIX}-confirm", message=""),
            html.Div(id=f"{PREFIX}-focus-sink", hidden=True),
            html.H1("Member organisations"),
            html.P(
                "The organisations of the partnership. A user belongs to one organisation; only users of "
                "active member organisations can sign in. Every change is recorded in the audit log.",
                className="lead",
            ),
            html.P(dcc.Link("Back to administration", href="/admin")),
            parts.status_region(f"{PREFIX}-status"),
            html.Section(
                [
                    html.H2("Organisations", className="card-title h5", id=f"{PREFIX}-table-heading"),
                    html.Div(organisation_table(organisations, own_id), id=f"{PREFIX}-table"),
                ],
                className="card card-body mb-4",
                **{"aria-labelledby": f"{PREFIX}-table-heading"},
            ),
            _form(),
        ]
    )

