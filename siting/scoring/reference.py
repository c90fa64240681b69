"""Plain-NumPy twins of ``kernels.py``: the same maths, vectorised, returning what the kernels write."""

from __future__ import annotations

import numpy as np

from .layout import (
    H_ESTIMATED,
    H_KNOWN,
    P_EST_CREDIT,
    K_CUT_IN,
    K_NEW_LINE,
    K_OWN,
    N_OUT,
    O_CAPEX_FAC,
    O_CAPEX_IT,
    O_CAPEX_TOTAL,
    O_CHOSEN_TOTAL,
    O_CLASS_KV,
    O_CONN_COST,
    O_CONN_KV,
    O_CUT_VERTEX,
    O_DELAY_COST,
    O_EMISSIONS,
    O_EMISSIONS_PER_MW,
    O_ENERGY,
    O_FACILITY_MW,
    O_FEASIBLE,
    O_FUEL_T,
    O_GRID_MONTHS,
    O_HEADROOM,
    O_HEADROOM_EST,
    O_HEADROOM_SRC,
    O_KIND,
    O_LAND_FIT,
    O_LAND_MARGIN,
    O_LAND_NEEDED,
    O_LINE_COST,
    O_LINE_KM,
    O_MASK,
    O_POINT,
    O_PRICE,
    O_PUE,
    O_RELIABILITY,
    O_REMED_CAPEX,
    O_RUNNER_KIND,
    O_RUNNER_TOTAL,
    O_SCORE,
    O_SEVESO,
    O_SITE_COST,
    O_SITE_MONTHS,
    O_SUB_COST,
    O_TCO,
    O_TTP,
    O_V0,
    O_WATER_L_GPUH,
    O_WATER_M3,
    P_BACKUP_H,
    P_C_FAC,
    P_C_GPU_KEUR,
    P_CRF_FAC,
    P_CRF_GRID,
    P_CRF_IT,
    P_CUT_BAYS,
    P_CUT_EXTRA,
    P_CUT_MIN_CLASS,
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
    X_LAND,
    X_NO_CONN,
    X_SEVESO,
    X_TTP,
)

from .layout import HOURS_PER_YEAR  # one definition for the kernels and their reference


def substation_cost_meur(
    kv, facility_mw, usd_per_kv_plus_mw, usd_per_mw_pow, mw_exponent, usd_fixed, eur_per_usd, bay_meur
):
    """Return the substation and bay cost [M€] at ``kv`` for a ``facility_mw`` load (NREL
    LandBOSSE SubstationCost in USD, converted, plus the bays; siting model §2)."""
    usd = usd_per_kv_plus_mw * (kv + facility_mw) + usd_per_mw_pow * facility_mw**mw_exponent + usd_fixed
    return usd * eur_per_usd / 1e6 + bay_meur


def _substation_meur(sp, kv, p_fac):
    usd = sp[P_SUB_A] * (kv + p_fac) + sp[P_SUB_B] * p_fac ** sp[P_SUB_EXP] + sp[P_SUB_FIXED]
    return usd * sp[P_EUR_PER_USD] / 1e6


def option_total_meur(conn_meur, grid_months, site_months, base_capex_meur, rate_per_month):
    """Return (time to power [month], connection cost + cost of delay [M€]) of one option:
    time = max(grid, site months); delay = time × (base capex + connection) × r / 12."""
    ttp = np.maximum(grid_months, site_months)
    return ttp, conn_meur + ttp * (base_capex_meur + conn_meur) * rate_per_month


