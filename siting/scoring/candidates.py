"""Nearest adequate grid points per site and voltage class, with a KD-tree (never all pairs)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG). [km]"""


def unit_vectors(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Return 3-D unit vectors for WGS84 longitude/latitude in degrees (spherical Earth)."""
    lon, lat = np.radians(longitude), np.radians(latitude)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Return great-circle distances [km] for chord lengths on the unit sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def eligible_points(point_kv: np.ndarray, class_kv: np.ndarray, c: int) -> np.ndarray:
    """Return the indices of the points that can connect at voltage class ``c``: those whose
    voltage reaches the class; the lowest class (a feeder from an HV/MV substation) takes all."""
    return np.flatnonzero(point_kv >= class_kv[c]) if c > 0 else np.arange(len(point_kv))


def nearest_by_class(
    site_lon: np.ndarray, site_lat: np.ndarray, point_lon: np.ndarray, point_lat: np.ndarray,
    point_kv: np.ndarray, class_kv: np.ndarray, k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per voltage class, the k nearest points whose voltage reaches that class.

    A point qualifies for class c when its voltage is at least ``class_kv[c]``; the lowest
    class (20 kV, a feeder from an HV/MV substation) takes every point.

    Returns
    -------
    cand_point : int64[n_classes, n_sites, k]
        Indices into the point arrays, nearest first (−1 where fewer points exist).
    cand_dist_km : float64[n_classes, n_sites, k]
        Great-circle distances. [km]
    """
    n_classes, n = len(class_kv), len(site_lon)
    cand_point = np.full((n_classes, n, k), -1, dtype=np.int64)
    cand_dist = np.full((n_classes, n, k), np.nan)
    if n == 0 or len(point_lon) == 0:
        return cand_point, cand_dist
    sites = unit_vectors(site_lon, site_lat)
    points = unit_vectors(point_lon, point_lat)
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    for c in range(n_classes):
        eligible = eligible_points(point_kv, class_kv, c)
        key = eligible.tobytes()
        if key not in cache:
            if eligible.size == 0:
                cache[key] = (np.full((n, k), -1, dtype=np.int64), np.full((n, k), np.nan))
            else:
                kk = min(k, eligible.size)
                chord, idx = cKDTree(points[eligible]).query(sites, k=kk, workers=-1)
                chord, idx = chord.reshape(n, kk), idx.reshape(n, kk)
                pts = np.full((n, k), -1, dtype=np.int64)
                dist = np.full((n, k), np.nan)
                pts[:, :kk] = eligible[idx]
                dist[:, :kk] = chord_to_km(chord)
                cache[key] = (pts, dist)
        cand_point[c], cand_dist[c] = cache[key]
    return cand_point, cand_dist
