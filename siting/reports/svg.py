"""Vector charts and the static map of the PDF comparison, as inline SVG strings.

Pure functions: numbers, labels and colours in, SVG text out; no Django, no request, no
network. Text is drawn in DejaVu Sans (the PDF embeds it) and every label arrives already
formatted in the reader's language, so this module knows nothing of locales.

Map coordinates are WGS84 longitude/latitude in degrees, drawn in the spherical Mercator
projection (EPSG:3857 up to a scale factor), which keeps shapes right at the scale of a
shortlist (a region to a few countries).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import shapely

FONT_FAMILY = "DejaVu Sans"
UNITS_PER_MM = 4.0
"""SVG user units per millimetre on the page: a 680-unit chart prints 170 mm wide."""
INK, MUTED, GRID_LINE, BAD = "#1c2733", "#5b6b7b", "#d9e1e8", "#b3261e"
SEA, LAND, COUNTRY_EDGE, SUBDIVISION_EDGE = "#e8eff5", "#ffffff", "#8a99a8", "#cfd7df"
VOLTAGE_COLORS_KV = (
    (400.0, "#b2182b"),
    (225.0, "#ef8a62"),
    (150.0, "#f4a582"),
    (90.0, "#67a9cf"),
    (63.0, "#2166ac"),
    (0.0, "#7f7f7f"),
)
"""Substation colour by the lowest voltage [kV] of each band, highest first (as on the web map)."""
EARTH_RADIUS_KM = 6371.0088
OUTLINE_TOLERANCE_UNITS = 1.5
"""Outlines are simplified to this many drawing units (0.4 mm on the page): finer detail does not
print, and every point is parsed again by WeasyPrint's SVG reader. [SVG units]"""


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: float, height: float, body: str, *, title: str, css_class: str = "chart") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width / UNITS_PER_MM:.1f}mm" height="{height / UNITS_PER_MM:.1f}mm" '
        f'font-family="{FONT_FAMILY}" font-size="11" fill="{INK}"><title>{_esc(title)}</title>{body}</svg>'
    )


