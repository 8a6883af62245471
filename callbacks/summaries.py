"""National summaries callbacks: the filters (kept in the address bar) to the tables and charts,
and the downloads, each a thin line to `dashboard.summaries` / `dashboard.summary_exports` with
the signed-in viewer checked on the server. Every viewer gets the same published figures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import parse_qs

import dash
from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from dashboard import summaries, summary_exports
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import summaries as layout

from . import record_forms as forms
from .common import chosen, require_viewer
from .record_forms import clicked, client_address, focus_script

EVERYONE = frozenset(Role)
PARAMS = tuple(layout.CONTROL_IDS)  # "to", "quarters", "geography", "breakdown", "area", "category"
LISTS = {"area", "category"}


def today() -> date:
    return date.today()


def _viewer():
    """The signed-in viewer, if they may see the summaries; otherwise the callback does nothing."""
    viewer = require_viewer(EVERYONE)
    if not summaries.may_view(viewer):
        raise PreventUpdate
    return viewer


def _params(raw: Mapping) -> dict[str, str | list[str]]:
    """The summaries' own parameters from a query (anything else is left out)."""
    params: dict[str, str | list[str]] = {}
    for name in PARAMS:
        value = raw.get(name)
        if value is None:
            continue
        if name in LISTS:
            params[name] = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        else:
            params[name] = str(value[-1] if isinstance(value, (list, tuple)) and value else value)
    return params


def parse_view(raw: Mapping, day: date, choices) -> tuple[summaries.SummaryQuery, dict[str, str]]:
    """The view the address bar asks for, and the filters that could not be used (by field, with
    their messages); each of those is left at its default so that the page still shows figures."""
    params = _params(raw)
    errors: dict[str, str] = {}
    for _attempt in range(len(PARAMS) + 1):
        try:
            return summaries.query_from_params(params, day, vocabulary=choices), errors
        except summaries.SummaryError as error:
            field = error.field if error.field in PARAMS else ""
            errors[field or "query"] = layout.field_message(field, str(error))
            if field not in params:
                break
            params.pop(field)
    return summaries.query_from_params({}, day, vocabulary=choices), errors


def page(viewer, **query):
    """The national summaries for any active account (SCI also gets them at "/")."""
    if not summaries.may_view(viewer):
        return layout.not_allowed()
    day = today()
    with get_db().session() as session:
        choices = summaries.choices(session, day)
        view, errors = parse_view(query, day, choices)
        summary = summaries.build(session, viewer, view)
    return layout.layout(summary, choices, summary_exports.FORMAT_LABELS, errors)


def _filter_messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, layout.CONTROL_IDS, layout.CONTROL_SINGLE, layout.CONTROL_TARGETS,
                          layout.ERRORS_ID)


def _download_messages(errors=None, problem=None) -> dict:
    return forms.messages(errors, problem, layout.DOWNLOAD_IDS, layout.DOWNLOAD_SINGLE, layout.DOWNLOAD_TARGETS,
                          layout.DOWNLOAD_ERRORS_ID)


def refresh_view(viewer, to, quarters, geography, breakdown, areas, categories) -> dict:
    """The tables and charts for the filters as chosen, or the error summary naming the filter."""
    raw = {"to": to, "quarters": quarters, "geography": geography, "breakdown": breakdown,
           "area": chosen(areas), "category": chosen(categories)}
    raw = {k: v for k, v in raw.items() if v not in (None, "", [])}
    day = today()
    with get_db().session() as session:
        choices = summaries.choices(session, day)
        try:
            view = summaries.query_from_params(_params(raw), day, vocabulary=choices)
        except summaries.SummaryError as error:
            field = error.field if error.field in PARAMS else ""
            message = layout.field_message(field, str(error))
            return _filter_messages({field: message} if field else None, None if field else message)
        summary = summaries.build(session, viewer, view)
    return _filter_messages() | {"query": layout.query_string(view), "results": layout.results(summary)}


