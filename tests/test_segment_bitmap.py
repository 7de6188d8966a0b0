"""The segment's semi-joins tested against a bitmap of ids (``segment_where(...,
id_ceiling=)``) give the very customers brute force finds, whatever the ceiling:
the highest id, one below most ids (those above it are looked up by IN), zero,
and for sets that are empty (a campaign nobody is in)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from crm import queries
from crm.models import CustomerFilter

NOW = datetime.now()
Con = duckdb.DuckDBPyConnection


def _ids(con: Con, sql: str, params: dict[str, object] | None = None) -> set[int]:
    return {int(row[0]) for row in con.execute(sql, params or {}).fetchall()}


def _segment(con: Con, f: CustomerFilter, ceiling: int | None) -> set[int]:
    where, params = queries.segment_where(f, NOW, ceiling)
    assert ("bitstring_agg" in where) == (ceiling is not None)
    return _ids(con, f"SELECT id FROM customers WHERE {where}", params)


def _bought(con: Con, column: str, values: list[object], days: int | None = None) -> set[int]:
    """Customers with an order line of those categories or products (from the raw
    order lines, not the per-customer facts), within ``days`` if given."""
    since = NOW - timedelta(days=days) if days is not None else datetime(1900, 1, 1)
    return _ids(
        con,
        f"""SELECT DISTINCT i.customer_id FROM order_items i
            JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
            WHERE list_contains($values, p.{column}) AND o.ordered_at >= $since""",
        {"values": values, "since": since},
    )


@pytest.fixture
def ceilings(con: Con) -> list[int]:
    highest = queries.id_ceiling(con)
    assert highest == max(_ids(con, "SELECT id FROM customers"))
    return [highest, highest // 2, 0]


def test_bought_categories_and_products(con: Con, ceilings: list[int]) -> None:
    everyone = _ids(con, "SELECT id FROM customers")
    (category,) = con.execute(
        "SELECT p.category FROM order_items i JOIN products p ON p.id = i.product_id"
        " GROUP BY 1 ORDER BY count(DISTINCT i.customer_id) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (product,) = con.execute(
        "SELECT product_id FROM order_items GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    cases = [
        (CustomerFilter(categories=(category,)), _bought(con, "category", [category])),
        (
            CustomerFilter(categories=(category,), bought_days=60),
            _bought(con, "category", [category], days=60),
        ),
        (CustomerFilter(products=(product,)), _bought(con, "id", [product])),
    ]
    for f, expected in cases:
        assert 0 < len(expected) < len(everyone)
        for ceiling in [None, *ceilings]:
            assert _segment(con, f, ceiling) == expected, (f, ceiling)


def test_in_and_not_in_a_campaign(con: Con, ceilings: list[int]) -> None:
    everyone = _ids(con, "SELECT id FROM customers")
    (campaign,) = con.execute(
        "SELECT campaign_id FROM campaign_sends GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    members = _ids(con, "SELECT customer_id FROM campaign_sends WHERE campaign_id = ?", [campaign])
    assert 0 < len(members) < len(everyone)
    nobody = int(con.execute("SELECT max(id) + 1 FROM campaigns").fetchone()[0])  # type: ignore[index]
    for ceiling in [None, *ceilings]:
        assert _segment(con, CustomerFilter(in_campaign=campaign), ceiling) == members
        assert _segment(con, CustomerFilter(not_campaign=campaign), ceiling) == everyone - members
        # An empty set: its bitmap is NULL, yet "not in it" is everyone.
        assert _segment(con, CustomerFilter(in_campaign=nobody), ceiling) == set()
        assert _segment(con, CustomerFilter(not_campaign=nobody), ceiling) == everyone


def test_a_customer_added_after_the_ceiling_was_read(con: Con) -> None:
    """A stale ceiling (read before a customer was added) still finds the new one."""
    ceiling = queries.id_ceiling(con)
    (customer,) = con.execute(
        "SELECT customer_id FROM campaign_sends ORDER BY customer_id LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (campaign,) = con.execute(
        "SELECT campaign_id FROM campaign_sends WHERE customer_id = ? LIMIT 1", [customer]
    ).fetchone()  # type: ignore[misc]
    newer = ceiling + 10
    con.execute(
        "INSERT INTO customers"
        " SELECT * REPLACE ($newer AS id, $email AS email, $email AS email_key)"
        " FROM customers WHERE id = $old",
        {"newer": newer, "email": f"bitmap-{newer}@example.com", "old": customer},
    )
    con.execute(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status)"
        " VALUES ($campaign, $newer, 'Queued')",
        {"campaign": campaign, "newer": newer},
    )
    found = _segment(con, CustomerFilter(in_campaign=campaign), ceiling)
    assert newer in found
    assert found == _segment(con, CustomerFilter(in_campaign=campaign), None)
    assert newer not in _segment(con, CustomerFilter(not_campaign=campaign), ceiling)
