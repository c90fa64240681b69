"""Scoring speed: numba kernels against their NumPy reference, on real and synthetic sites.

    python -m bench --only scoring [--sites 25000] [--million] [--draws 1000] [--dataset db]

Prints times and rates; asserts nothing. ``--dataset db`` scores the loaded database (run
``./gigasite setup`` first) with everything the engine reads, lines and country outlines
included; otherwise a synthetic Europe of ``--sites`` sites (no lines, no outlines).

"Deterministic" is measured twice: cold, with the connection geometry (KD-trees, over-land
tests, cut-in search) computed, and warm, with it taken from the per-process cache, as every
size after the first of a run does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def synthetic(n_sites: int, n_points: int = 10_000, seed: int = 0):
    """Return sites, grid, zones and hourly carbon shaped like the real data."""
    rng = np.random.default_rng(seed)
    codes = np.array(["FR", "DE", "ES", "IT", "PL", "NL", "BE", "PT"])
    sites = pd.DataFrame({
        "site_id": np.arange(1, n_sites + 1), "longitude": rng.uniform(-9, 24, n_sites), "latitude": rng.uniform(36, 58, n_sites),
        "country": rng.choice(codes, n_sites), "area_ha": np.where(rng.random(n_sites) < 0.8, rng.lognormal(1.0, 1.5, n_sites), np.nan),
        "grid_capacity_mw": np.where(rng.random(n_sites) < 0.02, rng.uniform(50, 2000, n_sites), np.nan), "grid_voltage_kv": np.nan,
        "pollution_status": rng.choice(["none", "suspected", "confirmed", "unknown"], n_sites), "flood_zone": np.nan,
        "water_access": "unknown", "reconverted": rng.random(n_sites) < 0.01,
    })
    grid = pd.DataFrame({
        "point_id": np.arange(n_points), "longitude": rng.uniform(-9, 24, n_points), "latitude": rng.uniform(36, 58, n_points),
        "voltage_kv": rng.choice([63.0, 90.0, 150.0, 225.0, 400.0], n_points, p=[0.5, 0.2, 0.05, 0.17, 0.08]),
        "headroom_mw": np.nan,
    })
    zones = pd.DataFrame({"country": codes, "carbon_intensity_g_per_kwh": rng.uniform(30, 650, len(codes)),
                          "price_eur_per_mwh": rng.uniform(50, 110, len(codes)), "cooling_degree_days": rng.uniform(0, 300, len(codes))})
    return sites, grid, zones, {"FR": rng.uniform(20, 90, 8760)}


def from_database():
    import django

    django.setup()
    from siting import scoring_service

    inputs = scoring_service.scoring_inputs()
    return inputs.sites, inputs.grid, inputs.zones, inputs.hourly_carbon, inputs.lines, inputs.outlines


def _time(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(sites, grid, zones, hourly, lines=None, outlines=None, *, draws: int = 1000, label: str = "") -> dict[str, float]:
    """Measure one dataset; print and return the figures."""
    import functools

    from siting import scoring
    from siting.scoring.params import presets

    params = presets()["default"]
    n = len(sites)
    n_sizes = len(params.sizes)
    score = functools.partial(scoring.score_sites, lines=lines, outlines=outlines)
    t0 = time.perf_counter()
    score(sites.head(50), grid, zones, params, hourly_carbon=hourly)
    first_call = time.perf_counter() - t0

    def cold():
        scoring._GEOMETRY_CACHE.clear()
        score(sites, grid, zones, params, hourly_carbon=hourly)

    def geometry():
        scoring._GEOMETRY_CACHE.clear()
        scoring._prepare(scoring.ScoringInputs(sites, grid, zones, hourly, lines, outlines), params)

    cand = _time(geometry)
    det_cold = _time(cold)
    det_kernel = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly))
    det_ref = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, impl="reference"), repeat=1)
    # Same-run comparison on the Monte Carlo: a short run of each, then the full one for numba.
    probe = max(5, min(50, draws // 10))
    mc_kernel_probe = mc_ref_probe = np.nan
    if draws:
        mc_kernel_probe = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, draws=probe), repeat=1) - det_kernel
        mc_ref_probe = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, draws=probe, impl="reference"), repeat=1) - det_ref
    mc_full = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, draws=draws), repeat=1) if draws else 0.0
    figures = {"sites": n, "first_call_s": first_call, "candidates_s": cand, "deterministic_cold_s": det_cold,
               "deterministic_s": det_kernel, "deterministic_reference_s": det_ref, "mc_s": mc_full,
               "mc_ratio": mc_ref_probe / mc_kernel_probe}
    n_lines = 0 if lines is None else lines["line_id"].nunique()
    print(f"{label}: {n:,} sites × {n_sizes} sizes, {len(grid):,} grid points, {n_lines:,} lines, "
          f"{len(outlines or {})} country outlines")
    print(f"  first call (compile or load cache)  {first_call:8.3f} s")
    print(f"  preparation with connection geometry (k={params.k_nearest}, limits, cut-ins)  {cand:8.3f} s   {n / cand:12,.0f} sites/s")
    print(f"  deterministic, numba, cold geometry  {det_cold:8.3f} s   {n * n_sizes / det_cold:12,.0f} site-sizes/s")
    print(f"  deterministic, numba (warm)          {det_kernel:8.3f} s   {n * n_sizes / det_kernel:12,.0f} site-sizes/s")
    print(f"  deterministic, NumPy reference       {det_ref:8.3f} s   ratio numba ÷ NumPy ×{det_ref / det_kernel:5.2f}")
    if draws:
        print(f"  Monte Carlo {probe} draws: numba {mc_kernel_probe:.2f} s, NumPy {mc_ref_probe:.2f} s, ratio ×{figures['mc_ratio']:.2f}")
        print(f"  Monte Carlo {draws:,} draws, numba       {mc_full:8.2f} s   {n * n_sizes * draws / mc_full:12,.0f} site-size-draws/s")
    _outside_baseline(sites, grid, zones, hourly, params, lines, outlines)
    return figures


def _outside_baseline(sites, grid, zones, hourly, params, lines=None, outlines=None) -> None:
    """The same weighted sum ranked by pymcdm, if installed, as an outside check of speed and order."""
    try:
        from pymcdm.methods import WSM  # noqa: F401
    except ImportError:
        print("  outside baseline: pymcdm not installed (pip install pymcdm) — skipped")
        return
    from pymcdm.methods import WSM

    from siting import scoring
    from siting.scoring.criteria import CRITERION_NAMES

    table = scoring.score_sites(sites, grid, zones, params, hourly_carbon=hourly, lines=lines, outlines=outlines).table
    one = table[(table["size_h100e"] == params.sizes[0]) & table["feasible"]]
    matrix = one[[f"v_{c}" for c in CRITERION_NAMES]].to_numpy()
    w = np.array([params.weights[c] for c in CRITERION_NAMES])
    t0 = time.perf_counter()
    pref = WSM(normalization_function=lambda x, cost: x)(matrix, w / w.sum(), np.ones(len(w)))
    elapsed = time.perf_counter() - t0
    agree = np.corrcoef(pref, one["score"].to_numpy())[0, 1]
    print(f"  outside baseline pymcdm WSM, one size: {elapsed:.3f} s; correlation with our scores {agree:.6f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_scoring")
    parser.add_argument("--sites", type=int, default=25_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 synthetic sites (deterministic only)")
    parser.add_argument("--dataset", choices=["synthetic", "db"], default="db")
    args, _ = parser.parse_known_args(argv)
    if args.dataset == "db":
        data = from_database()
        if len(data[0]) == 0:
            print("no sites in the database; using synthetic data")
            data = synthetic(args.sites)
        run(*data, draws=args.draws, label="loaded dataset")
    else:
        run(*synthetic(args.sites), draws=args.draws, label="synthetic")
    if args.million:
        run(*synthetic(1_000_000), draws=0, label="synthetic million")


if __name__ == "__main__":
    main()
