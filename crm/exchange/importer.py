"""Importing customers and orders from CSV, Excel (.xlsx) or Parquet files.

    python -m crm.importer customers FILE --db PATH [--dry-run] [--update-existing]
    python -m crm.importer orders FILE --db PATH [--dry-run] [--day-first | --month-first]

Three steps, as on the Import page:

1. ``read_file`` reads the file as text (``crm.exchange.import_files``) and
   ``suggest_mapping`` matches its columns to the fields by header.
2. ``dry_run`` checks every row in SQL and writes nothing
   (``crm.exchange.import_checks``): a report of each problem (row, column,
   what is wrong) and a summary.
3. ``commit`` writes the accepted rows in one transaction, all or nothing,
   as one batch (``import_batches``), with the customers' figures, scores and
   purchase facts recomputed for the customers it touched. A customer already
   here (same email, in any case) is updated or skipped, as the user chose.

``undo_import`` removes a batch as a whole while its customers are otherwise
unchanged: each created customer still at the version the import left, with
no orders, messages or campaign sends of its own since; each updated
customer still at that version, given back the values it had (stored in
``import_customers``). Otherwise it says how many changed and undoes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crm import db, facts, scores, search
from crm.campaigns import facts as campaign_facts
from crm.errors import ConflictError, CrmError, DatabaseInUse, DuplicateError, NotFound
from crm.exchange.export import csv_bytes
from crm.exchange.import_checks import (
    AMOUNT_CATEGORY,
    AMOUNT_PRODUCT,
    Plan,
    Progress,
    dry_run,
)
from crm.exchange.import_fields import KINDS, Kind, Mapping, labels, suggest_mapping
from crm.exchange.import_files import MAX_FILE_MB, BadFile, RawFile, read_file

__all__ = [
    "KINDS",
    "MAX_FILE_MB",
    "BadFile",
    "ImportResult",
    "Kind",
    "Mapping",
    "Plan",
    "RawFile",
    "commit",
    "dry_run",
    "file_sha256",
    "imports",
    "labels",
    "read_file",
    "report_csv",
    "suggest_mapping",
    "undo_import",
]

Con = duckdb.DuckDBPyConnection

CHANGED_SINCE = (
    "{count} of this file's rows match customers that were added or changed by someone"
    " else since the dry run; nothing was imported. Run the dry run again."
)
REPORT_HEADERS = {"row": "Row", "field": "Field", "column": "File column", "problem": "Problem"}


def _quiet(_share: float, _step: str) -> None:
    return None


@dataclass(frozen=True)
class ImportResult:
    batch_id: int
    created: int
    updated: int
    skipped: int
    orders: int
    seconds: float
    refused: int = 0  # the file's rows the dry run refused (not imported)

    def sentence(self, kind: Kind) -> str:
        refused = ""
        if self.refused:
            rows = "1 row was" if self.refused == 1 else f"{self.refused:,} rows were"
            refused = f"; {rows} refused"
        if kind == "orders":
            return f"Imported {self.orders:,} orders{refused} (import #{self.batch_id})."
        return (
            f"Imported {self.created:,} new customers, updated {self.updated:,},"
            f" left {self.skipped:,} as they were{refused} (import #{self.batch_id})."
        )


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report_csv(plan: Plan) -> bytes:
    """The dry run's problems as a CSV a spreadsheet opens safely (cells neutralised)."""
    return csv_bytes(plan.problems, REPORT_HEADERS)


@contextmanager
def _write(con: Con) -> Iterator[Con]:
    try:
        with db.transaction(con) as cur:
            yield cur
    except duckdb.ConstraintException as exc:
        if "email_key" in str(exc) or "duplicate key" in str(exc).lower():
            raise ConflictError(CHANGED_SINCE.format(count="Some")) from None
        raise
    except duckdb.TransactionException as exc:
        raise ConflictError(CHANGED_SINCE.format(count="Some")) from exc


_NEW_BATCH = """
INSERT INTO import_batches (kind, file_name, file_sha256, file_rows, refused, imported_by)
VALUES ($kind, $file_name, $sha, $rows, $refused, $by)
RETURNING id
"""
_BATCH_COUNTS = """
UPDATE import_batches
SET created = $created, updated = $updated, skipped = $skipped, orders = $orders
WHERE id = $batch
"""

# --- Customers -------------------------------------------------------------------------

