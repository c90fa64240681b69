"""The Celery application: broker from REDIS_URL, tasks discovered in the Django apps.

Cores are shared between a worker's processes: each pool process runs the numba kernels on
``GIGASITE_KERNEL_THREADS`` threads, by default the worker's cores divided by its concurrency
(at least one). Without it, every process of a ``--concurrency=2`` worker on two cores would
start two kernel threads, four threads fighting for two cores. Set it to 1 when several worker
commands share one machine (one core per worker process: runs scale out by processes).

A worker on a Redis broker announces itself: once ready, a daemon thread of its main process
writes one presence record per queue it consumes, ``gigasite:workers:<queue>:<node>`` → its
pool processes (its autoscaler's maximum, else ``--concurrency``), every
``PRESENCE_INTERVAL_S`` with a time to live of ``PRESENCE_TTL_S``, and the worker deletes them
as it shuts down. A run reads them to lay itself out (``siting.queue.queue_pool_processes``)
in milliseconds instead of a remote-control broadcast that waits its whole timeout. A Redis
that fails never stops the worker: the thread logs and writes again at the next interval.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from celery import Celery, signals
from threadpoolctl import threadpool_limits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("gigasite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

KERNEL_THREADS_ENV = "GIGASITE_KERNEL_THREADS"

log = logging.getLogger(__name__)

PRESENCE_KEY_PREFIX = "gigasite:workers:"
"""Prefix of the workers' presence records in the broker's Redis database: the record of node
``N`` consuming queue ``Q`` is ``<prefix><Q>:<N>`` (``Q`` percent-encoded, so ``:`` or a glob
character in a queue name cannot make one queue's records match another's pattern), and its
value is the node's pool processes, a decimal integer. [Redis key prefix]"""
PRESENCE_INTERVAL_S = 10.0
"""How often a worker rewrites its presence records. Each rewrite is one pipelined round trip
of a few SETs, so 10 s costs Redis nothing; it bounds how long a record lost to a flushed or
restarted Redis stays missing (a run meanwhile falls back to the broadcast). [s]"""
PRESENCE_TTL_S = 30
"""Time to live of a presence record: three intervals, so two missed rewrites (a Redis blip
of up to 1 s timeouts each) do not drop a live worker, and a worker killed without its
shutdown (SIGKILL, OOM killer, a lost machine) stops being counted within 30 s. [s, whole]"""
PRESENCE_REDIS_TIMEOUT_S = 1.0
"""Connect and read timeout of the presence thread's Redis connection, with no retry: a
rewrite waits at most this long for a Redis that does not answer, then tries again at the
next interval. A rewrite took 0.1 ms here (2026-11-28, Redis on this machine; 3 ms the first,
connecting): 1 s leaves room for a Redis on another machine. [s]"""


def usable_cores() -> int:
    """Return the cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def kernel_threads(concurrency: int, cores: int | None = None) -> int:
    """Return the kernel threads of each of a worker's ``concurrency`` pool processes.

    ``GIGASITE_KERNEL_THREADS`` when set (a whole number ≥ 1), else ``cores // concurrency``,
    at least 1.
    """
    raw = os.environ.get(KERNEL_THREADS_ENV, "").strip()
    if raw:
        try:
            threads = int(raw)
        except ValueError:
            raise ValueError(f"{KERNEL_THREADS_ENV}={raw!r} is not a whole number") from None
        if threads < 1:
            raise ValueError(f"{KERNEL_THREADS_ENV}={raw!r} must be at least 1")
        return threads
    return max(1, (cores or usable_cores()) // max(1, int(concurrency)))


@signals.celeryd_after_setup.connect
def _share_cores(sender: Any = None, instance: Any = None, **kwargs: Any) -> None:
    """In the worker's main process, before its pool starts: decide the pool's kernel threads."""
    concurrency = getattr(instance, "concurrency", None) or 1
    os.environ[KERNEL_THREADS_ENV] = str(kernel_threads(concurrency))


@signals.worker_process_init.connect
def _limit_kernel_threads(**kwargs: Any) -> None:
    """In each pool process: run the numba kernels, and NumPy's BLAS, on the threads decided above."""
    import numba  # noqa: PLC0415  (only a worker's pool process sets the limit; config loads before numba is wanted)

    threads = kernel_threads(1)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    # NumPy's and SciPy's own pools (OpenBLAS, OpenMP) started with a thread per core before
    # the fork: the same share. Measured here (2026-11-28, shipped data, 1,000 draws): a
    # "one-thread" worker still ran its BLAS calls on both cores, 14.5 s against 15.9 s limited.
    threadpool_limits(limits=threads)


