"""Marketing consent in a real Chromium: the customer page's Marketing panel, changed
through its dialog as a person does, and refused in the message dialog; the overview's
Marketing filter set through its widget; screenshots at desktop and phone width."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from browser_helpers import popover_button, settled
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# Subscribed to email, not asked for SMS, with a phone: the panel shows both kinds,
# and SMS can be subscribed in the dialog.
PICK = """
    SELECT id, first_name || ' ' || last_name
    FROM customers
    WHERE email_consent = 'Subscribed' AND sms_consent = 'Not asked' AND phone <> ''
      AND order_count > 2
    ORDER BY id DESC
    LIMIT 1
"""


def _open(page: Page, customer_id: int, name: str) -> None:
    page.goto(f"/Customer?id={customer_id}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=30_000)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_marketing_panel_edited_through_its_dialog(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    row = seeded.execute(PICK).fetchone()
    assert row is not None
    customer_id, name = int(row[0]), str(row[1])
    page.set_viewport_size(DESKTOP)
    _open(page, customer_id, name)
    panel = page.locator(".st-key-customer_marketing")
    expect(panel).to_contain_text("Gets email marketing. Subscribed on")
    expect(panel).to_contain_text("Not asked yet, so no SMS marketing until they subscribe.")

    # A personalised SMS is refused, with the reason, before anything is written.
    page.get_by_role("button", name="Send message").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("SMS", exact=True).click()
    expect(dialog).to_contain_text(f"{name} has not subscribed to SMS.")
    expect(dialog.get_by_role("button", name="Send message")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    panel.get_by_role("button", name="Manage marketing").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Subscribe a customer only when they agreed")
    sms = dialog.get_by_test_id("stRadio").filter(has_text="SMS marketing")
    sms.get_by_text("Subscribed", exact=True).click()
    dialog.get_by_role("button", name="Save").click()
    # The save and the page's rerun take a few seconds on a busy machine.
    toast = page.get_by_test_id("stToast").filter(has_text="SMS subscribed")
    expect(toast).to_be_visible(timeout=20_000)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(panel).to_contain_text("Gets SMS marketing. Subscribed on")

    # Opened afresh (another visit, no toast over the panel), at both widths.
    _open(page, customer_id, name)
    expect(panel).to_contain_text("Gets SMS marketing. Subscribed on")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=screenshots / "consent-panel-desktop.png")

    page.set_viewport_size(PHONE)
    _open(page, customer_id, name)
    expect(panel).to_contain_text("Gets SMS marketing. Subscribed on")
    # Nothing wider than the phone's screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "consent-panel-phone.png")


def test_the_overview_filter_set_through_its_widget(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    expected = seeded.execute(
        "SELECT count(*) FROM customers WHERE email_consent = 'Unsubscribed'"
    ).fetchone()
    assert expected is not None and expected[0] > 0
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    settled(page)
    popover_button(page, "Marketing").click()
    box = page.get_by_role("combobox", name=re.compile(r"^Email marketing"))
    expect(box).to_be_visible()
    box.click()
    page.get_by_role("option", name="Unsubscribed", exact=True).click()
    settled(page)
    page.screenshot(path=screenshots / "consent-filter-desktop.png")
    page.keyboard.press("Escape")
    settled(page)
    expect(page).to_have_url(re.compile(r"[?&]email_consent=Unsubscribed(&|$)"))
    expect(page.locator(".st-key-segment_summary")).to_contain_text(f"{expected[0]:,} of ")
    chips = page.locator(".st-key-chip_row").get_by_role("button")
    expect(chips).to_have_text([re.compile(r"^Email marketing:\u2060? Unsubscribed ✕$")])
    expect(popover_button(page, re.compile(r"^Marketing · 1"))).to_be_visible()
