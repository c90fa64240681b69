"""Column names and coded values in the upload languages: each language's file round-trips to
the same Site fields; dates in a closure column give their year; matching stays one lookup."""

from __future__ import annotations

import numpy as np
import pytest

from siting.importers.sites import COLUMNS, UploadRejected, map_columns, parse_sites_file
from tests.support.uploads import locators

# One file per language: its header, then a row with the country's name, the pollution and
# zoning words of that language, and the closure as a year or a date in local usage.
FILES = {
    "en": (
        "id;name;lon;lat;country;municipality;area_ha;closure_date;capacity_mw;voltage_kv;pollution;zoning\n"
        "GB-1;Ratcliffe-on-Soar;-1.2550;52.8650;United Kingdom;Ratcliffe;280;2024-09-30;2000;400;suspected;agricultural\n"
    ),
    "fr": (
        "Identifiant;Nom du site;Longitude;Latitude;Pays;Commune;Surface (ha);Date de fermeture;Puissance (MW);Tension (kV);"
        "Pollution des sols;Zonage\n"
        "FR-1;Centrale de Cordemais;-1,8795;47,2744;FRANCE;Cordemais;80;31/03/2022;1200;400;avérée;zone urbaine\n"
    ),
    "de": (
        "Nr.;Bezeichnung;Längengrad;Breitengrad;Staat;Gemeinde;Fläche (m²);Stilllegungsdatum;Anschlussleistung (MW);"
        "Spannung (kV);Altlasten;Flächennutzung\n"
        "DE-1;EKO Stahl;14,6245;52,1631;Deutschland;Eisenhüttenstadt;6.000.000;30.06.2019;2000;380;Verdacht;Gewerbegebiet\n"
    ),
    "es": (
        "Identificador;Nombre;Longitud;Latitud;País;Municipio;Superficie (ha);Año de cierre;Potencia (MW);Tensión (kV);"
        "Contaminación;Zonificación\n"
        "ES-1;Central de As Pontes;-7,86;43,44;España;As Pontes;300;2023;1400;400;ninguna;rústico\n"
    ),
    "it": (
        "Codice;Denominazione;Longitudine;Latitudine;Paese;Comune;Superficie (ettari);Anno di chiusura;Potenza (MW);Tensione (kV);"
        "Inquinamento;Destinazione urbanistica\n"
        "IT-1;Centrale di Turbigo;8,73;45,53;Italia;Turbigo;70;2021;1700;380;bonificata;urbano\n"
    ),
    "nl": (
        "Nummer;Naam;Lengtegraad;Breedtegraad;Landcode;Gemeente;Oppervlakte (ha);Sluitingsjaar;Vermogen (MW);Spanning (kV);"
        "Bodemverontreiniging;Bestemming\n"
        "NL-1;Hemweg centrale;4,84;52,39;NLD;Amsterdam;20;2019;630;380;onbekend;bedrijventerrein\n"
    ),
    "pl": (
        "Identyfikator;Nazwa;Długość geograficzna;Szerokość geograficzna;Kraj;Gmina;Powierzchnia (ha);Rok zamknięcia;Moc (MW);"
        "Napięcie (kV);Zanieczyszczenie;Przeznaczenie\n"
        "PL-1;Elektrownia Bełchatów;19,33;51,266;Polska;Kleszczów;900;2036;5100;400;potwierdzone;przemysłowy\n"
    ),
}
EXPECTED = {  # country, area_ha, closure_year, capacity_mw, voltage_kv, pollution, zoning
    "en": ("GB", 280.0, 2024, 2000.0, 400.0, "suspected", "A"),
    "fr": ("FR", 80.0, 2022, 1200.0, 400.0, "confirmed", "U"),
    "de": ("DE", 600.0, 2019, 2000.0, 380.0, "suspected", "U"),
    "es": ("ES", 300.0, 2023, 1400.0, 400.0, "none", "A"),
    "it": ("IT", 70.0, 2021, 1700.0, 380.0, "remediated", "U"),
    "nl": ("NL", 20.0, 2019, 630.0, 380.0, "unknown", "U"),
    "pl": ("PL", 900.0, 2036, 5100.0, 400.0, "confirmed", "U"),
}


def parse(data: bytes, name: str = "sites.csv", **kwargs):
    countries, departements, regions = locators()
    return parse_sites_file(
        data,
        name,
        source_name="Languages",
        countries=countries,
        departements=departements,
        departement_regions=regions,
        current_year=2026,
        **kwargs,
    )


