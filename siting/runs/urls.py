"""URLs of runs, listed in ``siting.urls`` (spliced, not included)."""

from __future__ import annotations

from django.urls import path

from siting.runs import views

urlpatterns = [
    path("runs/", views.run_list, name="siting-run-list"),
    path("runs/start/", views.run_start, name="siting-run-start"),
    path("runs/<uuid:code>/", views.run_detail, name="siting-run-detail"),
    path("runs/<uuid:code>/progress.json", views.run_progress, name="siting-run-progress"),
    path("runs/<uuid:code>/cancel/", views.run_cancel, name="siting-run-cancel"),
]
