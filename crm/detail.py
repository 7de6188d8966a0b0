"""Everything the customer page shows below the profile, read in one call.

Four plain reads, each an index lookup: the customer, their orders, their
order lines and their campaign history. The orders and lines give both the
purchase history and the favourites (``crm.purchases``), so the lines are
read once. At a million customers each statement costs a millisecond or more
of DuckDB planning and hand-over to Python, far more than reading one
customer's rows, so the reads run side by side, each on its own cursor
(DuckDB's threading guide).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pandas as pd

from crm import purchases, queries
from crm.models import CampaignRates, Customer

# Shared by all sessions, so eight people opening pages at once still put at
# most this many queries on the machine's cores at a time.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="crm-detail")


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    orders: pd.DataFrame
    monthly_spending: pd.DataFrame
    top_items: pd.DataFrame
    top_categories: pd.DataFrame
    campaign_history: pd.DataFrame
    campaign_rates: CampaignRates


def customer_detail(con: duckdb.DuckDBPyConnection, customer_id: int) -> CustomerDetail | None:
    """The customer with their orders, charts' data and campaign history, read
    concurrently; None when there is no such customer."""
    # Three reads go to the pool, the shortest runs here meanwhile. An
    # unknown id wastes the pool's reads (they find nothing), so a known one
    # never waits for an extra round trip.
    orders = _POOL.submit(queries.order_rows, con, customer_id)
    lines = _POOL.submit(queries.line_rows, con, customer_id)
    campaigns = _POOL.submit(queries.campaign_history, con, customer_id)
    customer = queries.get_customer(con, customer_id)
    # Wait even for an unknown id: no read may still be using the connection
    # after this returns (a caller may close it).
    their_orders, their_lines, history = orders.result(), lines.result(), campaigns.result()
    if customer is None:
        return None
    bought = purchases.purchase_history(their_orders, their_lines)
    liked = purchases.favourites(their_lines)
    return CustomerDetail(
        customer=customer,
        orders=bought.orders,
        monthly_spending=bought.monthly,
        top_items=liked.items,
        top_categories=liked.categories,
        campaign_history=history,
        campaign_rates=queries.rates_from_history(history),
    )
