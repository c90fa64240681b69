"""Known-headroom upload pages: roles and ownership, the upload → preview → confirm flow, errors
naming file, row and field, all or nothing, withdrawal back to the estimates, CSRF."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from grid.models import GridConnectionPoint, HeadroomUpload, KnownHeadroom, Zone
from tests.support.uploads import user

pytestmark = pytest.mark.django_db

CSV = b"point_id,headroom_mw,date,source\nrte:VILLE,300,2025-09-30,RTE capacity register\n"
# Row 3 (the header is row 1) gives no number: the whole file is refused.
BAD = b"point_id,headroom_mw,date,source\nrte:VILLE,300,2025-09-30,RTE\nrte:AUTRE,beaucoup,2025-09-30,RTE\n"


@pytest.fixture(autouse=True)
def staging(settings, tmp_path):
    settings.GIGASITE_HEADROOM_STAGING_DIR = str(tmp_path / "staged")
    return tmp_path / "staged"


@pytest.fixture
def points():
    """Two substations: Ville 400 with a network estimate of 50 MW and no known value, Autre 225."""
    Zone.objects.create(
        code="FR", name="France", carbon_intensity_g_per_kwh=60.0, price_eur_per_mwh=60.0, cooling_degree_days=50.0
    )
    ville = GridConnectionPoint.objects.create(
        external_id="rte:VILLE",
        name="Ville 400",
        country="FR",
        longitude=2.0,
        latitude=48.1,
        voltage_kv=400.0,
        headroom_estimate_mw=50.0,
        headroom_method="lines_n1",
        source="rte",
        source_vintage="2025",
    )
    autre = GridConnectionPoint.objects.create(
        external_id="rte:AUTRE",
        name="Autre 225",
        country="FR",
        longitude=3.0,
        latitude=47.0,
        voltage_kv=225.0,
        source="rte",
        source_vintage="2025",
    )
    return ville, autre


@pytest.fixture
def analyst(client, points):
    client.force_login(user("ana", "analyst"))
    return client


def _post(client, data: bytes = CSV, name: str = "rte.csv", **fields):
    payload = {"file": SimpleUploadedFile(name, data), "source_name": "RTE 2025-Q3", "match_distance_km": "0"}
    payload.update(fields)
    return client.post("/uploads/headroom/new/", payload)


def _preview(client, data: bytes = CSV, **fields) -> str:
    resp = _post(client, data, **fields)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert resp["Location"].startswith("/uploads/headroom/preview/")
    return resp["Location"]


def _nothing_saved(points) -> bool:
    for p in points:
        p.refresh_from_db()
    return (
        not HeadroomUpload.objects.exists()
        and not KnownHeadroom.objects.exists()
        and all(p.headroom_mw is None for p in points)
    )


class AccessTests:
    def test_it_sends_anonymous_users_to_the_login(self, client):
        resp = client.get("/uploads/headroom/")
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]

    @pytest.mark.parametrize("role", ["planner", "official", None])
    def test_it_refuses_other_roles(self, client, points, role):
        client.force_login(user("u", role))
        assert client.get("/uploads/headroom/").status_code == 403
        assert _post(client).status_code == 403
        assert _nothing_saved(points)

    def test_it_links_the_headroom_page_from_the_uploads_page(self, analyst):
        assert 'href="/uploads/headroom/"' in analyst.get("/uploads/").content.decode()

    def test_it_lists_the_accepted_column_names(self, analyst):
        page = analyst.get("/uploads/headroom/").content.decode()
        assert "headroom_mw" in page and "freie Kapazität" in page and "capacité d&#x27;accueil" in page


class FlowTests:
    def test_it_shows_the_matches_of_a_dry_run_and_saves_nothing(self, analyst, points, staging):
        page = analyst.get(_preview(analyst))
        assert page.status_code == 200
        html = page.content.decode()
        row = html[html.index('id="headroom-matches"') :]
        assert (
            "rte:VILLE" in row and "Ville 400" in row and "300.0" in row and "50.0" in row
        )  # the estimate it overrides
        assert "2025-09-30" in row and "RTE capacity register" in row
        assert _nothing_saved(points)

    def test_it_saves_every_value_on_confirm_and_shows_them_as_known(self, analyst, points):
        ville, _autre = points
        preview = _preview(analyst)
        resp = analyst.post(preview + "confirm/")
        upload = HeadroomUpload.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/uploads/headroom/{upload.code}/"
        ville.refresh_from_db()
        assert ville.headroom_mw == 300.0 and ville.headroom_estimate_mw == 50.0
        assert upload.uploaded_by.username == "ana" and upload.source_name == "RTE 2025-Q3"
        value = KnownHeadroom.objects.get()
        assert (value.point_id, value.row, value.matched_by, value.previous_headroom_mw) == (ville.id, 2, "id", None)
        detail = analyst.get(resp["Location"]).content.decode()
        assert "rte:VILLE" in detail and "300.0" in detail and 'id="withdraw"' in detail
        assert "rte.csv" in analyst.get("/uploads/headroom/").content.decode()

    def test_it_imports_a_preview_confirmed_twice_once(self, analyst, points):
        preview = _preview(analyst)
        first = analyst.post(preview + "confirm/")
        second = analyst.post(preview + "confirm/")
        assert HeadroomUpload.objects.count() == 1 and KnownHeadroom.objects.count() == 1
        assert second.status_code in (302, 404)
        if second.status_code == 302:
            assert second["Location"] == first["Location"]

    def test_it_names_file_row_and_field_of_a_bad_row_and_saves_nothing(self, analyst, points, staging):
        resp = _post(analyst, BAD, name="capacites.csv")
        assert resp.status_code == 400
        html = resp.content.decode()
        assert "capacites.csv" in html and "1 row(s) rejected" in html
        table = html[html.index('id="headroom-errors"') :]
        assert "<td>capacites.csv</td>" in table
        assert '<td class="num">3</td><td>headroom_mw</td><td>beaucoup</td><td>not a number</td>' in table
        assert _nothing_saved(points)
        assert not staging.exists() or not any(staging.iterdir())

    def test_it_refuses_a_file_without_a_headroom_column_with_its_name(self, analyst, points):
        resp = _post(analyst, b"point_id,capacity\nrte:VILLE,3\n", name="wrong.csv")
        assert resp.status_code == 400
        assert "wrong.csv: No headroom column" in resp.content.decode()
        assert _nothing_saved(points)

    def test_it_matches_by_position_within_the_distance_given_on_the_form(self, analyst, points):
        data = b"longitude,latitude,headroom_kw\n2.003,48.101,420000\n"  # 250 m from Ville 400; 420 MW
        refused = _post(analyst, data)
        assert refused.status_code == 400 and "state the matching distance" in refused.content.decode()
        html = analyst.get(_preview(analyst, data, match_distance_km="1")).content.decode()
        assert "position, 0.25 km away" in html and "420.0" in html
        assert _nothing_saved(points)

    def test_it_asks_for_the_sheet_of_a_workbook_of_several(self, analyst, points):
        book = openpyxl.Workbook()
        book.active.title = "Lisez-moi"
        book.active.append(["Capacités d'accueil du réseau"])
        sheet = book.create_sheet("Capacités")
        sheet.append(["Capacités au 30/09/2025"])
        sheet.append([])
        sheet.append(["code_poste", "capacité d'accueil (MW)"])
        sheet.append(["rte:VILLE", 300])
        buf = io.BytesIO()
        book.save(buf)
        resp = _post(analyst, buf.getvalue(), name="capacites.xlsx")
        assert resp.status_code == 400
        html = resp.content.decode()
        assert '<select name="sheet"' in html and '<option value="Capacités">' in html
        assert (
            "capacites.xlsx: “capacites.xlsx” holds 2 sheets (Lisez-moi, Capacités): choose the one with the headroom."
            in html
        )
        html = analyst.get(_preview(analyst, buf.getvalue(), name="capacites.xlsx", sheet="Capacités")).content.decode()
        assert "rte:VILLE" in html and "300.0" in html
        # The header sits under a title and a blank row, and names no column of the site template.
        assert "header on row 3." in html and "Rows 1 to 2 above the header were skipped" in html

    def test_it_refuses_a_preview_the_grid_no_longer_matches(self, analyst, points):
        ville, _autre = points
        preview = _preview(analyst)
        ville.external_id = "rte:VILLE-2"  # a grid reload renamed the point
        ville.save()
        resp = analyst.post(preview + "confirm/", follow=True)
        assert "rte.csv: 1 row(s) rejected" in resp.content.decode()
        assert _nothing_saved(points)

    def test_it_forgets_a_discarded_preview(self, analyst, points, staging, django_capture_on_commit_callbacks):
        preview = _preview(analyst)
        with django_capture_on_commit_callbacks(execute=True):
            resp = analyst.post(preview + "discard/")
        assert resp.status_code == 302 and resp["Location"] == "/uploads/headroom/"
        assert analyst.get(preview).status_code == 404
        assert analyst.post(preview + "confirm/").status_code == 404
        assert list(staging.iterdir()) == []
        assert _nothing_saved(points)

    def test_it_restores_the_estimates_on_withdrawal(self, analyst, points):
        ville, _autre = points
        analyst.post(_preview(analyst) + "confirm/")
        upload = HeadroomUpload.objects.get()
        assert analyst.get(f"/uploads/headroom/{upload.code}/withdraw/").status_code == 405
        resp = analyst.post(f"/uploads/headroom/{upload.code}/withdraw/")
        assert resp.status_code == 302
        ville.refresh_from_db()
        upload.refresh_from_db()
        assert ville.headroom_mw is None and ville.headroom_estimate_mw == 50.0
        assert upload.status == HeadroomUpload.Status.WITHDRAWN and upload.withdrawn_by.username == "ana"
        detail = analyst.get(resp["Location"]).content.decode()
        assert 'id="withdraw"' not in detail and "went back to the headroom they had before" in detail
        # Withdrawing again changes nothing.
        analyst.post(f"/uploads/headroom/{upload.code}/withdraw/")
        ville.refresh_from_db()
        assert ville.headroom_mw is None


class OwnershipTests:
    def test_it_hides_an_analysts_preview_and_upload_from_another_analyst(self, analyst, points):
        ville, _autre = points
        mine = _preview(analyst)
        other = Client()
        other.force_login(user("bob", "analyst"))
        assert other.get(mine).status_code == 404
        assert other.post(mine + "confirm/").status_code == 404
        assert other.post(mine + "discard/").status_code == 404
        assert not HeadroomUpload.objects.exists()
        analyst.post(mine + "confirm/")
        upload = HeadroomUpload.objects.get()
        assert other.get(f"/uploads/headroom/{upload.code}/").status_code == 404
        assert other.post(f"/uploads/headroom/{upload.code}/withdraw/").status_code == 404
        assert "rte.csv" not in other.get("/uploads/headroom/").content.decode()
        upload.refresh_from_db()
        ville.refresh_from_db()
        assert upload.status == HeadroomUpload.Status.IMPORTED and ville.headroom_mw == 300.0

    def test_it_lets_an_admin_see_and_withdraw_an_analysts_upload(self, analyst, points):
        ville, _autre = points
        analyst.post(_preview(analyst) + "confirm/")
        upload = HeadroomUpload.objects.get()
        admin = Client()
        admin.force_login(user("root", "admin"))
        assert "rte.csv" in admin.get("/uploads/headroom/").content.decode()
        assert admin.get(f"/uploads/headroom/{upload.code}/").status_code == 200
        assert admin.post(f"/uploads/headroom/{upload.code}/withdraw/").status_code == 302
        ville.refresh_from_db()
        assert ville.headroom_mw is None

    def test_it_keeps_the_preview_the_analysts_own_when_an_admin_confirms(self, analyst, points):
        preview = _preview(analyst)
        admin = Client()
        admin.force_login(user("root", "admin"))
        assert admin.get(preview).status_code == 200
        assert admin.post(preview + "confirm/").status_code == 302
        assert HeadroomUpload.objects.get().uploaded_by.username == "ana"


class CsrfTests:
    def test_it_enforces_csrf(self, points, staging):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user("ana", "analyst"))
        assert _post(client).status_code == 403
        assert not staging.exists()  # refused before the file was read
        # With the page's token, the same post goes through to a preview; confirming without it does not.
        client.get("/uploads/headroom/")
        token = client.cookies["csrftoken"].value
        payload = {
            "file": SimpleUploadedFile("rte.csv", CSV),
            "source_name": "RTE",
            "match_distance_km": "0",
            "csrfmiddlewaretoken": token,
        }
        resp = client.post("/uploads/headroom/new/", payload)
        assert resp.status_code == 302
        preview = resp["Location"]
        assert client.post(preview + "confirm/").status_code == 403
        assert client.post(preview + "discard/").status_code == 403
        assert not HeadroomUpload.objects.exists()
        assert client.post(preview + "confirm/", {"csrfmiddlewaretoken": token}).status_code == 302
        upload = HeadroomUpload.objects.get()
        assert client.post(f"/uploads/headroom/{upload.code}/withdraw/").status_code == 403
        upload.refresh_from_db()
        assert upload.status == HeadroomUpload.Status.IMPORTED
