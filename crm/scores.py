"""Customer scores: RFM quintiles with a named group, and the buying rhythm.

Both come from figures on the customer row that crm.writes keeps current in
the same transaction as every order write (``order_count``,
``total_spending``, ``first_order_at``, ``last_order_at``), so a new, edited
or deleted order changes a customer's scores at once. Only the quintile cut
points are shared and computed now and then (``score_boundaries``, one row,
``current_boundaries``).

Filters and counts over a million customers must not score every row per
keystroke (on a busy 2-core machine the page query with a group filter took
180-340 ms median that way, 70-81 ms reading a column, 60-69 ms without the
filter), so the results are stored on the row too: the RFM group
(``rfm_group``, NULL until the cut points are first computed) and the rhythm's
``order_gap_days`` and ``expected_order_on``. They are written in the
transaction that changes the customer's orders (``rescore_customer``, called
by crm.writes) or the cut points (``refresh_boundaries``, for the customers
whose group they move). The rhythm status itself depends on the day, so it is
computed in the query from those two columns (``RHYTHM_STATUS_SQL``).

RFM, among customers with at least one order:

- R, recency: the date of the last order (later is better);
- F, frequency: the number of orders;
- M, monetary: total spending.

Each measure has four cut points, the 20/40/60/80 % quantiles of its values
(``quantile_disc``: the smallest value that at least that share of customers
stay at or under; numpy's ``inverted_cdf``). A value scores **1 + the number of
cut points strictly below it**, from 1 to 5, 5 best. A value equal to a cut
point takes the lower score, so every customer sharing a value shares a
score, and a score may be skipped when many share one (over 40 % with a
single order: nobody has F2). Recency's cut points are dates, not day
counts, so they do not age: time passing moves nobody's R; an order moves
the customer who placed it, a recomputation those its new cut points pass.
Without cut points (no customer had orders when they were computed) every
score is 1.

The group comes from R and FM, the average of F and M rounded half up
(``(F + M + 1) // 2``). It is the R x F map common in RFM tutorials with FM
for F, and its "Hibernating" corner split so the oldest 20 % are "Lost":

======  =============  ==================  ==================  ===============  ===============
R \\ FM  1              2                   3                   4                5
======  =============  ==================  ==================  ===============  ===============
5       New            Potential loyalist  Potential loyalist  Champions        Champions
4       Promising      Potential loyalist  Potential loyalist  Loyal            Loyal
3       About to sleep About to sleep      Need attention      Loyal            Loyal
2       Hibernating    Hibernating         At risk             At risk          Can't lose them
1       Lost           Lost                At risk             At risk          Can't lose them
======  =============  ==================  ==================  ===============  ===============

Customers without orders have no scores; their group is "No orders".

Buying rhythm, in whole calendar days: the average gap between orders is
(last order date - first order date) / (orders - 1), rounded half up, at
least 1 (the gaps telescope, so no order is read). The next order is expected
on the last order date + the gap. With d = days since the last order:

==========  ====================  ===========
status      when                  orders
==========  ====================  ===========
On track    d <= gap              2 or more
Due         d <= 1.5 x gap        2 or more
Overdue     d <= 3 x gap          2 or more
Lapsed      d > 3 x gap           2 or more
One order                         1
No orders                         0
==========  ====================  ===========

The same rules exist twice: in Python (``scores_for``, one customer) and as
SQL expressions over ``customers`` (``RFM_GROUP_SQL``, ``RHYTHM_STATUS_SQL``
and friends, bound with ``rfm_params`` and ``rhythm_params``) that store the
groups and filter and count over the whole base. The tests check both, and
the stored columns, against a brute-force computation from the orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

import duckdb

from crm.db import is_read_only, transaction
from crm.formatting import number

Con = duckdb.DuckDBPyConnection

NO_ORDERS = "No orders"
ONE_ORDER = "One order"
# Every group, best first; "No orders" last.
GROUPS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
    NO_ORDERS,
)
# What each group means, in words (for a tooltip or a legend).
GROUP_MEANINGS: dict[str, str] = {
    "Champions": "Ordered recently, order often and spend the most.",
    "Loyal": "Order often and spend well; their last order is not the latest.",
    "Potential loyalist": "Ordered recently, with a few orders or a middling spend.",
    "New": "Ordered very recently, for the first times, and spent little so far.",
    "Promising": "Ordered recently but little, and not often.",
    "Need attention": "Average on every count; their last order is getting old.",
    "About to sleep": "Ordered a while ago, little and not often.",
    "At risk": "Ordered often or spent well, but long ago.",
    "Can't lose them": "Among the most frequent or biggest spenders, but gone quiet long ago.",
    "Hibernating": "Ordered little, long ago.",
    "Lost": "Ordered little, longest ago.",
    NO_ORDERS: "Has not ordered yet.",
}
# The map of the module docstring: row R-1, column FM-1.
_GRID: tuple[tuple[str, str, str, str, str], ...] = (
    ("Lost", "Lost", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
)
# Every status, healthiest first.
RHYTHM_STATUSES: tuple[str, ...] = ("On track", "Due", "Overdue", "Lapsed", ONE_ORDER, NO_ORDERS)

QUINTILE_POSITIONS = (0.2, 0.4, 0.6, 0.8)
# When the cut points are recomputed (``boundaries_due``): once a day, or
# sooner when the number of customers with orders moved by more than 1 %.
MAX_AGE = timedelta(days=1)
MAX_DRIFT = 0.01


@dataclass(frozen=True)
class Boundaries:
    """The quintile cut points, lowest first, and when and over how many they were computed.

    A cut point is None only when no customer had orders (``customers == 0``).
    """

    computed_at: datetime
    customers: int
    recency: tuple[date | None, ...]
    frequency: tuple[int | None, ...]
    monetary: tuple[Decimal | None, ...]


class OrderFigures(Protocol):
    """What scoring reads from a customer (``crm.models.Customer`` has it)."""

    @property
    def order_count(self) -> int: ...
    @property
    def total_spending(self) -> Decimal: ...
    @property
    def first_order_at(self) -> datetime | None: ...
    @property
    def last_order_at(self) -> datetime | None: ...


# --- Cut points -----------------------------------------------------------------------

_BOUNDARY_COLUMNS = """
    computed_at, customers,
    recency_1, recency_2, recency_3, recency_4,
    frequency_1, frequency_2, frequency_3, frequency_4,
    monetary_1, monetary_2, monetary_3, monetary_4
