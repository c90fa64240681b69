"""The API's reads of finished runs: compact, cached per process (``siting.dashboard.api``)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from grid.selectors import boundary_outlines
from siting.dashboard import selectors as dashboard
from siting.models import RunResult, ScoringRun, Site
from siting.scoring.criteria import CRITERION_NAMES

# --- the API's reads of finished runs: compact, cached per process -----------------------------
#
# A finished run never changes, so what the API serves from it is cut once per process into
# plain arrays (keyed by the run and its finish time, and by the dashboard's joined frame it was
# cut from, which changes when site attributes are reloaded) and each request only filters,
# orders and slices row numbers. The dashboard's own rules (filters, weights, ordering) apply
# unchanged: they run on a lighter frame whose text columns are categorical.

API_CACHE_SIZE = 16
"""Sizes of finished runs kept as arrays per process (one size of the full dataset ≈ 10 MB)."""
SITE_DETAIL_CACHE_SIZE = 4096
"""Site × size results of finished runs kept per process (a few kB each)."""
REWEIGHT_CACHE_SIZE = 32
"""Re-weighted sizes kept per process as JSON text (≈ 0.4 MB each for the full dataset): a
weighting asked again (another user, back in the browser) costs no scoring and no encoding."""

FILTER_TEXT_COLUMNS = ("country", "region_code", "departement_code", "former_use", "pollution_status")
"""Text columns the filters test with ``isin``/``!=``: categorical in the compact frame (fast)."""

_api_lock = threading.Lock()
_size_arrays: OrderedDict[tuple, SizeArrays] = OrderedDict()
_run_facts: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_site_details: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_reweights: OrderedDict[tuple, tuple[Any, str]] = OrderedDict()


@dataclass(frozen=True)
class SizeArrays:
    """One size of a finished run, joined with the sites' attributes, as arrays.

    ``frame`` is the dashboard's frame these were cut from (its identity is the version);
    ``light`` holds what filtering, re-weighting and ordering read (text as categories);
    ``columns`` the exported columns as NumPy arrays, sliced per page.
    """

    frame: pd.DataFrame
    light: pd.DataFrame
    columns: dict[str, np.ndarray]


@dataclass
class RankedPage:
    """One page of a run's ranked sites, as the ranked-sites API returns it."""

    size_h100e: int
    total: int
    page: int
    page_size: int
    weights: dict[str, float] | None
    sites: list[dict[str, Any]]


def _lru_put(cache: OrderedDict, key: tuple, value: Any, limit: int) -> None:
    with _api_lock:
        cache[key] = value
        while len(cache) > limit:
            cache.popitem(last=False)


def _lru_get(cache: OrderedDict, key: tuple) -> Any | None:
    with _api_lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
        return value


def size_arrays(run, size_h100e: int) -> SizeArrays:
    """Return one size of a finished run as :class:`SizeArrays` (cached; do not modify)."""
    frame = dashboard.size_frame(run, size_h100e)
    key = (*dashboard.run_key(run), size_h100e)
    cached = _lru_get(_size_arrays, key)
    if cached is not None and cached.frame is frame:
        return cached
    light_columns = {
        "site_id",
        "feasible",
        "score",
        "rank",
        "time_to_power_months",
        "flood_zone",
        "withdrawn",
        *FILTER_TEXT_COLUMNS,
        *(f"v_{c}" for c in CRITERION_NAMES),
        *(column for column, _ascending in dashboard.ORDERINGS.values()),
    }
    light = frame[[c for c in frame.columns if c in light_columns]].copy()
    for column in FILTER_TEXT_COLUMNS:
        if column in light.columns:
            light[column] = light[column].astype("category")
    if "withdrawn" in light.columns:
        light["withdrawn"] = light["withdrawn"].fillna(False).to_numpy(dtype=bool)
    columns = {c: frame[c].to_numpy() for c in dashboard.EXPORT_COLUMNS if c in frame.columns}
    arrays = SizeArrays(frame=frame, light=light, columns=columns)
    _lru_put(_size_arrays, key, arrays, API_CACHE_SIZE)
    return arrays


