"""Country columns in ISO 3166-1 alpha-2 codes, any case and padding, and Eurostat's EL and UK."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class Iso2CountryTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "FR",
                "DE": "de",
                "PL": " Pl ",
                "ES": "ES",
                "IT": "it",
                "NL": "NL",
                "BE": "BE",
                "AT": "AT",
                "CZ": "CZ",
                "GR": "EL",
                "GB": "UK",
                "CH": "CH",
            }
        )
