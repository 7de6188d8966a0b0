"""The dry run: every row of a staged file checked in SQL, nothing written.

The file's rows (``crm.exchange.import_fields.mapped_table``) become a
temporary table of the caller's cursor; each rule is one statement over all
of them. Where only Python can decide (an email's syntax, a text with
characters outside printable ASCII, a text longer than its limit), the
rule runs once per distinct value, by the models' own validators
(``crm.models.check_field``), and the answers join back in SQL: a file
repeats its cities and countries, and SQL sends Python only the values that
could fail (see ``_NEEDS_PYTHON``).

A problem in a row refuses that row; the other rows can still be imported.
Problems that make the whole file untrustworthy block the import: an email
on two rows (which one is right?) and dates written in more than one way
(is 03/04 the 3rd of April or March 4?).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from annotated_types import Ge, Le

from crm.exchange import email_batch
from crm.exchange.import_fields import (
    CUSTOMER_COLUMNS,
    Kind,
    Mapping,
    check_mapping,
    column_of,
    labels,
    mapped_table,
)
from crm.exchange.import_files import RawFile
from crm.models import (
    EMAIL_MAX,
    PHONE_RE,
    CustomerBase,
    OrderCreate,
    OrderItemCreate,
    check_field,
    max_lengths,
)
from crm.writes import search_text_of

Con = duckdb.DuckDBPyConnection
Progress = Callable[[float, str], None]

# The products of an order that has an amount but no lines: an order's amount is
# the sum of its lines (crm.checks), so such an order gets one line of this product.
AMOUNT_PRODUCT = "Imported order"
AMOUNT_CATEGORY = "Imported"
# A phone with fewer digits than this goes to the model's own check (which
# wants at least 5): the SQL only picks which values Python must look at.
_PHONE_DIGITS_TRUSTED = 9
_SHOWN_ROWS = 5
# Below this many addresses the worker processes cost more than they save
# (starting one takes ~0.5 s: it imports pydantic and email-validator); above,
# they check an address in a third of the time (email_batch remembers each
# domain's check) on every core.
_PARALLEL_FROM = 20_000


def _quiet(_share: float, _step: str) -> None:
    return None


@dataclass(frozen=True)
class Plan:
    """What a confirmed import would do, and every problem found; nothing is written yet.

    ``accepted`` holds the rows to write, cleaned and typed; ``problems`` one
    row per problem (``row``, ``field``, ``column``, ``problem``).
    """

    kind: Kind
    file_name: str
    file_sha256: str
    file_rows: int
    mapping: Mapping
    problems: pd.DataFrame
    blocking: tuple[str, ...]
    accepted: pa.Table
    new: int = 0
    existing: int = 0
    existing_changed: int = 0
    refused: int = 0
    orders: int = 0
    order_lines: int = 0
    customers: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def can_import(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        """The dry run's outcome in one sentence."""
        if self.kind == "customers":
            text = (
                f"{self.file_rows:,} rows: {self.new:,} new customers, {self.existing:,}"
                f" already here (matched by email; {self.existing_changed:,} with changes),"
                f" {self.refused:,} rows refused."
            )
        else:
            text = (
                f"{self.file_rows:,} rows: {self.orders:,} orders ({self.order_lines:,} lines)"
                f" for {self.customers:,} customers, {self.refused:,} rows refused."
            )
        return text


def _register(cur: Con, name: str, table: pa.Table) -> None:
    cur.register(name, table)


# --- Customers -----------------------------------------------------------------------

_CUSTOMER_ROWS = r"""
CREATE OR REPLACE TEMP TABLE import_rows AS
SELECT row_no,
       CASE WHEN coalesce(trim(first_name), '') = '' AND full_name IS NOT NULL
            THEN nullif(regexp_extract(trim(full_name), '^(\S+)', 1), '')
            ELSE first_name END AS first_name,
       CASE WHEN coalesce(trim(last_name), '') = '' AND full_name IS NOT NULL
            THEN nullif(trim(regexp_replace(trim(full_name), '^\S+', '')), '')
            ELSE last_name END AS last_name,
       email, phone, street, city, state, zip, country
FROM import_incoming
"""
_UNPIVOTED = """(UNPIVOT import_rows
    ON first_name, last_name, email, phone, street, city, state, zip, country
    INTO NAME field VALUE value)"""
