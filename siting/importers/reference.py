"""Candidate sites from the reference data: Cartofriches brownfields and retired power plants."""

from __future__ import annotations

import ast
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from grid.importers import ReferenceDataError, read_csv, to_float

CARTOFRICHES_POLLUTION = {
    "pollution avérée": "confirmed",
    "pollution supposée": "suspected",
    "pollution peu probable": "none",
    "pollution inexistante": "none",
    "inconnu": "unknown",
}
"""Cartofriches 'sol_pollution_existe' → pollution status. 'peu probable' (unlikely, after a
study) is taken as none; the source has no 'remediated' value."""

OVERSEAS_REGION = {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}
"""INSEE region codes of the overseas départements (one-département regions)."""

FORMER_USE_KEYWORDS = (
    ("nuclear_plant", ("nucleaire",)),
    ("coal_plant", ("centrale a charbon", "centrale thermique au charbon", "houillere")),
    ("gas_plant", ("centrale a gaz", "cycle combine")),
    (
        "other_plant",
        (
            "centrale thermique",
            "centrale electrique",
            "production d'electricite",
            "production et distribution d'electricite",
        ),
    ),
    ("refinery", ("raffin",)),
    (
        "steel",
        ("siderurg", "acier", "haut fourneau", "hauts fourneaux", "cokerie", "laminage", "metallurg", "fonderie"),
    ),
    ("chemicals", ("chimi", "pharmac", "engrais", "explosif")),
    ("automotive", ("automobile", "vehicules automobiles", "carrosserie")),
    ("paper", ("papet", "papier", "carton")),
    ("rail", ("ferroviaire", "sncf")),
    ("military", ("militaire", "caserne", "armee", "defense nationale")),
)
"""Keywords (accents folded) in Cartofriches' site type and activity → former use; first
match wins, in this order; anything else is 'other'."""

PPM_FUEL_USE = {
    "Hard Coal": "coal_plant",
    "Lignite": "coal_plant",
    "Natural Gas": "gas_plant",
    "Oil": "oil_plant",
    "Nuclear": "nuclear_plant",
    "Solid Biomass": "other_plant",
    "Waste": "other_plant",
    "Biogas": "other_plant",
    "Other": "other_plant",
}
"""Thermal and nuclear fuel types of powerplantmatching; wind, solar, hydro and geothermal
plants are not former industrial sites and are left out (MODEL.md §5)."""

PPM_PUBLICATION_YEAR = 2025
"""powerplantmatching v0.6.1 was published on 2025-01-16. A DateOut in or after that year was
an announced plan when the file was made, not an observed closure: such plants count as
still running (first rule of the retired-but-running check)."""

COUNTRY_NAME_ISO2 = {
    "Albania": "AL",
    "Austria": "AT",
    "Belgium": "BE",
    "Bosnia and Herzegovina": "BA",
    "Bulgaria": "BG",
    "Croatia": "HR",
    "Czechia": "CZ",
    "Czech Republic": "CZ",
    "Denmark": "DK",
    "Estonia": "EE",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Greece": "GR",
    "Hungary": "HU",
    "Ireland": "IE",
    "Italy": "IT",
    "Kosovo": "XK",
    "Latvia": "LV",
    "Lithuania": "LT",
    "Luxembourg": "LU",
    "Moldova": "MD",
    "Montenegro": "ME",
    "Netherlands": "NL",
    "North Macedonia": "MK",
    "Norway": "NO",
    "Poland": "PL",
    "Portugal": "PT",
    "Romania": "RO",
    "Serbia": "RS",
    "Slovakia": "SK",
    "Slovenia": "SI",
    "Spain": "ES",
    "Sweden": "SE",
    "Switzerland": "CH",
    "Ukraine": "UA",
    "United Kingdom": "GB",
    "Belarus": "BY",
    "Cyprus": "CY",
    "Malta": "MT",
}


