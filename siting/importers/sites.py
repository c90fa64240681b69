"""Read an analyst's file of candidate sites: read → map columns → validate → reproject → rows.

Pure: no request, no ORM. The caller (``siting.uploads.services``) gives the country outlines to check
against and the limits, and writes the result. Formats: GeoJSON, GeoPackage, zipped
Shapefile, CSV (longitude/latitude columns or a WKT column; comma, semicolon or tab
separated; decimal point or comma; UTF-8 or Latin-1), and XLSX or ODS spreadsheets (one sheet,
chosen when there are several; the header found below a title block). Column names and country
names are read in English, French, German, Spanish, Italian, Dutch and Polish. Every file is written into a fresh
temporary directory under a fixed name (never the user's), read there, and the directory is
removed whatever happens.

Coordinates come out as WGS84 longitude/latitude in degrees. A polygon gives its centroid
and its area, both computed in ETRS89-LAEA (EPSG:3035, equal-area).

Errors come in two kinds: :class:`UploadRejected` refuses the whole file (unreadable,
unsafe, too big, no rows, mixed geometry types, an ambiguous column …) with a message safe to
show; :class:`RowError` names the row, field, value and reason of one bad value, and the
file's other rows may still be imported if the caller asks for it.

References
----------
IEC 60038:2009, *IEC standard voltages*, tables 3–5 (nominal voltages above 1 kV).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import stat
import tempfile
import time
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import shape

from siting import csv_safe
from siting.importers.countries import country_name, fold, name_variants, resolve_countries
from siting.importers.reference import former_use_from_text
from siting.scoring.params import VOLTAGE_CLASSES_KV

from .bounded import LimitExceeded, run_bounded

log = logging.getLogger(__name__)

# --- limits and results --------------------------------------------------------------------


@dataclass(frozen=True)
class UploadLimits:
    """What a file may weigh and cost to read.

    Sizes in bytes; ``zip_max_ratio`` uncompressed ÷ compressed. The file is read in a child
    process (``siting.importers.bounded``) that may run ``parse_timeout_s`` seconds (wall clock
    and CPU) and grow by ``parse_memory_bytes``. ``max_columns`` bounds the header (every
    column is matched against every synonym of the template), ``max_line_bytes`` any one
    line, whatever ends it (LF, CRLF or a bare CR).
    """

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 200_000
    zip_max_uncompressed_bytes: int = 200 * 1024 * 1024
    zip_max_ratio: float = 100.0
    zip_max_members: int = 100
    max_columns: int = 200
    max_line_bytes: int = 1024 * 1024
    parse_timeout_s: float = 60.0
    parse_memory_bytes: int = 2048 * 1024 * 1024


class UploadRejected(Exception):
    """The whole file is refused; ``str(exc)`` is a message safe to show to the user."""


class SheetChoiceNeeded(UploadRejected):
    """A workbook holds several sheets and none was chosen; ``sheets`` lists their names."""

    def __init__(self, message: str, sheets: list[str]) -> None:
        super().__init__(message)
        self.sheets = list(sheets)

    def __reduce__(self):  # raised in the reading child, pickled back to the parent
        return (type(self), (str(self), self.sheets))


@dataclass(frozen=True)
class RowError:
    """One rejected value: ``row`` is the CSV line (header = 1), the spreadsheet row as the sheet
    numbers it, or the feature number (from 1)."""

    row: int
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "value": self.value, "reason": self.reason}


@dataclass
class ParsedFile:
    """What a file gave: the valid sites as Site fields, and everything that was wrong."""

    sites: pd.DataFrame
    errors: list[RowError]
    rows_read: int
    file_format: str
    crs: str
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return len({e.row for e in self.errors})


# --- the column template -------------------------------------------------------------------

FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".ods": "ods",
}
FORMAT_LABELS = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shapefile": "Shapefile (zip)",
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "ods": "OpenDocument spreadsheet (ODS)",
}
SPREADSHEETS = ("xlsx", "ods")
TABLES = ("csv", *SPREADSHEETS)
"""Formats whose rows are plain cells (positions in columns or WKT), not GIS features."""
HEADER_SCAN_ROWS = 30
"""A spreadsheet's header is looked for in its first rows (below a title block): the row that
names the most template columns. [rows]"""

KNOWN_VOLTAGES_KV = tuple(
    sorted(
        set(VOLTAGE_CLASSES_KV)
        | {
            10.0,
            11.0,
            15.0,
            20.0,
            22.0,
            30.0,
            33.0,
            35.0,
            45.0,
            66.0,
            69.0,
            110.0,
            115.0,
            132.0,
            138.0,
            150.0,
            161.0,
            220.0,
            230.0,
            275.0,
            330.0,
            345.0,
            380.0,
            400.0,
            500.0,
            750.0,
        }
    )
)
"""Connection voltages accepted [kV]: the scoring model's classes and IEC 60038 nominal
voltages used in Europe (tables 3–5)."""

MAX_AREA_HA = 20_000.0
"""Largest plausible site [ha] (200 km²); beyond is almost always a unit mistake."""
MAX_CAPACITY_MW = 10_000.0
"""Largest plausible existing connection [MW]; Europe's largest plants are about 8 GW."""
CLOSURE_YEAR_MIN = 1800
CLOSURE_YEARS_AHEAD = 10
"""Announced closures up to this many years ahead are accepted."""
COUNTRY_TOLERANCE_DEG = 0.05
"""A point this close to a country outline counts as in it (~5 km; Natural Earth 1:50m
coastlines and borders are that coarse). [degree]"""
WGS84 = "EPSG:4326"
EQUAL_AREA = "EPSG:3035"

CRS_BY_RANGE = (
    ("EPSG:4326", "WGS84", (-180.0, -90.0, 180.0, 90.0)),
    ("EPSG:2154", "RGF93 / Lambert-93", (-500_000.0, 6_000_000.0, 2_000_000.0, 7_600_000.0)),
    ("EPSG:3035", "ETRS89-LAEA Europe", (900_000.0, 500_000.0, 8_000_000.0, 5_900_000.0)),
)
"""CRS guessed for files that state none, by the range of their coordinates (the ranges do
not overlap, northings tell the projected ones apart): WGS84 degrees, Lambert-93 metres
(France and its neighbours), LAEA metres (Europe)."""


@dataclass(frozen=True)
class Column:
    """One column of the template: the Site field it fills and the names it goes by."""

    field: str
    names: tuple[str, ...]
    description: str | Promise  # a lazy translation
    example: str
    required: bool = False
    units: tuple[tuple[str, float], ...] = ()  # name suffix → factor to the field's unit
    default_unit: str | None = None  # unit assumed without a suffix; None = must be stated


AREA_UNITS = (
    ("ha", 1.0),
    ("hectares", 1.0),
    ("hektar", 1.0),
    ("ettari", 1.0),
    ("hectareas", 1.0),
    ("m2", 1e-4),
    ("sqm", 1e-4),
    ("qm", 1e-4),
    ("km2", 100.0),
)
CAPACITY_UNITS = (("mw", 1.0), ("kw", 1e-3), ("gw", 1e3))
VOLTAGE_UNITS = (("kv", 1.0), ("v", 1e-3))

