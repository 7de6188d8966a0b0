"""crm.exchange.importer: dry run, commit, undo and bad files, on a real seeded database.

Expected results are computed independently: the rows as written in the test
file, the raw orders and visits tables, and the Python scoring rules
(``crm.scores.scores_for``).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from openpyxl import Workbook

from crm import checks, db, insights, queries, scores, writes
from crm.errors import ConflictError, DuplicateError
from crm.exchange import import_checks, importer
from crm.exchange.importer import BadFile, Plan
from crm.models import CustomerCreate, CustomerUpdate, customer_form_values, parse

ROOT = Path(__file__).resolve().parent.parent
Con = duckdb.DuckDBPyConnection
HEADER = ["First Name", "Surname", "E-mail", "Phone", "Street", "City", "State", "ZIP", "Country"]


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _person(i: int) -> list[str]:
    return [
        f"Imp{i}",
        f"Orter{i}",
        f"imp.orter{i}@example.org",
        f"+1 555 {1000 + i}",
        f"{i} Import Road",
        "Lyon",
        "Rhône",
        f"{69000 + i}",
        "France",
    ]


def _plan(con: Con, kind: importer.Kind, path: Path, **options: Any) -> Plan:
    raw = importer.read_file(path)
    mapping = options.pop("mapping", None) or importer.suggest_mapping(kind, raw.headers)
    return importer.dry_run(
        con, kind, raw, mapping, file_sha256=importer.file_sha256(path), **options
    )


def _counts(con: Con) -> dict[str, int]:
    tables = ["customers", "orders", "order_items", "visits", "import_batches", "products"]
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def _customer_rows(con: Con, emails: list[str]) -> pd.DataFrame:
    return con.execute(
        "SELECT first_name, last_name, email, email_key, phone, street, city, state, zip,"
        " country, search_text, total_spending, order_count, version, rfm_group"
        " FROM customers WHERE list_contains($emails, email) ORDER BY email",
        {"emails": emails},
    ).df()


# --- Customers -------------------------------------------------------------------------


def test_a_good_file_is_imported_exactly_as_written(con: Con, tmp_path: Path) -> None:
    people = [_person(i) for i in range(25)]
    people[3][0] = "  Zoë  "  # non-ASCII, spaces around
    people[4][2] = "Mixed.Case@Example.ORG"
    path = _write_csv(tmp_path / "good.csv", people)
    before = _counts(con)
    plan = _plan(con, "customers", path)
    assert _counts(con) == before  # the dry run wrote nothing
    assert (plan.new, plan.existing, plan.refused, plan.blocking) == (25, 0, 0, ())
    assert plan.problems.empty

    result = importer.commit(con, plan)
    assert (result.created, result.updated, result.skipped) == (25, 0, 0)
    after = _counts(con)
    assert after["customers"] == before["customers"] + 25
    assert after["import_batches"] == before["import_batches"] + 1
    stored = _customer_rows(con, [p[2] for p in people])
    assert len(stored) == 25
    for person in people:
        row = stored[stored["email"] == person[2]].iloc[0]
        first = person[0].strip()
        assert [row[c] for c in ("first_name", "last_name", "phone", "zip", "state")] == [
            first,
            person[1],
            person[3],
            person[7],
            "Rhône",
        ]
        assert row["email_key"] == person[2].lower()
        assert row["search_text"] == writes.search_text_of(first, person[1], person[2])
        assert (row["total_spending"], row["order_count"], row["version"]) == (0, 0, 1)
        assert row["rfm_group"] == "No orders"
    assert checks.database_problems(con) == []
    # Found by the overview's search.
    page = queries.customer_page(con, queries.CustomerFilter(search="zoë orter3"))
    assert [r.email for r in page.rows] == [people[3][2]]


def test_every_bad_row_is_reported_in_words_and_refused(con: Con, tmp_path: Path) -> None:
    people = [_person(i) for i in range(10)]
    people[1][0] = ""  # missing first name
    people[2][2] = "not-an-email"
    people[3][3] = "12"  # too few digits
    people[4][1] = "A" * 81  # too long
    people[5][5] = "Ly\u202eon"  # a hidden character
    people[6][2] = ""  # missing email
    path = _write_csv(tmp_path / "bad.csv", people)
    plan = _plan(con, "customers", path)
    got = {(r.row, r.field, r.column) for r in plan.problems.itertuples()}
    assert got == {
        (3, "First name", "First Name"),
        (4, "Email", "E-mail"),
        (5, "Phone", "Phone"),
        (6, "Last name", "Surname"),
        (7, "City", "City"),
        (8, "Email", "E-mail"),
    }
    words = dict(zip(plan.problems["row"], plan.problems["problem"], strict=True))
    # The very sentences the Add form gives.
    for row, field, value in [(4, "email", "not-an-email"), (5, "phone", "12")]:
        with pytest.raises(Exception) as refused:
            parse(
                CustomerCreate, {**dict(zip(_FIELDS, people[row - 2], strict=True)), field: value}
            )
        assert words[row] in str(refused.value)
    assert words[3] == "First name is required."
    assert "81 characters, at most 80" in words[6]
    assert "U+202E" in words[7]
    assert (plan.new, plan.refused, plan.can_import) == (4, 6, True)
    importer.commit(con, plan)
    assert len(_customer_rows(con, [p[2] for p in people])) == 4


_FIELDS = ["first_name", "last_name", "email", "phone", "street", "city", "state", "zip", "country"]


def test_existing_customers_are_skipped_or_updated_and_undo_restores_them(
    con: Con, tmp_path: Path
) -> None:
    existing = queries.get_customer(con, 1)
    assert existing is not None
    changed = [existing.first_name, "Renamed", existing.email.upper(), "", "", "Nantes", "", "", ""]
    path = _write_csv(tmp_path / "mix.csv", [changed, _person(1)])
    plan = _plan(con, "customers", path)
    assert (plan.new, plan.existing, plan.existing_changed) == (1, 1, 1)

    skipped = importer.commit(con, plan)
    assert (skipped.created, skipped.updated, skipped.skipped) == (1, 0, 1)
    assert queries.get_customer(con, 1) == existing

    plan = _plan(con, "customers", path)
    assert (plan.new, plan.existing, plan.existing_changed) == (0, 2, 1)
    updated = importer.commit(con, plan, update_existing=True)
    assert (updated.created, updated.updated, updated.skipped) == (0, 1, 1)
    now = queries.get_customer(con, 1)
    assert now is not None
    assert (now.last_name, now.city, now.email, now.version) == (
        "Renamed",
        "Nantes",
        existing.email.upper(),
        existing.version + 1,
    )
    # Empty cells kept the customer's own values.
    assert (now.phone, now.street, now.country) == (
        existing.phone,
        existing.street,
        existing.country,
    )
    assert "renamed" in con.execute("SELECT search_text FROM customers WHERE id = 1").fetchone()[0]  # type: ignore[index]

    message = importer.undo_import(con, updated.batch_id)
    assert "gave 1 back" in message
    restored = queries.get_customer(con, 1)
    assert restored is not None
    assert customer_form_values(restored) == customer_form_values(existing)
    assert restored.version == existing.version + 2
    with pytest.raises(DuplicateError):
        importer.undo_import(con, updated.batch_id)
    assert checks.database_problems(con) == []


def test_undo_removes_the_customers_unless_one_changed(con: Con, tmp_path: Path) -> None:
    people = [_person(i) for i in range(5)]
    path = _write_csv(tmp_path / "five.csv", people)
    before = _counts(con)
    result = importer.commit(con, _plan(con, "customers", path))
    ids = [
        r[0]
        for r in con.execute(
            "SELECT customer_id FROM import_customers WHERE batch_id = $b ORDER BY 1",
            {"b": result.batch_id},
        ).fetchall()
    ]
    assert len(ids) == 5
    edited = queries.get_customer(con, ids[2])
    assert edited is not None
    values = {**customer_form_values(edited), "city": "Paris", "version": edited.version}
    writes.update_customer(con, ids[2], parse(CustomerUpdate, values))
    with pytest.raises(ConflictError, match="1 of the 5 customers"):
        importer.undo_import(con, result.batch_id)
    assert _counts(con)["customers"] == before["customers"] + 5

    # A second import of other people is undone whole.
    second = importer.commit(
        con, _plan(con, "customers", _write_csv(tmp_path / "b.csv", [_person(50)]))
    )
    importer.undo_import(con, second.batch_id, by="ana@example.com")
    assert _customer_rows(con, [_person(50)[2]]).empty
    row = con.execute(
        "SELECT undone_at IS NOT NULL, undone_by FROM import_batches WHERE id = $b",
        {"b": second.batch_id},
    ).fetchone()
    assert row == (True, "ana@example.com")
    listed = importer.imports(con)
    assert list(listed["id"][:2]) == [second.batch_id, result.batch_id]


def test_a_commit_after_the_database_moved_writes_nothing(
    con: Con, db_path: Path, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "race.csv", [_person(1), _person(2)])
    plan = _plan(con, "customers", path)
    # Someone adds one of the file's customers between the dry run and the confirm.
    writes.create_customer(con, parse(CustomerCreate, dict(zip(_FIELDS, _person(2), strict=True))))
    before = _counts(con)
    with pytest.raises(ConflictError, match="1 of this file's rows"):
        importer.commit(con, plan)
    assert _counts(con) == before
    # A double click: the same plan twice writes once.
    plan = _plan(con, "customers", path)
    importer.commit(con, plan)
    with pytest.raises(ConflictError):
        importer.commit(con, plan)
    assert _counts(con)["customers"] == before["customers"] + 1


# --- Bad files -------------------------------------------------------------------------


def _bad(con: Con, path: Path, kind: importer.Kind = "customers") -> str:
    before = _counts(con)
    with pytest.raises(BadFile) as refused:
        _plan(con, kind, path)
    assert _counts(con) == before
    return str(refused.value)


def test_bad_files_get_a_sentence_and_write_nothing(con: Con, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    _write_csv(good, [_person(1), ["Zoë", *_person(2)[1:]]])
    text = good.read_text(encoding="utf-8")

    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    assert "UTF-16" in _bad(con, utf16)

    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("latin-1"))
    assert "line 2 has a byte (0xF4)" in _bad(con, latin) and "Latin-1" in _bad(con, latin)

    binary = tmp_path / "picture.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert "not a text file" in _bad(con, binary)

    workbook = tmp_path / "book.csv"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "zip archive or an Excel workbook" in _bad(con, workbook)

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _bad(con, empty) == "The file is empty."

    header_only = _write_csv(tmp_path / "header.csv", [])
    assert _bad(con, header_only) == "The file has a header row but no data rows."

    missing = _write_csv(tmp_path / "missing.csv", [["Ana", "ana@x.org"]], ["Name ", "Mail "])
    missing.write_text("Nickname,Town\nAna,Paris\n", encoding="utf-8")
    sentence = _bad(con, missing)
    assert "an Email column" in sentence and "“Nickname”, “Town”" in sentence

    ragged = tmp_path / "ragged.csv"
    ragged.write_text(text + "A,B,c@x.org,1,2,3,4,5,6,7\n", encoding="utf-8")
    assert "on line 4: it has 10 fields where the header has 9" in _bad(con, ragged)

    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: no disk used
    assert "200 MB; files up to 160 MB" in _bad(con, huge)

    other = tmp_path / "notes.pdf"
    other.write_text("x", encoding="utf-8")
    assert "use CSV (.csv), Excel (.xlsx) or Parquet" in _bad(con, other)


def test_duplicate_emails_block_the_whole_file(con: Con, tmp_path: Path) -> None:
    twin = _person(3)
    twin[2] = twin[2].upper()
    path = _write_csv(tmp_path / "dupes.csv", [_person(1), _person(3), _person(2), twin])
    before = _counts(con)
    plan = _plan(con, "customers", path)
    assert not plan.can_import
    assert plan.blocking[0].startswith("2 rows share their email with another row")
    assert set(plan.problems["row"]) == {3, 5}
    assert all("rows 3, 5" in p for p in plan.problems["problem"])
    with pytest.raises(BadFile):
        importer.commit(con, plan)
    assert _counts(con) == before


# --- Orders ----------------------------------------------------------------------------


def _expected_figures(con: Con, ids: list[int]) -> pd.DataFrame:
    """Each customer's figures straight from the raw orders and visits."""
    return con.execute(
        """
        SELECT c.id,
               coalesce((SELECT sum(amount) FROM orders o WHERE o.customer_id = c.id), 0) AS total,
               (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n,
               (SELECT min(ordered_at) FROM orders o WHERE o.customer_id = c.id) AS first_at,
               (SELECT max(ordered_at) FROM orders o WHERE o.customer_id = c.id) AS last_at,
               (SELECT count(*) FROM visits v WHERE v.customer_id = c.id) AS visits
        FROM customers c WHERE list_contains($ids, c.id) ORDER BY c.id
        """,
        {"ids": ids},
    ).df()


