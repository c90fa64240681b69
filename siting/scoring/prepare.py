"""Preparation: validate the input frames, convert units and find each site's connection candidates.

``_prepare`` turns a :class:`ScoringInputs` into the arrays every evaluation and every Monte Carlo
draw of a run reads (``_Prepared``), whatever the cluster size. Preparations and connection
geometries are cached per process, keyed by their content (siting model §2, version 2).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .candidates import (
    DenseLines,
    LandCheck,
    densify_lines,
    mainland_distance_km,
    nearest_by_class,
    nearest_on_lines,
    voltage_class_index,
)
from .layout import (
    H_DEFAULT,
    H_ESTIMATED,
    H_KNOWN,
    X_FLOOD,
    X_OPERATING,
    X_OUTSIDE_SCOPE,
    X_OVERSEAS,
    X_POLLUTED,
    X_RECONVERTED,
)
from .params import ScenarioParams

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
    content_key: bytes | None = None
    """A digest of everything above, set by whoever already has one (a run's snapshot: the
    SHA-256 of its archive), so that each chunk's preparation looks up its cache without hashing
    every frame again (18 ms a chunk on the shipped data, measured here 2026-11-28). None: the
    frames are hashed. Whoever sets it must not change the frames afterwards."""


def _check_frame(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def _num(series: pd.Series, name: str, *, allow_nan: bool = True) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    if not allow_nan and not np.isfinite(values).all():
        raise ValueError(f"{name}: every value must be a finite number")
    return np.ascontiguousarray(values)


def _per_distinct(values: npt.ArrayLike, fn: Callable[[Any], object]) -> np.ndarray:
    """Return ``fn`` of every value as an object array, calling ``fn`` once per distinct value
    (a column of 19,000 sites holds a few dozen)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [fn(v) for v in uniques]
    return mapped[codes]


def _upper_text(series: pd.Series) -> np.ndarray:
    return _per_distinct(series.fillna(""), lambda v: str(v).upper())


@dataclass(frozen=True)
class _Distinct:
    """A column as codes into its distinct values (``pd.factorize``, missing values kept as one
    value): every map and test runs once per distinct value, and a row's result is its value's."""

    codes: npt.NDArray[np.intp]
    values: np.ndarray  # object

    @classmethod
    def of(cls, values: pd.Series | np.ndarray) -> _Distinct:
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
            # pandas' string column factorizes 3× faster than its values as objects: every
            # value is a string or the missing value
            codes, uniques = pd.factorize(values.array, use_na_sentinel=False)
        else:
            codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        return cls(codes, np.asarray(uniques, dtype=object))

    def map(self, fn: Callable[[Any], object], missing: object = None) -> _Distinct:
        """Return ``fn`` of every value; a missing value (None, NaN...) becomes ``missing`` first
        unless that is None, as ``fillna(missing)`` would."""
        mapped = np.empty(len(self.values), dtype=object)
        mapped[:] = [fn(missing if missing is not None and _missing(v) else v) for v in self.values]
        return _Distinct(self.codes, mapped)

    def is_in(self, allowed: frozenset[str]) -> np.ndarray:
        return np.array([v in allowed for v in self.values], dtype=bool)[self.codes]

    def equals(self, value: str) -> np.ndarray:
        return np.array([v == value for v in self.values], dtype=bool)[self.codes]

    def full(self) -> np.ndarray:
        return self.values[self.codes]

    def texts_only(self) -> bool:
        """Return True if every value is a string or missing: then a row holds its distinct value
        itself (``pd.factorize`` would also merge 1, 1.0 and True, whose texts differ)."""
        return all(isinstance(v, str) or _missing(v) for v in self.values)


def _missing(value: object) -> bool:
    """Return True for a missing scalar (None, NaN, ``pd.NA``...), as ``fillna`` replaces."""
    result = pd.isna(value)
    return isinstance(result, (bool, np.bool_)) and bool(result)