# The distinct values the models must judge: every email (its syntax), any text
# with a character outside printable ASCII (hidden characters, non-ASCII spaces,
# Unicode case rules), any text longer than its field allows, and phones that
# break the model's pattern or have few digits. Every other value is printable
# ASCII within its limit, which the models accept as it is, spaces trimmed.
_NEEDS_PYTHON = f"""
SELECT DISTINCT u.field, u.value
FROM {_UNPIVOTED} AS u
JOIN import_limits AS l USING (field)
WHERE trim(u.value) <> ''
  AND (u.field = 'email'
       OR NOT regexp_full_match(u.value, '[ -~]*')
       OR length(trim(u.value)) > l.max_length
       OR (u.field = 'phone'
           AND (NOT regexp_full_match(trim(u.value), $phone_pattern)
                OR length(regexp_replace(u.value, '[^0-9]', '', 'g')) < $phone_digits)))
"""  # noqa: S608 - module constants
_CHECKS_SCHEMA = pa.schema(
    [
        ("field", pa.string()),
        ("value", pa.string()),
        ("clean", pa.string()),
        ("key", pa.string()),
        ("problem", pa.string()),
    ]
)


def _cleaned(name: str) -> str:
    return f"coalesce(v_{name}.clean, trim(r.{name})) AS {name}"


def _checked_join(name: str) -> str:
    return (
        f"LEFT JOIN import_value_checks AS v_{name}"
        f" ON v_{name}.field = '{name}' AND v_{name}.value = r.{name}"
    )


_CUSTOMER_CLEAN = (
    "CREATE OR REPLACE TEMP TABLE import_clean AS SELECT r.row_no, "  # noqa: S608 - constants
    + ", ".join(_cleaned(name) for name in CUSTOMER_COLUMNS)
    + ", coalesce(v_email.key, lower(trim(r.email))) AS email_key"
    + " FROM import_rows AS r "
    + " ".join(_checked_join(name) for name in CUSTOMER_COLUMNS)
)
_CUSTOMER_PROBLEMS = f"""
CREATE OR REPLACE TEMP TABLE import_problems AS
SELECT row_no, 'first_name' AS field, $first_required AS problem, false AS blocking
FROM import_rows WHERE coalesce(trim(first_name), '') = ''
UNION ALL
SELECT row_no, 'last_name', $last_required, false
FROM import_rows WHERE coalesce(trim(last_name), '') = ''
UNION ALL
SELECT row_no, 'email', $email_required, false
FROM import_rows WHERE coalesce(trim(email), '') = ''
UNION ALL
SELECT u.row_no, u.field, c.problem, false
FROM {_UNPIVOTED} AS u
JOIN import_value_checks AS c USING (field, value)
WHERE c.problem IS NOT NULL
UNION ALL
SELECT row_no, 'email',
       'Email “' || email || '” is on more than one row of the file (rows '
       || array_to_string(rows[1:{_SHOWN_ROWS}], ', ')
       || CASE WHEN len(rows) > {_SHOWN_ROWS} THEN ', …' ELSE '' END
       || '): keep one.',
       true
FROM (
    SELECT row_no, email,
           list(row_no ORDER BY row_no) OVER (PARTITION BY email_key) AS rows
    FROM import_clean
    WHERE email_key <> ''
)
WHERE len(rows) > 1
"""  # noqa: S608 - module constants
_CHANGED = " OR ".join(
    f"coalesce(nullif(a.{name}, ''), c.{name}) IS DISTINCT FROM c.{name}"
    for name in CUSTOMER_COLUMNS
)
_CUSTOMER_ACCEPTED = f"""
CREATE OR REPLACE TEMP TABLE import_accepted AS
SELECT a.*, c.id AS customer_id, c.version AS customer_version,
       coalesce(c.id IS NOT NULL AND ({_CHANGED}), false) AS differs
FROM import_clean AS a
LEFT JOIN customers AS c ON c.email_key = a.email_key
WHERE a.row_no NOT IN (SELECT row_no FROM import_problems)
"""  # noqa: S608 - module constants
# Rows whose search text Python must lower-case itself (as crm.writes does):
# DuckDB's lower() and Python's agree on ASCII only.
_NON_ASCII_SEARCH = """
SELECT row_no, first_name, last_name, email FROM import_accepted
WHERE NOT regexp_full_match(first_name || last_name || email, '[ -~]*')
"""
_WITH_SEARCH_TEXT = """
SELECT a.*, coalesce(s.search_text, lower(a.first_name || ' ' || a.last_name || ' ' || a.email))
            AS search_text
FROM import_accepted AS a LEFT JOIN import_search AS s USING (row_no)
"""


