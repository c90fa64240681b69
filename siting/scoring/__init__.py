"""The siting model: score every site for every cluster size (MODEL.md §2–§4).

Public API (no Django here):

- ``score_sites(sites, grid, zones, params, hourly_carbon=None, draws=0, impl="kernel")``
  returns a :class:`ScoringResult` with one row per (site, size).
- ``ScenarioParams`` and ``presets()`` in ``params.py``; criteria bounds in ``criteria.py``.

This module validates inputs (columns, dtypes, NaN policy), converts units, allocates the
arrays, and calls the numba kernels (``impl="kernel"``) or their NumPy twins
(``impl="reference"``). Runs are split by cluster size: sites of one size are ranked
together, and Monte Carlo draws are seeded by (seed, draw index) only, so scoring a size
alone gives the same numbers as scoring it with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from . import kernels, reference
from .candidates import nearest_by_class
from .criteria import CRITERIA, CRITERION_NAMES
from .layout import (
    EXCLUSIONS, N_OUT, N_SCALARS, O_CAPEX_FAC, O_CAPEX_IT, O_CAPEX_TOTAL, O_CLASS_KV, O_CONN_COST, O_EMISSIONS,
    O_EMISSIONS_PER_MW, O_ENERGY, O_FACILITY_MW, O_FEASIBLE, O_FUEL_T, O_HEADROOM, O_HEADROOM_EST, O_KIND, O_LAND_FIT,
    O_LAND_MARGIN, O_LAND_NEEDED, O_LINE_COST, O_LINE_KM, O_MASK, O_POINT, O_PRICE, O_PUE, O_RELIABILITY, O_SCORE,
    O_SEVESO, O_SUB_COST, O_TCO, O_TTP, O_V0, O_WATER_L_GPUH, O_WATER_M3, P_BACKUP_H, P_C_FAC, P_C_GPU_KEUR, P_CRF_FAC,
    P_CRF_GRID, P_CRF_IT, P_EUR_PER_USD, P_EXCL_SEVESO, P_FUEL_T_PER_MWH, P_LAND_HA_PER_MW, P_MAX_TTP, P_N_GPU, P_OM,
    P_OWN_REFURB, P_P_IT_MW, P_RADIUS_KM, P_ROUTING, P_SEVESO_HIGH, P_SEVESO_LOW, P_SUB_A, P_SUB_B, P_SUB_EXP,
    P_SUB_FIXED, P_TTP_FREE_KM, P_TTP_OWN, P_TTP_SLOPE, P_UTIL, P_WUE, X_FLOOD, X_POLLUTED, X_RECONVERTED,
)
from .params import ScenarioParams, presets

__all__ = ["ScenarioParams", "ScoringResult", "presets", "score_sites", "exclusion_codes", "CRITERIA", "EXCLUSIONS"]

SITE_COLUMNS = ("site_id", "longitude", "latitude", "country", "area_ha", "grid_capacity_mw", "grid_voltage_kv",
                "pollution_status", "flood_zone", "water_access", "reconverted")
GRID_COLUMNS = ("point_id", "longitude", "latitude", "voltage_kv", "headroom_mw")
ZONE_COLUMNS = ("country", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days")
KIND_NAMES = {0: "none", 1: "own", 2: "new_line"}


@dataclass
class ScoringResult:
    """What scoring returns: the full table, each site's ladder, and the parameters used."""

    table: pd.DataFrame
    ladder: pd.DataFrame
    params: ScenarioParams


def exclusion_codes(mask: int) -> list[str]:
    """Return the stable exclusion codes in a bitmask."""
    return [code for bit, code in EXCLUSIONS.items() if int(mask) & bit]


def _reason_text(masks: np.ndarray) -> np.ndarray:
    """Return the ``;``-joined exclusion codes of each mask (one join per distinct mask)."""
    uniques, inverse = np.unique(masks, return_inverse=True)
    return np.array([";".join(exclusion_codes(m)) for m in uniques], dtype=object)[inverse]


