"""Reads for the grid app, shaped for the scoring engine (``siting.scoring``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .models import GridConnectionPoint, HourlyCarbonSeries, Zone


def grid_point_frame(*, status: str = GridConnectionPoint.Status.IN_SERVICE) -> pd.DataFrame:
    """Return connection points with a known voltage: point_id (pk), longitude, latitude
    (WGS84 degrees), voltage_kv [kV], headroom_mw [MW] (NaN = unknown). Sorted by point_id."""
    rows = (
        GridConnectionPoint.objects.filter(status=status, voltage_kv__isnull=False)
        .order_by("id")
        .values_list("id", "longitude", "latitude", "voltage_kv", "headroom_mw")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["point_id", "longitude", "latitude", "voltage_kv", "headroom_mw"])
    frame["point_id"] = frame["point_id"].astype(np.int64)
    for col in ("longitude", "latitude", "voltage_kv", "headroom_mw"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    return frame


def zone_frame() -> pd.DataFrame:
    """Return zones: country (ISO2), carbon_intensity_g_per_kwh, price_eur_per_mwh,
    cooling_degree_days (NaN where the source has none)."""
    rows = Zone.objects.order_by("code").values_list("code", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days")
    frame = pd.DataFrame.from_records(list(rows), columns=["country", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days"])
    for col in ("carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["country"] = frame["country"].astype(object)
    return frame


def hourly_carbon_map(*, basis: str = Zone.CarbonBasis.LIFECYCLE) -> dict[str, np.ndarray]:
    """Return zone code → the latest year's 8,760 hourly intensities [g/kWh] on ``basis``."""
    out: dict[str, np.ndarray] = {}
    for code, values in HourlyCarbonSeries.objects.filter(basis=basis).order_by("zone__code", "year").values_list(
        "zone__code", "values_g_per_kwh"
    ):
        out[code] = np.asarray(values, dtype=np.float64)
    return out
