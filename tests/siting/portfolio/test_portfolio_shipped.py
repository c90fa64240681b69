"""Portfolios on the shipped data: the two questions of issue 17 each give a portfolio, a page and a PDF.

- "EU, five clusters of 100,000 H100e, at most 2 per country";
- "France, 1 GW IT in at most 5 sites, powered within 60 months". 1 GW in 5 sites needs
  200 MW IT a site, above the default ladder's largest size (100k H100e = 127.5 MW IT): on
  that ladder the target is infeasible and the explanation says the site limit and the
  sizes bind; the run here puts 160k (204 MW IT) and 200k H100e (255 MW IT) on its ladder,
  sizes being a scenario parameter.

The run keeps 40 Monte Carlo draws (not the default 1,000) to keep the module near two minutes.
"""

from __future__ import annotations

import dataclasses
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from siting.models import Portfolio
from siting.portfolio import services
from siting.portfolio.problem import PortfolioProblem
from siting.scoring import presets

DRAWS = 40
SIZES = (100_000, 160_000, 200_000)
EU_FIVE = PortfolioProblem(clusters=((100_000, 5),), max_per_country=2)
FRANCE_GW = PortfolioProblem(target_mw_it=1000.0, max_sites=5, countries=("FR",), deadline_months=60.0)


@pytest.fixture(scope="module")
def shipped(django_db_setup, django_db_blocker):
    """Load the shipped reference data once, run the scoring with the larger ladder, roll back after."""
    from django.db import transaction

    from siting.runs import services as runs
    from siting.sites.services import reference_data_load

    with django_db_blocker.unblock():
        with transaction.atomic():
            reference_data_load(current_year=2026)
            params = dataclasses.replace(presets()["default"], sizes=SIZES)
            run = runs.scoring_run_start(params=params.to_dict(), draws=DRAWS, name="portfolio shipped", dispatch=False)
            # No heartbeat thread: it would wait on this test's open transaction for the lock.
            with patch.object(runs, "HEARTBEAT_INTERVAL_S", 1e9):
                run = runs.scoring_run_execute_inline(run_id=run.id)
            assert run.status == "succeeded", run.error
            official = User.objects.create_user("pfs-official", password="pw")
            official.groups.add(Group.objects.get(name="official"))
            yield {"run": run, "official": official}
            transaction.set_rollback(True)


def produce(shipped, problem: PortfolioProblem) -> Portfolio:
    portfolio = services.portfolio_produce(run=shipped["run"], problem=problem, user=shipped["official"])
    assert portfolio.status == Portfolio.Status.SUCCEEDED, portfolio.error
    return portfolio


def page_and_pdf(shipped, portfolio: Portfolio) -> None:
    client = Client()
    client.force_login(shipped["official"])
    page = client.get(f"/portfolios/{portfolio.code}/")
    assert page.status_code == 200 and 'id="portfolio-figure"' in page.content.decode()
    pdf = client.get(f"/portfolios/{portfolio.code}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.slow
@pytest.mark.django_db
class ShippedPortfolioTests:
    def test_eu_five_clusters_at_most_two_per_country(self, shipped):
        p = produce(shipped, EU_FIVE)
        result = p.result
        assert p.feasible, result["explanation"]
        chosen = result["chosen"]
        assert len(chosen) == 5 and all(c["size_h100e"] == 100_000 for c in chosen)
        countries = [c["country"] for c in chosen]
        assert max(countries.count(c) for c in countries) <= 2
        assert result["solver"]["status"] == "optimal" and result["solver"]["mip_gap"] <= 1e-3
        assert result["greedy"]["feasible"] and result["greedy"]["objective"] <= result["totals"]["objective"] + 1e-6
        for point in result["shared_points"]:
            assert point["facility_load_mw"] <= point["headroom_mw"] + 1e-6
        rob = result["robustness"]
        assert rob["draws"] == DRAWS and 0.0 <= rob["p_meets_target"] <= 1.0
        page_and_pdf(shipped, p)

    def test_france_one_gigawatt_in_five_sites_within_sixty_months(self, shipped):
        p = produce(shipped, FRANCE_GW)
        result = p.result
        assert p.feasible, result["explanation"]
        chosen = result["chosen"]
        assert 1 <= len(chosen) <= 5 and {c["country"] for c in chosen} == {"FR"}
        assert sum(c["it_load_mw"] for c in chosen) >= 1000.0
        assert all(c["time_to_power_months"] <= 60.0 for c in chosen)
        assert max(c["size_h100e"] for c in chosen) > 100_000  # the default ladder cannot do it
        page_and_pdf(shipped, p)

    def test_france_on_the_default_ladder_is_infeasible_and_says_why(self, shipped):
        p = produce(shipped, dataclasses.replace(FRANCE_GW, sizes_h100e=(100_000,)))
        assert p.feasible is False
        explanation = p.result["explanation"]
        assert "max_sites" in explanation["binding"]
        assert any("637.5 MW IT" in f for f in explanation["facts"])
