"""Import speed: a 100,000-row GeoPackage through the upload importer, dry run and real.

    python -m bench --only import [--rows 100000]

Generates the file in a temporary directory (points inside France, every template column
filled), then times ``siting.uploads.services.sites_import``: a dry run (read, map, check, reproject,
plan) and a real import, in a transaction that is rolled back, so the database is left as it
was. Country outlines come from the database, or are loaded from ``fixtures/`` inside that
same transaction. Rows near a reference site are kept as separate candidates. Prints
min/median/max over ``--repeat`` runs, rates, and the ratio to geopandas alone reading and
reprojecting the same file (the baseline, measured in the same run); asserts nothing.
Target: 100,000 rows into SQLite in at most 30 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_gpkg(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` plausible sites in Lambert-93 (so every row is reprojected)."""
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(seed)
    # Metropolitan France well inside its borders (no row fails the country check).
    lon = rng.uniform(0.0, 5.5, n_rows)
    lat = rng.uniform(44.0, 48.5, n_rows)
    frame = pd.DataFrame(
        {
            "external_id": [f"B{i:06d}" for i in range(n_rows)],
            "name": [f"Friche {i}" for i in range(n_rows)],
            "area_m2": rng.lognormal(10.0, 1.0, n_rows).round(0),
            "former_activity": rng.choice(["Sidérurgie", "Chimie", "Centrale thermique", "Papeterie", "Dépôt"], n_rows),
            "closure_year": rng.integers(1950, 2024, n_rows),
            "grid_voltage_kv": rng.choice([20.0, 63.0, 90.0, 225.0, 400.0], n_rows),
            "grid_capacity_mw": rng.uniform(1, 500, n_rows).round(1),
            "pollution_status": rng.choice(["none", "suspected", "confirmed", "unknown"], n_rows),
            "flood_zone": rng.choice(["yes", "no"], n_rows),
            "source_url": [f"https://example.org/sites/{i}" for i in range(n_rows)],
            "source_date": "2024-03-01",
        }
    )
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:2154")
    gdf.to_file(path, driver="GPKG", layer="sites")


def _ensure_boundaries() -> None:
    from grid.importers.boundaries import countries, france_subdivisions
    from grid.models import Boundary

    if Boundary.objects.filter(kind="country").exists():
        return
    folder = ROOT / "fixtures" / "boundaries"
    c = countries(folder / "ne_50m_admin_0_countries_europe.geojson.gz")
    d = france_subdivisions(folder / "france_departements-version-simplifiee.geojson", "departement")
    Boundary.objects.bulk_create(
        [
            Boundary(
                kind="country", code=r.code, name=r.name, geometry_geojson=r.geometry_geojson, source="natural_earth"
            )
            for r in c.itertuples()
        ]
        + [
            Boundary(kind="departement", code=r.code, name=r.name, geometry_geojson=r.geometry_geojson, source="ign")
            for r in d.itertuples()
        ]
    )


class _Rollback(Exception):
    pass


def _spread(values: list[float]) -> str:
    return f"{min(values):6.2f} / {statistics.median(values):6.2f} / {max(values):6.2f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_import")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    import geopandas as gpd
    from django.conf import settings
    from django.db import transaction

    from siting.uploads import services as uploads

    settings.GIGASITE_UPLOAD_MAX_ROWS = max(settings.GIGASITE_UPLOAD_MAX_ROWS, args.rows)
    repeats = max(args.repeat, 1)
    with tempfile.TemporaryDirectory(prefix="gigasite-bench-") as tmp:
        path = Path(tmp) / "sites.gpkg"
        t0 = time.perf_counter()
        make_gpkg(path, args.rows)
        data = path.read_bytes()
        print(
            f"generated {args.rows:,} rows, {len(data) / 1e6:.1f} MB GeoPackage (Lambert-93) in {time.perf_counter() - t0:.1f} s"
        )
        # Baseline, same machine and moment: geopandas alone reading the file and reprojecting it.
        read = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            gpd.read_file(path).to_crs("EPSG:4326")
            read.append(time.perf_counter() - t0)
        dry, real = [], []
        # Rows near a reference site stay separate candidates (else the loaded data rejects some).
        options = {"file_name": "sites.gpkg", "source_name": "Bench", "on_reference_match": "separate"}
        for _ in range(repeats):
            try:
                with transaction.atomic():
                    _ensure_boundaries()
                    uploads._locators()  # built once per process; time the import, not the cache
                    t0 = time.perf_counter()
                    planned = uploads.sites_import(data=data, dry_run=True, **options)
                    dry.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    done = uploads.sites_import(data=data, **options)
                    real.append(time.perf_counter() - t0)
                    raise _Rollback
            except _Rollback:
                pass
        base = statistics.median(read)
        print(f"  min / median / max of {repeats}; ratio = median time / geopandas reading and reprojecting the file")
        print(f"  geopandas read + to_crs (baseline)      {_spread(read)}   {args.rows / base:10,.0f} rows/s")
        print(
            f"  dry run (read, check, reproject, plan)  {_spread(dry)}   {args.rows / statistics.median(dry):10,.0f} rows/s"
            f"   ×{statistics.median(dry) / base:.1f}   {planned.created:,} valid, {planned.plan.rows_rejected:,} rejected"
        )
        print(
            f"  import into the database (rolled back)  {_spread(real)}   {args.rows / statistics.median(real):10,.0f} rows/s"
            f"   ×{statistics.median(real) / base:.1f}   {done.created:,} sites created"
        )
        print(f"  target ≤ 30 s: {'met' if statistics.median(real) <= 30 else 'NOT met'} (median)")


if __name__ == "__main__":
    main()
