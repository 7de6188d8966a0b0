"""Deterministic demo data, from a few hundred customers to millions.

One ``random.Random(seed)`` draws everything small: the name pools (through
Faker instances seeded from it), street patterns, the product catalogue, the
campaigns and one integer salt. SQL then expands that material to millions of
rows: every decision about row ``key`` is the uniform number
``seed_u(key, salt, purpose)``, made from DuckDB's ``hash``. Unlike
``random()``, a hash does not depend on how rows are split across threads,
so the same (seed, customers, as_of) always builds the same database.

    python -m crm.demo.seed --db PATH --customers N --seed S [--as-of YYYY-MM-DD] [--force]

Customers fall into the ``SEGMENTS`` below (never visited, browsers, one-off
buyers, new, lapsed, loyal, regular); the segment itself is not stored, it
shows in the figures (``order_count``, ``visit_count``, ``last_visit``).
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TextIO

import duckdb
from faker import Faker

from crm import config, db, facts, search
from crm.campaigns import facts as campaign_facts
from crm.db import connect, transaction, wal_path
from crm.demo.pools import (
    CAMPAIGN_THEMES,
    CATALOGUE,
    COUNTRIES,
    GLOBAL_EMAIL_DOMAINS,
    LOCAL_EMAIL_SHARE,
    MESSAGE_TEMPLATES,
    Country,
)
from crm.errors import CrmError
from crm.scores import score_everyone

Con = duckdb.DuckDBPyConnection

# Orders and visits fall in the HISTORY_DAYS days before as_of, and on as_of itself.
HISTORY_DAYS = 730
# Event keys are customer_id * EVENT_STRIDE + k, so a customer has fewer events than this.
EVENT_STRIDE = 1024
# Basket sizes, repeated by frequency (mean about 2.3 lines). The SQL spells out
# one term per possible line, so a basket has at most MAX_BASKET lines.
MAX_BASKET = 5
BASKET_SIZES = (1,) * 30 + (2,) * 32 + (3,) * 20 + (4,) * 11 + (5,) * 7
# Hours of the day, repeated by frequency: shops open 8-20, the web peaks in the evening.
STORE_HOURS: tuple[int, ...] = (
    8,
    9,
    9,
    10,
    10,
    11,
    11,
    12,
    12,
    12,
    13,
    13,
    14,
    14,
    15,
    15,
    16,
    16,
    17,
    17,
    18,
    19,
)
WEB_HOURS: tuple[int, ...] = (
    0,
    1,
    6,
    7,
    7,
    8,
    9,
    10,
    11,
    12,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    19,
    20,
    20,
    20,
)
WEB_HOURS += (21, 21, 21, 22, 22, 23)
BROWSE_WEB_SHARE = 0.85
NO_PHONE_SHARE = 0.05
MOBILE_SHARE = 0.6
CAPITALISED_EMAIL_SHARE = 0.03
UPDATED_PROFILE_SHARE = 0.2
MESSAGE_SHARE = 0.03
SECOND_MESSAGE_SHARE = 0.01
FAILED_MESSAGE_SHARE = 0.05
# Each demo campaign holds out this share of its audience as a control group
# (status Control, never sent anything), so its lift can be measured. More than
# the app's 10 % default: the 1,000-customer demo's campaigns reach 50-600
# people, and with 10 % held out and effects of 8-25 points only 1 of 17 showed
# a lift distinguishable from zero (seed 42); with 25 % and 20-40 points, 6 do,
# 10 cannot be told apart from no effect and 1 shows the 1-in-20 chance of a
# "real" negative effect.
CONTROL_SHARE = 0.25
# Campaigns with a real effect: this share of them, each making a delivered
# customer order again within 14 days with an extra probability drawn in
# [EFFECT_MIN, EFFECT_MAX] (on top of their usual orders); the other campaigns
# change nothing. Large enough to show in the 1,000-customer demo (see above).
EFFECTIVE_CAMPAIGN_SHARE = 0.6
EFFECT_MIN, EFFECT_MAX = 0.20, 0.40
# Marketing consent (issue 10), near what Shopify stores report: most customers
# tick "email me news" at checkout, fewer give SMS. Unsubscribed ones had
# subscribed first. SMS shares are of the customers with a phone number.
EMAIL_SUBSCRIBED_SHARE = 0.60
EMAIL_UNSUBSCRIBED_SHARE = 0.12
SMS_SUBSCRIBED_SHARE = 0.30
SMS_UNSUBSCRIBED_SHARE = 0.08
# Of those who subscribed, how many did it when they signed up (the others later).
EMAIL_AT_SIGNUP_SHARE = 0.7
SMS_AT_SIGNUP_SHARE = 0.4
# A campaign's audience (a share of the customers) is drawn among its channel's
# subscribers of the day, scaled up by this over the share who ever subscribed:
# a campaign goes to more of its subscribers than it did to all customers. At
# 1.5, about 58 % of 300 demo customers opened or clicked something (66 % before
# consent; 46 % at 1.0, which left Insights' tests without a big engaged segment)
# and there are ~18 % more sends.
SUBSCRIBER_AUDIENCE = 1.5

_DAY_US = 86_400_000_000
_SECOND_US = 1_000_000
# The day of an event is looked up in this many equal slices of the cumulative day
# weight: a list lookup per row, far cheaper than an ASOF join over millions of rows.
_DAY_BUCKETS = 65_536
# Weighted picks go through lists of slots; large constant lists are slow in DuckDB.
_PRODUCT_SLOTS = 1_024
_NAME_DRAWS = 500  # Faker draws per locale and name part; duplicates are dropped


@dataclass(frozen=True)
class Segment:
    """A kind of customer and the ranges its activity is drawn from (days, counts)."""

    name: str
    share: float
    last_ago: tuple[int, int]  # days from the last visit to as_of
    span: tuple[int, int]  # days from the first visit to the last
    orders: tuple[int, int]
    browse_per_order: tuple[float, float]  # visits without an order, per order
    browse: tuple[int, int]  # and on top of those
    signup_gap: int  # at most this many days from sign-up to the first visit


# Shares add up to 1; the mean is about 10 orders and 17 visits per customer.
SEGMENTS: tuple[Segment, ...] = (
    Segment("never_visited", 0.05, (0, HISTORY_DAYS), (0, 0), (0, 0), (0, 0), (0, 0), 0),
    Segment("browser", 0.07, (0, 700), (0, 300), (0, 0), (0, 0), (1, 8), 60),
    Segment("one_off", 0.12, (0, 700), (0, 45), (1, 1), (0, 0), (0, 2), 30),
    Segment("new", 0.08, (0, 0), (1, 98), (1, 5), (0, 0), (0, 3), 2),
    Segment("lapsed", 0.20, (200, 530), (60, 460), (3, 13), (0.3, 1.1), (0, 0), 300),
    Segment("loyal", 0.18, (0, 7), (560, HISTORY_DAYS), (18, 42), (0.3, 1.1), (0, 0), 500),
    Segment("regular", 0.30, (0, 160), (150, 600), (4, 14), (0.3, 1.1), (0, 0), 400),
)


@dataclass(frozen=True)
class SeedSummary:
    customers: int
    products: int
    orders: int
    order_items: int
    visits: int
    campaigns: int
    campaign_sends: int
    messages: int
    seconds: float


@dataclass(frozen=True)
class _PeoplePool:
    country: Country
    first_names: list[str]
    last_names: list[str]
    street_patterns: list[str]


@dataclass(frozen=True)
class _Product:
    name: str
    category: str
    price_cents: int
    popularity: float


@dataclass(frozen=True)
class _Campaign:
    name: str
    channel: str
    template: str
    created_at: datetime
    audience: float  # share of the customers who had signed up by then
    fail_rate: float
    open_rate: float
    click_rate: float  # of those who opened


@dataclass(frozen=True)
class _Material:
    people: list[_PeoplePool]
    products: list[_Product]
    campaigns: list[_Campaign]
    salt: int


# --- Progress ---------------------------------------------------------------------

_STAGES = (
    "material",
    "plan",
    "events",
    "people",
    "campaign plan",
    "orders",
    "order items",
    "visits",
    "customers",
    "campaigns",
    "messages",
    "segment facts",
    "commit",
    "scores",
    "checkpoint",
)


class _Progress:
    """One line per stage on stderr; a terminal sees the running stage too."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self._enabled = enabled
        self._stream = stream if stream is not None else sys.stderr
        self._done = 0
        self._label = ""
        self._started = 0.0

    def _line(self, label: str, suffix: str) -> str:
        width = 24
        filled = width * self._done // len(_STAGES)
        bar = "#" * filled + "." * (width - filled)
        return f"seed [{bar}] {self._done:2d}/{len(_STAGES)} {label:<12} {suffix}"

    def begin(self, label: str) -> None:
        self._label = label
        self._started = time.perf_counter()
        if self._enabled and self._stream.isatty():
            self._stream.write("\r" + self._line(label, "..."))
            self._stream.flush()

    def end(self) -> None:
        self._done += 1
        if self._enabled:
            elapsed = time.perf_counter() - self._started
            start = "\r" if self._stream.isatty() else ""
            self._stream.write(start + self._line(self._label, f"{elapsed:6.1f} s\n"))
            self._stream.flush()

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        self.begin(label)
        yield
        self.end()


