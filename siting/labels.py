"""One home for the translated labels of criteria, exclusions, connections and scenario parameters.

Pages, the API, the JS configuration and the PDF read them here: one table per concept, one
entry per code, holding every wording of it. The pages show short labels (the map, the site
page), the PDF full titles and sentences; they stay different texts, side by side in one entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class ExclusionLabel:
    """How one exclusion code reads: ``label`` on the pages, the API and the map (short),
    ``sentence`` in the PDF (a full sentence), ``tag`` in the PDF's size ladder (a word)."""

    label: StrOrPromise
    sentence: StrOrPromise
    tag: StrOrPromise


EXCLUSIONS: dict[str, ExclusionLabel] = {
    "land_too_small": ExclusionLabel(
        label=_("Land too small for the cluster"),
        sentence=_("The site is smaller than the land this cluster needs."),
        tag=_("land"),
    ),
    "no_connection": ExclusionLabel(
        label=_("No grid connection with enough headroom within the search radius"),
        sentence=_("No grid connection with enough headroom within the search radius."),
        tag=_("grid"),
    ),
    "time_to_power_too_long": ExclusionLabel(
        label=_("Time to power longer than the scenario allows"),
        sentence=_("Power arrives later than the scenario's maximum time to power."),
        tag=_("delay"),
    ),
    "polluted_unremediated": ExclusionLabel(
        label=_("Confirmed pollution, not remediated"),
        sentence=_("Confirmed soil pollution, not remediated (excluded by the scenario)."),
        tag=_("pollution"),
    ),
    "flood_zone": ExclusionLabel(
        label=_("In a flood zone"),
        sentence=_("The site lies in a flood zone (excluded by the scenario)."),
        tag=_("flood"),
    ),
    "seveso_upper": ExclusionLabel(
        label=_("Backup fuel above the Seveso upper-tier threshold"),
        sentence=_("Backup fuel reaches the Seveso upper tier (excluded by the scenario)."),
        tag="Seveso",
    ),
    "reconverted": ExclusionLabel(
        label=_("Already reconverted"),
        sentence=_("The brownfield has already been reconverted."),
        tag=_("reconverted"),
    ),
    "outside_scope": ExclusionLabel(
        label=_("Outside scope (a country that cannot host an EU AI gigafactory)"),
        sentence=_(
            "The site lies outside the scenario's scope of countries (states that can host an EU AI gigafactory)."
        ),
        tag=_("scope"),
    ),
    "still_operating": ExclusionLabel(
        label=_("Still operating (an operating plant stands on the site)"),
        sentence=_("An operating plant still stands on the site."),
        tag=_("operating"),
    ),
    "overseas": ExclusionLabel(
        label=_("Overseas (an island grid the country's figures do not describe)"),
        sentence=_(
            "The site lies overseas, far from its country's mainland, on an island grid that the country's "
            "carbon intensity, power price and climate do not describe."
        ),
        tag=_("overseas"),
    ),
}
"""The exclusion codes of ``siting.scoring.EXCLUSIONS``, as users read them."""


@dataclass(frozen=True)
class CriterionLabel:
    """How one criterion reads: ``label`` and ``tooltip`` on the pages, the API and the map;
    ``title`` (what the figure is) and ``short`` (a column head) in the PDF."""

    label: StrOrPromise
    title: StrOrPromise
    short: StrOrPromise
    tooltip: StrOrPromise


# The cost criterion keeps its code name "tco" (stored runs, forms, ``w_tco``) but since
# MODEL.md v2 it scores the site cost (column ``site_cost_eur_per_gpu_hour``): the cost per
# GPU-hour without the IT hardware. The full cost is a column of its own.
CRITERIA: dict[str, CriterionLabel] = {
    "tco": CriterionLabel(
        label=_("Site cost per GPU-hour (without IT hardware)"),
        title=_("Site cost per GPU-hour (without IT hardware)"),
        short=_("Site cost"),
        # The two costs are easy to confuse: say what the site cost holds.
        tooltip=_(
            "The part of the cost per GPU-hour that depends on the site: facility, grid connection, "
            "remediation, energy and O&M, without the IT hardware (which costs the same everywhere). "
            "The full cost per GPU-hour is shown beside it."
        ),
    ),
    "emissions": CriterionLabel(
        label=_("Emissions"),
        title=_("Emissions per MW of IT load"),
        short=_("Carbon"),
        tooltip=_("Emissions per MW of IT load per year, from the zone's carbon intensity."),
    ),
    "time_to_power": CriterionLabel(
        label=_("Time to power"),
        title=_("Months to power"),
        short=_("Delay"),
        tooltip=_("Months until power: the longer of the grid connection and the site readiness."),
    ),
    "land": CriterionLabel(
        label=_("Land"),
        title=_("Land margin"),
        short=_("Land margin"),
        tooltip=_("Site area divided by the land the cluster needs, at most 3."),
    ),
    "water": CriterionLabel(
        label=_("Water"),
        title=_("Water per GPU-hour"),
        short=_("Water use"),
        tooltip=_("Water per GPU-hour."),
    ),
    "reliability": CriterionLabel(
        label=_("Data reliability"),
        title=_("Reliability of the inputs"),
        short=_("Reliability"),
        tooltip=_("Share of the site's inputs that were observed rather than defaulted."),
    ),
}
"""The criteria of ``siting.scoring.criteria.CRITERIA`` (same names, same order), as users read them."""


