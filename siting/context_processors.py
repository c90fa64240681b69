"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from siting.accounts import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    """Expose the user's roles, sorted, so templates can show and hide actions."""
    held = sorted(user_roles(request.user)) if hasattr(request, "user") else []
    return {"user_roles": held}
