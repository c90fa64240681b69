"""Country names in each country's own language, in every script (Ελλάδα) and each official language (Belgium, Switzerland)."""

from __future__ import annotations

from tests.siting.uploads.countries.country_cases import assert_read_as_written


class NativeNameTests:
    def test_it_reads_every_row_with_its_country(self):
        assert_read_as_written(
            {
                "FR": "France",
                "DE": "Deutschland",
                "PL": "POLSKA",
                "ES": "España",
                "IT": "Italia",
                "NL": "Nederland",
                "BE": "Belgique",
                "AT": "Österreich",
                "CZ": "Česko",
                "GR": "Ελλάδα",
                "GB": "United Kingdom",
                "CH": "Svizzera",
            }
        )

    def test_it_reads_every_official_language_of_a_country(self):
        for written in ("België", "Belgique", "Belgien"):
            assert_read_as_written({"BE": written})
        for written in ("Schweiz", "Suisse", "Svizzera"):
            assert_read_as_written({"CH": written})
