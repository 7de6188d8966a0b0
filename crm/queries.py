"""Read queries: one function per question, its SQL in plain sight.

Every value is bound as a parameter, by name where a statement has several.
SQL text chosen at run time comes from fixed lists only: the ORDER BY clause
(``_ORDER_BY``), the segment's semi-joins (``_SEMI_JOINS``) and column lists
made of the read records' field names.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from crm import catalogue, consent, db, scores, search, segments, slots
from crm.frames import typed_frame
from crm.models import (
    CampaignRates,
    CardRow,
    Customer,
    CustomerFilter,
    CustomerPage,
    CustomerRanges,
    LastVisit,
    SegmentTotals,
    SortKey,
)
from crm.purchases import LineRow, OrderRow

Con = duckdb.DuckDBPyConnection

# ORDER BY clauses by sort key and direction; ``id`` breaks ties so pages are stable.
_ORDER_BY: dict[tuple[SortKey, bool], str] = {
    (SortKey.SPENDING, True): "total_spending DESC, id",
    (SortKey.SPENDING, False): "total_spending ASC, id",
    (SortKey.VISITS, True): "visit_count DESC, id",
    (SortKey.VISITS, False): "visit_count ASC, id",
    (SortKey.LAST_VISIT, True): "last_visit DESC NULLS LAST, id",
    (SortKey.LAST_VISIT, False): "last_visit ASC NULLS FIRST, id",
    (SortKey.NAME, True): "last_name DESC, first_name DESC, id",
    (SortKey.NAME, False): "last_name ASC, first_name ASC, id",
}

# The columns a page's matches keep besides the totals' (id, spending, visits):
# those its sort reads. At a million customers (2 cores) the 585,879 members
# of a campaign, sorted by spending, took 41 ms to page and count keeping both
# names and the last visit, 33 ms without; everyone 29.5 against 24.7 ms.
_SORT_COLUMNS: dict[SortKey, str] = {
    SortKey.SPENDING: "",
    SortKey.VISITS: "",
    SortKey.LAST_VISIT: ", last_visit",
    SortKey.NAME: ", first_name, last_name",
}

# The segment predicate over one customer row. A NULL parameter switches its
# condition off, so the SQL text never changes with the filter; the casts
# give a NULL its type. The semi-joins below cost 2-4 ms each at 1,000,000
# customers even when switched off, so they are added only when used.
_SEGMENT_WHERE = f"""
    (CAST($term AS VARCHAR) IS NULL OR ({search.MAY_MATCH} AND contains(search_text, $term)))
    AND (CAST($min_spending AS DECIMAL(14, 2)) IS NULL OR total_spending >= $min_spending)
    AND (CAST($max_spending AS DECIMAL(14, 2)) IS NULL OR total_spending <= $max_spending)
    AND (CAST($min_visits AS INTEGER) IS NULL OR visit_count >= $min_visits)
    AND (CAST($max_visits AS INTEGER) IS NULL OR visit_count <= $max_visits)
    AND (CAST($since AS TIMESTAMP) IS NULL OR last_visit >= $since)
    AND (CAST($before AS TIMESTAMP) IS NULL OR last_visit < $before)
    AND (NOT $never OR last_visit IS NULL)
    AND (CAST($countries AS VARCHAR[]) IS NULL OR list_contains($countries, country))
    AND (CAST($states AS VARCHAR[]) IS NULL OR list_contains($states, state))
    AND (CAST($cities AS VARCHAR[]) IS NULL OR list_contains($cities, city))
    AND (CAST($ordered_since AS TIMESTAMP) IS NULL OR last_order_at >= $ordered_since)
    AND (CAST($min_orders AS INTEGER) IS NULL OR order_count >= $min_orders)
    AND (CAST($max_orders AS INTEGER) IS NULL OR order_count <= $max_orders)
    AND (CAST($min_aov AS DECIMAL(14, 2)) IS NULL
         OR (order_count > 0 AND total_spending >= $min_aov * order_count))
    AND (CAST($max_aov AS DECIMAL(14, 2)) IS NULL
         OR (order_count > 0 AND total_spending <= $max_aov * order_count))
    AND (CAST($first_from AS TIMESTAMP) IS NULL OR first_order_at >= $first_from)
    AND (CAST($first_before AS TIMESTAMP) IS NULL OR first_order_at < $first_before)
    AND (CAST($created_from AS TIMESTAMP) IS NULL OR created_at >= $created_from)
    AND (CAST($created_before AS TIMESTAMP) IS NULL OR created_at < $created_before)
    AND (CAST($engaged_since AS TIMESTAMP) IS NULL OR last_engaged_at >= $engaged_since)
    AND (NOT $never_opened OR (delivered_sends >= 3 AND opened_sends = 0))
    AND {scores.GROUP_FILTER_SQL}
    AND {scores.RHYTHM_FILTER_SQL}
