"""Real workers tell how many pool processes consume the chunks' queue, and a run is laid out for them.

They tell it two ways: the presence records each one keeps in Redis from the moment it is
ready until it shuts down (read first), and the remote-control broadcast (the fallback).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid

import pytest

from config.celery import app, presence_key
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


@pytest.fixture
def no_presence(monkeypatch):
    """The presence records are not read: the workers are asked by broadcast."""
    monkeypatch.setattr(queue, "presence_pool_processes", lambda queue_name, timeout_s: None)


@pytest.fixture
def no_broadcast(monkeypatch):
    """Asking the workers by broadcast fails the test: the count must come from their presence."""

    def never(queue_name, *, timeout_s):
        raise AssertionError(f"asked the workers of {queue_name} by broadcast")

    monkeypatch.setattr(queue, "broadcast_pool_processes", never)


def presence_of(worker: WorkerProcess, queue_name: str) -> bytes | None:
    """Return the presence record ``worker`` keeps for ``queue_name``, None when it has none."""
    import redis

    key = presence_key(queue_name, f"{worker.name}@{socket.gethostname()}")
    with redis.Redis.from_url(app.conf.broker_url) as client:
        return client.get(key)


def wait_announced(worker: WorkerProcess, queue_name: str, timeout_s: float = 30.0) -> None:
    """Block until ``worker`` has written its presence record (its thread writes it just after "ready.")."""
    deadline = time.monotonic() + timeout_s
    while presence_of(worker, queue_name) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"worker {worker.name} never announced itself:\n{worker.log()[-3000:]}")
        time.sleep(0.05)


class WorkerCountTests:
    def test_asked_by_broadcast_it_counts_the_pool_processes_of_the_workers_on_the_chunks_queue_only(
        self, no_presence, start_worker, redis_url, tmp_path, test_queue
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
            assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 2
        finally:
            other.stop()

    def test_workers_announce_themselves_on_their_queues_until_they_stop(
        self, no_broadcast, start_worker, redis_url, tmp_path, test_queue
    ):
        # A worker of another deployment on the same Redis (its own queue) is not counted.
        other_queue = f"gigasite-other-{uuid.uuid4().hex[:6]}"
        env = {**os.environ, "CELERY_BROKER_URL": redis_url, "GIGASITE_QUEUE": other_queue}
        other = WorkerProcess("other", env, tmp_path, concurrency=3, queue=other_queue)
        try:
            pair = start_worker("pair", concurrency=2)
            solo = start_worker("solo", concurrency=1)
            other.wait_ready()
            for worker, its_queue in ((pair, test_queue), (solo, test_queue), (other, other_queue)):
                wait_announced(worker, its_queue)
            assert presence_of(pair, test_queue) == b"2"
            assert presence_of(other, test_queue) is None
            # Counted from the records alone: the broadcast (``no_broadcast``) would fail the test.
            assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 3
            solo.stop()
            assert solo.proc.returncode == 0
            assert presence_of(solo, test_queue) is None  # deleted as it shut down, not left to expire
            assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 2
            pair.stop()
            assert presence_of(pair, test_queue) is None
            assert queue.presence_pool_processes(test_queue) is None  # a run would now ask by broadcast
            assert presence_of(other, other_queue) == b"3"
            for worker in (pair, solo):
                assert "presence not" not in worker.log(), worker.log()[-3000:]
        finally:
            other.stop()
        assert presence_of(other, other_queue) is None

    def test_an_autoscaled_worker_counts_its_maximum_both_ways(self, start_worker, test_queue, monkeypatch):
        # tests/support/worker_process.py starts ``--concurrency=N``: this one ``--autoscale=3,1``.
        popen = subprocess.Popen

        def autoscaled(args, **kwargs):
            return popen([("--autoscale=3,1" if a.startswith("--concurrency=") else a) for a in args], **kwargs)

        with monkeypatch.context() as patched:
            patched.setattr(subprocess, "Popen", autoscaled)
            worker = start_worker("elastic")
        assert "--autoscale=3,1" in worker.proc.args
        wait_announced(worker, test_queue)
        worker.wait_consuming(app)
        # The pool starts with 1 process (stats' ``max-concurrency``) and grows to 3 for queued chunks.
        assert queue.presence_pool_processes(test_queue) == 3
        assert queue.broadcast_pool_processes(test_queue) == 3

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
