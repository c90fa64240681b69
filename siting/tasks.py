"""Celery tasks: thin adapters over ``siting.runs``; they take ids, never objects."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, name="siting.scoring_run_execute")
def scoring_run_execute_task(run_id: int) -> None:
    from siting.runs import scoring_run_execute

    scoring_run_execute(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, name="siting.scoring_chunk_execute")
def scoring_chunk_execute_task(chunk_id: int) -> None:
    from siting.runs import scoring_chunk_execute

    scoring_chunk_execute(chunk_id=chunk_id)


@shared_task(name="siting.scoring_runs_sweep", ignore_result=True)
def scoring_runs_sweep_task() -> dict[str, int]:
    from siting.runs import scoring_runs_sweep

    return scoring_runs_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True, name="siting.comparison_execute")
def comparison_execute_task(report_id: int) -> None:
    from siting.comparisons import comparison_execute

    comparison_execute(report_id=report_id)
