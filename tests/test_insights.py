"""crm.insights against brute force in pandas over the raw tables of the seeded database.

The expectations come from the orders, order lines, products and customer
rows themselves (spending, orders, dates and categories from the orders, not
from the figures stored on the customer), with the segment picked in pandas,
for everyone, a filtered segment and an empty one.
"""

from __future__ import annotations

import collections
import math
import random
import statistics
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import altair as alt
import duckdb
import pandas as pd
import pytest

from crm import charts, checks, facts, insights, scores, writes
from crm.models import CustomerFilter, LastVisit, OrderCreate, OrderItemCreate

Con = duckdb.DuckDBPyConnection
NOW = datetime.combine(date.today(), datetime.min.time()).replace(hour=12)
TODAY = NOW.date()


def _table(con: Con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _raw(con: Con) -> dict[str, pd.DataFrame]:
    customers = _table(con, "SELECT id, country, rfm_group, total_spending FROM customers")
    orders = _table(con, "SELECT id, customer_id, ordered_at, amount FROM orders")
    lines = _table(
        con,
        "SELECT i.customer_id, p.category"
        " FROM order_items i JOIN products p ON p.id = i.product_id",
    )
    visits = _table(con, "SELECT customer_id, visited_at FROM visits")
    sends = _table(con, "SELECT customer_id, sent_at, opens, clicks FROM campaign_sends")
    return {
        "customers": customers,
        "orders": orders,
        "lines": lines,
        "visits": visits,
        "sends": sends,
    }


@pytest.fixture
def raw(con: Con) -> dict[str, pd.DataFrame]:
    return _raw(con)


def _italy_ish(raw: dict[str, pd.DataFrame]) -> tuple[CustomerFilter, set[int]]:
    """A filtered segment: the second most common country, spending at least $100
    (spending from the orders)."""
    customers, orders = raw["customers"], raw["orders"]
    country = customers["country"].value_counts().index[1]
    spent = orders.groupby("customer_id")["amount"].sum().astype(float)
    ids = {
        int(i)
        for i, c in zip(customers["id"], customers["country"], strict=True)
        if c == country and spent.get(i, 0.0) >= 100
    }
    return CustomerFilter(countries=(str(country),), min_spending=100), ids


def _all_but_one_country(raw: dict[str, pd.DataFrame]) -> tuple[CustomerFilter, set[int]]:
    """More than half of the customers: every country but the most common one."""
    customers = raw["customers"]
    others = tuple(sorted(set(customers["country"]) - {customers["country"].mode()[0]}))
    ids = {int(i) for i in customers.loc[customers["country"].isin(others), "id"]}
    return CustomerFilter(countries=others), ids


def _most_bought_category(raw: dict[str, pd.DataFrame]) -> tuple[CustomerFilter, set[int]]:
    """The customers who bought the category most customers bought."""
    pairs = raw["lines"].drop_duplicates()
    category = str(pairs["category"].value_counts().index[0])
    ids = {int(i) for i in pairs.loc[pairs["category"] == category, "customer_id"]}
    return CustomerFilter(categories=(category,)), ids


def _visited_within(raw: dict[str, pd.DataFrame], days: int) -> tuple[CustomerFilter, set[int]]:
    """The customers who visited in the last ``days`` days (from the visits). For
    those who never did the predicate is NULL (no last visit), not false."""
    last = raw["visits"].groupby("customer_id")["visited_at"].max()
    since = NOW - timedelta(days=days)
    ids = {int(i) for i in last[last >= since].index}
    return CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=days), ids


def _engaged_in_ten_years(raw: dict[str, pd.DataFrame]) -> tuple[CustomerFilter, set[int]]:
    """The customers who opened or clicked a send in ten years (dated by the send).
    For those who never did the predicate is NULL, and many of them have orders."""
    sends = raw["sends"]
    engaged = sends[(sends["opens"] > 0) | (sends["clicks"] > 0)]
    last = engaged.groupby("customer_id")["sent_at"].max()
    since = NOW - timedelta(days=3650)
    ids = {int(i) for i in last[last >= since].index}
    return CustomerFilter(engaged_days=3650), ids


