"""The segment's make-up ("Insights"), over the overview's own segment.

Every query keeps the customers of the segment with the overview's predicate
and parameters (``crm.queries.segment_where``), so the Insights panel always
describes the customers the cards and the count show. Two statements: the
customer-row questions together, the categories bought among them
(``profile``: see there why), and revenue by month (``revenue_by_month``);
the history of how it came to this follows.

Revenue by month read the orders table (10 M rows at a million customers;
since session 8 the 7.6 M rows of each customer's orders per month) and is
the costliest: grouping by a ``year * 12 + month`` key took 75-82 ms
where ``date_trunc('month', ...)`` took 265-280 ms. The categories come from
the per-customer facts of migration 006 (``customer_categories``, ~7 M rows),
not the 23.5 M order lines (160-170 ms). For everyone neither joins the
customers (``segments.is_filtered``); for a segment they join its ids (a
plain join: ``customer_id IN (...)`` took 1.2-1.9x as long at 1M, e.g. 209
against 121 ms for 354,000 customers' months). ``crm.ui.insights`` caches
the result until the next write.

Measured at 1,000,000 customers (benchmarks/bench.py bench_insights, medians,
a 2-core machine with a load of about 2 from other work): everyone 119-122
ms (target 300); a country, a search, a spending range and "visited in 30
days" 89-120 ms (target 150); but the 782,000 Coffee buyers 256-265 ms
(target 150, missed): their profile alone takes ~100 ms (the category
semi-join ~36 ms of it, paid again by each of the other two statements).
Tried and dropped: reading a segment of more than half of everyone as
everyone's months and categories less those of the customers outside it
(commit 9d4d07b). Alone its months took 114 ms against 125 and its
categories 61 against 73, but the choice needs the segment's count, so the
profile went first, and the panel took 257-269 ms for Coffee and 4-6 ms more
for the others. One statement for all three questions took 370-500 ms.

Then: the three statements test the segment's semi-joins (a category, a
product, a campaign) against a bitmap of ids (``crm.queries.segment_where``
with ``set_bits``, read once per panel) instead of a hash semi-join each,
and revenue by month groups the orders by day first. On a machine at load
about 20, interleaved with the code before (3 runs each, medians): the
Coffee buyers 12.4 s against 27.3 s there, everyone 3.0 against 3.4 s;
at load about 5, 629 against 1,057 ms (everyone's months alone 99 against
144 ms).

And the complement again, now without its cost: the overview knows the
segment's count before the panel is filled (its cached page of cards), so
``insights(..., customers=)`` picks the complement up front and starts all
three statements at once, and everyone's months and categories
(``everyone_orders``) are cached by the app like everyone's profile. At load
about 4, interleaved, 3 rounds: the Coffee buyers 818 against 2,053 ms, the
700,000 outside the United States 816 against 1,388 ms (same figures).

Session 8: the categories come from the profile itself, which groups the
segment's rows by their ``category_mask`` (migration 018: one bit per category
bought, kept by ``crm.facts``), so two statements remain where three shared
the two cores. On a quiet machine, interleaved, 4 rounds of 5 (medians, ms):
a country 123 -> 99-104, a search 104-106 -> 84-86, a spending range 143-149
-> 111, an RFM group 105-108 -> 83-86, the Coffee buyers 141-147 -> 127-129,
visited in 30 days 136-140 -> 112-115. The pairs are still read
(``top_categories``) when a category has no bit in the mask (a 65th).
And revenue by month reads each customer's orders per month (migration 019,
``_MONTHS``) instead of the orders: interleaved, 2 rounds of 10, a country
89-90 -> 74-77 ms, a search 76 -> 63-65, a spending range 96-104 -> 80-82,
an RFM group 73-75 -> 59-63, visited in 30 days 97-107 -> 87-95; the Coffee
buyers, whose profile is most of their panel, 99-106 -> 97-105.
So a segment of most customers now reads its profile as everyone's (cached by
the app, with its counts) less the outside's too (``_profile_of_most``), in
everyone's spending bands, and directly when its top spender needs narrower
ones: the Coffee buyers 96-102 -> 70-72 ms (interleaved, 2 rounds of 10).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from crm import queries, scores, segments, slots
from crm.frames import typed_frame
from crm.models import CustomerFilter

Con = duckdb.DuckDBPyConnection

NO_ORDERS = scores.NO_ORDERS
# The name of a blank country in the country counts (no filter can pick it).
NO_COUNTRY = "(no country)"
MONTHS = 24
TOP_COUNTRIES = 10
TOP_CATEGORIES = 5
# A histogram of about this many bars at most, on a 1-2-5 step.
HISTOGRAM_BARS = 20
# The histogram's band widths to choose from: $1, $2, $5, $10, $20, ...
HISTOGRAM_STEPS: list[int] = [factor * 10**power for power in range(13) for factor in (1, 2, 5)]

# Shared by all sessions: at most this many insight queries at a time.
_POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="crm-insights")


@dataclass(frozen=True)
class Headline:
    """The segment in figures."""

    customers: int
    spending: Decimal
    orders: int
    highest_spending: Decimal
    # Median of whole days since the last order, over the segment's customers
    # with orders; None when none has ordered.
    median_days_since_order: float | None

    @property
    def average_spending(self) -> Decimal | None:
        return self.spending / self.customers if self.customers else None

    @property
    def average_order_value(self) -> Decimal | None:
        return self.spending / self.orders if self.orders else None


def histogram_step(highest: Decimal | float, bars: int = HISTOGRAM_BARS) -> int:
    """The smallest step of ``HISTOGRAM_STEPS`` (1, 2, 5, 10, 20, ...) giving at most
    ``bars`` bars from $0 up to ``highest`` (``profile`` picks it the same way in SQL)."""
    return next(step for step in HISTOGRAM_STEPS if step * bars >= highest)


COUNT_COLUMNS = {"name": "str", "customers": "int64"}
SPENDING_COLUMNS = {"low": "float64", "high": "float64", "customers": "int64"}
CATEGORY_COLUMNS = {"name": "str", "customers": "int64"}


@dataclass(frozen=True)
class Profile:
    """What the segment's customer rows say: the headline, customers per spending
    band (``low``, ``high``, ``customers``: every band from $0 to the highest
    spender), and customers (``name``, ``customers``) per country (most first,
    then by name; a blank one is ``NO_COUNTRY``), per stored RFM group (every
    one of ``scores.GROUPS``, in order) and per rhythm status today (every one
    of ``scores.RHYTHM_STATUSES``)."""

    headline: Headline
    spending: pd.DataFrame
    countries: pd.DataFrame
    rfm: pd.DataFrame
    rhythm: pd.DataFrame
    # Customers (``name``, ``customers``) per category bought, most first, then by
    # name, from the rows' ``category_mask``; None when the masks cannot say
    # (``category_names``): ``top_categories`` reads the pairs then.
    categories: pd.DataFrame | None = None
    # What the frames were made from (``profile``): a cached profile of everyone
    # is the start of a big segment's (``_profile_of_most``).
    counts: Counts | None = field(default=None, repr=False, compare=False)


def category_names(con: Con) -> dict[int, str] | None:
    """Each category's name by its bit of the customers' ``category_mask``; None when a
    category has no bit in the mask (a 65th category), so the masks cannot count it."""
    bits = queries.category_bits(con)
    if any(bit is None for bit in bits.values()):
        return None
    return {bit: name for name, bit in bits.items() if bit is not None}


def _categories_of_masks(rows: list[tuple[Any, ...]], names: dict[int, str]) -> pd.DataFrame:
    """Customers per category from customers per mask (``profile``'s 'mask' rows)."""
    counts: dict[str, int] = {}
    for mask, n, *_ in rows:
        bits = int(mask)
        for bit, name in names.items():
            if bits >> bit & 1:
                counts[name] = counts.get(name, 0) + int(n)
    kept = sorted(counts.items(), key=lambda row: (-row[1], row[0]))
    return typed_frame(kept, CATEGORY_COLUMNS)


@dataclass(frozen=True)
class Counts:
    """A profile's figures as counted (``profile``), before they become frames: what a
    big segment's profile is computed from (everyone's less the outside's)."""

    customers: int
    spending: Decimal
    orders: int
    highest: Decimal
    days: dict[int, int]  # customers by whole days since their last order
    countries: dict[str, int]
    rfm: dict[str, int]
    rhythm: dict[str, int]
    step: int  # the spending bands' width
    bands: dict[int, int]  # customers by band (spending // step)
    masks: dict[int, int] | None  # customers by category mask; None: not counted
    today: date  # the day the days and rhythm statuses were counted for


@slots.scan
def profile(
    con: Con,
    f: CustomerFilter,
    now: datetime,
    bits: queries.SetBitmaps | None = None,
    names: dict[int, str] | None = None,
) -> Profile:
    """The customer-row questions about the segment ``f``, in one statement.

    One statement because the predicate is then evaluated once: at a million
    customers a search ("bar") cost 50-60 ms per statement, and five
    statements (headline, spending, country, group, rhythm) took 280-330 ms
    where this one takes 35-50 ms. The matches keep only the columns the
    questions read, and each question groups them (one grouping with
    GROUPING SETS took 180-240 ms for everyone, these 135-140 ms). Days since
    the last order count calendar days (as the buying rhythm does): a DATE
    median took 21-29 ms at 1M, one over ``now() - last_order_at`` 500-850 ms,
    and now the median comes from a count per day (``median_of_counts``; the
    Coffee buyers' profile 106 -> 73 ms with the next change). The rhythm is
    grouped by its position in ``scores.RHYTHM_STATUSES``, 10-14 ms less than
    by its name.
    The spending bands use the smallest of ``HISTOGRAM_STEPS`` that gives at
    most ``HISTOGRAM_BARS`` bands. ``bits``: see ``crm.queries.segment_where``.

    With ``names`` (``category_names``) it counts the customers per category
    too, grouping the rows by ``category_mask`` (about a thousand masks for ten
    categories): at 1M customers 1-2 ms more, where ``top_categories`` joined
    the segment's ids with the 6.1 M (customer, category) pairs in 27-55 ms.
    """
    where, params = queries.segment_where(f, now, bits)
    return _profile_of(_counts(con, where, params, now, names is not None)[0], names)


# The profile's statement: {where} picks the rows counted; {step} is the band width
# ($steps: the smallest that fits the rows' top spender; or $fixed_step); {extra}
# adds questions (the category masks, the top spender of another set of rows).
_PROFILE = f"""
    WITH matches AS MATERIALIZED (
        SELECT total_spending, order_count,
               CAST($today AS DATE) - CAST(last_order_at AS DATE) AS days_since_order,
               coalesce(nullif(country, ''), '{NO_COUNTRY}') AS country,
               coalesce(rfm_group, '{NO_ORDERS}') AS rfm_group,
               {scores.RHYTHM_CODE_SQL} AS rhythm,
               category_mask
        FROM customers
        WHERE {{where}}
    ), step AS ({{step}})
    SELECT 'total', NULL, count(*), coalesce(sum(total_spending), 0),
           coalesce(sum(order_count), 0), coalesce(max(total_spending), 0)
    FROM matches
    UNION ALL
    SELECT 'days', CAST(days_since_order AS VARCHAR), count(*), NULL, NULL, NULL
    FROM matches WHERE days_since_order IS NOT NULL GROUP BY days_since_order
    UNION ALL
    SELECT 'country', country, count(*), NULL, NULL, NULL
    FROM matches GROUP BY country
    UNION ALL
    SELECT 'rfm', rfm_group, count(*), NULL, NULL, NULL
    FROM matches GROUP BY rfm_group
    UNION ALL
    SELECT 'rhythm', CAST(rhythm AS VARCHAR), count(*), NULL, NULL, NULL
    FROM matches GROUP BY rhythm
    UNION ALL
    SELECT 'band', CAST(floor(total_spending / step) AS BIGINT), count(*),
           any_value(step), NULL, NULL
    FROM matches CROSS JOIN step GROUP BY 2{{extra}}
"""  # noqa: S608 - module constants
_FITTING_STEP = """
    SELECT coalesce(min(s), 1) AS step
    FROM unnest(CAST($steps AS BIGINT[])) AS t(s)
    WHERE s * $bars >= (SELECT max(total_spending) FROM matches)
"""
_FIXED_STEP = "SELECT CAST($fixed_step AS BIGINT) AS step"
_BY_MASK = """
    UNION ALL
    SELECT 'mask', CAST(category_mask AS VARCHAR), count(*), NULL, NULL, NULL
    FROM matches GROUP BY category_mask"""
_TOP_OF = """
    UNION ALL
    SELECT 'top', NULL, NULL, coalesce(max(total_spending), 0), NULL, NULL
    FROM customers WHERE {where}"""


def _counts(
    con: Con,
    where: str,
    params: dict[str, Any],
    now: datetime,
    masks: bool,
    fixed_step: int | None = None,
    top_of: str | None = None,
) -> tuple[Counts, Decimal | None]:
    """The profile's counts of the rows ``where`` picks (bands ``fixed_step`` wide when
    given), and the top spender among the rows ``top_of`` picks when given."""
    extra = (_BY_MASK if masks else "") + (_TOP_OF.format(where=top_of) if top_of else "")
    sql = _PROFILE.format(
        where=where, step=_FITTING_STEP if fixed_step is None else _FIXED_STEP, extra=extra
    )
    values = {**params, **scores.rhythm_params(now.date()), "today": now.date()}
    if fixed_step is None:
        values.update(steps=HISTOGRAM_STEPS, bars=HISTOGRAM_BARS)
    else:
        values["fixed_step"] = fixed_step
    rows = con.cursor().execute(sql, values).fetchall()
    by_question: dict[str, list[tuple[Any, ...]]] = {}
    for question, *rest in rows:
        by_question.setdefault(str(question), []).append(tuple(rest))
    ((_, customers, spending, orders, highest),) = by_question["total"]
    band_rows = by_question.get("band", [])
    counts = Counts(
        customers=int(customers),
        spending=Decimal(spending),
        orders=int(orders),
        highest=Decimal(highest),
        days={int(value): int(n) for value, n, *_ in by_question.get("days", [])},
        countries={str(name): int(n) for name, n, *_ in by_question.get("country", [])},
        rfm={str(name): int(n) for name, n, *_ in by_question.get("rfm", [])},
        rhythm={
            scores.RHYTHM_STATUSES[int(code)]: int(n)
            for code, n, *_ in by_question.get("rhythm", [])
        },
        step=int(band_rows[0][2]) if band_rows else (fixed_step or 1),
        bands={int(band): int(n) for band, n, *_ in band_rows},
        masks={int(mask): int(n) for mask, n, *_ in by_question.get("mask", [])} if masks else None,
        today=now.date(),
    )
    top = by_question.get("top")
    return counts, (Decimal(top[0][2]) if top else None)


def _profile_of(counts: Counts, names: dict[int, str] | None) -> Profile:
    """The profile, as frames, of its counts."""
    step, bands = counts.step, counts.bands
    countries = sorted(
        ((name, n) for name, n in counts.countries.items() if n > 0),
        key=lambda row: (-row[1], row[0]),
    )
    return Profile(
        headline=Headline(
            customers=counts.customers,
            spending=counts.spending,
            orders=counts.orders,
            highest_spending=counts.highest,
            median_days_since_order=median_of_counts(list(counts.days.items())),
        ),
        spending=typed_frame(
            [
                (b * step, (b + 1) * step, bands.get(b, 0))
                for b in range(max(bands, default=-1) + 1)
            ],
            SPENDING_COLUMNS,
        ),
        countries=typed_frame(countries, COUNT_COLUMNS),
        rfm=_every_name(list(counts.rfm.items()), scores.GROUPS),
        rhythm=_every_name(list(counts.rhythm.items()), scores.RHYTHM_STATUSES),
        categories=None
        if names is None or counts.masks is None
        else _categories_of_masks(list(counts.masks.items()), names),
        counts=counts,
    )


def _less(whole: dict[Any, int], part: dict[Any, int]) -> dict[Any, int]:
    found = {key: n - part.get(key, 0) for key, n in whole.items()}
    return {key: n for key, n in found.items() if n > 0}


@slots.scan
def _profile_of_most(
    con: Con,
    f: CustomerFilter,
    now: datetime,
    bits: queries.SetBitmaps | None,
    names: dict[int, str] | None,
    everyone: Counts,
) -> Profile:
    """The profile of a segment of most customers, as everyone's counts less those of
    the customers outside it, counted in everyone's spending bands, with the
    segment's top spender read in the same statement. Read directly when the
    segment's top spender needs narrower bands than everyone's."""
    where, params = queries.segment_where(f, now, bits)
    outside, top = _counts(
        con,
        f"NOT coalesce(({where}), false)",  # a customer whose predicate is NULL is outside
        params,
        now,
        names is not None,
        fixed_step=everyone.step,
        top_of=where,
    )
    highest = top if top is not None else Decimal(0)
    customers = everyone.customers - outside.customers
    if not customers or histogram_step(highest) != everyone.step:
        return _profile_of(_counts(con, where, params, now, names is not None)[0], names)
    last_band = int(highest // everyone.step)
    masks = (
        None
        if everyone.masks is None or outside.masks is None
        else _less(everyone.masks, outside.masks)
    )
    return _profile_of(
        Counts(
            customers=customers,
            spending=everyone.spending - outside.spending,
            orders=everyone.orders - outside.orders,
            highest=highest,
            days=_less(everyone.days, outside.days),
            countries=_less(everyone.countries, outside.countries),
            rfm=_less(everyone.rfm, outside.rfm),
            rhythm=_less(everyone.rhythm, outside.rhythm),
            step=everyone.step,
            bands={b: n for b, n in _less(everyone.bands, outside.bands).items() if b <= last_band},
            masks=masks,
            today=everyone.today,
        ),
        names,
    )


def median_of_counts(counts: list[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many), as SQL's ``median`` and pandas
    give it (the mean of the two middle values when their number is even); None
    for no values."""
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    middle = ((total - 1) // 2, total // 2)  # 0-based positions of the middle values
    found: list[int] = []
    seen = 0
    for value, n in sorted(counts):
        while len(found) < 2 and middle[len(found)] < seen + n:
            found.append(value)
        seen += n
    return (found[0] + found[1]) / 2


def _every_name(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> pd.DataFrame:
    found = {str(row[0]): int(row[1]) for row in rows}
    return typed_frame([(name, found.get(name, 0)) for name in names], COUNT_COLUMNS)


def first_month(today: date, months: int = MONTHS) -> date:
    """The first day of the earliest of the ``months`` calendar months ending with today's."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


# Amount and orders by month index (year * 12 + month - 1) since $first_index,
# from each customer's orders per month (migration 019, kept by crm.facts in
# the transaction of every order write): 7.6 M rows at a million customers
# where the orders are 10.6 M, already grouped. For the orders themselves,
# grouped by day first then by month (a day is one division, a month a
# calendar computation), a segment's months took 45-120 ms at 1M; from these
# rows 20-25 % less (interleaved, 2 rounds of 9: the United States 65-71
# against 85-92 ms, the Coffee buyers 88 against 115-120). For everyone the
# rows are not matched to the customers at all; for a segment, by id. (Not
# $since: the segment's predicate binds that name to its last-visit bound.)
_MONTHS = """
    SELECT m.month_index, sum(m.amount), sum(m.orders)
    FROM customer_months AS m {segment}
    WHERE m.month_index >= $first_index
    GROUP BY m.month_index
"""
_MONTHS_OF_EVERYONE = _MONTHS.format(segment="")
MONTH_COLUMNS = {"month": "datetime64[us]", "amount": "float64", "orders": "int64"}


@slots.scan
def _month_rows(
    con: Con,
    f: CustomerFilter,
    now: datetime,
    bits: queries.SetBitmaps | None,
    outside: bool = False,
) -> dict[int, tuple[Decimal, int]]:
    """Amount and orders by month index of the segment (of everyone when ``f`` is
    not filtered; of the customers outside it with ``outside``)."""
    first = first_month(now.date())
    first_index = first.year * 12 + first.month - 1
    if segments.is_filtered(f):
        where, params = queries.segment_where(f, now, bits)
        if outside:  # a customer whose predicate is NULL is outside too
            segment = (
                f"JOIN (SELECT id FROM customers WHERE NOT coalesce(({where}), false)) AS segment"  # noqa: S608
            )
        else:
            segment = f"JOIN (SELECT id FROM customers WHERE {where}) AS segment"  # noqa: S608
        sql = _MONTHS.format(segment=segment + " ON segment.id = m.customer_id")
        rows = con.cursor().execute(sql, {**params, "first_index": first_index}).fetchall()
    else:
        rows = con.cursor().execute(_MONTHS_OF_EVERYONE, {"first_index": first_index}).fetchall()
    return {int(index): (Decimal(amount), int(n)) for index, amount, n in rows}


@dataclass(frozen=True)
class EveryoneOrders:
    """All customers' orders by month (index: ``_month_rows``): what a big segment's
    are computed from (``insights``)."""

    months: dict[int, tuple[Decimal, int]]


def everyone_orders(con: Con, now: datetime) -> EveryoneOrders:
    """All customers' months (the app caches them until a write)."""
    return EveryoneOrders(months=_month_rows(con, CustomerFilter(), now, None))


def revenue_by_month(
    con: Con,
    f: CustomerFilter,
    now: datetime,
    bits: queries.SetBitmaps | None = None,
    everyone: EveryoneOrders | None = None,
) -> pd.DataFrame:
    """The segment's orders per calendar month over the last ``MONTHS`` months, this one
    included (``month`` its first day, ``amount``, ``orders``), every month present.
    With ``everyone`` (all customers' figures) they are everyone's less those of the
    customers outside the segment: for a segment of most customers (``insights``)."""
    first = first_month(now.date())
    if everyone is not None and segments.is_filtered(f):
        rest = _month_rows(con, f, now, bits, outside=True)
        found = {
            index: (amount - rest.get(index, (0, 0))[0], n - rest.get(index, (0, 0))[1])
            for index, (amount, n) in everyone.months.items()
        }
    else:
        found = _month_rows(con, f, now, bits)
    start = first.year * 12 + first.month - 1
    return typed_frame(
        [
            (datetime(index // 12, index % 12 + 1, 1), *_as_float(found.get(index)))
            for index in range(start, start + MONTHS)
        ],
        MONTH_COLUMNS,
    )


def _as_float(month: tuple[Decimal, int] | None) -> tuple[float, int]:
    return (0.0, 0) if month is None else (float(month[0]), month[1])


# Customers per category bought, from the per-customer facts (migration 006)
# rather than the 23.5 M order lines.
_CATEGORIES_OF_EVERYONE = """
    SELECT category AS name, count(*) AS customers
    FROM customer_categories
    GROUP BY name
    ORDER BY customers DESC, name
    LIMIT $limit
"""


@slots.scan
def top_categories(
    con: Con,
    f: CustomerFilter,
    now: datetime,
    limit: int = TOP_CATEGORIES,
    bits: queries.SetBitmaps | None = None,
) -> pd.DataFrame:
    """The categories the most of the segment's customers bought (``name``,
    ``customers`` who bought it), most first, then by name, from the (customer,
    category) pairs: only when the masks cannot say (``category_names``: a 65th
    category), so a big segment is not read as everyone less the rest here."""
    if segments.is_filtered(f):
        where, params = queries.segment_where(f, now, bits)
        sql = f"""
            SELECT bought.category AS name, count(*) AS customers
            FROM customer_categories AS bought
            JOIN (SELECT id FROM customers WHERE {where}) AS segment
              ON segment.id = bought.customer_id
            GROUP BY name
            ORDER BY customers DESC, name
            LIMIT $limit
        """  # noqa: S608 - the overview's predicate
        rows = con.cursor().execute(sql, {**params, "limit": limit}).fetchall()
    else:
        rows = con.cursor().execute(_CATEGORIES_OF_EVERYONE, {"limit": limit}).fetchall()
    return typed_frame(rows, CATEGORY_COLUMNS)


@dataclass(frozen=True)
class Insights:
    """The segment's make-up, and all customers' profile to compare it with."""

    segment: Profile
    everyone: Profile
    months: pd.DataFrame
    categories: pd.DataFrame

    @property
    def share(self) -> float:
        """The segment's share of all customers (0 when there are none)."""
        everyone = self.everyone.headline.customers
        return self.segment.headline.customers / everyone if everyone else 0.0


def insights(
    con: Con,
    f: CustomerFilter,
    now: datetime | None = None,
    everyone: Profile | None = None,
    customers: int | None = None,
    orders_of_everyone: EveryoneOrders | None = None,
) -> Insights:
    """Every insight of the segment ``f``. ``everyone`` is all customers' profile
    when the caller has it (a cache): it is read here otherwise, unless ``f``
    is everyone itself. The months are read side by side with the profile, on
    their own cursor, and so are the categories when the customers' masks cannot
    count them (``category_names``)."""
    now = now or datetime.now()
    bits = queries.set_bits(con, f, now) if segments.is_filtered(f) else None
    names = category_names(con)
    # ``customers``: the segment's count when the caller knows it (the overview's);
    # a segment of more than half of everyone then reads its months and profile
    # as everyone's (``orders_of_everyone`` and ``everyone``, cached by the app)
    # less the outside's.
    big = (
        segments.is_filtered(f)
        and customers is not None
        and everyone is not None
        and 2 * customers > everyone.headline.customers
    )
    base = (orders_of_everyone or everyone_orders(con, now)) if big else None
    months = _POOL.submit(revenue_by_month, con, f, now, bits, base)
    categories = (
        None
        if names is not None
        else _POOL.submit(top_categories, con, f, now, TOP_CATEGORIES, bits)
    )
    if segments.is_filtered(f):
        counted = None if everyone is None else everyone.counts
        if (
            big
            and counted is not None
            and counted.today == now.date()
            and (names is None or counted.masks is not None)
        ):
            segment = _profile_of_most(con, f, now, bits, names, counted)
        else:
            segment = profile(con, f, now, bits, names)
        everyone = everyone or profile(con, CustomerFilter(), now, names=names)
    else:
        if everyone is None or (names is not None and everyone.categories is None):
            everyone = profile(con, f, now, names=names)
        segment = everyone
    if categories is not None:
        top = categories.result()
    else:
        assert segment.categories is not None  # read with ``names``
        top = segment.categories.head(TOP_CATEGORIES).reset_index(drop=True)
    return Insights(segment=segment, everyone=everyone, months=months.result(), categories=top)
