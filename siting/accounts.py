"""Accounts: the four roles of Gigasite (Django groups), who may manage what, and the demo users.

- planner: browses ranked maps, site pages and runs; starts scenario runs.
- analyst: everything a planner does, plus uploading site files and managing uploads.
- official: everything a planner does, plus downloading PDF comparisons.
- admin: everything (and the Django admin when also staff).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

PLANNER = "planner"
ANALYST = "analyst"
OFFICIAL = "official"
ADMIN = "admin"
ROLES = (PLANNER, ANALYST, OFFICIAL, ADMIN)


def user_roles(user) -> set[str]:
    """Return the role names a user holds; a superuser holds them all."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def has_role(user, *roles: str) -> bool:
    """Tell whether the user holds any of ``roles`` (admin holds every role)."""
    held = user_roles(user)
    return ADMIN in held or bool(held.intersection(roles))


# --- ownership: who may change (or, for private objects, see) one upload, site or report -------
#
# One rule for every object a user creates (site uploads, the sites they bring, PDF
# comparisons): its owner or an admin. Services apply it, so pages, API and commands cannot
# drift apart. ``user=None`` is the command line (an operator with a shell, who could edit the
# database anyway); a web request always passes ``request.user``, which is never None.


def shares_team(user, owner_id: int | None) -> bool:
    """Tell whether ``user`` works in the same team as the owner (officials and analysts of one team).

    Teams do not exist yet: every object is its owner's. This is the one place to widen the
    rule when they do.
    """
    return False


def may_manage(user, owner_id: int | None) -> bool:
    """Tell whether ``user`` may act on an object owned by the user with id ``owner_id``.

    Owner or admin (or, later, a member of the owner's team). An object without an owner
    (its user was deleted, or the command line made it) is the admins' alone.
    """
    if user is None:
        return True  # the command line
    if not user.is_authenticated:
        return False
    if ADMIN in user_roles(user):
        return True
    return owner_id is not None and (owner_id == user.pk or shares_team(user, owner_id))


def require_manage(user, owner_id: int | None) -> None:
    """Raise PermissionDenied unless :func:`may_manage` allows ``user`` to act on the object."""

    if not may_manage(user, owner_id):
        raise PermissionDenied


def is_admin(user) -> bool:
    """Tell whether ``user`` holds the admin role (superusers do)."""
    return ADMIN in user_roles(user)


def error_shown(user, detail: str, message: str) -> str:
    """Return what a page may show of a failure: ``detail`` to admins, ``message`` to others.

    ``detail`` is what the worker recorded (exception text, host names); it is also in the
    log. Everyone else reads a message written for them; nothing when there is no failure.
    """
    if not detail:
        return ""
    return detail if is_admin(user) else message


# --- demo users: the admin and one user per role (``ensure_demo_users``) --------------------

DEMO_USERS = (
    ("admin", ADMIN),
    ("planner", PLANNER),
    ("analyst", ANALYST),
    ("official", OFFICIAL),
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
        username = os.environ.get("GIGASITE_ADMIN_USER", default_name) if role == ADMIN else default_name
        if role == ADMIN and os.environ.get("GIGASITE_ADMIN_PASSWORD"):
            password = _validated_admin_password(username, os.environ["GIGASITE_ADMIN_PASSWORD"])
        else:
            password = stored.get(username) or secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.is_staff = user.is_superuser = role == ADMIN
            user.save()
            user.groups.add(Group.objects.get(name=role))
        stored[username] = password
        result.append(DemoCredential(username=username, password=password, role=role, created=created))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return result


# --- the one role guard ------------------------------------------------------------------------


def require_role(user, *roles: str) -> None:
    """Raise PermissionDenied unless ``user`` holds one of ``roles`` (any role when none is given).

    Admins hold every role. Views use :func:`role_required`; helpers that fetch an object for a
    user call this first.
    """
    if not has_role(user, *(roles or ROLES)):
        raise PermissionDenied


def role_required(*roles: str):
    """Decorate a view: 403 unless the user holds one of ``roles`` (any role when none is given).

    Place it right above the function, under ``@login_required`` and the method decorators, so
    anonymous users still go to the login page and a wrong method still answers 405 first.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
