"""The app shell: skip link, navigation bar, demo notice and the page container."""

from __future__ import annotations

import dash
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from dashboard.access import Viewer
from dashboard.reference import ROLE_LABELS, Role

DEMO_NOTICE = (
    "Demo: this installation holds synthetic demonstration data. "
    "No record describes a real event or person."
)


def _nav_label(page: dict):
    """A page's name; the alerts page also shows how many alerts wait ("Alerts (N)", as text),
    filled in by the alerts callbacks."""
    if page.get("path") == "/alerts":
        return [page["name"], html.Span(id="shell-alerts-count")]
    return page["name"]


def _nav(pages: list[dict]) -> html.Nav:
    links = [
        html.Li(
            dcc.Link(_nav_label(p), href=p["relative_path"], className="nav-link",
                     **({"id": "shell-alerts-link"} if p.get("path") == "/alerts" else {})),
            className="nav-item",
        )
        for p in pages
    ]
    return html.Nav(html.Ul(links, className="navbar-nav me-auto", id="shell-nav-list"),
                    id="shell-nav", className="shell-nav", **{"aria-label": "Main"})


def _menu_button() -> html.Button:
    """Shows and hides the navigation on narrow screens and at high zoom (below 992 CSS px),
    where its links would not fit on a line; wider, the links always show and this is hidden."""
    return html.Button(
        "Menu", id="shell-menu-toggle", type="button", className="btn btn-outline-light btn-sm shell-menu-toggle",
        **{"aria-controls": "shell-nav", "aria-expanded": "false"},
    )


def _sign_out() -> html.Form:
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=generate_csrf(), id="shell-csrf"),
            html.Button("Sign out", type="submit", className="btn btn-outline-light btn-sm", id="shell-sign-out"),
        ],
        action="/logout",
        method="POST",
        className="d-inline",
    )


def frame(viewer: Viewer, pages: list[dict], demo: bool) -> html.Div:
    """The frame around every page, for this viewer."""
    who = html.Div(
        [
            html.Span(viewer.name, className="fw-semibold", id="shell-user-name"),
            html.Span(f" · {viewer.organisation_name}", id="shell-user-org"),
            html.Span(f" · {ROLE_LABELS.get(Role(viewer.role), viewer.role)}", id="shell-user-role"),
            html.Span(" · "),
            dcc.Link("Change your password", href="/account/password", id="shell-password-link",
                     style={"textDecoration": "underline", "textUnderlineOffset": "0.2em"}),
            html.Span(" · "),
            # A server-rendered page (dashboard/two_factor_web.py), so a plain link, not dcc.Link.
            html.A("Two-step verification", href="/account/two-factor", id="shell-two-factor-link",
                   style={"textDecoration": "underline", "textUnderlineOffset": "0.2em"}),
        ],
        className="shell-user me-3",
    )
    header = html.Header(
        html.Div(
            [
                dcc.Link("Midlands Partnership Dashboard", href="/", className="app-brand me-4"),
                _menu_button(),
                _nav(pages),
                html.Div([who, _sign_out()], className="d-flex align-items-center flex-wrap"),
            ],
            className="container-fluid d-flex align-items-center flex-wrap gap-2 py-2",
        ),
        className="app-header",
    )
    children = [
        html.A("Skip to main content", href="#main", className="visually-hidden-focusable skip-link"),
        header,
    ]
    if demo:
        children.append(html.Div(DEMO_NOTICE, className="demo-banner", role="note", id="shell-demo-notice"))
    children.append(html.Main(dash.page_container, id="main", className="container-fluid py-3", tabIndex="-1"))
    children.append(html.Footer(
        # A server-rendered page (dashboard/accessibility_web.py), so a plain link.
        html.A("Accessibility statement", href="/accessibility", id="shell-accessibility-link"),
        className="app-footer container-fluid small py-3",
    ))
    return html.Div(children)


def no_access(page_name: str):
    return html.Div(
        [
            html.H1(page_name),
            html.P("Your role does not give access to this page. Ask your administrator if you need it."),
            dcc.Link("Go to the overview", href="/"),
        ]
    )
