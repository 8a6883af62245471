"""Incident pages: log (with the duplicate check and corroboration), view, edit (with the version
check and the comparison when someone else saved first), delete, and restore for administrators.
A restricted incident (TLP:AMBER, AMBER+STRICT or RED) is shown, on its page and its edit page,
once the viewer has said why they open it (dashboard.record_views); the helpers for that are
shared with the tension-assessment pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import dash
from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from dashboard import assessments, incidents, record_views
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import incident as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .record_forms import (
    MARKING_SCRIPT,
    NOT_OPENED,
    clicked,
    client_address,
    focus_script,
    int_list,
    opened_page,
    partner_viewer,
    register_view_reason,
    session_token,
)

FIELDS = layout.FIELD_IDS
DONE = {
    "created": "The incident was saved.",
    "corroborating": "Your report was saved as a corroborating report of the incident it links to below.",
    "updated": "Your changes were saved. The history below shows what changed.",
}


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


def _record(session, viewer, view, done=None):
    """The incident's page content: every field, corroboration and history."""
    history = incidents.incident_history(session, viewer, view.id)
    return layout.record_page(view, history, incidents.FIELD_LABELS, DONE.get(str(done or ""), ""))


def _edit(session, viewer, view):
    if not view.can_edit:
        return layout.cannot_edit(view)
    return layout.form_page(incidents.form_choices(session, viewer), incidents.FIELD_LABELS,
                            incidents.IncidentForm.from_view(view), editing=view, **_limits())


def _ask(view, page: str, done=None):
    return layout.view_reason_page(view, {"id": view.id, "page": page, "done": done}, record_views.REASONS,
                                   record_views.REASON_MAX)


def record_page(viewer, incident_id=None, done=None, **_query):
    return opened_page(viewer, incident_id, record_type=incidents.RECORD_TYPE, get=incidents.get_incident,
                       show=lambda session, view: _record(session, viewer, view, done),
                       ask=lambda view: _ask(view, "record", done), not_available=layout.not_available)


def edit_page(viewer, incident_id=None, **_query):
    return opened_page(viewer, incident_id, record_type=incidents.RECORD_TYPE, get=incidents.get_incident,
                       show=lambda session, view: _edit(session, viewer, view),
                       ask=lambda view: _ask(view, "edit"), not_available=layout.not_available,
                       may=lambda view: view.can_edit, refused=layout.cannot_edit)


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
    return forms.messages(errors, problem, FIELDS, layout.SINGLE, layout.FIELD_TARGETS, "incident-form-errors")


def save(viewer, values: Mapping, record, version, corroborates) -> dict:
    """Save the form (log or edit) and say what happened, as the form callback's outputs."""
    form = submitted_form(values, corroborates)

    def write(session) -> str:
        if record is None:
            saved = incidents.create_incident(session, viewer, form, ip_address=client_address())
            done = "corroborating" if form.corroborates_id else "created"
        else:
            # A conflict's comparison shows the incident as saved: only after the viewer said why.
            if not record_views.reason_given(session, viewer, incidents.RECORD_TYPE, int(record), session_token()):
                raise incidents.IncidentError(NOT_OPENED.format(noun="incident"))
            saved = incidents.update_incident(session, viewer, int(record), int(version), form,
                                              ip_address=client_address())
            done = "updated"
        return f"/incidents/{saved.id}?done={done}"

    return forms.save_result(write, _messages, failed=incidents.IncidentError, kind=layout.KIND,
                             conflict_id="incident-conflict")


def _discard(viewer, record: int) -> dict:
    """The form as the incident is saved now (the person dropped their changes)."""
    with get_db().session() as session:
        view = incidents.get_incident(session, viewer, record)
        if not record_views.reason_given(session, viewer, incidents.RECORD_TYPE, record, session_token()):
            view = None
    return forms.discarded(view, incidents.IncidentForm.from_view, FIELDS, layout.GROUPS, _messages,
                           missing=str(incidents.IncidentNotFoundError()), noun="incident")


def _shown(session, viewer, view, page: str, request: Mapping):
    return _edit(session, viewer, view) if page == "edit" else _record(session, viewer, view, request.get("done"))


def register(app: dash.Dash) -> None:
    register_view_reason(app, "incident", incidents.RECORD_TYPE, show=_shown, not_available=layout.not_available)

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
        original_id = parts.parse_id(trigger.get("index")) if isinstance(trigger, dict) else None
        if original_id is None:
            raise PreventUpdate
        with get_db().session() as session:
            original = incidents.get_incident(session, viewer, original_id)
        if original is None:
            return None, True, ""
        return original.id, False, layout.corroborate_text(original.id, original.title)

    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **forms.message_outputs(FIELDS, layout.SINGLE, "incident-form-errors"),
        **forms.form_state_outputs("incident"),
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
        return forms.form_action(
            "incident", form_outputs, record, version, conflict_version, discard=_discard,
            save=lambda viewer, version: save(viewer, values, record, version, corroborates),
        )

    @app.callback(
        Output("incident-delete-dialog", "is_open"),
        Input("incident-delete", "n_clicks"),
        Input("incident-delete-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def delete_dialog(_open, _cancel):
        return forms.delete_dialog_open("incident-delete")

    @app.callback(
        Output("incident-redirect", "href", allow_duplicate=True),
        Output("incident-delete-error", "children"),
        Input("incident-delete-confirm", "n_clicks"),
        State("incident-delete-reason", "value"),
        State("incident-record", "data"),
        prevent_initial_call=True,
    )
    def delete(_clicks, reason, record):
        return forms.delete_record(record, reason, incidents.delete_incident, failed=incidents.IncidentError,
                                   not_deleted="The incident was not deleted.", redirect="/register?deleted=")

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
        record = parts.parse_id(trigger.get("index"))
        if record is None:  # not a record's id: a forged request
            raise PreventUpdate
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
