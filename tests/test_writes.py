"""Writes: validation before the database, transactions, figures kept current, conflicts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal
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

    found = queries.find_customers(con, CustomerFilter(search="zyxw"))
    assert list(found["id"]) == [cid]


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


def test_delete_removes_everything_of_that_customer_only(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT customer_id FROM campaign_sends s"
        " WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = s.customer_id) LIMIT 1"
    ).fetchone()
    assert row is not None
    cid = int(row[0])
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
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
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
    cid = writes.create_customer(con, parse(CustomerCreate, GOOD))
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
