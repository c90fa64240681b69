"""The mergeable rank sketch: exact counts, percentiles within the documented bound, any split."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from siting.scoring import sketch

FIELDS = ("n_feasible", "n_top", "rank_min", "rank_max", "site", "bucket", "count")


def ranks_world(n_draws: int, n_sites: int, seed: int = 0) -> np.ndarray:
    """Return whole-number ranks ≥ 1 spread around each site's own level, with exclusions."""
    rng = np.random.default_rng(seed)
    level = rng.permutation(n_sites) + 1.0
    ranks = np.maximum(1.0, np.round(level[None, :] * rng.lognormal(0.0, 0.4, (n_draws, n_sites)))).astype(np.float32)
    ranks[rng.random((n_draws, n_sites)) < 0.15] = np.nan
    ranks[:, 0] = 4.0  # always the same rank
    ranks[:, 1] = np.nan  # never feasible
    ranks[:, 2] = np.where(np.arange(n_draws) % 2, 3_000.0, 7.0)  # two far-apart ranks
    ranks[:, 3:40] = np.ceil(ranks[:, 3:40] / 200.0)  # leading sites: ranks within the exact range
    return ranks


def exact_percentiles(ranks: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        return np.nanpercentile(ranks.astype(np.float64), sketch.PERCENTILES, axis=0)


class RankSketchTests:
    @pytest.mark.parametrize("impl", ["kernel", "reference"])
    def test_it_keeps_percentiles_within_the_relative_bound_and_exact_for_small_ranks(self, impl):
        ranks = ranks_world(300, 5_000)
        stats = sketch.rank_stats(sketch.sketch_block(ranks, 0, impl))
        exact = exact_percentiles(ranks)
        for j, name in enumerate(("mc_rank_p05", "mc_rank_median", "mc_rank_p95")):
            got, want = stats[name], exact[j]
            assert np.array_equal(np.isnan(got), np.isnan(want)), name
            ok = ~np.isnan(want)
            assert (np.abs(got[ok] - want[ok]) <= sketch.RELATIVE_ACCURACY * want[ok] * (1 + 1e-12)).all(), name
            # Every rank of the site in the exact range: exact.
            small = ok & (np.nan_to_num(ranks, nan=0.0).max(axis=0) <= sketch.EXACT_RANK_MAX)
            assert small.sum() > 20
            np.testing.assert_allclose(got[small], want[small], rtol=1e-12, err_msg=name)
        assert stats["mc_rank_median"][0] == 4.0
        assert np.isnan(stats["mc_rank_median"][1]) and stats["mc_p_feasible"][1] == 0.0
        # Sanity of the check itself: a sketch is not simply exact everywhere.
        assert not np.allclose(stats["mc_rank_median"][3:], exact[1][3:], rtol=1e-9, equal_nan=True)

    def test_it_counts_feasible_and_top_ten_draws_exactly(self):
        ranks = ranks_world(200, 2_000, seed=1)
        stats = sketch.rank_stats(sketch.sketch_block(ranks, 0))
        np.testing.assert_array_equal(stats["mc_p_feasible"], np.isfinite(ranks).sum(axis=0) / 200)
        np.testing.assert_array_equal(stats["mc_p_top10"], (np.nan_to_num(ranks, nan=np.inf) <= 10).sum(axis=0) / 200)

    def test_it_gives_the_same_kernel_and_reference_sketch(self):
        ranks = ranks_world(120, 3_000, seed=2)
        k, r = sketch.sketch_block(ranks, 40, "kernel"), sketch.sketch_block(ranks, 40, "reference")
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(k, name), getattr(r, name), err_msg=name)
        assert (k.draw_start, k.draw_stop) == (40, 160)

    @pytest.mark.parametrize(
        ("n_draws", "n_sites", "within"),
        [(0, 10, True), (5, 3, True), (7, 63, False), (125, 4_000, True), (125, 4_000, False)],
    )
    def test_the_kernel_gives_the_reference_sketch_for_any_shape_and_rank_range(self, n_draws, n_sites, within):
        # ``within``: ranks at most the number of sites, as a run's are (the table the kernel
        # starts from); otherwise some lie beyond it, and the kernel takes a longer table.
        ranks = ranks_world(n_draws, n_sites, seed=3) if n_draws else np.empty((0, n_sites), dtype=np.float32)
        if within:
            ranks = np.minimum(ranks, n_sites)
        else:
            assert np.nanmax(ranks) > n_sites
        k, r = sketch.sketch_block(ranks, 0, "kernel"), sketch.sketch_block(ranks, 0, "reference")
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(k, name), getattr(r, name), err_msg=name)
        assert k.n_sites == n_sites

    def test_the_kernel_reads_any_memory_layout_and_float_width(self):
        ranks = np.minimum(ranks_world(40, 300, seed=5), 300)
        want = sketch.sketch_block(ranks, 0, "reference")
        for given in (ranks.astype(np.float64), np.asfortranarray(ranks), np.repeat(ranks, 2, axis=1)[:, ::2]):
            got = sketch.sketch_block(given, 0, "kernel")
            for name in FIELDS:
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)

    @pytest.mark.parametrize("bad", [np.inf, -np.inf, -3.0])
    def test_the_kernel_refuses_a_rank_that_is_no_rank(self, bad):
        ranks = np.minimum(ranks_world(10, 50, seed=4), 50)
        ranks[3, 7] = bad
        with pytest.raises(ValueError, match="whole numbers"):
            sketch.sketch_block(ranks, 0, "kernel")

    @pytest.mark.parametrize(
        "cuts", [[0, 1000], [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], [0, 1, 333, 999, 1000]]
    )
    def test_it_gives_the_same_statistics_however_the_draws_are_split(self, cuts):
        ranks = ranks_world(1000, 1_500, seed=3)
        whole = sketch.rank_stats(sketch.sketch_block(ranks, 0))
        blocks = [sketch.sketch_block(ranks[a:b], a) for a, b in zip(cuts, cuts[1:])]
        stored = [
            sketch.sketch_from_arrays(sketch.sketch_arrays(b)) for b in blocks[::-1]
        ]  # any order, stored and read
        merged = sketch.merge(stored)
        assert (merged.draw_start, merged.draw_stop) == (0, 1000)
        for name, values in sketch.rank_stats(merged).items():
            np.testing.assert_array_equal(values, whole[name], err_msg=name)

    @pytest.mark.parametrize("cuts", [[0, 30, 60], [0, 1, 2, 30, 59, 60], [0, 20, 20, 40, 60]])
    def test_it_merges_the_same_sketch_with_the_kernel_and_the_reference(self, cuts):
        # Blocks of one draw, an empty block, sites never feasible and always at one rank.
        ranks = ranks_world(60, 2_500, seed=4)
        blocks = [sketch.sketch_block(ranks[a:b], a) for a, b in zip(cuts, cuts[1:])]
        k, r = sketch.merge(blocks, impl="kernel"), sketch.merge(blocks, impl="reference")
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(k, name), getattr(r, name), err_msg=name)
            assert getattr(k, name).dtype == getattr(r, name).dtype, name
        whole = sketch.sketch_block(ranks, 0)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(k, name), getattr(whole, name), err_msg=name)
        assert (np.diff(k.site) >= 0).all() and (k.count > 0).all()

    def test_the_kernel_refuses_entries_not_grouped_by_site(self):
        ranks = ranks_world(20, 40, seed=5)
        a, b = sketch.sketch_block(ranks[:10], 0), sketch.sketch_block(ranks[10:], 10)
        b.site, b.bucket, b.count = b.site[::-1].copy(), b.bucket[::-1].copy(), b.count[::-1].copy()
        with pytest.raises(ValueError, match="grouped by site"):
            sketch.merge([a, b])

    def test_it_refuses_blocks_that_overlap_or_leave_a_gap(self):
        ranks = ranks_world(30, 50)
        a, b = sketch.sketch_block(ranks[:10], 0), sketch.sketch_block(ranks[5:15], 5)
        with pytest.raises(ValueError, match="overlap or leave a gap"):
            sketch.merge([a, b])
        with pytest.raises(ValueError, match="overlap or leave a gap"):
            sketch.merge([a, sketch.sketch_block(ranks[20:30], 20)])

    def test_it_puts_each_rank_in_a_bucket_whose_value_is_within_the_bound(self):
        ranks = np.arange(1, 200_001, dtype=np.float64)
        values = sketch.bucket_value(sketch.bucket_index(ranks))
        assert (np.abs(values - ranks) <= sketch.RELATIVE_ACCURACY * ranks * (1 + 1e-12)).all()
        np.testing.assert_array_equal(values[: sketch.EXACT_RANK_MAX], ranks[: sketch.EXACT_RANK_MAX])
        assert np.all(np.diff(sketch.bucket_index(ranks)) >= 0)


class TestStoredLayout:
    def test_counts_above_one_byte_and_sites_without_entries_round_trip(self):
        ranks = np.full((300, 4), np.nan)
        ranks[:, 0] = 1.0  # one bucket counted 300 times: more than a uint8 holds
        ranks[:, 2] = np.arange(1, 301)
        block = sketch.sketch_block(ranks, 0)
        arrays = sketch.sketch_arrays(block)
        assert arrays["count"].dtype == np.uint16
        back = sketch.sketch_from_arrays(arrays)
        for field in ("site", "bucket", "count", "n_feasible", "n_top", "rank_min", "rank_max"):
            np.testing.assert_array_equal(getattr(back, field), getattr(block, field))

    def test_the_earlier_layout_still_reads(self):
        block = sketch.sketch_block(np.array([[1.0, 2.0], [2.0, 1.0]]), 0)
        arrays = sketch.sketch_arrays(block)
        arrays["site"] = np.repeat(np.arange(2, dtype=np.int32), arrays.pop("site_entries"))
        np.testing.assert_array_equal(sketch.sketch_from_arrays(arrays).site, block.site)
