"""Scoring speed: numba kernels against their NumPy reference, on real and synthetic sites.

    python -m bench --only scoring [--sites 25000] [--million] [--draws 1000] [--dataset db] [--repeat 3]

Prints min / median / max over ``--repeat`` runs and the numba ÷ NumPy ratios on the same work in
the same process, of the whole call and of the kernels alone; asserts nothing. ``--million`` scores 1,000,000 synthetic sites in a child
process and prints its peak memory (resident set). ``--dataset db`` scores the loaded database (run
``./gigasite setup`` first) with everything the engine reads, lines and country outlines
included; otherwise a synthetic Europe of ``--sites`` sites (no lines, no outlines).

"Deterministic" is measured twice: cold, with the preparation and its connection geometry
(KD-trees, over-land tests, cut-in search) computed, and warm, with them taken from the
per-process caches (keyed by the inputs' content), as every size after the first of a run does.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def synthetic(n_sites: int, n_points: int = 10_000, seed: int = 0):
    """Return sites, grid, zones and hourly carbon shaped like the real data."""
    rng = np.random.default_rng(seed)
    codes = np.array(["FR", "DE", "ES", "IT", "PL", "NL", "BE", "PT"])
    sites = pd.DataFrame(
        {
            "site_id": np.arange(1, n_sites + 1),
            "longitude": rng.uniform(-9, 24, n_sites),
            "latitude": rng.uniform(36, 58, n_sites),
            "country": rng.choice(codes, n_sites),
            "area_ha": np.where(rng.random(n_sites) < 0.8, rng.lognormal(1.0, 1.5, n_sites), np.nan),
            "grid_capacity_mw": np.where(rng.random(n_sites) < 0.02, rng.uniform(50, 2000, n_sites), np.nan),
            "grid_voltage_kv": np.nan,
            "pollution_status": rng.choice(["none", "suspected", "confirmed", "unknown"], n_sites),
            "flood_zone": np.nan,
            "water_access": "unknown",
            "reconverted": rng.random(n_sites) < 0.01,
        }
    )
    grid = pd.DataFrame(
        {
            "point_id": np.arange(n_points),
            "longitude": rng.uniform(-9, 24, n_points),
            "latitude": rng.uniform(36, 58, n_points),
            "voltage_kv": rng.choice([63.0, 90.0, 150.0, 225.0, 400.0], n_points, p=[0.5, 0.2, 0.05, 0.17, 0.08]),
            "headroom_mw": np.nan,
        }
    )
    zones = pd.DataFrame(
        {
            "country": codes,
            "carbon_intensity_g_per_kwh": rng.uniform(30, 650, len(codes)),
            "price_eur_per_mwh": rng.uniform(50, 110, len(codes)),
            "cooling_degree_days": rng.uniform(0, 300, len(codes)),
        }
    )
    return sites, grid, zones, {"FR": rng.uniform(20, 90, 8760)}


def from_database():
    import django

    django.setup()
    from siting.runs import selectors as run_selectors

    inputs = run_selectors.scoring_inputs()
    return inputs.sites, inputs.grid, inputs.zones, inputs.hourly_carbon, inputs.lines, inputs.outlines


def _time(fn, repeat: int = 3) -> tuple[float, float, float]:
    """Return (min, median, max) wall time [s] of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), max(times)


def _spread(t: tuple[float, float, float]) -> str:
    return f"median {t[1]:8.3f} s (min {t[0]:.3f}, max {t[2]:.3f})"


