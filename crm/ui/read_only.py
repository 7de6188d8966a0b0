"""``CRM_READ_ONLY=1``: a public demo. The banner, and the reason on every
write button, which is disabled (or, on the cards, not drawn).

``crm.db.connect`` opens the database read-only too, so a write that slipped
past the UI is refused by DuckDB itself.
"""

from __future__ import annotations

import streamlit as st

from crm import config

REASON = "Read-only demo: nothing can be changed here."
BANNER = (
    "This is a read-only demo: look around, filter, open customers and export, "
    "but nothing can be added, changed or sent."
)


def on() -> bool:
    """Whether the app is a read-only demo (``CRM_READ_ONLY``)."""
    return config.read_only()


def why(otherwise: str | None = None) -> str | None:
    """A write button's help: the read-only reason, or ``otherwise``."""
    return REASON if on() else otherwise


def banner() -> None:
    """The banner at the top of every page of a read-only demo."""
    if on():
        st.info(BANNER, icon=":material/visibility:")
