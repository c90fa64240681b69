"""Ids beyond what the database holds are input errors (400/404), never a server error."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.personas import client_for
from tests.support.uploads import user

pytestmark = pytest.mark.django_db

HUGE = [2**63, 10**30]
"""Just past a signed 64-bit id, and far past it (the SQLite driver raised OverflowError)."""


def _client(role: str) -> Client:
    return client_for(user(f"u-{role}", role))


class ReportFormTests:
    @pytest.mark.parametrize("huge", HUGE)
    def test_it_refuses_a_huge_site_id_with_400(self, huge):
        from tests.support.reports import SIZE
        from tests.support.reports import scored_run as _scored_run
        from tests.support.reports import shortlist as _shortlist

        run = _scored_run(draws=0)
        ids = _shortlist(run)
        resp = _client("official").post("/reports/", {"run": str(run.code), "size": SIZE, "site": [ids[0], huge]})
        assert resp.status_code == 400

    @pytest.mark.parametrize("huge", HUGE)
    def test_it_refuses_a_huge_size_with_400(self, huge):
        from siting.models import ScoringRun

        run = ScoringRun.objects.create(scenario_name="t", params={}, status=ScoringRun.Status.SUCCEEDED)
        resp = _client("official").post("/reports/", {"run": str(run.code), "size": huge, "site": ["1", "2"]})
        assert resp.status_code == 400

    def test_it_refuses_it_in_the_service_too(self):
        from siting.reports import services as comparisons
        from tests.support.reports import SIZE
        from tests.support.reports import scored_run as _scored_run
        from tests.support.reports import shortlist as _shortlist

        run = _scored_run(draws=0)
        with pytest.raises(comparisons.ComparisonError, match=str(2**63)):
            comparisons.comparison_request(
                run=run, size_h100e=SIZE, site_ids=[_shortlist(run)[0], 2**63], language="en", dispatch=False
            )


class PathAndQueryTests:
    @pytest.mark.parametrize("huge", HUGE)
    @pytest.mark.parametrize("url", ["/sites/{id}/", "/api/sites/{id}/", "/admin/siting/site/{id}/change/"])
    def test_it_answers_404_for_a_huge_id_in_the_path(self, url, huge):
        c = Client()
        from django.contrib.auth.models import User

        c.force_login(User.objects.create_superuser("root", password="x"))
        assert c.get(url.format(id=huge)).status_code in (302, 404)  # the admin redirects to its index

    @pytest.mark.parametrize("huge", HUGE)
    @pytest.mark.parametrize(
        "url",
        [
            "/runs/?page={n}",
            "/api/runs/?limit={n}",
            "/reports/runs/{code}/select/?size={n}",
            "/reports/runs/{code}/select/?n={n}",
        ],
    )
    def test_it_never_fails_on_a_huge_number_in_the_query(self, url, huge):
        from siting.models import ScoringRun

        run = ScoringRun.objects.create(scenario_name="t", params={}, status=ScoringRun.Status.SUCCEEDED)
        status = _client("admin").get(url.format(n=huge, code=run.code)).status_code
        assert status in (200, 400, 404)
