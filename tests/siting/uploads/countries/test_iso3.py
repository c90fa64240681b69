"""Country columns in ISO 3166-1 alpha-3 codes, any case."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class Iso3CountryTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "FRA",
                "DE": "DEU",
                "PL": "pol",
                "ES": "ESP",
                "IT": "Ita",
                "NL": "NLD",
                "BE": "BEL",
                "AT": "AUT",
                "CZ": "CZE",
                "GR": "GRC",
                "GB": "GBR",
                "CH": "CHE",
            }
        )