def data_uri(svg: str) -> str:
    """Return ``svg`` as a ``data:`` URI for an ``<img>``.

    An image is parsed by the SVG reader (a C XML parser) rather than the HTML parser and
    takes no part in the CSS cascade: the document renders in about half the time, and the
    drawing stays vector with real text.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: float = 11, fill: str = INK, weight: str = "normal"
) -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" fill="{fill}"{bold}>{_esc(text)}</text>'


def nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    """Return about ``n`` round tick values covering [low, high] (1, 2, 2.5 or 5 × 10^k steps)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(n - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """Return the powers of ten (and their 3× when few) spanning [low, high], low ≥ 1."""
    top = max(1, math.ceil(math.log10(max(high, 1.0))))
    ticks = [10.0**k for k in range(0, top + 1)]
    if len(ticks) <= 3:
        ticks = sorted(ticks + [3.0 * 10.0**k for k in range(0, top)])
    return [t for t in ticks if t <= 10.0**top]


# --- ladder ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One site's values along the size ladder; ``feasible`` marks filled points."""

    label: str
    color: str
    values: Sequence[float]
    feasible: Sequence[bool]


def ladder_svg(
    *,
    sizes: Sequence[int],
    series: Sequence[Series],
    title: str,
    axis_label: str,
    size_label: str,
    size_format: Callable[[int], str],
    tick_format: Callable[[float], str],
    width: float = 330.0,
    zero_based: bool = True,
) -> str:
    """Return a line chart of one quantity along the cluster-size ladder, one line per site.

    Sizes are equally spaced (the ladder is roughly logarithmic); a filled marker is a size
    the site can host, a hollow one a size where it is excluded. ``zero_based=False`` fits
    the axis to the values, for quantities whose differences matter more than their size.
    """
    left, right, top, bottom = 46.0, 10.0, 38.0, 40.0
    height = 222.0
    plot_h = height - top - bottom
    values = [v for s in series for v in s.values if math.isfinite(v)]
    if zero_based or not values:
        low, high = min(values + [0.0]), max(values + [1.0])
    else:
        low, high = min(values), max(values)
        pad = max((high - low) * 0.1, abs(high) * 0.01, 1e-9)
        low, high = low - pad, high + pad
    ticks = nice_ticks(low, high, 5)
    low, high = ticks[0], ticks[-1]
    n = len(sizes)

    def sx(i: int) -> float:
        return left + (i + 0.5) * (width - left - right) / max(n, 1)

    def sy(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [_text(0, 13, title, size=12, weight="bold")]
    for t in ticks:
        parts.append(
            f'<line x1="{left:.1f}" y1="{sy(t):.1f}" x2="{width - right:.1f}" y2="{sy(t):.1f}" stroke="{GRID_LINE}" stroke-width="0.7"/>'
        )
        parts.append(_text(left - 4, sy(t) + 3, tick_format(t), anchor="end", size=9, fill=MUTED))
    for i, size in enumerate(sizes):
        parts.append(_text(sx(i), top + plot_h + 12, size_format(size), anchor="middle", size=8.5, fill=MUTED))
    parts.append(_text((left + width - right) / 2, height - 12, size_label, anchor="middle", size=9, fill=MUTED))
    parts.append(_text(left - 40, top - 8, axis_label, size=9, fill=MUTED))
    for s in series:
        points = [(sx(i), sy(v), ok) for i, (v, ok) in enumerate(zip(s.values, s.feasible)) if math.isfinite(v)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ok in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="1.6"/>')
        for x, y, ok in points:
            fill = s.color if ok else "#ffffff"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{fill}" stroke="{s.color}" stroke-width="1.3"/>'
            )
    return _svg(width, height, "".join(parts), title=title)


# --- Monte Carlo rank axis ----------------------------------------------------------------------------


def rank_axis(high: float) -> tuple[list[float], Callable[[float], float]]:
    """Return the ticks of a rank axis from 1 to at least ``high`` and the position of a rank [% of the width].

    Logarithmic when ranks spread beyond 50, so the top places stay readable next to a long
    tail; linear otherwise. Rank 1 is at 0 %.
    """
    if high > 50:
        ticks = log_ticks(1.0, high)
        top = math.log10(ticks[-1])
        return ticks, lambda v: 100.0 * math.log10(min(max(v, 1.0), ticks[-1])) / top
    ticks = [t for t in nice_ticks(1.0, max(high, 2.0), 6) if t >= 1] or [1.0]
    if ticks[0] > 1:
        ticks = [1.0] + ticks
    span = max(ticks[-1] - 1.0, 1.0)
    return ticks, lambda v: 100.0 * (min(max(v, 1.0), ticks[-1]) - 1.0) / span


# --- static map ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapSite:
    number: int
    longitude: float
    latitude: float
    color: str
    connection: tuple[float, float] | None = None  # (longitude, latitude) of the chosen point


@dataclass(frozen=True)
class MapPoint:
    longitude: float
    latitude: float
    voltage_kv: float


@dataclass(frozen=True)
class MapLayers:
    """Outlines to draw, as shapely geometries (WGS84); shared between documents, never modified."""

    countries: Sequence = ()
    subdivisions: Sequence = ()


def _mercator_y(lat_deg: np.ndarray | float) -> np.ndarray | float:
    lat = np.radians(np.clip(lat_deg, -85.0, 85.0))
    return np.degrees(np.log(np.tan(np.pi / 4.0 + lat / 2.0)))


def _mercator_lat(y_deg: float) -> float:
    return float(np.degrees(2.0 * np.arctan(np.exp(np.radians(y_deg))) - np.pi / 2.0))


def map_bounds(
    lons: Sequence[float], lats: Sequence[float], *, pad_share: float = 0.18, min_span_deg: float = 0.8
) -> tuple[float, float, float, float]:
    """Return (west, south, east, north) [degrees] around the points, padded, at least ``min_span_deg`` wide."""
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span_x = max(east - west, min_span_deg)
    span_y = max(north - south, min_span_deg * 0.7)
    cx, cy = (west + east) / 2, (south + north) / 2
    span_x *= 1 + 2 * pad_share
    span_y *= 1 + 2 * pad_share
    return cx - span_x / 2, max(cy - span_y / 2, -84.0), cx + span_x / 2, min(cy + span_y / 2, 84.0)


def square_bounds(longitude: float, latitude: float, half_span_deg: float) -> tuple[float, float, float, float]:
    """Return bounds centred on a point that project to a square, ``half_span_deg`` of longitude each side."""
    y = float(_mercator_y(latitude))
    return (
        longitude - half_span_deg,
        _mercator_lat(y - half_span_deg),
        longitude + half_span_deg,
        _mercator_lat(y + half_span_deg),
    )


def voltage_color(voltage_kv: float) -> str:
    """Return the map colour of a substation of ``voltage_kv`` [kV]."""
    return next(color for low, color in VOLTAGE_COLORS_KV if voltage_kv >= low)


def scale_bar_km(bounds: tuple[float, float, float, float], width: float) -> tuple[int, float]:
    """Return a round scale-bar length [km] about a quarter of the map's width, and km per drawing unit.

    Measured at the centre latitude of ``bounds`` (Mercator stretches distances away from it).
    """
    west, south, east, north = bounds
    mid_lat = math.radians(_mercator_lat((float(_mercator_y(north)) + float(_mercator_y(south))) / 2))
    km_per_unit = (east - west) / width * math.pi / 180 * EARTH_RADIUS_KM * math.cos(mid_lat)
    target_km = km_per_unit * width / 4
    return max(t for t in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if t <= max(target_km, 1)), km_per_unit


def _outline_path(
    geometries: Sequence, bounds: tuple[float, float, float, float], project, tolerance_deg: float
) -> str:
    """Return SVG path data of ``geometries`` clipped to ``bounds`` and simplified.

    Clipping and simplifying with GEOS before drawing keeps the map a few kilobytes even
    when a country's full outline is thousands of points.
    """

    west, south, east, north = bounds
    # A margin so that clipped edges fall outside the frame instead of along it.
    mx, my = (east - west) * 0.02, (north - south) * 0.02
    out = []
    for geom in geometries:
        xmin, ymin, xmax, ymax = geom.bounds
        if xmax < west - mx or xmin > east + mx or ymax < south - my or ymin > north + my:
            continue
        clipped = shapely.clip_by_rect(geom, west - mx, south - my, east + mx, north + my).simplify(
            tolerance_deg, preserve_topology=False
        )
        for poly in getattr(clipped, "geoms", [clipped]):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            for ring in (poly.exterior, *poly.interiors):
                coords = np.asarray(ring.coords)
                if len(coords) < 4:
                    continue
                x, y = np.rint(project(coords[:, 0], coords[:, 1])).astype(int)
                # Implicit line-tos after the move: the same path, a third shorter to parse.
                out.append("M" + " ".join(f"{a},{b}" for a, b in zip(x.tolist(), y.tolist())) + "Z")
    return " ".join(out)


def _rects_path(centres: Sequence[tuple[float, float]], half: float) -> str:
    """Return one path drawing a square of side ``2 × half`` at each centre (one node, not many)."""
    return " ".join(
        f"M{x - half:.1f},{y - half:.1f} h{2 * half:.1f} v{2 * half:.1f} h{-2 * half:.1f} Z" for x, y in centres
    )


def map_svg(
    *,
    sites: Sequence[MapSite],
    points: Sequence[MapPoint],
    layers: MapLayers,
    title: str,
    scale_label: Callable[[float], str],
    width: float = 680.0,
    max_height: float = 620.0,
    bounds: tuple[float, float, float, float] | None = None,
    site_radius: float = 8.0,
    labels: bool = True,
) -> str:
    """Return a static map: boundaries, substations, chosen connections and numbered sites.

    The extent is ``bounds`` when given, else it fits the sites and their chosen connection
    points; outlines outside it are skipped and the rest clipped to the frame.
    ``scale_label`` formats a distance [km] for the scale bar. ``labels=False`` draws no
    text at all (the caller prints the scale, see :func:`scale_bar_km`): SVG text is the
    slowest thing WeasyPrint draws.
    """
    if bounds is None:
        lons = [s.longitude for s in sites] + [s.connection[0] for s in sites if s.connection]
        lats = [s.latitude for s in sites] + [s.connection[1] for s in sites if s.connection]
        bounds = map_bounds(lons, lats)
    west, south, east, north = bounds
    y_top, y_bottom = float(_mercator_y(north)), float(_mercator_y(south))
    scale = width / (east - west)
    height = (y_top - y_bottom) * scale
    if height > max_height:
        # Too tall for the page: widen the extent instead of squeezing the map.
        scale = max_height / (y_top - y_bottom)
        extra = (width / scale - (east - west)) / 2
        west, east = west - extra, east + extra
        height = max_height
        bounds = (west, south, east, north)

    def project(lon, lat):
        return (np.asarray(lon) - west) * scale, (y_top - _mercator_y(np.asarray(lat))) * scale

    parts = [
        '<defs><clipPath id="mapframe"><rect x="0" y="0" width="%.1f" height="%.1f"/></clipPath></defs>'
        % (width, height),
        '<g clip-path="url(#mapframe)">',
    ]
    tolerance_deg = (east - west) / width * OUTLINE_TOLERANCE_UNITS
    country_path = _outline_path(layers.countries, bounds, project, tolerance_deg)
    parts.append(
        f'<rect x="0" y="0" width="{width:.1f}" height="{height:.1f}" fill="{SEA if country_path else LAND}"/>'
    )
    if country_path:
        parts.append(
            f'<path d="{country_path}" fill="{LAND}" stroke="{COUNTRY_EDGE}" stroke-width="0.9" fill-rule="evenodd"/>'
        )
    sub_path = _outline_path(layers.subdivisions, bounds, project, tolerance_deg)
    if sub_path:
        parts.append(f'<path d="{sub_path}" fill="none" stroke="{SUBDIVISION_EDGE}" stroke-width="0.6"/>')
    by_color: dict[str, list[tuple[float, float]]] = {}
    for p in points:
        x, y = project(p.longitude, p.latitude)
        by_color.setdefault(voltage_color(p.voltage_kv), []).append((float(x), float(y)))
    for color, centres in by_color.items():
        parts.append(f'<path d="{_rects_path(centres, 3.0)}" fill="{color}" stroke="#ffffff" stroke-width="0.5"/>')
    # Only the sites inside the frame (a close-up shows its own site, and a neighbour if near).
    sites = [s for s in sites if west <= s.longitude <= east and south <= s.latitude <= north]
    for s in sites:
        if s.connection:
            (x0, y0), (x1, y1) = project(s.longitude, s.latitude), project(*s.connection)
            parts.append(
                f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{s.color}" '
                'stroke-width="1.8" stroke-dasharray="4 2"/>'
            )
            parts.append(
                f'<circle cx="{x1:.1f}" cy="{y1:.1f}" r="5" fill="none" stroke="{s.color}" stroke-width="1.5"/>'
            )
    for s in sites:
        x, y = project(s.longitude, s.latitude)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{site_radius:g}" fill="{s.color}" stroke="#ffffff" stroke-width="1.5"/>'
        )
        if labels:
            parts.append(
                _text(
                    x,
                    y + site_radius * 0.45,
                    str(s.number),
                    anchor="middle",
                    size=site_radius * 1.25,
                    fill="#ffffff",
                    weight="bold",
                )
            )
    parts.append("</g>")
    bar_km, km_per_unit = scale_bar_km((west, south, east, north), width)
    bar_w = bar_km / km_per_unit
    y = height - 8
    box_top, box_h = (y - 13, 19) if labels else (y - 7, 13)
    parts.append(
        f'<rect x="4" y="{box_top:.1f}" width="{bar_w + 12:.1f}" height="{box_h}" fill="#ffffff" fill-opacity="0.85"/>'
    )
    parts.append(
        f'<path d="M10,{y - 3:.1f} L10,{y + 2:.1f} L{10 + bar_w:.1f},{y + 2:.1f} L{10 + bar_w:.1f},{y - 3:.1f}" fill="none" stroke="{INK}" stroke-width="1.2"/>'
    )
    if labels:
        parts.append(_text(10 + bar_w / 2, y - 4, scale_label(bar_km), anchor="middle", size=9))
    parts.append(
        f'<rect x="0.5" y="0.5" width="{width - 1:.1f}" height="{height - 1:.1f}" fill="none" stroke="{MUTED}" stroke-width="0.8"/>'
    )
    return _svg(width, height, "".join(parts), title=title, css_class="map")
