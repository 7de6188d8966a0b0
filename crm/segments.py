"""A segment (``CustomerFilter``) to and from URL query parameters.

Pure, so it is unit-tested without Streamlit. Reading is forgiving: a URL is
user input, so a value that cannot be used (``?page=abc``, ``?spend_min=-5``,
an unknown sort) is clamped or dropped, never an error. Writing leaves out
every value that equals the default, so a plain segment has a short link.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from crm.consent import STATUSES as CONSENT_STATUSES
from crm.models import EMAIL_MAX, NAME_MAX, CustomerFilter, LastVisit, SortKey
from crm.scores import GROUPS, RHYTHM_STATUSES

# Query-parameter names (short: they end up in shared links).
SEARCH = "q"
SPEND_MIN = "spend_min"
SPEND_MAX = "spend_max"
VISITS_MIN = "visits_min"
VISITS_MAX = "visits_max"
LAST_VISIT = "last"
DAYS = "days"
SORT = "sort"
ORDER = "order"
PAGE = "page"
# The segment builder (issue 9). Lists are repeated keys: ?country=Italy&country=Spain.
COUNTRY = "country"
STATE = "state"
CITY = "city"
CATEGORY = "category"
PRODUCT = "product"
BOUGHT_DAYS = "bought_days"
ORDERS_MIN = "orders_min"
ORDERS_MAX = "orders_max"
AOV_MIN = "aov_min"
AOV_MAX = "aov_max"
FIRST_FROM = "first_from"
FIRST_TO = "first_to"
CREATED_FROM = "created_from"
CREATED_TO = "created_to"
IN_CAMPAIGN = "in_campaign"
NOT_CAMPAIGN = "not_campaign"
ENGAGED_DAYS = "engaged_days"
NEVER_OPENED = "never_opened"
RFM = "rfm"
RHYTHM = "rhythm"
EMAIL_CONSENT = "email_consent"
SMS_CONSENT = "sms_consent"

# Parameters that take several values, in the order they are written.
LIST_PARAMS: tuple[str, ...] = (
    COUNTRY,
    STATE,
    CITY,
    CATEGORY,
    PRODUCT,
    RFM,
    RHYTHM,
    EMAIL_CONSENT,
    SMS_CONSENT,
)

PARAM_NAMES: tuple[str, ...] = (
    SEARCH,
    SPEND_MIN,
    SPEND_MAX,
    VISITS_MIN,
    VISITS_MAX,
    LAST_VISIT,
    DAYS,
    COUNTRY,
    STATE,
    CITY,
    CATEGORY,
    PRODUCT,
    BOUGHT_DAYS,
    ORDERS_MIN,
    ORDERS_MAX,
    AOV_MIN,
    AOV_MAX,
    FIRST_FROM,
    FIRST_TO,
    CREATED_FROM,
    CREATED_TO,
    IN_CAMPAIGN,
    NOT_CAMPAIGN,
    ENGAGED_DAYS,
    NEVER_OPENED,
    RFM,
    RHYTHM,
    EMAIL_CONSENT,
    SMS_CONSENT,
    SORT,
    ORDER,
    PAGE,
)

DEFAULT = CustomerFilter()
# The longest text a search can match: a first and last name and an email,
# with the spaces between them (crm.writes' search text). A longer search
# matches no one; it is kept, not cut, so it never turns into another one.
SEARCH_MAX = NAME_MAX + 1 + NAME_MAX + 1 + EMAIL_MAX
# A search in a URL is cut one character past that: it still matches no one,
# as the whole did, and a pasted book does not become a link of that size.
_SEARCH_IN_URL = SEARCH_MAX + 1
DAYS_MAX = 36_500  # a century: anything longer means "ever"
SPEND_LIMIT = 1e12  # beyond any DECIMAL(14, 2) total
VISITS_LIMIT = 2**31 - 1  # the INTEGER column's range
PAGE_LIMIT = 10**7
# A list parameter keeps at most this many values of at most this length: a
# link is user input, and more would only make a longer link that matches the same.
LIST_LIMIT = 200
VALUE_MAX = 200
ID_LIMIT = 2**63 - 1  # BIGINT ids
AOV_LIMIT = 1e10  # beyond any DECIMAL(12, 2) order amount

ParamValue = str | Sequence[str]
Params = dict[str, str | list[str]]


def _first(params: Mapping[str, ParamValue], name: str) -> str | None:
    """The parameter's value; a repeated parameter counts by its last occurrence, like forms."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    return str(value[-1]).strip() if len(value) else None


