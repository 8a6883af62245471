"""Since the last meeting: one read for the signed-in viewer, shown with a loading indicator."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output

from dashboard.reference import Role
from dashboard.since_meeting import since_last_meeting
from dashboard.web import get_db
from layouts import since_meeting as layout

from .common import require_viewer

ROLES = {Role.MEMBER, Role.CHAIR, Role.ADMIN}


def today() -> date:
    return date.today()


def page(viewer, **_query):
    return layout.layout()


def register(app: dash.Dash) -> None:
    @app.callback(Output("since-content", "children"), Input("since-load", "data"))
    def fill(_loaded):
        viewer = require_viewer(ROLES)
        with get_db().session() as session:
            result = since_last_meeting(session, viewer, today())
        return layout.content(result)
