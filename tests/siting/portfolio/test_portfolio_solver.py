"""The portfolio solver on small instances: the same optimum as brute force, every constraint
kept, infeasible targets explained (never a crash). No database."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from siting.portfolio.problem import PortfolioProblem, ProblemError, parse_clusters, parse_sizes
from siting.portfolio.solver import (
    candidate_pool,
    check_portfolio,
    close_site_pairs,
    great_circle_km,
    greedy,
    solve,
)

KW_PER_H100E = 1.275
SIZES = (50_000, 100_000, 160_000)


def instance(seed: int, n_sites: int = 9, n_points: int = 4) -> pd.DataFrame:
    """Return a run-like table: sites at three sizes, a few shared grid points with one headroom each."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(0.0, 6.0, n_sites), rng.uniform(43.0, 49.0, n_sites)
    country = rng.choice(["FR", "DE", "ES"], n_sites)
    region = rng.choice(["", "11", "84"], n_sites)
    point_headroom = rng.choice([250.0, 400.0, 1000.0], n_points)
    rows = []
    for i in range(n_sites):
        point = int(rng.integers(-1, n_points))  # −1: the site's own connection
        base_score = rng.uniform(30, 90)
        for size in SIZES:
            mw = size * KW_PER_H100E / 1000.0
            rows.append(
                {
                    "site_id": 100 + i,
                    "size_h100e": size,
                    "it_load_mw": mw,
                    "facility_load_mw": mw * 1.2,
                    "feasible": bool(rng.random() < 0.85),
                    "time_to_power_months": float(rng.uniform(24, 84)),
                    "score": float(base_score + rng.uniform(-8, 8)),
                    "capex_total_meur": float(mw * rng.uniform(8.5, 10.5) + rng.uniform(5, 60)),
                    "tco_eur_per_gpu_hour": float(rng.uniform(1.5, 2.5)),
                    "emissions_t_per_yr": float(mw * rng.uniform(100, 3000)),
                    "connection_kind": "own" if point < 0 else "new_line",
                    "connection_point_id": point,
                    "connection_line_id": -1,
                    "headroom_mw": float(point_headroom[point]) if point >= 0 else mw * 3,
                    "headroom_source": "estimated",
                    "longitude": lon[i],
                    "latitude": lat[i],
                    "country": country[i],
                    "region": region[i],
                }
            )
    return pd.DataFrame(rows)


def brute_force(table: pd.DataFrame, problem: PortfolioProblem, max_k: int = 5) -> float | None:
    """Return the best objective over every choice of at most one size per site (up to ``max_k``
    sites) that keeps every constraint, checked here independently of the solver's code."""
    t = table[table["feasible"]]
    if problem.clusters:
        t = t[t["size_h100e"].isin([s for s, _ in problem.clusters])]
    elif problem.sizes_h100e:
        t = t[t["size_h100e"].isin(problem.sizes_h100e)]
    if problem.deadline_months is not None:
        t = t[t["time_to_power_months"] <= problem.deadline_months]
    t = t[~t["site_id"].isin(problem.exclude)]
    rows = t.to_dict("records")
    by_site: dict[int, list[dict]] = {}
    for r in rows:
        by_site.setdefault(int(r["site_id"]), []).append(r)
    sites = sorted(by_site)
    value_of = {
        "score": lambda r: r["score"],
        "cost": lambda r: r["capex_total_meur"],
        "emissions": lambda r: r["emissions_t_per_yr"],
    }[problem.objective]
    best = None

    def valid(chosen: list[dict]) -> bool:
        if not set(problem.include) <= {int(r["site_id"]) for r in chosen}:
            return False
        if problem.clusters:
            if any(sum(r["size_h100e"] == s for r in chosen) != n for s, n in problem.clusters):
                return False
        elif sum(r["it_load_mw"] for r in chosen) < problem.target_mw_it - 1e-9:
            return False
        if problem.max_sites and len(chosen) > problem.max_sites:
            return False
        if (
            problem.max_per_country
            and max(pd.Series([r["country"] for r in chosen]).value_counts()) > problem.max_per_country
        ):
            return False
        regions = [r["country"] + ":" + r["region"] if r["region"] else r["country"] for r in chosen]
        if problem.max_per_region and max(pd.Series(regions).value_counts()) > problem.max_per_region:
            return False
        load: dict[int, float] = {}
        for r in chosen:
            if r["connection_kind"] != "own" and r["connection_point_id"] >= 0:
                load[r["connection_point_id"]] = load.get(r["connection_point_id"], 0.0) + r["facility_load_mw"]
                if problem.share_headroom and load[r["connection_point_id"]] > r["headroom_mw"] + 1e-9:
                    return False
        for a, b in itertools.combinations(chosen, 2):
            if great_circle_km(a["longitude"], a["latitude"], b["longitude"], b["latitude"]) < problem.min_distance_km:
                return False
        return True

    for k in range(1, min(max_k, len(sites)) + 1):
        for subset in itertools.combinations(sites, k):
            for choice in itertools.product(*(by_site[s] for s in subset)):
                if not valid(list(choice)):
                    continue
                value = sum(value_of(r) for r in choice)
                if best is None or (value > best if problem.objective == "score" else value < best):
                    best = value
    return best


