"""Writes for analysts' site uploads: import (command line), stage → confirm (web), withdraw.

One importer (``siting.importers.sites``) serves both paths. Every write is atomic: an
upload saves all of its sites and its ``SiteUpload`` row, or nothing. By default one rejected
row rejects the file; ``only_valid`` imports the valid rows and records the others in the
upload's error report.

External ids are namespaced by source: a row with id ``GE-1`` uploaded under the source
"Grand Est survey" becomes the site ``grand-est-survey:GE-1``. Uploading that id again under
the same source meets the existing site, and ``on_duplicate`` says what happens: ``error``
(the row is rejected), ``update`` (the site takes the new values and the new upload as its
provenance, and is no longer withdrawn) or ``skip`` (the site is left as it is).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from . import csv_safe, frames, roles
from .importers.sites import (
    ParsedFile,
    PlaceLocator,
    RowError,
    UploadLimits,
    UploadRejected,
    geometry_geojson_dict,
    parse_sites_file,
    source_slug,
)
from .models import Site, SiteSource, SiteUpload

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 5_000
"""Errors kept on an upload row for the page and the CSV report; the count is always exact."""
STAGED_TTL = timedelta(hours=24)
"""Staged uploads never confirmed are deleted after this."""
WRITE_BATCH = 2_000

SITE_FIELDS = (
    "name", "country", "region_code", "departement_code", "municipality", "longitude", "latitude", "geometry_geojson",
    "area_ha", "former_use", "former_activity", "closure_year", "grid_capacity_mw", "grid_voltage_kv", "pollution_status",
    "flood_zone", "water_access", "reconverted", "source_status", "source_url", "source_date", "zoning_type",
)
"""Site fields an upload sets (plus ``external_id``, ``source``, ``source_vintage``, ``upload``)."""

ERROR_CSV_HEADER = ("row", "field", "value", "reason")


def upload_limits() -> UploadLimits:
    """Return the limits from the settings."""
    return UploadLimits(
        max_bytes=settings.GIGASITE_UPLOAD_MAX_BYTES,
        max_rows=settings.GIGASITE_UPLOAD_MAX_ROWS,
        zip_max_uncompressed_bytes=settings.GIGASITE_UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES,
        zip_max_ratio=settings.GIGASITE_UPLOAD_ZIP_MAX_RATIO,
        zip_max_members=settings.GIGASITE_UPLOAD_ZIP_MAX_MEMBERS,
        max_columns=settings.GIGASITE_UPLOAD_MAX_COLUMNS,
        max_line_bytes=settings.GIGASITE_UPLOAD_MAX_LINE_BYTES,
        parse_timeout_s=settings.GIGASITE_UPLOAD_PARSE_TIMEOUT_S,
        parse_memory_bytes=settings.GIGASITE_UPLOAD_PARSE_MEMORY_MB * 1024 * 1024,
    )


_LOCATOR_CACHE: dict[str, Any] = {}


def _locators() -> tuple[PlaceLocator, PlaceLocator, dict[str, str]]:
    """Return the country and département locators, rebuilt only when the boundaries change."""
    from grid.models import Boundary

    key = tuple(sorted(Boundary.objects.values_list("kind").annotate(n=Count("id"), last=Max("id"))))
    if _LOCATOR_CACHE.get("key") != key:
        rows = Boundary.objects.filter(kind__in=(Boundary.Kind.COUNTRY, Boundary.Kind.DEPARTEMENT)).values_list(
            "kind", "code", "parent_code", "geometry_geojson"
        )
        by_kind: dict[str, list[tuple[str, dict]]] = {Boundary.Kind.COUNTRY: [], Boundary.Kind.DEPARTEMENT: []}
        regions: dict[str, str] = {}
        for kind, code, parent, geometry in rows:
            by_kind[kind].append((code, geometry))
            if kind == Boundary.Kind.DEPARTEMENT and parent:
                regions[code] = parent
        _LOCATOR_CACHE.update(
            key=key,
            countries=PlaceLocator(by_kind[Boundary.Kind.COUNTRY]),
            departements=PlaceLocator(by_kind[Boundary.Kind.DEPARTEMENT], tolerance_deg=0.02),
            regions=regions,
        )
    return _LOCATOR_CACHE["countries"], _LOCATOR_CACHE["departements"], _LOCATOR_CACHE["regions"]


def _parse(*, data: bytes, file_name: str, source_name: str, crs: str | None, area_unit: str | None) -> ParsedFile:
    countries, departements, regions = _locators()
    return parse_sites_file(
        data, file_name, source_name=source_name, countries=countries, departements=departements,
        departement_regions=regions, limits=upload_limits(), crs=crs, area_unit=area_unit,
        tmp_dir=getattr(settings, "GIGASITE_UPLOAD_TMP_DIR", None),
    )


@dataclass
class Plan:
    """What writing a parsed file would do: per valid row, create, update or skip."""

    sites: pd.DataFrame  # the valid rows, with an ``action`` column
    errors: list[RowError]  # the parse errors plus duplicates refused in ``error`` mode
    rows_read: int
    existing_ids: dict[str, int] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - len(self.sites)

    @property
    def counts(self) -> dict[str, int]:
        actions = self.sites["action"] if len(self.sites) else pd.Series([], dtype=object)
        return {a: int((actions == a).sum()) for a in ("create", "update", "skip")}


def _plan(
    sites: pd.DataFrame, errors: list[RowError], rows_read: int, *, source_name: str, on_duplicate: str, user,
) -> Plan:
    """Meet the parsed sites with the existing ones (by external id) and decide each row's action.

    An update may only change sites ``user`` may manage (see ``roles.may_manage``: sites their
    own uploads brought, or any site for an admin); a row that would change someone else's
    site is rejected, so one analyst cannot rename or move another's sites.
    """
    if on_duplicate not in SiteUpload.OnDuplicate.values:
        raise UploadRejected(_("Choose what to do with sites already imported: error, update or skip."))
    slug = source_slug(source_name)
    rows = Site.objects.filter(external_id__startswith=f"{slug}:").values_list("external_id", "id", "upload__uploaded_by_id")
    existing, owners = {}, {}
    for external_id, site_id, owner_id in rows:
        existing[external_id], owners[external_id] = site_id, owner_id
    sites = sites.copy()
    seen = sites["external_id"].isin(existing.keys()).to_numpy() if len(sites) else np.zeros(0, dtype=bool)
    errors = list(errors)
    refused = np.zeros(len(sites), dtype=bool)
    if on_duplicate == SiteUpload.OnDuplicate.ERROR:
        refused = seen
        reason = _("already imported for this source (choose update or skip)")
    elif on_duplicate == SiteUpload.OnDuplicate.UPDATE and seen.any():
        refused = seen & ~np.array([roles.may_manage(user, owners.get(e)) for e in sites["external_id"]], dtype=bool)
        reason = _("this site was imported by someone else: only they or an admin can update it")
    if refused.any():
        for row, file_id in zip(sites["row"][refused], sites["file_id"][refused]):
            errors.append(RowError(int(row), "external_id", str(file_id)[:100], reason))
        sites = sites[~refused].reset_index(drop=True)
        seen = seen[~refused]
        errors.sort(key=lambda e: (e.row, e.field))
    action = np.where(seen, "update" if on_duplicate == SiteUpload.OnDuplicate.UPDATE else "skip", "create")
    sites["action"] = action
    return Plan(sites=sites, errors=errors, rows_read=rows_read, existing_ids=existing)


def _site_values(row: Any) -> dict[str, Any]:
    values = {}
    for name in SITE_FIELDS:
        v = getattr(row, name)
        if name == "geometry_geojson":
            v = geometry_geojson_dict(v)
        elif name in ("area_ha", "grid_capacity_mw", "grid_voltage_kv", "closure_year"):
            v = None if v is None or not np.isfinite(v) else (int(v) if name == "closure_year" else float(v))
        elif name == "flood_zone":
            v = None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v)
        elif name == "source_date":
            v = date.fromisoformat(v) if isinstance(v, str) and v else (v or None)
        elif name == "reconverted":
            v = bool(v)
        values[name] = v
    return values


def _write(plan: Plan, upload: SiteUpload) -> tuple[int, int, int]:
    """Create and update the planned sites under ``upload``; return created, updated, skipped."""
    vintage = upload.source_name[:64]
    creates, updates = [], []
    for row in plan.sites.itertuples(index=False):
        if row.action == "skip":
            continue
        site = Site(external_id=row.external_id, source=SiteSource.UPLOAD, source_vintage=vintage, upload=upload,
                    withdrawn=False, **_site_values(row))
        if row.action == "update":
            site.id = plan.existing_ids[row.external_id]
            updates.append(site)
        else:
            creates.append(site)
    Site.objects.bulk_create(creates, batch_size=WRITE_BATCH)
    if updates:
        Site.objects.bulk_update(updates, [*SITE_FIELDS, "source_vintage", "upload", "withdrawn"], batch_size=500)
    counts = plan.counts
    return len(creates), len(updates), counts["skip"]


def _refuse_unless_importable(plan: Plan, only_valid: bool) -> None:
    if plan.errors and not only_valid:
        raise UploadRejected(
            _("%(n)d row(s) rejected, so nothing was imported: fix them, or import only the valid rows.") % {"n": plan.rows_rejected}
        )
    counts = plan.counts
    if counts["create"] + counts["update"] == 0:
        raise UploadRejected(_("Nothing to import: every row was rejected or skipped."))


def _upload_fields(parsed: ParsedFile, plan: Plan, data: bytes, file_name: str) -> dict[str, Any]:
    return {
        "file_name": file_name[:255],
        "file_format": parsed.file_format,
        "file_size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "crs": parsed.crs[:100],
        "rows_read": parsed.rows_read,
        "rows_valid": len(plan.sites),
        "rows_rejected": plan.rows_rejected,
        "errors": [e.as_dict() for e in plan.errors[:MAX_STORED_ERRORS]],
        "errors_total": len(plan.errors),
        "notes": parsed.notes,
    }


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    parsed: ParsedFile
    plan: Plan
    upload: SiteUpload | None
    created: int = 0
    updated: int = 0
    skipped: int = 0
    dry_run: bool = False

    @property
    def errors(self) -> list[RowError]:
        return self.plan.errors


def sites_import(
    *,
    data: bytes,
    file_name: str,
    source_name: str,
    user=None,
    on_duplicate: str = SiteUpload.OnDuplicate.ERROR,
    only_valid: bool = False,
    dry_run: bool = False,
    crs: str | None = None,
    area_unit: str | None = None,
) -> ImportResult:
    """Import a file of sites in one transaction, recording the upload.

    Parameters
    ----------
    data, file_name : bytes, str
        The file and its name (the extension picks the reader).
    source_name : str
        Where the sites come from; namespaces the external ids.
    on_duplicate : {"error", "update", "skip"}
        What to do with rows whose id was already imported for this source.
    only_valid : bool
        Import the valid rows even if others are rejected (default: all or nothing).
    dry_run : bool
        Read, check and plan, but write nothing.
    crs, area_unit : str, optional
        EPSG code for files that state none; unit (``ha``/``m2``) of a unit-less area column.

    Returns
    -------
    ImportResult

    Raises
    ------
    UploadRejected
        The file cannot be used, or (without ``only_valid``) some rows are rejected. Nothing
        is written. ``exc.result`` holds the ``ImportResult`` when rows were rejected.
    """
    parsed = _parse(data=data, file_name=file_name, source_name=source_name, crs=crs, area_unit=area_unit)
    plan = _plan(parsed.sites, parsed.errors, parsed.rows_read, source_name=source_name, on_duplicate=on_duplicate,
                 user=user)
    result = ImportResult(parsed=parsed, plan=plan, upload=None, dry_run=dry_run)
    try:
        _refuse_unless_importable(plan, only_valid)
    except UploadRejected as exc:
        exc.result = result  # type: ignore[attr-defined]
        raise
    if dry_run:
        counts = plan.counts
        result.created, result.updated, result.skipped = counts["create"], counts["update"], counts["skip"]
        return result
    try:
        with transaction.atomic():
            upload = SiteUpload.objects.create(
                status=SiteUpload.Status.IMPORTED, source_name=source_name[:100], on_duplicate=on_duplicate,
                only_valid=only_valid, uploaded_by=user if user is not None and user.is_authenticated else None,
                imported_at=timezone.now(), **_upload_fields(parsed, plan, data, file_name),
            )
            result.created, result.updated, result.skipped = _write(plan, upload)
            SiteUpload.objects.filter(id=upload.id).update(
                sites_created=result.created, sites_updated=result.updated, sites_skipped=result.skipped
            )
            transaction.on_commit(_sites_changed)
    except IntegrityError as exc:
        log.warning("upload %s: conflicting write: %s", file_name, exc)
        raise UploadRejected(_("Another import wrote the same sites meanwhile: nothing was saved; try again.")) from exc
    upload.refresh_from_db()
    result.upload = upload
    return result


# --- the web flow: stage, preview, confirm ---------------------------------------------------


def _pack(sites: pd.DataFrame) -> bytes:
    frame = sites.copy()
    frame["flood_zone"] = [np.nan if v is None else float(bool(v)) for v in frame["flood_zone"]]
    frame["reconverted"] = frame["reconverted"].astype(bool)
    frame["source_date"] = ["" if v is None else v.isoformat() for v in frame["source_date"]]
    return frames.frames_pack({"sites": frame})


def staged_sites(upload: SiteUpload) -> pd.DataFrame:
    """Return the parsed sites kept on a staged upload (empty once imported)."""
    if not upload.staged_sites:
        return pd.DataFrame(columns=["row", "external_id", "file_id", "name", "longitude", "latitude", "action"])
    frame = frames.frames_unpack(bytes(upload.staged_sites))[0]["sites"]
    frame["flood_zone"] = [None if np.isnan(v) else bool(v) for v in frame["flood_zone"].astype(float)]
    for col in ("row",):
        frame[col] = frame[col].astype(np.int64)
    return frame


def _staged_errors(upload: SiteUpload) -> list[RowError]:
    return [RowError(int(e["row"]), e["field"], e["value"], e["reason"]) for e in upload.errors]


def site_uploads_expire() -> int:
    """Delete staged uploads older than ``STAGED_TTL``; return how many."""
    deleted, _detail = SiteUpload.objects.filter(
        status=SiteUpload.Status.STAGED, uploaded_at__lt=timezone.now() - STAGED_TTL
    ).delete()
    return deleted


def site_upload_stage(
    *,
    data: bytes,
    file_name: str,
    source_name: str,
    user,
    on_duplicate: str = SiteUpload.OnDuplicate.ERROR,
    crs: str | None = None,
    area_unit: str | None = None,
) -> SiteUpload:
    """Read and check a file and keep the result for preview; nothing is imported yet.

    Raises :class:`UploadRejected` (and keeps nothing) when the file as a whole cannot be
    used. Rejected rows are kept in the staged upload's report.
    """
    site_uploads_expire()
    parsed = _parse(data=data, file_name=file_name, source_name=source_name, crs=crs, area_unit=area_unit)
    plan = _plan(parsed.sites, parsed.errors, parsed.rows_read, source_name=source_name, on_duplicate=on_duplicate,
                 user=user)
    counts = plan.counts
    return SiteUpload.objects.create(
        status=SiteUpload.Status.STAGED, source_name=source_name[:100], on_duplicate=on_duplicate,
        uploaded_by=user, staged_sites=_pack(plan.sites), sites_created=counts["create"],
        sites_updated=counts["update"], sites_skipped=counts["skip"], **_upload_fields(parsed, plan, data, file_name),
    )


def site_upload_confirm(*, upload: SiteUpload, user, only_valid: bool = False) -> SiteUpload:
    """Import a staged upload's sites, checking duplicates (and whose sites they are) again.

    Raises PermissionDenied unless ``user`` staged it or is an admin; :class:`UploadRejected`
    when the upload is no longer staged, when rows are rejected and ``only_valid`` is not
    set, or when nothing would be imported. Updates are judged by the rights of the analyst
    who staged the file: an admin confirming it does not widen what it may change.
    """
    roles.require_manage(user, upload.uploaded_by_id)
    try:
        with transaction.atomic():
            locked = SiteUpload.objects.select_for_update().filter(id=upload.id, status=SiteUpload.Status.STAGED).first()
            if locked is None:
                raise UploadRejected(_("This upload was already imported or discarded."))
            sites = staged_sites(locked)
            # Rows the stage refused as duplicates stay refused; new duplicates are found here.
            author = locked.uploaded_by if locked.uploaded_by_id is not None else user
            plan = _plan(sites.drop(columns=["action"]), _staged_errors(locked), locked.rows_read,
                         source_name=locked.source_name, on_duplicate=locked.on_duplicate, user=author)
            _refuse_unless_importable(plan, only_valid)
            created, updated, skipped = _write(plan, locked)
            transaction.on_commit(_sites_changed)
            SiteUpload.objects.filter(id=locked.id).update(
                status=SiteUpload.Status.IMPORTED, imported_at=timezone.now(), only_valid=only_valid, staged_sites=None,
                sites_created=created, sites_updated=updated, sites_skipped=skipped, rows_valid=len(plan.sites),
                rows_rejected=plan.rows_rejected, errors=[e.as_dict() for e in plan.errors[:MAX_STORED_ERRORS]],
                errors_total=locked.errors_total + len(plan.errors) - len(locked.errors),
            )
    except IntegrityError as exc:
        log.warning("upload %s: conflicting write: %s", upload.id, exc)
        raise UploadRejected(_("Another import wrote the same sites meanwhile: nothing was saved; try again.")) from exc
    upload.refresh_from_db()
    return upload


def site_upload_discard(*, upload: SiteUpload, user) -> bool:
    """Delete a staged upload (nothing was imported from it); return whether it was staged.

    Raises PermissionDenied unless ``user`` uploaded it or is an admin.
    """
    roles.require_manage(user, upload.uploaded_by_id)
    deleted, _detail = SiteUpload.objects.filter(id=upload.id, status=SiteUpload.Status.STAGED).delete()
    return bool(deleted)


@transaction.atomic
def site_upload_withdraw(*, upload: SiteUpload, user) -> int | None:
    """Withdraw an imported upload and its sites; return how many sites were withdrawn.

    Withdrawn sites stay in the database (runs that used them keep pointing at them) but are
    left out of new runs, maps and counts. Returns None, changing nothing, if the upload is
    not an imported one (staged, or already withdrawn).

    Raises PermissionDenied unless ``user`` uploaded it or is an admin (``user=None``: the
    command line).
    """
    roles.require_manage(user, upload.uploaded_by_id)
    claimed = SiteUpload.objects.filter(id=upload.id, status=SiteUpload.Status.IMPORTED).update(
        status=SiteUpload.Status.WITHDRAWN, withdrawn_at=timezone.now(),
        withdrawn_by=user if user is not None and user.is_authenticated else None,
    )
    if claimed != 1:
        return None
    n = Site.objects.filter(upload_id=upload.id, withdrawn=False).update(withdrawn=True)
    transaction.on_commit(_sites_changed)
    upload.refresh_from_db()
    return n


def _sites_changed() -> None:
    """Tell this process's dashboard caches that sites changed (others see it within seconds)."""
    from . import dashboard

    dashboard.site_attributes_forget()


def errors_csv(errors: list[RowError] | list[dict[str, Any]], *, total: int | None = None) -> str:
    """Return an error report as CSV text: row, field, value, reason (one line per error)."""
    buf = io.StringIO()
    writer = csv_safe.writer(buf, lineterminator="\n")
    writer.writerow(ERROR_CSV_HEADER)
    for e in errors:
        d = e.as_dict() if isinstance(e, RowError) else e
        writer.writerow([d["row"], d["field"], d["value"], d["reason"]])
    if total is not None and total > len(errors):
        writer.writerow(["", "", "", _("… and %(n)d more errors not kept") % {"n": total - len(errors)}])
    return buf.getvalue()
