"""The portfolio map: chosen sites, their grid points (shared ones marked), the alternatives.

A plotly figure as plain JSON types, no request and no ORM; the page adds the shipped
country outlines as its base (no tiles, as the other maps).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import plotly.graph_objects as go

from siting.maps import offline_style

CHOSEN_COLOR = "#14365d"
SHARED_COLOR = "#c0392b"
POINT_COLOR = "#5b6b7b"
ALTERNATIVE_COLOR = "#e07b00"


def _size_px(mw: float) -> float:
    # Marker area grows with the IT load: 10 px at ≈ 10 MW, 24 px at ≈ 250 MW.
    return float(np.clip(6.0 + 3.3 * np.sqrt(max(mw, 0.0) / 10.0), 8.0, 28.0))


def portfolio_figure(result: dict[str, Any], *, labels: dict[str, str]) -> dict[str, Any] | None:
    """Return the map of a solved portfolio (``Portfolio.result``), or None when nothing was chosen."""
    chosen = result.get("chosen") or []
    if not chosen:
        return None
    shared = {p["resource"] for p in result.get("shared_points", []) if p.get("shared")}
    fig = go.Figure()
    for c in chosen:
        if c.get("connection_longitude") is None or c.get("connection_latitude") is None:
            continue
        is_shared = c.get("resource") in shared
        fig.add_trace(
            go.Scattermap(
                lon=[c["longitude"], c["connection_longitude"]],
                lat=[c["latitude"], c["connection_latitude"]],
                mode="lines",
                line={"width": 3 if is_shared else 1.5, "color": SHARED_COLOR if is_shared else POINT_COLOR},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    points: dict[str, dict[str, Any]] = {}
    for c in chosen:
        key = c.get("resource") or ""
        if key and c.get("connection_longitude") is not None:
            p = points.setdefault(
                key,
                {
                    "lon": c["connection_longitude"],
                    "lat": c["connection_latitude"],
                    "names": [],
                    "load": 0.0,
                    "headroom": c.get("headroom_mw"),
                },
            )
            p["names"].append(c["site_name"])
            p["load"] += c.get("facility_load_mw") or 0.0
    if points:
        keys = sorted(points)
        fig.add_trace(
            go.Scattermap(
                lon=[points[k]["lon"] for k in keys],
                lat=[points[k]["lat"] for k in keys],
                mode="markers",
                marker={
                    "size": [16 if k in shared else 10 for k in keys],
                    "color": [SHARED_COLOR if k in shared else POINT_COLOR for k in keys],
                    "symbol": "circle",
                },
                text=[
                    f"{labels['point']} {k.split(':', 1)[1]} ({labels['shared'] if k in shared else labels['own_point']})"
                    f"<br>{labels['load']} {points[k]['load']:,.0f} MW / {labels['headroom']} "
                    f"{(points[k]['headroom'] or 0):,.0f} MW<br>{', '.join(points[k]['names'])}"
                    for k in keys
                ],
                hovertemplate="%{text}<extra></extra>",
                name=labels["points"],
            )
        )
    alternatives = [a for a in (result.get("alternatives") or {}).values() if a and a.get("longitude") is not None]
    if alternatives:
        fig.add_trace(
            go.Scattermap(
                lon=[a["longitude"] for a in alternatives],
                lat=[a["latitude"] for a in alternatives],
                mode="markers",
                marker={"size": 10, "color": ALTERNATIVE_COLOR, "opacity": 0.8},
                text=[f"{labels['alternative']}: {a['site_name']} · {a['size_h100e']:,} H100e" for a in alternatives],
                hovertemplate="%{text}<extra></extra>",
                name=labels["alternatives"],
            )
        )
    fig.add_trace(
        go.Scattermap(
            lon=[c["longitude"] for c in chosen],
            lat=[c["latitude"] for c in chosen],
            mode="markers",
            marker={"size": [_size_px(c.get("it_load_mw") or 0.0) for c in chosen], "color": CHOSEN_COLOR},
            text=[
                f"<b>{c['site_name']}</b> ({c.get('country', '')})<br>{c['size_h100e']:,} H100e · "
                f"{c.get('it_load_mw', 0):,.1f} MW IT<br>{labels['score']} {c.get('score', 0):.1f} · "
                f"{labels['months']} {c.get('time_to_power_months', 0):.0f}"
                for c in chosen
            ],
            hovertemplate="%{text}<extra></extra>",
            name=labels["chosen"],
        )
    )
    lons = [c["longitude"] for c in chosen]
    lats = [c["latitude"] for c in chosen]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 0.5)
    zoom = float(np.clip(6.5 - np.log2(span / 1.0), 2.5, 9.0))
    fig.update_layout(
        map={
            "style": offline_style(),
            "center": {"lon": (max(lons) + min(lons)) / 2, "lat": (max(lats) + min(lats)) / 2},
            "zoom": zoom,
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=460,
        showlegend=True,
        legend={"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(255,255,255,0.8)"},
    )
    return json.loads(fig.to_json())
