"""Grid connection points, zones (carbon, price, climate) and boundaries.

Coordinates are WGS84 longitude/latitude in degrees throughout.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DataSource(models.TextChoices):
    RTE = "rte", "RTE – ODRÉ postes électriques"
    GRIDKIT = "gridkit", "ENTSO-E grid map via GridKit / PyPSA-Eur"
    EMBER = "ember", "Ember"
    ENTSOE_TP = "entsoe_tp", "ENTSO-E Transparency Platform"
    EUROSTAT = "eurostat", "Eurostat"
    NATURAL_EARTH = "natural_earth", "Natural Earth"
    IGN = "ign", "IGN Admin Express"
    UPLOAD = "upload", "Upload"


class GridConnectionPoint(models.Model):
    """A high-voltage substation or bus where a new load can be connected."""

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("In service")
        PLANNED = "planned", _("Planned")
        DE_ENERGISED = "de_energised", _("De-energised")

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    operator = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, db_index=True)
    longitude = models.FloatField()
    latitude = models.FloatField()
    voltage_kv = models.FloatField(null=True, blank=True, help_text=_("Highest AC voltage at the point [kV]; empty when the source gives none."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_SERVICE)
    function = models.CharField(max_length=64, blank=True, help_text=_("Substation, tapping point, bus …"))
    headroom_mw = models.FloatField(null=True, blank=True, help_text=_("Known withdrawal headroom [MW]; empty = unknown."))
    source = models.CharField(max_length=32, choices=DataSource.choices)
    source_vintage = models.CharField(max_length=64, help_text=_("Release or extraction date of the source."))

    class Meta:
        ordering = ["country", "-voltage_kv", "name"]
        indexes = [
            models.Index(fields=["status", "voltage_kv"]),
            models.Index(fields=["country", "voltage_kv"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(longitude__gte=-180) & Q(longitude__lte=180), name="gcp_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="gcp_latitude_range"),
            models.CheckConstraint(condition=Q(voltage_kv__isnull=True) | (Q(voltage_kv__gt=0) & Q(voltage_kv__lte=1200)), name="gcp_voltage_range"),
            models.CheckConstraint(condition=Q(headroom_mw__isnull=True) | Q(headroom_mw__gte=0), name="gcp_headroom_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} ({self.voltage_kv:g} kV)"


class Zone(models.Model):
    """A country (or bidding zone) with its carbon intensity, power price and climate."""

    class CarbonBasis(models.TextChoices):
        LIFECYCLE = "lifecycle", _("Life-cycle")
        DIRECT = "direct", _("Direct (combustion)")

    code = models.CharField(max_length=8, unique=True, help_text=_("ISO 3166-1 alpha-2, or a bidding-zone code."))
    iso3 = models.CharField(max_length=3, blank=True)
    name = models.CharField(max_length=100)
    carbon_intensity_g_per_kwh = models.FloatField(null=True, blank=True)
    carbon_year = models.PositiveSmallIntegerField(null=True, blank=True)
    carbon_basis = models.CharField(max_length=16, choices=CarbonBasis.choices, default=CarbonBasis.LIFECYCLE)
    carbon_source = models.CharField(max_length=100, blank=True)
    price_eur_per_mwh = models.FloatField(null=True, blank=True, help_text=_("12-month mean day-ahead price [EUR/MWh]."))
    price_period_start = models.DateField(null=True, blank=True)
    price_period_end = models.DateField(null=True, blank=True)
    price_source = models.CharField(max_length=100, blank=True)
    cooling_degree_days = models.FloatField(null=True, blank=True, help_text=_("Mean yearly cooling degree days [°C·day/yr]."))
    cdd_period = models.CharField(max_length=16, blank=True, help_text=_("Years averaged, e.g. 2015–2024."))
    cdd_source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(carbon_intensity_g_per_kwh__isnull=True) | (Q(carbon_intensity_g_per_kwh__gte=0) & Q(carbon_intensity_g_per_kwh__lte=2000)),
                name="zone_carbon_range",
            ),
            models.CheckConstraint(condition=Q(cooling_degree_days__isnull=True) | Q(cooling_degree_days__gte=0), name="zone_cdd_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MonthlyCarbonIntensity(models.Model):
    """Ember monthly carbon intensity of a zone's electricity."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="monthly_carbon")
    month = models.DateField(help_text=_("First day of the month."))
    carbon_intensity_g_per_kwh = models.FloatField()
    source = models.CharField(max_length=100)

    class Meta:
        ordering = ["zone", "month"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "month"], name="monthly_carbon_unique"),
            models.CheckConstraint(condition=Q(carbon_intensity_g_per_kwh__gte=0), name="monthly_carbon_nonneg"),
        ]


class HourlyCarbonSeries(models.Model):
    """One year of hourly carbon intensity for a zone, stored as a list of 8,760 values [g/kWh]."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="hourly_carbon")
    year = models.PositiveSmallIntegerField()
    basis = models.CharField(max_length=16, choices=Zone.CarbonBasis.choices)
    values_g_per_kwh = models.JSONField(help_text=_("8,760 hourly values, local standard time order [g/kWh]."))
    mean_g_per_kwh = models.FloatField()
    source = models.CharField(max_length=200)

    class Meta:
        ordering = ["zone", "year"]
        constraints = [models.UniqueConstraint(fields=["zone", "year", "basis"], name="hourly_carbon_unique")]


class Boundary(models.Model):
    """A country, region or département outline for the maps (GeoJSON geometry, WGS84)."""

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        REGION = "region", _("Region")
        DEPARTEMENT = "departement", _("Département")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=8)
    name = models.CharField(max_length=100)
    parent_code = models.CharField(max_length=8, blank=True)
    geometry_geojson = models.JSONField()
    source = models.CharField(max_length=32, choices=DataSource.choices)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="boundary_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


class DatasetLoad(models.Model):
    """What one load of a reference dataset brought in: file, hash, rows, vintage."""

    dataset = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    vintage = models.CharField(max_length=64)
    source = models.CharField(max_length=200)
    licence = models.CharField(max_length=100)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset"]

    def __str__(self) -> str:
        return self.dataset
