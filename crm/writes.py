"""Writes: each validated by a model first, each one transaction.

Profile edits use optimistic concurrency: the editor sends the ``version`` it
read, and the UPDATE only matches while that version is still current.
DuckDB's own write-write conflicts (two sessions touching one row at once)
surface as the same ``ConflictError``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import duckdb

from crm import consent, facts, search
from crm.campaigns import facts as campaign_facts
from crm.db import transaction
from crm.errors import ConflictError, DuplicateError, NotFound, ValidationFailed
from crm.models import (
    CampaignCreate,
    Channel,
    ConsentChange,
    ConsentStatus,
    CustomerBase,
    CustomerCreate,
    CustomerUpdate,
    MessageCreate,
    OrderCreate,
    SegmentCreate,
    SegmentFiltersUpdate,
    SegmentRename,
)
from crm.saved_segments import copy_name, encode_filters
from crm.scores import rescore_customer
from crm.versioned import claim

Con = duckdb.DuckDBPyConnection

_LOG = logging.getLogger("crm.writes")
CONFLICT_MESSAGE = (
    "This customer was changed by someone else since you opened it. "
    "Reload to see their changes, then edit again."
)
DUPLICATE_EMAIL = "Email: another customer already uses this address."


@contextmanager
def _write(con: Con) -> Iterator[Con]:
    """A transaction whose DuckDB errors become sentences."""
    try:
        with transaction(con) as cur:
            yield cur
    except duckdb.ConstraintException as exc:
        if "email_key" in str(exc):
            raise ValidationFailed({"email": DUPLICATE_EMAIL}) from None
        raise
    except duckdb.TransactionException as exc:
        raise ConflictError(CONFLICT_MESSAGE) from exc


def search_text_of(first_name: str, last_name: str, email: str) -> str:
    """What a search matches a customer by (``customers.search_text``)."""
    return f"{first_name} {last_name} {email}".lower()


def _profile_params(data: CustomerBase) -> dict[str, str]:
    """The profile's named parameters for an INSERT or UPDATE of a customer, with the
    search text they give (its signature is computed from $search_text in SQL)."""
    return {
        "first_name": data.first_name,
        "last_name": data.last_name,
        "email": data.email,
        "phone": data.phone,
        "street": data.street,
        "city": data.city,
        "state": data.state,
        "zip": data.zip,
        "country": data.country,
        "search_text": search_text_of(data.first_name, data.last_name, data.email),
    }


def _email_taken(cur: Con, email_key: str, except_id: int | None = None) -> bool:
    # The email alone, so DuckDB looks it up in the UNIQUE index; with
    # "AND id <> ?" it scanned every email (30 ms at a million customers).
    owners = cur.execute("SELECT id FROM customers WHERE email_key = ?", [email_key]).fetchall()
    return any(owner != except_id for (owner,) in owners)


def create_customer(con: Con, data: CustomerCreate, *, by: str | None = None) -> int:
    """Add a customer; returns the new id. A used email is refused in words.
    ``by`` (here and in every write below) is who did it: the signed-in person."""
    email_key = data.email.lower()
    with _write(con) as cur:
        if _email_taken(cur, email_key):
            raise ValidationFailed({"email": DUPLICATE_EMAIL})
        row = cur.execute(
            f"""
            INSERT INTO customers (first_name, last_name, email, email_key, phone, street,
                                   city, state, zip, country, search_text, search_sig,
                                   created_by, updated_by)
            VALUES ($first_name, $last_name, $email, $email_key, $phone, $street, $city,
                    $state, $zip, $country, $search_text, {search.SIGNATURE_OF_PARAMETER},
                    $by, $by)
            RETURNING id
            """,  # noqa: S608 - a module constant
            {**_profile_params(data), "email_key": email_key, "by": by},
        ).fetchone()
        assert row is not None
        _initial_consent(cur, int(row[0]), data)
    return int(row[0])


def _initial_consent(cur: Con, customer_id: int, data: CustomerCreate) -> None:
    """The consent given on the Add form, dated now; "Not asked" stays undated."""
    if data.email_consent is data.sms_consent is ConsentStatus.NOT_ASKED:
        return
    cur.execute(
        """
        UPDATE customers SET
            email_consent = $email,
            email_consent_at = CASE WHEN $email <> 'Not asked' THEN current_localtimestamp() END,
            sms_consent = $sms,
            sms_consent_at = CASE WHEN $sms <> 'Not asked' THEN current_localtimestamp() END
        WHERE id = $id
        """,
        {"email": data.email_consent.value, "sms": data.sms_consent.value, "id": customer_id},
    )


CUSTOMER_GONE = "This customer no longer exists; someone may have deleted them."


def _current_version(cur: Con, customer_id: int) -> int:
    row = cur.execute("SELECT version FROM customers WHERE id = ?", [customer_id]).fetchone()
    if row is None:
        raise NotFound(CUSTOMER_GONE)
    return int(row[0])


def _sms_needs_stored_phone(cur: Con, customer_id: int) -> bool:
    """Whether the customer is subscribed to SMS with the phone number now stored.

    Read from the stored row in the edit's transaction: the form holds no consent,
    and the edit's claim makes a consent write racing it conflict, so a subscribe
    and a removal cannot both commit. A subscriber already without a number
    (written before this check) is not held to it: their edit removes nothing,
    and the Marketing panel can unsubscribe them.
    """
    stored = consent.customer_consent(cur, customer_id)
    return stored.sms.status == consent.SUBSCRIBED and bool(stored.phone.strip())


PHONE_NEEDED_FOR_SMS = (
    "Phone: this customer is subscribed to SMS marketing. Unsubscribe them from SMS "
    "(under Marketing on their page) before removing the phone number."
)


def update_customer(
    con: Con, customer_id: int, data: CustomerUpdate, *, by: str | None = None
) -> int:
    """Save an edit made on ``data.version``; returns the new version.

    Raises ConflictError when someone saved in between, NotFound when the
    customer was deleted, ValidationFailed for an email another customer has
    or for removing the phone number of a customer subscribed to SMS.
    """
    email_key = data.email.lower()
    with _write(con) as cur:
        if _current_version(cur, customer_id) != data.version:
            raise ConflictError(CONFLICT_MESSAGE)
        errors: dict[str, str] = {}
        if _email_taken(cur, email_key, except_id=customer_id):
            errors["email"] = DUPLICATE_EMAIL
        if not data.phone and _sms_needs_stored_phone(cur, customer_id):
            errors["phone"] = PHONE_NEEDED_FOR_SMS
        if errors:
            raise ValidationFailed(errors)
        version = claim(
            cur,
            "customers",
            customer_id,
            data.version,
            gone=CUSTOMER_GONE,
            conflict=CONFLICT_MESSAGE,
        )
        cur.execute(
            f"""
            UPDATE customers
            SET first_name = $first_name, last_name = $last_name, email = $email,
                phone = $phone, street = $street, city = $city, state = $state, zip = $zip,
                country = $country, search_text = $search_text,
                search_sig = {search.SIGNATURE_OF_PARAMETER},
                updated_at = current_localtimestamp(), updated_by = $by
            WHERE id = $id
            """,  # noqa: S608 - a module constant
            {**_profile_params(data), "by": by, "id": customer_id},
        )
        cur.execute(
            "UPDATE customers SET email_key = $key WHERE id = $id AND email_key <> $key",
            {"key": email_key, "id": customer_id},
        )
    return version


def delete_customer(
    con: Con, customer_id: int, version: int | None = None, *, by: str | None = None
) -> None:
    """Delete a customer with their orders, items, visits, sends and messages.

    With ``version``, refuse (ConflictError) if the customer changed since it
    was read, so nobody deletes a record they have not seen: the customer's own
    DELETE says the version in its WHERE clause, so the check holds whichever
    app instance made the newer save (the children's rows go back with it).
    ``by`` is logged: no row is left to keep it.
    """
    _LOG.info("Customer %s deleted by %s", customer_id, by or "someone (no sign-in)")
    with _write(con) as cur:
        claim(cur, "customers", customer_id, version, gone=CUSTOMER_GONE, conflict=CONFLICT_MESSAGE)
        bought = facts.products_of_customer(cur, customer_id)
        for sql in (
            "DELETE FROM order_items WHERE customer_id = ?",
            "DELETE FROM orders WHERE customer_id = ?",
            "DELETE FROM visits WHERE customer_id = ?",
            "DELETE FROM campaign_sends WHERE customer_id = ?",
            "DELETE FROM messages WHERE customer_id = ?",
        ):
            cur.execute(sql, [customer_id])
        cur.execute("DELETE FROM customers WHERE id = $id", {"id": customer_id})
        facts.refresh_purchases(cur, customer_id, bought)
        facts.refresh_months(cur, customer_id)


def set_avatar(
    con: Con, customer_id: int, image: bytes, mime_type: str, *, by: str | None = None
) -> None:
    """Store an already validated and re-encoded picture (see crm.avatars)."""
    with _write(con) as cur:
        _current_version(cur, customer_id)
        cur.execute(
            "UPDATE customers SET avatar = ?, avatar_type = ?,"
            " updated_at = current_localtimestamp(), updated_by = ? WHERE id = ?",
            [image, mime_type, by, customer_id],
        )


def remove_avatar(con: Con, customer_id: int, *, by: str | None = None) -> None:
    with _write(con) as cur:
        _current_version(cur, customer_id)
        cur.execute(
            "UPDATE customers SET avatar = NULL, avatar_type = NULL,"
            " updated_at = current_localtimestamp(), updated_by = ? WHERE id = ?",
            [by, customer_id],
        )


NO_PHONE_FOR_SMS = "Add a phone number first: SMS marketing needs one to subscribe."


def set_consent(con: Con, customer_id: int, data: ConsentChange, *, by: str | None = None) -> int:
    """Set the customer's marketing consent on one channel, as read at ``data.version``;
    returns the new version. See ``set_consents``."""
    return set_consents(con, customer_id, [data], by=by)


def set_consents(
    con: Con, customer_id: int, changes: Sequence[ConsentChange], *, by: str | None = None
) -> int:
    """Set the customer's marketing consent on one or more channels, all read at the
    same version, in one transaction; returns the new version.

    The date (``..._at``) and who (``..._by``) change only where the status
    does: a status already stored is not written again (a double click, or
    someone else set the same) and keeps the day it was set; with nothing to
    change, nothing is written. ConflictError when the customer changed since
    it was read, NotFound when deleted, ValidationFailed for SMS consent
    without a phone number (and nothing is written).
    """
    if len({change.version for change in changes}) > 1:
        raise ValueError("every change must be made on the same version")
    with _write(con) as cur:
        current = consent.customer_consent(cur, customer_id)
        wanted = [c for c in changes if _stored_status(current, c.channel) != c.status.value]
        if not wanted:
            return current.version
        version = wanted[0].version
        if current.version != version:
            raise ConflictError(CONFLICT_MESSAGE)
        for change in wanted:
            if (
                change.channel == Channel.SMS.value
                and change.status is ConsentStatus.SUBSCRIBED
                and not current.phone.strip()
            ):
                raise ValidationFailed({"status": NO_PHONE_FOR_SMS})
        for change in wanted:
            version = _write_consent(cur, customer_id, change, version, by)
    return version


def _stored_status(current: consent.Consent, channel: str) -> str | None:
    stored = current.channel(channel)
    return None if stored is None else stored.status


def _write_consent(
    cur: Con, customer_id: int, change: ConsentChange, version: int, by: str | None
) -> int:
    status_column = consent.CONSENT_COLUMNS[change.channel]
    at_column = consent.CHANGED_AT_COLUMNS[change.channel]
    by_column = consent.CHANGED_BY_COLUMNS[change.channel]
    version = claim(
        cur, "customers", customer_id, version, gone=CUSTOMER_GONE, conflict=CONFLICT_MESSAGE
    )
    cur.execute(
        f"""
        UPDATE customers
        SET {status_column} = $status, {at_column} = current_localtimestamp(),
            {by_column} = $by, updated_at = current_localtimestamp()
        WHERE id = $id
        """,  # noqa: S608 - columns from crm.consent's allow-lists
        {"status": change.status.value, "by": by, "id": customer_id},
    )
    return version


def _campaign_named(cur: Con, channel: str, name: str) -> str | None:
    """The name, as stored, of the ``channel`` campaign called ``name`` in any case."""
    row = cur.execute(
        "SELECT name FROM campaigns WHERE channel = $channel AND lower(name) = lower($name)",
        {"channel": channel, "name": name},
    ).fetchone()
    return None if row is None else str(row[0])


def _queue_send(cur: Con, campaign_id: int, customer_id: int, by: str | None) -> int:
    row = cur.execute(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status, added_by)"
        " VALUES (?, ?, 'Queued', ?) RETURNING id",
        [campaign_id, customer_id, by],
    ).fetchone()
    assert row is not None
    return int(row[0])


def create_campaign(
    con: Con, data: CampaignCreate, *, first_member: int | None = None, by: str | None = None
) -> int:
    """Create a campaign, with ``first_member`` queued in the same transaction; returns its id.

    A name another campaign of the channel has (in any case) is refused in
    words; so is an unknown ``first_member`` (NotFound), leaving no campaign behind.
    """
    with _write(con) as cur:
        if first_member is not None:
            consent.check_may_contact(cur, first_member, data.channel)
        campaign_id = insert_campaign(cur, data, by=by)
        if first_member is not None:
            _queue_send(cur, campaign_id, first_member, by)
    return campaign_id


def insert_campaign(cur: Con, data: CampaignCreate, *, by: str | None = None) -> int:
    """Create the campaign in the caller's transaction; returns its id. A name another
    campaign of the channel has (in any case) is refused in words."""
    channel = data.channel.value
    existing = _campaign_named(cur, channel, data.name)
    if existing is not None:
        raise ValidationFailed(
            {"name": f"There is already an {channel} campaign called “{existing}”."}
        )
    row = cur.execute(
        "INSERT INTO campaigns (name, channel, template, subject, created_by, updated_by)"
        " VALUES ($name, $channel, $template, $subject, $by, $by) RETURNING id",
        {
            "name": data.name,
            "channel": channel,
            "template": data.template,
            "subject": data.subject,
            "by": by,
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


def add_to_campaign(con: Con, campaign_id: int, customer_id: int, *, by: str | None = None) -> int:
    """Queue the campaign for the customer; returns the send's id.

    Raises DuplicateError when the customer is already in the campaign, and
    ValidationFailed (saying why) when they have not subscribed to its channel.
    """
    with _write(con) as cur:
        _current_version(cur, customer_id)
        campaign = cur.execute(
            "SELECT name, channel FROM campaigns WHERE id = ?", [campaign_id]
        ).fetchone()
        if campaign is None:
            raise NotFound("That campaign no longer exists.")
        consent.check_may_contact(cur, customer_id, str(campaign[1]))
        exists = cur.execute(
            "SELECT 1 FROM campaign_sends WHERE campaign_id = ? AND customer_id = ?",
            [campaign_id, customer_id],
        ).fetchone()
        if exists:
            raise DuplicateError(f"This customer is already in the campaign “{campaign[0]}”.")
        return _queue_send(cur, campaign_id, customer_id, by)


def record_message(
    con: Con, customer_id: int, data: MessageCreate, *, by: str | None = None
) -> int:
    """Put a personalised message in the outbox; returns its id. ValidationFailed
    (saying why) when the customer has not subscribed to the message's channel."""
    with _write(con) as cur:
        consent.check_may_contact(cur, customer_id, data.channel)
        row = cur.execute(
            "INSERT INTO messages (customer_id, channel, subject, body, sent_by)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [customer_id, data.channel, data.subject, data.body, by],
        ).fetchone()
    assert row is not None
    return int(row[0])


def _refresh_figures(cur: Con, customer_id: int) -> None:
    """Recompute one customer's figures from their own rows (index lookups only).

    The order figures feed the customer's scores (crm.scores), so a new, edited
    or deleted order changes them, and the stored RFM group, in the same transaction.
    """
    cur.execute(
        """
        UPDATE customers SET
            total_spending = (SELECT coalesce(sum(amount), 0) FROM orders WHERE customer_id = $id),
            order_count = (SELECT count(*) FROM orders WHERE customer_id = $id),
            first_order_at = (SELECT min(ordered_at) FROM orders WHERE customer_id = $id),
            last_order_at = (SELECT max(ordered_at) FROM orders WHERE customer_id = $id),
            visit_count = (SELECT count(*) FROM visits WHERE customer_id = $id),
            last_visit = (SELECT max(visited_at) FROM visits WHERE customer_id = $id)
        WHERE id = $id
        """,
        {"id": customer_id},
    )
    rescore_customer(cur, customer_id)
    # Campaign results count orders within 14 days of each send (crm.campaigns.facts).
    campaign_facts.refresh_customer(cur, customer_id)


def _insert_items(cur: Con, order_id: int, customer_id: int, data: OrderCreate) -> Decimal:
    cur.executemany(
        "INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price)"
        " VALUES (?, ?, ?, ?, ?)",
        [[order_id, customer_id, i.product_id, i.quantity, i.unit_price] for i in data.items],
    )
    return sum((i.unit_price * i.quantity for i in data.items), Decimal(0))


def _check_products(cur: Con, data: OrderCreate) -> None:
    ids = sorted({i.product_id for i in data.items})
    row = cur.execute("SELECT count(*) FROM products WHERE list_contains(?, id)", [ids]).fetchone()
    if row is None or int(row[0]) != len(ids):
        raise ValidationFailed({"product_id": "Product: one of the items is not in the catalogue."})


def add_order(con: Con, customer_id: int, data: OrderCreate, *, by: str | None = None) -> int:
    """Record an order (and the visit it was placed in); returns the order id."""
    with _write(con) as cur:
        _current_version(cur, customer_id)
        _check_products(cur, data)
        row = cur.execute(
            "INSERT INTO orders (customer_id, ordered_at, amount, created_by, updated_by)"
            " VALUES (?, ?, 0, ?, ?) RETURNING id",
            [customer_id, data.ordered_at, by, by],
        ).fetchone()
        assert row is not None
        order_id = int(row[0])
        amount = _insert_items(cur, order_id, customer_id, data)
        cur.execute("UPDATE orders SET amount = ? WHERE id = ?", [amount, order_id])
        cur.execute(
            "INSERT INTO visits (customer_id, visited_at, channel, order_id) VALUES (?, ?, ?, ?)",
            [customer_id, data.ordered_at, data.channel, order_id],
        )
        _refresh_figures(cur, customer_id)
        facts.refresh_purchases(cur, customer_id, {i.product_id for i in data.items})
        facts.refresh_months(cur, customer_id)
    return order_id


def _order_owner(cur: Con, order_id: int) -> int:
    row = cur.execute("SELECT customer_id FROM orders WHERE id = ?", [order_id]).fetchone()
    if row is None:
        raise NotFound("This order no longer exists.")
    return int(row[0])


def update_order(con: Con, order_id: int, data: OrderCreate, *, by: str | None = None) -> None:
    """Replace an order's items and date; its amount and the figures follow."""
    with _write(con) as cur:
        customer_id = _order_owner(cur, order_id)
        _check_products(cur, data)
        changed = facts.products_of_order(cur, order_id) | {i.product_id for i in data.items}
        cur.execute("DELETE FROM order_items WHERE order_id = ?", [order_id])
        amount = _insert_items(cur, order_id, customer_id, data)
        cur.execute(
            "UPDATE orders SET amount = ?, ordered_at = ?, updated_by = ? WHERE id = ?",
            [amount, data.ordered_at, by, order_id],
        )
        cur.execute(
            "UPDATE visits SET visited_at = ?, channel = ? WHERE order_id = ?",
            [data.ordered_at, data.channel, order_id],
        )
        _refresh_figures(cur, customer_id)
        facts.refresh_purchases(cur, customer_id, changed)
        facts.refresh_months(cur, customer_id)


def delete_order(con: Con, order_id: int) -> None:
    """Delete an order with its items and its visit."""
    with _write(con) as cur:
        customer_id = _order_owner(cur, order_id)
        bought = facts.products_of_order(cur, order_id)
        cur.execute("DELETE FROM order_items WHERE order_id = ?", [order_id])
        cur.execute("DELETE FROM visits WHERE order_id = ?", [order_id])
        cur.execute("DELETE FROM orders WHERE id = ?", [order_id])
        _refresh_figures(cur, customer_id)
        facts.refresh_purchases(cur, customer_id, bought)
        facts.refresh_months(cur, customer_id)


def record_visit(con: Con, customer_id: int, visited_at: datetime, channel: str = "web") -> int:
    """A visit without a purchase; returns its id."""
    if channel not in {"store", "web"}:
        raise ValidationFailed({"channel": "Channel must be store or web."})
    with _write(con) as cur:
        _current_version(cur, customer_id)
        row = cur.execute(
            "INSERT INTO visits (customer_id, visited_at, channel) VALUES (?, ?, ?) RETURNING id",
            [customer_id, visited_at, channel],
        ).fetchone()
        assert row is not None
        _refresh_figures(cur, customer_id)
    return int(row[0])


# --- Saved segments ------------------------------------------------------------------
#
# Every change says in its own WHERE clause which version it was made on
# ("WHERE id = $id AND version = $version"): a stale write matches no row and
# changes nothing, whichever connection or process made the newer one, so the
# check does not depend on this process's write lock (issue 11: several app
# instances on one database). A write racing another one's open transaction
# is refused by DuckDB itself (TransactionException, tests/test_saved_segments.py).

SEGMENT_CONFLICT = (
    "This segment was changed by someone else since you opened it. "
    "Reload to see their changes, then try again."
)
SEGMENT_GONE = "This segment no longer exists; someone may have deleted it."


def _segment_name_taken(name: str) -> ValidationFailed:
    return ValidationFailed({"name": f"There is already a segment called “{name}”."})


@contextmanager
def _segment_write(con: Con, name: str | None = None) -> Iterator[Con]:
    """A transaction whose DuckDB errors become the segment's sentences: the
    unique name index refusing ``name`` (when another transaction saved it
    first, DuckDB says so at COMMIT, as a TransactionException), and a
    write-write conflict with another transaction."""
    try:
        with transaction(con) as cur:
            yield cur
    except duckdb.ConstraintException as exc:
        if name is None or not _duplicate_key(exc):
            raise
        raise _segment_name_taken(name) from None
    except duckdb.TransactionException as exc:
        if name is not None and _duplicate_key(exc):
            raise _segment_name_taken(name) from None
        raise ConflictError(SEGMENT_CONFLICT) from exc


def _duplicate_key(error: duckdb.Error) -> bool:
    # DuckDB's words for a unique index refusing a row: 'Duplicate key "lower(name):
    # vip" violates unique constraint' at the INSERT, or '... constraint violation:
    # duplicate key "vip"' at COMMIT. The id comes from a sequence, so it is the name.
    return "duplicate key" in str(error).lower()


def _check_segment_name(cur: Con, name: str, segment_id: int | None = None) -> None:
    """Refuse ``name`` when another segment has it in any case (quoting that one's name)."""
    rows = cur.execute(
        "SELECT id, name FROM segments WHERE lower(name) = lower($name)", {"name": name}
    ).fetchall()
    for owner, existing in rows:
        if owner != segment_id:
            raise _segment_name_taken(str(existing))


def create_segment(con: Con, data: SegmentCreate, *, by: str | None = None) -> int:
    """Save filters under a new name; returns the segment's id.

    A name another segment has in any case is refused in words and nothing
    is written. ``by`` is who saved it (None until sign-in exists).
    """
    with _segment_write(con, data.name) as cur:
        _check_segment_name(cur, data.name)
        row = cur.execute(
            """
            INSERT INTO segments (name, description, filters, created_by, updated_by)
            VALUES ($name, $description, $filters, $by, $by)
            RETURNING id
            """,
            {
                "name": data.name,
                "description": data.description,
                "filters": encode_filters(data.filters),
                "by": by,
            },
        ).fetchone()
    assert row is not None
    return int(row[0])


def rename_segment(con: Con, segment_id: int, data: SegmentRename, *, by: str | None = None) -> int:
    """Give a segment read at ``data.version`` a new name (and description, when
    given); returns the new version. ConflictError when it changed since,
    NotFound when it was deleted, ValidationFailed for a name another segment has."""
    with _segment_write(con, data.name) as cur:
        _check_segment_name(cur, data.name, segment_id)
        version = claim(
            cur, "segments", segment_id, data.version, gone=SEGMENT_GONE, conflict=SEGMENT_CONFLICT
        )
        cur.execute(
            """
            UPDATE segments
            SET name = $name, description = coalesce($description, description),
                updated_at = current_localtimestamp(), updated_by = $by
            WHERE id = $id
            """,
            {"name": data.name, "description": data.description, "by": by, "id": segment_id},
        )
    return version


def update_segment_filters(
    con: Con, segment_id: int, data: SegmentFiltersUpdate, *, by: str | None = None
) -> int:
    """Make a segment read at ``data.version`` keep ``data.filters`` (the overview's
    current ones); returns the new version. ConflictError or NotFound as for a rename."""
    with _segment_write(con) as cur:
        version = claim(
            cur, "segments", segment_id, data.version, gone=SEGMENT_GONE, conflict=SEGMENT_CONFLICT
        )
        cur.execute(
            """
            UPDATE segments
            SET filters = $filters, updated_at = current_localtimestamp(), updated_by = $by
            WHERE id = $id
            """,
            {"filters": encode_filters(data.filters), "by": by, "id": segment_id},
        )
    return version


def duplicate_segment(con: Con, segment_id: int, *, by: str | None = None) -> int:
    """Copy a segment as it is now under the first free "Name (copy)", "Name (copy 2)", ...;
    returns the copy's id. No version: a copy changes nothing of the original."""
    with _segment_write(con) as cur:
        original = cur.execute(
            "SELECT name, description, filters FROM segments WHERE id = $id", {"id": segment_id}
        ).fetchone()
        if original is None:
            raise NotFound(SEGMENT_GONE)
        name, description, filters = original
        # Every name: saved segments are a list people keep by hand (tens,
        # not thousands), and DuckDB's lower() must decide what is taken,
        # as it does for the unique index.
        taken = {str(n) for (n,) in cur.execute("SELECT lower(name) FROM segments").fetchall()}
        row = cur.execute(
            """
            INSERT INTO segments (name, description, filters, created_by, updated_by)
            VALUES ($name, $description, $filters, $by, $by)
            RETURNING id
            """,
            {
                "name": copy_name(str(name), taken),
                "description": description,
                "filters": filters,
                "by": by,
            },
        ).fetchone()
    assert row is not None
    return int(row[0])


def delete_segment(con: Con, segment_id: int, version: int, *, by: str | None = None) -> None:
    """Delete a segment read at ``version``; ConflictError when it changed since
    (nobody deletes what they have not seen), NotFound when it is already gone."""
    with _segment_write(con) as cur:
        claim(cur, "segments", segment_id, version, gone=SEGMENT_GONE, conflict=SEGMENT_CONFLICT)
        cur.execute("DELETE FROM segments WHERE id = $id", {"id": segment_id})