# Names in English, French, German, Spanish, Italian, Dutch and Polish, as they head the
# columns of ministries', TSOs' and regions' files. Words that mean several things in one of
# those languages are left out on purpose: "Land" (a country in Dutch, a federal state in
# German), "stato" (a state and a status in Italian), "Datum"/"fecha"/"data"/"year" alone
# (which date?). A column that matches nothing is listed as not used, never guessed.
COLUMNS = (
    Column(
        "external_id",
        (
            "external_id",
            "id",
            "site_id",
            "identifier",
            "identifiant",
            "ref",
            "reference",
            "code_site",
            "site_code",
            "numéro",
            "Kennung",
            "Nummer",
            "Nr",
            "Objekt-ID",
            "Standort-ID",
            "identificador",
            "número",
            "código",
            "id_sitio",
            "identificativo",
            "codice",
            "id_sito",
            "nummer",
            "id_locatie",
            "identyfikator",
            "numer",
            "kod",
            "id_obiektu",
        ),
        gettext_lazy(
            "Your stable id for the site; re-uploading the same id under the same source updates or skips it."
        ),
        "GE-0001",
        required=True,
    ),
    Column(
        "name",
        (
            "name",
            "nom",
            "site_name",
            "site_nom",
            "label",
            "libelle",
            "title",
            "nom du site",
            "dénomination",
            "Bezeichnung",
            "Standort",
            "Standortname",
            "Anlagenname",
            "Kraftwerksname",
            "nombre",
            "denominación",
            "nombre del sitio",
            "nome",
            "denominazione",
            "nome sito",
            "naam",
            "locatienaam",
            "benaming",
            "nazwa",
            "nazwa obiektu",
            "nazwa terenu",
        ),
        gettext_lazy("Site name."),
        "Ancienne aciérie de Gandrange",
        required=True,
    ),
    Column(
        "longitude",
        (
            "longitude",
            "lon",
            "lng",
            "long",
            "x",
            "easting",
            "coord_x",
            "Längengrad",
            "geogr. Länge",
            "Rechtswert",
            "longitud",
            "longitudine",
            "lengtegraad",
            "długość",
            "długość geograficzna",
        ),
        gettext_lazy("Longitude (or easting in the file's CRS) when there is no geometry."),
        "6.0648",
    ),
    Column(
        "latitude",
        (
            "latitude",
            "lat",
            "y",
            "northing",
            "coord_y",
            "Breitengrad",
            "geogr. Breite",
            "Hochwert",
            "latitud",
            "latitudine",
            "breedtegraad",
            "szerokość",
            "szerokość geograficzna",
        ),
        gettext_lazy("Latitude (or northing in the file's CRS) when there is no geometry."),
        "49.2833",
    ),
    Column(
        "geometry",
        (
            "geometry",
            "wkt",
            "geom",
            "the_geom",
            "geometrie",
            "geometry_wkt",
            "wkt_geom",
            "Geometrie",
            "geometría",
            "geometria",
            "geometrie_wkt",
        ),
        gettext_lazy("CSV only: a WKT point or polygon instead of longitude/latitude."),
        "POINT (6.0648 49.2833)",
    ),
    Column(
        "country",
        (
            "country",
            "pays",
            "country_code",
            "iso2",
            "iso_a2",
            "iso3",
            "iso_a3",
            "country_name",
            "code pays",
            "Staat",
            "Ländercode",
            "Landescode",
            "país",
            "código país",
            "paese",
            "nazione",
            "codice paese",
            "landcode",
            "kraj",
            "państwo",
            "kod kraju",
        ),
        gettext_lazy(
            "ISO 3166-1 code (two or three letters) or the country's name; found from the position when empty."
        ),
        "FR",
    ),
    Column(
        "region_code",
        (
            "region_code",
            "code_region",
            "region_insee",
            "nuts2",
            "nuts_2",
            "nuts_code",
            "código región",
            "codice regione",
            "kod regionu",
        ),
        gettext_lazy("Region code (INSEE for France, NUTS 2 elsewhere)."),
        "44",
    ),
    Column(
        "departement_code",
        ("departement_code", "departement", "dep", "dept", "code_departement"),
        gettext_lazy("French département; found from the position when empty."),
        "57",
    ),
    Column(
        "municipality",
        (
            "municipality",
            "commune",
            "comm_nom",
            "city",
            "town",
            "ville",
            "localité",
            "gemeinde",
            "Ort",
            "Stadt",
            "municipio",
            "localidad",
            "comune",
            "località",
            "gemeente",
            "plaats",
            "gmina",
            "miejscowość",
            "miasto",
        ),
        gettext_lazy("Municipality."),
        "Gandrange",
    ),
    Column(
        "area_ha",
        (
            "area",
            "surface",
            "superficie",
            "site_surface",
            "site_area",
            "surface du site",
            "Fläche",
            "Grundstücksfläche",
            "Flächengröße",
            "área",
            "superficie del sitio",
            "oppervlakte",
            "oppervlak",
            "powierzchnia",
        ),
        gettext_lazy(
            "Site area with its unit in the name: area_ha or area_m2 (or area_km2). Polygons give it when empty."
        ),
        "105.2",
        units=AREA_UNITS,
    ),
    Column(
        "former_use",
        (
            "former_use",
            "use",
            "usage",
            "ancien_usage",
            "type",
            "type de site",
            "Nutzung",
            "frühere Nutzung",
            "Vornutzung",
            "Art",
            "Typ",
            "uso",
            "uso anterior",
            "tipo",
            "uso precedente",
            "gebruik",
            "voormalig gebruik",
            "użytkowanie",
            "dawne użytkowanie",
            "rodzaj",
        ),
        gettext_lazy("One of the former-use codes; guessed from former_activity when empty."),
        "steel",
    ),
    Column(
        "former_activity",
        (
            "former_activity",
            "activity",
            "activite",
            "activite_libelle",
            "description",
            "activité ancienne",
            "Tätigkeit",
            "Branche",
            "Beschreibung",
            "actividad",
            "descripción",
            "attività",
            "descrizione",
            "activiteit",
            "omschrijving",
            "beschrijving",
            "działalność",
            "opis",
        ),
        gettext_lazy("What was there, in your words."),
        "Sidérurgie (laminoir)",
    ),
    Column(
        "closure_year",
        (
            "closure_year",
            "year_closed",
            "closed",
            "closure",
            "closure_date",
            "date_closed",
            "decommissioned",
            "decommissioning_year",
            "retired",
            "retirement_year",
            "annee_fermeture",
            "activite_fin_annee",
            "dateout",
            "fermeture",
            "date de fermeture",
            "année de fermeture",
            "année d'arrêt",
            "date d'arrêt",
            "arrêt",
            "Stilllegung",
            "Stilllegungsjahr",
            "Stilllegungsdatum",
            "Jahr der Stilllegung",
            "Schließung",
            "Schließungsjahr",
            "Außerbetriebnahme",
            "cierre",
            "año de cierre",
            "fecha de cierre",
            "año cierre",
            "chiusura",
            "anno di chiusura",
            "data di chiusura",
            "anno chiusura",
            "dismissione",
            "anno dismissione",
            "sluiting",
            "sluitingsjaar",
            "sluitingsdatum",
            "jaar van sluiting",
            "buitengebruikstelling",
            "zamknięcie",
            "rok zamknięcia",
            "data zamknięcia",
            "likwidacja",
            "rok likwidacji",
            "wyłączenie",
            "rok wyłączenia",
        ),
        gettext_lazy("Year the activity stopped, or its date (the year is kept)."),
        "2008",
    ),
    Column(
        "grid_capacity_mw",
        (
            "grid_capacity",
            "capacity",
            "connection_capacity",
            "installed_capacity",
            "puissance",
            "capacite",
            "power",
            "puissance de raccordement",
            "puissance installée",
            "Leistung",
            "Anschlussleistung",
            "Netzanschlussleistung",
            "Nennleistung",
            "Kapazität",
            "potencia",
            "capacidad",
            "potencia instalada",
            "potenza",
            "capacità",
            "potenza installata",
            "vermogen",
            "aansluitcapaciteit",
            "capaciteit",
            "moc",
            "moc przyłączeniowa",
            "moc zainstalowana",
        ),
        gettext_lazy("Existing grid connection; MW unless the name says kw or gw."),
        "120",
        units=CAPACITY_UNITS,
        default_unit="mw",
    ),
    Column(
        "grid_voltage_kv",
        (
            "grid_voltage",
            "voltage",
            "connection_voltage",
            "tension",
            "tension de raccordement",
            "Spannung",
            "Netzspannung",
            "Spannungsebene",
            "tensión",
            "tensione",
            "spanning",
            "netspanning",
            "napięcie",
        ),
        gettext_lazy("Voltage of that connection; kV unless the name says v."),
        "225",
        units=VOLTAGE_UNITS,
        default_unit="kv",
    ),
    Column(
        "pollution_status",
        (
            "pollution_status",
            "pollution",
            "sol_pollution_existe",
            "pollution des sols",
            "Altlast",
            "Altlasten",
            "Kontamination",
            "Bodenbelastung",
            "contaminación",
            "contaminación del suelo",
            "contaminazione",
            "inquinamento",
            "verontreiniging",
            "bodemverontreiniging",
            "zanieczyszczenie",
            "skażenie",
        ),
        gettext_lazy("none, suspected, confirmed, remediated or unknown (or the same words in the upload languages)."),
        "suspected",
    ),
    Column(
        "zoning_type",
        (
            "zoning_type",
            "zoning",
            "zone",
            "urba_zone_type",
            "zonage",
            "zone PLU",
            "Flächennutzung",
            "Nutzungsart",
            "Widmung",
            "zonificación",
            "clasificación del suelo",
            "zonizzazione",
            "destinazione urbanistica",
            "bestemming",
            "bestemmingsplan",
            "strefa",
            "przeznaczenie",
        ),
        gettext_lazy(
            "Planning zone: U (urban), AU (to be urbanised), A (agricultural) or N (natural), or those words."
        ),
        "U",
    ),
    Column(
        "flood_zone",
        (
            "flood_zone",
            "flood",
            "zone_inondable",
            "inondable",
            "Überschwemmungsgebiet",
            "Hochwasser",
            "zona inundable",
            "inundable",
            "zona alluvionale",
            "overstromingsgebied",
            "strefa zalewowa",
        ),
        gettext_lazy("yes or no."),
        "no",
    ),
    Column(
        "water_access",
        (
            "water_access",
            "water",
            "eau",
            "acces_eau",
            "Wasser",
            "Wasserzugang",
            "agua",
            "acceso al agua",
            "acqua",
            "accesso all'acqua",
            "toegang tot water",
            "woda",
            "dostęp do wody",
        ),
        gettext_lazy("river, sea, none or unknown."),
        "river",
    ),
    Column(
        "reconverted",
        (
            "reconverted",
            "reconvertie",
            "reused",
            "nachgenutzt",
            "reutilizado",
            "riconvertito",
            "herbestemd",
            "zagospodarowany",
        ),
        gettext_lazy("yes when the site is already reused."),
        "no",
    ),
    Column(
        "source_status",
        ("source_status", "status", "statut", "site_statut", "Zustand", "estado", "situazione", "stan"),
        gettext_lazy("Status in your source."),
        "friche sans projet",
    ),
    Column(
        "source_url",
        ("source_url", "url", "link", "lien", "site_url", "enlace", "collegamento", "odnośnik"),
        gettext_lazy("http(s) link to the site's record."),
        "https://example.org/sites/GE-0001",
    ),
    Column(
        "source_date",
        (
            "source_date",
            "date",
            "updated",
            "date_maj",
            "site_actu_date",
            "date de mise à jour",
            "Stand",
            "Aktualisierung",
            "fecha de actualización",
            "data di aggiornamento",
            "bijgewerkt",
            "data aktualizacji",
        ),
        gettext_lazy("When your source last described the site (YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY)."),
        "2024-03-01",
    ),
)
"""The upload template, in order. Names are compared after folding case, accents and
punctuation ("Surface (m²)" → ``surface_m2``, "Année d'arrêt" → ``annee_d_arret``), by one
dictionary lookup per column (:data:`COLUMN_INDEX`)."""


def _column_index() -> dict[str, tuple[Column, str | None]]:
    """Return folded column name → (column, unit named in it, or its default unit)."""
    index: dict[str, tuple[Column, str | None]] = {}

    def put(key: str, value: tuple[Column, str | None]) -> None:
        if key in index and index[key][0].field != value[0].field:
            raise ImproperlyConfigured(f"Column name {key!r} given to both {index[key][0].field} and {value[0].field}")
        index.setdefault(key, value)

    for spec in COLUMNS:
        if not spec.units:  # fields with units (area_ha …) are their base name plus the unit, below
            put(spec.field, (spec, spec.default_unit))
        # Fläche, Flaeche and Flache alike; each with its unit appended (Fläche_ha, superficie_m2).
        for base in {v for name in spec.names for v in name_variants(name)}:
            put(base, (spec, spec.default_unit))
            for unit, _factor in spec.units:
                put(f"{base}_{unit}", (spec, unit))
                put(f"{base}{unit}", (spec, unit))
                if spec.field == "area_ha":
                    put(f"{base}_{unit}".replace("_", ""), (spec, unit))
    return index


