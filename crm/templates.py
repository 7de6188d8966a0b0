"""Personalised messages: merge fields such as ``[First Name]`` filled per customer.

Pure functions, no Streamlit. A template is checked before anything is sent:
an empty message, an unknown field, an unclosed ``[``, brackets inside
brackets (``[[Name]]``) or a ``]`` that opens nothing each give a sentence
naming the problem, raised as ``ValidationFailed``. So does a message that
only merges past its limit with one customer's details (``render``, or
``problems`` given the customer).

Matching is forgiving about how a field is typed: ``[first name]``,
``[FIRST_NAME]`` and ``[FirstName]`` all mean ``[First Name]``.

Missing values. A marketer writes "since [Last Visit]" for everybody, so a
customer who never visited (or has no city on file) must still get a sentence
that reads naturally, never "None", "—" or a blank. Each field has a fallback
phrase for that case (``FIELDS[...].fallback``), chosen to fit the sentences
marketers write: "Hi there", "since your last visit", "in your city". A
template can override it Klaviyo-style, after a bar: ``[Last Visit|a while]``.
The preview lists which fallbacks were used, so nothing is a surprise.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from crm.errors import ValidationFailed
from crm.formatting import money
from crm.models import FIELD_LABELS, TEMPLATE_MAX, Customer, MessageCreate, max_lengths

# ``[`` ... ``]`` with no bracket inside: one merge field, optionally ``[Field|fallback]``.
_FIELD_RE = re.compile(r"\[([^\[\]]*)\]")
# A ``[`` opened inside another (``[[Name]]``, ``[Hi [City]]``), up to two closing brackets.
_NESTED_RE = re.compile(r"\[[^\[\]]*\[[^\[\]]*\]{0,2}")
# How long a merged text may be, per field it is merged into (the message's limits).
_MERGED_MAX = max_lengths(MessageCreate)


def letter_date(moment: datetime) -> str:
    """A date as written in a letter to a customer: ``March 3, 2025`` (no locale needed)."""
    return f"{moment:%B} {moment.day}, {moment.year}"


@dataclass(frozen=True)
class MergeField:
    label: str
    description: str
    value: Callable[[Customer], str | None]
    fallback: str


def _text(value: str) -> str | None:
    return value.strip() or None


FIELDS: tuple[MergeField, ...] = (
    MergeField("First Name", "first name", lambda c: _text(c.first_name), "there"),
    MergeField("Last Name", "last name", lambda c: _text(c.last_name), ""),
    MergeField("Name", "full name", lambda c: _text(c.name), "there"),
    MergeField("Email", "email address", lambda c: _text(c.email), "your email address"),
    MergeField("City", "city", lambda c: _text(c.city), "your city"),
    MergeField("Country", "country", lambda c: _text(c.country), "your country"),
    MergeField(
        "Last Visit",
        "date of the last visit",
        lambda c: letter_date(c.last_visit) if c.last_visit else None,
        "your last visit",
    ),
    MergeField(
        "Total Spending",
        "all-time spending",
        lambda c: money(c.total_spending),
        money(0),
    ),
    MergeField("Visits", "number of visits", lambda c: str(c.visit_count), "0"),
    MergeField("Orders", "number of orders", lambda c: str(c.order_count), "0"),
)


def _key(name: str) -> str:
    """How a typed field name is compared: no case, spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", name).lower()


_BY_KEY: dict[str, MergeField] = {_key(f.label): f for f in FIELDS}

# Shown in the help text and in the "unknown field" sentence.
FIELD_LIST = ", ".join(f"[{f.label}]" for f in FIELDS)

EXAMPLE = (
    "Hi [First Name], we've noticed you haven't shopped with us since [Last Visit]. "
    "Here's 20% off for your next order!"
)


@dataclass(frozen=True)
class Rendered:
    """A template filled for one customer."""

    text: str
    # Canonical labels of the fields used, in order of first use.
    fields: tuple[str, ...]
    # (label, phrase) for each field that had no value and used its fallback.
    fallbacks: tuple[tuple[str, str], ...]


def _suggestion(name: str) -> str:
    close = difflib.get_close_matches(_key(name), list(_BY_KEY), n=1, cutoff=0.6)
    return f" Did you mean [{_BY_KEY[close[0]].label}]?" if close else ""


