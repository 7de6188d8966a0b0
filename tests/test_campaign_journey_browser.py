"""The issue's journey in a real Chromium: a filtered segment is added to a new Email
campaign with a 10 % control group, the campaign is opened from the Campaigns page and
sent to a test SMTP server (aiosmtpd), and the results show on both pages.

``streamlit run`` gets its own copy of the seeded data (the segment's customers
subscribed to email) and an [smtp] section pointing at the test server.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from browser_helpers import popover_button, settled
from live_server import streamlit_server
from playwright.sync_api import Page, expect
from smtp_server import Recorder, recording_server

from crm.ui import campaigns as campaigns_ui

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
SEGMENT = 30  # about this many of the biggest spenders


@dataclass(frozen=True)
class Site:
    url: str
    server: Recorder
    spend_min: int
    emails: frozenset[str]


@pytest.fixture(scope="module")
def site(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("journey")
    path = folder / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    with duckdb.connect(str(path)) as con:
        row = con.execute(
            "SELECT CAST(floor(total_spending) AS INTEGER) FROM customers"
            " ORDER BY total_spending DESC LIMIT 1 OFFSET $n",
            {"n": SEGMENT - 1},
        ).fetchone()
        assert row is not None
        spend_min = int(row[0])
        con.execute(
            "UPDATE customers SET email_consent = 'Subscribed' WHERE total_spending >= $s",
            {"s": spend_min},
        )
        emails = frozenset(
            str(r[0])
            for r in con.execute(
                "SELECT email FROM customers WHERE total_spending >= $s", {"s": spend_min}
            ).fetchall()
        )
    with recording_server() as server:
        secrets = folder / "secrets.toml"
        secrets.write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            'from_address = "shop@example.com"\n',
            encoding="utf-8",
        )
        with streamlit_server(path, folder / "streamlit.log", secrets=secrets) as url:
            yield Site(url, server, spend_min, emails)


def test_add_send_and_see_the_results(page: Page, site: Site, screenshots: Path) -> None:
    in_segment = len(site.emails)
    control = (in_segment + 5) // 10
    queued = in_segment - control
    name = f"VIP thanks {uuid.uuid4().hex[:6]}"
    page.set_viewport_size(DESKTOP)

    # The segment, through the filter's widget.
    page.goto(site.url)
    settled(page)
    expect(page.locator("article.card").first).to_be_visible(timeout=30_000)
    popover_button(page, re.compile(r"^Spending")).click()
    low = page.get_by_label("Minimum ($)")
    low.fill(str(site.spend_min))
    low.press("Enter")
    expect(page).to_have_url(re.compile(rf"[?&]spend_min={site.spend_min}(&|$)"))
    page.keyboard.press("Escape")
    settled(page)

    # Into a new Email campaign with the default 10 % control group.
    page.get_by_role("button", name="Add to campaign").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name="New campaign").click()
    settled(page)
    dialog.get_by_role("textbox", name="Campaign name").fill(name)
    dialog.get_by_role("textbox", name="Subject").fill("Thank you, [First Name]")
    template = dialog.get_by_role("textbox", name="Message template")
    template.fill("Hi [First Name], a gift for our best customers in [City].")
    template.blur()
    settled(page)
    dialog.get_by_role("button", name="Review numbers").click()
    settled(page)
    expect(dialog.get_by_text(f"{queued:,} queued to be sent.")).to_be_visible(timeout=20_000)
    dialog.get_by_role("button", name=f"Add {in_segment:,} customers").click()
    expect(dialog).to_be_hidden(timeout=30_000)

    # Found on the Campaigns page, opened from there.
    page.goto(f"{site.url}/Campaigns")
    settled(page)
    search = page.get_by_role("textbox", name="Search campaigns")
    search.fill(name)
    search.press("Enter")
    settled(page)
    expect(page.get_by_text("1 campaign ·")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Open a campaign").click()
    page.get_by_role("option", name=name).click()
    expect(page).to_have_url(re.compile(r"/Campaign\?id=\d+$"), timeout=30_000)
    settled(page)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text(f"{queued:,} in the audience, {control:,} held out")).to_be_visible()

    # Sent to the test server: one message per queued member, none to the control group.
    page.get_by_role("button", name=f"Send {queued:,} queued").click()
    expect(page.get_by_role("button", name="Nothing queued to send")).to_be_visible(timeout=60_000)
    settled(page)
    received = [m.recipients[0] for m in site.server.messages]
    assert len(received) == len(set(received)) == queued
    assert set(received) < site.emails
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Sent")).to_contain_text(f"{queued:,}")
    # A no-break space keeps "%" on its number's line.
    delivered = metrics.filter(has=page.get_by_text("Delivered", exact=True))
    expect(delivered).to_contain_text("100.0\u00a0%")
    expect(page.get_by_text("Customers it was sent to ordered")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=screenshots / "campaign-after-send-desktop.png")

    # And in the list, on a screen wide enough for the grid to draw every column
    # (it leaves columns out of view out of its accessible table too).
    page.set_viewport_size({"width": 2600, "height": 900})
    page.goto(f"{site.url}/Campaigns")
    settled(page)
    table = page.get_by_test_id("stDataFrame")
    row = table.locator('tr[role="row"]').filter(has_text=name)
    expect(row).to_have_count(1, timeout=30_000)
    # The grid's accessible table holds the raw values, in the list's column order.
    cells = row.locator("td").all_inner_texts()
    first = cells.index(name)
    order = list(campaigns_ui.LIST_COLUMNS)

    def cell(column: str) -> str:
        return cells[first + order.index(column) - order.index("name")]

    assert cell("channel") == "Email"
    shown = [cell(c) for c in ("audience", "control", "delivered_rate", "failed_rate")]
    assert shown == [str(queued), str(control), "100", "0"]
