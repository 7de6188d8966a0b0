"""The "Insights" panel of the overview: the current segment's make-up in figures,
words and charts, and a click on a bar to narrow the segment.

The panel is an expander above the cards, closed by default (the cards stay
the view), and lazy: nothing is read until it is opened (``on_change="rerun"``).
It is placed before the cards (``render``) but filled after them (``fill``):
Streamlit sends elements as they are drawn, so a click on a bar shows the new
cards without waiting for the new segment's charts (at a million customers
100-400 ms uncached).
Its reads (``crm.insights``) are cached until the next write, like the page of
cards; all customers' profile, which every segment is compared with, is
cached on its own, so a segment reads only its own figures.

A click on a country, RFM group, rhythm status or category bar comes back as
the chart's selection (``on_select``); the callback queues it (``PENDING``)
and ``take_pending``, called before the filter bar is drawn, adds it to the
segment through ``crm.ui.filters.narrow`` (the URL), so the cards and count
of that very run follow. Tests drive the same path by setting ``PENDING``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crm import charts, formatting, scores, segments
from crm import insights as data
from crm.models import CustomerFilter
from crm.ui import filters
from crm.ui.data import cached_customer_page, connection, data_version, db_key

OPEN = "insights_open"  # the expander's state (True when open)
PENDING = "_insights_pending"  # (URL parameter, value) picked in a chart, for the next run
_GENERATION = "_insights_generation"  # renewed chart keys drop a picked bar's highlight
_TTL_SECONDS = 60

# The charts a click narrows, by name: the URL parameter (crm.segments) a click adds to.
PICKABLE = {
    "country": segments.COUNTRY,
    "rfm": segments.RFM,
    "rhythm": segments.RHYTHM,
    "category": segments.CATEGORY,
}

# Streamlit draws a chart toolbar that shows on hover; crm/ui/history.py says
# why the app's charts go without it.
_STYLES = """<style>
[data-testid="stElementContainer"]:has([data-testid="stVegaLiteChart"])
  [data-testid="stElementToolbar"] { display: none; }
.st-key-insights_headline [data-testid="stMetricValue"] { font-size: 1.6rem; }
</style>"""


@st.cache_resource(ttl=_TTL_SECONDS, max_entries=8, show_spinner=False)
def _everyone(path: str, writes: int, today: date) -> data.Profile:
    con = connection()
    return data.profile(con, CustomerFilter(), datetime.now(), names=data.category_names(con))


@st.cache_resource(ttl=_TTL_SECONDS, max_entries=8, show_spinner=False)
def _everyone_orders(path: str, writes: int, today: date) -> data.EveryoneOrders:
    return data.everyone_orders(connection(), datetime.now())


@st.cache_resource(ttl=_TTL_SECONDS, max_entries=64, show_spinner=False)
def _insights(
    path: str, segment: CustomerFilter, writes: int, today: date, customers: int
) -> data.Insights:
    everyone = _everyone(path, writes, today)
    # A segment of most customers is read as everyone's less the rest: everyone's
    # months are then cached too (``crm.insights.insights``).
    big = segments.is_filtered(segment) and 2 * customers > everyone.headline.customers
    return data.insights(
        connection(),
        segment,
        datetime.now(),
        everyone=everyone,
        customers=customers,
        orders_of_everyone=_everyone_orders(path, writes, today) if big else None,
    )


def cached_insights(segment: CustomerFilter) -> data.Insights:
    """``crm.insights.insights`` of the segment (any page of it), read again only after
    a write, a new day or a minute. The segment's count comes from its page of
    cards (cached: the overview has just read it)."""
    customers = cached_customer_page(segment).totals.customers
    plain = replace(
        segment, page=1, sort=segments.DEFAULT.sort, descending=segments.DEFAULT.descending
    )
    return _insights(db_key(), plain, data_version(), date.today(), customers)


# --- Click to narrow ---------------------------------------------------------------


def picked_value(state: Mapping[str, Any] | None) -> str | None:
    """The bar a chart's selection state picked (``{"selection": {"pick": [{"name":
    "Italy"}]}}``), or None when the click cleared the selection."""
    if not state:
        return None
    points = (state.get("selection") or {}).get(charts.PICK) or []
    if not points:
        return None
    value = points[0].get("name")
    return None if value is None else str(value)


def _picked(chart_key: str, param: str) -> None:
    """A chart's ``on_select`` callback: queue the picked bar for ``take_pending``."""
    value = picked_value(st.session_state.get(chart_key))
    if value is not None:
        st.session_state[PENDING] = (param, value)


