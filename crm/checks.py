"""Invariants of a Customer Hub database, checked from the data itself.

The app keeps these true in every write transaction (crm.writes); a database
that came from elsewhere (a restored backup, a file copied by hand) is checked
with ``database_problems`` before anyone relies on it. Each problem is a
sentence naming how many rows break the rule and the first few of their ids.

    python -m crm.checks --db PATH
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crm import db, search
from crm.errors import DatabaseInUse

Con = duckdb.DuckDBPyConnection

# How many offending ids a sentence names; the count says how many there are.
_SHOWN_IDS = 5

_FIGURES_SQL = """
WITH from_orders AS (
    SELECT customer_id, sum(amount) AS total_spending, count(*) AS order_count,
           min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at
    FROM orders GROUP BY customer_id
), from_visits AS (
    SELECT customer_id, count(*) AS visit_count, max(visited_at) AS last_visit
    FROM visits GROUP BY customer_id
), compared AS (
    SELECT c.id,
           c.total_spending <> coalesce(o.total_spending, 0) AS spending_differs,
           c.order_count <> coalesce(o.order_count, 0) AS orders_differ,
           c.visit_count <> coalesce(v.visit_count, 0) AS visits_differ,
           c.last_visit IS DISTINCT FROM v.last_visit AS last_visit_differs,
           c.first_order_at IS DISTINCT FROM o.first_order_at AS first_order_differs,
           c.last_order_at IS DISTINCT FROM o.last_order_at AS last_order_differs
    FROM customers AS c
    LEFT JOIN from_orders AS o ON o.customer_id = c.id
    LEFT JOIN from_visits AS v ON v.customer_id = c.id
)
SELECT 1 AS rank, 'total_spending', 'the sum of their orders',
       count(*) FILTER (WHERE spending_differs),
       (list(id ORDER BY id) FILTER (WHERE spending_differs))[1:$shown]
FROM compared
UNION ALL
SELECT 2, 'order_count', 'the number of their orders',
       count(*) FILTER (WHERE orders_differ),
       (list(id ORDER BY id) FILTER (WHERE orders_differ))[1:$shown]
FROM compared
UNION ALL
SELECT 3, 'visit_count', 'the number of their visits',
       count(*) FILTER (WHERE visits_differ),
       (list(id ORDER BY id) FILTER (WHERE visits_differ))[1:$shown]
FROM compared
UNION ALL
SELECT 4, 'last_visit', 'the time of their latest visit',
       count(*) FILTER (WHERE last_visit_differs),
       (list(id ORDER BY id) FILTER (WHERE last_visit_differs))[1:$shown]
FROM compared
UNION ALL
SELECT 5, 'first_order_at', 'the time of their first order',
       count(*) FILTER (WHERE first_order_differs),
       (list(id ORDER BY id) FILTER (WHERE first_order_differs))[1:$shown]
FROM compared
UNION ALL
SELECT 6, 'last_order_at', 'the time of their latest order',
       count(*) FILTER (WHERE last_order_differs),
       (list(id ORDER BY id) FILTER (WHERE last_order_differs))[1:$shown]
FROM compared
ORDER BY rank
"""

_ORDER_AMOUNTS_SQL = """
SELECT count(*), (list(o.id ORDER BY o.id))[1:$shown]
FROM orders AS o
LEFT JOIN (
    SELECT order_id, sum(quantity * unit_price) AS items_total
    FROM order_items GROUP BY order_id
) AS i ON i.order_id = o.id
WHERE o.amount <> coalesce(i.items_total, 0)
"""

# Rows that point at a customer (or an order, a campaign) that is not there.
# order_items has no id of its own: its rows are named by their order's id
# (the rank keeps the sentences in this order).
_ORPHANS_SQL = """
SELECT 1 AS rank, 'order', 'orders', 'Customer', count(*), (list(t.id ORDER BY t.id))[1:$shown]
FROM orders AS t ANTI JOIN customers AS c ON c.id = t.customer_id
UNION ALL
SELECT 2, 'order''s items', 'orders'' items', 'Customer', count(DISTINCT t.order_id),
       (list(DISTINCT t.order_id ORDER BY t.order_id))[1:$shown]
FROM order_items AS t ANTI JOIN customers AS c ON c.id = t.customer_id
UNION ALL
SELECT 3, 'order''s items', 'orders'' items', 'Order', count(DISTINCT t.order_id),
       (list(DISTINCT t.order_id ORDER BY t.order_id))[1:$shown]
FROM order_items AS t ANTI JOIN orders AS o ON o.id = t.order_id
UNION ALL
SELECT 4, 'visit', 'visits', 'Customer', count(*), (list(t.id ORDER BY t.id))[1:$shown]
FROM visits AS t ANTI JOIN customers AS c ON c.id = t.customer_id
UNION ALL
SELECT 5, 'campaign send', 'campaign sends', 'Customer', count(*),
       (list(t.id ORDER BY t.id))[1:$shown]
