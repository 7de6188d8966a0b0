"""Per-customer facts the segment filters read (migration 006), kept current.

What each customer bought (``customer_products``, ``customer_categories``,
with the last time, and the categories again as bits of the customer row's
``category_mask``, migration 018), what they spent per month
(``customer_months``, migration 019) and how they take the campaigns (``delivered_sends``,
``opened_sends``, ``last_engaged_at`` on the customer row). ``crm.writes``
calls ``refresh_purchases`` for the products concerned inside the
transaction that changes a customer's orders (or deletes the customer), so
a filter never sees stale facts; the seeder calls ``fill_all`` once.
Queueing a send changes no engagement figure; delivering one does, and
``crm.mail.delivery`` calls ``refresh_engagement`` in the transaction that
records it. "In campaign X" reads the sends themselves.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from crm.campaigns import facts as campaign_facts

Con = duckdb.DuckDBPyConnection

# One customer's pairs for one product or category, from their own order
# lines (index lookups on customer_id). The fact tables have no index on
# customer_id (20M keys in memory at 1M customers): the DELETE finds the row
# by the product or category first, which the tables are sorted by, so it
# reads that one's row groups (zone maps) instead of all 20M pairs. At 1M
# customers deleting by customer_id alone cost ~120 ms per order write.
_PRODUCT_DELETE = "DELETE FROM customer_products WHERE product_id = $product AND customer_id = $id"
_PRODUCT_INSERT = """
    INSERT INTO customer_products
    SELECT $id, $product, max(o.ordered_at)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE i.customer_id = $id AND o.customer_id = $id AND i.product_id = $product
    HAVING count(*) > 0
"""
_CATEGORY_DELETE = (
    "DELETE FROM customer_categories WHERE category = $category AND customer_id = $id"
)
_CATEGORY_INSERT = """
    INSERT INTO customer_categories
    SELECT $id, $category, max(o.ordered_at)
    FROM order_items i
    JOIN orders o ON o.id = i.order_id
    JOIN products p ON p.id = i.product_id
    WHERE i.customer_id = $id AND o.customer_id = $id AND p.category = $category
    HAVING count(*) > 0
"""

# The categories on the customer row (migration 018): bit ``category_bits.bit`` of
# ``category_mask`` for each category bought. A new category gets the next bit
# when its first product is written (``assign_category_bits``); one beyond bit
# 63 is not in the masks, and crm.insights then reads the pairs instead.
_CATEGORY_MASK = "bit_or(CAST(1 AS UBIGINT) << CAST(b.bit AS UBIGINT))"
_ASSIGN_CATEGORY_BITS = """
    INSERT INTO category_bits
    SELECT category,
           CAST((SELECT coalesce(max(bit), -1) FROM category_bits)
                + row_number() OVER (ORDER BY category) AS INTEGER)
    FROM (SELECT DISTINCT category FROM products
          WHERE category NOT IN (SELECT category FROM category_bits))
    RETURNING category, bit
"""
# Buyers of a category that has just got its bit (none when the category's first
# product is new, as in the app; some in a database whose products were written
# by hand).
_ADD_BIT_TO_BUYERS = """
    UPDATE customers
    SET category_mask = category_mask | (CAST(1 AS UBIGINT) << CAST($bit AS UBIGINT))
    WHERE id IN (SELECT customer_id FROM customer_categories WHERE category = $category)
"""
# One customer's mask from their own order lines (index lookups on customer_id,
# like _CATEGORY_INSERT): the pairs table has no index on customer_id.
_MASK_OF_ONE = f"""
    UPDATE customers SET category_mask = (
        SELECT coalesce({_CATEGORY_MASK}, 0)
        FROM order_items AS i
        JOIN products AS p ON p.id = i.product_id
        JOIN category_bits AS b ON b.category = p.category
        WHERE i.customer_id = $id AND b.bit < 64
    )
    WHERE id = $id
"""  # noqa: S608 - module constants
# Many customers' masks from their pairs: everyone's, or those listed in rescore_ids.
_MASKS_OF = f"""
    UPDATE customers SET category_mask = coalesce(m.mask, 0)
    FROM (
        SELECT c.id, m.mask
        FROM customers AS c
        LEFT JOIN (
            SELECT cc.customer_id, {_CATEGORY_MASK} AS mask
            FROM customer_categories AS cc JOIN category_bits AS b USING (category)
            WHERE b.bit < 64 {{and_pairs}}
            GROUP BY cc.customer_id
        ) AS m ON m.customer_id = c.id
        {{where_customers}}
    ) AS m
    WHERE customers.id = m.id
"""  # noqa: S608 - module constants
_MASKS_OF_EVERYONE = _MASKS_OF.format(and_pairs="", where_customers="")
_MASKS_OF_LISTED = _MASKS_OF.format(
    and_pairs="AND cc.customer_id IN (SELECT id FROM rescore_ids)",
    where_customers="WHERE c.id IN (SELECT id FROM rescore_ids)",
)

# Each customer's orders per month (migration 019), from their orders: one
# customer's (index lookups on orders.customer_id; the DELETE finds their rows
# by the zone maps, the table being sorted by customer), everyone's (sorted so),
# or those listed in rescore_ids.
_MONTH_ROWS = """
    INSERT INTO customer_months
    SELECT customer_id, CAST(year(ordered_at) * 12 + month(ordered_at) - 1 AS SMALLINT),
           CAST(sum(amount) AS DECIMAL(14, 2)), CAST(count(*) AS INTEGER)
    FROM orders
    WHERE {which}
    GROUP BY ALL
    ORDER BY 1, 2
