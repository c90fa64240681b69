"""Score every loaded site for every cluster size: in-process, or as a Celery run."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from siting import csv_safe
from siting.models import ScoringRun
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.scoring.params import DEFAULT_MC_DRAWS


class Command(BaseCommand):
    help = (
        "Score the loaded sites. Prints the top 10 per size; --out writes the full table "
        "(CSV or JSON). --async queues a Celery run instead; --wait follows its progress."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--preset", choices=["default", "seed"], default="default")
        parser.add_argument("--sizes", help="Comma-separated cluster sizes in H100e, e.g. 1000,10000,100000.")
        parser.add_argument(
            "--draws",
            type=int,
            default=DEFAULT_MC_DRAWS,
            help=f"Monte Carlo draws (default {DEFAULT_MC_DRAWS:,}; 0 = none).",
        )
        parser.add_argument("--seed", type=int, help="Monte Carlo seed.")
        parser.add_argument("--out", help="Write the full result table to FILE.csv or FILE.json.")
        parser.add_argument("--async", dest="run_async", action="store_true", help="Queue a Celery run.")
        parser.add_argument("--wait", action="store_true", help="With --async: follow the run until it ends.")
        parser.add_argument(
            "--save", action="store_true", help="Score in this process and save it as a run (shown on the ranked map)."
        )
        parser.add_argument("--name", default="", help="Name of the saved run (with --save or --async).")
        parser.add_argument(
            "--if-none", action="store_true", help="With --save: do nothing if a succeeded run exists already."
        )

    def handle(self, *args, **opts) -> None:
        try:
            params = run_selectors.params_build(preset=opts["preset"], sizes=opts["sizes"], seed=opts["seed"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if opts["draws"] < 0:
            raise CommandError("--draws must be 0 or more.")
        if opts["run_async"]:
            self._run_async(params, opts)
            return
        if opts["save"]:
            self._run_inline(params, opts)
            return
        if opts["wait"]:
            raise CommandError("--wait goes with --async.")
        started = time.perf_counter()
        result = run_selectors.score_loaded_sites(params=params, draws=opts["draws"])
        elapsed = time.perf_counter() - started
        table = run_selectors.table_with_site_names(result.table)
        self.stdout.write(f"Scored {table['site_id'].nunique():,} sites × {len(params.sizes)} sizes in {elapsed:.2f} s")
        self._print_top(table)
        if opts["out"]:
            self._write(table, Path(opts["out"]))

    def _print_top(self, table, n: int = 10) -> None:
        for size, group in table.groupby("size_h100e", sort=True):
            feasible = group[group["feasible"].astype(bool)].sort_values(["rank", "site_id"]).head(n)
            self.stdout.write("")
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"{int(size):,} H100e: {int(group['feasible'].sum()):,} feasible of {len(group):,}"
                )
            )
            mc = "mc_rank_p05" in group.columns
            self.stdout.write(
                f"{'rank':>5} {'score':>6} {'site €/GPU-h':>12} {'capex M€':>9} {'months':>6} {'tCO2/yr':>9} "
                f"{'connection':>18}" + (f" {'90% rank':>13}" if mc else "") + "  site"
            )
            for row in feasible.itertuples():
                rank = f"{'=' if row.rank_shared else ''}{int(row.rank)}"
                conn = f"{row.connection_kind} {row.connection_voltage_kv:.0f} kV"
                interval = f" {row.mc_rank_p05:>6.0f}–{row.mc_rank_p95:<6.0f}" if mc else ""
                self.stdout.write(
                    f"{rank:>5} {row.score:>6.2f} {row.site_cost_eur_per_gpu_hour:>12.3f} {row.capex_total_meur:>9.0f} "
                    f"{row.time_to_power_months:>6.0f} {row.emissions_t_per_yr:>9.0f} {conn:>18}{interval}  "
                    f"{row.site_name} ({row.country})"
                )

    def _write(self, table, path: Path) -> None:
        if path.suffix.lower() == ".csv":
            csv_safe.frame_csv(table, path)
        elif path.suffix.lower() == ".json":
            path.write_text(table.to_json(orient="records", force_ascii=False))
        else:
            raise CommandError(f"--out {path}: use a .csv or .json file name.")
        self.stdout.write(f"Wrote {len(table):,} rows to {path}")

    def _run_inline(self, params, opts) -> None:
        if opts["if_none"] and ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).exists():
            self.stdout.write("A finished run exists already: nothing to do.")
            return
        name = opts["name"] or f"CLI {opts['preset']}"
        run = runs.scoring_run_start(params=params.to_dict(), draws=opts["draws"], name=name, dispatch=False)
        started = time.perf_counter()
        run = runs.scoring_run_execute_inline(run_id=run.id)
        if run.status != ScoringRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.code} {run.status}: {run.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.code} ({name}) saved: {run.n_sites:,} sites × {run.results.count()} sizes, "
                f"{run.draws} draws ({run.n_chunks} chunks), in {time.perf_counter() - started:.1f} s"
            )
        )

    def _run_async(self, params, opts) -> None:
        run = runs.scoring_run_start(
            params=params.to_dict(), draws=opts["draws"], name=opts["name"] or f"CLI {opts['preset']}"
        )
        if run.dispatched_at is None:
            self.stdout.write(
                self.style.WARNING(
                    f"Run {run.code} is saved, but the job queue is unreachable: it starts when the broker is back "
                    "(the periodic sweep publishes it)."
                )
            )
        else:
            self.stdout.write(f"Run {run.code} queued.")
        if not opts["wait"]:
            return
        last = None
        while True:
            run.refresh_from_db()
            state = (run.status, round(run.progress_pct), run.stage)
            if state != last:
                bar = "#" * int(run.progress_pct / 5)
                self.stdout.write(f"\r[{bar:<20}] {run.progress_pct:5.1f}% {run.status} {run.stage}", ending="")
                self.stdout.flush()
                last = state
            if run.is_finished:
                break
            time.sleep(0.5)
        self.stdout.write("")
        if run.status != ScoringRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.code} {run.status}: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"Run {run.code} succeeded in {run.duration_s:.1f} s"))
        if opts["out"]:
            table = run_selectors.table_with_site_names(run_selectors.run_table(run))
            self._write(table, Path(opts["out"]))
        sys.stdout.flush()
