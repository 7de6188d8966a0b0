"""The customer page's charts and tables in Chromium: labels, downloads, keyboard, phone width.

These tests run their own ``streamlit run`` on a copy of the seeded database
to which one busy customer got hostile text before the server started: a
campaign named like a spreadsheet formula (queued, so it has no send date)
and a queued message whose subject and body start a formula. The expected
values are read from that copy before the server opens it (DuckDB lets one
process hold a file).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from live_server import streamlit_server
from playwright.sync_api import Locator, Page, expect

from crm import db, writes
from crm.models import CampaignCreate, Channel, MessageCreate
from crm.ui import history

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CAMPAIGN = '=HYPERLINK("http://x","click")'
SUBJECT = "-20% off for you"
BODY = "@everyone =1+1"
BUSY = """
    SELECT id, first_name || ' ' || last_name AS name
    FROM customers
    WHERE order_count > 4
      AND id IN (SELECT customer_id FROM campaign_sends WHERE status <> 'Queued')
    ORDER BY total_spending DESC, id
    LIMIT 1
"""


@dataclass(frozen=True)
class Site:
    url: str
    customer_id: int
    name: str
    orders: list[tuple[int, int]]  # (order id, lines), newest first
    last_month: date
    history_rows: int


@pytest.fixture(scope="module")
def site(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("tables")
    path = folder / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    con = db.connect(path)
    try:
        row = con.execute(BUSY).fetchone()
        assert row is not None
        customer_id, name = int(row[0]), str(row[1])
        campaign = writes.create_campaign(
            con, CampaignCreate(name=CAMPAIGN, channel=Channel.EMAIL, template="Hi")
        )
        con.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE id = ?", [customer_id])
        writes.add_to_campaign(con, campaign, customer_id)
        writes.record_message(con, customer_id, MessageCreate(subject=SUBJECT, body=BODY))
        orders = con.execute(
            "SELECT o.id, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)"
            " FROM orders o WHERE o.customer_id = ? ORDER BY o.ordered_at DESC, o.id DESC",
            [customer_id],
        ).fetchall()
        last = con.execute(
            "SELECT max(ordered_at) FROM orders WHERE customer_id = ?", [customer_id]
        ).fetchone()
        history = con.execute(
            "SELECT (SELECT count(*) FROM campaign_sends WHERE customer_id = $id)"
            " + (SELECT count(*) FROM messages WHERE customer_id = $id)",
            {"id": customer_id},
        ).fetchone()
    finally:
        con.close()
    assert last is not None and history is not None
    with streamlit_server(path, folder / "streamlit.log") as url:
        yield Site(
            url=url,
            customer_id=customer_id,
            name=name,
            orders=[(int(o), int(n)) for o, n in orders],
            last_month=date(last[0].year, last[0].month, 1),
            history_rows=int(history[0]),
        )


def open_customer(page: Page, site: Site, viewport: dict[str, int] = DESKTOP) -> None:
    page.set_viewport_size(viewport)
    page.goto(f"{site.url}/Customer?id={site.customer_id}")
    expect(page.get_by_role("heading", name=site.name, exact=True)).to_be_visible(timeout=30_000)
    expect(
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ).to_have_count(1, timeout=30_000)
    expect(page.locator(".vega-embed svg").nth(3)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def grid(page: Page, header: str) -> Locator:
    """A st.dataframe by one of its column headers (its accessible table lists the visible ones)."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator('th[role="columnheader"]', has_text=header)
    )


def _download(page: Page, button: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel shows accents"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


# --- Item 4: downloads are neutralised -------------------------------------------------


def test_tables_offer_no_download_of_their_own(page: Page, site: Site) -> None:
    """st.dataframe's toolbar would export the raw text (a live formula): it offers none."""
    open_customer(page, site)
    tables = page.get_by_test_id("stDataFrame")
    expect(tables).to_have_count(2)
    for table in tables.all():
        table.hover()  # the toolbar shows on hover
        expect(table.locator("xpath=..").get_by_role("button", name="Search")).to_have_count(1)
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)


def test_the_apps_downloads_neutralise_text_that_starts_a_formula(page: Page, site: Site) -> None:
    open_customer(page, site)
    history = _download(page, "Download campaigns and messages")
    header, rows = history[0], history[1:]
    assert header[:4] == ["Type", "Campaign", "Status", "Sent"]
    assert len(rows) == site.history_rows
    by_type_and_name = {(r[0], r[1]): r for r in rows}
    campaign = by_type_and_name[("Campaign", "'" + CAMPAIGN)]
    assert campaign[2:4] == ["Queued", ""], "a queued send has no send date"
    message = by_type_and_name[("Message", "'" + SUBJECT)]
    assert message[2:4] == ["Queued", ""]
    assert message[header.index("Message")] == "'" + BODY
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    orders = _download(page, "Download purchase history")
    assert orders[0] == ["Order", "Date", "Amount", "Units", "Items bought"]
    assert [int(r[0]) for r in orders[1:]] == [order for order, _ in site.orders]


# --- Item 15: a month's bar stands over its own month's label ---------------------------


