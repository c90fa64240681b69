"""Choose a set of sites: the portfolio problem as a mixed-integer program, a greedy baseline
beside it, and an explanation when no portfolio exists.

No Django here. The input is a run's result table (one row per site and size, the columns of
``siting.scoring``) joined with each site's ``longitude``, ``latitude``, ``country`` and
``region`` (WGS84 degrees; region may be blank).

Formulation (one binary x[c] per candidate c = (site, size) that is feasible, in the asked
countries, not excluded, and powered by the deadline):

- each site at most once: Σ_{c of site i} x[c] ≤ 1; a site forced in: = 1;
- target: Σ it_load_mw[c] x[c] ≥ target_mw_it, or, per asked size s, Σ_{c at s} x[c] = n_s;
- at most K sites: Σ x[c] ≤ K; per country (region): Σ_{c in it} x[c] ≤ k;
- shared headroom: per grid point (or line cut into), Σ facility_load_mw[c] x[c] ≤ headroom;
- minimum distance: for two sites closer than d, Σ_{c of i} x[c] + Σ_{c of j} x[c] ≤ 1;
- objective: max Σ score[c] x[c], or min Σ capex_total_meur[c] x[c], or min Σ emissions.

Solved by HiGHS through ``scipy.optimize.milp`` (branch and cut; gap and status reported).
Each candidate keeps the connection the engine chose for it alone: a site whose point is
taken by another chosen site is not re-routed to its runner-up option (a limitation, said on
the page).

References
----------
Huangfu, Q. and Hall, J. A. J. (2018), Parallelizing the dual revised simplex method,
Mathematical Programming Computation 10, 119–142 (HiGHS).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from .problem import PortfolioProblem, ProblemError

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) for great-circle distances. [km]"""

CANDIDATE_COLUMNS = (
    "site_id",
    "size_h100e",
    "it_load_mw",
    "facility_load_mw",
    "feasible",
    "time_to_power_months",
    "score",
    "capex_total_meur",
    "tco_eur_per_gpu_hour",
    "emissions_t_per_yr",
    "connection_kind",
    "connection_point_id",
    "headroom_mw",
    "longitude",
    "latitude",
    "country",
)
"""Columns :func:`solve` needs (``connection_line_id``, ``region``, ``site_cost_eur_per_gpu_hour``
and ``headroom_source`` are used where present)."""

SCIPY_STATUS = {0: "optimal", 1: "limit_reached", 2: "infeasible", 3: "unbounded", 4: "error"}
"""``scipy.optimize.milp`` status codes. 0 means optimal within ``mip_rel_gap``."""

FAMILIES = {
    "deadline": "the deadline",
    "max_sites": "the number of sites",
    "max_per_country": "the per-country cap",
    "max_per_region": "the per-region cap",
    "min_distance": "the minimum distance between sites",
    "shared_headroom": "shared grid headroom",
    "include": "the sites forced in",
    "countries": "the countries allowed",
    "sizes": "the sizes allowed",
}
"""Constraint families an explanation can name, with their words."""

RELAX_TIME_LIMIT_S = 10.0
"""Time each feasibility test of an explanation may take. [s]"""


@dataclass
class Pool:
    """The candidates one problem may choose from, and what was set aside and why."""

    cand: pd.DataFrame  # one row per candidate, index 0..n-1
    removed: dict[str, int]  # reason → candidate rows removed
    sites: np.ndarray  # distinct site ids of the pool
    site_index: np.ndarray  # per candidate, index into ``sites``


@dataclass
class SolverInfo:
    status: str
    message: str
    mip_gap: float | None
    dual_bound: float | None
    node_count: int | None
    solve_s: float
    n_variables: int
    n_constraints: int
    solver: str = "HiGHS (scipy.optimize.milp)"


@dataclass
class Explanation:
    """Why no portfolio exists: the constraint families whose removal alone restores one."""

    binding: list[str]
    facts: list[str]
    message: str


