"""(stub, being built)"""

from __future__ import annotations

import dash
from dash import html


def page(viewer, **query):
    return html.Div(html.H1("Coming soon"))


def register(app: dash.Dash) -> None:
    return None