class _TextColumns:
    """The text columns of one sites frame, each factorized once when first read, shared by the
    cache key and the preparation (a million sites: 50 ms a column)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._columns: dict[str, _Distinct] = {}

    def __getitem__(self, column: str) -> _Distinct:
        if column not in self._columns:
            self._columns[column] = _Distinct.of(self.frame[column])
        return self._columns[column]

    def text(self, column: str, fn: Callable[[Any], object], default: str) -> _Distinct:
        """Return ``fn`` of the column's texts, missing values (and a missing column) as ``default``."""
        if column not in self.frame.columns:
            return _Distinct(np.zeros(len(self.frame), dtype=np.intp), np.array([default], dtype=object))
        return self[column].map(lambda v: fn(str(v)), missing=default)

    def as_str(self, column: str, default: str) -> _Distinct:
        """Return ``frame[column].fillna(default).astype(str)`` as distinct values."""
        distinct = self[column]
        if distinct.texts_only():
            return distinct.map(str, missing=default)
        return _Distinct.of(self.frame[column].fillna(default).astype(str).to_numpy())


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
    cand_point: np.ndarray  # [class, candidate, site]: the kernels' layout (GridInputs)
    cand_dist: np.ndarray  # the same, great-circle [km]
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
    cut_line: np.ndarray  # line index of cut_vertex (−1: none)


