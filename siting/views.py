"""Pages of the siting app. Views parse, call a selector or service, and render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


def home(request: HttpRequest) -> HttpResponse:
    """Show what reference data is loaded: counts by type and country, vintages and sources."""
    return render(request, "siting/home.html", {"summary": selectors.data_summary()})


def sources(request: HttpRequest) -> HttpResponse:
    """Show every dataset with its origin, licence and attribution."""
    attribution = settings.BASE_DIR / "fixtures" / "ATTRIBUTION.md"
    text = attribution.read_text(encoding="utf-8") if attribution.exists() else ""
    return render(request, "siting/sources.html", {"summary": selectors.data_summary(), "attribution": text})
