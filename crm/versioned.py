"""Optimistic version checks that hold across app instances: one way for every record.

A write made on what someone saw says that version in its own WHERE clause
(``WHERE id = $id AND version = $version``), so a stale write matches no row,
whichever instance made the newer save, and the writing transaction is refused.

Every write of a versioned row (an edit, a rename, a delete) first claims it
(``claim``): a versioned in-place UPDATE checked by the row count DuckDB returns
for it, never ``... RETURNING``, then a delete-and-insert of the row as it is;
``_CLAIM`` says which DuckDB behaviour makes both necessary. The change itself
follows in the same transaction, by id.
tests/test_instances.py and tests/test_saved_segments.py hold another
transaction's write open on the row and check that ours is refused, for
customers, consent, segments and campaigns, on DuckDB 1.5.6 and 2.0.1.
"""

from __future__ import annotations

from typing import Literal

import duckdb

from crm.errors import ConflictError, CrmError, NotFound

Con = duckdb.DuckDBPyConnection
Table = Literal["customers", "segments", "campaigns"]

# One statement per table (an allow-list, not a formatted name): does the row still exist?
_EXISTS: dict[str, str] = {
    "customers": "SELECT 1 FROM customers WHERE id = $id",
    "segments": "SELECT 1 FROM segments WHERE id = $id",
    "campaigns": "SELECT 1 FROM campaigns WHERE id = $id",
}


# Before a DELETE, or an UPDATE of a UNIQUE-indexed column (a name), the row is
# claimed. DuckDB writes a row either in place (a plain UPDATE) or as a delete and
# an insert (a DELETE, an UPDATE ... RETURNING, an UPDATE of an indexed column),
# and sees a conflict between two uncommitted writes of one row only when both are
# of the same kind: measured on 1.5.6 and 2.0.1, a mixed pair both committed and one
# change was lost (tests/test_instances.py). A claim is one write of each kind: a
# versioned in-place UPDATE of the version (checked by its row count), then a
# delete-and-insert of the row as it is, so every other write conflicts with it.
_CLAIM: dict[str, tuple[str, str]] = {
    "customers": (
        "UPDATE customers SET version = version + 1"
        " WHERE id = $id AND version = coalesce($version, version)",
        "UPDATE customers SET version = version WHERE id = $id RETURNING id",
    ),
    "segments": (
        "UPDATE segments SET version = version + 1"
        " WHERE id = $id AND version = coalesce($version, version)",
        "UPDATE segments SET version = version WHERE id = $id RETURNING id",
    ),
    "campaigns": (
        "UPDATE campaigns SET version = version + 1"
        " WHERE id = $id AND version = coalesce($version, version)",
        "UPDATE campaigns SET version = version WHERE id = $id RETURNING id",
    ),
}


def _missing_or_changed(
    cur: Con, table: Table, row_id: int, *, gone: str, conflict: str
) -> CrmError:
    """Why a versioned write matched no row: the record is gone, or it moved on."""
    found = cur.execute(_EXISTS[table], {"id": row_id}).fetchone()
    return NotFound(gone) if found is None else ConflictError(conflict)


def claim(
    cur: Con, table: Table, row_id: int, version: int | None, *, gone: str, conflict: str
) -> int:
    """Make this transaction conflict with any other writing row ``row_id``: a
    versioned UPDATE that adds one to its version (from any version when ``version``
    is None), refused as a stale write is refused. Delete the row, or change its name,
    after it in the same transaction. Returns the new version (None: unknown, 0)."""
    in_place, delete_and_insert = _CLAIM[table]
    # No RETURNING on the versioned UPDATE (see _CLAIM): DuckDB returns the row count.
    changed = cur.execute(in_place, {"id": row_id, "version": version}).fetchone()
    if changed is None or int(changed[0]) != 1:
        raise _missing_or_changed(cur, table, row_id, gone=gone, conflict=conflict)
    cur.execute(delete_and_insert, {"id": row_id})
    return 0 if version is None else version + 1