"""

# Conditions that read another table (the per-customer tables of migration
# 006, or the sends), by filter; each is added only when its filter is set
# (``segment_where``), with its own parameters. Each names a set of customer
# ids (table, condition) that the row's id is tested against. At 1M customers
# a category most customers bought cost ~50 ms as a hash semi-join (a hash
# table of ~800,000 ids), a product ~10 ms (its pairs are stored together), a
# campaign ~10 ms, measured alone.
_MEMBERS: dict[str, tuple[str, str]] = {
    "categories": (
        "customer_categories",
        """list_contains($categories, category)
          AND (CAST($bought_since AS TIMESTAMP) IS NULL OR last_bought_at >= $bought_since)""",
    ),
    "products": (
        "customer_products",
        """list_contains($products, product_id)
          AND (CAST($bought_since AS TIMESTAMP) IS NULL OR last_bought_at >= $bought_since)""",
    ),
    "in_campaign": ("campaign_sends", "campaign_id = $in_campaign"),
    "not_campaign": ("campaign_sends", "campaign_id = $not_campaign"),
}


# Whether the row's ``id`` is one of the ``customer_id``s of a ``_MEMBERS`` set:
# by a hash semi-join. Exact whatever happens around it: the bulk writes that
# choose customers inside their own transaction use it (``segment_where`` alone).
_IN_SET = "id IN (SELECT customer_id FROM {table} WHERE {condition})"
# The same test against a bitmap of the set (``SetBits``: bit i for customer id
# i, from 0 to its ceiling) bound as a parameter; an id above the ceiling (a
# customer added since the bitmap was read) is looked up by IN, so the rows are
# those of ``_IN_SET`` as of the bitmap's reading. TRUE or FALSE, never NULL
# (an empty set has no bitmap).
_IN_BITS = """(CASE WHEN id BETWEEN 0 AND ${name}_ceiling
        THEN coalesce(get_bit(CAST(${name}_bits AS BIT), CAST(id AS INTEGER)) = 1, false)
        ELSE id IN (
            SELECT customer_id FROM {table}
            WHERE ({condition}) AND customer_id NOT BETWEEN 0 AND ${name}_ceiling)
        END)"""
# "Bought any of these categories" (at any time) on the row itself: the
# categories' bits of the row's ``category_mask``, kept by crm.facts in the
# transaction that changes the purchases, so exact whatever was written
# since. Counting the 812,922 Coffee buyers of a million customers took 1.8
# ms this way against 9.8 ms by their bitmap.
_IN_MASK = "(category_mask & $categories_mask) <> 0"
# Each product category's bit of ``customers.category_mask`` (NULL without one).
_CATEGORY_BITS = """
    SELECT p.category, b.bit
    FROM (SELECT DISTINCT category FROM products) AS p
    LEFT JOIN category_bits AS b USING (category)
"""
# A set's bitmap, read as a BLOB: ``$ceiling + 1`` is a multiple of 8, so the
# BIT has no padding and casting the BLOB back gives the same bits.
_SET_BITS = """
    SELECT CAST(bitstring_agg(customer_id, 0, $ceiling) AS BLOB)
    FROM {table}
    WHERE ({condition}) AND customer_id BETWEEN 0 AND $ceiling
