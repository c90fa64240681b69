"""The planners' pages: ranked map of a run, site page, API documentation."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grid.models import Boundary
from siting import accounts, labels, maps
from siting.dashboard import openapi, selectors
from siting.models import FormerUse, ScoringRun, Site


def _size_from(request: HttpRequest, sizes: list[int]) -> int:
    """Return the page's cluster size [H100e], one of ``sizes`` (the smallest if none is asked)."""
    try:
        return selectors.size_param(request.GET, lambda: sizes, known=True)
    except selectors.DashboardError:
        raise Http404(_("Unknown cluster size.")) from None


@login_required
@require_GET
@accounts.role_required(*accounts.ROLES)
def map_latest(request: HttpRequest) -> HttpResponse:
    """Send planners to the ranked map of the latest succeeded run (or say there is none yet)."""
    run = selectors.latest_run()
    if run is None:
        return render(
            request, "dashboard/ranked_map_empty.html", {"runs": ScoringRun.objects.order_by("-created_at")[:5]}
        )
    query = request.GET.urlencode()
    return redirect(reverse("siting-run-map", args=[run.code]) + (f"?{query}" if query else ""))


@login_required
@require_GET
@accounts.role_required(*accounts.ROLES)
def map_open(request: HttpRequest) -> HttpResponse:
    """Open the ranked map of the run picked in the page's run selector."""
    try:
        code = UUID(request.GET.get("run", ""))
    except ValueError:
        raise Http404(_("Unknown run.")) from None
    return redirect("siting-run-map", code)


# The ranked map draws this many of the best filtered sites one by one, large, above the
# others (which it groups into grid cells at low zoom). A display choice, not a model figure.
MAP_TOP_SITES = 100


