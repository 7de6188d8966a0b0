"""Validation models (Base / Create / Update, as in SQLModel) and read records.

Every write in ``crm.writes`` takes one of these models, so nothing reaches
the database before it was validated. ``parse`` turns pydantic's errors into
one sentence per field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import pandas as pd
from annotated_types import MaxLen
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from crm.errors import ValidationFailed

# Human labels for the form fields, used in every error message.
FIELD_LABELS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "street": "Street",
    "city": "City",
    "state": "State",
    "zip": "ZIP",
    "country": "Country",
    "version": "Version",
    "name": "Name",
    "channel": "Channel",
    "template": "Message template",
    "subject": "Subject",
    "body": "Message",
    "items": "Items",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "product_id": "Product",
    "ordered_at": "Order date",
    "status": "Consent",
    "email_consent": "Email marketing",
    "sms_consent": "SMS marketing",
    "control_share": "Control group",
    "seed": "Seed",
}

PHONE_RE = re.compile(r"^[0-9+() \-]*$")

NAME_MAX = 80
EMAIL_MAX = 254  # RFC 5321's limit for a forward path
PHONE_MAX = 32
ADDRESS_MAX = 120
SHORT_MAX = 60
ZIP_MAX = 20
TEMPLATE_MAX = 2_000

Model = TypeVar("Model", bound=BaseModel)

# Zero-width joiners shape Persian and Indic words and join emoji sequences
# ("👩‍👩‍👧"), so they may stand between two visible characters. Every other
# control or format character (NUL, zero-width space, bidi overrides and
# isolates, BOM, soft hyphen) or line separator hides text, or reorders what is
# shown around it: a right-to-left override made a card's name link invisible.
_JOINERS = frozenset("\u200c\u200d")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters and symbols that draw nothing: Hangul fillers, the blank braille pattern.
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _draws_ink(ch: str) -> bool:
    category = unicodedata.category(ch)
    return not (ch.isspace() or category[0] in "CZM" or ch in _BLANK_CHARACTERS)


def _joins(ch: str) -> bool:
    """Whether a joiner may stand beside ``ch``: a visible character or a mark on one."""
    return _draws_ink(ch) or unicodedata.category(ch)[0] == "M"


def _character(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}, a control character"


def _where(value: str, index: int) -> str:
    if index == 0:
        return "at the start"
    before = value[:index]
    return f"after “{before if len(before) <= 12 else '…' + before[-12:]}”"


def _visible_text(value: str) -> str:
    """Refuse hidden characters (saying which and where) and text that shows nothing."""
    for index, ch in enumerate(value):
        if ch in _JOINERS:
            between = 0 < index < len(value) - 1
            if between and _joins(value[index - 1]) and _joins(value[index + 1]):
                continue
        elif unicodedata.category(ch) not in _HIDDEN_CATEGORIES:
            continue
        raise PydanticCustomError(
            "invisible_character",
            "contains an invisible character ({character}) {where}",
            {"character": _character(ch), "where": _where(value, index)},
        )
    if value and not any(_draws_ink(ch) for ch in value):
        raise PydanticCustomError("no_visible_character", "has no visible character")
    return value


# Every text a user types into a single-line field.
_VISIBLE = AfterValidator(_visible_text)


def max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """Each field of ``model`` that has a length limit, and that limit, read from its constraint."""
    return {
        name: meta.max_length
        for name, info in model.model_fields.items()
        for meta in info.metadata
        if isinstance(meta, MaxLen)
    }


class _Strict(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True)


class ConsentStatus(StrEnum):
    """Marketing consent on one channel (migration 007's ``consent_status`` ENUM)."""

    SUBSCRIBED = "Subscribed"
    UNSUBSCRIBED = "Unsubscribed"
    NOT_ASKED = "Not asked"


class CustomerBase(_Strict):
    first_name: Annotated[str, Field(min_length=1, max_length=NAME_MAX), _VISIBLE]
    last_name: Annotated[str, Field(min_length=1, max_length=NAME_MAX), _VISIBLE]
    email: Annotated[str, Field(min_length=1, max_length=EMAIL_MAX), _VISIBLE]
    phone: Annotated[str, Field(max_length=PHONE_MAX), _VISIBLE] = ""
    street: Annotated[str, Field(max_length=ADDRESS_MAX), _VISIBLE] = ""
    city: Annotated[str, Field(max_length=SHORT_MAX), _VISIBLE] = ""
    state: Annotated[str, Field(max_length=SHORT_MAX), _VISIBLE] = ""
    zip: Annotated[str, Field(max_length=ZIP_MAX), _VISIBLE] = ""
    country: Annotated[str, Field(max_length=SHORT_MAX), _VISIBLE] = ""

    @field_validator("email")
    @classmethod
    def _email_syntax(cls, value: str) -> str:
        # Syntax only (no DNS look-up, no network): international addresses such
        # as 用户@例子.广告 and a@example.xn--p1ai pass. The address is kept as
        # typed; the unique key is its lower case (crm.writes).
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as problem:
            reason = str(problem).rstrip(".")
            raise ValueError(f"enter an address like name@example.com. {reason}") from None
        return value

    @field_validator("phone")
    @classmethod
    def _phone_chars(cls, value: str) -> str:
        if not PHONE_RE.match(value):
            raise ValueError("use only digits, spaces and + ( ) -")
        if value and sum(ch.isdigit() for ch in value) < 5:
            raise ValueError("needs at least 5 digits")
        return value


# What the Add and Edit forms size their inputs by: the model's own limits.
CUSTOMER_FIELD_MAX: dict[str, int] = max_lengths(CustomerBase)


class CustomerCreate(CustomerBase):
    """A new customer from the Add form, with the marketing they agreed to (as
    Shopify's "Customer agreed to receive marketing emails / SMS" boxes)."""

    email_consent: ConsentStatus = ConsentStatus.NOT_ASKED
    sms_consent: ConsentStatus = ConsentStatus.NOT_ASKED

    @field_validator("sms_consent")
    @classmethod
    def _sms_needs_a_phone(cls, value: ConsentStatus, info: ValidationInfo) -> ConsentStatus:
        if value is ConsentStatus.SUBSCRIBED and not str(info.data.get("phone") or "").strip():
            raise ValueError("add a phone number to subscribe the customer to SMS")
        return value


class CustomerUpdate(CustomerBase):
    """An edit: ``version`` is the one the editor read, checked on save."""

    version: Annotated[int, Field(ge=1)]


class Channel(StrEnum):
    EMAIL = "Email"
    SMS = "SMS"
    PUSH = "Push"


class ConsentChange(_Strict):
    """A customer's consent on one channel set to ``status``, by someone who read the
    customer at ``version`` (crm.writes.set_consent). Push has no consent to set."""

    channel: Annotated[str, Field(pattern="^(Email|SMS)$")]
    status: ConsentStatus
    version: Annotated[int, Field(ge=1)]


class CampaignCreate(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=SHORT_MAX * 2), _VISIBLE]
    channel: Channel = Channel.EMAIL
    template: Annotated[str, Field(max_length=TEMPLATE_MAX)] = ""
    # The email's subject line (merge fields allowed; migration 008).
    subject: Annotated[str, Field(max_length=SHORT_MAX * 2), _VISIBLE] = ""


