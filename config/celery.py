"""The Celery application: broker from REDIS_URL, tasks discovered in the Django apps.

Cores are shared between a worker's processes: each pool process runs the numba kernels on
``GIGASITE_KERNEL_THREADS`` threads, by default the worker's cores divided by its concurrency
(at least one). Without it, every process of a ``--concurrency=2`` worker on two cores would
start two kernel threads, four threads fighting for two cores. Set it to 1 when several worker
commands share one machine (one core per worker process: runs scale out by processes).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from threadpoolctl import threadpool_limits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("gigasite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

KERNEL_THREADS_ENV = "GIGASITE_KERNEL_THREADS"


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