"""


def _negated(name: str, test: str) -> str:
    return ("NOT " if name == "not_campaign" else "") + test


# Each filter's test, by filter, from the module's own texts only.
_SEMI_JOINS: dict[str, str] = {
    name: _negated(name, _IN_SET.format(table=table, condition=condition))
    for name, (table, condition) in _MEMBERS.items()
}
_BITS_JOINS: dict[str, str] = {
    name: _negated(name, _IN_BITS.format(name=name, table=table, condition=condition))
    for name, (table, condition) in _MEMBERS.items()
}
_BITS_OF: dict[str, str] = {
    name: _SET_BITS.format(table=table, condition=condition)
    for name, (table, condition) in _MEMBERS.items()
}
# Above this ceiling (2^26 ids, an 8 MiB bitmap) the hash semi-join is used.
MAX_BITS_CEILING = (1 << 26) - 1


@dataclass(frozen=True)
class SetBits:
    """One set filter's customers as a bitmap: bit i for customer id i, 0 to ``ceiling``.

    Why: testing a customer's bit is a scan, where a hash semi-join builds a
    table of the set's ids on every query. At 1,000,000 customers (DuckDB
    2.0.1, 2 cores, interleaved) counting the 585,879 members of the largest
    campaign took 44-48 ms by IN against 5.5 ms by their bitmap, which took
    7.7 ms to read; at 5,000,000 customers 258-288 ms against 60 ms (+35 ms).
    The bitmap is bound as a parameter: read inside the statement (a scalar
    subquery, the way tried in session 5) DuckDB copied it along with every
    row once another filter had thinned the rows (460 ms for 80,000 rows).
    """

    bits: bytes | None  # None: nobody up to the ceiling
    ceiling: int
    # Categories only: the chosen categories' bits of ``customers.category_mask``
    # (migration 018), tested on the row instead of a bitmap (``_IN_MASK``).
    mask: int | None = None


SetBitmaps = dict[str, SetBits]

# Bitmaps kept per connection and change count (``db.change_count``): a write by
# any instance changes the count, so a kept bitmap is never older than the last
# write committed before it was asked for. A strong reference to the connection,
# compared by identity, so a new connection never gets an old one's bitmaps.
_KEEP_BITS = 32
_bits_lock = threading.Lock()
_kept_bits: OrderedDict[tuple[int, int, str, str], tuple[Con, SetBits]] = OrderedDict()


def forget_set_bits() -> None:
    """Drop every kept bitmap (benchmarks measure a first reading with it)."""
    with _bits_lock:
        _kept_bits.clear()


def _set_params(name: str, f: CustomerFilter, bought_since: datetime | None) -> dict[str, Any]:
    if name == "categories":
        return {"categories": list(f.categories), "bought_since": bought_since}
    if name == "products":
        return {"products": list(f.products), "bought_since": bought_since}
    return {name: getattr(f, name)}


def _set_names(f: CustomerFilter) -> list[str]:
    chosen = {
        "categories": bool(f.categories),
        "products": bool(f.products),
        "in_campaign": f.in_campaign is not None,
        "not_campaign": f.not_campaign is not None,
    }
    return [name for name, used in chosen.items() if used]


def set_bits(con: Con, f: CustomerFilter, now: datetime | None = None) -> SetBitmaps:
    """The bitmaps of the set filters ``f`` uses (a category, a product, a campaign),
    for ``segment_where(f, now, bits)``: kept until the next write unless they
    depend on the time ("bought in the last N days"), read afresh then. Bought
    categories at any time are bits of the rows' masks instead (``SetBits.mask``)
    when every chosen category has one. Empty when
    ``f`` uses none, when the ids are too high for a bitmap (``MAX_BITS_CEILING``), or
    on MotherDuck."""
    names = _set_names(f)
    # On MotherDuck the statement runs remotely: a bitmap would travel to this
    # process and back with every query, where a semi-join stays over there.
    if not names or slots.is_remote(con):
        return {}
    now = _now(now)
    bought_since = None if f.bought_days is None else now - timedelta(days=f.bought_days)
    cur = con.cursor()
    changes = db.change_count(cur)
    found: SetBitmaps = {}
    ceiling: int | None = None  # read only when a bitmap is not kept
    for name in names:
        params = _set_params(name, f, bought_since)
        lasting = bought_since is None or name not in ("categories", "products")
        key = (id(con), changes, name, repr(sorted(params.items())))
        bits = _kept_set_bits(con, key) if lasting else None
        if bits is None and name == "categories" and bought_since is None:
            bits = _category_mask(cur, f)
            if bits is not None:
                _keep_set_bits(con, key, bits)
        if bits is None:
            if ceiling is None:
                highest = cur.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()
                ceiling = (int(highest[0]) // 8 + 1) * 8 - 1 if highest else 7  # no padding
            if ceiling > MAX_BITS_CEILING:
                return {}
            with slots.scanning(con):
                row = cur.execute(_BITS_OF[name], {**params, "ceiling": ceiling}).fetchone()
            blob = None if not row or row[0] is None else bytes(row[0])
            bits = SetBits(bits=blob, ceiling=ceiling)
            if lasting:
                _keep_set_bits(con, key, bits)
        found[name] = bits
    return found


def category_bits(con: Con) -> dict[str, int | None]:
    """Each product category's bit of the customers' ``category_mask`` (migration 018),
    None for a category the masks do not hold (one beyond bit 63)."""
    rows = con.cursor().execute(_CATEGORY_BITS).fetchall()
    return {str(name): None if bit is None or not 0 <= bit < 64 else int(bit) for name, bit in rows}


def _category_mask(cur: Con, f: CustomerFilter) -> SetBits | None:
    """The chosen categories as bits of the rows' ``category_mask``; None when one of
    them has no bit there (a 65th category): its bitmap is read then. A category no
    product has adds no bit: nobody bought it."""
    known = category_bits(cur)
    mask = 0
    for name in f.categories:
        if name not in known:
            continue
        bit = known[name]
        if bit is None:
            return None
        mask |= 1 << bit
    return SetBits(bits=None, ceiling=-1, mask=mask)


def _kept_set_bits(con: Con, key: tuple[int, int, str, str]) -> SetBits | None:
    with _bits_lock:
        kept = _kept_bits.get(key)
        if kept is None or kept[0] is not con:
            return None
        _kept_bits.move_to_end(key)
        return kept[1]


def _keep_set_bits(con: Con, key: tuple[int, int, str, str], bits: SetBits) -> None:
    with _bits_lock:
        _kept_bits[key] = (con, bits)
        while len(_kept_bits) > _KEEP_BITS:
            _kept_bits.popitem(last=False)


# The columns of a card and of a customer, in the order of their records' fields.
_CARD_COLUMNS = ", ".join(field.name for field in fields(CardRow))
_CUSTOMER_COLUMNS = ", ".join(field.name for field in fields(Customer))


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min)


def _list(values: tuple[Any, ...]) -> list[Any] | None:
    return list(values) if values else None


def segment_where(
    f: CustomerFilter, now: datetime | None = None, bits: SetBitmaps | None = None
) -> tuple[str, dict[str, Any]]:
    """The WHERE condition over ``customers`` for the segment ``f``, and its named parameters.

    For any query over the customers table (unqualified column names): the
    text is ``_SEGMENT_WHERE`` and the semi-joins ``f`` uses, joined by AND.
    A set filter with a bitmap in ``bits`` (``set_bits(con, f, now)``) tests
    the id's bit instead of a hash semi-join (``_BITS_JOINS``).
    """
    now = _now(now)
    since = before = None
    if f.last_visit is LastVisit.WITHIN:
        since = now - timedelta(days=f.last_visit_days)
    elif f.last_visit is LastVisit.OLDER:
        before = now - timedelta(days=f.last_visit_days)
    bought_since = None if f.bought_days is None else now - timedelta(days=f.bought_days)
    bought_items = bool(f.categories or f.products)
    first_to = None if f.first_to is None else f.first_to + timedelta(days=1)
    created_to = None if f.created_to is None else f.created_to + timedelta(days=1)
    engaged = None if f.engaged_days is None else now - timedelta(days=f.engaged_days)
    params: dict[str, Any] = {
        "term": f.search.strip().lower() or None,
        "term_sig": search.signature(f.search.strip().lower()),
        "min_spending": f.min_spending,
        "max_spending": f.max_spending,
        "min_visits": f.min_visits,
        "max_visits": f.max_visits,
        "since": since,
        "before": before,
        "never": f.last_visit is LastVisit.NEVER,
        "countries": _list(f.countries),
        "states": _list(f.states),
        "cities": _list(f.cities),
        # "Bought in the last N days" without categories or products: any order.
        "ordered_since": None if bought_items else bought_since,
        "min_orders": f.min_orders,
        "max_orders": f.max_orders,
        "min_aov": f.min_aov,
        "max_aov": f.max_aov,
        "first_from": _day_start(f.first_from),
        "first_before": _day_start(first_to),
        "created_from": _day_start(f.created_from),
        "created_before": _day_start(created_to),
        "engaged_since": engaged,
        "never_opened": f.never_opened,
        "rfm_groups": _list(f.rfm_groups),
        "rhythm_statuses": _list(f.rhythm),
        **scores.rhythm_params(now.date()),
    }
    clauses = [_SEGMENT_WHERE]
    bits = bits or {}
    for name in _set_names(f):
        if name in bits and bits[name].mask is not None:
            clauses.append(_IN_MASK)
            params["categories_mask"] = bits[name].mask
            continue
        params.update(_set_params(name, f, bought_since))
        if name in bits:
            clauses.append(_BITS_JOINS[name])
            params[f"{name}_bits"] = bits[name].bits
            params[f"{name}_ceiling"] = bits[name].ceiling
        else:
            clauses.append(_SEMI_JOINS[name])
    # Marketing consent: a condition on the row, added only when set (as above).
    consent_where, consent_params = consent.segment_conditions(f.email_consent, f.sms_consent)
    if consent_where:
        clauses.append(consent_where)
        params.update(consent_params)
    return "\n    AND ".join(clauses), params


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now()


def customer_page(con: Con, f: CustomerFilter, now: datetime | None = None) -> CustomerPage:
    """One page of the segment ``f``, sorted as it asks, with the whole segment's totals.

    One statement and one pass over the customers: the matches are kept
    narrow (the columns the sort and the totals need), counted and summed,
    and only the 24 ids of the page come back for their wide card columns
    (avatars included). At a million customers a search then scans the text
    once instead of twice.

    The matches are kept (MATERIALIZED) unless the sort is by name with no
    search: keeping a million names cost more (43 ms) than reading them twice
    (25 ms), while a search keeps few rows and saves a second text scan. Nor
    are they kept for everyone (no filter): reading the columns twice took
    32 ms against 80 ms keeping 5,000,000 rows (13 against 17 ms at 1M).
    Filters that test lists, sets or several columns gain from keeping
    (a country at 1M: 18 against 23 ms). Ranges of spending, visits and the
    last visit alone are not kept either: a cheap test whose matches are many
    is cheaper read twice than kept (5M customers, interleaved, 15 runs each:
    visited in 30 days 40.5 against 44.5 ms, lapsed 90+ days 46.5 against
    51.4, a spending range 32.1 against 34.0, a visits range 29.1 against 32.0;
    the same at 1M within 0.5 ms). "Never visited" keeps (26.9 against 35.3).
    """
    order_by = _ORDER_BY[(f.sort, f.descending)]
    where, where_params = segment_where(f, now, set_bits(con, f, now))
    page = max(f.page, 1)
    by_name_alone = f.sort is SortKey.NAME and not f.search.strip()
    read_twice = by_name_alone or not segments.is_filtered(f) or _ranges_alone(f)
    keep = "NOT MATERIALIZED" if read_twice else "MATERIALIZED"
    sql = f"""
        WITH matches AS {keep} (
            SELECT id, total_spending, visit_count{_SORT_COLUMNS[f.sort]}
            FROM customers
            WHERE {where}
        ), totals AS (
            SELECT count(*) AS matched_customers,
                   coalesce(sum(total_spending), 0) AS matched_spending,
                   coalesce(sum(visit_count), 0) AS matched_visits
            FROM matches
        ), page AS (
            SELECT id FROM matches ORDER BY {order_by} LIMIT $limit OFFSET $offset
        )
        SELECT totals.*, card.*
        FROM totals LEFT JOIN (
            SELECT {_CARD_COLUMNS} FROM customers WHERE id IN (SELECT id FROM page)
        ) AS card ON TRUE
        ORDER BY {order_by}
    """  # noqa: S608 - only allow-listed fragments are formatted in
    params = {
        **where_params,
        "limit": f.page_size,
        "offset": (page - 1) * f.page_size,
    }
    with slots.scanning(con):
        rows = con.cursor().execute(sql, params).fetchall()
    matched, spending, visits = rows[0][:3]
    totals = SegmentTotals(customers=int(matched), spending=Decimal(spending), visits=int(visits))
    # An empty page still has its totals row, with NULL card columns.
    cards = tuple(CardRow(*row[3:]) for row in rows if row[3] is not None)
    return CustomerPage(rows=cards, totals=totals)


def _ranges_alone(f: CustomerFilter) -> bool:
    """Whether ``f`` filters only by ranges of spending, visits or the last visit's age
    (not "never visited")."""
    if f.last_visit not in (LastVisit.ANY, LastVisit.WITHIN, LastVisit.OLDER):
        return False
    rest = replace(
        f,
        min_spending=None,
        max_spending=None,
        min_visits=None,
        max_visits=None,
        last_visit=LastVisit.ANY,
    )
    return not segments.is_filtered(rest)


def count_all_customers(con: Con) -> int:
    row = con.cursor().execute("SELECT count(*) FROM customers").fetchone()
    return int(row[0]) if row else 0


def customer_ranges(con: Con) -> CustomerRanges:
    """How many customers there are and the ranges of their spending and visits
    (the ends of the filter sliders), from one scan."""
    row = (
        con.cursor()
        .execute(
            """
            SELECT count(*),
                   coalesce(min(total_spending), 0), coalesce(max(total_spending), 0),
                   coalesce(min(visit_count), 0), coalesce(max(visit_count), 0)
            FROM customers
            """
        )
        .fetchone()
    )
    assert row is not None
    return CustomerRanges(
        customers=int(row[0]),
        spending=(Decimal(row[1]), Decimal(row[2])),
        visits=(int(row[3]), int(row[4])),
    )


def get_customer(con: Con, customer_id: int) -> Customer | None:
    """One customer by id, or None when there is no such customer."""
    row = (
        con.cursor()
        .execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = $id",  # noqa: S608 - field names
            {"id": customer_id},
        )
        .fetchone()
    )
    if row is None:
        return None
    return Customer(*row)


def order_rows(con: Con, customer_id: int) -> list[OrderRow]:
    """The customer's orders as (id, ordered_at, amount)."""
    rows = (
        con.cursor()
        .execute("SELECT id, ordered_at, amount FROM orders WHERE customer_id = ?", [customer_id])
        .fetchall()
    )
    return [OrderRow(*row) for row in rows]