def _bracket_problem(template: str) -> str | None:
    """The first bracket that does not belong to a merge field, in words."""
    for nested in _NESTED_RE.finditer(template):
        # "[First Name, see you in [City]" is an unclosed field, not a nested one.
        if "[[" in nested.group(0) or nested.group(0).endswith("]]"):
            return (
                f"“{nested.group(0)[:30]}” has brackets inside brackets;"
                " write a merge field with one pair, like [Name]."
            )
    # What is left once complete fields are removed must not open a field it
    # never closes, nor close one it never opened.
    ends: dict[int, int] = {}

    def blank(field: re.Match[str]) -> str:
        ends[field.end()] = field.start()
        return " " * len(field.group(0))

    stray = re.search(r"[\[\]]", _FIELD_RE.sub(blank, template))
    if stray is None:
        return None
    index = stray.start()
    if stray.group(0) == "[":
        snippet = template[index : index + 20].split("\n", 1)[0]
        return f"“{snippet}” opens a merge field with [ but never closes it with ]."
    # A ``]`` straight after a field is quoted with it: "[Name]]".
    start = ends.get(index, max(0, index - 15))
    snippet = template[start : index + 1].rsplit("\n", 1)[-1]
    return f"“{snippet}” closes a merge field with ] that was never opened with [."


def problems(template: str, customer: Customer | None = None, field: str = "body") -> list[str]:
    """Every sentence that stops ``template`` being sent; empty when it is fine.

    With ``customer``, also whether the message merged with their details fits
    the limit of ``field`` ("body" or "subject"), as ``render`` checks it.
    """
    if not template.strip():
        return ["Write a message first: it is empty."]
    found: list[str] = []
    if len(template) > TEMPLATE_MAX:
        found.append(
            f"The message is too long: {len(template):,} characters, at most {TEMPLATE_MAX:,}."
        )
    unknown: list[str] = []
    for match in _FIELD_RE.finditer(template):
        name = match.group(1).split("|", 1)[0]
        if _key(name) not in _BY_KEY and match.group(0) not in unknown:
            unknown.append(match.group(0))
    for token in unknown:
        name = token[1:-1].split("|", 1)[0]
        if not name.strip():
            found.append(f"{token} is an empty merge field; put a field name in the brackets.")
        else:
            found.append(
                f"Unknown merge field {token}.{_suggestion(name)} Available fields: {FIELD_LIST}."
            )
    bracket = _bracket_problem(template)
    if bracket:
        found.append(bracket)
    if not found and customer is not None:
        too_long = _merged_too_long(_merge(template, customer).text, field)
        if too_long:
            found.append(too_long)
    return found


def _merged_too_long(text: str, field: str) -> str | None:
    limit = _MERGED_MAX.get(field)
    if limit is None or len(text) <= limit:
        return None
    what = FIELD_LABELS.get(field, field).lower()
    return (
        f"With this customer's details the {what} is {len(text):,} characters,"
        f" {len(text) - limit:,} more than the {limit:,} allowed."
    )


def validate(template: str, field: str = "body") -> None:
    """Raise ValidationFailed (keyed by ``field``) if ``template`` cannot be sent."""
    found = problems(template)
    if found:
        raise ValidationFailed({field: " ".join(found)})


def render(template: str, customer: Customer, field: str = "body") -> Rendered:
    """Fill every merge field of ``template`` with ``customer``'s data.

    Raises ValidationFailed (keyed by ``field``) for an empty template, an
    unknown field, a stray bracket, or a merged text longer than ``field``
    ("body" or "subject") may be: a 2,000-character template can merge
    into more than 4,000 with a long address.
    """
    validate(template, field)
    rendered = _merge(template, customer)
    too_long = _merged_too_long(rendered.text, field)
    if too_long:
        raise ValidationFailed({field: too_long})
    return rendered


def _merge(template: str, customer: Customer) -> Rendered:
    """``template`` with its fields filled; the template was checked by ``problems``."""
    used: list[str] = []
    fallbacks: list[tuple[str, str]] = []

    def fill(match: re.Match[str]) -> str:
        name, bar, override = match.group(1).partition("|")
        merge = _BY_KEY[_key(name)]
        if merge.label not in used:
            used.append(merge.label)
        value = merge.value(customer)
        if value is not None:
            return value
        phrase = override.strip() if bar else merge.fallback
        if (merge.label, phrase) not in fallbacks:
            fallbacks.append((merge.label, phrase))
        return phrase

    text = _FIELD_RE.sub(fill, template).strip()
    return Rendered(text=text, fields=tuple(used), fallbacks=tuple(fallbacks))


def fallbacks_used(template: str) -> dict[str, str]:
    """Each merge field ``template`` uses (canonical label) with the phrase a customer
    without that value gets: the template's own ``[Field|phrase]`` where it gives one,
    else the field's fallback. Unknown fields are left out (``problems`` names them)."""
    found: dict[str, str] = {}
    for match in _FIELD_RE.finditer(template):
        name, bar, override = match.group(1).partition("|")
        merge = _BY_KEY.get(_key(name))
        if merge is not None and merge.label not in found:
            found[merge.label] = override.strip() if bar else merge.fallback
    return found
