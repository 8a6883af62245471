"""Overview page callbacks."""

from __future__ import annotations

import dash
from dash import Input, Output
from dash.exceptions import PreventUpdate

from dashboard import queries
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import my_access

from .common import require_viewer

PARTNERS = {Role.MEMBER, Role.CHAIR, Role.ADMIN}


def page(viewer, **_query):
    return my_access.layout(viewer)


def register(app: dash.Dash) -> None:
    @app.callback(Output("access-marking-counts", "children"), Input("access-period", "value"))
    def marking_counts(period):
        viewer = require_viewer(PARTNERS)
        if not isinstance(period, str) or period not in my_access.PERIOD_LABELS:
            raise PreventUpdate
        with get_db().session() as session:
            rows = queries.incidents_by_marking(session, viewer, queries.period_filters(period))
        return my_access.marking_table(rows, period)
