"""Hostile uploads: refused within bounded time and memory, with a message, leaving nothing behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from siting.importers.sites import TMP_PREFIX, UploadLimits, UploadRejected, parse_sites_file
from siting.models import Site, SiteUpload
from tests.support.hostile_files import endless_view_gpkg, sites_gpkg
from tests.support.uploads import boundaries, locators, user  # noqa: F401

FAST = UploadLimits(parse_timeout_s=4.0)


def parse(data: bytes, name: str, tmp_dir: Path, limits: UploadLimits = FAST):
    countries, departements, regions = locators()
    return parse_sites_file(
        data,
        name,
        source_name="Hostile",
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
        limits=limits,
        tmp_dir=tmp_dir,
    )


@pytest.fixture
def tmp_dir(tmp_path) -> Path:
    d = tmp_path / "uploads-tmp"
    d.mkdir()
    return d


class EndlessFileTests:
    def test_it_refuses_a_geopackage_whose_layer_never_ends_within_the_time_limit(self, tmp_path, tmp_dir):
        data = endless_view_gpkg(tmp_path / "endless.gpkg").read_bytes()
        assert len(data) < 128 * 1024
        started = time.monotonic()
        with pytest.raises(UploadRejected, match="“endless.gpkg” could not be read within 4 seconds"):
            parse(data, "endless.gpkg", tmp_dir)
        assert time.monotonic() - started < 4.0 + 5.0
        assert list(tmp_dir.iterdir()) == []  # the killed reader left nothing

    def test_it_removes_what_a_killed_process_left_long_ago(self, tmp_dir):
        import os

        stale = tmp_dir / f"{TMP_PREFIX}dead"
        stale.mkdir()
        (stale / "upload.gpkg").write_bytes(b"x" * 100)
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
        fresh = tmp_dir / f"{TMP_PREFIX}busy"  # another request's, still in use
        fresh.mkdir()
        parse(b"id,name,lat,lon\nA,Site A,49.2833,6.0648\n", "ok.csv", tmp_dir)
        assert sorted(p.name for p in tmp_dir.iterdir()) == [fresh.name]


class FeatureCountTests:
    def test_it_reads_every_feature_when_the_file_understates_its_count(self, tmp_path, tmp_dir):
        data = sites_gpkg(tmp_path / "few.gpkg", 500, claimed=1).read_bytes()
        parsed = parse(data, "few.gpkg", tmp_dir)
        assert parsed.rows_read == 500 and len(parsed.sites) == 500

    def test_it_refuses_more_rows_than_allowed_whatever_the_file_claims(self, tmp_path, tmp_dir):
        data = sites_gpkg(tmp_path / "many.gpkg", 500, claimed=1).read_bytes()
        with pytest.raises(UploadRejected, match="more than 100 rows"):
            parse(data, "many.gpkg", tmp_dir, UploadLimits(max_rows=100))

    def test_it_refuses_a_layer_with_too_many_columns(self, tmp_path, tmp_dir):
        import geopandas as gpd

        gdf = gpd.read_file(sites_gpkg(tmp_path / "wide.gpkg", 2))
        for i in range(30):
            gdf[f"extra_{i}"] = "x"
        gdf.to_file(tmp_path / "wide.gpkg", driver="GPKG", layer="sites")
        with pytest.raises(UploadRejected, match="32 columns; at most 20"):
            parse((tmp_path / "wide.gpkg").read_bytes(), "wide.gpkg", tmp_dir, UploadLimits(max_columns=20))


class CsvShapeTests:
    @pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
    def test_it_counts_rows_whatever_ends_the_lines(self, newline, tmp_dir):
        rows = [f"S{i},Site {i},49.2,6.1" for i in range(120)]
        data = newline.join(["id,name,lat,lon", *rows]).encode()
        with pytest.raises(UploadRejected, match=r"more than 100 rows \(120 lines after the header\)"):
            parse(data, "lines.csv", tmp_dir, UploadLimits(max_rows=100))
        parsed = parse(data, "lines.csv", tmp_dir, UploadLimits(max_rows=200))
        assert parsed.rows_read == 120 and len(parsed.sites) == 120

    def test_it_refuses_a_million_columns_at_once(self, tmp_dir):
        header = ",".join(f"c{i}" for i in range(1_000_000))
        data = f"id,name,lat,lon,{header}\nA,Site A,49.2,6.1{',x' * 1_000_000}\n".encode()
        assert len(data) > 8_000_000
        started = time.monotonic()
        with pytest.raises(UploadRejected, match="“wide.csv” has 1,000,004 columns; at most 200 are accepted"):
            parse(data, "wide.csv", tmp_dir, UploadLimits(max_line_bytes=64 * 1024 * 1024))
        assert time.monotonic() - started < 10.0

    def test_it_names_the_line_that_is_too_long(self, tmp_dir):
        data = ("id,name,lat,lon\r" + "A,Site A,49.2,6.1\r" + "B," + "x" * 5000 + ",49.2,6.1\r").encode()
        with pytest.raises(UploadRejected, match="“long.csv”, line 3: 5,011 bytes long; at most 1,000 bytes"):
            parse(data, "long.csv", tmp_dir, UploadLimits(max_line_bytes=1000))

    def test_it_refuses_a_file_that_needs_more_memory_than_allowed(self, tmp_dir):
        rows = "".join(f"S{i},{'n' * 60},49.2,6.1,{'d' * 80}\n" for i in range(150_000))
        data = ("id,name,lat,lon,description\n" + rows).encode()
        limits = UploadLimits(parse_memory_bytes=48 * 1024 * 1024, parse_timeout_s=30)
        with pytest.raises(
            UploadRejected, match="“big.csv” (needs more than 48 MB|could not be read within the limits)"
        ):
            parse(data, "big.csv", tmp_dir, limits)
        assert list(tmp_dir.iterdir()) == []


@pytest.mark.django_db
class UploadPageTests:
    def test_it_answers_a_hostile_geopackage_with_a_message_and_saves_nothing(
        self, client, boundaries, settings, tmp_path, tmp_dir
    ):
        settings.GIGASITE_UPLOAD_PARSE_TIMEOUT_S = 3.0
        settings.GIGASITE_UPLOAD_TMP_DIR = str(tmp_dir)
        client.force_login(user("ana", "analyst"))
        data = endless_view_gpkg(tmp_path / "endless.gpkg").read_bytes()
        started = time.monotonic()
        resp = client.post(
            "/uploads/new/",
            {"file": SimpleUploadedFile("survey.gpkg", data), "source_name": "S", "on_duplicate": "error"},
        )
        assert time.monotonic() - started < 3.0 + 5.0
        assert resp.status_code == 400
        assert "“survey.gpkg” could not be read within 3 seconds" in resp.content.decode()
        assert not SiteUpload.objects.exists() and not Site.objects.exists()
        assert list(tmp_dir.iterdir()) == []
