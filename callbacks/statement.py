"""Joint party statement callbacks: the chosen statement's headline, map, table and elections;
recording, correcting and removing adoptions. Each callback re-checks the viewer on the server."""

from __future__ import annotations

from datetime import date

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import statement as st
from dashboard.records import day_text, district_choices
from dashboard.web import get_db
from layouts import record_parts as parts
from layouts import statement as layout

from .record_forms import (
    ask_to_confirm,
    clicked,
    client_address,
    confirmed_delete,
    focus_on_change,
    partner_viewer,
)

FIELDS = layout.FIELD_TARGETS


def today() -> date:
    return date.today()


def page(viewer, **query):
    """The statement page for active partners (the page guard refuses other roles)."""
    if not viewer.is_partner:
        return parts.not_a_partner("Joint party statement")
    with get_db().session() as session:
        choices = st.statements(session, viewer)
        districts = [(code, name) for _force, group in district_choices(session) for code, name in group]
    if not choices:
        return layout.no_statement()
    wanted = parts.parse_id(query.get("statement"))
    chosen = wanted if wanted in {c.id for c in choices} else choices[0].id
    return layout.layout(choices, chosen, sorted(districts, key=lambda d: d[1]), today())


def _statement_id(value) -> int | None:
    return parts.parse_id(value)


def _blank_form() -> dict:
    return {
        "area": "", "adopted_on": "", "notes": "", "editing": None, "heading": "Record an adoption",
        "save_label": "Record adoption", "cancel_hidden": True,
    }


def _filled_form(entry: st.AdoptionEntry) -> dict:
    return {
        "area": entry.area_code,
        "adopted_on": entry.adopted_on.isoformat(),
        "notes": entry.notes,
        "editing": {"id": entry.id, "version": entry.version},
        "heading": f"Change the adoption in {entry.area_name}",
        "save_label": "Save changes",
        "cancel_hidden": False,
    }


