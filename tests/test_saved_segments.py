"""Saved segments (issue 9): the segments table, its validated writes with their
version check, the reads, ``?segment=`` ids, and live sizes, on the seeded database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from crm import db, queries, saved_segments, writes
from crm.errors import ConflictError, NotFound, ValidationFailed
from crm.models import (
    CustomerCreate,
    CustomerFilter,
    LastVisit,
    OrderCreate,
    SavedSegment,
    SegmentCreate,
    SegmentFiltersUpdate,
    SegmentRename,
    SortKey,
    parse,
)
from crm.segments import filter_from_params, without_page

Con = duckdb.DuckDBPyConnection
NOW = datetime.now()
LAPSED = {"last": "older", "days": "90", "spend_min": "100"}


def _create(con: Con, name: str, filters: dict[str, Any] | None = None, **extra: Any) -> int:
    data = {"name": name, "filters": LAPSED if filters is None else filters, **extra}
    return writes.create_segment(con, parse(SegmentCreate, data))


def _rows(con: Con) -> list[tuple[Any, ...]]:
    """Every stored column of every segment, to show a refused write changed nothing."""
    return con.execute("SELECT * FROM segments ORDER BY id").fetchall()


def _segment(con: Con, segment_id: int) -> SavedSegment:
    segment = saved_segments.get_segment(con, segment_id)
    assert segment is not None
    return segment


def _rename(name: str, version: int, description: str | None = None) -> SegmentRename:
    data = {"name": name, "version": version}
    return parse(
        SegmentRename, data if description is None else {**data, "description": description}
    )


def _refilter(filters: dict[str, Any], version: int) -> SegmentFiltersUpdate:
    return parse(SegmentFiltersUpdate, {"filters": filters, "version": version})


# --- The table --------------------------------------------------------------------


def test_the_migration_adds_the_table_to_a_database_made_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    before_005 = [m for m in db.migrations() if m[0] < 5]
    with monkeypatch.context() as old_code:
        old_code.setattr(db, "migrations", lambda: before_005)
        db.connect(path).close()
    raw = duckdb.connect(str(path))
    assert raw.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'segments'"
    ).fetchone() == (0,)
    raw.close()
    con = db.connect(path)
    assert (5, "005_segments.sql") in con.execute(
        "SELECT version, name FROM schema_migrations"
    ).fetchall()
    assert _create(con, "Lapsed") == 1
    con.close()


def test_the_database_itself_refuses_a_name_in_another_case(con: Con) -> None:
    _create(con, "Big spenders")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO segments (name) VALUES ('BIG SPENDERS')")


# --- Create, list, get ------------------------------------------------------------


def test_create_then_list_and_get(con: Con) -> None:
    before = datetime.now() - timedelta(seconds=1)
    lapsed = _create(
        con,
        "  Lapsed coffee buyers ",
        {**LAPSED, "page": "3", "nonsense": "1"},
        description="Spent $100+, nothing in 90 days.",
    )
    vip = writes.create_segment(
        con,
        parse(SegmentCreate, {"name": "big spenders", "filters": {"spend_min": "1000"}}),
        by="ana@example.com",
    )
    assert lapsed != vip
    listed = saved_segments.list_segments(con)
    assert [(s.id, s.name) for s in listed] == [
        (vip, "big spenders"),
        (lapsed, "Lapsed coffee buyers"),
    ]
    got = _segment(con, lapsed)
    assert got == listed[1]
    assert got.description == "Spent $100+, nothing in 90 days."
    # Stored as the overview reads a link: the page and unknown names left out.
    assert got.filters == {"spend_min": "100", "last": "older", "days": "90"}
    assert got.version == 1 and got.created_by is None and got.updated_by is None
    assert before <= got.created_at == got.updated_at <= datetime.now()
    big = _segment(con, vip)
    assert (big.created_by, big.updated_by) == ("ana@example.com", "ana@example.com")


def test_an_empty_table_lists_nothing(con: Con) -> None:
    assert saved_segments.list_segments(con) == []


def test_a_name_in_another_case_is_refused_and_nothing_written(con: Con) -> None:
    _create(con, "Lapsed coffee buyers")
    before, writes_before = _rows(con), db.committed_writes()
    for taken in ("LAPSED COFFEE BUYERS", " lapsed coffee buyers  "):
        with pytest.raises(ValidationFailed) as caught:
            _create(con, taken, {"q": "coffee"})
        assert caught.value.errors == {
            "name": "There is already a segment called “Lapsed coffee buyers”."
        }
    assert _rows(con) == before
    assert db.committed_writes() == writes_before


def test_a_name_spelled_with_a_combining_accent_is_the_same_name(con: Con) -> None:
    _create(con, "Caf\u00e9 regulars")
    with pytest.raises(ValidationFailed) as caught:
        _create(con, "CAFE\u0301 REGULARS")
    assert caught.value.errors == {"name": "There is already a segment called “Café regulars”."}


# --- Rename, update filters, duplicate, delete ---------------------------------------


def test_rename_changes_name_and_description_and_the_version(con: Con) -> None:
    sid = _create(con, "Lapsed")
    created = _segment(con, sid)
    assert (
        writes.rename_segment(
            con, sid, _rename("Lapsed buyers", 1, "Nothing in 90 days"), by="bo@example.com"
        )
        == 2
    )
    renamed = _segment(con, sid)
    assert (renamed.name, renamed.description, renamed.version) == (
        "Lapsed buyers",
        "Nothing in 90 days",
        2,
    )
    assert renamed.filters == created.filters and renamed.created_at == created.created_at
    assert renamed.updated_at > created.updated_at
    assert (renamed.created_by, renamed.updated_by) == (None, "bo@example.com")
    # Its own name in another case is no clash; without a description it keeps its own.
    assert writes.rename_segment(con, sid, _rename("LAPSED BUYERS", 2)) == 3
    kept = _segment(con, sid)
    assert (kept.name, kept.description) == ("LAPSED BUYERS", "Nothing in 90 days")
    assert writes.rename_segment(con, sid, _rename("Lapsed", 3, description="")) == 4
    assert _segment(con, sid).description == ""


def test_rename_to_another_segments_name_is_refused(con: Con) -> None:
    _create(con, "Big spenders", {"spend_min": "1000"})
    sid = _create(con, "Lapsed")
    before = _rows(con)
    with pytest.raises(ValidationFailed) as caught:
        writes.rename_segment(con, sid, _rename("big SPENDERS", 1))
    assert caught.value.errors == {"name": "There is already a segment called “Big spenders”."}
    assert _rows(con) == before


def test_update_filters_keeps_the_current_filters(con: Con) -> None:
    sid = _create(con, "Lapsed")
    current = CustomerFilter(
        search="Bar", min_visits=3, sort=SortKey.NAME, descending=False, page=4
    )
    version = writes.update_segment_filters(
        con, sid, _refilter(saved_segments.filters_of(current), 1)
    )
    updated = _segment(con, sid)
    assert version == updated.version == 2
    assert updated.name == "Lapsed"
    assert updated.filters == {"q": "Bar", "visits_min": "3", "sort": "name"}
    assert saved_segments.segment_filter(updated) == without_page(current)


def test_duplicates_are_named_copy_copy_2_and_keep_everything_else(con: Con) -> None:
    sid = _create(con, "Lapsed", description="Nothing in 90 days")
    first = writes.duplicate_segment(con, sid, by="bo@example.com")
    second = writes.duplicate_segment(con, sid)
    of_copy = writes.duplicate_segment(con, first)
    names = {s.id: s.name for s in saved_segments.list_segments(con)}
    assert (names[first], names[second], names[of_copy]) == (
        "Lapsed (copy)",
        "Lapsed (copy 2)",
        "Lapsed (copy 3)",
    )
    original, copy = _segment(con, sid), _segment(con, first)
    assert (copy.description, copy.filters, copy.version) == (
        original.description,
        original.filters,
        1,
    )
    assert (copy.created_by, original.version) == ("bo@example.com", 1)
    # A freed name is used again.
    writes.delete_segment(con, first, 1)
    assert _segment(con, writes.duplicate_segment(con, sid)).name == "Lapsed (copy)"


def test_a_copys_name_is_cut_to_fit_and_counts_case_insensitively() -> None:
    long = "x" * 80
    assert saved_segments.copy_name(long, set()) == "x" * 73 + " (copy)"
    assert saved_segments.copy_name(long, {"x" * 73 + " (copy)"}) == "x" * 71 + " (copy 2)"
    assert saved_segments.copy_name("VIP", {"vip", "vip (copy)"}) == "VIP (copy 2)"
    assert saved_segments.copy_name("VIP (copy 9)", {"vip (copy)"}) == "VIP (copy 2)"
    assert saved_segments.copy_name("(copy)", set()) == "(copy) (copy)"


def test_copies_of_a_name_at_the_limit_are_cut_to_fit(con: Con) -> None:
    sid = _create(con, "y" * 80)
    copies = [writes.duplicate_segment(con, sid) for _ in range(3)]
    names = [_segment(con, c).name for c in copies]
    assert names == ["y" * 73 + " (copy)", "y" * 71 + " (copy 2)", "y" * 71 + " (copy 3)"]
    assert all(len(name) <= 80 for name in names)


def test_delete_needs_the_version_it_was_read_at(con: Con) -> None:
    sid = _create(con, "Lapsed")
    keep = _create(con, "Big spenders")
    writes.rename_segment(con, sid, _rename("Lapsed buyers", 1))
    before = _rows(con)
    with pytest.raises(ConflictError) as caught:
        writes.delete_segment(con, sid, 1)
    assert str(caught.value) == writes.SEGMENT_CONFLICT
    assert _rows(con) == before
    writes.delete_segment(con, sid, 2)
    assert saved_segments.get_segment(con, sid) is None
    assert [s.id for s in saved_segments.list_segments(con)] == [keep]
    with pytest.raises(NotFound) as gone:
        writes.delete_segment(con, sid, 2)
    assert str(gone.value) == "This segment no longer exists; someone may have deleted it."


# --- Stale versions across connections ----------------------------------------------
#
# A DuckDB file has one process that opens it (a second one is refused its
# lock, tests/test_db.py), and two connections to one file in one process
# share one database instance: DuckDB keeps one per file. So "two app
# instances on one database" (issue 11) is stood in for by two connections
# with their own transactions. The second kind below is a plain
# duckdb.connect whose writes are plain SQL: they never take crm.db's
# process-wide write lock, so what refuses the stale write can only be the
# database, through the version in the write's own WHERE clause (or DuckDB's
# write-write conflict when the two transactions overlap).


def test_a_stale_write_is_refused_across_two_app_connections(db_path: Path) -> None:
    first, second = db.connect(db_path), db.connect(db_path)
    try:
        sid = _create(first, "Lapsed")
        seen_by_first = _segment(first, sid)
        assert writes.rename_segment(second, sid, _rename("Renamed by the other", 1)) == 2
        after_other = _rows(first)
        stale = seen_by_first.version
        with pytest.raises(ConflictError):
            writes.update_segment_filters(first, sid, _refilter({"q": "late"}, stale))
        with pytest.raises(ConflictError):
            writes.rename_segment(first, sid, _rename("Renamed late", stale))
        with pytest.raises(ConflictError):
            writes.delete_segment(first, sid, stale)
        assert _rows(first) == _rows(second) == after_other
        assert _segment(first, sid).name == "Renamed by the other"
    finally:
        first.close()
        second.close()


def test_a_write_committed_outside_crm_db_makes_ours_stale(con: Con, db_path: Path) -> None:
    sid = _create(con, "Lapsed")
    other = duckdb.connect(str(db_path))
    try:
        other.execute(
            'UPDATE segments SET filters = \'{"q":"other"}\', version = version + 1 WHERE id = $id',
            {"id": sid},
        )
        after_other = _rows(con)
        with pytest.raises(ConflictError):
            writes.update_segment_filters(con, sid, _refilter({"q": "ours"}, 1))
        with pytest.raises(ConflictError):
            writes.delete_segment(con, sid, 1)
        assert _rows(con) == after_other
        assert _segment(con, sid).filters == {"q": "other"}
    finally:
        other.close()


def test_a_write_while_another_transaction_holds_the_row_is_refused(
    con: Con, db_path: Path
) -> None:
    """Both read version 1; the other has updated the row but not committed yet."""
    sid = _create(con, "Lapsed")
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute(
            "UPDATE segments SET name = 'Theirs', version = version + 1"
            " WHERE id = $id AND version = 1",
            {"id": sid},
        )
        for write in (
            lambda: writes.rename_segment(con, sid, _rename("Ours", 1)),
            lambda: writes.update_segment_filters(con, sid, _refilter({"q": "ours"}, 1)),
            lambda: writes.delete_segment(con, sid, 1),
        ):
            with pytest.raises(ConflictError) as caught:
                write()
            assert str(caught.value) == writes.SEGMENT_CONFLICT
        other.execute("COMMIT")
    finally:
        other.close()
    saved = _segment(con, sid)
    assert (saved.name, saved.version, saved.filters) == ("Theirs", 2, filter_params(LAPSED))


def test_a_stale_write_whose_transaction_began_before_ours_committed_is_refused(
    con: Con, db_path: Path
) -> None:
    """The other transaction still sees version 1 in its snapshot when it writes:
    DuckDB refuses it rather than letting it overwrite the committed rename."""
    sid = _create(con, "Lapsed")
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        assert other.execute(
            "SELECT version FROM segments WHERE id = $id", {"id": sid}
        ).fetchone() == (1,)
        writes.rename_segment(con, sid, _rename("Ours", 1))
        with pytest.raises(duckdb.TransactionException):
            other.execute(
                "UPDATE segments SET name = 'Theirs', version = version + 1"
                " WHERE id = $id AND version = 1",
                {"id": sid},
            )
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert (_segment(con, sid).name, _segment(con, sid).version) == ("Ours", 2)


def test_the_same_new_name_saved_by_two_transactions_at_once_is_refused_in_words(
    con: Con, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction has inserted "VIP" and commits while ours is between
    its name look-up (which could not see the other's row) and its INSERT:
    the unique index refuses ours, and that is said in words."""
    other = duckdb.connect(str(db_path)).cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("INSERT INTO segments (name) VALUES ('VIP')")
    encode = saved_segments.encode_filters

    def other_commits_first(params: dict[str, Any]) -> str:
        other.execute("COMMIT")
        return encode(params)

    monkeypatch.setattr(writes, "encode_filters", other_commits_first)
    try:
        with pytest.raises(ValidationFailed) as caught:
            _create(con, "vip")
    finally:
        other.close()
    assert caught.value.errors == {"name": "There is already a segment called “vip”."}
    assert [s.name for s in saved_segments.list_segments(con)] == ["VIP"]


