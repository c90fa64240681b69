"""One site per place (MODEL.md §1b) and the still-running check (§5): records in, sites out.

Plain pandas and NumPy, no Django. The readers in ``reference.py`` turn each source into
*records* (one row per brownfield, plant or installation, :data:`RECORD_COLUMNS`) and into
*operating units* (units that still run, the evidence of §5). This module

1. marks plant and installation records whose site still runs (:func:`still_running`),
2. groups records that describe the same place (:func:`conflate`), and
3. builds one site per group, each attribute taken by a documented precedence (:func:`sites_from_groups`).

Coordinates are WGS84 longitude/latitude in degrees; distances are great-circle on a sphere.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG). [m]"""

CONFLATION_DISTANCE_M = 500.0
"""Records closer than this may be one place if their names or activities agree (MODEL.md §1b
default, an **assumption**). [m]"""

PLANT_CONFLATION_DISTANCE_M = 2_000.0
"""Two *plant* records (of any power or steel source) with a shared name token are one plant up
to this distance: the trackers place a plant by a unit, the grounds or the town, and the same
plant sits 0.5–2 km apart across sources (Blénod, Bouchain). An **assumption**. [m]"""

SAME_POINT_M = 10.0
"""Records closer than this are one place whatever their names: coordinates that agree to about
four decimals are the same point (MODEL.md §1b: identical coordinates always merge). [m]"""

OPERATING_RADIUS_M = 1_000.0
"""An operating unit within this distance of a retired plant uses its site and connection
(MODEL.md §5). [m]"""

ADJACENT_PARCEL_GAP_M = 150.0
"""Two brownfields whose parcels come closer than this, edge to edge, are one piece of land
(parcels approximated by discs of their area around their centroids): a street or a block
between two plots does not make two places for a campus of hectares. An **assumption**; it
makes neighbouring BASIAS rows of one industrial quarter one site. [m]"""

MAX_ADJACENT_EXTENT_M = 500.0
"""Adjacent plots join a place only while the place stays within this extent (the diagonal of
its bounding box): beyond it, a chain of neighbouring plots is a district, not a site. [m]"""

SAME_NAME_MAX_M = 30_000.0
"""The "same plant name and country" rule of MODEL.md §5 applies up to this distance: beyond it a
namesake is another plant (district-heating plants named "Nord" or "Süd" stand in many towns).
An **assumption**. [m]"""

SOURCE_ORDER = ("powerplantmatching", "cartofriches", "gem_coal", "ebc", "gem_gas", "gem_steel", "eu_ets")
"""Which record gives a place its identifier (external id, hence its pk): the first source of
this order present in the place, then the smallest record id. The sources that shipped first
come first, so adding a source never renames a place that existed before."""

ID_PREFIX = {
    "powerplantmatching": "ppm",
    "cartofriches": "cartofriches",
    "gem_coal": "gem-coal",
    "ebc": "ebc",
    "gem_gas": "gem-gas",
    "gem_steel": "gem-steel",
    "eu_ets": "ets",
}

SOURCE_LABEL = {
    "powerplantmatching": "powerplantmatching",
    "cartofriches": "Cartofriches",
    "gem_coal": "GEM Coal",
    "ebc": "Europe Beyond Coal",
    "gem_gas": "GEM Oil & Gas",
    "gem_steel": "GEM Iron & Steel",
    "eu_ets": "EU ETS",
}

NAME_PRECEDENCE = ("gem_coal", "gem_gas", "gem_steel", "ebc", "powerplantmatching", "cartofriches", "eu_ets")
"""Display name: the trackers' plant names are the most readable ("Blénod power station"),
powerplantmatching abbreviates ("Hrtl"), ETS names are registry entries."""

COORDINATE_PRECEDENCE = ("cartofriches", "gem_coal", "gem_gas", "gem_steel", "ebc", "powerplantmatching", "eu_ets")
"""Position: the brownfield's parcel centroid lies on the grounds; GEM gives unit coordinates
(mostly "exact"); powerplantmatching and ETS coordinates are coarser."""

