"""The Import page in the app (AppTest): upload, mapping, dry run report, confirm,
past imports with Undo (asks first), read-only mode, and the backup button.

Expected counts come from the test's own file and plain SQL over the database.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm.formatting import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["First name", "Last name", "Email address", "Town"]


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _people(count: int, bad: int = 0) -> list[list[str]]:
    rows = [[f"Apptest{i}", f"Person{i}", f"apptest{i}@example.org", "Lille"] for i in range(count)]
    for i in range(bad):
        rows[i * 3][2] = f"broken{i}-at-example.org"
    return rows


@pytest.fixture
def at(app_env: Path) -> AppTest:
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    app.run()
    app.switch_page("app_pages/Import.py")
    return app


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _count(path: Path, sql: str) -> int:
    con = duckdb.connect(str(path))  # the app's own database instance (same process)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def _errors(app: AppTest) -> list[str]:
    return [str(e.value) for e in app.error]


def test_a_file_is_checked_then_imported_then_undone(at: AppTest, app_env: Path) -> None:
    run(at)
    assert at.title[0].value == "Import"
    at.file_uploader[0].set_value(("people.csv", _csv(_people(30, bad=4)), "text/csv"))
    run(at)
    # Matched by the headers, editable.
    file_id = _file_id(at)
    assert at.selectbox(key=f"import_map_customers_email_{file_id}").value == 2
    assert at.selectbox(key=f"import_map_customers_city_{file_id}").value == 3
    assert at.selectbox(key=f"import_map_customers_phone_{file_id}").value is None
    at.button(key="import_dry_run").click()
    run(at)
    assert "26 new customers" in at.warning[0].value and "4 rows refused" in at.warning[0].value
    # Nothing written by the dry run.
    assert _count(app_env, "SELECT count(*) FROM customers WHERE email LIKE 'apptest%'") == 0
    problems = at.dataframe[0].value
    assert list(problems["Row"]) == [2, 5, 8, 11]
    assert set(problems["File column"]) == {"Email address"}
    assert at.download_button(key="import_report_download") is not None
    confirm = at.button(key="import_confirm")
    assert confirm.label == "Import 26 customers" and not confirm.disabled
    confirm.click()
    run(at)
    assert _count(app_env, "SELECT count(*) FROM customers WHERE email LIKE 'apptest%'") == 26
    # The toast counts the refused rows too (4 bad emails in the file).
    assert [t.value for t in at.toast] == [
        "Imported 26 new customers, updated 0, left 0 as they were;"
        " 4 rows were refused (import #1)."
    ]
    # The plan is gone: a second click cannot import again; the uploader starts afresh.
    assert not [b for b in at.button if b.key == "import_confirm"]
    assert at.file_uploader[0].key == "import_file_1" and not at.file_uploader[0].value

    undo = at.button(key="import_undo_1")
    assert not undo.disabled
    undo.click()
    run(at)
    assert _count(app_env, "SELECT count(*) FROM customers WHERE email LIKE 'apptest%'") == 26
    at.button(key="dialog_confirm_delete").click()
    run(at)
    assert _count(app_env, "SELECT count(*) FROM customers WHERE email LIKE 'apptest%'") == 0
    assert "Undid import #1" in at.toast[0].value
    assert at.button(key="import_undo_1").disabled


def test_a_bad_file_gets_a_sentence(at: AppTest) -> None:
    run(at)
    at.file_uploader[0].set_value(
        ("people.csv", "Email\nzo\xe9@x.org\n".encode("latin-1"), "text/csv")
    )
    run(at)
    shown = escape_markdown("The file is not UTF-8 text: line 2 has a byte (0xE9)")
    assert any(e.startswith(shown) for e in _errors(at))
    assert not [b for b in at.button if b.key == "import_dry_run"]


def test_duplicate_emails_block_the_confirm(at: AppTest, app_env: Path) -> None:
    run(at)
    rows = _people(3)
    rows.append(list(rows[0]))
    at.file_uploader[0].set_value(("dupes.csv", _csv(rows), "text/csv"))
    run(at)
    at.button(key="import_dry_run").click()
    run(at)
    assert any(escape_markdown("share their email") in e for e in _errors(at))
    assert at.button(key="import_confirm").disabled


def test_read_only_mode_disables_every_write(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read-only from the first run: the "at" fixture's run opened the file for writing,
    # and DuckDB refuses a read-only connection beside it in one process.
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/Import.py")
    run(at)
    assert at.file_uploader[0].disabled
    assert any("Read-only mode" in i.value for i in at.info)
    assert at.download_button(key="backup_download") is not None


def _keys(app: AppTest) -> list[str]:
    return [s.key for s in app.selectbox if s.key]


def _file_id(app: AppTest) -> str:
    key = next(k for k in _keys(app) if k.startswith("import_map_customers_email_"))
    return key.removeprefix("import_map_customers_email_")


def test_orders_ask_for_the_date_order_then_import(at: AppTest, app_env: Path) -> None:
    con = duckdb.connect(str(app_env))
    try:
        query = "SELECT email FROM customers ORDER BY id LIMIT 2"
        emails = [r[0] for r in con.execute(query).fetchall()]
        before = con.execute("SELECT count(*) FROM orders").fetchone()
    finally:
        con.close()
    run(at)
    at.segmented_control(key="import_kind").set_value("Orders")
    run(at)
    rows = [[emails[0], "03/04/2025", "10.00"], [emails[1], "05/06/2025", "2.50"]]
    at.file_uploader[0].set_value(
        ("orders.csv", _csv(rows, ["Email", "Order date", "Total"]), "text/csv")
    )
    run(at)
    at.button(key="import_dry_run").click()
    run(at)
    assert any(escape_markdown("could put the day or the month first") in e for e in _errors(at))
    assert at.button(key="import_confirm").disabled
    at.selectbox(key="import_date_order").set_value("Day first (31/03/2024)")
    run(at)
    at.button(key="import_dry_run").click()
    run(at)
    confirm = at.button(key="import_confirm")
    assert confirm.label == "Import 2 orders" and not confirm.disabled
    confirm.click()
    run(at)
    assert at.toast[0].value.startswith("Imported 2 orders")
    assert before is not None
    assert _count(app_env, "SELECT count(*) FROM orders") == before[0] + 2
    # Day first: 03/04 is the 3rd of April, 05/06 the 5th of June.
    imported = (
        "SELECT count(*) FROM orders o JOIN import_orders i ON i.order_id = o.id"
        " WHERE o.ordered_at IN ('2025-04-03', '2025-06-05')"
    )
    assert _count(app_env, imported) == 2
