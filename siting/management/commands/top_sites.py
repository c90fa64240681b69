"""Write the top of the ranking per cluster size, one line per site on why it is there.

The page a planner reads first (``docs/top_sites.md``): for each size, the top N sites of the
default scenario on the loaded data, with the facts that put each one there (connection,
readiness, carbon, site cost) taken from the scoring table itself, never written by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from siting.models import Site
from siting.runs import selectors as run_selectors

KIND_TEXT = {
    "own": "reuses its own former connection",
    "new_line": "new line",
    "cut_in": "new substation cut into a line",
}


def _num(value: object, fmt: str, unit: str = "") -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"
    return "?" if math.isnan(v) else f"{v:{fmt}}{unit}"


def _rank_text(row: pd.Series) -> str:
    shared = bool(row.get("rank_shared", False))
    return f"={int(row['rank'])}" if shared else f"{int(row['rank'])}"


def why_line(row: pd.Series, site: Mapping[str, object]) -> str:
    """Return one sentence of the facts that put ``row`` where it ranks."""
    parts = []
    use = str(site.get("former_use") or "").replace("_", " ")
    closed = site.get("closure_year")
    parts.append(f"former {use}" + (f", closed {int(closed)}" if closed else ""))  # type: ignore[call-overload]
    if site.get("area_ha"):
        parts[-1] += f", {_num(site['area_ha'], ',.0f')} ha"
    kind = str(row.get("connection_kind", ""))
    conn = KIND_TEXT.get(kind, kind or "no connection")
    if kind in ("new_line", "cut_in"):
        conn += (
            f" of {_num(row.get('connection_distance_km'), '.1f')} km at {_num(row.get('voltage_class_kv'), '.0f')} kV"
        )
    elif kind == "own":
        conn += f" ({_num(row.get('own_connection_capacity_mw'), ',.0f')} MW former capacity)"
    conn += (
        f", {_num(row.get('connection_cost_meur'), ',.1f')} M€"
        f" + {_num(row.get('delay_cost_meur'), ',.1f')} M€ cost of delay"
    )
    if "runner_up_kind" in row and str(row["runner_up_kind"]) not in ("", "none"):
        conn += f" (beats {KIND_TEXT.get(str(row['runner_up_kind']), row['runner_up_kind'])} at {_num(row.get('runner_up_total_meur'), ',.1f')} M€)"
    parts.append(conn)
    parts.append(f"headroom {_num(row.get('headroom_mw'), ',.0f')} MW ({row.get('headroom_source', '?')})")
    months = f"power in {_num(row.get('time_to_power_months'), '.0f')} months (grid {_num(row.get('grid_months'), '.0f')}, site {_num(row.get('site_months'), '.0f')}"
    if bool(row.get("readiness_estimated", False)):
        months += ", site estimated"
    parts.append(months + ")")
    parts.append(f"{_num(row.get('emissions_t_per_yr_per_mw_it'), ',.0f')} tCO2e/yr per MW IT")
    parts.append(
        f"site cost {_num(row.get('site_cost_eur_per_gpu_hour'), '.3f')} EUR/GPU-h "
        f"(full {_num(row.get('tco_eur_per_gpu_hour'), '.2f')})"
    )
    if bool(row.get("may_be_unavailable", False)):
        parts.append("a project exists: may be unavailable")
    return "; ".join(parts)


class Command(BaseCommand):
    help = "Write the top N sites per cluster size (default scenario, loaded data) with one line on why each is there."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sizes", default="1000,10000,100000", help="Comma-separated cluster sizes in H100e.")
        parser.add_argument("--top", type=int, default=20)
        parser.add_argument("--out", default="docs/top_sites.md", help="Markdown file to write ('-' for stdout).")

    def handle(self, *args, **opts) -> None:
        if opts["top"] < 1:
            raise CommandError("--top must be 1 or more.")
        try:
            params = run_selectors.params_build(preset="default", sizes=opts["sizes"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        table = run_selectors.table_with_site_names(run_selectors.score_loaded_sites(params=params).table)
        sites = {
            s["id"]: s
            for s in Site.objects.filter(id__in=table["site_id"].unique().tolist()).values(
                "id", "former_use", "closure_year", "area_ha"
            )
        }
        lines = [
            "# The top of the ranking, per cluster size",
            "",
            f"Default scenario on the shipped data, scored {date.today().isoformat()} with "
            f"`python manage.py top_sites` (deterministic, no Monte Carlo). Each line gives the facts "
            'from the scoring table that put the site there. "=" marks a rank shared by equal scores.',
        ]
        for size, group in table.groupby("size_h100e", sort=True):
            feasible = group[group["feasible"].astype(bool)].sort_values(["rank", "site_name"])
            lines += [
                "",
                f"## {int(size):,} H100e ({int(group['facility_load_mw'].iloc[0]):,} MW facility)",
                "",
                f"{len(feasible):,} feasible sites of {len(group):,}.",
                "",
                "| rank | score | site | country | why |",
                "|---:|---:|---|---|---|",
            ]
            for _, row in feasible.head(opts["top"]).iterrows():
                name = str(row["site_name"]).replace("|", "/")
                lines.append(
                    f"| {_rank_text(row)} | {row['score']:.2f} | {name} | {row['country']} | "
                    f"{why_line(row, sites.get(int(row['site_id']), {}))} |"
                )
        text = "\n".join(lines) + "\n"
        if opts["out"] == "-":
            self.stdout.write(text)
            return
        out = Path(opts["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {out}")
