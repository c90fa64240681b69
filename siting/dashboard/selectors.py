"""Reads behind the planners' dashboard: a finished run's ranked sites at one cluster size,
filtered, re-weighted, and shaped for the map, the table, the API and the exports.

A finished run never changes (its results are written once, atomically), so its unpacked
tables are cached in the process, keyed by the run and its finish time. Site attributes
(names, départements, withdrawals) can change under a run and are cached briefly.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from grid.models import HeadroomUpload
from grid.selectors import boundary_outlines_forget, known_headroom_provenance
from siting import csv_safe, frames, labels
from siting.models import FormerUse, PollutionStatus, RunInput, RunResult, ScoringRun, Site
from siting.runs.selectors import scoring_inputs_unpack
from siting.scoring import explain, site_ladder, weighted_scores
from siting.scoring.criteria import CRITERIA, CRITERION_NAMES
from siting.scoring.params import ScenarioParams, parameter_table
from siting.sites.selectors import site_attributes, site_attributes_forget, site_attributes_generation

RUN_CACHE_SIZE = 4
"""Finished runs kept unpacked in memory (each ≈ 60 MB for the full dataset × 7 sizes)."""

LADDER_COLUMNS = (
    "site_id",
    "size_h100e",
    "feasible",
    "tco_eur_per_gpu_hour",
    "capex_total_meur",
    "time_to_power_months",
)
"""What ``siting.scoring.site_ladder`` reads to find each site's largest feasible size."""

MAP_SITE_COLUMNS = (
    "site_id",
    "site_name",
    "country",
    "departement_code",
    "region_code",
    "former_use",
    "pollution_status",
    "flood_zone",
    "longitude",
    "latitude",
    "largest_size_h100e",
)
"""Map columns that are the same at every size of a run: what a site is, where, and its largest
feasible size. The map page reads them once per run (``map_sites_json``, 3/4 of the map data's
bytes) and each size's other columns as the planner visits it (``map_data_json`` part ``size``)."""

MAP_SIZE_COLUMNS = (
    "site_id",
    "feasible",
    "score",
    "rank",
    "tco_eur_per_gpu_hour",
    "time_to_power_months",
    "emissions_t_per_yr",
    "exclusion_reasons",
    "rank_shared",
    "site_cost_eur_per_gpu_hour",
    "may_be_unavailable",
    "known_headroom_point_id",
)
"""Map columns that change with the size, with ``site_id`` to join them to ``MAP_SITE_COLUMNS``."""

MAP_COLUMNS = MAP_SITE_COLUMNS + MAP_SIZE_COLUMNS[1:]
"""Columns the map page receives, one array each: what it draws, filters, sorts or shows, nothing
else (see ``map_columns_json`` for their encoding). ``known_headroom_point_id`` is the chosen grid
point where its headroom is a known (uploaded) one, null otherwise; the response's
``known_headroom`` gives each such point's provenance once."""

MAP_PARTS = {"all": MAP_COLUMNS, "size": MAP_SIZE_COLUMNS}
"""What ``map_data_json`` sends: every map column (``all``, for API clients) or the size's own."""

EXPORT_COLUMNS = (
    "rank",
    "rank_shared",
    "score",
    "site_id",
    "external_id",
    "site_name",
    "country",
    "region_code",
    "departement_code",
    "municipality",
    "former_use",
    "longitude",
    "latitude",
    "area_ha",
    "size_h100e",
    "feasible",
    "exclusion_reasons",
    "may_be_unavailable",
    "site_cost_eur_per_gpu_hour",
    "tco_eur_per_gpu_hour",
    "capex_total_meur",
    "time_to_power_months",
    "grid_months",
    "site_months",
    "permit_months",
    "rezoning_months",
    "remediation_months",
    "demolition_months",
    "readiness_estimated",
    "remediation_capex_meur",
    "emissions_t_per_yr",
    "voltage_class_kv",
    "connection_kind",
    "connection_distance_km",
    "connection_cost_meur",
    "delay_cost_meur",
    "own_connection_estimated",
    "headroom_mw",
    "headroom_estimated",
    "headroom_source",
    "pue",
    "facility_load_mw",
    "water_m3_per_yr",
    "land_needed_ha",
    "land_fit",
    "seveso_tier",
    "reliability",
    "largest_size_h100e",
    "mc_rank_p05",
    "mc_rank_median",
    "mc_rank_p95",
    "mc_p_top10",
)
"""Columns of the CSV and GeoJSON exports and of the ranked-sites API, in order."""

ORDERINGS = {
    "rank": ("rank", True),
    "-score": ("score", False),
    "score": ("score", True),
    "tco": ("tco_eur_per_gpu_hour", True),
    "-tco": ("tco_eur_per_gpu_hour", False),
    "site_cost": ("site_cost_eur_per_gpu_hour", True),
    "-site_cost": ("site_cost_eur_per_gpu_hour", False),
    "time_to_power": ("time_to_power_months", True),
    "-time_to_power": ("time_to_power_months", False),
    "emissions": ("emissions_t_per_yr", True),
    "-emissions": ("emissions_t_per_yr", False),
    "name": ("site_name", True),
    "-name": ("site_name", False),
}


class DashboardError(ValueError):
    """A request parameter is wrong; the message names the parameter."""


# --- cached reads ----------------------------------------------------------------------------

_lock = threading.Lock()
_run_cache: OrderedDict[tuple, dict[int, pd.DataFrame]] = OrderedDict()


def run_key(run: ScoringRun) -> tuple:
    """Return what identifies a finished run's results: its id and finish time."""
    return (run.id, run.finished_at.isoformat() if run.finished_at else "")


def run_tables(run: ScoringRun) -> dict[int, pd.DataFrame]:
    """Return size [H100e] → the run's result table at that size (shared, do not modify)."""
    key = run_key(run)
    with _lock:
        if key in _run_cache:
            _run_cache.move_to_end(key)
            return _run_cache[key]
    tables = {
        size: frames.frames_unpack(blob)[0]["table"]
        for size, blob in RunResult.objects.filter(run=run).order_by("size_h100e").values_list("size_h100e", "table")
    }
    if tables:
        columns = list(LADDER_COLUMNS)
        ladder = site_ladder(pd.concat([t[columns] for t in tables.values()], ignore_index=True))
        largest = ladder.set_index("site_id")["largest_size_h100e"].astype(float)
        for table in tables.values():
            table["largest_size_h100e"] = largest.reindex(table["site_id"].to_numpy()).to_numpy()
    with _lock:
        _run_cache[key] = tables
        while len(_run_cache) > RUN_CACHE_SIZE:
            _run_cache.popitem(last=False)
    return tables


