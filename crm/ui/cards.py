"""Customer cards, the segment summary above them and the empty state.

Safety: the only HTML written here is built by ``_card_body`` and
``avatar_html``, and every value in it goes through ``html.escape``; the
name link is a Markdown label, so the name goes through
``formatting.escape_markdown``. A name like ``<b>x</b><img src=x onerror=...>``
is shown as those characters.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import streamlit as st

from crm import avatars, formatting
from crm.models import Customer, SegmentTotals

CUSTOMER_PAGE = "pages/Customer.py"
COLUMNS = 3  # cards a row on a wide screen, as .st-key-customer_grid in crm.ui.theme
AVATAR_SIZE = 44  # px, as .ch-avatar in crm.ui.theme
# Stored pictures are re-encoded on upload; anything else falls back to initials.
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


def _present(value: Any) -> Any:
    """``None`` for SQL NULL however pandas spelled it (None, NaN, NaT)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if value != value:  # NaT and other NaN-likes are unequal to themselves
            return None
    except (TypeError, ValueError):
        return value
    return value


def _text(value: Any) -> str:
    value = _present(value)
    return "" if value is None else str(value)


def avatar_html(customer_id: int, first_name: str, last_name: str, image: Any, mime: Any) -> str:
    """A round avatar: the uploaded picture, or initials on the customer's own colour."""
    picture = _present(image)
    kind = _text(mime)
    if picture is not None and kind in _IMAGE_TYPES:
        uri = html.escape(avatars.data_uri(bytes(picture), kind), quote=True)
        return f'<div class="ch-avatar"><img src="{uri}" alt=""></div>'
    letters = html.escape(avatars.initials(first_name, last_name))
    background = avatars.colour(customer_id)
    return (
        f'<div class="ch-avatar" style="background:{background}" aria-hidden="true">{letters}</div>'
    )


def _line(icon: str, text: str, title: str | None = None) -> str:
    shown = html.escape(text) if text else '<span class="ch-muted">—</span>'
    tooltip = f' title="{html.escape(title, quote=True)}"' if title else ""
    return (
        f'<div class="ch-line"{tooltip}><span class="ch-icon" aria-hidden="true">{icon}</span>'
        f"{shown}</div>"
    )


def _stat(label: str, value: str, note: str = "", title: str = "") -> str:
    tooltip = f' title="{html.escape(title, quote=True)}"' if title else ""
    note_html = f'<span class="ch-stat-note">{html.escape(note)}</span>' if note else ""
    return (
        f'<div{tooltip}><span class="ch-stat-label">{html.escape(label)}</span>'
        f'<span class="ch-stat-value">{html.escape(value)}</span>{note_html}</div>'
    )


def _as_datetime(value: Any) -> datetime | None:
    value = _present(value)
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        converted: datetime = value.to_pydatetime()
        return converted
    return value if isinstance(value, datetime) else None


def _card_body(row: Mapping[str, Any], today: date) -> str:
    email = _text(row.get("email"))
    phone = _text(row.get("phone"))
    where = formatting.place(
        _text(row.get("city")), _text(row.get("state")), _text(row.get("country"))
    )
    spent = _present(row.get("total_spending"))
    visits = int(_present(row.get("visit_count")) or 0)
    last_visit = _as_datetime(row.get("last_visit"))
    return (
        '<div class="ch-card-body">'
        + _line("mail", email, title=email)
        + _line("call", phone)
        + _line("location_on", where, title=where)
        + '<div class="ch-stats">'
        + _stat("Spent", formatting.money(Decimal(str(spent)) if spent is not None else 0))
        + _stat("Visits", formatting.number(visits))
        + _stat(
            "Last visit",
            formatting.short_date(last_visit),
            formatting.days_ago(last_visit, today) if last_visit else "no visits yet",
            title=last_visit.strftime("%Y-%m-%d %H:%M") if last_visit else "",
        )
        + "</div></div>"
    )


def card_row(customer: Customer) -> dict[str, Any]:
    """A customer record in the shape of a ``queries.customer_page`` row."""
    return {
        "id": customer.id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "city": customer.city,
        "state": customer.state,
        "country": customer.country,
        "total_spending": customer.total_spending,
        "visit_count": customer.visit_count,
        "order_count": customer.order_count,
        "last_visit": customer.last_visit,
        "avatar": customer.avatar,
        "avatar_type": customer.avatar_type,
    }


