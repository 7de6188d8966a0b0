"""Read queries against a seeded DuckDB file, checked by brute force on the same data."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from crm import purchases, queries, writes
from crm.models import (
    CampaignRates,
    CardRow,
    Customer,
    CustomerCreate,
    CustomerFilter,
    Favourites,
    LastVisit,
    OrderCreate,
    PurchaseHistory,
    SegmentTotals,
    SortKey,
    parse,
)

NOW = datetime.now()


def _all_customers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT id, first_name, last_name, email, total_spending, visit_count, last_visit"
        " FROM customers"
    ).df()


def _brute_force(df: pd.DataFrame, f: CustomerFilter) -> set[int]:
    """The segment computed in Python, row by row, without the query's SQL."""
    term = f.search.strip().lower()
    keep = set()
    for row in df.itertuples():
        text = f"{row.first_name} {row.last_name} {row.email}".lower()
        spend = Decimal(str(row.total_spending))
        last = None if pd.isna(row.last_visit) else row.last_visit.to_pydatetime()
        if term and term not in text:
            continue
        if f.min_spending is not None and spend < Decimal(str(f.min_spending)):
            continue
        if f.max_spending is not None and spend > Decimal(str(f.max_spending)):
            continue
        if f.min_visits is not None and row.visit_count < f.min_visits:
            continue
        if f.max_visits is not None and row.visit_count > f.max_visits:
            continue
        cutoff = NOW - timedelta(days=f.last_visit_days)
        if f.last_visit is LastVisit.WITHIN and (last is None or last < cutoff):
            continue
        if f.last_visit is LastVisit.OLDER and (last is None or last >= cutoff):
            continue
        if f.last_visit is LastVisit.NEVER and last is not None:
            continue
        keep.add(int(row.id))
    return keep


def _segment_ids(con: duckdb.DuckDBPyConnection, f: CustomerFilter) -> list[int]:
    big = CustomerFilter(**{**f.__dict__, "page": 1, "page_size": 1_000_000})
    return [row.id for row in queries.customer_page(con, big, now=NOW).rows]


def _totals(con: duckdb.DuckDBPyConnection, f: CustomerFilter) -> SegmentTotals:
    return queries.customer_page(con, f, now=NOW).totals


# The customer page's parts, from the plain reads (crm.detail runs them side by side).
def _purchase_history(con: duckdb.DuckDBPyConnection, cid: int) -> PurchaseHistory:
    return purchases.purchase_history(queries.order_rows(con, cid), queries.line_rows(con, cid))


def _favourites(con: duckdb.DuckDBPyConnection, cid: int) -> Favourites:
    return purchases.favourites(queries.line_rows(con, cid))


def _campaign_rates(con: duckdb.DuckDBPyConnection, cid: int) -> CampaignRates:
    return queries.rates_from_history(queries.campaign_history(con, cid))


def _common_name_fragment(df: pd.DataFrame) -> str:
    return str(df["last_name"].str.lower().str[:3].value_counts().index[0])


FILTERS = [
    CustomerFilter(),
    CustomerFilter(min_spending=500),
    CustomerFilter(min_spending=100, max_spending=900),
    CustomerFilter(min_visits=5, max_visits=20),
    CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=30),
    CustomerFilter(last_visit=LastVisit.OLDER, last_visit_days=90),
    CustomerFilter(last_visit=LastVisit.NEVER),
    CustomerFilter(max_spending=0),
    CustomerFilter(min_spending=200, min_visits=3, last_visit=LastVisit.WITHIN, last_visit_days=90),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: repr(f)[15:70])
def test_filters_match_brute_force(con: duckdb.DuckDBPyConnection, f: CustomerFilter) -> None:
    expected = _brute_force(_all_customers(con), f)
    got = _segment_ids(con, f)
    assert len(got) == len(set(got)), "a customer appeared twice"
    assert set(got) == expected
    assert _totals(con, f).customers == len(expected)


def test_filters_are_not_vacuous(con: duckdb.DuckDBPyConnection) -> None:
    # The brute-force comparison means little if every segment is empty or everyone.
    everyone = queries.count_all_customers(con)
    sizes = [_totals(con, f).customers for f in FILTERS[1:]]
    assert all(0 < size < everyone for size in sizes), sizes


