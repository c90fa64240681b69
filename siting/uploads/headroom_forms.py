"""Form of the known-headroom upload page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_MATCH_DISTANCE_KM = 50.0
"""Largest matching distance the service accepts (``siting.uploads.headroom_imports.headroom_plan``). [km]"""


class HeadroomUploadForm(forms.Form):
    """A file of known headroom at existing grid points, and how to match its rows."""

    file = forms.FileField(label=_("File"), help_text=_("CSV, XLSX or ODS."))
    source_name = forms.CharField(
        label=_("Source"),
        max_length=100,
        help_text=_("Whose figures these are, e.g. “RTE capacity register 2025-Q3”."),
    )
    match_distance_km = forms.FloatField(
        label=_("Matching distance [km]"),
        required=False,
        min_value=0.0,
        max_value=MAX_MATCH_DISTANCE_KM,
        initial=0.0,
        help_text=_(
            "Rows without a point id are matched to the nearest grid point within this distance of their position. "
            "0: every row must give a point id."
        ),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=200,
        help_text=_("For a workbook of several sheets: the one with the headroom."),
    )

    def __init__(self, *args, sheets: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sheets:
            # The workbook's sheets, once it was read: the analyst picks one and sends the file again.
            self.fields["sheet"] = forms.ChoiceField(
                label=_("Sheet"),
                choices=[(s, s) for s in sheets],
                required=True,
                help_text=_("Choose the sheet with the headroom, and choose the file again."),
            )

    def clean_match_distance_km(self) -> float:
        value = self.cleaned_data.get("match_distance_km")
        return 0.0 if value is None else float(value)
