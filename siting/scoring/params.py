"""Scenario parameters: every default of MODEL.md with its source, or labelled an assumption.

``ScenarioParams`` is frozen and validated; ``to_dict``/``from_dict`` round-trip it exactly
through JSON (a run stores it). ``presets()`` gives "default" (MODEL.md) and "seed" (the
back-of-envelope figures: 1 kW per GPU, PUE 1.0, 7 M€/MW, 50 k€ per GPU).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from grid.scope import DEFAULT_SCOPE_ISO2


def _p(default: Any, unit: str, source: str, *, assumption: bool = False, label: str = "") -> Any:
    meta = {"unit": unit, "source": source, "assumption": assumption, "label": label}
    if isinstance(default, (dict, list, tuple)):
        return (
            field(default_factory=lambda: default, metadata=meta)
            if not isinstance(default, tuple)
            else field(default=default, metadata=meta)
        )
    return field(default=default, metadata=meta)


ACCELERATOR_KW_PER_H100E = {"h100": 1.275, "b200": 0.80, "gb200": 0.92}
"""Power per H100-equivalent [kW]: DGX H100 10.2 kW / 8 = 1.275; DGX B200 14.3 kW / 8 / 2.25
≈ 0.80; GB200 SuperPOD 1.2 MW / 576 GPUs / 2.25 ≈ 0.92 (B200 ≈ 2.25 × H100 at FP8 sparse)."""

VOLTAGE_CLASSES_KV = (20.0, 63.0, 90.0, 150.0, 225.0, 400.0)

DEFAULT_MC_DRAWS = 1000
"""Monte Carlo draws of a run unless the user asks otherwise (siting model §4: 1,000 draws
wherever a run is made: the command, the web form and the demo run)."""

BOUND_FIELDS = {
    "tco": "tco_bounds_eur_per_gpu_hour",
    "emissions": "emissions_bounds_t_per_yr_per_mw_it",
    "time_to_power": "time_to_power_bounds_months",
    "land": "land_bounds",
    "water": "water_bounds_l_per_gpu_hour",
    "reliability": "reliability_bounds",
}
"""Criterion name → the scenario parameter holding its value-function bounds (worst, best)."""


@dataclass(frozen=True)
class ScenarioParams:
    """Every parameter of the siting model (MODEL.md §2–§4). Units are in the names."""

    sizes: tuple[int, ...] = _p((1000, 2000, 5000, 10000, 20000, 50000, 100000), "H100e", "Gigasite ladder 1k → 100k")
    accelerator: str = _p("h100", "-", "NVIDIA DGX H100, DGX B200 and GB200 SuperPOD specifications (generations)")
    kw_per_h100e: float | None = _p(None, "kW", "NVIDIA DGX H100 spec (10.2 kW / 8); None = from the accelerator")
    cooling: str = _p("liquid", "-", "liquid or air")
    pue_design_liquid: float = _p(1.15, "-", "Uptime: new large sites ≤ 1.3; liquid ≈ 1.1")
    pue_design_air: float = _p(1.30, "-", "Uptime Institute global survey: new large sites ≤ 1.3")
    pue_beta_per_1000_cdd: float = _p(0.10, "-/(1000 °C·day)", "no published curve found", assumption=True)
    voltage_classes_kv: tuple[float, ...] = _p(VOLTAGE_CLASSES_KV, "kV", "French HTA/HTB levels")
    circuit_rating_mw: tuple[float, ...] = _p(
        (12.0, 27.0, 58.0, 117.0, 352.0, 1251.0),
        "MW",
        "63–400 kV: PyPSA line types × 0.7 (PyPSA-Eur s_max_pu); 20 kV: 12 MW per HTA feeder, French HTA "
        "practice (assumption)",
        assumption=True,
    )
    voltage_class_tolerance: float = _p(
        0.10,
        "-",
        "a nominal voltage within 10 % below a class belongs to it (220 kV is the 225 kV class, 380 kV the 400 kV "
        "class)",
        assumption=True,
    )
    line_cost_meur_per_km: tuple[float, ...] = _p(
        (0.2, 0.75, 0.75, 0.85, 1.9, 1.6),
        "M€/km",
        "HTA 200 €/m (Enedis via Mutafriches); 63–400 kV: reVX 2019 × 0.9 €/$ × RTE underground/overhead ratios",
    )
    bay_cost_meur: tuple[float, ...] = _p(
        (0.0, 1.0, 1.0, 1.5, 2.0, 4.8),
        "M€",
        "63–400 kV: reVX MISO upgrade costs × 0.9 €/$; 20 kV: none, a feeder from an existing HV/MV substation "
        "(assumption)",
        assumption=True,
    )
    substation_usd_per_kv_plus_mw: float = _p(11652.0, "USD", "NREL LandBOSSE SubstationCost")
    substation_usd_per_mw_pow: float = _p(11795.0, "USD", "NREL LandBOSSE SubstationCost")
    substation_mw_exponent: float = _p(0.3549, "-", "NREL LandBOSSE SubstationCost")
    substation_usd_fixed: float = _p(1526800.0, "USD", "NREL LandBOSSE SubstationCost")
    eur_per_usd: float = _p(
        0.9,
        "EUR/USD",
        "round conversion applied to the NREL reVX and LandBOSSE US costs (ECB reference rate 2019–2024 ≈ 0.85–0.95)",
        assumption=True,
    )
    own_connection_refurb_meur: float = _p(2.0, "M€", "refurbishing an existing connection", assumption=True)
    headroom_default_mw: tuple[float, ...] = _p(
        (12.0, 20.0, 40.0, 80.0, 250.0, 1000.0),
        "MW",
        "class defaults when headroom is unknown; 20 kV = one circuit",
        assumption=True,
    )
    ttp_base_own_months: float = _p(
        12.0, "month", "RTE (Jan 2026): connections take 3–5 years; reuse faster", assumption=True
    )
    ttp_base_months: tuple[float, ...] = _p(
        (18.0, 36.0, 36.0, 48.0, 48.0, 60.0), "month", "RTE (Jan 2026): 3–5 years, up to 7"
    )
    max_line_km: tuple[float, ...] = _p(
        (15.0, 30.0, 30.0, 50.0, 50.0, 80.0),
        "km",
        "longest routed new line per class: radial HTA ≈ 10–20 km; longer HV spurs are transmission projects of "
        "5–10 years",
        assumption=True,
    )
    outline_tolerance_km: float = _p(
        3.0,
        "km",
        "country outlines (Natural Earth 1:50m) are buffered by this much, so a coastal site that falls just off "
        "the coarse coastline still counts as on land",
        assumption=True,
    )
    ttp_free_km: float = _p(5.0, "km", "line length covered by the base time", assumption=True)
    ttp_months_per_km: float = _p(1.0, "month/km", "slope beyond the free length", assumption=True)
    routing_factor: float = _p(1.3, "-", "reV/reVX route on cost rasters; none here", assumption=True)
    k_nearest: int = _p(
        8,
        "-",
        "substations considered per voltage class; beyond the 8 nearest a farther point "
        "is never cheaper (cost and time grow with length)",
        assumption=True,
    )
    search_radius_km: float = _p(100.0, "km", "beyond this no new line is considered", assumption=True)
    reference_year: int = _p(
        2026,
        "yr",
        "the scenario's current year: an own connection lapses counted to it; fixed "
        "(not the run date) so a run reproduces",
        assumption=True,
    )
    own_connection_lapse_years: float = _p(
        10.0,
        "yr",
        "unused capacity can be taken back (France: L.342-24 Code de l'énergie, applied to data centres since "
        "Aug 2025); the length L is an assumption",
        assumption=True,
    )
    cut_in_min_kv: float = _p(
        225.0,
        "kV",
        "cut-in substations on existing 225 and 400 kV lines (CRE fast track for "
        "400 MW–1 GW consumers on the 400 kV network, 2025)",
    )
    cut_in_extra_months: float = _p(
        12.0, "month", "a cut-in substation on a line takes longer than a bay at an existing one", assumption=True
    )
    cut_in_bays: float = _p(
        2.0, "-", "a line cut in and out of the new substation needs two line bays (RTE 'entrée en coupure')"
    )
    cut_in_headroom_share: float = _p(
        0.3,
        "-",
        "headroom of a cut-in: α × one line rating (N-1: the bus has the line's two halves; losing one, the other "
        "feeds it, Σ ratings − the largest = one rating); α as the network estimate",
        assumption=True,
    )
    line_densify_km: float = _p(
        1.0, "km", "lines are sampled at most this far apart to find the nearest point on them", assumption=True
    )
    facility_capex_meur_per_mw_it: float = _p(8.4, "M€/MW IT", "Turner & Townsend 2023 European average")
    gpu_capex_keur_per_h100e: float = _p(50.0, "k€/H100e", "≈ 50 k€ per H100-class GPU (seed figure)")
    utilisation: float = _p(0.80, "-", "average load factor", assumption=True)
    price_adder_eur_per_mwh: float = _p(20.0, "EUR/MWh", "network and taxes on top of day-ahead", assumption=True)
    fallback_price_eur_per_mwh: float = _p(80.0, "EUR/MWh", "used where a zone has no price", assumption=True)
    fallback_carbon_g_per_kwh: float = _p(
        250.0, "gCO2e/kWh", "EU-27 order of magnitude where a zone has none", assumption=True
    )
    fallback_cdd: float = _p(100.0, "°C·day/yr", "used where a zone has no degree days", assumption=True)
    wue_liquid_l_per_kwh: float = _p(0.2, "L/kWh", "LBNL 2024: closed-loop liquid cooling")
    wue_air_l_per_kwh: float = _p(1.8, "L/kWh", "LBNL 2024: air + evaporative ≈ 1.8")
    land_ha_per_mw: float = _p(0.25, "ha/MW", "French 35-site list; EDF plants 0.075; US 0.2–0.6 ha/MW")
    backup_hours: float = _p(12.0, "h", "Uptime Tier minimum on-site fuel")
    fuel_t_per_mwh: float = _p(0.227, "t/MWh", "0.269 L/kWh at full load × 0.845 kg/L")
    seveso_lower_t: float = _p(2500.0, "t", "Seveso III Annex I part 2, petroleum products (34); to confirm")
    seveso_upper_t: float = _p(25000.0, "t", "Seveso III Annex I part 2, petroleum products (34); to confirm")
    life_facility_yr: float = _p(20.0, "yr", "annuity", assumption=True)
    life_it_yr: float = _p(5.0, "yr", "annuity", assumption=True)
    life_grid_yr: float = _p(40.0, "yr", "annuity", assumption=True)
    discount_rate: float = _p(0.07, "-", "annuity", assumption=True)
    om_share_of_facility_capex: float = _p(0.03, "1/yr", "O&M per year", assumption=True)
    permit_months: float = _p(
        18.0, "month", "ICPE authorisation for a large site (environmental permit)", assumption=True
    )
    rezoning_months: float = _p(
        18.0,
        "month",
        "local plan change where the zoning is agricultural or natural (Cartofriches urba_zone_type A/N)",
        assumption=True,
    )
    rezoning_unknown_months: float = _p(
        0.0,
        "month",
        "zoning unknown: a former industrial site is taken as zoned for industry (flagged estimated)",
        assumption=True,
    )
    remediation_months: float = _p(12.0, "month", "pollution confirmed and not remediated", assumption=True)
    remediation_meur_per_ha: float = _p(
        0.5, "M€/ha", "pollution confirmed and not remediated, on the land the project occupies", assumption=True
    )
    remediation_unknown_months: float = _p(
        6.0, "month", "pollution unknown or suspected: a site investigation (flagged estimated)", assumption=True
    )
    remediation_default_area_ha: float | None = _p(
        None, "ha", "area remediated where the site area is unknown; empty: the land the project needs", assumption=True
    )
    reliability_estimate_credit: float = _p(
        0.5,
        "-",
        "a headroom estimated from the network (line ratings, "
        "transformer power) or an own connection's former capacity counts as half "
        "an observation in data reliability: derived from observed data, not a "
        "class default",
        assumption=True,
    )
    demolition_months: float = _p(6.0, "month", "buildings stand (Cartofriches bati_etat)", assumption=True)
    demolition_unknown_months: float = _p(
        6.0, "month", "buildings unknown: a retired plant's usually stand (flagged estimated)", assumption=True
    )
    max_time_to_power_months: float | None = _p(None, "month", "scenario switch; none by default")
    exclude_polluted_unremediated: bool = _p(False, "-", "optional exclusion switch, off by default")
    exclude_flood_zone: bool = _p(False, "-", "optional exclusion switch, off by default")
    exclude_seveso_upper: bool = _p(False, "-", "optional exclusion switch, off by default")
    exclude_reconverted: bool = _p(True, "-", "Cartofriches 'friche reconvertie': no longer a brownfield")
    exclude_still_operating: bool = _p(True, "-", "a site where an operating unit still stands is not free")
    scope_countries: tuple[str, ...] = _p(
        tuple(sorted(DEFAULT_SCOPE_ISO2)),
        "ISO2",
        "EU27, EEA, Switzerland and the UK: states that can host an EU AI gigafactory or partner one (EuroHPC AI "
        "gigafactories call, 2025)",
    )
    overseas_km: float = _p(
        500.0,
        "km",
        "a site farther than this from the largest landmass of its country's outline (Natural Earth 1:50m) is "
        "overseas, on an island grid that the country's zone (carbon, price, climate) does not describe, and is "
        "excluded; on the shipped outlines the islands kept are within 370 km of their mainland (Corsica, "
        "Sardinia, the Balearics, Crete, the Dodecanese) and those excluded 660 km and more away (Svalbard, "
        "Madeira, the Canaries, the Azores, the French overseas regions)",
        assumption=True,
    )
    tco_bounds_eur_per_gpu_hour: tuple[float, ...] = _p(
        (0.42, 0.28),
        "EUR/GPU-h",
        "site cost (worst, best): facility ≈ 0.19 EUR/GPU-h everywhere plus energy 1.47 kWh per GPU-hour at a "
        "delivered price of ≈ 60 (best) to ≈ 150 EUR/MWh (worst), Ember day-ahead 2024 + adder; on the shipped "
        "data the feasible sites span 0.28–0.43 (1st–99th percentile 0.30–0.38) at every size",
        assumption=True,
    )
    emissions_bounds_t_per_yr_per_mw_it: tuple[float, ...] = _p(
        (6000.0, 0.0),
        "tCO2e/yr/MW IT",
        "worst ≈ 690 g/kWh (the most carbon-intensive European zone, Ember 2024) × 8,760 h × 0.8 × PUE 1.2",
        assumption=True,
    )
    time_to_power_bounds_months: tuple[float, ...] = _p(
        (72.0, 18.0), "month", "best: the permit time of any site; worst: 6 years (RTE: up to 7)", assumption=True
    )
    land_bounds: tuple[float, ...] = _p(
        (1.0, 3.0), "-", "min(area / needed, 3); unknown area counts as 1", assumption=True
    )
    water_bounds_l_per_gpu_hour: tuple[float, ...] = _p(
        (2.5, 0.0), "L/GPU-h", "air + evaporative ≈ 2.3 L/GPU-h", assumption=True
    )
    reliability_bounds: tuple[float, ...] = _p((0.0, 1.0), "-", "share of observed inputs")
    weights: dict[str, float] = _p(
        {"tco": 0.35, "emissions": 0.25, "time_to_power": 0.20, "land": 0.05, "water": 0.05, "reliability": 0.10},
        "-",
        "default weights of the siting model (site cost, emissions, time, land, water, reliability)",
        assumption=True,
    )
    mc_seed: int = _p(20261124, "-", "Monte Carlo seed")
    mc_capex_spread: float = _p(
        0.20, "-", "±20 % triangular on c_gpu and on c_fac, each common to all sites in a draw", assumption=True
    )
    mc_discount_rate_points: float = _p(
        0.02, "-", "± 2 points triangular, common to all sites in a draw", assumption=True
    )
    mc_connection_cost_spread: float = _p(0.30, "-", "±30 % triangular per site", assumption=True)
    mc_readiness_low: float = _p(0.30, "-", "−30 % triangular on site readiness months, per site", assumption=True)
    mc_readiness_high: float = _p(0.50, "-", "+50 % triangular on site readiness months, per site", assumption=True)
    mc_price_spread: float = _p(0.25, "-", "±25 % triangular per zone", assumption=True)
    mc_carbon_spread: float = _p(0.15, "-", "±15 % triangular per zone", assumption=True)
    mc_ttp_low: float = _p(0.20, "-", "−20 % triangular on grid months, per site", assumption=True)
    mc_ttp_high: float = _p(0.50, "-", "+50 % triangular on grid months, per site", assumption=True)
    mc_headroom_low: float = _p(0.5, "-", "× 0.5 … 1.5 on estimated headroom", assumption=True)
    mc_headroom_high: float = _p(1.5, "-", "× 0.5 … 1.5 on estimated headroom", assumption=True)
    mc_pue_offset: float = _p(0.05, "-", "± 0.05 triangular", assumption=True)
    mc_dirichlet_concentration: float = _p(50.0, "-", "weights drawn around the chosen ones", assumption=True)

    def __post_init__(self) -> None:
        def fail(name: str, why: str) -> None:
            raise ValueError(f"{name}: {why}")

        sizes = tuple(int(s) for s in self.sizes)
        object.__setattr__(self, "sizes", sizes)
        for name in (
            "voltage_classes_kv",
            "circuit_rating_mw",
            "line_cost_meur_per_km",
            "bay_cost_meur",
            "headroom_default_mw",
            "ttp_base_months",
            "max_line_km",
        ):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
            if len(getattr(self, name)) != len(self.voltage_classes_kv):
                fail(name, f"needs one value per voltage class ({len(self.voltage_classes_kv)})")
        if not sizes or any(s <= 0 for s in sizes):
            fail("sizes", "give at least one positive cluster size")
        if len(set(sizes)) != len(sizes):
            fail("sizes", "each size once")
        if self.accelerator not in ACCELERATOR_KW_PER_H100E:
            fail("accelerator", f"one of {', '.join(ACCELERATOR_KW_PER_H100E)}")
        if self.cooling not in ("liquid", "air"):
            fail("cooling", "liquid or air")
        if list(self.circuit_rating_mw) != sorted(self.circuit_rating_mw):
            fail("circuit_rating_mw", "must grow with the voltage class")
        positive = (
            "pue_design_liquid",
            "pue_design_air",
            "routing_factor",
            "search_radius_km",
            "land_ha_per_mw",
            "life_facility_yr",
            "life_it_yr",
            "life_grid_yr",
            "eur_per_usd",
            "mc_dirichlet_concentration",
        )
        for name in positive:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                fail(name, "must be a positive number")
        if self.kw_per_h100e is not None and not self.kw_per_h100e > 0:
            fail("kw_per_h100e", "must be positive")
        if not 0 < self.utilisation <= 1:
            fail("utilisation", "between 0 (excluded) and 1")
        if not 0 <= self.discount_rate < 1:
            fail("discount_rate", "between 0 and 1")
        if self.k_nearest < 1 or self.k_nearest > 64:
            fail("k_nearest", "between 1 and 64")
        if self.max_time_to_power_months is not None and self.max_time_to_power_months <= 0:
            fail("max_time_to_power_months", "must be positive or empty")
        weights = {k: float(v) for k, v in dict(self.weights).items()}
        unknown = set(weights) - set(BOUND_FIELDS)  # one entry per criterion (criteria.CRITERIA)
        if unknown:
            fail("weights", f"unknown criteria {', '.join(sorted(unknown))}")
        if any(v < 0 or not math.isfinite(v) for v in weights.values()):
            fail("weights", "must be finite and non-negative")
        object.__setattr__(self, "weights", {name: weights.get(name, 0.0) for name in BOUND_FIELDS})
        for name in ("mc_capex_spread", "mc_price_spread", "mc_carbon_spread", "mc_ttp_low", "mc_pue_offset"):
            if not 0 <= getattr(self, name) < 1:
                fail(name, "between 0 and 1")
        if self.mc_ttp_high < 0 or not 0 < self.mc_headroom_low <= 1 <= self.mc_headroom_high:
            fail("mc_headroom_low", "need 0 < low ≤ 1 ≤ high and a non-negative ttp high")
        if not 0 <= self.mc_readiness_low < 1 or self.mc_readiness_high < 0:
            fail("mc_readiness_low", "need 0 ≤ low < 1 and a non-negative high")
        if not 0 <= self.mc_connection_cost_spread < 1:
            fail("mc_connection_cost_spread", "between 0 and 1")
        if not 0 <= self.mc_discount_rate_points <= self.discount_rate:
            fail("mc_discount_rate_points", "between 0 and the discount rate (a rate never goes negative)")
        non_negative = (
            "permit_months",
            "rezoning_months",
            "rezoning_unknown_months",
            "remediation_months",
            "remediation_meur_per_ha",
            "remediation_unknown_months",
            "demolition_months",
            "demolition_unknown_months",
            "cut_in_extra_months",
            "cut_in_bays",
            "cut_in_headroom_share",
            "own_connection_lapse_years",
            "outline_tolerance_km",
            "voltage_class_tolerance",
            "overseas_km",
        )
        for name in non_negative:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                fail(name, "must be a number ≥ 0")
        if not self.line_densify_km > 0 or any(not x > 0 for x in self.max_line_km):
            fail("max_line_km", "line lengths must be positive")
        if self.remediation_default_area_ha is not None and not self.remediation_default_area_ha > 0:
            fail("remediation_default_area_ha", "must be positive or empty")
        if not 0 <= self.reliability_estimate_credit <= 1:
            fail("reliability_estimate_credit", "between 0 and 1")
        if not isinstance(self.reference_year, int) or not 1900 <= self.reference_year <= 2200:
            fail("reference_year", "a year such as 2026")
        scope = tuple(sorted({str(c).strip().upper() for c in self.scope_countries}))
        if any(len(c) != 2 or not c.isalpha() for c in scope):
            fail("scope_countries", "ISO 3166-1 alpha-2 codes such as FR")
        object.__setattr__(self, "scope_countries", scope)
        for name in BOUND_FIELDS.values():
            bounds = tuple(float(x) for x in getattr(self, name))
            if len(bounds) != 2 or not all(math.isfinite(x) for x in bounds) or bounds[0] == bounds[1]:
                fail(name, "two different finite numbers: worst, best")
            object.__setattr__(self, name, bounds)

    @property
    def k_gpu_kw(self) -> float:
        """Power per H100e [kW]."""
        return float(self.kw_per_h100e if self.kw_per_h100e is not None else ACCELERATOR_KW_PER_H100E[self.accelerator])

    @property
    def pue_design(self) -> float:
        return self.pue_design_liquid if self.cooling == "liquid" else self.pue_design_air

    @property
    def wue_l_per_kwh(self) -> float:
        return self.wue_liquid_l_per_kwh if self.cooling == "liquid" else self.wue_air_l_per_kwh

    def criterion_bounds(self, name: str) -> tuple[float, float]:
        """Return (worst, best) of criterion ``name`` in this scenario."""
        worst, best = getattr(self, BOUND_FIELDS[name])
        return float(worst), float(best)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict that ``from_dict`` turns back into an equal object."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, dict) else v)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioParams:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown scenario parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def presets() -> dict[str, ScenarioParams]:
    """Return the named presets: "default" (MODEL.md) and "seed" (back-of-envelope figures)."""
    return {
        "default": ScenarioParams(),
        "seed": ScenarioParams(
            kw_per_h100e=1.0,
            pue_design_liquid=1.0,
            pue_design_air=1.0,
            pue_beta_per_1000_cdd=0.0,
            facility_capex_meur_per_mw_it=7.0,
            gpu_capex_keur_per_h100e=50.0,
        ),
    }


def parameter_table(params: ScenarioParams) -> list[dict[str, Any]]:
    """Return every parameter with its value, unit, source and assumption flag (for UI and PDFs)."""
    return [
        {
            "name": f.name,
            "value": getattr(params, f.name),
            "unit": f.metadata.get("unit", ""),
            "source": f.metadata.get("source", ""),
            "assumption": bool(f.metadata.get("assumption", False)),
        }
        for f in dataclasses.fields(params)
    ]
