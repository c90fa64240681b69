"""Publishing to the job queue by registered task name, so services never import ``siting.tasks``.

A service names the task it wants (``SCORING_RUN_EXECUTE``); Celery's registry finds the task,
so the tasks module (which imports the services) stays at the top of the dependency graph.
A publish is tried once: a refused broker returns False and the caller decides what that means
(a run waits for the sweep, a chunk is re-published by it), so a request never hangs on a
dead broker. :func:`queue_pool_processes` asks the workers themselves how many pool processes
consume a task's queue (a run's layout depends on it), and never waits more than about a second.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from config import celery_app

log = logging.getLogger(__name__)

WORKERS_ASK_TIMEOUT_S = 0.5
"""How long the first broadcast of :func:`queue_pool_processes` waits for replies (it cannot
know how many workers will answer, so it always waits this long), the second one at most,
and the connect timeout of its broker connection. Measured here (2026-11-28, Redis on this
machine, a worker busy with a run): replies came 3–90 ms after the broadcast, so 0.5 s leaves
room for a worker on another machine; the whole question took 0.5–0.6 s. [s]"""
POLLING_INTERVAL_S = 0.05
"""Redis transport's polling interval on that connection: closing it waits for the poll in
flight, 1 s with kombu's default (measured here: closing took 0.5–0.9 s, now 0). [s]"""

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


def task_queue_name(name: str) -> str:
    """Return the name of the queue the task registered as ``name`` is sent to (routes, else the default)."""
    task = registered_task(name)
    return celery_app.amqp.router.route({}, task.name, (), {})["queue"].name


def queue_pool_processes(name: str, *, timeout_s: float = WORKERS_ASK_TIMEOUT_S) -> int | None:
    """Return how many pool processes consume the queue the task registered as ``name`` goes to.

    Asked of the workers themselves by two remote-control broadcasts: ``active_queues`` (which
    workers consume that queue; the others, e.g. another deployment on the same Redis, are not
    counted) and then ``stats`` of those workers (each one's ``pool['max-concurrency']``, its
    processes or its autoscaler's maximum). A worker consuming several queues counts whole.
    Returns None when no worker answers within ``timeout_s``, the broker is unreachable, or it
    is the filesystem transport (one machine; not asked): never raises, and returns within about
    ``2 × timeout_s`` plus one connect timeout of ``timeout_s``.
    """
    try:
        queue_name = task_queue_name(name)
        # A connection of its own that fails fast: the pool's would retry a dead broker for seconds.
        with celery_app.connection_for_write(
            connect_timeout=timeout_s,
            transport_options={"socket_connect_timeout": timeout_s, "polling_interval": POLLING_INTERVAL_S},
        ) as conn:
            if conn.transport.driver_type == "filesystem":
                # The one-machine broker: its broadcasts would leave files under ./control.
                return None
            conn.ensure_connection(max_retries=0)
            queues = celery_app.control.inspect(timeout=timeout_s, connection=conn).active_queues() or {}
            consumers = sorted(
                node for node, consumed in queues.items() if any(q.get("name") == queue_name for q in consumed or ())
            )
            if not consumers:
                return None
            # Addressed to the consumers only, and over as soon as each has answered.
            stats = (
                celery_app.control.inspect(
                    destination=consumers, limit=len(consumers), timeout=timeout_s, connection=conn
                ).stats()
                or {}
            )
        processes = sum(int(stats[node]["pool"]["max-concurrency"]) for node in consumers if node in stats)
    except Exception as exc:  # an answer about capacity must never fail the caller
        log.info("pool processes of the queue of %s unknown: %s", name, exc)
        return None
    return processes or None
