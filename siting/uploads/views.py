"""Upload pages (analysts and admins): list and form, preview, confirm, discard, withdraw,
error report, column template and sample files.

Every view needs a login and the analyst or admin role (others get 403). Analysts see every
imported upload, but only its owner or an admin may confirm, discard or withdraw it (the
services check it: see ``roles.may_manage``), and only they see the buttons. Messages shown to
users come from ``UploadRejected`` (written for them); anything unexpected is logged and
answered with a generic message, never a path or a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from siting import accounts, html_nonce
from siting.importers import sites as site_importer
from siting.importers.places import CONFLATION_DISTANCE_M
from siting.importers.sites import SheetChoiceNeeded, UploadRejected
from siting.models import SiteUpload
from siting.uploads import maps, selectors, services
from siting.uploads.forms import ReferenceMatchForm, SiteUploadForm

log = logging.getLogger(__name__)

FORM_FIELDS_ALLOWANCE_BYTES = 64 * 1024
"""Room for the form fields and multipart headers on top of the file itself. [byte]"""
SHOWN_ERRORS = 200
SAMPLES_DIR = settings.BASE_DIR / "fixtures" / "uploads"
SAMPLE_SUFFIXES = (".csv", ".geojson", ".gpkg", ".zip", ".xlsx", ".ods")
SHOWN_MATCHES = 200


def _samples() -> dict[str, Path]:
    if not SAMPLES_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(SAMPLES_DIR.iterdir()) if p.is_file() and p.suffix in SAMPLE_SUFFIXES}


def _get_upload_for_user(request: HttpRequest, code: UUID) -> SiteUpload:
    accounts.require_role(request.user, accounts.ANALYST)
    return get_object_or_404(selectors.site_upload_list(user=request.user).defer(None), code=code)


def too_large_message() -> str:
    """Return the message refusing a file above ``GIGASITE_UPLOAD_MAX_BYTES``."""
    return _("The file is larger than %(max).0f MB.") % {"max": settings.GIGASITE_UPLOAD_MAX_BYTES / 1e6}


def body_too_large(request: HttpRequest) -> bool:
    """Tell, from its header and before anything reads it, whether a body exceeds a file within the limit and its fields."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > settings.GIGASITE_UPLOAD_MAX_BYTES + FORM_FIELDS_ALLOWANCE_BYTES


def _list_page(request: HttpRequest, form: SiteUploadForm, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "error": error,
        "uploads": selectors.site_upload_list(user=request.user)[:100],
        "source_names": selectors.source_names(),
        "max_mb": settings.GIGASITE_UPLOAD_MAX_BYTES / 1e6,
        "max_rows": settings.GIGASITE_UPLOAD_MAX_ROWS,
    }
    return render(request, "uploads/upload_list.html", context, status=status)


@login_required
@require_GET
@accounts.role_required(accounts.ANALYST)
def upload_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, SiteUploadForm())


@csrf_exempt  # checked below by _upload_create, once the body may be read
@login_required
@require_POST
@accounts.role_required(accounts.ANALYST)
def upload_create(request: HttpRequest) -> HttpResponse:
    # Refuse an oversized body before anything reads it (the CSRF check would).
    if body_too_large(request):
        return _list_page(request, SiteUploadForm(), error=too_large_message(), status=413)
    return _upload_create(request)


@csrf_protect
def _upload_create(request: HttpRequest) -> HttpResponse:
    form = SiteUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    upload_file = form.cleaned_data["file"]
    if upload_file.size > settings.GIGASITE_UPLOAD_MAX_BYTES:
        return _list_page(request, form, error=too_large_message(), status=413)
    file_name = Path(upload_file.name or "upload").name
    try:
        upload = services.site_upload_stage(
            data=upload_file.read(),
            file_name=file_name,
            source_name=form.cleaned_data["source_name"],
            user=request.user,
            on_duplicate=form.cleaned_data["on_duplicate"],
            crs=form.cleaned_data["crs"] or None,
            area_unit=form.cleaned_data["area_unit"] or None,
            sheet=form.cleaned_data["sheet"] or None,
        )
    except SheetChoiceNeeded as exc:
        # The sheet picker: the same form, with the workbook's sheets to choose from.
        initial = {k: form.cleaned_data[k] for k in ("source_name", "on_duplicate", "crs", "area_unit")}
        return _list_page(
            request, SiteUploadForm(initial=initial, sheets=exc.sheets), error=f"{file_name}: {exc}", status=400
        )
    except UploadRejected as exc:
        return _list_page(request, form, error=f"{file_name}: {exc}", status=400)
    except Exception:
        log.exception("upload of %r by %s failed unexpectedly", file_name, request.user)
        return _list_page(
            request,
            form,
            error=_("The file could not be read. Check it against the column template, or ask an administrator."),
            status=400,
        )
    return redirect("siting-upload-detail", upload.code)


