"""Run pages: list, start, detail with live progress, progress JSON, cancel."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from siting import accounts, labels
from siting.models import RunChunk, ScoringRun
from siting.runs import forms, services
from siting.uploads import selectors as upload_selectors


def _size_work(run: ScoringRun, *, admin: bool) -> list[dict]:
    """Return the run's work per cluster size: its blocks of draws, how many are done, status."""
    sizes: dict[int, dict] = {}
    for c in run.chunks.only("size_h100e", "status", "attempts", "worker", "draw_start", "draw_stop").order_by("index"):
        size = sizes.setdefault(
            c.size_h100e,
            {
                "size_h100e": c.size_h100e,
                "blocks": 0,
                "blocks_done": 0,
                "attempts": 0,
                "statuses": set(),
                "workers": [],
            },
        )
        size["blocks"] += 1
        size["blocks_done"] += c.status == c.Status.DONE
        size["attempts"] = max(size["attempts"], c.attempts)
        size["statuses"].add(c.status)
        if admin and c.worker and c.worker not in size["workers"]:
            size["workers"].append(c.worker)
    out = []
    for size in sizes.values():
        statuses = size.pop("statuses")
        # The size's status is its least advanced block's: failed, then running, pending, done.
        status = next(
            s
            for s in (RunChunk.Status.FAILED, RunChunk.Status.RUNNING, RunChunk.Status.PENDING, RunChunk.Status.DONE)
            if s in statuses
        )
        size.update(status=str(status), status_label=str(RunChunk.Status(status).label))
        if not admin:
            size.pop("workers")
        out.append(size)
    return out


def _get_run_for_user(request: HttpRequest, code: UUID) -> ScoringRun:
    accounts.require_role(request.user, *accounts.ROLES)
    return get_object_or_404(ScoringRun.objects.select_related("created_by", "scenario"), code=code)


@login_required
@require_GET
@accounts.role_required(*accounts.ROLES)
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(ScoringRun.objects.select_related("created_by").order_by("-created_at"), 25).get_page(
        request.GET.get("page")
    )
    can_start = accounts.has_role(request.user, accounts.PLANNER, accounts.ANALYST)
    return render(request, "runs/run_list.html", {"page": page, "form": forms.RunStartForm() if can_start else None})


@login_required
@require_POST
@accounts.role_required(accounts.PLANNER, accounts.ANALYST)
def run_start(request: HttpRequest) -> HttpResponse:
    form = forms.RunStartForm(request.POST)
    if not form.is_valid():
        page = Paginator(ScoringRun.objects.order_by("-created_at"), 25).get_page(1)
        return render(request, "runs/run_list.html", {"page": page, "form": form}, status=400)
    run = services.scoring_run_start(
        params=form.params().to_dict(),
        draws=form.cleaned_data["draws"],
        name=form.cleaned_data["name"],
        user=request.user,
    )
    if run.dispatched_at is None:
        messages.warning(
            request,
            _("The job queue is unreachable right now. Your run is saved and will start as soon as it is back."),
        )
    return redirect("siting-run-detail", run.code)


@login_required
@require_GET
def run_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    run = _get_run_for_user(request, code)
    return render(
        request,
        "runs/run_detail.html",
        {
            "run": run,
            "stage": labels.stage_label(run.stage),
            "sizes": _size_work(run, admin=accounts.is_admin(request.user)),
            "results": run.results.select_related("best_site").defer("table", "options"),
            "withdrawn": upload_selectors.run_withdrawn_sites(run),
            "error_message": _error_message(request, run),
            "show_workers": accounts.is_admin(request.user),
        },
    )


def _error_message(request: HttpRequest, run: ScoringRun) -> str:
    """Return the failure as this user may read it: the recorded reason for admins, a message otherwise."""
    return accounts.error_shown(
        request.user,
        run.error,
        _("This run failed. Start it again; if it fails again, an administrator can find the reason in the log."),
    )


@login_required
@require_GET
def run_progress(request: HttpRequest, code: UUID) -> JsonResponse:
    run = _get_run_for_user(request, code)
    # Worker host names and exception text are for admins (and the log), not for every role.
    admin = accounts.is_admin(request.user)
    chunks = []
    for c in run.chunks.only("size_h100e", "status", "attempts", "worker", "draw_start", "draw_stop").order_by("index"):
        chunk = {
            "size_h100e": c.size_h100e,
            "draw_start": c.draw_start,
            "draw_stop": c.draw_stop,
            "status": c.status,
            "attempts": c.attempts,
        }
        if admin:
            chunk["worker"] = c.worker
        chunks.append(chunk)
    sizes = _size_work(run, admin=admin)
    return JsonResponse(
        {
            "code": str(run.code),
            "status": run.status,
            "status_label": run.get_status_display(),
            "progress_pct": round(run.progress_pct, 1),
            "stage": labels.stage_label(run.stage),
            "error": _error_message(request, run),
            "finished": run.is_finished,
            "chunks": chunks,
            "sizes": sizes,
            "blocks": sum(s["blocks"] for s in sizes),
            "blocks_done": sum(s["blocks_done"] for s in sizes),
        }
    )


@login_required
@require_POST
def run_cancel(request: HttpRequest, code: UUID) -> HttpResponse:
    run = _get_run_for_user(request, code)
    accounts.require_manage(request.user, run.created_by_id)  # its starter or an admin
    if services.scoring_run_cancel(run=run):
        messages.info(request, _("Run cancelled."))
    else:
        messages.error(request, _("This run had already finished."))
    return redirect("siting-run-detail", run.code)
