"""The known-headroom upload pages' preview: a checked file kept until its analyst confirms or discards it.

The command line checks a file (``import_headroom --dry-run``) then imports it; the pages do
the same with the same service (``siting.uploads.headroom_imports.headroom_import``), so between the
two requests the file waits here, in a private folder under ``VAR_DIR`` (never served), with
what the dry run found. Confirming reads the very bytes again (their SHA-256 is checked) and
imports them only if they still match the same points with the same values; all or nothing.

A preview is its analyst's (an admin may act on it too) and lives ``STAGED_TTL`` at most.
Confirming gives the new upload the preview's token as its code, so a second confirmation of
one preview (a double click, two tabs) imports nothing more. The files go once the database
has committed, so a request rolled back leaves the preview as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import GridConnectionPoint, HeadroomUpload
from siting import accounts
from siting.importers.sites import UploadRejected
from siting.uploads.headroom_imports import headroom_import, plan_digest
from siting.uploads.services import STAGED_TTL, upload_limits

SHOWN_VALUES = 200
"""Matched rows a preview keeps to show; the counts cover them all."""


def staging_dir() -> Path:
    """Return the folder of the previews (``GIGASITE_HEADROOM_STAGING_DIR``, else ``VAR_DIR/headroom_staged``)."""
    configured = getattr(settings, "GIGASITE_HEADROOM_STAGING_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "headroom_staged"


@dataclass
class StagedHeadroom:
    """A checked file awaiting confirmation, and what its dry run found."""

    token: str
    owner_id: int | None
    file_name: str
    source_name: str
    match_distance_km: float
    sheet: str | None
    sha256: str
    digest: str
    staged_at: str  # ISO 8601
    rows_read: int
    n_by_id: int
    n_by_position: int
    notes: list[str] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)  # the first SHOWN_VALUES rows

    @property
    def n_values(self) -> int:
        return self.n_by_id + self.n_by_position


def _paths(token: str) -> tuple[Path, Path]:
    base = staging_dir() / str(UUID(token))  # a UUID, never a path from the request
    return base.with_suffix(".bin"), base.with_suffix(".json")


def _remove(token: str) -> None:
    for path in _paths(token):
        path.unlink(missing_ok=True)


def headroom_staged_expire() -> int:
    """Delete previews older than ``STAGED_TTL``; return how many."""
    folder = staging_dir()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - STAGED_TTL.total_seconds()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += path.suffix == ".json"
        except OSError:
            continue  # removed meanwhile by another process
    return removed


def _preview_values(values, limit: int) -> list[dict[str, Any]]:
    shown = values.head(limit)
    now = GridConnectionPoint.objects.in_bulk([int(p) for p in shown["point_id"]])
    rows = []
    for r in shown.itertuples(index=False):
        point = now[int(r.point_id)]
        rows.append(
            {
                "row": int(r.row),
                "point_external_id": r.point_external_id,
                "point_name": r.point_name,
                "headroom_mw": float(r.headroom_mw),
                "as_of": r.as_of.isoformat() if r.as_of is not None else "",
                "source": r.source,
                "matched_by": r.matched_by,
                "distance_km": None if r.distance_km != r.distance_km else float(r.distance_km),
                "known_now_mw": point.headroom_mw,
                "estimate_now_mw": point.headroom_estimate_mw,
            }
        )
    return rows


def headroom_stage(
    *, data: bytes, file_name: str, source_name: str, user, match_distance_km: float = 0.0, sheet: str | None = None
) -> StagedHeadroom:
    """Dry-run a file of known headroom and keep it for the analyst to confirm; nothing is imported.

    Raises :class:`UploadRejected` (``exc.plan`` holds the rejected rows) like ``headroom_import``.
    """
    headroom_staged_expire()
    result = headroom_import(
        data=data,
        file_name=file_name,
        source_name=source_name,
        user=user,
        match_distance_km=match_distance_km,
        sheet=sheet,
        dry_run=True,
        limits=upload_limits(),
    )
    values = result.plan.values
    staged = StagedHeadroom(
        token=str(uuid.uuid4()),
        owner_id=user.pk,
        file_name=file_name[:255],
        source_name=source_name[:100],
        match_distance_km=match_distance_km,
        sheet=sheet,
        sha256=hashlib.sha256(data).hexdigest(),
        digest=plan_digest(result.plan),
        staged_at=timezone.now().isoformat(),
        rows_read=result.plan.rows_read,
        n_by_id=int((values["matched_by"] == "id").sum()),
        n_by_position=int((values["matched_by"] == "position").sum()),
        notes=[str(n) for n in result.plan.notes],
        values=_preview_values(values, SHOWN_VALUES),
    )
    folder = staging_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_path, meta_path = _paths(staged.token)
    data_path.write_bytes(data)
    # The description last, by rename: a preview is listed only once both files are whole.
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(staged)), encoding="utf-8")
    os.replace(tmp, meta_path)
    return staged


def headroom_staged_get(*, token: UUID | str, user) -> StagedHeadroom | None:
    """Return the preview if it exists and ``user`` may act on it (its analyst or an admin), else None."""
    _data_path, meta_path = _paths(str(token))
    try:
        staged = StagedHeadroom(**json.loads(meta_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if not accounts.may_manage(user, staged.owner_id):
        return None
    return staged


def headroom_staged_discard(*, staged: StagedHeadroom) -> None:
    """Forget a preview (once the database commits)."""
    transaction.on_commit(lambda: _remove(staged.token))


def headroom_staged_confirm(*, staged: StagedHeadroom, user) -> HeadroomUpload:
    """Import a preview's file, all or nothing, as its analyst's upload; return the upload.

    ``user`` must be allowed to act on the preview (``headroom_staged_get`` checked it). A
    preview confirmed already returns its upload. Raises :class:`UploadRejected` (and forgets
    the preview) when the file now reads otherwise than it did.
    """
    accounts.require_manage(user, staged.owner_id)
    code = UUID(staged.token)
    done = HeadroomUpload.objects.filter(code=code).first()
    if done is not None:
        return done
    data_path, _meta = _paths(staged.token)
    try:
        data = data_path.read_bytes()
    except OSError:
        data = b""
    if hashlib.sha256(data).hexdigest() != staged.sha256:
        headroom_staged_discard(staged=staged)
        raise UploadRejected(_("The previewed file is no longer here: upload it again."))
    owner = get_user_model().objects.filter(pk=staged.owner_id).first() if staged.owner_id is not None else None
    try:
        result = headroom_import(
            data=data,
            file_name=staged.file_name,
            source_name=staged.source_name,
            user=owner,
            match_distance_km=staged.match_distance_km,
            sheet=staged.sheet,
            limits=upload_limits(),
            code=code,
            expected_digest=staged.digest,
        )
    except IntegrityError:
        # Another request confirmed this preview meanwhile: its upload is the one.
        done = HeadroomUpload.objects.filter(code=code).first()
        if done is None:
            raise
        return done
    except UploadRejected:
        headroom_staged_discard(staged=staged)
        raise
    headroom_staged_discard(staged=staged)
    return result.upload  # type: ignore[return-value]  # not a dry run: always an upload
