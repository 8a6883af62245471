"""Callbacks: one module per page, each registered on the app the factory builds."""

from __future__ import annotations

import dash

from . import (
    account,
    action_form,
    actions,
    admin,
    admin_organisations,
    admin_users,
    alerts,
    api_tokens,
    assessment,
    audit_log,
    briefing,
    calendar,
    incident,
    incident_register,
    library,
    meetings,
    my_access,
    overview,
    retention,
    since_meeting,
    statement,
    summaries,
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
    meetings.register(app)
    action_form.register(app)
    actions.register(app)
    briefing.register(app)
    statement.register(app)
    summaries.register(app)
    library.register(app)
    api_tokens.register(app)
    audit_log.register(app)
    account.register(app)
    admin.register(app)
    admin_organisations.register(app)
    admin_users.register(app)
    retention.register(app)
