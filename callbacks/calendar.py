"""Trigger calendar callbacks: the lists and their filters, the event form, edit and delete."""

from __future__ import annotations

from datetime import date

import dash
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashboard import calendar as cal
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.reference import TriggerKind
from dashboard.web import get_db
from layouts import calendar as layout
from layouts import record_parts as parts

from .common import chosen, require_viewer
from .record_forms import ask_to_confirm, confirmed_delete, focus_on_change

CALENDAR_ROLES = PARTNERSHIP_ROLES
FIELDS = layout.FIELD_TARGETS
AREAS = {"type": layout.AREAS_TYPE, "force": ALL}


def today() -> date:
    return date.today()


def page(viewer, **_query):
    """The calendar for active partners (the page guard already refuses other roles)."""
    if not viewer.is_partner:
        return layout.not_a_partner()
    with get_db().session() as session:
        groups = cal.district_groups(session)
    return layout.layout(groups)


def _viewer():
    viewer = require_viewer(CALENDAR_ROLES)
    if not viewer.is_partner:
        raise PreventUpdate
    return viewer


def _clicked() -> bool:
    """Whether the callback was started by a real click (not by buttons being drawn anew)."""
    return any(t.get("value") for t in ctx.triggered)


def _blank_form(groups: int) -> dict:
    return {
        "kind": "", "title": "", "start": "", "end": "", "region": [], "areas": [[] for _ in range(groups)],
        "notes": "", "editing": None, "heading": "Add an event", "save_label": "Add event", "cancel_hidden": True,
    }


def _filled_form(event: cal.CalendarEvent, options: list[list[dict]]) -> dict:
    codes = set(event.area_codes)
    return {
        "kind": event.kind,
        "title": event.title,
        "start": event.starts_on.isoformat(),
        "end": event.ends_on.isoformat() if event.ends_on != event.starts_on else "",
        "region": [layout.REGION_WIDE] if event.region_wide else [],
        "areas": [[o["value"] for o in group if o["value"] in codes] for group in options],
        "notes": event.notes,
        "editing": {"id": event.id, "version": event.version},
        "heading": f"Edit event: {event.title}",
        "save_label": "Save changes",
        "cancel_hidden": False,
    }


def _messages(errors: dict[str, str] | None = None, problem: str | None = None) -> dict:
    """The error summary, each field's own error and its invalid flag."""
    errors = errors or {}
    out = {
        "summary": layout.error_summary(errors, problem) if (errors or problem) else [],
        "summary_hidden": not (errors or problem),
    }
    for name in layout.FIELD_TARGETS:
        out[f"error_{name}"] = parts.field_error(errors.get(name))
    for name in ("kind", "title", "starts_on", "ends_on", "notes"):
        out[f"invalid_{name}"] = name in errors
    return out