def take_pending() -> None:
    """Narrow the segment by a bar picked in the last run; call before the filter bar."""
    pending: tuple[str, str] | None = st.session_state.pop(PENDING, None)
    if pending is None:
        return
    param, value = pending
    if param not in PICKABLE.values() or (param == segments.COUNTRY and value == data.NO_COUNTRY):
        return  # the blank country's bar: no filter picks a blank country
    filters.narrow(param, value)
    # New chart keys: the next charts start with nothing picked.
    st.session_state[_GENERATION] = int(st.session_state.get(_GENERATION, 0)) + 1


def _chart(name: str, chart: Any) -> None:
    param = PICKABLE[name]
    key = f"insights_{name}_{st.session_state.get(_GENERATION, 0)}"
    st.altair_chart(
        chart,
        width="stretch",
        on_select=partial(_picked, key, param),
        selection_mode=charts.PICK,
        key=key,
    )


# --- In words ----------------------------------------------------------------------


def _pct(share: float) -> str:
    # A no-break space: never "12" at the end of one line and "%" on the next.
    if 0 < share < 0.005:
        return "under 1\u00a0%"
    return f"{100 * share:.0f}\u00a0%"


def with_shares(
    counts: pd.DataFrame, segment: int, everyone: pd.DataFrame, all_: int
) -> pd.DataFrame:
    """``counts`` (``name``, ``customers``) with each name's share of the segment and
    of all customers (``share``, ``share_of_all``)."""
    total = everyone.set_index("name")["customers"]
    return counts.assign(
        share=counts["customers"] / segment if segment else 0.0,
        share_of_all=[total.get(name, 0) / all_ if all_ else 0.0 for name in counts["name"]],
    )


def standout_sentence(shares: pd.DataFrame, what: str, filtered: bool) -> str | None:
    """The entry that stands out, in words, e.g. "Italy holds 12 % of this segment,
    3x its share of all customers". Filtered: the entry holding at least 5 % of the
    segment most over-represented against all customers (when at least 1.5x).
    Otherwise (or when none is): the largest entry. None for an empty frame, and
    for a segment all of one entry (its filter says so already)."""
    rows = shares[shares["customers"] > 0]
    if rows.empty or (filtered and len(rows) == 1):
        return None  # nothing to say, or the filter itself ("Italy holds 100 %")
    if filtered:
        ratio = rows["share"] / rows["share_of_all"].where(rows["share_of_all"] > 0)
        candidates = rows.assign(ratio=ratio)[(rows["share"] >= 0.05)].dropna(subset=["ratio"])
        if not candidates.empty:
            best = candidates.sort_values(["ratio", "customers"], ascending=False).iloc[0]
            if best["ratio"] >= 1.5:
                return (
                    f"{best['name']} {what} {_pct(best['share'])} of this segment, "
                    f"{best['ratio']:.1f}x its share of all customers "
                    f"({_pct(best['share_of_all'])})."
                )
    top = rows.sort_values(["customers", "name"], ascending=[False, True]).iloc[0]
    whose = "this segment" if filtered else "all customers"
    return f"{top['name']} {what} {_pct(top['share'])} of {whose}."


# --- The panel ---------------------------------------------------------------------


