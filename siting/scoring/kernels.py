"""Numba kernels of the siting model: arrays in, preallocated ``out`` written.

Only numpy and numba here. ``reference.py`` holds the same maths in plain NumPy. Sites are
independent, so the per-site loops are ``prange``. Column and parameter positions are in
``layout.py``; the grid and scenario arrays travel as the named tuples of ``kernel_inputs.py``;
formulas and sources in MODEL.md §2–§3 and ``params.py``.
"""

from __future__ import annotations

import os

# The parallel kernels run on numba's OpenMP layer, whose idle threads spin by default: on cores
# shared with other processes (web and run workers) a spinning thread takes the core its partner
# needs, and a 2-thread deterministic scoring of 19,000 sites took 4× its 1-thread time on a
# loaded 2-core machine (×1.5 with passive waiting). Read by libgomp when numba first loads it;
# an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from numba import njit, prange

from .layout import (
    H_ESTIMATED,
    H_KNOWN,
    P_EST_CREDIT,
    K_CUT_IN,
    K_NEW_LINE,
    K_OWN,
    N_CLASSES,
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


@njit(cache=True, inline="always")
def _clip01(x):
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@njit(cache=True, inline="always")
def _substation_meur(sp, kv, p_fac, p_fac_pow):
    """LandBOSSE substation [M€] at ``kv`` for a ``p_fac`` load, without bays (see reference);
    ``p_fac_pow`` is ``p_fac ** sp[P_SUB_EXP]``, computed once for every option of a site."""
    usd = sp[P_SUB_A] * (kv + p_fac) + sp[P_SUB_B] * p_fac_pow + sp[P_SUB_FIXED]
    return usd * sp[P_EUR_PER_USD] / 1e6


@njit(cache=True, inline="always")
def _evaluate_one(i, sp, site, grid, scenario, row, scores_only):
    """Fill ``row[N_OUT]`` for site ``i`` (see :func:`evaluate_size`).

    With ``scores_only``, only ``row[O_SCORE]`` and ``row[O_FEASIBLE]`` are meaningful: a site
    is left as soon as an exclusion is known (its score is NaN whatever follows), which is what
    ranking needs and most of a Monte Carlo draw's work at the larger sizes.

    The fields of ``grid`` and ``scenario`` are read where they are used, not bound to locals
    here. Measured on the loaded dataset (one thread, 19,009 sites × 7 sizes): binding ``tab``,
    ``bounds`` and ``weights`` to locals made a draw's :func:`mc_scores` 15 % slower and binding
    every field twice as slow, while reading them where used takes the time of the former
    positional arguments (arrays held across the early returns most likely keep numba's
    reference counting inside the loop).
    """
    n_gpu = sp[P_N_GPU]
    p_it = sp[P_P_IT_MW]
    util = sp[P_UTIL]
    gpu_hours = n_gpu * HOURS_PER_YEAR * util
    pue = site[i, S_PUE]
    p_fac = p_it * pue
    row[O_PUE] = pue
    row[O_FACILITY_MW] = p_fac
    mask = np.int64(site[i, S_MASK])
    # Voltage class: the smallest whose one circuit carries the whole load (N-1).
    cls = -1
    for c in range(N_CLASSES):
        if scenario.tab[T_RATING, c] >= p_fac:
            cls = c
            break
    needed = p_fac * sp[P_LAND_HA_PER_MW]
    area = site[i, S_AREA]
    fit = area / needed
    if fit == fit and fit < 1.0:
        mask |= X_LAND
    fuel = p_fac * sp[P_BACKUP_H] * sp[P_FUEL_T_PER_MWH]
    tier = 0.0
    if fuel >= sp[P_SEVESO_HIGH]:
        tier = 2.0
    elif fuel >= sp[P_SEVESO_LOW]:
        tier = 1.0
    if tier == 2.0 and sp[P_EXCL_SEVESO] > 0.0:
        mask |= X_SEVESO
    if scores_only and mask != 0:
        row[O_SCORE] = np.nan
        row[O_FEASIBLE] = 0.0
        return
    # Remediation on the land the project occupies: the site if smaller, else what it needs.
    remed_area = needed
    if area == area:
        if area < needed:
            remed_area = area
    elif sp[P_REMED_AREA] == sp[P_REMED_AREA]:
        remed_area = sp[P_REMED_AREA]
    remed = site[i, S_REMED_MEUR_PER_HA] * remed_area
    capex_fac = p_it * sp[P_C_FAC]
    capex_it = n_gpu * sp[P_C_GPU_KEUR] / 1000.0
    base = capex_fac + capex_it + remed
    site_months = site[i, S_SITE_MONTHS]
    rate_m = sp[P_RATE_MONTH]
    conn_f = site[i, S_CONN_F]
    grid_f = site[i, S_GRID_F]

    # Options in order own, new line, cut-in; the lowest connection cost + cost of delay wins
    # (an equal total keeps the earlier kind). The runner-up is kept to explain the choice.
    kind = 0
    best = np.inf
    runner_kind = 0
    runner = np.inf
    point = -1
    vertex = -1
    line_km = np.nan
    line_cost = np.nan
    sub_cost = np.nan
    conn = np.nan
    headroom = np.nan
    source = -1.0
    grid_months = np.nan
    conn_kv = np.nan

    own = site[i, S_OWN_CAP]
    if own == own and own >= p_fac:
        c_own = sp[P_OWN_REFURB] * conn_f
        g_own = sp[P_TTP_OWN] * grid_f
        t_own = g_own if g_own > site_months else site_months
        total = c_own + t_own * (base + c_own) * rate_m
        if total < best:
            runner_kind, runner = kind, best
            kind, best = K_OWN, total
            point, vertex, line_km, line_cost, sub_cost, conn = -1, -1, 0.0, 0.0, 0.0, c_own
            headroom, source, grid_months, conn_kv = own, H_ESTIMATED, g_own, site[i, S_OWN_KV]
        elif total < runner:
            runner_kind, runner = K_OWN, total
    if cls >= 0:
        kv = scenario.tab[T_KV, cls]
        p_fac_pow = p_fac ** sp[P_SUB_EXP]
        sub_meur = _substation_meur(sp, kv, p_fac, p_fac_pow) + scenario.tab[T_BAY, cls]
        for j in range(grid.cand_point.shape[1]):
            q = grid.cand_point[cls, j, i]
            if q < 0:
                break  # candidates are compacted: the first −1 ends them
            if grid.point_headroom_mw[q] < p_fac:
                continue
            length = grid.cand_dist_km[cls, j, i] * sp[P_ROUTING]
            lc = length * scenario.tab[T_LINE_COST, cls]
            c_new = (lc + sub_meur) * conn_f
            extra = length - sp[P_TTP_FREE_KM]
            if extra < 0.0:
                extra = 0.0
            g_new = (scenario.tab[T_TTP_BASE, cls] + sp[P_TTP_SLOPE] * extra) * grid_f
            t_new = g_new if g_new > site_months else site_months
            total = c_new + t_new * (base + c_new) * rate_m
            if total < best:
                runner_kind, runner = kind, best
                kind, best = K_NEW_LINE, total
                point, vertex, line_km, line_cost, sub_cost, conn = q, -1, length, lc, sub_meur, c_new
                headroom, source, grid_months, conn_kv = grid.point_headroom_mw[q], grid.point_source[q], g_new, kv
            elif total < runner:
                runner_kind, runner = K_NEW_LINE, total
            # Nearest first, same substation cost: the first adequate point is the cheapest
            # and the fastest of this kind.
            break
        if cls >= sp[P_CUT_MIN_CLASS]:
            v = grid.cut_vertex[cls, i]
            if v >= 0:
                ln = grid.cut_line[cls, i]
                lcl = grid.line_class[ln]
                if grid.line_headroom_mw[ln] >= p_fac:
                    kv_l = scenario.tab[T_KV, lcl]
                    sub_cut = _substation_meur(sp, kv_l, p_fac, p_fac_pow) + sp[P_CUT_BAYS] * scenario.tab[T_BAY, lcl]
                    length = grid.cut_dist_km[cls, i] * sp[P_ROUTING]
                    lc = length * scenario.tab[T_LINE_COST, lcl]
                    c_cut = (lc + sub_cut) * conn_f
                    extra = length - sp[P_TTP_FREE_KM]
                    if extra < 0.0:
                        extra = 0.0
                    g_cut = (scenario.tab[T_TTP_BASE, lcl] + sp[P_TTP_SLOPE] * extra + sp[P_CUT_EXTRA]) * grid_f
                    t_cut = g_cut if g_cut > site_months else site_months
                    total = c_cut + t_cut * (base + c_cut) * rate_m
                    if total < best:
                        runner_kind, runner = kind, best
                        kind, best = K_CUT_IN, total
                        point, vertex, line_km, line_cost, sub_cost, conn = -1, v, length, lc, sub_cut, c_cut
                        headroom, source, grid_months, conn_kv = (
                            grid.line_headroom_mw[ln],
                            grid.line_source[ln],
                            g_cut,
                            kv_l,
                        )
                    elif total < runner:
                        runner_kind, runner = K_CUT_IN, total
    ttp = np.nan
    if kind > 0:
        ttp = grid_months if grid_months > site_months else site_months
    row[O_CLASS_KV] = scenario.tab[T_KV, cls] if cls >= 0 else np.nan
    row[O_KIND] = kind
    row[O_POINT] = point
    row[O_CUT_VERTEX] = vertex
    row[O_LINE_KM] = line_km
    row[O_LINE_COST] = line_cost
    row[O_SUB_COST] = sub_cost
    row[O_CONN_COST] = conn
    row[O_CONN_KV] = conn_kv
    row[O_HEADROOM] = headroom
    row[O_HEADROOM_SRC] = source if kind > 0 else np.nan
    row[O_HEADROOM_EST] = (1.0 if source != 0 else 0.0) if kind > 0 else np.nan
    row[O_GRID_MONTHS] = grid_months
    row[O_SITE_MONTHS] = site_months
    row[O_TTP] = ttp
    row[O_CHOSEN_TOTAL] = best if kind > 0 else np.nan
    row[O_RUNNER_KIND] = runner_kind
    row[O_RUNNER_TOTAL] = runner if runner_kind > 0 else np.nan
    if kind == 0:
        mask |= X_NO_CONN
    elif ttp > sp[P_MAX_TTP]:
        mask |= X_TTP
    if scores_only and mask != 0:
        row[O_SCORE] = np.nan
        row[O_FEASIBLE] = 0.0
        return
    capex_total = base + conn
    row[O_REMED_CAPEX] = remed
    row[O_CAPEX_FAC] = capex_fac
    row[O_CAPEX_IT] = capex_it
    row[O_CAPEX_TOTAL] = capex_total
    row[O_DELAY_COST] = ttp * capex_total * rate_m
    energy = p_fac * HOURS_PER_YEAR * util
    row[O_ENERGY] = energy
    price = site[i, S_PRICE]
    row[O_PRICE] = price
    annual_site = (
        capex_fac * 1e6 * (sp[P_CRF_FAC] + sp[P_OM])
        + remed * 1e6 * sp[P_CRF_FAC]
        + conn * 1e6 * sp[P_CRF_GRID]
        + energy * price
    )
    annual_eur = annual_site + capex_it * 1e6 * sp[P_CRF_IT]
    tco = annual_eur / gpu_hours
    site_cost = annual_site / gpu_hours
    row[O_TCO] = tco
    row[O_SITE_COST] = site_cost
    emissions = energy * site[i, S_CARBON] / 1000.0
    row[O_EMISSIONS] = emissions
    row[O_EMISSIONS_PER_MW] = emissions / p_it
    water = sp[P_WUE] * p_it * HOURS_PER_YEAR * util
    row[O_WATER_M3] = water
    water_l = water * 1000.0 / gpu_hours
    row[O_WATER_L_GPUH] = water_l
    row[O_LAND_NEEDED] = needed
    row[O_LAND_FIT] = fit
    margin = 1.0
    if fit == fit:
        margin = fit if fit < 3.0 else 3.0
    row[O_LAND_MARGIN] = margin
    row[O_FUEL_T] = fuel
    row[O_SEVESO] = tier
    observed = site[i, S_OBSERVED]
    if kind > 0 and source == H_KNOWN:
        observed += 1.0
    elif kind > 0 and source == H_ESTIMATED:
        observed += sp[P_EST_CREDIT]
    reliability = observed / 6.0
    row[O_RELIABILITY] = reliability
    row[O_MASK] = mask
    row[O_FEASIBLE] = 1.0 if mask == 0 else 0.0
    values = (site_cost, emissions / p_it, ttp, margin, water_l, reliability)
    score = 0.0
    for c in range(6):
        v = _clip01((values[c] - scenario.bounds[0, c]) / (scenario.bounds[1, c] - scenario.bounds[0, c]))
        if values[c] != values[c]:
            v = np.nan
        row[O_V0 + c] = v
        if scenario.weights[c] != 0.0:
            score += scenario.weights[c] * v
    row[O_SCORE] = 100.0 * score if mask == 0 else np.nan


@njit(parallel=True, cache=True)
def evaluate_size(sp, site, grid, scenario, out):
    """Fill ``out[N_OUT, n_sites]`` with every quantity of one cluster size.

    Parameters
    ----------
    sp : float64[N_SCALARS]
        Scalar parameters (``layout.P_*``): cluster size [H100e], IT load [MW], costs [M€],
        times [month], rates [-].
    site : float64[n, N_SITE]
        Per-site inputs (``layout.S_*``), already multiplied by the draw's factors: PUE [-],
        usable own connection capacity [MW] (NaN: none), its class [kV], area [ha], delivered
        price [EUR/MWh], carbon [gCO2e/kWh], connection cost and grid months factors [-], site
        readiness months [month], exclusion bits, observed inputs [-], remediation [M€/ha].
    grid : kernel_inputs.GridInputs
        Each site's connection candidates (new-line points, cut-in vertices) and the headroom
        of every grid point and line [MW] with its source.
    scenario : kernel_inputs.ScenarioArrays
        Per voltage class table, value-function bounds and criterion weights.
    out : float64[N_OUT, n]
        Overwritten: one row per quantity (``layout.O_*``), each contiguous over the sites.
    """
    for i in prange(site.shape[0]):
        _evaluate_one(i, sp, site, grid, scenario, out[:, i], False)


MC_SCRATCH_PARTS = 64
"""Parts the sites of a Monte Carlo draw are cut into for the threads; each part evaluates its
sites one after the other in one scratch row (``work[part]``), which stays in the core's
cache. A row per site (19,009 × 48 float64, 7.3 MB) streamed through memory at every draw."""


@njit(parallel=True, cache=True)
def mc_scores(sp_sizes, site, grid, scenario, work, score_out, feasible_out):
    """Fill ``score_out`` and ``feasible_out`` [n_sizes, n_sites] for one Monte Carlo draw.

    The same per-site model as :func:`evaluate_size`, for every size at once and keeping only
    what ranking needs, so a draw is one call. ``sp_sizes`` holds one scalar vector per size;
    ``work[MC_SCRATCH_PARTS, N_OUT]`` is scratch space, one row per part of the sites.
    """
    n = site.shape[0]
    parts = work.shape[0]
    for part in prange(parts):  # sites are independent
        row = work[part]
        for i in range(part * n // parts, (part + 1) * n // parts):
            for z in range(sp_sizes.shape[0]):
                _evaluate_one(i, sp_sizes[z], site, grid, scenario, row, True)
                score_out[z, i] = row[O_SCORE]
                feasible_out[z, i] = row[O_FEASIBLE]


@njit(parallel=True, cache=True)
def rank_many(scores, feasible, site_key, out):
    """Fill ``out[z]`` with the ranks of ``scores[z]`` for every size ``z`` (sizes in parallel)."""
    for z in prange(scores.shape[0]):
        rank_scores(scores[z], feasible[z], site_key, out[z])


COUNTING_MAX_BINS = 1 << 20
"""Widest spread of rounded scores ranked by counting; wider (odd weights), by sorting. Scores
lie in [0, 100], so rounded to 0.01 they take at most 10,001 values."""


@njit(cache=True)
def rank_scores(score, feasible, site_key, out):
    """Fill ``out`` with each feasible site's rank, NaN otherwise.

    Competition ranking on scores rounded to 0.01: equal scores share a rank and the next
    rank skips ("1, 1, 3"), so a site's rank is 1 + the number of feasible sites with a higher
    rounded score (a feasible site without a score comes after every scored one). The order
    within a shared rank (``site_key``) therefore never shows in ``out``: the rounded scores
    are counted per value instead of sorted, O(n + 10,001).
    """
    n = score.shape[0]
    rounded = np.empty(n)
    lo = np.inf
    hi = -np.inf
    scored = 0
    for i in range(n):
        out[i] = np.nan
        if feasible[i] > 0.0:
            s = np.floor(score[i] * 100.0 + 0.5)
            rounded[i] = s
            if s == s:
                scored += 1
                if s < lo:
                    lo = s
                if s > hi:
                    hi = s
    if scored == 0 or (np.isfinite(lo) and np.isfinite(hi) and hi - lo < COUNTING_MAX_BINS):
        bins = int(hi - lo) + 1 if scored else 0
        above = np.zeros(bins + 1, dtype=np.int64)  # above[b]: scored sites in bins > b
        for i in range(n):
            if feasible[i] > 0.0 and rounded[i] == rounded[i]:
                above[int(rounded[i] - lo)] += 1
        acc = 0
        for b in range(bins - 1, -1, -1):
            count = above[b]
            above[b] = acc
            acc += count
        for i in range(n):
            if feasible[i] > 0.0:
                s = rounded[i]
                out[i] = (above[int(s - lo)] + 1.0) if s == s else scored + 1.0
        return
    _rank_sorted(rounded, feasible, out)


@njit(cache=True)
def _rank_sorted(rounded, feasible, out):
    """Fill ``out`` as :func:`rank_scores` does, by sorting (any spread of rounded scores)."""
    n = rounded.shape[0]
    m = 0
    for i in range(n):
        if feasible[i] > 0.0:
            m += 1
    idx = np.empty(m, dtype=np.int64)
    keys = np.empty(m, dtype=np.float64)
    j = 0
    for i in range(n):
        if feasible[i] > 0.0:
            idx[j] = i
            s = rounded[i]
            keys[j] = -s if s == s else np.inf
            j += 1
    order = np.argsort(keys)
    rank = 0.0
    for r in range(m):
        if r == 0 or keys[order[r]] != keys[order[r - 1]]:
            rank = r + 1.0
        out[idx[order[r]]] = rank


@njit(cache=True, inline="always")
def _triangular_at(x, low, high, ratio, left_prod, right_prod):
    """Return NumPy's ``random_triangular`` at the uniform ``x``: one square root, the branch
    reduced to two selects so that a loop of it vectorises (the same operations, so the same
    bits)."""
    left = x <= ratio
    root = np.sqrt(x * left_prod if left else (1.0 - x) * right_prod)
    return low + root if left else high - root


@njit(cache=True)
def triangular(u, low, mode, high, out):
    """Fill ``out`` with triangular variates on [low, high] peaking at ``mode``, by inverting
    the distribution at the uniforms ``u`` in [0, 1) (``out`` may be ``u``).

    The arithmetic is NumPy's ``random_triangular``, one uniform per variate, so
    ``triangular(rng.random(n), ...)`` equals ``rng.triangular(low, mode, high, n)`` bit for
    bit, in a quarter of its time. Needs ``low < high``.
    """
    base = high - low
    left_base = mode - low
    ratio = left_base / base
    left_prod = left_base * base
    right_prod = (high - mode) * base
    for i in range(u.shape[0]):
        out[i] = _triangular_at(u[i], low, high, ratio, left_prod, right_prod)


@njit(cache=True)
def triangular_levels(u, levels, out):
    """Fill ``out`` with the triangular factors of one Monte Carlo draw, level after level, from
    the draw's uniforms ``u``.

    ``levels[j]`` is (count, low, mode, high) of level j. A level with ``high <= low`` is
    ``mode`` throughout and takes no uniform; every other level takes the next ``count``
    uniforms of ``u``, as :func:`triangular` (NumPy's ``random_triangular``) does. ``out``
    holds Σ count values; ``u`` the uniforms of the non-constant levels, in order.
    """
    at = 0
    used = 0
    for j in range(levels.shape[0]):
        count = int(levels[j, 0])
        low, mode, high = levels[j, 1], levels[j, 2], levels[j, 3]
        base = high - low
        if base <= 0.0:
            for i in range(count):
                out[at + i] = mode
        else:
            left_base = mode - low
            ratio = left_base / base
            left_prod = left_base * base
            right_prod = (high - mode) * base
            for i in range(count):
                out[at + i] = _triangular_at(u[used + i], low, high, ratio, left_prod, right_prod)
            used += count
        at += count


@njit(cache=True)
def draw_site_inputs(base, factors, site, point_out, line_out):
    """Write one Monte Carlo draw's factors into the kernels' inputs, in one pass.

    ``base`` is a ``kernel_inputs.DrawBase`` (set up once per run), ``factors`` a
    ``kernel_inputs.DrawFactors`` (the draw's). Overwrites the draw's columns of ``site``
    (``S_PUE``, ``S_PRICE``, ``S_CARBON``, ``S_CONN_F``, ``S_GRID_F``, ``S_SITE_MONTHS``) and the
    drawn headroom of every grid point and line (``point_out``, ``line_out``: the headroom × its
    factor where not known) with the numbers ``siting.scoring.engine._site_matrix`` and
    ``_grid_arrays`` compute from the same factors. A site without a zone (index −1) takes the
    fallbacks.
    """
    for i in range(site.shape[0]):
        site[i, S_PUE] = base.pue_base[i] + factors.pue_offset[i]
        z = base.zone_index[i]
        if z >= 0:
            site[i, S_PRICE] = base.price_zone[z] * factors.price_zone[z] + base.price_adder
            site[i, S_CARBON] = base.carbon_zone[z] * factors.carbon_zone[z]
        else:
            site[i, S_PRICE] = base.price_fallback + base.price_adder
            site[i, S_CARBON] = base.carbon_fallback
        site[i, S_CONN_F] = factors.conn[i]
        site[i, S_GRID_F] = factors.grid_months[i]
        site[i, S_SITE_MONTHS] = base.site_months_base[i] * factors.site_months[i]
    for j in range(point_out.shape[0]):
        h = base.point_headroom_mw[j]
        point_out[j] = h if base.point_source[j] == H_KNOWN else h * factors.headroom_point[j]
    for j in range(line_out.shape[0]):
        h = base.line_headroom_mw[j]
        line_out[j] = h if base.line_source[j] == H_KNOWN else h * factors.headroom_line[j]
