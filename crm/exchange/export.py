"""Tables as CSV files for users to download, safe to open in a spreadsheet.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets (CSV
injection: a campaign named ``=HYPERLINK("http://x","click")`` becomes a live
link). Such text gets a leading apostrophe, which spreadsheets read as "this
is text". Only text is changed: a number in a numeric column (an amount, a
count, possibly below zero) cannot hold a formula and stays a number, so the
file's sums still work.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from numbers import Number
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def neutralise(text: str) -> str:
    """``text``, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, Decimal | Number):
        return str(value)
    if isinstance(value, list | tuple):
        return neutralise(LIST_SEPARATOR.join(str(item) for item in value))
    return neutralise(str(value))


def csv_bytes(frame: pd.DataFrame, headers: Mapping[str, str]) -> bytes:
    """The ``headers`` columns of ``frame`` (column -> header) as CSV.

    UTF-8 with a byte order mark, so Excel shows accents and "×" rightly;
    RFC 4180 quoting and line ends. Missing values are empty cells, lists
    are joined with "; ", times are ``YYYY-MM-DD HH:MM:SS``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(title) for title in headers.values()])
    columns = [frame[name].tolist() for name in headers]
    for row in zip(*columns, strict=True):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
