"""Claim → deliver → record, for campaign sends and personalised messages.

A send goes Queued → Sending (claimed) → Delivered | Failed. The claim is one
UPDATE that moves a batch to 'Sending' and returns it, so two senders (two
tabs, two app instances) never take the same send: within one process every
write takes ``crm.db``'s write lock, and across connections DuckDB refuses the
second of two transactions that run this same claim on the same row
(``TransactionException``), and that claimer tries again on what is left.
Only the same statement: DuckDB 2.0.1 was seen to let two uncommitted
updates of one row with different SET lists both commit, so every claimer
uses ``CLAIM_SENDS`` / ``MESSAGE_CLAIM`` as they are. Each result is then recorded in its
own small transaction, with the customer's campaign figures
(``crm.facts.refresh_engagement``) in the same one.

What a crash leaves. A send is claimed before it goes to the server and its
result recorded right after, so a process that dies in between leaves it
'Sending': it may or may not have gone out, and nothing sends it again
automatically (``release_interrupted`` puts such sends back in the queue when
a person asks, knowing some may arrive twice). Sends of the batch that were
claimed but not yet handed to the server when the run was stopped (the tab
closed, Streamlit stopped the script) go back to 'Queued' on the way out:
those were certainly not sent.

A server that cannot be reached fails the batch's claimed sends with the
reason and stops the run, so one outage does not claim and fail the whole
campaign; ``requeue_failed`` is "Retry failed".
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from email.message import EmailMessage

import duckdb

from crm import consent, facts, templates
from crm.campaigns import facts as campaign_facts
from crm.db import transaction
from crm.errors import ConflictError, CrmError, NotFound, ValidationFailed
from crm.mail.compose import build_email
from crm.mail.settings import DEFAULT_BATCH, DEFAULT_RATE, DEFAULT_TIMEOUT, SmtpSettings
from crm.mail.transport import (
    Connector,
    RateLimit,
    ServerUnavailable,
    close_quietly,
    open_connection,
    reason,
    send_one,
)
from crm.models import Customer

Con = duckdb.DuckDBPyConnection

UNSUBSCRIBED = "Not sent: the customer is no longer subscribed to email."
NO_PROVIDER = (
    "{channel} has no delivery provider in Customer Hub: its sends stay Queued."
    " Only email is delivered (over SMTP)."
)
CLAIM_CONFLICT = "Another sender kept taking the same sends; try again in a moment."
# How many times a claimer tries again after losing a race for the same rows.
_CLAIM_TRIES = 5

# "May be emailed" over customers c, from crm.consent's allow-list.
_MAY_EMAIL = consent.contactable_where("Email")
_CUSTOMER_COLUMNS = ", ".join(field.name for field in fields(Customer))

# The oldest Queued sends of the campaign, up to $limit, taken in one statement.
# The outer "status = 'Queued'" matters when two claimers race: DuckDB refuses
# the later transaction's update of a row the other changed, and the retry
# then reads the rows as the winner left them.
CLAIM_SENDS = """
    UPDATE campaign_sends
    SET status = 'Sending', claimed_at = current_localtimestamp(), delivery_by = $by
    WHERE id IN (
        SELECT id FROM campaign_sends
        WHERE campaign_id = $campaign AND status = 'Queued'
        ORDER BY id
        LIMIT $limit
    ) AND status = 'Queued'
    RETURNING id, customer_id
"""
_SEND_DELIVERED = """
    UPDATE campaign_sends
    SET status = 'Delivered', sent_at = current_localtimestamp(), failure_reason = NULL
    WHERE id = $id AND status = 'Sending'
    RETURNING customer_id
"""
_SEND_FAILED = """
    UPDATE campaign_sends
    SET status = 'Failed', sent_at = current_localtimestamp(), failure_reason = $reason
    WHERE id = $id AND status = 'Sending'
    RETURNING customer_id
"""
_SENDS_RELEASED = """
    UPDATE campaign_sends SET status = 'Queued', claimed_at = NULL
    WHERE list_contains($ids, id) AND status = 'Sending'
