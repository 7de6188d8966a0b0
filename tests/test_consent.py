"""Marketing consent: the rule, its words, reads against the raw table."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from crm import consent
from crm.errors import NotFound, ValidationFailed
from crm.models import Channel, ConsentStatus


def test_only_subscribed_allows_email_and_sms_and_push_is_not_gated() -> None:
    for channel in ("Email", "SMS", Channel.EMAIL, Channel.SMS):
        assert consent.may_contact(channel, "Subscribed")
        assert consent.may_contact(channel, ConsentStatus.SUBSCRIBED)
        for status in ("Unsubscribed", "Not asked", None, ConsentStatus.UNSUBSCRIBED):
            assert not consent.may_contact(channel, status)
    for status in (*consent.STATUSES, None):
        assert consent.may_contact("Push", status)
    assert consent.is_gated("Email") and consent.is_gated("SMS")
    assert not consent.is_gated(Channel.PUSH)


def test_columns_come_from_the_allow_list_only() -> None:
    assert consent.consent_column("Email") == "email_consent"
    assert consent.consent_column("SMS") == "sms_consent"
    assert consent.consent_column("Push") is None
    for bad in ("email", "Fax", "Email; DROP TABLE customers"):
        with pytest.raises(ValueError, match="Unknown channel"):
            consent.consent_column(bad)
        with pytest.raises(ValueError, match="Unknown channel"):
            consent.may_contact(bad, "Subscribed")


def test_refusals_in_plain_words() -> None:
    assert consent.refusal("Email", "Not asked", None, "Ana Lima") == (
        "Ana Lima has not subscribed to email."
    )
    assert consent.refusal("SMS", None, None, "Ana Lima") == "Ana Lima has not subscribed to SMS."
    assert consent.refusal("SMS", "Unsubscribed", datetime(2026, 11, 3, 9, 30), "Ana") == (
        "Ana unsubscribed from SMS on Nov 3, 2026."
    )
    assert consent.refusal("Email", "Unsubscribed", None, " ") == (
        "This customer unsubscribed from email."
    )
    assert consent.refusal("Email", "Subscribed", None, "Ana") is None
    assert consent.refusal("Push", "Not asked", None, "Ana") is None


def test_status_in_words() -> None:
    assert consent.describe("Subscribed", date(2026, 3, 2)) == "Subscribed on Mar 2, 2026"
    assert consent.describe("Unsubscribed", datetime(2026, 11, 3)) == "Unsubscribed on Nov 3, 2026"
    assert consent.describe("Not asked", None) == "Not asked"
    assert consent.describe(None, None) == "Not asked"


def test_customer_consent_reads_the_row(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT id, first_name || ' ' || last_name, CAST(email_consent AS VARCHAR),"
        " email_consent_at, CAST(sms_consent AS VARCHAR), sms_consent_at, version"
        " FROM customers ORDER BY id LIMIT 40"
    ).fetchall()
    assert rows
    for cid, name, email, email_at, sms, sms_at, version in rows:
        read = consent.customer_consent(con, cid)
        assert read.name == name
        assert (read.email.status, read.email.changed_at) == (email, email_at)
        assert (read.sms.status, read.sms.changed_at) == (sms, sms_at)
        assert read.version == version
        assert read.refusal("Email") == consent.refusal("Email", email, email_at, name)
        assert read.refusal("Push") is None
    with pytest.raises(NotFound):
        consent.customer_consent(con, 10**12)


def test_check_may_contact_raises_with_the_reason(con: duckdb.DuckDBPyConnection) -> None:
    cid = 1
    con.execute("UPDATE customers SET email_consent = 'Not asked' WHERE id = $id", {"id": cid})
    with pytest.raises(ValidationFailed) as refused:
        consent.check_may_contact(con, cid, "Email")
    assert refused.value.errors["channel"].endswith("has not subscribed to email.")
    consent.check_may_contact(con, cid, "Push")
    con.execute("UPDATE customers SET email_consent = 'Subscribed' WHERE id = $id", {"id": cid})
    consent.check_may_contact(con, cid, "Email")
    with pytest.raises(NotFound):
        consent.check_may_contact(con, 10**12, "Push")


def _contactable_ids(con: duckdb.DuckDBPyConnection, channel: str) -> set[int]:
    where = consent.contactable_where(channel)
    return {int(r[0]) for r in con.execute(f"SELECT id FROM customers WHERE {where}").fetchall()}


def test_contactable_where_matches_the_rule_row_by_row(con: duckdb.DuckDBPyConnection) -> None:
    # Every status on both channels, and a NULL (a row written without one).
    con.execute(
        """
        UPDATE customers SET
            email_consent = CASE id % 4 WHEN 0 THEN 'Subscribed' WHEN 1 THEN 'Unsubscribed'
                                        WHEN 2 THEN 'Not asked' END,
            sms_consent = CASE id % 3 WHEN 0 THEN 'Subscribed' WHEN 1 THEN 'Unsubscribed' END
        """
    )
    rows = con.execute(
        "SELECT id, CAST(email_consent AS VARCHAR), CAST(sms_consent AS VARCHAR) FROM customers"
    ).fetchall()
    for channel, index in (("Email", 1), ("SMS", 2), ("Push", 1)):
        expected = {int(r[0]) for r in rows if consent.may_contact(channel, r[index])}
        assert _contactable_ids(con, channel) == expected
        assert 0 < len(expected) <= len(rows)
