"""Country names in French, with and without accents."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class FrenchNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "France",
                "DE": "Allemagne",
                "PL": "Pologne",
                "ES": "Espagne",
                "IT": "Italie",
                "NL": "Pays-Bas",
                "BE": "Belgique",
                "AT": "Autriche",
                "CZ": "TCHEQUIE",
                "GR": "Grèce",
                "GB": "Royaume-Uni",
                "CH": "Suisse",
            }
        )
