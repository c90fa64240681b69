"""Upload pages: roles, the upload → preview → confirm flow, CSRF, limits, and no leak of paths."""

from __future__ import annotations

import hashlib
from unittest.mock import patch

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from siting import frames
from siting.models import RunInput, ScoringRun, Site, SiteUpload
from siting.sites import selectors
from tests.support.uploads import boundaries, user  # noqa: F401

pytestmark = pytest.mark.django_db

CSV = b"id,name,lat,lon,area_m2\nA,Site A,49.2833,6.0648,100000\nB,Site B,47.2744,-1.8795,200000\n"
BAD = b"id,name,lat,lon,area_m2\nA,Site A,49.2833,6.0648,100000\nB,Site B,47.2744,-1.8795,-5\n"


def _post_file(client, data: bytes = CSV, name: str = "survey.csv", **fields):
    payload = {
        "file": SimpleUploadedFile(name, data, content_type="text/csv"),
        "source_name": "Survey",
        "on_duplicate": "error",
    }
    payload.update(fields)
    return client.post("/uploads/new/", payload)


@pytest.fixture
def analyst_client(client, boundaries):
    client.force_login(user("ana", "analyst"))
    return client


class AccessTests:
    URLS = ["/uploads/", "/uploads/template/", "/uploads/template.csv"]

    @pytest.mark.parametrize("url", URLS)
    def test_it_sends_anonymous_users_to_the_login(self, client, url):
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]

    @pytest.mark.parametrize("role", ["planner", "official", None])
    def test_it_refuses_other_roles(self, client, role, boundaries):
        client.force_login(user("u", role))
        for url in self.URLS:
            assert client.get(url).status_code == 403
        assert _post_file(client).status_code == 403
        assert not SiteUpload.objects.exists()

    def test_it_lets_an_admin_in(self, client):
        client.force_login(user("root", "admin"))
        assert client.get("/uploads/").status_code == 200

    def test_it_shows_the_nav_link_to_analysts_only(self, client):
        client.force_login(user("pat", "planner"))
        assert "/uploads/" not in client.get("/runs/").content.decode()
        client.force_login(user("ana", "analyst"))
        assert 'href="/uploads/"' in client.get("/runs/").content.decode()

    def test_it_hides_another_analysts_staged_upload_but_not_an_imported_one(self, analyst_client):
        resp = _post_file(analyst_client)
        code = resp["Location"].rstrip("/").split("/")[-1]
        other = Client()
        other.force_login(user("bob", "analyst"))
        assert other.get(f"/uploads/{code}/").status_code == 404
        assert other.post(f"/uploads/{code}/confirm/").status_code == 404
        analyst_client.post(f"/uploads/{code}/confirm/")
        assert other.get(f"/uploads/{code}/").status_code == 200


class FlowTests:
    def test_it_previews_then_imports_on_confirm(self, analyst_client):
        resp = _post_file(analyst_client)
        upload = SiteUpload.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/uploads/{upload.code}/"
        assert upload.status == "staged" and not Site.objects.exists()
        page = analyst_client.get(resp["Location"])
        html = page.content.decode()
        assert page.status_code == 200
        assert "vendor/plotly/plotly.min.js" in html and "scattermap" in html and "Site A" in html
        assert "cdn.plot.ly" not in html and "open-street-map" not in html and "tiles" not in html
        assert page.context["counts"] == {"create": 2, "update": 0, "skip": 0}
        resp = analyst_client.post(f"/uploads/{upload.code}/confirm/", follow=True)
        assert resp.status_code == 200 and "2 new sites" in resp.content.decode()
        assert Site.objects.filter(upload=upload).count() == 2
        assert Site.objects.get(external_id="survey:A").area_ha == pytest.approx(10.0)

    def test_it_reports_rejected_rows_and_imports_only_valid_ones_when_asked(self, analyst_client):
        _post_file(analyst_client, BAD)
        upload = SiteUpload.objects.get()
        page = analyst_client.get(f"/uploads/{upload.code}/").content.decode()
        assert "must be greater than 0" in page and 'id="confirm-valid"' in page and 'id="confirm-all"' not in page
        analyst_client.post(f"/uploads/{upload.code}/confirm/")
        assert not Site.objects.exists()  # all or nothing unless asked
        csv_resp = analyst_client.get(f"/uploads/{upload.code}/errors.csv")
        assert (
            csv_resp["Content-Type"].startswith("text/csv") and "survey-errors.csv" in csv_resp["Content-Disposition"]
        )
        assert csv_resp.content.decode().splitlines() == [
            "row,field,value,reason",
            "3,area_ha,-5,must be greater than 0",
        ]
        analyst_client.post(f"/uploads/{upload.code}/confirm/", {"only_valid": "1"})
        assert list(Site.objects.values_list("external_id", flat=True)) == ["survey:A"]

    def test_it_discards_a_staged_upload(self, analyst_client):
        _post_file(analyst_client)
        code = SiteUpload.objects.get().code
        assert analyst_client.post(f"/uploads/{code}/discard/").status_code == 302
        assert not SiteUpload.objects.exists() and not Site.objects.exists()

    def test_it_withdraws_an_upload_and_the_run_page_says_so(self, analyst_client):
        _post_file(analyst_client)
        upload = SiteUpload.objects.get()
        analyst_client.post(f"/uploads/{upload.code}/confirm/")
        run = ScoringRun.objects.create(scenario_name="Before", params={}, status=ScoringRun.Status.SUCCEEDED)
        blob = frames.frames_pack({"sites": selectors.site_frame()})
        RunInput.objects.create(run=run, payload=blob, sha256=hashlib.sha256(blob).hexdigest())
        assert "run-withdrawn-notice" not in analyst_client.get(f"/runs/{run.code}/").content.decode()
        resp = analyst_client.post(f"/uploads/{upload.code}/withdraw/", follow=True)
        assert "withdrawn" in resp.content.decode() and Site.objects.filter(withdrawn=True).count() == 2
        page = analyst_client.get(f"/runs/{run.code}/").content.decode()
        assert (
            'id="run-withdrawn-notice"' in page
            and "2 sites this run used were withdrawn" in page
            and "survey.csv" in page
        )
        again = analyst_client.post(f"/uploads/{upload.code}/withdraw/", follow=True)
        assert "cannot be withdrawn" in again.content.decode()

    def test_it_refuses_a_planner_the_withdrawal(self, analyst_client):
        _post_file(analyst_client)
        upload = SiteUpload.objects.get()
        analyst_client.post(f"/uploads/{upload.code}/confirm/")
        planner = Client()
        planner.force_login(user("pat", "planner"))
        assert planner.post(f"/uploads/{upload.code}/withdraw/").status_code == 403
        assert not Site.objects.filter(withdrawn=True).exists()

    @pytest.mark.parametrize("url", ["/uploads/new/", "/uploads/00000000-0000-0000-0000-000000000000/confirm/"])
    def test_it_rejects_get_on_actions(self, analyst_client, url):
        assert analyst_client.get(url).status_code == 405

    def test_it_serves_the_template_and_the_samples_by_name_only(self, analyst_client):
        template = analyst_client.get("/uploads/template.csv")
        assert template.content.decode().splitlines()[0].startswith("external_id,name,longitude,latitude")
        page = analyst_client.get("/uploads/template/").content.decode()
        assert "sample_points_wgs84.geojson" in page and "grid_voltage_kv" in page
        assert analyst_client.get("/uploads/samples/sample_points_wgs84.geojson").status_code == 200
        assert analyst_client.get("/uploads/samples/make_samples.py").status_code == 404
        assert analyst_client.get("/uploads/samples/..%2Fmake_samples.py").status_code == 404
        assert analyst_client.get("/uploads/samples/settings.py").status_code == 404


