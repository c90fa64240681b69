"""The API's cached reads of finished runs: same answers as the dashboard's, few queries, 304s."""

from __future__ import annotations

import gzip
import json
import math

import pytest
from django.http import QueryDict

from siting.dashboard import api_selectors as selectors
from siting.dashboard import selectors as dashboard
from siting.models import Site
from tests.support.personas import login_as as _login

pytestmark = pytest.mark.django_db

QUERIES = (
    "size=1000",
    "size=10000&page_size=7&page=3",
    "size=10000&order=-score&page_size=50",
    "size=10000&order=name&page_size=40",
    "size=10000&order=-name&page_size=40&page=2",
    "size=10000&order=tco&include_excluded=1&page_size=0",
    "size=1000&country=FR,DE&min_score=20&page_size=0",
    "size=10000&hide_polluted=1&hide_flood_zone=1&max_time_to_power_months=60&page_size=0",
    "size=10000&former_use=coal_plant,steel&include_excluded=1&page_size=0",
    "size=10000&w_tco=1&w_emissions=0&w_time_to_power=0.5&page_size=0",
    "size=1000&w_land=2&order=-score&min_score=10&page_size=30&page=2",
)


def _strict(data: bytes):
    return json.loads(json.dumps(json.loads(data), allow_nan=False))


class RankedPageTests:
    @pytest.mark.parametrize("query", QUERIES)
    def test_it_gives_the_dashboards_rows(self, run, query):
        expected_view = dashboard.ranked_view(run, QueryDict(query))
        expected = dashboard.records(expected_view.frame)
        page = selectors.ranked_page(run, QueryDict(query))
        assert page.total == expected_view.total and page.page == expected_view.page
        assert page.weights == expected_view.weights
        # Same keys in the same order, same values (NaN as None both ways).
        assert [list(r) for r in page.sites] == [list(r) for r in expected]
        assert json.dumps(page.sites) == json.dumps(expected)

    def test_it_follows_the_site_attributes_when_they_are_reloaded(self, run):
        before = selectors.size_arrays(run, 1000)
        assert selectors.size_arrays(run, 1000) is before
        site_id = int(before.columns["site_id"][0])
        Site.objects.filter(id=site_id).update(name="Renamed meanwhile")
        dashboard.site_attributes_forget()
        after = selectors.size_arrays(run, 1000)
        assert after is not before
        assert after.columns["site_name"][0] == "Renamed meanwhile"


class ApiCacheTests:
    def test_it_serves_a_warm_page_in_few_queries(self, client, run, django_assert_max_num_queries):
        _login(client)
        url = f"/api/runs/{run.code}/sites/?size=10000&country=FR&min_score=10&page_size=25"
        assert client.get(url).status_code == 200
        # Session, user, role, run: the results come from the process's arrays.
        with django_assert_max_num_queries(4):
            assert client.get(url).status_code == 200
        assert client.get(f"/api/runs/{run.code}/").status_code == 200
        with django_assert_max_num_queries(4):
            assert client.get(f"/api/runs/{run.code}/").status_code == 200

    def test_it_answers_304_to_a_client_that_has_the_answer(self, client, run):
        _login(client)
        url = f"/api/runs/{run.code}/sites/?size=1000&page_size=5"
        first = client.get(url)
        assert first.status_code == 200 and first["ETag"] and "no-cache" in first["Cache-Control"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        other = client.get(f"/api/runs/{run.code}/sites/?size=1000&page_size=6", HTTP_IF_NONE_MATCH=first["ETag"])
        assert other.status_code == 200 and other["ETag"] != first["ETag"]

    def test_it_compresses_for_clients_that_accept_gzip(self, client, run):
        _login(client)
        url = f"/api/runs/{run.code}/sites/?size=1000&page_size=50"
        plain = client.get(url)
        packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
        assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.content) == plain.content
        assert packed["ETag"] == "W/" + plain["ETag"] and "Accept-Encoding" in packed["Vary"]
        # A weak ETag from a compressed answer still validates.
        assert client.get(url, HTTP_IF_NONE_MATCH=packed["ETag"], HTTP_ACCEPT_ENCODING="gzip").status_code == 304

    def test_it_gives_the_same_site_detail_from_its_cache(self, client, run):
        _login(client)
        table = dashboard.run_tables(run)[10000]
        site_id = int(table[table["feasible"]]["site_id"].iloc[0])
        url = f"/api/sites/{site_id}/?run={run.code}&size=10000"
        selectors.api_caches_clear()
        cold = _strict(client.get(url).content)
        warm = _strict(client.get(url).content)
        assert cold == warm and cold["connection_options"] and cold["result"]["site_id"] == site_id

    def test_it_forgets_a_site_detail_once_the_dashboard_caches_are_cleared(self, client, run):
        _login(client)
        table = dashboard.run_tables(run)[1000]
        site_id = int(table["site_id"].iloc[0])
        site = Site.objects.get(id=site_id)
        first = selectors.site_run_detail(run, site, 1000)
        assert selectors.site_run_detail(run, site, 1000)["result"] is first["result"]
        dashboard.caches_clear()
        assert selectors.site_run_detail(run, site, 1000)["result"] is not first["result"]

    def test_it_gives_the_same_reweighting_from_its_cache(self, client, run):
        _login(client)
        url = f"/api/runs/{run.code}/reweight/?size=10000&w_tco=0.7&w_land=0.2"
        selectors.api_caches_clear()
        cold, warm = (_strict(client.get(url).content) for _ in range(2))
        for data in (cold, warm):
            data.pop("elapsed_ms")
        assert cold == warm
        table = dashboard.run_tables(run)[10000]
        score, _rank = dashboard.reweight_scores(table, cold["weights"])
        assert warm["site_id"] == table["site_id"].tolist()
        assert [s is None for s in warm["score"]] == [math.isnan(s) for s in score.tolist()]
        assert [s for s in warm["score"] if s is not None] == pytest.approx(
            [s for s in score.tolist() if not math.isnan(s)], rel=1e-13
        )
        other = _strict(client.get(url.replace("w_tco=0.7", "w_tco=0.1")).content)
        assert other["score"] != warm["score"]
