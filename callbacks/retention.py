"""Retention review page callbacks (admins): redraw the queue for the filters and page, tick every
record on the page, open the redact or keep dialog for the records ticked, and do what the dialog
confirms. Each callback re-checks on the server that the viewer is an administrator of an active
member organisation; `dashboard.retention` checks again and checks every record asked for."""

from __future__ import annotations

from datetime import date

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import retention
from dashboard.reference import Role
from dashboard.web import extension, get_db
from layouts import record_parts as parts
from layouts import retention as layout

from .common import require_viewer
from .record_forms import clicked, client_address, focus_when_shown

PREFIX = layout.PREFIX
ADMINS = frozenset({Role.ADMIN})
REDACT, KEEP = layout.REDACT, layout.KEEP


def today() -> date:
    return date.today()


def months() -> int:
    return extension().settings.retention_months


def admin_viewer():
    """The signed-in viewer, if they may review records; otherwise the callback does nothing."""
    viewer = require_viewer(ADMINS)
    if not retention.may_review(viewer):
        raise PreventUpdate
    return viewer


def queue_filters(kind, area, organisation) -> retention.QueueFilters:
    """The filters' values as the queue's filters; a value the page does not offer means no filter."""
    kind = kind if kind in retention.KINDS else None
    area = str(area) if area not in (None, "", layout.ALL) and len(str(area)) <= 9 else None
    org = parts.parse_id(organisation)
    return retention.QueueFilters(kind, area, org)


def page(viewer, **_query):
    """The page for administrators of active member organisations (the page guard refuses other roles)."""
    if not retention.may_review(viewer):
        return layout.not_allowed()
    with get_db().session() as session:
        first = retention.queue(session, viewer, today=today(), months=months())
        districts, organisations = retention.filter_choices(session, viewer)
    return layout.layout(months(), first, first.total, districts, organisations)


def selected_keys(ids, values) -> list[str]:
    """The keys of the rows ticked (each row's checkbox carries its record's key in its id)."""
    return [i["index"] for i, ticked in zip(ids or (), values or (), strict=False)
            if ticked is True and isinstance(i, dict) and isinstance(i.get("index"), str)]


