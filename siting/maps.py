"""Plotly figures for the maps: no request, no ORM, no network.

The base map is a MapLibre style made here (a plain background and GeoJSON layers shipped in
``fixtures/``), so nothing is fetched from a tile or font server. No trace draws map text
labels (those would need font glyphs from the internet): names show on hover. The ranked
map itself is drawn in the browser (``static/js/ranked_map/``, ES modules): filters and weights
redraw it without a page load.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import plotly.graph_objects as go
from django.utils.formats import number_format


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
        layers.append(
            {
                "sourcetype": "geojson",
                "source": countries,
                "type": "fill",
                "color": "#ffffff",
                "below": "traces",
                "opacity": 1.0,
            }
        )
        layers.append(
            {
                "sourcetype": "geojson",
                "source": countries,
                "type": "line",
                "color": "#8a99a8",
                "line": {"width": 0.8},
                "below": "traces",
            }
        )
    if subdivisions:
        layers.append(
            {
                "sourcetype": "geojson",
                "source": subdivisions,
                "type": "line",
                "color": "#c3ccd5",
                "line": {"width": 0.5},
                "below": "traces",
            }
        )
    return layers


def _figure_dict(fig: go.Figure) -> dict[str, Any]:
    """Return a figure as plain JSON types (for ``json_script``)."""
    return json.loads(fig.to_json())


def _num(value: float, digits: int) -> str:
    """Return a number formatted for the active language (decimal comma in French)."""

    return number_format(round(value, digits), decimal_pos=digits, use_l10n=True, force_grouping=True)


def _is_chosen(detail, option) -> bool:
    """Return whether the engine chose this option (own and cut-in options have no grid point)."""
    return bool(getattr(option, "chosen", False)) or (
        detail.chosen_point_id is not None and detail.chosen_point_id == option.point_id
    )


def _option_text(option, labels: dict[str, str]) -> str:
    """Return the hover text of one connection option (with its cost of delay where the run has it)."""
    kind = getattr(option, "kind", "")
    head = labels.get(f"kind_{kind}", "") if kind else ""
    text = (
        (f"{head} · " if head else "")
        + f"{_num(option.voltage_kv, 0)} kV · {labels['distance']} {_num(option.line_km, 1)} km · "
        f"{labels['cost']} {_num(option.cost_meur, 1)} M€ · {labels['time']} {_num(option.time_to_power_months, 0)} "
        f"{labels['months']} · {labels['headroom']} {_num(option.headroom_mw, 0)} MW"
        + (f" ({labels['estimated']})" if option.headroom_estimated else "")
    )
    delay = getattr(option, "delay_cost_meur", None)
    if delay is not None and np.isfinite(delay) and "delay" in labels:
        text += f" · {labels['delay']} {_num(delay, 1)} M€"
    return text


def site_figures(detail, *, labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Return the site page's figures as plain dicts: ``map``, ``breakdown``, ``ladder``.

    ``detail`` is a :class:`siting.dashboard.selectors.SiteDetail`. The map has no base layer of its
    own: the page adds the shipped boundaries (no tiles).
    """
    site = detail.site
    fig = go.Figure()
    for opt in detail.options:
        chosen = _is_chosen(detail, opt)
        fig.add_trace(
            go.Scattermap(
                lon=[site.longitude, opt.longitude],
                lat=[site.latitude, opt.latitude],
                mode="lines",
                line={
                    "width": 4 if chosen else 1.5,
                    "color": "#1f7a5a" if chosen else ("#5b6b7b" if opt.qualifies else "#c9a0a0"),
                },
                hoverinfo="skip",
                showlegend=False,
            )
        )
    if detail.options:
        opts = detail.options
        text = [_option_text(o, labels) for o in opts]
        colors = ["#1f7a5a" if _is_chosen(detail, o) else ("#14365d" if o.qualifies else "#b3261e") for o in opts]
        fig.add_trace(
            go.Scattermap(
                lon=[o.longitude for o in opts],
                lat=[o.latitude for o in opts],
                mode="markers",
                marker={"size": [14 if _is_chosen(detail, o) else 9 for o in opts], "color": colors},
                text=text,
                hovertemplate="%{text}<extra></extra>",
                name=labels["candidate"],
            )
        )
    fig.add_trace(
        go.Scattermap(
            lon=[site.longitude],
            lat=[site.latitude],
            mode="markers",
            marker={"size": 16, "color": "#f2a900"},
            text=[site.name],
            hovertemplate="<b>%{text}</b><extra></extra>",
            name=labels["site"],
        )
    )
    lons = [site.longitude] + [o.longitude for o in detail.options]
    lats = [site.latitude] + [o.latitude for o in detail.options]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 0.05)
    zoom = float(np.clip(8.5 - np.log2(span / 0.1), 4.0, 11.0))
    fig.update_layout(
        map={"style": offline_style(), "center": {"lon": site.longitude, "lat": site.latitude}, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=380,
        showlegend=False,
    )
    out = {"map": _figure_dict(fig)}

    if detail.breakdown:
        names = [b["label"] for b in detail.breakdown]
        points = [b["points"] or 0.0 for b in detail.breakdown]
        most = [100.0 * b["weight"] for b in detail.breakdown]
        bars = go.Figure(
            [
                go.Bar(y=names, x=most, orientation="h", marker={"color": "#e3e9ef"}, name="max", hoverinfo="skip"),
                go.Bar(
                    y=names,
                    x=points,
                    orientation="h",
                    marker={"color": "#14365d"},
                    name=labels["points"],
                    hovertemplate="%{y}: %{x:.1f}<extra></extra>",
                ),
            ]
        )
        bars.update_layout(
            barmode="overlay",
            height=260,
            margin={"l": 10, "r": 10, "t": 10, "b": 30},
            showlegend=False,
            xaxis={"title": {"text": labels["points"]}, "range": [0, max(most + [1.0]) * 1.05]},
            yaxis={"autorange": "reversed"},
        )
        out["breakdown"] = _figure_dict(bars)

    if detail.ladder:
        sizes = [r["size_h100e"] for r in detail.ladder]
        ok = [bool(r["feasible"]) for r in detail.ladder]
        site_cost = [r.get("site_cost_eur_per_gpu_hour") for r in detail.ladder]
        extra = []
        if any(v is not None for v in site_cost) and "site_cost" in labels:
            extra.append(
                go.Scatter(
                    x=sizes,
                    y=site_cost,
                    mode="lines+markers",
                    name=labels["site_cost"],
                    marker={"symbol": ["circle" if f else "x" for f in ok], "size": 7},
                    hovertemplate="%{x:,} H100e: %{y:.2f} EUR<extra></extra>",
                )
            )
        ladder = go.Figure(
            [
                go.Scatter(
                    x=sizes,
                    y=[r["tco_eur_per_gpu_hour"] for r in detail.ladder],
                    mode="lines+markers",
                    name=labels["tco"],
                    marker={"symbol": ["circle" if f else "x" for f in ok], "size": 9},
                    hovertemplate="%{x:,} H100e: %{y:.2f} EUR<extra></extra>",
                ),
                *extra,
                go.Scatter(
                    x=sizes,
                    y=[r["time_to_power_months"] for r in detail.ladder],
                    mode="lines+markers",
                    name=labels["ttp"],
                    yaxis="y2",
                    line={"dash": "dot"},
                    hovertemplate="%{x:,} H100e: %{y:.0f}<extra></extra>",
                ),
            ]
        )
        ladder.update_layout(
            height=300,
            margin={"l": 50, "r": 50, "t": 10, "b": 40},
            legend={"orientation": "h", "y": -0.25},
            xaxis={"type": "log", "title": {"text": labels["size"]}, "tickvals": sizes},
            yaxis={"title": {"text": labels["tco"]}, "rangemode": "tozero"},
            yaxis2={"title": {"text": labels["ttp"]}, "overlaying": "y", "side": "right", "rangemode": "tozero"},
        )
        out["ladder"] = _figure_dict(ladder)
    return out
