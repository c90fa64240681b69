"""Shared by the country-name tests: one real place per country, and a CSV writer."""

from __future__ import annotations

import csv
import io

from siting.importers.sites import parse_sites_file
from tests.support.uploads import locators

# Real places, each well inside its country (hand-checked on a map): power stations and
# steelworks of the kind analysts upload. ISO 3166-1 alpha-2 → (name, longitude, latitude).
PLACES = {
    "FR": ("Aciérie de Gandrange", 6.0648, 49.2833),
    "DE": ("EKO Stahl Eisenhüttenstadt", 14.6245, 52.1631),
    "PL": ("Elektrownia Bełchatów", 19.3300, 51.2660),
    "ES": ("Central térmica de As Pontes", -7.8600, 43.4400),
    "IT": ("Centrale di Turbigo", 8.7300, 45.5300),
    "NL": ("Hemweg centrale", 4.8400, 52.3900),
    "BE": ("Centrale Langerlo", 5.4900, 50.9900),
    "AT": ("Kraftwerk Dürnrohr", 15.9200, 48.3300),
    "CZ": ("Elektrárna Prunéřov", 13.2600, 50.4200),
    "GR": ("Ptolemaida power station", 21.6900, 40.5000),
    "GB": ("Ratcliffe-on-Soar", -1.2550, 52.8650),
    "CH": ("Bern Felsenau", 7.4450, 46.9650),
}


def csv_with_countries(written: dict[str, str], *, country_header: str = "country", encoding: str = "utf-8") -> bytes:
    """Return a CSV with one row per place, its country column written as ``written[code]``."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["id", "name", "lon", "lat", country_header])
    for i, (code, text) in enumerate(written.items()):
        name, lon, lat = PLACES[code]
        out.writerow([f"S{i + 1}", name, lon, lat, text])
    return buf.getvalue().encode(encoding)


def parse_countries(written: dict[str, str], **kwargs) -> tuple[list[str], list]:
    """Return the country codes the importer gives the rows, and its errors."""
    countries, departements, regions = locators()
    parsed = parse_sites_file(
        csv_with_countries(written, **kwargs),
        "sites.csv",
        source_name="Countries",
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
    )
    return parsed.sites.sort_values("row")["country"].tolist(), parsed.errors


def assert_read_as_written(written: dict[str, str]) -> None:
    """Assert every row is accepted, with the country its position lies in."""
    codes, errors = parse_countries(written)
    assert errors == []
    assert codes == list(written)
