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
