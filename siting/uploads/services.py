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

A new row within the conflation distance of a reference site (MODEL.md §1b,
``places.CONFLATION_DISTANCE_M``) is never silently a second site of that place:
``on_reference_match`` says whether it updates the reference site (``update``: the uploaded values
that are given replace the site's, a source record keeps the row and the values it replaced,
and withdrawing the upload puts them back), stays a ``separate`` candidate, or is an
``error``. The web preview lists the matches and asks; the command line takes an option.
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
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy.spatial import cKDTree

from grid import selectors as grid_selectors
from grid.models import Boundary
from siting import accounts, csv_safe, frames
from siting.importers.places import CONFLATION_DISTANCE_M, EARTH_RADIUS_M
from siting.importers.sites import (
    ParsedFile,
    PlaceLocator,
    RowError,
    UploadLimits,
    UploadRejected,
    geometry_geojson_dict,
    parse_sites_file,
    source_slug,
)
from siting.models import Site, SiteSource, SiteUpload, SourceRecord
from siting.sites import selectors as site_selectors

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 5_000
"""Errors kept on an upload row for the page and the CSV report; the count is always exact."""
STAGED_TTL = timedelta(hours=24)
"""Staged uploads never confirmed are deleted after this."""
WRITE_BATCH = 2_000

SITE_FIELDS = (
    "name",
    "country",
    "region_code",
    "departement_code",
    "municipality",
    "longitude",
    "latitude",
    "geometry_geojson",
    "area_ha",
    "former_use",
    "former_activity",
    "closure_year",
    "grid_capacity_mw",
    "grid_voltage_kv",
    "pollution_status",
    "flood_zone",
    "water_access",
    "reconverted",
    "source_status",
    "source_url",
    "source_date",
    "zoning_type",
)
"""Site fields an upload sets (plus ``external_id``, ``source``, ``source_vintage``, ``upload``)."""

ERROR_CSV_HEADER = ("row", "field", "value", "reason")

ON_REFERENCE_MATCH = ("update", "separate", "error")
"""What a new row within the conflation distance of a reference site does: update that site,
stay a separate candidate, or be rejected."""
MERGE_FIELDS = (
    "area_ha",
    "closure_year",
    "grid_capacity_mw",
    "grid_voltage_kv",
    "pollution_status",
    "flood_zone",
    "water_access",
    "reconverted",
    "zoning_type",
)
"""Reference-site fields an uploaded row may update (where it gives a value): what analysts
know better than the inventories. Identity (name, position, country, ids) stays the reference's."""
MATCH_COLUMNS = {"ref_site_id": -1, "ref_external_id": "", "ref_name": "", "ref_distance_m": np.nan}
"""Columns a plan adds to each row: the nearest reference site within the conflation distance."""


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
    """Return the country and département locators, built from the one outline cache
    (``grid.selectors.boundary_outlines``) and again only when it reads new outlines."""
    countries = grid_selectors.boundary_outlines(Boundary.Kind.COUNTRY)
    departements = grid_selectors.boundary_outlines(Boundary.Kind.DEPARTEMENT)
    key = (countries.version, departements.version)
    if _LOCATOR_CACHE.get("key") != key:
        _LOCATOR_CACHE.update(
            key=key,
            countries=PlaceLocator(list(zip(countries.codes, countries.geometries))),
            departements=PlaceLocator(list(zip(departements.codes, departements.geometries)), tolerance_deg=0.02),
            regions={code: parent for code, parent in zip(departements.codes, departements.parent_codes) if parent},
        )
    return _LOCATOR_CACHE["countries"], _LOCATOR_CACHE["departements"], _LOCATOR_CACHE["regions"]


def _parse(
    *, data: bytes, file_name: str, source_name: str, crs: str | None, area_unit: str | None, sheet: str | None = None
) -> ParsedFile:
    countries, departements, regions = _locators()
    return parse_sites_file(
        data,
        file_name,
        source_name=source_name,
        countries=countries,
        departements=departements,
        departement_regions=regions,
        limits=upload_limits(),
        crs=crs,
        area_unit=area_unit,
        tmp_dir=getattr(settings, "GIGASITE_UPLOAD_TMP_DIR", None),
        sheet=sheet,
    )


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])


