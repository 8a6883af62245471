"""Helpers shared by the incident and tension-assessment pages (callbacks/incident.py and
callbacks/assessment.py): the partner check, the error summary's outputs, saving a form with its
conflict comparison, discarding one's changes, deleting, and the record and edit page loaders;
and the confirm-then-delete flow of the calendar and joint statement pages (callbacks/calendar.py,
callbacks/statement.py). Each page registers its own callbacks; these are only the bodies they share."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request
from flask_login import current_user

from dashboard import record_views
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.records import RecordConflictError, RecordValidationError
from dashboard.web import get_db
from layouts import record_parts as parts

from .common import require_viewer

MARKING_SCRIPT = (
    "function(marking) { return [marking !== 'TLP:RED', marking !== 'TLP:AMBER']; }"
)


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
        out[f"error_{name}"] = parts.field_error(errors.get(name))
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


def form_state_outputs(prefix: str) -> dict:
    """The form callback's outputs besides its fields and messages ("incident" -> incident-...)."""
    return {
        "redirect": Output(f"{prefix}-redirect", "href"),
        "conflict_hidden": Output(f"{prefix}-conflict", "hidden"),
        "conflict_table": Output(f"{prefix}-conflict-table", "children"),
        "conflict_version": Output(f"{prefix}-conflict-version", "data"),
        "version": Output(f"{prefix}-form-version", "data"),
        "status": Output(f"{prefix}-status", "children"),
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


# --- the form callback -----------------------------------------------------------------------------------


def form_action(prefix: str, outputs: Mapping, record, version, conflict_version, *,
                discard: Callable[[object, int], dict], save: Callable[[object, object], dict]) -> dict:
    """The form callback's body: save (after the person's click), save on top of someone else's
    version ("overwrite"), or discard one's changes for the saved record (`discard(viewer, id)`)."""
    viewer = partner_viewer()
    if not clicked():
        raise PreventUpdate
    out = {key: no_update for key in outputs}
    trigger = ctx.triggered_id
    if trigger == f"{prefix}-conflict-discard" and record is not None:
        record_id, _ = reference(record, 0)
        return out | discard(viewer, record_id)
    if trigger == f"{prefix}-conflict-overwrite":
        if record is None or conflict_version is None:
            raise PreventUpdate
        _, version = reference(record, conflict_version)
        out["version"] = version
    elif trigger != f"{prefix}-form-save":
        raise PreventUpdate
    elif record is not None:  # an edit: the record and the version it was opened at
        _, version = reference(record, version)
    return out | {"status": ""} | save(viewer, version)


def save_result(write: Callable[[object], str], show: Callable[..., dict], *, failed: type[Exception],
                kind: str, conflict_id: str) -> dict:
    """Run `write(session)` (returns the page to go to) and say what happened: the fields'
    errors, the conflict comparison, or why nothing was saved."""
    try:
        with get_db().session() as session:
            redirect = write(session)
    except RecordValidationError as error:
        return show(error.errors) | {"conflict_hidden": True}
    except RecordConflictError as error:
        return show(problem=parts.conflict_problem(kind, error.changed_by, error.changed_at)) | {
            "conflict_hidden": False,
            "conflict_table": parts.conflict_table(error.rows, conflict_id),
            "conflict_version": error.current.version,
        }
    except failed as error:
        return show(problem=f"Nothing was saved. {error}") | {"conflict_hidden": True}
    return show() | {"redirect": redirect, "conflict_hidden": True}


def discarded(view, to_form: Callable, field_ids: Mapping[str, str], groups, show: Callable[..., dict], *,
              missing: str, noun: str, more: Callable[[object], dict] | None = None) -> dict:
    """The form refilled with the record as saved (`to_form(view)`; `more(form)` for values
    beyond `field_ids`), or why it cannot be (`missing`)."""
    if view is None:
        return show(problem=missing) | {"conflict_hidden": True}
    saved = to_form(view)
    filled = {f"value_{name}": shown_value(name, getattr(saved, name), groups) for name in field_ids}
    if more is not None:
        filled |= more(saved)
    return filled | show() | {
        "conflict_hidden": True, "conflict_table": [], "conflict_version": None, "version": view.version,
        "status": f"Your changes were discarded. The form now shows the {noun} as it is saved.",
    }


# --- deleting ----------------------------------------------------------------------------------------------


def delete_dialog_open(opener_id: str) -> bool:
    """The delete dialog's callback body: open on the delete button, close on cancel."""
    partner_viewer()
    if not clicked():
        raise PreventUpdate
    return ctx.triggered_id == opener_id


def reference(raw_id, raw_version, version: Callable = int) -> tuple[int, object]:
    """A record's id and version as a button's id or a store holds them; no update when a forged
    request holds anything else (a list, a word, a number no record has)."""
    record_id = parts.parse_id(raw_id)
    if record_id is None or isinstance(raw_version, dict | list):
        raise PreventUpdate
    try:
        checked = version(raw_version)
    except (TypeError, ValueError):
        raise PreventUpdate from None
    if isinstance(checked, int) and not 0 <= checked < 2**53:
        raise PreventUpdate
    return record_id, checked


def delete_record(record, reason, delete: Callable, *, failed: type[Exception], not_deleted: str,
                  redirect: str) -> tuple:
    """The delete callback's body: (page to go to, error beside the dialog)."""
    viewer = partner_viewer()
    if not clicked() or not isinstance(record, dict):
        raise PreventUpdate
    record_id, version = reference(record.get("id"), record.get("version"))
    try:
        with get_db().session() as session:
            delete(session, viewer, record_id, version,
                   reason=str(reason if isinstance(reason, str) else "").strip(), ip_address=client_address())
    except failed as error:
        return no_update, parts.field_error(f"{not_deleted} {error}")
    return f"{redirect}{record_id}", ""


# --- confirm, then delete (a dcc.ConfirmDialog opened by pattern-matching buttons) -------------------------


def ask_to_confirm(viewer, load: Callable, may_change: Callable[[object], bool],
                   describe: Callable[[object], str], *, version: Callable = int) -> tuple:
    """The confirm dialog's callback body, after a click on a button with the id
    {"type", "index", "version"}: (displayed, message, pending) for the item that
    `load(session, viewer, index)` returns, if `may_change(item)`; otherwise nothing happens."""
    trigger = ctx.triggered_id
    if not clicked() or not isinstance(trigger, dict):
        raise PreventUpdate
    item_id, item_version = reference(trigger.get("index"), trigger.get("version"), version)
    with get_db().session() as session:
        item = load(session, viewer, item_id)
    if item is None or not may_change(item):
        raise PreventUpdate
    return True, describe(item), {"id": item.id, "version": item_version}


def confirmed_delete(viewer, submitted, pending, changed, delete: Callable, *, failed: type[Exception],
                     problem: Callable[[Exception], object], done: Callable[[object], str],
                     version: Callable = int) -> tuple:
    """The confirmed delete's callback body: `delete(session, viewer, id, version, ip_address=...)`
    the pending item, then (status, changed, pending, error summary, summary hidden): the status
    says `done(result)`, or the summary shows `problem(error)`; the list is redrawn either way."""
    if not submitted or not isinstance(pending, dict):
        raise PreventUpdate
    item_id, item_version = reference(pending.get("id"), pending.get("version"), version)
    redraw = (changed or 0) + 1  # a count: require_viewer has refused any other type
    try:
        with get_db().session() as session:
            result = delete(session, viewer, item_id, item_version, ip_address=client_address())
    except failed as error:
        return "", redraw, None, problem(error), False
    return done(result), redraw, None, no_update, no_update


# --- page loaders --------------------------------------------------------------------------------------------


def loaded_page(viewer, raw_id, *, get: Callable, load: Callable, render: Callable[..., object],
                not_available: Callable[[], object], may: Callable[[object], bool] | None = None,
                refused: Callable[[object], object] | None = None):
    """The page of one record: "not available" unless the viewer is an active partner and
    `get(session, viewer, id)` finds it; `refused(view)` if `may(view)` is false; otherwise
    `render(view, load(session, viewer, id, view))`, what `load` returns read in the same session."""
    record = parts.parse_id(raw_id)
    if not viewer.is_partner or record is None:
        return not_available()
    with get_db().session() as session:
        view = get(session, viewer, record)
        if view is None:
            return not_available()
        if may is not None and not may(view):
            return refused(view)
        loaded = load(session, viewer, record, view)
    return render(view, loaded)


def copy_button(app, prefix: str, noun: str) -> None:
    """The "Copy" button beside a value shown once (`<prefix>-new-value`): copies it in the
    browser (it never goes back to the server) and says so in `<prefix>-copy-status`."""
    app.clientside_callback(
        """
        function(clicks) {
            if (!clicks) { return window.dash_clientside.no_update; }
            var field = document.getElementById('PREFIX-new-value');
            if (!field) { return window.dash_clientside.no_update; }
            var copied = 'Copied. Paste it where it is needed, then hide it.';
            var manual = 'Copying is not allowed here: select the NOUN in the field and copy it yourself.';
            if (navigator.clipboard && window.isSecureContext) {
                return navigator.clipboard.writeText(field.value).then(function() { return copied; },
                                                                       function() { return manual; });
            }
            field.focus();
            field.select();
            try { return document.execCommand('copy') ? copied : manual; } catch (e) { return manual; }
        }
        """.replace("PREFIX", prefix).replace("NOUN", noun),
        Output(f"{prefix}-copy-status", "children"),
        Input(f"{prefix}-copy", "n_clicks"),
        prevent_initial_call=True,
    )


def focus_when_shown(app, sink_id: str, targets: Sequence[tuple[str, str, str]]) -> None:
    """Move focus where a change appears: for each (component id, property, id to focus), when
    that property changes to something (an error summary's children, a flag set), focus moves to
    the element to focus, so keyboard and screen-reader users land where the change is. Needs a
    `sink_id` element for the clientside callback's output."""
    watched = [f"{component}.{prop}" for component, prop, _focus in targets]
    app.clientside_callback(
        """
        function() {
            var values = Array.prototype.slice.call(arguments);
            var watched = WATCHED, focus = FOCUS;
            var changed = (window.dash_clientside.callback_context.triggered || []).map(function(t) {
                return t.prop_id;
            });
            for (var at = 0; at < watched.length; at++) {
                var value = values[at];
                if (changed.indexOf(watched[at]) >= 0 && value &&
                        (value.length === undefined || value.length > 0)) {
                    var target = focus[at];
                    setTimeout(function() {
                        var el = document.getElementById(target);
                        if (el && !el.hidden) { el.focus(); }
                    }, 50);
                    break;
                }
            }
            return window.dash_clientside.no_update;
        }
        """.replace("WATCHED", json.dumps(watched)).replace("FOCUS", json.dumps([f for _c, _p, f in targets])),
        Output(sink_id, "children"),
        *(Input(component, prop) for component, prop, _focus in targets),
        prevent_initial_call=True,
    )


def focus_on_change(app, prefix: str) -> None:
    """Move focus to `<prefix>-form-errors` when the error summary appears, and to
    `<prefix>-form-heading` when an edit starts (`<prefix>-editing` is set). Needs a
    `<prefix>-focus-sink` element."""
    focus_when_shown(app, f"{prefix}-focus-sink", [
        (f"{prefix}-form-errors", "children", f"{prefix}-form-errors"),
        (f"{prefix}-editing", "data", f"{prefix}-form-heading"),
    ])


NOT_OPENED = "Open the {noun} from its page and say why you are opening it, then edit it there."


# --- asking why a restricted record is opened (the incident and assessment pages) -------------------------


def session_token() -> str | None:
    """The signed-in session's token: when the session started says whether a reason was given."""
    return getattr(current_user, "token", None)


def opened_page(viewer, raw_id, *, record_type: str, get: Callable, show: Callable, ask: Callable,
                not_available: Callable[[], object], may: Callable[[object], bool] | None = None,
                refused: Callable[[object], object] | None = None):
    """A record's page as record_forms.loaded_page gives it (`get`, `may`, `refused`,
    `not_available` as there), asking first: `ask(view)` (the question, nothing of the record)
    when the viewer must say why they open it; otherwise `show(session, view)`, a restricted
    record's view then audited (record_views.may_open)."""

    def load(session, who, _record, view):
        if not record_views.may_open(session, who, record_type, view, token=session_token(),
                                     ip_address=client_address()):
            return ask(view)
        return show(session, view)

    return loaded_page(viewer, raw_id, get=get, load=load, render=lambda _view, page: page,
                             not_available=not_available, may=may, refused=refused)


def _view_messages(prefix: str, errors: Mapping[str, str] | None = None) -> dict:
    """The question's error summary, each field's error and the text box's invalid flag."""
    ask = f"{prefix}-view"
    errors = dict(errors or {})
    targets = {"choice": parts.link_target(f"{ask}-reason", True, [1]), "other": f"{ask}-other"}
    return {
        "summary": parts.error_summary(errors, targets, f"{ask}-errors-title") if errors else [],
        "summary_hidden": not errors,
        "error_choice": parts.field_error(errors.get("choice")),
        "error_other": parts.field_error(errors.get("other")),
        "invalid_other": "other" in errors,
    }


def register_view_reason(app: dash.Dash, prefix: str, record_type: str, *,
                         show: Callable[[object, object, object, str, Mapping], object],
                         not_available: Callable[[], object]) -> None:
    """The callbacks of the question a restricted record's page asks (layouts.record_parts.view_reason_page):
    the text box shown for "Another reason"; "Open the record", which re-checks the viewer and the
    access gate, audits the view with the reason and only then sends `show(session, viewer, view,
    page, request)` ("record" or "edit" page); and focus: to the error summary, or to the heading
    of what is shown."""
    ask = f"{prefix}-view"
    app.clientside_callback(
        f"function(choice) {{ return choice !== {json.dumps(record_views.OTHER)}; }}",
        Output(f"{ask}-other-block", "hidden"),
        Input(f"{ask}-reason", "value"),
        prevent_initial_call=True,
    )
    outputs = {
        "ask": Output(f"{ask}-ask", "children"),
        "record": Output(f"{ask}-record", "children"),
        "edit": Output(f"{ask}-edit", "children"),
        "summary": Output(f"{ask}-errors", "children"),
        "summary_hidden": Output(f"{ask}-errors", "hidden"),
        "error_choice": Output(parts.error_id(f"{ask}-reason"), "children"),
        "error_other": Output(parts.error_id(f"{ask}-other"), "children"),
        "invalid_other": Output(f"{ask}-other", "invalid"),
    }

    @app.callback(
        output=outputs,
        inputs={"clicks": Input(f"{ask}-open", "n_clicks")},
        state={"request": State(f"{ask}-request", "data"), "choice": State(f"{ask}-reason", "value"),
               "other": State(f"{ask}-other", "value")},
        prevent_initial_call=True,
    )
    def open_record(clicks, request, choice, other):
        viewer = partner_viewer()
        if not clicked() or not isinstance(request, dict):
            raise PreventUpdate
        page = "edit" if request.get("page") == "edit" else "record"
        out = {key: no_update for key in outputs}
        try:
            with get_db().session() as session:
                view = record_views.open_with_reason(
                    session, viewer, record_type, request.get("id"), choice, other, ip_address=client_address(),
                    shown=(lambda v: v.can_edit) if page == "edit" else None,
                )
                content = not_available() if view is None else show(session, viewer, view, page, request)
        except record_views.ReasonError as error:
            return out | _view_messages(prefix, {error.field: error.message})
        # The question goes (its errors with it); what was asked for takes its place.
        return out | {"summary": [], "summary_hidden": True, "ask": [], page: content}

    focus_when_shown(app, f"{ask}-focus-sink", [
        (f"{ask}-errors", "children", f"{ask}-errors"),
        (f"{ask}-record", "children", f"{prefix}-title"),
        (f"{ask}-edit", "children", f"{prefix}-form-heading"),
    ])
