"""The page menu (st.navigation, one entry point) in a real Chromium.

The menu is in the sidebar, with the account box under it ("Open: no sign-in
configured" here); on a phone the sidebar folds away behind its button. The
customer page is not in the menu but opens by link, with the menu.
Screenshots in tests/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from playwright.sync_api import Page, expect

from crm.ui import auth

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
MENU_TITLES = ["Customers", "Segments", "Campaigns", "Import"]


def menu_titles(menu_links: list[str]) -> list[str]:
    # A link's text is its icon's name, then its title.
    return [text.split("\n")[-1].strip() for text in menu_links]


def test_the_menu_in_the_sidebar_at_desktop_width(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    settled(page)
    links = page.get_by_test_id("stSidebarNavLink")
    expect(links).to_have_count(len(MENU_TITLES))
    assert menu_titles(links.all_inner_texts()) == MENU_TITLES
    expect(page.get_by_test_id("stSidebar").get_by_text(auth.OPEN_NOTE)).to_be_visible()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_in_viewport()
    page.screenshot(path=screenshots / "navigation-desktop.png")

    links.filter(has_text="Segments").click()
    expect(page).to_have_url(re.compile(r"/Segments$"))
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Customers").click()
    expect(page.locator("article.card").first).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))


def test_a_customer_link_opens_the_hidden_page_with_the_menu(
    page: Page, seeded: duckdb.DuckDBPyConnection
) -> None:
    row = seeded.execute("SELECT first_name || ' ' || last_name FROM customers WHERE id = 5")
    (name,) = row.fetchone() or ("",)
    page.set_viewport_size(DESKTOP)
    page.goto("/Customer?id=5")
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(len(MENU_TITLES))
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_menu_behind_the_sidebar_button_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/?country=Italy")
    settled(page)
    expect(page.locator("article.card").first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stSidebarNavLink").first).not_to_be_in_viewport()
    page.screenshot(path=screenshots / "navigation-phone.png")
    page.get_by_test_id("stExpandSidebarButton").click()
    links = page.get_by_test_id("stSidebarNavLink")
    expect(links.first).to_be_visible()
    assert menu_titles(links.all_inner_texts()) == MENU_TITLES
    page.screenshot(path=screenshots / "navigation-phone-menu.png")
    links.filter(has_text="Segments").click()
    expect(page).to_have_url(re.compile(r"/Segments$"))
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
