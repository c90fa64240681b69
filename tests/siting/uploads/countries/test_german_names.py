"""Country names in German, umlauts written or spelled out (Oesterreich)."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class GermanNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "Frankreich",
                "DE": "Deutschland",
                "PL": "Polen",
                "ES": "Spanien",
                "IT": "Italien",
                "NL": "Niederlande",
                "BE": "Belgien",
                "AT": "OESTERREICH",
                "CZ": "Tschechien",
                "GR": "Griechenland",
                "GB": "Vereinigtes Königreich",
                "CH": "Schweiz",
            }
        )
