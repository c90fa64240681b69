"""PDF comparison helpers: a scored world to compare, a shortlist, and reading the PDF back."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from grid.models import Boundary, DatasetLoad
from siting.models import ScoringRun
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from siting.scoring.params import presets
from tests.support.world import world_create

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "reports"
SIZE = 10_000


def scored_run(*, draws: int = 20) -> ScoringRun:
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


def shortlist(run: ScoringRun, n_feasible: int = 2, n_excluded: int = 1) -> list[int]:
    """Return the best feasible sites at SIZE and some excluded ones."""
    table = run_selectors.run_table(run)
    at = table[table["size_h100e"] == SIZE]
    feasible = at[at["feasible"]].sort_values("rank")["site_id"].head(n_feasible).tolist()
    excluded = at[~at["feasible"]].sort_values("site_id")["site_id"].head(n_excluded).tolist()
    assert len(feasible) == n_feasible and len(excluded) == n_excluded
    return [int(i) for i in feasible + excluded]


def expected_number(value: float, decimals: int, language: str) -> str:
    """Format like the document must, written independently of it (Python's format, then the locale's separators)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    if language == "fr":
        text = text.replace(",", "\xa0").replace(".", ",")
    return text


def pdf_text(pdf: bytes) -> tuple[list[str], str]:
    """Return each page's text and the whole text with line breaks and runs of spaces folded."""
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    return pages, re.sub(r"[ \n]+", " ", "\n".join(pages))


def pngs_save(pdf: bytes, name: str) -> list[Path]:
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
