"""The map data in two parts: the run's site columns once (``map-sites``) and each size's own
columns (``map-data?part=size``). Joined on site id, as the page joins them
(``static/js/ranked_map/data.js``), they are exactly the whole map data of that size
(``map-data``), withdrawn sites left out of both.

The `run` fixture (a scored synthetic world) is in this folder's conftest.py.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from siting.dashboard import selectors as dashboard
from siting.models import Site
from tests.browser.conftest import Journey, browser  # noqa: F401
from tests.support.dashboard import json_strict as _json
from tests.support.dashboard import map_columns as _map_columns
from tests.support.personas import login_as as _login
from tests.support.world import SIZES

pytestmark = pytest.mark.django_db


def _joined(sites: dict, own: dict) -> dict:
    """Join a size's own columns with the site columns on site id (as data.js joinSites)."""
    row = {site_id: k for k, site_id in enumerate(sites["site_id"])}
    out = dict(own)
    for name, values in sites.items():
        if name != "site_id":
            out[name] = [values[row[i]] if i in row else None for i in own["site_id"]]
    return out


class MapDataPartTests:
    def test_the_site_part_and_each_size_part_join_into_the_whole_map_data(self, client, run):
        _login(client)
        sites = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-sites/")))
        assert set(sites) == set(dashboard.MAP_SITE_COLUMNS)
        assert sites["site_id"] == sorted(set(sites["site_id"]))  # site id order, each once
        for size in SIZES:
            whole = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-data/?size={size}")))
            data = _json(client.get(f"/api/runs/{run.code}/map-data/?size={size}&part=size"))
            own = _map_columns(data)
            assert data["part"] == "size" and set(own) == set(dashboard.MAP_SIZE_COLUMNS)
            assert not set(own) & (set(dashboard.MAP_SITE_COLUMNS) - {"site_id"})
            assert sorted(own["site_id"]) == sites["site_id"]  # the same sites, in rank order
            assert _joined(sites, own) == whole, size

    def test_the_sizes_own_part_is_a_fraction_of_the_whole(self, client, run):
        _login(client)
        whole = client.get(f"/api/runs/{run.code}/map-data/?size=10000", HTTP_ACCEPT_ENCODING="identity")
        own = client.get(f"/api/runs/{run.code}/map-data/?size=10000&part=size", HTTP_ACCEPT_ENCODING="identity")
        assert len(own.content) < 0.7 * len(whole.content)

    def test_both_parts_leave_a_withdrawn_site_out(self, client, run):
        _login(client)
        first = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-data/?size=1000&part=size")))["site_id"][0]
        Site.objects.filter(id=first).update(withdrawn=True)
        try:
            dashboard.site_attributes_forget()
            sites = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-sites/")))
            own = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-data/?size=1000&part=size")))
            assert first not in sites["site_id"] and first not in own["site_id"]
            assert sorted(own["site_id"]) == sites["site_id"]
        finally:
            Site.objects.filter(id=first).update(withdrawn=False)
            dashboard.caches_clear()

    def test_it_refuses_an_unknown_part_naming_the_parameter(self, client, run):
        _login(client)
        resp = client.get(f"/api/runs/{run.code}/map-data/?size=1000&part=sites")
        assert resp.status_code == 400 and "part" in resp.json()["error"]

    def test_the_site_part_answers_a_client_that_has_it_with_304(self, client, run):
        _login(client)
        first = client.get(f"/api/runs/{run.code}/map-sites/")
        assert first.status_code == 200 and first["ETag"]
        again = client.get(f"/api/runs/{run.code}/map-sites/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        size = client.get(f"/api/runs/{run.code}/map-data/?size=1000&part=size")
        assert size["ETag"] != first["ETag"]
        assert size["ETag"] != client.get(f"/api/runs/{run.code}/map-data/?size=1000")["ETag"]


JOIN_JS = """async ([base, sitesJson, ownJson]) => {
  const { siteTable, joinSites, decodeColumns } = await import(base + "data.js");
  return joinSites(siteTable(JSON.parse(sitesJson)), decodeColumns(JSON.parse(ownJson))).columns;
}"""


@pytest.mark.browser
def test_the_page_joins_the_parts_into_the_whole_map_data(run, live_server, browser):  # noqa: F811
    size = SIZES[-1]

    def answers() -> tuple[str, str, str]:
        return (
            dashboard.map_sites_json(run, "test-sites"),
            dashboard.map_data_json(run, size, "test-own", part="size"),
            dashboard.map_data_json(run, size, "test-whole"),
        )

    # In a thread of its own: the ORM refuses the thread where Playwright's event loop runs.
    with ThreadPoolExecutor(1) as pool:
        sites_json, own_json, whole_json = pool.submit(answers).result()
    whole = _map_columns(json.loads(whole_json))
    j = Journey(browser, live_server.url, "map-data-join")
    j.page.goto(f"{live_server.url}/accounts/login/")  # the modules run under the site's CSP
    joined = j.page.evaluate(JOIN_JS, ["/static/js/ranked_map/", sites_json, own_json])
    assert j.errors == [] and j.outside == []
    assert joined == whole
