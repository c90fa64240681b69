"""Plain-NumPy twins of ``kernels.py``: the same maths, vectorised, returning what the kernels write."""

from __future__ import annotations

import numpy as np

from .layout import (
    N_OUT, O_CAPEX_FAC, O_CAPEX_IT, O_CAPEX_TOTAL, O_CLASS_KV, O_CONN_COST, O_EMISSIONS, O_EMISSIONS_PER_MW, O_ENERGY,
    O_FACILITY_MW, O_FEASIBLE, O_FUEL_T, O_HEADROOM, O_HEADROOM_EST, O_KIND, O_LAND_FIT, O_LAND_MARGIN, O_LAND_NEEDED,
    O_LINE_COST, O_LINE_KM, O_MASK, O_POINT, O_PRICE, O_PUE, O_RELIABILITY, O_SCORE, O_SEVESO, O_SUB_COST, O_TCO, O_TTP,
    O_V0, O_WATER_L_GPUH, O_WATER_M3, P_BACKUP_H, P_C_FAC, P_C_GPU_KEUR, P_CRF_FAC, P_CRF_GRID, P_CRF_IT, P_EUR_PER_USD,
    P_EXCL_SEVESO, P_FUEL_T_PER_MWH, P_LAND_HA_PER_MW, P_MAX_TTP, P_N_GPU, P_OM, P_OWN_REFURB, P_P_IT_MW, P_RADIUS_KM,
    P_ROUTING, P_SEVESO_HIGH, P_SEVESO_LOW, P_SUB_A, P_SUB_B, P_SUB_EXP, P_SUB_FIXED, P_TTP_FREE_KM, P_TTP_OWN,
    P_TTP_SLOPE, P_UTIL, P_WUE, X_LAND, X_NO_CONN, X_SEVESO, X_TTP,
)

HOURS_PER_YEAR = 8760.0


def substation_cost_meur(kv, facility_mw, usd_per_kv_plus_mw, usd_per_mw_pow, mw_exponent, usd_fixed, eur_per_usd,
                         bay_meur):
    """Return the substation and bay cost [M€] at ``kv`` for a ``facility_mw`` load (NREL
    LandBOSSE SubstationCost in USD, converted, plus the class's bay cost; MODEL.md §2)."""
    usd = usd_per_kv_plus_mw * (kv + facility_mw) + usd_per_mw_pow * facility_mw ** mw_exponent + usd_fixed
    return usd * eur_per_usd / 1e6 + bay_meur


