"""Several app instances on one database (issue 11): stale saves refused by the SQL
itself, and a change counter every instance's caches can read.

Two connections stand in for two instances. Two ``duckdb.connect`` calls on one
file in one process share one database instance (DuckDB keeps one per file),
but each has its own transactions, and a plain ``duckdb.connect`` writing plain
SQL never takes ``crm.db``'s process-wide write lock: what refuses a stale save
can only be the version in the write's own WHERE clause. Two processes cannot
have one local file open for writing at once (the second is refused its lock,
tests/test_db.py); one after the other they can, and that is tested too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from crm import catalogue, db, queries, writes
from crm.campaigns import manage
from crm.errors import ConflictError
from crm.models import (
    CampaignMessageUpdate,
    CampaignRename,
    ConsentChange,
    CustomerCreate,
    CustomerUpdate,
    SegmentCreate,
    SegmentFiltersUpdate,
    SegmentRename,
    parse,
)

ROOT = Path(__file__).resolve().parent.parent
PERSON: dict[str, Any] = {
    "first_name": "Ines",
    "last_name": "Twice",
    "email": "ines.twice@example.com",
    "city": "Porto",
}


def _row(con: duckdb.DuckDBPyConnection, cid: int) -> tuple[Any, ...]:
    row = con.execute(
        "SELECT first_name, city, version FROM customers WHERE id = $id", {"id": cid}
    ).fetchone()
    assert row is not None
    return tuple(row)


def _update(city: str, version: int) -> CustomerUpdate:
    return parse(CustomerUpdate, {**PERSON, "city": city, "version": version})


def test_a_stale_save_through_another_connection_changes_nothing(db_path: Path) -> None:
    first, second = db.connect(db_path), db.connect(db_path)
    try:
        cid = writes.create_customer(first, parse(CustomerCreate, PERSON))
        seen_by_first = queries.get_customer(first, cid)
        assert seen_by_first is not None and seen_by_first.version == 1
        assert writes.update_customer(second, cid, _update("Lisbon", 1)) == 2
        with pytest.raises(ConflictError):
            writes.update_customer(first, cid, _update("Faro", seen_by_first.version))
        with pytest.raises(ConflictError):
            writes.delete_customer(first, cid, seen_by_first.version)
        assert _row(first, cid) == _row(second, cid) == ("Ines", "Lisbon", 2)
    finally:
        first.close()
        second.close()


def test_the_sql_itself_refuses_a_save_the_python_check_let_through(
    con: duckdb.DuckDBPyConnection, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance saves between our version check and our UPDATE (its own
    lock is not ours): the check is made to pass, and the WHERE clause refuses."""
    cid = writes.create_customer(con, parse(CustomerCreate, PERSON))
    other = duckdb.connect(str(db_path))
    try:
        other.execute(
            "UPDATE customers SET city = 'Braga', version = version + 1 WHERE id = $id",
            {"id": cid},
        )
        monkeypatch.setattr(writes, "_current_version", lambda _cur, _cid: 1)
        with pytest.raises(ConflictError):
            writes.update_customer(con, cid, _update("Faro", 1))
        with pytest.raises(ConflictError):
            writes.delete_customer(con, cid, 1)
        assert _row(con, cid) == ("Ines", "Braga", 2)
        assert queries.count_all_customers(con) == queries.count_all_customers(other)
    finally:
        other.close()


