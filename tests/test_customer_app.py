"""The Customer page in AppTest: a seeded customer, every action and its toast, bad ids.

Expectations come from the test's own database copy. Charts and grids are
not drawn by AppTest: their specs are unit-tested (test_charts) and their
drawing is checked in the browser (test_customer_browser).
"""

from __future__ import annotations

import html
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from crm import avatars, db, formatting, queries, templates, writes
from crm.campaigns.results import STATUS_LABELS
from crm.models import CampaignCreate, CustomerUpdate, OrderCreate, customer_form_values, parse
from crm.ui import actions, cards, dialogs

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/Customer.py"
XSS = "<b>x</b><img src=x onerror=alert(1)>"


@pytest.fixture
def dbc(app_env: Path) -> Any:
    """A second connection to the app's database, for expectations and checks."""
    connection = db.connect(app_env)
    yield connection
    connection.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def _customer_with(con: duckdb.DuckDBPyConnection, condition: str) -> int:
    return int(_one(con, f"SELECT min(id) FROM customers WHERE {condition}"))


def _busy_customer(con: duckdb.DuckDBPyConnection) -> int:
    """Orders, a phone, a visit and campaign sends: every part of the page has data;
    subscribed to email and SMS, so messages and campaigns may reach them."""
    return _customer_with(
        con,
        "order_count > 2 AND last_visit IS NOT NULL AND phone <> '' AND street <> ''"
        " AND email_consent = 'Subscribed' AND sms_consent = 'Subscribed'"
        " AND id IN (SELECT customer_id FROM campaign_sends WHERE status <> 'Queued')",
    )


