"""Packing frames for run inputs and results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.frames import frames_pack, frames_unpack


class FramesTests:
    def test_it_round_trips_numbers_text_booleans_and_lists_exactly(self):
        rng = np.random.default_rng(0)
        frame = pd.DataFrame(
            {
                "site_id": np.arange(5, dtype=np.int64),
                "value": rng.random(5),
                "missing": [1.0, np.nan, 3.0, np.nan, 5.0],
                "country": ["FR", "DE", "ÉS", "", "PT"],
                "ok": [True, False, True, True, False],
                "reasons": [["land_too_small"], [], ["a", "b"], [], []],
            }
        )
        out, arrays = frames_unpack(frames_pack({"t": frame}, {"hourly/FR": np.arange(3.0)}))
        got = out["t"]
        np.testing.assert_array_equal(got["site_id"], frame["site_id"])
        np.testing.assert_array_equal(got["value"], frame["value"])
        np.testing.assert_array_equal(got["missing"], frame["missing"])
        assert list(got["country"]) == ["FR", "DE", "ÉS", "", "PT"]
        assert got["ok"].dtype == bool and list(got["ok"]) == list(frame["ok"])
        assert list(got["reasons"]) == ["land_too_small", "", "a;b", "", ""]
        np.testing.assert_array_equal(arrays["hourly/FR"], [0.0, 1.0, 2.0])

    def test_it_keeps_an_empty_frame_with_its_columns(self):
        out, _ = frames_unpack(
            frames_pack({"t": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})})
        )
        assert list(out["t"].columns) == ["a", "b"] and len(out["t"]) == 0

    def test_text_columns_take_the_same_values_in_one_step_as_value_by_value(self):
        from siting.frames import _column_array, _text

        cases = {
            "object with gaps": pd.Series(["FR", None, "ÉS", np.nan, "", "a;b"], dtype=object),
            "pandas text": pd.Series(["x", None, "yz"], dtype="str"),
            "strings with NA": pd.Series(["x", pd.NA, "yz"], dtype="string"),
            "lists and texts": pd.Series([["a", "b"], "c", None], dtype=object),
            "numbers in text": pd.Series(["1", 2, None], dtype=object),
            "all missing": pd.Series([None, np.nan], dtype=object),
            "all NA strings": pd.Series([pd.NA, pd.NA], dtype="string"),
            "float32 gap": pd.Series(["a", np.float32("nan")], dtype=object),
            "empty": pd.Series([], dtype=object),
        }
        for name, series in cases.items():
            want = [_text(v) for v in series.tolist()]
            gaps = [w for v, w in zip(series.tolist(), want) if pd.api.types.is_scalar(v) and pd.isna(v)]
            assert gaps == [""] * len(gaps), name
            got = _column_array(series)
            assert got.dtype.kind == "U", name
            assert got.tolist() == want, name
