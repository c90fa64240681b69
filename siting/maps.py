"""Plotly figures for the maps: no request, no ORM, no network.

The base map is a MapLibre style made here (a plain background and GeoJSON layers shipped in
``fixtures/``), so nothing is fetched from a tile or font server. Online tiles are an
optional extra (``online_tiles=True``), off by default. No trace draws map text labels
(those would need font glyphs from the internet): names show on hover.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

SCORE_COLORSCALE = "Viridis"
VOLTAGE_COLORS_KV = {400.0: "#b2182b", 225.0: "#ef8a62", 150.0: "#f4a582", 90.0: "#67a9cf", 63.0: "#2166ac", 45.0: "#7f7f7f"}
EXCLUDED_COLOR = "#9e9e9e"


def offline_style(background: str = "#f3f6f8") -> dict[str, Any]:
    """Return a MapLibre style with only a background: nothing to download.

    It carries an empty GeoJSON source because plotly drops an empty ``sources`` object when
    it updates a figure, and MapLibre then rejects the style.
    """
    return {
        "version": 8,
        "sources": {"none": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
        "layers": [{"id": "bg", "type": "background", "paint": {"background-color": background}}],
    }


def boundary_layers(countries: dict | None, subdivisions: dict | None) -> list[dict[str, Any]]:
    """Return map layers drawing country fills and outlines, and finer outlines if given."""
    layers: list[dict[str, Any]] = []
    if countries:
        layers.append({"sourcetype": "geojson", "source": countries, "type": "fill", "color": "#ffffff", "below": "traces", "opacity": 1.0})
        layers.append({"sourcetype": "geojson", "source": countries, "type": "line", "color": "#8a99a8", "line": {"width": 0.8}, "below": "traces"})
    if subdivisions:
        layers.append({"sourcetype": "geojson", "source": subdivisions, "type": "line", "color": "#c3ccd5", "line": {"width": 0.5}, "below": "traces"})
    return layers


def _figure_dict(fig: go.Figure) -> dict[str, Any]:
    """Return a figure as plain JSON types (for ``json_script``)."""
    return json.loads(fig.to_json())


def site_figures(detail, *, labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Return the site page's figures as plain dicts: ``map``, ``breakdown``, ``ladder``.

    ``detail`` is a :class:`siting.dashboard.SiteDetail`. The map has no base layer of its
    own: the page adds the shipped boundaries (no tiles).
    """
    site = detail.site
    fig = go.Figure()
    for opt in detail.options:
        chosen = detail.chosen_point_id == opt.point_id
        fig.add_trace(go.Scattermap(
            lon=[site.longitude, opt.longitude], lat=[site.latitude, opt.latitude], mode="lines",
            line={"width": 4 if chosen else 1.5, "color": "#1f7a5a" if chosen else ("#5b6b7b" if opt.qualifies else "#c9a0a0")},
            hoverinfo="skip", showlegend=False,
        ))
    if detail.options:
        opts = detail.options
        text = [
            f"{o.voltage_kv:g} kV · {labels['distance']} {o.line_km:.1f} km · {labels['cost']} {o.cost_meur:.1f} M€ · "
            f"{labels['time']} {o.time_to_power_months:.0f} · {labels['headroom']} {o.headroom_mw:.0f} MW"
            + (f" ({labels['estimated']})" if o.headroom_estimated else "")
            for o in opts
        ]
        colors = ["#1f7a5a" if detail.chosen_point_id == o.point_id else ("#14365d" if o.qualifies else "#b3261e") for o in opts]
        fig.add_trace(go.Scattermap(
            lon=[o.longitude for o in opts], lat=[o.latitude for o in opts], mode="markers",
            marker={"size": [14 if detail.chosen_point_id == o.point_id else 9 for o in opts], "color": colors},
            text=text, hovertemplate="%{text}<extra></extra>", name=labels["candidate"],
        ))
    fig.add_trace(go.Scattermap(
        lon=[site.longitude], lat=[site.latitude], mode="markers", marker={"size": 16, "color": "#f2a900"},
        text=[site.name], hovertemplate="<b>%{text}</b><extra></extra>", name=labels["site"],
    ))
    lons = [site.longitude] + [o.longitude for o in detail.options]
    lats = [site.latitude] + [o.latitude for o in detail.options]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 0.05)
    zoom = float(np.clip(8.5 - np.log2(span / 0.1), 4.0, 11.0))
    fig.update_layout(
        map={"style": offline_style(), "center": {"lon": site.longitude, "lat": site.latitude}, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=380, showlegend=False,
    )
    out = {"map": _figure_dict(fig)}

    if detail.breakdown:
        names = [b["label"] for b in detail.breakdown]
        points = [b["points"] or 0.0 for b in detail.breakdown]
        most = [100.0 * b["weight"] for b in detail.breakdown]
        bars = go.Figure([
            go.Bar(y=names, x=most, orientation="h", marker={"color": "#e3e9ef"}, name="max", hoverinfo="skip"),
            go.Bar(y=names, x=points, orientation="h", marker={"color": "#14365d"}, name=labels["points"],
                   hovertemplate="%{y}: %{x:.1f}<extra></extra>"),
        ])
        bars.update_layout(barmode="overlay", height=260, margin={"l": 10, "r": 10, "t": 10, "b": 30}, showlegend=False,
                           xaxis={"title": {"text": labels["points"]}, "range": [0, max(most + [1.0]) * 1.05]},
                           yaxis={"autorange": "reversed"})
        out["breakdown"] = _figure_dict(bars)

    if detail.ladder:
        sizes = [r["size_h100e"] for r in detail.ladder]
        ok = [bool(r["feasible"]) for r in detail.ladder]
        ladder = go.Figure([
            go.Scatter(x=sizes, y=[r["tco_eur_per_gpu_hour"] for r in detail.ladder], mode="lines+markers",
                       name=labels["tco"], marker={"symbol": ["circle" if f else "x" for f in ok], "size": 9},
                       hovertemplate="%{x:,} H100e: %{y:.2f} EUR<extra></extra>"),
            go.Scatter(x=sizes, y=[r["time_to_power_months"] for r in detail.ladder], mode="lines+markers",
                       name=labels["ttp"], yaxis="y2", line={"dash": "dot"},
                       hovertemplate="%{x:,} H100e: %{y:.0f}<extra></extra>"),
        ])
        ladder.update_layout(
            height=300, margin={"l": 50, "r": 50, "t": 10, "b": 40}, legend={"orientation": "h", "y": -0.25},
            xaxis={"type": "log", "title": {"text": labels["size"]}, "tickvals": sizes},
            yaxis={"title": {"text": labels["tco"]}, "rangemode": "tozero"},
            yaxis2={"title": {"text": labels["ttp"]}, "overlaying": "y", "side": "right", "rangemode": "tozero"},
        )
        out["ladder"] = _figure_dict(ladder)
    return out


def _marker_size_px(largest_size_h100e: np.ndarray) -> np.ndarray:
    # Area grows with the log of the largest cluster a site can host: 1k → 6 px, 100k → 16 px.
    sizes = np.where(np.isfinite(largest_size_h100e) & (largest_size_h100e > 0), largest_size_h100e, 1000.0)
    return 6.0 + 5.0 * (np.log10(sizes) - 3.0)


def ranked_map_figure(
    *,
    sites: pd.DataFrame,
    labels: dict[str, str],
    substations: pd.DataFrame | None = None,
    zones: pd.DataFrame | None = None,
    countries_geojson: dict | None = None,
    subdivisions_geojson: dict | None = None,
    online_tiles: bool = False,
    show_excluded: bool = True,
    center: tuple[float, float] = (47.0, 5.0),
    zoom: float = 3.6,
) -> go.Figure:
    """Return the ranked-sites map.

    Parameters
    ----------
    sites : DataFrame
        One row per site at the chosen size: ``site_id, site_name, longitude, latitude, feasible,
        score`` [0–100], ``rank``, ``tco_eur_per_gpu_hour`` [EUR/GPU-h], ``time_to_power_months``
        [month], ``emissions_t_per_yr`` [tCO2e/yr], ``largest_size_h100e`` [H100e],
        ``exclusion_text`` (reasons, already translated).
    labels : dict
        Translated trace names and hover labels (keys: sites, excluded, substations, carbon,
        rank, score, tco, ttp, emissions, reasons, voltage).
    substations : DataFrame, optional
        ``longitude, latitude, voltage_kv, name``: drawn as a layer toggled from the legend.
    zones : DataFrame, optional
        ``country, carbon_intensity_g_per_kwh``: a choropleth over ``countries_geojson``
        (features keyed by ``properties.iso_a2``), hidden until toggled.
    """
    fig = go.Figure()
    if zones is not None and countries_geojson is not None and len(zones):
        fig.add_trace(go.Choroplethmap(
            geojson=countries_geojson, featureidkey="properties.iso_a2",
            locations=zones["country"], z=zones["carbon_intensity_g_per_kwh"],
            colorscale="YlOrRd", zmin=0, zmax=800, marker={"opacity": 0.55, "line": {"width": 0}},
            name=labels["carbon"], visible="legendonly", showlegend=True, showscale=False,
            hovertemplate="%{location}: %{z:.0f} gCO2e/kWh<extra></extra>",
        ))
    if substations is not None and len(substations):
        for kv, group in substations.groupby("voltage_kv", sort=False):
            fig.add_trace(go.Scattermap(
                lon=group["longitude"], lat=group["latitude"], mode="markers",
                marker={"size": 4 if kv < 200 else 5, "color": VOLTAGE_COLORS_KV.get(float(kv), "#555555"), "opacity": 0.8},
                name=f"{labels['substations']} {kv:g} kV", legendgroup="substations", visible="legendonly",
                text=group["name"], hovertemplate=f"%{{text}} · {kv:g} kV<extra></extra>",
            ))
    excluded = sites[~sites["feasible"].astype(bool)]
    if show_excluded and len(excluded):
        fig.add_trace(go.Scattermap(
            lon=excluded["longitude"], lat=excluded["latitude"], mode="markers",
            marker={"size": 5, "color": EXCLUDED_COLOR, "opacity": 0.5}, name=labels["excluded"],
            customdata=np.stack([excluded["site_id"], excluded["exclusion_text"]], axis=-1),
            text=excluded["site_name"], visible="legendonly",
            hovertemplate=f"<b>%{{text}}</b><br>{labels['reasons']}: %{{customdata[1]}}<extra></extra>",
        ))
    ranked = sites[sites["feasible"].astype(bool)].sort_values("score")
    fig.add_trace(go.Scattermap(
        lon=ranked["longitude"], lat=ranked["latitude"], mode="markers",
        marker={
            "size": _marker_size_px(ranked["largest_size_h100e"].to_numpy(dtype=float)),
            "color": ranked["score"], "colorscale": SCORE_COLORSCALE, "cmin": 0, "cmax": 100,
            "colorbar": {"title": {"text": labels["score"]}, "thickness": 12, "x": 1.0},
        },
        name=labels["sites"], text=ranked["site_name"],
        customdata=np.stack([
            ranked["site_id"], ranked["rank"], ranked["score"], ranked["tco_eur_per_gpu_hour"],
            ranked["time_to_power_months"], ranked["emissions_t_per_yr"],
        ], axis=-1),
        hovertemplate=(
            "<b>%{text}</b><br>"
            f"{labels['rank']}: %{{customdata[1]:.0f}} · {labels['score']}: %{{customdata[2]:.1f}}<br>"
            f"{labels['tco']}: %{{customdata[3]:.2f}} EUR<br>"
            f"{labels['ttp']}: %{{customdata[4]:.0f}}<br>"
            f"{labels['emissions']}: %{{customdata[5]:,.0f}} t<extra></extra>"
        ),
    ))
    map_layout: dict[str, Any] = {"center": {"lat": center[0], "lon": center[1]}, "zoom": zoom}
    if online_tiles:
        map_layout["style"] = "open-street-map"
    else:
        map_layout["style"] = offline_style()
        map_layout["layers"] = boundary_layers(countries_geojson, subdivisions_geojson)
    fig.update_layout(
        map=map_layout, margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=620,
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"}, uirevision="keep",
    )
    return fig
