"""Validation models: invisible characters, lengths in words, international email addresses."""

from __future__ import annotations

import unicodedata
from typing import Any

import duckdb
import pytest
from pydantic import BaseModel

from crm import models, writes
from crm.errors import ValidationFailed
from crm.models import CampaignCreate, CustomerBase, CustomerCreate, CustomerUpdate, MessageCreate

GOOD: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "López",
    "email": "ana.lopez@example.com",
    "phone": "+34 91 555 0101",
    "street": "Calle Mayor 1",
    "city": "Madrid",
    "state": "Madrid",
    "zip": "28013",
    "country": "Spain",
}


def _refusal(model: type[BaseModel], data: dict[str, Any], field: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        models.parse(model, data)
    return caught.value.errors[field]


# --- Item 8: control and format characters ---------------------------------------


def test_right_to_left_override_is_named_with_where_it_is() -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "first_name": "Ana\u202eNAJ"}, "first_name")
    assert sentence == (
        "First name contains an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)"
        " after “Ana”; remove it."
    )


def test_an_invisible_character_at_the_start_says_so() -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "last_name": "\ufeffLópez"}, "last_name")
    assert sentence == (
        "Last name contains an invisible character (U+FEFF ZERO WIDTH NO-BREAK SPACE)"
        " at the start; remove it."
    )


def test_a_nul_byte_is_named_as_a_control_character() -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "email": "ana\x00@example.com"}, "email")
    assert sentence == (
        "Email contains an invisible character (U+0000, a control character)"
        " after “ana”; remove it."
    )


@pytest.mark.parametrize("field", list(CustomerBase.model_fields))
@pytest.mark.parametrize(
    "character",
    ["\x00", "\x07", "\t", "\u200b", "\u202e", "\u2066", "\u200e", "\u00ad", "\ufeff", "\u2028"],
)
def test_every_customer_text_field_refuses_control_and_format_characters(
    field: str, character: str
) -> None:
    # In the middle of a value that is otherwise fine for that field.
    good = GOOD[field]
    value = good[:2] + character + good[2:]
    sentence = _refusal(CustomerCreate, {**GOOD, field: value}, field)
    assert f"U+{ord(character):04X}" in sentence and "invisible character" in sentence


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200b\u200b", "\u200c", "\u200d\u200d"])
def test_a_name_of_zero_width_characters_is_refused(name: str) -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "first_name": name}, "first_name")
    assert sentence.startswith("First name contains an invisible character (U+200")


@pytest.mark.parametrize("name", ["\u3164", "\u0301", "\u2800", "\u115f\u1160"])
def test_a_name_with_no_visible_character_is_refused(name: str) -> None:
    assert (
        _refusal(CustomerCreate, {**GOOD, "last_name": name}, "last_name")
        == "Last name has no visible character."
    )


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "mi-khaham": ZWNJ inside
        "\u0915\u094d\u200d\u0937",  # Devanagari half form: virama, ZWJ, consonant
        "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # family emoji sequence
        "\u2764\ufe0f\u200d\U0001f525",  # heart on fire: variation selector before the ZWJ
        "Zoë Ünal-Ødegård",
    ],
)
def test_joiners_between_visible_characters_are_kept(name: str) -> None:
    customer = models.parse(CustomerCreate, {**GOOD, "first_name": name})
    assert customer.first_name == name


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("\u200cAna", "at the start"),
        ("Ana\u200d", "after “Ana”"),
        ("Ana \u200cLee", "after “Ana ”"),
    ],
)
def test_joiners_next_to_nothing_visible_are_refused(name: str, where: str) -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "first_name": name}, "first_name")
    joiner = next(ch for ch in name if ch in "\u200c\u200d")
    assert sentence == (
        f"First name contains an invisible character"
        f" (U+{ord(joiner):04X} {unicodedata.name(joiner)}) {where}; remove it."
    )


def test_campaign_names_and_message_subjects_refuse_invisible_characters() -> None:
    campaign = {"name": "Spring\u202e sale", "channel": "Email"}
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in _refusal(CampaignCreate, campaign, "name")
    zero_width = {"name": "\u200b", "channel": "SMS"}
    assert "U+200B ZERO WIDTH SPACE" in _refusal(CampaignCreate, zero_width, "name")
    message = {"body": "Hi", "subject": "20%\x00 off"}
    assert "U+0000" in _refusal(MessageCreate, message, "subject")


def test_a_message_body_keeps_its_line_breaks() -> None:
    body = "Hi Ana,\n\nsee you soon.\tThanks"
    assert models.parse(MessageCreate, {"body": body}).body == body


# --- Item 9: too long, in words; the limits live once ---------------------------------


