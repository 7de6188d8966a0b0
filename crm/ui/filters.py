"""The search-and-filter bar, and keeping it in step with the URL.

Every run writes the segment the widgets describe to the URL (``settle``).
The URL is read back only when it changed from outside: a shared link, a
reload, a link from another page, or a bare URL when coming back to the list
(which brings back the segment the user had). Parsing and writing query
parameters is ``crm.segments``' job; this module moves values between
``st.query_params``, session state and the widgets.

Widgets set by code, not by the user (Clear filters, a link, new slider
bounds, a removed chip, ``narrow``), get new keys: see
``_renew_popover_keys`` for why.

The segment builder (issue 9) adds popovers for location, what was bought,
orders, customer since, campaigns and scores, in the same wrapping row; each
applied filter shows as a chip under it that removes only that filter. The
values offered (countries with counts, categories, products, campaigns) are
read once per write or minute (``choices``, ``places``); a link's values the
data does not have are dropped. ``narrow`` lets another panel add a value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import streamlit as st

from crm import consent, formatting, queries, scores, segments
from crm.catalogue import catalogue
from crm.models import CustomerFilter, LastVisit
from crm.segments import CUSTOM_PRESET, LAST_VISIT_PRESETS, SORT_OPTIONS
from crm.ui.data import connection, data_version, db_key
from crm.ui.figures import STATIC_TTL_SECONDS, StaticFigures

# Widget keys. A key also names the widget in AppTest (at.text_input(key=...)).
# Search, sort and page are always drawn and keep their keys.
K_SEARCH = "seg_search"
K_SORT = "seg_sort"
K_PAGE = "seg_page"
# Widgets inside the filter popovers: their keys carry a generation number
# (``widget_key``), renewed whenever code sets their values.
K_SPEND = "seg_spend"
K_SPEND_MIN = "seg_spend_min"
K_SPEND_MAX = "seg_spend_max"
K_VISITS = "seg_visits"
K_LAST = "seg_last"
K_LAST_MODE = "seg_last_mode"
K_LAST_DAYS = "seg_last_days"
K_COUNTRY = "seg_country"
K_STATE = "seg_state"
K_CITY = "seg_city"
K_CATEGORY = "seg_category"
K_PRODUCT = "seg_product"
K_BOUGHT_DAYS = "seg_bought_days"
K_ORDERS_MIN = "seg_orders_min"
K_ORDERS_MAX = "seg_orders_max"
K_AOV_MIN = "seg_aov_min"
K_AOV_MAX = "seg_aov_max"
K_FIRST_FROM = "seg_first_from"
K_FIRST_TO = "seg_first_to"
K_CREATED_FROM = "seg_created_from"
K_CREATED_TO = "seg_created_to"
K_IN_CAMPAIGN = "seg_in_campaign"
K_NOT_CAMPAIGN = "seg_not_campaign"
K_ENGAGED_DAYS = "seg_engaged_days"
K_NEVER_OPENED = "seg_never_opened"
K_RFM = "seg_rfm"
K_RHYTHM = "seg_rhythm"
K_EMAIL_CONSENT = "seg_email_consent"
K_SMS_CONSENT = "seg_sms_consent"

GENERATION = "_seg_generation"  # the popover widgets' key generation
_URL_WRITTEN = "_seg_url_written"  # segment parameters this session put in the URL lately
_URL_MEMORY = 8
_LAST_SEGMENT = "_seg_last"  # the segment (with page) shown last, kept across page switches
_FIGURES_SEEN = "_seg_figures"  # slider bounds the sliders were last set against
_CHANGED = "_seg_changed"
_SPEND_PROBLEM = "_seg_spend_problem"  # why typed spending was refused, until the next change
_APPLIED = "_seg_applied"  # typed ranges in force, by range name: (low, high)
_PROBLEMS = "_seg_problems"  # why a typed range was refused, by range name

_SORT_LABELS = {o.id: o.label for o in SORT_OPTIONS}
_PRESET_LABELS = {p.id: p.label for p in LAST_VISIT_PRESETS}
_MODE_LABELS = {
    LastVisit.WITHIN.value: "Visited in the last",
    LastVisit.OLDER.value: "Not visited in the last",
}


def widget_key(name: str, generation: int) -> str:
    """A popover widget's key in a generation (the first keeps the plain name)."""
    return name if generation == 0 else f"{name}_g{generation}"


def _key(name: str) -> str:
    return widget_key(name, int(st.session_state.get(GENERATION, 0)))


def _url_segment_params() -> segments.Params:
    params: segments.Params = {}
    for name in segments.PARAM_NAMES:
        if name in st.query_params:
            many = name in segments.LIST_PARAMS
            params[name] = st.query_params.get_all(name) if many else st.query_params[name]
    return params


