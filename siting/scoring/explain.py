"""Explain one site's grid connection: every candidate the model looked at, not just the winner.

The kernels keep only the chosen connection per site and size; the site page also shows the
options around it. This recomputes them for one site with the same rules (MODEL.md §2):
voltage class = the smallest whose one circuit carries the facility load; candidates = the
``k_nearest`` points reaching that class; a candidate qualifies within the search radius and
with headroom ≥ the load; cost = routed length × line cost + substation and bay; time =
base time of the class + a slope beyond the free length. NumPy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .candidates import chord_to_km, eligible_points, unit_vectors
from .reference import substation_cost_meur
from .params import ScenarioParams


@dataclass(frozen=True)
class ConnectionOption:
    """One candidate connection point for a site at one cluster size."""

    point_id: int
    longitude: float
    latitude: float
    voltage_kv: float
    distance_km: float  # great circle [km]
    line_km: float  # routed [km]
    line_cost_meur: float
    substation_cost_meur: float
    cost_meur: float
    time_to_power_months: float
    headroom_mw: float
    headroom_estimated: bool
    within_radius: bool
    enough_headroom: bool

    @property
    def qualifies(self) -> bool:
        return self.within_radius and self.enough_headroom


def voltage_class_index(params: ScenarioParams, facility_load_mw: float) -> int:
    """Return the index of the smallest voltage class whose circuit carries the load (−1: none)."""
    for c, rating in enumerate(params.circuit_rating_mw):
        if rating >= facility_load_mw:
            return c
    return -1


def connection_options(
    params: ScenarioParams, longitude: float, latitude: float, facility_load_mw: float, grid: pd.DataFrame,
) -> list[ConnectionOption]:
    """Return the candidate points of one site at one load, nearest first.

    Parameters
    ----------
    longitude, latitude : float
        The site, WGS84 degrees.
    facility_load_mw : float
        IT load × PUE at this size. [MW]
    grid : DataFrame
        ``point_id, longitude, latitude, voltage_kv`` [kV], ``headroom_mw`` [MW] (NaN = unknown):
        the grid as the run saw it.
    """
    cls = voltage_class_index(params, facility_load_mw)
    if cls < 0 or grid.empty:
        return []
    grid = grid[np.isfinite(grid["voltage_kv"].to_numpy(dtype=float)) & (grid["voltage_kv"] > 0)]
    grid = grid.sort_values("point_id", kind="stable").reset_index(drop=True)
    point_kv = grid["voltage_kv"].to_numpy(dtype=float)
    class_kv = np.asarray(params.voltage_classes_kv)
    # One site: distances to every point directly (a few hundred µs) rather than the KD-trees
    # the batch search builds; the same great-circle formula, so the same candidates.
    site = unit_vectors(np.array([longitude]), np.array([latitude]))[0]
    points = unit_vectors(grid["longitude"].to_numpy(dtype=float), grid["latitude"].to_numpy(dtype=float))
    all_km = chord_to_km(np.linalg.norm(points - site, axis=1))
    eligible = eligible_points(point_kv, class_kv, cls)
    nearest = eligible[np.argsort(all_km[eligible], kind="stable")[: params.k_nearest]]
    point_class = np.clip(np.searchsorted(class_kv, point_kv, side="right") - 1, 0, len(class_kv) - 1)
    sub_meur = substation_cost_meur(
        params.voltage_classes_kv[cls], facility_load_mw, params.substation_usd_per_kv_plus_mw,
        params.substation_usd_per_mw_pow, params.substation_mw_exponent, params.substation_usd_fixed,
        params.eur_per_usd, params.bay_cost_meur[cls],
    )
    options = []
    for q in nearest:
        d = all_km[q]
        known = float(grid["headroom_mw"].iloc[q])
        estimated = not np.isfinite(known)
        headroom = params.headroom_default_mw[point_class[q]] if estimated else known
        line_km = float(d) * params.routing_factor
        line_cost = line_km * params.line_cost_meur_per_km[cls]
        ttp = params.ttp_base_months[cls] + params.ttp_months_per_km * max(line_km - params.ttp_free_km, 0.0)
        options.append(ConnectionOption(
            point_id=int(grid["point_id"].iloc[q]), longitude=float(grid["longitude"].iloc[q]),
            latitude=float(grid["latitude"].iloc[q]), voltage_kv=float(point_kv[q]), distance_km=float(d),
            line_km=line_km, line_cost_meur=line_cost, substation_cost_meur=sub_meur, cost_meur=line_cost + sub_meur,
            time_to_power_months=ttp, headroom_mw=float(headroom), headroom_estimated=estimated,
            within_radius=bool(d <= params.search_radius_km), enough_headroom=bool(headroom >= facility_load_mw),
        ))
    return options