"""
# The stored cut points: one statement, read where they are needed.
_READ_BOUNDARIES = "SELECT" + _BOUNDARY_COLUMNS + "FROM score_boundaries"


def _boundaries(row: tuple[Any, ...]) -> Boundaries:
    return Boundaries(
        computed_at=row[0],
        customers=int(row[1]),
        recency=tuple(row[2:6]),
        frequency=tuple(row[6:10]),
        monetary=tuple(row[10:14]),
    )


def read_boundaries(con: Con) -> Boundaries | None:
    """The stored cut points, or None before they were first computed."""
    row = con.cursor().execute(_READ_BOUNDARIES).fetchone()
    return None if row is None else _boundaries(row)


def refresh_boundaries(con: Con, now: datetime | None = None) -> Boundaries:
    """Compute the cut points afresh from every customer with orders, store them
    and the groups they change, in one transaction.
    """
    with transaction(con) as cur:
        old = cur.execute(_READ_BOUNDARIES).fetchone()
        cur.execute("DELETE FROM score_boundaries")
        row = cur.execute(
            f"""
            INSERT INTO score_boundaries ({_BOUNDARY_COLUMNS})
            SELECT $computed_at, customers,
                   recency[1], recency[2], recency[3], recency[4],
                   frequency[1], frequency[2], frequency[3], frequency[4],
                   monetary[1], monetary[2], monetary[3], monetary[4]
            FROM (
                SELECT count(*) AS customers,
                       quantile_disc(CAST(last_order_at AS DATE), $positions) AS recency,
                       quantile_disc(order_count, $positions) AS frequency,
                       quantile_disc(total_spending, $positions) AS monetary
                FROM customers
                WHERE order_count > 0
            )
            RETURNING {_BOUNDARY_COLUMNS}
            """,  # noqa: S608 - a fixed column list
            {"computed_at": now or datetime.now(), "positions": list(QUINTILE_POSITIONS)},
        ).fetchone()
        assert row is not None
        boundaries = _boundaries(row)
        previous = None if old is None else _boundaries(old)
        if previous is None or None in previous.recency or None in boundaries.recency:
            cur.execute(_REGROUP_ALL, rfm_params(boundaries))
        else:
            cur.execute(_REGROUP_MOVED, {**rfm_params(boundaries), **_moved(previous, boundaries)})
    return boundaries


def _moved(old: Boundaries, new: Boundaries) -> dict[str, Any]:
    """The parameters of ``_MOVED_SQL``: each cut point's span from its old to its new value."""
    params: dict[str, Any] = {}
    for k in range(4):
        low, high = _span(old.recency[k], new.recency[k])
        params[f"moved_recency_from_{k + 1}"] = _first_moment_after(low)
        params[f"moved_recency_to_{k + 1}"] = _first_moment_after(high)
        low, high = _span(old.frequency[k], new.frequency[k])
        params[f"moved_frequency_from_{k + 1}"] = low
        params[f"moved_frequency_to_{k + 1}"] = high
        low, high = _span(old.monetary[k], new.monetary[k])
        params[f"moved_monetary_from_{k + 1}"] = low
        params[f"moved_monetary_to_{k + 1}"] = high
    return params


