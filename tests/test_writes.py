"""Writes: validation before the database, transactions, figures kept current, conflicts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from crm import db, queries, writes
from crm.errors import ConflictError, DuplicateError, NotFound, ValidationFailed
from crm.models import (
    CampaignCreate,
    CustomerCreate,
    CustomerUpdate,
    MessageCreate,
    OrderCreate,
    parse,
)

GOOD: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "López",
    "email": "Ana.Lopez@Example.com",
    "phone": "+34 (91) 555-0101",
    "street": "Calle Mayor 1",
    "city": "Madrid",
    "state": "Madrid",
    "zip": "28013",
    "country": "Spain",
}
# The same customer, subscribed to email and SMS marketing (messages and campaigns need it).
SUBSCRIBED: dict[str, Any] = {**GOOD, "email_consent": "Subscribed", "sms_consent": "Subscribed"}


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


TABLES = ["customers", "orders", "order_items", "visits", "campaign_sends", "messages"]


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: _count(con, t) for t in TABLES}


def _figures(con: duckdb.DuckDBPyConnection, cid: int) -> tuple[Any, ...]:
    row = con.execute(
        "SELECT total_spending, order_count, visit_count, last_visit FROM customers WHERE id = ?",
        [cid],
    ).fetchone()
    assert row is not None
    return tuple(row)


def _figures_from_rows(con: duckdb.DuckDBPyConnection, cid: int) -> tuple[Any, ...]:
    row = con.execute(
        """
        SELECT (SELECT coalesce(sum(amount), 0) FROM orders WHERE customer_id = $1),
               (SELECT count(*) FROM orders WHERE customer_id = $1),
               (SELECT count(*) FROM visits WHERE customer_id = $1),
               (SELECT max(visited_at) FROM visits WHERE customer_id = $1)
        """,
        [cid],
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_create_then_read(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    customer = queries.get_customer(con, cid)
    assert customer is not None
    assert (customer.first_name, customer.email, customer.version) == ("Ana", GOOD["email"], 1)
    assert customer.total_spending == 0 and customer.last_visit is None
    assert cid > 300  # after the seeded ids: the sequence was advanced past them


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("first_name", "   ", "First name is required"),
        ("last_name", "", "Last name is required"),
        ("email", "ana@", "Email"),
        ("email", "ana lopez@example.com", "Email"),
        ("email", "<script>@x.com", "Email"),
        ("phone", "555-CALL-NOW", "Phone"),
        ("phone", "12", "Phone"),
        ("first_name", "x" * 81, "too long"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    con: duckdb.DuckDBPyConnection, field: str, value: str, words: str
) -> None:
    before = _snapshot(con)
    with pytest.raises(ValidationFailed) as info:
        writes.create_customer(con, parse(CustomerCreate, {**GOOD, field: value}))
    assert words in info.value.errors[field]
    assert _snapshot(con) == before


def test_committed_writes_count_commits_not_rollbacks(con: duckdb.DuckDBPyConnection) -> None:
    """The key of the UI's read caches: it must move on every write that lands."""
    start = db.committed_writes()
    cid = writes.create_customer(con, parse(CustomerCreate, {**GOOD, "email": "count@me.io"}))
    assert db.committed_writes() == start + 1
    with pytest.raises(ValidationFailed):
        writes.create_customer(con, parse(CustomerCreate, {**GOOD, "email": "count@me.io"}))
    with pytest.raises(RuntimeError), db.transaction(con) as cur:
        cur.execute("DELETE FROM customers WHERE id = ?", [cid])
        raise RuntimeError("changed my mind")
    assert db.committed_writes() == start + 1
    assert queries.get_customer(con, cid) is not None


def test_duplicate_email_is_refused_case_insensitively(con: duckdb.DuckDBPyConnection) -> None:
    existing = con.execute("SELECT email FROM customers LIMIT 1").fetchone()
    assert existing is not None
    before = _snapshot(con)
    with pytest.raises(ValidationFailed) as info:
        writes.create_customer(con, parse(CustomerCreate, {**GOOD, "email": existing[0].upper()}))
    assert "already" in info.value.errors["email"]
    assert _snapshot(con) == before