def line_rows(con: Con, customer_id: int) -> list[LineRow]:
    """The customer's order lines as (order_id, product, category, quantity, unit_price).

    Products are named from ``crm.catalogue`` rather than joined (see there why).
    """
    rows = (
        con.cursor()
        .execute(
            "SELECT order_id, product_id, quantity, unit_price"
            " FROM order_items WHERE customer_id = ?",
            [customer_id],
        )
        .fetchall()
    )
    products = catalogue.catalogue(con, products={row[1] for row in rows}).products
    return [
        LineRow(order_id, *products[product_id], quantity, unit_price)
        for order_id, product_id, quantity, unit_price in rows
        # A line of a product that no longer exists is left out, as a join would.
        if product_id in products
    ]


def order_lines(con: Con, customer_id: int, order_id: int) -> pd.DataFrame:
    """The lines of one of the customer's orders (another customer's order gives none)."""
    return (
        con.cursor()
        .execute(
            """
            SELECT p.name AS product, p.category, i.quantity, i.unit_price,
                   i.quantity * i.unit_price AS line_total
            FROM order_items i JOIN products p ON p.id = i.product_id
            WHERE i.customer_id = ? AND i.order_id = ?
            ORDER BY p.name
            """,
            [customer_id, order_id],
        )
        .df()
    )


