"""The tension map: a figure drawn with no tile server, and the small patches that update it.

The figure is built once with the boundaries given by URL (the browser fetches and caches them);
each filter change sends only the values (a `dash.Patch`), a few kilobytes.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from dash import Patch

from dashboard.geography import label_points
from dashboard.overview import METRIC_LABELS, AreaFigure, Metric, Overview, PointCell, tension_label
from dashboard.reference import TENSION_LEVELS

MAP_CENTRE = {"lat": 52.75, "lon": -1.45}
MAP_ZOOM = 6.8
SEQUENTIAL = [[0.0, "#F1F6FB"], [0.25, "#B7D2EA"], [0.5, "#6FA3D2"], [0.75, "#2E6DA8"], [1.0, "#12436D"]]
# Falls in blue, rises in orange-brown (colour-blind safe), no change in light grey.
DIVERGING = [[0.0, "#12436D"], [0.25, "#7FA6CC"], [0.5, "#F2F2F2"], [0.75, "#F7A06B"], [1.0, "#A63D0A"]]
NO_DATA_FILL = "#E8E8E8"
# The map draws no text: text layers would make MapLibre fetch glyphs from a font server. Values
# are given by hover text, the summary sentence and the table; tension levels also by the size
# of a circle at each area's centre, so colour is never the only cue.
LEVEL_MARKER_SIZE = {1: 7, 2: 11, 3: 15, 4: 19, 5: 23}


def boundaries_url(kind: str) -> str:
    return f"/geo/{kind}.geojson"


def _tension_scale() -> list[list]:
    """A stepped scale: each level 1-5 has one flat colour (z from 0.5 to 5.5)."""
    scale = []
    for level in range(1, 6):
        colour = TENSION_LEVELS[level].colour
        scale.append([(level - 1) / 5, colour])
        scale.append([level / 5, colour])
    return scale


def base_figure(kind: str, tiles_url: str | None = None) -> go.Figure:
    """The empty map: a grey base of every unit, the metric layer, labels and points."""
    url = boundaries_url(kind)
    fig = go.Figure(
        [
            go.Choroplethmap(
                name="Boundaries", geojson=url, featureidkey="properties.code", locations=[], z=[],
                colorscale=[[0, NO_DATA_FILL], [1, NO_DATA_FILL]], showscale=False,
                marker={"line": {"color": "#FFFFFF", "width": 0.8}}, hoverinfo="skip",
            ),
            go.Choroplethmap(
                name="Metric", geojson=url, featureidkey="properties.code", locations=[], z=[],
                # dark outlines keep pale areas distinct from the white background (WCAG 1.4.11)
                marker={"line": {"color": "#505050", "width": 0.6}, "opacity": 0.95},
                hovertemplate="%{text}<extra></extra>", text=[],
                colorbar={"thickness": 14, "len": 0.7, "y": 0.45, "x": 0.99, "xanchor": "right", "bgcolor": "rgba(255,255,255,0.85)"},
            ),
            go.Scattermap(
                name="Tension level", mode="markers", lat=[], lon=[], text=[],
                hovertemplate="%{text}<extra></extra>",
                marker={"color": "#0B0C0C", "opacity": 0.8, "size": []},
            ),
            go.Scattermap(
                name="Incident locations", mode="markers", lat=[], lon=[], customdata=[],
                hovertemplate="%{customdata:,} incidents within about 1 km<extra></extra>",
                marker={"color": "#3D3D3D", "opacity": 0.75, "size": []},
            ),
            go.Scattermap(
                name="Approximate incident locations", mode="markers", lat=[], lon=[], customdata=[],
                hovertemplate="%{customdata:,} incidents within about 10 km (approximate locations)<extra></extra>",
                marker={"color": "#12436D", "opacity": 0.35, "size": []},
            ),
        ]
    )
    fig.update_layout(
        map={"style": "white-bg", "center": MAP_CENTRE, "zoom": MAP_ZOOM, "layers": _tile_layers(tiles_url, False)},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=560,
        showlegend=False,
        uirevision="overview-map",  # keep the user's pan and zoom across updates
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"},
    )
    return fig


def _tile_layers(tiles_url: str | None, on: bool) -> list[dict]:
    if not (tiles_url and on):
        return []
    return [{"sourcetype": "raster", "source": [tiles_url], "below": "traces", "opacity": 0.6}]


def _hover(area: AreaFigure, metric: Metric) -> str:
    lines = [
        f"<b>{area.name}</b>",
        f"Incidents: {area.incidents:,} (previous period {area.previous:,})",
        f"Per 100,000 residents: {area.rate:,.1f}",
        f"Tension: {tension_label(area.tension_level)}",
    ]
    return "<br>".join(lines)


def _scale(overview: Overview, metric: Metric, values: list[float | None]) -> dict:
    present = [v for v in values if v is not None]
    if metric is Metric.TENSION:
        return {
            "colorscale": _tension_scale(), "zmin": 0.5, "zmax": 5.5,
            "colorbar": {"title": {"text": "Tension level"}, "tickvals": [1, 2, 3, 4, 5],
                         "ticktext": [f"{lv} {TENSION_LEVELS[lv].label}" for lv in range(1, 6)]},
        }
    if metric is Metric.CHANGE:
        bound = max([abs(v) for v in present] + [1])
        return {
            "colorscale": DIVERGING, "zmin": -bound, "zmax": bound,
            "colorbar": {"title": {"text": "Change<br>(incidents)"}, "tickvals": None, "ticktext": None},
        }
    top = max(present + [1])
    title = "Incidents" if metric is Metric.COUNT else "Per 100,000"
    return {
        "colorscale": SEQUENTIAL, "zmin": 0, "zmax": top,
        "colorbar": {"title": {"text": title}, "tickvals": None, "ticktext": None},
    }


def map_patch(
    overview: Overview,
    metric: Metric,
    *,
    tiles_url: str | None = None,
    tiles_on: bool = False,
) -> Patch:
    """The areas' values, scale and labels for the filters, geography and metric, as a patch."""
    kind = overview.geography.value
    url = boundaries_url(kind)
    codes = [a.code for a in overview.areas]
    values = [a.value(metric) for a in overview.areas]
    shown = [(a, v) for a, v in zip(overview.areas, values, strict=True) if v is not None]
    patch = Patch()
    patch["data"][0]["geojson"] = url
    patch["data"][0]["locations"] = codes
    patch["data"][0]["z"] = [0] * len(codes)
    patch["data"][1]["geojson"] = url
    patch["data"][1]["locations"] = [a.code for a, _ in shown]
    patch["data"][1]["z"] = [v for _, v in shown]
    patch["data"][1]["text"] = [_hover(a, metric) for a, _ in shown]
    for key, value in _scale(overview, metric, values).items():
        patch["data"][1][key] = value
    label_at = label_points(kind)
    marked = [a for a, _ in shown] if metric is Metric.TENSION else []
    patch["data"][2]["lat"] = [label_at[a.code][0] for a in marked]
    patch["data"][2]["lon"] = [label_at[a.code][1] for a in marked]
    patch["data"][2]["marker"]["size"] = [LEVEL_MARKER_SIZE[a.tension_level] for a in marked]
    patch["data"][2]["text"] = [f"{a.name}: tension {tension_label(a.tension_level)}" for a in marked]
    patch["layout"]["map"]["layers"] = _tile_layers(tiles_url, tiles_on)
    patch["layout"]["meta"] = {"metric": METRIC_LABELS[metric], "geography": kind}
    return patch


def points_patch(points: list[PointCell]) -> Patch:
    """The incident locations layer (pooled cells), or an empty one."""
    patch = Patch()
    biggest = max([p.incidents for p in points] + [1])
    for trace, approximate in ((3, False), (4, True)):
        chosen = [p for p in points if p.approximate is approximate]
        patch["data"][trace]["lat"] = [p.latitude for p in chosen]
        patch["data"][trace]["lon"] = [p.longitude for p in chosen]
        patch["data"][trace]["customdata"] = [p.incidents for p in chosen]
        patch["data"][trace]["marker"]["size"] = [round(max(4.0, 28 * math.sqrt(p.incidents / biggest)), 1) for p in chosen]
    return patch
