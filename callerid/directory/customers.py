"""Managing customers: read, create and change them, numbers included, keeping the search key
that finding them (``search``) reads."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload

from .. import numbers
from ..models import Customer, PhoneNumber
from . import record
from .lookup import add_number
from .record import InvalidCustomer

__all__ = ["InvalidCustomer"]  # raised here; its home is ``record``


NUMBER_LISTS = ("numbers", "add_numbers", "remove_numbers")
# What GET answers besides the fields: sent back unchanged by a client that edits what it read.
READ_ONLY = {"id", "created_at", "updated_at", "erased_at", "calls_count", "last_call_at"}
READ_ONLY |= {"occasion", "timeline", "calls_url"}


class UnknownCustomer(LookupError):
    """No customer has this id."""

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"no customer {customer_id}")
        self.customer_id = customer_id


class ErasedCustomer(LookupError):
    """The customer's personal data was erased; only the anonymous shell remains."""

    def __init__(self, customer: Customer) -> None:
        super().__init__(f"customer {customer.id} was erased")
        self.customer_id = customer.id
        self.erased_at = customer.erased_at


def folded(text: str) -> str:
    """``text`` as search compares it: accents dropped (NFKD, then no combining marks),
    casefolded, spaces collapsed. "Tomás  HERRERA" -> "tomas herrera"."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def search_key(name: str, preferred_name: str = "", email: str = "") -> str:
    """What ``Customer.search_key`` holds: the folded name, preferred name and email."""
    return folded(" ".join(part for part in (name, preferred_name, email) if part))


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_search_key(_mapper: Any, _connection: Any, customer: Customer) -> None:
    # Every ORM write (forms, API, desk, merge, erase, demo) keeps the key; the CSV import's bulk
    # statements call search_key themselves.
    customer.search_key = search_key(
        customer.name or "", customer.preferred_name or "", customer.email or ""
    )


def get(session: Session, customer_id: int, *, for_update: bool = False) -> Customer:
    """The customer with this id (its row locked until commit with ``for_update``, on PostgreSQL).
    Raises ``UnknownCustomer``, or ``ErasedCustomer`` for one whose personal data was erased."""
    customer = session.get(
        Customer,
        customer_id,
        options=[selectinload(Customer.numbers)],
        with_for_update=for_update or None,
    )
    if customer is None:
        raise UnknownCustomer(customer_id)
    if customer.erased_at is not None:
        raise ErasedCustomer(customer)
    return customer


def create(session: Session, data: Mapping[str, Any], region: str = "US") -> Customer:
    """Add a customer from ``data`` (the fields of ``record.FIELDS``, ``tags``
    as a list or a comma-separated text, ``numbers`` in any format). Raises ``InvalidCustomer``
    for a value that does not fit or a customer with neither name nor number, and
    ``numbers.InvalidNumber`` (with the number and the reason) for a number that is not one.
    The caller commits."""
    if {"add_numbers", "remove_numbers"} & set(data):
        raise InvalidCustomer("a new customer takes its numbers as numbers")
    values, wanted = _changes(data, region)
    if not values.get("name") and not wanted.get("numbers"):
        raise InvalidCustomer("a customer needs a name or a number")
    customer = Customer(**{field: value for field, value in values.items()})
    session.add(customer)
    for number in wanted.get("numbers", []):
        add_number(session, customer, number)
    session.flush()
    return customer


def update(
    session: Session, customer_id: int, data: Mapping[str, Any], region: str = "US"
) -> Customer:
    """Change only the fields given in ``data`` (as for ``create``). Numbers: ``numbers`` replaces
    the whole list; ``add_numbers`` and ``remove_numbers`` change it (removing a number the
    customer lacks changes nothing); ``numbers`` cannot be combined with the other two. Raises
    ``UnknownCustomer``, ``ErasedCustomer``, ``InvalidCustomer`` and ``numbers.InvalidNumber``,
    and changes nothing then. The caller commits."""
    customer = get(session, customer_id)
    values, lists = _changes(unchanged_left_out(customer, data), region)
    if "numbers" in lists and len(lists) > 1:
        raise InvalidCustomer("send either numbers (the whole list) or add_numbers/remove_numbers")
    if "numbers" in lists:
        wanted = lists["numbers"]
    else:
        current = [row.number for row in customer.numbers] + lists.get("add_numbers", [])
        removed = set(lists.get("remove_numbers", []))
        wanted = list(dict.fromkeys(n for n in current if n not in removed))
    if not values.get("name", customer.name) and not wanted:
        raise InvalidCustomer("a customer needs a name or a number")
    for field, value in values.items():
        setattr(customer, field, value)
    _replace_numbers(customer, wanted)
    session.flush()
    return customer


def unchanged_left_out(customer: Customer, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the texts the customer already has. Imports and merges append notes
    past the field's limit, and older imports took any email: a form or a client that sends
    back what it read must still be able to change another field. A browser sends a text
    area's line ends as CRLF."""
    return {
        key: value
        for key, value in data.items()
        if not (
            key in record.TEXT_FIELDS
            and isinstance(value, str)
            and value.replace("\r\n", "\n").strip() == (getattr(customer, key) or "").strip()
        )
    }


