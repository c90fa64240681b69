"""Which countries can host a candidate site by default (MODEL.md §3, version 2).

Plain Python, no Django: the loaders (``grid``) and the scoring engine (``siting.scoring``)
both read it, so the data and the model agree on one list.
"""

from __future__ import annotations

EU27_ISO2 = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
"""The 27 member states of the European Union (ISO 3166-1 alpha-2; Greece is GR, not EL)."""

EEA_EFTA_ISO2 = frozenset({"IS", "LI", "NO"})
"""EFTA states in the European Economic Area."""

DEFAULT_SCOPE_ISO2 = EU27_ISO2 | EEA_EFTA_ISO2 | {"CH", "GB"}
"""States that can host an EU AI gigafactory or partner one: EU27, EEA, Switzerland and the UK
(EuroHPC AI gigafactories call, 2025). Ukraine, Belarus, Russia, Turkey, the Western Balkans
and North Africa stay on the map, excluded "outside scope"."""