# --- Material drawn in Python -------------------------------------------------------


@cache
def _faker(locale: str) -> Faker:
    # Building a Faker is slow; reseeding a cached one gives the same draws.
    return Faker(locale)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _draw_people(rng: random.Random) -> list[_PeoplePool]:
    pools = []
    for country in COUNTRIES:
        fake = _faker(country.faker_locale)
        fake.seed_instance(rng.randrange(2**32))
        first = _unique(fake.first_name() for _ in range(_NAME_DRAWS))
        last = _unique(fake.last_name() for _ in range(_NAME_DRAWS))
        streets = [
            country.street_format.format(number=number, name=name)
            for name in country.street_names
            for number in country.house_numbers
        ]
        pools.append(_PeoplePool(country, first, last, streets))
    return pools


def _shop_price(amount: float, rng: random.Random) -> int:
    """A price in cents that looks chosen by a shop: 3.20, 3.19, 24.50, 24.99."""
    if amount >= 20:
        whole = round(amount)
        return whole * 100 - rng.choice((1, 1, 50, 5))
    tenths = max(round(amount * 10), 5)
    return tenths * 10 - rng.choice((0, 0, 1, 5)) if tenths % 10 else tenths * 10 - 1


def _draw_catalogue(rng: random.Random) -> list[_Product]:
    products = []
    for category in CATALOGUE:
        for line in category.lines:
            count = rng.randint(1, len(line.variants))
            chosen = sorted(rng.sample(range(len(line.variants)), count))
            for index in chosen:
                suffix, factor = line.variants[index]
                name = f"{line.name} ({suffix})" if suffix else line.name
                if line.exact_price:
                    cents = round(line.price * factor * 100)
                else:
                    cents = _shop_price(line.price * factor * rng.uniform(0.94, 1.06), rng)
                # Big packs sell less often than small ones.
                popularity = category.popularity * rng.lognormvariate(0, 0.6) / factor**0.5
                products.append(_Product(name, category.name, cents, popularity))
    return products


def _months_back(as_of: date, count: int) -> list[date]:
    """The first day of the ``count`` months up to and including as_of's month."""
    months = []
    year, month = as_of.year, as_of.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _draw_campaigns(rng: random.Random, as_of: date) -> list[_Campaign]:
    earliest = as_of - timedelta(days=HISTORY_DAYS - 7)
    latest = as_of - timedelta(days=3)  # so every send of the last campaign is in the past
    days = [m.replace(day=rng.randint(3, 24)) for m in _months_back(as_of, 25)]
    days = [d for d in days if earliest <= d <= latest]
    holidays = [d for d in days if d.month >= 11]
    others = [d for d in days if d.month < 11]
    wanted = rng.randint(14, 18)
    picked = sorted(holidays + rng.sample(others, max(0, min(len(others), wanted - len(holidays)))))
    campaigns = []
    for day in picked:
        theme = CAMPAIGN_THEMES[day.month - 1]
        channel = (
            "Email" if day.month >= 11 else rng.choices(("Email", "SMS", "Push"), (55, 27, 18))[0]
        )
        template = {"Email": theme.email, "SMS": theme.sms, "Push": theme.push}[channel]
        created = datetime(
            day.year, day.month, day.day, rng.randint(8, 11), rng.choice((0, 15, 30))
        )
        open_low, open_high = {"Email": (0.25, 0.45), "SMS": (0.5, 0.8), "Push": (0.08, 0.2)}[
            channel
        ]
        campaigns.append(
            _Campaign(
                name=f"{theme.name} {day.year}",
                channel=channel,
                template=template,
                created_at=created,
                audience=rng.uniform(0.2, 0.5) if channel == "Email" else rng.uniform(0.08, 0.25),
                fail_rate=rng.uniform(0.04, 0.1),
                open_rate=rng.uniform(open_low, open_high),
                click_rate=rng.uniform(0.1, 0.35),
            )
        )
    return campaigns


def _draw_material(seed: int, as_of: date) -> _Material:
    rng = random.Random(seed)
    people = _draw_people(rng)
    products = _draw_catalogue(rng)
    campaigns = _draw_campaigns(rng, as_of)
    return _Material(people, products, campaigns, salt=rng.getrandbits(62))


def _slots(weights: Sequence[float], size: int) -> list[int]:
    """Indexes repeated in proportion to ``weights`` (at least once each), about ``size`` in all."""
    total = sum(weights)
    shares = [w / total * size for w in weights]
    counts = [max(1, int(share)) for share in shares]
    by_remainder = sorted(
        range(len(shares)), key=lambda i: shares[i] - int(shares[i]), reverse=True
    )
    for i in by_remainder[: max(0, size - sum(counts))]:
        counts[i] += 1
    return [i for i, count in enumerate(counts) for _ in range(count)]


def _day_weights(as_of: date) -> list[float]:
    """How busy each day of the history is: holiday peaks, weekends, slow growth."""
    start = as_of - timedelta(days=HISTORY_DAYS)
    weights = []
    for offset in range(HISTORY_DAYS + 1):
        day = start + timedelta(days=offset)
        weight = 1.0
        if day.month == 12 and day.day <= 24:
            weight = 1.9  # Christmas shopping
        elif day.month == 11 and day.day >= 20:
            weight = 1.7  # Black Friday
        elif day.month in (11, 12):
            weight = 1.3
        elif day.month in (1, 2):
            weight = 0.85
        elif day.month in (7, 8):
            weight = 0.9
        weight *= {5: 1.25, 6: 1.1}.get(day.weekday(), 1.0)
        weights.append(weight * (0.85 + 0.3 * offset / HISTORY_DAYS))
    return weights


def _cumulative(weights: Sequence[float]) -> list[float]:
    cum = [0.0]
    for weight in weights:
        cum.append(cum[-1] + weight)
    return cum


# --- SQL ---------------------------------------------------------------------------

_MACROS = (
    # A uniform number in [0, 1) for (key, purpose): the top 53 bits of a hash. The
    # purpose goes through its own hash first: hash(key, salt, purpose) only XORs
    # the three hashes together, which would tie one purpose's numbers to another's.
    "CREATE TEMP MACRO seed_u(key, salt, purpose) AS"
    " (hash(xor(key::UBIGINT, hash(salt + purpose * 1000003))) >> 11)::DOUBLE"
    " / 9007199254740992.0",
    # Fills '#' with a digit, '%' with a digit 2-9 and '?' with a capital letter.
    """CREATE TEMP MACRO seed_fill(pattern, key, salt, purpose) AS array_to_string(
        list_transform(string_split(pattern, ''), lambda ch, pos: CASE ch
            WHEN '#' THEN chr(48 + floor(seed_u(key, salt, purpose * 1000 + pos) * 10)::INTEGER)
            WHEN '%' THEN chr(50 + floor(seed_u(key, salt, purpose * 1000 + pos) * 8)::INTEGER)
            WHEN '?' THEN chr(65 + floor(seed_u(key, salt, purpose * 1000 + pos) * 26)::INTEGER)
            ELSE ch END),
        '')""",
    # The letters a-z of a name, for the local part of an email address.
    """CREATE TEMP MACRO seed_ascii(name) AS coalesce(nullif(regexp_replace(strip_accents(
        replace(replace(replace(lower(name), 'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe')),
        '[^a-z]', '', 'g'), ''), 'customer')""",
    # Line j of a basket: products first, first + stride, ... are distinct because
    # (MAX_BASKET - 1) * stride < n_products.
    "CREATE TEMP MACRO seed_line_product(first, stride, j, n_products) AS"
    " (first + j * stride) % n_products",
    """CREATE TEMP MACRO seed_line_quantity(ekey, j, salt) AS CASE
        WHEN seed_u(ekey * 8 + j, salt, 33) < 0.74 THEN 1
        WHEN seed_u(ekey * 8 + j, salt, 33) < 0.93 THEN 2
        WHEN seed_u(ekey * 8 + j, salt, 33) < 0.98 THEN 3
        ELSE 4 END""",
    """CREATE TEMP MACRO seed_line_cents(ekey, j, n_lines, first, stride, salt, prices, n_products)
        AS CASE WHEN j < n_lines THEN seed_line_quantity(ekey, j, salt)
            * prices[1 + seed_line_product(first, stride, j, n_products)] ELSE 0 END""",
    "CREATE TEMP MACRO seed_cents_to_decimal(cents) AS (cents::DECIMAL(12, 0) * 0.01)",
)

