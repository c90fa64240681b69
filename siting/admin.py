from __future__ import annotations

from django.contrib import admin

from .models import ComparisonReport, RunChunk, RunResult, Scenario, ScoringRun, Site, SiteUpload


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "name",
        "country",
        "departement_code",
        "former_use",
        "area_ha",
        "grid_capacity_mw",
        "pollution_status",
        "source",
    )
    list_filter = ("source", "former_use", "pollution_status", "reconverted", "withdrawn", "country")
    search_fields = ("external_id", "name", "municipality", "former_activity")
    exclude = ("geometry_geojson",)


@admin.register(SiteUpload)
class SiteUploadAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "source_name",
        "uploaded_by",
        "uploaded_at",
        "rows_read",
        "sites_created",
        "withdrawn_at",
    )
    readonly_fields = ("sha256",)


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("name", "preset", "created_by", "updated_at")
    search_fields = ("name",)


class RunChunkInline(admin.TabularInline):
    model = RunChunk
    extra = 0
    readonly_fields = (
        "index",
        "size_h100e",
        "status",
        "attempts",
        "worker",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "error",
    )


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ("scenario_name", "status", "progress_pct", "created_by", "created_at", "n_sites", "draws")
    list_filter = ("status",)
    inlines = [RunChunkInline]
    readonly_fields = ("code", "params", "data_vintage")


@admin.register(RunResult)
class RunResultAdmin(admin.ModelAdmin):
    list_display = ("run", "size_h100e", "n_sites", "n_feasible", "best_site", "best_score")
    exclude = ("table", "options")


@admin.register(ComparisonReport)
class ComparisonReportAdmin(admin.ModelAdmin):
    list_display = ("code", "run", "size_h100e", "language", "status", "n_pages", "author_name", "created_at")
    list_filter = ("status", "language")
    search_fields = ("code", "author_name", "run__scenario_name")
    exclude = ("pdf",)