def _fold(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode().replace("’", "'")


def former_use_from_text(*texts: object) -> str:
    """Return the former-use code for a site described by ``texts`` (type, activity)."""
    folded = " | ".join(_fold(t) for t in texts)
    for use, words in FORMER_USE_KEYWORDS:
        if any(w in folded for w in words):
            return use
    return "other"


def _former_uses(types: pd.Series, activities: pd.Series) -> list[str]:
    """Return :func:`former_use_from_text` per row, computed once per distinct pair."""
    cache: dict[tuple[object, object], str] = {}
    out = []
    for pair in zip(types, activities):
        if pair not in cache:
            cache[pair] = former_use_from_text(*pair)
        out.append(cache[pair])
    return out


def cartofriches_sites(path: Path, departement_region: dict[str, str], raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return every Cartofriches brownfield as Site fields.

    Surfaces are converted from m² to ha (zero or missing → unknown); the closure year is kept
    when between 1800 and 2100; 'friche reconvertie' sites are kept with ``reconverted`` set
    (excluded from scoring by default, with that reason). The site_identif/actu date
    0001-12-31 is the source's 'unknown' sentinel.
    """
    cols = [
        "site_id",
        "site_nom",
        "site_type",
        "site_statut",
        "site_surface",
        "activite_libelle",
        "activite_fin_annee",
        "comm_nom",
        "dep",
        "sol_pollution_existe",
        "site_url",
        "site_actu_date",
        "lon",
        "lat",
    ]
    if raw is None:
        raw = read_csv(path, required=cols, dtype={"site_id": str, "dep": str, "comm_insee": str})
    lon = to_float(raw, "lon", path, allow_missing=False)
    lat = to_float(raw, "lat", path, allow_missing=False)
    out_of_range = (lon.abs() > 180) | (lat.abs() > 90)
    if out_of_range.any():
        i = int(out_of_range.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{path.name}: row {i + 2}: coordinates ({lon.iloc[i]}, {lat.iloc[i]}) out of range")
    dup = raw["site_id"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{path.name}: row {i + 2}, column 'site_id': {raw['site_id'].iloc[i]!r} appears twice"
        )
    surface_m2 = to_float(raw, "site_surface", path)
    year = to_float(raw, "activite_fin_annee", path)
    pollution = raw["sol_pollution_existe"].fillna("inconnu").str.strip()
    unknown = ~pollution.isin(CARTOFRICHES_POLLUTION)
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{path.name}: row {i + 2}, column 'sol_pollution_existe': unknown value {pollution.iloc[i]!r}"
        )
    dep = raw["dep"].fillna("").str.strip().str.zfill(2)
    actu = pd.to_datetime(raw["site_actu_date"], format="%Y-%m-%d", errors="coerce")
    actu = actu.where(actu.dt.year > 1900)
    name = raw["site_nom"].fillna("").str.strip()
    name = name.where(name != "", "Friche, " + raw["comm_nom"].fillna("?").str.title())
    return pd.DataFrame(
        {
            "external_id": "cartofriches:" + raw["site_id"].str.strip(),
            "name": name.str.slice(0, 200),
            "country": "FR",
            "region_code": dep.map(lambda d: departement_region.get(d) or OVERSEAS_REGION.get(d, "")),
            "departement_code": dep,
            "municipality": raw["comm_nom"].fillna("").str.slice(0, 100),
            "longitude": lon,
            "latitude": lat,
            # A marker's area (a buffer around a point) says nothing of the site's: unknown.
            "area_ha": (surface_m2 / 1e4).where((surface_m2 > 0) & ~point_buffer_surface(surface_m2)),
            "former_use": _former_uses(raw["site_type"], raw["activite_libelle"]),
            "former_activity": raw["activite_libelle"].fillna("").str.slice(0, 200),
            "closure_year": year.where((year >= 1800) & (year <= 2100)),
            "pollution_status": pollution.map(CARTOFRICHES_POLLUTION),
            "reconverted": raw["site_statut"].fillna("").str.strip().eq("friche reconvertie"),
            "source_status": raw["site_statut"].fillna("").str.slice(0, 64),
            "source": "cartofriches",
            "source_url": raw["site_url"].fillna("").str.slice(0, 300),
            "source_date": actu.dt.date.where(actu.notna(), None),
            "source_vintage": "Cartofriches 2024-03",
        }
    )


def _eic_set(text: object) -> set[str]:
    if not isinstance(text, str) or not text.strip():
        return set()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return set()
    return {str(v) for v in value} if isinstance(value, (set, list, tuple, frozenset)) else set()


def entsoe_unit_voltages(path: Path) -> dict[str, float]:
    """Return EIC code → connection voltage [kV] from the ENTSO-E production units file."""
    raw = read_csv(path, required=["Voltage Connection Level [kV]"])
    eic_col = raw.columns[0]
    kv = to_float(raw, "Voltage Connection Level [kV]", path)
    return {
        str(e).strip(): float(v) for e, v in zip(raw[eic_col], kv) if isinstance(e, str) and np.isfinite(v) and v > 0
    }


def known_still_running(path: Path) -> pd.DataFrame:
    """Return the curated list of plants the source lists as retired but that still run."""
    return read_csv(path, required=["name", "country", "fueltype", "reason"])


def retired_plants(
    ppm_path: Path, units_path: Path, still_running_path: Path, *, current_year: int | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return thermal and nuclear plants retired before the current year, as Site fields.

    The retired-but-running rule, in two steps (counted in the returned report):

    1. ``planned_closure``: DateOut ≥ the source's publication year (2025) or ≥ the current
       year — an announced plan, not a closure (Cruas, Doel, Tihange … in v0.6.1);
    2. ``known_still_running``: plants on the curated list ``known_still_running.csv`` (name,
       country and fuel match), each with its reason: sites where the source dates a
       closure that did not happen.

    The existing connection is the plant's former capacity; its voltage is the highest
    ENTSO-E connection voltage among the plant's EIC codes, where they match.
    """
    current_year = current_year or date.today().year
    cols = ["id", "Name", "Fueltype", "Country", "Capacity", "DateOut", "lat", "lon", "EIC"]
    raw = read_csv(ppm_path, required=cols)
    date_out = to_float(raw, "DateOut", ppm_path)
    capacity = to_float(raw, "Capacity", ppm_path)
    lat = to_float(raw, "lat", ppm_path)
    lon = to_float(raw, "lon", ppm_path)
    report: dict[str, int] = {}
    retired = date_out.notna() & raw["Fueltype"].isin(PPM_FUEL_USE)
    planned = retired & (date_out >= min(current_year, PPM_PUBLICATION_YEAR))
    report["planned_closure"] = int(planned.sum())
    keep = retired & ~planned
    running = known_still_running(still_running_path)
    listed = set(zip(running["name"], running["country"], running["fueltype"]))
    on_list = pd.Series(
        [(n, c, f) in listed for n, c, f in zip(raw["Name"], raw["Country"], raw["Fueltype"])], index=raw.index
    )
    report["known_still_running"] = int((keep & on_list).sum())
    keep &= ~on_list
    no_coords = keep & (lat.isna() | lon.isna())
    report["no_coordinates"] = int(no_coords.sum())
    keep &= ~no_coords
    iso2 = raw["Country"].map(COUNTRY_NAME_ISO2)
    unknown = keep & iso2.isna()
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{Path(ppm_path).name}: row {i + 2}, column 'Country': unknown country {raw['Country'].iloc[i]!r}"
        )
    voltages = entsoe_unit_voltages(units_path)
    sel = raw[keep]

    def connection_kv(eic_text: object) -> float:
        kvs = [voltages[e] for e in _eic_set(eic_text) if e in voltages]
        return max(kvs) if kvs else np.nan

    kv = sel["EIC"].map(connection_kv)
    report["voltage_matched"] = int(kv.notna().sum())
    frame = pd.DataFrame(
        {
            "external_id": "ppm:" + sel["id"].astype(str),
            "name": sel["Name"].fillna("").str.slice(0, 200),
            "country": iso2[keep],
            "region_code": "",
            "departement_code": "",
            "municipality": "",
            "longitude": lon[keep],
            "latitude": lat[keep],
            "area_ha": np.nan,
            "former_use": sel["Fueltype"].map(PPM_FUEL_USE),
            "former_activity": sel["Fueltype"] + " " + sel["Technology"].fillna("").astype(str)
            if "Technology" in sel
            else sel["Fueltype"],
            "closure_year": date_out[keep],
            "grid_capacity_mw": capacity[keep].where(capacity[keep] > 0),
            "grid_voltage_kv": kv,
            "pollution_status": "unknown",
            "reconverted": False,
            "source_status": "retired",
            "source": "powerplantmatching",
            "source_url": "",
            "source_date": None,
            "source_vintage": "powerplantmatching v0.6.1 (2025-01-16)",
        }
    ).reset_index(drop=True)
    frame["former_activity"] = frame["former_activity"].str.strip().str.slice(0, 200)
    return frame, report


# --- Records for one site per place (MODEL.md §1b) and the still-running check (§5) ---------

RECORD_DEFAULTS: dict[str, object] = {
    "status": "",
    "capacity_mw": np.nan,
    "closure_year": np.nan,
    "former_use": "other",
    "former_activity": "",
    "url": "",
    "grid_voltage_kv": np.nan,
    "curated_reason": "",
    "area_ha": np.nan,
    "pollution_status": "unknown",
    "region_code": "",
    "departement_code": "",
    "municipality": "",
    "reconverted": False,
    "zoning_type": "",
    "buildings_state": "",
    "has_project": False,
    "source_date": None,
    "basias_id": "",
    "area_estimated": False,
}
"""Columns of a record frame beyond source, record_id, kind, name, country, longitude,
latitude, vintage and raw, with their value when a source does not give them."""

OPERATING_COLUMNS = ("source", "name", "country", "longitude", "latitude", "status")

CARTOFRICHES_BUILDINGS = {
    "dégradation inexistante ou faible": "standing",
    "dégradation moyenne": "standing",
    "dégradation très importante": "standing",
    "dégradation hétérogène": "standing",
    "sans objet": "none",
    "inconnu": "",
}
"""Cartofriches 'bati_etat' → buildings_state. Every 'dégradation …' value describes buildings
that stand, whatever their state (demolition needed, MODEL.md §2 site readiness); 'sans objet'
(not applicable) means there are no buildings; 'inconnu' and empty → '' (unknown)."""

CARTOFRICHES_URL = "https://cartofriches.cerema.fr/cartofriches/"
GEM_URLS = {
    "gem_coal": "https://globalenergymonitor.org/projects/global-coal-plant-tracker/",
    "gem_gas": "https://globalenergymonitor.org/projects/global-oil-gas-plant-tracker/",
    "gem_steel": "https://globalenergymonitor.org/projects/global-iron-and-steel-tracker/",
}
"""The trackers' pages: the shipped map files have no per-plant link (the wiki URLs were
dropped upstream)."""
EBC_URL = "https://beyond-coal.eu/coal-exit-tracker/"
ETS_URL = "https://github.com/cedricr/eutl"
PPM_URL = "https://github.com/PyPSA/powerplantmatching"

VINTAGES = {
    "cartofriches": "Cartofriches 2024-03",
    "powerplantmatching": "powerplantmatching v0.6.1 (2025-01-16)",
    "gem_coal": "GEM Global Coal Plant Tracker 2024-07",
    "gem_gas": "GEM Oil & Gas Plant Tracker 2024-08",
    "gem_steel": "GEM Iron & Steel Tracker 2025-03",
    "ebc": "Europe Beyond Coal 2021-07-21",
    "eu_ets": "EU ETS (EUTL) 2005–2022, 2023-06",
}

GEM_CLOSED = ("retired", "mothballed", "mothballed_pre-retirement")
"""GEM unit statuses that make a plant a candidate (MODEL.md §5: retired and mothballed)."""
GEM_RUNNING = ("operating", "operating_pre-retirement", "construction")
"""GEM unit statuses of a site in use: running (a 'pre-retirement' unit still runs) or being built."""
EBC_CLOSED = ("retired", "no longer coal", "deactivated")
"""Europe Beyond Coal unit statuses that make a plant a candidate; 'no longer coal' units were
converted and may run on another fuel, which the still-running check then finds."""
EBC_RUNNING = ("operational", "standby", "retrofitting", "construction")
EBC_YEAR_CODES = (8888, 9999)
"""Europe Beyond Coal codes for an announced retirement of unknown year (Readme)."""

ETS_MIN_PEAK_EMISSIONS_T = 2_500.0
"""Minimum size of a closed ETS installation: its largest yearly verified emissions [t CO2e].
2,500 t/yr is the 'ultra-small emitter' threshold below which member states may exclude an
installation from the ETS (Directive 2003/87/EC, Art. 27a, as amended by 2018/410); smaller
ones are boilers and kilns, not sites."""
ETS_LAST_YEAR = {"GB": 2020, "XI": 2022}
"""Last year of verified emissions per registry (GB left the EU ETS after 2020); others 2022."""
ETS_DEFAULT_LAST_YEAR = 2022
ETS_USE = {
    1: "other_plant",
    20: "other_plant",
    2: "refinery",
    21: "refinery",
    3: "steel",
    4: "steel",
    5: "steel",
    22: "steel",
    23: "steel",
    24: "steel",
    25: "steel",
    9: "paper",
    35: "paper",
    36: "paper",
    37: "chemicals",
    38: "chemicals",
    39: "chemicals",
    40: "chemicals",
    41: "chemicals",
    42: "chemicals",
    43: "chemicals",
    44: "chemicals",
}
"""ETS main activity (Annex I code) → former use; combustion (1, 20) counts as a thermal plant
(installations above 20 MW thermal input); cement, lime, glass, ceramics, metals and others →
'other', with the activity kept as former_activity."""


def _frame(n: int, **columns: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {k: v.to_numpy() if isinstance(v, pd.Series) else v for k, v in columns.items()}, index=range(n)
    )
    for col, default in RECORD_DEFAULTS.items():
        if col not in frame:
            frame[col] = [default] * n if isinstance(default, (list, dict)) else default
    return frame


def _fail(path: Path, frame: pd.DataFrame, mask: pd.Series, column: str, problem: str) -> None:
    if mask.any():
        i = int(np.asarray(mask).nonzero()[0][0])
        value = frame[column].iloc[i]
        shown = repr(value) if isinstance(value, str) else str(value.item() if hasattr(value, "item") else value)
        raise ReferenceDataError(f"{Path(path).name}: row {i + 2}, column {column!r}: {shown} {problem}")


def _coordinates(raw: pd.DataFrame, path: Path, lon_col: str, lat_col: str) -> tuple[pd.Series, pd.Series]:
    lon, lat = to_float(raw, lon_col, path), to_float(raw, lat_col, path)
    _fail(path, raw, lon.abs() > 180, lon_col, "is not a longitude")
    _fail(path, raw, lat.abs() > 90, lat_col, "is not a latitude")
    return lon, lat


CARTOFRICHES_UNVERIFIED = "MTE non vérifié"
"""Cartofriches 'nature' of the unverified candidates derived from BASIAS (12,910 rows): their
surface is the land unit's, not a surveyed site's (a garage of 126 ha), so their area is
kept for the land check but flagged estimated and not counted as observed (SOURCES.md)."""


POINT_BUFFER_RADII_M = (10.0, 100.0)
"""Radii [m] of the circles drawn around points whose areas some Cartofriches rows give as
their surface. 741 rows of the 2024-03 file, all of the "fond friche" calls for projects (AAP),
give exactly 312.14 m² (469 rows in 391 communes), 31,214.45 m² (219 rows in 183 communes) or
a whole multiple of one of them: the area of a 10 m or a 100 m buffer around a point, as GEOS
and PostGIS draw it by default (8 segments a quarter circle: a 32-gon of area 16 r² sin(π/16);
shapely ``buffer`` and ``ST_Buffer`` documentation, ``quad_segs=8``). A pharmacy, a ruin and a
steelworks cannot share one surface to 0.01 m²: these are markers, not measured sites. No row
of any other source matches (checked on the same file)."""
POINT_BUFFER_MAX_COUNT = 10
"""Most buffers of one row whose summed area is still taken for a marker (the file has up to 6)."""


def point_buffer_surface(surface_m2: pd.Series) -> pd.Series:
    """Return True where a surface [m²] is the area of 1 to ``POINT_BUFFER_MAX_COUNT`` default
    GEOS/PostGIS buffers of a radius in ``POINT_BUFFER_RADII_M``, to the 0.01 m² the source
    gives: a marker drawn around a point, not the site's area."""
    polygon = 16.0 * np.sin(np.pi / 16.0)  # a 32-gon of circumradius 1
    values = surface_m2.to_numpy(dtype=np.float64)
    hit = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):  # an infinite surface is no marker either
        for radius in POINT_BUFFER_RADII_M:
            one = polygon * radius * radius
            count = np.round(values / one)
            hit |= (count >= 1) & (count <= POINT_BUFFER_MAX_COUNT) & (np.abs(values - count * one) < 0.006)
    return pd.Series(hit, index=surface_m2.index)


