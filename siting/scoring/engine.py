"""One evaluation: a draw's factors, the kernels' inputs under it, and the kernels (or their twins).

A draw (``_Draw``) holds the uncertain inputs at their levels (§4 v2); the deterministic case is
the draw of ones. ``_site_matrix``, ``_grid_arrays``, ``_pack_scalars`` and ``_scenario_arrays``
build what the kernels read from a prepared run (``prepare._Prepared``) under a draw, and
``_evaluate`` scores and ranks one cluster size with the numba kernels or their NumPy twins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels, reference
from .criteria import CRITERION_NAMES
from .kernel_inputs import GridInputs, ScenarioArrays
from .layout import (
    H_KNOWN,
    N_CLASSES,
    N_OUT,
    N_SCALARS,
    N_SITE,
    N_TABLE,
    O_FEASIBLE,
    O_SCORE,
    P_BACKUP_H,
    P_C_FAC,
    P_C_GPU_KEUR,
    P_CRF_FAC,
    P_CRF_GRID,
    P_CRF_IT,
    P_CUT_BAYS,
    P_CUT_EXTRA,
    P_CUT_MIN_CLASS,
    P_EST_CREDIT,
    P_EUR_PER_USD,
    P_EXCL_SEVESO,
    P_FUEL_T_PER_MWH,
    P_LAND_HA_PER_MW,
    P_MAX_TTP,
    P_N_GPU,
    P_OM,
    P_OWN_REFURB,
    P_P_IT_MW,
    P_RATE_MONTH,
    P_REMED_AREA,
    P_ROUTING,
    P_SEVESO_HIGH,
    P_SEVESO_LOW,
    P_SUB_A,
    P_SUB_B,
    P_SUB_EXP,
    P_SUB_FIXED,
    P_TTP_FREE_KM,
    P_TTP_OWN,
    P_TTP_SLOPE,
    P_UTIL,
    P_WUE,
    S_AREA,
    S_CARBON,
    S_CONN_F,
    S_GRID_F,
    S_MASK,
    S_OBSERVED,
    S_OWN_CAP,
    S_OWN_KV,
    S_PRICE,
    S_PUE,
    S_REMED_MEUR_PER_HA,
    S_SITE_MONTHS,
    T_BAY,
    T_KV,
    T_LINE_COST,
    T_RATING,
    T_TTP_BASE,
)
from .params import ScenarioParams
from .prepare import _Prepared


def _crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``years`` at ``rate``. [1/yr]"""
    return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)


def _class_table(params: ScenarioParams) -> np.ndarray:
    tab = np.zeros((N_TABLE, N_CLASSES))
    tab[T_KV] = params.voltage_classes_kv
    tab[T_RATING] = params.circuit_rating_mw
    tab[T_LINE_COST] = params.line_cost_meur_per_km
    tab[T_BAY] = params.bay_cost_meur
    tab[T_TTP_BASE] = params.ttp_base_months
    return tab


@dataclass
class _Draw:
    """Uncertain inputs of one evaluation (ones / zero offsets when deterministic), each drawn
    at its level (§4 v2): common, per zone, per site, per grid point or line."""

    gpu: float  # common factor on c_gpu
    fac: float  # common factor on c_fac
    rate: float  # discount rate of this draw
    price_zone: np.ndarray
    carbon_zone: np.ndarray
    conn: np.ndarray  # per site
    grid_months: np.ndarray  # per site
    site_months: np.ndarray  # per site
    pue_offset: np.ndarray  # per site
    headroom_point: np.ndarray
    headroom_line: np.ndarray
    weights: np.ndarray


