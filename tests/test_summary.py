"""The segment summary line above the cards (crm.ui.cards), at a million customers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from crm.campaigns import lift
from crm.models import SegmentTotals
from crm.ui import cards, saved


def test_big_sums_are_compact_with_the_exact_figures_in_the_tooltip() -> None:
    """Issue 12, item 20: "$310,943,442.11 spent" was hard to read."""
    totals = SegmentTotals(customers=1_204, spending=Decimal("310943442.11"), visits=17_123_456)
    line = cards.summary_text(totals, 1_000_000)
    assert line == (
        "**1,204** of 1,000,000 customers · 0\\.1\u00a0% · **\\$310\\.94M** spent · "
        "**17,123,456 visits**"
    )
    tooltip = cards.summary_help(totals)
    assert "\\$310,943,442\\.11" in tooltip and "17,123,456 visits" in tooltip
    assert "1,204 customers" in tooltip


def test_everyone_has_no_share_and_small_sums_are_exact() -> None:
    totals = SegmentTotals(customers=300, spending=Decimal("98765.40"), visits=2)
    assert cards.summary_text(totals, 300) == (
        "**300** of 300 customers · **\\$98,765\\.40** spent · **2 visits**"
    )


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [
        (1_204, 1_000_000, "0.1\u00a0%"),
        (1, 1_000_000, "under 0.1\u00a0%"),
        (3, 8, "37.5\u00a0%"),
        (0, 5, "0.0\u00a0%"),
    ],
)
def test_share_text(part: int, whole: int, text: str) -> None:
    assert cards.share_text(part, whole) == text


def test_a_percentage_never_ends_a_line_before_its_percent_sign() -> None:
    """A browser breaks a line at an ordinary space: "95" ended one line and "%" began
    the next. The helpers join the number and "%" with a no-break space (U+00A0)."""
    texts = [
        cards.share_text(1, 3),
        cards.share_text(1, 1_000_000),
        saved.share_text(0.375),
        lift.percent(0.061),
    ]
    assert texts == ["33.3\u00a0%", "under 0.1\u00a0%", "37.5\u00a0%", "6.1\u00a0%"]
    for text in texts:
        # The last piece a line may break off holds the number and its "%" together.
        assert re.fullmatch(r"[\d.,]+\u00a0%", text.split(" ")[-1]), text


def test_nobody_has_no_share() -> None:
    totals = SegmentTotals(customers=0, spending=Decimal(0), visits=0)
    assert cards.summary_text(totals, 300) == (
        "**0** of 300 customers · **\\$0\\.00** spent · **0 visits**"
    )
