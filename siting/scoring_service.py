"""Feed the scoring engine from the database, and read stored run results back.

The engine (``siting.scoring``) knows nothing of Django; this module is the seam.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from grid import selectors as grid_selectors

from . import frames, selectors
from .models import RunResult, ScoringRun, Site


def params_build(*, preset: str = "default", sizes: str | None = None, seed: int | None = None):
    """Return validated scenario parameters from a preset and command-line style overrides."""
    from siting.scoring.params import presets

    params = presets()[preset]
    changes: dict[str, object] = {}
    if sizes:
        try:
            changes["sizes"] = tuple(int(s.replace("_", "")) for s in sizes.split(",") if s.strip())
        except ValueError as exc:
            raise ValueError(f"--sizes {sizes!r}: give whole numbers of H100e separated by commas.") from exc
    if seed is not None:
        changes["mc_seed"] = seed
    return dataclasses.replace(params, **changes) if changes else params


def score_loaded_sites(*, params, draws: int = 0):
    """Score every site in the database with ``params``; return the engine's result."""
    from siting.scoring import score_sites

    hourly = grid_selectors.hourly_carbon_map()
    return score_sites(
        selectors.site_frame(), grid_selectors.grid_point_frame(), grid_selectors.zone_frame(), params,
        hourly_carbon=hourly or None, draws=draws,
    )


def run_table(run: ScoringRun) -> pd.DataFrame:
    """Return a finished run's full result table (all sizes), as scoring produced it."""
    parts = [frames.frames_unpack(r.table)[0]["table"] for r in RunResult.objects.filter(run=run).order_by("size_h100e")]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def table_with_site_names(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with the sites' external id, name and country in front."""
    names = pd.DataFrame.from_records(
        list(Site.objects.values_list("id", "external_id", "name", "country")),
        columns=["site_id", "external_id", "site_name", "country"],
    )
    merged = table.merge(names, on="site_id", how="left", suffixes=("", "_site"))
    front = ["site_id", "external_id", "site_name", "country"]
    return merged[front + [c for c in merged.columns if c not in front]]
