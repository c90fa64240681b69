"""End-to-end time of a full-dataset scoring run through Celery with 1 and 2 workers.

Needs the loaded database (``./gigasite setup``; ``DATABASE_URL`` picks PostgreSQL) and Redis
(``REDIS_URL``). Prints the in-process scoring time, the run time with 1 and 2 worker
processes, and the overhead of going through the broker and the database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_runs")
    parser.add_argument("--draws", type=int, default=200, help="Monte Carlo draws per run")
    args, _ = parser.parse_known_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    import redis
    from django.conf import settings

    from config.celery import app
    from siting import runs, scoring_service
    from siting.models import ScoringRun, Site
    from tests.support.worker_process import WorkerProcess

    if not Site.objects.exists():
        print("bench_runs: no sites loaded; run ./gigasite setup first")
        return
    broker = settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except Exception:
        print(f"bench_runs: no Redis at {broker}; skipped")
        return

    params = scoring_service.params_build(preset="default")
    scoring_service.score_loaded_sites(params=params, draws=2)  # compile and warm caches
    t0 = time.perf_counter()
    scoring_service.score_loaded_sites(params=params, draws=args.draws)
    in_process_s = time.perf_counter() - t0
    n_sites = Site.objects.filter(withdrawn=False).count()
    print(f"sites: {n_sites:,}  sizes: {len(params.sizes)}  draws: {args.draws}")
    print(f"in-process scoring:            {in_process_s:8.2f} s")

    queue = f"gigasite-bench-{uuid.uuid4().hex[:6]}"
    app.conf.task_default_queue = queue
    env = {**os.environ, "GIGASITE_QUEUE": queue, "CELERY_BROKER_URL": broker}
    for n_workers in (1, 2):
        with tempfile.TemporaryDirectory() as logs:
            workers = [WorkerProcess(f"bench{i}", env, logs, concurrency=1, queue=queue) for i in range(n_workers)]
            try:
                for w in workers:
                    w.wait_ready()
                # A first run warms each worker's numba cache and imports.
                for label in ("warm-up", "measured"):
                    t0 = time.perf_counter()
                    run = runs.scoring_run_start(params=params.to_dict(), draws=args.draws, name=f"bench {n_workers}w {label}")
                    while not run.is_finished:
                        time.sleep(0.1)
                        run.refresh_from_db()
                    elapsed = time.perf_counter() - t0
                if run.status != ScoringRun.Status.SUCCEEDED:
                    print(f"run with {n_workers} worker(s) {run.status}: {run.error}")
                    continue
                print(f"run via Celery, {n_workers} worker(s):  {elapsed:8.2f} s  "
                      f"(overhead vs in-process ×{elapsed / in_process_s:.2f})")
            finally:
                for w in workers:
                    w.stop()
                redis.Redis.from_url(broker).delete(queue)