AREA_MARKER_NOTE = "area left out, record kept: a marker drawn around a point"
"""The load's note counting the surfaces that were a marker, not an area
(:func:`point_buffer_surface`): not records left out but values, shown as it reads among what
was left out, and why."""


def cartofriches_records(path: Path, departement_region: dict[str, str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return every Cartofriches row as a brownfield record (with the Site fields it gives), and
    the load's notes."""
    raw = read_csv(
        path,
        required=[
            "site_id",
            "site_nom",
            "site_type",
            "site_statut",
            "site_surface",
            "activite_libelle",
            "activite_fin_annee",
            "comm_nom",
            "dep",
            "sol_pollution_existe",
            "site_url",
            "site_actu_date",
            "lon",
            "lat",
            "bati_etat",
            "urba_zone_type",
            "site_numero_basias",
            "nature",
            "source_r",
        ],
        dtype={"site_id": str, "dep": str, "comm_insee": str},
    )
    sites = cartofriches_sites(path, departement_region, raw=raw)
    buildings = raw["bati_etat"].fillna("inconnu").str.strip()
    _fail(path, raw, ~buildings.isin(CARTOFRICHES_BUILDINGS), "bati_etat", "is not a known value")
    zoning = raw["urba_zone_type"].fillna("").str.strip()
    _fail(path, raw, zoning.str.len() > 8, "urba_zone_type", "is longer than 8 characters")
    raw_fields = raw[
        [
            "site_type",
            "activite_libelle",
            "site_numero_basias",
            "nature",
            "source_r",
            "bati_etat",
            "urba_zone_type",
            "site_surface",
            "site_statut",
        ]
    ].astype(object)
    raw_fields = raw_fields.where(raw_fields.notna(), None)
    url = sites["source_url"].where(sites["source_url"] != "", CARTOFRICHES_URL)
    notes = {AREA_MARKER_NOTE: int(point_buffer_surface(to_float(raw, "site_surface", path)).sum())}
    records = _frame(
        len(sites),
        source="cartofriches",
        record_id=raw["site_id"].str.strip(),
        kind="brownfield",
        name=raw["site_nom"].fillna("").str.strip().where(raw["site_nom"].notna(), ""),
        country="FR",
        longitude=sites["longitude"],
        latitude=sites["latitude"],
        status=sites["source_status"],
        closure_year=sites["closure_year"],
        former_use=sites["former_use"],
        former_activity=sites["former_activity"],
        vintage=VINTAGES["cartofriches"],
        url=url,
        area_ha=sites["area_ha"],
        pollution_status=sites["pollution_status"],
        region_code=sites["region_code"],
        departement_code=sites["departement_code"],
        municipality=sites["municipality"],
        reconverted=sites["reconverted"],
        zoning_type=zoning,
        buildings_state=buildings.map(CARTOFRICHES_BUILDINGS),
        has_project=raw["site_statut"].fillna("").str.strip().eq("friche avec projet"),
        source_date=sites["source_date"],
        basias_id=raw["site_numero_basias"].fillna("").str.strip(),
        area_estimated=raw["nature"].fillna("").str.strip().eq(CARTOFRICHES_UNVERIFIED).to_numpy(),
        raw=raw_fields.to_dict("records"),
    )
    return records, notes


def _jsonable(value: object) -> object:
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else (int(value) if float(value).is_integer() else round(float(value), 4))
    if isinstance(value, np.integer):
        return int(value)
    return value


def ppm_records(
    ppm_path: Path, units_path: Path, still_running_path: Path, *, current_year: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return retired thermal and nuclear plants of powerplantmatching as records, its running
    thermal and nuclear plants as operating units, and counts of what was left out.

    Retired means a DateOut before the publication year (2025) and the current year; a later
    DateOut is a plan, and the plant counts as running (``planned_closure``). Plants on the
    curated list get ``curated_reason``: they stay as sites, marked still operating.
    """
    current_year = current_year or date.today().year
    raw = read_csv(ppm_path, required=["id", "Name", "Fueltype", "Country", "Capacity", "DateOut", "lat", "lon", "EIC"])
    date_out = to_float(raw, "DateOut", ppm_path)
    lon, lat = to_float(raw, "lon", ppm_path), to_float(raw, "lat", ppm_path)
    thermal = raw["Fueltype"].isin(PPM_FUEL_USE)
    cutoff = min(current_year, PPM_PUBLICATION_YEAR)
    has_xy = lon.notna() & lat.notna()
    running = thermal & (date_out.isna() | (date_out >= cutoff)) & has_xy
    operating = pd.DataFrame(
        {
            "source": "powerplantmatching",
            "name": raw.loc[running, "Name"].fillna("").astype(str),
            "country": raw.loc[running, "Country"].map(COUNTRY_NAME_ISO2).fillna(""),
            "longitude": lon[running],
            "latitude": lat[running],
            "status": np.where(date_out[running].isna(), "operating", "operating (closure planned)"),
        }
    ).reset_index(drop=True)
    notes = {
        "planned_closure": int((thermal & (date_out >= cutoff)).sum()),
        "not_thermal_or_nuclear": int((date_out.notna() & ~thermal).sum()),
        "no_coordinates": int((thermal & (date_out < cutoff) & ~has_xy).sum()),
    }
    curated = known_still_running(still_running_path)
    reasons = {
        (n, c, f): r for n, c, f, r in zip(curated["name"], curated["country"], curated["fueltype"], curated["reason"])
    }
    retired = thermal & (date_out < cutoff) & has_xy
    sel = raw[retired]
    curated_reason = [reasons.get((n, c, f), "") for n, c, f in zip(sel["Name"], sel["Country"], sel["Fueltype"])]
    eic_kv = entsoe_unit_voltages(units_path)
    kv = pd.Series(
        [max((eic_kv[e] for e in _eic_set(t) if e in eic_kv), default=np.nan) for t in sel["EIC"]], dtype="float64"
    )
    notes["voltage_matched"] = int(kv.notna().sum())
    capacity = to_float(raw, "Capacity", ppm_path)[retired]
    notes["known_still_running"] = sum(1 for r in curated_reason if r)
    raw_fields = sel[["Fueltype", "Technology", "Set", "Capacity", "DateIn", "DateOut", "EIC"]].astype(object)
    records = _frame(
        len(sel),
        source="powerplantmatching",
        record_id=sel["id"].astype(str),
        kind="plant",
        name=sel["Name"].fillna("").astype(str),
        country=sel["Country"].map(COUNTRY_NAME_ISO2),
        longitude=lon[retired],
        latitude=lat[retired],
        status="retired",
        capacity_mw=capacity.where(capacity > 0),
        closure_year=date_out[retired],
        former_use=sel["Fueltype"].map(PPM_FUEL_USE),
        former_activity=(sel["Fueltype"] + " " + sel["Technology"].fillna("").astype(str))
        .str.strip()
        .str.slice(0, 200),
        vintage=VINTAGES["powerplantmatching"],
        url=PPM_URL,
        grid_voltage_kv=kv,
        curated_reason=curated_reason,
        raw=[{k: _jsonable(v) for k, v in r.items()} for r in raw_fields.to_dict("records")],
    )
    _fail(ppm_path, sel, records["country"].isna().to_numpy(), "Country", "is not a known country")
    return records, operating, notes


def _unit_summary(statuses: pd.Series) -> str:
    counts = statuses.value_counts()
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))[:64]


def _plants_from_units(
    path: Path,
    raw: pd.DataFrame,
    *,
    source: str,
    key: pd.Series,
    name: pd.Series,
    unit_name: pd.Series,
    status: pd.Series,
    lon: pd.Series,
    lat: pd.Series,
    capacity: pd.Series,
    closure: pd.Series,
    country: pd.Series,
    former_use: pd.Series,
    former_activity: pd.Series,
    closed: tuple[str, ...],
    running: tuple[str, ...],
    url: str,
    raw_columns: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Group a tracker's units into plant records (plants with a closed unit) and operating units."""
    _fail(
        path,
        raw,
        key.isna() | (key.astype(str).str.strip() == ""),
        key.name if key.name in raw else raw.columns[0],
        "is not a plant id",
    )
    units = pd.DataFrame(
        {
            "key": key.astype(str).str.strip(),
            "name": name,
            "unit": unit_name,
            "status": status,
            "lon": lon,
            "lat": lat,
            "capacity": capacity,
            "closure": closure,
            "country": country,
            "use": former_use,
            "activity": former_activity,
        }
    )
    has_xy = units["lon"].notna() & units["lat"].notna()
    notes = {"units_without_coordinates": int((~has_xy).sum())}
    units = units[has_xy]
    is_closed = units["status"].isin(closed)
    is_running = units["status"].isin(running)
    run = units[is_running]
    operating = pd.DataFrame(
        {
            "source": source,
            "name": (run["name"].astype(str) + " " + run["unit"].fillna("").astype(str)).str.strip(),
            "country": run["country"],
            "longitude": run["lon"],
            "latitude": run["lat"],
            "status": run["status"],
        }
    ).reset_index(drop=True)
    candidate_keys = set(units.loc[is_closed, "key"])
    notes["plants_never_built_or_running"] = int(units.loc[~units["key"].isin(candidate_keys), "key"].nunique())
    rows = []
    raw_units = raw.loc[units.index, raw_columns].astype(object)
    raw_units = raw_units.where(raw_units.notna(), None)
    unit_dicts = dict(zip(units.index, ({k: _jsonable(v) for k, v in r.items()} for r in raw_units.to_dict("records"))))
    for key_value, group in units[units["key"].isin(candidate_keys)].groupby("key", sort=True):
        shut = group[group["status"].isin(closed)]
        cap = shut["capacity"].sum(min_count=1)
        first = group.iloc[0]
        rows.append(
            {
                "record_id": key_value,
                "name": str(first["name"]),
                "country": first["country"],
                "longitude": float(group["lon"].mean()),
                "latitude": float(group["lat"].mean()),
                "status": _unit_summary(group["status"]),
                "capacity_mw": float(cap) if pd.notna(cap) and cap > 0 else np.nan,
                "closure_year": shut["closure"].max(),
                "former_use": first["use"],
                "former_activity": str(first["activity"])[:200],
                "raw": {"units": [unit_dicts[i] for i in group.index]},
            }
        )
    plants = pd.DataFrame(rows)
    records = _frame(
        len(plants),
        source=source,
        kind="plant",
        vintage=VINTAGES[source],
        url=url,
        **{c: plants[c] for c in plants.columns},
    )
    return records, operating, notes


def gem_coal_records(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return GEM coal plants (by location id) with a retired or mothballed unit, and the
    operating units. Capacity is the sum of the closed units; closure year their latest."""
    cols = [
        "GEM unit/phase ID",
        "GEM location ID",
        "country_iso2",
        "Plant name",
        "Unit name",
        "Capacity (MW)",
        "Status",
        "Retired year",
        "Latitude",
        "Longitude",
        "Coal type",
    ]
    raw = read_csv(path, required=cols, dtype={"Unit name": str})
    lon, lat = _coordinates(raw, path, "Longitude", "Latitude")
    year = to_float(raw, "Retired year", path)
    return _plants_from_units(
        path,
        raw,
        source="gem_coal",
        key=raw["GEM location ID"],
        name=raw["Plant name"],
        unit_name=raw["Unit name"],
        status=raw["Status"].str.strip().str.lower(),
        lon=lon,
        lat=lat,
        capacity=to_float(raw, "Capacity (MW)", path),
        closure=year.where(raw["Status"].str.strip().str.lower() == "retired"),
        country=raw["country_iso2"],
        former_use=pd.Series("coal_plant", index=raw.index),
        former_activity=("Coal plant (" + raw["Coal type"].fillna("coal").astype(str) + ")"),
        closed=GEM_CLOSED,
        running=GEM_RUNNING,
        url=GEM_URLS["gem_coal"],
        raw_columns=[
            "GEM unit/phase ID",
            "Unit name",
            "Status",
            "Capacity (MW)",
            "Start year",
            "Retired year",
            "Location accuracy",
        ],
    )


def _gas_use(fuel: object) -> str:
    first = fold_text(fuel).split(":")[0]
    return {"fossil gas": "gas_plant", "fossil liquids": "oil_plant"}.get(first, "other_plant")


def fold_text(text: object) -> str:
    """Return ``text`` lower-cased and stripped ('' for missing values)."""
    return str(text).strip().lower() if isinstance(text, str) else ""


def gem_gas_records(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return GEM oil and gas plants (by project name and country: the map file has no plant id)
    with a retired or mothballed unit, and the operating units. No closure year in the file."""
    cols = ["fuel_type", "technology", "project", "unit", "capacity", "status", "country_iso2", "lat", "lng"]
    raw = read_csv(path, required=cols, dtype={"unit": str})
    lon, lat = _coordinates(raw, path, "lng", "lat")
    key = raw["country_iso2"].astype(str) + ":" + raw["project"].map(lambda t: " ".join(str(t).split()).lower())
    key = key.str.slice(0, 100)
    return _plants_from_units(
        path,
        raw,
        source="gem_gas",
        key=key.rename("project"),
        name=raw["project"],
        unit_name=raw["unit"],
        status=raw["status"].str.strip().str.lower(),
        lon=lon,
        lat=lat,
        capacity=to_float(raw, "capacity", path),
        closure=pd.Series(np.nan, index=raw.index),
        country=raw["country_iso2"],
        former_use=raw["fuel_type"].map(_gas_use),
        former_activity=(
            raw["technology"].fillna("").astype(str) + " · " + raw["fuel_type"].fillna("").astype(str)
        ).str.strip(" ·"),
        closed=GEM_CLOSED,
        running=GEM_RUNNING,
        url=GEM_URLS["gem_gas"],
        raw_columns=["unit", "status", "capacity", "technology", "fuel_type", "start_year"],
    )


def gem_steel_records(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return GEM iron and steel plants with a retired or mothballed furnace, and the furnaces
    that still run. No closure year and no electrical capacity in the file."""
    cols = [
        "gem-plant-id",
        "gem-unit-id",
        "unit-name",
        "status",
        "plant-name-(english)",
        "country_iso2",
        "lat",
        "lng",
        "tab-type",
        "main-production-equipment",
    ]
    raw = read_csv(path, required=cols, dtype={"unit-name": str})
    lon, lat = _coordinates(raw, path, "lng", "lat")
    return _plants_from_units(
        path,
        raw,
        source="gem_steel",
        key=raw["gem-plant-id"],
        name=raw["plant-name-(english)"],
        unit_name=raw["unit-name"],
        status=raw["status"].str.strip().str.lower(),
        lon=lon,
        lat=lat,
        capacity=pd.Series(np.nan, index=raw.index),
        closure=pd.Series(np.nan, index=raw.index),
        country=raw["country_iso2"],
        former_use=pd.Series("steel", index=raw.index),
        former_activity=("Iron and steel (" + raw["main-production-equipment"].fillna("").astype(str) + ")"),
        closed=GEM_CLOSED,
        running=GEM_RUNNING,
        url=GEM_URLS["gem_steel"],
        raw_columns=["gem-unit-id", "unit-name", "tab-type", "status", "current-capacity-(ttpa)"],
    )


def ebc_records(plants_path: Path, units_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return Europe Beyond Coal plants with a retired, converted or deactivated unit, and the
    units that run. The status comes from the unit sheet (the plant sheet calls plants closed in
    2005–2015 'Cancelled'); coordinates from the plant sheet; 0, 0 counts as missing."""
    plants = read_csv(plants_path, required=["EBC plant ID", "Plant name", "country_iso2", "Latitude", "Longitude"])
    units = read_csv(
        units_path,
        required=[
            "EBC unit ID",
            "EBC plant ID",
            "Unit name",
            "Plant name",
            "country_iso2",
            "Fuel type",
            "(Announced) Retirement year",
            "Unit status (detailled)",
            "Capacity",
        ],
    )
    p_lon, p_lat = _coordinates(plants, plants_path, "Longitude", "Latitude")
    zero = (p_lon == 0) & (p_lat == 0)
    xy = pd.DataFrame({"lon": p_lon.where(~zero), "lat": p_lat.where(~zero)}).set_axis(plants["EBC plant ID"])
    _fail(units_path, units, ~units["EBC plant ID"].isin(xy.index), "EBC plant ID", "is not in the plant sheet")
    year = to_float(units, "(Announced) Retirement year", units_path)
    status = units["Unit status (detailled)"].str.strip().str.lower()
    closure = year.where(status.isin(EBC_CLOSED) & ~year.isin(EBC_YEAR_CODES))
    return _plants_from_units(
        units_path,
        units,
        source="ebc",
        key=units["EBC plant ID"],
        name=units["Plant name"],
        unit_name=units["Unit name"],
        status=status,
        lon=units["EBC plant ID"].map(xy["lon"]),
        lat=units["EBC plant ID"].map(xy["lat"]),
        capacity=to_float(units, "Capacity", units_path),
        closure=closure,
        country=units["country_iso2"],
        former_use=pd.Series("coal_plant", index=units.index),
        former_activity=("Coal plant (" + units["Fuel type"].fillna("coal").astype(str) + ")"),
        closed=EBC_CLOSED,
        running=EBC_RUNNING,
        url=EBC_URL,
        raw_columns=[
            "EBC unit ID",
            "Unit name",
            "Unit status (detailled)",
            "Capacity",
            "Commissioning year",
            "(Announced) Retirement year",
        ],
    )


def ets_records(path: Path, country_shapes: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return closed EU ETS installations as records, the ones still emitting as operating units,
    and counts of what was left out and why.

    Closed: account closed (or closure pending), and verified emissions fell to zero before the
    registry's last year (:data:`ETS_LAST_YEAR`: an account closed with emissions in its last
    year is a transfer or Brexit, not a closure); at least :data:`ETS_MIN_PEAK_EMISSIONS_T` in
    its largest year; no open account with the same permit, or the same name and city (an
    operator change); coordinates inside the registry's own country (Natural Earth outline;
    XI = Northern Ireland → GB). The closure year is the last year with verified emissions.
    """

    years = list(range(2005, 2023))
    cols = [
        "id",
        "InstallationName",
        "Country",
        "City",
        "PermitOrPlanID",
        "MainActivityTypeCode",
        "MainActivityTypeCodeLookup",
        "AccountStatus",
        "Latitude",
        "Longitude",
    ] + [f"VerifiedEmissions_{y}" for y in years]
    raw = read_csv(path, required=cols, dtype={"id": str, "PermitOrPlanID": str, "City": str, "ZipCode": str})
    _fail(path, raw, raw["id"].duplicated(), "id", "appears twice")
    lon, lat = _coordinates(raw, path, "Longitude", "Latitude")
    emissions = np.column_stack([to_float(raw, f"VerifiedEmissions_{y}", path).fillna(0.0).to_numpy() for y in years])
    positive = emissions > 0
    last_year = np.where(positive.any(axis=1), years[-1] - np.argmax(positive[:, ::-1], axis=1), 0)
    peak = emissions.max(axis=1)
    registry = raw["Country"].astype(str).str.strip()
    end_year = registry.map(ETS_LAST_YEAR).fillna(ETS_DEFAULT_LAST_YEAR).to_numpy()
    status = raw["AccountStatus"].fillna("").str.strip().str.lower()
    _fail(
        path,
        raw,
        ~status.isin(["open", "closed", "closure pending"]),
        "AccountStatus",
        "is not open, closed or Closure Pending",
    )
    country = registry.replace({"XI": "GB"})
    inside = np.zeros(len(raw), dtype=bool)
    has_xy = (lon.notna() & lat.notna()).to_numpy()
    for code in country[has_xy].unique():
        rows = np.flatnonzero(has_xy & (country == code).to_numpy())
        shape = country_shapes.get(code)
        if shape is not None:
            inside[rows] = shapely.contains_xy(shape, lon.to_numpy()[rows], lat.to_numpy()[rows])
    open_acct = status.eq("open").to_numpy()
    emitting = (last_year >= end_year) & positive.any(axis=1)
    operating_mask = inside & (open_acct | (registry.eq("GB").to_numpy() & emitting)) & emitting
    operating = pd.DataFrame(
        {
            "source": "eu_ets",
            "name": raw.loc[operating_mask, "InstallationName"].fillna("").astype(str),
            "country": country[operating_mask],
            "longitude": lon[operating_mask],
            "latitude": lat[operating_mask],
            "status": "emitting in " + pd.Series(last_year[operating_mask]).astype(str).to_numpy(),
        }
    ).reset_index(drop=True)
    permit = raw["PermitOrPlanID"].fillna("").str.strip().str.lower()
    name_city = raw["InstallationName"].map(fold_text) + "|" + raw["City"].map(fold_text)
    open_permits = set(zip(registry[open_acct], permit[open_acct]))
    open_names = set(zip(registry[open_acct], name_city[open_acct]))
    transferred = np.array([(r, p) in open_permits and p != "" for r, p in zip(registry, permit)]) | np.array(
        [(r, n) in open_names for r, n in zip(registry, name_city)]
    )
    notes: dict[str, int] = {}
    keep = ~open_acct
    notes["open_account"] = int(open_acct.sum())
    step = keep & ~positive.any(axis=1)
    notes["never_emitted"] = int(step.sum())
    keep &= ~step
    step = keep & (last_year >= end_year)
    notes["emitting_in_last_year"] = int(step.sum())
    keep &= ~step
    step = keep & transferred
    notes["open_account_same_permit_or_name"] = int(step.sum())
    keep &= ~step
    step = keep & (peak < ETS_MIN_PEAK_EMISSIONS_T)
    notes["below_minimum_size"] = int(step.sum())
    keep &= ~step
    step = keep & ~has_xy
    notes["no_coordinates"] = int(step.sum())
    keep &= ~step
    step = keep & ~inside
    notes["coordinates_outside_country"] = int(step.sum())
    keep &= ~step
    sel = raw[keep]
    code = to_float(raw, "MainActivityTypeCode", path)[keep]
    raw_fields = sel[
        ["InstallationOrAircraftOperatorID", "PermitOrPlanID", "City", "MainActivityTypeCode", "AccountStatus"]
    ].astype(object)
    raw_fields = raw_fields.where(raw_fields.notna(), None)
    raw_list = [
        {**{k: _jsonable(v) for k, v in r.items()}, "peak_emissions_t": float(p), "last_year_of_emissions": int(y)}
        for r, p, y in zip(raw_fields.to_dict("records"), peak[keep], last_year[keep])
    ]
    records = _frame(
        int(keep.sum()),
        source="eu_ets",
        record_id=sel["id"].astype(str),
        kind="installation",
        name=sel["InstallationName"].fillna("").astype(str),
        country=country[keep],
        longitude=lon[keep],
        latitude=lat[keep],
        status=("account " + status[keep] + ", last emissions " + pd.Series(last_year[keep]).astype(str).to_numpy()),
        closure_year=pd.Series(last_year[keep].astype(float)),
        former_use=code.map(lambda c: ETS_USE.get(int(c), "other") if pd.notna(c) else "other"),
        former_activity=sel["MainActivityTypeCodeLookup"].fillna("").astype(str).str.slice(0, 200),
        vintage=VINTAGES["eu_ets"],
        url=ETS_URL,
        municipality=sel["City"].fillna("").astype(str).str.slice(0, 100),
        raw=raw_list,
    )
    records["municipality"] = ""  # a brownfield's commune only: ETS cities are postal addresses
    return records, operating, notes
