"""Runs ride out database blips: retries with back-off, a heartbeat that keeps beating."""

from __future__ import annotations

import time

import pytest
from django.db import IntegrityError, OperationalError

from siting.models import RunChunk, RunResult, ScoringRun
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from tests.support.world import world_create


def _flaky(n_failures: int, exc: Exception, result="ok"):
    calls = {"n": 0}

    def fn():
        calls["n"] += 1
        if calls["n"] <= n_failures:
            raise exc
        return result

    return fn, calls


class WithDbRetryTests:
    def test_it_retries_a_locked_database_until_it_answers(self, monkeypatch):
        monkeypatch.setattr(runs, "DB_RETRY_FIRST_S", 0.01)
        fn, calls = _flaky(3, OperationalError("database is locked"))
        assert runs.with_db_retry(fn, what="test") == "ok" and calls["n"] == 4

    def test_it_gives_up_with_the_reason_when_the_budget_is_spent(self, monkeypatch):
        monkeypatch.setattr(runs, "DB_RETRY_FIRST_S", 0.05)
        fn, calls = _flaky(10**6, OperationalError("server closed the connection unexpectedly"))
        started = time.monotonic()
        with pytest.raises(
            runs.DatabaseUnavailable, match="unavailable for 0 s while test .*server closed the connection"
        ):
            runs.with_db_retry(fn, what="test", budget_s=0.4)
        assert 0.4 <= time.monotonic() - started < 2.0 and calls["n"] >= 3

    def test_it_does_not_retry_errors_that_are_not_blips(self):
        fn, calls = _flaky(1, IntegrityError("UNIQUE constraint failed"))
        with pytest.raises(IntegrityError):
            runs.with_db_retry(fn, what="test")
        assert calls["n"] == 1


def _params():
    return run_selectors.params_build(preset="default", sizes="1000,10000", seed=3)


@pytest.mark.django_db(transaction=True)
class RunBlipTests:
    def test_it_finishes_a_run_whose_progress_writes_hit_a_locked_database(self, monkeypatch):
        world_create(n_sites=60, n_points=60)
        monkeypatch.setattr(runs, "DB_RETRY_FIRST_S", 0.01)
        monkeypatch.setattr(runs, "PROGRESS_INTERVAL_S", 0.0)  # report after every draw
        real = runs._run_progress_update
        calls = {"n": 0}

        def locked_at_first(run_id):
            calls["n"] += 1
            if calls["n"] <= 4:
                raise OperationalError("database is locked")
            return real(run_id)

        monkeypatch.setattr(runs, "_run_progress_update", locked_at_first)
        params = _params()
        run = runs.scoring_run_start(params=params.to_dict(), draws=20, name="blip", dispatch=False)
        run = runs.scoring_run_execute_inline(run_id=run.id)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert calls["n"] > 4 and RunResult.objects.filter(run=run).count() == 2
        expected = run_selectors.score_loaded_sites(params=params, draws=20).table
        got = run_selectors.run_table(run).sort_values(["size_h100e", "site_id"]).reset_index(drop=True)
        want = expected.sort_values(["size_h100e", "site_id"]).reset_index(drop=True)
        assert got["score"].to_numpy() == pytest.approx(want["score"].to_numpy(), rel=1e-12, nan_ok=True)

    def test_it_fails_the_run_with_the_reason_once_the_retries_are_spent(self, monkeypatch):
        world_create(n_sites=30, n_points=30)
        monkeypatch.setattr(runs, "DB_RETRY_FIRST_S", 0.01)
        monkeypatch.setattr(runs, "DB_RETRY_S", 0.3)

        def store_fails(chunk, result, **kwargs):
            raise OperationalError("database is locked")

        monkeypatch.setattr(runs, "_store_chunk_result", store_fails)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=0, name="down", dispatch=False)
        run = runs.scoring_run_execute_inline(run_id=run.id)
        assert run.status == ScoringRun.Status.FAILED
        assert (
            "database was unavailable" in run.error
            and "storing chunk" in run.error
            and "database is locked" in run.error
        )

    def test_it_keeps_the_heartbeat_beating_through_a_blip(self, monkeypatch):
        world_create(n_sites=10, n_points=10)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=0, name="beat", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        chunk = RunChunk.objects.filter(run=run).first()
        RunChunk.objects.filter(id=chunk.id).update(status=RunChunk.Status.RUNNING)
        monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.05)
        real_beat = runs._Heartbeat.beat
        state = {"n": 0}

        def beat(self):
            state["n"] += 1
            if state["n"] <= 3:
                raise OperationalError("database is locked")
            real_beat(self)

        monkeypatch.setattr(runs._Heartbeat, "beat", beat)
        before = RunChunk.objects.get(id=chunk.id).heartbeat_at
        with runs._Heartbeat(chunk.id, run.id) as hb:
            deadline = time.monotonic() + 10
            while hb.beats < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hb._thread.is_alive()
        assert hb.failures == 3 and hb.beats >= 2
        after = RunChunk.objects.get(id=chunk.id).heartbeat_at
        assert before is None or after > before
