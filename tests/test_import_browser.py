"""The Import page in a real Chromium against ``streamlit run``: a CSV of 1,000
customers with 20 bad rows is uploaded as a person does, the dry run's report is
read, the import confirmed, and an imported customer found by search on the
overview. Screenshots at desktop and phone widths (tests/screenshots/).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from browser_helpers import settled
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
ROWS = 1_000
BAD = 20


def _file() -> bytes:
    """1,000 customers; every 50th row (20 of them) has an email without an @."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First Name", "Surname", "E-mail", "Phone", "City", "Country"])
    for i in range(ROWS):
        email = f"browser.import{i}@example.net"
        if i % (ROWS // BAD) == 7:
            email = f"browser.import{i}-at-example.net"
        writer.writerow([f"Brimport{i}", f"Quillfeather{i}", email, "+1 555 0100", "Ghent", "BE"])
    return buffer.getvalue().encode("utf-8")


def test_import_a_csv_read_the_report_confirm_and_find_a_customer(
    page: Page, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.set_default_navigation_timeout(60_000)  # a busy shared machine: first loads are slow
    page.goto("/Import")
    settled(page)
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        {"name": "customers.csv", "mimeType": "text/csv", "buffer": _file()}
    )
    expect(page.get_by_text(f"customers.csv: {ROWS:,} rows, 6 columns.")).to_be_visible(
        timeout=30_000
    )
    settled(page)
    expect(page.get_by_test_id("stSelectbox")).to_have_count(10)
    # Matched by header: "E-mail" holds the email, "Surname" the last name.
    expect(page.get_by_role("combobox", name="Email", exact=True)).to_have_value("E-mail")
    expect(page.get_by_role("combobox", name="Last name")).to_have_value("Surname")
    page.screenshot(path=str(screenshots / "import_mapping_desktop.png"))
    page.set_viewport_size(PHONE)
    settled(page)
    page.screenshot(path=str(screenshots / "import_mapping_phone.png"))
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Check the file (dry run)").click()
    summary = page.get_by_text(
        f"{ROWS:,} rows: {ROWS - BAD:,} new customers, 0 already here", exact=False
    )
    expect(summary).to_be_visible(timeout=60_000)
    expect(summary).to_contain_text(f"{BAD} rows refused")
    expect(page.get_by_text(f"{BAD} problems.")).to_be_visible()
    expect(page.get_by_role("button", name="Download the report (CSV)")).to_be_visible()
    # The report's first row: row 9 of the file (header is row 1; i = 7).
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (CSV)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "Row,Field,File column,Problem"
    assert len(report) == 1 + BAD
    assert report[1].startswith("9,Email,E-mail,Email: enter an address like name@example.com")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(screenshots / "import_report_desktop.png"), full_page=True)

    page.set_viewport_size(PHONE)
    settled(page)
    page.screenshot(path=str(screenshots / "import_report_phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name=f"Import {ROWS - BAD:,} customers").click()
    done = f"Imported {ROWS - BAD:,} new customers, updated 0, left 0 as they were"
    expect(page.get_by_text(done).first).to_be_visible(timeout=60_000)
    settled(page)
    expect(page.get_by_role("button", name=f"Import {ROWS - BAD:,} customers")).to_have_count(0)
    expect(page.get_by_text("customers.csv: 1,000 rows")).to_have_count(0)  # the uploader is empty
    past = page.locator('[class*="st-key-import_row_"]').first
    expect(past).to_contain_text("customers.csv")
    expect(past).to_contain_text(f"{ROWS - BAD:,} new customers")
    page.screenshot(path=str(screenshots / "import_done_desktop.png"), full_page=True)

    page.goto("/")
    expect(page.locator("article.card").first).to_be_visible(timeout=60_000)
    settled(page)
    page.get_by_label("Search", exact=True).fill("quillfeather421")
    card = page.locator("article.card")
    expect(card).to_have_count(1, timeout=30_000)
    expect(card.first).to_contain_text("Brimport421 Quillfeather421")
    page.screenshot(path=str(screenshots / "import_found_desktop.png"))
