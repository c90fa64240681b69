"""Reads for the grid app, shaped for the scoring engine (``siting.scoring``)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import shapely
from django.db.models import Count, Max, Sum, TextField
from django.db.models.functions import Cast, Coalesce, Length
from shapely.geometry import mapping, shape

from .models import Boundary, GridConnectionPoint, GridLine, HeadroomUpload, HourlyCarbonSeries, KnownHeadroom, Zone


def grid_point_frame(*, status: str = GridConnectionPoint.Status.IN_SERVICE) -> pd.DataFrame:
    """Return connection points with a known voltage: point_id (pk), longitude, latitude
    (WGS84 degrees), voltage_kv [kV], headroom_mw [MW] (known value; NaN = unknown), country
    (ISO2), headroom_estimate_mw [MW] (network estimate, flagged estimated; NaN = none).
    Sorted by point_id."""
    columns = ["point_id", "longitude", "latitude", "voltage_kv", "headroom_mw", "country", "headroom_estimate_mw"]
    rows = (
        GridConnectionPoint.objects.filter(status=status, voltage_kv__isnull=False)
        .order_by("id")
        .values_list("id", "longitude", "latitude", "voltage_kv", "headroom_mw", "country", "headroom_estimate_mw")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    frame["point_id"] = frame["point_id"].astype(np.int64)
    for col in ("longitude", "latitude", "voltage_kv", "headroom_mw", "headroom_estimate_mw"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["country"] = frame["country"].astype(object)
    return frame


def zone_frame() -> pd.DataFrame:
    """Return zones: country (ISO2), carbon_intensity_g_per_kwh, price_eur_per_mwh,
    cooling_degree_days (NaN where the source has none)."""
    rows = Zone.objects.order_by("code").values_list(
        "code", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["country", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days"]
    )
    for col in ("carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["country"] = frame["country"].astype(object)
    return frame


def hourly_carbon_map(*, basis: str = Zone.CarbonBasis.LIFECYCLE) -> dict[str, np.ndarray]:
    """Return zone code → the latest year's 8,760 hourly intensities [g/kWh] on ``basis``."""
    out: dict[str, np.ndarray] = {}
    for code, values in (
        HourlyCarbonSeries.objects.filter(basis=basis)
        .order_by("zone__code", "year")
        .values_list("zone__code", "values_g_per_kwh")
    ):
        out[code] = np.asarray(values, dtype=np.float64)
    return out


def grid_line_vertex_frame() -> pd.DataFrame:
    """Return one row per vertex of every in-service grid line: line_id (pk, int64), seq
    (vertex order from 0, int64), longitude, latitude (WGS84 degrees), voltage_kv [kV, class:
    225/400 as for grid points], rating_mw [MW, usable: × s_max_pu 0.7], country (ISO2, where
    most of the line lies). Sorted by line_id, seq."""
    columns = ["line_id", "seq", "longitude", "latitude", "voltage_kv", "rating_mw", "country"]
    # The geometries as the database's text, parsed in one call: a decoder call per line (what
    # the JSON field does) took 0.14 s of the 6,278 shipped lines, one call 0.02 s (2026-11-29).
    rows = list(
        GridLine.objects.filter(status=GridLine.Status.IN_SERVICE)
        .order_by("id")
        .annotate(geometry_text=Cast("geometry_geojson", TextField()))
        .values_list("id", "voltage_kv", "rating_mw", "country", "geometry_text")
    )
    geometries = json.loads("[" + ",".join(row[4] for row in rows) + "]")
    ids = [row[0] for row in rows]
    kvs = [row[1] for row in rows]
    ratings = [row[2] for row in rows]
    countries = [row[3] for row in rows]
    coords = [geometry["coordinates"] for geometry in geometries]
    counts = np.fromiter((len(c) for c in coords), dtype=np.int64, count=len(coords))
    # One array of every vertex (lon, lat) from the nested lists; a line's vertices are its run.
    vertices = list(chain.from_iterable(coords))
    try:
        xy = np.asarray(vertices, dtype=np.float64).reshape(len(vertices), -1)[:, :2]
    except ValueError:  # positions of mixed lengths (some with a height): keep lon, lat
        xy = np.asarray([(v[0], v[1]) for v in vertices], dtype=np.float64).reshape(-1, 2)
    starts = np.cumsum(counts) - counts
    return pd.DataFrame(
        {
            "line_id": np.repeat(np.asarray(ids, dtype=np.int64), counts),
            "seq": np.arange(len(xy), dtype=np.int64) - np.repeat(starts, counts),
            "longitude": xy[:, 0],
            "latitude": xy[:, 1],
            "voltage_kv": np.repeat(np.asarray(kvs, dtype=np.float64), counts),
            "rating_mw": np.repeat(np.asarray(ratings, dtype=np.float64), counts),
            "country": pd.Series(np.repeat(np.asarray(countries, dtype=object), counts), dtype=object),
        },
        columns=columns,
    )


def country_outline_wkb_map() -> dict[str, bytes]:
    """Return ISO2 → the country's outline as WKB bytes (WGS84), from the ``Boundary`` rows of
    kind country: the land the scoring engine's new lines must stay over."""
    return dict(boundary_outlines(Boundary.Kind.COUNTRY).wkb_by_code)


# --- boundaries: one cache of every form the maps, the API, the PDF and scoring read ------------


