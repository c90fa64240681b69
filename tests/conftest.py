"""Shared personas: one user per role (planner, analyst, official, admin) and a client logged in as each."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from siting import accounts
from tests.support.personas import client_for, user_create


@pytest.fixture
def planner(db) -> User:
    return user_create("pat", accounts.PLANNER)


@pytest.fixture
def analyst(db) -> User:
    return user_create("ana", accounts.ANALYST)


@pytest.fixture
def official(db) -> User:
    return user_create("olga", accounts.OFFICIAL)


@pytest.fixture
def admin(db) -> User:
    """A superuser holding the admin role, as the authorization matrix's admin."""
    user = User.objects.create_superuser("adam", password="pw")
    user.groups.add(Group.objects.get_or_create(name=accounts.ADMIN)[0])
    return user


@pytest.fixture
def planner_client(planner: User) -> Client:
    return client_for(planner)


@pytest.fixture
def analyst_client(analyst: User) -> Client:
    return client_for(analyst)


@pytest.fixture
def official_client(official: User) -> Client:
    return client_for(official)


@pytest.fixture
def admin_client(admin: User) -> Client:
    """Logged in as :func:`admin`; stands in for pytest-django's fixture of that name (also a superuser)."""
    return client_for(admin)
