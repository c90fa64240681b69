from __future__ import annotations

from django.contrib import admin

from .models import (
    Boundary,
    DatasetLoad,
    GridConnectionPoint,
    GridLine,
    HourlyCarbonSeries,
    MonthlyCarbonIntensity,
    Zone,
)


@admin.register(GridConnectionPoint)
class GridConnectionPointAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "name",
        "country",
        "voltage_kv",
        "status",
        "headroom_mw",
        "headroom_estimate_mw",
        "headroom_method",
        "source",
    )
    list_filter = ("source", "status", "voltage_kv", "country")
    search_fields = ("external_id", "name", "operator")


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "carbon_intensity_g_per_kwh",
        "carbon_year",
        "carbon_basis",
        "price_eur_per_mwh",
        "cooling_degree_days",
    )
    list_filter = ("carbon_basis",)
    search_fields = ("code", "name", "iso3")


@admin.register(MonthlyCarbonIntensity)
class MonthlyCarbonIntensityAdmin(admin.ModelAdmin):
    list_display = ("zone", "month", "carbon_intensity_g_per_kwh")
    list_filter = ("zone",)
    date_hierarchy = "month"


@admin.register(HourlyCarbonSeries)
class HourlyCarbonSeriesAdmin(admin.ModelAdmin):
    list_display = ("zone", "year", "basis", "mean_g_per_kwh", "source")
    exclude = ("values_g_per_kwh",)


@admin.register(Boundary)
class BoundaryAdmin(admin.ModelAdmin):
    list_display = ("kind", "code", "name", "parent_code", "source")
    list_filter = ("kind", "source")
    search_fields = ("code", "name")
    exclude = ("geometry_geojson",)


@admin.register(DatasetLoad)
class DatasetLoadAdmin(admin.ModelAdmin):
    list_display = ("dataset", "file_name", "rows", "vintage", "licence", "loaded_at")
    readonly_fields = ("sha256", "loaded_at")


@admin.register(GridLine)
class GridLineAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "country",
        "countries",
        "voltage_kv",
        "circuits",
        "length_km",
        "rating_mva",
        "rating_mw",
        "status",
    )
    list_filter = ("status", "voltage_kv", "country")
    search_fields = ("external_id", "bus0_external_id", "bus1_external_id")
    exclude = ("geometry_geojson",)