def presence_redis_url(broker_url: Any) -> str | None:
    """Return the Redis URL presence records live at: the broker's when it is Redis, else None.

    ``broker_url`` is Celery's setting: a URL, a ``;``-separated list or a list of failover URLs
    (the first one counts). Only ``redis://`` and ``rediss://``: the filesystem broker (one
    machine) and any other transport have no presence records.
    """
    if isinstance(broker_url, (list, tuple)):
        broker_url = broker_url[0] if broker_url else None
    if not isinstance(broker_url, str):
        return None
    url = broker_url.split(";", 1)[0].strip()
    return url if url.startswith(("redis://", "rediss://")) else None


def presence_key(queue: str, node: str) -> str:
    """Return the key of the presence record of worker ``node`` consuming ``queue``."""
    return f"{PRESENCE_KEY_PREFIX}{quote(queue, safe='')}:{node}"


def presence_key_pattern(queue: str) -> str:
    """Return the SCAN pattern matching every presence record of ``queue`` (and no other queue's).

    The percent-encoded queue holds no ``:`` and no glob character (``*?[]\\``), so the
    pattern needs no escaping and ``<queue>:*`` cannot match the records of ``<queue>:x``.
    """
    return f"{PRESENCE_KEY_PREFIX}{quote(queue, safe='')}:*"


def presence_redis(url: str, timeout_s: float) -> Any:
    """Return a Redis client at ``url`` that connects and reads within ``timeout_s`` and never retries.

    redis-py retries a failed command three times with a backoff by default: a dead Redis
    would then hold the caller for seconds instead of one timeout.
    """
    # 84 ms to import (measured here, 2026-11-28): only workers and a run's layout need it.
    import redis  # noqa: PLC0415
    from redis.backoff import NoBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )


def worker_pool_processes(controller: Any) -> int:
    """Return how many pool processes the worker ``controller`` (a ``WorkController``) runs at most.

    Its autoscaler's maximum (``--autoscale=MAX,MIN``) when it has one, else its pool's limit
    (``--concurrency``; what ``inspect().stats()`` reports as ``pool['max-concurrency']``, which
    under an autoscaler is its minimum, the size the pool started at). At least 1.
    """
    pool = getattr(controller, "pool", None)
    limit = getattr(pool, "limit", None) or getattr(controller, "concurrency", None) or 1
    return max(int(getattr(controller, "max_concurrency", None) or 0), int(limit), 1)


