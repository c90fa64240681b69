"""The siting model: score every site for every cluster size (siting model §2–§4, version 2).

Public API (no Django here):

- ``score_sites(sites, grid, zones, params, hourly_carbon=None, lines=None, outlines=None,
  draws=0, impl="kernel")`` returns a :class:`ScoringResult` with one row per (site, size);
  ``score_inputs(inputs, params, ...)`` does the same from a :class:`ScoringInputs`.
- ``ScenarioParams`` and ``presets()`` in ``params.py``; criteria in ``criteria.py``.

This module validates inputs (columns, dtypes, NaN policy), converts units, finds the
connection candidates, allocates the arrays, and calls the numba kernels (``impl="kernel"``)
or their NumPy twins (``impl="reference"``). Runs are split by cluster size: sites of one size
are ranked together, and Monte Carlo draws are seeded by (seed, draw index) only, so scoring a
size alone gives the same numbers as scoring it with the others.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from . import kernels, reference, sketch
from .candidates import DenseLines, LandCheck, densify_lines, nearest_by_class, nearest_on_lines, voltage_class_index
from .criteria import CRITERIA, CRITERION_NAMES
from .kernel_inputs import GridInputs, ScenarioArrays
from .layout import (
    EXCLUSIONS,
    H_DEFAULT,
    H_ESTIMATED,
    H_KNOWN,
    HEADROOM_SOURCES,
    KIND_NAMES,
    N_CLASSES,
    N_OUT,
    N_SCALARS,
    N_SITE,
    N_TABLE,
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
    P_EST_CREDIT,
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
    X_FLOOD,
    X_OPERATING,
    X_OUTSIDE_SCOPE,
    X_POLLUTED,
    X_RECONVERTED,
)
from .params import ScenarioParams, presets

__all__ = [
    "ScenarioParams",
    "ScoringInputs",
    "ScoringResult",
    "presets",
    "score_sites",
    "score_inputs",
    "score_draws",
    "exclusion_codes",
    "CRITERIA",
    "EXCLUSIONS",
]

SITE_COLUMNS = (
    "site_id",
    "longitude",
    "latitude",
    "country",
    "area_ha",
    "grid_capacity_mw",
    "grid_voltage_kv",
    "pollution_status",
    "flood_zone",
    "water_access",
    "reconverted",
)
SITE_OPTIONAL = {
    "closure_year": np.nan,
    "former_use": "",
    "still_operating": False,
    "zoning_type": "",
    "buildings_state": "",
    "has_project": False,
    "area_estimated": False,
}
"""Site columns of version 2 and the value used where a frame lacks them."""
GRID_COLUMNS = ("point_id", "longitude", "latitude", "voltage_kv", "headroom_mw")
ZONE_COLUMNS = ("country", "carbon_intensity_g_per_kwh", "price_eur_per_mwh", "cooling_degree_days")
ZONING_NEEDS_CHANGE = frozenset({"A", "N"})
"""Cartofriches ``urba_zone_type`` values (agricultural, natural) that need a plan change."""
POLLUTION_CLEAR = frozenset({"none", "remediated"})
OWN_STATUS = np.array(["none", "usable", "lapsed", "still_operating", "too_small"], dtype=object)


@dataclass
class ScoringInputs:
    """Everything the engine reads, as one value: what ``score_inputs`` takes.

    ``lines`` is a vertex frame (``line_id, seq, longitude, latitude, voltage_kv, rating_mw,
    country``) or None (no cut-ins); ``outlines`` maps ISO2 → shapely geometry or WKB bytes,
    or None (no over-land check).
    """

    sites: pd.DataFrame
    grid: pd.DataFrame
    zones: pd.DataFrame
    hourly_carbon: dict[str, np.ndarray] = field(default_factory=dict)
    lines: pd.DataFrame | None = None
    outlines: dict[str, object] | None = None


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


def _reason_text(masks: np.ndarray, categorical: bool = False) -> np.ndarray | ExtensionArray:
    """Return the ``;``-joined exclusion codes of each mask (non-negative; one join per distinct
    mask, looked up by value), as a categorical over the distinct texts if ``categorical``."""
    if masks.size == 0:
        return np.empty(0, dtype=object)
    present = np.flatnonzero(np.bincount(masks))
    labels = np.array([";".join(exclusion_codes(int(m))) for m in present], dtype=object)
    return _labels(np.searchsorted(present, masks).astype(np.int32), labels, categorical)


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


def _text(frame: pd.DataFrame, column: str, default: str = "") -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    return _per_distinct(frame[column].fillna(default), lambda v: str(v).strip())


def _per_distinct(values: npt.ArrayLike, fn: Callable[[Any], object]) -> np.ndarray:
    """Return ``fn`` of every value as an object array, calling ``fn`` once per distinct value
    (a column of 19,000 sites holds a few dozen)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [fn(v) for v in uniques]
    return mapped[codes]


