"""Finding customers by number, and the lines (our own numbers) they call."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Boolean, Connection, Date, Row, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from ..db import UTCDateTime
from ..models import Customer, PhoneNumber


def find_by_number(session: Session, number: str) -> list[Customer]:
    """Return the customers who own this E.164 number, the one who last called from it first
    (then the oldest entry first); empty if none. Never raises for an unknown number."""
    owners = list(
        session.scalars(
            select(Customer)
            .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
            .where(PhoneNumber.number == number)
            .order_by(Customer.id)
        )
    )
    return _lead_first(session, number, owners) if len(owners) > 1 else owners


def add_number(session: Session, customer: Customer, number: str, label: str = "") -> PhoneNumber:
    """Give ``customer`` the E.164 ``number`` unless they already have it; return the row."""
    for existing in customer.numbers:
        if existing.number == number:
            return existing
    row = PhoneNumber(number=number, label=label)
    customer.numbers.append(row)
    return row


# The voice webhook's look-ups, written once as SQL: building SQLAlchemy statements per call cost
# more than the queries themselves (docs/benchmarks.md, "Where the webhook's time goes").
_CUSTOMER_COLUMNS = (
    "c.id, c.name, c.salutation, c.preferred_name, c.notes, c.preferences, c.alerts, "
    "c.pronunciation, c.tags, c.is_vip, c.do_not_greet, c.do_not_contact, c.birthday, "
    "c.anniversary"
)
_CUSTOMER_TYPES: dict[str, TypeEngine[Any]] = {
    "is_vip": Boolean(),
    "do_not_greet": Boolean(),
    "do_not_contact": Boolean(),
    "birthday": Date(),
    "anniversary": Date(),
}
# Every owner of any of a batch's numbers, in one statement (ringing.py batches webhooks).
_OWNERS = (
    text(
        f"SELECT p.number AS owner_number, {_CUSTOMER_COLUMNS} FROM customers c "
        "JOIN phone_numbers p ON p.customer_id = c.id WHERE p.number IN :numbers ORDER BY c.id"
    )
    .bindparams(bindparam("numbers", expanding=True))
    .columns(**_CUSTOMER_TYPES)
)
_LAST_CALLS = (
    text(
        "SELECT customer_id, max(received_at) AS last FROM calls WHERE from_number = :number "
        "AND customer_id IN :owners GROUP BY customer_id"
    )
    .bindparams(bindparam("owners", expanding=True))
    .columns(last=UTCDateTime())
)
_LINES = text("SELECT id, number, label FROM lines WHERE number IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_LINE = text("SELECT id, number, label FROM lines WHERE number = :number")
_NEW_LINE = text("INSERT INTO lines (number, label) VALUES (:number, '') ON CONFLICT DO NOTHING")


def owners_of_many(connection: Connection, numbers: Collection[str]) -> dict[str, list[Row[Any]]]:
    """``find_by_number`` as rows (the customer columns a card shows) for several E.164 numbers
    at once, for the webhook path: number -> owners, lead first. Numbers nobody owns are left
    out."""
    if not numbers:
        return {}
    owners: dict[str, list[Row[Any]]] = {}
    for row in connection.execute(_OWNERS, {"numbers": sorted(set(numbers))}):
        owners.setdefault(row.owner_number, []).append(row)
    for number, shared in owners.items():
        if len(shared) > 1:
            owners[number] = _lead_first(connection, number, shared)
    return owners


class _Owner(Protocol):
    @property
    def id(self) -> int: ...


_O = TypeVar("_O", bound=_Owner)


def _lead_first(executor: Session | Connection, number: str, owners: list[_O]) -> list[_O]:
    """The owners of a shared number (household, switchboard), given in id order, with whoever
    called from it last leading; those who never did keep their order, last. Customers and
    rows alike, so that the ORM's look-up and the webhook's SQL rank them one way."""
    found = executor.execute(_LAST_CALLS, {"number": number, "owners": [c.id for c in owners]})
    last_calls = dict(found.tuples().all())
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(owners, key=lambda c: last_calls.get(c.id) or never, reverse=True)


def line_key(raw_to: str, number: str | None) -> str:
    """What identifies the line a call came in on: its E.164 number, else what Twilio sent."""
    return number or raw_to.strip()[:64] or "unknown"


def lines_of(connection: Connection, keys: Collection[str]) -> dict[str, Row[Any]]:
    """The lines (rows of id, number, label) for several keys (``line_key``) at once, for the
    webhook path; each line is created (unlabelled) the first time it rings."""
    lines = {row.number: row for row in connection.execute(_LINES, {"keys": sorted(set(keys))})}
    for key in set(keys) - lines.keys():
        # Two first calls to a new line at once: the second one's insert does nothing.
        connection.execute(_NEW_LINE, {"number": key})
        lines[key] = connection.execute(_LINE, {"number": key}).one()
    return lines
