"""The one label table: every exclusion code, criterion and connection kind the engine knows has each of its texts,
and each text is a message the French catalogue translates."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from django.conf import settings
from django.utils import translation

from siting import labels
from siting.scoring import EXCLUSIONS as EXCLUSION_BITS
from siting.scoring.criteria import CRITERION_NAMES
from siting.scoring.layout import KIND_NAMES

SAME_IN_FRENCH = {"pollution", "Seveso"}
"""Texts that read the same in both languages (so their translation cannot be told from none)."""


class LabelTableTests:
    def test_it_has_an_entry_per_exclusion_code_of_the_engine(self):
        assert list(labels.EXCLUSIONS) == list(EXCLUSION_BITS.values())

    def test_it_has_an_entry_per_criterion_in_the_engines_order(self):
        assert tuple(labels.CRITERIA) == CRITERION_NAMES

    def test_it_has_an_entry_per_connection_kind_of_the_engine_but_none(self):
        assert list(labels.CONNECTIONS) == [k for k in KIND_NAMES.values() if k != "none"]

    def test_it_translates_every_text_of_every_entry(self):
        for table in (labels.EXCLUSIONS, labels.CRITERIA, labels.CONNECTIONS):
            for code, entry in table.items():
                for f in dataclasses.fields(entry):
                    text = getattr(entry, f.name)
                    english = str(text)
                    with translation.override("fr"):
                        french = str(text)
                    assert english, (code, f.name)
                    assert french != english or english in SAME_IN_FRENCH, (code, f.name, english)

    def test_it_keeps_the_pages_and_the_pdf_wordings_apart(self):
        entry = labels.EXCLUSIONS["outside_scope"]
        assert str(entry.label) == "Outside scope (a country that cannot host an EU AI gigafactory)"
        assert str(entry.sentence).startswith("The site lies outside the scenario's scope of countries")
        assert str(labels.CRITERIA["time_to_power"].label) == "Time to power"
        assert str(labels.CRITERIA["time_to_power"].title) == "Months to power"

    def test_it_leaves_the_scoring_package_free_of_django(self):
        code = "import sys, siting.scoring; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=settings.BASE_DIR
        ).stdout
        assert out.strip() == "[]"