def test_a_save_while_another_transaction_holds_the_row_is_refused(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """The other instance's UPDATE is a plain one (no RETURNING), as most writes are.
    DuckDB 1.5.6 and 2.0.1 then miss the conflict with a second UPDATE that rewrites
    an indexed column (email_key): both commit and the first is lost. So a save
    changes its row in place first (DuckDB sees that conflict) and email_key after."""
    cid = writes.create_customer(con, parse(CustomerCreate, PERSON))
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute(
            "UPDATE customers SET city = 'Braga', version = version + 1"
            " WHERE id = $id AND version = 1",
            {"id": cid},
        )
        with pytest.raises(ConflictError):
            writes.update_customer(con, cid, _update("Faro", 1))
        other.execute("COMMIT")
    finally:
        other.close()
    assert _row(con, cid) == ("Ines", "Braga", 2)


_SAVE_IN_ANOTHER_PROCESS = """
import sys
from crm import db, writes
from crm.models import CustomerUpdate, parse
con = db.connect(sys.argv[1])
person = {"first_name": "Ines", "last_name": "Twice", "email": "ines.twice@example.com"}
update = parse(CustomerUpdate, {**person, "city": sys.argv[3], "version": int(sys.argv[4])})
try:
    print(writes.update_customer(con, int(sys.argv[2]), update))
except Exception as problem:
    print(type(problem).__name__)
con.close()
"""


def _save_in_another_process(path: Path, cid: int, city: str, version: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _SAVE_IN_ANOTHER_PROCESS, str(path), str(cid), city, str(version)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_two_processes_one_after_the_other_never_overwrite_a_newer_save(db_path: Path) -> None:
    """DuckDB lets one process at a time open a local file for writing, so two
    instances on one file take turns: each one's stale save is still refused."""
    con = db.connect(db_path)
    cid = writes.create_customer(con, parse(CustomerCreate, PERSON))
    con.close()  # this instance stops; another one starts on the same file
    assert _save_in_another_process(db_path, cid, "Lisbon", 1) == "2"
    assert _save_in_another_process(db_path, cid, "Faro", 1) == "ConflictError"
    con = db.connect(db_path)
    try:
        with pytest.raises(ConflictError):
            writes.update_customer(con, cid, _update("Evora", 1))
        assert _row(con, cid) == ("Ines", "Lisbon", 2)
    finally:
        con.close()


# --- The change counter -------------------------------------------------------------------


def test_every_committed_write_counts_and_a_rolled_back_one_does_not(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    other = db.connect(db_path)
    try:
        before = db.change_count(con)
        cid = writes.create_customer(other, parse(CustomerCreate, PERSON))
        assert db.change_count(con) == before + 1  # seen through the other connection
        with pytest.raises(ConflictError):
            writes.update_customer(other, cid, _update("Faro", 7))
        assert db.change_count(con) == before + 1
        writes.update_customer(con, cid, _update("Faro", 1))
        assert db.change_count(other) == db.change_count(con) == before + 2
    finally:
        other.close()
    row = con.execute("SELECT count(*) FROM committed_changes").fetchone()
    assert row is not None and row[0] == before + 2


def test_counting_never_makes_two_instances_conflict(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """Two open transactions of two instances, on different customers, both commit:
    each adds a row of its own rather than both updating one counter row."""
    first = writes.create_customer(con, parse(CustomerCreate, PERSON))
    second = writes.create_customer(
        con, parse(CustomerCreate, {**PERSON, "email": "other.ines@example.com"})
    )
    before = db.change_count(con)
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute("UPDATE customers SET city = 'Braga' WHERE id = $id", {"id": second})
        other.execute("INSERT INTO committed_changes DEFAULT VALUES")  # as crm.db.transaction does
        writes.update_customer(con, first, _update("Faro", 1))
        other.execute("COMMIT")
    finally:
        other.close()
    assert db.change_count(con) == before + 2
    assert _row(con, first)[1:] == ("Faro", 2) and _row(con, second)[1] == "Braga"


def test_a_consent_change_while_another_transaction_holds_the_row_is_refused(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """The same DuckDB gap as for a profile save: the consent write, an UPDATE ...
    RETURNING, committed over another transaction's plain UPDATE of the row."""
    cid = writes.create_customer(con, parse(CustomerCreate, PERSON))
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute(
            "UPDATE customers SET city = 'Braga', version = version + 1"
            " WHERE id = $id AND version = 1",
            {"id": cid},
        )
        change = parse(ConsentChange, {"channel": "Email", "status": "Subscribed", "version": 1})
        with pytest.raises(ConflictError):
            writes.set_consent(con, cid, change)
        other.execute("COMMIT")
    finally:
        other.close()
    assert _row(con, cid) == ("Ines", "Braga", 2)


def test_a_campaign_renamed_by_another_instance_is_named_anew(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    """crm.catalogue keeps campaign names per change count, not per this process's writes."""
    campaign_id, name = next(iter(catalogue.catalogue(con).campaigns.items()))
    with duckdb.connect(str(db_path)) as other:
        other.execute(
            "UPDATE campaigns SET name = 'Renamed Elsewhere' WHERE id = $id", {"id": campaign_id}
        )
        assert catalogue.catalogue(con).campaigns[campaign_id] == name  # not counted: kept
        other.execute("INSERT INTO committed_changes DEFAULT VALUES")  # as crm.db.transaction does
    assert catalogue.catalogue(con).campaigns[campaign_id][0] == "Renamed Elsewhere"


# Every versioned write of a segment or a campaign, made on version 1 while another
# instance's transaction holds the row: each must be refused (they were UPDATE ...
# RETURNING until crm.versioned, which DuckDB let commit over the other change).
_SEGMENT_WRITES: dict[str, Any] = {
    "rename": lambda con, sid: writes.rename_segment(
        con, sid, parse(SegmentRename, {"name": "Mine", "version": 1})
    ),
    "new filters": lambda con, sid: writes.update_segment_filters(
        con, sid, parse(SegmentFiltersUpdate, {"filters": {"q": "mine"}, "version": 1})
    ),
    "delete": lambda con, sid: writes.delete_segment(con, sid, 1),
}
_CAMPAIGN_WRITES: dict[str, Any] = {
    "rename": lambda con, cid: manage.rename_campaign(
        con, cid, parse(CampaignRename, {"name": "Mine", "version": 1})
    ),
    "new message": lambda con, cid: manage.update_message(
        con, cid, parse(CampaignMessageUpdate, {"template": "Mine", "version": 1})
    ),
    "delete": lambda con, cid: manage.delete_campaign(con, cid, 1),
}


def _held_by_another_transaction(
    db_path: Path, update: str, row_id: int, write: Any, con: duckdb.DuckDBPyConnection
) -> None:
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute(update, {"id": row_id})
        with pytest.raises(ConflictError):
            write(con, row_id)
        other.execute("COMMIT")
    finally:
        other.close()


@pytest.mark.parametrize("what", sorted(_SEGMENT_WRITES))
def test_a_segment_write_while_another_transaction_holds_the_row_is_refused(
    con: duckdb.DuckDBPyConnection, db_path: Path, what: str
) -> None:
    sid = writes.create_segment(con, parse(SegmentCreate, {"name": "Theirs", "filters": {}}))
    update = (
        "UPDATE segments SET description = 'theirs', version = version + 1"
        " WHERE id = $id AND version = 1"
    )
    _held_by_another_transaction(db_path, update, sid, _SEGMENT_WRITES[what], con)
    row = con.execute(
        "SELECT name, description, version FROM segments WHERE id = $id", {"id": sid}
    ).fetchone()
    assert row == ("Theirs", "theirs", 2)


@pytest.mark.parametrize("what", sorted(_CAMPAIGN_WRITES))
def test_a_campaign_write_while_another_transaction_holds_the_row_is_refused(
    con: duckdb.DuckDBPyConnection, db_path: Path, what: str
) -> None:
    row = con.execute("SELECT id, name, template FROM campaigns ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    cid, name, template = row
    con.execute("UPDATE campaigns SET version = 1 WHERE id = $id", {"id": cid})
    update = (
        "UPDATE campaigns SET subject = 'theirs', version = version + 1"
        " WHERE id = $id AND version = 1"
    )
    _held_by_another_transaction(db_path, update, cid, _CAMPAIGN_WRITES[what], con)
    after = con.execute(
        "SELECT name, template, subject, version FROM campaigns WHERE id = $id", {"id": cid}
    ).fetchone()
    assert after == (name, template, "theirs", 2)


@pytest.mark.parametrize("what", sorted(_SEGMENT_WRITES))
def test_a_segment_write_while_another_transaction_deletes_it_is_refused(
    con: duckdb.DuckDBPyConnection, db_path: Path, what: str
) -> None:
    """A DELETE is a delete-and-insert to DuckDB, which an in-place UPDATE alone does
    not conflict with: our write committed, theirs too, and ours was gone."""
    sid = writes.create_segment(con, parse(SegmentCreate, {"name": "Theirs", "filters": {}}))
    delete = "DELETE FROM segments WHERE id = $id"
    _held_by_another_transaction(db_path, delete, sid, _SEGMENT_WRITES[what], con)
    assert con.execute("SELECT count(*) FROM segments WHERE id = $id", {"id": sid}).fetchone() == (
        0,
    )
