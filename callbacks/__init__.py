"""Callbacks: one module per page, each registered on the app the factory builds."""

from __future__ import annotations

import dash

from . import my_access, overview


def register(app: dash.Dash) -> None:
    my_access.register(app)
    overview.register(app)
