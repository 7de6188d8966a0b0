"""Customer scores (crm.scores) against brute force over the raw orders.

Every expected value here is computed from the ``orders`` table with pandas
and numpy, apart from the module: quantiles by numpy's ``inverted_cdf``,
scores by ``searchsorted``, the group from the map written out as text, the
rhythm from the gaps between consecutive orders.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm import db, queries, scores, writes
from crm.models import Customer, OrderCreate, OrderItemCreate

# The map of crm/scores.py's docstring, written out again: rows R = 5..1, columns FM = 1..5.
MAP = """
5 | New            | Potential loyalist | Potential loyalist | Champions | Champions
4 | Promising      | Potential loyalist | Potential loyalist | Loyal     | Loyal
3 | About to sleep | About to sleep     | Need attention     | Loyal     | Loyal
2 | Hibernating    | Hibernating        | At risk            | At risk   | Can't lose them
1 | Lost           | Lost               | At risk            | At risk   | Can't lose them
"""
GROUP_BY_CELL = {
    (int(cells[0]), fm): name.strip()
    for line in MAP.strip().splitlines()
    for cells in [line.split("|")]
    for fm, name in enumerate(cells[1:], start=1)
}


def _orders(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    # fetchall, not .df(): amounts stay Decimals.
    rows = con.execute("SELECT customer_id, ordered_at, amount FROM orders").fetchall()
    frame = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def _customers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT id FROM customers ORDER BY id").df()


def _cuts(values: pd.Series) -> list[Any]:
    return [np.quantile(values.to_numpy(), q, method="inverted_cdf") for q in (0.2, 0.4, 0.6, 0.8)]


def _expected(con: duckdb.DuckDBPyConnection, today: date) -> pd.DataFrame:
    """Every customer's dates, RFM, group and rhythm from the orders alone."""
    orders = _orders(con)
    orders["day"] = orders["ordered_at"].dt.normalize()
    per = orders.groupby("customer_id").agg(
        first_order_at=("ordered_at", "min"),
        last_order_at=("ordered_at", "max"),
        orders=("ordered_at", "size"),
        spent=("amount", lambda a: sum(a, Decimal(0))),
    )
    per["last_day"] = per["last_order_at"].dt.normalize()
    r_cuts = _cuts(per["last_day"].dt.date)
    f_cuts = _cuts(per["orders"])
    m_cuts = _cuts(per["spent"])

    def score(value: Any, cuts: list[Any]) -> int:
        return 1 + int(np.searchsorted(np.array(cuts), value, side="left"))

    rows = []
    days = orders.sort_values("ordered_at").groupby("customer_id")["day"]
    gaps = {cid: list(d.diff().dropna().dt.days) for cid, d in days}
    for cid in _customers(con)["id"]:
        if cid not in per.index:
            rows.append({"id": cid, "group": "No orders", "rhythm": "No orders"})
            continue
        p = per.loc[cid]
        r = score(p["last_day"].date(), r_cuts)
        f = score(p["orders"], f_cuts)
        m = score(p["spent"], m_cuts)
        fm = math.floor(Fraction(f + m, 2) + Fraction(1, 2))
        since = (today - p["last_day"].date()).days
        row = {
            "id": cid,
            "first_order_at": p["first_order_at"].to_pydatetime(),
            "last_order_at": p["last_order_at"].to_pydatetime(),
            "r": r,
            "f": f,
            "m": m,
            "group": GROUP_BY_CELL[(r, fm)],
            "since": since,
        }
        if p["orders"] == 1:
            row["rhythm"] = "One order"
        else:
            mean = Fraction(int(sum(gaps[cid])), len(gaps[cid]))
            gap = max(1, math.floor(mean + Fraction(1, 2)))
            row["gap"] = gap
            row["expected_on"] = p["last_day"].date() + timedelta(days=gap)
            row["rhythm"] = (
                "On track"
                if since <= gap
                else "Due"
                if since <= Fraction(3, 2) * gap
                else "Overdue"
                if since <= 3 * gap
                else "Lapsed"
            )
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("id")
    frame.attrs["cuts"] = (r_cuts, f_cuts, m_cuts, len(per))
    return frame