_CUSTOMERS_NOW = """
CREATE OR REPLACE TEMP TABLE import_now AS
SELECT p.*, c.id AS current_id, c.version AS current_version
FROM import_plan AS p LEFT JOIN customers AS c ON c.email_key = p.email_key
"""
_CUSTOMERS_MOVED = """
SELECT count(*) FROM import_now
WHERE current_id IS DISTINCT FROM customer_id OR current_version IS DISTINCT FROM customer_version
"""
_NEW_CUSTOMERS = """
CREATE OR REPLACE TEMP TABLE import_new AS
SELECT nextval('customer_id_seq') AS id, * FROM import_now WHERE current_id IS NULL
"""
_INSERT_CUSTOMERS = f"""
INSERT INTO customers (id, first_name, last_name, email, email_key, phone, street, city,
                       state, zip, country, search_text, search_sig)
SELECT id, first_name, last_name, email, email_key, coalesce(phone, ''), coalesce(street, ''),
       coalesce(city, ''), coalesce(state, ''), coalesce(zip, ''), coalesce(country, ''),
       search_text, {search.SIGNATURE_OF_COLUMN}
FROM import_new
"""  # noqa: S608 - a module constant
_RECORD_CREATED = """
INSERT INTO import_customers (batch_id, customer_id, action, version_after)
SELECT $batch, id, 'created', 1 FROM import_new
"""
_RECORD_UPDATED = """
INSERT INTO import_customers (batch_id, customer_id, action, version_after, first_name,
    last_name, email, email_key, phone, street, city, state, zip, country, search_text,
    updated_at)
SELECT $batch, c.id, 'updated', c.version + 1, c.first_name, c.last_name, c.email,
       c.email_key, c.phone, c.street, c.city, c.state, c.zip, c.country, c.search_text,
       c.updated_at
FROM customers AS c JOIN import_now AS n ON n.current_id = c.id
WHERE n.differs
"""
# Empty cells (and fields the file does not have) keep the customer's value.
_UPDATE_CUSTOMERS = f"""
UPDATE customers SET
    first_name = n.first_name,
    last_name = n.last_name,
    email = n.email,
    phone = coalesce(nullif(n.phone, ''), customers.phone),
    street = coalesce(nullif(n.street, ''), customers.street),
    city = coalesce(nullif(n.city, ''), customers.city),
    state = coalesce(nullif(n.state, ''), customers.state),
    zip = coalesce(nullif(n.zip, ''), customers.zip),
    country = coalesce(nullif(n.country, ''), customers.country),
    search_text = n.search_text,
    search_sig = {search.SIGNATURE_OF_NEW},
    version = customers.version + 1,
    updated_at = current_localtimestamp()
FROM import_now AS n
WHERE customers.id = n.current_id AND customers.version = n.current_version AND n.differs
"""  # noqa: S608 - a module constant


def _commit_customers(
    cur: Con, plan: Plan, batch: int, update_existing: bool, progress: Progress
) -> ImportResult:
    cur.execute(_CUSTOMERS_NOW)
    moved = _count(cur, _CUSTOMERS_MOVED)
    if moved:
        raise ConflictError(CHANGED_SINCE.format(count=f"{moved:,}"))
    progress(0.3, "Adding the new customers")
    cur.execute(_NEW_CUSTOMERS)
    cur.execute(_INSERT_CUSTOMERS)
    cur.execute(_RECORD_CREATED, {"batch": batch})
    updated = 0
    if update_existing:
        progress(0.7, "Updating the customers already here")
        cur.execute(_RECORD_UPDATED, {"batch": batch})
        updated = _count(cur, "SELECT count(*) FROM import_now WHERE differs")
        cur.execute(_UPDATE_CUSTOMERS)
    return ImportResult(
        batch_id=batch,
        created=plan.new,
        updated=updated,
        skipped=plan.existing - updated,
        orders=0,
        seconds=0.0,
    )


# --- Orders ----------------------------------------------------------------------------

