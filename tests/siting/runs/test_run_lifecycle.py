"""The run lifecycle without a broker or a worker: claims, the sweep's recovery, and cancel.

Each step is a service call in this process (``publish=False`` where a message would go to
the broker); where the sweep publishes, the task's publish call is patched, as in the view
tests. The integration tests run the same lifecycle with real workers and Redis.
"""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.utils import timezone

from siting.models import RunChunk, RunResult, ScoringRun
from siting.runs import services as runs
from siting.scoring.params import ScenarioParams
from tests.support.world import world_create

pytestmark = pytest.mark.django_db

SIZES = (1000, 10000)


class WorkerKilled(BaseException):
    """Stands for a killed worker: no handler in the service catches it, so the chunk stays claimed."""


@pytest.fixture
def queued_run(planner):
    world_create(n_sites=30, n_points=30, seed=1)
    params = ScenarioParams(sizes=SIZES)
    return runs.scoring_run_start(params=params.to_dict(), draws=0, name="lifecycle", user=planner, dispatch=False)


@pytest.fixture
def prepared_run(queued_run):
    """A run claimed and split into chunks, none of them published."""
    runs.scoring_run_execute(run_id=queued_run.id, publish=False)
    return ScoringRun.objects.get(id=queued_run.id)


def _first_chunk(run: ScoringRun) -> RunChunk:
    return RunChunk.objects.filter(run=run).order_by("index").first()


def _lose(chunk: RunChunk, monkeypatch) -> None:
    """Claim ``chunk`` through the service, then die mid-scoring and let its heartbeat go stale."""

    def killed(**kwargs):
        raise WorkerKilled

    with monkeypatch.context() as m:
        m.setattr(runs, "score_chunk", killed)
        with pytest.raises(WorkerKilled):
            runs.scoring_chunk_execute(chunk_id=chunk.id)
    stale = timezone.now() - timedelta(seconds=runs.STALE_AFTER_S + 60)
    RunChunk.objects.filter(id=chunk.id).update(heartbeat_at=stale)


class RunClaimTests:
    def test_it_claims_a_queued_run_once(self, queued_run):
        runs.scoring_run_execute(run_id=queued_run.id, publish=False)
        chunk_ids = list(RunChunk.objects.filter(run=queued_run).values_list("id", flat=True))
        runs.scoring_run_execute(run_id=queued_run.id, publish=False)  # a redelivered start message
        run = ScoringRun.objects.get(id=queued_run.id)
        assert run.status == ScoringRun.Status.RUNNING and run.attempts == 1
        assert list(RunChunk.objects.filter(run=run).values_list("id", flat=True)) == chunk_ids  # no new snapshot

    def test_it_claims_a_chunk_once(self, prepared_run):
        chunk = _first_chunk(prepared_run)
        runs.scoring_chunk_execute(chunk_id=chunk.id)
        stored = RunResult.objects.get(run=prepared_run, size_h100e=chunk.size_h100e)
        runs.scoring_chunk_execute(chunk_id=chunk.id)  # a redelivered chunk message
        chunk.refresh_from_db()
        assert chunk.status == RunChunk.Status.DONE and chunk.attempts == 1
        assert list(RunResult.objects.filter(run=prepared_run, size_h100e=chunk.size_h100e)) == [stored]

    def test_it_succeeds_once_every_chunk_is_done(self, prepared_run):
        for chunk in RunChunk.objects.filter(run=prepared_run).order_by("index"):
            runs.scoring_chunk_execute(chunk_id=chunk.id)
        run = ScoringRun.objects.get(id=prepared_run.id)
        assert run.status == ScoringRun.Status.SUCCEEDED and run.progress_pct == 100.0
        assert sorted(RunResult.objects.filter(run=run).values_list("size_h100e", flat=True)) == list(SIZES)


