"""Files built to hurt a reader: made here, in the tests, never shipped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely


def sites_gpkg(path: Path, n: int, *, claimed: int | None = None) -> Path:
    """Write ``n`` point sites in France (Moselle) to a GeoPackage; optionally make it claim ``claimed`` features."""
    rng = np.random.default_rng(0)
    gdf = gpd.GeoDataFrame(
        {"external_id": [f"S{i}" for i in range(n)], "name": [f"Site {i}" for i in range(n)]},
        geometry=shapely.points(rng.uniform(6.0, 6.3, n), rng.uniform(49.0, 49.2, n)),
        crs="EPSG:4326",
    )
    gdf.to_file(path, driver="GPKG", layer="sites")
    if claimed is not None:
        with sqlite3.connect(path) as db:  # the count GDAL trusts; a file may state anything
            db.execute("UPDATE gpkg_ogr_contents SET feature_count = ? WHERE table_name = 'sites'", (claimed,))
    return path


def endless_view_gpkg(path: Path) -> Path:
    """Write a GeoPackage whose one layer is a view over a recursive query that never ends.

    ``WITH RECURSIVE c(n)`` counts up forever and ``WHERE n < 0`` keeps none of it, so SQLite
    neither yields a row nor finishes; it needs no memory, only time. About 64 KB.
    """
    sites_gpkg(path, 1)
    with sqlite3.connect(path) as db:
        srs = db.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'sites'").fetchone()[0]
        for table in [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rtree_sites%'")
        ]:
            db.execute(f'DROP TABLE IF EXISTS "{table}"')
        for trigger in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
            db.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
        db.execute("DELETE FROM gpkg_extensions WHERE table_name = 'sites'")
        db.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'sites'")
        db.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'sites'")
        db.execute("DELETE FROM gpkg_contents WHERE table_name = 'sites'")
        db.execute("DROP TABLE sites")
        db.execute(
            "CREATE VIEW sites AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
            "SELECT n AS fid, CAST(NULL AS BLOB) AS geom, 'S' || n AS external_id, 'Site' AS name FROM c WHERE n < 0"
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('sites', 'features', 'sites', ?)",
            (srs,),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) "
            "VALUES ('sites', 'geom', 'POINT', ?, 0, 0)",
            (srs,),
        )
    return path
