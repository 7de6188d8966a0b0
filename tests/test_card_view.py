"""crm.card_view: the texts a customer card shows, from a row of the customer page query."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from crm import avatars, card_view, queries, scores
from crm.models import CardRow, Customer, CustomerFilter

TODAY = date(2026, 11, 25)
ROW = CardRow(
    id=42,
    first_name="Ana",
    last_name="López",
    email="ana@example.com",
    phone="+34 600 000 000",
    city="Madrid",
    state="Madrid",
    country="Spain",
    total_spending=Decimal("1234.50"),
    visit_count=1203,
    last_visit=datetime(2026, 11, 13, 9, 30),
    avatar=None,
    avatar_type=None,
)


def _row(**changes: Any) -> CardRow:
    return replace(ROW, **changes)


def test_a_card_reads_as_formatted_text() -> None:
    view = card_view.card_view(_row(), TODAY)
    assert view["name"] == "Ana López"
    assert view["href"] == "Customer?id=42"
    assert view["spent"] == "$1,234.50"
    assert view["visits"] == "1,203"
    assert view["last_visit"] == "Nov 13, 2026"
    assert view["last_visit_note"] == "12 days ago"
    assert view["last_visit_title"] == "2026-11-13 09:30"
    assert view["place"] == "Madrid, Madrid · Spain"
    assert (view["initials"], view["colour"]) == ("AL", avatars.colour(42))
    assert view["picture"] is None


def test_missing_values_read_as_such() -> None:
    view = card_view.card_view(
        _row(
            first_name="",
            last_name="",
            phone="",
            total_spending=Decimal("0.00"),
            visit_count=0,
            last_visit=None,
        ),
        TODAY,
    )
    assert view["name"] == "(no name)" and view["initials"] == "?"
    assert (view["phone"], view["spent"], view["visits"]) == ("", "$0.00", "0")
    assert (view["last_visit"], view["last_visit_note"]) == ("—", "no visits yet")
    assert view["last_visit_title"] == ""


def test_text_is_passed_as_typed_for_the_browser_to_show_as_text() -> None:
    hostile = "<b>x</b><img src=x onerror=alert(1)>"
    view = card_view.card_view(_row(first_name=hostile, city="<i>City</i>"), TODAY)
    assert view["name"] == f"{hostile} López"
    assert view["place"].startswith("<i>City</i>")


def test_only_image_pictures_become_a_data_uri() -> None:
    png = b"\x89PNG fake bytes"
    view = card_view.card_view(_row(avatar=png, avatar_type="image/png"), TODAY)
    assert view["picture"] == avatars.data_uri(png, "image/png")
    svg = card_view.card_view(_row(avatar=b"<svg/>", avatar_type="image/svg+xml"), TODAY)
    assert svg["picture"] is None


def test_a_whole_customer_makes_the_same_card_as_its_card_row() -> None:
    """A customer just added is drawn from its Customer record, with no conversion."""
    customer = Customer(
        **{name: getattr(ROW, name) for name in ROW.__dataclass_fields__},
        street="1 Calle Mayor",
        zip="28013",
        created_at=datetime(2026, 1, 1),
        updated_at=datetime(2026, 1, 2),
        version=3,
        order_count=7,
    )
    assert card_view.card_view(customer, TODAY) == card_view.card_view(ROW, TODAY)


# --- The RFM group's label (issue 9) ------------------------------------------------------

# Written out here, not read from card_view: what each group's label looks like.
EXPECTED_TONES = {
    "Champions": "keep",
    "Loyal": "keep",
    "Potential loyalist": "grow",
    "New": "grow",
    "Promising": "grow",
    "Need attention": "watch",
    "About to sleep": "watch",
    "At risk": "win-back",
    "Can't lose them": "win-back",
    "Hibernating": "rest",
    "Lost": "rest",
    "No orders": "none",
}


def test_every_rfm_group_gets_its_label_tone_and_meaning() -> None:
    assert set(EXPECTED_TONES) == set(scores.GROUPS)
    for group, tone in EXPECTED_TONES.items():
        view = card_view.card_view(_row(rfm_group=group), TODAY)
        assert view["rfm_group"] == group
        assert view["rfm_tone"] == tone
        assert view["rfm_title"] == f"RFM group: {group}. {scores.GROUP_MEANINGS[group]}"


def test_no_label_before_the_quintiles_were_computed() -> None:
    view = card_view.card_view(_row(rfm_group=None), TODAY)
    assert (view["rfm_group"], view["rfm_tone"], view["rfm_title"]) == ("", "", "")


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


_PAIR = r"light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)"


def _contrast(colour: str, background: str) -> float:
    light, dark = sorted((_luminance(colour), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _card_css() -> str:
    return (Path(card_view.__file__).parent / "ui" / "card_grid.css").read_text(encoding="utf-8")


def test_every_label_tone_is_drawn_and_readable_wcag_aa_in_both_themes() -> None:
    rules = {
        tone: ((fg_light, bg_light), (fg_dark, bg_dark))
        for tone, fg_light, fg_dark, bg_light, bg_dark in re.findall(
            rf"\.rfm\.tone-([\w-]+) \{{ color: {_PAIR}; background: {_PAIR};", _card_css()
        )
    }
    assert set(rules) == set(EXPECTED_TONES.values())
    for tone, pairs in rules.items():
        for theme, (colour, background) in zip(("light", "dark"), pairs, strict=True):
            ratio = _contrast(colour, background)
            assert ratio >= 4.5, (tone, theme, round(ratio, 2))


def test_the_cards_take_their_colours_from_the_theme() -> None:
    """Outside light-dark() pairs (the label tones, the card surface) no colour is
    fixed: text, borders, links and focus rings are Streamlit's theme variables."""
    css = re.sub(r"light-dark\([^()]*(\([^()]*\)[^()]*)*\)", "", _card_css())
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    fixed = [
        c for c in re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\([^)]*\)", css) if c not in ("#fff",)
    ]
    assert fixed == []
    for name in ("text-color", "border-color", "link-color", "primary-color"):
        assert f"var(--st-{name})" in css, name


def test_a_card_from_the_page_query_carries_the_stored_group(con: Any) -> None:
    page = queries.customer_page(con, CustomerFilter())
    stored = dict(con.execute("SELECT id, rfm_group FROM customers").fetchall())
    assert page.rows
    for row in page.rows:
        assert card_view.card_view(row, TODAY)["rfm_group"] == (stored[row.id] or "")
    assert {row.rfm_group for row in page.rows} - {None}  # the seeded data is scored
