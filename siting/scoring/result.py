"""What scoring returns: ``score_sites`` and its result table, each site's ladder, re-weighting.

The table holds one row per (site, size): every quantity the kernels write, the labels of the
codes they write, and the Monte Carlo statistics when drawn. ``weighted_scores`` is the one
re-weighting rule, used by the table's ``reweight`` and by the dashboard and API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from . import reference, sketch
from .criteria import CRITERION_NAMES
from .engine import _draw, _evaluate, _site_matrix
from .layout import (
    EXCLUSIONS,
    HEADROOM_SOURCES,
    KIND_NAMES,
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
)
from .montecarlo import _monte_carlo
from .params import ScenarioParams
from .prepare import ScoringInputs, _prepare, _Prepared


@dataclass
class ScoringResult:
    """What scoring returns: the full table, each site's ladder, and the parameters used.

    From ``COMPACT_TABLE_ROWS`` rows (sites × sizes) on, the table is compact: the display
    columns float32 and the repeated texts categorical (same values, to float32 precision).
    """

    table: pd.DataFrame
    ladder: pd.DataFrame
    params: ScenarioParams


def exclusion_codes(mask: int) -> list[str]:
    """Return the stable exclusion codes in a bitmask."""
    return [code for bit, code in EXCLUSIONS.items() if int(mask) & bit]


def _reason_text(masks: np.ndarray, present: np.ndarray, categorical: bool = False) -> np.ndarray | ExtensionArray:
    """Return the ``;``-joined exclusion codes of each mask (non-negative; ``present``: the distinct
    masks, sorted; one join per distinct mask, looked up by value), as a categorical over the
    distinct texts if ``categorical``."""
    if masks.size == 0:
        return np.empty(0, dtype=object)
    labels = np.array([";".join(exclusion_codes(int(m))) for m in present], dtype=object)
    lookup = np.zeros(int(present[-1]) + 1, dtype=np.int8 if len(present) <= np.iinfo(np.int8).max else np.int32)
    lookup[present] = np.arange(len(present))
    return _labels(lookup[masks], labels, categorical)


def score_inputs(
    inputs: ScoringInputs,
    params: ScenarioParams,
    *,
    draws: int = 0,
    impl: str = "kernel",
    progress: Callable[[float], None] | None = None,
) -> ScoringResult:
    """Score a :class:`ScoringInputs` (keyword arguments as :func:`score_sites`); its
    ``content_key``, when set, finds the prepared inputs without hashing the frames."""
    if impl not in ("kernel", "reference"):
        raise ValueError("impl: 'kernel' or 'reference'")
    if draws < 0:
        raise ValueError("draws: 0 or more")
    prep = _prepare(inputs, params)
    sketches = _monte_carlo(params, prep, params.sizes, (0, draws), impl, progress) if draws else {}
    mc = {size: sketch.rank_stats(s) for size, s in sketches.items()}
    table, ladder = _table(params, prep, impl, mc)
    return ScoringResult(table=table, ladder=ladder, params=params)


def _shared(ranks: np.ndarray) -> np.ndarray:
    """Return True where a feasible site shares its rank with another (ranks: whole numbers from
    1, NaN where excluded; counted by value)."""
    finite = np.isfinite(ranks)
    shared = np.zeros(len(ranks), dtype=bool)
    whole = ranks[finite].astype(np.int64)
    shared[finite] = np.bincount(whole)[whole] > 1
    return shared


def score_sites(
    sites: pd.DataFrame,
    grid: pd.DataFrame,
    zones: pd.DataFrame,
    params: ScenarioParams,
    *,
    hourly_carbon: dict[str, np.ndarray] | None = None,
    lines: pd.DataFrame | None = None,
    outlines: dict[str, object] | None = None,
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
        ``pollution_status``, ``flood_zone`` (1/0/NaN), ``water_access``, ``reconverted``; optional
        (v2, defaults in ``SITE_OPTIONAL``): ``closure_year``, ``former_use``, ``still_operating``,
        ``zoning_type``, ``buildings_state``, ``has_project``.
    grid : DataFrame
        ``point_id``, ``longitude``, ``latitude``, ``voltage_kv`` [kV], ``headroom_mw`` [MW] (NaN
        unknown); optional ``country`` (ISO2; without it, no same-country check) and
        ``headroom_estimate_mw`` [MW] (a network estimate, used where the headroom is unknown).
    zones : DataFrame
        ``country``, ``carbon_intensity_g_per_kwh``, ``price_eur_per_mwh``, ``cooling_degree_days``.
    hourly_carbon : dict, optional
        ISO2 → float64[8,760] [gCO2e/kWh]: a shape, rescaled to the zone's annual intensity.
    lines : DataFrame, optional
        Line vertices ``line_id, seq, longitude, latitude, voltage_kv, rating_mw`` (+ ``country``).
        None: no cut-in option.
    outlines : dict, optional
        ISO2 → shapely geometry or WKB bytes of the country outline. None: no over-land check.
    draws : int
        Monte Carlo draws (0: none).
    impl : {"kernel", "reference"}
        numba kernels or their NumPy twins.
    progress : callable, optional
        Called with the finished share of the Monte Carlo, in [0, 1].
    """
    return score_inputs(
        ScoringInputs(sites, grid, zones, hourly_carbon or {}, lines, outlines),
        params,
        draws=draws,
        impl=impl,
        progress=progress,
    )


