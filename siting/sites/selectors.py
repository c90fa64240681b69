"""Reads of the loaded sites: the site frame scoring consumes, data counts and coverage."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Sum

from grid.models import (
    Boundary,
    DatasetLoad,
    GridConnectionPoint,
    GridLine,
    HourlyCarbonSeries,
    MonthlyCarbonIntensity,
    Zone,
)
from siting.models import Site, SourceRecord

SITE_FRAME_COLUMNS = (
    "site_id",
    "longitude",
    "latitude",
    "country",
    "area_ha",
    "grid_capacity_mw",
    "grid_voltage_kv",
    "pollution_status",
    "flood_zone",
    "water_access",
    "reconverted",
    "closure_year",
    "former_use",
    "still_operating",
    "zoning_type",
    "buildings_state",
    "has_project",
    "area_estimated",
)


def rows_fetch(queryset) -> list[tuple]:
    """Return the rows of a ``values_list`` queryset of plain columns (numbers, text, booleans)
    through the database cursor, without Django's per-value converters.

    The same values as ``list(queryset)`` for such columns: the SQLite backend registers its own
    converters for booleans on the connection, and psycopg returns Python numbers, text and
    booleans. For the 19,009 shipped sites, 0.06 s instead of 0.09–0.15 s (2026-11-29), on the
    path of every run's start, while its workers wait.
    """
    try:
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # a filter no row can match (``.none()``, ``id__in=[]``)
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def site_frame(*, include_withdrawn: bool = False) -> pd.DataFrame:
    """Return every site as the frame ``siting.scoring.score_sites`` expects.

    Columns: site_id (int64 = pk), longitude/latitude (WGS84 degrees), country (ISO2),
    area_ha, grid_capacity_mw, grid_voltage_kv (NaN when unknown), pollution_status,
    flood_zone (1.0/0.0/NaN), water_access, reconverted (bool), closure_year (float64, NaN
    unknown; the latest closure among the place's records), former_use (object),
    still_operating (bool: a plant of the site still runs, MODEL.md §5), zoning_type (object,
    Cartofriches urba_zone_type, "" unknown), buildings_state (object: "standing", "none" or
    "" unknown), has_project (bool: Cartofriches "friche avec projet"), area_estimated (bool:
    the area is not an observation, e.g. an unverified candidate's land unit). Sorted by site_id.
    """
    qs = Site.objects.all() if include_withdrawn else Site.objects.filter(withdrawn=False)
    rows = qs.order_by("id").values_list(
        "id",
        "longitude",
        "latitude",
        "country",
        "area_ha",
        "grid_capacity_mw",
        "grid_voltage_kv",
        "pollution_status",
        "flood_zone",
        "water_access",
        "reconverted",
        "closure_year",
        "former_use",
        "still_operating",
        "zoning_type",
        "buildings_state",
        "has_project",
        "area_estimated",
    )
    frame = pd.DataFrame.from_records(rows_fetch(rows), columns=list(SITE_FRAME_COLUMNS))
    frame["site_id"] = frame["site_id"].astype(np.int64)
    for col in ("longitude", "latitude", "area_ha", "grid_capacity_mw", "grid_voltage_kv", "closure_year"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["flood_zone"] = frame["flood_zone"].map({True: 1.0, False: 0.0}).astype(np.float64)
    for col in ("reconverted", "still_operating", "has_project", "area_estimated"):
        frame[col] = frame[col].astype(bool)
    for col in ("country", "pollution_status", "water_access", "former_use", "zoning_type", "buildings_state"):
        frame[col] = frame[col].astype(object)
    return frame


def data_summary() -> dict[str, object]:
    """Return what reference data is loaded, for the home page.

    Sites by source and country, grid points by source and voltage, zones with their data,
    and every dataset load with its vintage, licence and hash.
    """

    sites = list(
        Site.objects.filter(withdrawn=False)
        .values("source", "country")
        .annotate(n=Count("id"))
        .order_by("source", "-n")
    )
    points = list(
        GridConnectionPoint.objects.values("source", "voltage_kv")
        .annotate(n=Count("id"))
        .order_by("source", "-voltage_kv")
    )
    return {
        "n_sites": sum(r["n"] for r in sites),
        "sites_by_source_country": sites,
        "n_countries": len({r["country"] for r in sites}),
        "n_grid_points": sum(r["n"] for r in points),
        "grid_by_source_voltage": points,
        **_grid_network_summary(),
        "n_zones_with_carbon": Zone.objects.filter(carbon_intensity_g_per_kwh__isnull=False).count(),
        "n_zones_with_price": Zone.objects.filter(price_eur_per_mwh__isnull=False).count(),
        "n_zones_with_cdd": Zone.objects.filter(cooling_degree_days__isnull=False).count(),
        "n_monthly_carbon": MonthlyCarbonIntensity.objects.count(),
        "hourly_series": list(HourlyCarbonSeries.objects.values("zone__code", "year", "basis", "mean_g_per_kwh")),
        "n_boundaries": Boundary.objects.count(),
        "datasets": list(DatasetLoad.objects.all()),
        **site_coverage(),
    }


SITE_DATASETS = ("brownfields", "power_plants", "gem_coal", "gem_gas", "gem_steel", "ebc_units", "eu_ets")
"""Datasets whose load notes say which records were left out, and why."""


def _grid_network_summary() -> dict[str, object]:
    """Return grid points by country and voltage, lines by voltage, headroom estimates by
    method, and the rows each grid file left out, by reason (DatasetLoad.notes)."""

    by_country = list(
        GridConnectionPoint.objects.values("country", "voltage_kv")
        .annotate(n=Count("id"))
        .order_by("country", "-voltage_kv")
    )
    lines = list(
        GridLine.objects.values("voltage_kv", "status")
        .annotate(n=Count("id"), length_km=Sum("length_km"), rating_mw=Sum("rating_mw"))
        .order_by("-voltage_kv", "status")
    )
    methods = list(
        GridConnectionPoint.objects.values("source", "headroom_method")
        .annotate(n=Count("id"))
        .order_by("source", "headroom_method")
    )
    dropped = [
        {"dataset": d.dataset, "reason": reason.replace("_", " "), "n": n}
        for d in DatasetLoad.objects.filter(
            dataset__in=["gridkit_buses", "gridkit_lines", "rte_substations", "capareseau"]
        ).order_by("dataset")
        for reason, n in (d.notes or {}).items()
        if n
    ]
    return {
        "grid_by_country_voltage": by_country,
        "grid_lines_by_voltage": lines,
        "n_grid_lines": sum(r["n"] for r in lines),
        "grid_headroom_methods": methods,
        "grid_dropped": dropped,
    }


def site_coverage() -> dict[str, object]:
    """Return what the reference sites cover, for the home and sources pages.

    ``coverage``: per country, the reference sites, those still operating, and the records of
    each source on its sites; ``merged``: how many sites combine records of each set of sources;
    ``dropped``: per dataset, the records left out and why (from the load notes).
    """

    sources = [s for s, _ in Site._meta.get_field("source").choices if s != "upload"]  # type: ignore[union-attr]
    by_country: dict[str, dict[str, object]] = {}
    reference = Site.objects.filter(withdrawn=False).exclude(source="upload")
    for country, still, n in reference.values_list("country", "still_operating").annotate(n=Count("id")):
        row = by_country.setdefault(
            country, {"country": country, "sites": 0, "still_operating": 0, "records": dict.fromkeys(sources, 0)}
        )
        row["sites"] += n
        if still:
            row["still_operating"] += n
    for country, source, n in SourceRecord.objects.values_list("site__country", "source").annotate(n=Count("id")):
        if country in by_country and source in by_country[country]["records"]:  # type: ignore[operator]
            by_country[country]["records"][source] += n  # type: ignore[index]
    coverage = sorted(by_country.values(), key=lambda r: (-r["sites"], r["country"]))  # type: ignore[operator]
    for row in coverage:
        row["records_in_order"] = [row["records"][s] for s in sources]  # type: ignore[index]
    combos: dict[str, int] = {}
    multi: dict[int, set[str]] = {}
    for site_id, source in SourceRecord.objects.values_list("site_id", "source").order_by():
        multi.setdefault(site_id, set()).add(source)
    counts = dict(SourceRecord.objects.values_list("site_id").annotate(n=Count("id")).values_list("site_id", "n"))
    for site_id, group in multi.items():
        if counts.get(site_id, 0) > 1:
            key = " + ".join(sorted(group))
            combos[key] = combos.get(key, 0) + 1
    dropped = []
    for load in DatasetLoad.objects.filter(dataset__in=SITE_DATASETS).order_by("dataset"):
        for reason, n in sorted((getattr(load, "notes", None) or {}).items()):
            if isinstance(n, int) and n and reason != "voltage_matched":
                dropped.append({"dataset": load.dataset, "reason": reason.replace("_", " "), "n": n})
    return {
        "coverage_sources": sources,
        "coverage": coverage,
        "merged": sorted(({"sources": k, "n_sites": v} for k, v in combos.items()), key=lambda r: -r["n_sites"]),  # type: ignore[operator]
        "dropped": dropped,
    }


# --- site attributes, cached per process ------------------------------------------------------

SITE_ATTRIBUTE_TTL_S = 30.0
"""How long site attributes stay cached [s]: a withdrawn upload shows within this delay."""

_site_lock = threading.Lock()
_site_cache: dict[str, Any] = {"at": -math.inf, "frame": None, "generation": 0}


def site_attributes() -> pd.DataFrame:
    """Return every site's descriptive columns, indexed by site id (cached a few seconds)."""
    now = time.monotonic()
    with _site_lock:
        if _site_cache["frame"] is not None and now - _site_cache["at"] < SITE_ATTRIBUTE_TTL_S:
            return _site_cache["frame"]
    columns = [
        "id",
        "external_id",
        "name",
        "country",
        "region_code",
        "departement_code",
        "municipality",
        "former_use",
        "longitude",
        "latitude",
        "pollution_status",
        "flood_zone",
        "area_ha",
        "withdrawn",
        "source",
    ]
    frame = pd.DataFrame.from_records(list(Site.objects.values_list(*columns)), columns=columns)
    frame = frame.rename(columns={"name": "site_name"}).set_index("id")
    frame["flood_zone"] = frame["flood_zone"].map({True: 1.0, False: 0.0}).astype(float)
    with _site_lock:
        _site_cache.update(at=now, frame=frame, generation=_site_cache["generation"] + 1)
    return frame


def site_attributes_forget() -> None:
    """Make the next read reload site attributes (after an import or a withdrawal here;
    other processes see the change within ``SITE_ATTRIBUTE_TTL_S``)."""
    with _site_lock:
        _site_cache.update(at=-math.inf, frame=None)


def site_attributes_generation() -> int:
    """Return how many times this process has loaded the site attributes (a cache key part)."""
    with _site_lock:
        return int(_site_cache["generation"])