TEXT_MAX = {
    "name": 200,
    "region_code": 8,
    "departement_code": 3,
    "municipality": 100,
    "former_activity": 200,
    "source_status": 64,
}

FORMER_USE_CODES = (
    "coal_plant",
    "gas_plant",
    "oil_plant",
    "nuclear_plant",
    "other_plant",
    "steel",
    "chemicals",
    "refinery",
    "automotive",
    "paper",
    "rail",
    "military",
    "other",
)
CHOICES = {
    "former_use": {
        **{c: c for c in FORMER_USE_CODES},
        "coal": "coal_plant",
        "gas": "gas_plant",
        "oil": "oil_plant",
        "nuclear": "nuclear_plant",
        "steelworks": "steel",
        "chemical": "chemicals",
        "chimie": "chemicals",
        "siderurgie": "steel",
        "raffinerie": "refinery",
        "papeterie": "paper",
        "ferroviaire": "rail",
        "militaire": "military",
        "autre": "other",
    },
    "pollution_status": {
        "none": "none",
        "suspected": "suspected",
        "confirmed": "confirmed",
        "remediated": "remediated",
        "unknown": "unknown",
        "aucune": "none",
        "pollution_inexistante": "none",
        "pollution_peu_probable": "none",
        "supposee": "suspected",
        "pollution_supposee": "suspected",
        "averee": "confirmed",
        "pollution_averee": "confirmed",
        "depolluee": "remediated",
        "inconnu": "unknown",
        "inconnue": "unknown",
        # German, Spanish, Italian, Dutch, Polish
        "keine": "none",
        "verdacht": "suspected",
        "vermutet": "suspected",
        "bestatigt": "confirmed",
        "nachgewiesen": "confirmed",
        "saniert": "remediated",
        "unbekannt": "unknown",
        "ninguna": "none",
        "sospechada": "suspected",
        "confirmada": "confirmed",
        "descontaminada": "remediated",
        "desconocida": "unknown",
        "desconocido": "unknown",
        "nessuna": "none",
        "sospetta": "suspected",
        "accertata": "confirmed",
        "bonificata": "remediated",
        "sconosciuta": "unknown",
        "sconosciuto": "unknown",
        "geen": "none",
        "vermoed": "suspected",
        "bevestigd": "confirmed",
        "gesaneerd": "remediated",
        "onbekend": "unknown",
        "brak": "none",
        "podejrzewane": "suspected",
        "potwierdzone": "confirmed",
        "oczyszczone": "remediated",
        "zrekultywowane": "remediated",
        "nieznane": "unknown",
    },
    "zoning_type": {
        "u": "U",
        "au": "AU",
        "a": "A",
        "n": "N",
        "urban": "U",
        "to_be_urbanised": "AU",
        "agricultural": "A",
        "natural": "N",
        "urbaine": "U",
        "zone_urbaine": "U",
        "a_urbaniser": "AU",
        "agricole": "A",
        "naturelle": "N",
        "baugebiet": "U",
        "gewerbegebiet": "U",
        "industriegebiet": "U",
        "bauerwartungsland": "AU",
        "landwirtschaft": "A",
        "landwirtschaftlich": "A",
        "aussenbereich": "N",
        "grunland": "A",
        "wald": "N",
        "urbano": "U",
        "urbanizable": "AU",
        "rustico": "A",
        "agricola": "A",
        "no_urbanizable": "N",
        "urbanizzabile": "AU",
        "naturale": "N",
        "stedelijk": "U",
        "bedrijventerrein": "U",
        "agrarisch": "A",
        "natuur": "N",
        "miejski": "U",
        "przemyslowy": "U",
        "rolny": "A",
        "przyrodniczy": "N",
        "lesny": "N",
    },
    "water_access": {
        "river": "river",
        "sea": "sea",
        "none": "none",
        "unknown": "unknown",
        "riviere": "river",
        "fleuve": "river",
        "canal": "river",
        "mer": "sea",
        "aucun": "none",
        "inconnu": "unknown",
    },
}
"""Accepted values of the coded columns (codes, and words in the upload languages, folded) → code.
Zoning codes are Cartofriches' ``urba_zone_type`` (U urban, AU to be urbanised, A agricultural, N
natural), which the scoring reads (MODEL.md §2, site readiness)."""

