"""Fuzzing the known-headroom upload page: whatever the CSV or XLSX and the form fields, never a
server error, nothing saved by a preview, and a confirmation saves every value or none;
withdrawing it puts every point back as it was."""

from __future__ import annotations

import io
import math

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import event, given
from hypothesis import strategies as st

from grid.models import GridConnectionPoint, HeadroomUpload, KnownHeadroom
from tests.siting.uploads.test_uploads_fuzz import CELLS, FUZZ
from tests.support.uploads import user

pytestmark = pytest.mark.django_db

# Three points; B already has a known value (80 MW) that a withdrawal must give back.
POINTS = {"test:A": (2.0, 48.1, None), "test:B": (3.0, 47.0, 80.0), "test:C": (6.0, 49.0, None)}
HEADERS = [
    "point_id",
    "code_poste",
    "longitude",
    "latitude",
    "lon",
    "lat",
    "headroom_mw",
    "headroom_kw",
    "capacité d'accueil (MW)",
    "freie Kapazität",
    "headroom",
    "date",
    "Stand",
    "source",
    "Quelle",
    "junk",
]


def _mostly(good: list[str]):
    return st.sampled_from(good + good + good + [None]).flatmap(lambda v: st.just(v) if v is not None else CELLS)


COLUMN_VALUES = {
    "id": _mostly(["test:A", "test:B", "test:C", "", "test:Z"]),
    "lon": _mostly(["2.001", "3.0", "6,002", "2.0", "-1.88"]),
    "lat": _mostly(["48.1", "47.001", "49,0", "48.2"]),
    "mw": _mostly(["300", "0", "12,5", "1 200", "-5", "25000", "4.2e2"]),
    "date": _mostly(["2025-09-30", "30.09.2025", "30/09/2025", "2999-01-01", "hier"]),
    "text": _mostly(["RTE", "Amprion", ""]),
}
KIND = {
    "point_id": "id",
    "code_poste": "id",
    "longitude": "lon",
    "lon": "lon",
    "latitude": "lat",
    "lat": "lat",
    "date": "date",
    "Stand": "date",
    "source": "text",
    "Quelle": "text",
    "junk": "text",
}


GOOD = {
    "mw": ["300", "0", "12,5", "4.2e2", "1 200"],
    "date": ["2025-09-30", "30.09.2025", "30/09/2025", ""],
    "text": ["RTE", "Amprion", ""],
}


@st.composite
def clean_tables(draw) -> list[list[str]]:
    """A file that should import: distinct points, by id or near their position, plausible values."""
    by_id = draw(st.booleans())
    header = ["point_id", "headroom_mw"] if by_id else ["longitude", "latitude", "capacité d'accueil (MW)"]
    extra = draw(st.lists(st.sampled_from(["date", "Stand", "source", "junk"]), max_size=2, unique=True))
    if "date" in extra and "Stand" in extra:
        extra.remove("Stand")  # both are the date: refused, which the messy tables try
    rows = []
    for external_id in draw(st.lists(st.sampled_from(sorted(POINTS)), min_size=1, unique=True)):
        lon, lat, _known = POINTS[external_id]
        place = [external_id] if by_id else [f"{lon + draw(st.floats(-0.005, 0.005)):.5f}", f"{lat:.5f}"]
        rows.append(place + [draw(st.sampled_from(GOOD["mw"]))] + [draw(st.sampled_from(GOOD[KIND[h]])) for h in extra])
    return [header + extra, *rows]


@st.composite
def messy_tables(draw) -> list[list[str]]:
    base = draw(
        st.sampled_from(
            [["point_id", "headroom_mw"], ["lon", "lat", "headroom_kw"], ["code_poste", "capacité d'accueil (MW)"], []]
        )
    )
    extra = draw(st.lists(st.sampled_from(HEADERS), max_size=3, unique=True))
    header = base + [h for h in extra if h not in base] or ["junk"]
    rows = draw(
        st.lists(st.tuples(*[COLUMN_VALUES[KIND.get(h, "mw")] for h in header]).map(list), min_size=0, max_size=5)
    )
    return [header, *rows]


def tables():
    # Half the files should import (their confirmation and withdrawal are checked), half anything.
    return st.one_of(clean_tables(), messy_tables())


@st.composite
def csv_files(draw) -> tuple[bytes, str]:
    sep = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(sep.join(r) for r in draw(tables()))
    return text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-8-sig"])), errors="replace"), "fuzz.csv"


