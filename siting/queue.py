"""Publishing to the job queue by registered task name, so services never import ``siting.tasks``.

A service names the task it wants (``SCORING_RUN_EXECUTE``); Celery's registry finds the task,
so the tasks module (which imports the services) stays at the top of the dependency graph.
A publish is tried once: a refused broker returns False and the caller decides what that means
(a run waits for the sweep, a chunk is re-published by it), so a request never hangs on a
dead broker.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from config import celery_app

log = logging.getLogger(__name__)

# The names the tasks in siting/tasks.py are registered under (and that workers consume).
SCORING_RUN_EXECUTE = "siting.scoring_run_execute"
SCORING_CHUNK_EXECUTE = "siting.scoring_chunk_execute"
SCORING_RUNS_SWEEP = "siting.scoring_runs_sweep"
COMPARISON_EXECUTE = "siting.comparison_execute"
PORTFOLIO_EXECUTE = "siting.portfolio_execute"


def registered_task(name: str) -> Task:
    """Return the task registered as ``name``, loading the apps' task modules on first use."""
    if name not in celery_app.tasks:
        # Celery's autodiscovery imports every app's tasks.py; a web process has not done it yet.
        celery_app.loader.import_default_modules()
    return celery_app.tasks[name]


def task_publish(name: str, *args: Any, what: str) -> bool:
    """Send the task registered as ``name`` with ``args`` once; log and return False if the broker refused."""
    task = registered_task(name)  # an unknown name is a programming error: raise, do not log
    try:
        task.apply_async(args, retry=False)
    except Exception as exc:  # kombu raises OperationalError subclasses, redis its own
        log.warning("%s not published (broker unreachable): %s", what, exc)
        return False
    return True
