"""The action tracker and an action's page: the tracker's filters (kept in the address bar), the
progress form, and the outcome chart, each callback a thin line to `dashboard.actions` with the
signed-in viewer checked on the server."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import actions
from dashboard.web import get_db
from layouts import actions as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .record_forms import clicked, client_address, focus_script, partner_viewer

FIELDS = layout.UPDATE_FIELDS
DONE = {
    "updated": "Your progress update was saved. It is at the top of the progress updates below.",
    "created": "The action was saved.",
    "edited": "Your changes were saved. The history below shows what changed.",
}


def today() -> date:
    return date.today()


# --- page loaders ---------------------------------------------------------------------------------------


def tracker_page(viewer, **query):
    """The tracker for active partners (the page guard already refuses other roles)."""
    if not viewer.is_partner:
        return layout.not_a_partner()
    day = today()
    with get_db().session() as session:
        choices = actions.form_choices(session, viewer, day)
        view = layout.parse_view(query, choices)
        filters = layout.action_filters(view)
        rows = actions.tracker(session, viewer, filters, day)
        counts = actions.tracker_counts(session, viewer, filters, day)
    return layout.tracker_page(view, choices, rows, counts, may_add=actions.may_edit_actions(viewer), today=day)


def record_page(viewer, action_id=None, done=None, area=None, **_query):
    """One action with its updates, history and outcome chart, or "not available" (the same
    answer for a missing action and one the viewer may not see)."""
    day = today()

    def load(session, who, record, view) -> tuple:
        updates = actions.action_updates(session, who, record)
        history = actions.action_history(session, who, record)
        codes = [code for code, _name in view.areas]
        chosen = str(area) if area in codes else (codes[0] if codes else "")
        outcome = actions.outcome(session, who, record, chosen, day) if chosen else None
        return updates, history, outcome, chosen

    return forms.loaded_page(
        viewer, action_id,
        get=lambda session, who, record: actions.get_action(session, who, record, day),
        load=load,
        render=lambda view, loaded: layout.record_page(view, *loaded, DONE.get(str(done or ""), "")),
        not_available=layout.not_available,
    )


# --- the progress form -------------------------------------------------------------------------------------


def _messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, FIELDS, layout.UPDATE_SINGLE, layout.UPDATE_TARGETS,
                          "action-update-errors")


def _refreshed(session, viewer, view: actions.ActionView) -> dict:
    """The page's parts that a progress update changes, as the action is saved now."""
    return {
        "action_summary": layout.action_summary(view),
        "updates": layout.updates_section(actions.action_updates(session, viewer, view.id)),
        "history": layout.history_section(actions.action_history(session, viewer, view.id)),
        "version": view.version,
        "record": {"id": view.id, "version": view.version},
    }


def _conflict_problem(current: actions.ActionView | None) -> str:
    if current is None:
        return ("Your update was not saved: this action has been deleted, or is no longer shared with you. "
                "Go back to the action tracker.")
    return ("Someone else updated this action after you opened it, so your update was not saved and "
            "nothing was overwritten. The action as it is saved now is shown below the form and on this page.")


def save_update(viewer, record, version, status, progress, note) -> dict:
    """Record the progress update and say what happened, as the form callback's outputs."""
    action_id = parts.parse_id((record or {}).get("id") if isinstance(record, dict) else record)
    if action_id is None:
        raise PreventUpdate
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise PreventUpdate from None
    day = today()
    try:
        with get_db().session() as session:
            actions.update_progress(
                session, viewer, action_id, expected, status=str(status or ""),
                progress="" if progress is None else progress, note=str(note or ""),
                ip_address=client_address(),
            )
    except actions.ActionValidationError as error:
        return _messages(error.errors) | {"conflict_hidden": True, "status": ""}
    except actions.ActionConflictError as error:
        out = _messages(problem=_conflict_problem(error.current)) | {
            "conflict_hidden": False, "conflict": layout.conflict_details(error.current), "status": "",
        }
        if error.current is not None:
            with get_db().session() as session:
                current = actions.get_action(session, viewer, action_id, day) or error.current
                out |= _refreshed(session, viewer, current)
        return out
    except actions.ActionError as error:  # not allowed, or gone
        return _messages(problem=f"Nothing was saved. {error}") | {"conflict_hidden": True, "status": ""}
    with get_db().session() as session:
        view = actions.get_action(session, viewer, action_id, day)
        if view is None:
            return _messages(problem=str(actions.ActionNotFoundError())) | {"conflict_hidden": True}
        fresh = _refreshed(session, viewer, view)
    return _messages() | fresh | {
        "conflict_hidden": True, "conflict": [],
        "status": f"Your progress update was saved: {view.status_label}, {view.progress}%. "
                  "It is at the top of the progress updates below.",
        "value_status": view.status, "value_progress": str(view.progress), "value_note": "",
    }


