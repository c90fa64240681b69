"""JSON, GeoJSON and CSV endpoints behind the dashboard, documented by ``openapi.json``.

Same permissions as the pages: a logged-in user with a role. Anonymous callers get 401 and
users without a role 403, as JSON (an API client cannot follow a login redirect). Errors in
parameters give 400 with ``{"error": "<parameter>: <reason>"}``.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
import time
from collections.abc import Callable
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, set_response_etag
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET

from grid import selectors as grid_selectors
from grid.models import Boundary, GridConnectionPoint, Zone
from siting import accounts
from siting.dashboard import api_selectors as selectors
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun, Site

MAX_PAGE_SIZE = 1000
"""Largest page of the ranked-sites JSON (exports take every row)."""
GZIP_LEVEL = 1
"""zlib level of compressed answers. Level 1 compresses the 360 kB re-weighting in a fifth of the
time of Django's level 6, 4 % larger (measured here: 5 ms against 24 ms), and the 4.8 MB map data
in 66 ms against 440 ms: the CPU, not the wire, limits the API under load."""
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def json_finite(value: object) -> object:
    """Return ``value`` with every NaN or infinite float as None: JSON has no NaN, and a
    browser's ``JSON.parse`` rejects the bare ``NaN`` that Python would write."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        return json_finite(value.item())  # numpy scalars
    return value


def _json(data: dict) -> JsonResponse:
    """Return ``data`` as strict JSON (NaN and infinities as null)."""
    return JsonResponse(json_finite(data), json_dumps_params={"allow_nan": False})


def api_view(view):
    """Require a role (401/403 as JSON), GET only, gzip, and turn DashboardError into 400.

    Answers carry an ETag (a hash of the body unless the view set one) and must be
    revalidated: a client that sends it back in ``If-None-Match`` gets 304 without the body.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return _gzip(request, _answer(request, *args, **kwargs))

    def _answer(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "authentication required"}, status=401)
        if not accounts.has_role(request.user, *accounts.ROLES):
            return JsonResponse({"error": "a planner, analyst, official or admin role is required"}, status=403)
        try:
            resp = view(request, *args, **kwargs)
        except dashboard.DashboardError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except Http404:
            return JsonResponse({"error": "not found"}, status=404)
        if resp.status_code != 200 or resp.streaming:
            return resp
        if not resp.has_header("ETag"):
            set_response_etag(resp)
        if not resp.has_header("Cache-Control"):
            patch_cache_control(resp, private=True, no_cache=True)
        conditional = get_conditional_response(request, etag=resp["ETag"], response=resp)
        assert conditional is not None  # given a response, it returns that response or a 304/412
        return conditional

    return require_GET(wrapped)


def _gzip(request: HttpRequest, resp: HttpResponse) -> HttpResponse:
    """Compress ``resp`` for a client that accepts gzip, as Django's GZipMiddleware does but at
    ``GZIP_LEVEL``. Its random padding against BREACH is left out: API answers hold no secret."""
    patch_vary_headers(resp, ("Accept-Encoding",))
    if (
        resp.streaming
        or len(resp.content) < 200
        or resp.has_header("Content-Encoding")
        or not _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    ):
        return resp
    compressed = gzip.compress(resp.content, compresslevel=GZIP_LEVEL, mtime=0)
    if len(compressed) >= len(resp.content):
        return resp
    resp.content = compressed
    resp["Content-Length"] = str(len(compressed))
    resp["Content-Encoding"] = "gzip"
    if resp.has_header("ETag"):
        resp["ETag"] = re.sub(r'^"', 'W/"', resp["ETag"])  # the body is no longer byte-identical
    return resp


def _run(code: UUID) -> ScoringRun:
    return get_object_or_404(ScoringRun.objects.select_related("created_by"), code=code)


def _finished_run(code: UUID) -> ScoringRun:
    run = _run(code)
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise dashboard.DashboardError(f"run: {run.code} has status {run.status}; results exist once it succeeded")
    return run


def _size_param(request: HttpRequest, run: ScoringRun) -> int:
    """Return the ``size`` parameter [H100e], or the run's smallest size when it is absent."""
    return dashboard.size_param(request.GET, lambda: selectors.run_sizes(run))