def _column_values(values: np.ndarray) -> list[Any]:
    """Return a column slice as JSON-safe Python values (NaN and infinities → None)."""
    if values.dtype.kind == "f":
        return [v if math.isfinite(v) else None for v in values.tolist()]
    if values.dtype.kind in "biu":
        return values.tolist()
    return [dashboard._clean(v) for v in values]


def rows_records(
    columns: dict[str, np.ndarray], positions: np.ndarray, replaced: dict[str, np.ndarray] | None = None
) -> list[dict[str, Any]]:
    """Return the rows at ``positions`` as dicts of the exported columns, in their order.

    ``replaced`` gives columns (already cut to ``positions``) that replace the run's own.
    Same values as ``dashboard.records`` of the same rows, built column by column.
    """
    replaced = replaced or {}
    names = list(columns)
    cut = [_column_values(replaced[c] if c in replaced else columns[c][positions]) for c in names]
    return [dict(zip(names, row)) for row in zip(*cut)]


def ranked_page(run, query) -> RankedPage:
    """Return the filtered, re-weighted and ordered sites of a finished run, one page.

    Same parameters and result as ``dashboard.ranked_view`` followed by ``dashboard.records``
    (``size``, the filters, ``w_<criterion>``, ``order``, ``page``, ``page_size``), served
    from the run's cached arrays: per request only row numbers are filtered, sorted and cut.
    """
    size = dashboard.size_param(query, lambda: run_sizes(run))
    arrays = size_arrays(run, size)
    light = arrays.light
    weights = dashboard.weights_from_query(query, run.params.get("weights", {}))
    score, rank = dashboard.reweight_scores(light, weights) if weights is not None else (None, None)
    filters = dashboard.SiteFilters.from_query(query)
    order = (query.get("order") or "rank").strip()
    page_size = int(dashboard.float_param(query, "page_size") or 0)
    page = int(dashboard.float_param(query, "page") or 1)
    if page_size < 0 or page_size > 100_000 or page < 1:
        raise dashboard.DashboardError("page/page_size: page ≥ 1 and 0 ≤ page_size ≤ 100000")
    positions = np.flatnonzero(dashboard.filter_mask(light, filters, score))
    positions = dashboard.order_positions(light, positions, order, score, rank)
    total = len(positions)
    if page_size:
        positions = positions[(page - 1) * page_size : page * page_size]
    replaced = None
    if score is not None and rank is not None:  # the weights were re-set
        replaced = {
            "score": score[positions],
            "rank": rank[positions],
            "rank_shared": dashboard.shared_ranks(rank)[positions],
        }
    return RankedPage(
        size_h100e=size,
        total=total,
        page=page,
        page_size=page_size,
        weights=weights,
        sites=rows_records(arrays.columns, positions, replaced),
    )


def run_sizes(run) -> list[int]:
    """Return the sizes [H100e] of a run's results, smallest first (cached once it finished)."""
    return run_results(run)["sizes"]


def run_results(run) -> dict[str, Any]:
    """Return a run's per-size summary rows and sizes (cached per process once it finished).

    One query, and only the small columns: the result tables are large blobs.
    """

    key = dashboard.run_key(run)
    finished = run.status == ScoringRun.Status.SUCCEEDED
    cached = _lru_get(_run_facts, key) if finished else None
    if cached is not None:
        return cached
    rows = [
        {"size_h100e": size, "n_sites": n_sites, "n_feasible": n_feasible, "best_site_id": best, "best_score": score}
        for size, n_sites, n_feasible, best, score in RunResult.objects.filter(run=run)
        .order_by("size_h100e")
        .values_list("size_h100e", "n_sites", "n_feasible", "best_site_id", "best_score")
    ]
    facts = {"results": rows, "sizes": [r["size_h100e"] for r in rows]}
    if finished:
        _lru_put(_run_facts, key, facts, API_CACHE_SIZE)
    return facts