def test_an_edit_may_keep_its_own_email_but_not_take_another(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    # The same address in other letter case is still this customer's own.
    same = {**GOOD, "email": GOOD["email"].upper(), "version": 1}
    assert writes.update_customer(con, cid, parse(CustomerUpdate, same)) == 2
    taken = con.execute("SELECT email FROM customers WHERE id <> ? LIMIT 1", [cid]).fetchone()
    assert taken is not None
    before = _snapshot(con)
    with pytest.raises(ValidationFailed) as info:
        writes.update_customer(
            con, cid, parse(CustomerUpdate, {**GOOD, "email": taken[0], "version": 2})
        )
    assert "already" in info.value.errors["email"]
    assert _snapshot(con) == before


def test_html_and_sql_are_stored_as_text(con: duckdb.DuckDBPyConnection) -> None:
    nasty = "<b>x</b><img src=x onerror=alert(1)>'; DROP TABLE customers; --"
    cid = writes.create_customer(con, parse(CustomerCreate, {**GOOD, "last_name": nasty}))
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.last_name == nasty
    assert _count(con, "customers") > 1


def test_update_bumps_version_and_detects_conflicts(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    first = writes.update_customer(
        con, cid, parse(CustomerUpdate, {**GOOD, "city": "Sevilla", "version": 1})
    )
    assert first == 2
    # A second editor who also read version 1 must not overwrite Sevilla.
    with pytest.raises(ConflictError, match="someone else"):
        writes.update_customer(
            con, cid, parse(CustomerUpdate, {**GOOD, "city": "Bilbao", "version": 1})
        )
    customer = queries.get_customer(con, cid)
    assert customer is not None and (customer.city, customer.version) == ("Sevilla", 2)


def test_update_keeps_search_in_step(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    writes.update_customer(
        con, cid, parse(CustomerUpdate, {**GOOD, "last_name": "Zyxwv", "version": 1})
    )
    from crm.models import CustomerFilter

    found = queries.customer_page(con, CustomerFilter(search="zyxw")).rows
    assert [row.id for row in found] == [cid]


def test_update_to_anothers_email_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    other = con.execute("SELECT email FROM customers WHERE id <> ? LIMIT 1", [cid]).fetchone()
    assert other is not None
    with pytest.raises(ValidationFailed):
        writes.update_customer(
            con, cid, parse(CustomerUpdate, {**GOOD, "email": other[0], "version": 1})
        )
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.email == GOOD["email"] and customer.version == 1


def test_update_of_deleted_customer_says_so(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    writes.delete_customer(con, cid)
    with pytest.raises(NotFound):
        writes.update_customer(con, cid, parse(CustomerUpdate, {**GOOD, "version": 1}))


def _stored_row(con: duckdb.DuckDBPyConnection, cid: int) -> tuple[Any, ...]:
    row = con.execute("SELECT * FROM customers WHERE id = ?", [cid]).fetchone()
    assert row is not None
    return tuple(row)


def test_removing_the_phone_of_an_sms_subscriber_is_refused_and_nothing_changes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    before, tables = _stored_row(con, cid), _snapshot(con)
    with pytest.raises(ValidationFailed) as refused:
        writes.update_customer(
            con, cid, parse(CustomerUpdate, {**GOOD, "phone": "  ", "city": "Bilbao", "version": 1})
        )
    assert refused.value.errors == {"phone": writes.PHONE_NEEDED_FOR_SMS}
    assert _stored_row(con, cid) == before
    assert _snapshot(con) == tables
    customer = queries.get_customer(con, cid)
    assert customer is not None
    assert (customer.phone, customer.city, customer.version) == (GOOD["phone"], "Madrid", 1)
    assert customer.sms_consent == "Subscribed"


def test_a_refused_phone_removal_is_said_with_a_taken_email(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    taken = con.execute("SELECT email FROM customers WHERE id <> ? LIMIT 1", [cid]).fetchone()
    assert taken is not None
    before = _stored_row(con, cid)
    with pytest.raises(ValidationFailed) as refused:
        writes.update_customer(
            con, cid, parse(CustomerUpdate, {**GOOD, "email": taken[0], "phone": "", "version": 1})
        )
    assert refused.value.errors == {
        "email": writes.DUPLICATE_EMAIL,
        "phone": writes.PHONE_NEEDED_FOR_SMS,
    }
    assert _stored_row(con, cid) == before


@pytest.mark.parametrize("sms", ["Not asked", "Unsubscribed"])
def test_the_phone_of_a_customer_not_subscribed_to_sms_may_be_removed(
    con: duckdb.DuckDBPyConnection, sms: str
) -> None:
    cid = writes.create_customer(
        con, parse(CustomerCreate, {**GOOD, "email_consent": "Subscribed"})
    )
    if sms == "Unsubscribed":
        con.execute("UPDATE customers SET sms_consent = 'Unsubscribed' WHERE id = ?", [cid])
    assert (
        writes.update_customer(con, cid, parse(CustomerUpdate, {**GOOD, "phone": "", "version": 1}))
        == 2
    )
    customer = queries.get_customer(con, cid)
    assert customer is not None
    assert (customer.phone, customer.sms_consent, customer.version) == ("", sms, 2)


def test_an_sms_subscriber_already_without_a_phone_can_still_be_edited(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Rows written before the check (or by hand) may subscribe a customer without a
    number: an edit that removes nothing is not refused for it."""
    cid = writes.create_customer(con, parse(CustomerCreate, {**GOOD, "phone": ""}))
    con.execute("UPDATE customers SET sms_consent = 'Subscribed' WHERE id = ?", [cid])
    edit = {**GOOD, "phone": "", "city": "Bilbao", "version": 1}
    assert writes.update_customer(con, cid, parse(CustomerUpdate, edit)) == 2
    customer = queries.get_customer(con, cid)
    assert customer is not None and (customer.city, customer.phone) == ("Bilbao", "")


def test_delete_removes_everything_of_that_customer_only(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT customer_id FROM campaign_sends s"
        " WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = s.customer_id) LIMIT 1"
    ).fetchone()
    assert row is not None
    cid = int(row[0])
    con.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE id = ?", [cid])
    writes.record_message(con, cid, parse(MessageCreate, {"body": "Hello"}))
    before = _snapshot(con)
    own = {
        t: int(
            con.execute(
                f"SELECT count(*) FROM {t} WHERE {'id' if t == 'customers' else 'customer_id'} = ?",
                [cid],
            ).fetchone()[0]  # type: ignore[index]
        )
        for t in TABLES
    }
    assert all(own.values()), own
    writes.delete_customer(con, cid)
    after = _snapshot(con)
    assert {t: before[t] - after[t] for t in TABLES} == own
    assert queries.get_customer(con, cid) is None


def test_delete_with_stale_version_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    writes.update_customer(con, cid, parse(CustomerUpdate, {**GOOD, "version": 1}))
    with pytest.raises(ConflictError):
        writes.delete_customer(con, cid, version=1)
    assert queries.get_customer(con, cid) is not None


def _order(when: datetime, *lines: tuple[int, int, str]) -> OrderCreate:
    return parse(
        OrderCreate,
        {
            "ordered_at": when,
            "items": [
                {"product_id": p, "quantity": q, "unit_price": Decimal(price)}
                for p, q, price in lines
            ],
        },
    )


def test_figures_follow_orders_added_edited_and_deleted(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT id FROM customers WHERE order_count > 2 ORDER BY id LIMIT 1"
    ).fetchone()
    assert row is not None
    cid = int(row[0])
    assert _figures(con, cid) == _figures_from_rows(con, cid)
    spent_before = _figures(con, cid)[0]
    when = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    oid = writes.add_order(con, cid, _order(when, (1, 2, "3.50"), (2, 1, "10.00")))
    figures = _figures(con, cid)
    assert figures == _figures_from_rows(con, cid)
    assert figures[0] == spent_before + Decimal("17.00")
    assert figures[3] == when
    amount = con.execute("SELECT amount FROM orders WHERE id = ?", [oid]).fetchone()
    assert amount is not None and amount[0] == Decimal("17.00")

    writes.update_order(con, oid, _order(when, (3, 4, "1.25")))
    assert _figures(con, cid) == _figures_from_rows(con, cid)
    assert _figures(con, cid)[0] == spent_before + Decimal("5.00")

    writes.delete_order(con, oid)
    assert _figures(con, cid) == _figures_from_rows(con, cid)
    assert _figures(con, cid)[0] == spent_before


def test_order_validation(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    before = _snapshot(con)
    with pytest.raises(ValidationFailed) as info:
        _order(datetime.now(), (1, 1, "-2.00"))
    assert "Unit price" in info.value.errors["unit_price"]
    with pytest.raises(ValidationFailed):
        parse(OrderCreate, {"ordered_at": datetime.now(), "items": []})
    with pytest.raises(ValidationFailed):
        writes.add_order(con, cid, _order(datetime.now(), (10**9, 1, "1.00")))
    assert _snapshot(con) == before


def test_visit_updates_figures(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    when = datetime(2026, 1, 2, 3, 4, 5)
    writes.record_visit(con, cid, when, "store")
    assert _figures(con, cid) == (Decimal(0), 0, 1, when)


def test_campaigns_no_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    campaign = writes.create_campaign(
        con, parse(CampaignCreate, {"name": "Spring", "channel": "SMS", "template": "Hi"})
    )
    writes.add_to_campaign(con, campaign, cid)
    with pytest.raises(DuplicateError, match="already in the campaign"):
        writes.add_to_campaign(con, campaign, cid)
    history = queries.campaign_history(con, cid)
    assert list(history["campaign"]) == ["Spring"] and list(history["status"]) == ["Queued"]
    assert queries.customer_campaign_ids(con, cid) == {campaign}
    with pytest.raises(ValidationFailed):
        parse(CampaignCreate, {"name": " ", "channel": "Email"})
    with pytest.raises(ValidationFailed):
        parse(CampaignCreate, {"name": "X", "channel": "Fax"})


def test_message_is_recorded_in_history(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    writes.record_message(con, cid, parse(MessageCreate, {"body": "Hi Ana", "subject": "20% off"}))
    history = queries.campaign_history(con, cid)
    assert list(history["kind"]) == ["Message"]
    assert list(history["body"]) == ["Hi Ana"] and list(history["campaign"]) == ["20% off"]
    with pytest.raises(ValidationFailed):
        parse(MessageCreate, {"body": "  "})
    with pytest.raises(NotFound):
        writes.record_message(con, 10**12, parse(MessageCreate, {"body": "Hi"}))


def test_avatar_set_and_removed(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    writes.set_avatar(con, cid, b"\x89PNG...", "image/png")
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.avatar == b"\x89PNG..."
    writes.remove_avatar(con, cid)
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.avatar is None and customer.avatar_type is None


def test_a_save_between_anothers_read_and_write_is_not_lost(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions save one customer, both having read version 1.

    The first is held between its version check and its UPDATE while the
    second tries to save. DuckDB alone would let both commit (it does not see
    the write-write conflict on an indexed table) and lose the first city.
    """
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
    first_has_read = threading.Event()
    release_first = threading.Event()
    check_version = writes._current_version

    def held_check(cur: duckdb.DuckDBPyConnection, customer_id: int) -> int:
        version = check_version(cur, customer_id)
        if threading.current_thread().name == "first":
            first_has_read.set()
            release_first.wait(timeout=10)
        return version

    monkeypatch.setattr(writes, "_current_version", held_check)
    outcomes: dict[str, str] = {}

    def save(city: str) -> None:
        try:
            writes.update_customer(
                con, cid, parse(CustomerUpdate, {**GOOD, "city": city, "version": 1})
            )
            outcomes[city] = "saved"
        except ConflictError:
            outcomes[city] = "conflict"

    first = threading.Thread(target=save, args=("First",), name="first")
    second = threading.Thread(target=save, args=("Second",), name="second")
    first.start()
    assert first_has_read.wait(timeout=10)
    second.start()
    second.join(timeout=1.0)  # it waits for its turn when writers take turns
    release_first.set()
    first.join()
    second.join()
    assert outcomes == {"First": "saved", "Second": "conflict"}
    customer = queries.get_customer(con, cid)
    assert customer is not None and (customer.city, customer.version) == ("First", 2)


# --- Campaign names are unique per channel; "Create and add" is one transaction ---------


def _campaign(name: str, channel: str = "Email") -> CampaignCreate:
    return parse(CampaignCreate, {"name": name, "channel": channel, "template": ""})


def _campaign_names(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute("SELECT channel, name FROM campaigns ORDER BY id").fetchall()
    return [(str(channel), str(name)) for channel, name in rows]


def test_a_campaign_name_in_another_case_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    writes.create_campaign(con, _campaign("Dup Campaign"))
    before = _campaign_names(con)
    with pytest.raises(ValidationFailed) as caught:
        writes.create_campaign(con, _campaign("dup CAMPAIGN"))
    assert caught.value.errors == {
        "name": "There is already an Email campaign called “Dup Campaign”."
    }
    assert _campaign_names(con) == before


def test_the_same_campaign_name_on_another_channel_is_allowed(
    con: duckdb.DuckDBPyConnection,
) -> None:
    email = writes.create_campaign(con, _campaign("Dup Campaign", "Email"))
    sms = writes.create_campaign(con, _campaign("Dup Campaign", "SMS"))
    assert email != sms
    assert _campaign_names(con)[-2:] == [("Email", "Dup Campaign"), ("SMS", "Dup Campaign")]


def test_the_database_itself_refuses_a_duplicate_campaign_name(
    con: duckdb.DuckDBPyConnection,
) -> None:
    writes.create_campaign(con, _campaign("Only Once", "Push"))
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO campaigns (name, channel) VALUES ('ONLY ONCE', 'Push')")


def test_create_and_add_queues_the_first_member(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    campaign = writes.create_campaign(con, _campaign("Welcome", "SMS"), first_member=cid)
    assert queries.customer_campaign_ids(con, cid) == {campaign}
    history = queries.campaign_history(con, cid)
    assert list(history["campaign"]) == ["Welcome"] and list(history["status"]) == ["Queued"]


def test_a_failing_add_leaves_no_campaign_behind(con: duckdb.DuckDBPyConnection) -> None:
    before = _campaign_names(con)
    sends = _count(con, "campaign_sends")
    for _ in range(2):  # a retry must fail the same way, not on a leftover campaign
        with pytest.raises(NotFound):
            writes.create_campaign(con, _campaign("Orphan?"), first_member=10**12)
        assert _campaign_names(con) == before
        assert _count(con, "campaign_sends") == sends
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    campaign = writes.create_campaign(con, _campaign("Orphan?"), first_member=cid)
    assert queries.customer_campaign_ids(con, cid) == {campaign}


def test_the_migration_renames_duplicates_already_on_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written before names were unique still opens, every name now unique."""
    path = tmp_path / "old.duckdb"
    everything = db.migrations()
    with monkeypatch.context() as before_002:
        before_002.setattr(db, "migrations", lambda: everything[:1])
        old = db.connect(path)
    old.executemany(
        "INSERT INTO campaigns (name, channel, created_at) VALUES (?, ?, ?)",
        [
            ("Dup Campaign", "Email", datetime(2025, 1, 1)),
            ("DUP campaign", "Email", datetime(2025, 1, 2)),
            ("Dup Campaign", "SMS", datetime(2025, 1, 3)),
            ("dup campaign", "Email", datetime(2025, 1, 4)),
            # Already called what the second "Dup Campaign" would be renamed to.
            ("Dup Campaign (2)", "Email", datetime(2025, 1, 5)),
            ("Sale", "Push", datetime(2025, 1, 6)),
        ],
    )
    old.close()
    new = db.connect(path)
    names = _campaign_names(new)
    ids = [
        int(campaign_id)
        for (campaign_id,) in new.execute("SELECT id FROM campaigns ORDER BY id").fetchall()
    ]
    new.close()
    reopened = db.connect(path)  # the index holds after a restart too
    with pytest.raises(duckdb.ConstraintException):
        reopened.execute("INSERT INTO campaigns (name, channel) VALUES ('SALE', 'Push')")
    reopened.close()
    assert names[0] == ("Email", "Dup Campaign")  # the oldest keeps its name
    assert names[2] == ("SMS", "Dup Campaign")  # another channel is not a duplicate
    assert names[4] == ("Email", "Dup Campaign (2)")
    assert names[5] == ("Push", "Sale")
    assert names[3] == ("Email", "dup campaign (3)")
    assert names[1] == ("Email", f"DUP campaign (campaign {ids[1]})")  # "(2)" was taken
    keys = [(channel, name.lower()) for channel, name in names]
    assert len(set(keys)) == len(keys)
