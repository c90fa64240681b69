"""URLs of sites, listed in ``siting.urls`` (spliced, not included)."""

from __future__ import annotations

from django.urls import path

from siting.sites import views

urlpatterns = [
    path("", views.home, name="home"),
    path("sources/", views.sources, name="siting-sources"),
]