"""


def interrupted_after(settings: SmtpSettings | None = None) -> timedelta:
    """How long a send may stay 'Sending' before it counts as interrupted.

    A live batch records a result at least every ``1/rate`` seconds plus a
    server timeout or two; twice a whole batch's time plus four timeouts, and
    never under two minutes, is well past anything a running sender takes.
    """
    batch = settings.batch_size if settings else DEFAULT_BATCH
    rate = settings.rate_limit if settings else DEFAULT_RATE
    timeout = settings.timeout if settings else DEFAULT_TIMEOUT
    return timedelta(seconds=max(120.0, 2 * batch / rate + 4 * timeout))


# --- Campaigns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    channel: str
    subject: str
    template: str


@dataclass(frozen=True)
class CampaignDelivery:
    """Where a campaign's sends stand, for the Send panel."""

    campaign: Campaign
    queued: int
    # Claimed less than ``interrupted_after`` ago: a sender is working on them.
    sending: int
    # Claimed longer ago: the sender stopped and their outcome is unknown.
    interrupted: int
    delivered: int
    failed: int
    # Failed sends whose customer is still subscribed: what "Retry failed" re-queues.
    retryable: int
    control: int
    oldest_interrupted: datetime | None


@dataclass
class DeliveryReport:
    """What one Send did so far (``on_progress`` receives it after every result)."""

    total: int  # Queued when the run started (the progress bar's 100 %)
    delivered: int = 0
    failed: int = 0
    # The server could not be reached: the run stopped, the rest stays Queued.
    stopped: str | None = None

    @property
    def done(self) -> int:
        return self.delivered + self.failed


def campaign(con: Con, campaign_id: int) -> Campaign:
    """The campaign's name, channel, subject and template; NotFound when there is none."""
    row = (
        con.cursor()
        .execute(
            "SELECT id, name, channel, coalesce(subject, ''), template FROM campaigns"
            " WHERE id = $id",
            {"id": campaign_id},
        )
        .fetchone()
    )
    if row is None:
        raise NotFound("That campaign no longer exists; someone may have deleted it.")
    return Campaign(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))


def campaign_delivery(con: Con, campaign_id: int, *, stale: timedelta) -> CampaignDelivery:
    """The campaign's sends counted by where they stand; NotFound for an unknown id."""
    found = campaign(con, campaign_id)
    row = (
        con.cursor()
        .execute(
            f"""
            SELECT count(*) FILTER (WHERE s.status = 'Queued'),
                   count(*) FILTER (WHERE s.status = 'Sending' AND s.claimed_at >= $cutoff),
                   count(*) FILTER (WHERE s.status = 'Sending'
                                    AND (s.claimed_at < $cutoff OR s.claimed_at IS NULL)),
                   count(*) FILTER (WHERE s.status = 'Delivered'),
                   count(*) FILTER (WHERE s.status = 'Failed'),
                   -- Only the failed sends meet the customers: joining all of a
                   -- 470,000-send campaign's took 500 ms, these counts 12 + 60 ms
                   -- (1M customers, busy machine).
                   (SELECT count(*)
                    FROM campaign_sends f JOIN customers c ON c.id = f.customer_id
                    WHERE f.campaign_id = $campaign AND f.status = 'Failed' AND {_MAY_EMAIL}),
                   count(*) FILTER (WHERE s.status = 'Control'),
                   min(s.claimed_at) FILTER (WHERE s.status = 'Sending'
                                             AND s.claimed_at < $cutoff)
            FROM campaign_sends s
            WHERE s.campaign_id = $campaign
            """,  # noqa: S608 - crm.consent's allow-list
            {"campaign": campaign_id, "cutoff": datetime.now() - stale},
        )
        .fetchone()
    )
    assert row is not None
    queued, sending, interrupted, delivered, failed, retryable, control = (
        int(value or 0) for value in row[:7]
    )
    return CampaignDelivery(
        campaign=found,
        queued=queued,
        sending=sending,
        interrupted=interrupted,
        delivered=delivered,
        failed=failed,
        retryable=retryable,
        control=control,
        oldest_interrupted=row[7],
    )


def failure_reasons(con: Con, campaign_id: int, limit: int = 5) -> list[tuple[str, int]]:
    """The commonest reasons the campaign's failed sends give, with how many give each."""
    rows = (
        con.cursor()
        .execute(
            """
            SELECT coalesce(failure_reason, 'No reason recorded') AS why, count(*) AS n
            FROM campaign_sends
            WHERE campaign_id = $campaign AND status = 'Failed'
            GROUP BY why
            ORDER BY n DESC, why
            LIMIT $limit
            """,
            {"campaign": campaign_id, "limit": limit},
        )
        .fetchall()
    )
    return [(str(why), int(n)) for why, n in rows]


def _check_email_campaign(found: Campaign) -> None:
    if found.channel != "Email":
        raise CrmError(NO_PROVIDER.format(channel=found.channel))
    if not found.template.strip():
        raise ValidationFailed(
            {"template": "This campaign has no message yet: write its template, then send."}
        )
    templates.validate(found.template, "template")
    if found.subject.strip():
        templates.validate(found.subject, "subject")


