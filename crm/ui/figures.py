"""Figures that hardly change between reruns, cached briefly.

Slider bounds and the number of all customers cost a scan of the
customers; they are read once a minute, and again after any write.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from crm import queries
from crm.ui.data import connection, data_version, db_key

STATIC_TTL_SECONDS = 60


@dataclass(frozen=True)
class StaticFigures:
    customers: int
    # Range-slider ends in whole currency units, the top rounded up to a step.
    spending: tuple[int, int]
    spending_step: int
    visits: tuple[int, int]


def _nice_step(span: float, target_steps: int = 200) -> int:
    """A 1-2-5 step giving at most about ``target_steps`` stops over ``span``."""
    raw = max(span / target_steps, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


@st.cache_data(ttl=STATIC_TTL_SECONDS, max_entries=8, show_spinner=False)
def _figures(db_path: str, writes: int) -> StaticFigures:
    # db_path keys the cache: each database (and each test's copy) has its own.
    ranges = queries.customer_ranges(connection())
    low_spend, high_spend = ranges.spending
    low_visits, high_visits = ranges.visits
    low = math.floor(low_spend)
    step = _nice_step(float(high_spend) - low)
    high = max(low + step, low + math.ceil((float(high_spend) - low) / step) * step)
    return StaticFigures(
        customers=ranges.customers,
        spending=(low, high),
        spending_step=step,
        visits=(low_visits, max(high_visits, low_visits + 1)),
    )


def static_figures() -> StaticFigures:
    """Customer count and slider bounds of the current database, at most a minute old."""
    return _figures(db_key(), data_version())
