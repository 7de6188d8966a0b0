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

from crm import avatars, formatting, scores
from crm.models import CardRow, Customer

CUSTOMER_PATH = "Customer"  # the customer page's URL path (app_pages/Customer.py)
# Stored pictures are re-encoded on upload; anything else falls back to initials.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
# The RFM group's label colour by what the group asks of a marketer: keep
# (green), grow (blue), watch (amber), win back (rose), let rest (slate).
# crm/ui/card_grid.css draws each tone; every group has one.
RFM_TONES: dict[str, str] = {
    "Champions": "keep",
    "Loyal": "keep",
    "Potential loyalist": "grow",
    "New": "grow",
    "Promising": "grow",
    "Need attention": "watch",
    "About to sleep": "watch",
    "At risk": "win-back",
    "Can't lose them": "win-back",
    "Hibernating": "rest",
    "Lost": "rest",
    scores.NO_ORDERS: "none",
}


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
        **rfm_label(row.rfm_group),
    }


def rfm_label(group: str | None) -> dict[str, str]:
    """The card's RFM group label: its text, colour tone and meaning (a tooltip).

    No label (empty texts) before the quintiles were first computed.
    """
    if group is None:
        return {"rfm_group": "", "rfm_tone": "", "rfm_title": ""}
    return {
        "rfm_group": group,
        "rfm_tone": RFM_TONES.get(group, "none"),
        "rfm_title": f"RFM group: {group}. {scores.GROUP_MEANINGS.get(group, '')}".strip(),
    }