def render(segment: CustomerFilter) -> Panel | None:
    """The Insights expander for ``segment``, where it stands; its content is drawn by
    ``fill``, after the cards, so a new segment's cards never wait for its charts.
    None when the panel is closed (nothing is read then)."""
    expander = st.expander(
        "Insights: this segment in charts",
        key=OPEN,
        on_change="rerun",
        icon=":material/insights:",
    )
    return Panel(expander, segment) if expander.open else None


@dataclass(frozen=True)
class Panel:
    """An open Insights expander and the segment it describes, for ``fill``."""

    expander: DeltaGenerator
    segment: CustomerFilter


def fill(panel: Panel | None) -> None:
    """Draw the open panel's figures and charts (call after the cards)."""
    if panel is None:
        return
    with panel.expander:
        st.html(_STYLES)
        found = cached_insights(panel.segment)
        filtered = segments.is_filtered(panel.segment)
        if found.segment.headline.customers == 0:
            _empty_state(filtered)
            return
        _headline(found)
        _charts(found, filtered)


def _empty_state(filtered: bool) -> None:
    with st.container(key="insights_empty"):
        st.markdown("**No customers to describe.**")
        st.caption(
            "Widen the search or clear a filter: the charts show the customers the count shows."
            if filtered
            else "Add customers and their orders, and their make-up shows here."
        )


def _headline(found: data.Insights) -> None:
    head = found.segment.headline
    everyone = found.everyone.headline.customers
    median = head.median_days_since_order
    with st.container(horizontal=True, key="insights_headline", gap="medium"):
        st.metric(
            "Customers",
            formatting.number(head.customers),
            help=f"{formatting.escape_markdown(_share_of_all(head.customers, everyone))}",
            width="content",
        )
        st.metric("Share of all customers", _pct(found.share), width="content")
        st.metric(
            "Total spending",
            formatting.compact_money(head.spending),
            help=formatting.escape_markdown(f"Exactly {formatting.money(head.spending)}."),
            width="content",
        )
        st.metric("Average spending", formatting.money(head.average_spending), width="content")
        st.metric(
            "Average order value",
            formatting.money(head.average_order_value),
            help=formatting.escape_markdown(
                f"{formatting.money(head.spending)} over {formatting.plural(head.orders, 'order')}."
            ),
            width="content",
        )
        st.metric(
            "Median days since last order",
            formatting.MISSING if median is None else f"{median:,.0f}",
            help="Among the segment's customers with orders; calendar days.",
            width="content",
        )


def _share_of_all(customers: int, everyone: int) -> str:
    return f"{formatting.number(customers)} of {formatting.plural(everyone, 'customer')}."


def _charts(found: data.Insights, filtered: bool) -> None:
    seg, every = found.segment, found.everyone
    size, all_ = seg.headline.customers, every.headline.customers
    countries = with_shares(seg.countries.head(data.TOP_COUNTRIES), size, every.countries, all_)
    groups = with_shares(seg.rfm, size, every.rfm, all_).assign(
        meaning=[scores.GROUP_MEANINGS.get(name, "") for name in seg.rfm["name"]]
    )
    rhythm = with_shares(seg.rhythm, size, every.rhythm, all_)
    categories = found.categories.assign(
        share=found.categories["customers"] / size if size else 0.0
    )
    words = [
        standout_sentence(countries, "holds", filtered),
        standout_sentence(groups, "makes up", filtered),
    ]
    notes = [formatting.escape_markdown(w) for w in words if w]
    if notes:
        st.markdown("  \n".join(notes))
    st.caption("Click a country, group, rhythm or category bar to narrow the segment to it.")
    left, right = st.columns(2, gap="medium")
    with left:
        st.altair_chart(charts.spending_histogram_chart(seg.spending), width="stretch")
        _chart("country", charts.countries_chart(countries))
        _chart("rhythm", charts.rhythm_mix_chart(rhythm))
    with right:
        st.altair_chart(charts.revenue_by_month_chart(found.months), width="stretch")
        _chart("rfm", charts.rfm_mix_chart(groups))
        _chart("category", charts.categories_chart(categories))