@login_required
@require_GET
def run_map(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show a run's ranked map with filters, weight sliders and the ranked table."""

    accounts.require_role(request.user, *accounts.ROLES)
    run = get_object_or_404(ScoringRun, code=code)
    if run.status != ScoringRun.Status.SUCCEEDED:
        return redirect("siting-run-detail", run.code)
    sizes = selectors.run_sizes(run)
    if not sizes:
        raise Http404(_("This run has no results."))
    size = _size_from(request, sizes)
    present = selectors.site_attributes()
    compare_url = None
    if accounts.has_role(request.user, accounts.OFFICIAL):
        try:
            compare_url = reverse("siting-report-create")
        except NoReverseMatch:  # the PDF comparisons are not installed
            compare_url = None
    config = {
        "run": str(run.code),
        "sizes": sizes,
        "size": size,
        "criteria": selectors.criterion_table(run.params),
        "urls": {
            "mapData": reverse("siting-api-run-map-data", args=[run.code]),
            "mapSites": reverse("siting-api-run-map-sites", args=[run.code]),
            "reweight": reverse("siting-api-run-reweight", args=[run.code]),
            "sites": reverse("siting-api-run-sites", args=[run.code]),
            "gridPoints": reverse("siting-api-grid-points"),
            "zones": reverse("siting-api-zones"),
            "countries": reverse("siting-api-boundaries", args=["country"]),
            "departements": reverse("siting-api-boundaries", args=["departement"]),
            "site": reverse("siting-site-detail", args=[0]),
        },
        "compareUrl": compare_url,
        "compareMax": 10,
        "topSites": MAP_TOP_SITES,
        "exclusions": {code: str(entry.label) for code, entry in labels.EXCLUSIONS.items()},
        "formerUses": dict((k, str(v)) for k, v in FormerUse.choices),
        "labels": {
            "sites": _("Ranked sites"),
            "excluded": _("Excluded sites"),
            "substations": _("Substations"),
            "carbon": _("Carbon intensity by country"),
            "departements": _("Départements"),
            "rank": _("Rank"),
            "score": _("Score"),
            "tco": _("Full cost per GPU-hour"),
            "siteCost": _("Site cost per GPU-hour"),
            "mayBeUnavailable": _("may be unavailable"),
            "shared": _("shared rank: another site has the same score"),
            "ttp": _("Time to power"),
            "emissions": _("Emissions"),
            "reasons": _("Excluded because"),
            "months": _("months"),
            "tPerYr": _("t CO₂e/yr"),
            "eurPerGpuh": _("EUR/GPU-h"),
            "largest": _("Largest cluster"),
            "noRows": _("No site matches these filters."),
            "pageOf": _("Page %(page)s of %(pages)s"),
            "shown": _("%(shown)s sites shown of %(total)s"),
            "loading": _("Loading…"),
            "error": _("Could not load data."),
            "reweighted": _("Re-ranked in %(ms)s ms (server)"),
            "open": _("Open"),
            "focus": _("Show on the map"),
            "topSites": _("Best %(n)s sites"),
            "otherSites": _("Other ranked sites"),
            "cells": _("%(n)s other sites in %(cells)s cells (zoom in for each site)"),
            "cellSites": _("sites in this cell"),
            "cellBest": _("best"),
            "zoomIn": _("Click or zoom in to see each site"),
            "headroom": _("Headroom"),
            "known": _("known"),
            "asOf": _("as of %(date)s"),
            "upload": _("upload"),
            "selected": _("%(n)s of 2–10 sites selected"),
            "select": _("Select for the PDF comparison"),
            # The result table's headers (static/js/ranked_map/columns.js).
            "selectColumn": _("Select"),
            "site": _("Site"),
            "country": _("Country"),
            "formerUse": _("Former use"),
            "siteCostColumn": _("Site cost (EUR/GPU-h)"),
            "siteCostHelp": _(
                "Facility, grid, energy and O&M per GPU-hour, without the IT hardware (the same at every site): "
                "the cost criterion."
            ),
            "tcoColumn": _("Full cost (EUR/GPU-h)"),
            "tcoHelp": _("The full cost per GPU-hour, IT hardware included."),
            "ttpColumn": _("Time to power (months)"),
            "emissionsColumn": _("Emissions (t CO₂e/yr)"),
        },
    }
    regions = dict(Boundary.objects.filter(kind=Boundary.Kind.REGION).values_list("code", "name"))
    departements = dict(Boundary.objects.filter(kind=Boundary.Kind.DEPARTEMENT).values_list("code", "name"))
    context = {
        "run": run,
        "config": config,
        "sizes": sizes,
        "size": size,
        "countries": sorted(c for c in present["country"].dropna().unique() if c),
        "regions": sorted((c, regions.get(c, c)) for c in present["region_code"].dropna().unique() if c),
        "departements": sorted((c, departements.get(c, c)) for c in present["departement_code"].dropna().unique() if c),
        "former_uses": FormerUse.choices,
        "criteria": config["criteria"],
        "runs": ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-finished_at")[:20],
        "assumptions": selectors.run_assumptions(run),
        "compare_url": compare_url,
    }
    return render(request, "dashboard/ranked_map.html", context)


@login_required
@require_GET
@accounts.role_required(*accounts.ROLES)
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    """Show one site: facts, connection options on a map, score breakdown, ladder, uncertainty."""
    site = get_object_or_404(Site, id=site_id)
    code = request.GET.get("run")
    run = None
    if code:
        try:
            run = get_object_or_404(ScoringRun, code=UUID(code), status=ScoringRun.Status.SUCCEEDED)
        except ValueError:
            raise Http404(_("Unknown run.")) from None
    else:
        run = selectors.latest_run()
    detail = figures = None
    sizes: list[int] = []
    if run is not None:
        sizes = selectors.run_sizes(run)
    if sizes:
        size = _size_from(request, sizes)
        detail = selectors.site_detail(run, site, size)  # type: ignore[arg-type]
        figures = maps.site_figures(detail, labels=_site_labels())
    return render(
        request,
        "dashboard/site_detail.html",
        {
            "site": site,
            "run": run,
            "sizes": sizes,
            "detail": detail,
            "figures": figures,
            "map_url": reverse("siting-run-map", args=[run.code]) if run else None,
            "boundary_urls": {"countries": reverse("siting-api-boundaries", args=["country"])},
        },
    )


def _site_labels() -> dict[str, str]:
    return {
        "site": _("Site"),
        "chosen": _("Chosen connection"),
        "candidate": _("Candidate point"),
        "inadequate": _("Not enough headroom or too far"),
        "points": _("Points"),
        "criterion": _("Criterion"),
        "tco": _("Full cost per GPU-hour (EUR)"),
        "site_cost": _("Site cost per GPU-hour (EUR, without IT hardware)"),
        "ttp": _("Time to power (months)"),
        "size": _("Cluster size (H100e)"),
        "excluded": _("excluded"),
        "distance": _("Distance"),
        "cost": _("Cost"),
        "time": _("Time"),
        "headroom": _("Headroom"),
        "estimated": _("estimated"),
        "months": _("months"),
        "delay": _("Cost of delay"),
        **{f"kind_{kind}": str(entry.legend) for kind, entry in labels.CONNECTIONS.items()},
    }


def openapi_json(request: HttpRequest) -> JsonResponse:
    """Serve the API's OpenAPI document (public: it holds no data)."""
    return JsonResponse(
        openapi.schema(request.build_absolute_uri("/").rstrip("/") or "/"),
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """Show the API's endpoints and parameters as a page, from the OpenAPI document."""
    doc = openapi.schema("/")
    endpoints = [
        {"path": path, "method": method.upper(), **op}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    return render(request, "dashboard/api_docs.html", {"doc": doc, "endpoints": endpoints})
