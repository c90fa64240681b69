"""A Monte Carlo draw written in place (the kernel path) equals the draw built from its parts.

The kernel path inverts every triangular factor of a draw from one array of uniforms and writes
the drawn site columns and grid headroom into reused buffers; the reference path draws each
level with ``rng.triangular`` and builds the site matrix and grid arrays with NumPy. Both must
give the same bits, or a run's statistics would depend on the path and on how it is split.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from siting.scoring import engine, montecarlo, prepare, presets
from tests.siting.scoring.test_model_v2 import rich_world

DEFAULT = presets()["default"]


def _prepared(params):
    inputs = rich_world(300, seed=21)
    # No zone for the Ukrainian sites: they take the fallback price and carbon.
    inputs.zones = inputs.zones[inputs.zones["country"] != "UA"].reset_index(drop=True)
    return prepare._prepare(inputs, params, cache=False)


def _drawn_level_by_level(params, prep, index):
    """Return the factors NumPy's own ``rng.triangular`` gives, one level after the other, and
    the Dirichlet weights drawn next: the stream every draw must keep."""
    rng = np.random.default_rng([params.mc_seed, index])
    s = params
    n, z = len(prep.site_id), len(prep.zone_codes)
    m, nl = len(prep.point_id), len(prep.line_headroom)
    levels = [
        (None, 1 - s.mc_capex_spread, 1.0, 1 + s.mc_capex_spread),
        (None, 1 - s.mc_capex_spread, 1.0, 1 + s.mc_capex_spread),
        (
            None,
            s.discount_rate - s.mc_discount_rate_points,
            s.discount_rate,
            s.discount_rate + s.mc_discount_rate_points,
        ),
        (z, 1 - s.mc_price_spread, 1.0, 1 + s.mc_price_spread),
        (z, 1 - s.mc_carbon_spread, 1.0, 1 + s.mc_carbon_spread),
        (n, 1 - s.mc_connection_cost_spread, 1.0, 1 + s.mc_connection_cost_spread),
        (n, 1 - s.mc_ttp_low, 1.0, 1 + s.mc_ttp_high),
        (n, 1 - s.mc_readiness_low, 1.0, 1 + s.mc_readiness_high),
        (n, -s.mc_pue_offset, 0.0, s.mc_pue_offset),
        (m, s.mc_headroom_low, 1.0, s.mc_headroom_high),
        (nl, s.mc_headroom_low, 1.0, s.mc_headroom_high),
    ]
    values = [
        (mode if size is None else np.full(size, mode)) if high <= low else rng.triangular(low, mode, high, size)
        for size, low, mode, high in levels
    ]
    w = engine._weights(params)
    weights = np.zeros_like(w)
    weights[w > 0] = rng.dirichlet(s.mc_dirichlet_concentration * w[w > 0])
    return values, weights


SPREADS = [{}, {"mc_capex_spread": 0.0, "mc_price_spread": 0.0, "mc_pue_offset": 0.0, "mc_discount_rate_points": 0.0}]


class DrawStreamTests:
    @pytest.mark.parametrize("change", SPREADS)
    def test_it_draws_what_numpy_draws_level_by_level(self, change):
        params = dataclasses.replace(DEFAULT, **change)
        prep = _prepared(params)
        for index in (0, 1, 977):
            draw = engine._draw(params, prep, index)
            values, weights = _drawn_level_by_level(params, prep, index)
            got = [getattr(draw, f.name) for f in dataclasses.fields(draw)][:-1]
            assert len(got) == len(values)
            for mine, numpy_s in zip(got, values, strict=True):
                np.testing.assert_array_equal(mine, numpy_s)
            np.testing.assert_array_equal(draw.weights, weights)


class InPlaceDrawTests:
    @pytest.mark.parametrize("change", SPREADS)
    def test_it_writes_the_inputs_the_reference_path_builds(self, change):
        params = dataclasses.replace(DEFAULT, sizes=(1000, 50000), **change)
        prep = _prepared(params)
        assert (prep.zone_index < 0).any() and (prep.point_source == 0).any()  # fallbacks and known headroom
        mc = montecarlo._mc_setup(params, prep, params.sizes, "kernel")
        ranks = np.empty((len(params.sizes), len(prep.site_id)))
        for index in (0, 3, 412):
            montecarlo._mc_draw(mc, index, ranks)
            draw = engine._draw(params, prep, index)
            np.testing.assert_array_equal(mc.site, engine._site_matrix(params, prep, draw))
            grid = engine._grid_arrays(prep, draw)
            np.testing.assert_array_equal(mc.point_headroom, grid.point_headroom_mw)
            np.testing.assert_array_equal(mc.line_headroom, grid.line_headroom_mw)
            np.testing.assert_array_equal(
                mc.sp_sizes, np.stack([engine._pack_scalars(params, size, draw) for size in params.sizes])
            )
            for z, size in enumerate(params.sizes):
                np.testing.assert_array_equal(ranks[z], engine._evaluate(params, prep, size, draw, "kernel")[1])