PROBLEMS = [
    PortfolioProblem(clusters=((100_000, 3),)),
    PortfolioProblem(clusters=((100_000, 2), (50_000, 1)), max_per_country=1, objective="cost"),
    PortfolioProblem(clusters=((100_000, 3),), min_distance_km=150.0, objective="emissions"),
    PortfolioProblem(clusters=((160_000, 2),), deadline_months=70.0, max_per_region=1),
    PortfolioProblem(target_mw_it=400.0, max_sites=3),
    PortfolioProblem(target_mw_it=500.0, max_sites=4, objective="cost", deadline_months=72.0),
    PortfolioProblem(target_mw_it=350.0, objective="emissions", max_per_country=1, min_distance_km=80.0),
    PortfolioProblem(target_mw_it=300.0, max_sites=3, include=(101,), exclude=(102,), objective="cost"),
]


class BruteForceTests:
    @pytest.mark.parametrize("seed", range(6))
    @pytest.mark.parametrize("index", range(len(PROBLEMS)))
    def test_it_finds_the_brute_force_optimum(self, seed, index):
        table = instance(seed, n_sites=8)
        problem = dataclasses.replace(PROBLEMS[index], mip_rel_gap=0.0)
        expected = brute_force(table, problem)
        solution = solve(table, problem)
        if expected is None:
            assert not solution.feasible
            assert solution.explanation is not None and solution.explanation.message
        else:
            assert solution.feasible, solution.explanation
            assert solution.solver.status == "optimal"
            assert solution.totals["objective"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
            pool = candidate_pool(table, problem)
            assert check_portfolio(pool, problem, solution.chosen["candidate"].tolist()) == []

    @pytest.mark.parametrize("seed", range(6))
    def test_the_greedy_baseline_never_beats_the_optimum(self, seed):
        table = instance(seed, n_sites=14)
        for problem in PROBLEMS:
            problem = dataclasses.replace(problem, mip_rel_gap=0.0)
            solution = solve(table, problem)
            if not solution.greedy["feasible"]:
                continue
            assert solution.feasible
            if problem.objective == "score":
                assert solution.greedy["objective"] <= solution.totals["objective"] + 1e-6
            else:
                assert solution.greedy["objective"] >= solution.totals["objective"] - 1e-6
            assert solution.greedy["gain"] >= -1e-6


class ConstraintTests:
    def test_it_never_exceeds_a_shared_headroom(self):
        # Four sites on one 400 MW point, at 100k H100e each 153 MW of facility load: only two fit.
        table = instance(1, n_sites=4)
        table["connection_kind"], table["connection_point_id"], table["headroom_mw"] = "new_line", 3, 400.0
        table["feasible"] = True
        problem = PortfolioProblem(clusters=((100_000, 2),))
        solution = solve(table, problem)
        assert solution.feasible
        assert solution.chosen["facility_load_mw"].sum() <= 400.0
        assert solution.shared_points[0]["shared"] and solution.shared_points[0]["facility_load_mw"] == pytest.approx(
            306.0
        )
        three = solve(table, PortfolioProblem(clusters=((100_000, 3),)))
        assert not three.feasible
        assert three.explanation.binding == ["shared_headroom"]
        # Without the sharing rule three fit: each site alone has the headroom.
        assert solve(table, PortfolioProblem(clusters=((100_000, 3),), share_headroom=False)).feasible

    @pytest.mark.parametrize("seed", range(5))
    def test_it_keeps_country_and_region_caps_and_distances(self, seed):
        table = instance(seed, n_sites=16)
        problem = PortfolioProblem(
            target_mw_it=450.0,
            max_sites=6,
            max_per_country=2,
            max_per_region=1,
            min_distance_km=120.0,
            objective="cost",
        )
        solution = solve(table, problem)
        if not solution.feasible:
            assert solution.explanation.message
            return
        chosen = solution.chosen
        assert chosen["country"].value_counts().max() <= 2
        assert chosen["region_key"].value_counts().max() <= 1
        lon, lat = chosen["longitude"].to_numpy(), chosen["latitude"].to_numpy()
        for a, b in itertools.combinations(range(len(chosen)), 2):
            assert great_circle_km(lon[a], lat[a], lon[b], lat[b]) >= 120.0
        assert chosen["it_load_mw"].sum() >= 450.0
        assert chosen["site_id"].is_unique

    def test_it_honours_forced_sites_and_the_deadline(self):
        table = instance(2)
        table["feasible"] = True
        late = int(table.loc[table["size_h100e"] == 100_000].sort_values("time_to_power_months")["site_id"].iloc[-1])
        table.loc[table["site_id"] == late, "time_to_power_months"] = 90.0
        forced = int(table["site_id"].iloc[0])
        problem = PortfolioProblem(clusters=((100_000, 2),), deadline_months=85.0, include=(forced,))
        solution = solve(table, problem)
        assert forced in solution.chosen["site_id"].tolist()
        assert late not in solution.chosen["site_id"].tolist()
        assert (solution.chosen["time_to_power_months"] <= 85.0).all()
        assert solution.alternatives[forced] is None  # a forced site has no replacement

    def test_its_alternative_keeps_every_constraint(self):
        table = instance(4, n_sites=12)
        problem = PortfolioProblem(clusters=((100_000, 3),), max_per_country=1)
        solution = solve(table, problem)
        pool = candidate_pool(table, problem)
        chosen = solution.chosen["candidate"].tolist()
        for k in chosen:
            site = int(pool.cand["site_id"].iloc[k])
            alt = solution.alternatives[site]
            if alt is None:
                continue
            j = int(
                pool.cand.index[
                    (pool.cand["site_id"] == alt["site_id"]) & (pool.cand["size_h100e"] == alt["size_h100e"])
                ][0]
            )
            swapped = [c for c in chosen if c != k] + [j]
            assert check_portfolio(pool, problem, swapped) == []

    def test_close_site_pairs_match_the_haversine(self):
        rng = np.random.default_rng(0)
        lon, lat = rng.uniform(-5, 10, 60), rng.uniform(40, 55, 60)
        pairs = {tuple(p) for p in close_site_pairs(lon, lat, 200.0)}
        for a, b in itertools.combinations(range(60), 2):
            assert ((a, b) in pairs) == (great_circle_km(lon[a], lat[a], lon[b], lat[b]) < 200.0)
        # Paris–Lyon: 391.5 km on the great circle (haversine, R = 6371.0088 km).
        assert great_circle_km(2.3522, 48.8566, 4.8357, 45.7640) == pytest.approx(391.5, abs=0.5)


class InfeasibleTests:
    def test_it_names_the_site_limit_when_sizes_are_too_small(self):
        # 5 sites × 100k H100e = 637.5 MW IT < 1 GW: the site limit and the sizes bind.
        table = instance(0, n_sites=12)
        table["feasible"] = True
        problem = PortfolioProblem(target_mw_it=1000.0, max_sites=5, sizes_h100e=(100_000,))
        solution = solve(table, problem)
        assert not solution.feasible
        assert set(solution.explanation.binding) == {"max_sites", "sizes"}
        assert any("637.5 MW" in f for f in solution.explanation.facts)

    def test_it_names_the_deadline(self):
        table = instance(3)
        table["feasible"] = True
        table["time_to_power_months"] = 70.0
        solution = solve(table, PortfolioProblem(clusters=((50_000, 2),), deadline_months=60.0))
        assert not solution.feasible and solution.pool_size == 0
        assert solution.explanation.binding == ["deadline"]
        assert solution.removed["after_deadline"] == len(table[table["size_h100e"] == 50_000])

    def test_it_names_the_country_cap_and_the_distance(self):
        table = instance(5, n_sites=6)
        table["feasible"] = True
        table["country"] = "FR"
        cap = solve(table, PortfolioProblem(clusters=((50_000, 3),), max_per_country=2))
        assert not cap.feasible and cap.explanation.binding == ["max_per_country"]
        far = solve(table, PortfolioProblem(clusters=((50_000, 3),), min_distance_km=5000.0))
        assert not far.feasible and far.explanation.binding == ["min_distance"]

    def test_it_never_crashes_on_empty_or_hopeless_tables(self):
        table = instance(6)
        table["feasible"] = False
        solution = solve(table, PortfolioProblem(clusters=((100_000, 1),)))
        assert not solution.feasible and solution.explanation.facts
        forced = solve(instance(6), PortfolioProblem(clusters=((100_000, 1),), include=(999,)))
        assert not forced.feasible
        assert any("999" in f for f in forced.explanation.facts)
        assert not solve(instance(6).iloc[0:0], PortfolioProblem(target_mw_it=10.0, max_sites=1)).feasible

    def test_it_says_when_time_ran_out_rather_than_impossible(self):
        solution = solve(instance(1, n_sites=12), PortfolioProblem(clusters=((100_000, 3),), time_limit_s=1e-6))
        assert not solution.feasible and solution.solver.status == "limit_reached"
        assert "time limit" in solution.explanation.message and solution.explanation.binding == []

    def test_it_rejects_a_size_not_on_the_ladder(self):
        with pytest.raises(ProblemError, match="200,000"):
            solve(instance(0), PortfolioProblem(clusters=((200_000, 1),)))


class ProblemTests:
    def test_it_round_trips_through_json(self):
        problem = PortfolioProblem(clusters=((100_000, 5),), max_per_country=2, countries=("FR", "DE"), include=(3,))
        assert PortfolioProblem.from_dict(problem.to_dict()) == problem

    @pytest.mark.parametrize(
        "data, field",
        [
            ({}, "target"),
            ({"target_mw_it": 10, "clusters": [[1000, 1]]}, "target"),
            ({"target_mw_it": -1}, "target_mw_it"),
            ({"clusters": [[1000, 0]]}, "clusters"),
            ({"clusters": [[1000, 1]], "objective": "x"}, "objective"),
            ({"clusters": [[1000, 1]], "include": [1], "exclude": [1]}, "include"),
            ({"clusters": [[1000, 1]], "bogus": 1}, "bogus"),
            ({"clusters": [[1000, 1]], "max_sites": 0}, "max_sites"),
            ({"clusters": [[1000, 1]], "deadline_months": 0}, "deadline"),
        ],
    )
    def test_it_names_the_bad_field(self, data, field):
        with pytest.raises(ProblemError, match=field):
            PortfolioProblem.from_dict(data)

    def test_it_parses_clusters_and_sizes(self):
        assert parse_clusters("5x100000") == ((100_000, 5),)
        assert parse_clusters("2 × 50k, 1x100_000, 1x50000") == ((50_000, 3), (100_000, 1))
        assert parse_sizes("160000, 200k") == (160_000, 200_000)
        with pytest.raises(ProblemError, match="COUNTxSIZE"):
            parse_clusters("five")

    def test_it_needs_a_site_limit_for_an_mw_target_scored_by_total_score(self):
        with pytest.raises(ProblemError, match="max_sites"):
            solve(instance(0), PortfolioProblem(target_mw_it=100.0))

    def test_greedy_returns_none_when_stuck(self):
        table = instance(0)
        table["feasible"] = True
        problem = PortfolioProblem(target_mw_it=5000.0, max_sites=2, objective="cost")
        assert greedy(candidate_pool(table, problem), problem) is None
