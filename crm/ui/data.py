"""The cached database connection, cached reads, and messages carried across reruns.

Reads a page repeats on every rerun (opening a dialog, choosing an order,
going back to the list) are cached and keyed by ``data_version()``: the
database's count of committed write transactions (``crm.db.change_count``),
read once per run and again after a write in this process. Several app
instances may write one MotherDuck database: a write by any of them changes
the count, so nobody sees data older than the last save made before their
run began. The time limit only ages relative dates ("visited in the last 7 days").
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import duckdb
import streamlit as st

from crm import config, db, queries, scores
from crm.detail import CustomerDetail, customer_detail
from crm.models import CustomerFilter, CustomerPage


def _motherduck_secret(name: str) -> str | None:
    """``[motherduck] <name>`` from ``.streamlit/secrets.toml`` (Community Cloud's
    Secrets box), or None; the data layer never reads Streamlit's secrets itself."""
    try:
        section = st.secrets.get("motherduck")
    except FileNotFoundError:  # no secrets file at all (Streamlit's error is one)
        return None
    if not isinstance(section, Mapping):
        return None
    value = section.get(name)
    return value if isinstance(value, str) else None


def database() -> config.Database:
    """Where the data is: ``CRM_DB_PATH``, else ``[motherduck] database``, else
    ``data/crm.duckdb``. ``crm.config.BadDatabaseSetting`` (a sentence) for an
    ``md:`` form the app cannot use."""
    return config.database(_motherduck_secret("database"))


def db_key() -> str:
    """The database as a cache key (never holds the token)."""
    return str(database())


def opens_demo(location: config.Database) -> bool:
    """Whether opening ``location`` builds the demo database first: only the local
    default file, when missing. A MotherDuck database, or a file named in
    ``CRM_DB_PATH``, is never seeded: it opens empty (migrated) and the overview
    invites an import (``crm.ui.first_run``)."""
    return (
        isinstance(location, config.LocalDatabase)
        and location.is_default
        and not location.path.exists()
    )


@st.cache_resource(show_spinner="Opening the customer database…")
def _connection(key: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    # Keyed by the database and CRM_READ_ONLY so tests (and a changed CRM_DB_PATH)
    # get their own connection. Raises crm.errors.DatabaseInUse (a sentence the pages show)
    # while another process has the file open, DatabaseUnavailable when
    # MotherDuck cannot be opened; nothing is cached then, so a reload tries again.
    location = config.parse_database(key)
    if opens_demo(location):
        from crm.demo.seed import seed_database  # only needed on the very first start

        assert isinstance(location, config.LocalDatabase)
        # Another app started at the same moment builds it: open theirs (while
        # they still build, that is "in use by another process").
        with contextlib.suppress(FileExistsError):
            seed_database(location.path, customers=config.DEMO_CUSTOMERS, seed=config.DEMO_SEED)
    con = db.connect(location, token=_motherduck_secret("token"), read_only=read_only)
    # Cards, the RFM filter and Insights read each customer's stored group, which a
    # database upgraded by migration 004 does not have yet: score everyone now (4.9 s
    # once at 1M customers) rather than on the first customer page someone opens. Later
    # starts recompute only cut points a day old or drifted (0.4-1 s at 1M).
    scores.current_boundaries(con)
    return con


def connection() -> duckdb.DuckDBPyConnection:
    """The process-wide connection; call ``.cursor()`` (the crm functions do) per query."""
    return _connection(db_key(), config.read_only())


# --- What the caches are keyed by ------------------------------------------------

_VERSION_KEY = "_crm_data_version"


def start_run() -> None:
    """Forget this session's reading of the database's change count: the next
    ``data_version()`` reads it afresh. Call once at the top of every run (the
    entry point); it touches no database, so it cannot fail."""
    st.session_state.pop(_VERSION_KEY, None)


def data_version() -> int:
    """The key of cached reads: the database's change count, read at most once per
    run (one row: ~0.1 ms locally, one round trip to MotherDuck) and again after
    a write by this process, which a read later in the same run must see."""
    local = db.committed_writes()
    seen = st.session_state.get(_VERSION_KEY)
    if isinstance(seen, tuple) and seen[0] == local:
        return int(seen[1])
    count = db.change_count(connection())
    st.session_state[_VERSION_KEY] = (local, count)
    return count


_READ_TTL_SECONDS = 60


# cache_resource, not cache_data: the same objects are handed to every
# session without a copy; callers only read them (pandas ``assign`` copies).
@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=64, show_spinner=False)
def _customer_detail(path: str, customer_id: int, writes: int) -> CustomerDetail | None:
    return customer_detail(connection(), customer_id)


def cached_customer_detail(customer_id: int) -> CustomerDetail | None:
    """``crm.detail.customer_detail``, read again only after a write (or a minute)."""
    return _customer_detail(db_key(), customer_id, data_version())


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=256, show_spinner=False)
def _customer_page(path: str, segment: CustomerFilter, writes: int) -> CustomerPage:
    return queries.customer_page(connection(), segment)


def cached_customer_page(segment: CustomerFilter) -> CustomerPage:
    """``crm.queries.customer_page``, read again only after a write (or a minute)."""
    return _customer_page(db_key(), segment, data_version())


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