OUT_COLUMNS = {
    "pue": O_PUE,
    "facility_load_mw": O_FACILITY_MW,
    "voltage_class_kv": O_CLASS_KV,
    "connection_voltage_kv": O_CONN_KV,
    "connection_distance_km": O_LINE_KM,
    "line_cost_meur": O_LINE_COST,
    "substation_cost_meur": O_SUB_COST,
    "connection_cost_meur": O_CONN_COST,
    "delay_cost_meur": O_DELAY_COST,
    "connection_total_meur": O_CHOSEN_TOTAL,
    "runner_up_total_meur": O_RUNNER_TOTAL,
    "headroom_mw": O_HEADROOM,
    "grid_months": O_GRID_MONTHS,
    "site_months": O_SITE_MONTHS,
    "time_to_power_months": O_TTP,
    "remediation_capex_meur": O_REMED_CAPEX,
    "capex_facility_meur": O_CAPEX_FAC,
    "capex_it_meur": O_CAPEX_IT,
    "capex_total_meur": O_CAPEX_TOTAL,
    "energy_mwh_per_yr": O_ENERGY,
    "price_eur_per_mwh": O_PRICE,
    "site_cost_eur_per_gpu_hour": O_SITE_COST,
    "tco_eur_per_gpu_hour": O_TCO,
    "emissions_t_per_yr": O_EMISSIONS,
    "emissions_t_per_yr_per_mw_it": O_EMISSIONS_PER_MW,
    "water_m3_per_yr": O_WATER_M3,
    "water_l_per_gpu_hour": O_WATER_L_GPUH,
    "land_needed_ha": O_LAND_NEEDED,
    "land_fit": O_LAND_FIT,
    "land_margin": O_LAND_MARGIN,
    "backup_fuel_t": O_FUEL_T,
    "reliability": O_RELIABILITY,
    "score": O_SCORE,
    **{f"v_{name}": O_V0 + j for j, name in enumerate(CRITERION_NAMES)},
}
"""Table columns copied as they are from the kernels' output (float64)."""
TABLE_COLUMNS = (
    "site_id",
    "size_h100e",
    "it_load_mw",
    "pue",
    "facility_load_mw",
    "voltage_class_kv",
    "connection_kind",
    "connection_voltage_kv",
    "connection_point_id",
    "connection_line_id",
    "connection_longitude",
    "connection_latitude",
    "connection_distance_km",
    "line_cost_meur",
    "substation_cost_meur",
    "connection_cost_meur",
    "delay_cost_meur",
    "connection_total_meur",
    "runner_up_kind",
    "runner_up_total_meur",
    "own_connection_status",
    "own_connection_capacity_mw",
    "own_connection_estimated",
    "headroom_mw",
    "headroom_estimated",
    "headroom_source",
    "grid_months",
    "site_months",
    "permit_months",
    "rezoning_months",
    "remediation_months",
    "demolition_months",
    "readiness_estimated",
    "time_to_power_months",
    "remediation_capex_meur",
    "capex_facility_meur",
    "capex_it_meur",
    "capex_total_meur",
    "energy_mwh_per_yr",
    "price_eur_per_mwh",
    "site_cost_eur_per_gpu_hour",
    "tco_eur_per_gpu_hour",
    "emissions_t_per_yr",
    "emissions_basis",
    "emissions_t_per_yr_per_mw_it",
    "water_m3_per_yr",
    "water_l_per_gpu_hour",
    "land_needed_ha",
    "land_fit",
    "land_margin",
    "backup_fuel_t",
    "seveso_tier",
    "exclusion_mask",
    "exclusion_reasons",
    "feasible",
    "may_be_unavailable",
    "reliability",
    "zone_data_estimated",
    "score",
    "rank",
    "rank_shared",
    *(f"v_{name}" for name in CRITERION_NAMES),
)
"""Columns of the result table, in order (then the Monte Carlo statistics, when drawn)."""
KIND_LABELS = np.array([KIND_NAMES[k] for k in sorted(KIND_NAMES)], dtype=object)
OWN_STATUS = np.array(["none", "usable", "lapsed", "still_operating", "too_small"], dtype=object)
"""Labels of the own connection status codes: ``_Prepared.own_status`` (0–3), and 4 where the usable
connection is smaller than the facility load at that size."""
SOURCE_LABELS = np.array([HEADROOM_SOURCES[k] for k in sorted(HEADROOM_SOURCES)] + [""], dtype=object)
BASIS_LABELS = np.array(["annual", "hourly"], dtype=object)
COMPACT_TABLE_ROWS = 2_000_000
"""Rows (sites × sizes) from which the result table is compact (an assumption, sized on memory:
the shipped data gives 133,000 rows, a million synthetic sites 7,000,000): the kernels' display
columns in float32 (7 significant digits) and the repeated texts categorical. Below it, every
float is float64 and every text a string column."""
EXACT_COLUMNS = frozenset(
    {
        "score",
        "tco_eur_per_gpu_hour",
        "capex_total_meur",
        "time_to_power_months",
        *(f"v_{name}" for name in CRITERION_NAMES),
    }
)
"""Kernel columns kept in float64 in a compact table: the score and the criteria that reweighting
recomputes it from, and the ladder's figures."""