def _emails_accepted(emails: list[str]) -> list[bool]:
    """Whether the model's email rule accepts each address (printable ASCII, trimmed),
    in worker processes for a long list: email-validator takes ~24 us an address on a
    quiet core (24 s for a million); a worker that remembers each domain's check takes
    ~8 us, and there is one per core."""
    workers = os.cpu_count() or 1
    if workers == 1 or len(emails) < _PARALLEL_FROM:
        return email_batch.accepted(emails)
    size = -(-len(emails) // workers)
    parts = [emails[i : i + size] for i in range(0, len(emails), size)]
    root = str(Path(email_batch.__file__).resolve().parents[2])
    paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "crm.exchange.email_batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for _ in parts
    ]
    # Each worker gets its part on a thread of its own, so no pipe fills while another waits.
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        outputs = list(
            pool.map(
                lambda job: job[0].communicate("\n".join(job[1]).encode("ascii"))[0],
                zip(running, parts, strict=True),
            )
        )
    verdicts = []
    for process, part, output in zip(running, parts, outputs, strict=True):
        if process.returncode != 0 or len(output) != len(part):
            return email_batch.accepted(emails)  # a worker failed: check them here
        verdicts += [flag == ord("1") for flag in output]
    return verdicts


def _value_checks(cur: Con) -> pa.Table:
    """The models' answer for each distinct value SQL could not vouch for."""
    candidates = cur.sql(
        _NEEDS_PYTHON,
        params={"phone_pattern": PHONE_RE.pattern, "phone_digits": _PHONE_DIGITS_TRUSTED},
    ).to_arrow_table()
    fields = candidates.column("field").to_pylist()
    values = candidates.column("value").to_pylist()
    plain = [
        i
        for i, (name, value) in enumerate(zip(fields, values, strict=True))
        if name == "email" and _plain(value.strip())
    ]
    verdicts = _emails_accepted([values[i].strip() for i in plain])
    # Printable ASCII the model keeps as it is: SQL's trim and lower agree.
    vouched = {i for i, ok in zip(plain, verdicts, strict=True) if ok}
    found: dict[str, list[str | None]] = {name: [] for name in _CHECKS_SCHEMA.names}
    for index, (field_name, value) in enumerate(zip(fields, values, strict=True)):
        if index in vouched:
            continue
        clean, problem = check_field(CustomerBase, field_name, value)
        found["field"].append(field_name)
        found["value"].append(value)
        found["clean"].append(clean)
        found["key"].append(clean.lower() if field_name == "email" and clean else None)
        found["problem"].append(problem)
    return pa.table(found, schema=_CHECKS_SCHEMA)


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and len(text) <= EMAIL_MAX


def _search_texts(cur: Con) -> pa.Table:
    rows = cur.execute(_NON_ASCII_SEARCH).fetchall()
    return pa.table(
        {
            "row_no": pa.array([r[0] for r in rows], type=pa.int64()),
            "search_text": pa.array([search_text_of(r[1], r[2], r[3]) for r in rows], pa.string()),
        }
    )


def _required(name: str) -> str:
    _, problem = check_field(CustomerBase, name, "")
    assert problem is not None
    return problem