class SafetyTests:
    def test_it_enforces_csrf(self, boundaries):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user("ana", "analyst"))
        assert _post_file(client).status_code == 403
        assert not SiteUpload.objects.exists()

    def test_it_shows_a_malformed_file_error_without_paths_or_tracebacks(self, analyst_client):
        resp = _post_file(analyst_client, b'{"type": "FeatureCollection", "features": [', "broken.geojson")
        html = resp.content.decode()
        assert resp.status_code == 400
        assert "broken.geojson: The file cannot be read as GeoJSON" in html
        assert "/tmp" not in html and str(settings.BASE_DIR) not in html and "Traceback" not in html
        assert not SiteUpload.objects.exists()

    def test_it_answers_an_unexpected_failure_with_a_generic_message(self, analyst_client):
        with patch("siting.uploads.services.site_upload_stage", side_effect=OSError("/srv/secret/path exploded")):
            resp = _post_file(analyst_client)
        html = resp.content.decode()
        assert resp.status_code == 400 and "could not be read" in html and "/srv/secret" not in html

    def test_it_refuses_a_body_over_the_limit_before_reading_it(self, analyst_client, settings):
        settings.GIGASITE_UPLOAD_MAX_BYTES = 100
        with patch("siting.uploads.views._upload_create") as inner:
            resp = _post_file(analyst_client, CSV * 2000)
        assert resp.status_code == 413 and not inner.called
        assert not SiteUpload.objects.exists()


class SpreadsheetFlowTests:
    def test_it_asks_for_the_sheet_then_previews_the_chosen_one(self, analyst_client):
        from tests.siting.uploads.test_uploads_spreadsheets import two_sheets_header_on_row_3

        data = two_sheets_header_on_row_3()
        resp = _post_file(analyst_client, data, "survey.xlsx")
        assert resp.status_code == 400
        page = resp.content.decode()
        assert "holds 2 sheets (Notes, Sites 2024)" in page
        assert '<select name="sheet"' in page and '<option value="Sites 2024">' in page
        assert 'value="Survey"' in page  # the source is kept for the second try
        assert not SiteUpload.objects.exists()
        resp = _post_file(analyst_client, data, "survey.xlsx", sheet="Sites 2024")
        assert resp.status_code == 302
        upload = SiteUpload.objects.get()
        assert (upload.file_format, upload.rows_read, upload.sites_created) == ("xlsx", 3, 3)

    def test_the_template_page_lists_the_names_in_every_language(self, analyst_client):
        page = analyst_client.get("/uploads/template/").content.decode()
        for name in (
            "Stilllegungsjahr",
            "date de fermeture",
            "año de cierre",
            "anno di chiusura",
            "sluitingsjaar",
            "rok zamknięcia",
            "zoning_type",
            "Flächennutzung",
        ):
            assert name in page
