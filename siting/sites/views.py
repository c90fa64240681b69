"""The home and sources pages: what data is loaded, where it comes from."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from siting import accounts
from siting.sites import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show what data is loaded (counts by type and country, vintages and sources) to users with a role.

    Behind the login because the counts include the sites analysts uploaded, by country: what
    a team is surveying is not public. Users without a role yet see how to get one (the login
    sends everyone here). The sources page, with licences and attributions, stays public.
    """
    if not accounts.user_roles(request.user):
        return render(request, "sites/home_no_role.html")
    return render(request, "sites/home.html", {"summary": selectors.data_summary()})


def sources(request: HttpRequest) -> HttpResponse:
    """Show every dataset with its origin, licence and attribution."""
    attribution = settings.BASE_DIR / "fixtures" / "ATTRIBUTION.md"
    text = attribution.read_text(encoding="utf-8") if attribution.exists() else ""
    return render(request, "sites/sources.html", {"summary": selectors.data_summary(), "attribution": text})