def _stored(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return (
        con.execute("SELECT id, first_order_at, last_order_at, rfm_group FROM customers").df()
    ).set_index("id")


# Dates at which the seeded customers (laid out up to today) fall in every status.
TODAYS = [date.today(), date.today() + timedelta(days=20)]


def test_first_and_last_order_dates_are_the_orders(con: duckdb.DuckDBPyConnection) -> None:
    expected = _expected(con, TODAYS[0])
    stored = _stored(con)
    with_orders = expected["first_order_at"].notna()
    assert with_orders.sum() > 100 and (~with_orders).sum() > 5
    pd.testing.assert_series_equal(
        stored["first_order_at"], expected["first_order_at"].astype(stored["first_order_at"].dtype)
    )
    pd.testing.assert_series_equal(
        stored["last_order_at"], expected["last_order_at"].astype(stored["last_order_at"].dtype)
    )


def test_cut_points_are_the_quintiles_of_customers_with_orders(
    con: duckdb.DuckDBPyConnection,
) -> None:
    r_cuts, f_cuts, m_cuts, customers = _expected(con, TODAYS[0]).attrs["cuts"]
    stored = scores.read_boundaries(con)
    assert stored is not None, "the seeder computes the cut points"
    assert stored.customers == customers
    assert list(stored.recency) == list(r_cuts)
    assert list(stored.frequency) == [int(c) for c in f_cuts]
    assert list(stored.monetary) == list(m_cuts)
    # Computing them again over the same data gives the same cut points.
    again = scores.refresh_boundaries(con)
    assert (again.recency, again.frequency, again.monetary) == (
        stored.recency,
        stored.frequency,
        stored.monetary,
    )


def _sql_scores(con: duckdb.DuckDBPyConnection, today: date) -> pd.DataFrame:
    boundaries = scores.read_boundaries(con)
    assert boundaries is not None
    return (
        con.execute(
            f"""
            SELECT id, {scores.R_SCORE_SQL} AS r, {scores.F_SCORE_SQL} AS f,
                   {scores.M_SCORE_SQL} AS m, {scores.RFM_GROUP_SQL} AS "group",
                   {scores.RHYTHM_STATUS_SQL} AS rhythm, order_gap_days AS gap,
                   expected_order_on,
                   {scores.DAYS_SINCE_ORDER_SQL} AS since
            FROM customers
            """,
            {**scores.rfm_params(boundaries), **scores.rhythm_params(today)},
        )
        .df()
        .set_index("id")
    )


@pytest.mark.parametrize("today", TODAYS)
def test_every_customers_scores_match_brute_force(
    con: duckdb.DuckDBPyConnection, today: date
) -> None:
    expected = _expected(con, today)
    boundaries = scores.read_boundaries(con)
    assert boundaries is not None
    sql = _sql_scores(con, today).loc[expected.index]
    stored = _stored(con).loc[expected.index]
    # Every status and most groups present, for the comparison to mean something.
    assert expected["rhythm"].nunique() == 6
    assert expected["group"].nunique() >= 9
    for cid, want in expected.iterrows():
        customer = queries.get_customer(con, int(cid))
        assert customer is not None
        got = scores.scores_for(customer, boundaries, today)
        has_orders = want["group"] != "No orders"
        triple = (int(want["r"]), int(want["f"]), int(want["m"])) if has_orders else (None,) * 3
        assert (got.recency, got.frequency, got.monetary) == triple, cid
        assert got.group == want["group"], cid
        assert got.rhythm == want["rhythm"], cid
        assert stored.loc[cid, "rfm_group"] == want["group"], cid
        row = sql.loc[cid]
        assert row["group"] == want["group"] and row["rhythm"] == want["rhythm"], cid
        if has_orders:
            assert (row["r"], row["f"], row["m"]) == triple, cid
            assert row["since"] == want["since"] == got.days_since_order, cid
        if want["rhythm"] not in ("One order", "No orders"):
            assert row["gap"] == want["gap"] == got.average_gap_days, cid
            assert row["expected_order_on"].date() == want["expected_on"], cid
            assert got.expected_on == want["expected_on"], cid
            assert got.days_over == max(0, want["since"] - want["gap"]), cid


@pytest.mark.parametrize("today", TODAYS)
def test_score_mix_counts_groups_and_statuses(con: duckdb.DuckDBPyConnection, today: date) -> None:
    expected = _expected(con, today)
    mix = scores.score_mix(con, today)
    assert list(mix.groups) == list(scores.GROUPS)
    assert list(mix.rhythm) == list(scores.RHYTHM_STATUSES)
    want_groups = expected["group"].value_counts().to_dict()
    want_rhythm = expected["rhythm"].value_counts().to_dict()
    assert {k: v for k, v in mix.groups.items() if v} == want_groups
    assert {k: v for k, v in mix.rhythm.items() if v} == want_rhythm


def test_filters_select_the_groups_and_statuses_asked_for(con: duckdb.DuckDBPyConnection) -> None:
    today = TODAYS[0]
    expected = _expected(con, today)

    def ids(groups: list[str] | None, statuses: list[str] | None) -> set[int]:
        rows = con.execute(
            f"SELECT id FROM customers WHERE {scores.GROUP_FILTER_SQL}"
            f" AND {scores.RHYTHM_FILTER_SQL}",
            {
                "rfm_groups": groups,
                "rhythm_statuses": statuses,
                **scores.rhythm_params(today),
            },
        ).fetchall()
        return {int(r[0]) for r in rows}

    assert ids(None, None) == set(expected.index)
    groups = ["At risk", "No orders"]
    assert ids(groups, None) == set(expected.index[expected["group"].isin(groups)])
    statuses = ["Overdue", "One order"]
    assert ids(None, statuses) == set(expected.index[expected["rhythm"].isin(statuses)])
    for status in scores.RHYTHM_STATUSES:
        chosen = set(expected.index[expected["rhythm"] == status])
        assert chosen, status  # the seeded data has every status
        assert ids(None, [status]) == chosen, status
    both = expected["group"].isin(["Loyal"]) & expected["rhythm"].isin(["Lapsed"])
    assert both.sum() > 0
    assert ids(["Loyal"], ["Lapsed"]) == set(expected.index[both])


def _one_order(ordered_at: datetime, price: str = "5000.00") -> OrderCreate:
    return OrderCreate(
        ordered_at=ordered_at,
        items=[OrderItemCreate(product_id=1, quantity=1, unit_price=Decimal(price))],
    )


def _check_against_brute_force(con: duckdb.DuckDBPyConnection, cid: int) -> scores.CustomerScores:
    """The customer's stored dates and group and scores_for, all as brute force says."""
    today = TODAYS[0]
    boundaries = scores.read_boundaries(con)
    assert boundaries is not None
    customer = queries.get_customer(con, cid)
    assert customer is not None
    orders = _orders(con)
    mine = orders[orders["customer_id"] == cid]
    assert customer.first_order_at == (mine["ordered_at"].min() if len(mine) else None)
    assert customer.last_order_at == (mine["ordered_at"].max() if len(mine) else None)
    got = scores.scores_for(customer, boundaries, today)
    if len(mine):
        r_cuts, f_cuts, m_cuts = boundaries.recency, boundaries.frequency, boundaries.monetary
        last_day = mine["ordered_at"].max().date()
        r = 1 + sum(c < last_day for c in r_cuts)
        f = 1 + sum(c < len(mine) for c in f_cuts)
        m = 1 + sum(c < sum(mine["amount"], Decimal(0)) for c in m_cuts)
        assert (got.recency, got.frequency, got.monetary) == (r, f, m)
        assert got.group == GROUP_BY_CELL[(r, math.floor(Fraction(f + m, 2) + Fraction(1, 2)))]
    else:
        assert got.group == "No orders" and got.rhythm == "No orders"
    stored = con.execute(
        "SELECT rfm_group, order_gap_days, expected_order_on FROM customers WHERE id = ?", [cid]
    ).fetchone()
    assert stored == (got.group, got.average_gap_days, got.expected_on)
    return got


def test_order_writes_change_dates_and_scores_at_once(con: duckdb.DuckDBPyConnection) -> None:
    lost = con.execute(
        "SELECT id FROM customers WHERE rfm_group = 'Lost' AND order_count >= 2 ORDER BY id LIMIT 1"
    ).fetchone()
    assert lost is not None
    cid = int(lost[0])
    before = _check_against_brute_force(con, cid)
    assert before.group == "Lost"

    order_id = writes.add_order(con, cid, _one_order(datetime.now() - timedelta(hours=1)))
    added = _check_against_brute_force(con, cid)
    assert added.recency == 5 and added.days_since_order == 0 and added.rhythm == "On track"
    assert added.group != "Lost"

    # Moved back before the customer's first order: the first order date follows.
    writes.update_order(con, order_id, _one_order(datetime(2020, 1, 1, 9), price="1.00"))
    moved = _check_against_brute_force(con, cid)
    assert moved.recency == before.recency and moved.group == "Lost"
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.first_order_at == datetime(2020, 1, 1, 9)

    writes.delete_order(con, order_id)
    assert _check_against_brute_force(con, cid) == before


def test_first_and_last_order_of_a_new_customer(con: duckdb.DuckDBPyConnection) -> None:
    from crm.models import CustomerCreate

    cid = writes.create_customer(
        con, CustomerCreate(first_name="Ana", last_name="Lima", email="ana.lima@example.com")
    )
    assert _check_against_brute_force(con, cid).group == "No orders"
    order_id = writes.add_order(con, cid, _one_order(datetime.now() - timedelta(days=3)))
    one = _check_against_brute_force(con, cid)
    assert one.rhythm == "One order" and one.days_since_order == 3
    writes.delete_order(con, order_id)
    assert _check_against_brute_force(con, cid).group == "No orders"


def test_refresh_rewrites_the_groups_its_cut_points_move(con: duckdb.DuckDBPyConnection) -> None:
    expected = _expected(con, TODAYS[0])
    real = scores.read_boundaries(con)
    assert real is not None
    # As if the stored cut points had been computed earlier, elsewhere, with
    # every stored group agreeing with them (as writes and refreshes keep them).
    old = replace(
        real,
        recency=tuple(d - timedelta(days=40) for d in real.recency),  # type: ignore[operator]
        frequency=tuple(f + 2 for f in real.frequency),  # type: ignore[operator]
        monetary=tuple(m * Decimal("0.8") for m in real.monetary),  # type: ignore[operator]
    )
    con.execute("DELETE FROM score_boundaries")
    con.execute(
        "INSERT INTO score_boundaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [old.computed_at, old.customers, *old.recency, *old.frequency, *old.monetary],
    )
    con.execute(f"UPDATE customers SET rfm_group = {scores.RFM_GROUP_SQL}", scores.rfm_params(old))
    stale = _stored(con)["rfm_group"].loc[expected.index]
    assert (stale != expected["group"]).sum() > 30
    assert scores.refresh_boundaries(con).recency == real.recency
    assert _stored(con)["rfm_group"].loc[expected.index].tolist() == expected["group"].tolist()


def test_cut_points_are_due_daily_or_when_customers_with_orders_move(
    con: duckdb.DuckDBPyConnection,
) -> None:
    now = datetime(2026, 3, 1, 12)
    fresh = scores.refresh_boundaries(con, now)
    n = fresh.customers
    assert not scores.boundaries_due(fresh, n, now + timedelta(hours=23))
    assert scores.boundaries_due(fresh, n, now + timedelta(days=1, seconds=1))
    assert not scores.boundaries_due(fresh, n + math.floor(n * 0.01), now)
    assert scores.boundaries_due(fresh, n + math.floor(n * 0.01) + 1, now)
    assert scores.boundaries_due(None, n, now)
    assert scores.current_boundaries(con, now + timedelta(hours=1)) == fresh
    later = scores.current_boundaries(con, now + timedelta(days=2))
    assert later.computed_at == now + timedelta(days=2)


def test_migration_fills_order_dates_of_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp())"
    )
    for version, name, sql in db.migrations():
        if version <= 3:
            old.execute(sql)
            old.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
    for cid, name in ((1, "ana"), (2, "bo"), (3, "cy")):
        old.execute(
            "INSERT INTO customers (id, first_name, last_name, email, email_key, search_text,"
            " order_count, total_spending) VALUES (?, ?, 'X', ?, ?, ?, 0, 0)",
            [cid, name, f"{name}@example.com", f"{name}@example.com", name],
        )
    orders = [
        (1, datetime(2026, 1, 5, 10)),
        (1, datetime(2026, 3, 1, 9)),
        (1, datetime(2025, 12, 24, 18)),
        (2, datetime(2026, 2, 2, 2)),
    ]
    for order_id, (cid, at) in enumerate(orders, start=1):
        old.execute(
            "INSERT INTO orders (id, customer_id, ordered_at, amount) VALUES (?, ?, ?, 10)",
            [order_id, cid, at],
        )
    old.execute(
        "UPDATE customers SET order_count ="
        " (SELECT count(*) FROM orders WHERE orders.customer_id = customers.id)"
    )
    old.close()

    con = db.connect(path)
    rows = con.execute(
        "SELECT id, first_order_at, last_order_at, order_gap_days, expected_order_on, rfm_group"
        " FROM customers ORDER BY id"
    ).fetchall()
    # Customer 1: Dec 24 to Mar 1 is 67 days over 2 gaps, 33.5 rounded up to 34.
    assert rows == [
        (1, datetime(2025, 12, 24, 18), datetime(2026, 3, 1, 9), 34, date(2026, 4, 4), None),
        (2, datetime(2026, 2, 2, 2), datetime(2026, 2, 2, 2), None, None, None),
        (3, None, None, None, None, None),
    ]
    # No cut points yet: the first read computes them and stores everyone's group.
    assert scores.read_boundaries(con) is None
    boundaries = scores.current_boundaries(con)
    assert boundaries.customers == 2
    groups = dict(con.execute("SELECT id, rfm_group FROM customers").fetchall())
    for cid in (1, 2, 3):
        customer = queries.get_customer(con, cid)
        assert customer is not None
        assert groups[cid] == scores.scores_for(customer, boundaries, date.today()).group
    assert groups[3] == "No orders"
    con.close()


