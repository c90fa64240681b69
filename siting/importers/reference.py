"""Candidate sites from the reference data: Cartofriches brownfields and retired power plants."""

from __future__ import annotations

import ast
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

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
    ("other_plant", ("centrale thermique", "centrale electrique", "production d'electricite", "production et distribution d'electricite")),
    ("refinery", ("raffin",)),
    ("steel", ("siderurg", "acier", "haut fourneau", "hauts fourneaux", "cokerie", "laminage", "metallurg", "fonderie")),
    ("chemicals", ("chimi", "pharmac", "engrais", "explosif")),
    ("automotive", ("automobile", "vehicules automobiles", "carrosserie")),
    ("paper", ("papet", "papier", "carton")),
    ("rail", ("ferroviaire", "sncf")),
    ("military", ("militaire", "caserne", "armee", "defense nationale")),
)
"""Keywords (accents folded) in Cartofriches' site type and activity → former use; first
match wins, in this order; anything else is 'other'."""

PPM_FUEL_USE = {
    "Hard Coal": "coal_plant", "Lignite": "coal_plant", "Natural Gas": "gas_plant", "Oil": "oil_plant",
    "Nuclear": "nuclear_plant", "Solid Biomass": "other_plant", "Waste": "other_plant", "Biogas": "other_plant",
    "Other": "other_plant",
}
"""Thermal and nuclear fuel types of powerplantmatching; wind, solar, hydro and geothermal
plants are not former industrial sites and are left out (MODEL.md §5)."""

PPM_PUBLICATION_YEAR = 2025
"""powerplantmatching v0.6.1 was published on 2025-01-16. A DateOut in or after that year was
an announced plan when the file was made, not an observed closure: such plants count as
still running (first rule of the retired-but-running check)."""

COUNTRY_NAME_ISO2 = {
    "Albania": "AL", "Austria": "AT", "Belgium": "BE", "Bosnia and Herzegovina": "BA", "Bulgaria": "BG",
    "Croatia": "HR", "Czechia": "CZ", "Czech Republic": "CZ", "Denmark": "DK", "Estonia": "EE", "Finland": "FI",
    "France": "FR", "Germany": "DE", "Greece": "GR", "Hungary": "HU", "Ireland": "IE", "Italy": "IT",
    "Kosovo": "XK", "Latvia": "LV", "Lithuania": "LT", "Luxembourg": "LU", "Moldova": "MD", "Montenegro": "ME",
    "Netherlands": "NL", "North Macedonia": "MK", "Norway": "NO", "Poland": "PL", "Portugal": "PT",
    "Romania": "RO", "Serbia": "RS", "Slovakia": "SK", "Slovenia": "SI", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "Ukraine": "UA", "United Kingdom": "GB", "Belarus": "BY", "Cyprus": "CY", "Malta": "MT",
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


def cartofriches_sites(path: Path, departement_region: dict[str, str]) -> pd.DataFrame:
    """Return every Cartofriches brownfield as Site fields.

    Surfaces are converted from m² to ha (zero or missing → unknown); the closure year is kept
    when between 1800 and 2100; 'friche reconvertie' sites are kept with ``reconverted`` set
    (excluded from scoring by default, with that reason). The site_identif/actu date
    0001-12-31 is the source's 'unknown' sentinel.
    """
    cols = ["site_id", "site_nom", "site_type", "site_statut", "site_surface", "activite_libelle", "activite_fin_annee",
            "comm_nom", "dep", "sol_pollution_existe", "site_url", "site_actu_date", "lon", "lat"]
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
        raise ReferenceDataError(f"{path.name}: row {i + 2}, column 'site_id': {raw['site_id'].iloc[i]!r} appears twice")
    surface_m2 = to_float(raw, "site_surface", path)
    year = to_float(raw, "activite_fin_annee", path)
    pollution = raw["sol_pollution_existe"].fillna("inconnu").str.strip()
    unknown = ~pollution.isin(CARTOFRICHES_POLLUTION)
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{path.name}: row {i + 2}, column 'sol_pollution_existe': unknown value {pollution.iloc[i]!r}")
    dep = raw["dep"].fillna("").str.strip().str.zfill(2)
    actu = pd.to_datetime(raw["site_actu_date"], format="%Y-%m-%d", errors="coerce")
    actu = actu.where(actu.dt.year > 1900)
    name = raw["site_nom"].fillna("").str.strip()
    name = name.where(name != "", "Friche, " + raw["comm_nom"].fillna("?").str.title())
    return pd.DataFrame({
        "external_id": "cartofriches:" + raw["site_id"].str.strip(),
        "name": name.str.slice(0, 200),
        "country": "FR",
        "region_code": dep.map(lambda d: departement_region.get(d) or OVERSEAS_REGION.get(d, "")),
        "departement_code": dep,
        "municipality": raw["comm_nom"].fillna("").str.slice(0, 100),
        "longitude": lon,
        "latitude": lat,
        "area_ha": (surface_m2 / 1e4).where(surface_m2 > 0),
        "former_use": [former_use_from_text(t, a) for t, a in zip(raw["site_type"], raw["activite_libelle"])],
        "former_activity": raw["activite_libelle"].fillna("").str.slice(0, 200),
        "closure_year": year.where((year >= 1800) & (year <= 2100)),
        "pollution_status": pollution.map(CARTOFRICHES_POLLUTION),
        "reconverted": raw["site_statut"].fillna("").str.strip().eq("friche reconvertie"),
        "source_status": raw["site_statut"].fillna("").str.slice(0, 64),
        "source": "cartofriches",
        "source_url": raw["site_url"].fillna("").str.slice(0, 300),
        "source_date": actu.dt.date.where(actu.notna(), None),
        "source_vintage": "Cartofriches 2024-03",
    })


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
    return {str(e).strip(): float(v) for e, v in zip(raw[eic_col], kv) if isinstance(e, str) and np.isfinite(v) and v > 0}


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
    on_list = pd.Series([(n, c, f) in listed for n, c, f in zip(raw["Name"], raw["Country"], raw["Fueltype"])], index=raw.index)
    report["known_still_running"] = int((keep & on_list).sum())
    keep &= ~on_list
    no_coords = keep & (lat.isna() | lon.isna())
    report["no_coordinates"] = int(no_coords.sum())
    keep &= ~no_coords
    iso2 = raw["Country"].map(COUNTRY_NAME_ISO2)
    unknown = keep & iso2.isna()
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{Path(ppm_path).name}: row {i + 2}, column 'Country': unknown country {raw['Country'].iloc[i]!r}")
    voltages = entsoe_unit_voltages(units_path)
    sel = raw[keep]

    def connection_kv(eic_text: object) -> float:
        kvs = [voltages[e] for e in _eic_set(eic_text) if e in voltages]
        return max(kvs) if kvs else np.nan

    kv = sel["EIC"].map(connection_kv)
    report["voltage_matched"] = int(kv.notna().sum())
    frame = pd.DataFrame({
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
        "former_activity": sel["Fueltype"] + " " + sel["Technology"].fillna("").astype(str) if "Technology" in sel else sel["Fueltype"],
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
    }).reset_index(drop=True)
    frame["former_activity"] = frame["former_activity"].str.strip().str.slice(0, 200)
    return frame, report