def _crf(rate: float, years: float) -> float:
    """Capital recovery factor: the annuity that repays 1 over ``years`` at ``rate``. [1/yr]"""
    return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)


def _check_frame(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def _num(series: pd.Series, name: str, *, allow_nan: bool = True) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    if not allow_nan and not np.isfinite(values).all():
        raise ValueError(f"{name}: every value must be a finite number")
    return np.ascontiguousarray(values)


@dataclass
class _Prepared:
    site_id: np.ndarray
    site_key: np.ndarray
    zone_index: np.ndarray  # per site, index into the zone arrays (or −1)
    zone_codes: list[str]
    cdd: np.ndarray
    price_zone: np.ndarray  # per zone, EUR/MWh before adder
    carbon_zone: np.ndarray  # per zone, effective g/kWh
    hourly_zone: np.ndarray  # per zone, bool
    estimated_zone: np.ndarray  # per zone, bool: any fallback used
    own_cap: np.ndarray
    area: np.ndarray
    site_mask: np.ndarray
    observed_base: np.ndarray
    cand_point: np.ndarray
    cand_dist: np.ndarray
    point_id: np.ndarray
    headroom_known: np.ndarray
    headroom_default: np.ndarray


def _prepare(sites, grid, zones, params: ScenarioParams, hourly_carbon) -> _Prepared:
    _check_frame(sites, SITE_COLUMNS, "sites")
    _check_frame(grid, GRID_COLUMNS, "grid")
    _check_frame(zones, ZONE_COLUMNS, "zones")
    sites = sites.sort_values("site_id", kind="stable").reset_index(drop=True)
    site_id = sites["site_id"].to_numpy(dtype=np.int64)
    if len(np.unique(site_id)) != len(site_id):
        raise ValueError("sites: site_id must be unique")
    lon = _num(sites["longitude"], "sites.longitude", allow_nan=False)
    lat = _num(sites["latitude"], "sites.latitude", allow_nan=False)
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise ValueError("sites: longitude/latitude out of range (WGS84 degrees expected)")
    area = _num(sites["area_ha"], "sites.area_ha")
    area = np.where(area > 0, area, np.nan)
    own_cap = _num(sites["grid_capacity_mw"], "sites.grid_capacity_mw")
    own_cap = np.where(own_cap > 0, own_cap, np.nan)
    flood = _num(sites["flood_zone"], "sites.flood_zone")
    pollution = sites["pollution_status"].fillna("unknown").astype(str).to_numpy()
    water = sites["water_access"].fillna("unknown").astype(str).to_numpy()
    reconverted = sites["reconverted"].fillna(False).astype(bool).to_numpy()
    mask = np.zeros(len(sites), dtype=np.int64)
    if params.exclude_polluted_unremediated:
        mask |= np.where(pollution == "confirmed", X_POLLUTED, 0)
    if params.exclude_flood_zone:
        mask |= np.where(flood == 1.0, X_FLOOD, 0)
    if params.exclude_reconverted:
        mask |= np.where(reconverted, X_RECONVERTED, 0)
    observed = (np.isfinite(area).astype(float) + (pollution != "unknown") + np.isfinite(flood) + (water != "unknown"))

    zones = zones.drop_duplicates("country").reset_index(drop=True)
    codes = zones["country"].astype(str).tolist()
    carbon = _num(zones["carbon_intensity_g_per_kwh"], "zones.carbon")
    price = _num(zones["price_eur_per_mwh"], "zones.price")
    cdd_zone = _num(zones["cooling_degree_days"], "zones.cdd")
    estimated_zone = ~(np.isfinite(carbon) & np.isfinite(price) & np.isfinite(cdd_zone))
    carbon = np.where(np.isfinite(carbon), carbon, params.fallback_carbon_g_per_kwh)
    price = np.where(np.isfinite(price), price, params.fallback_price_eur_per_mwh)
    cdd_zone = np.where(np.isfinite(cdd_zone), cdd_zone, params.fallback_cdd)
    hourly = np.zeros(len(codes), dtype=bool)
    for j, code in enumerate(codes):
        series = (hourly_carbon or {}).get(code)
        if series is not None:
            series = np.asarray(series, dtype=np.float64)
            if series.shape != (8760,) or not np.isfinite(series).all():
                raise ValueError(f"hourly_carbon[{code}]: 8,760 finite values expected")
            # A flat load: Σ_h P × u × CI_h = E × mean(CI_h).
            carbon[j] = float(series.mean())
            hourly[j] = True
    index = {code: j for j, code in enumerate(codes)}
    zone_index = np.array([index.get(str(c), -1) for c in sites["country"]], dtype=np.int64)
    cdd = np.where(zone_index >= 0, cdd_zone[np.maximum(zone_index, 0)], params.fallback_cdd)

    grid = grid.sort_values("point_id", kind="stable").reset_index(drop=True)
    point_kv = _num(grid["voltage_kv"], "grid.voltage_kv")
    keep = np.isfinite(point_kv) & (point_kv > 0)
    grid, point_kv = grid[keep].reset_index(drop=True), point_kv[keep]
    class_kv = np.asarray(params.voltage_classes_kv)
    # A point's own class: the highest class its voltage reaches (45 kV counts as 20 kV).
    point_class = np.clip(np.searchsorted(class_kv, point_kv, side="right") - 1, 0, len(class_kv) - 1)
    headroom_known = _num(grid["headroom_mw"], "grid.headroom_mw")
    headroom_default = np.asarray(params.headroom_default_mw)[point_class]
    cand_point, cand_dist = nearest_by_class(
        lon, lat, _num(grid["longitude"], "grid.longitude", allow_nan=False), _num(grid["latitude"], "grid.latitude", allow_nan=False),
        point_kv, class_kv, params.k_nearest,
    )
    return _Prepared(
        site_id=site_id, site_key=site_id.astype(np.float64), zone_index=zone_index, zone_codes=codes, cdd=cdd,
        price_zone=price, carbon_zone=carbon, hourly_zone=hourly, estimated_zone=estimated_zone, own_cap=own_cap,
        area=area, site_mask=mask, observed_base=np.ascontiguousarray(observed, dtype=np.float64),
        cand_point=cand_point, cand_dist=cand_dist, point_id=grid["point_id"].to_numpy(dtype=np.int64),
        headroom_known=headroom_known, headroom_default=headroom_default,
    )


def _pack_scalars(params: ScenarioParams, size: int) -> np.ndarray:
    sp = np.zeros(N_SCALARS)
    sp[P_N_GPU] = size
    sp[P_P_IT_MW] = size * params.k_gpu_kw / 1000.0
    sp[P_ROUTING] = params.routing_factor
    sp[P_RADIUS_KM] = params.search_radius_km
    sp[P_SUB_A] = params.substation_usd_per_kv_plus_mw
    sp[P_SUB_B] = params.substation_usd_per_mw_pow
    sp[P_SUB_EXP] = params.substation_mw_exponent
    sp[P_SUB_FIXED] = params.substation_usd_fixed
    sp[P_EUR_PER_USD] = params.eur_per_usd
    sp[P_OWN_REFURB] = params.own_connection_refurb_meur
    sp[P_TTP_OWN] = params.ttp_base_own_months
    sp[P_TTP_FREE_KM] = params.ttp_free_km
    sp[P_TTP_SLOPE] = params.ttp_months_per_km
    sp[P_C_FAC] = params.facility_capex_meur_per_mw_it
    sp[P_C_GPU_KEUR] = params.gpu_capex_keur_per_h100e
    sp[P_UTIL] = params.utilisation
    sp[P_CRF_FAC] = _crf(params.discount_rate, params.life_facility_yr)
    sp[P_CRF_IT] = _crf(params.discount_rate, params.life_it_yr)
    sp[P_CRF_GRID] = _crf(params.discount_rate, params.life_grid_yr)
    sp[P_OM] = params.om_share_of_facility_capex
    sp[P_WUE] = params.wue_l_per_kwh
    sp[P_LAND_HA_PER_MW] = params.land_ha_per_mw
    sp[P_BACKUP_H] = params.backup_hours
    sp[P_FUEL_T_PER_MWH] = params.fuel_t_per_mwh
    sp[P_SEVESO_LOW] = params.seveso_lower_t
    sp[P_SEVESO_HIGH] = params.seveso_upper_t
    sp[P_MAX_TTP] = np.inf if params.max_time_to_power_months is None else params.max_time_to_power_months
    sp[P_EXCL_SEVESO] = 1.0 if params.exclude_seveso_upper else 0.0
    return sp


def _weights(params: ScenarioParams) -> np.ndarray:
    w = np.array([params.weights[c] for c in CRITERION_NAMES], dtype=np.float64)
    total = w.sum()
    return w / total if total > 0 else w


def _bounds() -> tuple[np.ndarray, np.ndarray]:
    worst = np.array([CRITERIA[c].worst for c in CRITERION_NAMES], dtype=np.float64)
    best = np.array([CRITERIA[c].best for c in CRITERION_NAMES], dtype=np.float64)
    return worst, best


@dataclass
class _Draw:
    """Uncertain inputs of one evaluation (all ones / zero offsets when deterministic)."""

    capex: np.ndarray
    ttp: np.ndarray
    pue_offset: np.ndarray
    price_zone: np.ndarray
    carbon_zone: np.ndarray
    headroom_point: np.ndarray
    weights: np.ndarray


def _triangular(rng: np.random.Generator, low: float, mode: float, high: float, size: int) -> np.ndarray:
    if high - low <= 0:
        return np.full(size, mode)
    return rng.triangular(low, mode, high, size)


def _draw(params: ScenarioParams, prep: _Prepared, index: int | None) -> _Draw:
    n, z, m = len(prep.site_id), len(prep.zone_codes), len(prep.point_id)
    w = _weights(params)
    if index is None:
        return _Draw(np.ones(n), np.ones(n), np.zeros(n), np.ones(z), np.ones(z), np.ones(m), w)
    rng = np.random.default_rng([params.mc_seed, index])
    s = params
    capex = _triangular(rng, 1 - s.mc_capex_spread, 1.0, 1 + s.mc_capex_spread, n)
    ttp = _triangular(rng, 1 - s.mc_ttp_low, 1.0, 1 + s.mc_ttp_high, n)
    pue_offset = _triangular(rng, -s.mc_pue_offset, 0.0, s.mc_pue_offset, n)
    price = _triangular(rng, 1 - s.mc_price_spread, 1.0, 1 + s.mc_price_spread, z)
    carbon = _triangular(rng, 1 - s.mc_carbon_spread, 1.0, 1 + s.mc_carbon_spread, z)
    headroom = _triangular(rng, s.mc_headroom_low, 1.0, s.mc_headroom_high, m)
    positive = w > 0
    if positive.any() and np.isfinite(s.mc_dirichlet_concentration) and s.mc_dirichlet_concentration < 1e12:
        drawn = np.zeros_like(w)
        drawn[positive] = rng.dirichlet(s.mc_dirichlet_concentration * w[positive])
        w = drawn
    return _Draw(capex, ttp, pue_offset, price, carbon, headroom, w)


def _site_inputs(params: ScenarioParams, prep: _Prepared, draw: _Draw):
    zi = np.maximum(prep.zone_index, 0)
    has_zone = prep.zone_index >= 0
    price = np.where(has_zone, prep.price_zone[zi] * draw.price_zone[zi], params.fallback_price_eur_per_mwh)
    price = price + params.price_adder_eur_per_mwh
    carbon = np.where(has_zone, prep.carbon_zone[zi] * draw.carbon_zone[zi], params.fallback_carbon_g_per_kwh)
    pue = params.pue_design + params.pue_beta_per_1000_cdd * prep.cdd / 1000.0 + draw.pue_offset
    estimated = ~np.isfinite(prep.headroom_known)
    headroom = np.where(estimated, prep.headroom_default * draw.headroom_point, prep.headroom_known)
    return (np.ascontiguousarray(pue), np.ascontiguousarray(price), np.ascontiguousarray(carbon),
            np.ascontiguousarray(headroom), estimated.astype(np.float64))


def _evaluate(params, prep, size, draw, impl, buffers=None):
    pue, price, carbon, headroom, estimated = _site_inputs(params, prep, draw)
    worst, best = _bounds()
    args = (
        _pack_scalars(params, size), np.asarray(params.voltage_classes_kv), np.asarray(params.circuit_rating_mw),
        np.asarray(params.line_cost_meur_per_km), np.asarray(params.bay_cost_meur), np.asarray(params.ttp_base_months),
        pue, prep.own_cap, prep.area, price, carbon, np.ascontiguousarray(draw.capex), np.ascontiguousarray(draw.ttp),
        prep.site_mask, prep.observed_base, prep.cand_point, prep.cand_dist, headroom, estimated, worst, best,
        np.ascontiguousarray(draw.weights),
    )
    if impl == "kernel":
        # Monte Carlo reuses its buffers: a fresh 7 MB array per draw costs more in page
        # faults than the kernel takes to fill it.
        out, ranks = buffers if buffers is not None else (np.empty((len(pue), N_OUT)), np.empty(len(pue)))
        kernels.evaluate_size(*args, out)
        kernels.rank_scores(np.ascontiguousarray(out[:, O_SCORE]), np.ascontiguousarray(out[:, O_FEASIBLE]), prep.site_key, ranks)
    else:
        out = reference.evaluate_size(*args)
        ranks = reference.rank_scores(out[:, O_SCORE], out[:, O_FEASIBLE], prep.site_key)
    return out, ranks


def _mc_draw_kernel(params, prep, sizes, draw, work, scores, feasible, ranks_out) -> None:
    """One Monte Carlo draw for every size with the fused kernels (one call each)."""
    pue, price, carbon, headroom, estimated = _site_inputs(params, prep, draw)
    worst, best = _bounds()
    sp_sizes = np.stack([_pack_scalars(params, size) for size in sizes])
    kernels.mc_scores(
        sp_sizes, np.asarray(params.voltage_classes_kv), np.asarray(params.circuit_rating_mw),
        np.asarray(params.line_cost_meur_per_km), np.asarray(params.bay_cost_meur), np.asarray(params.ttp_base_months),
        pue, prep.own_cap, prep.area, price, carbon, np.ascontiguousarray(draw.capex), np.ascontiguousarray(draw.ttp),
        prep.site_mask, prep.observed_base, prep.cand_point, prep.cand_dist, headroom, estimated, worst, best,
        np.ascontiguousarray(draw.weights), work, scores, feasible,
    )
    kernels.rank_many(scores, feasible, prep.site_key, ranks_out)


def _monte_carlo(params, prep, sizes, draws, impl, progress) -> dict[int, dict[str, np.ndarray]]:
    n = len(prep.site_id)
    ranks = {size: np.empty((draws, n), dtype=np.float32) for size in sizes}  # every row is written
    scores, feasible, ranks_out = np.empty((len(sizes), n)), np.empty((len(sizes), n)), np.empty((len(sizes), n))
    work = np.empty((n, N_OUT))
    for d in range(draws):
        draw = _draw(params, prep, d)
        if impl == "kernel":
            _mc_draw_kernel(params, prep, sizes, draw, work, scores, feasible, ranks_out)
            for z, size in enumerate(sizes):
                ranks[size][d] = ranks_out[z]
        else:
            for size in sizes:
                _, r = _evaluate(params, prep, size, draw, impl)
                ranks[size][d] = r
        if progress is not None and (d % 20 == 19 or d == draws - 1):
            progress((d + 1) / draws)
    stats = {}
    for size, r in ranks.items():
        if impl == "kernel":
            out = np.empty((n, 5))
            kernels.rank_stats(r, out)
        else:
            out = reference.rank_stats(r.astype(np.float64))
        stats[size] = {
            "mc_p_feasible": out[:, 0], "mc_rank_p05": out[:, 1], "mc_rank_median": out[:, 2],
            "mc_rank_p95": out[:, 3], "mc_p_top10": out[:, 4],
        }
    return stats


def score_sites(
    sites: pd.DataFrame,
    grid: pd.DataFrame,
    zones: pd.DataFrame,
    params: ScenarioParams,
    *,
    hourly_carbon: dict[str, np.ndarray] | None = None,
    draws: int = 0,
    impl: str = "kernel",
    progress: Callable[[float], None] | None = None,
) -> ScoringResult:
    """Score every site for every size of ``params.sizes``.

    Parameters
    ----------
    sites : DataFrame
        ``site_id`` (unique int), ``longitude``/``latitude`` [WGS84 degrees], ``country`` (ISO2),
        ``area_ha`` [ha], ``grid_capacity_mw`` [MW], ``grid_voltage_kv`` [kV] (NaN unknown),
        ``pollution_status``, ``flood_zone`` (1/0/NaN), ``water_access``, ``reconverted``.
    grid : DataFrame
        ``point_id``, ``longitude``, ``latitude``, ``voltage_kv`` [kV], ``headroom_mw`` [MW] (NaN unknown).
    zones : DataFrame
        ``country``, ``carbon_intensity_g_per_kwh``, ``price_eur_per_mwh``, ``cooling_degree_days``.
    hourly_carbon : dict, optional
        ISO2 → float64[8,760] [gCO2e/kWh]; where given, emissions use the hourly series.
    draws : int
        Monte Carlo draws (0: none).
    impl : {"kernel", "reference"}
        numba kernels or their NumPy twins.
    progress : callable, optional
        Called with the finished share of the Monte Carlo, in [0, 1].
    """
    if impl not in ("kernel", "reference"):
        raise ValueError("impl: 'kernel' or 'reference'")
    if draws < 0:
        raise ValueError("draws: 0 or more")
    prep = _prepare(sites, grid, zones, params, hourly_carbon)
    det = _draw(params, prep, None)
    frames = []
    mc = _monte_carlo(params, prep, params.sizes, draws, impl, progress) if draws else {}
    zi = np.maximum(prep.zone_index, 0)
    has_zone = prep.zone_index >= 0
    basis = np.where(has_zone & prep.hourly_zone[zi], "hourly", "annual")
    zone_estimated = ~has_zone | prep.estimated_zone[zi]
    for size in params.sizes:
        out, ranks = _evaluate(params, prep, size, det, impl)
        masks = out[:, O_MASK].astype(np.int64)
        point = out[:, O_POINT].astype(np.int64)
        frame = pd.DataFrame({
            "site_id": prep.site_id,
            "size_h100e": np.full(len(prep.site_id), size, dtype=np.int64),
            "it_load_mw": np.full(len(prep.site_id), size * params.k_gpu_kw / 1000.0),
            "pue": out[:, O_PUE],
            "facility_load_mw": out[:, O_FACILITY_MW],
            "voltage_class_kv": out[:, O_CLASS_KV],
            "connection_kind": pd.Series(out[:, O_KIND].astype(int)).map(KIND_NAMES).to_numpy(),
            "connection_point_id": np.where(point >= 0, prep.point_id[np.maximum(point, 0)], -1),
            "connection_distance_km": out[:, O_LINE_KM],
            "line_cost_meur": out[:, O_LINE_COST],
            "substation_cost_meur": out[:, O_SUB_COST],
            "connection_cost_meur": out[:, O_CONN_COST],
            "headroom_mw": out[:, O_HEADROOM],
            "headroom_estimated": out[:, O_HEADROOM_EST] == 1.0,
            "time_to_power_months": out[:, O_TTP],
            "capex_facility_meur": out[:, O_CAPEX_FAC],
            "capex_it_meur": out[:, O_CAPEX_IT],
            "capex_total_meur": out[:, O_CAPEX_TOTAL],
            "energy_mwh_per_yr": out[:, O_ENERGY],
            "price_eur_per_mwh": out[:, O_PRICE],
            "tco_eur_per_gpu_hour": out[:, O_TCO],
            "emissions_t_per_yr": out[:, O_EMISSIONS],
            "emissions_basis": basis,
            "emissions_t_per_yr_per_mw_it": out[:, O_EMISSIONS_PER_MW],
            "water_m3_per_yr": out[:, O_WATER_M3],
            "water_l_per_gpu_hour": out[:, O_WATER_L_GPUH],
            "land_needed_ha": out[:, O_LAND_NEEDED],
            "land_fit": out[:, O_LAND_FIT],
            "land_margin": out[:, O_LAND_MARGIN],
            "backup_fuel_t": out[:, O_FUEL_T],
            "seveso_tier": out[:, O_SEVESO].astype(np.int64),
            "exclusion_mask": masks,
            "exclusion_reasons": _reason_text(masks),
            "feasible": out[:, O_FEASIBLE] == 1.0,
            "reliability": out[:, O_RELIABILITY],
            "zone_data_estimated": zone_estimated,
            "score": out[:, O_SCORE],
            "rank": ranks,
        })
        for j, name in enumerate(CRITERION_NAMES):
            frame[f"v_{name}"] = out[:, O_V0 + j]
        for key, values in mc.get(size, {}).items():
            frame[key] = values
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    return ScoringResult(table=table, ladder=site_ladder(table), params=params)


def site_ladder(table: pd.DataFrame) -> pd.DataFrame:
    """Return, per site, the largest feasible size with its cost per GPU-hour, capex and time."""
    feasible = table[table["feasible"]]
    best = feasible.sort_values(["site_id", "size_h100e"]).groupby("site_id").tail(1)
    ladder = pd.DataFrame({"site_id": np.unique(table["site_id"].to_numpy())})
    ladder = ladder.merge(
        best[["site_id", "size_h100e", "tco_eur_per_gpu_hour", "capex_total_meur", "time_to_power_months"]].rename(
            columns={"size_h100e": "largest_size_h100e"}), on="site_id", how="left")
    return ladder


def reweight(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Return ``site_id, size_h100e, score, rank`` recomputed from the stored normalised
    criteria with new weights (no job needed: a weighted sum)."""
    w = np.array([float(weights.get(c, 0.0)) for c in CRITERION_NAMES])
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and non-negative")
    w = w / w.sum() if w.sum() > 0 else w
    v = table[[f"v_{c}" for c in CRITERION_NAMES]].to_numpy(dtype=np.float64)
    feasible = table["feasible"].to_numpy(dtype=bool)
    score = np.where(feasible, 100.0 * np.where(w != 0, np.nan_to_num(v) * w, 0.0).sum(axis=1), np.nan)
    out = pd.DataFrame({"site_id": table["site_id"].to_numpy(), "size_h100e": table["size_h100e"].to_numpy(), "score": score})
    out["rank"] = np.nan
    for size, idx in out.groupby("size_h100e").groups.items():
        sub = out.loc[idx]
        out.loc[idx, "rank"] = reference.rank_scores(sub["score"].to_numpy(), feasible[idx].astype(float), sub["site_id"].to_numpy(dtype=float))
    return out
