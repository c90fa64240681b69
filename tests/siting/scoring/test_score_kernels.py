"""The numba kernels equal their NumPy reference, and the model keeps its properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.scoring import EXCLUSIONS, presets, reweight, score_sites

NUMERIC = [
    "pue",
    "facility_load_mw",
    "voltage_class_kv",
    "connection_point_id",
    "connection_distance_km",
    "connection_cost_meur",
    "headroom_mw",
    "time_to_power_months",
    "capex_total_meur",
    "tco_eur_per_gpu_hour",
    "emissions_t_per_yr",
    "water_l_per_gpu_hour",
    "land_fit",
    "backup_fuel_t",
    "seveso_tier",
    "exclusion_mask",
    "reliability",
    "score",
    "rank",
    "v_tco",
    "v_emissions",
    "v_time_to_power",
    "v_land",
    "v_water",
    "v_reliability",
]


def world(n_sites: int, n_points: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    countries = np.array(["FR", "DE", "ES", "ZZ"])  # ZZ has no zone row: fallbacks
    sites = pd.DataFrame(
        {
            "site_id": rng.permutation(np.arange(1, n_sites + 1) * 3),
            "longitude": rng.uniform(-5, 15, n_sites),
            "latitude": rng.uniform(40, 55, n_sites),
            "country": rng.choice(countries, n_sites),
            "area_ha": np.where(rng.random(n_sites) < 0.8, rng.uniform(0.5, 200, n_sites), np.nan),
            "grid_capacity_mw": np.where(rng.random(n_sites) < 0.1, rng.uniform(5, 900, n_sites), np.nan),
            "grid_voltage_kv": np.nan,
            "pollution_status": rng.choice(["none", "suspected", "confirmed", "unknown"], n_sites),
            "flood_zone": rng.choice([0.0, 1.0, np.nan], n_sites),
            "water_access": rng.choice(["river", "none", "unknown"], n_sites),
            "reconverted": rng.random(n_sites) < 0.05,
        }
    )
    grid = pd.DataFrame(
        {
            "point_id": np.arange(n_points) + 100,
            "longitude": rng.uniform(-5, 15, n_points),
            "latitude": rng.uniform(40, 55, n_points),
            "voltage_kv": rng.choice([45.0, 63.0, 90.0, 132.0, 150.0, 225.0, 400.0], n_points),
            "headroom_mw": np.where(rng.random(n_points) < 0.3, rng.uniform(0, 800, n_points), np.nan),
        }
    )
    zones = pd.DataFrame(
        {
            "country": ["FR", "DE", "ES"],
            "carbon_intensity_g_per_kwh": [44.0, 344.0, np.nan],
            "price_eur_per_mwh": [60.0, 80.0, 70.0],
            "cooling_degree_days": [65.0, 27.0, 275.0],
        }
    )
    hourly = {"FR": rng.uniform(20, 90, 8760)}
    return sites, grid, zones, hourly


def assert_tables_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    for col in NUMERIC:
        np.testing.assert_allclose(
            a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float), rtol=1e-12, atol=1e-12, err_msg=col
        )
    assert list(a["exclusion_reasons"]) == list(b["exclusion_reasons"])


class KernelEqualsReferenceTests:
    @pytest.mark.parametrize("n_sites", [1, 7, 10_000])
    def test_it_matches_on_seeded_inputs(self, n_sites):
        sites, grid, zones, hourly = world(n_sites, max(3, n_sites // 3), seed=n_sites)
        params = presets()["default"]
        k = score_sites(sites, grid, zones, params, hourly_carbon=hourly, impl="kernel").table
        r = score_sites(sites, grid, zones, params, hourly_carbon=hourly, impl="reference").table
        assert_tables_close(k, r)

    @pytest.mark.parametrize(
        "change",
        [
            {
                "weights": {
                    "tco": 0.0,
                    "emissions": 1.0,
                    "time_to_power": 0.0,
                    "land": 0.0,
                    "water": 0.0,
                    "reliability": 0.0,
                }
            },
            {
                "weights": {
                    "tco": 0.0,
                    "emissions": 0.0,
                    "time_to_power": 0.0,
                    "land": 0.0,
                    "water": 0.0,
                    "reliability": 0.0,
                }
            },
            {"search_radius_km": 0.001},  # no substation in reach
            {"max_time_to_power_months": 40.0, "exclude_flood_zone": True, "exclude_polluted_unremediated": True},
            {"cooling": "air", "accelerator": "gb200"},
        ],
    )
    def test_it_matches_on_edge_cases(self, change):
        sites, grid, zones, hourly = world(300, 50, seed=3)
        sites.loc[::2, "area_ha"] = np.nan
        params = dataclasses.replace(presets()["default"], **change)
        k = score_sites(sites, grid, zones, params, hourly_carbon=hourly, impl="kernel").table
        r = score_sites(sites, grid, zones, params, hourly_carbon=hourly, impl="reference").table
        assert_tables_close(k, r)

    @pytest.mark.parametrize("n_sites", [200, 37])  # 37: fewer sites than the draw's scratch parts
    def test_it_matches_with_monte_carlo(self, n_sites):
        sites, grid, zones, hourly = world(n_sites, 60, seed=5)
        params = dataclasses.replace(presets()["default"], sizes=(1000, 50000))
        k = score_sites(sites, grid, zones, params, draws=30, impl="kernel").table
        r = score_sites(sites, grid, zones, params, draws=30, impl="reference").table
        for col in ["mc_p_feasible", "mc_rank_median", "mc_rank_p05", "mc_rank_p95", "mc_p_top10"]:
            np.testing.assert_allclose(k[col], r[col], rtol=1e-12, err_msg=col)

    def test_it_gives_no_connection_when_no_substation_is_in_reach(self):
        sites, grid, zones, _ = world(20, 5)
        params = dataclasses.replace(presets()["default"], search_radius_km=0.001)
        table = score_sites(sites, grid, zones, params).table
        own = table["connection_kind"] == "own"
        assert (table.loc[~own, "exclusion_reasons"].str.contains("no_connection")).all()


class RankKernelTests:
    @pytest.mark.parametrize(
        "case",
        ["ties", "nan_scores", "wide_spread", "none_feasible", "empty", "one_site"],
    )
    def test_it_ranks_as_the_reference(self, case):
        from siting.scoring import kernels, reference

        rng = np.random.default_rng(7)
        n = {"empty": 0, "one_site": 1}.get(case, 2_000)
        score = np.round(rng.uniform(0, 100, n), 1)  # rounded to 0.1: many equal scores
        feasible = (rng.random(n) < 0.6).astype(float)
        if case == "nan_scores":
            score[::7] = np.nan  # feasible but unscored: after every scored site
        if case == "wide_spread":
            score[::5] *= 1e9  # beyond the counting range: ranked by sorting
        if case == "none_feasible":
            feasible[:] = 0.0
        key = rng.permutation(n).astype(float)
        out = np.empty(n)
        kernels.rank_scores(score, feasible, key, out)
        np.testing.assert_array_equal(out, reference.rank_scores(score, feasible, key))
        if case == "ties":
            ranked = np.sort(out[np.isfinite(out)])
            assert ranked[0] == 1.0 and (np.diff(ranked) >= 0).all() and len(np.unique(ranked)) < len(ranked)


SMALL = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class PropertyTests:
    @SMALL
    @given(seed=st.integers(0, 10_000))
    def test_it_never_needs_less_power_land_or_capex_for_a_bigger_cluster(self, seed):
        sites, grid, zones, _ = world(30, 20, seed)
        table = score_sites(sites, grid, zones, presets()["default"]).table.sort_values(["site_id", "size_h100e"])
        for col in ("facility_load_mw", "land_needed_ha", "capex_facility_meur", "capex_it_meur"):
            assert (table.groupby("site_id")[col].diff().dropna() >= 0).all(), col

    @SMALL
    @given(seed=st.integers(0, 10_000), extra=st.floats(1.0, 500.0))
    def test_it_never_improves_the_carbon_criterion_with_more_carbon(self, seed, extra):
        sites, grid, zones, _ = world(30, 20, seed)
        base = score_sites(sites, grid, zones, presets()["default"]).table
        dirtier = zones.assign(carbon_intensity_g_per_kwh=zones["carbon_intensity_g_per_kwh"] + extra)
        worse = score_sites(sites, grid, dirtier, presets()["default"]).table
        assert (worse["v_emissions"].to_numpy() <= base["v_emissions"].to_numpy() + 1e-15).all()

    @SMALL
    @given(seed=st.integers(0, 10_000), weights=st.lists(st.floats(0.0, 10.0), min_size=6, max_size=6))
    def test_it_keeps_scores_in_0_100_and_gives_every_excluded_site_a_reason(self, seed, weights):
        sites, grid, zones, _ = world(40, 25, seed)
        names = ["tco", "emissions", "time_to_power", "land", "water", "reliability"]
        params = dataclasses.replace(presets()["default"], weights=dict(zip(names, weights)))
        table = score_sites(sites, grid, zones, params).table
        scores = table.loc[table["feasible"], "score"]
        assert ((scores >= 0) & (scores <= 100)).all()
        excluded = table[~table["feasible"]]
        assert (excluded["exclusion_reasons"] != "").all()
        assert set(";".join(excluded["exclusion_reasons"]).split(";")) <= set(EXCLUSIONS.values()) | {""}

    @SMALL
    @given(seed=st.integers(0, 10_000))
    def test_it_never_changes_another_sites_score_when_a_site_is_added(self, seed):
        sites, grid, zones, _ = world(30, 20, seed)
        before = score_sites(sites.iloc[:-1], grid, zones, presets()["default"]).table
        after = score_sites(sites, grid, zones, presets()["default"]).table
        after = after[after["site_id"].isin(before["site_id"])].sort_values(["size_h100e", "site_id"])
        before = before.sort_values(["size_h100e", "site_id"])
        np.testing.assert_array_equal(before["score"].to_numpy(), after["score"].to_numpy())

    def test_it_equals_deterministic_ranks_when_monte_carlo_has_no_spread(self):
        sites, grid, zones, _ = world(80, 30, 1)
        params = dataclasses.replace(
            presets()["default"],
            sizes=(1000, 20000),
            mc_capex_spread=0.0,
            mc_price_spread=0.0,
            mc_carbon_spread=0.0,
            mc_ttp_low=0.0,
            mc_ttp_high=0.0,
            mc_headroom_low=1.0,
            mc_headroom_high=1.0,
            mc_pue_offset=0.0,
            mc_dirichlet_concentration=1e15,
            mc_connection_cost_spread=0.0,
            mc_readiness_low=0.0,
            mc_readiness_high=0.0,
            mc_discount_rate_points=0.0,
        )
        table = score_sites(sites, grid, zones, params, draws=10).table
        feasible = table[table["feasible"]]
        np.testing.assert_array_equal(feasible["mc_rank_median"], feasible["rank"])
        np.testing.assert_array_equal(feasible["mc_rank_p05"], feasible["rank"])
        assert (feasible["mc_p_feasible"] == 1.0).all()
        assert (table.loc[~table["feasible"], "mc_p_feasible"] == 0.0).all()

    def test_it_gives_the_same_result_for_the_same_seed_and_splitting_by_size(self):
        sites, grid, zones, _ = world(100, 40, 2)
        params = dataclasses.replace(presets()["default"], sizes=(1000, 20000, 100000))
        a = score_sites(sites, grid, zones, params, draws=20).table
        b = score_sites(sites, grid, zones, params, draws=20).table
        pd.testing.assert_frame_equal(a, b)
        alone = score_sites(sites, grid, zones, dataclasses.replace(params, sizes=(20000,)), draws=20).table
        pd.testing.assert_frame_equal(a[a["size_h100e"] == 20000].reset_index(drop=True), alone)
        other = score_sites(sites, grid, zones, dataclasses.replace(params, mc_seed=params.mc_seed + 1), draws=20).table
        assert not np.array_equal(a["mc_rank_median"].to_numpy(), other["mc_rank_median"].to_numpy(), equal_nan=True)


class ReweightTests:
    def test_it_reproduces_the_scores_with_the_same_weights_and_reranks_with_others(self):
        sites, grid, zones, _ = world(200, 50, 4)
        params = presets()["default"]
        table = score_sites(sites, grid, zones, params).table
        same = reweight(table, params.weights)
        np.testing.assert_allclose(same["score"], table["score"], rtol=1e-12)
        np.testing.assert_array_equal(same["rank"], table["rank"])
        carbon_only = reweight(table, {"emissions": 1.0})
        best = carbon_only[(carbon_only["size_h100e"] == 1000) & (carbon_only["rank"] == 1)]["site_id"].iloc[0]
        sub = table[(table["size_h100e"] == 1000) & table["feasible"]]
        assert best in set(sub.loc[sub["v_emissions"] == sub["v_emissions"].max(), "site_id"])


class ParamsTests:
    def test_it_round_trips_through_json(self):
        import json

        params = dataclasses.replace(presets()["seed"], sizes=(1000, 5000), max_time_to_power_months=48.0)
        again = type(params).from_dict(json.loads(json.dumps(params.to_dict())))
        assert again == params

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"sizes": ()}, "sizes"),
            ({"utilisation": 1.5}, "utilisation"),
            ({"weights": {"tco": -1}}, "weights"),
            ({"weights": {"beauty": 1}}, "unknown criteria"),
            ({"cooling": "ice"}, "cooling"),
        ],
    )
    def test_it_rejects_bad_values_naming_the_field(self, change, message):
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(presets()["default"], **change)


class TriangularKernelTests:
    @pytest.mark.parametrize(
        ("low", "mode", "high"), [(0.7, 1.0, 1.3), (0.5, 1.0, 1.5), (-0.05, 0.0, 0.05), (1.0, 1.0, 2.0)]
    )
    @pytest.mark.parametrize("n", [0, 1, 10_000])
    def test_it_draws_what_numpy_draws_from_the_same_stream(self, low, mode, high, n):
        from siting.scoring import kernels, reference

        expected = np.random.default_rng([7, n]).triangular(low, mode, high, n)
        u = np.random.default_rng([7, n]).random(n)
        out = np.empty(n)
        kernels.triangular(u, low, mode, high, out)
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(reference.triangular(u, low, mode, high), expected)


class LadderTests:
    @pytest.mark.parametrize(
        "change",
        [{}, {"search_radius_km": 0.001}, {"max_time_to_power_months": 1.0}, {"sizes": (100000, 1000, 20000)}],
    )
    def test_it_equals_the_ladder_read_from_the_table(self, change):
        from siting.scoring import site_ladder

        sites, grid, zones, hourly = world(300, 60, seed=11)
        params = dataclasses.replace(presets()["default"], **change)
        result = score_sites(sites, grid, zones, params, hourly_carbon=hourly)
        pd.testing.assert_frame_equal(result.ladder, site_ladder(result.table))


class CompactTableTests:
    """From ``COMPACT_TABLE_ROWS`` rows on, the table holds the same values in less memory."""

    def test_it_holds_the_full_tables_values_in_float32_and_categories(self, monkeypatch):
        from siting.scoring import result as scoring_result

        sites, grid, zones, hourly = world(300, 100, seed=3)
        params = presets()["default"]
        full = score_sites(sites, grid, zones, params, hourly_carbon=hourly).table
        monkeypatch.setattr(scoring_result, "COMPACT_TABLE_ROWS", 1)
        compact = score_sites(sites, grid, zones, params, hourly_carbon=hourly).table
        assert list(compact.columns) == list(full.columns)
        narrowed = categorical = 0
        for name in full.columns:
            a, b = full[name], compact[name]
            if isinstance(b.dtype, pd.CategoricalDtype):
                categorical += 1
                assert list(b.astype(str)) == list(a), name
            elif b.dtype == np.float32:
                narrowed += 1
                assert name not in scoring_result.EXACT_COLUMNS
                np.testing.assert_array_equal(b.to_numpy(), a.to_numpy().astype(np.float32), err_msg=name)
            else:
                assert b.dtype.kind == a.dtype.kind and b.dtype.itemsize <= a.dtype.itemsize, name
                np.testing.assert_array_equal(b.to_numpy(), a.to_numpy(), err_msg=name)
        assert categorical == 6 and narrowed > 20
        assert compact["rank"].dtype == np.float32 and compact["seveso_tier"].dtype == np.int8
        assert full.memory_usage(deep=True).sum() > 1.5 * compact.memory_usage(deep=True).sum()


class InputTests:
    def test_it_rejects_a_repeated_site_id_in_any_order(self):
        sites, grid, zones, hourly = world(20, 10, seed=4)
        sites.loc[7, "site_id"] = sites.loc[13, "site_id"]
        with pytest.raises(ValueError, match="site_id must be unique"):
            score_sites(sites, grid, zones, presets()["default"], hourly_carbon=hourly)
        score_sites(sites.drop(index=7), grid, zones, presets()["default"], hourly_carbon=hourly)
