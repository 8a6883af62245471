"""Audit log page callbacks (administrators): search and page through the log, check the hash
chain, export the search as CSV with a reason. Each callback re-checks on the server that the
viewer is an administrator of an active member organisation; the only thing kept in the page is
the search itself (filters and page number), never entries."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from dashboard import audit_log
from dashboard.exports import ExportError
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import audit_log as layout
from layouts import record_parts as parts

from .common import require_viewer
from .record_forms import client_address

PREFIX = layout.PREFIX
ADMINS = frozenset({Role.ADMIN})
FILTER_ERRORS = {name: parts.error_id(target) for name, target in layout.FIELD_TARGETS.items()
                 if name in ("user", "start", "end")}


def admin_viewer():
    """The signed-in viewer, if they may read the audit log; otherwise the callback does nothing."""
    viewer = require_viewer(ADMINS)
    if not audit_log.may_read(viewer):
        raise PreventUpdate
    return viewer


def page(viewer, **query):
    """The page for administrators of active member organisations (the page guard refuses other roles)."""
    if not audit_log.may_read(viewer):
        return layout.not_allowed()
    with get_db().session() as session:
        rows, total = audit_log.search(session, viewer, audit_log.AuditQuery())
        actions = audit_log.actions(session, viewer)
        users = audit_log.user_choices(session, viewer)
    return layout.layout(rows, total, actions, users, _stored(audit_log.AuditQuery()))


def _day(value) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def parse_filters(text, action, user, start, end) -> tuple[audit_log.AuditQuery | None, dict[str, str]]:
    """The search from the form's values, or the errors to show."""
    errors: dict[str, str] = {}
    user_id = None
    if user not in (None, "", layout.ALL):
        try:
            user_id = int(user)
        except (TypeError, ValueError):
            errors["user"] = "Choose a person from the list."
    days = {}
    for name, value, label in (("start", start, "from"), ("end", end, "to")):
        try:
            days[name] = _day(value)
        except ValueError:
            errors[name] = f"Enter the {label} date as a real date, for example 24/11/2026."
    if not errors and days["start"] and days["end"] and days["start"] > days["end"]:
        errors["end"] = "The to date must be the same as or after the from date."
    if errors:
        return None, errors
    query = audit_log.AuditQuery(
        text=" ".join(str(text or "").split())[: audit_log.TEXT_MAX],
        action="" if action in (None, "", layout.ALL) else str(action),
        user_id=user_id, start=days["start"], end=days["end"], page=1,
    )
    return query, {}


def _stored(query: audit_log.AuditQuery) -> dict:
    return {"text": query.text, "action": query.action, "user_id": query.user_id,
            "start": query.start.isoformat() if query.start else None,
            "end": query.end.isoformat() if query.end else None, "page": query.page}


