"""The home page shows what data is loaded, in English and French."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from grid.models import GridConnectionPoint
from siting.models import Site

pytestmark = pytest.mark.django_db


def _planner() -> User:
    user = User.objects.create_user("pat", password="x")
    user.groups.add(Group.objects.get(name="planner"))
    return user


def _site(ext: str, country: str) -> Site:
    return Site.objects.create(
        external_id=ext,
        name=ext,
        country=country,
        longitude=2.0,
        latitude=48.0,
        source="cartofriches",
        source_vintage="2024-03",
    )


class HomeTests:
    def test_it_counts_sites_by_country_and_grid_points_by_voltage(self, client):
        _site("a", "FR"), _site("b", "FR"), _site("c", "DE")
        GridConnectionPoint.objects.create(
            external_id="rte:X",
            name="X",
            country="FR",
            longitude=2,
            latitude=48,
            voltage_kv=400,
            source="rte",
            source_vintage="2024",
        )
        client.force_login(_planner())
        resp = client.get("/")
        assert resp.status_code == 200
        summary = resp.context["summary"]
        assert summary["n_sites"] == 3 and summary["n_countries"] == 2
        assert {(r["country"], r["n"]) for r in summary["sites_by_source_country"]} == {("FR", 2), ("DE", 1)}
        assert summary["grid_by_source_voltage"] == [{"source": "rte", "voltage_kv": 400.0, "n": 1}]

    def test_it_switches_to_french(self, client):
        client.force_login(_planner())
        resp = client.post("/i18n/setlang/", {"language": "fr", "next": "/"}, follow=True)
        assert resp.status_code == 200
        assert '<html lang="fr">' in resp.content.decode()

    def test_it_shows_the_run_link_only_to_users_with_a_role(self, client):
        client.force_login(User.objects.create_user("nobody", password="x"))
        assert "/runs/" not in client.get("/").content.decode()
        user = User.objects.create_superuser("root", password="x")
        client.force_login(user)
        assert "/runs/" in client.get("/").content.decode()


class HomeAccessTests:
    """The counts include analysts' uploads by country: only users with a role see them."""

    def test_it_sends_anonymous_visitors_to_the_login(self, client):
        _site("a", "FR")
        resp = client.get("/")
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")

    def test_it_shows_a_user_without_a_role_no_counts(self, client):
        _site("a", "FR")
        client.force_login(User.objects.create_user("nobody", password="x"))
        resp = client.get("/")
        assert resp.status_code == 200 and "summary" not in resp.context and 'id="no-role"' in resp.content.decode()
        assert 'id="sites-by-country"' not in resp.content.decode()

    def test_it_keeps_the_sources_page_public(self, client):
        assert client.get("/sources/").status_code == 200
