"""Mergeable Monte Carlo rank statistics: exact counts and a per-site log-bucket rank sketch.

A run's Monte Carlo is split into blocks of draws that may be computed on different workers;
each block is summarised by a :class:`RankSketch` and the sketches of all blocks are merged
into the statistics the engine reports per site and size (``mc_p_feasible``,
``mc_rank_p05``, ``mc_rank_median``, ``mc_rank_p95``, ``mc_p_top10``).

What merges exactly
    The number of draws, and per site the draws in which it was feasible, the draws in which
    it ranked in the top 10, and its lowest and highest rank: sums, minima and maxima. The two
    probabilities are these counts over the number of draws, so they are exactly what the
    whole set of draws in one place gives.

Percentiles, and their bound
    Each site's feasible ranks go into buckets in the style of DDSketch (Masson, Rim & Lee,
    "DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees",
    PVLDB 12(12), 2019): ranks 1 to ``EXACT_RANK_MAX`` each have their own bucket; a rank
    r > ``EXACT_RANK_MAX`` goes to the bucket k = ⌈log_γ r⌉, which holds (γ^(k−1), γ^k], with
    γ = (1 + α) / (1 − α) and α = ``RELATIVE_ACCURACY``. Buckets hold counts, so merging adds
    them and the merged sketch does not depend on how the draws were split. A percentile is
    read as ``numpy.percentile`` (linear interpolation) reads it, at the same positions, with
    each order statistic replaced by its bucket's value (the rank itself for an exact bucket,
    2γ^k / (γ + 1) for a log bucket) clipped to the site's lowest and highest rank.

    **Bound**: for every site, each reported percentile p̂ satisfies |p̂ − p| ≤ α·p, where p
    is ``numpy.percentile(ranks, q)`` of the site's feasible ranks over all draws; p̂ = p
    exactly when both order statistics it interpolates are ranks ≤ ``EXACT_RANK_MAX``, or the
    site's rank never changed. (A value in (γ^(k−1), γ^k] is within α of 2γ^k / (γ + 1);
    clipping to an interval that holds the true value only brings it closer; interpolating two
    values each within α of theirs stays within α of the interpolation.)

Size
    A block stores four dense arrays over the sites and, per site, one (bucket, count) pair
    per distinct bucket it reached: at most min(draws in the block, buckets spanned by its
    ranks), about ln(r_max / r_min) / (2α) + 1 for ranks spread from r_min to r_max. A merged
    sketch is bounded the same way over all draws, never by the number of draws alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

RELATIVE_ACCURACY = 0.005
"""α: relative accuracy of the rank percentiles (0.5 %: rank 2,000 is reported within ±10).
Modelling assumption: far below the spread of a site's ranks over the draws."""
GAMMA = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
EXACT_RANK_MAX = 100
"""Ranks up to this have a bucket each: below 1 / (γ − 1) ≈ 99.5 a log bucket is narrower than
one rank, so exact buckets cost nothing more, and the leading sites get exact intervals."""
TOP_RANK = 10.0
"""``mc_p_top10`` counts draws with a rank of at most this."""
STAT_COLUMNS = ("mc_p_feasible", "mc_rank_p05", "mc_rank_median", "mc_rank_p95", "mc_p_top10")
PERCENTILES = (5.0, 50.0, 95.0)

_LOG_GAMMA = math.log(GAMMA)
_K0 = math.ceil(math.log(EXACT_RANK_MAX) / _LOG_GAMMA)
"""Log bucket k is stored at index ``EXACT_RANK_MAX + k − _K0`` (k ≥ _K0 for ranks above the exact range)."""


