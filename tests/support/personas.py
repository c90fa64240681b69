"""Users with a role, and clients logged in as them; the fixtures in tests/conftest.py use these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client


def user_create(name: str, role: str | None, **extra: Any) -> User:
    """Create a user ``name`` (password "pw") holding ``role``'s group, or no role for None."""
    user = User.objects.create_user(name, password="pw", **extra)
    if role:
        # get_or_create: a transactional test before this one flushes the role groups that
        # migration 0002_roles created; the roles are checked by group name.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def client_for(user: User) -> Client:
    """Return a new test client logged in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def login_as(client: Client, role: str | None = "planner") -> User:
    """Log ``client`` in as a new user "u-<role>" holding ``role``; return the user."""
    user = user_create(f"u-{role}", role)
    client.force_login(user)
    return user
