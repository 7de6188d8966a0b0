"""Avatars: initials on a colour that stays the same for a customer.

Pure functions; uploads are validated and re-encoded here too (see
``process_upload``), so the UI only passes bytes in.
"""

from __future__ import annotations

import base64
import hashlib

# Background colours with white text at >= 4.5:1 contrast (WCAG AA).
PALETTE: tuple[str, ...] = (
    "#1d4ed8",
    "#0f766e",
    "#7c3aed",
    "#b91c1c",
    "#c2410c",
    "#15803d",
    "#be185d",
    "#4338ca",
    "#0369a1",
    "#a16207",
)


def initials(first_name: str, last_name: str) -> str:
    """Up to two capital letters; "?" when both names are empty."""
    letters = [part.strip()[:1] for part in (first_name, last_name) if part and part.strip()]
    return "".join(letters).upper() or "?"


def colour(customer_id: int) -> str:
    """A palette colour chosen by a hash of the id, so it never changes between runs."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def data_uri(image: bytes, mime_type: str) -> str:
    """An image as a ``data:`` URI, for an <img> in HTML the app writes itself."""
    return f"data:{mime_type};base64,{base64.b64encode(image).decode('ascii')}"
