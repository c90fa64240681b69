"""Loading the real reference data: counts checked independently, idempotence, atomicity."""

from __future__ import annotations

import csv
import gzip
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from grid.importers import ReferenceDataError, zones
from grid.models import Boundary, DatasetLoad, GridConnectionPoint, HourlyCarbonSeries, MonthlyCarbonIntensity, Zone
from siting.models import Site, SourceRecord
from siting.sites.services import reference_data_load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
pytestmark = pytest.mark.django_db


def _rows(name: str, **kwargs) -> list[dict[str, str]]:
    path = FIXTURES / name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, **kwargs))


def _snapshot() -> dict[str, object]:
    return {
        "sites": Site.objects.count(),
        "points": GridConnectionPoint.objects.count(),
        "zones": Zone.objects.count(),
        "monthly": MonthlyCarbonIntensity.objects.count(),
        "hourly": HourlyCarbonSeries.objects.count(),
        "boundaries": Boundary.objects.count(),
        "datasets": DatasetLoad.objects.count(),
        "sample": list(Site.objects.order_by("external_id").values_list("external_id", "name", "area_ha")[:5]),
    }


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    # One load for the module (about half a minute), rolled back at the end; each test runs
    # in its own savepoint inside it, so what one test writes never reaches the next.
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield reference_data_load(current_year=2026)
            transaction.set_rollback(True)


class LoadCountsTests:
    def test_it_loads_every_brownfield_per_departement(self, loaded):
        # Every row is a source record; rows of one place share a site (MODEL.md §1b).
        rows = _rows("brownfields/cartofriches_friches_2024-03.csv.gz")
        expected = Counter(r["dep"].zfill(2) for r in rows)
        dep_of = {r["site_id"].strip(): r["dep"].zfill(2) for r in rows}
        got = Counter(
            dep_of[i] for i in SourceRecord.objects.filter(source="cartofriches").values_list("record_id", flat=True)
        )
        assert got == expected
        assert sum(got.values()) >= 20_000
        assert Site.objects.filter(records__source="cartofriches").distinct().count() < len(rows)

    def test_it_loads_in_service_rte_substations_per_voltage(self, loaded):
        rows = _rows("grid/postes_electriques_rte.csv.gz", delimiter=";")
        seen, expected = set(), Counter()
        # The first row of a duplicated code wins unless a later one has a higher voltage;
        # count distinct codes with their highest voltage, as the loader documents.
        best: dict[str, tuple[float, dict]] = {}
        for r in rows:
            kv = (
                float(r["Tension (kV)"].removesuffix("kV"))
                if r["Tension (kV)"].endswith("kV") and r["Tension (kV)"][0].isdigit()
                else -1.0
            )
            if r["Code poste"] not in best or kv > best[r["Code poste"]][0]:
                best[r["Code poste"]] = (kv, r)
        for kv, r in best.values():
            if r["Etat"] == "EN EXPLOITATION" and kv > 0:
                expected[kv] += 1
            seen.add(r["Code poste"])
        got = Counter(
            GridConnectionPoint.objects.filter(source="rte", status="in_service", voltage_kv__isnull=False).values_list(
                "voltage_kv", flat=True
            )
        )
        assert got == expected
        assert GridConnectionPoint.objects.filter(country="FR").count() == len(seen) >= 5_000

    def test_it_loads_retired_thermal_plants_and_carbon_zones(self, loaded):
        assert SourceRecord.objects.filter(source="powerplantmatching").count() >= 300
        assert Zone.objects.filter(carbon_intensity_g_per_kwh__isnull=False).count() >= 30
        fr = Zone.objects.get(code="FR")
        assert (
            fr.carbon_basis == "lifecycle"
            and fr.carbon_year == 2024
            and fr.carbon_intensity_g_per_kwh == pytest.approx(44.2, abs=0.1)
        )
        assert fr.cooling_degree_days == pytest.approx(72.2, abs=0.1) and fr.cdd_period == "2015–2024"
        assert {h.zone.code: len(h.values_g_per_kwh) for h in HourlyCarbonSeries.objects.select_related("zone")} == {
            "FR": 8760,
            "ES": 8760,
            "PT": 8760,
        }

    def test_it_maps_gridkit_voltages_to_french_classes_and_leaves_france_to_rte(self, loaded):
        kvs = set(GridConnectionPoint.objects.filter(source="gridkit").values_list("voltage_kv", flat=True))
        assert 225.0 in kvs and 400.0 in kvs and 220.0 not in kvs and 380.0 not in kvs
        assert not GridConnectionPoint.objects.filter(source="gridkit", country="FR").exists()


class RetiredButRunningTests:
    def test_it_keeps_out_planned_closures_and_listed_running_plants(self, loaded):
        records = SourceRecord.objects.filter(source="powerplantmatching").select_related("site")
        names = {r.name for r in records}
        assert "Fessenheim" in names  # closed in 2020
        assert "Cruas" not in names  # DateOut 2025: a plan in a file published in January 2025
        listed = [r for r in records if r.name in ("Tricastin", "Blayais")]  # on the curated list: kept, marked
        assert listed and all(r.site.still_operating and r.site.grid_capacity_mw is None for r in listed)
        assert loaded.notes["power_plants"]["known_still_running"] == 4

    def test_it_takes_the_connection_voltage_from_entsoe_units(self, loaded):
        fessenheim = SourceRecord.objects.get(source="powerplantmatching", record_id="8").site
        assert fessenheim.grid_capacity_mw == 1760.0 and fessenheim.grid_voltage_kv == 400.0


