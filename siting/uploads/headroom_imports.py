"""Known headroom at grid connection points, uploaded by analysts: read → match → write, withdraw.

Grid operators and regions hold what the model lacks most: the withdrawal headroom a
substation really has. A file (CSV, XLSX or ODS; read in the same bounded child process as the
site uploads) gives one value per row for an existing point, named by its id
(``GridConnectionPoint.external_id``) or placed by a position matched to the nearest point
within a distance the analyst states. All or nothing: one bad row and nothing is written.

Written values become the points' ``headroom_mw``, the known value the scoring engine puts
before the network estimate and the class default (MODEL.md §2, headroom precedence); results
then show the headroom as known. Each value keeps its provenance (upload, row, date, source)
and the value it replaced, so withdrawing the upload puts the points back as they were.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy.spatial import cKDTree

from grid.models import GridConnectionPoint, HeadroomUpload, KnownHeadroom
from siting import accounts
from siting.importers import sites as site_importer
from siting.importers.countries import fold, name_variants
from siting.importers.sites import RowError, SheetChoiceNeeded, UploadLimits, UploadRejected

MAX_HEADROOM_MW = 20_000.0
"""Largest plausible headroom at one point [MW]: above the largest European 400 kV substations'
transformer capacity; beyond is a unit mistake."""
EARTH_RADIUS_KM = 6_371.0088
"""Mean Earth radius (IUGG). [km]"""

COLUMNS: dict[str, tuple[str, ...]] = {
    "point_id": (
        "point_id",
        "external_id",
        "id",
        "point",
        "substation_id",
        "code_poste",
        "poste",
        "identifiant",
        "Umspannwerk",
        "Netzknoten",
        "subestación",
        "sottostazione",
        "onderstation",
        "stacja",
        "stacja_id",
    ),
    "longitude": ("longitude", "lon", "lng", "x", "Längengrad", "longitud", "longitudine", "lengtegraad", "długość"),
    "latitude": ("latitude", "lat", "y", "Breitengrad", "latitud", "latitudine", "breedtegraad", "szerokość"),
    "headroom_mw": (
        "headroom",
        "available_capacity",
        "capacité d'accueil",
        "capacité disponible",
        "capacite_accueil",
        "freie Kapazität",
        "verfügbare Leistung",
        "Anschlusskapazität",
        "capacidad disponible",
        "capacidad de acceso",
        "capacità disponibile",
        "beschikbare capaciteit",
        "transportcapaciteit",
        "wolna moc",
        "dostępna moc",
    ),
    "as_of": ("as_of", "date", "date_valeur", "Stand", "Datum", "fecha", "data", "peildatum"),
    "source": ("source", "Quelle", "fuente", "fonte", "bron", "źródło"),
}
"""Column names, in the upload languages; headroom takes a unit suffix (``_mw``, ``_kw``, ``_gw``; MW
without one)."""
UNITS = (("mw", 1.0), ("kw", 1e-3), ("gw", 1e3))


def _index() -> dict[str, tuple[str, float]]:
    index: dict[str, tuple[str, float]] = {}
    for name, synonyms in COLUMNS.items():
        index[name] = (name, 1.0)
        for key in {v for s in synonyms for v in name_variants(s)}:
            index.setdefault(key, (name, 1.0))
            if name == "headroom_mw":
                for unit, factor in UNITS:
                    index.setdefault(f"{key}_{unit}", (name, factor))
    return index


COLUMN_INDEX = _index()


@dataclass
class HeadroomPlan:
    """What a file would write: one row per value, with its point."""

    values: (
        pd.DataFrame
    )  # row, point_id (pk), point_external_id, point_name, headroom_mw, as_of, source, matched_by, distance_km
    errors: list[RowError]
    rows_read: int
    notes: list[str] = field(default_factory=list)


def _points() -> pd.DataFrame:
    rows = list(
        GridConnectionPoint.objects.values_list("id", "external_id", "name", "longitude", "latitude", "headroom_mw")
    )
    return pd.DataFrame(rows, columns=["id", "external_id", "name", "longitude", "latitude", "headroom_mw"])


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _header_score(cells) -> int:
    return sum(1 for c in cells if isinstance(c, str) and fold(c) in COLUMN_INDEX)


def _headroom_header(frame: pd.DataFrame, notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Return a sheet's rows under the row that names the most headroom columns, and the notes told so.

    The spreadsheet reader places the header by the site template's names; a grid operator's
    sheet (``code_poste``, ``capacité d'accueil (MW)`` under a title) names none of them, so
    its header is looked for again here among the first rows the reader left, by this
    module's names. Index: the sheet's row numbers, as the reader gives them.
    """
    best, best_score = -1, _header_score(frame.columns)
    for i in range(min(site_importer.HEADER_SCAN_ROWS, len(frame))):
        score = _header_score(frame.iloc[i].tolist())
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        return frame, notes
    header_row = int(frame.index[best])
    cells = frame.iloc[best].astype(object)
    seen: dict[str, int] = {}
    columns = []
    for j, (v, blank) in enumerate(zip(cells.tolist(), site_importer._blank(cells))):
        h = "" if blank else str(v).strip()
        h = h or _("column %(n)d") % {"n": j + 1}
        seen[h] = seen.get(h, 0) + 1
        columns.append(h if seen[h] == 1 else f"{h} ({seen[h]})")  # as the reader names a repeated header
    body = frame.iloc[best + 1 :].copy()
    body.columns = columns
    # The reader's first note ends with the header's row number: say the right one.
    told = (
        [
            n
            for n in notes
            if n
            != _("Rows 1 to %(last)d above the header were skipped (a title block).")
            % {"last": _last_number(notes[0]) - 1}
        ]
        if notes
        else []
    )
    if told:
        told[0] = re.sub(r"\d+(?=\D*$)", str(header_row), told[0])
    told.insert(1, _("Rows 1 to %(last)d above the header were skipped (a title block).") % {"last": header_row - 1})
    return body, told


