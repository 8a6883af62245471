"""The chair's briefing pack page (stub, being built)."""

from __future__ import annotations

import dash
from dash import html


def page(viewer, **_query):
    return html.Div("The briefing pack is being built.")


def register(app: dash.Dash) -> None:
    return None
