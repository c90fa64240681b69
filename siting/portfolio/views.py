"""Portfolio pages: list and ask, follow the job, read the answer, download the officials' PDF.

Planners, officials and admins; a portfolio is its owner's (another user gets 403, an admin
sees all). The PDF is the officials' comparison with a portfolio section in front, so it
needs the official role too.
"""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from siting import accounts, labels
from siting.models import Portfolio
from siting.reports import document as reports
from siting.reports.services import author_name

from . import services
from .forms import PortfolioForm
from .maps import portfolio_figure
from .report import portfolio_pdf

PDF_CACHE_S = 3600
"""How long a rendered portfolio PDF is kept for the same request. [s]"""


def _require_view(request: HttpRequest) -> None:
    if not services.may_view(request.user):
        raise PermissionDenied


def _get(request: HttpRequest, code: UUID) -> Portfolio:
    _require_view(request)
    try:
        portfolio = services.portfolio_get(code=code, user=request.user)
    except Portfolio.DoesNotExist:
        raise Http404 from None
    portfolio = services.portfolio_recover(portfolio=portfolio)
    if services.portfolio_stuck_without_broker(portfolio=portfolio):
        services.portfolio_execute(portfolio_id=portfolio.id)
        portfolio.refresh_from_db()
    return portfolio


def _error_message(request: HttpRequest, portfolio: Portfolio) -> str:
    return accounts.error_shown(
        request.user,
        portfolio.error,
        _(
            "This portfolio could not be solved. Ask again; if it fails again, an administrator can find the reason in the log."
        ),
    )


def map_labels() -> dict[str, str]:
    return {
        "point": _("Grid point"),
        "points": _("Grid points"),
        "shared": _("shared"),
        "own_point": _("one site"),
        "load": _("load"),
        "headroom": _("headroom"),
        "alternative": _("Next best"),
        "alternatives": _("Next-best alternatives"),
        "score": _("score"),
        "months": _("months to power"),
        "chosen": _("Chosen sites"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_list(request: HttpRequest) -> HttpResponse:
    """List the user's portfolios with the form to ask a new one (POST asks it)."""
    _require_view(request)
    if request.method == "POST":
        form = PortfolioForm(request.POST)
        if form.is_valid():
            try:
                portfolio = services.portfolio_start(
                    run=form.cleaned_data["run"],
                    problem=form.problem,
                    name=form.cleaned_data["name"],
                    user=request.user,
                )
            except services.ProblemError as exc:
                form.add_error(None, str(exc))
            else:
                if portfolio.dispatched_at is None:
                    messages.warning(
                        request,
                        _(
                            "The job queue is unreachable right now. The portfolio is saved and "
                            "will be solved as soon as it is back."
                        ),
                    )
                return redirect("siting-portfolio-detail", portfolio.code)
        status = 400
    else:
        initial = {}
        run = request.GET.get("run")
        if run:
            initial["run"] = run
        form, status = PortfolioForm(initial=initial), 200
    portfolios = services.portfolio_list(user=request.user)[:100]
    return render(request, "portfolio/portfolio_list.html", {"form": form, "portfolios": portfolios}, status=status)


@login_required
@require_GET
def portfolio_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show a portfolio: its progress while solving, then the sites, totals, map and robustness."""
    portfolio = _get(request, code)
    result = portfolio.result or {}
    figure = portfolio_figure(result, labels=map_labels()) if portfolio.status == Portfolio.Status.SUCCEEDED else None
    chosen = result.get("chosen") or []
    robustness = result.get("robustness") or {}
    ok = robustness.get("p_site_ok") or {}
    alternatives = result.get("alternatives") or {}
    rows = [
        {**c, "p_ok": ok.get(str(c["site_id"])), "alternative": alternatives.get(str(c["site_id"]))} for c in chosen
    ]
    return render(
        request,
        "portfolio/portfolio_detail.html",
        {
            "portfolio": portfolio,
            "stage": labels.stage_label(portfolio.stage),
            "result": result,
            "rows": rows,
            "figure": figure,
            "robustness": robustness,
            "error_message": _error_message(request, portfolio),
            "problem": portfolio.problem,
            "can_pdf": accounts.has_role(request.user, accounts.OFFICIAL)
            and result.get("feasible")
            and len(chosen) >= reports.MIN_SITES,
            "boundary_urls": {"countries": reverse("siting-api-boundaries", args=["country"])},
        },
    )


@login_required
@require_GET
def portfolio_progress(request: HttpRequest, code: UUID) -> JsonResponse:
    """Return a portfolio's state as JSON (its page polls it)."""
    portfolio = _get(request, code)
    return JsonResponse(
        {
            "code": str(portfolio.code),
            "status": portfolio.status,
            "status_label": portfolio.get_status_display(),
            "progress_pct": round(portfolio.progress_pct, 1),
            "stage": labels.stage_label(portfolio.stage),
            "error": _error_message(request, portfolio),
            "finished": portfolio.is_finished,
            "feasible": portfolio.feasible,
        }
    )


@login_required
@require_GET
def portfolio_pdf_download(request: HttpRequest, code: UUID) -> HttpResponse:
    """Return the officials' comparison of the portfolio's sites, with the portfolio section in front."""
    if not accounts.has_role(request.user, accounts.OFFICIAL):
        raise PermissionDenied
    portfolio = _get(request, code)
    if portfolio.status != Portfolio.Status.SUCCEEDED or not (portfolio.result or {}).get("feasible"):
        raise Http404
    asked = (request.GET.get("lang") or translation.get_language() or "en")[:2].lower()
    language = asked if asked in reports.LANGUAGES else "en"
    author = author_name(request.user)
    key = (
        "portfolio-pdf:"
        + hashlib.sha256(
            "\x1f".join(
                [
                    str(portfolio.code),
                    hashlib.sha256(json.dumps(portfolio.result, sort_keys=True).encode()).hexdigest(),
                    language,
                    author,
                    str(request.user.pk),
                    reports.report_code_version(),
                ]
            ).encode()
        ).hexdigest()
    )
    pdf = cache.get(key)
    if pdf is None:
        try:
            pdf = portfolio_pdf(portfolio=portfolio, language=language, author=author).pdf
        except reports.ComparisonError as exc:
            return render(request, "reports/error.html", {"message": str(exc)}, status=400)
        cache.set(key, pdf, PDF_CACHE_S)
    response = HttpResponse(bytes(pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="gigasite-portfolio-{portfolio.code.hex[:8]}-{language}.pdf"'
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
