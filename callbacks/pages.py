"""The pages of the app: which exist, who may open them, and how each is loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

import dash
from dash import Input, Output, State

from dashboard.reference import Role
from dashboard.web import current_viewer, demo_mode
from layouts import not_found, shell

from . import (
    account,
    action_form,
    actions,
    admin,
    admin_organisations,
    admin_users,
    alerts,
    api_tokens,
    assessment,
    audit_log,
    briefing,
    calendar,
    incident,
    incident_register,
    library,
    meetings,
    my_access,
    overview,
    retention,
    since_meeting,
    statement,
    summaries,
    trends,
)

PARTNERS = frozenset({Role.MEMBER, Role.CHAIR, Role.ADMIN})
CHAIRS = frozenset({Role.CHAIR})
ADMINS = frozenset({Role.ADMIN})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    name: str
    title: str
    roles: frozenset[str]
    load: Callable  # (viewer, **query and path variables) -> components
    # A page reached from another (a record, a form) stays out of the navigation; a record's
    # page has a path template, e.g. "/incidents/<incident_id>".
    in_nav: bool = True
    path_template: str | None = None


# Only pages that are built are listed; the navigation shows each to the roles it serves.
PAGES = [
    Page("overview", "/", "Overview", "Regional overview", EVERYONE, overview.page),
    Page("trends", "/trends", "Trends", "Trends and early warning", PARTNERS, trends.page),
    Page("since", "/since-last-meeting", "Since last meeting", "Since the last meeting", PARTNERS,
         since_meeting.page),
    Page("calendar", "/calendar", "Calendar", "Trigger calendar", PARTNERS, calendar.page),
    Page("alerts", "/alerts", "Alerts", "Alerts", PARTNERS, alerts.page),
    Page("register", "/register", "Register", "Incident register", PARTNERS, incident_register.page),
    Page("assessments", "/assessments", "Assessments", "Tension assessments", PARTNERS, assessment.list_page),
    Page("incident-new", "/incidents/new", "Log an incident", "Log an incident", PARTNERS, incident.new_page,
         in_nav=False),
    Page("incident-edit", "/incidents/record/edit", "Edit incident", "Edit an incident", PARTNERS,
         incident.edit_page, in_nav=False, path_template="/incidents/<incident_id>/edit"),
    Page("incident", "/incidents/record", "Incident", "Incident", PARTNERS, incident.record_page, in_nav=False,
         path_template="/incidents/<incident_id>"),
    Page("assessment-new", "/assessments/new", "Record an assessment", "Record a tension assessment", PARTNERS,
         assessment.new_page, in_nav=False),
    Page("assessment-edit", "/assessments/record/edit", "Edit assessment", "Edit a tension assessment", PARTNERS,
         assessment.edit_page, in_nav=False, path_template="/assessments/<assessment_id>/edit"),
    Page("assessment", "/assessments/record", "Tension assessment", "Tension assessment", PARTNERS,
         assessment.record_page, in_nav=False, path_template="/assessments/<assessment_id>"),
    Page("meetings", "/meetings", "Meetings", "Meetings", PARTNERS, meetings.list_page),
    Page("actions", "/actions", "Actions", "Action tracker", PARTNERS, actions.tracker_page),
    Page("briefing", "/briefing", "Briefing pack", "The chair's briefing pack", CHAIRS, briefing.page),
    Page("statement", "/statement", "Party statement", "Joint party statement", PARTNERS, statement.page),
    Page("summaries", "/summaries", "National summaries", "National summaries", EVERYONE, summaries.page),
    Page("library", "/library", "Good practice", "Good practice library", EVERYONE, library.list_page),
    Page("admin", "/admin", "Administration", "Administration", ADMINS, admin.page),
    Page("organisations", "/admin/organisations", "Organisations", "Member organisations", ADMINS,
         admin_organisations.page, in_nav=False),
    Page("users", "/admin/users", "Users", "Users", ADMINS, admin_users.page, in_nav=False),
    Page("user", "/admin/users/record", "User", "User", ADMINS, admin_users.record_page, in_nav=False,
         path_template="/admin/users/<user_id>"),
    Page("retention", "/admin/retention", "Retention review", "Retention review", ADMINS, retention.page,
         in_nav=False),
    Page("api-tokens", "/admin/api-tokens", "API tokens", "API tokens", ADMINS, api_tokens.page, in_nav=False),
    Page("resource-new", "/library/new", "Add a resource", "Add a resource", PARTNERS, library.new_page,
         in_nav=False),
    Page("resource-edit", "/library/record/edit", "Edit resource", "Edit a resource", PARTNERS,
         library.edit_page, in_nav=False, path_template="/library/<resource_id>/edit"),
    Page("resource", "/library/record", "Resource", "Resource", EVERYONE, library.record_page, in_nav=False,
         path_template="/library/<resource_id>"),
    Page("meeting-new", "/meetings/new", "Record a meeting", "Record a meeting", PARTNERS, meetings.new_page,
         in_nav=False),
    Page("meeting-edit", "/meetings/record/edit", "Edit meeting", "Edit a meeting", PARTNERS,
         meetings.edit_page, in_nav=False, path_template="/meetings/<meeting_id>/edit"),
    Page("meeting", "/meetings/record", "Meeting", "Meeting", PARTNERS, meetings.record_page, in_nav=False,
         path_template="/meetings/<meeting_id>"),
    Page("action-new", "/actions/new", "Add an action", "Add an action", PARTNERS, action_form.new_page,
         in_nav=False),
    Page("action-edit", "/actions/record/edit", "Edit action", "Edit an action", PARTNERS,
         action_form.edit_page, in_nav=False, path_template="/actions/<action_id>/edit"),
    Page("action", "/actions/record", "Action", "Action", PARTNERS, actions.record_page, in_nav=False,
         path_template="/actions/<action_id>"),
    Page("deleted", "/deleted", "Deleted records", "Deleted records", ADMINS, incident.deleted_page,
         in_nav=False),
    Page("audit", "/admin/audit", "Audit log", "Audit log", ADMINS, audit_log.page, in_nav=False),
    Page("access", "/access", "Your access", "Your access", EVERYONE, my_access.page),
    Page("password", "/account/password", "Change your password", "Change your password", EVERYONE, account.page,
         in_nav=False),
]


def _guarded(page: Page):
    """The page for viewers whose role it serves, and a refusal for anyone else."""

    @wraps(page.load)
    def layout(**query):
        viewer = current_viewer()
        if viewer is None or viewer.role not in page.roles:
            return shell.no_access(page.name)
        # The query string arrives as keyword arguments; a parameter named like ours is ignored.
        return page.load(viewer, **{k: v for k, v in query.items() if k != "viewer"})

    return layout


def register_pages(app: dash.Dash) -> None:
    for order, page in enumerate(PAGES):
        dash.register_page(
            f"pages.{page.key}",
            path=page.path,
            name=page.name,
            title=f"{page.title} - Midlands Partnership Dashboard",
            order=order,
            layout=_guarded(page),
            roles=sorted(page.roles),
            in_nav=page.in_nav,
            **({"path_template": page.path_template} if page.path_template else {}),
        )
    dash.register_page(
        "not_found_404", path="/404", name="Not found", title="Page not found", layout=not_found.layout
    )


def register_menu(app: dash.Dash) -> None:
    """The narrow-screen menu: the button opens and closes it; going to another page closes it."""
    app.clientside_callback(
        """
        function(clicks, _path, expanded) {
            var triggered = dash_clientside.callback_context.triggered || [];
            var byButton = triggered.some(function(t) { return t.prop_id === 'shell-menu-toggle.n_clicks'; });
            var opening = byButton && expanded !== 'true';
            return [opening ? 'shell-nav open' : 'shell-nav', opening ? 'true' : 'false'];
        }
        """,
        Output("shell-nav", "className"),
        Output("shell-menu-toggle", "aria-expanded"),
        Input("shell-menu-toggle", "n_clicks"),
        Input("_pages_location", "pathname"),
        State("shell-menu-toggle", "aria-expanded"),
        prevent_initial_call=True,
    )


def nav_pages(role: str) -> list[dict]:
    """Registered pages this role may open, in navigation order."""
    return [p for p in dash.page_registry.values() if role in p.get("roles", ()) and p.get("in_nav", True)]


def app_layout():
    """The app's layout for the signed-in viewer (the route guard has checked they are)."""
    viewer = current_viewer()
    if viewer is None:
        return shell.no_access("Midlands Partnership Dashboard")
    return shell.frame(viewer, nav_pages(viewer.role), demo_mode())
