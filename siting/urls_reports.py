"""URLs of the PDF comparisons, included under ``reports/``."""

from __future__ import annotations

from django.urls import path

from . import views_reports

urlpatterns = [
    path("", views_reports.report_create, name="siting-report-create"),
    path("runs/<uuid:code>/select/", views_reports.report_select, name="siting-report-select"),
    path("<uuid:code>/", views_reports.report_status, name="siting-report-status"),
    path("<uuid:code>/progress.json", views_reports.report_progress, name="siting-report-progress"),
    path("<uuid:code>/download/", views_reports.report_download, name="siting-report-download"),
]