def caches_clear() -> None:
    """Forget cached runs, site attributes and boundary outlines (tests; after data changes)."""
    with _lock:
        _run_cache.clear()
        _input_cache.clear()
        _scoring_input_cache.clear()
        _size_cache.clear()
    with _map_lock:
        _map_tables.clear()
        _map_bodies.clear()
        _map_digests.clear()
    boundary_outlines_forget()
    site_attributes_forget()


def run_assumptions(run: ScoringRun) -> list[dict[str, Any]]:
    """Return the run's parameters that are labelled assumptions, with value, unit and source."""

    return [p for p in parameter_table(ScenarioParams.from_dict(run.params)) if p["assumption"]]


def latest_run() -> ScoringRun | None:
    """Return the most recent succeeded run, if any."""
    return ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-finished_at").first()


def run_sizes(run: ScoringRun) -> list[int]:
    """Return the cluster sizes [H100e] the run has results for, smallest first."""
    return list(RunResult.objects.filter(run=run).order_by("size_h100e").values_list("size_h100e", flat=True))


_size_cache: OrderedDict[tuple, pd.DataFrame] = OrderedDict()


def size_frame(run: ScoringRun, size_h100e: int) -> pd.DataFrame:
    """Return the run's results at one size joined with the sites' attributes.

    Shared and cached: callers must not modify it (the helpers below return new frames).
    """
    attrs = site_attributes()
    generation = site_attributes_generation()
    key = (*run_key(run), size_h100e, generation)
    with _lock:
        if key in _size_cache:
            _size_cache.move_to_end(key)
            return _size_cache[key]
    frame = _size_frame_build(run, size_h100e, attrs)
    with _lock:
        _size_cache[key] = frame
        while len(_size_cache) > 2 * RUN_CACHE_SIZE:
            _size_cache.popitem(last=False)
    return frame


def _size_frame_build(run: ScoringRun, size_h100e: int, attrs: pd.DataFrame) -> pd.DataFrame:
    tables = run_tables(run)
    if size_h100e not in tables:
        sizes = ", ".join(f"{s}" for s in sorted(tables)) or "none"
        raise DashboardError(f"size: {size_h100e} is not a size of this run (sizes: {sizes})")
    table = tables[size_h100e]
    joined = attrs.reindex(table["site_id"].to_numpy())
    out = table.copy()
    for column in attrs.columns:
        out[column] = joined[column].to_numpy()
    # A site deleted since the run keeps its row, named by its id.
    out["site_name"] = out["site_name"].where(out["site_name"].notna(), "#" + out["site_id"].astype(str))
    if "rank_shared" not in out.columns:  # a run from before shared ranks: derive them from the ranks
        out["rank_shared"] = shared_ranks(out["rank"].to_numpy(dtype=np.float64))
    return out


def shared_ranks(rank: np.ndarray) -> np.ndarray:
    """Return which rows hold a rank that another row holds too (equal scores share a rank: 1, 1, 3).

    Parameters
    ----------
    rank : float64[n]
        Ranks of one size, NaN where a site is excluded. [-]
    """
    rank = np.asarray(rank, dtype=np.float64)
    out = np.zeros(len(rank), dtype=bool)
    finite = np.isfinite(rank)
    values, counts = np.unique(rank[finite], return_counts=True)
    out[finite] = np.isin(rank[finite], values[counts > 1])
    return out


def rank_text(rank: Any, shared: Any = False) -> str:
    """Return a rank as shown everywhere: "3", "=3" when another site shares it, "–" when there is none."""
    if rank is None:
        return "–"
    try:
        value = float(rank)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(value):
        return "–"
    return f"{'=' if bool(shared) else ''}{int(round(value))}"


# --- filters, weights, ordering --------------------------------------------------------------


def size_param(
    query, run_sizes: Callable[[], Sequence[int]], *, preferred: int | None = None, known: bool = False
) -> int:
    """Return the ``size`` parameter [H100e] of a request's query: the one parser of a cluster size.

    Used by the API (ranked views, pages of ranked sites, map data, re-weighting, one site) and by
    the pages (ranked map, site page, the PDF's site selection), which answer its error with 404.
    Digits may be grouped with ``_``. Absent, it is ``preferred`` when that is one of
    ``run_sizes()``, else the smallest of them. With ``known``, a size the run has no results for
    is refused here (the API finds that out when it reads the results, with the run's sizes in
    the message). ``run_sizes`` is called only when needed, so a caller holding cached sizes
    passes its cached reader and one without pays no query for a given size.

    Raises
    ------
    DashboardError
        ``"size: <reason>"``: not a whole number, not a size of the run (``known``), or no size
        to default to.
    """
    raw = (query.get("size") or "").strip()
    if not raw:
        sizes = run_sizes()
        if not sizes:
            raise DashboardError("size: this run has no results")
        return int(preferred) if preferred is not None and preferred in sizes else int(sizes[0])
    try:
        size = int(raw.replace("_", ""))
    except ValueError:
        raise DashboardError(f"size: {raw!r} is not a whole number of H100e") from None
    if known and size not in run_sizes():
        raise DashboardError(f"size: {size} is not a size of this run")
    return size


