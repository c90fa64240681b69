"""Load the grid's reference data in ``fixtures/``: grid network, zones, carbon, boundaries.

``siting.sites.services.reference_data_load`` orchestrates a load: it reads and checks every
file first (``grid_data_parse`` here, the site sources there), then writes inside one
transaction: rows are created, updated (only the fields that changed) or deleted (reference
rows that left the fixtures; uploaded sites are never touched). A second run with the same
files changes nothing and says so.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import models

from .importers import boundaries as boundary_files
from .importers import grid_points, network
from .importers import zones as zone_files
from .models import (
    Boundary,
    DatasetLoad,
    GridConnectionPoint,
    GridLine,
    HourlyCarbonSeries,
    MonthlyCarbonIntensity,
    Zone,
)
from .scope import DEFAULT_SCOPE_ISO2

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
        Dataset(
            "brownfields",
            "brownfields/cartofriches_friches_2024-03.csv.gz",
            "Cerema – Cartofriches",
            "Licence Ouverte 2.0",
            "2024-03",
        ),
        Dataset(
            "power_plants",
            "power_plants/powerplantmatching_powerplants_v0.6.1.csv.gz",
            "powerplantmatching (PyPSA)",
            "CC BY 4.0",
            "v0.6.1 (2025-01-16)",
        ),
        Dataset(
            "production_units",
            "power_plants/entsoe_tp_production_units_with_connection_voltage.csv",
            "ENTSO-E Transparency Platform",
            "ENTSO-E terms (verify)",
            "unknown",
        ),
        Dataset("still_running", "power_plants/known_still_running.csv", "Gigasite curation", "CC BY 4.0", "2026-11"),
        Dataset(
            "gem_coal",
            "power_plants/gem_coal_plant_tracker_2024-07_europe_units.csv.gz",
            "Global Energy Monitor – Global Coal Plant Tracker",
            "CC BY 4.0",
            "2024-07",
        ),
        Dataset(
            "gem_gas",
            "power_plants/gem_gas_plant_tracker_2024-08_europe_units.csv.gz",
            "Global Energy Monitor – Global Oil and Gas Plant Tracker",
            "CC BY 4.0",
            "2024-08",
        ),
        Dataset(
            "gem_steel",
            "power_plants/gem_iron_steel_tracker_2025-03_europe_units.csv.gz",
            "Global Energy Monitor – Global Iron and Steel Tracker",
            "CC BY 4.0 (notice stated generically: verify)",
            "2025-03",
        ),
        Dataset(
            "ebc_plants",
            "power_plants/europe_beyond_coal_2021-07_plants.csv.gz",
            "Europe Beyond Coal – European Coal Plant Database",
            "ODbL 1.0",
            "2021-07-21",
        ),
        Dataset(
            "ebc_units",
            "power_plants/europe_beyond_coal_2021-07_units.csv.gz",
            "Europe Beyond Coal – European Coal Plant Database",
            "ODbL 1.0",
            "2021-07-21",
        ),
        Dataset(
            "eu_ets",
            "industry/eu_ets_installations_2005-2022.csv.gz",
            "European Commission – EU Transaction Log, compiled by C. Rossi (cedricr/eutl)",
            "CC BY 4.0",
            "2005–2022 (2023-06)",
        ),
        Dataset(
            "rte_substations", "grid/postes_electriques_rte.csv.gz", "RTE – ODRÉ", "Licence Ouverte 2.0", "2024-09 copy"
        ),
        Dataset(
            "gridkit_buses",
            "grid/entsoegridkit_buses.csv.gz",
            "ENTSO-E grid map via GridKit / PyPSA-Eur",
            "CC BY 4.0 per PyPSA-Eur (verify)",
            "2022-03",
        ),
        Dataset(
            "gridkit_lines",
            "grid/entsoegridkit_lines.csv.gz",
            "ENTSO-E grid map via GridKit / PyPSA-Eur",
            "CC BY 4.0 per PyPSA-Eur (verify)",
            "2022-03",
        ),
        Dataset("pypsa_line_types", "grid/pypsa_line_types.csv", "PyPSA standard line types", "MIT", "PyPSA 1.4.0"),
        Dataset(
            "capareseau",
            "grid/capareseau_2026-04-28.csv.gz",
            "Caparéseau (RTE and distribution operators)",
            "not stated (verify)",
            "2026-04-28",
        ),
        Dataset("ember_yearly", "carbon/ember_country_overview_yearly.csv.gz", "Ember", "CC BY 4.0", "2025-05"),
        Dataset(
            "ember_monthly", "carbon/ember_country_overview_monthly_europe.csv.gz", "Ember", "CC BY 4.0", "2025-05"
        ),
        Dataset(
            "entsoe_generation_FR",
            "carbon/FR_actual_generation_per_production_type_2021.csv.gz",
            "ENTSO-E Transparency Platform",
            "ENTSO-E terms (verify)",
            "2021",
        ),
        Dataset(
            "entsoe_generation_ES",
            "carbon/ES_actual_generation_per_production_type_2021.csv.gz",
            "ENTSO-E Transparency Platform",
            "ENTSO-E terms (verify)",
            "2021",
        ),
        Dataset(
            "entsoe_generation_PT",
            "carbon/PT_actual_generation_per_production_type_2021.csv.gz",
            "ENTSO-E Transparency Platform",
            "ENTSO-E terms (verify)",
            "2021",
        ),
        Dataset(
            "ember_prices",
            "prices/ember_wholesale_day_ahead_price_monthly_europe.csv.gz",
            "Ember",
            "CC BY 4.0",
            "2024-10",
        ),
        Dataset(
            "eurostat_cdd",
            "climate/eurostat_nrg_chdd_a_country_cdd_hdd_1979-2024.csv",
            "Eurostat nrg_chdd_a",
            "CC BY 4.0",
            "1979–2024",
        ),
        Dataset(
            "countries",
            "boundaries/ne_50m_admin_0_countries_europe.geojson.gz",
            "Natural Earth 1:50m",
            "Public domain",
            "v4.0",
        ),
        Dataset(
            "regions",
            "boundaries/france_regions-version-simplifiee.geojson",
            "IGN Admin Express COG 2018",
            "Licence Ouverte",
            "2018",
        ),
        Dataset(
            "departements",
            "boundaries/france_departements-version-simplifiee.geojson",
            "IGN Admin Express COG 2018",
            "Licence Ouverte",
            "2018",
        ),
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
        model.objects.bulk_create(to_create, batch_size=2000)  # type: ignore[attr-defined]
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=1000)  # type: ignore[attr-defined]
    if existing:
        model.objects.filter(pk__in=[o.pk for o in existing.values()]).delete()  # type: ignore[attr-defined]
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


def grid_data_parse(root: Path) -> dict[str, Any]:
    """Read and check the grid, zone, carbon and boundary files; raise ReferenceDataError before anything is written.

    Also returns what the site sources need: the country outlines and the département → region map.
    """
    p = {key: root / d.path for key, d in DATASETS.items()}
    iso2 = zone_files.iso3_to_iso2(p["countries"])
    regions = boundary_files.france_subdivisions(p["regions"], "region")
    departements = boundary_files.france_subdivisions(p["departements"], "departement")
    dep_region = boundary_files.departement_regions(departements, regions)
    departements["parent_code"] = departements["code"].map(dep_region).fillna("")
    countries = boundary_files.countries(p["countries"])
    rte, rte_notes = grid_points.rte_substations(p["rte_substations"])
    grid = _parse_grid(p, countries, rte)
    gridkit = grid["gridkit"]
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
        "paths": p,
        "countries": countries,
        "dep_region": dep_region,
        "n_capareseau": grid["n_capareseau"],
        "rte": grid["rte"],
        "gridkit": gridkit,
        "grid_lines": grid["lines"],
        "zones": zone_frame,
        "monthly": monthly,
        "hourly": hourly,
        "boundaries": pd.concat([countries, regions, departements], ignore_index=True),
        "notes": {"rte_substations": rte_notes, **grid["notes"]},
    }


GRID_POINT_FIELDS = (
    "external_id",
    "name",
    "operator",
    "country",
    "longitude",
    "latitude",
    "voltage_kv",
    "status",
    "function",
    "headroom_estimate_mw",
    "headroom_method",
    "source",
    "source_vintage",
)
GRID_LINE_FIELDS = (
    "external_id",
    "bus0_external_id",
    "bus1_external_id",
    "voltage_kv",
    "source_voltage_kv",
    "circuits",
    "underground",
    "length_km",
    "line_type",
    "rating_mva",
    "rating_mw",
    "country",
    "countries",
    "geometry_geojson",
    "status",
    "source",
    "source_vintage",
)


def _parse_grid(p: dict[str, Path], countries: pd.DataFrame, rte: pd.DataFrame) -> dict[str, Any]:
    """Read the grid network and attach the network estimate of headroom to the grid points.

    GridKit buses of 220 kV and above inside the scope (France from RTE), every GridKit line
    of 220 kV and above touching the scope with its rating, and per point the estimate of
    MODEL.md §2 with its method. For an RTE substation the precedence is: lines N-1 of the
    GridKit station it matches (``network.match_rte_to_gridkit``), which measure the network
    at the voltage a large load connects to; else transformers N-1 from Caparéseau (HTB/HTA
    transformers, joined on the trimmed code); else none. A known ``headroom_mw`` is never
    written here, and the class default lives in the scoring engine.
    """
    locator = network.CountryLocator(countries)
    table = network.gridkit_bus_table(p["gridkit_buses"], locator=locator)
    gridkit, bus_notes = grid_points.gridkit_buses(
        p["gridkit_buses"], exclude_countries={"FR"}, scope=DEFAULT_SCOPE_ISO2, table=table
    )
    ratings = network.line_type_ratings(p["pypsa_line_types"])
    classes = {kv: grid_points.GRIDKIT_VOLTAGE_KV[kv] for kv in ratings}
    lines, all_lines, line_notes = network.gridkit_lines(
        p["gridkit_lines"],
        ratings=ratings,
        buses=table,
        locator=locator,
        scope=DEFAULT_SCOPE_ISO2,
        voltage_classes=classes,
    )
    lines["source"] = "gridkit"
    lines["source_vintage"] = DATASETS["gridkit_lines"].vintage
    by_station = network.line_headroom_by_bus(all_lines, table)

    gridkit = gridkit.merge(
        by_station, left_on=["_station", "source_voltage_kv"], right_on=["station_id", "source_voltage_kv"], how="left"
    )
    gridkit["headroom_method"] = np.where(gridkit["n_lines"].notna(), "lines_n1", "")

    # RTE substations: lines N-1 of a matched GridKit station in France, else Caparéseau.
    stations = (
        table[
            table["country"].eq("FR")
            & ~table["dc"]
            & ~table["under_construction"]
            & ~table["symbol"].isin(grid_points.GRIDKIT_SKIP_SYMBOLS)
            & table["source_voltage_kv"].isin(classes)
        ]
        .sort_values("source_voltage_kv", ascending=False, kind="stable")
        .drop_duplicates("station_id")
    )
    live_rte = rte[rte["status"].eq("in_service") & rte["voltage_kv"].isin(classes.values())]
    matched = network.match_rte_to_gridkit(live_rte, stations, locator=locator, voltage_classes=classes)
    matched = matched.merge(by_station, on=["station_id", "source_voltage_kv"], how="inner")
    transformers, capareseau_notes = network.capareseau_transformers(p["capareseau"])
    rte = rte.copy()
    by_lines = dict(zip(matched["external_id"], matched["headroom_estimate_mw"]))
    by_transformers = dict(zip("rte:" + transformers["code"], transformers["headroom_estimate_mw"]))
    rte["headroom_estimate_mw"] = [by_lines.get(x, by_transformers.get(x, np.nan)) for x in rte["external_id"]]
    rte["headroom_method"] = [
        "lines_n1" if x in by_lines else "transformers_n1" if x in by_transformers else "" for x in rte["external_id"]
    ]
    capareseau_notes["no_rte_substation"] = int((~("rte:" + transformers["code"]).isin(rte["external_id"])).sum())
    capareseau_notes["superseded_by_lines_n1"] = int(("rte:" + transformers["code"]).isin(by_lines).sum())
    rte_notes = {"matched_to_gridkit_station": len(matched)}
    return {
        "rte": rte,
        "gridkit": gridkit,
        "lines": lines,
        "n_capareseau": len(transformers),
        "notes": {
            "gridkit_buses": bus_notes,
            "gridkit_lines": line_notes,
            "capareseau": capareseau_notes,
            "rte_line_estimates": rte_notes,
        },
    }


def grid_network_write(parsed: dict[str, Any], report: LoadReport) -> None:
    """Write grid points (RTE and GridKit) and GridKit lines; a known headroom_mw is left alone."""
    points = pd.concat([parsed["rte"], parsed["gridkit"]], ignore_index=True)
    points["source"] = np.where(points["external_id"].str.startswith("rte:"), "rte", "gridkit")
    points["source_vintage"] = np.where(
        points["source"] == "rte", DATASETS["rte_substations"].vintage, DATASETS["gridkit_buses"].vintage
    )
    report.tables["grid points"] = _sync(
        GridConnectionPoint,
        ("external_id",),
        _records(points, GRID_POINT_FIELDS, {"headroom_method": ""}),
        GridConnectionPoint.objects.filter(source__in=["rte", "gridkit"]),
    )
    report.tables["grid lines"] = _sync(
        GridLine,
        ("external_id",),
        _records(parsed["grid_lines"], GRID_LINE_FIELDS),
        GridLine.objects.filter(source="gridkit"),
        int_fields=("circuits",),
    )


ZONE_FIELDS = (
    "code",
    "iso3",
    "name",
    "carbon_intensity_g_per_kwh",
    "carbon_year",
    "carbon_basis",
    "carbon_source",
    "price_eur_per_mwh",
    "price_period_start",
    "price_period_end",
    "price_source",
    "cooling_degree_days",
    "cdd_period",
    "cdd_source",
)


def _records(
    frame: pd.DataFrame, fields: Iterable[str], defaults: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict("records"):
        row = {f: rec.get(f, (defaults or {}).get(f)) for f in fields}
        for f, v in (defaults or {}).items():
            if row.get(f) is None or (isinstance(row[f], float) and math.isnan(row[f])):
                row[f] = v
        out.append(row)
    return out


def zone_data_write(parsed: dict[str, Any], report: LoadReport) -> dict[str, int]:
    """Write zones, monthly and hourly carbon, and boundaries; return the rows each grid dataset gave."""
    report.tables["zones"] = _sync(
        Zone,
        ("code",),
        _records(
            parsed["zones"],
            ZONE_FIELDS,
            {"carbon_basis": "lifecycle", "carbon_source": "", "price_source": "", "cdd_period": "", "cdd_source": ""},
        ),
        Zone.objects.all(),
        int_fields=("carbon_year",),
    )
    zone_ids = dict(Zone.objects.values_list("code", "id"))
    monthly = parsed["monthly"]
    monthly = monthly[monthly["code"].isin(zone_ids)]
    report.tables["monthly carbon"] = _sync(
        MonthlyCarbonIntensity,
        ("zone_id", "month"),
        [
            {"zone_id": zone_ids[c], "month": m, "carbon_intensity_g_per_kwh": v, "source": "Ember monthly (CC BY 4.0)"}
            for c, m, v in zip(monthly["code"], monthly["month"], monthly["carbon_intensity_g_per_kwh"])
        ],
        MonthlyCarbonIntensity.objects.all(),
    )
    report.tables["hourly carbon"] = _sync(
        HourlyCarbonSeries,
        ("zone_id", "year", "basis"),
        [
            {
                "zone_id": zone_ids[c],
                "year": HOURLY_YEAR,
                "basis": "lifecycle",
                "values_g_per_kwh": [round(float(x), 6) for x in s],
                "mean_g_per_kwh": round(float(np.mean(s)), 6),
                "source": "ENTSO-E actual generation per production type × IPCC AR5 life-cycle medians",
            }
            for c, s in parsed["hourly"].items()
            if c in zone_ids
        ],
        HourlyCarbonSeries.objects.all(),
    )
    report.tables["boundaries"] = _sync(
        Boundary,
        ("kind", "code"),
        _records(parsed["boundaries"], ("kind", "code", "name", "parent_code", "geometry_geojson", "source")),
        Boundary.objects.all(),
    )
    return {
        "rte_substations": len(parsed["rte"]),
        "gridkit_buses": len(parsed["gridkit"]),
        "gridkit_lines": len(parsed["grid_lines"]),
        "pypsa_line_types": len(network.PYPSA_LINE_TYPE_BY_VOLTAGE_KV),
        "capareseau": parsed["n_capareseau"],
        "ember_yearly": int(parsed["zones"]["carbon_intensity_g_per_kwh"].notna().sum()),
        "ember_monthly": len(monthly),
        "ember_prices": int(parsed["zones"]["price_eur_per_mwh"].notna().sum()),
        "eurostat_cdd": int(parsed["zones"]["cooling_degree_days"].notna().sum()),
        "countries": int((parsed["boundaries"]["kind"] == "country").sum()),
        "regions": int((parsed["boundaries"]["kind"] == "region").sum()),
        "departements": int((parsed["boundaries"]["kind"] == "departement").sum()),
    }


def dataset_loads_write(
    *, paths: dict[str, Path], notes: dict[str, dict[str, int]], row_counts: dict[str, int], report: LoadReport
) -> None:
    """Record every dataset of the load (file, checksum, rows, vintage, licence, notes)."""
    report.tables["dataset records"] = _sync(
        DatasetLoad,
        ("dataset",),
        [
            {
                "dataset": key,
                "file_name": Path(d.path).name,
                "sha256": _sha256(paths[key]),
                "rows": int(row_counts.get(key, 8760 if key.startswith("entsoe_generation") else 0)),
                "vintage": d.vintage,
                "source": d.source,
                "licence": d.licence,
                "notes": notes.get(key, {}),
            }
            for key, d in DATASETS.items()
        ],
        DatasetLoad.objects.all(),
    )
