"""The briefing pack's two downloads: `GET /briefing/pack` (a printable HTML page) and
`GET /briefing/pack.pdf` (the same as a PDF). Chair only; each build is audited.

The app's route guard (`web._guard`) already sends anyone not signed in to the sign-in page, and
its headers add `Cache-Control: no-store`; this blueprint refuses every role but the chair.
"""

from __future__ import annotations

from datetime import date
from html import escape

from flask import Blueprint, Response, request

from . import briefing
from .web import current_viewer, get_db

bp = Blueprint("briefing", __name__)

REFUSAL = "Only the chair can build the briefing pack."


def _today() -> date:
    return date.today()


def _refused() -> Response:
    page = (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        "<title>Not allowed - Midlands Partnership Dashboard</title></head><body>"
        "<main><h1>Not allowed</h1>"
        f"<p>{escape(REFUSAL)} Ask your administrator if you need it.</p>"
        '<p><a href="/">Go to the overview</a></p></main></body></html>'
    )
    return Response(page, 403, mimetype="text/html")


def _build(fmt: str):
    """The pack for the signed-in chair, and its audit event, in one transaction."""
    viewer = current_viewer()
    if viewer is None or not briefing.may_build(viewer):
        return None, None
    with get_db().session() as session:
        pack = briefing.build_pack(session, viewer, _today())
        content = briefing.render_pdf(pack) if fmt == "pdf" else briefing.render_html(pack)
        briefing.record_build(session, viewer, pack, fmt, ip_address=request.remote_addr)
    return pack, content


@bp.get("/briefing/pack")
def pack_html():
    pack, content = _build("html")
    if pack is None:
        return _refused()
    return Response(content, 200, mimetype="text/html")


@bp.get("/briefing/pack.pdf")
def pack_pdf():
    pack, content = _build("pdf")
    if pack is None:
        return _refused()
    response = Response(content, 200, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pack.pdf_filename}"'
    return response
