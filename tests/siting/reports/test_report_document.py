"""PDF comparisons, the document: every number as stored, pages and parameters, fonts and
vector charts, exclusions, shared ranks and readiness, page images, what cannot be compared.

Every test scores a small synthetic world in-process (tests/support/world.py), renders
real PDFs with WeasyPrint and reads them back with pypdf. Page images go to
``var/test-artifacts/reports/`` (pdftoppm) for a person to look at.
"""

from __future__ import annotations

import re

import pypdf
import pytest

from siting.models import ScoringRun, Site
from siting.reports import document as reports
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.scoring.params import parameter_table, presets
from tests.support.reports import SIZE
from tests.support.reports import expected_number as _expected_number
from tests.support.reports import pdf_text as _text
from tests.support.reports import pngs_save as _save_pngs
from tests.support.reports import scored_run as _scored_run
from tests.support.reports import shortlist as _shortlist

pytestmark = pytest.mark.django_db

SEVESO = {
    "en": {0: "no tier", 1: "lower tier", 2: "upper tier"},
    "fr": {0: "non classé", 1: "seuil bas", 2: "seuil haut"},
}
ASSUMPTION = {"en": "ASSUMPTION", "fr": "HYPOTHÈSE"}


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
