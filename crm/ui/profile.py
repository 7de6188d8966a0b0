"""The customer page's top: who the customer is, their figures and address.

User values reach HTML only through ``html.escape`` and Markdown only
through ``escape_markdown``; everything else uses elements that do not
interpret text.
"""

from __future__ import annotations

import html
from datetime import date

import streamlit as st

from crm import avatars, card_view, formatting
from crm.detail import CustomerDetail
from crm.errors import NotFound
from crm.models import Customer
from crm.ui import dialogs
from crm.ui.data import cached_customer_detail
from crm.ui.navigation import CUSTOMERS_PAGE

# DuckDB's BIGINT: a larger number cannot be an id and must not reach a query.
MAX_ID = 2**63 - 1


def parse_customer_id(raw: str | None) -> int:
    """The customer id in ``?id=``; NotFound with a sentence when it cannot be one."""
    text = (raw or "").strip()
    if not text:
        raise NotFound("No customer was chosen. Pick one from the overview.")
    if not text.isascii() or not text.isdigit():
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise NotFound(
            f"“{formatting.escape_markdown(shown)}” is not a customer number. "
            "Pick a customer from the overview."
        )
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"There is no customer number {number}.")
    return number


def find_customer(raw_id: str | None) -> CustomerDetail:
    """The customer ``?id=`` names, with all the page shows of them; NotFound
    with a sentence for a bad or unknown id."""
    customer_id = parse_customer_id(raw_id)
    detail = cached_customer_detail(customer_id)
    if detail is None:
        raise NotFound(
            f"There is no customer number {customer_id}. They may have been deleted, "
            "or the link is out of date."
        )
    return detail


def render_not_found(problem: NotFound) -> None:
    """A friendly dead end with a way back, instead of an empty or broken page.

    A dialog that was open when the customer was deleted (by someone else)
    is still drawn: its save then says what was not saved, instead of the
    click vanishing with the page.
    """
    st.title("Customer not found")
    st.info(str(problem), icon=":material/person_search:")
    st.page_link(CUSTOMERS_PAGE, label="Back to all customers", icon=":material/arrow_back:")
    try:
        asked: int | None = parse_customer_id(st.query_params.get("id"))
    except NotFound:
        asked = None
    dialogs.render_dialogs(asked)


# --- Header -------------------------------------------------------------------

_STYLE = """
<style>
.crm-head { display: flex; align-items: center; gap: 1.25rem; flex-wrap: wrap; }
.crm-avatar { flex: none; }
.crm-avatar .ch-avatar { width: 88px; height: 88px; font-size: 2rem; }
.crm-avatar.large .ch-avatar { width: 128px; height: 128px; font-size: 2.75rem; margin: 0 auto; }
.crm-who { min-width: 0; flex: 1 1 16rem; }
.crm-who h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .35rem; padding: 0;
  overflow-wrap: anywhere; }
.crm-contact { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; opacity: .8; }
.crm-icon { font-family: "Material Symbols Rounded"; font-size: 1.05rem;
  vertical-align: -3px; margin-right: .3rem; opacity: .7; }
.crm-contact a { color: inherit; text-decoration: none; overflow-wrap: anywhere; }
.crm-contact a:hover { text-decoration: underline; }
.crm-since { opacity: .65; font-size: .875rem; margin-top: .35rem; }
/* On a phone Streamlit's top bar covers the first line: keep the way back visible. */
@media (max-width: 640px) { .st-key-customer_back { padding-top: 2.25rem; } }
</style>
"""


def avatar_html(customer: Customer, large: bool = False) -> str:
    """The customer's round avatar: the uploaded picture, or initials on their own
    colour (the same as on their card); bigger in the picture dialog."""
    size = "crm-avatar large" if large else "crm-avatar"
    uri = card_view.picture_uri(customer.avatar, customer.avatar_type)
    if uri is not None:
        face = f'<div class="ch-avatar"><img src="{html.escape(uri, quote=True)}" alt=""></div>'
    else:
        letters = html.escape(avatars.initials(customer.first_name, customer.last_name))
        face = (
            f'<div class="ch-avatar" style="background:{avatars.colour(customer.id)}"'
            f' aria-hidden="true">{letters}</div>'
        )
    return f'<div class="{size}">{face}</div>'