def _check_customers(cur: Con, progress: Progress) -> dict[str, Any]:
    cur.execute(_CUSTOMER_ROWS)
    limits = max_lengths(CustomerBase)
    _register(
        cur,
        "import_limits",
        pa.table({"field": list(limits), "max_length": list(limits.values())}),
    )
    progress(0.2, "Checking emails and texts")
    _register(cur, "import_value_checks", _value_checks(cur))
    progress(0.6, "Looking for repeated and existing emails")
    cur.execute(_CUSTOMER_CLEAN)
    cur.execute(
        _CUSTOMER_PROBLEMS,
        {
            "first_required": _required("first_name"),
            "last_required": _required("last_name"),
            "email_required": _required("email"),
        },
    )
    cur.execute(_CUSTOMER_ACCEPTED)
    _register(cur, "import_search", _search_texts(cur))
    accepted = cur.sql(_WITH_SEARCH_TEXT).to_arrow_table()
    row = cur.execute(
        """
        SELECT count(*) FILTER (WHERE customer_id IS NULL),
               count(*) FILTER (WHERE customer_id IS NOT NULL),
               count(*) FILTER (WHERE differs)
        FROM import_accepted
        """
    ).fetchone()
    assert row is not None
    return {"accepted": accepted, "new": row[0], "existing": row[1], "existing_changed": row[2]}


# --- Orders --------------------------------------------------------------------------

_DATE_SHAPES = r"""
CREATE OR REPLACE TEMP TABLE import_dates AS
SELECT row_no, trim(ordered_at) AS text,
       CASE WHEN regexp_full_match(trim(ordered_at),
                                   '\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?') THEN 'iso'
            WHEN regexp_full_match(trim(ordered_at),
                                   '\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?') THEN 'slash'
            WHEN regexp_full_match(trim(ordered_at),
                                   '\d{1,2}\.\d{1,2}\.\d{4}( \d{1,2}:\d{2}(:\d{2})?)?') THEN 'dot'
       END AS shape,
       TRY_CAST(regexp_extract(trim(ordered_at), '^(\d{1,2})[/.]', 1) AS INTEGER) AS first_part,
       TRY_CAST(regexp_extract(trim(ordered_at), '^\d{1,2}[/.](\d{1,2})', 1) AS INTEGER)
           AS second_part
FROM import_incoming
WHERE coalesce(trim(ordered_at), '') <> ''
"""
_DATE_EVIDENCE = """
SELECT shape, count(*),
       min(row_no) AS first_row,
       arg_min(text, row_no) AS example,
       min(row_no) FILTER (WHERE first_part > 12) AS day_first_row,
       arg_min(text, row_no) FILTER (WHERE first_part > 12) AS day_first_example,
       min(row_no) FILTER (WHERE second_part > 12) AS month_first_row,
       arg_min(text, row_no) FILTER (WHERE second_part > 12) AS month_first_example
FROM import_dates WHERE shape IS NOT NULL
GROUP BY shape ORDER BY first_row
"""
_ISO_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
_ISO_FORMATS += ["%Y-%m-%d"]
_DAY_FIRST = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]
_MONTH_FIRST = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]
_DOT_FORMATS = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]