@dataclass
class PortfolioSolution:
    problem: PortfolioProblem
    feasible: bool
    chosen: pd.DataFrame  # candidate rows chosen (empty when infeasible)
    totals: dict[str, Any]
    solver: SolverInfo | None
    greedy: dict[str, Any]
    explanation: Explanation | None
    pool_size: int
    removed: dict[str, int]
    shared_points: list[dict[str, Any]] = field(default_factory=list)
    alternatives: dict[int, dict[str, Any] | None] = field(default_factory=dict)


# --- candidates ------------------------------------------------------------------------------


def _resource_keys(cand: pd.DataFrame) -> np.ndarray:
    """Return, per candidate, the shared grid resource it draws on ("point:ID", "line:ID") or ""."""
    kind = cand["connection_kind"].astype(str).to_numpy()
    point = pd.to_numeric(cand["connection_point_id"], errors="coerce").fillna(-1).to_numpy(np.int64)
    line = (
        pd.to_numeric(cand["connection_line_id"], errors="coerce").fillna(-1).to_numpy(np.int64)
        if "connection_line_id" in cand.columns
        else np.full(len(cand), -1)
    )
    keys = np.full(len(cand), "", dtype=object)
    on_point = (kind != "own") & (point >= 0)
    keys[on_point] = ["point:%d" % p for p in point[on_point]]
    on_line = (kind == "cut_in") & (point < 0) & (line >= 0)
    keys[on_line] = ["line:%d" % v for v in line[on_line]]
    return keys


def candidate_pool(table: pd.DataFrame, problem: PortfolioProblem, *, relax: frozenset[str] = frozenset()) -> Pool:
    """Return the candidates of ``problem`` in ``table``, with the rows set aside per reason.

    ``relax`` names constraint families to ignore (for explanations): "deadline", "countries",
    "sizes".
    """
    missing = [c for c in CANDIDATE_COLUMNS if c not in table.columns]
    if missing:
        raise ProblemError(f"run table: missing column(s) {', '.join(missing)}")
    t = table
    removed: dict[str, int] = {}

    def drop(mask: np.ndarray, reason: str) -> None:
        nonlocal t
        n = int((~mask).sum())
        if n:
            removed[reason] = removed.get(reason, 0) + n
        t = t[mask]

    drop(t["feasible"].astype(bool).to_numpy(), "not_feasible")
    if problem.clusters:
        wanted = [s for s, _ in problem.clusters]
        if "sizes" not in relax:
            drop(t["size_h100e"].isin(wanted).to_numpy(), "size_not_asked")
    elif problem.sizes_h100e and "sizes" not in relax:
        drop(t["size_h100e"].isin(problem.sizes_h100e).to_numpy(), "size_not_allowed")
    if problem.countries and "countries" not in relax:
        drop(t["country"].astype(str).str.upper().isin(problem.countries).to_numpy(), "outside_countries")
    if problem.exclude:
        drop(~t["site_id"].isin(problem.exclude).to_numpy(), "forced_out")
    if problem.deadline_months is not None and "deadline" not in relax:
        drop((t["time_to_power_months"].to_numpy(dtype=float) <= problem.deadline_months + 1e-9), "after_deadline")
    for column in ("score", "capex_total_meur", "emissions_t_per_yr", "it_load_mw", "facility_load_mw"):
        drop(np.isfinite(t[column].to_numpy(dtype=float)), f"no_{column}")
    cand = t.reset_index(drop=True).copy()
    cand["resource"] = _resource_keys(cand)
    if "region" not in cand.columns:
        cand["region"] = ""
    region = cand["region"].fillna("").astype(str)
    # Where a site has no region, its country stands for it (the per-region cap then works
    # as a per-country cap there, never as no cap).
    cand["region_key"] = np.where(region != "", cand["country"].astype(str) + ":" + region, cand["country"].astype(str))
    sites, site_index = np.unique(cand["site_id"].to_numpy(np.int64), return_inverse=True)
    return Pool(cand=cand, removed=removed, sites=sites, site_index=site_index)


