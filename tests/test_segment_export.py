"""A segment's customers as CSV, Excel and Parquet files (``crm.exchange.segment_export``).

Each file is read back with an independent reader (Python's csv module,
openpyxl, DuckDB's Parquet reader) and compared with the customers table
read by plain SQL: the segment's ids by a brute-force predicate, each column
from the raw row.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook

from crm import scores
from crm.exchange import segment_export
from crm.exchange.segment_export import HEADERS, ExportTooLarge, FileFormat
from crm.models import CustomerFilter

Con = duckdb.DuckDBPyConnection

HOSTILE = {
    "first_name": '=HYPERLINK("http://x","click")',
    "last_name": "+1+cmd|' /C calc'!A0",
    "street": "-2+3 Main Street",
    "city": "@SUM(A1:A2)",
    "state": "\t=1+1",
    "zip": "\r=1+1",
}
ACCENTED = {"first_name": "Zoë", "last_name": "Ångström-Öçal", "city": "São Paulo"}
# Raw column (or expression) behind each header, for the brute-force comparison.
RAW = {
    "Customer ID": "id",
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Street": "street",
    "City": "city",
    "State": "state",
    "ZIP": "zip",
    "Country": "country",
    "Total spending": "total_spending",
    "Orders": "order_count",
    "Visits": "visit_count",
    "Last visit": "last_visit",
    "RFM group": "rfm_group",
    "Email consent": "CAST(email_consent AS VARCHAR)",
    "Email consent changed": "email_consent_at",
    "SMS consent": "CAST(sms_consent AS VARCHAR)",
    "SMS consent changed": "sms_consent_at",
}
TEXT_HEADERS = {h for h, c in zip(HEADERS, segment_export.COLUMNS, strict=True) if c.text}


def write(con: Con, f: CustomerFilter, fmt: FileFormat, tmp_path: Path) -> tuple[Path, int]:
    target = tmp_path / f"out.{fmt.value}"
    rows = segment_export.write_segment(con, f, fmt, target)
    return target, rows


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads the file as UTF-8"
    reader = csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""))
    header, *rows = list(reader)
    assert tuple(header) == HEADERS
    return [dict(zip(header, row, strict=True)) for row in rows]


def read_xlsx(path: Path) -> list[dict[str, Any]]:
    book = load_workbook(path, read_only=True)
    sheet = book["Customers"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    assert tuple(header) == HEADERS
    # A row read back ends at its last cell with a value: the rest are empty.
    return [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in rows]


def read_parquet(path: Path) -> list[dict[str, Any]]:
    reader = duckdb.connect()
    result = reader.execute("SELECT * FROM read_parquet($p)", {"p": str(path)})
    header = [d[0] for d in result.description]
    rows = result.fetchall()
    reader.close()
    assert tuple(header) == HEADERS
    return [dict(zip(header, row, strict=True)) for row in rows]


READERS = {FileFormat.CSV: read_csv, FileFormat.EXCEL: read_xlsx, FileFormat.PARQUET: read_parquet}


def ids_where(con: Con, condition: str, params: dict[str, Any] | None = None) -> set[int]:
    sql = f"SELECT id FROM customers WHERE {condition}"
    return {int(r[0]) for r in con.execute(sql, params or {}).fetchall()}


def biggest_country(con: Con) -> str:
    row = con.execute(
        "SELECT country FROM customers GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


def set_text(con: Con, customer_id: int, values: dict[str, str]) -> None:
    assignments = ", ".join(f"{name} = ${name}" for name in values)
    con.execute(f"UPDATE customers SET {assignments} WHERE id = $id", {**values, "id": customer_id})


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_the_file_holds_exactly_the_segment(con: Con, tmp_path: Path, fmt: FileFormat) -> None:
    scores.current_boundaries(con)
    country = biggest_country(con)
    f = CustomerFilter(countries=(country,), min_visits=2, rfm_groups=("Champions", "Loyal"))
    target, written = write(con, f, fmt, tmp_path)
    expected = ids_where(
        con,
        "country = $c AND visit_count >= 2 AND rfm_group IN ('Champions', 'Loyal')",
        {"c": country},
    )
    assert expected, "the filter must pick someone, or the test shows nothing"
    rows = READERS[fmt](target)
    assert written == len(rows) == len(expected)
    assert {int(r["Customer ID"]) for r in rows} == expected


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_everyone_when_unfiltered(con: Con, tmp_path: Path, fmt: FileFormat) -> None:
    target, written = write(con, CustomerFilter(), fmt, tmp_path)
    rows = READERS[fmt](target)
    assert written == len(rows) == len(ids_where(con, "true"))


def _raw_rows(con: Con) -> dict[int, dict[str, Any]]:
    columns = ", ".join(f"{sql} AS {_q(header)}" for header, sql in RAW.items())
    result = con.execute(f"SELECT {columns} FROM customers")
    header = [d[0] for d in result.description]
    return {int(row[0]): dict(zip(header, row, strict=True)) for row in result.fetchall()}


def _q(name: str) -> str:
    return '"' + name + '"'


def _rhythm(con: Con, today: date) -> dict[int, str]:
    """The buying rhythm by the rules in crm.scores' docstring, from the order dates."""
    rows = con.execute("SELECT id, order_count, first_order_at, last_order_at FROM customers")
    found: dict[int, str] = {}
    for cid, orders, first, last in rows.fetchall():
        if orders == 0:
            found[cid] = "No orders"
        elif orders == 1:
            found[cid] = "One order"
        else:
            found[cid] = scores.rhythm_status(
                (today - last.date()).days,
                scores.average_gap_days(orders, first.date(), last.date()),
            )
    return found


