"""The site page and its API: the chosen connection among the options, readiness, strict JSON."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.utils.html import escape

from siting import labels
from siting.dashboard import api
from siting.dashboard import selectors as dashboard
from siting.scoring.params import ScenarioParams
from tests.support.dashboard import json_strict as _json
from tests.support.dashboard import reject_constant as _reject_constant
from tests.support.personas import login_as as _login
from tests.support.world import SIZES

pytestmark = pytest.mark.django_db


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
        assert escape(str(labels.CONNECTIONS[row["connection_kind"]].label)) in body
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
