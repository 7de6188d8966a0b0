"""The Campaigns pages in a real Chromium against ``streamlit run``: the list, a row
clicked to open a campaign, its charts and lift sentence, a member clicked to open the
customer; screenshots at desktop and phone widths (tests/screenshots/)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from playwright.sync_api import Locator, Page, expect

from crm.campaigns import results

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
ROW = 35  # st.dataframe's default row height, in pixels; the header is one row too


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def click_row(page: Page, table: int, row: int) -> None:
    """Click the row's selection cell at the left of a data grid (a canvas: no DOM rows)."""
    grid = page.get_by_test_id("stDataFrame").nth(table)
    drawn(grid)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + ROW * (row + 1) + ROW / 2)


def drawn(grid: Locator) -> None:
    """Wait until the data grid has drawn its canvas (it shows a skeleton before)."""
    expect(grid.locator("canvas").first).to_be_visible(timeout=30_000)


def no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_open_a_campaign_from_the_list_and_a_member_from_it(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    found = results.campaign_results(seeded)
    newest = found[0]
    page.set_viewport_size(DESKTOP)
    open_page(page, "/Campaigns")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    # The first read of every campaign's results can take seconds on a busy machine.
    expect(page.get_by_text(f"{len(found)} campaigns")).to_be_visible(timeout=30_000)
    drawn(page.get_by_test_id("stDataFrame"))
    page.screenshot(path=screenshots / "campaigns-desktop.png", full_page=True)

    click_row(page, 0, 0)  # newest first
    expect(page).to_have_url(re.compile(rf"/Campaign\?id={newest.id}$"), timeout=30_000)
    settled(page)
    expect(page.get_by_role("heading", name=newest.name)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # Funnel, lift and opens by day.
    expect(page.locator(".vega-embed svg")).to_have_count(3, timeout=30_000)
    said = results.lift_sentence(newest).split(":")[0]
    expect(page.get_by_text(said, exact=False)).to_be_visible()
    page.screenshot(path=screenshots / "campaign-desktop.png", full_page=True)

    page.get_by_role("heading", name="Members").scroll_into_view_if_needed()
    drawn(page.get_by_test_id("stDataFrame"))
    page.screenshot(path=screenshots / "campaign-members-desktop.png")

    page.set_viewport_size(PHONE)
    settled(page)
    page.get_by_role("heading", name=newest.name).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "campaign-phone.png")
    page.locator(".vega-embed").first.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "campaign-phone-charts.png")
    no_sideways_scrolling(page)

    page.set_viewport_size(DESKTOP)
    settled(page)
    first_member = results.members(seeded, newest.id, 1).rows["customer_id"].iloc[0]
    click_row(page, 0, 0)  # the members table is the page's only grid
    expect(page).to_have_url(re.compile(rf"/Customer\?id={first_member}$"), timeout=30_000)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_list_at_phone_width(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    open_page(page, "/Campaigns")
    drawn(page.get_by_test_id("stDataFrame"))
    page.screenshot(path=screenshots / "campaigns-phone.png", full_page=True)
    no_sideways_scrolling(page)


def test_a_bad_id_says_so(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_page(page, "/Campaign?id=nope")
    expect(page.get_by_role("heading", name="Campaign not found")).to_be_visible()
    page.get_by_role("link", name="Back to all campaigns").click()
    expect(page).to_have_url(re.compile(r"/Campaigns$"))
