"""Known headroom uploads: matched by id or position, all or nothing, known before estimates in
the scoring (MODEL.md §2), withdrawn back to the previous values."""

from __future__ import annotations

import dataclasses
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from grid.models import GridConnectionPoint, HeadroomUpload, KnownHeadroom, Zone
from grid.selectors import known_headroom_provenance
from siting.importers.sites import UploadRejected
from siting.models import Site
from siting.uploads.headroom_imports import headroom_import, headroom_upload_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    """One ready site at 2.0° E 48.0° N and one 400 kV substation 0.1° north (11.1 km), whose
    network estimate (50 MW) is far below what 100,000 H100e draw (146.6 MW, MODEL.md §2)."""
    Zone.objects.create(
        code="FR", name="France", carbon_intensity_g_per_kwh=60.0, price_eur_per_mwh=60.0, cooling_degree_days=50.0
    )
    site = Site.objects.create(
        external_id="survey:S1",
        name="Former plant",
        country="FR",
        longitude=2.0,
        latitude=48.0,
        area_ha=500.0,
        pollution_status="none",
        water_access="river",
        flood_zone=False,
        zoning_type="U",
        buildings_state="none",
        source="upload",
        source_vintage="test",
    )
    point = GridConnectionPoint.objects.create(
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
    GridConnectionPoint.objects.create(
        external_id="rte:AUTRE",
        name="Autre 225",
        country="FR",
        longitude=3.0,
        latitude=47.0,
        voltage_kv=225.0,
        source="rte",
        source_vintage="2025",
    )
    return site, point


def _score_at_100k(site: Site):
    from siting.runs import selectors as run_selectors
    from siting.scoring import presets, score_inputs

    params = dataclasses.replace(presets()["default"], sizes=(100_000,))
    table = score_inputs(run_selectors.scoring_inputs(), params).table
    return table[table["site_id"] == site.id].iloc[0]


CSV = b"point_id,headroom_mw,date,source\nrte:VILLE,300,2025-09-30,RTE capacity register\n"


class HeadroomUploadTests:
    def test_it_makes_one_site_feasible_at_100k_and_shows_the_headroom_as_known(self, network):
        site, point = network
        before = _score_at_100k(site)
        assert not before["feasible"]
        result = headroom_import(data=CSV, file_name="rte.csv", source_name="RTE 2025-Q3")
        point.refresh_from_db()
        assert point.headroom_mw == 300.0 and point.headroom_estimate_mw == 50.0
        after = _score_at_100k(site)
        assert after["feasible"]
        assert after["headroom_source"] == "known" and after["headroom_mw"] == 300.0
        provenance = known_headroom_provenance([point.id])[point.id]
        assert (provenance["source"], provenance["as_of"].isoformat(), provenance["upload"]) == (
            "RTE capacity register",
            "2025-09-30",
            "RTE 2025-Q3",
        )
        assert headroom_upload_withdraw(upload=result.upload, user=None) == 1
        point.refresh_from_db()
        assert point.headroom_mw is None
        assert not _score_at_100k(site)["feasible"]

    def test_it_matches_by_position_within_the_stated_distance_from_a_workbook(self, network):
        _site, point = network
        book = openpyxl.Workbook()
        ws = book.active
        ws.append(["Netzkapazitäten (Stand 2025)"])
        ws.append(["Längengrad", "Breitengrad", "freie Kapazität (MW)", "Stand"])
        ws.append([2.003, 48.101, 420, "30.09.2025"])  # 250 m from Ville 400
        buf = io.BytesIO()
        book.save(buf)
        with pytest.raises(UploadRejected, match="state the matching distance"):
            headroom_import(data=buf.getvalue(), file_name="netz.xlsx", source_name="Netz")
        result = headroom_import(data=buf.getvalue(), file_name="netz.xlsx", source_name="Netz", match_distance_km=1.0)
        value = KnownHeadroom.objects.get(upload=result.upload)
        assert (value.point_id, value.headroom_mw, value.matched_by, value.row) == (point.id, 420.0, "position", 3)
        assert value.distance_km == pytest.approx(0.25, abs=0.01)

    def test_it_writes_nothing_when_one_row_is_wrong(self, network):
        _site, point = network
        data = CSV + b"rte:NOWHERE,100,,\nrte:AUTRE,-5,,\n"
        with pytest.raises(UploadRejected, match="2 row") as exc:
            headroom_import(data=data, file_name="rte.csv", source_name="RTE")
        assert [(e.row, e.field) for e in exc.value.plan.errors] == [(3, "point_id"), (4, "headroom_mw")]
        point.refresh_from_db()
        assert point.headroom_mw is None
        assert not HeadroomUpload.objects.exists() and not KnownHeadroom.objects.exists()

    def test_a_later_upload_is_not_undone_by_withdrawing_an_earlier_one(self, network):
        _site, point = network
        first = headroom_import(data=CSV, file_name="a.csv", source_name="A").upload
        headroom_import(data=b"point_id,headroom_kw\nrte:VILLE,500000\n", file_name="b.csv", source_name="B")
        headroom_upload_withdraw(upload=first, user=None)
        point.refresh_from_db()
        assert point.headroom_mw == 500.0

    def test_the_command_imports_dry_runs_and_withdraws(self, network, tmp_path):
        _site, point = network
        path = tmp_path / "rte.csv"
        path.write_bytes(CSV)
        out = io.StringIO()
        call_command("import_headroom", str(path), "--dry-run", stdout=out)
        assert "Would set known headroom at 1 point(s)" in out.getvalue()
        point.refresh_from_db()
        assert point.headroom_mw is None
        call_command("import_headroom", str(path), "--source", "RTE", stdout=out)
        upload = HeadroomUpload.objects.get()
        call_command("import_headroom", "--withdraw", str(upload.code), stdout=out)
        assert "1 point(s) got their previous headroom back" in out.getvalue()
        with pytest.raises(CommandError, match="already withdrawn"):
            call_command("import_headroom", "--withdraw", str(upload.code), stdout=out)


class KnownHeadroomShownTests:
    def test_the_site_page_and_the_pdf_table_say_where_a_known_headroom_comes_from(self, network, client):
        from django.contrib.auth.models import Group, User

        from siting.reports import document as reports
        from siting.runs import services as runs
        from siting.scoring import presets

        site, point = network
        headroom_import(data=CSV, file_name="rte.csv", source_name="RTE 2025-Q3")
        params = dataclasses.replace(presets()["default"], sizes=(100_000,))
        run = runs.scoring_run_start(params=params.to_dict(), draws=0, name="known headroom", dispatch=False)
        run = runs.scoring_run_execute_inline(run_id=run.id)
        user = User.objects.create_user("p", password="pw")
        user.groups.add(Group.objects.get(name="planner"))
        client.force_login(user)
        body = client.get(f"/sites/{site.id}/?run={run.code}&size=100000").content.decode()
        assert 'id="known-headroom"' in body
        assert "RTE capacity register" in body and "RTE 2025-Q3" in body
        row = dict(runs_table_row(run, site.id))
        assert reports._known_headroom_text(row).startswith("known: RTE capacity register")


def runs_table_row(run, site_id: int):
    from siting.runs import selectors as run_selectors

    table = run_selectors.run_table(run)
    return table[table["site_id"] == site_id].iloc[0]