_LOAD_SQL = {
    # Each pool holds every country's entries one after the other, keyed by position
    # alone; a country's entries start at its first_at, last_at, street_at, city_at.
    "countries": """
        CREATE TEMP TABLE seed_countries AS SELECT
            unnest($ci) AS ci, unnest($name) AS name,
            unnest($first_at) AS first_at, unnest($n_first) AS n_first,
            unnest($last_at) AS last_at, unnest($n_last) AS n_last,
            unnest($street_at) AS street_at, unnest($n_streets) AS n_streets,
            unnest($city_at) AS city_at, unnest($n_cities) AS n_cities,
            unnest($email_domains) AS email_domains,
            unnest($mobile_patterns) AS mobile_patterns""",
    "first_names": """
        CREATE TEMP TABLE seed_first_names AS
        SELECT unnest($pos) AS pos, unnest($value) AS name""",
    "last_names": """
        CREATE TEMP TABLE seed_last_names AS
        SELECT unnest($pos) AS pos, unnest($value) AS name""",
    "streets": """
        CREATE TEMP TABLE seed_streets AS
        SELECT unnest($pos) AS pos, unnest($value) AS pattern""",
    "cities": """
        CREATE TEMP TABLE seed_cities AS SELECT
            unnest($pos) AS pos, unnest($city) AS city, unnest($state) AS state,
            unnest($zip_pattern) AS zip_pattern, unnest($landline_pattern) AS landline_pattern""",
    "segments": """
        CREATE TEMP TABLE seed_segments AS SELECT
            unnest($si) AS si, unnest($name) AS segment,
            unnest($last_ago_min) AS last_ago_min, unnest($last_ago_max) AS last_ago_max,
            unnest($span_min) AS span_min, unnest($span_max) AS span_max,
            unnest($orders_min) AS orders_min, unnest($orders_max) AS orders_max,
            unnest($browse_rate_min)::DOUBLE AS browse_rate_min,
            unnest($browse_rate_max)::DOUBLE AS browse_rate_max,
            unnest($browse_min) AS browse_min, unnest($browse_max) AS browse_max,
            unnest($signup_gap) AS signup_gap""",
    # Lists read by position in the big statements. A one-row table joined in is
    # far faster than the same list bound as a parameter, which DuckDB copies per row.
    "lists": """
        CREATE TEMP TABLE seed_lists AS SELECT
            $day_cum::DOUBLE[] AS day_cum, $bucket_days::INTEGER[] AS bucket_days,
            $segment_cuts::DOUBLE[] AS segment_cuts, $country_slots::INTEGER[] AS country_slots,
            $web_hours::INTEGER[] AS web_hours, $store_hours::INTEGER[] AS store_hours,
            $basket_sizes::INTEGER[] AS basket_sizes, $product_slots::INTEGER[] AS product_slots,
            $prices::BIGINT[] AS prices, $global_domains::VARCHAR[] AS global_domains""",
    "products": """
        INSERT INTO products (id, name, category, price)
        SELECT unnest($id), unnest($name), unnest($category),
               seed_cents_to_decimal(unnest($price_cents))""",
    "campaigns": """
        INSERT INTO campaigns (id, name, channel, template, created_at)
        SELECT unnest($id), unnest($name), unnest($channel), unnest($template),
               unnest($created_at)::TIMESTAMP""",
    "campaign_plans": """
        CREATE TEMP TABLE seed_campaign_plans AS SELECT
            unnest($id) AS id, unnest($channel) AS channel, unnest($created_us) AS created_us,
            unnest($audience)::DOUBLE AS audience, unnest($fail_rate)::DOUBLE AS fail_rate,
            unnest($open_rate)::DOUBLE AS open_rate, unnest($click_rate)::DOUBLE AS click_rate,
            unnest($effect)::DOUBLE AS effect""",
    "message_templates": """
        CREATE TEMP TABLE seed_message_templates AS SELECT
            unnest($k) AS k, unnest($channel) AS channel, unnest($subject) AS subject,
            unnest($body) AS body""",
}

# Per customer: segment, country, active days, how many orders and browse visits,
# and where the customer's visit and order ids start.
_PLAN_SQL = """
CREATE TEMP TABLE seed_plan AS
WITH drawn AS (
    SELECT
        id,
        seed_u(id, $salt, 1) AS u_segment,
        seed_u(id, $salt, 2) AS u_last,
        seed_u(id, $salt, 3) AS u_span,
        seed_u(id, $salt, 4) AS u_orders,
        seed_u(id, $salt, 5) AS u_browse_rate,
        seed_u(id, $salt, 6) AS u_browse,
        seed_u(id, $salt, 7) AS u_gap,
        seed_u(id, $salt, 8) AS u_signup_time,
        seed_u(id, $salt, 9) AS u_web,
        seed_u(id, $salt, 10) AS u_country,
        seed_u(id, $salt, 11) AS u_phase
    FROM range(1, $customers + 1) AS r(id)
),
segmented AS (
    SELECT
        d.*,
        len(list_filter(l.segment_cuts, lambda cut: cut <= d.u_segment)) AS si,
        l.country_slots[1 + floor(d.u_country * len(l.country_slots))::BIGINT] AS ci
    FROM drawn d
    CROSS JOIN seed_lists l
),
sized AS (
    SELECT
        d.id, d.ci, s.segment, d.u_signup_time, d.u_web, d.u_phase,
        s.last_ago_min + floor(d.u_last * (s.last_ago_max - s.last_ago_min + 1))::INTEGER
            AS last_ago,
        s.span_min + floor(d.u_span * (s.span_max - s.span_min + 1))::INTEGER AS span,
        s.orders_min + floor(d.u_orders * (s.orders_max - s.orders_min + 1))::INTEGER
            AS n_orders,
        s.browse_rate_min + d.u_browse_rate * (s.browse_rate_max - s.browse_rate_min)
            AS browse_rate,
        s.browse_min + floor(d.u_browse * (s.browse_max - s.browse_min + 1))::INTEGER
            AS browse_extra,
        floor(d.u_gap * (s.signup_gap + 1))::INTEGER AS gap
    FROM segmented d
    JOIN seed_segments s ON s.si = d.si
),
dated AS (
    SELECT
        *,
        $history_days - last_ago AS last_day,
        greatest(0, $history_days - last_ago - span) AS first_day,
        n_orders + floor(n_orders * browse_rate)::INTEGER + browse_extra AS n_events
    FROM sized
),
weighed AS (
    -- The cumulative day weight at the start of the first and after the last active
    -- day. (Read right after the join: an operator that stores rows would copy the list.)
    SELECT d.*, l.day_cum[d.first_day + 1] AS w0, l.day_cum[d.last_day + 2] AS w1
    FROM dated d
    CROSS JOIN seed_lists l
)
SELECT
    id, segment, ci, n_orders, n_events, first_day, last_day, w0, w1,
    floor(u_phase * n_events)::BIGINT AS order_phase,
    0.15 + 0.75 * u_web AS web_share,
    -- Sign-up is on a day before the first visit, so always before it.
    $base_us + (first_day - 1 - gap) * $day_us
        + floor(u_signup_time * 86400)::BIGINT * $second_us AS created_us,
    coalesce(sum(n_events) OVER earlier, 0) AS visit_offset,
    coalesce(sum(n_orders) OVER earlier, 0) AS order_offset
FROM weighed
WINDOW earlier AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
ORDER BY id
"""

