"""Meeting pages: the list with its kind filter, one meeting (with delete for the chair), and the
chair's form to record or change a meeting, with the version check and the comparison when
someone else saved first. Every callback checks the viewer's role on the server; the domain
(`dashboard.meetings`) checks it again and refuses anyone but the chair."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import SimpleNamespace

import dash
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard import actions, meetings
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.records import ConflictRow
from dashboard.web import get_db
from layouts import meetings as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .common import require_viewer
from .record_forms import client_address, focus_script, int_list

FIELDS = layout.FIELD_IDS
DONE = {
    "created": "The meeting was recorded. Add the actions agreed at it with \u201cAdd an action\u201d.",
    "updated": "Your changes were saved. The history below shows what changed.",
}


def today() -> date:
    return date.today()


# --- shared with the action form -----------------------------------------------------------------------


def editor_viewer(may_edit: Callable[[object], bool]):
    """The signed-in viewer, if an active partner whom `may_edit` allows (the chair); otherwise
    the callback does nothing."""
    viewer = require_viewer(PARTNERSHIP_ROLES)
    if not viewer.is_partner or not may_edit(viewer):
        raise PreventUpdate
    return viewer


def changed_by(entries) -> tuple[str, object]:
    """Who made the latest of some history entries (name and organisation) and when."""
    latest = max(entries, key=lambda e: e.at, default=None)
    if latest is None:
        return "", None
    who = f"{latest.who} ({latest.organisation})" if latest.organisation else latest.who
    return who, latest.at


def conflict_rows(labels: Mapping[str, str], yours: Mapping[str, str], theirs: Mapping[str, str]) -> list:
    """Every field's two values as text, in the order of `labels`."""
    return [
        ConflictRow(name, label, yours.get(name, ""), theirs.get(name, ""),
                    yours.get(name, "").strip() != theirs.get(name, "").strip())
        for name, label in labels.items() if name in yours or name in theirs
    ]


def save_with_check(write: Callable[[object], str], show: Callable[..., dict], *, invalid: type[Exception],
                    conflict: type[Exception], failed: type[Exception], kind: str, conflict_id: str,
                    compare: Callable[[object], tuple[list, str, object]]) -> dict:
    """Run `write(session)` (returns the page to go to) and say what happened: each field's
    error, the two versions side by side when someone else saved first (`compare(current)`
    gives the rows, who saved last and when), or why nothing was saved."""
    try:
        with get_db().session() as session:
            redirect = write(session)
    except invalid as error:
        return show(error.errors) | {"conflict_hidden": True}
    except conflict as error:
        current = getattr(error, "current", None)
        if current is None:
            return show(problem=f"Nothing was saved. {error}") | {"conflict_hidden": True}
        rows, who, at = compare(current)
        return show(problem=parts.conflict_problem(kind, who, at)) | {
            "conflict_hidden": False,
            "conflict_table": parts.conflict_table(rows, conflict_id),
            "conflict_version": current.version,
        }
    except failed as error:
        return show(problem=f"Nothing was saved. {error}") | {"conflict_hidden": True}
    return show() | {"redirect": redirect, "conflict_hidden": True}


# --- page loaders ---------------------------------------------------------------------------------------


