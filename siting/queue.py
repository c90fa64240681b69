"""Publishing to the job queue by registered task name, so services never import ``siting.tasks``.

A service names the task it wants (``SCORING_RUN_EXECUTE``); Celery's registry finds the task,
so the tasks module (which imports the services) stays at the top of the dependency graph.
A publish is tried once: a refused broker returns False and the caller decides what that means
(a run waits for the sweep, a chunk is re-published by it), so a request never hangs on a
dead broker. :func:`queue_pool_processes` tells how many pool processes consume a task's queue
(a run's layout depends on it): from the presence records the workers keep in Redis (written
by ``config.celery``), else by asking the workers with a remote-control broadcast. Measured
here (2026-11-28, Redis on this machine, one idle 2-process worker, 20 questions): 1.1–1.7 ms
from the records (4 ms the first time), 0.6 s by broadcast, which always waits for replies
it cannot count on; every worker waits idle for the answer as a run starts.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from config import celery_app
from config.celery import presence_key_pattern, presence_redis, presence_redis_url

log = logging.getLogger(__name__)

WORKERS_ASK_TIMEOUT_S = 0.5
"""How long the first broadcast of :func:`broadcast_pool_processes` waits for replies (it cannot
know how many workers will answer, so it always waits this long), the second one at most,
the connect timeout of its broker connection, and the connect and read timeout of
:func:`presence_pool_processes` (whose whole read takes 1–2 ms here). Measured here
(2026-11-28, Redis on this machine, a worker busy with a run): replies came 3–90 ms after the
broadcast, so 0.5 s leaves room for a worker on another machine; the whole question took
0.5–0.6 s. [s]"""
POLLING_INTERVAL_S = 0.05
"""Redis transport's polling interval on that connection: closing it waits for the poll in
flight, 1 s with kombu's default (measured here: closing took 0.5–0.9 s, now 0). [s]"""
PRESENCE_SCAN_COUNT = 1000
"""COUNT hint of the SCAN over the presence records: keys Redis looks at per round trip. The
broker's database holds a few keys per queue and per worker, so one or two round trips walk it
all. [keys per SCAN call]"""

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

    First from the workers' presence records (:func:`presence_pool_processes`, one SCAN and one
    MGET): a worker on a Redis broker announces its pool processes for each queue it consumes
    as soon as it is ready. When no live record is found (no worker yet, workers of a version
    that does not announce, a Redis that could not be read), the workers are asked by a
    broadcast (:func:`broadcast_pool_processes`), which always waits ``timeout_s``. While
    announcing and older workers share a queue, only the announcing ones are counted.
    Returns None when neither tells, or on the filesystem transport (one machine; not asked):
    never raises, and returns within about ``2 × timeout_s`` (the presence read's connect and
    read timeouts) plus what the broadcast takes.
    """
    try:
        queue_name = task_queue_name(name)
    except Exception as exc:  # an answer about capacity must never fail the caller
        log.info("pool processes of the queue of %s unknown: %s", name, exc)
        return None
    try:
        announced = presence_pool_processes(queue_name, timeout_s=timeout_s)
    except Exception as exc:  # redis raises its own errors; the broadcast may still answer
        log.info("presence of the workers of queue %s not read, asking them: %s", queue_name, exc)
        announced = None
    if announced:
        return announced
    return broadcast_pool_processes(queue_name, timeout_s=timeout_s)


def presence_pool_processes(queue_name: str, *, timeout_s: float = WORKERS_ASK_TIMEOUT_S) -> int | None:
    """Return the sum of the pool processes the live presence records of ``queue_name`` announce.

    None when there is none, or the broker is not Redis. A record expires by itself (a worker
    killed without its shutdown stops being counted within ``config.celery.PRESENCE_TTL_S``);
    one that expires between the SCAN and the MGET is not counted. Raises what redis raises
    when it cannot be read within ``timeout_s``.
    """
    url = presence_redis_url(celery_app.conf.broker_url)
    if url is None:
        return None
    with presence_redis(url, timeout_s) as client:
        # SCAN may return a key more than once: count each record once.
        keys = sorted(set(client.scan_iter(match=presence_key_pattern(queue_name), count=PRESENCE_SCAN_COUNT)))
        values = client.mget(keys) if keys else []
    processes = 0
    for value in values:
        try:
            processes += max(0, int(value))
        except (TypeError, ValueError):  # expired since the SCAN (None), or not a count
            continue
    return processes or None


def broadcast_pool_processes(queue_name: str, *, timeout_s: float = WORKERS_ASK_TIMEOUT_S) -> int | None:
    """Return how many pool processes consume ``queue_name``, asked of the workers by broadcast.

    Two remote-control broadcasts: ``active_queues`` (which workers consume that queue; the
    others, e.g. another deployment on the same Redis, are not counted) and then ``stats`` of
    those workers (each one's autoscaler's maximum when it has one, else its
    ``pool['max-concurrency']``: the count its presence record announces). A worker consuming
    several queues counts whole. Returns None when no worker answers within ``timeout_s``, the
    broker is unreachable, or it is the filesystem transport (one machine; not asked): never
    raises, and returns within about ``2 × timeout_s`` plus one connect timeout of ``timeout_s``.
    """
    try:
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
        processes = sum(_stats_pool_processes(stats[node]) for node in consumers if node in stats)
    except Exception as exc:  # an answer about capacity must never fail the caller
        log.info("pool processes of queue %s unknown: %s", queue_name, exc)
        return None
    return processes or None


def _stats_pool_processes(stats: dict[str, Any]) -> int:
    """Return a worker's pool processes from its ``stats`` reply: its autoscaler's maximum, else its pool's.

    Under ``--autoscale=MAX,MIN`` the pool's ``max-concurrency`` is MIN (the size it started at;
    seen here, 2026-11-28: 1 for ``--autoscale=4,1``), and chunks published make it grow to MAX.
    """
    autoscaler = stats.get("autoscaler") or {}
    return max(int(stats["pool"]["max-concurrency"]), int(autoscaler.get("max") or 0))
