"""One cache of the boundary outlines (grid.selectors.boundary_outlines) behind the boundaries API,
the upload preview map, the PDF's maps and scoring's country outlines: read once per data version,
read again when the outlines change, forgotten with the dashboard's caches."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import shapely

from grid import selectors as grid_selectors
from grid.models import Boundary
from siting.dashboard import selectors as dashboard
from siting.reports import document
from siting.uploads import maps as upload_maps
from siting.uploads import selectors as upload_selectors
from tests.support.personas import login_as as _login

pytestmark = pytest.mark.django_db


def _square(west: float, south: float, side: float = 1.0) -> dict:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south + side], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def outlines():
    grid_selectors.boundary_outlines_forget()
    fr = Boundary.objects.create(
        kind="country", code="FR", name="France", geometry_geojson=_square(0, 44, 4), source="natural_earth"
    )
    Boundary.objects.create(
        kind="country", code="BE", name="Belgium", geometry_geojson=_square(4, 50), source="natural_earth"
    )
    Boundary.objects.create(
        kind="departement", code="59", name="Nord", parent_code="32", geometry_geojson=_square(2, 47), source="ign"
    )
    yield fr
    grid_selectors.boundary_outlines_forget()


class BoundaryOutlinesTests:
    def test_it_reads_each_kind_once_while_its_outlines_stay_the_same(self, outlines, django_assert_num_queries):
        first = grid_selectors.boundary_outlines("country")
        assert first.codes == ("BE", "FR") and first.names == ("Belgium", "France")
        with django_assert_num_queries(1):  # the data version only
            assert grid_selectors.boundary_outlines("country") is first
        assert grid_selectors.boundary_outlines("departement").codes == ("59",)

    @pytest.mark.parametrize(
        "change",
        [
            lambda fr: Boundary.objects.filter(id=fr.id).update(geometry_geojson=_square(0, 44, 5.5)),
            lambda fr: Boundary.objects.filter(id=fr.id).update(name="République française"),
            lambda fr: Boundary.objects.create(
                kind="country",
                code="LU",
                name="Luxembourg",
                geometry_geojson=_square(6, 49, 0.5),
                source="natural_earth",
            ),
            lambda fr: fr.delete(),
        ],
        ids=["geometry", "name", "added", "deleted"],
    )
    def test_it_reads_them_again_when_they_change(self, outlines, change):
        before = grid_selectors.boundary_outlines("country")
        shapes, geojson, wkb = before.shapes, before.geojson_bytes, grid_selectors.country_outline_wkb_map()
        change(outlines)
        after = grid_selectors.boundary_outlines("country")
        assert after is not before and after.version != before.version
        assert (after.shapes, after.geojson_bytes, grid_selectors.country_outline_wkb_map()) != (shapes, geojson, wkb)

    def test_it_forgets_them_with_the_dashboards_caches(self, outlines):
        first = grid_selectors.boundary_outlines("country")
        dashboard.caches_clear()
        assert grid_selectors.boundary_outlines("country") is not first

    def test_it_leaves_out_an_unreadable_outline_from_the_maps_only(self, outlines):
        Boundary.objects.create(
            kind="country", code="XX", name="Broken", geometry_geojson={"type": "Polygon"}, source="natural_earth"
        )
        got = grid_selectors.boundary_outlines("country")
        assert len(got.codes) == 3 and len(got.shapes) == 2
        assert [f["id"] for f in got.simplified_geojson(0.02)["features"]] == ["BE", "FR"]
        with pytest.raises(Exception):  # noqa: B017  a run does not start on outlines it cannot read
            grid_selectors.country_outline_wkb_map()


class OutlineReadersTests:
    def test_the_api_serves_the_cached_feature_collection(self, client, outlines):
        _login(client)
        body = client.get("/api/boundaries/country/").content
        assert body == grid_selectors.boundary_outlines("country").geojson_bytes
        data = json.loads(body)
        assert [f["id"] for f in data["features"]] == ["BE", "FR"]
        assert data["features"][1] == {
            "type": "Feature",
            "id": "FR",
            "properties": {"code": "FR", "name": "France", "parent_code": ""},
            "geometry": _square(0, 44, 4),
        }
        Boundary.objects.filter(id=outlines.id).update(name="France métropolitaine")
        data = json.loads(client.get("/api/boundaries/country/").content)
        assert data["features"][1]["properties"]["name"] == "France métropolitaine"

    def test_the_upload_map_and_the_pdf_draw_the_same_outlines(self, outlines):
        countries = upload_selectors.countries_outline_geojson()
        assert [f["id"] for f in countries["features"]] == ["BE", "FR"]
        kept = copy.deepcopy(countries)
        sites = pd.DataFrame(
            {"longitude": [1.0], "latitude": [45.0], "name": ["a"], "file_id": ["1"], "action": ["create"]}
        )
        upload_maps.upload_preview_figure(sites=sites, labels={"create": "New"}, countries_geojson=countries)
        assert countries == kept  # the figure copies the shared outlines, it does not change them
        layers = document._map_layers(in_france=True)
        assert [shapely.to_wkb(g) for g in layers.countries] == [
            shapely.to_wkb(g) for g in grid_selectors.boundary_outlines("country").shapes
        ]
        assert len(layers.subdivisions) == 1 and not document._map_layers(in_france=False).subdivisions
