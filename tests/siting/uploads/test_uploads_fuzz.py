"""Fuzzing the importer through the service: whatever the CSV, GeoJSON, XLSX or ODS, never a
server error (only ``UploadRejected`` or a result) and never a partial save."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from siting.importers.sites import UploadRejected
from siting.models import Site, SiteUpload
from siting.uploads import services as uploads
from tests.support.uploads import boundaries  # noqa: F401

pytestmark = pytest.mark.django_db

HEADERS = [
    "id",
    "external_id",
    "name",
    "nom",
    "lat",
    "latitude",
    "lon",
    "x",
    "y",
    "area_ha",
    "surface",
    "surface_m2",
    "grid_voltage_kv",
    "closure_year",
    "country",
    "wkt",
    "pollution",
    "flood_zone",
    "source_date",
    "source_url",
    "junk",
    # the upload languages' names (some of them give a field twice: refused with a message)
    "Pays",
    "Kraj",
    "Stilllegungsjahr",
    "Date de fermeture",
    "zoning",
    "Fläche (m²)",
    "Puissance (kW)",
    "Spannung (kV)",
    "Altlasten",
    "Bezeichnung",
    "Nr.",
]
SAFE_HEADERS = [
    "area_ha",
    "grid_voltage_kv",
    "closure_year",
    "country",
    "pollution",
    "flood_zone",
    "source_date",
    "source_url",
    "junk",
    "zoning",
    "Puissance (kW)",
]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "49.28",
            "6.06",
            "49,28",
            "6,06",
            "-1.88",
            "47.27",
            "FR",
            "DE",
            "225",
            "401",
            "2008",
            "1492",
            "abc",
            "POINT (6.06 49.28)",
            "POLYGON ((6 49, 6.1 49, 6.1 49.1, 6 49))",
            "POINT (nan nan)",
            "1e309",
            "oui",
            "2024-03-01",
            "https://example.org",
            "javascript:x",
            '"',
            "é",
            "-0",
            "NaN",
            "inf",
            "FRANCE",
            "Deutschland",
            "FRA",
            "Polska",
            "Ελλάδα",
            "30.06.2019",
            "U",
            "agricole",
            "Verdacht",
            "6.000.000",
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _check(data: bytes, name: str, only_valid: bool, on_duplicate: str, sheet: str | None = None) -> None:
    sites, n_uploads = Site.objects.count(), SiteUpload.objects.count()
    try:
        result = uploads.sites_import(
            data=data, file_name=name, source_name="Fuzz", only_valid=only_valid, on_duplicate=on_duplicate, sheet=sheet
        )
    except UploadRejected as exc:
        event("rejected")
        assert str(exc)
        assert (Site.objects.count(), SiteUpload.objects.count()) == (sites, n_uploads)
        return
    event("saved" if result.created + result.updated else "saved nothing new")
    # Saved: exactly the upload row and the sites it says it created, no more, no fewer.
    assert SiteUpload.objects.count() == n_uploads + 1
    assert Site.objects.count() == sites + result.created
    assert Site.objects.filter(upload=result.upload).count() == result.created + result.updated
    assert (
        result.created + result.updated + result.skipped + result.merged + result.plan.rows_rejected
        == result.parsed.rows_read
    )
    if not only_valid:
        assert result.errors == []


# Mostly plausible values, so that many examples are saved (or partly saved) and checked too.
def _mostly(good: list[str]):
    return st.sampled_from(good + good + good + [None]).flatmap(lambda v: st.just(v) if v is not None else CELLS)


IDS = _mostly(["A", "B", "C", "D", "E"])
NAMES = _mostly(["Site", "Aciérie", "Centrale"])
LATS = _mostly(["49.28", "47,27", "52.16", "48.85"])
LONS = _mostly(["6.06", "-1,88", "14.62", "2.35"])
BASE = {"id": IDS, "name": NAMES, "lat": LATS, "lon": LONS}


@st.composite
def csv_files(draw) -> bytes:
    base = (
        list(BASE) if draw(st.integers(0, 3)) else draw(st.lists(st.sampled_from(list(BASE)), unique=True, max_size=4))
    )
    pool = SAFE_HEADERS if draw(st.integers(0, 3)) else HEADERS  # rarely, columns that refuse the file
    extra = draw(st.lists(st.sampled_from(pool), max_size=4, unique=True))
    header = base + [h for h in extra if h not in base]
    if not header:
        header = ["junk"]
    rows = draw(st.lists(st.tuples(*[BASE.get(h, CELLS) for h in header]).map(list), min_size=1, max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(sep.join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]))
    return text.encode(encoding, errors="replace")


@st.composite
def workbook_files(draw) -> tuple[bytes, str | None]:
    """An XLSX of the same cells as the CSV files, some as numbers or dates, sometimes under a title
    block, sometimes after a notes sheet; returns the bytes and the sheet to ask for (or None)."""
    import openpyxl

    text = draw(csv_files()).decode("utf-8", errors="replace")
    lines = [line.split(",") for line in text.replace(";", ",").replace("\t", ",").split("\n")]
    book = openpyxl.Workbook()
    sheet_name = None
    if draw(st.booleans()):
        book.active.title = "Notes"
        book.active.append(["Read me"])
        sheet = book.create_sheet("Sites")
        sheet_name = draw(st.sampled_from(["Sites", "Notes", "Missing", None]))
    else:
        sheet = book.active
    for _i in range(draw(st.integers(0, 3))):
        sheet.append([draw(st.sampled_from(["Title", "", None, "id"]))])
    for line in lines:
        cells = []
        for cell in line:
            kind = draw(st.integers(0, 5))
            try:
                value = float(cell.replace(",", ".")) if kind == 0 else cell
            except ValueError:
                value = cell
            if kind == 1 and cell.isdigit() and 1900 < int(cell) < 2100:
                value = datetime.date(int(cell), 6, 30)
            # openpyxl refuses control characters and NaN/inf in cells: a spreadsheet cannot hold them.
            if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
                value = cell
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch >= " " or ch in "\t")
            cells.append(value)
        sheet.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    if draw(st.integers(0, 5)) == 0:
        # Cut short at a share of its length: the length itself varies with the clock (the
        # workbook stamps its save time), which the draws must not depend on.
        data = data[: int(len(data) * draw(st.floats(0, 1)))]
    return data, sheet_name


COORD = st.one_of(
    st.floats(-200, 200), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([6.06, 49.28, -1.88, 47.27])
)
GEOMETRIES = st.one_of(
    st.none(),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, COORD, COORD),
    st.builds(
        lambda x, y: {"type": "Point", "coordinates": [6.0 + x % 1, 47.0 + y % 3]}, st.floats(0, 1), st.floats(0, 3)
    ),
    st.builds(
        lambda pts: {"type": "Polygon", "coordinates": [pts + pts[:1]]},
        st.lists(st.tuples(st.floats(5.5, 6.5), st.floats(48.5, 49.5)).map(list), min_size=3, max_size=6),
    ),
    st.builds(
        lambda pts: {"type": "LineString", "coordinates": pts},
        st.lists(st.tuples(COORD, COORD).map(list), min_size=2, max_size=3),
    ),
    st.just({"type": "GeometryCollection", "geometries": []}),
    st.just({"type": "Polygon", "coordinates": []}),
)
PROPERTIES = st.builds(
    lambda base, extra: {**extra, **base},
    st.one_of(
        st.fixed_dictionaries({"external_id": IDS, "name": NAMES}),
        st.fixed_dictionaries({}, optional={"external_id": IDS, "name": NAMES}),
    ),
    st.dictionaries(
        st.sampled_from(HEADERS), st.one_of(CELLS, st.integers(), st.floats(), st.none(), st.booleans()), max_size=4
    ),
)


FRENCH_POINTS = st.builds(
    lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(2.0, 6.0), st.floats(46.0, 49.0)
)


@st.composite
def geojson_files(draw) -> bytes:
    # Half the files hold only plausible points (most of them saved), half anything at all.
    geometries = FRENCH_POINTS if draw(st.booleans()) else GEOMETRIES
    features = draw(
        st.lists(
            st.builds(lambda g, p: {"type": "Feature", "geometry": g, "properties": p}, geometries, PROPERTIES),
            max_size=6,
        )
    )
    text = json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=True)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut short, anywhere
    return text.encode()


class FuzzTests:
    @FUZZ
    @given(data=csv_files(), only_valid=st.booleans(), on_duplicate=st.sampled_from(["error", "update", "skip"]))
    def test_it_never_fails_or_saves_partly_on_csv(self, boundaries, data, only_valid, on_duplicate):
        _check(data, "fuzz.csv", only_valid, on_duplicate)

    @FUZZ
    @given(data=geojson_files(), only_valid=st.booleans(), on_duplicate=st.sampled_from(["error", "update", "skip"]))
    def test_it_never_fails_or_saves_partly_on_geojson(self, boundaries, data, only_valid, on_duplicate):
        _check(data, "fuzz.geojson", only_valid, on_duplicate)

    @FUZZ
    @given(
        workbook=workbook_files(), only_valid=st.booleans(), on_duplicate=st.sampled_from(["error", "update", "skip"])
    )
    def test_it_never_fails_or_saves_partly_on_xlsx(self, boundaries, workbook, only_valid, on_duplicate):
        data, sheet = workbook
        _check(data, "fuzz.xlsx", only_valid, on_duplicate, sheet)

    @FUZZ
    @given(
        data=st.binary(max_size=300), name=st.sampled_from(["f.csv", "f.geojson", "f.gpkg", "f.zip", "f.xlsx", "f.ods"])
    )
    def test_it_never_fails_on_arbitrary_bytes(self, boundaries, data, name):
        _check(data, name, True, "error")
