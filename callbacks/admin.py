"""Administration: the page that leads to every admin tool (the page guard admits admins only)."""

from __future__ import annotations

import dash

from layouts import admin as layout


def page(viewer, **query):
    return layout.layout()


def register(app: dash.Dash) -> None:
    """The page is static links; it has no callbacks."""