@dataclass
class RankSketch:
    """Monte Carlo rank statistics of draws [draw_start, draw_stop) for ``n`` sites.

    Attributes
    ----------
    draw_start, draw_stop : int
        The draws summarised (a half-open range of draw indices).
    n_feasible, n_top : uint32[n]
        Draws in which the site was ranked, and ranked at most ``TOP_RANK``. [-]
    rank_min, rank_max : float64[n]
        Lowest and highest rank over those draws (NaN when never ranked). [-]
    site, bucket, count : int32[k], int32[k], uint32[k]
        Sparse bucket counts, sorted by site then bucket; no zero counts.
    """

    draw_start: int
    draw_stop: int
    n_feasible: np.ndarray
    n_top: np.ndarray
    rank_min: np.ndarray
    rank_max: np.ndarray
    site: np.ndarray
    bucket: np.ndarray
    count: np.ndarray

    @property
    def n_draws(self) -> int:
        return self.draw_stop - self.draw_start

    @property
    def n_sites(self) -> int:
        return len(self.n_feasible)


def bucket_index(ranks: np.ndarray) -> np.ndarray:
    """Return the bucket index of each rank (no NaN; ranks below 1 count as 1). [-]"""
    ranks = np.maximum(np.asarray(ranks, dtype=np.float64), 1.0)
    exact = ranks <= EXACT_RANK_MAX
    k = np.ceil(np.log(np.maximum(ranks, 1.0)) / _LOG_GAMMA)
    return np.where(exact, np.ceil(ranks) - 1.0, EXACT_RANK_MAX + k - _K0).astype(np.int32)


def bucket_value(index: np.ndarray) -> np.ndarray:
    """Return the value a bucket stands for: its rank, or 2γ^k / (γ + 1) for log bucket k. [-]"""
    index = np.asarray(index, dtype=np.float64)
    k = index - EXACT_RANK_MAX + _K0
    return np.where(index < EXACT_RANK_MAX, index + 1.0, 2.0 * np.exp(k * _LOG_GAMMA) / (GAMMA + 1.0))


def _bucket_table(ranks: np.ndarray) -> np.ndarray:
    """Return ``bucket_index`` of every whole rank from 0 to the largest in ``ranks``.

    Ranks are whole numbers (competition ranking), so a table looked up by rank buckets them
    with one logarithm per possible rank, the same in both implementations below.
    """
    top = np.nanmax(ranks) if np.isfinite(ranks).any() else 1.0
    return _bucket_table_upto(int(np.ceil(top)))


_TABLE: list[np.ndarray] = [bucket_index(np.arange(1, dtype=np.float64))]
_TABLE[0].flags.writeable = False
"""The longest bucket table built in this process: a table up to rank R is the start of every
longer one, so one table serves every block (a block's ranks never exceed its sites)."""


def _bucket_table_upto(top: int) -> np.ndarray:
    """Return ``bucket_index`` of every whole rank from 0 to at least ``top`` (read-only)."""
    table = _TABLE[0]
    if len(table) <= top:
        table = bucket_index(np.arange(max(int(top), 2 * len(table)) + 1, dtype=np.float64))
        table.flags.writeable = False
        _TABLE[0] = table
    return table


_KERNEL_PARTS = 64
"""Sites are cut into this many parts for the threads; each part reuses its scratch arrays."""


