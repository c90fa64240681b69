"""Every interface string has a French translation, and the shipped catalogue is compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _po_entries() -> list[tuple[str, str, bool]]:
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not m:
            continue
        msgid = "".join(re.findall(r'"(.*)"', m.group(1)))
        msgstr = "".join(re.findall(r'"(.*)"', m.group(2)))
        if msgid:
            entries.append((msgid, msgstr, "#, fuzzy" in block))
    return entries


class TranslationTests:
    def test_it_translates_every_string_to_french(self):
        entries = _po_entries()
        assert len(entries) > 50
        untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
        assert untranslated == []

    def test_it_ships_a_compiled_catalogue_matching_the_po_file(self):
        catalogue = gettext.GNUTranslations(MO.open("rb"))
        for msgid, msgstr, _fuzzy in _po_entries():
            unescaped = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            assert catalogue.gettext(unescaped) == expected, unescaped

    def test_it_has_every_template_string_in_the_catalogue(self):
        known = {msgid for msgid, _s, _f in _po_entries()}
        missing = []
        for template in (ROOT / "templates").rglob("*.html"):
            for msgid in re.findall(r'{% translate "([^"]+)"', template.read_text(encoding="utf-8")):
                if msgid not in known:
                    missing.append(f"{template.name}: {msgid}")
        assert missing == []
