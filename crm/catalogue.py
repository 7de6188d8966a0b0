"""Products and campaigns by id: two small reference tables kept in memory.

Why: the customer page names the products of a customer's order lines and
the campaigns of their sends. Joined in DuckDB, each of those small tables
(a few hundred products, a few dozen campaigns) cost a customer-page read
1.5–3 ms of hash-join set-up at a million customers, more than finding the
customer's rows. Looked up here, they cost microseconds.

Never stale: products and campaigns change only in write transactions, by this
app instance or another one sharing the database (MotherDuck), and each adds a
row to ``committed_changes``; a copy is kept per connection and per
``db.change_count`` (one row to read: ~0.1 ms locally, one round trip to
MotherDuck; callers mostly sit behind caches keyed the same way). An id the
copy does not know (a campaign created while a page was being read) makes it
read the tables again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from crm import db

# Connections whose catalogue is kept. A strong reference, compared by
# identity, so a new connection never gets an old one's catalogue.
_KEEP = 4
_lock = threading.Lock()
_kept: OrderedDict[int, tuple[duckdb.DuckDBPyConnection, int, Catalogue]] = OrderedDict()


@dataclass(frozen=True)
class Catalogue:
    products: dict[int, tuple[str, str]]  # id -> (name, category)
    campaigns: dict[int, tuple[str, str]]  # id -> (name, channel)


def catalogue(
    con: duckdb.DuckDBPyConnection,
    products: Collection[int] = (),
    campaigns: Collection[int] = (),
) -> Catalogue:
    """The products and campaigns behind ``con`` as of its last write, read
    again if the kept copy lacks any of the ``products`` or ``campaigns`` ids."""
    writes = db.change_count(con)
    with _lock:
        kept = _kept.get(id(con))
        if kept is not None:
            _kept.move_to_end(id(con))
    if kept is not None and kept[0] is con and kept[1] == writes:
        known = kept[2]
        if set(products) <= known.products.keys() and set(campaigns) <= known.campaigns.keys():
            return known
    fresh = _read(con)
    with _lock:
        _kept[id(con)] = (con, writes, fresh)
        _kept.move_to_end(id(con))
        while len(_kept) > _KEEP:
            _kept.popitem(last=False)
    return fresh


def _read(con: duckdb.DuckDBPyConnection) -> Catalogue:
    cur = con.cursor()
    products = cur.execute("SELECT id, name, category FROM products").fetchall()
    campaigns = cur.execute("SELECT id, name, channel FROM campaigns").fetchall()
    return Catalogue(
        products={int(i): (name, category) for i, name, category in products},
        campaigns={int(i): (name, channel) for i, name, channel in campaigns},
    )
