"""Time to produce a 10-site PDF comparison (target: under 5 s on this machine).

    python -m bench --only reports [--size 10000] [--sites 10] [--repeat 3] [--lang en]

Uses the latest succeeded run of the loaded database when it has the size; otherwise scores
the loaded sites first, or a generated world (tests/support/world.py) when none is loaded. Everything the bench writes happens
in one transaction that is rolled back, so the database is left as it was. Prints the cold
time (first document of the process: fonts, imports), the warm time (min/median/max of
``--repeat``, and its ratio to the cold one), the CPU time of the same documents (this
process only: steadier than wall time when others load the machine), pages per second, and the time to serve the same request from the cache. Asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time


class _Rollback(Exception):
    """Raised to leave the bench's transaction without keeping anything."""


def _run_for(size_h100e: int):
    from siting.models import RunResult, ScoringRun

    sized = RunResult.objects.filter(size_h100e=size_h100e, n_feasible__gte=10).values_list("run_id", flat=True)
    return ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED, id__in=sized).order_by("-finished_at").first()


def _scored_run(size_h100e: int):
    """Score a run with ``size_h100e``: of the loaded sites, or of a generated world when none is loaded."""
    from siting.models import Site
    from siting.runs import services as runs
    from siting.scoring.params import presets
    from tests.support.world import world_create

    if not Site.objects.exists():
        world_create(n_sites=2000, n_points=1500, seed=1)
    params = dataclasses.replace(presets()["default"], sizes=tuple(sorted({1000, size_h100e, 100_000})))
    run = runs.scoring_run_start(params=params.to_dict(), draws=100, name="bench reports", dispatch=False)
    return runs.scoring_run_execute_inline(run_id=run.id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_reports")
    parser.add_argument("--size", type=int, default=10_000, help="cluster size [H100e]")
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", choices=["en", "fr"], default="en")
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import transaction

    from siting.models import Site
    from siting.reports import document as reports
    from siting.reports import services as comparisons

    try:
        with transaction.atomic():
            run = _run_for(args.size)
            label = "loaded dataset"
            if run is None:
                label = "loaded dataset" if Site.objects.exists() else "generated world"
                print(f"no succeeded run with {args.size:,} H100e in the database; scoring the {label} first")
                run = _scored_run(args.size)
            candidates = comparisons.comparison_candidates(run=run, size_h100e=args.size, limit=args.sites)
            ids = [int(i) for i in candidates["site_id"]]
            print(
                f"{label}: run {run.id} ({run.scenario_name}, {run.n_sites:,} sites, {run.draws} draws), "
                f"{len(ids)} sites at {args.size:,} H100e, {Site.objects.count():,} sites in the database"
            )

            def render():
                return reports.comparison_pdf(
                    run=run, size_h100e=args.size, site_ids=ids, language=args.lang, author="bench"
                )

            def timed():
                t0, c0 = time.perf_counter(), time.process_time()
                rendered = render()
                return rendered, time.perf_counter() - t0, time.process_time() - c0

            first, cold, cold_cpu = timed()
            runs = [timed() for _ in range(max(args.repeat, 1))]
            warm, warm_cpu = [r[1] for r in runs], [r[2] for r in runs]
            median = statistics.median(warm)
            print(
                f"  cold (first document of the process)  {cold:6.2f} s   {first.n_pages} pages, {len(first.pdf):,} bytes"
                f"   CPU {cold_cpu:.2f} s   (target ≤ 5 s)"
            )
            print(
                f"  warm, min / median / max of {len(warm)}      {min(warm):6.2f} / {median:6.2f} / {max(warm):6.2f} s   "
                f"{first.n_pages / median:5.1f} pages/s   ×{median / cold:.2f} the cold document   (target ≤ 3 s)"
            )
            print(
                f"  warm CPU, min / median / max          {min(warm_cpu):6.2f} / {statistics.median(warm_cpu):6.2f} / "
                f"{max(warm_cpu):6.2f} s   ×{statistics.median(warm_cpu) / cold_cpu:.2f} the cold document's CPU"
            )
            comparisons.comparison_produce(
                run=run, size_h100e=args.size, site_ids=ids, language=args.lang, author="bench"
            )
            t0 = time.perf_counter()
            _report, cached = comparisons.comparison_produce(
                run=run, size_h100e=args.size, site_ids=ids, language=args.lang, author="bench"
            )
            print(f"  same request again (cache hit={cached})  {time.perf_counter() - t0:6.3f} s")
            raise _Rollback
    except _Rollback:
        pass


if __name__ == "__main__":
    main()
