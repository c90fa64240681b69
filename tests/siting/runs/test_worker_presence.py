"""Workers announce their pool processes in Redis, and a run reads them instead of asking by broadcast.

Real Redis at ``REDIS_URL`` (a fresh queue name per test, its records deleted afterwards); the
worker side is ``config.celery.WorkerPresence`` as a worker's ready signal starts it, with the
queues and pool size given here. Real workers announcing themselves: tests/integration.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from config import celery as worker_config
from config.celery import PRESENCE_KEY_PREFIX, PRESENCE_TTL_S, WorkerPresence, app, presence_key
from siting import queue

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
NO_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception:
        if os.environ.get("GIGASITE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required here but does not answer at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}: start one to run the presence tests")
    yield client
    client.close()


@pytest.fixture
def chunk_queue(monkeypatch, redis_client) -> str:
    """The chunks go to a queue of this test's own on the test Redis (its records deleted afterwards)."""
    name = f"gigasite-presence-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "broker_url", REDIS_URL)
    monkeypatch.setitem(app.conf, "broker_write_url", None)
    monkeypatch.setitem(app.conf, "task_default_queue", name)
    queue.registered_task(queue.SCORING_CHUNK_EXECUTE)  # the task modules' first import, out of the way
    yield name
    for key in redis_client.scan_iter(match=f"{PRESENCE_KEY_PREFIX}*{name}*"):
        redis_client.delete(key)


@pytest.fixture
def broadcast(monkeypatch) -> list[str]:
    """Record the queues asked by broadcast (no worker answers one here: None)."""
    asked: list[str] = []

    def ask(queue_name: str, *, timeout_s: float = queue.WORKERS_ASK_TIMEOUT_S) -> int | None:
        asked.append(queue_name)
        return None

    monkeypatch.setattr(queue, "broadcast_pool_processes", ask)
    return asked


def announced(node: str, queues: list[str], processes: int, url: str = REDIS_URL) -> WorkerPresence:
    """Return the presence of worker ``node`` once it has written its records (as its thread does first)."""
    presence = WorkerPresence(url, node, queues=lambda: queues, processes=lambda: processes)
    assert presence.announce() == (url == REDIS_URL)
    return presence


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} never happened")
        time.sleep(0.01)


class PresenceReadTests:
    def test_the_records_of_the_chunks_queue_are_summed_and_no_worker_is_asked(self, chunk_queue, broadcast):
        announced("a@m1", [chunk_queue], 2)
        announced("b@m2", [chunk_queue, f"{chunk_queue}-reports"], 3)  # a worker of several queues counts whole
        announced("c@m3", [f"{chunk_queue}-other"], 5)  # another deployment's queue on the same Redis
        announced("d@m4", [f"{chunk_queue}:x"], 7)  # its records' keys begin with this queue's and a ':'
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 5
        assert broadcast == []

    def test_a_record_lives_a_few_intervals_unless_rewritten(self, chunk_queue, redis_client):
        announced("a@m1", [chunk_queue], 2)
        key = presence_key(chunk_queue, "a@m1")
        assert redis_client.get(key) == b"2"
        assert 0 < redis_client.ttl(key) <= PRESENCE_TTL_S

    def test_an_expired_record_is_not_counted(self, chunk_queue, broadcast, redis_client):
        announced("a@m1", [chunk_queue], 2)
        announced("b@m2", [chunk_queue], 3)
        for node in ("b@m2", "a@m1"):  # as if the worker had been killed (no shutdown) a TTL ago
            key = presence_key(chunk_queue, node)
            redis_client.pexpire(key, 1)
            wait_until(lambda key=key: not redis_client.exists(key), f"expiry of {key}")
            if node == "b@m2":
                assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 2
                assert broadcast == []
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None
        assert broadcast == [chunk_queue]

    def test_without_a_record_the_workers_are_asked_by_broadcast(self, chunk_queue, monkeypatch):
        asked: list[str] = []
        monkeypatch.setattr(queue, "broadcast_pool_processes", lambda q, timeout_s: asked.append(q) or 4)
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) == 4
        assert asked == [chunk_queue]

    def test_a_redis_that_is_down_gives_none_without_raising(self, chunk_queue, monkeypatch):
        import redis

        monkeypatch.setitem(app.conf, "broker_url", NO_REDIS_URL)
        with pytest.raises(redis.ConnectionError):
            queue.presence_pool_processes(chunk_queue)
        asked: list[str] = []
        real_broadcast = queue.broadcast_pool_processes

        def ask(queue_name: str, *, timeout_s: float) -> int | None:
            asked.append(queue_name)
            return real_broadcast(queue_name, timeout_s=timeout_s)

        monkeypatch.setattr(queue, "broadcast_pool_processes", ask)
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None
        assert asked == [chunk_queue]  # the fallback was tried, and failed at once as well

    def test_the_filesystem_broker_has_no_presence(self, chunk_queue, broadcast, monkeypatch):
        announced("a@m1", [chunk_queue], 2)  # on the Redis a filesystem broker does not use
        monkeypatch.setitem(app.conf, "broker_url", "filesystem://")
        assert queue.presence_pool_processes(chunk_queue) is None
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None
        assert broadcast == [chunk_queue]


