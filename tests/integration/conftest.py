"""Real Celery worker processes against the real Redis broker, on the test database.

The worker processes are started with ``celery -A config worker`` in a subprocess whose
``DATABASE_URL`` points at the test database pytest-django created (a file for SQLite, see
``config/settings_test.py``), and a queue of their own so a dashboard running on the same
Redis is left alone. Tests using them need ``transactional_db`` (committed data).
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection

from tests.support.worker_process import WorkerProcess

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _redis_up():
        if os.environ.get("GIGASITE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required here but does not answer at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}: start one to run the integration tests")
    return REDIS_URL


@pytest.fixture(scope="session")
def test_queue() -> str:
    return f"gigasite-test-{uuid.uuid4().hex[:8]}"


def database_url() -> str:
    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    user = cfg.get("USER") or ""
    auth = f"{user}:{cfg['PASSWORD']}@" if cfg.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}/{cfg['NAME']}"


@pytest.fixture
def start_worker(redis_url, test_queue, transactional_db, tmp_path, settings):
    """Return a function starting a real worker; every worker is stopped after the test."""
    settings.CELERY_TASK_DEFAULT_QUEUE = test_queue
    from config.celery import app

    app.conf.task_default_queue = test_queue
    app.conf.broker_url = redis_url
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": redis_url,
        "GIGASITE_QUEUE": test_queue,
        "GIGASITE_STALE_AFTER_S": "4",
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[WorkerProcess] = []

    def start(name: str = "w1", concurrency: int = 1, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(name, {**env, **(extra_env or {})}, tmp_path, concurrency, queue=test_queue)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    import redis

    redis.Redis.from_url(redis_url).delete(test_queue)
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
