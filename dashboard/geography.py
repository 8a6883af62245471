"""The reference geography (data/) and the default vocabularies, loaded into the database."""

from __future__ import annotations

import csv
import json
from datetime import date
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from .config import DATA_DIR
from .models import Area, AreaSuccession, IncidentCategory, Strand
from .reference import DEFAULT_CATEGORIES, DEFAULT_STRANDS

DISTRICTS_GEOJSON = DATA_DIR / "midlands_lad.geojson"
FORCE_AREAS_GEOJSON = DATA_DIR / "midlands_pfa.geojson"
DISTRICTS_TABLE = DATA_DIR / "midlands_lad_table.csv"
SUCCESSIONS_TABLE = DATA_DIR / "midlands_lad_changes.csv"


def read_districts() -> list[dict[str, str]]:
    with DISTRICTS_TABLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def boundaries(kind: str = "district") -> dict:
    """GeoJSON boundaries ("district" or "force"), read once per process."""
    path = {"district": DISTRICTS_GEOJSON, "force": FORCE_AREAS_GEOJSON}[kind]
    return json.loads(path.read_text(encoding="utf-8"))


def load_reference_data(session: Session) -> dict[str, int]:
    """Insert or refresh the 65 districts, old-code successions and default vocabularies.

    Safe to run again: existing rows are updated in place, and admins' edits to vocabulary
    labels are kept (only missing codes are added).
    """
    counts = {"areas": 0, "successions": 0, "categories": 0, "strands": 0}
    existing = {a.code: a for a in session.scalars(select(Area))}
    for row in read_districts():
        area = existing.get(row["code"]) or Area(code=row["code"])
        area.name = row["name"]
        area.district_type = row["lad_type"]
        area.county = row["county"] or None
        area.county_code = row["county_code"] or None
        area.region = row["region"]
        area.region_code = row["region_code"]
        area.police_force = row["police_force"]
        area.pfa_code = row["pfa_code"]
        area.combined_authority = row["combined_authority_area"] or None
        area.population = int(row["pop_mid2020"])
        session.add(area)
        counts["areas"] += 1
    session.flush()

    known = {s.old_code for s in session.scalars(select(AreaSuccession))}
    with SUCCESSIONS_TABLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if ";" in row["new_code"]:
                continue  # the old county council split in two: no single successor to map to
            if row["old_code"] not in known:
                session.add(
                    AreaSuccession(
                        old_code=row["old_code"],
                        old_name=row["old_name"],
                        new_code=row["new_code"],
                        ended_on=date.fromisoformat(row["end_date"]),
                    )
                )
            counts["successions"] += 1

    have = set(session.scalars(select(IncidentCategory.code)))
    for order, (code, label) in enumerate(DEFAULT_CATEGORIES):
        if code not in have:
            session.add(IncidentCategory(code=code, label=label, sort_order=order, active=True))
        counts["categories"] += 1
    have = dict(session.execute(select(Strand.code, Strand.bit)).all())
    free_bits = (b for b in range(31) if b not in set(have.values()))
    for code, label, local in DEFAULT_STRANDS:
        if code not in have:
            session.add(Strand(code=code, label=label, local=local, active=True, bit=next(free_bits)))
        counts["strands"] += 1
    session.flush()
    return counts


MIDLANDS_REGIONS = ("E12000004", "E12000005")  # East Midlands, West Midlands
REGIONS_GEOJSON = DATA_DIR / "england_wales_regions.geojson"


@lru_cache(maxsize=4)
def map_boundaries(kind: str) -> dict:
    """Boundaries for the map, with only `code` and `name` on each feature (smaller to send).

    kind: "district" (the 65 districts), "force" (the 9 police force areas) or "region" (the two
    Midlands regions).
    """
    if kind == "district":
        source = boundaries("district")
        keys = ("code", "name")
    elif kind == "force":
        source = boundaries("force")
        keys = ("pfa_code", "police_force")
    elif kind == "region":
        source = json.loads(REGIONS_GEOJSON.read_text(encoding="utf-8"))
        source = {
            "type": "FeatureCollection",
            "features": [f for f in source["features"] if f["properties"]["code"] in MIDLANDS_REGIONS],
        }
        keys = ("code", "name")
    else:
        raise ValueError(f"Unknown kind of boundary: {kind!r}")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f["properties"][keys[0]], "name": f["properties"][keys[1]]},
                "geometry": f["geometry"],
            }
            for f in source["features"]
        ],
    }


def _ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """Area-weighted centroid (lon, lat) and absolute area of one polygon ring."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        xs, ys = zip(*ring, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys), 0.0
    return cx / (3 * area), cy / (3 * area), abs(area / 2)


@lru_cache(maxsize=4)
def label_points(kind: str) -> dict[str, tuple[float, float]]:
    """Where to print each unit's label on the map: the centroid of its largest polygon, as
    (latitude, longitude)."""
    points = {}
    for feature in map_boundaries(kind)["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        best = max((_ring_centroid([list(p) for p in polygon[0]]) for polygon in polygons), key=lambda c: c[2])
        points[feature["properties"]["code"]] = (round(best[1], 5), round(best[0], 5))
    return points
