"""Grid connection points, zones (carbon, price, climate) and boundaries.

Coordinates are WGS84 longitude/latitude in degrees throughout.
"""

from __future__ import annotations

import uuid

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


class HeadroomMethod(models.TextChoices):
    """How a grid point's headroom was estimated from the network (MODEL.md §2, Headroom row)."""

    LINES_N1 = "lines_n1", _("Lines N-1: α × (Σ line ratings − the largest)")
    TRANSFORMERS_N1 = "transformers_n1", _("Transformers N-1: transformer power × (n−1)/n (Caparéseau)")
    NONE = "", _("No estimate")


class GridConnectionPoint(models.Model):
    """A high-voltage substation or bus where a new load can be connected.

    Headroom, by precedence (the scoring engine applies it): ``headroom_mw``, a known value
    (analyst upload or TSO data) > ``headroom_estimate_mw``, a network estimate flagged
    estimated, with its ``headroom_method`` > the class default of the scenario.
    """

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
    voltage_kv = models.FloatField(
        null=True, blank=True, help_text=_("Highest AC voltage at the point [kV]; empty when the source gives none.")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_SERVICE)
    function = models.CharField(max_length=64, blank=True, help_text=_("Substation, tapping point, bus …"))
    headroom_mw = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Known withdrawal headroom [MW] (analyst upload or TSO data); empty = unknown."),
    )
    headroom_estimate_mw = models.FloatField(
        null=True,
        blank=True,
        help_text=_(
            "Network estimate of the withdrawal headroom [MW], flagged estimated; empty = no estimate (MODEL.md §2)."
        ),
    )
    headroom_method = models.CharField(
        max_length=16,
        choices=HeadroomMethod.choices,
        blank=True,
        default=HeadroomMethod.NONE,
        help_text=_("How headroom_estimate_mw was estimated."),
    )
    source = models.CharField(max_length=32, choices=DataSource.choices)
    source_vintage = models.CharField(max_length=64, help_text=_("Release or extraction date of the source."))

    class Meta:
        ordering = ["country", "-voltage_kv", "name"]
        indexes = [
            models.Index(fields=["status", "voltage_kv"]),
            models.Index(fields=["country", "voltage_kv"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180), name="gcp_longitude_range"
            ),
            models.CheckConstraint(condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="gcp_latitude_range"),
            models.CheckConstraint(
                condition=Q(voltage_kv__isnull=True) | (Q(voltage_kv__gt=0) & Q(voltage_kv__lte=1200)),
                name="gcp_voltage_range",
            ),
            models.CheckConstraint(
                condition=Q(headroom_mw__isnull=True) | Q(headroom_mw__gte=0), name="gcp_headroom_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(headroom_estimate_mw__isnull=True) | Q(headroom_estimate_mw__gte=0),
                name="gcp_headroom_estimate_nonneg",
            ),
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
    price_eur_per_mwh = models.FloatField(
        null=True, blank=True, help_text=_("12-month mean day-ahead price [EUR/MWh].")
    )
    price_period_start = models.DateField(null=True, blank=True)
    price_period_end = models.DateField(null=True, blank=True)
    price_source = models.CharField(max_length=100, blank=True)
    cooling_degree_days = models.FloatField(
        null=True, blank=True, help_text=_("Mean yearly cooling degree days [°C·day/yr].")
    )
    cdd_period = models.CharField(max_length=16, blank=True, help_text=_("Years averaged, e.g. 2015–2024."))
    cdd_source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(carbon_intensity_g_per_kwh__isnull=True)
                | (Q(carbon_intensity_g_per_kwh__gte=0) & Q(carbon_intensity_g_per_kwh__lte=2000)),
                name="zone_carbon_range",
            ),
            models.CheckConstraint(
                condition=Q(cooling_degree_days__isnull=True) | Q(cooling_degree_days__gte=0), name="zone_cdd_nonneg"
            ),
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

    def __str__(self) -> str:
        return f"{self.zone_id} {self.month:%Y-%m}"


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

    def __str__(self) -> str:
        return f"{self.zone_id} {self.year} {self.basis}"


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


