"""Former industrial sites, and (later) scenarios, runs and scores.

Coordinates are WGS84 longitude/latitude in degrees throughout.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SiteSource(models.TextChoices):
    CARTOFRICHES = "cartofriches", "Cerema – Cartofriches"
    POWERPLANTMATCHING = "powerplantmatching", "powerplantmatching (PyPSA)"
    GEM_COAL = "gem_coal", "GEM Global Coal Plant Tracker"
    GEM_GAS = "gem_gas", "GEM Global Oil and Gas Plant Tracker"
    GEM_STEEL = "gem_steel", "GEM Global Iron and Steel Tracker"
    EBC = "ebc", "Europe Beyond Coal"
    EU_ETS = "eu_ets", "EU ETS (EU Transaction Log)"
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

    external_id = models.CharField(
        max_length=100, unique=True, help_text=_("Stable id from the source, prefixed by it.")
    )
    name = models.CharField(max_length=200, help_text=_("Readable display name."))
    original_name = models.CharField(max_length=300, blank=True, help_text=_("The source's name as given."))
    country = models.CharField(max_length=2, db_index=True, help_text=_("ISO 3166-1 alpha-2."))
    region_code = models.CharField(max_length=8, blank=True, help_text=_("INSEE region code (France)."))
    departement_code = models.CharField(max_length=3, blank=True, db_index=True)
    municipality = models.CharField(max_length=100, blank=True)
    longitude = models.FloatField()
    latitude = models.FloatField()
    geometry_geojson = models.JSONField(
        null=True, blank=True, help_text=_("Outline, if known (WGS84 GeoJSON geometry).")
    )
    area_ha = models.FloatField(null=True, blank=True)
    area_estimated = models.BooleanField(
        default=False,
        help_text=_(
            "The area is not an observation of the site: the land unit of an unverified "
            "candidate (Cartofriches 'MTE non vérifié')."
        ),
    )
    former_use = models.CharField(max_length=16, choices=FormerUse.choices, default=FormerUse.OTHER, db_index=True)
    former_activity = models.CharField(
        max_length=200, blank=True, help_text=_("The source's own words for what was there.")
    )
    closure_year = models.PositiveSmallIntegerField(null=True, blank=True)
    grid_capacity_mw = models.FloatField(null=True, blank=True, help_text=_("Existing connection at the site [MW]."))
    grid_voltage_kv = models.FloatField(null=True, blank=True, help_text=_("Voltage of the existing connection [kV]."))
    pollution_status = models.CharField(max_length=16, choices=PollutionStatus.choices, default=PollutionStatus.UNKNOWN)
    flood_zone = models.BooleanField(null=True, blank=True)
    water_access = models.CharField(max_length=8, choices=WaterAccess.choices, default=WaterAccess.UNKNOWN)
    reconverted = models.BooleanField(default=False, help_text=_("Already reused (Cartofriches 'friche reconvertie')."))
    still_operating = models.BooleanField(default=False, help_text=_("A plant of the site still runs (MODEL.md §5)."))
    operating_evidence = models.CharField(
        max_length=300, blank=True, help_text=_("Why the site counts as still operating.")
    )
    zoning_type = models.CharField(
        max_length=8, blank=True, help_text=_("Cartofriches urba_zone_type as given (U, AU, A, N …; blank = unknown).")
    )
    buildings_state = models.CharField(
        max_length=16, blank=True, help_text=_("'standing', 'none' or blank (unknown), from Cartofriches bati_etat.")
    )
    has_project = models.BooleanField(
        default=False, help_text=_("Cartofriches 'friche avec projet': a project exists, the site may be unavailable.")
    )
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
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180), name="site_longitude_range"
            ),
            models.CheckConstraint(condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="site_latitude_range"),
            models.CheckConstraint(condition=Q(area_ha__isnull=True) | Q(area_ha__gt=0), name="site_area_positive"),
            models.CheckConstraint(
                condition=Q(grid_capacity_mw__isnull=True) | Q(grid_capacity_mw__gt=0),
                name="site_grid_capacity_positive",
            ),
            models.CheckConstraint(
                condition=Q(grid_voltage_kv__isnull=True) | Q(grid_voltage_kv__gt=0), name="site_grid_voltage_positive"
            ),
            models.CheckConstraint(
                condition=Q(closure_year__isnull=True) | (Q(closure_year__gte=1800) & Q(closure_year__lte=2100)),
                name="site_closure_year_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SourceRecord(models.Model):
    """One record of one source that describes a site (MODEL.md §1b: a site is a place).

    Every brownfield row, retired plant and closed installation the reference loader keeps is
    one record, attached to the site of its place; ``raw`` keeps the useful source fields.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="records")
    source = models.CharField(max_length=32, choices=SiteSource.choices)
    record_id = models.CharField(max_length=100, help_text=_("The record's id in its source."))
    name = models.CharField(max_length=300, blank=True, help_text=_("Name as the source gives it."))
    vintage = models.CharField(max_length=64)
    url = models.URLField(max_length=300, blank=True)
    longitude = models.FloatField()
    latitude = models.FloatField()
    status = models.CharField(max_length=64, blank=True, help_text=_("Status as the source gives it."))
    capacity_mw = models.FloatField(null=True, blank=True, help_text=_("Capacity of the closed units [MW]."))
    closure_year = models.PositiveSmallIntegerField(null=True, blank=True)
    former_use = models.CharField(max_length=16, choices=FormerUse.choices, default=FormerUse.OTHER)
    operating_evidence = models.CharField(
        max_length=300, blank=True, help_text=_("Why this plant counts as still running.")
    )
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["site", "source", "record_id"]
        constraints = [models.UniqueConstraint(fields=["source", "record_id"], name="source_record_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.record_id}"


class SiteUpload(models.Model):
    """One file of sites brought in by an analyst (provenance of uploaded sites).

    Lifecycle: staged (parsed, shown as a preview, nothing imported yet) → imported →
    withdrawn (its sites are withdrawn with it). A staged row keeps the parsed sites in
    ``staged_sites`` until it is confirmed; the uploaded file itself is never kept.
    """

    class Status(models.TextChoices):
        STAGED = "staged", _("Awaiting confirmation")
        IMPORTED = "imported", _("Imported")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class OnDuplicate(models.TextChoices):
        ERROR = "error", _("Report them as errors")
        UPDATE = "update", _("Update the existing sites")
        SKIP = "skip", _("Keep the existing sites, skip the rows")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IMPORTED, db_index=True)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=16, blank=True)
    file_size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    crs = models.CharField(
        max_length=100, blank=True, help_text=_("Coordinate reference system of the file, as read or detected.")
    )
    source_name = models.CharField(max_length=100)
    on_duplicate = models.CharField(max_length=8, choices=OnDuplicate.choices, default=OnDuplicate.ERROR)
    only_valid = models.BooleanField(default=False, help_text=_("Import the valid rows even when others are rejected."))
    uploaded_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="site_uploads")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    sites_created = models.PositiveIntegerField(default=0)
    sites_updated = models.PositiveIntegerField(default=0)
    sites_skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("Rejected rows: row, field, value, reason."))
    errors_total = models.PositiveIntegerField(default=0, help_text=_("Errors found (the list keeps the first ones)."))
    notes = models.JSONField(default=list, blank=True, help_text=_("Warnings and conversions applied."))
    staged_sites = models.BinaryField(
        null=True, blank=True, help_text=_("Parsed sites awaiting confirmation (compressed).")
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d})"


