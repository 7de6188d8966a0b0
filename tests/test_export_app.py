"""The Export dialog in the app (AppTest): from the overview's header and from a saved
segment's row, its formats, the Excel limit and the large-Excel build with progress.

Counts expected are counted in the test with plain SQL over the customers. The
file behind a download button is built by the browser's click (tested in
test_export_browser.py); here the built Excel file of the large path is read back.
"""

from __future__ import annotations

import io

import duckdb
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest
from test_saved_segments_app import at, run

from crm import formatting, writes
from crm.exchange import segment_export
from crm.models import SegmentCreate
from crm.ui import export

Con = duckdb.DuckDBPyConnection
__all__ = ["at"]  # the overview's AppTest, a fixture shared with the saved segments' tests


def texts(app: AppTest) -> list[str]:
    return [str(m.value) for m in [*app.markdown, *app.caption]]


def biggest_country(con: Con) -> tuple[str, int]:
    row = con.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def open_export(app: AppTest) -> None:
    app.button(key="export_segment").click()
    run(app)


def download_labels(app: AppTest) -> list[str]:
    return [b.label for b in app.get("download_button")]


def choose(app: AppTest, fmt: segment_export.FileFormat) -> None:
    app.segmented_control(key="export_format").set_value(segment_export.FORMAT_LABELS[fmt])
    run(app)


def test_export_from_the_overview_counts_the_filtered_segment(at: AppTest, con: Con) -> None:
    country, expected = biggest_country(con)
    at.query_params["country"] = country
    run(at)
    assert download_labels(at) == []  # built only when asked for
    open_export(at)
    assert f"{formatting.plural(expected, 'customer')} to export." in texts(at)
    control = at.segmented_control(key="export_format")
    assert list(control.options) == ["CSV", "Excel (.xlsx)", "Parquet"]
    assert control.value == "CSV"
    assert download_labels(at) == ["Download CSV"]
    choose(at, segment_export.FileFormat.PARQUET)
    assert download_labels(at) == ["Download Parquet"]
    choose(at, segment_export.FileFormat.EXCEL)
    assert download_labels(at) == ["Download Excel (.xlsx)"]
    assert not at.error


def test_excel_over_its_limit_says_so_and_offers_csv(
    at: AppTest, con: Con, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment_export, "EXCEL_MAX_ROWS", 11)
    run(at)
    open_export(at)
    choose(at, segment_export.FileFormat.EXCEL)
    everyone = con.execute("SELECT count(*) FROM customers").fetchone()
    assert everyone is not None
    (error,) = at.error
    assert "An Excel sheet holds at most 10 customers" in error.value
    assert f"this segment has {everyone[0]:,}" in error.value
    assert download_labels(at) == []
    at.button(key="export_as_csv").click()
    run(at)
    assert at.segmented_control(key="export_format").value == "CSV"
    assert download_labels(at) == ["Download CSV"]
    assert not at.error


def test_a_large_excel_file_is_built_with_progress_then_offered(
    at: AppTest, con: Con, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXCEL_PROGRESS_ROWS", 5)
    country, expected = biggest_country(con)
    at.query_params["country"] = country
    run(at)
    open_export(at)
    choose(at, segment_export.FileFormat.EXCEL)
    assert any("slow to build" in w.value for w in at.warning)
    assert download_labels(at) == []
    at.button(key="export_build").click()
    run(at)
    assert download_labels(at) == ["Download Excel (.xlsx)"]
    _, name, data = at.session_state[export._BUILT]
    assert name.startswith("customers-") and name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book["Customers"].iter_rows(values_only=True))
    book.close()
    assert len(rows) == expected + 1
    assert {r[9] for r in rows[1:]} == {country}
    # Opening the dialog afresh lets go of the file: Excel is built again when asked for.
    open_export(at)
    assert export._BUILT not in at.session_state
    assert at.segmented_control(key="export_format").value == "CSV"
    choose(at, segment_export.FileFormat.EXCEL)
    assert download_labels(at) == []
    assert [b.key for b in at.button if b.key == "export_build"] == ["export_build"]


def test_export_from_a_saved_segment_row(at: AppTest, con: Con) -> None:
    country, expected = biggest_country(con)
    name = "Big *country* [x](http://e.com)"
    segment_id = writes.create_segment(
        con, SegmentCreate(name=name, description="", filters={"country": [country]})
    )
    run(at)
    at.switch_page("app_pages/Segments.py")
    run(at)
    at.button(key=f"export_segment_{segment_id}").click()
    run(at)
    shown = f"**{formatting.escape_markdown(name)}**: {formatting.plural(expected, 'customer')}"
    assert f"{shown} to export." in texts(at)
    assert download_labels(at) == ["Download CSV"]


def test_the_label_of_a_segment_names_its_filters() -> None:
    from crm.models import CustomerFilter

    f = CustomerFilter(countries=("Italy",), categories=("Coffee",), search="ana")
    assert export.segment_label(f) == "ana Italy Coffee"
    assert export.segment_label(CustomerFilter()) == "all"
