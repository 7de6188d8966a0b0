"""Saved segments and scores in a real Chromium against ``streamlit run``.

A segment is built through the filter widgets, saved, and opened from the
Segments page in a new browser context (no shared session); the card's RFM
label and the customer page's Scores panel are looked at, at desktop and
phone widths (screenshots in tests/screenshots/).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from browser_helpers import popover_button
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"
SUMMARY = re.compile(r"([\d,]+) of [\d,]+ customers")


def settled(page: Page) -> None:
    expect(
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ).to_have_count(1, timeout=20_000)


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def segment_count(page: Page) -> int:
    summary = page.locator(".st-key-segment_summary")
    expect(summary).to_have_text(SUMMARY)
    match = SUMMARY.search(summary.inner_text())
    assert match is not None
    return int(match.group(1).replace(",", ""))


def saved_box(page: Page, name: str) -> Locator:
    return page.locator('[class*="st-key-saved_segment_"]').filter(has_text=name)


def no_sideways_scrolling(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # type: ignore[index]


def test_save_a_segment_and_open_it_in_a_new_browser(
    page: Page, browser: Browser, live_server: str, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    open_page(page, "/")
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)
    # Build the segment through the widgets: a last-visit preset, then spending from $200.
    popover_button(page, re.compile(r"^Last visit")).click()
    page.get_by_role("radiogroup").get_by_text("Last 90 days", exact=True).click()
    settled(page)
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"[?&]days=90(&|$)"))
    settled(page)
    popover_button(page, re.compile(r"^Spending")).click()
    low = page.get_by_label("Minimum ($)")
    low.fill("200")
    low.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]spend_min=200(&|$)"))
    page.keyboard.press("Escape")
    settled(page)
    expect(page).to_have_url(re.compile(r"\?(?=.*spend_min=200)(?=.*days=90)"))
    count = segment_count(page)

    name = f"Recent *spenders* {uuid.uuid4().hex[:6]}"
    page.get_by_role("button", name="Save segment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Description (optional)").fill("Spent $200+, visited lately")
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("stToast").filter(has_text=f"Saved segment {name}")).to_be_visible()
    # The name shows as typed (asterisks and all), not as Markdown.
    expect(page.get_by_text(f"Saved segment: {name}")).to_be_visible()
    settled(page)
    page.screenshot(path=screenshots / "overview-saved-segment-desktop.png")

    page.get_by_role("link", name="Segments").click()
    expect(page).to_have_url(re.compile(r"/Segments"))
    box = saved_box(page, name)
    expect(box).to_be_visible(timeout=20_000)
    expect(box.get_by_text(re.compile(rf"^{count:,} customers? · "))).to_be_visible()
    expect(box.get_by_text("Spent $200+, visited lately")).to_be_visible()
    settled(page)
    page.screenshot(path=screenshots / "segments-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    settled(page)
    no_sideways_scrolling(page)
    page.screenshot(path=screenshots / "segments-phone.png", full_page=True)

    # Another person, another browser: no session shared with the first.
    context = browser.new_context(base_url=live_server, viewport=DESKTOP)
    try:
        other = context.new_page()
        open_page(other, "/Segments")
        saved_box(other, name).get_by_role("link", name="Open").click()
        expect(other.locator(CARDS).first).to_be_visible(timeout=30_000)
        expect(other).to_have_url(re.compile(r"[?&]spend_min=200(&|$)"), timeout=20_000)
        expect(other).not_to_have_url(re.compile(r"[?&]segment="))
        settled(other)
        assert segment_count(other) == count
        expect(other.get_by_text(re.compile(rf"Saved segment: {re.escape(name)}$"))).to_be_visible()
        expect(other.get_by_text("(filters changed)")).to_have_count(0)
    finally:
        context.close()


def test_a_card_shows_its_rfm_label_and_the_customer_page_its_scores(
    page: Page, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    open_page(page, "/")
    first = page.locator(CARDS).first
    expect(first).to_be_visible(timeout=30_000)
    label = first.locator(".rfm")
    expect(label).to_have_text(
        re.compile(
            r"^(Champions|Loyal|Potential loyalist|New|Promising|Need attention|About to sleep"
            r"|At risk|Can't lose them|Hibernating|Lost|No orders)$"
        )
    )
    group = label.inner_text()
    expect(label).to_have_attribute("title", re.compile(rf"^RFM group: {re.escape(group)}\. "))
    first.screenshot(path=screenshots / "card-rfm-label-desktop.png")

    first.get_by_role("link").first.click()
    panel = page.locator(".st-key-customer_scores")
    expect(panel).to_be_visible(timeout=30_000)
    expect(panel.get_by_text("Scores", exact=True)).to_be_visible()
    # escape_markdown puts an invisible word joiner after a colon (no :icon: syntax).
    expect(
        panel.get_by_text(re.compile(rf"^R\d F\d M\d, {re.escape(group)}:\u2060? "))
    ).to_be_visible()
    expect(
        panel.get_by_text(re.compile(r"^(Usually orders|One order so far|No orders yet)"))
    ).to_be_visible()
    expect(panel.get_by_text(re.compile(r"^Quintiles computed"))).to_be_visible()
    settled(page)
    page.screenshot(path=screenshots / "customer-scores-desktop.png")
    panel.screenshot(path=screenshots / "scores-panel-desktop.png")

    page.set_viewport_size(PHONE)
    settled(page)
    no_sideways_scrolling(page)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=screenshots / "scores-panel-phone.png")
    page.go_back()
    card = page.locator(CARDS).first
    expect(card).to_be_visible(timeout=30_000)
    card.screenshot(path=screenshots / "card-rfm-label-phone.png")