def test_of_two_transactions_saving_one_name_the_later_commit_fails(
    con: Con, db_path: Path
) -> None:
    """Ours commits while the other's "VIP" is still open: theirs is refused at its COMMIT."""
    other = duckdb.connect(str(db_path)).cursor()
    try:
        other.execute("BEGIN TRANSACTION")
        other.execute("INSERT INTO segments (name) VALUES ('VIP')")
        _create(con, "vip")
        with pytest.raises(duckdb.TransactionException, match="duplicate key"):
            other.execute("COMMIT")
    finally:
        other.close()
    assert [s.name for s in saved_segments.list_segments(con)] == ["vip"]


def test_a_name_committed_by_another_between_our_insert_and_commit_is_refused_in_words(
    con: Con, db_path: Path
) -> None:
    """Both transactions inserted the name before either committed: DuckDB refuses
    the later COMMIT (a TransactionException, not a ConstraintException), and a
    segment write says that in words too."""
    other = duckdb.connect(str(db_path)).cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("INSERT INTO segments (name) VALUES ('VIP')")
    try:
        with pytest.raises(ValidationFailed) as caught, writes._segment_write(con, "vip") as cur:
            cur.execute("INSERT INTO segments (name) VALUES ('vip')")
            other.execute("COMMIT")
    finally:
        other.close()
    assert caught.value.errors == {"name": "There is already a segment called “vip”."}
    assert [s.name for s in saved_segments.list_segments(con)] == ["VIP"]


