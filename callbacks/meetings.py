"""Meetings: the list, the meeting page and the chair's meeting form (stub, being built)."""

from __future__ import annotations

import dash
from dash import html


def list_page(viewer, **_query):
    return html.Div("Meetings are being built.")


def new_page(viewer, **_query):
    return html.Div("Meetings are being built.")


def edit_page(viewer, meeting_id=None, **_query):
    return html.Div("Meetings are being built.")


def record_page(viewer, meeting_id=None, **_query):
    return html.Div("Meetings are being built.")


def register(app: dash.Dash) -> None:
    return None
