"""Known headroom uploads: reads (who may see which upload).

The writes (plan, import, withdraw) are in ``siting.uploads.headroom_imports``; the provenance
of the known values the engine uses is a grid read (``grid.selectors.known_headroom_provenance``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from grid.models import HeadroomUpload
from siting import accounts


def headroom_upload_list(*, user) -> QuerySet[HeadroomUpload]:
    """Return the headroom uploads ``user`` may see: their own; an admin's, all (``siting.accounts``)."""
    uploads = HeadroomUpload.objects.select_related("uploaded_by", "withdrawn_by").order_by("-uploaded_at")
    if user is None or accounts.is_admin(user):
        return uploads
    if not user.is_authenticated:
        return uploads.none()
    return uploads.filter(uploaded_by=user)
