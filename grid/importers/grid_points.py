"""Grid connection points: RTE substations (France) and ENTSO-E GridKit buses (elsewhere)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import ReferenceDataError, read_csv, to_float
from .network import MIN_GRID_VOLTAGE_KV, gridkit_bus_table

RTE_VOLTAGE_KV = {"400kV": 400.0, "225kV": 225.0, "150kV": 150.0, "90kV": 90.0, "63kV": 63.0, "45kV": 45.0}
"""RTE 'Tension (kV)' labels that are an AC voltage. Every RTE row is loaded; three labels
carry no usable voltage and are stored with an empty voltage, so scoring never connects to
them: '<45kV' (the source gives no figure), 'HORS TENSION' (stored as de-energised) and
'COURANT CONTINU' (an HVDC converter station, not a place to connect a load)."""

RTE_OTHER_LABELS = {"<45kV", "HORS TENSION", "COURANT CONTINU"}

RTE_STATUS = {"EN EXPLOITATION": "in_service", "ACCORD ADMINISTRATIF": "planned"}

GRIDKIT_VOLTAGE_KV = {220.0: 225.0, 380.0: 400.0, 300.0: 300.0, 132.0: 132.0, 500.0: 500.0, 750.0: 750.0}
"""GridKit gives the lower bound of the ENTSO-E map's voltage range: 220 stands for the
220–225 kV class and 380 for 380–400 kV (SOURCES.md). 132, 300, 500 and 750 kV are kept as
given; the scoring maps each to its voltage class."""

GRIDKIT_SKIP_SYMBOLS = {"joint"}
"""GridKit 'joint' buses are synthetic junctions of the line graph, not stations."""

_TAG_RE = re.compile(r'"(?P<k>[^"]+)"=>"(?P<v>[^"]*)"')


def rte_substations(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return every RTE substation and tapping point, and counts of what had no voltage.

    Columns are GridConnectionPoint fields. Three station codes appear twice in the source:
    the row kept is the one with the highest voltage (then the first), so ``external_id``
    stays unique; the others are counted as ``duplicate_code``.
    """
    cols = [
        "Code poste",
        "Nom poste",
        "FONCTION",
        "Etat",
        "Tension (kV)",
        "Longitude poste (DD)",
        "Latitude poste (DD)",
    ]
    raw = read_csv(path, required=cols, sep=";", dtype=str)
    lon = to_float(raw, "Longitude poste (DD)", path, allow_missing=False)
    lat = to_float(raw, "Latitude poste (DD)", path, allow_missing=False)
    unknown_status = ~raw["Etat"].isin(RTE_STATUS)
    if unknown_status.any():
        i = int(unknown_status.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{path.name}: row {i + 2}, column 'Etat': unknown status {raw['Etat'].iloc[i]!r}")
    frame = pd.DataFrame(
        {
            "external_id": "rte:" + raw["Code poste"].str.strip(),
            "name": raw["Nom poste"].fillna("").str.strip(),
            "operator": "RTE",
            "country": "FR",
            "longitude": lon,
            "latitude": lat,
            "voltage_kv": raw["Tension (kV)"].map(RTE_VOLTAGE_KV),
            "status": raw["Etat"].map(RTE_STATUS),
            "function": raw["FONCTION"].fillna(""),
        }
    )
    unknown_label = ~raw["Tension (kV)"].isin(set(RTE_VOLTAGE_KV) | RTE_OTHER_LABELS)
    if unknown_label.any():
        i = int(unknown_label.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{path.name}: row {i + 2}, column 'Tension (kV)': unknown label {raw['Tension (kV)'].iloc[i]!r}"
        )
    frame.loc[raw["Tension (kV)"].eq("HORS TENSION").to_numpy(), "status"] = "de_energised"
    skipped = {
        f"no voltage ({label})": int(n)
        for label, n in raw.loc[frame["voltage_kv"].isna(), "Tension (kV)"].value_counts().items()
    }
    frame = frame.sort_values(["external_id", "voltage_kv"], ascending=[True, False], kind="stable")
    dup = frame["external_id"].duplicated()
    skipped["duplicate_code"] = int(dup.sum())
    return frame[~dup].reset_index(drop=True), skipped


def _tag(tags: str, key: str) -> str:
    for m in _TAG_RE.finditer(tags if isinstance(tags, str) else ""):
        if m.group("k") == key:
            return m.group("v")
    return ""


def gridkit_buses(
    path: Path,
    *,
    exclude_countries: set[str],
    scope: frozenset[str] | set[str] | None = None,
    locator=None,
    table: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return ENTSO-E GridKit AC buses of 220 kV and above inside ``scope`` and outside
    ``exclude_countries`` (France comes from RTE).

    A bus's country is its tag, checked against the Natural Earth outlines when a
    ``locator`` is given (:func:`grid.importers.network.resolve_bus_countries`). Left out, and
    counted in this order: DC buses, buses under construction, synthetic 'joint' buses, an
    unknown voltage, 132 kV, no country, an excluded country, a country outside ``scope``.
    Several buses of one station at the same voltage are one connection point (the first bus
    id); buses at different voltages stay separate points. ``_station`` and
    ``source_voltage_kv`` are kept for the network estimate of headroom.
    """

    raw = table if table is not None else gridkit_bus_table(path, locator=locator)
    voltage = raw["source_voltage_kv"]
    country = raw["country"]
    skipped: dict[str, int] = {}
    keep = np.ones(len(raw), dtype=bool)
    for reason, mask in (
        ("dc", raw["dc"].to_numpy()),
        ("under_construction", raw["under_construction"].to_numpy()),
        ("joint", raw["symbol"].isin(GRIDKIT_SKIP_SYMBOLS).to_numpy()),
        ("unknown_voltage", ~voltage.isin(GRIDKIT_VOLTAGE_KV).to_numpy()),
        ("below_220_kv", (voltage < MIN_GRID_VOLTAGE_KV).to_numpy()),
        ("no_country", country.eq("").to_numpy()),
        ("excluded_country", country.isin(exclude_countries).to_numpy()),
        ("outside_scope", (~country.isin(scope)).to_numpy() if scope is not None else np.zeros(len(raw), dtype=bool)),
    ):
        skipped[reason] = int((keep & mask).sum())
        keep &= ~mask
    frame = pd.DataFrame(
        {
            "external_id": "gridkit:" + raw["bus_id"].astype(str),
            "name": raw["symbol"] + " " + raw["station_id"].astype(str),
            "operator": raw["tags"].map(lambda t: _tag(t, "TSO")),
            "country": country,
            "longitude": raw["longitude"],
            "latitude": raw["latitude"],
            "voltage_kv": voltage.map(GRIDKIT_VOLTAGE_KV),
            "source_voltage_kv": voltage,
            "status": "in_service",
            "function": raw["symbol"],
            "_station": raw["station_id"].astype(str),
        }
    )[keep]
    dup = frame.duplicated(subset=["_station", "voltage_kv"])
    skipped["same_station_and_voltage"] = int(dup.sum())
    return frame[~dup].reset_index(drop=True), skipped