@njit(parallel=True, cache=True)
def _block_kernel(
    ranks,
    table,
    n_buckets,
    top_rank,
    out_bucket,
    out_count,
    part_used,
    n_entries,
    n_feasible,
    n_top,
    rank_min,
    rank_max,
):
    """Fill per-site bucket counts of a block, sites in parallel; see :func:`sketch_block`.

    ``ranks[n_draws, n]`` is read as the draws wrote it: a part's sites take a band of the
    rows that stays in the core's cache while they are read draw after draw, so the block is
    never transposed. Counts go into a scratch histogram over all buckets, read back between the
    site's lowest and highest bucket, or, when that span is wide for the draws, from its sorted
    buckets. Part ``p``'s entries are written one after the other from ``p``'s first site ×
    ``n_draws`` in the flat ``out_bucket``/``out_count``; ``part_used[p]`` says how many.
    Returns False, having written nothing usable, if a rank lies beyond ``table`` (or below −1).
    """
    n_draws, n = ranks.shape
    width = max(n_draws, 1)
    beyond = np.zeros(_KERNEL_PARTS, dtype=np.bool_)
    for part in prange(_KERNEL_PARTS):  # sites are independent
        buf = np.empty(width, dtype=np.int32)
        hist = np.zeros(n_buckets, dtype=np.uint32)
        first = part * n // _KERNEL_PARTS
        at = first * width
        for i in range(first, (part + 1) * n // _KERNEL_PARTS):
            m = 0
            top = 0
            lo_rank = np.inf
            hi_rank = -np.inf
            lo = n_buckets
            hi = -1
            for d in range(n_draws):
                r = ranks[d, i]
                if r == r:
                    whole = int(np.ceil(r)) if r < table.shape[0] else table.shape[0]
                    if whole >= table.shape[0] or whole < 0:
                        beyond[part] = True
                        whole = 0
                    b = table[whole]
                    buf[m] = b
                    m += 1
                    if r <= top_rank:
                        top += 1
                    lo_rank = min(lo_rank, r)
                    hi_rank = max(hi_rank, r)
                    lo = min(lo, b)
                    hi = max(hi, b)
            n_feasible[i] = m
            n_top[i] = top
            rank_min[i] = lo_rank if m else np.nan
            rank_max[i] = hi_rank if m else np.nan
            start = at
            if hi - lo > 4 * m:
                sorted_b = np.sort(buf[:m])
                for j in range(m):
                    if j == 0 or sorted_b[j] != sorted_b[j - 1]:
                        out_bucket[at] = sorted_b[j]
                        out_count[at] = 1
                        at += 1
                    else:
                        out_count[at - 1] += 1
            else:
                for j in range(m):
                    hist[buf[j]] += 1
                for b in range(lo, hi + 1):
                    if hist[b]:
                        out_bucket[at] = b
                        out_count[at] = hist[b]
                        at += 1
                        hist[b] = 0
            n_entries[i] = at - start
        part_used[part] = at - first * width
    return not beyond.any()


def sketch_block(ranks: np.ndarray, draw_start: int, impl: str = "kernel") -> RankSketch:
    """Return the sketch of a block of draws.

    Parameters
    ----------
    ranks : float[n_draws, n_sites]
        Row d holds every site's rank in draw ``draw_start + d`` (whole numbers ≥ 1); NaN where
        the site was excluded. [-]
    draw_start : int
        Index of the block's first draw.
    impl : {"kernel", "reference"}
        The numba kernel or its NumPy twin (same result).
    """
    ranks = np.asarray(ranks)
    n_draws, n = ranks.shape
    if impl == "kernel":
        ranks = np.ascontiguousarray(ranks)
        width = max(n_draws, 1)
        # Flat outputs: each part fills the start of its own region, so only what is used is
        # ever written (pages never touched cost nothing).
        out_bucket = np.empty(n * width, dtype=np.int32)
        out_count = np.empty(n * width, dtype=np.uint32)
        part_used = np.zeros(_KERNEL_PARTS, dtype=np.int64)
        n_entries = np.empty(n, dtype=np.int64)
        n_feasible, n_top = np.empty(n, dtype=np.uint32), np.empty(n, dtype=np.uint32)
        rank_min, rank_max = np.empty(n), np.empty(n)
        outputs = (out_bucket, out_count, part_used, n_entries, n_feasible, n_top, rank_min, rank_max)
        table = _bucket_table_upto(n)  # ranks among n sites are at most n
        if not _block_kernel(ranks, table, int(table[-1]) + 1, TOP_RANK, *outputs):
            # A rank above the sites' count (ranks given by hand): a table up to the largest.
            if not np.isfinite(ranks[~np.isnan(ranks)]).all() or np.nanmin(ranks) <= -1.0:
                raise ValueError("ranks: whole numbers of at least 1 expected (NaN: not ranked)")
            table = _bucket_table(ranks)
            _block_kernel(ranks, table, int(table[-1]) + 1, TOP_RANK, *outputs)
        regions = [
            slice(part * n // _KERNEL_PARTS * width, part * n // _KERNEL_PARTS * width + int(part_used[part]))
            for part in range(_KERNEL_PARTS)
        ]
        return RankSketch(
            draw_start=int(draw_start),
            draw_stop=int(draw_start) + n_draws,
            n_feasible=n_feasible,
            n_top=n_top,
            rank_min=rank_min,
            rank_max=rank_max,
            site=np.repeat(np.arange(n, dtype=np.int32), n_entries),
            bucket=np.concatenate([out_bucket[r] for r in regions]),
            count=np.concatenate([out_count[r] for r in regions]),
        )
    if impl != "reference":
        raise ValueError("impl: 'kernel' or 'reference'")
    table = _bucket_table(ranks)
    by_site = np.ascontiguousarray(ranks.T)  # [n, n_draws]: one site's draws side by side
    ranked = ~np.isnan(by_site)
    n_feasible = ranked.sum(axis=1).astype(np.uint32)
    n_top = (by_site <= TOP_RANK).sum(axis=1).astype(np.uint32)  # NaN compares False
    buckets = np.full(by_site.shape, -1, dtype=np.int32)
    buckets[ranked] = table[np.ceil(by_site[ranked]).astype(np.int64)]
    buckets.sort(axis=1)  # unranked draws (−1) first, then each site's buckets in order
    # fmin/fmax skip NaN (and give NaN for a site never ranked).
    rank_min = np.fmin.reduce(by_site, axis=1) if n_draws else np.full(n, np.nan)
    rank_max = np.fmax.reduce(by_site, axis=1) if n_draws else np.full(n, np.nan)
    flat = buckets.ravel()
    starts = np.ones(flat.shape, dtype=bool)
    if n_draws:
        starts.reshape(n, n_draws)[:, 1:] = buckets[:, 1:] != buckets[:, :-1]
    first = np.flatnonzero(starts)
    lengths = np.diff(np.append(first, flat.size))
    keep = flat[first] >= 0
    first, lengths = first[keep], lengths[keep]
    return RankSketch(
        draw_start=int(draw_start),
        draw_stop=int(draw_start) + n_draws,
        n_feasible=n_feasible,
        n_top=n_top,
        rank_min=rank_min.astype(np.float64),
        rank_max=rank_max.astype(np.float64),
        site=(first // max(n_draws, 1)).astype(np.int32),
        bucket=flat[first].astype(np.int32),
        count=lengths.astype(np.uint32),
    )


@njit(parallel=True, cache=True)
def _merge_kernel(offsets, bucket, count, n_buckets, out_offsets, out_bucket, out_count, fill):
    """Add up each site's bucket counts over the blocks, sites in parallel; see :func:`merge`.

    ``offsets[p, i]:offsets[p, i + 1]`` are site i's entries of block p in ``bucket``/``count``.
    With ``fill`` False, writes each site's number of distinct buckets to ``out_offsets[i + 1]``;
    with ``fill`` True, writes them from ``out_offsets[i]`` on, buckets ascending. Counts go
    into a scratch histogram read back between the site's lowest and highest bucket.
    """
    n_parts = offsets.shape[0]
    n = offsets.shape[1] - 1
    for part in prange(_KERNEL_PARTS):  # sites are independent
        hist = np.zeros(n_buckets, dtype=np.uint32)
        for i in range(part * n // _KERNEL_PARTS, (part + 1) * n // _KERNEL_PARTS):
            lo = n_buckets
            hi = -1
            for p in range(n_parts):
                for j in range(offsets[p, i], offsets[p, i + 1]):
                    b = bucket[j]
                    hist[b] += count[j]
                    lo = min(lo, b)
                    hi = max(hi, b)
            k = out_offsets[i] if fill else 0
            for b in range(lo, hi + 1):
                if hist[b]:
                    if fill:
                        out_bucket[k] = b
                        out_count[k] = hist[b]
                    k += 1
                    hist[b] = 0
            if not fill:
                out_offsets[i + 1] = k


def merge(sketches: Iterable[RankSketch], impl: str = "kernel") -> RankSketch:
    """Return one sketch of the union of blocks of draws that neither overlap nor leave a gap.

    Counts add and extremes combine, so the result is the same whatever the split and order.
    ``impl``: the numba kernel (each site's entries added in a histogram, linear in the
    entries) or its NumPy twin (one stable sort of every entry); the same sketch either way.
    Raises ValueError when the blocks overlap, leave a gap, or cover different sites.
    """
    parts = sorted(sketches, key=lambda s: s.draw_start)
    if not parts:
        raise ValueError("nothing to merge")
    for a, b in zip(parts, parts[1:]):
        if a.draw_stop != b.draw_start:
            raise ValueError(
                f"draw blocks [{a.draw_start}, {a.draw_stop}) and [{b.draw_start}, {b.draw_stop}) "
                "overlap or leave a gap"
            )
        if a.n_sites != b.n_sites:
            raise ValueError(f"draw blocks cover {a.n_sites} and {b.n_sites} sites")
    if impl not in ("kernel", "reference"):
        raise ValueError("impl: 'kernel' or 'reference'")
    if len(parts) == 1:
        return parts[0]
    n = parts[0].n_sites
    n_buckets = int(max((int(p.bucket.max()) for p in parts if len(p.bucket)), default=0)) + 1
    if impl == "kernel":
        # Each block holds its entries grouped by site: site i's run starts where the block's
        # count of entries of sites < i ends.
        offsets = np.zeros((len(parts), n + 1), dtype=np.int64)
        base = 0
        for row, p in zip(offsets, parts):
            if len(p.site) and np.any(np.diff(p.site) < 0):
                raise ValueError("sketch entries are not grouped by site")
            row[1:] = base + np.cumsum(np.bincount(p.site, minlength=n)[:n])
            row[0] = base
            base += len(p.site)
        bucket = np.concatenate([p.bucket for p in parts]).astype(np.int64)
        count = np.concatenate([p.count for p in parts]).astype(np.uint32)
        out_offsets = np.zeros(n + 1, dtype=np.int64)
        empty_b, empty_c = np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint32)
        _merge_kernel(offsets, bucket, count, n_buckets, out_offsets, empty_b, empty_c, False)
        np.cumsum(out_offsets, out=out_offsets)
        site = np.repeat(np.arange(n, dtype=np.int32), np.diff(out_offsets))
        out_bucket = np.empty(len(site), dtype=np.int32)
        out_count = np.empty(len(site), dtype=np.uint32)
        _merge_kernel(offsets, bucket, count, n_buckets, out_offsets, out_bucket, out_count, True)
    else:
        key = np.concatenate([p.site.astype(np.int64) * n_buckets + p.bucket for p in parts])
        count = np.concatenate([p.count for p in parts])
        # Each part is sorted by key: a stable sort (timsort) merges the sorted runs in linear time.
        order = np.argsort(key, kind="stable")
        key, count = key[order], count[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        out_count = np.add.reduceat(count, first).astype(np.uint32) if len(key) else count.astype(np.uint32)
        site = (key[first] // n_buckets).astype(np.int32)
        out_bucket = (key[first] % n_buckets).astype(np.int32)
    rank_min = np.fmin.reduce(np.stack([p.rank_min for p in parts]), axis=0)
    rank_max = np.fmax.reduce(np.stack([p.rank_max for p in parts]), axis=0)
    return RankSketch(
        draw_start=parts[0].draw_start,
        draw_stop=parts[-1].draw_stop,
        n_feasible=np.sum([p.n_feasible for p in parts], axis=0, dtype=np.uint32).reshape(n),
        n_top=np.sum([p.n_top for p in parts], axis=0, dtype=np.uint32).reshape(n),
        rank_min=rank_min,
        rank_max=rank_max,
        site=site,
        bucket=out_bucket,
        count=out_count,
    )


def rank_stats(sketch: RankSketch) -> dict[str, np.ndarray]:
    """Return the per-site Monte Carlo statistics of a sketch, keyed by ``STAT_COLUMNS``.

    Probabilities are counts over ``sketch.n_draws`` (exact); percentiles of the feasible ranks
    are within the module's bound (NaN for a site never feasible).
    """
    n, draws = sketch.n_sites, sketch.n_draws
    m = sketch.n_feasible.astype(np.int64)
    out = {
        "mc_p_feasible": m / draws if draws else np.full(n, np.nan),
        "mc_p_top10": sketch.n_top / draws if draws else np.full(n, np.nan),
    }
    # Global running count: a site's k-th smallest rank (0-based) is in the entry where the
    # running count first exceeds (draws counted before the site) + k.
    running = np.cumsum(sketch.count, dtype=np.int64)
    before = np.zeros(n, dtype=np.int64)
    before[1:] = np.cumsum(m)[:-1]
    values = bucket_value(sketch.bucket)
    has = m > 0
    safe_m = np.maximum(m, 1)
    for name, q in zip(("mc_rank_p05", "mc_rank_median", "mc_rank_p95"), PERCENTILES):
        pos = q / 100.0 * (safe_m - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, safe_m - 1)
        frac = pos - lo
        v = []
        for k in (lo, hi):
            entry = np.searchsorted(running, before + k, side="right")
            entry = np.minimum(entry, max(len(values) - 1, 0))
            picked = values[entry] if len(values) else np.full(n, np.nan)
            v.append(np.clip(picked, sketch.rank_min, sketch.rank_max))
        out[name] = np.where(has, v[0] + (v[1] - v[0]) * frac, np.nan)
    return {name: out[name] for name in STAT_COLUMNS}


def _narrowest_uint(values: np.ndarray) -> np.ndarray:
    """Return ``values`` (whole numbers ≥ 0) in the narrowest unsigned dtype that holds them."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.uint64)


def sketch_arrays(sketch: RankSketch) -> dict[str, np.ndarray]:
    """Return a sketch as named arrays, for ``frames.frames_pack`` (compact dtypes).

    Entries are stored grouped by site (as every sketch holds them), so the site of each entry
    is kept as a count of entries per site; counts in the narrowest unsigned type that holds them.
    """
    n = sketch.n_sites
    if len(sketch.site) and np.any(np.diff(sketch.site) < 0):
        raise ValueError("sketch entries are not grouped by site")
    return {
        "draw_range": np.array([sketch.draw_start, sketch.draw_stop], dtype=np.int64),
        "n_feasible": sketch.n_feasible,
        "n_top": sketch.n_top,
        "rank_min": sketch.rank_min.astype(np.float32),
        "rank_max": sketch.rank_max.astype(np.float32),
        "site_entries": _narrowest_uint(np.bincount(sketch.site, minlength=n)),
        "bucket": sketch.bucket.astype(np.uint16),
        "count": _narrowest_uint(sketch.count),
    }


def sketch_from_arrays(arrays: dict[str, np.ndarray]) -> RankSketch:
    """Return the sketch :func:`sketch_arrays` stored (also the earlier layout, one site per entry)."""
    start, stop = (int(v) for v in arrays["draw_range"])
    n_feasible = arrays["n_feasible"].astype(np.uint32)
    if "site_entries" in arrays:
        site = np.repeat(np.arange(len(n_feasible), dtype=np.int32), arrays["site_entries"].astype(np.int64))
    else:
        site = arrays["site"].astype(np.int32)
    return RankSketch(
        draw_start=start,
        draw_stop=stop,
        n_feasible=n_feasible,
        n_top=arrays["n_top"].astype(np.uint32),
        rank_min=arrays["rank_min"].astype(np.float64),
        rank_max=arrays["rank_max"].astype(np.float64),
        site=site,
        bucket=arrays["bucket"].astype(np.int32),
        count=arrays["count"].astype(np.uint32),
    )