_ORDERS_GONE = """
SELECT count(DISTINCT p.customer_id) FROM import_plan AS p
WHERE p.customer_id NOT IN (SELECT id FROM customers)
"""
_AMOUNT_PRODUCT = "SELECT min(id) FROM products WHERE name = $name AND category = $category"
_NEW_AMOUNT_PRODUCT = """
INSERT INTO products (name, category, price) VALUES ($name, $category, 0) RETURNING id
"""
_NEW_ORDERS = """
CREATE OR REPLACE TEMP TABLE import_new_orders AS
SELECT nextval('order_id_seq') AS order_id, nextval('visit_id_seq') AS visit_id, *
FROM (
    SELECT order_key, any_value(customer_id) AS customer_id, min(ordered_at) AS ordered_at,
           min(channel) AS channel,
           sum(coalesce(amount, quantity * unit_price)) AS amount
    FROM import_plan GROUP BY order_key
)
"""
_INSERT_ITEMS = """
INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price)
SELECT o.order_id, o.customer_id, coalesce(p.product_id, $amount_product), p.quantity,
       coalesce(p.unit_price, p.amount)
FROM import_plan AS p JOIN import_new_orders AS o USING (order_key)
"""
_INSERT_ORDERS = """
INSERT INTO orders (id, customer_id, ordered_at, amount)
SELECT order_id, customer_id, ordered_at, amount FROM import_new_orders
"""
_INSERT_VISITS = """
INSERT INTO visits (id, customer_id, visited_at, channel, order_id)
SELECT visit_id, customer_id, ordered_at, channel, order_id FROM import_new_orders
"""
_RECORD_ORDERS = """
INSERT INTO import_orders (batch_id, order_id, customer_id)
SELECT $batch, order_id, customer_id FROM import_new_orders
"""
# The figures crm.writes._refresh_figures keeps for one customer, for every
# customer in rescore_ids at once (one pass over their orders and visits).
_REFRESH_FIGURES = """
UPDATE customers SET
    total_spending = f.total_spending, order_count = f.order_count,
    first_order_at = f.first_order_at, last_order_at = f.last_order_at,
    visit_count = f.visit_count, last_visit = f.last_visit
FROM (
    SELECT r.id, coalesce(o.total_spending, 0) AS total_spending,
           coalesce(o.order_count, 0) AS order_count,
           o.first_order_at, o.last_order_at,
           coalesce(v.visit_count, 0) AS visit_count, v.last_visit
    FROM rescore_ids AS r
    LEFT JOIN (
        SELECT customer_id, sum(amount) AS total_spending, count(*) AS order_count,
               min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at
        FROM orders WHERE customer_id IN (SELECT id FROM rescore_ids) GROUP BY customer_id
    ) AS o ON o.customer_id = r.id
    LEFT JOIN (
        SELECT customer_id, count(*) AS visit_count, max(visited_at) AS last_visit
        FROM visits WHERE customer_id IN (SELECT id FROM rescore_ids) GROUP BY customer_id
    ) AS v ON v.customer_id = r.id
) AS f
WHERE customers.id = f.id
"""


def _refresh_listed(cur: Con) -> None:
    """Figures, scores, purchase facts and campaign windows of the customers in
    ``rescore_ids`` (what crm.writes keeps for one customer when its orders change)."""
    cur.execute(_REFRESH_FIGURES)
    scores.rescore_listed(cur)
    facts.refresh_listed(cur)
    campaign_facts.refresh_listed(cur)


def _amount_product(cur: Con) -> int:
    params = {"name": AMOUNT_PRODUCT, "category": AMOUNT_CATEGORY}
    row = cur.execute(_AMOUNT_PRODUCT, params).fetchone()
    if row is None or row[0] is None:
        row = cur.execute(_NEW_AMOUNT_PRODUCT, params).fetchone()
    assert row is not None
    return int(row[0])


def _commit_orders(cur: Con, plan: Plan, batch: int, progress: Progress) -> ImportResult:
    gone = _count(cur, _ORDERS_GONE)
    if gone:
        raise ConflictError(
            f"{gone:,} customers of this file were deleted since the dry run;"
            " nothing was imported. Run the dry run again."
        )
    by_amount = plan.mapping.get("amount") is not None
    product = _amount_product(cur) if by_amount else None
    progress(0.3, "Adding the orders")
    cur.execute(_NEW_ORDERS)
    cur.execute(_INSERT_ITEMS, {"amount_product": product})
    cur.execute(_INSERT_ORDERS)
    cur.execute(_INSERT_VISITS)
    cur.execute(_RECORD_ORDERS, {"batch": batch})
    progress(0.6, "Recomputing the customers' figures and scores")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {scores.RESCORE_IDS_TABLE} AS"  # noqa: S608
        " SELECT DISTINCT customer_id AS id FROM import_new_orders"
    )
    _refresh_listed(cur)
    orders = _count(cur, "SELECT count(*) FROM import_new_orders")
    return ImportResult(batch, 0, 0, 0, orders, 0.0)