def _assert_figures_and_scores(con: Con, ids: list[int]) -> None:
    expected = _expected_figures(con, ids).set_index("id")
    boundaries = scores.read_boundaries(con)
    assert boundaries is not None
    for cid in ids:
        customer = queries.get_customer(con, cid)
        assert customer is not None
        want = expected.loc[cid]
        assert customer.total_spending == Decimal(str(want["total"])), cid
        assert customer.order_count == want["n"] == customer.order_count, cid
        assert customer.visit_count == want["visits"], cid
        if want["n"]:
            assert customer.first_order_at == want["first_at"].to_pydatetime(), cid
            assert customer.last_order_at == want["last_at"].to_pydatetime(), cid
        got = scores.scores_for(customer, boundaries, date.today())
        assert customer.rfm_group == got.group, cid
        gap, on = con.execute(
            "SELECT order_gap_days, expected_order_on FROM customers WHERE id = $id", {"id": cid}
        ).fetchone()  # type: ignore[misc]
        assert (gap, on) == (got.average_gap_days, got.expected_on), cid
    # The purchase facts, brute force from the order lines.
    facts = con.execute(
        """
        SELECT count(*) FROM (
            SELECT i.customer_id, i.product_id, max(o.ordered_at)
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE list_contains($ids, i.customer_id) GROUP BY ALL
            EXCEPT
            SELECT * FROM customer_products WHERE list_contains($ids, customer_id)
        )
        """,
        {"ids": ids},
    ).fetchone()
    assert facts == (0,)
    # Campaign windows (crm.campaigns.facts): orders within 14 days of each send.
    windows = con.execute(
        """
        SELECT count(*) FILTER (WHERE s.window_orders <> (
                   SELECT count(*) FROM orders o WHERE o.customer_id = s.customer_id
                   AND o.ordered_at > s.window_start
                   AND o.ordered_at <= s.window_start + INTERVAL 14 DAY)),
               sum(s.window_orders)
        FROM campaign_sends s
        WHERE list_contains($ids, s.customer_id) AND s.window_start IS NOT NULL
        """,
        {"ids": ids},
    ).fetchone()
    assert windows is not None and windows[0] == 0
    assert checks.database_problems(con) == []