# --- Sentences ------------------------------------------------------------------------

TODAY = date(2026, 11, 30)
BOUNDS = scores.Boundaries(
    computed_at=datetime(2026, 11, 30, 3),
    customers=1000,
    recency=(date(2026, 1, 1), date(2026, 6, 1), date(2026, 9, 1), date(2026, 10, 15)),
    frequency=(1, 2, 4, 8),
    monetary=(Decimal(100), Decimal(300), Decimal(600), Decimal(1200)),
)


def _customer(orders: int, spent: str, first: date | None, last: date | None) -> Customer:
    def at(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, 15, 30)

    return Customer(
        id=1,
        first_name="Ana",
        last_name="Lima",
        email="ana@example.com",
        phone="",
        street="",
        city="",
        state="",
        zip="",
        country="",
        avatar=None,
        avatar_type=None,
        created_at=datetime(2025, 1, 1),
        updated_at=datetime(2025, 1, 1),
        version=1,
        total_spending=Decimal(spent),
        order_count=orders,
        visit_count=orders,
        last_visit=at(last),
        first_order_at=at(first),
        last_order_at=at(last),
    )


def test_the_issues_example_sentences() -> None:
    last = TODAY - timedelta(days=41)
    # Five orders, 23 days apart: four gaps of 23 days.
    overdue = _customer(5, "900", last - timedelta(days=4 * 23), last)
    got = scores.scores_for(overdue, BOUNDS, TODAY)
    assert got.rhythm_sentence() == (
        "Usually orders every 23 days; last order 41 days ago: overdue by 18 days (expected Nov 12)"
    )
    champion = _customer(7, "2500", date(2026, 2, 1), TODAY - timedelta(days=2))
    assert scores.scores_for(champion, BOUNDS, TODAY).rfm_sentence() == (
        "R5 F4 M5, Champions: top 20\u00a0% for recency and spending"
    )


