"""Purchase history, campaign history and the charts drawn from them.

Grid choice: ``st.dataframe``, not AgGrid. It follows the light and dark
theme by itself, sorts on a header click, formats money and dates through
``column_config``, shows each order's items as a list of chips, and selects
a row to show that order's lines. It needs no iframe or extra JavaScript
bundle (the page has a 1.5 s budget), and AppTest can read it.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import pandas as pd
import streamlit as st

from crm import charts, queries
from crm.detail import CustomerDetail
from crm.models import Customer

Con = duckdb.DuckDBPyConnection


def orders_view(orders: pd.DataFrame) -> pd.DataFrame:
    """The orders as the grid wants them: plain lists and float amounts."""
    return orders.assign(items=orders["items"].map(list), amount=orders["amount"].astype(float))


# Narrow fixed columns leave the rest of the width to the items, the widest content.
ORDER_COLUMNS = {
    "order_id": st.column_config.NumberColumn("Order", format="#%d", width=80),
    "ordered_at": st.column_config.DatetimeColumn("Date", format="MMM D, YYYY", width=110),
    "amount": st.column_config.NumberColumn("Amount", format="dollar", width=90),
    "item_count": st.column_config.NumberColumn("Units", width=60),
    "items": st.column_config.ListColumn("Items bought", width=1200),
}

LINE_COLUMNS = {
    "product": st.column_config.TextColumn("Product", width="medium"),
    "category": st.column_config.TextColumn("Category", width="small"),
    "quantity": st.column_config.NumberColumn("Qty", width="small"),
    "unit_price": st.column_config.NumberColumn("Unit price", format="dollar", width="small"),
    "line_total": st.column_config.NumberColumn("Line total", format="dollar", width="small"),
}


def _table_height(rows: int, most: int = 10) -> int | Literal["auto"]:
    # A long history scrolls inside the grid instead of pushing the page down.
    return "auto" if rows <= most else 38 + 35 * most


def render_orders(con: Con, customer: Customer, detail: CustomerDetail) -> None:
    st.subheader("Purchase history", anchor=False)
    orders = detail.orders
    if orders.empty:
        st.info("No orders yet. Orders appear here, newest first, once they are placed.")
        return
    view = orders_view(orders)
    st.caption(
        f"{len(view):,} orders, newest first. Click a header to sort; "
        "select a row to see its lines."
    )
    event = st.dataframe(
        view,
        hide_index=True,
        column_config=ORDER_COLUMNS,
        column_order=list(ORDER_COLUMNS),
        height=_table_height(len(view)),
        on_select="rerun",
        selection_mode="single-row",
        key=f"orders_{customer.id}",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        order = view.iloc[selected[0]]
        # Fetched only for the selected order: most visits never select one.
        order_lines = queries.order_lines(con, customer.id, int(order["order_id"]))
        st.markdown(f"**Order #{int(order['order_id'])}** · {len(order_lines)} lines")
        st.dataframe(
            order_lines.assign(
                unit_price=order_lines["unit_price"].astype(float),
                line_total=order_lines["line_total"].astype(float),
            ),
            hide_index=True,
            column_config=LINE_COLUMNS,
            column_order=list(LINE_COLUMNS),
            key=f"order_lines_{customer.id}",
        )


def render_spending_charts(detail: CustomerDetail) -> None:
    monthly = detail.monthly_spending
    if monthly.empty:
        st.subheader("Spending", anchor=False)
        st.info("No orders yet, so there is no spending to chart.")
        return
    st.altair_chart(charts.spending_over_time(monthly), width="stretch")
    left, right = st.columns(2, gap="medium")
    with left:
        st.altair_chart(charts.top_items_chart(detail.top_items), width="stretch")
    with right:
        st.altair_chart(charts.top_categories_chart(detail.top_categories), width="stretch")


def render_engagement(detail: CustomerDetail) -> None:
    """Campaign rates for this customer, with the counts behind them."""
    rates = detail.campaign_rates
    with st.container(border=True, key="customer_engagement"):
        if rates.delivered + rates.failed == 0:
            st.markdown("**Campaign engagement**")
            queued = f" {rates.queued:,} queued." if rates.queued else ""
            st.caption(f"No campaign has been sent to this customer yet.{queued}")
            return
        st.altair_chart(charts.campaign_rates_chart(rates), width="stretch")
        st.caption(
            f"{rates.delivered:,} delivered and {rates.failed:,} failed of "
            f"{rates.delivered + rates.failed:,} sends; {rates.queued:,} queued. "
            "Open and click rates count delivered sends."
        )


def history_view(history: pd.DataFrame) -> pd.DataFrame:
    """Campaign sends and messages for display: messages have no opens or clicks."""
    view = history.copy()
    is_message = view["kind"] == "Message"
    view["opens"] = view["opens"].astype("Float64").mask(is_message)
    view["clicks"] = view["clicks"].astype("Float64").mask(is_message)
    view["body"] = view["body"].fillna("")
    return view


HISTORY_COLUMNS = {
    "kind": st.column_config.TextColumn("Type", width="small"),
    "campaign": st.column_config.TextColumn("Campaign or subject", width="medium"),
    "channel": st.column_config.TextColumn("Channel", width="small"),
    "sent_at": st.column_config.DatetimeColumn("Sent", format="MMM D, YYYY"),
    "status": st.column_config.TextColumn("Status", width="small"),
    "opens": st.column_config.NumberColumn("Opens", width="small"),
    "clicks": st.column_config.NumberColumn("Clicks", width="small"),
    "body": st.column_config.TextColumn("Message", width="large"),
}


def render_campaign_history(customer: Customer, detail: CustomerDetail) -> None:
    st.subheader("Campaigns and messages", anchor=False)
    history = detail.campaign_history
    if history.empty:
        st.info("No campaigns or messages yet. Send a message or add them to a campaign above.")
        return
    st.caption("Newest first; queued sends are waiting to go out and have no date yet.")
    st.dataframe(
        history_view(history),
        hide_index=True,
        column_config=HISTORY_COLUMNS,
        column_order=list(HISTORY_COLUMNS),
        height=_table_height(len(history)),
        key=f"campaigns_{customer.id}",
    )
