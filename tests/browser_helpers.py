"""Locators the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


def popover_button(page: Page, name: str | re.Pattern[str]) -> Locator:
    """A filter popover's own button, by its accessible name; never the chip of the same
    filter ("Spending: $123+ ✕"), whose name starts the same way."""
    return page.get_by_role("button", name=name).and_(page.get_by_test_id("stPopoverButton"))


def settled(page: Page) -> None:
    """Wait until the app's script run is over."""
    expect(
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ).to_have_count(1, timeout=30_000)
