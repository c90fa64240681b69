"""The European sample files import, dry run, with every row: a German XLSX closure list (two
sheets, title block, date cells, UTM 32N), a Spanish Latin-1 CSV (semicolons, decimal commas)
and a Polish ODS (Polish headers and country names)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from django.core.management import call_command

from siting.models import Site, SiteUpload
from tests.support.uploads import boundaries  # noqa: F401

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "uploads"


def _dry_run(name: str, *options: str) -> str:
    out = io.StringIO()
    call_command("import_sites", str(SAMPLES / name), "--dry-run", *options, stdout=out)
    assert (Site.objects.count(), SiteUpload.objects.count()) == (0, 0)
    return out.getvalue()


class EuropeanSampleTests:
    def test_the_german_closure_list_imports_every_row(self, boundaries):
        book = openpyxl.load_workbook(SAMPLES / "sample_de_stilllegungen_utm32.xlsx", read_only=True)
        # Counted independently: rows below the header (row 4) with an id in column A.
        n = sum(1 for row in book["Stilllegungen"].iter_rows(min_row=5, values_only=True) if row[0] is not None)
        assert n == 60
        out = _dry_run("sample_de_stilllegungen_utm32.xlsx", "--sheet", "Stilllegungen", "--crs", "EPSG:25832")
        assert f"{n} rows read (xlsx, EPSG:25832), 0 rejected." in out
        assert f"Would import: {n} new" in out

    def test_the_german_workbook_asks_for_its_sheet(self, boundaries):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match=r"holds 2 sheets \(Erläuterungen, Stilllegungen\).*--sheet"):
            _dry_run("sample_de_stilllegungen_utm32.xlsx")

    def test_the_spanish_latin1_csv_imports_every_row(self, boundaries):
        n = len(pd.read_csv(SAMPLES / "sample_es_cierres_latin1.csv", sep=";", encoding="latin-1"))
        assert n == 27
        out = _dry_run("sample_es_cierres_latin1.csv")
        assert f"{n} rows read (csv, EPSG:4326), 0 rejected." in out
        assert "semicolon-separated, Latin-1" in out

    def test_the_polish_ods_imports_every_row(self, boundaries):
        cells = pd.read_excel(SAMPLES / "sample_pl_elektrownie.ods", engine="odf", header=None)
        header_at = int((cells[0] == "Identyfikator").to_numpy().argmax())
        n = len(cells) - header_at - 1
        assert n == 26
        out = _dry_run("sample_pl_elektrownie.ods")
        assert f"{n} rows read (ods, EPSG:4326), 0 rejected." in out
        assert f"header on row {header_at + 1}" in out