def _window_orders(con: Con, customer_id: int) -> int:
    row = con.execute(
        "SELECT sum(window_orders) FROM campaign_sends WHERE customer_id = $id", {"id": customer_id}
    ).fetchone()
    assert row is not None
    return int(row[0] or 0)


def _emails(con: Con, ids: list[int]) -> list[str]:
    return [queries.get_customer(con, i).email for i in ids]  # type: ignore[union-attr]


def test_orders_with_amounts_update_figures_scores_and_undo(con: Con, tmp_path: Path) -> None:
    sent = con.execute(
        "SELECT customer_id, sent_at FROM campaign_sends WHERE status = 'Delivered'"
        " AND customer_id > 40 ORDER BY id LIMIT 1"
    ).fetchone()
    assert sent is not None
    ids = [1, 2, 3, 40, sent[0]]
    a, b, c, d, e = _emails(con, ids)
    in_window = (sent[1] + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    window_before = _window_orders(con, sent[0])
    rows = [
        [e, in_window, "99.99"],
        [a, "2025-01-05", "12.50"],
        [a, "2025-02-05 10:30", "1,234.00"],
        [b.upper(), "2024-12-31", "$7"],
        [c, "2025-03-01", "0"],
        [d, "2025-03-01", "abc"],
        ["nobody@example.org", "2025-03-01", "3"],
        [a, "2025-02-30", "3"],
        [b, "3024-01-01", "3"],
        [c, "2025-03-01", "-1"],
        [c, "2025-03-01", "1.005"],
    ]
    path = _write_csv(tmp_path / "orders.csv", rows, ["Customer email", "Date", "Total"])
    before_figures = _expected_figures(con, ids)
    plan = _plan(con, "orders", path)
    assert (plan.orders, plan.customers, plan.refused) == (5, 4, 6)
    problems = dict(zip(plan.problems["row"], plan.problems["problem"], strict=True))
    assert problems == {
        7: "Amount “abc” is not a number: write it like 1234.50.",
        8: "No customer has the email “nobody@example.org”: import the customers first.",
        9: "Order date “2025-02-30” is not a real date.",
        10: "Order date “3024-01-01” is in the future.",
        11: "Amount must be at least 0.",
        12: "Amount “1.005” has more than 2 decimals.",
    }
    result = importer.commit(con, plan)
    assert result.orders == 5
    assert _window_orders(con, sent[0]) == window_before + 1
    new = con.execute(
        "SELECT o.customer_id, o.ordered_at, o.amount FROM orders o JOIN import_orders i"
        " ON i.order_id = o.id WHERE i.batch_id = $b ORDER BY o.amount",
        {"b": result.batch_id},
    ).fetchall()
    assert new == [
        (3, datetime(2025, 3, 1), Decimal("0.00")),
        (2, datetime(2024, 12, 31), Decimal("7.00")),
        (1, datetime(2025, 1, 5), Decimal("12.50")),
        (sent[0], datetime.strptime(in_window, "%Y-%m-%d %H:%M:%S"), Decimal("99.99")),
        (1, datetime(2025, 2, 5, 10, 30), Decimal("1234.00")),
    ]
    _assert_figures_and_scores(con, ids)
    # Their category: "Imported" has its bit, and the buyers' masks have it.
    names = insights.category_names(con)
    assert names is not None
    (bit,) = (b for b, name in names.items() if name == import_checks.AMOUNT_CATEGORY)
    masks = dict(con.execute("SELECT id, category_mask FROM customers").fetchall())
    assert {i for i, mask in masks.items() if mask >> bit & 1} == {1, 2, 3, sent[0]}
    assert checks.database_problems(con) == []

    importer.undo_import(con, result.batch_id)
    pd.testing.assert_frame_equal(_expected_figures(con, ids), before_figures)
    assert _window_orders(con, sent[0]) == window_before
    _assert_figures_and_scores(con, ids)
    masks = dict(con.execute("SELECT id, category_mask FROM customers").fetchall())
    assert not any(mask >> bit & 1 for mask in masks.values())
    assert checks.database_problems(con) == []


def test_orders_with_product_lines_group_into_orders(con: Con, tmp_path: Path) -> None:
    ids = [5, 6]
    a, b = _emails(con, ids)
    products = con.execute("SELECT id, name, price FROM products ORDER BY id LIMIT 2").fetchall()
    (_, name1, price1), (p2, _, price2) = products
    rows = [
        ["A-1", a, "31/01/2025", name1.upper(), "2"],
        ["A-1", a, "31/01/2025", str(p2), "1"],
        ["B-7", b, "02/02/2025", name1, ""],
        ["C-9", b, "03/02/2025", "No such thing", "1"],
        ["D-1", b, "04/02/2025", name1, "0"],
    ]
    header = ["Order number", "Customer email", "Order date", "Product", "Qty"]
    plan = _plan(con, "orders", _write_csv(tmp_path / "lines.csv", rows, header))
    assert (plan.orders, plan.order_lines, plan.refused) == (2, 3, 2)
    assert list(plan.problems["field"]) == ["Product", "Quantity"]
    result = importer.commit(con, plan)
    amounts = con.execute(
        "SELECT o.customer_id, o.ordered_at, o.amount, count(*) FROM orders o"
        " JOIN order_items i ON i.order_id = o.id"
        " WHERE o.id IN (SELECT order_id FROM import_orders WHERE batch_id = $b)"
        " GROUP BY ALL ORDER BY 1",
        {"b": result.batch_id},
    ).fetchall()
    assert amounts == [
        (5, datetime(2025, 1, 31), 2 * price1 + price2, 2),
        (6, datetime(2025, 2, 2), price1, 1),
    ]
    _assert_figures_and_scores(con, ids)


def test_dates_in_mixed_formats_block_the_file(con: Con, tmp_path: Path) -> None:
    a, b = _emails(con, [1, 2])
    header = ["Email", "Date", "Amount"]
    mixed = _write_csv(
        tmp_path / "mixed.csv", [[a, "2025-01-05", "1"], [b, "05/01/2025", "1"]], header
    )
    plan = _plan(con, "orders", mixed)
    assert not plan.can_import
    assert "written in more than one way" in plan.blocking[0]
    assert "“2025-01-05” on row 2" in plan.blocking[0]

    both = _write_csv(
        tmp_path / "both.csv", [[a, "13/01/2025", "1"], [b, "01/13/2025", "1"]], header
    )
    plan = _plan(con, "orders", both)
    assert "put the day first (“13/01/2025” on row 2)" in plan.blocking[0]

    unclear = _write_csv(tmp_path / "unclear.csv", [[a, "03/04/2025", "1"]], header)
    assert "could put the day or the month first" in _plan(con, "orders", unclear).blocking[0]
    plan = _plan(con, "orders", unclear, day_first=False)
    assert plan.can_import
    importer.commit(con, plan)
    last = con.execute("SELECT max(ordered_at) FROM orders WHERE customer_id = 1").fetchone()
    assert last is not None and last[0] >= datetime(2025, 3, 4)


# --- Excel and Parquet -----------------------------------------------------------------


def test_excel_and_parquet_files_read_like_csv(con: Con, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "Full name", "ZIP code"])
    sheet.append(["xl.one@example.org", "Ada Lovelace King", 1234])
    sheet.append([None, None, None])  # a blank line: skipped, numbering kept
    sheet.append(["xl.two@example.org", "Cher", 75001])
    xlsx = tmp_path / "people.xlsx"
    book.save(xlsx)
    plan = _plan(con, "customers", xlsx)
    assert list(plan.problems["row"]) == [4]
    assert plan.problems["column"].iloc[0] == "Full name"
    importer.commit(con, plan)
    row = con.execute(
        "SELECT first_name, last_name, zip FROM customers WHERE email = 'xl.one@example.org'"
    ).fetchone()
    assert row == ("Ada", "Lovelace King", "1234")

    parquet = tmp_path / "people.parquet"
    frame = pd.DataFrame(
        {"email": ["pq@example.org"], "first_name": ["Par"], "last_name": ["Quet"], "zip": [7]}
    )
    frame.to_parquet(parquet)
    plan = _plan(con, "customers", parquet)
    assert (plan.new, plan.refused) == (1, 0)
    importer.commit(con, plan)
    assert queries.customer_page(con, queries.CustomerFilter(search="par quet")).rows


