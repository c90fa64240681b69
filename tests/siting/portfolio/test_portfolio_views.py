"""Portfolios in the app: the service and its Celery task, the page, the API, the command and the PDF,
on a small scored world."""

from __future__ import annotations

import io
import json
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from siting.dashboard import selectors as dashboard
from siting.models import Portfolio, ScoringRun, Site
from siting.portfolio import services
from siting.portfolio.problem import PortfolioProblem
from siting.portfolio.report import comparison_sites, portfolio_section
from siting.runs import selectors as run_selectors
from siting.tasks import portfolio_execute_task

SIZE = 10_000
PAIR = PortfolioProblem(clusters=((SIZE, 2),), max_per_country=1)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from grid.models import GridConnectionPoint, Zone
    from tests.support.world import scored_world_create

    with django_db_blocker.unblock():
        run = scored_world_create(n_sites=80, n_points=80, draws=25)
        users = {}
        for name, role in (
            ("planner", "planner"),
            ("planner2", "planner"),
            ("analyst", "analyst"),
            ("official", "official"),
        ):
            users[name] = User.objects.create_user(f"pf-{name}", password="pw")
            users[name].groups.add(Group.objects.get(name=role))
        portfolio = services.portfolio_produce(run=run, problem=PAIR, user=users["planner"])
        yield {"run": run, "users": users, "portfolio": portfolio}
        Portfolio.objects.all().delete()
        ScoringRun.objects.all().delete()
        Site.objects.all().delete()
        GridConnectionPoint.objects.all().delete()
        Zone.objects.all().delete()
        User.objects.filter(username__startswith="pf-").delete()
        dashboard.caches_clear()


def client_for(world, name: str) -> Client:
    client = Client()
    client.force_login(world["users"][name])
    return client


