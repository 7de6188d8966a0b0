"""Customer Hub benchmark: prints a table of latencies at 100,000 and 1,000,000 customers.

    .venv/bin/python benchmarks/bench.py                 # both sizes, data layer
    .venv/bin/python benchmarks/bench.py --sizes 100000  # one size
    .venv/bin/python benchmarks/bench.py --browser       # also time pages in Chromium

Databases are seeded once into benchmarks/data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm import consent, db, facts, insights, purchases, queries, scores, writes  # noqa: E402
from crm.campaigns import audience  # noqa: E402
from crm.demo.seed import seed_database  # noqa: E402
from crm.detail import customer_detail  # noqa: E402
from crm.exchange import segment_export  # noqa: E402
from crm.models import (  # noqa: E402
    CampaignCreate,
    Channel,
    ConsentChange,
    CustomerCreate,
    CustomerFilter,
    CustomerUpdate,
    LastVisit,
    MessageCreate,
    OrderCreate,
    SortKey,
    parse,
)

DATA = ROOT / "benchmarks" / "data"
SEED = 42
REPEATS = 25


@dataclass
class Row:
    size: int
    name: str
    samples: list[float]
    target: str = ""
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], repeats: int = REPEATS, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def database(size: int) -> Path:
    # DuckDB 1.5 cannot open a file written by 2.0: each older version seeds its own.
    version = "" if duckdb.__version__.startswith("2.") else f"-duckdb{duckdb.__version__}"
    path = DATA / f"crm-{size}{version}.duckdb"
    if not path.exists():
        print(f"seeding {size:,} customers into {path} …", file=sys.stderr, flush=True)
        start = time.perf_counter()
        seed_database(path, customers=size, seed=SEED, progress=True)
        print(f"  seeded in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return path


# --- The filter mix ------------------------------------------------------------------


def search_terms(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """A common term (a frequent surname's first letters) and a rare one (one full email)."""
    common = con.execute(
        "SELECT lower(left(last_name, 3)) FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    rare = con.execute("SELECT email FROM customers WHERE id = 4242 OR id = 1 LIMIT 1").fetchone()
    assert common and rare
    return str(common[0]), str(rare[0])


def filter_mix(common: str, rare: str) -> list[tuple[str, CustomerFilter]]:
    return [
        ("everyone, top spenders", CustomerFilter()),
        (f"search common '{common}'", CustomerFilter(search=common)),
        ("search rare (an email)", CustomerFilter(search=rare)),
        ("spending 500–2,000", CustomerFilter(min_spending=500, max_spending=2000)),
        ("visits 10–30, by visits", CustomerFilter(min_visits=10, max_visits=30, sort=SortKey.VISITS)),
        ("visited in 30 days", CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=30)),
        ("lapsed 90+ days, by last visit", CustomerFilter(last_visit=LastVisit.OLDER, last_visit_days=90, sort=SortKey.LAST_VISIT)),
        ("never visited", CustomerFilter(last_visit=LastVisit.NEVER)),
        ("by name, page 40", CustomerFilter(sort=SortKey.NAME, descending=False, page=40)),
        (f"'{common}' + spend ≥ 200 + 90 days", CustomerFilter(search=common, min_spending=200, last_visit=LastVisit.WITHIN, last_visit_days=90)),
    ]  # fmt: skip


def page_and_count(con: duckdb.DuckDBPyConnection, f: CustomerFilter) -> None:
    queries.customer_page(con, f)


# The naive way: per-customer figures aggregated from orders and visits on every query.
_NAIVE = """
    WITH o AS (SELECT customer_id, sum(amount) AS spend FROM orders GROUP BY 1),
         v AS (SELECT customer_id, count(*) AS visits, max(visited_at) AS last
               FROM visits GROUP BY 1),
         c AS (SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.city, c.state,
                      c.country, coalesce(o.spend, 0) AS spend, coalesce(v.visits, 0) AS visits,
                      v.last
               FROM customers c LEFT JOIN o ON o.customer_id = c.id
               LEFT JOIN v ON v.customer_id = c.id)
    SELECT * FROM c
    WHERE (CAST($term AS VARCHAR) IS NULL
           OR contains(lower(first_name || ' ' || last_name || ' ' || email), $term))
      AND (CAST($min_s AS DOUBLE) IS NULL OR spend >= $min_s)
      AND (CAST($max_s AS DOUBLE) IS NULL OR spend <= $max_s)
      AND (CAST($min_v AS INTEGER) IS NULL OR visits >= $min_v)
      AND (CAST($max_v AS INTEGER) IS NULL OR visits <= $max_v)
      AND (CAST($since AS TIMESTAMP) IS NULL OR last >= $since)
      AND (CAST($before AS TIMESTAMP) IS NULL OR last < $before)
      AND (NOT $never OR last IS NULL)
"""


_NAIVE_PAGE = _NAIVE + " ORDER BY spend DESC, id LIMIT 24"
_NAIVE_TOTALS = "SELECT count(*), sum(spend), sum(visits) FROM (" + _NAIVE + ")"


def naive_page_and_count(con: duckdb.DuckDBPyConnection, f: CustomerFilter) -> None:
    now = datetime.now()
    params = {
        "term": f.search.strip().lower() or None,
        "min_s": f.min_spending,
        "max_s": f.max_spending,
        "min_v": f.min_visits,
        "max_v": f.max_visits,
        "since": now - timedelta(days=f.last_visit_days)
        if f.last_visit is LastVisit.WITHIN
        else None,
        "before": now - timedelta(days=f.last_visit_days)
        if f.last_visit is LastVisit.OLDER
        else None,
        "never": f.last_visit is LastVisit.NEVER,
    }
    cur = con.cursor()
    cur.execute(_NAIVE_PAGE, params).fetchall()
    cur.execute(_NAIVE_TOTALS, params).fetchall()


def bench_segments(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    common, rare = search_terms(con)
    rows = []
    fast_all: list[float] = []
    naive_all: list[float] = []
    for name, f in filter_mix(common, rare):
        fast = timed(lambda f=f: page_and_count(con, f))
        naive = timed(lambda f=f: naive_page_and_count(con, f), repeats=5, warmup=1)
        fast_all += fast
        naive_all += naive
        ratio = statistics.median(naive) / statistics.median(fast)
        rows.append(
            Row(
                size,
                f"page+count: {name}",
                fast,
                note=f"naive {statistics.median(naive):.0f} ms, {ratio:.0f}x",
            )
        )
    ratio = statistics.median(naive_all) / statistics.median(fast_all)
    rows.append(
        Row(size, "page+count: whole mix", fast_all, "≤ 25 ms median", f"{ratio:.0f}x vs naive")
    )
    rows.append(
        Row(size, "naive page+count: whole mix", naive_all, "", "aggregates orders per query")
    )
    return rows  # fmt: skip


def builder_mix(con: duckdb.DuckDBPyConnection) -> list[tuple[str, CustomerFilter, str]]:
    """The segment builder's filters (issue 9) alone and in three combinations, with
    their targets; the values are the data's own (the biggest country, a category,
    the best-selling product, the largest campaign)."""
    cur = con.cursor()
    country, state = cur.execute(
        "SELECT country, mode(state) FROM customers GROUP BY country ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (category,) = cur.execute(
        "SELECT category FROM customer_categories GROUP BY 1 ORDER BY count(*) LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (product,) = cur.execute(
        "SELECT product_id FROM customer_products GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (campaign,) = cur.execute(
        "SELECT campaign_id FROM campaign_sends GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (typical,) = cur.execute(
        "SELECT campaign_id FROM campaign_sends GROUP BY 1"
        " ORDER BY count(*), campaign_id LIMIT 1 OFFSET (SELECT count(DISTINCT campaign_id) // 2"
        " FROM campaign_sends)"
    ).fetchone()  # type: ignore[misc]
    year_ago = (datetime.now() - timedelta(days=365)).date()
    alone, bought = "≤ 40 ms median", "≤ 60 ms median"
    return [
        (f"country {country}", CustomerFilter(countries=(country,)), alone),
        (f"country + state {state}", CustomerFilter(countries=(country,), states=(state,)), alone),
        (f"category {category}", CustomerFilter(categories=(category,)), bought),
        (f"category {category} in 90 days", CustomerFilter(categories=(category,), bought_days=90), bought),
        (f"product {product}", CustomerFilter(products=(product,)), bought),
        ("bought anything in 30 days", CustomerFilter(bought_days=30), alone),
        ("orders 3–10", CustomerFilter(min_orders=3, max_orders=10), alone),
        ("average order $40–$120", CustomerFilter(min_aov=40, max_aov=120), alone),
        ("first order in the last year", CustomerFilter(first_from=year_ago), alone),
        ("added in the last year", CustomerFilter(created_from=year_ago), alone),
        (f"in campaign {campaign} (the largest)", CustomerFilter(in_campaign=campaign), alone),
        (f"not in campaign {campaign}", CustomerFilter(not_campaign=campaign), alone),
        (f"in campaign {typical} (median size)", CustomerFilter(in_campaign=typical), alone),
        ("engaged in 90 days", CustomerFilter(engaged_days=90), alone),
        ("never opened (3+ delivered)", CustomerFilter(never_opened=True), alone),
        ("RFM At risk + Can't lose them", CustomerFilter(rfm_groups=("At risk", "Can't lose them")), alone),
        ("rhythm Overdue + Lapsed", CustomerFilter(rhythm=("Overdue", "Lapsed")), alone),
        (f"combo: {country} + {category} + 2+ orders", CustomerFilter(countries=(country,), categories=(category,), min_orders=2), bought),
        ("combo: Champions + never opened + spend ≥ 500", CustomerFilter(rfm_groups=("Champions",), never_opened=True, min_spending=500), alone),
        (f"combo: {country} + not in {campaign} + lapsed", CustomerFilter(countries=(country,), not_campaign=campaign, rhythm=("Lapsed",)), alone),
    ]  # fmt: skip


def bench_builder(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Page + count with each segment-builder filter; the existing mix in the same run, so a
    busy machine shows in both."""
    common, rare = search_terms(con)
    existing: list[float] = []
    for _, f in filter_mix(common, rare):
        existing += timed(lambda f=f: page_and_count(con, f))
    rows = [Row(size, "page+count: existing mix (again)", existing, "≤ 25 ms median")]
    for name, f, target in builder_mix(con):
        rows.append(
            Row(size, f"builder: {name}", timed(lambda f=f: page_and_count(con, f)), target)
        )
    # A set filter's bitmap is kept until the next write (crm.queries.set_bits): the
    # rows above reuse it as typing would; here it is read afresh each time, as on
    # the first keystroke after a write.
    for name, f, target in builder_mix(con):
        if queries.set_bits(con, f):
            rows.append(
                Row(
                    size,
                    f"builder: {name}, bitmap read afresh",
                    timed(lambda f=f: (queries.forget_set_bits(), page_and_count(con, f))),
                    target,
                )
            )
    return rows  # fmt: skip


def busiest_customer(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        "SELECT customer_id FROM campaign_sends WHERE customer_id IN"
        " (SELECT id FROM customers ORDER BY order_count DESC LIMIT 50) LIMIT 1"
    ).fetchone()
    assert row
    return int(row[0])


# The customer page's reads, each alone; customer_detail runs the first four
# side by side and builds the purchase history and favourites from them.
DETAIL_QUERIES: dict[str, Callable[[duckdb.DuckDBPyConnection, int], Any]] = {
    "get_customer": queries.get_customer,
    "order_rows": queries.order_rows,
    "line_rows": queries.line_rows,
    "campaign_history": queries.campaign_history,
}
# Convenience reads for one part of the page (customer_detail shares their reads).
PART_QUERIES: dict[str, Callable[[duckdb.DuckDBPyConnection, int], Any]] = {
    "purchase_history (orders + lines)": lambda con, cid: purchases.purchase_history(
        queries.order_rows(con, cid), queries.line_rows(con, cid)
    ),
    "favourites (lines)": lambda con, cid: purchases.favourites(queries.line_rows(con, cid)),
    "campaign_rates (history)": lambda con, cid: queries.rates_from_history(
        queries.campaign_history(con, cid)
    ),
}


def bench_detail(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    cid = busiest_customer(con)
    rows = [
        Row(size, f"detail: {name}", timed(lambda q=q: q(con, cid)))
        for name, q in {**DETAIL_QUERIES, **PART_QUERIES}.items()
    ]

    def everything() -> None:
        for q in DETAIL_QUERIES.values():
            q(con, cid)

    rows.append(Row(size, "detail: the queries one after another", timed(everything)))

    def page() -> None:
        customer_detail(con, cid)

    rows.append(
        Row(size, "detail: all the page reads (customer_detail)", timed(page), "≤ 15 ms median")
    )
    # The same, over many customers in turn (one of them alone can be heavier).
    busy = [
        int(r[0])
        for r in con.execute(
            "SELECT id FROM customers ORDER BY order_count DESC, id LIMIT ?", [REPEATS]
        ).fetchall()
    ]
    turns = iter(busy * 2)
    rows.append(
        Row(
            size,
            f"detail: customer_detail, {len(busy)} busiest in turn",
            timed(lambda: customer_detail(con, next(turns)), repeats=len(busy), warmup=0),
            "≤ 15 ms median",
        )
    )
    return rows


@contextmanager
def scratch_customer(con: duckdb.DuckDBPyConnection) -> Iterator[int]:
    data = {"first_name": "Bench", "last_name": "Mark", "email": "bench.mark@example.com"}
    # Subscribed: campaigns and messages reach subscribers only (crm.consent).
    data |= {"phone": "+1 555 010 0199", "email_consent": "Subscribed", "sms_consent": "Subscribed"}
    cid = writes.create_customer(con, parse(CustomerCreate, data))
    try:
        yield cid
    finally:
        if queries.get_customer(con, cid):
            writes.delete_customer(con, cid)


def bench_writes(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    counter = iter(range(10**9))
    base = {"first_name": "Bench", "last_name": "Writer"}

    def create_delete() -> None:
        n = next(counter)
        cid = writes.create_customer(
            con, parse(CustomerCreate, {**base, "email": f"w{n}@bench.io"})
        )
        writes.delete_customer(con, cid)

    rows = [Row(size, "write: create + delete customer", timed(create_delete, repeats=10))]
    with scratch_customer(con) as cid:
        version = [1]

        def update() -> None:
            # The phone stays: the scratch customer is subscribed to SMS.
            data = {**base, "email": "bench.mark@example.com", "phone": "+1 555 010 0199", "city": f"C{next(counter)}"}  # fmt: skip
            version[0] = writes.update_customer(
                con, cid, parse(CustomerUpdate, {**data, "version": version[0]})
            )

        order = parse(
            OrderCreate,
            {"ordered_at": datetime.now(), "items": [{"product_id": 1, "quantity": 2, "unit_price": Decimal("4.50")}]},
        )  # fmt: skip

        def add_delete_order() -> None:
            writes.delete_order(con, writes.add_order(con, cid, order))

        campaign = writes.create_campaign(con, parse(CampaignCreate, {"name": "Bench"}))

        def campaign_add() -> None:
            send = writes.add_to_campaign(con, campaign, cid)
            con.execute("DELETE FROM campaign_sends WHERE id = ?", [send])

        def message() -> None:
            writes.record_message(con, cid, parse(MessageCreate, {"body": "Hi"}))

        def avatar() -> None:
            writes.set_avatar(con, cid, b"x" * 20_000, "image/webp")

        rows += [
            Row(size, "write: update customer", timed(update, repeats=10)),
            Row(size, "write: add + delete order", timed(add_delete_order, repeats=10)),
            Row(size, "write: add to campaign", timed(campaign_add, repeats=10)),
            Row(size, "write: record message", timed(message, repeats=10)),
            Row(size, "write: set avatar", timed(avatar, repeats=10)),
        ]
        con.execute("DELETE FROM campaign_sends WHERE campaign_id = ?", [campaign])
        con.execute("DELETE FROM campaigns WHERE id = ?", [campaign])
        con.execute("DELETE FROM messages WHERE customer_id = ?", [cid])
    return rows


def _concurrently(threads: int, work: Callable[[int, int], None], rounds: int = 12) -> list[float]:
    """Run ``work(session, round)`` in ``threads`` sessions at once; every call's latency."""
    samples: list[float] = []
    lock = threading.Lock()

    def session(offset: int) -> None:
        mine = []
        for i in range(rounds):
            start = time.perf_counter()
            work(offset, i)
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=session, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return samples


def bench_threads(size: int, con: duckdb.DuckDBPyConnection, threads: int = 8) -> list[Row]:
    """Eight sessions at once: the filter mix alone, then the mix with a customer page each."""
    common, rare = search_terms(con)
    mix = [f for _, f in filter_mix(common, rare)]
    cid = busiest_customer(con)

    def segment(offset: int, i: int) -> None:
        page_and_count(con, replace(mix[(offset + i) % len(mix)], page=1 + i % 3))

    def segment_and_customer(offset: int, i: int) -> None:
        segment(offset, i)
        customer_detail(con, cid)

    return [
        Row(
            size,
            f"{threads} threads: page+count each",
            _concurrently(threads, segment),
            "≤ 250 ms p95",
        ),
        Row(
            size,
            f"{threads} threads: page+count, then a customer page",
            _concurrently(threads, segment_and_customer),
        ),
    ]


def insight_segments(con: duckdb.DuckDBPyConnection) -> list[tuple[str, CustomerFilter]]:
    """Filtered segments for the Insights panel: the data's own biggest country and
    most bought category, a common search, a spending range, an RFM group."""
    common, _ = search_terms(con)
    cur = con.cursor()
    (country,) = cur.execute(
        "SELECT country FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (category,) = cur.execute(
        "SELECT category FROM customer_categories GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    return [
        (f"country {country}", CustomerFilter(countries=(country,))),
        (f"search common '{common}'", CustomerFilter(search=common)),
        ("spending 500–2,000", CustomerFilter(min_spending=500, max_spending=2000)),
        ("RFM At risk", CustomerFilter(rfm_groups=("At risk",))),
        (f"category {category}", CustomerFilter(categories=(category,))),
        ("visited in 30 days", CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=30)),
    ]  # fmt: skip


def bench_insights(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The Insights panel's reads (crm.insights.insights), uncached: everyone, then
    filtered segments compared with all customers' profile (which the app caches)."""
    everyone = insights.profile(
        con, CustomerFilter(), datetime.now(), names=insights.category_names(con)
    )
    # As the app calls it: everyone's profile and orders cached, the segment's count
    # known from the overview's page (crm.ui.insights).
    orders = insights.everyone_orders(con, datetime.now())
    rows = [
        Row(size, "insights: everyone", timed(lambda: insights.insights(con, CustomerFilter()), repeats=10), "≤ 300 ms median"),
        Row(size, "insights: all customers' profile alone", timed(lambda: insights.profile(con, CustomerFilter(), datetime.now()), repeats=10)),
    ]  # fmt: skip
    for name, f in insight_segments(con):
        customers = queries.count_segment(con, f)
        rows.append(
            Row(size, f"insights: {name}", timed(lambda f=f, n=customers: insights.insights(con, f, everyone=everyone, customers=n, orders_of_everyone=orders), repeats=10), "≤ 150 ms median", f"{customers:,} customers")
        )  # fmt: skip
    return rows


def bench_scores(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Recomputing the RFM quintile boundaries (crm.scores.refresh_boundaries: the cut
    points from every customer with orders, stored, and the groups they move, in one
    transaction), as the app does when they are a day old or drifted."""
    return [
        Row(size, "scores: recompute quintile boundaries", timed(lambda: scores.refresh_boundaries(con), repeats=5), "≤ 500 ms median"),
    ]  # fmt: skip


def bench_send(size: int, con: duckdb.DuckDBPyConnection, emails: int = 1_000) -> list[Row]:
    """Email delivery (crm.mail) to a local aiosmtpd server: the claim of a batch, and
    emails per second end to end (merge, SMTP, one transaction per result). The
    customers' consent and figures are put back afterwards."""
    from aiosmtpd.controller import Controller  # a dev dependency: only here

    from crm.mail import delivery
    from crm.mail.settings import SmtpSettings

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    # The Send panel's reads for the largest campaign (drawn on every campaign page run).
    largest = con.execute("SELECT campaign_id FROM campaign_sends GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchone()  # fmt: skip
    panel_rows = []
    if largest is not None:
        stale = delivery.interrupted_after()
        campaign_id = int(largest[0])

        def counts() -> None:
            delivery.campaign_delivery(con, campaign_id, stale=stale)

        def reasons() -> None:
            delivery.failure_reasons(con, campaign_id)

        panel_rows = [
            Row(size, "send: panel counts, largest campaign", timed(counts)),
            Row(size, "send: failure reasons, largest campaign", timed(reasons)),
        ]

    with socket_port() as port:
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ids = [int(r[0]) for r in con.execute("SELECT id FROM customers ORDER BY id LIMIT $n", {"n": emails}).fetchall()]  # fmt: skip
    consent = con.execute("SELECT id, email_consent FROM customers WHERE list_contains($ids, id)", {"ids": ids}).fetchall()  # fmt: skip
    campaign = writes.create_campaign(con, parse(CampaignCreate, {"name": f"Bench send {time.time_ns()}", "template": "Hi [First Name], see you in [City]."}))  # fmt: skip
    try:
        con.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE list_contains($ids, id)", {"ids": ids})  # fmt: skip
        con.execute("INSERT INTO campaign_sends (campaign_id, customer_id, status) SELECT $c, unnest($ids), 'Queued'", {"c": campaign, "ids": ids})  # fmt: skip

        def claim_release() -> None:
            claimed = delivery.claim_sends(con, campaign, 50)
            con.execute("UPDATE campaign_sends SET status = 'Queued' WHERE list_contains($ids, id)", {"ids": [s for s, _ in claimed]})  # fmt: skip

        rows = [
            *panel_rows,
            Row(size, "send: claim a batch of 50 queued sends", timed(claim_release)),
        ]
        settings = SmtpSettings(host="127.0.0.1", port=port, security="none", user=None, from_address="shop@example.com", rate_limit=1_000.0)  # fmt: skip
        start = time.perf_counter()
        report = delivery.deliver_campaign(con, campaign, settings)
        seconds = time.perf_counter() - start
        per_email = seconds * 1000 / max(report.delivered, 1)
        rows.append(Row(size, f"send: {report.delivered:,} emails, ms per email", [per_email], note=f"{report.delivered / seconds:,.0f} emails/s (rate limit 1,000/s)"))  # fmt: skip
    finally:
        controller.stop()
        con.execute("DELETE FROM campaign_sends WHERE campaign_id = ?", [campaign])
        con.execute("DELETE FROM campaigns WHERE id = ?", [campaign])
        con.executemany("UPDATE customers SET email_consent = ? WHERE id = ?", [[status, cid] for cid, status in consent])  # fmt: skip
        with db.transaction(con) as cur:
            for cid in ids:
                facts.refresh_engagement(cur, cid)
    return rows


def import_csv(size: int, folder: Path) -> Path:
    """A CSV of ``size`` made-up customers as a user would export them: headers in
    their own words, one name in ten with accents, one row in a thousand bad."""
    path = folder / f"customers-{size}.csv"
    duckdb.sql(
        f"""
        COPY (
            SELECT CASE WHEN i % 10 = 0 THEN 'Zoë' ELSE 'Given' || i END AS "First Name",
                   CASE WHEN i % 10 = 1 THEN 'Núñez' ELSE 'Family' || (i % 5000) END AS "Surname",
                   CASE WHEN i % 1000 = 999 THEN 'person' || i || '-at-example.com'
                        ELSE 'person' || i || '@example.org' END AS "E-mail",
                   '+1 555 ' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0') AS "Phone",
                   (i % 900 + 1) || ' Market Street' AS "Street",
                   'City ' || (i % 700) AS "City", 'State ' || (i % 50) AS "State",
                   lpad(CAST(i % 99999 AS VARCHAR), 5, '0') AS "Postal code",
                   CASE WHEN i % 3 = 0 THEN 'France' ELSE 'United States' END AS "Country"
            FROM range({int(size)}) AS t(i)
        ) TO '{path}' (HEADER)
        """
    )
    return path


def bench_import(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Importing ``size`` customers from CSV: the dry run against this database (read
    only: every email matched against its customers), then the dry run and the commit
    into a new database in a temporary folder (issue 11: 1,000,000 rows in ≤ 60 s)."""
    import tempfile

    from crm.exchange import importer

    with tempfile.TemporaryDirectory(prefix="crm-bench-import-") as folder:
        path = import_csv(size, Path(folder))
        mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        raw = importer.read_file(path)
        read = time.perf_counter() - started
        mapping = importer.suggest_mapping("customers", raw.headers)
        digest = importer.file_sha256(path)
        started = time.perf_counter()
        importer.dry_run(con, "customers", raw, mapping, file_sha256=digest)
        matched = time.perf_counter() - started
        target = db.connect(Path(folder) / "imported.duckdb")
        try:
            started = time.perf_counter()
            plan = importer.dry_run(target, "customers", raw, mapping, file_sha256=digest)
            checked = time.perf_counter() - started
            result = importer.commit(target, plan)
        finally:
            target.close()
    counts = f"{result.created:,} created, {plan.refused:,} refused"
    total = read + checked + result.seconds
    return [
        Row(size, f"import: read the CSV ({size:,} rows)", [read * 1000], note=f"{mb:,.0f} MB"),
        Row(size, "import: dry run against this database", [matched * 1000]),
        Row(size, "import: dry run into a new database", [checked * 1000]),
        Row(
            size,
            "import: commit (one transaction)",
            [result.seconds * 1000],
            note=counts,
        ),
        Row(size, "import: read + dry run + commit", [total * 1000], "≤ 60 s for 1,000,000"),
    ]


def bench_campaigns(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The Campaigns page's data (every campaign's results) and one campaign's page (its
    results, opens and clicks by day, the first members page, the merge-field check) for
    the largest campaign; then both again with 500 of its sends not yet counted (a batch
    recorded without its results: read from the orders), put back afterwards."""
    from crm.campaigns import facts as campaign_facts
    from crm.campaigns import results

    largest = int(con.execute("SELECT campaign_id FROM campaign_sends GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0])  # type: ignore[index]  # fmt: skip

    def one_page() -> None:
        found = results.campaign_result(con, largest)
        assert found is not None
        results.engagement_by_day(con, largest)
        results.members(con, largest, 1)
        results.merge_check(con, found)

    sends = int(con.execute("SELECT count(*) FROM campaign_sends").fetchone()[0])  # type: ignore[index]  # fmt: skip
    rows = [
        Row(
            size,
            "campaigns: list page data",
            timed(lambda: results.campaign_results(con), repeats=10),
            "≤ 300 ms median",
            f"{sends:,} sends",
        ),
        Row(
            size,
            "campaigns: one campaign's page data (largest)",
            timed(one_page, repeats=10),
            "≤ 300 ms median",
        ),
    ]
    con.execute("UPDATE campaign_sends SET window_start = NULL WHERE id IN (SELECT id FROM campaign_sends WHERE campaign_id = $c AND status = 'Delivered' ORDER BY sent_at DESC LIMIT 500)", {"c": largest})  # fmt: skip
    try:
        rows += [
            Row(
                size,
                "campaigns: list, 500 sends not yet counted",
                timed(lambda: results.campaign_results(con), repeats=10),
            ),
            Row(
                size, "campaigns: one page, 500 sends not yet counted", timed(one_page, repeats=10)
            ),
        ]
    finally:
        with db.transaction(con) as cur:
            campaign_facts.refresh_campaign(cur, largest)
    return rows


@contextmanager
def socket_port() -> Iterator[int]:
    """A free local port (closed again before it is used)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield int(probe.getsockname()[1])


def bench_bulk_add(size: int, con: duckdb.DuckDBPyConnection, repeats: int = 3) -> list[Row]:
    """A whole segment added to a new campaign with a 10 % control group (issue 10:
    1,000,000 customers <= 15 s), and the preview counted before it. Push, which no
    consent gates, so everyone is added; each run's campaign is deleted afterwards
    (not timed), leaving the database as it was."""
    everyone = CustomerFilter()
    preview = timed(lambda: audience.preview(con, everyone, channel=Channel.PUSH), repeats=5)
    spenders = CustomerFilter(min_spending=1000.0)
    rows = [Row(size, "bulk add: preview, everyone", preview, "<= 1 s")]
    for label, segment in (("everyone", everyone), ("spending >= 1,000", spenders)):
        samples = []
        for n in range(repeats):
            data = parse(CampaignCreate, {"name": f"Bench bulk {n}", "channel": "Push"})
            start = time.perf_counter()
            added = audience.add_segment(con, segment, campaign=data)
            samples.append((time.perf_counter() - start) * 1000)
            with db.transaction(con) as cur:
                cur.execute("DELETE FROM campaign_sends WHERE campaign_id = ?", [added.campaign_id])
                cur.execute("DELETE FROM campaign_additions WHERE id = ?", [added.id])
                cur.execute("DELETE FROM campaigns WHERE id = ?", [added.campaign_id])
        note = f"{added.preview.eligible:,} added, {added.preview.control:,} control"
        rows.append(Row(size, f"bulk add: {label} to a new campaign", samples, "<= 15 s", note))
    return rows


def print_table(rows: list[Row]) -> None:
    # Run with duckdb==1.5.6 on the path too (the README's DuckDB versions) to compare.
    print(f"DuckDB {duckdb.__version__}, Python {sys.version.split()[0]}")
    header = f"| {'customers':>9} | {'what':<46} | {'median ms':>9} | {'p95 ms':>8} | {'target':<14} | note"
    print(header)
    print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|---")
    for r in rows:
        print(f"| {r.size:>9,} | {r.name:<46} | {r.median:>9.1f} | {r.p95:>8.1f} | {r.target:<14} | {r.note}")  # fmt: skip


def bench_export(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Segment export (issue 10): everyone as CSV and Parquet (DuckDB COPY), and Excel
    (openpyxl, row by row) for the smallest country, with its rate per second."""

    rows: list[Row] = []
    everyone = CustomerFilter()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        for fmt, target in (
            (segment_export.FileFormat.CSV, "≤ 10 s at 1M"),
            (segment_export.FileFormat.PARQUET, "≤ 5 s at 1M"),
        ):
            path = Path(folder) / f"everyone.{fmt.value}"
            samples = timed(lambda fmt=fmt, path=path: segment_export.write_segment(con, everyone, fmt, path), repeats=3, warmup=1)  # fmt: skip
            note = f"{path.stat().st_size / 1e6:.0f} MB"
            rows.append(Row(size, f"export: everyone as {fmt.value}", samples, target, note))
        # Excel for the smallest country (about 5 % of everyone): the rate is what counts.
        row = con.execute("SELECT country FROM customers GROUP BY 1 ORDER BY count(*), 1 LIMIT 1").fetchone()  # fmt: skip
        assert row is not None
        smallest = CustomerFilter(countries=(str(row[0]),))
        count = queries.count_segment(con, smallest)
        path = Path(folder) / "smallest.xlsx"
        samples = timed(lambda: segment_export.write_segment(con, smallest, segment_export.FileFormat.EXCEL, path), repeats=1, warmup=0)  # fmt: skip
        rate = count / (samples[0] / 1000)
        rows.append(Row(size, f"export: {count:,} customers as xlsx", samples, "", f"{rate:,.0f} rows/s; 1M ≈ {1e6 / rate / 60:.0f} min"))  # fmt: skip
    return rows


def bench_consent(size: int, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The overview's consent filter (a condition on the customer row, added only when
    set), alone and with others, and a consent change on the customer page."""
    cur = con.cursor()
    shares = cur.execute(
        "SELECT round(100 * avg((email_consent = 'Subscribed')::INTEGER)),"
        " round(100 * avg((sms_consent = 'Subscribed')::INTEGER)),"
        " (SELECT country FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
        " FROM customers"
    ).fetchone()
    assert shares is not None
    email_share, sms_share, country = shares
    note = f"{email_share:.0f} % email / {sms_share:.0f} % SMS subscribed in this database"
    mix = [
        ("email Subscribed", CustomerFilter(email_consent=("Subscribed",))),
        ("email Subscribed + SMS Not asked", CustomerFilter(email_consent=("Subscribed",), sms_consent=("Not asked",))),
        (f"combo: {country} + email Subscribed + lapsed", CustomerFilter(countries=(country,), email_consent=("Subscribed",), rhythm=("Lapsed",))),
    ]  # fmt: skip
    rows = [
        Row(size, f"consent: {name}", timed(lambda f=f: page_and_count(con, f)), "≤ 40 ms median", note)
        for name, f in mix
    ]  # fmt: skip
    with scratch_customer(con) as cid:
        version = [int(consent.customer_consent(con, cid).version)]
        statuses = iter(["Unsubscribed", "Subscribed"] * 100)

        def change() -> None:
            data = {"channel": "Email", "status": next(statuses), "version": version[0]}
            version[0] = writes.set_consent(con, cid, parse(ConsentChange, data))

        rows.append(Row(size, "write: set email consent", timed(change, repeats=10)))
    return rows


# Each group of rows, in the table's order; --only picks some by name.
GROUPS: dict[str, Callable[[int, duckdb.DuckDBPyConnection], list[Row]]] = {
    "segments": bench_segments,
    "builder": bench_builder,
    "detail": bench_detail,
    "writes": bench_writes,
    "threads": bench_threads,
    "insights": bench_insights,
    "send": bench_send,
    "export": bench_export,
    "import": bench_import,
    "campaigns": bench_campaigns,
    "bulk_add": bench_bulk_add,
    "scores": bench_scores,
    "consent": bench_consent,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--browser", action="store_true", help="also time pages in Chromium")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(GROUPS), default=list(GROUPS), help="these rows only"
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for size in args.sizes:
        path = database(size)
        con = db.connect(path)
        scores.current_boundaries(con)  # as the app does when it opens a database
        for name in args.only:
            rows += GROUPS[name](size, con)
        con.close()
        if args.browser:
            from browser_bench import bench_browser  # only with --browser: needs Playwright

            rows += [
                Row(size, name, samples, target) for name, samples, target in bench_browser(path)
            ]
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
