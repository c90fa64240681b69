"""Candidate sites across Europe: one site per place, plants that still run, new sources.

Expectations are computed here from the fixture files with pandas, scipy and shapely, not with
the loader's own helpers. The data are loaded once for the module, inside a transaction that
is rolled back at the end.
"""

from __future__ import annotations

import gzip
import json
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from scipy.spatial import cKDTree
from shapely.geometry import shape

from grid.models import DatasetLoad
from grid.scope import DEFAULT_SCOPE_ISO2
from siting.importers.reference import AREA_MARKER_NOTE, point_buffer_surface
from siting.models import Site, SourceRecord
from siting.sites.services import reference_data_load

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
R_M = 6_371_008.8
REFERENCE = ("cartofriches", "powerplantmatching", "gem_coal", "gem_gas", "gem_steel", "ebc", "eu_ets")
NEW_SOURCES = ("gem_coal", "gem_gas", "gem_steel", "ebc", "eu_ets")
PLANT_USES = {"coal_plant", "gas_plant", "oil_plant", "nuclear_plant", "other_plant"}
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            report = reference_data_load(current_year=2026)
            yield report
            transaction.set_rollback(True)


def _xyz(lon, lat) -> np.ndarray:
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord(m: float) -> float:
    return 2 * np.sin(m / (2 * R_M))


def _fold(text: object) -> str:
    return (
        unicodedata.normalize("NFKD", str(text).lower()).encode("ascii", "ignore").decode()
        if isinstance(text, str)
        else ""
    )


def _sites() -> pd.DataFrame:
    return pd.DataFrame.from_records(
        list(
            Site.objects.filter(source__in=REFERENCE).values(
                "id",
                "external_id",
                "country",
                "longitude",
                "latitude",
                "area_ha",
                "still_operating",
                "grid_capacity_mw",
                "former_use",
            )
        )
    )


def _country_shapes() -> dict[str, object]:
    with gzip.open(
        FIXTURES / "boundaries" / "ne_50m_admin_0_countries_europe.geojson.gz", "rt", encoding="utf-8"
    ) as fh:
        features = json.load(fh)["features"]
    return {f["properties"]["ISO_A2_FIXED"]: shape(f["geometry"]) for f in features}


def _operating_units() -> pd.DataFrame:
    """Every unit that still runs, by each source's own status column (MODEL.md §5)."""
    pp = FIXTURES / "power_plants"
    frames = []
    ppm = pd.read_csv(pp / "powerplantmatching_powerplants_v0.6.1.csv.gz", low_memory=False)
    thermal = ppm["Fueltype"].isin(
        ["Hard Coal", "Lignite", "Natural Gas", "Oil", "Nuclear", "Solid Biomass", "Waste", "Biogas", "Other"]
    )
    ppm = ppm[thermal & (ppm["DateOut"].isna() | (ppm["DateOut"] >= 2025))]
    frames.append(ppm[["lon", "lat"]].set_axis(["lon", "lat"], axis=1))
    coal = pd.read_csv(pp / "gem_coal_plant_tracker_2024-07_europe_units.csv.gz")
    frames.append(
        coal[coal["Status"].isin(["operating", "construction"])][["Longitude", "Latitude"]].set_axis(
            ["lon", "lat"], axis=1
        )
    )
    gas = pd.read_csv(pp / "gem_gas_plant_tracker_2024-08_europe_units.csv.gz")
    frames.append(
        gas[gas["status"].isin(["operating", "construction"])][["lng", "lat"]].set_axis(["lon", "lat"], axis=1)
    )
    steel = pd.read_csv(pp / "gem_iron_steel_tracker_2025-03_europe_units.csv.gz")
    frames.append(
        steel[steel["status"].isin(["operating", "operating_pre-retirement", "construction"])][["lng", "lat"]].set_axis(
            ["lon", "lat"], axis=1
        )
    )
    plants = pd.read_csv(pp / "europe_beyond_coal_2021-07_plants.csv.gz").set_index("EBC plant ID")
    units = pd.read_csv(pp / "europe_beyond_coal_2021-07_units.csv.gz")
    units = units[units["Unit status (detailled)"].isin(["operational", "standby", "retrofitting", "construction"])]
    frames.append(
        pd.DataFrame(
            {
                "lon": units["EBC plant ID"].map(plants["Longitude"]),
                "lat": units["EBC plant ID"].map(plants["Latitude"]),
            }
        )
    )
    ets = pd.read_csv(FIXTURES / "industry" / "eu_ets_installations_2005-2022.csv.gz", low_memory=False)
    last = np.where(ets["Country"].eq("GB"), ets["VerifiedEmissions_2020"], ets["VerifiedEmissions_2022"])
    ets = ets[(pd.Series(last).fillna(0).to_numpy() > 0) & ets["Latitude"].notna()]
    ets = ets[ets["AccountStatus"].eq("open") | ets["Country"].eq("GB")]
    shapes = _country_shapes()
    inside = [
        c in shapes and shapely.contains_xy(shapes[c], x, y)
        for c, x, y in zip(ets["Country"].replace({"XI": "GB"}), ets["Longitude"], ets["Latitude"])
    ]
    frames.append(ets[inside][["Longitude", "Latitude"]].set_axis(["lon", "lat"], axis=1))
    out = pd.concat(frames, ignore_index=True)
    return out[out["lon"].notna() & out["lat"].notna() & ~((out["lon"] == 0) & (out["lat"] == 0))]