class PresenceWriteTests:
    def test_a_withdrawn_worker_s_records_are_deleted_and_never_written_again(self, chunk_queue, redis_client):
        presence = announced("a@m1", [chunk_queue, f"{chunk_queue}-b"], 2)
        keys = [presence_key(chunk_queue, "a@m1"), presence_key(f"{chunk_queue}-b", "a@m1")]
        assert redis_client.exists(*keys) == 2
        presence.withdraw()
        assert redis_client.exists(*keys) == 0
        assert presence.announce() is False
        assert redis_client.exists(*keys) == 0

    def test_a_queue_no_longer_consumed_loses_its_record_at_the_next_rewrite(self, chunk_queue, redis_client):
        queues = [chunk_queue, f"{chunk_queue}-b"]
        presence = WorkerPresence(REDIS_URL, "a@m1", queues=lambda: list(queues), processes=lambda: 2)
        assert presence.announce()
        queues.pop()  # cancel_consumer
        assert presence.announce()
        assert redis_client.exists(presence_key(chunk_queue, "a@m1"))
        assert not redis_client.exists(presence_key(f"{chunk_queue}-b", "a@m1"))
        presence.withdraw()

    def test_a_failing_redis_is_logged_and_retried_and_never_stops_the_thread(self, chunk_queue, redis_client, caplog):
        import redis

        attempts: list[int] = []
        recovered = threading.Event()

        def queues() -> list[str]:
            attempts.append(1)
            if len(attempts) < 3:
                raise redis.ConnectionError("Redis went away")
            recovered.set()
            return [chunk_queue]

        presence = WorkerPresence(REDIS_URL, "a@m1", queues=queues, processes=lambda: 2, interval_s=0.01)
        with caplog.at_level(logging.INFO, logger="config.celery"):
            thread = presence.start()
            wait_until(recovered.is_set, "a rewrite after two failures")
            wait_until(lambda: redis_client.exists(presence_key(chunk_queue, "a@m1")), "the record")
            presence.withdraw()
            thread.join(timeout=5)
        assert not thread.is_alive()
        assert not redis_client.exists(presence_key(chunk_queue, "a@m1"))
        warnings = [r for r in caplog.records if "presence not written" in r.getMessage()]
        assert len(warnings) == 1 and "Redis went away" in warnings[0].getMessage()  # once, not every interval
        assert any("presence written again" in r.getMessage() for r in caplog.records)

    def test_an_unreachable_redis_raises_nothing(self, chunk_queue):
        presence = announced("a@m1", [chunk_queue], 2, url=NO_REDIS_URL)
        thread = presence.start()
        presence.withdraw()
        thread.join(timeout=5)
        assert not thread.is_alive()

    def test_only_a_redis_broker_has_presence(self):
        assert worker_config.presence_redis_url("redis://h:6379/0") == "redis://h:6379/0"
        assert worker_config.presence_redis_url("rediss://h:6380/1") == "rediss://h:6380/1"
        assert worker_config.presence_redis_url("redis://a:6379/0;redis://b:6379/0") == "redis://a:6379/0"
        assert worker_config.presence_redis_url(["redis://a:6379/0", "redis://b:6379/0"]) == "redis://a:6379/0"
        for url in ("filesystem://", "memory://", "amqp://guest@h//", None, [], ""):
            assert worker_config.presence_redis_url(url) is None

    def test_a_worker_on_the_filesystem_broker_starts_no_presence(self, monkeypatch):
        monkeypatch.setattr(worker_config, "_presence", None)
        consumer = SimpleNamespace(app=SimpleNamespace(conf=SimpleNamespace(broker_url="filesystem://")))
        worker_config._presence_announce(sender=consumer)
        assert worker_config._presence is None
        worker_config._presence_withdraw(sender=None)  # and its shutdown has nothing to delete

    def test_a_worker_announces_its_autoscaler_s_maximum_else_its_pool_s_size(self):
        def controller(limit: int, max_concurrency: int | None = None) -> SimpleNamespace:
            return SimpleNamespace(
                pool=SimpleNamespace(limit=limit), concurrency=limit, max_concurrency=max_concurrency
            )

        assert worker_config.worker_pool_processes(controller(2)) == 2
        # --autoscale=4,1: the pool starts at 1 process and grows to 4 when chunks queue up.
        assert worker_config.worker_pool_processes(controller(1, 4)) == 4
        # The broadcast's fallback counts the same from a worker's stats reply.
        assert queue._stats_pool_processes({"pool": {"max-concurrency": 1}, "autoscaler": {"max": 4}}) == 4
        assert queue._stats_pool_processes({"pool": {"max-concurrency": 2}}) == 2
