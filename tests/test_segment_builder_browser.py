"""The segment builder (issue 9) in a real Chromium against the session's live server."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import duckdb
import pytest
from browser_helpers import popover_button, settled
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"


def open_home(page: Page, query: str = "") -> None:
    page.goto(f"/{query}")
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    settled(page)


def choose(page: Page, popover: str, label: str, option: str) -> None:
    """Pick ``option`` in the multiselect ``label`` of a popover, as a person does."""
    popover_button(page, popover).click()
    box = page.get_by_role("combobox", name=re.compile(rf"^{label}"))
    expect(box).to_be_visible()
    box.click()
    box.press_sequentially(option[:5], delay=40)
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}")).first.click()
    settled(page)
    page.keyboard.press("Escape")
    settled(page)


def chip(name: str, value: str) -> re.Pattern[str]:
    """A chip's text (the escaping helper puts an invisible word joiner after the colon)."""
    return re.compile(rf"^{name}:\u2060? {re.escape(value)} ✕$")


def _country_and_category(seeded: duckdb.DuckDBPyConnection) -> tuple[str, str, int]:
    row = seeded.execute(
        "SELECT country FROM customers GROUP BY country ORDER BY count(*) DESC, country LIMIT 1"
    ).fetchone()
    assert row is not None
    country = str(row[0])
    row = seeded.execute(
        "SELECT p.category FROM order_items i JOIN products p ON p.id = i.product_id"
        " GROUP BY p.category ORDER BY count(DISTINCT i.customer_id), p.category LIMIT 1"
    ).fetchone()
    assert row is not None
    category = str(row[0])
    expected = seeded.execute(
        "SELECT count(*) FROM customers c WHERE c.country = ? AND c.id IN"
        " (SELECT i.customer_id FROM order_items i JOIN products p ON p.id = i.product_id"
        "  WHERE p.category = ?)",
        [country, category],
    ).fetchone()
    assert expected is not None and expected[0] > 0
    return country, category, int(expected[0])


def test_build_a_segment_from_a_country_and_a_category(
    page: Page,
    browser: Browser,
    live_server: str,
    seeded: duckdb.DuckDBPyConnection,
    screenshots: Path,
) -> None:
    country, category, expected = _country_and_category(seeded)
    page.set_viewport_size(DESKTOP)
    open_home(page)
    choose(page, "Location", "Countries", country)
    expect(page).to_have_url(re.compile(rf"[?&]country={re.escape(quote_plus(country))}(&|$)"))
    choose(page, "Bought", "Categories", category)
    expect(page).to_have_url(re.compile(rf"[?&]category={re.escape(quote_plus(category))}(&|$)"))
    summary = page.locator(".st-key-segment_summary")
    expect(summary).to_contain_text(f"{expected:,} of ")
    expect(page.locator(CARDS)).to_have_count(min(expected, 24))
    chips = page.locator(".st-key-chip_row").get_by_role("button")
    expect(chips).to_have_text([chip("Country", country), chip("Category", category)])
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=screenshots / "segment-builder-desktop.png")
    popover_button(page, "Location").click()
    expect(page.get_by_role("combobox", name=re.compile(r"^States"))).to_be_visible()
    page.screenshot(path=screenshots / "segment-builder-location-desktop.png")
    page.keyboard.press("Escape")
    settled(page)
    # Saved, then opened from the Segments page by someone else: the same customers.
    name = f"{country} {category} {uuid.uuid4().hex[:6]}"
    page.get_by_role("button", name="Save segment").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog).to_be_hidden(timeout=20_000)
    settled(page)
    context = browser.new_context(base_url=live_server, viewport=DESKTOP)
    try:
        other = context.new_page()
        other.goto("/Segments")
        saved = other.locator('[class*="st-key-saved_segment_"]').filter(has_text=name)
        expect(saved).to_contain_text(f"{expected:,} customer", timeout=20_000)
        saved.get_by_role("link", name="Open").click()
        expect(other.locator(CARDS)).to_have_count(min(expected, 24), timeout=30_000)
        expect(other.locator(".st-key-segment_summary")).to_contain_text(f"{expected:,} of ")
    finally:
        context.close()
    # Removing the country chip keeps the category.
    chips.filter(has_text="Country:").click()
    expect(page).not_to_have_url(re.compile(r"country="))
    expect(page).to_have_url(re.compile(r"category="))
    expect(chips).to_have_text([chip("Category", category)])


def test_the_bar_on_a_phone(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    country, category, _ = _country_and_category(seeded)
    page.set_viewport_size(PHONE)
    open_home(page, f"?country={quote_plus(country)}&category={quote_plus(category)}&orders_min=2")
    expect(page.locator(".st-key-chip_row").get_by_role("button")).to_have_count(3)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=screenshots / "segment-builder-phone.png")
    popover_button(page, "Orders").click()
    expect(page.get_by_label("At least")).to_be_visible()
    page.screenshot(path=screenshots / "segment-builder-orders-phone.png")
