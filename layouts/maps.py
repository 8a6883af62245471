"""The tension map: a figure drawn with no tile server, and the small patches that update it.

The page sends the boundaries of all three geographies once, in the figure (about 110 KB); each
filter change or geography switch then sends only values and which geography shows (a
`dash.Patch`, a few kilobytes).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from dash import Patch

from dashboard.geography import label_points, map_boundaries
from dashboard.overview import (
    METRIC_LABELS,
    AreaFigure,
    Geography,
    Metric,
    Overview,
    PointCell,
    tension_label,
)
from dashboard.reference import TENSION_LEVELS
from dashboard.surges import BAND_COLOURS, AreaWarning, Band, EarlyWarning

MAP_CENTRE = {"lat": 52.75, "lon": -1.45}
MAP_ZOOM = 6.8
GEOGRAPHIES = [Geography.DISTRICT, Geography.FORCE, Geography.REGION]  # traces 0, 1 and 2
TENSION_TRACE, LOCATIONS_TRACE, APPROXIMATE_TRACE = 3, 4, 5
SEQUENTIAL = [[0.0, "#F1F6FB"], [0.25, "#B7D2EA"], [0.5, "#6FA3D2"], [0.75, "#2E6DA8"], [1.0, "#12436D"]]
# Falls in blue, rises in orange-brown (colour-blind safe), no change in light grey.
DIVERGING = [[0.0, "#12436D"], [0.25, "#7FA6CC"], [0.5, "#F2F2F2"], [0.75, "#F7A06B"], [1.0, "#A63D0A"]]
NO_DATA_FILL = "#D9D9D9"
# The map draws no text: text layers would make MapLibre fetch glyphs from a font server. Values
# are given by hover text, the summary sentence and the table; tension levels and early-warning
# rises also by the size of a circle at each area's centre, so colour is never the only cue.
LEVEL_MARKER_SIZE = {1: 7, 2: 11, 3: 15, 4: 19, 5: 23}
# Early warning: a large circle for a sharp rise, a small one for a rise (none for stable or fall).
BAND_MARKER_SIZE = {Band.SHARP_RISE: 19, Band.RISE: 11}
BANDS_IN_ORDER = sorted(Band, key=lambda b: b.rank)  # fall, stable, rise, sharp rise
# The map re-creates a trace's layers, on top, whenever it is hidden and shown again or its data
# goes from none to some; areas and circles are therefore always put below the locations layer
# (which is never hidden), so that locations stay on top whatever was re-created last.
BELOW_LOCATIONS = "plotly-trace-layer-locations-fill"


def _tension_scale() -> list[list]:
    """A stepped scale over -0.5 to 5.5: grey for no assessment (0), then one colour a level."""
    colours = [NO_DATA_FILL] + [TENSION_LEVELS[level].colour for level in range(1, 6)]
    scale = []
    for step, colour in enumerate(colours):
        scale.append([step / 6, colour])
        scale.append([(step + 1) / 6, colour])
    return scale


def _band_scale() -> list[list]:
    """A stepped scale over -0.5 to 3.5: one colour a band, from fall (0) to sharp rise (3)."""
    scale = []
    for step, band in enumerate(BANDS_IN_ORDER):
        scale.append([step / 4, BAND_COLOURS[band][0]])
        scale.append([(step + 1) / 4, BAND_COLOURS[band][0]])
    return scale


def _area_trace(geography: Geography, visible: bool) -> go.Choroplethmap:
    boundaries = map_boundaries(geography.value)
    codes = [f["properties"]["code"] for f in boundaries["features"]]
    return go.Choroplethmap(
        name=f"{geography.value} areas", uid=f"areas-{geography.value}", visible=visible, below=BELOW_LOCATIONS,
        geojson=boundaries, featureidkey="properties.code", locations=codes, z=[0] * len(codes),
        zmin=0, zmax=1, colorscale=SEQUENTIAL, text=[""] * len(codes),
        hovertemplate="%{text}<extra></extra>",
        # dark outlines keep pale areas distinct from the white background (WCAG 1.4.11)
        marker={"line": {"color": "#505050", "width": 0.6}, "opacity": 0.95},
        colorbar={"thickness": 14, "len": 0.7, "y": 0.45, "x": 0.99, "xanchor": "right",
                  "bgcolor": "rgba(255,255,255,0.85)"},
    )


def base_figure(kind: str, tiles_url: str | None = None) -> go.Figure:
    """The map before its figures arrive: the areas of each geography (one shown), tension
    circles and the two locations layers, in that order from the bottom up."""
    shown = Geography(kind)
    fig = go.Figure(
        [
            *[_area_trace(g, g is shown) for g in GEOGRAPHIES],
            go.Scattermap(
                name="Tension level", uid="tension", below=BELOW_LOCATIONS, mode="markers", lat=[], lon=[], text=[],
                hovertemplate="%{text}<extra></extra>",
                marker={"color": "#0B0C0C", "opacity": 0.8, "size": []},
            ),
            go.Scattermap(
                name="Incident locations", uid="locations", mode="markers", lat=[], lon=[], customdata=[],
                hovertemplate="%{customdata:,} incidents within about 1 km<extra></extra>",
                marker={"color": "#801650", "opacity": 0.7, "size": []},
            ),
            go.Scattermap(
                name="Approximate incident locations", uid="approximate-locations", mode="markers",
                lat=[], lon=[], customdata=[],
                hovertemplate="%{customdata:,} incidents within about 10 km (approximate locations)<extra></extra>",
                marker={"color": "#801650", "opacity": 0.3, "size": []},
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


def _hover(area: AreaFigure, warned: AreaWarning | None = None) -> str:
    lines = [
        f"<b>{area.name}</b>",
        f"Incidents: {area.incidents:,} (previous period {area.previous:,})",
        f"Per 100,000 residents: {area.rate:,.1f}",
        f"Tension: {tension_label(area.tension_level)}",
    ]
    if warned:
        lines.append(f"Early warning: {warned.assessment.describe()}")
    return "<br>".join(lines)


def _bands(overview: Overview, warning: EarlyWarning) -> list[Band]:
    by_code = warning.by_code()
    return [by_code[a.code].band if a.code in by_code else Band.STABLE for a in overview.areas]


def _values(overview: Overview, metric: Metric, warning: EarlyWarning | None = None) -> tuple[list[float], dict]:
    """Each area's value on the colour scale, and the scale."""
    if metric is Metric.WARNING:
        if warning is None:
            raise ValueError("Colouring by early warning needs the early warning.")
        return [float(b.rank) for b in _bands(overview, warning)], {
            "colorscale": _band_scale(), "zmin": -0.5, "zmax": 3.5,
            "colorbar": {"title": {"text": "Early warning"}, "tickvals": [b.rank for b in BANDS_IN_ORDER],
                         "ticktext": [b.value.capitalize() for b in BANDS_IN_ORDER]},
        }
    if metric is Metric.TENSION:
        values = [float(a.tension_level or 0) for a in overview.areas]
        return values, {
            "colorscale": _tension_scale(), "zmin": -0.5, "zmax": 5.5,
            "colorbar": {"title": {"text": "Tension level"}, "tickvals": [0, 1, 2, 3, 4, 5],
                         "ticktext": ["No assessment"] + [f"{lv} {TENSION_LEVELS[lv].label}" for lv in range(1, 6)]},
        }
    values = [a.value(metric) or 0.0 for a in overview.areas]
    if metric is Metric.CHANGE:
        bound = max([abs(v) for v in values] + [1])
        return values, {
            "colorscale": DIVERGING, "zmin": -bound, "zmax": bound,
            "colorbar": {"title": {"text": "Change<br>(incidents)"}, "tickvals": None, "ticktext": None},
        }
    title = "Incidents" if metric is Metric.COUNT else "Per 100,000"
    return values, {
        "colorscale": SEQUENTIAL, "zmin": 0, "zmax": max(values + [1]),
        "colorbar": {"title": {"text": title}, "tickvals": None, "ticktext": None},
    }