def _readiness(
    params: ScenarioParams, zoning: _Distinct, pollution: _Distinct, buildings: _Distinct
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the site readiness months (permit, rezoning, remediation, demolition), whether any
    came from a scenario default, and the remediation cost rate [M€/ha] (siting model §2)."""
    n = len(zoning.codes)
    zoning_u = zoning.map(str.upper)
    zoning_known = ~zoning_u.equals("")
    rezoning = np.where(
        zoning_u.is_in(ZONING_NEEDS_CHANGE),
        params.rezoning_months,
        np.where(zoning_known, 0.0, params.rezoning_unknown_months),
    )
    confirmed = pollution.equals("confirmed")
    pollution_known = confirmed | pollution.is_in(POLLUTION_CLEAR)
    remediation = np.where(
        confirmed, params.remediation_months, np.where(pollution_known, 0.0, params.remediation_unknown_months)
    )
    buildings_l = buildings.map(str.lower)
    buildings_known = buildings_l.is_in(frozenset({"standing", "none"}))
    demolition = np.where(
        buildings_l.equals("standing"),
        params.demolition_months,
        np.where(buildings_known, 0.0, params.demolition_unknown_months),
    )
    permit = np.full(n, params.permit_months)
    estimated = ~zoning_known | ~pollution_known | ~buildings_known
    remed_rate = np.where(confirmed, params.remediation_meur_per_ha, 0.0)
    return permit, rezoning.astype(float), remediation.astype(float), demolition.astype(float), estimated, remed_rate


_Geometry = tuple[np.ndarray, np.ndarray, DenseLines, np.ndarray, np.ndarray, np.ndarray]
"""Connection candidates: new-line point and distance ([class, candidate, site]), dense lines,
cut-in vertex, its distance and its line ([class, site])."""
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
    # Candidate-major for the kernels: a site mostly takes its nearest adequate point, so a draw
    # reads the first candidate of every site in one contiguous pass (one array at a time, so that
    # a million sites hold one extra array, not two, while they turn).
    cand_point = np.ascontiguousarray(np.swapaxes(cand_point, 1, 2))
    cand_dist = np.ascontiguousarray(np.swapaxes(cand_dist, 1, 2))
    # The line of each cut-in vertex, looked up once here rather than at random in every draw.
    cut_line = np.full(cut_vertex.shape, -1, dtype=cut_vertex.dtype)
    found = cut_vertex >= 0
    cut_line[found] = dense.vertex_line[cut_vertex[found]]
    result = (cand_point, cand_dist, dense, cut_vertex, cut_dist, cut_line)
    if not cache:
        return result
    for array in (cand_point, cand_dist, cut_vertex, cut_dist, cut_line):
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


def _frame_digest(digest: Any, frame: pd.DataFrame | None, texts: _TextColumns | None = None) -> None:
    """Feed ``frame``'s column names, dtypes and values, in order, into ``digest`` (its text
    columns factorized by ``texts``, when given for this frame)."""
    if frame is None:
        digest.update(b"\x00none")
        return
    digest.update(repr((list(map(str, frame.columns)), frame.shape)).encode())
    by_name = texts is not None and texts.frame is frame and frame.columns.is_unique
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if column.dtype.kind in "biuf":
            values = column.to_numpy()
            digest.update(values.dtype.str.encode() + np.ascontiguousarray(values).tobytes())
        elif by_name and texts is not None:
            _text_digest(digest, texts[frame.columns[j]], column)
        else:  # text and mixed, pickled: exact (None, NaN, "None", 1 and "1" stay apart), and
            # 5× faster than joining the values' reprs (repeated strings are pickled once)
            digest.update(pickle.dumps(column.to_numpy(), protocol=5))


def _text_digest(digest: Any, distinct: _Distinct, column: pd.Series) -> None:
    """Feed a text column into ``digest`` as its codes and distinct values (pickled: None, NaN,
    "None", 1 and "1" stay apart), 10× faster than pickling every row. A row whose distinct value
    is not a string (missing, or a number ``pd.factorize`` merges with an equal one: 1, 1.0,
    True) is pickled too, so that it stays exact."""
    digest.update(b"\x01codes" + np.ascontiguousarray(distinct.codes, dtype=np.int64).tobytes())
    digest.update(pickle.dumps(distinct.values, protocol=5))
    texts = np.array([type(v) is str for v in distinct.values], dtype=bool)
    if not texts.all():
        others = ~texts[distinct.codes]
        digest.update(pickle.dumps(column.to_numpy(dtype=object)[others], protocol=5))


def _prepared_key(inputs: ScoringInputs, params: ScenarioParams, texts: _TextColumns | None = None) -> bytes:
    """Return the cache key of a preparation: every input value and parameter but the sizes
    (``texts``: the sites' text columns, factorized once for the key and the preparation)."""
    digest = hashlib.sha256()
    settings = params.to_dict()
    settings.pop("sizes")  # scored per size from the same preparation
    digest.update(repr(sorted(settings.items())).encode())
    if inputs.content_key is not None:
        digest.update(b"\x02content" + inputs.content_key)
        return digest.digest()
    _frame_digest(digest, inputs.sites, texts if texts is not None else _TextColumns(inputs.sites))
    for frame in (inputs.grid, inputs.zones, inputs.lines):
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
    texts = _TextColumns(inputs.sites)
    key = _prepared_key(inputs, params, texts) if cache else b""
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
        texts = _TextColumns(sites)  # in the new order
    sites = sites.reset_index(drop=True)
    texts.frame = sites
    site_id = sites["site_id"].to_numpy(dtype=np.int64)
    if (np.diff(site_id) == 0).any():  # sorted: a repeated id is next to itself
        raise ValueError("sites: site_id must be unique")
    lon = _num(sites["longitude"], "sites.longitude", allow_nan=False)
    lat = _num(sites["latitude"], "sites.latitude", allow_nan=False)
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise ValueError("sites: longitude/latitude out of range (WGS84 degrees expected)")
    country_u = texts.text("country", str.upper, "")
    country = country_u.full()
    area = _num(sites["area_ha"], "sites.area_ha")
    area = np.where(area > 0, area, np.nan)
    flood = _num(sites["flood_zone"], "sites.flood_zone")
    pollution = texts.as_str("pollution_status", "unknown")
    water = texts.as_str("water_access", "unknown")
    reconverted = sites["reconverted"].fillna(False).astype(bool).to_numpy()
    still = _flag(sites, "still_operating")
    closure = (
        _num(sites["closure_year"], "sites.closure_year") if "closure_year" in sites else np.full(len(sites), np.nan)
    )
    mask = np.zeros(len(sites), dtype=np.int64)
    if params.exclude_polluted_unremediated:
        mask |= np.where(pollution.equals("confirmed"), X_POLLUTED, 0)
    if params.exclude_flood_zone:
        mask |= np.where(flood == 1.0, X_FLOOD, 0)
    if params.exclude_reconverted:
        mask |= np.where(reconverted, X_RECONVERTED, 0)
    mask |= np.where(country_u.is_in(frozenset(params.scope_countries)), 0, X_OUTSIDE_SCOPE)
    if inputs.outlines:  # an island grid far from the mainland: the country's zone does not describe it
        mask |= np.where(mainland_distance_km(country, lon, lat, inputs.outlines) > params.overseas_km, X_OVERSEAS, 0)
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
        area_observed.astype(float)
        + ~pollution.equals("unknown")
        + np.isfinite(flood)
        + ~water.equals("unknown")
        + has_own
    )

    permit, rezoning, remediation, demolition, ready_est, remed_rate = _readiness(
        params, texts.text("zoning_type", str.strip, ""), pollution, texts.text("buildings_state", str.strip, "")
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
    country_raw = texts["country"]
    zone_index = np.array([index.get(str(c), -1) for c in country_raw.values], dtype=np.int64)[country_raw.codes]
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
    cand_point, cand_dist, dense, cut_vertex, cut_dist, cut_line = _geometry(
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
        cut_line=cut_line,
    )
    if cache:
        for value in vars(prepared).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # shared between calls: never modified
        _PREPARED_CACHE[key] = prepared
    return prepared