@pytest.mark.django_db(transaction=True)  # the sweep closes stale connections, which ends a test's transaction
class SweepTests:
    def test_it_requeues_a_lost_chunk_and_publishes_it_again(self, prepared_run, monkeypatch):
        chunk = _first_chunk(prepared_run)
        _lose(chunk, monkeypatch)
        with patch("siting.tasks.scoring_chunk_execute_task.apply_async") as publish:
            counts = runs.scoring_runs_sweep()
        chunk.refresh_from_db()
        assert counts["chunks_requeued"] == 1 and counts["chunks_failed"] == 0
        assert chunk.status == RunChunk.Status.PENDING and chunk.attempts == 1
        publish.assert_called_once_with((chunk.id,), retry=False)
        runs.scoring_chunk_execute(chunk_id=chunk.id)  # the re-published message, on another worker
        chunk.refresh_from_db()
        assert chunk.status == RunChunk.Status.DONE and chunk.attempts == 2

    def test_it_fails_the_run_after_the_maximum_tries(self, prepared_run, monkeypatch):
        chunk = _first_chunk(prepared_run)
        for attempt in range(1, runs.MAX_ATTEMPTS + 1):
            _lose(chunk, monkeypatch)
            with patch("siting.tasks.scoring_chunk_execute_task.apply_async") as publish:
                counts = runs.scoring_runs_sweep()
            chunk.refresh_from_db()
            assert chunk.attempts == attempt
            if attempt < runs.MAX_ATTEMPTS:
                assert chunk.status == RunChunk.Status.PENDING and counts["chunks_requeued"] == 1
                publish.assert_called_once_with((chunk.id,), retry=False)
        assert counts["chunks_failed"] == 1 and counts["chunks_requeued"] == 0
        publish.assert_not_called()
        run = ScoringRun.objects.get(id=prepared_run.id)
        assert chunk.status == RunChunk.Status.FAILED and chunk.error == "worker lost"
        assert run.status == ScoringRun.Status.FAILED and f"stopped {runs.MAX_ATTEMPTS} times" in run.error
        assert not RunChunk.objects.filter(run=run, status=RunChunk.Status.PENDING).exists()

    def test_it_leaves_a_chunk_that_still_beats_alone(self, prepared_run):
        chunk = _first_chunk(prepared_run)
        RunChunk.objects.filter(id=chunk.id).update(
            status=RunChunk.Status.RUNNING, attempts=1, heartbeat_at=timezone.now()
        )
        with patch("siting.tasks.scoring_chunk_execute_task.apply_async") as publish:
            counts = runs.scoring_runs_sweep()
        chunk.refresh_from_db()
        assert chunk.status == RunChunk.Status.RUNNING and counts["chunks_requeued"] == 0
        publish.assert_not_called()


class CancelTests:
    def test_it_drops_the_results_of_a_cancelled_run(self, prepared_run):
        first, second = RunChunk.objects.filter(run=prepared_run).order_by("index")
        runs.scoring_chunk_execute(chunk_id=first.id)
        assert RunResult.objects.filter(run=prepared_run).count() == 1  # a partial result
        assert runs.scoring_run_cancel(run=prepared_run) is True
        run = ScoringRun.objects.get(id=prepared_run.id)
        assert run.status == ScoringRun.Status.CANCELLED
        assert not RunResult.objects.filter(run=run).exists()
        second.refresh_from_db()
        assert second.status == RunChunk.Status.FAILED and second.error == "run cancelled"

    def test_it_scores_nothing_after_the_cancel(self, prepared_run):
        runs.scoring_run_cancel(run=prepared_run)
        for chunk in RunChunk.objects.filter(run=prepared_run):
            runs.scoring_chunk_execute(chunk_id=chunk.id)  # messages already in the queue
        assert not RunResult.objects.filter(run=prepared_run).exists()
        assert ScoringRun.objects.get(id=prepared_run.id).status == ScoringRun.Status.CANCELLED

    def test_it_leaves_a_finished_run_alone(self, prepared_run):
        for chunk in RunChunk.objects.filter(run=prepared_run):
            runs.scoring_chunk_execute(chunk_id=chunk.id)
        assert runs.scoring_run_cancel(run=prepared_run) is False
        assert RunResult.objects.filter(run=prepared_run).count() == len(SIZES)
