"""Delivery by email against a real SMTP server (aiosmtpd, ``smtp_server`` fixture).

Expectations are read from the raw tables and merged independently (the
template's fields written out by hand), never from the code under test.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import duckdb
import pytest
from mail_data import email_campaign, people, statuses, subscribe
from smtp_server import REFUSAL, Recorder, free_port

from crm import db, writes
from crm.errors import CrmError, ValidationFailed
from crm.mail import delivery
from crm.mail.delivery import (
    UNSUBSCRIBED,
    claim_sends,
    deliver_campaign,
    deliver_message,
    release_interrupted,
    requeue_failed,
)
from crm.models import CampaignCreate, MessageCreate

ROOT = Path(__file__).resolve().parent.parent
Con = duckdb.DuckDBPyConnection


def money_of(con: Con, customer_id: int) -> str:
    (spent,) = con.execute(
        "SELECT total_spending FROM customers WHERE id = $id", {"id": customer_id}
    ).fetchone() or (None,)
    return f"${spent:,.2f}"


def test_each_customer_gets_their_own_merged_email_once(con: Con, smtp_server: Recorder) -> None:
    chosen = people(con, 25)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    progress: list[int] = []

    report = deliver_campaign(
        con, campaign_id, smtp_server.settings(), on_progress=lambda r: progress.append(r.done)
    )

    assert (report.delivered, report.failed, report.stopped) == (25, 0, None)
    assert progress == list(range(1, 26))
    assert len(smtp_server.messages) == 25
    for customer_id, first, last, email, city in chosen:
        [received] = smtp_server.to(email)
        message = received.message
        assert received.sender == "shop@example.com"
        assert message["Subject"] == f"{first or 'there'}, a gift from us"
        assert parseaddr(str(message["To"])) == (f"{first} {last}".strip(), email)
        assert parseaddr(str(message["From"])) == ("Customer Hub Shop", "shop@example.com")
        assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
        assert str(message["Message-ID"]).endswith("@example.com>")
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        town = city.strip() or "your town"
        expected = (
            f"Hi {first or 'there'}, we miss you in {town}."
            f" Your total: {money_of(con, customer_id)}."
        )
        assert message.get_content().strip() == expected
    assert len({str(m.message["Message-ID"]) for m in smtp_server.messages}) == 25
    assert set(statuses(con, campaign_id).values()) == {("Delivered", None)}
    # Batches of 10: three connections, not one per message.
    assert smtp_server.sessions == 3


def test_delivered_sends_count_in_the_customers_figures(con: Con, smtp_server: Recorder) -> None:
    chosen = [p[0] for p in people(con, 5)]
    before = dict(
        con.execute(
            "SELECT id, delivered_sends FROM customers WHERE list_contains($ids, id)",
            {"ids": chosen},
        ).fetchall()
    )
    campaign_id = email_campaign(con, chosen)
    deliver_campaign(con, campaign_id, smtp_server.settings())
    after = con.execute(
        """
        SELECT c.id, c.delivered_sends,
               (SELECT count(*) FROM campaign_sends s
                WHERE s.customer_id = c.id AND s.status = 'Delivered')
        FROM customers c WHERE list_contains($ids, c.id)
        """,
        {"ids": chosen},
    ).fetchall()
    for customer_id, stored, counted in after:
        assert stored == counted == before[customer_id] + 1
    # And what each send led to is counted from its delivery (crm.campaigns.facts).
    uncounted = con.execute(
        "SELECT count(*) FROM campaign_sends WHERE campaign_id = $c"
        " AND window_start IS DISTINCT FROM sent_at",
        {"c": campaign_id},
    ).fetchone()
    assert uncounted == (0,)


def test_non_ascii_names_and_text_arrive_intact(con: Con, smtp_server: Recorder) -> None:
    [(customer_id, *_rest)] = people(con, 1)
    con.execute(
        "UPDATE customers SET first_name = 'Zoë', last_name = 'Ørsted' WHERE id = $id",
        {"id": customer_id},
    )
    campaign_id = email_campaign(
        con, [customer_id], subject="Für [First Name] — 20 %", template="Grüße, [Name] ☕"
    )
    deliver_campaign(con, campaign_id, smtp_server.settings(from_name="Café Ünder"))
    [received] = smtp_server.messages
    assert received.message["Subject"] == "Für Zoë — 20 %"
    assert parseaddr(str(received.message["From"]))[0] == "Café Ünder"
    assert parseaddr(str(received.message["To"]))[0] == "Zoë Ørsted"
    assert received.message.get_content().strip() == "Grüße, Zoë Ørsted ☕"
    # Headers travel 7-bit (RFC 2047 encoded words), the body as UTF-8.
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii()


def test_subject_falls_back_to_the_campaign_name(con: Con, smtp_server: Recorder) -> None:
    [(customer_id, *_rest)] = people(con, 1)
    campaign_id = email_campaign(con, [customer_id], subject="")
    [(name,)] = con.execute(
        "SELECT name FROM campaigns WHERE id = $id", {"id": campaign_id}
    ).fetchall()
    deliver_campaign(con, campaign_id, smtp_server.settings())
    assert [m.message["Subject"] for m in smtp_server.messages] == [name]


def test_a_refused_recipient_fails_with_the_servers_reason_and_the_rest_go(
    con: Con, smtp_server: Recorder
) -> None:
    chosen = people(con, 6)
    refused = chosen[2]
    smtp_server.refuse.add(refused[3])
    campaign_id = email_campaign(con, [p[0] for p in chosen])

    report = deliver_campaign(con, campaign_id, smtp_server.settings())

    assert (report.delivered, report.failed) == (5, 1)
    found = statuses(con, campaign_id)
    assert found.pop(refused[0]) == ("Failed", REFUSAL)
    assert set(found.values()) == {("Delivered", None)}
    assert {m.recipients[0] for m in smtp_server.messages} == {p[3] for p in chosen} - {refused[3]}
    assert delivery.failure_reasons(con, campaign_id) == [(REFUSAL, 1)]


def test_server_down_fails_the_batch_stops_and_retry_failed_delivers_everyone(
    con: Con, smtp_server: Recorder
) -> None:
    chosen = people(con, 15)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    down = smtp_server.settings(port=free_port())  # nothing listens there

    report = deliver_campaign(con, campaign_id, down)

    assert report.stopped is not None and "refused the connection" in report.stopped
    assert (report.delivered, report.failed) == (0, 10)  # one batch, then it stopped
    counted = [s for s, _ in statuses(con, campaign_id).values()]
    assert (counted.count("Failed"), counted.count("Queued")) == (10, 5)
    reasons = {r for s, r in statuses(con, campaign_id).values() if s == "Failed"}
    assert len(reasons) == 1 and "127.0.0.1" in str(next(iter(reasons)))

    # A later Send delivers what was left; Retry failed brings back the failed ones.
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 5
    assert requeue_failed(con, campaign_id) == 10
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 10
    assert set(statuses(con, campaign_id).values()) == {("Delivered", None)}
    assert sorted(m.recipients[0] for m in smtp_server.messages) == sorted(p[3] for p in chosen)


def test_unsubscribed_since_queued_is_not_sent(con: Con, smtp_server: Recorder) -> None:
    chosen = people(con, 4)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    subscribe(con, [chosen[1][0]], "Unsubscribed")
    subscribe(con, [chosen[3][0]], "Not asked")

    report = deliver_campaign(con, campaign_id, smtp_server.settings())

    assert (report.delivered, report.failed) == (2, 2)
    found = statuses(con, campaign_id)
    assert found[chosen[1][0]] == ("Failed", UNSUBSCRIBED)
    assert found[chosen[3][0]] == ("Failed", UNSUBSCRIBED)
    assert {m.recipients[0] for m in smtp_server.messages} == {chosen[0][3], chosen[2][3]}
    # Retry failed leaves them out: they would only fail again.
    assert requeue_failed(con, campaign_id) == 0


def test_control_and_other_campaigns_are_never_sent(con: Con, smtp_server: Recorder) -> None:
    chosen = [p[0] for p in people(con, 4)]
    campaign_id = email_campaign(con, chosen)
    other = email_campaign(con, chosen)
    con.execute(
        "UPDATE campaign_sends SET status = 'Control' WHERE campaign_id = $c AND customer_id = $id",
        {"c": campaign_id, "id": chosen[0]},
    )
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 3
    assert len(smtp_server.messages) == 3
    assert statuses(con, campaign_id)[chosen[0]] == ("Control", None)
    assert {s for s, _ in statuses(con, other).values()} == {"Queued"}


def test_sms_and_bad_templates_are_refused_before_anything_is_claimed(
    con: Con, smtp_server: Recorder
) -> None:
    [(customer_id, *_rest)] = people(con, 1)
    sms = writes.create_campaign(con, CampaignCreate(name="Texts", channel="SMS", template="Hi"))
    writes.add_to_campaign(con, sms, customer_id)
    with pytest.raises(CrmError, match="SMS has no delivery provider"):
        deliver_campaign(con, sms, smtp_server.settings())
    empty = email_campaign(con, [customer_id], template="")
    with pytest.raises(ValidationFailed, match="no message yet"):
        deliver_campaign(con, empty, smtp_server.settings())
    typo = email_campaign(con, [customer_id], template="Hi [Frist Name]")
    with pytest.raises(ValidationFailed, match="Unknown merge field"):
        deliver_campaign(con, typo, smtp_server.settings())
    sends = con.execute(
        "SELECT DISTINCT status FROM campaign_sends WHERE list_contains($c, campaign_id)",
        {"c": [sms, empty, typo]},
    ).fetchall()
    assert sends == [("Queued",)]
    assert smtp_server.messages == []


def test_stopping_mid_batch_puts_the_unattempted_back_in_the_queue(
    con: Con, smtp_server: Recorder
) -> None:
    chosen = people(con, 8)
    campaign_id = email_campaign(con, [p[0] for p in chosen])

    def stop_after_three(report: delivery.DeliveryReport) -> None:
        if report.done == 3:
            raise KeyboardInterrupt  # as Streamlit stops a script when the tab closes

    with pytest.raises(KeyboardInterrupt):
        deliver_campaign(con, campaign_id, smtp_server.settings(), on_progress=stop_after_three)
    counted = [s for s, _ in statuses(con, campaign_id).values()]
    assert (counted.count("Delivered"), counted.count("Queued"), counted.count("Sending")) == (
        3,
        5,
        0,
    )
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 5
    assert sorted(m.recipients[0] for m in smtp_server.messages) == sorted(p[3] for p in chosen)


CRASHING_SENDER = """
import os, sys
from crm import db
from crm.mail import delivery, transport
from crm.mail.settings import SmtpSettings