def register(app: dash.Dash) -> None:
    @app.callback(
        Output(f"{PREFIX}-list", "children"),
        Output(f"{PREFIX}-count", "children"),
        Output(f"{PREFIX}-page", "data"),
        Output(f"{PREFIX}-page-text", "children"),
        Output(f"{PREFIX}-previous", "disabled"),
        Output(f"{PREFIX}-next", "disabled"),
        Output(f"{PREFIX}-select-all", "value"),
        Input(layout.FILTER_IDS["kind"], "value"),
        Input(layout.FILTER_IDS["area"], "value"),
        Input(layout.FILTER_IDS["organisation"], "value"),
        Input(f"{PREFIX}-previous", "n_clicks"),
        Input(f"{PREFIX}-next", "n_clicks"),
        Input(f"{PREFIX}-changed", "data"),
        State(f"{PREFIX}-page", "data"),
        prevent_initial_call=True,
    )
    def redraw(kind, area, organisation, _previous, _next, _changed, current):
        viewer = admin_viewer()
        trigger = ctx.triggered_id
        number = current if isinstance(current, int) else 1
        if trigger == f"{PREFIX}-previous":
            number -= 1
        elif trigger == f"{PREFIX}-next":
            number += 1
        elif trigger in layout.FILTER_IDS.values():
            number = 1
        chosen = queue_filters(kind, area, organisation)
        filtered = chosen != retention.QueueFilters()
        with get_db().session() as session:
            found = retention.queue(session, viewer, chosen, today=today(), months=months(), page=number)
            due = retention.count_due(session, viewer, today=today(), months=months()) if filtered else found.total
        return (layout.queue_table(found), layout.count_text(found, due, filtered), found.page,
                layout.pager_text(found), found.page <= 1, found.page >= found.pages, False)

    @app.callback(
        Output({"type": layout.SELECT_TYPE, "index": ALL}, "value"),
        Input(f"{PREFIX}-select-all", "value"),
        State({"type": layout.SELECT_TYPE, "index": ALL}, "id"),
        prevent_initial_call=True,
    )
    def select_all(everything, ids):
        admin_viewer()
        return [everything is True for _ in ids]

    def dialog_callbacks(prefix: str, opener: str, question, act, done) -> None:
        fields = layout.DIALOG_FIELDS[prefix]

        @app.callback(
            Output(f"{prefix}-dialog", "is_open"),
            Output(f"{prefix}-title", "children"),
            Output(f"{prefix}-explanation", "children"),
            Output(f"{PREFIX}-selected", "data", allow_duplicate=True),
            Output(f"{PREFIX}-errors", "children", allow_duplicate=True),
            Output(f"{PREFIX}-errors", "hidden", allow_duplicate=True),
            Output(f"{prefix}-errors", "children", allow_duplicate=True),
            Output(f"{prefix}-errors", "hidden", allow_duplicate=True),
            *[Output(parts.error_id(i), "children", allow_duplicate=True) for i in fields.values()],
            Input(opener, "n_clicks"),
            Input(f"{prefix}-cancel", "n_clicks"),
            State({"type": layout.SELECT_TYPE, "index": ALL}, "id"),
            State({"type": layout.SELECT_TYPE, "index": ALL}, "value"),
            prevent_initial_call=True,
        )
        def open_dialog(_open, _cancel, ids, values):
            admin_viewer()
            if not clicked():
                raise PreventUpdate
            cleared = [""] * len(fields)
            if ctx.triggered_id != opener:
                return False, no_update, no_update, [], no_update, no_update, [], True, *cleared
            keys = selected_keys(ids, values)
            if not keys:
                message = {"records": "Records: tick at least one record in the table first."}
                return False, no_update, no_update, [], layout.page_errors(message), False, [], True, *cleared
            title, explanation = question(len(keys))
            return True, title, explanation, keys, [], True, [], True, *cleared

        outputs = {
            "open": Output(f"{prefix}-dialog", "is_open", allow_duplicate=True),
            "errors": Output(f"{prefix}-errors", "children", allow_duplicate=True),
            "errors_hidden": Output(f"{prefix}-errors", "hidden", allow_duplicate=True),
            **{f"error_{name}": Output(parts.error_id(i), "children") for name, i in fields.items()},
            "reason": Output(fields["reason"], "value"),
            "invalid_reason": Output(fields["reason"], "invalid"),
            "page_errors": Output(f"{PREFIX}-errors", "children", allow_duplicate=True),
            "page_errors_hidden": Output(f"{PREFIX}-errors", "hidden", allow_duplicate=True),
            "status": Output(f"{PREFIX}-status", "children", allow_duplicate=True),
            "changed": Output(f"{PREFIX}-changed", "data", allow_duplicate=True),
        }
        state = {"keys": State(f"{PREFIX}-selected", "data"), "changed": State(f"{PREFIX}-changed", "data"),
                 **{name: State(i, "value") for name, i in fields.items()}}

        @app.callback(output=outputs, inputs={"clicks": Input(f"{prefix}-confirm", "n_clicks")}, state=state,
                      prevent_initial_call=True)
        def confirm(clicks, keys, changed, **values):
            viewer = admin_viewer()
            if not clicked():
                raise PreventUpdate
            out = {key: no_update for key in outputs}
            try:
                with get_db().session() as session:
                    result = act(session, viewer, keys or [], values, client_address())
            except retention.RetentionError as error:
                if "records" in error.errors:
                    # The records asked for cannot all be done: the dialog closes, the queue is
                    # redrawn, and the problem is shown above it.
                    return out | {"open": False, "page_errors": layout.page_errors({"records": error.errors["records"]}),
                                  "page_errors_hidden": False, "status": "", "changed": (changed or 0) + 1}
                return out | {
                    "errors": layout.dialog_errors(prefix, error.errors), "errors_hidden": False,
                    **{f"error_{name}": parts.field_error(error.errors.get(name)) for name in fields},
                    "invalid_reason": "reason" in error.errors,
                }
            return out | {
                "open": False, "errors": [], "errors_hidden": True, **{f"error_{name}": "" for name in fields},
                "reason": "", "invalid_reason": False, "page_errors": [], "page_errors_hidden": True,
                "status": done(result), "changed": (changed or 0) + 1,
            }

    def redact(session, viewer, keys, values, ip):
        return retention.redact(session, viewer, keys, values.get("reason"), today=today(), months=months(),
                                ip_address=ip)

    def keep(session, viewer, keys, values, ip):
        return retention.keep(session, viewer, keys, values.get("months"), values.get("reason"), today=today(),
                              months=months(), ip_address=ip)

    dialog_callbacks(REDACT, f"{PREFIX}-redact", layout.redact_question, redact,
                     lambda r: f"Redacted the personal details of {layout.plural(r.count, 'record')}. "
                               "Their figures are unchanged.")
    dialog_callbacks(KEEP, f"{PREFIX}-keep", layout.keep_question, keep,
                     lambda r: f"Kept the personal details of {layout.plural(r.count, 'record')} until "
                               f"{parts.day_text(r.retain_until)}, when they come up for review again.")

    # Focus follows the change: to the error summary that appears (the page's or a dialog's).
    focus_when_shown(app, f"{PREFIX}-focus-sink", [
        (f"{PREFIX}-errors", "children", f"{PREFIX}-errors"),
        (f"{REDACT}-errors", "children", f"{REDACT}-errors"),
        (f"{KEEP}-errors", "children", f"{KEEP}-errors"),
    ])
