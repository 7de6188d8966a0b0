"""The segment builder's filters (issue 9) against brute force over the raw tables.

Every filter's customers are computed again in pandas from orders,
order_items, products, campaign_sends and the customer columns a person
typed (country, created_at), never from the stored facts the query reads;
then the facts are checked to follow order and send writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pandas as pd
import pytest

from crm import db, queries, writes
from crm.models import CampaignCreate, CustomerFilter, OrderCreate, OrderItemCreate
from crm.scores import NO_ORDERS, ONE_ORDER

NOW = datetime.now()
TODAY = NOW.date()
Con = duckdb.DuckDBPyConnection


class Raw:
    """The seeded database's raw tables as frames."""

    def __init__(self, con: Con) -> None:
        self.customers = con.execute(
            "SELECT id, country, state, city, created_at, rfm_group FROM customers"
        ).df()
        self.orders = con.execute("SELECT id, customer_id, ordered_at, amount FROM orders").df()
        self.lines = con.execute(
            "SELECT i.order_id, i.customer_id, i.product_id, p.category"
            " FROM order_items i JOIN products p ON p.id = i.product_id"
        ).df()
        self.sends = con.execute(
            "SELECT campaign_id, customer_id, sent_at, status, opens, clicks FROM campaign_sends"
        ).df()

    @property
    def everyone(self) -> set[int]:
        return set(self.customers["id"].tolist())

    def bought(self, column: str, values: list[object], days: int | None = None) -> set[int]:
        lines = self.lines[self.lines[column].isin(values)].merge(
            self.orders[["id", "ordered_at"]], left_on="order_id", right_on="id"
        )
        if days is not None:
            lines = lines[lines["ordered_at"] >= NOW - timedelta(days=days)]
        return set(lines["customer_id"].tolist())

    def order_stats(self) -> pd.DataFrame:
        stats = self.orders.groupby("customer_id").agg(
            n=("id", "count"),
            total=("amount", "sum"),
            first=("ordered_at", "min"),
            last=("ordered_at", "max"),
        )
        return self.customers[["id"]].merge(stats, left_on="id", right_index=True, how="left")


def _segment(con: Con, f: CustomerFilter) -> set[int]:
    """Every customer of the segment, through the page query (one page holds them all)."""
    page = queries.customer_page(con, replace(f, page_size=100_000), now=NOW)
    ids = {row.id for row in page.rows}
    assert page.totals.customers == len(ids) == queries.count_segment(con, f, now=NOW)
    return ids


@pytest.fixture
def raw(con: Con) -> Raw:
    return Raw(con)


def _most_common(series: pd.Series, k: int) -> list[str]:
    return [str(v) for v in series.value_counts().index[:k]]


def test_location_filters(con: Con, raw: Raw) -> None:
    countries = _most_common(raw.customers["country"], 2)
    expected = set(raw.customers[raw.customers["country"].isin(countries)]["id"])
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(countries=tuple(countries))) == expected
    in_first = raw.customers[raw.customers["country"] == countries[0]]
    state = _most_common(in_first["state"], 1)
    city = _most_common(in_first["city"], 1)
    f = CustomerFilter(countries=(countries[0],), states=tuple(state))
    assert _segment(con, f) == set(in_first[in_first["state"].isin(state)]["id"])
    f = CustomerFilter(countries=(countries[0],), cities=tuple(city))
    assert _segment(con, f) == set(in_first[in_first["city"].isin(city)]["id"])


def test_category_and_product_filters(con: Con, raw: Raw) -> None:
    categories = _most_common(raw.lines["category"], 10)[-2:]  # two of the rarer ones
    expected = raw.bought("category", categories)
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(categories=tuple(categories))) == expected
    recent = raw.bought("category", categories, days=60)
    assert 0 < len(recent) < len(expected)
    assert _segment(con, CustomerFilter(categories=tuple(categories), bought_days=60)) == recent
    products = [int(p) for p in raw.lines["product_id"].value_counts().index[:2]]
    expected = raw.bought("product_id", products)
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(products=tuple(products))) == expected
    assert _segment(con, CustomerFilter(products=tuple(products), bought_days=90)) == (
        raw.bought("product_id", products, days=90)
    )


def test_bought_in_the_last_days_alone_is_any_order(con: Con, raw: Raw) -> None:
    recent = raw.orders[raw.orders["ordered_at"] >= NOW - timedelta(days=45)]
    expected = set(recent["customer_id"].tolist())
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(bought_days=45)) == expected


