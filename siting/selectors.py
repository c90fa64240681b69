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
