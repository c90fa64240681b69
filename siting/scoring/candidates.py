"""Connection candidates per site and voltage class, with KD-trees (never all pairs).

Two kinds (siting model §2, version 2):

- **new line** to a grid point: per class, the k nearest points that reach the class;
- **cut-in** on an existing line: per class (225 kV and above), the nearest point of a line
  that reaches the class; lines are densified to at most ``line_densify_km`` between vertices
  so the nearest vertex is within half that of the nearest point on the line.

Both obey the geometry limits: the target is in the site's country, the straight route
stays over land inside that country's outline (buffered by a tolerance, the outlines being
coarse), and the routed length is at most the class maximum. Candidates failing a limit are
dropped and the rest compacted, nearest first. Without outlines there is no land check;
without countries on the targets, no country check (both documented on ``score_sites``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG). [km]"""
KM_PER_DEGREE_LATITUDE = 111.32
"""Length of one degree of latitude (spherical Earth). [km]"""
CUT_IN_NEAREST_VERTICES = 4
INDEX_DTYPE = np.int32
"""Candidate indices (into the grid points or line vertices, fewer than 2**31): at a million
sites × 6 classes × k = 8 an int64 array holds 384 MB, this half."""
"""Line points looked at per site and class for a cut-in: the nearest one that passes the
geometry limits wins (the next ones are usually on the same line, ≤ 1 km further)."""


