"""The customer page's concurrent read returns what each query returns alone."""

from __future__ import annotations

import duckdb
import pandas as pd

from crm import purchases, queries, writes
from crm.detail import customer_detail
from crm.models import CustomerCreate, parse


def test_customer_detail_matches_the_queries_one_by_one(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT customer_id FROM campaign_sends WHERE customer_id IN"
        " (SELECT id FROM customers WHERE order_count > 3) LIMIT 1"
    ).fetchone()
    assert row is not None
    cid = int(row[0])
    detail = customer_detail(con, cid)
    assert detail is not None
    assert detail.customer == queries.get_customer(con, cid)
    lines = queries.line_rows(con, cid)
    bought = purchases.purchase_history(queries.order_rows(con, cid), lines)
    liked = purchases.favourites(lines)
    pairs = [
        (detail.orders, bought.orders),
        (detail.monthly_spending, bought.monthly),
        (detail.top_items, liked.items),
        (detail.top_categories, liked.categories),
        (detail.campaign_history, queries.campaign_history(con, cid)),
    ]
    for got, expected in pairs:
        assert not expected.empty
        pd.testing.assert_frame_equal(got, expected)
    rates = queries.rates_from_history(queries.campaign_history(con, cid))
    assert detail.campaign_rates == rates


def test_customer_detail_of_someone_without_history_is_empty(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cid = writes.create_customer(
        con, parse(CustomerCreate, {"first_name": "New", "last_name": "One", "email": "n@o.io"})
    )
    detail = customer_detail(con, cid)
    assert detail is not None and detail.customer.id == cid
    assert detail.orders.empty and detail.monthly_spending.empty
    assert detail.campaign_history.empty and detail.campaign_rates.sends == 0


def test_customer_detail_of_an_unknown_id_is_none(con: duckdb.DuckDBPyConnection) -> None:
    assert customer_detail(con, 10**12) is None
