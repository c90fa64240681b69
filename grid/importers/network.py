"""The transmission network: GridKit lines with ratings, countries from coordinates, and the
network estimate of headroom at each grid point (MODEL.md §2, Headroom and Cut-in rows).

Coordinates are WGS84 longitude/latitude in degrees; distances and lengths are computed in
the ETRS89 Lambert azimuthal equal-area projection (EPSG:3035), whose scale error stays
below 1 % over the scope.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import shape

from . import ReferenceDataError, read_csv, to_float

MIN_GRID_VOLTAGE_KV = 220.0
"""GridKit buses and lines below this voltage (132 kV) are left out: the ENTSO-E map shows
132 kV only in a few countries, so it would mislead more than help (MODEL.md §5)."""

PYPSA_LINE_TYPE_BY_VOLTAGE_KV = {
    220.0: "Al/St 240/40 2-bundle 220.0",
    300.0: "Al/St 240/40 3-bundle 300.0",
    380.0: "Al/St 240/40 4-bundle 380.0",
    500.0: "Al/St 240/40 4-bundle 380.0",
    750.0: "Al/St 560/50 4-bundle 750.0",
}
"""PyPSA standard line type per GridKit voltage: PyPSA-Eur ``config/config.default.yaml``
(v0.11.0), ``lines: types``. PyPSA-Eur uses the 380 kV type for 500 kV lines."""

S_MAX_PU = 0.7
"""Usable share of a line's thermal rating: PyPSA-Eur ``lines: s_max_pu`` (0.7), which
approximates N-1 security and reserve for reactive flows. MVA are taken as MW (unity power
factor, an **assumption**)."""

HEADROOM_LINE_SHARE = 0.3
"""α in headroom ≈ α × (Σ usable ratings of the lines at a bus − the largest circuit): the share of
the N-1 line capacity a new load can take. A modelling **assumption** (MODEL.md §2), no source."""

BORDER_TOLERANCE_KM = 5.0
"""A bus's own country tag stands when the bus lies within this distance of that country's
outline, even if the point falls just across a border: GridKit coordinates come from a
schematic map and the outlines are 1:50m. Beyond it the outline containing the point wins.
An **assumption** (measured: 35 tags disagree with the outlines; all but one lie 7–150 km
inside another country, Crimea and Kosovo)."""

NEAREST_OUTLINE_MAX_KM = 20.0
"""A bus or line with no tag and outside every outline (at sea, on a coast the 1:50m outlines
miss) takes the nearest outline's country within this distance, else it has no country and is
left out. An **assumption**."""

FR_MATCH_MAX_KM = 10.0
"""An RTE substation takes the line estimate of a GridKit station in France when each is the
other's nearest at the same voltage class (225/400 kV) and they lie within this distance.
GridKit's schematic coordinates sit a median 5 km from RTE's (measured): 374 of 485
GridKit 220 kV stations and 128 of 174 at 380 kV match. An **assumption**."""

OUTLINE_ALIASES = {"AX": "FI"}
"""Natural Earth codes folded into their state: the Åland Islands are part of Finland."""

TAG_ALIASES = {"UK": "GB", "EL": "GR"}
"""GridKit/ENTSO-E country codes that differ from ISO 3166-1 alpha-2."""

_COUNTRY_TAG_RE = r'"country"=>"([^"]*)"'
_TAG_RE = re.compile(r'"(?P<k>[^"]+)"=>"(?P<v>[^"]*)"')


def _country_tags(tags: pd.Series) -> pd.Series:
    return tags.fillna("").str.extract(_COUNTRY_TAG_RE)[0].fillna("").replace(TAG_ALIASES)


class CountryLocator:
    """Which country a point or a line lies in, from the shipped Natural Earth outlines.

    ``countries`` has ``code`` (ISO2) and ``geometry_geojson`` (WGS84), as
    :func:`grid.importers.boundaries.countries` returns.
    """

    def __init__(self, countries: pd.DataFrame) -> None:

        self._shapely = shapely
        self._transformer = Transformer.from_crs(4326, 3035, always_xy=True)
        codes = [OUTLINE_ALIASES.get(c, c) for c in countries["code"]]
        self.codes = np.array(codes, dtype=object)
        self.geoms = np.array([self._project(shape(g)) for g in countries["geometry_geojson"]], dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        self._by_code: dict[str, object] = {}
        for code, geom in zip(codes, self.geoms):
            self._by_code[code] = shapely.union(self._by_code[code], geom) if code in self._by_code else geom

    def _project(self, geom):
        def fwd(xy: np.ndarray) -> np.ndarray:
            x, y = self._transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return self._shapely.transform(geom, fwd)

    def xy_km(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return projected coordinates [km], shape (n, 2)."""
        x, y = self._transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([x, y]) / 1000.0

    def _points(self, lon, lat):
        xy = self.xy_km(lon, lat) * 1000.0
        return self._shapely.points(xy)

    def containing(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the code of the outline containing each point ('' when none)."""
        pts = self._points(lon, lat)
        out = np.full(len(pts), "", dtype=object)
        pi, gi = self.tree.query(pts, predicate="within")
        out[pi] = self.codes[gi]
        return out

    def nearest(self, lon: np.ndarray, lat: np.ndarray, *, max_km: float) -> np.ndarray:
        """Return the code of the nearest outline within ``max_km`` of each point ('' when none)."""
        pts = self._points(lon, lat)
        out = np.full(len(pts), "", dtype=object)
        if len(pts):
            pi, gi = self.tree.query_nearest(pts, max_distance=max_km * 1000.0, all_matches=False)
            out[pi] = self.codes[gi]
        return out

    def distance_to_km(self, codes: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return each point's distance to the outline of its ``codes`` entry [km] (inf if none)."""
        pts = self._points(lon, lat)
        out = np.full(len(pts), np.inf)
        for i, code in enumerate(codes):
            geom = self._by_code.get(code)
            if geom is not None:
                out[i] = self._shapely.distance(pts[i], geom) / 1000.0
        return out

    def line_countries(self, geoms: np.ndarray) -> list[list[tuple[str, float]]]:
        """Return, for each WGS84 line, [(code, length in that country [km])], most length first."""
        shapely = self._shapely
        projected = self._project(geoms)
        out: list[dict[str, float]] = [{} for _ in range(len(geoms))]
        # Most lines lie inside one outline: take their whole length, intersect only the rest.
        wi, wg = self.tree.query(projected, predicate="within")
        whole = shapely.length(projected[wi]) / 1000.0
        for line, code, km in zip(wi, self.codes[wg], whole):
            out[line][code] = float(km)
        rest = np.setdiff1d(np.arange(len(geoms)), wi)
        li, gi = self.tree.query(projected[rest], predicate="intersects")
        li = rest[li]
        lengths = shapely.length(shapely.intersection(projected[li], self.geoms[gi])) / 1000.0
        for line, code, km in zip(li, self.codes[gi], lengths):
            if km > 0:
                out[line][code] = out[line].get(code, 0.0) + float(km)
        return [sorted(d.items(), key=lambda kv: (-kv[1], kv[0])) for d in out]


def resolve_bus_countries(tag: pd.Series, lon: pd.Series, lat: pd.Series, locator: CountryLocator | None) -> pd.Series:
    """Return each bus's country (ISO2, '' when unknown).

    The tag stands unless the bus lies more than ``BORDER_TOLERANCE_KM`` outside the tagged
    country's outline and inside another one (then the outline wins: the tag is wrong). A bus
    outside every outline keeps its tag, or without one takes the nearest outline within
    ``NEAREST_OUTLINE_MAX_KM``.
    """
    tag = tag.fillna("").astype(object).to_numpy()
    if locator is None:
        return pd.Series(tag, index=lon.index, dtype=object)
    lon_a, lat_a = lon.to_numpy(dtype=float), lat.to_numpy(dtype=float)
    inside = locator.containing(lon_a, lat_a)
    out = tag.copy()
    disagree = (tag != "") & (inside != "") & (tag != inside)
    if disagree.any():
        idx = np.flatnonzero(disagree)
        far = locator.distance_to_km(tag[idx], lon_a[idx], lat_a[idx]) > BORDER_TOLERANCE_KM
        out[idx[far]] = inside[idx[far]]
    untagged = tag == ""
    out[untagged & (inside != "")] = inside[untagged & (inside != "")]
    lost = np.flatnonzero(out == "")
    if len(lost):
        out[lost] = locator.nearest(lon_a[lost], lat_a[lost], max_km=NEAREST_OUTLINE_MAX_KM)
    return pd.Series(out, index=lon.index, dtype=object)


def gridkit_bus_table(path: Path, *, locator: CountryLocator | None = None) -> pd.DataFrame:
    """Return every GridKit bus with its parsed fields and resolved ``country`` (no filtering).

    Columns: bus_id, station_id, source_voltage_kv, dc, symbol, under_construction, tags,
    tag_country, country, longitude, latitude.
    """
    cols = ["bus_id", "station_id", "voltage", "dc", "symbol", "under_construction", "tags", "x", "y"]
    raw = read_csv(
        path, required=cols, quotechar="'", dtype={"tags": str, "symbol": str, "dc": str, "under_construction": str}
    )
    voltage = to_float(raw, "voltage", path)
    lon = to_float(raw, "x", path, allow_missing=False)
    lat = to_float(raw, "y", path, allow_missing=False)
    bus_id = to_float(raw, "bus_id", path, allow_missing=False)
    if bus_id.duplicated().any():
        i = int(bus_id.duplicated().to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{Path(path).name}: row {i + 2}, column 'bus_id': duplicate id {raw['bus_id'].iloc[i]!r}"
        )
    tag = _country_tags(raw["tags"])
    return pd.DataFrame(
        {
            "bus_id": bus_id.astype(np.int64),
            "station_id": raw["station_id"].astype(str),
            "source_voltage_kv": voltage,
            "dc": raw["dc"].eq("t"),
            "symbol": raw["symbol"].fillna(""),
            "under_construction": raw["under_construction"].eq("t"),
            "tags": raw["tags"].fillna(""),
            "tag_country": tag,
            "country": resolve_bus_countries(tag, lon, lat, locator),
            "longitude": lon,
            "latitude": lat,
        }
    )


def line_type_ratings(path: Path) -> dict[float, tuple[str, float]]:
    """Return GridKit voltage [kV] → (PyPSA line type, thermal rating per circuit [MVA]).

    Rating per circuit = √3 × V × I_nom (PyPSA ``Line.s_nom`` for one parallel circuit), with
    V the line's GridKit voltage [kV] and I_nom the type's ``i_nom`` [kA]: 220 kV 491.6 MVA,
    380 kV 1,698.1 MVA (MODEL.md §2).
    """
    frame = read_csv(path, required=["name", "i_nom"], dtype={"name": str})
    i_nom = to_float(frame, "i_nom", path, allow_missing=False)
    by_name = dict(zip(frame["name"], i_nom))
    out = {}
    for kv, name in PYPSA_LINE_TYPE_BY_VOLTAGE_KV.items():
        if name not in by_name:
            raise ReferenceDataError(f"{Path(path).name}: column 'name': line type {name!r} not found")
        out[kv] = (name, math.sqrt(3.0) * kv * float(by_name[name]))
    return out


def _wkt_linestring_coords(wkt: str) -> list[list[float]]:
    body = wkt.strip()
    if not body.upper().startswith("LINESTRING"):
        raise ValueError("not a LINESTRING")
    inner = body[body.index("(") + 1 : body.rindex(")")]
    coords = []
    for pair in inner.split(","):
        x, y = pair.split()
        coords.append([round(float(x), 6), round(float(y), 6)])
    if len(coords) < 2:
        raise ValueError("fewer than 2 vertices")
    return coords


def gridkit_lines(
    path: Path,
    *,
    ratings: dict[float, tuple[str, float]],
    buses: pd.DataFrame,
    locator: CountryLocator,
    scope: frozenset[str] | set[str],
    voltage_classes: dict[float, float],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return (lines in scope, every AC line ≥ 220 kV with its rating, counts left out by reason).

    A line is in scope when any of its length lies in a scope country (a cross-border line is
    kept); ``country`` is the country holding most of its length and ``countries`` lists every
    country it crosses, most length first. A line with no length on land (a sea cable, or a
    country missing from the outlines) takes its country tag, else its end buses' countries,
    else the nearest outline within ``NEAREST_OUTLINE_MAX_KM`` of its first vertex.

    Columns of both frames are GridLine fields (plus ``bus0``/``bus1`` as integers in the second).
    """

    cols = [
        "line_id",
        "bus0",
        "bus1",
        "voltage",
        "circuits",
        "length",
        "underground",
        "under_construction",
        "tags",
        "geometry",
    ]
    raw = read_csv(path, required=cols, quotechar="'", dtype=str)
    name = Path(path).name
    voltage = to_float(raw, "voltage", path, allow_missing=False)
    circuits = to_float(raw, "circuits", path, allow_missing=False)
    length_m = to_float(raw, "length", path, allow_missing=False)
    for col in ("bus0", "bus1"):
        to_float(raw, col, path, allow_missing=False)
    if raw["line_id"].isna().any():
        i = int(raw["line_id"].isna().to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{name}: row {i + 2}, column 'line_id': empty")
    for col, bad in (("circuits", (circuits < 1) | (circuits != np.round(circuits))), ("length", length_m < 0)):
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ReferenceDataError(f"{name}: row {i + 2}, column {col!r}: {raw[col].iloc[i]!r} is out of range")
    for col in ("underground", "under_construction"):
        bad = ~raw[col].isin(["True", "False"])
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ReferenceDataError(f"{name}: row {i + 2}, column {col!r}: {raw[col].iloc[i]!r} is not True/False")
    if raw["line_id"].duplicated().any():
        i = int(raw["line_id"].duplicated().to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{name}: row {i + 2}, column 'line_id': duplicate id {raw['line_id'].iloc[i]!r}")

    notes: dict[str, int] = {}
    keep = (voltage >= MIN_GRID_VOLTAGE_KV).to_numpy()
    notes["below_220_kv"] = int((~keep).sum())
    unknown = keep & ~voltage.isin(ratings).to_numpy()
    if unknown.any():
        i = int(unknown.nonzero()[0][0])
        raise ReferenceDataError(
            f"{name}: row {i + 2}, column 'voltage': {raw['voltage'].iloc[i]!r} kV has no PyPSA line type"
        )
    rows = np.flatnonzero(keep)
    coords = []
    wkt = raw["geometry"].fillna("").to_numpy()
    for i in rows:  # type: ignore[assignment]
        try:
            coords.append(_wkt_linestring_coords(wkt[i]))
        except (ValueError, IndexError) as exc:
            raise ReferenceDataError(f"{name}: row {i + 2}, column 'geometry': {exc}") from exc

    sub = raw.iloc[rows]
    kv = voltage.iloc[rows].to_numpy()
    per_circuit = np.array([ratings[v][1] for v in kv])
    n_circuits = circuits.iloc[rows].to_numpy()
    rating_mva = n_circuits * per_circuit
    frame = pd.DataFrame(
        {
            "external_id": "gridkit-line:" + sub["line_id"].str.strip().to_numpy(),
            "bus0": sub["bus0"].astype(np.int64).to_numpy(),
            "bus1": sub["bus1"].astype(np.int64).to_numpy(),
            "bus0_external_id": "gridkit:" + sub["bus0"].str.strip().to_numpy(),
            "bus1_external_id": "gridkit:" + sub["bus1"].str.strip().to_numpy(),
            "voltage_kv": [voltage_classes.get(v, v) for v in kv],
            "source_voltage_kv": kv,
            "circuits": n_circuits.astype(np.int64),
            "underground": sub["underground"].eq("True").to_numpy(),
            "length_km": length_m.iloc[rows].to_numpy() / 1000.0,
            "line_type": [ratings[v][0] for v in kv],
            "rating_mva": np.round(rating_mva, 3),
            "rating_mw": np.round(rating_mva * S_MAX_PU, 3),
            "geometry_geojson": [{"type": "LineString", "coordinates": c} for c in coords],
            "status": np.where(sub["under_construction"].eq("True"), "under_construction", "in_service"),
            "_tag": _country_tags(sub["tags"]).to_numpy(),
        }
    )

    if coords:
        flat = np.array([xy for c in coords for xy in c], dtype=float)
        index = np.repeat(np.arange(len(coords)), [len(c) for c in coords])
        lines_wgs84 = shapely.linestrings(flat, indices=index)
    else:
        lines_wgs84 = np.array([], dtype=object)
    crossed = locator.line_countries(np.asarray(lines_wgs84, dtype=object))
    bus_country = dict(zip(buses["bus_id"], buses["country"]))
    at_sea = [i for i, parts in enumerate(crossed) if not parts]
    first = np.array([coords[i][0] for i in at_sea]).reshape(-1, 2)
    nearest = dict(zip(at_sea, locator.nearest(first[:, 0], first[:, 1], max_km=NEAREST_OUTLINE_MAX_KM)))
    bus0, bus1, tags = frame["bus0"].to_numpy(), frame["bus1"].to_numpy(), frame["_tag"].to_numpy()
    country, countries = [], []
    for i, parts in enumerate(crossed):
        if parts:
            codes = [c for c, _ in parts]
        else:
            candidates = [tags[i], bus_country.get(bus0[i], ""), bus_country.get(bus1[i], ""), nearest[i]]
            codes = [next((c for c in candidates if c), "")]
        country.append(codes[0])
        countries.append(",".join(c for c in codes if c))
    frame["country"] = country
    frame["countries"] = countries
    frame = frame.drop(columns="_tag")
    in_scope = np.array([any(c in scope for c in cs.split(",")) for cs in frame["countries"]], dtype=bool)
    no_country = frame["country"].eq("").to_numpy()
    notes["no_country"] = int(no_country.sum())
    notes["outside_scope"] = int((~in_scope & ~no_country).sum())
    notes["under_construction_kept"] = int((in_scope & frame["status"].eq("under_construction").to_numpy()).sum())
    scoped = frame[in_scope].drop(columns=["bus0", "bus1"]).reset_index(drop=True)
    return scoped, frame, notes


def line_headroom_by_bus(lines: pd.DataFrame, buses: pd.DataFrame) -> pd.DataFrame:
    """Return the lines N-1 estimate per (station, GridKit voltage).

    Lines at a station-voltage are those in service whose end is any bus of that station at
    that voltage. Estimate [MW] = α × (Σ rating_mw − the largest circuit's rating_mw),
    α = HEADROOM_LINE_SHARE. N-1 loses one *circuit* (MODEL.md §2 rates lines per circuit): a
    station fed by one double-circuit line keeps one circuit, a single-circuit radial feed none.

    Returns columns station_id, source_voltage_kv, n_lines, headroom_estimate_mw.
    """
    station = buses.set_index("bus_id")[["station_id", "source_voltage_kv"]]
    live = lines[lines["status"].eq("in_service")]
    ends = pd.concat(
        [
            live[["external_id", "rating_mw", "circuits"]].assign(bus_id=live["bus0"].to_numpy()),
            live[["external_id", "rating_mw", "circuits"]].assign(bus_id=live["bus1"].to_numpy()),
        ],
        ignore_index=True,
    )
    ends = ends.join(station, on="bus_id", how="inner").drop_duplicates(
        ["station_id", "source_voltage_kv", "external_id"]
    )
    ends["circuit_mw"] = ends["rating_mw"] / ends["circuits"]
    grouped = (
        ends.groupby(["station_id", "source_voltage_kv"])
        .agg(count=("rating_mw", "count"), sum=("rating_mw", "sum"), max=("circuit_mw", "max"))
        .reset_index()
    )
    grouped["headroom_estimate_mw"] = np.round(HEADROOM_LINE_SHARE * (grouped["sum"] - grouped["max"]), 3)
    return grouped.rename(columns={"count": "n_lines"})[
        ["station_id", "source_voltage_kv", "n_lines", "headroom_estimate_mw"]
    ]


def capareseau_transformers(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return Caparéseau HTB/HTA transformer power per substation and the N-1 estimate.

    The file has two header rows (codes, then French labels): data start on row 3. Transformer
    power is ``GRD1_PTRE`` + ``GRD2_PTRE`` [MVA, read as MW at unity power factor] and count
    ``GRD1_TRE`` + ``GRD2_TRE`` (a first and a second distribution operator). Estimate
    [MW] = power × (n − 1) / n (N-1: the largest-equal unit lost), MODEL.md §2.

    Returns columns code (trimmed, as RTE's ``Code poste``), transformer_mva, transformers,
    headroom_estimate_mw; only rows with power > 0 and at least one transformer.
    """
    cols = ["Code", "GRD1_PTRE", "GRD1_TRE", "GRD2_PTRE", "GRD2_TRE"]
    raw = read_csv(path, required=cols, sep=";", skiprows=[1], dtype=str)
    values = {}
    for col in cols[1:]:
        v = to_float(raw, col, path, row_offset=3)
        bad = v < 0
        if col.endswith("_TRE"):
            bad |= v.notna() & (v != np.round(v))
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ReferenceDataError(
                f"{Path(path).name}: row {i + 3}, column {col!r}: {raw[col].iloc[i]!r} is out of range"
            )
        values[col] = v
    code = raw["Code"].fillna("").str.strip()
    if code.eq("").any():
        i = int(code.eq("").to_numpy().nonzero()[0][0])
        raise ReferenceDataError(f"{Path(path).name}: row {i + 3}, column 'Code': empty")
    mva = values["GRD1_PTRE"].fillna(0) + values["GRD2_PTRE"].fillna(0)
    count = values["GRD1_TRE"].fillna(0) + values["GRD2_TRE"].fillna(0)
    usable = (mva > 0) & (count >= 1)
    notes = {
        "no_transformer_power": int((mva <= 0).sum()),
        "power_without_count": int(((mva > 0) & (count < 1)).sum()),
    }
    frame = pd.DataFrame(
        {
            "code": code,
            "transformer_mva": mva,
            "transformers": count.astype(np.int64),
        }
    )[usable.to_numpy()]
    frame["headroom_estimate_mw"] = np.round(
        frame["transformer_mva"] * (frame["transformers"] - 1) / frame["transformers"], 3
    )
    if frame["code"].duplicated().any():
        dup = frame["code"][frame["code"].duplicated()].iloc[0]
        raise ReferenceDataError(f"{Path(path).name}: column 'Code': {dup!r} appears twice after trimming")
    return frame.reset_index(drop=True), notes


def match_rte_to_gridkit(
    rte: pd.DataFrame, stations: pd.DataFrame, *, locator: CountryLocator, voltage_classes: dict[float, float]
) -> pd.DataFrame:
    """Pair RTE substations with GridKit stations in France, mutual nearest at the same voltage
    class within ``FR_MATCH_MAX_KM``.

    ``rte``: external_id, longitude, latitude, voltage_kv (in service, 225 or 400 kV).
    ``stations``: station_id, source_voltage_kv (the station's highest), longitude, latitude.
    Returns external_id, station_id, source_voltage_kv, distance_km.
    """

    out = []
    for gk_kv, cls_kv in voltage_classes.items():
        r = rte[rte["voltage_kv"].eq(cls_kv)]
        s = stations[stations["source_voltage_kv"].eq(gk_kv)]
        if r.empty or s.empty:
            continue
        a = locator.xy_km(s["longitude"], s["latitude"])
        b = locator.xy_km(r["longitude"], r["latitude"])
        d_sr, j_sr = cKDTree(b).query(a)
        _, j_rs = cKDTree(a).query(b)
        mutual = (j_rs[j_sr] == np.arange(len(s))) & (d_sr <= FR_MATCH_MAX_KM)
        out.append(
            pd.DataFrame(
                {
                    "external_id": r["external_id"].to_numpy()[j_sr[mutual]],
                    "station_id": s["station_id"].to_numpy()[mutual],
                    "source_voltage_kv": gk_kv,
                    "distance_km": d_sr[mutual],
                }
            )
        )
    if not out:
        return pd.DataFrame(columns=["external_id", "station_id", "source_voltage_kv", "distance_km"])
    return pd.concat(out, ignore_index=True)


def operator_tag(tags: str) -> str:
    """Return the TSO tag of a GridKit hstore string ('' when absent)."""
    for m in _TAG_RE.finditer(tags if isinstance(tags, str) else ""):
        if m.group("k") == "TSO":
            return m.group("v")
    return ""