def _count(cur: Con, sql: str, params: dict[str, Any] | None = None) -> int:
    row = cur.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def commit(
    con: Con,
    plan: Plan,
    *,
    update_existing: bool = False,
    by: str | None = None,
    progress: Progress = _quiet,
) -> ImportResult:
    """Write the dry run's accepted rows in one transaction, as one recorded batch.

    Refuses (ConflictError, nothing written) when the database moved since the
    dry run in a way that changes what it would do; refuses a plan with
    blocking problems (BadFile).
    """
    if not plan.can_import:
        raise BadFile(plan.blocking[0])
    started = time.perf_counter()
    progress(0.05, "Starting")
    with _write(con) as cur:
        cur.register("import_plan", plan.accepted)
        row = cur.execute(
            _NEW_BATCH,
            {
                "kind": plan.kind,
                "file_name": plan.file_name,
                "sha": plan.file_sha256,
                "rows": plan.file_rows,
                "refused": plan.refused,
                "by": by,
            },
        ).fetchone()
        assert row is not None
        batch = int(row[0])
        if plan.kind == "customers":
            result = _commit_customers(cur, plan, batch, update_existing, progress)
        else:
            result = _commit_orders(cur, plan, batch, progress)
        cur.execute(
            _BATCH_COUNTS,
            {
                "batch": batch,
                "created": result.created,
                "updated": result.updated,
                "skipped": result.skipped,
                "orders": result.orders,
            },
        )
        progress(0.95, "Saving")
    progress(1.0, "Done")
    return ImportResult(
        batch,
        result.created,
        result.updated,
        result.skipped,
        result.orders,
        time.perf_counter() - started,
        refused=plan.refused,
    )


# --- Undo ------------------------------------------------------------------------------

_CHANGED_CUSTOMERS = """
SELECT count(*) FROM import_customers AS ic
LEFT JOIN customers AS c ON c.id = ic.customer_id
WHERE ic.batch_id = $batch
  AND (c.id IS NULL OR c.version <> ic.version_after
       OR (ic.action = 'created'
           AND (ic.customer_id IN (SELECT customer_id FROM orders)
                OR ic.customer_id IN (SELECT customer_id FROM visits)
                OR ic.customer_id IN (SELECT customer_id FROM campaign_sends)
                OR ic.customer_id IN (SELECT customer_id FROM messages))))
"""
_DELETE_CREATED = """
DELETE FROM customers WHERE id IN (
    SELECT customer_id FROM import_customers WHERE batch_id = $batch AND action = 'created'
)
"""
_RESTORE_UPDATED = f"""
UPDATE customers SET
    first_name = ic.first_name, last_name = ic.last_name, email = ic.email,
    phone = ic.phone, street = ic.street, city = ic.city, state = ic.state, zip = ic.zip,
    country = ic.country, search_text = ic.search_text, search_sig = {search.SIGNATURE_OF_OLD},
    version = customers.version + 1, updated_at = current_localtimestamp()
FROM import_customers AS ic
WHERE ic.batch_id = $batch AND ic.action = 'updated'
  AND customers.id = ic.customer_id AND customers.version = ic.version_after
"""  # noqa: S608 - a module constant
_MISSING_ORDERS = """
SELECT count(*) FROM import_orders
WHERE batch_id = $batch AND order_id NOT IN (SELECT id FROM orders)
"""
_ORDER_CUSTOMERS = """
CREATE OR REPLACE TEMP TABLE rescore_ids AS
SELECT DISTINCT customer_id AS id FROM import_orders WHERE batch_id = $batch
"""
_DELETE_ORDERS = (
    "DELETE FROM order_items WHERE order_id IN"
    " (SELECT order_id FROM import_orders WHERE batch_id = $batch)",
    "DELETE FROM visits WHERE order_id IN"
    " (SELECT order_id FROM import_orders WHERE batch_id = $batch)",
    "DELETE FROM orders WHERE id IN (SELECT order_id FROM import_orders WHERE batch_id = $batch)",
)
_MARK_UNDONE = """
UPDATE import_batches SET undone_at = current_localtimestamp(), undone_by = $by
WHERE id = $batch
"""


