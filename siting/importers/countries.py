"""Country names and codes as analysts write them → ISO 3166-1 alpha-2.

An analyst's file says ``FR``, ``FRA``, ``France``, ``FRANCE``, ``Frankreich``, ``Francia`` or
``Francja``; all are France. The names come from the Unicode CLDR through Babel (maintained,
every language), never from a hand list:

- ISO 3166-1 alpha-2 codes (the CLDR territories that are countries: those with languages),
  and alpha-3 codes (CLDR's territory aliases that name exactly one country);
- every country's name in English, French, German, Spanish, Italian, Dutch and Polish
  (:data:`NAME_LANGUAGES`);
- every country's name in its own official languages (``Polska``, ``België``, ``Schweiz``,
  ``Svizzera``, ``Česko``);
- Eurostat's two codes that differ from ISO (``EL`` Greece, ``UK`` United Kingdom).

Names are compared after :func:`fold`: case, accents and punctuation do not matter, German
umlauts may be written ``ae``/``oe``/``ue``, and ``ß``, ``ł``, ``ø``, ``æ`` are spelled out. A
folded name that several countries share in different languages is left out rather than
guessed (:func:`country_table` reports them).

References
----------
Unicode CLDR (territory names, territory languages, territory aliases), as packaged by Babel.
Eurostat, *Country codes* (Statistics Explained glossary): EL for Greece, UK for the United Kingdom.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
from babel import Locale
from babel.core import UnknownLocaleError, get_global
from django.utils.translation import get_language

NAME_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pl")
"""Languages in which every country's name is accepted (the issue's analysts: ministries, TSOs
and regions across the EU); each country's own official languages are added to these."""

NATIVE_STATUSES = ("official", "de_facto_official")
"""CLDR language statuses that make a language a country's own (regional ones are left out)."""

EUROSTAT_CODES = {"EL": "GR", "UK": "GB"}
"""Eurostat country codes that are not ISO 3166-1 (Eurostat glossary, *Country codes*)."""

_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
    }
)
_PUNCTUATION = re.compile(r"[\W_]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def fold(text: object) -> str:
    """Return ``text`` case-folded, without accents, punctuation runs as ``_`` (``"Česko"`` → ``cesko``).

    Letters that do not decompose into a base letter and an accent (``ß``, ``ł``, ``ø``, ``æ``…)
    are spelled out first, so ``Großbritannien`` and ``Grossbritannien`` fold alike.
    """
    s = str(text)
    if s.isascii():  # most headers and codes: no normalisation to do
        return _PUNCTUATION.sub("_", s.lower()).strip("_")
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", s).translate(_SPELLED_OUT))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    # Letters of every script are kept (Ελλάδα, България): only accents and punctuation go.
    return _PUNCTUATION.sub("_", s).strip("_")


def name_variants(name: str) -> set[str]:
    """Return ``name`` folded, with German umlauts dropped and spelled out (Österreich → osterreich, oesterreich)."""
    return {fold(name), fold(name.translate(_UMLAUTS))} - {""}


@lru_cache(maxsize=1)
def country_table() -> tuple[dict[str, str], frozenset[str]]:
    """Return folded name or code → ISO alpha-2, and the folded names left out as ambiguous."""

    languages = get_global("territory_languages")
    english = Locale("en").territories
    countries = sorted(c for c in english if len(c) == 2 and c.isalpha() and c in languages)  # type: ignore[arg-type, type-var, union-attr]
    candidates: dict[str, set[str]] = {}

    def add(name: str, code: str) -> None:
        for key in name_variants(name):
            candidates.setdefault(key, set()).add(code)

    locales: dict[str, object] = {}

    def territories(lang: str) -> dict[str, str]:
        if lang not in locales:
            try:
                locales[lang] = Locale.parse(lang).territories
            except (UnknownLocaleError, ValueError):
                locales[lang] = {}
        return locales[lang]  # type: ignore[return-value]

    for lang in NAME_LANGUAGES:
        names = territories(lang)
        for code in countries:
            if code in names:
                add(names[code], code)
    for code in countries:
        for lang, info in languages[code].items():  # type: ignore[index]
            if info.get("official_status") in NATIVE_STATUSES and code in territories(lang):
                add(territories(lang)[code], code)
    table: dict[str, str] = {}
    ambiguous = {k for k, v in candidates.items() if len(v) > 1}
    for key, codes in candidates.items():
        if len(codes) == 1:
            table[key] = next(iter(codes))
    # Codes last: a code is never ambiguous, and outranks a name that folds to the same letters.
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in languages:
            table[alias.lower()] = targets[0]
    for code in countries:
        table[code.lower()] = code  # type: ignore[assignment, union-attr]
    for code, iso in EUROSTAT_CODES.items():
        table[code.lower()] = iso
    return table, frozenset(ambiguous - set(table))


def resolve_countries(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the ISO alpha-2 code of each cell ('' for blank) and a mask of cells not recognised.

    Parameters
    ----------
    texts : object[n]
        Cells as stripped text ('' for blank).
    """
    table, _ambiguous = country_table()
    distinct = {t: table.get(fold(t), None) if t else "" for t in set(texts.tolist())}
    codes = np.asarray([distinct[t] or "" for t in texts], dtype=object)
    bad = np.asarray([distinct[t] is None for t in texts], dtype=bool)
    return codes, bad


def country_name(code: str, language: str | None = None) -> str:
    """Return a country's name in ``language`` (default: the active one), or the code if unknown."""

    if language is None:
        language = get_language() or "en"
    try:
        return Locale.parse(language.replace("-", "_")).territories.get(code, code)
    except Exception:  # an unknown language: the code is still meaningful
        return code
