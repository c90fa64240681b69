"""The Celery tasks are adapters: called directly (no broker, no eager mode) they run their service.

The PDF comparison and portfolio tasks are called the same way in reports/test_report_services.py and
portfolio/test_portfolio_views.py; here are the scoring tasks, their registration under the names
``siting.queue`` publishes, and the publish itself.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import InterfaceError, OperationalError

from siting import queue, tasks
from siting.models import RunChunk, RunResult, ScoringRun
from siting.runs import services as runs
from siting.scoring.params import ScenarioParams
from tests.support.world import world_create

pytestmark = pytest.mark.django_db

SIZES = (1000, 10000)
TASKS = {
    queue.SCORING_RUN_EXECUTE: tasks.scoring_run_execute_task,
    queue.SCORING_CHUNK_EXECUTE: tasks.scoring_chunk_execute_task,
    queue.SCORING_RUNS_SWEEP: tasks.scoring_runs_sweep_task,
    queue.COMPARISON_EXECUTE: tasks.comparison_execute_task,
    queue.PORTFOLIO_EXECUTE: tasks.portfolio_execute_task,
}


@pytest.fixture
def queued_run(planner):
    world_create(n_sites=30, n_points=30, seed=2)
    params = ScenarioParams(sizes=SIZES)
    return runs.scoring_run_start(params=params.to_dict(), draws=0, name="tasks", user=planner, dispatch=False)


class RegistrationTests:
    @pytest.mark.parametrize("name", sorted(TASKS))
    def test_it_registers_each_task_under_the_name_services_publish(self, name):
        assert queue.registered_task(name).run is TASKS[name].run

    @pytest.mark.parametrize(
        "name",
        [queue.SCORING_RUN_EXECUTE, queue.SCORING_CHUNK_EXECUTE, queue.COMPARISON_EXECUTE, queue.PORTFOLIO_EXECUTE],
    )
    def test_it_acknowledges_late_and_retries_database_blips(self, name):
        task = queue.registered_task(name)
        assert task.acks_late and task.reject_on_worker_lost
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}


class PublishTests:
    def test_it_publishes_by_name_once_without_retrying(self):
        with patch("siting.tasks.scoring_run_execute_task.apply_async") as publish:
            assert queue.task_publish(queue.SCORING_RUN_EXECUTE, 7, what="Run 7") is True
        publish.assert_called_once_with((7,), retry=False)

    def test_it_returns_false_when_the_broker_refuses(self):
        with patch("siting.tasks.scoring_chunk_execute_task.apply_async", side_effect=ConnectionError("refused")):
            assert queue.task_publish(queue.SCORING_CHUNK_EXECUTE, 7, what="Chunk 7") is False

    def test_it_raises_for_a_name_no_task_has(self):
        with pytest.raises(KeyError):
            queue.task_publish("siting.no_such_task", 7, what="Nothing")


class ScoringTaskTests:
    def test_it_prepares_a_run_and_publishes_each_chunk_once_after_commit(
        self, queued_run, django_capture_on_commit_callbacks
    ):
        with patch("siting.tasks.scoring_chunk_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                tasks.scoring_run_execute_task(queued_run.id)
        chunk_ids = sorted(RunChunk.objects.filter(run=queued_run).values_list("id", flat=True))
        assert len(chunk_ids) == len(SIZES)
        assert sorted(call.args[0][0] for call in publish.call_args_list) == chunk_ids
        assert all(call.kwargs == {"retry": False} for call in publish.call_args_list)

    def test_it_scores_the_chunks_and_finishes_the_run(self, queued_run):
        runs.scoring_run_execute(run_id=queued_run.id, publish=False)
        for chunk_id in RunChunk.objects.filter(run=queued_run).values_list("id", flat=True):
            tasks.scoring_chunk_execute_task(chunk_id)
        run = ScoringRun.objects.get(id=queued_run.id)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert RunResult.objects.filter(run=run).count() == len(SIZES)

    def test_it_does_nothing_for_a_redelivered_start_message(self, queued_run):
        tasks.scoring_run_execute_task(queued_run.id)
        tasks.scoring_run_execute_task(queued_run.id)
        run = ScoringRun.objects.get(id=queued_run.id)
        assert run.attempts == 1 and RunChunk.objects.filter(run=run).count() == len(SIZES)


@pytest.mark.django_db(transaction=True)  # the sweep closes stale connections, which ends a test's transaction
class SweepTaskTests:
    def test_it_returns_what_the_sweep_did(self):
        assert tasks.scoring_runs_sweep_task() == {
            "chunks_requeued": 0,
            "chunks_failed": 0,
            "runs_requeued": 0,
            "runs_dispatched": 0,
            "runs_failed": 0,
        }
