"""Everything the customer page shows below the profile, read in one call.

Four reads: the customer, their orders with monthly spending
(``queries.purchase_history``), their top items and categories
(``queries.favourites``) and their campaign history. At a million customers
each statement costs a few milliseconds of DuckDB planning and hand-over to
Python, far more than reading one customer's rows, so the page asks few of
them and runs them side by side, each on its own cursor (DuckDB's threading
guide).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pandas as pd

from crm import queries
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
    purchases = _POOL.submit(queries.purchase_history, con, customer_id)
    favourites = _POOL.submit(queries.favourites, con, customer_id)
    campaigns = _POOL.submit(queries.campaign_history, con, customer_id)
    customer = queries.get_customer(con, customer_id)
    # Wait even for an unknown id: no read may still be using the connection
    # after this returns (a caller may close it).
    bought, liked, history = purchases.result(), favourites.result(), campaigns.result()
    if customer is None:
        return None
    return CustomerDetail(
        customer=customer,
        orders=bought.orders,
        monthly_spending=bought.monthly,
        top_items=liked.items,
        top_categories=liked.categories,
        campaign_history=history,
        campaign_rates=queries.rates_from_history(history),
    )
