"""Regional overview callbacks: filters to map, figures, table and drill-down, for the viewer."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import overview as ov
from dashboard import surges
from dashboard.filters import FilterError, FilterState, query_params, vocabulary
from dashboard.reference import Role
from dashboard.web import extension, get_db
from layouts import filters as filters_layout
from layouts import maps
from layouts import my_access as access_layout
from layouts import overview as layout

from .common import require_viewer
from .summaries import page as national_summaries

MAP_ROLES = {Role.MEMBER, Role.CHAIR, Role.ADMIN}
FILTER_INPUTS = [
    Input("overview-period", "value"),
    Input("overview-start", "value"),
    Input("overview-end", "value"),
    Input("overview-categories", "value"),
    Input("overview-strands", "value"),
    Input("overview-verification", "value"),
    Input("overview-markings", "value"),
    Input("overview-organisations", "value"),
]


def today() -> date:
    return date.today()


def page(viewer, **query):
    """The overview for partners; the national team has no record-level map (aggregates only),
    so it gets the national summaries here instead."""
    if viewer.role == Role.SCI:
        return national_summaries(viewer, **query)
    if viewer.role not in MAP_ROLES:
        return access_layout.layout(viewer)
    tiles = extension().settings.map_tiles_url
    with get_db().session() as session:
        vocab = vocabulary(session, viewer, today())
    districts = vocab.districts
    state = FilterState.from_query(query, vocab, today())
    view = layout.parse_view(query)
    if view["area"] not in {code for code, _ in districts}:
        view["area"] = ""
    figure = maps.base_figure(view["geography"], tiles)
    return layout.layout(viewer, vocab, state, view, districts, figure, tiles is not None)


def _state(session, viewer, period, start, end, categories, strands, verification, markings, organisations):
    vocab = vocabulary(session, viewer, today())
    return FilterState.from_controls(
        vocab, today(), preset=period, start=start, end=end, categories=categories, strands=strands,
        verification=verification, markings=markings, organisations=organisations,
    )


def _from_query(viewer, query: str | None):
    """The filters and map choices from the view's query string (as the address bar has it)."""
    params = query_params(query)
    with get_db().session() as session:
        vocab = vocabulary(session, viewer, today())
    return FilterState.from_query(params, vocab, today()), layout.parse_view(params)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("overview-map", "figure"),
        Output("overview-summary", "children"),
        Output("overview-legend", "children"),
        Output("overview-headline", "children"),
        Output("overview-query", "data"),
        Output("overview-period", "value"),
        Output("overview-start", "value"),
        Output("overview-end", "value"),
        Output("overview-start-error", "children"),
        Output("overview-end-error", "children"),
        *FILTER_INPUTS,
        Input("overview-geography", "value"),
        Input("overview-metric", "value"),
        Input("overview-layers", "value"),
        State("overview-area", "value"),
    )
    def refresh(period, start, end, categories, strands, verification, markings, organisations,
                geography, metric, layers, area):
        viewer = require_map_viewer()
        if ctx.triggered_id in {"overview-start", "overview-end"}:
            period = "custom"  # the person typed dates: the preset no longer applies
        try:
            geography, metric = ov.Geography(geography), ov.Metric(metric)
        except ValueError:
            raise PreventUpdate from None
        layers = [v for v in (layers or []) if v in {layout.LAYER_POINTS, layout.LAYER_TILES}]
        with get_db().session() as session:
            try:
                state = _state(session, viewer, period, start, end, categories, strands, verification,
                               markings, organisations)
            except FilterError as error:
                start_error, end_error = filters_layout.date_errors(error)
                return (no_update,) * 5 + ("custom", no_update, no_update, start_error, end_error)
            result = ov.area_overview(session, viewer, state.record_filters(), geography)
            head = ov.headline(session, viewer, result, today())
            # worked out only when the map is coloured by it (the table asks on its own)
            warning = (
                surges.early_warning(session, viewer, state.record_filters(), state.end, geography, by_category=False)
                if metric is ov.Metric.WARNING else None
            )
        tiles = extension().settings.map_tiles_url
        return (
            maps.map_patch(result, metric, tiles_url=tiles, tiles_on=layout.LAYER_TILES in layers, warning=warning),
            ov.summary_sentence(result, metric, warning),
            layout.LEGENDS[metric],
            layout.headline_cards(head),
            layout.query_string(state, geography.value, metric.value, layers, area),
            state.preset,
            state.start.isoformat(),
            state.end.isoformat(),
            "",
            "",
        )

    # The locations layer and the table are their own requests, so that the map's colours do
    # not wait for them (and the table is only computed while it is open).
    @app.callback(
        Output("overview-map", "figure", allow_duplicate=True),
        Input("overview-query", "data"),
        prevent_initial_call=True,
    )
    def points(query):
        viewer = require_map_viewer()
        state, view = _from_query(viewer, query)
        if layout.LAYER_POINTS not in view["layers"]:
            return maps.points_patch([])
        with get_db().session() as session:
            cells, _left_out = ov.incident_points(session, viewer, state.record_filters())
        return maps.points_patch(cells)

    @app.callback(
        Output("overview-table", "children"),
        Input("overview-query", "data"),
        Input("overview-table-collapse", "is_open"),
    )
    def table(query, is_open):
        viewer = require_map_viewer()
        if not is_open or not query:
            raise PreventUpdate
        state, view = _from_query(viewer, query)
        geography = ov.Geography(view["geography"])
        with get_db().session() as session:
            result = ov.area_overview(session, viewer, state.record_filters(), geography)
            warning = surges.early_warning(session, viewer, state.record_filters(), state.end, geography,
                                           by_category=False)
        return layout.area_table(result, ov.Metric(view["metric"]), warning)

    @app.callback(
        Output("overview-area-panel", "children"),
        Output("overview-area", "value"),
        Input("overview-map", "clickData"),
        Input("overview-area", "value"),
        Input("overview-query", "data"),
        State("overview-geography", "value"),
        *[State(i.component_id, i.component_property) for i in FILTER_INPUTS],
    )
    def drill_down(click, chosen, _query, geography, period, start, end, categories, strands,
                   verification, markings, organisations):
        viewer = require_map_viewer()
        code = chosen
        if ctx.triggered_id == "overview-map":
            if geography != ov.Geography.DISTRICT.value or not click or not click.get("points"):
                raise PreventUpdate
            code = click["points"][0].get("location")
        if not code:
            return layout.area_panel(None, today()), ""
        with get_db().session() as session:
            try:
                state = _state(session, viewer, period, start, end, categories, strands, verification,
                               markings, organisations)
            except FilterError:
                raise PreventUpdate from None
            detail = ov.area_detail(session, viewer, str(code), state.record_filters(), today())
        if detail is None:
            return layout.area_panel(None, today()), ""
        return layout.area_panel(detail, today()), detail.code

    @app.callback(
        Output("overview-table-collapse", "is_open"),
        Output("overview-table-toggle", "children"),
        Output("overview-table-toggle", "aria-expanded"),
        Input("overview-table-toggle", "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle_table(clicks):
        require_map_viewer()
        is_open = bool(clicks and clicks % 2 == 1)
        return is_open, "Hide table" if is_open else "Show as table", "true" if is_open else "false"

    # Keep the address bar in step with the view, without reloading the page (no record data).
    app.clientside_callback(
        """
        function(search, area) {
            if (!search) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            var params = new URLSearchParams(search);
            if (area) { params.set('area', area); } else { params.delete('area'); }
            var next = '?' + params.toString();
            if (url.search !== next) { window.history.replaceState(null, '', url.pathname + next); }
            return '';
        }
        """,
        Output("overview-url-sink", "children"),
        Input("overview-query", "data"),
        Input("overview-area", "value"),
    )


def require_map_viewer():
    return require_viewer(MAP_ROLES)
