"""Purchase history, campaign history and the charts drawn from them.

Grid choice: ``st.dataframe``, not AgGrid. It follows the light and dark
theme by itself, sorts on a header click, formats money and dates through
``column_config``, shows each order's items as a list of chips, and selects
a row to show that order's lines. It needs no iframe or extra JavaScript
bundle (the page has a 1.5 s budget), and AppTest can read it.

Downloads: the grids' own "Download as CSV" writes text as it is, so a
campaign named ``=HYPERLINK(...)`` would open as a live formula. It is
switched off (``client.disableDataExport``) and each table has a download
button instead, whose CSV comes from ``crm.exchange.export`` (formulas neutralised).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Literal

import duckdb
import pandas as pd
import streamlit as st

from crm import charts, formatting, queries
from crm.campaigns.results import STATUS_LABELS
from crm.detail import CustomerDetail
from crm.exchange import export
from crm.models import Customer

Con = duckdb.DuckDBPyConnection

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

# The four columns a reader needs come first, as narrow as their longest
# value ("Campaign", "Delivered", "Nov 20, 2025" in 14 px Source Sans plus
# the cell padding): on a 390 px phone the grid is 360 px wide and shows all
# four. Rows of two lines let a long name wrap instead of being cut; a wider
# screen shares its extra width among all the columns.
HISTORY_COLUMNS = {
    "kind": st.column_config.TextColumn("Type", width=78),
    "campaign": st.column_config.TextColumn(
        "Campaign", help="The campaign's name, or the message's subject", width=114
    ),
    "status": st.column_config.TextColumn("Status", width=74),
    "sent_at": st.column_config.DatetimeColumn("Sent", format="MMM D, YYYY", width=92),
    "channel": st.column_config.TextColumn("Channel", width=70),
    "opens": st.column_config.NumberColumn("Opens", width=60),
    "clicks": st.column_config.NumberColumn("Clicks", width=60),
    "body": st.column_config.TextColumn("Message", width=320),
    "failure_reason": st.column_config.TextColumn(
        "Why it failed", help="The mail server's reason, for a failed send", width=180
    ),
    "by": st.column_config.TextColumn(
        "By", help="Who sent the message or added the customer to the campaign", width=140
    ),
}

# Streamlit gives every chart and table a toolbar that is invisible until
# hovered, so the keyboard meets its buttons with no visible focus. A chart's
# (show data, download as PNG, copy the Vega-Lite spec, fullscreen: four tab
# stops) is not drawn: Vega's own action menu is already off (Streamlit embeds
# with ``actions: false``), the toolbar has no switch, and the tooltips and
# captions carry the numbers. A table's (columns, search, fullscreen) is
# useful, so it shows while the keyboard is in it.
_TOOLBAR_STYLES = """<style>
[data-testid="stElementContainer"]:has([data-testid="stVegaLiteChart"])
  [data-testid="stElementToolbar"] { display: none; }
/* Where hovering puts it: just above the table, over what is there. */
[data-testid="stElementToolbar"]:focus-within { opacity: 1; top: auto; bottom: 100%; z-index: 1; }
</style>"""


# The grid wraps text only in rows taller than 4 rem (60 px at the app's 15 px).
_WRAPPING_ROW = 62


def _table_height(rows: int, most: int = 10, row: int = 35) -> int | Literal["auto"]:
    # A long history scrolls inside the grid instead of pushing the page down.
    return "auto" if rows <= most else 38 + row * most


def _headers(columns: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """The grid's column labels, so a downloaded file reads like the table on screen."""
    return {name: str(config.get("label") or name) for name, config in columns.items()}


def _download(label: str, frame: pd.DataFrame, headers: dict[str, str], file_name: str) -> None:
    def build() -> bytes:
        return export.csv_bytes(frame, headers)

    # Built only when clicked (most visits download nothing); no rerun after it.
    st.download_button(
        label,
        data=build,
        file_name=file_name,
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        type="tertiary",
    )


def _order_label(orders: pd.DataFrame) -> Callable[[int], str]:
    rows = {
        int(order_id): f"#{order_id} · {formatting.short_date(ordered_at)} · "
        f"{formatting.money(amount)}"
        for order_id, ordered_at, amount in zip(
            orders["order_id"], orders["ordered_at"], orders["amount"], strict=True
        )
    }
    return rows.__getitem__


