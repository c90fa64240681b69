"""One home for the translated labels of criteria, exclusions, connections and scenario parameters.

Pages, the API, the JS configuration and the PDF read them here. The page labels (short, for
the map and the site page) and the PDF titles and texts (full sentences) are separate tables
for now: merging them changes what users read, which is a decision, not a move.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

EXCLUSION_LABELS = {
    "land_too_small": _("Land too small for the cluster"),
    "no_connection": _("No grid connection with enough headroom within the search radius"),
    "time_to_power_too_long": _("Time to power longer than the scenario allows"),
    "polluted_unremediated": _("Confirmed pollution, not remediated"),
    "flood_zone": _("In a flood zone"),
    "seveso_upper": _("Backup fuel above the Seveso upper-tier threshold"),
    "reconverted": _("Already reconverted"),
    "outside_scope": _("Outside scope (a country that cannot host an EU AI gigafactory)"),
    "still_operating": _("Still operating (an operating plant stands on the site)"),
}

# The cost criterion keeps its code name "tco" (stored runs, forms, ``w_tco``) but since
# MODEL.md v2 it scores the site cost (column ``site_cost_eur_per_gpu_hour``), not the full cost.
CRITERION_LABELS = {
    "tco": _("Site cost per GPU-hour (without IT hardware)"),
    "site_cost": _("Site cost per GPU-hour (without IT hardware)"),
    "emissions": _("Emissions"),
    "time_to_power": _("Time to power"),
    "land": _("Land"),
    "water": _("Water"),
    "reliability": _("Data reliability"),
}

SITE_COST_TOOLTIP = _(
    "The part of the cost per GPU-hour that depends on the site: facility, grid connection, "
    "remediation, energy and O&M, without the IT hardware (which costs the same everywhere). "
    "The full cost per GPU-hour is shown beside it."
)

CRITERION_TOOLTIPS = {
    "tco": SITE_COST_TOOLTIP,
    "site_cost": SITE_COST_TOOLTIP,
    "emissions": _("Emissions per MW of IT load per year, from the zone's carbon intensity."),
    "time_to_power": _("Months until power: the longer of the grid connection and the site readiness."),
    "land": _("Site area divided by the land the cluster needs, at most 3."),
    "water": _("Water per GPU-hour."),
    "reliability": _("Share of the site's inputs that were observed rather than defaulted."),
}
"""Tooltips of the criteria: what each one measures (the two costs are easy to confuse)."""

CONNECTION_KIND_LABELS = {
    "own": _("the site's own connection"),
    "new_line": _("a new line to a substation"),
    "cut_in": _("a new substation cut into a line"),
}
"""What each ``connection_kind`` of a result row means ("" or "none": no connection)."""

# The cost criterion keeps its code name "tco" but scores the site cost (MODEL.md v2): the
# cost per GPU-hour without the IT hardware. The full cost is a column of its own.
CRITERION_TITLES = {
    "tco": gettext_lazy("Site cost per GPU-hour (without IT hardware)"),
    "emissions": gettext_lazy("Emissions per MW of IT load"),
    "time_to_power": gettext_lazy("Months to power"),
    "land": gettext_lazy("Land margin"),
    "water": gettext_lazy("Water per GPU-hour"),
    "reliability": gettext_lazy("Reliability of the inputs"),
}

CRITERION_SHORT_TITLES = {
    "tco": gettext_lazy("Site cost"),
    "emissions": gettext_lazy("Carbon"),
    "time_to_power": gettext_lazy("Delay"),
    "land": gettext_lazy("Land margin"),
    "water": gettext_lazy("Water use"),
    "reliability": gettext_lazy("Reliability"),
}

EXCLUSION_TEXTS = {
    "land_too_small": gettext_lazy("The site is smaller than the land this cluster needs."),
    "no_connection": gettext_lazy("No grid connection with enough headroom within the search radius."),
    "time_to_power_too_long": gettext_lazy("Power arrives later than the scenario's maximum time to power."),
    "polluted_unremediated": gettext_lazy("Confirmed soil pollution, not remediated (excluded by the scenario)."),
    "flood_zone": gettext_lazy("The site lies in a flood zone (excluded by the scenario)."),
    "seveso_upper": gettext_lazy("Backup fuel reaches the Seveso upper tier (excluded by the scenario)."),
    "reconverted": gettext_lazy("The brownfield has already been reconverted."),
    "outside_scope": gettext_lazy(
        "The site lies outside the scenario's scope of countries (states that can host an EU AI gigafactory)."
    ),
    "still_operating": gettext_lazy("An operating plant still stands on the site."),
}

SEVESO_TIERS = {0: gettext_lazy("no tier"), 1: gettext_lazy("lower tier"), 2: gettext_lazy("upper tier")}

CONNECTION_KINDS = {
    "own": gettext_lazy("existing connection"),
    "new_line": gettext_lazy("new line"),
    "cut_in": gettext_lazy("cut-in on a line"),
    "none": "—",
    "": "—",
}

PARAMETER_LABELS: dict[str, Any] = {
    "sizes": gettext_lazy("Cluster-size ladder"),
    "accelerator": gettext_lazy("Accelerator generation"),
    "kw_per_h100e": gettext_lazy("Power per H100e (override)"),
    "cooling": gettext_lazy("Cooling"),
    "pue_design_liquid": gettext_lazy("Design PUE, liquid cooling"),
    "pue_design_air": gettext_lazy("Design PUE, air cooling"),
    "pue_beta_per_1000_cdd": gettext_lazy("PUE increase per 1,000 cooling degree days"),
    "voltage_classes_kv": gettext_lazy("Voltage classes"),
    "circuit_rating_mw": gettext_lazy("Circuit rating per voltage class"),
    "line_cost_meur_per_km": gettext_lazy("Line cost per voltage class"),
    "bay_cost_meur": gettext_lazy("Bay cost at the grid substation"),
    "substation_usd_per_kv_plus_mw": gettext_lazy("Substation cost per (kV + MW)"),
    "substation_usd_per_mw_pow": gettext_lazy("Substation cost, power term"),
    "substation_mw_exponent": gettext_lazy("Substation cost, power exponent"),
    "substation_usd_fixed": gettext_lazy("Substation cost, fixed part"),
    "eur_per_usd": gettext_lazy("Exchange rate"),
    "own_connection_refurb_meur": gettext_lazy("Refurbishing an existing connection"),
    "headroom_default_mw": gettext_lazy("Default headroom per voltage class"),
    "ttp_base_own_months": gettext_lazy("Time to power, existing connection"),
    "ttp_base_months": gettext_lazy("Time to power per voltage class"),
    "ttp_free_km": gettext_lazy("Line length within the base time"),
    "ttp_months_per_km": gettext_lazy("Extra time per km of line"),
    "routing_factor": gettext_lazy("Line routing factor"),
    "k_nearest": gettext_lazy("Substations considered per class"),
    "search_radius_km": gettext_lazy("Search radius for a new line"),
    "facility_capex_meur_per_mw_it": gettext_lazy("Facility capex per MW IT"),
    "gpu_capex_keur_per_h100e": gettext_lazy("IT capex per H100e"),
    "utilisation": gettext_lazy("Utilisation"),
    "price_adder_eur_per_mwh": gettext_lazy("Network and tax adder on the power price"),
    "fallback_price_eur_per_mwh": gettext_lazy("Power price where a zone has none"),
    "fallback_carbon_g_per_kwh": gettext_lazy("Carbon intensity where a zone has none"),
    "fallback_cdd": gettext_lazy("Cooling degree days where a zone has none"),
    "wue_liquid_l_per_kwh": gettext_lazy("Water use, liquid cooling"),
    "wue_air_l_per_kwh": gettext_lazy("Water use, air cooling"),
    "land_ha_per_mw": gettext_lazy("Land needed per MW"),
    "backup_hours": gettext_lazy("Backup fuel autonomy"),
    "fuel_t_per_mwh": gettext_lazy("Fuel per MWh of backup"),
    "seveso_lower_t": gettext_lazy("Seveso lower-tier threshold"),
    "seveso_upper_t": gettext_lazy("Seveso upper-tier threshold"),
    "life_facility_yr": gettext_lazy("Facility lifetime"),
    "life_it_yr": gettext_lazy("IT lifetime"),
    "life_grid_yr": gettext_lazy("Grid connection lifetime"),
    "discount_rate": gettext_lazy("Discount rate"),
    "om_share_of_facility_capex": gettext_lazy("Operation and maintenance per year"),
    "max_time_to_power_months": gettext_lazy("Maximum time to power"),
    "exclude_polluted_unremediated": gettext_lazy("Exclude confirmed unremediated pollution"),
    "exclude_flood_zone": gettext_lazy("Exclude flood zones"),
    "exclude_seveso_upper": gettext_lazy("Exclude the Seveso upper tier"),
    "exclude_reconverted": gettext_lazy("Exclude reconverted brownfields"),
    "weights": gettext_lazy("Criterion weights"),
    "voltage_class_tolerance": gettext_lazy("Voltage class tolerance"),
    "max_line_km": gettext_lazy("Longest new line per voltage class"),
    "outline_tolerance_km": gettext_lazy("Coastline tolerance of the country outlines"),
    "reference_year": gettext_lazy("Reference year"),
    "own_connection_lapse_years": gettext_lazy("Years before an unused connection lapses"),
    "cut_in_min_kv": gettext_lazy("Lowest voltage for a cut-in substation"),
    "cut_in_extra_months": gettext_lazy("Extra time for a cut-in substation"),
    "cut_in_bays": gettext_lazy("Line bays of a cut-in substation"),
    "cut_in_headroom_share": gettext_lazy("Headroom share of a line at a cut-in"),
    "line_densify_km": gettext_lazy("Sampling step along lines"),
    "permit_months": gettext_lazy("Permits (site readiness)"),
    "rezoning_months": gettext_lazy("Rezoning (site readiness)"),
    "rezoning_unknown_months": gettext_lazy("Rezoning where the zoning is unknown"),
    "remediation_months": gettext_lazy("Remediation (site readiness)"),
    "remediation_meur_per_ha": gettext_lazy("Remediation cost per hectare"),
    "remediation_unknown_months": gettext_lazy("Site investigation where pollution is unknown"),
    "remediation_default_area_ha": gettext_lazy("Area remediated where the site area is unknown"),
    "demolition_months": gettext_lazy("Demolition (site readiness)"),
    "demolition_unknown_months": gettext_lazy("Demolition where buildings are unknown"),
    "exclude_still_operating": gettext_lazy("Exclude sites still operating"),
    "scope_countries": gettext_lazy("Countries in scope"),
    "tco_bounds_eur_per_gpu_hour": gettext_lazy("Site cost bounds (worst, best)"),
    "emissions_bounds_t_per_yr_per_mw_it": gettext_lazy("Emissions bounds (worst, best)"),
    "time_to_power_bounds_months": gettext_lazy("Time to power bounds (worst, best)"),
    "land_bounds": gettext_lazy("Land margin bounds (worst, best)"),
    "water_bounds_l_per_gpu_hour": gettext_lazy("Water bounds (worst, best)"),
    "reliability_bounds": gettext_lazy("Reliability bounds (worst, best)"),
    "mc_discount_rate_points": gettext_lazy("Discount rate uncertainty"),
    "mc_connection_cost_spread": gettext_lazy("Connection cost uncertainty"),
    "mc_readiness_low": gettext_lazy("Site readiness, lower spread"),
    "mc_readiness_high": gettext_lazy("Site readiness, upper spread"),
    "mc_seed": gettext_lazy("Monte Carlo seed"),
    "mc_capex_spread": gettext_lazy("Capex uncertainty"),
    "mc_price_spread": gettext_lazy("Power price uncertainty"),
    "mc_carbon_spread": gettext_lazy("Carbon intensity uncertainty"),
    "mc_ttp_low": gettext_lazy("Time to power, lower spread"),
    "mc_ttp_high": gettext_lazy("Time to power, upper spread"),
    "mc_headroom_low": gettext_lazy("Estimated headroom, lowest factor"),
    "mc_headroom_high": gettext_lazy("Estimated headroom, highest factor"),
    "mc_pue_offset": gettext_lazy("PUE uncertainty"),
    "mc_dirichlet_concentration": gettext_lazy("Weight uncertainty (Dirichlet concentration)"),
}
"""Human names of the scenario parameters; the annex shows them beside the code names."""
