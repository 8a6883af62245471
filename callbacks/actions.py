"""The action tracker and an action's page (stub, being built)."""

from __future__ import annotations

import dash
from dash import html


def tracker_page(viewer, **_query):
    return html.Div("The action tracker is being built.")


def record_page(viewer, action_id=None, **_query):
    return html.Div("The action tracker is being built.")


def register(app: dash.Dash) -> None:
    return None
