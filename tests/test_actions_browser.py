"""The customer page's dialogs (crm.ui.actions) in a real Chromium against ``streamlit run``.

Each test that changes data works on its own seeded customer, picked by rank
from the end of the list, so these tests and test_customer_browser's (which
count from the start) never share one.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Request, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
BUSY = """
    SELECT id, first_name || ' ' || last_name AS name
    FROM customers
    WHERE order_count > 2 AND phone <> '' AND street <> '' AND last_visit IS NOT NULL
      -- Messages and campaigns go only to subscribers (crm.consent).
      AND email_consent = 'Subscribed' AND sms_consent = 'Subscribed'
    ORDER BY total_spending DESC, id
"""


def customer(con: duckdb.DuckDBPyConnection, rank: int) -> tuple[int, str]:
    """The ``rank``-th busy customer counted from the end (rank 1 is the last)."""
    cid, name = con.execute(BUSY).fetchall()[-rank]
    return int(cid), str(name)


def open_customer(page: Page, customer_id: int, name: str, size: dict[str, int] = DESKTOP) -> None:
    page.set_viewport_size(size)
    page.goto(f"/Customer?id={customer_id}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=30_000)
    settled(page)


def open_dialog(page: Page, button: str) -> Locator:
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stToast").filter(has_text=text)


def toast_text(page: Page, starts: str) -> str:
    """The text a reader sees in the toast that starts with ``starts``.

    Escaped user text carries invisible word joiners (crm.formatting.WORD_JOINER)
    that stop links being found; a reader does not see them, so they are dropped.
    """
    shown = toast(page, starts).first
    expect(shown).to_be_visible(timeout=20_000)
    return shown.get_by_test_id("stMarkdownContainer").inner_text().replace("\u2060", "")


# --- Item 3: a hostile name shows literally and fetches nothing --------------------

IMAGE_NAME = "![i](http://127.0.0.1:9/px.png)"


def test_a_hostile_first_name_shows_literally_in_the_toasts_and_fetches_nothing(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    cid, name = customer(seeded, 1)
    last = name.split(" ", 1)[1]
    fetched: list[str] = []

    def watch(request: Request) -> None:
        if "127.0.0.1:9/" in request.url:
            fetched.append(request.url)

    page.on("request", watch)
    open_customer(page, cid, name)
    dialog = open_dialog(page, "Edit")
    dialog.get_by_label("First name").fill(IMAGE_NAME)
    dialog.get_by_label("Last name").fill(f"*x* $a$ and $b$ {last}")
    dialog.get_by_role("button", name="Save").click()
    hostile = f"{IMAGE_NAME} *x* $a$ and $b$ {last}"
    assert toast_text(page, "Saved") == f"Saved {hostile}"
    expect(page.get_by_role("heading", name=hostile, exact=True)).to_be_visible()

    dialog = open_dialog(page, "Send message")
    dialog.get_by_role("textbox", name="Message").fill("Hello [First Name]")
    dialog.get_by_role("textbox", name="Message").blur()
    settled(page)
    dialog.get_by_role("button", name="Send message").click()
    assert toast_text(page, "Email to") == (
        f"Email to {hostile} queued in the outbox: email delivery is not configured."
    )
    # Nothing of the name became markup: no image, no emphasis, no maths, no link.
    expect(toast(page, "Email to").locator("img, em, strong, .katex, a")).to_have_count(0)
    settled(page)
    assert fetched == []


# --- Item 22: the picture dialog previews the upload before Save --------------------


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 500), colour).save(out, format="PNG")
    return out.getvalue()


def test_the_picture_dialog_previews_the_upload_before_it_is_saved(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    cid, name = customer(seeded, 2)
    for size, label in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        open_customer(page, cid, name, size)
        dialog = open_dialog(page, "Picture")
        expect(dialog.locator(".ch-avatar img")).to_have_count(0)  # initials, no picture yet
        dialog.locator('input[type="file"]').set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": _png("#227744")}]
        )
        preview = dialog.locator(".ch-avatar img")
        expect(preview).to_be_visible(timeout=20_000)
        expect(dialog.get_by_text("Preview: the picture as it will be saved.")).to_be_visible()
        # A square WebP, drawn round, before anything was stored.
        assert preview.get_attribute("src").startswith("data:image/webp;base64,")
        box = preview.bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) < 1
        settled(page)
        page.screenshot(path=screenshots / f"picture-preview-{label}.png")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    # Dismissed without Save: the profile still shows initials.
    expect(page.locator(".crm-head .ch-avatar img")).to_have_count(0)


# --- Item 17: merge-field chips insert at the cursor and never stay selected ---------


def test_a_merge_field_chip_inserts_at_the_cursor_and_the_cursor_follows_it(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    cid, name = customer(seeded, 3)
    first, city = seeded.execute(
        "SELECT first_name, city FROM customers WHERE id = ?", [cid]
    ).fetchone()
    open_customer(page, cid, name)
    dialog = open_dialog(page, "Send message")
    message = dialog.get_by_role("textbox", name="Message")
    # An instruction, not sample text that looks written.
    assert (
        message.get_attribute("placeholder") == "Write the message here, or start from the example."
    )
    message.fill("Hello there")
    message.press("Home")
    for _ in range(6):
        message.press("ArrowRight")  # the cursor after "Hello "
    chips = dialog.get_by_role("group", name="Insert a merge field at the cursor")
    chips.get_by_role("button", name="City", exact=True).click()
    expect(message).to_have_value("Hello [City] there")
    expect(message).to_be_focused()
    page.keyboard.type(",")  # typing goes on right after the field
    expect(message).to_have_value("Hello [City], there")
    # A second field at the very start, chosen with the keyboard this time.
    message.press("Control+Home")
    chip = chips.get_by_role("button", name="First Name", exact=True)
    chip.focus()
    page.keyboard.press("Enter")
    expect(message).to_have_value("[First Name] Hello [City], there")
    # The chips are plain buttons: nothing stays selected.
    expect(chips.locator("[aria-pressed], [aria-checked], [aria-selected]")).to_have_count(0)
    message.blur()
    settled(page)
    preview = dialog.get_by_test_id("stText").filter(has_text="Hello")
    expect(preview).to_have_text(f"{first} Hello {city}, there")
    page.screenshot(path=screenshots / "message-dialog-desktop.png")
    page.set_viewport_size(PHONE)
    settled(page)
    page.screenshot(path=screenshots / "message-dialog-phone.png")


# --- Item 22: the campaign picker shows each campaign's date and sends --------------


def test_the_campaign_picker_shows_when_each_campaign_was_made_and_if_it_went_out(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    cid, name = customer(seeded, 4)
    # The campaign most sent to; tests only ever queue sends, which do not count as sent.
    title, channel, created, sent = seeded.execute(
        "SELECT c.name, c.channel, c.created_at, count(*) FROM campaigns c"
        " JOIN campaign_sends s ON s.campaign_id = c.id"
        " WHERE s.status IN ('Delivered', 'Failed')"
        " GROUP BY ALL ORDER BY count(*) DESC, c.name LIMIT 1"
    ).fetchone()
    expected = (
        f"{title} ({channel}) · created {created:%b} {created.day}, {created.year} · {sent:,} sent"
    )
    for size, label in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        open_customer(page, cid, name, size)
        dialog = open_dialog(page, "Add to campaign")
        dialog.get_by_role("combobox").click()
        options = page.get_by_role("option")
        expect(options.filter(has_text=expected)).to_have_count(1)
        page.screenshot(path=screenshots / f"campaign-picker-{label}.png")
        options.filter(has_text=expected).click()
        # Cut short in the box on a phone: the facts are repeated in full below it.
        facts = expected.split(" · created ", 1)[1]
        expect(dialog.get_by_text(f"Created {facts}", exact=True)).to_be_visible()
        page.screenshot(path=screenshots / f"campaign-picked-{label}.png")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


# --- Item 13: saving an edit after another user deleted the customer ---------------


def test_an_edit_saved_after_another_user_deleted_the_customer_says_it_was_not_saved(
    page: Page,
    browser: Browser,
    live_server: str,
    seeded: duckdb.DuckDBPyConnection,
    screenshots: Path,
) -> None:
    cid, name = customer(seeded, 5)
    open_customer(page, cid, name)
    mine = open_dialog(page, "Edit")
    mine.get_by_label("City").fill("Not saved")
    # Another user, in their own browser session, deletes the customer meanwhile.
    other = browser.new_page(base_url=live_server)
    open_customer(other, cid, name)
    theirs = open_dialog(other, "Delete")
    theirs.get_by_role("button", name="Delete customer").click()
    expect(toast(other, f"Deleted {name}")).to_be_visible(timeout=20_000)
    other.close()

    mine.get_by_role("button", name="Save").click()
    settled(page)
    # (Escaped text carries invisible word joiners after ":".)
    said = re.compile(r"Your changes were not saved:\W*this customer was deleted")
    expect(mine.get_by_role("alert").filter(has_text=said)).to_be_visible()
    expect(page.get_by_role("heading", name="Customer not found")).to_be_attached()
    page.screenshot(path=screenshots / "edit-after-delete-desktop.png")
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "edit-after-delete-phone.png")
    mine.locator(".st-key-dialog_close button").click()
    expect(mine).to_be_hidden()
    expect(page.get_by_role("heading", name="Customer not found")).to_be_visible()
