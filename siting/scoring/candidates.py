"""Connection candidates per site and voltage class, through grid cells and KD-trees (never all pairs).

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

The search is bounded by the class maximum: latitude × longitude cells as wide as it hold the
points, and only the cells within reach of a site are read (:func:`_knn`). It returns what a
KD-tree per country asked for the k nearest has always returned, ties included: the few sites
where two points are exactly as near are asked of that tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG). [km]"""
KM_PER_DEGREE_LATITUDE = 111.32
"""Length of one degree of latitude (spherical Earth). [km]"""
CUT_IN_NEAREST_VERTICES = 4
"""Line points looked at per site and class for a cut-in: the nearest one that passes the
geometry limits wins (the next ones are usually on the same line, ≤ 1 km further)."""
INDEX_DTYPE = np.int32
"""Candidate indices (into the grid points or line vertices, fewer than 2**31): at a million
sites × 6 classes × k = 8 an int64 array holds 384 MB, this half."""


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


MAINLAND_STEP_KM = 10.0
"""Spacing of the points along a mainland's coast and borders that :func:`mainland_distance_km`
measures to: distances are at most half of it too long, nothing beside the hundreds of km
that tell an island grid from its mainland's."""


def outline_geometry(raw: Any) -> Any:
    """Return a country outline as a shapely geometry, from WKB bytes or as it is."""
    import shapely  # noqa: PLC0415 - only with country outlines; 0.1 s on every scoring import

    return shapely.from_wkb(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else raw


def mainland_distance_km(
    country: np.ndarray, lon: np.ndarray, lat: np.ndarray, outlines: dict[str, object] | None
) -> np.ndarray:
    """Return each site's distance to its country's mainland [km]: 0 inside it, NaN where the
    country has no outline.

    The mainland is the outline's largest part by area (square degrees × cos latitude, enough
    to tell the French mainland from French Guiana or Norway from Svalbard). ``outlines`` maps
    ISO2 → shapely geometry or WKB bytes (WGS84), as for :class:`LandCheck`.
    """
    import shapely  # noqa: PLC0415 - only with country outlines, as in LandCheck

    out = np.full(len(country), np.nan)
    codes, inverse = np.unique(np.asarray(country, dtype=str), return_inverse=True)
    for j, code in enumerate(codes):
        raw: Any = (outlines or {}).get(str(code))
        if raw is None:
            continue
        parts = shapely.get_parts(outline_geometry(raw))
        area = shapely.area(parts) * np.cos(np.radians(shapely.get_y(shapely.centroid(parts))))
        mainland = parts[int(np.argmax(area))]
        shapely.prepare(mainland)
        rows = np.flatnonzero(inverse == j)
        outside = rows[~shapely.contains_xy(mainland, lon[rows], lat[rows])]
        out[rows] = 0.0
        if len(outside):
            ring = shapely.segmentize(shapely.boundary(mainland), MAINLAND_STEP_KM / KM_PER_DEGREE_LATITUDE)
            xy = shapely.get_coordinates(ring)
            chord = cKDTree(unit_vectors(xy[:, 0], xy[:, 1])).query(unit_vectors(lon[outside], lat[outside]))[0]
            out[outside] = chord_to_km(chord)
    return out


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
            import shapely  # noqa: PLC0415 - only with country outlines; 0.1 s on every scoring import

            raw = self._raw.get(code)
            if raw is None:
                self._prepared[code] = None
            else:
                geom = outline_geometry(raw)
                geom = geom.buffer(self._tolerance_deg) if self._tolerance_deg > 0 else geom
                shapely.prepare(geom)
                ring = shapely.segmentize(shapely.boundary(geom), self._step_km / KM_PER_DEGREE_LATITUDE / 2.0)
                xy = shapely.get_coordinates(ring)
                self._prepared[code] = (geom, cKDTree(unit_vectors(xy[:, 0], xy[:, 1])))
        return self._prepared[code]

    def site_margins(self, country: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return, per site, whether it lies inside its country's outline and how far from the
        outline's boundary it is at least [km] (inf where the country has no outline)."""
        import shapely  # noqa: PLC0415 - only with country outlines, as above

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
        import shapely  # noqa: PLC0415 - only with country outlines, as above

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
    """Return the country arrays as int codes of one shared list, or all None when one is None
    (the country check needs both sides)."""
    if any(a is None for a in arrays):
        return [None for _ in arrays]
    present = [np.asarray(a, dtype=str) for a in arrays if a is not None]
    _, inverse = np.unique(np.concatenate(present), return_inverse=True)
    out: list[np.ndarray | None] = []
    at = 0
    for a in present:
        out.append(inverse[at : at + len(a)].astype(np.int64))
        at += len(a)
    return out


@dataclass
class _Located:
    """Sites or points as the searches take them: unit vectors, WGS84 latitude and longitude in
    radians, cos(latitude) and country codes shared with the other side (None: no country
    check)."""

    xyz: np.ndarray  # float64[n, 3]
    lat_rad: np.ndarray  # float64[n]
    lon_rad: np.ndarray  # float64[n]
    cos_lat: np.ndarray  # float64[n]
    code: np.ndarray | None  # int64[n]

    @classmethod
    def of(cls, lon: np.ndarray, lat: np.ndarray, code: np.ndarray | None) -> _Located:
        xyz = unit_vectors(lon, lat)
        if not np.isfinite(xyz).all():
            raise ValueError("longitude and latitude must be finite")  # as the KD-tree has always said
        lat_rad = np.radians(lat)
        return cls(xyz, lat_rad, np.radians(lon), np.cos(lat_rad), code)


def km_to_chord(km: float) -> float:
    """Return the chord on the unit sphere of a great-circle distance [km], widened by a few
    parts in 10^12 so that every point whose :func:`chord_to_km` is at most ``km`` lies strictly
    inside it (the searches keep only chords below their bound); inf stays inf."""
    if not km < np.pi * EARTH_RADIUS_KM:
        return np.inf
    return 2.0 * np.sin(km / (2.0 * EARTH_RADIUS_KM)) * (1.0 + 1e-12) + 1e-15


CELL_SEARCH_MAX_KM = 500.0
"""Largest radius searched through latitude × longitude cells; beyond it (or without a radius)
every site goes through the KD-tree, whose cost does not grow with the radius. The geometry
limits are at most the search radius (100 km by default). [km]"""
CELL_SEARCH_MAX_READS = 512
"""Most points the cells search may expect to read per site; beyond, the KD-tree is faster (on
the shipped grid a site reads 30–70 points per class and the cells take a third of the tree's
time; on the 1 km densified lines it reads 1,200–1,500 and takes 15 % more). [-]"""
CELLS_PER_POINT = 16
"""At most this many cells per point (and 2**16 in any case): cells are as wide as the search
radius unless that would leave the grid mostly empty, then wider. [-]"""


def _cells(lat_rad: np.ndarray, lon_rad: np.ndarray, radius_rad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a latitude × longitude grid of points: ``(order, start, frame)``, cell ``r ×
    n_cols + c`` holding points ``order[start[cell] : start[cell + 1]]``, and ``frame`` = (lat0,
    lon0, cell size [rad], n_rows, n_cols)."""
    lat0, lon0 = float(lat_rad.min()), float(lon_rad.min())
    span_lat, span_lon = float(lat_rad.max()) - lat0, float(lon_rad.max()) - lon0
    size = max(radius_rad, 1e-9)
    size = max(
        size, float(np.sqrt((span_lat + size) * (span_lon + size) / max(CELLS_PER_POINT * lat_rad.size, 1 << 16)))
    )
    n_rows, n_cols = int(span_lat // size) + 1, int(span_lon // size) + 1
    row = np.minimum(np.floor((lat_rad - lat0) / size).astype(np.int64), n_rows - 1)
    col = np.minimum(np.floor((lon_rad - lon0) / size).astype(np.int64), n_cols - 1)
    cell = row * n_cols + col
    order = np.argsort(cell, kind="stable")
    start = np.searchsorted(cell[order], np.arange(n_rows * n_cols + 1)).astype(INDEX_DTYPE)  # small: stays in cache
    return order, start, np.array([lat0, lon0, size, n_rows, n_cols], dtype=np.float64)


def _reads_per_site(start: np.ndarray, frame: np.ndarray, radius_rad: float) -> float:
    """Return about how many points the cells search reads per site: the rows × columns of cells
    it looks at, at the grid's middle latitude, times the points per cell as a point sees them
    (Σ count² / Σ count: sites stand where the points are, not in the empty cells)."""
    count = np.diff(start).astype(np.float64)
    if count.sum() == 0:
        return 0.0
    per_cell = float((count * count).sum() / count.sum())
    lat0, size, n_rows = frame[0], frame[2], frame[3]
    cos_mid = max(float(np.cos(lat0 + size * n_rows / 2.0)), 1e-3)
    return (2.0 * radius_rad / size + 1.0) * (2.0 * radius_rad / (size * cos_mid) + 1.0) * per_cell


@njit(parallel=True, cache=True)
def _nearest_in_cells(
    site_xyz: np.ndarray,
    site_lat: np.ndarray,
    site_lon: np.ndarray,
    site_cos_lat: np.ndarray,
    site_code: np.ndarray,
    point_xyz: np.ndarray,
    point_index: np.ndarray,
    point_code: np.ndarray,
    start: np.ndarray,
    frame: np.ndarray,
    radius_rad: float,
    bound: float,
    max_km: float,
    out_point: np.ndarray,
    out_dist_km: np.ndarray,
    out_tied: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Fill ``out_point[i]``/``out_dist_km[i]`` with the k nearest points of country
    ``site_code[i]`` whose chord to site i is below ``bound`` and whose great-circle distance is
    at most ``max_km``, nearest first; −1/NaN after. Set ``out_tied[i]`` when two of the k + 1
    nearest are exactly as near: which one comes first (or k-th) is then the KD-tree's to say.

    ``point_*`` are in grid order (:func:`_cells`, cells at least ``radius_rad`` ≥ the angle of
    ``bound`` wide). The squared chord is summed in the KD-tree's order (x² + y², then + z²), so
    the chords are bit for bit the KD-tree's.
    """
    k = out_point.shape[1]
    lat0, lon0, size = frame[0], frame[1], frame[2]
    n_rows, n_cols = int(frame[3]), int(frame[4])
    bound2 = bound * bound
    sin_radius = np.sin(radius_rad)
    for i in prange(site_xyz.shape[0]):
        row_p = out_point[i]
        row_d = out_dist_km[i]  # squared chords while searching, km at the end
        count = 0
        next_d2 = np.inf  # the (k+1)-th squared chord: the least of those pushed out or left out
        lat, lon = site_lat[i], site_lon[i]
        r0 = max(int(np.floor((lat - radius_rad - lat0) / size)), 0)
        r1 = min(int(np.floor((lat + radius_rad - lat0) / size)), n_rows - 1)
        # Longitudes within the radius: ± asin(sin ρ / cos φ) ≤ ± s / √(1 − s²) with s = sin ρ /
        # cos φ; every longitude when the cap nears a pole.
        half = np.pi
        if abs(lat) + radius_rad < np.pi / 2.0 - 1e-9:
            s = sin_radius / site_cos_lat[i]
            if s < 0.5:
                half = s / np.sqrt(1.0 - s * s) * (1.0 + 1e-9) + 1e-12
        x, y, z = site_xyz[i, 0], site_xyz[i, 1], site_xyz[i, 2]
        code = site_code[i]
        for turn in range(-1, 2):  # the cap may cross ±180°: look one turn either side too
            if half >= np.pi:
                if turn != 0:
                    continue
                c0, c1 = 0, n_cols - 1
            else:
                centre = lon + turn * 2.0 * np.pi
                c0 = max(int(np.floor((centre - half - lon0) / size)), 0)
                c1 = min(int(np.floor((centre + half - lon0) / size)), n_cols - 1)
            if c0 > c1:
                continue
            for r in range(r0, r1 + 1):
                for j in range(start[r * n_cols + c0], start[r * n_cols + c1 + 1]):
                    if point_code[j] != code:
                        continue
                    dx = x - point_xyz[j, 0]
                    dy = y - point_xyz[j, 1]
                    dz = z - point_xyz[j, 2]
                    d2 = dx * dx + dy * dy
                    d2 = d2 + dz * dz
                    if d2 >= bound2:
                        continue
                    p = point_index[j]
                    if count == k:
                        if d2 >= row_d[k - 1]:
                            next_d2 = min(next_d2, d2)
                            continue
                        next_d2 = min(next_d2, row_d[k - 1])
                        at = k - 1
                    else:
                        at = count
                        count += 1
                    while at > 0 and row_d[at - 1] > d2:
                        row_d[at] = row_d[at - 1]
                        row_p[at] = row_p[at - 1]
                        at -= 1
                    row_d[at] = d2
                    row_p[at] = p
        tied = count == k and next_d2 == row_d[k - 1]
        for s in range(1, count):
            tied = tied or row_d[s] == row_d[s - 1]
        out_tied[i] = tied
        kept = 0
        for s in range(count):  # chord_to_km, then the limit, compacting as _compact does
            km = 2.0 * EARTH_RADIUS_KM * np.arcsin(min(max(np.sqrt(row_d[s]) / 2.0, 0.0), 1.0))
            if km <= max_km:
                row_p[kept] = row_p[s]
                row_d[kept] = km
                kept += 1
        for s in range(kept, k):
            row_p[s] = -1
            row_d[s] = np.nan


TREE_THREADS_MIN_SITES = 10_000
"""Sites from which a KD-tree query runs on every core: below, starting the threads costs more
than they save (the tied sites of a class come a few dozen per country). [-]"""


def _nearest_by_tree(
    sites: _Located, rows: np.ndarray, points: _Located, eligible: np.ndarray, k: int, max_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return, for sites ``rows``, the k nearest eligible points (of the site's country when both
    sides have one) as one KD-tree per country finds them, then those within ``max_km``,
    compacted: −1/NaN after the last.

    Between points exactly as near as each other the tree's own order decides, so the tree is
    built as it always has been (the country's eligible points in index order) and asked for
    the k nearest without a bound: the bound would change which ones it visits first."""
    pts = np.full((len(rows), k), -1, dtype=INDEX_DTYPE)
    dist = np.full((len(rows), k), np.nan)
    site_code, point_code = sites.code, points.code
    if site_code is None or point_code is None:
        groups = [(np.arange(len(rows)), eligible)]
    else:
        codes = site_code[rows]
        groups = [(np.flatnonzero(codes == c), eligible[point_code[eligible] == c]) for c in np.unique(codes)]
    for at, cand in groups:
        if cand.size == 0:
            continue
        kk = min(k, cand.size)
        workers = -1 if len(at) >= TREE_THREADS_MIN_SITES else 1
        chord, idx = cKDTree(points.xyz[cand]).query(sites.xyz[rows[at]], k=kk, workers=workers)
        pts[at, :kk] = cand.astype(INDEX_DTYPE)[idx.reshape(len(at), kk)]
        dist[at, :kk] = chord_to_km(chord.reshape(len(at), kk))
    return _compact(pts, dist, (pts >= 0) & (dist <= max_km))


def _knn(
    sites: _Located,
    points: _Located,
    eligible: np.ndarray,
    k: int,
    max_km: float,
    out_point: np.ndarray,
    out_dist_km: np.ndarray,
    search: str = "auto",
) -> None:
    """Fill ``out_point``/``out_dist_km`` (n × k) with, per site, the k nearest eligible points
    (of the site's country when both sides have countries) that are within ``max_km``
    (great-circle), nearest first; −1/NaN after the last.

    The KD-tree per country (``search="kdtree"``) finds the k nearest however far, and the
    limit drops most of them: at a million sites that was most of the scoring time. Grid cells
    (``"cells"``) find only the points within the radius, and the few sites with two points
    exactly as near go through the tree, so the answer is the tree's to the bit, ties included.
    ``"auto"`` takes the cells up to :data:`CELL_SEARCH_MAX_KM` while a site would read at most
    :data:`CELL_SEARCH_MAX_READS` points (the densified lines are denser), else the tree."""
    n = len(sites.xyz)
    if eligible.size == 0:
        out_point.fill(-1)
        out_dist_km.fill(np.nan)
        return
    if search == "kdtree" or (search == "auto" and not max_km <= CELL_SEARCH_MAX_KM):
        out_point[:], out_dist_km[:] = _nearest_by_tree(sites, np.arange(n), points, eligible, k, max_km)
        return
    bound = km_to_chord(max_km)
    radius_rad = 2.0 * np.arcsin(min(bound / 2.0, 1.0)) * (1.0 + 1e-9) + 1e-12
    order, start, frame = _cells(points.lat_rad[eligible], points.lon_rad[eligible], radius_rad)
    if search == "auto" and _reads_per_site(start, frame, radius_rad) > CELL_SEARCH_MAX_READS:
        out_point[:], out_dist_km[:] = _nearest_by_tree(sites, np.arange(n), points, eligible, k, max_km)
        return
    cand = eligible[order]
    site_code, point_code = sites.code, points.code
    if site_code is None or point_code is None:  # no country check: every code the same
        site_code, point_code = np.zeros(n, dtype=np.int64), np.zeros(len(points.xyz), dtype=np.int64)
    tied = np.empty(n, dtype=np.bool_)
    _nearest_in_cells(
        sites.xyz,
        sites.lat_rad,
        sites.lon_rad,
        sites.cos_lat,
        site_code,
        np.ascontiguousarray(points.xyz[cand]),
        cand.astype(INDEX_DTYPE),
        point_code[cand].astype(INDEX_DTYPE),
        start,
        frame,
        radius_rad,
        bound,
        max_km,
        out_point,
        out_dist_km,
        tied,
    )
    rows = np.flatnonzero(tied)
    if rows.size:
        out_point[rows], out_dist_km[rows] = _nearest_by_tree(sites, rows, points, eligible, k, max_km)


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
    search: str = "auto",
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
    if n == 0 or len(point_lon) == 0:
        return np.full((n_classes, n, k), -1, dtype=INDEX_DTYPE), np.full((n_classes, n, k), np.nan)
    # Every class's rows are written in full below.
    cand_point = np.empty((n_classes, n, k), dtype=INDEX_DTYPE)
    cand_dist = np.empty((n_classes, n, k))
    site_code, point_code = _country_codes(site_country, point_country)
    sites = _Located.of(site_lon, site_lat, site_code)
    points = _Located.of(point_lon, point_lat, point_code)
    for c in range(n_classes):
        eligible = eligible_points(point_kv, class_kv, c, tolerance)
        radius = np.inf if max_km is None else float(max_km[c])
        _knn(sites, points, eligible, k, radius, cand_point[c], cand_dist[c], search)
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
    search: str = "auto",
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
    vertex_kv = lines.line_kv[lines.vertex_line]
    site_code, vertex_code = _country_codes(site_country, lines.vertex_country)
    sites = _Located.of(site_lon, site_lat, site_code)
    verts = _Located.of(lines.vertex_lon, lines.vertex_lat, vertex_code)
    k = CUT_IN_NEAREST_VERTICES
    pts = np.empty((n, k), dtype=INDEX_DTYPE)
    dist = np.empty((n, k))
    margins = None
    for c in range(max(min_class, 0), n_classes):
        eligible = np.flatnonzero(vertex_kv * (1.0 + tolerance) >= class_kv[c])
        radius = np.inf if max_km is None else float(max_km[c])
        _knn(sites, verts, eligible, k, radius, pts, dist, search)
        keep = pts >= 0
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
