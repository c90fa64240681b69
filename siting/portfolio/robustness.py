"""How sure is a portfolio: its chosen sites re-drawn with the engine's own Monte Carlo.

A run stores per-site Monte Carlo statistics (``mc_p_feasible``, rank percentiles), not the
draws, and a portfolio needs them jointly: two sites on one grid point share its drawn
headroom, and the deadline applies to each site's drawn time to power. So the chosen sites
are re-evaluated draw by draw from the run's own input snapshot and parameters, with the
engine's draw generator seeded as the run seeded it (``(mc_seed, draw index)``). Each draw is
generated for the run's full site list and sliced to the chosen sites, so every chosen site
sees exactly the factors it saw in the run: its share of feasible draws equals the run's
``mc_p_feasible`` (a test checks this), and what is added is the joint view.

In a draw the portfolio meets the target when its sites that are feasible at their size,
powered by the deadline and not over a shared point's drawn headroom still give the target
(every asked cluster, or the MW). A site is *responsible* in a failing draw when it is one of
those that dropped out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from siting import scoring
from siting.scoring import engine, prepare
from siting.scoring.layout import O_CUT_VERTEX, O_FACILITY_MW, O_FEASIBLE, O_HEADROOM, O_POINT, O_TTP

from .problem import PortfolioProblem

PER_SITE_DRAW = ("conn", "grid_months", "site_months", "pue_offset")
"""Per-site factors of one draw."""


@dataclass
class _Lengths:
    """What the engine's draw generator reads of the prepared inputs: the counts only."""

    site_id: np.ndarray
    zone_codes: list[str]
    point_id: np.ndarray
    line_headroom: np.ndarray


@dataclass
class Robustness:
    draws: int
    p_meets_target: float
    p_site_ok: dict[int, float]  # per site: feasible, on time and within shared headroom
    p_site_feasible: dict[int, float]  # per site: feasible at its size (the run's mc_p_feasible)
    responsible: list[dict[str, Any]]  # per site: share of failing draws it dropped out of, most first
    method: str = "re-drawn with the engine's Monte Carlo from the run's input snapshot and seed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "draws": self.draws,
            "p_meets_target": self.p_meets_target,
            "p_site_ok": {str(k): v for k, v in self.p_site_ok.items()},
            "p_site_feasible": {str(k): v for k, v in self.p_site_feasible.items()},
            "responsible": self.responsible,
            "method": self.method,
        }


def portfolio_robustness(
    inputs,
    params,
    chosen: pd.DataFrame,
    problem: PortfolioProblem,
    *,
    draws: int,
    progress: Callable[[float], None] | None = None,
) -> Robustness:
    """Return the probability that the chosen sites meet ``problem``'s target by its deadline.

    Parameters
    ----------
    inputs : siting.scoring.ScoringInputs
        The run's input snapshot (every site the run scored).
    params : ScenarioParams
        The run's parameters (its seed).
    chosen : DataFrame
        ``site_id``, ``size_h100e``, ``it_load_mw`` of the portfolio.
    draws : int
        Monte Carlo draws (the run's count by default at the call site).
    """
    site_ids = chosen["site_id"].to_numpy(np.int64)
    all_ids = np.sort(inputs.sites["site_id"].to_numpy(np.int64))
    full_n = len(all_ids)
    sub_inputs = scoring.ScoringInputs(
        sites=inputs.sites[inputs.sites["site_id"].isin(site_ids)],
        grid=inputs.grid,
        zones=inputs.zones,
        hourly_carbon=inputs.hourly_carbon or {},
        lines=inputs.lines,
        outlines=inputs.outlines,
    )
    # The engine's own preparation and draws (private helpers of siting.scoring, used here so
    # that the portfolio sees the very factors the run drew; the equality test guards them).
    prep = prepare._prepare(sub_inputs, params, cache=False)
    positions_full = np.searchsorted(all_ids, prep.site_id)
    lengths = _Lengths(np.empty(full_n), prep.zone_codes, prep.point_id, prep.line_headroom)
    row_of = {int(s): i for i, s in enumerate(prep.site_id)}
    by_size: dict[int, np.ndarray] = {}
    for size, group in chosen.groupby("size_h100e"):
        by_size[int(size)] = np.array([row_of[int(s)] for s in group["site_id"]], dtype=np.int64)
    n_sites = len(site_ids)
    ok = np.zeros((draws, n_sites), dtype=bool)
    feasible = np.zeros((draws, n_sites), dtype=bool)
    met = np.zeros(draws, dtype=bool)
    col_of = {int(s): j for j, s in enumerate(site_ids)}
    mw = chosen["it_load_mw"].to_numpy(float)
    size_of = chosen["size_h100e"].to_numpy(np.int64)
    deadline = np.inf if problem.deadline_months is None else problem.deadline_months
    vertex_line = prep.lines.vertex_line
    for d in range(draws):
        full = engine._draw(params, lengths, d)  # type: ignore[arg-type]
        draw = dataclasses.replace(full, **{k: getattr(full, k)[positions_full] for k in PER_SITE_DRAW})
        loads: dict[str, float] = {}
        cap: dict[str, float] = {}
        where: dict[int, str] = {}
        for size, rows in by_size.items():
            out, _ranks = engine._evaluate(params, prep, size, draw, "reference")
            for r in rows:
                j = col_of[int(prep.site_id[r])]
                feasible[d, j] = out[r, O_FEASIBLE] == 1.0
                ok[d, j] = feasible[d, j] and out[r, O_TTP] <= deadline + 1e-9
                point, vertex = int(out[r, O_POINT]), int(out[r, O_CUT_VERTEX])
                key = f"point:{point}" if point >= 0 else (f"line:{int(vertex_line[vertex])}" if vertex >= 0 else "")
                if ok[d, j] and key and problem.share_headroom:
                    loads[key] = loads.get(key, 0.0) + out[r, O_FACILITY_MW]
                    cap[key] = min(cap.get(key, np.inf), out[r, O_HEADROOM])
                    where[j] = key
        # A shared point over its drawn headroom fails every site on it: none can be served in full.
        for j, key in where.items():
            if loads[key] > cap[key] + 1e-9:
                ok[d, j] = False
        if problem.clusters:
            met[d] = all(int(ok[d][size_of == size].sum()) >= count for size, count in problem.clusters)
        else:
            met[d] = float(mw[ok[d]].sum()) >= problem.target_mw_it - 1e-9  # type: ignore[operator]
        if progress is not None and (d % 50 == 49 or d == draws - 1):
            progress((d + 1) / draws)
    failing = ~met
    n_fail = int(failing.sum())
    responsible = []
    if n_fail:
        share = (~ok[failing]).sum(axis=0) / n_fail
        for j in np.argsort(-share, kind="stable"):
            if share[j] > 0:
                responsible.append(
                    {
                        "site_id": int(site_ids[j]),
                        "share_of_failures": float(share[j]),
                        "p_infeasible": float(1 - feasible[:, j].mean()),
                    }
                )
    return Robustness(
        draws=draws,
        p_meets_target=float(met.mean()) if draws else float("nan"),
        p_site_ok={int(site_ids[j]): float(ok[:, j].mean()) for j in range(n_sites)} if draws else {},
        p_site_feasible={int(site_ids[j]): float(feasible[:, j].mean()) for j in range(n_sites)} if draws else {},
        responsible=responsible,
    )
