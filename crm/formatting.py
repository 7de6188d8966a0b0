"""How numbers, money, dates and user text are written on screen.

Pure functions, shared by every page, so "$1,204.50" and "12 days ago" read
the same everywhere.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Number = Decimal | float | int

CURRENCY_SYMBOL = "$"
# A dash, not "0" or "", for a value that does not exist (e.g. no visit yet).
MISSING = "—"


def _decimal(value: Number | None) -> Decimal | None:
    if value is None:
        return None
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def money(value: Number | None, *, cents: bool = True) -> str:
    """``$1,204.50`` (or ``$1,205`` without cents); ``-$5.00`` below zero; "—" for nothing."""
    amount = _decimal(value)
    if amount is None:
        return MISSING
    places = Decimal("0.01") if cents else Decimal("1")
    rounded = amount.quantize(places, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.2f}" if cents else f"{abs(rounded):,.0f}"
    return f"{sign}{CURRENCY_SYMBOL}{text}"


_COMPACT_STEPS = ((Decimal(10**12), "T"), (Decimal(10**9), "B"), (Decimal(10**6), "M"))


def compact_money(value: Number | None) -> str:
    """A headline-sized sum: ``$1.23M``, ``$45.60B``; below a million, to the cent."""
    amount = _decimal(value)
    if amount is None:
        return MISSING
    for step, suffix in _COMPACT_STEPS:
        if abs(amount) >= step:
            scaled = (amount / step).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            sign = "-" if scaled < 0 else ""
            return f"{sign}{CURRENCY_SYMBOL}{abs(scaled):,.2f}{suffix}"
    return money(amount)


def number(value: Number | None) -> str:
    """A count with thousands separators: ``1,000,000``."""
    amount = _decimal(value)
    if amount is None:
        return MISSING
    return f"{amount.quantize(Decimal('1'), rounding=ROUND_HALF_UP):,.0f}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 visit``, ``12 visits``, ``1,204 customers``."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{number(count)} {word}"


def _as_date(when: date | datetime) -> date:
    return when.date() if isinstance(when, datetime) else when


def short_date(when: date | datetime | None) -> str:
    """``Mar 2, 2026``; "—" for no date."""
    if when is None or (isinstance(when, float) and math.isnan(when)):
        return MISSING
    day = _as_date(when)
    return f"{day:%b} {day.day}, {day.year}"


def days_ago(when: date | datetime | None, today: date | None = None) -> str:
    """How long ago, in words: "today", "yesterday", "12 days ago", "3 months ago", "2 years ago".

    Days up to two months, then months up to two years, then years; a date
    in the future reads "in 3 days". ``None`` reads "never".
    """
    if when is None:
        return "never"
    today = today or date.today()
    delta = (today - _as_date(when)).days
    if delta < 0:
        ahead = -delta
        return "tomorrow" if ahead == 1 else f"in {ahead} days"
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if delta < 60:
        return f"{delta} days ago"
    if delta < 730:
        return f"{delta // 30} months ago"
    return f"{delta // 365} years ago"


def full_name(first_name: str, last_name: str) -> str:
    return " ".join(part.strip() for part in (first_name, last_name) if part and part.strip())


def place(city: str, state: str, country: str) -> str:
    """``Austin, TX · United States``; parts that are empty are left out."""
    local = ", ".join(part.strip() for part in (city, state) if part and part.strip())
    parts = [p for p in (local, (country or "").strip()) if p]
    return " · ".join(parts)


# Every ASCII punctuation mark CommonMark lets a backslash escape, so user text
# in a Markdown label (st.page_link, st.caption) is shown as typed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&\"'=^@])")
# Backslashes are not enough. Streamlit's renderer finds links ("http://...",
# "www.x", "a@b.com"), icons (":material/home:") and emoji (":smile:") in the
# text *after* the escapes are resolved: a name "![i](http://127.0.0.1:9/p.png)"
# escaped by backslashes alone still became a link in a toast, and
# ":material/home:" an icon (both seen in Chromium). An invisible WORD JOINER
# after ":" and "@", and between "www" and ".", breaks every one of those
# patterns without changing what a reader sees.
WORD_JOINER = "\u2060"
_LINK_PARTS = re.compile(r"(?<=[:@])|(?<=www)(?=\\?\.)", re.IGNORECASE)
# Runs of whitespace a line may break at. No-break spaces are not among them: str.split()
# turned the one in "95\u00a0%" into an ordinary space, and "%" began the next line.
_BREAKING_SPACE = re.compile(r"[^\S\u00a0\u2007\u202f]+")


def escape_markdown(text: str) -> str:
    """User text made safe to show through Markdown (toasts, captions, labels, headers).

    The one helper for that: it backslash-escapes Markdown, HTML and
    Streamlit's ``$math$`` / ``:icon:`` syntax, and stops links, icons and
    emoji from being recognised (see ``WORD_JOINER``). Newlines become spaces:
    a label is one line, and a blank line would end the escaping context in
    some renderers. No-break spaces are kept (``_BREAKING_SPACE``).
    """
    single_line = _BREAKING_SPACE.sub(" ", text).strip(" ")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", single_line)
    return _LINK_PARTS.sub(WORD_JOINER, escaped)
