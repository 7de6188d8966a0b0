"""Take the README's screenshots from a fresh demo database in Debian's Chromium.

    .venv/bin/python docs/take_screenshots.py

Seeds the 1,000-customer demo database in a temporary folder, saves two
segments through the data layer, serves the app with ``streamlit run`` and
photographs the overview (with a segment), Insights, the Segments page, a
customer's page, the Campaigns page and the campaign with the clearest lift
at desktop (1400 x 900) and phone (390 x 844) widths into ``docs/screenshots/``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from live_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

from crm import config, db, saved_segments, segments, writes  # noqa: E402
from crm.campaigns import results as campaign_results  # noqa: E402
from crm.demo.seed import seed_database  # noqa: E402
from crm.models import CustomerFilter, SegmentCreate, parse  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SEGMENT = "?country=Italy&category=Coffee"


def _prepare(path: Path) -> int:
    """Seed the demo data and save two segments; returns the busiest customer's id."""
    seed_database(path, customers=config.DEMO_CUSTOMERS, seed=config.DEMO_SEED)
    con = db.connect(path)
    try:
        for name, description, f in (
            (
                "Italian coffee buyers",
                "Bought coffee, live in Italy",
                CustomerFilter(countries=("Italy",), categories=("Coffee",)),
            ),
            (
                "Champions gone quiet",
                "Our best customers whose rhythm says they are late",
                CustomerFilter(rfm_groups=("Champions", "Loyal"), rhythm=("Overdue", "Lapsed")),
            ),
        ):
            data = {
                "name": name,
                "description": description,
                "filters": saved_segments.filters_of(f),
            }
            writes.create_segment(con, parse(SegmentCreate, data))
        row = con.execute("SELECT id FROM customers ORDER BY order_count DESC LIMIT 1").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def _showcase_campaign(path: Path) -> int:
    """The campaign with the clearest real lift in the demo (else the newest one)."""
    con = db.connect(path)
    try:
        found = campaign_results.campaign_results(con)
    finally:
        con.close()
    real = [r for r in found if r.lift is not None and r.lift.low > 0]
    return max(real, key=lambda r: r.lift.low if r.lift else 0).id if real else found[0].id


def _settled(page: Page) -> None:
    expect(
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ).to_have_count(1, timeout=30_000)
    page.evaluate("document.fonts.ready.then(() => true)")


def _shoot(page: Page, url: str, name: str, ready: str) -> None:
    page.goto(url)
    expect(page.locator(ready).first).to_be_visible(timeout=30_000)
    _settled(page)
    page.screenshot(path=OUT / name)


def main() -> int:
    assert segments.PARAM_NAMES  # the URL above uses the segment's own parameter names
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crm-shots-") as folder:
        path = Path(folder) / "crm.duckdb"
        busiest = _prepare(path)
        campaign = _showcase_campaign(path)
        with (
            streamlit_server(path, Path(folder) / "streamlit.log") as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
                page = browser.new_page(viewport=size)  # type: ignore[arg-type]
                _shoot(page, f"{url}/{SEGMENT}", f"home-{suffix}.png", "article.card")
                _shoot(
                    page,
                    f"{url}/Customer?id={busiest}",
                    f"customer-{suffix}.png",
                    ".vega-embed svg",
                )
                _shoot(page, f"{url}/Segments", f"segments-{suffix}.png", "text=customers")
                _shoot(page, f"{url}/Campaigns", f"campaigns-{suffix}.png", "canvas")
                _shoot(page, f"{url}/Import", f"import-{suffix}.png", "text=Your data")
                _shoot(
                    page,
                    f"{url}/Campaign?id={campaign}",
                    f"campaign-{suffix}.png",
                    ".vega-embed svg",
                )
                page.close()
            # The theme follows the system's unless a viewer picks one in the app menu.
            dark = browser.new_page(viewport=DESKTOP, color_scheme="dark")  # type: ignore[arg-type]
            _shoot(dark, f"{url}/{SEGMENT}", "home-dark-desktop.png", "article.card")
            _shoot(
                dark, f"{url}/Customer?id={busiest}", "customer-dark-desktop.png", ".vega-embed svg"
            )
            dark.close()
            page = browser.new_page(viewport={"width": 1400, "height": 3000})
            page.goto(f"{url}/{SEGMENT}")
            expect(page.locator("article.card").first).to_be_visible(timeout=30_000)
            panel = page.locator(".st-key-insights_open")
            panel.get_by_text("Insights: this segment in charts").click()
            expect(panel.locator(".vega-embed svg")).to_have_count(6, timeout=30_000)
            _settled(page)
            panel.screenshot(path=OUT / "insights-desktop.png")
            browser.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