def evaluate_size(sp, site, grid, scenario) -> np.ndarray:
    """Return the ``out[N_OUT, n_sites]`` matrix that ``kernels.evaluate_size`` fills."""
    tab, bounds, weights = scenario.tab, scenario.bounds, scenario.weights
    cand_point, cand_dist_km = grid.cand_point, grid.cand_dist_km
    cut_vertex, cut_dist_km = grid.cut_vertex, grid.cut_dist_km
    point_headroom_mw, point_source = grid.point_headroom_mw, grid.point_source
    cut_line, line_class = grid.cut_line, grid.line_class
    line_headroom_mw, line_source = grid.line_headroom_mw, grid.line_source
    n = site.shape[0]
    filled = np.full((N_OUT, n), np.nan)
    out = filled.T  # written per quantity below: out[:, O_*]
    rows = np.arange(n)
    # Empty grids or line sets: one placeholder that never qualifies keeps the indexing simple.
    if len(point_headroom_mw) == 0:
        point_headroom_mw, point_source = np.full(1, -np.inf), np.zeros(1)
    if len(line_headroom_mw) == 0:
        line_class = np.zeros(1, dtype=np.int64)
        line_headroom_mw, line_source = np.full(1, -np.inf), np.zeros(1)
    n_gpu, p_it, util = sp[P_N_GPU], sp[P_P_IT_MW], sp[P_UTIL]
    gpu_hours = n_gpu * HOURS_PER_YEAR * util
    pue = site[:, S_PUE]
    p_fac = p_it * pue
    out[:, O_PUE] = pue
    out[:, O_FACILITY_MW] = p_fac
    mask = site[:, S_MASK].astype(np.int64)
    adequate = tab[T_RATING][None, :] >= p_fac[:, None]
    cls = np.where(adequate.any(axis=1), adequate.argmax(axis=1), -1)
    has_cls = cls >= 0
    c = np.where(has_cls, cls, 0)

    needed = p_fac * sp[P_LAND_HA_PER_MW]
    area = site[:, S_AREA]
    default_area = sp[P_REMED_AREA] if np.isfinite(sp[P_REMED_AREA]) else None
    remed_area = np.where(np.isfinite(area), np.minimum(area, needed), needed if default_area is None else default_area)
    remed = site[:, S_REMED_MEUR_PER_HA] * remed_area
    capex_fac = p_it * sp[P_C_FAC]
    capex_it = n_gpu * sp[P_C_GPU_KEUR] / 1000.0
    base = capex_fac + capex_it + remed
    site_months = site[:, S_SITE_MONTHS]
    rate_m = sp[P_RATE_MONTH]
    conn_f, grid_f = site[:, S_CONN_F], site[:, S_GRID_F]

    # Own connection.
    own = site[:, S_OWN_CAP]
    own_ok = np.isfinite(own) & (own >= p_fac)
    c_own = sp[P_OWN_REFURB] * conn_f
    g_own = sp[P_TTP_OWN] * grid_f
    _, t_own = option_total_meur(c_own, g_own, site_months, base, rate_m)

    # New line: the first (nearest) candidate with enough headroom.
    pts = cand_point[c, :, rows]  # [site, candidate]: the indices apart, numpy puts the rows first
    dist = cand_dist_km[c, :, rows]
    safe = np.where(pts >= 0, pts, 0)
    ok = (pts >= 0) & (point_headroom_mw[safe] >= p_fac[:, None]) & has_cls[:, None]
    new_ok = ok.any(axis=1)
    first = ok.argmax(axis=1)
    q = pts[rows, first]
    length_new = dist[rows, first] * sp[P_ROUTING]
    kv = tab[T_KV, c]
    sub_new = _substation_meur(sp, kv, p_fac) + tab[T_BAY, c]
    lc_new = length_new * tab[T_LINE_COST, c]
    c_new = (lc_new + sub_new) * conn_f
    g_new = (tab[T_TTP_BASE, c] + sp[P_TTP_SLOPE] * np.maximum(length_new - sp[P_TTP_FREE_KM], 0.0)) * grid_f
    _, t_new = option_total_meur(c_new, g_new, site_months, base, rate_m)

    # Cut-in on a line.
    v = cut_vertex[c, rows]
    ln = np.maximum(cut_line[c, rows], 0)
    lcl = line_class[ln]
    cut_head = line_headroom_mw[ln]
    cut_src = line_source[ln]
    cut_ok = has_cls & (cls >= sp[P_CUT_MIN_CLASS]) & (v >= 0) & (cut_head >= p_fac)
    kv_l = tab[T_KV, lcl]
    sub_cut = _substation_meur(sp, kv_l, p_fac) + sp[P_CUT_BAYS] * tab[T_BAY, lcl]
    length_cut = cut_dist_km[c, rows] * sp[P_ROUTING]
    lc_cut = length_cut * tab[T_LINE_COST, lcl]
    c_cut = (lc_cut + sub_cut) * conn_f
    g_cut = (
        tab[T_TTP_BASE, lcl] + sp[P_TTP_SLOPE] * np.maximum(length_cut - sp[P_TTP_FREE_KM], 0.0) + sp[P_CUT_EXTRA]
    ) * grid_f
    _, t_cut = option_total_meur(c_cut, g_cut, site_months, base, rate_m)

    totals = np.stack(
        [np.where(own_ok, t_own, np.inf), np.where(new_ok, t_new, np.inf), np.where(cut_ok, t_cut, np.inf)], axis=1
    )
    pick = totals.argmin(axis=1)  # the first of equal totals: own, then new line, then cut-in
    best = totals[rows, pick]
    has = np.isfinite(best)
    kind = np.where(has, pick + 1, 0)
    rest = totals.copy()
    rest[rows, pick] = np.inf
    second = rest.argmin(axis=1)
    runner = rest[rows, second]
    runner_kind = np.where(np.isfinite(runner), second + 1, 0)

    use_own, use_new, use_cut = kind == K_OWN, kind == K_NEW_LINE, kind == K_CUT_IN

    def pick3(a, b, d, none=np.nan):
        return np.where(use_own, a, np.where(use_new, b, np.where(use_cut, d, none)))

    conn = pick3(c_own, c_new, c_cut)
    grid_months = pick3(g_own, g_new, g_cut)
    ttp = np.where(kind > 0, np.maximum(grid_months, site_months), np.nan)
    source = pick3(H_ESTIMATED, point_source[np.where(q >= 0, q, 0)], cut_src)
    out[:, O_CLASS_KV] = np.where(has_cls, kv, np.nan)
    out[:, O_KIND] = kind
    out[:, O_POINT] = np.where(use_new, q, -1)
    out[:, O_CUT_VERTEX] = np.where(use_cut, v, -1)
    out[:, O_LINE_KM] = pick3(0.0, length_new, length_cut)
    out[:, O_LINE_COST] = pick3(0.0, lc_new, lc_cut)
    out[:, O_SUB_COST] = pick3(0.0, sub_new, sub_cut)
    out[:, O_CONN_COST] = conn
    out[:, O_CONN_KV] = pick3(site[:, S_OWN_KV], kv, kv_l)
    safe_q = np.where(q >= 0, q, 0)
    out[:, O_HEADROOM] = pick3(own, point_headroom_mw[safe_q], cut_head)
    out[:, O_HEADROOM_SRC] = source
    out[:, O_HEADROOM_EST] = np.where(kind > 0, np.where(source != 0, 1.0, 0.0), np.nan)
    out[:, O_GRID_MONTHS] = grid_months
    out[:, O_SITE_MONTHS] = site_months
    out[:, O_TTP] = ttp
    out[:, O_CHOSEN_TOTAL] = np.where(kind > 0, best, np.nan)
    out[:, O_RUNNER_KIND] = runner_kind
    out[:, O_RUNNER_TOTAL] = np.where(runner_kind > 0, runner, np.nan)
    mask |= np.where(kind == 0, X_NO_CONN, 0)
    mask |= np.where((kind > 0) & (ttp > sp[P_MAX_TTP]), X_TTP, 0)
    capex_total = base + conn
    out[:, O_REMED_CAPEX] = remed
    out[:, O_CAPEX_FAC] = capex_fac
    out[:, O_CAPEX_IT] = capex_it
    out[:, O_CAPEX_TOTAL] = capex_total
    out[:, O_DELAY_COST] = ttp * capex_total * rate_m
    energy = p_fac * HOURS_PER_YEAR * util
    out[:, O_ENERGY] = energy
    price = site[:, S_PRICE]
    out[:, O_PRICE] = price
    annual_site = (
        capex_fac * 1e6 * (sp[P_CRF_FAC] + sp[P_OM])
        + remed * 1e6 * sp[P_CRF_FAC]
        + conn * 1e6 * sp[P_CRF_GRID]
        + energy * price
    )
    annual = annual_site + capex_it * 1e6 * sp[P_CRF_IT]
    tco = annual / gpu_hours
    site_cost = annual_site / gpu_hours
    out[:, O_TCO] = tco
    out[:, O_SITE_COST] = site_cost
    emissions = energy * site[:, S_CARBON] / 1000.0
    out[:, O_EMISSIONS] = emissions
    out[:, O_EMISSIONS_PER_MW] = emissions / p_it
    water = sp[P_WUE] * p_it * HOURS_PER_YEAR * util
    out[:, O_WATER_M3] = water
    water_l = np.full(n, water * 1000.0 / gpu_hours)
    out[:, O_WATER_L_GPUH] = water_l
    out[:, O_LAND_NEEDED] = needed
    fit = area / needed
    out[:, O_LAND_FIT] = fit
    mask |= np.where(np.isfinite(fit) & (fit < 1.0), X_LAND, 0)
    margin = np.where(np.isfinite(fit), np.minimum(fit, 3.0), 1.0)
    out[:, O_LAND_MARGIN] = margin
    fuel = p_fac * sp[P_BACKUP_H] * sp[P_FUEL_T_PER_MWH]
    out[:, O_FUEL_T] = fuel
    tier = np.where(fuel >= sp[P_SEVESO_HIGH], 2.0, np.where(fuel >= sp[P_SEVESO_LOW], 1.0, 0.0))
    out[:, O_SEVESO] = tier
    if sp[P_EXCL_SEVESO] > 0.0:
        mask |= np.where(tier == 2.0, X_SEVESO, 0)
    observed = (
        site[:, S_OBSERVED]
        + ((kind > 0) & (source == H_KNOWN))
        + np.where((kind > 0) & (source == H_ESTIMATED), sp[P_EST_CREDIT], 0.0)
    )
    reliability = observed / 6.0
    out[:, O_RELIABILITY] = reliability
    out[:, O_MASK] = mask
    feasible = mask == 0
    out[:, O_FEASIBLE] = feasible
    values = np.stack([site_cost, emissions / p_it, ttp, margin, water_l, reliability], axis=1)
    v01 = np.clip((values - bounds[0]) / (bounds[1] - bounds[0]), 0.0, 1.0)
    out[:, O_V0 : O_V0 + 6] = v01
    weighted = np.where(weights != 0.0, v01 * weights, 0.0)
    score = 100.0 * weighted.sum(axis=1)
    out[:, O_SCORE] = np.where(feasible, score, np.nan)
    return filled


def rank_scores(score, feasible, site_key) -> np.ndarray:
    """Return the ranks ``kernels.rank_scores`` writes: competition ranking on scores
    rounded to 0.01 ("1, 1, 3")."""
    out = np.full(score.shape[0], np.nan)
    idx = np.flatnonzero(feasible > 0.0)
    rounded = np.floor(score[idx] * 100.0 + 0.5)
    keys = np.where(np.isnan(rounded), np.inf, -rounded)
    order = np.lexsort((site_key[idx], keys))
    sorted_keys = keys[order]
    position = np.arange(1, idx.size + 1, dtype=np.float64)
    new_group = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if idx.size else np.zeros(0, dtype=bool)
    group_start = np.maximum.accumulate(np.where(new_group, position, 0.0)) if idx.size else position
    out[idx[order]] = group_start
    return out


def triangular(u, low, mode, high) -> np.ndarray:
    """Return what ``kernels.triangular`` writes: NumPy's triangular inversion at ``u``."""
    base = high - low
    left_base = mode - low
    right_prod = (high - mode) * base
    return np.where(
        u <= left_base / base, low + np.sqrt(u * (left_base * base)), high - np.sqrt((1.0 - u) * right_prod)
    )
