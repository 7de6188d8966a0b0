"""What each campaign send led to, stored with the send (migration 011), kept current.

Per send: ``window_start`` (where its 14-day window starts: the send's
``sent_at`` once delivered or failed; for a control member, the campaign's
first delivery), ``window_orders`` and ``window_revenue`` (the orders in
``(window_start, window_start + 14 days]`` and their amount). The Campaigns
page sums these instead of joining ~4M sends with ~10M orders on every view
(772 ms against 59 ms at 1,000,000 customers, see migration 011).

Kept current in the transaction of the write that changes them:

- an order added, edited or deleted: ``refresh_customer`` (from
  ``crm.writes._refresh_figures``), by the index on the customer's sends;
- a send delivered or failed: ``refresh_campaign`` (the sender calls it in
  the transaction that records the outcome), which also counts the control
  group once the campaign's first delivery fixes its window;
- everything at once: ``fill_all`` (the seeder, through ``crm.facts.fill_all``).

A send whose stored ``window_start`` is not its current start (nobody has
refreshed it yet, or the earliest delivery was deleted with its customer) is
"stale": ``crm.campaigns.results`` counts those from the orders itself
(``STALE_COUNTS_SQL``), so the figures shown are right either way; a
refresh only makes them cheap again.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

Con = duckdb.DuckDBPyConnection

WINDOW_DAYS = 14

# Where each send's window starts now, for the sends of the campaigns picked
# by the caller's {where} (an allow-listed constant: "TRUE" or
# "s.campaign_id = $campaign"). NULL: not counted (queued, sending, or a
# control member of a campaign nothing was delivered of yet).
STARTS_SQL = """
    firsts AS (
        SELECT s.campaign_id, min(s.sent_at) AS first_delivery
        FROM campaign_sends s
        WHERE s.status = 'Delivered' AND {where}
        GROUP BY s.campaign_id
    ),
    starts AS (
        SELECT s.*,
               CASE WHEN s.status IN ('Delivered', 'Failed') THEN s.sent_at
                    WHEN s.status = 'Control' THEN f.first_delivery END AS start
        FROM campaign_sends s
        LEFT JOIN firsts f ON f.campaign_id = s.campaign_id
        WHERE {where}
    )
"""

# The stale sends (see the module's docstring) counted from the orders. Only
# orders between the earliest start and the latest end are joined: stale
# sends are normally the latest deliveries, so this reads a few days of orders
# rather than all of them.
STALE_COUNTED_SQL = (
    "WITH"  # noqa: S608 - constant fragments, no values
    + STARTS_SQL
    + """,
    stale AS (
        SELECT id, campaign_id, customer_id, status, clicks, start
        FROM starts
        WHERE start IS NOT NULL AND window_start IS DISTINCT FROM start
    ),
    bounds AS (
        SELECT min(start) AS low, max(start) + INTERVAL 14 DAY AS high FROM stale
    ),
    recent AS (
        SELECT o.customer_id, o.ordered_at, o.amount
        FROM orders o, bounds b
        WHERE o.ordered_at > b.low AND o.ordered_at <= b.high
          AND o.customer_id IN (SELECT customer_id FROM stale)
    ),
    counted AS (
        SELECT st.id, st.campaign_id, st.status, st.clicks, st.start,
               count(r.customer_id) AS window_orders,
               coalesce(sum(r.amount), 0) AS window_revenue
        FROM stale st
        LEFT JOIN recent r
          ON r.customer_id = st.customer_id
         AND r.ordered_at > st.start
         AND r.ordered_at <= st.start + INTERVAL 14 DAY
        GROUP BY st.id, st.campaign_id, st.status, st.clicks, st.start
    )
"""
)

_REFRESH_CAMPAIGN_SQL = (
    """
    UPDATE campaign_sends
    SET window_start = c.start, window_orders = c.window_orders,
        window_revenue = c.window_revenue
    FROM (
    """  # noqa: S608 - constant fragments, no values
    + STALE_COUNTED_SQL.format(where="s.campaign_id = $campaign")
    + """
        SELECT id, start, window_orders, window_revenue FROM counted
    ) AS c
    WHERE campaign_sends.id = c.id
    """
)

# One customer's sends, by the index on campaign_sends.customer_id and on
# orders.customer_id. A control member keeps the start stored when its
# campaign was first delivered (working it out again would scan the
# campaign's sends on every order write); if that start moved since, the
# send stays stale and is counted from the orders when read.
_REFRESH_CUSTOMERS_SQL = """
    UPDATE campaign_sends
    SET window_start = c.start, window_orders = c.window_orders,
        window_revenue = c.window_revenue
    FROM (
        SELECT st.id, st.start, count(o.id) AS window_orders,
               coalesce(sum(o.amount), 0) AS window_revenue
        FROM (
            SELECT id, customer_id,
                   CASE WHEN status IN ('Delivered', 'Failed') THEN sent_at
                        WHEN status = 'Control' THEN window_start END AS start
            FROM campaign_sends
            WHERE customer_id {customers}
        ) AS st
        LEFT JOIN (
            SELECT id, customer_id, ordered_at, amount FROM orders WHERE customer_id {customers}
        ) AS o
          ON o.customer_id = st.customer_id
         AND o.ordered_at > st.start AND o.ordered_at <= st.start + INTERVAL 14 DAY
        WHERE st.start IS NOT NULL
        GROUP BY st.id, st.start
    ) AS c
    WHERE campaign_sends.id = c.id
