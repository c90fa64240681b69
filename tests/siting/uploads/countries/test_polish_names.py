"""Country names in Polish, with and without diacritics (Wlochy for Włochy)."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class PolishNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "Francja",
                "DE": "Niemcy",
                "PL": "Polska",
                "ES": "Hiszpania",
                "IT": "WLOCHY",
                "NL": "Holandia",
                "BE": "Belgia",
                "AT": "Austria",
                "CZ": "Czechy",
                "GR": "Grecja",
                "GB": "Wielka Brytania",
                "CH": "Szwajcaria",
            }
        )
