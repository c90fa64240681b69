"""A run's chunk layout follows the worker processes consuming its queue, unless the block is set.

Without ``GIGASITE_DRAWS_PER_BLOCK`` the block is chosen so that every worker process gets
``CHUNKS_PER_WORKER`` chunks, between ``MIN_DRAWS_PER_BLOCK`` and ``MAX_DRAWS_PER_BLOCK``
draws; with 1 or 2 workers (or none known) the layout is the fixed one of before. The real
workers answering the question are in ``tests/integration/test_run_layout_workers.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from config.celery import app
from siting import queue
from siting.models import RunChunk, ScoringRun
from siting.runs import services as runs
from siting.scoring.params import ScenarioParams
from tests.support.world import world_create

ROOT = Path(__file__).resolve().parents[3]
SIZES = (1000, 2000, 5000, 10000, 20000, 50000, 100000)
"""The default ladder: 7 sizes."""
DRAWS = 1000


@pytest.fixture(autouse=True)
def block_not_set(monkeypatch):
    """Whatever the environment of the test run says, the block is chosen per run here."""
    monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", None)


def _covered_once(layout, sizes, draws) -> None:
    by_size = defaultdict(list)
    for size, start, stop in layout:
        by_size[size].append((start, stop))
    assert sorted(by_size) == sorted(sizes)
    for size, blocks in by_size.items():
        blocks.sort()
        counts = [0] * draws
        for start, stop in blocks:
            for d in range(start, stop):
                counts[d] += 1
        assert counts == [1] * draws, f"size {size}: draws not covered exactly once"
        assert blocks[0][0] == 0


class LayoutTests:
    @pytest.mark.parametrize("workers", [None, 1, 2])
    def test_it_keeps_the_layout_of_before_with_one_or_two_workers(self, workers):
        layout = runs.chunk_layout(SIZES, DRAWS, workers=workers)
        assert len(layout) == 56
        # The same chunks; their order follows the workers (test_run_draw_blocks checks it).
        assert sorted(layout) == sorted(runs.chunk_layout(SIZES, DRAWS, draws_per_block=125))

    @pytest.mark.parametrize("workers", [1, 2, 8, 15, 40, 1000])
    def test_it_gives_every_worker_several_chunks_until_the_smallest_block(self, workers):
        block = runs.chunk_block_draws(len(SIZES), DRAWS, workers)
        layout = runs.chunk_layout(SIZES, DRAWS, workers=workers)
        assert runs.MIN_DRAWS_PER_BLOCK <= block <= runs.MAX_DRAWS_PER_BLOCK
        assert max(stop - start for _, start, stop in layout) == block
        assert len(layout) >= runs.CHUNKS_PER_WORKER * workers or block == runs.MIN_DRAWS_PER_BLOCK
        if runs.MIN_DRAWS_PER_BLOCK < block < runs.MAX_DRAWS_PER_BLOCK:
            # As few blocks as do it (one fewer per size and some worker gets fewer chunks),
            # and the draws split evenly between them (the last block is not a stub).
            per_size = len(layout) // len(SIZES)
            assert len(SIZES) * (per_size - 1) < runs.CHUNKS_PER_WORKER * workers
            assert min(stop - start for _, start, stop in layout) >= block - per_size
        _covered_once(layout, SIZES, DRAWS)

    def test_it_splits_finer_for_many_workers_and_stops_at_the_smallest_block(self):
        counts = {w: len(runs.chunk_layout(SIZES, DRAWS, workers=w)) for w in (8, 14, 15, 28, 40, 1000)}
        assert counts[8] == counts[14] == 56  # 4 chunks each: the largest block still does it
        assert counts[15] == 63  # blocks of 112
        assert counts[28] >= 4 * 28
        smallest = 7 * -(-DRAWS // runs.MIN_DRAWS_PER_BLOCK)
        assert counts[40] == counts[1000] == smallest < 4 * 40

    def test_the_block_set_by_the_operator_wins(self, monkeypatch):
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 400)
        for workers in (None, 1, 40, 1000):
            layout = runs.chunk_layout(SIZES, DRAWS, workers=workers)
            assert len(layout) == 7 * 3
            _covered_once(layout, SIZES, DRAWS)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 7)  # below the smallest chosen block: still used
        assert len(runs.chunk_layout(SIZES, 70, workers=1000)) == 7 * 10

    @pytest.mark.parametrize("draws", [0, 1, 59, 61, 125, 999])
    def test_any_draw_count_is_covered_exactly_once(self, draws):
        for workers in (None, -3, 0, 1, 2, 3, 40, 1000):
            layout = runs.chunk_layout(SIZES, draws, workers=workers)
            if draws == 0:
                assert layout == [(size, 0, 0) for size in SIZES]
            else:
                _covered_once(layout, SIZES, draws)


class SettingTests:
    @pytest.mark.parametrize(("value", "expected"), [(None, "None"), ("", "None"), ("400", "400")])
    def test_the_block_is_read_from_the_environment(self, value, expected):
        env = {k: v for k, v in os.environ.items() if k != "GIGASITE_DRAWS_PER_BLOCK"}
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        if value is not None:
            env["GIGASITE_DRAWS_PER_BLOCK"] = value
        code = "import django; django.setup(); from siting.runs import services as s; print(s.DRAWS_PER_BLOCK)"
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        assert out.stdout.strip().splitlines()[-1] == expected


@pytest.mark.django_db(transaction=True)
class RunLayoutTests:
    @pytest.fixture(autouse=True)
    def world(self):
        world_create(n_sites=40, n_points=40, seed=3)

    def _run(self, draws: int = 240) -> ScoringRun:
        params = ScenarioParams(sizes=(1000, 10000, 50000, 100000))
        return runs.scoring_run_start(params=params.to_dict(), draws=draws, name="layout", dispatch=False)

    def _published(self, monkeypatch, published: list[list[int]] | None = None) -> ScoringRun:
        """Execute a run as a worker does, its chunks' publishing recorded instead of sent."""
        monkeypatch.setattr(runs, "_publish_chunks", (published if published is not None else []).append)
        run = self._run()
        runs.scoring_run_execute(run_id=run.id)
        run.refresh_from_db()
        return run

    def test_a_published_run_is_laid_out_for_the_workers_the_queue_reports(self, monkeypatch):
        asked: list[str] = []
        published: list[list[int]] = []
        monkeypatch.setattr(queue, "queue_pool_processes", lambda name: asked.append(name) or 3)
        run = self._published(monkeypatch, published)
        assert asked == [queue.SCORING_CHUNK_EXECUTE]
        # 3 workers × 4 chunks over 4 sizes: 3 blocks of 80 draws per size (125 would make 8 chunks).
        assert run.n_chunks == 12 == len(published[0])
        assert set(RunChunk.objects.filter(run=run).values_list("draw_start", "draw_stop")) == {
            (0, 80),
            (80, 160),
            (160, 240),
        }
        assert run.stage == "scoring: 12 chunks of ≤ 80 draws for 3 worker processes"

    def test_a_run_no_worker_answers_for_keeps_the_largest_block_and_says_so(self, monkeypatch):
        monkeypatch.setattr(queue, "queue_pool_processes", lambda name: None)
        run = self._published(monkeypatch)
        assert run.n_chunks == 8
        assert run.stage == "scoring: 8 chunks of ≤ 125 draws (no worker answered)"

    def test_an_inline_run_or_a_set_block_does_not_ask_the_queue(self, monkeypatch):
        def never(name):
            raise AssertionError("asked the queue")

        monkeypatch.setattr(queue, "queue_pool_processes", never)
        run = runs.scoring_run_execute_inline(run_id=self._run().id)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert run.n_chunks == 8
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 60)
        run = self._published(monkeypatch)
        assert run.n_chunks == 16
        assert run.stage == "scoring: 16 chunks of ≤ 60 draws (GIGASITE_DRAWS_PER_BLOCK)"


class QueueWithoutBrokerTests:
    def test_it_answers_none_when_the_broker_is_unreachable(self, monkeypatch):
        monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens on port 1
        monkeypatch.setitem(app.conf, "broker_write_url", None)
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None

    def test_it_does_not_broadcast_over_the_one_machine_filesystem_broker(self, monkeypatch, tmp_path):
        folders = {"data_folder_in": tmp_path / "out", "data_folder_out": tmp_path / "out"}
        folders["processed_folder"] = tmp_path / "processed"
        for folder in folders.values():
            folder.mkdir(exist_ok=True)
        monkeypatch.setitem(app.conf, "broker_url", "filesystem://")
        monkeypatch.setitem(app.conf, "broker_write_url", None)
        monkeypatch.setitem(app.conf, "broker_transport_options", {k: str(v) for k, v in folders.items()})
        monkeypatch.chdir(tmp_path)
        assert queue.queue_pool_processes(queue.SCORING_CHUNK_EXECUTE) is None
        assert not (tmp_path / "control").exists()  # a broadcast would have left ./control behind