FROM campaign_sends AS t ANTI JOIN customers AS c ON c.id = t.customer_id
UNION ALL
SELECT 6, 'campaign send', 'campaign sends', 'Campaign', count(*),
       (list(t.id ORDER BY t.id))[1:$shown]
FROM campaign_sends AS t ANTI JOIN campaigns AS c ON c.id = t.campaign_id
UNION ALL
SELECT 7, 'message', 'messages', 'Customer', count(*), (list(t.id ORDER BY t.id))[1:$shown]
FROM messages AS t ANTI JOIN customers AS c ON c.id = t.customer_id
ORDER BY rank
"""

# A signature that disagrees with its text would hide the customer from searches
# (crm.search); a missing one (NULL) only costs speed, so it is not a problem.
_SEARCH_SIGNATURES_SQL = f"""
SELECT count(*), (list(id ORDER BY id))[1:$shown]
FROM customers
WHERE search_sig IS DISTINCT FROM {search.SIGNATURE_OF_COLUMN} AND search_sig IS NOT NULL
"""  # noqa: S608 - a module constant

# The categories on the customer row (migration 018) against the (customer,
# category) pairs: a wrong mask would miscount the Insights panel's categories.
_CATEGORY_MASKS_SQL = """
SELECT count(*), (list(c.id ORDER BY c.id))[1:$shown]
FROM customers AS c
LEFT JOIN (
    SELECT cc.customer_id, bit_or(CAST(1 AS UBIGINT) << CAST(b.bit AS UBIGINT)) AS mask
    FROM customer_categories AS cc JOIN category_bits AS b USING (category)
    WHERE b.bit < 64
    GROUP BY cc.customer_id
) AS m ON m.customer_id = c.id
WHERE c.category_mask IS DISTINCT FROM coalesce(m.mask, 0)
"""

# Each customer's orders per month (migration 019) against their orders.
_CUSTOMER_MONTHS_SQL = """
WITH expected AS (
    SELECT customer_id, CAST(year(ordered_at) * 12 + month(ordered_at) - 1 AS SMALLINT)
               AS month_index,
           sum(amount) AS amount, count(*) AS orders
    FROM orders GROUP BY ALL
), differ AS (
    SELECT coalesce(e.customer_id, m.customer_id) AS id
    FROM expected AS e
    FULL JOIN customer_months AS m
           ON m.customer_id = e.customer_id AND m.month_index = e.month_index
    WHERE e.amount IS DISTINCT FROM m.amount OR e.orders IS DISTINCT FROM m.orders
)
SELECT count(DISTINCT id), (list(DISTINCT id ORDER BY id))[1:$shown] FROM differ
"""

# Facts stored with each customer that are derived from other rows: the
# statement counting (and naming) the customers whose fact is wrong, and the
# sentence saying so ({customers}: "3 customers"; {ids}: the first few).
_DERIVED_FACTS = (
    (
        _SEARCH_SIGNATURES_SQL,
        "The search signature of {customers} differs from their name and email, so"
        " searches would miss them (customer ids {ids}); saving each of them again writes"
        " it afresh.",
    ),
    (
        _CATEGORY_MASKS_SQL,
        "The categories stored on the row of {customers} differ from the categories they"
        " bought, so the Insights panel would miscount them (customer ids {ids}).",
    ),
    (
        _CUSTOMER_MONTHS_SQL,
        "The spending per month stored for {customers} differs from their orders, so the"
        " Insights panel's revenue by month would be wrong (customer ids {ids}).",
    ),
)

_DUPLICATE_EMAILS_SQL = """
SELECT count(*), (list(email_key ORDER BY email_key))[1:$shown]
FROM (SELECT email_key FROM customers GROUP BY email_key HAVING count(*) > 1)
"""

# The id columns (all named id) filled from a sequence (DEFAULT nextval('...')), read from the
# catalogue so a table added by a later migration is covered too.
_ID_SEQUENCES_SQL = """
SELECT c.table_name, c.column_name, s.sequence_name
FROM duckdb_columns() AS c
LEFT JOIN duckdb_sequences() AS s
       ON s.database_name = c.database_name AND s.schema_name = c.schema_name
      AND s.sequence_name = regexp_extract(c.column_default, 'nextval\\(''([^'']+)''\\)', 1)
WHERE c.database_name = current_database() AND c.schema_name = 'main'
  AND c.column_name = 'id' AND c.column_default LIKE 'nextval(%'
