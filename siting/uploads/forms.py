"""Forms of the upload pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from siting.models import SiteUpload


class SiteUploadForm(forms.Form):
    """A file of sites and how to read it."""

    file = forms.FileField(label=_("File"), help_text=_("GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX or ODS."))
    source_name = forms.CharField(
        label=_("Source"),
        max_length=100,
        help_text=_(
            "Where the sites come from, e.g. “Grand Est brownfield survey 2024”. Upload again under the same source to update."
        ),
    )
    on_duplicate = forms.ChoiceField(
        label=_("Sites this source already imported"),
        choices=SiteUpload.OnDuplicate.choices,
        initial=SiteUpload.OnDuplicate.ERROR,
    )
    crs = forms.CharField(
        label=_("Coordinate system, if the file states none"),
        required=False,
        max_length=20,
        help_text=_("EPSG code, e.g. EPSG:2154 for Lambert-93. Left empty, it is guessed from the coordinates."),
    )
    area_unit = forms.ChoiceField(
        label=_("Unit of an area column without one"),
        required=False,
        choices=[("", _("stated in the column name")), ("ha", "ha"), ("m2", "m²")],
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=200,
        help_text=_("For a workbook of several sheets: the one with the sites."),
    )

    def __init__(self, *args, sheets: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sheets:
            # The workbook's sheets, once it was read: the analyst picks one and sends the file again.
            self.fields["sheet"] = forms.ChoiceField(
                label=_("Sheet"),
                choices=[(s, s) for s in sheets],
                required=True,
                help_text=_("Choose the sheet with the sites, and choose the file again."),
            )


class ReferenceMatchForm(forms.Form):
    """What to do with staged rows that lie near a reference site."""

    on_reference_match = forms.ChoiceField(
        label=_("Rows near a reference site"),
        choices=[
            ("update", _("Update the reference site with the uploaded values")),
            ("separate", _("Keep them as separate sites")),
        ],
        widget=forms.RadioSelect,
    )
