"""A run split into blocks of Monte Carlo draws gives the statistics of the same run in one chunk."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from siting import frames
from siting.models import RunChunk, RunInput, RunResult, ScoringRun
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.scoring import engine, prepare, sketch
from tests.support.world import world_create

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = "1000,50000"
DRAWS = 60
MC_COLUMNS = list(sketch.STAT_COLUMNS)


def _params():
    return run_selectors.params_build(preset="default", sizes=SIZES, seed=11)


def _run(monkeypatch, draws_per_block: int, draws: int = DRAWS) -> ScoringRun:
    monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", draws_per_block)
    run = runs.scoring_run_start(
        params=_params().to_dict(), draws=draws, name=f"blocks of {draws_per_block}", dispatch=False
    )
    return runs.scoring_run_execute_inline(run_id=run.id)


def _table(run: ScoringRun) -> pd.DataFrame:
    return run_selectors.run_table(run).sort_values(["size_h100e", "site_id"]).reset_index(drop=True)


def _raw_ranks(params, draws: int) -> dict[int, np.ndarray]:
    """Return every draw's ranks per size, straight from the engine's per-draw evaluation."""
    prep = prepare._prepare(run_selectors.scoring_inputs(), params)
    out = {}
    for size in params.sizes:
        out[size] = np.vstack(
            [engine._evaluate(params, prep, size, engine._draw(params, prep, d), "reference")[1] for d in range(draws)]
        )
    return out


class DrawBlockTests:
    def test_it_gives_the_same_statistics_in_draw_blocks_as_in_one_chunk(self, monkeypatch):
        world_create(n_sites=400, n_points=250, seed=4)
        one = _run(monkeypatch, draws_per_block=1000)
        split = _run(monkeypatch, draws_per_block=7)  # 9 blocks per size, the last one shorter
        assert one.status == split.status == ScoringRun.Status.SUCCEEDED, (one.error, split.error)
        assert one.chunks.count() == 2 and split.chunks.count() == 2 * 9 == split.n_chunks
        assert set(split.chunks.values_list("draw_start", "draw_stop").distinct()) == {
            (a, min(a + 7, DRAWS)) for a in range(0, DRAWS, 7)
        }
        assert not split.chunks.filter(partial__isnull=False).exists()  # merged, then cleared
        a, b = _table(one), _table(split)
        pd.testing.assert_frame_equal(a, b)  # every column, the statistics included, bit for bit
        in_process = run_selectors.score_loaded_sites(params=_params(), draws=DRAWS).table
        pd.testing.assert_frame_equal(
            b[MC_COLUMNS], in_process.sort_values(["size_h100e", "site_id"]).reset_index(drop=True)[MC_COLUMNS]
        )

        # Against the raw ranks of every draw: counts exact, percentiles within the bound.
        raw = _raw_ranks(_params(), DRAWS)
        for size, ranks in raw.items():
            at = b[b["size_h100e"] == size]
            np.testing.assert_array_equal(at["mc_p_feasible"], np.isfinite(ranks).sum(axis=0) / DRAWS)
            np.testing.assert_array_equal(
                at["mc_p_top10"], (np.nan_to_num(ranks, nan=np.inf) <= 10).sum(axis=0) / DRAWS
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                exact = np.nanpercentile(ranks, sketch.PERCENTILES, axis=0)
            for j, name in enumerate(("mc_rank_p05", "mc_rank_median", "mc_rank_p95")):
                got, want = at[name].to_numpy(), exact[j]
                assert np.array_equal(np.isnan(got), np.isnan(want)), name
                ok = ~np.isnan(want)
                assert (np.abs(got[ok] - want[ok]) <= sketch.RELATIVE_ACCURACY * want[ok] * (1 + 1e-12)).all(), (
                    size,
                    name,
                )
                small = ok & (np.nan_to_num(ranks, nan=0.0).max(axis=0) <= sketch.EXACT_RANK_MAX)
                assert small.any()
                np.testing.assert_allclose(got[small], want[small], rtol=1e-12, err_msg=name)

    def test_it_merges_once_after_a_worker_dies_while_merging_and_the_sweep_gives_the_block_back(self, monkeypatch):
        world_create(n_sites=150, n_points=120, seed=5)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 10)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=30, name="crash", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        chunks = list(RunChunk.objects.filter(run=run).order_by("index").values_list("id", flat=True))
        for chunk_id in chunks[:-1]:
            runs.scoring_chunk_execute(chunk_id=chunk_id)
        assert RunResult.objects.filter(run=run).count() == 1  # the size whose blocks are all done

        real = runs.size_merge

        def dies(**kwargs):
            raise SystemExit("worker killed while merging")  # not an Exception: nothing marks it failed

        monkeypatch.setattr(runs, "size_merge", dies)
        with pytest.raises(SystemExit):
            runs.scoring_chunk_execute(chunk_id=chunks[-1])
        last = RunChunk.objects.get(id=chunks[-1])
        assert last.status == RunChunk.Status.RUNNING and last.partial is None  # the transaction rolled back
        assert ScoringRun.objects.get(id=run.id).status == ScoringRun.Status.RUNNING

        monkeypatch.setattr(runs, "size_merge", real)
        stale = pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=5)
        RunChunk.objects.filter(id=last.id).update(heartbeat_at=stale)
        ScoringRun.objects.filter(id=run.id).update(heartbeat_at=stale)
        assert runs.scoring_runs_sweep(stale_after_s=60)["chunks_requeued"] == 1
        runs.scoring_chunk_execute(chunk_id=last.id)
        runs.scoring_chunk_execute(chunk_id=last.id)  # a redelivered message does nothing
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert RunChunk.objects.get(id=last.id).attempts == 2
        expected = run_selectors.score_loaded_sites(params=_params(), draws=30).table
        pd.testing.assert_frame_equal(
            _table(run), expected.sort_values(["size_h100e", "site_id"]).reset_index(drop=True)
        )

    def test_blocks_keep_only_their_sketch_and_the_merge_scores_the_size_as_the_engine_does(self, monkeypatch):
        world_create(n_sites=200, n_points=150, seed=6)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 10)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=20, name="sketch only", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        chunks = list(RunChunk.objects.filter(run=run).order_by("index"))
        runs.scoring_chunk_execute(chunk_id=chunks[0].id)  # the first block of the first size
        stored = RunChunk.objects.get(id=chunks[0].id)
        tables, arrays = frames.frames_unpack(bytes(stored.partial))
        assert tables == {} and arrays  # its sketch, no table: the merge scores the size
        for chunk in chunks[1:]:
            runs.scoring_chunk_execute(chunk_id=chunk.id)
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        expected = run_selectors.score_loaded_sites(params=_params(), draws=0).table
        got = _table(run)
        deterministic = [c for c in expected.columns if c not in MC_COLUMNS]
        expected = expected.sort_values(["size_h100e", "site_id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[deterministic], expected[deterministic], check_dtype=False, check_exact=True)
        assert got[MC_COLUMNS].notna().any().all()

    def test_it_keeps_nothing_of_a_run_cancelled_between_blocks(self, monkeypatch):
        world_create(n_sites=80, n_points=60, seed=6)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 5)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=20, name="cancel", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        chunks = list(RunChunk.objects.filter(run=run).order_by("index").values_list("id", flat=True))
        for chunk_id in chunks[:3]:
            runs.scoring_chunk_execute(chunk_id=chunk_id)
        assert runs.scoring_run_cancel(run=run)
        for chunk_id in chunks[3:]:
            runs.scoring_chunk_execute(chunk_id=chunk_id)  # claims fail: the run is not running
        assert not RunResult.objects.filter(run=run).exists()
        assert RunChunk.objects.filter(run=run, status=RunChunk.Status.DONE).count() == 3
        assert not RunChunk.objects.filter(run=run, partial__isnull=False).exists()
        assert ScoringRun.objects.get(id=run.id).status == ScoringRun.Status.CANCELLED

    def test_it_lays_out_blocks_first_block_first_and_one_chunk_per_size_without_draws(self):
        assert runs.chunk_layout((1000, 5000), 0, 10) == [(1000, 0, 0), (5000, 0, 0)]
        assert runs.chunk_layout((1000, 5000), 25, 10) == [
            (1000, 0, 10),
            (5000, 0, 10),
            (1000, 10, 20),
            (5000, 10, 20),
            (1000, 20, 25),
            (5000, 20, 25),
        ]

    def test_it_sends_the_other_blocks_a_group_of_sizes_after_another_for_the_workers_it_sees(self):
        sizes = (1000, 2000, 5000)
        layout = runs.chunk_layout(sizes, 30, 10, workers=2)
        assert layout == [
            (1000, 0, 10),
            (2000, 0, 10),
            (5000, 0, 10),  # every first block first
            (1000, 10, 20),  # the short group first: the first size alone ends here, while
            (1000, 20, 30),  # the others still score
            (2000, 10, 20),
            (5000, 10, 20),
            (2000, 20, 30),
            (5000, 20, 30),  # the run ends on a whole group: two merges side by side
        ]
        # Groups of two over 7 sizes: 1 | 2 3 | 4 5 | 6 7; of three: 1 | 2 3 4 | 5 6 7.
        seven = (1, 2, 3, 4, 5, 6, 7)

        def groups(workers):
            order = []
            for size, _, _ in runs.chunk_layout(seven, 30, 10, workers=workers)[7:]:
                if size not in order:
                    order.append(size)
            return order, [size for size, _, _ in runs.chunk_layout(seven, 30, 10, workers=workers)[-workers:]]

        assert groups(2) == ([1, 2, 3, 4, 5, 6, 7], [6, 7])
        assert groups(3) == ([1, 2, 3, 4, 5, 6, 7], [5, 6, 7])
        assert runs.chunk_layout(seven, 30, 10, workers=3)[7:9] == [(1, 10, 20), (1, 20, 30)]
        # As many workers as sizes, or more, or unknown: one group, block after block.
        assert runs.chunk_layout(sizes, 30, 10, workers=3) == runs.chunk_layout(sizes, 30, 10, workers=40)
        assert runs.chunk_layout(sizes, 30, 10, workers=3) == runs.chunk_layout(sizes, 30, 10)
        # One worker: size after size. Every chunk is there once, whatever the grouping.
        assert runs.chunk_layout(sizes, 30, 10, workers=1)[3:] == [(s, a, a + 10) for s in sizes for a in (10, 20)]
        for workers in (1, 2, 3, 5):
            assert sorted(runs.chunk_layout(sizes, 25, 10, workers=workers)) == sorted(runs.chunk_layout(sizes, 25, 10))


class TestMergeOutsideTheLock:
    def test_the_last_block_merges_its_size_before_taking_the_runs_lock(self, monkeypatch):
        world_create(n_sites=120, n_points=100, seed=8)
        real = runs.size_merge
        in_transaction: list[bool] = []

        def watched(**kwargs):
            in_transaction.append(connection.in_atomic_block)
            return real(**kwargs)

        monkeypatch.setattr(runs, "size_merge", watched)
        run = _run(monkeypatch, draws_per_block=20)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert in_transaction == [False, False]  # one merge per size, none holding the lock

    def test_a_merge_made_from_other_blocks_is_not_used(self, monkeypatch):
        world_create(n_sites=120, n_points=100, seed=8)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 20)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=DRAWS, name="stale merge", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        chunks = list(RunChunk.objects.filter(run=run).order_by("index"))
        for chunk in chunks[:-1]:
            runs.scoring_chunk_execute(chunk_id=chunk.id)
        last = RunChunk.objects.select_related("run").get(id=chunks[-1].id)
        RunChunk.objects.filter(id=last.id).update(status=RunChunk.Status.RUNNING)
        partial = runs.score_chunk(
            inputs=runs.run_inputs(run.id),
            params_dict=run.params,
            size_h100e=last.size_h100e,
            draw_start=last.draw_start,
            draw_stop=last.draw_stop,
        )
        wrong = {
            "n_sites": -1,
            "n_feasible": -1,
            "best_site_id": None,
            "best_score": None,
            "table": b"",
            "options": None,
        }
        runs._store_chunk_result(last, partial, premerged=(frozenset({-1}), wrong))
        result = RunResult.objects.get(run=run, size_h100e=last.size_h100e)
        assert result.n_sites == 120  # merged again under the lock, from the blocks stored
        assert ScoringRun.objects.get(id=run.id).status == ScoringRun.Status.SUCCEEDED


class TestSnapshotCache:
    """A worker process unpacks a run's snapshot once and reuses it for the run's next chunks."""

    def _copy(self, inputs):
        return copy.deepcopy(inputs)

    def _assert_same(self, a, b) -> None:
        for name in ("sites", "grid", "zones", "lines"):
            x, y = getattr(a, name), getattr(b, name)
            if x is None or y is None:
                assert x is None and y is None, name
            else:
                pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)
        assert a.hourly_carbon.keys() == b.hourly_carbon.keys()
        for zone, values in a.hourly_carbon.items():
            np.testing.assert_array_equal(values, b.hourly_carbon[zone])
        assert a.outlines == b.outlines

    def test_chunks_reuse_one_unpacked_snapshot_that_scoring_leaves_unchanged(self, monkeypatch):
        world_create(n_sites=150, n_points=120, seed=5)
        runs._snapshots.clear()
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 10)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=30, name="cached snapshot", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        unpacked = []
        real_unpack = run_selectors.scoring_inputs_unpack
        monkeypatch.setattr(run_selectors, "scoring_inputs_unpack", lambda *a: unpacked.append(1) or real_unpack(*a))
        first = runs.run_inputs(run.id)
        before = self._copy(first)
        for chunk_id in RunChunk.objects.filter(run=run).order_by("index").values_list("id", flat=True):
            runs.scoring_chunk_execute(chunk_id=chunk_id)
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert run.n_chunks == 6 and len(unpacked) == 1  # six chunks, one unpacking
        self._assert_same(first, before)  # no chunk changed the shared inputs, nor their order
        # No chunk left to start: the process let the snapshot go (read again if asked).
        assert runs._snapshots._key is None
        assert runs.run_inputs(run.id) is not first and len(unpacked) == 2
        fresh = real_unpack(*runs.frames.frames_unpack(bytes(RunInput.objects.get(run=run).payload)))
        self._assert_same(fresh, before)

    def _snapshotted(self, n_sites: int, seed: int) -> tuple[ScoringRun, object]:
        """A run of a fresh world with its snapshot taken, and its inputs as this process holds them."""
        world_create(n_sites=n_sites, n_points=n_sites - 10, seed=seed)
        runs._snapshots.clear()
        run = runs.scoring_run_start(params=_params().to_dict(), draws=0, name=f"snapshot {seed}", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        return run, runs.run_inputs(run.id)

    def test_a_replaced_snapshot_is_read_again_and_a_damaged_one_is_refused(self):
        run, first = self._snapshotted(60, seed=6)
        # An earlier attempt's snapshot replaced by a new one (another checksum): not reused.
        snapshot = RunInput.objects.get(run=run)
        sites = first.sites.iloc[:-1]
        frames_in, arrays = run_selectors.scoring_inputs_pack(
            run_selectors.ScoringInputs(
                sites=sites, grid=first.grid, zones=first.zones, hourly_carbon=first.hourly_carbon
            )
        )
        payload = runs.frames.frames_pack(frames_in, arrays)
        RunInput.objects.filter(id=snapshot.id).update(payload=payload, sha256=runs.hashlib.sha256(payload).hexdigest())
        second = runs.run_inputs(run.id)
        assert second is not first and len(second.sites) == len(first.sites) - 1
        # Each snapshot's inputs are named by its checksum, which the chunks' preparation goes by.
        assert second.content_key.endswith(bytes.fromhex(runs.hashlib.sha256(payload).hexdigest()))
        assert first.content_key != second.content_key
        # A payload that does not match its checksum is refused, not scored.
        RunInput.objects.filter(id=snapshot.id).update(payload=payload[:-10] + b"0123456789", sha256="0" * 64)
        with pytest.raises(ValueError, match="checksum"):
            runs.run_inputs(run.id)
        runs._snapshots.clear()
        with pytest.raises(RunInput.DoesNotExist):
            runs.run_inputs(run.id + 1000)

    def test_a_snapshot_left_unused_expires_and_one_used_again_does_not(self):
        run, first = self._snapshotted(40, seed=7)
        cache = runs._snapshots
        used = cache._used
        cache.expire_later(3600.0)  # a timer is set; fire its expiry by hand below
        assert cache._timer is not None and cache._timer.is_alive()
        cache._timer.cancel()
        assert runs.run_inputs(run.id) is first  # used again since: the old expiry keeps it
        cache._expire(used)
        assert runs.run_inputs(run.id) is first
        cache._expire(cache._used)  # not used since: let go
        assert cache._key is None
        assert runs.run_inputs(run.id) is not first


class TestProgressInterval:
    def _chunk(self, monkeypatch, interval_s: float):
        world_create(n_sites=80, n_points=60, seed=9)
        monkeypatch.setattr(runs, "PROGRESS_INTERVAL_S", interval_s)
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 40)
        run = runs.scoring_run_start(params=_params().to_dict(), draws=40, name="progress", dispatch=False)
        runs.scoring_run_execute(run_id=run.id, publish=False)
        return run, RunChunk.objects.filter(run=run).order_by("index").first()

    def test_a_chunk_reports_at_most_once_an_interval(self, monkeypatch):
        reports = []
        real = runs._run_progress_update
        monkeypatch.setattr(runs, "_run_progress_update", lambda run_id: reports.append(run_id) or real(run_id))
        run, chunk = self._chunk(monkeypatch, 3600.0)
        runs.scoring_chunk_execute(chunk_id=chunk.id)
        assert reports == []  # shorter than the interval: its completion is its progress
        RunChunk.objects.filter(id=chunk.id).update(status=RunChunk.Status.PENDING)
        monkeypatch.setattr(runs, "PROGRESS_INTERVAL_S", 0.0)
        runs.scoring_chunk_execute(chunk_id=chunk.id)
        assert len(reports) == 40  # after every draw

    def test_a_cancel_stops_a_chunk_at_its_next_report(self, monkeypatch):
        run, chunk = self._chunk(monkeypatch, 0.0)
        real = runs._run_progress_update

        def cancel_on_first_report(run_id):
            real(run_id)
            runs.scoring_run_cancel(run=ScoringRun.objects.get(id=run_id))

        monkeypatch.setattr(runs, "_run_progress_update", cancel_on_first_report)
        runs.scoring_chunk_execute(chunk_id=chunk.id)
        chunk.refresh_from_db()
        assert chunk.status == RunChunk.Status.FAILED and chunk.error == "run cancelled"
        assert chunk.progress_pct < 100.0 and not RunResult.objects.filter(run=run).exists()
