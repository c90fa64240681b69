"""The scoring criteria: one table of names, units, direction, fixed bounds and default weight.

Coordinates throughout the scoring package are WGS84 longitude/latitude in degrees.

Normalisation is a value function on fixed bounds (not min–max over the current set), so a
site's score never changes when another site is added: v = (x − worst) / (best − worst),
clipped to [0, 1]. The bounds are **assumptions** chosen to span realistic values.
"""

from __future__ import annotations

from dataclasses import dataclass


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


CRITERIA = {
    c.name: c
    for c in (
        Criterion("tco", "tco_eur_per_gpu_hour", "EUR/GPU-h", False, 4.0, 1.0, 0.35, "MODEL.md: 1–3 EUR per H100-hour is plausible"),
        Criterion("emissions", "emissions_t_per_yr_per_mw_it", "tCO2e/yr/MW IT", False, 7000.0, 0.0, 0.25,
                  "800 g/kWh × 8,760 h × 0.8 × PUE 1.25 ≈ 7,000"),
        Criterion("time_to_power", "time_to_power_months", "month", False, 84.0, 12.0, 0.20, "RTE: up to 7 years"),
        Criterion("land", "land_margin", "-", True, 1.0, 3.0, 0.05, "min(area / needed, 3); unknown area counts as 1"),
        Criterion("water", "water_l_per_gpu_hour", "L/GPU-h", False, 2.5, 0.0, 0.05, "air + evaporative ≈ 2.3 L/GPU-h"),
        Criterion("reliability", "reliability", "-", True, 0.0, 1.0, 0.10, "share of observed inputs"),
    )
}
CRITERION_NAMES = tuple(CRITERIA)
