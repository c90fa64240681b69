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

    Shapes: ``n`` sites, ``k`` candidates per class, ``m`` grid points, ``v`` densified line
    vertices, ``L`` lines, and ``N_CLASSES`` voltage classes (``layout``).
    """

    cand_point: np.ndarray
    """int64[N_CLASSES, n, k]: per class, the nearest points that reach the class, in the site's
    country, over land and within the class's maximum length, nearest first, compacted (−1 after
    the last)."""
    cand_dist_km: np.ndarray
    """float64[N_CLASSES, n, k]: great-circle distances to those points. [km]"""
    point_headroom_mw: np.ndarray
    """float64[m]: headroom of each grid point, × the draw's factor where not known. [MW]"""
    point_source: np.ndarray
    """float64[m]: where that headroom comes from (``layout.H_*``)."""
    cut_vertex: np.ndarray
    """int64[N_CLASSES, n]: per class, the nearest point on a line that reaches the class (index
    into the densified line vertices; −1: none within reach)."""
    cut_dist_km: np.ndarray
    """float64[N_CLASSES, n]: great-circle distance to it. [km]"""
    vertex_line: np.ndarray
    """int64[v]: line index of each densified vertex."""
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
