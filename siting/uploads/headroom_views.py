"""Known-headroom upload pages (analysts and admins): list and form, preview, confirm, discard,
detail, withdraw.

The pages run what ``manage.py import_headroom`` runs (``siting.uploads.headroom_imports``): a dry run
first, kept as a preview (``siting.uploads.headroom_services``), then the import, all or nothing.
Unlike site uploads, which every analyst may read, headroom uploads are their analyst's: an
analyst sees and acts on their own previews and uploads only (others' answer 404), an admin
on all; other roles get 403.
"""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from grid.models import HeadroomUpload, KnownHeadroom
from siting import accounts
from siting.importers.sites import SheetChoiceNeeded, UploadRejected
from siting.uploads import headroom_services
from siting.uploads.headroom_forms import HeadroomUploadForm
from siting.uploads.headroom_imports import COLUMNS, UNITS, headroom_upload_withdraw
from siting.uploads.headroom_selectors import headroom_upload_list
from siting.uploads.views import SHOWN_ERRORS, body_too_large, too_large_message

log = logging.getLogger(__name__)

SHOWN_VALUES = 500
"""Values an upload's page lists; the counts cover them all."""


def _get_upload_for_user(request: HttpRequest, code: UUID) -> HeadroomUpload:
    accounts.require_role(request.user, accounts.ANALYST)
    return get_object_or_404(headroom_upload_list(user=request.user), code=code)


def _get_staged_for_user(request: HttpRequest, token: UUID) -> headroom_services.StagedHeadroom:
    accounts.require_role(request.user, accounts.ANALYST)
    staged = headroom_services.headroom_staged_get(token=token, user=request.user)
    if staged is None:
        raise Http404
    return staged


def _list_page(
    request: HttpRequest,
    form: HeadroomUploadForm,
    *,
    error: str = "",
    file_name: str = "",
    row_errors: list | None = None,
    status: int = 200,
) -> HttpResponse:
    row_errors = row_errors or []
    context = {
        "form": form,
        "error": error,
        "file_name": file_name,
        "row_errors": row_errors[:SHOWN_ERRORS],
        "more_errors": max(len(row_errors) - SHOWN_ERRORS, 0),
        "uploads": headroom_upload_list(user=request.user)[:100],
        "columns": COLUMNS,
        "units": [u for u, _factor in UNITS],
        "max_mb": settings.GIGASITE_UPLOAD_MAX_BYTES / 1e6,
    }
    return render(request, "uploads/headroom_list.html", context, status=status)


@login_required
@require_GET
@accounts.role_required(accounts.ANALYST)
def headroom_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, HeadroomUploadForm())


@csrf_exempt  # checked below by _headroom_create, once the body may be read
@login_required
@require_POST
@accounts.role_required(accounts.ANALYST)
def headroom_create(request: HttpRequest) -> HttpResponse:
    # Refuse an oversized body before anything reads it (the CSRF check would), as site uploads do.
    if body_too_large(request):
        return _list_page(request, HeadroomUploadForm(), error=too_large_message(), status=413)
    return _headroom_create(request)


@csrf_protect
def _headroom_create(request: HttpRequest) -> HttpResponse:
    form = HeadroomUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    upload_file = form.cleaned_data["file"]
    file_name = Path(upload_file.name or "upload").name
    if upload_file.size > settings.GIGASITE_UPLOAD_MAX_BYTES:
        return _list_page(request, form, error=f"{file_name}: {too_large_message()}", status=413)
    try:
        staged = headroom_services.headroom_stage(
            data=upload_file.read(),
            file_name=file_name,
            source_name=form.cleaned_data["source_name"],
            user=request.user,
            match_distance_km=form.cleaned_data["match_distance_km"],
            sheet=form.cleaned_data["sheet"] or None,
        )
    except SheetChoiceNeeded as exc:
        initial = {k: form.cleaned_data[k] for k in ("source_name", "match_distance_km")}
        return _list_page(
            request, HeadroomUploadForm(initial=initial, sheets=exc.sheets), error=f"{file_name}: {exc}", status=400
        )
    except UploadRejected as exc:
        plan = getattr(exc, "plan", None)
        return _list_page(
            request,
            form,
            error=f"{file_name}: {exc}",
            file_name=file_name,
            row_errors=plan.errors if plan is not None else [],
            status=400,
        )
    except Exception:
        log.exception("headroom upload of %r by %s failed unexpectedly", file_name, request.user)
        return _list_page(
            request,
            form,
            error=_("The file could not be read. Check it against the column names below, or ask an administrator."),
            status=400,
        )
    return redirect("siting-headroom-preview", staged.token)


@login_required
@require_GET
def headroom_preview(request: HttpRequest, token: UUID) -> HttpResponse:
    staged = _get_staged_for_user(request, token)
    context = {"staged": staged, "more_values": max(staged.n_values - len(staged.values), 0)}
    return render(request, "uploads/headroom_preview.html", context)


@login_required
@require_POST
def headroom_confirm(request: HttpRequest, token: UUID) -> HttpResponse:
    staged = _get_staged_for_user(request, token)
    try:
        upload = headroom_services.headroom_staged_confirm(staged=staged, user=request.user)
    except UploadRejected as exc:
        messages.error(request, f"{staged.file_name}: {exc}")
        return redirect("siting-headroom-list")
    messages.success(request, _("Imported: known headroom at %(n)d grid point(s).") % {"n": upload.values.count()})
    return redirect("siting-headroom-detail", upload.code)


@login_required
@require_POST
def headroom_discard(request: HttpRequest, token: UUID) -> HttpResponse:
    staged = _get_staged_for_user(request, token)
    headroom_services.headroom_staged_discard(staged=staged)
    messages.info(request, _("Upload discarded; nothing was imported."))
    return redirect("siting-headroom-list")


@login_required
@require_GET
def headroom_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    values = KnownHeadroom.objects.filter(upload=upload).select_related("point").order_by("row")
    shown = list(values[:SHOWN_VALUES])
    imported = upload.status == HeadroomUpload.Status.IMPORTED
    rows = [{"value": v, "current": imported and v.point.headroom_mw == v.headroom_mw} for v in shown]
    n_values = values.count()
    context = {
        "upload": upload,
        "rows": rows,
        "n_values": n_values,
        "more_values": max(n_values - len(shown), 0),
        "can_manage": imported and accounts.may_manage(request.user, upload.uploaded_by_id),
    }
    return render(request, "uploads/headroom_detail.html", context)


@login_required
@require_POST
def headroom_withdraw(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    n = headroom_upload_withdraw(upload=upload, user=request.user)
    if n is None:
        messages.error(request, _("This upload cannot be withdrawn."))
    else:
        messages.success(
            request, _("Upload withdrawn: %(n)d grid point(s) got their previous headroom back.") % {"n": n}
        )
    return redirect("siting-headroom-detail", upload.code)