def _messages(errors: dict[str, str] | None = None, problem: str | None = None) -> dict:
    """The error summary, each field's own error and its invalid flag."""
    errors = errors or {}
    has = bool(errors or problem)
    out = {"summary": layout.error_summary(errors, problem) if has else [], "summary_hidden": not has}
    for name in FIELDS:
        out[f"error_{name}"] = parts.field_error(errors.get(name))
        out[f"invalid_{name}"] = name in errors
    return out


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("statement-details", "children"),
        Output("statement-headline", "children"),
        Output("statement-map", "figure"),
        Output("statement-summary", "children"),
        Output("statement-table", "children"),
        Output("statement-elections", "children"),
        Input("statement-choice", "value"),
        Input("statement-show", "value"),
        Input("statement-changed", "data"),
    )
    def refresh(choice, show, _changed):
        viewer = partner_viewer()
        statement_id = _statement_id(choice)
        if statement_id is None:
            raise PreventUpdate
        day = today()
        with get_db().session() as session:
            overview = st.adoption(session, viewer, statement_id, day)
        if overview is None:
            return layout.not_available(), [], layout.map_patch(None), "", [], []
        return (
            layout.details(overview.statement),
            layout.headline(overview),
            layout.map_patch(overview),
            overview.sentence(),
            layout.district_table(overview, show if show in layout.SHOW_LABELS else layout.SHOW_ALL),
            layout.elections(overview),
        )

    form_outputs = {
        "area": Output(FIELDS["area"], "value"),
        "adopted_on": Output(FIELDS["adopted_on"], "value"),
        "notes": Output(FIELDS["notes"], "value"),
        "editing": Output("statement-editing", "data"),
        "heading": Output("statement-form-heading", "children"),
        "save_label": Output("statement-form-save", "children"),
        "cancel_hidden": Output("statement-form-cancel", "hidden"),
        "summary": Output("statement-form-errors", "children"),
        "summary_hidden": Output("statement-form-errors", "hidden"),
        **{f"error_{name}": Output(error_id, "children") for name, error_id in layout.ERROR_IDS.items()},
        **{f"invalid_{name}": Output(FIELDS[name], "invalid") for name in FIELDS},
        "status": Output("statement-status", "children"),
        "changed": Output("statement-changed", "data"),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "change_clicks": Input({"type": layout.CHANGE_TYPE, "index": ALL}, "n_clicks"),
            "save_clicks": Input("statement-form-save", "n_clicks"),
            "cancel_clicks": Input("statement-form-cancel", "n_clicks"),
        },
        state={
            "area": State(FIELDS["area"], "value"),
            "adopted_on": State(FIELDS["adopted_on"], "value"),
            "notes": State(FIELDS["notes"], "value"),
            "editing": State("statement-editing", "data"),
            "choice": State("statement-choice", "value"),
            "changed": State("statement-changed", "data"),
        },
        prevent_initial_call=True,
    )
    def form(change_clicks, save_clicks, cancel_clicks, area, adopted_on, notes, editing, choice, changed):
        viewer = partner_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in form_outputs}
        trigger = ctx.triggered_id
        redraw = {"changed": (changed or 0) + 1}

        if trigger == "statement-form-cancel":
            return out | _blank_form() | _messages() | {"status": "Changing cancelled; the adoption was not changed."}

        if isinstance(trigger, dict) and trigger.get("type") == layout.CHANGE_TYPE:
            with get_db().session() as session:
                entry = st.get_adoption(session, viewer, int(trigger["index"]))
            if entry is None:
                return out | _messages(problem=str(st.AdoptionNotFoundError())) | redraw
            if not entry.may_change:
                raise PreventUpdate
            return out | _filled_form(entry) | _messages() | {
                "status": f"Changing the adoption in {entry.area_name}: correct the form, then choose "
                          "\u201cSave changes\u201d."
            }

        if trigger != "statement-form-save":
            raise PreventUpdate
        submitted = {"area": area, "adopted_on": adopted_on, "notes": notes}
        try:
            with get_db().session() as session:
                if editing:
                    saved = st.update_adoption(session, viewer, int(editing["id"]), str(editing["version"]),
                                               submitted, today=today(), ip_address=client_address())
                    message = f"Saved the adoption in {saved.area_name} (adopted on {day_text(saved.adopted_on)})."
                else:
                    statement_id = _statement_id(choice)
                    if statement_id is None:
                        raise st.StatementNotFoundError
                    new_id = st.record_adoption(session, viewer, statement_id, submitted, today=today(),
                                                ip_address=client_address())
                    entry = st.get_adoption(session, viewer, new_id)
                    message = f"Recorded that {entry.area_name} adopted the statement on {day_text(entry.adopted_on)}."
        except st.AdoptionValidationError as error:
            return out | _messages(error.errors) | {"status": ""}
        except st.StatementError as error:
            # The table is redrawn so that it shows the adoptions as they now are.
            return out | _messages(problem=f"Nothing was saved. {error}") | {"status": ""} | redraw
        return out | _blank_form() | _messages() | {"status": message} | redraw

    @app.callback(
        Output("statement-remove-confirm", "displayed"),
        Output("statement-remove-confirm", "message"),
        Output("statement-pending-remove", "data"),
        Input({"type": layout.REMOVE_TYPE, "index": ALL, "version": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_remove(_clicks):
        return ask_to_confirm(
            partner_viewer(), st.get_adoption, lambda entry: entry.may_change,
            lambda entry: (
                f"Remove the adoption in {entry.area_name} (adopted on {day_text(entry.adopted_on)})? "
                "Do this only if it was recorded in error: the district will show as not adopted."
            ),
            version=str,
        )

    @app.callback(
        Output("statement-status", "children", allow_duplicate=True),
        Output("statement-changed", "data", allow_duplicate=True),
        Output("statement-pending-remove", "data", allow_duplicate=True),
        Output("statement-form-errors", "children", allow_duplicate=True),
        Output("statement-form-errors", "hidden", allow_duplicate=True),
        Input("statement-remove-confirm", "submit_n_clicks"),
        State("statement-pending-remove", "data"),
        State("statement-changed", "data"),
        prevent_initial_call=True,
    )
    def confirm_remove(submitted, pending, changed):
        return confirmed_delete(
            partner_viewer(), submitted, pending, changed, st.remove_adoption, failed=st.StatementError,
            problem=lambda error: layout.error_summary({}, f"The adoption was not removed. {error}"),
            done=lambda name: f"Removed the adoption in {name}.", version=str,
        )

    # Focus follows the change: the error summary when it appears, the form when an edit starts.
    focus_on_change(app, "statement")

    # Keep the address bar on the chosen statement, without reloading the page.
    app.clientside_callback(
        """
        function(choice) {
            if (!choice) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.searchParams.get('statement') !== String(choice)) {
                url.searchParams.set('statement', choice);
                window.history.replaceState(null, '', url.pathname + url.search);
            }
            return '';
        }
        """,
        Output("statement-url-sink", "children"),
        Input("statement-choice", "value"),
        prevent_initial_call=True,
    )
