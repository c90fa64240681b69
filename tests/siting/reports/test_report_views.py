"""PDF comparison pages: officials and admins only, the shortlist, queue or render in the request, language, bad requests."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.utils import timezone

from siting.models import ComparisonReport
from siting.reports import services as comparisons
from siting.tasks import comparison_execute_task
from tests.support.personas import user_create as _user
from tests.support.reports import SIZE
from tests.support.reports import scored_run as _scored_run
from tests.support.reports import shortlist as _shortlist

pytestmark = pytest.mark.django_db


class ComparisonViewTests:
    def _post(self, client, run, ids, **headers):
        return client.post("/reports/", {"run": str(run.code), "size": SIZE, "site": ids}, **headers)

    def test_it_refuses_planners_and_analysts_everywhere(self, client):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        report, _ = comparisons.comparison_produce(run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A")
        for role in ("planner", "analyst", None):
            client.force_login(_user(f"u-{role}", role))
            assert self._post(client, run, ids).status_code == 403
            for url in (
                f"/reports/runs/{run.code}/select/",
                f"/reports/{report.code}/",
                f"/reports/{report.code}/progress.json",
                f"/reports/{report.code}/download/",
            ):
                assert client.get(url).status_code == 403, (role, url)
        assert ComparisonReport.objects.count() == 1

    def test_it_sends_anonymous_users_to_the_login(self, client):
        run = _scored_run(draws=0)
        resp = self._post(client, run, _shortlist(run))
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]

    def test_it_shows_the_compare_link_to_officials_and_admins_only(self, client):
        run = _scored_run(draws=0)
        for name, role, shown in (
            ("pat", "planner", False),
            ("ann", "analyst", False),
            ("olga", "official", True),
            ("root", "admin", True),
        ):
            client.force_login(_user(name, role))
            page = client.get(f"/runs/{run.code}/").content.decode()
            assert ("compare-sites-link" in page) is shown, name

    def test_it_lists_the_best_sites_with_checkboxes(self, client):
        run = _scored_run(draws=0)
        client.force_login(_user("olga", "official"))
        resp = client.get(f"/reports/runs/{run.code}/select/?size={SIZE}")
        assert resp.status_code == 200
        best = _shortlist(run, 2, 1)[0]
        assert f'name="site" value="{best}"' in resp.content.decode()
        assert client.get(f"/reports/runs/{run.code}/select/?size=1234").status_code == 404

    def test_it_queues_then_serves_the_pdf_to_an_official(self, client, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        client.force_login(_user("olga", "official", first_name="Olga", last_name="Martin"))
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                resp = self._post(client, run, ids)
        report = ComparisonReport.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/reports/{report.code}/"
        publish.assert_called_once_with((report.id,), retry=False)
        assert report.author_name == "Olga Martin" and report.language == "en" and report.site_ids == sorted(ids)
        assert client.get(f"/reports/{report.code}/progress.json").json()["status"] == "queued"
        assert client.get(f"/reports/{report.code}/download/").status_code == 404  # not ready yet

        comparison_execute_task(report.id)
        data = client.get(f"/reports/{report.code}/progress.json").json()
        assert data["finished"] and data["status"] == "succeeded"
        assert "download" in client.get(f"/reports/{report.code}/").content.decode()
        download = client.get(f"/reports/{report.code}/download/")
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert "attachment" in download["Content-Disposition"] and download.content.startswith(b"%PDF")
        # The same request again: the stored PDF straight away, nothing queued.
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            again = self._post(client, run, list(reversed(ids)))
        publish.assert_not_called()
        assert again.status_code == 200 and again.content == download.content

    def test_it_renders_in_the_request_when_the_job_queue_stays_down(self, client):
        run = _scored_run(draws=0)
        olga = _user("olga", "official")
        client.force_login(olga)
        with patch("siting.tasks.comparison_execute_task.apply_async", side_effect=ConnectionError("refused")):
            report = comparisons.comparison_request(
                run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="en", author="O", user=olga
            )
            assert client.get(f"/reports/{report.code}/progress.json").json()["status"] == "queued"  # not stuck yet
            ComparisonReport.objects.filter(id=report.id).update(created_at=timezone.now() - timedelta(minutes=1))
            page = client.get(f"/reports/{report.code}/")
        report.refresh_from_db()
        assert report.status == ComparisonReport.Status.SUCCEEDED and report.dispatched_at is None
        assert f"/reports/{report.code}/download/" in page.content.decode()

    def test_it_makes_the_document_in_the_users_language(self, client, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        client.force_login(_user("admin1", "admin"))
        with patch("siting.tasks.comparison_execute_task.apply_async"):
            self._post(client, run, _shortlist(run), HTTP_ACCEPT_LANGUAGE="fr")
        assert ComparisonReport.objects.get().language == "fr"

    def test_it_rejects_bad_requests_with_400_and_saves_nothing(self, client):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        client.force_login(_user("olga", "official"))
        assert client.get("/reports/").status_code == 405
        assert self._post(client, run, ids[:1]).status_code == 400
        assert self._post(client, run, ["x", "y"]).status_code == 400
        assert client.post("/reports/", {"run": str(run.code), "size": 2000, "site": ids}).status_code == 400
        assert not ComparisonReport.objects.exists()