# Every visit, with or without an order: its id, time, channel and, for an order,
# its basket. Rows come out by customer and then day, and ids follow that order,
# so one customer's history sits in a few row groups of each table.
_EVENTS_SQL = """
CREATE TEMP TABLE seed_events AS
WITH stubs AS (
    SELECT
        id AS customer_id, n_orders, n_events, order_phase, first_day, last_day, web_share,
        w0, w1, visit_offset, order_offset, unnest(range(n_events)) AS k
    FROM seed_plan
),
keyed AS (
    SELECT
        *,
        customer_id * $event_stride + k AS ekey,
        -- Orders are spread evenly among the visits: order j is visit
        -- (j * n_events + order_phase) // n_orders, so visit k holds order
        -- ceil((k * n_orders - order_phase) / n_events) if that order lands on it.
        CASE WHEN n_orders > 0
             THEN (k * n_orders - order_phase + n_events - 1) // n_events END AS order_no
    FROM stubs
),
targeted AS (
    SELECT
        * EXCLUDE (order_no),
        CASE WHEN order_no * n_events + order_phase < (k + 1) * n_orders THEN order_no END
            AS order_no,
        -- Visit k lies in the k-th of n_events equal slices of the customer's
        -- cumulative day weight: busy days get more visits, and k follows the days.
        w0 + (k + seed_u(ekey, $salt, 20)) / n_events * (w1 - w0) AS target
    FROM keyed
),
dated AS (
    SELECT
        t.*,
        l.bucket_days[1 + least(floor(t.target * $buckets_per_weight)::BIGINT, $last_bucket)]
            AS bucket_day,
        l.day_cum, l.web_hours, l.store_hours, l.basket_sizes, l.product_slots, l.prices
    FROM targeted t
    CROSS JOIN seed_lists l
),
-- A bucket may straddle two days; compare with the day's bounds to pick the right one.
days AS (
    SELECT
        * EXCLUDE (bucket_day),
        least(greatest(
            bucket_day - (target < day_cum[bucket_day + 1])::INTEGER
                + (target >= day_cum[bucket_day + 2])::INTEGER,
            first_day), last_day) AS day,
        order_no IS NOT NULL AS is_order
    FROM dated
),
channelled AS (
    SELECT
        *,
        CASE WHEN seed_u(ekey, $salt, 21)
                  < CASE WHEN is_order THEN web_share ELSE $browse_web_share END
             THEN 'web' ELSE 'store' END AS channel
    FROM days
),
timed AS (
    SELECT
        *,
        CASE channel
            WHEN 'web' THEN web_hours[1 + floor(seed_u(ekey, $salt, 22) * len(web_hours))::BIGINT]
            ELSE store_hours[1 + floor(seed_u(ekey, $salt, 22) * len(store_hours))::BIGINT]
        END AS hour
    FROM channelled
),
baskets AS (
    SELECT
        *,
        CASE WHEN is_order THEN basket_sizes[1 + floor(seed_u(ekey, $salt, 30)
                                                       * len(basket_sizes))::BIGINT]
        END AS n_lines,
        CASE WHEN is_order THEN product_slots[1 + floor(seed_u(ekey, $salt, 31)
                                                        * len(product_slots))::BIGINT]
        END AS first_product,
        CASE WHEN is_order THEN 1 + floor(seed_u(ekey, $salt, 32) * $stride_max)::BIGINT
        END AS stride
    FROM timed
)
SELECT
    customer_id, k, ekey, is_order, channel,
    make_timestamp($base_us + day * $day_us
                   + (hour * 3600 + floor(seed_u(ekey, $salt, 23) * 3600)::BIGINT) * $second_us)
        AS event_at,
    visit_offset + k + 1 AS visit_id,
    order_offset + order_no + 1 AS order_id,
    n_lines, first_product, stride,
    CASE WHEN is_order THEN
        seed_line_cents(ekey, 0, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 1, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 2, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 3, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 4, n_lines, first_product, stride, $salt, prices, $n_products)
    END AS amount_cents
FROM baskets
"""

_ORDERS_SQL = """
INSERT INTO orders (id, customer_id, ordered_at, amount)
SELECT order_id, customer_id, event_at, seed_cents_to_decimal(amount_cents)
FROM seed_events
WHERE is_order
"""

_ORDER_ITEMS_SQL = """
INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price)
SELECT
    order_id, customer_id, 1 + product, seed_line_quantity(ekey, j, $salt),
    seed_cents_to_decimal(prices[1 + product])
FROM (
    SELECT *, seed_line_product(first_product, stride, j, $n_products) AS product
    FROM (
        SELECT order_id, customer_id, ekey, first_product, stride,
               unnest(range(n_lines)) AS j
        FROM seed_events
        WHERE is_order
    )
)
CROSS JOIN (SELECT prices FROM seed_lists)
"""

_VISITS_SQL = """
INSERT INTO visits (id, customer_id, visited_at, channel, order_id)
SELECT visit_id, customer_id, event_at, channel, order_id
FROM seed_events
"""

_FIGURES_SQL = """
CREATE TEMP TABLE seed_figures AS
SELECT
    customer_id,
    sum(amount_cents) AS spent_cents,
    count(order_id) AS order_count,
    count(*) AS visit_count,
    max(event_at) AS last_visit,
    min(event_at) FILTER (WHERE is_order) AS first_order_at,
    max(event_at) FILTER (WHERE is_order) AS last_order_at
FROM seed_events
GROUP BY customer_id
"""

# Names, contact details and address of each customer, drawn from their country's pools.
_PEOPLE_SQL = """
CREATE TEMP TABLE seed_people AS
WITH drawn AS (
    SELECT
        p.id, p.ci, p.created_us,
        seed_u(p.id, $salt, 40) AS u_first,
        seed_u(p.id, $salt, 41) AS u_last,
        seed_u(p.id, $salt, 42) AS u_street,
        seed_u(p.id, $salt, 43) AS u_city,
        seed_u(p.id, $salt, 44) AS u_mailbox,
        seed_u(p.id, $salt, 45) AS u_local_domain,
        seed_u(p.id, $salt, 46) AS u_domain,  -- picks a local or a global domain
        seed_u(p.id, $salt, 47) AS u_capital,
        seed_u(p.id, $salt, 48) AS u_phone,
        seed_u(p.id, $salt, 49) AS u_mobile,
        seed_u(p.id, $salt, 50) AS u_mobile_pattern,
        seed_u(p.id, $salt, 51) AS u_updated,
        seed_u(p.id, $salt, 52) AS u_updated_at,
        l.global_domains[1 + floor(seed_u(p.id, $salt, 46) * len(l.global_domains))::BIGINT]
            AS global_domain
    FROM seed_plan p
    CROSS JOIN seed_lists l
),
countried AS (
    -- Pool positions first, so each pool below is joined on its own key column. Not
    -- on (ci, k): DuckDB 1.5 estimates a table made in the open transaction at 0
    -- rows, and with ci shared by all four pools it first joined them with one
    -- another on ci alone, each country's first x last names x streets x cities
    -- (680 million rows, whatever the number of customers): 64 GB of temporary
    -- files. A key no two pools share leaves only joins through the customer.
    SELECT
        d.*, c.name AS country, c.mobile_patterns, c.email_domains,
        c.first_at + floor(d.u_first * c.n_first)::BIGINT AS pos_first,
        c.last_at + floor(d.u_last * c.n_last)::BIGINT AS pos_last,
        c.street_at + floor(d.u_street * c.n_streets)::BIGINT AS pos_street,
        c.city_at + floor(d.u_city * c.n_cities)::BIGINT AS pos_city
    FROM drawn d
    JOIN seed_countries c ON c.ci = d.ci
),
placed AS (
    SELECT
        d.*, f.name AS first_name, l.name AS last_name,
        seed_fill(s.pattern, d.id, $salt, 1) AS street,
        t.city, t.state, seed_fill(t.zip_pattern, d.id, $salt, 2) AS zip,
        CASE
            WHEN d.u_phone < $no_phone_share THEN ''
            WHEN len(d.mobile_patterns) > 0 AND d.u_mobile < $mobile_share
                THEN seed_fill(d.mobile_patterns[1 + floor(d.u_mobile_pattern
                                                           * len(d.mobile_patterns))::BIGINT],
                               d.id, $salt, 3)
            ELSE seed_fill(t.landline_pattern, d.id, $salt, 3)
        END AS phone,
        CASE
            WHEN d.u_local_domain < $local_email_share
                THEN d.email_domains[1 + floor(d.u_domain * len(d.email_domains))::BIGINT]
            ELSE d.global_domain
        END AS domain
    FROM countried d
    JOIN seed_first_names f ON f.pos = d.pos_first
    JOIN seed_last_names l ON l.pos = d.pos_last
    JOIN seed_streets s ON s.pos = d.pos_street
    JOIN seed_cities t ON t.pos = d.pos_city
),
spelled AS (
    SELECT *, seed_ascii(first_name) AS first_ascii, seed_ascii(last_name) AS last_ascii
    FROM placed
),
-- The customer id ends every mailbox and follows a letter, so no two are alike.
mailboxes AS (
    SELECT
        *,
        CASE
            WHEN u_mailbox < 0.40 THEN first_ascii || '.' || last_ascii
            WHEN u_mailbox < 0.55 THEN first_ascii || last_ascii
            WHEN u_mailbox < 0.65 THEN first_ascii || '_' || last_ascii
            WHEN u_mailbox < 0.80 THEN left(first_ascii, 1) || '.' || last_ascii
            WHEN u_mailbox < 0.90 THEN first_ascii
            ELSE last_ascii || '.' || first_ascii
        END || id::VARCHAR AS mailbox
    FROM spelled
)
SELECT
    id, first_name, last_name,
    CASE WHEN u_capital < $capitalised_email_share
         THEN upper(left(mailbox, 1)) || substr(mailbox, 2)
         ELSE mailbox END || '@' || domain AS email,
    phone, street, city, state, zip, country, created_us,
    CASE WHEN u_updated < $updated_profile_share
         THEN created_us + floor(u_updated_at * (($end_us - created_us) // $second_us))::BIGINT
                           * $second_us
         ELSE created_us END AS updated_us
FROM mailboxes
"""

