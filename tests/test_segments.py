"""crm.segments: a segment survives the trip through a URL; bad URLs do no harm."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from crm import segments
from crm.models import CustomerFilter, LastVisit, SortKey

SEGMENTS = [
    CustomerFilter(),
    CustomerFilter(search="ana lopez"),
    CustomerFilter(min_spending=100.0, max_spending=2500.5),
    CustomerFilter(min_visits=3),
    CustomerFilter(max_visits=10),
    CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=7),
    CustomerFilter(last_visit=LastVisit.OLDER, last_visit_days=90),
    CustomerFilter(last_visit=LastVisit.NEVER),
    CustomerFilter(sort=SortKey.NAME, descending=False),
    CustomerFilter(sort=SortKey.NAME, descending=True),
    CustomerFilter(sort=SortKey.VISITS, descending=False, page=4),
    CustomerFilter(
        search="x",
        min_spending=1.0,
        max_spending=2.0,
        min_visits=0,
        max_visits=5,
        last_visit=LastVisit.WITHIN,
        last_visit_days=45,
        sort=SortKey.LAST_VISIT,
        descending=False,
        page=2,
    ),
]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_round_trip(segment: CustomerFilter) -> None:
    params = segments.params_from_filter(segment)
    assert all(isinstance(v, str) for v in params.values())
    assert segments.filter_from_params(params) == segment


def test_defaults_make_an_empty_url() -> None:
    assert segments.params_from_filter(CustomerFilter()) == {}
    # Name sorts A to Z by default, so its natural direction is not written.
    assert segments.params_from_filter(CustomerFilter(sort=SortKey.NAME, descending=False)) == {
        "sort": "name"
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": "abc"}, CustomerFilter()),
        ({"page": "-3"}, CustomerFilter()),
        ({"page": "2.7"}, CustomerFilter(page=2)),
        ({"spend_min": "-5"}, CustomerFilter(min_spending=0.0)),
        ({"spend_min": "nan", "spend_max": "inf"}, CustomerFilter()),
        ({"spend_min": "1,500"}, CustomerFilter(min_spending=1500.0)),
        (
            {"spend_min": "900", "spend_max": "100"},
            CustomerFilter(min_spending=100.0, max_spending=900.0),
        ),
        ({"visits_min": "ten"}, CustomerFilter()),
        ({"visits_max": "99999999999"}, CustomerFilter(max_visits=segments.VISITS_LIMIT)),
        ({"sort": "drop table"}, CustomerFilter()),
        ({"sort": "NAME"}, CustomerFilter(sort=SortKey.NAME, descending=False)),
        ({"order": "sideways"}, CustomerFilter()),
        ({"last": "sometimes"}, CustomerFilter()),
        (
            {"last": "within", "days": "0"},
            CustomerFilter(last_visit=LastVisit.WITHIN, last_visit_days=1),
        ),
        ({"last": "within", "days": "x"}, CustomerFilter(last_visit=LastVisit.WITHIN)),
        (
            {"last": "older", "days": "1e9"},
            CustomerFilter(last_visit=LastVisit.OLDER, last_visit_days=segments.DAYS_MAX),
        ),
        ({"days": "7"}, CustomerFilter()),  # days without a condition mean nothing
        ({"q": "  ana  "}, CustomerFilter(search="ana")),
        # Cut past the longest name and email: it still matches no one, as the whole did.
        ({"q": "a" * 5_000}, CustomerFilter(search="a" * (segments.SEARCH_MAX + 1))),
        ({"q": ["first", "second"]}, CustomerFilter(search="second")),
        ({"q": []}, CustomerFilter()),
    ],
)
def test_bad_or_odd_values_are_clamped_or_dropped(
    params: dict[str, str | list[str]], expected: CustomerFilter
) -> None:
    assert segments.filter_from_params(params) == expected


def test_page_helpers() -> None:
    assert segments.page_count(0, 24) == 1
    assert segments.page_count(24, 24) == 1
    assert segments.page_count(25, 24) == 2
    assert segments.clamp_page(CustomerFilter(page=40), 50).page == 3
    assert segments.clamp_page(CustomerFilter(page=2), 0).page == 1
    same = CustomerFilter(page=2)
    assert segments.clamp_page(same, 30) is same
    assert segments.without_page(replace(same, search="x")) == CustomerFilter(search="x")


def test_is_filtered_ignores_sort_and_page() -> None:
    assert not segments.is_filtered(CustomerFilter(sort=SortKey.NAME, page=3))
    for segment in SEGMENTS[1:8]:
        assert segments.is_filtered(segment), segment


def test_ranges_at_the_data_bounds_are_no_filter() -> None:
    f = CustomerFilter(min_spending=0.0, max_spending=5000.0, min_visits=0, max_visits=80)
    clamped = segments.clamp_to_bounds(f, (0.0, 5000.0), (0, 80))
    assert (clamped.min_spending, clamped.max_spending) == (None, None)
    assert (clamped.min_visits, clamped.max_visits) == (None, None)
    inside = CustomerFilter(min_spending=10.0, max_spending=4999.0, min_visits=1, max_visits=79)
    assert segments.clamp_to_bounds(inside, (0.0, 5000.0), (0, 80)) == inside


@pytest.mark.parametrize("preset", segments.LAST_VISIT_PRESETS)
def test_last_visit_presets_round_trip(preset: segments.LastVisitPreset) -> None:
    mode, days = segments.last_visit_condition(preset.id, LastVisit.OLDER, 45)
    f = CustomerFilter(last_visit=mode, last_visit_days=days)
    assert segments.last_visit_preset(f) == preset.id
    if preset.id == segments.CUSTOM_PRESET:
        assert (mode, days) == (LastVisit.OLDER, 45)
    else:
        assert (mode, days) == (preset.mode, preset.days)


def test_custom_days_are_clamped() -> None:
    assert segments.last_visit_condition("custom", LastVisit.WITHIN, 0) == (LastVisit.WITHIN, 1)
    assert segments.last_visit_condition("custom", LastVisit.NEVER, 10) == (LastVisit.WITHIN, 10)
    assert segments.last_visit_condition("no such", LastVisit.WITHIN, 10) == (LastVisit.ANY, 30)


def test_every_sort_has_one_option() -> None:
    pairs = {(o.key, o.descending) for o in segments.SORT_OPTIONS}
    assert pairs == {(key, d) for key in SortKey for d in (True, False)}
    assert len({o.id for o in segments.SORT_OPTIONS}) == len(segments.SORT_OPTIONS)
    for option in segments.SORT_OPTIONS:
        f = CustomerFilter(sort=option.key, descending=option.descending)
        assert segments.sort_option(f) == option


# --- The segment builder's parameters (issue 9) ------------------------------------

BUILDER_SEGMENTS = [
    (CustomerFilter(countries=("Italy", "Spain")), {"country": ["Italy", "Spain"]}),
    (
        CustomerFilter(countries=("Italy",), states=("Lazio",)),
        {"country": ["Italy"], "state": ["Lazio"]},
    ),
    (CustomerFilter(cities=("Rome", "Côte d'Or & Co")), {"city": ["Rome", "Côte d'Or & Co"]}),
    (CustomerFilter(categories=("Coffee", "Tea")), {"category": ["Coffee", "Tea"]}),
    (CustomerFilter(products=(12, 3)), {"product": ["12", "3"]}),
    (CustomerFilter(bought_days=30), {"bought_days": "30"}),
    (
        CustomerFilter(categories=("Coffee",), bought_days=90),
        {"category": ["Coffee"], "bought_days": "90"},
    ),
    (CustomerFilter(min_orders=2, max_orders=5), {"orders_min": "2", "orders_max": "5"}),
    (CustomerFilter(min_aov=12.5, max_aov=80.0), {"aov_min": "12.50", "aov_max": "80"}),
    (
        CustomerFilter(first_from=date(2024, 1, 1), first_to=date(2024, 6, 30)),
        {"first_from": "2024-01-01", "first_to": "2024-06-30"},
    ),
    (CustomerFilter(created_from=date(2025, 2, 3)), {"created_from": "2025-02-03"}),
    (CustomerFilter(created_to=date(2025, 2, 3)), {"created_to": "2025-02-03"}),
    (CustomerFilter(in_campaign=4), {"in_campaign": "4"}),
    (CustomerFilter(not_campaign=9), {"not_campaign": "9"}),
    (CustomerFilter(engaged_days=60), {"engaged_days": "60"}),
    (CustomerFilter(never_opened=True), {"never_opened": "1"}),
    (
        CustomerFilter(rfm_groups=("At risk", "Can't lose them")),
        {"rfm": ["At risk", "Can't lose them"]},
    ),
    (CustomerFilter(rhythm=("Overdue", "Lapsed")), {"rhythm": ["Overdue", "Lapsed"]}),
    (
        CustomerFilter(email_consent=("Subscribed", "Not asked")),
        {"email_consent": ["Subscribed", "Not asked"]},
    ),
    (CustomerFilter(sms_consent=("Unsubscribed",)), {"sms_consent": ["Unsubscribed"]}),
]


@pytest.mark.parametrize(("segment", "params"), BUILDER_SEGMENTS)
def test_builder_round_trip(segment: CustomerFilter, params: dict[str, object]) -> None:
    assert segments.params_from_filter(segment) == params
    assert segments.filter_from_params(params) == segment
    assert segments.is_filtered(segment)


def test_every_builder_parameter_at_once_round_trips() -> None:
    combined = CustomerFilter(page=3)
    for segment, _ in BUILDER_SEGMENTS:
        changed = {
            name: getattr(segment, name)
            for name in segment.__dataclass_fields__
            if getattr(segment, name) != getattr(CustomerFilter(), name)
        }
        combined = replace(combined, **changed)
    params = segments.params_from_filter(combined)
    assert set(params) == set(segments.PARAM_NAMES) - {
        "q",
        "spend_min",
        "spend_max",
        "visits_min",
        "visits_max",
        "last",
        "days",
        "sort",
        "order",
    }
    assert segments.filter_from_params(params) == combined


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": ["", "  Italy ", "Italy"]}, CustomerFilter(countries=("Italy",))),
        ({"country": "Italy"}, CustomerFilter(countries=("Italy",))),
        (
            {"product": ["12", "abc", "-3", "0", "1.5", "99999999999999999999"]},
            CustomerFilter(products=(12,)),
        ),
        ({"bought_days": "0"}, CustomerFilter(bought_days=1)),
        ({"bought_days": "soon"}, CustomerFilter()),
        ({"orders_min": "9", "orders_max": "2"}, CustomerFilter(min_orders=2, max_orders=9)),
        ({"orders_min": "-4"}, CustomerFilter(min_orders=0)),
        ({"aov_min": "nan"}, CustomerFilter()),
        ({"first_from": "2024-13-40"}, CustomerFilter()),
        (
            {"first_from": "2024-06-01", "first_to": "2024-01-01"},
            CustomerFilter(first_from=date(2024, 1, 1), first_to=date(2024, 6, 1)),
        ),
        ({"created_to": "yesterday"}, CustomerFilter()),
        ({"in_campaign": "x"}, CustomerFilter()),
        ({"not_campaign": "0"}, CustomerFilter()),
        ({"engaged_days": "-1"}, CustomerFilter(engaged_days=1)),
        ({"never_opened": "0"}, CustomerFilter()),
        ({"never_opened": "maybe"}, CustomerFilter()),
        ({"rfm": ["champions", "Kings", "LOST"]}, CustomerFilter(rfm_groups=("Champions", "Lost"))),
        ({"rhythm": ["due", "sometimes"]}, CustomerFilter(rhythm=("Due",))),
        ({"country": ["x"] * 500}, CustomerFilter(countries=("x",))),
        (
            {"city": ["c" + str(i) for i in range(500)]},
            CustomerFilter(cities=tuple(f"c{i}" for i in range(segments.LIST_LIMIT))),
        ),
    ],
)
def test_bad_builder_values_are_dropped(
    params: dict[str, str | list[str]], expected: CustomerFilter
) -> None:
    assert segments.filter_from_params(params) == expected


def test_chips_name_each_applied_filter_and_remove_only_it() -> None:
    f = CustomerFilter(
        min_spending=100.0,
        countries=("Italy", "Spain"),
        products=(7,),
        min_orders=2,
        max_orders=5,
        first_from=date(2024, 1, 1),
        in_campaign=3,
        never_opened=True,
        rhythm=("Due",),
        sort=SortKey.NAME,
        descending=False,
        page=4,
    )
    found = segments.chips(f, products={7: "Espresso"}, campaigns={3: "Spring"})
    assert [c.label for c in found] == [
        "Spending: $100+",
        "Country: Italy",
        "Country: Spain",
        "Product: Espresso",
        "Orders: 2–5",
        "First order: from Jan 1, 2024",
        "In campaign: Spring",
        "Never opened (3+ delivered)",
        "Rhythm: Due",
    ]
    by_label = {c.label: c.id for c in found}
    assert segments.without_chip(f, by_label["Country: Italy"]) == replace(
        f, countries=("Spain",), page=1
    )
    assert segments.without_chip(f, by_label["Orders: 2–5"]) == replace(
        f, min_orders=None, max_orders=None, page=1
    )
    assert segments.without_chip(f, by_label["Never opened (3+ delivered)"]) == replace(
        f, never_opened=False, page=1
    )
    everything_removed = f
    for chip in found:
        everything_removed = segments.without_chip(everything_removed, chip.id)
    assert not segments.is_filtered(everything_removed)
    assert segments.chips(CustomerFilter(search="ana", page=3)) == []


def test_narrowed_adds_a_value_and_starts_at_page_one() -> None:
    f = CustomerFilter(countries=("Italy",), min_orders=2, page=5)
    assert segments.narrowed(f, "country", "Spain") == replace(
        f, countries=("Italy", "Spain"), page=1
    )
    assert segments.narrowed(f, "country", "Italy") == replace(f, page=1)
    assert segments.narrowed(f, "rfm", "at risk") == replace(f, rfm_groups=("At risk",), page=1)
    assert segments.narrowed(f, "rfm", "Kings") == replace(f, page=1)
    assert segments.narrowed(f, "orders_max", "9") == replace(f, max_orders=9, page=1)
    assert segments.narrowed(f, "nonsense", "1") == replace(f, page=1)
