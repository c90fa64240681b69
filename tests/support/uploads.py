"""Shared pieces of the upload tests: country outlines, users, small files in every format."""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from grid.importers.boundaries import countries, departement_regions, france_subdivisions
from siting.importers.sites import PlaceLocator
from tests.support.personas import user_create

user = user_create  # the name the upload tests import

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "fixtures" / "boundaries"

# Three real places, hand-checkable: Gandrange steelworks (Moselle), Cordemais power station
# (Loire-Atlantique), and Eisenhüttenstadt steelworks (Brandenburg).
SITES = pd.DataFrame(
    {
        "external_id": ["GE-1", "PL-2", "DE-3"],
        "name": ["Aciérie de Gandrange", "Centrale de Cordemais", "EKO Stahl Eisenhüttenstadt"],
        "longitude": [6.0648, -1.8795, 14.6245],
        "latitude": [49.2833, 47.2744, 52.1631],
        "area_ha": [105.2, 80.0, 600.0],
        "grid_voltage_kv": [225.0, 400.0, 380.0],
        "closure_year": [2008, 2022, 2019],
    }
)
EXPECTED_COUNTRY = ["FR", "FR", "DE"]
EXPECTED_DEPARTEMENT = ["57", "44", ""]


@lru_cache(maxsize=1)
def _boundary_frames():
    c = countries(BOUNDARIES / "ne_50m_admin_0_countries_europe.geojson.gz")
    deps = france_subdivisions(BOUNDARIES / "france_departements-version-simplifiee.geojson", "departement")
    regs = france_subdivisions(BOUNDARIES / "france_regions-version-simplifiee.geojson", "region")
    deps["parent_code"] = deps["code"].map(departement_regions(deps, regs)).fillna("")
    return c, deps


@lru_cache(maxsize=1)
def locators() -> tuple[PlaceLocator, PlaceLocator, dict[str, str]]:
    """Return the country and département locators from the shipped fixtures (no database)."""
    c, deps = _boundary_frames()
    return (
        PlaceLocator(zip(c["code"], c["geometry_geojson"])),
        PlaceLocator(zip(deps["code"], deps["geometry_geojson"]), tolerance_deg=0.02),
        dict(zip(deps["code"], deps["parent_code"])),
    )


@pytest.fixture
def boundaries(db):
    """Load the shipped country and département outlines into the test database."""
    from grid.models import Boundary

    c, deps = _boundary_frames()
    Boundary.objects.bulk_create(
        [
            Boundary(
                kind="country", code=r.code, name=r.name, geometry_geojson=r.geometry_geojson, source="natural_earth"
            )
            for r in c.itertuples()
        ]
        + [
            Boundary(
                kind="departement",
                code=r.code,
                name=r.name,
                parent_code=r.parent_code,
                geometry_geojson=r.geometry_geojson,
                source="ign",
            )
            for r in deps.itertuples()
        ]
    )


def points_frame(crs: str = "EPSG:4326", sites: pd.DataFrame = SITES) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        sites.drop(columns=["longitude", "latitude"]),
        geometry=gpd.points_from_xy(sites["longitude"], sites["latitude"]),
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def squares_frame(crs: str = "EPSG:4326", side_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Return the sites as squares of ``side_m`` drawn in ETRS89-LAEA (so 100 ha each for 1 km)."""
    laea = points_frame("EPSG:3035")
    h = side_m / 2
    boxes = shapely.box(laea.geometry.x - h, laea.geometry.y - h, laea.geometry.x + h, laea.geometry.y + h)
    gdf = gpd.GeoDataFrame(laea.drop(columns=["geometry", "area_ha"]), geometry=boxes, crs="EPSG:3035")
    # Densify so that reprojecting the straight edges keeps the area to well under 0.1 %.
    gdf["geometry"] = shapely.segmentize(gdf.geometry.to_numpy(), 50.0)
    return gdf.to_crs(crs)


def write(gdf: gpd.GeoDataFrame, fmt: str, tmp_path: Path) -> tuple[bytes, str]:
    """Return ``gdf`` written as ``fmt`` (geojson, gpkg, shapefile zip, csv): bytes and a file name."""
    if fmt == "geojson":
        path = tmp_path / "sites.geojson"
        gdf.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "sites.gpkg"
        gdf.to_file(path, driver="GPKG", layer="sites")
    elif fmt == "shapefile":
        shp = tmp_path / "shp"
        shp.mkdir()
        gdf.rename(columns={"external_id": "id", "grid_voltage_kv": "voltage_kv", "closure_year": "closed"}).to_file(
            shp / "sites.shp", driver="ESRI Shapefile"
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in shp.iterdir():
                zf.write(part, part.name)
        return buf.getvalue(), "sites.zip"
    elif fmt == "csv":
        frame = pd.DataFrame(gdf.drop(columns="geometry"))
        if (gdf.geom_type == "Point").all():
            frame["x"], frame["y"] = gdf.geometry.x, gdf.geometry.y
        else:
            frame["wkt"] = shapely.to_wkt(gdf.geometry.to_numpy(), rounding_precision=-1)
        return frame.to_csv(index=False).encode(), "sites.csv"
    else:
        raise ValueError(fmt)
    return path.read_bytes(), path.name


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """Return a deflated zip archive of ``members`` (name → bytes), names as given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