# Each customer's marketing consent per channel: when they subscribed (at
# sign-up or a day after it) and, for those who left, when they unsubscribed
# (after subscribing); NULL for never. Campaign sends and messages below go
# only to customers subscribed at the time, as the app allows (crm.consent).
_CONSENT_SQL = """
CREATE TEMP TABLE seed_consent AS
WITH drawn AS (
    SELECT
        id, created_us, phone <> '' AS has_phone,
        seed_u(id, $salt, 90) AS u_email,
        seed_u(id, $salt, 91) AS u_email_late,
        seed_u(id, $salt, 92) AS u_email_from,
        seed_u(id, $salt, 93) AS u_email_until,
        seed_u(id, $salt, 94) AS u_sms,
        seed_u(id, $salt, 95) AS u_sms_late,
        seed_u(id, $salt, 96) AS u_sms_from,
        seed_u(id, $salt, 97) AS u_sms_until
    FROM seed_people
),
subscribed AS (
    SELECT
        id, u_email, u_sms, u_email_until, u_sms_until, has_phone,
        CASE WHEN u_email < $email_subscribed_share + $email_unsubscribed_share THEN
            CASE WHEN u_email_late < $email_at_signup_share THEN created_us
                 ELSE created_us + floor(u_email_from * (($end_us - created_us) // $second_us))
                                   ::BIGINT * $second_us END
        END AS email_from_us,
        CASE WHEN has_phone AND u_sms < $sms_subscribed_share + $sms_unsubscribed_share THEN
            CASE WHEN u_sms_late < $sms_at_signup_share THEN created_us
                 ELSE created_us + floor(u_sms_from * (($end_us - created_us) // $second_us))
                                   ::BIGINT * $second_us END
        END AS sms_from_us
    FROM drawn
)
SELECT
    id, email_from_us, sms_from_us,
    CASE WHEN u_email >= $email_subscribed_share AND email_from_us IS NOT NULL
         THEN email_from_us + (1 + floor(u_email_until * (($end_us - email_from_us)
                                                          // $second_us))::BIGINT) * $second_us
    END AS email_until_us,
    CASE WHEN u_sms >= $sms_subscribed_share AND sms_from_us IS NOT NULL
         THEN sms_from_us + (1 + floor(u_sms_until * (($end_us - sms_from_us)
                                                      // $second_us))::BIGINT) * $second_us
    END AS sms_until_us
FROM subscribed
"""

# Whether the customer was subscribed to the channel at ``at_us`` (Push: always).
_CONSENT_MACRO = """
CREATE TEMP MACRO seed_consented(channel, k, at_us) AS CASE channel
    WHEN 'Email' THEN coalesce(k.email_from_us <= at_us AND (k.email_until_us IS NULL
                                                             OR k.email_until_us > at_us), false)
    WHEN 'SMS' THEN coalesce(k.sms_from_us <= at_us AND (k.sms_until_us IS NULL
                                                         OR k.sms_until_us > at_us), false)
    ELSE true END
"""

_CUSTOMERS_SQL = f"""
INSERT INTO customers (
    id, first_name, last_name, email, email_key, phone, street, city, state, zip, country,
    created_at, updated_at, version, search_text, search_sig,
    total_spending, order_count, visit_count, last_visit, first_order_at, last_order_at,
    email_consent, email_consent_at, sms_consent, sms_consent_at
)
SELECT
    p.id, p.first_name, p.last_name, p.email, lower(p.email), p.phone, p.street, p.city,
    p.state, p.zip, p.country, make_timestamp(p.created_us), make_timestamp(p.updated_us), 1,
    p.search_text, {search.SIGNATURE_OF_COLUMN},
    seed_cents_to_decimal(coalesce(f.spent_cents, 0)), coalesce(f.order_count, 0),
    coalesce(f.visit_count, 0), f.last_visit, f.first_order_at, f.last_order_at,
    CASE WHEN k.email_until_us IS NOT NULL THEN 'Unsubscribed'
         WHEN k.email_from_us IS NOT NULL THEN 'Subscribed' ELSE 'Not asked' END,
    make_timestamp(coalesce(k.email_until_us, k.email_from_us)),
    CASE WHEN k.sms_until_us IS NOT NULL THEN 'Unsubscribed'
         WHEN k.sms_from_us IS NOT NULL THEN 'Subscribed' ELSE 'Not asked' END,
    make_timestamp(coalesce(k.sms_until_us, k.sms_from_us))
FROM (
    SELECT *, lower(first_name || ' ' || last_name || ' ' || email) AS search_text
    FROM seed_people
) AS p
LEFT JOIN seed_figures f ON f.customer_id = p.id
JOIN seed_consent k ON k.id = p.id
ORDER BY p.id
"""  # noqa: S608 - module constants

# Each campaign went to a share of the customers who had signed up by then
# (SMS only to those with a phone); a tenth of each audience was held out as
# the control group; some sends failed, some were opened and clicked. Drawn
# before the orders: a campaign with an effect adds orders after its sends
# (_LIFT_EVENTS_SQL), which go through the orders' own path.
_SENDS_PLAN_SQL = """
CREATE TEMP TABLE seed_sends AS
WITH audience AS (
    SELECT
        c.id AS campaign_id, p.id AS customer_id, c.created_us, c.fail_rate, c.open_rate,
        c.click_rate, c.effect, c.id * 4294967296 + p.id AS skey
    FROM seed_campaign_plans c
    JOIN seed_people p ON p.created_us < c.created_us
    JOIN seed_consent k ON k.id = p.id
    -- Drawn among the customers subscribed then (see SUBSCRIBER_AUDIENCE).
    WHERE seed_u(c.id * 4294967296 + p.id, $salt, 70)
          < c.audience * CASE c.channel WHEN 'Email' THEN $email_audience_scale
                                        WHEN 'SMS' THEN $sms_audience_scale ELSE 1 END
      AND seed_consented(c.channel, k, c.created_us)
),
outcomes AS (
    SELECT
        *,
        seed_u(skey, $salt, 110) < $control_share AS control,
        seed_u(skey, $salt, 71) >= fail_rate AS delivered,
        seed_u(skey, $salt, 72) < open_rate AS opened,
        seed_u(skey, $salt, 73) < click_rate AS clicked,
        1 + floor(pow(seed_u(skey, $salt, 74), 2) * 4)::INTEGER AS open_times
    FROM audience
)
SELECT
    campaign_id, customer_id, skey, created_us, effect, control, delivered,
    CASE WHEN NOT control
         THEN created_us + floor(seed_u(skey, $salt, 75) * 36 * 3600)::BIGINT * $second_us
    END AS sent_us,
    CASE WHEN control THEN 'Control' WHEN delivered THEN 'Delivered' ELSE 'Failed' END
        AS status,
    CASE WHEN NOT control AND delivered AND opened THEN open_times ELSE 0 END AS opens,
    CASE WHEN NOT control AND delivered AND opened AND clicked
         THEN 1 + floor(seed_u(skey, $salt, 76) * open_times)::INTEGER ELSE 0 END AS clicks
FROM outcomes
"""

