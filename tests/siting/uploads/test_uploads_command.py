"""The import_sites command: same checks as the web, summary and error report, exit status."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from siting.models import Site, SiteUpload
from tests.support.uploads import boundaries, user  # noqa: F401

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "uploads"
BAD = "id;name;lat;lon;grid_voltage_kv\nA;Site A;49,2833;6,0648;225\nB;Site B;47,2744;-1,8795;401\n"


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_sites", *args, stdout=out)
    return out.getvalue()


class ImportSitesCommandTests:
    # The twelve French sites in every format and CRS; the European samples have their own tests.
    @pytest.mark.parametrize(
        "sample",
        sorted(p.name for p in SAMPLES.glob("sample_*") if p.name.startswith(("sample_points_", "sample_polygons_"))),
    )
    def test_it_imports_every_shipped_french_sample(self, sample, boundaries):
        out = _run(str(SAMPLES / sample), "--source", "Samples", "--user", user("ana", "analyst").username)
        assert "Imported: 12 new, 0 updated, 0 skipped" in out
        upload = SiteUpload.objects.get()
        assert upload.uploaded_by.username == "ana" and upload.sites.count() == 12
        assert set(upload.sites.values_list("country", flat=True)) == {"FR"}

    def test_it_saves_nothing_on_a_dry_run(self, boundaries):
        out = _run(str(SAMPLES / "sample_points_wgs84.geojson"), "--dry-run")
        assert "Would import: 12 new" in out and "dry run" in out
        assert not Site.objects.exists() and not SiteUpload.objects.exists()

    def test_it_prints_and_writes_the_error_report_and_fails(self, boundaries, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_text(BAD, encoding="latin-1")
        report = tmp_path / "errors.csv"
        with pytest.raises(CommandError, match="1 row"):
            _run(str(path), "--errors-csv", str(report))
        rows = list(csv.reader(report.open()))
        assert rows[0] == ["row", "field", "value", "reason"] and rows[1][:3] == ["3", "grid_voltage_kv", "401"]
        assert rows[1][3].startswith("not a known voltage class") and len(rows) == 2
        assert not Site.objects.exists()

    def test_it_imports_only_valid_rows_and_updates_or_skips_on_request(self, boundaries, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_text(BAD)
        assert "Imported: 1 new" in _run(str(path), "--only-valid", "--source", "S")
        assert "Imported: 0 new, 1 updated" in _run(
            str(path), "--only-valid", "--source", "S", "--on-duplicate", "update"
        )
        with pytest.raises(CommandError, match="Nothing to import"):
            _run(str(path), "--only-valid", "--source", "S", "--on-duplicate", "skip")
        assert Site.objects.count() == 1 and SiteUpload.objects.count() == 2

    def test_it_refuses_unknown_users_and_missing_files(self, boundaries, tmp_path):
        with pytest.raises(CommandError, match="no such user"):
            _run(str(SAMPLES / "sample_points_wgs84.geojson"), "--user", "ghost")
        with pytest.raises(CommandError, match="no such file"):
            _run(str(tmp_path / "nope.csv"))
