"""The Insights panel in a real Chromium against ``streamlit run`` (the session's live server):
its charts drawn at desktop and phone widths, and a click on a country bar
narrowing the cards to that country."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import quote_plus

import duckdb
import pytest
from browser_helpers import settled
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"
PAGE_SIZE = 24
CHARTS = 6


def open_insights(page: Page, query: str = "") -> Locator:
    page.goto(f"/{query}")
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)
    panel = page.locator(".st-key-insights_open")
    panel.get_by_text("Insights: this segment in charts").click()
    expect(panel.locator(".vega-embed svg")).to_have_count(CHARTS, timeout=30_000)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.evaluate("document.fonts.ready.then(() => true)")
    return panel


def chart(panel: Locator, title: str) -> Locator:
    return panel.locator('[data-testid="stVegaLiteChart"]').filter(has_text=title)


def picture(page: Page, panel: Locator, width: int, path: Path) -> None:
    """The whole panel at ``width``: the app scrolls inside its own container, so the
    window is made tall enough to hold the panel for the picture."""
    page.set_viewport_size({"width": width, "height": 4000})
    settled(page)
    expect(panel.locator(".vega-embed svg")).to_have_count(CHARTS)
    panel.screenshot(path=path)


def test_insights_at_desktop_and_phone_widths(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(DESKTOP)
    panel = open_insights(page)
    expect(panel.get_by_test_id("stMetric")).to_have_count(6)
    picture(page, panel, DESKTOP["width"], screenshots / "insights-desktop.png")

    page.set_viewport_size(PHONE)
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for svg in panel.locator(".vega-embed svg").all():
        box = svg.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"] + 1
    picture(page, panel, PHONE["width"], screenshots / "insights-phone.png")


def test_a_click_on_a_country_bar_shows_only_that_country(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    # The third most common country: a bar in the middle of the chart.
    (country, customers), *_ = seeded.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1 OFFSET 2"
    ).fetchall()
    panel = open_insights(page)
    countries = chart(panel, "Customers by country")
    bar = countries.locator(f'path[aria-label*="{country}"]').first
    started = time.perf_counter()
    bar.click()
    summary = page.locator(".st-key-segment_summary")
    expect(summary).to_contain_text(f"{customers:,} of ")
    # The target is 1 s at a million customers (benchmarks); seen here.
    print(f"click on a country bar -> count updated: {time.perf_counter() - started:.2f} s")
    expect(page).to_have_url(re.compile(rf"[?&]country={re.escape(quote_plus(country))}"))
    cards = page.locator(CARDS)
    expect(cards).to_have_count(min(customers, PAGE_SIZE))
    settled(page)
    for n in range(cards.count()):
        expect(cards.nth(n)).to_contain_text(country)
    # The panel now describes that country alone.
    expect(panel.get_by_test_id("stMetric").first).to_contain_text(f"{customers:,}")
    page.screenshot(path=screenshots / "insights-after-click.png")
