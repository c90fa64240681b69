"""URLs of dashboard, listed in ``siting.urls`` (spliced, not included)."""

from __future__ import annotations

from django.urls import path

from siting.dashboard import api, views

urlpatterns = [
    path("map/", views.map_latest, name="siting-map"),
    path("map/open/", views.map_open, name="siting-map-open"),
    path("runs/<uuid:code>/map/", views.run_map, name="siting-run-map"),
    path("sites/<int:site_id>/", views.site_detail, name="siting-site-detail"),
    path("api/openapi.json", views.openapi_json, name="siting-api-openapi"),
    path("api/docs/", views.api_docs, name="siting-api-docs"),
    path("api/runs/", api.runs_list, name="siting-api-runs"),
    path("api/runs/<uuid:code>/", api.run_detail, name="siting-api-run"),
    path("api/runs/<uuid:code>/sites/", api.run_sites, name="siting-api-run-sites"),
    path("api/runs/<uuid:code>/map-data/", api.run_map_data, name="siting-api-run-map-data"),
    path("api/runs/<uuid:code>/map-sites/", api.run_map_sites, name="siting-api-run-map-sites"),
    path("api/runs/<uuid:code>/reweight/", api.run_reweight, name="siting-api-run-reweight"),
    path("api/sites/<int:site_id>/", api.site_detail, name="siting-api-site"),
    path("api/grid/points/", api.grid_points, name="siting-api-grid-points"),
    path("api/zones/", api.zones, name="siting-api-zones"),
    path("api/boundaries/<str:kind>/", api.boundaries, name="siting-api-boundaries"),
]
