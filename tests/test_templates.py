"""Merge-field templates: every field, forgiving spelling, unknown fields, missing values."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from crm import models, templates
from crm.errors import ValidationFailed
from crm.models import TEMPLATE_MAX, Customer

ANA = Customer(
    id=7,
    first_name="Ana",
    last_name="López",
    email="ana@example.com",
    phone="+34 91 555 0101",
    street="Calle Mayor 1",
    city="Madrid",
    state="Madrid",
    zip="28013",
    country="Spain",
    avatar=None,
    avatar_type=None,
    created_at=datetime(2024, 1, 2, 10, 0),
    updated_at=datetime(2024, 1, 2, 10, 0),
    version=1,
    total_spending=Decimal("1234.5"),
    order_count=4,
    visit_count=9,
    last_visit=datetime(2025, 3, 3, 17, 45),
)
NEWCOMER = replace(
    ANA, city="", country="", last_visit=None, visit_count=0, order_count=0, total_spending=0
)

EXPECTED_ANA = {
    "First Name": "Ana",
    "Last Name": "López",
    "Name": "Ana López",
    "Email": "ana@example.com",
    "City": "Madrid",
    "Country": "Spain",
    "Last Visit": "March 3, 2025",
    "Total Spending": "$1,234.50",
    "Visits": "9",
    "Orders": "4",
}


def test_every_field_is_listed_and_expected() -> None:
    assert [f.label for f in templates.FIELDS] == list(EXPECTED_ANA)


@pytest.mark.parametrize(("label", "value"), list(EXPECTED_ANA.items()))
def test_each_field_is_filled_from_the_customer(label: str, value: str) -> None:
    rendered = templates.render(f"<[{label}]>", ANA)
    assert rendered.text == f"<{value}>"
    assert rendered.fields == (label,)
    assert rendered.fallbacks == ()


def test_the_issue_example() -> None:
    text = (
        "Hi [Name], we've noticed you haven't shopped with us since [Last Visit]. "
        "Here's 20% off for your next order!"
    )
    rendered = templates.render(text, ANA)
    assert rendered.text == (
        "Hi Ana López, we've noticed you haven't shopped with us since March 3, 2025. "
        "Here's 20% off for your next order!"
    )
    assert rendered.fields == ("Name", "Last Visit")


@pytest.mark.parametrize(
    "spelling", ["[first name]", "[FIRST_NAME]", "[FirstName]", "[ First  Name ]"]
)
def test_spelling_of_a_field_is_forgiven(spelling: str) -> None:
    assert templates.render(f"Hi {spelling}!", ANA).text == "Hi Ana!"


def test_a_field_used_twice_is_filled_twice_and_listed_once() -> None:
    rendered = templates.render("[City], [City]", ANA)
    assert rendered.text == "Madrid, Madrid"
    assert rendered.fields == ("City",)


def test_never_visited_reads_naturally() -> None:
    rendered = templates.render("You haven't shopped with us since [Last Visit].", NEWCOMER)
    assert rendered.text == "You haven't shopped with us since your last visit."
    assert rendered.fallbacks == (("Last Visit", "your last visit"),)
    assert "None" not in rendered.text


def test_missing_city_and_country_use_phrases() -> None:
    rendered = templates.render("Events in [City], [Country].", NEWCOMER)
    assert rendered.text == "Events in your city, your country."
    assert [label for label, _ in rendered.fallbacks] == ["City", "Country"]


def test_zero_figures_are_values_not_fallbacks() -> None:
    rendered = templates.render("[Total Spending] over [Orders] orders, [Visits] visits", NEWCOMER)
    assert rendered.text == "$0.00 over 0 orders, 0 visits"
    assert rendered.fallbacks == ()


def test_a_template_can_choose_its_own_fallback() -> None:
    text = "Not seen since [Last Visit|a while]."
    assert templates.render(text, NEWCOMER).text == "Not seen since a while."
    # The override only applies when the value is missing.
    assert templates.render(text, ANA).text == "Not seen since March 3, 2025."


def test_unknown_field_is_named_with_a_suggestion() -> None:
    with pytest.raises(ValidationFailed) as caught:
        templates.render("Hi [Frist Name], see you in [Planet]", ANA)
    message = caught.value.errors["body"]
    assert "Unknown merge field [Frist Name]. Did you mean [First Name]?" in message
    assert "Unknown merge field [Planet]." in message
    assert "[Last Visit]" in message  # the list of fields a user can pick from


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_empty_message_is_refused(blank: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        templates.render(blank, ANA)
    assert caught.value.errors == {"body": "Write a message first: it is empty."}


def test_empty_brackets_and_unclosed_field_are_refused() -> None:
    found = templates.problems("Hi [], and [First Name")
    assert found == [
        "[] is an empty merge field; put a field name in the brackets.",
        "“[First Name” opens a merge field with [ but never closes it with ].",
    ]


def test_too_long_is_refused_and_the_field_key_is_chosen_by_the_caller() -> None:
    with pytest.raises(ValidationFailed) as caught:
        templates.validate("x" * (TEMPLATE_MAX + 1), field="template")
    assert list(caught.value.errors) == ["template"]
    assert "too long" in caught.value.errors["template"]


def test_text_without_fields_passes_through() -> None:
    assert templates.problems("Thanks for shopping: 20% off :)") == []
    assert templates.render("  Thanks!  ", ANA).text == "Thanks!"


def test_merge_values_are_not_reinterpreted_as_fields() -> None:
    sneaky = replace(ANA, first_name="[Last Visit]")
    assert templates.render("Hi [First Name]", sneaky).text == "Hi [Last Visit]"


# --- The merged message's length; doubled brackets --------------------------------------

LONG_EMAIL = replace(ANA, email="a" * 64 + "@" + "b" * 60 + ".example.com")


def test_a_template_that_merges_past_the_limit_says_by_how_much() -> None:
    template = " ".join(["[Email]"] * 40)
    assert len(template) <= TEMPLATE_MAX
    merged = " ".join([LONG_EMAIL.email] * 40)
    limit = models.max_lengths(models.MessageCreate)["body"]
    assert len(merged) > limit
    expected = (
        f"With this customer's details the message is {len(merged):,} characters,"
        f" {len(merged) - limit:,} more than the {limit:,} allowed."
    )
    with pytest.raises(ValidationFailed) as caught:
        templates.render(template, LONG_EMAIL)
    assert caught.value.errors == {"body": expected}
    assert templates.problems(template, LONG_EMAIL) == [expected]
    # The same template is fine for a customer with a short address.
    assert templates.problems(template, ANA) == []
    assert len(templates.render(template, ANA).text) == len(" ".join([ANA.email] * 40))


def test_a_subject_is_measured_against_the_subject_limit() -> None:
    limit = models.max_lengths(models.MessageCreate)["subject"]
    subject = "News for [Email]"
    merged = f"News for {LONG_EMAIL.email}"
    with pytest.raises(ValidationFailed) as caught:
        templates.render(subject, LONG_EMAIL, "subject")
    assert caught.value.errors == {
        "subject": f"With this customer's details the subject is {len(merged):,} characters,"
        f" {len(merged) - limit:,} more than the {limit:,} allowed."
    }


def test_a_message_exactly_at_the_limit_is_fine() -> None:
    limit = models.max_lengths(models.MessageCreate)["body"]
    fields = " ".join(["[Email]"] * 28)
    padding = "x" * (limit - len(" ".join([LONG_EMAIL.email] * 28)) - 1)
    assert len(templates.render(f"{padding} {fields}", LONG_EMAIL).text) == limit
    with pytest.raises(ValidationFailed):
        templates.render(f"x{padding} {fields}", LONG_EMAIL)


@pytest.mark.parametrize(
    ("template", "quoted"),
    [
        ("Hi [[Name]], welcome", "[[Name]]"),
        ("Hi [[First Name], welcome", "[[First Name]"),
        ("Hi [x [City]]!", "[x [City]]"),
    ],
)
def test_brackets_inside_brackets_are_explained(template: str, quoted: str) -> None:
    assert templates.problems(template) == [
        f"“{quoted}” has brackets inside brackets; write a merge field with one pair, like [Name]."
    ]


@pytest.mark.parametrize(
    ("template", "quoted"),
    [("Hi [Name]], welcome", "[Name]]"), ("Hi Name], welcome", "Hi Name]")],
)
def test_a_closing_bracket_without_its_opening_one_is_explained(template: str, quoted: str) -> None:
    assert templates.problems(template) == [
        f"“{quoted}” closes a merge field with ] that was never opened with [."
    ]


def test_a_field_left_open_before_another_is_unclosed_not_nested() -> None:
    assert templates.problems("Hi [First Name, see you in [City]") == [
        "“[First Name, see you” opens a merge field with [ but never closes it with ]."
    ]