CONNECTION_PRECEDENCE = ("powerplantmatching", "gem_coal", "ebc", "gem_gas")
"""Former capacity [MW]: the first plant source with a value. powerplantmatching comes first
because its EIC codes give the connection voltage (ENTSO-E) for the same units."""

USE_PRECEDENCE = ("powerplantmatching", "gem_coal", "ebc", "gem_gas", "gem_steel", "eu_ets", "cartofriches")
"""Former use and activity: plant records say what the site was; a brownfield's BASIAS activity
is often a later tenant."""

PLANT_USES = frozenset({"coal_plant", "gas_plant", "oil_plant", "nuclear_plant", "other_plant"})

GENERIC_TOKENS = frozenset(
    """
a au aux d de des du en et l la le les un une sur sous pres the of and
ancien ancienne anciens anciennes anc ex friche friches site sites centrale centrales thermique thermiques
electrique electriques usine usines zone zac za zi parc secteur lot ilot terrain terrains batiment batiments
appel projet projets fonds vert recyclage foncier edition dossier nde ieme
power station plant plants unit units block cogeneration chp ccgt gas coal lignite fired steam turbine
kraftwerk heizkraftwerk hkw gkw kw elektrownia elektrocieplownia ec ciepłownia cieplownia elektrarna elektrarne
central centrale termica termoelettrica termoelectrica termocentrale centrala electrocentrala
energie energy energia energetique sa sas sarl sasu sca snc ste societe ets etablissements cie co ltd plc gmbh ag kg spa srl
bv nv oy ab as asa aps s p o z o o sp zoo a s sro kft zrt rt d d doo ad ood eood
rue av avenue bd boulevard chemin ch route rte place pl imp impasse quai allee cours
nord sud est ouest north south east west saint sainte st ste san santa sankt
""".split()
)
"""Words that name no particular place, removed before names are compared (MODEL.md §1b:
accents, case, legal forms, "centrale", "friche", "site" removed; here also power-plant words
in the sources' languages, street types and compass points)."""


def fold(text: object) -> str:
    """Return ``text`` lower-cased, accents removed, punctuation turned into spaces."""
    if not isinstance(text, str):
        return ""
    ascii_text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text).strip()


def name_tokens(text: object) -> frozenset[str]:
    """Return the distinctive words of a name: folded, without generic words, numbers or
    one- and two-letter words."""
    return frozenset(w for w in fold(text).split() if len(w) > 2 and not w.isdigit() and w not in GENERIC_TOKENS)


def name_key(text: object) -> str:
    """Return a name reduced to its distinctive words, in order ("Emile-Huchet" and "Emile Huchet
    power station" both give "emile huchet"); '' when nothing distinctive is left."""
    return " ".join(w for w in fold(text).split() if len(w) > 2 and not w.isdigit() and w not in GENERIC_TOKENS)


_CAMPAIGN_FRICHE = re.compile(r"^Appel à projet .*? - friche ?: ?(?P<name>.+)$", re.IGNORECASE | re.DOTALL)
_CAMPAIGN_FONDS_VERT = re.compile(r"^Appel à projet Fonds Vert \d{4} ?- ?(?P<name>.+)$", re.IGNORECASE | re.DOTALL)
_CAMPAIGN_OTHER = re.compile(r"^Appel à projet ", re.IGNORECASE)