def evaluate_size(
    sp, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
    pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
    site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
    crit_worst, crit_best, weights,
) -> np.ndarray:
    """Return the ``out[n_sites, N_OUT]`` matrix that ``kernels.evaluate_size`` fills."""
    n = pue.shape[0]
    out = np.full((n, N_OUT), np.nan)
    n_gpu, p_it, util = sp[P_N_GPU], sp[P_P_IT_MW], sp[P_UTIL]
    gpu_hours = n_gpu * HOURS_PER_YEAR * util
    p_fac = p_it * pue
    out[:, O_PUE] = pue
    out[:, O_FACILITY_MW] = p_fac
    mask = site_mask.astype(np.int64).copy()
    adequate = class_rating_mw[None, :] >= p_fac[:, None]
    cls = np.where(adequate.any(axis=1), adequate.argmax(axis=1), -1)
    has_cls = cls >= 0
    c = np.where(has_cls, cls, 0)

    own_ok = np.isfinite(own_cap_mw) & (own_cap_mw >= p_fac)
    # New line: first candidate (nearest first) within radius and with enough headroom.
    rows = np.arange(n)
    pts = cand_point[c, rows, :]
    dist = cand_dist_km[c, rows, :]
    safe_pts = np.where(pts >= 0, pts, 0)
    ok = (pts >= 0) & (dist <= sp[P_RADIUS_KM]) & (point_headroom_mw[safe_pts] >= p_fac[:, None]) & has_cls[:, None]
    any_ok = ok.any(axis=1)
    first = ok.argmax(axis=1)
    d = dist[rows, first]
    length = d * sp[P_ROUTING]
    kv = class_kv[c]
    sub_meur = substation_cost_meur(kv, p_fac, sp[P_SUB_A], sp[P_SUB_B], sp[P_SUB_EXP], sp[P_SUB_FIXED],
                                    sp[P_EUR_PER_USD], bay_cost_meur[c])
    line_cost = length * line_cost_meur_per_km[c]
    new_cost = np.where(any_ok, line_cost + sub_meur, np.inf)
    own_cost = np.where(own_ok, sp[P_OWN_REFURB], np.inf)
    use_new = any_ok & (new_cost < own_cost)
    use_own = own_ok & ~use_new
    kind = np.where(use_new, 2, np.where(use_own, 1, 0))
    point = np.where(use_new, pts[rows, first], -1)
    extra = np.maximum(length - sp[P_TTP_FREE_KM], 0.0)
    ttp = np.where(use_new, (ttp_base_months[c] + sp[P_TTP_SLOPE] * extra) * ttp_factor,
                   np.where(use_own, sp[P_TTP_OWN] * ttp_factor, np.nan))
    out[:, O_CLASS_KV] = np.where(has_cls, kv, np.nan)
    out[:, O_KIND] = kind
    out[:, O_POINT] = point
    out[:, O_LINE_KM] = np.where(use_new, length, np.where(use_own, 0.0, np.nan))
    out[:, O_LINE_COST] = np.where(use_new, line_cost, np.where(use_own, 0.0, np.nan))
    out[:, O_SUB_COST] = np.where(use_new, sub_meur, np.where(use_own, 0.0, np.nan))
    conn = np.where(use_new, new_cost, np.where(use_own, own_cost, np.nan))
    out[:, O_CONN_COST] = conn
    chosen_pt = np.where(point >= 0, point, 0)
    out[:, O_HEADROOM] = np.where(use_new, point_headroom_mw[chosen_pt], np.where(use_own, own_cap_mw, np.nan))
    estimated = np.where(use_new, point_estimated[chosen_pt], np.where(use_own, 0.0, np.nan))
    out[:, O_HEADROOM_EST] = estimated
    out[:, O_TTP] = ttp
    mask |= np.where(kind == 0, X_NO_CONN, 0)
    mask |= np.where((kind > 0) & (ttp > sp[P_MAX_TTP]), X_TTP, 0)
    capex_fac = p_it * sp[P_C_FAC] * capex_factor
    capex_it = n_gpu * sp[P_C_GPU_KEUR] / 1000.0 * capex_factor
    conn_capex = conn * capex_factor
    out[:, O_CAPEX_FAC] = capex_fac
    out[:, O_CAPEX_IT] = capex_it
    out[:, O_CAPEX_TOTAL] = capex_fac + capex_it + conn_capex
    energy = p_fac * HOURS_PER_YEAR * util
    out[:, O_ENERGY] = energy
    out[:, O_PRICE] = price_eur_per_mwh
    annual = (capex_fac * 1e6 * (sp[P_CRF_FAC] + sp[P_OM]) + capex_it * 1e6 * sp[P_CRF_IT]
              + conn_capex * 1e6 * sp[P_CRF_GRID] + energy * price_eur_per_mwh)
    tco = annual / gpu_hours
    out[:, O_TCO] = tco
    emissions = energy * carbon_g_per_kwh / 1000.0
    out[:, O_EMISSIONS] = emissions
    out[:, O_EMISSIONS_PER_MW] = emissions / p_it
    water = sp[P_WUE] * p_it * HOURS_PER_YEAR * util
    out[:, O_WATER_M3] = water
    water_l = np.full(n, water * 1000.0 / gpu_hours)
    out[:, O_WATER_L_GPUH] = water_l
    needed = p_fac * sp[P_LAND_HA_PER_MW]
    out[:, O_LAND_NEEDED] = needed
    fit = area_ha / needed
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
    observed = observed_base + np.isfinite(own_cap_mw) + ((kind > 0) & (estimated == 0.0))
    reliability = observed / 6.0
    out[:, O_RELIABILITY] = reliability
    out[:, O_MASK] = mask
    feasible = mask == 0
    out[:, O_FEASIBLE] = feasible
    values = np.stack([tco, emissions / p_it, ttp, margin, water_l, reliability], axis=1)
    v = np.clip((values - crit_worst) / (crit_best - crit_worst), 0.0, 1.0)
    out[:, O_V0:O_V0 + 6] = v
    weighted = np.where(weights != 0.0, v * weights, 0.0)
    score = 100.0 * weighted.sum(axis=1)
    out[:, O_SCORE] = np.where(feasible, score, np.nan)
    return out


def rank_scores(score, feasible, site_key) -> np.ndarray:
    """Return the ranks ``kernels.rank_scores`` writes."""
    out = np.full(score.shape[0], np.nan)
    idx = np.flatnonzero(feasible > 0.0)
    order = np.lexsort((site_key[idx], -score[idx]))
    out[idx[order]] = np.arange(1, idx.size + 1, dtype=np.float64)
    return out


def rank_stats(ranks) -> np.ndarray:
    """Return the ``out[n_sites, 5]`` that ``kernels.rank_stats`` fills."""
    import warnings

    n_draws = ranks.shape[0]
    out = np.empty((ranks.shape[1], 5))
    out[:, 0] = np.isfinite(ranks).sum(axis=0) / n_draws
    out[:, 4] = (np.nan_to_num(ranks, nan=np.inf) <= 10.0).sum(axis=0) / n_draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out[:, 1:4] = np.nanpercentile(ranks, [5.0, 50.0, 95.0], axis=0).T
    return out
