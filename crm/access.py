"""Who may use the app: the sign-in gate's decision, from plain data.

``[auth]`` in the secrets turns sign-in on (``st.login``, OIDC); ``[access]``
lists who may come in once signed in::

    [access]
    allowed_emails = ["ana@shop.com"]
    allowed_domains = ["shop.com"]     # everyone whose address ends in @shop.com

Without ``[auth]`` the app is open (local use). With ``[auth]`` and no list,
nobody is let in: a provider such as Google signs in anyone with an account,
so an empty list must not mean "everyone". Addresses compare without regard
to case; a domain matches the part after the ``@`` exactly (``shop.com`` does
not let in ``eu.shop.com`` nor ``myshop.com``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["open", "sign_in", "allowed", "refused"]


@dataclass(frozen=True)
class AccessList:
    """The addresses and domains let in (lower case, domains without ``@``)."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.emails and not self.domains


@dataclass(frozen=True)
class Decision:
    """What the gate does with this run: ``email`` is the signed-in address, if any;
    ``reason`` the sentence shown to someone refused."""

    verdict: Verdict
    email: str | None = None
    reason: str = ""


def _texts(value: object) -> list[str]:
    # One string is one entry ("shop.com"), not its letters.
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def normalise_email(value: object) -> str | None:
    """A claimed address as compared: trimmed, lower case; None when it is no address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    local, at, domain = email.rpartition("@")
    return email if at and local and domain else None


def access_list(section: Mapping[str, object] | None) -> AccessList:
    """The ``[access]`` secrets section as an ``AccessList`` (missing keys: nothing)."""
    section = section or {}
    emails = {e.strip().lower() for e in _texts(section.get("allowed_emails"))}
    domains = {d.strip().lower().lstrip("@") for d in _texts(section.get("allowed_domains"))}
    return AccessList(frozenset(e for e in emails if e), frozenset(d for d in domains if d))


def is_allowed(email: str | None, allowed: AccessList) -> bool:
    """Whether ``email`` is on the list, by itself or by its domain."""
    address = normalise_email(email)
    if address is None:
        return False
    return address in allowed.emails or address.rpartition("@")[2] in allowed.domains


def providers(section: Mapping[str, object] | None) -> list[str | None]:
    """The ``st.login`` providers ``[auth]`` configures: ``[None]`` for settings in
    ``[auth]`` itself, else the names of its ``[auth.<name>]`` tables."""
    section = section or {}
    if "client_id" in section:
        return [None]
    named: list[str | None] = [
        name for name, value in sorted(section.items()) if isinstance(value, Mapping)
    ]
    return named


def decide(configured: bool, user: Mapping[str, object], allowed: AccessList) -> Decision:
    """The gate's decision for one run.

    ``user`` is what ``st.user`` holds (``is_logged_in`` and the identity
    provider's claims: ``email``, ``email_verified``...).
    """
    if not configured:
        return Decision("open")
    if not user.get("is_logged_in"):
        return Decision("sign_in")
    email = normalise_email(user.get("email"))
    if email is None:
        return Decision(
            "refused",
            None,
            "Your sign-in did not share an email address, so Customer Hub cannot tell "
            "whether you may use it. Sign out and sign in with an account that has one.",
        )
    if user.get("email_verified") is False:
        return Decision(
            "refused",
            email,
            f"The address {email} is not verified by your sign-in provider. Verify it "
            "there, or sign in with another account.",
        )
    if allowed.empty:
        return Decision(
            "refused",
            email,
            "Nobody may use this Customer Hub yet: its settings allow no email address "
            "or domain. Whoever runs it adds yours under [access] in the app's secrets.",
        )
    if not is_allowed(email, allowed):
        return Decision(
            "refused",
            email,
            f"{email} may not use this Customer Hub. Ask whoever runs it to add your "
            "address (or your domain) to the allowed ones, or sign in with another account.",
        )
    return Decision("allowed", email)


def signed_in_email(configured: bool, user: Mapping[str, object]) -> str | None:
    """The address to record as who did a write: None when the app is open."""
    if not configured or not user.get("is_logged_in"):
        return None
    return normalise_email(user.get("email"))
