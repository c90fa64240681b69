"""Reads for the grid app, shaped for the scoring engine (``siting.scoring``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .models import GridConnectionPoint, GridLine, HeadroomUpload, HourlyCarbonSeries, KnownHeadroom, Zone


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
    rows = (
        GridLine.objects.filter(status=GridLine.Status.IN_SERVICE)
        .order_by("id")
        .values_list("id", "voltage_kv", "rating_mw", "country", "geometry_geojson")
    )
    line_ids, seqs, lons, lats, kvs, ratings, countries = [], [], [], [], [], [], []  # type: ignore[var-annotated]
    for line_id, kv, rating, country, geometry in rows:
        coords = geometry["coordinates"]
        n = len(coords)
        line_ids.extend([line_id] * n)
        seqs.extend(range(n))
        lons.extend(c[0] for c in coords)
        lats.extend(c[1] for c in coords)
        kvs.extend([kv] * n)
        ratings.extend([rating] * n)
        countries.extend([country] * n)
    return pd.DataFrame(
        {
            "line_id": np.asarray(line_ids, dtype=np.int64),
            "seq": np.asarray(seqs, dtype=np.int64),
            "longitude": np.asarray(lons, dtype=np.float64),
            "latitude": np.asarray(lats, dtype=np.float64),
            "voltage_kv": np.asarray(kvs, dtype=np.float64),
            "rating_mw": np.asarray(ratings, dtype=np.float64),
            "country": pd.Series(countries, dtype=object),
        },
        columns=columns,
    )


def country_outline_wkb_map() -> dict[str, bytes]:
    """Return ISO2 → the country's outline as WKB bytes (WGS84), from the ``Boundary`` rows of
    kind country: the land the scoring engine's new lines must stay over."""
    import shapely
    from shapely.geometry import shape

    from .models import Boundary

    out: dict[str, bytes] = {}
    for code, geometry in (
        Boundary.objects.filter(kind=Boundary.Kind.COUNTRY).order_by("code").values_list("code", "geometry_geojson")
    ):
        out[str(code).upper()] = shapely.to_wkb(shape(geometry))
    return out


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
