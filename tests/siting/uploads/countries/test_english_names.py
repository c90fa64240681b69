"""Country names in English, in capitals as public registers print them (the issue's FRANCE and GERMANY)."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class EnglishNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "FRANCE",
                "DE": "GERMANY",
                "PL": "Poland",
                "ES": "spain",
                "IT": "Italy",
                "NL": "Netherlands",
                "BE": "Belgium",
                "AT": "Austria",
                "CZ": "Czechia",
                "GR": "Greece",
                "GB": "United Kingdom",
                "CH": "Switzerland",
            }
        )
