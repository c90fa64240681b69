"""Feed the scoring engine from the database, and read stored run results back.

The engine (``siting.scoring``) knows nothing of Django; this module is the seam.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from grid import selectors as grid_selectors
from siting import frames
from siting.models import RunResult, ScoringRun, Site
from siting.scoring import ScoringInputs, score_inputs
from siting.scoring.params import presets
from siting.sites import selectors


def params_build(*, preset: str = "default", sizes: str | None = None, seed: int | None = None):
    """Return validated scenario parameters from a preset and command-line style overrides."""

    params = presets()[preset]
    changes: dict[str, Any] = {}
    if sizes:
        try:
            changes["sizes"] = tuple(int(s.replace("_", "")) for s in sizes.split(",") if s.strip())
        except ValueError as exc:
            raise ValueError(f"--sizes {sizes!r}: give whole numbers of H100e separated by commas.") from exc
    if seed is not None:
        changes["mc_seed"] = seed
    return dataclasses.replace(params, **changes) if changes else params


def scoring_inputs():
    """Return everything the engine reads from the database, as one ``ScoringInputs``.

    The one place the inputs are assembled: the command, the run snapshot and the tests all
    call it. Lines and outlines are optional for the engine: an empty line table means no
    cut-in, no outline no over-land check.
    """

    line_frame = getattr(grid_selectors, "grid_line_vertex_frame", None)
    lines = line_frame() if line_frame is not None else None
    return ScoringInputs(
        sites=selectors.site_frame(),
        grid=grid_selectors.grid_point_frame(),
        zones=grid_selectors.zone_frame(),
        hourly_carbon=grid_selectors.hourly_carbon_map(),
        lines=lines if lines is not None and len(lines) else None,
        outlines=grid_selectors.country_outline_wkb_map() or None,
    )


OUTLINE_CODES, OUTLINE_OFFSETS, OUTLINE_BYTES = "outlines/codes", "outlines/offsets", "outlines/wkb"


def scoring_inputs_pack(inputs) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """Return ``inputs`` as frames and loose arrays for ``frames.frames_pack`` (a run snapshot).

    Outlines go in as one byte array with offsets: a fixed-width bytes array would drop the
    trailing zero bytes a WKB can end with.
    """
    frames_out = {"sites": inputs.sites, "grid": inputs.grid, "zones": inputs.zones}
    if inputs.lines is not None:
        frames_out["lines"] = inputs.lines
    arrays = {f"hourly/{k}": np.asarray(v) for k, v in (inputs.hourly_carbon or {}).items()}
    if inputs.outlines:
        codes = sorted(inputs.outlines)
        blobs = [bytes(inputs.outlines[c]) for c in codes]
        arrays[OUTLINE_CODES] = np.asarray(codes, dtype=str)
        arrays[OUTLINE_OFFSETS] = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
        arrays[OUTLINE_BYTES] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    return frames_out, arrays


def scoring_inputs_unpack(frames_in: dict[str, pd.DataFrame], arrays: dict[str, np.ndarray]):
    """Return the ``ScoringInputs`` that :func:`scoring_inputs_pack` packed."""

    outlines: dict[str, object] | None = None
    if OUTLINE_CODES in arrays:
        offsets, data = arrays[OUTLINE_OFFSETS], arrays[OUTLINE_BYTES].tobytes()
        outlines = {str(c): data[offsets[i] : offsets[i + 1]] for i, c in enumerate(arrays[OUTLINE_CODES])}
    return ScoringInputs(
        sites=frames_in["sites"],
        grid=frames_in["grid"],
        zones=frames_in["zones"],
        hourly_carbon={k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("hourly/")},
        lines=frames_in.get("lines"),
        outlines=outlines,
    )


def score_loaded_sites(*, params, draws: int = 0):
    """Score every site in the database with ``params``; return the engine's result."""

    return score_inputs(scoring_inputs(), params, draws=draws)


def run_table(run: ScoringRun) -> pd.DataFrame:
    """Return a finished run's full result table (all sizes), as scoring produced it."""
    parts = [
        frames.frames_unpack(r.table)[0]["table"] for r in RunResult.objects.filter(run=run).order_by("size_h100e")
    ]
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
