"""The Customer page in a real Chromium against ``streamlit run`` (the session's live server).

Expectations are computed from the seeded template the live server started
from (read-only). Each test that changes data works on its own seeded
customer, picked by rank, so tests do not depend on each other's order.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from crm import formatting

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"  # drawn by the card grid component; CSS locators see into its shadow root
# Customers with every part of the page filled: orders, a phone and attempted sends.
BUSY = """
    SELECT id, first_name || ' ' || last_name AS name, order_count, email
    FROM customers
    WHERE order_count > 2 AND phone <> '' AND street <> '' AND last_visit IS NOT NULL
      AND id IN (SELECT customer_id FROM campaign_sends WHERE status <> 'Queued')
      -- Messages and campaigns go only to subscribers (crm.consent).
      AND email_consent = 'Subscribed' AND sms_consent = 'Subscribed'
    ORDER BY total_spending DESC, id
"""


def busy(con: duckdb.DuckDBPyConnection, rank: int) -> tuple[int, str, int, str]:
    """The ``rank``-th busy customer (id, name, orders, email); each test uses its own rank."""
    rows = con.execute(BUSY).fetchall()
    cid, name, orders, email = rows[rank]
    return int(cid), str(name), int(orders), str(email)


def open_customer(page: Page, customer_id: int, name: str) -> None:
    page.goto(f"/Customer?id={customer_id}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=30_000)
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def open_dialog(page: Page, customer_id: int, name: str, button: str) -> Locator:
    """The customer's page at desktop width, with the dialog behind ``button`` open."""
    page.set_viewport_size(DESKTOP)
    open_customer(page, customer_id, name)
    page.get_by_role("button", name=button).click()
    return page.get_by_role("dialog")


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stToast").filter(has_text=text)