class MessageCreate(_Strict):
    """A personalised message, already merged for its customer."""

    body: Annotated[str, Field(min_length=1, max_length=TEMPLATE_MAX * 2)]
    subject: Annotated[str, Field(max_length=SHORT_MAX * 2), _VISIBLE] = ""
    channel: Annotated[str, Field(pattern="^(Email|SMS)$")] = "Email"


class OrderItemCreate(_Strict):
    product_id: Annotated[int, Field(ge=1)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class OrderCreate(_Strict):
    ordered_at: datetime
    channel: Annotated[str, Field(pattern="^(store|web)$")] = "web"
    items: Annotated[list[OrderItemCreate], Field(min_length=1, max_length=500)]


# --- Saved segments (crm.saved_segments reads them, crm.writes writes them) ----------

SEGMENT_NAME_MAX = NAME_MAX
SEGMENT_DESCRIPTION_MAX = 500
# A segment's filters are URL query parameters (crm.segments). The longest
# value today is a search of 416 characters; a list (several countries)
# holds at most this many values of this length.
SEGMENT_PARAMS_MAX = 40
SEGMENT_VALUE_MAX = 1_000
SEGMENT_VALUES_MAX = 500
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _one_form(value: str) -> str:
    """The name in Unicode's composed form: "Café" typed with a combining accent
    and with "é" look the same, so the unique check must see one name."""
    return unicodedata.normalize("NFC", value)


def _one_line_ending(value: Any) -> Any:
    """Line breaks as "\\n": a description pasted from Windows has "\\r\\n"."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _visible_lines(value: str) -> str:
    """``_visible_text`` for text with line breaks: each line is checked for
    hidden characters, and the whole must show something."""
    lines = value.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            _visible_text(line)
        except PydanticCustomError as problem:
            if len(lines) == 1 or problem.type != "invisible_character":
                raise
            context = dict(problem.context or {})
            context["where"] = f"{context['where']} on line {number}"
            raise PydanticCustomError(problem.type, problem.message_template, context) from None
    if value and not any(_draws_ink(ch) for ch in value):
        raise PydanticCustomError("no_visible_character", "has no visible character")
    return value


def _filter_problem(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)


def _segment_filters(value: Any) -> dict[str, str | list[str]]:
    """Filters shaped like URL query parameters: short lower-case names, each
    with a text or a list of texts. Which names exist and what they mean is
    crm.segments' business (crm.writes stores the filters as it reads them).

    The whole check is one function so every problem is reported against
    "Filters", in words, never against pydantic's path into the mapping.
    """
    if not isinstance(value, Mapping):
        raise _filter_problem("filters_type", "must be URL query parameters")
    if len(value) > SEGMENT_PARAMS_MAX:
        raise _filter_problem(
            "too_many_filters", "at most {limit} filters", limit=SEGMENT_PARAMS_MAX
        )
    checked: dict[str, str | list[str]] = {}
    for name, given in value.items():
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            shown = str(name) if len(str(name)) <= 24 else str(name)[:24] + "…"
            raise _filter_problem("filter_name", "“{name}” is not a filter name", name=shown)
        values = [given] if isinstance(given, str) else given
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise _filter_problem("filter_type", "“{name}” must be text", name=name)
        if len(values) > SEGMENT_VALUES_MAX:
            raise _filter_problem(
                "filter_values",
                "“{name}” has {count} values, at most {limit}",
                name=name,
                count=len(values),
                limit=SEGMENT_VALUES_MAX,
            )
        texts = [text.strip() for text in values]
        for text in texts:
            if len(text) > SEGMENT_VALUE_MAX:
                raise _filter_problem(
                    "filter_value",
                    "“{name}” is {length} characters long, at most {limit}",
                    name=name,
                    length=len(text),
                    limit=SEGMENT_VALUE_MAX,
                )
            try:
                _visible_lines(text)
            except PydanticCustomError as problem:
                raise _filter_problem(
                    "filter_text", "“{name}” {problem}", name=name, problem=problem.message()
                ) from None
        checked[name] = texts[0] if isinstance(given, str) else texts
    return checked


_SegmentName = Annotated[
    str,
    Field(min_length=1, max_length=SEGMENT_NAME_MAX),
    _VISIBLE,
    AfterValidator(_one_form),
]
_SegmentDescription = Annotated[
    str,
    Field(max_length=SEGMENT_DESCRIPTION_MAX),
    BeforeValidator(_one_line_ending),
    AfterValidator(_visible_lines),
]
SegmentFilters = Annotated[dict[str, str | list[str]], PlainValidator(_segment_filters)]


class SegmentBase(_Strict):
    """A saved segment's name (unique in any case, checked by crm.writes) and description."""

    name: _SegmentName
    description: _SegmentDescription = ""


class SegmentCreate(SegmentBase):
    """A new saved segment: the current filters under a name (Save segment)."""

    filters: SegmentFilters


class SegmentRename(_Strict):
    """A new name (and description) for a segment read at ``version``. Without a
    description the segment keeps its own; "" clears it."""

    name: _SegmentName
    description: _SegmentDescription | None = None
    version: Annotated[int, Field(ge=1)]


class SegmentFiltersUpdate(_Strict):
    """A segment, read at ``version``, made to keep the current filters instead."""

    filters: SegmentFilters
    version: Annotated[int, Field(ge=1)]


class CampaignRename(_Strict):
    """A new name for a campaign read at ``version`` (unique per channel in any case,
    checked by crm.campaigns.manage)."""

    name: Annotated[str, Field(min_length=1, max_length=SHORT_MAX * 2), _VISIBLE]
    version: Annotated[int, Field(ge=1)]


class CampaignMessageUpdate(_Strict):
    """A campaign's subject and message (merge fields allowed, checked by
    crm.templates), read at ``version``."""

    subject: Annotated[str, Field(max_length=SHORT_MAX * 2), _VISIBLE] = ""
    template: Annotated[
        str, Field(min_length=1, max_length=TEMPLATE_MAX), BeforeValidator(_one_line_ending)
    ]
    version: Annotated[int, Field(ge=1)]


SEGMENT_FIELD_MAX: dict[str, int] = max_lengths(SegmentBase)


# A control group holds out at most half of a segment (campaign_additions' CHECK).
CONTROL_SHARE_MAX = Decimal("0.5")
ADDITION_SEED_MAX = 2**62


class CampaignAdditionCreate(_Strict):
    """A whole segment added to a campaign (``crm.campaigns.audience.add_segment``):
    the share held out as a control group, to the 0.1 %, and the seed that draws it."""

    control_share: Annotated[
        Decimal, Field(ge=0, le=CONTROL_SHARE_MAX, max_digits=4, decimal_places=3)
    ]
    seed: Annotated[int, Field(ge=0, lt=ADDITION_SEED_MAX)]
    filters: SegmentFilters


def _sentence(field: str, error: dict[str, Any]) -> str:
    label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in {"missing", "string_too_short"} and ctx.get("min_length", 1) <= 1:
        return f"{label} is required."
    if kind == "string_too_long":
        # Measured as the model measures it: without the spaces around the text.
        length = len(str(error.get("input", "")).strip())
        return f"{label} is too long: {length:,} characters, at most {ctx['max_length']:,}."
    if kind == "invisible_character":
        return f"{label} {error['msg']}; remove it."
    if kind == "no_visible_character":
        return f"{label} {error['msg']}."
    if kind == "value_error":
        return f"{label}: {ctx.get('error', error.get('msg', 'is not valid'))}."
    if kind in {"greater_than_equal", "greater_than"}:
        return f"{label} must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in {"less_than_equal", "less_than"}:
        return f"{label} must be at most {ctx.get('le', ctx.get('lt'))}."
    if kind == "too_short":
        return f"{label}: add at least {ctx.get('min_length')}."
    if kind == "enum":
        return f"{label} must be {ctx.get('expected', 'one of the choices')}."
    if kind == "extra_forbidden":
        return f"{label} is not a field that can be saved."
    return f"{label}: {error.get('msg', 'is not valid')}."


def parse(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate ``data`` as ``model`` or raise ValidationFailed with a sentence per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = error.get("loc") or ("form",)
            field = str(loc[-1]) if not isinstance(loc[-1], int) else str(loc[0])
            errors.setdefault(field, _sentence(field, dict(error)))
        raise ValidationFailed(errors) from None


# --- Read records -------------------------------------------------------------


class LastVisit(StrEnum):
    """How a segment filters on the time since the last visit."""

    ANY = "any"
    WITHIN = "within"  # visited in the last N days
    OLDER = "older"  # visited, but not in the last N days
    NEVER = "never"  # no visit at all


class SortKey(StrEnum):
    SPENDING = "spending"
    VISITS = "visits"
    LAST_VISIT = "last_visit"
    NAME = "name"


@dataclass(frozen=True)
class CustomerFilter:
    """A segment of customers and the page of it to show."""

    search: str = ""
    min_spending: float | None = None
    max_spending: float | None = None
    min_visits: int | None = None
    max_visits: int | None = None
    last_visit: LastVisit = LastVisit.ANY
    last_visit_days: int = 30
    sort: SortKey = SortKey.SPENDING
    descending: bool = True
    page: int = 1
    page_size: int = 24
    # The segment builder (issue 9). Lists are tuples (the filter is a cache
    # key); an empty list, None or False filters nothing.
    countries: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # bought any of them
    products: tuple[int, ...] = ()  # bought any of them (product ids)
    # Bought (those categories or products, or anything) in the last N days.
    bought_days: int | None = None
    min_orders: int | None = None
    max_orders: int | None = None
    min_aov: float | None = None  # average order value
    max_aov: float | None = None
    first_from: date | None = None  # first order on or after
    first_to: date | None = None  # first order on or before
    created_from: date | None = None  # record created on or after
    created_to: date | None = None
    in_campaign: int | None = None  # campaign id
    not_campaign: int | None = None
    engaged_days: int | None = None  # opened or clicked a send in the last N days
    never_opened: bool = False  # no delivered send opened, and 3 or more delivered
    rfm_groups: tuple[str, ...] = ()  # crm.scores.GROUPS
    rhythm: tuple[str, ...] = ()  # crm.scores.RHYTHM_STATUSES
    # Marketing consent (issue 10): any of these statuses (crm.consent.STATUSES).
    email_consent: tuple[str, ...] = ()
    sms_consent: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentTotals:
    customers: int
    spending: Decimal
    visits: int


@dataclass(frozen=True)
class CustomerRanges:
    """All customers' count, and the lowest and highest spending and visit count."""

    customers: int
    spending: tuple[Decimal, Decimal]
    visits: tuple[int, int]


@dataclass(frozen=True)
class CardRow:
    """What a customer card shows (``crm.card_view``): the customer's columns by these names."""

    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    city: str
    state: str
    country: str
    total_spending: Decimal
    visit_count: int
    last_visit: datetime | None
    avatar: bytes | None
    avatar_type: str | None
    # The stored RFM group (crm.scores); None only before the quintiles were
    # first computed. A default so records built by hand need not name it.
    rfm_group: str | None = None


@dataclass(frozen=True)
class CustomerPage:
    """The cards of one page of a segment, in order, and the whole segment's totals."""

    rows: tuple[CardRow, ...]
    totals: SegmentTotals


@dataclass(frozen=True)
class PurchaseHistory:
    """A customer's orders and monthly spending (``crm.purchases.purchase_history``)."""

    orders: pd.DataFrame
    monthly: pd.DataFrame


@dataclass(frozen=True)
class Favourites:
    """A customer's top items and categories (``crm.purchases.favourites``)."""

    items: pd.DataFrame
    categories: pd.DataFrame


@dataclass(frozen=True)
class Customer:
    """One customer's row (``crm.queries.get_customer`` selects these fields by name)."""

    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    zip: str
    country: str
    avatar: bytes | None
    avatar_type: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    total_spending: Decimal
    order_count: int
    visit_count: int
    last_visit: datetime | None
    # Defaults only so records built by hand (tests, previews) need not name
    # them; get_customer always fills them from the row.
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    rfm_group: str | None = None
    # Marketing consent (crm.consent): a status and when it last changed, per channel.
    email_consent: str = "Not asked"
    email_consent_at: datetime | None = None
    sms_consent: str = "Not asked"
    sms_consent_at: datetime | None = None
    # Who added the customer and who changed them last (migration 015); None when
    # the app was open (no sign-in), and for demo or imported customers.
    created_by: str | None = None
    updated_by: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class CampaignRates:
    """One customer's campaign outcomes; rates are fractions (0.25 = 25 %) or None."""

    sends: int
    delivered: int
    failed: int
    queued: int
    opened: int
    clicked: int
    success_rate: float | None
    failure_rate: float | None
    open_rate: float | None
    click_rate: float | None


@dataclass(frozen=True)
class SavedSegment:
    """One saved segment (``crm.saved_segments`` selects these fields by name).

    ``filters`` are its URL query parameters without the page: applied afresh
    each time (``crm.saved_segments.segment_filter``), so it follows the data.
    """

    id: int
    name: str
    description: str
    filters: dict[str, str | list[str]]
    created_at: datetime
    updated_at: datetime
    version: int
    created_by: str | None
    updated_by: str | None


def customer_form_values(customer: Customer) -> dict[str, Any]:
    """The editable fields of ``customer``, as the edit form wants them."""
    return {name: getattr(customer, name) for name in CustomerBase.model_fields}


def check_field(model: type[BaseModel], field: str, value: Any) -> tuple[Any, str | None]:
    """One field of ``model`` validated alone: (the value as the model keeps it, None),
    or (None, the sentence ``parse`` would give). Imports check each distinct value of a
    file's column this way, by the very rules the forms use."""
    try:
        checked = model.__pydantic_validator__.validate_assignment(
            model.model_construct(), field, value
        )
    except ValidationError as exc:
        return None, _sentence(field, dict(exc.errors()[0]))
    return getattr(checked, field), None