class EuropeCoverageTests:
    def test_it_has_900_candidates_in_scope_outside_france_across_20_countries(self, loaded):
        sites = _sites()
        abroad = sites[(sites["country"] != "FR") & sites["country"].isin(DEFAULT_SCOPE_ISO2)]
        free = abroad[~abroad["still_operating"]]
        print(
            f"in scope outside France: {len(abroad)} sites in {abroad['country'].nunique()} countries, "
            f"{len(free)} not still operating in {free['country'].nunique()}"
        )
        assert len(abroad) >= 900 and abroad["country"].nunique() >= 20
        assert len(free) >= 600 and free["country"].nunique() >= 20

    def test_every_new_source_contributes_sites_in_scope_outside_france(self, loaded):
        counts = Counter(
            SourceRecord.objects.filter(site__country__in=DEFAULT_SCOPE_ISO2)
            .exclude(site__country="FR")
            .values_list("source", flat=True)
        )
        print(dict(counts))
        for source in NEW_SOURCES:
            assert counts[source] > 0, source

    def test_it_keeps_closed_ets_installations_inside_their_country_only(self, loaded):
        shapes = _country_shapes()
        raw = pd.read_csv(FIXTURES / "industry" / "eu_ets_installations_2005-2022.csv.gz", low_memory=False).set_index(
            "id"
        )
        records = list(SourceRecord.objects.filter(source="eu_ets").values_list("record_id", "longitude", "latitude"))
        assert len(records) >= 500
        for record_id, lon, lat in records:
            row = raw.loc[record_id]
            assert row["AccountStatus"] in ("closed", "Closure Pending")
            final = "VerifiedEmissions_2020" if row["Country"] == "GB" else "VerifiedEmissions_2022"
            assert not (row[final] > 0)
            assert (
                max(row[f"VerifiedEmissions_{y}"] for y in range(2005, 2023) if pd.notna(row[f"VerifiedEmissions_{y}"]))
                >= 2500
            )
            country = "GB" if row["Country"] == "XI" else row["Country"]
            assert shapely.contains_xy(shapes[country], lon, lat), record_id

    def test_every_candidate_keeps_capacity_closure_and_voltage_where_a_source_has_them(self, loaded):
        coal = pd.read_csv(FIXTURES / "power_plants" / "gem_coal_plant_tracker_2024-07_europe_units.csv.gz")
        closed = coal[coal["Status"].isin(["retired", "mothballed"])]
        expected = closed.groupby("GEM location ID").agg(mw=("Capacity (MW)", "sum"), year=("Retired year", "max"))
        got = {
            r: (mw, y)
            for r, mw, y in SourceRecord.objects.filter(source="gem_coal").values_list(
                "record_id", "capacity_mw", "closure_year"
            )
        }
        assert set(got) == set(expected.index)
        for loc, row in expected.iterrows():
            assert got[loc][0] == pytest.approx(row["mw"])
            assert got[loc][1] == (None if np.isnan(row["year"]) else int(row["year"]))
        fessenheim = SourceRecord.objects.get(source="powerplantmatching", record_id="8").site
        assert (
            fessenheim.closure_year == 2020 and fessenheim.grid_voltage_kv == 400.0 and fessenheim.grid_capacity_mw > 0
        )


