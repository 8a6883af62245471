"""A static SVG map of the 65 districts coloured by their latest tension level, for print.

No browser, tile server or image library is needed: the boundaries (data/midlands_lad.geojson,
through `geography.map_boundaries`) are projected to SVG paths once per process. Each assessed
district carries its level number in a white disc (colour is never the only cue); a district
with no assessment the viewer may see is hatched grey. The legend gives number, label, colour
and how many districts are at each level. The SVG renders the same in browsers and WeasyPrint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from .geography import label_points, map_boundaries
from .reference import MAP_ATTRIBUTION, TENSION_LEVELS

WIDTH = 640.0  # SVG user units (the map scales to the width of the page)
MARGIN = 8.0
LEGEND_HEIGHT = 92.0
NO_ASSESSMENT = "No assessment"
NO_ASSESSMENT_FILL = "#E6E6E6"
HATCH_STROKE = "#8C8C8C"
BOUNDARY_STROKE = "#4D4D4D"
MIN_POINT_GAP = 0.6  # points closer than this (in SVG units) to the previous one are dropped
FONT = "'Liberation Sans', Arial, 'DejaVu Sans', sans-serif"


def _rings(geometry: dict) -> list[list[list[float]]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [ring for polygon in polygons for ring in polygon]


@lru_cache(maxsize=1)
def _projection() -> tuple[float, float, float, float, float]:
    """(west, north, x scale, y scale, height) of an equirectangular projection at the region's
    middle latitude, sized to WIDTH."""
    xs, ys = [], []
    for feature in map_boundaries("district")["features"]:
        for ring in _rings(feature["geometry"]):
            xs.extend(p[0] for p in ring)
            ys.extend(p[1] for p in ring)
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    squash = math.cos(math.radians((north + south) / 2))
    scale = (WIDTH - 2 * MARGIN) / ((east - west) * squash)
    height = (north - south) * scale + 2 * MARGIN
    return west, north, scale * squash, scale, height


def _point(lon: float, lat: float) -> tuple[float, float]:
    west, north, sx, sy, _h = _projection()
    return MARGIN + (lon - west) * sx, MARGIN + (north - lat) * sy


@lru_cache(maxsize=1)
def district_shapes() -> tuple[tuple[str, str, str], ...]:
    """(GSS code, name, SVG path data) of each district, by name."""
    shapes = []
    for feature in map_boundaries("district")["features"]:
        parts = []
        for ring in _rings(feature["geometry"]):
            kept: list[tuple[float, float]] = []
            for lon, lat in ring:
                x, y = _point(lon, lat)
                if kept and abs(x - kept[-1][0]) < MIN_POINT_GAP and abs(y - kept[-1][1]) < MIN_POINT_GAP:
                    continue
                kept.append((x, y))
            if len(kept) >= 3:
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in kept) + "Z")
        props = feature["properties"]
        shapes.append((props["code"], props["name"], "".join(parts)))
    return tuple(sorted(shapes, key=lambda s: s[1]))


def map_height() -> float:
    return _projection()[4]


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def level_counts(levels: Mapping[str, tuple[int, date]]) -> dict[int | None, int]:
    """How many of the 65 districts are at each level (None: no assessment)."""
    codes = [code for code, _name, _path in district_shapes()]
    counts: dict[int | None, int] = {level: 0 for level in (*TENSION_LEVELS, None)}
    for code in codes:
        entry = levels.get(code)
        counts[entry[0] if entry else None] += 1
    return counts


def summary(levels: Mapping[str, tuple[int, date]], as_of: date, whose: str = "you") -> str:
    """One sentence saying what the map shows, for its text alternative and caption."""
    counts = level_counts(levels)
    total = sum(counts.values())
    parts = [
        f"{counts[level]} at level {level} {TENSION_LEVELS[level].label}"
        for level in sorted(TENSION_LEVELS, reverse=True)
        if counts[level]
    ]
    if not parts:
        return f"None of the {total} districts has a tension assessment {whose} may see on {_day(as_of)}."
    assessed = ", ".join(parts)
    none = counts[None]
    tail = f", and {none} with no assessment {whose} may see" if none else ""
    return f"Latest tension level of the {total} districts on {_day(as_of)}: {assessed}{tail}."


def _legend(counts: dict[int | None, int], top: float, prefix: str) -> list[str]:
    out = [
        f'<g class="legend" font-family="{FONT}" font-size="11" fill="#000000">',
        f'<text x="{MARGIN}" y="{top + 12:.1f}" font-weight="700">Latest tension level (number, label; '
        f'districts)</text>',
    ]
    entries = [
        (TENSION_LEVELS[level].colour, str(level), f"{TENSION_LEVELS[level].label} ({counts[level]})")
        for level in sorted(TENSION_LEVELS)
    ]
    entries.append((f"url(#{prefix}-hatch)", "", f"{NO_ASSESSMENT} ({counts[None]})"))
    column = (WIDTH - 2 * MARGIN) / 3
    for i, (fill, number, label) in enumerate(entries):
        x = MARGIN + (i % 3) * column
        y = top + 24 + (i // 3) * 26
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="34" height="20" fill="{fill}" '
            f'stroke="{BOUNDARY_STROKE}" stroke-width="0.8"/>'
        )
        if number:
            out.append(_disc(x + 17, y + 10, number))
        out.append(f'<text x="{x + 42:.1f}" y="{y + 14:.1f}">{escape(label)}</text>')
    out.append(
        f'<text x="{MARGIN}" y="{top + LEGEND_HEIGHT - 4:.1f}" font-size="8" fill="#3D3D3D">'
        f'{escape(MAP_ATTRIBUTION)}</text>'
    )
    out.append("</g>")
    return out


def _disc(x: float, y: float, number: str) -> str:
    """A level number in a white disc, legible on every fill."""
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6.2" fill="#FFFFFF" stroke="#000000" stroke-width="0.7"/>'
        f'<text x="{x:.1f}" y="{y + 3.2:.1f}" text-anchor="middle" font-family="{FONT}" font-size="9" '
        f'font-weight="700" fill="#000000">{number}</text>'
    )


def tension_map_svg(
    levels: Mapping[str, tuple[int, date]],
    as_of: date,
    *,
    whose: str = "you",
    id_prefix: str = "tension-map",
) -> str:
    """The map as an SVG document fragment (an inline <svg> element).

    `levels` maps a district's GSS code to (latest level, the day it was assessed), as
    `overview.latest_tension_by_district` gives it; districts not in it have no assessment.
    """
    height = map_height()
    total_height = height + LEGEND_HEIGHT
    sentence = summary(levels, as_of, whose)
    title = f"Map of the latest tension level in each district on {_day(as_of)}"
    points = label_points("district")
    shapes, discs = [], []
    for code, name, path in district_shapes():
        entry = levels.get(code)
        if entry is None:
            fill, words = f"url(#{prefix_hatch(id_prefix)})", NO_ASSESSMENT
        else:
            level, day = entry
            fill = TENSION_LEVELS[level].colour
            words = f"level {level} {TENSION_LEVELS[level].label}, assessed {_day(day)}"
        shapes.append(
            f'<path d="{path}" fill="{fill}" stroke="{BOUNDARY_STROKE}" stroke-width="0.6" '
            f'stroke-linejoin="round"><title>{escape(name)}: {escape(words)}</title></path>'
        )
        if entry is not None and code in points:
            lat, lon = points[code]
            x, y = _point(lon, lat)
            discs.append(_disc(x, y, str(entry[0])))
    counts = level_counts(levels)
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {total_height:.0f}" '
            f'width="100%" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
            f'aria-label={quoteattr(title + ". " + sentence)} class="tension-map" '
            f'preserveAspectRatio="xMidYMid meet">',
            f'<title id="{id_prefix}-title">{escape(title)}</title>',
            f'<desc id="{id_prefix}-desc">{escape(sentence)}</desc>',
            "<defs>",
            f'<pattern id="{prefix_hatch(id_prefix)}" patternUnits="userSpaceOnUse" width="6" height="6" '
            f'patternTransform="rotate(45)">'
            f'<rect x="0" y="0" width="6" height="6" fill="{NO_ASSESSMENT_FILL}"/>'
            f'<rect x="0" y="0" width="1.6" height="6" fill="{HATCH_STROKE}"/></pattern>',
            "</defs>",
            '<g class="districts">',
            *shapes,
            "</g>",
            '<g class="levels">',
            *discs,
            "</g>",
            *_legend(counts, height, id_prefix),
            "</svg>",
        ]
    )


def prefix_hatch(id_prefix: str) -> str:
    return f"{id_prefix}-hatch"
