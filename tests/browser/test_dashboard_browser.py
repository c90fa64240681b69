"""A planner's day in a real headless Chromium: log in, ranked map, cluster size, weights,
site page, language. No console error and no request outside the test server; a screenshot
of each step is saved in ``var/test-artifacts/browser/``."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.contrib.auth.models import Group, User

from siting.dashboard import selectors as dashboard
from siting.dashboard import views as dashboard_views
from siting.models import Site
from siting.runs import services as runs
from tests.browser.conftest import ARTIFACTS, Journey
from tests.support.world import scored_world_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait(page, expression: str, timeout_s: float = 60.0) -> None:
    """Wait until ``expression`` is true in the page.

    Polls from the test side: Playwright's own wait_for_function evaluates its predicate
    inside the page, which the site's Content-Security-Policy (no 'unsafe-eval') forbids.
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {expression}")
        page.wait_for_timeout(50)


@pytest.fixture
def ranked_50k(live_server):
    """Score a small world and add a planner (before the browser starts: the ORM refuses to
    run beside Playwright's event loop); return the expected site order at 50k H100e."""
    first = scored_world_create(n_sites=160, n_points=120, draws=10)
    # A twin of the best site at 50k (same place, same facts): the two share a rank, shown "=".
    best = int(dashboard.run_tables(first)[50000].sort_values("rank").iloc[0]["site_id"])
    twin = Site.objects.get(id=best)
    twin.pk, twin.external_id, twin.name = None, twin.external_id + ":twin", twin.name + " (twin)"
    twin.save()
    run = runs.scoring_run_start(params=first.params, draws=10, name="test world with twins", dispatch=False)
    run = runs.scoring_run_execute_inline(run_id=run.id)
    dashboard.caches_clear()
    planner = User.objects.create_user("pia", password="a-long-test-password")
    planner.groups.add(Group.objects.get_or_create(name="planner")[0])
    official = User.objects.create_user("olivier", password="another-test-password")
    official.groups.add(Group.objects.get_or_create(name="official")[0])
    table = dashboard.run_tables(run)[50000]
    ranked = table[table["feasible"]].sort_values(["rank", "site_id"])
    assert ranked.set_index("site_id").loc[[best, twin.id], "rank_shared"].all()
    return {
        "ids": ranked["site_id"].astype(str).tolist(),
        "ranks": [dashboard.rank_text(r, s) for r, s in zip(ranked["rank"], ranked["rank_shared"])],
    }


