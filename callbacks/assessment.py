"""Tension-assessment pages: the list with its filters, record, view, edit (with the version check
and the comparison when someone else saved first) and delete. A restricted assessment (TLP:AMBER,
AMBER+STRICT or RED) is shown once the viewer has said why they open it (dashboard.record_views,
with the helpers of callbacks/incident.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import dash
from dash import Input, Output, State, no_update

from dashboard import assessments, record_views
from dashboard.web import get_db
from layouts import assessment as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .record_forms import (
    MARKING_SCRIPT,
    NOT_OPENED,
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
    "created": "The tension assessment was saved.",
    "updated": "Your changes were saved. The history below shows what changed.",
}
INDICATOR_NUMBER = re.compile(r"Indicator (\d+)")


# --- page loaders ---------------------------------------------------------------------------------------


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def list_page(viewer, deleted=None, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Tension assessments")
    with get_db().session() as session:
        districts = parts.sorted_districts(assessments.assessment_choices(session, viewer).districts)
        rows, more = assessments.list_assessments(session, viewer)
    record = parts.parse_id(deleted)
    status = (f"Tension assessment #{record} was deleted. An administrator can restore it if needed."
              if record else "")
    return layout.list_page(districts, rows, more, status)


def new_page(viewer, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Record a tension assessment")
    with get_db().session() as session:
        choices = assessments.assessment_choices(session, viewer)
    return layout.form_page(choices, assessments.FIELD_LABELS, own_org_id=viewer.organisation_id)


def _record(session, viewer, view, done=None):
    """The assessment's page content: every field and its history."""
    history = assessments.assessment_history(session, viewer, view.id)
    return layout.record_page(view, history, assessments.FIELD_LABELS, DONE.get(str(done or ""), ""))


def _edit(session, viewer, view):
    if not view.can_edit:
        return layout.cannot_edit(view)
    return layout.form_page(assessments.assessment_choices(session, viewer), assessments.FIELD_LABELS,
                            assessments.AssessmentForm.from_view(view), editing=view)


def _ask(view, page: str, done=None):
    return layout.view_reason_page(view, {"id": view.id, "page": page, "done": done}, record_views.REASONS,
                                   record_views.REASON_MAX)


def _shown(session, viewer, view, page: str, request: Mapping):
    return _edit(session, viewer, view) if page == "edit" else _record(session, viewer, view, request.get("done"))


def record_page(viewer, assessment_id=None, done=None, **_query):
    return opened_page(viewer, assessment_id, record_type=assessments.RECORD_TYPE, get=assessments.get_assessment,
                       show=lambda session, view: _record(session, viewer, view, done),
                       ask=lambda view: _ask(view, "record", done), not_available=layout.not_available)


def edit_page(viewer, assessment_id=None, **_query):
    return opened_page(viewer, assessment_id, record_type=assessments.RECORD_TYPE, get=assessments.get_assessment,
                       show=lambda session, view: _edit(session, viewer, view),
                       ask=lambda view: _ask(view, "edit"), not_available=layout.not_available,
                       may=lambda view: view.can_edit, refused=layout.cannot_edit)


# --- callbacks ------------------------------------------------------------------------------------------


def submitted_form(values: Mapping, indicators, evidence) -> assessments.AssessmentForm:
    rows = [(str(text or ""), "" if kind in (None, layout.NOT_USED) else str(kind))
            for text, kind in zip(indicators or [], evidence or [], strict=False)]
    return assessments.AssessmentForm(
        area_code=values["area_code"],
        assessed_on=values["assessed_on"],
        level=values["level"],
        trend=values["trend"],
        confidence=values["confidence"],
        rationale=values["rationale"],
        indicators=[row for row in rows if row[0].strip() or row[1].strip()],
        review_on=values["review_on"] or None,
        marking=values["marking"],
        recipients=int_list(values["recipients"]),
        listed_organisations=int_list(values["listed_organisations"]),
    )


def _messages(errors=None, problem=None) -> dict:
    targets = dict(layout.FIELD_TARGETS)
    found = INDICATOR_NUMBER.search((errors or {}).get("indicators", ""))
    if found and 1 <= int(found.group(1)) <= layout.INDICATOR_ROWS:
        targets["indicators"] = layout.INDICATOR_IDS[int(found.group(1)) - 1]
    out = forms.messages(errors, problem, FIELDS, layout.SINGLE, targets, "assessment-form-errors")
    out["error_indicators"] = parts.field_error((errors or {}).get("indicators"))
    return out


def save(viewer, values: Mapping, indicators, evidence, record, version) -> dict:
    form = submitted_form(values, indicators, evidence)

    def write(session) -> str:
        if record is None:
            saved = assessments.create_assessment(session, viewer, form, ip_address=client_address())
            done = "created"
        else:
            # A conflict's comparison shows the assessment as saved: only after the viewer said why.
            if not record_views.reason_given(session, viewer, assessments.RECORD_TYPE, int(record), session_token()):
                raise assessments.AssessmentError(NOT_OPENED.format(noun="assessment"))
            saved = assessments.update_assessment(session, viewer, int(record), int(version), form,
                                                  ip_address=client_address())
            done = "updated"
        return f"/assessments/{saved.id}?done={done}"

    return forms.save_result(write, _messages, failed=assessments.AssessmentError, kind=layout.KIND,
                             conflict_id="assessment-conflict")


