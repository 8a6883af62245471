"""Incident register callbacks: the grid's pages (sorted, filtered and searched on the server),
the shared filters and the address bar, export and import, for the signed-in partner."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import date

import dash
from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from flask import current_app, has_request_context, request

from dashboard import exports, imports
from dashboard import register as reg
from dashboard.access import PARTNERSHIP_ROLES
from dashboard.filters import FilterError, FilterState, query_params, vocabulary
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import filters as filters_layout
from layouts import incident_register as layout
from layouts import record_parts as parts

from .common import chosen as selected
from .common import require_viewer

REGISTER_ROLES = PARTNERSHIP_ROLES
FILTER_IDS = ("period", "start", "end", "categories", "strands", "verification", "markings", "organisations")
MEGABYTE = 1024 * 1024
# What a callback request carries besides the file (its JSON, the other values): kept free
# when working out how large a file fits in one request.
REQUEST_OVERHEAD = 64 * 1024


def today() -> date:
    return date.today()


def upload_limit() -> int:
    """The largest file the page accepts: the import's own limit, or less when the server's
    request limit could not carry it (a file travels base64-encoded, a third larger)."""
    limit = imports.MAX_BYTES
    request_max = current_app.config.get("MAX_CONTENT_LENGTH") if has_request_context() else None
    if request_max:
        fits = (int(request_max) - REQUEST_OVERHEAD) * 3 // 4
        if fits < limit:
            limit = max(MEGABYTE, fits // MEGABYTE * MEGABYTE)  # whole megabytes, as the page says
    return limit


def page(viewer, **query):
    """The register for active partners (the page guard already refuses other roles)."""
    if not viewer.is_partner:
        return layout.not_a_partner()
    with get_db().session() as session:
        vocab = vocabulary(session, viewer, today())
        codes = imports.accepted_values(session)
    state = FilterState.from_query(query, vocab, today())
    districts, search = layout.parse_view(query, vocab)
    return layout.layout(
        vocab, state, districts, search, reg.COLUMNS,
        is_admin=viewer.role == Role.ADMIN,
        template_columns=imports.TEMPLATE_COLUMNS,
        max_bytes=upload_limit(),
        max_rows=imports.MAX_ROWS,
        export_limit=exports.EXPORT_ROW_LIMIT,
        reason_min=exports.REASON_MIN_LENGTH,
        import_codes=codes,
    )


def _viewer():
    viewer = require_viewer(REGISTER_ROLES)
    if not viewer.is_partner:
        raise PreventUpdate
    return viewer


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _view(session, viewer, search: str | None) -> tuple[FilterState, list[str], str]:
    """The filters, districts and search the register-query store holds (the address bar's form)."""
    params = query_params(search)
    vocab = vocabulary(session, viewer, today())
    state = FilterState.from_query(params, vocab, today())
    districts, text = layout.parse_view(params, vocab)
    return state, districts, text


def _register_query(state: FilterState, districts, text: str, grid_request: dict | None) -> reg.RegisterQuery:
    filters = state.record_filters()
    if districts:
        filters = replace(filters, areas=tuple(districts))
    grid_request = grid_request if isinstance(grid_request, dict) else {}
    return reg.RegisterQuery.from_grid(
        filters, text, grid_request.get("sortModel"), grid_request.get("filterModel")
    )


def _grid_problem(error: reg.RegisterQueryError) -> dict[str, str]:
    """The error summary's entry for a query the register cannot answer, naming the column
    (the register's messages name it; one that does not is prefixed with it)."""
    label = "Search" if error.column == "search" else {c.id: c.label for c in reg.COLUMNS}.get(error.column, "")
    message = str(error)
    if label and label.lower() not in message.lower():
        message = f"{label}: {message}"
    return {error.column: message}


def _grid_targets(errors: dict[str, str]) -> dict[str, str]:
    return {name: ("register-search" if name == "search" else layout.GRID_ID) for name in errors}


def _decode_upload(contents: str) -> bytes:
    """The bytes of an uploaded file from dcc.Upload's data URL ("data:<type>;base64,<data>")."""
    _header, _, data = (contents or "").partition(",")
    if not data:
        raise ValueError("empty")
    return base64.b64decode(data, validate=True)


def _grid_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("register-query", "data"),
        Output("register-period", "value"),
        Output("register-start", "value"),
        Output("register-end", "value"),
        Output("register-start-error", "children"),
        Output("register-end-error", "children"),
        *[Input(f"register-{name}", "value") for name in FILTER_IDS],
        Input("register-districts", "value"),
        Input("register-search", "value"),
        Input("register-search", "n_submit"),
        Input("register-search-button", "n_clicks"),
        State("register-query", "data"),
    )
    def apply(period, start, end, categories, strands, verification, markings, organisations, districts,
              search, _submitted, _clicked, current):
        viewer = _viewer()
        if ctx.triggered_id in {"register-start", "register-end"}:
            period = "custom"  # the person typed dates: the preset no longer applies
        with get_db().session() as session:
            vocab = vocabulary(session, viewer, today())
        try:
            state = FilterState.from_controls(
                vocab, today(), preset=period, start=start, end=end, categories=categories, strands=strands,
                verification=verification, markings=markings, organisations=organisations,
            )
        except FilterError as error:
            start_error, end_error = filters_layout.date_errors(error)
            return no_update, "custom", no_update, no_update, start_error, end_error
        known = {code for code, _ in vocab.districts}
        chosen = [code for code in selected(districts) if isinstance(code, str) and code in known]
        text = layout.clean_search(search)
        query = layout.query_string(state, chosen, text)
        return (
            query if query != current else no_update,
            state.preset,
            state.start.isoformat(),
            state.end.isoformat(),
            "",
            "",
        )

    @app.callback(
        Output(layout.GRID_ID, "getRowsResponse"),
        Output("register-status", "children"),
        Output("register-errors", "children"),
        Output("register-errors", "hidden"),
        Input(layout.GRID_ID, "getRowsRequest"),
        State("register-query", "data"),
    )
    def rows(grid_request, search):
        viewer = _viewer()
        if not grid_request:
            raise PreventUpdate
        try:
            start = int(grid_request.get("startRow") or 0)
            end = int(grid_request.get("endRow") or start + layout.BLOCK_SIZE)
        except (TypeError, ValueError, AttributeError):
            raise PreventUpdate from None
        try:
            with get_db().session() as session:
                state, districts, text = _view(session, viewer, search)
                query = _register_query(state, districts, text, grid_request)
                found = reg.rows(session, viewer, query, start, end)
                total = None
                if start == 0:
                    total = found.last_row if found.last_row is not None else reg.count(session, viewer, query)
        except reg.RegisterQueryError as error:
            errors = _grid_problem(error)
            summary = layout.error_summary("register", errors, _grid_targets(errors))
            return {"rowData": [], "rowCount": 0}, "No incidents shown: see the problem above.", summary, False
        row_count = found.last_row if found.last_row is not None else (total if total is not None else -1)
        response = {"rowData": [layout.grid_row(r) for r in found.rows], "rowCount": row_count}
        if start != 0:
            return response, no_update, no_update, no_update
        return response, layout.status_text(total, query.search), [], True

    # Filters, districts or search changed (or incidents were imported): the grid asks for its
    # rows again from the first, through its own data source.
    app.clientside_callback(
        """
        function(query, refreshed) {
            var grids = window.dash_ag_grid;
            if (grids && grids.getApiAsync) {
                grids.getApiAsync('register-grid').then(function(api) {
                    api.ensureIndexVisible(0, 'top');
                    api.onFilterChanged();
                }).catch(function() {});
            }
            return window.dash_clientside.no_update;
        }
        """,
        Output("register-grid-sink", "children"),
        Input("register-query", "data"),
        Input("register-refresh", "data"),
        prevent_initial_call=True,
    )

    # Enter on a row of the grid opens its incident (the grid sets eventData; see layout.OPEN_ON_ENTER).
    app.clientside_callback(
        """
        function(event) {
            var id = event && event.data && event.data.open;
            if (typeof id === 'number' && isFinite(id)) { window.location.assign('/incidents/' + Math.floor(id)); }
            return window.dash_clientside.no_update;
        }
        """,
        Output("register-open-sink", "children"),
        Input(layout.GRID_ID, "eventData"),
        prevent_initial_call=True,
    )

    # Keep the address bar in step with the view, without reloading the page (no record data).
    app.clientside_callback(
        """
        function(search) {
            if (!search) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.pathname.replace(/\\/$/, '').slice(-9) !== '/register') {
                return window.dash_clientside.no_update;
            }
            if (url.search !== search) { window.history.replaceState(null, '', url.pathname + search); }
            return '';
        }
        """,
        Output("register-url-sink", "children"),
        Input("register-query", "data"),
    )