def reference_matches(sites: pd.DataFrame) -> pd.DataFrame:
    """Return, per row, the nearest reference site within ``CONFLATION_DISTANCE_M`` (or none).

    Reference sites are those the reference loader wrote (not uploads) and not withdrawn.
    Distances are great-circle on a sphere of ``EARTH_RADIUS_M``, as the conflation measures
    them (``places``). Columns: :data:`MATCH_COLUMNS`.
    """

    n = len(sites)
    out = pd.DataFrame(
        {
            k: np.full(n, v, dtype=np.int64 if k == "ref_site_id" else (float if k == "ref_distance_m" else object))
            for k, v in MATCH_COLUMNS.items()
        }
    )
    if n == 0:
        return out
    lon = sites["longitude"].to_numpy(dtype=float)
    lat = sites["latitude"].to_numpy(dtype=float)
    margin_deg = 0.1  # well above 500 m at any European latitude; the tree does the exact test
    refs = list(
        Site.objects.filter(
            withdrawn=False,
            longitude__gte=np.nanmin(lon) - margin_deg,
            longitude__lte=np.nanmax(lon) + margin_deg,
            latitude__gte=np.nanmin(lat) - margin_deg,
            latitude__lte=np.nanmax(lat) + margin_deg,
        )
        .exclude(source=SiteSource.UPLOAD)
        .values_list("id", "external_id", "name", "longitude", "latitude")
    )
    if not refs:
        return out
    ids, ext, names, rlon, rlat = (np.asarray(c) for c in zip(*refs))
    chord = 2.0 * np.sin(CONFLATION_DISTANCE_M / (2.0 * EARTH_RADIUS_M))
    dist, idx = cKDTree(_unit_vectors(rlon.astype(float), rlat.astype(float))).query(
        _unit_vectors(lon, lat), distance_upper_bound=chord
    )
    hit = np.isfinite(dist)
    out.loc[hit, "ref_site_id"] = ids[idx[hit]].astype(np.int64)
    out.loc[hit, "ref_external_id"] = ext[idx[hit]]
    out.loc[hit, "ref_name"] = names[idx[hit]]
    out.loc[hit, "ref_distance_m"] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(dist[hit] / 2.0, 1.0))
    return out


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
        return {a: int((actions == a).sum()) for a in ("create", "update", "skip", "merge")}

    @property
    def reference_matches(self) -> pd.DataFrame:
        """The new rows that lie within the conflation distance of a reference site."""
        if not len(self.sites) or "ref_site_id" not in self.sites:
            return self.sites.iloc[0:0]
        return self.sites[(self.sites["ref_site_id"] >= 0) & self.sites["action"].isin(["create", "merge"])]


def _plan(
    sites: pd.DataFrame,
    errors: list[RowError],
    rows_read: int,
    *,
    source_name: str,
    on_duplicate: str,
    user,
    on_reference_match: str | None = "error",
) -> Plan:
    """Meet the parsed sites with the existing ones (by external id) and decide each row's action.

    Then new rows within the conflation distance of a reference site: ``on_reference_match``
    ``update`` makes them ``merge`` into it (one row per reference site), ``separate`` keeps them
    new, ``error`` rejects them, and None (a staged preview) only marks them for the choice.

    An update may only change sites ``user`` may manage (see ``roles.may_manage``: sites their
    own uploads brought, or any site for an admin); a row that would change someone else's
    site is rejected, so one analyst cannot rename or move another's sites.
    """
    if on_duplicate not in SiteUpload.OnDuplicate.values:
        raise UploadRejected(_("Choose what to do with sites already imported: error, update or skip."))
    slug = source_slug(source_name)
    rows = Site.objects.filter(external_id__startswith=f"{slug}:").values_list(
        "external_id", "id", "upload__uploaded_by_id"
    )
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
        refused = seen & ~np.array([accounts.may_manage(user, owners.get(e)) for e in sites["external_id"]], dtype=bool)
        reason = _("this site was imported by someone else: only they or an admin can update it")
    if refused.any():
        for row, file_id in zip(sites["row"][refused], sites["file_id"][refused]):
            errors.append(RowError(int(row), "external_id", str(file_id)[:100], reason))
        sites = sites[~refused].reset_index(drop=True)
        seen = seen[~refused]
        errors.sort(key=lambda e: (e.row, e.field))
    action = np.where(seen, "update" if on_duplicate == SiteUpload.OnDuplicate.UPDATE else "skip", "create")
    sites["action"] = action
    sites, errors = _plan_reference_matches(
        sites, errors, slug=slug, on_duplicate=on_duplicate, on_reference_match=on_reference_match
    )
    return Plan(sites=sites, errors=errors, rows_read=rows_read, existing_ids=existing)


