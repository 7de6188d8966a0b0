"""Reading an uploaded file into rows of text, before anything is checked.

CSV and Parquet are read by DuckDB's own readers, Excel (.xlsx) by openpyxl
(DuckDB's excel extension is downloaded at run time, which these machines
cannot do). Every cell becomes text (VARCHAR): what a value means is decided
later, in SQL, with a sentence for each value that means nothing
(``crm.exchange.import_checks``).

A file is refused as a whole, with one sentence, when it cannot be read as
a table: too big, empty, not text, not UTF-8, ragged rows, no data rows.
Each row keeps the number a spreadsheet shows beside it (the header is
row 1, the first data row is row 2), so the report's "row 7" is found at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from crm.errors import CrmError

# A million customer rows with full addresses is about 130 MB of CSV; a
# bigger file is refused before it is read. Streamlit's uploader is given the
# same limit (server.maxUploadSize in .streamlit/config.toml).
MAX_FILE_MB = 160
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
# Excel keeps every cell in memory as a Python object (openpyxl): ~1 KB a
# row, so a sheet this long is refused rather than read for minutes.
MAX_EXCEL_ROWS = 200_000
FIRST_DATA_ROW = 2
_SLICE = 1 << 20
ROW_NUMBER = "row_no"
FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
_DELIMITERS = (",", ";", "\t", "|")
# DuckDB's words for a malformed row: 'CSV Error on Line: 7'.
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class BadFile(CrmError):
    """The file cannot be read as a table; the sentence says why. Nothing was written."""


@dataclass(frozen=True)
class RawFile:
    """A file's rows as text: ``table`` has ``row_no`` then ``c0``, ``c1``, ... in the
    order of ``headers`` (the header row's texts as written)."""

    name: str
    format: str
    headers: tuple[str, ...]
    table: pa.Table

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def column_name(index: int) -> str:
    """The staged name of the file's column ``index`` (headers are never SQL names)."""
    return f"c{index}"


def _format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise BadFile(
            "This is an old Excel workbook (.xls). Save it as an Excel workbook (.xlsx)"
            " or as CSV UTF-8, and upload it again."
        )
    if suffix not in FORMATS:
        raise BadFile(
            f"Files ending “{suffix or '(no ending)'}” cannot be imported: use CSV (.csv),"
            " Excel (.xlsx) or Parquet (.parquet)."
        )
    return FORMATS[suffix]


def _check_size(size: int) -> None:
    if size == 0:
        raise BadFile("The file is empty.")
    if size > MAX_FILE_BYTES:
        raise BadFile(
            f"The file is {size / 1024 / 1024:,.0f} MB; files up to {MAX_FILE_MB} MB can be"
            " imported. Split it into smaller files and import them one after the other."
        )


def _check_text(data: bytes) -> None:
    """Refuse a CSV that is not UTF-8 text, saying what it looks like instead."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadFile(
            "The file is saved as UTF-16 text. Save it as “CSV UTF-8” and upload it again."
        )
    if head.startswith(b"PK\x03\x04"):
        raise BadFile(
            "This is not a CSV file but a zip archive or an Excel workbook renamed .csv."
            " Upload workbooks with their own ending (.xlsx)."
        )
    if b"\x00" in head:
        raise BadFile(
            "This is not a text file (it holds binary data): perhaps a program or a"
            " picture renamed .csv. Export the table as CSV and upload that."
        )
    # In slices, so a 160 MB file is never held twice (bytes and text) at once.
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), _SLICE):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the last slice
        try:
            decoder.decode(data[start : start + _SLICE], final=start + _SLICE >= len(data))
        except UnicodeDecodeError as problem:
            _not_utf8(data, start - pending + problem.start)


def _not_utf8(data: bytes, position: int) -> NoReturn:
    line = data[:position].count(b"\n") + 1
    raise BadFile(
        f"The file is not UTF-8 text: line {line:,} has a byte (0x{data[position]:02X}) UTF-8"
        " does not allow; it was probably saved as Latin-1 or Windows-1252. Save it as"
        " “CSV UTF-8” and upload it again."
    ) from None


def _delimiter(data: bytes) -> str:
    """The separator the header line uses most (comma when it has none)."""
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _headers(names: list[str]) -> tuple[str, ...]:
    return tuple(str(name).strip() for name in names)


def _stage_table(headers: tuple[str, ...], columns: list[pa.Array]) -> pa.Table:
    """``row_no`` and the columns as text, named ``c0``, ``c1``, ..."""
    rows = len(columns[0]) if columns else 0
    numbers = pa.array(range(FIRST_DATA_ROW, FIRST_DATA_ROW + rows), type=pa.int64())
    texts = [pc.cast(column, pa.string()) for column in columns]
    names = [ROW_NUMBER, *(column_name(i) for i in range(len(headers)))]
    return pa.Table.from_arrays([numbers, *texts], names=names)


def _header_row(data: bytes, delimiter: str) -> list[str]:
    """The header row's texts, read by Python's csv module (quotes and all)."""
    # The first 1 MB holds the header (a header longer than that is not a table's).
    text = data[:_SLICE].decode("utf-8-sig", errors="ignore")
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _read_csv(path: Path, data: bytes) -> tuple[tuple[str, ...], pa.Table]:
    delimiter = _delimiter(data)
    headers = _headers(_header_row(data, delimiter))
    # Every option explicit, nothing sniffed: each column is text (c0, c1, ...;
    # the headers are never SQL names), and a row with more or fewer fields than
    # the header is an error that names its line. A connection of its own, in
    # memory, keeps the file's row order (the app's connection does not:
    # crm.db turns preserve_insertion_order off).
    reader = duckdb.connect()
    try:
        relation = reader.sql(
            """
            SELECT * FROM read_csv($path, header = true, auto_detect = false,
                                   columns = $columns, delim = $delim, quote = '"',
                                   escape = '"', strict_mode = true, encoding = 'utf-8')
            """,
            params={
                "path": str(path),
                "delim": delimiter,
                "columns": {column_name(i): "VARCHAR" for i in range(len(headers))},
            },
        )
        table = relation.to_arrow_table()
    except duckdb.Error as problem:
        message = str(problem)
        line = _CSV_LINE.search(message)
        where = f" on line {int(line.group(1)):,}" if line else ""
        counts = _CSV_COUNTS.search(message)
        what = (
            f"it has {counts.group(2)} fields where the header has {counts.group(1)}"
            if counts
            else "a row has more or fewer fields than the header, or a quote is never closed"
        )
        raise BadFile(
            f"The file could not be read as a table{where}: {what}. (Is a text with a"
            f" “{delimiter}” in it missing its quotes?)"
        ) from None
    finally:
        reader.close()
    return headers, _stage_table(headers, table.columns)


def _read_parquet(path: Path) -> tuple[tuple[str, ...], pa.Table]:
    reader = duckdb.connect()
    try:
        table = reader.sql(
            "SELECT * FROM read_parquet($path)", params={"path": str(path)}
        ).to_arrow_table()
    except duckdb.Error:
        raise BadFile(
            "The file could not be read as Parquet: it may be damaged, or another kind"
            " of file renamed .parquet."
        ) from None
    finally:
        reader.close()
    headers = _headers(table.column_names)
    columns = [_as_text(column) for column in table.columns]
    return headers, _stage_table(headers, columns)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as text: dates as 2024-03-31, times as 2024-03-31 14:05:00."""
    if pa.types.is_timestamp(column.type):
        return pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(column.type):
        return pc.strftime(column, format="%Y-%m-%d")
    return pc.cast(column, pa.string())


def _cell_text(value: object) -> str | None:
    """An Excel cell as the text a person sees (12 rather than 12.0)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.time() != time() else "%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def _read_xlsx(path: Path) -> tuple[tuple[str, ...], pa.Table]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise BadFile(
            "The file could not be read as an Excel workbook (.xlsx): it may be damaged,"
            " or another kind of file renamed .xlsx."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise BadFile("The workbook's first sheet is empty.")
        headers = _headers([_cell_text(v) or "" for v in header])
        width = len(headers)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        numbers: list[int] = []
        for number, row in enumerate(rows, start=FIRST_DATA_ROW):
            cells = [_cell_text(v) for v in row[:width]]
            if all(cell is None or not cell.strip() for cell in cells):
                continue  # blank lines at the end of a sheet
            if len(numbers) >= MAX_EXCEL_ROWS:
                raise BadFile(
                    f"The workbook has more than {MAX_EXCEL_ROWS:,} rows; save it as CSV UTF-8"
                    " (no limit but the file size) and import that."
                )
            numbers.append(number)
            for index in range(width):
                columns[index].append(cells[index] if index < len(cells) else None)
    finally:
        workbook.close()
    names = [ROW_NUMBER, *(column_name(i) for i in range(width))]
    arrays = [pa.array(numbers, type=pa.int64())]
    arrays += [pa.array(values, type=pa.string()) for values in columns]
    return headers, pa.Table.from_arrays(arrays, names=names)


def read_file(path: Path | str, name: str | None = None) -> RawFile:
    """The rows of the file at ``path`` as text; ``name`` (the uploaded file's name,
    else the path's) decides how it is read. Raises ``BadFile`` with a sentence."""
    source = Path(path)
    shown = name or source.name
    kind = _format_of(shown)
    _check_size(source.stat().st_size)
    if kind == "csv":
        data = source.read_bytes()
        _check_text(data)
        headers, table = _read_csv(source, data)
    elif kind == "parquet":
        headers, table = _read_parquet(source)
    else:
        headers, table = _read_xlsx(source)
    if not any(headers):
        raise BadFile("The first row must name the columns (Email, First name, ...).")
    if table.num_rows == 0:
        raise BadFile("The file has a header row but no data rows.")
    return RawFile(name=shown, format=kind, headers=headers, table=table)
