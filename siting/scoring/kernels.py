"""Numba kernels of the siting model: float64 arrays in, preallocated ``out`` written.

Only numpy and numba here. ``reference.py`` holds the same maths in plain NumPy. Sites are
independent, so the per-site loops are ``prange``. Column and parameter positions are in
``layout.py``; formulas and sources in MODEL.md §2–§3 and ``params.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .layout import (
    N_CLASSES, O_CAPEX_FAC, O_CAPEX_IT, O_CAPEX_TOTAL, O_CLASS_KV, O_CONN_COST, O_EMISSIONS, O_EMISSIONS_PER_MW,
    O_ENERGY, O_FACILITY_MW, O_FEASIBLE, O_FUEL_T, O_HEADROOM, O_HEADROOM_EST, O_KIND, O_LAND_FIT, O_LAND_MARGIN,
    O_LAND_NEEDED, O_LINE_COST, O_LINE_KM, O_MASK, O_POINT, O_PRICE, O_PUE, O_RELIABILITY, O_SCORE, O_SEVESO,
    O_SUB_COST, O_TCO, O_TTP, O_V0, O_WATER_L_GPUH, O_WATER_M3, P_BACKUP_H, P_C_FAC, P_C_GPU_KEUR, P_CRF_FAC,
    P_CRF_GRID, P_CRF_IT, P_EUR_PER_USD, P_EXCL_SEVESO, P_FUEL_T_PER_MWH, P_LAND_HA_PER_MW, P_MAX_TTP, P_N_GPU,
    P_OM, P_OWN_REFURB, P_P_IT_MW, P_RADIUS_KM, P_ROUTING, P_SEVESO_HIGH, P_SEVESO_LOW, P_SUB_A, P_SUB_B,
    P_SUB_EXP, P_SUB_FIXED, P_TTP_FREE_KM, P_TTP_OWN, P_TTP_SLOPE, P_UTIL, P_WUE, X_LAND, X_NO_CONN, X_SEVESO, X_TTP,
)

HOURS_PER_YEAR = 8760.0


@njit(cache=True)
def _clip01(x):
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@njit(cache=True)
def _evaluate_one(
    i, sp, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
    pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
    site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
    crit_worst, crit_best, weights, row,
):
    """Fill ``row[N_OUT]`` for site ``i`` (see :func:`evaluate_size`)."""
    k = cand_point.shape[2]
    n_gpu = sp[P_N_GPU]
    p_it = sp[P_P_IT_MW]
    util = sp[P_UTIL]
    gpu_hours = n_gpu * HOURS_PER_YEAR * util
    p_fac = p_it * pue[i]
    row[O_PUE] = pue[i]
    row[O_FACILITY_MW] = p_fac
    mask = site_mask[i]
    # Voltage class: the smallest whose one circuit carries the whole load (N-1).
    cls = -1
    for c in range(N_CLASSES):
        if class_rating_mw[c] >= p_fac:
            cls = c
            break
    best_cost = np.inf
    kind = 0
    point = -1
    line_km = np.nan
    line_cost = np.nan
    sub_cost = np.nan
    headroom = np.nan
    estimated = np.nan
    ttp = np.nan
    own = own_cap_mw[i]
    if own == own and own >= p_fac:
        best_cost = sp[P_OWN_REFURB]
        kind = 1
        line_km = 0.0
        line_cost = 0.0
        sub_cost = 0.0
        headroom = own
        estimated = 0.0
        ttp = sp[P_TTP_OWN] * ttp_factor[i]
    if cls >= 0:
        kv = class_kv[cls]
        sub_usd = sp[P_SUB_A] * (kv + p_fac) + sp[P_SUB_B] * p_fac ** sp[P_SUB_EXP] + sp[P_SUB_FIXED]
        sub_meur = sub_usd * sp[P_EUR_PER_USD] / 1e6 + bay_cost_meur[cls]
        for j in range(k):
            q = cand_point[cls, i, j]
            d = cand_dist_km[cls, i, j]
            if q < 0 or not (d <= sp[P_RADIUS_KM]):
                continue
            if point_headroom_mw[q] < p_fac:
                continue
            length = d * sp[P_ROUTING]
            cost = length * line_cost_meur_per_km[cls] + sub_meur
            if cost < best_cost:
                best_cost = cost
                kind = 2
                point = q
                line_km = length
                line_cost = length * line_cost_meur_per_km[cls]
                sub_cost = sub_meur
                headroom = point_headroom_mw[q]
                estimated = point_estimated[q]
                extra = length - sp[P_TTP_FREE_KM]
                if extra < 0.0:
                    extra = 0.0
                ttp = (ttp_base_months[cls] + sp[P_TTP_SLOPE] * extra) * ttp_factor[i]
            # Candidates come nearest first and the substation cost is the same for all,
            # so the first adequate one is the cheapest.
            break
    row[O_CLASS_KV] = class_kv[cls] if cls >= 0 else np.nan
    row[O_KIND] = kind
    row[O_POINT] = point
    row[O_LINE_KM] = line_km
    row[O_LINE_COST] = line_cost
    row[O_SUB_COST] = sub_cost
    conn = best_cost if kind > 0 else np.nan
    row[O_CONN_COST] = conn
    row[O_HEADROOM] = headroom
    row[O_HEADROOM_EST] = estimated
    row[O_TTP] = ttp
    if kind == 0:
        mask |= X_NO_CONN
    elif ttp > sp[P_MAX_TTP]:
        mask |= X_TTP
    capex_fac = p_it * sp[P_C_FAC] * capex_factor[i]
    capex_it = n_gpu * sp[P_C_GPU_KEUR] / 1000.0 * capex_factor[i]
    conn_capex = conn * capex_factor[i]
    row[O_CAPEX_FAC] = capex_fac
    row[O_CAPEX_IT] = capex_it
    row[O_CAPEX_TOTAL] = capex_fac + capex_it + conn_capex
    energy = p_fac * HOURS_PER_YEAR * util
    row[O_ENERGY] = energy
    row[O_PRICE] = price_eur_per_mwh[i]
    annual_eur = (
        capex_fac * 1e6 * (sp[P_CRF_FAC] + sp[P_OM])
        + capex_it * 1e6 * sp[P_CRF_IT]
        + conn_capex * 1e6 * sp[P_CRF_GRID]
        + energy * price_eur_per_mwh[i]
    )
    tco = annual_eur / gpu_hours
    row[O_TCO] = tco
    emissions = energy * carbon_g_per_kwh[i] / 1000.0
    row[O_EMISSIONS] = emissions
    row[O_EMISSIONS_PER_MW] = emissions / p_it
    water = sp[P_WUE] * p_it * HOURS_PER_YEAR * util
    row[O_WATER_M3] = water
    water_l = water * 1000.0 / gpu_hours
    row[O_WATER_L_GPUH] = water_l
    needed = p_fac * sp[P_LAND_HA_PER_MW]
    row[O_LAND_NEEDED] = needed
    fit = area_ha[i] / needed
    row[O_LAND_FIT] = fit
    if fit == fit and fit < 1.0:
        mask |= X_LAND
    margin = 1.0
    if fit == fit:
        margin = fit if fit < 3.0 else 3.0
    row[O_LAND_MARGIN] = margin
    fuel = p_fac * sp[P_BACKUP_H] * sp[P_FUEL_T_PER_MWH]
    row[O_FUEL_T] = fuel
    tier = 0.0
    if fuel >= sp[P_SEVESO_HIGH]:
        tier = 2.0
    elif fuel >= sp[P_SEVESO_LOW]:
        tier = 1.0
    row[O_SEVESO] = tier
    if tier == 2.0 and sp[P_EXCL_SEVESO] > 0.0:
        mask |= X_SEVESO
    observed = observed_base[i]
    if own == own:
        observed += 1.0
    if kind > 0 and estimated == 0.0:
        observed += 1.0
    reliability = observed / 6.0
    row[O_RELIABILITY] = reliability
    row[O_MASK] = mask
    row[O_FEASIBLE] = 1.0 if mask == 0 else 0.0
    values = (tco, emissions / p_it, ttp, margin, water_l, reliability)
    score = 0.0
    for c in range(6):
        v = _clip01((values[c] - crit_worst[c]) / (crit_best[c] - crit_worst[c]))
        if values[c] != values[c]:
            v = np.nan
        row[O_V0 + c] = v
        if weights[c] != 0.0:
            score += weights[c] * v
    row[O_SCORE] = 100.0 * score if mask == 0 else np.nan


@njit(parallel=True, cache=True)
def evaluate_size(
    sp, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
    pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
    site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
    crit_worst, crit_best, weights, out,
):
    """Fill ``out[n_sites, N_OUT]`` with every quantity of one cluster size.

    Parameters
    ----------
    sp : float64[N_SCALARS]
        Scalar parameters (``layout.P_*``): cluster size [H100e], IT load [MW], costs [M€],
        times [month], rates [-].
    class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months : float64[6]
        Voltage class table [kV], one-circuit rating [MW], line cost [M€/km], bay cost [M€],
        base time to power [month].
    pue : float64[n]
        Power usage effectiveness per site. [-]
    own_cap_mw : float64[n]
        Existing connection capacity (NaN: none). [MW]
    area_ha : float64[n]
        Site area (NaN: unknown). [ha]
    price_eur_per_mwh, carbon_g_per_kwh : float64[n]
        Delivered power price [EUR/MWh] and effective carbon intensity [gCO2e/kWh].
    capex_factor, ttp_factor : float64[n]
        Multiplicative uncertainty factors (1 in the deterministic case). [-]
    site_mask : int64[n]
        Site-level exclusion bits (pollution, flood, reconverted).
    observed_base : float64[n]
        Count of observed inputs among area, pollution, flood, water. [-]
    cand_point : int64[6, n, k]
        Per class, indices of the k nearest adequate grid points (−1: none).
    cand_dist_km : float64[6, n, k]
        Great-circle distances to those points. [km]
    point_headroom_mw : float64[m]
        Headroom of each grid point (known, or class default × factor). [MW]
    point_estimated : float64[m]
        1.0 where the headroom is a default. [-]
    crit_worst, crit_best, weights : float64[6]
        Normalisation bounds and weights (summing to 1, or all 0).
    out : float64[n, N_OUT]
        Overwritten.
    """
    for i in prange(pue.shape[0]):
        _evaluate_one(
            i, sp, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
                pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
                site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
                crit_worst, crit_best, weights, out[i],
        )


@njit(parallel=True, cache=True)
def mc_scores(
    sp_sizes, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
    pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
    site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
    crit_worst, crit_best, weights, work, score_out, feasible_out,
):
    """Fill ``score_out`` and ``feasible_out`` [n_sizes, n_sites] for one Monte Carlo draw.

    The same per-site model as :func:`evaluate_size`, for every size at once and keeping only
    what ranking needs, so a draw is one call. ``sp_sizes`` holds one scalar vector per size;
    ``work[n_sites, N_OUT]`` is scratch space, reused across draws.
    """
    n = pue.shape[0]
    for i in prange(n):
        row = work[i]
        for z in range(sp_sizes.shape[0]):
            sp = sp_sizes[z]
            _evaluate_one(
                i, sp, class_kv, class_rating_mw, line_cost_meur_per_km, bay_cost_meur, ttp_base_months,
                pue, own_cap_mw, area_ha, price_eur_per_mwh, carbon_g_per_kwh, capex_factor, ttp_factor,
                site_mask, observed_base, cand_point, cand_dist_km, point_headroom_mw, point_estimated,
                crit_worst, crit_best, weights, row,
            )
            score_out[z, i] = row[O_SCORE]
            feasible_out[z, i] = row[O_FEASIBLE]


@njit(parallel=True, cache=True)
def rank_many(scores, feasible, site_key, out):
    """Fill ``out[z]`` with the ranks of ``scores[z]`` for every size ``z`` (sizes in parallel)."""
    for z in prange(scores.shape[0]):
        rank_scores(scores[z], feasible[z], site_key, out[z])


@njit(cache=True)
def rank_scores(score, feasible, site_key, out):
    """Fill ``out`` with each feasible site's rank (1 = best; ties by ``site_key``), NaN otherwise."""
    n = score.shape[0]
    m = 0
    for i in range(n):
        if feasible[i] > 0.0:
            m += 1
    idx = np.empty(m, dtype=np.int64)
    keys = np.empty(m, dtype=np.float64)
    j = 0
    for i in range(n):
        out[i] = np.nan
        if feasible[i] > 0.0:
            idx[j] = i
            keys[j] = -score[i]
            j += 1
    # Stable sort by (−score, site_key): order by key first (already so when the sites come
    # sorted by id, as score_sites passes them), then stably by score.
    key_sorted = True
    for r in range(1, m):
        if site_key[idx[r]] < site_key[idx[r - 1]]:
            key_sorted = False
            break
    if not key_sorted:
        order = np.argsort(site_key[idx], kind="mergesort")
        idx = idx[order]
        keys = keys[order]
    order = np.argsort(keys, kind="mergesort")
    for r in range(m):
        out[idx[order[r]]] = r + 1.0


