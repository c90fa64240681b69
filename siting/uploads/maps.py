"""The preview map of an upload: parsed sites by what confirming would do. No request, no ORM."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from siting.maps import boundary_layers, offline_style

ACTION_COLORS = {"create": "#1f7a5a", "update": "#14365d", "skip": "#9e9e9e"}
MAX_MAP_POINTS = 20_000
"""More points than this make the page heavy; the preview map shows an even sample."""


def upload_preview_figure(
    *, sites: pd.DataFrame, labels: dict[str, str], countries_geojson: dict | None = None
) -> go.Figure:
    """Return the preview map.

    Parameters
    ----------
    sites : DataFrame
        ``longitude, latitude`` (WGS84 degrees), ``name``, ``file_id``, ``action`` (create,
        update or skip).
    labels : dict
        Translated trace names for each action.
    countries_geojson : dict, optional
        Country outlines drawn under the points (no tiles are fetched).
    """
    if len(sites) > MAX_MAP_POINTS:
        sites = sites.iloc[np.linspace(0, len(sites) - 1, MAX_MAP_POINTS).astype(int)]
    fig = go.Figure()
    for action, color in ACTION_COLORS.items():
        group = sites[sites["action"] == action]
        if not len(group):
            continue
        fig.add_trace(
            go.Scattermap(
                lon=group["longitude"],
                lat=group["latitude"],
                mode="markers",
                marker={"size": 8, "color": color, "opacity": 0.85},
                name=labels[action],
                text=group["name"],
                customdata=group["file_id"],
                hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>",
            )
        )
    if len(sites):
        lon_c, lat_c = float(sites["longitude"].mean()), float(sites["latitude"].mean())
        span = float(max(np.ptp(sites["longitude"]), np.ptp(sites["latitude"]), 0.05))
        zoom = float(np.clip(np.log2(360.0 / span) - 1.2, 2.0, 12.0))
    else:
        lon_c, lat_c, zoom = 5.0, 47.0, 3.6
    map_layout: dict[str, Any] = {
        "center": {"lat": lat_c, "lon": lon_c},
        "zoom": zoom,
        "style": offline_style(),
        "layers": boundary_layers(countries_geojson, None),
    }
    fig.update_layout(
        map=map_layout,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=460,
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"},
    )
    return fig