def _pack_scalars(params: ScenarioParams, size: int, draw: _Draw) -> np.ndarray:
    sp = np.zeros(N_SCALARS)
    sp[P_N_GPU] = size
    sp[P_P_IT_MW] = size * params.k_gpu_kw / 1000.0
    sp[P_ROUTING] = params.routing_factor
    sp[P_SUB_A] = params.substation_usd_per_kv_plus_mw
    sp[P_SUB_B] = params.substation_usd_per_mw_pow
    sp[P_SUB_EXP] = params.substation_mw_exponent
    sp[P_SUB_FIXED] = params.substation_usd_fixed
    sp[P_EUR_PER_USD] = params.eur_per_usd
    sp[P_OWN_REFURB] = params.own_connection_refurb_meur
    sp[P_TTP_OWN] = params.ttp_base_own_months
    sp[P_TTP_FREE_KM] = params.ttp_free_km
    sp[P_TTP_SLOPE] = params.ttp_months_per_km
    sp[P_UTIL] = params.utilisation
    sp[P_OM] = params.om_share_of_facility_capex
    sp[P_WUE] = params.wue_l_per_kwh
    sp[P_LAND_HA_PER_MW] = params.land_ha_per_mw
    sp[P_BACKUP_H] = params.backup_hours
    sp[P_FUEL_T_PER_MWH] = params.fuel_t_per_mwh
    sp[P_SEVESO_LOW] = params.seveso_lower_t
    sp[P_SEVESO_HIGH] = params.seveso_upper_t
    sp[P_MAX_TTP] = np.inf if params.max_time_to_power_months is None else params.max_time_to_power_months
    sp[P_EXCL_SEVESO] = 1.0 if params.exclude_seveso_upper else 0.0
    sp[P_CUT_MIN_CLASS] = float(
        np.searchsorted(np.asarray(params.voltage_classes_kv), params.cut_in_min_kv, side="left")
    )
    sp[P_CUT_EXTRA] = params.cut_in_extra_months
    sp[P_CUT_BAYS] = params.cut_in_bays
    sp[P_REMED_AREA] = np.nan if params.remediation_default_area_ha is None else params.remediation_default_area_ha
    sp[P_EST_CREDIT] = params.reliability_estimate_credit
    _set_draw_scalars(params, sp, draw.gpu, draw.fac, draw.rate)
    return sp


def _set_draw_scalars(params: ScenarioParams, sp: np.ndarray, gpu: float, fac: float, rate: float) -> None:
    """Set the scalar parameters a draw changes (its common capex factors and discount rate)
    in ``sp[..., P_*]``: one scalar vector, or one per size."""
    sp[..., P_C_FAC] = params.facility_capex_meur_per_mw_it * fac
    sp[..., P_C_GPU_KEUR] = params.gpu_capex_keur_per_h100e * gpu
    sp[..., P_CRF_FAC] = _crf(rate, params.life_facility_yr)
    sp[..., P_CRF_IT] = _crf(rate, params.life_it_yr)
    sp[..., P_CRF_GRID] = _crf(rate, params.life_grid_yr)
    sp[..., P_RATE_MONTH] = rate / 12.0


def _weights(params: ScenarioParams) -> np.ndarray:
    w = np.array([params.weights[c] for c in CRITERION_NAMES], dtype=np.float64)
    total = w.sum()
    return w / total if total > 0 else w


def _bounds(params: ScenarioParams) -> np.ndarray:
    return np.array([params.criterion_bounds(c) for c in CRITERION_NAMES], dtype=np.float64).T.copy()


DRAW_LEVELS = (
    "gpu",
    "fac",
    "rate",
    "price_zone",
    "carbon_zone",
    "conn",
    "grid_months",
    "site_months",
    "pue_offset",
    "headroom_point",
    "headroom_line",
)
"""The triangular factors of a draw (``_Draw`` fields), in the order they are drawn."""


def _draw_levels(params: ScenarioParams, n_zones: int, n_sites: int, n_points: int, n_lines: int) -> np.ndarray:
    """Return (count, low, mode, high) of each triangular factor of a draw, ``DRAW_LEVELS`` order."""
    s = params
    levels = np.array(
        [
            # Common to every site of the draw.
            (1, 1 - s.mc_capex_spread, 1.0, 1 + s.mc_capex_spread),
            (1, 1 - s.mc_capex_spread, 1.0, 1 + s.mc_capex_spread),
            (
                1,
                s.discount_rate - s.mc_discount_rate_points,
                s.discount_rate,
                s.discount_rate + s.mc_discount_rate_points,
            ),
            # Per zone.
            (n_zones, 1 - s.mc_price_spread, 1.0, 1 + s.mc_price_spread),
            (n_zones, 1 - s.mc_carbon_spread, 1.0, 1 + s.mc_carbon_spread),
            # Per site.
            (n_sites, 1 - s.mc_connection_cost_spread, 1.0, 1 + s.mc_connection_cost_spread),
            (n_sites, 1 - s.mc_ttp_low, 1.0, 1 + s.mc_ttp_high),
            (n_sites, 1 - s.mc_readiness_low, 1.0, 1 + s.mc_readiness_high),
            (n_sites, -s.mc_pue_offset, 0.0, s.mc_pue_offset),
            # Per grid point and per line (used only where the headroom is not known).
            (n_points, s.mc_headroom_low, 1.0, s.mc_headroom_high),
            (n_lines, s.mc_headroom_low, 1.0, s.mc_headroom_high),
        ],
        dtype=np.float64,
    )
    drawn = levels[:, 3] > levels[:, 1]
    if not ((levels[drawn, 1] <= levels[drawn, 2]) & (levels[drawn, 2] <= levels[drawn, 3])).all():
        raise ValueError("Monte Carlo spreads: every mode must lie between its low and high")
    return levels


