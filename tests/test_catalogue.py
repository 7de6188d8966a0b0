"""Products and campaigns named from the in-memory catalogue are never stale or crossed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from crm import catalogue, db, queries, writes
from crm.models import CampaignCreate, parse


def _customer_with_lines(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = con.execute("SELECT customer_id, product_id FROM order_items LIMIT 1").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_campaign_created_since_the_last_read_is_named(con: duckdb.DuckDBPyConnection) -> None:
    cid, _ = _customer_with_lines(con)
    queries.campaign_history(con, cid)  # the catalogue is now kept
    campaign = writes.create_campaign(
        con, parse(CampaignCreate, {"name": "Winter Hello", "channel": "Email"})
    )
    con.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE id = ?", [cid])
    writes.add_to_campaign(con, campaign, cid)
    history = queries.campaign_history(con, cid)
    assert "Winter Hello" in set(history["campaign"])


def test_an_id_the_kept_catalogue_lacks_reads_it_again(con: duckdb.DuckDBPyConnection) -> None:
    """A campaign and a send written outside ``crm.writes`` (no write is counted)."""
    cid, _ = _customer_with_lines(con)
    queries.campaign_history(con, cid)
    before = db.committed_writes()
    con.execute("INSERT INTO campaigns (id, name, channel) VALUES (9001, 'Quiet One', 'SMS')")
    con.execute(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status) VALUES (9001, ?, 'Queued')",
        [cid],
    )
    assert db.committed_writes() == before
    history = queries.campaign_history(con, cid)
    sent = history[history["campaign_id"] == 9001]
    assert list(sent["campaign"]) == ["Quiet One"] and list(sent["channel"]) == ["SMS"]
    # Unsent sends come first.
    assert history["sent_at"].isna().tolist()[0]


def test_two_databases_never_share_a_catalogue(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    cid, product = _customer_with_lines(con)
    other_path = db_path.with_name("other.duckdb")
    con.execute("CHECKPOINT")
    shutil.copyfile(db_path, other_path)
    other = db.connect(other_path)
    try:
        other.execute("UPDATE products SET name = 'Renamed Thing' WHERE id = ?", [product])
        ours = {line.product for line in queries.line_rows(con, cid)}
        theirs = {line.product for line in queries.line_rows(other, cid)}
        assert "Renamed Thing" in theirs and "Renamed Thing" not in ours
        assert catalogue.catalogue(con) is not catalogue.catalogue(other)
    finally:
        other.close()
