"""The overview's add and edit dialogs in AppTest (crm.ui.dialogs), on a per-test database.

What issue 12 found in them: a paste longer than a field's limit vanished
and the rest was saved (item 9); required fields were not marked (item 22).
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import formatting, queries, writes
from crm.ui import cards, dialogs

ROOT = Path(__file__).resolve().parent.parent

Con = duckdb.DuckDBPyConnection


@pytest.fixture
def at(app_env: Path) -> AppTest:
    return AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def field(app: AppTest, label: str) -> Any:
    return next(t for t in app.text_input if t.label == label)


def errors(app: AppTest) -> str:
    """The error summary and the sentences written under the fields."""
    under_fields = [h.value for h in app.html if "ch-field-error" in h.value]
    return " ".join([*(e.value for e in app.error), *under_fields])


def open_add(app: AppTest) -> AppTest:
    run(app)
    app.button(key="add_customer").click()
    return run(app)


def person() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"First name": "Ana", "Last name": f"Lopez{tag}", "Email": f"ana.{tag}@example.com"}


def emails(con: Con, email: str) -> int:
    row = con.execute("SELECT count(*) FROM customers WHERE email = ?", [email]).fetchone()
    assert row is not None
    return int(row[0])


# --- Item 9: a value longer than its field is refused in words, never dropped -------


@pytest.mark.parametrize(
    ("label", "text", "limit"),
    [("Phone", "1" * 100, 32), ("Email", "a" * 290 + "@ex.com", 254), ("City", "C" * 61, 60)],
)
def test_a_too_long_value_is_refused_in_words_and_nothing_saved(
    at: AppTest, con: Con, label: str, text: str, limit: int
) -> None:
    before = queries.count_all_customers(con)
    open_add(at)
    new = person()
    for name, value in {**new, label: text}.items():
        field(at, name).input(value)
    # The form keeps what was typed (a browser with max_chars dropped the whole paste).
    assert field(at, label).value == text
    at.button(key="dialog_save").click()
    run(at)
    said = errors(at)
    assert f"{label} is too long" in said
    assert str(limit) in said and str(len(text)) in said
    assert queries.count_all_customers(con) == before
    assert emails(con, new["Email"]) == 0


def test_no_customer_field_has_a_browser_side_length_limit(at: AppTest) -> None:
    open_add(at)
    limits = {t.label: t.max_chars for t in at.text_input if t.key != "seg_search"}
    assert len(limits) == sum(len(row) for row in dialogs.FORM_ROWS)
    assert set(limits.values()) == {0}  # 0: no max_chars


# --- Item 22: required fields are marked ------------------------------------------


@pytest.mark.parametrize("kind", ["add", "edit"])
def test_first_name_last_name_and_email_are_marked_required(
    at: AppTest, con: Con, kind: str
) -> None:
    if kind == "add":
        open_add(at)
    else:
        row = con.execute("SELECT min(id) FROM customers").fetchone()
        assert row is not None
        run(at)
        at.session_state[cards.PENDING] = ("edit", int(row[0]))  # a click on a card's Edit
        run(at)
    required = {t.label for t in at.text_input if t.key != "seg_search" and t.proto.required}
    assert required == {"First name", "Last name", "Email"}


# --- Item 13: an edit saved after someone deleted the customer --------------------


def test_an_edit_saved_after_someone_deleted_the_customer_says_it_was_not_saved(
    at: AppTest, con: Con
) -> None:
    row = con.execute("SELECT min(id) FROM customers").fetchone()
    assert row is not None
    customer_id = int(row[0])
    run(at)
    at.session_state[cards.PENDING] = ("edit", customer_id)  # a click on a card's Edit
    run(at)
    writes.delete_customer(con, customer_id)  # another user, on another connection
    field(at, "City").input("Mine")
    at.button(key="dialog_save").click()
    run(at)
    assert [w.value for w in at.warning] == [formatting.escape_markdown(dialogs.NOT_SAVED_GONE)]
    assert [b.key for b in at.button if b.key and b.key.startswith("dialog_")] == ["dialog_close"]
    assert queries.get_customer(con, customer_id) is None
    assert [t.value for t in at.toast] == []


# --- An edit may not remove the phone number of a customer subscribed to SMS ------


def test_removing_an_sms_subscribers_phone_is_refused_under_the_phone_field(
    at: AppTest, con: Con
) -> None:
    row = con.execute(
        "SELECT min(id) FROM customers WHERE sms_consent = 'Subscribed' AND phone <> ''"
    ).fetchone()
    assert row is not None and row[0] is not None
    customer_id = int(row[0])
    before = queries.get_customer(con, customer_id)
    assert before is not None
    run(at)
    at.session_state[cards.PENDING] = ("edit", customer_id)  # a click on a card's Edit
    run(at)
    field(at, "Phone").input("")
    field(at, "City").input("Elsewhere")
    at.button(key="dialog_save").click()
    run(at)
    # The theme's stylesheet names the class too: only the sentences carry it as a class.
    under_fields = [h.value for h in at.html if 'class="ch-field-error"' in h.value]
    assert under_fields == [
        f'<div class="ch-field-error" role="alert">{html.escape(writes.PHONE_NEEDED_FOR_SMS)}</div>'
    ]
    assert "nothing was saved" in " ".join(e.value for e in at.error)
    # The dialog stays open with what was typed, and nothing was written.
    assert at.session_state[dialogs.STATE].kind == "edit"
    assert (field(at, "Phone").value, field(at, "City").value) == ("", "Elsewhere")
    assert queries.get_customer(con, customer_id) == before
    assert [t.value for t in at.toast] == []
