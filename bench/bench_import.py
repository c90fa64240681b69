"""Import speed: a 100,000-row GeoPackage through the upload importer, dry run and real.

    python -m bench --only import [--rows 100000]

Generates the file in a temporary directory (points inside France, every template column
filled), then times ``siting.uploads.sites_import``: a dry run (read, map, check, reproject,
plan) and a real import, in a transaction that is rolled back, so the database is left as it
was. Country outlines come from the database, or are loaded from ``fixtures/`` inside that
same transaction. Prints times and rates; asserts nothing. Target: under 60 s.
"""

from __future__ import annotations

import argparse
import os
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
    frame = pd.DataFrame({
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
    })
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
        [Boundary(kind="country", code=r.code, name=r.name, geometry_geojson=r.geometry_geojson, source="natural_earth") for r in c.itertuples()]
        + [Boundary(kind="departement", code=r.code, name=r.name, geometry_geojson=r.geometry_geojson, source="ign") for r in d.itertuples()]
    )


class _Rollback(Exception):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_import")
    parser.add_argument("--rows", type=int, default=100_000)
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings
    from django.db import transaction

    from siting import uploads

    settings.GIGASITE_UPLOAD_MAX_ROWS = max(settings.GIGASITE_UPLOAD_MAX_ROWS, args.rows)
    with tempfile.TemporaryDirectory(prefix="gigasite-bench-") as tmp:
        path = Path(tmp) / "sites.gpkg"
        t0 = time.perf_counter()
        make_gpkg(path, args.rows)
        data = path.read_bytes()
        print(f"generated {args.rows:,} rows, {len(data) / 1e6:.1f} MB GeoPackage (Lambert-93) in {time.perf_counter() - t0:.1f} s")
        try:
            with transaction.atomic():
                _ensure_boundaries()
                uploads._locators()  # built once per process; time the import, not the cache
                t0 = time.perf_counter()
                dry = uploads.sites_import(data=data, file_name="sites.gpkg", source_name="Bench", dry_run=True)
                dry_s = time.perf_counter() - t0
                print(f"  dry run (read, check, reproject, plan)  {dry_s:7.2f} s   {args.rows / dry_s:10,.0f} rows/s   "
                      f"{dry.created:,} valid, {dry.plan.rows_rejected:,} rejected")
                t0 = time.perf_counter()
                real = uploads.sites_import(data=data, file_name="sites.gpkg", source_name="Bench")
                real_s = time.perf_counter() - t0
                print(f"  import into the database (rolled back)  {real_s:7.2f} s   {args.rows / real_s:10,.0f} rows/s   "
                      f"{real.created:,} sites created")
                print(f"  target < 60 s: {'met' if real_s < 60 else 'NOT met'}")
                raise _Rollback
        except _Rollback:
            pass


if __name__ == "__main__":
    main()