def unit_vectors(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Return 3-D unit vectors for WGS84 longitude/latitude in degrees (spherical Earth)."""
    lon, lat = np.radians(longitude), np.radians(latitude)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Return great-circle distances [km] for chord lengths on the unit sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def voltage_class_index(kv: np.ndarray, class_kv: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Return the class of each voltage: the highest class it reaches within ``tolerance``
    (220 kV is the 225 kV class at 10 %); below the lowest class, the lowest; NaN → −1."""
    kv = np.asarray(kv, dtype=np.float64)
    idx = np.searchsorted(np.asarray(class_kv), kv * (1.0 + tolerance), side="right") - 1
    return np.where(np.isfinite(kv) & (kv > 0), np.clip(idx, 0, len(class_kv) - 1), -1).astype(np.int64)


def eligible_points(point_kv: np.ndarray, class_kv: np.ndarray, c: int, tolerance: float = 0.0) -> np.ndarray:
    """Return the indices of the points that can connect at voltage class ``c``: those whose
    voltage reaches the class (within ``tolerance``); the lowest class (a feeder from an HV/MV
    substation) takes all."""
    if c == 0:
        return np.arange(len(point_kv))
    return np.flatnonzero(np.asarray(point_kv) * (1.0 + tolerance) >= class_kv[c])


class LandCheck:
    """Tell whether straight routes stay inside their country's outline (buffered).

    ``outlines`` maps ISO2 → shapely geometry or WKB bytes (WGS84). A country without an
    outline is not checked (every route passes).

    Most routes are far from any coast or border: a route whose start lies inside the outline
    and which is shorter than the start's distance to the outline's boundary (from boundary
    points ``step_km`` apart, less half a step) is inside without a geometric test. Only the
    others are tested exactly (shapely ``contains`` on the prepared outline).
    """

    def __init__(self, outlines: dict[str, object] | None, tolerance_km: float, step_km: float = 2.0) -> None:
        self._raw = dict(outlines or {})
        self._tolerance_deg = tolerance_km / KM_PER_DEGREE_LATITUDE
        self._step_km = step_km
        self._prepared: dict[str, tuple[object, cKDTree] | None] = {}
        self._margins: tuple[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] | None = None

    def _country(self, code: str) -> tuple[object, cKDTree] | None:
        if code not in self._prepared:
            import shapely

            raw = self._raw.get(code)
            if raw is None:
                self._prepared[code] = None
            else:
                geom: Any = shapely.from_wkb(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else raw
                geom = geom.buffer(self._tolerance_deg) if self._tolerance_deg > 0 else geom
                shapely.prepare(geom)
                ring = shapely.segmentize(shapely.boundary(geom), self._step_km / KM_PER_DEGREE_LATITUDE / 2.0)
                xy = shapely.get_coordinates(ring)
                self._prepared[code] = (geom, cKDTree(unit_vectors(xy[:, 0], xy[:, 1])))
        return self._prepared[code]

    def site_margins(self, country: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return, per site, whether it lies inside its country's outline and how far from the
        outline's boundary it is at least [km] (inf where the country has no outline)."""
        import shapely

        key = (id(country), id(lon), id(lat))
        if self._margins is not None and self._margins[0] == key:
            return self._margins[1]  # the new-line and the cut-in searches ask for the same sites
        n = len(country)
        inside = np.ones(n, dtype=bool)
        margin = np.full(n, np.inf)
        codes, inverse = np.unique(np.asarray(country, dtype=str), return_inverse=True)
        for j, code in enumerate(codes):
            entry = self._country(str(code))
            if entry is None:
                continue
            geom, tree = entry
            rows = np.flatnonzero(inverse == j)
            inside[rows] = shapely.contains_xy(geom, lon[rows], lat[rows])
            margin[rows] = chord_to_km(tree.query(unit_vectors(lon[rows], lat[rows]))[0]) - self._step_km / 2.0
        self._margins = (key, (inside, margin))
        return inside, margin

    def routes_inside(
        self,
        country: np.ndarray,
        site: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        margins: tuple[np.ndarray, np.ndarray],
        x1: np.ndarray,
        y1: np.ndarray,
    ) -> np.ndarray:
        """Return, per route from site ``site[r]`` (of ``lon``/``lat``/``country``) to (x1, y1),
        True when the straight segment lies inside the site country's outline (≤ 80 km, so
        within metres of the great circle). ``margins`` comes from :meth:`site_margins`."""
        import shapely

        inside, margin = margins
        length_km = chord_to_km(np.linalg.norm(unit_vectors(x1, y1) - unit_vectors(lon[site], lat[site]), axis=1))
        ok = inside[site] & (length_km < margin[site])
        exact = np.flatnonzero(inside[site] & ~ok)
        if exact.size == 0:
            return ok
        c = np.asarray(country, dtype=str)[site[exact]]
        for code in np.unique(c):
            entry = self._country(str(code))
            rows = exact[c == code]
            if entry is None:
                ok[rows] = True
                continue
            s_r = site[rows]
            coords = np.stack([np.column_stack([lon[s_r], lat[s_r]]), np.column_stack([x1[rows], y1[rows]])], axis=1)
            ok[rows] = shapely.contains(entry[0], shapely.linestrings(coords))
        return ok


def _country_codes(*arrays: np.ndarray | None) -> list[np.ndarray | None]:
    """Return the country arrays as int codes of one shared list (None stays None)."""
    present = [np.asarray(a, dtype=str) for a in arrays if a is not None]
    if not present:
        return [None for _ in arrays]
    _, inverse = np.unique(np.concatenate(present), return_inverse=True)
    out: list[np.ndarray | None] = []
    at = 0
    for a in arrays:
        if a is None:
            out.append(None)
        else:
            out.append(inverse[at : at + len(a)].astype(np.int64))
            at += len(a)
    return out


def _knn(
    site_xyz: np.ndarray,
    site_country: np.ndarray | None,
    point_xyz: np.ndarray,
    point_country: np.ndarray | None,
    eligible: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the k nearest eligible points per site (same country when both are given, as
    int codes)."""
    n = len(site_xyz)
    pts = np.full((n, k), -1, dtype=INDEX_DTYPE)
    dist = np.full((n, k), np.nan)
    if n == 0 or eligible.size == 0:
        return pts, dist
    if site_country is None or point_country is None:
        groups = [(np.arange(n), eligible)]
    else:
        order = np.argsort(point_country[eligible], kind="stable")
        elig_sorted = eligible[order]
        pc = point_country[elig_sorted]
        site_order = np.argsort(site_country, kind="stable")
        sc = site_country[site_order]
        groups = []
        for code in np.unique(sc):
            a, b = np.searchsorted(pc, [code, code + 1])
            if b > a:
                s0, s1 = np.searchsorted(sc, [code, code + 1])
                groups.append((site_order[s0:s1], elig_sorted[a:b]))
    for sites, cand in groups:
        kk = min(k, cand.size)
        chord, idx = cKDTree(point_xyz[cand]).query(site_xyz[sites], k=kk, workers=-1)
        chord, idx = chord.reshape(len(sites), kk), idx.reshape(len(sites), kk)
        pts[sites, :kk] = cand.astype(INDEX_DTYPE)[idx]
        del idx
        dist[sites, :kk] = chord_to_km(chord)
    return pts, dist


def _compact(pts: np.ndarray, dist: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``pts``/``dist`` with the rows' kept entries moved first, in order; −1/NaN after."""
    order = np.argsort(~keep, axis=1, kind="stable")
    kept = np.take_along_axis(keep, order, axis=1)
    return (
        np.where(kept, np.take_along_axis(pts, order, axis=1), -1),
        np.where(kept, np.take_along_axis(dist, order, axis=1), np.nan),
    )


def nearest_by_class(
    site_lon: np.ndarray,
    site_lat: np.ndarray,
    point_lon: np.ndarray,
    point_lat: np.ndarray,
    point_kv: np.ndarray,
    class_kv: np.ndarray,
    k: int,
    *,
    tolerance: float = 0.0,
    site_country: np.ndarray | None = None,
    point_country: np.ndarray | None = None,
    max_km: np.ndarray | None = None,
    land: LandCheck | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per voltage class, the nearest points that can take a new line from each site.

    A point qualifies for class c when its voltage reaches that class (within ``tolerance``);
    the lowest class (20 kV, a feeder from an HV/MV substation) takes every point. With
    countries, only points of the site's country; with ``max_km`` (great-circle, per class),
    only points that near; with ``land``, only routes inside the site's country outline.

    Returns
    -------
    cand_point : int32[n_classes, n_sites, k]
        Indices into the point arrays, nearest first, compacted (−1 after the last).
    cand_dist_km : float64[n_classes, n_sites, k]
        Great-circle distances. [km]
    """
    n_classes, n = len(class_kv), len(site_lon)
    cand_point = np.full((n_classes, n, k), -1, dtype=INDEX_DTYPE)
    cand_dist = np.full((n_classes, n, k), np.nan)
    if n == 0 or len(point_lon) == 0:
        return cand_point, cand_dist
    sites = unit_vectors(site_lon, site_lat)
    points = unit_vectors(point_lon, point_lat)
    site_code, point_code = _country_codes(site_country, point_country)
    if site_code is None or point_code is None:
        site_code = point_code = None
    # Classes reach nested sets of points, so equal sets are next to each other: keep the last only.
    last: tuple[bytes, np.ndarray, np.ndarray] | None = None
    for c in range(n_classes):
        eligible = eligible_points(point_kv, class_kv, c, tolerance)
        key = eligible.tobytes()
        if last is None or last[0] != key:
            last = None  # release the previous class's neighbours before the next search
            last = (key, *_knn(sites, site_code, points, point_code, eligible, k))
        _, pts, dist = last
        keep = pts >= 0
        if max_km is not None:
            keep &= dist <= max_km[c]
        cand_point[c], cand_dist[c] = _compact(pts, dist, keep)
    if land is not None and site_country is not None:
        # One land test per distinct (site, point) pair across classes.
        margins = land.site_margins(site_country, site_lon, site_lat)
        cls_i, site_i, slot = np.nonzero(cand_point >= 0)
        pt_i = cand_point[cls_i, site_i, slot]
        pair = site_i.astype(np.int64) * len(point_lon) + pt_i
        uniq, inverse = np.unique(pair, return_inverse=True)
        us, up = uniq // len(point_lon), uniq % len(point_lon)
        inside = land.routes_inside(site_country, us, site_lon, site_lat, margins, point_lon[up], point_lat[up])
        keep = np.zeros(cand_point.shape, dtype=bool)
        keep[cls_i, site_i, slot] = inside[inverse]
        for c in range(n_classes):
            cand_point[c], cand_dist[c] = _compact(cand_point[c], cand_dist[c], keep[c])
    return cand_point, cand_dist


@dataclass
class DenseLines:
    """Lines densified for the nearest-point search: one row per (densified) vertex, and per line."""

    vertex_lon: np.ndarray  # float64[v]
    vertex_lat: np.ndarray  # float64[v]
    vertex_line: np.ndarray  # int64[v], index into the per-line arrays
    vertex_country: np.ndarray | None  # object[v] ISO2, None when the frame has no country
    line_id: np.ndarray  # int64[L]
    line_kv: np.ndarray  # float64[L]
    line_rating_mw: np.ndarray  # float64[L] (NaN unknown)

    @classmethod
    def empty(cls) -> DenseLines:
        return cls(
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, dtype=np.int64),
            None,
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
        )


LINE_COLUMNS = ("line_id", "seq", "longitude", "latitude", "voltage_kv", "rating_mw")


def densify_lines(lines: pd.DataFrame | None, step_km: float) -> DenseLines:
    """Return the lines of a vertex frame (``line_id, seq, longitude, latitude, voltage_kv,
    rating_mw`` and optionally ``country``; one row per vertex) with extra vertices so that two
    in a row are at most ``step_km`` apart. A new vertex takes the country of the nearer end."""
    if lines is None or len(lines) == 0:
        return DenseLines.empty()
    missing = [c for c in LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise ValueError(f"lines: missing column(s) {', '.join(missing)}")
    frame = lines.sort_values(["line_id", "seq"], kind="stable").reset_index(drop=True)
    kv = pd.to_numeric(frame["voltage_kv"], errors="coerce").to_numpy(dtype=np.float64)
    frame = frame[np.isfinite(kv) & (kv > 0)].reset_index(drop=True)
    if len(frame) == 0:
        return DenseLines.empty()
    ids = frame["line_id"].to_numpy(dtype=np.int64)
    line_id, first = np.unique(ids, return_index=True)
    line_of = np.searchsorted(line_id, ids)
    lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(dtype=np.float64)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise ValueError("lines: every vertex needs a finite longitude and latitude")
    has_country = "country" in frame.columns
    country: Any = frame["country"].fillna("").astype(str).to_numpy(dtype=object) if has_country else None
    # Segments between consecutive vertices of the same line.
    same = line_of[1:] == line_of[:-1]
    a = np.flatnonzero(same)
    b = a + 1
    xyz = unit_vectors(lon, lat)
    seg_km = chord_to_km(np.linalg.norm(xyz[b] - xyz[a], axis=1))
    pieces = np.maximum(np.ceil(seg_km / step_km).astype(np.int64), 1)
    # Interior points of each segment (t = 1/p … (p−1)/p); the vertices themselves once.
    extra = pieces - 1
    seg_rep = np.repeat(np.arange(len(a)), extra)
    within = np.arange(extra.sum()) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    t = within / pieces[seg_rep]
    ia, ib = a[seg_rep], b[seg_rep]
    new_lon = lon[ia] + (lon[ib] - lon[ia]) * t
    new_lat = lat[ia] + (lat[ib] - lat[ia]) * t
    v_lon = np.r_[lon, new_lon]
    v_lat = np.r_[lat, new_lat]
    v_line = np.r_[line_of, line_of[ia]]
    v_country = np.r_[country, np.where(t < 0.5, country[ia], country[ib])] if has_country else None
    rating = pd.to_numeric(frame["rating_mw"], errors="coerce").to_numpy(dtype=np.float64)
    line_kv = pd.to_numeric(frame["voltage_kv"], errors="coerce").to_numpy(dtype=np.float64)
    return DenseLines(v_lon, v_lat, v_line.astype(np.int64), v_country, line_id, line_kv[first], rating[first])


def nearest_on_lines(
    site_lon: np.ndarray,
    site_lat: np.ndarray,
    lines: DenseLines,
    class_kv: np.ndarray,
    min_class: int,
    *,
    tolerance: float = 0.0,
    site_country: np.ndarray | None = None,
    max_km: np.ndarray | None = None,
    land: LandCheck | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per class from ``min_class`` up, the nearest line point a cut-in can use.

    A line qualifies for class c when its voltage reaches the class (within ``tolerance``);
    the point must be in the site's country (when both have one), within ``max_km[c]``
    (great-circle) and reached over land (``land``).

    Returns
    -------
    cut_vertex : int32[n_classes, n_sites]
        Index into ``lines.vertex_*`` (−1: none).
    cut_dist_km : float64[n_classes, n_sites]
        Great-circle distance. [km]
    """
    n_classes, n = len(class_kv), len(site_lon)
    cut_vertex = np.full((n_classes, n), -1, dtype=INDEX_DTYPE)
    cut_dist = np.full((n_classes, n), np.nan)
    if n == 0 or len(lines.vertex_lon) == 0:
        return cut_vertex, cut_dist
    sites = unit_vectors(site_lon, site_lat)
    verts = unit_vectors(lines.vertex_lon, lines.vertex_lat)
    vertex_kv = lines.line_kv[lines.vertex_line]
    site_code, vertex_code = _country_codes(site_country, lines.vertex_country)
    if site_code is None or vertex_code is None:
        site_code = vertex_code = None
    k = CUT_IN_NEAREST_VERTICES
    margins = None
    for c in range(max(min_class, 0), n_classes):
        eligible = np.flatnonzero(vertex_kv * (1.0 + tolerance) >= class_kv[c])
        pts, dist = _knn(sites, site_code, verts, vertex_code, eligible, k)
        keep = pts >= 0
        if max_km is not None:
            keep &= dist <= max_km[c]
        if land is not None and site_country is not None and keep.any():
            si, slot = np.nonzero(keep)
            v = pts[si, slot]
            if margins is None:
                margins = land.site_margins(site_country, site_lon, site_lat)
            keep[si, slot] = land.routes_inside(
                site_country, si, site_lon, site_lat, margins, lines.vertex_lon[v], lines.vertex_lat[v]
            )
        first = keep.argmax(axis=1)
        found = keep.any(axis=1)
        rows = np.arange(n)
        cut_vertex[c] = np.where(found, pts[rows, first], -1)
        cut_dist[c] = np.where(found, dist[rows, first], np.nan)
    return cut_vertex, cut_dist
