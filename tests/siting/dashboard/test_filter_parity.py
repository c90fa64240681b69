"""One filter definition: the ranked map's filter (``static/js/ranked_map/filters.js``, run in
headless Chromium on the map data the page receives) keeps exactly the sites that the server's
``filter_mask`` keeps (the exports and the API), on the same cases.

The sites are hand-made to sit on the edges: scores and times to power equal to a bound, just
under or over it by less than the map data's rounding, missing (NaN) values on ranked and
excluded sites, missing places and uses, a withdrawn site. Two levels are checked:

- ``selectRows`` against ``filter_mask`` for the same ``SiteFilters``, on the page's data
  (``map_columns_json``: codes and rounded numbers) and on re-weighted scores; and that the
  query the page builds from a filter (``filterParams``) reads back as the same ``SiteFilters``;
- the page's filter form as a planner fills it (typed text) against the server answering the
  export link the page builds from it: the table and the export keep the same sites.
"""

from __future__ import annotations

import json
import math
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest
from django.http import QueryDict

from siting.dashboard.selectors import MAP_DIGITS, SiteFilters, filter_mask, json_array, map_columns_json
from tests.browser.conftest import Journey, browser  # noqa: F401

pytestmark = [pytest.mark.browser]

NAN = math.nan

SITES = [
    # site_id, country, region, departement, former use, feasible, score, time to power [months],
    # pollution, flood zone (1/0/NaN), withdrawn
    (1, "FR", "11", "75", "coal_plant", True, 80.0, 20.0, "none", 0.0, False),
    (2, "FR", "11", "77", "steel", True, 60.0, 24.0, "suspected", 0.0, False),
    (3, "FR", "84", "69", "chemicals", True, 59.9996, 24.001, "confirmed", 1.0, False),
    (4, "DE", None, None, "gas_plant", True, 60.0004, 23.9999, None, NAN, False),
    (5, "DE", None, None, "steel", False, NAN, 90.0, "confirmed", 1.0, False),
    (6, "FR", "11", "75", "coal_plant", False, NAN, NAN, "none", 0.0, False),
    (7, "BE", None, None, "refinery", True, NAN, 10.0, "none", 0.0, False),
    (8, "NL", None, None, "paper", True, 0.0, NAN, "none", 0.0, False),
    (9, "FR", None, None, None, True, 100.0, 36.0, "remediated", 0.0, False),
    (10, None, None, None, "steel", True, 45.5, 12.345, "unknown", NAN, False),
    (11, "FR", "84", "69", "other_plant", True, 99.99996, 0.004, "none", 0.0, False),
    (12, "DE", None, None, "steel", True, 90.0, 5.0, "none", 0.0, True),
    (13, "FR", "11", "77", "steel", False, NAN, 24.0, "none", NAN, False),
    (14, "IT", None, None, "automotive", True, 24.0, 36.6, "none", 0.0, False),
    (15, "FR", "11", "75", "military", True, 70.25, 40.3, "none", 0.0, False),
    (16, "ES", None, None, "rail", True, 59.99949, 24.0049, "suspected", 0.0, False),
]

# Scores after a re-weighting (the reweight endpoint's, excluded sites unscored), site by site.
REWEIGHTED = [55.0, 61.0, 49.99996, 50.0, NAN, NAN, 50.00001, NAN, 12.0, 75.0, 50.0, 99.0, NAN, 50.0, 3.0, 49.5]