def _icon(name: str) -> str:
    # A Material Symbols ligature (Streamlit ships the font); hidden from screen readers.
    return f'<span class="crm-icon" aria-hidden="true">{name}</span>'


def header_html(customer: Customer) -> str:
    """Avatar, name, email, phone and place as one block of escaped HTML."""
    email = html.escape(customer.email, quote=True)
    contact = [
        f'<a href="mailto:{email}" title="Email {email}">{_icon("mail")}{email}</a>',
    ]
    if customer.phone:
        phone = html.escape(customer.phone, quote=True)
        dial = html.escape("".join(ch for ch in customer.phone if ch.isdigit() or ch == "+"))
        contact.append(f'<a href="tel:{dial}" title="Call {phone}">{_icon("call")}{phone}</a>')
    where = formatting.place(customer.city, customer.state, customer.country)
    if where:
        contact.append(f"<span>{_icon('location_on')}{html.escape(where)}</span>")
    since = formatting.short_date(customer.created_at)
    return (
        f"{_STYLE}<div class='crm-head'>{avatar_html(customer)}"
        f"<div class='crm-who'><h1>{html.escape(customer.name)}</h1>"
        f"<div class='crm-contact'>{''.join(contact)}</div>"
        f"<div class='crm-since'>Customer since {since} · #{customer.id}{_who(customer)}</div>"
        f"</div></div>"
    )


def render_header(customer: Customer) -> None:
    """The way back to the overview, then who the customer is."""
    with st.container(key="customer_back"):
        st.page_link(CUSTOMERS_PAGE, label="All customers", icon=":material/arrow_back:")
    st.html(header_html(customer))


def render_metrics(customer: Customer, today: date | None = None) -> None:
    """The figures a marketer looks at first, in bordered tiles that wrap on a phone."""
    average = customer.total_spending / customer.order_count if customer.order_count else None
    with st.container(horizontal=True, gap="small", key="customer_metrics"):
        st.metric(
            "Total spending",
            formatting.money(customer.total_spending),
            border=True,
            height="stretch",
        )
        st.metric("Orders", formatting.number(customer.order_count), border=True, height="stretch")
        st.metric("Average order", formatting.money(average), border=True, height="stretch")
        st.metric("Visits", formatting.number(customer.visit_count), border=True, height="stretch")
        if customer.last_visit is None:
            st.metric("Last visit", "Never", border=True, height="stretch")
        else:
            st.metric(
                "Last visit",
                formatting.short_date(customer.last_visit),
                delta=formatting.days_ago(customer.last_visit, today),
                delta_color="off",
                delta_arrow="off",
                border=True,
                height="stretch",
            )


def render_address(customer: Customer) -> None:
    """The full postal address, one part per line, or a note that there is none."""
    with st.container(border=True, key="customer_address"):
        st.markdown("**Address**")
        locality = ", ".join(p for p in (customer.city.strip(), customer.state.strip()) if p)
        town = f"{locality} {customer.zip.strip()}".strip()
        lines = [line for line in (customer.street.strip(), town, customer.country.strip()) if line]
        if lines:
            # Escaped line by line: the Markdown shows exactly what was typed.
            st.markdown("  \n".join(formatting.escape_markdown(line) for line in lines))
        else:
            st.caption("No address on file.")


def who_text(customer: Customer) -> str:
    """Who added the customer and who changed them last, when sign-in recorded it:
    " · added by ana@shop.com · changed Nov 3 by bo@shop.com" (plain text)."""
    parts = []
    if customer.created_by:
        parts.append(f"added by {customer.created_by}")
    if customer.updated_by and (
        customer.updated_by != customer.created_by or customer.updated_at != customer.created_at
    ):
        when = formatting.short_date(customer.updated_at)
        parts.append(f"changed {when} by {customer.updated_by}")
    return "".join(f" · {part}" for part in parts)


def _who(customer: Customer) -> str:
    return html.escape(who_text(customer))
