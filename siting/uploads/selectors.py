"""Reads for the upload pages: uploads a user may see, base-map outlines, runs that used withdrawn sites."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Q, QuerySet

from grid import selectors as grid_selectors
from grid.models import Boundary
from siting import accounts
from siting.frames import frames_unpack
from siting.models import RunInput, ScoringRun, Site, SiteUpload


def site_upload_list(*, user) -> QuerySet[SiteUpload]:
    """Return the uploads ``user`` may see, newest first: every imported or withdrawn upload,
    and staged ones of their own (all staged ones for an admin)."""
    qs = SiteUpload.objects.select_related("uploaded_by", "withdrawn_by").defer("staged_sites", "errors")
    if accounts.ADMIN in accounts.user_roles(user):
        return qs.order_by("-uploaded_at")
    return qs.filter(~Q(status=SiteUpload.Status.STAGED) | Q(uploaded_by=user)).order_by("-uploaded_at")


def source_names() -> list[str]:
    """Return the source names used by earlier uploads (to offer them again)."""
    return list(
        SiteUpload.objects.exclude(status=SiteUpload.Status.STAGED)
        .values_list("source_name", flat=True)
        .distinct()
        .order_by("source_name")
    )


def countries_outline_geojson(*, tolerance_deg: float = 0.02) -> dict[str, Any] | None:
    """Return the country outlines, simplified to ``tolerance_deg`` [degrees], as a GeoJSON
    FeatureCollection for the base map (None when none are loaded). Shared: do not modify."""
    return grid_selectors.boundary_outlines(Boundary.Kind.COUNTRY).simplified_geojson(tolerance_deg)


def run_withdrawn_sites(run: ScoringRun) -> dict[str, Any]:
    """Return how many of a run's input sites were withdrawn since, and by which uploads.

    A run's sites are those in its input snapshot (``RunInput``). Only sites withdrawn after
    the run was created can be among them, which keeps the common case to one small query.
    """
    candidates = dict(
        Site.objects.filter(withdrawn=True, upload__withdrawn_at__gt=run.created_at).values_list("id", "upload_id")
    )
    empty = {"n_sites": 0, "uploads": []}
    if not candidates:
        return empty

    payload = RunInput.objects.filter(run=run).values_list("payload", flat=True).first()
    if payload is None:
        return empty
    used = frames_unpack(bytes(payload))[0]["sites"]["site_id"].to_numpy(dtype=np.int64)
    hit = np.intersect1d(used, np.fromiter(candidates.keys(), dtype=np.int64))
    if not len(hit):
        return empty
    upload_ids = {candidates[int(i)] for i in hit}
    return {
        "n_sites": int(len(hit)),
        "uploads": list(SiteUpload.objects.filter(id__in=upload_ids).order_by("withdrawn_at")),
    }