def _draw_factors(
    params: ScenarioParams,
    index: int,
    levels: np.ndarray,
    uniforms: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.random.Generator, np.ndarray]:
    """Return draw ``index``'s generator, after its triangular factors, and those factors
    (``levels`` order, concatenated; into ``out`` when given, with ``uniforms`` as scratch).

    One uniform per drawn value, all taken in one call and inverted in one kernel: the same
    numbers, from the same stream, as one ``rng.triangular`` per level (a constant level takes
    none), so the Dirichlet weights drawn next from the generator are the same too.
    """
    rng = np.random.default_rng([params.mc_seed, index])
    counts = levels[:, 0]
    used = int(counts[levels[:, 3] > levels[:, 1]].sum())
    u = rng.random(used) if uniforms is None else rng.random(out=uniforms[:used])
    factors = np.empty(int(counts.sum())) if out is None else out
    kernels.triangular_levels(u, levels, factors)
    return rng, factors


def _draw_weights(params: ScenarioParams, rng: np.random.Generator, w: np.ndarray) -> np.ndarray:
    """Return the draw's criterion weights, Dirichlet around ``w`` (the scenario's, normalised)."""
    positive = w > 0
    concentration = params.mc_dirichlet_concentration
    if positive.any() and np.isfinite(concentration) and concentration < 1e12:
        drawn = np.zeros_like(w)
        drawn[positive] = rng.dirichlet(concentration * w[positive])
        return drawn
    return w


def _draw(params: ScenarioParams, prep: _Prepared, index: int | None) -> _Draw:
    n, z = len(prep.site_id), len(prep.zone_codes)
    m, nl = len(prep.point_id), len(prep.line_headroom)
    w = _weights(params)
    if index is None:
        return _Draw(
            1.0,
            1.0,
            params.discount_rate,
            np.ones(z),
            np.ones(z),
            np.ones(n),
            np.ones(n),
            np.ones(n),
            np.zeros(n),
            np.ones(m),
            np.ones(nl),
            w,
        )
    levels = _draw_levels(params, z, n, m, nl)
    rng, factors = _draw_factors(params, index, levels)
    f = _draw_parts(levels, factors)
    return _Draw(
        float(f["gpu"][0]),
        float(f["fac"][0]),
        float(f["rate"][0]),
        f["price_zone"],
        f["carbon_zone"],
        f["conn"],
        f["grid_months"],
        f["site_months"],
        f["pue_offset"],
        f["headroom_point"],
        f["headroom_line"],
        _draw_weights(params, rng, w),
    )


def _draw_parts(levels: np.ndarray, factors: np.ndarray) -> dict[str, np.ndarray]:
    """Return the factors of each level (``DRAW_LEVELS``) as views of ``factors``."""
    return dict(zip(DRAW_LEVELS, np.split(factors, np.cumsum(levels[:-1, 0]).astype(np.intp)), strict=True))


def _pue_base(params: ScenarioParams, prep: _Prepared) -> np.ndarray:
    """Return each site's PUE before the draw's offset: design PUE plus its climate term. [-]"""
    return params.pue_design + params.pue_beta_per_1000_cdd * prep.cdd / 1000.0


def _site_months_base(prep: _Prepared) -> np.ndarray:
    """Return each site's readiness months before the draw's factor. [month]"""
    return prep.permit_m + prep.rezoning_m + prep.remediation_m + prep.demolition_m


