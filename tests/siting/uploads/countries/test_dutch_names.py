"""Country names in Dutch."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class DutchNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "Frankrijk",
                "DE": "Duitsland",
                "PL": "Polen",
                "ES": "Spanje",
                "IT": "Italië",
                "NL": "Nederland",
                "BE": "België",
                "AT": "Oostenrijk",
                "CZ": "Tsjechië",
                "GR": "Griekenland",
                "GB": "Verenigd Koninkrijk",
                "CH": "Zwitserland",
            }
        )