def _all(params: Mapping[str, ParamValue], name: str) -> list[str]:
    """Every value of a list parameter, stripped, empty ones and repeats left out."""
    value = params.get(name)
    if value is None:
        return []
    given = [value] if isinstance(value, str) else [str(v) for v in value]
    kept: list[str] = []
    for text in (v.strip()[:VALUE_MAX] for v in given):
        if text and text not in kept:
            kept.append(text)
    return kept[:LIST_LIMIT]


def _named(params: Mapping[str, ParamValue], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """The values that name one of ``allowed`` (in any case), as ``allowed`` spells them."""
    by_key = {a.lower(): a for a in allowed}
    found = [by_key[v.lower()] for v in _all(params, name) if v.lower() in by_key]
    return tuple(dict.fromkeys(found))


def _ids(params: Mapping[str, ParamValue], name: str) -> tuple[int, ...]:
    found = [int(v) for v in _all(params, name) if v.isdigit() and 0 < int(v) <= ID_LIMIT]
    return tuple(dict.fromkeys(found))


def _id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or not 0 < int(text) <= ID_LIMIT:
        return None
    return int(text)


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_range(low: date | None, high: date | None) -> tuple[date | None, date | None]:
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


def _float(text: str | None, low: float, high: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    # Whole cents, so the filter the URL describes is the one the query runs.
    return round(min(max(value, low), high), 2)


def _int(text: str | None, low: int, high: int) -> int | None:
    value = _float(text, float(low), float(high))
    return None if value is None else int(value)


def _ordered(low: float | None, high: float | None) -> tuple[float | None, float | None]:
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


def filter_from_params(
    params: Mapping[str, ParamValue], page_size: int = DEFAULT.page_size
) -> CustomerFilter:
    """The segment a URL describes; unusable values fall back to the defaults."""
    search = (_first(params, SEARCH) or "")[:_SEARCH_IN_URL]
    spend_min, spend_max = _ordered(
        _float(_first(params, SPEND_MIN), 0.0, SPEND_LIMIT),
        _float(_first(params, SPEND_MAX), 0.0, SPEND_LIMIT),
    )
    visits_min_f, visits_max_f = _ordered(
        _int(_first(params, VISITS_MIN), 0, VISITS_LIMIT),
        _int(_first(params, VISITS_MAX), 0, VISITS_LIMIT),
    )
    last_text = (_first(params, LAST_VISIT) or "").lower()
    last = next((lv for lv in LastVisit if lv.value == last_text), LastVisit.ANY)
    days = _int(_first(params, DAYS), 1, DAYS_MAX) or DEFAULT.last_visit_days
    sort_text = (_first(params, SORT) or "").lower()
    sort = next((key for key in SortKey if key.value == sort_text), DEFAULT.sort)
    order = (_first(params, ORDER) or "").lower()
    descending = {"asc": False, "desc": True}.get(order, default_descending(sort))
    page = _int(_first(params, PAGE), 1, PAGE_LIMIT) or 1
    orders_min, orders_max = _ordered(
        _int(_first(params, ORDERS_MIN), 0, VISITS_LIMIT),
        _int(_first(params, ORDERS_MAX), 0, VISITS_LIMIT),
    )
    aov_min, aov_max = _ordered(
        _float(_first(params, AOV_MIN), 0.0, AOV_LIMIT),
        _float(_first(params, AOV_MAX), 0.0, AOV_LIMIT),
    )
    first_from, first_to = _date_range(
        _date(_first(params, FIRST_FROM)), _date(_first(params, FIRST_TO))
    )
    created_from, created_to = _date_range(
        _date(_first(params, CREATED_FROM)), _date(_first(params, CREATED_TO))
    )
    return CustomerFilter(
        search=search,
        min_spending=spend_min,
        max_spending=spend_max,
        min_visits=None if visits_min_f is None else int(visits_min_f),
        max_visits=None if visits_max_f is None else int(visits_max_f),
        last_visit=last,
        last_visit_days=days if last in (LastVisit.WITHIN, LastVisit.OLDER) else 30,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
        countries=tuple(_all(params, COUNTRY)),
        states=tuple(_all(params, STATE)),
        cities=tuple(_all(params, CITY)),
        categories=tuple(_all(params, CATEGORY)),
        products=_ids(params, PRODUCT),
        bought_days=_int(_first(params, BOUGHT_DAYS), 1, DAYS_MAX),
        min_orders=None if orders_min is None else int(orders_min),
        max_orders=None if orders_max is None else int(orders_max),
        min_aov=aov_min,
        max_aov=aov_max,
        first_from=first_from,
        first_to=first_to,
        created_from=created_from,
        created_to=created_to,
        in_campaign=_id(_first(params, IN_CAMPAIGN)),
        not_campaign=_id(_first(params, NOT_CAMPAIGN)),
        engaged_days=_int(_first(params, ENGAGED_DAYS), 1, DAYS_MAX),
        never_opened=_first(params, NEVER_OPENED) in ("1", "true", "yes"),
        rfm_groups=_named(params, RFM, GROUPS),
        rhythm=_named(params, RHYTHM, RHYTHM_STATUSES),
        email_consent=_named(params, EMAIL_CONSENT, CONSENT_STATUSES),
        sms_consent=_named(params, SMS_CONSENT, CONSENT_STATUSES),
    )


def default_descending(sort: SortKey) -> bool:
    """Names read A to Z; figures and dates read biggest or newest first."""
    return sort is not SortKey.NAME


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def params_from_filter(f: CustomerFilter) -> Params:
    """Query parameters for ``f``, leaving out every default, in a fixed order
    (a list parameter as a list: Streamlit writes it as repeated keys)."""
    params: Params = {}
    if f.search.strip():
        params[SEARCH] = f.search.strip()[:_SEARCH_IN_URL]
    if f.min_spending is not None:
        params[SPEND_MIN] = _number_text(f.min_spending)
    if f.max_spending is not None:
        params[SPEND_MAX] = _number_text(f.max_spending)
    if f.min_visits is not None:
        params[VISITS_MIN] = str(f.min_visits)
    if f.max_visits is not None:
        params[VISITS_MAX] = str(f.max_visits)
    if f.last_visit is not LastVisit.ANY:
        params[LAST_VISIT] = f.last_visit.value
        if f.last_visit in (LastVisit.WITHIN, LastVisit.OLDER):
            params[DAYS] = str(f.last_visit_days)
    lists: tuple[tuple[str, tuple[object, ...]], ...] = (
        (COUNTRY, f.countries),
        (STATE, f.states),
        (CITY, f.cities),
        (CATEGORY, f.categories),
        (PRODUCT, f.products),
    )
    for name, values in lists:
        if values:
            params[name] = [str(v) for v in values]
    singles: tuple[tuple[str, object], ...] = (
        (BOUGHT_DAYS, f.bought_days),
        (ORDERS_MIN, f.min_orders),
        (ORDERS_MAX, f.max_orders),
        (AOV_MIN, None if f.min_aov is None else _number_text(f.min_aov)),
        (AOV_MAX, None if f.max_aov is None else _number_text(f.max_aov)),
        (FIRST_FROM, f.first_from),
        (FIRST_TO, f.first_to),
        (CREATED_FROM, f.created_from),
        (CREATED_TO, f.created_to),
        (IN_CAMPAIGN, f.in_campaign),
        (NOT_CAMPAIGN, f.not_campaign),
        (ENGAGED_DAYS, f.engaged_days),
        (NEVER_OPENED, "1" if f.never_opened else None),
    )
    for name, value in singles:
        if value is not None:
            params[name] = value.isoformat() if isinstance(value, date) else str(value)
    if f.rfm_groups:
        params[RFM] = list(f.rfm_groups)
    if f.rhythm:
        params[RHYTHM] = list(f.rhythm)
    if f.email_consent:
        params[EMAIL_CONSENT] = list(f.email_consent)
    if f.sms_consent:
        params[SMS_CONSENT] = list(f.sms_consent)
    if f.sort is not DEFAULT.sort:
        params[SORT] = f.sort.value
    if f.descending != default_descending(f.sort):
        params[ORDER] = "desc" if f.descending else "asc"
    if f.page > 1:
        params[PAGE] = str(f.page)
    return params


def without_page(f: CustomerFilter) -> CustomerFilter:
    """The segment itself, whatever page of it is shown."""
    return replace(f, page=1)


def is_filtered(f: CustomerFilter) -> bool:
    """Whether ``f`` leaves anyone out (sort and page do not)."""
    plain = replace(
        f,
        search="",
        sort=DEFAULT.sort,
        descending=DEFAULT.descending,
        page=DEFAULT.page,
        page_size=DEFAULT.page_size,
        last_visit_days=DEFAULT.last_visit_days,
    )
    return bool(f.search.strip()) or plain != DEFAULT


def page_count(matches: int, page_size: int) -> int:
    """Pages needed for ``matches`` (at least one, so an empty result has a page 1)."""
    return max(1, -(-matches // max(page_size, 1)))


def clamp_page(f: CustomerFilter, matches: int) -> CustomerFilter:
    """``f`` on a page that exists: a link to page 40 of a segment that has 3 opens page 3."""
    last = page_count(matches, f.page_size)
    page = min(max(f.page, 1), last)
    return f if page == f.page else replace(f, page=page)


def clamp_to_bounds(
    f: CustomerFilter, spending: tuple[float, float], visits: tuple[int, int]
) -> CustomerFilter:
    """Range ends outside the data are the same as no end: drop them.

    Keeps the URL and the range sliders honest: "at least $0" filters
    nothing, so it is no filter.
    """
    spend_min, spend_max = f.min_spending, f.max_spending
    if spend_min is not None and spend_min <= spending[0]:
        spend_min = None
    if spend_max is not None and spend_max >= spending[1]:
        spend_max = None
    visits_min, visits_max = f.min_visits, f.max_visits
    if visits_min is not None and visits_min <= visits[0]:
        visits_min = None
    if visits_max is not None and visits_max >= visits[1]:
        visits_max = None
    return replace(
        f,
        min_spending=spend_min,
        max_spending=spend_max,
        min_visits=visits_min,
        max_visits=visits_max,
    )


# --- Choices the filter bar offers -------------------------------------------------


@dataclass(frozen=True)
class SortOption:
    key: SortKey
    descending: bool
    label: str

    @property
    def id(self) -> str:
        return f"{self.key.value}_{'desc' if self.descending else 'asc'}"


SORT_OPTIONS: tuple[SortOption, ...] = (
    SortOption(SortKey.SPENDING, True, "Spending: high to low"),
    SortOption(SortKey.SPENDING, False, "Spending: low to high"),
    SortOption(SortKey.VISITS, True, "Visits: most first"),
    SortOption(SortKey.VISITS, False, "Visits: fewest first"),
    SortOption(SortKey.LAST_VISIT, True, "Last visit: most recent"),
    SortOption(SortKey.LAST_VISIT, False, "Last visit: longest ago"),
    SortOption(SortKey.NAME, False, "Name: A to Z"),
    SortOption(SortKey.NAME, True, "Name: Z to A"),
)


def sort_option(f: CustomerFilter) -> SortOption:
    return next(o for o in SORT_OPTIONS if (o.key, o.descending) == (f.sort, f.descending))


@dataclass(frozen=True)
class LastVisitPreset:
    """One entry of the "Last visit" menu; ``CUSTOM`` lets the user pick the days."""

    id: str
    label: str
    mode: LastVisit
    days: int = 30


LAST_VISIT_PRESETS: tuple[LastVisitPreset, ...] = (
    LastVisitPreset("any", "Any time", LastVisit.ANY),
    LastVisitPreset("7", "Last 7 days", LastVisit.WITHIN, 7),
    LastVisitPreset("30", "Last 30 days", LastVisit.WITHIN, 30),
    LastVisitPreset("90", "Last 90 days", LastVisit.WITHIN, 90),
    LastVisitPreset("lapsed90", "Not in 90+ days", LastVisit.OLDER, 90),
    LastVisitPreset("never", "Never visited", LastVisit.NEVER),
    LastVisitPreset("custom", "Custom…", LastVisit.WITHIN),
)
CUSTOM_PRESET = "custom"


def last_visit_preset(f: CustomerFilter) -> str:
    """The menu entry that shows ``f``'s last-visit condition (``custom`` when none does)."""
    for preset in LAST_VISIT_PRESETS:
        if preset.id == CUSTOM_PRESET or preset.mode is not f.last_visit:
            continue
        if preset.mode in (LastVisit.ANY, LastVisit.NEVER) or preset.days == f.last_visit_days:
            return preset.id
    return CUSTOM_PRESET


def last_visit_condition(
    preset_id: str, custom_mode: LastVisit, custom_days: int
) -> tuple[LastVisit, int]:
    """The (mode, days) a menu choice means; custom takes the user's mode and days."""
    if preset_id == CUSTOM_PRESET:
        mode = (
            custom_mode if custom_mode in (LastVisit.WITHIN, LastVisit.OLDER) else LastVisit.WITHIN
        )
        return mode, min(max(int(custom_days), 1), DAYS_MAX)
    preset = next((p for p in LAST_VISIT_PRESETS if p.id == preset_id), LAST_VISIT_PRESETS[0])
    return preset.mode, preset.days


def describe_last_visit(f: CustomerFilter) -> str:
    """The condition in words, for the filter button: "Last 30 days", "Not in 45+ days"."""
    if f.last_visit is LastVisit.ANY:
        return "Any time"
    if f.last_visit is LastVisit.NEVER:
        return "Never visited"
    if f.last_visit is LastVisit.WITHIN:
        return f"Last {f.last_visit_days} days"
    return f"Not in {f.last_visit_days}+ days"


# --- Applied filters as chips --------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    """One applied filter, shown as a removable chip: ``id`` names what removing it drops."""

    id: str
    label: str


def _span(low: str | None, high: str | None, *, dates: bool = False) -> str:
    if low is not None and high is not None:
        return f"{low} – {high}" if dates else f"{low}–{high}"
    if low is not None:
        return f"from {low}" if dates else f"{low}+"
    return f"until {high}" if dates else f"up to {high}"


def _money(value: float | None) -> str | None:
    if value is None:
        return None
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def _count(value: int | None) -> str | None:
    return None if value is None else f"{value:,}"


def _day(value: date | None) -> str | None:
    return None if value is None else value.strftime("%b %-d, %Y")


def chips(
    f: CustomerFilter,
    products: Mapping[int, str] | None = None,
    campaigns: Mapping[int, str] | None = None,
) -> list[Chip]:
    """Every filter ``f`` applies (search, sort and page aside), in the bar's order,
    named in words; products and campaigns by name when ``products``/``campaigns`` know them."""
    products = products or {}
    campaigns = campaigns or {}
    found: list[Chip] = []
    if f.min_spending is not None or f.max_spending is not None:
        found.append(
            Chip(SPEND_MIN, "Spending: " + _span(_money(f.min_spending), _money(f.max_spending)))
        )
    if f.min_visits is not None or f.max_visits is not None:
        found.append(
            Chip(VISITS_MIN, "Visits: " + _span(_count(f.min_visits), _count(f.max_visits)))
        )
    if f.last_visit is not LastVisit.ANY:
        found.append(Chip(LAST_VISIT, "Last visit: " + describe_last_visit(f)))
    for name, label, values in (
        (COUNTRY, "Country", f.countries),
        (STATE, "State", f.states),
        (CITY, "City", f.cities),
        (CATEGORY, "Category", f.categories),
    ):
        found.extend(Chip(f"{name}={v}", f"{label}: {v}") for v in values)
    found.extend(Chip(f"{PRODUCT}={p}", f"Product: {products.get(p, f'#{p}')}") for p in f.products)
    if f.bought_days is not None:
        found.append(Chip(BOUGHT_DAYS, f"Bought in the last {f.bought_days:,} days"))
    if f.min_orders is not None or f.max_orders is not None:
        found.append(
            Chip(ORDERS_MIN, "Orders: " + _span(_count(f.min_orders), _count(f.max_orders)))
        )
    if f.min_aov is not None or f.max_aov is not None:
        found.append(Chip(AOV_MIN, "Average order: " + _span(_money(f.min_aov), _money(f.max_aov))))
    if f.first_from is not None or f.first_to is not None:
        found.append(
            Chip(
                FIRST_FROM,
                "First order: " + _span(_day(f.first_from), _day(f.first_to), dates=True),
            )
        )
    if f.created_from is not None or f.created_to is not None:
        found.append(
            Chip(
                CREATED_FROM,
                "Added: " + _span(_day(f.created_from), _day(f.created_to), dates=True),
            )
        )
    if f.in_campaign is not None:
        name = campaigns.get(f.in_campaign, f"#{f.in_campaign}")
        found.append(Chip(IN_CAMPAIGN, f"In campaign: {name}"))
    if f.not_campaign is not None:
        name = campaigns.get(f.not_campaign, f"#{f.not_campaign}")
        found.append(Chip(NOT_CAMPAIGN, f"Not in campaign: {name}"))
    if f.engaged_days is not None:
        found.append(Chip(ENGAGED_DAYS, f"Opened or clicked in the last {f.engaged_days:,} days"))
    if f.never_opened:
        found.append(Chip(NEVER_OPENED, "Never opened (3+ delivered)"))
    found.extend(Chip(f"{RFM}={g}", f"RFM: {g}") for g in f.rfm_groups)
    found.extend(Chip(f"{RHYTHM}={s}", f"Rhythm: {s}") for s in f.rhythm)
    found.extend(Chip(f"{EMAIL_CONSENT}={s}", f"Email marketing: {s}") for s in f.email_consent)
    found.extend(Chip(f"{SMS_CONSENT}={s}", f"SMS marketing: {s}") for s in f.sms_consent)
    return found


# What removing a chip that is a whole range or condition drops: its parameters.
_CHIP_PARAMS: dict[str, tuple[str, ...]] = {
    SPEND_MIN: (SPEND_MIN, SPEND_MAX),
    VISITS_MIN: (VISITS_MIN, VISITS_MAX),
    LAST_VISIT: (LAST_VISIT, DAYS),
    BOUGHT_DAYS: (BOUGHT_DAYS,),
    ORDERS_MIN: (ORDERS_MIN, ORDERS_MAX),
    AOV_MIN: (AOV_MIN, AOV_MAX),
    FIRST_FROM: (FIRST_FROM, FIRST_TO),
    CREATED_FROM: (CREATED_FROM, CREATED_TO),
    IN_CAMPAIGN: (IN_CAMPAIGN,),
    NOT_CAMPAIGN: (NOT_CAMPAIGN,),
    ENGAGED_DAYS: (ENGAGED_DAYS,),
    NEVER_OPENED: (NEVER_OPENED,),
}


def without_chip(f: CustomerFilter, chip_id: str) -> CustomerFilter:
    """``f`` without the one filter the chip ``chip_id`` shows, on its first page."""
    params = params_from_filter(without_page(f))
    name, _, value = chip_id.partition("=")
    if name in LIST_PARAMS:
        kept = [v for v in params.get(name, []) if v != value]
        params[name] = kept
    else:
        for dropped in _CHIP_PARAMS.get(name, ()):
            params.pop(dropped, None)
    return filter_from_params(params, page_size=f.page_size)


def narrowed(f: CustomerFilter, param: str, value: str) -> CustomerFilter:
    """``f`` with ``value`` added to the list parameter ``param`` (or ``param`` set to
    ``value`` when it takes one value), on its first page; an unusable value is dropped."""
    params = params_from_filter(without_page(f))
    if param in LIST_PARAMS:
        current = params.get(param, [])
        params[param] = [*([current] if isinstance(current, str) else current), value]
    elif param in PARAM_NAMES and param != PAGE:
        params[param] = value
    return filter_from_params(params, page_size=f.page_size)
