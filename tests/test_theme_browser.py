"""The light and the dark theme in a real Chromium: the app menu offers the switch (the
toolbar is "minimal"), and the cards, the summary and the charts follow it.

Streamlit keeps a viewer's choice in the browser per URL path, so each page is switched
through its own menu here, as a viewer who opens a link to it would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import settled
from playwright.sync_api import Page, expect
from test_insights_browser import CHARTS, open_insights, picture
from test_segment_builder_browser import CARDS, DESKTOP, PHONE, open_home

pytestmark = pytest.mark.browser

# The relative luminance (WCAG) of a computed CSS colour: "rgb(r, g, b)", or
# "color(srgb r g b)" (0-1) as Chromium gives a light-dark() or color-mix() result.
LUMINANCE_JS = """
(colour) => {
  const numbers = colour.match(/[\\d.]+/g).map(Number);
  const scale = colour.startsWith("color(") ? 1 : 255;
  const [r, g, b] = numbers.slice(0, 3).map(c => c / scale)
    .map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
"""


def choose_theme(page: Page, theme: str) -> None:
    """Pick ``theme`` (System, Light or Dark) in the app menu, as a viewer does."""
    page.get_by_test_id("stMainMenu").click()
    switcher = page.get_by_test_id("stThemeSwitcher")
    # Each choice is its icon's ligature ("dark_mode") and its name.
    expect(switcher.get_by_role("menuitemradio")).to_have_text(
        [re.compile(r"System$"), re.compile(r"Light$"), re.compile(r"Dark$")]
    )
    switcher.get_by_role("menuitemradio", name=re.compile(rf"{theme}$")).click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stApp")).to_have_css(
        "color-scheme", "dark" if theme == "Dark" else "light"
    )
    settled(page)


def luminance(page: Page, selector: str, prop: str) -> float:
    value = page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")
    return float(page.evaluate(LUMINANCE_JS, value))


def contrast(a: float, b: float) -> float:
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def test_dark_theme_from_the_menu(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    card = f"{CARDS} >> nth=0"
    assert luminance(page, card, "backgroundColor") > 0.9  # light: a white card
    choose_theme(page, "Dark")
    card_ground = luminance(page, card, "backgroundColor")
    assert card_ground < 0.05, "the card background is dark"
    name = luminance(page, f"{CARDS} .name", "color")
    assert contrast(name, card_ground) >= 7
    line = luminance(page, f"{CARDS} .line", "color")
    assert contrast(line, card_ground) >= 4.5
    summary = luminance(page, ".st-key-segment_summary p", "color")
    page_ground = luminance(page, '[data-testid="stApp"]', "backgroundColor")
    assert contrast(summary, page_ground) >= 4.5
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=screenshots / "theme-dark-overview-desktop.png")

    page.set_viewport_size(PHONE)
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "theme-dark-overview-phone.png")

    # The choice sticks for this page: back to light and the cards are white again.
    page.set_viewport_size(DESKTOP)
    choose_theme(page, "Light")
    assert luminance(page, card, "backgroundColor") > 0.9


def test_dark_insights_and_customer_page(page: Page, screenshots: Path) -> None:
    page.set_viewport_size(DESKTOP)
    open_home(page)
    choose_theme(page, "Dark")
    panel = open_insights(page, "?visits_min=2")
    expect(page.get_by_test_id("stApp")).to_have_css("color-scheme", "dark")
    # Chart text takes the theme's text colour: light on the dark ground.
    label = panel.locator(".vega-embed svg text").first
    fill = label.evaluate("e => getComputedStyle(e).fill")
    assert float(page.evaluate(LUMINANCE_JS, fill)) > 0.3
    picture(page, panel, DESKTOP["width"], screenshots / "theme-dark-insights-desktop.png")
    picture(page, panel, PHONE["width"], screenshots / "theme-dark-insights-phone.png")
    expect(panel.locator(".vega-embed svg")).to_have_count(CHARTS)

    page.set_viewport_size(DESKTOP)
    page.goto("/Customer?id=2")
    expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=30_000)
    settled(page)
    choose_theme(page, "Dark")
    expect(page.locator(".vega-embed svg").first).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=screenshots / "theme-dark-customer-desktop.png")
    page.set_viewport_size(PHONE)
    settled(page)
    page.screenshot(path=screenshots / "theme-dark-customer-phone.png")
    assert re.search(r"/Customer\?id=2$", page.url)