@pytest.mark.django_db
class ServiceTests:
    def test_it_solves_and_stores_the_portfolio(self, world):
        p = world["portfolio"]
        assert p.status == Portfolio.Status.SUCCEEDED and p.feasible, p.error or p.result
        result = p.result
        assert len(result["chosen"]) == 2 and {c["size_h100e"] for c in result["chosen"]} == {SIZE}
        assert len({c["country"] for c in result["chosen"]}) == 2  # at most one per country
        assert result["solver"]["status"] == "optimal" and result["solver"]["mip_gap"] <= 1e-4
        assert result["greedy"]["feasible"] and result["greedy"]["objective"] <= result["totals"]["objective"] + 1e-6
        assert result["totals"]["it_load_mw"] == pytest.approx(2 * SIZE * 1.275 / 1000)

    def test_its_robustness_reproduces_the_runs_monte_carlo(self, world):
        # Each site sees the factors it saw in the run: its feasible share is the run's mc_p_feasible.
        p = world["portfolio"]
        rob = p.result["robustness"]
        assert rob["draws"] == 25
        table = run_selectors.run_table(world["run"])
        at = table[table["size_h100e"] == SIZE].set_index("site_id")
        for site_id, share in rob["p_site_feasible"].items():
            assert share == pytest.approx(float(at.loc[int(site_id), "mc_p_feasible"]), abs=1e-12)
        assert 0.0 <= rob["p_meets_target"] <= min(rob["p_site_ok"].values()) + 1e-12

    def test_it_enqueues_one_task_after_the_commit(self, world, django_capture_on_commit_callbacks):
        with patch("siting.tasks.portfolio_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                p = services.portfolio_start(run=world["run"], problem=PAIR, user=world["users"]["planner"])
        assert publish.call_count == 1 and publish.call_args.args[0] == (p.id,)
        p.refresh_from_db()
        assert p.status == Portfolio.Status.QUEUED and p.dispatched_at is not None

    def test_the_task_solves_once(self, world):
        p = services.portfolio_start(run=world["run"], problem=PAIR, user=world["users"]["planner"], dispatch=False)
        portfolio_execute_task(p.id)
        portfolio_execute_task(p.id)  # a redelivered message does nothing
        p.refresh_from_db()
        assert p.status == Portfolio.Status.SUCCEEDED and p.attempts == 1 and p.progress_pct == 100.0
        assert [c["site_id"] for c in p.result["chosen"]] == [c["site_id"] for c in world["portfolio"].result["chosen"]]

    def test_it_stores_an_infeasible_target_with_its_reason(self, world):
        p = services.portfolio_produce(
            run=world["run"], problem=PortfolioProblem(clusters=((SIZE, 90),)), user=world["users"]["planner"]
        )
        assert p.status == Portfolio.Status.SUCCEEDED and p.feasible is False
        assert p.result["explanation"]["message"] and p.result["explanation"]["facts"]

    def test_a_failure_is_recorded_not_raised(self, world):
        p = Portfolio.objects.create(
            name="bad", run=world["run"], problem={"clusters": [[123, 1]]}, created_by=world["users"]["planner"]
        )
        services.portfolio_execute(portfolio_id=p.id)
        p.refresh_from_db()
        assert p.status == Portfolio.Status.FAILED and "123" in p.error

    def test_it_refuses_an_analyst(self, world):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            services.portfolio_start(run=world["run"], problem=PAIR, user=world["users"]["analyst"])


@pytest.mark.django_db
class PageTests:
    def test_it_shows_the_sites_map_totals_and_robustness(self, world):
        p = world["portfolio"]
        resp = client_for(world, "planner").get(f"/portfolios/{p.code}/")
        assert resp.status_code == 200
        body = resp.content.decode()
        for c in p.result["chosen"]:
            assert c["site_name"] in body
        assert 'id="portfolio-figure"' in body and 'id="portfolio-totals"' in body and 'id="portfolio-p-meets"' in body
        figure = resp.context["figure"]
        names = [t.get("name") for t in figure["data"]]
        chosen = next(t for t in figure["data"] if t.get("name") == "Chosen sites")
        assert sorted(chosen["lon"]) == sorted(c["longitude"] for c in p.result["chosen"])
        # Grid points are drawn where a chosen site connects to one (an own connection has none).
        assert ("Grid points" in names) == any(c["resource"] for c in p.result["chosen"])
        assert 'id="portfolio-pdf-link"' not in body  # the PDF is for officials

    def test_it_hides_a_portfolio_from_others(self, world):
        code = world["portfolio"].code
        assert client_for(world, "planner2").get(f"/portfolios/{code}/").status_code == 403
        assert client_for(world, "analyst").get(f"/portfolios/{code}/").status_code == 403
        listed = client_for(world, "planner2").get("/portfolios/")
        assert listed.status_code == 200 and str(code) not in listed.content.decode()

    def test_the_form_starts_a_portfolio_and_rejects_bad_input(self, world):
        client = client_for(world, "official")
        with patch("siting.tasks.portfolio_execute_task.apply_async"):
            resp = client.post(
                "/portfolios/",
                {
                    "run": str(world["run"].code),
                    "target_kind": "mw",
                    "target_mw_it": "30",
                    "max_sites": "3",
                    "objective": "cost",
                    "countries": "FR, DE",
                },
            )
        assert resp.status_code == 302
        p = Portfolio.objects.get(code=resp["Location"].rstrip("/").split("/")[-1])
        assert (
            p.problem["target_mw_it"] == 30.0
            and p.problem["countries"] == ["FR", "DE"]
            and p.created_by == world["users"]["official"]
        )
        bad = client.post(
            "/portfolios/",
            {"run": str(world["run"].code), "target_kind": "clusters", "clusters": "five", "objective": "score"},
        )
        assert bad.status_code == 400 and "COUNTxSIZE" in bad.content.decode()
        off_ladder = client.post(
            "/portfolios/",
            {"run": str(world["run"].code), "target_kind": "clusters", "clusters": "1x777", "objective": "score"},
        )
        assert off_ladder.status_code == 400 and "777" in off_ladder.content.decode()

    def test_progress_json(self, world):
        data = client_for(world, "planner").get(f"/portfolios/{world['portfolio'].code}/progress.json").json()
        assert data["status"] == "succeeded" and data["finished"] and data["feasible"] is True

    def test_the_api_returns_the_result(self, world):
        client = client_for(world, "planner")
        listed = client.get("/api/portfolios/").json()["portfolios"]
        assert str(world["portfolio"].code) in [p["code"] for p in listed]
        detail = client.get(f"/api/portfolios/{world['portfolio'].code}/").json()
        assert detail["result"]["solver"]["status"] == "optimal" and detail["problem"]["clusters"] == [[SIZE, 2]]
        assert client_for(world, "planner2").get(f"/api/portfolios/{world['portfolio'].code}/").status_code == 403


@pytest.mark.django_db
class PdfTests:
    def test_an_official_gets_the_comparison_with_the_portfolio_section(self, world):
        p = services.portfolio_produce(run=world["run"], problem=PAIR, user=world["users"]["official"])
        size, ids = comparison_sites(p.result)
        assert size == SIZE and sorted(ids) == sorted(c["site_id"] for c in p.result["chosen"])
        section = portfolio_section(p)
        assert [s["name"] for s in section["sites"]] == [c["site_name"] for c in p.result["chosen"]]
        assert "HiGHS" in section["solver"]
        page = client_for(world, "official").get(f"/portfolios/{p.code}/")
        assert 'id="portfolio-pdf-link"' in page.content.decode()
        resp = client_for(world, "official").get(f"/portfolios/{p.code}/pdf/?lang=fr")
        assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
        assert resp.content.startswith(b"%PDF") and len(resp.content) > 10_000

    def test_the_section_is_in_the_documents_html(self, world):
        from django.utils import translation

        from siting.reports import document as reports

        p = world["portfolio"]
        size, ids = comparison_sites(p.result)
        with translation.override("en"):
            html = reports.comparison_html(
                reports.comparison_context(run=p.run, size_h100e=size, site_ids=ids, portfolio=portfolio_section(p))
            )
        assert 'id="portfolio-section"' in html and "Next best for each site" in html
        with translation.override("en"):
            plain = reports.comparison_html(reports.comparison_context(run=p.run, size_h100e=size, site_ids=ids))
        assert 'id="portfolio-section"' not in plain


@pytest.mark.django_db
class CommandTests:
    def test_it_prints_the_portfolio(self, world):
        out = io.StringIO()
        call_command(
            "portfolio",
            "--run",
            str(world["run"].id),
            "--clusters",
            f"2x{SIZE}",
            "--max-per-country",
            "1",
            "--draws",
            "10",
            stdout=out,
        )
        text = out.getvalue()
        assert (
            "status optimal" in text
            and "Totals: 2 sites" in text
            and "Greedy baseline" in text
            and "Robustness" in text
        )

    def test_it_explains_an_infeasible_target(self, world):
        out = io.StringIO()
        call_command("portfolio", "--clusters", f"90x{SIZE}", stdout=out)
        assert "No portfolio meets the target" in out.getvalue()

    def test_it_writes_json_and_the_pdf(self, world, tmp_path):
        out = io.StringIO()
        pdf = tmp_path / "p.pdf"
        call_command("portfolio", "--clusters", f"2x{SIZE}", "--json", "--pdf", str(pdf), "--draws", "0", stdout=out)
        data = json.loads(out.getvalue().split("\nWrote ")[0])
        assert data["feasible"] and data["robustness"] is None
        assert pdf.read_bytes().startswith(b"%PDF")
