"""Dashboard fixtures: one scored synthetic world per test module, and a run with twin sites."""

from __future__ import annotations

import pytest

from grid.models import GridConnectionPoint, Zone
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun, Site
from siting.scoring.params import ScenarioParams
from tests.support.world import scored_world_create


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run = scored_world_create()
        yield run
        ScoringRun.objects.all().delete()
        Site.objects.all().delete()
        GridConnectionPoint.objects.all().delete()
        Zone.objects.all().delete()
        dashboard.caches_clear()


@pytest.fixture(scope="module")
def twin_run(run, django_db_blocker):
    """A run at 1,000 H100e where one site has an exact twin (same place, same facts) and one lies
    outside the scope of countries: the twins score the same and must share a rank."""
    from siting.runs import services as runs

    with django_db_blocker.unblock():
        table = dashboard.run_tables(run)[1000]
        best = int(table.sort_values("rank").iloc[0]["site_id"])
        original = Site.objects.get(id=best)
        twin = Site.objects.get(id=best)
        twin.pk = None
        twin.external_id = original.external_id + ":twin"
        twin.name = original.name + " (twin)"
        twin.save()
        abroad = Site.objects.get(id=best)
        abroad.pk = None
        abroad.external_id = original.external_id + ":ua"
        abroad.name = "Kyiv thermal plant"
        abroad.country, abroad.longitude, abroad.latitude = "UA", 30.52, 50.45
        abroad.save()
        params = ScenarioParams(sizes=(1000,))
        started = runs.scoring_run_start(params=params.to_dict(), draws=0, name="twins", dispatch=False)
        finished = runs.scoring_run_execute_inline(run_id=started.id)
        assert finished.status == ScoringRun.Status.SUCCEEDED, finished.error
        dashboard.caches_clear()
        yield finished, original.id, twin.id, abroad.id
        finished.delete()
        Site.objects.filter(id__in=[twin.id, abroad.id]).delete()
        dashboard.caches_clear()