def run(
    sites, grid, zones, hourly, lines=None, outlines=None, *, draws: int = 1000, label: str = "", repeat: int = 3
) -> dict[str, float]:
    """Measure one dataset; print and return the medians."""
    import functools

    from siting import scoring
    from siting.scoring import engine, montecarlo, prepare
    from siting.scoring.layout import N_OUT
    from siting.scoring.params import presets

    params = presets()["default"]
    n = len(sites)
    n_sizes = len(params.sizes)
    score = functools.partial(scoring.score_sites, lines=lines, outlines=outlines)
    t0 = time.perf_counter()
    score(sites.head(50), grid, zones, params, hourly_carbon=hourly, draws=2)
    first_call = time.perf_counter() - t0

    def cold():
        prepare._GEOMETRY_CACHE.clear()
        prepare._PREPARED_CACHE.clear()
        score(sites, grid, zones, params, hourly_carbon=hourly)

    def geometry():
        prepare._GEOMETRY_CACHE.clear()
        prepare._PREPARED_CACHE.clear()
        prepare._prepare(scoring.ScoringInputs(sites, grid, zones, hourly, lines, outlines), params)

    cand = _time(geometry, repeat)
    det_cold = _time(cold, repeat)
    det_kernel = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly), repeat)
    det_ref = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, impl="reference"), repeat)
    # The kernels alone (evaluate + rank of every size) on the same prepared inputs: what numba
    # replaces; the whole call above also holds the preparation and the table, shared by both.
    prep = prepare._prepare(scoring.ScoringInputs(sites, grid, zones, hourly, lines, outlines), params)
    det_draw = engine._draw(params, prep, None)
    det_site = engine._site_matrix(params, prep, det_draw)

    def kernels_only(impl: str):
        buffers = (np.empty((N_OUT, n)), np.empty(n)) if impl == "kernel" else None
        for size in params.sizes:
            engine._evaluate(params, prep, int(size), det_draw, impl, buffers, det_site)

    kern_kernel = _time(lambda: kernels_only("kernel"), repeat)
    kern_ref = _time(lambda: kernels_only("reference"), repeat)
    # Monte Carlo, numba against NumPy on the same draws: the draw loop alone (prepared inputs).
    probe = max(5, min(50, draws // 10))
    mc_kernel_probe = mc_ref_probe = mc_each_size = (np.nan,) * 3
    mc_full = (0.0,) * 3
    if draws:
        ranks_out = np.empty((n_sizes, n))

        def draw_loop(impl: str, count: int):
            state = montecarlo._mc_setup(params, prep, params.sizes, impl)
            for d in range(count):
                montecarlo._mc_draw(state, d, ranks_out)

        mc_kernel_probe = _time(lambda: draw_loop("kernel", probe), repeat)
        mc_ref_probe = _time(lambda: draw_loop("reference", probe), repeat)

        def chunk_loop(count: int):
            # As a run's chunks do: one state per size, each draw scored for that size alone.
            for size in params.sizes:
                state = montecarlo._mc_setup(params, prep, (size,), "kernel")
                for d in range(count):
                    montecarlo._mc_draw(state, d, ranks_out[:1])

        mc_each_size = _time(lambda: chunk_loop(probe), repeat)
        mc_full = _time(lambda: score(sites, grid, zones, params, hourly_carbon=hourly, draws=draws), repeat)
    figures = {
        "sites": n,
        "first_call_s": first_call,
        "candidates_s": cand[1],
        "deterministic_cold_s": det_cold[1],
        "deterministic_s": det_kernel[1],
        "deterministic_reference_s": det_ref[1],
        "deterministic_ratio": det_ref[1] / det_kernel[1],
        "kernels_ratio": kern_ref[1] / kern_kernel[1],
        "mc_s": mc_full[1],
        "mc_ratio": mc_ref_probe[1] / mc_kernel_probe[1],
        "mc_draw_one_size_ms": 1000 * mc_each_size[1] / (probe * n_sizes),
        "mc_draw_all_sizes_ms": 1000 * mc_kernel_probe[1] / probe,
    }
    n_lines = 0 if lines is None else lines["line_id"].nunique()
    print(
        f"{label}: {n:,} sites × {n_sizes} sizes, {len(grid):,} grid points, {n_lines:,} lines, "
        f"{len(outlines or {})} country outlines; {repeat} repeats"
    )
    print(f"  first call (compile or load cache)   {first_call:8.3f} s")
    print(f"  preparation with connection geometry (k={params.k_nearest}, limits, cut-ins)  {_spread(cand)}")
    print(f"  deterministic, numba, cold geometry  {_spread(det_cold)}")
    print(
        f"  deterministic, numba (warm)          {_spread(det_kernel)}   {n * n_sizes / det_kernel[1]:12,.0f} site-sizes/s"
    )
    print(
        f"  deterministic, NumPy reference       {_spread(det_ref)}   "
        f"whole-call ratio numba ÷ NumPy ×{figures['deterministic_ratio']:5.2f}"
    )
    print(f"  deterministic kernels only, numba    {_spread(kern_kernel)}")
    print(
        f"  deterministic kernels only, NumPy    {_spread(kern_ref)}   "
        f"kernel-only ratio numba ÷ NumPy ×{figures['kernels_ratio']:5.2f}"
    )
    if draws:
        print(f"  Monte Carlo {probe} draws, draw loop: numba {_spread(mc_kernel_probe)}")
        print(
            f"  Monte Carlo {probe} draws, draw loop: NumPy {_spread(mc_ref_probe)}   ratio ×{figures['mc_ratio']:.2f}"
        )
        one, together = figures["mc_draw_one_size_ms"], figures["mc_draw_all_sizes_ms"]
        print(
            f"  Monte Carlo {probe} draws, each size alone as a run's chunks do: numba {_spread(mc_each_size)}   "
            f"per draw {one:.2f} ms for one size, {together:.2f} ms for all {n_sizes} together: "
            f"chunks ÷ together ×{n_sizes * one / together:.2f}, fixed cost ≈ {(n_sizes * one - together) / (n_sizes - 1):.2f} ms per draw"
        )
        print(
            f"  Monte Carlo {draws:,} draws, whole scoring, numba  {_spread(mc_full)}   "
            f"{n * n_sizes * draws / mc_full[1]:12,.0f} site-size-draws/s"
        )
    if n <= 100_000:
        _outside_baseline(sites, grid, zones, hourly, params, lines, outlines)
    return figures


def million(repeat: int = 3) -> None:
    """Score 1,000,000 synthetic sites in a child process; print its times and peak memory."""
    import resource
    import subprocess
    import sys

    code = "from bench.bench_scoring import _million_child; _million_child(%d)" % repeat
    subprocess.run([sys.executable, "-c", code], check=True)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB on Linux
    print(f"  peak memory of the process (resident, whole run)  {peak_gb:6.2f} GB")


def _million_child(repeat: int) -> None:
    from siting import scoring
    from siting.scoring import prepare
    from siting.scoring.params import presets

    sites, grid, zones, hourly = synthetic(1_000_000)
    params = presets()["default"]
    scoring.score_sites(sites.head(50), grid, zones, params, hourly_carbon=hourly)

    def cold():
        prepare._GEOMETRY_CACHE.clear()
        prepare._PREPARED_CACHE.clear()
        scoring.score_sites(sites, grid, zones, params, hourly_carbon=hourly)

    def geometry():
        prepare._GEOMETRY_CACHE.clear()
        prepare._PREPARED_CACHE.clear()
        prepare._prepare(scoring.ScoringInputs(sites, grid, zones, hourly), params)

    # The connection search alone (candidates.nearest_by_class and nearest_on_lines under the
    # geometry limits, uncached), on the arrays the preparation hands it: the synthetic grid is
    # sorted by point_id and every voltage is positive, so it keeps every point in its order.
    lon, lat = sites["longitude"].to_numpy(dtype=float), sites["latitude"].to_numpy(dtype=float)
    country = prepare._upper_text(sites["country"])
    point_lon, point_lat = grid["longitude"].to_numpy(dtype=float), grid["latitude"].to_numpy(dtype=float)
    point_kv = grid["voltage_kv"].to_numpy(dtype=float)

    def connection():
        prepare._geometry(params, lon, lat, country, point_lon, point_lat, point_kv, None, None, None, cache=False)

    cand = _time(geometry, repeat)
    conn = _time(connection, repeat)
    total = _time(cold, repeat)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"synthetic million: {len(sites):,} sites × {len(params.sizes)} sizes, {len(grid):,} grid points; {repeat} repeats; "
        f"load average {load} on {os.cpu_count()} cores"
    )
    print(f"  candidate search (preparation)                     {_spread(cand)}")
    print(f"    of which the connection search alone             {_spread(conn)}")
    print(f"  candidate search + deterministic scoring, cold     {_spread(total)}")


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
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    if args.dataset == "db":
        data = from_database()
        if len(data[0]) == 0:
            print("no sites in the database; using synthetic data")
            data = synthetic(args.sites)
        run(*data, draws=args.draws, label="loaded dataset", repeat=args.repeat)
    else:
        run(*synthetic(args.sites), draws=args.draws, label="synthetic", repeat=args.repeat)
    if args.million:
        million(args.repeat)


if __name__ == "__main__":
    main()