def claim_sends(
    con: Con, campaign_id: int, limit: int, *, by: str | None = None
) -> list[tuple[int, int]]:
    """Move up to ``limit`` of the campaign's Queued sends to 'Sending' and return them
    as (send id, customer id); nobody else can claim them any more."""
    for attempt in range(_CLAIM_TRIES):
        try:
            with transaction(con) as cur:
                rows = cur.execute(
                    CLAIM_SENDS, {"campaign": campaign_id, "limit": limit, "by": by}
                ).fetchall()
        except duckdb.TransactionException:
            # Another connection claimed some of the same rows first: read again.
            time.sleep(0.05 * (attempt + 1))
            continue
        return sorted((int(send), int(customer)) for send, customer in rows)
    raise ConflictError(CLAIM_CONFLICT)


def _record_send(con: Con, send_id: int, failure: str | None) -> None:
    """Delivered (``failure`` None) or Failed with the reason, and the customer's figures."""
    sql = _SEND_DELIVERED if failure is None else _SEND_FAILED
    params: dict[str, object] = {"id": send_id}
    if failure is not None:
        params["reason"] = failure
    with transaction(con) as cur:
        row = cur.execute(sql, params).fetchone()
        # Only a delivery changes the customer's figures (a failed send counts in none).
        if row is not None and failure is None:
            facts.refresh_engagement(cur, int(row[0]))


def _release_sends(con: Con, send_ids: Sequence[int]) -> None:
    if send_ids:
        with transaction(con) as cur:
            cur.execute(_SENDS_RELEASED, {"ids": list(send_ids)})


def _customers(con: Con, ids: Sequence[int]) -> dict[int, tuple[Customer, str | None]]:
    """Each customer with their email consent as it is now (the delivery-time check)."""
    rows = (
        con.cursor()
        .execute(
            f"SELECT {_CUSTOMER_COLUMNS}, email_consent FROM customers"  # noqa: S608 - field names
            " WHERE list_contains($ids, id)",
            {"ids": list(ids)},
        )
        .fetchall()
    )
    return {int(row[0]): (Customer(*row[:-1]), row[-1]) for row in rows}


def _campaign_email(settings: SmtpSettings, found: Campaign, customer: Customer) -> EmailMessage:
    # No subject of its own: the campaign's name, as written (not a template).
    subject = (
        templates.render(found.subject, customer, "subject").text
        if found.subject.strip()
        else found.name
    )
    body = templates.render(found.template, customer).text
    return build_email(
        settings, to_name=customer.name, to_address=customer.email, subject=subject, body=body
    )


Progress = Callable[[DeliveryReport], None]