def test_it_walks_a_planner_through_the_dashboard(live_server, ranked_50k, browser):
    j = Journey(browser, live_server.url, "planner")
    page = j.page

    j.log_in("pia", "a-long-test-password")
    j.shot("logged-in")

    page.goto(f"{live_server.url}/map/")
    _wait(page, "document.getElementById('ranked-map').dataset.drawn >= '1'")
    assert page.locator("#ranked-map .maplibregl-canvas, #ranked-map canvas").count() >= 1
    small = j.table_ids()
    assert len(small) == 25
    j.shot("ranked-map-1000")

    page.click(".size-btn[data-size='50000']")
    _wait(
        page,
        "document.getElementById('ranked-map').dataset.size === '50000'"
        " && Number(document.getElementById('ranked-map').dataset.drawn) >= 2",
    )
    large = j.table_ids()
    assert large and large != small
    assert large == ranked_50k["ids"][: len(large)]
    # The twins share the first rank, shown "=1" in the table and in the map's hover data.
    ranks = page.eval_on_selector_all(
        "#ranked-table tbody tr[data-site-id] td:first-child", "xs => xs.map(x => x.innerText)"
    )
    assert ranks == ranked_50k["ranks"][: len(ranks)] and ranks[:2] == ["=1", "=1"]
    # The ranked sites are drawn as two traces (the best, large, and the others), one legend group.
    hover = page.evaluate(
        "document.getElementById('ranked-map').data.filter(t => t.legendgroup === 'sites' && t.customdata)"
        ".flatMap(t => t.customdata.map(c => c[1]))"
    )
    assert hover.count("=1") == ranked_50k["ranks"].count("=1") >= 2
    assert "size=50000" in page.url
    j.shot("ranked-map-50000")

    for layer in ("#show-excluded", "#layer-departements", "#layer-substations", "#layer-carbon"):
        drawn = int(page.evaluate("document.getElementById('ranked-map').dataset.drawn"))
        page.check(layer)
        _wait(page, f"Number(document.getElementById('ranked-map').dataset.drawn) > {drawn}")
    names = page.evaluate("document.getElementById('ranked-map').data.map(t => t.name)")
    assert "Excluded sites" in names and "Carbon intensity by country" in names
    assert any(n.startswith("Substations") for n in names)
    j.shot("layers")

    before = j.table_ids()
    page.focus("#w-tco")
    page.keyboard.press("Home")  # cost no longer counts
    page.focus("#w-emissions")
    page.keyboard.press("End")  # emissions count most
    _wait(
        page,
        "(() => { const w = JSON.parse(document.getElementById('ranked-table').dataset.weights"
        " || '{}'); return w.emissions === 1 && w.tco === 0; })()",
    )
    after = j.table_ids()
    assert after != before
    assert "ms" in page.inner_text("#reweight-status")
    j.shot("re-weighted")

    # What the table shows is what the export gives, at a filter threshold.
    page.fill("#f-max-ttp", "40")
    _wait(page, "document.getElementById('export-csv').href.includes('max_time_to_power_months=40')")
    shown = j.table_ids()
    csv_text = page.request.get(live_server.url + page.get_attribute("#export-csv", "href")).text()
    exported = [row["site_id"] for row in csv.DictReader(io.StringIO(csv_text))]
    total = int("".join(ch for ch in page.inner_text("#table-summary").split(" ")[0] if ch.isdigit()))
    assert exported[: len(shown)] == shown and len(exported) == total
    j.shot("filtered")

    page.locator("#ranked-table tbody tr[data-site-id]").nth(2).locator("td").nth(3).click()
    page.wait_for_selector("#ranked-table tbody tr.focused")
    j.shot("row-focused")

    name = page.locator("#ranked-table a.site-link").first.inner_text()
    page.locator("#ranked-table a.site-link").first.click()
    _wait(page, "document.getElementById('site-map') && document.getElementById('site-map').dataset.drawn === '1'")
    assert page.inner_text("#site-name") == name
    assert (
        page.locator("#breakdown-chart .main-svg").count() >= 1 and page.locator("#ladder-chart .main-svg").count() >= 1
    )
    j.shot("site-page")

    page.click(".langswitch button[value='fr']")
    page.wait_for_load_state()
    _wait(page, "document.documentElement.lang === 'fr'")
    assert "Décomposition du score" in page.content()
    j.shot("site-page-fr")

    page.goto(f"{live_server.url}/map/")
    _wait(page, "document.getElementById('ranked-map').dataset.drawn >= '1'")
    assert "Poids des critères" in page.content()
    j.shot("ranked-map-fr")

    assert j.errors == []
    assert j.outside == []
    assert len(list(ARTIFACTS.glob("planner-*.png"))) == j.step >= 10


def test_it_lets_an_official_pick_sites_for_a_pdf_comparison(live_server, ranked_50k, browser):
    j = Journey(browser, live_server.url, "official")
    page = j.page
    j.log_in("olivier", "another-test-password")
    page.goto(f"{live_server.url}/map/?size=50000")
    _wait(page, "document.getElementById('ranked-map').dataset.drawn >= '1'")
    assert page.is_disabled("#compare-button")
    boxes = page.locator("#ranked-table input.compare-box")
    boxes.nth(0).check()
    assert page.is_disabled("#compare-button")  # one site is not a comparison
    boxes.nth(1).check()
    assert page.is_enabled("#compare-button")
    picked = page.eval_on_selector_all("#compare-inputs input[name=site]", "xs => xs.map(x => x.value)")
    assert picked == ranked_50k["ids"][:2]
    assert page.input_value("#compare-size") == "50000"
    j.shot("official-selection")
    assert j.errors == [] and j.outside == []


def _map(page, expression: str):
    return page.evaluate(f"(() => {{ const m = document.getElementById('ranked-map'); return {expression}; }})()")


