"""Country names in Spanish."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class SpanishNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "Francia",
                "DE": "Alemania",
                "PL": "Polonia",
                "ES": "ESPAÑA",
                "IT": "Italia",
                "NL": "Países Bajos",
                "BE": "Bélgica",
                "AT": "Austria",
                "CZ": "Chequia",
                "GR": "Grecia",
                "GB": "Reino Unido",
                "CH": "Suiza",
            }
        )
