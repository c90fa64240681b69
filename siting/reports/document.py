"""PDF comparison of shortlisted sites: a finished run's figures, a Django template, WeasyPrint.

``comparison_pdf(...)`` returns the document (bytes and page count) for 2 to 10 sites of a
finished run at one cluster size, in English or French. No request and no cache here: the
views, the Celery task and the ``compare_pdf`` command go through ``siting.reports.services``,
which stores and reuses documents.

Every number is formatted here with Django's localisation (French: comma decimals,
non-breaking-space thousands), so the template only places text and a test can find each
figure of the summary table in the PDF exactly as the database has it. Charts and the map
are inline SVG (``siting.reports.svg``): vector graphics, drawn offline from shipped data.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Q
from django.template.loader import get_template, render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid import selectors as grid_selectors
from grid.models import Boundary, DatasetLoad, GridConnectionPoint
from siting import frames, labels
from siting.dashboard.selectors import known_headroom_of
from siting.labels import PARAMETER_LABELS, SEVESO_TIERS
from siting.models import FormerUse, PollutionStatus, RunResult, ScoringRun, Site
from siting.reports import svg as report_svg
from siting.scoring import exclusion_codes
from siting.scoring.criteria import CRITERIA, CRITERION_NAMES
from siting.scoring.params import ScenarioParams, parameter_table

# WeasyPrint logs every step at INFO; a worker's log keeps its warnings only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

TEMPLATE_NAME = "reports/comparison.html"
STYLESHEET_NAME = "reports/comparison.css"
"""The document's rules other than its page boxes (which print the run's name): parsed once per process."""
MIN_SITES = 2
MAX_SITES = 10
LANGUAGES = ("en", "fr")
SHORT_NAME_CHARS = 60
"""Site names longer than this are cut in the tables after the cover and the site list (which print them whole)."""
INSET_HALF_SPAN_DEG = 0.3
"""Half-width of a site's close-up map (≈ 25 km at 45° N), widened to show its chosen connection. [degrees]"""
INSET_WIDTH = 200.0
"""Width of a close-up map in SVG units (50 mm on the page)."""
OVERVIEW_POINTS_MAX_SPAN_DEG = 3.0
"""The overview map shows every nearby substation only when it spans less than this (else the chosen ones)."""
SUBDIVISIONS_MAX_SPAN_DEG = 9.0
"""Département outlines are drawn when the map spans less than this many degrees of longitude."""

SITE_COLORS = (
    "#1b6ca8",
    "#e07b00",
    "#2a9d5c",
    "#c0392b",
    "#7b4fa0",
    "#8c564b",
    "#d1459b",
    "#5f6b73",
    "#8f8f00",
    "#138a9e",
)
GRID_LINE_COLOR, INK_COLOR, BAD_COLOR = "#d9e1e8", "#1c2733", "#b3261e"
CRITERION_COLORS = {
    "tco": "#14365d",
    "emissions": "#1f7a5a",
    "time_to_power": "#e07b00",
    "land": "#8c6d31",
    "water": "#17a2b8",
    "reliability": "#7b4fa0",
}

CRITERION_UNITS = {
    "tco": "EUR/GPU-h",
    "emissions": "tCO₂e/yr/MW",
    "time_to_power": gettext_lazy("in months"),
    "land": "×",
    "water": "L/GPU-h",
    "reliability": "0–1",
}
CRITERION_DECIMALS = {"tco": 2, "emissions": 0, "time_to_power": 1, "land": 2, "water": 2, "reliability": 2}

READINESS_COLUMNS = (
    "permit_months",
    "rezoning_months",
    "remediation_months",
    "demolition_months",
    "site_months",
    "grid_months",
    "time_to_power_months",
)
"""The site-readiness table, in months (MODEL.md §2: time to power = max(grid, site))."""

SUMMARY_COLUMNS = (
    # key, table column, decimals
    ("rank", "rank", 0),
    ("score", "score", 1),
    ("site_cost", "site_cost_eur_per_gpu_hour", 2),
    ("tco", "tco_eur_per_gpu_hour", 2),
    ("capex", "capex_total_meur", 1),
    ("emissions", "emissions_t_per_yr", 0),
    ("ttp", "time_to_power_months", 1),
    ("land_fit", "land_fit", 2),
    ("seveso", "seveso_tier", None),
    ("reliability", "reliability", 2),
)
"""The summary table: each column's result column and decimals (None: shown as a label)."""


class ComparisonError(ValueError):
    """The request cannot make a comparison (wrong run, size or sites); the message says why."""


@dataclass(frozen=True)
class RenderedComparison:
    """A rendered document: the PDF bytes, its page count and how long it took. [s]"""

    pdf: bytes
    n_pages: int
    render_s: float


# --- formatting ------------------------------------------------------------------------------