@dataclass(frozen=True, eq=False)
class Outlines:
    """The outlines of one kind of boundary (country, region, département) at one data version,
    sorted by code, with the forms their readers need, each built on first use and kept.

    Shared by every caller in the process (see :func:`boundary_outlines`): do not modify what
    it returns.
    """

    kind: str
    version: tuple[int, ...]
    codes: tuple[str, ...]
    names: tuple[str, ...]
    parent_codes: tuple[str, ...]
    geometries: tuple[dict[str, Any], ...]
    """GeoJSON geometries (WGS84 longitude/latitude in degrees), as stored."""
    _simplified: dict[float, dict[str, Any] | None] = field(default_factory=dict, repr=False)

    def _feature(self, i: int, geometry: dict[str, Any]) -> dict[str, Any]:
        code = self.codes[i]
        return {
            "type": "Feature",
            "id": code,
            "properties": {"code": code, "name": self.names[i], "parent_code": self.parent_codes[i]},
            "geometry": geometry,
        }

    @cached_property
    def geojson_bytes(self) -> bytes:
        """Return the outlines as one compact GeoJSON FeatureCollection, UTF-8 (the API's answer)."""
        features = [self._feature(i, g) for i, g in enumerate(self.geometries)]
        return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()

    @cached_property
    def _readable(self) -> tuple[tuple[int, Any], ...]:
        """(row, shapely geometry) of every outline shapely reads and that is not empty."""

        out = []
        for i, g in enumerate(self.geometries):
            try:
                geom = shape(g)
            except (AttributeError, KeyError, TypeError, ValueError, IndexError):
                continue  # the maps draw outlines as context, not data: one bad outline is left out
            if not geom.is_empty:
                out.append((i, geom))
        return tuple(out)

    @cached_property
    def shapes(self) -> tuple[Any, ...]:
        """Return the readable, non-empty outlines as shapely geometries (the PDF's maps)."""
        return tuple(geom for _i, geom in self._readable)

    def simplified_geojson(self, tolerance_deg: float) -> dict[str, Any] | None:
        """Return the readable outlines simplified to ``tolerance_deg`` [degrees] as a GeoJSON
        FeatureCollection (a base map drawn in the page), or None when there are none."""
        if tolerance_deg not in self._simplified:
            features = [
                self._feature(i, mapping(shapely.simplify(geom, tolerance_deg, preserve_topology=True)))
                for i, geom in self._readable
            ]
            self._simplified[tolerance_deg] = {"type": "FeatureCollection", "features": features} if features else None
        return self._simplified[tolerance_deg]

    @cached_property
    def wkb_by_code(self) -> dict[str, bytes]:
        """Return upper-case code → outline as WKB bytes (scoring's over-land check). Every outline
        must be readable here: a run does not start on outlines it cannot read."""

        return {code.upper(): shapely.to_wkb(shape(g)) for code, g in zip(self.codes, self.geometries)}


_outlines: dict[str, Outlines] = {}
_outlines_lock = threading.Lock()


def boundary_version(kind: str) -> tuple[int, ...]:
    """Return the data version of the outlines of ``kind``: their count, largest id and total text
    length (codes, names, parents and geometries), in one aggregate query.

    Loading the boundaries again adds, deletes or rewrites rows (``grid.services``), and an edit
    in the admin rewrites one: each changes one of these. An edit that keeps every length the
    same is not seen until :func:`boundary_outlines_forget` or a restart.
    """
    text = (
        Length("code")
        + Length("name")
        + Length("parent_code")
        + Coalesce(Length(Cast("geometry_geojson", output_field=TextField())), 0)
    )
    agg = Boundary.objects.filter(kind=kind).aggregate(n=Count("id"), last=Max("id"), chars=Sum(text))
    return (int(agg["n"]), int(agg["last"] or 0), int(agg["chars"] or 0))


def boundary_outlines(kind: str) -> Outlines:
    """Return the outlines of ``kind`` (a ``Boundary.Kind``), sorted by code: the one read of the
    boundaries behind the API, the upload preview map, the PDF's maps and scoring's outlines.

    Cached per process and kind, keyed on :func:`boundary_version` (one small query per call):
    outlines loaded again are read again, and every form built from the old ones goes with them.
    """
    version = boundary_version(kind)
    with _outlines_lock:
        cached = _outlines.get(kind)
    if cached is not None and cached.version == version:
        return cached
    rows = list(
        Boundary.objects.filter(kind=kind)
        .order_by("code")
        .values_list("code", "name", "parent_code", "geometry_geojson")
    )
    outlines = Outlines(
        kind=kind,
        version=version,
        codes=tuple(str(r[0]) for r in rows),
        names=tuple(str(r[1]) for r in rows),
        parent_codes=tuple(str(r[2]) for r in rows),
        geometries=tuple(r[3] for r in rows),
    )
    with _outlines_lock:
        _outlines[kind] = outlines
    return outlines


def boundary_outlines_forget() -> None:
    """Forget the cached outlines (with the dashboard's caches: tests, after data changes)."""
    with _outlines_lock:
        _outlines.clear()


def known_headroom_provenance(point_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return, per point, the provenance of its current known headroom (the latest imported upload's)."""
    out: dict[int, dict[str, Any]] = {}
    rows = (
        KnownHeadroom.objects.filter(point_id__in=point_ids, upload__status=HeadroomUpload.Status.IMPORTED)
        .select_related("upload")
        .order_by("point_id", "-upload__uploaded_at")
    )
    for v in rows:
        out.setdefault(
            v.point_id,
            {
                "headroom_mw": v.headroom_mw,
                "as_of": v.as_of,
                "source": v.source or v.upload.source_name,
                "upload": v.upload.source_name,
                "upload_code": str(v.upload.code),
            },
        )
    return out
