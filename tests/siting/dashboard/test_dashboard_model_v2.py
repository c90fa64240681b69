"""MODEL.md v2 across API, map and site page: shared ranks, sites outside scope, runs from before v2."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from siting import labels
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun
from tests.support.dashboard import json_strict as _json
from tests.support.dashboard import map_columns as _map_columns
from tests.support.personas import login_as as _login

pytestmark = pytest.mark.django_db


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
        cols = _map_columns(_json(client.get(f"/api/runs/{finished.code}/map-data/?size=1000")))
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
        cols = _map_columns(_json(client.get(f"/api/runs/{finished.code}/map-data/?size=1000")))
        i = cols["site_id"].index(abroad)
        assert cols["feasible"][i] is False and "outside_scope" in cols["exclusion_reasons"][i].split(";")
        config = client.get(f"/runs/{finished.code}/map/").context["config"]
        assert config["exclusions"]["outside_scope"] == str(labels.EXCLUSIONS["outside_scope"].label)
        body = client.get(f"/sites/{abroad}/?run={finished.code}").content.decode()
        assert str(labels.EXCLUSIONS["outside_scope"].label) in body


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
            cols = _map_columns(_json(client.get(f"/api/runs/{old.code}/map-data/?size=1000")))
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
