"""crm.formatting: money, counts, dates and Markdown escaping read right."""

from __future__ import annotations

import re
import string
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from crm import formatting


@pytest.mark.parametrize(
    ("value", "cents", "expected"),
    [
        (Decimal("1204.5"), True, "$1,204.50"),
        (Decimal("0"), True, "$0.00"),
        (1234567.891, True, "$1,234,567.89"),
        (Decimal("-5"), True, "-$5.00"),
        (Decimal("0.005"), True, "$0.01"),  # half up, not banker's rounding
        (Decimal("1204.5"), False, "$1,205"),
        (None, True, "—"),
        (float("nan"), True, "—"),
    ],
)
def test_money(value: Decimal | float | None, cents: bool, expected: str) -> None:
    assert formatting.money(value, cents=cents) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("999999.99"), "$999,999.99"),
        (Decimal("1234567"), "$1.23M"),
        (Decimal("45600000000"), "$45.60B"),
        (Decimal("-2500000"), "-$2.50M"),
        (Decimal("12000"), "$12,000.00"),
    ],
)
def test_compact_money(value: Decimal, expected: str) -> None:
    assert formatting.compact_money(value) == expected


def test_number_and_plural() -> None:
    assert formatting.number(1_000_000) == "1,000,000"
    assert formatting.number(None) == "—"
    assert formatting.plural(1, "visit") == "1 visit"
    assert formatting.plural(0, "visit") == "0 visits"
    assert formatting.plural(1204, "customer") == "1,204 customers"


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "today"),
        (1, "yesterday"),
        (12, "12 days ago"),
        (59, "59 days ago"),
        (90, "3 months ago"),
        (729, "24 months ago"),
        (800, "2 years ago"),
        (-1, "tomorrow"),
        (-3, "in 3 days"),
    ],
)
def test_days_ago(days: int, expected: str) -> None:
    today = date(2026, 3, 14)
    assert formatting.days_ago(today - timedelta(days=days), today) == expected
    # A timestamp counts by its calendar day.
    moment = datetime(2026, 3, 14, 23, 59) - timedelta(days=days)
    assert formatting.days_ago(moment, today) == expected


def test_days_ago_never_and_short_date() -> None:
    assert formatting.days_ago(None) == "never"
    assert formatting.short_date(datetime(2026, 3, 2, 10, 0)) == "Mar 2, 2026"
    assert formatting.short_date(None) == "—"


def test_names_and_places() -> None:
    assert formatting.full_name(" Ana ", "Lopez") == "Ana Lopez"
    assert formatting.full_name("", "Lopez") == "Lopez"
    assert formatting.place("Austin", "TX", "United States") == "Austin, TX · United States"
    assert formatting.place("", "", "France") == "France"
    assert formatting.place("", "", "") == ""


def _commonmark_unescape(text: str) -> tuple[str, list[str]]:
    """The text a CommonMark renderer shows, and the markup characters left unescaped."""
    shown: list[str] = []
    bare: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in string.punctuation:
            shown.append(text[index + 1])
            index += 2
            continue
        if char == formatting.WORD_JOINER:  # invisible: not shown
            index += 1
            continue
        if char in "\\`*_{}[]()#+-.!|~<>$:&":
            bare.append(char)
        shown.append(char)
        index += 1
    return "".join(shown), bare


@pytest.mark.parametrize(
    "text",
    [
        "<b>x</b><img src=x onerror=alert(1)>",
        "**bold** _it_ `code` [link](javascript:alert(1))",
        "$x^2$ and :red[red] :material/home: ~~gone~~",
        "# heading",
        "1. not a list",
        "back\\slash",
    ],
)
def test_escape_markdown_escapes_every_markup_character(text: str) -> None:
    escaped = formatting.escape_markdown(text)
    shown, bare = _commonmark_unescape(escaped)
    assert shown == text
    assert bare == []


def test_escape_markdown_keeps_plain_names_and_joins_lines() -> None:
    assert formatting.escape_markdown("Ana Lopez") == "Ana Lopez"
    assert formatting.escape_markdown("Ana\n\nLopez") == "Ana Lopez"
    assert formatting.escape_markdown(" Ana \t\r\n Lopez\n") == "Ana Lopez"


def test_escape_markdown_keeps_a_no_break_space() -> None:
    """A share is "0.1\u00a0%" so "%" never begins a line: escaping must not make
    the no-break space an ordinary one (str.split() did)."""
    assert formatting.escape_markdown("0.1\u00a0% of all\n") == "0\\.1\u00a0% of all"
    assert formatting.escape_markdown("12\u202f000 \n\n 5\u2007kg") == "12\u202f000 5\u2007kg"


def _rendered_text(escaped: str) -> str:
    """The text node a Markdown renderer makes of ``escaped``: escapes resolved, joiners kept."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped)


# The patterns Streamlit's Markdown renderer looks for in text nodes after escapes
# are resolved (GFM autolink literals, Streamlit's icons and emoji shortcodes).
_FOUND_IN_TEXT = {
    "url": re.compile(r"https?://", re.IGNORECASE),
    "www": re.compile(r"\bwww\.", re.IGNORECASE),
    "email": re.compile(r"[-.\w+]+@[-\w]+(\.[-\w]+)+"),
    "icon": re.compile(r":material/[a-z_]+:"),
    "emoji": re.compile(r":[a-z_]+:"),
}


@pytest.mark.parametrize(
    "text",
    [
        "![i](http://127.0.0.1:9/px.png)",
        "see https://example.com/a_b now",
        "WWW.example.com",
        "ana.lopez+news@example.co.uk",
        "home :material/home: and :smile:",
    ],
)
def test_escape_markdown_leaves_no_link_icon_or_emoji_to_find(text: str) -> None:
    escaped = formatting.escape_markdown(text)
    rendered = _rendered_text(escaped)
    found = [name for name, pattern in _FOUND_IN_TEXT.items() if pattern.search(rendered)]
    assert found == []
    # ...while a reader sees exactly what was typed.
    assert rendered.replace(formatting.WORD_JOINER, "") == text
