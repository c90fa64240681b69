"""URLs of the siting app: each feature package's urls.py, in the order the routes were listed."""

from __future__ import annotations

from django.urls import include, path

from siting.dashboard import urls as dashboard_urls
from siting.portfolio import urls as portfolio_urls
from siting.runs import urls as runs_urls
from siting.sites import urls as sites_urls

urlpatterns = [
    *sites_urls.urlpatterns,
    *runs_urls.urlpatterns,
    path("uploads/", include("siting.uploads.urls")),
    path("reports/", include("siting.reports.urls")),
    *dashboard_urls.urlpatterns,
    *portfolio_urls.urlpatterns,
]
