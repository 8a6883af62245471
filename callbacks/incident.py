"""Incident pages: log (with the duplicate check and corroboration), view, edit (with the version
check and the comparison when someone else saved first), delete, and restore for administrators."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashboard import assessments, incidents
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import incident as layout
from layouts import record_parts as parts

from .common import require_viewer

FIELDS = layout.FIELD_IDS
DONE = {
    "created": "The incident was saved.",
    "corroborating": "Your report was saved as a corroborating report of the incident it links to below.",
    "updated": "Your changes were saved. The history below shows what changed.",
}


# --- shared by the incident and assessment callbacks -----------------------------------------------------


def partner_viewer():
    """The signed-in viewer, if an active partner; otherwise the callback does nothing."""
    viewer = require_viewer(PARTNERSHIP_ROLES)
    if not viewer.is_partner:
        raise PreventUpdate
    return viewer


def clicked() -> bool:
    """Whether the callback was started by a real click (not by buttons being drawn anew)."""
    return any(t.get("value") for t in ctx.triggered)


def client_address() -> str | None:
    return request.remote_addr if request else None


def int_list(values) -> list[int]:
    out = []
    for v in values or []:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def shown_value(name: str, value, groups) -> object:
    """A form value as its component holds it."""
    if name in groups:
        if isinstance(value, (list, tuple)):
            return list(value)
        return None if value in (None, "") else str(value)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def messages(errors: Mapping[str, str] | None, problem: str | None, field_ids: Mapping[str, str],
             single: list[str], targets: Mapping[str, str], summary_id: str) -> dict:
    """The error summary, each field's error beside its label and the invalid flags."""
    errors = dict(errors or {})
    has = bool(errors or problem)
    out = {
        "summary": parts.error_summary(errors, targets, f"{summary_id}-title", problem,
                                       fallback=f"{summary_id}") if has else [],
        "summary_hidden": not has,
    }
    for name in field_ids:
        out[f"error_{name}"] = errors.get(name, "")
    for name in single:
        out[f"invalid_{name}"] = name in errors
    return out


def message_outputs(field_ids: Mapping[str, str], single: list[str], summary_id: str) -> dict:
    return {
        "summary": Output(summary_id, "children"),
        "summary_hidden": Output(summary_id, "hidden"),
        **{f"error_{name}": Output(parts.error_id(i), "children") for name, i in field_ids.items()},
        **{f"invalid_{name}": Output(field_ids[name], "invalid") for name in single},
    }


def focus_script(summary_id: str) -> str:
    """Client-side: move focus to the error summary when it gets content."""
    return (
        "function(summary) {"
        " if (summary && summary.length) { setTimeout(function() {"
        f"  var el = document.getElementById('{summary_id}'); if (el && !el.hidden) {{ el.focus(); }}"
        " }, 50); }"
        " return window.dash_clientside.no_update; }"
    )


MARKING_SCRIPT = (
    "function(marking) { return [marking !== 'TLP:RED', marking !== 'TLP:AMBER']; }"
)


# --- page loaders ---------------------------------------------------------------------------------------


def _limits() -> dict:
    return {"title_max": getattr(incidents, "TITLE_MAX", 200),
            "description_max": getattr(incidents, "DESCRIPTION_MAX", None)}


