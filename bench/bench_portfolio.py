"""Portfolio solve time on the full candidate set (target: the EU five-cluster problem to a gap
≤ 0.1 % in ≤ 10 s on this machine), with the greedy baseline's total beside it.

    python -m bench --only portfolio [--draws 0] [--time-limit 10]

Scores every loaded site at 100,000 H100e (and 160k / 200k for the French question) with the
engine, then solves:

- "EU, five clusters of 100,000 H100e, at most 2 per country" (best total score);
- the same with sites at least 200 km apart, and by least emissions;
- "France, 1 GW IT in at most 5 sites, powered within 60 months" on the 160k/200k ladder.

When the database holds no sites, the shipped reference data is loaded first inside a
transaction that is rolled back (about 1.5 minutes). ``--draws N`` also times the robustness
check of the EU portfolio over N Monte Carlo draws. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time


class _Rollback(Exception):
    """Raised to leave the bench's transaction without keeping anything."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_portfolio")
    parser.add_argument("--draws", type=int, default=0, help="Monte Carlo draws for the robustness timing (0: skip)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="solver time limit [s]")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative gap the solver may stop at")
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import transaction

    from siting.models import Site
    from siting.portfolio.problem import PortfolioProblem
    from siting.portfolio.robustness import portfolio_robustness
    from siting.portfolio.solver import solve
    from siting.runs import selectors as run_selectors
    from siting.scoring import presets, score_inputs

    try:
        with transaction.atomic():
            if not Site.objects.exists():
                from siting.sites.services import reference_data_load

                t0 = time.perf_counter()
                reference_data_load(current_year=2026)
                print(f"loaded the shipped reference data in {time.perf_counter() - t0:.0f} s (rolled back at the end)")
            inputs = run_selectors.scoring_inputs()
            params = dataclasses.replace(presets()["default"], sizes=(100_000, 160_000, 200_000))
            t0 = time.perf_counter()
            table = score_inputs(inputs, params).table
            print(
                f"scored {len(inputs.sites):,} sites at {', '.join(f'{s:,}' for s in params.sizes)} H100e in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            regions = dict(Site.objects.values_list("id", "region_code"))
            sites = inputs.sites[["site_id", "longitude", "latitude", "country"]].assign(
                region=lambda f: f["site_id"].map(regions).fillna("")
            )
            table = table.merge(sites, on="site_id")
            limits = {"mip_rel_gap": args.gap, "time_limit_s": args.time_limit}
            questions = {
                "EU 5 × 100k, ≤ 2 per country": PortfolioProblem(clusters=((100_000, 5),), max_per_country=2, **limits),
                "EU 5 × 100k, ≤ 2 per country, ≥ 200 km apart": PortfolioProblem(
                    clusters=((100_000, 5),), max_per_country=2, min_distance_km=200.0, **limits
                ),
                "EU 5 × 100k, ≤ 2 per country, least emissions": PortfolioProblem(
                    clusters=((100_000, 5),), max_per_country=2, objective="emissions", **limits
                ),
                "France 1 GW IT, ≤ 5 sites, ≤ 60 months": PortfolioProblem(
                    target_mw_it=1000.0, max_sites=5, countries=("FR",), deadline_months=60.0, **limits
                ),
                "EU 1 GW IT, ≤ 8 sites, ≤ 2 per country, ≥ 150 km apart, least emissions": PortfolioProblem(
                    target_mw_it=1000.0,
                    max_sites=8,
                    max_per_country=2,
                    min_distance_km=150.0,
                    objective="emissions",
                    **limits,
                ),
                "EU 1.5 GW IT, ≤ 8 sites, ≤ 2 per country, ≤ 60 months, least capex": PortfolioProblem(
                    target_mw_it=1500.0,
                    max_sites=8,
                    max_per_country=2,
                    deadline_months=60.0,
                    objective="cost",
                    **limits,
                ),
            }
            first = None
            for label, problem in questions.items():
                t0 = time.perf_counter()
                solution = solve(table, problem)
                total = time.perf_counter() - t0
                s = solution.solver
                if not solution.feasible:
                    print(f"{label}: no portfolio ({solution.explanation.message if solution.explanation else ''})")
                    continue
                first = first or (problem, solution)
                g = solution.greedy
                greedy_text = (
                    f"{g['objective']:,.2f} (optimisation gains {g['gain']:,.2f})" if g["feasible"] else "none found"
                )
                print(
                    f"{label}: {s.status}, gap {100 * (s.mip_gap or 0):.4f} %, MILP {s.solve_s:.2f} s "
                    f"({s.n_variables:,} candidates, {s.n_constraints:,} constraints), all steps {total:.2f} s; "
                    f"objective {solution.totals['objective']:,.2f} [{problem.objective}], greedy {greedy_text}; "
                    f"{solution.totals['it_load_mw']:,.1f} MW IT, {solution.totals['capex_total_meur']:,.0f} M€, "
                    f"{solution.totals['emissions_t_per_yr']:,.0f} tCO2e/yr, {solution.totals['time_to_power_months']:.0f} months"
                )
            if args.draws and first is not None:
                problem, solution = first
                t0 = time.perf_counter()
                rob = portfolio_robustness(inputs, params, solution.chosen, problem, draws=args.draws)
                print(
                    f"robustness of the first portfolio over {args.draws} draws: {time.perf_counter() - t0:.1f} s, "
                    f"meets the target in {100 * rob.p_meets_target:.1f} %"
                )
            raise _Rollback
    except _Rollback:
        pass
