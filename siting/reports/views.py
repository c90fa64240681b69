"""PDF comparisons: choose sites, request the document, follow it, download it.

Officials and admins only; everyone else gets 403 (and never sees the links). A document is
its requester's: another official gets 403 on its pages (``comparisons.comparison_get``), and
failures show a message, the recorded reason only to admins. The request
endpoint takes POST ``run`` (the run's code), ``size`` [H100e] and repeated ``site`` ids, so
the ranked map and table can post their own selection to it.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from siting import accounts, labels
from siting.dashboard.selectors import DashboardError, size_param
from siting.models import ComparisonReport, RunResult, ScoringRun
from siting.reports import forms, services
from siting.reports.document import LANGUAGES, MAX_SITES, MIN_SITES, ComparisonError

SELECT_DEFAULT_SIZE_H100E = 10_000
"""Size the selection page opens at when the run has it. [H100e]"""
SELECT_LIMITS = (30, 100, 300)
"""How many of the best sites the selection page can list."""


def _language(request: HttpRequest, asked: str = "") -> str:
    code = (asked or translation.get_language() or "en")[:2].lower()
    return code if code in LANGUAGES else "en"


def _pdf_response(report: ComparisonReport) -> HttpResponse:
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")  # type: ignore[arg-type]
    name = f"gigasite-comparison-{report.run.code.hex[:8]}-{report.size_h100e}h100e-{report.language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _own_report(request: HttpRequest, code: UUID) -> ComparisonReport:
    """Return the document if this official requested it (or an admin asks); 404 or 403 otherwise."""
    accounts.require_role(request.user, accounts.OFFICIAL)
    try:
        return services.comparison_get(code=code, user=request.user)
    except ComparisonReport.DoesNotExist:
        raise Http404 from None


def _get_report(request: HttpRequest, code: UUID) -> ComparisonReport:
    """Return the document, after giving it another chance if it stalled (see comparisons)."""
    report = services.comparison_recover(report=_own_report(request, code))
    if services.comparison_stuck_without_broker(report=report):
        services.comparison_execute(report_id=report.id)
        report.refresh_from_db()
    return report


def _error_message(request: HttpRequest, report: ComparisonReport) -> str:
    """Return the failure as this user may read it: the recorded reason for admins, a message otherwise."""
    return accounts.error_shown(
        request.user,
        report.error,
        _(
            "The document could not be produced. Ask for it again; if it fails again, an administrator can find the reason in the log."
        ),
    )


@login_required
@require_GET
@accounts.role_required(accounts.OFFICIAL)
def report_select(request: HttpRequest, code: UUID) -> HttpResponse:
    """List a finished run's best sites at one size with checkboxes, to compare 2 to 10 of them."""
    run = get_object_or_404(ScoringRun, code=code, status=ScoringRun.Status.SUCCEEDED)
    sizes = list(RunResult.objects.filter(run=run).order_by("size_h100e").values_list("size_h100e", flat=True))
    try:
        size = size_param(request.GET, lambda: sizes, preferred=SELECT_DEFAULT_SIZE_H100E, known=True)
        limit = int(request.GET.get("n") or SELECT_LIMITS[0])
    except (DashboardError, ValueError):
        raise Http404 from None
    if limit not in SELECT_LIMITS:
        raise Http404
    candidates = services.comparison_candidates(run=run, size_h100e=size, limit=limit)
    return render(
        request,
        "reports/select.html",
        {
            "run": run,
            "sizes": sizes,
            "size": size,
            "limit": limit,
            "limits": SELECT_LIMITS,
            "candidates": candidates.to_dict("records"),
            "min_sites": MIN_SITES,
            "max_sites": MAX_SITES,
        },
    )


@login_required
@require_POST
@accounts.role_required(accounts.OFFICIAL)
def report_create(request: HttpRequest) -> HttpResponse:
    """Return the stored PDF, or queue it and send the user to its status page."""
    form = forms.ComparisonForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/error.html", {"errors": form.errors}, status=400)
    run = ScoringRun.objects.filter(code=form.cleaned_data["run"]).first()
    if run is None:
        raise Http404
    try:
        report = services.comparison_request(
            run=run,
            size_h100e=form.cleaned_data["size"],
            site_ids=form.cleaned_data["site"],
            language=_language(request, form.cleaned_data["language"]),
            user=request.user,
        )
    except ComparisonError as exc:
        return render(request, "reports/error.html", {"message": str(exc)}, status=400)
    if report.status == ComparisonReport.Status.SUCCEEDED:
        return _pdf_response(report)
    return redirect("siting-report-status", report.code)


@login_required
@require_GET
def report_status(request: HttpRequest, code: UUID) -> HttpResponse:
    """Show a document's progress; it polls, then offers the download."""
    report = _get_report(request, code)
    return render(
        request,
        "reports/status.html",
        {"report": report, "stage": labels.stage_label(report.stage), "error_message": _error_message(request, report)},
    )


@login_required
@require_GET
def report_progress(request: HttpRequest, code: UUID) -> JsonResponse:
    """Return a document's state as JSON (the status page polls it)."""
    report = _get_report(request, code)
    return JsonResponse(
        {
            "code": str(report.code),
            "status": report.status,
            "status_label": report.get_status_display(),
            "progress_pct": round(report.progress_pct, 1),
            "stage": labels.stage_label(report.stage),
            "error": _error_message(request, report),
            "finished": report.is_finished,
            "n_pages": report.n_pages,
        }
    )


@login_required
@require_GET
def report_download(request: HttpRequest, code: UUID) -> HttpResponse:
    """Return a finished document as a PDF attachment."""
    report = _own_report(request, code)
    if report.status != ComparisonReport.Status.SUCCEEDED:
        raise Http404
    return _pdf_response(report)
