"""Log-in throttling: wrong passwords lock a username out of the site and the admin."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery"


def _try(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password, "next": "/"})


class LoginThrottleTests:
    @pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
    def test_it_refuses_the_right_password_after_many_wrong_ones(self, url):
        User.objects.create_user("pat", password=PASSWORD, is_staff=True, is_superuser=True)
        client = Client()
        for _ in range(50):
            _try(client, url, "pat", "guess")
        resp = _try(client, url, "pat", PASSWORD)
        assert resp.status_code == 429
        page = resp.content.decode()
        assert "locked out" in page and f"after {settings.AXES_FAILURE_LIMIT} wrong passwords" in page
        assert "Try again in 15 minutes" in page
        assert "_auth_user_id" not in client.session

    def test_it_locks_a_username_from_another_address_too(self):
        User.objects.create_user("pat", password=PASSWORD)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _try(Client(REMOTE_ADDR="203.0.113.7"), "/accounts/login/", "pat", "guess")
        other = Client(REMOTE_ADDR="198.51.100.9")
        assert _try(other, "/accounts/login/", "pat", PASSWORD).status_code == 429

    def test_it_lets_a_user_in_after_a_few_typos(self):
        User.objects.create_user("pat", password=PASSWORD)
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _try(client, "/accounts/login/", "pat", "typo").status_code == 200
        assert _try(client, "/accounts/login/", "pat", PASSWORD).status_code == 302
        assert "_auth_user_id" in client.session

    def test_it_lifts_a_lockout_with_axes_reset(self):
        User.objects.create_user("pat", password=PASSWORD)
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            _try(client, "/accounts/login/", "pat", "guess")
        assert _try(client, "/accounts/login/", "pat", PASSWORD).status_code == 429
        call_command("axes_reset", stdout=None)
        assert _try(client, "/accounts/login/", "pat", PASSWORD).status_code == 302

    def test_it_never_locks_the_test_suites_own_logins(self, client):
        User.objects.create_user("pat", password=PASSWORD)
        for _ in range(3 * settings.AXES_FAILURE_LIMIT):
            assert client.login(username="pat", password=PASSWORD)
            client.logout()
