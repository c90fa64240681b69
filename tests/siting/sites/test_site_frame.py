"""The frame scoring reads of the loaded sites: its values and kinds, whatever the database."""

from __future__ import annotations

import math

import numpy as np
import pytest

from siting.models import Site
from siting.sites.selectors import SITE_FRAME_COLUMNS, rows_fetch, site_frame

pytestmark = pytest.mark.django_db


def _site(ext: str, **fields) -> Site:
    return Site.objects.create(
        external_id=ext,
        name=ext,
        country="FR",
        longitude=2.5,
        latitude=48.25,
        source="cartofriches",
        source_vintage="2024-03",
        **fields,
    )


class SiteFrameTests:
    def test_it_keeps_every_kind_of_value_and_missing_value(self):
        full = _site(
            "full",
            area_ha=12.5,
            grid_capacity_mw=40.0,
            grid_voltage_kv=63.0,
            flood_zone=True,
            closure_year=2019,
            reconverted=True,
            still_operating=True,
            has_project=True,
            area_estimated=True,
            zoning_type="U",
            buildings_state="standing",
        )
        dry = _site("dry", flood_zone=False)
        unknown = _site("unknown")  # every optional field left missing
        _site("gone", withdrawn=True)

        frame = site_frame()
        assert list(frame.columns) == list(SITE_FRAME_COLUMNS)
        assert frame["site_id"].tolist() == [full.pk, dry.pk, unknown.pk]
        assert frame["site_id"].dtype == np.int64
        for col in ("longitude", "latitude", "area_ha", "grid_capacity_mw", "grid_voltage_kv", "closure_year"):
            assert frame[col].dtype == np.float64, col
        for col in ("reconverted", "still_operating", "has_project", "area_estimated"):
            assert frame[col].dtype == bool, col
        assert frame["flood_zone"].dtype == np.float64
        by = frame.set_index("site_id")
        assert by.loc[full.pk, "flood_zone"] == 1.0 and by.loc[dry.pk, "flood_zone"] == 0.0
        assert math.isnan(by.loc[unknown.pk, "flood_zone"])
        assert by.loc[full.pk, "closure_year"] == 2019.0 and math.isnan(by.loc[unknown.pk, "closure_year"])
        assert by.loc[full.pk, "grid_capacity_mw"] == 40.0 and math.isnan(by.loc[unknown.pk, "area_ha"])
        assert (
            by.loc[full.pk, ["reconverted", "still_operating", "has_project", "area_estimated"]].tolist() == [True] * 4
        )
        assert by.loc[unknown.pk, ["reconverted", "still_operating", "has_project"]].tolist() == [False] * 3
        assert by.loc[full.pk, "buildings_state"] == "standing" and by.loc[unknown.pk, "buildings_state"] == ""
        assert len(site_frame(include_withdrawn=True)) == 4

    def test_the_cursor_read_gives_what_the_orm_gives(self):
        _site("a", flood_zone=True, closure_year=2001, area_ha=3.25, reconverted=True)
        _site("b", flood_zone=False, grid_voltage_kv=20.0)
        _site("c")
        rows = Site.objects.order_by("id").values_list(
            "id", "longitude", "area_ha", "flood_zone", "reconverted", "closure_year", "former_use", "zoning_type"
        )
        assert rows_fetch(rows) == [tuple(r) for r in rows]


class PointBufferSurfaceTests:
    def test_it_knows_the_area_of_default_buffers_of_10_m_and_100_m_and_their_multiples(self):
        import pandas as pd

        from siting.importers.reference import point_buffer_surface

        one = 16 * math.sin(math.pi / 16)  # a 32-gon of circumradius 1 m: its area [m²]
        markers = [round(one * 100, 2), round(2 * one * 100, 2), round(one * 1e4, 2), round(3 * one * 1e4, 2)]
        sites = [312.0, 312.2, 31214.0, 1e6, 0.0, round(11 * one * 100, 2), round(one * 2500, 2)]
        got = point_buffer_surface(pd.Series(markers + sites + [np.nan]))
        assert got.tolist() == [True] * 4 + [False] * len(sites) + [False]

    def test_no_surface_that_cannot_be_a_marker_is_one(self):
        import warnings

        import pandas as pd

        from siting.importers.reference import point_buffer_surface

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning either
            got = point_buffer_surface(pd.Series([np.inf, -np.inf, -312.14, 1e300, np.nan]))
        assert not got.any()


class RowsFetchTests:
    def test_a_filter_no_row_can_match_gives_no_rows(self):
        _site("a")
        assert rows_fetch(Site.objects.none().values_list("id")) == []
        assert rows_fetch(Site.objects.filter(id__in=[]).values_list("id")) == []
        assert rows_fetch(Site.objects.order_by("id").values_list("external_id")) == [("a",)]