CardAction = Callable[[int], None]


def card(
    row: Mapping[str, Any],
    *,
    today: date,
    on_edit: CardAction,
    on_delete: CardAction,
    key_prefix: str = "",
) -> None:
    """One customer's card: avatar, name (a link to their page), contacts, figures, actions."""
    customer_id = int(row["id"])
    first, last = _text(row.get("first_name")), _text(row.get("last_name"))
    name = formatting.full_name(first, last) or "(no name)"
    key = f"{key_prefix}{customer_id}"
    avatar = avatar_html(customer_id, first, last, row.get("avatar"), row.get("avatar_type"))
    # As few Streamlit elements as the card's behaviour allows: each one is a
    # message to the browser and a React node to draw on every search, and a
    # page of cards is most of the page. The static part (avatar, contacts,
    # figures) is one escaped HTML block; CSS in crm.ui.theme lays the card out
    # (the avatar beside the name, the buttons on their own line, right).
    with st.container(border=True, key=f"card_{key}", gap="small", horizontal=True):
        with st.container(key=f"cardhead_{key}", gap=None):
            st.page_link(
                CUSTOMER_PAGE,
                label=formatting.escape_markdown(name),
                query_params={"id": str(customer_id)},
            )
        st.html(f'<div class="ch-card-avatar">{avatar}</div>' + _card_body(row, today))
        st.button(
            "Edit",
            key=f"edit_{key}",
            icon=":material/edit:",
            on_click=on_edit,
            args=(customer_id,),
        )
        st.button(
            "Delete",
            key=f"delete_{key}",
            icon=":material/delete:",
            on_click=on_delete,
            args=(customer_id,),
        )


def grid(
    rows: Iterable[Mapping[str, Any]],
    *,
    on_edit: CardAction,
    on_delete: CardAction,
    key_prefix: str = "",
) -> None:
    """The cards in one container that CSS (crm.ui.theme) lays out as a grid.

    ``COLUMNS`` a row on a wide screen, one on a phone, in reading order.
    One container instead of ``st.columns`` per row saves four elements per
    row of cards, each one more message and React node on every search.
    """
    today = date.today()
    with st.container(key=f"{key_prefix}customer_grid", gap="small"):
        for row in rows:
            card(row, today=today, on_edit=on_edit, on_delete=on_delete, key_prefix=key_prefix)


def summary_text(totals: SegmentTotals, all_customers: int) -> str:
    """The line "1,204 of 1,000,000 customers · $1,234.50 spent · 4,560 visits" (Markdown-safe)."""
    count = formatting.number(totals.customers)
    total = formatting.number(max(all_customers, totals.customers))
    noun = "customer" if max(all_customers, totals.customers) == 1 else "customers"
    spent = formatting.money(totals.spending).replace("$", "\\$")
    visits = formatting.plural(totals.visits, "visit")
    return f"**{count}** of {total} {noun} · **{spent}** spent · **{visits}**"


def summary(totals: SegmentTotals, all_customers: int, first: int, last: int) -> None:
    """The live count and totals of the segment, and which of them the page shows."""
    with st.container(
        horizontal=True,
        vertical_alignment="center",
        horizontal_alignment="distribute",
        key="segment_summary",
    ):
        st.markdown(summary_text(totals, all_customers))
        if totals.customers:
            st.caption(
                f"Showing {formatting.number(first)}–{formatting.number(last)}",
                width="content",
            )


def empty_state(
    *, filtered: bool, on_clear: Callable[[], None], on_add: Callable[[], None]
) -> None:
    """What an empty result says, and the way out of it."""
    with st.container(border=True, key="empty_state", horizontal_alignment="center"):
        st.html('<div class="ch-empty-icon" aria-hidden="true">person_search</div>')
        if filtered:
            st.markdown("**No customers match these filters**")
            st.caption(
                "Try a shorter search, a wider spending or visit range, or clear the filters."
            )
            st.button(
                "Clear filters",
                key="empty_clear_filters",
                icon=":material/filter_alt_off:",
                on_click=on_clear,
            )
        else:
            st.markdown("**No customers yet**")
            st.caption("Add your first customer to start building segments.")
            st.button(
                "Add customer",
                key="empty_add_customer",
                icon=":material/person_add:",
                type="primary",
                on_click=on_add,
            )