def test_sentences_of_every_status() -> None:
    def rhythm(orders: int, gap: int, since: int) -> str:
        last = TODAY - timedelta(days=since)
        first = last - timedelta(days=gap * (orders - 1))
        return scores.scores_for(
            _customer(orders, "50", first, last), BOUNDS, TODAY
        ).rhythm_sentence()

    assert rhythm(3, 10, 10) == (
        "Usually orders every 10 days; last order 10 days ago: on track"
        " (next order expected Nov 30)"
    )
    assert rhythm(3, 10, 15) == (
        "Usually orders every 10 days; last order 15 days ago: due, 5 days late (expected Nov 25)"
    )
    assert rhythm(3, 10, 30) == (
        "Usually orders every 10 days; last order 30 days ago: overdue by 20 days (expected Nov 10)"
    )
    assert rhythm(2, 100, 301) == (
        "Usually orders every 100 days; last order 301 days ago: lapsed, 201 days late"
        " (expected May 13)"
    )
    assert rhythm(2, 0, 1) == (
        "Usually orders every day; last order yesterday: on track (next order expected Nov 30)"
    )
    single = _customer(1, "50", TODAY - timedelta(days=400), TODAY - timedelta(days=400))
    got = scores.scores_for(single, BOUNDS, TODAY)
    assert got.rhythm_sentence() == "One order so far, 400 days ago: no buying rhythm yet."
    assert got.rfm_sentence() == "R1 F1 M1, Lost: bottom 20\u00a0% for recency, orders and spending"
    nobody = scores.scores_for(_customer(0, "0", None, None), BOUNDS, TODAY)
    assert nobody.rfm_sentence() == "No orders yet, so no RFM scores."
    assert nobody.rhythm_sentence() == "No orders yet."
    middle = _customer(3, "400", TODAY - timedelta(days=200), TODAY - timedelta(days=100))
    assert scores.scores_for(middle, BOUNDS, TODAY).rfm_sentence() == (
        "R3 F3 M3, Need attention: middle 20\u00a0% for recency, orders and spending"
    )


