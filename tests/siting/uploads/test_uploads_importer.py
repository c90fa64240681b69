"""The site-file importer on its own (no database): every format and CRS, values, and files it refuses."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from siting.importers.sites import UploadLimits, UploadRejected, map_columns, parse_numbers, parse_sites_file
from tests.support.uploads import (
    EXPECTED_COUNTRY,
    EXPECTED_DEPARTEMENT,
    SITES,
    locators,
    points_frame,
    squares_frame,
    write,
    zip_bytes,
)

FORMATS = ["geojson", "gpkg", "shapefile", "csv"]
CRSES = ["EPSG:4326", "EPSG:2154", "EPSG:3035"]  # WGS84, Lambert-93, ETRS89-LAEA


def parse(data: bytes, name: str, **kwargs):
    countries, departements, regions = locators()
    kwargs.setdefault("source_name", "Test survey")
    return parse_sites_file(
        data,
        name,
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
        **kwargs,
    )


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


class RoundTripTests:
    @pytest.mark.parametrize("crs", CRSES)
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_it_reads_points_back_in_wgs84(self, fmt, crs, tmp_path):
        data, name = write(points_frame(crs), fmt, tmp_path)
        parsed = parse(data, name)
        assert parsed.errors == []
        assert parsed.crs == crs
        sites = parsed.sites.set_index("file_id").loc[SITES["external_id"]]
        np.testing.assert_allclose(sites["longitude"], SITES["longitude"], atol=1e-6)
        np.testing.assert_allclose(sites["latitude"], SITES["latitude"], atol=1e-6)
        np.testing.assert_allclose(sites["area_ha"], SITES["area_ha"])
        np.testing.assert_allclose(sites["grid_voltage_kv"], SITES["grid_voltage_kv"])
        assert sites["closure_year"].tolist() == SITES["closure_year"].tolist()
        assert sites["country"].tolist() == EXPECTED_COUNTRY
        assert sites["departement_code"].tolist() == EXPECTED_DEPARTEMENT
        assert sites["external_id"].tolist() == [f"test-survey:{i}" for i in SITES["external_id"]]
        assert (sites["geometry_geojson"] == "").all()

    @pytest.mark.parametrize("crs", CRSES)
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_it_gives_polygons_an_equal_area_surface_and_centroid(self, fmt, crs, tmp_path):
        # 1 km × 1 km squares drawn in ETRS89-LAEA: 100 ha each, centred on the site.
        data, name = write(squares_frame(crs), fmt, tmp_path)
        parsed = parse(data, name)
        assert parsed.errors == []
        sites = parsed.sites.set_index("file_id").loc[SITES["external_id"]]
        np.testing.assert_allclose(sites["area_ha"], 100.0, rtol=1e-3)
        np.testing.assert_allclose(sites["longitude"], SITES["longitude"], atol=1e-5)
        np.testing.assert_allclose(sites["latitude"], SITES["latitude"], atol=1e-5)
        outline = json.loads(sites["geometry_geojson"].iloc[0])
        assert outline["type"] == "Polygon"
        assert shapely.geometry.shape(outline).contains(shapely.Point(SITES["longitude"][0], SITES["latitude"][0]))

    def test_it_reads_a_french_spreadsheet_csv(self):
        # Semicolons, decimal commas, Latin-1, French headers with the unit in the name.
        text = (
            "identifiant;nom;lat;lon;surface (m²);tension;Puissance (MW);pollution;zone_inondable\n"
            "GE-1;Aciérie de Gandrange;49,2833;6,0648;1 052 000;225;120,5;pollution supposée;non\n"
        )
        parsed = parse(csv_bytes(text, "latin-1"), "friches.csv")
        assert parsed.errors == []
        site = parsed.sites.iloc[0]
        assert site["name"] == "Aciérie de Gandrange"
        assert site["area_ha"] == pytest.approx(105.2)
        assert site["grid_capacity_mw"] == pytest.approx(120.5)
        assert (site["pollution_status"], site["flood_zone"]) == ("suspected", False)
        assert "Latin-1" in parsed.notes[0] and "semicolon" in parsed.notes[0]

    def test_it_reads_a_utf8_csv_with_bom_and_wkt_in_a_stated_crs(self):
        # Web Mercator is never guessed; stated, it works.
        x, y = 675_126.0, 6_322_000.0
        text = f"\ufeffid,name,geometry\nA,Site A,POINT ({x} {y})\n"
        parsed = parse(csv_bytes(text), "a.csv", crs="EPSG:3857")
        assert parsed.errors == [] and parsed.crs == "EPSG:3857"
        lon, lat = parsed.sites.iloc[0][["longitude", "latitude"]]
        assert lon == pytest.approx(6.0648, abs=1e-3) and lat == pytest.approx(49.28, abs=0.05)

    def test_it_converts_units_stated_in_the_column_names(self):
        text = "id,name,lat,lon,site_area_km2,capacity_kw,voltage_v\nA,Site,49.28,6.06,1.5,250000,63000\n"
        site = parse(csv_bytes(text), "a.csv").sites.iloc[0]
        assert (site["area_ha"], site["grid_capacity_mw"], site["grid_voltage_kv"]) == pytest.approx(
            (150.0, 250.0, 63.0)
        )

    def test_it_takes_the_area_unit_as_an_option_when_the_name_has_none(self):
        text = "id,name,lat,lon,surface\nA,Site,49.28,6.06,52000\n"
        with pytest.raises(UploadRejected, match="without its unit"):
            parse(csv_bytes(text), "a.csv")
        assert parse(csv_bytes(text), "a.csv", area_unit="m2").sites.iloc[0]["area_ha"] == pytest.approx(5.2)

    def test_it_guesses_the_former_use_from_the_activity(self):
        text = "id,name,lat,lon,activite\nA,Site,49.28,6.06,Sidérurgie (haut fourneau)\nB,Other,49.28,6.07,\n"
        sites = parse(csv_bytes(text), "a.csv").sites
        assert sites["former_use"].tolist() == ["steel", "other"]


class ValueTests:
    def _errors(
        self,
        rows: str,
        header: str = "id,name,lat,lon,area_ha,grid_voltage_kv,closure_year,country,source_url,source_date",
    ):
        parsed = parse(csv_bytes(header + "\n" + rows), "a.csv")
        return parsed, {(e.row, e.field): e for e in parsed.errors}

    def test_it_names_row_field_value_and_reason_for_each_bad_value(self):
        parsed, errors = self._errors(
            "A,Ok,49.28,6.06,10,225,2008,FR,https://example.org/a,2024-03-01\n"
            "B,Bad area,49.28,6.06,-3,225,2008,,,\n"
            "C,Bad voltage,49.28,6.06,10,401,2008,,,\n"
            "D,Bad year,49.28,6.06,10,225,1492,,,\n"
            "E,Not a number,abc,6.06,,,,,,\n"
            "F,Bad link,49.28,6.06,,,,,javascript:alert(1),\n"
            "G,Bad date,49.28,6.06,,,,,,32/13/2020\n"
            "H,Huge,49.28,6.06,1e9,,,,,\n"
        )
        assert parsed.sites["file_id"].tolist() == ["A"]
        assert (errors[(3, "area_ha")].value, errors[(3, "area_ha")].reason) == ("-3", "must be greater than 0")
        assert (
            "not a known voltage class" in errors[(4, "grid_voltage_kv")].reason
            and errors[(4, "grid_voltage_kv")].value == "401"
        )
        assert errors[(5, "closure_year")].reason == "not between 1800 and 2036"
        assert (errors[(6, "latitude")].value, errors[(6, "latitude")].reason) == ("abc", "not a number")
        assert "http(s) link" in errors[(7, "source_url")].reason
        assert "not a date" in errors[(8, "source_date")].reason
        assert "check the unit" in errors[(9, "area_ha")].reason

    def test_it_rejects_positions_outside_every_known_country_and_hints_at_swaps(self):
        _parsed, errors = self._errors(
            "A,Atlantic,45.0,-20.0,,,,,,\nB,Swapped,6.0648,49.2833,,,,,,\nC,Range,95,6.0,,,,,,\n"
        )
        assert errors[(2, "geometry")].reason == "outside every known country"
        assert "swapped" in errors[(3, "geometry")].reason
        assert (4, "geometry") in errors

    def test_it_checks_a_stated_country_against_the_position(self):
        _parsed, errors = self._errors("A,Gandrange,49.2833,6.0648,,,,DE,,\nB,Near the border,49.4695,6.3700,,,,LU,,\n")
        assert errors[(2, "country")].reason == "the file says Germany (DE) but the position lies in France (FR)"
        assert (3, "country") not in errors  # 5 km from Luxembourg: within the outline's tolerance

    def test_it_rejects_ids_given_twice_and_missing_required_values(self):
        _parsed, errors = self._errors(
            "A,One,49.28,6.06,,,,,,\nA,Two,49.28,6.07,,,,,,\n,Three,49.28,6.08,,,,,,\nD,,49.28,6.09,,,,,,\n"
        )
        assert errors[(3, "external_id")].reason == "also on row 2 of this file"
        assert errors[(4, "external_id")].reason == "missing (required)"
        assert errors[(5, "name")].reason == "missing (required)"

    def test_it_repairs_a_self_intersecting_outline_and_rejects_a_flat_one(self, tmp_path):
        bowtie = "POLYGON ((6.06 49.28, 6.07 49.29, 6.07 49.28, 6.06 49.29, 6.06 49.28))"
        flat = "POLYGON ((6.06 49.28, 6.07 49.28, 6.08 49.28, 6.06 49.28))"
        parsed = parse(csv_bytes(f'id,name,wkt\nA,Bowtie,"{bowtie}"\nB,Flat,"{flat}"\n'), "a.csv")
        assert parsed.sites["file_id"].tolist() == ["A"]
        assert parsed.sites.iloc[0]["area_ha"] > 0
        assert any("repaired" in n for n in parsed.notes)
        assert [(e.row, e.reason) for e in parsed.errors] == [(3, "invalid outline that cannot be repaired")]

    def test_it_parses_decimal_commas_points_and_thousands_spaces(self):
        values, bad = parse_numbers(
            pd.Series(["1,5", "1.5", "1 234,5", "1.234,5", "1,234.5", "", "x", "1e3", "inf"], dtype=object)
        )
        np.testing.assert_allclose(values[:5], [1.5, 1.5, 1234.5, 1234.5, 1234.5])
        assert np.isnan(values[5]) and not bad[5]
        assert bad[6] and not bad[7] and values[7] == 1000.0 and bad[8]

    def test_it_maps_synonyms_and_refuses_two_columns_for_one_field(self):
        mapping, notes = map_columns(["ID", "Nom", "Latitude", "LNG", "Surface [ha]", "colour"])
        assert mapping == {
            "external_id": ("ID", 1.0),
            "name": ("Nom", 1.0),
            "latitude": ("Latitude", 1.0),
            "longitude": ("LNG", 1.0),
            "area_ha": ("Surface [ha]", 1.0),
        }
        assert notes == ["Columns not used: colour."]
        with pytest.raises(UploadRejected, match="both give the latitude"):
            map_columns(["lat", "y"])
        mapping, notes = map_columns(["id", "external_id"])  # a GeoJSON feature id beside the template's column
        assert mapping == {"external_id": ("external_id", 1.0)} and notes == ["Columns not used: id."]


def _shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    data, _name = write(points_frame(), "shapefile", tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


class ZipTests:
    def test_it_refuses_parent_and_absolute_paths_before_extracting(self, tmp_path):
        parts = _shapefile_parts(tmp_path)
        work = tmp_path / "work" / "deeper"
        work.mkdir(parents=True)
        for evil in ("../sites.shp", "/etc/sites.shp", "a/../../sites.shp", "C:/sites.shp", "..\\sites.shp"):
            bad = zip_bytes({**parts, evil: b"x"})
            with pytest.raises(UploadRejected, match="unsafe path"):
                parse(bad, "x.zip", tmp_dir=work)
        assert list(work.iterdir()) == [] and not (tmp_path / "work" / "sites.shp").exists()

    def test_it_refuses_a_zip_bomb(self, tmp_path):
        bomb = zip_bytes({"sites.csv": b"0" * 5_000_000})
        with pytest.raises(UploadRejected, match="zip bomb"):
            parse(bomb, "x.zip")

    def test_it_refuses_an_archive_over_the_uncompressed_cap(self, tmp_path):
        parts = _shapefile_parts(tmp_path)
        limits = UploadLimits(zip_max_uncompressed_bytes=1000)
        with pytest.raises(UploadRejected, match="unpacks to"):
            parse(zip_bytes(parts), "x.zip", limits=limits)

    def test_it_needs_the_dbf_and_shx(self, tmp_path):
        parts = {n: d for n, d in _shapefile_parts(tmp_path).items() if not n.endswith(".dbf")}
        with pytest.raises(UploadRejected, match=r"without its \.dbf"):
            parse(zip_bytes(parts), "x.zip")

    def test_it_reads_a_shapefile_in_a_folder_and_ignores_mac_debris(self, tmp_path):
        parts = {f"export/{n}": d for n, d in _shapefile_parts(tmp_path).items()}
        parts["__MACOSX/export/._sites.shp"] = b"junk"
        assert len(parse(zip_bytes(parts), "x.zip").sites) == 3

    def test_it_removes_its_temporary_directory_whatever_happens(self, tmp_path):
        work = tmp_path / "work"
        work.mkdir()
        parse(zip_bytes(_shapefile_parts(tmp_path)), "ok.zip", tmp_dir=work)
        with pytest.raises(UploadRejected):
            parse(zip_bytes({"../x.shp": b"x"}), "bad.zip", tmp_dir=work)
        with pytest.raises(UploadRejected):
            parse(b"{not json", "bad.geojson", tmp_dir=work)
        assert list(work.iterdir()) == []
