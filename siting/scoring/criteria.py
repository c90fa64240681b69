"""The scoring criteria: one table of names, units, direction, default bounds and default weight.

Coordinates throughout the scoring package are WGS84 longitude/latitude in degrees.

Normalisation is a value function on fixed bounds (not min–max over the current set), so a
site's score never changes when another site is added: v = (x − worst) / (best − worst),
clipped to [0, 1]. The bounds are scenario parameters (``ScenarioParams.criterion_bounds``);
the ``worst``/``best`` here are their defaults, **assumptions** chosen so that every criterion
spreads over a good part of [0, 1] on the shipped data.

The criterion named ``tco`` (the key of its weight, kept for stored runs and forms) is the
*site cost* (v2): the site-dependent part of the cost of compute — facility, grid, remediation,
energy and O&M per GPU-hour, without the IT hardware that costs the same at every site. The
full cost per GPU-hour stays in the ``tco_eur_per_gpu_hour`` column.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import cast

from .params import BOUND_FIELDS, ScenarioParams


@dataclass(frozen=True)
class Criterion:
    name: str
    column: str
    unit: str
    higher_is_better: bool
    worst: float
    best: float
    default_weight: float
    note: str


def _default_bounds(name: str) -> tuple[float, float]:
    field = {f.name: f for f in dataclasses.fields(ScenarioParams)}[BOUND_FIELDS[name]]
    worst, best = cast(tuple[float, float], field.default)
    return float(worst), float(best)


def _criterion(name: str, column: str, unit: str, higher: bool, weight: float, note: str) -> Criterion:
    worst, best = _default_bounds(name)
    return Criterion(name, column, unit, higher, worst, best, weight, note)


CRITERIA = {
    c.name: c
    for c in (
        _criterion(
            "tco",
            "site_cost_eur_per_gpu_hour",
            "EUR/GPU-h",
            False,
            0.35,
            "site cost: facility, grid, remediation, energy and O&M per GPU-hour, without the IT hardware",
        ),
        _criterion(
            "emissions",
            "emissions_t_per_yr_per_mw_it",
            "tCO2e/yr/MW IT",
            False,
            0.25,
            "690 g/kWh × 8,760 h × 0.8 × PUE 1.2 ≈ 6,000",
        ),
        _criterion(
            "time_to_power",
            "time_to_power_months",
            "month",
            False,
            0.20,
            "max(grid months, site months); RTE: up to 7 years",
        ),
        _criterion("land", "land_margin", "-", True, 0.05, "min(area / needed, 3); unknown area counts as 1"),
        _criterion("water", "water_l_per_gpu_hour", "L/GPU-h", False, 0.05, "air + evaporative ≈ 2.3 L/GPU-h"),
        _criterion("reliability", "reliability", "-", True, 0.10, "share of observed inputs"),
    )
}
CRITERION_NAMES = tuple(CRITERIA)