# --- Unknown ids ------------------------------------------------------------------


def test_unknown_ids_are_none_or_not_found(con: Con) -> None:
    assert saved_segments.get_segment(con, 10**12) is None
    gone = "This segment no longer exists; someone may have deleted it."
    for write in (
        lambda: writes.rename_segment(con, 10**12, _rename("X", 1)),
        lambda: writes.update_segment_filters(con, 10**12, _refilter({}, 1)),
        lambda: writes.duplicate_segment(con, 10**12),
        lambda: writes.delete_segment(con, 10**12, 1),
    ):
        with pytest.raises(NotFound) as caught:
            write()
        assert str(caught.value) == gone
    assert _rows(con) == []


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (None, "No saved segment was chosen. Pick one on the Segments page."),
        ("  ", "No saved segment was chosen. Pick one on the Segments page."),
        ("abc", "“abc” is not a segment number. Pick a segment on the Segments page."),
        ("12abc", "“12abc” is not a segment number. Pick a segment on the Segments page."),
        ("-3", "“-3” is not a segment number. Pick a segment on the Segments page."),
        ("1.5", "“1.5” is not a segment number. Pick a segment on the Segments page."),
        ("\u0663", "“\u0663” is not a segment number. Pick a segment on the Segments page."),
        (
            "[x](http://e.com)" * 3,
            "“[x](http://e.com)[x](htt…” is not a segment number."
            " Pick a segment on the Segments page.",
        ),
        ("0", "There is no segment number 0."),
        ("9" * 20, f"There is no segment number {'9' * 20}."),
    ],
)
def test_a_segment_id_that_cannot_be_one_gets_a_sentence(raw: str | None, sentence: str) -> None:
    with pytest.raises(NotFound) as caught:
        saved_segments.parse_segment_id(raw)
    assert str(caught.value) == sentence


