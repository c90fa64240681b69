"""Load the reference data in ``fixtures/`` into the database: all of it, or nothing.

``reference_data_load`` reads and checks every file first, then writes inside one
transaction: rows are created, updated (only the fields that changed) or deleted (reference
rows that left the fixtures; uploaded sites are never touched). A second run with the same
files changes nothing and says so.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import models, transaction

from .importers import boundaries as boundary_files
from .importers import grid_points, zones as zone_files
from .models import Boundary, DatasetLoad, GridConnectionPoint, HourlyCarbonSeries, MonthlyCarbonIntensity, Zone

HOURLY_YEAR = 2021
HOURLY_ZONES = ("FR", "ES", "PT")


@dataclass(frozen=True)
class Dataset:
    """One reference file: where it is under ``fixtures/``, its licence and vintage."""

    key: str
    path: str
    source: str
    licence: str
    vintage: str


DATASETS = {
    d.key: d
    for d in (
        Dataset("brownfields", "brownfields/cartofriches_friches_2024-03.csv.gz", "Cerema – Cartofriches", "Licence Ouverte 2.0", "2024-03"),
        Dataset("power_plants", "power_plants/powerplantmatching_powerplants_v0.6.1.csv.gz", "powerplantmatching (PyPSA)", "CC BY 4.0", "v0.6.1 (2025-01-16)"),
        Dataset("production_units", "power_plants/entsoe_tp_production_units_with_connection_voltage.csv", "ENTSO-E Transparency Platform", "ENTSO-E terms (verify)", "unknown"),
        Dataset("still_running", "power_plants/known_still_running.csv", "Gigasite curation", "CC BY 4.0", "2026-11"),
        Dataset("rte_substations", "grid/postes_electriques_rte.csv.gz", "RTE – ODRÉ", "Licence Ouverte 2.0", "2024-09 copy"),
        Dataset("gridkit_buses", "grid/entsoegridkit_buses.csv.gz", "ENTSO-E grid map via GridKit / PyPSA-Eur", "CC BY 4.0 per PyPSA-Eur (verify)", "2022-03"),
        Dataset("ember_yearly", "carbon/ember_country_overview_yearly.csv.gz", "Ember", "CC BY 4.0", "2025-05"),
        Dataset("ember_monthly", "carbon/ember_country_overview_monthly_europe.csv.gz", "Ember", "CC BY 4.0", "2025-05"),
        Dataset("entsoe_generation_FR", "carbon/FR_actual_generation_per_production_type_2021.csv.gz", "ENTSO-E Transparency Platform", "ENTSO-E terms (verify)", "2021"),
        Dataset("entsoe_generation_ES", "carbon/ES_actual_generation_per_production_type_2021.csv.gz", "ENTSO-E Transparency Platform", "ENTSO-E terms (verify)", "2021"),
        Dataset("entsoe_generation_PT", "carbon/PT_actual_generation_per_production_type_2021.csv.gz", "ENTSO-E Transparency Platform", "ENTSO-E terms (verify)", "2021"),
        Dataset("ember_prices", "prices/ember_wholesale_day_ahead_price_monthly_europe.csv.gz", "Ember", "CC BY 4.0", "2024-10"),
        Dataset("eurostat_cdd", "climate/eurostat_nrg_chdd_a_country_cdd_hdd_1979-2024.csv", "Eurostat nrg_chdd_a", "CC BY 4.0", "1979–2024"),
        Dataset("countries", "boundaries/ne_50m_admin_0_countries_europe.geojson.gz", "Natural Earth 1:50m", "Public domain", "v4.0"),
        Dataset("regions", "boundaries/france_regions-version-simplifiee.geojson", "IGN Admin Express COG 2018", "Licence Ouverte", "2018"),
        Dataset("departements", "boundaries/france_departements-version-simplifiee.geojson", "IGN Admin Express COG 2018", "Licence Ouverte", "2018"),
    )
}


@dataclass
class TableReport:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@dataclass
class LoadReport:
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(t.changed for t in self.tables.values())


def _clean(value: Any) -> Any:
    """Return ``value`` as the database gives it back: NaN → None, numpy → Python."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (float, int)):
        return a == float(b)
    return a == b


