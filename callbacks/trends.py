"""Trends callbacks: filters and chart choices to the chart, its words and table, the early
warning and the trigger events, for the signed-in viewer."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import calendar as cal
from dashboard import surges
from dashboard import trends as tr
from dashboard.filters import FilterError, FilterState, query_params, vocabulary
from dashboard.overview import Geography
from dashboard.reference import Role
from dashboard.web import get_db
from layouts import filters as filters_layout
from layouts import record_parts as parts
from layouts import trends as layout
from layouts import warning as warning_layout

from .common import chosen, require_viewer

TREND_ROLES = {Role.MEMBER, Role.CHAIR, Role.ADMIN}
FILTER_IDS = ("period", "start", "end", "categories", "strands", "verification", "markings", "organisations")
VIEW_IDS = ("grain", "split", "geography", "areas", "measure", "compare")


def today() -> date:
    return date.today()


def page(viewer, **query):
    with get_db().session() as session:
        vocab = vocabulary(session, viewer, today())
        state = FilterState.from_query(query, vocab, today())
        view = layout.parse_view(query)
        options = tr.area_choices(session, Geography(view["geography"]))
    known = {code for code, _ in options}
    view["areas"] = [a for a in view["areas"] if a in known]
    return layout.layout(vocab, state, view, options)


def _view(grain, split, geography, areas, measure, compare) -> dict:
    view = layout.parse_view({"grain": grain, "split": split, "geo": geography, "measure": measure})
    view["areas"] = [a for a in chosen(areas) if isinstance(a, str)]
    view["compare"] = "year" in chosen(compare)
    return view


def _query(state: FilterState, view: dict) -> tr.TrendQuery:
    return tr.TrendQuery(
        filters=state.record_filters(),
        grain=tr.Grain(view["grain"]),
        split=tr.Split(view["split"]),
        geography=Geography(view["geography"]),
        areas=tuple(view["areas"]),
        measure=tr.Measure(view["measure"]),
        compare_last_year=view["compare"],
    )


def _from_query(viewer, search: str | None):
    params = query_params(search)
    with get_db().session() as session:
        vocab = vocabulary(session, viewer, today())
    state = FilterState.from_query(params, vocab, today())
    return state, layout.parse_view(params)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("trends-graph", "figure"),
        Output("trends-summary", "children"),
        Output("trends-notes", "children"),
        Output("trends-caveat", "hidden"),
        Output("trends-query", "data"),
        Output("trends-data", "data"),
        Output("trends-areas", "options"),
        Output("trends-areas", "value"),
        Output("trends-areas-error", "children"),
        Output("trends-period", "value"),
        Output("trends-start", "value"),
        Output("trends-end", "value"),
        Output("trends-start-error", "children"),
        Output("trends-end-error", "children"),
        *[Input(f"trends-{name}", "value") for name in FILTER_IDS],
        *[Input(f"trends-{name}", "value") for name in VIEW_IDS],
    )
    def refresh(period, start, end, categories, strands, verification, markings, organisations,
                grain, split, geography, areas, measure, compare):
        viewer = require_viewer(TREND_ROLES)
        if ctx.triggered_id in {"trends-start", "trends-end"}:
            period = "custom"  # the person typed dates: the preset no longer applies
        view = _view(grain, split, geography, areas, measure, compare)
        with get_db().session() as session:
            options = tr.area_choices(session, Geography(view["geography"]))
            known = {code for code, _ in options}
            areas_error = ""
            if ctx.triggered_id == "trends-geography":
                view["areas"] = []  # another geography's codes mean nothing here
            view["areas"] = [a for a in view["areas"] if a in known]
            if len(view["areas"]) > tr.MAX_AREAS:
                areas_error = f"Choose at most {tr.MAX_AREAS} areas: the first {tr.MAX_AREAS} are shown."
                view["areas"] = view["areas"][: tr.MAX_AREAS]
            try:
                vocab = vocabulary(session, viewer, today())
                state = FilterState.from_controls(
                    vocab, today(), preset=period, start=start, end=end, categories=categories,
                    strands=strands, verification=verification, markings=markings, organisations=organisations,
                )
            except FilterError as error:
                start_error, end_error = filters_layout.date_errors(error)
                return (no_update,) * 9 + ("custom", no_update, no_update, start_error, end_error)
            result = tr.trend(session, viewer, _query(state, view))
            events = cal.events_between(session, viewer, result.start, result.end, _districts(session, view))
        area_options = [{"label": name, "value": code} for code, name in options]
        return (
            layout.trend_figure(result, events),
            tr.summary_sentence(result),
            layout.notes(result),
            not result.shows_hate_crime,
            layout.query_string(state, view),
            tr.table_data(result),
            area_options,
            view["areas"],
            parts.field_error(areas_error),
            state.preset,
            state.start.isoformat(),
            state.end.isoformat(),
            "",
            "",
        )

    @app.callback(
        Output("trends-table", "children"),
        Input("trends-data", "data"),
        Input("trends-table-collapse", "is_open"),
    )
    def table(data, is_open):
        # The chart's own numbers, already counted for this viewer: no second count.
        require_viewer(TREND_ROLES)
        if not is_open or not isinstance(data, dict):
            raise PreventUpdate
        try:
            return layout.trend_table(data)
        except (KeyError, TypeError, ValueError):  # not what the chart stored: a forged request
            raise PreventUpdate from None

    @app.callback(
        Output("trends-warning", "children"),
        Output("trends-events", "children"),
        Input("trends-query", "data"),
    )
    def warning_and_events(search):
        viewer = require_viewer(TREND_ROLES)
        if not search:
            raise PreventUpdate
        state, view = _from_query(viewer, search)
        geography = Geography(view["geography"])
        with get_db().session() as session:
            warning = surges.early_warning(session, viewer, state.record_filters(), state.end, geography)
            districts = _districts(session, view)
            shown = cal.events_between(session, viewer, state.start, state.end, districts)
            upcoming = cal.upcoming(session, viewer, today(), area_codes=districts)
        return warning_layout.warning_panel(warning, set(view["areas"])), layout.events_panel(shown, upcoming, today())

    @app.callback(
        Output("trends-table-collapse", "is_open"),
        Output("trends-table-toggle", "children"),
        Output("trends-table-toggle", "aria-expanded"),
        Input("trends-table-toggle", "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle_table(clicks):
        require_viewer(TREND_ROLES)
        is_open = bool(clicks and clicks % 2 == 1)
        return is_open, "Hide table" if is_open else "Show as table", "true" if is_open else "false"

    # Keep the address bar in step with the view, without reloading the page (no record data).
    app.clientside_callback(
        """
        function(search) {
            if (!search) { return window.dash_clientside.no_update; }
            var url = new URL(window.location.href);
            if (url.search !== search) { window.history.replaceState(null, '', url.pathname + search); }
            return '';
        }
        """,
        Output("trends-url-sink", "children"),
        Input("trends-query", "data"),
    )


def _districts(session, view: dict) -> list[str] | None:
    """The districts of the chosen areas (None: the whole region)."""
    if not view["areas"]:
        return None
    return tr.districts_of(session, Geography(view["geography"]), view["areas"])
