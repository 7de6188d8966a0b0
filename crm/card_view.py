"""What a customer card shows, as plain strings: the card grid's data.

Pure (no Streamlit): a row of ``queries.customer_page`` goes in, a small
JSON-ready dict comes out. Every value is text the browser puts on the page
with ``textContent`` (see ``crm/ui/card_grid.js``), never parsed as HTML, so
a name like ``<b>x</b><img src=x onerror=...>`` shows as those characters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm import avatars, formatting

CUSTOMER_PATH = "Customer"  # the customer page's URL path (pages/Customer.py)
# Stored pictures are re-encoded on upload; anything else falls back to initials.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


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


def _as_datetime(value: Any) -> datetime | None:
    value = _present(value)
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        converted: datetime = value.to_pydatetime()
        return converted
    return value if isinstance(value, datetime) else None


def picture_uri(image: Any, mime: Any) -> str | None:
    """The uploaded picture as a ``data:`` URI, or None to show initials."""
    picture = _present(image)
    kind = _text(mime)
    if picture is None or kind not in IMAGE_TYPES:
        return None
    return avatars.data_uri(bytes(picture), kind)


def card_view(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    """One card's texts, link and avatar."""
    customer_id = int(row["id"])
    first, last = _text(row.get("first_name")), _text(row.get("last_name"))
    spent = _present(row.get("total_spending"))
    last_visit = _as_datetime(row.get("last_visit"))
    return {
        "id": customer_id,
        "name": formatting.full_name(first, last) or "(no name)",
        "href": f"{CUSTOMER_PATH}?id={customer_id}",
        "initials": avatars.initials(first, last),
        "colour": avatars.colour(customer_id),
        "picture": picture_uri(row.get("avatar"), row.get("avatar_type")),
        "email": _text(row.get("email")),
        "phone": _text(row.get("phone")),
        "place": formatting.place(
            _text(row.get("city")), _text(row.get("state")), _text(row.get("country"))
        ),
        "spent": formatting.money(Decimal(str(spent)) if spent is not None else 0),
        "visits": formatting.number(int(_present(row.get("visit_count")) or 0)),
        "last_visit": formatting.short_date(last_visit),
        "last_visit_note": (
            formatting.days_ago(last_visit, today) if last_visit else "no visits yet"
        ),
        "last_visit_title": last_visit.strftime("%Y-%m-%d %H:%M") if last_visit else "",
    }
