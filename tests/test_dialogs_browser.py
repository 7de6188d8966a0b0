"""The overview's dialogs in a real Chromium against ``streamlit run`` (the session's live server).

Customers these tests try to add carry a random tag in their email, so the
tests do not depend on each other's order.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from browser_helpers import settled
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CARDS = "article.card"  # drawn by the card grid component


def open_add_dialog(page: Page, size: dict[str, int] = DESKTOP) -> Locator:
    page.set_viewport_size(size)
    page.goto("/")
    expect(page.locator(CARDS).first).to_be_visible(timeout=30_000)
    settled(page)
    page.get_by_role("button", name="Add customer").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_required_fields_are_marked_for_eyes_and_screen_readers(
    page: Page, screenshots: Path
) -> None:
    for size, name in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        dialog = open_add_dialog(page, size)
        inputs = dialog.get_by_test_id("stTextInput")
        expect(inputs).to_have_count(9)
        marked = {}
        for i in range(9):
            field = inputs.nth(i)
            label = field.locator('[data-testid="stWidgetLabel"] p').inner_text().strip()
            mark = field.get_by_test_id("stWidgetLabelRequired")
            shown = mark.inner_text().strip() if mark.count() else None
            # Screen readers hear "required" from the input itself.
            marked[label] = (shown, field.locator("input").get_attribute("aria-required"))
        assert marked == {
            "First name": ("(required)", "true"),
            "Last name": ("(required)", "true"),
            "Email": ("(required)", "true"),
            **dict.fromkeys(("Phone", "Street", "City", "State", "ZIP", "Country"), (None, None)),
        }
        page.evaluate("document.fonts.ready.then(() => true)")
        page.screenshot(path=screenshots / f"add-dialog-{name}.png")


def test_a_pasted_100_digit_phone_is_refused_in_words_and_nothing_saved(page: Page) -> None:
    dialog = open_add_dialog(page)
    tag = uuid.uuid4().hex[:8]
    email = f"paste.{tag}@example.com"
    dialog.get_by_label("First name").fill("Pat")
    dialog.get_by_label("Last name").fill(f"Paste{tag}")
    dialog.get_by_label("Email", exact=True).fill(email)
    phone = dialog.get_by_label("Phone")
    phone.click()
    page.keyboard.insert_text("1" * 100)  # what a paste does
    expect(phone).to_have_value("1" * 100)
    dialog.get_by_role("button", name="Add customer").click()
    settled(page)
    expect(dialog.get_by_text("Phone is too long: 100 characters, at most 32.")).to_be_visible()
    expect(phone).to_have_value("1" * 100)
    # Nothing was saved: the close button still shows the form, and no card has the email.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    search = page.get_by_label("Search", exact=True)
    search.fill(email)
    search.press("Enter")
    settled(page)
    expect(page.get_by_text("No customers match these filters")).to_be_visible()


# --- Item 22: toasts do not cover the page's controls ------------------------------


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize(("size", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_toast_shows_at_the_bottom_right_clear_of_add_customer_and_sort(
    page: Page, screenshots: Path, size: dict[str, int], label: str
) -> None:
    dialog = open_add_dialog(page, size)
    tag = uuid.uuid4().hex[:8]
    dialog.get_by_label("First name").fill("Toast")
    dialog.get_by_label("Last name").fill(f"Corner{tag}")
    dialog.get_by_label("Email", exact=True).fill(f"toast.{tag}@example.com")
    dialog.get_by_role("button", name="Add customer").click()
    shown = page.get_by_test_id("stToast").filter(has_text=f"Added Toast Corner{tag}")
    expect(shown).to_be_visible(timeout=20_000)
    settled(page)
    box = shown.bounding_box()
    assert box is not None
    # In the bottom right corner of the window ...
    assert size["height"] - 48 <= box["y"] + box["height"] <= size["height"]
    assert size["width"] - 48 <= box["x"] + box["width"] <= size["width"]
    # ... so the controls at the top stay visible and clickable.
    for control in (
        page.get_by_role("button", name="Add customer"),
        page.get_by_test_id("stSelectbox").filter(has_text="Sort by"),
    ):
        other = control.bounding_box()
        assert other is not None and not _overlaps(box, other)
    page.screenshot(path=screenshots / f"toast-{label}.png")
