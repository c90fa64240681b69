"""How a Celery worker shares the cores between its pool processes' kernel threads."""

from __future__ import annotations

import os

import pytest

from config import celery as worker_config


class TestKernelThreads:
    def test_cores_are_divided_between_pool_processes(self, monkeypatch):
        monkeypatch.delenv(worker_config.KERNEL_THREADS_ENV, raising=False)
        assert worker_config.kernel_threads(2, cores=2) == 1
        assert worker_config.kernel_threads(1, cores=2) == 2
        assert worker_config.kernel_threads(2, cores=8) == 4
        assert worker_config.kernel_threads(3, cores=8) == 2

    def test_never_fewer_than_one_thread(self, monkeypatch):
        monkeypatch.delenv(worker_config.KERNEL_THREADS_ENV, raising=False)
        assert worker_config.kernel_threads(4, cores=2) == 1
        assert worker_config.kernel_threads(0, cores=2) == 2

    def test_the_setting_wins(self, monkeypatch):
        monkeypatch.setenv(worker_config.KERNEL_THREADS_ENV, "3")
        assert worker_config.kernel_threads(2, cores=2) == 3

    @pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
    def test_a_bad_setting_is_named(self, monkeypatch, raw):
        monkeypatch.setenv(worker_config.KERNEL_THREADS_ENV, raw)
        with pytest.raises(ValueError, match=worker_config.KERNEL_THREADS_ENV):
            worker_config.kernel_threads(1, cores=2)

    def test_the_worker_decides_once_for_its_pool(self, monkeypatch):
        monkeypatch.delenv(worker_config.KERNEL_THREADS_ENV, raising=False)
        monkeypatch.setattr(worker_config, "usable_cores", lambda: 4)

        class Worker:
            concurrency = 2

        worker_config._share_cores(instance=Worker())
        assert os.environ[worker_config.KERNEL_THREADS_ENV] == "2"


def test_a_pool_process_limits_its_kernel_threads(monkeypatch):
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    before = numba.get_num_threads()
    monkeypatch.setenv(worker_config.KERNEL_THREADS_ENV, "1")
    try:
        worker_config._limit_kernel_threads()
        assert numba.get_num_threads() == 1
        pools = [p for p in threadpool_info() if p["user_api"] in ("blas", "openmp")]
        assert pools and all(p["num_threads"] == 1 for p in pools), pools
    finally:
        numba.set_num_threads(before)
        threadpool_limits(limits=before)
