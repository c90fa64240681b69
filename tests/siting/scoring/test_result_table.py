"""The result table, assembled size by size into preallocated columns, holds for every (site,
size) row what that size's kernel output says, in full and in compact form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.scoring import exclusion_codes, presets, score_inputs, site_ladder
from siting.scoring import result as scoring_result
from siting.scoring.engine import _draw, _evaluate
from siting.scoring.layout import KIND_NAMES, O_CUT_VERTEX, O_FEASIBLE, O_KIND, O_MASK, O_POINT
from siting.scoring.prepare import _prepare
from tests.siting.scoring.test_model_v2 import rich_world

DEFAULT = presets()["default"]


def _expected(inputs, params) -> pd.DataFrame:
    """Return the table's derived columns built one size at a time, row by row where it is
    plainest, from the kernels' output of that size."""
    prep = _prepare(inputs, params, cache=False)
    det = _draw(params, prep, None)
    lines = prep.lines
    frames = []
    for size in params.sizes:
        out, ranks = _evaluate(params, prep, int(size), det, "kernel")
        point, vertex = out[:, O_POINT].astype(int), out[:, O_CUT_VERTEX].astype(int)
        longitude = [
            prep.point_lon[p] if p >= 0 else lines.vertex_lon[v] if v >= 0 else np.nan
            for p, v in zip(point, vertex, strict=True)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "site_id": prep.site_id,
                    "size_h100e": size,
                    "it_load_mw": size * params.k_gpu_kw / 1000.0,
                    "connection_kind": [KIND_NAMES[int(k)] for k in out[:, O_KIND]],
                    "connection_point_id": [prep.point_id[p] if p >= 0 else -1 for p in point],
                    "connection_line_id": [lines.line_id[lines.vertex_line[v]] if v >= 0 else -1 for v in vertex],
                    "connection_longitude": longitude,
                    "permit_months": prep.permit_m,
                    "remediation_months": prep.remediation_m,
                    "exclusion_mask": out[:, O_MASK].astype(int),
                    "exclusion_reasons": [";".join(exclusion_codes(int(m))) for m in out[:, O_MASK]],
                    "feasible": out[:, O_FEASIBLE] == 1.0,
                    "rank": ranks,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


class ResultTableTests:
    @pytest.mark.parametrize("compact", [False, True])
    def test_it_writes_each_sizes_rows_from_that_sizes_kernel_output(self, compact, monkeypatch):
        inputs = rich_world(150, seed=7)
        params = DEFAULT
        expected = _expected(inputs, params)
        if compact:
            monkeypatch.setattr(scoring_result, "COMPACT_TABLE_ROWS", 1)
        result = score_inputs(inputs, params)
        table = result.table
        assert list(table.columns) == list(scoring_result.TABLE_COLUMNS)
        assert len(table) == len(expected)
        # the world has every kind of connection, cut-ins included, and several exclusion texts
        assert set(expected["connection_kind"]) >= {"new_line", "cut_in"}
        assert expected["exclusion_reasons"].nunique() > 2
        for name in expected.columns:
            mine = table[name]
            if (
                isinstance(mine.dtype, pd.CategoricalDtype)
                or mine.dtype == object
                or pd.api.types.is_string_dtype(mine)
            ):
                assert list(mine.astype(str)) == list(expected[name]), name
                continue
            want = expected[name].to_numpy()
            if mine.dtype == np.float32:
                want = want.astype(np.float32)
            np.testing.assert_array_equal(mine.to_numpy(), want, err_msg=name)
        pd.testing.assert_frame_equal(result.ladder, site_ladder(table))
