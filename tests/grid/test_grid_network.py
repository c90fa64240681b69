"""The grid network: points inside the scope, GridKit lines with their ratings, the network
estimate of headroom, and a second load that changes nothing.

Expectations are computed here from the fixture files with the csv module and shapely,
not with the loader's readers.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from grid.importers import ReferenceDataError, network
from grid.importers.boundaries import countries as read_countries
from grid.models import Boundary, DatasetLoad, GridConnectionPoint, GridLine, Zone
from grid.scope import DEFAULT_SCOPE_ISO2
from grid.selectors import grid_line_vertex_frame, grid_point_frame
from siting.models import Site
from siting.sites.services import reference_data_load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.django_db

SQRT3 = math.sqrt(3.0)
COUNTRY_RE = re.compile(r'"country"=>"([^"]*)"')


def _rows(name: str, **kwargs) -> list[dict[str, str]]:
    path = FIXTURES / name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, **kwargs))


def _gridkit(name: str) -> list[dict[str, str]]:
    return _rows(f"grid/entsoegridkit_{name}.csv.gz", quotechar="'")


def _tag(row: dict[str, str]) -> str:
    m = COUNTRY_RE.search(row["tags"] or "")
    return {"UK": "GB", "EL": "GR"}.get(m.group(1), m.group(1)) if m else ""


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        report = reference_data_load(current_year=2026)
        yield report
        Site.objects.all().delete()
        GridLine.objects.all().delete()
        GridConnectionPoint.objects.all().delete()
        Zone.objects.all().delete()
        Boundary.objects.all().delete()
        DatasetLoad.objects.all().delete()


class GridPointScopeTests:
    def test_it_keeps_no_point_outside_the_scope_and_none_below_220_kv_outside_france(self, loaded):
        countries = set(GridConnectionPoint.objects.values_list("country", flat=True))
        assert countries <= DEFAULT_SCOPE_ISO2
        assert not GridConnectionPoint.objects.exclude(country="FR").filter(voltage_kv__lt=220).exists()
        assert not GridConnectionPoint.objects.filter(country__in=["RU", "DZ", "EG", "TR", "MA", "UA", "BY"]).exists()
        # France keeps every RTE voltage, 63 kV included.
        assert GridConnectionPoint.objects.filter(country="FR", voltage_kv=63).count() > 2_000

    def test_it_loads_every_gridkit_substation_of_220_kv_and_above_tagged_in_scope(self, loaded):
        # Independent count: AC, in-service, non-joint buses of 220 kV and above whose tag is a
        # scope country other than France, one per station and voltage. Tags and the outlines
        # agree for every such bus except those within the border tolerance, so the count holds.
        seen = set()
        for r in _gridkit("buses"):
            if (
                r["dc"] == "f"
                and r["under_construction"] == "f"
                and r["symbol"] != "joint"
                and r["voltage"]
                and float(r["voltage"]) >= 220
                and _tag(r) in DEFAULT_SCOPE_ISO2 - {"FR"}
            ):
                seen.add((r["station_id"], r["voltage"]))
        got = GridConnectionPoint.objects.filter(source="gridkit").count()
        print(f"GridKit points in scope: {got:,} (independent count {len(seen):,})")
        assert got == len(seen)
        assert loaded.notes["gridkit_buses"]["below_220_kv"] > 500  # the 132 kV buses
        assert loaded.notes["gridkit_buses"]["outside_scope"] > 2_000


class GridLineTests:
    def test_it_loads_every_line_of_220_kv_and_above_that_touches_the_scope(self, loaded):
        outlines = read_countries(FIXTURES / "boundaries" / "ne_50m_admin_0_countries_europe.geojson.gz")
        outline_code = outlines["code"].replace({"AX": "FI"})
        scope_union = shapely.union_all(
            [shape(g) for g, c in zip(outlines["geometry_geojson"], outline_code) if c in DEFAULT_SCOPE_ISO2]
        )
        land = shapely.union_all([shape(g) for g in outlines["geometry_geojson"]])
        bus_tag = {r["bus_id"]: _tag(r) for r in _gridkit("buses")}
        expected = set()
        for r in _gridkit("lines"):
            if float(r["voltage"]) < 220:
                continue
            line = shapely.from_wkt(r["geometry"])
            if shapely.intersection(line, scope_union).length > 0:
                expected.add(r["line_id"])
            elif shapely.intersection(line, land).length == 0:  # at sea: its tag, else its ends' tags
                tag = next((t for t in (_tag(r), bus_tag.get(r["bus0"], ""), bus_tag.get(r["bus1"], "")) if t), "")
                if tag in DEFAULT_SCOPE_ISO2:
                    expected.add(r["line_id"])
        got = set(GridLine.objects.values_list("external_id", flat=True))
        print(f"GridKit lines of 220 kV and above touching the scope: {len(got):,} (independent {len(expected):,})")
        assert got == {f"gridkit-line:{x}" for x in expected}
        assert len(got) > 6_000
        assert not GridLine.objects.filter(source_voltage_kv__lt=220).exists()
        assert not GridLine.objects.filter(rating_mw__lte=0).exists()

    def test_it_rates_a_220_kv_and_a_380_kv_line_by_hand(self, loaded):
        # Line 2691 (FR, 220 kV, 2 circuits): Al/St 240/40 2-bundle 220.0, i_nom 1.29 kA:
        # 2 × √3 × 220 kV × 1.29 kA = 2 × 491.56 = 983.12 MVA; × 0.7 = 688.18 MW.
        line = GridLine.objects.get(external_id="gridkit-line:2691")
        assert (line.country, line.voltage_kv, line.source_voltage_kv, line.circuits) == ("FR", 225.0, 220.0, 2)
        assert line.rating_mva == pytest.approx(983.12, abs=0.01)
        assert line.rating_mw == pytest.approx(688.18, abs=0.01)
        assert line.length_km == pytest.approx(15.241, abs=0.001)  # the file's 15,241.0 is in metres
        # Line 3763 (DE, 380 kV, 1 circuit): Al/St 240/40 4-bundle 380.0, i_nom 2.58 kA:
        # √3 × 380 × 2.58 = 1,698.10 MVA; × 0.7 = 1,188.67 MW.
        line = GridLine.objects.get(external_id="gridkit-line:3763")
        assert (line.country, line.voltage_kv, line.circuits) == ("DE", 400.0, 1)
        assert line.rating_mva == pytest.approx(1698.10, abs=0.01)
        assert line.rating_mw == pytest.approx(1188.67, abs=0.01)
        assert line.geometry_geojson["type"] == "LineString" and len(line.geometry_geojson["coordinates"]) >= 2

    def test_it_gives_a_cross_border_line_the_country_of_most_of_its_length(self, loaded):
        crossing = GridLine.objects.filter(countries__contains=",")
        assert crossing.count() > 50
        for line in crossing[:200]:
            codes = line.countries.split(",")
            assert line.country == codes[0] and len(set(codes)) == len(codes)
            assert any(c in DEFAULT_SCOPE_ISO2 for c in codes)


class HeadroomEstimateTests:
    def test_it_estimates_a_gridkit_bus_from_its_lines_n_minus_1(self, loaded):
        # Bus 3798 (DE, 380 kV, the only bus of station 4568 at 380 kV) ends three lines in
        # service with 3, 1 and 2 circuits: 1,188.67 MW per circuit after × 0.7, so
        # Σ = 6 × 1,188.67 = 7,132.03; N-1 loses the largest circuit, 1,188.67;
        # 0.3 × (7,132.03 − 1,188.67) = 1,783.01 MW.
        per_circuit_mw = SQRT3 * 380 * 2.58 * 0.7
        circuits = [
            int(r["circuits"])
            for r in _gridkit("lines")
            if "3798" in (r["bus0"], r["bus1"]) and r["under_construction"] == "False"
        ]
        assert len(circuits) == 3
        expected = 0.3 * (sum(circuits) - 1) * per_circuit_mw
        assert expected == pytest.approx(1783.01, abs=0.01)
        point = GridConnectionPoint.objects.get(external_id="gridkit:3798")
        assert point.headroom_method == "lines_n1"
        assert point.headroom_estimate_mw == pytest.approx(expected, abs=0.01)
        assert point.headroom_mw is None  # a known value only

    def test_it_estimates_french_substations_from_capareseau_transformers(self, loaded):
        # CIVRAY (90 kV): 72 MVA in 2 transformers (first operator) + 116 MVA in 3 (second):
        # 188 × (5 − 1) / 5 = 150.4 MW. AIX-LES-BAINS (63 kV): 72 × (2 − 1) / 2 = 36 MW.
        rows = {
            r["Code"].strip(): r
            for r in _rows("grid/capareseau_2026-04-28.csv.gz", delimiter=";")
            if r["Code"].strip() in {"CIVRA", "A.BAI"}
        }
        civray, aix = rows["CIVRA"], rows["A.BAI"]
        assert (civray["GRD1_PTRE"], civray["GRD1_TRE"], civray["GRD2_PTRE"], civray["GRD2_TRE"]) == (
            "72",
            "2",
            "116",
            "3.0",
        )
        assert (aix["GRD1_PTRE"], aix["GRD1_TRE"]) == ("72", "2")
        for code, expected in (("CIVRA", 150.4), ("A.BAI", 36.0)):
            point = GridConnectionPoint.objects.get(external_id=f"rte:{code}")
            assert point.headroom_method == "transformers_n1"
            assert point.headroom_estimate_mw == pytest.approx(expected, abs=1e-6)

    def test_it_gives_rte_substations_line_estimates_only_at_225_and_400_kv_near_a_gridkit_station(self, loaded):
        lines_n1 = GridConnectionPoint.objects.filter(source="rte", headroom_method="lines_n1")
        assert lines_n1.count() > 300
        assert set(lines_n1.values_list("voltage_kv", flat=True)) == {225.0, 400.0}
        fr_buses = np.array(
            [
                (float(r["x"]), float(r["y"]))
                for r in _gridkit("buses")
                if _tag(r) == "FR" and r["symbol"] != "joint" and r["voltage"] in ("220", "380")
            ]
        )
        for p in lines_n1[:100]:
            dx = (fr_buses[:, 0] - p.longitude) * 111.32 * math.cos(math.radians(p.latitude))
            dy = (fr_buses[:, 1] - p.latitude) * 110.57
            assert np.sqrt(dx**2 + dy**2).min() <= 10.5
        # Every estimate is flagged with its method, and only a method carries an estimate.
        assert not GridConnectionPoint.objects.filter(headroom_method="", headroom_estimate_mw__isnull=False).exists()
        assert (
            not GridConnectionPoint.objects.exclude(headroom_method="")
            .filter(headroom_estimate_mw__isnull=True)
            .exists()
        )


class SelectorTests:
    def test_it_gives_the_engine_points_with_country_and_estimate(self, loaded):
        frame = grid_point_frame()
        assert list(frame.columns[:5]) == ["point_id", "longitude", "latitude", "voltage_kv", "headroom_mw"]
        assert {"country", "headroom_estimate_mw"} <= set(frame.columns)
        assert frame["headroom_estimate_mw"].dtype == np.float64 and frame["country"].dtype == object
        assert frame["headroom_estimate_mw"].notna().sum() > 5_000
        assert frame["point_id"].is_monotonic_increasing

    def test_it_gives_one_row_per_vertex_of_every_line_in_service(self, loaded):
        frame = grid_line_vertex_frame()
        assert list(frame.columns) == ["line_id", "seq", "longitude", "latitude", "voltage_kv", "rating_mw", "country"]
        assert frame["line_id"].dtype == np.int64 and frame["seq"].dtype == np.int64
        live = GridLine.objects.filter(status="in_service")
        assert frame["line_id"].nunique() == live.count()
        assert len(frame) == sum(len(g["coordinates"]) for g in live.values_list("geometry_geojson", flat=True))
        assert (frame.groupby("line_id")["seq"].min() == 0).all()
        assert frame.sort_values(["line_id", "seq"]).index.equals(frame.index)
        one = live.get(external_id="gridkit-line:2691")
        assert frame.loc[frame["line_id"] == one.pk, "rating_mw"].iloc[0] == pytest.approx(688.18, abs=0.01)

    def test_it_summarises_the_grid_for_the_home_and_sources_pages(self, loaded):
        from django.template.loader import render_to_string

        from siting.sites.selectors import data_summary

        summary = data_summary()
        by_country = {(r["country"], r["voltage_kv"]): r["n"] for r in summary["grid_by_country_voltage"]}
        assert by_country[("DE", 400.0)] == GridConnectionPoint.objects.filter(country="DE", voltage_kv=400).count() > 0
        assert (
            sum(r["n"] for r in summary["grid_lines_by_voltage"]) == summary["n_grid_lines"] == GridLine.objects.count()
        )
        dropped = {(d["dataset"], d["reason"]): d["n"] for d in summary["grid_dropped"]}
        assert dropped[("gridkit_buses", "outside scope")] == loaded.notes["gridkit_buses"]["outside_scope"]
        assert dropped[("gridkit_lines", "below 220 kv")] > 0
        html = render_to_string("grid/_grid_network.html", {"summary": summary})
        assert 'id="grid-lines-by-voltage"' in html and "outside scope" in html and "transformers_n1" in html


class ReloadTests:
    def test_it_changes_nothing_on_a_second_load_and_keeps_a_known_headroom(self, loaded):
        GridConnectionPoint.objects.filter(external_id="gridkit:3798").update(headroom_mw=500.0)
        before = (
            list(
                GridLine.objects.order_by("external_id").values_list(
                    "external_id", "rating_mw", "country", "countries", "status"
                )
            ),
            list(
                GridConnectionPoint.objects.order_by("external_id").values_list(
                    "external_id", "headroom_estimate_mw", "headroom_method"
                )
            ),
        )
        report = reference_data_load(current_year=2026)
        assert not report.changed, {k: v for k, v in report.tables.items() if v.changed}
        assert report.tables["grid lines"].unchanged == GridLine.objects.count()
        after = (
            list(
                GridLine.objects.order_by("external_id").values_list(
                    "external_id", "rating_mw", "country", "countries", "status"
                )
            ),
            list(
                GridConnectionPoint.objects.order_by("external_id").values_list(
                    "external_id", "headroom_estimate_mw", "headroom_method"
                )
            ),
        )
        assert after == before
        assert GridConnectionPoint.objects.get(external_id="gridkit:3798").headroom_mw == 500.0
        print(f"second load: {report.seconds:.1f} s")

    def test_it_records_what_was_left_out_and_why(self, loaded):
        notes = DatasetLoad.objects.get(dataset="gridkit_lines").notes
        assert notes["below_220_kv"] == sum(1 for r in _gridkit("lines") if float(r["voltage"]) < 220)
        assert notes["outside_scope"] > 3_000
        assert DatasetLoad.objects.get(dataset="capareseau").rows > 2_000
        assert DatasetLoad.objects.get(dataset="gridkit_buses").notes["excluded_country"] > 700  # France, from RTE


class BadNetworkFileTests:
    def test_it_names_row_and_column_of_a_bad_capareseau_value(self, tmp_path):
        path = tmp_path / "capa.csv"
        path.write_text(
            "Code;GRD1_PTRE;GRD1_TRE;GRD2_PTRE;GRD2_TRE\nCode;Puissance;Nombre;P2;N2\nAAAAA;72;2;;\nBBBBB;36;two;;\n",
            encoding="utf-8",
        )
        with pytest.raises(ReferenceDataError, match=r"capa.csv: row 4, column 'GRD1_TRE': 'two' is not a number"):
            network.capareseau_transformers(path)

    def test_it_names_row_and_column_of_a_bad_line(self, tmp_path):
        source = FIXTURES / "grid" / "entsoegridkit_lines.csv.gz"
        with gzip.open(source, "rt", encoding="utf-8") as fh:
            lines = fh.read().splitlines()[:6]
        fields = lines[3].split(",")
        fields[4] = "many"  # circuits
        lines[3] = ",".join(fields)
        path = tmp_path / "lines.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        locator = network.CountryLocator(
            read_countries(FIXTURES / "boundaries" / "ne_50m_admin_0_countries_europe.geojson.gz")
        )
        ratings = network.line_type_ratings(FIXTURES / "grid" / "pypsa_line_types.csv")
        with pytest.raises(ReferenceDataError, match=r"lines.csv: row 4, column 'circuits': 'many' is not a number"):
            network.gridkit_lines(
                path,
                ratings=ratings,
                buses=network.gridkit_bus_table(FIXTURES / "grid" / "entsoegridkit_buses.csv.gz"),
                locator=locator,
                scope=DEFAULT_SCOPE_ISO2,
                voltage_classes={220.0: 225.0, 380.0: 400.0},
            )

    def test_it_rejects_a_line_type_table_without_the_pypsa_eur_types(self, tmp_path):
        path = tmp_path / "types.csv"
        shutil.copy(FIXTURES / "grid" / "pypsa_line_types.csv", path)
        path.write_text(path.read_text().replace("Al/St 240/40 4-bundle 380.0", "renamed"))
        with pytest.raises(
            ReferenceDataError, match=r"types.csv: column 'name': line type 'Al/St 240/40 4-bundle 380.0' not found"
        ):
            network.line_type_ratings(path)


class CountryFromCoordinatesTests:
    def test_it_trusts_a_tag_near_its_border_and_corrects_one_far_inside_another_country(self):
        locator = network.CountryLocator(
            read_countries(FIXTURES / "boundaries" / "ne_50m_admin_0_countries_europe.geojson.gz")
        )
        import pandas as pd

        # Basel-ish point 1 km into France tagged CH stays CH; a point in Lyon tagged DE is
        # corrected to FR; an untagged point in Madrid takes ES; one in the mid-Atlantic has none.
        got = network.resolve_bus_countries(
            pd.Series(["CH", "DE", "", ""]),
            pd.Series([7.56, 4.85, -3.70, -30.0]),
            pd.Series([47.59, 45.76, 40.42, 45.0]),
            locator,
        )
        assert got.tolist() == ["CH", "FR", "ES", ""]


@pytest.mark.django_db
class VertexFrameTests:
    def _line(self, external_id: str, coordinates, status="in_service", rating_mw=100.0) -> GridLine:
        return GridLine.objects.create(
            external_id=external_id,
            bus0_external_id="gridkit:1",
            bus1_external_id="gridkit:2",
            voltage_kv=400.0,
            source_voltage_kv=380.0,
            circuits=1,
            length_km=1.0,
            line_type="test",
            rating_mva=rating_mw / 0.7,
            rating_mw=rating_mw,
            country="FR",
            countries="FR",
            geometry_geojson={"type": "LineString", "coordinates": coordinates},
            status=status,
            source_vintage="test",
        )

    @pytest.fixture(autouse=True)
    def _no_other_lines(self):
        GridLine.objects.all().delete()  # lines a loaded dataset left (undone with the test's transaction)

    def test_it_keeps_each_lines_vertices_in_order_with_heights_dropped(self):
        a = self._line("a", [[1.0, 45.0], [1.5, 45.5], [2.0, 46.0]])
        b = self._line("b", [[3.0, 47.0, 120.0], [3.5, 47.5, 90.0]], rating_mw=250.0)  # with heights
        self._line("planned", [[0.0, 0.0], [1.0, 1.0]], status=GridLine.Status.UNDER_CONSTRUCTION)
        c = self._line("c", [[4.0, 48.0], [4.5, 48.5, 10.0]])  # mixed
        frame = grid_line_vertex_frame()
        assert set(frame["line_id"]) == {a.pk, b.pk, c.pk}
        assert frame["seq"].tolist() == [0, 1, 2, 0, 1, 0, 1]
        assert frame["longitude"].tolist() == [1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 4.5]
        assert frame["latitude"].tolist() == [45.0, 45.5, 46.0, 47.0, 47.5, 48.0, 48.5]
        assert frame["rating_mw"].tolist() == [100.0] * 3 + [250.0] * 2 + [100.0] * 2
        assert frame["line_id"].tolist() == [a.pk] * 3 + [b.pk] * 2 + [c.pk] * 2

    @pytest.mark.parametrize(
        "coordinates",
        [
            [[[1.0, 45.0], [1.5, 45.5]], [[2.0, 46.0], [2.5, 46.5], [3.0, 47.0]]],  # all lon, lat
            [
                [[1.0, 45.0, 5.0], [1.5, 45.5, 6.0]],
                [[2.0, 46.0, 1.0], [2.5, 46.5, 2.0], [3.0, 47.0, 3.0]],
            ],  # all with heights
        ],
    )
    def test_it_reads_uniform_positions_in_one_pass(self, coordinates):
        a, b = self._line("a", coordinates[0]), self._line("b", coordinates[1])
        one = self._line("one", [coordinates[1][0]])  # a single vertex
        frame = grid_line_vertex_frame()
        assert frame["line_id"].tolist() == [a.pk] * 2 + [b.pk] * 3 + [one.pk]
        assert frame["seq"].tolist() == [0, 1, 0, 1, 2, 0]
        assert frame["longitude"].tolist() == [1.0, 1.5, 2.0, 2.5, 3.0, 2.0]
        assert frame["latitude"].tolist() == [45.0, 45.5, 46.0, 46.5, 47.0, 46.0]

    def test_it_gives_an_empty_frame_without_lines(self):
        frame = grid_line_vertex_frame()
        assert frame.empty and list(frame.columns)[:2] == ["line_id", "seq"]