def attach_number(
    session: Session, customer_id: int, raw_number: str, label: str = "", region: str = "US"
) -> PhoneNumber:
    """Give the customer ``raw_number`` (any format, national ones read in ``region``) labelled
    ``label`` ("mobile", "home"). A number they already have keeps its row and takes the label
    when one is given. Raises ``UnknownCustomer``, ``ErasedCustomer``, ``numbers.InvalidNumber``
    and ``InvalidCustomer`` (a label over ``record.LABEL_LENGTH``), changing nothing then. The
    caller commits."""
    customer = get(session, customer_id)
    number = numbers.parse(raw_number, region)
    label = record.label(label)
    row = add_number(session, customer, number, label)
    row.label = label or row.label
    session.flush()
    return row


def field_errors(data: Mapping[str, Any], region: str = "US") -> dict[str, str]:
    """Check each field of ``data`` on its own, by the rules of ``create`` and ``update``; return
    what is wrong with each field that does not fit (empty when all do), so that a form can say
    it next to the field. The rule that a customer needs a name or a number is left to those
    two."""
    errors: dict[str, str] = {}
    for key, value in data.items():
        try:
            _changes({key: value}, region)
        except InvalidCustomer as exc:
            errors[key] = str(exc)
        except numbers.InvalidNumber as exc:
            errors[key] = f"{exc.raw_number!r} is not a usable number: {exc.reason}"
    return errors


def _replace_numbers(customer: Customer, wanted: list[str]) -> None:
    # Rows for numbers kept stay (with their labels); only the difference is written.
    kept = [row for row in customer.numbers if row.number in wanted]
    have = {row.number for row in kept}
    fresh = [PhoneNumber(number=n) for n in wanted if n not in have]
    if len(kept) != len(customer.numbers) or fresh:
        customer.numbers = kept + fresh


def _changes(data: Mapping[str, Any], region: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check ``data``; return the model attributes to set and the number lists, in E.164."""
    known = set(record.BY_KEY) | set(NUMBER_LISTS)
    unknown = set(data) - known - READ_ONLY
    if unknown:
        raise InvalidCustomer(f"unknown field {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for key, value in data.items():
        if key in NUMBER_LISTS:
            lists[key] = _numbers(key, value, region)
        elif key in record.BY_KEY:
            column, values[column] = record.checked(key, value)
    return values, lists


def _numbers(key: str, value: Any, region: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise InvalidCustomer(f"{key} must be a list of phone numbers as text")
    parsed: list[str] = []
    for raw_number in value:
        number = numbers.parse(raw_number, region)  # raises InvalidNumber, with the reason
        if number not in parsed:
            parsed.append(number)
    return parsed