# --- What the builder offers, read once per write (or a minute) ----------------------


@dataclass(frozen=True)
class Choices:
    """The values the filter bar offers, from the data."""

    countries: dict[str, int]  # country -> customers, most first
    categories: tuple[str, ...]
    products: dict[int, str]  # id -> "name · category", by name
    campaigns: dict[int, str]  # id -> "name (channel)", newest first

    def product_names(self) -> dict[int, str]:
        return {pid: label.split(" · ")[0] for pid, label in self.products.items()}

    def campaign_names(self) -> dict[int, str]:
        return {cid: label.rsplit(" (", 1)[0] for cid, label in self.campaigns.items()}


@st.cache_data(ttl=STATIC_TTL_SECONDS, max_entries=8, show_spinner=False)
def _choices(db_path: str, writes: int) -> Choices:
    con = connection()
    known = catalogue(con)
    products = sorted(known.products.items(), key=lambda item: (item[1][0].lower(), item[0]))
    return Choices(
        countries=dict(queries.country_counts(con)),
        categories=tuple(sorted({category for _, category in known.products.values()})),
        products={pid: f"{name} · {category}" for pid, (name, category) in products},
        campaigns={
            cid: f"{name} ({channel})" for cid, name, channel, _, _ in queries.campaign_choices(con)
        },
    )


def choices() -> Choices:
    return _choices(db_key(), data_version())


@st.cache_data(ttl=STATIC_TTL_SECONDS, max_entries=64, show_spinner=False)
def _places(
    db_path: str, writes: int, countries: tuple[str, ...], states: tuple[str, ...]
) -> tuple[dict[str, int], dict[str, int]]:
    con = connection()
    within = list(countries) if countries else list(choices().countries)
    return (
        dict(queries.state_counts(con, within)),
        dict(queries.city_counts(con, within, list(states))),
    )


def places(
    countries: tuple[str, ...], states: tuple[str, ...]
) -> tuple[dict[str, int], dict[str, int]]:
    """States within the countries (all when none), and cities within them and the states."""
    return _places(db_key(), data_version(), countries, states)


def _known_only(f: CustomerFilter) -> CustomerFilter:
    """``f`` without values the data does not have (a link is user input)."""
    known = choices()
    countries = tuple(c for c in f.countries if c in known.countries)
    states_known, _ = places(countries, ())
    states = tuple(s for s in f.states if s in states_known)
    _, cities_known = places(countries, states)
    return replace(
        f,
        countries=countries,
        states=states,
        cities=tuple(c for c in f.cities if c in cities_known),
        categories=tuple(c for c in f.categories if c in known.categories),
        products=tuple(p for p in f.products if p in known.products),
        in_campaign=f.in_campaign if f.in_campaign in known.campaigns else None,
        not_campaign=f.not_campaign if f.not_campaign in known.campaigns else None,
    )


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(round(value), low), high))


def _renew_popover_keys() -> None:
    """Give the popover widgets new keys before code sets their values.

    A closed popover's widgets are not mounted in the browser, so a value
    set from Python never reaches them: the browser keeps the old value and
    sends it back with the next rerun (a search, a dialog, a slider), which
    brought cleared filters back (issue 12, item 14). New keys make them new
    widgets that the browser holds no value for.
    """
    state = st.session_state
    if K_SORT in state:  # the widgets were drawn in this session: the browser holds values
        state[GENERATION] = int(state.get(GENERATION, 0)) + 1


def _seed_widgets(f: CustomerFilter, figures: StaticFigures) -> None:
    """Set every filter widget to show ``f`` (before the widgets are drawn this run)."""
    state = st.session_state
    _seed_popovers(f, figures)
    state[K_SEARCH] = f.search
    state[K_SORT] = segments.sort_option(f).id
    state[K_PAGE] = f.page


