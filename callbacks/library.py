"""The good practice library's pages: the search (kept in the address bar), one resource (with
delete for those who may change it), and the form to add or change a resource, with the version
check and the side-by-side comparison when someone else saved first. Every callback checks the
signed-in viewer on the server; `dashboard.library` checks again who may add and change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import SimpleNamespace

import dash
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard import library
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import library as layout
from layouts import record_parts as parts

from . import record_forms as forms
from .common import require_viewer
from .meetings import conflict_rows, save_with_check
from .record_forms import client_address, focus_script

EVERYONE = frozenset(Role)
FIELDS = layout.FIELD_IDS
DONE = {
    "created": "The resource was added to the library.",
    "updated": "Your changes were saved.",
}


def today() -> date:
    return date.today()


def reader_viewer():
    """The signed-in viewer, if an active account (every role reads the library); otherwise the
    callback does nothing."""
    viewer = require_viewer(EVERYONE)
    if not viewer.active:
        raise PreventUpdate
    return viewer


# --- page loaders ---------------------------------------------------------------------------------------


def _search(session, viewer, params: Mapping) -> tuple:
    """The search the parameters ask for (checked against the viewer's choices), its page of
    results and how many match; a page past the end shows the last page."""
    choices = library.search_choices(session, viewer)
    query = library.query_from_params(params, choices)
    rows, total = library.search(session, viewer, query, limit=library.PAGE_SIZE,
                                 offset=(query.page - 1) * library.PAGE_SIZE)
    last = max(1, -(-total // library.PAGE_SIZE))
    if query.page > last:
        query = library.LibraryQuery(query.text, query.kind, query.topic, query.area, last)
        rows, total = library.search(session, viewer, query, limit=library.PAGE_SIZE,
                                     offset=(last - 1) * library.PAGE_SIZE)
    return choices, query, rows, total


def list_page(viewer, deleted=None, **query):
    if not viewer.active:
        return layout.not_available()
    with get_db().session() as session:
        choices, chosen, rows, total = _search(session, viewer, query)
    record = parts.parse_id(deleted)
    status = f"Resource #{record} was deleted from the library." if record else ""
    return layout.list_page(chosen, choices, rows, total, may_add=library.may_add(viewer),
                            is_partner=viewer.is_partner, status=status)


def record_page(viewer, resource_id=None, done=None, **_query):
    """One resource for any active account (the gate decides), or "not available" (the same
    answer for a missing resource and one the viewer may not read)."""
    record = parts.parse_id(resource_id)
    if record is None or not viewer.active:
        return layout.not_available()
    with get_db().session() as session:
        view = library.get_resource(session, viewer, record)
    if view is None:
        return layout.not_available()
    return layout.record_page(view, is_partner=viewer.is_partner, status=DONE.get(str(done or ""), ""))


def new_page(viewer, **_query):
    if not library.may_add(viewer):
        return layout.not_a_partner("Add a resource")
    with get_db().session() as session:
        choices = library.form_choices(session, viewer)
    return layout.form_page(choices, today=today())


def saved_form(view: library.ResourceView) -> SimpleNamespace:
    """The form's values for a resource as saved."""
    return SimpleNamespace(kind=view.kind, title=view.title, summary=view.summary, topic=view.topic,
                           link=view.link or "", published_on=view.published_on,
                           areas=[code for code, _name in view.areas])


def edit_page(viewer, resource_id=None, **_query):
    return forms.loaded_page(
        viewer, resource_id,
        get=library.get_resource,
        may=lambda view: view.can_change,
        refused=layout.cannot_change,
        load=lambda session, who, _record, _view: library.form_choices(session, who),
        render=lambda view, choices: layout.form_page(choices, saved_form(view), editing=view, today=today()),
        not_available=layout.not_available,
    )


# --- the form ---------------------------------------------------------------------------------------------


def submitted_form(values: Mapping) -> dict:
    """The form as typed (the domain checks it)."""
    areas = values.get("areas") or []
    return {
        "kind": values.get("kind") or "",
        "title": values.get("title") or "",
        "summary": values.get("summary") or "",
        "topic": values.get("topic") or "",
        "link": values.get("link") or "",
        "published_on": values.get("published_on") or "",
        "areas": [str(a) for a in (areas if isinstance(areas, list) else [areas])],
    }


def form_texts(form: Mapping, names: Mapping[str, str]) -> dict[str, str]:
    """A resource's fields as people read them (for the side-by-side comparison)."""
    published = form.get("published_on")
    if not isinstance(published, date):
        try:
            published = date.fromisoformat(str(published or ""))
        except ValueError:
            published = str(published or "")
    codes = [str(c) for c in form.get("areas") or []]
    return library.texts({
        **{key: form.get(key) for key in ("title", "summary", "topic", "link")},
        "kind": form.get("kind") if form.get("kind") in library.KIND_LABELS else "",
        "published_on": published,
        "areas": sorted(((c, names.get(c, c)) for c in codes), key=lambda p: p[1]),
    })


def _messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, FIELDS, layout.SINGLE, layout.FIELD_TARGETS, "resource-form-errors")