"""
_REFRESH_CUSTOMER_SQL = _REFRESH_CUSTOMERS_SQL.format(customers="= $id")
# The same for many customers at once (an import of orders, its undo): those in
# the temporary table ``rescore_ids`` (crm.scores) of the writing cursor's connection.
_REFRESH_LISTED_SQL = _REFRESH_CUSTOMERS_SQL.format(customers="IN (SELECT id FROM rescore_ids)")

# Everyone, as migration 011 fills them.
_FILL_ALL = (
    "UPDATE campaign_sends SET window_start = NULL, window_orders = NULL, window_revenue = NULL",
    """
    UPDATE campaign_sends
    SET window_start = w.window_start, window_orders = w.window_orders,
        window_revenue = w.window_revenue
    FROM (
        WITH"""  # noqa: S608 - constant fragments, no values
    + STARTS_SQL.format(where="TRUE")
    + """
        SELECT st.id, st.start AS window_start, count(o.id) AS window_orders,
               coalesce(sum(o.amount), 0) AS window_revenue
        FROM starts st
        LEFT JOIN orders o
          ON o.customer_id = st.customer_id
         AND o.ordered_at > st.start
         AND o.ordered_at <= st.start + INTERVAL 14 DAY
        WHERE st.start IS NOT NULL
        GROUP BY st.id, st.start
    ) AS w
    WHERE campaign_sends.id = w.id
    """,
)

# Demo data only (the app records no opens or clicks): a first open within
# 36 hours of delivery, most in the first few (u³), and a first click within
# 6 hours of it, never after ``until``. ``u`` is a deterministic function of
# the send's id (Knuth's multiplicative hash), so the same seed gives the same file.
_ENGAGEMENT_TIMES_SQL = """
    UPDATE campaign_sends
    SET opened_at = least(
            sent_at + to_microseconds(CAST(pow(((id * 2654435761) % 1000003) / 1000003.0, 3)
                                           * 36 * 3600 * 1000000 AS BIGINT)),
            $until),
        clicked_at = CASE WHEN clicks > 0 THEN least(
            sent_at + to_microseconds(CAST(pow(((id * 2654435761) % 1000003) / 1000003.0, 3)
                                           * 36 * 3600 * 1000000 AS BIGINT))
                    + to_microseconds(CAST(pow(((id * 40503) % 65537) / 65537.0, 2)
                                           * 6 * 3600 * 1000000 AS BIGINT)),
            $until) END
    WHERE status = 'Delivered' AND opens > 0 AND sent_at IS NOT NULL
"""


def refresh_customer(cur: Con, customer_id: int) -> None:
    """Recount the windows of one customer's sends from their orders as they are now,
    in the caller's transaction: call after their orders changed."""
    cur.execute(_REFRESH_CUSTOMER_SQL, {"id": customer_id})


def refresh_campaign(cur: Con, campaign_id: int) -> None:
    """Count the windows of the campaign's sends that are not counted for their current
    start (just delivered or failed; the control group at the first delivery), in the
    caller's transaction: the sender calls it with each batch of outcomes it records."""
    cur.execute(_REFRESH_CAMPAIGN_SQL, {"campaign": campaign_id})


def fill_all(cur: Con) -> None:
    """Every send's window facts from all orders (in the caller's transaction)."""
    for sql in _FILL_ALL:
        cur.execute(sql)


def seed_engagement_times(cur: Con, until: datetime) -> None:
    """Give the demo's opened and clicked sends first-open and first-click times."""
    cur.execute(_ENGAGEMENT_TIMES_SQL, {"until": until})


def refresh_listed(cur: Con) -> None:
    """``refresh_customer`` for every customer in ``rescore_ids``, set-based, in the
    caller's transaction: after a bulk write changed their orders."""
    cur.execute(_REFRESH_LISTED_SQL)