def test_too_long_says_how_long_it_is_and_may_be() -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "phone": "1" * 100}, "phone")
    assert sentence == "Phone is too long: 100 characters, at most 32."


def test_a_297_character_email_is_too_long_not_missing() -> None:
    email = "a" * 285 + "@example.com"
    assert len(email) == 297
    sentence = _refusal(CustomerCreate, {**GOOD, "email": email}, "email")
    assert sentence == "Email is too long: 297 characters, at most 254."


def test_thousands_are_grouped_in_the_length_sentence() -> None:
    sentence = _refusal(MessageCreate, {"body": "x" * 4_312}, "body")
    assert sentence == "Message is too long: 4,312 characters, at most 4,000."


def _longest_email(length: int) -> str:
    """A valid address of exactly ``length`` characters (local part and labels within limits)."""
    local = "a" * 64
    labels = []
    left = length - len(local) - 1 - len(".com")
    while left > 0:
        label = min(63, left)
        labels.append("b" * label)
        left -= label + 1
    domain = ".".join(labels)[: length - len(local) - 1 - len(".com")]
    return f"{local}@{domain.rstrip('.')}.com"


def _value_of_length(field: str, length: int) -> str:
    if field == "email":
        return _longest_email(length)
    if field in {"phone", "zip"}:
        return "5" * length
    return "x" * length


def test_field_limits_are_read_from_the_model_and_hold_exactly() -> None:
    limits = models.CUSTOMER_FIELD_MAX
    assert set(limits) == set(CustomerBase.model_fields)
    for field, limit in limits.items():
        at_limit = _value_of_length(field, limit)
        assert len(at_limit) == limit
        assert getattr(models.parse(CustomerCreate, {**GOOD, field: at_limit}), field) == at_limit
        over = _value_of_length(field, limit + 1)
        assert len(over) == limit + 1
        label = models.FIELD_LABELS[field]
        assert _refusal(CustomerCreate, {**GOOD, field: over}, field) == (
            f"{label} is too long: {limit + 1} characters, at most {limit}."
        )


def test_surrounding_spaces_do_not_count_towards_the_limit() -> None:
    limit = models.CUSTOMER_FIELD_MAX["city"]
    customer = models.parse(CustomerCreate, {**GOOD, "city": "  " + "x" * limit + "  "})
    assert customer.city == "x" * limit


# --- Item 11: international addresses -------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "用户@例子.广告",
        "a@example.xn--p1ai",
        "a@example.рф",
        "josé@correo.es",
        "ñandú@münchen.de",
        "Ana.Lopez+news@Example.com",
    ],
)
def test_international_addresses_are_accepted_as_typed(email: str) -> None:
    assert models.parse(CustomerCreate, {**GOOD, "email": f"  {email} "}).email == email


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ana@", "There must be something after the @-sign."),
        ("ana lopez@example.com", "before the @-sign: SPACE"),
        ("a..b@example.com", "two periods in a row"),
        ("a@-example.com", "hyphen immediately after the @-sign"),
        ("a@exa_mple.com", "invalid characters: '_'"),
        ("ana@example", "It should have a period."),
        ("<script>@x.com", "There can't be anything after the email address."),
        ("a@@example.com", "invalid characters: '@'"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(email: str, reason: str) -> None:
    sentence = _refusal(CustomerCreate, {**GOOD, "email": email}, "email")
    assert sentence.startswith("Email: enter an address like name@example.com. ")
    assert reason in sentence
    assert sentence.endswith(".") and not sentence.endswith("..")


def test_idn_address_is_stored_as_typed_and_its_key_is_lower_case(
    con: duckdb.DuckDBPyConnection,
) -> None:
    typed = "Ünal@Example.XN--P1AI"
    cid = writes.create_customer(con, models.parse(CustomerCreate, {**GOOD, "email": typed}))
    row = con.execute("SELECT email, email_key FROM customers WHERE id = ?", [cid]).fetchone()
    assert row == (typed, typed.lower())
    with pytest.raises(ValidationFailed) as caught:
        writes.create_customer(
            con, models.parse(CustomerCreate, {**GOOD, "email": "ünal@example.xn--p1ai"})
        )
    assert caught.value.errors == {"email": writes.DUPLICATE_EMAIL}


def test_every_seeded_customer_can_still_be_edited(con: duckdb.DuckDBPyConnection) -> None:
    """The new rules must not lock anyone out of saving a customer already on file."""
    fields = list(CustomerBase.model_fields)
    rows = con.execute(f"SELECT {', '.join(fields)}, version FROM customers").fetchall()
    assert len(rows) == 300
    for row in rows:
        models.parse(CustomerUpdate, dict(zip([*fields, "version"], row, strict=True)))
