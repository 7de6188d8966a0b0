"""The cached database connection, cached reads, and messages carried across reruns.

Reads a page repeats on every rerun (opening a dialog, choosing an order,
going back to the list) are cached and keyed by ``db.committed_writes()``:
any write in this process, by any session, makes them read afresh, so
nobody sees data older than the last save. The time limit only ages
relative dates ("visited in the last 7 days").
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import streamlit as st

from crm import config, db, queries, scores
from crm.detail import CustomerDetail, customer_detail
from crm.models import CustomerFilter, CustomerPage


@st.cache_resource(show_spinner="Opening the customer database…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    # Keyed by path so tests (and a changed CRM_DB_PATH) get their own connection.
    # Raises crm.errors.DatabaseInUse (a sentence the pages show) while
    # another process has the file open; nothing is cached then, so a reload
    # tries again.
    target = Path(path)
    if not target.exists():
        from crm.demo.seed import seed_database  # only needed on the very first start

        # Another app started at the same moment builds it: open theirs (while
        # they still build, that is "in use by another process").
        with contextlib.suppress(FileExistsError):
            seed_database(target, customers=config.DEMO_CUSTOMERS, seed=config.DEMO_SEED)
    con = db.connect(target)
    # Cards, the RFM filter and Insights read each customer's stored group, which a
    # database upgraded by migration 004 does not have yet: score everyone now (4.9 s
    # once at 1M customers) rather than on the first customer page someone opens. Later
    # starts recompute only cut points a day old or drifted (0.4-1 s at 1M).
    scores.current_boundaries(con)
    return con


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection; call ``.cursor()`` (the crm functions do) per query."""
    return _connection(str(config.db_path()))


_READ_TTL_SECONDS = 60


# cache_resource, not cache_data: the same objects are handed to every
# session without a copy; callers only read them (pandas ``assign`` copies).
@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=64, show_spinner=False)
def _customer_detail(path: str, customer_id: int, writes: int) -> CustomerDetail | None:
    return customer_detail(_connection(path), customer_id)


def cached_customer_detail(customer_id: int) -> CustomerDetail | None:
    """``crm.detail.customer_detail``, read again only after a write (or a minute)."""
    return _customer_detail(str(config.db_path()), customer_id, db.committed_writes())


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=256, show_spinner=False)
def _customer_page(path: str, segment: CustomerFilter, writes: int) -> CustomerPage:
    return queries.customer_page(_connection(path), segment)


def cached_customer_page(segment: CustomerFilter) -> CustomerPage:
    """``crm.queries.customer_page``, read again only after a write (or a minute)."""
    return _customer_page(str(config.db_path()), segment, db.committed_writes())


_FLASH_KEY = "_crm_flash"


def flash(message: str, icon: str = "✅") -> None:
    """Show ``message`` as a toast at the start of the next run.

    A toast sent just before ``st.rerun()`` is sometimes lost in the browser;
    one sent at the top of the following run always shows.
    """
    st.session_state.setdefault(_FLASH_KEY, []).append((message, icon))


def show_flashes() -> None:
    """Show and forget the toasts queued by ``flash``; call once near the top of a page."""
    for message, icon in st.session_state.pop(_FLASH_KEY, []):
        st.toast(message, icon=icon)