# The orders a campaign with an effect brought: a delivered customer orders
# within 14 days of the send with the campaign's extra probability. Shaped as
# seed_events rows (a visit with an order and its basket), with ids after the
# others' and k past any real event's, then every event is put back in
# customer order, so the orders, their items and visits are written and
# counted as all the others are (figures, facts and scores follow).
_LIFT_EVENTS_SQL = """
CREATE TEMP TABLE seed_events_lifted AS
WITH lifted AS (
    SELECT
        s.customer_id, $event_stride - s.campaign_id AS k,
        s.customer_id * $event_stride + $event_stride - s.campaign_id AS ekey,
        s.sent_us + (1 + floor(seed_u(s.skey, $salt, 112) * (14 * 86400 - 1)))::BIGINT
                    * $second_us AS event_us
    FROM seed_sends s
    WHERE s.status = 'Delivered' AND seed_u(s.skey, $salt, 111) < s.effect
),
kept AS (
    SELECT
        l.*, row_number() OVER (ORDER BY l.customer_id, l.k) AS n,
        lists.basket_sizes, lists.product_slots, lists.prices
    FROM lifted l
    CROSS JOIN seed_lists lists
    WHERE l.event_us <= $end_us
),
baskets AS (
    SELECT
        *,
        basket_sizes[1 + floor(seed_u(ekey, $salt, 30) * len(basket_sizes))::BIGINT] AS n_lines,
        product_slots[1 + floor(seed_u(ekey, $salt, 31) * len(product_slots))::BIGINT]
            AS first_product,
        1 + floor(seed_u(ekey, $salt, 32) * $stride_max)::BIGINT AS stride
    FROM kept
),
lift AS (
    SELECT
        customer_id, k, ekey, TRUE AS is_order,
        CASE WHEN seed_u(ekey, $salt, 113) < 0.8 THEN 'web' ELSE 'store' END AS channel,
        make_timestamp(event_us) AS event_at,
        (SELECT max(visit_id) FROM seed_events) + n AS visit_id,
        (SELECT max(order_id) FROM seed_events) + n AS order_id,
        n_lines, first_product, stride,
        seed_line_cents(ekey, 0, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 1, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 2, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 3, n_lines, first_product, stride, $salt, prices, $n_products)
        + seed_line_cents(ekey, 4, n_lines, first_product, stride, $salt, prices, $n_products)
            AS amount_cents
    FROM baskets
)
SELECT * FROM (SELECT * FROM seed_events UNION ALL SELECT * FROM lift)
ORDER BY customer_id, k
"""

_CAMPAIGN_SENDS_SQL = """
INSERT INTO campaign_sends (
    id, campaign_id, customer_id, sent_at, status, opens, clicks, added_at
)
SELECT
    row_number() OVER (ORDER BY campaign_id, customer_id),
    campaign_id, customer_id, make_timestamp(sent_us), status, opens, clicks,
    make_timestamp(created_us)
FROM seed_sends
ORDER BY campaign_id, customer_id
"""

# A few customers got one or two personal messages, merged with their name.
_MESSAGES_SQL = """
INSERT INTO messages (id, customer_id, channel, subject, body, sent_at, status)
WITH picked AS (
    SELECT p.id AS customer_id, p.first_name, p.last_name, p.phone, p.created_us, m.n,
           p.id * 4 + m.n AS mkey
    FROM seed_people p
    CROSS JOIN range(2) AS m(n)
    WHERE seed_u(p.id * 4 + m.n, $salt, 80)
          < CASE m.n WHEN 0 THEN $message_share ELSE $second_message_share END
),
written AS (
    SELECT
        k.*, t.channel, t.subject, t.body,
        k.created_us + floor(seed_u(k.mkey, $salt, 82)
                             * (($end_us - k.created_us) // $second_us))::BIGINT
                       * $second_us AS sent_us
    FROM picked k
    JOIN seed_message_templates t
      ON t.k = floor(seed_u(k.mkey, $salt, 81)
                     * CASE WHEN k.phone = '' THEN $email_templates ELSE $all_templates END)
),
consented AS (
    SELECT w.* FROM written w
    JOIN seed_consent c ON c.id = w.customer_id
    WHERE seed_consented(w.channel, c, w.sent_us)
)
SELECT
    row_number() OVER (ORDER BY sent_us, customer_id, n),
    customer_id, channel, subject,
    replace(replace(body, '[First Name]', first_name), '[Last Name]', last_name),
    make_timestamp(sent_us),
    CASE WHEN sent_us >= $end_us - 2 * $day_us THEN 'Queued'
         WHEN seed_u(mkey, $salt, 83) < $failed_message_share THEN 'Failed'
         ELSE 'Sent' END
FROM consented
ORDER BY sent_us, customer_id, n
"""

_TEMP_TABLES = (
    "seed_countries",
    "seed_first_names",
    "seed_last_names",
    "seed_streets",
    "seed_cities",
    "seed_segments",
    "seed_lists",
    "seed_campaign_plans",
    "seed_sends",
    "seed_events_lifted",
    "seed_message_templates",
    "seed_plan",
    "seed_events",
    "seed_figures",
    "seed_people",
    "seed_consent",
)

# Rows were inserted with explicit ids: move each sequence past them so the
# app's DEFAULT nextval(...) continues after the seed data.
_SEQUENCES = (
    ("customer_id_seq", "SELECT max(id) FROM customers"),
    ("product_id_seq", "SELECT max(id) FROM products"),
    ("order_id_seq", "SELECT max(id) FROM orders"),
    ("visit_id_seq", "SELECT max(id) FROM visits"),
    ("campaign_id_seq", "SELECT max(id) FROM campaigns"),
    ("campaign_send_id_seq", "SELECT max(id) FROM campaign_sends"),
    ("message_id_seq", "SELECT max(id) FROM messages"),
)

# DuckDB 1.5 has neither setval nor ALTER SEQUENCE ... RESTART: there a sequence
# moves only by drawing the values the seed used, about 0.35 s a million (1.5.6).
_HAS_SETVAL_SQL = "SELECT count(*) > 0 FROM duckdb_functions() WHERE function_name = 'setval'"
_SEQUENCE_DRAWN_SQL = """
SELECT coalesce(last_value, start_value - 1)
FROM duckdb_sequences()
WHERE database_name = current_database() AND schema_name = 'main' AND sequence_name = $name
"""
_DRAW_SQL = "SELECT max(nextval($name)) FROM range($count)"

_COUNTS_SQL = """
SELECT
    (SELECT count(*) FROM customers), (SELECT count(*) FROM products),
    (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items),
    (SELECT count(*) FROM visits), (SELECT count(*) FROM campaigns),
    (SELECT count(*) FROM campaign_sends), (SELECT count(*) FROM messages)
"""

_PARAM_RE = re.compile(r"\$([A-Za-z_]\w*)")


def _run(cur: Con, sql: str, params: Mapping[str, object] | None = None) -> None:
    """Execute ``sql`` with the named parameters it mentions (DuckDB rejects extra ones)."""
    names = set(_PARAM_RE.findall(sql))
    given = params or {}
    cur.execute(sql, {name: given[name] for name in names} if names else None)


# --- Stages ------------------------------------------------------------------------


def _starts(sizes: Sequence[int]) -> list[int]:
    """Where each of runs of these sizes, laid one after the other, starts."""
    starts, at = [], 0
    for size in sizes:
        starts.append(at)
        at += size
    return starts


def _load_people(cur: Con, pools: Sequence[_PeoplePool]) -> None:
    parts = {
        "first_names": [p.first_names for p in pools],
        "last_names": [p.last_names for p in pools],
        "streets": [p.street_patterns for p in pools],
    }
    cities = [city for p in pools for city in p.country.cities]
    _run(
        cur,
        _LOAD_SQL["countries"],
        {
            "ci": list(range(len(pools))),
            "name": [p.country.name for p in pools],
            "first_at": _starts([len(p.first_names) for p in pools]),
            "n_first": [len(p.first_names) for p in pools],
            "last_at": _starts([len(p.last_names) for p in pools]),
            "n_last": [len(p.last_names) for p in pools],
            "street_at": _starts([len(p.street_patterns) for p in pools]),
            "n_streets": [len(p.street_patterns) for p in pools],
            "city_at": _starts([len(p.country.cities) for p in pools]),
            "n_cities": [len(p.country.cities) for p in pools],
            "email_domains": [list(p.country.email_domains) for p in pools],
            "mobile_patterns": [list(p.country.mobile_patterns) for p in pools],
        },
    )
    for table, values in parts.items():
        flat = [v for vs in values for v in vs]
        _run(cur, _LOAD_SQL[table], {"pos": list(range(len(flat))), "value": flat})
    _run(
        cur,
        _LOAD_SQL["cities"],
        {
            "pos": list(range(len(cities))),
            "city": [c.name for c in cities],
            "state": [c.state for c in cities],
            "zip_pattern": [c.zip_pattern for c in cities],
            "landline_pattern": [c.landline_pattern for c in cities],
        },
    )