def run_summary(run: ScoringRun, request: HttpRequest | None = None) -> dict:
    """Return a run as the API shows it."""
    data = {
        "code": str(run.code),
        "scenario_name": run.scenario_name,
        "status": run.status,
        "progress_pct": round(run.progress_pct, 1),
        "draws": run.draws,
        "sizes_h100e": list(run.params.get("sizes", [])),
        "n_sites": run.n_sites,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "created_by": run.created_by.get_username() if run.created_by is not None else None,
    }
    if request is not None:
        data["url"] = request.build_absolute_uri(reverse("siting-api-run", args=[run.code]))
        data["map_url"] = request.build_absolute_uri(reverse("siting-run-map", args=[run.code]))
    return data


@api_view
def runs_list(request: HttpRequest) -> JsonResponse:
    """List runs, newest first (``status`` filters, ``limit`` ≤ 200)."""
    qs = ScoringRun.objects.select_related("created_by").order_by("-created_at")
    status = request.GET.get("status")
    if status:
        if status not in ScoringRun.Status.values:
            raise dashboard.DashboardError(f"status: one of {', '.join(ScoringRun.Status.values)}")
        qs = qs.filter(status=status)
    try:
        limit = min(max(int(request.GET.get("limit", 50)), 1), 200)
    except ValueError:
        raise dashboard.DashboardError("limit: a whole number") from None
    return JsonResponse({"runs": [run_summary(r, request) for r in qs[:limit]]})


@api_view
def run_detail(request: HttpRequest, code: UUID) -> JsonResponse:
    """One run with its parameters, criteria and per-size summary."""
    run = _run(code)
    data = run_summary(run, request)
    data["params"] = run.params
    data["criteria"] = dashboard.criterion_table(run.params)
    data["data_vintage"] = run.data_vintage
    data["results"] = selectors.run_results(run)["results"]
    return _json(data)