def test_search_is_case_insensitive_substring_of_name_or_email(
    con: duckdb.DuckDBPyConnection,
) -> None:
    df = _all_customers(con)
    fragment = _common_name_fragment(df)
    for term in (fragment, fragment.upper(), f"  {fragment.title()} "):
        f = CustomerFilter(search=term)
        assert set(_segment_ids(con, f)) == _brute_force(df, f)
    email_part = str(df["email"].iloc[5]).split("@")[0].upper()
    assert int(df["id"].iloc[5]) in _segment_ids(con, CustomerFilter(search=email_part))
    full_name = f"{df['first_name'].iloc[9]} {df['last_name'].iloc[9]}"
    assert int(df["id"].iloc[9]) in _segment_ids(con, CustomerFilter(search=full_name))


def test_search_treats_sql_and_wildcards_as_text(con: duckdb.DuckDBPyConnection) -> None:
    df = _all_customers(con)
    # LIKE wildcards must match only themselves (the brute force is a plain substring test).
    for term in ("%", "_", "a%b", "' OR 1=1 --", "x'); DROP TABLE customers; --"):
        f = CustomerFilter(search=term)
        assert set(_segment_ids(con, f)) == _brute_force(df, f)
    assert not _brute_force(df, CustomerFilter(search="' OR 1=1 --"))
    assert queries.count_all_customers(con) == len(df)


def test_totals_sum_the_segment(con: duckdb.DuckDBPyConnection) -> None:
    f = CustomerFilter(min_visits=3)
    df = _all_customers(con)
    ids = _brute_force(df, f)
    match = df[df["id"].isin(ids)]
    totals = _totals(con, f)
    assert totals.customers == len(ids)
    assert totals.spending == sum((Decimal(str(v)) for v in match["total_spending"]), Decimal(0))
    assert totals.visits == int(match["visit_count"].sum())


@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [True, False])
def test_sort_orders_and_pages_cover_everyone_once(
    con: duckdb.DuckDBPyConnection, sort: SortKey, descending: bool
) -> None:
    size = 24
    everything: list[CardRow] = []
    page = 1
    while True:
        f = CustomerFilter(sort=sort, descending=descending, page=page, page_size=size)
        rows = queries.customer_page(con, f, now=NOW).rows
        if not rows:
            break
        assert len(rows) <= size
        everything += rows
        page += 1
    assert sorted(r.id for r in everything) == sorted(_all_customers(con)["id"])
    column = {
        SortKey.SPENDING: "total_spending",
        SortKey.VISITS: "visit_count",
        SortKey.LAST_VISIT: "last_visit",
        SortKey.NAME: "last_name",
    }[sort]
    values = [getattr(r, column) for r in everything if getattr(r, column) is not None]
    assert values == sorted(values, reverse=descending)
    if sort is SortKey.LAST_VISIT:
        never = [r.last_visit is None for r in everything]
        # Never-visited customers come last when newest first, first when oldest first.
        assert never == sorted(never, reverse=not descending)


def test_page_beyond_the_end_is_empty(con: duckdb.DuckDBPyConnection) -> None:
    beyond = queries.customer_page(con, CustomerFilter(page=10_000), now=NOW)
    first = queries.customer_page(con, CustomerFilter(), now=NOW)
    assert beyond.rows == () and len(first.rows) == 24
    # Totals of the whole segment still come with an empty page.
    assert beyond.totals == first.totals and first.totals.customers > 0


def test_a_page_of_cards_is_records_of_the_stored_values(con: duckdb.DuckDBPyConnection) -> None:
    """Issue 12, item 26: rows as records (no DataFrame, no NaN), each the stored row."""
    never = queries.customer_page(con, CustomerFilter(last_visit=LastVisit.NEVER), now=NOW).rows
    page = queries.customer_page(con, CustomerFilter(), now=NOW).rows
    assert never and page
    names = [field.name for field in fields(CardRow)]
    for row in (*never, *page):
        assert isinstance(row, CardRow)
        stored = con.execute("SELECT * FROM customers WHERE id = ?", [row.id]).fetchone()
        columns = [d[0] for d in con.execute("SELECT * FROM customers LIMIT 0").description]
        assert stored is not None
        assert asdict(row) == {name: stored[columns.index(name)] for name in names}
    assert all(row.last_visit is None for row in never)
    assert all(isinstance(row.total_spending, Decimal) for row in page)


