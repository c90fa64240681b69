"""Logins, roles and the demo users."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from siting import accounts

pytestmark = pytest.mark.django_db


class RoleGroupsTests:
    def test_it_creates_the_four_groups_in_a_migration(self):
        assert set(Group.objects.values_list("name", flat=True)) >= {"planner", "analyst", "official", "admin"}

    def test_it_gives_a_superuser_every_role(self):
        user = User.objects.create_superuser("boss", password="x")
        assert accounts.user_roles(user) == set(accounts.ROLES)

    def test_it_lets_admin_group_members_act_in_any_role(self):
        user = User.objects.create_user("ada")
        user.groups.add(Group.objects.get(name="admin"))
        assert accounts.has_role(user, accounts.OFFICIAL)

    def test_it_keeps_roles_apart(self):
        user = User.objects.create_user("pat")
        user.groups.add(Group.objects.get(name="planner"))
        assert accounts.has_role(user, accounts.PLANNER)
        assert not accounts.has_role(user, accounts.OFFICIAL, accounts.ANALYST)


class DemoUsersTests:
    def test_it_creates_users_once_and_prints_the_passwords_once(self, settings, tmp_path, capsys):
        settings.LOCAL_DIR = tmp_path
        call_command("ensure_demo_users")
        first = capsys.readouterr().out
        assert "password" in first and "planner" in first
        stored = json.loads((tmp_path / "demo_credentials.json").read_text())
        assert User.objects.get(username="planner").check_password(stored["planner"])
        assert User.objects.get(username="admin").is_superuser
        assert (tmp_path / "demo_credentials.json").stat().st_mode & 0o077 == 0

        call_command("ensure_demo_users")
        second = capsys.readouterr().out
        assert "password '" not in second
        assert User.objects.filter(username__in=["admin", "planner", "analyst", "official"]).count() == 4

    def test_it_takes_the_admin_credentials_from_the_environment(self, settings, tmp_path, monkeypatch):
        settings.LOCAL_DIR = tmp_path
        monkeypatch.setenv("GIGASITE_ADMIN_USER", "chief")
        monkeypatch.setenv("GIGASITE_ADMIN_PASSWORD", "a-long-passphrase")
        call_command("ensure_demo_users")
        assert User.objects.get(username="chief").check_password("a-long-passphrase")

    @pytest.mark.parametrize("weak", ["a", "12345678901", "password123", "qwertyuiop"])
    def test_it_refuses_an_admin_password_the_validators_refuse(self, settings, tmp_path, monkeypatch, weak):
        settings.LOCAL_DIR = tmp_path
        monkeypatch.setenv("GIGASITE_ADMIN_USER", "chief")
        monkeypatch.setenv("GIGASITE_ADMIN_PASSWORD", weak)
        with pytest.raises(CommandError, match="GIGASITE_ADMIN_PASSWORD is refused"):
            call_command("ensure_demo_users")
        assert not User.objects.filter(username__in=["chief", "planner"]).exists()
        assert not (tmp_path / "demo_credentials.json").exists()


class LoginTests:
    def test_it_logs_in_and_out_with_csrf(self, client):
        User.objects.create_user("pat", password="pw-123456")
        csrf_client = type(client)(enforce_csrf_checks=True)
        page = csrf_client.get("/accounts/login/")
        token = page.cookies["csrftoken"].value
        resp = csrf_client.post(
            "/accounts/login/", {"username": "pat", "password": "pw-123456", "csrfmiddlewaretoken": token}
        )
        assert resp.status_code == 302
        assert "_auth_user_id" in csrf_client.session

    def test_it_refuses_a_post_without_csrf_token(self):
        from django.test import Client

        User.objects.create_user("pat", password="pw-123456")
        resp = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "pat", "password": "pw-123456"})
        assert resp.status_code == 403