def _export_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("register-export-download", "data"),
        Output("register-export-errors", "children"),
        Output("register-export-errors", "hidden"),
        Output("register-export-reason-error", "children"),
        Output("register-export-format-error", "children"),
        Output("register-export-reason", "invalid"),
        Output("register-export-status", "children"),
        Input("register-export-button", "n_clicks"),
        State("register-export-format", "value"),
        State("register-export-reason", "value"),
        State(layout.GRID_ID, "getRowsRequest"),
        State("register-query", "data"),
        prevent_initial_call=True,
    )
    def export(clicks, fmt, reason, grid_request, search):
        viewer = _viewer()
        if not clicks:
            raise PreventUpdate

        def refused(errors: dict[str, str], problem: str | None = None):
            summary = layout.error_summary("register-export", errors, layout.EXPORT_TARGETS, problem)
            return (no_update, summary, False, parts.field_error(errors.get("reason")),
                    parts.field_error(errors.get("format")),
                    "reason" in errors, "")

        try:
            with get_db().session() as session:
                state, districts, text = _view(session, viewer, search)
                query = _register_query(state, districts, text, grid_request)
                made = exports.export_incidents(session, viewer, query, fmt, reason or "",
                                                ip_address=_client_address())
        except exports.ExportError as error:
            if error.field in layout.EXPORT_TARGETS:
                return refused({error.field: str(error)})
            return refused({}, str(error))
        except reg.RegisterQueryError as error:
            return refused({}, "The view cannot be exported: " + next(iter(_grid_problem(error).values())))
        return (
            dcc.send_bytes(made.content, made.filename, type=made.media_type),
            [],
            True,
            "",
            "",
            False,
            layout.export_done(made.rows, made.highest_marking, made.filename),
        )


