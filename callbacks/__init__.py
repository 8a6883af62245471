"""Callbacks: one module per page, each registered on the app the factory builds."""

from __future__ import annotations

import dash

from . import home


def register(app: dash.Dash) -> None:
    home.register(app)