def _sync(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    rows: Iterable[dict[str, Any]],
    scope: models.QuerySet,
    int_fields: Iterable[str] = (),
) -> TableReport:
    """Make ``scope`` hold exactly ``rows`` (matched on ``key_fields``), writing only differences."""
    report = TableReport()
    int_fields = set(int_fields)
    incoming: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        clean = {k: _clean(v) for k, v in row.items()}
        for f in int_fields:
            if clean.get(f) is not None:
                clean[f] = int(clean[f])
        incoming[tuple(clean[k] for k in key_fields)] = clean
    fields = list(next(iter(incoming.values())).keys()) if incoming else []
    existing = {}
    for obj in scope.only("pk", *fields):
        existing[tuple(getattr(obj, k) for k in key_fields)] = obj
    to_create, to_update, changed_fields = [], [], set()
    for key, values in incoming.items():
        obj = existing.pop(key, None)
        if obj is None:
            to_create.append(model(**values))
            continue
        diff = [f for f, v in values.items() if not _same(getattr(obj, f), v)]
        if diff:
            for f in diff:
                setattr(obj, f, values[f])
            changed_fields.update(diff)
            to_update.append(obj)
        else:
            report.unchanged += 1
    if to_create:
        model.objects.bulk_create(to_create, batch_size=2000)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=1000)
    if existing:
        model.objects.filter(pk__in=[o.pk for o in existing.values()]).delete()
    report.created, report.updated, report.deleted = len(to_create), len(to_update), len(existing)
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_fixtures_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures"


def _parse_all(root: Path, current_year: int) -> dict[str, Any]:
    """Read and check every file; raise ReferenceDataError before anything is written."""
    from siting.importers import reference as site_files

    p = {key: root / d.path for key, d in DATASETS.items()}
    iso2 = zone_files.iso3_to_iso2(p["countries"])
    regions = boundary_files.france_subdivisions(p["regions"], "region")
    departements = boundary_files.france_subdivisions(p["departements"], "departement")
    dep_region = boundary_files.departement_regions(departements, regions)
    departements["parent_code"] = departements["code"].map(dep_region).fillna("")
    countries = boundary_files.countries(p["countries"])
    rte, rte_notes = grid_points.rte_substations(p["rte_substations"])
    gridkit, gridkit_notes = grid_points.gridkit_buses(p["gridkit_buses"], exclude_countries={"FR"})
    brownfields = site_files.cartofriches_sites(p["brownfields"], dep_region)
    plants, plant_notes = site_files.retired_plants(
        p["power_plants"], p["production_units"], p["still_running"], current_year=current_year
    )
    yearly = zone_files.ember_yearly(p["ember_yearly"], iso2)
    prices = zone_files.ember_prices(p["ember_prices"], iso2)
    cdd = zone_files.eurostat_cdd(p["eurostat_cdd"])
    zone_frame = yearly.merge(prices, on="code", how="outer").merge(cdd, on="code", how="outer")
    names = dict(zip(countries["code"], countries["name"]))
    zone_frame["name"] = zone_frame["name"].fillna(zone_frame["code"].map(names)).fillna(zone_frame["code"])
    zone_frame["iso3"] = zone_frame["iso3"].fillna("")
    monthly = zone_files.ember_monthly(p["ember_monthly"], iso2)
    hourly = {code: zone_files.entsoe_hourly_carbon(p[f"entsoe_generation_{code}"]) for code in HOURLY_ZONES}
    return {
        "paths": p, "rte": rte, "gridkit": gridkit, "brownfields": brownfields, "plants": plants,
        "zones": zone_frame, "monthly": monthly, "hourly": hourly,
        "boundaries": pd.concat([countries, regions, departements], ignore_index=True),
        "notes": {"rte_substations": rte_notes, "gridkit_buses": gridkit_notes, "power_plants": plant_notes},
    }


SITE_FIELDS = (
    "external_id", "name", "country", "region_code", "departement_code", "municipality", "longitude", "latitude",
    "area_ha", "former_use", "former_activity", "closure_year", "grid_capacity_mw", "grid_voltage_kv",
    "pollution_status", "reconverted", "source_status", "source", "source_url", "source_date", "source_vintage",
)
ZONE_FIELDS = (
    "code", "iso3", "name", "carbon_intensity_g_per_kwh", "carbon_year", "carbon_basis", "carbon_source",
    "price_eur_per_mwh", "price_period_start", "price_period_end", "price_source", "cooling_degree_days", "cdd_period", "cdd_source",
)


