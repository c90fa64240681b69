"""URLs of the PDF comparisons, included under ``reports/``."""

from __future__ import annotations

from django.urls import path

from siting.reports import views

urlpatterns = [
    path("", views.report_create, name="siting-report-create"),
    path("runs/<uuid:code>/select/", views.report_select, name="siting-report-select"),
    path("<uuid:code>/", views.report_status, name="siting-report-status"),
    path("<uuid:code>/progress.json", views.report_progress, name="siting-report-progress"),
    path("<uuid:code>/download/", views.report_download, name="siting-report-download"),
]