def fmt_number(value: Any, decimals: int = 0) -> str:
    """Return ``value`` rounded to ``decimals`` and localised in the active language ("—" if missing).

    Rounds half-even on the float (Python's ``format``), then lets Django place the decimal
    and thousands separators: Django's own ``number_format`` truncates floats instead.
    """
    if value is None or isinstance(value, str):
        return "—" if value in (None, "") else value
    value = float(value)
    if not math.isfinite(value):
        return "—"
    text = f"{value + 0.0:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return formats.number_format(Decimal(text), decimals, use_l10n=True, force_grouping=True)


def fmt_plain(value: float) -> str:
    """Return a parameter value with its own decimals (shortest exact form), localised."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "—"
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    decimals = max(0, -int(exponent)) if isinstance(exponent, int) else 0
    return fmt_number(value, min(decimals, 6))


def fmt_size(size_h100e: int) -> str:
    """Return a cluster size as '10,000 H100e' in the active language."""
    return f"{fmt_number(size_h100e)} H100e"


def fmt_size_short(size_h100e: int) -> str:
    """Return a cluster size as '10k' (axis labels)."""
    return f"{fmt_plain(size_h100e / 1000)}k"


def fmt_rank(rank: Any, shared: Any = False) -> str:
    """Return a rank as text: "3", "=3" when another site of the run shares it, "—" when none."""
    text = fmt_number(rank)
    return "=" + text if text != "—" and _flag(shared) else text


def _flag(value: Any) -> bool:
    """Return a boolean result column's value as a bool (missing or NaN: False)."""
    if value is None:
        return False
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def _known_headroom_text(row: dict[str, Any] | pd.Series) -> str:
    """Return "known: <source>, <date>" for a headroom an analyst or a TSO gave."""

    known = known_headroom_of(dict(row))
    if known is None:
        return _("known")
    parts = [str(known["source"])] + (
        [formats.date_format(known["as_of"], "SHORT_DATE_FORMAT")] if known.get("as_of") else []
    )
    return _("known: %(provenance)s") % {"provenance": ", ".join(parts)}


def _get(row: dict[str, Any] | pd.Series, column: str) -> Any:
    """Return a result column's value, None where an older run lacks the column."""
    return row[column] if column in row.keys() else None


def summary_values(row: dict[str, Any] | pd.Series) -> dict[str, str]:
    """Return the summary-table cells of one site, formatted in the active language."""
    out = {}
    for key, column, decimals in SUMMARY_COLUMNS:
        value = _get(row, column)
        if key == "rank":
            out[key] = fmt_rank(value, _get(row, "rank_shared"))
        elif decimals is None:
            out[key] = str(SEVESO_TIERS.get(int(value), value))
        else:
            out[key] = fmt_number(value, decimals)
    return out


def parameter_value_text(value: Any) -> str:
    """Return a scenario parameter's value as text in the active language."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes (on)") if value else _("no (off)")
    if isinstance(value, (int, float)):
        return fmt_plain(float(value))
    if isinstance(value, (list, tuple)):
        return " · ".join(parameter_value_text(v) for v in value)
    if isinstance(value, dict):
        return " · ".join(f"{k} {parameter_value_text(v)}" for k, v in value.items())
    return str(value)


def css_bar(marks: list[tuple[str, float, float]], background: str) -> str:
    """Return an inline style drawing coloured spans across one box, as a hard-stop gradient.

    ``marks`` are (colour, start, end) in % of the box's width; a later mark covers an
    earlier one. One box per bar instead of a box per mark keeps WeasyPrint's layout work
    small, and the PDF still gets vector shapes.
    """
    edges = sorted({0.0, 100.0, *(min(max(x, 0.0), 100.0) for _c, a, b in marks for x in (a, b))})
    spans: list[list[Any]] = []
    for lo, hi in zip(edges, edges[1:]):
        mid = (lo + hi) / 2
        color = background
        for c, a, b in marks:
            if a <= mid < b:
                color = c
        if spans and spans[-1][0] == color:
            spans[-1][2] = hi
        else:
            spans.append([color, lo, hi])
    stops = ", ".join(f"{c} {lo:.2f}%, {c} {hi:.2f}%" for c, lo, hi in spans)
    return f"background-image: linear-gradient(to right, {stops})"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _site_label(number: int, name: str, width: int = 22) -> str:
    return f"{number} · {_shorten(name, width)}"


# --- reading the run ---------------------------------------------------------------------------


def comparison_validate(*, run: ScoringRun, size_h100e: int, site_ids: list[int] | tuple[int, ...]) -> tuple[int, ...]:
    """Return the sorted distinct site ids, or raise ComparisonError naming what is wrong."""
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise ComparisonError(_("This run has not finished successfully: there is nothing to compare."))
    ids = tuple(sorted({int(s) for s in site_ids}))
    if not MIN_SITES <= len(ids) <= MAX_SITES:
        raise ComparisonError(
            _("Choose between %(min)s and %(max)s different sites.") % {"min": MIN_SITES, "max": MAX_SITES}
        )
    sizes = list(RunResult.objects.filter(run=run).values_list("size_h100e", flat=True))
    if int(size_h100e) not in sizes:
        raise ComparisonError(_("%(size)s H100e is not a cluster size of this run.") % {"size": size_h100e})
    known = set(Site.objects.filter(id__in=ids).values_list("id", flat=True))
    missing = [i for i in ids if i not in known]
    if missing:
        raise ComparisonError(_("Unknown site id(s): %(ids)s.") % {"ids": ", ".join(map(str, missing))})
    return ids


LADDER_COLUMNS = {
    "site_id",
    "feasible",
    "rank",
    "rank_shared",
    "exclusion_mask",
    "tco_eur_per_gpu_hour",
    "time_to_power_months",
}
"""Result columns read at the sizes other than the compared one (the ladder needs no more)."""


def _run_rows(run: ScoringRun, size_h100e: int, site_ids: tuple[int, ...]) -> dict[int, pd.DataFrame]:
    """Return size → the run's result rows of ``site_ids``: every column at ``size_h100e``,
    the ladder's columns at the other sizes."""
    out = {}
    for size, blob in RunResult.objects.filter(run=run).order_by("size_h100e").values_list("size_h100e", "table"):
        columns = None if int(size) == int(size_h100e) else LADDER_COLUMNS
        table = frames.frames_unpack(blob, columns=columns)[0]["table"]
        out[int(size)] = table[table["site_id"].isin(site_ids)].set_index("site_id")
    return out