"""
_MONTHS_OF_ONE = (
    "DELETE FROM customer_months WHERE customer_id = $id",
    _MONTH_ROWS.format(which="customer_id = $id"),
)
_MONTHS_OF_EVERYONE = (
    "DELETE FROM customer_months",
    _MONTH_ROWS.format(which="true"),
)
_MONTHS_OF_LISTED = (
    "DELETE FROM customer_months WHERE customer_id IN (SELECT id FROM rescore_ids)",
    _MONTH_ROWS.format(which="customer_id IN (SELECT id FROM rescore_ids)"),
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


def products_of_order(cur: Con, order_id: int) -> set[int]:
    """The products on an order's lines (before they change)."""
    rows = cur.execute(
        "SELECT DISTINCT product_id FROM order_items WHERE order_id = $order", {"order": order_id}
    ).fetchall()
    return {int(row[0]) for row in rows}


def products_of_customer(cur: Con, customer_id: int) -> set[int]:
    """Every product the customer has bought (before their lines are deleted)."""
    rows = cur.execute(
        "SELECT DISTINCT product_id FROM order_items WHERE customer_id = $id", {"id": customer_id}
    ).fetchall()
    return {int(row[0]) for row in rows}


def refresh_purchases(cur: Con, customer_id: int, products: Collection[int]) -> None:
    """The customer's pairs for ``products`` (and their categories), from their order lines
    as they are now, in the caller's transaction: call after an order with those products
    was added, changed or deleted, or the customer deleted."""
    if not products:
        return
    wanted = sorted(products)
    for product in wanted:
        params = {"id": customer_id, "product": product}
        cur.execute(_PRODUCT_DELETE, params)
        cur.execute(_PRODUCT_INSERT, params)
    rows = cur.execute(
        "SELECT DISTINCT category FROM products WHERE list_contains($products, id)",
        {"products": wanted},
    ).fetchall()
    for (category,) in rows:
        params = {"id": customer_id, "category": category}
        cur.execute(_CATEGORY_DELETE, params)
        cur.execute(_CATEGORY_INSERT, params)
    if rows:
        cur.execute(_MASK_OF_ONE, {"id": customer_id})


def refresh_months(cur: Con, customer_id: int) -> None:
    """The customer's orders per month, from their orders as they are now, in the
    caller's transaction: call after any of their orders was added, changed or
    deleted, or the customer deleted."""
    for sql in _MONTHS_OF_ONE:
        cur.execute(sql, {"id": customer_id})


def assign_category_bits(cur: Con) -> None:
    """Give every product category without a bit of ``category_mask`` the next one, in
    the caller's transaction: call after writing products (the seeder, an import)."""
    for category, bit in cur.execute(_ASSIGN_CATEGORY_BITS).fetchall():
        if bit < 64:
            cur.execute(_ADD_BIT_TO_BUYERS, {"category": category, "bit": bit})


def fill_all(cur: Con) -> None:
    """Every customer's facts from all orders and sends (in the caller's transaction),
    and what each campaign send led to (``crm.campaigns.facts``)."""
    assign_category_bits(cur)
    for sql in _FILL_ALL:
        cur.execute(sql)
    cur.execute(_MASKS_OF_EVERYONE)
    for sql in _MONTHS_OF_EVERYONE:
        cur.execute(sql)
    campaign_facts.fill_all(cur)


def refresh_engagement(cur: Con, customer_id: int) -> None:
    """The customer's campaign figures (delivered, opened, last engaged) from their own
    sends as they are now, in the caller's transaction: call after a send is delivered,
    fails or changes status (index lookup on campaign_sends.customer_id)."""
    cur.execute(
        """
        UPDATE customers SET
            delivered_sends = (SELECT count(*) FROM campaign_sends
                               WHERE customer_id = $id AND status = 'Delivered'),
            opened_sends = (SELECT count(*) FROM campaign_sends
                            WHERE customer_id = $id AND status = 'Delivered' AND opens > 0),
            last_engaged_at = (SELECT max(sent_at) FROM campaign_sends
                               WHERE customer_id = $id AND (opens > 0 OR clicks > 0))
        WHERE id = $id
        """,
        {"id": customer_id},
    )


# The same facts for many customers at once (an import or its undo): the
# customers listed in the temporary table ``rescore_ids`` (crm.scores) of the
# writing cursor's connection. Set-based: one pass over their order lines.
_LISTED = (
    "DELETE FROM customer_products WHERE customer_id IN (SELECT id FROM rescore_ids)",
    "DELETE FROM customer_categories WHERE customer_id IN (SELECT id FROM rescore_ids)",
    """
    INSERT INTO customer_products
    SELECT i.customer_id, i.product_id, max(o.ordered_at)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE i.customer_id IN (SELECT id FROM rescore_ids)
    GROUP BY i.customer_id, i.product_id
    """,
    """
    INSERT INTO customer_categories
    SELECT cp.customer_id, p.category, max(cp.last_bought_at)
    FROM customer_products cp JOIN products p ON p.id = cp.product_id
    WHERE cp.customer_id IN (SELECT id FROM rescore_ids)
    GROUP BY cp.customer_id, p.category
    """,
)


def refresh_listed(cur: Con) -> None:
    """The purchase facts of every customer in ``rescore_ids``, from their order lines as
    they are now, in the caller's transaction."""
    assign_category_bits(cur)
    for sql in _LISTED:
        cur.execute(sql)
    cur.execute(_MASKS_OF_LISTED)
    for sql in _MONTHS_OF_LISTED:
        cur.execute(sql)
