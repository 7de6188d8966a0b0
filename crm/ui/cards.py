"""Customer cards, the segment summary above them and the empty state.

A page of cards is one element: a small component (``card_grid.js`` and
``card_grid.css`` beside this file) draws every card from the texts
``crm.card_view`` prepared. Built from Streamlit elements instead (a
container, a page link, HTML and two buttons a card), a search cost the
browser 300-500 ms of script to redraw 24 cards; this costs a few.

Safety: the component puts every text on the page with ``textContent``, so a
name like ``<b>x</b><img src=x onerror=...>`` is shown as those characters.

A click on a card (the name, Edit or Delete) is sent to Python as a trigger
value; its callback queues the request in session state (``PENDING``) and
``take_pending`` carries it out at the top of the next run, before anything
is drawn. Tests drive the same path by setting ``PENDING`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from pathlib import Path

import streamlit as st

from crm import card_view, formatting, segments
from crm.models import CardRow, Customer, SegmentTotals
from crm.ui import first_run, navigation, read_only
from crm.ui.navigation import CUSTOMER_PAGE

PENDING = "_card_pending"  # ("open" | "edit" | "delete", customer id) from a click on a card
_HERE = Path(__file__).parent

_grid_component = st.components.v2.component(
    "customer_card_grid",
    css=(_HERE / "card_grid.css").read_text(encoding="utf-8"),
    js=(_HERE / "card_grid.js").read_text(encoding="utf-8"),
)


def _queue(key: str, event: str) -> None:
    """A card's click, as a request for the next run (a component callback)."""
    value = st.session_state[key].get(event)
    if value is not None:
        st.session_state[PENDING] = (event, int(value))


def grid(
    rows: Iterable[CardRow | Customer], *, key: str = "customer_grid", page: int | None = None
) -> None:
    """Draw the cards (3 a row on a desktop, 2 on a tablet, 1 on a phone).

    ``page``, for a list in pages: when it changes, the browser scrolls back
    to the top of the grid.
    """
    today = date.today()
    data: dict[str, object] = {"cards": [card_view.card_view(row, today) for row in rows]}
    if page is not None:
        data["page"] = page
    if read_only.on():
        data["read_only"] = True  # no Edit or Delete on the cards
    _grid_component(
        data=data,
        key=key,
        width="stretch",
        on_open_change=partial(_queue, key, "open"),
        on_edit_change=partial(_queue, key, "edit"),
        on_delete_change=partial(_queue, key, "delete"),
    )


CardAction = Callable[[int], None]


def take_pending(*, on_edit: CardAction, on_delete: CardAction) -> None:
    """Carry out a click on a card; call near the top of the page, before drawing.

    Opening a customer switches page at once, so the overview is not drawn
    for nothing first.
    """
    pending: tuple[str, int] | None = st.session_state.pop(PENDING, None)
    if pending is None:
        return
    event, customer_id = pending
    if event == "open":
        st.switch_page(CUSTOMER_PAGE, query_params={"id": str(customer_id)})
    elif event == "edit":
        on_edit(customer_id)
    elif event == "delete":
        on_delete(customer_id)


def share_text(part: int, whole: int) -> str:
    """``part`` as a share of ``whole``: "0.1 %", "under 0.1 %", "37.5 %", with a no-break
    space before "%" (never "37.5" at the end of one line and "%" on the next)."""
    share = 100 * part / whole if whole else 0.0
    if 0 < share < 0.05:
        return "under 0.1\u00a0%"
    return f"{share:,.1f}\u00a0%"


def summary_text(totals: SegmentTotals, all_customers: int) -> str:
    """The line "**1,204** of 1,000,000 customers · 0.1 % · **$310.94M** spent · **4,560 visits**".

    Sums are compact (exact in ``summary_help``); the share of all customers
    is shown when the segment has some but not all of them. Markdown: every
    figure is escaped.
    """
    md = formatting.escape_markdown
    everyone = max(all_customers, totals.customers)
    noun = "customer" if everyone == 1 else "customers"
    parts = [
        f"**{md(formatting.number(totals.customers))}** of {md(formatting.number(everyone))}"
        f" {noun}",
        *([md(share_text(totals.customers, everyone))] if 0 < totals.customers < everyone else []),
        f"**{md(formatting.compact_money(totals.spending))}** spent",
        f"**{md(formatting.plural(totals.visits, 'visit'))}**",
    ]
    return " · ".join(parts)


def summary_help(totals: SegmentTotals) -> str:
    """The tooltip of the summary: the exact sums."""
    return formatting.escape_markdown(
        f"Exactly {formatting.money(totals.spending)} spent and "
        f"{formatting.plural(totals.visits, 'visit')} by "
        f"{formatting.plural(totals.customers, 'customer')}."
    )


def summary(totals: SegmentTotals, all_customers: int, first: int, last: int) -> None:
    """The live count and totals of the segment, and which of them the page shows."""
    with st.container(
        horizontal=True,
        vertical_alignment="center",
        horizontal_alignment="distribute",
        key="segment_summary",
    ):
        st.markdown(summary_text(totals, all_customers), help=summary_help(totals))
        if totals.customers:
            st.caption(
                f"Showing {formatting.number(first)}–{formatting.number(last)}",
                width="content",
            )


def empty_state(
    *, filtered: bool, search: str, on_clear: Callable[[], None], on_add: Callable[[], None]
) -> None:
    """What an empty result says, and the way out of it (``search`` is quoted as typed)."""
    with st.container(border=True, key="empty_state", horizontal_alignment="center"):
        st.html('<div class="ch-empty-icon" aria-hidden="true">person_search</div>')
        if filtered:
            st.markdown("**No customers match these filters**")
            term = search.strip()
            looked_for = (
                f"No name or email in this segment contains “{formatting.escape_markdown(term)}”. "
                if term and len(term) <= segments.SEARCH_MAX
                else ""
            )
            st.caption(
                f"{looked_for}Try a shorter search, a wider spending or visit range, "
                "or clear the filters."
            )
            st.button(
                "Clear filters",
                key="empty_clear_filters",
                icon=":material/filter_alt_off:",
                on_click=on_clear,
            )
        else:
            st.markdown("**No customers yet**")
            first_run.render_invitation()
            st.button(
                "Add customer",
                key="empty_add_customer",
                icon=":material/person_add:",
                type="primary",
                on_click=on_add,
                disabled=read_only.on(),
                help=read_only.why(),
            )
            # Or bring them all in from a spreadsheet (the Import page, crm.ui.importing).
            st.page_link(
                navigation.IMPORT_PAGE, label="Import a file", icon=":material/upload_file:"
            )