def _seed_popovers(f: CustomerFilter, figures: StaticFigures) -> None:
    _renew_popover_keys()
    state = st.session_state
    low, high = figures.spending
    spend_low = low if f.min_spending is None else _clamp(f.min_spending, low, high)
    spend_high = high if f.max_spending is None else _clamp(f.max_spending, low, high)
    _set_spending(min(spend_low, spend_high), max(spend_low, spend_high))
    v_low, v_high = figures.visits
    visits_low = v_low if f.min_visits is None else _clamp(f.min_visits, v_low, v_high)
    visits_high = v_high if f.max_visits is None else _clamp(f.max_visits, v_low, v_high)
    state[_key(K_VISITS)] = (min(visits_low, visits_high), max(visits_low, visits_high))
    state[_key(K_LAST)] = segments.last_visit_preset(f)
    state[_key(K_LAST_MODE)] = (
        f.last_visit.value if f.last_visit is LastVisit.OLDER else LastVisit.WITHIN.value
    )
    state[_key(K_LAST_DAYS)] = f.last_visit_days
    for key, value in (
        (K_COUNTRY, list(f.countries)),
        (K_STATE, list(f.states)),
        (K_CITY, list(f.cities)),
        (K_CATEGORY, list(f.categories)),
        (K_PRODUCT, list(f.products)),
        (K_BOUGHT_DAYS, f.bought_days),
        (K_IN_CAMPAIGN, f.in_campaign),
        (K_NOT_CAMPAIGN, f.not_campaign),
        (K_ENGAGED_DAYS, f.engaged_days),
        (K_NEVER_OPENED, f.never_opened),
        (K_RFM, list(f.rfm_groups)),
        (K_RHYTHM, list(f.rhythm)),
        (K_EMAIL_CONSENT, list(f.email_consent)),
        (K_SMS_CONSENT, list(f.sms_consent)),
    ):
        state[_key(key)] = value
    applied = {
        "orders": (f.min_orders, f.max_orders),
        "aov": (f.min_aov, f.max_aov),
        "first": (f.first_from, f.first_to),
        "created": (f.created_from, f.created_to),
    }
    for spec in _RANGES:
        state[_key(spec.low_key)], state[_key(spec.high_key)] = applied[spec.name]
    state[_APPLIED] = applied
    state[_FIGURES_SEEN] = figures
    state.pop(_SPEND_PROBLEM, None)
    state.pop(_PROBLEMS, None)


def _set_spending(low: int, high: int) -> None:
    """The spending slider and the typed minimum and maximum, in step."""
    st.session_state[_key(K_SPEND)] = (low, high)
    st.session_state[_key(K_SPEND_MIN)] = low
    st.session_state[_key(K_SPEND_MAX)] = high


def _url_key(params: segments.Params) -> tuple[tuple[str, str | tuple[str, ...]], ...]:
    return tuple(sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in params.items()))


def _written_recently(url: segments.Params) -> bool:
    return _url_key(url) in st.session_state.get(_URL_WRITTEN, ())


def _remember_written(params: segments.Params) -> None:
    # Several, not just the last: a run stopped by a newer keystroke may have
    # changed the URL without finishing, and its URL must not count as a link
    # from outside (that would put the older search text back in the box).
    recent = [k for k in st.session_state.get(_URL_WRITTEN, ()) if k != _url_key(params)]
    st.session_state[_URL_WRITTEN] = (_url_key(params), *recent[: _URL_MEMORY - 1])


def _sync_from_url(figures: StaticFigures) -> None:
    """Seed the widgets when the URL was changed from outside, or they were forgotten."""
    state = st.session_state
    url = _url_segment_params()
    last: CustomerFilter | None = state.get(_LAST_SEGMENT)
    from_url = _known_only(
        segments.clamp_to_bounds(
            segments.filter_from_params(url), _float_pair(figures.spending), figures.visits
        )
    )
    if K_SORT not in state:
        # A new session, or back from another page (Streamlit forgets the
        # widgets there). A bare URL means "back to the list": bring back the
        # segment the user had, as Shopify's back link does.
        source = last if (not url and last is not None) else from_url
    elif not _written_recently(url):
        source = from_url  # a link to this page with another segment
    else:
        seen: StaticFigures | None = state.get(_FIGURES_SEEN)
        if seen is not None and seen != figures:
            # New bounds (a write, or the cache expired): a slider at its old
            # end must move to the new end, or it would start excluding people.
            _seed_popovers(_segment_from_widgets(seen), figures)
        return
    _seed_widgets(source, figures)
    state[_LAST_SEGMENT] = source
    _remember_written(url)


def _float_pair(pair: tuple[int, int]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])


def _days(key: str) -> int | None:
    value = st.session_state.get(_key(key))
    return None if value is None else min(max(int(value), 1), segments.DAYS_MAX)