def download(viewer, fmt, reason, search) -> dict:
    """Make the file for the view in the address bar, or say which field is wrong."""
    raw = {key: values for key, values in parse_qs(str(search or "").lstrip("?")).items()}
    day = today()
    try:
        with get_db().session() as session:
            choices = summaries.choices(session, day)
            view = summaries.query_from_params(_params(raw), day, vocabulary=choices)
            summary = summaries.build(session, viewer, view)
            made = summary_exports.export_summary(session, viewer, summary, str(fmt or ""), str(reason or ""),
                                                  ip_address=client_address())
    except summary_exports.SummaryExportError as error:
        if error.field in layout.DOWNLOAD_IDS:
            return _download_messages({error.field: str(error)}) | {"status": ""}
        return _download_messages(problem=str(error)) | {"status": ""}
    except summaries.SummaryError as error:
        return _download_messages(problem="Nothing was downloaded: "
                                  + layout.field_message(error.field, str(error))) | {"status": ""}
    except PermissionError:
        return _download_messages(problem="Nothing was downloaded: your account may not download the "
                                          "summaries.") | {"status": ""}
    return _download_messages() | {
        "file": dcc.send_bytes(made.content, made.filename, type=made.mimetype),
        "status": layout.download_done(made.filename, summary.marking),
    }


def register(app: dash.Dash) -> None:
    filter_outputs = {
        **forms.message_outputs(layout.CONTROL_IDS, layout.CONTROL_SINGLE, layout.ERRORS_ID),
        "query": Output(layout.QUERY_STORE, "data"),
        "results": Output(layout.RESULTS_ID, "children"),
    }

    @app.callback(
        output=filter_outputs,
        inputs={name: Input(i, "value") for name, i in layout.CONTROL_IDS.items()},
        prevent_initial_call=True,
    )
    def refresh(to, quarters, geography, breakdown, area, category):
        viewer = _viewer()
        out = {key: no_update for key in filter_outputs}
        return out | refresh_view(viewer, to, quarters, geography, breakdown, area, category)

    download_outputs = {
        **forms.message_outputs(layout.DOWNLOAD_IDS, layout.DOWNLOAD_SINGLE, layout.DOWNLOAD_ERRORS_ID),
        "file": Output("summaries-download", "data"),
        "status": Output("summaries-download-status", "children"),
    }

    @app.callback(
        output=download_outputs,
        inputs={"clicks": Input("summaries-download-button", "n_clicks")},
        state={
            "fmt": State(layout.DOWNLOAD_IDS["format"], "value"),
            "reason": State(layout.DOWNLOAD_IDS["reason"], "value"),
            "search": State(layout.QUERY_STORE, "data"),
        },
        prevent_initial_call=True,
    )
    def make_file(clicks, fmt, reason, search):
        viewer = _viewer()
        if not clicked():
            raise PreventUpdate
        out = {key: no_update for key in download_outputs}
        return out | download(viewer, fmt, reason, search)

    # Move focus to an error summary when it appears, so keyboard and screen-reader users land on it.
    app.clientside_callback(
        focus_script(layout.DOWNLOAD_ERRORS_ID),
        Output("summaries-focus-sink", "children"),
        Input(layout.DOWNLOAD_ERRORS_ID, "children"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        focus_script(layout.ERRORS_ID),
        Output("summaries-focus-sink", "children", allow_duplicate=True),
        Input(layout.ERRORS_ID, "children"),
        prevent_initial_call=True,
    )

    # Keep the address bar in step with the view, without reloading the page (choices only, no
    # record data). The page is at /summaries, and at / for the national team.
    app.clientside_callback(
        """
        function(search) {
            if (search === undefined || search === null) { return window.dash_clientside.no_update; }
            if (!document.getElementById('summaries-page')) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.search !== search) { window.history.replaceState(null, '', url.pathname + search); }
            return '';
        }
        """,
        Output("summaries-url-sink", "children"),
        Input(layout.QUERY_STORE, "data"),
    )