class OneSitePerPlaceTests:
    def test_no_two_sites_within_10_m_and_few_within_200_m(self, loaded):
        sites = _sites()
        tree = cKDTree(_xyz(sites["longitude"], sites["latitude"]))
        assert len(tree.query_pairs(_chord(10.0))) == 0
        near = tree.query_pairs(_chord(200.0))
        print(f"{len(near)} pairs within 200 m among {len(sites)} sites")
        assert len(near) < 0.02 * len(sites)

    def test_each_pair_left_within_200_m_is_explained(self, loaded):
        """Survivors are of three kinds: two brownfields too far apart edge to edge (or whose
        place would span more than 500 m); a brownfield beside a plant or installation of a
        different activity; two plants or installations with different names."""
        sites = _sites().set_index("id")
        tree = cKDTree(_xyz(sites["longitude"], sites["latitude"]))
        recs = pd.DataFrame.from_records(
            list(SourceRecord.objects.values("site_id", "source", "record_id", "name", "longitude", "latitude", "raw"))
        )
        by_site = {k: g for k, g in recs.groupby("site_id")}
        kinds = Counter()
        ids = sites.index.to_numpy()
        for i, j in sorted(tree.query_pairs(_chord(200.0))):
            a, b = by_site[ids[i]], by_site[ids[j]]
            brown_a, brown_b = set(a["source"]) == {"cartofriches"}, set(b["source"]) == {"cartofriches"}
            if brown_a and brown_b:

                def basias(g):
                    return {r.get("site_numero_basias") for r in g["raw"] if r.get("site_numero_basias")}

                assert not (basias(a) & basias(b))
                both = pd.concat([a, b])
                span = float(np.linalg.norm(np.ptp(_xyz(both["longitude"], both["latitude"]), axis=0))) * R_M
                xa, xb = _xyz(a["longitude"], a["latitude"]), _xyz(b["longitude"], b["latitude"])
                d = np.linalg.norm(xa[:, None, :] - xb[None, :, :], axis=2) * R_M

                def radius(g):
                    # A surface that is a marker drawn around a point gives no extent.
                    m2 = pd.Series([float(r.get("site_surface") or 0) for r in g["raw"]])
                    return np.sqrt(m2.where(~point_buffer_surface(m2), 0.0).to_numpy() / np.pi)

                gap = d - radius(a)[:, None] - radius(b)[None, :]
                assert span > 500.0 or gap.min() > 150.0 - 1e-6, (list(a["name"]), list(b["name"]))
                kinds["two brownfields, distinct plots"] += 1
            elif brown_a != brown_b:
                use_a, use_b = sites["former_use"].iloc[i], sites["former_use"].iloc[j]
                assert not (use_a in PLANT_USES and use_b in PLANT_USES) and not (use_a == use_b and use_a != "other")
                kinds["brownfield beside an installation of another activity"] += 1
            else:
                assert {_fold(n) for n in a["name"]}.isdisjoint({_fold(n) for n in b["name"]})
                kinds["two plants or installations, different names"] += 1
        print(dict(kinds))

    def test_an_unverified_candidates_area_is_flagged_estimated(self, loaded):
        raw = pd.read_csv(FIXTURES / "brownfields" / "cartofriches_friches_2024-03.csv.gz", dtype=str)
        unverified = set(
            raw.loc[
                raw["nature"].fillna("").str.strip().eq("MTE non vérifié")
                & (pd.to_numeric(raw["site_surface"], errors="coerce") > 0),
                "site_id",
            ]
        )
        assert len(unverified) > 10_000
        flagged = set(
            SourceRecord.objects.filter(source="cartofriches", site__area_estimated=True).values_list(
                "record_id", flat=True
            )
        )
        # Every site holding an unverified surface is flagged; a flagged site holds one.
        holders = set(
            SourceRecord.objects.filter(source="cartofriches", record_id__in=unverified).values_list(
                "site_id", flat=True
            )
        )
        assert set(Site.objects.filter(area_estimated=True).values_list("id", flat=True)) == holders
        assert flagged & unverified
        garage = Site.objects.get(records__record_id="35238_2085")  # "BERTHELOT Yves, garage station-service", 126 ha
        assert garage.area_estimated and garage.area_ha > 100

    def test_a_surface_drawn_around_a_point_is_no_area(self, loaded):
        raw = pd.read_csv(FIXTURES / "brownfields" / "cartofriches_friches_2024-03.csv.gz", dtype=str)
        surface = pd.to_numeric(raw["site_surface"], errors="coerce")
        markers = point_buffer_surface(surface)
        # The calls for projects' 10 m and 100 m markers, and nothing else.
        assert markers.sum() > 700
        assert set(raw.loc[markers, "source_r"]) == {"AAP"}
        assert set(surface[markers].round(2)) >= {312.14, 624.29, 31214.45, 62428.9}
        ids = set(raw.loc[markers, "site_id"].str.strip())
        holders = set(
            SourceRecord.objects.filter(source="cartofriches", record_id__in=ids).values_list("site_id", flat=True)
        )
        lone = (
            SourceRecord.objects.filter(site_id__in=holders)
            .values("site_id")
            .annotate(n=Count("id"))
            .filter(n=1)
            .values_list("site_id", flat=True)
        )
        sites = Site.objects.filter(id__in=list(lone))
        assert sites.count() > 400
        # A site whose only record is a marker has no area, not 3.12 ha or 0.03 ha.
        assert not sites.filter(area_ha__isnull=False).exists()
        assert not Site.objects.filter(area_ha__in=[0.031214, 3.121445]).exists()
        notes = DatasetLoad.objects.get(dataset="brownfields").notes
        assert notes[AREA_MARKER_NOTE] == int(markers.sum())

    def test_one_plant_named_alike_in_one_country_is_one_site(self, loaded):
        """Two sources placing the same plant kilometres apart (La Maxe: powerplantmatching at
        6.15, 49.16, GEM on the grounds 3 km east) are one place, as the still-running rule
        treats the same name in the same country as the same plant."""
        generic = {
            "power",
            "station",
            "plant",
            "centrale",
            "thermique",
            "kraftwerk",
            "elektrownia",
            "electrica",
            "central",
            "heizkraftwerk",
            "termoelettrica",
            "energy",
            "energie",
            "chp",
            "ccgt",
        }
        recs = pd.DataFrame.from_records(
            list(
                SourceRecord.objects.exclude(source__in=["cartofriches", "eu_ets"]).values(
                    "site_id", "name", "longitude", "latitude", "site__country"
                )
            )
        )
        recs["key"] = [
            " ".join(
                w for w in _fold(n).replace("-", " ").split() if len(w) > 2 and not w.isdigit() and w not in generic
            )
            for n in recs["name"]
        ]
        split = []
        for (key, country), g in recs[recs["key"] != ""].groupby(["key", "site__country"]):
            if g["site_id"].nunique() < 2:
                continue
            xyz = _xyz(g["longitude"], g["latitude"])
            d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2) * R_M
            ids = g["site_id"].to_numpy()
            close = (d <= 30_000.0) & (ids[:, None] != ids[None, :])
            if close.any():
                split.append((key, country, sorted(set(ids))))
        assert split == []
        assert Site.objects.filter(records__name__in=["La Maxe", "La Maxe power station"]).distinct().count() == 1

    def test_it_merges_cartofriches_campaign_repeats_and_keeps_the_original_name(self, loaded):
        raw = pd.read_csv(FIXTURES / "brownfields" / "cartofriches_friches_2024-03.csv.gz", dtype=str)
        fonds_vert = raw[raw["site_nom"].fillna("").str.startswith("Appel à projet Fonds Vert 2023 -")]
        assert len(fonds_vert) > 1000
        assert not Site.objects.filter(source__in=REFERENCE, name__startswith="Appel à projet").exists()
        renamed = Site.objects.filter(original_name__startswith="Appel à projet Fonds Vert 2023 -")
        assert renamed.count() > 500
        for site in renamed[:200]:
            rest = site.original_name.removeprefix("Appel à projet Fonds Vert 2023 -").strip()
            assert site.name.lower().startswith(rest[:20].lower()) or rest.isupper()
        # Every Cartofriches row is a record of exactly one site.
        assert set(SourceRecord.objects.filter(source="cartofriches").values_list("record_id", flat=True)) == set(
            raw["site_id"].str.strip()
        )

    def test_it_takes_readiness_from_cartofriches(self, loaded):
        raw = pd.read_csv(FIXTURES / "brownfields" / "cartofriches_friches_2024-03.csv.gz", dtype=str).set_index(
            "site_id"
        )
        singles = (
            Site.objects.filter(source="cartofriches")
            .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("records"))
            .filter(n=1)
        )
        mapping = {"sans objet": "none", "inconnu": ""}
        seen = Counter()
        for site in singles.only("external_id", "zoning_type", "buildings_state", "has_project")[:5000]:
            row = raw.loc[site.external_id.removeprefix("cartofriches:")]
            assert site.zoning_type == (row["urba_zone_type"] if isinstance(row["urba_zone_type"], str) else "")
            bati = row["bati_etat"] if isinstance(row["bati_etat"], str) else "inconnu"
            assert site.buildings_state == mapping.get(bati, "standing" if bati.startswith("dégradation") else "?")
            assert site.has_project == (row["site_statut"] == "friche avec projet")
            seen[site.buildings_state] += 1
        assert seen["standing"] and seen["none"] and seen[""]