def _span(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b) if a <= b else (b, a)


def rescore_customer(cur: Con, customer_id: int) -> None:
    """Store one customer's rhythm figures, and group from the stored cut points
    (none while no cut points exist, as for everyone then).

    For a write transaction that changed the customer's order figures (``cur``
    is its cursor).
    """
    cur.execute(_STORE_RHYTHM + " AND id = $id", {"id": customer_id})
    row = cur.execute(_READ_BOUNDARIES).fetchone()
    if row is None:
        return
    cur.execute(
        f"UPDATE customers SET rfm_group = {RFM_GROUP_SQL} WHERE id = $id",  # noqa: S608
        {**rfm_params(_boundaries(row)), "id": customer_id},
    )


def score_everyone(con: Con, now: datetime | None = None) -> Boundaries:
    """Store every customer's rhythm figures, then compute the cut points and groups
    afresh: for a database filled in bulk (``crm.demo.seed``)."""
    with transaction(con) as cur:
        cur.execute(_STORE_RHYTHM)
    return refresh_boundaries(con, now)


def customers_with_orders(con: Con) -> int:
    """How many customers have at least one order (a scan of one column: ~2-10 ms at 1M)."""
    row = con.cursor().execute("SELECT count(*) FROM customers WHERE order_count > 0").fetchone()
    return int(row[0]) if row else 0


def boundaries_due(boundaries: Boundaries | None, with_orders: int, now: datetime) -> bool:
    """Whether the cut points should be recomputed: never computed, older than
    ``MAX_AGE``, or the number of customers with orders moved by more than ``MAX_DRIFT``."""
    if boundaries is None or now - boundaries.computed_at > MAX_AGE:
        return True
    return abs(with_orders - boundaries.customers) > MAX_DRIFT * boundaries.customers


def current_boundaries(con: Con, now: datetime | None = None) -> Boundaries:
    """The stored cut points, recomputed first when ``boundaries_due`` says so.

    Reads one row and counts the customers with orders; a caller that keeps
    the result until the next write (``db.committed_writes``) pays that once
    per write. A recomputation is itself a write: on a read-only connection
    (``CRM_READ_ONLY``) the stored cut points stay, however old.
    """
    now = now or datetime.now()
    stored = read_boundaries(con)
    if boundaries_due(stored, customers_with_orders(con), now):
        if stored is not None and is_read_only(con):
            return stored
        return refresh_boundaries(con, now)
    assert stored is not None
    return stored


def boundaries_note(boundaries: Boundaries) -> str:
    """When the cut points were computed, and over how many customers, in words."""
    when = boundaries.computed_at
    return (
        f"Quintiles computed {when:%b} {when.day}, {when.year} at {when:%H:%M} over"
        f" {number(boundaries.customers)} customers with orders; they are recomputed daily."
    )


