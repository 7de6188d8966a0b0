"""Files users download: text cells that a spreadsheet would run as a formula are neutralised.

The CSV is read back with Python's csv module (an independent parser), so a
test checks what a spreadsheet receives, not how the bytes were written.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from crm.exchange import export

HOSTILE = [
    '=HYPERLINK("http://x","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_a_formula_gets_a_leading_apostrophe(text: str) -> None:
    assert export.neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["Summer Sale", "", "Caf\u00e9 cr\u00e8me", "1 \u00d7 Oat milk", " =a space first", "'quoted"],
)
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert export.neutralise(text) == text


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads the file as UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_has_the_headers_and_neutralised_text_cells() -> None:
    frame = pd.DataFrame(
        {
            "campaign": pd.array(
                ['=HYPERLINK("http://x","click")', 'Caf\u00e9, "best"', None], dtype="str"
            ),
            "opens": pd.array([3, None, -1], dtype="Int64"),
            "amount": [-5.5, 12.25, np.nan],
            "sent_at": pd.to_datetime(["2026-11-03 14:05:00", None, "2026-01-02 08:00:00"]),
            "items": [["1 \u00d7 Tea", "=2 \u00d7 Cake"], [], ["-1 \u00d7 Jam"]],
            "hidden": ["not exported", "x", "y"],
        }
    )
    data = export.csv_bytes(
        frame,
        {
            "campaign": "Campaign",
            "opens": "Opens",
            "amount": "Amount",
            "sent_at": "Sent",
            "items": "Items",
        },
    )
    rows = _read(data)
    assert rows == [
        ["Campaign", "Opens", "Amount", "Sent", "Items"],
        [
            '\'=HYPERLINK("http://x","click")',
            "3",
            "-5.5",
            "2026-11-03 14:05:00",
            "1 \u00d7 Tea; =2 \u00d7 Cake",
        ],
        ['Caf\u00e9, "best"', "", "12.25", "", ""],
        ["", "-1", "", "2026-01-02 08:00:00", "'-1 \u00d7 Jam"],
    ]
    assert b"\r\n" in data, "RFC 4180 line ends"


def test_numbers_stay_numbers_even_below_zero() -> None:
    """A real number in a numeric column cannot hold a formula: -5 stays -5 for sums."""
    frame = pd.DataFrame(
        {"amount": [Decimal("-5.00"), Decimal("7.10")], "units": np.array([-2, 3], dtype="int32")}
    )
    rows = _read(export.csv_bytes(frame, {"amount": "Amount", "units": "Units"}))
    assert rows[1:] == [["-5.00", "-2"], ["7.10", "3"]]


def test_dates_without_a_time_are_written_as_dates() -> None:
    frame = pd.DataFrame({"when": [datetime(2026, 3, 2).date()]}, dtype="object")
    assert _read(export.csv_bytes(frame, {"when": "When"}))[1] == ["2026-03-02"]


def test_an_empty_frame_gives_just_the_header() -> None:
    frame = pd.DataFrame({"campaign": pd.array([], dtype="str")})
    assert _read(export.csv_bytes(frame, {"campaign": "=Campaign"})) == [["'=Campaign"]]
