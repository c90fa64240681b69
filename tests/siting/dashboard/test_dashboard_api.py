"""Dashboard API: permissions, ranked sites with filters and exports, re-weighting, map data.

The `run` fixture (a scored synthetic world) is in this folder's conftest.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest

from siting import labels
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun, Site
from siting.runs import selectors as run_selectors
from siting.scoring import score_inputs
from siting.scoring.params import ScenarioParams
from tests.support.dashboard import json_strict as _json
from tests.support.dashboard import map_columns as _map_columns
from tests.support.personas import login_as as _login
from tests.support.world import SIZES

pytestmark = pytest.mark.django_db


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
            cols = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-data/?size=1000")))
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
        cols = _map_columns(_json(client.get(f"/api/runs/{strict.code}/map-data/")))
        assert len(cols["site_id"]) == 150 and not any(cols["feasible"])
        assert client.get(f"/runs/{strict.code}/map/").status_code == 200
        slow = cols["site_id"][
            cols["exclusion_reasons"].index(next(r for r in cols["exclusion_reasons"] if "time_to_power" in r))
        ]
        resp = client.get(f"/sites/{slow}/?run={strict.code}")
        assert (
            resp.status_code == 200 and str(labels.EXCLUSIONS["time_to_power_too_long"].label) in resp.content.decode()
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
        cols = _map_columns(data)
        assert set(cols) == set(dashboard.MAP_COLUMNS)
        assert {len(v) for v in cols.values()} == {150}
        table = dashboard.run_tables(run)[10000].set_index("site_id")
        i = cols["rank"].index(1)
        assert cols["score"][i] == pytest.approx(table.loc[cols["site_id"][i], "score"], abs=5e-4)

    def test_it_codes_repeated_values_and_rounds_numbers_to_what_the_map_shows(self, client, run):
        _login(client)
        data = _json(client.get(f"/api/runs/{run.code}/map-data/?size=10000"))
        assert set(data["codes"]) == set(dashboard.MAP_CODED)
        for name, values in data["codes"].items():
            assert len(set(values)) == len(values) and None not in values
            assert all(k is None or (isinstance(k, int) and 0 <= k < len(values)) for k in data["columns"][name])
        cols = _map_columns(data)
        table = dashboard.run_tables(run)[10000].set_index("site_id").loc[cols["site_id"]]
        attrs = dashboard.site_attributes().loc[cols["site_id"]]
        assert cols["country"] == attrs["country"].tolist()
        assert cols["feasible"] == table["feasible"].astype(bool).tolist()
        lon = np.array([np.nan if v is None else v for v in cols["longitude"]], dtype=float)
        np.testing.assert_allclose(lon, attrs["longitude"].to_numpy(dtype=float), atol=5e-5)
        cost = np.array([np.nan if v is None else v for v in cols["tco_eur_per_gpu_hour"]], dtype=float)
        np.testing.assert_allclose(cost, table["tco_eur_per_gpu_hour"].to_numpy(dtype=float), atol=5e-4)
        assert all(v is None or isinstance(v, int) for v in cols["emissions_t_per_yr"] + cols["rank"])

    def test_it_keeps_the_sites_the_server_keeps_at_every_filter_threshold(self, client, run):
        _login(client)
        cols = _map_columns(_json(client.get(f"/api/runs/{run.code}/map-data/?size=10000")))
        table = dashboard.run_tables(run)[10000].set_index("site_id").loc[cols["site_id"]]
        score = np.array([np.nan if v is None else v for v in cols["score"]], dtype=float)
        months = np.array([np.nan if v is None else v for v in cols["time_to_power_months"]], dtype=float)
        for t in range(0, 101):
            assert np.array_equal(score >= t, table["score"].to_numpy(dtype=float) >= t), t
        for t in np.arange(0, 120, 0.5):
            assert np.array_equal(months <= t, table["time_to_power_months"].to_numpy(dtype=float) <= t), t

    def test_it_rounds_a_score_or_a_time_to_power_never_across_a_threshold(self):
        frame = pd.DataFrame(
            {
                "site_id": [1, 2, 3, 4],
                "score": [59.9996, 60.0, 59.9994, np.nan],
                "time_to_power_months": [40.001, 40.0, 39.999, np.nan],
                "country": ["FR", None, "DE", "FR"],
                "feasible": [True, True, False, np.nan],
            }
        )
        columns, codes = dashboard.map_columns_json(frame)
        cols = _map_columns({"columns": json.loads(columns), "codes": json.loads(codes)})
        assert cols["score"][0] < 60 and cols["score"][0] == pytest.approx(59.9996, abs=5e-4)
        assert cols["score"][1:] == [60, 59.999, None]
        assert cols["time_to_power_months"][0] > 40 and cols["time_to_power_months"][1:] == [40, 40, None]
        assert cols["country"] == ["FR", None, "DE", "FR"] and json.loads(codes)["country"] == ["DE", "FR"]
        assert cols["feasible"] == [True, True, False, False]
        assert cols["site_cost_eur_per_gpu_hour"] == [None] * 4  # a column an older run lacks

    def test_it_marks_the_largest_cluster_each_site_can_host(self, client, run):
        tables = dashboard.run_tables(run)
        for site_id in tables[1000]["site_id"].tolist()[:40]:
            feasible = [s for s in SIZES if bool(tables[s].set_index("site_id").loc[site_id, "feasible"])]
            largest = tables[1000].set_index("site_id").loc[site_id, "largest_size_h100e"]
            assert (max(feasible) if feasible else None) == (None if np.isnan(largest) else largest)