def _site_matrix(params: ScenarioParams, prep: _Prepared, draw: _Draw, out: np.ndarray | None = None) -> np.ndarray:
    """Return the kernels' per-site inputs under ``draw``; with ``out`` (from an earlier call on
    the same ``prep``), overwrite only the columns a draw changes."""
    site = out
    if site is None:
        site = np.empty((len(prep.site_id), N_SITE))
        site[:, S_OWN_CAP] = prep.own_cap
        site[:, S_OWN_KV] = prep.own_kv
        site[:, S_AREA] = prep.area
        site[:, S_MASK] = prep.site_mask
        site[:, S_OBSERVED] = prep.observed
        site[:, S_REMED_MEUR_PER_HA] = prep.remed_meur_per_ha
    site[:, S_PUE] = _pue_base(params, prep) + draw.pue_offset
    # Per zone, then per site; a site without a zone (index −1) takes the fallback, last.
    price = np.append(prep.price_zone * draw.price_zone, params.fallback_price_eur_per_mwh)
    site[:, S_PRICE] = price[prep.zone_index] + params.price_adder_eur_per_mwh
    site[:, S_CARBON] = np.append(prep.carbon_zone * draw.carbon_zone, params.fallback_carbon_g_per_kwh)[
        prep.zone_index
    ]
    site[:, S_CONN_F] = draw.conn
    site[:, S_GRID_F] = draw.grid_months
    site[:, S_SITE_MONTHS] = _site_months_base(prep) * draw.site_months
    return site


def _grid_inputs(prep: _Prepared, point_headroom_mw: np.ndarray, line_headroom_mw: np.ndarray) -> GridInputs:
    """Return the kernels' grid inputs of ``prep`` with the given (drawn) headroom of every grid
    point and line [MW]."""
    return GridInputs(
        cand_point=prep.cand_point,
        cand_dist_km=prep.cand_dist,
        point_headroom_mw=point_headroom_mw,
        point_source=prep.point_source,
        cut_vertex=prep.cut_vertex,
        cut_dist_km=prep.cut_dist,
        cut_line=prep.cut_line,
        line_class=prep.line_class,
        line_headroom_mw=line_headroom_mw,
        line_source=prep.line_source,
    )


def _grid_arrays(prep: _Prepared, draw: _Draw) -> GridInputs:
    """Return the kernels' grid inputs under ``draw``: the headroom × its factor where not known."""
    point = np.where(prep.point_source == H_KNOWN, prep.point_headroom, prep.point_headroom * draw.headroom_point)
    line = np.where(prep.line_source == H_KNOWN, prep.line_headroom, prep.line_headroom * draw.headroom_line)
    return _grid_inputs(prep, np.ascontiguousarray(point), np.ascontiguousarray(line))


def _scenario_arrays(params: ScenarioParams, weights: np.ndarray) -> ScenarioArrays:
    """Return the kernels' scenario inputs: the class table, the bounds and ``weights``."""
    return ScenarioArrays(tab=_class_table(params), bounds=_bounds(params), weights=np.ascontiguousarray(weights))


def _evaluate(
    params: ScenarioParams,
    prep: _Prepared,
    size: int,
    draw: _Draw,
    impl: str,
    buffers: tuple[np.ndarray, np.ndarray] | None = None,
    site: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``out[n_sites, N_OUT]`` and the ranks of one size under ``draw``; ``buffers``
    (kernel output and ranks) and ``site`` (``_site_matrix`` of this draw) may be passed in to be
    reused across sizes."""
    site = _site_matrix(params, prep, draw) if site is None else site
    sp = _pack_scalars(params, size, draw)
    grid = _grid_arrays(prep, draw)
    scenario = _scenario_arrays(params, draw.weights)
    if impl == "kernel":
        filled, ranks = buffers if buffers is not None else (np.empty((N_OUT, len(site))), np.empty(len(site)))
        kernels.evaluate_size(sp, site, grid, scenario, filled)
        kernels.rank_scores(filled[O_SCORE], filled[O_FEASIBLE], prep.site_key, ranks)
    else:
        filled = reference.evaluate_size(sp, site, grid, scenario)
        ranks = reference.rank_scores(filled[O_SCORE], filled[O_FEASIBLE], prep.site_key)
    return filled.T, ranks  # out[site, O_*]; each quantity contiguous