def test_report_csv_neutralises_formulas(con: Con, tmp_path: Path) -> None:
    bad = _person(1)
    bad[1] = ""
    header = [*HEADER[:1], "=Surname", *HEADER[2:]]
    plan = _plan(con, "customers", _write_csv(tmp_path / "f.csv", [bad], header), mapping=None)
    assert plan.problems["column"].tolist() == ["=Surname"]
    lines = importer.report_csv(plan).decode("utf-8-sig").splitlines()
    assert lines == [
        "Row,Field,File column,Problem",
        "2,Last name,'=Surname,Last name is required.",
    ]


# --- Command line ----------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_command_line_dry_run_then_import(db_path: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "cli.csv", [_person(1), _person(2), ["", *_person(3)[1:]]])
    report = tmp_path / "report.csv"
    dry = _run(
        "crm.importer",
        "customers",
        str(path),
        "--db",
        str(db_path),
        "--dry-run",
        "--report",
        str(report),
    )
    assert dry.returncode == 0, dry.stderr
    assert "3 rows: 2 new customers" in dry.stdout and "nothing was written" in dry.stdout
    assert "row 4: First name" in dry.stdout
    assert "First name is required." in report.read_text(encoding="utf-8-sig")
    done = _run("crm.importer", "customers", str(path), "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    assert "Imported 2 new customers" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes("Email\nzo\xe9@x.org\n".encode("latin-1"))
    refused = _run("crm.importer", "customers", str(bad), "--db", str(db_path))
    assert refused.returncode == 2 and "not UTF-8" in refused.stderr
    con = db.connect(db_path)
    try:
        assert _customer_rows(con, [_person(1)[2], _person(2)[2]]).shape[0] == 2
    finally:
        con.close()


def test_backup_command_is_reachable_as_crm_backup(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    made = _run("crm.backup", "create", "--db", str(db_path), "--out", str(out))
    assert made.returncode == 0, made.stderr
    restored = tmp_path / "restored.duckdb"
    back = _run("crm.backup", "restore", str(out), "--db", str(restored))
    assert back.returncode == 0, back.stderr
    assert "Restored" in back.stdout


def test_emails_checked_in_worker_processes_get_the_models_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crm.exchange import email_batch, import_checks

    emails = ["a@example.org", "no-at-sign", "x@localhost", "b@example.org", "a..b@example.org"]
    emails += ["c@-bad.org", "d@EXAMPLE.ORG", "e@x.test", "f@xn--80ak6aa92e.com", "g@a.b..c"]
    emails = emails * 3
    # Each verdict as the model gives it, address by address, in this process.
    expected = [email_batch.accepted([e])[0] for e in emails]
    assert expected[:10] == [True, False, False, True, False, False, True, False, True, False]
    monkeypatch.setattr(import_checks, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(import_checks.os, "cpu_count", lambda: 2)
    calls: list[list[str]] = []
    real = email_batch.accepted
    monkeypatch.setattr(email_batch, "accepted", lambda e: calls.append(e) or real(e))
    assert import_checks._emails_accepted(emails) == expected
    assert calls == []  # both halves were checked by the worker processes


def test_an_encoding_error_across_a_slice_boundary_names_its_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from crm.exchange import import_files

    monkeypatch.setattr(import_files, "_SLICE", 4)  # "é" (C3 A9) is cut by the first slice
    path = tmp_path / "cut.csv"
    path.write_bytes(b"ab\n\xc3\xa9\xe9x\n")
    with pytest.raises(BadFile, match=r"line 2 has a byte \(0xE9\)"):
        importer.read_file(path)