URL_PATTERN = r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?::\d{1,5})?(?:[/?#]\S*)?"
TRUE_WORDS = {"1", "true", "yes", "y", "t", "oui", "o", "vrai", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "non", "faux"}


COLUMN_INDEX = _column_index()
"""Folded column name → (template column, unit): matching a header costs one lookup per column."""


def source_slug(source_name: str) -> str:
    """Return the namespace of a source's external ids (``"Grand Est survey"`` → ``grand-est-survey``)."""
    slug = slugify(source_name)[:40].strip("-")
    if not slug:
        raise UploadRejected(_("Give the source a name made of letters or digits."))
    if slug in ("cartofriches", "powerplantmatching"):
        raise UploadRejected(
            _("The source name “%(name)s” is reserved for the reference data.") % {"name": source_name}
        )
    return slug


# --- reading -------------------------------------------------------------------------------


def _format_of(file_name: str, data: bytes) -> str:
    suffix = Path(file_name).suffix.lower()
    if suffix in (".shp", ".shx", ".dbf"):
        raise UploadRejected(
            _("A shapefile is several files (.shp, .shx, .dbf, .prj): put them in one .zip and upload that.")
        )
    if suffix in (".xls", ".xlsb") or (suffix in (".xlsx", ".xlsm") and data.startswith(b"\xd0\xcf\x11\xe0")):
        # The old binary format, or an XLSX saved with a password (an encrypted OLE container).
        raise UploadRejected(_("Save the workbook as .xlsx (Excel 2007 or later) without a password, then upload it."))
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise UploadRejected(
            _(
                "Files ending in “%(suffix)s” are not supported: upload GeoJSON, GeoPackage, a zipped Shapefile, CSV, XLSX or ODS."
            )
            % {"suffix": suffix or _("(no extension)")}
        )
    magic_ok = {
        "gpkg": data.startswith(b"SQLite format 3\x00"),
        "shapefile": data.startswith(b"PK\x03\x04"),
        "xlsx": data.startswith(b"PK\x03\x04"),
        "ods": data.startswith(b"PK\x03\x04"),
        "geojson": data.lstrip()[:1] in (b"{", b"\xef"),
    }.get(fmt, True)
    if not magic_ok:
        raise UploadRejected(
            _("The file is named %(suffix)s but is not a %(format)s file.")
            % {"suffix": suffix, "format": FORMAT_LABELS[fmt]}
        )
    return fmt


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: list[int]) -> None:
    # Stream with a byte budget: the sizes in a zip header can lie, the bytes cannot.
    written = 0
    with zf.open(info) as src, dest.open("wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > info.file_size or budget[0] < 0:
                raise UploadRejected(_("The archive unpacks to more than it declares: refused."))
            out.write(chunk)


def _unsafe_member(name: str) -> bool:
    normalised = name.replace("\\", "/")
    return (
        normalised.startswith("/")
        or re.match(r"^[A-Za-z]:", normalised) is not None
        or ".." in PurePosixPath(normalised).parts
        or "\x00" in normalised
    )


def open_checked_zip(path: Path, limits: UploadLimits) -> zipfile.ZipFile:
    """Open a zip archive (an upload, or the container of an XLSX or ODS) once it passed the checks.

    Refused before anything is unpacked: absolute or ``..`` paths, links, encrypted members,
    more than ``zip_max_members`` members, a total uncompressed size above
    ``zip_max_uncompressed_bytes`` or a compression ratio above ``zip_max_ratio`` (a zip bomb).
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UploadRejected(_("The archive is damaged or not a zip file.")) from exc
    try:
        infos = zf.infolist()
        if len(infos) > limits.zip_max_members:
            raise UploadRejected(
                _("The archive holds %(n)d files; at most %(max)d are accepted.")
                % {"n": len(infos), "max": limits.zip_max_members}
            )
        total = 0
        for info in infos:
            if _unsafe_member(info.filename):
                raise UploadRejected(
                    _("The archive contains an unsafe path (“%(name)s”): refused.") % {"name": info.filename[:100]}
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UploadRejected(
                    _("The archive contains a link (“%(name)s”): refused.") % {"name": info.filename[:100]}
                )
            if info.flag_bits & 0x1:
                raise UploadRejected(_("The archive is encrypted: upload it without a password."))
            total += info.file_size
            if info.file_size > 1024 and info.file_size > limits.zip_max_ratio * max(info.compress_size, 1):
                raise UploadRejected(_("The archive is compressed suspiciously well (a zip bomb?): refused."))
        if total > limits.zip_max_uncompressed_bytes:
            raise UploadRejected(
                _("The archive unpacks to %(mb).0f MB; at most %(max).0f MB are accepted.")
                % {"mb": total / 1e6, "max": limits.zip_max_uncompressed_bytes / 1e6}
            )
        if total > 1024 and total > limits.zip_max_ratio * max(path.stat().st_size, 1):
            raise UploadRejected(_("The archive is compressed suspiciously well (a zip bomb?): refused."))
    except BaseException:
        zf.close()
        raise
    return zf


def extract_zip(path: Path, workdir: Path, limits: UploadLimits) -> tuple[Path, str]:
    """Check a zip archive (:func:`open_checked_zip`), extract its one dataset into ``workdir``;
    return its path and format. Members are written under fixed names, never under their own paths.
    """
    with open_checked_zip(path, limits) as zf:
        infos = zf.infolist()
        files = [
            i
            for i in infos
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not PurePosixPath(i.filename).name.startswith(".")
        ]
        by_suffix: dict[str, list[zipfile.ZipInfo]] = {}
        for info in files:
            by_suffix.setdefault(PurePosixPath(info.filename).suffix.lower(), []).append(info)
        budget = [limits.zip_max_uncompressed_bytes]
        shps = by_suffix.get(".shp", [])
        if len(shps) > 1:
            raise UploadRejected(_("The archive holds %(n)d shapefiles; upload one at a time.") % {"n": len(shps)})
        if shps:
            stem = shps[0].filename[: -len(".shp")]
            parts = {
                PurePosixPath(i.filename).suffix.lower(): i
                for i in files
                if i.filename[: -len(PurePosixPath(i.filename).suffix)] == stem
            }
            missing = [s for s in (".shx", ".dbf") if s not in parts]
            if missing:
                raise UploadRejected(
                    _("The shapefile comes without its %(parts)s file(s).") % {"parts": ", ".join(missing)}
                )
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                if suffix in parts:
                    _copy_member(zf, parts[suffix], workdir / f"sites{suffix}", budget)
            return workdir / "sites.shp", "shapefile"
        inner = [i for s in (".gpkg", ".geojson", ".json", ".csv") for i in by_suffix.get(s, [])]
        if len(inner) != 1:
            raise UploadRejected(_("The archive must hold one shapefile (or one GeoPackage, GeoJSON or CSV file)."))
        suffix = PurePosixPath(inner[0].filename).suffix.lower()
        _copy_member(zf, inner[0], workdir / f"inner{suffix}", budget)
        return workdir / f"inner{suffix}", FORMATS[suffix]


def decode_text(data: bytes) -> tuple[str, str]:
    """Return ``data`` decoded as UTF-8 (with or without BOM), else Windows-1252/Latin-1."""
    for encoding, label in (("utf-8-sig", "UTF-8"), ("cp1252", "Latin-1 (Windows-1252)"), ("latin-1", "Latin-1")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(header: str) -> str:
    # Counting in the header line is reliable: column names hold no separators, while values
    # (decimal commas, free text) often do.
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _line_breaks(data: bytes) -> np.ndarray:
    """Return the offset of every line break: LF, CRLF (counted once) or a bare CR."""
    raw = np.frombuffer(data, dtype=np.uint8)
    cr = raw == 13
    lf = raw == 10
    crlf_lf = np.zeros(len(raw), dtype=bool)
    crlf_lf[1:] = lf[1:] & cr[:-1]  # the LF of a CRLF: the CR already ended the line
    return np.flatnonzero(cr | (lf & ~crlf_lf))


def check_csv_shape(data: bytes, limits: UploadLimits, file_name: str = "") -> None:
    """Refuse a CSV with too many lines, a line too long or too many columns, before parsing.

    Lines end with LF, CRLF or a bare CR (as old Mac files do): a file of CR-only lines is one
    line to ``str.count("\n")`` but not to pandas. Quoted values may hold line breaks, so the
    line count can exceed the row count: it is only ever an upper bound.
    """
    shown = file_name or _("The file")
    breaks = _line_breaks(data)
    ends = np.concatenate([breaks, [len(data)]])
    starts = np.concatenate([[0], breaks + 1])
    lengths = ends - starts
    n_lines = int(np.count_nonzero(lengths > 0)) if len(lengths) else 0
    if n_lines > limits.max_rows + 1:
        raise UploadRejected(
            _("“%(file)s” has more than %(max)s rows (%(n)s lines after the header).")
            % {"file": shown, "n": f"{n_lines - 1:,}", "max": f"{limits.max_rows:,}"}
        )
    longest = int(np.argmax(lengths)) if len(lengths) else 0
    if len(lengths) and lengths[longest] > limits.max_line_bytes:
        raise UploadRejected(
            _("“%(file)s”, line %(line)s: %(n)s bytes long; at most %(max)s bytes a line are accepted.")
            % {
                "file": shown,
                "line": f"{longest + 1:,}",
                "n": f"{int(lengths[longest]):,}",
                "max": f"{limits.max_line_bytes:,}",
            }
        )


def read_csv_text(data: bytes, limits: UploadLimits, file_name: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Return the CSV's cells as text (empty cells as NA) and notes on how it was read."""
    check_csv_shape(data, limits, file_name)
    text, encoding = decode_text(data)
    if not text.strip():
        raise UploadRejected(_("The file is empty."))
    header = text.lstrip("\ufeff").splitlines()[0]
    sep = _delimiter(header)
    n_columns = header.count(sep) + 1
    if n_columns > limits.max_columns:
        raise UploadRejected(
            _("“%(file)s” has %(n)s columns; at most %(max)s are accepted.")
            % {"file": file_name or _("The file"), "n": f"{n_columns:,}", "max": f"{limits.max_columns:,}"}
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            on_bad_lines="error",
            engine="c",
        )
    except pd.errors.EmptyDataError as exc:
        raise UploadRejected(_("The file is empty.")) from exc
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = _(" near line %(line)s") % {"line": line.group(1)} if line else ""
        raise UploadRejected(
            _("The file cannot be read as CSV%(where)s: check the separators and quotes, or whether it was cut short.")
            % {"where": where}
        ) from exc
    names = {"\t": _("tab"), ";": _("semicolon"), ",": _("comma"), "|": "|"}
    return frame, [_("Read as CSV, %(sep)s-separated, %(encoding)s.") % {"sep": names[sep], "encoding": encoding}]


def _blank_cells(frame: pd.DataFrame) -> np.ndarray:
    """Return a mask of the blank cells (empty, NaN or only spaces), one column at a time."""
    if frame.shape[1] == 0:
        return np.zeros((len(frame), 0), dtype=bool)
    return np.column_stack([_blank(frame.iloc[:, j]) for j in range(frame.shape[1])])


def _header_row(raw: pd.DataFrame, blank: np.ndarray) -> int:
    """Return the position of the header: the first-rows row naming the most template columns."""
    best, best_score = -1, 1  # at least two known names, else the first row that is not blank
    for i in range(min(HEADER_SCAN_ROWS, len(raw))):
        score = sum(1 for j in np.flatnonzero(~blank[i]) if fold(raw.iat[i, j]) in COLUMN_INDEX)
        if score > best_score:
            best, best_score = i, score
    if best >= 0:
        return best
    filled = np.flatnonzero(~blank.all(axis=1))
    return int(filled[0]) if len(filled) else 0


def read_spreadsheet(
    path: Path, fmt: str, limits: UploadLimits, sheet: str | None = None, file_name: str = ""
) -> tuple[pd.DataFrame, list[str]]:
    """Return one sheet's rows as cells (index: the sheet's row numbers) and notes on how it was read.

    The workbook is a zip archive: it passes the archive checks (:func:`open_checked_zip`)
    before any XML is parsed. A workbook of several sheets needs ``sheet``
    (:class:`SheetChoiceNeeded` lists them). The header is the row among the first
    :data:`HEADER_SCAN_ROWS` that names the most template columns, so a title block above the
    table is skipped; blank rows and unnamed blank columns are dropped.
    """
    label = FORMAT_LABELS[fmt]
    shown = file_name or _("The file")
    if not zipfile.is_zipfile(path):
        raise UploadRejected(
            _("The file cannot be read as %(format)s: it may be damaged or cut short.") % {"format": label}
        )
    open_checked_zip(path, limits).close()
    try:
        book = pd.ExcelFile(path, engine="openpyxl" if fmt == "xlsx" else "odf")
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl, odfpy and the XML parsers raise many kinds
        log.info("upload: %s unreadable: %s", fmt, exc)
        raise UploadRejected(
            _("The file cannot be read as %(format)s: it may be damaged or cut short.") % {"format": label}
        ) from exc
    with book:
        names = [str(n) for n in book.sheet_names]
        if not names:
            raise UploadRejected(_("The workbook holds no sheet."))
        if sheet and sheet not in names:
            raise UploadRejected(
                _("The workbook has no sheet “%(sheet)s”; its sheets are: %(names)s.")
                % {"sheet": sheet[:100], "names": ", ".join(names[:50])}
            )
        if not sheet and len(names) > 1:
            raise SheetChoiceNeeded(
                _("“%(file)s” holds %(n)d sheets (%(names)s): choose the one with the sites.")
                % {"file": shown, "n": len(names), "names": ", ".join(names[:50])},
                names[:200],
            )
        chosen = sheet or names[0]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's notes on styles and data validation
                raw = book.parse(
                    book.sheet_names[names.index(chosen)],
                    header=None,
                    dtype=object,
                    nrows=limits.max_rows + HEADER_SCAN_ROWS + 1,
                )
        except MemoryError:
            raise
        except Exception as exc:
            log.info("upload: %s sheet unreadable: %s", fmt, exc)
            raise UploadRejected(
                _("The file cannot be read as %(format)s: it may be damaged or cut short.") % {"format": label}
            ) from exc
    if raw.shape[1] > limits.max_columns:
        raise UploadRejected(
            _("“%(file)s” has %(n)s columns; at most %(max)s are accepted.")
            % {"file": shown, "n": f"{raw.shape[1]:,}", "max": f"{limits.max_columns:,}"}
        )
    raw = raw.reset_index(drop=True)
    blank = _blank_cells(raw)
    if blank.all():
        raise UploadRejected(_("The sheet “%(sheet)s” is empty.") % {"sheet": chosen[:100]})
    at = _header_row(raw, blank)
    header = [("" if blank[at, j] else str(raw.iat[at, j]).strip()) for j in range(raw.shape[1])]
    body = raw.iloc[at + 1 :]
    body_blank = blank[at + 1 :]
    keep_columns = np.asarray([h != "" or not body_blank[:, j].all() for j, h in enumerate(header)], dtype=bool)
    seen: dict[str, int] = {}
    columns = []
    for j, h in enumerate(header):
        h = h or _("column %(n)d") % {"n": j + 1}
        seen[h] = seen.get(h, 0) + 1
        columns.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    body = body.loc[~body_blank.all(axis=1) if len(body) else [], :].iloc[:, np.flatnonzero(keep_columns)]
    body.columns = [c for c, k in zip(columns, keep_columns) if k]
    if len(body) > limits.max_rows:
        raise UploadRejected(_("The file has more than %(max)s rows.") % {"max": f"{limits.max_rows:,}"})
    # Rows are numbered as the spreadsheet shows them (the first row is 1).
    body.index = body.index + 1
    notes = [
        _("Read as %(format)s, sheet “%(sheet)s”, header on row %(row)d.")
        % {"format": label, "sheet": chosen, "row": at + 1}
    ]
    if at > 0:
        notes.append(_("Rows 1 to %(last)d above the header were skipped (a title block).") % {"last": at})
    if len(names) > 1:
        notes.append(
            _("Other sheets not read: %(names)s.") % {"names": ", ".join(n for n in names[:20] if n != chosen)}
        )
    return body, notes


TMP_PREFIX = "gigasite-upload-"
STALE_TMP_AFTER_S = 3600.0
"""A temporary upload directory older than this belongs to a process that was killed. [s]"""


def _read_upload(
    workdir: Path, path: Path, fmt: str, limits: UploadLimits, file_name: str, sheet: str | None = None
) -> tuple[pd.DataFrame, str, list[str], str]:
    """Return the file's rows, its CRS, notes and the format inside a zip (runs in the bounded child)."""
    inner_fmt = fmt
    if fmt in SPREADSHEETS:
        frame, notes = read_spreadsheet(path, fmt, limits, sheet, file_name)
        return frame, "", notes, fmt
    if fmt == "shapefile":
        path, inner_fmt = extract_zip(path, workdir, limits)
    if inner_fmt == "csv":
        frame, notes = read_csv_text(path.read_bytes(), limits, file_name)
        return frame, "", notes, inner_fmt
    frame, file_crs = _read_gis(path, inner_fmt, limits)
    return frame, file_crs, [], inner_fmt


def _remove_stale_tmp(tmp_dir: str | Path | None) -> None:
    # A process killed outright (SIGKILL, the OOM killer) cannot run its ``finally``: the next
    # upload removes what it left, once it is surely not in use any more.

    base = Path(tmp_dir or tempfile.gettempdir())
    cutoff = time.time() - STALE_TMP_AFTER_S
    for old in base.glob(f"{TMP_PREFIX}*"):
        try:
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def read_upload_bounded(
    data: bytes,
    file_name: str,
    fmt: str,
    limits: UploadLimits,
    tmp_dir: str | Path | None = None,
    sheet: str | None = None,
) -> tuple[pd.DataFrame, str, list[str], str]:
    """Read an uploaded file in a child process with hard time and memory limits.

    The file is written into a fresh temporary directory under a fixed name; this process owns
    the directory and removes it whatever happens, the child only reads there.
    """

    _remove_stale_tmp(tmp_dir)
    shown = PurePosixPath(file_name.replace("\\", "/")).name[:100] or _("the file")
    tmp = tempfile.mkdtemp(prefix=TMP_PREFIX, dir=tmp_dir)
    try:
        workdir = Path(tmp)
        path = workdir / f"upload{Path(file_name).suffix.lower()}"
        path.write_bytes(data)
        try:
            return run_bounded(
                _read_upload,
                workdir,
                path,
                fmt,
                limits,
                shown,
                sheet,
                workdir=workdir,
                timeout_s=limits.parse_timeout_s,
                memory_bytes=limits.parse_memory_bytes,
            )
        except LimitExceeded as exc:
            log.warning("upload %s refused: reading hit a limit (%s)", shown, exc)
            if exc.kind == "time":
                raise UploadRejected(
                    _(
                        "“%(file)s” could not be read within %(s)s seconds, so it was refused (a file that never ends, or far "
                        "too much work for its size)."
                    )
                    % {"file": shown, "s": f"{limits.parse_timeout_s:g}"}
                ) from exc
            if exc.kind == "memory":
                raise UploadRejected(
                    _(
                        "“%(file)s” needs more than %(mb)s MB of memory to read, so it was refused: split it into smaller files."
                    )
                    % {"file": shown, "mb": f"{limits.parse_memory_bytes / 2**20:,.0f}"}
                ) from exc
            raise UploadRejected(
                _(
                    "“%(file)s” could not be read within the limits (%(mb)s MB of memory, %(s)s seconds), "
                    "so it was refused."
                )
                % {"file": shown, "mb": f"{limits.parse_memory_bytes / 2**20:,.0f}", "s": f"{limits.parse_timeout_s:g}"}
            ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_gis(path: Path, fmt: str, limits: UploadLimits) -> tuple[pd.DataFrame, str]:
    """Return the file's one layer (a GeoDataFrame, or a DataFrame if it has no geometry) and its CRS."""

    label = FORMAT_LABELS[fmt]
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and plain GDAL errors alike
        log.info("upload: %s unreadable: %s", fmt, exc)
        raise UploadRejected(
            _("The file cannot be read as %(format)s: it may be damaged or cut short.") % {"format": label}
        ) from exc
    if len(layers) == 0:
        raise UploadRejected(_("The file holds no layer."))
    if len(layers) > 1:
        raise UploadRejected(
            _("The file holds %(n)d layers (%(names)s): upload a file with one layer of sites.")
            % {"n": len(layers), "names": ", ".join(str(n) for n in layers[:, 0][:5])}
        )
    try:
        info = pyogrio.read_info(path)
        n_fields = len(info["fields"])
        if n_fields > limits.max_columns:
            raise UploadRejected(
                _("The file has %(n)s columns; at most %(max)s are accepted.")
                % {"n": f"{n_fields:,}", "max": f"{limits.max_columns:,}"}
            )
        with warnings.catch_warnings():
            # Nested JSON values in GeoJSON properties stay text; the checks below report them.
            warnings.simplefilter("ignore", UserWarning)
            # The feature count a file states can lie (GeoPackage's gpkg_ogr_contents): GDAL
            # then stops at the claim and silently drops the rest. Asking for one feature more
            # than allowed reads past the claim, so the length is the true count, bounded.
            frame = pyogrio.read_dataframe(path, max_features=limits.max_rows + 1)
        if len(frame) > limits.max_rows:
            raise UploadRejected(_("The file has more than %(max)s rows.") % {"max": f"{limits.max_rows:,}"})
    except (UploadRejected, MemoryError):
        raise
    except Exception as exc:
        log.info("upload: %s unreadable: %s", fmt, exc)
        raise UploadRejected(
            _("The file cannot be read as %(format)s: it may be damaged or cut short.") % {"format": label}
        ) from exc
    crs = ""
    if getattr(frame, "crs", None) is not None:
        crs = frame.crs.to_string()
    return frame, crs


# --- parsing values ------------------------------------------------------------------------


def _blank(raw: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        return raw.isna().to_numpy()
    text = raw.astype("string")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)


def parse_numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return ``raw`` as float64 and a mask of the cells that are not numbers (blank → NaN, not bad).

    Accepts a decimal point or a decimal comma, and spaces as thousands separators; where a
    value has both ``,`` and ``.``, the last one is the decimal mark; several groups of three
    digits after one repeated mark (``6.000.000``) are thousands.
    """
    blank = _blank(raw)
    if pd.api.types.is_bool_dtype(raw.dtype):
        return np.full(len(raw), np.nan), ~blank
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, ~blank & ~np.isfinite(values)
    s = raw.astype("string").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    # Two or more groups of thousands with one mark and no other (6.000.000, 6,000,000) can
    # only be thousands separators; a single group (1.000) stays a decimal mark.
    grouped = s.str.fullmatch(r"[+-]?\d{1,3}([.,])\d{3}(\1\d{3})+").fillna(False)
    s = s.mask(grouped, s.str.replace(r"[.,]", "", regex=True))
    has_comma = s.str.contains(",", regex=False)
    has_dot = s.str.contains(".", regex=False)
    both = (has_comma & has_dot).fillna(False)
    comma_last = both & (s.str.rfind(",") > s.str.rfind(".")).fillna(False)
    s = s.mask(comma_last, s.str.replace(".", "", regex=False))
    s = s.mask(both & ~comma_last, s.str.replace(",", "", regex=False))
    s = s.str.replace(",", ".", regex=False)
    ok = s.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?").fillna(False).to_numpy(dtype=bool)
    values = np.full(len(raw), np.nan)
    if ok.any():
        values[ok] = s[ok].astype("float64").to_numpy()
    bad = ~blank & (~ok | ~np.isfinite(values))
    values[~ok] = np.nan
    return values, bad


def _texts(raw: pd.Series) -> np.ndarray:
    """Return cells as stripped str objects ('' for blank); whole floats lose their '.0'."""
    if pd.api.types.is_float_dtype(raw.dtype):
        out = []
        for v in raw.tolist():
            if v is None or not np.isfinite(v):
                out.append("")
            else:
                out.append(str(int(v)) if float(v).is_integer() else repr(float(v)))
        return np.asarray(out, dtype=object)
    values = raw.astype(object).where(raw.notna(), "").tolist()
    return np.asarray([str(v).strip() for v in values], dtype=object)


def _parse_bool(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    texts = _texts(raw)
    values = np.full(len(texts), None, dtype=object)
    bad = np.zeros(len(texts), dtype=bool)
    for i, t in enumerate(texts):
        f = fold(t)
        if not f:
            continue
        if f in TRUE_WORDS:
            values[i] = True
        elif f in FALSE_WORDS:
            values[i] = False
        else:
            bad[i] = True
    return values, bad


def _parse_date(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    texts = pd.Series(_texts(raw))
    iso = pd.to_datetime(texts, format="%Y-%m-%d", errors="coerce")
    dmy = pd.to_datetime(texts, format="%d/%m/%Y", errors="coerce")
    dmy_dots = pd.to_datetime(texts, format="%d.%m.%Y", errors="coerce")  # German, Polish, Dutch usage
    dmy_dashes = pd.to_datetime(texts, format="%d-%m-%Y", errors="coerce")  # Dutch, Spanish usage
    iso_t = pd.to_datetime(texts.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")  # GIS and spreadsheet datetimes
    parsed = iso.fillna(dmy).fillna(dmy_dots).fillna(dmy_dashes).fillna(iso_t)
    blank = (texts == "").to_numpy()
    bad = ~blank & parsed.isna().to_numpy()
    values = np.asarray([d.date() if not pd.isna(d) else None for d in parsed], dtype=object)
    return values, bad


# --- the pipeline --------------------------------------------------------------------------


class _Errors:
    def __init__(self, row_numbers: np.ndarray) -> None:
        self.row_numbers = row_numbers
        self.items: list[RowError] = []

    def flag(self, mask: np.ndarray, field_name: str, values: Iterable[Any] | np.ndarray, reason: str) -> None:
        values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
        for i in np.flatnonzero(mask):
            v = values[i]
            shown = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            self.items.append(RowError(int(self.row_numbers[i]), field_name, shown[:100], reason))

    def rows(self, n: int) -> np.ndarray:
        """Return a mask of the rows (by position) with at least one error."""
        bad = np.zeros(n, dtype=bool)
        index = {int(r): i for i, r in enumerate(self.row_numbers)}
        for e in self.items:
            if e.row in index:
                bad[index[e.row]] = True
        return bad


def map_columns(
    columns: Iterable[str], *, area_unit: str | None = None
) -> tuple[dict[str, tuple[str, float]], list[str]]:
    """Return field → (file column, unit factor) and notes; refuse ambiguous or unit-less columns.

    ``area_unit`` (``ha`` or ``m2``) states the unit of an area column whose name has none.
    """
    mapping: dict[str, tuple[str, float]] = {}
    ignored: list[str] = []
    for col in columns:
        key = fold(col)
        found = COLUMN_INDEX.get(key)
        if found is None:
            ignored.append(str(col))
            continue
        spec, unit = found
        if spec.units and unit is None:
            if spec.field == "area_ha" and area_unit in ("ha", "m2"):
                unit = area_unit
            else:
                raise UploadRejected(
                    _(
                        "Column “%(col)s” gives an area without its unit: name it area_ha or area_m2, or choose the area unit."
                    )
                    % {"col": col}
                )
        factor = dict(spec.units).get(unit, 1.0) if spec.units else 1.0  # type: ignore[arg-type]
        if spec.field in mapping:
            # The template's own name beats a synonym (a GeoJSON feature id next to external_id);
            # two synonyms are ambiguous.
            previous = mapping[spec.field][0]
            if fold(previous) == spec.field:
                ignored.append(str(col))
                continue
            if key == spec.field:
                ignored.append(previous)
                mapping[spec.field] = (str(col), factor)
                continue
            raise UploadRejected(
                _("Columns “%(a)s” and “%(b)s” both give the %(field)s: keep one.")
                % {"a": mapping[spec.field][0], "b": col, "field": spec.field}
            )
        mapping[spec.field] = (str(col), factor)
    notes = [_("Columns not used: %(cols)s.") % {"cols": ", ".join(ignored[:20])}] if ignored else []
    return mapping, notes


def _geometry_family(type_ids: np.ndarray, n_parts: np.ndarray) -> np.ndarray:
    family = np.full(len(type_ids), "", dtype=object)
    family[(type_ids == 0) | ((type_ids == 4) & (n_parts == 1))] = "point"
    family[(type_ids == 4) & (n_parts > 1)] = "multipoint"
    family[np.isin(type_ids, (1, 2, 5))] = "line"
    family[np.isin(type_ids, (3, 6))] = "polygon"
    family[type_ids == 7] = "collection"
    return family


def _detect_crs(x: np.ndarray, y: np.ndarray) -> tuple[str, str]:
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return WGS84, "WGS84"
    # The CRS that holds most points wins (stray rows are then reported out of range), as long
    # as it holds at least half of them.
    inside = [
        int(np.sum((x[ok] >= x0) & (x[ok] <= x1) & (y[ok] >= y0) & (y[ok] <= y1)))
        for _c, _l, (x0, y0, x1, y1) in CRS_BY_RANGE
    ]
    best = int(np.argmax(inside))
    if inside[best] * 2 >= int(ok.sum()):
        return CRS_BY_RANGE[best][0], CRS_BY_RANGE[best][1]
    raise UploadRejected(
        _(
            "The file does not say which coordinate system it uses, and its coordinates (x %(x0).0f to %(x1).0f, y %(y0).0f to %(y1).0f) "
            "fit none that Gigasite can guess (WGS84, Lambert-93, ETRS89-LAEA): state the CRS."
        )
        % {"x0": np.min(x[ok]), "x1": np.max(x[ok]), "y0": np.min(y[ok]), "y1": np.max(y[ok])}
    )


def parse_crs(value: str | None) -> str | None:
    """Return a stated CRS as ``EPSG:<code>``; only EPSG codes are accepted (no PROJ strings)."""
    if not value or not str(value).strip():
        return None
    m = re.fullmatch(r"\s*(?:epsg\s*:\s*)?(\d{4,6})\s*", str(value), re.I)
    if not m:
        raise UploadRejected(_("Give the CRS as an EPSG code, e.g. EPSG:2154 (Lambert-93)."))

    try:
        CRS.from_epsg(int(m.group(1)))
    except CRSError as exc:
        raise UploadRejected(_("EPSG:%(code)s is not a known coordinate system.") % {"code": m.group(1)}) from exc
    return f"EPSG:{m.group(1)}"


class PlaceLocator:
    """Find which outline (country or département) holds each point, vectorised (STRtree)."""

    def __init__(self, outlines: Iterable[tuple[str, dict]], *, tolerance_deg: float = COUNTRY_TOLERANCE_DEG) -> None:

        pairs = [(code, shape(geojson)) for code, geojson in outlines]
        self.codes = np.asarray([c for c, _g in pairs], dtype=object)
        self.geoms = np.asarray([g for _c, g in pairs], dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.tolerance_deg = tolerance_deg

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the code holding each point ('' if none), or the nearest within the tolerance."""
        out = np.full(len(lon), "", dtype=object)
        if not len(self.codes) or not len(lon):
            return out
        points = shapely.points(lon, lat)
        inside, tree_idx = self.tree.query(points, predicate="intersects")
        out[inside] = self.codes[tree_idx]
        missing = np.flatnonzero(out == "")
        if len(missing) and self.tolerance_deg > 0:
            near_in, near_tree = self.tree.query_nearest(points[missing], max_distance=self.tolerance_deg)
            out[missing[near_in]] = self.codes[near_tree]
        return out

    def near(self, lon: np.ndarray, lat: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Return whether each point lies within the tolerance of the outline ``codes[i]``."""
        ok = np.zeros(len(lon), dtype=bool)
        if not len(lon) or not len(self.codes):
            return ok
        points = shapely.points(lon, lat)
        idx, tree_idx = self.tree.query(points, predicate="dwithin", distance=self.tolerance_deg)
        ok[idx[self.codes[tree_idx] == codes[idx]]] = True
        return ok


@dataclass
class _Geometry:
    lon: np.ndarray
    lat: np.ndarray
    area_ha: np.ndarray
    geojson: np.ndarray  # GeoJSON text of polygons, '' for points


def _geometries(
    frame: pd.DataFrame,
    mapping: dict[str, tuple[str, float]],
    fmt: str,
    file_crs: str,
    stated_crs: str | None,
    errors: _Errors,
    notes: list[str],
) -> tuple[_Geometry, str]:
    """Return each row's position and outline in WGS84, flagging what cannot be used."""

    n = len(frame)
    geoms = None
    if isinstance(frame, gpd.GeoDataFrame) and (~shapely.is_missing(frame.geometry.to_numpy())).any():
        geoms = frame.geometry.to_numpy()
    elif "geometry" in mapping:
        col = mapping["geometry"][0]
        texts = _texts(frame[col])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GEOS notices; the bad cells are reported below
            geoms = shapely.from_wkt(np.where(texts == "", None, texts), on_invalid="ignore")  # type: ignore[call-overload]
        bad = (texts != "") & shapely.is_missing(geoms)
        errors.flag(bad, "geometry", texts, _("not a valid WKT geometry"))
        errors.flag(texts == "", "geometry", texts, _("missing"))
    elif "longitude" in mapping and "latitude" in mapping:
        lon_col, lat_col = mapping["longitude"][0], mapping["latitude"][0]
        x, bad_x = parse_numbers(frame[lon_col])
        y, bad_y = parse_numbers(frame[lat_col])
        errors.flag(bad_x, "longitude", frame[lon_col].astype(object).to_numpy(), _("not a number"))
        errors.flag(bad_y, "latitude", frame[lat_col].astype(object).to_numpy(), _("not a number"))
        errors.flag(np.isnan(x) & ~bad_x, "longitude", np.full(n, ""), _("missing"))
        errors.flag(np.isnan(y) & ~bad_y, "latitude", np.full(n, ""), _("missing"))
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(n, None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
    else:
        raise UploadRejected(_("The file has no geometry and no longitude/latitude columns."))

    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" not in mapping:
        errors.flag(~present, "geometry", np.full(n, ""), _("missing"))
    type_ids = shapely.get_type_id(geoms)
    n_parts = shapely.get_num_geometries(geoms)
    family = _geometry_family(type_ids, n_parts)
    kinds = {k: int(np.sum(present & (family == k))) for k in ("point", "multipoint", "polygon", "line", "collection")}
    used = {k: v for k, v in kinds.items() if v}
    point_like = {"point", "multipoint"}
    if len(set(used) - point_like) + (1 if set(used) & point_like else 0) > 1:
        described = ", ".join(f"{v} {k}" for k, v in used.items())
        raise UploadRejected(
            _("The file mixes geometry types (%(kinds)s): give every site as a point, or every site as a polygon.")
            % {"kinds": described}
        )
    if used.keys() & {"line", "collection"}:
        raise UploadRejected(_("The file holds lines or geometry collections: sites are points or polygons."))
    errors.flag(
        present & (family == "multipoint"),
        "geometry",
        np.full(n, "MultiPoint"),
        _("several points: give one point per site"),
    )

    # Repair invalid outlines; what is not polygonal after repair is dropped.
    polygon = present & (family == "polygon")
    invalid = polygon & ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        parts = [shapely.get_parts(g) for g in repaired]
        fixed = np.asarray(
            [shapely.union_all([p for p in ps if shapely.get_type_id(p) in (3, 6)]) for ps in parts], dtype=object
        )
        unusable = shapely.is_empty(fixed) | (shapely.area(fixed) <= 0)
        bad_idx = np.flatnonzero(invalid)[unusable]
        errors.flag(
            np.isin(np.arange(n), bad_idx),
            "geometry",
            np.full(n, _("invalid polygon")),
            _("invalid outline that cannot be repaired"),
        )
        good_idx = np.flatnonzero(invalid)[~unusable]
        geoms[good_idx] = fixed[~unusable]
        if len(good_idx):
            rows = ", ".join(str(int(errors.row_numbers[i])) for i in good_idx[:10])
            notes.append(_("%(n)d invalid outline(s) repaired (rows %(rows)s).") % {"n": len(good_idx), "rows": rows})
    # Non-finite coordinates are refused, not guessed.
    coords_ok = np.zeros(n, dtype=bool)
    if present.any():
        coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
        not_finite = np.zeros(int(present.sum()), dtype=bool)
        np.logical_or.at(not_finite, owner, ~np.isfinite(coords).all(axis=1))
        coords_ok[present] = ~not_finite
    errors.flag(present & ~coords_ok, "geometry", np.full(n, ""), _("coordinates are not finite numbers"))
    usable = present & coords_ok & np.isin(family, ("point", "polygon"))

    # CRS: as the file says, else as stated, else guessed from the coordinate ranges.
    if file_crs:
        crs, crs_label = file_crs, file_crs
        if stated_crs and stated_crs != file_crs:
            notes.append(
                _("The file states its CRS (%(file)s); the CRS you gave (%(stated)s) was not used.")
                % {"file": file_crs, "stated": stated_crs}
            )
    elif stated_crs:
        crs, crs_label = stated_crs, stated_crs
    else:
        probe = shapely.get_coordinates(geoms[usable])
        crs, crs_label = _detect_crs(probe[:, 0], probe[:, 1]) if len(probe) else (WGS84, "WGS84")
        notes.append(
            _("No CRS in the file: coordinates read as %(crs)s (%(label)s), from their range.")
            % {"crs": crs, "label": crs_label}
        )

    series = gpd.GeoSeries(np.where(usable, geoms, None), crs=crs)  # type: ignore[call-overload]
    try:
        wgs = series.to_crs(WGS84)
        laea = series.to_crs(EQUAL_AREA)
    except Exception as exc:  # pyproj refuses a CRS it cannot transform
        raise UploadRejected(_("Coordinates in %(crs)s cannot be converted to WGS84.") % {"crs": crs_label}) from exc
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    area_ha = np.full(n, np.nan)
    geojson = np.full(n, "", dtype=object)
    pts = usable & (family == "point")
    if pts.any():
        xy = shapely.get_coordinates(shapely.get_geometry(wgs.to_numpy()[pts], 0))
        lon[pts], lat[pts] = xy[:, 0], xy[:, 1]
    polys = usable & (family == "polygon")
    if polys.any():
        laea_polys = laea.to_numpy()[polys]
        centroids = gpd.GeoSeries(shapely.centroid(laea_polys), crs=EQUAL_AREA).to_crs(WGS84).to_numpy()
        xy = shapely.get_coordinates(centroids)
        lon[polys], lat[polys] = xy[:, 0], xy[:, 1]
        area_ha[polys] = shapely.area(laea_polys) / 1e4
        geojson[polys] = shapely.to_geojson(shapely.set_precision(wgs.to_numpy()[polys], 1e-6))
    out_of_range = usable & ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    errors.flag(
        out_of_range, "geometry", np.full(n, ""), _("coordinates out of range for %(crs)s") % {"crs": crs_label}
    )
    lon[out_of_range] = lat[out_of_range] = np.nan
    return _Geometry(lon, lat, area_ha, geojson), crs


def _attributes(
    frame: pd.DataFrame,
    mapping: dict[str, tuple[str, float]],
    errors: _Errors,
    notes: list[str],
    current_year: int,
    slug: str,
) -> dict[str, np.ndarray]:
    """Return every Site attribute column, converted and checked."""
    n = len(frame)
    out: dict[str, np.ndarray] = {}

    def raw(name: str) -> pd.Series | None:
        return frame[mapping[name][0]] if name in mapping else None

    # Ids: required, unique in the file, fitting the namespace.
    ids = _texts(raw("external_id")) if "external_id" in mapping else np.full(n, "", dtype=object)
    errors.flag(ids == "", "external_id", ids, _("missing (required)"))
    max_len = 100 - len(slug) - 1
    errors.flag(
        np.asarray([len(i) > max_len for i in ids]),
        "external_id",
        ids,
        _("longer than %(n)d characters") % {"n": max_len},
    )
    id_series = pd.Series(ids)
    dup = (id_series.duplicated(keep="first") & (id_series != "")).to_numpy()
    if dup.any():
        first_row: dict[str, int] = {}
        for i, v in enumerate(ids):
            first_row.setdefault(v, int(errors.row_numbers[i]))
        for i in np.flatnonzero(dup):  # type: ignore[assignment]
            errors.items.append(
                RowError(
                    int(errors.row_numbers[i]),
                    "external_id",
                    str(ids[i])[:100],
                    _("also on row %(row)d of this file") % {"row": first_row[ids[i]]},
                )
            )
    out["file_id"] = ids

    names = _texts(raw("name")) if "name" in mapping else np.full(n, "", dtype=object)
    errors.flag(names == "", "name", names, _("missing (required)"))
    for name, limit in TEXT_MAX.items():
        values = names if name == "name" else (_texts(raw(name)) if name in mapping else np.full(n, "", dtype=object))
        too_long = np.asarray([len(v) > limit for v in values])
        if too_long.any():
            notes.append(
                _("%(field)s cut to %(n)d characters on %(count)d row(s).")
                % {"field": name, "n": limit, "count": int(too_long.sum())}
            )
            values = np.asarray([v[:limit] for v in values], dtype=object)
        out[name] = values
    out["departement_code"] = np.asarray(
        [v.zfill(2) if v.isdigit() else v.upper() for v in out["departement_code"]], dtype=object
    )

    # Codes (ISO 3166-1 alpha-2 or alpha-3, Eurostat's EL and UK) and names in the analysts'
    # languages and each country's own (see ``countries``); blank: found from the position.
    country_texts = _texts(raw("country")) if "country" in mapping else np.full(n, "", dtype=object)
    countries, unknown_country = resolve_countries(country_texts)
    errors.flag(
        unknown_country,
        "country",
        country_texts,
        _("not a country code (ISO 3166-1 two or three letters) or a country name Gigasite knows"),
    )
    out["country"] = countries
    out["country_text"] = country_texts

    def number(name: str) -> tuple[np.ndarray, np.ndarray]:
        # Returns the values in the field's unit and the cells as written (for the report).
        if name not in mapping:
            return np.full(n, np.nan), np.full(n, "", dtype=object)
        col, factor = mapping[name]
        values, bad = parse_numbers(frame[col])
        shown = _texts(frame[col])
        errors.flag(bad, name, shown, _("not a number"))
        return values * factor, shown

    area, shown = number("area_ha")
    errors.flag(area <= 0, "area_ha", shown, _("must be greater than 0"))
    errors.flag(
        area > MAX_AREA_HA,
        "area_ha",
        shown,
        _("larger than %(max)s ha: check the unit (ha or m²)") % {"max": f"{MAX_AREA_HA:,.0f}"},
    )
    out["area_ha"] = area
    capacity, shown = number("grid_capacity_mw")
    errors.flag(capacity <= 0, "grid_capacity_mw", shown, _("must be greater than 0"))
    errors.flag(
        capacity > MAX_CAPACITY_MW,
        "grid_capacity_mw",
        shown,
        _("larger than %(max)s MW: check the unit") % {"max": f"{MAX_CAPACITY_MW:,.0f}"},
    )
    out["grid_capacity_mw"] = capacity
    voltage, shown = number("grid_voltage_kv")
    known = np.asarray(KNOWN_VOLTAGES_KV)
    nearest = known[np.abs(np.nan_to_num(voltage)[:, None] - known[None, :]).argmin(axis=1)] if n else np.zeros(0)
    unknown_class = np.isfinite(voltage) & (np.abs(voltage - nearest) > 0.5)
    errors.flag(
        unknown_class,
        "grid_voltage_kv",
        shown,
        _("not a known voltage class (%(classes)s kV)") % {"classes": ", ".join(f"{v:g}" for v in known)},
    )
    out["grid_voltage_kv"] = np.where(np.isfinite(voltage) & ~unknown_class, nearest, np.nan)
    # A closure column may hold years or dates (Stilllegungsdatum, date de fermeture, or a
    # spreadsheet's date cells): a date gives its year.
    if "closure_year" in mapping:
        col = mapping["closure_year"][0]
        year, not_number = parse_numbers(frame[col])
        shown = _texts(frame[col])
        if not_number.any():
            dates, bad_date = _parse_date(frame[col][not_number].reset_index(drop=True))
            year[np.flatnonzero(not_number)[~bad_date]] = [d.year for d in dates[~bad_date]]
            not_number[np.flatnonzero(not_number)[~bad_date]] = False
        errors.flag(not_number, "closure_year", shown, _("not a year or a date"))
    else:
        year, shown = np.full(n, np.nan), np.full(n, "", dtype=object)
    errors.flag(np.isfinite(year) & (year != np.round(year)), "closure_year", shown, _("not a whole year"))
    errors.flag(
        (year < CLOSURE_YEAR_MIN) | (year > current_year + CLOSURE_YEARS_AHEAD),
        "closure_year",
        shown,
        _("not between %(a)d and %(b)d") % {"a": CLOSURE_YEAR_MIN, "b": current_year + CLOSURE_YEARS_AHEAD},
    )
    out["closure_year"] = year

    for name, default in (
        ("former_use", ""),
        ("pollution_status", "unknown"),
        ("water_access", "unknown"),
        ("zoning_type", ""),
    ):
        texts = _texts(raw(name)) if name in mapping else np.full(n, "", dtype=object)
        lookup = {t: (CHOICES[name].get(fold(t)) if t else default) for t in set(texts.tolist())}
        codes = np.asarray([lookup[t] for t in texts], dtype=object)
        accepted = sorted(set(CHOICES[name].values()))
        errors.flag(
            np.asarray([c is None for c in codes]),
            name,
            texts,
            _("unknown value; use one of: %(codes)s") % {"codes": ", ".join(accepted)},
        )
        out[name] = codes
    guessed = {a: former_use_from_text(a) for a in set(out["former_activity"][out["former_use"] == ""].tolist())}
    out["former_use"] = np.asarray(
        [c if c else guessed[a] for c, a in zip(out["former_use"], out["former_activity"])], dtype=object
    )

    for name, default in (("flood_zone", None), ("reconverted", False)):  # type: ignore[assignment]
        if name not in mapping:
            out[name] = np.full(n, default, dtype=object)
            continue
        values, bad = _parse_bool(raw(name))
        errors.flag(bad, name, _texts(raw(name)), _("not yes or no"))
        out[name] = np.asarray([default if v is None else v for v in values], dtype=object)

    urls = _texts(raw("source_url")) if "source_url" in mapping else np.full(n, "", dtype=object)
    # A link is http(s), a host name (letters, digits, dots, hyphens, an optional port), then
    # no spaces: vectorised, since Django's URLValidator costs ~0.1 ms a row.
    url_ok = pd.Series(urls, dtype=object).str.fullmatch(URL_PATTERN).to_numpy(dtype=bool)
    bad_url = (urls != "") & (~url_ok | (np.char.str_len(urls.astype(str)) > 300))
    errors.flag(bad_url, "source_url", urls, _("not an http(s) link of at most 300 characters"))
    out["source_url"] = urls
    if "source_date" in mapping:
        dates, bad = _parse_date(raw("source_date"))
        errors.flag(
            bad, "source_date", _texts(raw("source_date")), _("not a date (YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY)")
        )
        future = np.asarray([d is not None and (d.year < 1900 or d > date(current_year, 12, 31)) for d in dates])
        errors.flag(future, "source_date", dates, _("not between 1900 and this year"))
        out["source_date"] = dates
    else:
        out["source_date"] = np.full(n, None, dtype=object)
    return out


def _locate(
    attrs: dict[str, np.ndarray],
    geo: _Geometry,
    countries: PlaceLocator,
    departements: PlaceLocator | None,
    departement_regions: dict[str, str],
    errors: _Errors,
    notes: list[str],
) -> None:
    """Check every position lies in a known country, and fill country and département codes."""
    n = len(geo.lon)
    has_pos = np.isfinite(geo.lon) & np.isfinite(geo.lat)
    found = np.full(n, "", dtype=object)
    found[has_pos] = countries.locate(geo.lon[has_pos], geo.lat[has_pos])
    nowhere = has_pos & (found == "")
    if nowhere.any():
        swapped = np.full(n, "", dtype=object)
        swapped[nowhere] = countries.locate(geo.lat[nowhere], geo.lon[nowhere])
        shown = np.asarray(
            [f"{x:.5f}, {y:.5f}" if np.isfinite(x) else "" for x, y in zip(geo.lon, geo.lat)], dtype=object
        )
        errors.flag(
            nowhere & (swapped != ""),
            "geometry",
            shown,
            _("outside every known country (longitude and latitude swapped?)"),
        )
        errors.flag(nowhere & (swapped == ""), "geometry", shown, _("outside every known country"))
    stated = attrs["country"]
    shown = attrs.pop("country_text")
    check = has_pos & (found != "") & (stated != "") & (stated != found)
    if check.any():
        agrees = np.zeros(n, dtype=bool)
        agrees[check] = countries.near(geo.lon[check], geo.lat[check], stated[check])
        mismatch = check & ~agrees
        for i in np.flatnonzero(mismatch):
            errors.items.append(
                RowError(
                    int(errors.row_numbers[i]),
                    "country",
                    str(shown[i])[:100],
                    _("the file says %(stated)s (%(stated_code)s) but the position lies in %(found)s (%(found_code)s)")
                    % {
                        "stated": country_name(stated[i]),
                        "stated_code": stated[i],
                        "found": country_name(found[i]),
                        "found_code": found[i],
                    },
                )
            )
    from_position = (stated == "") & (found != "")
    if from_position.any():
        notes.append(
            _("Country taken from the position on %(n)d row(s) where the file gives none.")
            % {"n": int(from_position.sum())}
        )
    attrs["country"] = np.where(stated != "", stated, found)
    if departements is not None and len(departements):
        fill = has_pos & (attrs["country"] == "FR") & (attrs["departement_code"] == "")
        if fill.any():
            codes = departements.locate(geo.lon[fill], geo.lat[fill])
            attrs["departement_code"][fill] = codes
        fill_region = (attrs["country"] == "FR") & (attrs["region_code"] == "") & (attrs["departement_code"] != "")
        attrs["region_code"][fill_region] = [
            departement_regions.get(d, "") for d in attrs["departement_code"][fill_region]
        ]


def parse_sites_file(
    data: bytes,
    file_name: str,
    *,
    source_name: str,
    countries: PlaceLocator,
    departements: PlaceLocator | None = None,
    departement_regions: dict[str, str] | None = None,
    limits: UploadLimits | None = None,
    crs: str | None = None,
    area_unit: str | None = None,
    current_year: int | None = None,
    tmp_dir: str | Path | None = None,
    sheet: str | None = None,
) -> ParsedFile:
    """Read, map, validate and reproject a file of sites.

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    file_name : str
        Its name as given by the user; only its extension is used (to pick the reader).
    source_name : str
        The source the sites come from; its slug namespaces the external ids
        (``<slug>:<id>``).
    countries : PlaceLocator
        Outlines of the known countries (ISO2 codes); every site must lie in one.
    departements : PlaceLocator, optional
        French départements, to fill ``departement_code`` (and ``region_code`` from
        ``departement_regions``) when the file gives none.
    limits : UploadLimits, optional
        Size, row and archive limits.
    crs : str, optional
        EPSG code of the coordinates, for files that state none (CSV); else guessed from the
        range of the coordinates.
    area_unit : {"ha", "m2"}, optional
        Unit of an area column whose name states none.
    tmp_dir : path, optional
        Where the temporary directory is made (default: the system's).
    sheet : str, optional
        The sheet to read in a workbook (XLSX, ODS) of several; a workbook of one needs none.

    Returns
    -------
    ParsedFile
        ``sites``: one row per valid site with the Site fields (``longitude``/``latitude``
        in WGS84 degrees, ``area_ha`` [ha], ``grid_capacity_mw`` [MW], ``grid_voltage_kv``
        [kV], ``geometry_geojson`` as GeoJSON text or ''), plus ``row`` and ``file_id``;
        ``errors``: every rejected value.

    Raises
    ------
    UploadRejected
        When the file as a whole cannot be used; the message is safe to show.
    """
    limits = limits or UploadLimits()
    current_year = current_year or date.today().year
    if len(data) == 0:
        raise UploadRejected(_("The file is empty."))
    if len(data) > limits.max_bytes:
        raise UploadRejected(_("The file is larger than %(max).0f MB.") % {"max": limits.max_bytes / 1e6})
    if not len(countries):
        raise UploadRejected(
            _("Country outlines are not loaded, so sites cannot be checked: load the reference data first.")
        )
    slug = source_slug(source_name)
    stated_crs = parse_crs(crs)
    if area_unit not in (None, "", "ha", "m2"):
        raise UploadRejected(_("The area unit is ha or m2."))
    fmt = _format_of(file_name, data)
    notes: list[str] = []
    frame, file_crs, read_notes, inner_fmt = read_upload_bounded(data, file_name, fmt, limits, tmp_dir, sheet)
    notes += read_notes
    if len(frame) == 0:
        raise UploadRejected(_("The file has no rows."))
    if len(frame) > limits.max_rows:
        raise UploadRejected(_("The file has more than %(max)s rows.") % {"max": f"{limits.max_rows:,}"})
    sheet_rows = frame.index.to_numpy(dtype=np.int64) if inner_fmt in SPREADSHEETS else None
    frame = frame.reset_index(drop=True)
    geometry_name = frame.geometry.name if hasattr(frame, "geometry") and inner_fmt not in TABLES else None
    columns = [c for c in frame.columns if c != geometry_name]
    mapping, map_notes = map_columns(columns, area_unit=area_unit or None)
    notes += map_notes
    if inner_fmt not in TABLES and "geometry" in mapping:
        del mapping["geometry"]  # a WKT column in a GIS file: the file's own geometry wins
    missing = [f for f in ("external_id", "name") if f not in mapping]
    if missing:
        raise UploadRejected(
            _("Required column(s) missing: %(cols)s. See the column template.") % {"cols": ", ".join(missing)}
        )
    row_numbers = sheet_rows if sheet_rows is not None else np.arange(len(frame)) + (2 if inner_fmt == "csv" else 1)
    errors = _Errors(row_numbers)
    geo, crs_used = _geometries(frame, mapping, inner_fmt, file_crs, stated_crs, errors, notes)
    attrs = _attributes(frame, mapping, errors, notes, current_year, slug)
    stated_area = attrs["area_ha"]
    both = np.isfinite(stated_area) & np.isfinite(geo.area_ha) & (stated_area > 0)
    off = both & ((stated_area / np.where(geo.area_ha > 0, geo.area_ha, np.nan) > 2) | (geo.area_ha / stated_area > 2))
    if off.any():
        notes.append(
            _(
                "On %(n)d row(s) the stated area differs from the outline's by more than a factor 2 (the stated one is kept): check the unit."
            )
            % {"n": int(off.sum())}
        )
    attrs["area_ha"] = np.where(np.isfinite(stated_area), stated_area, geo.area_ha)
    _locate(attrs, geo, countries, departements, departement_regions or {}, errors, notes)
    bad = errors.rows(len(frame))
    sites = pd.DataFrame(
        {
            "row": row_numbers,
            "external_id": np.asarray([f"{slug}:{i}" for i in attrs["file_id"]], dtype=object),
            **attrs,
            "longitude": geo.lon,
            "latitude": geo.lat,
            "geometry_geojson": geo.geojson,
        }
    )[~bad].reset_index(drop=True)
    errors.items.sort(key=lambda e: (e.row, e.field))
    return ParsedFile(
        sites=sites,
        errors=errors.items,
        rows_read=len(frame),
        file_format=fmt,
        crs=crs_used,
        notes=notes,
        columns={f: col for f, (col, _factor) in mapping.items()},
    )


def template_csv() -> str:
    """Return the column template: a header and one example row (comma-separated, UTF-8)."""
    buf = io.StringIO()
    writer = csv_safe.writer(buf, lineterminator="\n")
    fields = [c for c in COLUMNS if c.field != "geometry"]
    writer.writerow([("area_ha" if c.field == "area_ha" else c.field) for c in fields])
    writer.writerow([c.example for c in fields])
    return buf.getvalue()


def geometry_geojson_dict(text: str) -> dict | None:
    """Return a stored GeoJSON text as a dict (None for points)."""
    return json.loads(text) if text else None