def _ordered_sites(rows: pd.DataFrame, site_ids: tuple[int, ...]) -> list[int]:
    """Return the site ids by rank at this size (feasible first), then by id."""
    present = [i for i in site_ids if i in rows.index]
    absent = [i for i in site_ids if i not in rows.index]
    ranked = sorted(
        present,
        key=lambda i: (
            not bool(rows.at[i, "feasible"]),
            float(rows.at[i, "rank"]) if np.isfinite(rows.at[i, "rank"]) else math.inf,
            i,
        ),
    )
    return ranked + absent


# --- map ---------------------------------------------------------------------------------------


def _maps(sites: list[dict[str, Any]], at_size: pd.DataFrame) -> dict[str, Any]:
    """Return the overview map and one close-up per site (with its nearby substations), as data URIs."""

    def point_id(site_id: int) -> int:
        return int(at_size.at[site_id, "connection_point_id"]) if site_id in at_size.index else -1

    chosen = {p.id: p for p in GridConnectionPoint.objects.filter(id__in=[point_id(s["id"]) for s in sites])}
    map_sites = []
    for s in sites:
        p = chosen.get(point_id(s["id"]))
        map_sites.append(
            report_svg.MapSite(
                s["number"], s["longitude"], s["latitude"], s["color"], (p.longitude, p.latitude) if p else None
            )
        )
    insets = []
    for m in map_sites:
        reach = 0.0
        if m.connection:
            reach = max(
                abs(m.connection[0] - m.longitude),
                abs(m.connection[1] - m.latitude) / math.cos(math.radians(m.latitude)),
            )
        insets.append(report_svg.square_bounds(m.longitude, m.latitude, max(INSET_HALF_SPAN_DEG, 1.3 * reach)))
    near = Q()
    for west, south, east, north in insets:
        near |= Q(longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north)
    rows = list(
        GridConnectionPoint.objects.filter(
            near, status=GridConnectionPoint.Status.IN_SERVICE, voltage_kv__isnull=False
        ).values_list("id", "longitude", "latitude", "voltage_kv")
    )
    points = {r[0]: report_svg.MapPoint(r[1], r[2], r[3]) for r in rows}  # type: ignore[arg-type]  # filtered on a non-null voltage_kv
    points.update({pid: report_svg.MapPoint(p.longitude, p.latitude, p.voltage_kv or 0.0) for pid, p in chosen.items()})
    overview_bounds = report_svg.map_bounds(
        [m.longitude for m in map_sites] + [m.connection[0] for m in map_sites if m.connection],
        [m.latitude for m in map_sites] + [m.connection[1] for m in map_sites if m.connection],
    )
    layers = _map_layers(any(s["country"] == "FR" for s in sites))
    overview_layers = layers
    if overview_bounds[2] - overview_bounds[0] > SUBDIVISIONS_MAX_SPAN_DEG:
        overview_layers = report_svg.MapLayers(countries=layers.countries)
    small_area = overview_bounds[2] - overview_bounds[0] < OVERVIEW_POINTS_MAX_SPAN_DEG
    scale_label = lambda km: f"{fmt_number(km)} km"  # noqa: E731
    overview = report_svg.map_svg(
        sites=map_sites,
        points=list(points.values()) if small_area else [points[i] for i in chosen],
        layers=overview_layers,
        title=_("Map of the shortlisted sites"),
        scale_label=scale_label,
        max_height=520.0,
    )
    closeups = []
    for s, _m, bounds in zip(sites, map_sites, insets):
        west, south, east, north = bounds
        inside = [p for p in points.values() if west <= p.longitude <= east and south <= p.latitude <= north]
        svg = report_svg.map_svg(
            sites=map_sites,
            points=inside,
            layers=layers,
            title=s["name"],
            scale_label=scale_label,
            width=INSET_WIDTH,
            bounds=bounds,
            site_radius=6.0,
            labels=False,
        )
        closeups.append(
            {
                "site": s,
                "map": report_svg.data_uri(svg),
                "n_points": len(inside),
                "scale": scale_label(report_svg.scale_bar_km(bounds, INSET_WIDTH)[0]),
            }
        )
    return {"overview": report_svg.data_uri(overview), "closeups": closeups}