def _is_in(values: np.ndarray, allowed: frozenset[str]) -> np.ndarray:
    """Return ``np.isin(values, list(allowed))`` for a text column, tested once per distinct value
    (``np.isin`` sorts every row of an object array: 7 ms at 19,000 sites, against 1 ms)."""
    return _per_distinct(values, lambda v: v in allowed).astype(bool)


def _upper_text(series: pd.Series) -> np.ndarray:
    return _per_distinct(series.fillna(""), lambda v: str(v).upper())


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].fillna(False).astype(bool).to_numpy()


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
    own_former_mw: np.ndarray  # former connection capacity (NaN none)
    own_cap: np.ndarray  # usable capacity min(former, class rating), NaN where none usable
    own_kv: np.ndarray  # class of the own connection [kV] (NaN none)
    own_status: np.ndarray  # int: 0 none, 1 usable, 2 lapsed, 3 still operating
    own_estimated: np.ndarray  # bool: class implied by the former capacity
    area: np.ndarray
    site_mask: np.ndarray
    observed: np.ndarray
    permit_m: np.ndarray
    rezoning_m: np.ndarray
    remediation_m: np.ndarray
    demolition_m: np.ndarray
    readiness_estimated: np.ndarray
    remed_meur_per_ha: np.ndarray
    may_be_unavailable: np.ndarray
    cand_point: np.ndarray
    cand_dist: np.ndarray
    point_id: np.ndarray
    point_lon: np.ndarray
    point_lat: np.ndarray
    point_headroom: np.ndarray  # known, estimate or class default
    point_source: np.ndarray  # H_*
    lines: DenseLines
    line_class: np.ndarray
    line_headroom: np.ndarray
    line_source: np.ndarray
    cut_vertex: np.ndarray
    cut_dist: np.ndarray


