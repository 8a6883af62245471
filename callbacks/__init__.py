"""Callbacks: one module per page, each registered on the app the factory builds."""

from __future__ import annotations

import dash

from . import (
    alerts,
    assessment,
    calendar,
    incident,
    incident_register,
    my_access,
    overview,
    since_meeting,
    trends,
)


def register(app: dash.Dash) -> None:
    alerts.register(app)
    my_access.register(app)
    overview.register(app)
    trends.register(app)
    since_meeting.register(app)
    calendar.register(app)
    incident_register.register(app)
    incident.register(app)
    assessment.register(app)