@st.composite
def xlsx_files(draw) -> tuple[bytes, str]:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for _i in range(draw(st.integers(0, 3))):  # a title block, sometimes
        sheet.append([draw(st.sampled_from(["Capacités d'accueil", "", None, "Stand 2025"]))])
    for line in draw(tables()):
        cells = []
        for cell in line:
            try:
                value = float(cell.replace(",", ".")) if draw(st.booleans()) else cell
            except ValueError:
                value = cell
            if isinstance(value, float) and not math.isfinite(value):
                value = cell  # a spreadsheet cannot hold NaN or infinity
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch >= " " or ch in "\t")  # nor control characters
            cells.append(value)
        sheet.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    if draw(st.integers(0, 5)) == 0:
        # Cut short at a share of its length: the length itself varies with the clock (the
        # workbook stamps its save time), which the draws must not depend on.
        data = data[: int(len(data) * draw(st.floats(0, 1)))]
    return data, "fuzz.xlsx"


DISTANCES = st.sampled_from(["1", "1", "5", "5", "0", "50", "51", "-1", "nan", "inf", "abc", ""])


@pytest.fixture
def analyst(client, settings, tmp_path):
    settings.GIGASITE_HEADROOM_STAGING_DIR = str(tmp_path / "staged")
    for external_id, (lon, lat, known) in POINTS.items():
        GridConnectionPoint.objects.create(
            external_id=external_id,
            name=external_id[-1],
            country="FR",
            longitude=lon,
            latitude=lat,
            voltage_kv=400.0,
            headroom_mw=known,
            headroom_estimate_mw=50.0,
            source="test",
            source_vintage="2025",
        )
    client.force_login(user("ana", "analyst"))
    return client


def _state() -> tuple:
    points = tuple(GridConnectionPoint.objects.order_by("external_id").values_list("external_id", "headroom_mw"))
    imported = HeadroomUpload.objects.filter(status=HeadroomUpload.Status.IMPORTED).count()
    return points, imported, KnownHeadroom.objects.count()


def _check(client, data: bytes, name: str, distance: str) -> None:
    before = _state()
    payload = {"file": SimpleUploadedFile(name, data), "source_name": "Fuzz", "match_distance_km": distance}
    resp = client.post("/uploads/headroom/new/", payload)
    assert resp.status_code in (302, 400), resp.status_code
    assert _state() == before  # a preview saves nothing
    if resp.status_code == 400:
        event("refused")
        return
    preview = resp["Location"]
    assert client.get(preview).status_code == 200
    resp = client.post(preview + "confirm/")
    assert resp.status_code == 302
    upload = HeadroomUpload.objects.order_by("-id").first()
    if upload is None or resp["Location"] != f"/uploads/headroom/{upload.code}/":
        event("confirmation refused")
        assert _state() == before
        return
    event("saved")
    # Every value of the file, and nothing else: each point now holds its row's value.
    values = list(KnownHeadroom.objects.filter(upload=upload).select_related("point"))
    assert values and len(values) + before[2] == KnownHeadroom.objects.count()
    assert all(v.point.headroom_mw == v.headroom_mw for v in values)
    untouched = {p for p, _mw in before[0]} - {v.point.external_id for v in values}
    assert {p: mw for p, mw in _state()[0] if p in untouched} == {p: mw for p, mw in before[0] if p in untouched}
    assert client.get(resp["Location"]).status_code == 200
    # Withdrawn, every point is back as it was.
    assert client.post(f"/uploads/headroom/{upload.code}/withdraw/").status_code == 302
    after = _state()
    assert after[0] == before[0] and after[1] == before[1]


class HeadroomPageFuzzTests:
    @FUZZ
    @given(file=csv_files(), distance=DISTANCES)
    def test_it_never_fails_or_saves_partly_on_csv(self, analyst, file, distance):
        _check(analyst, *file, distance)

    @FUZZ
    @given(file=xlsx_files(), distance=DISTANCES)
    def test_it_never_fails_or_saves_partly_on_xlsx(self, analyst, file, distance):
        _check(analyst, *file, distance)

    @FUZZ
    @given(
        data=st.binary(max_size=300),
        name=st.sampled_from(["f.csv", "f.xlsx", "f.ods", "f.geojson"]),
        distance=DISTANCES,
    )
    def test_it_never_fails_on_arbitrary_bytes(self, analyst, data, name, distance):
        _check(analyst, data, name, distance)
