"""The sign-in gate's decision (crm.access): pure functions over plain data."""

from __future__ import annotations

import pytest

from crm import access
from crm.access import AccessList, decide

SHOP = access.access_list(
    {"allowed_emails": ["Ana@Example.org", " bo@other.net "], "allowed_domains": ["@Shop.com"]}
)


def signed_in(email: object, **claims: object) -> dict[str, object]:
    return {"is_logged_in": True, "email": email, **claims}


def test_the_list_is_read_in_lower_case_without_at_signs_or_blanks() -> None:
    assert (
        AccessList(
            emails=frozenset({"ana@example.org", "bo@other.net"}), domains=frozenset({"shop.com"})
        )
        == SHOP
    )
    # One string is one entry, not a list of its letters; blanks and other types are dropped.
    one = access.access_list({"allowed_emails": "x@y.z", "allowed_domains": ["", 7]})
    assert one == AccessList(emails=frozenset({"x@y.z"}), domains=frozenset({"7"}))
    assert access.access_list(None).empty
    assert access.access_list({}).empty


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("ana@example.org", True),
        ("ANA@EXAMPLE.ORG ", True),  # case and spaces from a provider do not matter
        ("ana2@example.org", False),  # an address, not a prefix
        ("carla@shop.com", True),  # by domain
        ("carla@eu.shop.com", False),  # a subdomain is another domain
        ("carla@myshop.com", False),  # and so is a longer name ending the same way
        ("shop.com@evil.io", False),  # the domain is after the last @
        ("carla@shop.com.evil.io", False),
        ("", False),
        ("not-an-address", False),
        (None, False),
    ],
)
def test_is_allowed(email: str | None, allowed: bool) -> None:
    assert access.is_allowed(email, SHOP) is allowed


def test_without_auth_the_app_is_open_whoever_it_is() -> None:
    assert decide(False, {}, SHOP).verdict == "open"
    assert decide(False, signed_in("mallory@evil.io"), AccessList()).verdict == "open"


def test_configured_asks_for_sign_in_until_signed_in() -> None:
    assert decide(True, {}, SHOP).verdict == "sign_in"
    assert decide(True, {"is_logged_in": False, "email": "ana@example.org"}, SHOP).verdict == (
        "sign_in"
    )


def test_an_allowed_person_is_let_in_with_their_address() -> None:
    assert decide(True, signed_in("Carla@Shop.com"), SHOP) == access.Decision(
        "allowed", "carla@shop.com"
    )
    assert decide(True, signed_in("ana@example.org", email_verified=True), SHOP).verdict == (
        "allowed"
    )


def test_refusals_say_why_in_words() -> None:
    refused = decide(True, signed_in("mallory@evil.io"), SHOP)
    assert refused.verdict == "refused"
    assert refused.email == "mallory@evil.io"
    assert "mallory@evil.io may not use this Customer Hub" in refused.reason

    unverified = decide(True, signed_in("ana@example.org", email_verified=False), SHOP)
    assert unverified.verdict == "refused"
    assert "not verified" in unverified.reason

    no_email = decide(True, {"is_logged_in": True, "name": "Ana"}, SHOP)
    assert no_email.verdict == "refused"
    assert "did not share an email address" in no_email.reason


def test_an_empty_list_lets_nobody_in() -> None:
    # A provider such as Google signs in anyone: no list must not mean everyone.
    refused = decide(True, signed_in("ana@example.org"), AccessList())
    assert refused.verdict == "refused"
    assert "allow no email address or domain" in refused.reason


def test_providers_named_or_not() -> None:
    assert access.providers({"client_id": "x", "redirect_uri": "u"}) == [None]
    assert access.providers(
        {"redirect_uri": "u", "cookie_secret": "s", "microsoft": {"client_id": "m"}, "google": {}}
    ) == ["google", "microsoft"]
    assert access.providers({"redirect_uri": "u"}) == []
    assert access.providers(None) == []


def test_who_is_recorded() -> None:
    assert access.signed_in_email(False, signed_in("ana@example.org")) is None
    assert access.signed_in_email(True, {"is_logged_in": False, "email": "a@b.c"}) is None
    assert access.signed_in_email(True, signed_in(" Ana@Example.org")) == "ana@example.org"
