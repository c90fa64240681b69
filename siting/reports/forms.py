"""Forms of the PDF comparisons: the run, the cluster size and 2 to 10 sites."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from siting.reports.document import MAX_SITES, MIN_SITES

MAX_DB_ID = 2**63 - 1
"""Largest id a BigAutoField can hold (signed 64-bit in SQLite and PostgreSQL): larger ids are
refused as input errors instead of overflowing the database driver."""

MAX_DB_POSITIVE_INT = 2**31 - 1
"""Largest value of a PositiveIntegerField (cluster sizes) on every supported database."""


class SiteIdsField(forms.Field):
    """Repeated ``site`` values (or one comma-separated value): whole site ids, 2 to 10 distinct."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, min_count: int, max_count: int, **kwargs) -> None:
        self.min_count, self.max_count = min_count, max_count
        super().__init__(**kwargs)

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        raw = [part.strip() for v in values for part in str(v).split(",") if part.strip()]
        try:
            ids = sorted({int(v) for v in raw})
        except ValueError:
            raise forms.ValidationError(_("Site ids are whole numbers."), code="invalid") from None
        if any(not 1 <= i <= MAX_DB_ID for i in ids):
            raise forms.ValidationError(_("Unknown site id."), code="invalid")
        return ids

    def validate(self, value: list[int]) -> None:
        super().validate(value)
        if not self.min_count <= len(value) <= self.max_count:
            raise forms.ValidationError(
                _("Choose between %(min)s and %(max)s different sites."),
                code="count",
                params={"min": self.min_count, "max": self.max_count},
            )


class ComparisonForm(forms.Form):
    """What a PDF comparison needs: the run (its code), the cluster size and the sites."""

    run = forms.UUIDField()
    size = forms.IntegerField(min_value=1, max_value=MAX_DB_POSITIVE_INT)
    site = SiteIdsField(min_count=MIN_SITES, max_count=MAX_SITES)
    language = forms.ChoiceField(choices=[("", ""), ("en", "English"), ("fr", "Français")], required=False)