ORDER BY c.table_name
"""

_SEQUENCES_SQL = """
SELECT sequence_name, start_value, last_value, increment_by
FROM duckdb_sequences()
WHERE database_name = current_database() AND schema_name = 'main'
ORDER BY sequence_name
"""
# DuckDB reports the last value a sequence gave out (NULL before the first) and
# its start, which a reopened file sets to where the sequence stood. DuckDB 1.x
# (1.5.6 is the newest client MotherDuck accepts) reports that start as the
# last value too after a reopen, until the next draw, so "last = start" means
# either "nothing drawn since the open: next is last" or "one value drawn since:
# next is last + 1". Only a draw can tell; it uses one id up, which is harmless
# (ids have gaps anyway). DuckDB 2 reports the true last value.
_LAST_VALUE_AMBIGUOUS = int(duckdb.__version__.split(".")[0]) < 2


def next_values(cur: Con) -> dict[str, int]:
    """The value each sequence hands out next, by name.

    On DuckDB 1.x a sequence whose reading is ambiguous (above) is drawn once,
    so the value returned is exact and comes after the drawn one; on a
    read-only connection, which cannot draw, it is ``last + 1``: at most one
    too high, which only skips an id. Runs on ``cur``, so inside the caller's
    transaction when it has one (a draw is not undone by a rollback).
    """
    mode = cur.execute("SELECT current_setting('access_mode')").fetchone()
    can_draw = mode is None or str(mode[0]).lower() != "read_only"
    found = {}
    for name, start, last, step in cur.execute(_SEQUENCES_SQL).fetchall():
        if last is None:
            found[name] = int(start)
        elif _LAST_VALUE_AMBIGUOUS and last == start and can_draw:
            # The name comes from the catalogue; nextval takes it as a bound value.
            drawn = cur.execute("SELECT nextval($name)", {"name": name}).fetchone()
            assert drawn is not None
            found[name] = int(drawn[0]) + int(step)
        else:
            found[name] = int(last) + int(step)
    return found


@dataclass(frozen=True)
class IdSequence:
    """An id column filled from a sequence, the highest id in it and the sequence's next value."""

    table: str
    column: str
    sequence: str | None  # None when the column names a sequence that does not exist
    next_id: int | None
    max_id: int | None


def id_sequences(cur: Con) -> list[IdSequence]:
    """Every sequence-filled id column with its highest id and the sequence's next value.

    Runs on ``cur`` itself, so inside the caller's transaction when it has one.
    """
    nexts = next_values(cur)
    found = []
    for table, column, sequence in cur.execute(_ID_SEQUENCES_SQL).fetchall():
        # The table's name is a bound value: query_table looks it up.
        row = cur.execute("SELECT max(id) FROM query_table($table)", {"table": table}).fetchone()
        next_id = nexts.get(sequence) if sequence is not None else None
        found.append(IdSequence(table, column, sequence, next_id, row[0] if row else None))
    return found


def _many(count: int, one: str, many: str) -> str:
    return f"1 {one}" if count == 1 else f"{count:,} {many}"


def _examples(values: list[object], count: int) -> str:
    more = ", ..." if count > len(values) else ""
    return ", ".join(str(value) for value in values) + more


def database_problems(con: Con) -> list[str]:
    """Every broken invariant of the database, each as a sentence; empty when all hold.

    Reads every order, visit and item once (seconds at a million customers):
    for restores and checks by hand, not for a page.
    """
    cur = con.cursor()
    shown = {"shown": _SHOWN_IDS}
    problems = []
    for _, figure, meaning, count, ids in cur.execute(_FIGURES_SQL, shown).fetchall():
        if count:
            problems.append(
                f"The stored {figure} of {_many(count, 'customer', 'customers')}"
                f" differs from {meaning}"
                f" (customer ids {_examples(ids, count)})."
            )
    count, ids = cur.execute(_ORDER_AMOUNTS_SQL, shown).fetchone() or (0, [])
    if count:
        problems.append(
            f"The amount of {_many(count, 'order', 'orders')} differs from the sum of their items"
            f" (order ids {_examples(ids, count)})."
        )
    for _, one, many, parent, count, ids in cur.execute(_ORPHANS_SQL, shown).fetchall():
        if count:
            problems.append(
                f"{parent} not found for {_many(count, one, many)} (ids {_examples(ids, count)})."
            )
    for sql, sentence in _DERIVED_FACTS:
        count, ids = cur.execute(sql, shown).fetchone() or (0, [])
        if count:
            customers = _many(count, "customer", "customers")
            problems.append(sentence.format(customers=customers, ids=_examples(ids, count)))
    count, keys = cur.execute(_DUPLICATE_EMAILS_SQL, shown).fetchone() or (0, [])
    if count:
        problems.append(
            f"{_many(count, 'email address is', 'email addresses are')} used by more than"
            f" one customer ({_examples(keys, count)})."
        )
    for ids in id_sequences(cur):
        if ids.sequence is None or ids.next_id is None:
            problems.append(f"The sequence behind {ids.table}.{ids.column} is missing.")
        elif ids.max_id is not None and ids.next_id <= ids.max_id:
            problems.append(
                f"The sequence {ids.sequence} would hand out {ids.table} id {ids.next_id},"
                f" but ids up to {ids.max_id} are taken."
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm.checks",
        description="Check a Customer Hub database's invariants; exit status 1 if any is broken.",
    )
    parser.add_argument("--db", type=Path, required=True, help="database file to check")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"error: {args.db} does not exist.", file=sys.stderr)
        return 2
    try:
        con = db.connect(args.db)
    except DatabaseInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        problems = database_problems(con)
    finally:
        con.close()
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{args.db}: no problems found.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
