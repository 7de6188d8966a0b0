"""Who did each write (migration 015): every write function stores its ``by``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
from test_writes import GOOD, SUBSCRIBED, _order

from crm import queries, writes
from crm.models import CampaignCreate, CustomerCreate, CustomerUpdate, MessageCreate, parse
from crm.ui import profile

ANA = "ana@shop.com"
BO = "bo@shop.com"


def _one(con: duckdb.DuckDBPyConnection, sql: str, *args: Any) -> tuple[Any, ...]:
    row = con.execute(sql, list(args)).fetchone()
    assert row is not None
    return tuple(row)


def test_a_customer_remembers_who_added_and_who_changed_them(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED), by=ANA)
    assert _one(con, "SELECT created_by, updated_by FROM customers WHERE id = ?", cid) == (
        ANA,
        ANA,
    )
    customer = queries.get_customer(con, cid)
    assert customer is not None and customer.created_by == ANA
    edit = parse(CustomerUpdate, {**GOOD, "city": "Sevilla", "version": customer.version})
    writes.update_customer(con, cid, edit, by=BO)
    assert _one(con, "SELECT created_by, updated_by FROM customers WHERE id = ?", cid) == (ANA, BO)
    writes.set_avatar(con, cid, b"\x89PNG...", "image/png", by=ANA)
    assert _one(con, "SELECT updated_by FROM customers WHERE id = ?", cid) == (ANA,)
    writes.remove_avatar(con, cid, by=BO)
    assert _one(con, "SELECT updated_by FROM customers WHERE id = ?", cid) == (BO,)
    changed = queries.get_customer(con, cid)
    assert changed is not None
    assert profile.who_text(changed).startswith(f" · added by {ANA} · changed ")
    assert profile.who_text(changed).endswith(f" by {BO}")


def test_without_sign_in_nothing_is_claimed(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED))
    assert _one(con, "SELECT created_by, updated_by FROM customers WHERE id = ?", cid) == (
        None,
        None,
    )
    customer = queries.get_customer(con, cid)
    assert customer is not None and profile.who_text(customer) == ""


def test_orders_messages_and_campaigns_say_who(con: duckdb.DuckDBPyConnection) -> None:
    cid = writes.create_customer(con, parse(CustomerCreate, SUBSCRIBED), by=ANA)
    when = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    oid = writes.add_order(con, cid, _order(when, (1, 2, "3.50")), by=ANA)
    assert _one(con, "SELECT created_by, updated_by FROM orders WHERE id = ?", oid) == (ANA, ANA)
    writes.update_order(con, oid, _order(when, (1, 1, "3.50")), by=BO)
    assert _one(con, "SELECT created_by, updated_by FROM orders WHERE id = ?", oid) == (ANA, BO)

    mid = writes.record_message(con, cid, parse(MessageCreate, {"body": "Hi Ana"}), by=BO)
    assert _one(con, "SELECT sent_by FROM messages WHERE id = ?", mid) == (BO,)

    spring = parse(CampaignCreate, {"name": "Spring", "channel": "SMS", "template": "Hi"})
    first = writes.create_campaign(con, spring, first_member=cid, by=ANA)
    assert _one(con, "SELECT created_by, updated_by FROM campaigns WHERE id = ?", first) == (
        ANA,
        ANA,
    )
    autumn = parse(CampaignCreate, {"name": "Autumn", "channel": "SMS", "template": "Hi"})
    second = writes.create_campaign(con, autumn, by=ANA)
    writes.add_to_campaign(con, second, cid, by=BO)
    sends = con.execute(
        "SELECT campaign_id, added_by FROM campaign_sends WHERE customer_id = ? ORDER BY 1", [cid]
    ).fetchall()
    assert sends == [(first, ANA), (second, BO)]

    # The customer page's history says who, per row.
    history = queries.campaign_history(con, cid)
    by_kind = sorted(zip(history["campaign"], history["by"], strict=True))
    assert by_kind == [("Autumn", BO), ("Personal message", BO), ("Spring", ANA)]