def test_it_aggregates_other_sites_into_cells_at_low_zoom_and_opens_them_on_zoom(
    live_server, ranked_50k, browser, monkeypatch
):
    monkeypatch.setattr(dashboard_views, "MAP_TOP_SITES", 10)  # the small world has fewer than 100 feasible sites
    j = Journey(browser, live_server.url, "cells")
    page = j.page
    j.log_in("pia", "a-long-test-password")
    page.goto(f"{live_server.url}/map/")
    _wait(page, "document.getElementById('ranked-map').dataset.drawn >= '1'")
    points, top = int(_map(page, "m.dataset.points")), int(_map(page, "m.dataset.top"))
    assert points > top == 10  # some sites are not among the best, so there is something to aggregate
    best_ids = "m.data.filter(t => t.legendgroup === 'sites' && t.customdata).flatMap(t => t.customdata.map(c => String(c[0])))"
    # Country view: the others are cells, fewer markers than sites, every site counted in one cell.
    assert _map(page, "m.dataset.band") == "3"
    cells = _map(page, "m.data.find(t => t.legendgroup === 'cells').customdata.map(c => c[0])")
    assert 0 < len(cells) < points - top and sum(cells) == points - top
    assert int(_map(page, "m.dataset.markers")) == top + len(cells) < points
    assert f"{points - top} other sites in {len(cells)} cells" in " ".join(_map(page, "m.data.map(t => t.name || '')"))
    # The best sites are drawn one by one: the table's first rows (by rank) are all there.
    first = j.table_ids()[:top]
    assert set(first) <= set(_map(page, best_ids)) and len(_map(page, best_ids)) == top
    j.shot("country-view")

    drawn = int(_map(page, "m.dataset.drawn"))
    page.evaluate("Plotly.relayout(document.getElementById('ranked-map'), {'map.zoom': 8})")
    _wait(page, f"Number(document.getElementById('ranked-map').dataset.drawn) > {drawn}")
    assert _map(page, "m.dataset.band") == "7" and _map(page, "m.dataset.cells") == "0"
    assert int(_map(page, "m.dataset.markers")) == points
    shown = _map(page, best_ids)
    assert len(shown) == len(set(shown)) == points and set(first) <= set(shown)
    j.shot("zoomed-in")

    # Back out: cells again, the best still one by one.
    drawn = int(_map(page, "m.dataset.drawn"))
    page.evaluate("Plotly.relayout(document.getElementById('ranked-map'), {'map.zoom': 4.2})")
    _wait(page, f"Number(document.getElementById('ranked-map').dataset.drawn) > {drawn}")
    assert _map(page, "m.dataset.band") == "4" and int(_map(page, "m.dataset.cells")) > 0
    assert set(first) <= set(_map(page, best_ids))
    assert j.errors == [] and j.outside == []


@pytest.fixture
def known_headroom_run(live_server):
    """One site whose 400 kV substation's headroom an analyst uploaded (300 MW, RTE capacity
    register, upload 'RTE 2025-Q3'), scored at 100,000 H100e; and a planner."""
    import dataclasses

    from grid.models import GridConnectionPoint, Zone
    from siting.scoring import presets
    from siting.uploads.headroom_imports import headroom_import

    Zone.objects.create(
        code="FR", name="France", carbon_intensity_g_per_kwh=60.0, price_eur_per_mwh=60.0, cooling_degree_days=50.0
    )
    Site.objects.create(
        external_id="survey:S1",
        name="Former plant",
        country="FR",
        longitude=2.0,
        latitude=48.0,
        area_ha=500.0,
        pollution_status="none",
        water_access="river",
        flood_zone=False,
        zoning_type="U",
        buildings_state="none",
        source="upload",
        source_vintage="test",
    )
    GridConnectionPoint.objects.create(
        external_id="rte:VILLE",
        name="Ville 400",
        country="FR",
        longitude=2.0,
        latitude=48.1,
        voltage_kv=400.0,
        headroom_estimate_mw=50.0,
        headroom_method="lines_n1",
        source="rte",
        source_vintage="2025",
    )
    headroom_import(
        data=b"point_id,headroom_mw,date,source\nrte:VILLE,300,2025-09-30,RTE capacity register\n",
        file_name="rte.csv",
        source_name="RTE 2025-Q3",
    )
    params = dataclasses.replace(presets()["default"], sizes=(100_000,))
    run = runs.scoring_run_start(params=params.to_dict(), draws=0, name="known headroom", dispatch=False)
    run = runs.scoring_run_execute_inline(run_id=run.id)
    dashboard.caches_clear()
    planner = User.objects.create_user("pia", password="a-long-test-password")
    planner.groups.add(Group.objects.get_or_create(name="planner")[0])
    return run


def test_the_map_hover_says_where_a_known_headroom_comes_from(live_server, known_headroom_run, browser):
    j = Journey(browser, live_server.url, "known-headroom")
    page = j.page
    j.log_in("pia", "a-long-test-password")
    page.goto(f"{live_server.url}/runs/{known_headroom_run.code}/map/?size=100000")
    _wait(page, "document.getElementById('ranked-map').dataset.drawn >= '1'")
    hover = _map(
        page, "m.data.filter(t => t.legendgroup === 'sites' && t.customdata).flatMap(t => t.customdata.map(c => c[6]))"
    )
    assert len(hover) == 1
    assert "Headroom: known, 300 MW (RTE capacity register" in hover[0] and "upload RTE 2025-Q3" in hover[0]
    assert j.errors == [] and j.outside == []