def test_the_last_month_bar_stands_over_its_own_label(page: Page, site: Site) -> None:
    open_customer(page, site)
    chart = page.locator(".vega-embed").filter(has_text="Spending by month")
    expect(chart.locator("g.mark-rect path").first).to_be_visible()
    drawn = chart.evaluate(
        """chart => {
          const middle = r => (r.left + r.right) / 2;
          const bars = [...chart.querySelectorAll('g.mark-rect path')]
            .map(p => ({x: middle(p.getBoundingClientRect()),
                        label: p.getAttribute('aria-label')}));
          const axis = [...chart.querySelectorAll('g.role-axis')]
            .find(a => (a.getAttribute('aria-label') || '').startsWith('X-axis'));
          const labels = [...axis.querySelectorAll('g.role-axis-label text')]
            .filter(t => t.getAttribute('opacity') !== '0')
            .map(t => { const r = t.getBoundingClientRect();
                        return {text: t.textContent, left: r.left, right: r.right}; });
          return {bars, labels};
        }"""
    )
    last = max(drawn["bars"], key=lambda bar: bar["x"])
    month = site.last_month.strftime("%b %Y")
    assert last["label"].startswith(f"Month: {month};"), last
    under = [
        label["text"] for label in drawn["labels"] if label["left"] <= last["x"] <= label["right"]
    ]
    assert under == [month], (last, drawn["labels"])


# --- Item 21: keyboard --------------------------------------------------------------------


def _focus_trail(page: Page, presses: int) -> list[dict[str, object]]:
    """Where Tab takes the focus, ``presses`` times from the top of a freshly loaded page."""
    trail = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        trail.append(
            page.evaluate(
                """() => { const e = document.activeElement;
                  const frame = e.closest('[data-testid="stElementContainer"]');
                  return {label: e.getAttribute('aria-label') || e.textContent.slice(0, 40),
                          inChart: !!(frame && frame.querySelector('.vega-embed'))}; }"""
            )
        )
    return trail


def test_charts_add_no_tab_stops(page: Page, site: Site) -> None:
    open_customer(page, site)
    trail = _focus_trail(page, 40)
    assert any(stop["label"] == "Search" for stop in trail), "the walk reached the tables"
    assert [stop for stop in trail if stop["inChart"]] == []


def test_a_tables_toolbar_shows_while_the_keyboard_is_in_it(page: Page, site: Site) -> None:
    """The tables keep their toolbar (search, columns, fullscreen): visible when focused."""
    open_customer(page, site)
    focused_toolbar = page.locator('[data-testid="stElementToolbar"]:focus-within')
    for _ in range(60):  # from the top of the freshly loaded page
        page.keyboard.press("Tab")
        if focused_toolbar.count():
            break
    expect(focused_toolbar).to_have_count(1)
    expect(focused_toolbar).to_have_css("opacity", "1")
    # Above the table, as hovering shows it, not behind the table's header.
    table = page.get_by_test_id("stDataFrame").filter(has=focused_toolbar)
    toolbar_box, table_box = focused_toolbar.bounding_box(), table.bounding_box()
    assert toolbar_box is not None and table_box is not None
    assert toolbar_box["y"] + toolbar_box["height"] <= table_box["y"] + 1


def test_an_orders_lines_can_be_shown_with_the_keyboard_only(page: Page, site: Site) -> None:
    order, lines = site.orders[2]
    open_customer(page, site)
    picker = page.get_by_role("combobox", name="Show the lines of order")
    for _ in range(80):  # from the top of the freshly loaded page
        page.keyboard.press("Tab")
        if picker.evaluate("e => e === document.activeElement"):
            break
    expect(picker).to_be_focused()
    page.keyboard.type(f"#{order}")
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Order #{order} · {lines} lines")).to_be_visible()
    expect(grid(page, "Line total").locator("table")).to_have_attribute(
        "aria-rowcount", str(lines + 1)
    )


# --- Item 18: the campaign history reads on a phone ----------------------------------------


def test_campaign_history_reads_on_a_phone(page: Page, site: Site, screenshots: Path) -> None:
    open_customer(page, site, PHONE)
    table = grid(page, "Campaign")
    table.scroll_into_view_if_needed()
    headers = table.locator('th[role="columnheader"]')
    expect(headers.first).to_have_text("Type")
    assert headers.all_inner_texts()[:4] == ["Type", "Campaign", "Status", "Sent"]
    # The grid draws the configured widths (its scroll width is their sum), and the
    # first four fit in the width the phone leaves it.
    widths = [int(str(config["width"])) for config in history.HISTORY_COLUMNS.values()]
    scroll_width, client_width = table.locator(".dvn-scroller").evaluate(
        "s => [s.scrollWidth, s.clientWidth]"
    )
    assert scroll_width == sum(widths)
    assert sum(widths[:4]) <= client_width
    queued = table.locator("tbody tr").filter(has_text=CAMPAIGN)
    expect(queued).to_have_count(1)
    # No send date (the canvas draws the placeholder "—"; the accessible cell is empty).
    assert queued.locator("td").all_inner_texts()[:4] == ["Campaign", CAMPAIGN, "Queued", ""]
    page.evaluate("document.fonts.ready.then(() => true)")
    table.screenshot(path=screenshots / "customer-history-phone.png")


def test_a_row_selected_in_the_grid_shows_in_the_picker(page: Page, site: Site) -> None:
    order, lines = site.orders[1]
    open_customer(page, site)
    table = grid(page, "Amount")
    table.scroll_into_view_if_needed()
    # The row's checkbox is drawn on the canvas: click where the second row's marker is.
    box = table.bounding_box()
    assert box is not None
    header, row = 38, 35  # Streamlit's header and row heights in px
    page.mouse.click(box["x"] + 16, box["y"] + header + row * 1.5)
    expect(page.get_by_text(f"Order #{order} · {lines} lines")).to_be_visible()
    picker = page.get_by_role("combobox", name="Show the lines of order")
    expect(picker).to_have_value(re.compile(rf"^#{order} · "))