def _labels(codes: np.ndarray, labels: np.ndarray, compact: bool) -> ExtensionArray:
    """Return ``labels[codes]``: a categorical over ``labels`` in a compact table, else a string
    array taken from the labels (pandas would otherwise check every row of an object array)."""
    if compact:
        return pd.Categorical.from_codes(codes, categories=labels)
    return pd.array(labels, dtype="str").take(codes.astype(np.intp, copy=False))


def _after_none(values: np.ndarray, none: int) -> np.ndarray:
    """Return ``values`` after one ``none`` (its dtype; int64 when there are no values)."""
    if not len(values):
        return np.full(1, none, dtype=np.int64)
    return np.concatenate([np.full(1, none, dtype=values.dtype), values])


def _table(params: ScenarioParams, prep: _Prepared, impl: str, mc: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the result table (all sites of the first size, then the next size...) and the ladder.

    Every column is allocated once at its full length and filled size by size from one reused
    kernel output, then handed to pandas without a copy: no per-size frames to concatenate. Only
    the columns themselves are as long as the table: every temporary holds one size, so that it
    is reused (a block of n_sites × n_sizes would be fresh memory each time, paid page by page).
    """
    det = _draw(params, prep, None)
    sizes = np.asarray(params.sizes, dtype=np.int64)
    n, n_sizes = len(prep.site_id), len(sizes)
    total = n * n_sizes
    compact = total >= COMPACT_TABLE_ROWS
    real = np.float32 if compact else np.float64
    col: dict[str, np.ndarray] = {
        name: np.empty(total, dtype=real if name not in EXACT_COLUMNS else np.float64) for name in OUT_COLUMNS
    }
    # Compact: ranks (whole numbers below 2**24) in float32 and small codes in small integers, exactly.
    col["rank"] = np.empty(total, dtype=real)
    col["exclusion_mask"] = np.empty(total, dtype=np.int32 if compact else np.int64)
    col["seveso_tier"] = np.empty(total, dtype=np.int8 if compact else np.int64)
    col["size_h100e"] = np.empty(total, dtype=np.int32 if compact else np.int64)
    col["it_load_mw"] = np.empty(total, dtype=real)
    for flag in ("feasible", "headroom_estimated", "rank_shared"):
        col[flag] = np.empty(total, dtype=bool)
    # Small codes in small integers: at a million sites each int64 column is 56 MB.
    codes = {name: np.empty(total, dtype=np.int8) for name in ("kind", "runner", "source", "own", "basis")}
    it_load_mw = np.array([size * params.k_gpu_kw / 1000.0 for size in params.sizes], dtype=real)

    lines = prep.lines
    zi = np.maximum(prep.zone_index, 0)
    has_zone = prep.zone_index >= 0

    def site_values(values: np.ndarray) -> np.ndarray:
        return values.astype(real, copy=False) if values.dtype == np.float64 else values

    # The same values at every size, written into each size's rows.
    per_site = {
        "site_id": prep.site_id,
        "own_connection_capacity_mw": site_values(prep.own_cap),
        "own_connection_estimated": prep.own_estimated,
        "permit_months": site_values(prep.permit_m),
        "rezoning_months": site_values(prep.rezoning_m),
        "remediation_months": site_values(prep.remediation_m),
        "demolition_months": site_values(prep.demolition_m),
        "readiness_estimated": prep.readiness_estimated,
        "may_be_unavailable": prep.may_be_unavailable,
        "zone_data_estimated": site_values(~has_zone | prep.estimated_zone[zi]),
    }
    for name, values in per_site.items():
        col[name] = np.empty(total, dtype=values.dtype)
    basis = (has_zone & prep.hourly_zone[zi]).astype(np.int8)
    # Looked up by index + 1 (0: none) for the point ids and line ids, and by one index into
    # [none, vertices, points] for the coordinates: the grid point if any, else the cut-in vertex.
    point_ids = _after_none(prep.point_id, -1)
    vertex_line_ids = _after_none(lines.line_id[lines.vertex_line], -1)
    n_vertices = len(lines.vertex_lon)
    coordinates = {
        name: np.concatenate([np.full(1, np.nan, dtype=real), on_line.astype(real), at_point.astype(real)])
        for name, on_line, at_point in (
            ("connection_longitude", lines.vertex_lon, prep.point_lon),
            ("connection_latitude", lines.vertex_lat, prep.point_lat),
        )
    }

    def put(name: str, rows: slice, values: np.ndarray) -> None:
        """Write one size's ``values`` into column ``name``, allocated at the first size's dtype."""
        if name not in col:
            col[name] = np.empty(total, dtype=values.dtype)
        col[name][rows] = values

    present = np.zeros(0, dtype=np.int64)  # the distinct exclusion masks, sorted
    buffers = (np.empty((N_OUT, n)), np.empty(n)) if impl == "kernel" else None
    site = _site_matrix(params, prep, det)
    for z, size in enumerate(sizes):
        out, ranks = _evaluate(params, prep, int(size), det, impl, buffers, site)
        rows = slice(z * n, (z + 1) * n)
        for name, j in OUT_COLUMNS.items():
            col[name][rows] = out[:, j]
        for name, values in per_site.items():
            col[name][rows] = values
        col["size_h100e"][rows] = sizes[z]
        col["it_load_mw"][rows] = it_load_mw[z]
        col["rank"][rows] = ranks
        col["rank_shared"][rows] = _shared(ranks)
        col["feasible"][rows] = out[:, O_FEASIBLE] == 1.0
        col["headroom_estimated"][rows] = out[:, O_HEADROOM_EST] == 1.0
        col["seveso_tier"][rows] = out[:, O_SEVESO]
        mask = col["exclusion_mask"][rows]
        mask[:] = out[:, O_MASK]
        if n:
            present = np.union1d(present, np.flatnonzero(np.bincount(mask)))
        codes["kind"][rows] = out[:, O_KIND]
        codes["runner"][rows] = out[:, O_RUNNER_KIND]
        codes["basis"][rows] = basis
        src = out[:, O_HEADROOM_SRC]
        codes["source"][rows] = np.where(np.isfinite(src), src, len(SOURCE_LABELS) - 1)
        codes["own"][rows] = np.where(
            (prep.own_status == 1) & (prep.own_cap < out[:, O_FACILITY_MW]), 4, prep.own_status
        )
        point, vertex = out[:, O_POINT].astype(np.int32), out[:, O_CUT_VERTEX].astype(np.int32)  # as the candidates
        point_at, vertex_at = np.maximum(point, -1) + 1, np.maximum(vertex, -1) + 1
        put("connection_point_id", rows, point_ids[point_at])
        put("connection_line_id", rows, vertex_line_ids[vertex_at])
        at = np.where(point >= 0, point_at + n_vertices, vertex_at)
        for name, values in coordinates.items():
            put(name, rows, values[at])
    del buffers, site, out  # the per-size buffers before the texts are built

    col.update(
        {
            "connection_kind": _labels(codes["kind"], KIND_LABELS, compact),
            "runner_up_kind": _labels(codes["runner"], KIND_LABELS, compact),
            "own_connection_status": _labels(codes["own"], OWN_STATUS, compact),
            "headroom_source": _labels(codes["source"], SOURCE_LABELS, compact),
            "emissions_basis": _labels(codes["basis"], BASIS_LABELS, compact),
            "exclusion_reasons": _reason_text(col["exclusion_mask"], present, compact),
        }
    )
    del codes
    columns = {name: col.pop(name) for name in TABLE_COLUMNS}
    for key in mc[params.sizes[0]] if mc else ():
        columns[key] = np.concatenate([mc[size][key] for size in params.sizes])
    table = pd.DataFrame(columns, copy=False)
    return table, _ladder(prep.site_id, sizes, columns)


def _ladder(site_id: np.ndarray, sizes: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Return :func:`site_ladder` of the table ``columns`` (sites in ``site_id`` order within each
    size, sizes in ``sizes`` order), from the arrays."""
    n = len(site_id)
    best = np.full(n, -1, dtype=np.intp)  # per site, the index of its largest feasible size
    feasible = columns["feasible"]
    for z in np.argsort(sizes, kind="stable"):  # the largest feasible size is written last
        np.copyto(best, z, where=feasible[z * n : (z + 1) * n])
    found = best >= 0
    rows = np.maximum(best, 0) * n + np.arange(n)  # that size's row of each site
    largest = np.where(found, sizes[np.maximum(best, 0)], -1)
    picked = {
        name: np.where(found, columns[name][rows], np.nan)
        for name in ("tco_eur_per_gpu_hour", "capex_total_meur", "time_to_power_months")
    }
    return pd.DataFrame(
        {
            "site_id": site_id,
            "largest_size_h100e": largest if found.all() else np.where(found, largest, np.nan),
            **picked,
        }
    )


def site_ladder(table: pd.DataFrame) -> pd.DataFrame:
    """Return, per site, the largest feasible size with its cost per GPU-hour, capex and time."""
    feasible = table[table["feasible"]]
    best = feasible.sort_values(["site_id", "size_h100e"]).groupby("site_id").tail(1)
    ladder = pd.DataFrame({"site_id": np.unique(table["site_id"].to_numpy())})
    ladder = ladder.merge(
        best[["site_id", "size_h100e", "tco_eur_per_gpu_hour", "capex_total_meur", "time_to_power_months"]].rename(
            columns={"size_h100e": "largest_size_h100e"}
        ),
        on="site_id",
        how="left",
    )
    return ladder


def weighted_scores(
    criteria_v: np.ndarray, feasible: np.ndarray, site_id: np.ndarray, weights: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (score [0–100], rank) of the sites of one size under new ``weights``: the one
    re-weighting rule (the result table, the dashboard, the API).

    ``criteria_v`` holds the stored normalised criteria ``v_<criterion>`` in ``CRITERION_NAMES``
    order, one row per site; ``feasible`` is 1 where the site is feasible. As the kernels do:
    weights normalised to sum 1 (all zero: every feasible site scores 0), a criterion of zero
    weight contributes nothing even when unknown, excluded sites get no score and no rank, and
    ties are broken by site id.
    """
    w = np.array([float(weights.get(c, 0.0)) for c in CRITERION_NAMES], dtype=np.float64)
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and non-negative")
    w = w / w.sum() if w.sum() > 0 else w
    feasible_f = np.asarray(feasible, dtype=np.float64)
    contrib = np.where(w != 0.0, np.nan_to_num(np.asarray(criteria_v, dtype=np.float64)) * w, 0.0)
    score = np.where(feasible_f == 1.0, 100.0 * contrib.sum(axis=1), np.nan)
    # The NumPy ranking (a sort) takes a few ms here and needs no JIT warm-up per process.
    ranks = reference.rank_scores(score, feasible_f, np.asarray(site_id, dtype=np.float64))
    return score, ranks


def reweight(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Return ``site_id, size_h100e, score, rank`` recomputed from the stored normalised
    criteria with new weights (no job needed: a weighted sum; :func:`weighted_scores` per size)."""
    v = table[[f"v_{c}" for c in CRITERION_NAMES]].to_numpy(dtype=np.float64)
    feasible = table["feasible"].to_numpy(dtype=np.float64)
    site_id = table["site_id"].to_numpy(dtype=np.float64)
    sizes = table["size_h100e"].to_numpy()
    score = np.full(len(table), np.nan)
    rank = np.full(len(table), np.nan)
    if not len(table):
        weighted_scores(v, feasible, site_id, weights)  # still refuses bad weights
    for size in np.unique(sizes):
        idx = np.flatnonzero(sizes == size)
        score[idx], rank[idx] = weighted_scores(v[idx], feasible[idx], site_id[idx], weights)
    return pd.DataFrame({"site_id": table["site_id"].to_numpy(), "size_h100e": sizes, "score": score, "rank": rank})