def _as_csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_every_column_matches_the_customer_row(con: Con, tmp_path: Path, fmt: FileFormat) -> None:
    scores.current_boundaries(con)
    con.execute(
        "UPDATE customers SET email_consent = 'Subscribed', email_consent_at = $at WHERE id = 2",
        {"at": datetime(2026, 3, 4, 5, 6, 7)},
    )
    target, _ = write(con, CustomerFilter(), fmt, tmp_path)
    raw = _raw_rows(con)
    rhythm = _rhythm(con, date.today())
    rows = READERS[fmt](target)
    assert len(rows) == len(raw)
    for row in rows:
        cid = int(row["Customer ID"])
        expected = {**raw[cid], "Buying rhythm": rhythm[cid]}
        for header in HEADERS:
            want, got = expected[header], row[header]
            if header in TEXT_HEADERS and isinstance(want, str):
                want = segment_export.neutralise(want)
            if fmt is FileFormat.CSV:
                assert got == _as_csv_text(want), (cid, header)
            elif fmt is FileFormat.EXCEL and isinstance(want, Decimal):
                assert Decimal(str(got)) == want, (cid, header)
            elif fmt is FileFormat.EXCEL and want == "":
                assert got in (None, ""), (cid, header)  # an empty text cell reads back as None
            else:
                assert got == want, (cid, header)
    subscribed = next(r for r in rows if int(r["Customer ID"]) == 2)
    assert subscribed["Email consent"] == "Subscribed"


def test_parquet_keeps_types(con: Con, tmp_path: Path) -> None:
    target, _ = write(con, CustomerFilter(), FileFormat.PARQUET, tmp_path)
    reader = duckdb.connect()
    types = dict(
        reader.execute(
            "SELECT name, type FROM parquet_schema($p) WHERE name <> 'duckdb_schema'",
            {"p": str(target)},
        ).fetchall()
    )
    reader.close()
    assert types["Customer ID"] == "INT64"
    assert types["Orders"] == "INT32"
    assert types["Last visit"] == "INT64"  # a timestamp, stored as microseconds
    assert types["Total spending"] in ("INT64", "FIXED_LEN_BYTE_ARRAY")  # a decimal
    assert types["First name"] == "BYTE_ARRAY"


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_formula_cells_are_neutralised(con: Con, tmp_path: Path, fmt: FileFormat) -> None:
    set_text(con, 3, HOSTILE)
    target, _ = write(con, CustomerFilter(), fmt, tmp_path)
    row = next(r for r in READERS[fmt](target) if int(r["Customer ID"]) == 3)
    got = {
        "first_name": row["First name"],
        "last_name": row["Last name"],
        "street": row["Street"],
        "city": row["City"],
        "state": row["State"],
        "zip": row["ZIP"],
    }
    assert got == {name: "'" + text for name, text in HOSTILE.items()}
    # A number is never changed: spending stays a number (or its text, in CSV).
    assert str(row["Total spending"]).replace(".", "").isdigit()