class ColumnLanguageTests:
    @pytest.mark.parametrize("language", sorted(FILES))
    def test_it_reads_a_file_headed_in_each_language(self, language):
        parsed = parse(FILES[language].encode("utf-8"))
        assert parsed.errors == []
        # Every column was used: none fell through as unknown.
        assert not [n for n in parsed.notes if n.startswith("Columns not used")]
        row = parsed.sites.iloc[0]
        got = (
            row["country"],
            row["area_ha"],
            int(row["closure_year"]),
            row["grid_capacity_mw"],
            row["grid_voltage_kv"],
            row["pollution_status"],
            row["zoning_type"],
        )
        assert got == EXPECTED[language]

    def test_it_takes_the_year_of_a_date_in_the_closure_column(self):
        parsed = parse(
            b"id,name,lon,lat,fermeture\n"
            b"A,Gandrange,6.0648,49.2833,2008-03-31\nB,Cordemais,-1.8795,47.2744,31/03/2022\n"
            b"C,EKO,14.6245,52.1631,30.06.2019\nD,Bis,6.07,49.28,2011\nE,Ter,6.08,49.28,sometime\n"
        )
        assert parsed.sites["closure_year"].tolist() == [2008, 2022, 2019, 2011]
        assert [(e.row, e.field, e.value, e.reason) for e in parsed.errors] == [
            (6, "closure_year", "sometime", "not a year or a date")
        ]

    @pytest.mark.parametrize(
        "header",
        [
            "fermeture",
            "Date de fermeture",
            "Année d'arrêt",
            "Stilllegung",
            "Stilllegungsjahr",
            "STILLLEGUNGSDATUM",
            "cierre",
            "Fecha de cierre",
            "chiusura",
            "Anno di chiusura",
            "sluitingsjaar",
            "Rok zamknięcia",
            "rok zamkniecia",
        ],
    )
    def test_it_knows_the_closure_column_in_every_language(self, header):
        mapping, _notes = map_columns(["id", header])
        assert mapping["closure_year"] == (header, 1.0)

    @pytest.mark.parametrize(
        ("header", "field", "factor"),
        [
            ("Fläche (m²)", "area_ha", 1e-4),
            ("Flaeche_ha", "area_ha", 1.0),
            ("Superficie (ettari)", "area_ha", 1.0),
            ("Powierzchnia_m2", "area_ha", 1e-4),
            ("Puissance (kW)", "grid_capacity_mw", 1e-3),
            ("Moc GW", "grid_capacity_mw", 1e3),
            ("Spannung (V)", "grid_voltage_kv", 1e-3),
            ("Napięcie", "grid_voltage_kv", 1.0),
            ("Altlasten", "pollution_status", 1.0),
            ("Zonage", "zoning_type", 1.0),
            ("urba_zone_type", "zoning_type", 1.0),
        ],
    )
    def test_it_reads_units_from_names_in_every_language(self, header, field, factor):
        mapping, _notes = map_columns(["id", header])
        assert mapping[field] == (header, factor)

    def test_it_still_asks_for_the_unit_of_an_area(self):
        with pytest.raises(UploadRejected, match="without its unit"):
            map_columns(["id", "Powierzchnia"])

    def test_it_refuses_two_columns_for_one_field_in_two_languages(self):
        with pytest.raises(UploadRejected, match="both give the closure_year"):
            map_columns(["Stilllegungsjahr", "Date de fermeture"])

    def test_it_rejects_an_unknown_zoning_word_listing_the_codes(self):
        parsed = parse(b"id,name,lon,lat,zoning\nA,Gandrange,6.0648,49.2833,somewhere\n")
        assert [(e.field, e.reason) for e in parsed.errors] == [
            ("zoning_type", "unknown value; use one of: A, AU, N, U")
        ]

    def test_it_matches_a_million_columns_by_lookup(self, monkeypatch):
        # An earlier audit: 116 s when every column was compared with every synonym. Each
        # column now costs one dictionary lookup, whatever the number of synonyms.
        from siting.importers import sites as sites_module

        class CountingIndex(dict):
            lookups = 0

            def get(self, key, default=None):
                CountingIndex.lookups += 1
                return super().get(key, default)

        monkeypatch.setattr(sites_module, "COLUMN_INDEX", CountingIndex(sites_module.COLUMN_INDEX))
        columns = [f"column {i}" for i in range(1_000_000)] + ["Stilllegungsjahr"]
        mapping, notes = map_columns(columns)
        assert mapping == {"closure_year": ("Stilllegungsjahr", 1.0)}
        assert CountingIndex.lookups == len(columns)

    def test_no_name_is_given_to_two_fields(self):
        from siting.importers.countries import fold

        owners: dict[str, set[str]] = {}
        for column in COLUMNS:
            for name in column.names:
                owners.setdefault(fold(name), set()).add(column.field)
        assert {k: v for k, v in owners.items() if len(v) > 1} == {}
        assert np.all([len(c.names) >= 5 for c in COLUMNS if c.field != "departement_code"])
