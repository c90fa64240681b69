"""The form that states a portfolio question."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from siting.models import ScoringRun

from .problem import PortfolioProblem, ProblemError, parse_clusters, parse_sizes

MAX_SITE_IDS = 200
"""Most sites one form may force in or out."""


def _ids(text: str, field: str) -> tuple[int, ...]:
    out = []
    for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
        if not part.strip():
            continue
        try:
            value = int(part)
        except ValueError:
            raise forms.ValidationError({field: _("%(value)s is not a site id.") % {"value": part[:20]}}) from None
        if not 1 <= value <= 2**63 - 1:
            raise forms.ValidationError({field: _("%(value)s is not a site id.") % {"value": part[:20]}})
        out.append(value)
    if len(out) > MAX_SITE_IDS:
        raise forms.ValidationError({field: _("At most %(n)s sites.") % {"n": MAX_SITE_IDS}})
    return tuple(out)


class PortfolioForm(forms.Form):
    run = forms.ModelChoiceField(
        label=_("Run"), queryset=ScoringRun.objects.none(), to_field_name="code", empty_label=None
    )
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    target_kind = forms.ChoiceField(
        label=_("Target"),
        choices=[("clusters", _("Clusters of given sizes")), ("mw", _("Total IT load"))],
        initial="clusters",
    )
    clusters = forms.CharField(
        label=_("Clusters (count × size)"),
        required=False,
        initial="5x100000",
        help_text=_("e.g. 5x100000, or 2x50000, 1x100000"),
    )
    target_mw_it = forms.FloatField(label=_("Total IT load [MW]"), required=False, min_value=0.001, max_value=1e6)
    sizes = forms.CharField(
        label=_("Sizes allowed [H100e]"),
        required=False,
        help_text=_("For an IT-load target; empty: every size of the run."),
    )
    max_sites = forms.IntegerField(label=_("At most this many sites"), required=False, min_value=1, max_value=1000)
    deadline_months = forms.FloatField(
        label=_("All powered within [months]"), required=False, min_value=1, max_value=600
    )
    countries = forms.CharField(label=_("Countries (ISO codes)"), required=False, help_text=_("e.g. FR; empty: all"))
    max_per_country = forms.IntegerField(label=_("At most per country"), required=False, min_value=1, max_value=1000)
    max_per_region = forms.IntegerField(label=_("At most per region"), required=False, min_value=1, max_value=1000)
    min_distance_km = forms.FloatField(
        label=_("Minimum distance between sites [km]"), required=False, min_value=0, max_value=5000
    )
    share_headroom = forms.BooleanField(
        label=_("Sites on one grid point share its headroom"), required=False, initial=True
    )
    include = forms.CharField(label=_("Sites forced in (ids)"), required=False)
    exclude = forms.CharField(label=_("Sites forced out (ids)"), required=False)
    objective = forms.ChoiceField(
        label=_("Objective"),
        choices=[
            ("score", _("Best total score")),
            ("cost", _("Least total capital cost")),
            ("emissions", _("Least emissions")),
        ],
    )
    robustness_draws = forms.IntegerField(
        label=_("Monte Carlo draws for robustness"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_("Empty: the run's draws."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["run"].queryset = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by(
            "-finished_at"
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            clusters = parse_clusters(data.get("clusters") or "") if data.get("target_kind") == "clusters" else ()
            sizes = parse_sizes(data.get("sizes") or "")
        except ProblemError as exc:
            raise forms.ValidationError(str(exc)) from None
        problem = {
            "target_mw_it": data.get("target_mw_it") if data.get("target_kind") == "mw" else None,
            "clusters": clusters,
            "sizes_h100e": sizes,
            "max_sites": data.get("max_sites"),
            "deadline_months": data.get("deadline_months"),
            "countries": tuple(
                c.strip().upper() for c in (data.get("countries") or "").replace(";", ",").split(",") if c.strip()
            ),
            "max_per_country": data.get("max_per_country"),
            "max_per_region": data.get("max_per_region"),
            "min_distance_km": data.get("min_distance_km") or 0.0,
            "share_headroom": bool(data.get("share_headroom")),
            "include": _ids(data.get("include"), "include"),
            "exclude": _ids(data.get("exclude"), "exclude"),
            "objective": data.get("objective") or "score",
            "robustness_draws": data.get("robustness_draws"),
        }
        if any(len(c) != 2 or not c.isalpha() for c in problem["countries"]):
            raise forms.ValidationError({"countries": _("Two-letter ISO codes, separated by commas.")})
        try:
            self.problem = PortfolioProblem.from_dict(problem)
        except ProblemError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data