@dataclass(frozen=True)
class ConnectionLabel:
    """How one ``connection_kind`` of a result row reads: ``label`` in the site page's text (the
    chosen and the next best connection), ``legend`` in its charts, ``short`` in the PDF's table."""

    label: StrOrPromise
    legend: StrOrPromise
    short: StrOrPromise


CONNECTIONS: dict[str, ConnectionLabel] = {
    "own": ConnectionLabel(
        label=_("the site's own connection"),
        legend=_("own connection"),
        short=_("existing connection"),
    ),
    "new_line": ConnectionLabel(
        label=_("a new line to a substation"),
        legend=_("new line"),
        short=_("new line"),
    ),
    "cut_in": ConnectionLabel(
        label=_("a new substation cut into a line"),
        legend=_("cut-in"),
        short=_("cut-in on a line"),
    ),
}
"""The connection kinds of a result row ("" or "none": no connection, which has no entry)."""

SEVESO_TIERS = {0: gettext_lazy("no tier"), 1: gettext_lazy("lower tier"), 2: gettext_lazy("upper tier")}

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
    "overseas_km": gettext_lazy("Farthest from a country's mainland still on its grid"),
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

STAGES: dict[str, StrOrPromise] = {
    # Runs, portfolios and PDF comparisons
    "queued": _("queued"),
    "done": _("done"),
    "failed": _("failed"),
    "cancelled": _("cancelled"),
    "retrying after a lost worker": _("retrying after a lost worker"),
    "waiting for the job queue (broker unreachable)": _("waiting for the job queue (broker unreachable)"),
    "waiting for the job queue (broker unreachable); starts when it is back": _(
        "waiting for the job queue (broker unreachable); starts when it is back"
    ),
    "reading the run": _("reading the run"),
    # Runs
    "snapshotting inputs": _("snapshotting inputs"),
    # Portfolios
    "building the candidates": _("building the candidates"),
    "explaining why no portfolio exists": _("explaining why no portfolio exists"),
    "solving the mixed-integer program": _("solving the mixed-integer program"),
    "greedy baseline": _("greedy baseline"),
    "next-best alternatives": _("next-best alternatives"),
    "robustness over the Monte Carlo draws": _("robustness over the Monte Carlo draws"),
    # PDF comparisons
    "laying out the pages": _("laying out the pages"),
    "writing the PDF": _("writing the PDF"),
}
"""What a run, a portfolio or a PDF comparison is doing: its ``stage`` as stored (English, also
in the logs and the API) → as a page shows it. A run's layout stage has numbers in it: see
:func:`stage_label`."""

SCORING_STAGE = re.compile(
    r"scoring: (?P<chunks>\d+) chunks?(?: of ≤ (?P<block>\d+) draws?)?"
    r"(?: (?:\((?P<why>GIGASITE_DRAWS_PER_BLOCK|in this process|no worker answered)\)"
    r"|for (?P<workers>\d+) worker process(?:es)?))?"
)
"""A run's stage while its chunks score, as ``siting.runs.services._layout_stage`` writes it."""


def stage_label(stage: str) -> str:
    """Return a job's stored ``stage`` in the active language (unknown text as it is)."""
    known = STAGES.get(stage)
    if known is not None:
        return str(known)
    m = SCORING_STAGE.fullmatch(stage)
    if m is None:
        return stage
    chunks = int(m["chunks"])
    parts = [ngettext("scoring: %(chunks)s chunk", "scoring: %(chunks)s chunks", chunks) % {"chunks": chunks}]
    if m["block"]:
        block = int(m["block"])
        parts.append(ngettext("of ≤ %(block)s draw", "of ≤ %(block)s draws", block) % {"block": block})
    if m["workers"]:
        workers = int(m["workers"])
        parts.append(
            ngettext("for %(workers)s worker process", "for %(workers)s worker processes", workers)
            % {"workers": workers}
        )
    elif m["why"]:
        parts.append(
            {
                "GIGASITE_DRAWS_PER_BLOCK": gettext("(block set by GIGASITE_DRAWS_PER_BLOCK)"),
                "in this process": gettext("(in this process)"),
                "no worker answered": gettext("(no worker answered)"),
            }[m["why"]]
        )
    return " ".join(parts)
