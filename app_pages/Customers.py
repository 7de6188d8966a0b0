"""Customers: find, segment and fix customer records.

Thin: the filter bar (``crm.ui.filters``) says which segment and page to
show, one cached read (``crm.ui.data``) gives that page's cards and the
segment's totals, and ``crm.ui.cards`` draws them. A run reads the cards
and totals at most once (twice when the page asked for is past the
segment's end, not at all when the same segment was read since the last
write), each customer added in this session and still pinned on top by id,
and the slider bounds and the number of all customers from a cache at most
a minute old (``crm.ui.figures``).
"""

from __future__ import annotations

import streamlit as st

from crm import queries, segments
from crm.ui import (
    bulk_add,
    cards,
    dialogs,
    export,
    figures,
    filters,
    importing,
    insights,
    read_only,
    saved,
    theme,
)
from crm.ui.data import cached_customer_page, connection, show_flashes, start_run

start_run()  # this run reads the database's change count afresh
theme.page_setup("Customers")
show_flashes()

with theme.friendly_errors("the customer list"):
    # A click on a card in the last run: open that customer, or a dialog.
    cards.take_pending(on_edit=dialogs.open_edit_dialog, on_delete=dialogs.open_delete_dialog)
    con = connection()
    static = figures.static_figures()

    with st.container(horizontal=True, vertical_alignment="center", key="page_header"):
        st.title("Customers", anchor=False, width="stretch")
        importing.import_link()
        bulk_add.header_button()
        export_slot = st.empty()  # "Export", once the segment is known
        st.button(
            "Add customer",
            key="add_customer",
            icon=":material/person_add:",
            type="primary",
            on_click=dialogs.open_add_dialog,
            disabled=read_only.on(),
            help=read_only.why(),
        )

    insights.take_pending()  # a bar clicked in Insights: narrow the segment to it
    saved.open_from_link()  # ?segment=12: that saved segment's filters, applied afresh
    asked = filters.segment_bar(static)
    result = cached_customer_page(asked)
    segment = filters.settle(asked, result.totals.customers)
    if segment.page != asked.page:
        # A page past the segment's end (a link, or fewer matches now): show the last.
        result = cached_customer_page(segment)
    totals = result.totals
    saved.render(segment)
    export.export_button(export_slot, segment)

    if filters.changed():
        # Customers just added stay pinned on top until the user moves on.
        dialogs.forget_recently_added()
    pinned = [c for c in (queries.get_customer(con, i) for i in dialogs.recently_added()) if c]
    if pinned:
        st.subheader("Just added", anchor=False)
        cards.grid(pinned, key="new_customer_grid")
        st.divider()

    first = (segment.page - 1) * segment.page_size + 1
    last = min(segment.page * segment.page_size, totals.customers)
    # Unfiltered, the totals are the exact count; filtered, the cached count
    # of everyone (at most a minute old) is the "of N".
    everyone = static.customers if segments.is_filtered(segment) else totals.customers
    cards.summary(totals, max(everyone, totals.customers), first, last)
    insights_panel = insights.render(segment)  # filled after the cards

    if totals.customers == 0:
        cards.empty_state(
            filtered=segments.is_filtered(segment),
            search=segment.search,
            on_clear=filters.clear_filters,
            on_add=dialogs.open_add_dialog,
        )
    else:
        cards.grid(result.rows, page=segment.page)
        filters.pager(segment, totals.customers)
    insights.fill(insights_panel)

dialogs.render_dialogs()