def _last_number(text: str) -> int:
    found = re.findall(r"\d+", text)
    return int(found[-1]) if found else 0


def headroom_plan(
    *,
    data: bytes,
    file_name: str,
    match_distance_km: float = 0.0,
    sheet: str | None = None,
    limits: UploadLimits | None = None,
    current_year: int | None = None,
) -> HeadroomPlan:
    """Read a file of known headroom and match every row to a grid point; write nothing.

    Parameters
    ----------
    match_distance_km : float
        Rows without a point id are matched to the nearest point within this distance of their
        position (WGS84 longitude/latitude, degrees). [km]

    Raises
    ------
    UploadRejected
        The file cannot be used at all (format, columns, size).
    """
    limits = limits or UploadLimits()
    current_year = current_year or date.today().year
    if not data:
        raise UploadRejected(_("The file is empty."))
    if len(data) > limits.max_bytes:
        raise UploadRejected(_("The file is larger than %(max).0f MB.") % {"max": limits.max_bytes / 1e6})
    fmt = site_importer._format_of(file_name, data)
    if fmt not in site_importer.TABLES:
        raise UploadRejected(_("Known headroom comes as CSV, XLSX or ODS."))
    if not (0.0 <= match_distance_km <= 50.0):
        raise UploadRejected(_("The matching distance is between 0 and 50 km."))
    try:
        frame, _crs, notes, inner = site_importer.read_upload_bounded(data, file_name, fmt, limits, None, sheet)
    except SheetChoiceNeeded as exc:  # the reader asks for "the one with the sites"
        shown_name = file_name.replace("\\", "/").rsplit("/", 1)[-1][:100]
        raise SheetChoiceNeeded(
            _("“%(file)s” holds %(n)d sheets (%(names)s): choose the one with the headroom.")
            % {"file": shown_name, "n": len(exc.sheets), "names": ", ".join(exc.sheets[:50])},
            exc.sheets,
        ) from exc
    if inner in site_importer.SPREADSHEETS:
        frame, notes = _headroom_header(frame, notes)
    rows = frame.index.to_numpy(dtype=np.int64) if inner in site_importer.SPREADSHEETS else np.arange(len(frame)) + 2
    frame = frame.reset_index(drop=True)
    mapping: dict[str, tuple[str, float]] = {}
    for col in frame.columns:
        hit = COLUMN_INDEX.get(fold(col))
        if hit is None:
            continue
        if hit[0] in mapping:
            raise UploadRejected(
                _("Columns “%(a)s” and “%(b)s” both give the %(field)s: keep one.")
                % {"a": mapping[hit[0]][0], "b": col, "field": hit[0]}
            )
        mapping[hit[0]] = (str(col), hit[1])
    if "headroom_mw" not in mapping:
        raise UploadRejected(
            _("No headroom column: name it headroom_mw (or headroom_kw), or one of the names on the template page.")
        )
    has_position = "longitude" in mapping and "latitude" in mapping
    if "point_id" not in mapping and not has_position:
        raise UploadRejected(_("Give each row a point id, or longitude and latitude to match the nearest point."))
    errors = site_importer._Errors(rows)
    n = len(frame)
    col, factor = mapping["headroom_mw"]
    value, bad = site_importer.parse_numbers(frame[col])
    value = value * factor
    shown = site_importer._texts(frame[col])
    errors.flag(bad, "headroom_mw", shown, _("not a number"))
    errors.flag(~bad & np.isnan(value), "headroom_mw", shown, _("missing (required)"))
    errors.flag(value < 0, "headroom_mw", shown, _("must be 0 or more"))
    errors.flag(
        value > MAX_HEADROOM_MW,
        "headroom_mw",
        shown,
        _("larger than %(max)s MW: check the unit") % {"max": f"{MAX_HEADROOM_MW:,.0f}"},
    )

    points = _points()
    point_pos = np.full(n, -1, dtype=np.int64)
    matched_by = np.full(n, "", dtype=object)
    distance_km = np.full(n, np.nan)
    ids = site_importer._texts(frame[mapping["point_id"][0]]) if "point_id" in mapping else np.full(n, "", dtype=object)
    by_id = {str(e): i for i, e in enumerate(points["external_id"])}
    for i in np.flatnonzero(ids != ""):
        if ids[i] in by_id:
            point_pos[i], matched_by[i] = by_id[ids[i]], "id"
        else:
            errors.items.append(RowError(int(rows[i]), "point_id", ids[i][:100], _("no grid point has this id")))
    need_position = ids == ""
    if need_position.any():
        if not has_position:
            errors.flag(need_position, "point_id", ids, _("missing (required without a position)"))
        elif match_distance_km <= 0:
            raise UploadRejected(
                _("Rows without a point id are matched by position: state the matching distance (km).")
            )
        else:
            lon, bad_lon = site_importer.parse_numbers(frame[mapping["longitude"][0]])
            lat, bad_lat = site_importer.parse_numbers(frame[mapping["latitude"][0]])
            ok = need_position & np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
            errors.flag(
                need_position & ~ok,
                "longitude",
                site_importer._texts(frame[mapping["longitude"][0]]),
                _("no point id, and no valid WGS84 position"),
            )
            if ok.any() and len(points):
                tree = cKDTree(_unit(points["longitude"].to_numpy(float), points["latitude"].to_numpy(float)))
                chord, nearest = tree.query(_unit(lon[ok], lat[ok]))
                dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2, 1.0))
                where = np.flatnonzero(ok)
                for i, d, j in zip(where, dist, nearest):
                    if d <= match_distance_km:
                        point_pos[i], matched_by[i], distance_km[i] = j, "position", d
                    else:
                        errors.items.append(
                            RowError(
                                int(rows[i]),
                                "longitude",
                                f"{lon[i]:.5f}, {lat[i]:.5f}",
                                _("no grid point within %(max)s km (the nearest, %(name)s, is %(d).1f km away)")
                                % {
                                    "max": f"{match_distance_km:g}",
                                    "name": points["name"][j] or points["external_id"][j],
                                    "d": d,
                                },
                            )
                        )
            elif ok.any():
                errors.flag(ok, "longitude", np.full(n, ""), _("no grid points are loaded to match"))
    # One value per point and file.
    seen: dict[int, int] = {}
    for i in np.flatnonzero(point_pos >= 0):
        if point_pos[i] in seen:
            errors.items.append(
                RowError(
                    int(rows[i]),
                    "point_id",
                    str(points["external_id"][point_pos[i]])[:100],
                    _("this point also gets a value on row %(row)d") % {"row": seen[point_pos[i]]},
                )
            )
        else:
            seen[point_pos[i]] = int(rows[i])
    as_of = np.full(n, None, dtype=object)
    if "as_of" in mapping:
        as_of, bad_date = site_importer._parse_date(frame[mapping["as_of"][0]])
        errors.flag(
            bad_date,
            "as_of",
            site_importer._texts(frame[mapping["as_of"][0]]),
            _("not a date (YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY)"),
        )
        late = np.asarray([d is not None and d > date(current_year, 12, 31) for d in as_of])
        errors.flag(late, "as_of", as_of, _("in the future"))
    sources = site_importer._texts(frame[mapping["source"][0]]) if "source" in mapping else np.full(n, "", dtype=object)
    errors.items.sort(key=lambda e: (e.row, e.field))
    ok_rows = point_pos >= 0
    values = pd.DataFrame(
        {
            "row": rows,
            "point_id": np.where(ok_rows, points["id"].to_numpy()[np.maximum(point_pos, 0)] if len(points) else -1, -1),
            "point_external_id": [points["external_id"][p] if p >= 0 else "" for p in point_pos],
            "point_name": [points["name"][p] if p >= 0 else "" for p in point_pos],
            "headroom_mw": value,
            "as_of": as_of,
            "source": [s[:200] for s in sources],
            "matched_by": matched_by,
            "distance_km": distance_km,
        }
    )
    return HeadroomPlan(values=values, errors=errors.items, rows_read=n, notes=notes)


