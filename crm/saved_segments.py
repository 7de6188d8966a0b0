"""Saved segments: reading them, opening one from a link, and their live sizes.

A saved segment is a name for the overview's URL query parameters
(``crm.segments``), stored without the page number. Opening one applies them
afresh (``segment_filter``), so the segment follows the data: a customer who
spends more tomorrow is in "Big spenders" tomorrow. Writes are in
``crm.writes`` (create, rename, update filters, duplicate, delete).

A module of its own rather than more of ``crm.queries``: it owns the stored
form of the filters (JSON text, ``encode_filters``/``decode_filters``), the
``?segment=`` link and the naming of copies, none of which the customer reads
need. Its one scan of the customers, the live count, is
``crm.queries.count_segment``, next to the overview's own predicate so both
always count alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import duckdb

from crm import queries
from crm.errors import NotFound
from crm.models import SEGMENT_NAME_MAX, CustomerFilter, SavedSegment
from crm.segments import (
    DEFAULT,
    Params,
    ParamValue,
    filter_from_params,
    params_from_filter,
    without_page,
)

Con = duckdb.DuckDBPyConnection

# The overview's query parameter that opens a saved segment: /?segment=12.
SEGMENT_PARAM = "segment"
MAX_ID = 2**63 - 1  # the BIGINT id column's range
_COLUMNS = ", ".join(field.name for field in fields(SavedSegment))
# "Name (copy)" and "Name (copy 3)": what a copy's name adds to the original's.
_COPY_SUFFIX = re.compile(r" \(copy(?: \d+)?\)$")


# --- The stored form of a segment's filters --------------------------------------


def filters_of(f: CustomerFilter) -> Params:
    """The filters to save for the segment the overview shows: its query parameters
    without the page (what ``SegmentCreate.filters`` takes)."""
    return params_from_filter(without_page(f))


def encode_filters(params: Mapping[str, ParamValue]) -> str:
    """The filters as stored: read the way a link is read (unknown names dropped,
    values clamped, the page left out) and written back as its parameters, as
    JSON text. So a stored segment always means what the overview would show."""
    canonical = filters_of(filter_from_params(params))
    return json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))


def decode_filters(text: str) -> dict[str, str | list[str]]:
    """The stored JSON text back as query parameters; anything else in it (a row
    written by hand) is left out, as a link's unusable parts are."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(name): given
        for name, given in value.items()
        if isinstance(given, str)
        or (isinstance(given, list) and all(isinstance(v, str) for v in given))
    }


def segment_filter(segment: SavedSegment, page_size: int = DEFAULT.page_size) -> CustomerFilter:
    """The customers ``segment`` means now, on its first page."""
    return filter_from_params(segment.filters, page_size=page_size)


# --- Reads ----------------------------------------------------------------------


def _record(row: tuple[Any, ...]) -> SavedSegment:
    values = dict(zip((field.name for field in fields(SavedSegment)), row, strict=True))
    values["filters"] = decode_filters(values["filters"])
    return SavedSegment(**values)


def list_segments(con: Con) -> list[SavedSegment]:
    """Every saved segment, by name (as people look for one) in any case."""
    rows = (
        con.cursor()
        .execute(
            f"SELECT {_COLUMNS} FROM segments ORDER BY lower(name), id"  # noqa: S608 - field names
        )
        .fetchall()
    )
    return [_record(row) for row in rows]


def get_segment(con: Con, segment_id: int) -> SavedSegment | None:
    """One saved segment by id, or None when there is no such segment (any more)."""
    row = (
        con.cursor()
        .execute(
            f"SELECT {_COLUMNS} FROM segments WHERE id = $id",  # noqa: S608 - field names
            {"id": segment_id},
        )
        .fetchone()
    )
    return None if row is None else _record(row)


# --- Opening a segment from a link ------------------------------------------------


def parse_segment_id(raw: str | None) -> int:
    """The segment id in ``?segment=``; NotFound with a sentence when it cannot be one.

    The sentence may quote what was typed: show it through
    ``crm.formatting.escape_markdown`` like any user text.
    """
    text = (raw or "").strip()
    if not text:
        raise NotFound("No saved segment was chosen. Pick one on the Segments page.")
    if not text.isascii() or not text.isdigit():
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise NotFound(f"“{shown}” is not a segment number. Pick a segment on the Segments page.")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"There is no segment number {number}.")
    return number


def find_segment(con: Con, raw: str | None) -> SavedSegment:
    """The saved segment ``?segment=`` names; NotFound with a sentence for a bad or
    unknown id (the overview then shows everyone behind the message)."""
    segment_id = parse_segment_id(raw)
    segment = get_segment(con, segment_id)
    if segment is None:
        raise NotFound(
            f"There is no segment number {segment_id}. It may have been deleted, "
            "or the link is out of date."
        )
    return segment


# --- Copies --------------------------------------------------------------------


def copy_name(name: str, taken: Collection[str]) -> str:
    """The first free name among "Name (copy)", "Name (copy 2)", ...

    ``taken`` holds every segment's name in lower case. A copy of a copy
    counts on from its original (a copy of "Name (copy)" is "Name (copy 2)",
    not "Name (copy) (copy)"), and the original's name is cut so the copy's name
    stays within the limit.
    """
    base = _COPY_SUFFIX.sub("", name) or name
    number = 1
    while True:
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = base[: SEGMENT_NAME_MAX - len(suffix)].rstrip() + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


# --- Live sizes for the Segments page ---------------------------------------------


@dataclass(frozen=True)
class SegmentSize:
    """How many customers a saved segment holds now, and their share of all
    customers (a fraction; None when there are no customers at all)."""

    customers: int
    share: float | None


def live_sizes(
    con: Con, segments: Iterable[SavedSegment], now: datetime | None = None
) -> dict[int, SegmentSize]:
    """Each segment's size by id: one scan of the customers per segment.

    A scan costs what the overview's count of that filter costs: at 1,000,000
    customers (benchmarks' database, 2 busy cores) 3-11 ms for figures and
    dates, 65-70 ms for a search. Ten segments of the overview's mix took
    155-354 ms (median 237) one after another; in one statement with a
    FILTER clause per segment 156-513 ms (median 275: the per-row predicates
    are the cost, and they lose DuckDB's filter pushdown into the scan); on
    ten threads 167-395 ms (median 311: every DuckDB query already uses every
    core). So callers cache the sizes until the next write.
    """
    total = queries.count_all_customers(con)
    sizes = {}
    for segment in segments:
        count = queries.count_segment(con, segment_filter(segment), now)
        sizes[segment.id] = SegmentSize(count, count / total if total else None)
    return sizes
