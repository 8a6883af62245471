"""Alerts callbacks: acknowledging one or all of the viewer's alerts, and the header's count."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, ctx
from dash.exceptions import PreventUpdate
from flask import request

from dashboard import alerts
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.web import get_db
from layouts import alerts as layout

from .common import require_viewer

ALERT_ROLES = PARTNERSHIP_ROLES


def page(viewer, **_query):
    with get_db().session() as session:
        items = alerts.alerts_for(session, viewer)
    return layout.layout(viewer, items)


def _viewer():
    viewer = require_viewer(ALERT_ROLES)
    if not viewer.is_partner:
        raise PreventUpdate
    return viewer


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("shell-alerts-count", "children"),
        Input("_pages_location", "pathname"),
    )
    def header_count(_path):
        viewer = _viewer()
        with get_db().session() as session:
            return layout.count_text(alerts.unacknowledged_count(session, viewer))

    @app.callback(
        Output("alerts-list", "children"),
        Output("alerts-status", "children"),
        Output("shell-alerts-count", "children", allow_duplicate=True),
        Input({"type": "alerts-ack", "index": ALL}, "n_clicks"),
        Input({"type": "alerts-ack-all", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(_one, _all):
        viewer = _viewer()
        # Buttons drawn anew also "trigger" the callback, with no clicks: ignore those.
        if not any(t.get("value") for t in ctx.triggered):
            raise PreventUpdate
        clicked = ctx.triggered_id
        if not isinstance(clicked, dict) or clicked.get("type") not in {"alerts-ack", "alerts-ack-all"}:
            raise PreventUpdate
        if clicked["type"] == "alerts-ack-all":
            wanted = None
        elif isinstance(clicked.get("index"), int):
            wanted = [clicked["index"]]
        else:
            raise PreventUpdate
        with get_db().session() as session:
            done = alerts.acknowledge(session, viewer, wanted, ip_address=request.remote_addr)
            items = alerts.alerts_for(session, viewer)
            waiting = alerts.unacknowledged_count(session, viewer)
        return layout.alert_list(items), layout.acknowledged_message(done, waiting), layout.count_text(waiting)

    # Keyboard users keep their place: after acknowledging, focus moves to the next waiting
    # alert's button, or to the list's heading when none is left.
    app.clientside_callback(
        """
        function(status) {
            if (!status) { return window.dash_clientside.no_update; }
            setTimeout(function() {
                var next = document.querySelector('#alerts-waiting .alerts-ack');
                var target = next || document.getElementById('alerts-waiting-heading');
                if (target) { target.focus(); }
            }, 0);
            return '';
        }
        """,
        Output("alerts-focus-sink", "children"),
        Input("alerts-status", "children"),
        prevent_initial_call=True,
    )
