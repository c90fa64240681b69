"""Dashboard pages and API: permissions, filters, exports, re-weighting, site details, OpenAPI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import numpy as np
import pytest
from django.urls import resolve
from django.utils.html import escape

from grid.models import GridConnectionPoint, Zone
from siting.dashboard import api
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun, Site
from siting.runs import selectors as run_selectors
from siting.scoring import score_inputs
from siting.scoring.params import ScenarioParams
from tests.support.personas import login_as as _login
from tests.support.world import SIZES, scored_world_create

pytestmark = pytest.mark.django_db


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


def _reject_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON: a browser's JSON.parse rejects it")


def _json(resp):
    assert resp.status_code == 200, resp.content[:300]
    return json.loads(resp.content, parse_constant=_reject_constant)


class ApiPermissionTests:
    def test_it_answers_anonymous_callers_with_401_json(self, client, run):
        resp = client.get(f"/api/runs/{run.code}/sites/?size=1000")
        assert resp.status_code == 401 and resp.json()["error"]

    def test_it_refuses_users_without_a_role(self, client, run):
        _login(client, None)
        for url in (
            "/api/runs/",
            f"/api/runs/{run.code}/sites/",
            f"/api/runs/{run.code}/reweight/?size=1000",
            "/api/grid/points/",
            "/api/boundaries/country/",
        ):
            assert client.get(url).status_code == 403, url

    def test_it_serves_every_role(self, client, run):
        for role in ("planner", "analyst", "official", "admin"):
            client.logout()
            _login(client, role)
            assert client.get("/api/runs/").status_code == 200

    def test_it_sends_anonymous_page_visitors_to_the_login(self, client, run):
        resp = client.get(f"/runs/{run.code}/map/")
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


class RankedSitesApiTests:
    def test_it_returns_feasible_sites_by_rank_with_the_stored_numbers(self, client, run):
        _login(client)
        data = _json(client.get(f"/api/runs/{run.code}/sites/?size=10000&page_size=1000"))
        table = dashboard.run_tables(run)[10000]
        feasible = table[table["feasible"]].sort_values(["rank", "site_id"])  # equal ranks by site id
        assert data["total"] == len(feasible)
        assert [s["site_id"] for s in data["sites"]] == feasible["site_id"].tolist()
        first = data["sites"][0]
        row = feasible.iloc[0]
        assert first["rank"] == 1 and first["score"] == pytest.approx(row["score"], rel=1e-12)
        assert first["tco_eur_per_gpu_hour"] == pytest.approx(row["tco_eur_per_gpu_hour"], rel=1e-12)

    def test_it_filters_by_country_departement_use_score_and_switches(self, client, run):
        _login(client)
        base = f"/api/runs/{run.code}/sites/?size=1000&page_size=1000"
        every = _json(client.get(base))["sites"]
        fr = _json(client.get(base + "&country=fr"))["sites"]
        assert fr and {s["country"] for s in fr} == {"FR"} and len(fr) < len(every)
        dep = _json(client.get(base + "&departement=57&former_use=steel"))["sites"]
        assert dep and all(s["departement_code"] == "57" and s["former_use"] == "steel" for s in dep)
        assert {s["site_id"] for s in _json(client.get(base + "&region=44"))["sites"]} == {s["site_id"] for s in dep}
        high = _json(client.get(base + "&min_score=60"))["sites"]
        assert all(s["score"] >= 60 for s in high) and len(high) == sum(s["score"] >= 60 for s in every)
        limit = sorted(s["time_to_power_months"] for s in every)[len(every) // 2 - 1]  # a threshold inside the data
        assert limit < max(s["time_to_power_months"] for s in every)
        fast = _json(client.get(base + f"&max_time_to_power_months={limit}"))["sites"]
        assert 0 < len(fast) < len(every) and all(s["time_to_power_months"] <= limit for s in fast)
        assert len(fast) == sum(s["time_to_power_months"] <= limit for s in every)
        ids = {s["site_id"] for s in every}
        dry = {s["site_id"] for s in _json(client.get(base + "&hide_flood_zone=1"))["sites"]}
        flooded = set(Site.objects.filter(flood_zone=True).values_list("id", flat=True)) & ids
        assert flooded and dry == ids - flooded
        clean = {s["site_id"] for s in _json(client.get(base + "&hide_polluted=1"))["sites"]}
        polluted = set(Site.objects.filter(pollution_status="confirmed").values_list("id", flat=True)) & ids
        assert polluted and clean == ids - polluted

    def test_it_includes_excluded_sites_only_when_asked(self, client, run):
        _login(client)
        base = f"/api/runs/{run.code}/sites/?size=50000&page_size=1000"
        default = _json(client.get(base))
        both = _json(client.get(base + "&include_excluded=1"))
        assert both["total"] == 150 > default["total"]
        excluded = [s for s in both["sites"] if not s["feasible"]]
        assert excluded and all(s["rank"] is None and s["exclusion_reasons"] for s in excluded)

    def test_it_paginates_and_sorts(self, client, run):
        _login(client)
        base = f"/api/runs/{run.code}/sites/?size=1000"
        p1 = _json(client.get(base + "&page_size=10&page=1"))
        p2 = _json(client.get(base + "&page_size=10&page=2"))
        every = _json(client.get(base + "&page_size=1000"))["sites"]
        assert [s["site_id"] for s in p1["sites"] + p2["sites"]] == [s["site_id"] for s in every[:20]]
        ranks = [(s["rank"], s["site_id"]) for s in every]
        assert ranks == sorted(ranks) and every[0]["rank"] == 1
        by_tco = _json(client.get(base + "&page_size=1000&order=tco"))["sites"]
        values = [s["tco_eur_per_gpu_hour"] for s in by_tco]
        assert values == sorted(values)

    def test_it_exports_the_same_view_as_csv_and_geojson(self, client, run):
        _login(client)
        query = "size=1000&country=DE&min_score=30&w_tco=1&w_emissions=0"
        listed = _json(client.get(f"/api/runs/{run.code}/sites/?{query}&page_size=1000"))["sites"]
        resp = client.get(f"/api/runs/{run.code}/sites/?{query}&format=csv")
        assert resp["Content-Type"].startswith("text/csv") and "attachment" in resp["Content-Disposition"]
        rows = list(
            csv.DictReader(
                io.StringIO(b"".join(resp.streaming_content).decode() if resp.streaming else resp.content.decode())
            )
        )
        assert [int(r["site_id"]) for r in rows] == [s["site_id"] for s in listed]
        assert [float(r["score"]) for r in rows] == pytest.approx([s["score"] for s in listed], rel=1e-5)
        gj = json.loads(client.get(f"/api/runs/{run.code}/sites/?{query}&format=geojson").content)
        assert gj["type"] == "FeatureCollection"
        assert [f["properties"]["site_id"] for f in gj["features"]] == [s["site_id"] for s in listed]
        f0 = gj["features"][0]
        assert f0["geometry"]["coordinates"] == [f0["properties"]["longitude"], f0["properties"]["latitude"]]

    @pytest.mark.parametrize(
        "query, field",
        [
            ("size=77", "size"),
            ("size=1000&min_score=abc", "min_score"),
            ("size=1000&min_score=120", "min_score"),
            ("size=1000&former_use=castle", "former_use"),
            ("size=1000&w_tco=-1", "weights"),
            ("size=1000&order=zzz", "order"),
            ("size=1000&format=xlsx", "format"),
            ("size=1000&hide_polluted=maybe", "hide_polluted"),
            ("size=1000&page_size=5000", "page_size"),
        ],
    )
    def test_it_names_the_bad_parameter(self, client, run, query, field):
        _login(client)
        resp = client.get(f"/api/runs/{run.code}/sites/?{query}")
        assert resp.status_code == 400 and resp.json()["error"].startswith(field)

    def test_it_answers_unknown_runs_and_sites_with_json_404(self, client, run):
        _login(client)
        for url in ("/api/runs/00000000-0000-0000-0000-000000000000/sites/?size=1000", "/api/sites/999999/"):
            resp = client.get(url)
            assert resp.status_code == 404 and resp.json() == {"error": "not found"}

    def test_it_refuses_results_of_an_unfinished_run(self, client, run):
        _login(client)
        queued = ScoringRun.objects.create(scenario_name="q", params={}, status=ScoringRun.Status.QUEUED)
        resp = client.get(f"/api/runs/{queued.code}/sites/?size=1000")
        assert resp.status_code == 400 and "queued" in resp.json()["error"]

    def test_it_drops_withdrawn_sites(self, client, run):
        _login(client)
        base = f"/api/runs/{run.code}/sites/?size=1000&page_size=1000"
        first = _json(client.get(base))["sites"][0]["site_id"]
        Site.objects.filter(id=first).update(withdrawn=True)
        try:
            dashboard.site_attributes_forget()
            assert first not in {s["site_id"] for s in _json(client.get(base))["sites"]}
            cols = _json(client.get(f"/api/runs/{run.code}/map-data/?size=1000"))["columns"]
            assert first not in cols["site_id"]
        finally:
            Site.objects.filter(id=first).update(withdrawn=False)
            dashboard.caches_clear()

    def test_it_drops_the_sites_of_a_withdrawn_upload_at_once(self, client, run, django_capture_on_commit_callbacks):
        from siting.models import SiteUpload
        from siting.uploads.services import site_upload_withdraw

        user = _login(client, "analyst")
        base = f"/api/runs/{run.code}/sites/?size=1000&page_size=1000"
        listed = [s["site_id"] for s in _json(client.get(base))["sites"]][:3]  # warms the caches
        upload = SiteUpload.objects.create(
            file_name="survey.geojson", sha256="0" * 64, source_name="survey", uploaded_by=user
        )
        Site.objects.filter(id__in=listed).update(upload=upload)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                assert site_upload_withdraw(upload=upload, user=user) == 3
            assert not set(listed) & {s["site_id"] for s in _json(client.get(base))["sites"]}
        finally:
            Site.objects.filter(id__in=listed).update(upload=None, withdrawn=False)
            dashboard.caches_clear()

    def test_it_shows_a_single_size_run_where_no_site_is_feasible(self, client, run):
        from siting.runs import services as runs

        params = ScenarioParams(sizes=(1000,), max_time_to_power_months=1.0)
        strict = runs.scoring_run_start(params=params.to_dict(), draws=5, name="strict", dispatch=False)
        strict = runs.scoring_run_execute_inline(run_id=strict.id)
        assert strict.status == ScoringRun.Status.SUCCEEDED
        _login(client)
        assert _json(client.get(f"/api/runs/{strict.code}/sites/?size=1000"))["total"] == 0
        cols = _json(client.get(f"/api/runs/{strict.code}/map-data/"))["columns"]
        assert len(cols["site_id"]) == 150 and not any(cols["feasible"])
        assert client.get(f"/runs/{strict.code}/map/").status_code == 200
        slow = cols["site_id"][
            cols["exclusion_reasons"].index(next(r for r in cols["exclusion_reasons"] if "time_to_power" in r))
        ]
        resp = client.get(f"/sites/{slow}/?run={strict.code}")
        assert (
            resp.status_code == 200
            and str(dashboard.EXCLUSION_LABELS["time_to_power_too_long"]) in resp.content.decode()
        )
        strict.delete()


class ReweightTests:
    def test_it_ranks_as_a_full_rescoring_with_those_weights_would(self, client, run):
        _login(client)
        weights = {"tco": 0.1, "emissions": 0.6, "time_to_power": 0.1, "land": 0.0, "water": 0.1, "reliability": 0.1}
        query = "&".join(f"w_{k}={v}" for k, v in weights.items())
        data = _json(client.get(f"/api/runs/{run.code}/reweight/?size=10000&{query}"))
        params = dataclasses.replace(ScenarioParams(sizes=(10000,)), weights=weights)
        fresh = score_inputs(run_selectors.scoring_inputs(), params).table.set_index("site_id")
        expected_rank = fresh.loc[data["site_id"], "rank"].to_numpy()
        got_rank = np.array([np.nan if r is None else r for r in data["rank"]], dtype=float)
        np.testing.assert_array_equal(got_rank, expected_rank)
        got_score = np.array([np.nan if s is None else s for s in data["score"]], dtype=float)
        np.testing.assert_allclose(got_score, fresh.loc[data["site_id"], "score"].to_numpy(), atol=5e-4)
        assert (
            data["elapsed_ms"] >= 0
            and "reweight;dur=" in client.get(f"/api/runs/{run.code}/reweight/?size=10000&{query}")["Server-Timing"]
        )

    def test_it_changes_the_order_when_weights_change(self, client, run):
        _login(client)
        a = _json(
            client.get(
                f"/api/runs/{run.code}/sites/?size=1000&page_size=20&w_tco=1&w_emissions=0&w_time_to_power=0"
                "&w_land=0&w_water=0&w_reliability=0"
            )
        )
        b = _json(
            client.get(
                f"/api/runs/{run.code}/sites/?size=1000&page_size=20&w_tco=0&w_emissions=1&w_time_to_power=0"
                "&w_land=0&w_water=0&w_reliability=0"
            )
        )
        assert [s["site_id"] for s in a["sites"]] != [s["site_id"] for s in b["sites"]]
        tco = [s["tco_eur_per_gpu_hour"] for s in a["sites"]]
        assert tco == sorted(tco)  # ranked on cost alone, cheapest first

    def test_it_refuses_all_zero_weights(self, client, run):
        _login(client)
        query = "&".join(f"w_{k}=0" for k in ("tco", "emissions", "time_to_power", "land", "water", "reliability"))
        assert client.get(f"/api/runs/{run.code}/reweight/?size=1000&{query}").status_code == 400


class MapDataTests:
    def test_it_gives_one_equal_length_column_per_field(self, client, run):
        _login(client)
        data = _json(client.get(f"/api/runs/{run.code}/map-data/?size=10000"))
        cols = data["columns"]
        assert set(cols) == set(dashboard.MAP_COLUMNS)
        assert {len(v) for v in cols.values()} == {150}
        table = dashboard.run_tables(run)[10000].set_index("site_id")
        i = cols["rank"].index(1)
        assert cols["score"][i] == pytest.approx(table.loc[cols["site_id"][i], "score"], abs=5e-4)

    def test_it_marks_the_largest_cluster_each_site_can_host(self, client, run):
        tables = dashboard.run_tables(run)
        for site_id in tables[1000]["site_id"].tolist()[:40]:
            feasible = [s for s in SIZES if bool(tables[s].set_index("site_id").loc[site_id, "feasible"])]
            largest = tables[1000].set_index("site_id").loc[site_id, "largest_size_h100e"]
            assert (max(feasible) if feasible else None) == (None if np.isnan(largest) else largest)


class SiteDetailTests:
    def test_it_explains_the_chosen_connection_among_the_options(self, client, run):
        _login(client)
        table = dashboard.run_tables(run)[10000]
        row = table[(table["connection_kind"] == "new_line") & table["feasible"]].iloc[0]
        data = _json(client.get(f"/api/sites/{int(row['site_id'])}/?run={run.code}&size=10000"))
        chosen = [o for o in data["connection_options"] if o["point_id"] == data["chosen_point_id"]]
        assert len(chosen) == 1 and chosen[0]["qualifies"]
        assert chosen[0]["cost_meur"] == pytest.approx(row["connection_cost_meur"], rel=1e-9)
        assert chosen[0]["line_km"] == pytest.approx(row["connection_distance_km"], rel=1e-9)
        assert chosen[0]["time_to_power_months"] == pytest.approx(row["time_to_power_months"], rel=1e-9)
        # The model takes the nearest qualifying point: none before it qualifies.
        before = data["connection_options"][: data["connection_options"].index(chosen[0])]
        assert not any(o["qualifies"] for o in before)
        assert sum(b["points"] for b in data["breakdown"]) == pytest.approx(row["score"], rel=1e-9)
        assert [r["size_h100e"] for r in data["ladder"]] == list(SIZES)

    def test_it_answers_strict_json_when_a_value_is_not_a_number(self):
        # NaN (no line, no headroom, no score) and infinities come out as null, never as the
        # bare NaN that Python's json writes and a browser's JSON.parse rejects.
        resp = api._json({"a": float("nan"), "b": [np.float64("inf"), 1.5], "c": {"d": np.float64("nan")}, "e": "x"})
        assert json.loads(resp.content, parse_constant=_reject_constant) == {
            "a": None,
            "b": [None, 1.5],
            "c": {"d": None},
            "e": "x",
        }

    def test_it_renders_the_site_page_with_its_charts(self, client, run):
        _login(client)
        site_id = int(dashboard.run_tables(run)[1000].sort_values("rank").iloc[0]["site_id"])
        resp = client.get(f"/sites/{site_id}/?run={run.code}&size=1000")
        assert resp.status_code == 200
        figures = resp.context["figures"]
        assert {"map", "breakdown", "ladder"} <= set(figures)
        body = resp.content.decode()
        assert 'id="mc-interval"' in body and "assumption" in body
        assert client.get(f"/sites/{site_id}/?run={run.code}&size=3").status_code == 404

    def test_it_says_why_an_excluded_site_fails(self, client, run):
        _login(client)
        table = dashboard.run_tables(run)[50000]
        row = table[~table["feasible"]].iloc[0]
        resp = client.get(f"/sites/{int(row['site_id'])}/?run={run.code}&size=50000")
        labels = dashboard.exclusion_labels(row["exclusion_reasons"])
        assert labels and all(label in resp.content.decode() for label in labels)


class MapPageTests:
    def test_it_opens_the_latest_run(self, client, run):
        _login(client)
        resp = client.get("/map/")
        assert resp.status_code == 302 and resp["Location"].endswith(f"/runs/{run.code}/map/")

    def test_it_renders_the_config_the_script_reads(self, client, run):
        _login(client)
        resp = client.get(f"/runs/{run.code}/map/?size=10000")
        assert resp.status_code == 200
        config = resp.context["config"]
        assert config["sizes"] == list(SIZES) and config["size"] == 10000
        for url in config["urls"].values():
            assert resolve(url.split("?")[0])
        assert b'src="/static/vendor/plotly-map/plotly-map.min.js"' in resp.content  # the partial bundle, served here
        assert b"https://" not in resp.content.split(b"<footer")[0].replace(b'href="https://', b"")

    def test_it_offers_the_pdf_comparison_to_officials_only(self, client, run):
        from django.urls import reverse

        _login(client, "official")
        resp = client.get(f"/runs/{run.code}/map/")
        assert resp.context["config"]["compareUrl"] == reverse("siting-report-create")
        assert b'id="compare-form"' in resp.content
        client.logout()
        _login(client, "planner")
        resp = client.get(f"/runs/{run.code}/map/")
        assert resp.context["config"]["compareUrl"] is None and b'id="compare-form"' not in resp.content

    def test_it_speaks_french(self, client, run):
        _login(client)
        client.cookies["django_language"] = "fr"
        resp = client.get(f"/runs/{run.code}/map/", HTTP_ACCEPT_LANGUAGE="fr")
        body = resp.content.decode()
        assert "Poids des critères" in body and "Taille de grappe" in body

    def test_it_says_when_no_run_has_finished(self, client):
        _login(client)
        ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).update(status=ScoringRun.Status.FAILED)
        resp = client.get("/map/")
        assert resp.status_code == 200 and resp.templates[0].name == "dashboard/ranked_map_empty.html"


class OpenApiTests:
    def test_it_documents_every_api_route_and_only_those(self, client):
        from django.urls import get_resolver

        doc = client.get("/api/openapi.json").json()
        assert doc["openapi"].startswith("3.")
        documented = set(doc["paths"])
        routes = set()
        for pattern in get_resolver().url_patterns:
            for sub in getattr(pattern, "url_patterns", [pattern]):
                route = str(sub.pattern)
                if route.startswith("api/") and route != "api/openapi.json" and route != "api/docs/":
                    routes.add(
                        "/"
                        + route.replace("<uuid:code>", "{code}")
                        .replace("<int:site_id>", "{site_id}")
                        .replace("<str:kind>", "{kind}")
                    )
        assert routes == documented

    def test_it_lists_the_endpoints_on_a_page(self, client):
        resp = client.get("/api/docs/")
        assert resp.status_code == 200 and b"/api/runs/{code}/reweight/" in resp.content


# --- MODEL.md v2: shared ranks, readiness, the chosen connection, old runs ----------------------


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


class SharedRankTests:
    def test_it_flags_ranks_that_several_sites_hold(self):
        flags = dashboard.shared_ranks(np.array([1.0, 1.0, 3.0, np.nan, 4.0, np.nan]))
        assert flags.tolist() == [True, True, False, False, False, False]
        assert dashboard.rank_text(3.0, True) == "=3" and dashboard.rank_text(3.0, False) == "3"
        assert dashboard.rank_text(float("nan"), True) == "–" and dashboard.rank_text(None) == "–"

    def test_it_gives_equal_scores_one_rank_marked_shared_in_json_csv_and_geojson(self, client, twin_run):
        finished, original, twin, _abroad = twin_run
        _login(client)
        base = f"/api/runs/{finished.code}/sites/?size=1000"
        sites = _json(client.get(base + "&page_size=1000"))["sites"]
        by_id = {s["site_id"]: s for s in sites}
        a, b = by_id[original], by_id[twin]
        assert a["score"] == b["score"] and a["rank"] == b["rank"]
        assert a["rank_shared"] is True and b["rank_shared"] is True
        # Competition ranking: the next site after two at rank r is r + 2.
        after = [s["rank"] for s in sites if s["rank"] > a["rank"]]
        assert min(after) == a["rank"] + 2
        assert sum(s["rank_shared"] for s in sites) == sum(
            sum(1 for t in sites if t["rank"] == s["rank"]) > 1 for s in sites
        )
        rows = list(csv.DictReader(io.StringIO(client.get(base + "&format=csv").content.decode())))
        assert list(rows[0])[:2] == ["rank", "rank_shared"]
        shared = {int(r["site_id"]) for r in rows if r["rank_shared"] == "True"}
        assert {original, twin} <= shared
        gj = json.loads(client.get(base + "&format=geojson").content)
        props = {f["id"]: f["properties"] for f in gj["features"]}
        assert props[original]["rank_shared"] is True and props[twin]["rank"] == a["rank"]

    def test_it_keeps_twins_on_one_rank_under_new_weights(self, client, twin_run):
        finished, original, twin, _abroad = twin_run
        _login(client)
        query = "size=1000&page_size=1000&w_tco=0.1&w_emissions=0.7&w_time_to_power=0.2"
        sites = {s["site_id"]: s for s in _json(client.get(f"/api/runs/{finished.code}/sites/?{query}"))["sites"]}
        assert sites[original]["rank"] == sites[twin]["rank"]
        assert sites[original]["rank_shared"] and sites[twin]["rank_shared"]

    def test_it_sends_the_map_a_shared_flag_per_site(self, client, twin_run):
        finished, original, twin, _abroad = twin_run
        _login(client)
        cols = _json(client.get(f"/api/runs/{finished.code}/map-data/?size=1000"))["columns"]
        flags = dict(zip(cols["site_id"], cols["rank_shared"]))
        assert flags[original] is True and flags[twin] is True
        assert sum(flags.values()) < len(flags)

    def test_it_shows_the_shared_rank_with_an_equals_sign_on_the_site_page(self, client, twin_run):
        finished, original, twin, _abroad = twin_run
        _login(client)
        rank = dashboard.run_tables(finished)[1000].set_index("site_id").loc[original, "rank"]
        for site_id in (original, twin):
            body = client.get(f"/sites/{site_id}/?run={finished.code}&size=1000").content.decode()
            assert f'id="kpi-rank">={int(rank)}<' in body and 'id="rank-shared"' in body


class ScopeTests:
    def test_it_keeps_a_site_outside_scope_on_the_map_with_its_reason(self, client, twin_run):
        finished, _original, _twin, abroad = twin_run
        _login(client)
        cols = _json(client.get(f"/api/runs/{finished.code}/map-data/?size=1000"))["columns"]
        i = cols["site_id"].index(abroad)
        assert cols["feasible"][i] is False and "outside_scope" in cols["exclusion_reasons"][i].split(";")
        config = client.get(f"/runs/{finished.code}/map/").context["config"]
        assert config["exclusions"]["outside_scope"] == str(dashboard.EXCLUSION_LABELS["outside_scope"])
        body = client.get(f"/sites/{abroad}/?run={finished.code}").content.decode()
        assert str(dashboard.EXCLUSION_LABELS["outside_scope"]) in body


class ReadinessAndConnectionTests:
    def test_it_shows_the_readiness_months_and_why_the_connection_was_chosen(self, client, run):
        _login(client)
        table = dashboard.run_tables(run)[10000]
        rows = table[table["feasible"] & (table["connection_kind"] != "none")]
        row = rows.sort_values("rank").iloc[0]
        resp = client.get(f"/sites/{int(row['site_id'])}/?run={run.code}&size=10000")
        body = resp.content.decode()
        readiness = resp.context["detail"].readiness
        assert readiness["site_months"] == pytest.approx(row["site_months"])
        parts = sum(p["months"] for p in readiness["parts"])
        assert parts == pytest.approx(row["site_months"])  # permits + rezoning + remediation + demolition
        assert row["time_to_power_months"] == pytest.approx(max(row["grid_months"], row["site_months"]))
        assert 'id="site-readiness"' in body and f"{row['site_months']:.0f} months to make the site ready" in body
        connection = resp.context["detail"].connection
        assert connection["kind"] == row["connection_kind"]
        assert connection["delay_cost_meur"] == pytest.approx(row["delay_cost_meur"])
        assert escape(str(dashboard.CONNECTION_KIND_LABELS[row["connection_kind"]])) in body
        assert f'id="delay-cost">{row["delay_cost_meur"]:.1f} M€' in body
        if row["readiness_estimated"]:
            assert "Site-readiness months (some parts unknown" in body
        # Every option the engine weighed is listed; the chosen one is the cheapest with its delay.
        options = resp.context["detail"].options
        chosen = [o for o in options if o.chosen]
        assert len(chosen) == 1 and chosen[0].kind == row["connection_kind"]
        assert chosen[0].total_meur == pytest.approx(row["connection_cost_meur"] + row["delay_cost_meur"], rel=1e-9)
        assert chosen[0].total_meur == pytest.approx(
            min(o.total_meur for o in options if o.qualifies and o.usable and o.same_country and o.over_land), rel=1e-9
        )

    def test_it_exports_readiness_and_both_costs_and_labels_the_cost_criterion(self, client, run):
        _login(client)
        rows = list(
            csv.DictReader(
                io.StringIO(client.get(f"/api/runs/{run.code}/sites/?size=10000&format=csv").content.decode())
            )
        )
        for column in (
            "site_cost_eur_per_gpu_hour",
            "tco_eur_per_gpu_hour",
            "site_months",
            "grid_months",
            "delay_cost_meur",
            "headroom_source",
            "may_be_unavailable",
        ):
            assert column in rows[0], column
        assert all(float(r["site_cost_eur_per_gpu_hour"]) < float(r["tco_eur_per_gpu_hour"]) for r in rows)
        criteria = {c["name"]: c for c in client.get(f"/runs/{run.code}/map/").context["config"]["criteria"]}
        assert "without IT hardware" in criteria["tco"]["label"] and "full cost" in criteria["tco"]["tooltip"]
        params = ScenarioParams.from_dict(run.params)
        assert (criteria["tco"]["worst"], criteria["tco"]["best"]) == params.criterion_bounds("tco")


class OldRunTests:
    def test_it_shows_a_run_from_before_the_new_columns_without_failing(self, client, run):
        """A run stored before MODEL.md v2 lacks the new columns: pages and exports show nothing there."""
        from siting import frames
        from siting.models import RunResult

        new = {
            "rank_shared",
            "site_cost_eur_per_gpu_hour",
            "delay_cost_meur",
            "grid_months",
            "site_months",
            "permit_months",
            "rezoning_months",
            "remediation_months",
            "demolition_months",
            "readiness_estimated",
            "remediation_capex_meur",
            "own_connection_estimated",
            "headroom_source",
            "may_be_unavailable",
        }
        old = ScoringRun.objects.create(
            scenario_name="v1",
            params=run.params,
            status=ScoringRun.Status.SUCCEEDED,
            finished_at=run.finished_at,
            draws=0,
        )
        stored = RunResult.objects.get(run=run, size_h100e=1000)
        table = frames.frames_unpack(stored.table)[0]["table"]
        table = table.drop(columns=[c for c in new if c in table.columns])
        RunResult.objects.create(
            run=old,
            size_h100e=1000,
            n_sites=stored.n_sites,
            n_feasible=stored.n_feasible,
            table=frames.frames_pack({"table": table}),
        )
        try:
            _login(client)
            site_id = int(table.sort_values("rank").iloc[0]["site_id"])
            resp = client.get(f"/sites/{site_id}/?run={old.code}&size=1000")
            assert resp.status_code == 200 and 'id="site-readiness"' not in resp.content.decode()
            assert resp.context["detail"].rank_label == "1"
            cols = _json(client.get(f"/api/runs/{old.code}/map-data/?size=1000"))["columns"]
            assert set(cols["site_cost_eur_per_gpu_hour"]) == {None}
            # Shared ranks come from the ranks themselves: a rank held by several sites.
            ranks = [r for r in cols["rank"] if r is not None]
            assert cols["rank_shared"] == [r is not None and ranks.count(r) > 1 for r in cols["rank"]]
            rows = _json(client.get(f"/api/runs/{old.code}/sites/?size=1000&order=site_cost&page_size=5"))["sites"]
            # No site cost anywhere: the order falls back to the site id; the flag is still a boolean.
            assert [r["site_id"] for r in rows] == sorted(r["site_id"] for r in rows)
            assert all(isinstance(r["rank_shared"], bool) and r.get("site_cost_eur_per_gpu_hour") is None for r in rows)
            assert client.get(f"/api/runs/{old.code}/sites/?size=1000&format=csv").status_code == 200
        finally:
            old.delete()
            dashboard.caches_clear()