def float_param(query, name: str) -> float | None:
    """Return request parameter ``name`` as a finite float (a decimal comma is accepted), or None if empty."""
    raw = (query.get(name) or "").strip().replace(",", ".")
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise DashboardError(f"{name}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise DashboardError(f"{name}: must be a finite number")
    return value


def _list_param(query, name: str) -> tuple[str, ...]:
    values = query.getlist(name) if hasattr(query, "getlist") else ([query[name]] if name in query else [])
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return tuple(out)


def _bool_param(query, name: str) -> bool:
    raw = (query.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise DashboardError(f"{name}: {raw!r} is not a yes/no value (use 1 or 0)")


@dataclass(frozen=True)
class SiteFilters:
    """What the planner narrows the ranking to. Empty tuples and ``None`` mean "any"."""

    country: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    departement: tuple[str, ...] = ()
    former_use: tuple[str, ...] = ()
    min_score: float | None = None
    max_time_to_power_months: float | None = None
    hide_polluted: bool = False
    hide_flood_zone: bool = False
    include_excluded: bool = False

    @classmethod
    def from_query(cls, query) -> SiteFilters:
        """Parse request parameters (a QueryDict or a plain dict); raise DashboardError naming the bad one."""
        uses = _list_param(query, "former_use")
        unknown = [u for u in uses if u not in FormerUse.values]
        if unknown:
            raise DashboardError(f"former_use: unknown value(s) {', '.join(unknown)}")
        min_score = float_param(query, "min_score")
        if min_score is not None and not 0 <= min_score <= 100:
            raise DashboardError("min_score: between 0 and 100")
        max_ttp = float_param(query, "max_time_to_power_months")
        if max_ttp is not None and max_ttp <= 0:
            raise DashboardError("max_time_to_power_months: must be positive")
        return cls(
            country=tuple(c.upper() for c in _list_param(query, "country")),
            region=_list_param(query, "region"),
            departement=_list_param(query, "departement"),
            former_use=uses,
            min_score=min_score,
            max_time_to_power_months=max_ttp,
            hide_polluted=_bool_param(query, "hide_polluted"),
            hide_flood_zone=_bool_param(query, "hide_flood_zone"),
            include_excluded=_bool_param(query, "include_excluded"),
        )


def filter_mask(frame: pd.DataFrame, filters: SiteFilters, score: np.ndarray | None = None) -> np.ndarray:
    """Return which rows of ``frame`` pass ``filters`` (the map page applies the same rules).

    ``score`` replaces the frame's scores (after a re-weighting).
    """
    keep = np.ones(len(frame), dtype=bool)
    feasible = frame["feasible"].to_numpy(dtype=bool)
    score = frame["score"].to_numpy(dtype=float) if score is None else score
    if not filters.include_excluded:
        keep &= feasible
    if filters.country:
        keep &= frame["country"].isin(filters.country).to_numpy()
    if filters.region:
        keep &= frame["region_code"].isin(filters.region).to_numpy()
    if filters.departement:
        keep &= frame["departement_code"].isin(filters.departement).to_numpy()
    if filters.former_use:
        keep &= frame["former_use"].isin(filters.former_use).to_numpy()
    if filters.min_score is not None:
        keep &= ~feasible | (score >= filters.min_score)
    if filters.max_time_to_power_months is not None:
        keep &= ~feasible | (frame["time_to_power_months"].to_numpy(dtype=float) <= filters.max_time_to_power_months)
    if filters.hide_polluted:
        keep &= (frame["pollution_status"] != PollutionStatus.CONFIRMED).to_numpy()
    if filters.hide_flood_zone:
        keep &= frame["flood_zone"].to_numpy(dtype=float) != 1.0
    keep &= ~frame["withdrawn"].fillna(False).to_numpy(dtype=bool)
    return keep


def weights_from_query(query, defaults: dict[str, float]) -> dict[str, float] | None:
    """Return criterion weights given as ``w_<criterion>`` parameters, or None if none given.

    Missing criteria keep their default weight; weights are normalised by the scoring.
    """
    given = {name: float_param(query, f"w_{name}") for name in CRITERION_NAMES}
    if all(v is None for v in given.values()):
        return None
    weights = {name: (defaults.get(name, 0.0) if v is None else v) for name, v in given.items()}
    if any(v < 0 for v in weights.values()):
        raise DashboardError("weights: every w_<criterion> must be 0 or more")
    if sum(weights.values()) <= 0:
        raise DashboardError("weights: at least one w_<criterion> must be positive")
    return weights


def reweight_scores(frame: pd.DataFrame, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Return (score [0–100], rank) of every row of one size's frame under new weights
    (``siting.scoring.weighted_scores``: the run stored each site's normalised criteria, so a
    new weighting is a weighted sum and a re-ranking, no job)."""
    return weighted_scores(
        frame[[f"v_{c}" for c in CRITERION_NAMES]].to_numpy(dtype=np.float64),
        frame["feasible"].to_numpy(dtype=np.float64),
        frame["site_id"].to_numpy(dtype=np.float64),
        weights,
    )


def order_positions(
    frame: pd.DataFrame,
    positions: np.ndarray,
    order: str,
    score: np.ndarray | None = None,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``positions`` (row numbers of ``frame``) sorted by one of ``ORDERINGS``.

    Unranked or missing values come last; ties go by site id. ``score`` and ``rank`` replace
    the frame's own (after a re-weighting). Sorts row numbers, never copies the frame.
    """
    if order not in ORDERINGS:
        raise DashboardError(f"order: one of {', '.join(ORDERINGS)}")
    column, ascending = ORDERINGS[order]
    values = {"score": score, "rank": rank}.get(column)
    if values is None:
        # A column an older run lacks sorts as missing everywhere (by site id).
        values = frame[column].to_numpy() if column in frame.columns else np.full(len(frame), np.nan)
    values = values[positions]
    ids = frame["site_id"].to_numpy()[positions]
    if column == "site_name":
        text = np.array(["" if v is None else str(v) for v in values], dtype=str)
        order_idx = np.lexsort((ids, text))
        if not ascending:
            # Descending names, ties still by ascending id: sort by the reversed rank of the text.
            _, inverse = np.unique(text, return_inverse=True)
            order_idx = np.lexsort((ids, -inverse))
        return positions[order_idx]
    numeric = values.astype(np.float64)
    missing = ~np.isfinite(numeric)
    key = np.where(missing, 0.0, numeric if ascending else -numeric)
    return positions[np.lexsort((ids, key, missing))]


def order_frame(frame: pd.DataFrame, order: str) -> pd.DataFrame:
    """Return ``frame`` sorted by one of ``ORDERINGS`` (unranked rows last, then by site id)."""
    return frame.iloc[order_positions(frame, np.arange(len(frame)), order)]


@dataclass
class RankedView:
    """One page of ranked sites and what it was cut from."""

    frame: pd.DataFrame
    total: int
    page: int
    page_size: int
    weights: dict[str, float] | None = field(default=None)


def ranked_view(run: ScoringRun, query) -> RankedView:
    """Return the filtered, re-weighted and ordered sites of a run for an API or export query.

    Parameters (all optional but ``size``): ``size`` [H100e]; filters of :class:`SiteFilters`;
    ``w_<criterion>``; ``order`` (``rank`` by default); ``page`` (1-based) and ``page_size``
    (0 = all rows, for exports).
    """
    size = size_param(query, lambda: run_sizes(run))
    frame = size_frame(run, size)
    weights = weights_from_query(query, run.params.get("weights", {}))
    score, rank = reweight_scores(frame, weights) if weights is not None else (None, None)
    filters = SiteFilters.from_query(query)
    order = (query.get("order") or "rank").strip()
    page_size = int(float_param(query, "page_size") or 0)
    page = int(float_param(query, "page") or 1)
    if page_size < 0 or page_size > 100_000 or page < 1:
        raise DashboardError("page/page_size: page ≥ 1 and 0 ≤ page_size ≤ 100000")
    # Filter and sort row numbers; copy only the rows of the page.
    positions = np.flatnonzero(filter_mask(frame, filters, score))
    positions = order_positions(frame, positions, order, score, rank)
    total = len(positions)
    if page_size:
        positions = positions[(page - 1) * page_size : page * page_size]
    out = frame.iloc[positions].copy()
    if weights is not None:
        out["score"], out["rank"] = score[positions], rank[positions]  # type: ignore[index]
        out["rank_shared"] = shared_ranks(rank)[positions]  # type: ignore[arg-type]
    return RankedView(frame=out, total=total, page=page, page_size=page_size, weights=weights)


# --- shapes for JSON, GeoJSON and CSV --------------------------------------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def records(frame: pd.DataFrame, columns: tuple[str, ...] = EXPORT_COLUMNS) -> list[dict[str, Any]]:
    """Return rows as JSON-safe dicts (NaN → null) with the given columns that exist."""
    present = [c for c in columns if c in frame.columns]
    return [{c: _clean(v) for c, v in zip(present, row)} for row in frame[present].itertuples(index=False, name=None)]


def row_record(table: pd.DataFrame, site_id: int) -> dict[str, Any] | None:
    """Return one site's row of a result table as a JSON-safe dict (tables are sorted by site id)."""
    ids = table["site_id"].to_numpy()
    pos = int(np.searchsorted(ids, site_id))
    if pos >= len(ids) or ids[pos] != site_id:
        return None
    return {column: _clean(table[column].to_numpy()[pos]) for column in table.columns}


def geojson(frame: pd.DataFrame) -> dict[str, Any]:
    """Return the rows as a GeoJSON FeatureCollection of points (WGS84 longitude/latitude)."""
    features = []
    for rec in records(frame):
        lon, lat = rec.get("longitude"), rec.get("latitude")
        # A site deleted since the run has no position: a feature without geometry, as GeoJSON allows.
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None and lat is not None else None
        features.append({"type": "Feature", "id": rec["site_id"], "geometry": geometry, "properties": rec})
    return {"type": "FeatureCollection", "features": features}


def csv_text(frame: pd.DataFrame) -> str:
    """Return the rows as CSV text with the export columns."""
    present = [c for c in EXPORT_COLUMNS if c in frame.columns]
    return csv_safe.frame_csv(frame[present], float_format="%.10g")  # type: ignore[return-value]


def json_array(values: Any, digits: int | None = None) -> str:
    """Return a JSON array of ``values`` (numbers rounded to ``digits``; NaN → null), built in C."""
    series = pd.Series(values)
    if digits is not None:
        series = series.astype(np.float64).round(digits)
    return series.to_json(orient="values", double_precision=min(max(digits or 0, 1), 15) if digits is not None else 15)


MAP_DIGITS = {
    "longitude": 4,
    "latitude": 4,
    "score": 3,
    "rank": 0,
    "tco_eur_per_gpu_hour": 3,
    "time_to_power_months": 2,
    "emissions_t_per_yr": 0,
    "largest_size_h100e": 0,
    "flood_zone": 0,
    "site_cost_eur_per_gpu_hour": 3,
    "known_headroom_point_id": 0,
}
"""Decimals kept per numeric map column: one more than the page shows (the table shows costs to
2 decimals, scores to 1, months and tonnes to 0), and 4 for positions (about 11 m). Rounding
never moves a site across one of the page's filter thresholds, see ``_map_numbers``."""

MAP_CODED = (
    "country",
    "departement_code",
    "region_code",
    "former_use",
    "pollution_status",
    "exclusion_reasons",
    "feasible",
    "rank_shared",
    "may_be_unavailable",
)
"""Map columns of few distinct values, sent as a code table: ``codes[column]`` lists the distinct
values and the column holds each site's index into it (null for no value)."""

_MAP_FLAGS = frozenset({"feasible", "rank_shared", "may_be_unavailable"})


def _json_ints(values: np.ndarray) -> str:
    """Return a JSON array of whole numbers (NaN → null), without a decimal point."""
    return pd.Series(values, dtype=np.float64).astype("Int64").to_json(orient="values")


def _map_numbers(column: str, values: np.ndarray) -> np.ndarray:
    """Return one numeric map column rounded to ``MAP_DIGITS``, keeping the page's filters exact.

    The page keeps sites with ``score >= min_score`` (a whole number: the slider's step) and
    ``time_to_power_months <= max`` (a number typed in months): a score just under a whole
    number that would round up onto it is sent as that number less half a step of the last
    decimal (59.9996 → 59.9995, not 60.0), and times to power are rounded up, so the browser
    keeps exactly the sites the server's filters and exports keep.
    """
    digits = MAP_DIGITS[column]
    if column == "time_to_power_months":
        scale = 10.0**digits
        up = np.ceil(values * scale) / scale
        return np.where(up < values, up + 1 / scale, up)  # a product rounded down by the float
    out = np.round(values, digits)
    if column == "score":
        whole = np.floor(out)
        out = np.where((out == whole) & (values < whole), whole - 0.5 * 10.0**-digits, out)
    return out


def _map_codes(column: str, series: pd.Series) -> tuple[str, str]:
    """Return a coded map column as (JSON code table, JSON array of codes)."""
    if column in _MAP_FLAGS:
        codes, uniques = pd.factorize(series.fillna(False).to_numpy(dtype=bool), sort=True)
        return json.dumps([bool(u) for u in uniques]), _json_ints(codes)
    values = series.astype(str).where(series.notna(), None).to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, sort=True)  # null → -1
    return json.dumps(list(uniques), ensure_ascii=False), _json_ints(np.where(codes < 0, np.nan, codes))


def map_columns_json(frame: pd.DataFrame, columns: tuple[str, ...] = MAP_COLUMNS) -> tuple[str, str]:
    """Return the map page's data as JSON objects (columns, codes).

    ``columns`` has one array per column named (by default ``MAP_COLUMNS``), in the frame's order; numbers are rounded
    to ``MAP_DIGITS`` and whole numbers have no decimal point; the columns of ``MAP_CODED`` hold
    indices into ``codes[column]``, their code table. Null is null everywhere (a column an older
    run lacks is all null).
    """
    parts, tables = [], []
    for column in columns:
        if column not in frame.columns:  # a column an older run lacks: nulls, shown as nothing
            body = _json_ints(np.full(len(frame), np.nan))
        elif column in MAP_CODED:
            table, body = _map_codes(column, frame[column])
            tables.append(f'"{column}":{table}')
        elif column == "site_id":
            body = json_array(frame[column].to_numpy(dtype=np.int64))
        elif column in MAP_DIGITS:
            values = _map_numbers(column, frame[column].to_numpy(dtype=np.float64))
            digits = MAP_DIGITS[column]
            # 4 decimals for scores: a score just under a whole number is sent to half a step.
            body = _json_ints(values) if digits == 0 else json_array(values, digits + (column == "score"))
        else:
            body = json.dumps(frame[column].where(frame[column].notna(), None).tolist(), ensure_ascii=False)
        parts.append(f'"{column}":{body}')
    return "{" + ",".join(parts) + "}", "{" + ",".join(tables) + "}"


MAP_TABLE_COLUMNS = frozenset(MAP_COLUMNS) | {"headroom_source", "connection_point_id"}
"""Result columns the map reads of its size (the rest of a run's 70-odd columns stay packed)."""

MAP_DATA_VERSION = "4"
"""Part of the map data's ETag: bump it when the body's shape changes."""

_map_lock = threading.Lock()
_map_tables: OrderedDict[tuple, Any] = OrderedDict()  # size tables and each run's largest sizes
_map_bodies: OrderedDict[str, str] = OrderedDict()
_map_digests: dict[int, str] = {}


def _map_size_table(run: ScoringRun, size_h100e: int) -> pd.DataFrame:
    """Return the result columns the map shows at one size (shared, do not modify).

    A run already unpacked in this process is read from memory; otherwise only the map's
    columns of that size are decompressed (a fraction of unpacking the whole run, which the
    first map request of a web process used to wait for).
    """
    key = run_key(run)
    with _lock:
        tables = _run_cache.get(key)
    if tables is not None:
        if size_h100e not in tables:
            raise DashboardError(f"size: {size_h100e} is not a size of this run")
        return tables[size_h100e]
    with _map_lock:
        if key + (size_h100e,) in _map_tables:
            return _map_tables[key + (size_h100e,)]
    blob = RunResult.objects.filter(run=run, size_h100e=size_h100e).values_list("table", flat=True).first()
    if blob is None:
        sizes = ", ".join(f"{s}" for s in run_sizes(run)) or "none"
        raise DashboardError(f"size: {size_h100e} is not a size of this run (sizes: {sizes})")
    table = frames.frames_unpack(blob, columns=set(MAP_TABLE_COLUMNS))[0]["table"]
    _map_remember(key + (size_h100e,), table)
    return table


def _map_largest(run: ScoringRun) -> pd.Series:
    """Return each site's largest feasible size of the run [H100e], indexed by site id (every
    site the run scored), from the ladder's columns of every size (shared, do not modify)."""
    key = run_key(run)
    with _lock:
        tables = _run_cache.get(key)
    if tables:  # unpacked by run_tables, which adds the column to every size
        table = next(iter(tables.values()))
        return pd.Series(table["largest_size_h100e"].to_numpy(), index=table["site_id"].to_numpy(), dtype=float)
    with _map_lock:
        if key + ("largest",) in _map_tables:
            return _map_tables[key + ("largest",)]
    blobs = RunResult.objects.filter(run=run).values_list("table", flat=True)
    ladder = site_ladder(
        pd.concat(
            [frames.frames_unpack(blob, columns=set(LADDER_COLUMNS))[0]["table"] for blob in blobs],
            ignore_index=True,
        )
    )
    largest = ladder.set_index("site_id")["largest_size_h100e"].astype(float).sort_index()
    _map_remember(key + ("largest",), largest)
    return largest


def _map_remember(key: tuple, value: Any) -> None:
    with _map_lock:
        _map_tables[key] = value
        while len(_map_tables) > 3 * RUN_CACHE_SIZE:
            _map_tables.popitem(last=False)


def _map_table(run: ScoringRun, size_h100e: int) -> pd.DataFrame:
    """Return the result columns the map shows at one size, with each site's largest feasible size."""
    table = _map_size_table(run, size_h100e)
    if "largest_size_h100e" in table.columns:
        return table.copy()
    largest = _map_largest(run)
    table = table.copy()
    table["largest_size_h100e"] = largest.reindex(table["site_id"].to_numpy()).to_numpy()
    return table


def _sites_digest() -> str:
    """Return a digest of what the map shows of the sites and of known headrooms' provenance.

    Computed once per reload of the site attributes; the same in every web process when the
    data are the same, so an ETag built on it holds across processes.
    """

    attrs = site_attributes()
    generation = site_attributes_generation()
    digest = _map_digests.get(generation)
    if digest is None:
        h = hashlib.sha1(pd.util.hash_pandas_object(attrs, index=True).to_numpy().tobytes())
        uploads = HeadroomUpload.objects.filter(status=HeadroomUpload.Status.IMPORTED).order_by("id")
        h.update(repr(list(uploads.values_list("id", flat=True))).encode())
        digest = h.hexdigest()
        _map_digests.clear()
        _map_digests[generation] = digest
    return digest


def map_data_etag(run: ScoringRun, size_h100e: int | None, part: str = "all") -> str:
    """Return the ETag of the map data of ``run`` at one size and part, or of its sites
    (``size_h100e`` None): run, size, part, sites, format."""
    finished = run.finished_at.isoformat() if run.finished_at else ""
    key = f"{MAP_DATA_VERSION}|{run.code}|{finished}|{size_h100e}|{part}|{_sites_digest()}"
    return '"' + hashlib.sha1(key.encode()).hexdigest()[:20] + '"'


def _map_cached(etag: str, build: Callable[[], str]) -> str:
    """Return the body of ``etag`` from this process's cache, or build and keep it."""
    with _map_lock:
        if etag in _map_bodies:
            return _map_bodies[etag]
    body = build()
    with _map_lock:
        _map_bodies[etag] = body
        while len(_map_bodies) > 3 * RUN_CACHE_SIZE:
            _map_bodies.popitem(last=False)
    return body


def _map_present(frame: pd.DataFrame, attrs: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``frame`` whose site is not withdrawn (a site deleted since is kept)."""
    withdrawn = attrs["withdrawn"].reindex(frame["site_id"].to_numpy()).fillna(False).to_numpy(dtype=bool)
    return frame[~withdrawn]


def map_sites_json(run: ScoringRun, etag: str) -> str:
    """Return the map page's site columns (``MAP_SITE_COLUMNS``) of every present site the run
    scored, in site id order: what does not change with the size, read once per run. Cached
    per ETag (``map_data_etag(run, None, "sites")``)."""

    def build() -> str:
        attrs = site_attributes()
        largest = _map_largest(run)
        frame = pd.DataFrame({"site_id": largest.index.to_numpy(dtype=np.int64)})
        frame["largest_size_h100e"] = largest.to_numpy()
        frame = _map_site_attributes(_map_present(frame, attrs), attrs)
        columns, codes = map_columns_json(frame, MAP_SITE_COLUMNS)
        return f'{{"run":"{run.code}","columns":{columns},"codes":{codes}}}'

    return _map_cached(etag, build)


def _map_site_attributes(frame: pd.DataFrame, attrs: pd.DataFrame) -> pd.DataFrame:
    """Add each site's descriptive columns to ``frame`` (a frame of the caller's own) and return
    it; a site without a name shows its id."""
    joined = attrs.reindex(frame["site_id"].to_numpy())
    for column in MAP_SITE_COLUMNS:
        if column in joined.columns:
            frame[column] = joined[column].to_numpy()
    frame["site_name"] = frame["site_name"].where(frame["site_name"].notna(), "#" + frame["site_id"].astype(str))
    return frame


def map_data_json(run: ScoringRun, size_h100e: int, etag: str, part: str = "all") -> str:
    """Return the map page's JSON for one size: every present site ordered by rank, as columns
    (``MAP_PARTS[part]``: every map column, or only those that change with the size), and
    ``known_headroom``: point id → provenance of its known headroom (MW, as of, source, upload),
    one batched query for every site whose chosen point has one. Cached per ETag."""
    if part not in MAP_PARTS:
        raise DashboardError(f"part: {part!r} is not one of {', '.join(MAP_PARTS)}")

    def build() -> str:
        attrs = site_attributes()
        frame = _map_table(run, size_h100e) if part == "all" else _map_size_table(run, size_h100e).copy()
        if part == "all":
            frame = _map_site_attributes(frame, attrs)
        if "rank_shared" not in frame.columns:  # a run from before shared ranks
            frame["rank_shared"] = shared_ranks(frame["rank"].to_numpy(dtype=np.float64))
        frame = _map_present(order_frame(frame, "rank"), attrs)
        known: dict[str, Any] = {}
        if "headroom_source" in frame.columns and "connection_point_id" in frame.columns:
            point = frame["connection_point_id"].to_numpy(dtype=np.float64)
            is_known = (
                (frame["headroom_source"].fillna("").astype(str).to_numpy() == "known")
                & np.isfinite(point)
                & (point >= 0)
            )
            frame["known_headroom_point_id"] = np.where(is_known, point, np.nan)
            if is_known.any():
                for pid, p in known_headroom_provenance(sorted({int(x) for x in point[is_known]})).items():
                    known[str(pid)] = {
                        "headroom_mw": None if p["headroom_mw"] is None else round(float(p["headroom_mw"]), 1),
                        "as_of": p["as_of"].isoformat() if p["as_of"] else None,
                        "source": p["source"],
                        "upload": p["upload"],
                    }
        columns, codes = map_columns_json(frame, MAP_PARTS[part])
        return (
            f'{{"run":"{run.code}","size_h100e":{size_h100e},"part":"{part}",'
            f'"known_headroom":{json.dumps(known, ensure_ascii=False)},"columns":{columns},"codes":{codes}}}'
        )

    return _map_cached(etag, build)


def criterion_table(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Return each criterion with its label, unit, direction, bounds and the run's weight.

    ``weight`` is the criterion's share of the run's weights (they sum to 1, as scoring
    normalises them), so sliders from 0 to 1 can show any scenario's weights.
    """
    weights = {name: float(params.get("weights", {}).get(name, c.default_weight)) for name, c in CRITERIA.items()}
    total = sum(weights.values())
    bounds = {name: criterion_bounds(params, name) for name in CRITERIA}
    return [
        {
            "name": name,
            "label": criterion_label(name),
            "unit": c.unit,
            "higher_is_better": c.higher_is_better,
            "worst": bounds[name][0],
            "best": bounds[name][1],
            "weight": weights[name] / total if total > 0 else 0.0,
            "note": c.note,
            "tooltip": str(labels.CRITERIA[name].tooltip) if name in labels.CRITERIA else "",
        }
        for name, c in CRITERIA.items()
    ]


def criterion_bounds(params: dict[str, Any], name: str) -> tuple[float, float]:
    """Return (worst, best) of a criterion in a run's scenario (the criteria table's defaults
    where the scenario has no bounds of its own)."""

    try:
        scenario = ScenarioParams.from_dict(params)
    except (TypeError, ValueError):
        scenario = None
    if scenario is not None and hasattr(scenario, "criterion_bounds"):
        return scenario.criterion_bounds(name)
    return CRITERIA[name].worst, CRITERIA[name].best


def criterion_label(name: str) -> str:
    """Return a criterion's translated label (its code name if it has none yet)."""
    entry = labels.CRITERIA.get(name)
    return str(entry.label) if entry is not None else name.replace("_", " ")


def exclusion_labels(codes: str) -> list[str]:
    """Return the translated reasons of a ``;``-joined exclusion code text."""
    return [exclusion_label(code) for code in (codes or "").split(";") if code]


def connection_label(kind: str) -> str:
    """Return a connection kind as the site page names it (the kind if it has no label)."""
    entry = labels.CONNECTIONS.get(kind)
    return str(entry.label) if entry is not None else kind


def exclusion_label(code: str) -> str:
    """Return an exclusion code's translated reason as the pages show it (the code if it has none)."""
    entry = labels.EXCLUSIONS.get(code)
    return str(entry.label) if entry is not None else code


# --- one site ------------------------------------------------------------------------------

_input_cache: OrderedDict[int, dict[str, pd.DataFrame]] = OrderedDict()


def run_inputs(run: ScoringRun) -> dict[str, pd.DataFrame]:
    """Return the run's input frames (``sites``, ``grid``, ``zones``) exactly as it saw them."""

    with _lock:
        if run.id in _input_cache:
            return _input_cache[run.id]
    payload = RunInput.objects.filter(run=run).values_list("payload", flat=True).first()
    inputs = frames.frames_unpack(bytes(payload))[0] if payload is not None else {}
    inputs.setdefault("grid", pd.DataFrame(columns=["point_id", "longitude", "latitude", "voltage_kv", "headroom_mw"]))
    inputs.setdefault(
        "sites", pd.DataFrame(columns=["site_id", "longitude", "latitude", "area_ha", "pollution_status", "flood_zone"])
    )
    with _lock:
        _input_cache[run.id] = inputs
        while len(_input_cache) > RUN_CACHE_SIZE:
            _input_cache.popitem(last=False)
    return inputs


_scoring_input_cache: OrderedDict[int, Any] = OrderedDict()


def run_scoring_inputs(run: ScoringRun) -> Any | None:
    """Return the run's whole input snapshot as the engine's ``ScoringInputs`` (lines and
    outlines included), or None when the run kept none."""

    with _lock:
        if run.id in _scoring_input_cache:
            return _scoring_input_cache[run.id]
    payload = RunInput.objects.filter(run=run).values_list("payload", flat=True).first()
    inputs = scoring_inputs_unpack(*frames.frames_unpack(bytes(payload))) if payload is not None else None
    with _lock:
        _scoring_input_cache[run.id] = inputs
        while len(_scoring_input_cache) > RUN_CACHE_SIZE:
            _scoring_input_cache.popitem(last=False)
    return inputs


def _connection_options(
    run: ScoringRun,
    params: Any,
    site_id: int,
    size_h100e: int,
    seen: dict[str, Any],
    row: dict[str, Any],
    grid: pd.DataFrame,
) -> list[Any]:
    """Return every connection option of a site (own, new lines, cut-in) with the engine's choice
    marked, from the run's snapshot; a run whose snapshot the engine cannot read again (older
    columns) gets the new-line candidates only."""

    if hasattr(explain, "site_connection_options"):
        inputs = run_scoring_inputs(run)
        if inputs is not None and "site_id" in inputs.sites.columns and (inputs.sites["site_id"] == site_id).any():
            try:
                return explain.site_connection_options(params, inputs, site_id, size_h100e)
            except (KeyError, ValueError):
                pass  # a snapshot from before the engine's current inputs
    return explain.connection_options(params, seen["longitude"], seen["latitude"], float(row["facility_load_mw"]), grid)


@dataclass
class SiteDetail:
    """Everything the site page shows for one site of one run at one size."""

    site: Site
    size_h100e: int
    row: dict[str, Any] | None  # the run's result at this size (None: the site was not in the run)
    ladder: list[dict[str, Any]]  # one row per size of the run
    breakdown: list[dict[str, Any]]  # per criterion: value, weight, points
    options: list[Any]  # ConnectionOption, nearest first
    chosen_point_id: int | None
    reasons: list[str]
    estimated_inputs: list[str]
    assumptions: list[dict[str, Any]]
    n_ranked: int
    rank_label: str = "–"  # "3", or "=3" when another site has the same score
    readiness: dict[str, Any] | None = None  # site-readiness months, see readiness_explained
    connection: dict[str, Any] | None = None  # the chosen connection and why, see connection_explained
    flags: list[str] = field(default_factory=list)  # e.g. "may be unavailable"
    known_headroom: dict[str, Any] | None = None  # provenance of a known headroom, see known_headroom_of


READINESS_PARTS = (
    ("permit_months", _("Permits")),
    ("rezoning_months", _("Rezoning (agricultural or natural zone)")),
    ("remediation_months", _("Remediation of confirmed pollution")),
    ("demolition_months", _("Demolition of standing buildings")),
)
"""The parts of the site-readiness months (MODEL.md §2), in the order the site page lists them."""


def _number(row: dict[str, Any], column: str) -> float | None:
    value = row.get(column)
    if value is None or isinstance(value, (str, bool)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def readiness_explained(row: dict[str, Any]) -> dict[str, Any] | None:
    """Return a result row's site-readiness months, part by part, and how they set the time to power.

    None for a run from before site readiness (no ``site_months`` column): nothing is shown.
    """
    site_months = _number(row, "site_months")
    if site_months is None:
        return None
    grid_months = _number(row, "grid_months")
    ttp = _number(row, "time_to_power_months")
    parts = [{"name": column, "label": str(label), "months": _number(row, column)} for column, label in READINESS_PARTS]
    return {
        "site_months": site_months,
        "grid_months": grid_months,
        "time_to_power_months": ttp,
        "parts": [p for p in parts if p["months"] is not None],
        "estimated": bool(row.get("readiness_estimated")),
        "remediation_capex_meur": _number(row, "remediation_capex_meur"),
        # Which side sets the time to power (= the longer of the two).
        "limited_by": "site" if grid_months is None or site_months > grid_months else "grid",
    }


def connection_explained(row: dict[str, Any], discount_rate: float) -> dict[str, Any] | None:
    """Return the chosen connection of a result row: its kind, cost, cost of delay and their sum.

    The model picks the option with the lowest connection cost plus cost of delay (months of
    waiting × capex × discount rate / 12, MODEL.md §2). None when the row has no connection.
    """
    kind = str(row.get("connection_kind") or "")
    if kind in ("", "none"):
        return None
    cost = _number(row, "connection_cost_meur")
    delay = _number(row, "delay_cost_meur")
    runner = str(row.get("runner_up_kind") or "")
    return {
        "runner_up_label": connection_label(runner) if runner not in ("", "none") else "",
        "runner_up_total_meur": _number(row, "runner_up_total_meur") if runner not in ("", "none") else None,
        "kind": kind,
        "label": connection_label(kind),
        "cost_meur": cost,
        "delay_cost_meur": delay,
        "total_meur": cost + delay if cost is not None and delay is not None else None,
        "grid_months": _number(row, "grid_months"),
        "discount_rate": discount_rate,
        "estimated": bool(row.get("own_connection_estimated")) if kind == "own" else False,
    }


def estimated_inputs(row: dict[str, Any] | None, seen: dict[str, Any]) -> list[str]:
    """Return the inputs of a site's result that were estimated or defaulted, as sentences."""
    out = []
    if row is not None:
        source = row.get("headroom_source")
        if source == "estimated":
            out.append(str(_("Headroom of the connection point (network estimate)")))
        elif source == "default" or (source is None and row.get("headroom_estimated")):
            out.append(str(_("Headroom of the connection point (class default)")))
        if row.get("own_connection_estimated") and row.get("connection_kind") == "own":
            out.append(
                str(_("Capacity of the site's own connection (a former export right, capped by its voltage class)"))
            )
        if row.get("readiness_estimated"):
            out.append(str(_("Site-readiness months (some parts unknown: the scenario's defaults)")))
        if row.get("zone_data_estimated"):
            out.append(str(_("Carbon, price or climate of the zone (fallback value)")))
    if seen.get("area_ha") is None:
        out.append(str(_("Site area (unknown: land counts as just enough)")))
    elif seen.get("area_estimated"):
        out.append(str(_("Site area (the land unit of an unverified candidate, not a surveyed site)")))
    if (seen.get("pollution_status") or PollutionStatus.UNKNOWN) == PollutionStatus.UNKNOWN:
        out.append(str(_("Pollution status (unknown)")))
    if seen.get("flood_zone") is None:
        out.append(str(_("Flood zone (unknown)")))
    return out


def site_flags(row: dict[str, Any] | None) -> list[str]:
    """Return the warnings shown beside a site's name (not exclusions)."""
    if row is not None and row.get("may_be_unavailable"):
        return [str(MAY_BE_UNAVAILABLE)]
    return []


MAY_BE_UNAVAILABLE = _("may be unavailable: a project exists on this brownfield")


def known_headroom_of(row: dict[str, Any] | pd.Series | None) -> dict[str, Any] | None:
    """Return where the known headroom of ``row``'s chosen grid point comes from (MW, as of,
    source, upload), or None when the headroom is an estimate, a default or not a point's."""
    if row is None or str(row.get("headroom_source") or "") != "known":
        return None
    point = row.get("connection_point_id")
    if point is None or not np.isfinite(float(point)) or int(point) < 0:
        return None
    return known_headroom_provenance([int(point)]).get(int(point))


def site_detail(run: ScoringRun, site: Site, size_h100e: int) -> SiteDetail:
    """Return the site page's content for ``site`` in ``run`` at ``size_h100e``."""

    tables = run_tables(run)
    if size_h100e not in tables:
        raise DashboardError(f"size: {size_h100e} is not a size of this run")
    params = ScenarioParams.from_dict(run.params)
    ladder, row = [], None
    for size in sorted(tables):
        rec = row_record(tables[size], site.id)
        if rec is None:
            continue
        ladder.append(rec)
        if size == size_h100e:
            row = rec
    breakdown, options, chosen, reasons = [], [], None, []
    n_ranked = int(tables[size_h100e]["feasible"].sum())
    if row is not None:
        weights = {k: float(v) for k, v in params.weights.items()}
        total = sum(weights.values()) or 1.0
        for name in CRITERION_NAMES:
            value = row.get(f"v_{name}")
            w = weights.get(name, 0.0) / total
            c = CRITERIA[name]
            breakdown.append(
                {
                    "name": name,
                    "label": criterion_label(name),
                    "raw": row.get(c.column),
                    "unit": c.unit,
                    "value": value,
                    "weight": w,
                    "points": 100.0 * w * (value or 0.0) if row["feasible"] else None,
                }
            )
    # The site as the run saw it (an upload may have changed it since).
    inputs = run_inputs(run)
    seen = row_record(inputs["sites"], site.id) if len(inputs["sites"]) else None
    seen = seen or {
        "longitude": site.longitude,
        "latitude": site.latitude,
        "area_ha": site.area_ha,
        "pollution_status": site.pollution_status,
        "flood_zone": None if site.flood_zone is None else float(site.flood_zone),
    }
    if row is not None:
        options = _connection_options(run, params, site.id, size_h100e, seen, row, inputs["grid"])
        chosen = row.get("connection_point_id") if (row.get("connection_point_id") or -1) >= 0 else None
        reasons = exclusion_labels(row.get("exclusion_reasons") or "")
    shared = False
    if row is not None:
        shared = row.get("rank_shared")  # type: ignore[assignment]
        if shared is None:  # a run from before shared ranks
            shared = bool(
                shared_ranks(tables[size_h100e]["rank"].to_numpy(dtype=np.float64))[
                    int(np.searchsorted(tables[size_h100e]["site_id"].to_numpy(), site.id))
                ]
            )
    return SiteDetail(
        site=site,
        size_h100e=size_h100e,
        row=row,
        ladder=ladder,
        breakdown=breakdown,
        options=options,
        chosen_point_id=chosen,
        reasons=reasons,
        estimated_inputs=estimated_inputs(row, seen),
        assumptions=run_assumptions(run),
        n_ranked=n_ranked,
        rank_label=rank_text(row.get("rank"), shared) if row is not None and row.get("feasible") else "–",
        readiness=readiness_explained(row) if row is not None else None,
        connection=connection_explained(row, params.discount_rate) if row is not None else None,
        flags=site_flags(row),
        known_headroom=known_headroom_of(row),
    )
