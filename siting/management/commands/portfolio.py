"""Choose a set of sites on a finished run: a target, a deadline, constraints and an objective."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from siting.models import Portfolio, ScoringRun
from siting.portfolio import services
from siting.portfolio.problem import OBJECTIVES, PortfolioProblem, ProblemError, parse_clusters, parse_sizes
from siting.portfolio.report import portfolio_pdf
from siting.reports import document as reports


class Command(BaseCommand):
    help = (
        "Solve a portfolio on a finished run and print it: e.g. --clusters 5x100000 --max-per-country 2, or "
        "--target-mw 1000 --max-sites 5 --countries FR --deadline-months 60. The run is --run ID or code "
        "(default: the latest succeeded run). --pdf FILE also writes the officials' comparison that starts from it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--run", default="latest", help="The run: its number, its code (UUID) or 'latest'.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--target-mw", type=float, help="Total IT load to reach [MW].")
        target.add_argument("--clusters", help="COUNTxSIZE[,COUNTxSIZE…], e.g. 5x100000.")
        parser.add_argument("--sizes", help="Sizes a site may take for an MW target [H100e], e.g. 160000,200000.")
        parser.add_argument("--max-sites", type=int)
        parser.add_argument("--deadline-months", type=float, help="Every site powered within this many months.")
        parser.add_argument("--countries", help="ISO2 codes, comma-separated (default: all the run scored).")
        parser.add_argument("--max-per-country", type=int)
        parser.add_argument("--max-per-region", type=int)
        parser.add_argument("--min-distance-km", type=float, default=0.0)
        parser.add_argument("--no-shared-headroom", action="store_true", help="Ignore that sites share a grid point.")
        parser.add_argument("--include", default="", help="Site ids forced in, comma-separated.")
        parser.add_argument("--exclude", default="", help="Site ids forced out, comma-separated.")
        parser.add_argument("--objective", choices=list(OBJECTIVES), default="score")
        parser.add_argument("--draws", type=int, help="Monte Carlo draws for the robustness (default: the run's).")
        parser.add_argument("--time-limit-s", type=float, default=60.0)
        parser.add_argument("--name", default="")
        parser.add_argument("--pdf", help="Also write the officials' PDF comparison that starts from the portfolio.")
        parser.add_argument("--lang", choices=reports.LANGUAGES, default="en")
        parser.add_argument("--author", default="")
        parser.add_argument("--json", action="store_true", help="Print the stored result as JSON.")

    def handle(self, *args, **opts) -> None:
        run = self._run(opts["run"])

        def ids(text: str, flag: str) -> tuple[int, ...]:
            try:
                return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
            except ValueError:
                raise CommandError(f"{flag} {text!r}: site ids separated by commas.") from None

        try:
            problem = PortfolioProblem.from_dict(
                {
                    "target_mw_it": opts["target_mw"],
                    "clusters": parse_clusters(opts["clusters"] or ""),
                    "sizes_h100e": parse_sizes(opts["sizes"] or ""),
                    "max_sites": opts["max_sites"],
                    "deadline_months": opts["deadline_months"],
                    "countries": [c for c in (opts["countries"] or "").split(",") if c.strip()],
                    "max_per_country": opts["max_per_country"],
                    "max_per_region": opts["max_per_region"],
                    "min_distance_km": opts["min_distance_km"],
                    "share_headroom": not opts["no_shared_headroom"],
                    "include": ids(opts["include"], "--include"),
                    "exclude": ids(opts["exclude"], "--exclude"),
                    "objective": opts["objective"],
                    "robustness_draws": opts["draws"],
                    "time_limit_s": opts["time_limit_s"],
                }
            )
            started = time.perf_counter()
            portfolio = services.portfolio_produce(run=run, problem=problem, name=opts["name"])
        except ProblemError as exc:
            raise CommandError(str(exc)) from exc
        if portfolio.status != Portfolio.Status.SUCCEEDED:
            raise CommandError(f"Portfolio {portfolio.code} failed: {portfolio.error}")
        elapsed = time.perf_counter() - started
        result = portfolio.result
        if opts["json"]:
            self.stdout.write(json.dumps({"code": str(portfolio.code), **result}, indent=1, default=str))
        else:
            self._print(portfolio, result, elapsed)
        if opts["pdf"] and result["feasible"]:
            try:
                rendered = portfolio_pdf(portfolio=portfolio, language=opts["lang"], author=opts["author"])
            except reports.ComparisonError as exc:
                raise CommandError(str(exc)) from exc
            out = Path(opts["pdf"])
            try:
                out.write_bytes(rendered.pdf)
            except OSError as exc:
                raise CommandError(f"--pdf {out}: {exc.strerror}") from exc
            self.stdout.write(f"Wrote {out} ({rendered.n_pages} pages, {len(rendered.pdf):,} bytes)")

    def _print(self, portfolio: Portfolio, result: dict, elapsed: float) -> None:
        w = self.stdout.write
        w(
            f"Portfolio {portfolio.code} on run {portfolio.run.id} ({portfolio.run.scenario_name}): {result['description']}"
        )
        if not result["feasible"]:
            e = result["explanation"] or {}
            w(f"No portfolio meets the target. {e.get('message', '')}")
            for fact in e.get("facts", []):
                w(f"  - {fact}")
            return
        s, t, g = result["solver"], result["totals"], result["greedy"]
        w(
            f"Solver: {s['solver']}, status {s['status']}, gap {s['mip_gap']}, {s['n_variables']:,} candidates, "
            f"{s['n_constraints']:,} constraints, {s['solve_s']:.2f} s (all steps {elapsed:.1f} s)"
        )
        w(
            f"{'site':>6}  {'name':<40} {'cc':<3}{'H100e':>8} {'MW IT':>7} {'score':>6} {'capex M€':>9} {'EUR/GPUh':>8} "
            f"{'tCO2e/yr':>9} {'months':>6}  grid point"
        )
        for c in result["chosen"]:
            w(
                f"{c['site_id']:>6}  {c['site_name'][:40]:<40} {c.get('country', ''):<3}{c['size_h100e']:>8,} "
                f"{c['it_load_mw']:>7.1f} {c['score']:>6.1f} {c['capex_total_meur']:>9,.0f} {c['tco_eur_per_gpu_hour']:>8.2f} "
                f"{c['emissions_t_per_yr']:>9,.0f} {c['time_to_power_months']:>6.0f}  {c.get('resource') or 'own'}"
            )
        w(
            f"Totals: {t['n_sites']} sites, {t['it_load_mw']:,.1f} MW IT, {t['capex_total_meur']:,.0f} M€, "
            f"{t['tco_eur_per_gpu_hour']:.2f} EUR/GPU-h, {t['emissions_t_per_yr']:,.0f} tCO2e/yr, all powered in "
            f"{t['time_to_power_months']:.0f} months; objective {t['objective']:,.2f}"
        )
        if g.get("feasible"):
            w(f"Greedy baseline: objective {g['objective']:,.2f} (the optimisation gains {g.get('gain', 0):,.2f})")
        else:
            w("Greedy baseline: finds no portfolio that meets the target")
        for p in result["shared_points"]:
            if p["shared"]:
                w(
                    f"Shared {p['resource']}: sites {p['site_ids']}, {p['facility_load_mw']:,.0f} MW of {p['headroom_mw']:,.0f} MW headroom"
                )
        rob = result.get("robustness")
        if rob:
            w(
                f"Robustness: meets the target by the deadline in {100 * rob['p_meets_target']:.1f} % of {rob['draws']} draws"
            )
            for r in rob["responsible"][:5]:
                w(
                    f"  responsible in {100 * r['share_of_failures']:.0f} % of failing draws: {r['site_name']} (#{r['site_id']})"
                )
        for site, alt in result["alternatives"].items():
            if alt:
                w(
                    f"Next best for #{site}: {alt['site_name']} (#{alt['site_id']}, {alt['country']}, {alt['size_h100e']:,} H100e)"
                )

    def _run(self, ref: str) -> ScoringRun:
        ref = ref.strip()
        if ref == "latest":
            run = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-finished_at").first()
        elif ref.isdigit():
            run = ScoringRun.objects.filter(id=int(ref)).first()
        else:
            try:
                run = ScoringRun.objects.filter(code=ref).first()
            except Exception:  # not a UUID: Django raises ValidationError
                run = None
        if run is None:
            raise CommandError(f"--run {ref}: no such run.")
        return run
