"""Real workers tell how many pool processes consume the chunks' queue, and a run is laid out for them."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from config.celery import app
from siting import queue
from siting.models import ScoringRun
from siting.runs import services as runs
from siting.scoring.params import ScenarioParams
from tests.support.worker_process import WorkerProcess
from tests.support.world import world_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def block_not_set(monkeypatch):
    """The workers choose the block (the test run's environment may set one)."""
    monkeypatch.delenv("GIGASITE_DRAWS_PER_BLOCK", raising=False)


class WorkerCountTests:
    def test_it_counts_the_pool_processes_of_the_workers_on_the_chunks_queue_only(
        self, start_worker, redis_url, tmp_path, test_queue
    ):
        assert queue.task_queue_name(queue.SCORING_CHUNK_EXECUTE) == test_queue
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None  # no worker yet
        # A worker of another deployment on the same Redis (its own queue) is not counted.
        other_queue = f"gigasite-other-{uuid.uuid4().hex[:6]}"
        env = {**os.environ, "CELERY_BROKER_URL": redis_url, "GIGASITE_QUEUE": other_queue}
        other = WorkerProcess("other", env, tmp_path, concurrency=3, queue=other_queue)
        try:
            other.wait_ready()
            other.wait_consuming(app)
            assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None
            start_worker("pair", concurrency=2).wait_consuming(app)
            t0 = time.monotonic()
            assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 2
            assert time.monotonic() - t0 < 1.5
        finally:
            other.stop()

    def test_a_run_is_laid_out_for_the_workers_that_will_score_it(self, block_not_set, start_worker):
        # ``block_not_set`` first: ``start_worker`` copies the environment when it is set up.
        world_create(n_sites=60, n_points=60, seed=5)
        worker = start_worker("trio", concurrency=3)
        worker.wait_consuming(app)
        params = ScenarioParams(sizes=(1000, 10000, 50000, 100000))
        run = runs.scoring_run_start(params=params.to_dict(), draws=240, name="layout")
        deadline = time.monotonic() + 180
        while not run.is_finished and time.monotonic() < deadline:
            time.sleep(0.2)
            run.refresh_from_db()
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        # 3 processes × 4 chunks over 4 sizes: 3 blocks of 80 draws each (unknown workers: 2 of 125).
        assert run.n_chunks == 12
        assert sorted(set(run.chunks.values_list("draw_start", "draw_stop"))) == [(0, 80), (80, 160), (160, 240)]
        assert f"Run {run.id}: scoring: 12 chunks of ≤ 80 draws for 3 worker processes" in worker.log()