def _plan_reference_matches(
    sites: pd.DataFrame, errors: list[RowError], *, slug: str, on_duplicate: str, on_reference_match: str | None
) -> tuple[pd.DataFrame, list[RowError]]:
    if on_reference_match is not None and on_reference_match not in ON_REFERENCE_MATCH:
        raise UploadRejected(
            _("Choose what to do with rows near a reference site: update it, keep them separate, or error.")
        )
    sites = sites.drop(columns=[c for c in MATCH_COLUMNS if c in sites.columns]).reset_index(drop=True)
    matches = reference_matches(sites)
    for col in MATCH_COLUMNS:
        sites[col] = matches[col].to_numpy()
    if not len(sites):
        return sites, errors
    errors = list(errors)
    refused: dict[int, tuple[str, str]] = {}  # position → (field, reason)
    # A row already merged into a reference site by an earlier upload of this source.
    merged_before = dict(
        SourceRecord.objects.filter(source=SiteSource.UPLOAD, record_id__startswith=f"{slug}:").values_list(
            "record_id", "site__name"
        )
    )
    for i in np.flatnonzero(sites["external_id"].isin(merged_before.keys()).to_numpy()):
        if on_duplicate == SiteUpload.OnDuplicate.SKIP:
            sites.loc[i, "action"] = "skip"
        else:
            refused[int(i)] = (
                "external_id",
                _("already imported as an update of the reference site “%(name)s”: withdraw that upload first")
                % {"name": merged_before[sites.loc[i, "external_id"]]},
            )
    near = (sites["action"] == "create").to_numpy() & (sites["ref_site_id"] >= 0).to_numpy()
    if on_reference_match == "error":
        for i in np.flatnonzero(near):
            refused[int(i)] = (
                "geometry",
                _(
                    "%(m).0f m from the reference site “%(name)s” (%(id)s): choose to update it or to keep "
                    "this row as a separate site"
                )
                % {
                    "m": sites.loc[i, "ref_distance_m"],
                    "name": sites.loc[i, "ref_name"],
                    "id": sites.loc[i, "ref_external_id"],
                },
            )
    elif on_reference_match == "update":
        first_row: dict[int, int] = {}
        for i in np.flatnonzero(near):
            ref = int(sites.loc[i, "ref_site_id"])
            if ref in first_row:
                refused[int(i)] = (
                    "geometry",
                    _("the reference site “%(name)s” is already updated by row %(row)d of this file")
                    % {"name": sites.loc[i, "ref_name"], "row": first_row[ref]},
                )
            else:
                first_row[ref] = int(sites.loc[i, "row"])
                sites.loc[i, "action"] = "merge"
    if refused:
        for i, (field_name, reason) in refused.items():  # type: ignore[assignment]
            value = (
                f"{sites.loc[i, 'longitude']:.5f}, {sites.loc[i, 'latitude']:.5f}"
                if field_name == "geometry"
                else str(sites.loc[i, "file_id"])[:100]
            )
            errors.append(RowError(int(sites.loc[i, "row"]), field_name, value, reason))
        keep = ~np.isin(np.arange(len(sites)), list(refused))
        sites = sites[keep].reset_index(drop=True)
        errors.sort(key=lambda e: (e.row, e.field))
    return sites, errors


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


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _given(name: str, v: Any) -> bool:
    """Tell whether an uploaded value says something (blank cells become NaN, None or the default)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return False
    if name in ("pollution_status", "water_access"):
        return v != "unknown"
    if name == "reconverted":
        return bool(v)
    return v != ""


def _merge(plan: Plan, upload: SiteUpload) -> int:
    """Apply the ``merge`` rows to their reference sites, each with a source record that keeps
    what it replaced (for withdrawal); return how many reference sites were updated."""
    merges = plan.sites[plan.sites["action"] == "merge"] if len(plan.sites) else plan.sites
    if not len(merges):
        return 0
    targets = Site.objects.select_for_update().in_bulk([int(i) for i in merges["ref_site_id"]])
    changed, records = [], []
    for row in merges.itertuples(index=False):
        site = targets.get(int(row.ref_site_id))
        if site is None or site.withdrawn:
            raise UploadRejected(
                _("A reference site this upload would update was removed meanwhile: nothing was saved; try again.")
            )
        values = _site_values(row)
        previous, applied = {}, {}
        for name in MERGE_FIELDS:
            new = values[name]
            if _given(name, new) and getattr(site, name) != new:
                previous[name], applied[name] = _json_value(getattr(site, name)), _json_value(new)
                setattr(site, name, new)
        changed.append(site)
        records.append(
            SourceRecord(
                site=site,
                source=SiteSource.UPLOAD,
                record_id=row.external_id[:100],
                name=str(row.name)[:300],
                vintage=upload.source_name[:64],
                url=str(row.source_url)[:300],
                longitude=float(row.longitude),
                latitude=float(row.latitude),
                status=str(row.source_status)[:64],
                capacity_mw=values["grid_capacity_mw"],
                closure_year=values["closure_year"],
                former_use=row.former_use or "other",
                raw={
                    "upload_id": upload.id,
                    "upload": str(upload.code),
                    "row": int(row.row),
                    "distance_m": round(float(row.ref_distance_m), 1),
                    "previous": previous,
                    "applied": applied,
                },
            )
        )
    Site.objects.bulk_update(changed, list(MERGE_FIELDS), batch_size=500)
    SourceRecord.objects.bulk_create(records, batch_size=WRITE_BATCH)
    return len(changed)


def _column_values(sites: pd.DataFrame) -> dict[str, list[Any]]:
    """Return the Site field values of every row, column by column (as ``_site_values`` gives
    them for one row): NaN → None, whole years as int, flags as bool, dates parsed."""
    out: dict[str, list[Any]] = {}
    for name in SITE_FIELDS:
        column = sites[name]
        values: list[Any]
        if name == "geometry_geojson":
            values = [geometry_geojson_dict(v) for v in column.tolist()]
        elif name in ("area_ha", "grid_capacity_mw", "grid_voltage_kv", "closure_year"):
            numbers = column.to_numpy(dtype=np.float64)
            finite = np.isfinite(numbers)
            # Years as whole numbers; missing ones (NaN) become None below, never cast.
            cast = np.where(finite, numbers, 0).astype(np.int64) if name == "closure_year" else numbers
            values = [v if f else None for v, f in zip(cast.tolist(), finite.tolist())]
        elif name == "flood_zone":
            values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v) for v in column.tolist()]
        elif name == "source_date":
            values = [date.fromisoformat(v) if isinstance(v, str) and v else (v or None) for v in column.tolist()]
        elif name == "reconverted":
            values = column.to_numpy(dtype=bool).tolist()
        else:
            values = column.tolist()
        out[name] = values
    return out


def _insert_sites(sites: pd.DataFrame, upload: SiteUpload) -> int:
    """Insert ``sites`` as new Site rows of ``upload``; return how many.

    Same rows as ``Site.objects.bulk_create`` of model instances would write (every other field
    takes its model default), without building 100,000 instances and compiling every value
    through the ORM, which took three quarters of a large import.
    """

    n = len(sites)
    if not n:
        return 0
    given = _column_values(sites)
    given.update(external_id=sites["external_id"].tolist())
    constant = {
        "source": SiteSource.UPLOAD,
        "source_vintage": upload.source_name[:64],
        "upload": upload.id,
        "withdrawn": False,
    }
    fields = [f for f in Site._meta.concrete_fields if not f.primary_key]
    names: list[str] = []
    columns: list[list[Any] | object] = []
    for f in fields:
        assert f.column is not None  # a concrete field has a column
        names.append(connection.ops.quote_name(f.column))
        if f.name not in given:  # one value for every row
            columns.append(constant[f.name] if f.name in constant else f.get_default())
            continue
        values = given[f.name]
        if f.get_internal_type() == "JSONField":  # the backend's own adaptation (JSON text on SQLite)
            values = [None if v is None else f.get_db_prep_save(v, connection) for v in values]
        elif f.get_internal_type() == "DateField":  # a file holds few distinct dates: adapt each once
            adapted = {v: f.get_db_prep_save(v, connection) for v in set(values) if v is not None}
            values = [None if v is None else adapted[v] for v in values]
        columns.append(values)
    per_row = [c if isinstance(c, list) else [c] * n for c in columns]
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Site._meta.db_table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    rows = list(zip(*per_row))
    # One prepared statement, many rows: SQLite reuses it, psycopg 3 pipelines it.
    with connection.cursor() as cursor:
        for start in range(0, n, WRITE_BATCH):
            cursor.executemany(sql, rows[start : start + WRITE_BATCH])
    return n


def _write(plan: Plan, upload: SiteUpload) -> tuple[int, int, int, int]:
    """Create and update the planned sites under ``upload`` and merge rows into reference sites;
    return created, updated, skipped, merged."""
    vintage = upload.source_name[:64]
    actions = plan.sites["action"].to_numpy() if len(plan.sites) else np.zeros(0, dtype=object)
    created = _insert_sites(plan.sites[actions == "create"], upload)
    updates = []
    for row in plan.sites[actions == "update"].itertuples(index=False):
        site = Site(
            external_id=row.external_id,
            source=SiteSource.UPLOAD,
            source_vintage=vintage,
            upload=upload,
            withdrawn=False,
            **_site_values(row),
        )
        site.id = plan.existing_ids[row.external_id]
        updates.append(site)
    if updates:
        Site.objects.bulk_update(updates, [*SITE_FIELDS, "source_vintage", "upload", "withdrawn"], batch_size=500)
    merged = _merge(plan, upload)
    counts = plan.counts
    return created, len(updates), counts["skip"], merged


def _refuse_unless_importable(plan: Plan, only_valid: bool) -> None:
    if plan.errors and not only_valid:
        raise UploadRejected(
            _("%(n)d row(s) rejected, so nothing was imported: fix them, or import only the valid rows.")
            % {"n": plan.rows_rejected}
        )
    counts = plan.counts
    if counts["create"] + counts["update"] + counts["merge"] == 0:
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


def _match_notes(plan: Plan, on_reference_match: str | None) -> list[str]:
    """Return a note on the rows that lie near reference sites, and what was done with them."""
    n_merge = plan.counts["merge"]
    matches = plan.reference_matches
    n_separate = int((matches["action"] == "create").sum()) if len(matches) else 0
    notes = []
    if n_merge:
        notes.append(
            _(
                "%(n)d row(s) updated the reference site within %(m).0f m of them (withdrawing the upload restores "
                "what they replaced)."
            )
            % {"n": n_merge, "m": CONFLATION_DISTANCE_M}
        )
    if n_separate and on_reference_match == "separate":
        notes.append(
            _("%(n)d row(s) within %(m).0f m of a reference site were kept as separate sites, as chosen.")
            % {"n": n_separate, "m": CONFLATION_DISTANCE_M}
        )
    return notes


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    parsed: ParsedFile
    plan: Plan
    upload: SiteUpload | None
    created: int = 0
    updated: int = 0
    skipped: int = 0
    merged: int = 0  # reference sites updated (``on_reference_match="update"``)
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
    sheet: str | None = None,
    on_reference_match: str = "error",
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
    sheet : str, optional
        The sheet of a workbook (XLSX, ODS) that holds several.
    on_reference_match : {"error", "update", "separate"}
        New rows within the conflation distance of a reference site: rejected (default), an
        update of that site, or a separate candidate.

    Returns
    -------
    ImportResult

    Raises
    ------
    UploadRejected
        The file cannot be used, or (without ``only_valid``) some rows are rejected. Nothing
        is written. ``exc.result`` holds the ``ImportResult`` when rows were rejected.
    """
    parsed = _parse(data=data, file_name=file_name, source_name=source_name, crs=crs, area_unit=area_unit, sheet=sheet)
    plan = _plan(
        parsed.sites,
        parsed.errors,
        parsed.rows_read,
        source_name=source_name,
        on_duplicate=on_duplicate,
        user=user,
        on_reference_match=on_reference_match,
    )
    result = ImportResult(parsed=parsed, plan=plan, upload=None, dry_run=dry_run)
    try:
        _refuse_unless_importable(plan, only_valid)
    except UploadRejected as exc:
        exc.result = result  # type: ignore[attr-defined]
        raise
    if dry_run:
        counts = plan.counts
        result.created, result.updated, result.skipped = counts["create"], counts["update"], counts["skip"]
        result.merged = counts["merge"]
        return result
    try:
        with transaction.atomic():
            upload = SiteUpload.objects.create(
                status=SiteUpload.Status.IMPORTED,
                source_name=source_name[:100],
                on_duplicate=on_duplicate,
                only_valid=only_valid,
                uploaded_by=user if user is not None and user.is_authenticated else None,
                imported_at=timezone.now(),
                **_upload_fields(parsed, plan, data, file_name),
            )
            result.created, result.updated, result.skipped, result.merged = _write(plan, upload)
            SiteUpload.objects.filter(id=upload.id).update(
                sites_created=result.created,
                sites_updated=result.updated + result.merged,
                sites_skipped=result.skipped,
                notes=[*parsed.notes, *_match_notes(plan, on_reference_match)],
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
    for col, default in (("zoning_type", ""), *MATCH_COLUMNS.items()):  # staged before these columns existed
        if col not in frame.columns:
            frame[col] = default
    frame["ref_site_id"] = frame["ref_site_id"].astype(np.int64)
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
    sheet: str | None = None,
) -> SiteUpload:
    """Read and check a file and keep the result for preview; nothing is imported yet.

    Raises :class:`UploadRejected` (and keeps nothing) when the file as a whole cannot be
    used (:class:`~siting.importers.sites.SheetChoiceNeeded` when a workbook's sheet must be
    chosen). Rejected rows are kept in the staged upload's report; rows near a reference site
    are marked, and the choice is asked for at confirmation.
    """
    site_uploads_expire()
    parsed = _parse(data=data, file_name=file_name, source_name=source_name, crs=crs, area_unit=area_unit, sheet=sheet)
    plan = _plan(
        parsed.sites,
        parsed.errors,
        parsed.rows_read,
        source_name=source_name,
        on_duplicate=on_duplicate,
        user=user,
        on_reference_match=None,
    )
    counts = plan.counts
    return SiteUpload.objects.create(
        status=SiteUpload.Status.STAGED,
        source_name=source_name[:100],
        on_duplicate=on_duplicate,
        uploaded_by=user,
        staged_sites=_pack(plan.sites),
        sites_created=counts["create"],
        sites_updated=counts["update"],
        sites_skipped=counts["skip"],
        **_upload_fields(parsed, plan, data, file_name),
    )


