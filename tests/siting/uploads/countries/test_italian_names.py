"""Country names in Italian."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class ItalianNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "Francia",
                "DE": "Germania",
                "PL": "Polonia",
                "ES": "Spagna",
                "IT": "Italia",
                "NL": "Paesi Bassi",
                "BE": "Belgio",
                "AT": "Austria",
                "CZ": "Cechia",
                "GR": "Grecia",
                "GB": "Regno Unito",
                "CH": "Svizzera",
            }
        )
