"""The four roles of Gigasite, as Django groups.

- planner: browses ranked maps, site pages and runs; starts scenario runs.
- analyst: everything a planner does, plus uploading site files and managing uploads.
- official: everything a planner does, plus downloading PDF comparisons.
- admin: everything (and the Django admin when also staff).
"""

from __future__ import annotations

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
    from django.core.exceptions import PermissionDenied

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