def _map_layers(in_france: bool) -> report_svg.MapLayers:
    """Return the country outlines (and the départements when a site is in France) as shapes.

    The shapes are the boundaries' cached ones (``grid.selectors.boundary_outlines``): parsing
    them took a tenth of every document.
    """
    return report_svg.MapLayers(
        countries=grid_selectors.boundary_outlines(Boundary.Kind.COUNTRY).shapes,
        subdivisions=grid_selectors.boundary_outlines(Boundary.Kind.DEPARTEMENT).shapes if in_france else (),
    )


# --- context -----------------------------------------------------------------------------------


def _site_facts(site: Site) -> dict[str, Any]:
    place = " · ".join(
        x
        for x in (site.municipality, site.departement_code and f"{_('dép.')} {site.departement_code}", site.country)
        if x
    )
    existing = "—"
    if site.grid_capacity_mw:
        existing = f"{fmt_number(site.grid_capacity_mw)} MW"
        if site.grid_voltage_kv:
            existing += f" · {fmt_number(site.grid_voltage_kv)} kV"
    return {
        "id": site.id,
        "name": site.name,
        "external_id": site.external_id,
        "country": site.country,
        "place": place,
        "longitude": site.longitude,
        "latitude": site.latitude,
        "former_use": FormerUse(site.former_use).label if site.former_use in FormerUse.values else site.former_use,
        "area": fmt_number(site.area_ha, 1),
        "existing": existing,
        "pollution": PollutionStatus(site.pollution_status).label
        if site.pollution_status in PollutionStatus.values
        else site.pollution_status,
        # A vintage often names its dataset already ("powerplantmatching v0.6.1 (…)").
        "source": site.source_vintage
        if site.source_vintage.lower().startswith(site.source)
        else f"{site.get_source_display()} ({site.source_vintage})",
        "withdrawn": site.withdrawn,
    }


def _criteria_matrix(sites: list[dict[str, Any]], at_size: pd.DataFrame, weights: dict[str, float]) -> dict[str, Any]:
    """Return the sites × criteria table: each cell the figure and its normalised value as a bar.

    An HTML table with CSS bars rather than an SVG: WeasyPrint lays out HTML text about ten
    times faster than SVG text, and the bars are drawn as vector rectangles all the same.
    """
    total_w = sum(weights.values()) or 1.0
    header = [
        {
            "title": str(labels.CRITERIA[c].short),
            "unit": str(CRITERION_UNITS[c]),
            "weight": fmt_number(100 * weights.get(c, 0.0) / total_w),
        }
        for c in CRITERION_NAMES
    ]
    rows = []
    for s in sites:
        cells, stack, left = [], [], 0.0
        feasible = bool(at_size.at[s["id"], "feasible"])
        for c in CRITERION_NAMES:
            goodness = float(at_size.at[s["id"], f"v_{c}"])
            share = 100.0 * min(max(goodness, 0.0), 1.0) if math.isfinite(goodness) else 0.0
            cells.append(
                {
                    "text": fmt_number(at_size.at[s["id"], CRITERIA[c].column], CRITERION_DECIMALS[c]),
                    "bar": css_bar([(s["color"], 0.0, share)], GRID_LINE_COLOR),
                }
            )
            # The score's points from this criterion: 100 × weight × value (the bar spans 0–100).
            points = 100.0 * weights.get(c, 0.0) / total_w * (goodness if math.isfinite(goodness) else 0.0)
            if feasible and points > 0:
                stack.append((CRITERION_COLORS[c], left, left + points))
                left += points
        rows.append(
            {
                "site": s,
                "cells": cells,
                "stack": css_bar(stack, "#eef2f6"),
                "feasible": feasible,
                "score": fmt_number(at_size.at[s["id"], "score"], 1),
            }
        )
    return {"header": header, "rows": rows}


class _LadderAxes(TypedDict):
    """The size axis both ladder charts share (keyword arguments of ``ladder_svg``)."""

    sizes: list[int]
    size_label: str
    size_format: Callable[[int], str]
    tick_format: Callable[[float], str]


