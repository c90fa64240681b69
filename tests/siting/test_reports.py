"""PDF comparisons: the document's content, its cache and task, the pages and the command.

Every test scores a small synthetic world in-process (tests/support/world.py), renders
real PDFs with WeasyPrint and reads them back with pypdf. Page images go to
``var/test-artifacts/reports/`` (pdftoppm) for a person to look at.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import pypdf
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grid.models import Boundary, DatasetLoad
from siting.models import ComparisonReport, ScoringRun, Site
from siting.reports import document as reports
from siting.reports import services as comparisons
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.scoring.params import parameter_table, presets
from siting.tasks import comparison_execute_task
from tests.support.personas import user_create as _user
from tests.support.world import world_create

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "reports"
SIZE = 10_000
SEVESO = {
    "en": {0: "no tier", 1: "lower tier", 2: "upper tier"},
    "fr": {0: "non classé", 1: "seuil bas", 2: "seuil haut"},
}
ASSUMPTION = {"en": "ASSUMPTION", "fr": "HYPOTHÈSE"}


# --- helpers -------------------------------------------------------------------------------------


def _scored_run(*, draws: int = 20) -> ScoringRun:
    """Create a small world with a boundary and a dataset record, and score it in-process."""
    world_create(n_sites=45, n_points=70, seed=3)
    Boundary.objects.create(
        kind="country",
        code="FR",
        name="France",
        source="natural_earth",
        geometry_geojson={
            "type": "Polygon",
            "coordinates": [[[-1.5, 43.5], [7.5, 43.5], [7.5, 50.5], [-1.5, 50.5], [-1.5, 43.5]]],
        },
    )
    DatasetLoad.objects.create(
        dataset="rte_substations",
        file_name="postes.csv.gz",
        sha256="ab" * 32,
        rows=70,
        vintage="2024-09 copy",
        source="RTE – ODRÉ",
        licence="Licence Ouverte 2.0",
    )
    params = dataclasses.replace(presets()["default"], sizes=(1000, SIZE, 100_000))
    run = runs.scoring_run_start(params=params.to_dict(), draws=draws, name="Shortlist test run", dispatch=False)
    run = runs.scoring_run_execute_inline(run_id=run.id)
    assert run.status == ScoringRun.Status.SUCCEEDED, run.error
    return run


def _shortlist(run: ScoringRun, n_feasible: int = 2, n_excluded: int = 1) -> list[int]:
    """Return the best feasible sites at SIZE and some excluded ones."""
    table = run_selectors.run_table(run)
    at = table[table["size_h100e"] == SIZE]
    feasible = at[at["feasible"]].sort_values("rank")["site_id"].head(n_feasible).tolist()
    excluded = at[~at["feasible"]].sort_values("site_id")["site_id"].head(n_excluded).tolist()
    assert len(feasible) == n_feasible and len(excluded) == n_excluded
    return [int(i) for i in feasible + excluded]


def _expected_number(value: float, decimals: int, language: str) -> str:
    """Format like the document must, written independently of it (Python's format, then the locale's separators)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    if language == "fr":
        text = text.replace(",", "\xa0").replace(".", ",")
    return text


def _text(pdf: bytes) -> tuple[list[str], str]:
    """Return each page's text and the whole text with line breaks and runs of spaces folded."""
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    return pages, re.sub(r"[ \n]+", " ", "\n".join(pages))


def _save_pngs(pdf: bytes, name: str) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("GIGASITE_REQUIRE_SERVICES") == "1":
            pytest.fail("pdftoppm (poppler-utils) is required here")
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(source), str(ARTIFACTS / name)], check=True, timeout=120)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


# --- the document ----------------------------------------------------------------------------------


