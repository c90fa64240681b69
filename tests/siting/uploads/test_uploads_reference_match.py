"""Uploaded rows within the conflation distance of a reference site (MODEL.md §1b): never
silently a second site; updated, kept separate or rejected by choice; withdrawal restores."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from siting.importers.places import CONFLATION_DISTANCE_M
from siting.importers.sites import UploadRejected
from siting.models import Site, SiteUpload, SourceRecord
from siting.uploads import services as uploads
from tests.support.uploads import boundaries, user  # noqa: F401

pytestmark = pytest.mark.django_db

# Gandrange steelworks as the reference data holds it; the upload places it 0.0010° of latitude
# (111 m) further north and gives what the analyst knows: area, connection and pollution.
NEAR_CSV = (
    b"id,name,lat,lon,area_ha,grid_capacity_mw,grid_voltage_kv,pollution\n"
    b"A,Acierie de Gandrange (survey),49.2843,6.0648,120,150,225,confirmed\n"
    b"B,Centrale de Cordemais,47.2744,-1.8795,80,,,\n"
)


@pytest.fixture
def reference_site(boundaries):
    return Site.objects.create(
        external_id="cartofriches:57-0001",
        name="Aciérie de Gandrange",
        country="FR",
        longitude=6.0648,
        latitude=49.2833,
        area_ha=105.2,
        pollution_status="suspected",
        source="cartofriches",
        source_vintage="2024-03",
    )


def _import(**kwargs):
    return uploads.sites_import(data=NEAR_CSV, file_name="survey.csv", source_name="Survey", **kwargs)


class ServiceTests:
    def test_it_finds_the_match_by_great_circle_distance(self, reference_site):
        plan = uploads._plan(
            uploads._parse(data=NEAR_CSV, file_name="s.csv", source_name="Survey", crs=None, area_unit=None).sites,
            [],
            2,
            source_name="Survey",
            on_duplicate="error",
            user=None,
            on_reference_match=None,
        )
        match = plan.reference_matches
        assert match["file_id"].tolist() == ["A"]
        assert match["ref_site_id"].tolist() == [reference_site.id]
        # 0.001° of latitude on a sphere of 6,371,008.8 m: 111.2 m.
        assert match["ref_distance_m"].iloc[0] == pytest.approx(111.19, abs=0.05)
        assert 111.19 < CONFLATION_DISTANCE_M

    def test_it_rejects_the_row_by_default_naming_the_reference_site(self, reference_site):
        with pytest.raises(UploadRejected) as exc:
            _import()
        errors = exc.value.result.errors
        assert [(e.row, e.field) for e in errors] == [(2, "geometry")]
        assert "111 m from the reference site “Aciérie de Gandrange” (cartofriches:57-0001)" in errors[0].reason
        assert Site.objects.count() == 1 and SiteUpload.objects.count() == 0

    def test_it_keeps_a_separate_site_when_asked(self, reference_site):
        result = _import(on_reference_match="separate")
        assert (result.created, result.merged) == (2, 0)
        assert Site.objects.count() == 3
        reference_site.refresh_from_db()
        assert reference_site.area_ha == 105.2

    def test_it_updates_the_reference_site_and_withdrawal_restores_it(self, reference_site):
        result = _import(on_reference_match="update")
        assert (result.created, result.merged) == (1, 1)
        assert Site.objects.count() == 2  # never doubled
        reference_site.refresh_from_db()
        assert (
            reference_site.area_ha,
            reference_site.grid_capacity_mw,
            reference_site.grid_voltage_kv,
            reference_site.pollution_status,
        ) == (120.0, 150.0, 225.0, "confirmed")
        assert (reference_site.name, reference_site.latitude, reference_site.source) == (
            "Aciérie de Gandrange",
            49.2833,
            "cartofriches",
        )
        record = SourceRecord.objects.get(site=reference_site, source="upload")
        assert record.record_id == "survey:A"
        assert record.raw["previous"] == {
            "area_ha": 105.2,
            "grid_capacity_mw": None,
            "grid_voltage_kv": None,
            "pollution_status": "suspected",
        }
        uploads.site_upload_withdraw(upload=result.upload, user=None)
        reference_site.refresh_from_db()
        assert (
            reference_site.area_ha,
            reference_site.grid_capacity_mw,
            reference_site.pollution_status,
            reference_site.withdrawn,
        ) == (105.2, None, "suspected", False)
        assert not SourceRecord.objects.filter(source="upload").exists()

    def test_two_rows_cannot_update_one_reference_site(self, reference_site):
        twice = NEAR_CSV + b"C,Gandrange again,49.2830,6.0650,,,,\n"
        with pytest.raises(UploadRejected) as exc:
            uploads.sites_import(data=twice, file_name="s.csv", source_name="Survey", on_reference_match="update")
        assert [(e.row, e.field) for e in exc.value.result.errors] == [(4, "geometry")]
        assert "already updated by row 2" in exc.value.result.errors[0].reason
        assert SourceRecord.objects.count() == 0


class CommandTests:
    def test_it_takes_the_choice_as_an_option(self, reference_site):
        with pytest.raises(CommandError, match="rejected"):
            call_command("import_sites", _write(NEAR_CSV), "--source", "Survey", stdout=io.StringIO())
        out = io.StringIO()
        call_command(
            "import_sites", _write(NEAR_CSV), "--source", "Survey", "--on-reference-match", "update", stdout=out
        )
        assert "1 new, 0 updated, 0 skipped, 1 reference sites updated" in out.getvalue()


def _write(data: bytes) -> str:
    import tempfile

    handle = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
    handle.write(data)
    handle.close()
    return handle.name


class ViewTests:
    def test_the_preview_lists_the_match_and_confirm_needs_a_choice(self, reference_site):
        analyst = user("ana", "analyst")
        client = Client()
        client.force_login(analyst)
        response = client.post(
            "/uploads/new/",
            {"file": SimpleUploadedFile("survey.csv", NEAR_CSV), "source_name": "Survey", "on_duplicate": "error"},
        )
        upload = SiteUpload.objects.get()
        assert response.status_code == 302
        page = client.get(f"/uploads/{upload.code}/").content.decode()
        assert 'id="reference-matches"' in page and "Aciérie de Gandrange" in page and ">111<" in page
        assert 'name="on_reference_match"' in page
        client.post(f"/uploads/{upload.code}/confirm/")
        upload.refresh_from_db()
        assert upload.status == "staged" and Site.objects.count() == 1
        client.post(f"/uploads/{upload.code}/confirm/", {"on_reference_match": "update"})
        upload.refresh_from_db()
        assert upload.status == "imported"
        assert Site.objects.count() == 2
        assert SourceRecord.objects.get(source="upload").site_id == reference_site.id
