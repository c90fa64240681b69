"""A PDF comparison made by a real Celery worker through the real Redis broker (no eager mode)."""

from __future__ import annotations

import time

import pytest

from siting.models import ComparisonReport, ScoringRun
from siting.reports import services as comparisons
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from tests.support.world import world_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class ComparisonThroughWorkerTests:
    def test_it_renders_the_document_in_a_worker_and_serves_it_from_the_cache_after(self, start_worker):
        from config.celery import app

        world_create(n_sites=60, n_points=80)
        params = run_selectors.params_build(preset="default", sizes="1000,10000")
        run = runs.scoring_run_start(params=params.to_dict(), draws=10, name="report e2e", dispatch=False)
        run = runs.scoring_run_execute_inline(run_id=run.id)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        table = run_selectors.run_table(run)
        at = table[(table["size_h100e"] == 10000) & table["feasible"]].sort_values("rank")
        site_ids = [int(i) for i in at["site_id"].head(3)]
        start_worker("w1").wait_consuming(app)

        report = comparisons.comparison_request(
            run=run, size_h100e=10000, site_ids=site_ids, language="fr", author="E2E"
        )
        deadline = time.monotonic() + 120
        while report.status not in (ComparisonReport.Status.SUCCEEDED, ComparisonReport.Status.FAILED):
            assert time.monotonic() < deadline, f"still {report.status} ({report.stage}) after 120 s"
            time.sleep(0.3)
            report.refresh_from_db()
        assert report.status == ComparisonReport.Status.SUCCEEDED, report.error
        assert report.dispatched_at is not None and report.attempts == 1
        assert bytes(report.pdf).startswith(b"%PDF") and report.n_pages >= 6

        again = comparisons.comparison_request(
            run=run, size_h100e=10000, site_ids=site_ids[::-1], language="fr", author="E2E"
        )
        assert again.id == report.id and again.status == ComparisonReport.Status.SUCCEEDED
