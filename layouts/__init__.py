"""Page layouts: one module per page, each a function from data to components."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

import dash

from dashboard.reference import Role
from dashboard.web import current_viewer

from . import home, not_found, shell

# The page carries lang="en" (WCAG 3.1.1) and Dash's placeholders.
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
</head>
<body>
{%app_entry%}
<footer>
{%config%}
{%scripts%}
{%renderer%}
</footer>
</body>
</html>"""


@dataclass(frozen=True)
class Page:
    module: object
    path: str
    name: str
    title: str
    roles: frozenset[str]
    in_nav: bool = True


PARTNERS = frozenset({Role.MEMBER, Role.CHAIR, Role.ADMIN})
EVERYONE = frozenset(Role)

# Only pages that are built are listed; the navigation shows each to the roles it serves.
PAGES = [
    Page(home, "/", "Overview", "Overview - Midlands Partnership Dashboard", EVERYONE),
]


def _guarded(page: Page):
    """The page's layout for viewers whose role it serves, and a refusal for anyone else."""

    @wraps(page.module.layout)
    def layout(**query):
        viewer = current_viewer()
        if viewer is None or viewer.role not in page.roles:
            return shell.no_access(page.name)
        return page.module.layout(viewer, **query)

    return layout


def register_pages(app: dash.Dash) -> None:
    for order, page in enumerate(PAGES):
        dash.register_page(
            page.module.__name__,
            path=page.path,
            name=page.name,
            title=page.title,
            order=order,
            layout=_guarded(page),
            roles=sorted(page.roles),
            in_nav=page.in_nav,
        )
    dash.register_page(
        "not_found_404", path="/404", name="Not found", title="Page not found", layout=not_found.layout
    )


def nav_pages(role: str) -> list[dict]:
    """Registered pages this role may open, in navigation order."""
    return [
        p
        for p in dash.page_registry.values()
        if p.get("in_nav") and role in p.get("roles", ())
    ]