def _client_address() -> str | None:
    return request.remote_addr if request else None


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("calendar-upcoming", "children"),
        Output("calendar-table", "children"),
        Input("calendar-filter-kind", "value"),
        Input("calendar-filter-area", "value"),
        Input("calendar-filter-past", "value"),
        Input("calendar-changed", "data"),
    )
    def lists(kind, area, past, _changed):
        viewer = _viewer()
        kinds = {k.value for k in TriggerKind}
        include_past = layout.SHOW_PAST in chosen(past)
        filters = cal.ListFilters(
            kind=kind if isinstance(kind, str) and kind in kinds else None,
            area_code=str(area) if area and area != layout.ANY else None,
            include_past=include_past,
        )
        day = today()
        with get_db().session() as session:
            soon = cal.upcoming(session, viewer, day)
            listing = cal.list_events(session, viewer, day, filters)
        return layout.upcoming_list(soon, day), layout.events_table(listing, day, include_past)

    form_outputs = {
        "kind": Output(FIELDS["kind"], "value"),
        "title": Output(FIELDS["title"], "value"),
        "start": Output(FIELDS["starts_on"], "value"),
        "end": Output(FIELDS["ends_on"], "value"),
        "region": Output("calendar-form-region-wide", "value"),
        "areas": Output(AREAS, "value"),
        "notes": Output(FIELDS["notes"], "value"),
        "editing": Output("calendar-editing", "data"),
        "heading": Output("calendar-form-heading", "children"),
        "save_label": Output("calendar-form-save", "children"),
        "cancel_hidden": Output("calendar-form-cancel", "hidden"),
        "summary": Output("calendar-form-errors", "children"),
        "summary_hidden": Output("calendar-form-errors", "hidden"),
        **{f"error_{name}": Output(error_id, "children") for name, error_id in layout.ERROR_IDS.items()},
        **{f"invalid_{name}": Output(FIELDS[name], "invalid") for name in ("kind", "title", "starts_on", "ends_on", "notes")},
        "status": Output("calendar-status", "children"),
        "changed": Output("calendar-changed", "data"),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "edit_clicks": Input({"type": layout.EDIT_TYPE, "index": ALL}, "n_clicks"),
            "save_clicks": Input("calendar-form-save", "n_clicks"),
            "cancel_clicks": Input("calendar-form-cancel", "n_clicks"),
        },
        state={
            "kind": State(FIELDS["kind"], "value"),
            "title": State(FIELDS["title"], "value"),
            "start": State(FIELDS["starts_on"], "value"),
            "end": State(FIELDS["ends_on"], "value"),
            "region": State("calendar-form-region-wide", "value"),
            "areas": State(AREAS, "value"),
            "area_options": State(AREAS, "options"),
            "notes": State(FIELDS["notes"], "value"),
            "editing": State("calendar-editing", "data"),
            "changed": State("calendar-changed", "data"),
        },
        prevent_initial_call=True,
    )
    def form(edit_clicks, save_clicks, cancel_clicks, kind, title, start, end, region, areas, area_options,
             notes, editing, changed):
        viewer = _viewer()
        if not _clicked():
            raise PreventUpdate
        groups = len(area_options or [])
        out = {key: no_update for key in form_outputs} | {"areas": [no_update] * groups}
        trigger = ctx.triggered_id

        if trigger == "calendar-form-cancel":
            return out | _blank_form(groups) | _messages() | {"status": "Editing cancelled; the event was not changed."}

        if isinstance(trigger, dict) and trigger.get("type") == layout.EDIT_TYPE:
            with get_db().session() as session:
                event = cal.get_event(session, viewer, int(trigger["index"]))
            if event is None or not event.can_edit:
                return out | _messages(problem=str(cal.EventNotFoundError())) | {"changed": (changed or 0) + 1}
            return out | _filled_form(event, area_options or []) | _messages() | {
                "status": f"Editing {layout.event_summary(event)}: change the form, then choose \u201cSave changes\u201d."
            }

        if trigger != "calendar-form-save":
            raise PreventUpdate
        submitted = cal.EventForm(
            kind=kind,
            title=title,
            starts_on=start,
            ends_on=end,
            region_wide=layout.REGION_WIDE in (region or []),
            area_codes=[code for group in (areas or []) for code in (group or [])],
            notes=notes,
        )
        try:
            with get_db().session() as session:
                if editing:
                    saved = cal.update_event(session, viewer, int(editing["id"]), int(editing["version"]), submitted,
                                             ip_address=_client_address())
                    verb = "Saved changes to"
                else:
                    saved = cal.create_event(session, viewer, submitted, ip_address=_client_address())
                    verb = "Added"
        except cal.EventValidationError as error:
            return out | _messages(error.errors) | {"status": ""}
        except (cal.StaleEventError, cal.EventNotFoundError, cal.EventPermissionError) as error:
            # The list is redrawn so that it shows the event as it now is.
            return out | _messages(problem=str(error)) | {"status": "", "changed": (changed or 0) + 1}
        return out | _blank_form(groups) | _messages() | {
            "status": f"{verb} {layout.event_summary(saved)}.",
            "changed": (changed or 0) + 1,
        }

    @app.callback(
        Output("calendar-delete-confirm", "displayed"),
        Output("calendar-delete-confirm", "message"),
        Output("calendar-pending-delete", "data"),
        Input({"type": layout.DELETE_TYPE, "index": ALL, "version": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_delete(_clicks):
        return ask_to_confirm(
            _viewer(), cal.get_event, lambda event: event.can_edit,
            lambda event: (
                f"Delete {layout.event_summary(event)}? It will no longer appear in the calendar or on "
                "the trend charts."
            ),
        )

    @app.callback(
        Output("calendar-status", "children", allow_duplicate=True),
        Output("calendar-changed", "data", allow_duplicate=True),
        Output("calendar-pending-delete", "data", allow_duplicate=True),
        Output("calendar-form-errors", "children", allow_duplicate=True),
        Output("calendar-form-errors", "hidden", allow_duplicate=True),
        Input("calendar-delete-confirm", "submit_n_clicks"),
        State("calendar-pending-delete", "data"),
        State("calendar-changed", "data"),
        prevent_initial_call=True,
    )
    def confirm_delete(submitted, pending, changed):
        return confirmed_delete(
            _viewer(), submitted, pending, changed, cal.delete_event, failed=cal.CalendarError,
            problem=lambda error: layout.error_summary({}, f"The event was not deleted. {error}"),
            done=lambda title: f"Deleted \u201c{title}\u201d.",
        )

    # Focus follows the change: the error summary when it appears, the form when an edit starts.
    focus_on_change(app, "calendar")
