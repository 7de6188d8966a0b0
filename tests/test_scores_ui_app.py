"""The customer page's Scores panel (AppTest): its sentences for a customer with
several orders, one order and none, checked against figures the test works
out from the orders and the stored groups itself."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from crm import db, formatting, writes
from crm.models import CustomerCreate

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/Customer.py"

Con = duckdb.DuckDBPyConnection


@pytest.fixture
def dbc(app_env: Path) -> Any:
    connection = db.connect(app_env)
    yield connection
    connection.close()


def open_customer(customer_id: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.query_params["id"] = str(customer_id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def panel_texts(at: AppTest) -> list[str]:
    """The panel's sentences as a reader sees them (Markdown escapes taken out)."""
    texts = [str(m.value) for m in [*at.markdown, *at.caption]]
    return [t.replace("\\", "").replace(formatting.WORD_JOINER, "") for t in texts]


def badges(at: AppTest) -> list[str]:
    return [t for t in panel_texts(at) if t.startswith(":") and "-badge[" in t]


def order_facts(con: Con, customer_id: int) -> tuple[int, date, date]:
    row = con.execute(
        "SELECT count(*), CAST(min(ordered_at) AS DATE), CAST(max(ordered_at) AS DATE)"
        " FROM orders WHERE customer_id = $id",
        {"id": customer_id},
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2]


def customer_where(con: Con, condition: str) -> int:
    row = con.execute(f"SELECT min(id) FROM customers WHERE {condition}").fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


def independent_rfm(con: Con, customer_id: int) -> tuple[int, int, int]:
    """R, F, M from numpy's quintiles over every customer with orders."""
    rows = con.execute(
        "SELECT id, CAST(last_order_at AS DATE), order_count, total_spending"
        " FROM customers WHERE order_count > 0"
    ).fetchall()
    positions = [0.2, 0.4, 0.6, 0.8]
    mine = next(r for r in rows if r[0] == customer_id)
    result = []
    for column in (1, 2, 3):
        values = [r[column] for r in rows]
        if column == 1:
            ordinals = np.array([v.toordinal() for v in values])
            cuts = np.quantile(ordinals, positions, method="inverted_cdf")
            value = mine[column].toordinal()
        else:
            cuts = np.quantile(
                np.array([float(v) for v in values]), positions, method="inverted_cdf"
            )
            value = float(mine[column])
        result.append(1 + sum(1 for cut in cuts if cut < value))
    return result[0], result[1], result[2]


def test_a_customer_with_several_orders_reads_their_scores_and_rhythm(dbc: Con) -> None:
    customer_id = customer_where(
        dbc, "order_count >= 3 AND last_order_at < current_date - INTERVAL 2 DAY"
    )
    count, first, last = order_facts(dbc, customer_id)
    at = open_customer(customer_id)
    texts = panel_texts(at)
    today = date.today()
    gap = max(1, int((last - first).days / (count - 1) + 0.5))  # rounded half up
    every = "every day" if gap == 1 else f"every {gap} days"
    rhythm = next(t for t in texts if t.startswith("Usually orders"))
    assert rhythm.startswith(f"Usually orders {every}; last order {(today - last).days} days ago")
    r, f, m = independent_rfm(dbc, customer_id)
    group = dbc.execute("SELECT rfm_group FROM customers WHERE id = $id", {"id": customer_id})
    stored_group = group.fetchone()[0]  # type: ignore[index]
    assert any(t.startswith(f"R{r} F{f} M{m}, {stored_group}: ") for t in texts), texts
    with_orders = dbc.execute("SELECT count(*) FROM customers WHERE order_count > 0").fetchone()
    assert with_orders is not None
    note = next(t for t in texts if t.startswith("Quintiles computed"))
    assert f"over {with_orders[0]:,} customers with orders" in note
    assert "recomputed daily" in note
    assert any(stored_group in b for b in badges(at)), badges(at)


def test_a_customer_with_one_order_has_no_rhythm_yet(dbc: Con) -> None:
    customer_id = customer_where(
        dbc, "order_count = 1 AND last_order_at < current_date - INTERVAL 2 DAY"
    )
    _, _, last = order_facts(dbc, customer_id)
    texts = panel_texts(open_customer(customer_id))
    days = (date.today() - last).days
    assert f"One order so far, {days} days ago: no buying rhythm yet." in texts
    assert any(t.startswith("Quintiles computed") for t in texts)


def test_a_customer_without_orders_says_so(dbc: Con) -> None:
    customer_id = writes.create_customer(
        dbc, CustomerCreate(first_name="Nora", last_name="Noorders", email="nora@example.com")
    )
    at = open_customer(customer_id)
    texts = panel_texts(at)
    assert "No orders yet, so no RFM scores." in texts
    assert "No orders yet." in texts
    assert "Has not ordered yet." in texts
    # No scores, so the cut points' date says nothing about this customer.
    assert not any(t.startswith("Quintiles computed") for t in texts)


def test_an_upgraded_database_gets_its_groups_when_the_app_first_opens_it(
    app_env: Path,
) -> None:
    """Migration 004 leaves groups unset on an existing database: the cards, the RFM
    filter and Insights read the stored group, so the app scores everyone on its first
    start rather than on the first customer page someone happens to open."""
    with duckdb.connect(str(app_env)) as raw:
        raw.execute("UPDATE customers SET rfm_group = NULL")
        raw.execute("DELETE FROM score_boundaries")
        expected = raw.execute("SELECT count(*) FROM customers WHERE order_count > 0").fetchone()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with db.connect(app_env) as after:  # the app's own connection is still open here
        unset = after.execute("SELECT count(*) FROM customers WHERE rfm_group IS NULL").fetchone()
        scored = after.execute(
            "SELECT count(*) FROM customers WHERE order_count > 0 AND rfm_group <> 'No orders'"
        ).fetchone()
    assert unset == (0,)
    assert scored == expected