class ComparisonDocumentTests:
    @pytest.mark.parametrize("language", ["en", "fr"])
    def test_it_shows_every_site_and_summary_number_exactly_as_stored(self, language):
        run = _scored_run()
        site_ids = _shortlist(run)
        long_name = "Ancienne aciérie de la vallée — friche n° 8419309, Provence-Alpes-Côte d'Azur, lot 13055 est"
        Site.objects.filter(id=site_ids[0]).update(name=long_name)
        rendered = reports.comparison_pdf(
            run=run, size_h100e=SIZE, site_ids=site_ids, language=language, author="Olga Official"
        )
        assert rendered.pdf.startswith(b"%PDF")
        pages, text = _text(rendered.pdf)
        assert len(pages) == rendered.n_pages >= 6

        table = run_selectors.run_table(run)
        at = table[table["size_h100e"] == SIZE].set_index("site_id")
        names = dict(Site.objects.filter(id__in=site_ids).values_list("id", "name"))
        for name in names.values():
            assert name in re.sub(r"[ \n]+", " ", pages[0]), name  # whole on the cover
        # Tables after the cover cut names beyond 60 characters.
        names = {i: n if len(n) <= 60 else n[:59].rstrip() + "…" for i, n in names.items()}
        # The summary table lists the sites by rank (feasible first), numbered from 1.
        order = sorted(
            site_ids, key=lambda i: (not at.at[i, "feasible"], at.at[i, "rank"] if at.at[i, "feasible"] else 0, i)
        )
        for number, site_id in enumerate(order, start=1):
            r = at.loc[site_id]
            shared = "=" if bool(r.get("rank_shared", False)) and r["feasible"] else ""
            cells = [
                shared + _expected_number(r["rank"], 0, language),
                _expected_number(r["score"], 1, language),
                _expected_number(r.get("site_cost_eur_per_gpu_hour"), 2, language),
                _expected_number(r["tco_eur_per_gpu_hour"], 2, language),
                _expected_number(r["capex_total_meur"], 1, language),
                _expected_number(r["emissions_t_per_yr"], 0, language),
                _expected_number(r["time_to_power_months"], 1, language),
                _expected_number(r["land_fit"], 2, language),
                SEVESO[language][int(r["seveso_tier"])],
                _expected_number(r["reliability"], 2, language),
            ]
            row = (
                re.escape(f"{number} · {names[site_id]}") + r"(?: \([^)]*\))? " + " ".join(re.escape(c) for c in cells)
            )
            assert re.search(row, text), f"summary row of {names[site_id]!r} not found: {cells}"
        assert "Olga Official" in pages[0] and "Shortlist test run" in pages[0] and str(run.code) in text
        if language == "fr":
            assert "Synthèse" in text and "Comparaison de 3 sites présélectionnés" in text
            assert re.search(r"\d,\d", text) and "\xa0" in text  # comma decimals, non-breaking thousands
        else:
            assert "Summary" in text and "Comparison of 3 shortlisted sites" in text

    def test_it_numbers_the_pages_and_lists_every_parameter_with_its_source_or_assumption_label(self):
        run = _scored_run()
        rendered = reports.comparison_pdf(run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="fr")
        pages, text = _text(rendered.pdf)
        for i, page in enumerate(pages, start=1):
            assert f"Page {i} / {len(pages)}" in page
        annex = text[text.index("Annexe A") :]
        params = parameter_table(presets()["default"].__class__.from_dict(run.params))
        compact = re.sub(r"\s+", "", annex)  # a line may break after a dash inside a source
        for p in params:
            assert p["name"] in annex, p["name"]
            assert re.sub(r"\s+", "", p["source"]) in compact, p["source"]
            if p["unit"] not in ("", "-"):
                assert p["unit"] in annex, (p["name"], p["unit"])
        # One label per assumption parameter, one per criterion bound (annex B): no more, no less.
        n_assumptions = sum(p["assumption"] for p in params)
        assert annex.count(ASSUMPTION["fr"]) == n_assumptions + 6
        assert "Licence Ouverte 2.0" in annex and "RTE – ODRÉ" in annex and "2024-09 copy" in annex
        assert "Natural Earth" in annex  # the shipped attribution table

    def test_it_embeds_its_fonts_and_draws_charts_as_vectors(self):
        import io

        run = _scored_run()
        rendered = reports.comparison_pdf(run=run, size_h100e=SIZE, site_ids=_shortlist(run, 3, 0), language="en")
        reader = pypdf.PdfReader(io.BytesIO(rendered.pdf))
        fonts = {}
        for page in reader.pages:
            for font in (page["/Resources"].get("/Font") or {}).values():
                font = font.get_object()
                descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                fonts[str(font["/BaseFont"])] = (
                    "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]
                )
        assert fonts and all(fonts.values()), fonts
        assert any("DejaVu" in name for name in fonts)
        assert all(len(page.images) == 0 for page in reader.pages)  # no raster image anywhere
        text = _text(rendered.pdf)[1]
        assert "Monte Carlo rank intervals" in text and "Full cost of compute along the ladder" in text

    def test_it_states_why_a_site_is_excluded_and_when_the_run_has_no_monte_carlo(self):
        run = _scored_run(draws=0)
        site_ids = _shortlist(run, 1, 1)
        table = run_selectors.run_table(run)
        excluded = table[(table["size_h100e"] == SIZE) & (table["site_id"] == site_ids[1])].iloc[0]
        text = _text(reports.comparison_pdf(run=run, size_h100e=SIZE, site_ids=site_ids, language="en").pdf)[1]
        codes = [c for c in excluded["exclusion_reasons"].split(";") if c]
        assert codes
        for code in codes:
            assert f"({code})" in text
        assert "without Monte Carlo draws" in text

    @pytest.mark.parametrize("language", ["en", "fr"])
    def test_it_marks_shared_ranks_and_shows_readiness_and_the_cost_of_delay(self, language):
        first = _scored_run(draws=0)
        table = run_selectors.run_table(first)
        at = table[(table["size_h100e"] == SIZE) & table["feasible"]].sort_values("rank")
        best = int(at.iloc[0]["site_id"])
        twin = Site.objects.get(id=best)
        twin.pk, twin.external_id, twin.name = None, twin.external_id + ":twin", "Twin of the best site"
        twin.save()
        run = runs.scoring_run_start(params=first.params, draws=0, name="Twins", dispatch=False)
        run = runs.scoring_run_execute_inline(run_id=run.id)
        third = int(at.iloc[1]["site_id"])
        rendered = reports.comparison_pdf(run=run, size_h100e=SIZE, site_ids=[best, twin.id, third], language=language)
        text = _text(rendered.pdf)[1]

        rows = run_selectors.run_table(run)
        rows = rows[rows["size_h100e"] == SIZE].set_index("site_id")
        assert rows.at[best, "rank"] == rows.at[twin.id, "rank"] and rows.at[best, "rank_shared"]
        shared = "=" + _expected_number(rows.at[best, "rank"], 0, language)
        score = _expected_number(rows.at[best, "score"], 1, language)
        # Every compared site at that rank (both twins, and any other site with the same score) shows "=".
        same = sum(rows.at[i, "rank"] == rows.at[best, "rank"] for i in (best, twin.id, third))
        assert same >= 2 and len(re.findall(re.escape(f"{shared} {score}"), text)) == same
        assert {"en": "shares that rank", "fr": "partage ce rang"}[language] in text
        heading = {"en": "Site readiness at this size", "fr": "Préparation du site à cette taille"}[language]
        assert heading in text
        for site_id in (best, third):
            r = rows.loc[site_id]
            months = " ".join(
                _expected_number(r[c], 0, language)
                for c in ("permit_months", "rezoning_months", "remediation_months", "demolition_months", "site_months")
            )
            assert months in text, (site_id, months)
            assert r["time_to_power_months"] == max(r["grid_months"], r["site_months"])
            delay = _expected_number(r["delay_cost_meur"], 1, language)
            cost = _expected_number(r["connection_cost_meur"], 1, language)
            assert f"{cost} {delay}" in text
        assert {"en": "Cost of delay", "fr": "Coût du délai"}[language] in text

    def test_it_saves_its_pages_as_png_for_review(self):
        run = _scored_run()
        for language in ("en", "fr"):
            rendered = reports.comparison_pdf(
                run=run, size_h100e=SIZE, site_ids=_shortlist(run, 3, 1), language=language, author="Test Official"
            )
            images = _save_pngs(rendered.pdf, f"comparison-{language}")
            assert len(images) == rendered.n_pages
            assert all(p.stat().st_size > 2000 for p in images)

    def test_it_refuses_what_cannot_be_compared(self):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        with pytest.raises(reports.ComparisonError):
            reports.comparison_validate(run=run, size_h100e=SIZE, site_ids=ids[:1])
        with pytest.raises(reports.ComparisonError):
            reports.comparison_validate(
                run=run, size_h100e=SIZE, site_ids=list(Site.objects.values_list("id", flat=True)[:11])
            )
        with pytest.raises(reports.ComparisonError):
            reports.comparison_validate(run=run, size_h100e=2000, site_ids=ids)
        with pytest.raises(reports.ComparisonError):
            reports.comparison_validate(run=run, size_h100e=SIZE, site_ids=ids + [10**9])
        queued = ScoringRun.objects.create(scenario_name="q", params=run.params)
        with pytest.raises(reports.ComparisonError):
            reports.comparison_validate(run=queued, size_h100e=SIZE, site_ids=ids)
        assert reports.comparison_validate(run=run, size_h100e=SIZE, site_ids=[ids[1], ids[0], ids[1]]) == tuple(
            sorted(ids[:2])
        )


