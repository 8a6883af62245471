"""The chair's action form: add an action agreed at a meeting, or change one, with the version
check and the side-by-side comparison when someone else saved first. Every callback checks on
the server that the viewer is the chair; the domain (`dashboard.actions`) checks it again."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from types import SimpleNamespace

import dash
from dash import ALL, Input, Output, State, no_update

from dashboard import actions, incidents
from dashboard.web import get_db
from layouts import action_form as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .meetings import changed_by, conflict_rows, editor_viewer, save_with_check
from .record_forms import client_address, focus_script, int_list

FIELDS = layout.FIELD_IDS
VALUES = layout.VALUE_FIELDS
AREAS = {"type": layout.AREAS_TYPE, "index": ALL}
MOST_INCIDENTS = 50  # typed incident numbers looked up for the list under the field
_SEPARATORS = re.compile(r"[,;\s]+")


def today() -> date:
    return date.today()


def _limits() -> dict:
    return {"description_max": getattr(actions, "DESCRIPTION_MAX", None),
            "lead_max": getattr(actions, "LEAD_MAX", None), "note_max": getattr(actions, "NOTE_MAX", None)}


# --- page loaders ---------------------------------------------------------------------------------------


def new_page(viewer, meeting=None, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Add an action")
    if not actions.may_edit_actions(viewer):
        return layout.refused("Add an action")
    with get_db().session() as session:
        choices = actions.form_choices(session, viewer, today())
    if not choices.meetings:
        return layout.no_meetings()
    chosen = parts.parse_id(meeting)
    form = SimpleNamespace(meeting=chosen) if chosen in {i for i, _label in choices.meetings} else None
    return layout.form_page(choices, actions.FIELD_LABELS, actions.STATUS_LABELS, form, **_limits())


def saved_form(view) -> SimpleNamespace:
    """The form's values for an action as saved (its visible incidents as typed numbers)."""
    return SimpleNamespace(
        meeting=view.meeting_id, description=view.description, owner=view.owner_org_id, lead=view.lead,
        due_on=view.due_on, status=view.status, progress=str(view.progress),
        areas=[code for code, _name in view.areas], triggers=[i for i, _title, _day in view.triggers],
        incidents=", ".join(str(i.id) for i in view.incidents), note="",
    )


def edit_page(viewer, action_id=None, **_query):
    return forms.loaded_page(
        viewer, action_id,
        get=lambda session, who, record: actions.get_action(session, who, record, today()),
        may=lambda view: view.may_edit,
        refused=lambda view: layout.refused(f"Edit action #{view.id}"),
        load=lambda session, who, _record, view: actions.form_choices(session, who, today(), action_id=view.id),
        render=lambda view, choices: layout.form_page(
            choices, actions.FIELD_LABELS, actions.STATUS_LABELS, saved_form(view), editing=view,
            found=[(i.id, i) for i in view.incidents], **_limits()),
        not_available=layout.not_available,
    )


# --- the form's values ----------------------------------------------------------------------------------


def incident_numbers(text) -> tuple[list[int], list[str]]:
    """The incident numbers typed ("1234, #5678"), in order without repeats, and what is not a number."""
    numbers: list[int] = []
    wrong: list[str] = []
    for token in _SEPARATORS.split(str(text or "")):
        token = token.strip()
        if not token:
            continue
        digits = token.lstrip("#")
        if digits.isdigit() and len(digits) <= 12 and int(digits) > 0:
            if int(digits) not in numbers:
                numbers.append(int(digits))
        elif token not in wrong:
            wrong.append(token)
    return numbers, wrong


def not_numbers_message(wrong: Sequence[str]) -> str:
    shown = ", ".join(f"\u201c{w}\u201d" for w in wrong[:5])
    return (f"{shown} {'is not an incident number' if len(wrong) == 1 else 'are not incident numbers'}: "
            "give the numbers separated by commas, for example 1234, 5678.")


def _id(value):
    text = str(value or "").strip()
    return int(text) if text.isdigit() else text


