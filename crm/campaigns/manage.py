"""Changing a campaign on its page: rename, edit the message, delete.

Each write is one transaction that says in its WHERE clause which version it
was made on, so a stale write matches nothing and changes nothing (someone
renamed or edited it meanwhile: ``ConflictError``; deleted: ``NotFound``).
``by`` is who did it (None until sign-in exists), kept in ``updated_by``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from crm import templates
from crm.db import transaction
from crm.errors import ConflictError, ValidationFailed
from crm.models import CampaignMessageUpdate, CampaignRename
from crm.versioned import claim

Con = duckdb.DuckDBPyConnection
_LOG = logging.getLogger(__name__)

CAMPAIGN_CONFLICT = (
    "This campaign was changed by someone else since you opened it. "
    "Reload to see their changes, then try again."
)
CAMPAIGN_GONE = "This campaign no longer exists; someone may have deleted it."


@contextmanager
def _campaign_write(con: Con) -> Iterator[Con]:
    """A transaction whose write-write conflict with another one reads as a sentence."""
    try:
        with transaction(con) as cur:
            yield cur
    except duckdb.TransactionException as exc:
        raise ConflictError(CAMPAIGN_CONFLICT) from exc


def _claim(cur: Con, campaign_id: int, version: int) -> int:
    """The campaign read at ``version``, claimed for this transaction (crm.versioned)."""
    return claim(
        cur, "campaigns", campaign_id, version, gone=CAMPAIGN_GONE, conflict=CAMPAIGN_CONFLICT
    )


def rename_campaign(
    con: Con, campaign_id: int, data: CampaignRename, *, by: str | None = None
) -> int:
    """Give the campaign read at ``data.version`` a new name; returns the new version.
    A name another campaign of the channel has (in any case) is refused in words."""
    try:
        with _campaign_write(con) as cur:
            taken = cur.execute(
                """
                SELECT other.name FROM campaigns AS other, campaigns AS this
                WHERE this.id = $id AND other.id <> $id AND other.channel = this.channel
                  AND lower(other.name) = lower($name)
                """,
                {"id": campaign_id, "name": data.name},
            ).fetchone()
            if taken is not None:
                raise _name_taken(str(taken[0]))
            version = _claim(cur, campaign_id, data.version)
            cur.execute(
                """
                UPDATE campaigns
                SET name = $name, updated_at = current_localtimestamp(), updated_by = $by
                WHERE id = $id
                """,
                {"name": data.name, "by": by, "id": campaign_id},
            )
    except duckdb.ConstraintException:
        # Another transaction took the name between the check and the update.
        raise _name_taken(data.name) from None
    return version


def _name_taken(name: str) -> ValidationFailed:
    return ValidationFailed({"name": f"Another campaign of this channel is called “{name}”."})


def update_message(
    con: Con, campaign_id: int, data: CampaignMessageUpdate, *, by: str | None = None
) -> int:
    """Store a new subject and message for the campaign read at ``data.version``; returns
    the new version. A message with an unknown merge field or a stray bracket is refused
    (``crm.templates``), as is a subject with one. Sends already delivered keep what they got."""
    errors: dict[str, str] = {}
    for field, text in (("template", data.template), ("subject", data.subject)):
        if field == "subject" and not text:
            continue
        found = templates.problems(text, field="body" if field == "template" else "subject")
        if found:
            errors[field] = " ".join(found)
    if errors:
        raise ValidationFailed(errors)
    with _campaign_write(con) as cur:
        version = _claim(cur, campaign_id, data.version)
        cur.execute(
            """
            UPDATE campaigns
            SET subject = $subject, template = $template,
                updated_at = current_localtimestamp(), updated_by = $by
            WHERE id = $id
            """,
            {"subject": data.subject, "template": data.template, "by": by, "id": campaign_id},
        )
    return version


# The customers whose engagement figures (migration 006) count the campaign's
# sends, recounted from their remaining sends once those are gone.
_ENGAGEMENT_SQL = """
    UPDATE customers
    SET delivered_sends = e.delivered_sends,
        opened_sends = e.opened_sends,
        last_engaged_at = e.last_engaged_at
    FROM (
        SELECT m.customer_id,
               count(s.id) FILTER (WHERE s.status = 'Delivered') AS delivered_sends,
               count(s.id) FILTER (WHERE s.status = 'Delivered' AND s.opens > 0) AS opened_sends,
               max(s.sent_at) FILTER (WHERE s.opens > 0 OR s.clicks > 0) AS last_engaged_at
        FROM (SELECT UNNEST($members) AS customer_id) AS m
        LEFT JOIN campaign_sends s ON s.customer_id = m.customer_id
        GROUP BY m.customer_id
    ) AS e
    WHERE customers.id = e.customer_id
"""


def delete_campaign(con: Con, campaign_id: int, version: int, *, by: str | None = None) -> int:
    """Delete the campaign read at ``version`` with its sends and its additions; returns
    how many members it had. Its members' engagement figures are recounted in the same
    transaction. ConflictError when it changed since (nobody deletes what they have not
    seen), NotFound when it is already gone. ``by`` (who deleted it) goes to the log:
    no row is left to keep it."""
    with _campaign_write(con) as cur:
        _claim(cur, campaign_id, version)
        engaged = [
            int(r[0])
            for r in cur.execute(
                """
                SELECT customer_id FROM campaign_sends
                WHERE campaign_id = $id AND status = 'Delivered'
                """,
                {"id": campaign_id},
            ).fetchall()
        ]
        members = cur.execute(
            "DELETE FROM campaign_sends WHERE campaign_id = $id", {"id": campaign_id}
        ).fetchone()
        cur.execute("DELETE FROM campaign_additions WHERE campaign_id = $id", {"id": campaign_id})
        cur.execute("DELETE FROM campaigns WHERE id = $id", {"id": campaign_id})
        if engaged:
            cur.execute(_ENGAGEMENT_SQL, {"members": engaged})
    count = int(members[0]) if members else 0
    _LOG.info("Campaign %s deleted with %s members by %s", campaign_id, count, by or "someone")
    return count