class GridLine(models.Model):
    """An AC transmission line of 220 kV and above (ENTSO-E GridKit), for cut-in connections
    and the network estimate of headroom (MODEL.md §2).

    ``rating_mva`` is the raw thermal rating of all circuits: circuits × √3 × V × I_nom of the
    PyPSA standard line type at the line's GridKit voltage. ``rating_mw`` is what the model
    uses: ``rating_mva`` × s_max_pu 0.7 (PyPSA-Eur), at unity power factor.
    """

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("In service")
        UNDER_CONSTRUCTION = "under_construction", _("Under construction")

    external_id = models.CharField(max_length=64, unique=True)
    bus0_external_id = models.CharField(max_length=64, help_text=_("GridKit bus at one end, e.g. gridkit:1234."))
    bus1_external_id = models.CharField(max_length=64, help_text=_("GridKit bus at the other end."))
    voltage_kv = models.FloatField(help_text=_("Voltage class [kV], as for grid points: GridKit 220 → 225, 380 → 400."))
    source_voltage_kv = models.FloatField(
        help_text=_("Voltage as GridKit gives it (lower bound of the ENTSO-E range) [kV].")
    )
    circuits = models.PositiveSmallIntegerField()
    underground = models.BooleanField(default=False)
    length_km = models.FloatField(help_text=_("GridKit length (given in metres in the file) [km]."))
    line_type = models.CharField(max_length=64, help_text=_("PyPSA standard line type used for the rating."))
    rating_mva = models.FloatField(help_text=_("Thermal rating of all circuits, raw [MVA]."))
    rating_mw = models.FloatField(help_text=_("Usable rating: rating_mva × s_max_pu 0.7 [MW]."))
    country = models.CharField(
        max_length=2, db_index=True, help_text=_("Country where most of the line's length lies (ISO2).")
    )
    countries = models.CharField(
        max_length=64, help_text=_("Every country the line crosses, most length first, comma-separated (ISO2).")
    )
    geometry_geojson = models.JSONField(help_text=_("GeoJSON LineString, WGS84."))
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.IN_SERVICE)
    source = models.CharField(max_length=32, choices=DataSource.choices, default=DataSource.GRIDKIT)
    source_vintage = models.CharField(max_length=64)

    class Meta:
        ordering = ["country", "-voltage_kv", "external_id"]
        indexes = [models.Index(fields=["status", "voltage_kv"])]
        constraints = [
            models.CheckConstraint(condition=Q(circuits__gte=1), name="gridline_circuits_positive"),
            models.CheckConstraint(condition=Q(rating_mw__gte=0) & Q(rating_mva__gte=0), name="gridline_rating_nonneg"),
            models.CheckConstraint(
                condition=Q(voltage_kv__gt=0) & Q(voltage_kv__lte=1200), name="gridline_voltage_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.voltage_kv:g} kV, {self.circuits} circuit(s))"


class DatasetLoad(models.Model):
    """What one load of a reference dataset brought in: file, hash, rows, vintage, and the
    rows left out by reason."""

    dataset = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    notes = models.JSONField(
        default=dict, blank=True, help_text=_("Rows left out or not joined, by reason: {reason: count}.")
    )
    vintage = models.CharField(max_length=64)
    source = models.CharField(max_length=200)
    licence = models.CharField(max_length=100)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset"]

    def __str__(self) -> str:
        return self.dataset


class HeadroomUpload(models.Model):
    """One file of known headroom at grid connection points, brought in by an analyst (a TSO's,
    a DSO's or a region's figures). All or nothing: every row names one point and its value.

    While imported, each value is the point's ``headroom_mw`` (a known value, which the scoring
    engine puts before any estimate: MODEL.md §2 precedence); withdrawing the upload gives the
    points back the values they had before.
    """

    class Status(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IMPORTED, db_index=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=100, help_text=_("Whose figures, e.g. “RTE capacity register 2025-Q3”."))
    match_distance_km = models.FloatField(
        default=0.0, help_text=_("Rows without a point id matched the nearest point within this distance [km].")
    )
    rows_read = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="headroom_uploads")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source_name})"


class KnownHeadroom(models.Model):
    """A known headroom value of one grid point from one upload, with its provenance."""

    upload = models.ForeignKey(HeadroomUpload, on_delete=models.PROTECT, related_name="values")
    point = models.ForeignKey(GridConnectionPoint, on_delete=models.CASCADE, related_name="known_headroom")
    row = models.PositiveIntegerField(help_text=_("Row of the file it came from."))
    headroom_mw = models.FloatField(help_text=_("Known withdrawal headroom [MW]."))
    as_of = models.DateField(null=True, blank=True, help_text=_("Date the figure holds for."))
    source = models.CharField(max_length=200, blank=True, help_text=_("The row's own source, if it gives one."))
    matched_by = models.CharField(max_length=8, help_text=_("'id' or 'position'."))
    distance_km = models.FloatField(
        null=True, blank=True, help_text=_("From the row's position to the point, when matched by position [km].")
    )
    previous_headroom_mw = models.FloatField(
        null=True, blank=True, help_text=_("The point's known value before this upload [MW].")
    )

    class Meta:
        ordering = ["upload", "row"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "point"], name="known_headroom_one_per_point_and_upload"),
            models.CheckConstraint(condition=Q(headroom_mw__gte=0), name="known_headroom_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.point_id}: {self.headroom_mw:g} MW"