_ORDER_ROWS = r"""
CREATE OR REPLACE TEMP TABLE import_order_rows AS
WITH parsed AS (
    SELECT i.row_no,
           nullif(trim(i.customer_email), '') AS customer_email,
           nullif(trim(i.customer_id), '') AS customer_ref,
           d.text AS date_text,
           CASE d.shape WHEN 'iso' THEN try_strptime(d.text, $iso)
                        WHEN 'slash' THEN try_strptime(d.text, $slash)
                        WHEN 'dot' THEN try_strptime(d.text, $dot) END AS ordered_at,
           d.shape,
           nullif(regexp_replace(trim(i.amount), '^[$€£]\s*|\s', '', 'g'), '') AS amount_text,
           nullif(trim(i.product), '') AS product_text,
           nullif(trim(i.quantity), '') AS quantity_text,
           nullif(trim(i.order_ref), '') AS order_ref,
           lower(coalesce(nullif(trim(i.channel), ''), 'web')) AS channel
    FROM import_incoming AS i LEFT JOIN import_dates AS d USING (row_no)
)
SELECT p.*,
       coalesce(by_email.id, by_id.id) AS customer_id,
       CASE WHEN regexp_full_match(p.amount_text, '-?\d+(\.\d+)?')
                 OR regexp_full_match(p.amount_text, '-?\d{1,3}(,\d{3})+(\.\d+)?')
            THEN TRY_CAST(replace(p.amount_text, ',', '') AS DECIMAL(18, 4)) END AS amount_number,
       coalesce(product_by_id.id, product_by_name.id) AS product_id,
       coalesce(product_by_id.price, product_by_name.price) AS unit_price,
       product_by_name.names AS products_named,
       CASE WHEN regexp_full_match(coalesce(p.quantity_text, '1'), '\d+')
            THEN TRY_CAST(coalesce(p.quantity_text, '1') AS BIGINT) END AS quantity
FROM parsed AS p
LEFT JOIN customers AS by_email ON by_email.email_key = lower(p.customer_email)
LEFT JOIN customers AS by_id
       ON p.customer_email IS NULL AND by_id.id = TRY_CAST(p.customer_ref AS BIGINT)
LEFT JOIN products AS product_by_id ON product_by_id.id = TRY_CAST(p.product_text AS BIGINT)
LEFT JOIN (
    SELECT lower(name) AS name_key, min(id) AS id, any_value(price) AS price, count(*) AS names
    FROM products GROUP BY lower(name)
) AS product_by_name ON product_by_name.name_key = lower(p.product_text)
"""
_ORDER_PROBLEMS = r"""
CREATE OR REPLACE TEMP TABLE import_problems AS
SELECT row_no, 'customer' AS field,
       'Customer is required: an email or a customer id.' AS problem, false AS blocking
FROM import_order_rows WHERE customer_email IS NULL AND customer_ref IS NULL
UNION ALL
SELECT row_no, 'customer',
       CASE WHEN customer_email IS NOT NULL
            THEN 'No customer has the email “' || customer_email || '”: import the customers first.'
            ELSE 'No customer has the id “' || customer_ref || '”.' END,
       false
FROM import_order_rows
WHERE customer_id IS NULL AND (customer_email IS NOT NULL OR customer_ref IS NOT NULL)
UNION ALL
SELECT row_no, 'ordered_at', 'Order date is required.', false
FROM import_order_rows WHERE date_text IS NULL
UNION ALL
SELECT row_no, 'ordered_at',
       CASE WHEN shape IS NULL
            THEN 'Order date “' || date_text || '” is not a date this import understands:'
                 || ' write it like 2024-03-31 or 31/03/2024.'
            ELSE 'Order date “' || date_text || '” is not a real date.' END,
       false
FROM import_order_rows WHERE date_text IS NOT NULL AND ordered_at IS NULL
UNION ALL
SELECT row_no, 'ordered_at', 'Order date “' || date_text || '” is in the future.', false
FROM import_order_rows WHERE ordered_at > $latest
UNION ALL
SELECT row_no, 'channel', 'Channel must be store or web.', false
FROM import_order_rows WHERE channel NOT IN ('store', 'web')
UNION ALL
SELECT row_no, 'amount', 'Amount is required.', false
FROM import_order_rows WHERE $by_amount AND amount_text IS NULL
UNION ALL
SELECT row_no, 'amount',
       CASE WHEN amount_number IS NULL
                 THEN 'Amount “' || amount_text || '” is not a number: write it like 1234.50.'
            WHEN amount_number < 0 THEN 'Amount must be at least 0.'
            WHEN amount_number <> round(amount_number, 2)
                 THEN 'Amount “' || amount_text || '” has more than 2 decimals.'
            ELSE 'Amount “' || amount_text || '” is too large.' END,
       false
FROM import_order_rows
WHERE $by_amount AND amount_text IS NOT NULL
  AND (amount_number IS NULL OR amount_number < 0 OR amount_number <> round(amount_number, 2)
       OR amount_number > $max_amount)
UNION ALL
SELECT row_no, 'product', 'Product is required.', false
FROM import_order_rows WHERE NOT $by_amount AND product_text IS NULL
UNION ALL
SELECT row_no, 'product',
       CASE WHEN products_named > 1
            THEN 'Several products are called “' || product_text || '”: use the product id.'
            ELSE 'No product in the catalogue is called “' || product_text || '”.' END,
       false
FROM import_order_rows
WHERE NOT $by_amount AND product_text IS NOT NULL AND (product_id IS NULL OR products_named > 1)
UNION ALL
SELECT row_no, 'quantity',
       'Quantity “' || coalesce(quantity_text, '') || '” must be a whole number from '
       || $min_quantity || ' to ' || $max_quantity || '.',
       false
FROM import_order_rows
WHERE NOT $by_amount
  AND (quantity IS NULL OR quantity < $min_quantity OR quantity > $max_quantity)
"""
# Lines of one order: by the order reference when the file has one, else the
# customer's lines of the same moment. One reference with two customers or
# two dates is refused (which is right?).
_ORDER_KEYS = """
CREATE OR REPLACE TEMP TABLE import_order_keys AS
SELECT row_no, customer_id, ordered_at,
       coalesce('ref:' || order_ref, 'at:' || customer_id || ':' || ordered_at) AS order_key
FROM import_order_rows
WHERE row_no NOT IN (SELECT row_no FROM import_problems)
"""
_ORDER_MIXED = f"""
INSERT INTO import_problems
SELECT k.row_no, 'order_ref',
       'Order “' || substr(k.order_key, 5) || '” has lines for different customers or dates'
       || ' (rows ' || array_to_string(g.rows[1:{_SHOWN_ROWS}], ', ') || '): one order has one'
       || ' customer and one date.',
       false
FROM import_order_keys AS k
JOIN (
    SELECT order_key, list(row_no ORDER BY row_no) AS rows
    FROM import_order_keys GROUP BY order_key
    HAVING count(DISTINCT customer_id) > 1 OR count(DISTINCT ordered_at) > 1
) AS g USING (order_key)
"""  # noqa: S608 - module constants
_ORDER_TOO_LONG = """
INSERT INTO import_problems
SELECT k.row_no, 'order_ref',
       'Order “' || substr(k.order_key, 5) || '” has more than ' || $max_lines || ' lines.',
       false
FROM import_order_keys AS k
WHERE k.order_key IN (
    SELECT order_key FROM import_order_keys GROUP BY order_key HAVING count(*) > $max_lines
)
"""
_ORDER_ACCEPTED = """
SELECT r.row_no, k.order_key, r.customer_id, r.ordered_at, r.channel,
       CAST(CASE WHEN $by_amount THEN r.amount_number END AS DECIMAL(10, 2)) AS amount,
       CASE WHEN NOT $by_amount THEN r.product_id END AS product_id,
       CAST(CASE WHEN $by_amount THEN 1 ELSE r.quantity END AS INTEGER) AS quantity,
       CAST(CASE WHEN NOT $by_amount THEN r.unit_price END AS DECIMAL(10, 2)) AS unit_price
FROM import_order_rows AS r JOIN import_order_keys AS k USING (row_no)
WHERE r.row_no NOT IN (SELECT row_no FROM import_problems)
"""


