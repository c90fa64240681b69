"""Load the reference data in ``fixtures/`` into the database: all of it, or nothing.

``reference_data_load`` reads and checks every file first (the grid's through
``grid.services``, the site sources here), then writes inside one transaction: rows are
created, updated (only the fields that changed) or deleted (reference rows that left the
fixtures; uploaded sites are never touched). A second run with the same files changes nothing
and says so. ``manage.py load_reference_data`` calls it.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import transaction
from shapely.geometry import shape

from grid import services as grid_services
from grid.services import LoadReport
from siting.importers import places
from siting.importers import reference as site_files
from siting.models import Site, SourceRecord

REFERENCE_SITE_SOURCES = ("cartofriches", "powerplantmatching", "gem_coal", "gem_gas", "gem_steel", "ebc", "eu_ets")
"""Sources the reference loader owns; uploaded sites (source 'upload') are never touched."""

SITE_FIELDS = (
    "external_id",
    "name",
    "original_name",
    "country",
    "region_code",
    "departement_code",
    "municipality",
    "longitude",
    "latitude",
    "area_ha",
    "area_estimated",
    "former_use",
    "former_activity",
    "closure_year",
    "grid_capacity_mw",
    "grid_voltage_kv",
    "pollution_status",
    "reconverted",
    "still_operating",
    "operating_evidence",
    "zoning_type",
    "buildings_state",
    "has_project",
    "source_status",
    "source",
    "source_url",
    "source_date",
    "source_vintage",
)
RECORD_FIELDS = (
    "site_id",
    "source",
    "record_id",
    "name",
    "vintage",
    "url",
    "longitude",
    "latitude",
    "status",
    "capacity_mw",
    "closure_year",
    "former_use",
    "operating_evidence",
    "raw",
)


def _parse_sites(
    p: dict[str, Path], countries: pd.DataFrame, dep_region: dict[str, str], current_year: int
) -> dict[str, Any]:
    """Read every site source into records, check which plants still run, conflate the records
    into one site per place (MODEL.md §1b, §5; ``siting.importers.places``).

    Returns the sites (Site fields), the records (with the external id of their site) and
    notes: per source what was left out and why, and the merges per source pair.
    """

    shapes = {code: shape(geometry) for code, geometry in zip(countries["code"], countries["geometry_geojson"])}
    brownfields, brownfield_notes = site_files.cartofriches_records(p["brownfields"], dep_region)
    ppm, ppm_running, ppm_notes = site_files.ppm_records(
        p["power_plants"], p["production_units"], p["still_running"], current_year=current_year
    )
    coal, coal_running, coal_notes = site_files.gem_coal_records(p["gem_coal"])
    gas, gas_running, gas_notes = site_files.gem_gas_records(p["gem_gas"])
    steel, steel_running, steel_notes = site_files.gem_steel_records(p["gem_steel"])
    ebc, ebc_running, ebc_notes = site_files.ebc_records(p["ebc_plants"], p["ebc_units"])
    ets, ets_running, ets_notes = site_files.ets_records(p["eu_ets"], shapes)
    records = pd.concat([brownfields, ppm, coal, gas, steel, ebc, ets], ignore_index=True)
    operating = pd.concat(
        [ppm_running, coal_running, gas_running, steel_running, ebc_running, ets_running], ignore_index=True
    )
    records["operating_evidence"] = places.still_running(records, operating)
    groups, parcels, merges = places.conflate(records)
    sites, site_of_record = places.sites_from_groups(records, groups, parcels)
    records["site_external_id"] = site_of_record
    notes = {
        "brownfields": brownfield_notes,
        "power_plants": ppm_notes,
        "gem_coal": coal_notes,
        "gem_gas": gas_notes,
        "gem_steel": steel_notes,
        "ebc_units": ebc_notes,
        "eu_ets": ets_notes,
        "records merged into one site": dict(sorted(merges.items())),
        "still operating": {
            "records": int((records["operating_evidence"] != "").sum()),
            "sites": int(sites["still_operating"].sum()),
        },
    }
    return {"sites": sites, "records": records, "notes": notes}


def _load_sites(parsed: dict[str, Any], report: LoadReport) -> None:
    """Write one site per place and every source record of it; uploaded sites are left alone.

    A place keeps its site (pk and external id) across reloads: the external id is its anchor
    record's (``places.SOURCE_ORDER``), and sites are matched on it.
    """
    sites = parsed["sites"]
    report.tables["sites"] = grid_services._sync(
        Site,
        ("external_id",),
        grid_services._records(sites, SITE_FIELDS),
        Site.objects.filter(source__in=REFERENCE_SITE_SOURCES),
        int_fields=("closure_year",),
    )
    site_ids = dict(Site.objects.filter(source__in=REFERENCE_SITE_SOURCES).values_list("external_id", "id"))
    records = parsed["records"]
    rows = []
    for rec in records.to_dict("records"):
        year = rec["closure_year"]
        rows.append(
            {
                "site_id": site_ids[rec["site_external_id"]],
                "source": rec["source"],
                "record_id": str(rec["record_id"])[:100],
                "name": str(rec["name"] or "")[:300],
                "vintage": rec["vintage"][:64],
                "url": str(rec["url"] or "")[:300],
                "longitude": float(rec["longitude"]),
                "latitude": float(rec["latitude"]),
                "status": str(rec["status"] or "")[:64],
                "capacity_mw": rec["capacity_mw"],
                "closure_year": year if year is not None and 1800 <= year <= 2100 else None,
                "former_use": rec["former_use"],
                "operating_evidence": rec["operating_evidence"],
                "raw": rec["raw"] or {},
            }
        )
    report.tables["source records"] = grid_services._sync(
        SourceRecord,
        ("source", "record_id"),
        rows,
        SourceRecord.objects.filter(source__in=REFERENCE_SITE_SOURCES),
        int_fields=("closure_year",),
    )


def _site_row_counts(records: pd.DataFrame) -> dict[str, int]:
    """Return the records each site dataset contributed, keyed by dataset."""
    counts = records["source"].value_counts()
    by_dataset = {
        "brownfields": "cartofriches",
        "power_plants": "powerplantmatching",
        "gem_coal": "gem_coal",
        "gem_gas": "gem_gas",
        "gem_steel": "gem_steel",
        "ebc_units": "ebc",
        "eu_ets": "eu_ets",
    }
    return {key: int(counts.get(source, 0)) for key, source in by_dataset.items()}


def reference_data_load(*, fixtures_dir: Path | None = None, current_year: int | None = None) -> LoadReport:
    """Load every reference dataset from ``fixtures_dir``, atomically and idempotently."""
    started = time.perf_counter()
    root = Path(fixtures_dir or grid_services.default_fixtures_dir())
    # Read and check every file before anything is written.
    grid = grid_services.grid_data_parse(root)
    sites = _parse_sites(grid["paths"], grid["countries"], grid["dep_region"], current_year or date.today().year)
    grid_notes = dict(grid["notes"])
    notes = {"rte_substations": grid_notes.pop("rte_substations"), **sites["notes"], **grid_notes}
    report = LoadReport(notes=notes)
    with transaction.atomic():
        grid_services.grid_network_write(grid, report)
        _load_sites(sites, report)
        grid_rows = grid_services.zone_data_write(grid, report)
        grid_services.dataset_loads_write(
            paths=grid["paths"],
            notes=notes,
            row_counts={**_site_row_counts(sites["records"]), **grid_rows},
            report=report,
        )
    report.seconds = time.perf_counter() - started
    return report