# --- One customer ---------------------------------------------------------------------


def _score(value: Any, cuts: tuple[Any, ...]) -> int:
    return 1 + sum(1 for cut in cuts if cut is not None and cut < value)


def group_of(r: int, f: int, m: int) -> str:
    """The named group of the scores (the map in the module docstring)."""
    return _GRID[r - 1][(f + m + 1) // 2 - 1]


def average_gap_days(order_count: int, first: date, last: date) -> int:
    """Days between orders on average, rounded half up, at least 1 (needs 2+ orders)."""
    span = (last - first).days
    return max(1, (2 * span + order_count - 1) // (2 * (order_count - 1)))


def rhythm_status(days_since: int, gap: int) -> str:
    """The status of a customer with 2+ orders (the table in the module docstring)."""
    if days_since <= gap:
        return "On track"
    if 2 * days_since <= 3 * gap:
        return "Due"
    if days_since <= 3 * gap:
        return "Overdue"
    return "Lapsed"


@dataclass(frozen=True)
class CustomerScores:
    """One customer's scores on ``as_of``; the RFM scores are None without orders,
    the rhythm figures None with fewer than two orders."""

    as_of: date
    recency: int | None
    frequency: int | None
    monetary: int | None
    group: str
    rhythm: str
    days_since_order: int | None
    average_gap_days: int | None
    expected_on: date | None
    days_over: int | None

    def rfm_sentence(self) -> str:
        """E.g. "R5 F4 M5, Champions: top 20 % for recency and spending"."""
        if self.recency is None or self.frequency is None or self.monetary is None:
            return "No orders yet, so no RFM scores."
        scores = {"recency": self.recency, "orders": self.frequency, "spending": self.monetary}
        best = max(scores.values())
        head = f"R{self.recency} F{self.frequency} M{self.monetary}, {self.group}"
        if best <= 2:
            return f"{head}: bottom {best * 20}\u00a0% for recency, orders and spending"
        measures = [name for name, score in scores.items() if score == best]
        if best == 3:
            return f"{head}: middle 20\u00a0% for {_listed(measures)}"
        return f"{head}: top {(6 - best) * 20}\u00a0% for {_listed(measures)}"

    def rhythm_sentence(self) -> str:
        """E.g. "Usually orders every 23 days; last order 41 days ago: overdue by 18 days
        (expected Nov 12)"."""
        if self.days_since_order is None:
            return "No orders yet."
        last = _days_ago(self.days_since_order)
        if self.average_gap_days is None or self.expected_on is None or self.days_over is None:
            return f"One order so far, {last}: no buying rhythm yet."
        gap = self.average_gap_days
        every = "every day" if gap == 1 else f"every {gap} days"
        expected = self._day(self.expected_on)
        head = f"Usually orders {every}; last order {last}"
        if self.rhythm == "On track":
            return f"{head}: on track (next order expected {expected})"
        late = "1 day" if self.days_over == 1 else f"{self.days_over} days"
        if self.rhythm == "Overdue":
            return f"{head}: overdue by {late} (expected {expected})"
        return f"{head}: {self.rhythm.lower()}, {late} late (expected {expected})"

    def _day(self, day: date) -> str:
        same_year = day.year == self.as_of.year
        return f"{day:%b} {day.day}" if same_year else f"{day:%b} {day.day}, {day.year}"


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _days_ago(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "dated tomorrow"
    if days < 0:
        return f"dated in {-days} days"
    return f"{days} days ago"


def scores_for(customer: OrderFigures, boundaries: Boundaries, today: date) -> CustomerScores:
    """``customer``'s RFM scores, group and buying rhythm on ``today``."""
    last = customer.last_order_at
    first = customer.first_order_at
    if customer.order_count == 0 or last is None or first is None:
        return CustomerScores(today, None, None, None, NO_ORDERS, NO_ORDERS, None, None, None, None)
    r = _score(last.date(), boundaries.recency)
    f = _score(customer.order_count, boundaries.frequency)
    m = _score(customer.total_spending, boundaries.monetary)
    days_since = (today - last.date()).days
    if customer.order_count == 1:
        return CustomerScores(
            today, r, f, m, group_of(r, f, m), ONE_ORDER, days_since, None, None, None
        )
    gap = average_gap_days(customer.order_count, first.date(), last.date())
    return CustomerScores(
        as_of=today,
        recency=r,
        frequency=f,
        monetary=m,
        group=group_of(r, f, m),
        rhythm=rhythm_status(days_since, gap),
        days_since_order=days_since,
        average_gap_days=gap,
        expected_on=last.date() + timedelta(days=gap),
        days_over=max(0, days_since - gap),
    )


# --- The same rules in SQL, over ``customers`` ------------------------------------------
#
# Expressions for a query over ``customers`` (unqualified column names), with
# the named parameters of ``rfm_params`` and ``rhythm_params``. The cut points
# are bound as parameters instead of joining ``score_boundaries``: a query
# keeps its single table and the scores use the very cut points the caller read.
# Recency compares the timestamp itself with the first moment after each cut
# date (``score_recency_k``): at a million customers casting every
# last_order_at to a DATE cost about twice as much as the comparison.


R_SCORE_SQL = """CASE WHEN order_count = 0 THEN NULL
    WHEN last_order_at >= $score_recency_4 THEN 5
    WHEN last_order_at >= $score_recency_3 THEN 4
    WHEN last_order_at >= $score_recency_2 THEN 3
    WHEN last_order_at >= $score_recency_1 THEN 2 ELSE 1 END"""
F_SCORE_SQL = """CASE WHEN order_count = 0 THEN NULL
    WHEN order_count > $score_frequency_4 THEN 5
    WHEN order_count > $score_frequency_3 THEN 4
    WHEN order_count > $score_frequency_2 THEN 3
    WHEN order_count > $score_frequency_1 THEN 2 ELSE 1 END"""
M_SCORE_SQL = """CASE WHEN order_count = 0 THEN NULL
    WHEN total_spending > $score_monetary_4 THEN 5
    WHEN total_spending > $score_monetary_3 THEN 4
    WHEN total_spending > $score_monetary_2 THEN 3
    WHEN total_spending > $score_monetary_1 THEN 2 ELSE 1 END"""
# Each 1-5, NULL without orders. The cell of the map, 1-25 (row R, column
# FM: 5 * (R - 1) + FM), picks the group from the map as a list.
RFM_CELL_SQL = f"5 * ({R_SCORE_SQL}) + (({F_SCORE_SQL}) + ({M_SCORE_SQL}) + 1) // 2 - 5"
_GRID_SQL = (
    "[" + ", ".join("'" + cell.replace("'", "''") + "'" for row in _GRID for cell in row) + "]"
)
RFM_GROUP_SQL = f"coalesce({_GRID_SQL}[{RFM_CELL_SQL}], '{NO_ORDERS}')"

DAYS_SINCE_ORDER_SQL = "(CAST($score_today AS DATE) - CAST(last_order_at AS DATE))"


# The rhythm reads two stored figures, ``order_gap_days`` and
# ``expected_order_on`` (= last order date + gap; both NULL below two
# orders), kept by ``rescore_customer``. With late = today - expected (= d -
# gap): On track is late <= 0, Due 2 x late <= gap (2d <= 3 gap), Overdue
# late <= 2 x gap (d <= 3 gap). At a million customers a rhythm filter on the
# page query cost 114 ms median (25 ms best) this way and 311 ms (96 ms)
# computing the gap from the order dates, against 84 ms (32 ms) without it,
# on a busy 2-core machine.
def _rhythm_case(label: Callable[[str], str]) -> str:
    """The status rules as one CASE, each status written as ``label(name)``."""
    return f"""CASE
    WHEN order_count = 0 THEN {label(NO_ORDERS)}
    WHEN order_count = 1 THEN {label(ONE_ORDER)}
    WHEN expected_order_on >= $score_today THEN {label("On track")}
    WHEN 2 * ($score_today - expected_order_on) <= order_gap_days THEN {label("Due")}
    WHEN $score_today - expected_order_on <= 2 * order_gap_days THEN {label("Overdue")}
    ELSE {label("Lapsed")} END"""


RHYTHM_STATUS_SQL = _rhythm_case(lambda name: f"'{name}'")
# The same, as the status's position in RHYTHM_STATUSES (to group by).
RHYTHM_CODE_SQL = _rhythm_case(lambda name: str(RHYTHM_STATUSES.index(name)))
_GAP_SQL = """greatest(1,
    (2 * (CAST(last_order_at AS DATE) - CAST(first_order_at AS DATE)) + order_count - 1)
    // (2 * (order_count - 1)))"""
# Every customer's rhythm figures from their order figures; a caller may add
# "AND id = $id".
_STORE_RHYTHM = f"""
    UPDATE customers SET
        order_gap_days = CASE WHEN order_count > 1 THEN {_GAP_SQL} END,
        expected_order_on = CASE WHEN order_count > 1
            THEN CAST(last_order_at AS DATE) + CAST({_GAP_SQL} AS INTEGER) END
    WHERE TRUE
"""  # noqa: S608 - module constants


# Filters for a segment query over ``customers``, switched off by a NULL list,
# as in crm.queries: $rfm_groups (names from GROUPS) reads the stored group;
# $rhythm_statuses (names from RHYTHM_STATUSES) also needs ``rhythm_params``,
# bound whether the list is NULL or not.
GROUP_FILTER_SQL = f"""(CAST($rfm_groups AS VARCHAR[]) IS NULL
    OR list_contains($rfm_groups, coalesce(rfm_group, '{NO_ORDERS}')))"""
# The statuses as ranges of the stored columns (each one of RHYTHM_STATUS_SQL's
# branches), not the status computed per row and looked up in the list: at a
# million customers "Overdue or Lapsed" counted in 10.7 ms against 18.1 ms.
RHYTHM_FILTER_SQL = f"""(CAST($rhythm_statuses AS VARCHAR[]) IS NULL
    OR (list_contains($rhythm_statuses, '{NO_ORDERS}') AND order_count = 0)
    OR (list_contains($rhythm_statuses, '{ONE_ORDER}') AND order_count = 1)
    OR (order_count > 1 AND (
        (list_contains($rhythm_statuses, 'On track') AND expected_order_on >= $score_today)
        OR (list_contains($rhythm_statuses, 'Due') AND expected_order_on < $score_today
            AND 2 * ($score_today - expected_order_on) <= order_gap_days)
        OR (list_contains($rhythm_statuses, 'Overdue')
            AND 2 * ($score_today - expected_order_on) > order_gap_days
            AND $score_today - expected_order_on <= 2 * order_gap_days)
        OR (list_contains($rhythm_statuses, 'Lapsed')
            AND $score_today - expected_order_on > 2 * order_gap_days))))"""


# Writing the stored groups anew. The first time, every row. After that
# every stored group agrees with the previous cut points (each write rescored
# its customer with them), and a score only moves for a value between a cut
# point's old and new places, so only those rows are scored (the cheap range
# tests run first) and written. At a million customers scoring and comparing
# every row took 0.8-1.3 s on a busy 2-core machine; this way a day's moves
# (17,186 customers) took 390-450 ms, of which 150-220 ms for the quantiles.
_REGROUP_ALL = f"""
    UPDATE customers SET rfm_group = {RFM_GROUP_SQL}
    WHERE rfm_group IS DISTINCT FROM {RFM_GROUP_SQL}
"""  # noqa: S608 - module constants
_MOVED_SQL = """
    (last_order_at >= $moved_recency_from_1 AND last_order_at < $moved_recency_to_1)
    OR (last_order_at >= $moved_recency_from_2 AND last_order_at < $moved_recency_to_2)
    OR (last_order_at >= $moved_recency_from_3 AND last_order_at < $moved_recency_to_3)
    OR (last_order_at >= $moved_recency_from_4 AND last_order_at < $moved_recency_to_4)
    OR (order_count > $moved_frequency_from_1 AND order_count <= $moved_frequency_to_1)
    OR (order_count > $moved_frequency_from_2 AND order_count <= $moved_frequency_to_2)
    OR (order_count > $moved_frequency_from_3 AND order_count <= $moved_frequency_to_3)
    OR (order_count > $moved_frequency_from_4 AND order_count <= $moved_frequency_to_4)
    OR (total_spending > $moved_monetary_from_1 AND total_spending <= $moved_monetary_to_1)
    OR (total_spending > $moved_monetary_from_2 AND total_spending <= $moved_monetary_to_2)
    OR (total_spending > $moved_monetary_from_3 AND total_spending <= $moved_monetary_to_3)
    OR (total_spending > $moved_monetary_from_4 AND total_spending <= $moved_monetary_to_4)
"""
_REGROUP_MOVED = f"""
    UPDATE customers SET rfm_group = {RFM_GROUP_SQL}
    WHERE order_count > 0 AND ({_MOVED_SQL}) AND rfm_group IS DISTINCT FROM {RFM_GROUP_SQL}
"""  # noqa: S608 - module constants


def _first_moment_after(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day + timedelta(days=1), time())


def rfm_params(boundaries: Boundaries) -> dict[str, Any]:
    """The named parameters of the RFM expressions (``R_SCORE_SQL`` ... ``RFM_GROUP_SQL``).

    DuckDB refuses parameters a statement does not use: bind these exactly
    when the statement holds an RFM expression, ``rhythm_params`` when it holds
    a rhythm one.
    """
    params: dict[str, Any] = {}
    for k in range(4):
        params[f"score_recency_{k + 1}"] = _first_moment_after(boundaries.recency[k])
        params[f"score_frequency_{k + 1}"] = boundaries.frequency[k]
        params[f"score_monetary_{k + 1}"] = boundaries.monetary[k]
    return params


def rhythm_params(today: date) -> dict[str, Any]:
    """The named parameter of the rhythm expressions (``DAYS_SINCE_ORDER_SQL``,
    ``RHYTHM_STATUS_SQL``)."""
    return {"score_today": today}


# --- The whole base -------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreMix:
    """Customers per group and per rhythm status, every name present, in the
    order of ``GROUPS`` and ``RHYTHM_STATUSES``."""

    groups: dict[str, int]
    rhythm: dict[str, int]


def score_mix(con: Con, today: date) -> ScoreMix:
    """How many customers each group (stored) and each rhythm status has, from one scan.

    Call ``current_boundaries`` first: before the cut points are first
    computed nobody has a group yet and everyone counts as "No orders".
    """
    rows = (
        con.cursor()
        .execute(
            f"""
            SELECT rfm_group, rhythm, count(*)
            FROM (
                SELECT coalesce(rfm_group, '{NO_ORDERS}') AS rfm_group,
                       {RHYTHM_STATUS_SQL} AS rhythm
                FROM customers
            )
            GROUP BY GROUPING SETS ((rfm_group), (rhythm))
            """,  # noqa: S608 - module constants
            rhythm_params(today),
        )
        .fetchall()
    )
    groups = dict.fromkeys(GROUPS, 0)
    rhythm = dict.fromkeys(RHYTHM_STATUSES, 0)
    for rfm_group, status, customers in rows:
        if rfm_group is not None:
            groups[rfm_group] = int(customers)
        else:
            rhythm[status] = int(customers)
    return ScoreMix(groups=groups, rhythm=rhythm)


# The customers a bulk write changed (an import, its undo): ids in this temporary
# table of the writing cursor's connection.
RESCORE_IDS_TABLE = "rescore_ids"


def rescore_listed(cur: Con) -> None:
    """``rescore_customer`` for every customer in the temporary table ``rescore_ids``
    (column ``id``), as two set-based statements: for bulk writes in ``cur``'s transaction."""
    cur.execute(_STORE_RHYTHM + f" AND id IN (SELECT id FROM {RESCORE_IDS_TABLE})")  # noqa: S608
    row = cur.execute(_READ_BOUNDARIES).fetchone()
    if row is None:
        return
    cur.execute(
        f"UPDATE customers SET rfm_group = {RFM_GROUP_SQL}"  # noqa: S608 - module constants
        f" WHERE id IN (SELECT id FROM {RESCORE_IDS_TABLE})",
        rfm_params(_boundaries(row)),
    )