class StillRunningTests:
    def test_no_plant_keeps_its_connection_next_to_an_operating_unit(self, loaded):
        units = _operating_units()
        tree = cKDTree(_xyz(units["lon"], units["lat"]))
        connected = Site.objects.filter(source__in=REFERENCE, grid_capacity_mw__isnull=False)
        assert connected.count() > 100
        xyz = _xyz([s.longitude for s in connected], [s.latitude for s in connected])
        d, _ = tree.query(xyz, k=1)
        offenders = [s.name for s, di in zip(connected, d) if di * R_M <= 1000.0]
        assert offenders == []
        assert not Site.objects.filter(still_operating=True, grid_capacity_mw__isnull=False).exists()

    @pytest.mark.parametrize("name", ["emile huchet", "bouchain", "blenod", "cordemais", "vaires"])
    def test_known_plants_that_still_run_come_out_from_the_data(self, loaded, name):
        records = [
            r
            for r in SourceRecord.objects.exclude(source__in=["cartofriches", "eu_ets"]).select_related("site")
            if name in _fold(r.name)
        ]
        assert records, name
        for r in records:
            assert r.site.still_operating and r.site.grid_capacity_mw is None, (r.source, r.name)
            assert r.site.operating_evidence and not r.site.operating_evidence.startswith("Curated")

    def test_chernobyl_is_a_ukrainian_site_outside_the_scope(self, loaded):
        site = SourceRecord.objects.get(source="powerplantmatching", name="Chernobyl").site
        assert site.country == "UA" and "UA" not in DEFAULT_SCOPE_ISO2

    @pytest.mark.parametrize(
        "entry",
        pd.read_csv(FIXTURES / "power_plants" / "known_still_running.csv").to_dict("records"),
        ids=lambda e: e["name"],
    )
    def test_each_curated_override_marks_its_plant_as_still_operating(self, loaded, entry):
        ppm = pd.read_csv(FIXTURES / "power_plants" / "powerplantmatching_powerplants_v0.6.1.csv.gz", low_memory=False)
        rows = ppm[
            (ppm["Name"] == entry["name"])
            & (ppm["Country"] == entry["country"])
            & (ppm["Fueltype"] == entry["fueltype"])
            & (ppm["DateOut"] < 2025)
        ]
        assert len(rows) >= 1
        for pid in rows["id"].astype(str):
            record = SourceRecord.objects.select_related("site").get(source="powerplantmatching", record_id=pid)
            assert record.operating_evidence == f"Curated list: {entry['reason']}"[:300]
            assert record.site.still_operating and record.site.grid_capacity_mw is None
        assert loaded.notes["power_plants"]["known_still_running"] == 4


