"""The joint party statement: adoption by district (stub, being built)."""

from __future__ import annotations

import dash
from dash import html


def page(viewer, **_query):
    return html.Div("The joint party statement page is being built.")


def register(app: dash.Dash) -> None:
    return None