def site_run_detail(run, site: Site, size_h100e: int) -> dict[str, Any]:
    """Return what the site API adds for a finished run at one size: result, ladder, breakdown,
    exclusion reasons, estimated inputs and connection options (cached per process).

    All of it comes from the run's stored results and input snapshot, so it never changes for
    a finished run; the known headroom's provenance is read each time (an upload of headroom
    may be withdrawn meanwhile).
    """
    # The site as it is now stands in for a site the run's snapshot lacks: part of the key.
    key = (
        *dashboard.run_key(run),
        size_h100e,
        site.id,
        site.longitude,
        site.latitude,
        site.area_ha,
        site.pollution_status,
        site.flood_zone,
    )
    tables = dashboard.run_tables(run)  # cached; a new object once the dashboard's caches are cleared
    cached = _lru_get(_site_details, key)
    if cached is None or cached["tables"] is not tables:
        detail = dashboard.site_detail(run, site, size_h100e)
        cached = {
            "tables": tables,
            "result": detail.row,
            "ladder": detail.ladder,
            "breakdown": detail.breakdown,
            "exclusion_reasons": detail.reasons,
            "estimated_inputs": detail.estimated_inputs,
            "connection_options": [dict(o.__dict__, qualifies=o.qualifies) for o in detail.options],
            "chosen_point_id": detail.chosen_point_id,
        }
        _lru_put(_site_details, key, cached, SITE_DETAIL_CACHE_SIZE)
    out = {k: v for k, v in cached.items() if k != "tables"}
    out["known_headroom"] = dashboard.known_headroom_of(cached["result"])
    return out


def reweight_json(run, size_h100e: int, weights: dict[str, float]) -> str:
    """Return ``"site_id":[…],"score":[…],"rank":[…]`` of one size of a finished run under
    ``weights`` (the re-weighting API's arrays; cached per weighting, the ids per size)."""
    tables = dashboard.run_tables(run)
    table = tables.get(size_h100e)
    if table is None:
        raise dashboard.DashboardError(f"size: {size_h100e} is not a size of this run")
    base = (*dashboard.run_key(run), size_h100e)
    key = (*base, tuple(sorted((k, float(v)) for k, v in weights.items())))
    cached = _lru_get(_reweights, key)
    if cached is not None and cached[0] is tables:
        return cached[1]
    ids = _lru_get(_reweights, base)
    if ids is None or ids[0] is not tables:
        ids = (tables, dashboard.json_array(table["site_id"].to_numpy(dtype="int64")))
        _lru_put(_reweights, base, ids, REWEIGHT_CACHE_SIZE)
    score, rank = dashboard.reweight_scores(table, weights)
    text = f'"site_id":{ids[1]},"score":{dashboard.json_array(score, 15)},"rank":{dashboard.json_array(rank, 0)}'
    _lru_put(_reweights, key, (tables, text), REWEIGHT_CACHE_SIZE)
    return text


def api_caches_clear() -> None:
    """Forget the API's cached arrays and details (tests; the dashboard's caches are separate)."""
    with _api_lock:
        _size_arrays.clear()
        _run_facts.clear()
        _site_details.clear()
        _reweights.clear()


def caches_warm() -> int:
    """Read what the first requests of a web process would otherwise wait for: the latest
    finished run at every size (ranked pages, filters, re-weighting: its results unpacked and
    joined to the site attributes), its map's site columns and the country outlines.

    Returns the sizes warmed (0 without a finished run). ``config.wsgi`` calls it on a side
    thread as a web process starts: the first round of 20 API clients after a start otherwise
    waited on these reads (p95 1.06 s, p99 2.23 s against 122 and 135 ms warm, measured here
    2026-11-28).
    """
    run = dashboard.latest_run()
    if run is None:
        return 0
    sizes = run_sizes(run)
    for size in sizes:
        size_arrays(run, size)
    dashboard.map_sites_json(run, dashboard.map_data_etag(run, None, "sites"))
    boundary_outlines("country")
    return len(sizes)