class ReloadTests:
    def test_a_second_load_changes_nothing_keeps_ids_and_leaves_uploads_alone(self, loaded):
        upload = Site.objects.create(
            external_id="upload:test-1",
            name="Analyst site",
            country="DE",
            longitude=7.0,
            latitude=51.0,
            source="upload",
            source_vintage="test",
        )
        before_sites = dict(Site.objects.values_list("external_id", "id"))
        before_records = set(SourceRecord.objects.values_list("source", "record_id", "site_id"))
        report = reference_data_load(current_year=2026)
        assert not report.changed
        assert dict(Site.objects.values_list("external_id", "id")) == before_sites
        assert set(SourceRecord.objects.values_list("source", "record_id", "site_id")) == before_records
        assert Site.objects.get(pk=upload.pk).name == "Analyst site"

    def test_it_reports_merges_per_source_pair(self, loaded):
        # How long the load takes is measured in bench/bench_reference_load.py, not asserted here.
        merges = loaded.notes["records merged into one site"]
        assert merges["cartofriches + cartofriches"] > 1000
        assert merges["gem_coal + powerplantmatching"] > 50 and merges["ebc + powerplantmatching"] > 50


class BadNewFileTests:
    @pytest.fixture
    def copy(self, tmp_path):
        target = tmp_path / "fixtures"
        shutil.copytree(FIXTURES, target)
        return target

    def _rewrite(self, path: Path, row: int, column: str, value: str) -> None:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.loc[row, column] = value
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)

    def test_it_names_file_row_and_column_of_a_bad_ets_value(self, copy):
        self._rewrite(copy / "industry" / "eu_ets_installations_2005-2022.csv.gz", 5, "VerifiedEmissions_2010", "lots")
        with pytest.raises(CommandError) as err:
            call_command("load_reference_data", "--fixtures-dir", str(copy), "--current-year", "2026")
        assert (
            "eu_ets_installations_2005-2022.csv.gz: row 7, column 'VerifiedEmissions_2010': 'lots' is not a number"
            in str(err.value)
        )
        assert "database is unchanged" in str(err.value)

    def test_it_names_file_row_and_column_of_a_bad_gem_latitude(self, copy):
        self._rewrite(
            copy / "power_plants" / "gem_coal_plant_tracker_2024-07_europe_units.csv.gz", 0, "Latitude", "123.4"
        )
        with pytest.raises(CommandError) as err:
            call_command("load_reference_data", "--fixtures-dir", str(copy), "--current-year", "2026")
        assert (
            "gem_coal_plant_tracker_2024-07_europe_units.csv.gz: row 2, column 'Latitude': 123.4 is not a latitude"
            in str(err.value)
        )
        assert "database is unchanged" in str(err.value)