def site_upload_confirm(
    *, upload: SiteUpload, user, only_valid: bool = False, on_reference_match: str | None = None
) -> SiteUpload:
    """Import a staged upload's sites, checking duplicates (and whose sites they are) again.

    Rows near a reference site are found again; if there are any, ``on_reference_match``
    (``update`` or ``separate``) must say what to do with them, else :class:`UploadRejected`.

    Raises PermissionDenied unless ``user`` staged it or is an admin; :class:`UploadRejected`
    when the upload is no longer staged, when rows are rejected and ``only_valid`` is not
    set, or when nothing would be imported. Updates are judged by the rights of the analyst
    who staged the file: an admin confirming it does not widen what it may change.
    """
    accounts.require_manage(user, upload.uploaded_by_id)
    try:
        with transaction.atomic():
            locked = (
                SiteUpload.objects.select_for_update().filter(id=upload.id, status=SiteUpload.Status.STAGED).first()
            )
            if locked is None:
                raise UploadRejected(_("This upload was already imported or discarded."))
            sites = staged_sites(locked)
            # Rows the stage refused as duplicates stay refused; new duplicates are found here.
            author = locked.uploaded_by if locked.uploaded_by_id is not None else user
            choice = on_reference_match if on_reference_match in ("update", "separate") else None
            plan = _plan(
                sites.drop(columns=["action"]),
                _staged_errors(locked),
                locked.rows_read,
                source_name=locked.source_name,
                on_duplicate=locked.on_duplicate,
                user=author,
                on_reference_match=choice,
            )
            if choice is None and len(plan.reference_matches):
                raise UploadRejected(
                    _(
                        "%(n)d row(s) lie within %(m).0f m of a reference site: choose whether they update it or stay separate sites."
                    )
                    % {"n": len(plan.reference_matches), "m": CONFLATION_DISTANCE_M}
                )
            _refuse_unless_importable(plan, only_valid)
            created, updated, skipped, merged = _write(plan, locked)
            transaction.on_commit(_sites_changed)
            SiteUpload.objects.filter(id=locked.id).update(
                status=SiteUpload.Status.IMPORTED,
                imported_at=timezone.now(),
                only_valid=only_valid,
                staged_sites=None,
                sites_created=created,
                sites_updated=updated + merged,
                sites_skipped=skipped,
                rows_valid=len(plan.sites),
                notes=[*locked.notes, *_match_notes(plan, choice)],
                rows_rejected=plan.rows_rejected,
                errors=[e.as_dict() for e in plan.errors[:MAX_STORED_ERRORS]],
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
    accounts.require_manage(user, upload.uploaded_by_id)
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
    accounts.require_manage(user, upload.uploaded_by_id)
    claimed = SiteUpload.objects.filter(id=upload.id, status=SiteUpload.Status.IMPORTED).update(
        status=SiteUpload.Status.WITHDRAWN,
        withdrawn_at=timezone.now(),
        withdrawn_by=user if user is not None and user.is_authenticated else None,
    )
    if claimed != 1:
        return None
    n = Site.objects.filter(upload_id=upload.id, withdrawn=False).update(withdrawn=True)
    restored = _unmerge(upload)
    if restored:
        SiteUpload.objects.filter(id=upload.id).update(
            notes=[
                *upload.notes,
                _("Withdrawn: %(n)d reference site(s) it had updated got their previous values back.")
                % {"n": restored},
            ]
        )
    transaction.on_commit(_sites_changed)
    upload.refresh_from_db()
    return n


def _unmerge(upload: SiteUpload) -> int:
    """Give the reference sites ``upload`` updated their previous values back; return how many.

    A field goes back only if it still holds the value this upload gave it: a later upload's
    (or a reload's) value is not overwritten. The upload's source records are deleted.
    """
    records = list(
        SourceRecord.objects.select_related("site").filter(source=SiteSource.UPLOAD, raw__upload_id=upload.id)
    )
    for record in records:
        site, raw = record.site, record.raw or {}
        fields = []
        for name, value in (raw.get("applied") or {}).items():
            if name in MERGE_FIELDS and _json_value(getattr(site, name)) == value:
                previous = raw.get("previous", {}).get(name)
                setattr(site, name, previous)
                fields.append(name)
        if fields:
            site.save(update_fields=fields)
    SourceRecord.objects.filter(id__in=[r.id for r in records]).delete()
    return len(records)


def _sites_changed() -> None:
    """Tell this process's dashboard caches that sites changed (others see it within seconds)."""
    site_selectors.site_attributes_forget()


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
