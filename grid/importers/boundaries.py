"""Boundaries for the maps and for locating sites: countries, French regions and départements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import shape

from . import ReferenceDataError
from .zones import _read_geojson


def _round(coords, ndigits: int = 4):
    if isinstance(coords, (int, float)):
        return round(float(coords), ndigits)
    return [_round(c, ndigits) for c in coords]


def countries(path: Path) -> pd.DataFrame:
    """Return Natural Earth countries (code = ISO2; France and Norway include overseas parts)."""
    rows = []
    for i, feature in enumerate(_read_geojson(path)["features"]):
        props = feature.get("properties") or {}
        code = props.get("ISO_A2_FIXED") or props.get("ISO_A2")
        if not code or code == "-99" or not feature.get("geometry"):
            raise ReferenceDataError(f"{Path(path).name}: feature {i} has no ISO_A2_FIXED code or no geometry")
        rows.append(
            {
                "kind": "country",
                "code": code,
                "name": props.get("NAME", code),
                "parent_code": "",
                "geometry_geojson": feature["geometry"],
                "source": "natural_earth",
            }
        )
    return pd.DataFrame(rows)


def france_subdivisions(path: Path, kind: str) -> pd.DataFrame:
    """Return IGN regions or départements (``code``, ``nom``), coordinates rounded to ~10 m."""
    rows = []
    for i, feature in enumerate(_read_geojson(path)["features"]):
        props = feature.get("properties") or {}
        if not props.get("code") or not feature.get("geometry"):
            raise ReferenceDataError(f"{Path(path).name}: feature {i} has no 'code' or no geometry")
        geometry = {"type": feature["geometry"]["type"], "coordinates": _round(feature["geometry"]["coordinates"])}
        rows.append(
            {
                "kind": kind,
                "code": str(props["code"]),
                "name": props.get("nom", ""),
                "parent_code": "",
                "geometry_geojson": geometry,
                "source": "ign",
            }
        )
    return pd.DataFrame(rows)


def departement_regions(departements: pd.DataFrame, regions: pd.DataFrame) -> dict[str, str]:
    """Return département code → region code, by which region contains each département's
    representative point (the IGN files carry no parent code)."""

    region_shapes = [(row.code, shape(row.geometry_geojson)) for row in regions.itertuples()]
    mapping = {}
    for row in departements.itertuples():
        point = shapely.point_on_surface(shape(row.geometry_geojson))
        for code, geom in region_shapes:
            if geom.covers(point):
                mapping[row.code] = code
                break
    return mapping
