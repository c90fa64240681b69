"""Connection candidates: both searches (grid cells, KD-tree) against two references.

- Every site × point pair: the squared chord between unit vectors (summed x² + y², then + z², as
  the KD-tree sums it), kept when the point reaches the class, is in the site's country and is
  within the class maximum (great-circle); the k nearest by squared chord. Where two of a site's
  k + 1 nearest are exactly as near, any of them may come first (or k-th): there the distances
  are compared, elsewhere the points too.
- The search as it was before the grid cells: per class and country, one KD-tree over the
  eligible points in index order, the k nearest however far, then the limit. Its answer,
  ties included, is what the scoring has always used, and the new searches must give it.

Coordinates are rounded to a coarse step so that many points share a place (equal distances,
sites on a point) and ties decide what comes first and k-th.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from siting.scoring.candidates import (
    CELL_SEARCH_MAX_KM,
    DenseLines,
    chord_to_km,
    eligible_points,
    nearest_by_class,
    nearest_on_lines,
    unit_vectors,
)

CLASS_KV = np.array([20.0, 63.0, 90.0, 150.0, 225.0, 400.0])
MAX_GC_KM = np.array([15.0, 30.0, 30.0, 50.0, 50.0, 80.0]) / 1.3  # the default limits on the great circle
TOLERANCE = 0.10
SEARCHES = ["auto", "cells", "kdtree"]


def _pairs(site_lon, site_lat, point_lon, point_lat):
    """Return squared chords and great-circle distances [km] of every site × point pair."""
    d = unit_vectors(site_lon, site_lat)[:, None, :] - unit_vectors(point_lon, point_lat)[None, :, :]
    d2 = (d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) + d[..., 2] * d[..., 2]
    return d2, chord_to_km(np.sqrt(d2))


def _brute_force(site_lon, site_lat, point_lon, point_lat, point_kv, k, site_country, point_country, max_km):
    """Return the k nearest per class and site from every pair, and whether two of the k + 1
    nearest are exactly as near."""
    n, n_classes = len(site_lon), len(CLASS_KV)
    d2, km = _pairs(site_lon, site_lat, point_lon, point_lat)
    same = np.ones(d2.shape, dtype=bool)
    if site_country is not None and point_country is not None:
        same = np.asarray(site_country, dtype=str)[:, None] == np.asarray(point_country, dtype=str)[None, :]
    cand = np.full((n_classes, n, k), -1)
    dist = np.full((n_classes, n, k), np.nan)
    tied = np.zeros((n_classes, n), dtype=bool)
    for c in range(n_classes):
        ok = np.zeros(len(point_lon), dtype=bool)
        ok[eligible_points(point_kv, CLASS_KV, c, TOLERANCE)] = True
        ok = ok[None, :] & same
        if max_km is not None:
            ok &= km <= max_km[c]
        for i in range(n):
            j = np.flatnonzero(ok[i])
            j = j[np.argsort(d2[i, j], kind="stable")]
            tied[c, i] = bool(np.any(np.diff(d2[i, j[: k + 1]]) == 0))
            cand[c, i, : len(j[:k])] = j[:k]
            dist[c, i, : len(j[:k])] = km[i, j[:k]]
    return cand, dist, tied


def _before(site_lon, site_lat, point_lon, point_lat, point_kv, k, site_country, point_country, max_km):
    """Return the candidates as the search before the grid cells found them."""
    n, n_classes = len(site_lon), len(CLASS_KV)
    sites, points = unit_vectors(site_lon, site_lat), unit_vectors(point_lon, point_lat)
    cand = np.full((n_classes, n, k), -1)
    dist = np.full((n_classes, n, k), np.nan)
    countries = site_country is not None and point_country is not None
    s_cc = np.asarray(site_country, dtype=str) if countries else np.zeros(n, dtype=str)
    p_cc = np.asarray(point_country, dtype=str) if countries else np.zeros(len(point_lon), dtype=str)
    for c in range(n_classes):
        eligible = eligible_points(point_kv, CLASS_KV, c, TOLERANCE)
        for code in np.unique(s_cc):
            rows, pts = np.flatnonzero(s_cc == code), eligible[p_cc[eligible] == code]
            if len(pts) == 0:
                continue
            kk = min(k, len(pts))
            chord, idx = cKDTree(points[pts]).query(sites[rows], k=kk)
            km, found = chord_to_km(chord.reshape(len(rows), kk)), pts[idx.reshape(len(rows), kk)]
            for r, i in enumerate(rows):
                keep = km[r] <= (np.inf if max_km is None else max_km[c])
                cand[c, i, : keep.sum()], dist[c, i, : keep.sum()] = found[r][keep], km[r][keep]
    return cand, dist


def _world(seed, n_sites=300, n_points=400, lon=(2.0, 6.0), lat=(44.0, 48.0), step_deg=0.05):
    """Return sites and points in a box, on a grid of ``step_deg``, with countries and voltages."""
    rng = np.random.default_rng(seed)

    def place(n):
        x = np.round(rng.uniform(*lon, n) / step_deg) * step_deg
        y = np.round(rng.uniform(*lat, n) / step_deg) * step_deg
        return (x + 180.0) % 360.0 - 180.0, np.clip(y, -90.0, 90.0)

    site_lon, site_lat = place(n_sites)
    point_lon, point_lat = place(n_points)
    # Exact duplicates (one place, several voltages) and sites standing on a point.
    dup = rng.choice(n_points, n_points // 5)
    point_lon[dup[1:]], point_lat[dup[1:]] = point_lon[dup[:-1]], point_lat[dup[:-1]]
    on = rng.choice(n_sites, n_sites // 10)
    at = rng.choice(n_points, len(on))
    site_lon[on], site_lat[on] = point_lon[at], point_lat[at]
    point_kv = rng.choice([15.0, 20.0, 63.0, 90.0, 150.0, 220.0, 225.0, 400.0, np.nan], n_points)
    site_country = rng.choice(["FR", "DE", "BE", "LU"], n_sites, p=[0.5, 0.3, 0.15, 0.05])
    point_country = rng.choice(["FR", "DE", "BE"], n_points, p=[0.5, 0.3, 0.2]).astype(object)
    return site_lon, site_lat, point_lon, point_lat, point_kv, site_country, point_country


def _assert_same(got, inputs, k, max_km):
    cand, dist = got
    want_cand, want_dist, tied = _brute_force(*inputs[:5], k, *inputs[5:], max_km)
    assert cand.shape == want_cand.shape
    np.testing.assert_allclose(dist, want_dist, rtol=1e-12, atol=1e-9)  # NaN where both have none
    np.testing.assert_array_equal(cand[~tied], want_cand[~tied])
    before_cand, before_dist = _before(*inputs[:5], k, *inputs[5:], max_km)
    np.testing.assert_array_equal(cand, before_cand)
    np.testing.assert_allclose(dist, before_dist, rtol=1e-12, atol=1e-9)
    return tied


class NearestByClassTests:
    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("seed", range(4))
    @pytest.mark.parametrize("k", [1, 3, 8])
    def test_it_finds_what_every_pair_finds(self, search, seed, k):
        world = _world(seed)
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = world
        got = nearest_by_class(
            s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, k,
            tolerance=TOLERANCE, site_country=s_cc, point_country=p_cc, max_km=MAX_GC_KM, search=search,
        )  # fmt: skip
        tied = _assert_same(got, world, k, MAX_GC_KM)
        assert tied.any()  # ties are tested, not only distinct distances

    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize(
        "max_km",
        [None, np.full(6, 0.5), np.full(6, 600.0), np.array([5.0, 80.0, 1.0, 200.0, 40.0, 3.0])],
        ids=["unbounded", "tiny", "beyond-cells", "mixed"],
    )
    def test_it_obeys_any_radius(self, search, max_km):
        world = _world(7)
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = world
        got = nearest_by_class(
            s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 8,
            tolerance=TOLERANCE, site_country=s_cc, point_country=p_cc, max_km=max_km, search=search,
        )  # fmt: skip
        _assert_same(got, world, 8, max_km)

    @pytest.mark.parametrize("search", SEARCHES)
    def test_it_takes_every_country_without_point_countries(self, search):
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, _ = _world(11)
        got = nearest_by_class(
            s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 8,
            tolerance=TOLERANCE, site_country=s_cc, point_country=None, max_km=MAX_GC_KM, search=search,
        )  # fmt: skip
        _assert_same(got, (s_lon, s_lat, p_lon, p_lat, kv, None, None), 8, MAX_GC_KM)

    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize(
        "box",
        [((176.0, 184.0), (60.0, 68.0)), ((-180.0, 180.0), (84.0, 90.0)), ((-30.0, 30.0), (-89.0, -80.0))],
        ids=["across-180", "north-pole", "south-pole"],
    )
    def test_it_wraps_around_the_date_line_and_the_poles(self, search, box):
        world = _world(3, lon=box[0], lat=box[1], step_deg=0.1)
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = world
        max_km = np.array([20.0, 60.0, 90.0, 150.0, 300.0, 450.0])
        got = nearest_by_class(
            s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 8,
            tolerance=TOLERANCE, site_country=s_cc, point_country=p_cc, max_km=max_km, search=search,
        )  # fmt: skip
        assert (got[0] >= 0).sum() > 1000  # the box is dense enough to test something
        _assert_same(got, world, 8, max_km)

    @pytest.mark.parametrize("search", SEARCHES)
    def test_it_settles_a_tie_at_the_kth_place_as_the_kd_tree_does(self, search):
        # Five points on one place 1 km north of the site, one 2 km north, stored shuffled: with
        # k = 3, three of the five, the ones the KD-tree has always given.
        p_lat = np.array([45.0 + 2 / 111.2, 45.009, 45.009, 45.009, 45.009, 45.009])[[4, 2, 5, 0, 3, 1]]
        p_lon, kv = np.full(6, 5.0), np.full(6, 400.0)
        world = (np.array([5.0]), np.array([45.0]), p_lon, p_lat, kv, None, None)
        got = nearest_by_class(*world[:5], CLASS_KV, 3, max_km=np.full(6, 10.0), search=search)
        tied = _assert_same(got, world, 3, np.full(6, 10.0))
        assert tied.all()
        assert set(got[0][0, 0]) <= {0, 1, 2, 4, 5} and np.all(got[1][:, 0] == got[1][0, 0, 0])

    @pytest.mark.parametrize("search", SEARCHES)
    def test_it_keeps_a_point_at_the_class_maximum_and_drops_one_beyond(self, search):
        site, point = (np.array([5.0]), np.array([45.0])), (np.array([5.0]), np.array([45.1]), np.array([400.0]))
        _, km = nearest_by_class(*site, *point, CLASS_KV, 2, max_km=np.full(6, 100.0), search=search)
        limit = km[0, 0, 0]  # as this search measures it (the last bit may differ between searches)
        for max_km, want in [(limit, 0), (np.nextafter(limit, 0.0), -1)]:
            cand, _ = nearest_by_class(*site, *point, CLASS_KV, 2, max_km=np.full(6, max_km), search=search)
            np.testing.assert_array_equal(cand[:, 0], np.tile([want, -1], (6, 1)))

    def test_it_uses_the_cells_up_to_their_limit(self, monkeypatch):
        from siting.scoring import candidates

        used = []
        real = candidates._nearest_in_cells
        monkeypatch.setattr(candidates, "_nearest_in_cells", lambda *a: used.append(a[12]) or real(*a))
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = _world(5, n_sites=20, n_points=30)
        max_km = np.array([10.0, CELL_SEARCH_MAX_KM, CELL_SEARCH_MAX_KM + 1, np.inf, 10.0, 10.0])
        nearest_by_class(s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 4, max_km=max_km, tolerance=TOLERANCE)
        assert used == [10.0, CELL_SEARCH_MAX_KM, 10.0, 10.0]

    def test_it_leaves_points_denser_than_the_cells_pay_for_to_the_kd_tree(self, monkeypatch):
        from siting.scoring import candidates

        used = []
        real = candidates._nearest_in_cells
        monkeypatch.setattr(candidates, "_nearest_in_cells", lambda *a: used.append(a[12]) or real(*a))
        # 3,000 points within 0.3° and a 30 km radius: every site would read them all.
        world = _world(6, n_sites=200, n_points=3000, lon=(5.0, 5.3), lat=(45.0, 45.3), step_deg=0.001)
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = world
        max_km = np.array([1.0, 30.0, 30.0, 30.0, 30.0, 30.0])
        got = nearest_by_class(
            s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 4,
            tolerance=TOLERANCE, site_country=s_cc, point_country=p_cc, max_km=max_km,
        )  # fmt: skip
        assert used == [1.0]
        _assert_same(got, world, 4, max_km)

    @pytest.mark.parametrize("search", SEARCHES)
    def test_it_returns_nothing_without_sites_or_points(self, search):
        empty = np.zeros(0)
        cand, dist = nearest_by_class(empty, empty, np.ones(3), np.ones(3), np.ones(3), CLASS_KV, 4, search=search)
        assert cand.shape == (6, 0, 4) and dist.shape == (6, 0, 4)
        cand, dist = nearest_by_class(np.ones(2), np.ones(2), empty, empty, empty, CLASS_KV, 4, search=search)
        assert (cand == -1).all() and np.isnan(dist).all()

    @pytest.mark.parametrize("search", SEARCHES)
    def test_it_refuses_a_place_that_is_not_a_number(self, search):
        good, bad = np.array([5.0, 5.1]), np.array([5.0, np.nan])
        for args in [(bad, good, good, good), (good, good, good, bad)]:
            with pytest.raises(ValueError, match="finite"):
                nearest_by_class(*args, np.full(2, 400.0), CLASS_KV, 2, max_km=MAX_GC_KM, search=search)

    def test_it_answers_two_threads_at_once(self):
        # The cells search is a parallel compiled loop; web requests may run it side by side.
        from concurrent.futures import ThreadPoolExecutor

        world = _world(2, n_sites=2000)
        s_lon, s_lat, p_lon, p_lat, kv, s_cc, p_cc = world
        args = (s_lon, s_lat, p_lon, p_lat, kv, CLASS_KV, 8)
        kwargs = dict(tolerance=TOLERANCE, site_country=s_cc, point_country=p_cc, max_km=MAX_GC_KM)
        want = nearest_by_class(*args, **kwargs)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: nearest_by_class(*args, **kwargs), range(8)))
        for cand, dist in results:
            np.testing.assert_array_equal(cand, want[0])
            np.testing.assert_array_equal(dist, want[1])


class NearestOnLinesTests:
    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("seed", range(3))
    def test_it_finds_the_nearest_vertex_every_pair_finds(self, search, seed):
        s_lon, s_lat, v_lon, v_lat, _, s_cc, v_cc = _world(seed, n_points=600)
        rng = np.random.default_rng(seed)
        n_lines = 40
        vertex_line = rng.integers(0, n_lines, len(v_lon))
        line_kv = rng.choice([63.0, 90.0, 225.0, 380.0, 400.0], n_lines)
        lines = DenseLines(v_lon, v_lat, vertex_line, v_cc, np.arange(n_lines), line_kv, np.full(n_lines, np.nan))
        vertex, dist = nearest_on_lines(
            s_lon, s_lat, lines, CLASS_KV, 3,
            tolerance=TOLERANCE, site_country=s_cc, max_km=MAX_GC_KM, search=search,
        )  # fmt: skip
        assert (vertex[:3] == -1).all()
        assert (vertex[3:] >= 0).sum() > 100
        # The nearest of the KD-tree's four nearest (the cut-in takes the first one over land).
        world = (s_lon, s_lat, v_lon, v_lat, line_kv[vertex_line], s_cc, v_cc)
        got = (vertex[:, :, None], dist[:, :, None])
        got_4 = nearest_by_class(
            *world[:5], CLASS_KV, 4, tolerance=TOLERANCE, site_country=s_cc, point_country=v_cc, max_km=MAX_GC_KM
        )
        _assert_same(got_4, world, 4, MAX_GC_KM)
        np.testing.assert_array_equal(got[0][3:], got_4[0][3:, :, :1])
        np.testing.assert_allclose(got[1][3:], got_4[1][3:, :, :1], rtol=1e-12)