def _segment_from_widgets(figures: StaticFigures) -> CustomerFilter:
    """The segment the widgets' current values describe (page not included)."""
    state = st.session_state
    sort = next((o for o in SORT_OPTIONS if o.id == state.get(K_SORT)), SORT_OPTIONS[0])
    spend_low, spend_high = state.get(_key(K_SPEND), figures.spending)
    visits_low, visits_high = state.get(_key(K_VISITS), figures.visits)
    mode, days = segments.last_visit_condition(
        state.get(_key(K_LAST), "any"),
        LastVisit(state.get(_key(K_LAST_MODE), LastVisit.WITHIN.value)),
        int(state.get(_key(K_LAST_DAYS)) or 30),
    )
    applied = state.get(_APPLIED, {})
    orders_min, orders_max = applied.get("orders", (None, None))
    aov_min, aov_max = applied.get("aov", (None, None))
    first_from, first_to = applied.get("first", (None, None))
    created_from, created_to = applied.get("created", (None, None))

    f = CustomerFilter(
        search=str(state.get(K_SEARCH) or ""),
        min_spending=float(spend_low),
        max_spending=float(spend_high),
        min_visits=int(visits_low),
        max_visits=int(visits_high),
        last_visit=mode,
        last_visit_days=days if mode in (LastVisit.WITHIN, LastVisit.OLDER) else 30,
        sort=sort.key,
        descending=sort.descending,
        countries=tuple(state.get(_key(K_COUNTRY)) or ()),
        states=tuple(state.get(_key(K_STATE)) or ()),
        cities=tuple(state.get(_key(K_CITY)) or ()),
        categories=tuple(state.get(_key(K_CATEGORY)) or ()),
        products=tuple(int(p) for p in state.get(_key(K_PRODUCT)) or ()),
        bought_days=_days(K_BOUGHT_DAYS),
        min_orders=None if orders_min is None else int(orders_min),
        max_orders=None if orders_max is None else int(orders_max),
        min_aov=None if aov_min is None else round(float(aov_min), 2),
        max_aov=None if aov_max is None else round(float(aov_max), 2),
        first_from=first_from,
        first_to=first_to,
        created_from=created_from,
        created_to=created_to,
        in_campaign=state.get(_key(K_IN_CAMPAIGN)),
        not_campaign=state.get(_key(K_NOT_CAMPAIGN)),
        engaged_days=_days(K_ENGAGED_DAYS),
        never_opened=bool(state.get(_key(K_NEVER_OPENED))),
        rfm_groups=tuple(state.get(_key(K_RFM)) or ()),
        rhythm=tuple(state.get(_key(K_RHYTHM)) or ()),
        email_consent=tuple(state.get(_key(K_EMAIL_CONSENT)) or ()),
        sms_consent=tuple(state.get(_key(K_SMS_CONSENT)) or ()),
    )
    return segments.clamp_to_bounds(f, _float_pair(figures.spending), figures.visits)


def clear_filters() -> None:
    """Callback of "Clear filters": everyone again, sort kept, first page."""
    figures: StaticFigures | None = st.session_state.get(_FIGURES_SEEN)
    sort = next((o for o in SORT_OPTIONS if o.id == st.session_state.get(K_SORT)), SORT_OPTIONS[0])
    cleared = CustomerFilter(sort=sort.key, descending=sort.descending)
    if figures is not None:
        _seed_widgets(cleared, figures)
    st.session_state[_LAST_SEGMENT] = cleared


# --- Typed spending, in step with the slider ----------------------------------------


def _slider_moved() -> None:
    """The slider moved: the typed minimum and maximum follow it."""
    low, high = st.session_state[_key(K_SPEND)]
    st.session_state[_key(K_SPEND_MIN)] = int(low)
    st.session_state[_key(K_SPEND_MAX)] = int(high)
    st.session_state.pop(_SPEND_PROBLEM, None)


def _typed_spending_problem(low: float | None, high: float | None) -> str | None:
    """Why a typed spending range cannot be used, in a sentence; None when it can."""
    if (low is not None and low < 0) or (high is not None and high < 0):
        return "Spending is never below $0: type $0 or more. Nothing was changed."
    if low is not None and high is not None and low > high:
        return (
            f"The minimum ({formatting.money(low, cents=False)}) is above the maximum "
            f"({formatting.money(high, cents=False)}): type a smaller minimum or a larger "
            "maximum. Nothing was changed."
        )
    return None


def _spending_typed(figures: StaticFigures) -> None:
    """A typed minimum or maximum: the slider follows it, or a bad value is refused."""
    state = st.session_state
    typed_low, typed_high = state.get(_key(K_SPEND_MIN)), state.get(_key(K_SPEND_MAX))
    problem = _typed_spending_problem(typed_low, typed_high)
    low, high = figures.spending
    if problem is not None:
        state[_SPEND_PROBLEM] = problem
        _set_spending(*state[_key(K_SPEND)])  # the boxes show the range still in force
        return
    state.pop(_SPEND_PROBLEM, None)
    # An empty box is no bound; a value beyond the data is the same as its end.
    new_low = low if typed_low is None else _clamp(typed_low, low, high)
    new_high = high if typed_high is None else _clamp(typed_high, low, high)
    _set_spending(new_low, new_high)


# --- Typed ranges: orders, average order value, dates ---------------------------------


@dataclass(frozen=True)
class _Range:
    """Two typed ends of one filter; ``what`` names them in sentences."""

    name: str
    low_key: str
    high_key: str
    what: str
    dates: bool = False


