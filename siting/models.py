"""Former industrial sites, and (later) scenarios, runs and scores.

Coordinates are WGS84 longitude/latitude in degrees throughout.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SiteSource(models.TextChoices):
    CARTOFRICHES = "cartofriches", "Cerema – Cartofriches"
    POWERPLANTMATCHING = "powerplantmatching", "powerplantmatching (PyPSA)"
    UPLOAD = "upload", _("Upload")


class FormerUse(models.TextChoices):
    COAL_PLANT = "coal_plant", _("Coal power plant")
    GAS_PLANT = "gas_plant", _("Gas power plant")
    OIL_PLANT = "oil_plant", _("Oil power plant")
    NUCLEAR_PLANT = "nuclear_plant", _("Nuclear power plant")
    OTHER_PLANT = "other_plant", _("Other thermal power plant")
    STEEL = "steel", _("Steelworks")
    CHEMICALS = "chemicals", _("Chemicals")
    REFINERY = "refinery", _("Refinery")
    AUTOMOTIVE = "automotive", _("Automotive")
    PAPER = "paper", _("Paper")
    RAIL = "rail", _("Rail")
    MILITARY = "military", _("Military")
    OTHER = "other", _("Other")


class PollutionStatus(models.TextChoices):
    NONE = "none", _("None")
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    REMEDIATED = "remediated", _("Remediated")
    UNKNOWN = "unknown", _("Unknown")


class WaterAccess(models.TextChoices):
    RIVER = "river", _("River")
    SEA = "sea", _("Sea")
    NONE = "none", _("None")
    UNKNOWN = "unknown", _("Unknown")


class Site(models.Model):
    """A former industrial site that might host a GPU cluster."""

    external_id = models.CharField(max_length=100, unique=True, help_text=_("Stable id from the source, prefixed by it."))
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, db_index=True, help_text=_("ISO 3166-1 alpha-2."))
    region_code = models.CharField(max_length=8, blank=True, help_text=_("INSEE region code (France)."))
    departement_code = models.CharField(max_length=3, blank=True, db_index=True)
    municipality = models.CharField(max_length=100, blank=True)
    longitude = models.FloatField()
    latitude = models.FloatField()
    geometry_geojson = models.JSONField(null=True, blank=True, help_text=_("Outline, if known (WGS84 GeoJSON geometry)."))
    area_ha = models.FloatField(null=True, blank=True)
    former_use = models.CharField(max_length=16, choices=FormerUse.choices, default=FormerUse.OTHER, db_index=True)
    former_activity = models.CharField(max_length=200, blank=True, help_text=_("The source's own words for what was there."))
    closure_year = models.PositiveSmallIntegerField(null=True, blank=True)
    grid_capacity_mw = models.FloatField(null=True, blank=True, help_text=_("Existing connection at the site [MW]."))
    grid_voltage_kv = models.FloatField(null=True, blank=True, help_text=_("Voltage of the existing connection [kV]."))
    pollution_status = models.CharField(max_length=16, choices=PollutionStatus.choices, default=PollutionStatus.UNKNOWN)
    flood_zone = models.BooleanField(null=True, blank=True)
    water_access = models.CharField(max_length=8, choices=WaterAccess.choices, default=WaterAccess.UNKNOWN)
    reconverted = models.BooleanField(default=False, help_text=_("Already reused (Cartofriches 'friche reconvertie')."))
    source_status = models.CharField(max_length=64, blank=True, help_text=_("Status as the source gives it."))
    source = models.CharField(max_length=32, choices=SiteSource.choices)
    source_url = models.URLField(max_length=300, blank=True)
    source_date = models.DateField(null=True, blank=True, help_text=_("When the source last described the site."))
    source_vintage = models.CharField(max_length=64, help_text=_("Release of the dataset the row came from."))
    upload = models.ForeignKey("SiteUpload", null=True, blank=True, on_delete=models.PROTECT, related_name="sites")
    withdrawn = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["country", "name"]
        indexes = [
            models.Index(fields=["source", "country"]),
            models.Index(fields=["country", "departement_code"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(longitude__gte=-180) & Q(longitude__lte=180), name="site_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="site_latitude_range"),
            models.CheckConstraint(condition=Q(area_ha__isnull=True) | Q(area_ha__gt=0), name="site_area_positive"),
            models.CheckConstraint(condition=Q(grid_capacity_mw__isnull=True) | Q(grid_capacity_mw__gt=0), name="site_grid_capacity_positive"),
            models.CheckConstraint(condition=Q(grid_voltage_kv__isnull=True) | Q(grid_voltage_kv__gt=0), name="site_grid_voltage_positive"),
            models.CheckConstraint(condition=Q(closure_year__isnull=True) | (Q(closure_year__gte=1800) & Q(closure_year__lte=2100)), name="site_closure_year_range"),
        ]

    def __str__(self) -> str:
        return self.name


class SiteUpload(models.Model):
    """One file of sites brought in by an analyst (provenance of uploaded sites)."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="site_uploads")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    rows_read = models.PositiveIntegerField(default=0)
    sites_created = models.PositiveIntegerField(default=0)
    sites_updated = models.PositiveIntegerField(default=0)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d})"