def campaign_history(con: Con, customer_id: int) -> pd.DataFrame:
    """Campaign sends and personalised messages for the customer, newest first.

    ``kind`` is "Campaign" or "Message"; a queued send has no ``sent_at`` yet
    and sorts first; equal times sort by campaign name. Campaigns are named
    from ``crm.catalogue`` rather than joined (see there why), so the order is
    set here.
    """
    rows = (
        con.cursor()
        .execute(
            """
            SELECT 'Campaign' AS kind, NULL AS subject, NULL AS channel, s.sent_at,
                   s.status, s.opens, s.clicks, s.campaign_id, NULL AS body, s.failure_reason,
                   s.added_by AS done_by
            FROM campaign_sends s
            WHERE s.customer_id = ?
            UNION ALL
            SELECT 'Message', coalesce(nullif(m.subject, ''), 'Personal message'), m.channel,
                   coalesce(m.delivered_at, m.sent_at), m.status, 0, 0, NULL, m.body,
                   m.failure_reason, m.sent_by
            FROM messages m
            WHERE m.customer_id = ?
            """,
            [customer_id, customer_id],
        )
        .fetchall()
    )
    sent = {row[7] for row in rows if row[7] is not None}
    campaigns = catalogue.catalogue(con, campaigns=sent).campaigns
    history = [
        (kind, *campaigns[campaign_id], *rest, campaign_id, body, reason, by)
        if kind == "Campaign"
        else (kind, label, channel, *rest, campaign_id, body, reason, by)
        for kind, label, channel, *rest, campaign_id, body, reason, by in rows
        # A send of a campaign that no longer exists is left out, as a join would.
        if kind != "Campaign" or campaign_id in campaigns
    ]
    # Two stable sorts: by name, then newest first with the unsent (no time) first.
    history.sort(key=lambda row: row[1])
    history.sort(key=lambda row: (row[3] is None, row[3] or datetime.min), reverse=True)
    return typed_frame(history, HISTORY_COLUMNS)