class NumberFormatTests:
    def test_it_rounds_and_localises_like_the_reader_expects(self):
        from django.utils import translation

        with translation.override("fr"):
            assert reports.fmt_number(12345.678, 2) == "12\xa0345,68"  # Django alone would truncate to ,67
            assert reports.fmt_number(-0.004, 2) == "0,00"
            assert reports.fmt_number(float("nan"), 1) == "—"
        with translation.override("en"):
            assert reports.fmt_number(12345.678, 2) == "12,345.68"
            assert reports.fmt_plain(0.3549) == "0.3549" and reports.fmt_plain(1526800.0) == "1,526,800"


# --- cache and task ----------------------------------------------------------------------------------


class ComparisonServiceTests:
    def test_it_serves_an_identical_request_from_the_cache_without_rendering(self):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        first, cached = comparisons.comparison_produce(
            run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A"
        )
        assert not cached and first.status == ComparisonReport.Status.SUCCEEDED and bytes(first.pdf).startswith(b"%PDF")
        with patch("siting.reports.document.comparison_pdf", side_effect=AssertionError("rendered again")):
            again, cached = comparisons.comparison_produce(
                run=run, size_h100e=SIZE, site_ids=list(reversed(ids)), language="en", author="A"
            )
        assert cached and again.id == first.id and bytes(again.pdf) == bytes(first.pdf)
        assert ComparisonReport.objects.count() == 1

    def test_it_keys_the_cache_on_sites_size_language_author_and_code_version(self):
        key = dict(run_id=1, size_h100e=SIZE, site_ids=(3, 1, 2), language="en", author="A")
        base = comparisons.comparison_cache_key(**key)
        assert comparisons.comparison_cache_key(**{**key, "site_ids": (1, 2, 3)}) == base
        for change in ({"site_ids": (1, 2)}, {"language": "fr"}, {"author": "B"}, {"size_h100e": 1000}, {"run_id": 2}):
            assert comparisons.comparison_cache_key(**{**key, **change}) != base
        with patch("siting.reports.document.report_code_version", return_value="other"):
            assert comparisons.comparison_cache_key(**key) != base

    def test_it_enqueues_once_after_commit_and_the_task_stores_the_pdf(self, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                report = comparisons.comparison_request(
                    run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="fr", author="A"
                )
        publish.assert_called_once_with((report.id,), retry=False)
        report.refresh_from_db()
        assert report.status == ComparisonReport.Status.QUEUED and report.dispatched_at is not None
        comparison_execute_task(report.id)  # the task itself, without broker or eager mode
        report.refresh_from_db()
        assert (
            report.status == ComparisonReport.Status.SUCCEEDED and report.n_pages >= 6 and report.progress_pct == 100.0
        )
        first_bytes = bytes(report.pdf)
        with patch("siting.reports.document.comparison_pdf", side_effect=AssertionError("rendered twice")):
            comparison_execute_task(report.id)  # a redelivered message does nothing
        report.refresh_from_db()
        assert bytes(report.pdf) == first_bytes

    def test_it_keeps_the_reason_of_a_failure_and_tries_again_on_the_next_request(self):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        with patch("siting.reports.document.comparison_pdf", side_effect=RuntimeError("fonts missing")):
            report, _ = comparisons.comparison_produce(
                run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A"
            )
        assert report.status == ComparisonReport.Status.FAILED and "fonts missing" in report.error
        with patch("siting.tasks.comparison_execute_task.apply_async"):
            again = comparisons.comparison_request(run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A")
        assert again.id == report.id and again.status == ComparisonReport.Status.QUEUED and again.error == ""

    def test_it_gives_a_stalled_render_back_to_the_queue(self):
        run = _scored_run(draws=0)
        report = ComparisonReport.objects.create(
            cache_key="k" * 64,
            run=run,
            size_h100e=SIZE,
            site_ids=_shortlist(run),
            language="en",
            status=ComparisonReport.Status.RUNNING,
            attempts=1,
            started_at=timezone.now() - timedelta(seconds=comparisons.STALE_AFTER_S + 5),
        )
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            report = comparisons.comparison_recover(report=report)
        assert report.status == ComparisonReport.Status.QUEUED
        publish.assert_called_once_with((report.id,), retry=False)
        ComparisonReport.objects.filter(id=report.id).update(
            status=ComparisonReport.Status.RUNNING, attempts=comparisons.MAX_ATTEMPTS, started_at=report.started_at
        )
        report.refresh_from_db()
        report = comparisons.comparison_recover(report=report)
        assert report.status == ComparisonReport.Status.FAILED and "stopped" in report.error


# --- pages -------------------------------------------------------------------------------------------


class ComparisonViewTests:
    def _post(self, client, run, ids, **headers):
        return client.post("/reports/", {"run": str(run.code), "size": SIZE, "site": ids}, **headers)

    def test_it_refuses_planners_and_analysts_everywhere(self, client):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        report, _ = comparisons.comparison_produce(run=run, size_h100e=SIZE, site_ids=ids, language="en", author="A")
        for role in ("planner", "analyst", None):
            client.force_login(_user(f"u-{role}", role))
            assert self._post(client, run, ids).status_code == 403
            for url in (
                f"/reports/runs/{run.code}/select/",
                f"/reports/{report.code}/",
                f"/reports/{report.code}/progress.json",
                f"/reports/{report.code}/download/",
            ):
                assert client.get(url).status_code == 403, (role, url)
        assert ComparisonReport.objects.count() == 1

    def test_it_sends_anonymous_users_to_the_login(self, client):
        run = _scored_run(draws=0)
        resp = self._post(client, run, _shortlist(run))
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]

    def test_it_shows_the_compare_link_to_officials_and_admins_only(self, client):
        run = _scored_run(draws=0)
        for name, role, shown in (
            ("pat", "planner", False),
            ("ann", "analyst", False),
            ("olga", "official", True),
            ("root", "admin", True),
        ):
            client.force_login(_user(name, role))
            page = client.get(f"/runs/{run.code}/").content.decode()
            assert ("compare-sites-link" in page) is shown, name

    def test_it_lists_the_best_sites_with_checkboxes(self, client):
        run = _scored_run(draws=0)
        client.force_login(_user("olga", "official"))
        resp = client.get(f"/reports/runs/{run.code}/select/?size={SIZE}")
        assert resp.status_code == 200
        best = _shortlist(run, 2, 1)[0]
        assert f'name="site" value="{best}"' in resp.content.decode()
        assert client.get(f"/reports/runs/{run.code}/select/?size=1234").status_code == 404

    def test_it_queues_then_serves_the_pdf_to_an_official(self, client, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        client.force_login(_user("olga", "official", first_name="Olga", last_name="Martin"))
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            with django_capture_on_commit_callbacks(execute=True):
                resp = self._post(client, run, ids)
        report = ComparisonReport.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/reports/{report.code}/"
        publish.assert_called_once_with((report.id,), retry=False)
        assert report.author_name == "Olga Martin" and report.language == "en" and report.site_ids == sorted(ids)
        assert client.get(f"/reports/{report.code}/progress.json").json()["status"] == "queued"
        assert client.get(f"/reports/{report.code}/download/").status_code == 404  # not ready yet

        comparison_execute_task(report.id)
        data = client.get(f"/reports/{report.code}/progress.json").json()
        assert data["finished"] and data["status"] == "succeeded"
        assert "download" in client.get(f"/reports/{report.code}/").content.decode()
        download = client.get(f"/reports/{report.code}/download/")
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert "attachment" in download["Content-Disposition"] and download.content.startswith(b"%PDF")
        # The same request again: the stored PDF straight away, nothing queued.
        with patch("siting.tasks.comparison_execute_task.apply_async") as publish:
            again = self._post(client, run, list(reversed(ids)))
        publish.assert_not_called()
        assert again.status_code == 200 and again.content == download.content

    def test_it_renders_in_the_request_when_the_job_queue_stays_down(self, client):
        run = _scored_run(draws=0)
        olga = _user("olga", "official")
        client.force_login(olga)
        with patch("siting.tasks.comparison_execute_task.apply_async", side_effect=ConnectionError("refused")):
            report = comparisons.comparison_request(
                run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="en", author="O", user=olga
            )
            assert client.get(f"/reports/{report.code}/progress.json").json()["status"] == "queued"  # not stuck yet
            ComparisonReport.objects.filter(id=report.id).update(created_at=timezone.now() - timedelta(minutes=1))
            page = client.get(f"/reports/{report.code}/")
        report.refresh_from_db()
        assert report.status == ComparisonReport.Status.SUCCEEDED and report.dispatched_at is None
        assert f"/reports/{report.code}/download/" in page.content.decode()

    def test_it_makes_the_document_in_the_users_language(self, client, django_capture_on_commit_callbacks):
        run = _scored_run(draws=0)
        client.force_login(_user("admin1", "admin"))
        with patch("siting.tasks.comparison_execute_task.apply_async"):
            self._post(client, run, _shortlist(run), HTTP_ACCEPT_LANGUAGE="fr")
        assert ComparisonReport.objects.get().language == "fr"

    def test_it_rejects_bad_requests_with_400_and_saves_nothing(self, client):
        run = _scored_run(draws=0)
        ids = _shortlist(run)
        client.force_login(_user("olga", "official"))
        assert client.get("/reports/").status_code == 405
        assert self._post(client, run, ids[:1]).status_code == 400
        assert self._post(client, run, ["x", "y"]).status_code == 400
        assert client.post("/reports/", {"run": str(run.code), "size": 2000, "site": ids}).status_code == 400
        assert not ComparisonReport.objects.exists()


class CompareCommandTests:
    def test_it_writes_the_pdf_then_serves_it_from_the_cache(self, tmp_path, capsys):
        run = _scored_run(draws=0)
        ids = [str(i) for i in _shortlist(run)]
        out = tmp_path / "cmp.pdf"
        call_command("compare_pdf", "--run", str(run.id), "--size", str(SIZE), *ids, "--out", str(out), "--lang", "fr")
        assert out.read_bytes().startswith(b"%PDF") and "rendered in" in capsys.readouterr().out
        again = tmp_path / "again.pdf"
        call_command(
            "compare_pdf", "--run", str(run.code), "--size", str(SIZE), *ids, "--out", str(again), "--lang", "fr"
        )
        assert "from the cache" in capsys.readouterr().out and again.read_bytes() == out.read_bytes()

    def test_it_explains_what_is_wrong(self, tmp_path):
        run = _scored_run(draws=0)
        ids = [str(i) for i in _shortlist(run)]
        with pytest.raises(CommandError, match="no such run"):
            call_command("compare_pdf", "--run", "999999", "--size", str(SIZE), *ids, "--out", str(tmp_path / "x.pdf"))
        with pytest.raises(CommandError, match="cluster size"):
            call_command("compare_pdf", "--run", str(run.id), "--size", "3", *ids, "--out", str(tmp_path / "x.pdf"))
        assert not (tmp_path / "x.pdf").exists()