def test_order_count_and_average_order_value(con: Con, raw: Raw) -> None:
    stats = raw.order_stats()
    n = stats["n"].fillna(0)
    expected = set(stats[(n >= 3) & (n <= 6)]["id"])
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(min_orders=3, max_orders=6)) == expected
    with_orders = stats[stats["n"] > 0]
    aov = with_orders["total"].astype(float) / with_orders["n"]
    low, high = aov.quantile(0.25), aov.quantile(0.75)
    low, high = round(float(low), 2), round(float(high), 2)
    expected = set(with_orders[(aov >= low - 1e-9) & (aov <= high + 1e-9)]["id"])
    assert 0 < len(expected) < len(with_orders)
    assert _segment(con, CustomerFilter(min_aov=low, max_aov=high)) == expected
    assert _segment(con, CustomerFilter(max_orders=0)) == set(stats[stats["n"].isna()]["id"])


def test_customer_since(con: Con, raw: Raw) -> None:
    stats = raw.order_stats()
    first = stats["first"].dropna().sort_values()
    start, end = first.iloc[len(first) // 4].date(), first.iloc[len(first) // 2].date()
    dates = stats["first"].dt.date
    expected = set(stats[(dates >= start) & (dates <= end)]["id"])
    assert 0 < len(expected) < len(raw.everyone)
    assert _segment(con, CustomerFilter(first_from=start, first_to=end)) == expected
    # Record creation: give a few customers older dates, then filter on them.
    ids = sorted(raw.everyone)[:5]
    con.execute(
        "UPDATE customers SET created_at = TIMESTAMP '2020-03-10 18:30:00'"
        " + to_days(CAST(id % 3 AS INTEGER)) WHERE list_contains(?, id)",
        [ids],
    )
    created = Raw(con).customers
    day = created["created_at"].dt.date
    expected = set(created[(day >= date(2020, 3, 10)) & (day <= date(2020, 3, 11))]["id"])
    assert 0 < len(expected) < 5
    f = CustomerFilter(created_from=date(2020, 3, 10), created_to=date(2020, 3, 11))
    assert _segment(con, f) == expected


def test_campaign_membership(con: Con, raw: Raw) -> None:
    campaign = int(raw.sends["campaign_id"].value_counts().index[0])
    members = set(raw.sends[raw.sends["campaign_id"] == campaign]["customer_id"])
    assert 0 < len(members) < len(raw.everyone)
    assert _segment(con, CustomerFilter(in_campaign=campaign)) == members
    assert _segment(con, CustomerFilter(not_campaign=campaign)) == raw.everyone - members


def test_engagement(con: Con, raw: Raw) -> None:
    sends = raw.sends
    engaged = sends[((sends["opens"] > 0) | (sends["clicks"] > 0))]
    recent = set(engaged[engaged["sent_at"] >= NOW - timedelta(days=90)]["customer_id"])
    assert 0 < len(recent) < len(raw.everyone)
    assert _segment(con, CustomerFilter(engaged_days=90)) == recent
    delivered = sends[sends["status"] == "Delivered"]
    per = delivered.groupby("customer_id").agg(
        sent=("opens", "size"), opened=("opens", lambda s: int((s > 0).sum()))
    )
    never = set(per[(per["sent"] >= 3) & (per["opened"] == 0)].index)
    assert never
    assert _segment(con, CustomerFilter(never_opened=True)) == never


def _rhythm(dates: list[datetime]) -> str:
    """The buying-rhythm status, worked out from the order dates alone."""
    if not dates:
        return NO_ORDERS
    if len(dates) == 1:
        return ONE_ORDER
    first, last = min(dates).date(), max(dates).date()
    span = Decimal((last - first).days) / (len(dates) - 1)
    gap = max(1, int(span.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    late = (TODAY - (last + timedelta(days=gap))).days
    if late <= 0:
        return "On track"
    if 2 * late <= gap:
        return "Due"
    if late <= 2 * gap:
        return "Overdue"
    return "Lapsed"


def test_score_filters(con: Con, raw: Raw) -> None:
    groups = _most_common(raw.customers["rfm_group"].fillna(NO_ORDERS), 2)
    stored = raw.customers["rfm_group"].fillna(NO_ORDERS)
    expected = set(raw.customers[stored.isin(groups)]["id"])
    assert _segment(con, CustomerFilter(rfm_groups=tuple(groups))) == expected
    by_customer = raw.orders.groupby("customer_id")["ordered_at"].apply(list).to_dict()
    status = {cid: _rhythm(by_customer.get(cid, [])) for cid in raw.everyone}
    for wanted in (("Lapsed", "Overdue"), (ONE_ORDER,), ("On track", "Due")):
        expected = {cid for cid, s in status.items() if s in wanted}
        assert _segment(con, CustomerFilter(rhythm=wanted)) == expected


def test_combinations(con: Con, raw: Raw) -> None:
    country = _most_common(raw.customers["country"], 1)
    category = _most_common(raw.lines["category"], 3)[-1:]
    in_country = set(raw.customers[raw.customers["country"].isin(country)]["id"])
    expected = in_country & raw.bought("category", category)
    assert 0 < len(expected) < len(in_country)
    f = CustomerFilter(countries=tuple(country), categories=tuple(category))
    assert _segment(con, f) == expected
    stats = raw.order_stats()
    many = set(stats[stats["n"].fillna(0) >= 4]["id"])
    campaign = int(raw.sends["campaign_id"].value_counts().index[0])
    members = set(raw.sends[raw.sends["campaign_id"] == campaign]["customer_id"])
    f = CustomerFilter(countries=tuple(country), min_orders=4, not_campaign=campaign)
    assert _segment(con, f) == (in_country & many) - members


def _order(when: datetime, product_id: int) -> OrderCreate:
    return OrderCreate(
        ordered_at=when,
        items=[OrderItemCreate(product_id=product_id, quantity=1, unit_price=Decimal("3.50"))],
    )


Facts = tuple[
    set[tuple[object, ...]], set[tuple[object, ...]], dict[int, int], set[tuple[object, ...]]
]


def _facts_from_raw(con: Con) -> Facts:
    """The pairs from the order lines, and each customer's category mask: bit
    ``category_bits.bit`` (the one table that only assigns, never derives) for each
    category among their lines."""
    raw = Raw(con)
    lines = raw.lines.merge(raw.orders[["id", "ordered_at"]], left_on="order_id", right_on="id")
    products = lines.groupby(["customer_id", "product_id"])["ordered_at"].max()
    categories = lines.groupby(["customer_id", "category"])["ordered_at"].max()
    bit_of = dict(con.execute("SELECT category, bit FROM category_bits").fetchall())
    masks = dict.fromkeys(raw.everyone, 0)
    for (customer, category), _ in categories.items():
        masks[int(customer)] |= 1 << bit_of[category]
    # Each customer's orders per month (month index year * 12 + month - 1).
    orders = raw.orders.assign(
        month=raw.orders["ordered_at"].dt.year * 12 + raw.orders["ordered_at"].dt.month - 1
    )
    months = orders.groupby(["customer_id", "month"])["amount"].agg(["sum", "count"])
    return (
        {(int(c), int(p), t.to_pydatetime()) for (c, p), t in products.items()},
        {(int(c), str(k), t.to_pydatetime()) for (c, k), t in categories.items()},
        masks,
        {
            (int(c), int(m), Decimal(str(round(a, 2))), int(n))
            for (c, m), (a, n) in months.iterrows()
        },
    )


def _stored_facts(con: Con) -> Facts:
    return (
        set(con.execute("SELECT * FROM customer_products").fetchall()),
        set(con.execute("SELECT * FROM customer_categories").fetchall()),
        dict(con.execute("SELECT id, category_mask FROM customers").fetchall()),
        set(con.execute("SELECT * FROM customer_months").fetchall()),
    )


def test_every_category_has_its_own_bit(con: Con) -> None:
    bits = dict(con.execute("SELECT category, bit FROM category_bits").fetchall())
    categories = {row[0] for row in con.execute("SELECT category FROM products").fetchall()}
    assert set(bits) == categories
    assert sorted(bits.values()) == list(range(len(categories)))


def test_purchase_facts_follow_order_writes(con: Con, raw: Raw) -> None:
    assert _stored_facts(con) == _facts_from_raw(con)  # as seeded
    assert 0 in _stored_facts(con)[2].values()  # some never ordered
    unbought = con.execute(
        "SELECT p.id, p.category FROM products p WHERE p.category NOT IN"
        " (SELECT category FROM customer_categories WHERE customer_id = 5) LIMIT 1"
    ).fetchone()
    assert unbought is not None
    product, category = int(unbought[0]), str(unbought[1])
    only = CustomerFilter(categories=(category,), bought_days=3)
    before = _segment(con, only)
    order_id = writes.add_order(con, 5, _order(NOW - timedelta(hours=1), product))
    assert _stored_facts(con) == _facts_from_raw(con)
    assert _segment(con, only) == before | {5}
    assert 5 in _segment(con, CustomerFilter(products=(product,)))
    writes.update_order(con, order_id, _order(NOW - timedelta(days=20), product))
    assert _stored_facts(con) == _facts_from_raw(con)
    assert _segment(con, only) == before - {5}
    writes.delete_order(con, order_id)
    assert _stored_facts(con) == _facts_from_raw(con)
    assert 5 not in _segment(con, CustomerFilter(products=(product,)))
    writes.delete_customer(con, 6)
    assert _stored_facts(con) == _facts_from_raw(con)


def _engagement_from_raw(con: Con) -> dict[int, tuple[int, int, object]]:
    raw = Raw(con)
    sends = raw.sends
    result: dict[int, tuple[int, int, object]] = {}
    for cid in raw.everyone:
        mine = sends[sends["customer_id"] == cid]
        delivered = mine[mine["status"] == "Delivered"]
        engaged = mine[(mine["opens"] > 0) | (mine["clicks"] > 0)]["sent_at"]
        last = engaged.max().to_pydatetime() if len(engaged) else None
        result[cid] = (len(delivered), int((delivered["opens"] > 0).sum()), last)
    return result


def _stored_engagement(con: Con) -> dict[int, tuple[int, int, object]]:
    rows = con.execute(
        "SELECT id, delivered_sends, opened_sends, last_engaged_at FROM customers"
    ).fetchall()
    return {int(r[0]): (r[1], r[2], r[3]) for r in rows}


def test_engagement_facts_and_membership_follow_a_new_send(con: Con, raw: Raw) -> None:
    assert _stored_engagement(con) == _engagement_from_raw(con)
    campaign = writes.create_campaign(con, CampaignCreate(name="Spring tea", channel="Email"))
    assert _segment(con, CustomerFilter(in_campaign=campaign)) == set()
    # Both subscribed: only subscribers can be added to a campaign (crm.consent).
    con.execute(
        "UPDATE customers SET email_consent = 'Subscribed', sms_consent = 'Subscribed'"
        " WHERE id IN (7, 8)"
    )
    writes.add_to_campaign(con, campaign, 7)
    writes.create_campaign(con, CampaignCreate(name="Autumn", channel="SMS"), first_member=8)
    assert _segment(con, CustomerFilter(in_campaign=campaign)) == {7}
    assert 7 not in _segment(con, CustomerFilter(not_campaign=campaign))
    assert _stored_engagement(con) == _engagement_from_raw(con)


def test_migration_006_backfills_what_the_seeder_fills(con: Con) -> None:
    """An older database gets the same facts from the migration as a new one from the seeder."""
    seeded = (_stored_facts(con), _stored_engagement(con))
    con.execute("DROP TABLE customer_products")
    con.execute("DROP TABLE customer_categories")
    for column in ("delivered_sends", "opened_sends", "last_engaged_at"):
        con.execute(f"ALTER TABLE customers DROP COLUMN {column}")
    sql = next(sql for version, _, sql in db.migrations() if version == 6)
    con.execute(sql)
    assert (_stored_facts(con), _stored_engagement(con)) == seeded


def test_migration_019_gives_the_months_the_seeder_gives(con: Con) -> None:
    seeded = _stored_facts(con)
    con.execute("DROP TABLE customer_months")
    sql = next(sql for version, _, sql in db.migrations() if version == 19)
    con.execute(sql)
    assert _stored_facts(con) == seeded


def test_migration_018_gives_the_masks_the_seeder_gives(con: Con) -> None:
    """The categories' bits and the customers' masks from the migration, as seeded."""
    seeded = (_stored_facts(con), con.execute("SELECT * FROM category_bits").fetchall())
    con.execute("DROP TABLE category_bits")
    con.execute("ALTER TABLE customers DROP COLUMN category_mask")
    sql = next(sql for version, _, sql in db.migrations() if version == 18)
    con.execute(sql)
    bits = con.execute("SELECT * FROM category_bits").fetchall()
    assert (_stored_facts(con), bits) == seeded