def _readiness(
    params: ScenarioParams, zoning: np.ndarray, pollution: np.ndarray, buildings: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the site readiness months (permit, rezoning, remediation, demolition), whether any
    came from a scenario default, and the remediation cost rate [M€/ha] (siting model §2)."""
    n = len(zoning)
    zoning_u = _per_distinct(zoning, str.upper)
    zoning_known = zoning_u != ""
    rezoning = np.where(
        _is_in(zoning_u, ZONING_NEEDS_CHANGE),
        params.rezoning_months,
        np.where(zoning_known, 0.0, params.rezoning_unknown_months),
    )
    confirmed = pollution == "confirmed"
    pollution_known = confirmed | _is_in(pollution, POLLUTION_CLEAR)
    remediation = np.where(
        confirmed, params.remediation_months, np.where(pollution_known, 0.0, params.remediation_unknown_months)
    )
    buildings_l = _per_distinct(buildings, str.lower)
    buildings_known = _is_in(buildings_l, frozenset({"standing", "none"}))
    demolition = np.where(
        buildings_l == "standing",
        params.demolition_months,
        np.where(buildings_known, 0.0, params.demolition_unknown_months),
    )
    permit = np.full(n, params.permit_months)
    estimated = ~zoning_known | ~pollution_known | ~buildings_known
    remed_rate = np.where(confirmed, params.remediation_meur_per_ha, 0.0)
    return permit, rezoning.astype(float), remediation.astype(float), demolition.astype(float), estimated, remed_rate


_Geometry = tuple[np.ndarray, np.ndarray, DenseLines, np.ndarray, np.ndarray]
"""Connection candidates: new-line point and distance, dense lines, cut-in vertex and distance."""
_GEOMETRY_CACHE: dict[bytes, _Geometry] = {}
GEOMETRY_CACHE_SIZE = 2
"""Connection geometries kept per process: a run scores its sizes in turn from one snapshot,
and the candidates (KD-trees, over-land tests) do not depend on the size."""


def _geometry_key(
    params: ScenarioParams,
    *arrays: np.ndarray | None,
    lines: pd.DataFrame | None,
    outlines: dict[str, object] | None,
) -> bytes:
    digest = hashlib.sha256()
    for name in (
        "voltage_classes_kv",
        "voltage_class_tolerance",
        "k_nearest",
        "max_line_km",
        "routing_factor",
        "search_radius_km",
        "outline_tolerance_km",
        "line_densify_km",
        "cut_in_min_kv",
    ):
        digest.update(repr(getattr(params, name)).encode())
    for a in arrays:
        digest.update(
            b"|"
            if a is None
            else np.ascontiguousarray(np.asarray(a, dtype=str if a.dtype == object else None)).tobytes()
        )
    if lines is not None:
        digest.update(pd.util.hash_pandas_object(lines, index=False).to_numpy().tobytes())
    outlines = outlines or {}
    for code in sorted(outlines):
        raw: Any = outlines[code]  # WKB bytes or a shapely geometry (shapely ships no hints)
        digest.update(code.encode() + (bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else raw.wkb))
    return digest.digest()


def _geometry(
    params: ScenarioParams,
    lon: np.ndarray,
    lat: np.ndarray,
    country: np.ndarray,
    point_lon: np.ndarray,
    point_lat: np.ndarray,
    point_kv: np.ndarray,
    point_country: np.ndarray | None,
    lines: pd.DataFrame | None,
    outlines: dict[str, object] | None,
    cache: bool = True,
) -> _Geometry:
    """Return the connection candidates (new lines and cut-ins) under the geometry limits."""
    key = (
        _geometry_key(
            params, lon, lat, country, point_lon, point_lat, point_kv, point_country, lines=lines, outlines=outlines
        )
        if cache
        else b""
    )
    if cache and key in _GEOMETRY_CACHE:
        return _GEOMETRY_CACHE[key]
    class_kv = np.asarray(params.voltage_classes_kv)
    tol = params.voltage_class_tolerance
    # Geometry limits (§2 v2): the class maximum is a routed length; the search is on the
    # great circle, so divide by the routing factor (and never beyond the search radius).
    max_gc_km = np.minimum(np.asarray(params.max_line_km) / params.routing_factor, params.search_radius_km)
    land = LandCheck(outlines, params.outline_tolerance_km) if outlines else None
    cand_point, cand_dist = nearest_by_class(
        lon,
        lat,
        point_lon,
        point_lat,
        point_kv,
        class_kv,
        params.k_nearest,
        tolerance=tol,
        site_country=country,
        point_country=point_country,
        max_km=max_gc_km,
        land=land,
    )
    dense = densify_lines(lines, params.line_densify_km)
    cut_min = int(np.searchsorted(class_kv, params.cut_in_min_kv, side="left"))
    cut_vertex, cut_dist = nearest_on_lines(
        lon,
        lat,
        dense,
        class_kv,
        cut_min,
        tolerance=tol,
        site_country=country,
        max_km=max_gc_km,
        land=land,
    )
    result = (cand_point, cand_dist, dense, cut_vertex, cut_dist)
    if not cache:
        return result
    for array in (cand_point, cand_dist, cut_vertex, cut_dist):
        array.flags.writeable = False  # shared between calls: never modified
    while len(_GEOMETRY_CACHE) >= GEOMETRY_CACHE_SIZE:
        _GEOMETRY_CACHE.pop(next(iter(_GEOMETRY_CACHE)))
    _GEOMETRY_CACHE[key] = result
    return result


_PREPARED_CACHE: dict[bytes, _Prepared] = {}
PREPARED_CACHE_SIZE = 1
"""Prepared inputs kept per process, keyed by their content (every frame, series and outline, and
the parameters but the sizes): a run scores each size, and each block of draws, from one snapshot,
and a table after a parameter change re-reads the same sites."""


def _frame_digest(digest: Any, frame: pd.DataFrame | None) -> None:
    """Feed ``frame``'s column names, dtypes and values, in order, into ``digest``."""
    if frame is None:
        digest.update(b"\x00none")
        return
    digest.update(repr((list(map(str, frame.columns)), frame.shape)).encode())
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j].to_numpy()
        if values.dtype.kind in "biuf":
            digest.update(values.dtype.str.encode() + np.ascontiguousarray(values).tobytes())
        else:  # text and mixed, pickled: exact (None, NaN, "None", 1 and "1" stay apart), and
            # 5× faster than joining the values' reprs (repeated strings are pickled once)
            digest.update(pickle.dumps(values, protocol=5))