def undo_import(con: Con, batch_id: int, *, by: str | None = None) -> str:
    """Remove what import ``batch_id`` wrote, as a whole; returns a sentence saying what.

    ConflictError (nothing undone) when any of its customers changed since;
    DuplicateError when it was undone already; NotFound for an unknown batch.
    """
    with _write(con) as cur:
        row = cur.execute(
            "SELECT kind, undone_at, created, updated, orders FROM import_batches"
            " WHERE id = $batch",
            {"batch": batch_id},
        ).fetchone()
        if row is None:
            raise NotFound("That import no longer exists.")
        kind, undone_at, created, updated, orders = row
        if undone_at is not None:
            raise DuplicateError("This import was undone already.")
        params = {"batch": batch_id}
        if kind == "customers":
            changed = _count(cur, _CHANGED_CUSTOMERS, params)
            if changed:
                raise ConflictError(
                    f"{changed:,} of the {created + updated:,} customers this import created"
                    " or updated were changed since (edited, deleted, or given orders,"
                    " messages or campaign sends), so nothing was undone."
                )
            cur.execute(_DELETE_CREATED, params)
            cur.execute(_RESTORE_UPDATED, params)
            done = (
                f"Undid import #{batch_id}: removed {created:,} customers"
                f" and gave {updated:,} back their earlier details."
            )
        else:
            missing = _count(cur, _MISSING_ORDERS, params)
            if missing:
                raise ConflictError(
                    f"{missing:,} of the {orders:,} orders this import added were deleted"
                    " since, so nothing was undone."
                )
            cur.execute(_ORDER_CUSTOMERS, params)
            for sql in _DELETE_ORDERS:
                cur.execute(sql, params)
            _refresh_listed(cur)
            done = f"Undid import #{batch_id}: removed {orders:,} orders."
        cur.execute(_MARK_UNDONE, {**params, "by": by})
    return done


def imports(con: Con, limit: int = 50) -> pd.DataFrame:
    """The latest imports, newest first."""
    return (
        con.cursor()
        .execute(
            """
            SELECT id, kind, file_name, file_rows, created, updated, skipped, refused, orders,
                   imported_at, imported_by, undone_at, undone_by
            FROM import_batches ORDER BY id DESC LIMIT $limit
            """,
            {"limit": limit},
        )
        .df()
    )


# --- Command line ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm.importer",
        description="Import customers or orders from a CSV, Excel (.xlsx) or Parquet file.",
    )
    parser.add_argument("kind", choices=KINDS, help="what the file holds")
    parser.add_argument("file", type=Path, help="the file to import")
    parser.add_argument("--db", type=Path, required=True, help="database file to import into")
    parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    parser.add_argument(
        "--update-existing",
        action="store_true",
        help="update customers already here (same email); without it they are left as they are",
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--day-first", action="store_true", help="dates like 03/04 are 3 April")
    order.add_argument("--month-first", action="store_true", help="dates like 03/04 are March 4")
    parser.add_argument("--report", type=Path, help="write every problem to this CSV file")
    return parser


def _print_plan(plan: Plan, shown: int = 20) -> None:
    print(f"{plan.file_name}: {plan.summary()}")
    for sentence in plan.blocking:
        print(f"error: {sentence}", file=sys.stderr)
    for number, label, column, problem in plan.problems.head(shown).itertuples(index=False):
        where = f" (column “{column}”)" if column else ""
        print(f"row {number}: {label}{where}: {problem}")
    if len(plan.problems) > shown:
        print(f"… and {len(plan.problems) - shown:,} more problems (--report FILE.csv has all).")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    day_first = True if args.day_first else False if args.month_first else None
    if not args.file.is_file():
        print(f"error: {args.file} does not exist.", file=sys.stderr)
        return 2
    try:
        raw = read_file(args.file)
        con = db.connect(args.db)
    except (BadFile, DatabaseInUse) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        mapping = suggest_mapping(args.kind, raw.headers)
        plan = dry_run(
            con,
            args.kind,
            raw,
            mapping,
            file_sha256=file_sha256(args.file),
            day_first=day_first,
        )
        _print_plan(plan)
        if args.report:
            args.report.write_bytes(report_csv(plan))
        if not plan.can_import:
            return 1
        if args.dry_run:
            print(f"Dry run in {plan.seconds:.1f} s: nothing was written.")
            return 0
        result = commit(con, plan, update_existing=args.update_existing)
        print(f"{result.sentence(args.kind)} Took {plan.seconds + result.seconds:.1f} s.")
        return 0
    except CrmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()


if __name__ == "__main__":
    raise SystemExit(main())
