"""Marketing consent in the app (AppTest): the customer page's panel and its dialog,
refusals in the message and campaign dialogs, and the overview's filter and URL.

Expectations are read from the test's own database copy with plain SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import db, formatting, queries, writes
from crm.models import CustomerUpdate, customer_form_values, parse
from crm.ui import actions, dialogs
from crm.ui import consent as consent_ui

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/Customer.py"

Con = duckdb.DuckDBPyConnection


@pytest.fixture
def dbc(app_env: Path) -> Any:
    """A second connection to the app's database, for expectations and checks."""
    connection = db.connect(app_env)
    yield connection
    connection.close()


def _one(con: Con, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def _customer(con: Con, condition: str) -> int:
    return int(_one(con, f"SELECT min(id) FROM customers WHERE {condition}"))


def _status(con: Con, cid: int) -> tuple[str, str, int]:
    row = con.execute(
        "SELECT CAST(email_consent AS VARCHAR), CAST(sms_consent AS VARCHAR), version"
        " FROM customers WHERE id = ?",
        [cid],
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), int(row[2])


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(customer_id: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.query_params["id"] = str(customer_id)
    return _run(at)


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return _run(at)


def _plain(text: str) -> str:
    return text.replace("\\", "").replace(formatting.WORD_JOINER, "")


def _texts(at: AppTest) -> str:
    """Every caption, badge-bearing markdown, warning and error, as plain text."""
    parts = [*at.caption, *at.markdown, *at.warning, *at.error]
    return " | ".join(_plain(str(p.value)) for p in parts)


def _radio(at: AppTest, channel: str) -> Any:
    return next(
        r for r in at.radio if r.key and r.key.startswith(f"{consent_ui.CHOICE}_{channel}_")
    )


# --- The panel and its dialog ------------------------------------------------------------


def test_the_panel_shows_each_channel_in_words(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent = 'Subscribed' AND sms_consent = 'Unsubscribed'")
    email_at, sms_at = dbc.execute(
        "SELECT email_consent_at, sms_consent_at FROM customers WHERE id = ?", [cid]
    ).fetchone()  # type: ignore[misc]
    at = _open(cid)
    text = _texts(at)
    assert f"Gets email marketing. Subscribed on {formatting.short_date(email_at)}." in text
    assert f"No SMS marketing. Unsubscribed on {formatting.short_date(sms_at)}." in text
    assert not at.button(key=consent_ui.OPEN).disabled


def test_the_dialog_changes_consent_and_dates_only_the_change(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent = 'Not asked' AND sms_consent = 'Subscribed'")
    sms_at_before = _one(dbc, "SELECT sms_consent_at FROM customers WHERE id = ?", [cid])
    at = _click(_open(cid), consent_ui.OPEN)
    assert _radio(at, "Email").value == "Not asked" and _radio(at, "SMS").value == "Subscribed"
    _radio(at, "Email").set_value("Subscribed")
    _run(at)
    _click(at, consent_ui.SAVE)
    email, sms, _ = _status(dbc, cid)
    assert (email, sms) == ("Subscribed", "Subscribed")
    assert _one(dbc, "SELECT sms_consent_at FROM customers WHERE id = ?", [cid]) == sms_at_before
    assert _one(dbc, "SELECT email_consent_at FROM customers WHERE id = ?", [cid]) is not None
    toasts = [_plain(t.value) for t in at.toast]
    assert any("email subscribed" in t for t in toasts), toasts
    assert not at.radio  # the dialog closed
    assert "Gets email marketing. Subscribed on" in _texts(at)


def test_a_save_after_someone_elses_edit_is_refused(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent = 'Subscribed'")
    at = _click(_open(cid), consent_ui.OPEN)
    _radio(at, "Email").set_value("Unsubscribed")
    _run(at)
    # Someone else saves the customer meanwhile (another tab, another instance).
    current = queries.get_customer(dbc, cid)
    assert current is not None
    values = {**customer_form_values(current), "city": "Elsewhere", "version": current.version}
    writes.update_customer(dbc, cid, parse(CustomerUpdate, values))
    before = _status(dbc, cid)
    _click(at, consent_ui.SAVE)
    assert "changed by someone else" in _texts(at)
    assert _status(dbc, cid) == before
    assert not at.toast


def test_sms_without_a_phone_is_explained_and_refused(dbc: Con) -> None:
    cid = _customer(dbc, "phone = '' AND sms_consent = 'Not asked'")
    at = _click(_open(cid), consent_ui.OPEN)
    _radio(at, "SMS").set_value("Subscribed")
    _run(at)
    assert "Add a phone number first" in _texts(at)
    _click(at, consent_ui.SAVE)
    assert "needs one to subscribe" in _texts(at)
    assert _status(dbc, cid)[1] == "Not asked"


def test_read_only_disables_the_edit_button(dbc: Con, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _customer(dbc, "id > 0")
    # The app opens the file read-only, which DuckDB refuses beside a writer in one process.
    dbc.close()
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    at = _open(cid)
    button = at.button(key=consent_ui.OPEN)
    assert button.disabled and button.help == consent_ui.READ_ONLY_REASON


# --- Respected everywhere: the customer page's message and campaign dialogs ---------------


def test_the_message_dialog_refuses_a_channel_without_consent(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent = 'Not asked' AND sms_consent = 'Unsubscribed'")
    name, sms_at = dbc.execute(
        "SELECT first_name || ' ' || last_name, sms_consent_at FROM customers WHERE id = ?", [cid]
    ).fetchone()  # type: ignore[misc]
    before = _one(dbc, "SELECT count(*) FROM messages WHERE customer_id = ?", [cid])
    at = _click(_open(cid), "open_message")
    at.text_area(key=actions.BODY).input("Hello [First Name]")
    _run(at)
    assert f"{name} has not subscribed to email." in _texts(at)
    send = at.button(key="msg_send")
    assert send.disabled and send.help is not None and "has not subscribed" in send.help
    at.segmented_control(key=actions.CHANNEL).set_value("SMS")
    _run(at)
    day = formatting.short_date(sms_at)
    assert f"{name} unsubscribed from SMS on {day}." in _texts(at)
    assert at.button(key="msg_send").disabled
    assert _one(dbc, "SELECT count(*) FROM messages WHERE customer_id = ?", [cid]) == before


def test_the_message_dialog_opens_on_a_subscribed_channel(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent <> 'Subscribed' AND sms_consent = 'Subscribed'")
    at = _click(_open(cid), "open_message")
    assert at.segmented_control(key=actions.CHANNEL).value == "SMS"
    assert not at.button(key="msg_send").disabled


def test_the_campaign_dialog_refuses_a_campaign_on_a_closed_channel(dbc: Con) -> None:
    cid = _customer(dbc, "email_consent = 'Unsubscribed' AND sms_consent = 'Subscribed'")
    email_campaign = int(_one(dbc, "SELECT max(id) FROM campaigns WHERE channel = 'Email'"))
    sends = _one(dbc, "SELECT count(*) FROM campaign_sends WHERE customer_id = ?", [cid])
    at = _click(_open(cid), "open_campaign")
    picker = at.selectbox(key=actions.CAMPAIGN_PICK)
    assert picker.format_func(email_campaign).endswith(" · not subscribed")
    picker.set_value(email_campaign)
    _run(at)
    assert "unsubscribed from email on" in _texts(at)
    assert at.button(key="campaign_add").disabled
    # A new campaign: the dialog says up front which channels cannot include them,
    # and the write refuses an Email one with the same sentence.
    at.segmented_control(key=actions.CAMPAIGN_MODE).set_value(actions.NEW)
    _run(at)
    assert "unsubscribed from email on" in _texts(at)
    at.text_input(key=actions.NEW_NAME).input("Consent check")
    at.selectbox(key=actions.NEW_CHANNEL).set_value("Email")
    at.button(key="campaign_create").click()
    _run(at)
    assert any("unsubscribed from email" in _plain(e.value) for e in at.error)
    assert _one(dbc, "SELECT count(*) FROM campaigns WHERE name = 'Consent check'") == 0
    assert _one(dbc, "SELECT count(*) FROM campaign_sends WHERE customer_id = ?", [cid]) == sends


# --- The overview filter ------------------------------------------------------------------


def _home() -> AppTest:
    return AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)


def _matched(at: AppTest) -> int:
    summary = next(m for m in at.markdown if " of " in m.value and "spent" in m.value)
    return int(str(summary.value).split("**")[1].replace(",", ""))


def _values(at: AppTest, name: str) -> list[str]:
    value = at.query_params[name]
    return [value] if isinstance(value, str) else list(value)


def _count(con: Con, condition: str) -> int:
    return int(_one(con, f"SELECT count(*) FROM customers WHERE {condition}"))


def _chips(at: AppTest) -> list[Any]:
    return [b for b in at.button if b.key and b.key.startswith("chip_")]


def test_the_filter_through_the_widgets_reaches_the_url(dbc: Con) -> None:
    at = _run(_home())
    at.multiselect(key="seg_email_consent").set_value(["Subscribed", "Unsubscribed"])
    _run(at)
    assert _values(at, "email_consent") == ["Subscribed", "Unsubscribed"]
    assert _matched(at) == _count(dbc, "email_consent IN ('Subscribed', 'Unsubscribed')")
    at.multiselect(key="seg_sms_consent").set_value(["Not asked"])
    _run(at)
    assert _values(at, "sms_consent") == ["Not asked"]
    expected = _count(
        dbc, "email_consent IN ('Subscribed', 'Unsubscribed') AND sms_consent = 'Not asked'"
    )
    assert 0 < _matched(at) == expected
    labels = [_plain(str(b.label)) for b in _chips(at)]
    assert labels == [
        "Email marketing: Subscribed ✕",
        "Email marketing: Unsubscribed ✕",
        "SMS marketing: Not asked ✕",
    ]


def test_the_filter_from_a_link_fills_the_widgets_and_chips_and_clears(dbc: Con) -> None:
    at = _home()
    at.query_params.update({"email_consent": ["subscribed", "nope"], "sms_consent": "Subscribed"})
    _run(at)
    assert at.multiselect(key="seg_email_consent").value == ["Subscribed"]
    assert at.multiselect(key="seg_sms_consent").value == ["Subscribed"]
    assert _values(at, "email_consent") == ["Subscribed"]  # the URL is written back cleaned
    both = "email_consent = 'Subscribed' AND sms_consent = 'Subscribed'"
    assert 0 < _matched(at) == _count(dbc, both)
    # Removing the SMS chip keeps the email filter.
    next(b for b in _chips(at) if "SMS marketing" in str(b.label)).click()
    _run(at)
    assert "sms_consent" not in at.query_params
    assert _matched(at) == _count(dbc, "email_consent = 'Subscribed'")
    at.button(key="clear_filters").click()
    _run(at)
    assert "email_consent" not in at.query_params and not _chips(at)
    assert _matched(at) == _count(dbc, "true")


# --- The Add form asks for consent, as Shopify's does ------------------------------------


def _add_form(at: AppTest, fields: dict[str, str]) -> None:
    _run(at)
    at.button(key="add_customer").click()
    _run(at)
    for box in at.text_input:
        if box.label in fields:
            box.input(fields[box.label])


def _boxes(at: AppTest) -> dict[str, Any]:
    labels = dict(dialogs.CONSENT_BOXES)
    return {
        labels[name]: next(c for c in at.checkbox if c.label == labels[name]) for name in labels
    }


def _html_errors(at: AppTest) -> str:
    return " ".join([*(e.value for e in at.error), *(h.value for h in at.html)])


def test_the_add_form_stores_the_consent_ticked(dbc: Con) -> None:
    at = _home()
    person = {"First name": "Ines", "Last name": "Ok", "Email": "ines.ok@example.com"}
    _add_form(at, {**person, "Phone": "+34 600 000 001"})
    boxes = _boxes(at)
    assert [box.value for box in boxes.values()] == [False, False]
    boxes["Customer agreed to receive marketing emails"].check()
    at.button(key="dialog_save").click()
    _run(at)
    row = dbc.execute(
        "SELECT CAST(email_consent AS VARCHAR), email_consent_at IS NOT NULL,"
        " CAST(sms_consent AS VARCHAR), sms_consent_at FROM customers WHERE email = ?",
        [person["Email"]],
    ).fetchone()
    assert row == ("Subscribed", True, "Not asked", None)


def test_the_add_form_refuses_sms_without_a_phone(dbc: Con) -> None:
    at = _home()
    before = _count(dbc, "true")
    _add_form(at, {"First name": "Bo", "Last name": "No", "Email": "bo.no@example.com"})
    _boxes(at)["Customer agreed to receive SMS marketing text messages"].check()
    at.button(key="dialog_save").click()
    _run(at)
    assert "add a phone number to subscribe the customer to SMS" in _html_errors(at)
    assert _count(dbc, "true") == before
