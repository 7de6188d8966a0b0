"""The customer page's "Scores" panel: RFM and buying rhythm, in words.

The scores are computed for the page from the customer's own figures
(``crm.scores.scores_for``, pure Python, microseconds) and the quintile cut
points, which are shared by everyone and read once per write
(``cached_boundaries``), so the panel adds no statement to a page view.
The cut points are recomputed lazily (daily, or when the number of
customers with orders moved by over 1 %), so the panel says when they were.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import streamlit as st

from crm import card_view, scores
from crm.formatting import escape_markdown
from crm.models import Customer
from crm.scores import Boundaries
from crm.ui.data import connection, data_version, db_key

BadgeColour = Literal["green", "blue", "orange", "red", "gray"]
# st.badge's colours for the card label's tones (crm.card_view.RFM_TONES).
_BADGE_COLOURS: dict[str, BadgeColour] = {
    "keep": "green",
    "grow": "blue",
    "watch": "orange",
    "win-back": "red",
    "rest": "gray",
    "none": "gray",
}
_RHYTHM_COLOURS: dict[str, BadgeColour] = {
    "On track": "green",
    "Due": "orange",
    "Overdue": "orange",
    "Lapsed": "red",
    scores.ONE_ORDER: "gray",
    scores.NO_ORDERS: "gray",
}
_READ_TTL_SECONDS = 60  # so a day-old set of cut points is noticed without a write


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=4, show_spinner=False)
def _boundaries(path: str, writes: int) -> Boundaries:
    return scores.current_boundaries(connection())


def cached_boundaries() -> Boundaries:
    """``scores.current_boundaries``, read again only after a write (or a minute)."""
    return _boundaries(db_key(), data_version())


def render(customer: Customer, today: date | None = None) -> None:
    """The Scores panel: the RFM group and scores, the buying rhythm, each as a sentence."""
    boundaries = cached_boundaries()
    result = scores.scores_for(customer, boundaries, today or date.today())
    tone = card_view.RFM_TONES.get(result.group, "none")
    with st.container(border=True, key="customer_scores"):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown("**Scores**", width="content")
            st.badge(escape_markdown(result.group), color=_BADGE_COLOURS[tone])
            st.badge(escape_markdown(result.rhythm), color=_RHYTHM_COLOURS[result.rhythm])
        st.markdown(escape_markdown(result.rfm_sentence()))
        st.caption(escape_markdown(scores.GROUP_MEANINGS.get(result.group, "")))
        st.markdown(escape_markdown(result.rhythm_sentence()))
        if result.recency is not None:
            # The R/F/M scores use shared cut points that may be up to a day old.
            st.caption(escape_markdown(scores.boundaries_note(boundaries)))
