"""Readers of the reference files in ``fixtures/``: file in, clean frame out.

Every reader raises :class:`ReferenceDataError` naming the file and the problem (missing
file, missing column, a value that does not parse, with its row), so a bad fixture stops
the load before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd


class ReferenceDataError(Exception):
    """A reference file is missing or malformed; the message names the file and the problem."""


def read_csv(path: Path, *, required: Iterable[str], **kwargs) -> pd.DataFrame:
    """Read a (possibly gzipped) CSV, checking it exists, parses and has the ``required`` columns."""
    path = Path(path)
    if not path.exists():
        raise ReferenceDataError(f"{path.name}: file not found in {path.parent}")
    try:
        frame = pd.read_csv(path, low_memory=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ReferenceDataError(f"{path.name}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise ReferenceDataError(f"{path.name}: no rows")
    return frame


def to_float(
    frame: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = True, row_offset: int = 2
) -> pd.Series:
    """Return ``frame[column]`` as float64, naming the first row that is not a number."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if not allow_missing:
        bad |= raw.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ReferenceDataError(
            f"{Path(path).name}: row {i + row_offset}, column {column!r}: {raw.iloc[i]!r} is not a number"
        )
    return values.astype("float64")
