"""(being built)"""

from __future__ import annotations

import dash
from dash import html


def page(viewer, **query):
    return html.Div([html.H1("Being built")])


def record_page(viewer, **query):
    return html.Div([html.H1("Being built")])


def register(app: dash.Dash) -> None:
    return None
