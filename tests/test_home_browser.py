"""Home in a real Chromium against ``streamlit run`` (the session's live server).

Customers these tests add carry a random tag in their name and email, so the
tests do not depend on each other's order, and searches for seeded data never
match them (their words - "Zed", "Qtest", "example.com" - are not searched).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import duckdb
import pytest
from browser_helpers import popover_button, settled
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"  # drawn by the card grid component; CSS locators see into its shadow root
PAGE_SIZE = 24
ADDED_WORDS = "zed qtest example.com"


def open_home(page: Page, query: str = "") -> None:
    page.goto(f"/{query}")
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def fully_drawn(page: Page) -> None:
    """Every card's buttons and the filter bar drawn, fonts loaded: ready for a picture."""
    settled(page)
    expect(page.locator(CARDS).last.get_by_role("button", name="Delete")).to_be_visible()
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add customer")).to_be_visible()
    page.evaluate("document.fonts.ready.then(() => true)")


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stToast").filter(has_text=text)


def card_named(page: Page, name: str) -> Locator:
    return page.locator(CARDS).filter(has=page.get_by_role("link", name=name, exact=True)).first


def add_customer(page: Page, first: str, last: str | None = None) -> tuple[str, str]:
    """Add a customer through the dialog; returns (full name, email)."""
    tag = uuid.uuid4().hex[:8]
    last = last or f"Qtest{tag}"
    email = f"zed.{tag}@example.com"
    page.get_by_role("button", name="Add customer").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("First name").fill(first)
    dialog.get_by_label("Last name").fill(last)
    dialog.get_by_label("Email", exact=True).fill(email)
    dialog.get_by_label("City").fill("Springfield")
    dialog.get_by_role("button", name="Add customer").click()
    expect(dialog).to_be_hidden(timeout=20_000)
    return f"{first} {last}", email


