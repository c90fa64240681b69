"""Upload services: all or nothing, duplicates by external id, provenance, withdrawal, and a
suite of malformed files each refused with its own message and the database unchanged."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from unittest.mock import patch

import pytest
import shapely
from django.utils import timezone

from siting import frames
from siting.importers.sites import UploadRejected
from siting.models import RunInput, ScoringRun, Site, SiteUpload
from siting.sites import selectors
from siting.uploads import services as uploads
from siting.uploads.selectors import run_withdrawn_sites
from tests.support.uploads import boundaries, points_frame, squares_frame, user, write, zip_bytes  # noqa: F401

pytestmark = pytest.mark.django_db

GOOD_CSV = b"id,name,lat,lon,area_ha\nA,Site A,49.2833,6.0648,10\nB,Site B,47.2744,-1.8795,20\n"
ONE_BAD_CSV = b"id,name,lat,lon,area_ha\nA,Site A,49.2833,6.0648,10\nB,Site B,47.2744,-1.8795,-20\n"


def _state() -> tuple:
    return (
        Site.objects.count(),
        SiteUpload.objects.count(),
        list(Site.objects.order_by("id").values_list("external_id", "name", "withdrawn", "upload_id")),
    )


def _import(data: bytes = GOOD_CSV, name: str = "sites.csv", **kwargs):
    kwargs.setdefault("source_name", "Survey")
    return uploads.sites_import(data=data, file_name=name, **kwargs)


class ImportTests:
    def test_it_imports_every_row_and_records_the_upload(self, boundaries):
        analyst = user("ana", "analyst")
        result = _import(user=analyst)
        upload = result.upload
        assert (result.created, result.updated, result.skipped) == (2, 0, 0)
        assert upload.status == SiteUpload.Status.IMPORTED and upload.uploaded_by == analyst
        assert upload.sha256 == hashlib.sha256(GOOD_CSV).hexdigest() and upload.file_name == "sites.csv"
        assert (upload.rows_read, upload.rows_valid, upload.rows_rejected, upload.sites_created) == (2, 2, 0, 2)
        assert upload.file_size_bytes == len(GOOD_CSV) and upload.crs == "EPSG:4326" and upload.imported_at
        site = Site.objects.get(external_id="survey:A")
        assert (site.source, site.upload, site.country, site.departement_code, site.region_code) == (
            "upload",
            upload,
            "FR",
            "57",
            "44",
        )
        assert site.source_vintage == "Survey"

    def test_it_saves_nothing_when_one_row_is_rejected(self, boundaries):
        before = _state()
        with pytest.raises(UploadRejected, match="1 row") as exc:
            _import(ONE_BAD_CSV)
        assert _state() == before
        assert [(e.row, e.field) for e in exc.value.result.errors] == [(3, "area_ha")]

    def test_it_imports_only_the_valid_rows_when_asked(self, boundaries):
        result = _import(ONE_BAD_CSV, only_valid=True)
        assert result.created == 1 and Site.objects.filter(upload=result.upload).count() == 1
        assert result.upload.rows_rejected == 1 and result.upload.errors == [
            {"row": 3, "field": "area_ha", "value": "-20", "reason": "must be greater than 0"}
        ]

    def test_it_writes_nothing_on_a_dry_run(self, boundaries):
        before = _state()
        result = _import(dry_run=True)
        assert result.created == 2 and result.upload is None and _state() == before

    def test_it_rolls_back_everything_when_a_write_fails_midway(self, boundaries):
        before = _state()
        real_write = uploads._write

        def write_then_fail(plan, upload):
            real_write(plan, upload)
            assert Site.objects.filter(upload=upload).count() == 2  # the sites were written …
            raise RuntimeError("disk full")

        with patch("siting.uploads.services._write", write_then_fail), pytest.raises(RuntimeError):
            _import()
        assert _state() == before  # … and are gone with the upload row

    def test_it_refuses_all_rows_when_country_outlines_are_missing(self):
        with pytest.raises(UploadRejected, match="Country outlines are not loaded"):
            _import()


class DuplicateTests:
    def test_it_rejects_ids_this_source_already_imported_by_default(self, boundaries):
        _import()
        before = _state()
        with pytest.raises(UploadRejected) as exc:
            _import()
        assert _state() == before
        assert {e.reason for e in exc.value.result.errors} == {
            "already imported for this source (choose update or skip)"
        }

    def test_it_updates_existing_sites_and_moves_them_to_the_new_upload(self, boundaries):
        first = _import().upload
        changed = GOOD_CSV.replace(b"Site A", b"Site A renamed")
        second = _import(changed, on_duplicate="update").upload
        site = Site.objects.get(external_id="survey:A")
        assert (second.sites_created, second.sites_updated) == (0, 2)
        assert site.name == "Site A renamed" and site.upload == second
        assert Site.objects.count() == 2 and not Site.objects.filter(upload=first).exists()

    def test_it_skips_existing_sites_and_adds_new_ones(self, boundaries):
        _import()
        more = GOOD_CSV + b"C,Site C,52.1631,14.6245,30\n"
        result = _import(more.replace(b"Site A", b"Changed"), on_duplicate="skip")
        assert (result.created, result.updated, result.skipped) == (1, 0, 2)
        assert Site.objects.get(external_id="survey:A").name == "Site A"

    def test_it_keeps_sources_apart(self, boundaries):
        _import()
        result = _import(source_name="Another survey")
        assert result.created == 2 and Site.objects.count() == 4


class StageConfirmTests:
    def test_it_stages_without_importing_then_imports_on_confirm(self, boundaries):
        analyst = user("ana", "analyst")
        staged = uploads.site_upload_stage(data=GOOD_CSV, file_name="s.csv", source_name="Survey", user=analyst)
        assert staged.status == SiteUpload.Status.STAGED and Site.objects.count() == 0 and staged.sites_created == 2
        assert len(uploads.staged_sites(staged)) == 2
        done = uploads.site_upload_confirm(upload=staged, user=staged.uploaded_by)
        assert done.status == SiteUpload.Status.IMPORTED and done.staged_sites is None
        assert Site.objects.filter(upload=done).count() == 2
        with pytest.raises(UploadRejected, match="already imported or discarded"):
            uploads.site_upload_confirm(upload=done, user=done.uploaded_by)
        assert Site.objects.count() == 2

    def test_it_refuses_to_confirm_rejected_rows_unless_only_valid(self, boundaries):
        staged = uploads.site_upload_stage(
            data=ONE_BAD_CSV, file_name="s.csv", source_name="Survey", user=user("a", "analyst")
        )
        assert staged.rows_rejected == 1 and staged.errors_total == 1
        with pytest.raises(UploadRejected, match="row"):
            uploads.site_upload_confirm(upload=staged, user=staged.uploaded_by)
        assert Site.objects.count() == 0
        done = uploads.site_upload_confirm(upload=staged, user=staged.uploaded_by, only_valid=True)
        assert done.sites_created == 1 and done.only_valid

    def test_it_checks_duplicates_again_at_confirm(self, boundaries):
        staged = uploads.site_upload_stage(
            data=GOOD_CSV, file_name="s.csv", source_name="Survey", user=user("a", "analyst")
        )
        _import()  # someone imports the same ids meanwhile
        before = _state()
        with pytest.raises(UploadRejected):
            uploads.site_upload_confirm(upload=staged, user=staged.uploaded_by)
        assert _state() == before

    def test_it_discards_and_expires_staged_uploads(self, boundaries):
        analyst = user("a", "analyst")
        staged = uploads.site_upload_stage(data=GOOD_CSV, file_name="s.csv", source_name="Survey", user=analyst)
        assert uploads.site_upload_discard(upload=staged, user=analyst) and not SiteUpload.objects.exists()
        old = uploads.site_upload_stage(data=GOOD_CSV, file_name="s.csv", source_name="Survey", user=analyst)
        SiteUpload.objects.filter(id=old.id).update(uploaded_at=timezone.now() - timedelta(hours=25))
        assert uploads.site_uploads_expire() == 1 and not SiteUpload.objects.exists()


class WithdrawTests:
    def _run_using_sites(self, created_at=None) -> ScoringRun:
        run = ScoringRun.objects.create(scenario_name="t", params={}, status=ScoringRun.Status.SUCCEEDED)
        if created_at:
            ScoringRun.objects.filter(id=run.id).update(created_at=created_at)
            run.refresh_from_db()
        sites = selectors.site_frame()
        blob = frames.frames_pack({"sites": sites})
        RunInput.objects.create(run=run, payload=blob, sha256=hashlib.sha256(blob).hexdigest())
        return run

    def test_it_withdraws_the_upload_and_its_sites(self, boundaries):
        analyst = user("ana", "analyst")
        upload = _import(user=analyst).upload
        assert len(selectors.site_frame()) == 2
        assert uploads.site_upload_withdraw(upload=upload, user=analyst) == 2
        upload.refresh_from_db()
        assert upload.status == SiteUpload.Status.WITHDRAWN and upload.withdrawn_by == analyst and upload.withdrawn_at
        assert Site.objects.filter(withdrawn=True).count() == 2 and len(selectors.site_frame()) == 0
        assert uploads.site_upload_withdraw(upload=upload, user=analyst) is None
        staged = uploads.site_upload_stage(data=GOOD_CSV, file_name="s.csv", source_name="Other", user=analyst)
        assert uploads.site_upload_withdraw(upload=staged, user=analyst) is None

    def test_it_tells_runs_that_used_the_sites_and_only_those(self, boundaries):
        upload = _import().upload
        used = self._run_using_sites(created_at=timezone.now() - timedelta(minutes=5))
        assert run_withdrawn_sites(used)["n_sites"] == 0
        uploads.site_upload_withdraw(upload=upload, user=None)
        notice = run_withdrawn_sites(used)
        assert notice["n_sites"] == 2 and notice["uploads"] == [SiteUpload.objects.get()]
        later = self._run_using_sites()  # after the withdrawal: never saw the sites
        assert run_withdrawn_sites(later)["n_sites"] == 0

    def test_it_brings_a_withdrawn_site_back_when_updated(self, boundaries):
        upload = _import().upload
        uploads.site_upload_withdraw(upload=upload, user=None)
        result = _import(on_duplicate="update")
        assert Site.objects.filter(withdrawn=False, upload=result.upload).count() == 2


# --- malformed files ------------------------------------------------------------------------


def _gpkg(tmp_path, **frames_by_layer) -> bytes:
    path = tmp_path / "m.gpkg"
    for layer, gdf in frames_by_layer.items():
        gdf.to_file(path, driver="GPKG", layer=layer)
    return path.read_bytes()


def _mixed_geojson() -> bytes:
    pts = json.loads(points_frame().to_json())
    polys = json.loads(squares_frame().to_json())
    for f in polys["features"]:
        f["properties"]["external_id"] += "-outline"
    pts["features"] += polys["features"]
    return json.dumps(pts).encode()


def _lines_geojson() -> bytes:
    gdf = points_frame()
    gdf["geometry"] = [shapely.LineString([(p.x, p.y), (p.x + 0.01, p.y)]) for p in gdf.geometry]
    return gdf.to_json().encode()


MALFORMED = {
    "empty": (lambda t: b"", "x.csv", "The file is empty."),
    "header only": (lambda t: b"id,name,lat,lon\n", "x.csv", "The file has no rows."),
    "empty feature collection": (
        lambda t: b'{"type": "FeatureCollection", "features": []}',
        "x.geojson",
        "The file has no rows.",
    ),
    "truncated geojson": (lambda t: points_frame().to_json().encode()[:150], "x.geojson", "cannot be read as GeoJSON"),
    "truncated geopackage": (
        lambda t: write(points_frame(), "gpkg", t)[0][:3000],
        "x.gpkg",
        "cannot be read as GeoPackage",
    ),
    "truncated csv": (lambda t: b'id,name,lat,lon\nA,"Site A,49.28,6.06\n', "x.csv", "cannot be read as CSV"),
    "wrong types": (lambda t: b"id,name,lat,lon,area_ha\nA,Site,north,6.06,large\n", "x.csv", "row(s) rejected"),
    "mixed geometries": (lambda t: _mixed_geojson(), "x.geojson", "mixes geometry types"),
    "lines": (lambda t: _lines_geojson(), "x.geojson", "lines or geometry collections"),
    "zip with ../ path": (lambda t: zip_bytes({"../../evil.shp": b"x", "ok.shx": b"x"}), "x.zip", "unsafe path"),
    "zip with absolute path": (lambda t: zip_bytes({"/tmp/evil.csv": b"id\n"}), "x.zip", "unsafe path"),
    "zip bomb": (lambda t: zip_bytes({"sites.csv": b"id,name,lat,lon\n" + b" " * 20_000_000}), "x.zip", "zip bomb"),
    "not a zip": (lambda t: b"PK\x03\x04 this is not really a zip", "x.zip", "damaged or not a zip"),
    "unsupported type": (lambda t: b"PK\x03\x04", "x.docx", "not supported"),
    "old binary workbook": (lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "x.xls", "Save the workbook as .xlsx"),
    "workbook that is not a zip": (
        lambda t: b"PK\x03\x04 this is not really a workbook",
        "x.xlsx",
        "cannot be read as Excel (XLSX)",
    ),
    "bare shapefile": (lambda t: b"\x00\x00\x27\x0a", "x.shp", "several files"),
    "geopackage named geojson": (lambda t: write(points_frame(), "gpkg", t)[0], "x.geojson", "is not a GeoJSON file"),
    "no id column": (lambda t: b"name,lat,lon\nSite,49.28,6.06\n", "x.csv", "Required column(s) missing: external_id"),
    "no coordinates": (lambda t: b"id,name\nA,Site\n", "x.csv", "no geometry and no longitude/latitude"),
    "area without unit": (lambda t: b"id,name,lat,lon,surface\nA,Site,49.28,6.06,12\n", "x.csv", "without its unit"),
    "two layers": (lambda t: _gpkg(t, a=points_frame(), b=points_frame()), "x.gpkg", "holds 2 layers"),
    "unknown crs": (lambda t: b"id,name,x,y\nA,Site,99999999,99999999\n", "x.csv", "state the CRS"),
    "bad stated crs": (lambda t: GOOD_CSV, "x.csv", "EPSG code"),
}


class MalformedFileTests:
    @pytest.mark.parametrize("case", list(MALFORMED))
    def test_it_refuses_the_file_with_its_own_message_and_changes_nothing(self, case, boundaries, tmp_path, settings):
        make, name, message = MALFORMED[case]
        settings.GIGASITE_UPLOAD_TMP_DIR = str(tmp_path / "work")
        (tmp_path / "work").mkdir()
        data = make(tmp_path)
        before = _state()
        kwargs = {"crs": "+proj=longlat +nadgrids=/etc/passwd"} if case == "bad stated crs" else {}
        with pytest.raises(UploadRejected) as exc:
            _import(data, name, **kwargs)
        assert message in str(exc.value)
        assert str(tmp_path) not in str(exc.value)
        assert _state() == before
        assert list((tmp_path / "work").iterdir()) == []

    def test_it_gives_each_malformed_file_a_different_message(self):
        # Only the two empty files and the two unsafe archives share a message, on purpose.
        messages = [m for _make, _name, m in MALFORMED.values()]
        assert len(set(messages)) == len(messages) - 2

    def test_it_refuses_files_over_the_size_and_row_limits(self, boundaries, settings):
        settings.GIGASITE_UPLOAD_MAX_ROWS = 1
        with pytest.raises(UploadRejected, match="more than 1 rows"):
            _import()
        settings.GIGASITE_UPLOAD_MAX_ROWS = 100
        settings.GIGASITE_UPLOAD_MAX_BYTES = 10
        with pytest.raises(UploadRejected, match="larger than"):
            _import()
        assert _state() == (0, 0, [])
