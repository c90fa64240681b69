"""Where the file gives no country, it comes from the position with a note; a stated country
that contradicts the position, or a name no one knows, is an error naming what was found."""

from __future__ import annotations

from siting.importers.sites import parse_sites_file
from tests.siting.uploads.countries.country_cases import PLACES, csv_with_countries, parse_countries
from tests.support.uploads import locators


def _parse(data: bytes):
    countries, departements, regions = locators()
    return parse_sites_file(
        data,
        "sites.csv",
        source_name="Countries",
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
    )


class CountryFromPositionTests:
    def test_it_takes_empty_cells_from_the_position_with_a_note(self):
        codes, errors = parse_countries({"FR": "", "DE": "Deutschland", "PL": "  "})
        assert errors == []
        assert codes == ["FR", "DE", "PL"]
        parsed = _parse(csv_with_countries({"FR": "", "DE": "Deutschland", "PL": ""}))
        assert "Country taken from the position on 2 row(s) where the file gives none." in parsed.notes

    def test_it_takes_every_country_from_the_position_without_a_column(self):
        lines = ["id,name,lon,lat"] + [f"S{i},{name},{lon},{lat}" for i, (name, lon, lat) in enumerate(PLACES.values())]
        parsed = _parse("\n".join(lines).encode())
        assert parsed.errors == []
        assert parsed.sites.sort_values("row")["country"].tolist() == list(PLACES)
        assert f"Country taken from the position on {len(PLACES)} row(s) where the file gives none." in parsed.notes

    def test_it_names_both_countries_when_they_disagree(self):
        # Gandrange is in Moselle, 15 km from Germany; the file says Germany in German.
        _codes, errors = parse_countries({"FR": "Deutschland", "DE": "GERMANY"})
        assert [(e.row, e.field, e.value, e.reason) for e in errors] == [
            (2, "country", "Deutschland", "the file says Germany (DE) but the position lies in France (FR)")
        ]

    def test_it_rejects_a_country_it_does_not_know(self):
        _codes, errors = parse_countries({"FR": "Gaul", "DE": "XX", "PL": "Europe"})
        assert [(e.row, e.value) for e in errors] == [(2, "Gaul"), (3, "XX"), (4, "Europe")]
        assert {e.reason for e in errors} == {
            "not a country code (ISO 3166-1 two or three letters) or a country name Gigasite knows"
        }