def test_a_segment_id_is_read_as_a_number() -> None:
    assert saved_segments.parse_segment_id(" 12 ") == 12
    assert saved_segments.parse_segment_id("007") == 7
    assert saved_segments.parse_segment_id(str(2**63 - 1)) == 2**63 - 1


def test_a_link_to_a_deleted_segment_says_so(con: Con) -> None:
    sid = _create(con, "Lapsed")
    assert saved_segments.find_segment(con, str(sid)) == _segment(con, sid)
    writes.delete_segment(con, sid, 1)
    with pytest.raises(NotFound) as caught:
        saved_segments.find_segment(con, str(sid))
    assert str(caught.value) == (
        f"There is no segment number {sid}. It may have been deleted, or the link is out of date."
    )


# --- Stored filters mean the same customers -----------------------------------------


def filter_params(params: dict[str, str]) -> dict[str, str]:
    """``params`` as the overview writes them into a link (without the page)."""
    return saved_segments.filters_of(filter_from_params(params))


def _brute_force_count(con: Con, f: CustomerFilter) -> int:
    """The segment's size from the raw rows in pandas, without the queries' SQL."""
    df = con.execute(
        "SELECT first_name, last_name, email, total_spending, visit_count, last_visit"
        " FROM customers"
    ).df()
    text = (df.first_name + " " + df.last_name + " " + df.email).str.lower()
    keep = pd.Series(True, index=df.index)
    if f.search.strip():
        keep &= text.str.contains(f.search.strip().lower(), regex=False)
    spend = df.total_spending.map(lambda v: Decimal(str(v)))
    if f.min_spending is not None:
        keep &= spend >= Decimal(str(f.min_spending))
    if f.max_spending is not None:
        keep &= spend <= Decimal(str(f.max_spending))
    if f.min_visits is not None:
        keep &= df.visit_count >= f.min_visits
    if f.max_visits is not None:
        keep &= df.visit_count <= f.max_visits
    cutoff = pd.Timestamp(NOW - timedelta(days=f.last_visit_days))
    if f.last_visit is LastVisit.WITHIN:
        keep &= df.last_visit.notna() & (df.last_visit >= cutoff)
    elif f.last_visit is LastVisit.OLDER:
        keep &= df.last_visit.notna() & (df.last_visit < cutoff)
    elif f.last_visit is LastVisit.NEVER:
        keep &= df.last_visit.isna()
    return int(keep.sum())