def _ladder(sites: list[dict[str, Any]], by_size: dict[int, pd.DataFrame]) -> dict[str, Any]:
    sizes = sorted(by_size)

    def series(column: str) -> list[report_svg.Series]:
        out = []
        for s in sites:
            values, ok = [], []
            for size in sizes:
                rows = by_size[size]
                present = s["id"] in rows.index
                values.append(float(rows.at[s["id"], column]) if present else math.nan)
                ok.append(present and bool(rows.at[s["id"], "feasible"]))
            out.append(report_svg.Series(s["label"], s["color"], values, ok))
        return out

    common: _LadderAxes = {
        "sizes": sizes,
        "size_label": _("cluster size (H100e)"),
        "size_format": fmt_size_short,
        "tick_format": fmt_plain,
    }
    charts = [
        report_svg.ladder_svg(
            series=series("tco_eur_per_gpu_hour"),
            title=_("Full cost of compute along the ladder"),
            axis_label="EUR/GPU-h",
            zero_based=False,
            **common,
        ),
        report_svg.ladder_svg(
            series=series("time_to_power_months"),
            title=_("Months to power along the ladder"),
            axis_label=str(_("in months")),
            **common,
        ),
    ]
    table = []
    for s in sites:
        cells, largest = [], None
        for size in sizes:
            rows = by_size[size]
            if s["id"] not in rows.index:
                cells.append({"ok": False, "text": "—"})
                continue
            r = rows.loc[s["id"]]
            ok = bool(r["feasible"])
            if ok:
                largest = size
                cells.append(
                    {
                        "ok": True,
                        "text": f"#{fmt_rank(r['rank'], _get(r, 'rank_shared'))} · "
                        f"{fmt_number(r['tco_eur_per_gpu_hour'], 2)}",
                    }
                )
            else:
                codes = exclusion_codes(int(r["exclusion_mask"]))
                cells.append({"ok": False, "text": "✗ " + ", ".join(_short_exclusion(c) for c in codes)})
        table.append({"site": s, "cells": cells, "largest": fmt_size(largest) if largest else _("none")})
    return {
        "sizes": [fmt_number(x) for x in sizes],
        "charts": [report_svg.data_uri(c) for c in charts],
        "table": table,
        "size_width_pct": f"{70.0 / max(len(sizes), 1):.2f}",
    }


def _short_exclusion(code: str) -> str:
    """Return an exclusion code as one word for the size ladder (the code if it has none)."""
    entry = labels.EXCLUSIONS.get(code)
    return str(entry.tag) if entry is not None else code


def _exclusion_sentence(code: str) -> str:
    """Return an exclusion code as a full sentence for the exclusions section (the code if it has none)."""
    entry = labels.EXCLUSIONS.get(code)
    return str(entry.sentence) if entry is not None else code


def _connection_short(kind: str) -> str:
    """Return a connection kind for the connections table: "—" for none, the kind if it has no label."""
    if kind in ("", "none"):
        return "—"
    entry = labels.CONNECTIONS.get(kind)
    return str(entry.short) if entry is not None else kind


def _monte_carlo(sites: list[dict[str, Any]], at_size: pd.DataFrame, run: ScoringRun) -> dict[str, Any] | None:
    """Return the Monte Carlo rank intervals as rows with whisker positions [% of the lane].

    Drawn in HTML and CSS (vector boxes) rather than SVG: WeasyPrint lays out SVG text an
    order of magnitude slower than HTML text, and this chart is mostly labels.
    """
    if not run.draws or "mc_rank_median" not in at_size.columns:
        return None
    present = [s for s in sites if s["id"] in at_size.index]
    values = [float(at_size.at[s["id"], c]) for s in present for c in ("mc_rank_p95", "rank")]
    ticks, position = report_svg.rank_axis(max([v for v in values if math.isfinite(v)] + [10.0]))
    rows = []
    for s in present:
        r = at_size.loc[s["id"]]
        p05, med, p95, rank = (float(r[c]) for c in ("mc_rank_p05", "mc_rank_median", "mc_rank_p95", "rank"))
        marks = [(GRID_LINE_COLOR, position(t) - 0.15, position(t) + 0.15) for t in ticks]
        if math.isfinite(p05) and math.isfinite(p95):
            marks.append((s["color"], position(p05), max(position(p95), position(p05) + 0.6)))
        if math.isfinite(med):
            marks.append((INK_COLOR, position(med) - 0.5, position(med) + 0.5))
        if math.isfinite(rank):
            marks.append((BAD_COLOR, position(rank) - 0.4, position(rank) + 0.4))
        rows.append(
            {
                "site": s,
                "text": f"{fmt_number(med, 1)} [{fmt_number(p05, 1)}–{fmt_number(p95, 1)}]"
                if math.isfinite(med)
                else _("never feasible"),
                "lane": css_bar(marks, "#ffffff"),
                "rank": fmt_rank(rank, _get(r, "rank_shared")),
                "p_feasible": fmt_number(100 * float(r["mc_p_feasible"]), 1),
                "p_top10": fmt_number(100 * float(r["mc_p_top10"]), 1),
            }
        )
    return {
        "rows": rows,
        "ticks": [{"pos": f"{position(t):.2f}", "label": fmt_plain(t)} for t in ticks],
        "draws": fmt_number(run.draws),
    }


