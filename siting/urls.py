from __future__ import annotations

from django.urls import include, path

from . import api, views, views_dashboard, views_runs
from .portfolio import views as portfolio_views

urlpatterns = [
    path("", views.home, name="home"),
    path("sources/", views.sources, name="siting-sources"),
    path("runs/", views_runs.run_list, name="siting-run-list"),
    path("runs/start/", views_runs.run_start, name="siting-run-start"),
    path("runs/<uuid:code>/", views_runs.run_detail, name="siting-run-detail"),
    path("runs/<uuid:code>/progress.json", views_runs.run_progress, name="siting-run-progress"),
    path("runs/<uuid:code>/cancel/", views_runs.run_cancel, name="siting-run-cancel"),
    path("uploads/", include("siting.urls_uploads")),
    path("reports/", include("siting.urls_reports")),
    path("map/", views_dashboard.map_latest, name="siting-map"),
    path("map/open/", views_dashboard.map_open, name="siting-map-open"),
    path("runs/<uuid:code>/map/", views_dashboard.run_map, name="siting-run-map"),
    path("sites/<int:site_id>/", views_dashboard.site_detail, name="siting-site-detail"),
    path("api/openapi.json", views_dashboard.openapi_json, name="siting-api-openapi"),
    path("api/docs/", views_dashboard.api_docs, name="siting-api-docs"),
    path("api/runs/", api.runs_list, name="siting-api-runs"),
    path("api/runs/<uuid:code>/", api.run_detail, name="siting-api-run"),
    path("api/runs/<uuid:code>/sites/", api.run_sites, name="siting-api-run-sites"),
    path("api/runs/<uuid:code>/map-data/", api.run_map_data, name="siting-api-run-map-data"),
    path("api/runs/<uuid:code>/reweight/", api.run_reweight, name="siting-api-run-reweight"),
    path("api/sites/<int:site_id>/", api.site_detail, name="siting-api-site"),
    path("api/grid/points/", api.grid_points, name="siting-api-grid-points"),
    path("api/zones/", api.zones, name="siting-api-zones"),
    path("api/boundaries/<str:kind>/", api.boundaries, name="siting-api-boundaries"),
    path("api/portfolios/", api.portfolios_list, name="siting-api-portfolios"),
    path("api/portfolios/<uuid:code>/", api.portfolio_detail, name="siting-api-portfolio"),
    path("portfolios/", portfolio_views.portfolio_list, name="siting-portfolio-list"),
    path("portfolios/<uuid:code>/", portfolio_views.portfolio_detail, name="siting-portfolio-detail"),
    path("portfolios/<uuid:code>/progress.json", portfolio_views.portfolio_progress, name="siting-portfolio-progress"),
    path("portfolios/<uuid:code>/pdf/", portfolio_views.portfolio_pdf_download, name="siting-portfolio-pdf"),
]