HISTORY_COLUMNS = {
    "kind": "str",
    "campaign": "str",
    "channel": "str",
    "sent_at": "datetime64[us]",
    "status": "str",
    "opens": "int32",
    "clicks": "int32",
    "campaign_id": "Int64",
    "body": "str",
    # Why a send or message failed (the server's words), else missing.
    "failure_reason": "str",
    # Who added the customer to the campaign, or sent the message (signed in).
    "by": "str",
}


def rates_from_history(history: pd.DataFrame) -> CampaignRates:
    """The rates of the campaign sends in a ``campaign_history`` frame.

    Rates count only sends that were attempted (delivered or failed); open and
    click rates are per delivered send. A rate is None when nothing was
    attempted. Counted here rather than in SQL because the page already holds
    the history: one customer has a few dozen sends at most. Plain Python over
    the columns: ten pandas masks and sums took ~4 ms for those few rows.
    """
    columns = (history[name].tolist() for name in ("kind", "status", "opens", "clicks"))
    sends = [(s, o, c) for kind, s, o, c in zip(*columns, strict=True) if kind == "Campaign"]
    statuses = [status for status, _, _ in sends]
    delivered = statuses.count("Delivered")
    failed = statuses.count("Failed")
    queued = statuses.count("Queued")
    opened = sum(1 for s, opens, _ in sends if s == "Delivered" and opens > 0)
    clicked = sum(1 for s, _, clicks in sends if s == "Delivered" and clicks > 0)
    attempted = delivered + failed
    return CampaignRates(
        sends=len(sends),
        delivered=delivered,
        failed=failed,
        queued=queued,
        opened=opened,
        clicked=clicked,
        success_rate=delivered / attempted if attempted else None,
        failure_rate=failed / attempted if attempted else None,
        open_rate=opened / delivered if delivered else None,
        click_rate=clicked / delivered if delivered else None,
    )