class IdempotenceTests:
    def test_it_changes_nothing_on_a_second_run_and_says_so(self, loaded, capsys):
        before = _snapshot()
        assert loaded.changed
        call_command("load_reference_data", "--current-year", "2026")
        out = capsys.readouterr().out
        assert "nothing changed" in out
        assert _snapshot() == before


class BadFixtureTests:
    @pytest.fixture
    def copy(self, tmp_path, loaded):
        target = tmp_path / "fixtures"
        shutil.copytree(FIXTURES, target)
        return target

    def _assert_unchanged_after(self, copy: Path, message: str, before: dict) -> None:
        with pytest.raises(CommandError) as err:
            call_command("load_reference_data", "--fixtures-dir", str(copy), "--current-year", "2026")
        assert message in str(err.value)
        assert "database is unchanged" in str(err.value)
        assert _snapshot() == before

    def test_it_names_a_missing_file(self, copy):
        before = _snapshot()
        (copy / "grid" / "postes_electriques_rte.csv.gz").unlink()
        self._assert_unchanged_after(copy, "postes_electriques_rte.csv.gz: file not found", before)

    def test_it_names_a_missing_column(self, copy):
        before = _snapshot()
        path = copy / "climate" / "eurostat_nrg_chdd_a_country_cdd_hdd_1979-2024.csv"
        path.write_text(path.read_text().replace("cdd", "cooling", 1))
        self._assert_unchanged_after(
            copy, "eurostat_nrg_chdd_a_country_cdd_hdd_1979-2024.csv: missing column(s) cdd", before
        )

    def test_it_names_the_row_and_column_of_a_bad_value(self, copy):
        before = _snapshot()
        path = copy / "brownfields" / "cartofriches_friches_2024-03.csv.gz"
        frame = pd.read_csv(path, dtype=str)
        frame.loc[2, "lat"] = "north"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
        self._assert_unchanged_after(
            copy, "cartofriches_friches_2024-03.csv.gz: row 4, column 'lat': 'north' is not a number", before
        )

    def test_it_names_a_truncated_archive(self, copy):
        before = _snapshot()
        path = copy / "carbon" / "FR_actual_generation_per_production_type_2021.csv.gz"
        path.write_bytes(path.read_bytes()[:5000])
        self._assert_unchanged_after(copy, "FR_actual_generation_per_production_type_2021.csv.gz", before)

    def test_it_rolls_back_when_a_write_fails_midway(self, copy, monkeypatch):
        before = _snapshot()
        from grid import services

        real_sync = services._sync

        def failing_sync(model, *args, **kwargs):
            if model is Zone:
                raise RuntimeError("disk full")
            return real_sync(model, *args, **kwargs)

        monkeypatch.setattr(services, "_sync", failing_sync)
        # A changed site name must not survive the failed run.
        Site.objects.filter(source="cartofriches").update(name="changed")
        before = _snapshot()
        with pytest.raises(RuntimeError):
            reference_data_load(fixtures_dir=copy, current_year=2026)
        assert _snapshot() == before


class HourlyCarbonTests:
    def test_it_derives_a_french_hourly_series_that_tracks_eco2mix(self):
        """The derived series (life-cycle, production basis) against RTE éCO2mix (direct basis)
        for December 2021: levels differ, the shape must agree. Measured r = 0.990."""
        derived = pd.Series(
            zones.entsoe_hourly_carbon(FIXTURES / "carbon" / "FR_actual_generation_per_production_type_2021.csv.gz"),
            index=zones.hourly_index_utc(2021),
        )
        eco2mix = zones.eco2mix_hourly(FIXTURES / "carbon" / "rte_eco2mix_national_tr_2021-12.csv.gz")
        joined = pd.concat([derived.rename("derived"), eco2mix.rename("eco2mix")], axis=1, join="inner")
        assert len(joined) == 744  # every hour of December
        r = joined.corr().loc["derived", "eco2mix"]
        print(f"Pearson r, derived FR hourly vs éCO2mix, Dec 2021: {r:.3f}")
        assert r > 0.95
        assert joined["derived"].mean() > joined["eco2mix"].mean()  # life-cycle sits above direct

    def test_it_drops_the_spring_gap_and_keeps_both_autumn_hours(self, tmp_path):
        header = '"Area","MTU","Nuclear  - Actual Aggregated [MW]","Fossil Gas  - Actual Aggregated [MW]"\n'
        lines = [f'"FR","h{i}","{100 + i % 7}","{i % 3}"\n' for i in range(8760)]
        lines.insert(2000, '"FR","gap","",""\n')
        path = tmp_path / "gen.csv"
        path.write_text(header + "".join(lines))
        series = zones.entsoe_hourly_carbon(path)
        assert len(series) == 8760
        n, g = 100.0, 0.0
        assert series[0] == pytest.approx((n * 12.0 + g * 490.0) / (n + g))

    def test_it_rejects_a_series_of_the_wrong_length(self, tmp_path):
        path = tmp_path / "gen.csv"
        path.write_text('"Area","MTU","Nuclear  - Actual Aggregated [MW]"\n' + '"FR","h","1"\n' * 100)
        with pytest.raises(ReferenceDataError, match="gen.csv: 100 hours with generation, expected 8,760"):
            zones.entsoe_hourly_carbon(path)
