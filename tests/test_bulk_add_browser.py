"""Add a filtered segment to a new campaign with a 10 % control group, in a real Chromium
against ``streamlit run``: the filter is set through its widget, the numbers shown before
anything is written are checked against the seeded data, and the toast after.

Push, which no consent gates, so the numbers do not depend on the demo's consent shares.
Screenshots of the dialog at desktop and phone widths go to tests/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import duckdb
import pytest
from browser_helpers import popover_button, settled
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SPEND_MIN = 200


def _filtered_overview(page: Page) -> None:
    page.goto("/")
    settled(page)
    expect(page.locator("article.card").first).to_be_visible(timeout=30_000)
    popover_button(page, re.compile(r"^Spending")).click()
    low = page.get_by_label("Minimum ($)")
    low.fill(str(SPEND_MIN))
    low.press("Enter")
    expect(page).to_have_url(re.compile(rf"[?&]spend_min={SPEND_MIN}(&|$)"))
    page.keyboard.press("Escape")
    settled(page)


def _new_push_campaign(page: Page, name: str) -> None:
    page.get_by_role("button", name="Add to campaign").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("radio", name="New campaign").click()
    settled(page)
    dialog.get_by_role("textbox", name="Campaign name").fill(name)
    dialog.get_by_role("radio", name="Push", exact=True).click()
    settled(page)
    template = dialog.get_by_role("textbox", name="Message template")
    template.fill("Hi [First Name], new arrivals near [City]!")
    template.blur()
    settled(page)


def test_add_a_filtered_segment_to_a_new_campaign_with_a_control_group(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    _filtered_overview(page)
    # This module's server runs on a fresh copy of the seeded template (conftest).
    row = seeded.execute(
        "SELECT count(*) FROM customers WHERE total_spending >= ?", [SPEND_MIN]
    ).fetchone()
    assert row is not None
    in_segment = int(row[0])
    control = (in_segment + 5) // 10
    name = f"Spring *push* {uuid.uuid4().hex[:6]}"

    _new_push_campaign(page, name)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("10 %")).to_be_visible()  # the slider's default
    dialog.get_by_role("button", name="Review numbers").click()
    settled(page)
    expect(dialog.get_by_text(f"{in_segment:,} customers in the segment.")).to_be_visible(
        timeout=20_000
    )
    expect(
        dialog.get_by_text(
            f"{control:,} held out at random as the control group (10\u00a0%): never sent anything."
        )
    ).to_be_visible()
    expect(dialog.get_by_text(f"{in_segment - control:,} queued to be sent.")).to_be_visible()
    expect(dialog.get_by_text(f"Campaign: {name} (Push)")).to_be_visible()
    dialog.screenshot(path=screenshots / "bulk-add-confirm-desktop.png")
    dialog.get_by_role("button", name=f"Add {in_segment:,} customers").click()
    expect(dialog).to_be_hidden(timeout=30_000)
    toast = page.get_by_test_id("stToast")
    expect(
        toast.filter(
            has_text=f"Queued {in_segment - control:,} customers in “{name}”"
            f" and held out {control:,} as the control group."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_dialog_at_phone_width(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    _filtered_overview(page)
    page.locator(".st-key-page_header").screenshot(path=screenshots / "bulk-add-header-phone.png")
    name = f"Phone {uuid.uuid4().hex[:6]}"
    _new_push_campaign(page, name)
    dialog = page.get_by_role("dialog")
    dialog.screenshot(path=screenshots / "bulk-add-choose-phone.png")
    dialog.get_by_role("button", name="Review numbers").click()
    settled(page)
    expect(dialog.get_by_text(re.compile(r"queued to be sent\.$"))).to_be_visible(timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    dialog.screenshot(path=screenshots / "bulk-add-confirm-phone.png")
    dialog.get_by_role("button", name="Back").click()  # nothing written
    settled(page)
    expect(dialog.get_by_role("button", name="Review numbers")).to_be_visible(timeout=20_000)
    expect(dialog.get_by_role("textbox", name="Campaign name")).to_have_value(name)