def _title_if_shouting(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if len(letters) > 4 and all(c.isupper() for c in letters):
        return text.title()
    return text


def readable_name(name: object, municipality: object = "") -> str:
    """Return a readable display name for a source's name (MODEL.md §1b).

    Cartofriches campaign rows lose their campaign prefix ("Appel à projet Fonds Vert 2023 -Site
    Schneider S2" → "Site Schneider S2"; "… - friche: Zac de la Clochette" → "Zac de la
    Clochette"; a campaign row with no site name becomes "Friche"); names in capitals are
    title-cased; the municipality is added in brackets when the name does not contain it.
    """
    text = " ".join(str(name).split()) if isinstance(name, str) else ""
    for pattern in (_CAMPAIGN_FRICHE, _CAMPAIGN_FONDS_VERT):
        match = pattern.match(text)
        if match:
            text = match.group("name").strip()
            break
    else:
        if _CAMPAIGN_OTHER.match(text):
            text = "Friche"
    text = text.replace("...", "…").strip(" -:")
    text = _title_if_shouting(text) or "Friche"
    place = _title_if_shouting(" ".join(str(municipality).split())) if isinstance(municipality, str) else ""
    if place and fold(place) not in fold(text):
        text = f"{text} ({place})"
    return text[:200]


def unit_vectors(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Return 3-D unit vectors for WGS84 longitude/latitude in degrees."""
    lon, lat = np.radians(np.asarray(longitude, dtype=float)), np.radians(np.asarray(latitude, dtype=float))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def chord(distance_m: float) -> float:
    """Return the unit-sphere chord of a great-circle distance [m]."""
    return 2.0 * np.sin(distance_m / (2.0 * EARTH_RADIUS_M))


def great_circle_m(xyz_a: np.ndarray, xyz_b: np.ndarray) -> np.ndarray:
    """Return great-circle distances [m] between rows of unit vectors."""
    c = np.linalg.norm(xyz_a - xyz_b, axis=-1)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(c / 2.0, 0.0, 1.0))


def still_running(records: pd.DataFrame, operating: pd.DataFrame, *, sites_xyz: np.ndarray | None = None) -> pd.Series:
    """Return, per record, the evidence that its plant still runs ('' when none).

    Only plant and installation records are checked (a brownfield next to a running plant is
    still a brownfield). Evidence, first found wins:

    1. the curated list (``curated_reason`` set by the reader);
    2. an operating unit of any source within :data:`OPERATING_RADIUS_M`, the nearest named;
    3. for plant records, an operating unit of the same plant name (:func:`name_key`) in the
       same country, within :data:`SAME_NAME_MAX_M` (ETS installation names are registry
       labels such as "Kotłownia", boiler house, and are not compared).

    ``operating`` has columns source, name, country, longitude, latitude, status.
    """
    evidence = pd.Series("", index=records.index, dtype=object)
    kinds = records["kind"].to_numpy()
    checked = np.isin(kinds, ["plant", "installation"])
    curated = records["curated_reason"].fillna("").astype(str).to_numpy()
    for i in np.flatnonzero(checked & (curated != "")):
        evidence.iloc[i] = f"Curated list: {curated[i]}"[:300]
    if operating.empty:
        return evidence
    op_xyz = unit_vectors(operating["longitude"].to_numpy(), operating["latitude"].to_numpy())
    tree = cKDTree(op_xyz)
    rec_xyz = unit_vectors(records["longitude"].to_numpy(), records["latitude"].to_numpy())
    todo = np.flatnonzero(checked & (curated == ""))
    dist_chord, nearest = tree.query(rec_xyz[todo], k=1, distance_upper_bound=chord(OPERATING_RADIUS_M))
    op_source = operating["source"].to_numpy()
    op_name = operating["name"].astype(str).to_numpy()
    op_status = operating["status"].astype(str).to_numpy()
    for i, d, j in zip(todo, dist_chord, nearest):
        if np.isfinite(d):
            km = float(great_circle_m(rec_xyz[i], op_xyz[j])) / 1000.0
            evidence.iloc[i] = (
                f"{SOURCE_LABEL.get(op_source[j], op_source[j])}: '{op_name[j]}' {op_status[j]}, {km:.1f} km"[:300]
            )
    by_name: dict[tuple[str, str], list[int]] = {}
    for j, (key, country) in enumerate(zip(operating["name"].map(name_key), operating["country"])):
        if key:
            by_name.setdefault((key, country), []).append(j)
    names = records["name"].map(name_key).to_numpy()
    countries = records["country"].to_numpy()
    for i in todo:
        # ETS names are registry labels ("Ciepłownia", "Kotłownia"), not plant names.
        if evidence.iloc[i] or not names[i] or kinds[i] != "plant":
            continue
        js = by_name.get((names[i], countries[i]))
        if not js:
            continue
        dist = great_circle_m(rec_xyz[i][None, :], op_xyz[js])
        best = int(np.argmin(dist))
        if dist[best] <= SAME_NAME_MAX_M:
            j = js[best]
            evidence.iloc[i] = (
                f"{SOURCE_LABEL.get(op_source[j], op_source[j])}: same name '{op_name[j]}' {op_status[j]}, "
                f"{dist[best] / 1000.0:.1f} km"
            )[:300]
    return evidence


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _activity_match(kind_a: str, use_a: str, kind_b: str, use_b: str) -> bool:
    """Return whether an installation and a brownfield describe the same activity."""
    if (kind_a == "brownfield") == (kind_b == "brownfield"):
        return False  # exactly one of the two is a brownfield
    if use_a in PLANT_USES and use_b in PLANT_USES:
        return True
    return use_a == use_b and use_a not in ("other", "")


def conflate(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, Counter]:
    """Return a place label and a parcel label per record, and merges per source pair.

    Two records are one place when (MODEL.md §1b)
    - they lie within :data:`SAME_POINT_M`; or
    - within :data:`CONFLATION_DISTANCE_M` they share a distinctive name token
      (:func:`name_tokens`), or one is a plant or installation and the other a brownfield whose
      former use matches it (any power plant with any power plant, steel with steel …); or
    - both are plants or installations within :data:`PLANT_CONFLATION_DISTANCE_M` sharing a
      distinctive name token; or
    - both are brownfields whose parcels come within :data:`ADJACENT_PARCEL_GAP_M` of each other
      (adjacent land) and lie within :data:`CONFLATION_DISTANCE_M`, as long as the place stays
      within :data:`MAX_ADJACENT_EXTENT_M` (which also bounds chains of brownfields sharing a
      name token); or
    - both are plants with the same distinctive name (:func:`name_key`) in the same country
      within :data:`SAME_NAME_MAX_M` (the rule of MODEL.md §5 for a plant that still runs); or
    - both are Cartofriches rows with the same BASIAS number.
    Records that are one place by the same point, a shared name or the same BASIAS number are
    also one *parcel* (duplicates of one piece of land: their areas are not added up); adjacent
    brownfields are different parcels of one place. Labels are connected components
    (union-find); they depend only on the records, not on their order.
    """
    n = len(records)
    place = np.arange(n)
    parcel = np.arange(n)
    xyz = unit_vectors(records["longitude"].to_numpy(), records["latitude"].to_numpy())
    tree = cKDTree(xyz)
    tokens = records["name"].map(name_tokens).to_numpy()
    kinds = records["kind"].to_numpy()
    uses = records["former_use"].fillna("").to_numpy()
    sources = records["source"].to_numpy()
    radius = np.sqrt(np.nan_to_num(records["area_ha"].to_numpy(dtype=float), nan=0.0) * 1e4 / np.pi)
    merges: Counter = Counter()

    def union(parent: np.ndarray, i: int, j: int) -> bool:
        ri, rj = _find(parent, i), _find(parent, j)
        if ri == rj:
            return False
        parent[max(ri, rj)] = min(ri, rj)
        return True

    # Bounding box of each place's unit vectors, to stop chains of adjacent plots from
    # growing into a whole town centre (a vacancy survey lists every address of a street).
    lo, hi = xyz.copy(), xyz.copy()

    def extent_ok(i: int, j: int) -> bool:
        ri, rj = _find(place, i), _find(place, j)
        span = np.maximum(hi[ri], hi[rj]) - np.minimum(lo[ri], lo[rj])
        return float(np.linalg.norm(span)) <= chord(MAX_ADJACENT_EXTENT_M)

    def merge(i: int, j: int, same_parcel: bool) -> None:
        ri, rj = _find(place, i), _find(place, j)
        if ri != rj:
            root = min(ri, rj)
            lo[root], hi[root] = np.minimum(lo[ri], lo[rj]), np.maximum(hi[ri], hi[rj])
        if union(place, i, j):
            merges[" + ".join(sorted((sources[i], sources[j])))] += 1
        if same_parcel:
            union(parcel, i, j)

    pairs = tree.query_pairs(chord(PLANT_CONFLATION_DISTANCE_M), output_type="ndarray")
    if len(pairs):
        d = great_circle_m(xyz[pairs[:, 0]], xyz[pairs[:, 1]])
        order = np.lexsort((pairs[:, 1], pairs[:, 0], d))  # nearest pairs first: deterministic
        for k in order:
            i, j = int(pairs[k, 0]), int(pairs[k, 1])
            dist = d[k]
            shared = bool(tokens[i] & tokens[j])
            brown_i, brown_j = kinds[i] == "brownfield", kinds[j] == "brownfield"
            if (
                dist <= SAME_POINT_M
                or (not brown_i and not brown_j and shared)
                or (dist <= CONFLATION_DISTANCE_M and shared and (not (brown_i and brown_j) or extent_ok(i, j)))
            ):
                merge(i, j, True)
            elif dist <= CONFLATION_DISTANCE_M and _activity_match(kinds[i], uses[i], kinds[j], uses[j]):
                merge(i, j, False)
            elif (
                brown_i
                and brown_j
                and dist <= CONFLATION_DISTANCE_M
                and dist - radius[i] - radius[j] <= ADJACENT_PARCEL_GAP_M
                and extent_ok(i, j)
            ):
                merge(i, j, False)
    # The same plant under one name in one country, placed kilometres apart by two sources
    # (powerplantmatching rounds to 0.01°, GEM places a unit, a tracker the town): the rule
    # MODEL.md §5 applies to tell that a plant still runs makes it one place here too.
    keys = records["name"].map(name_key).to_numpy()
    countries = records["country"].to_numpy()
    by_name: dict[tuple[str, str], list[int]] = {}
    for i in np.flatnonzero(kinds == "plant"):  # type: ignore[assignment]
        if keys[i]:
            by_name.setdefault((keys[i], countries[i]), []).append(int(i))
    for members in by_name.values():
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if float(great_circle_m(xyz[i], xyz[j])) <= SAME_NAME_MAX_M:
                    merge(i, j, True)
    basias = records["basias_id"].fillna("").astype(str).to_numpy() if "basias_id" in records else np.full(n, "")
    first: dict[str, int] = {}
    for i, b in enumerate(basias):
        if b:
            if b in first:
                merge(first[b], i, True)
            else:
                first[b] = i
    places = np.array([_find(place, i) for i in range(n)])
    parcels = np.array([_find(parcel, i) for i in range(n)])
    return places, parcels, merges


def _is_set(value: object) -> bool:
    if value is None or value == "":
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _first(group: list[dict], precedence: tuple[str, ...], column: str) -> object:
    """Return ``column`` of the first record, by source precedence, where it is set."""
    for source in precedence:
        for rec in group:
            if rec["source"] == source and _is_set(rec[column]):
                return rec[column]
    return None


def _first_of(group: list[dict], precedence: tuple[str, ...]) -> dict:
    """Return the first record of ``group`` by source precedence (``group`` is in id order)."""
    rank = {s: i for i, s in enumerate(precedence)}
    return min(group, key=lambda r: rank.get(r["source"], len(rank)))


POLLUTION_RANK = {"confirmed": 0, "suspected": 1, "remediated": 2, "unknown": 3, "none": 4}
"""Pollution across duplicate brownfield rows: the worst statement wins."""


def sites_from_groups(
    records: pd.DataFrame, groups: np.ndarray, parcels: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Return one site per group (Site fields) and, per record, the external id of its site.

    Precedence (MODEL.md §1b): identifier by :data:`SOURCE_ORDER`; name by
    :data:`NAME_PRECEDENCE` (made readable, the original kept); position by
    :data:`COORDINATE_PRECEDENCE`; area (the sum over the place's parcels of each parcel's
    largest record: duplicates are not added up, adjacent plots are), pollution (the worst), zoning, buildings,
    project and reconversion from the brownfield records (the largest parcel first); former
    capacity by :data:`CONNECTION_PRECEDENCE` and voltage from powerplantmatching; closure year
    the latest of all records; former use by :data:`USE_PRECEDENCE`. A place with a plant or
    installation record that still runs is marked ``still_operating`` with the evidence and
    keeps no connection (it is not free).
    """
    rank = {s: i for i, s in enumerate(SOURCE_ORDER)}
    members: dict[int, list[dict]] = {}
    parcels = groups if parcels is None else parcels
    columns = [c for c in records.columns if c != "raw"]  # the raw fields are not site fields
    for rec, g, pc in zip(records[columns].to_dict("records"), groups, parcels):
        rec["_parcel"] = int(pc)
        members.setdefault(int(g), []).append(rec)
    site_rows = []
    site_of_record: dict[tuple[str, str], str] = {}
    for group in members.values():
        group.sort(key=lambda r: (rank[r["source"]], -(r["area_ha"] if _is_set(r["area_ha"]) else 0.0), r["record_id"]))
        anchor = group[0]
        external_id = f"{ID_PREFIX[anchor['source']]}:{anchor['record_id']}"
        for rec in group:
            site_of_record[(rec["source"], rec["record_id"])] = external_id
        brown = [r for r in group if r["kind"] == "brownfield"]
        brown.sort(key=lambda r: (-(r["area_ha"] if _is_set(r["area_ha"]) else 0.0), r["record_id"]))
        plants = [r for r in group if r["kind"] != "brownfield"]
        named = _first_of(group, NAME_PRECEDENCE)
        pos = _first_of(group, COORDINATE_PRECEDENCE)
        use = _first_of(group, USE_PRECEDENCE)
        municipality = brown[0]["municipality"] if brown else ""
        evidence = next((r["operating_evidence"] for r in plants if r["operating_evidence"]), "")
        closures = [r["closure_year"] for r in group if _is_set(r["closure_year"])]
        capacity = _first(plants, CONNECTION_PRECEDENCE, "capacity_mw")
        voltage = _first(plants, ("powerplantmatching",), "grid_voltage_kv")
        parcel_area: dict[int, float] = {}
        area_estimated = False
        for r in brown:
            if _is_set(r["area_ha"]):
                parcel_area[r["_parcel"]] = max(parcel_area.get(r["_parcel"], 0.0), float(r["area_ha"]))
                area_estimated |= bool(r.get("area_estimated", False))
        site_rows.append(
            {
                "external_id": external_id,
                "name": readable_name(named["name"], municipality if named["kind"] == "brownfield" else ""),
                "original_name": str(named["name"] or "")[:300],
                "country": pos["country"],
                "region_code": brown[0]["region_code"] if brown else "",
                "departement_code": brown[0]["departement_code"] if brown else "",
                "municipality": str(municipality or "")[:100],
                "longitude": float(pos["longitude"]),
                "latitude": float(pos["latitude"]),
                "area_ha": sum(parcel_area.values()) if parcel_area else np.nan,
                "area_estimated": bool(parcel_area) and area_estimated,
                "former_use": use["former_use"],
                "former_activity": str(use["former_activity"] or "")[:200],
                "closure_year": max(closures) if closures else np.nan,
                "grid_capacity_mw": np.nan if evidence or capacity is None else capacity,
                "grid_voltage_kv": np.nan if evidence or voltage is None else voltage,
                # Every status is a PollutionStatus value, hence a POLLUTION_RANK key (importers reject others),
                # so .get never returns None here; mypy cannot see that.
                "pollution_status": min((r["pollution_status"] for r in brown), key=POLLUTION_RANK.get)  # type: ignore[arg-type]
                if brown
                else "unknown",
                "reconverted": bool(brown[0]["reconverted"]) if brown else False,
                "zoning_type": next((r["zoning_type"] for r in brown if r["zoning_type"]), ""),
                "buildings_state": next((r["buildings_state"] for r in brown if r["buildings_state"]), ""),
                "has_project": any(bool(r["has_project"]) for r in brown),
                "still_operating": bool(evidence),
                "operating_evidence": evidence,
                "source_status": str(anchor["status"] or "")[:64],
                "source": anchor["source"],
                "source_url": str(anchor["url"] or "")[:300],
                "source_date": anchor["source_date"] if _is_set(anchor["source_date"]) else None,
                "source_vintage": str(anchor["vintage"])[:64],
            }
        )
    keys = pd.Series(
        [site_of_record[(s, r)] for s, r in zip(records["source"], records["record_id"])], index=records.index
    )
    return pd.DataFrame(site_rows), keys
