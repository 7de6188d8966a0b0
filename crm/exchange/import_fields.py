"""What an import reads from a file: its fields, and which column holds each.

A file's columns are matched to the fields by their header, ignoring case,
spaces and punctuation ("E-mail", "email address" and "EMAIL" all hold the
email), with the usual other words for each ("Surname", "Postcode",
"Order date"). The user can change the match (``Mapping``) before the dry run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from crm.exchange.import_files import ROW_NUMBER, BadFile, RawFile, column_name
from crm.models import FIELD_LABELS

Kind = Literal["customers", "orders"]
KINDS: tuple[Kind, ...] = ("customers", "orders")
# Field -> the column index that holds it (None: not in the file).
Mapping = dict[str, int | None]


def _normal(header: str) -> str:
    """A header without case, spaces or punctuation: "E-mail Address" -> "emailaddress"."""
    return re.sub(r"[\W_]+", "", header.casefold())


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    synonyms: tuple[str, ...]


def _field(name: str, label: str, *synonyms: str) -> Field:
    return Field(name, label, tuple(_normal(s) for s in (name, label, *synonyms)))


CUSTOMER_FIELDS: tuple[Field, ...] = (
    _field("first_name", FIELD_LABELS["first_name"], "first", "given name", "forename", "fname"),
    _field("last_name", FIELD_LABELS["last_name"], "last", "surname", "family name", "lname"),
    _field("full_name", "Full name", "name", "customer name", "customer", "contact name"),
    _field("email", FIELD_LABELS["email"], "e-mail", "email address", "mail", "customer email"),
    _field("phone", FIELD_LABELS["phone"], "phone number", "telephone", "tel", "mobile", "cell"),
    _field(
        "street", FIELD_LABELS["street"], "address", "street address", "address 1", "address line 1"
    ),
    _field("city", FIELD_LABELS["city"], "town"),
    _field("state", FIELD_LABELS["state"], "region", "province", "county", "state province"),
    _field("zip", FIELD_LABELS["zip"], "zip code", "postal code", "postcode", "postal"),
    _field("country", FIELD_LABELS["country"], "nation", "country name"),
)
ORDER_FIELDS: tuple[Field, ...] = (
    _field("customer_email", "Customer email", "email", "e-mail", "email address", "customer"),
    _field("customer_id", "Customer id", "customer number", "client id"),
    _field(
        "ordered_at", "Order date", "date", "ordered", "ordered on", "purchase date", "created at"
    ),
    _field("amount", "Amount", "total", "order total", "total amount", "value", "revenue"),
    _field("product", "Product", "product name", "product id", "item", "sku"),
    _field("quantity", "Quantity", "qty", "units"),
    _field("order_ref", "Order reference", "order", "order id", "order number", "order no"),
    _field("channel", "Channel", "store or web", "sales channel"),
)
FIELDS: dict[Kind, tuple[Field, ...]] = {"customers": CUSTOMER_FIELDS, "orders": ORDER_FIELDS}
# The text fields a customer row saves (crm.models.CustomerBase), in the table's order.
CUSTOMER_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "state",
    "zip",
    "country",
)


def labels(kind: Kind) -> dict[str, str]:
    return {f.name: f.label for f in FIELDS[kind]}


def suggest_mapping(kind: Kind, headers: tuple[str, ...]) -> Mapping:
    """Each field's column, matched by header; a column serves one field at most,
    the field whose own name it is first, then the fields in order."""
    normal = [_normal(h) for h in headers]
    mapping: Mapping = {f.name: None for f in FIELDS[kind]}
    taken: set[int] = set()
    for rank in (0, 1, None):  # the field's name, its label, then any synonym
        for field in FIELDS[kind]:
            if mapping[field.name] is not None:
                continue
            words = field.synonyms if rank is None else field.synonyms[rank : rank + 1]
            for word in words:
                found = next(
                    (i for i, h in enumerate(normal) if h == word and i not in taken), None
                )
                if found is not None:
                    mapping[field.name] = found
                    taken.add(found)
                    break
    return mapping


def missing_fields(kind: Kind, mapping: Mapping) -> list[str]:
    """Sentences for what the file must hold and the mapping does not give."""
    has = {name for name, index in mapping.items() if index is not None}
    missing = []
    if kind == "customers":
        if "email" not in has:
            missing.append("an Email column")
        if not ({"first_name", "last_name"} <= has or "full_name" in has):
            missing.append("First name and Last name columns (or one Full name column)")
    else:
        if not has & {"customer_email", "customer_id"}:
            missing.append("a Customer email or Customer id column")
        if "ordered_at" not in has:
            missing.append("an Order date column")
        if not has & {"amount", "product"}:
            missing.append("an Amount column, or Product (and Quantity) columns")
    return missing


def check_mapping(kind: Kind, raw: RawFile, mapping: Mapping) -> None:
    """Refuse a mapping that lacks a required field or points past the file's columns."""
    for name, index in mapping.items():
        if name not in labels(kind):
            raise BadFile(f"“{name}” is not a field of a {kind} import.")
        if index is not None and not 0 <= index < len(raw.headers):
            raise BadFile(f"The file has no column number {index + 1}.")
    missing = missing_fields(kind, mapping)
    if missing:
        found = ", ".join(f"“{h}”" for h in raw.headers if h) or "none"
        raise BadFile(
            f"The file needs {' and '.join(missing)}; its columns are {found}."
            " Rename the headers, or choose which column holds each field."
        )


def mapped_table(kind: Kind, raw: RawFile, mapping: Mapping) -> pa.Table:
    """``row_no`` and one text column per field of ``kind`` (NULL where unmapped):
    the SQL that checks it names fields, never the file's headers."""
    rows = raw.table.num_rows
    arrays = [raw.table.column(ROW_NUMBER)]
    names = [ROW_NUMBER]
    for field in FIELDS[kind]:
        index = mapping.get(field.name)
        if index is None:
            arrays.append(pa.nulls(rows, type=pa.string()))
        else:
            arrays.append(raw.table.column(column_name(index)))
        names.append(field.name)
    return pa.Table.from_arrays(arrays, names=names)


def column_of(raw: RawFile, mapping: Mapping, field: str) -> str:
    """The header of the file's column that holds ``field`` (a name split from the
    full name is that column's)."""
    index = mapping.get(field)
    if index is None and field in {"first_name", "last_name"}:
        index = mapping.get("full_name")
    if index is None and field == "customer":
        index = mapping.get("customer_email")
        if index is None:
            index = mapping.get("customer_id")
    return raw.headers[index] if index is not None else ""
