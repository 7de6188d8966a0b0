"""crm.checks: a consistent database has no problems, and each broken rule is named."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from duckdb_versions import DRAWN_TO_READ

from crm import checks, db


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_a_seeded_database_has_no_problems(con: duckdb.DuckDBPyConnection) -> None:
    assert checks.database_problems(con) == []


def test_each_stored_figure_that_differs_is_named(con: duckdb.DuckDBPyConnection) -> None:
    # Six customers with orders and visits, one figure broken on each.
    customers = [
        row[0]
        for row in con.execute(
            "SELECT customer_id FROM orders INTERSECT SELECT customer_id FROM visits"
            " ORDER BY 1 LIMIT 6"
        ).fetchall()
    ]
    breaks = {
        "total_spending": "total_spending = total_spending + 1",
        "order_count": "order_count = order_count + 1",
        "visit_count": "visit_count = visit_count + 2",
        "last_visit": "last_visit = last_visit - INTERVAL 1 DAY",
        "first_order_at": "first_order_at = first_order_at - INTERVAL 1 DAY",
        "last_order_at": "last_order_at = NULL",
    }
    for customer, change in zip(customers, breaks.values(), strict=True):
        con.execute(f"UPDATE customers SET {change} WHERE id = $id", {"id": customer})
    problems = checks.database_problems(con)
    assert len(problems) == 6, problems
    for problem, figure, customer in zip(problems, breaks, customers, strict=True):
        assert problem.startswith(f"The stored {figure} of 1 customer differs from"), problem
        assert problem.endswith(f"(customer ids {customer})."), problem


def test_a_wrong_category_mask_is_named(con: duckdb.DuckDBPyConnection) -> None:
    # One buyer's mask loses a category; one customer without orders gains one.
    buyer = con.execute("SELECT min(customer_id) FROM customer_categories").fetchone()
    idle = con.execute("SELECT min(id) FROM customers WHERE order_count = 0").fetchone()
    assert buyer is not None and idle is not None
    con.execute(
        "UPDATE customers SET category_mask = category_mask // 2 WHERE id = $id", {"id": buyer[0]}
    )
    con.execute("UPDATE customers SET category_mask = 1 WHERE id = $id", {"id": idle[0]})
    (problem,) = checks.database_problems(con)
    first, second = sorted((int(buyer[0]), int(idle[0])))
    assert problem.startswith("The categories stored on the row of 2 customers differ"), problem
    assert problem.endswith(f"(customer ids {first}, {second})."), problem


def test_wrong_spending_per_month_is_named(con: duckdb.DuckDBPyConnection) -> None:
    # One customer's month loses a cent; another's month is gone; a third gains one.
    rows = con.execute(
        "SELECT customer_id, month_index FROM customer_months ORDER BY customer_id LIMIT 2"
    ).fetchall()
    changed, gone = (
        rows[0],
        con.execute(
            "SELECT customer_id, month_index FROM customer_months WHERE customer_id > $c"
            " ORDER BY customer_id LIMIT 1",
            {"c": rows[0][0]},
        ).fetchone(),
    )
    assert gone is not None
    idle = con.execute("SELECT min(id) FROM customers WHERE order_count = 0").fetchone()
    assert idle is not None
    con.execute(
        "UPDATE customer_months SET amount = amount - 0.01"
        " WHERE customer_id = $c AND month_index = $m",
        {"c": changed[0], "m": changed[1]},
    )
    con.execute(
        "DELETE FROM customer_months WHERE customer_id = $c AND month_index = $m",
        {"c": gone[0], "m": gone[1]},
    )
    con.execute("INSERT INTO customer_months VALUES ($c, 24300, 5, 1)", {"c": idle[0]})
    (problem,) = checks.database_problems(con)
    ids = ", ".join(str(i) for i in sorted({int(changed[0]), int(gone[0]), int(idle[0])}))
    assert problem.startswith("The spending per month stored for 3 customers differs"), problem
    assert problem.endswith(f"(customer ids {ids})."), problem


def test_an_order_whose_amount_is_not_its_items_sum(con: duckdb.DuckDBPyConnection) -> None:
    order = _one(con, "SELECT min(id) FROM orders")
    customer = _one(con, f"SELECT customer_id FROM orders WHERE id = {order}")
    with db.transaction(con) as cur:
        # The customer's figures stay true: only the order disagrees with its items.
        cur.execute("UPDATE orders SET amount = amount + 5 WHERE id = $id", {"id": order})
        cur.execute(
            "UPDATE customers SET total_spending = total_spending + 5 WHERE id = $id",
            {"id": customer},
        )
        cur.execute(
            "UPDATE customer_months SET amount = amount + 5 WHERE customer_id = $id"
            " AND month_index = (SELECT CAST(year(ordered_at) * 12 + month(ordered_at) - 1"
            " AS SMALLINT) FROM orders WHERE id = $order)",
            {"id": customer, "order": order},
        )
    assert checks.database_problems(con) == [
        f"The amount of 1 order differs from the sum of their items (order ids {order})."
    ]


def test_rows_of_a_missing_customer_are_named_by_kind(con: duckdb.DuckDBPyConnection) -> None:
    # A customer with an order, a visit, a campaign send and a message, deleted
    # behind crm.writes' back.
    gone = _one(
        con,
        "SELECT min(customer_id) FROM messages WHERE customer_id IN"
        " (SELECT customer_id FROM campaign_sends) AND customer_id IN"
        " (SELECT customer_id FROM orders) AND customer_id IN (SELECT customer_id FROM visits)",
    )
    counts = {
        table: _one(con, f"SELECT count(*) FROM {table} WHERE customer_id = {gone}")
        for table in ("orders", "visits", "campaign_sends", "messages")
    }
    first_order = _one(con, f"SELECT min(id) FROM orders WHERE customer_id = {gone}")
    con.execute("DELETE FROM customers WHERE id = $id", {"id": gone})
    problems = checks.database_problems(con)
    plural = {"orders": "order", "visits": "visit", "campaign_sends": "campaign send"}
    for table, count in counts.items():
        noun = plural.get(table, "message").replace("_", " ")
        expected = f"Customer not found for {count} {noun}" + ("" if count == 1 else "s")
        assert any(p.startswith(expected + " (ids ") for p in problems), (expected, problems)
    items = [p for p in problems if p.startswith("Customer not found for") and "items" in p]
    assert len(items) == 1 and f"(ids {first_order}" in items[0], problems


def test_items_of_a_missing_order_are_named(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price)"
        " SELECT 999999, min(id), 1, 1, 1 FROM customers"
    )
    assert "Order not found for 1 order's items (ids 999999)." in checks.database_problems(con)


def test_a_sequence_behind_the_highest_id_is_named(con: duckdb.DuckDBPyConnection) -> None:
    # A row inserted with an explicit id, as a naive restore would.
    taken = _one(con, "SELECT max(id) FROM customers") + 50
    con.execute(
        "INSERT INTO customers (id, first_name, last_name, email, email_key, search_text)"
        " VALUES ($id, 'A', 'B', 'ab@example.com', 'ab@example.com', 'a b ab@example.com')",
        {"id": taken},
    )
    next_id = taken - 49 + DRAWN_TO_READ
    assert checks.database_problems(con) == [
        f"The sequence customer_id_seq would hand out customers id {next_id},"
        f" but ids up to {taken} are taken."
    ]
    # The sentence names the id the sequence really hands out next.
    assert _one(con, "SELECT nextval('customer_id_seq')") == next_id


def test_a_shared_email_key_is_named(db_path: Path) -> None:
    # The UNIQUE constraint keeps this from happening in the app's own file, so
    # the table is rebuilt without it, as a database made by hand could be.
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE loose AS SELECT * FROM customers")
    con.execute("DROP TABLE customers")
    con.execute("ALTER TABLE loose RENAME TO customers")
    first, second = (
        row[0] for row in con.execute("SELECT id FROM customers ORDER BY id LIMIT 2").fetchall()
    )
    key = con.execute("SELECT email_key FROM customers WHERE id = $id", {"id": first}).fetchone()
    assert key is not None
    con.execute(
        "UPDATE customers SET email_key = $key WHERE id = $id", {"key": key[0], "id": second}
    )
    problems = checks.database_problems(con)
    con.close()
    assert f"1 email address is used by more than one customer ({key[0]})." in problems


def test_the_command_exits_1_and_prints_each_problem(
    con: duckdb.DuckDBPyConnection, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con.execute("UPDATE customers SET visit_count = visit_count + 1 WHERE id = 1")
    con.close()
    assert checks.main(["--db", str(db_path)]) == 1
    assert "The stored visit_count of 1 customer differs" in capsys.readouterr().out


def test_the_command_says_when_all_is_well(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert checks.main(["--db", str(db_path)]) == 0
    assert capsys.readouterr().out == f"{db_path}: no problems found.\n"
