"""Prepared inputs are cached per process by content: the same inputs reuse them, any change of
a value, a text or a parameter (but the sizes) prepares again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from siting import scoring
from siting.scoring import prepare, presets
from tests.siting.scoring.test_model_v2 import rich_world

DEFAULT = presets()["default"]


@pytest.fixture(autouse=True)
def _empty_cache():
    prepare._PREPARED_CACHE.clear()
    yield
    prepare._PREPARED_CACHE.clear()


def _copy(inputs: scoring.ScoringInputs) -> scoring.ScoringInputs:
    return scoring.ScoringInputs(
        inputs.sites.copy(),
        inputs.grid.copy(),
        inputs.zones.copy(),
        dict(inputs.hourly_carbon),
        None if inputs.lines is None else inputs.lines.copy(),
        dict(inputs.outlines or {}),
    )


class PreparedCacheTests:
    def test_a_runs_table_and_its_draws_share_one_preparation(self):
        # A run's first block scores its size's table, then its draws, from one keyed snapshot.
        inputs = dataclasses.replace(rich_world(120, seed=2), content_key=b"snapshot A")
        scoring.score_inputs(inputs, DEFAULT, draws=0)
        (prepared,) = prepare._PREPARED_CACHE.values()
        scoring.score_draws(inputs, DEFAULT, draw_range=(0, 3))
        (again,) = prepare._PREPARED_CACHE.values()
        assert again is prepared

    def test_a_content_key_stands_for_the_frames_and_parameters_still_count(self):
        inputs = dataclasses.replace(rich_world(120, seed=2), content_key=b"snapshot A")
        first = prepare._prepare(inputs, DEFAULT)
        # The same key with other frame objects (a chunk after the first): found without hashing them.
        hashed: list[int] = []
        real = prepare._frame_digest
        try:
            prepare._frame_digest = lambda *a, **k: hashed.append(1) or real(*a, **k)
            again = prepare._prepare(dataclasses.replace(_copy(inputs), content_key=b"snapshot A"), DEFAULT)
        finally:
            prepare._frame_digest = real
        assert again is first and hashed == []
        # Another key, or another parameter than the sizes, prepares again.
        other = prepare._prepare(dataclasses.replace(inputs, content_key=b"snapshot B"), DEFAULT)
        assert other is not first
        np.testing.assert_array_equal(other.cand_point, first.cand_point)
        changed = prepare._prepare(inputs, dataclasses.replace(DEFAULT, routing_factor=DEFAULT.routing_factor * 1.1))
        assert changed is not other and changed is not first

    def test_it_reuses_the_preparation_of_equal_inputs_for_any_size(self):
        inputs = rich_world(120, seed=2)
        first = prepare._prepare(inputs, DEFAULT)
        again = prepare._prepare(_copy(inputs), dataclasses.replace(DEFAULT, sizes=(5000,)))
        assert again is first
        with pytest.raises(ValueError, match="read-only"):
            first.area[0] = 1.0

    @pytest.mark.parametrize(
        "change",
        [
            lambda i: i.sites.__setitem__("area_ha", i.sites["area_ha"].fillna(1.0)),
            lambda i: i.sites.__setitem__("zoning_type", i.sites["zoning_type"].replace("A", "U")),
            lambda i: i.sites.__setitem__("buildings_state", i.sites["buildings_state"].replace("", None)),
            lambda i: i.grid.__setitem__("headroom_mw", i.grid["headroom_mw"] + 1.0),
            lambda i: i.zones.__setitem__("price_eur_per_mwh", i.zones["price_eur_per_mwh"] * 2),
            lambda i: i.hourly_carbon.__setitem__("FR", i.hourly_carbon["FR"] * 1.5),
            lambda i: i.lines.__setitem__("rating_mw", i.lines["rating_mw"].fillna(900.0)),
            lambda i: i.outlines.pop("DE"),
            lambda i: i.sites.__setitem__("pollution_status", i.sites["pollution_status"].to_numpy()[::-1]),
        ],
    )
    def test_it_prepares_again_when_an_input_changes(self, change):
        inputs = rich_world(120, seed=2)
        first = prepare._prepare(inputs, DEFAULT)
        changed = _copy(inputs)
        change(changed)
        second = prepare._prepare(changed, DEFAULT)
        assert second is not first
        fresh = prepare._prepare(changed, DEFAULT, cache=False)
        for field in dataclasses.fields(fresh):
            mine, expected = getattr(second, field.name), getattr(fresh, field.name)
            if isinstance(expected, np.ndarray):
                np.testing.assert_array_equal(mine, expected, err_msg=field.name)

    @pytest.mark.parametrize(
        ("column", "before", "after"),
        [
            ("zoning_type", [None, None], [None, np.nan]),
            ("zoning_type", [1, "A"], [1.0, "A"]),
            ("buildings_state", [True, 1], [True, True]),
            ("country", ["FR", "1"], ["FR", 1]),
            ("pollution_status", ["none", "confirmed"], ["confirmed", "none"]),
        ],
    )
    def test_it_tells_apart_texts_that_pandas_factorizes_alike(self, column, before, after):
        # Text columns are keyed by codes and distinct values; missing values of different kinds
        # and numbers equal to each other (1, 1.0, True) share a distinct value there.
        def with_values(values: list) -> scoring.ScoringInputs:
            inputs = rich_world(120, seed=2)
            column_values = np.array(inputs.sites[column], dtype=object)
            column_values[: len(values)] = values
            inputs.sites[column] = pd.Series(column_values, dtype=object)
            return inputs

        first = prepare._prepare(with_values(before), DEFAULT)
        assert prepare._prepare(with_values(before), DEFAULT) is first
        assert prepare._prepare(with_values(after), DEFAULT) is not first

    @pytest.mark.parametrize("dtype", ["str", "string"])
    def test_it_prepares_the_same_from_text_columns_as_objects_or_strings(self, dtype):
        texts = ("country", "pollution_status", "water_access", "zoning_type", "buildings_state")
        inputs = rich_world(120, seed=4)
        inputs.sites.loc[inputs.sites.index[:6], ["pollution_status", "zoning_type", "country"]] = None
        as_objects = prepare._prepare(
            dataclasses.replace(inputs, sites=inputs.sites.astype(dict.fromkeys(texts, object))), DEFAULT, cache=False
        )
        as_strings = prepare._prepare(
            dataclasses.replace(inputs, sites=inputs.sites.astype(dict.fromkeys(texts, dtype))), DEFAULT, cache=False
        )
        for field in dataclasses.fields(as_objects):
            expected = getattr(as_objects, field.name)
            if isinstance(expected, np.ndarray):
                np.testing.assert_array_equal(getattr(as_strings, field.name), expected, err_msg=field.name)

    def test_it_prepares_again_when_a_parameter_changes(self):
        inputs = rich_world(120, seed=2)
        first = prepare._prepare(inputs, DEFAULT)
        second = prepare._prepare(inputs, dataclasses.replace(DEFAULT, permit_months=DEFAULT.permit_months + 6))
        assert second is not first
        assert (second.permit_m == first.permit_m + 6).all()

    def test_it_gives_the_same_table_from_the_cache(self):
        inputs = rich_world(150, seed=5)
        params = dataclasses.replace(DEFAULT, sizes=(1000, 50000))
        cold = scoring.score_inputs(inputs, params, draws=5).table
        warm = scoring.score_inputs(_copy(inputs), params, draws=5).table
        pd.testing.assert_frame_equal(cold, warm)