def _limits(model: type[Any], name: str) -> tuple[Any, Any]:
    metadata = model.model_fields[name].metadata
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    return low, high


def _example(text: str, row: int) -> str:
    return f"“{text}” on row {row:,}"


def _date_order(cur: Con, day_first: bool | None) -> tuple[list[str], list[str]]:
    """The formats for slashed dates, and the sentences that block the import."""
    shapes = cur.execute(_DATE_EVIDENCE).fetchall()
    blocking = []
    if len(shapes) > 1:
        examples = " and ".join(_example(s[3], s[2]) for s in shapes[:3])
        blocking.append(
            f"Order dates are written in more than one way ({examples}), so none can be"
            " trusted: write them all one way (2024-03-31 is clearest) and upload the file again."
        )
    slashed = next((s for s in shapes if s[0] == "slash"), None)
    if slashed is None or day_first is not None:
        return (_DAY_FIRST if day_first in (True, None) else _MONTH_FIRST), blocking
    day_row, day_text, month_row, month_text = slashed[4], slashed[5], slashed[6], slashed[7]
    if day_row is not None and month_row is not None:
        blocking.append(
            "Some order dates put the day first"
            f" ({_example(day_text, day_row)}) and others the month"
            f" ({_example(month_text, month_row)}): write them all one way and upload the"
            " file again."
        )
    if day_row is None and month_row is None:
        blocking.append(
            f"Order dates like “{slashed[3]}” could put the day or the month first:"
            " choose which (Dates are written …) and run the dry run again."
        )
    return (_MONTH_FIRST if month_row is not None else _DAY_FIRST), blocking