def submitted_form(values: Mapping, areas) -> tuple[dict, list[str]]:
    """The form as typed (the domain validates it), and any typed incidents that are not numbers."""
    numbers, wrong = incident_numbers(values.get("incidents"))
    form = {
        "meeting": _id(values.get("meeting")),
        "description": values.get("description") or "",
        "owner": _id(values.get("owner")),
        "lead": values.get("lead") or "",
        "due_on": values.get("due_on") or "",
        "status": values.get("status") or "",
        "progress": "" if values.get("progress") is None else str(values.get("progress")).strip(),
        "areas": [str(code) for group in (areas or []) for code in (group or [])],
        "triggers": int_list(values.get("triggers")),
        "incidents": numbers,
        "note": values.get("note") or "",
    }
    return form, wrong


def _day_text(value) -> str:
    if isinstance(value, date):
        return parts.day_text(value)
    try:
        return parts.day_text(date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def form_texts(form: Mapping, choices, wrong: Sequence[str] = ()) -> dict[str, str]:
    """An action's fields as people read them (for the side-by-side comparison)."""
    meetings = {i: label for i, label in choices.meetings}
    owners = {i: name for i, name in choices.owners}
    districts = {code: name for _force, group in choices.areas for code, name in group}
    triggers = {i: label for i, label in choices.triggers}

    def named(lookup: Mapping, value) -> str:
        return str(lookup.get(value, value if value not in (None, "") else ""))

    return {
        "meeting": named(meetings, form.get("meeting")),
        "description": str(form.get("description") or ""),
        "owner": named(owners, form.get("owner")),
        "lead": str(form.get("lead") or ""),
        "due_on": _day_text(form.get("due_on")),
        "status": actions.STATUS_LABELS.get(str(form.get("status") or ""), str(form.get("status") or "")),
        "progress": str(form.get("progress") if form.get("progress") is not None else ""),
        "areas": "; ".join(sorted(districts.get(code, code) for code in form.get("areas") or [])),
        "triggers": "; ".join(named(triggers, int(i)) for i in form.get("triggers") or []),
        "incidents": ", ".join([f"#{i}" for i in form.get("incidents") or []] + list(wrong)),
    }


def _current_texts(view, choices) -> dict[str, str]:
    saved = vars(saved_form(view)) | {"incidents": [i.id for i in view.incidents]}
    extra = SimpleNamespace(
        meetings=[*choices.meetings, (view.meeting_id, f"{view.meeting_title} ({parts.day_text(view.meeting_held_on)})")],
        owners=[*choices.owners, (view.owner_org_id, view.owner)],
        areas=[*choices.areas, ("", list(view.areas))],
        triggers=[*choices.triggers, *[(i, f"{title} ({parts.day_text(day)})") for i, title, day in view.triggers]],
    )
    return form_texts(saved, extra)


# --- callbacks ------------------------------------------------------------------------------------------


def _messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, FIELDS, layout.SINGLE, layout.FIELD_TARGETS, layout.ERRORS_ID)


def _chair():
    return editor_viewer(actions.may_edit_actions)


def record_progress(session, viewer, action_id: int, form: Mapping) -> None:
    """The edit form's status, progress and note, as a progress update in the same transaction
    as the edit (the domain's edit leaves them to `update_progress`), when any of them changed."""
    current = actions.get_action(session, viewer, action_id, today())
    if current is None:
        raise actions.ActionNotFoundError()
    progress = str(form["progress"])
    if form["status"] == current.status and progress in ("", str(current.progress)) and not form["note"].strip():
        return
    actions.update_progress(session, viewer, action_id, current.version, status=form["status"],
                            progress=form["progress"], note=form["note"], ip_address=client_address())


