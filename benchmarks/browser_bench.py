"""Page timings in a real Chromium against ``streamlit run`` on a benchmark database.

Measured from the user's side: navigation (or the last keystroke) until the
page shows the finished result and Streamlit's script run has ended. Each
"new tab" sample opens a fresh browser context, so it pays for loading
Streamlit's JavaScript from scratch; a trivial one-line Streamlit page takes
about 1.6 s that way on the 2-core development machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

from crm import db, queries  # noqa: E402
from crm.models import CustomerFilter  # noqa: E402

RUNS = 7
CARDS = "article.card"  # Playwright's CSS locators see into shadow roots
TIMEOUT = 60_000


def _expected_counts(db_path: Path, terms: list[str]) -> dict[str, int]:
    con = db.connect(db_path)
    try:
        return {
            t: queries.customer_page(con, CustomerFilter(search=t)).totals.customers for t in terms
        }
    finally:
        con.close()


def _search_terms(db_path: Path) -> list[str]:
    """Terms whose match counts differ from each other, so each result is recognisable."""
    con = db.connect(db_path)
    try:
        rows = con.execute(
            "SELECT lower(left(last_name, 4)) AS t, count(*) FROM customers"
            " GROUP BY 1 ORDER BY 2 DESC LIMIT 40"
        ).fetchall()
    finally:
        con.close()
    seen: set[int] = set()
    terms = []
    for term, count in rows:
        # Letters only: "van " (from "Van Dijk") also matches "Donovan" followed by the
        # email in the search text, and that card's text has no "van " to wait for.
        if count not in seen and str(term).isalpha():
            seen.add(count)
            terms.append(str(term))
    return terms[:RUNS]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# The overview's "done" conditions, checked in the page on every animation
# frame. Playwright's expect() polls with a backoff that reaches 500 ms
# between checks, so a page finished at 300 ms used to be seen at about
# 770 ms: the samples measured the poll schedule as much as the page.
_OVERVIEW_DONE = """([cards, summary, term]) => {
    const idle = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]');
    // The cards are drawn by one component, inside its shadow root.
    const shown = [...document.querySelectorAll('.stBidiComponent *')]
        .filter((e) => e.shadowRoot)
        .flatMap((e) => [...e.shadowRoot.querySelectorAll('article.card')]);
    if (!idle || shown.length !== cards) return false;
    // Widgets arrive as placeholders until their code has loaded: wait for the
    // real search box.
    if (!document.querySelector('input[placeholder="Search by name or email"]')) return false;
    if (summary !== null) {
        const line = document.querySelector('.st-key-segment_summary');
        if (!line || !line.textContent.includes(summary)) return false;
    }
    return term === null || shown[0].textContent.toLowerCase().includes(term.toLowerCase());
}"""


def _overview_done(page: Page, cards: int, summary: str | None, term: str | None) -> None:
    page.wait_for_function(
        _OVERVIEW_DONE, arg=[cards, summary, term], polling="raf", timeout=TIMEOUT
    )


def _first_load(page: Page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    _overview_done(page, 24, None, None)
    return _ms(start)


def _search(page: Page, term: str, count: int) -> float:
    box = page.get_by_placeholder("Search by name or email")
    start = time.perf_counter()
    box.fill(term)
    _overview_done(page, min(count, 24), f"{count:,} of", term)
    return _ms(start)


# The customer page is done when its heading names the customer, its charts
# are drawn and the script run is over; checked on every frame like the overview.
_CUSTOMER_DONE = """([name, charts]) => {
    const idle = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]');
    const named = [...document.querySelectorAll('h1')].some((h) => h.textContent.trim() === name);
    const edit = [...document.querySelectorAll('button')].some((b) => b.textContent.trim().endsWith('Edit'));
    return Boolean(idle) && named && edit && document.querySelectorAll('.vega-embed svg').length >= charts;
}"""


def _customer_done(page: Page, name: str) -> None:
    page.wait_for_function(_CUSTOMER_DONE, arg=[name, 3], polling="raf", timeout=TIMEOUT)


def _customer_page(page: Page, url: str, customer_id: int, name: str) -> float:
    start = time.perf_counter()
    page.goto(f"{url}/Customer?id={customer_id}")
    _customer_done(page, name)
    return _ms(start)


def _open_from_card(page: Page, url: str, index: int) -> float:
    """A click on a card's name, as users open a customer: no new page load."""
    page.goto(url)
    expect(page.locator(CARDS)).to_have_count(24, timeout=TIMEOUT)
    link = page.locator(CARDS).nth(index).get_by_role("link")
    name = link.inner_text().strip()
    start = time.perf_counter()
    link.click()
    _customer_done(page, name)
    return _ms(start)


_DIALOG_FILLED = """(name) => {
    const dialog = document.querySelector('[role="dialog"]');
    if (!dialog) return false;
    const value = (label) => dialog.querySelector(`input[aria-label="${label}"]`)?.value || "";
    return `${value("First name")} ${value("Last name")}`.trim() === name;
}"""


