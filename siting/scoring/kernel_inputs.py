"""The kernels' inputs grouped by meaning: what ``kernels.py`` reads and ``reference.py`` reads too.

Plain named tuples of float64 and int64 arrays: numba passes a named tuple into nopython code as
it passes a tuple (attribute access included, any mix of array types; the class must be defined at
module level, as here), so the kernels keep their array arguments, caching and ``prange`` loops.

References
----------
Numba documentation, "Supported Python features", ``collections``: named tuple classes are
supported in the same way regular tuples are, with attribute access.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class GridInputs(NamedTuple):
    """Each site's connection candidates and what the grid offers them (one draw's headroom).

    Shapes: ``n`` sites, ``k`` candidates per class, ``m`` grid points, ``L`` lines, and ``N_CLASSES`` voltage classes (``layout``).
    """

    cand_point: np.ndarray
    """int32[N_CLASSES, k, n]: per class, the nearest points that reach the class, in the site's
    country, over land and within the class's maximum length, nearest first, compacted (−1 after
    the last). Candidate-major: the j-th candidate of every site is contiguous, so a draw, which
    mostly takes each site's first adequate point, reads one pass of first candidates instead of
    a cache line of every site's k."""
    cand_dist_km: np.ndarray
    """float64[N_CLASSES, k, n]: great-circle distances to those points. [km]"""
    point_headroom_mw: np.ndarray
    """float64[m]: headroom of each grid point, × the draw's factor where not known. [MW]"""
    point_source: np.ndarray
    """float64[m]: where that headroom comes from (``layout.H_*``)."""
    cut_vertex: np.ndarray
    """int64[N_CLASSES, n]: per class, the nearest point on a line that reaches the class (index
    into the densified line vertices; −1: none within reach)."""
    cut_dist_km: np.ndarray
    """float64[N_CLASSES, n]: great-circle distance to it. [km]"""
    cut_line: np.ndarray
    """int32[N_CLASSES, n]: the line of that vertex (−1: none), looked up once per run rather than
    at random in every draw."""
    line_class: np.ndarray
    """int64[L]: voltage class index of each line."""
    line_headroom_mw: np.ndarray
    """float64[L]: headroom a cut-in on each line offers, × the draw's factor where not known. [MW]"""
    line_source: np.ndarray
    """float64[L]: where that headroom comes from (``layout.H_*``)."""


class ScenarioArrays(NamedTuple):
    """The scenario's per-class table, value-function bounds and criterion weights.

    The scalar parameters (``sp``, ``layout.P_*``) are passed beside it: they change with the
    cluster size, and a Monte Carlo draw evaluates every size at once.
    """

    tab: np.ndarray
    """float64[N_TABLE, N_CLASSES]: per voltage class (``layout.T_*``): class voltage [kV],
    one-circuit rating [MW], line cost [M€/km], bay cost [M€], base time to power [month]."""
    bounds: np.ndarray
    """float64[2, 6]: value-function bounds per criterion, row 0 worst, row 1 best."""
    weights: np.ndarray
    """float64[6]: criterion weights, summing to 1, or all 0. [-]"""


class DrawBase(NamedTuple):
    """What a Monte Carlo draw scales, set up once per run: per site, per zone, per grid point and
    line, and three scalars (``kernels.draw_site_inputs``)."""

    pue_base: np.ndarray
    """float64[n]: design PUE with its climate term. [-]"""
    site_months_base: np.ndarray
    """float64[n]: the sum of the site's readiness months. [month]"""
    zone_index: np.ndarray
    """int64[n]: the site's bidding zone (index into the zone arrays; −1: none)."""
    price_zone: np.ndarray
    """float64[z]: each zone's wholesale price. [€/MWh]"""
    carbon_zone: np.ndarray
    """float64[z]: each zone's carbon intensity. [gCO2/kWh]"""
    price_fallback: float
    """Price of a site without a zone. [€/MWh]"""
    carbon_fallback: float
    """Carbon intensity of a site without a zone. [gCO2/kWh]"""
    price_adder: float
    """Network charges and taxes added to every price. [€/MWh]"""
    point_headroom_mw: np.ndarray
    """float64[m]: each grid point's headroom before the draw. [MW]"""
    point_source: np.ndarray
    """float64[m]: where it comes from (``layout.H_*``; known headroom is not drawn)."""
    line_headroom_mw: np.ndarray
    """float64[L]: each line's cut-in headroom before the draw. [MW]"""
    line_source: np.ndarray
    """float64[L]: where it comes from (``layout.H_*``)."""


class DrawFactors(NamedTuple):
    """One Monte Carlo draw's multiplicative factors and offsets (views of the draw's factors)."""

    price_zone: np.ndarray
    """float64[z]: wholesale price factor per zone. [-]"""
    carbon_zone: np.ndarray
    """float64[z]: carbon intensity factor per zone. [-]"""
    conn: np.ndarray
    """float64[n]: connection cost factor per site. [-]"""
    grid_months: np.ndarray
    """float64[n]: grid connection time factor per site. [-]"""
    site_months: np.ndarray
    """float64[n]: site readiness time factor per site. [-]"""
    pue_offset: np.ndarray
    """float64[n]: PUE offset per site. [-]"""
    headroom_point: np.ndarray
    """float64[m]: headroom factor per grid point. [-]"""
    headroom_line: np.ndarray
    """float64[L]: headroom factor per line. [-]"""
