"""PDF comparisons, the service: its cache, the task that renders, failures and stalled renders."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.utils import timezone

from siting.models import ComparisonReport
from siting.reports import services as comparisons
from siting.tasks import comparison_execute_task
from tests.support.reports import SIZE
from tests.support.reports import scored_run as _scored_run
from tests.support.reports import shortlist as _shortlist

pytestmark = pytest.mark.django_db


class ComparisonServiceTests:
    def test_it_serves_an_identical_request_from_the_cache_without_rendering(self):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        first, cached = comparisons.comparison_produce(
            run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A"
        )
        assert not cached and first.status == ComparisonReport.Status.SUCCEEDED and bytes(first.pdf).startswith(b"%PDF")
        with patch("siting.reports.document.comparison_pdf", side_effect=AssertionError("rendered again")):
            again, cached = comparisons.comparison_produce(
                run=run, size_h100e=SIZE, site_ids=list(reversed(ids)), language="en", author="A"
            )
        assert cached and again.id == first.id and bytes(again.pdf) == bytes(first.pdf)
        assert ComparisonReport.objects.count() == 1

    def test_it_keys_the_cache_on_sites_size_language_author_and_code_version(self):
        key = dict(run_id=1, size_h100e=SIZE, site_ids=(3, 1, 2), language="en", author="A")
        base = comparisons.comparison_cache_key(**key)
        assert comparisons.comparison_cache_key(**{**key, "site_ids": (1, 2, 3)}) == base
        for change in ({"site_ids": (1, 2)}, {"language": "fr"}, {"author": "B"}, {"size_h100e": 1000}, {"run_id": 2}):
            assert comparisons.comparison_cache_key(**{**key, **change}) != base
        with patch("siting.reports.document.report_code_version", return_value="other"):
            assert comparisons.comparison_cache_key(**key) != base

    def test_it_enqueues_once_after_commit_and_the_task_stores_the_pdf(self, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                report = comparisons.comparison_request(
                    run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="fr", author="A"
                )
        publish.assert_called_once_with((report.id,), retry=False)
        report.refresh_from_db()
        assert report.status == ComparisonReport.Status.QUEUED and report.dispatched_at is not None
        comparison_execute_task(report.id)  # the task itself, without broker or eager mode
        report.refresh_from_db()
        assert (
            report.status == ComparisonReport.Status.SUCCEEDED and report.n_pages >= 6 and report.progress_pct == 100.0
        )
        first_bytes = bytes(report.pdf)
        with patch("siting.reports.document.comparison_pdf", side_effect=AssertionError("rendered twice")):
            comparison_execute_task(report.id)  # a redelivered message does nothing
        report.refresh_from_db()
        assert bytes(report.pdf) == first_bytes

    def test_it_keeps_the_reason_of_a_failure_and_tries_again_on_the_next_request(self):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        with patch("siting.reports.document.comparison_pdf", side_effect=RuntimeError("fonts missing")):
            report, _ = comparisons.comparison_produce(
                run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A"
            )
        assert report.status == ComparisonReport.Status.FAILED and "fonts missing" in report.error
        with patch("siting.tasks.comparison_execute_task.apply_async"):
            again = comparisons.comparison_request(run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A")
        assert again.id == report.id and again.status == ComparisonReport.Status.QUEUED and again.error == ""

    def test_it_gives_a_stalled_render_back_to_the_queue(self):
        run = _scored_run(draws=0)
        report = ComparisonReport.objects.create(
            cache_key="k" * 64,
            run=run,
            size_h100e=SIZE,
            site_ids=_shortlist(run),
            language="en",
            status=ComparisonReport.Status.RUNNING,
            attempts=1,
            started_at=timezone.now() - timedelta(seconds=comparisons.STALE_AFTER_S + 5),
        )
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            report = comparisons.comparison_recover(report=report)
        assert report.status == ComparisonReport.Status.QUEUED
        publish.assert_called_once_with((report.id,), retry=False)
        ComparisonReport.objects.filter(id=report.id).update(
            status=ComparisonReport.Status.RUNNING, attempts=comparisons.MAX_ATTEMPTS, started_at=report.started_at
        )
        report.refresh_from_db()
        report = comparisons.comparison_recover(report=report)
        assert report.status == ComparisonReport.Status.FAILED and "stopped" in report.error