def _parameters(run: ScoringRun) -> list[dict[str, Any]]:
    params = ScenarioParams.from_dict(run.params)
    out = []
    for p in parameter_table(params):
        out.append(
            {
                "name": p["name"],
                "label": str(PARAMETER_LABELS.get(p["name"], p["name"].replace("_", " "))),
                "value": parameter_value_text(p["value"]),
                "unit": p["unit"] if p["unit"] != "-" else "",
                "source": p["source"],
                "assumption": p["assumption"],
            }
        )
    return out


def _criteria_annex(run: ScoringRun) -> list[dict[str, Any]]:
    params = ScenarioParams.from_dict(run.params)
    weights = params.weights
    total = sum(weights.values()) or 1.0
    out = []
    for c in CRITERIA.values():
        # The run's own bounds where its scenario has them (MODEL.md v2), else the table's defaults.
        worst, best = params.criterion_bounds(c.name) if hasattr(params, "criterion_bounds") else (c.worst, c.best)
        out.append(
            {
                "title": str(labels.CRITERIA[c.name].title) if c.name in labels.CRITERIA else c.name,
                "column": c.column,
                "unit": c.unit,
                "direction": _("higher is better") if c.higher_is_better else _("lower is better"),
                "worst": fmt_plain(worst),
                "best": fmt_plain(best),
                "weight": fmt_number(weights.get(c.name, 0.0) / total, 3),
                "note": c.note,
            }
        )
    return out


def _readiness(sites: list[dict[str, Any]], at_size: pd.DataFrame) -> list[dict[str, Any]] | None:
    """Return the site-readiness rows (months per step, grid months, time to power), or None for a
    run from before site readiness."""
    if "site_months" not in at_size.columns:
        return None
    rows = []
    for s in sites:
        r = at_size.loc[s["id"]]
        cells = {column: fmt_number(_get(r, column)) for column in READINESS_COLUMNS}
        site_months, grid_months = _get(r, "site_months"), _get(r, "grid_months")
        limited = None
        if (
            site_months is not None
            and grid_months is not None
            and math.isfinite(float(site_months))
            and math.isfinite(float(grid_months))
        ):
            limited = _("site readiness") if float(site_months) > float(grid_months) else _("grid connection")
        rows.append(
            {
                "site": s,
                **cells,
                "estimated": _flag(_get(r, "readiness_estimated")),
                "remediation_capex": fmt_number(_get(r, "remediation_capex_meur"), 1),
                "limited_by": limited or "—",
            }
        )
    return rows


def _datasets(run: ScoringRun) -> list[dict[str, Any]]:

    loads = {d.dataset: d for d in DatasetLoad.objects.all()}
    used = (run.data_vintage or {}).get("datasets") or {}
    out = []
    for name in sorted(used):
        info = used[name] or {}
        load = loads.get(name)
        out.append(
            {
                "dataset": name,
                "vintage": info.get("vintage", ""),
                "rows": fmt_number(info.get("rows")),
                "sha256": (info.get("sha256") or "")[:12],
                "source": load.source if load else "",
                "licence": load.licence if load else _("see the attribution table"),
            }
        )
    return out


def shipped_attribution() -> list[dict[str, str]]:
    """Return the rows of the table in ``fixtures/ATTRIBUTION.md``: files, source, licence."""
    path = Path(settings.BASE_DIR) / "fixtures" / "ATTRIBUTION.md"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if (
            len(cells) < 3
            or not line.lstrip().startswith("|")
            or set(cells[0]) <= {"-", " ", ":"}
            or cells[0] == "File"
        ):
            continue
        clean = [re.sub(r"\*\*|`", "", c) for c in cells[:3]]
        rows.append({"files": clean[0], "source": clean[1], "licence": clean[2]})
    return rows


