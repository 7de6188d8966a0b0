"""The segment's set filters tested against a bitmap of ids (``set_bits``, bound
into ``segment_where``) give the very customers brute force finds, whatever the
bitmap's ceiling: the highest id, one below most ids (those above it are looked
up by IN), the first byte only, and for sets that are empty (a campaign nobody
is in). Kept bitmaps are read again after any write."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from crm import facts, queries, slots, writes
from crm.models import CustomerFilter, OrderCreate, OrderItemCreate

NOW = datetime.now()
Con = duckdb.DuckDBPyConnection


def _ids(con: Con, sql: str, params: dict[str, object] | None = None) -> set[int]:
    return {int(row[0]) for row in con.execute(sql, params or {}).fetchall()}


def _segment(con: Con, f: CustomerFilter, bits: queries.SetBitmaps | None) -> set[int]:
    where, params = queries.segment_where(f, NOW, bits)
    kinds = [b.mask is None for b in (bits or {}).values()]
    assert ("get_bit" in where) == any(kinds)
    assert ("category_mask" in where) == (not all(kinds))
    return _ids(con, f"SELECT id FROM customers WHERE {where}", params)


def _lower(bits: queries.SetBits, size: int) -> queries.SetBits:
    """The same set's bitmap up to a lower ceiling: its first ``size`` bytes (bit i
    is customer id i, eight to a byte, no padding)."""
    kept = None if bits.bits is None else bits.bits[:size]
    return queries.SetBits(bits=kept, ceiling=size * 8 - 1)


def _variants(con: Con, f: CustomerFilter) -> list[queries.SetBitmaps | None]:
    """No bitmap (the hash semi-join), the bitmap read now, and lower ceilings:
    about half the ids, then only ids 0-7 (every customer looked up by IN)."""
    full = queries.set_bits(con, f, NOW)
    masked = []
    if f.categories and f.bought_days is None:
        # Categories bought at any time are bits of the rows' masks; their bitmap
        # is the one of "in the last 100 years" (every order of the seeded data).
        assert all(b.mask is not None for b in full.values())
        masked = [full]
        full = queries.set_bits(con, replace(f, bought_days=36_500), NOW)
    assert all(b.mask is None for b in full.values())
    highest = max(_ids(con, "SELECT id FROM customers"))
    assert full and all(b.ceiling >= highest for b in full.values())
    half = (next(iter(full.values())).ceiling + 1) // 16
    return [
        None,
        *masked,
        full,
        {name: _lower(b, half) for name, b in full.items()},
        {name: _lower(b, 1) for name, b in full.items()},
    ]


def _bought(con: Con, column: str, values: list[object], days: int | None = None) -> set[int]:
    """Customers with an order line of those categories or products (from the raw
    order lines, not the per-customer facts), within ``days`` if given."""
    since = NOW - timedelta(days=days) if days is not None else datetime(1900, 1, 1)
    return _ids(
        con,
        f"""SELECT DISTINCT i.customer_id FROM order_items i
            JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
            WHERE list_contains($values, p.{column}) AND o.ordered_at >= $since""",
        {"values": values, "since": since},
    )


def test_bought_categories_and_products(con: Con) -> None:
    everyone = _ids(con, "SELECT id FROM customers")
    (category,) = con.execute(
        "SELECT p.category FROM order_items i JOIN products p ON p.id = i.product_id"
        " GROUP BY 1 ORDER BY count(DISTINCT i.customer_id) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (product,) = con.execute(
        "SELECT product_id FROM order_items GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (other,) = con.execute(
        "SELECT category FROM products WHERE category <> $c LIMIT 1", {"c": category}
    ).fetchone()  # type: ignore[misc]
    both = [category, other]
    cases = [
        (CustomerFilter(categories=(category,)), _bought(con, "category", [category])),
        (CustomerFilter(categories=tuple(both)), _bought(con, "category", both)),
        (
            CustomerFilter(categories=(category,), bought_days=60),
            _bought(con, "category", [category], days=60),
        ),
        (CustomerFilter(products=(product,)), _bought(con, "id", [product])),
    ]
    for f, expected in cases:
        assert 0 < len(expected) < len(everyone)
        for bits in _variants(con, f):
            assert _segment(con, f, bits) == expected, (f, bits and bits.keys())


def test_a_category_without_a_bit_is_read_as_a_bitmap(con: Con) -> None:
    """Past 64 categories the masks cannot hold one: its bitmap is read instead. A
    category no product has finds nobody."""
    known = con.execute("SELECT count(*) FROM category_bits").fetchone()
    assert known is not None
    names = [f"Extra {n}" for n in range(65 - int(known[0]))]
    for name in names:
        con.execute(
            "INSERT INTO products (name, category, price) VALUES ($name, $name, 1)",
            {"name": name},
        )
    facts.assign_category_bits(con)
    (last,) = con.execute("SELECT category FROM category_bits WHERE bit = 64").fetchone()  # type: ignore[misc]
    (product,) = con.execute("SELECT id FROM products WHERE category = $c", {"c": last}).fetchone()  # type: ignore[misc]
    item = OrderItemCreate(product_id=int(product), quantity=1, unit_price=Decimal(1))
    writes.add_order(con, 1, OrderCreate(ordered_at=NOW - timedelta(days=1), items=[item]))
    f = CustomerFilter(categories=(last,))
    bits = queries.set_bits(con, f, NOW)
    assert bits["categories"].mask is None
    assert _segment(con, f, bits) == {1} == _bought(con, "category", [last])
    nothing = CustomerFilter(categories=("No product has this",))
    bits = queries.set_bits(con, nothing, NOW)
    assert bits["categories"].mask == 0
    assert _segment(con, nothing, bits) == set()


def test_in_and_not_in_a_campaign(con: Con) -> None:
    everyone = _ids(con, "SELECT id FROM customers")
    (campaign,) = con.execute(
        "SELECT campaign_id FROM campaign_sends GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    members = _ids(con, "SELECT customer_id FROM campaign_sends WHERE campaign_id = ?", [campaign])
    assert 0 < len(members) < len(everyone)
    nobody = int(con.execute("SELECT max(id) + 1 FROM campaigns").fetchone()[0])  # type: ignore[index]
    cases = [
        (CustomerFilter(in_campaign=campaign), members),
        (CustomerFilter(not_campaign=campaign), everyone - members),
        # An empty set: it has no bitmap, yet "not in it" is everyone.
        (CustomerFilter(in_campaign=nobody), set()),
        (CustomerFilter(not_campaign=nobody), everyone),
    ]
    for f, expected in cases:
        for bits in _variants(con, f):
            assert _segment(con, f, bits) == expected, (f, bits and bits.keys())
    assert (
        queries.set_bits(con, CustomerFilter(in_campaign=nobody), NOW)["in_campaign"].bits is None
    )


def test_a_customer_added_after_the_ceiling_was_read(con: Con) -> None:
    """A bitmap read before a customer was added (ids above its ceiling) still finds them."""
    (customer,) = con.execute(
        "SELECT customer_id FROM campaign_sends ORDER BY customer_id LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    (campaign,) = con.execute(
        "SELECT campaign_id FROM campaign_sends WHERE customer_id = ? LIMIT 1", [customer]
    ).fetchone()  # type: ignore[misc]
    before = queries.set_bits(con, CustomerFilter(in_campaign=campaign), NOW)
    newer = before["in_campaign"].ceiling + 10
    con.execute(
        "INSERT INTO customers"
        " SELECT * REPLACE ($newer AS id, $email AS email, $email AS email_key)"
        " FROM customers WHERE id = $old",
        {"newer": newer, "email": f"bitmap-{newer}@example.com", "old": customer},
    )
    con.execute(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status)"
        " VALUES ($campaign, $newer, 'Queued')",
        {"campaign": campaign, "newer": newer},
    )
    found = _segment(con, CustomerFilter(in_campaign=campaign), before)
    assert newer in found
    assert found == _segment(con, CustomerFilter(in_campaign=campaign), None)
    stale_not = {"not_campaign": before["in_campaign"]}
    assert newer not in _segment(con, CustomerFilter(not_campaign=campaign), stale_not)


def test_kept_bitmaps_are_read_again_after_a_write(con: Con) -> None:
    """The overview's count follows a write at once: a kept bitmap belongs to the
    change count it was read at (any instance's write changes it)."""
    (campaign,) = con.execute(
        "SELECT campaign_id FROM campaign_sends JOIN campaigns c ON c.id = campaign_id"
        " WHERE c.channel = 'Email' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    f = CustomerFilter(in_campaign=campaign)
    first = queries.set_bits(con, f, NOW)
    assert queries.set_bits(con, f, NOW) is not first  # a new dict each time…
    assert queries.set_bits(con, f, NOW)["in_campaign"] is first["in_campaign"]  # …of kept bits
    (outsider,) = con.execute(
        """SELECT id FROM customers
           WHERE email_consent = 'Subscribed'
             AND id NOT IN (SELECT customer_id FROM campaign_sends WHERE campaign_id = $c)
           ORDER BY id LIMIT 1""",
        {"c": campaign},
    ).fetchone()  # type: ignore[misc]
    counted = queries.count_segment(con, f, NOW)
    writes.add_to_campaign(con, campaign, outsider)
    assert queries.set_bits(con, f, NOW)["in_campaign"] is not first["in_campaign"]
    assert queries.count_segment(con, f, NOW) == counted + 1
    assert queries.customer_page(con, f, NOW).totals.customers == counted + 1


def test_no_bitmap_on_motherduck(con: Con, monkeypatch: pytest.MonkeyPatch) -> None:
    """A MotherDuck connection runs the statement remotely: the segment keeps its
    semi-join there rather than shipping a bitmap with every query."""
    f = CustomerFilter(in_campaign=1)
    assert queries.set_bits(con, f, NOW)
    monkeypatch.setattr(slots, "_remote", {id(con)})
    assert queries.set_bits(con, f, NOW) == {}
    where, _ = queries.segment_where(f, NOW, queries.set_bits(con, f, NOW))
    assert "get_bit" not in where
