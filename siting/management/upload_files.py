"""What the upload commands (``import_sites``, ``import_headroom``) share: reading the file an
analyst names, within the upload size limit, and finding the user recorded as the uploader."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def upload_file_path(name: str) -> Path:
    """Return the path of an existing file no larger than ``GIGASITE_UPLOAD_MAX_BYTES``."""
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    if path.stat().st_size > settings.GIGASITE_UPLOAD_MAX_BYTES:
        raise CommandError(
            f"{path.name}: larger than {settings.GIGASITE_UPLOAD_MAX_BYTES / 1e6:.0f} MB (GIGASITE_UPLOAD_MAX_BYTES)."
        )
    return path


def uploader(username: str | None):
    """Return the user named ``username`` (None for none given)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--user {username}: no such user.")
    return user