def _records(frame: pd.DataFrame, fields: Iterable[str], defaults: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict("records"):
        row = {f: rec.get(f, (defaults or {}).get(f)) for f in fields}
        for f, v in (defaults or {}).items():
            if row.get(f) is None or (isinstance(row[f], float) and math.isnan(row[f])):
                row[f] = v
        out.append(row)
    return out


def reference_data_load(*, fixtures_dir: Path | None = None, current_year: int | None = None) -> LoadReport:
    """Load every reference dataset from ``fixtures_dir``, atomically and idempotently."""
    from siting.models import Site

    started = time.perf_counter()
    root = Path(fixtures_dir or default_fixtures_dir())
    parsed = _parse_all(root, current_year or date.today().year)
    report = LoadReport(notes=parsed["notes"])
    with transaction.atomic():
        points = pd.concat([parsed["rte"], parsed["gridkit"]], ignore_index=True)
        points["source"] = np.where(points["external_id"].str.startswith("rte:"), "rte", "gridkit")
        points["source_vintage"] = np.where(points["source"] == "rte", DATASETS["rte_substations"].vintage, DATASETS["gridkit_buses"].vintage)
        report.tables["grid points"] = _sync(
            GridConnectionPoint, ("external_id",),
            _records(points, ("external_id", "name", "operator", "country", "longitude", "latitude", "voltage_kv", "status", "function", "source", "source_vintage")),
            GridConnectionPoint.objects.filter(source__in=["rte", "gridkit"]),
        )
        sites = pd.concat([parsed["brownfields"], parsed["plants"]], ignore_index=True)
        report.tables["sites"] = _sync(
            Site, ("external_id",), _records(sites, SITE_FIELDS), Site.objects.filter(source__in=["cartofriches", "powerplantmatching"]),
            int_fields=("closure_year",),
        )
        report.tables["zones"] = _sync(
            Zone, ("code",), _records(parsed["zones"], ZONE_FIELDS, {"carbon_basis": "lifecycle", "carbon_source": "", "price_source": "", "cdd_period": "", "cdd_source": ""}),
            Zone.objects.all(), int_fields=("carbon_year",),
        )
        zone_ids = dict(Zone.objects.values_list("code", "id"))
        monthly = parsed["monthly"]
        monthly = monthly[monthly["code"].isin(zone_ids)]
        report.tables["monthly carbon"] = _sync(
            MonthlyCarbonIntensity, ("zone_id", "month"),
            [{"zone_id": zone_ids[c], "month": m, "carbon_intensity_g_per_kwh": v, "source": "Ember monthly (CC BY 4.0)"}
             for c, m, v in zip(monthly["code"], monthly["month"], monthly["carbon_intensity_g_per_kwh"])],
            MonthlyCarbonIntensity.objects.all(),
        )
        report.tables["hourly carbon"] = _sync(
            HourlyCarbonSeries, ("zone_id", "year", "basis"),
            [{"zone_id": zone_ids[c], "year": HOURLY_YEAR, "basis": "lifecycle", "values_g_per_kwh": [round(float(x), 6) for x in s],
              "mean_g_per_kwh": round(float(np.mean(s)), 6),
              "source": "ENTSO-E actual generation per production type × IPCC AR5 life-cycle medians"}
             for c, s in parsed["hourly"].items() if c in zone_ids],
            HourlyCarbonSeries.objects.all(),
        )
        report.tables["boundaries"] = _sync(
            Boundary, ("kind", "code"), _records(parsed["boundaries"], ("kind", "code", "name", "parent_code", "geometry_geojson", "source")),
            Boundary.objects.all(),
        )
        row_counts = {
            "brownfields": len(parsed["brownfields"]), "power_plants": len(parsed["plants"]), "rte_substations": len(parsed["rte"]),
            "gridkit_buses": len(parsed["gridkit"]), "ember_yearly": int(parsed["zones"]["carbon_intensity_g_per_kwh"].notna().sum()),
            "ember_monthly": len(monthly), "ember_prices": int(parsed["zones"]["price_eur_per_mwh"].notna().sum()),
            "eurostat_cdd": int(parsed["zones"]["cooling_degree_days"].notna().sum()),
            "countries": int((parsed["boundaries"]["kind"] == "country").sum()),
            "regions": int((parsed["boundaries"]["kind"] == "region").sum()),
            "departements": int((parsed["boundaries"]["kind"] == "departement").sum()),
        }
        report.tables["dataset records"] = _sync(
            DatasetLoad, ("dataset",),
            [{"dataset": key, "file_name": Path(d.path).name, "sha256": _sha256(parsed["paths"][key]),
              "rows": int(row_counts.get(key, 8760 if key.startswith("entsoe_generation") else 0)),
              "vintage": d.vintage, "source": d.source, "licence": d.licence} for key, d in DATASETS.items()],
            DatasetLoad.objects.all(),
        )
    report.seconds = time.perf_counter() - started
    return report