sent = 0
real_send = transport.send_one

def send_then_die(smtp, message, sender, recipient):
    global sent
    real_send(smtp, message, sender, recipient)
    sent += 1
    if sent == 3:
        os._exit(9)  # the process dies: no cleanup, no finally, no commit

delivery.send_one = send_then_die
con = db.connect(sys.argv[1])
settings = SmtpSettings(host="127.0.0.1", port=int(sys.argv[2]), security="none", user=None,
                        from_address="shop@example.com", rate_limit=1000.0, batch_size=5)
delivery.deliver_campaign(con, int(sys.argv[3]), settings)
"""


def test_a_crash_mid_batch_leaves_sending_rows_and_nothing_is_sent_twice(
    db_path: Path, smtp_server: Recorder
) -> None:
    con = db.connect(db_path)
    chosen = people(con, 12)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    con.close()

    arguments = [str(db_path), str(smtp_server.port), str(campaign_id)]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_SENDER, *arguments],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()
    assert len(smtp_server.messages) == 3

    con = db.connect(db_path)
    counted = [s for s, _ in statuses(con, campaign_id).values()]
    # Two recorded; the third went out but died before it was recorded; two more
    # of the batch of five were claimed; seven were never claimed.
    assert (counted.count("Delivered"), counted.count("Sending"), counted.count("Queued")) == (
        2,
        3,
        7,
    )
    # A retry sends the rest and never the claimed ones, whose outcome is unknown.
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 7
    recipients = [m.recipients[0] for m in smtp_server.messages]
    assert len(recipients) == len(set(recipients)) == 10
    # They count as interrupted only once they are older than a sender could take.
    assert release_interrupted(con, campaign_id, stale=delivery.interrupted_after()) == 0
    still = delivery.campaign_delivery(con, campaign_id, stale=delivery.interrupted_after())
    assert (still.sending, still.interrupted) == (3, 0)
    stale = delivery.campaign_delivery(con, campaign_id, stale=delivery.timedelta(0))
    assert (stale.sending, stale.interrupted) == (0, 3)
    # Asked for: marked as not sent, and the next Send delivers them.
    assert release_interrupted(con, campaign_id, stale=delivery.timedelta(0)) == 3
    assert deliver_campaign(con, campaign_id, smtp_server.settings()).delivered == 3
    assert {s for s, _ in statuses(con, campaign_id).values()} == {"Delivered"}
    con.close()


def test_two_claimers_on_two_connections_never_take_the_same_send(db_path: Path) -> None:
    setup = db.connect(db_path)
    chosen = [p[0] for p in people(setup, 200)]
    campaign_id = email_campaign(setup, chosen)
    setup.close()
    # Two connections, as two app instances would have (same process: DuckDB
    # shares the database between them, and a write conflict is still detected).
    first, second = db.connect(db_path), duckdb.connect(str(db_path))
    taken: dict[str, list[int]] = {"first": [], "second": []}
    start = threading.Barrier(2)

    def claimer(name: str, con: Con) -> None:
        start.wait()
        while batch := claim_sends(con, campaign_id, 7):
            taken[name].extend(send for send, _ in batch)

    threads = [
        threading.Thread(target=claimer, args=("first", first)),
        threading.Thread(target=claimer, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = taken["first"] + taken["second"]
    assert len(everything) == len(set(everything)) == 200
    first.close()
    second.close()


def test_a_claim_racing_an_open_transaction_waits_and_takes_other_sends(con: Con) -> None:
    chosen = [p[0] for p in people(con, 6)]
    campaign_id = email_campaign(con, chosen)
    # Another instance's claim, committed a moment later: without the process's
    # write lock, DuckDB's own conflict detection is what keeps them apart.
    other = con.cursor()
    other.execute("BEGIN TRANSACTION")
    theirs = other.execute(
        delivery.CLAIM_SENDS, {"campaign": campaign_id, "limit": 3, "by": "other"}
    ).fetchall()
    timer = threading.Timer(0.15, lambda: other.execute("COMMIT"))
    timer.start()
    mine = claim_sends(con, campaign_id, 3, by="me")
    timer.join()
    assert len(theirs) == len(mine) == 3
    assert not {s for s, _ in theirs} & {s for s, _ in mine}
    by = dict(
        con.execute(
            "SELECT delivery_by, count(*) FROM campaign_sends WHERE campaign_id = $c GROUP BY ALL",
            {"c": campaign_id},
        ).fetchall()
    )
    assert by == {"other": 3, "me": 3}


# --- Personalised messages -------------------------------------------------------------


def message(con: Con, customer_id: int, subject: str = "Hello", body: str = "Hi there") -> int:
    return writes.record_message(con, customer_id, MessageCreate(subject=subject, body=body))


def message_row(con: Con, message_id: int) -> tuple[object, ...]:
    row = con.execute(
        "SELECT status, failure_reason, delivered_at IS NOT NULL FROM messages WHERE id = $id",
        {"id": message_id},
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_personalised_message_is_delivered_once(con: Con, smtp_server: Recorder) -> None:
    [(customer_id, first, last, email, _city)] = people(con, 1)
    subscribe(con, [customer_id])
    message_id = message(con, customer_id, "Für Sie", "Liebe Grüße")

    outcome = deliver_message(con, message_id, smtp_server.settings())
    again = deliver_message(con, message_id, smtp_server.settings())  # a double click

    assert (outcome.status, outcome.reason) == ("Sent", None)
    assert again.status == "Sent"
    assert message_row(con, message_id) == ("Sent", None, True)
    [received] = smtp_server.messages
    assert received.recipients == [email]
    assert received.message["Subject"] == "Für Sie"
    assert received.message.get_content().strip() == "Liebe Grüße"
    assert parseaddr(str(received.message["To"])) == (f"{first} {last}".strip(), email)


def test_a_personalised_message_failure_is_recorded_with_the_reason(
    con: Con, smtp_server: Recorder
) -> None:
    [(refused_id, _f, _l, refused_email, _c), (other_id, *_r)] = people(con, 2)
    subscribe(con, [refused_id, other_id])
    smtp_server.refuse.add(refused_email)
    refused = message(con, refused_id)
    assert deliver_message(con, refused, smtp_server.settings()).reason == REFUSAL
    assert message_row(con, refused) == ("Failed", REFUSAL, False)

    down = message(con, other_id)
    outcome = deliver_message(con, down, smtp_server.settings(port=free_port()))
    assert outcome.status == "Failed" and "refused the connection" in str(outcome.reason)

    # Unsubscribed between writing (queued, allowed then) and delivering.
    unsubscribed = message(con, other_id)
    subscribe(con, [other_id], "Unsubscribed")
    assert deliver_message(con, unsubscribed, smtp_server.settings()).reason == UNSUBSCRIBED
    assert smtp_server.messages == []


def test_an_sms_message_stays_queued(con: Con, smtp_server: Recorder) -> None:
    [(customer_id, *_rest)] = people(con, 1)
    con.execute(
        "UPDATE customers SET sms_consent = 'Subscribed', phone = '+1 555 0100' WHERE id = $id",
        {"id": customer_id},
    )
    sms = writes.record_message(con, customer_id, MessageCreate(body="Hi", channel="SMS"))
    assert deliver_message(con, sms, smtp_server.settings()).status == "Queued"
    assert message_row(con, sms) == ("Queued", None, False)
    assert smtp_server.messages == []


def test_a_message_claimed_elsewhere_at_the_same_moment_is_left_to_them(
    con: Con, smtp_server: Recorder
) -> None:
    [(customer_id, *_rest)] = people(con, 1)
    subscribe(con, [customer_id])
    message_id = message(con, customer_id)
    other = con.cursor()  # another instance, mid-claim (not committed yet)
    other.execute("BEGIN TRANSACTION")
    other.execute(delivery.MESSAGE_CLAIM, {"id": message_id, "by": "other"})
    outcome = deliver_message(con, message_id, smtp_server.settings())
    other.execute("COMMIT")
    assert outcome.status == "Sending"
    assert smtp_server.messages == []
    assert message_row(con, message_id) == ("Sending", None, False)


def test_queued_emails_are_the_customers_queued_email_messages_oldest_first(con: Con) -> None:
    [(customer_id, *_), (other_id, *_)] = people(con, 2)
    for who, channel, status in [
        (customer_id, "Email", "Queued"),
        (customer_id, "SMS", "Queued"),
        (customer_id, "Email", "Sent"),
        (customer_id, "Email", "Failed"),
        (customer_id, "Email", "Queued"),
        (other_id, "Email", "Queued"),
    ]:
        con.execute(
            "INSERT INTO messages (customer_id, channel, body, status)"
            " VALUES ($who, $channel, 'Hi', $status)",
            {"who": who, "channel": channel, "status": status},
        )
    every = con.execute("SELECT id, customer_id, channel, status FROM messages").fetchall()
    expected = sorted(
        int(i) for i, who, channel, status in every
        if who == customer_id and channel == "Email" and status == "Queued"
    )  # fmt: skip
    assert len(expected) >= 2
    assert delivery.queued_emails(con, customer_id) == expected