def plan_digest(plan: HeadroomPlan) -> str:
    """Return a fingerprint of what a plan writes (row, point, value, date, source), to tell a
    preview from a later reading of the same file against grid points that changed since."""
    h = hashlib.sha256()
    for r in plan.values.itertuples(index=False):
        h.update(f"{r.row}\t{r.point_id}\t{float(r.headroom_mw)!r}\t{r.as_of}\t{r.source}\n".encode())
    return h.hexdigest()


@dataclass
class HeadroomImport:
    plan: HeadroomPlan
    upload: HeadroomUpload | None


def headroom_import(
    *,
    data: bytes,
    file_name: str,
    source_name: str,
    user=None,
    match_distance_km: float = 0.0,
    sheet: str | None = None,
    dry_run: bool = False,
    limits: UploadLimits | None = None,
    code: UUID | None = None,
    expected_digest: str | None = None,
) -> HeadroomImport:
    """Check a file of known headroom and, unless ``dry_run``, write every value or none.

    ``code`` names the new upload (the web pages pass their preview's, so that confirming one
    preview twice cannot import it twice: the second one breaks the unique code and writes
    nothing). With ``expected_digest`` (a previewed plan's :func:`plan_digest`), a file that
    now reads differently, because grid points changed since the preview, is refused.

    Raises :class:`UploadRejected` (``exc.plan`` holds the plan when rows were rejected).
    """
    if not source_name.strip():
        raise UploadRejected(_("Say whose figures these are (the source)."))
    plan = headroom_plan(
        data=data, file_name=file_name, match_distance_km=match_distance_km, sheet=sheet, limits=limits
    )
    if plan.errors:
        exc = UploadRejected(
            _("%(n)d row(s) rejected, so nothing was imported: fix them and upload the file again.")
            % {"n": len({e.row for e in plan.errors})}
        )
        exc.plan = plan  # type: ignore[attr-defined]
        raise exc
    if plan.rows_read == 0:
        raise UploadRejected(_("The file has no rows."))
    if expected_digest is not None and plan_digest(plan) != expected_digest:
        raise UploadRejected(
            _("The grid points changed since the preview, so nothing was imported: upload the file again.")
        )
    if dry_run:
        return HeadroomImport(plan=plan, upload=None)
    with transaction.atomic():
        upload = HeadroomUpload.objects.create(
            file_name=file_name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            source_name=source_name[:100],
            match_distance_km=match_distance_km,
            rows_read=plan.rows_read,
            notes=plan.notes,
            uploaded_by=user if user is not None and user.is_authenticated else None,
            **({"code": code} if code is not None else {}),
        )
        points = GridConnectionPoint.objects.select_for_update().in_bulk([int(p) for p in plan.values["point_id"]])
        if len(points) < len(plan.values):
            # A point deleted between reading and writing (a grid reload): nothing is written.
            raise UploadRejected(
                _("The grid points changed while the file was read, so nothing was imported: upload the file again.")
            )
        known, changed = [], []
        for r in plan.values.itertuples(index=False):
            point = points[int(r.point_id)]
            known.append(
                KnownHeadroom(
                    upload=upload,
                    point=point,
                    row=int(r.row),
                    headroom_mw=float(r.headroom_mw),
                    as_of=r.as_of,
                    source=r.source,
                    matched_by=r.matched_by,
                    distance_km=None if not np.isfinite(r.distance_km) else float(r.distance_km),
                    previous_headroom_mw=point.headroom_mw,
                )
            )
            point.headroom_mw = float(r.headroom_mw)
            changed.append(point)
        KnownHeadroom.objects.bulk_create(known)
        GridConnectionPoint.objects.bulk_update(changed, ["headroom_mw"], batch_size=500)
    return HeadroomImport(plan=plan, upload=upload)


@transaction.atomic
def headroom_upload_withdraw(*, upload: HeadroomUpload, user) -> int | None:
    """Withdraw an upload of known headroom: its points get their previous values back.

    A point keeps a value set since (by a later upload) rather than go back. Returns how many
    points went back, or None if the upload was already withdrawn. ``user`` None is the
    command line; otherwise the uploader or an admin (``siting.accounts``).
    """

    accounts.require_manage(user, upload.uploaded_by_id)
    claimed = HeadroomUpload.objects.filter(id=upload.id, status=HeadroomUpload.Status.IMPORTED).update(
        status=HeadroomUpload.Status.WITHDRAWN,
        withdrawn_at=timezone.now(),
        withdrawn_by=user if user is not None and user.is_authenticated else None,
    )
    if claimed != 1:
        return None
    restored = 0
    for value in KnownHeadroom.objects.select_related("point").filter(upload=upload):
        if value.point.headroom_mw == value.headroom_mw:
            GridConnectionPoint.objects.filter(id=value.point_id).update(headroom_mw=value.previous_headroom_mw)
            restored += 1
    upload.refresh_from_db()
    return restored
