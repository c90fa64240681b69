"""Real Celery worker processes against the real Redis broker, on the test database.

The worker processes are started with ``celery -A config worker`` in a subprocess whose
``DATABASE_URL`` points at the test database pytest-django created (a file for SQLite, see
``config/settings_test.py``), and a queue of their own so a dashboard running on the same
Redis is left alone. Tests using them need ``transactional_db`` (committed data).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
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


def _database_url() -> str:
    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    user = cfg.get("USER") or ""
    auth = f"{user}:{cfg['PASSWORD']}@" if cfg.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}/{cfg['NAME']}"


class Worker:
    """A Celery worker process (with its pool children) that a test can start and kill."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, concurrency: int = 1) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--without-heartbeat",
             "--without-gossip", "--without-mingle", f"--concurrency={concurrency}", "-n", f"{name}@%h",
             "-Q", env["GIGASITE_QUEUE"]],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited: {self.log_path.read_text()[-2000:]}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready after {timeout_s} s: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """Kill the worker and its pool children at once, as a crash or OOM would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(redis_url, test_queue, transactional_db, tmp_path, settings):
    """Return a function starting a real worker; every worker is stopped after the test."""
    settings.CELERY_TASK_DEFAULT_QUEUE = test_queue
    from config.celery import app

    app.conf.task_default_queue = test_queue
    app.conf.broker_url = redis_url
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": redis_url,
        "GIGASITE_QUEUE": test_queue,
        "GIGASITE_STALE_AFTER_S": "4",
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[Worker] = []

    def start(name: str = "w1", concurrency: int = 1) -> Worker:
        worker = Worker(name, env, tmp_path, concurrency)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    import redis

    redis.Redis.from_url(redis_url).delete(test_queue)
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
