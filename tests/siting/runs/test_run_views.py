"""Run pages: who may see, start and cancel runs; the progress JSON."""

from __future__ import annotations

from unittest.mock import patch

import pytest

from siting.models import ScoringRun
from tests.support.personas import user_create as _user

pytestmark = pytest.mark.django_db


def _run(user=None, status=ScoringRun.Status.QUEUED) -> ScoringRun:
    return ScoringRun.objects.create(scenario_name="t", params={}, status=status, created_by=user)


class RunListTests:
    def test_it_sends_anonymous_users_to_the_login(self, client):
        resp = client.get("/runs/")
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]

    def test_it_refuses_users_without_a_role(self, client):
        client.force_login(_user("nobody", None))
        assert client.get("/runs/").status_code == 403

    def test_it_lists_runs_for_an_official_without_the_start_form(self, client):
        _run()
        client.force_login(_user("olga", "official"))
        resp = client.get("/runs/")
        assert resp.status_code == 200
        assert resp.context["form"] is None
        assert len(resp.context["page"]) == 1


class RunStartTests:
    def test_it_rejects_get(self, client):
        client.force_login(_user("pat", "planner"))
        assert client.get("/runs/start/").status_code == 405

    def test_it_refuses_an_official(self, client):
        client.force_login(_user("olga", "official"))
        resp = client.post("/runs/start/", {"name": "x", "preset": "default", "sizes": [1000], "draws": 0})
        assert resp.status_code == 403
        assert not ScoringRun.objects.exists()

    def test_it_starts_a_run_and_enqueues_it_once_after_commit(self, client, django_capture_on_commit_callbacks):
        client.force_login(_user("pat", "planner"))
        with patch("siting.tasks.scoring_run_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                resp = client.post(
                    "/runs/start/", {"name": "Mine", "preset": "seed", "sizes": [1000, 100000], "draws": 10}
                )
        run = ScoringRun.objects.get()
        assert resp.status_code == 302 and str(run.code) in resp["Location"]
        publish.assert_called_once_with((run.id,), retry=False)
        assert run.params["sizes"] == [1000, 100000] and run.draws == 10 and run.created_by.username == "pat"
        assert run.dispatched_at is not None

    def test_it_tells_the_user_when_the_broker_is_down_and_keeps_the_run(
        self, client, django_capture_on_commit_callbacks
    ):
        client.force_login(_user("pat", "planner"))
        with patch("siting.tasks.scoring_run_execute_task.apply_async", side_effect=ConnectionError("refused")):
            with django_capture_on_commit_callbacks(execute=True):
                resp = client.post(
                    "/runs/start/", {"name": "x", "preset": "default", "sizes": [1000], "draws": 0}, follow=True
                )
        run = ScoringRun.objects.get()
        assert run.status == ScoringRun.Status.QUEUED and run.dispatched_at is None
        assert "unreachable" in resp.content.decode()

    def test_it_rejects_bad_input_with_400_and_saves_nothing(self, client):
        client.force_login(_user("pat", "planner"))
        resp = client.post("/runs/start/", {"name": "x", "preset": "default", "sizes": [1234], "draws": -1})
        assert resp.status_code == 400
        assert not ScoringRun.objects.exists()


class RunProgressTests:
    def test_it_returns_the_run_state_as_json(self, client):
        run = _run()
        ScoringRun.objects.filter(id=run.id).update(progress_pct=42.0, stage="scoring")
        client.force_login(_user("pat", "planner"))
        data = client.get(f"/runs/{run.code}/progress.json").json()
        assert data["status"] == "queued" and data["progress_pct"] == 42.0 and data["finished"] is False

    def test_it_says_the_stage_in_the_pages_language(self, client):
        run = _run()
        stage = "scoring: 56 chunks of ≤ 125 draws for 2 worker processes"
        ScoringRun.objects.filter(id=run.id).update(stage=stage)
        client.force_login(_user("pat", "planner"))
        assert client.get(f"/runs/{run.code}/progress.json").json()["stage"] == stage
        client.cookies["django_language"] = "fr"
        french = "notation : 56 lots de ≤ 125 tirages pour 2 processus de calcul"
        assert client.get(f"/runs/{run.code}/progress.json", HTTP_ACCEPT_LANGUAGE="fr").json()["stage"] == french
        page = client.get(f"/runs/{run.code}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert f'<span id="run-stage">{french}</span>' in page

    def test_it_hides_progress_from_users_without_a_role(self, client):
        run = _run()
        client.force_login(_user("nobody", None))
        assert client.get(f"/runs/{run.code}/progress.json").status_code == 403


class RunCancelTests:
    def test_it_lets_the_owner_cancel_a_queued_run(self, client):
        pat = _user("pat", "planner")
        run = _run(pat)
        client.force_login(pat)
        resp = client.post(f"/runs/{run.code}/cancel/")
        assert resp.status_code == 302
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.CANCELLED and run.finished_at is not None

    def test_it_refuses_another_planner(self, client):
        run = _run(_user("pat", "planner"))
        client.force_login(_user("max", "planner"))
        assert client.post(f"/runs/{run.code}/cancel/").status_code == 403
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.QUEUED

    def test_it_leaves_a_finished_run_alone(self, client):
        pat = _user("pat", "planner")
        run = _run(pat, status=ScoringRun.Status.SUCCEEDED)
        client.force_login(pat)
        client.post(f"/runs/{run.code}/cancel/")
        run.refresh_from_db()
        assert run.status == ScoringRun.Status.SUCCEEDED