def map_patch(
    overview: Overview,
    metric: Metric,
    *,
    tiles_url: str | None = None,
    tiles_on: bool = False,
    warning: EarlyWarning | None = None,
) -> Patch:
    """The areas' values and scale for the filters, geography and metric, as a small patch
    (`warning`, the early warning for the same geography, is needed to colour by it)."""
    patch = Patch()
    index = GEOGRAPHIES.index(overview.geography)
    for i in range(len(GEOGRAPHIES)):
        patch["data"][i]["visible"] = i == index
    values, scale = _values(overview, metric, warning)
    patch["data"][index]["locations"] = [a.code for a in overview.areas]
    patch["data"][index]["z"] = values
    warned = warning.by_code() if warning else {}
    patch["data"][index]["text"] = [_hover(a, warned.get(a.code)) for a in overview.areas]
    for key, value in scale.items():
        patch["data"][index][key] = value
    label_at = label_points(overview.geography.value)
    # Circles at the areas' centres: tension levels, or rises, so colour is never the only cue.
    if metric is Metric.TENSION:
        marked = [(a, LEVEL_MARKER_SIZE[a.tension_level], f"{a.name}: tension {tension_label(a.tension_level)}")
                  for a in overview.areas if a.tension_level]
    elif metric is Metric.WARNING:
        marked = [(a, BAND_MARKER_SIZE[b], f"{a.name}: {warned[a.code].assessment.describe()}")
                  for a, b in zip(overview.areas, _bands(overview, warning), strict=True) if b in BAND_MARKER_SIZE]
    else:
        marked = []
    circles = patch["data"][TENSION_TRACE]
    circles["lat"] = [label_at[a.code][0] for a, _size, _text in marked]
    circles["lon"] = [label_at[a.code][1] for a, _size, _text in marked]
    circles["marker"]["size"] = [size for _a, size, _text in marked]
    circles["text"] = [text for _a, _size, text in marked]
    patch["layout"]["map"]["layers"] = _tile_layers(tiles_url, tiles_on)
    patch["layout"]["meta"] = {"metric": METRIC_LABELS[metric], "geography": overview.geography.value}
    return patch


def points_patch(points: list[PointCell]) -> Patch:
    """The incident locations layer (pooled cells), or an empty one."""
    patch = Patch()
    biggest = max([p.incidents for p in points] + [1])
    for trace, approximate in ((LOCATIONS_TRACE, False), (APPROXIMATE_TRACE, True)):
        chosen = [p for p in points if p.approximate is approximate]
        patch["data"][trace]["lat"] = [p.latitude for p in chosen]
        patch["data"][trace]["lon"] = [p.longitude for p in chosen]
        patch["data"][trace]["customdata"] = [p.incidents for p in chosen]
        patch["data"][trace]["marker"]["size"] = [round(max(4.0, 28 * math.sqrt(p.incidents / biggest)), 1) for p in chosen]
    return patch
