"""Scan slots: how many segment scans one app process runs at once, first come first served.

Why: each DuckDB query already uses every core, so several sessions
scanning at once only share the cores, with more switching between them.
At 5,000,000 customers on 2 cores, 8 sessions each paging and counting
segments back to back waited 853 ms at the 95th percentile with no limit
and 549 ms with 2 slots taken in turn (1,000,000 customers: 201 against
136 ms). The slots must be taken in turn: Python's Semaphore lets a thread
that has just let go take its slot again, and the same run with it left
some sessions waiting 1.5-2.3 s.

Only scans of the whole customer base take a slot (a segment's page and
count, its Insights); a customer's own rows are found by index in a
millisecond or two and never queue behind them. A slot is held per thread
and may be taken again by its holder (a page reads its set bitmaps inside
its slot). A MotherDuck database is scanned on MotherDuck's machines, so
its scans take no slot.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

import duckdb


class FairSlots:
    """At most ``size`` holders at once; waiting threads get a slot in arrival order."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = threading.local()

    @contextmanager
    def hold(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            self._take()
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                self._give_back()

    def _take(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by _give_back, never taken back

    def _give_back(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


_SCANS = FairSlots(max(1, os.cpu_count() or 1))
# Connections to MotherDuck (crm.db marks them): their scans run remotely. An
# id kept after its connection closed can only spare a later one its slots.
_remote: set[int] = set()
_remote_lock = threading.Lock()


def mark_remote(con: duckdb.DuckDBPyConnection) -> None:
    """Scans on ``con`` run elsewhere (MotherDuck): they take no slot."""
    with _remote_lock:
        _remote.add(id(con))


def is_remote(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` scans on MotherDuck's machines (``mark_remote``)."""
    return id(con) in _remote


@contextmanager
def scanning(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Hold one of the process's scan slots while scanning on ``con``."""
    if is_remote(con):
        yield
        return
    with _SCANS.hold():
        yield


P = ParamSpec("P")
R = TypeVar("R")


def scan(
    read: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R],
) -> Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]:
    """A read of the whole customer base whose first argument is the connection:
    it runs holding a scan slot (``scanning``)."""

    @functools.wraps(read)
    def holding(con: duckdb.DuckDBPyConnection, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with scanning(con):
            return read(con, *args, **kwargs)

    return holding
