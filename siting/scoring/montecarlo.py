"""Monte Carlo: score every size under many draws and keep each site's rank statistics.

A draw depends on (``mc_seed``, draw index) only, so any split of the draws into blocks gives
sketches that merge into the same statistics (``sketch``). On the kernel path a draw is written in
place into buffers set up once per run (``_mc_setup``, ``_mc_draw``): the same numbers as the
draw built from its parts (``engine._draw``, ``_site_matrix``, ``_grid_arrays``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import kernels, sketch
from .engine import (
    _draw,
    _draw_factors,
    _draw_levels,
    _draw_parts,
    _draw_weights,
    _evaluate,
    _grid_inputs,
    _pack_scalars,
    _pue_base,
    _scenario_arrays,
    _set_draw_scalars,
    _site_matrix,
    _site_months_base,
)
from .kernel_inputs import DrawBase, DrawFactors, GridInputs, ScenarioArrays
from .layout import N_OUT
from .params import ScenarioParams
from .prepare import ScoringInputs, _prepare, _Prepared


@dataclass
class _MonteCarlo:
    """What every Monte Carlo draw of a run reuses, set up once per run (:func:`_mc_setup`)."""

    params: ScenarioParams
    prep: _Prepared
    sizes: tuple[int, ...]
    impl: str
    scenario: ScenarioArrays  # with the scenario's normalised weights; a draw replaces them
    site: np.ndarray  # the kernels' site inputs; the draw's columns are overwritten per draw
    grid: GridInputs  # the kernels' grid inputs; the drawn headroom is overwritten per draw
    work: np.ndarray
    scores: np.ndarray
    feasible: np.ndarray
    # Kernel path only: what a draw overwrites in place instead of allocating.
    levels: np.ndarray  # _draw_levels
    uniforms: np.ndarray  # the draw's uniforms
    factors: np.ndarray  # its triangular factors; ``parts`` are views of it
    parts: dict[str, np.ndarray]
    sp_sizes: np.ndarray  # scalar parameters per size; the draw's entries are overwritten
    draw_base: DrawBase  # what a draw scales (kernels.draw_site_inputs)
    draw_factors: DrawFactors  # views of ``factors``, by meaning

    @property
    def point_headroom(self) -> np.ndarray:
        """Drawn headroom of each grid point. [MW]"""
        return self.grid.point_headroom_mw

    @property
    def line_headroom(self) -> np.ndarray:
        """Drawn headroom of each line. [MW]"""
        return self.grid.line_headroom_mw


def _mc_setup(params: ScenarioParams, prep: _Prepared, sizes: Sequence[int], impl: str = "kernel") -> _MonteCarlo:
    """Return the per-run state :func:`_mc_draw` needs for ``sizes``."""
    n = len(prep.site_id)
    deterministic = _draw(params, prep, None)
    levels = _draw_levels(params, len(prep.zone_codes), n, len(prep.point_id), len(prep.line_headroom))
    factors = np.empty(int(levels[:, 0].sum()))
    parts = _draw_parts(levels, factors)
    return _MonteCarlo(
        params=params,
        prep=prep,
        sizes=tuple(sizes),
        impl=impl,
        scenario=_scenario_arrays(params, deterministic.weights),
        site=_site_matrix(params, prep, deterministic),
        grid=_grid_inputs(prep, np.empty(len(prep.point_headroom)), np.empty(len(prep.line_headroom))),
        work=np.empty((kernels.MC_SCRATCH_PARTS, N_OUT)),
        scores=np.empty((len(sizes), n)),
        feasible=np.empty((len(sizes), n)),
        levels=levels,
        uniforms=np.empty(len(factors)),
        factors=factors,
        parts=parts,
        sp_sizes=np.stack([_pack_scalars(params, size, deterministic) for size in sizes]),
        draw_base=DrawBase(
            pue_base=_pue_base(params, prep),
            site_months_base=_site_months_base(prep),
            zone_index=prep.zone_index,
            price_zone=prep.price_zone,
            carbon_zone=prep.carbon_zone,
            price_fallback=float(params.fallback_price_eur_per_mwh),
            carbon_fallback=float(params.fallback_carbon_g_per_kwh),
            price_adder=float(params.price_adder_eur_per_mwh),
            point_headroom_mw=prep.point_headroom,
            point_source=prep.point_source,
            line_headroom_mw=prep.line_headroom,
            line_source=prep.line_source,
        ),
        draw_factors=DrawFactors(
            price_zone=parts["price_zone"],
            carbon_zone=parts["carbon_zone"],
            conn=parts["conn"],
            grid_months=parts["grid_months"],
            site_months=parts["site_months"],
            pue_offset=parts["pue_offset"],
            headroom_point=parts["headroom_point"],
            headroom_line=parts["headroom_line"],
        ),
    )


def _mc_draw(mc: _MonteCarlo, index: int, ranks_out: np.ndarray) -> None:
    """Fill ``ranks_out[z, i]`` with site i's rank at ``mc.sizes[z]`` in draw ``index`` (NaN:
    excluded in that draw).

    A draw depends on (``mc_seed``, ``index``) only, so it gives the same ranks whether it is
    computed alone, in a block of draws or in a whole run. ``ranks_out`` is float32 or float64
    ``[len(mc.sizes), n_sites]``.
    """
    params, prep = mc.params, mc.prep
    if mc.impl != "kernel":
        draw = _draw(params, prep, index)
        for z, size in enumerate(mc.sizes):
            ranks_out[z] = _evaluate(params, prep, size, draw, mc.impl)[1]
        return
    # What _draw, _site_matrix, _grid_arrays and _pack_scalars compute, written in place: the
    # same numbers, without a draw's worth of temporaries.
    rng, _factors = _draw_factors(params, index, mc.levels, mc.uniforms, mc.factors)
    f = mc.parts
    _set_draw_scalars(params, mc.sp_sizes, float(f["gpu"][0]), float(f["fac"][0]), float(f["rate"][0]))
    weights = _draw_weights(params, rng, mc.scenario.weights)
    kernels.draw_site_inputs(
        mc.draw_base, mc.draw_factors, mc.site, mc.grid.point_headroom_mw, mc.grid.line_headroom_mw
    )
    # One fused call for every size, keeping only what ranking needs.
    scenario = mc.scenario._replace(weights=weights)
    kernels.mc_scores(mc.sp_sizes, mc.site, mc.grid, scenario, mc.work, mc.scores, mc.feasible)
    kernels.rank_many(mc.scores, mc.feasible, prep.site_key, ranks_out)


MC_BUFFER_RANKS = 1 << 24
"""Ranks held at once by the Monte Carlo (float32: 64 MB): draws are summarised in blocks of
this many ranks over all sizes, so memory does not grow with the number of draws."""


def _monte_carlo(
    params: ScenarioParams,
    prep: _Prepared,
    sizes: Sequence[int],
    draw_range: tuple[int, int],
    impl: str,
    progress: Callable[[float], None] | None,
) -> dict[int, sketch.RankSketch]:
    """Return each size's rank sketch of the draws in ``draw_range`` = (first, stop).

    Draw ``d`` is seeded by (seed, d) alone, so any split of the draws into ranges gives
    sketches that merge into the same statistics (``sketch.merge``, ``sketch.rank_stats``).
    """
    start, stop = draw_range
    n = len(prep.site_id)
    block = int(max(1, min(stop - start, MC_BUFFER_RANKS // max(n * len(sizes), 1))))
    ranks = {size: np.empty((block, n), dtype=np.float32) for size in sizes}
    mc = _mc_setup(params, prep, sizes, impl)
    ranks_out = np.empty((len(sizes), n))
    parts: dict[int, list[sketch.RankSketch]] = {size: [] for size in sizes}
    for first in range(start, stop, block):
        rows = min(block, stop - first)
        for d in range(first, first + rows):
            _mc_draw(mc, d, ranks_out)
            for z, size in enumerate(sizes):
                ranks[size][d - first] = ranks_out[z]
            if progress is not None:  # after every draw: the caller decides how often to report
                progress((d + 1 - start) / (stop - start))
        for size in sizes:
            parts[size].append(sketch.sketch_block(ranks[size][:rows], first, impl))
    return {size: sketch.merge(p, impl) for size, p in parts.items()}


def score_draws(
    inputs: ScoringInputs,
    params: ScenarioParams,
    *,
    draw_range: tuple[int, int],
    impl: str = "kernel",
    progress: Callable[[float], None] | None = None,
) -> dict[int, sketch.RankSketch]:
    """Return each size's Monte Carlo rank sketch over draws [first, stop) of ``draw_range``.

    A run computes blocks of draws on different workers with this and merges the sketches;
    the statistics equal those of ``score_sites(..., draws=N)`` over the same draws.
    """
    first, stop = (int(v) for v in draw_range)
    if not 0 <= first < stop:
        raise ValueError("draw_range: 0 <= first < stop")
    prep = _prepare(inputs, params)
    return _monte_carlo(params, prep, params.sizes, (first, stop), impl, progress)