def _grid_picked(grid_key: str, pick_key: str, ids: list[int]) -> None:
    """A row selected in the grid: the picker shows the same order."""
    rows = st.session_state[grid_key]["selection"]["rows"]
    st.session_state[pick_key] = ids[rows[0]] if rows else None


def _order_picked(grid_key: str, pick_key: str, ids: list[int]) -> None:
    """An order chosen in the picker: the grid selects its row."""
    chosen = st.session_state[pick_key]
    rows = [ids.index(chosen)] if chosen in ids else []
    st.session_state[grid_key] = {"selection": {"rows": rows, "columns": []}}


def render_orders(con: Con, customer: Customer, detail: CustomerDetail) -> None:
    st.subheader("Purchase history", anchor=False)
    orders = detail.orders
    if orders.empty:
        st.info("No orders yet. Orders appear here, newest first, once they are placed.")
        return
    st.caption(
        f"{formatting.plural(len(orders), 'order')}, newest first. Click a header to sort; "
        "select a row, or choose an order below, to see its lines."
    )
    grid_key, pick_key = f"orders_{customer.id}", f"order_pick_{customer.id}"
    ids = [int(order_id) for order_id in orders["order_id"]]
    st.dataframe(
        orders,
        hide_index=True,
        column_config=ORDER_COLUMNS,
        column_order=list(ORDER_COLUMNS),
        height=_table_height(len(orders)),
        on_select=partial(_grid_picked, grid_key, pick_key, ids),
        selection_mode="single-row",
        key=grid_key,
    )
    # The grid selects a row with Shift+Space, which nobody guesses: a
    # picker that the keyboard and screen readers know how to use.
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    with left:
        chosen = st.selectbox(
            "Show the lines of order",
            ids,
            index=None,
            format_func=_order_label(orders),
            placeholder="Choose an order",
            key=pick_key,
            on_change=_order_picked,
            args=(grid_key, pick_key, ids),
        )
    with right:
        _download(
            "Download purchase history",
            orders,
            _headers(ORDER_COLUMNS),
            f"customer-{customer.id}-orders.csv",
        )
    if chosen is None:
        return
    # Fetched only for the chosen order: most visits never choose one.
    order_lines = queries.order_lines(con, customer.id, chosen)
    st.markdown(f"**Order #{chosen}** · {formatting.plural(len(order_lines), 'line')}")
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
    """Spending by month and the favourites; first on the page, so it also sets the
    toolbar styles for the engagement chart and the tables drawn after it."""
    st.html(_TOOLBAR_STYLES)
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
    """Campaign sends and messages for display.

    Messages have no opens or clicks, and nothing queued has been sent yet
    (a message carries the time it was written even while queued): those
    cells are missing, which the grid and the download show as empty.
    """
    view = history.copy()
    is_message = view["kind"] == "Message"
    view["opens"] = view["opens"].astype("Float64").mask(is_message)
    view["clicks"] = view["clicks"].astype("Float64").mask(is_message)
    view["sent_at"] = view["sent_at"].mask(view["status"] == "Queued")
    # A control member was held out on purpose; a send being delivered is under way.
    view["status"] = view["status"].replace(STATUS_LABELS)
    view["body"] = view["body"].fillna("")
    view["failure_reason"] = view["failure_reason"].fillna("")
    view["by"] = view["by"].fillna("")
    return view


def render_campaign_history(customer: Customer, detail: CustomerDetail) -> None:
    st.subheader("Campaigns and messages", anchor=False)
    history = detail.campaign_history
    if history.empty:
        st.info("No campaigns or messages yet. Send a message or add them to a campaign above.")
        return
    st.caption("Newest first; queued sends are waiting to go out and have no date yet.")
    view = history_view(history)
    st.dataframe(
        view,
        hide_index=True,
        column_config=HISTORY_COLUMNS,
        column_order=list(HISTORY_COLUMNS),
        height=_table_height(len(history), row=_WRAPPING_ROW),
        placeholder=formatting.MISSING,
        row_height=_WRAPPING_ROW,
        key=f"campaigns_{customer.id}",
    )
    _download(
        "Download campaigns and messages",
        view,
        _headers(HISTORY_COLUMNS),
        f"customer-{customer.id}-campaigns.csv",
    )
