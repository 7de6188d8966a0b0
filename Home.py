"""Customers: find, segment and fix customer records.

Each run costs one totals query and one page query; the slider bounds and
the number of all customers come from a short cache (crm.ui.figures).
"""

from __future__ import annotations

import streamlit as st

from crm import queries, segments
from crm.ui import cards, dialogs, figures, filters, theme
from crm.ui.data import connection, show_flashes

theme.page_setup("Customers")
show_flashes()

with theme.friendly_errors("the customer list"):
    con = connection()
    static = figures.static_figures()

    with st.container(horizontal=True, vertical_alignment="center", key="page_header"):
        st.title("Customers", anchor=False, width="stretch")
        st.button(
            "Add customer",
            key="add_customer",
            icon=":material/person_add:",
            type="primary",
            on_click=dialogs.open_add_dialog,
        )

    segment = filters.segment_bar(static)
    totals = queries.segment_totals(con, segment)
    segment = filters.settle(segment, totals.customers)

    if filters.changed():
        # Customers just added stay pinned on top until the user moves on.
        dialogs.forget_recently_added()
    pinned = [c for c in (queries.get_customer(con, i) for i in dialogs.recently_added()) if c]
    if pinned:
        st.subheader("Just added", anchor=False)
        cards.grid(
            [cards.card_row(c) for c in pinned],
            on_edit=dialogs.open_edit_dialog,
            on_delete=dialogs.open_delete_dialog,
            key_prefix="new_",
        )
        st.divider()

    first = (segment.page - 1) * segment.page_size + 1
    last = min(segment.page * segment.page_size, totals.customers)
    # Unfiltered, the totals are the exact count; filtered, the cached count
    # of everyone (at most a minute old) is the "of N".
    everyone = static.customers if segments.is_filtered(segment) else totals.customers
    cards.summary(totals, max(everyone, totals.customers), first, last)

    if totals.customers == 0:
        cards.empty_state(
            filtered=segments.is_filtered(segment),
            on_clear=filters.clear_filters,
            on_add=dialogs.open_add_dialog,
        )
    else:
        page = queries.find_customers(con, segment)
        cards.grid(
            page.to_dict("records"),
            on_edit=dialogs.open_edit_dialog,
            on_delete=dialogs.open_delete_dialog,
        )
        filters.pager(segment, totals.customers)

dialogs.render_dialogs()
