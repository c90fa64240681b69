"""A job's stage reads in the page's language: every stage the services write has a label."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation

from siting import labels
from siting.runs import services as runs

ROOT = Path(__file__).resolve().parents[2]
WRITERS = (
    "siting/runs/services.py",
    "siting/portfolio/services.py",
    "siting/portfolio/solver.py",
    "siting/reports/services.py",
    "siting/reports/document.py",
)


def _written_stages() -> set[str]:
    """Every literal stage in the services: ``stage="…"`` and ``report(share, "…")`` calls."""
    found: set[str] = set()
    for path in WRITERS:
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg == "stage" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    found.add(kw.value.value)
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("report", "progress") and len(node.args) == 2:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


class StageLabelTests:
    def test_every_stage_the_services_write_is_translated(self):
        written = _written_stages()
        assert {"queued", "snapshotting inputs", "laying out the pages", "greedy baseline"} <= written
        assert written - set(labels.STAGES) == set()
        with translation.override("fr"):
            untranslated = [s for s in written if labels.stage_label(s) == s]
        assert untranslated == []

    @pytest.mark.parametrize(
        "args, english, french",
        [
            (
                (56, 125, 1000, 2, True),
                "scoring: 56 chunks of ≤ 125 draws for 2 worker processes",
                "notation : 56 lots de ≤ 125 tirages pour 2 processus de calcul",
            ),
            (
                (7, 1000, 1000, 1, True),
                "scoring: 7 chunks of ≤ 1000 draws for 1 worker process",
                "notation : 7 lots de ≤ 1000 tirages pour 1 processus de calcul",
            ),
            (
                (56, 125, 1000, None, True),
                "scoring: 56 chunks of ≤ 125 draws (no worker answered)",
                "notation : 56 lots de ≤ 125 tirages (aucun processus de calcul n’a répondu)",
            ),
            (
                (56, 125, 1000, None, False),
                "scoring: 56 chunks of ≤ 125 draws (in this process)",
                "notation : 56 lots de ≤ 125 tirages (dans ce processus)",
            ),
            (
                (1, 125, 0, 4, True),
                "scoring: 1 chunk for 4 worker processes",
                "notation : 1 lot pour 4 processus de calcul",
            ),
        ],
    )
    def test_a_runs_layout_stage_reads_in_both_languages(self, args, english, french):
        stored = runs._layout_stage(*args)
        with translation.override("en"):
            assert labels.stage_label(stored) == english
        with translation.override("fr"):
            assert labels.stage_label(stored) == french

    def test_an_operator_set_block_and_unknown_text_read_as_they_can(self, monkeypatch):
        monkeypatch.setattr(runs, "DRAWS_PER_BLOCK", 60)
        stored = runs._layout_stage(16, 60, 1000, None, True)
        with translation.override("fr"):
            assert (
                labels.stage_label(stored)
                == "notation : 16 lots de ≤ 60 tirages (lot fixé par GIGASITE_DRAWS_PER_BLOCK)"
            )
            assert labels.stage_label("something new") == "something new"
