"""The portfolios' read-only API: planners, officials and admins; each portfolio its owner's.

Served under ``/api/portfolios/`` with the rest of the API's conventions (``siting.dashboard.api``:
login, JSON errors, conditional responses).
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse

from siting import accounts
from siting.dashboard import selectors as dashboard
from siting.dashboard.api import api_view
from siting.models import Portfolio
from siting.portfolio import services as portfolio_services


def portfolio_summary(portfolio, request: HttpRequest | None = None, *, full: bool = False) -> dict:
    """Return a portfolio as the API shows it (``full``: with its question and result)."""
    data = {
        "code": str(portfolio.code),
        "name": portfolio.name,
        "run": str(portfolio.run.code),
        "status": portfolio.status,
        "progress_pct": round(portfolio.progress_pct, 1),
        "stage": portfolio.stage,
        "feasible": portfolio.feasible,
        "created_at": portfolio.created_at.isoformat(),
        "finished_at": portfolio.finished_at.isoformat() if portfolio.finished_at else None,
        "totals": (portfolio.result or {}).get("totals"),
    }
    if request is not None:
        data["url"] = request.build_absolute_uri(reverse("siting-api-portfolio", args=[portfolio.code]))
        data["page_url"] = request.build_absolute_uri(reverse("siting-portfolio-detail", args=[portfolio.code]))
    if full:
        data["problem"] = portfolio.problem
        data["result"] = portfolio.result
        data["error"] = (
            accounts.error_shown(request.user, portfolio.error, "solving failed") if request else portfolio.error
        )
    return data


_PORTFOLIO_ROLES_ERROR = {"error": "a planner, official or admin role is required"}


@api_view
def portfolios_list(request: HttpRequest) -> JsonResponse:
    """The caller's portfolios, newest first (an admin's: all); ``limit`` ≤ 200."""
    if not portfolio_services.may_view(request.user):
        return JsonResponse(_PORTFOLIO_ROLES_ERROR, status=403)
    try:
        limit = min(max(int(request.GET.get("limit", 50)), 1), 200)
    except ValueError:
        raise dashboard.DashboardError("limit: a whole number") from None
    qs = portfolio_services.portfolio_list(user=request.user)[:limit]
    return JsonResponse({"portfolios": [portfolio_summary(p, request) for p in qs]})


@api_view
def portfolio_detail(request: HttpRequest, code: UUID) -> JsonResponse:
    """One portfolio: question, chosen sites, totals, solver status and gap, greedy baseline, robustness."""
    if not portfolio_services.may_view(request.user):
        return JsonResponse(_PORTFOLIO_ROLES_ERROR, status=403)
    try:
        portfolio = portfolio_services.portfolio_get(code=code, user=request.user)
    except Portfolio.DoesNotExist:
        raise Http404 from None
    except PermissionDenied:
        return JsonResponse({"error": "this portfolio is its owner's"}, status=403)
    return JsonResponse(portfolio_summary(portfolio, request, full=True))
