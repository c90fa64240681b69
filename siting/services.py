"""Writes for the siting app: accounts now; imports and scoring runs join later."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction

from . import roles

DEMO_USERS = (
    ("admin", roles.ADMIN),
    ("planner", roles.PLANNER),
    ("analyst", roles.ANALYST),
    ("official", roles.OFFICIAL),
)


@dataclass(frozen=True)
class DemoCredential:
    username: str
    password: str
    role: str
    created: bool


def _credentials_file() -> Path:
    return Path(settings.LOCAL_DIR) / "demo_credentials.json"


class WeakPassword(ValueError):
    """The admin password from the environment fails Django's password validators."""


def _validated_admin_password(username: str, password: str) -> str:
    """Return ``password`` if Django's validators (``AUTH_PASSWORD_VALIDATORS``) accept it for ``username``.

    Raises WeakPassword listing every reason, so the operator can fix ``GIGASITE_ADMIN_PASSWORD``.
    """
    try:
        password_validation.validate_password(password, user=User(username=username))
    except ValidationError as exc:
        raise WeakPassword(
            "GIGASITE_ADMIN_PASSWORD is refused by the password validators: " + " ".join(exc.messages)
        ) from None
    return password


@transaction.atomic
def demo_users_ensure() -> list[DemoCredential]:
    """Create the demo admin and one user per role, once.

    Passwords come from ``GIGASITE_ADMIN_PASSWORD`` (admin) or are generated and kept in
    ``.local/demo_credentials.json`` (untracked, mode 600), so they are never in the repo.
    The admin's name may be set with ``GIGASITE_ADMIN_USER``. Existing users are left alone.

    Raises WeakPassword, creating no one, when the admin password from the environment fails
    the password validators (generated passwords pass them: 16 random characters).
    """
    path = _credentials_file()
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    result = []
    for default_name, role in DEMO_USERS:
        username = os.environ.get("GIGASITE_ADMIN_USER", default_name) if role == roles.ADMIN else default_name
        if role == roles.ADMIN and os.environ.get("GIGASITE_ADMIN_PASSWORD"):
            password = _validated_admin_password(username, os.environ["GIGASITE_ADMIN_PASSWORD"])
        else:
            password = stored.get(username) or secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.is_staff = user.is_superuser = role == roles.ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=role))
        stored[username] = password
        result.append(DemoCredential(username=username, password=password, role=role, created=created))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return result