def customer_campaign_ids(con: Con, customer_id: int) -> set[int]:
    """Ids of the campaigns the customer is already in."""
    rows = (
        con.cursor()
        .execute("SELECT campaign_id FROM campaign_sends WHERE customer_id = ?", [customer_id])
        .fetchall()
    )
    return {int(r[0]) for r in rows}


def campaign_choices(con: Con) -> list[tuple[int, str, str, datetime, int]]:
    """Every campaign, newest first, as (id, name, channel, created_at, sent), where
    ``sent`` counts its sends that went out (delivered or failed: not queued, being
    sent or held out as control)."""
    rows = (
        con.cursor()
        .execute(
            """
            SELECT c.id, c.name, c.channel, c.created_at,
                   count(s.id) FILTER (WHERE s.status IN ('Delivered', 'Failed')) AS sent
            FROM campaigns c
            LEFT JOIN campaign_sends s ON s.campaign_id = c.id
            GROUP BY c.id, c.name, c.channel, c.created_at
            ORDER BY c.created_at DESC, c.id DESC
            """
        )
        .fetchall()
    )
    return [(int(i), str(n), str(ch), created, int(sent)) for i, n, ch, created, sent in rows]


def count_segment(con: Con, f: CustomerFilter, now: datetime | None = None) -> int:
    """How many customers the segment ``f`` holds (a saved segment's live size).

    The overview's own predicate, so a saved segment counts what opening it
    shows; no sums and no page, so DuckDB keeps nothing but the count.
    """
    where, params = segment_where(f, now, set_bits(con, f, now))
    sql = f"SELECT count(*) FROM customers WHERE {where}"  # noqa: S608 - allow-listed text
    with slots.scanning(con):
        row = con.cursor().execute(sql, params).fetchone()
    return int(row[0]) if row else 0