class Scenario(models.Model):
    """A named set of scoring parameters (the JSON of ``siting.scoring.params.ScenarioParams``)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    preset = models.CharField(max_length=16, default="default", help_text=_("The preset the parameters started from."))
    params = models.JSONField(help_text=_("Every model parameter; see MODEL.md for sources."))
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="scenarios"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScoringRun(models.Model):
    """One scoring of every site for every size of a scenario's ladder, with its exact inputs.

    Lifecycle: queued → running → succeeded | failed | cancelled. A run keeps a snapshot of
    the scenario's parameters and of the input data (``RunInput``), so it can be shown and
    reproduced after the scenario or the data changed.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scenario = models.ForeignKey(Scenario, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    scenario_name = models.CharField(max_length=100)
    params = models.JSONField(help_text=_("Snapshot of the scenario parameters used."))
    draws = models.PositiveIntegerField(default=0, help_text=_("Monte Carlo draws (0 = none)."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_pct = models.FloatField(default=0.0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    data_vintage = models.JSONField(default=dict, blank=True, help_text=_("Datasets, hashes and counts the run used."))
    n_sites = models.PositiveIntegerField(default=0)
    n_chunks = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the start message reached the broker.")
    )
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="scoring_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_pct__gte=0) & Q(progress_pct__lte=100), name="run_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_name} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RunInput(models.Model):
    """The exact input tables of a run (sites, grid, zones, hourly carbon), compressed."""

    run = models.OneToOneField(ScoringRun, on_delete=models.CASCADE, related_name="input")
    payload = models.BinaryField(help_text=_("Compressed NumPy archive of the input frames."))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"input of run {self.run_id}"


class RunChunk(models.Model):
    """One unit of work of a run: one cluster size and one block of its Monte Carlo draws.

    Sites of one size are ranked together in every draw, but draws are independent (each is
    seeded by its index): a size splits into blocks of draws [draw_start, draw_stop). Each block
    keeps its mergeable rank sketch in ``partial``; the last block of a size to finish scores
    the size deterministically, merges the sketches into its ``RunResult`` in the transaction
    that marks it done, and clears the partials.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveSmallIntegerField()
    size_h100e = models.PositiveIntegerField()
    draw_start = models.PositiveIntegerField(default=0, help_text=_("First Monte Carlo draw of the block."))
    draw_stop = models.PositiveIntegerField(
        default=0, help_text=_("Draw after the last of the block (start = stop: none).")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress_pct = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    partial = models.BinaryField(
        null=True,
        blank=True,
        help_text=_("The block's rank sketch (compressed), until its size is merged."),
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="run_chunk_unique")]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index} ({self.size_h100e} H100e)"


class RunResult(models.Model):
    """The full result table of one run at one cluster size, columnar and compressed.

    One row per (run, size) keeps writes to one INSERT per chunk and reads to one blob; the
    summary columns let lists and cards show a run without opening the blob.
    """

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="results")
    size_h100e = models.PositiveIntegerField()
    n_sites = models.PositiveIntegerField()
    n_feasible = models.PositiveIntegerField()
    best_site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    best_score = models.FloatField(null=True, blank=True)
    table = models.BinaryField(help_text=_("Compressed NumPy archive, one column per computed quantity."))
    options = models.BinaryField(null=True, blank=True, help_text=_("Connection options per site (compressed)."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "size_h100e"]
        constraints = [models.UniqueConstraint(fields=["run", "size_h100e"], name="run_result_unique")]

    def __str__(self) -> str:
        return f"run {self.run_id} at {self.size_h100e} H100e"


class ComparisonReport(models.Model):
    """One PDF comparison of shortlisted sites at one cluster size of a finished run.

    Lifecycle: queued → running → succeeded | failed. ``cache_key`` identifies the document
    (run, size, sorted sites, language, author and the report code version), so an identical
    request is answered with the stored bytes instead of rendering again.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cache_key = models.CharField(max_length=64, unique=True)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="comparison_reports")
    size_h100e = models.PositiveIntegerField()
    site_ids = models.JSONField(help_text=_("Compared site ids, sorted."))
    language = models.CharField(max_length=8)
    author_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_pct = models.FloatField(default=0.0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    n_pages = models.PositiveIntegerField(default=0)
    render_s = models.FloatField(null=True, blank=True, help_text=_("Time taken to render the document [s]."))
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="comparison_reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_pct__gte=0) & Q(progress_pct__lte=100), name="report_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run} · {self.size_h100e:,} H100e · {len(self.site_ids)} sites ({self.language})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Portfolio(models.Model):
    """A set of sites chosen together on a finished run: a target, a deadline and constraints.

    Lifecycle: queued → running → succeeded | failed, each transition a conditional UPDATE as
    for runs and comparisons. ``problem`` is ``siting.portfolio.PortfolioProblem.to_dict()``;
    ``result`` holds the chosen sites, totals, solver status and gap, the greedy baseline, the
    robustness and the next-best alternatives, or the explanation when no portfolio exists
    (an infeasible target is a succeeded job with ``feasible`` false, not a failure).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="portfolios")
    problem = models.JSONField(help_text=_("Target, deadline, constraints and objective."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_pct = models.FloatField(default=0.0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    feasible = models.BooleanField(
        null=True, blank=True, help_text=_("Whether a portfolio meets the target (empty until solved).")
    )
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="portfolios"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_pct__gte=0) & Q(progress_pct__lte=100), name="portfolio_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