def _load_segments(cur: Con) -> None:
    _run(
        cur,
        _LOAD_SQL["segments"],
        {
            "si": list(range(len(SEGMENTS))),
            "name": [s.name for s in SEGMENTS],
            "last_ago_min": [s.last_ago[0] for s in SEGMENTS],
            "last_ago_max": [s.last_ago[1] for s in SEGMENTS],
            "span_min": [s.span[0] for s in SEGMENTS],
            "span_max": [s.span[1] for s in SEGMENTS],
            "orders_min": [s.orders[0] for s in SEGMENTS],
            "orders_max": [s.orders[1] for s in SEGMENTS],
            "browse_rate_min": [float(s.browse_per_order[0]) for s in SEGMENTS],
            "browse_rate_max": [float(s.browse_per_order[1]) for s in SEGMENTS],
            "browse_min": [s.browse[0] for s in SEGMENTS],
            "browse_max": [s.browse[1] for s in SEGMENTS],
            "signup_gap": [s.signup_gap for s in SEGMENTS],
        },
    )


def _load_products(cur: Con, products: Sequence[_Product]) -> None:
    _run(
        cur,
        _LOAD_SQL["products"],
        {
            "id": list(range(1, len(products) + 1)),
            "name": [p.name for p in products],
            "category": [p.category for p in products],
            "price_cents": [p.price_cents for p in products],
        },
    )


def _epoch_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _effects(count: int, salt: int) -> list[float]:
    """Each campaign's extra chance of an order within 14 days of a delivery (0: no
    effect). Drawn from the salt, so the material's own draws stay as they were."""
    rng = random.Random(salt)
    return [
        rng.uniform(EFFECT_MIN, EFFECT_MAX) if rng.random() < EFFECTIVE_CAMPAIGN_SHARE else 0.0
        for _ in range(count)
    ]


def _load_campaigns(cur: Con, campaigns: Sequence[_Campaign], salt: int) -> None:
    ids = list(range(1, len(campaigns) + 1))
    _run(
        cur,
        _LOAD_SQL["campaigns"],
        {
            "id": ids,
            "name": [c.name for c in campaigns],
            "channel": [c.channel for c in campaigns],
            "template": [c.template for c in campaigns],
            "created_at": [c.created_at for c in campaigns],
        },
    )
    _run(
        cur,
        _LOAD_SQL["campaign_plans"],
        {
            "id": ids,
            "channel": [c.channel for c in campaigns],
            "created_us": [_epoch_us(c.created_at) for c in campaigns],
            "audience": [c.audience for c in campaigns],
            "fail_rate": [c.fail_rate for c in campaigns],
            "open_rate": [c.open_rate for c in campaigns],
            "click_rate": [c.click_rate for c in campaigns],
            "effect": _effects(len(campaigns), salt),
        },
    )


def _load_message_templates(cur: Con) -> int:
    """Loads the templates, e-mail ones first; returns how many are e-mail."""
    templates = sorted(MESSAGE_TEMPLATES, key=lambda t: t.channel != "Email")
    _run(
        cur,
        _LOAD_SQL["message_templates"],
        {
            "k": list(range(len(templates))),
            "channel": [t.channel for t in templates],
            "subject": [t.subject for t in templates],
            "body": [t.body for t in templates],
        },
    )
    return sum(t.channel == "Email" for t in templates)


def _bucket_days(cum: Sequence[float]) -> list[int]:
    """The day on which each of _DAY_BUCKETS equal slices of the cumulative weight starts."""
    per_bucket = cum[-1] / _DAY_BUCKETS
    return [bisect.bisect_right(cum, b * per_bucket) - 1 for b in range(_DAY_BUCKETS)]


def _parameters(
    customers: int, as_of: date, material: _Material, cum: Sequence[float]
) -> dict[str, object]:
    """Every value the stage SQL binds, by name."""
    products = material.products
    start = as_of - timedelta(days=HISTORY_DAYS)
    base_us = _epoch_us(datetime(start.year, start.month, start.day))
    cuts, running = [], 0.0
    for segment in SEGMENTS[:-1]:
        running += segment.share
        cuts.append(running)
    global_domains = [name for name, _ in GLOBAL_EMAIL_DOMAINS]
    return {
        "salt": material.salt,
        "customers": customers,
        "history_days": HISTORY_DAYS,
        "base_us": base_us,
        "end_us": base_us + (HISTORY_DAYS + 1) * _DAY_US - _SECOND_US,
        "day_us": _DAY_US,
        "second_us": _SECOND_US,
        "day_cum": list(cum),
        "bucket_days": _bucket_days(cum),
        "buckets_per_weight": _DAY_BUCKETS / cum[-1],
        "last_bucket": _DAY_BUCKETS - 1,
        "segment_cuts": cuts,
        "country_slots": _slots([c.weight for c in COUNTRIES], 200),
        "event_stride": EVENT_STRIDE,
        "browse_web_share": BROWSE_WEB_SHARE,
        "web_hours": list(WEB_HOURS),
        "store_hours": list(STORE_HOURS),
        "basket_sizes": list(BASKET_SIZES),
        "product_slots": _slots([p.popularity for p in products], _PRODUCT_SLOTS),
        "stride_max": (len(products) - 1) // (MAX_BASKET - 1),
        "prices": [p.price_cents for p in products],
        "n_products": len(products),
        "no_phone_share": NO_PHONE_SHARE,
        "mobile_share": MOBILE_SHARE,
        "local_email_share": LOCAL_EMAIL_SHARE,
        "global_domains": [
            global_domains[i] for i in _slots([w for _, w in GLOBAL_EMAIL_DOMAINS], 100)
        ],
        "capitalised_email_share": CAPITALISED_EMAIL_SHARE,
        "updated_profile_share": UPDATED_PROFILE_SHARE,
        "message_share": MESSAGE_SHARE,
        "second_message_share": SECOND_MESSAGE_SHARE,
        "failed_message_share": FAILED_MESSAGE_SHARE,
        "control_share": CONTROL_SHARE,
        "email_subscribed_share": EMAIL_SUBSCRIBED_SHARE,
        "email_unsubscribed_share": EMAIL_UNSUBSCRIBED_SHARE,
        "sms_subscribed_share": SMS_SUBSCRIBED_SHARE,
        "sms_unsubscribed_share": SMS_UNSUBSCRIBED_SHARE,
        "email_at_signup_share": EMAIL_AT_SIGNUP_SHARE,
        "email_audience_scale": SUBSCRIBER_AUDIENCE
        / (EMAIL_SUBSCRIBED_SHARE + EMAIL_UNSUBSCRIBED_SHARE),
        "sms_audience_scale": SUBSCRIBER_AUDIENCE / (SMS_SUBSCRIBED_SHARE + SMS_UNSUBSCRIBED_SHARE),
        "sms_at_signup_share": SMS_AT_SIGNUP_SHARE,
    }


def _advance_sequences(cur: Con) -> None:
    found = cur.execute(_HAS_SETVAL_SQL).fetchone()
    has_setval = found is not None and bool(found[0])
    for sequence, max_sql in _SEQUENCES:
        row = cur.execute(max_sql).fetchone()
        if row is None or row[0] is None:
            continue
        highest = int(row[0])
        if has_setval:
            cur.execute("SELECT setval(?, ?)", [sequence, highest])
            continue
        found = cur.execute(_SEQUENCE_DRAWN_SQL, {"name": sequence}).fetchone()
        drawn = int(found[0]) if found is not None else 0
        # 1.5 reports the next value as the last one for a sequence not drawn since the
        # file was opened, so this may be one too high: draw at least one, then go on
        # from the value really drawn.
        while True:
            got = cur.execute(_DRAW_SQL, {"name": sequence, "count": max(1, highest - drawn)})
            last = got.fetchone()
            assert last is not None
            drawn = int(last[0])
            if drawn >= highest:
                break