def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Return the haversine distance between points [WGS84 degrees]. [km]"""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def close_site_pairs(lon: np.ndarray, lat: np.ndarray, min_distance_km: float) -> np.ndarray:
    """Return index pairs (i < j) of points closer than ``min_distance_km`` (great circle)."""
    if min_distance_km <= 0 or len(lon) < 2:
        return np.empty((0, 2), dtype=np.int64)
    lo, la = np.radians(lon), np.radians(lat)
    xyz = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    chord = 2 * math.sin(min(min_distance_km / EARTH_RADIUS_KM, math.pi) / 2)
    pairs = cKDTree(xyz).query_pairs(chord * (1 + 1e-9), output_type="ndarray")
    if not len(pairs):
        return np.empty((0, 2), dtype=np.int64)
    d = great_circle_km(lon[pairs[:, 0]], lat[pairs[:, 0]], lon[pairs[:, 1]], lat[pairs[:, 1]])
    return np.sort(pairs[d < min_distance_km], axis=1).astype(np.int64)


def _site_coords(pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    first = (
        pd.DataFrame(
            {
                "s": pool.site_index,
                "lon": pool.cand["longitude"].to_numpy(float),
                "lat": pool.cand["latitude"].to_numpy(float),
            }
        )
        .groupby("s")
        .first()
    )
    return first["lon"].to_numpy(), first["lat"].to_numpy()


def _objective(pool: Pool, problem: PortfolioProblem) -> np.ndarray:
    """Return the cost vector to minimise (the score is maximised)."""
    c = pool.cand
    if problem.objective == "score":
        return -c["score"].to_numpy(float)
    if problem.objective == "cost":
        return c["capex_total_meur"].to_numpy(float)
    return c["emissions_t_per_yr"].to_numpy(float)


# --- the mixed-integer program ----------------------------------------------------------------


@dataclass
class _Rows:
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    family: list[str] = field(default_factory=list)

    def add(self, cols, vals, lb: float, ub: float, family: str) -> None:
        r = len(self.lb)
        cols = np.asarray(cols, dtype=np.int64)
        self.rows.extend([r] * len(cols))
        self.cols.extend(cols.tolist())
        self.vals.extend(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).tolist())
        self.lb.append(lb)
        self.ub.append(ub)
        self.family.append(family)


def _constraints(pool: Pool, problem: PortfolioProblem, relax: frozenset[str]) -> _Rows:
    c = pool.cand
    n = len(c)
    rows = _Rows()
    by_site = pd.Series(np.arange(n)).groupby(pool.site_index).apply(list)
    include = set(problem.include) if "include" not in relax else set()
    for s_idx, members in by_site.items():
        site_id = int(pool.sites[s_idx])
        if site_id in include:
            rows.add(members, 1.0, 1.0, 1.0, "include")
        elif len(members) > 1:
            rows.add(members, 1.0, -np.inf, 1.0, "one_size")
    if problem.clusters:
        sizes = c["size_h100e"].to_numpy()
        for size, count in problem.clusters:
            rows.add(np.flatnonzero(sizes == size), 1.0, count, count, "target")
    else:
        rows.add(np.arange(n), c["it_load_mw"].to_numpy(float), problem.target_mw_it, np.inf, "target")  # type: ignore[arg-type]
    if problem.max_sites and "max_sites" not in relax:
        rows.add(np.arange(n), 1.0, -np.inf, problem.max_sites, "max_sites")
    for name, column, cap in (
        ("max_per_country", "country", problem.max_per_country),
        ("max_per_region", "region_key", problem.max_per_region),
    ):
        if cap and name not in relax:
            for _key, idx in c.groupby(column).indices.items():
                if len(np.unique(pool.site_index[idx])) > cap:
                    rows.add(idx, 1.0, -np.inf, cap, name)
    if problem.share_headroom and "shared_headroom" not in relax:
        fac = c["facility_load_mw"].to_numpy(float)
        head = c["headroom_mw"].to_numpy(float)
        for key, idx in c.groupby("resource").indices.items():
            if not key:
                continue  # an own connection: the site's alone
            cap = float(np.nanmin(head[idx]))  # type: ignore[assignment]
            # Only a binding resource needs a row: the largest load of each site there, summed.
            per_site = pd.Series(fac[idx]).groupby(pool.site_index[idx]).max()
            if len(per_site) > 1 and per_site.sum() > cap + 1e-9:  # type: ignore[operator]
                rows.add(idx, fac[idx], -np.inf, cap, "shared_headroom")  # type: ignore[arg-type]
    if problem.min_distance_km > 0 and "min_distance" not in relax:
        lon, lat = _site_coords(pool)
        members = by_site.to_dict()
        for a, b in close_site_pairs(lon, lat, problem.min_distance_km):
            rows.add(members[a] + members[b], 1.0, -np.inf, 1.0, "min_distance")
    return rows


def _solve_milp(
    pool: Pool,
    problem: PortfolioProblem,
    relax: frozenset[str],
    *,
    objective: bool = True,
    time_limit_s: float | None = None,
) -> tuple[Any, SolverInfo, np.ndarray | None]:
    n = len(pool.cand)
    rows = _constraints(pool, problem, relax)
    c = _objective(pool, problem) if objective else np.zeros(n)
    A = sparse.csr_array((rows.vals, (rows.rows, rows.cols)), shape=(len(rows.lb), n))
    t0 = time.perf_counter()
    res = milp(
        c,
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=[LinearConstraint(A, np.asarray(rows.lb), np.asarray(rows.ub))] if len(rows.lb) else None,
        options={
            "time_limit": float(time_limit_s or problem.time_limit_s),
            "mip_rel_gap": problem.mip_rel_gap,
            "disp": False,
        },
    )
    elapsed = time.perf_counter() - t0
    status = SCIPY_STATUS.get(int(res.status), "error")
    x = None if res.x is None else np.round(res.x).astype(bool)
    gap = getattr(res, "mip_gap", None)
    bound = getattr(res, "mip_dual_bound", None)
    if problem.objective == "score" and bound is not None and objective:
        bound = -bound  # reported for the maximised score
    info = SolverInfo(
        status=status,
        message=str(res.message),
        mip_gap=None if gap is None or not np.isfinite(gap) else float(gap),
        dual_bound=None if bound is None or not np.isfinite(bound) else float(bound),
        node_count=getattr(res, "mip_node_count", None),
        solve_s=elapsed,
        n_variables=n,
        n_constraints=len(rows.lb),
    )
    return res, info, x


# --- checks shared by the solver, the greedy baseline and the alternatives ----------------------


class _State:
    """Incremental bookkeeping of a partial portfolio, for greedy and single-site swaps."""

    def __init__(self, pool: Pool, problem: PortfolioProblem):
        self.pool, self.problem = pool, problem
        c = pool.cand
        self.country = c["country"].astype(str).to_numpy()
        self.region = c["region_key"].astype(str).to_numpy()
        self.resource = c["resource"].to_numpy()
        self.fac = c["facility_load_mw"].to_numpy(float)
        self.head = c["headroom_mw"].to_numpy(float)
        self.mw = c["it_load_mw"].to_numpy(float)
        self.lon = c["longitude"].to_numpy(float)
        self.lat = c["latitude"].to_numpy(float)
        cap: dict[str, float] = {}
        for key, h in zip(self.resource, self.head):
            if key:
                cap[key] = min(cap.get(key, np.inf), h)
        self.capacity = cap
        self.chosen: list[int] = []

    def allows(self, k: int, chosen: list[int] | None = None) -> bool:
        chosen = self.chosen if chosen is None else chosen
        p = self.problem
        site = self.pool.site_index[k]
        if any(self.pool.site_index[j] == site for j in chosen):
            return False
        if p.max_sites and len(chosen) >= p.max_sites:
            return False
        if p.max_per_country and sum(self.country[j] == self.country[k] for j in chosen) >= p.max_per_country:
            return False
        if p.max_per_region and sum(self.region[j] == self.region[k] for j in chosen) >= p.max_per_region:
            return False
        if p.share_headroom and self.resource[k]:
            used = sum(self.fac[j] for j in chosen if self.resource[j] == self.resource[k])
            if used + self.fac[k] > self.capacity[self.resource[k]] + 1e-9:
                return False
        if p.min_distance_km > 0 and chosen:
            idx = np.asarray(chosen)
            d = great_circle_km(self.lon[idx], self.lat[idx], self.lon[k], self.lat[k])
            if (d < p.min_distance_km).any():
                return False
        return True


def check_portfolio(pool: Pool, problem: PortfolioProblem, chosen: list[int]) -> list[str]:
    """Return every constraint the chosen candidate rows break (empty: a valid portfolio)."""
    state = _State(pool, problem)
    broken = []
    for i, k in enumerate(chosen):
        if not state.allows(k, chosen[:i]):
            broken.append(f"candidate {k} (site {int(pool.cand['site_id'].iloc[k])})")
    c = pool.cand.iloc[chosen]
    if problem.clusters:
        for size, count in problem.clusters:
            if int((c["size_h100e"] == size).sum()) != count:
                broken.append(f"target: {count} × {size}")
    elif c["it_load_mw"].sum() < problem.target_mw_it - 1e-9:  # type: ignore[operator]
        broken.append("target: MW")
    missing = set(problem.include) - set(c["site_id"].astype(int))
    if missing:
        broken.append(f"include: {sorted(missing)}")
    return broken


def _objective_total(pool: Pool, problem: PortfolioProblem, chosen: list[int]) -> float:
    return float(
        -_objective(pool, problem)[chosen].sum()
        if problem.objective == "score"
        else _objective(pool, problem)[chosen].sum()
    )


def greedy(pool: Pool, problem: PortfolioProblem) -> list[int] | None:
    """Return a portfolio built one best candidate at a time, or None when greedy gets stuck.

    Forced-in sites first (their best size), then the best remaining candidate by the
    objective (for an MW target, per MW: score, capex per MW or emissions per MW) that keeps
    every constraint and, with a site limit, leaves the target reachable.
    """
    c = pool.cand
    state = _State(pool, problem)
    cost = _objective(pool, problem)
    per_mw = cost / state.mw if problem.target_mw_it is not None and problem.objective != "score" else cost
    order = np.lexsort((c["site_id"].to_numpy(), per_mw))
    for site in problem.include:
        options = [k for k in order if int(c["site_id"].iloc[k]) == site and state.allows(k)]
        if problem.clusters:
            need = {s: n for s, n in problem.clusters}
            options = [
                k
                for k in options
                if sum(c["size_h100e"].iloc[j] == c["size_h100e"].iloc[k] for j in state.chosen)
                < need[int(c["size_h100e"].iloc[k])]
            ]
        if not options:
            return None
        state.chosen.append(options[0])
    if problem.clusters:
        for size, count in problem.clusters:
            have = sum(int(c["size_h100e"].iloc[j]) == size for j in state.chosen)
            for k in order:
                if have >= count:
                    break
                if int(c["size_h100e"].iloc[k]) == size and state.allows(k):
                    state.chosen.append(int(k))
                    have += 1
            if have < count:
                return None
        return state.chosen
    total = float(state.mw[state.chosen].sum())
    for k in order:
        if total >= problem.target_mw_it - 1e-9:  # type: ignore[operator]
            break
        if problem.max_sites:
            left = problem.max_sites - len(state.chosen)
            if left <= 0:
                break
            if state.mw[k] < (problem.target_mw_it - total) / left - 1e-9:  # type: ignore[operator]
                continue  # too small to keep the target within the site limit
        if state.allows(int(k)):
            state.chosen.append(int(k))
            total += state.mw[k]
    return state.chosen if total >= problem.target_mw_it - 1e-9 else None  # type: ignore[operator]


def alternatives(pool: Pool, problem: PortfolioProblem, chosen: list[int]) -> dict[int, dict[str, Any] | None]:
    """Return, per chosen site, the best other candidate that could take its place.

    The rest of the portfolio stays as it is; the replacement must keep every constraint and
    the target (for clusters, at the same size). Enumerated over every candidate: exact.
    """
    c = pool.cand
    state = _State(pool, problem)
    cost = _objective(pool, problem)
    order = np.lexsort((c["site_id"].to_numpy(), cost))
    out: dict[int, dict[str, Any] | None] = {}
    chosen_sites = {int(c["site_id"].iloc[k]) for k in chosen}
    for k in chosen:
        site = int(c["site_id"].iloc[k])
        if site in problem.include:
            out[site] = None
            continue
        rest = [j for j in chosen if j != k]
        rest_mw = float(state.mw[rest].sum())
        best = None
        for j in order:
            j = int(j)
            if int(c["site_id"].iloc[j]) in chosen_sites:
                continue
            if problem.clusters and int(c["size_h100e"].iloc[j]) != int(c["size_h100e"].iloc[k]):
                continue
            if problem.target_mw_it is not None and rest_mw + state.mw[j] < problem.target_mw_it - 1e-9:
                continue
            if state.allows(j, rest):
                best = j
                break
        if best is None:
            out[site] = None
        else:
            row = c.iloc[best]
            out[site] = {
                "site_id": int(row["site_id"]),
                "size_h100e": int(row["size_h100e"]),
                "score": float(row["score"]),
                "capex_total_meur": float(row["capex_total_meur"]),
                "emissions_t_per_yr": float(row["emissions_t_per_yr"]),
                "time_to_power_months": float(row["time_to_power_months"]),
                "longitude": float(row["longitude"]),
                "latitude": float(row["latitude"]),
                "country": str(row["country"]),
                "objective_change": float(cost[best] - cost[k]) * (-1 if problem.objective == "score" else 1),
            }
    return out


# --- totals and explanation ---------------------------------------------------------------------


def portfolio_totals(chosen: pd.DataFrame) -> dict[str, Any]:
    """Return the totals of chosen rows: MW, capex, EUR per GPU-hour (GPU-weighted), emissions, months."""
    if chosen.empty:
        return {"n_sites": 0}
    gpus = chosen["size_h100e"].to_numpy(float)
    totals = {
        "n_sites": int(len(chosen)),
        "gpus_h100e": int(gpus.sum()),
        "it_load_mw": float(chosen["it_load_mw"].sum()),
        "facility_load_mw": float(chosen["facility_load_mw"].sum()),
        "capex_total_meur": float(chosen["capex_total_meur"].sum()),
        # Every site runs at the scenario's one utilisation, so GPU-hours are ∝ H100e.
        "tco_eur_per_gpu_hour": float((chosen["tco_eur_per_gpu_hour"].to_numpy(float) * gpus).sum() / gpus.sum()),
        "emissions_t_per_yr": float(chosen["emissions_t_per_yr"].sum()),
        "time_to_power_months": float(chosen["time_to_power_months"].max()),
        "score_total": float(chosen["score"].sum()),
        "score_mean": float(chosen["score"].mean()),
        "n_countries": int(chosen["country"].nunique()),
    }
    if "site_cost_eur_per_gpu_hour" in chosen.columns:
        totals["site_cost_eur_per_gpu_hour"] = float(
            (chosen["site_cost_eur_per_gpu_hour"].to_numpy(float) * gpus).sum() / gpus.sum()
        )
    return totals


def shared_points(pool: Pool, chosen: list[int]) -> list[dict[str, Any]]:
    """Return each grid resource two or more chosen sites draw on, with load and headroom."""
    c = pool.cand.iloc[chosen]
    out = []
    for key, g in c[c["resource"] != ""].groupby("resource"):
        out.append(
            {
                "resource": key,
                "site_ids": [int(s) for s in g["site_id"]],
                "facility_load_mw": float(g["facility_load_mw"].sum()),
                "headroom_mw": float(pool.cand.loc[pool.cand["resource"] == key, "headroom_mw"].min()),
                "shared": len(g) > 1,
            }
        )
    return sorted(out, key=lambda r: (not r["shared"], r["resource"]))


def _facts(pool: Pool, problem: PortfolioProblem) -> list[str]:
    """Return plain facts on what the candidates can give at most."""
    c = pool.cand
    facts = [f"{len(pool.sites):,} sites ({len(c):,} site-size pairs) meet every per-site condition."]
    if problem.clusters:
        for size, count in problem.clusters:
            n = int(c.loc[c["size_h100e"] == size, "site_id"].nunique())
            facts.append(f"{n:,} sites can host {size:,} H100e; {count} asked.")
            if problem.max_per_country:
                per = c.loc[c["size_h100e"] == size].groupby("country")["site_id"].nunique()
                facts.append(
                    f"With at most {problem.max_per_country} per country, the {len(per)} countries that have "
                    f"such sites give at most {int(np.minimum(per, problem.max_per_country).sum())}."
                )
    else:
        best = c.groupby("site_id")["it_load_mw"].max().sort_values(ascending=False)
        k = problem.max_sites or len(best)
        facts.append(
            f"The {min(k, len(best))} largest sites give at most {best.head(k).sum():,.1f} MW IT; "
            f"{problem.target_mw_it:,.1f} MW asked."
        )
    return facts


def explain_infeasible(table: pd.DataFrame, problem: PortfolioProblem, pool: Pool) -> Explanation:
    """Return which constraint families make ``problem`` infeasible, by dropping each in turn."""
    facts = _facts(pool, problem)
    for site in problem.include:
        if site not in set(pool.sites.tolist()):
            facts.append(
                f"Site {site} is forced in but has no candidate (not feasible at an allowed size, outside "
                f"the countries or powered after the deadline)."
            )
    active = []
    if problem.deadline_months is not None:
        active.append("deadline")
    if problem.max_sites:
        active.append("max_sites")
    if problem.max_per_country:
        active.append("max_per_country")
    if problem.max_per_region:
        active.append("max_per_region")
    if problem.min_distance_km > 0:
        active.append("min_distance")
    if problem.share_headroom:
        active.append("shared_headroom")
    if problem.include:
        active.append("include")
    if problem.countries:
        active.append("countries")
    if problem.sizes_h100e and not problem.clusters:
        active.append("sizes")
    binding = []
    for family in active:
        relax = frozenset({family})
        p = dataclasses.replace(problem, include=()) if family == "include" else problem
        relaxed = (
            candidate_pool(table, p, relax=relax) if family in ("deadline", "countries", "sizes", "include") else pool
        )
        if not len(relaxed.cand):
            continue
        if family == "include" and not problem.clusters and relaxed.cand["it_load_mw"].sum() < problem.target_mw_it:
            continue
        _res, info, _x = _solve_milp(relaxed, p, relax, objective=False, time_limit_s=RELAX_TIME_LIMIT_S)
        if info.status in ("optimal", "limit_reached") and _x is not None:
            binding.append(family)
    if binding:
        words = ", ".join(FAMILIES[f] for f in binding)
        message = f"No portfolio meets the target under every constraint; dropping any one of these alone would allow one: {words}."
    elif active:
        message = (
            "No portfolio meets the target, and dropping any single constraint is not enough: the candidates "
            "themselves fall short, or several constraints bind together."
        )
    else:
        message = "No portfolio meets the target: the candidates fall short of it."
    return Explanation(binding=binding, facts=facts, message=message)


# --- entry point ------------------------------------------------------------------------------


def solve(
    table: pd.DataFrame, problem: PortfolioProblem, *, progress: Callable[[float, str], None] | None = None
) -> PortfolioSolution:
    """Return the best portfolio for ``problem`` over ``table``, or the reason there is none.

    Parameters
    ----------
    table : DataFrame
        A run's rows (every size) with the site columns of ``CANDIDATE_COLUMNS``.
    problem : PortfolioProblem
        Validated question.
    progress : callable, optional
        ``progress(share, stage)`` at each step.
    """
    problem.validate()
    report = progress or (lambda share, stage: None)
    report(0.05, "building the candidates")
    if problem.clusters:
        run_sizes = set(int(s) for s in table["size_h100e"].unique())
        absent = [s for s, _ in problem.clusters if s not in run_sizes]
        if absent:
            raise ProblemError(
                f"clusters: size(s) {', '.join(f'{s:,}' for s in absent)} H100e are not on this run's "
                f"ladder ({', '.join(f'{s:,}' for s in sorted(run_sizes))})"
            )
    if problem.objective == "score" and problem.target_mw_it is not None and not problem.max_sites:
        raise ProblemError(
            "max_sites: needed with an MW target and the score objective (the best total score "
            "would otherwise take every site)"
        )
    pool = candidate_pool(table, problem)
    empty = pool.cand.iloc[0:0]
    # A site forced in without a candidate cannot be placed: no portfolio, and the reason.
    if not len(pool.cand) or set(problem.include) - set(pool.sites.tolist()):
        report(0.5, "explaining why no portfolio exists")
        return PortfolioSolution(
            problem,
            False,
            empty,
            {"n_sites": 0},
            None,
            {"feasible": False},
            explain_infeasible(table, problem, pool),
            0,
            pool.removed,
        )
    report(0.1, "solving the mixed-integer program")
    res, info, x = _solve_milp(pool, problem, frozenset())
    report(0.5, "greedy baseline")
    g = greedy(pool, problem)
    greedy_out: dict[str, Any] = {"feasible": g is not None}
    if g is not None:
        greedy_out.update(
            objective=_objective_total(pool, problem, g),
            totals=portfolio_totals(pool.cand.iloc[g]),
            site_ids=[int(pool.cand["site_id"].iloc[k]) for k in g],
        )
    if x is None and info.status == "limit_reached":
        # Out of time before any portfolio was found: say so, not that none exists.
        explanation = Explanation(
            binding=[],
            facts=_facts(pool, problem),
            message=(
                f"The solver found no portfolio within its time limit ({problem.time_limit_s:g} s); none is proven "
                f"impossible. Allow more time or relax a constraint."
            ),
        )
        return PortfolioSolution(
            problem, False, empty, {"n_sites": 0}, info, greedy_out, explanation, len(pool.cand), pool.removed
        )
    if x is None or info.status not in ("optimal", "limit_reached"):
        report(0.6, "explaining why no portfolio exists")
        return PortfolioSolution(
            problem,
            False,
            empty,
            {"n_sites": 0},
            info,
            greedy_out,
            explain_infeasible(table, problem, pool),
            len(pool.cand),
            pool.removed,
        )
    chosen_idx = [int(k) for k in np.flatnonzero(x)]
    chosen = pool.cand.iloc[chosen_idx].copy()
    chosen["candidate"] = chosen_idx
    totals = portfolio_totals(chosen)
    totals["objective"] = _objective_total(pool, problem, chosen_idx)
    if g is not None:
        # What the optimisation buys over greedy, in the objective's unit (≥ 0 up to the gap).
        gain = (totals["objective"] - greedy_out["objective"]) * (1 if problem.objective == "score" else -1)
        greedy_out["gain"] = 0.0 if abs(gain) <= 1e-9 * max(1.0, abs(totals["objective"])) else gain  # summation noise
    report(0.7, "next-best alternatives")
    alts = alternatives(pool, problem, chosen_idx)
    order = chosen.sort_values(["size_h100e", "score"], ascending=[False, False]).index
    return PortfolioSolution(
        problem,
        True,
        chosen.loc[order].reset_index(drop=True),
        totals,
        info,
        greedy_out,
        None,
        len(pool.cand),
        pool.removed,
        shared_points(pool, chosen_idx),
        alts,
    )