@api_view
def run_sites(request: HttpRequest, code: UUID) -> HttpResponse:
    """Ranked sites of a run at one size, filtered, re-weighted, paginated; JSON, GeoJSON or CSV."""
    run = _finished_run(code)
    fmt = (request.GET.get("format") or "json").lower()
    if fmt not in ("json", "geojson", "csv"):
        raise dashboard.DashboardError("format: json, geojson or csv")
    query = request.GET.copy()
    if fmt == "json":
        query.setdefault("page_size", "100")
        page_size = dashboard.float_param(query, "page_size")
        if page_size is None or page_size != int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise dashboard.DashboardError(
                f"page_size: a whole number from 1 to {MAX_PAGE_SIZE} (use format=csv or geojson for all rows)"
            )
    if fmt == "json":
        page = selectors.ranked_page(run, query)
        return JsonResponse(
            {
                "run": str(run.code),
                "size_h100e": page.size_h100e,
                "total": page.total,
                "page": page.page,
                "page_size": page.page_size,
                "weights": page.weights,
                "sites": page.sites,
            }
        )
    view = dashboard.ranked_view(run, query)
    size = int(view.frame["size_h100e"].iloc[0]) if len(view.frame) else _size_param(request, run)
    name = f"gigasite-{str(run.code)[:8]}-{size}"
    if fmt == "csv":
        resp = HttpResponse(dashboard.csv_text(view.frame), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return resp
    resp = HttpResponse(
        json.dumps(dashboard.geojson(view.frame), ensure_ascii=False), content_type="application/geo+json"
    )
    resp["Content-Disposition"] = f'attachment; filename="{name}.geojson"'
    return resp


def _map_answer(request: HttpRequest, etag: str, body: Callable[[], str]) -> HttpResponse:
    """Answer 304 to a client that holds ``etag``, else the body (built or from the cache)."""
    resp: HttpResponse
    # A compressed answer's ETag is weak (W/"..."): compare without it.
    if etag in [t.removeprefix("W/") for t in parse_etags(request.headers.get("If-None-Match", ""))]:
        resp = HttpResponseNotModified()
    else:
        resp = HttpResponse(body(), content_type="application/json")
    resp["ETag"] = etag
    resp["Cache-Control"] = "private, no-cache"
    return resp


@api_view
def run_map_data(request: HttpRequest, code: UUID) -> HttpResponse:
    """Every site of a run at one size as columns (the map page's data, unfiltered).

    ``part=size`` sends only the columns that change with the size (the map page reads the
    others once, from ``run_map_sites``). With an ETag (run, size, part, sites): a browser that
    has it gets 304 without the body being built.
    """
    run = _finished_run(code)
    size = _size_param(request, run)
    part = request.GET.get("part", "all")  # map_data_json refuses another part (400)
    etag = dashboard.map_data_etag(run, size, part)
    return _map_answer(request, etag, lambda: dashboard.map_data_json(run, size, etag, part))


@api_view
def run_map_sites(request: HttpRequest, code: UUID) -> HttpResponse:
    """Every present site a run scored, in site id order, with the map's columns that are the
    same at every size (name, place, former use, largest feasible size). With an ETag."""
    run = _finished_run(code)
    etag = dashboard.map_data_etag(run, None, "sites")
    return _map_answer(request, etag, lambda: dashboard.map_sites_json(run, etag))


@api_view
def run_reweight(request: HttpRequest, code: UUID) -> HttpResponse:
    """Scores and ranks of every site at one size under new weights (``w_<criterion>``), no job.

    The response's ``site_id`` order is the request's stored order (by site id); the server
    time is in ``elapsed_ms`` and the ``Server-Timing`` header.
    """
    started = time.perf_counter()
    run = _finished_run(code)
    size = _size_param(request, run)
    weights = dashboard.weights_from_query(request.GET, run.params.get("weights", {})) or run.params.get("weights", {})
    arrays = selectors.reweight_json(run, size, weights)
    elapsed_ms = 1000.0 * (time.perf_counter() - started)
    head = json.dumps(
        {"run": str(run.code), "size_h100e": size, "weights": weights, "elapsed_ms": round(elapsed_ms, 2)}
    )
    resp = HttpResponse(head[:-1] + "," + arrays + "}", content_type="application/json")
    resp["Server-Timing"] = f"reweight;dur={elapsed_ms:.1f}"
    return resp


@api_view
def site_detail(request: HttpRequest, site_id: int) -> JsonResponse:
    """One site: its facts, and with ``run`` (and ``size``) its results, ladder and connection options."""
    site = get_object_or_404(Site, id=site_id)
    data = {
        "site_id": site.id,
        "external_id": site.external_id,
        "name": site.name,
        "country": site.country,
        "region_code": site.region_code,
        "departement_code": site.departement_code,
        "municipality": site.municipality,
        "longitude": site.longitude,
        "latitude": site.latitude,
        "area_ha": site.area_ha,
        "former_use": site.former_use,
        "former_activity": site.former_activity,
        "closure_year": site.closure_year,
        "grid_capacity_mw": site.grid_capacity_mw,
        "grid_voltage_kv": site.grid_voltage_kv,
        "pollution_status": site.pollution_status,
        "flood_zone": site.flood_zone,
        "water_access": site.water_access,
        "source": site.source,
        "source_url": site.source_url,
        "source_vintage": site.source_vintage,
        "withdrawn": site.withdrawn,
    }
    code_raw = request.GET.get("run")
    if code_raw:
        try:
            code = UUID(code_raw)
        except ValueError:
            raise dashboard.DashboardError("run: not a run code") from None
        run = _finished_run(code)
        size = _size_param(request, run)
        data.update({"run": str(run.code), "size_h100e": size, **selectors.site_run_detail(run, site, size)})
    return _json(data)


@api_view
def grid_points(request: HttpRequest) -> JsonResponse:
    """In-service grid points with a known voltage, as columns (the substations layer)."""

    rows = list(
        GridConnectionPoint.objects.filter(status=GridConnectionPoint.Status.IN_SERVICE, voltage_kv__isnull=False)
        .order_by("-voltage_kv", "id")
        .values_list("id", "name", "longitude", "latitude", "voltage_kv", "country")
    )
    columns = ("point_id", "name", "longitude", "latitude", "voltage_kv", "country")
    out = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    out["longitude"] = [round(r[2], 5) for r in rows]
    out["latitude"] = [round(r[3], 5) for r in rows]
    return JsonResponse({"columns": out})


@api_view
def zones(request: HttpRequest) -> JsonResponse:
    """Carbon intensity, price and cooling degree days by country."""

    rows = Zone.objects.order_by("code").values(
        "code", "name", "carbon_intensity_g_per_kwh", "carbon_year", "price_eur_per_mwh", "cooling_degree_days"
    )
    return JsonResponse({"zones": list(rows)})


@api_view
def boundaries(request: HttpRequest, kind: str) -> HttpResponse:
    """Shipped outlines (country, region or département) as a GeoJSON FeatureCollection."""
    if kind not in Boundary.Kind.values:
        raise dashboard.DashboardError(f"kind: one of {', '.join(Boundary.Kind.values)}")
    body = grid_selectors.boundary_outlines(kind).geojson_bytes
    resp = HttpResponse(body, content_type="application/geo+json")
    resp["Cache-Control"] = "private, max-age=3600"
    return resp
