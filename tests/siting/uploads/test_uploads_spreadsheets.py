"""XLSX and ODS uploads: round trips, the sheet picker, a header below a title block, and the
limits (archive checks, columns, rows, the bounded reading process)."""

from __future__ import annotations

import datetime
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from siting.importers.sites import SheetChoiceNeeded, UploadLimits, UploadRejected, parse_sites_file
from tests.support.uploads import EXPECTED_COUNTRY, EXPECTED_DEPARTEMENT, SITES, locators


def parse(data: bytes, name: str, **kwargs):
    countries, departements, regions = locators()
    return parse_sites_file(
        data,
        name,
        source_name="Sheets",
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
        **kwargs,
    )


def workbook_bytes(
    frame: pd.DataFrame, fmt: str, *, startrow: int = 0, sheet: str = "Sites", extra_sheet: str | None = None
) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl" if fmt == "xlsx" else "odf") as writer:
        if extra_sheet:
            pd.DataFrame([["Read me first"]]).to_excel(writer, sheet_name=extra_sheet, index=False, header=False)
        frame.to_excel(writer, sheet_name=sheet, index=False, startrow=startrow)
    return buf.getvalue()


def two_sheets_header_on_row_3() -> bytes:
    """A workbook as a ministry sends it: a notes sheet first, then the list under a two-row title."""
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["Sites identified by the regional survey, 2024"])
    ws = book.create_sheet("Sites 2024")
    ws.append(["Regional survey of former industrial sites"])
    ws.append(["Positions in WGS84; closures as dates"])
    ws.append(["id", "Name", "Longitude", "Latitude", "Date de fermeture", "Surface (ha)", "Pays"])
    ws.append(["GE-1", "Aciérie de Gandrange", 6.0648, 49.2833, datetime.date(2008, 3, 31), 105.2, "FRANCE"])
    ws.append([])  # a blank row in the middle: skipped, numbering kept
    ws.append(["PL-2", "Centrale de Cordemais", -1.8795, 47.2744, datetime.datetime(2022, 3, 31, 0, 0), 80, "France"])
    ws.append(["DE-3", "EKO Stahl Eisenhüttenstadt", 14.6245, 52.1631, 2019, 600, "Deutschland"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


class RoundTripTests:
    @pytest.mark.parametrize("fmt", ["xlsx", "ods"])
    @pytest.mark.parametrize("startrow", [0, 4])
    def test_it_reads_the_sites_back(self, fmt, startrow):
        parsed = parse(workbook_bytes(SITES, fmt, startrow=startrow), f"sites.{fmt}")
        assert parsed.errors == []
        assert parsed.file_format == fmt
        assert parsed.rows_read == 3
        sites = parsed.sites.set_index("file_id").loc[SITES["external_id"]]
        np.testing.assert_allclose(sites["longitude"], SITES["longitude"], atol=1e-9)
        np.testing.assert_allclose(sites["latitude"], SITES["latitude"], atol=1e-9)
        np.testing.assert_allclose(sites["area_ha"], SITES["area_ha"])
        assert sites["closure_year"].tolist() == SITES["closure_year"].tolist()
        assert sites["country"].tolist() == EXPECTED_COUNTRY
        assert sites["departement_code"].tolist() == EXPECTED_DEPARTEMENT
        # Rows are numbered as the sheet shows them: the header on row startrow + 1.
        assert sites["row"].tolist() == [startrow + 2, startrow + 3, startrow + 4]


class SheetTests:
    def test_it_asks_which_sheet_of_several(self):
        with pytest.raises(SheetChoiceNeeded) as exc:
            parse(two_sheets_header_on_row_3(), "survey.xlsx")
        assert exc.value.sheets == ["Notes", "Sites 2024"]
        assert "holds 2 sheets (Notes, Sites 2024)" in str(exc.value)

    def test_it_reads_the_chosen_sheet_with_its_header_on_row_3(self):
        parsed = parse(two_sheets_header_on_row_3(), "survey.xlsx", sheet="Sites 2024")
        assert parsed.errors == []
        assert parsed.rows_read == 3
        sites = parsed.sites
        assert sites["file_id"].tolist() == ["GE-1", "PL-2", "DE-3"]
        assert sites["row"].tolist() == [4, 6, 7]
        assert sites["closure_year"].tolist() == [2008, 2022, 2019]  # two date cells and a year
        assert sites["country"].tolist() == ["FR", "FR", "DE"]
        assert sites["area_ha"].tolist() == [105.2, 80.0, 600.0]
        assert "Read as Excel (XLSX), sheet “Sites 2024”, header on row 3." in parsed.notes
        assert "Rows 1 to 2 above the header were skipped (a title block)." in parsed.notes
        assert "Other sheets not read: Notes." in parsed.notes

    def test_it_names_errors_by_the_sheets_row(self):
        book = openpyxl.load_workbook(io.BytesIO(two_sheets_header_on_row_3()))
        book["Sites 2024"]["F7"] = "six hundred"
        buf = io.BytesIO()
        book.save(buf)
        parsed = parse(buf.getvalue(), "survey.xlsx", sheet="Sites 2024")
        assert [(e.row, e.field, e.value) for e in parsed.errors] == [(7, "area_ha", "six hundred")]

    def test_it_refuses_a_sheet_that_does_not_exist(self):
        with pytest.raises(UploadRejected, match="no sheet “Sheet9”; its sheets are: Notes, Sites 2024"):
            parse(two_sheets_header_on_row_3(), "survey.xlsx", sheet="Sheet9")

    def test_it_reads_an_ods_of_two_sheets(self):
        data = workbook_bytes(SITES, "ods", startrow=2, sheet="Liste", extra_sheet="Lisez-moi")
        with pytest.raises(SheetChoiceNeeded):
            parse(data, "sites.ods")
        assert parse(data, "sites.ods", sheet="Liste").rows_read == 3


def _with_member(data: bytes, name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr(name, payload)
    return buf.getvalue()


class LimitTests:
    def test_it_refuses_a_workbook_that_is_a_zip_bomb(self):
        data = _with_member(workbook_bytes(SITES, "xlsx"), "xl/media/padding.xml", b" " * 20_000_000)
        with pytest.raises(UploadRejected, match="zip bomb"):
            parse(data, "sites.xlsx")

    def test_it_refuses_a_workbook_with_an_unsafe_member(self):
        data = _with_member(workbook_bytes(SITES, "ods"), "../../evil.xml", b"<x/>")
        with pytest.raises(UploadRejected, match="unsafe path"):
            parse(data, "sites.ods")

    def test_it_refuses_too_many_columns(self):
        wide = pd.concat([SITES, pd.DataFrame({f"extra_{i}": [i] * len(SITES) for i in range(250)})], axis=1)
        with pytest.raises(UploadRejected, match="has 257 columns; at most 200"):
            parse(workbook_bytes(wide, "xlsx"), "wide.xlsx")

    def test_it_refuses_too_many_rows(self):
        with pytest.raises(UploadRejected, match="more than 2 rows"):
            parse(workbook_bytes(SITES, "xlsx"), "sites.xlsx", limits=UploadLimits(max_rows=2))

    def test_it_refuses_a_damaged_workbook(self):
        data = workbook_bytes(SITES, "xlsx")
        with pytest.raises(UploadRejected, match="cannot be read as Excel"):
            parse(data[: len(data) // 2], "cut.xlsx")
        with pytest.raises(UploadRejected, match="cannot be read as OpenDocument"):
            parse(_with_member(b"PK\x05\x06" + b"\x00" * 18, "content.xml", b"<not-ods/>"), "fake.ods")

    def test_it_reads_workbooks_in_the_bounded_process(self, tmp_path):
        # 10,000 rows take over a second to read: the reading process is stopped at 0.3 s, and
        # this one goes on, with nothing left behind.
        big = pd.DataFrame({"id": np.arange(10_000), "name": "Site", "lon": 6.06, "lat": 49.28})
        data = workbook_bytes(big, "xlsx")
        with pytest.raises(UploadRejected, match="could not be read within 0.3 seconds"):
            parse(data, "big.xlsx", limits=UploadLimits(parse_timeout_s=0.3), tmp_dir=tmp_path)
        assert list(tmp_path.iterdir()) == []
