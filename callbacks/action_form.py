"""The chair's action form: add an action agreed at a meeting, or change one (stub, being built)."""

from __future__ import annotations

import dash
from dash import html


def new_page(viewer, **_query):
    return html.Div("Actions are being built.")


def edit_page(viewer, action_id=None, **_query):
    return html.Div("Actions are being built.")


def register(app: dash.Dash) -> None:
    return None