def new_page(viewer, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Log an incident")
    with get_db().session() as session:
        choices = incidents.form_choices(session, viewer)
    return layout.form_page(choices, incidents.FIELD_LABELS, None, own_org_id=viewer.organisation_id, **_limits())


def record_page(viewer, incident_id=None, done=None, **_query):
    record = parts.parse_id(incident_id)
    if not viewer.is_partner or record is None:
        return layout.not_available()
    with get_db().session() as session:
        view = incidents.get_incident(session, viewer, record)
        if view is None:
            return layout.not_available()
        history = incidents.incident_history(session, viewer, record)
    return layout.record_page(view, history, incidents.FIELD_LABELS, DONE.get(str(done or ""), ""))


def edit_page(viewer, incident_id=None, **_query):
    record = parts.parse_id(incident_id)
    if not viewer.is_partner or record is None:
        return layout.not_available()
    with get_db().session() as session:
        view = incidents.get_incident(session, viewer, record)
        if view is None:
            return layout.not_available()
        if not view.can_edit:
            return layout.cannot_edit(view)
        choices = incidents.form_choices(session, viewer)
    return layout.form_page(choices, incidents.FIELD_LABELS, incidents.IncidentForm.from_view(view), editing=view,
                            **_limits())


def deleted_page(viewer, **_query):
    if viewer.role != Role.ADMIN or not viewer.is_partner:
        return parts.not_a_partner("Deleted records")
    with get_db().session() as session:
        records = incidents.deleted_records(session, viewer)
    return layout.deleted_page(records)


# --- callbacks ------------------------------------------------------------------------------------------


def submitted_form(values: Mapping, corroborates) -> incidents.IncidentForm:
    """The form as typed (the domain validates it)."""
    return incidents.IncidentForm(
        title=values["title"],
        occurred_on=values["occurred_on"],
        date_precision=values["date_precision"],
        area_code=values["area_code"],
        category_code=values["category_code"],
        strands=[str(s) for s in values["strands"] or []],
        description=values["description"],
        latitude=values["latitude"] if values["latitude"] not in (None, "") else None,
        longitude=values["longitude"] if values["longitude"] not in (None, "") else None,
        location_precision=values["location_precision"],
        severity=values["severity"],
        verification=values["verification"],
        marking=values["marking"],
        recipients=int_list(values["recipients"]),
        listed_organisations=int_list(values["listed_organisations"]),
        corroborates_id=int(corroborates) if isinstance(corroborates, int) else None,
    )


def _messages(errors=None, problem=None) -> dict:
    return messages(errors, problem, FIELDS, layout.SINGLE, layout.FIELD_TARGETS, "incident-form-errors")


def save(viewer, values: Mapping, record, version, corroborates) -> dict:
    """Save the form (log or edit) and say what happened, as the form callback's outputs."""
    form = submitted_form(values, corroborates)
    try:
        with get_db().session() as session:
            if record is None:
                saved = incidents.create_incident(session, viewer, form, ip_address=client_address())
                done = "corroborating" if form.corroborates_id else "created"
            else:
                saved = incidents.update_incident(session, viewer, int(record), int(version), form,
                                                  ip_address=client_address())
                done = "updated"
    except incidents.IncidentValidationError as error:
        return _messages(error.errors) | {"conflict_hidden": True}
    except incidents.IncidentConflictError as error:
        return _messages(problem=parts.conflict_problem(layout.KIND, error.changed_by, error.changed_at)) | {
            "conflict_hidden": False,
            "conflict_table": parts.conflict_table(error.rows, "incident-conflict"),
            "conflict_version": error.current.version,
        }
    except incidents.IncidentError as error:
        return _messages(problem=f"Nothing was saved. {error}") | {"conflict_hidden": True}
    return _messages() | {"redirect": f"/incidents/{saved.id}?done={done}", "conflict_hidden": True}


def register(app: dash.Dash) -> None:
    # The recipients and listed organisations are shown for the marking that needs them.
    app.clientside_callback(
        MARKING_SCRIPT,
        Output("incident-form-recipients-block", "hidden"),
        Output("incident-form-listed-block", "hidden"),
        Input(FIELDS["marking"], "value"),
    )

    @app.callback(
        Output("incident-similar", "children"),
        Input(FIELDS["area_code"], "value"),
        Input(FIELDS["occurred_on"], "value"),
        Input(FIELDS["category_code"], "value"),
        State("incident-form-record", "data"),
        prevent_initial_call=True,
    )
    def similar(area, day, category, record):
        viewer = partner_viewer()
        if record is not None or not (area and day and category):
            return []
        try:
            occurred = date.fromisoformat(str(day))
        except ValueError:
            return []
        with get_db().session() as session:
            matches = incidents.similar_incidents(session, viewer, str(area), occurred, str(category))
        return layout.similar_panel(matches)

    @app.callback(
        Output("incident-form-corroborates", "data"),
        Output("incident-corroborate-note", "hidden"),
        Output("incident-corroborate-text", "children"),
        Input({"type": layout.CORROBORATE_TYPE, "index": ALL}, "n_clicks"),
        Input("incident-corroborate-clear", "n_clicks"),
        prevent_initial_call=True,
    )
    def corroborate(_clicks, _clear):
        viewer = partner_viewer()
        if not clicked():
            raise PreventUpdate
        trigger = ctx.triggered_id
        if trigger == "incident-corroborate-clear":
            return None, True, ""
        if not isinstance(trigger, dict):
            raise PreventUpdate
        with get_db().session() as session:
            original = incidents.get_incident(session, viewer, int(trigger["index"]))
        if original is None:
            return None, True, ""
        return original.id, False, layout.corroborate_text(original.id, original.title)

    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **message_outputs(FIELDS, layout.SINGLE, "incident-form-errors"),
        "redirect": Output("incident-redirect", "href"),
        "conflict_hidden": Output("incident-conflict", "hidden"),
        "conflict_table": Output("incident-conflict-table", "children"),
        "conflict_version": Output("incident-conflict-version", "data"),
        "version": Output("incident-form-version", "data"),
        "status": Output("incident-status", "children"),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "save_clicks": Input("incident-form-save", "n_clicks"),
            "overwrite_clicks": Input("incident-conflict-overwrite", "n_clicks"),
            "discard_clicks": Input("incident-conflict-discard", "n_clicks"),
        },
        state={
            "values": {name: State(i, "value") for name, i in FIELDS.items()},
            "record": State("incident-form-record", "data"),
            "version": State("incident-form-version", "data"),
            "conflict_version": State("incident-conflict-version", "data"),
            "corroborates": State("incident-form-corroborates", "data"),
        },
        prevent_initial_call=True,
    )
    def form(save_clicks, overwrite_clicks, discard_clicks, values, record, version, conflict_version, corroborates):
        viewer = partner_viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in form_outputs}
        trigger = ctx.triggered_id
        if trigger == "incident-conflict-discard" and record is not None:
            with get_db().session() as session:
                view = incidents.get_incident(session, viewer, int(record))
            if view is None:
                return out | _messages(problem=str(incidents.IncidentNotFoundError())) | {"conflict_hidden": True}
            saved = incidents.IncidentForm.from_view(view)
            filled = {f"value_{name}": shown_value(name, getattr(saved, name), layout.GROUPS) for name in FIELDS}
            return out | filled | _messages() | {
                "conflict_hidden": True, "conflict_table": [], "conflict_version": None, "version": view.version,
                "status": "Your changes were discarded. The form now shows the incident as it is saved.",
            }
        if trigger == "incident-conflict-overwrite":
            if record is None or conflict_version is None:
                raise PreventUpdate
            version = int(conflict_version)
            out["version"] = version
        elif trigger != "incident-form-save":
            raise PreventUpdate
        return out | {"status": ""} | save(viewer, values, record, version, corroborates)

    @app.callback(
        Output("incident-delete-dialog", "is_open"),
        Input("incident-delete", "n_clicks"),
        Input("incident-delete-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def delete_dialog(_open, _cancel):
        partner_viewer()
        if not clicked():
            raise PreventUpdate
        return ctx.triggered_id == "incident-delete"

    @app.callback(
        Output("incident-redirect", "href", allow_duplicate=True),
        Output("incident-delete-error", "children"),
        Input("incident-delete-confirm", "n_clicks"),
        State("incident-delete-reason", "value"),
        State("incident-record", "data"),
        prevent_initial_call=True,
    )
    def delete(_clicks, reason, record):
        viewer = partner_viewer()
        if not clicked() or not record:
            raise PreventUpdate
        try:
            with get_db().session() as session:
                incidents.delete_incident(session, viewer, int(record["id"]), int(record["version"]),
                                          reason=str(reason or "").strip(), ip_address=client_address())
        except incidents.IncidentError as error:
            return no_update, f"The incident was not deleted. {error}"
        return f"/register?deleted={int(record['id'])}", ""

    @app.callback(
        Output("deleted-list", "children"),
        Output("deleted-status", "children"),
        Input({"type": parts.RESTORE_TYPE, "record": ALL, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def restore(_clicks):
        viewer = partner_viewer()
        trigger = ctx.triggered_id
        if viewer.role != Role.ADMIN or not clicked() or not isinstance(trigger, dict):
            raise PreventUpdate
        kind = trigger.get("record")
        record = int(trigger["index"])
        words = parts.RECORD_WORDS.get(kind, "Record")
        try:
            with get_db().session() as session:
                if kind == "incident":
                    incidents.restore_incident(session, viewer, record, ip_address=client_address())
                elif kind == "tension_assessment":
                    assessments.restore_assessment(session, viewer, record, ip_address=client_address())
                else:
                    raise PreventUpdate
            status = f"Restored {words.lower()} #{record}. It is back in every list and figure it was in before."
        except (incidents.IncidentError, assessments.AssessmentError) as error:
            status = f"{words} #{record} was not restored. {error}"
        with get_db().session() as session:
            records = incidents.deleted_records(session, viewer)
        return parts.deleted_table(records, "deleted"), status

    app.clientside_callback(
        focus_script("incident-form-errors"),
        Output("incident-focus-sink", "children"),
        Input("incident-form-errors", "children"),
        prevent_initial_call=True,
    )