def register(app: dash.Dash) -> None:
    _tracker_callbacks(app)
    _record_callbacks(app)


def _tracker_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("actions-table", "children"),
        Output("actions-summary", "children"),
        Output("actions-count", "children"),
        Output("actions-query", "data"),
        *[Input(layout.FILTER_IDS[key], "value") for key in layout.FILTER_KEYS],
        Input(layout.VIEW_ID, "value"),
        prevent_initial_call=True,
    )
    def refresh(owner, meeting, area, status, rag, view_choice):
        viewer = partner_viewer()
        day = today()
        values = {"owner": owner, "meeting": meeting, "area": area, "status": status, "rag": rag,
                  "view": view_choice}
        with get_db().session() as session:
            choices = actions.form_choices(session, viewer, day)
            view = layout.view_from_controls(values, choices)
            filters = layout.action_filters(view)
            rows = actions.tracker(session, viewer, filters, day)
            counts = actions.tracker_counts(session, viewer, filters, day)
        total = sum(int(v) for v in counts.values())
        return (
            layout.tracker_table(rows, layout.is_filtered(view)),
            layout.summary_sentence(counts),
            layout.count_text(len(rows), total),
            layout.query_string(view),
        )

    # Keep the address bar in step with the filters, without reloading the page (no record data).
    app.clientside_callback(
        """
        function(search) {
            if (search === undefined || search === null) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.pathname.replace(/\\/$/, '') !== '/actions') { return window.dash_clientside.no_update; }
            if (url.search !== search) { window.history.replaceState(null, '', url.pathname + search); }
            return '';
        }
        """,
        Output("actions-url-sink", "children"),
        Input("actions-query", "data"),
    )

    app.clientside_callback(
        "function(n) { if (n) { window.print(); } return ''; }",
        Output("actions-print-sink", "children"),
        Input("actions-print", "n_clicks"),
        prevent_initial_call=True,
    )


def _record_callbacks(app: dash.Dash) -> None:
    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **forms.message_outputs(FIELDS, layout.UPDATE_SINGLE, "action-update-errors"),
        "conflict": Output("action-update-conflict", "children"),
        "conflict_hidden": Output("action-update-conflict", "hidden"),
        "action_summary": Output("action-summary-block", "children"),
        "updates": Output("action-updates-block", "children"),
        "history": Output("action-history-block", "children"),
        "version": Output("action-update-version", "data"),
        "record": Output("action-record", "data"),
        "status": Output("action-status", "children"),
    }

    @app.callback(
        output=form_outputs,
        inputs={"save_clicks": Input("action-update-save", "n_clicks")},
        state={
            "status": State(FIELDS["status"], "value"),
            "progress": State(FIELDS["progress"], "value"),
            "note": State(FIELDS["note"], "value"),
            "record": State("action-record", "data"),
            "version": State("action-update-version", "data"),
        },
        prevent_initial_call=True,
    )
    def save(save_clicks, status, progress, note, record, version):
        viewer = partner_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in form_outputs}
        return out | save_update(viewer, record, version, status, progress, note)

    app.clientside_callback(
        focus_script("action-update-errors"),
        Output("action-focus-sink", "children"),
        Input("action-update-errors", "children"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("action-outcome-graph", "figure"),
        Output("action-outcome-summary", "children"),
        Output("action-outcome-caption", "children"),
        Output("action-outcome-table", "children"),
        Input("action-outcome-area", "value"),
        State("action-record", "data"),
        prevent_initial_call=True,
    )
    def outcome(area, record):
        viewer = partner_viewer()
        action_id = parts.parse_id((record or {}).get("id") if isinstance(record, dict) else None)
        if action_id is None or not area:
            raise PreventUpdate
        day = today()
        with get_db().session() as session:
            view = actions.get_action(session, viewer, action_id, day)
            if view is None or str(area) not in {code for code, _name in view.areas}:
                raise PreventUpdate
            result = actions.outcome(session, viewer, action_id, str(area), day)
        shown = layout.outcome_parts(result, view)
        return shown["figure"], shown["summary"], shown["caption"], shown["table"]

    @app.callback(
        Output("action-outcome-table-collapse", "is_open"),
        Output("action-outcome-table-toggle", "children"),
        Output("action-outcome-table-toggle", "aria-expanded"),
        Input("action-outcome-table-toggle", "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle_table(clicks):
        partner_viewer()
        is_open = bool(clicks and clicks % 2 == 1)
        return is_open, "Hide table" if is_open else "Show as table", "true" if is_open else "false"
