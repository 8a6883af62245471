"""What every callback starts with: the signed-in viewer, checked on the server."""

from __future__ import annotations

from dash.exceptions import PreventUpdate

from dashboard.access import Viewer
from dashboard.web import current_viewer


def require_viewer(roles) -> Viewer:
    """The viewer making this request, if their role may use the callback; otherwise no update."""
    viewer = current_viewer()
    if viewer is None or viewer.role not in roles:
        raise PreventUpdate
    return viewer
