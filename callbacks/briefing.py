"""The chair's briefing pack page: the period it covers, then the PDF built on one click.

The printable HTML page is a link to `/briefing/pack` (dashboard/briefing_web.py); the PDF is
built here so that the page can show a loading indicator meanwhile. Both build fresh and are
audited.
"""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, dcc
from dash.exceptions import PreventUpdate
from flask import has_request_context, request

from dashboard import briefing
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import briefing as layout
from layouts import shell

from .common import require_viewer

ROLES = frozenset({Role.CHAIR})


def today() -> date:
    return date.today()


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def page(viewer, **_query):
    """The page for the chair (the page registry already refuses other roles)."""
    if not briefing.may_build(viewer):
        return shell.no_access("Briefing pack")
    with get_db().session() as session:
        outline = briefing.pack_outline(session, viewer, today())
    return layout.layout(outline)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("briefing-pdf-download", "data"),
        Output("briefing-pdf-status", "children"),
        Input(layout.PDF_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )
    def download(clicks):
        viewer = require_viewer(ROLES)
        if not clicks:
            raise PreventUpdate
        if not briefing.may_build(viewer):
            return dash.no_update, layout.refused(briefing.BriefingPermissionError().args[0])
        with get_db().session() as session:
            pack = briefing.build_pack(session, viewer, today())
            pdf = briefing.render_pdf(pack)
            briefing.record_build(session, viewer, pack, "pdf", ip_address=_client_address())
        return dcc.send_bytes(pdf, pack.pdf_filename, type="application/pdf"), layout.done(pack)