def test_search_updates_the_cards_while_typing(
    page: Page, seeded: duckdb.DuckDBPyConnection, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    total = seeded.execute("SELECT count(*) FROM customers").fetchone()
    assert total is not None
    expect(page.locator(CARDS)).to_have_count(PAGE_SIZE)
    fully_drawn(page)
    page.screenshot(path=screenshots / "home-desktop.png")

    # A term from the data (part of the top spender's last name) that the
    # customers added by other tests cannot contain.
    row = seeded.execute(
        "SELECT last_name FROM customers ORDER BY total_spending DESC, id LIMIT 1"
    ).fetchone()
    assert row is not None
    term = next(
        row[0][i : i + 4].lower()
        for i in range(len(row[0]) - 3)
        if row[0][i : i + 4].lower() not in ADDED_WORDS
        and not re.fullmatch(r"[0-9a-f]+", row[0][i : i + 4].lower())
    )
    expected = seeded.execute(
        "SELECT count(*) FROM customers"
        " WHERE strpos(lower(first_name || ' ' || last_name || ' ' || email), ?) > 0",
        [term],
    ).fetchone()
    assert expected is not None and expected[0] >= 1

    search = page.get_by_label("Search", exact=True)
    search.press_sequentially(term.upper(), delay=60)  # no Enter: the search is live
    summary = page.locator(".st-key-segment_summary")
    expect(summary).to_contain_text(f"{expected[0]:,} of ")
    expect(page.locator(CARDS)).to_have_count(min(expected[0], PAGE_SIZE))
    expect(page).to_have_url(re.compile(rf"[?&]q={term.upper()}"))


def test_a_card_opens_the_customer_page(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    first = page.locator(CARDS).first
    customer_id = first.get_attribute("data-id")
    assert customer_id is not None and customer_id.isdigit()
    link = first.get_by_role("link")
    # A real link: it can be opened in a new tab, copied and bookmarked.
    expect(link).to_have_attribute("href", f"Customer?id={customer_id}")
    name = link.inner_text()
    link.click()
    expect(page).to_have_url(re.compile(rf"/Customer\?id={customer_id}$"))
    expect(page.get_by_text(name).first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_add_customer_toasts_and_shows_the_card(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    name, _ = add_customer(page, "Zed")
    expect(toast(page, f"Added {name}")).to_be_visible()
    card = card_named(page, name)
    expect(card).to_be_visible()
    expect(card).to_contain_text("Springfield")


def test_bad_email_keeps_the_dialog_open_with_an_error(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    page.get_by_role("button", name="Add customer").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First name").fill("Zed")
    dialog.get_by_label("Last name").fill("Qtest")
    dialog.get_by_label("Email", exact=True).fill("not-an-email")
    dialog.get_by_role("button", name="Add customer").click()
    expect(dialog.get_by_text(re.compile(r"Email: enter an address like"))).to_be_visible()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Email", exact=True)).to_have_value("not-an-email")
    expect(dialog.get_by_label("First name")).to_have_value("Zed")
    expect(page.get_by_test_id("stToast")).to_have_count(0)
    # Dismissed with Escape, the dialog stays closed through later reruns.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_label("Search", exact=True).fill("a")
    expect(page).to_have_url(re.compile(r"[?&]q=a(&|$)"))  # that rerun has run
    settled(page)
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_edit_a_customer(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    name, email = add_customer(page, "Zed")
    card = card_named(page, name)
    card.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Email", exact=True)).to_have_value(email)
    dialog.get_by_label("City").fill("Shelbyville")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, f"Saved {name}")).to_be_visible()
    expect(card_named(page, name)).to_contain_text("Shelbyville")


def test_delete_with_confirmation(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    name, email = add_customer(page, "Zed")
    card_named(page, name).get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Delete {name} ({email})")
    dialog.get_by_role("button", name="Delete customer").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, f"Deleted {name}")).to_be_visible()
    expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    # Searching for the deleted customer finds nobody.
    page.get_by_label("Search", exact=True).fill(email)
    expect(page.get_by_text("No customers match these filters")).to_be_visible()


def test_html_in_a_name_is_shown_as_text(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    hostile = "<b>x</b><img src=x onerror=window.__xss=1>"
    name, _ = add_customer(page, hostile, f"*Qtest*{uuid.uuid4().hex[:6]}")
    expect(toast(page, f"Added {name}")).to_be_visible()
    card = card_named(page, name)
    expect(card).to_be_visible()
    # The link reads exactly what was typed; no element was made from it.
    expect(card.get_by_role("link")).to_have_text(name)
    expect(card.locator("b, img, em, strong")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    card.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog")).to_contain_text(hostile)
    assert page.evaluate("window.__xss") is None


def test_no_sideways_scrolling_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    open_home(page)
    settled(page)
    expect(page.locator(CARDS)).to_have_count(PAGE_SIZE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    # The cards are one column: every card spans (nearly) the whole width.
    boxes = [page.locator(CARDS).nth(i).bounding_box() for i in range(3)]
    assert all(b is not None and b["width"] > PHONE["width"] * 0.8 for b in boxes)
    assert boxes[0] and boxes[1] and boxes[1]["y"] > boxes[0]["y"]
    fully_drawn(page)
    page.screenshot(path=screenshots / "home-phone.png")


def _set_last_visit_in_its_popover(page: Page, choice: str) -> None:
    """Choose a "Last visit" entry as a person does: open the popover, click, close it."""
    popover_button(page, re.compile(r"^Last visit")).click()
    page.get_by_role("radiogroup").get_by_text(choice, exact=True).click()
    settled(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("radiogroup")).to_have_count(0)


@pytest.mark.parametrize("origin", ["widgets", "url"])
@pytest.mark.parametrize("then", ["search", "dialog", "slider"])
def test_clear_filters_sticks_through_the_next_run(page: Page, origin: str, then: str) -> None:
    """Issue 12, item 14: after Clear filters the old filter must not come back."""
    page.set_viewport_size(DESKTOP)
    if origin == "url":
        open_home(page, "?last=within&days=7")
        settled(page)
        # Looked at, not changed: the popover's widgets were drawn with the URL's values.
        popover_button(page, re.compile(r"^Last visit")).click()
        expect(page.get_by_role("radiogroup")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_role("radiogroup")).to_have_count(0)
    else:
        open_home(page)
        settled(page)
        _set_last_visit_in_its_popover(page, "Last 7 days")
    expect(page).to_have_url(re.compile(r"[?&]last=within&days=7"))
    page.get_by_role("button", name="Clear filters").click()
    expect(page).not_to_have_url(re.compile(r"last="))
    expect(page.get_by_role("button", name="Clear filters")).to_have_count(0)
    settled(page)

    if then == "search":
        page.get_by_label("Search", exact=True).fill("a")
        page.get_by_label("Search", exact=True).press("Enter")
        expect(page).to_have_url(re.compile(r"[?&]q=a(&|$)"))
    elif then == "dialog":
        page.get_by_role("button", name="Add customer").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        settled(page)
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_be_hidden()
    else:
        popover_button(page, re.compile(r"^Visits")).click()
        page.get_by_role("slider").first.focus()
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(re.compile(r"[?&]visits_min="))
        page.keyboard.press("Escape")
    settled(page)
    expect(page).not_to_have_url(re.compile(r"last=|days="))
    expect(popover_button(page, re.compile(r"^Last visit$"))).to_be_visible()
    expect(page.get_by_text("No customers match these filters")).to_have_count(0)


def test_another_page_of_cards_starts_at_the_top_of_the_grid(page: Page) -> None:
    """Issue 12, item 16: the view stayed at the bottom of the new page."""
    page.set_viewport_size(DESKTOP)
    open_home(page)
    settled(page)
    first_id = page.locator(CARDS).first.get_attribute("data-id")
    pager = page.get_by_role("navigation", name="Pagination")
    pager.scroll_into_view_if_needed()
    pager.get_by_role("button", name="Page 2", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(page.locator(CARDS).first).not_to_have_attribute("data-id", first_id or "")
    settled(page)
    expect(page.locator(CARDS).first).to_be_in_viewport()
    box = page.locator(CARDS).first.bounding_box()
    assert box is not None and 0 <= box["y"] < DESKTOP["height"] / 2


@pytest.mark.parametrize("close", ["Escape", "Cancel", "Save", "Close"])
def test_closing_a_cards_edit_dialog_returns_focus_to_its_edit_button(
    page: Page, close: str
) -> None:
    """Issue 12, item 21: after the Edit dialog closed, the keyboard user was lost."""
    page.set_viewport_size(DESKTOP)
    open_home(page)
    settled(page)
    edit = page.locator(CARDS).nth(4).get_by_role("button", name="Edit")
    edit.focus()
    expect(edit).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("First name")).to_be_visible()
    settled(page)
    if close == "Escape":
        page.keyboard.press("Escape")
    elif close == "Close":
        dialog.get_by_role("button", name="Close").click()
    else:
        dialog.get_by_role("button", name=close, exact=True).click()
    expect(dialog).to_be_hidden()
    settled(page)
    expect(page.locator(CARDS).nth(4).get_by_role("button", name="Edit")).to_be_focused()
    # The keyboard goes on from there: Tab reaches the same card's Delete.
    page.keyboard.press("Tab")
    expect(page.locator(CARDS).nth(4).get_by_role("button", name="Delete")).to_be_focused()


def test_a_pasted_search_longer_than_any_name_and_email_is_kept_and_explained(page: Page) -> None:
    """Issue 12, item 9: a 5,000-character paste was dropped and showed everyone."""
    page.set_viewport_size(DESKTOP)
    open_home(page)
    settled(page)
    search = page.get_by_label("Search", exact=True)
    search.focus()
    page.keyboard.insert_text("qz" * 2_500)  # what a paste puts in the box
    search.press("Enter")
    expect(page.get_by_text("This search is 5,000 characters long")).to_be_visible()
    expect(search).to_have_value("qz" * 2_500)
    expect(page.get_by_text("No customers match these filters")).to_be_visible()
    expect(page.locator(CARDS)).to_have_count(0)


def test_typed_spending_moves_the_slider_and_the_url(page: Page) -> None:
    """Issue 12, item 19: exact amounts typed beside the slider."""
    page.set_viewport_size(DESKTOP)
    open_home(page)
    settled(page)
    popover_button(page, re.compile(r"^Spending")).click()
    low = page.get_by_label("Minimum ($)")
    low.fill("123")
    low.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]spend_min=123(&|$)"))
    # The slider shows the typed amount, though it is between two of its steps.
    expect(page.get_by_role("slider").first).to_have_attribute("aria-valuetext", "$123")
    expect(popover_button(page, re.compile(r"^Spending:\W*\$123\+"))).to_be_visible()
    # ... and does not round it on the next run.
    page.keyboard.press("Escape")
    page.get_by_label("Search", exact=True).fill("a")
    page.get_by_label("Search", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=a(&|$)"))
    settled(page)
    expect(page).to_have_url(re.compile(r"[?&]spend_min=123(&|$)"))