def _summary(con: Con, seconds: float) -> SeedSummary:
    row = con.execute(_COUNTS_SQL).fetchone()
    assert row is not None
    customers, products, orders, items, visits, campaigns, sends, messages = map(int, row)
    return SeedSummary(
        customers=customers,
        products=products,
        orders=orders,
        order_items=items,
        visits=visits,
        campaigns=campaigns,
        campaign_sends=sends,
        messages=messages,
        seconds=round(seconds, 3),
    )


def _check_empty(con: Con) -> None:
    row = con.execute("SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM products)")
    found = row.fetchone()
    if found is None or found[0]:
        raise ValueError("the database already has customers or products; seed an empty one")


def seed_connection(
    con: Con,
    customers: int,
    seed: int = 42,
    as_of: date | None = None,
    progress: bool = False,
    checkpoint: bool = True,
) -> SeedSummary:
    """Fill an already-migrated, empty database with demo data, in one transaction
    (``checkpoint``: fold a local file's log in at the end; MotherDuck keeps its own)."""
    if customers < 0:
        raise ValueError("customers must be 0 or more")
    started = time.perf_counter()
    # Rows are stored in the order they are generated (orders by customer, and
    # so on): deterministic files, and each customer's rows close together.
    con.execute("SET preserve_insertion_order = true")
    as_of = as_of or date.today()
    bar = _Progress(progress)
    _check_empty(con)
    with transaction(con) as cur:
        with bar.stage("material"):
            material = _draw_material(seed, as_of)
            cum = _cumulative(_day_weights(as_of))
            params = _parameters(customers, as_of, material, cum)
            for macro in _MACROS:
                cur.execute(macro)
            _load_people(cur, material.people)
            _load_segments(cur)
            _run(cur, _LOAD_SQL["lists"], params)
            _load_products(cur, material.products)
            _load_campaigns(cur, material.campaigns, material.salt)
            params["email_templates"] = _load_message_templates(cur)
            params["all_templates"] = len(MESSAGE_TEMPLATES)
        with bar.stage("plan"):
            _run(cur, _PLAN_SQL, params)
        with bar.stage("events"):
            _run(cur, _EVENTS_SQL, params)
        with bar.stage("people"):
            _run(cur, _PEOPLE_SQL, params)
            # Consent before the sends: campaigns go only to customers subscribed then.
            _run(cur, _CONSENT_SQL, params)
            cur.execute(_CONSENT_MACRO)
        with bar.stage("campaign plan"):
            # Who each campaign went to, before the orders: the orders its effect
            # brought join the events, so they are written and counted like all others.
            _run(cur, _SENDS_PLAN_SQL, params)
            _run(cur, _LIFT_EVENTS_SQL, params)
            cur.execute("DROP TABLE seed_events")
            cur.execute("ALTER TABLE seed_events_lifted RENAME TO seed_events")
        with bar.stage("orders"):
            _run(cur, _ORDERS_SQL, params)
        with bar.stage("order items"):
            _run(cur, _ORDER_ITEMS_SQL, params)
        with bar.stage("visits"):
            _run(cur, _VISITS_SQL, params)
        with bar.stage("customers"):
            _run(cur, _FIGURES_SQL, params)
            cur.execute("DROP TABLE seed_events")
            _run(cur, _CUSTOMERS_SQL, params)
        with bar.stage("campaigns"):
            _run(cur, _CAMPAIGN_SENDS_SQL, params)
            # Times of first opens and clicks, for a campaign's "by day" chart.
            campaign_facts.seed_engagement_times(
                cur, datetime(as_of.year, as_of.month, as_of.day, 23, 59)
            )
        with bar.stage("messages"):
            _run(cur, _MESSAGES_SQL, params)
        with bar.stage("segment facts"):
            facts.fill_all(cur)
        _advance_sequences(cur)
        for table in _TEMP_TABLES:  # gigabytes at a million customers: free them before COMMIT
            cur.execute("DROP TABLE IF EXISTS " + table)
        bar.begin("commit")
    bar.end()
    with bar.stage("scores"):
        score_everyone(con)
    if checkpoint:
        with bar.stage("checkpoint"):
            con.execute("CHECKPOINT")
    return _summary(con, time.perf_counter() - started)


def seed_database(
    path: Path | str,
    customers: int,
    seed: int = 42,
    as_of: date | None = None,
    force: bool = False,
    progress: bool = False,
) -> SeedSummary:
    """Build a demo database at ``path``; an existing file is replaced only with ``force``.

    Raises ``FileExistsError`` for an existing file without ``force`` and
    ``DatabaseInUse`` while another process has the file open; either way
    nothing changes. A failed build leaves the old file as it was.
    """
    if customers < 0:
        raise ValueError("customers must be 0 or more")
    target = Path(path)
    if not force and wal_path(target).exists():
        raise FileExistsError(f"{wal_path(target)} already exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Why this order is safe. (1) The lock on the old file is taken before
    # anything else: a process that has it open (a running app) makes this
    # refuse, and no process can open it from then on. (2) The new database is
    # built and checkpointed in a file of its own beside it (same file system,
    # so the rename below is atomic) and closed: complete, with no WAL. (3) The
    # old file's WAL is deleted while its lock is still held: only a process
    # holding that lock may read or write the WAL, so it belongs to nobody. Had
    # the rename come first, a process could open the new file and replay the
    # old WAL into it ("WAL does not match database file"). (4) os.replace swaps
    # the name atomically: an opener finds the old, locked file (and is refused)
    # or the new, complete one. (5) Only then is the old file's lock released;
    # its data is freed when the descriptor closes. Nothing is deleted that a
    # running process has open.
    with db.locked_for_replacement(target, force) as created:
        building = target.with_name(f".{target.name}.{os.getpid()}.building")
        db.remove_database(building)  # left by a killed run of a process with this id
        try:
            con = connect(building)
            try:
                summary = seed_connection(con, customers, seed=seed, as_of=as_of, progress=progress)
            finally:
                con.close()
            wal_path(target).unlink(missing_ok=True)
            os.replace(building, target)
        except BaseException:
            db.remove_database(building)  # half a demo database would only mislead
            if created:
                target.unlink()  # the empty file made to hold the lock; nobody could open it
            raise
    return summary


# --- Command line -------------------------------------------------------------------


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm.demo.seed",
        description="Build a deterministic Customer Hub demo database.",
    )
    parser.add_argument(
        "--db",
        default=None,
        help="database file to create, or an empty MotherDuck database (md:NAME, token in"
        " MOTHERDUCK_TOKEN); default CRM_DB_PATH or data/crm.duckdb",
    )
    parser.add_argument("--customers", type=_count, default=config.DEMO_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=config.DEMO_SEED)
    parser.add_argument(
        "--as-of", type=_iso_date, default=None, help="last day of the history (default: today)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database file (never one another process has open)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show a progress bar on stderr",
    )
    return parser


def _seed_motherduck(target: config.MotherDuckDatabase, args: argparse.Namespace) -> SeedSummary:
    """Fill an empty MotherDuck database (migrated by ``connect``). Never replaced:
    ``--force`` works on local files only."""
    if args.force:
        raise FileExistsError(
            f"--force replaces a local file; {target} is kept by MotherDuck and is never"
            " replaced. Seed an empty MotherDuck database instead (drop and create it there)."
        )
    con = connect(target)
    try:
        return seed_connection(
            con,
            args.customers,
            seed=args.seed,
            as_of=args.as_of,
            progress=args.progress,
            checkpoint=False,
        )
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        target = config.database() if args.db is None else config.parse_database(args.db)
        if isinstance(target, config.MotherDuckDatabase):
            summary = _seed_motherduck(target, args)
        else:
            summary = seed_database(
                target.path,
                args.customers,
                seed=args.seed,
                as_of=args.as_of,
                force=args.force,
                progress=args.progress,
            )
    except (FileExistsError, CrmError, ValueError) as exc:  # ValueError: not an empty database
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"Seeded {target}: {summary.customers:,} customers, {summary.products:,} products,"
        f" {summary.orders:,} orders, {summary.order_items:,} order items,"
        f" {summary.visits:,} visits, {summary.campaigns:,} campaigns,"
        f" {summary.campaign_sends:,} campaign sends, {summary.messages:,} messages"
        f" in {summary.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
