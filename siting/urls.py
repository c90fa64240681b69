from __future__ import annotations

from django.urls import include, path

from . import views, views_runs

urlpatterns = [
    path("", views.home, name="home"),
    path("sources/", views.sources, name="siting-sources"),
    path("runs/", views_runs.run_list, name="siting-run-list"),
    path("runs/start/", views_runs.run_start, name="siting-run-start"),
    path("runs/<uuid:code>/", views_runs.run_detail, name="siting-run-detail"),
    path("runs/<uuid:code>/progress.json", views_runs.run_progress, name="siting-run-progress"),
    path("runs/<uuid:code>/cancel/", views_runs.run_cancel, name="siting-run-cancel"),
    path("uploads/", include("siting.urls_uploads")),
]