SEGMENTS = [
    CustomerFilter(),
    CustomerFilter(search="an", min_spending=50.0, sort=SortKey.NAME, descending=False),
    CustomerFilter(min_visits=3, max_visits=12, last_visit=LastVisit.WITHIN, last_visit_days=60),
    CustomerFilter(max_spending=250.5, last_visit=LastVisit.OLDER, last_visit_days=90, page=3),
    CustomerFilter(last_visit=LastVisit.NEVER, sort=SortKey.VISITS, descending=False),
    CustomerFilter(search="NOBODY-AT-ALL"),
]


@pytest.mark.parametrize("f", SEGMENTS)
def test_stored_filters_round_trip_to_the_same_segment_and_count(
    con: Con, f: CustomerFilter
) -> None:
    sid = _create(con, "Segment", saved_segments.filters_of(f))
    stored = _segment(con, sid)
    assert saved_segments.segment_filter(stored) == without_page(f)
    page = queries.customer_page(con, without_page(f), now=NOW)
    expected = _brute_force_count(con, f)
    assert page.totals.customers == expected
    assert queries.count_segment(con, saved_segments.segment_filter(stored), now=NOW) == expected


def test_the_seeded_segments_are_not_trivial(con: Con) -> None:
    """The round trip above compares sizes that differ from segment to segment."""
    sizes = [_brute_force_count(con, f) for f in SEGMENTS]
    assert sizes[0] == 300 and sizes[-1] == 0
    assert len(set(sizes[1:-1])) == 4 and all(0 < size < 300 for size in sizes[1:-1])