def _import_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("register-template-download", "data"),
        Input("register-template-csv", "n_clicks"),
        Input("register-template-xlsx", "n_clicks"),
        prevent_initial_call=True,
    )
    def template(csv_clicks, xlsx_clicks):
        _viewer()
        if ctx.triggered_id == "register-template-xlsx" and xlsx_clicks:
            return dcc.send_bytes(
                imports.template_xlsx(), "incident-import-template.xlsx",
                type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        if ctx.triggered_id == "register-template-csv" and csv_clicks:
            return dcc.send_bytes(imports.template_csv(), "incident-import-template.csv", type="text/csv")
        raise PreventUpdate

    @app.callback(
        Output("register-import-report", "children"),
        Output("register-import-errors", "data"),
        Output("register-import-errors-button", "hidden"),
        Output("register-refresh", "data"),
        Input("register-upload", "contents"),
        State("register-upload", "filename"),
        State("register-refresh", "data"),
        prevent_initial_call=True,
    )
    def upload(contents, filename, refreshed):
        viewer = _viewer()
        if not contents:
            raise PreventUpdate
        name = str(filename or "upload")
        try:
            content = _decode_upload(contents)
        except (ValueError, binascii.Error):
            content = None
        with get_db().session() as session:
            if content is None:
                report = imports.refused_report(session, viewer, name, "The file could not be read: choose it again.",
                                                ip_address=_client_address())
            else:
                report = imports.import_incidents(session, viewer, name, content, ip_address=_client_address())
            names = dict(vocabulary(session, viewer, today()).districts)
        errors = None
        if report.errors or report.refused:
            errors = {
                "file_name": report.file_name, "rows": report.rows, "refused": report.refused,
                "error_count": report.error_count, "rows_with_errors": report.rows_with_errors,
                "errors": [[e.row, e.column, e.message] for e in report.errors],
            }
        changed = (refreshed or 0) + 1 if report.ok and report.imported else no_update
        return layout.import_report(report, names), errors, not report.errors, changed

    # A file the upload refuses (too large, or not .csv or .xlsx) never reaches the server: say
    # so on the page, where the report of an import appears.
    app.clientside_callback(
        """
        function(maxSize) {
            var state = window.dashboardRegisterUpload = window.dashboardRegisterUpload || {};
            state.maxSize = maxSize;
            if (state.listening) { return window.dash_clientside.no_update; }
            state.listening = true;
            function check(files) {
                if (!files || !files.length) { return; }
                var file = files[0], name = String(file.name || ''), message = null;
                if (!/\\.(csv|xlsx)$/i.test(name)) {
                    message = 'The file \u201c' + name + '\u201d was not imported: choose a .csv or .xlsx file.';
                } else if (state.maxSize > 0 && file.size > state.maxSize) {
                    message = 'The file \u201c' + name + '\u201d was not imported: it is ' +
                        (file.size / 1048576).toFixed(1) + ' MB, more than the ' +
                        Math.floor(state.maxSize / 1048576) + ' MB a file may be. Split it into smaller ' +
                        'files and import each.';
                }
                if (message) {
                    window.dash_clientside.set_props('register-import-report', {children: [{
                        type: 'Div', namespace: 'dash_html_components',
                        props: {children: message, className: 'error-summary mb-0'}
                    }]});
                }
            }
            function inUpload(event) {
                return event.target && event.target.closest && event.target.closest('#register-upload');
            }
            document.addEventListener('change', function(event) {
                if (inUpload(event) && event.target.files) { check(event.target.files); }
            }, true);
            document.addEventListener('drop', function(event) {
                if (inUpload(event) && event.dataTransfer) { check(event.dataTransfer.files); }
            }, true);
            return window.dash_clientside.no_update;
        }
        """,
        Output("register-upload", "className"),
        Input("register-upload", "max_size"),
    )

    @app.callback(
        Output("register-import-errors-download", "data"),
        Input("register-import-errors-button", "n_clicks"),
        State("register-import-errors", "data"),
        prevent_initial_call=True,
    )
    def error_list(clicks, stored):
        _viewer()
        if not clicks or not isinstance(stored, dict):
            raise PreventUpdate
        try:  # what the import stored; anything else is a forged request
            report = imports.ImportReport(
                file_name=str(stored.get("file_name") or ""),
                rows=int(stored.get("rows") or 0),
                imported=0,
                errors=[imports.RowError(int(r or 0), str(c or ""), str(m or ""))
                        for r, c, m in stored.get("errors") or []],
                refused=stored.get("refused"),
                mapped_codes=[],
                seconds=0.0,
                error_count=int(stored.get("error_count") or 0),
                rows_with_errors=int(stored.get("rows_with_errors") or 0),
            )
        except (TypeError, ValueError):
            raise PreventUpdate from None
        return dcc.send_bytes(imports.errors_csv(report), "import-errors.csv", type="text/csv")


def register(app: dash.Dash) -> None:
    _grid_callbacks(app)
    _export_callbacks(app)
    _import_callbacks(app)

    # Move focus to an error summary when it appears, and to an import's report, so that
    # keyboard and screen-reader users land where the news is.
    app.clientside_callback(
        """
        function(gridErrors, exportErrors, report) {
            var trig = (window.dash_clientside.callback_context.triggered || [])[0] || {};
            var targets = {
                'register-errors.children': gridErrors,
                'register-export-errors.children': exportErrors,
                'register-import-report.children': report
            };
            var id = trig.prop_id ? trig.prop_id.split('.')[0] : null;
            var content = targets[trig.prop_id];
            if (id && content && (!Array.isArray(content) || content.length)) {
                setTimeout(function() {
                    var el = document.getElementById(id);
                    if (el && !el.hidden) { el.focus(); }
                }, 50);
            }
            return window.dash_clientside.no_update;
        }
        """,
        Output("register-focus-sink", "children"),
        Input("register-errors", "children"),
        Input("register-export-errors", "children"),
        Input("register-import-report", "children"),
        prevent_initial_call=True,
    )
