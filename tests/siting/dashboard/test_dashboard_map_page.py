"""The map page: the latest run, the config its script reads, the PDF link, French, no run yet."""

from __future__ import annotations

import pytest
from django.urls import resolve

from siting.models import ScoringRun
from tests.support.personas import login_as as _login
from tests.support.world import SIZES

pytestmark = pytest.mark.django_db


class MapPageTests:
    def test_it_opens_the_latest_run(self, client, run):
        _login(client)
        resp = client.get("/map/")
        assert resp.status_code == 302 and resp["Location"].endswith(f"/runs/{run.code}/map/")

    def test_it_renders_the_config_the_script_reads(self, client, run):
        _login(client)
        resp = client.get(f"/runs/{run.code}/map/?size=10000")
        assert resp.status_code == 200
        config = resp.context["config"]
        assert config["sizes"] == list(SIZES) and config["size"] == 10000
        for url in config["urls"].values():
            assert resolve(url.split("?")[0])
        assert b'src="/static/vendor/plotly-map/plotly-map.min.js"' in resp.content  # the partial bundle, served here
        assert b"https://" not in resp.content.split(b"<footer")[0].replace(b'href="https://', b"")

    def test_it_offers_the_pdf_comparison_to_officials_only(self, client, run):
        from django.urls import reverse

        _login(client, "official")
        resp = client.get(f"/runs/{run.code}/map/")
        assert resp.context["config"]["compareUrl"] == reverse("siting-report-create")
        assert b'id="compare-form"' in resp.content
        client.logout()
        _login(client, "planner")
        resp = client.get(f"/runs/{run.code}/map/")
        assert resp.context["config"]["compareUrl"] is None and b'id="compare-form"' not in resp.content

    def test_it_speaks_french(self, client, run):
        _login(client)
        client.cookies["django_language"] = "fr"
        resp = client.get(f"/runs/{run.code}/map/", HTTP_ACCEPT_LANGUAGE="fr")
        body = resp.content.decode()
        assert "Poids des critères" in body and "Taille de grappe" in body

    def test_it_says_when_no_run_has_finished(self, client):
        _login(client)
        ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).update(status=ScoringRun.Status.FAILED)
        resp = client.get("/map/")
        assert resp.status_code == 200 and resp.templates[0].name == "dashboard/ranked_map_empty.html"