CASES = {
    "no filter": SiteFilters(),
    "excluded sites too": SiteFilters(include_excluded=True),
    "one country": SiteFilters(country=("FR",)),
    "two countries": SiteFilters(country=("FR", "DE")),
    "a country no site is in": SiteFilters(country=("XX",)),
    "one region": SiteFilters(region=("11",)),
    "two regions, excluded too": SiteFilters(region=("11", "84"), include_excluded=True),
    "one departement": SiteFilters(departement=("75",)),
    "region and departement": SiteFilters(region=("11",), departement=("77",)),
    "one former use": SiteFilters(former_use=("steel",)),
    "two former uses, excluded too": SiteFilters(former_use=("steel", "coal_plant"), include_excluded=True),
    "minimum score 0": SiteFilters(min_score=0.0),
    "minimum score 60": SiteFilters(min_score=60.0),
    "minimum score 60, excluded too": SiteFilters(min_score=60.0, include_excluded=True),
    "minimum score 24": SiteFilters(min_score=24.0),
    "minimum score 100": SiteFilters(min_score=100.0),
    "time to power 24": SiteFilters(max_time_to_power_months=24.0),
    "time to power 24, excluded too": SiteFilters(max_time_to_power_months=24.0, include_excluded=True),
    "time to power 40.3": SiteFilters(max_time_to_power_months=40.3),
    "time to power 36.6": SiteFilters(max_time_to_power_months=36.6),
    "time to power 12.35": SiteFilters(max_time_to_power_months=12.35),
    "time to power 0.01": SiteFilters(max_time_to_power_months=0.01),
    "hide polluted": SiteFilters(hide_polluted=True),
    "hide polluted, excluded too": SiteFilters(hide_polluted=True, include_excluded=True),
    "hide flood zones": SiteFilters(hide_flood_zone=True),
    "hide flood zones, excluded too": SiteFilters(hide_flood_zone=True, include_excluded=True),
    "everything at once": SiteFilters(
        country=("FR", "DE"),
        region=("11",),
        former_use=("steel", "coal_plant"),
        min_score=50.0,
        max_time_to_power_months=30.0,
        hide_polluted=True,
        hide_flood_zone=True,
    ),
    "everything, excluded too": SiteFilters(
        country=("FR", "DE"), min_score=60.0, max_time_to_power_months=24.0, hide_flood_zone=True, include_excluded=True
    ),
    "nothing left": SiteFilters(country=("FR",), former_use=("paper",)),
}

# Bounds on re-weighted scores: the page filters the reweight endpoint's scores.
REWEIGHTED_CASES = {
    "re-weighted, no filter": SiteFilters(),
    "re-weighted, minimum score 50": SiteFilters(min_score=50.0),
    "re-weighted, minimum score 50, excluded too": SiteFilters(min_score=50.0, include_excluded=True),
    "re-weighted, minimum score 0": SiteFilters(min_score=0.0),
}

# The filter form as typed: name → values, as FormData.getAll gives them.
FORMS = {
    "untouched": {"min_score": ["0"], "max_time_to_power_months": [""], "region": [""], "departement": [""]},
    "minimum score 60": {"min_score": ["60"]},
    "minimum score 100": {"min_score": ["100"]},
    "time to power 24": {"max_time_to_power_months": ["24"]},
    "time to power equal to a site's, 3 decimals": {"max_time_to_power_months": ["24.001"]},
    "time to power between a site's and its rounding": {"max_time_to_power_months": ["24.005"]},
    "time to power with a decimal comma": {"max_time_to_power_months": ["24,5"]},
    "time to power 40.3": {"max_time_to_power_months": ["40.3"]},
    "time to power 36.6": {"max_time_to_power_months": ["36.6"]},
    "time to power under a step": {"max_time_to_power_months": ["0.004"]},
    "time to power 0": {"max_time_to_power_months": ["0"]},
    "time to power negative": {"max_time_to_power_months": ["-3"]},
    "time to power not a number": {"max_time_to_power_months": ["soon"]},
    "everything": {
        "country": ["FR", "DE"],
        "region": ["11"],
        "former_use": ["steel", "coal_plant"],
        "min_score": ["50"],
        "max_time_to_power_months": ["30"],
        "hide_polluted": ["1"],
        "hide_flood_zone": ["1"],
    },
    "departement, any region": {"region": [""], "departement": ["69"]},
    "nothing left": {"country": ["FR"], "former_use": ["paper"]},
}

JS = """async ([base, columnsJson, codesJson, reweighted, cases, forms]) => {
  const { decodeColumns } = await import(base + "data.js");
  const { filterParams, filtersFromForm, selectRows, TIME_TO_POWER_STEP_MONTHS } = await import(base + "filters.js");
  const data = decodeColumns({ columns: JSON.parse(columnsJson), codes: JSON.parse(codesJson) });
  const c = data.columns, ids = (rows) => rows.map((i) => c.site_id[i]);
  // As the page maps the reweight endpoint's answer onto its rows (main.js reweight).
  const answer = { site_id: JSON.parse(reweighted[0]), score: JSON.parse(reweighted[1]) };
  const at = new Map(answer.site_id.map((id, k) => [id, k]));
  const scores = { map: c.score, reweighted: c.site_id.map((id) => answer.score[at.get(id)]) };
  const out = { step: TIME_TO_POWER_STEP_MONTHS, cases: {}, forms: {} };
  for (const [name, score, filters] of cases) {
    out.cases[name] = { ids: ids(selectRows(c, scores[score], filters)), params: filterParams(filters) };
  }
  for (const [name, values] of Object.entries(forms)) {
    const filters = filtersFromForm(values);
    out.forms[name] = { ids: ids(selectRows(c, c.score, filters)), params: filterParams(filters) };
  }
  return out;
}"""