def list_page(viewer, kind=None, deleted=None, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Meetings")
    chosen = str(kind) if kind in meetings.KIND_LABELS else layout.ANY
    with get_db().session() as session:
        rows = meetings.list_meetings(session, viewer, today(),
                                      kinds=() if chosen == layout.ANY else (chosen,))
    record = parts.parse_id(deleted)
    status = (f"Meeting #{record} was deleted, with the actions agreed at it." if record else "")
    return layout.list_page(rows, meetings.KIND_LABELS, kind=chosen,
                            may_record=meetings.may_edit_meetings(viewer), status=status)


def record_page(viewer, meeting_id=None, done=None, **_query):
    day = today()
    return forms.loaded_page(
        viewer, meeting_id,
        get=lambda session, who, record: meetings.get_meeting(session, who, record, day),
        load=lambda session, who, record, _view: (
            actions.tracker(session, who, actions.ActionFilters(meetings=(record,)), day),
            meetings.meeting_history(session, who, record),
        ),
        render=lambda view, loaded: layout.record_page(view, *loaded, meetings.FIELD_LABELS,
                                                       DONE.get(str(done or ""), "")),
        not_available=layout.not_available,
    )


def _limits() -> dict:
    return {"title_max": getattr(meetings, "TITLE_MAX", 200), "text_max": getattr(meetings, "TEXT_MAX", None)}


def new_page(viewer, **_query):
    if not viewer.is_partner:
        return parts.not_a_partner("Record a meeting")
    if not meetings.may_edit_meetings(viewer):
        return layout.only_chair("Record a meeting")
    with get_db().session() as session:
        organisations = meetings.organisation_choices(session)
    return layout.form_page(organisations, meetings.KIND_LABELS, meetings.FIELD_LABELS, **_limits())


def saved_form(view) -> SimpleNamespace:
    """The form's values for a meeting as saved."""
    return SimpleNamespace(held_on=view.held_on, kind=view.kind, title=view.title,
                           attendees=[i for i, _name in view.attendees], agenda=view.agenda, minutes=view.minutes)


def edit_page(viewer, meeting_id=None, **_query):
    return forms.loaded_page(
        viewer, meeting_id,
        get=lambda session, who, record: meetings.get_meeting(session, who, record, today()),
        may=lambda view: view.may_edit,
        refused=lambda view: layout.only_chair(f"Edit meeting: {view.title}"),
        load=lambda session, _who, _record, _view: meetings.organisation_choices(session),
        render=lambda view, organisations: layout.form_page(
            organisations, meetings.KIND_LABELS, meetings.FIELD_LABELS, saved_form(view), editing=view,
            **_limits()),
        not_available=layout.not_available,
    )


# --- callbacks ------------------------------------------------------------------------------------------


def submitted_form(values: Mapping) -> dict:
    """The form as typed (the domain validates it)."""
    return {
        "held_on": values.get("held_on") or "",
        "kind": values.get("kind") or "",
        "title": values.get("title") or "",
        "attendees": int_list(values.get("attendees")),
        "agenda": values.get("agenda") or "",
        "minutes": values.get("minutes") or "",
    }


def _day_text(value) -> str:
    if isinstance(value, date):
        return parts.day_text(value)
    try:
        return parts.day_text(date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def form_texts(form: Mapping, organisations: Mapping[int, str]) -> dict[str, str]:
    """A meeting's fields as people read them (for the side-by-side comparison)."""
    return {
        "held_on": _day_text(form.get("held_on")),
        "kind": meetings.KIND_LABELS.get(str(form.get("kind") or ""), str(form.get("kind") or "")),
        "title": str(form.get("title") or ""),
        "attendees": "; ".join(sorted(organisations.get(int(i), f"#{i}") for i in form.get("attendees") or [])),
        "agenda": str(form.get("agenda") or ""),
        "minutes": str(form.get("minutes") or ""),
    }


def _messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, FIELDS, layout.SINGLE, layout.FIELD_TARGETS, "meeting-form-errors")


def save(viewer, values: Mapping, record, version) -> dict:
    """Save the form (record or edit) and say what happened, as the form callback's outputs."""
    form = submitted_form(values)

    def write(session) -> str:
        if record is None:
            saved = meetings.create_meeting(session, viewer, form, ip_address=client_address())
            return f"/meetings/{saved}?done=created"
        meetings.update_meeting(session, viewer, int(record), int(version), form, ip_address=client_address())
        return f"/meetings/{int(record)}?done=updated"

    def compare(current) -> tuple[list, str, object]:
        with get_db().session() as session:
            organisations = dict(meetings.organisation_choices(session))
            who, at = changed_by(meetings.meeting_history(session, viewer, current.id))
        organisations.update(dict(current.attendees))
        theirs = vars(saved_form(current))
        rows = conflict_rows(meetings.FIELD_LABELS, form_texts(form, organisations),
                             form_texts(theirs, organisations))
        return rows, who, at

    return save_with_check(write, _messages, invalid=meetings.MeetingValidationError,
                           conflict=meetings.MeetingConflictError, failed=meetings.MeetingError,
                           kind=layout.KIND, conflict_id="meeting-conflict", compare=compare)


def _discard(viewer, record: int) -> dict:
    """The form as the meeting is saved now (the chair dropped their changes)."""
    with get_db().session() as session:
        view = meetings.get_meeting(session, viewer, record, today())
    return forms.discarded(view, saved_form, FIELDS, layout.GROUPS, _messages,
                           missing=str(meetings.MeetingNotFoundError()), noun="meeting")


def _chair():
    return editor_viewer(meetings.may_edit_meetings)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("meeting-list", "children"),
        Input("meeting-list-kind", "value"),
        prevent_initial_call=True,
    )
    def listing(kind):
        viewer = forms.partner_viewer()
        chosen = kind if isinstance(kind, str) and kind in meetings.KIND_LABELS else None
        with get_db().session() as session:
            rows = meetings.list_meetings(session, viewer, today(), kinds=(chosen,) if chosen else ())
        return layout.list_table(rows, filtered=chosen is not None)

    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **forms.message_outputs(FIELDS, layout.SINGLE, "meeting-form-errors"),
        **forms.form_state_outputs("meeting"),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "save_clicks": Input("meeting-form-save", "n_clicks"),
            "overwrite_clicks": Input("meeting-conflict-overwrite", "n_clicks"),
            "discard_clicks": Input("meeting-conflict-discard", "n_clicks"),
        },
        state={
            "values": {name: State(i, "value") for name, i in FIELDS.items()},
            "record": State("meeting-form-record", "data"),
            "version": State("meeting-form-version", "data"),
            "conflict_version": State("meeting-conflict-version", "data"),
        },
        prevent_initial_call=True,
    )
    def form(save_clicks, overwrite_clicks, discard_clicks, values, record, version, conflict_version):
        _chair()  # members may read meetings, never write them: refused here and in the domain
        return forms.form_action(
            "meeting", form_outputs, record, version, conflict_version, discard=_discard,
            save=lambda viewer, version: save(viewer, values, record, version),
        )

    @app.callback(
        Output("meeting-delete-dialog", "is_open"),
        Input("meeting-delete", "n_clicks"),
        Input("meeting-delete-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def delete_dialog(_open, _cancel):
        _chair()
        return forms.delete_dialog_open("meeting-delete")

    @app.callback(
        Output("meeting-redirect", "href", allow_duplicate=True),
        Output("meeting-delete-error", "children"),
        Input("meeting-delete-confirm", "n_clicks"),
        State("meeting-delete-reason", "value"),
        State("meeting-record", "data"),
        prevent_initial_call=True,
    )
    def delete(_clicks, reason, record):
        _chair()
        return forms.delete_record(record, reason, meetings.delete_meeting, failed=meetings.MeetingError,
                                   not_deleted="The meeting was not deleted.", redirect="/meetings?deleted=")

    app.clientside_callback(
        focus_script("meeting-form-errors"),
        Output("meeting-focus-sink", "children"),
        Input("meeting-form-errors", "children"),
        prevent_initial_call=True,
    )