@login_required
@require_GET
def upload_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    figure_html = ""
    counts = {"create": upload.sites_created, "update": upload.sites_updated, "skip": upload.sites_skipped}
    if upload.status == SiteUpload.Status.STAGED:
        sites = services.staged_sites(upload)
        labels = {"create": _("New sites"), "update": _("Updates"), "skip": _("Skipped (already imported)")}
        fig = maps.upload_preview_figure(
            sites=sites, labels=labels, countries_geojson=selectors.countries_outline_geojson()
        )
        figure_html = html_nonce.figure_html_with_nonce(
            fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}), request
        )
    matches = []
    if upload.status == SiteUpload.Status.STAGED:
        near = sites[(sites["ref_site_id"] >= 0) & (sites["action"] == "create")]
        matches = [
            {
                "row": int(r.row),
                "file_id": r.file_id,
                "name": r.name,
                "ref_site_id": int(r.ref_site_id),
                "ref_name": r.ref_name,
                "ref_external_id": r.ref_external_id,
                "distance_m": float(r.ref_distance_m),
            }
            for r in near.head(SHOWN_MATCHES).itertuples(index=False)
        ]
        n_matches = len(near)
    else:
        n_matches = 0
    context = {
        "upload": upload,
        "matches": matches,
        "n_matches": n_matches,
        "match_form": ReferenceMatchForm(),
        "conflation_distance_m": CONFLATION_DISTANCE_M,
        "counts": counts,
        "figure_html": figure_html,
        "errors": upload.errors[:SHOWN_ERRORS],
        "more_errors": max(upload.errors_total - SHOWN_ERRORS, 0),
        "can_import": upload.status == SiteUpload.Status.STAGED and counts["create"] + counts["update"] > 0,
        # The buttons only for whom the services will let act (owner or admin).
        "can_manage": accounts.may_manage(request.user, upload.uploaded_by_id),
        "n_sites_withdrawable": upload.sites.filter(withdrawn=False).count()
        if upload.status == SiteUpload.Status.IMPORTED
        else 0,
    }
    return render(request, "uploads/upload_detail.html", context)


@login_required
@require_POST
def upload_confirm(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    if upload.status != SiteUpload.Status.STAGED:
        raise PermissionDenied
    only_valid = request.POST.get("only_valid") == "1"
    match_form = ReferenceMatchForm(request.POST)
    on_reference_match = match_form.cleaned_data["on_reference_match"] if match_form.is_valid() else None
    try:
        upload = services.site_upload_confirm(
            upload=upload, user=request.user, only_valid=only_valid, on_reference_match=on_reference_match
        )
    except UploadRejected as exc:
        messages.error(request, str(exc))
        return redirect("siting-upload-detail", upload.code)
    messages.success(
        request,
        _("Imported: %(created)d new sites, %(updated)d updated, %(skipped)d skipped.")
        % {"created": upload.sites_created, "updated": upload.sites_updated, "skipped": upload.sites_skipped},
    )
    return redirect("siting-upload-detail", upload.code)


@login_required
@require_POST
def upload_discard(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    if upload.status != SiteUpload.Status.STAGED:
        raise PermissionDenied
    services.site_upload_discard(upload=upload, user=request.user)
    messages.info(request, _("Upload discarded; nothing was imported."))
    return redirect("siting-upload-list")


@login_required
@require_POST
def upload_withdraw(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    n = services.site_upload_withdraw(upload=upload, user=request.user)
    if n is None:
        messages.error(request, _("This upload cannot be withdrawn."))
    else:
        messages.success(request, _("Upload withdrawn with its %(n)d sites. Runs that used them say so.") % {"n": n})
    return redirect("siting-upload-detail", upload.code)


@login_required
@require_GET
def upload_errors_csv(request: HttpRequest, code: UUID) -> HttpResponse:
    upload = _get_upload_for_user(request, code)
    response = HttpResponse(
        services.errors_csv(upload.errors, total=upload.errors_total), content_type="text/csv; charset=utf-8"
    )
    stem = Path(upload.file_name).stem[:60] or "upload"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
    response["Content-Disposition"] = f'attachment; filename="{safe}-errors.csv"'
    return response


@login_required
@require_GET
@accounts.role_required(accounts.ANALYST)
def upload_template(request: HttpRequest) -> HttpResponse:
    samples = list(_samples())
    context = {
        "columns": site_importer.COLUMNS,
        "former_uses": site_importer.FORMER_USE_CODES,
        "voltages": ", ".join(f"{v:g}" for v in site_importer.KNOWN_VOLTAGES_KV),
        "max_area_ha": site_importer.MAX_AREA_HA,
        "max_capacity_mw": site_importer.MAX_CAPACITY_MW,
        "conflation_distance_m": CONFLATION_DISTANCE_M,
        "samples": samples,
        "max_mb": settings.GIGASITE_UPLOAD_MAX_BYTES / 1e6,
        "max_rows": settings.GIGASITE_UPLOAD_MAX_ROWS,
    }
    return render(request, "uploads/upload_template.html", context)


@login_required
@require_GET
@accounts.role_required(accounts.ANALYST)
def upload_template_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(site_importer.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="gigasite_sites_template.csv"'
    return response


@login_required
@require_GET
@accounts.role_required(accounts.ANALYST)
def upload_sample(request: HttpRequest, name: str) -> FileResponse:
    # Only a file listed in the samples folder, by exact name: no path comes from the request.
    available = _samples()
    if name not in available:
        raise Http404
    return FileResponse(available[name].open("rb"), as_attachment=True, filename=name)