def _check_orders(cur: Con, mapping: Mapping, day_first: bool | None) -> dict[str, Any]:
    by_amount = mapping.get("amount") is not None
    cur.execute(_DATE_SHAPES)
    slash, blocking = _date_order(cur, day_first)
    cur.execute(_ORDER_ROWS, {"iso": _ISO_FORMATS, "slash": slash, "dot": _DOT_FORMATS})
    min_quantity, max_quantity = _limits(OrderItemCreate, "quantity")
    # The biggest amount a line's unit price holds (DECIMAL(10, 2)).
    max_amount = 10 ** (10 - 2) - 0.01
    cur.execute(
        _ORDER_PROBLEMS,
        {
            "by_amount": by_amount,
            "latest": datetime.now() + timedelta(days=1),
            "max_amount": max_amount,
            "min_quantity": min_quantity,
            "max_quantity": max_quantity,
        },
    )
    max_lines = next(
        m.max_length
        for m in OrderCreate.model_fields["items"].metadata
        if hasattr(m, "max_length") and m.max_length is not None
    )
    cur.execute(_ORDER_KEYS)
    cur.execute(_ORDER_MIXED)
    cur.execute(_ORDER_TOO_LONG, {"max_lines": max_lines})
    accepted = cur.sql(_ORDER_ACCEPTED, params={"by_amount": by_amount}).to_arrow_table()
    frame = accepted.select(["order_key", "customer_id"]).to_pandas()
    return {
        "accepted": accepted,
        "orders": int(frame["order_key"].nunique()),
        "order_lines": int(accepted.num_rows),
        "customers": int(frame["customer_id"].nunique()),
        "blocking": blocking,
    }


# --- Both ----------------------------------------------------------------------------

_PROBLEM_LIST = """
SELECT row_no AS row, field, problem, blocking FROM import_problems ORDER BY row_no, field
"""


def dry_run(
    con: Con,
    kind: Kind,
    raw: RawFile,
    mapping: Mapping,
    *,
    file_sha256: str,
    day_first: bool | None = None,
    progress: Progress = _quiet,
) -> Plan:
    """Check every row of ``raw`` as ``kind`` with ``mapping``; write nothing.

    Raises ``BadFile`` when a required field has no column.
    """
    started = time.perf_counter()
    check_mapping(kind, raw, mapping)
    progress(0.05, "Reading the rows")
    cur = con.cursor()
    try:
        _register(cur, "import_incoming", mapped_table(kind, raw, mapping))
        if kind == "customers":
            found = _check_customers(cur, progress)
            blocking: list[str] = []
        else:
            found = _check_orders(cur, mapping, day_first)
            blocking = found.pop("blocking")
        progress(0.9, "Writing the report")
        problems = cur.execute(_PROBLEM_LIST).df()
    finally:
        cur.close()
    names = labels(kind) | {"customer": "Customer"}
    duplicated = problems[problems["blocking"]]
    if len(duplicated):
        blocking.insert(
            0,
            f"{len(duplicated):,} rows share their email with another row of the file"
            f" (first on row {int(duplicated['row'].iloc[0]):,}): keep one row per customer"
            " and upload the file again.",
        )
    columns = {name: column_of(raw, mapping, name) for name in names}
    report = pd.DataFrame(
        {
            "row": problems["row"].astype("int64"),
            "field": problems["field"].map(names),
            "column": problems["field"].map(columns),
            "problem": problems["problem"],
        }
    )
    progress(1.0, "Done")
    return Plan(
        kind=kind,
        file_name=raw.name,
        file_sha256=file_sha256,
        file_rows=raw.rows,
        mapping=dict(mapping),
        problems=report,
        blocking=tuple(blocking),
        refused=int(problems["row"].nunique()),
        seconds=time.perf_counter() - started,
        **found,
    )