def comparison_context(
    *,
    run: ScoringRun,
    size_h100e: int,
    site_ids: tuple[int, ...] | list[int],
    author: str = "",
    generated_at: datetime | None = None,
    portfolio: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the template context of a comparison, formatted in the active language.

    Parameters
    ----------
    run : ScoringRun
        A succeeded run.
    size_h100e : int
        One of the run's cluster sizes. [H100e]
    site_ids : sequence of int
        2 to 10 site ids; the document orders them by rank at ``size_h100e``.
    author : str
        Who the document is prepared for or by, printed on the cover.
    generated_at : datetime, optional
        Date printed on the cover (now when omitted).
    portfolio : dict, optional
        A portfolio section, formatted (``siting.portfolio.report.portfolio_section``): the
        document then starts from that portfolio.
    """
    ids = comparison_validate(run=run, size_h100e=size_h100e, site_ids=site_ids)
    by_size = _run_rows(run, int(size_h100e), ids)
    at_size = by_size[int(size_h100e)]
    order = _ordered_sites(at_size, ids)
    site_objs = {s.id: s for s in Site.objects.filter(id__in=ids)}
    sites = []
    for number, site_id in enumerate(order, start=1):
        facts = _site_facts(site_objs[site_id])
        facts.update(
            number=number,
            color=SITE_COLORS[(number - 1) % len(SITE_COLORS)],
            label=_site_label(number, facts["name"]),
            short=_shorten(facts["name"], SHORT_NAME_CHARS),
        )
        facts["in_run"] = site_id in at_size.index
        sites.append(facts)

    summary, details, exclusions = [], [], []
    for s in sites:
        if not s["in_run"]:
            exclusions.append(
                {"site": s, "reasons": [_("This site was added after the run: the run has no figures for it.")]}
            )
            continue
        r = at_size.loc[s["id"]]
        s["may_be_unavailable"] = _flag(_get(r, "may_be_unavailable"))
        summary.append(
            {
                "site": s,
                "feasible": bool(r["feasible"]),
                "rank_shared": _flag(_get(r, "rank_shared")),
                **summary_values(r),
            }
        )
        delay = _get(r, "delay_cost_meur")
        headroom_source = _get(r, "headroom_source")
        details.append(
            {
                "site": s,
                "facility_mw": fmt_number(r["facility_load_mw"], 1),
                "pue": fmt_number(r["pue"], 3),
                "voltage": fmt_number(r["voltage_class_kv"]),
                "kind": _connection_short(str(r["connection_kind"])),
                "distance": fmt_number(r["connection_distance_km"], 1),
                "connection_cost": fmt_number(r["connection_cost_meur"], 1),
                "delay_cost": fmt_number(delay, 1),
                "cost_with_delay": fmt_number(float(r["connection_cost_meur"]) + float(delay), 1)
                if delay is not None
                else "—",
                "own_estimated": _flag(_get(r, "own_connection_estimated")) and str(r["connection_kind"]) == "own",
                "headroom": fmt_number(r["headroom_mw"], 0),
                "headroom_estimated": (headroom_source in ("estimated", "default"))
                if headroom_source is not None
                else bool(r["headroom_estimated"]),
                "headroom_source": _known_headroom_text(r)
                if str(headroom_source) == "known"
                else {"estimated": _("network estimate"), "default": _("class default")}.get(str(headroom_source), ""),
                "land_needed": fmt_number(r["land_needed_ha"], 1),
                "water": fmt_number(r["water_m3_per_yr"], 0),
                "fuel": fmt_number(r["backup_fuel_t"], 0),
                "price": fmt_number(r["price_eur_per_mwh"], 1),
                "basis": _("hourly") if r["emissions_basis"] == "hourly" else _("annual"),
                "zone_estimated": bool(r["zone_data_estimated"]),
            }
        )
        if not bool(r["feasible"]):
            codes = exclusion_codes(int(r["exclusion_mask"]))
            exclusions.append(
                {
                    "site": s,
                    "reasons": [f"{_exclusion_sentence(c)} ({c})" for c in codes] or [_("Not feasible at this size.")],
                }
            )

    params = ScenarioParams.from_dict(run.params)
    generated_at = generated_at or timezone.now()
    vintage = (run.data_vintage or {}).get("datasets") or {}
    in_run = [s for s in sites if s["in_run"]]
    return {
        "title": _("Comparison of %(n)s shortlisted sites") % {"n": len(sites)},
        "size": fmt_size(int(size_h100e)),
        "it_load_mw": fmt_number(int(size_h100e) * params.k_gpu_kw / 1000.0, 1),
        "language": translation.get_language(),
        "generated": formats.date_format(timezone.localtime(generated_at), "DATETIME_FORMAT"),
        "author": author or "—",
        "run": {
            "name": run.scenario_name,
            "code": str(run.code),
            "finished": formats.date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT")
            if run.finished_at
            else "—",
            "n_sites": fmt_number(run.n_sites),
            "draws": fmt_number(run.draws),
            "sizes": ", ".join(fmt_number(s) for s in sorted(by_size)),
            "n_feasible": fmt_number(
                int(
                    RunResult.objects.filter(run=run, size_h100e=size_h100e)
                    .values_list("n_feasible", flat=True)
                    .first()
                    or 0
                )
            ),
        },
        "scenario": {
            "name": run.scenario.name if run.scenario else run.scenario_name,
            "accelerator": params.accelerator.upper(),
            "cooling": params.cooling,
            "kw_per_h100e": fmt_number(params.k_gpu_kw, 3),
        },
        "vintage": [{"dataset": k, "vintage": (v or {}).get("vintage", "")} for k, v in sorted(vintage.items())],
        "sites": sites,
        "summary": summary,
        "any_shared": any(r["rank_shared"] for r in summary),
        "any_unavailable": any(s.get("may_be_unavailable") for s in sites),
        "has_site_cost": "site_cost_eur_per_gpu_hour" in at_size.columns,
        "has_delay_cost": "delay_cost_meur" in at_size.columns,
        "discount_rate": fmt_number(100 * params.discount_rate, 1),
        "readiness": _readiness(in_run, at_size),
        "details": details,
        "exclusions": exclusions,
        "maps": _maps(sites, at_size),
        "voltage_legend": [
            {"color": c, "label": f"≥ {fmt_number(kv)} kV" if kv else _("lower or unknown")}
            for kv, c in report_svg.VOLTAGE_COLORS_KV
        ],
        "criteria_matrix": _criteria_matrix(in_run, at_size, params.weights),
        "criterion_legend": [
            {
                "color": CRITERION_COLORS[c],
                "label": str(labels.CRITERIA[c].title),
                "weight": fmt_number(params.weights.get(c, 0.0) / (sum(params.weights.values()) or 1.0) * 100, 0),
            }
            for c in CRITERION_NAMES
        ],
        "ladder": _ladder(in_run, by_size),
        "monte_carlo": _monte_carlo(in_run, at_size, run),
        "parameters": _parameters(run),
        "criteria": _criteria_annex(run),
        "datasets": _datasets(run),
        "attribution": shipped_attribution(),
        "portfolio": portfolio,
    }


# --- rendering ---------------------------------------------------------------------------------

_WEASYPRINT = threading.local()


def _stylesheet_path() -> Path:
    # Django's template backends all give .origin; the stubs' _EngineTemplate protocol lists only render().
    return Path(get_template(STYLESHEET_NAME).origin.name)  # type: ignore[attr-defined]


def _weasyprint_setup() -> tuple[Any, list[Any]]:
    """Return this thread's WeasyPrint font configuration and the parsed document stylesheet.

    Made once per process and thread instead of once per document: each document used to
    load the Fontconfig configuration and parse the same rules again. Per thread because a
    Pango font map is not thread-safe. The stylesheet is read again when its file changes.
    """
    # Loaded on the first PDF, not with the module: WeasyPrint loads Pango and Fontconfig, which
    # the web processes that never render a document need not pay for.
    import weasyprint  # noqa: PLC0415
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

    path = _stylesheet_path()
    stamp = (str(path), path.stat().st_mtime_ns)
    if getattr(_WEASYPRINT, "stamp", None) != stamp:
        font_config = getattr(_WEASYPRINT, "font_config", None) or FontConfiguration()
        _WEASYPRINT.font_config = font_config
        _WEASYPRINT.stylesheets = [weasyprint.CSS(string=path.read_text(encoding="utf-8"), font_config=font_config)]
        _WEASYPRINT.stamp = stamp
    return _WEASYPRINT.font_config, _WEASYPRINT.stylesheets


def comparison_html(context: dict[str, Any]) -> str:
    """Return the document's HTML from the template (in the active language)."""
    return render_to_string(TEMPLATE_NAME, context)


def comparison_pdf(
    *,
    run: ScoringRun,
    size_h100e: int,
    site_ids: tuple[int, ...] | list[int],
    language: str,
    author: str = "",
    generated_at: datetime | None = None,
    progress: Callable[[float, str], None] | None = None,
    portfolio: dict[str, Any] | None = None,
) -> RenderedComparison:
    """Return the comparison of ``site_ids`` at ``size_h100e`` as a PDF in ``language``.

    Raises ComparisonError when the run, size or sites cannot be compared. Fonts are
    embedded (WeasyPrint subsets the DejaVu files it uses); charts stay vector.
    ``progress(share, stage)`` is told when each step starts.
    """
    import weasyprint  # noqa: PLC0415  (loaded on the first PDF: see _weasyprint_setup)

    if language not in LANGUAGES:
        raise ComparisonError(f"language: one of {', '.join(LANGUAGES)}")
    report = progress or (lambda share, stage: None)
    started = time.perf_counter()
    with translation.override(language):
        html = comparison_html(
            comparison_context(
                run=run,
                size_h100e=size_h100e,
                site_ids=site_ids,
                author=author,
                generated_at=generated_at,
                portfolio=portfolio,
            )
        )
    report(0.3, "laying out the pages")
    font_config, stylesheets = _weasyprint_setup()
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render(
        font_config=font_config, stylesheets=stylesheets
    )
    report(0.7, "writing the PDF")
    pdf = document.write_pdf()
    return RenderedComparison(pdf=pdf, n_pages=len(document.pages), render_s=time.perf_counter() - started)


def report_code_version() -> str:
    """Return a hash of everything that shapes the document: code, template, translations.

    Part of the cache key, so a deployed change to the layout or a translation produces new
    documents instead of serving old ones.
    """
    # Django's template backends all give .origin; the stubs' _EngineTemplate protocol lists only render().
    template = Path(get_template(TEMPLATE_NAME).origin.name)  # type: ignore[attr-defined]
    parts = [Path(__file__), Path(report_svg.__file__), Path(labels.__file__), template, _stylesheet_path()]
    parts += sorted(Path(p) for p in (Path(settings.BASE_DIR) / "locale").glob("*/LC_MESSAGES/django.mo"))
    digest = hashlib.sha256()
    for path in parts:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]
