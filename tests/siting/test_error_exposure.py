"""Failures shown to users are messages; exception text and worker host names are for admins and the log."""

from __future__ import annotations

import re
from unittest.mock import patch

import pytest

from siting.models import ComparisonReport, RunChunk, ScoringRun
from siting.reports import services as comparisons
from siting.runs import services as runs
from tests.support.personas import client_for as _client
from tests.support.uploads import user

pytestmark = pytest.mark.django_db

SECRET = "/srv/gigasite/secret/path.npz: [Errno 13] Permission denied"


def _without_random_tokens(page: str) -> str:
    """Return ``page`` without its CSRF tokens and CSP nonces: random text that may contain a
    short host name (such as "vm") by chance."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


@pytest.fixture
def failed_run():
    """A run failed the way ``runs`` records it: the exception text and the worker's host:thread."""
    run = ScoringRun.objects.create(
        scenario_name="t",
        params={"sizes": [1000]},
        status=ScoringRun.Status.FAILED,
        error=f"Scoring size 1,000 H100e failed: {SECRET}",
        stage="failed",
        n_chunks=1,
    )
    RunChunk.objects.create(
        run=run,
        index=0,
        size_h100e=1000,
        status=RunChunk.Status.FAILED,
        attempts=1,
        worker=runs._worker_name(),
        error=SECRET,
    )
    return run


class RunProgressTests:
    @pytest.mark.parametrize("role", ["planner", "analyst", "official"])
    def test_it_shows_other_roles_a_message_without_exception_text_or_hosts(self, failed_run, role):
        c = _client(user("u", role))
        data = c.get(f"/runs/{failed_run.code}/progress.json").json()
        assert data["status"] == "failed" and data["error"] and SECRET not in data["error"]
        assert all("worker" not in chunk for chunk in data["chunks"])
        page = _without_random_tokens(c.get(f"/runs/{failed_run.code}/").content.decode())
        assert SECRET not in page and runs._worker_name().split(":")[0] not in page

    def test_it_shows_an_admin_the_recorded_reason_and_workers(self, failed_run):
        c = _client(user("root", "admin"))
        data = c.get(f"/runs/{failed_run.code}/progress.json").json()
        assert SECRET in data["error"] and data["chunks"][0]["worker"] == runs._worker_name()
        assert SECRET in c.get(f"/runs/{failed_run.code}/").content.decode()

    def test_it_shows_no_error_while_all_is_well(self):
        run = ScoringRun.objects.create(scenario_name="t", params={}, status=ScoringRun.Status.RUNNING)
        assert _client(user("u", "planner")).get(f"/runs/{run.code}/progress.json").json()["error"] == ""


class ReportProgressTests:
    def test_it_logs_the_failure_and_shows_the_official_a_message(self, caplog):
        from tests.support.reports import SIZE
        from tests.support.reports import scored_run as _scored_run
        from tests.support.reports import shortlist as _shortlist

        run = _scored_run(draws=0)
        olga = user("olga", "official")
        report = comparisons.comparison_request(
            run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="en", user=olga, dispatch=False
        )
        with patch("siting.reports.document.comparison_pdf", side_effect=OSError(SECRET)):
            comparisons.comparison_execute(report_id=report.id)
        report.refresh_from_db()
        assert report.status == ComparisonReport.Status.FAILED
        assert SECRET in caplog.text  # the details are in the log
        data = _client(olga).get(f"/reports/{report.code}/progress.json").json()
        assert data["status"] == "failed" and data["error"] and SECRET not in data["error"]
        assert SECRET not in _client(olga).get(f"/reports/{report.code}/").content.decode()
        assert SECRET in _client(user("root", "admin")).get(f"/reports/{report.code}/progress.json").json()["error"]