class WorkerPresence:
    """A worker's presence records, rewritten by a daemon thread until :meth:`withdraw`.

    ``queues`` and ``processes`` are read at every rewrite, so a queue added or cancelled by
    remote control (``add_consumer``, ``cancel_consumer``) is announced or deleted at the next
    interval. No method raises: a Redis error is logged and the next interval tries again.
    """

    def __init__(
        self,
        url: str,
        node: str,
        queues: Callable[[], Iterable[str]],
        processes: Callable[[], int],
        *,
        interval_s: float = PRESENCE_INTERVAL_S,
        ttl_s: int = PRESENCE_TTL_S,
        timeout_s: float = PRESENCE_REDIS_TIMEOUT_S,
    ) -> None:
        self.node = node
        self.interval_s = interval_s
        self.ttl_s = ttl_s
        self._queues = queues
        self._processes = processes
        self._redis = presence_redis(url, timeout_s)
        self._written: set[str] = set()  # the keys the last successful rewrite wrote
        self._failing = False
        # Held while writing, so a withdrawal never races a rewrite that would resurrect its keys.
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def _keys(self) -> set[str]:
        return {presence_key(queue, self.node) for queue in self._queues()}

    def announce(self) -> bool:
        """Write the records of the queues consumed now, delete those of queues no longer consumed.

        Returns whether Redis took them (False after :meth:`withdraw`, too).
        """
        with self._lock:
            if self._stopped.is_set():
                return False
            try:
                keys = self._keys()
                processes = int(self._processes())
                pipe = self._redis.pipeline(transaction=False)
                for key in sorted(keys):
                    pipe.set(key, processes, ex=self.ttl_s)
                if self._written - keys:
                    pipe.delete(*sorted(self._written - keys))
                pipe.execute()
            except Exception as exc:  # redis raises its own errors; a worker must go on regardless
                if not self._failing:
                    log.warning(
                        "worker %s: presence not written (retried every %s s): %s", self.node, self.interval_s, exc
                    )
                self._failing = True
                return False
            if self._failing:
                log.info("worker %s: presence written again", self.node)
            self._failing = False
            self._written = keys
            return True

    def run(self) -> None:
        """Announce now and then every ``interval_s`` until withdrawn (the thread's body)."""
        while not self._stopped.is_set():
            self.announce()
            self._stopped.wait(self.interval_s)

    def start(self) -> threading.Thread:
        """Start the daemon thread that announces the worker (it dies with the process)."""
        self.thread = threading.Thread(target=self.run, name="gigasite-worker-presence", daemon=True)
        self.thread.start()
        return self.thread

    def withdraw(self) -> None:
        """Stop announcing and delete the worker's records (a failure is logged: they expire anyway)."""
        self._stopped.set()
        with self._lock:
            try:
                keys = self._written | self._keys()
                if keys:
                    self._redis.delete(*sorted(keys))
                self._written = set()
            except Exception as exc:
                log.warning("worker %s: presence not deleted (it expires within %s s): %s", self.node, self.ttl_s, exc)
            finally:
                self._redis.close()


_presence: WorkerPresence | None = None
"""The presence of this worker process, between ``worker_ready`` and ``worker_shutdown``."""


@signals.worker_ready.connect
def _presence_announce(sender: Any = None, **kwargs: Any) -> None:
    """In the worker's main process, once it consumes: announce it on a daemon thread (Redis brokers only).

    ``sender`` is the worker's ``Consumer``: its node name, the queues it consumes and, through
    its ``controller`` (the ``WorkController``), its pool.
    """
    global _presence
    consumer = sender
    if consumer is None or _presence is not None:
        return
    try:
        url = presence_redis_url(consumer.app.conf.broker_url)
        if url is None:  # the filesystem broker (one machine): nothing to announce to
            return
        controller = consumer.controller
        presence = WorkerPresence(
            url,
            consumer.hostname,
            queues=lambda: list(consumer.app.amqp.queues.consume_from),
            processes=lambda: worker_pool_processes(controller),
        )
        presence.start()
    except Exception:  # never stop a worker for an announcement: runs fall back to the broadcast
        log.exception("worker presence not started")
        return
    _presence = presence


@signals.worker_shutting_down.connect
@signals.worker_shutdown.connect
def _presence_withdraw(**kwargs: Any) -> None:
    """In the worker's main process, as it starts shutting down (a warm shutdown still finishes its
    running tasks, a cold one never sends ``worker_shutdown``): delete its presence records, so
    new runs stop counting it at once. The second signal finds nothing left to do."""
    global _presence
    presence, _presence = _presence, None
    if presence is not None:
        presence.withdraw()
