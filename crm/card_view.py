"""What a customer card shows, as plain strings: the card grid's data.

Pure (no Streamlit): a card's row (``CardRow`` from ``queries.customer_page``,
or a whole ``Customer``, which has the same fields) goes in, a small
JSON-ready dict comes out. Every value is text the browser puts on the page
with ``textContent`` (see ``crm/ui/card_grid.js``), never parsed as HTML, so
a name like ``<b>x</b><img src=x onerror=...>`` shows as those characters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from crm import avatars, formatting
from crm.models import CardRow, Customer

CUSTOMER_PATH = "Customer"  # the customer page's URL path (pages/Customer.py)
# Stored pictures are re-encoded on upload; anything else falls back to initials.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


def picture_uri(image: bytes | None, mime: str | None) -> str | None:
    """The uploaded picture as a ``data:`` URI, or None to show initials."""
    if image is None or mime not in IMAGE_TYPES:
        return None
    return avatars.data_uri(bytes(image), mime)


def card_view(row: CardRow | Customer, today: date) -> dict[str, Any]:
    """One card's texts, link and avatar."""
    last_visit = row.last_visit
    return {
        "id": row.id,
        "name": formatting.full_name(row.first_name, row.last_name) or "(no name)",
        "href": f"{CUSTOMER_PATH}?id={row.id}",
        "initials": avatars.initials(row.first_name, row.last_name),
        "colour": avatars.colour(row.id),
        "picture": picture_uri(row.avatar, row.avatar_type),
        "email": row.email,
        "phone": row.phone,
        "place": formatting.place(row.city, row.state, row.country),
        "spent": formatting.money(row.total_spending),
        "visits": formatting.number(row.visit_count),
        "last_visit": formatting.short_date(last_visit),
        "last_visit_note": (
            formatting.days_ago(last_visit, today) if last_visit else "no visits yet"
        ),
        "last_visit_title": last_visit.strftime("%Y-%m-%d %H:%M") if last_visit else "",
    }