def save(viewer, values: Mapping, areas, record, version) -> dict:
    """Save the form (add or edit) and say what happened, as the form callback's outputs."""
    form, wrong = submitted_form(values, areas)

    def write(session) -> str:
        try:
            if record is None:
                saved = actions.create_action(session, viewer, form, ip_address=client_address())
                done = "created"
            else:
                saved, done = int(record), "edited"
                actions.edit_action(session, viewer, saved, int(version), form, ip_address=client_address())
                record_progress(session, viewer, saved, form)
        except actions.ActionValidationError as error:
            if wrong:
                raise actions.ActionValidationError({**error.errors, "incidents": not_numbers_message(wrong)}) \
                    from error
            raise
        if wrong:  # the rest was fine: nothing is kept (the transaction is rolled back)
            raise actions.ActionValidationError({"incidents": not_numbers_message(wrong)})
        return f"/actions/{saved}?done={done}"

    def compare(current) -> tuple[list, str, object]:
        with get_db().session() as session:
            choices = actions.form_choices(session, viewer, today(), action_id=current.id)
            who, at = changed_by([*actions.action_history(session, viewer, current.id),
                                  *actions.action_updates(session, viewer, current.id)])
        labels = {name: label for name, label in actions.FIELD_LABELS.items() if name != "note"}
        mine = form_texts(form, SimpleNamespace(
            meetings=choices.meetings, owners=choices.owners, areas=choices.areas,
            triggers=[*choices.triggers, *[(i, f"{t} ({parts.day_text(d)})") for i, t, d in current.triggers]]),
            wrong)
        return conflict_rows(labels, mine, _current_texts(current, choices)), who, at

    return save_with_check(write, _messages, invalid=actions.ActionValidationError,
                           conflict=actions.ActionConflictError, failed=actions.ActionError,
                           kind=layout.KIND, conflict_id="action-form-conflict", compare=compare)


def _discard(viewer, record: int) -> dict:
    """The form as the action is saved now (the chair dropped their changes)."""
    with get_db().session() as session:
        view = actions.get_action(session, viewer, record, today())
        groups = actions.form_choices(session, viewer, today()).areas

    def districts(saved) -> dict:
        chosen = set(saved.areas)
        return {"areas": [[code for code, _name in group if code in chosen] for _force, group in groups]}

    return forms.discarded(view, saved_form, VALUES, layout.GROUPS, _messages,
                           missing=str(actions.ActionNotFoundError()), noun="action", more=districts)


def found_incidents(viewer, text) -> list[tuple[int, object]]:
    """The typed incident numbers, each with the incident if the viewer may see it (else None)."""
    numbers, _wrong = incident_numbers(text)
    with get_db().session() as session:
        return [(n, incidents.get_incident(session, viewer, n)) for n in numbers[:MOST_INCIDENTS]]


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("action-form-incidents-found", "children"),
        Input(FIELDS["incidents"], "value"),
        prevent_initial_call=True,
    )
    def typed_incidents(text):
        viewer = _chair()
        return layout.incidents_found(found_incidents(viewer, text))

    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in VALUES.items()},
        "areas": Output(AREAS, "value"),
        **forms.message_outputs(FIELDS, layout.SINGLE, layout.ERRORS_ID),
        **forms.form_state_outputs(layout.PREFIX),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "save_clicks": Input("action-form-form-save", "n_clicks"),
            "overwrite_clicks": Input("action-form-conflict-overwrite", "n_clicks"),
            "discard_clicks": Input("action-form-conflict-discard", "n_clicks"),
        },
        state={
            "values": {name: State(i, "value") for name, i in VALUES.items()},
            "areas": State(AREAS, "value"),
            "record": State("action-form-form-record", "data"),
            "version": State("action-form-form-version", "data"),
            "conflict_version": State("action-form-conflict-version", "data"),
        },
        prevent_initial_call=True,
    )
    def form(save_clicks, overwrite_clicks, discard_clicks, values, areas, record, version, conflict_version):
        _chair()  # only the chair adds or changes actions: refused here and in the domain
        out = forms.form_action(
            layout.PREFIX, form_outputs, record, version, conflict_version, discard=_discard,
            save=lambda viewer, version: save(viewer, values, areas, record, version),
        )
        if out.get("areas") is no_update:  # one "no change" for each force's checklist
            out["areas"] = [no_update] * len(areas or [])
        return out

    app.clientside_callback(
        focus_script(layout.ERRORS_ID),
        Output("action-form-focus-sink", "children"),
        Input(layout.ERRORS_ID, "children"),
        prevent_initial_call=True,
    )