def test_a_value_on_a_cut_point_takes_the_lower_score() -> None:
    on_cuts = _customer(4, "600", date(2026, 9, 1), date(2026, 9, 1))
    got = scores.scores_for(on_cuts, BOUNDS, TODAY)
    assert (got.recency, got.frequency, got.monetary) == (3, 3, 3)
    above = scores.scores_for(
        replace(on_cuts, order_count=5, total_spending=Decimal("600.01")), BOUNDS, TODAY
    )
    assert (above.frequency, above.monetary) == (4, 4)


def test_a_deleted_customer_leaves_the_mix_at_once(con: duckdb.DuckDBPyConnection) -> None:
    today = TODAYS[0]
    before = scores.score_mix(con, today)
    row = con.execute(
        "SELECT id, rfm_group FROM customers WHERE order_count > 1 ORDER BY id LIMIT 1"
    ).fetchone()
    assert row is not None
    customer = queries.get_customer(con, int(row[0]))
    boundaries = scores.read_boundaries(con)
    assert customer is not None and boundaries is not None
    rhythm = scores.scores_for(customer, boundaries, today).rhythm
    writes.delete_customer(con, int(row[0]))
    after = scores.score_mix(con, today)
    assert after.groups == {**before.groups, row[1]: before.groups[row[1]] - 1}
    assert after.rhythm == {**before.rhythm, rhythm: before.rhythm[rhythm] - 1}


def test_the_note_says_when_and_over_how_many() -> None:
    assert scores.boundaries_note(BOUNDS) == (
        "Quintiles computed Nov 30, 2026 at 03:00 over 1,000 customers with orders;"
        " they are recomputed daily."
    )