def _open(customer_id: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    if customer_id is not None:
        at.query_params["id"] = str(customer_id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _toasts(at: AppTest) -> list[str]:
    return [t.value for t in at.toast]


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _history(at: AppTest) -> Any:
    """The campaigns-and-messages grid's data (a read-only grid has no key in AppTest)."""
    return next(d.value for d in at.dataframe if "kind" in d.value.columns)


def _plain(text: str) -> str:
    """An alert's text without the Markdown escapes that keep user text literal."""
    return text.replace("\\", "").replace(formatting.WORD_JOINER, "")


def _count(con: duckdb.DuckDBPyConnection, table: str, customer_id: int) -> int:
    return int(_one(con, f"SELECT count(*) FROM {table} WHERE customer_id = ?", [customer_id]))


# --- Showing a customer --------------------------------------------------------------


def test_profile_figures_and_address_come_from_the_database(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    customer = queries.get_customer(dbc, cid)
    assert customer is not None
    at = _open(cid)

    header = at.html[0].value
    for value in (customer.name, customer.email, customer.phone, customer.city):
        assert html.escape(value) in header
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Total spending": formatting.money(customer.total_spending),
        "Orders": formatting.number(customer.order_count),
        "Average order": formatting.money(customer.total_spending / customer.order_count),
        "Visits": formatting.number(customer.visit_count),
        "Last visit": formatting.short_date(customer.last_visit),
    }
    address = " ".join(m.value for m in at.markdown).replace("\\", "")
    for part in (customer.street, customer.city, customer.zip, customer.country):
        assert part in address
    back = at.page_link[0]
    assert back.label == "All customers" and back.proto.page_script_hash


def test_a_write_by_someone_else_shows_on_the_next_rerun(dbc: Any) -> None:
    """The page's reads are cached between reruns, but never past a write."""
    cid = _busy_customer(dbc)
    at = _open(cid)
    before = queries.get_customer(dbc, cid)
    assert before is not None and html.escape(before.city) in at.html[0].value
    at.run()  # a rerun with nothing written reads from the cache: same page
    assert html.escape(before.city) in at.html[0].value
    # Another session (another connection, same process) moves the city and
    # adds an order.
    data = {**customer_form_values(before), "city": "Elsewhere", "version": before.version}
    writes.update_customer(dbc, cid, parse(CustomerUpdate, data))
    order = {
        "ordered_at": datetime.now(),
        "items": [{"product_id": 1, "quantity": 1, "unit_price": "9.99"}],
    }
    writes.add_order(dbc, cid, parse(OrderCreate, order))
    at.run()
    assert "Elsewhere" in at.html[0].value
    after = queries.get_customer(dbc, cid)
    assert after is not None
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Orders"] == formatting.number(after.order_count)
    assert after.order_count == before.order_count + 1


def test_purchase_history_lists_every_order_newest_first_with_its_items(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _open(cid)
    orders = at.dataframe(key=f"orders_{cid}").value
    expected = dbc.execute(
        "SELECT id, amount FROM orders WHERE customer_id = ? ORDER BY ordered_at DESC, id DESC",
        [cid],
    ).fetchall()
    assert orders["order_id"].tolist() == [row[0] for row in expected]
    assert orders["amount"].tolist() == [float(row[1]) for row in expected]
    lines = dbc.execute(
        "SELECT i.order_id, i.quantity, p.name FROM order_items i JOIN products p"
        " ON p.id = i.product_id WHERE i.customer_id = ?",
        [cid],
    ).fetchall()
    first = int(orders["order_id"].iloc[0])
    shown = sorted(orders["items"].iloc[0])
    assert shown == sorted(f"{q} × {name}" for o, q, name in lines if o == first)


def test_campaign_history_lists_sends_and_messages(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _open(cid)
    history = _history(at)
    sends = _count(dbc, "campaign_sends", cid)
    messages = _count(dbc, "messages", cid)
    assert len(history) == sends + messages
    # The demo's campaigns hold out a control group: a member of one is listed, never sent.
    held_out = STATUS_LABELS["Control"]
    assert set(history["status"]) <= {"Delivered", "Failed", "Queued", "Sent", held_out}


def test_a_customer_without_orders_or_campaigns_gets_friendly_empty_states(dbc: Any) -> None:
    cid = _customer_with(
        dbc,
        "order_count = 0 AND id NOT IN (SELECT customer_id FROM campaign_sends)"
        " AND id NOT IN (SELECT customer_id FROM messages)",
    )
    at = _open(cid)
    infos = " ".join(i.value for i in at.info)
    assert "No orders yet" in infos
    assert "No campaigns or messages yet" in infos
    assert not [d for d in at.dataframe if d.key == f"orders_{cid}"]
    assert {m.label: m.value for m in at.metric}["Average order"] == formatting.MISSING


def test_never_visited_reads_never(dbc: Any) -> None:
    at = _open(_customer_with(dbc, "last_visit IS NULL"))
    assert {m.label: m.value for m in at.metric}["Last visit"] == "Never"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (None, "No customer was chosen"),
        ("", "No customer was chosen"),
        ("abc", "is not a customer number"),
        ("12abc", "is not a customer number"),
        ("-3", "is not a customer number"),
        ("1.5", "is not a customer number"),
        ("٣", "is not a customer number"),  # a digit, but not one an id is written with
        ("0", "There is no customer number 0"),
        ("99999999999999999999999", "There is no customer number"),
        ("9223372036854775807", "There is no customer number 9223372036854775807"),
    ],
)
def test_a_bad_id_shows_customer_not_found_with_a_way_back(
    app_env: Path, raw: str | None, says: str
) -> None:
    at = _open(raw)
    assert [t.value for t in at.title] == ["Customer not found"]
    assert says in at.info[0].value
    assert [p.label for p in at.page_link] == ["Back to all customers"]
    assert not at.metric and not at.button


def test_a_deleted_customer_is_not_found(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    dbc.execute("DELETE FROM customers WHERE id = ?", [cid])
    at = _open(cid)
    assert f"There is no customer number {cid}" in at.info[0].value


def test_user_text_is_shown_literally_never_as_html_or_markdown(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    dbc.execute(
        "UPDATE customers SET first_name = ?, last_name = '**bold**', street = ?, city = ?"
        " WHERE id = ?",
        [XSS, "[link](javascript:alert(1))", "<i>town</i>", cid],
    )
    at = _open(cid)
    header = at.html[0].value
    assert "<img src=x" not in header and "<b>x</b>" not in header
    assert "&lt;b&gt;x&lt;/b&gt;&lt;img src=x onerror=alert(1)&gt;" in header
    address = next(m.value for m in at.markdown if "link" in m.value)
    assert formatting.escape_markdown("[link](javascript:alert(1))") in address
    assert formatting.escape_markdown("<i>town</i>") in address


# --- Personalised message ------------------------------------------------------------


def _message_dialog(cid: int) -> AppTest:
    at = _open(cid)
    return _click(at, "open_message")


def test_message_preview_fills_merge_fields_and_sending_records_it(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    customer = queries.get_customer(dbc, cid)
    assert customer is not None
    before = _count(dbc, "messages", cid)
    at = _message_dialog(cid)
    at.text_input(key=actions.SUBJECT).input("For you, [First Name]")
    at.text_area(key=actions.BODY).input(templates.EXAMPLE).run()
    expected = templates.render(templates.EXAMPLE, customer).text
    assert expected in [t.value for t in at.text]
    assert f"Subject: For you, {customer.first_name}" in [t.value for t in at.text]

    _click(at, "msg_send")
    queued = f"Email to {customer.name} queued in the outbox: email delivery is not configured."
    assert queued in _toasts(at)
    assert _count(dbc, "messages", cid) == before + 1
    body, subject, status = dbc.execute(
        "SELECT body, subject, status FROM messages WHERE customer_id = ? ORDER BY id DESC",
        [cid],
    ).fetchone()
    assert (body, subject, status) == (expected, f"For you, {customer.first_name}", "Queued")
    history = _history(at)
    assert expected in history["body"].tolist()
    assert not at.text_area  # the dialog closed


def test_a_draft_stays_with_its_customer(dbc: Any) -> None:
    """An unsent draft is never carried to another customer's message."""
    first = _busy_customer(dbc)
    second = _customer_with(dbc, f"id > {first} AND order_count > 0")
    sent = _count(dbc, "messages", first) + _count(dbc, "messages", second)
    at = _message_dialog(first)
    at.text_input(key=actions.SUBJECT).input("Only for the first")
    at.text_area(key=actions.BODY).input("Dear first customer, about your order").run()
    # Away to another customer (the dialog left open), and their message dialog.
    at.query_params["id"] = str(second)
    at.run()
    _click(at, "open_message")
    assert at.text_area(key=actions.BODY).value == ""
    assert at.text_input(key=actions.SUBJECT).value == ""
    assert _count(dbc, "messages", first) + _count(dbc, "messages", second) == sent


def test_cancel_closes_the_message_dialog_and_sends_nothing(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    mine, everyone = _count(dbc, "messages", cid), _one(dbc, "SELECT count(*) FROM messages")
    at = _message_dialog(cid)
    at.text_input(key=actions.SUBJECT).input("Not this time")
    at.text_area(key=actions.BODY).input("Hello [First Name]").run()
    assert not at.button(key="msg_send").disabled  # it could have been sent
    _click(at, "dialog_cancel")
    assert dialogs.STATE not in at.session_state
    assert _dialogs_drawn(at) == []
    assert not _toasts(at)
    assert _count(dbc, "messages", cid) == mine
    assert _one(dbc, "SELECT count(*) FROM messages") == everyone
    # Opened again, it starts empty: Cancel dropped the draft, as the edit dialog's does.
    _click(at, "open_message")
    assert at.text_area(key=actions.BODY).value == ""
    assert at.text_input(key=actions.SUBJECT).value == ""


def _chip(at: AppTest, field: str, text: str, start: int, end: int | None = None) -> None:
    """What a click on a merge-field chip sends (actions.INSERT), then a run.

    AppTest cannot click inside the chips component; the browser test does.
    """
    at.session_state[actions.INSERT] = {
        "field": field,
        "text": text,
        "start": start,
        "end": start if end is None else end,
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize(
    ("text", "start", "end", "expected", "caret"),
    [
        ("Hello there", 5, 5, "Hello [City] there", 12),  # a space before, not after
        ("Hello there", 6, 6, "Hello [City] there", 12),  # a space after, not before
        ("Hello there", 6, 11, "Hello [City]", 12),  # the selection is replaced
        ("", 0, 0, "[City]", 6),
        ("Hi!", 99, 99, "Hi! [City]", 10),  # a position past the end means the end
        ("Since (soon)", 7, 7, "Since ([City] soon)", 13),  # no space after "("
    ],
)
def test_a_merge_field_chip_inserts_at_the_cursor(
    dbc: Any, text: str, start: int, end: int, expected: str, caret: int
) -> None:
    at = _message_dialog(_busy_customer(dbc))
    _chip(at, "City", text, start, end)
    assert at.text_area(key=actions.BODY).value == expected
    # The chips are told where the cursor goes: just after the field.
    (chips,) = [c for c in at.get("bidi_component") if c.key == actions.CHIPS]
    assert json.loads(chips.proto.json)["caret"] == caret


def test_a_chip_for_an_unknown_field_changes_nothing(dbc: Any) -> None:
    at = _message_dialog(_busy_customer(dbc))
    _chip(at, "Password", "Hello", 5)
    assert at.text_area(key=actions.BODY).value == ""
    assert not at.exception


def test_the_message_box_holds_an_instruction_not_an_example(dbc: Any) -> None:
    """The grey example text looked like a message; Send then said it was empty."""
    at = _message_dialog(_busy_customer(dbc))
    box = at.text_area(key=actions.BODY)
    assert box.value == ""
    assert box.placeholder == actions.BODY_PLACEHOLDER
    assert templates.EXAMPLE not in box.placeholder and "[" not in box.placeholder
    # The example is one click away, as real text that can be edited and sent.
    _click(at, "msg_use_example")
    assert at.text_area(key=actions.BODY).value == templates.EXAMPLE
    assert not [b for b in at.button if b.key == "msg_use_example"]


def test_unknown_field_and_empty_message_are_refused_with_nothing_sent(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    before = _count(dbc, "messages", cid)
    at = _message_dialog(cid)
    at.text_area(key=actions.BODY).input("Hi [Frist Name]").run()
    assert "Did you mean [First Name]" in _plain(at.warning[0].value)
    _click(at, "msg_send")
    assert "Unknown merge field [Frist Name]" in _plain(at.error[0].value)
    at.text_area(key=actions.BODY).input("   ").run()
    _click(at, "msg_send")
    assert "Write a message first: it is empty." in _plain(at.error[0].value)
    assert _count(dbc, "messages", cid) == before
    assert not _toasts(at)


def test_a_customer_who_never_visited_gets_the_fallback_and_a_note(dbc: Any) -> None:
    cid = _customer_with(dbc, "last_visit IS NULL")
    at = _message_dialog(cid)
    at.text_area(key=actions.BODY).input("Since [Last Visit]!").run()
    assert "Since your last visit!" in [t.value for t in at.text]
    assert any("[Last Visit] reads “your last visit”" in _plain(c.value) for c in at.caption)


# --- Campaigns -----------------------------------------------------------------------


def test_add_to_an_existing_campaign_then_again_says_already_in(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    campaign_id, name = dbc.execute(
        "SELECT id, name FROM campaigns WHERE id NOT IN"
        " (SELECT campaign_id FROM campaign_sends WHERE customer_id = ?) ORDER BY id LIMIT 1",
        [cid],
    ).fetchone()
    customer = queries.get_customer(dbc, cid)
    assert customer is not None
    at = _click(_open(cid), "open_campaign")
    at.selectbox(key=actions.CAMPAIGN_PICK).set_value(campaign_id).run()
    _click(at, "campaign_add")
    assert f"Added {customer.name} to “{name}”." in [_plain(t) for t in _toasts(at)]
    status = _one(
        dbc,
        "SELECT status FROM campaign_sends WHERE customer_id = ? AND campaign_id = ?",
        [cid, campaign_id],
    )
    assert status == "Queued"

    sends = _count(dbc, "campaign_sends", cid)
    at = _click(at, "open_campaign")
    at.selectbox(key=actions.CAMPAIGN_PICK).set_value(campaign_id).run()
    _click(at, "campaign_add")
    assert "already in the campaign" in _plain(at.warning[0].value)
    assert _count(dbc, "campaign_sends", cid) == sends


def test_create_a_new_campaign_and_add_the_customer(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _click(_open(cid), "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    at.text_input(key=actions.NEW_NAME).input("Winter comeback")
    at.selectbox(key=actions.NEW_CHANNEL).set_value("SMS")
    at.text_area(key=actions.NEW_TEMPLATE).input("Hi [First Name], 20% off!")
    at.button(key="campaign_create").click().run()
    assert "Created “Winter comeback” and added" in " ".join(_toasts(at))
    row = dbc.execute(
        "SELECT c.channel, c.template, s.status FROM campaigns c"
        " JOIN campaign_sends s ON s.campaign_id = c.id"
        " WHERE c.name = 'Winter comeback' AND s.customer_id = ?",
        [cid],
    ).fetchone()
    assert row == ("SMS", "Hi [First Name], 20% off!", "Queued")
    history = _history(at)
    assert "Winter comeback" in history["campaign"].tolist()


def test_a_new_campaign_without_name_or_with_a_bad_template_is_refused(dbc: Any) -> None:
    campaigns = int(_one(dbc, "SELECT count(*) FROM campaigns"))
    at = _click(_open(_busy_customer(dbc)), "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    at.button(key="campaign_create").click().run()
    assert _plain(at.error[0].value) == "Name is required."
    at.text_input(key=actions.NEW_NAME).input("Typo")
    at.text_area(key=actions.NEW_TEMPLATE).input("Hi [Nmae]")
    at.button(key="campaign_create").click().run()
    assert "Unknown merge field [Nmae]" in _plain(at.error[0].value)
    assert int(_one(dbc, "SELECT count(*) FROM campaigns")) == campaigns
    assert not _toasts(at)


def test_cancel_closes_the_campaign_dialog_and_adds_nothing(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    sends, campaigns = (
        _count(dbc, "campaign_sends", cid),
        _one(dbc, "SELECT count(*) FROM campaigns"),
    )
    at = _click(_open(cid), "open_campaign")
    assert at.button(key="campaign_add").disabled  # nothing chosen yet
    campaign_id = _one(
        dbc,
        "SELECT min(id) FROM campaigns WHERE id NOT IN"
        " (SELECT campaign_id FROM campaign_sends WHERE customer_id = ?)",
        [cid],
    )
    at.selectbox(key=actions.CAMPAIGN_PICK).set_value(campaign_id).run()
    assert not at.button(key="campaign_add").disabled  # it could have been added
    _click(at, "dialog_cancel")
    assert dialogs.STATE not in at.session_state
    assert _dialogs_drawn(at) == []
    # A new campaign typed in, then Cancel: no campaign is created.
    at = _click(at, "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    at.text_input(key=actions.NEW_NAME).input("Never made")
    at.button(key="dialog_cancel").click().run()
    assert dialogs.STATE not in at.session_state
    assert _dialogs_drawn(at) == []
    assert not _toasts(at)
    assert _count(dbc, "campaign_sends", cid) == sends
    assert _one(dbc, "SELECT count(*) FROM campaigns") == campaigns


# --- Picture -------------------------------------------------------------------------


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), "#227744").save(out, format="PNG")
    return out.getvalue()


def test_upload_a_picture_then_remove_it(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    customer = queries.get_customer(dbc, cid)
    assert customer is not None
    at = _click(_open(cid), "open_picture")
    at.file_uploader(key=actions.UPLOAD).set_value(("me.png", _png(), "image/png")).run()
    _click(at, "avatar_save")
    assert f"New picture saved for {customer.name}." in _toasts(at)
    mime, size = dbc.execute(
        "SELECT avatar_type, octet_length(avatar) FROM customers WHERE id = ?", [cid]
    ).fetchone()
    assert mime == "image/webp" and 0 < size < len(_png())
    assert "<img src=" in at.html[0].value

    at = _click(at, "open_picture")
    _click(at, "avatar_remove")
    assert f"Picture removed; {customer.name} shows initials again." in _toasts(at)
    assert _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid]) is None


def test_cancel_closes_the_picture_dialog_and_keeps_the_old_picture(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    before = _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid])
    at = _click(_open(cid), "open_picture")
    at.file_uploader(key=actions.UPLOAD).set_value(("me.png", _png(), "image/png")).run()
    assert not at.button(key="avatar_save").disabled  # it could have been saved
    _click(at, "dialog_cancel")
    assert dialogs.STATE not in at.session_state
    assert _dialogs_drawn(at) == []
    assert not _toasts(at)
    assert _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid]) == before


# --- Edit and delete (the shared dialogs) --------------------------------------------


def _edit_dialog(cid: int) -> AppTest:
    at = _click(_open(cid), "open_edit")
    assert at.text_input[0].value  # pre-filled
    return at


def _first_name_input(at: AppTest) -> Any:
    return next(t for t in at.text_input if t.label == "First name")


def test_edit_saves_with_a_toast(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _edit_dialog(cid)
    field = _first_name_input(at)
    assert field.value == _one(dbc, "SELECT first_name FROM customers WHERE id = ?", [cid])
    field.input("Renamed")
    at.button(key="dialog_save").click().run()
    assert any(t.startswith("Saved Renamed") for t in _toasts(at))
    assert _one(dbc, "SELECT first_name FROM customers WHERE id = ?", [cid]) == "Renamed"
    assert "Renamed" in at.html[0].value


def test_edit_after_someone_else_saved_says_so(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _edit_dialog(cid)
    dbc.execute("UPDATE customers SET version = version + 1 WHERE id = ?", [cid])
    _first_name_input(at).input("Mine")
    at.button(key="dialog_save").click().run()
    assert "changed by someone else" in _plain(at.warning[0].value)
    assert _one(dbc, "SELECT first_name FROM customers WHERE id = ?", [cid]) != "Mine"


def test_delete_confirms_then_goes_home_with_a_toast(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    customer = queries.get_customer(dbc, cid)
    assert customer is not None
    at = _click(_open(cid), "open_delete")
    assert customer.name in at.html[-1].value  # the confirmation names the customer
    assert _one(dbc, "SELECT count(*) FROM customers WHERE id = ?", [cid]) == 1
    _click(at, "dialog_confirm_delete")
    assert _one(dbc, "SELECT count(*) FROM customers WHERE id = ?", [cid]) == 0
    assert f"Deleted {customer.name}" in _toasts(at)
    assert "Customers" in [t.value for t in at.title]  # back on the overview


def test_message_records_sent_at_now(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _message_dialog(cid)
    at.text_area(key=actions.BODY).input("Thanks, [First Name]!").run()
    started = datetime.now()
    _click(at, "msg_send")
    sent_at = _one(dbc, "SELECT max(sent_at) FROM messages WHERE customer_id = ?", [cid])
    assert abs((sent_at - started).total_seconds()) < 60


def test_selecting_an_order_shows_its_lines(dbc: Any) -> None:
    """The order picker (usable from the keyboard) shows the lines and selects the grid's row."""
    cid = _busy_customer(dbc)
    at = _open(cid)
    third = int(at.dataframe(key=f"orders_{cid}").value["order_id"].iloc[2])
    at.selectbox(key=f"order_pick_{cid}").select(third).run()
    lines = next(d.value for d in at.dataframe if "line_total" in d.value.columns)
    expected = dbc.execute(
        "SELECT p.name, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id"
        " WHERE i.order_id = ? ORDER BY p.name",
        [third],
    ).fetchall()
    assert sorted(zip(lines["product"], lines["quantity"], strict=True)) == sorted(expected)
    assert any(f"Order #{third}" in m.value for m in at.markdown)
    assert at.session_state[f"orders_{cid}"]["selection"]["rows"] == [2]


# --- One dialog state for every page (issue 12, item 24) ------------------------------

# A widget that only the dialog of each kind draws.
DIALOG_MARKS = {
    "message": ("text_area", actions.BODY),
    "campaign": ("segmented_control", actions.CAMPAIGN_MODE),
    "picture": ("file_uploader", actions.UPLOAD),
    "edit": ("button", "dialog_save"),
    "delete": ("button", "dialog_confirm_delete"),
}


def _dialogs_drawn(at: AppTest) -> list[str]:
    return [
        kind
        for kind, (element, key) in DIALOG_MARKS.items()
        if any(getattr(w, "key", None) == key for w in at.get(element))
    ]


def test_one_state_holds_whichever_dialog_was_opened_last(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _open(cid)
    for button, kind in [
        ("open_message", "message"),
        ("open_edit", "edit"),
        ("open_campaign", "campaign"),
        ("open_delete", "delete"),
        ("open_picture", "picture"),
    ]:
        _click(at, button)  # the dialog before it is still open: this one replaces it
        assert at.session_state[dialogs.STATE].kind == kind
        assert at.session_state[dialogs.STATE].customer_id == cid
        assert _dialogs_drawn(at) == [kind]


def test_a_dialog_opened_elsewhere_replaces_the_customer_page_dialog(dbc: Any) -> None:
    """Message open on a customer's page; back on the overview a card's Edit is opened
    and cancelled: returning to the customer shows no dialog (two states brought the
    message back)."""
    cid = _busy_customer(dbc)
    at = _click(_open(cid), "open_message")
    assert _dialogs_drawn(at) == ["message"]
    at.switch_page("app_pages/Customers.py")
    at.query_params.clear()
    at.run()
    assert _dialogs_drawn(at) == []  # a customer page's dialog stays on that page
    at.session_state[cards.PENDING] = ("edit", cid)
    at.run()
    assert _dialogs_drawn(at) == ["edit"]
    _click(at, "dialog_cancel")
    assert _dialogs_drawn(at) == []
    at.switch_page(PAGE)
    at.query_params["id"] = str(cid)
    at.run()
    assert not at.exception
    assert _dialogs_drawn(at) == []


# --- Saving after someone else deleted the customer (issue 12, item 13) ---------------

NOT_SAVED = "Your changes were not saved: this customer was deleted"


def test_an_edit_saved_after_someone_deleted_the_customer_says_it_was_not_saved(
    dbc: Any,
) -> None:
    cid = _busy_customer(dbc)
    at = _edit_dialog(cid)
    writes.delete_customer(dbc, cid)  # another user, on another connection
    _first_name_input(at).input("Mine")
    at.button(key="dialog_save").click().run()
    assert not at.exception
    # The dialog stays, over the page that says the customer is gone, and says why.
    assert any(_plain(w.value).startswith(NOT_SAVED) for w in at.warning)
    assert [t.value for t in at.title] == ["Customer not found"]
    assert _count(dbc, "orders", cid) == 0
    assert _one(dbc, "SELECT count(*) FROM customers WHERE id = ?", [cid]) == 0
    assert not _toasts(at)
    _click(at, "dialog_close")
    assert not at.warning
    assert [b.key for b in at.button if b.key and b.key.startswith("dialog_")] == []


def test_a_message_sent_after_someone_deleted_the_customer_says_nothing_was_sent(
    dbc: Any,
) -> None:
    cid = _busy_customer(dbc)
    at = _message_dialog(cid)
    at.text_area(key=actions.BODY).input("Hello [First Name]").run()
    writes.delete_customer(dbc, cid)
    _click(at, "msg_send")
    assert [t.value for t in at.title] == ["Customer not found"]
    assert any("deleted" in w.value and "nothing was sent" in w.value for w in at.warning)
    assert _count(dbc, "messages", cid) == 0
    assert not _toasts(at)


# --- User text in toasts and captions is escaped Markdown (issue 12, item 3) ----------

IMAGE_NAME = "![i](http://127.0.0.1:9/px.png)"
MATHS_NAME = "*x* $a$ and $b$"


# Subscribed on both channels: messages and campaigns may reach them (crm.consent).
_REACHABLE = "order_count > 0 AND email_consent = 'Subscribed' AND sms_consent = 'Subscribed'"


def _hostile_customer(dbc: Any, condition: str = _REACHABLE) -> int:
    cid = _customer_with(dbc, condition)
    dbc.execute(
        "UPDATE customers SET first_name = ?, last_name = ? WHERE id = ?",
        [IMAGE_NAME, MATHS_NAME, cid],
    )
    return cid


def _escaped_name() -> str:
    return formatting.escape_markdown(f"{IMAGE_NAME} {MATHS_NAME}")


def test_the_message_toast_shows_the_name_as_typed(dbc: Any) -> None:
    at = _message_dialog(_hostile_customer(dbc))
    at.text_area(key=actions.BODY).input("Hello").run()
    _click(at, "msg_send")
    assert _toasts(at) == [
        f"Email to {_escaped_name()} queued in the outbox: email delivery is not configured."
    ]


def test_the_campaign_toasts_show_the_names_as_typed(dbc: Any) -> None:
    cid = _hostile_customer(dbc)
    campaign = "*Promo* $1$ ![c](http://127.0.0.1:9/c.png)"
    at = _click(_open(cid), "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    at.text_input(key=actions.NEW_NAME).input(campaign)
    at.button(key="campaign_create").click().run()
    created = formatting.escape_markdown(campaign)
    assert _toasts(at) == [f"Created “{created}” and added {_escaped_name()}."]

    other_id, other = dbc.execute(
        "SELECT id, name FROM campaigns WHERE name <> ? AND id NOT IN"
        " (SELECT campaign_id FROM campaign_sends WHERE customer_id = ?) ORDER BY id LIMIT 1",
        [campaign, cid],
    ).fetchone()
    dbc.execute("UPDATE campaigns SET name = ? WHERE id = ?", [f"{other} *{MATHS_NAME}*", other_id])
    at = _click(at, "open_campaign")
    at.selectbox(key=actions.CAMPAIGN_PICK).set_value(other_id).run()
    _click(at, "campaign_add")
    renamed = formatting.escape_markdown(f"{other} *{MATHS_NAME}*")
    assert _toasts(at) == [f"Added {_escaped_name()} to “{renamed}”."]


def test_the_picture_toasts_show_the_name_as_typed(dbc: Any) -> None:
    at = _click(_open(_hostile_customer(dbc)), "open_picture")
    at.file_uploader(key=actions.UPLOAD).set_value(("me.png", _png(), "image/png")).run()
    _click(at, "avatar_save")
    assert _toasts(at) == [f"New picture saved for {_escaped_name()}."]
    at = _click(at, "open_picture")
    _click(at, "avatar_remove")
    assert _toasts(at) == [f"Picture removed; {_escaped_name()} shows initials again."]


def test_the_delete_toast_shows_the_name_as_typed(dbc: Any) -> None:
    at = _click(_open(_hostile_customer(dbc)), "open_delete")
    _click(at, "dialog_confirm_delete")
    assert _toasts(at) == [f"Deleted {_escaped_name()}"]


def test_the_fallback_caption_shows_the_phrase_as_typed(dbc: Any) -> None:
    at = _message_dialog(_customer_with(dbc, "last_visit IS NULL"))
    phrase = "*soon* $a$ and $b$ :material/home: www.example.com"
    at.text_area(key=actions.BODY).input(f"Since [Last Visit|{phrase}]!").run()
    notes = [c.value for c in at.caption if "on file" in c.value]
    assert notes == [
        formatting.escape_markdown(
            f"No last visit on file for this customer, so [Last Visit] reads “{phrase}”."
        )
    ]


# --- Create and add: one transaction, names unique per channel (issue 12, item 10) ---


def test_create_and_add_with_a_taken_name_leaves_nothing_behind_however_often_tried(
    dbc: Any,
) -> None:
    cid = _busy_customer(dbc)
    taken, channel = dbc.execute(
        "SELECT name, channel FROM campaigns ORDER BY id LIMIT 1"
    ).fetchone()
    campaigns = int(_one(dbc, "SELECT count(*) FROM campaigns"))
    sends = _count(dbc, "campaign_sends", cid)
    at = _click(_open(cid), "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    at.text_input(key=actions.NEW_NAME).input(taken.upper())
    at.selectbox(key=actions.NEW_CHANNEL).set_value(channel)
    for _ in range(3):  # every retry is refused the same way
        at.button(key="campaign_create").click().run()
        assert not at.exception
        assert [_plain(e.value) for e in at.error] == [
            f"There is already an {channel} campaign called “{taken}”."
        ]
    assert int(_one(dbc, "SELECT count(*) FROM campaigns")) == campaigns
    assert _count(dbc, "campaign_sends", cid) == sends
    assert not _toasts(at)


# --- A paste longer than a field is refused in words, never dropped (item 9) ----------


def test_a_too_long_subject_is_refused_in_words_and_nothing_sent(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    before = _count(dbc, "messages", cid)
    at = _message_dialog(cid)
    subject = "S" * 150
    at.text_input(key=actions.SUBJECT).input(subject)
    at.text_area(key=actions.BODY).input("Hello [First Name]").run()
    assert at.text_input(key=actions.SUBJECT).value == subject  # kept, not dropped
    _click(at, "msg_send")
    said = " ".join(_plain(e.value) for e in at.error)
    assert "subject is 150 characters, 30 more than the 120 allowed" in said
    assert _count(dbc, "messages", cid) == before
    assert not _toasts(at)


def test_a_too_long_campaign_name_is_refused_in_words_and_nothing_created(dbc: Any) -> None:
    campaigns = int(_one(dbc, "SELECT count(*) FROM campaigns"))
    at = _click(_open(_busy_customer(dbc)), "open_campaign")
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW).run()
    name = "N" * 130
    at.text_input(key=actions.NEW_NAME).input(name)
    assert at.text_input(key=actions.NEW_NAME).value == name
    at.button(key="campaign_create").click().run()
    assert [_plain(e.value) for e in at.error] == ["Name is too long: 130 characters, at most 120."]
    assert int(_one(dbc, "SELECT count(*) FROM campaigns")) == campaigns
    assert not _toasts(at)


# --- Campaign history: no "None", nothing queued has a date, phone-first columns (item 18) --


def test_campaign_history_leaves_missing_cells_empty_and_queued_sends_undated(dbc: Any) -> None:
    from crm.models import MessageCreate

    cid = _busy_customer(dbc)
    dbc.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE id = ?", [cid])
    writes.record_message(dbc, cid, MessageCreate(subject="Queued hello", body="Hi"))
    written_at = _one(dbc, "SELECT sent_at FROM messages WHERE subject = 'Queued hello'")
    assert written_at is not None, "a queued message carries the time it was written"
    at = _open(cid)
    grid = next(d for d in at.dataframe if "kind" in d.value.columns)
    history = grid.value
    queued = history[history["status"] == "Queued"]
    assert "Queued hello" in queued["campaign"].tolist()
    assert queued["sent_at"].isna().all()
    # Only what went out has a date: not a queued send, nor one held out as control.
    undated = history["status"].isin(["Queued", STATUS_LABELS["Control"]])
    assert history.loc[~undated, "sent_at"].notna().all()
    assert history.loc[history["status"] == STATUS_LABELS["Control"], "sent_at"].isna().all()
    messages = history[history["kind"] == "Message"]
    assert messages["opens"].isna().all() and messages["clicks"].isna().all()
    # Missing cells read as a dash, not the word "None".
    assert grid.proto.placeholder == formatting.MISSING
    assert list(grid.proto.column_order)[:4] == ["kind", "campaign", "status", "sent_at"]


# --- The campaign picker says when each campaign was made and if it went out (item 22) -


def test_the_campaign_picker_shows_each_campaigns_date_and_sends(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    # One campaign nobody was sent yet, so both wordings are seen.
    fresh = writes.create_campaign(dbc, parse(CampaignCreate, {"name": "Fresh one"}))
    rows = dbc.execute(
        "SELECT id, name, channel, created_at FROM campaigns ORDER BY created_at DESC, id DESC"
    ).fetchall()
    sent = dict(
        dbc.execute(
            "SELECT campaign_id, count(*) FROM campaign_sends"
            " WHERE status IN ('Delivered', 'Failed') GROUP BY campaign_id"
        ).fetchall()
    )
    member = {
        r[0]
        for r in dbc.execute(
            "SELECT campaign_id FROM campaign_sends WHERE customer_id = ?", [cid]
        ).fetchall()
    }
    expected = []
    for campaign_id, name, channel, created in rows:
        went = f"{sent[campaign_id]:,} sent" if campaign_id in sent else "not sent yet"
        already = " · already in" if campaign_id in member else ""
        expected.append(
            f"{name} ({channel}) · created {created:%b} {created.day}, {created.year}"
            f" · {went}{already}"
        )
    assert fresh == rows[0][0] and expected[0].endswith("not sent yet")
    assert any(label.endswith(" sent") for label in expected)
    at = _click(_open(cid), "open_campaign")
    assert at.selectbox(key=actions.CAMPAIGN_PICK).options == expected
    # The chosen campaign's facts also show in full under the box (options are cut on a phone).
    at.selectbox(key=actions.CAMPAIGN_PICK).set_value(rows[1][0]).run()
    facts = expected[1].split(" · created ", 1)[1].removesuffix(" · already in")
    assert [c.value for c in at.caption if c.value.startswith("Created ")] == [f"Created {facts}"]


# --- The picture dialog previews the processed upload before Save (item 22) -----------


def test_an_upload_is_previewed_as_it_will_be_saved_before_save(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _click(_open(cid), "open_picture")
    assert at.button(key="avatar_save").disabled
    at.file_uploader(key=actions.UPLOAD).set_value(("me.png", _png(), "image/png")).run()
    # The preview is the re-encoded square picture that Save will store ...
    expected = avatars.data_uri(*avatars.process_upload(_png(), "me.png"))
    assert any(f'src="{expected}"' in h.value for h in at.html)
    assert any("Preview" in c.value for c in at.caption)
    assert not at.button(key="avatar_save").disabled
    # ... and nothing is stored until Save.
    assert _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid]) is None
    _click(at, "avatar_save")
    stored = _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid])
    assert avatars.data_uri(bytes(stored), "image/webp") == expected


def test_a_file_that_is_no_picture_is_refused_on_upload_and_cannot_be_saved(dbc: Any) -> None:
    cid = _busy_customer(dbc)
    at = _click(_open(cid), "open_picture")
    at.file_uploader(key=actions.UPLOAD).set_value(
        ("notes.png", b"not a picture at all", "image/png")
    ).run()
    assert "is not a picture we can read" in _plain(at.error[0].value)
    assert at.button(key="avatar_save").disabled
    assert _one(dbc, "SELECT avatar FROM customers WHERE id = ?", [cid]) is None