def _from_store(data) -> audit_log.AuditQuery:
    """The search kept in the page; anything odd in it is treated as no filter."""
    data = data if isinstance(data, dict) else {}
    try:
        user_id = None if data.get("user_id") is None else int(data["user_id"])
        start, end = _day(data.get("start")), _day(data.get("end"))
        page_no = max(1, int(data.get("page") or 1))
    except (TypeError, ValueError):
        return audit_log.AuditQuery()
    return audit_log.AuditQuery(text=str(data.get("text") or "")[: audit_log.TEXT_MAX],
                                action=str(data.get("action") or ""), user_id=user_id, start=start,
                                end=end, page=page_no)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output(f"{PREFIX}-results", "children"),
        Output(f"{PREFIX}-results-status", "children"),
        Output(f"{PREFIX}-pager", "children"),
        Output(f"{PREFIX}-query", "data"),
        Output(f"{PREFIX}-filter-errors", "children"),
        Output(f"{PREFIX}-filter-errors", "hidden"),
        *(Output(error_id, "children") for error_id in FILTER_ERRORS.values()),
        Input(f"{PREFIX}-search", "n_clicks"),
        Input(f"{PREFIX}-prev", "n_clicks"),
        Input(f"{PREFIX}-next", "n_clicks"),
        State(layout.FIELD_TARGETS["text"], "value"),
        State(layout.FIELD_TARGETS["action"], "value"),
        State(layout.FIELD_TARGETS["user"], "value"),
        State(layout.FIELD_TARGETS["start"], "value"),
        State(layout.FIELD_TARGETS["end"], "value"),
        State(f"{PREFIX}-query", "data"),
        prevent_initial_call=True,
    )
    def search(_search, _prev, _next, text, action, user, start, end, stored):
        viewer = admin_viewer()
        trigger = ctx.triggered_id
        if trigger == f"{PREFIX}-search":
            query, errors = parse_filters(text, action, user, start, end)
            if errors:
                summary = parts.error_summary(errors, layout.FIELD_TARGETS, f"{PREFIX}-filter-errors-title")
                return (no_update, no_update, no_update, no_update, summary, False,
                        *(parts.field_error(errors.get(name)) for name in FILTER_ERRORS))
        elif trigger in (f"{PREFIX}-prev", f"{PREFIX}-next"):
            if not any(t.get("value") for t in ctx.triggered):
                raise PreventUpdate
            query = _from_store(stored)
            step = -1 if trigger == f"{PREFIX}-prev" else 1
            query = audit_log.AuditQuery(**{**query.__dict__, "page": max(1, query.page + step)})
        else:
            raise PreventUpdate
        with get_db().session() as session:
            rows, total = audit_log.search(session, viewer, query)
        page_no = min(query.page, audit_log.pages(total))
        if page_no != query.page:
            query = audit_log.AuditQuery(**{**query.__dict__, "page": page_no})
            with get_db().session() as session:
                rows, total = audit_log.search(session, viewer, query)
        return (layout.results_table(rows), layout.results_status(total, query.page),
                layout.pager(total, query.page), _stored(query), [], True, *("" for _ in FILTER_ERRORS))

    @app.callback(
        Output(f"{PREFIX}-verify-status", "children"),
        Input(f"{PREFIX}-verify", "n_clicks"),
        prevent_initial_call=True,
    )
    def check_chain(clicks):
        viewer = admin_viewer()
        if not clicks:
            raise PreventUpdate
        with get_db().session() as session:
            result = audit_log.verify(session, viewer)
        if result.ok:
            return result.problem
        return (f"The audit log has been tampered with. {result.problem} "
                f"The {result.checked:,} entries before it are intact.")

    @app.callback(
        Output(f"{PREFIX}-download", "data"),
        Output(f"{PREFIX}-export-errors", "children"),
        Output(f"{PREFIX}-export-errors", "hidden"),
        Output(parts.error_id(layout.REASON_ID), "children"),
        Output(layout.REASON_ID, "invalid"),
        Output(f"{PREFIX}-export-status", "children"),
        Input(f"{PREFIX}-export", "n_clicks"),
        State(layout.REASON_ID, "value"),
        State(f"{PREFIX}-query", "data"),
        prevent_initial_call=True,
    )
    def export(clicks, reason, stored):
        viewer = admin_viewer()
        if not clicks:
            raise PreventUpdate
        try:
            with get_db().session() as session:
                made = audit_log.export_csv(session, viewer, _from_store(stored), reason, client_address())
        except ExportError as error:
            errors = {"reason": str(error)} if error.field == "reason" else {}
            summary = parts.error_summary(errors, {"reason": layout.REASON_ID},
                                          f"{PREFIX}-export-errors-title",
                                          None if errors else str(error))
            return no_update, summary, False, parts.field_error(errors.get("reason")), bool(errors), ""
        rows = "1 entry" if made.rows == 1 else f"{made.rows:,} entries"
        return (dcc.send_bytes(made.content, made.filename, type=made.media_type), [], True, "", False,
                f"Exported {rows} as {made.filename}. The export is recorded in the audit log.")

    # Focus moves to an error summary when it appears.
    for box in (f"{PREFIX}-filter-errors", f"{PREFIX}-export-errors"):
        app.clientside_callback(
            """
            function(summary) {
                if (summary && summary.length) {
                    setTimeout(function() {
                        var el = document.getElementById('BOX');
                        if (el && !el.hidden) { el.focus(); }
                    }, 50);
                }
                return window.dash_clientside.no_update;
            }
            """.replace("BOX", box),
            Output(box, "title"),
            Input(box, "children"),
            prevent_initial_call=True,
        )