def _prepared_key(inputs: ScoringInputs, params: ScenarioParams) -> bytes:
    digest = hashlib.sha256()
    settings = params.to_dict()
    settings.pop("sizes")  # scored per size from the same preparation
    digest.update(repr(sorted(settings.items())).encode())
    for frame in (inputs.sites, inputs.grid, inputs.zones, inputs.lines):
        _frame_digest(digest, frame)
    for code, series in sorted((inputs.hourly_carbon or {}).items()):
        digest.update(code.encode() + np.ascontiguousarray(series, dtype=np.float64).tobytes())
    if inputs.outlines is None:
        digest.update(b"\x00none")
    for code, raw in sorted((inputs.outlines or {}).items()):
        outline: Any = raw  # WKB bytes or a shapely geometry (shapely ships no hints)
        digest.update(
            code.encode() + (bytes(outline) if isinstance(outline, (bytes, bytearray, memoryview)) else outline.wkb)
        )
    return digest.digest()


def _prepare(inputs: ScoringInputs, params: ScenarioParams, *, cache: bool = True) -> _Prepared:
    key = _prepared_key(inputs, params) if cache else b""
    if cache and key in _PREPARED_CACHE:
        return _PREPARED_CACHE[key]
    if cache:
        while len(_PREPARED_CACHE) >= PREPARED_CACHE_SIZE:  # before preparing: one at a time in memory
            _PREPARED_CACHE.pop(next(iter(_PREPARED_CACHE)))
    sites, grid, zones = inputs.sites, inputs.grid, inputs.zones
    _check_frame(sites, SITE_COLUMNS, "sites")
    _check_frame(grid, GRID_COLUMNS, "grid")
    _check_frame(zones, ZONE_COLUMNS, "zones")
    if not sites["site_id"].is_monotonic_increasing:  # a sorted frame is read as it is: no copy of a million rows
        sites = sites.sort_values("site_id", kind="stable")
    sites = sites.reset_index(drop=True)
    site_id = sites["site_id"].to_numpy(dtype=np.int64)
    if (np.diff(site_id) == 0).any():  # sorted: a repeated id is next to itself
        raise ValueError("sites: site_id must be unique")
    lon = _num(sites["longitude"], "sites.longitude", allow_nan=False)
    lat = _num(sites["latitude"], "sites.latitude", allow_nan=False)
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise ValueError("sites: longitude/latitude out of range (WGS84 degrees expected)")
    country = _upper_text(sites["country"])
    area = _num(sites["area_ha"], "sites.area_ha")
    area = np.where(area > 0, area, np.nan)
    flood = _num(sites["flood_zone"], "sites.flood_zone")
    pollution = sites["pollution_status"].fillna("unknown").astype(str).to_numpy()
    water = sites["water_access"].fillna("unknown").astype(str).to_numpy()
    reconverted = sites["reconverted"].fillna(False).astype(bool).to_numpy()
    still = _flag(sites, "still_operating")
    closure = (
        _num(sites["closure_year"], "sites.closure_year") if "closure_year" in sites else np.full(len(sites), np.nan)
    )
    mask = np.zeros(len(sites), dtype=np.int64)
    if params.exclude_polluted_unremediated:
        mask |= np.where(pollution == "confirmed", X_POLLUTED, 0)
    if params.exclude_flood_zone:
        mask |= np.where(flood == 1.0, X_FLOOD, 0)
    if params.exclude_reconverted:
        mask |= np.where(reconverted, X_RECONVERTED, 0)
    mask |= np.where(_is_in(country, frozenset(params.scope_countries)), 0, X_OUTSIDE_SCOPE)
    if params.exclude_still_operating:
        mask |= np.where(still, X_OPERATING, 0)

    # Own connection (§2 v2): class from its voltage, or implied by the former capacity
    # (estimated); capacity = min(former, class rating); never after L years or while a unit runs.
    class_kv = np.asarray(params.voltage_classes_kv)
    rating = np.asarray(params.circuit_rating_mw)
    tol = params.voltage_class_tolerance
    former = _num(sites["grid_capacity_mw"], "sites.grid_capacity_mw")
    former = np.where(former > 0, former, np.nan)
    own_volt = _num(sites["grid_voltage_kv"], "sites.grid_voltage_kv")
    by_voltage = voltage_class_index(own_volt, class_kv, tol)
    implied = np.minimum(np.searchsorted(rating, np.nan_to_num(former, nan=0.0), side="left"), len(rating) - 1)
    has_own = np.isfinite(former)
    own_class = np.where(by_voltage >= 0, by_voltage, implied)
    own_estimated = has_own & (by_voltage < 0)
    lapsed = has_own & np.isfinite(closure) & (params.reference_year - closure > params.own_connection_lapse_years)
    status = np.where(~has_own, 0, np.where(still, 3, np.where(lapsed, 2, 1)))
    usable = status == 1
    own_cap = np.where(usable, np.minimum(former, rating[own_class]), np.nan)
    own_kv = np.where(has_own, class_kv[own_class], np.nan)
    # An area that is not an observation (an unverified candidate's land unit) still serves the
    # land check, but does not count as observed in data reliability.
    area_observed = np.isfinite(area) & ~_flag(sites, "area_estimated")
    observed = (
        area_observed.astype(float) + (pollution != "unknown") + np.isfinite(flood) + (water != "unknown") + has_own
    )

    permit, rezoning, remediation, demolition, ready_est, remed_rate = _readiness(
        params, _text(sites, "zoning_type"), pollution, _text(sites, "buildings_state")
    )

    zones = zones.drop_duplicates("country").reset_index(drop=True)
    codes = zones["country"].astype(str).tolist()
    carbon = _num(zones["carbon_intensity_g_per_kwh"], "zones.carbon")
    price = _num(zones["price_eur_per_mwh"], "zones.price")
    cdd_zone = _num(zones["cooling_degree_days"], "zones.cdd")
    estimated_zone = ~(np.isfinite(carbon) & np.isfinite(price) & np.isfinite(cdd_zone))
    annual_known = np.isfinite(carbon)
    carbon = np.where(annual_known, carbon, params.fallback_carbon_g_per_kwh)
    price = np.where(np.isfinite(price), price, params.fallback_price_eur_per_mwh)
    cdd_zone = np.where(np.isfinite(cdd_zone), cdd_zone, params.fallback_cdd)
    hourly = np.zeros(len(codes), dtype=bool)
    for j, code in enumerate(codes):
        series = (inputs.hourly_carbon or {}).get(code)
        if series is not None:
            series = np.asarray(series, dtype=np.float64)
            if series.shape != (8760,) or not np.isfinite(series).all():
                raise ValueError(f"hourly_carbon[{code}]: 8,760 finite values expected")
            # One vintage per zone (§5 v2): the series is a shape, rescaled so its annual mean is
            # the zone's latest annual intensity. A flat load then emits E × that mean
            # (Σ_h P × u × CI_h = E × mean(CI_h)); without an annual value, the series' own mean.
            mean = float(series.mean())
            if not annual_known[j]:
                carbon[j] = mean
            hourly[j] = True
    index = {code: j for j, code in enumerate(codes)}
    zone_index = _per_distinct(sites["country"], lambda c: index.get(str(c), -1)).astype(np.int64)
    cdd = np.where(zone_index >= 0, cdd_zone[np.maximum(zone_index, 0)], params.fallback_cdd)

    grid = grid.sort_values("point_id", kind="stable").reset_index(drop=True)
    point_kv = _num(grid["voltage_kv"], "grid.voltage_kv")
    keep = np.isfinite(point_kv) & (point_kv > 0)
    grid, point_kv = grid[keep].reset_index(drop=True), point_kv[keep]
    point_class = voltage_class_index(point_kv, class_kv, tol)
    known = _num(grid["headroom_mw"], "grid.headroom_mw")
    estimate = (
        _num(grid["headroom_estimate_mw"], "grid.headroom_estimate_mw")
        if "headroom_estimate_mw" in grid
        else np.full(len(grid), np.nan)
    )
    default = np.asarray(params.headroom_default_mw)[np.maximum(point_class, 0)]
    point_source = np.where(np.isfinite(known), H_KNOWN, np.where(np.isfinite(estimate), H_ESTIMATED, H_DEFAULT))
    point_headroom = np.where(np.isfinite(known), known, np.where(np.isfinite(estimate), estimate, default))
    point_country = _upper_text(grid["country"]) if "country" in grid.columns else None
    point_lon = _num(grid["longitude"], "grid.longitude", allow_nan=False)
    point_lat = _num(grid["latitude"], "grid.latitude", allow_nan=False)
    cand_point, cand_dist, dense, cut_vertex, cut_dist = _geometry(
        params, lon, lat, country, point_lon, point_lat, point_kv, point_country, inputs.lines, inputs.outlines, cache
    )
    line_class = voltage_class_index(dense.line_kv, class_kv, tol)
    line_rating = dense.line_rating_mw
    line_default = np.asarray(params.headroom_default_mw)[np.maximum(line_class, 0)]
    # A cut-in bus has the line's two halves; N-1 leaves one: α × (Σ − largest) = α × rating.
    line_headroom = np.where(np.isfinite(line_rating), params.cut_in_headroom_share * line_rating, line_default)
    line_source = np.where(np.isfinite(line_rating), H_ESTIMATED, H_DEFAULT)
    prepared = _Prepared(
        site_id=site_id,
        site_key=site_id.astype(np.float64),
        zone_index=zone_index,
        zone_codes=codes,
        cdd=cdd,
        price_zone=price,
        carbon_zone=carbon,
        hourly_zone=hourly,
        estimated_zone=estimated_zone,
        own_former_mw=former,
        own_cap=own_cap,
        own_kv=own_kv,
        own_status=status,
        own_estimated=own_estimated,
        area=area,
        site_mask=mask,
        observed=np.ascontiguousarray(observed, dtype=np.float64),
        permit_m=permit,
        rezoning_m=rezoning,
        remediation_m=remediation,
        demolition_m=demolition,
        readiness_estimated=ready_est,
        remed_meur_per_ha=remed_rate,
        may_be_unavailable=_flag(sites, "has_project"),
        cand_point=cand_point,
        cand_dist=cand_dist,
        point_id=grid["point_id"].to_numpy(dtype=np.int64),
        point_lon=point_lon,
        point_lat=point_lat,
        point_headroom=point_headroom.astype(np.float64),
        point_source=point_source.astype(np.float64),
        lines=dense,
        line_class=line_class,
        line_headroom=line_headroom.astype(np.float64),
        line_source=line_source.astype(np.float64),
        cut_vertex=cut_vertex,
        cut_dist=cut_dist,
    )
    if cache:
        for value in vars(prepared).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # shared between calls: never modified
        _PREPARED_CACHE[key] = prepared
    return prepared


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
        vertex_line=prep.lines.vertex_line,
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
    pue_base: np.ndarray
    site_months_base: np.ndarray

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
    return _MonteCarlo(
        params=params,
        prep=prep,
        sizes=tuple(sizes),
        impl=impl,
        scenario=_scenario_arrays(params, deterministic.weights),
        site=_site_matrix(params, prep, deterministic),
        grid=_grid_inputs(prep, np.empty(len(prep.point_headroom)), np.empty(len(prep.line_headroom))),
        work=np.empty((n, N_OUT)),
        scores=np.empty((len(sizes), n)),
        feasible=np.empty((len(sizes), n)),
        levels=levels,
        uniforms=np.empty(len(factors)),
        factors=factors,
        parts=_draw_parts(levels, factors),
        sp_sizes=np.stack([_pack_scalars(params, size, deterministic) for size in sizes]),
        pue_base=_pue_base(params, prep),
        site_months_base=_site_months_base(prep),
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
        mc.pue_base,
        mc.site_months_base,
        prep.zone_index,
        prep.price_zone,
        prep.carbon_zone,
        params.fallback_price_eur_per_mwh,
        params.fallback_carbon_g_per_kwh,
        params.price_adder_eur_per_mwh,
        f["price_zone"],
        f["carbon_zone"],
        f["conn"],
        f["grid_months"],
        f["site_months"],
        f["pue_offset"],
        prep.point_headroom,
        prep.point_source,
        f["headroom_point"],
        prep.line_headroom,
        prep.line_source,
        f["headroom_line"],
        mc.site,
        mc.grid.point_headroom_mw,
        mc.grid.line_headroom_mw,
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
            done = d + 1 - start
            if progress is not None and (done % 20 == 0 or d == stop - 1):
                progress(done / (stop - start))
        for size in sizes:
            parts[size].append(sketch.sketch_block(ranks[size][:rows], first, impl))
    return {size: sketch.merge(p) for size, p in parts.items()}


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


def score_inputs(
    inputs: ScoringInputs,
    params: ScenarioParams,
    *,
    draws: int = 0,
    impl: str = "kernel",
    progress: Callable[[float], None] | None = None,
) -> ScoringResult:
    """Score a :class:`ScoringInputs` (keyword arguments as :func:`score_sites`)."""
    return score_sites(
        inputs.sites,
        inputs.grid,
        inputs.zones,
        params,
        hourly_carbon=inputs.hourly_carbon or None,
        lines=inputs.lines,
        outlines=inputs.outlines,
        draws=draws,
        impl=impl,
        progress=progress,
    )


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
    if impl not in ("kernel", "reference"):
        raise ValueError("impl: 'kernel' or 'reference'")
    if draws < 0:
        raise ValueError("draws: 0 or more")
    inputs = ScoringInputs(sites, grid, zones, hourly_carbon or {}, lines, outlines)
    prep = _prepare(inputs, params)
    sketches = _monte_carlo(params, prep, params.sizes, (0, draws), impl, progress) if draws else {}
    mc = {size: sketch.rank_stats(s) for size, s in sketches.items()}
    table, ladder = _table(params, prep, impl, mc)
    return ScoringResult(table=table, ladder=ladder, params=params)


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


def _table(params: ScenarioParams, prep: _Prepared, impl: str, mc: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the result table (all sites of the first size, then the next size...) and the ladder.

    Every column is allocated once at its full length and filled size by size from one reused
    kernel output, then handed to pandas without a copy: no per-size frames to concatenate.
    """
    det = _draw(params, prep, None)
    sizes = np.asarray(params.sizes, dtype=np.int64)
    n, n_sizes = len(prep.site_id), len(sizes)
    total = n * n_sizes
    compact = total >= COMPACT_TABLE_ROWS
    col: dict[str, np.ndarray] = {
        name: np.empty(total, dtype=np.float32 if compact and name not in EXACT_COLUMNS else np.float64)
        for name in OUT_COLUMNS
    }
    # Compact: ranks (whole numbers below 2**24) in float32 and small codes in small integers, exactly.
    col["rank"] = np.empty(total, dtype=np.float32 if compact else np.float64)
    # Small codes in small integers: at a million sites each int64 column is 56 MB.
    codes = {name: np.empty(total, dtype=np.int8) for name in ("kind", "runner", "source", "own")}
    codes.update({name: np.empty(total, dtype=np.int32) for name in ("point", "vertex")})  # as the candidates
    codes["mask"] = np.empty(total, dtype=np.int32 if compact else np.int64)
    col["seveso_tier"] = np.empty(total, dtype=np.int8 if compact else np.int64)
    for flag in ("feasible", "headroom_estimated", "rank_shared"):
        col[flag] = np.empty(total, dtype=bool)
    buffers = (np.empty((N_OUT, n)), np.empty(n)) if impl == "kernel" else None
    site = _site_matrix(params, prep, det)
    for z, size in enumerate(sizes):
        out, ranks = _evaluate(params, prep, int(size), det, impl, buffers, site)
        rows = slice(z * n, (z + 1) * n)
        for name, j in OUT_COLUMNS.items():
            col[name][rows] = out[:, j]
        col["rank"][rows] = ranks
        col["rank_shared"][rows] = _shared(ranks)
        col["feasible"][rows] = out[:, O_FEASIBLE] == 1.0
        col["headroom_estimated"][rows] = out[:, O_HEADROOM_EST] == 1.0
        col["seveso_tier"][rows] = out[:, O_SEVESO]
        codes["kind"][rows] = out[:, O_KIND]
        codes["runner"][rows] = out[:, O_RUNNER_KIND]
        src = out[:, O_HEADROOM_SRC]
        codes["source"][rows] = np.where(np.isfinite(src), src, len(SOURCE_LABELS) - 1)
        codes["own"][rows] = np.where(
            (prep.own_status == 1) & (prep.own_cap < out[:, O_FACILITY_MW]), 4, prep.own_status
        )
        codes["point"][rows] = out[:, O_POINT]
        codes["vertex"][rows] = out[:, O_CUT_VERTEX]
        codes["mask"][rows] = out[:, O_MASK]
    del buffers, site, out  # the per-size buffers before the derived columns are built

    point, vertex = codes["point"], codes["vertex"]
    safe_p, safe_v = np.maximum(point, 0), np.maximum(vertex, 0)
    has_p, has_v = point >= 0, vertex >= 0
    lines = prep.lines
    zi = np.maximum(prep.zone_index, 0)
    has_zone = prep.zone_index >= 0

    real = np.float32 if compact else np.float64

    def per_site(values: np.ndarray) -> np.ndarray:
        return np.tile(values.astype(real, copy=False) if values.dtype == np.float64 else values, n_sizes)

    def at_point_or_vertex(point_values: np.ndarray, vertex_values: np.ndarray) -> np.ndarray:
        point_values, vertex_values = point_values.astype(real, copy=False), vertex_values.astype(real, copy=False)
        at_vertex = np.where(has_v, vertex_values[safe_v] if len(vertex_values) else np.nan, np.nan)
        return np.where(has_p, point_values[safe_p] if len(point_values) else np.nan, at_vertex).astype(
            real, copy=False
        )

    col.update(
        {
            "site_id": per_site(prep.site_id),
            "size_h100e": np.repeat(sizes.astype(np.int32) if compact else sizes, n),
            "it_load_mw": np.repeat(
                np.array([size * params.k_gpu_kw / 1000.0 for size in params.sizes], dtype=real), n
            ),
            "connection_kind": _labels(codes["kind"], KIND_LABELS, compact),
            "connection_point_id": np.where(has_p, prep.point_id[safe_p] if len(prep.point_id) else -1, -1),
            "connection_line_id": np.where(
                has_v, lines.line_id[lines.vertex_line[safe_v]] if len(lines.vertex_line) else -1, -1
            ),
            "connection_longitude": at_point_or_vertex(prep.point_lon, lines.vertex_lon),
            "connection_latitude": at_point_or_vertex(prep.point_lat, lines.vertex_lat),
            "runner_up_kind": _labels(codes["runner"], KIND_LABELS, compact),
            "own_connection_status": _labels(codes["own"], OWN_STATUS, compact),
            "own_connection_capacity_mw": per_site(prep.own_cap),
            "own_connection_estimated": per_site(prep.own_estimated),
            "headroom_source": _labels(codes["source"], SOURCE_LABELS, compact),
            "permit_months": per_site(prep.permit_m),
            "rezoning_months": per_site(prep.rezoning_m),
            "remediation_months": per_site(prep.remediation_m),
            "demolition_months": per_site(prep.demolition_m),
            "readiness_estimated": per_site(prep.readiness_estimated),
            "emissions_basis": _labels(
                per_site((has_zone & prep.hourly_zone[zi]).astype(np.int8)), BASIS_LABELS, compact
            ),
            "exclusion_mask": codes["mask"],
            "exclusion_reasons": _reason_text(codes["mask"], compact),
            "may_be_unavailable": per_site(prep.may_be_unavailable),
            "zone_data_estimated": per_site(~has_zone | prep.estimated_zone[zi]),
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
    largest = np.full(n, -1, dtype=np.int64)
    picked = {name: np.full(n, np.nan) for name in ("tco_eur_per_gpu_hour", "capex_total_meur", "time_to_power_months")}
    feasible = columns["feasible"]
    for z in np.argsort(sizes, kind="stable"):  # the largest feasible size is written last
        rows = slice(z * n, (z + 1) * n)
        ok = feasible[rows]
        largest[ok] = sizes[z]
        for name, values in picked.items():
            values[ok] = columns[name][rows][ok]
    found = largest >= 0
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