# --- Choices of the segment builder's location filter -----------------------------


def country_counts(con: Con) -> list[tuple[str, int]]:
    """Every country customers live in, with how many, most first."""
    rows = (
        con.cursor()
        .execute(
            "SELECT country, count(*) AS n FROM customers WHERE country <> ''"
            " GROUP BY country ORDER BY n DESC, country"
        )
        .fetchall()
    )
    return [(str(country), int(n)) for country, n in rows]


def state_counts(con: Con, countries: list[str]) -> list[tuple[str, int]]:
    """The states or regions of those countries, with how many customers, most first."""
    rows = (
        con.cursor()
        .execute(
            "SELECT state, count(*) AS n FROM customers"
            " WHERE list_contains($countries, country) AND state <> ''"
            " GROUP BY state ORDER BY n DESC, state",
            {"countries": countries},
        )
        .fetchall()
    )
    return [(str(state), int(n)) for state, n in rows]


def city_counts(con: Con, countries: list[str], states: list[str]) -> list[tuple[str, int]]:
    """The cities of those countries (and of those states, if any), with how many customers."""
    rows = (
        con.cursor()
        .execute(
            "SELECT city, count(*) AS n FROM customers"
            " WHERE list_contains($countries, country) AND city <> ''"
            " AND (len($states) = 0 OR list_contains($states, state))"
            " GROUP BY city ORDER BY n DESC, city",
            {"countries": countries, "states": states},
        )
        .fetchall()
    )
    return [(str(city), int(n)) for city, n in rows]