def test_live_sizes_and_shares(con: Con) -> None:
    ids = [
        _create(con, f"Segment {n}", saved_segments.filters_of(f)) for n, f in enumerate(SEGMENTS)
    ]
    total = _brute_force_count(con, CustomerFilter())
    sizes = saved_segments.live_sizes(con, saved_segments.list_segments(con), now=NOW)
    expected = {sid: _brute_force_count(con, f) for sid, f in zip(ids, SEGMENTS, strict=True)}
    assert {sid: size.customers for sid, size in sizes.items()} == expected
    assert {sid: size.share for sid, size in sizes.items()} == {
        sid: count / total for sid, count in expected.items()
    }


def test_no_customers_means_no_share(con: Con) -> None:
    sid = _create(con, "Everyone", {})
    for table in ("order_items", "orders", "visits", "campaign_sends", "messages", "customers"):
        con.execute(f"DELETE FROM {table}")
    sizes = saved_segments.live_sizes(con, [_segment(con, sid)], now=NOW)
    assert sizes == {sid: saved_segments.SegmentSize(0, None)}


def test_a_saved_segment_follows_the_data(con: Con) -> None:
    """Opened again after a customer's spending grew, the segment holds them."""
    sid = _create(con, "Big spenders", {"spend_min": "5000"})
    f = saved_segments.segment_filter(_segment(con, sid))
    before = queries.count_segment(con, f, now=NOW)
    customer = writes.create_customer(
        con,
        parse(
            CustomerCreate,
            {"first_name": "Ana", "last_name": "Rich", "email": "ana.rich@example.com"},
        ),
    )
    product = con.execute("SELECT id, price FROM products ORDER BY id LIMIT 1").fetchone()
    assert product is not None
    quantity = int(Decimal(5000) / product[1]) + 1
    order = {"product_id": product[0], "quantity": quantity, "unit_price": str(product[1])}
    writes.add_order(con, customer, parse(OrderCreate, {"ordered_at": NOW, "items": [order]}))
    assert queries.count_segment(con, f, now=NOW) == before + 1 == _brute_force_count(con, f)