def test_no_xlsx_cell_is_a_formula(con: Con, tmp_path: Path) -> None:
    """openpyxl stores text starting with '=' as a formula: the neutralised text is not."""
    set_text(con, 3, HOSTILE)
    target, _ = write(con, CustomerFilter(), FileFormat.EXCEL, tmp_path)
    book = load_workbook(target)  # not read-only: cell types are known
    sheet = book["Customers"]
    kinds = {cell.data_type for row in sheet.iter_rows() for cell in row}
    book.close()
    assert "f" not in kinds


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_accents_round_trip(con: Con, tmp_path: Path, fmt: FileFormat) -> None:
    set_text(con, 4, ACCENTED)
    target, _ = write(con, CustomerFilter(), fmt, tmp_path)
    row = next(r for r in READERS[fmt](target) if int(r["Customer ID"]) == 4)
    assert (row["First name"], row["Last name"], row["City"]) == (
        "Zoë",
        "Ångström-Öçal",
        "São Paulo",
    )


def test_csv_is_utf8_with_a_bom_and_a_header_line(con: Con, tmp_path: Path) -> None:
    target, _ = write(con, CustomerFilter(max_visits=0), FileFormat.CSV, tmp_path)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + b"Customer ID,First name,")
    assert data.count(b"\xef\xbb\xbf") == 1


def test_an_empty_segment_gives_the_header_only(con: Con, tmp_path: Path) -> None:
    f = CustomerFilter(search="no customer is called this")
    for fmt in FileFormat:
        target, written = write(con, f, fmt, tmp_path)
        assert written == 0
        assert READERS[fmt](target) == []


def test_excel_stops_at_its_row_limit(
    con: Con, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = len(ids_where(con, "true"))
    # A sheet of everyone's rows plus the header, exactly: it fits.
    monkeypatch.setattr(segment_export, "EXCEL_MAX_ROWS", everyone + 1)
    target, written = write(con, CustomerFilter(), FileFormat.EXCEL, tmp_path)
    assert written == everyone == len(read_xlsx(target))
    # One row fewer: refused with a sentence that offers CSV, and no file.
    monkeypatch.setattr(segment_export, "EXCEL_MAX_ROWS", everyone)
    refused = tmp_path / "refused.xlsx"
    with pytest.raises(ExportTooLarge) as problem:
        segment_export.write_segment(con, CustomerFilter(), FileFormat.EXCEL, refused)
    message = str(problem.value)
    assert f"at most {everyone - 1:,} customers" in message
    assert f"this segment has {everyone:,}" in message
    assert "CSV" in message
    assert not refused.exists()
    # CSV has no such limit.
    _, written = write(con, CustomerFilter(), FileFormat.CSV, tmp_path)
    assert written == everyone


def test_the_real_excel_limit() -> None:
    assert segment_export.too_large_for_excel(1_048_575) is None
    assert segment_export.too_large_for_excel(1_048_576) is not None


@pytest.mark.parametrize(
    ("label", "fmt", "expected"),
    [
        ("Italy Coffee", FileFormat.CSV, "customers-italy-coffee-2026-11-30.csv"),
        ("Zoë's ../../etc/passwd", FileFormat.EXCEL, "customers-zoe-s-etc-passwd-2026-11-30.xlsx"),
        ('"Big" spenders: $5+', FileFormat.PARQUET, "customers-big-spenders-5-2026-11-30.parquet"),
        ("", FileFormat.CSV, "customers-2026-11-30.csv"),
        ("東京", FileFormat.CSV, "customers-2026-11-30.csv"),
    ],
)
def test_file_names_are_safe(label: str, fmt: FileFormat, expected: str) -> None:
    assert segment_export.file_name(label, fmt, date(2026, 11, 30)) == expected


def test_a_long_label_is_cut() -> None:
    name = segment_export.file_name("word " * 50, FileFormat.CSV, date(2026, 11, 30))
    assert len(name) <= len("customers--2026-11-30.csv") + 60
    assert not name.startswith("customers--")
