"""Scoring runs through real Celery workers and the real Redis broker (no eager mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from siting.models import RunChunk, RunResult, ScoringRun
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.tasks import scoring_chunk_execute_task, scoring_run_execute_task
from tests.support.world import world_create

from .conftest import database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZES = "1000,10000,50000,100000"
COMPARED = [
    "site_id",
    "size_h100e",
    "feasible",
    "score",
    "rank",
    "tco_eur_per_gpu_hour",
    "capex_total_meur",
    "time_to_power_months",
    "emissions_t_per_yr",
]


def _params(draws_seed: int = 7):
    return run_selectors.params_build(preset="default", sizes=SIZES, seed=draws_seed)


def _wait(run: ScoringRun, timeout_s: float = 180.0, until=lambda r: r.is_finished) -> ScoringRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if until(run):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.code} still {run.status} ({run.progress_pct:.0f} %) after {timeout_s} s")


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in COMPARED if c in table.columns] + [c for c in table.columns if c.startswith("mc_")]
    return table[cols].sort_values(["size_h100e", "site_id"]).reset_index(drop=True)


class RunThroughWorkersTests:
    def test_it_spreads_a_run_over_two_workers_and_equals_in_process_scoring(self, start_worker):
        from config.celery import app

        world_create()
        for worker in (start_worker("w1"), start_worker("w2")):
            worker.wait_consuming(app)
        params = _params()
        run = runs.scoring_run_start(params=params.to_dict(), draws=50, name="e2e")
        run = _wait(run)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        workers = {c.worker.split(":")[0] for c in run.chunks.all()}
        chunk_workers = set(RunChunk.objects.filter(run=run).values_list("worker", flat=True))
        assert len(chunk_workers) >= 2, f"all chunks ran in one process: {chunk_workers}"
        assert workers  # host names recorded
        expected = run_selectors.score_loaded_sites(params=params, draws=50).table
        pd.testing.assert_frame_equal(
            _comparable(run_selectors.run_table(run)), _comparable(expected), check_dtype=False
        )
        assert RunResult.objects.filter(run=run).count() == 4

    def test_it_scores_once_when_messages_are_delivered_twice(self, start_worker):
        world_create(n_sites=100, n_points=100)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=0, name="dup")
        scoring_run_execute_task.apply_async((run.id,))  # a second copy of the start message
        start_worker("w1")
        run = _wait(run)
        assert run.status == ScoringRun.Status.SUCCEEDED
        for chunk in run.chunks.all():
            scoring_chunk_execute_task.apply_async((chunk.id,))  # redelivered chunk messages
        time.sleep(3)
        run.refresh_from_db()
        assert run.attempts == 1
        assert list(run.chunks.values_list("attempts", flat=True)) == [1, 1, 1, 1]
        assert RunResult.objects.filter(run=run).count() == 4

    def test_it_recovers_a_run_whose_worker_was_killed(self, start_worker):
        world_create(n_sites=3000, n_points=1500)
        params = _params()
        # One block per size (the worker lays the run out): chunks long enough to be killed in.
        worker = start_worker("doomed", extra_env={"GIGASITE_DRAWS_PER_BLOCK": "400"})
        run = runs.scoring_run_start(params=params.to_dict(), draws=400, name="crash")
        _wait(run, until=lambda r: r.chunks.filter(status=RunChunk.Status.RUNNING).exists())
        worker.kill()
        time.sleep(5)  # longer than the stale heartbeat age given to the workers (4 s)
        counts = runs.scoring_runs_sweep(stale_after_s=4)
        assert counts["chunks_requeued"] >= 1
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.RUNNING  # never succeeded with a size missing
        start_worker("rescuer")
        run = _wait(run, timeout_s=300)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert max(run.chunks.values_list("attempts", flat=True)) >= 2
        expected = run_selectors.score_loaded_sites(params=params, draws=400).table
        pd.testing.assert_frame_equal(
            _comparable(run_selectors.run_table(run)), _comparable(expected), check_dtype=False
        )

    def test_it_cancels_a_running_run(self, start_worker):
        world_create(n_sites=3000, n_points=1500)
        # One block per size (the worker lays the run out): no chunk finishes between the run
        # starting and its cancellation.
        start_worker("w1", extra_env={"GIGASITE_DRAWS_PER_BLOCK": "400"})
        run = runs.scoring_run_start(params=_params().to_dict(), draws=400, name="cancel me")
        _wait(run, until=lambda r: r.status == ScoringRun.Status.RUNNING)
        assert runs.scoring_run_cancel(run=run)
        time.sleep(2)
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.CANCELLED
        # Whatever was computing finishes and is thrown away: nothing partial is kept.
        deadline = time.monotonic() + 120
        while RunChunk.objects.filter(run=run, status=RunChunk.Status.RUNNING).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not RunResult.objects.filter(run=run).exists()
        assert not RunChunk.objects.filter(run=run, status=RunChunk.Status.DONE).exists()


class BrokerDownTests:
    def test_it_keeps_a_run_submitted_while_the_broker_is_down_and_starts_it_later(self, start_worker, test_queue):
        world_create(n_sites=50, n_points=50)
        # Submit from the command line, as a user would, with the broker unreachable.
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
            "GIGASITE_QUEUE": test_queue,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "manage.py", "score", "--async", "--sizes", SIZES],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "job queue is unreachable" in proc.stdout
        assert time.monotonic() - started < 60
        run = ScoringRun.objects.get()
        assert run.status == ScoringRun.Status.QUEUED and run.dispatched_at is None
        assert "waiting for the job queue" in run.stage
        # The broker is back: the sweep publishes the run and a worker scores it.
        start_worker("w1")
        ScoringRun.objects.filter(id=run.id).update(created_at=run.created_at - pd.Timedelta(seconds=60))
        counts = runs.scoring_runs_sweep()
        assert counts["runs_dispatched"] == 1
        run = _wait(run)
        assert run.status == ScoringRun.Status.SUCCEEDED
        assert RunResult.objects.filter(run=run).count() == 4
