"""Campaigns and customers for the delivery tests: chosen from the seeded data, made subscribed."""

from __future__ import annotations

import duckdb
from smtp_server import free_port

from crm import writes
from crm.models import CampaignCreate

Con = duckdb.DuckDBPyConnection

TEMPLATE = "Hi [First Name], we miss you in [City|your town]. Your total: [Total Spending]."
SUBJECT = "[First Name], a gift from us"


def people(con: Con, n: int, offset: int = 0) -> list[tuple[int, str, str, str, str]]:
    """(id, first name, last name, email, city) of ``n`` customers, by id."""
    rows = con.execute(
        "SELECT id, first_name, last_name, email, city FROM customers ORDER BY id"
        " LIMIT $n OFFSET $offset",
        {"n": n, "offset": offset},
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


def subscribe(con: Con, ids: list[int], status: str = "Subscribed") -> None:
    con.execute(
        "UPDATE customers SET email_consent = $status WHERE list_contains($ids, id)",
        {"status": status, "ids": ids},
    )


def email_campaign(
    con: Con, ids: list[int], *, subject: str = SUBJECT, template: str = TEMPLATE
) -> int:
    """A new email campaign with ``ids`` queued (all subscribed)."""
    subscribe(con, ids)
    campaign_id = writes.create_campaign(
        con, CampaignCreate(name=f"Test {len(ids)} {free_port()}", template=template)
    )
    con.execute(
        "UPDATE campaigns SET subject = $s WHERE id = $id", {"s": subject, "id": campaign_id}
    )
    for customer_id in ids:
        writes.add_to_campaign(con, campaign_id, customer_id)
    return campaign_id


def statuses(con: Con, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    """customer id -> (status, failure_reason) of the campaign's sends."""
    rows = con.execute(
        "SELECT customer_id, status, failure_reason FROM campaign_sends WHERE campaign_id = $c",
        {"c": campaign_id},
    ).fetchall()
    return {int(r[0]): (str(r[1]), r[2]) for r in rows}