def grid(page: Page, header: str) -> Locator:
    """A st.dataframe by one of its column headers; its rows are in an accessible table."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator('th[role="columnheader"]', has_text=header)
    )


def grid_rows(page: Page, header: str) -> Locator:
    return grid(page, header).locator('tbody tr[role="row"]')


def history_has(page: Page, text: str) -> None:
    # The accessible table holds the rows in view; a new entry is the newest, on top.
    expect(grid(page, "Campaign").locator("td", has_text=text).first).to_be_attached()


def test_open_from_a_card_shows_charts_and_filled_histories(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    card = page.locator(CARDS).first
    expect(card).to_be_visible(timeout=30_000)
    name = card.get_by_role("link")
    label = name.inner_text().strip()
    name.click()
    expect(page).to_have_url(re.compile(r"/Customer\?id=\d+$"))
    customer_id = int(page.url.rsplit("=", 1)[1])
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()
    expect(page).to_have_title(f"{label} · Customer Hub")
    settled(page)

    orders, sends, messages = seeded.execute(
        "SELECT order_count,"
        " (SELECT count(*) FROM campaign_sends WHERE customer_id = c.id),"
        " (SELECT count(*) FROM messages WHERE customer_id = c.id)"
        " FROM customers c WHERE id = ?",
        [customer_id],
    ).fetchone()
    assert orders > 0, "the first card is the top spender: it has orders"
    # Spending by month, top items, top categories (+ engagement when sends were attempted).
    expect(page.locator(".vega-embed svg").nth(2)).to_be_visible()
    expect(page.locator(".vega-embed").first).to_contain_text("Spending by month")
    expect(grid(page, "Amount").locator("table")).to_have_attribute(
        "aria-rowcount", str(orders + 1)
    )
    expect(grid_rows(page, "Amount").first).to_contain_text("×")
    expect(grid(page, "Campaign").locator("table")).to_have_attribute(
        "aria-rowcount", str(sends + messages + 1)
    )
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_edit_with_a_toast(page: Page, seeded: duckdb.DuckDBPyConnection) -> None:
    customer_id, name, _, email = busy(seeded, 1)
    dialog = open_dialog(page, customer_id, name, "Edit")
    expect(dialog.get_by_label("Email", exact=True)).to_have_value(email)
    new_first = f"Zed{uuid.uuid4().hex[:6]}"
    dialog.get_by_label("First name").fill(new_first)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    new_name = f"{new_first} {name.split(' ', 1)[1]}"
    expect(toast(page, f"Saved {new_name}")).to_be_visible()
    expect(page.get_by_role("heading", name=new_name, exact=True)).to_be_visible()


def test_send_a_message_and_see_it_in_the_history(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    customer_id, name, _, _ = busy(seeded, 2)
    first = name.split(" ", 1)[0]
    dialog = open_dialog(page, customer_id, name, "Send message")
    tag = uuid.uuid4().hex[:6]
    dialog.get_by_role("textbox", name="Subject").fill(f"Offer {tag} for [First Name]")
    dialog.get_by_role("textbox", name="Subject").press("Enter")
    box = dialog.get_by_role("textbox", name="Message")
    box.fill("Hi [First Name], here's 20% off!")
    box.press("Control+Enter")
    preview = page.locator(".st-key-message_preview")
    expect(preview).to_contain_text(f"Hi {first}, here's 20% off!")
    expect(preview).to_contain_text(f"Subject: Offer {tag} for {first}")
    dialog.get_by_role("button", name="Send message").click()
    expect(dialog).to_be_hidden()
    queued = f"Email to {name} queued in the outbox: email delivery is not configured."
    expect(toast(page, queued)).to_be_visible()
    history_has(page, f"Offer {tag} for {first}")


def test_an_unsent_draft_never_reaches_another_customer(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    first_id, first_name, _, _ = busy(seeded, 6)
    second_id, second_name, _, _ = busy(seeded, 7)
    dialog = open_dialog(page, first_id, first_name, "Send message")
    box = dialog.get_by_role("textbox", name="Message")
    box.fill(f"Dear {first_name}, about your last order")
    box.press("Control+Enter")
    expect(page.locator(".st-key-message_preview")).to_contain_text(first_name)
    page.keyboard.press("Escape")  # closed without sending
    expect(dialog).to_be_hidden()
    # To the other customer as users go: back to the list, then their card.
    page.get_by_role("link", name="All customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_placeholder("Search by name or email").fill(second_name)
    card = page.locator(CARDS).filter(has=page.get_by_role("link", name=second_name, exact=True))
    card.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/Customer\?id={second_id}$"))
    expect(page.get_by_role("heading", name=second_name, exact=True)).to_be_visible()
    settled(page)
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("dialog").get_by_role("textbox", name="Message")).to_have_value("")


def test_unknown_merge_field_is_explained_in_the_preview(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    customer_id, name, _, _ = busy(seeded, 2)
    dialog = open_dialog(page, customer_id, name, "Send message")
    dialog.get_by_role("textbox", name="Message").fill("Hi [Frist Name]")
    dialog.get_by_role("textbox", name="Message").press("Control+Enter")
    expect(dialog.get_by_test_id("stAlert")).to_contain_text("Did you mean [First Name]?")


def test_add_to_a_new_campaign_and_see_it(page: Page, seeded: duckdb.DuckDBPyConnection) -> None:
    customer_id, name, _, _ = busy(seeded, 3)
    dialog = open_dialog(page, customer_id, name, "Add to campaign")
    dialog.get_by_role("radio", name="New campaign").click()
    campaign = f"Comeback {uuid.uuid4().hex[:6]}"
    dialog.get_by_role("textbox", name="Campaign name").fill(campaign)
    dialog.get_by_role("textbox", name="Message template").fill("Hi [First Name], we miss you!")
    dialog.get_by_role("button", name="Create and add").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, f"Created “{campaign}” and added {name}.")).to_be_visible()
    history_has(page, campaign)


def _png(colour: str, size: int = 300) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_upload_a_picture_and_see_it_on_the_page_and_the_card(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    customer_id, name, _, email = busy(seeded, 5)
    dialog = open_dialog(page, customer_id, name, "Picture")
    # A text file dressed as a picture is refused in words.
    dialog.locator('input[type="file"]').set_input_files(
        {"name": "face.png", "mimeType": "image/png", "buffer": b"not an image at all"}
    )
    expect(dialog.get_by_role("button", name="Save picture")).to_be_disabled()
    expect(dialog).to_contain_text("not a picture")
    dialog.locator('input[type="file"]').set_input_files(
        {"name": "portrait.png", "mimeType": "image/png", "buffer": _png("#88c0d0")}
    )
    expect(dialog).to_contain_text("portrait.png")
    expect(dialog).not_to_contain_text("face.png")
    settled(page)
    dialog.get_by_role("button", name="Save picture").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, f"New picture saved for {name}.")).to_be_visible()
    # The profile shows the picture instead of initials ...
    expect(page.locator(".crm-head .ch-avatar img")).to_have_attribute(
        "src", re.compile(r"^data:image/webp;base64,")
    )
    # ... and so does the customer's card on the overview.
    page.goto(f"/?q={email}")
    card = page.locator(CARDS).filter(has=page.get_by_role("link", name=name, exact=True))
    expect(card.locator(".avatar img")).to_have_attribute(
        "src", re.compile(r"^data:image/webp;base64,")
    )


def test_delete_with_confirmation_goes_back_to_the_overview(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    customer_id, name, _, email = busy(seeded, 4)
    dialog = open_dialog(page, customer_id, name, "Delete")
    expect(dialog).to_contain_text(f"Delete {name} ({email})")
    dialog.get_by_role("button", name="Delete customer").click()
    expect(toast(page, f"Deleted {name}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.goto(f"/Customer?id={customer_id}")
    expect(page.get_by_role("heading", name="Customer not found")).to_be_visible()


def test_a_bad_id_offers_the_way_back(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/Customer?id=not-a-number")
    expect(page.get_by_role("heading", name="Customer not found")).to_be_visible()
    expect(page).to_have_title("Customer not found · Customer Hub")
    page.get_by_role("link", name="Back to all customers").click()
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return [document.documentElement.scrollWidth - window.innerWidth,"
        " m ? m.scrollWidth - m.clientWidth : 0]; }"
    )
    assert overflow == [0, 0], overflow


@pytest.mark.parametrize(
    ("viewport", "filename"),
    [(DESKTOP, "customer-desktop.png"), (PHONE, "customer-phone.png")],
    ids=["desktop", "phone"],
)
def test_screenshots(
    page: Page,
    seeded: duckdb.DuckDBPyConnection,
    screenshots: Path,
    viewport: dict[str, int],
    filename: str,
) -> None:
    page.set_viewport_size(viewport)
    customer_id, name, orders, _ = busy(seeded, 0)
    open_customer(page, customer_id, name)
    expect(page.locator(".vega-embed svg").nth(3)).to_be_visible()
    expect(grid(page, "Amount").locator("table")).to_have_attribute(
        "aria-rowcount", str(orders + 1)
    )
    spent = seeded.execute(
        "SELECT total_spending FROM customers WHERE id = ?", [customer_id]
    ).fetchone()
    assert spent is not None
    expect(page.get_by_test_id("stMetric").first).to_contain_text(formatting.money(spent[0]))
    _no_sideways_scroll(page)
    page.screenshot(path=screenshots / filename)
