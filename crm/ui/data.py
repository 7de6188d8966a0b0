"""The cached database connection and the messages carried across reruns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from crm import config, db


@st.cache_resource(show_spinner="Opening the customer database…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    # Keyed by path so tests (and a changed CRM_DB_PATH) get their own connection.
    target = Path(path)
    if not target.exists():
        from crm.seed import seed_database  # only needed on the very first start

        seed_database(target, customers=config.DEMO_CUSTOMERS, seed=config.DEMO_SEED)
    return db.connect(target)


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection; call ``.cursor()`` (the crm functions do) per query."""
    return _connection(str(config.db_path()))


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
