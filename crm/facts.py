"""Per-customer facts the segment filters read (migration 006), kept current.

What each customer bought (``customer_products``, ``customer_categories``,
with the last time) and how they take the campaigns (``delivered_sends``,
``opened_sends``, ``last_engaged_at`` on the customer row). ``crm.writes``
calls ``refresh_purchases`` inside the transaction that changes a customer's
orders, so a filter never sees stale facts; the seeder calls ``fill_all``
once. The app's only send write queues a send (no delivery, no opens), which
changes no engagement figure; "in campaign X" reads the sends themselves.
"""

from __future__ import annotations

import duckdb

Con = duckdb.DuckDBPyConnection

# One customer's rows, from their own orders and lines (index lookups on
# customer_id). The DELETEs scan the fact tables' customer_id column: at
# 1,000,000 customers ~20M product pairs, a few ms per order write, cheaper
# than an index that would hold 20M keys in memory.
_REFRESH_PURCHASES = (
    "DELETE FROM customer_products WHERE customer_id = $id",
    """
    INSERT INTO customer_products
    SELECT i.customer_id, i.product_id, max(o.ordered_at)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE i.customer_id = $id AND o.customer_id = $id
    GROUP BY i.customer_id, i.product_id
    """,
    "DELETE FROM customer_categories WHERE customer_id = $id",
    """
    INSERT INTO customer_categories
    SELECT cp.customer_id, p.category, max(cp.last_bought_at)
    FROM customer_products cp JOIN products p ON p.id = cp.product_id
    WHERE cp.customer_id = $id
    GROUP BY cp.customer_id, p.category
    """,
)

# Everyone at once (the seeder), as migration 006 backfills them: pairs
# sorted by product and by category so a filter reads only that one's row
# groups. At 1M customers the migration took 27 s.
_FILL_ALL = (
    "DELETE FROM customer_products",
    "DELETE FROM customer_categories",
    """
    INSERT INTO customer_products
    SELECT i.customer_id, i.product_id, max(o.ordered_at)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    GROUP BY i.customer_id, i.product_id
    ORDER BY i.product_id, i.customer_id
    """,
    """
    INSERT INTO customer_categories
    SELECT cp.customer_id, p.category, max(cp.last_bought_at)
    FROM customer_products cp JOIN products p ON p.id = cp.product_id
    GROUP BY cp.customer_id, p.category
    ORDER BY p.category, cp.customer_id
    """,
    """
    UPDATE customers
    SET delivered_sends = coalesce(e.delivered_sends, 0),
        opened_sends = coalesce(e.opened_sends, 0),
        last_engaged_at = e.last_engaged_at
    FROM (
        SELECT c.id,
               count(s.id) FILTER (WHERE s.status = 'Delivered') AS delivered_sends,
               count(s.id) FILTER (WHERE s.status = 'Delivered' AND s.opens > 0) AS opened_sends,
               max(s.sent_at) FILTER (WHERE s.opens > 0 OR s.clicks > 0) AS last_engaged_at
        FROM customers c LEFT JOIN campaign_sends s ON s.customer_id = c.id
        GROUP BY c.id
    ) AS e
    WHERE customers.id = e.id
    """,
)


def refresh_purchases(cur: Con, customer_id: int) -> None:
    """The customer's products and categories bought, from their orders (in the caller's
    transaction)."""
    for sql in _REFRESH_PURCHASES:
        cur.execute(sql, {"id": customer_id})


def forget(cur: Con, customer_id: int) -> None:
    """Remove a deleted customer's purchase facts (the row's own go with it)."""
    cur.execute("DELETE FROM customer_products WHERE customer_id = $id", {"id": customer_id})
    cur.execute("DELETE FROM customer_categories WHERE customer_id = $id", {"id": customer_id})


def fill_all(cur: Con) -> None:
    """Every customer's facts from all orders and sends (in the caller's transaction)."""
    for sql in _FILL_ALL:
        cur.execute(sql)