def _frame() -> pd.DataFrame:
    columns = [
        "site_id",
        "country",
        "region_code",
        "departement_code",
        "former_use",
        "feasible",
        "score",
        "time_to_power_months",
        "pollution_status",
        "flood_zone",
        "withdrawn",
    ]
    frame = pd.DataFrame(SITES, columns=columns)
    frame["site_name"] = "Site " + frame["site_id"].astype(str)
    frame["rank"] = frame["score"].where(frame["feasible"]).rank(ascending=False, method="min")
    return frame


def _js_filter(frame: pd.DataFrame, browser, live_server) -> dict:
    """Run the page's filter module in Chromium on what the page would receive for ``frame``."""
    # The map data leaves withdrawn sites out (selectors.map_data_json); filter_mask drops them.
    columns, codes = map_columns_json(frame[~frame["withdrawn"]])
    # The reweight endpoint's arrays (api_selectors.reweight_json), for every site of the size.
    reweighted = [json_array(frame["site_id"].to_numpy(dtype=np.int64)), json_array(np.array(REWEIGHTED), 15)]
    cases = [[name, "map", _as_js(f)] for name, f in CASES.items()]
    cases += [[name, "reweighted", _as_js(f)] for name, f in REWEIGHTED_CASES.items()]
    j = Journey(browser, live_server.url, "filter-parity")
    # A page of the site, so the modules are imported under its Content-Security-Policy.
    j.page.goto(f"{live_server.url}/accounts/login/")
    out = j.page.evaluate(JS, ["/static/js/ranked_map/", columns, codes, reweighted, cases, FORMS])
    assert j.errors == [] and j.outside == []
    return out


def _as_js(filters: SiteFilters) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in filters.__dict__.items()}


def _server_ids(frame: pd.DataFrame, filters: SiteFilters, score: np.ndarray | None = None) -> list[int]:
    return sorted(int(i) for i in frame["site_id"][filter_mask(frame, filters, score)])


def _query(params: list[list[str]]) -> QueryDict:
    return QueryDict(urlencode([(name, value) for name, value in params]))


def test_it_keeps_the_same_sites_in_the_page_as_on_the_server(live_server, browser):
    frame = _frame()
    js = _js_filter(frame, browser, live_server)
    assert js["step"] == 10.0 ** -MAP_DIGITS["time_to_power_months"]

    mismatches = {}
    for name, filters in [*CASES.items(), *REWEIGHTED_CASES.items()]:
        score = np.array(REWEIGHTED) if name in REWEIGHTED_CASES else None
        server, page = _server_ids(frame, filters, score), sorted(js["cases"][name]["ids"])
        if server != page:
            mismatches[name] = {"server": server, "page": page}
    assert mismatches == {}
    # The cases reach every kind of result: empty, all ranked sites, excluded ones.
    assert js["cases"]["nothing left"]["ids"] == js["cases"]["a country no site is in"]["ids"] == []
    assert len(js["cases"]["excluded sites too"]["ids"]) == len(SITES) - 1  # less the withdrawn site
    assert len({tuple(sorted(r["ids"])) for r in js["cases"].values()}) > 20


def test_it_sends_the_server_the_filter_it_applies(live_server, browser):
    js = _js_filter(_frame(), browser, live_server)
    differ = {}
    for name, filters in [*CASES.items(), *REWEIGHTED_CASES.items()]:
        read = SiteFilters.from_query(_query(js["cases"][name]["params"]))
        if read != filters:
            differ[name] = (read, filters)
    assert differ == {}


def test_it_exports_the_sites_its_table_shows_whatever_the_planner_types(live_server, browser):
    frame = _frame()
    js = _js_filter(frame, browser, live_server)
    mismatches = {}
    for name in FORMS:
        page = js["forms"][name]
        server = _server_ids(frame, SiteFilters.from_query(_query(page["params"])))
        if server != sorted(page["ids"]):
            mismatches[name] = {"server": server, "page": sorted(page["ids"]), "query": page["params"]}
    assert mismatches == {}
    # A bound typed between a site's time to power and its rounding in the map data is taken to
    # the map data's step, and sent so: both sides drop site 16 (24.0049 months, sent as 24.01).
    assert js["forms"]["time to power between a site's and its rounding"]["params"] == [
        ["max_time_to_power_months", "24"]
    ]
    assert 16 not in js["forms"]["time to power between a site's and its rounding"]["ids"]
    assert json.dumps(js["forms"]["untouched"]["params"]) == "[]"
