"""The search-and-filter bar, and keeping it in step with the URL.

Every run writes the segment the widgets describe to the URL (``settle``).
The URL is read back only when it changed from outside: a shared link, a
reload, a link from another page, or a bare URL when coming back to the list
(which brings back the segment the user had). Parsing and writing query
parameters is ``crm.segments``' job; this module moves values between
``st.query_params``, session state and the widgets.

Widgets set by code, not by the user (Clear filters, a link, new slider
bounds), get new keys: see ``_renew_popover_keys`` for why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from crm import formatting, segments
from crm.models import CustomerFilter, LastVisit
from crm.segments import CUSTOM_PRESET, LAST_VISIT_PRESETS, SORT_OPTIONS
from crm.ui.figures import StaticFigures

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

GENERATION = "_seg_generation"  # the popover widgets' key generation
_URL_WRITTEN = "_seg_url_written"  # segment parameters this session put in the URL lately
_URL_MEMORY = 8
_LAST_SEGMENT = "_seg_last"  # the segment (with page) shown last, kept across page switches
_FIGURES_SEEN = "_seg_figures"  # slider bounds the sliders were last set against
_CHANGED = "_seg_changed"
_SPEND_PROBLEM = "_seg_spend_problem"  # why typed spending was refused, until the next change

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


def _url_segment_params() -> dict[str, str]:
    return {name: st.query_params[name] for name in segments.PARAM_NAMES if name in st.query_params}


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
    state[_FIGURES_SEEN] = figures
    state.pop(_SPEND_PROBLEM, None)


def _set_spending(low: int, high: int) -> None:
    """The spending slider and the typed minimum and maximum, in step."""
    st.session_state[_key(K_SPEND)] = (low, high)
    st.session_state[_key(K_SPEND_MIN)] = low
    st.session_state[_key(K_SPEND_MAX)] = high


def _url_key(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(params.items()))


def _written_recently(url: dict[str, str]) -> bool:
    return _url_key(url) in st.session_state.get(_URL_WRITTEN, ())


def _remember_written(params: dict[str, str]) -> None:
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
    from_url = segments.clamp_to_bounds(
        segments.filter_from_params(url), _float_pair(figures.spending), figures.visits
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
        if segments.is_filtered(current):
            st.button(
                "Clear filters",
                key="clear_filters",
                icon=":material/filter_alt_off:",
                type="tertiary",
                on_click=clear_filters,
            )
    return _with_page(current)


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