class _Batch:
    """One SMTP connection's worth of claimed sends, delivered in order."""

    def __init__(
        self, con: Con, settings: SmtpSettings, connect: Connector, limiter: RateLimit
    ) -> None:
        self.con = con
        self.settings = settings
        self.connect = connect
        self.limiter = limiter
        self.smtp: smtplib.SMTP | None = None
        # The server refused the sender (MAIL FROM): nothing else can go either.
        self.sender_refused: str | None = None

    def ensure_connection(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = self.connect(self.settings)
        return self.smtp

    def hand_over(self, message: EmailMessage, recipient: str) -> str | None:
        """Send one message; None when the server took it, else the reason.

        A connection the server dropped is opened again for the next message.
        Raises ServerUnavailable when no connection can be opened.
        """
        smtp = self.ensure_connection()
        self.limiter.wait()
        try:
            send_one(smtp, message, self.settings.from_address, recipient)
        except smtplib.SMTPSenderRefused as error:
            self.sender_refused = (
                f"{self.settings.server} refused the sender {self.settings.from_address}:"
                f" {reason(error)}"
            )
            return reason(error)
        except smtplib.SMTPResponseException as error:
            return reason(error)
        except smtplib.SMTPRecipientsRefused as error:
            return reason(error)
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            return reason(error)
        return None

    def close(self) -> None:
        if self.smtp is not None:
            close_quietly(self.smtp)
            self.smtp = None


def deliver_campaign(
    con: Con,
    campaign_id: int,
    settings: SmtpSettings,
    *,
    by: str | None = None,
    on_progress: Progress | None = None,
    connect: Connector = open_connection,
    limiter: RateLimit | None = None,
) -> DeliveryReport:
    """Deliver the campaign's Queued email sends, batch after batch, until none are left
    or the server cannot be reached; returns what happened.

    Raises CrmError before claiming anything when the campaign is not email
    (no provider), has no template, or its template or subject has a mistake.
    ``on_progress`` is called after each recorded result (the UI's progress bar).
    """
    found = campaign(con, campaign_id)
    _check_email_campaign(found)
    total = campaign_delivery(con, campaign_id, stale=interrupted_after(settings)).queued
    report = DeliveryReport(total=total)
    pace = limiter or RateLimit(settings.rate_limit)
    while report.stopped is None:
        claimed = claim_sends(con, campaign_id, settings.batch_size, by=by)
        if not claimed:
            break
        report.total = max(report.total, report.done + len(claimed))
        batch = _Batch(con, settings, connect, pace)
        _deliver_batch(con, found, claimed, batch, report, on_progress)
    return report


def _deliver_batch(
    con: Con,
    found: Campaign,
    claimed: list[tuple[int, int]],
    batch: _Batch,
    report: DeliveryReport,
    on_progress: Progress | None,
) -> None:
    customers = _customers(con, [customer for _, customer in claimed])
    pending = list(claimed)

    def record(send_id: int, failure: str | None) -> None:
        _record_send(con, send_id, failure)
        if failure is None:
            report.delivered += 1
        else:
            report.failed += 1
        if on_progress is not None:
            on_progress(report)

    try:
        while pending:
            send_id, customer_id = pending[0]
            person = customers.get(customer_id)
            if person is None:  # deleted since it was queued: its sends went with it
                pending.pop(0)
                continue
            customer, status = person
            if not consent.may_contact("Email", status):
                pending.pop(0)
                record(send_id, UNSUBSCRIBED)
                continue
            try:
                message = _campaign_email(batch.settings, found, customer)
            except (CrmError, ValueError) as problem:
                pending.pop(0)
                record(send_id, f"Not sent: {problem}")
                continue
            try:
                batch.ensure_connection()
            except ServerUnavailable as down:
                _stop(con, report, pending, str(down), on_progress)
                break
            # From here until it is recorded, the send's outcome is unknown: a
            # crash leaves it 'Sending', and it is never sent again on its own.
            pending.pop(0)
            record(send_id, batch.hand_over(message, customer.email))
            if batch.sender_refused is not None:
                _stop(con, report, pending, batch.sender_refused, on_progress)
                break
    finally:
        batch.close()
        # Stopped on the way (the tab closed, an error): these never reached the server.
        _release_sends(con, [send_id for send_id, _ in pending])
        # What the batch's sends led to (14-day windows, crm.campaigns.facts): once per
        # batch rather than per result, as that module asks; until then the results
        # page counts the just-recorded sends from the orders itself.
        with transaction(con) as cur:
            campaign_facts.refresh_campaign(cur, found.id)


def _stop(
    con: Con,
    report: DeliveryReport,
    pending: list[tuple[int, int]],
    why: str,
    on_progress: Progress | None,
) -> None:
    """The server cannot take anything: the batch's remaining sends fail with ``why``
    and the run stops (the next batches stay Queued)."""
    report.stopped = why
    for failed_id, _ in pending:
        _record_send(con, failed_id, why)
        report.failed += 1
    pending.clear()
    if on_progress is not None:
        on_progress(report)


def requeue_failed(con: Con, campaign_id: int, *, by: str | None = None) -> int:
    """ "Retry failed": put the campaign's failed sends back in the queue, except those
    whose customer is no longer subscribed (they would only fail again); returns how many."""
    with transaction(con) as cur:
        rows = cur.execute(
            f"""
            UPDATE campaign_sends
            SET status = 'Queued', sent_at = NULL, claimed_at = NULL, failure_reason = NULL,
                delivery_by = $by
            WHERE campaign_id = $campaign AND status = 'Failed'
              AND customer_id IN (SELECT id FROM customers WHERE {_MAY_EMAIL})
            RETURNING customer_id
            """,  # noqa: S608 - crm.consent's allow-list
            {"campaign": campaign_id, "by": by},
        ).fetchall()
        # A failed send counts in no figure, but refresh anyway: cheap, and exact.
        for (customer_id,) in rows:
            facts.refresh_engagement(cur, int(customer_id))
    return len(rows)


def release_interrupted(
    con: Con, campaign_id: int, *, stale: timedelta, by: str | None = None
) -> int:
    """Mark the campaign's sends left 'Sending' for longer than ``stale`` as not sent
    (back to Queued, so the next Send delivers them); returns how many.

    Only when a person asks: some of them may have reached the customer already.
    Sends claimed more recently are left alone (a sender may still be working).
    """
    with transaction(con) as cur:
        rows = cur.execute(
            """
            UPDATE campaign_sends
            SET status = 'Queued', claimed_at = NULL, delivery_by = $by
            WHERE campaign_id = $campaign AND status = 'Sending'
              AND (claimed_at < $cutoff OR claimed_at IS NULL)
            RETURNING id
            """,
            {"campaign": campaign_id, "cutoff": datetime.now() - stale, "by": by},
        ).fetchall()
    return len(rows)


# --- Personalised messages -----------------------------------------------------------


@dataclass(frozen=True)
class MessageOutcome:
    """How a personalised message ended: 'Sent', 'Failed' (with the reason) or 'Queued'."""

    status: str
    reason: str | None = None


MESSAGE_CLAIM = """
    UPDATE messages
    SET status = 'Sending', claimed_at = current_localtimestamp(), delivery_by = $by
    WHERE id = $id AND status = 'Queued'
    RETURNING customer_id, channel, subject, body
"""
_MESSAGE_SENT = """
    UPDATE messages
    SET status = 'Sent', delivered_at = current_localtimestamp(), failure_reason = NULL
    WHERE id = $id AND status = 'Sending'
"""
_MESSAGE_FAILED = """
    UPDATE messages SET status = 'Failed', failure_reason = $reason
    WHERE id = $id AND status = 'Sending'
"""
_MESSAGE_RELEASED = """
    UPDATE messages SET status = 'Queued', claimed_at = NULL
    WHERE id = $id AND status = 'Sending'
"""


_QUEUED_EMAILS = """
    SELECT id FROM messages
    WHERE customer_id = $customer_id AND channel = 'Email' AND status = 'Queued'
    ORDER BY id
"""


def queued_emails(con: Con, customer_id: int) -> list[int]:
    """The customer's personalised emails still Queued (written while delivery was not
    configured, or released after a crash), oldest first: sent later by ``deliver_message``."""
    rows = con.cursor().execute(_QUEUED_EMAILS, {"customer_id": customer_id}).fetchall()
    return [int(row[0]) for row in rows]


def message_subject(settings: SmtpSettings) -> str:
    """The subject of a personalised email written without one."""
    return f"A message from {settings.from_name}" if settings.from_name else "A personal message"


def deliver_message(
    con: Con,
    message_id: int,
    settings: SmtpSettings,
    *,
    by: str | None = None,
    connect: Connector = open_connection,
) -> MessageOutcome:
    """Deliver one queued personalised email (already merged when it was written).

    An SMS stays Queued (no provider). A message someone else already claimed
    or delivered is left as it is (a double click sends nothing twice).
    """
    try:
        with transaction(con) as cur:
            row = cur.execute(
                "SELECT channel, status, failure_reason FROM messages WHERE id = $id",
                {"id": message_id},
            ).fetchone()
            if row is None:
                raise NotFound("This message no longer exists.")
            if row[0] != "Email" or row[1] != "Queued":
                return MessageOutcome(str(row[1]), row[2])
            claimed = cur.execute(MESSAGE_CLAIM, {"id": message_id, "by": by}).fetchone()
    except duckdb.TransactionException:
        # Another connection claimed it at the same moment: it is theirs to send.
        return MessageOutcome("Sending")
    assert claimed is not None
    customer_id, _channel, subject, body = claimed
    failure: str | None
    attempted = False
    try:
        person = _customers(con, [int(customer_id)]).get(int(customer_id))
        if person is None:
            failure = "Not sent: the customer was deleted."
        elif not consent.may_contact("Email", person[1]):
            failure = UNSUBSCRIBED
        else:
            customer = person[0]
            try:
                message = build_email(
                    settings,
                    to_name=customer.name,
                    to_address=customer.email,
                    subject=str(subject) or message_subject(settings),
                    body=str(body),
                )
            except ValueError as problem:
                failure = f"Not sent: {problem}"
            else:
                batch = _Batch(con, settings, connect, RateLimit(settings.rate_limit))
                try:
                    batch.ensure_connection()
                    attempted = True
                    failure = batch.hand_over(message, customer.email)
                except ServerUnavailable as down:
                    failure = str(down)
                finally:
                    batch.close()
    except BaseException:
        if not attempted:
            with transaction(con) as cur:
                cur.execute(_MESSAGE_RELEASED, {"id": message_id})
        raise
    with transaction(con) as cur:
        if failure is None:
            cur.execute(_MESSAGE_SENT, {"id": message_id})
        else:
            cur.execute(_MESSAGE_FAILED, {"id": message_id, "reason": failure})
    return MessageOutcome("Sent", None) if failure is None else MessageOutcome("Failed", failure)
