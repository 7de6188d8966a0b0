"""crm.slots: scans take slots in turn, never more at once than there are slots,
a holder may take its slot again, and MotherDuck connections take none."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import duckdb
import pytest

from crm import slots


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_never_more_holders_than_slots() -> None:
    gate = slots.FairSlots(2)
    inside = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        with gate.hold():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.01)
            with lock:
                inside -= 1

    workers = [threading.Thread(target=work) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert most == 2


def test_waiting_threads_get_the_slot_in_arrival_order() -> None:
    gate = slots.FairSlots(1)
    order: list[int] = []
    release = threading.Event()
    queued = 0
    lock = threading.Lock()

    def holder() -> None:
        with gate.hold():
            release.wait()

    def waiter(n: int) -> None:
        nonlocal queued
        with lock:
            queued += 1
        with gate.hold():
            order.append(n)

    first = threading.Thread(target=holder)
    first.start()
    _wait_until(lambda: gate._free == 0)
    waiters = []
    for n in range(6):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        waiters.append(t)
        # The next one arrives only once this one is in the queue.
        _wait_until(lambda n=n: len(gate._waiting) == n + 1)
    release.set()
    for t in [first, *waiters]:
        t.join()
    assert order == list(range(6))
    assert gate._free == 1 and not gate._waiting


def test_a_holder_may_take_its_slot_again() -> None:
    gate = slots.FairSlots(1)
    done = threading.Event()

    def nested() -> None:
        with gate.hold(), gate.hold():
            pass
        done.set()

    t = threading.Thread(target=nested)
    t.start()
    t.join(timeout=5)
    assert done.is_set()
    assert gate._free == 1


def test_a_remote_connection_takes_no_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = slots.FairSlots(1)
    monkeypatch.setattr(slots, "_SCANS", gate)
    local, remote = duckdb.connect(), duckdb.connect()
    slots.mark_remote(remote)
    with slots.scanning(local):
        assert gate._free == 0
        # Another thread's scan on the remote connection does not wait for the slot.
        finished = threading.Event()

        def remote_scan() -> None:
            with slots.scanning(remote):
                remote.execute("SELECT 1").fetchone()
            finished.set()

        t = threading.Thread(target=remote_scan)
        t.start()
        t.join(timeout=5)
        assert finished.is_set()
    assert gate._free == 1


def test_a_thread_letting_go_cannot_take_the_slot_back_before_a_waiter() -> None:
    """The unfairness that made some sessions wait seconds: a session that has just
    finished a scan starting its next one ahead of those already waiting."""
    gate = slots.FairSlots(1)
    order: list[str] = []
    b_waits = threading.Event()

    def a() -> None:
        with gate.hold():
            b_waits.wait()
            _wait_until(lambda: len(gate._waiting) == 1)
        with gate.hold():  # at once, while B is still waking up
            order.append("A again")

    def b() -> None:
        b_waits.set()
        with gate.hold():
            time.sleep(0.05)
            order.append("B")

    ta = threading.Thread(target=a)
    ta.start()
    _wait_until(lambda: gate._free == 0)
    tb = threading.Thread(target=b)
    tb.start()
    ta.join()
    tb.join()
    assert order == ["B", "A again"]
