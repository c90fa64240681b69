"""Celery tasks: thin adapters over ``siting.runs.services``; they take ids, never objects.

A database blip the run service did not absorb (the claim at the start of a task, before any
retry loop) makes Celery retry the whole task with exponential back-off: the claims are
conditional updates, so a task run again does nothing twice.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from siting import queue
from siting.portfolio.services import portfolio_execute
from siting.reports.services import comparison_execute
from siting.runs.services import scoring_chunk_execute, scoring_run_execute, scoring_runs_sweep

DB_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,  # 2 s, 4 s, 8 s … with jitter
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,  # about 7 minutes in all: longer than a database restart
}
"""Celery's retry settings for transient database errors (lost connection, "database is locked")."""


@shared_task(acks_late=True, reject_on_worker_lost=True, name=queue.SCORING_RUN_EXECUTE, **DB_RETRY)
def scoring_run_execute_task(run_id: int) -> None:

    scoring_run_execute(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, name=queue.SCORING_CHUNK_EXECUTE, **DB_RETRY)
def scoring_chunk_execute_task(chunk_id: int) -> None:

    scoring_chunk_execute(chunk_id=chunk_id)


@shared_task(name=queue.SCORING_RUNS_SWEEP, ignore_result=True)
def scoring_runs_sweep_task() -> dict[str, int]:

    return scoring_runs_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True, name=queue.COMPARISON_EXECUTE, **DB_RETRY)
def comparison_execute_task(report_id: int) -> None:

    comparison_execute(report_id=report_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, name=queue.PORTFOLIO_EXECUTE, **DB_RETRY)
def portfolio_execute_task(portfolio_id: int) -> None:

    portfolio_execute(portfolio_id=portfolio_id)