_RANGES: tuple[_Range, ...] = (
    _Range("orders", K_ORDERS_MIN, K_ORDERS_MAX, "number of orders"),
    _Range("aov", K_AOV_MIN, K_AOV_MAX, "average order value"),
    _Range("first", K_FIRST_FROM, K_FIRST_TO, "first order date", dates=True),
    _Range("created", K_CREATED_FROM, K_CREATED_TO, "date added", dates=True),
)
_RANGE_BY_NAME = {spec.name: spec for spec in _RANGES}


def _shown(value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%b %-d, %Y")
    return formatting.number(value) if float(value).is_integer() else f"{value:,.2f}"


def typed_range_problem(spec_name: str, low: Any, high: Any) -> str | None:
    """Why a typed range cannot be used, in a sentence; None when it can."""
    spec = _RANGE_BY_NAME[spec_name]
    if not spec.dates and any(v is not None and v < 0 for v in (low, high)):
        return f"The {spec.what} is never below 0: type 0 or more. Nothing was changed."
    if low is not None and high is not None and low > high:
        first, last = ("start", "end") if spec.dates else ("minimum", "maximum")
        beyond = "after" if spec.dates else "above"
        return (
            f"The {first} of the {spec.what} ({_shown(low)}) is {beyond} the {last}"
            f" ({_shown(high)}): change one of them. Nothing was changed."
        )
    return None


def _range_typed(spec_name: str) -> None:
    """A typed end of a range: used, or refused with a sentence and the boxes put back."""
    spec = _RANGE_BY_NAME[spec_name]
    state = st.session_state
    low, high = state.get(_key(spec.low_key)), state.get(_key(spec.high_key))
    problem = typed_range_problem(spec.name, low, high)
    applied = dict(state.get(_APPLIED, {}))
    problems = dict(state.get(_PROBLEMS, {}))
    if problem is None:
        applied[spec.name] = (low, high)
        problems.pop(spec.name, None)
    else:
        problems[spec.name] = problem
        state[_key(spec.low_key)], state[_key(spec.high_key)] = applied.get(spec.name, (None, None))
    state[_APPLIED] = applied
    state[_PROBLEMS] = problems


def _range_boxes(spec_name: str, labels: tuple[str, str]) -> None:
    spec = _RANGE_BY_NAME[spec_name]
    with st.container(horizontal=True, gap="small"):
        for label, key in zip(labels, (spec.low_key, spec.high_key), strict=True):
            if spec.dates:
                st.date_input(
                    label, value=None, key=_key(key), on_change=_range_typed, args=(spec.name,)
                )
            else:
                whole = spec.name == "orders"
                st.number_input(
                    label,
                    value=None,
                    step=1 if whole else 1.0,
                    format="%d" if whole else "%.2f",
                    key=_key(key),
                    on_change=_range_typed,
                    args=(spec.name,),
                    placeholder="Any",
                )
    problem = st.session_state.get(_PROBLEMS, {}).get(spec.name)
    if problem:
        st.warning(problem, icon=":material/error:")


# --- Labels -------------------------------------------------------------------------


def _range_label(name: str, low: str | None, high: str | None) -> str:
    """A filter button's label: its name, and the range it is set to if any."""
    if low is not None and high is not None:
        return f"{name}: {low}–{high}"
    if low is not None:
        return f"{name}: {low}+"
    if high is not None:
        return f"{name}: up to {high}"
    return name


def _spending_label(f: CustomerFilter) -> str:
    def money(value: float | None) -> str | None:
        return None if value is None else formatting.money(value, cents=False)

    return _range_label("Spending", money(f.min_spending), money(f.max_spending))


def _visits_label(f: CustomerFilter) -> str:
    if f.max_visits == 0:
        return "No visits"

    def count(value: int | None) -> str | None:
        return None if value is None else formatting.number(value)

    return _range_label("Visits", count(f.min_visits), count(f.max_visits))


def _last_visit_label(f: CustomerFilter) -> str:
    if f.last_visit is LastVisit.ANY:
        return "Last visit"
    return f"Last visit: {segments.describe_last_visit(f)}"


def _search_too_long(search: str) -> str | None:
    """The sentence for a search longer than any name and email together, else None."""
    length = len(search.strip())
    if length <= segments.SEARCH_MAX:
        return None
    return (
        f"This search is {formatting.number(length)} characters long, and a customer's name "
        f"and email together have at most {formatting.number(segments.SEARCH_MAX)}, "
        "so no one can match it. Shorten the search to find customers."
    )


# --- The bar ------------------------------------------------------------------------

_ACTIVE: dict[str, Any] = {"type": "primary"}
_IDLE: dict[str, Any] = {"type": "secondary"}


def segment_bar(figures: StaticFigures) -> CustomerFilter:
    """Draw search, sort and filters; return the segment on the page the user is on."""
    _sync_from_url(figures)
    current = _segment_from_widgets(figures)
    _search_row(current)
    with st.container(horizontal=True, vertical_alignment="center", key="filter_row", gap="small"):
        _spending_popover(current, figures)
        _visits_popover(current, figures)
        _last_visit_popover(current)
        known = choices()
        _location_popover(current, known)
        _bought_popover(current, known)
        _orders_popover(current)
        _since_popover(current)
        _campaigns_popover(current, known)
        _scores_popover(current)
        _marketing_popover(current)
        if segments.is_filtered(current):
            st.button(
                "Clear filters",
                key="clear_filters",
                icon=":material/filter_alt_off:",
                type="tertiary",
                on_click=clear_filters,
            )
    _chip_row(current, known)
    return _with_page(current)


# --- The segment builder's popovers (issue 9) -------------------------------------------


def _group_label(name: str, applied: int) -> str:
    return name if applied == 0 else f"{name} · {applied}"


def _options(known: list[Any], chosen: list[Any]) -> list[Any]:
    """The offered values, with any chosen one the data no longer has kept at the end."""
    return known + [value for value in chosen if value not in known]


def _countries_changed() -> None:
    """Countries changed: states and cities outside them are dropped."""
    state = st.session_state
    countries = tuple(state.get(_key(K_COUNTRY)) or ())
    states_known, _ = places(countries, ())
    states = [s for s in state.get(_key(K_STATE)) or () if s in states_known]
    state[_key(K_STATE)] = states
    _, cities_known = places(countries, tuple(states))
    state[_key(K_CITY)] = [c for c in state.get(_key(K_CITY)) or () if c in cities_known]


def _location_popover(current: CustomerFilter, known: Choices) -> None:
    applied = len(current.countries) + len(current.states) + len(current.cities)
    label = _group_label("Location", applied)
    with _popover(label, ":material/public:", "pop_location", applied > 0):
        countries = known.countries
        st.multiselect(
            "Countries",
            options=_options(list(countries), list(current.countries)),
            format_func=lambda c: f"{c} ({formatting.number(countries.get(c, 0))})",
            key=_key(K_COUNTRY),
            placeholder="Any country",
            on_change=_countries_changed,
        )
        states, _ = places(current.countries, ())
        st.multiselect(
            "States or regions" + (" in those countries" if current.countries else ""),
            options=_options(list(states), list(current.states)),
            format_func=lambda s: f"{s} ({formatting.number(states.get(s, 0))})",
            key=_key(K_STATE),
            placeholder="Any state or region",
        )
        _, cities = places(current.countries, current.states)
        st.multiselect(
            "Cities" + (" in those places" if current.countries or current.states else ""),
            options=_options(list(cities), list(current.cities)),
            format_func=lambda c: f"{c} ({formatting.number(cities.get(c, 0))})",
            key=_key(K_CITY),
            placeholder="Any city",
        )


def _bought_popover(current: CustomerFilter, known: Choices) -> None:
    applied = len(current.categories) + len(current.products) + (current.bought_days is not None)
    with _popover(
        _group_label("Bought", applied), ":material/shopping_bag:", "pop_bought", applied > 0
    ):
        st.multiselect(
            "Categories (any of them)",
            options=_options(list(known.categories), list(current.categories)),
            key=_key(K_CATEGORY),
            placeholder="Any category",
        )
        st.multiselect(
            "Products (any of them; type to search)",
            options=_options(list(known.products), list(current.products)),
            format_func=lambda p: known.products.get(p, f"#{p}"),
            key=_key(K_PRODUCT),
            placeholder="Any product",
        )
        _days_box("In the last … days (empty: ever)", K_BOUGHT_DAYS, "Ever")
        st.caption("With no category or product: customers with any order in those days.")


def _days_box(label: str, key: str, placeholder: str) -> None:
    """A number of days, empty for no limit."""
    st.number_input(
        label,
        min_value=1,
        max_value=segments.DAYS_MAX,
        value=None,
        step=1,
        key=_key(key),
        placeholder=placeholder,
    )


def _ranges_popover(
    title: str,
    icon: str,
    key: str,
    sections: tuple[tuple[str, str, tuple[str, str], tuple[Any, Any]], ...],
) -> None:
    """A popover of typed ranges: (heading, range name, box labels, applied ends) each."""
    count = sum(low is not None or high is not None for *_, (low, high) in sections)
    with _popover(_group_label(title, count), icon, key, count > 0):
        for heading, spec_name, labels, _ in sections:
            st.markdown(f"**{heading}**")  # the code's own headings ("Number of orders")
            _range_boxes(spec_name, labels)


def _orders_popover(current: CustomerFilter) -> None:
    _ranges_popover(
        "Orders",
        ":material/receipt_long:",
        "pop_orders",
        (
            (
                "Number of orders",
                "orders",
                ("At least", "At most"),
                (current.min_orders, current.max_orders),
            ),
            (
                "Average order value ($)",
                "aov",
                ("Minimum ($)", "Maximum ($)"),
                (current.min_aov, current.max_aov),
            ),
        ),
    )


def _since_popover(current: CustomerFilter) -> None:
    _ranges_popover(
        "Customer since",
        ":material/cake:",
        "pop_since",
        (
            ("First order", "first", ("From", "To"), (current.first_from, current.first_to)),
            (
                "Added to Customer Hub",
                "created",
                ("From", "To"),
                (current.created_from, current.created_to),
            ),
        ),
    )


def _campaigns_popover(current: CustomerFilter, known: Choices) -> None:
    values = (current.in_campaign, current.not_campaign, current.engaged_days)
    count = sum(v is not None for v in values) + current.never_opened
    with _popover(
        _group_label("Campaigns", count), ":material/campaign:", "pop_campaigns", count > 0
    ):
        campaign_ids = list(known.campaigns)
        for label, key, chosen in (
            ("In campaign", K_IN_CAMPAIGN, current.in_campaign),
            ("Not in campaign", K_NOT_CAMPAIGN, current.not_campaign),
        ):
            st.selectbox(
                label,
                options=_options(campaign_ids, [] if chosen is None else [chosen]),
                format_func=lambda c: known.campaigns.get(c, f"#{c}"),
                index=None,
                key=_key(key),
                placeholder="Any campaign",
            )
        _days_box("Opened or clicked in the last … days", K_ENGAGED_DAYS, "Any time")
        st.checkbox(
            "Never opened, although 3 or more sends were delivered", key=_key(K_NEVER_OPENED)
        )


def _scores_popover(current: CustomerFilter) -> None:
    count = len(current.rfm_groups) + len(current.rhythm)
    with _popover(_group_label("Scores", count), ":material/star:", "pop_scores", count > 0):
        st.multiselect(
            "RFM group", options=list(scores.GROUPS), key=_key(K_RFM), placeholder="Any group"
        )
        st.multiselect(
            "Buying rhythm",
            options=list(scores.RHYTHM_STATUSES),
            key=_key(K_RHYTHM),
            placeholder="Any status",
        )


def _marketing_popover(current: CustomerFilter) -> None:
    count = len(current.email_consent) + len(current.sms_consent)
    with _popover(
        _group_label("Marketing", count), ":material/mark_email_read:", "pop_marketing", count > 0
    ):
        for label, key in (
            ("Email marketing", K_EMAIL_CONSENT),
            ("SMS marketing", K_SMS_CONSENT),
        ):
            st.multiselect(
                label, options=list(consent.STATUSES), key=_key(key), placeholder="Any status"
            )
        st.caption("Only Subscribed customers can be sent campaigns and messages on a channel.")


# --- Chips: each applied filter, removable on its own --------------------------------


def _remove_chip(chip_id: str) -> None:
    """Callback of a chip's button: that one filter goes, everything else stays."""
    state = st.session_state
    figures: StaticFigures | None = state.get(_FIGURES_SEEN)
    if figures is None:
        return
    current = _segment_from_widgets(figures)
    _seed_widgets(segments.without_chip(current, chip_id), figures)


def _chip_row(current: CustomerFilter, known: Choices) -> None:
    found = segments.chips(current, known.product_names(), known.campaign_names())
    if not found:
        return
    with st.container(horizontal=True, gap="small", key="chip_row"):
        for n, chip in enumerate(found):
            st.button(
                formatting.escape_markdown(chip.label) + " ✕",
                key=f"chip_{n}",
                help="Remove this filter",
                on_click=_remove_chip,
                args=(chip.id,),
                type="secondary",
            )


def narrow(param: str, value: str) -> None:
    """Add ``value`` to the segment's list parameter ``param`` (``crm.segments`` names),
    or set a one-value parameter, back on page 1, everything else kept.

    For callbacks (a chart's selection): the widgets show the new segment on
    the run that follows, and that run writes it to the URL.
    """
    state = st.session_state
    figures: StaticFigures | None = state.get(_FIGURES_SEEN)
    last: CustomerFilter | None = state.get(_LAST_SEGMENT)
    current = (
        _segment_from_widgets(figures)
        if figures is not None
        else last or segments.filter_from_params(_url_segment_params())
    )
    wanted = segments.narrowed(current, param, value)
    if figures is not None:
        _seed_widgets(wanted, figures)
    else:
        for name in segments.PARAM_NAMES:
            if name in st.query_params:
                del st.query_params[name]
        for name, given in segments.params_from_filter(wanted).items():
            st.query_params[name] = given


def _search_row(current: CustomerFilter) -> None:
    with st.container(horizontal=True, vertical_alignment="bottom", key="search_row"):
        # No max_chars: the browser would drop a longer paste without a word
        # and search for nothing, showing everyone (issue 12, item 9).
        st.text_input(
            "Search",
            key=K_SEARCH,
            placeholder="Search by name or email",
            live="150ms",  # a pause in typing, not every keystroke, reruns
            icon=":material/search:",
            label_visibility="collapsed",
        )
        st.selectbox(
            "Sort by",
            options=[o.id for o in SORT_OPTIONS],
            format_func=_SORT_LABELS.__getitem__,
            key=K_SORT,
            label_visibility="collapsed",
            width=230,
        )
    too_long = _search_too_long(current.search)
    if too_long is not None:
        st.warning(too_long, icon=":material/warning:")


def _popover(label: str, icon: str, key: str, active: bool) -> Any:
    # A popover's label is Markdown: "$100" would start maths.
    return st.popover(
        formatting.escape_markdown(label), icon=icon, key=key, **(_ACTIVE if active else _IDLE)
    )


def _spending_popover(current: CustomerFilter, figures: StaticFigures) -> None:
    active = current.min_spending is not None or current.max_spending is not None
    with _popover(_spending_label(current), ":material/payments:", "pop_spending", active):
        st.slider(
            "Total spending",
            min_value=figures.spending[0],
            max_value=figures.spending[1],
            step=figures.spending_step,
            key=_key(K_SPEND),
            format="$%,d",
            on_change=_slider_moved,
        )
        with st.container(horizontal=True, gap="small"):
            for label, name in (("Minimum ($)", K_SPEND_MIN), ("Maximum ($)", K_SPEND_MAX)):
                st.number_input(
                    label,
                    value=None,
                    step=1,
                    format="%d",
                    key=_key(name),
                    on_change=_spending_typed,
                    args=(figures,),
                    placeholder="Any",
                )
        problem = st.session_state.get(_SPEND_PROBLEM)
        if problem:
            st.warning(problem, icon=":material/error:")


def _visits_popover(current: CustomerFilter, figures: StaticFigures) -> None:
    active = current.min_visits is not None or current.max_visits is not None
    with _popover(_visits_label(current), ":material/storefront:", "pop_visits", active):
        st.slider(
            "Number of visits",
            min_value=figures.visits[0],
            max_value=figures.visits[1],
            step=1,
            key=_key(K_VISITS),
            format="%,d",
        )


def _last_visit_popover(current: CustomerFilter) -> None:
    active = current.last_visit is not LastVisit.ANY
    with _popover(_last_visit_label(current), ":material/event:", "pop_last_visit", active):
        st.radio(
            "Last visit",
            options=[p.id for p in LAST_VISIT_PRESETS],
            format_func=_PRESET_LABELS.__getitem__,
            key=_key(K_LAST),
        )
        if st.session_state.get(_key(K_LAST)) == CUSTOM_PRESET:
            st.radio(
                "Condition",
                options=list(_MODE_LABELS),
                format_func=_MODE_LABELS.__getitem__,
                key=_key(K_LAST_MODE),
                label_visibility="collapsed",
            )
            st.number_input(
                "Days", min_value=1, max_value=segments.DAYS_MAX, step=1, key=_key(K_LAST_DAYS)
            )


def _with_page(current: CustomerFilter) -> CustomerFilter:
    """``current`` on the page the pager shows; a new segment starts at its first page."""
    page = int(st.session_state.get(K_PAGE) or 1)
    last: CustomerFilter | None = st.session_state.get(_LAST_SEGMENT)
    changed = last is not None and segments.without_page(last) != current
    if changed:
        page = 1
    st.session_state[_CHANGED] = changed or (last is not None and last.page != page)
    return replace(current, page=page)


def changed() -> bool:
    """Whether this run shows another segment or page than the run before."""
    return bool(st.session_state.get(_CHANGED))


def settle(f: CustomerFilter, matches: int) -> CustomerFilter:
    """Clamp the page to the segment's size and write the segment to the URL.

    Call once per run, after counting the matches and before drawing the
    pagination, so the URL, the pagination and the cards agree.
    """
    f = segments.clamp_page(f, matches)
    st.session_state[K_PAGE] = f.page
    wanted = segments.params_from_filter(f)
    _remember_written(wanted)  # before the URL changes: see _remember_written
    if wanted != _url_segment_params():
        for name in segments.PARAM_NAMES:
            if name not in wanted and name in st.query_params:
                del st.query_params[name]
        for name, value in wanted.items():
            st.query_params[name] = value
    st.session_state[_LAST_SEGMENT] = f
    return f


def pager(f: CustomerFilter, matches: int) -> None:
    """Page buttons under the grid (none when everything fits on one page)."""
    pages = segments.page_count(matches, f.page_size)
    if pages > 1:
        with st.container(horizontal=True, horizontal_alignment="center", key="pager"):
            st.pagination(pages, key=K_PAGE, max_visible_pages=7)