@njit(parallel=True, cache=True)
def rank_stats(ranks, out):
    """Fill ``out[n_sites, 5]`` with Monte Carlo rank statistics per site.

    Columns: share of draws feasible, 5th, 50th and 95th percentile rank over the feasible
    draws (linear interpolation, as ``numpy.percentile``; NaN if never feasible), share of
    draws in the top 10. ``ranks[n_draws, n_sites]`` holds NaN where a site was excluded.
    """
    n_draws, n = ranks.shape
    for i in prange(n):
        values = np.empty(n_draws)
        m = 0
        top = 0
        for d in range(n_draws):
            r = ranks[d, i]
            if r == r:
                values[m] = r
                m += 1
                if r <= 10.0:
                    top += 1
        out[i, 0] = m / n_draws
        out[i, 4] = top / n_draws
        if m == 0:
            out[i, 1] = np.nan
            out[i, 2] = np.nan
            out[i, 3] = np.nan
            continue
        v = np.sort(values[:m])
        for j, q in enumerate((5.0, 50.0, 95.0)):
            pos = q / 100.0 * (m - 1)
            lo = int(np.floor(pos))
            hi = lo + 1 if lo + 1 < m else lo
            frac = pos - lo
            out[i, 1 + j] = v[lo] + (v[hi] - v[lo]) * frac
