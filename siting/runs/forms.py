"""Forms of the run pages: start a scoring run."""

from __future__ import annotations

import dataclasses

from django import forms
from django.utils.translation import gettext_lazy as _

from siting.scoring.params import DEFAULT_MC_DRAWS, presets

MAX_DRAWS = 5000
LADDER_CHOICES = [(n, f"{n:,}") for n in (1000, 2000, 5000, 10000, 20000, 50000, 100000)]


class RunStartForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, initial="Default scenario")
    preset = forms.ChoiceField(
        label=_("Preset"), choices=[("default", _("Default (MODEL.md)")), ("seed", _("Seed figures"))]
    )
    sizes = forms.TypedMultipleChoiceField(
        label=_("Cluster sizes [H100e]"),
        choices=LADDER_CHOICES,
        coerce=int,
        initial=[n for n, _label in LADDER_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )
    draws = forms.IntegerField(label=_("Monte Carlo draws"), min_value=0, max_value=MAX_DRAWS, initial=DEFAULT_MC_DRAWS)

    def params(self):

        base = presets()[self.cleaned_data["preset"]]
        return dataclasses.replace(base, sizes=tuple(sorted(self.cleaned_data["sizes"])))