def _edit_dialog(page: Page, index: int) -> float:
    """Edit on a card until the dialog shows the customer's details, then Cancel."""
    card = page.locator(CARDS).nth(index)
    name = card.get_by_role("link").inner_text().strip()
    start = time.perf_counter()
    card.get_by_role("button", name="Edit").click()
    # Done when the form holds this card's customer (not merely any text: the dialog
    # that just closed may still be in the page for a frame or two).
    page.wait_for_function(_DIALOG_FILLED, arg=name, polling="raf", timeout=TIMEOUT)
    took = _ms(start)
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    return took


def _busy_customers(db_path: Path) -> list[tuple[int, str]]:
    con = db.connect(db_path)
    try:
        rows = con.execute(
            "SELECT id, first_name || ' ' || last_name FROM customers"
            " WHERE order_count BETWEEN 8 AND 40 ORDER BY id LIMIT ?",
            [RUNS],
        ).fetchall()
    finally:
        con.close()
    return [(int(i), str(n)) for i, n in rows]


def _countries(db_path: Path) -> list[tuple[str, int]]:
    """The 2nd to (RUNS+1)th most common countries: bars in the middle of the chart."""
    con = db.connect(db_path)
    try:
        rows = con.execute(
            "SELECT country, count(*) FROM customers WHERE country <> ''"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ? OFFSET 1",
            [RUNS],
        ).fetchall()
    finally:
        con.close()
    return [(str(c), int(n)) for c, n in rows]


# The cards and the count show the segment asked for; unlike _OVERVIEW_DONE the
# script may still be running (the Insights panel is filled after the cards).
_CARDS_SHOWN = """([cards, summary, term]) => {
    const shown = [...document.querySelectorAll('.stBidiComponent *')]
        .filter((e) => e.shadowRoot)
        .flatMap((e) => [...e.shadowRoot.querySelectorAll('article.card')]);
    const line = document.querySelector('.st-key-segment_summary');
    return shown.length === cards && Boolean(line) && line.textContent.includes(summary)
        && shown[0].textContent.toLowerCase().includes(term.toLowerCase());
}"""


def _bar_click(page: Page, url: str, country: str, count: int) -> tuple[float, float]:
    """Insights open on everyone; a click on a country's bar until the cards and the
    count show that country alone (the issue's "click on a bar → cards and count
    updated ≤ 1 s"), and until the run is over (the panel redrawn for it)."""
    page.goto(url)
    _overview_done(page, 24, None, None)
    panel = page.locator(".st-key-insights_open")
    panel.get_by_text("Insights: this segment in charts").click()
    expect(panel.locator(".vega-embed svg")).to_have_count(6, timeout=TIMEOUT)
    chart = panel.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Customers by country")
    bar = chart.locator(f'path[aria-label*="{country}"]').first
    start = time.perf_counter()
    bar.click()
    page.wait_for_function(
        _CARDS_SHOWN, arg=[min(count, 24), f"{count:,} of", country], polling="raf", timeout=TIMEOUT
    )
    cards = _ms(start)
    _overview_done(page, min(count, 24), f"{count:,} of", country)
    return cards, _ms(start)


def bench_browser(db_path: Path) -> list[tuple[str, list[float], str]]:
    """(name, samples in ms, target) for the overview and the customer page."""
    terms = _search_terms(db_path)
    counts = _expected_counts(db_path, terms)
    customers = _busy_customers(db_path)
    countries = _countries(db_path)
    log = Path(tempfile.gettempdir()) / "bench-streamlit.log"
    with streamlit_server(db_path, log) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first_loads, searches, details, clicks, edits = [], [], [], [], []
            bars, redrawn = [], []
            # The first visit warms the server's caches (connection, slider bounds).
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            _first_load(page, url)
            page.close()
            warm_loads = []
            for _ in range(RUNS):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                first_loads.append(_first_load(context.new_page(), url))
                # A second tab of the same browser: Streamlit's code is cached.
                warm_loads.append(_first_load(context.new_page(), url))
                context.close()
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            _first_load(page, url)
            for term in terms:
                searches.append(_search(page, term, counts[term]))
            for index in range(RUNS):
                edits.append(_edit_dialog(page, index))
            page.close()
            for customer_id, name in customers:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                details.append(_customer_page(page, url, customer_id, name))
                page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for index in range(RUNS):
                clicks.append(_open_from_card(page, url, index))
            for country, count in countries:
                cards, done = _bar_click(page, url, country, count)
                bars.append(cards)
                redrawn.append(done)
            page.close()
        finally:
            browser.close()
    print(
        f"  browser: first load {statistics.median(first_loads):.0f} ms, search "
        f"{statistics.median(searches):.0f} ms, customer page {statistics.median(details):.0f} ms, "
        f"from a card {statistics.median(clicks):.0f} ms",
        file=sys.stderr,
    )
    return [
        ("browser: overview first load (24 cards)", first_loads, "≤ 2,000 ms median"),
        ("browser: overview in a second tab (code cached)", warm_loads, ""),
        ("browser: search typed → cards updated", searches, "≤ 500 ms median"),
        ("browser: Edit on a card → dialog filled in", edits, ""),
        ("browser: customer page, new tab (charts drawn)", details, "≤ 1,500 ms median"),
        ("browser: customer page, click on a card", clicks, "≤ 1,500 ms median"),
        ("browser: Insights country bar clicked → cards and count", bars, "≤ 1,000 ms median"),
        ("browser: … and the Insights panel redrawn (run over)", redrawn, ""),
    ]
