"""Reads for the siting app: the sites frame that scoring consumes, runs and their results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .models import Site

SITE_FRAME_COLUMNS = (
    "site_id", "longitude", "latitude", "country", "area_ha", "grid_capacity_mw", "grid_voltage_kv",
    "pollution_status", "flood_zone", "water_access", "reconverted",
)


def site_frame(*, include_withdrawn: bool = False) -> pd.DataFrame:
    """Return every site as the frame ``siting.scoring.score_sites`` expects.

    Columns: site_id (int64 = pk), longitude/latitude (WGS84 degrees), country (ISO2),
    area_ha, grid_capacity_mw, grid_voltage_kv (NaN when unknown), pollution_status,
    flood_zone (1.0/0.0/NaN), water_access, reconverted (bool). Sorted by site_id.
    """
    qs = Site.objects.all() if include_withdrawn else Site.objects.filter(withdrawn=False)
    rows = qs.order_by("id").values_list(
        "id", "longitude", "latitude", "country", "area_ha", "grid_capacity_mw", "grid_voltage_kv",
        "pollution_status", "flood_zone", "water_access", "reconverted",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=list(SITE_FRAME_COLUMNS))
    frame["site_id"] = frame["site_id"].astype(np.int64)
    for col in ("longitude", "latitude", "area_ha", "grid_capacity_mw", "grid_voltage_kv"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["flood_zone"] = frame["flood_zone"].map({True: 1.0, False: 0.0}).astype(np.float64)
    frame["reconverted"] = frame["reconverted"].astype(bool)
    for col in ("country", "pollution_status", "water_access"):
        frame[col] = frame[col].astype(object)
    return frame


def data_summary() -> dict[str, object]:
    """Return what reference data is loaded, for the home page.

    Sites by source and country, grid points by source and voltage, zones with their data,
    and every dataset load with its vintage, licence and hash.
    """
    from django.db.models import Count

    from grid.models import Boundary, DatasetLoad, GridConnectionPoint, HourlyCarbonSeries, MonthlyCarbonIntensity, Zone

    sites = list(
        Site.objects.filter(withdrawn=False).values("source", "country").annotate(n=Count("id")).order_by("source", "-n")
    )
    points = list(
        GridConnectionPoint.objects.values("source", "voltage_kv").annotate(n=Count("id")).order_by("source", "-voltage_kv")
    )
    return {
        "n_sites": sum(r["n"] for r in sites),
        "sites_by_source_country": sites,
        "n_countries": len({r["country"] for r in sites}),
        "n_grid_points": sum(r["n"] for r in points),
        "grid_by_source_voltage": points,
        "n_zones_with_carbon": Zone.objects.filter(carbon_intensity_g_per_kwh__isnull=False).count(),
        "n_zones_with_price": Zone.objects.filter(price_eur_per_mwh__isnull=False).count(),
        "n_zones_with_cdd": Zone.objects.filter(cooling_degree_days__isnull=False).count(),
        "n_monthly_carbon": MonthlyCarbonIntensity.objects.count(),
        "hourly_series": list(HourlyCarbonSeries.objects.values("zone__code", "year", "basis", "mean_g_per_kwh")),
        "n_boundaries": Boundary.objects.count(),
        "datasets": list(DatasetLoad.objects.all()),
    }