def _customer_with_orders(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        "SELECT id FROM customers WHERE order_count >= 4 ORDER BY order_count DESC, id LIMIT 1"
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_get_customer_and_unknown(con: duckdb.DuckDBPyConnection) -> None:
    cid = _customer_with_orders(con)
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.id == cid
    assert customer.name == f"{customer.first_name} {customer.last_name}"
    # Every field is the stored column of that name.
    cursor = con.execute("SELECT * FROM customers WHERE id = ?", [cid])
    stored = dict(zip([d[0] for d in cursor.description], cursor.fetchone() or (), strict=True))
    assert asdict(customer) == {field.name: stored[field.name] for field in fields(Customer)}
    assert queries.get_customer(con, 10**12) is None


def test_customer_orders_newest_first_with_items(con: duckdb.DuckDBPyConnection) -> None:
    cid = _customer_with_orders(con)
    orders = _purchase_history(con, cid).orders
    expected = con.execute(
        "SELECT id, amount FROM orders WHERE customer_id = ? ORDER BY ordered_at DESC, id DESC",
        [cid],
    ).fetchall()
    assert [(int(r.order_id), Decimal(str(r.amount))) for r in orders.itertuples()] == [
        (int(i), Decimal(str(a))) for i, a in expected
    ]
    first = orders.iloc[0]
    items = con.execute(
        "SELECT p.name, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id"
        " WHERE i.order_id = ?",
        [int(first["order_id"])],
    ).fetchall()
    for name, quantity in items:
        assert f"{quantity} × {name}" in first["items"]
    assert int(first["item_count"]) == sum(q for _, q in items)


def test_monthly_spending_by_brute_force(con: duckdb.DuckDBPyConnection) -> None:
    cid = _customer_with_orders(con)
    series = _purchase_history(con, cid).monthly
    # Each order, bucketed by hand into the first day of its month.
    orders = con.execute(
        "SELECT ordered_at, amount FROM orders WHERE customer_id = ?", [cid]
    ).fetchall()
    expected: dict[datetime, list[Decimal]] = {}
    for when, amount in orders:
        expected.setdefault(datetime(when.year, when.month, 1), []).append(amount)
    assert [m.to_pydatetime() for m in series["month"]] == sorted(expected)
    for row in series.itertuples():
        amounts = expected[row.month.to_pydatetime()]
        assert row.orders == len(amounts)
        assert row.amount == pytest.approx(float(sum(amounts)))


def test_top_items_and_categories_by_brute_force(con: duckdb.DuckDBPyConnection) -> None:
    cid = _customer_with_orders(con)
    # The raw order lines, joined by hand: the brute force shares no SQL with the app.
    lines = con.execute(
        "SELECT p.name AS product, p.category, i.quantity,"
        " (i.quantity * i.unit_price)::DOUBLE AS line_total"
        " FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.customer_id = ?",
        [cid],
    ).df()
    by_product = lines.groupby("product")["quantity"].sum().sort_values(ascending=False)
    liked = _favourites(con, cid)
    top = liked.items
    assert len(top) == min(3, len(by_product))
    assert list(top["quantity"]) == list(by_product.iloc[: len(top)])
    by_category = (
        lines.assign(spent=lines["line_total"].astype(float))
        .groupby("category")["spent"]
        .sum()
        .sort_values(ascending=False)
    )
    cats = liked.categories
    assert list(cats["spent"]) == pytest.approx(list(by_category.iloc[: len(cats)]))


def test_purchases_of_one_line_orders_and_of_nobody(con: duckdb.DuckDBPyConnection) -> None:
    """Orders with one line each (item lists of equal length) and an unknown customer."""
    cid = writes.create_customer(
        con, parse(CustomerCreate, {"first_name": "Una", "last_name": "Line", "email": "u@l.io"})
    )
    for day, product in [(1, 1), (2, 2)]:
        order = {
            "ordered_at": datetime(2026, 3, day, 12),
            "items": [{"product_id": product, "quantity": 2, "unit_price": "5.00"}],
        }
        writes.add_order(con, cid, parse(OrderCreate, order))
    bought, liked = _purchase_history(con, cid), _favourites(con, cid)
    names = dict(con.execute("SELECT id, name FROM products WHERE id IN (1, 2)").fetchall())
    assert list(bought.orders["items"]) == [[f"2 × {names[2]}"], [f"2 × {names[1]}"]]
    assert list(bought.orders["amount"]) == [10.0, 10.0]
    assert list(bought.monthly["amount"]) == [20.0] and list(bought.monthly["orders"]) == [2]
    assert list(liked.items["quantity"]) == [2, 2]
    nobody = _purchase_history(con, 10**12)
    no_one = _favourites(con, 10**12)
    for frame, like in [
        (nobody.orders, bought.orders),
        (nobody.monthly, bought.monthly),
        (no_one.items, liked.items),
        (no_one.categories, liked.categories),
    ]:
        assert frame.empty
        assert frame.dtypes.to_dict() == like.dtypes.to_dict()


def test_campaign_history_and_rates(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT customer_id FROM campaign_sends GROUP BY 1 HAVING count(*) >= 3 LIMIT 1"
    ).fetchone()
    assert row is not None
    cid = int(row[0])
    sends = con.execute(
        "SELECT status, opens, clicks FROM campaign_sends WHERE customer_id = ?", [cid]
    ).fetchall()
    history = queries.campaign_history(con, cid)
    assert len(history[history["kind"] == "Campaign"]) == len(sends)
    rates = _campaign_rates(con, cid)
    delivered = [s for s in sends if s[0] == "Delivered"]
    failed = [s for s in sends if s[0] == "Failed"]
    assert rates.delivered == len(delivered) and rates.failed == len(failed)
    attempted = len(delivered) + len(failed)
    assert rates.success_rate == pytest.approx(len(delivered) / attempted)
    assert rates.failure_rate == pytest.approx(len(failed) / attempted)
    if delivered:
        assert rates.open_rate == pytest.approx(sum(s[1] > 0 for s in delivered) / len(delivered))
        assert rates.click_rate == pytest.approx(sum(s[2] > 0 for s in delivered) / len(delivered))


def test_rates_are_none_without_sends(con: duckdb.DuckDBPyConnection) -> None:
    rates = _campaign_rates(con, 10**12)
    assert rates.sends == 0 and rates.success_rate is None and rates.open_rate is None


def test_order_lines_belong_to_that_customer_only(con: duckdb.DuckDBPyConnection) -> None:
    cid = _customer_with_orders(con)
    order_id = int(_purchase_history(con, cid).orders["order_id"].iloc[0])
    lines = queries.order_lines(con, cid, order_id)
    expected = con.execute(
        "SELECT count(*), sum(quantity * unit_price) FROM order_items WHERE order_id = ?",
        [order_id],
    ).fetchone()
    assert expected is not None
    assert len(lines) == expected[0] > 0
    assert lines["line_total"].astype(float).sum() == pytest.approx(float(expected[1]))
    # Someone else's id with this order's number finds nothing.
    assert queries.order_lines(con, cid + 1, order_id).empty


@pytest.mark.parametrize(
    "f",
    [*FILTERS, CustomerFilter(search="no such customer anywhere"), CustomerFilter(page=10_000)],
    ids=lambda f: repr(f)[15:70],
)
def test_customer_page_is_the_page_and_the_totals_of_one_scan(
    con: duckdb.DuckDBPyConnection, f: CustomerFilter
) -> None:
    result = queries.customer_page(con, f, now=NOW)
    df = _all_customers(con)
    expected = sorted(_brute_force(df, f))
    match = df[df["id"].isin(expected)]
    assert result.totals == SegmentTotals(
        customers=len(expected),
        spending=sum((Decimal(str(v)) for v in match["total_spending"]), Decimal(0)),
        visits=int(match["visit_count"].sum()),
    )
    assert len(result.rows) == max(0, min(f.page_size, len(expected) - (f.page - 1) * f.page_size))
    assert {row.id for row in result.rows} <= set(expected)


def test_customer_ranges_by_brute_force(con: duckdb.DuckDBPyConnection) -> None:
    df = _all_customers(con)
    ranges = queries.customer_ranges(con)
    assert ranges.customers == len(df)
    spent = [Decimal(str(v)) for v in df["total_spending"]]
    assert ranges.spending == (min(spent), max(spent))
    assert ranges.visits == (int(df["visit_count"].min()), int(df["visit_count"].max()))