def test_filters_written_by_hand_are_read_like_a_link(con: Con) -> None:
    con.execute(
        "INSERT INTO segments (name, filters) VALUES ('Not JSON', 'q=bar'), ('A list', '[1]'),"
        ' (\'Mixed\', \'{"q": "bar", "spend_min": 5, "country": ["IT", "ES"]}\')'
    )
    filters = {s.name: s.filters for s in saved_segments.list_segments(con)}
    assert filters == {"A list": {}, "Mixed": {"q": "bar", "country": ["IT", "ES"]}, "Not JSON": {}}


# --- Invalid input gets sentences ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "", "filters": {}}, {"name": "Name is required."}),
        ({"name": " \u3164 ", "filters": {}}, {"name": "Name has no visible character."}),
        ({"filters": {}}, {"name": "Name is required."}),
        (
            {"name": "x" * 81, "filters": {}},
            {"name": "Name is too long: 81 characters, at most 80."},
        ),
        (
            {"name": "VIP\u202e", "filters": {}},
            {
                "name": "Name contains an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)"
                " after “VIP”; remove it."
            },
        ),
        (
            {"name": "VIP", "description": "d" * 501, "filters": {}},
            {"description": "Description is too long: 501 characters, at most 500."},
        ),
        (
            {"name": "VIP", "description": "Big\nspenders \u200b", "filters": {}},
            {
                "description": "Description contains an invisible character"
                " (U+200B ZERO WIDTH SPACE) after “spenders ” on line 2; remove it."
            },
        ),
        (
            {"name": "VIP", "filters": "q=bar"},
            {"filters": "Filters: must be URL query parameters."},
        ),
        (
            {"name": "VIP", "filters": {"Spend Min": "5"}},
            {"filters": "Filters: “Spend Min” is not a filter name."},
        ),
        (
            {"name": "VIP", "filters": {"spend_min": 5}},
            {"filters": "Filters: “spend_min” must be text."},
        ),
        (
            {"name": "VIP", "filters": {"q": "x" * 1001}},
            {"filters": "Filters: “q” is 1001 characters long, at most 1000."},
        ),
        (
            {"name": "VIP", "filters": {"q": "bar\u0000"}},
            {
                "filters": "Filters: “q” contains an invisible character"
                " (U+0000, a control character) after “bar”."
            },
        ),
        (
            {"name": "VIP", "filters": {"q": "bar"}, "version": 2},
            {"version": "Version is not a field that can be saved."},
        ),
    ],
)
def test_invalid_input_gets_a_sentence_per_field(
    data: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(SegmentCreate, data)
    assert caught.value.errors == errors


def test_a_rename_and_an_update_need_a_version() -> None:
    with pytest.raises(ValidationFailed) as rename:
        parse(SegmentRename, {"name": "VIP", "version": 0})
    assert rename.value.errors == {"version": "Version must be at least 1."}
    with pytest.raises(ValidationFailed) as update:
        parse(SegmentFiltersUpdate, {"filters": {}})
    assert update.value.errors == {"version": "Version is required."}


def test_a_description_keeps_its_lines_and_text_is_trimmed() -> None:
    data = parse(
        SegmentCreate,
        {
            "name": "  VIP ",
            "description": " Big\r\nspenders ",
            "filters": {"q": " bar ", "c": [" IT "]},
        },
    )
    assert (data.name, data.description, data.filters) == (
        "VIP",
        "Big\nspenders",
        {"q": "bar", "c": ["IT"]},
    )
