"""Scoring runs through real Celery worker processes: scale-out over draw blocks, and memory.

    python -m bench --only runs [--draws 1000] [--repeats 3] [--spread-workers 4]
                                [--million-sites 1000000] [--million-draws 4] [--million-block 2]
                                [--no-million]

1. **1 vs 2 workers**: the same full-dataset run (every size, ``--draws`` Monte Carlo draws,
   split into sizes × blocks of draws as the layout chooses for them) on one worker process, then on
   two, each process running its kernels on one thread (``GIGASITE_KERNEL_THREADS=1``: one
   core per process, how runs scale out), and on one process with a thread per core (a lone
   worker's default); alternated ``--repeats`` times so that a change of load touches all three;
   min/median/max of each, the speed-up (1-worker time / 2-worker time, per repeat), and each
   worker's busy share (the time its chunks ran over the run's time). Needs the loaded database
   (``./gigasite setup``).
2. **Every worker busy with N worker processes**: the same run on ``--spread-workers`` one-thread
   worker processes (4 on a 2-core machine stand in for several machines: each gets about half
   a core), the layout choosing the block from the workers it sees; the chunks made, what the
   worker laying the run out saw (its log line), and each worker's busy share.
3. **1,000,000 synthetic sites** (``bench_scoring.synthetic``) snapshotted into one run and
   scored through two worker processes, the draws split into blocks of ``--million-block``;
   prints the run's time and each worker's peak resident memory (VmHWM of its processes),
   which must stay bounded: a chunk holds one size and one block of draws, never all draws.

Needs Redis (``REDIS_URL``). Prints, asserts nothing. Runs it creates are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path


def _spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    return (
        f"median {statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"
    )


def _group_peak_mib(pgid: int) -> float:
    """Return the largest peak resident memory (VmHWM) of the processes in group ``pgid``. [MiB]"""
    peak = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024.0)
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return peak


def _wait(run, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_runs")
    parser.add_argument("--draws", type=int, default=1000, help="Monte Carlo draws of the 1-vs-2-worker run")
    parser.add_argument("--repeats", type=int, default=3, help="0: only the million-site run")
    parser.add_argument(
        "--spread-workers", type=int, default=4, help="worker processes of the every-worker-busy run (0: skip)"
    )
    parser.add_argument("--million-sites", type=int, default=1_000_000)
    parser.add_argument("--million-draws", type=int, default=4)
    parser.add_argument("--million-block", type=int, default=2, help="draws per block of the million-site run")
    parser.add_argument("--no-million", action="store_true")
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    import redis
    from django.conf import settings

    from config.celery import KERNEL_THREADS_ENV, app, usable_cores
    from siting.models import RunChunk, ScoringRun, Site
    from siting.runs import selectors as run_selectors
    from siting.runs import services as runs
    from tests.support.worker_process import WorkerProcess

    broker = settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except Exception:
        print(f"bench_runs: no Redis at {broker}; skipped")
        return
    created: list[int] = []
    queues: list[str] = []

    def start_workers(n: int, logs: str, label: str, threads: int | None = None) -> tuple[str, list[WorkerProcess]]:
        queue = f"gigasite-bench-{label}-{uuid.uuid4().hex[:6]}"
        queues.append(queue)
        env = {**os.environ, "GIGASITE_QUEUE": queue, "CELERY_BROKER_URL": broker}
        if threads:
            env[KERNEL_THREADS_ENV] = str(threads)
        workers = [WorkerProcess(f"{label}{i}", env, logs, concurrency=1, queue=queue) for i in range(n)]
        for w in workers:
            w.wait_ready()
        return queue, workers

    def timed_run(
        queue: str,
        params,
        draws: int,
        name: str,
        busy: dict[str, list[float]] | None = None,
        done: list[ScoringRun] | None = None,
    ) -> float:
        app.conf.task_default_queue = queue
        run = runs.scoring_run_start(params=params.to_dict(), draws=draws, name=name)
        created.append(run.id)
        run = _wait(run, 3600)
        if run.status != ScoringRun.Status.SUCCEEDED:
            raise RuntimeError(f"{name}: {run.status} {run.error}")
        # The run's own time, submitted (created) to succeeded, as its row records it: polling
        # every 0.1 s would add up to 0.1 s to each run.
        elapsed = (run.finished_at - run.created_at).total_seconds()
        if busy is not None:
            # Each worker's busy share: the time its chunks ran, over the run's wall time.
            ran: dict[str, float] = {}
            for worker, started, finished in RunChunk.objects.filter(run=run).values_list(
                "worker", "started_at", "finished_at"
            ):
                if started and finished:
                    ran[worker] = ran.get(worker, 0.0) + (finished - started).total_seconds()
            for worker, seconds in ran.items():
                busy.setdefault(worker, []).append(seconds / elapsed)
        if done is not None:
            done.append(run)
        return elapsed

    def busy_lines(label: str, busy: dict[str, list[float]]) -> None:
        for worker, shares in sorted(busy.items()):
            print(f"  {label}: {worker} busy {_spread([100 * s for s in shares], unit='%', digits=0)}")

    everyone: list[WorkerProcess] = []
    try:
        with tempfile.TemporaryDirectory() as logs:
            if args.repeats > 0 and Site.objects.exists():
                params = run_selectors.params_build(preset="default")
                n_sites = Site.objects.filter(withdrawn=False).count()
                block = runs.chunk_block_draws(len(params.sizes), args.draws, workers=2)
                layout = runs.chunk_layout(params.sizes, args.draws, draws_per_block=block)
                print(
                    f"sites: {n_sites:,}  sizes: {len(params.sizes)}  draws: {args.draws}  "
                    f"chunks on 1 or 2 workers: {len(layout)} (blocks of {block} draws)"
                )
                cores = usable_cores()
                q1, w1 = start_workers(1, logs, "one", threads=1)
                q2, w2 = start_workers(2, logs, "two", threads=1)
                qt, wt = start_workers(1, logs, "threaded", threads=cores)
                everyone += w1 + w2 + wt
                # A first run on each warms the numba caches, imports and connection geometry.
                timed_run(q1, params, 20, "bench warm-up 1w")
                timed_run(q2, params, 20, "bench warm-up 2w")
                timed_run(qt, params, 20, "bench warm-up 1w threaded")
                one, two, threaded = [], [], []
                busy: dict[str, list[float]] = {}
                for i in range(args.repeats):
                    one.append(timed_run(q1, params, args.draws, f"bench 1w #{i}"))
                    two.append(timed_run(q2, params, args.draws, f"bench 2w #{i}", busy))
                    threaded.append(timed_run(qt, params, args.draws, f"bench 1w threaded #{i}"))
                    print(
                        f"  repeat {i + 1}: 1 worker {one[-1]:.1f} s, 2 workers {two[-1]:.1f} s, "
                        f"1 worker on {cores} threads {threaded[-1]:.1f} s",
                        flush=True,
                    )
                print(f"{args.draws:,}-draw run, 1 worker process (1 kernel thread):    {_spread(one)}")
                print(f"{args.draws:,}-draw run, 2 worker processes (1 kernel thread each): {_spread(two)}")
                print(f"speed-up on 2 workers (target ≥ 1.8): {_spread([a / b for a, b in zip(one, two)], unit='×')}")
                busy_lines("2 workers", busy)
                print(f"{args.draws:,}-draw run, 1 worker process on {cores} kernel threads: {_spread(threaded)}")
                print(
                    f"2 one-thread workers over 1 worker on {cores} threads: "
                    f"{_spread([a / b for a, b in zip(threaded, two)], unit='×')}"
                )
                for w in w1 + w2 + wt:
                    w.stop()
                if args.spread_workers > 0:
                    _spread_run(args, params, cores, logs, start_workers, timed_run, busy_lines, everyone)
            elif args.repeats > 0:
                print("no sites loaded (./gigasite setup): the 1-vs-2-worker run is skipped")

            if not args.no_million:
                _million(args, start_workers, created, everyone, runs, app)
    finally:
        for w in everyone:
            w.stop()
        for queue in queues:
            redis.Redis.from_url(broker).delete(queue)
        ScoringRun.objects.filter(id__in=created).delete()


def _spread_run(args, params, cores, logs, start_workers, timed_run, busy_lines, everyone) -> None:
    """The same run on ``--spread-workers`` one-thread worker processes, laid out for them."""
    from config.celery import app

    n = args.spread_workers
    queue, workers = start_workers(n, logs, "spread", threads=1)
    everyone += workers
    for w in workers:
        w.wait_consuming(app)  # all of them answer when the layout asks
    timed_run(queue, params, 20, f"bench warm-up {n}w")
    times: list[float] = []
    busy: dict[str, list[float]] = {}
    finished: list = []
    for i in range(args.repeats):
        times.append(timed_run(queue, params, args.draws, f"bench {n}w #{i}", busy, finished))
    chunks = sorted({run.n_chunks for run in finished})
    # What the worker that laid the run out saw (its log line "Run N: scoring: …").
    seen = sorted(
        {
            line[line.index("scoring:") :]
            for run in finished
            for w in workers
            for line in w.log().splitlines()
            if f"Run {run.id}: scoring" in line
        }
    )
    print(
        f"every worker busy with {n} worker processes (1 kernel thread each; {n} processes on this "
        f"{cores}-core machine stand in for several machines): {args.draws:,}-draw run {_spread(times)}, "
        f"chunks made: {', '.join(map(str, chunks))}; the layout: {'; '.join(seen) or 'not logged'}"
    )
    busy_lines(f"{n} workers", busy)
    for w in workers:
        w.stop()


def _million(args, start_workers, created, everyone, runs, app) -> None:
    """Score ``--million-sites`` synthetic sites through two workers; print time and peak memory."""
    from bench.bench_scoring import synthetic
    from siting.models import ScoringRun
    from siting.scoring import ScoringInputs, presets

    sites, grid, zones, hourly = synthetic(args.million_sites)
    params = presets()["default"]
    with tempfile.TemporaryDirectory() as logs:
        queue, workers = start_workers(2, logs, "million")
        everyone += workers
        app.conf.task_default_queue = queue
        base = [_group_peak_mib(w.proc.pid) for w in workers]
        saved = runs.DRAWS_PER_BLOCK
        runs.DRAWS_PER_BLOCK = args.million_block  # the layout is decided here, where the snapshot is taken
        try:
            t0 = time.perf_counter()
            run = runs.scoring_run_start(
                params=params.to_dict(), draws=args.million_draws, name="bench million", dispatch=False
            )
            created.append(run.id)
            runs.scoring_run_execute(run_id=run.id, inputs=ScoringInputs(sites, grid, zones, hourly))
            snapshot_s = time.perf_counter() - t0
            del sites, grid, zones
            run = _wait(ScoringRun.objects.get(id=run.id), 7200)
            total_s = time.perf_counter() - t0
        finally:
            runs.DRAWS_PER_BLOCK = saved
        peaks = [_group_peak_mib(w.proc.pid) for w in workers]
        print(
            f"{args.million_sites:,} synthetic sites × {len(params.sizes)} sizes, {args.million_draws} draws in blocks "
            f"of {args.million_block} ({run.n_chunks} chunks) on 2 workers: {run.status} in {total_s:.0f} s "
            f"(snapshot {snapshot_s:.0f} s)"
        )
        for w, b, p in zip(workers, base, peaks):
            print(f"  worker {w.name}: peak resident memory {p:,.0f} MiB (idle after start {b:,.0f} MiB)")
        if run.status != ScoringRun.Status.SUCCEEDED:
            print(f"  error: {run.error}")
