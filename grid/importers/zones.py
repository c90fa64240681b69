"""Zones: Ember carbon intensity (yearly, monthly), day-ahead prices, Eurostat degree days,
and hourly carbon intensity derived from ENTSO-E generation by fuel."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import ReferenceDataError, read_csv, to_float

LIFECYCLE_G_PER_KWH = {
    "coal": 820.0,
    "gas": 490.0,
    "oil": 650.0,
    "biomass": 230.0,
    "solar": 48.0,
    "geothermal": 38.0,
    "hydro": 24.0,
    "nuclear": 12.0,
    "wind": 11.0,
}
"""Life-cycle emission factors [gCO2e/kWh]: IPCC AR5 WG3 Annex III (2014), medians (MODEL.md §2)."""

ENTSOE_FUEL_FACTOR = {
    "Biomass": "biomass",
    "Fossil Brown coal/Lignite": "coal",
    "Fossil Coal-derived gas": "coal",
    "Fossil Gas": "gas",
    "Fossil Hard coal": "coal",
    "Fossil Oil": "oil",
    "Fossil Oil shale": "oil",
    "Fossil Peat": "coal",
    "Geothermal": "geothermal",
    "Hydro Pumped Storage": "hydro",
    "Hydro Run-of-river and poundage": "hydro",
    "Hydro Water Reservoir": "hydro",
    "Marine": "hydro",
    "Nuclear": "nuclear",
    "Other": "gas",
    "Other renewable": "biomass",
    "Solar": "solar",
    "Waste": "biomass",
    "Wind Offshore": "wind",
    "Wind Onshore": "wind",
    "Energy storage": "hydro",
}
"""ENTSO-E production type → IPCC AR5 category. **Assumptions** where AR5 has no category:
peat and coal-derived gas as coal, oil shale as oil, 'Other' (mostly CHP and small fossil
units) as gas, waste and 'Other renewable' as biomass, marine, batteries and pumped-storage
turbining as hydro (storage re-emits the mix it charged from; counted at hydro's factor)."""


def iso3_to_iso2(countries_geojson: Path) -> dict[str, str]:
    """Return ISO3 → ISO2 codes from the Natural Earth countries file (``ISO_A2_FIXED``)."""
    data = _read_geojson(countries_geojson)
    mapping = {}
    for feature in data["features"]:
        props = feature["properties"]
        iso3, iso2 = props.get("ADM0_A3") or props.get("ISO_A3"), props.get("ISO_A2_FIXED")
        if iso3 and iso2 and iso2 != "-99":
            mapping[props.get("ISO_A3") if props.get("ISO_A3", "-99") != "-99" else iso3] = iso2
            mapping[iso3] = iso2
    mapping.setdefault("XKX", "XK")
    return mapping


def _read_geojson(path: Path) -> dict:

    path = Path(path)
    if not path.exists():
        raise ReferenceDataError(f"{path.name}: file not found in {path.parent}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: not valid GeoJSON ({exc})") from exc
    if data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if data.get("type") != "FeatureCollection" or not data.get("features"):
        raise ReferenceDataError(f"{path.name}: expected a GeoJSON FeatureCollection with features")
    return data


def ember_yearly(path: Path, iso2: dict[str, str]) -> pd.DataFrame:
    """Return, per European country, the latest year with a positive carbon intensity.

    Ember does not state the basis in the files; its methodology uses life-cycle factors
    (values sit well above RTE's direct figures), so the basis is labelled life-cycle.
    """
    cols = ["country_or_region", "country_code", "year", "emissions_intensity_gco2_per_kwh", "continent"]
    raw = read_csv(path, required=cols)
    raw["intensity"] = to_float(raw, "emissions_intensity_gco2_per_kwh", path)
    raw["year_i"] = to_float(raw, "year", path, allow_missing=False).astype(int)
    europe = raw[(raw["continent"] == "Europe") & (raw["intensity"] > 0)].copy()
    europe["code"] = europe["country_code"].map(iso2)
    europe = europe[europe["code"].notna()]
    latest = europe.sort_values("year_i").groupby("code").tail(1)
    return (
        pd.DataFrame(
            {
                "code": latest["code"],
                "iso3": latest["country_code"],
                "name": latest["country_or_region"],
                "carbon_intensity_g_per_kwh": latest["intensity"],
                "carbon_year": latest["year_i"],
                "carbon_basis": "lifecycle",
                "carbon_source": "Ember yearly electricity data (CC BY 4.0)",
            }
        )
        .sort_values("code")
        .reset_index(drop=True)
    )


def ember_monthly(path: Path, iso2: dict[str, str]) -> pd.DataFrame:
    """Return monthly carbon intensity rows (zone code, month, value); zero values dropped."""
    cols = ["country_code", "date", "emissions_intensity_gco2_per_kwh"]
    raw = read_csv(path, required=cols)
    raw["value"] = to_float(raw, "emissions_intensity_gco2_per_kwh", path)
    raw["code"] = raw["country_code"].map(iso2)
    month = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    if month.isna().any():
        i = int(month.isna().to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{path.name}: row {i + 2}, column 'date': {raw['date'].iloc[i]!r} is not a date")
    raw["month"] = month.dt.date
    keep = raw["code"].notna() & (raw["value"] > 0)
    return (
        raw.loc[keep, ["code", "month", "value"]]
        .rename(columns={"value": "carbon_intensity_g_per_kwh"})
        .reset_index(drop=True)
    )


def ember_prices(path: Path, iso2: dict[str, str]) -> pd.DataFrame:
    """Return per country the mean day-ahead price of its latest 12 months [EUR/MWh]."""
    cols = ["country_code", "date", "day_ahead_price_eur_per_mwh"]
    raw = read_csv(path, required=cols)
    raw["price"] = to_float(raw, "day_ahead_price_eur_per_mwh", path)
    raw["month"] = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    raw["code"] = raw["country_code"].map(iso2)
    raw = raw[raw["code"].notna() & raw["price"].notna() & raw["month"].notna()].sort_values("month")
    rows = []
    for code, group in raw.groupby("code"):
        last = group.tail(12)
        rows.append(
            {
                "code": code,
                "price_eur_per_mwh": float(last["price"].mean()),
                "price_period_start": last["month"].iloc[0].date(),
                "price_period_end": last["month"].iloc[-1].date(),
                "price_source": f"Ember day-ahead monthly, mean of {len(last)} months (CC BY 4.0)",
            }
        )
    return pd.DataFrame(rows)


EUROSTAT_GEO_TO_ISO2 = {"EL": "GR", "UK": "GB"}


def eurostat_cdd(path: Path, years: int = 10) -> pd.DataFrame:
    """Return per country the mean cooling degree days of the last ``years`` years [°C·day/yr]."""
    raw = read_csv(path, required=["geo", "year", "cdd"])
    raw["cdd_v"] = to_float(raw, "cdd", path)
    raw["year_i"] = to_float(raw, "year", path, allow_missing=False).astype(int)
    raw = raw[(raw["geo"].str.len() == 2) & raw["cdd_v"].notna()]  # drops EU27_2020 and other aggregates
    rows = []
    for geo, group in raw.groupby("geo"):
        last = group.sort_values("year_i").tail(years)
        rows.append(
            {
                "code": EUROSTAT_GEO_TO_ISO2.get(geo, geo),
                "cooling_degree_days": float(last["cdd_v"].mean()),
                "cdd_period": f"{last['year_i'].min()}–{last['year_i'].max()}",
                "cdd_source": "Eurostat nrg_chdd_a (CC BY 4.0)",
            }
        )
    return pd.DataFrame(rows)


def entsoe_hourly_carbon(path: Path) -> np.ndarray:
    """Return 8,760 hourly life-cycle carbon intensities [g/kWh] from ENTSO-E generation by fuel.

    CI_h = Σ_f G_f,h × EF_f / Σ_f G_f,h over production (imports excluded). 'n/e' (not
    existing) and blanks count as zero. Rows are in local time: the autumn DST hour appears
    twice (both are real hours and are kept); a row with no value at all (the spring DST gap)
    is dropped, leaving 8,760 hours.
    """
    raw = read_csv(path, required=["MTU"], dtype=str)
    gen_cols = [c for c in raw.columns if c.endswith("Actual Aggregated [MW]")]
    if not gen_cols:
        raise ReferenceDataError(f"{path.name}: no 'Actual Aggregated [MW]' generation columns")
    numerator = np.zeros(len(raw))
    denominator = np.zeros(len(raw))
    any_value = np.zeros(len(raw), dtype=bool)
    for col in gen_cols:
        fuel = col.split(" - ")[0].strip()
        if fuel not in ENTSOE_FUEL_FACTOR:
            raise ReferenceDataError(f"{path.name}: unknown production type {fuel!r} (column {col!r})")
        text = raw[col].fillna("").str.strip().replace({"n/e": "", "N/A": ""})
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ReferenceDataError(f"{path.name}: row {i + 2}, column {col!r}: {raw[col].iloc[i]!r} is not a number")
        v = values.fillna(0.0).clip(lower=0.0).to_numpy()
        any_value |= (text != "").to_numpy()
        numerator += v * LIFECYCLE_G_PER_KWH[ENTSOE_FUEL_FACTOR[fuel]]
        denominator += v
    keep = any_value & (denominator > 0)
    series = numerator[keep] / denominator[keep]
    if len(series) != 8760:
        raise ReferenceDataError(f"{path.name}: {len(series)} hours with generation, expected 8,760")
    return series


def eco2mix_hourly(path: Path) -> pd.Series:
    """Return RTE éCO2mix 'Taux de CO2' averaged per hour, indexed by UTC hour [g/kWh]."""
    raw = read_csv(path, required=["Date - Heure", "Taux de CO2 (g/kWh)"], sep=";")
    ts = pd.to_datetime(raw["Date - Heure"], utc=True, errors="coerce")
    co2 = to_float(raw, "Taux de CO2 (g/kWh)", path)
    frame = pd.DataFrame({"ts": ts, "co2": co2}).dropna()
    return frame.groupby(frame["ts"].dt.floor("h"))["co2"].mean().sort_index()


def hourly_index_utc(year: int) -> pd.DatetimeIndex:
    """Return the UTC start of each of the 8,760 hours of a local (CET/CEST) year."""
    start = pd.Timestamp(date(year, 1, 1), tz="Europe/Paris").tz_convert("UTC")
    return pd.date_range(start, periods=8760, freq="h")
