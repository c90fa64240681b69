"""Explain one site's grid connection: every option the model looked at, not just the winner.

The kernels keep only the chosen connection per site and size (and the runner-up's kind and
total); the site page also shows the options around it. :func:`site_connection_options`
recomputes them for one site with the same rules and the same preparation as the engine
(siting model §2, version 2):

- **own** connection: usable when not lapsed, no unit still runs, and its capacity
  min(former, class rating) carries the facility load;
- **new line** to each of the ``k_nearest`` points of the site's country that reach the load's
  voltage class; it qualifies when the route stays over land in the country, is no longer than
  the class maximum, and the point's headroom carries the load;
- **cut-in** on the nearest line that reaches the class (225 kV and above), under the same
  limits.

Each option's total is its connection cost + the cost of delay (months × capex × r / 12, the
months being max(grid months, site months)); the lowest total wins, an equal total keeping
the order own, new line, cut-in. Tested equal to the kernel's choice. NumPy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .candidates import (
    LandCheck,
    chord_to_km,
    eligible_points,
    nearest_by_class,
    nearest_on_lines,
    unit_vectors,
    voltage_class_index,
)
from .engine import _draw, _site_matrix
from .layout import HEADROOM_SOURCES, S_OWN_CAP, S_OWN_KV, S_PUE, S_REMED_MEUR_PER_HA, S_SITE_MONTHS
from .params import ScenarioParams
from .prepare import ScoringInputs, _prepare
from .reference import substation_cost_meur

if TYPE_CHECKING:
    from . import ScoringInputs


@dataclass(frozen=True)
class ConnectionOption:
    """One connection option for a site at one cluster size."""

    point_id: int  # grid point of a new line (−1 otherwise)
    longitude: float
    latitude: float
    voltage_kv: float
    distance_km: float  # great circle [km]
    line_km: float  # routed [km]
    line_cost_meur: float
    substation_cost_meur: float
    cost_meur: float
    time_to_power_months: float  # max(grid months, site months)
    headroom_mw: float
    headroom_estimated: bool
    within_radius: bool  # within the class's maximum length (and the search radius)
    enough_headroom: bool
    kind: str = "new_line"  # "own", "new_line" or "cut_in"
    line_id: int = -1  # line of a cut-in (−1 otherwise)
    grid_months: float = float("nan")
    delay_cost_meur: float = float("nan")
    total_meur: float = float("nan")  # connection cost + cost of delay
    headroom_source: str = ""
    same_country: bool = True
    over_land: bool = True
    usable: bool = True  # own connection: not lapsed, no unit running
    chosen: bool = False

    @property
    def qualifies(self) -> bool:
        return self.usable and self.within_radius and self.same_country and self.over_land and self.enough_headroom

    @property
    def reason(self) -> str:
        """Why the option does not qualify ("" when it does)."""
        if not self.usable:
            return "unusable"
        if not self.same_country:
            return "other_country"
        if not self.within_radius:
            return "too_far"
        if not self.over_land:
            return "crosses_sea_or_border"
        if not self.enough_headroom:
            return "not_enough_headroom"
        return ""


def voltage_class_index_for_load(params: ScenarioParams, facility_load_mw: float) -> int:
    """Return the index of the smallest voltage class whose circuit carries the load (−1: none)."""
    for c, rating in enumerate(params.circuit_rating_mw):
        if rating >= facility_load_mw:
            return c
    return -1


def connection_options(
    params: ScenarioParams,
    longitude: float,
    latitude: float,
    facility_load_mw: float,
    grid: pd.DataFrame,
) -> list[ConnectionOption]:
    """Return the new-line candidates of one site at one load, nearest first (no country,
    land or readiness information: the site page's short list; see
    :func:`site_connection_options` for every option with the engine's choice)."""
    cls = voltage_class_index_for_load(params, facility_load_mw)
    if cls < 0 or grid.empty:
        return []
    grid = grid[np.isfinite(grid["voltage_kv"].to_numpy(dtype=float)) & (grid["voltage_kv"] > 0)]
    grid = grid.sort_values("point_id", kind="stable").reset_index(drop=True)
    point_kv = grid["voltage_kv"].to_numpy(dtype=float)
    class_kv = np.asarray(params.voltage_classes_kv)
    tol = params.voltage_class_tolerance
    site = unit_vectors(np.array([longitude]), np.array([latitude]))[0]
    points = unit_vectors(grid["longitude"].to_numpy(dtype=float), grid["latitude"].to_numpy(dtype=float))
    all_km = chord_to_km(np.linalg.norm(points - site, axis=1))
    eligible = eligible_points(point_kv, class_kv, cls, tol)
    nearest = eligible[np.argsort(all_km[eligible], kind="stable")[: params.k_nearest]]
    headroom, source = _point_headroom(params, grid)
    sub_meur = substation_cost_meur(
        params.voltage_classes_kv[cls],
        facility_load_mw,
        params.substation_usd_per_kv_plus_mw,
        params.substation_usd_per_mw_pow,
        params.substation_mw_exponent,
        params.substation_usd_fixed,
        params.eur_per_usd,
        params.bay_cost_meur[cls],
    )
    max_km = min(params.max_line_km[cls] / params.routing_factor, params.search_radius_km)
    options = []
    for q in nearest:
        d = float(all_km[q])
        line_km = d * params.routing_factor
        line_cost = line_km * params.line_cost_meur_per_km[cls]
        grid_months = params.ttp_base_months[cls] + params.ttp_months_per_km * max(line_km - params.ttp_free_km, 0.0)
        options.append(
            ConnectionOption(
                point_id=int(grid["point_id"].iloc[q]),
                longitude=float(grid["longitude"].iloc[q]),
                latitude=float(grid["latitude"].iloc[q]),
                voltage_kv=float(point_kv[q]),
                distance_km=d,
                line_km=line_km,
                line_cost_meur=line_cost,
                substation_cost_meur=sub_meur,
                cost_meur=line_cost + sub_meur,
                time_to_power_months=grid_months,
                grid_months=grid_months,
                headroom_mw=float(headroom[q]),
                headroom_estimated=bool(source[q] != 0),
                headroom_source=HEADROOM_SOURCES[int(source[q])],
                within_radius=bool(d <= max_km),
                enough_headroom=bool(headroom[q] >= facility_load_mw),
            )
        )
    return options


def _point_headroom(params: ScenarioParams, grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return each point's headroom [MW] and source (0 known, 1 network estimate, 2 class
    default), as the engine takes them."""
    class_kv = np.asarray(params.voltage_classes_kv)
    known = pd.to_numeric(grid["headroom_mw"], errors="coerce").to_numpy(dtype=float)
    estimate = (
        pd.to_numeric(grid["headroom_estimate_mw"], errors="coerce").to_numpy(dtype=float)
        if "headroom_estimate_mw" in grid.columns
        else np.full(len(grid), np.nan)
    )
    cls = voltage_class_index(grid["voltage_kv"].to_numpy(dtype=float), class_kv, params.voltage_class_tolerance)
    default = np.asarray(params.headroom_default_mw)[np.maximum(cls, 0)]
    source = np.where(np.isfinite(known), 0, np.where(np.isfinite(estimate), 1, 2))
    return np.where(np.isfinite(known), known, np.where(np.isfinite(estimate), estimate, default)), source


def site_connection_options(
    params: ScenarioParams, inputs: ScoringInputs, site_id: int, size_h100e: int
) -> list[ConnectionOption]:
    """Return every connection option of one site at one size, the engine's choice marked.

    ``inputs`` is the :class:`siting.scoring.ScoringInputs` the run used (its snapshot). The
    deterministic case (no Monte Carlo factors). Order: own, new lines nearest first, cut-in.
    """

    one = inputs.sites[inputs.sites["site_id"] == site_id]
    if one.empty:
        raise ValueError(f"site {site_id} is not in the inputs")
    single = ScoringInputs(one, inputs.grid, inputs.zones, inputs.hourly_carbon, inputs.lines, inputs.outlines)
    prep = _prepare(single, params, cache=False)
    site = _site_matrix(params, prep, _draw(params, prep, None))[0]
    n_gpu = float(size_h100e)
    p_it = n_gpu * params.k_gpu_kw / 1000.0
    p_fac = p_it * site[S_PUE]
    needed = p_fac * params.land_ha_per_mw
    area = prep.area[0]
    if np.isfinite(area):
        remed_area = min(area, needed)
    else:
        remed_area = needed if params.remediation_default_area_ha is None else params.remediation_default_area_ha
    base = (
        p_it * params.facility_capex_meur_per_mw_it
        + n_gpu * params.gpu_capex_keur_per_h100e / 1000.0
        + site[S_REMED_MEUR_PER_HA] * remed_area
    )
    site_months = site[S_SITE_MONTHS]
    rate_m = params.discount_rate / 12.0
    lon = float(one["longitude"].iloc[0])
    lat = float(one["latitude"].iloc[0])
    country = str(one["country"].iloc[0] or "").upper()

    def total(conn: float, grid_months: float) -> tuple[float, float, float]:
        ttp = max(grid_months, site_months)
        delay = ttp * (base + conn) * rate_m
        return ttp, delay, conn + ttp * (base + conn) * rate_m

    options: list[ConnectionOption] = []
    former = prep.own_former_mw[0]
    if np.isfinite(former):
        cap = site[S_OWN_CAP]
        usable = bool(np.isfinite(cap))
        conn = params.own_connection_refurb_meur
        gm = params.ttp_base_own_months
        ttp, delay, tot = total(conn, gm)
        options.append(
            ConnectionOption(
                point_id=-1,
                longitude=lon,
                latitude=lat,
                voltage_kv=float(site[S_OWN_KV]),
                distance_km=0.0,
                line_km=0.0,
                line_cost_meur=0.0,
                substation_cost_meur=0.0,
                cost_meur=conn,
                time_to_power_months=ttp,
                headroom_mw=float(cap) if usable else float(former),
                headroom_estimated=True,
                within_radius=True,
                enough_headroom=bool(usable and cap >= p_fac),
                kind="own",
                grid_months=gm,
                delay_cost_meur=delay,
                total_meur=tot,
                headroom_source="estimated",
                usable=usable,
            )
        )

    cls = voltage_class_index_for_load(params, p_fac)
    class_kv = np.asarray(params.voltage_classes_kv)
    tol = params.voltage_class_tolerance
    land = LandCheck(inputs.outlines, params.outline_tolerance_km) if inputs.outlines else None
    max_gc = np.minimum(np.asarray(params.max_line_km) / params.routing_factor, params.search_radius_km)
    grid = inputs.grid
    grid = grid[np.isfinite(pd.to_numeric(grid["voltage_kv"], errors="coerce")) & (grid["voltage_kv"] > 0)]
    grid = grid.sort_values("point_id", kind="stable").reset_index(drop=True)
    if cls >= 0 and len(grid):
        point_country = (
            grid["country"].fillna("").astype(str).str.upper().to_numpy(dtype=object)
            if "country" in grid.columns
            else None
        )
        cand, dist = nearest_by_class(
            np.array([lon]),
            np.array([lat]),
            grid["longitude"].to_numpy(dtype=float),
            grid["latitude"].to_numpy(dtype=float),
            grid["voltage_kv"].to_numpy(dtype=float),
            class_kv,
            params.k_nearest,
            tolerance=tol,
            site_country=np.array([country], dtype=object),
            point_country=point_country,
        )
        headroom, source = _point_headroom(params, grid)
        kv = class_kv[cls]
        sub = substation_cost_meur(
            kv,
            p_fac,
            params.substation_usd_per_kv_plus_mw,
            params.substation_usd_per_mw_pow,
            params.substation_mw_exponent,
            params.substation_usd_fixed,
            params.eur_per_usd,
            params.bay_cost_meur[cls],
        )
        for q, d in zip(cand[cls, 0], dist[cls, 0]):
            if q < 0:
                break
            px, py = float(grid["longitude"].iloc[q]), float(grid["latitude"].iloc[q])
            over = True
            if land is not None:
                margins = land.site_margins(np.array([country], dtype=object), np.array([lon]), np.array([lat]))
                over = bool(
                    land.routes_inside(
                        np.array([country], dtype=object),
                        np.array([0]),
                        np.array([lon]),
                        np.array([lat]),
                        margins,
                        np.array([px]),
                        np.array([py]),
                    )[0]
                )
            length = float(d) * params.routing_factor
            lc = length * params.line_cost_meur_per_km[cls]
            conn = lc + sub
            gm = params.ttp_base_months[cls] + params.ttp_months_per_km * max(length - params.ttp_free_km, 0.0)
            ttp, delay, tot = total(conn, gm)
            options.append(
                ConnectionOption(
                    point_id=int(grid["point_id"].iloc[q]),
                    longitude=px,
                    latitude=py,
                    voltage_kv=float(grid["voltage_kv"].iloc[q]),
                    distance_km=float(d),
                    line_km=length,
                    line_cost_meur=lc,
                    substation_cost_meur=sub,
                    cost_meur=conn,
                    time_to_power_months=ttp,
                    headroom_mw=float(headroom[q]),
                    headroom_estimated=bool(source[q] != 0),
                    within_radius=bool(d <= max_gc[cls]),
                    enough_headroom=bool(headroom[q] >= p_fac),
                    kind="new_line",
                    grid_months=gm,
                    delay_cost_meur=delay,
                    total_meur=tot,
                    headroom_source=HEADROOM_SOURCES[int(source[q])],
                    over_land=over,
                )
            )

    cut_min = int(np.searchsorted(class_kv, params.cut_in_min_kv, side="left"))
    dense = prep.lines
    if cls >= cut_min and len(dense.vertex_lon):
        vertex, dist = nearest_on_lines(
            np.array([lon]),
            np.array([lat]),
            dense,
            class_kv,
            cut_min,
            tolerance=tol,
            site_country=np.array([country], dtype=object),
            max_km=max_gc,
            land=land,
        )
        v = int(vertex[cls, 0])
        if v >= 0:
            ln = int(dense.vertex_line[v])
            lcl = int(prep.line_class[ln])
            d = float(dist[cls, 0])
            length = d * params.routing_factor
            lc = length * params.line_cost_meur_per_km[lcl]
            sub = substation_cost_meur(
                class_kv[lcl],
                p_fac,
                params.substation_usd_per_kv_plus_mw,
                params.substation_usd_per_mw_pow,
                params.substation_mw_exponent,
                params.substation_usd_fixed,
                params.eur_per_usd,
                params.cut_in_bays * params.bay_cost_meur[lcl],
            )
            conn = lc + sub
            gm = (
                params.ttp_base_months[lcl]
                + params.ttp_months_per_km * max(length - params.ttp_free_km, 0.0)
                + params.cut_in_extra_months
            )
            ttp, delay, tot = total(conn, gm)
            head = float(prep.line_headroom[ln])
            options.append(
                ConnectionOption(
                    point_id=-1,
                    longitude=float(dense.vertex_lon[v]),
                    latitude=float(dense.vertex_lat[v]),
                    voltage_kv=float(dense.line_kv[ln]),
                    distance_km=d,
                    line_km=length,
                    line_cost_meur=lc,
                    substation_cost_meur=sub,
                    cost_meur=conn,
                    time_to_power_months=ttp,
                    headroom_mw=head,
                    headroom_estimated=True,
                    within_radius=True,
                    enough_headroom=bool(head >= p_fac),
                    kind="cut_in",
                    line_id=int(dense.line_id[ln]),
                    grid_months=gm,
                    delay_cost_meur=delay,
                    total_meur=tot,
                    headroom_source=HEADROOM_SOURCES[int(prep.line_source[ln])],
                )
            )

    # The engine's choice: the lowest total among qualifying options; among new lines only
    # the first qualifying one (nearest) competes; equal totals keep the earlier kind.
    best, best_i, seen_new = np.inf, -1, False
    for i, o in enumerate(options):
        if not o.qualifies or (o.kind == "new_line" and seen_new):
            continue
        seen_new = seen_new or o.kind == "new_line"
        if o.total_meur < best:
            best, best_i = o.total_meur, i
    if best_i >= 0:
        options[best_i] = replace(options[best_i], chosen=True)
    return options