def save(viewer, values: Mapping, record, version) -> dict:
    """Save the form (add or edit) and say what happened, as the form callback's outputs."""
    form = submitted_form(values)

    def write(session) -> str:
        if record is None:
            saved = library.create(session, viewer, form, ip_address=client_address(), today=today())
            return f"/library/{saved}?done=created"
        library.edit(session, viewer, int(record), form, int(version), ip_address=client_address(), today=today())
        return f"/library/{int(record)}?done=updated"

    def compare(current: library.ResourceView) -> tuple[list, str, object]:
        with get_db().session() as session:
            names = dict(library.districts(session))
        rows = conflict_rows(library.FIELD_LABELS, form_texts(form, names), library.texts(library.view_values(current)))
        who = f"someone at {current.updated_by_organisation}" if current.updated_by_organisation else ""
        return rows, who, current.updated_at

    return save_with_check(write, _messages, invalid=library.ResourceValidationError,
                           conflict=library.ResourceConflictError, failed=library.LibraryError,
                           kind=layout.KIND, conflict_id="resource-conflict", compare=compare)


def _discard(viewer, record: int) -> dict:
    """The form as the resource is saved now (the person dropped their changes)."""
    with get_db().session() as session:
        view = library.get_resource(session, viewer, record)
    if view is not None and not view.can_change:
        view = None
    return forms.discarded(view, saved_form, FIELDS, layout.GROUPS, _messages,
                           missing=str(library.ResourceNotFoundError()), noun="resource")


def register(app: dash.Dash) -> None:
    _search_callbacks(app)
    _form_callbacks(app)
    _record_callbacks(app)


def _search_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("library-results", "children"),
        Output("library-count", "children"),
        Output("library-query", "data"),
        Input(layout.SEARCH_BUTTON, "n_clicks"),
        Input(layout.SEARCH_IDS["text"], "n_submit"),
        Input(layout.SEARCH_IDS["kind"], "value"),
        Input(layout.SEARCH_IDS["topic"], "value"),
        Input(layout.SEARCH_IDS["area"], "value"),
        State(layout.SEARCH_IDS["text"], "value"),
        prevent_initial_call=True,
    )
    def refresh(_clicks, _submitted, kind, topic, area, text):
        viewer = reader_viewer()
        chosen = {"kind": kind, "topic": topic, "area": area}
        params = {"text": text, **{k: "" if v == layout.ANY else v for k, v in chosen.items()}}  # at page 1
        with get_db().session() as session:
            _choices, query, rows, total = _search(session, viewer, params)
        return (layout.results(query, rows, total, viewer.is_partner),
                layout.count_text(query, len(rows), total), query.query_string())

    # Keep the address bar in step with the search, without reloading the page (no record data).
    app.clientside_callback(
        """
        function(search) {
            if (search === undefined || search === null) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.pathname.replace(/\\/$/, '') !== '/library') { return window.dash_clientside.no_update; }
            if (url.search !== search) { window.history.replaceState(null, '', url.pathname + search); }
            return '';
        }
        """,
        Output("library-url-sink", "children"),
        Input("library-query", "data"),
    )


def _form_callbacks(app: dash.Dash) -> None:
    form_outputs = {
        **{f"value_{name}": Output(i, "value") for name, i in FIELDS.items()},
        **forms.message_outputs(FIELDS, layout.SINGLE, "resource-form-errors"),
        **forms.form_state_outputs(layout.PREFIX),
    }

    @app.callback(
        output=form_outputs,
        inputs={
            "save_clicks": Input("resource-form-save", "n_clicks"),
            "overwrite_clicks": Input("resource-conflict-overwrite", "n_clicks"),
            "discard_clicks": Input("resource-conflict-discard", "n_clicks"),
        },
        state={
            "values": {name: State(i, "value") for name, i in FIELDS.items()},
            "record": State("resource-form-record", "data"),
            "version": State("resource-form-version", "data"),
            "conflict_version": State("resource-conflict-version", "data"),
        },
        prevent_initial_call=True,
    )
    def form(save_clicks, overwrite_clicks, discard_clicks, values, record, version, conflict_version):
        # Only partners write (the national team reads): refused here, and again in the domain.
        return forms.form_action(
            layout.PREFIX, form_outputs, record, version, conflict_version, discard=_discard,
            save=lambda viewer, version: save(viewer, values, record, version),
        )

    app.clientside_callback(
        focus_script("resource-form-errors"),
        Output("resource-focus-sink", "children"),
        Input("resource-form-errors", "children"),
        prevent_initial_call=True,
    )


def _record_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("resource-delete-dialog", "is_open"),
        Input("resource-delete", "n_clicks"),
        Input("resource-delete-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def delete_dialog(_open, _cancel):
        return forms.delete_dialog_open("resource-delete")

    @app.callback(
        Output("resource-redirect", "href", allow_duplicate=True),
        Output("resource-delete-error", "children"),
        Input("resource-delete-confirm", "n_clicks"),
        State("resource-delete-reason", "value"),
        State("resource-record", "data"),
        prevent_initial_call=True,
    )
    def delete(_clicks, reason, record):
        return forms.delete_record(record, reason, library.delete, failed=library.LibraryError,
                                   not_deleted="The resource was not deleted.", redirect="/library?deleted=")