def _segments(raw: dict[str, pd.DataFrame]) -> dict[str, tuple[CustomerFilter, set[int]]]:
    everyone = {int(i) for i in raw["customers"]["id"]}
    return {
        "everyone": (CustomerFilter(), everyone),
        "filtered": _italy_ish(raw),
        "empty": (CustomerFilter(search="no customer is called this"), set()),
        # Its predicate binds $since, which the months' query must not overwrite.
        "visited in 30 days": _visited_within(raw, 30),
        # More than half of the customers.
        "all but one country": _all_but_one_country(raw),
        "most bought category": _most_bought_category(raw),
        "engaged in ten years": _engaged_in_ten_years(raw),
    }


BIG = ["all but one country", "most bought category", "engaged in ten years"]


def _step(highest: float) -> int:
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * 20 >= highest:
                return step * factor
        step *= 10


def _gap(orders: int, first: date, last: date) -> int:
    exact = Decimal((last - first).days) / (orders - 1)
    return max(1, int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP")))


def _status(orders: int, first: date, last: date) -> str:
    if orders == 0:
        return "No orders"
    if orders == 1:
        return "One order"
    gap, days = _gap(orders, first, last), (TODAY - last).days
    if days <= gap:
        return "On track"
    if days <= 1.5 * gap:
        return "Due"
    if days <= 3 * gap:
        return "Overdue"
    return "Lapsed"


@pytest.mark.parametrize("which", ["everyone", "filtered", "empty", "visited in 30 days", *BIG])
def test_every_figure_matches_brute_force(
    con: Con, raw: dict[str, pd.DataFrame], which: str
) -> None:
    f, ids = _segments(raw)[which]
    if which != "everyone":
        assert len(ids) < len(raw["customers"])
    if which in BIG:
        assert 2 * len(ids) > len(raw["customers"])
    if which == "engaged in ten years":
        # Customers with orders whose predicate is NULL (never engaged) are left out.
        assert len(set(raw["orders"]["customer_id"]) - ids) > 0
    _assert_matches_brute_force(con, raw, f, ids)
    # Told the segment's count, a segment of most customers reads its profile, months
    # and categories as everyone's less the outside's: the same figures.
    everyone = insights.profile(con, CustomerFilter(), NOW, names=insights.category_names(con))
    told = insights.insights(con, f, NOW, everyone=everyone, customers=len(ids))
    _assert_matches_brute_force(con, raw, f, ids, told)


def test_most_customers_by_spending_read_as_everyone_less_the_rest(
    con: Con, raw: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Segments of most customers without the top spenders: their spending bands may
    need to be narrower than everyone's (then the segment's rows are counted again,
    directly) or not (everyone's counts less the rest's). Both happen here, and the
    figures are brute force's either way."""
    spent = raw["orders"].groupby("customer_id")["amount"].sum().astype(float)
    spent = spent.reindex(raw["customers"]["id"], fill_value=0.0)
    counted: list[int | None] = []
    real = insights._counts

    def spy(*args: Any, **kwargs: Any) -> Any:
        counted.append(kwargs.get("fixed_step"))
        return real(*args, **kwargs)

    monkeypatch.setattr(insights, "_counts", spy)
    everyone = insights.profile(con, CustomerFilter(), NOW, names=insights.category_names(con))
    assert everyone.counts is not None
    ways = set()
    for share in (0.6, 0.9, 0.999):
        cut = float(spent.quantile(share))
        ids = {int(i) for i, amount in spent.items() if amount <= cut}
        assert len(raw["customers"]) / 2 < len(ids) < len(raw["customers"])
        counted.clear()
        f = CustomerFilter(max_spending=cut)
        got = insights.insights(con, f, NOW, everyone=everyone, customers=len(ids))
        # The rest's counts in everyone's bands, then maybe the segment's own.
        assert counted[0] == everyone.counts.step
        ways.add(len(counted))
        _assert_matches_brute_force(con, raw, f, ids, got)
    assert ways == {1, 2}


def _assert_matches_brute_force(
    con: Con,
    raw: dict[str, pd.DataFrame],
    f: CustomerFilter,
    ids: set[int],
    got: insights.Insights | None = None,
) -> None:
    customers = raw["customers"][raw["customers"]["id"].isin(ids)]
    orders = raw["orders"][raw["orders"]["customer_id"].isin(ids)]
    got = got or insights.insights(con, f, NOW)
    segment = got.segment

    # Headline.
    head = segment.headline
    assert head.customers == len(ids)
    assert got.everyone.headline.customers == len(raw["customers"])
    assert got.share == pytest.approx(len(ids) / len(raw["customers"]))
    spending = Decimal(str(orders["amount"].astype(float).sum().round(2)))
    assert head.spending == spending
    assert head.orders == len(orders)
    if ids:
        assert float(head.average_spending or 0) == pytest.approx(float(spending) / len(ids))
        assert float(head.average_order_value or 0) == pytest.approx(float(spending) / len(orders))
        last = orders.groupby("customer_id")["ordered_at"].max()
        days = pd.Series([(TODAY - moment.date()).days for moment in last])
        assert head.median_days_since_order == pytest.approx(float(days.median()))
    else:
        assert (head.average_spending, head.average_order_value) == (None, None)
        assert head.median_days_since_order is None

    # Spending histogram: every band from $0 to the top spender.
    spent = orders.groupby("customer_id")["amount"].sum().astype(float)
    spent = spent.reindex(sorted(ids), fill_value=0.0)
    if ids:
        step = _step(float(spent.max()))
        bands = (spent // step).astype(int).value_counts()
        expected = [
            (b * step, (b + 1) * step, int(bands.get(b, 0))) for b in range(bands.index.max() + 1)
        ]
    else:
        expected = []
    assert list(segment.spending.itertuples(index=False, name=None)) == expected

    # Countries, most first then by name.
    counts = customers["country"].value_counts()
    expected_countries = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    assert list(segment.countries.itertuples(index=False, name=None)) == expected_countries

    # RFM groups (stored) and rhythm statuses (from the orders), every name present.
    groups = customers["rfm_group"].fillna("No orders").value_counts()
    assert list(segment.rfm.itertuples(index=False, name=None)) == [
        (g, int(groups.get(g, 0))) for g in scores.GROUPS
    ]
    per = orders.groupby("customer_id")["ordered_at"].agg(["count", "min", "max"])
    statuses = pd.Series(
        [
            _status(int(per.loc[i, "count"]), per.loc[i, "min"].date(), per.loc[i, "max"].date())
            if i in per.index
            else "No orders"
            for i in sorted(ids)
        ],
        dtype=object,
    ).value_counts()
    assert list(segment.rhythm.itertuples(index=False, name=None)) == [
        (s, int(statuses.get(s, 0))) for s in scores.RHYTHM_STATUSES
    ]

    # Revenue by month: the 24 calendar months ending with this one.
    months = []
    for back in range(23, -1, -1):
        index = TODAY.year * 12 + TODAY.month - 1 - back
        months.append(datetime(index // 12, index % 12 + 1, 1))
    key = orders["ordered_at"].dt.year * 12 + orders["ordered_at"].dt.month - 1
    by_month = orders.assign(key=key).groupby("key")["amount"].agg(["sum", "count"])
    expected_months = [
        (
            m,
            float(by_month["sum"].get(m.year * 12 + m.month - 1, 0)),
            int(by_month["count"].get(m.year * 12 + m.month - 1, 0)),
        )
        for m in months
    ]
    got_months = list(got.months.itertuples(index=False, name=None))
    assert [(m.to_pydatetime(), n) for m, _, n in got_months] == [
        (m, n) for m, _, n in expected_months
    ]
    assert [a for _, a, _ in got_months] == pytest.approx([a for _, a, _ in expected_months])

    # Top categories: by customers who bought them, then by name.
    lines = raw["lines"][raw["lines"]["customer_id"].isin(ids)]
    buyers = lines.drop_duplicates().groupby("category")["customer_id"].count()
    top = sorted(buyers.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert list(got.categories.itertuples(index=False, name=None)) == top


def test_a_write_moves_the_figures(con: Con, raw: dict[str, pd.DataFrame]) -> None:
    """An order added to a customer of the segment shows in its figures (nothing kept)."""
    f, ids = _italy_ish(raw)
    before = insights.insights(con, f, NOW)
    customer_id = min(ids)
    product = con.execute("SELECT id FROM products ORDER BY id LIMIT 1").fetchone()
    assert product is not None
    order = OrderCreate(
        ordered_at=NOW,
        items=[OrderItemCreate(product_id=int(product[0]), quantity=2, unit_price=Decimal("9.50"))],
    )
    writes.add_order(con, customer_id, order)
    after = insights.insights(con, f, NOW)
    assert after.segment.headline.orders == before.segment.headline.orders + 1
    assert after.months["orders"].iloc[-1] == before.months["orders"].iloc[-1] + 1


def test_the_histogram_step_is_the_smallest_that_fits() -> None:
    assert insights.histogram_step(0) == 1
    assert insights.histogram_step(20) == 1
    assert insights.histogram_step(21) == 2
    assert insights.histogram_step(3958.09) == 200
    assert insights.histogram_step(4000) == 200
    assert insights.histogram_step(4000.01) == 500


def test_first_month_counts_back_across_years() -> None:
    assert insights.first_month(date(2026, 11, 30)) == date(2024, 12, 1)
    assert insights.first_month(date(2026, 1, 1)) == date(2024, 2, 1)
    assert insights.first_month(date(2026, 12, 31), months=12) == date(2026, 1, 1)


def test_everyone_profile_is_reused_when_given(con: Con, raw: dict[str, pd.DataFrame]) -> None:
    f, _ = _italy_ish(raw)
    # As the app reads it (crm.ui.insights): with the categories of the masks.
    everyone = insights.profile(con, CustomerFilter(), NOW, names=insights.category_names(con))
    got = insights.insights(con, f, NOW, everyone=everyone)
    assert got.everyone is everyone
    assert math.isclose(got.share, got.segment.headline.customers / len(raw["customers"]))
    # For everyone, the given profile is the segment's too: nothing read twice.
    whole = insights.insights(con, CustomerFilter(), NOW, everyone=everyone)
    assert whole.segment is everyone
    # One read without the categories is read again for them.
    plain = insights.profile(con, CustomerFilter(), NOW)
    assert plain.categories is None
    again = insights.insights(con, CustomerFilter(), NOW, everyone=plain)
    assert again.segment is not plain
    assert again.categories.equals(whole.categories)


def _everyone_ids(con: Con) -> list[int]:
    return [int(row[0]) for row in con.execute("SELECT id FROM customers ORDER BY id").fetchall()]


def _new_category(con: Con, category: str, buyers: list[int]) -> None:
    """A product of a category no one has bought, written by hand (no bit given), and
    an order of it for each of ``buyers`` through the app's writes (everyone: the
    category tops every segment's categories, so a count that left it out fails)."""
    row = con.execute(
        "INSERT INTO products (name, category, price) VALUES ($name, $category, 4) RETURNING id",
        {"name": f"{category} sampler", "category": category},
    ).fetchone()
    assert row is not None
    for customer_id in buyers:
        writes.add_order(
            con,
            customer_id,
            OrderCreate(
                ordered_at=NOW - timedelta(days=2),
                items=[OrderItemCreate(product_id=int(row[0]), quantity=1, unit_price=Decimal(4))],
            ),
        )


def test_categories_the_masks_cannot_count_are_read_from_the_pairs(con: Con) -> None:
    """A category without a bit (a product written by hand) makes the masks unable to
    count it: the categories are then read from the (customer, category) pairs, with
    the same figures as brute force. Once it has its bit, its buyers' masks have it."""
    f, ids = _italy_ish(_raw(con))
    _new_category(con, "Zines", sorted(ids))
    assert insights.category_names(con) is None
    raw = _raw(con)
    assert _italy_ish(raw)[1] == ids
    got = insights.insights(con, f, NOW)
    assert got.segment.categories is None
    assert got.categories["name"].iloc[0] == "Zines"  # bought by all of them
    _assert_matches_brute_force(con, raw, f, ids, got)
    _assert_matches_brute_force(con, raw, CustomerFilter(), set(_everyone_ids(con)))

    facts.assign_category_bits(con)
    names = insights.category_names(con)
    assert names is not None
    assert "Zines" in names.values()
    assert checks.database_problems(con) == []
    got = insights.insights(con, f, NOW)
    assert got.segment.categories is not None
    _assert_matches_brute_force(con, raw, f, ids, got)


def test_a_65th_category_is_read_from_the_pairs(con: Con) -> None:
    """The masks hold 64 categories: with more, the categories come from the pairs."""
    known = con.execute("SELECT count(*) FROM category_bits").fetchone()
    assert known is not None
    for n in range(64 - int(known[0])):
        con.execute(
            "INSERT INTO products (name, category, price) VALUES ($name, $name, 1)",
            {"name": f"Unsold {n}"},
        )
    facts.assign_category_bits(con)
    assert insights.category_names(con) is not None  # 64 categories: bits 0-63
    f, ids = _italy_ish(_raw(con))
    _new_category(con, "Sixty-fifth", sorted(ids))
    facts.assign_category_bits(con)
    assert insights.category_names(con) is None
    assert checks.database_problems(con) == []
    raw = _raw(con)
    got = insights.insights(con, f, NOW)
    assert got.categories["name"].iloc[0] == "Sixty-fifth"
    _assert_matches_brute_force(con, raw, f, ids, got)
    _assert_matches_brute_force(con, raw, CustomerFilter(), set(_everyone_ids(con)))


# --- Chart specs ---------------------------------------------------------------------


def _spec(chart: object) -> dict[str, object]:
    assert isinstance(chart, alt.TopLevelMixin)
    spec: dict[str, object] = chart.to_dict()
    return spec


def _colours(spec: object) -> list[str]:
    """Every colour value in a spec (none may be hard-coded but currentColor)."""
    found: list[str] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("color", "fill", "stroke") and isinstance(value, str):
                found.append(value)
            found += _colours(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _colours(value)
    return found


@pytest.fixture
def everyone_insights(con: Con) -> insights.Insights:
    return insights.insights(con, CustomerFilter(), NOW)


@pytest.mark.parametrize(
    ("builder", "title", "frame"),
    [
        (charts.countries_chart, "Customers by country · top 10", "countries"),
        (charts.rfm_mix_chart, "Customers by RFM group", "rfm"),
        (charts.rhythm_mix_chart, "Customers by buying rhythm", "rhythm"),
        (charts.categories_chart, "Top categories · customers who bought", "categories"),
    ],
)
def test_pickable_charts_select_a_bar_by_name(
    everyone_insights: insights.Insights, builder: Any, title: str, frame: str
) -> None:
    data = (
        everyone_insights.categories
        if frame == "categories"
        else getattr(everyone_insights.segment, frame)
    )
    data = data.assign(share=0.5, share_of_all=0.5, meaning="")
    spec = _spec(builder(data))
    assert spec["title"] == {"text": title, "anchor": "start"}
    (param,) = spec["params"]  # type: ignore[misc]
    assert param["name"] == charts.PICK
    assert param["select"] == {"type": "point", "fields": ["name"], "on": "click"}
    bars, text = spec["layer"]  # type: ignore[misc]
    assert bars["encoding"]["y"]["field"] == "name"
    assert bars["encoding"]["x"]["field"] == "customers"
    assert bars["encoding"]["opacity"]["condition"][0]["param"] == charts.PICK
    assert text["mark"]["color"] == "currentColor"
    assert _colours(spec) == ["currentColor"]
    # The data drawn is the frame given.
    (values,) = spec["datasets"].values()  # type: ignore[union-attr]
    assert [row["name"] for row in values] == list(data["name"])


def test_ordered_mixes_keep_their_order(everyone_insights: insights.Insights) -> None:
    data = everyone_insights.segment.rfm.assign(share=0.1, share_of_all=0.1, meaning="")
    spec = _spec(charts.rfm_mix_chart(data))
    bars = spec["layer"][0]  # type: ignore[index]
    assert bars["encoding"]["y"]["sort"] == list(scores.GROUPS)


def test_histogram_and_months_charts(everyone_insights: insights.Insights) -> None:
    histogram = _spec(charts.spending_histogram_chart(everyone_insights.segment.spending))
    assert histogram["title"] == {"text": "Customers by total spending", "anchor": "start"}
    assert histogram["encoding"]["x"]["bin"] == "binned"  # type: ignore[index]
    assert histogram["encoding"]["x2"]["field"] == "high"  # type: ignore[index]
    assert "params" not in histogram
    months = _spec(charts.revenue_by_month_chart(everyone_insights.months))
    assert months["title"] == {"text": "Revenue by month · last 24 months", "anchor": "start"}
    x = months["encoding"]["x"]  # type: ignore[index]
    assert x["timeUnit"] == "yearmonth"
    # Labels at the middle of their months (as spending_over_time), not their first day.
    assert all(tick["date"] > 1 for tick in x["axis"]["values"])
    assert months["encoding"]["y"]["title"] == "Revenue"  # type: ignore[index]
    assert _colours(histogram) == [] and _colours(months) == []


def test_empty_frames_give_a_sentence_not_a_broken_chart(con: Con) -> None:
    empty = insights.insights(con, CustomerFilter(search="no customer is called this"), NOW)
    for chart in (
        charts.spending_histogram_chart(empty.segment.spending),
        charts.revenue_by_month_chart(empty.months),
        charts.categories_chart(empty.categories),
        charts.countries_chart(empty.segment.countries),
    ):
        spec = _spec(chart)
        assert spec["mark"]["type"] == "text"  # type: ignore[index]


def test_the_standout_in_words() -> None:
    from crm.ui.insights import standout_sentence

    shares = pd.DataFrame(
        {
            "name": ["United States", "Italy", "Spain", "Malta"],
            "customers": [50, 30, 18, 2],
            "share": [0.50, 0.30, 0.18, 0.02],
            "share_of_all": [0.40, 0.10, 0.15, 0.001],
        }
    )
    # Malta is 20x over-represented but under 5 % of the segment: Italy stands out.
    assert standout_sentence(shares, "holds", filtered=True) == (
        "Italy holds 30\u00a0% of this segment, 3.0x its share of all customers (10\u00a0%)."
    )
    assert standout_sentence(shares, "holds", filtered=False) == (
        "United States holds 50\u00a0% of all customers."
    )
    even = shares.assign(share_of_all=shares["share"])
    assert standout_sentence(even, "holds", filtered=True) == (
        "United States holds 50\u00a0% of this segment."
    )
    assert standout_sentence(shares.head(1), "holds", filtered=True) is None
    assert standout_sentence(shares.head(0), "holds", filtered=False) is None


def test_a_blank_country_is_named(con: Con) -> None:
    con.execute("UPDATE customers SET country = '' WHERE id IN (SELECT min(id) FROM customers)")
    countries = insights.profile(con, CustomerFilter(), NOW).countries
    assert countries.loc[countries["name"] == insights.NO_COUNTRY, "customers"].tolist() == [1]


@pytest.mark.parametrize("size", [1, 2, 3, 10, 11, 500, 501])
def test_the_median_of_counted_values_is_the_plain_median(size: int) -> None:
    """The headline's median comes from a count per whole day; it must equal the
    median of the values themselves (mean of the middle two for an even number)."""
    values = [random.Random(size * 7 + i).randint(0, 40) for i in range(size)]
    counts = list(collections.Counter(values).items())
    assert insights.median_of_counts(counts) == statistics.median(values)


def test_no_values_have_no_median() -> None:
    assert insights.median_of_counts([]) is None
