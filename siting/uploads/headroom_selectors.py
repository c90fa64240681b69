"""Known headroom uploads: reads (who may see which upload; the provenance of known values).

The writes (plan, import, withdraw) are in ``siting.uploads.headroom_imports``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from grid.models import HeadroomUpload, KnownHeadroom
from siting import accounts


def headroom_upload_list(*, user) -> QuerySet[HeadroomUpload]:
    """Return the headroom uploads ``user`` may see: their own; an admin's, all (``siting.accounts``)."""
    uploads = HeadroomUpload.objects.select_related("uploaded_by", "withdrawn_by").order_by("-uploaded_at")
    if user is None or accounts.is_admin(user):
        return uploads
    if not user.is_authenticated:
        return uploads.none()
    return uploads.filter(uploaded_by=user)


def known_headroom_provenance(point_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return, per point, the provenance of its current known headroom (the latest imported upload's)."""
    out: dict[int, dict[str, Any]] = {}
    rows = (
        KnownHeadroom.objects.filter(point_id__in=point_ids, upload__status=HeadroomUpload.Status.IMPORTED)
        .select_related("upload")
        .order_by("point_id", "-upload__uploaded_at")
    )
    for v in rows:
        out.setdefault(
            v.point_id,
            {
                "headroom_mw": v.headroom_mw,
                "as_of": v.as_of,
                "source": v.source or v.upload.source_name,
                "upload": v.upload.source_name,
                "upload_code": str(v.upload.code),
            },
        )
    return out
