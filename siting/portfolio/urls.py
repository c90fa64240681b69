"""URLs of portfolio, listed in ``siting.urls`` (spliced, not included)."""

from __future__ import annotations

from django.urls import path

from siting.portfolio import api, views

urlpatterns = [
    path("api/portfolios/", api.portfolios_list, name="siting-api-portfolios"),
    path("api/portfolios/<uuid:code>/", api.portfolio_detail, name="siting-api-portfolio"),
    path("portfolios/", views.portfolio_list, name="siting-portfolio-list"),
    path("portfolios/<uuid:code>/", views.portfolio_detail, name="siting-portfolio-detail"),
    path("portfolios/<uuid:code>/progress.json", views.portfolio_progress, name="siting-portfolio-progress"),
    path("portfolios/<uuid:code>/pdf/", views.portfolio_pdf_download, name="siting-portfolio-pdf"),
]