def _indicator_values(saved: assessments.AssessmentForm) -> dict:
    """The indicator rows' values for a form (blank rows after its indicators)."""
    rows = list(saved.indicators)[: layout.INDICATOR_ROWS]
    rows += [("", "")] * (layout.INDICATOR_ROWS - len(rows))
    filled = {}
    for n, (text, kind) in enumerate(rows):
        filled[f"indicator_{n}"], filled[f"evidence_{n}"] = text, kind
    return filled


def _discard(viewer, record: int) -> dict:
    """The form as the assessment is saved now (the person dropped their changes)."""
    with get_db().session() as session:
        view = assessments.get_assessment(session, viewer, record)
        if not record_views.reason_given(session, viewer, assessments.RECORD_TYPE, record, session_token()):
            view = None
    return forms.discarded(view, assessments.AssessmentForm.from_view, FIELDS, layout.GROUPS, _messages,
                           missing=str(assessments.AssessmentNotFoundError()), noun="assessment",
                           more=_indicator_values)


def register(app: dash.Dash) -> None:
    register_view_reason(app, "assessment", assessments.RECORD_TYPE, show=_shown, not_available=layout.not_available)

    app.clientside_callback(
        MARKING_SCRIPT,
        Output("assessment-form-recipients-block", "hidden"),
        Output("assessment-form-listed-block", "hidden"),
        Input(FIELDS["marking"], "value"),
    )

    @app.callback(
        Output("assessment-list", "children"),
        Output("assessment-list-start-error", "children"),
        Output("assessment-list-end-error", "children"),
        Output("assessment-list-start", "invalid"),
        Output("assessment-list-end", "invalid"),
        Input("assessment-list-area", "value"),
        Input("assessment-list-start", "value"),
        Input("assessment-list-end", "value"),
        prevent_initial_call=True,
    )
    def listing(area, start, end):
        viewer = partner_viewer()
        first, last = _day(start), _day(end)
        start_error = "Enter a real date, for example 2026-11-03." if start and first is None else ""
        end_error = "Enter a real date, for example 2026-11-03." if end and last is None else ""
        if first and last and first > last:
            end_error = "The \u201cTo\u201d date must be the same as or after the \u201cFrom\u201d date."
        if start_error or end_error:
            return (no_update, parts.field_error(start_error), parts.field_error(end_error), bool(start_error),
                    bool(end_error))
        with get_db().session() as session:
            area_code = str(area) if area and area != layout.ANY else None
            rows, more = assessments.list_assessments(session, viewer, area_code=area_code, start=first, end=last)
        return layout.list_table(rows, more), "", "", False, False

    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **{f"indicator_{n}": Output(i, "value") for n, i in enumerate(layout.INDICATOR_IDS)},
        **{f"evidence_{n}": Output(i, "value") for n, i in enumerate(layout.EVIDENCE_IDS)},
        **forms.message_outputs(FIELDS, layout.SINGLE, "assessment-form-errors"),
        "error_indicators": Output(layout.ERROR_IDS["indicators"], "children"),
        **forms.form_state_outputs("assessment"),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "save_clicks": Input("assessment-form-save", "n_clicks"),
            "overwrite_clicks": Input("assessment-conflict-overwrite", "n_clicks"),
            "discard_clicks": Input("assessment-conflict-discard", "n_clicks"),
        },
        state={
            "values": {name: State(i, "value") for name, i in FIELDS.items()},
            "indicators": [State(i, "value") for i in layout.INDICATOR_IDS],
            "evidence": [State(i, "value") for i in layout.EVIDENCE_IDS],
            "record": State("assessment-form-record", "data"),
            "version": State("assessment-form-version", "data"),
            "conflict_version": State("assessment-conflict-version", "data"),
        },
        prevent_initial_call=True,
    )
    def form(save_clicks, overwrite_clicks, discard_clicks, values, indicators, evidence, record, version, conflict_version):
        return forms.form_action(
            "assessment", form_outputs, record, version, conflict_version, discard=_discard,
            save=lambda viewer, version: save(viewer, values, indicators, evidence, record, version),
        )

    @app.callback(
        Output("assessment-delete-dialog", "is_open"),
        Input("assessment-delete", "n_clicks"),
        Input("assessment-delete-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def delete_dialog(_open, _cancel):
        return forms.delete_dialog_open("assessment-delete")

    @app.callback(
        Output("assessment-redirect", "href", allow_duplicate=True),
        Output("assessment-delete-error", "children"),
        Input("assessment-delete-confirm", "n_clicks"),
        State("assessment-delete-reason", "value"),
        State("assessment-record", "data"),
        prevent_initial_call=True,
    )
    def delete(_clicks, reason, record):
        return forms.delete_record(record, reason, assessments.delete_assessment,
                                   failed=assessments.AssessmentError,
                                   not_deleted="The assessment was not deleted.", redirect="/assessments?deleted=")

    app.clientside_callback(
        focus_script("assessment-form-errors"),
        Output("assessment-focus-sink", "children"),
        Input("assessment-form-errors", "children"),
        prevent_initial_call=True,
    )
