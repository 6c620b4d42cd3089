"""The card a screen shows for a caller, and the greeting the desk should say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Connection, Row, TextualSelect, bindparam, text
from sqlalchemy.orm import Session

from .. import numbers
from ..db import UTCDateTime, iso
from ..models import Call, Customer
from .card_inputs import CardCall, CardCustomer, CardLine

NEUTRAL_GREETING = "Thank you for calling"
RECENT_CALLS = 3
OCCASION_DAYS = 7

_MANY_NUMBERS = text(
    "SELECT customer_id, number FROM phone_numbers WHERE customer_id IN :ids ORDER BY id"
).bindparams(bindparam("ids", expanding=True))


def greeting(customer: CardCustomer | None) -> str:
    """What the desk says on picking up: "Welcome back, Mrs. Moors".

    A preferred name wins ("Welcome back, Annie"), then salutation and surname, then the first
    name. Unknown callers and customers who asked not to be greeted get the neutral greeting.
    """
    if customer is None or customer.do_not_greet:
        return NEUTRAL_GREETING
    words = customer.name.split()
    if customer.preferred_name.strip():
        return f"Welcome back, {customer.preferred_name.strip()}"
    if customer.salutation.strip() and words:
        return f"Welcome back, {customer.salutation.strip()} {words[-1]}"
    if words:
        return f"Welcome back, {words[0]}"
    return "Welcome back"


def card_for_call(
    session: Session, call: Call, customers: Sequence[CardCustomer], region: str, *, today: date
) -> dict[str, Any]:
    """The event payload for ``call``: caller, line, greeting and (for a known number) the customer
    who last called from it, with ``also`` naming the others who share the number."""
    lead = customers[0] if customers else None
    details = _customer(session, lead, today, exclude_call_id=call.id) if lead else None
    return _card(call, customers, call.line, region, details)


def cards_for_calls(
    connection: Connection,
    ringing: Sequence[tuple[CardCall, Sequence[CardCustomer], CardLine]],
    region: str,
    *,
    today: date,
) -> list[dict[str, Any]]:
    """``card_for_call`` for a batch of (call, customers, line) of calls not yet written (the
    voice webhook's rows), reading every lead customer's history and numbers in one statement
    each."""
    leads = {customers[0].id: customers[0] for _, customers, _ in ringing if customers}
    histories = _histories(connection, list(leads))
    numbers_of = _numbers_of(connection, list(leads))
    details = {
        id_: _details(lead, histories.get(id_, _History()), numbers_of.get(id_, []), today)
        for id_, lead in leads.items()
    }
    return [
        _card(call, customers, line, region, details[customers[0].id] if customers else None)
        for call, customers, line in ringing
    ]


def _card(
    call: CardCall,
    customers: Sequence[CardCustomer],
    line: CardLine | None,
    region: str,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "call_sid": call.call_sid,
        "status": call.status,
        "from": call.from_number,
        "caller_kind": call.caller_kind,
        "caller": _caller_details(call, region),
        "to": line.number if line else None,
        "line": _line(line),
        "greeting": greeting(customers[0] if customers else None)
        if call.from_number
        else NEUTRAL_GREETING,
        "customer": details,
        "also": [{"id": c.id, "name": c.name} for c in customers[1:]],
        "received_at": iso(call.received_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "answered_by": call.answered_by,
        "is_missed": call.is_missed,
        "duration": call.duration,
        "outcome": call.outcome,
    }


def caller_card(
    session: Session, number: str, customers: Sequence[CardCustomer], region: str, *, today: date
) -> dict[str, Any]:
    """The card for a number outside any call (API look-ups, a test call from the board)."""
    lead = customers[0] if customers else None
    return {
        "from": number,
        "caller_kind": numbers.NUMBER,
        "caller": numbers.describe(number, region),
        "greeting": greeting(lead),
        "customer": _customer(session, lead, today) if lead else None,
        "also": [{"id": c.id, "name": c.name} for c in customers[1:]],
    }


def customer_details(session: Session, customer: Customer, *, today: date) -> dict[str, Any]:
    """The ``customer`` part of a card outside any call (all their calls count)."""
    return _customer(session, customer, today)


def _caller_details(call: CardCall, region: str) -> dict[str, str]:
    if call.from_number:
        return numbers.describe(call.from_number, region)
    labels = {numbers.WITHHELD: "Number withheld", numbers.INVALID: "Unrecognised number"}
    display = labels.get(call.caller_kind, call.raw_from)
    return {
        "display": display,
        "region": "",
        "country": "",
        "place": "",
        "line_type": "",
        "carrier": "",
    }


def _line(line: CardLine | None) -> dict[str, str] | None:
    return {"number": line.number, "label": line.label} if line else None


@dataclass
class _History:
    """A customer's call count and last calls (newest first) with those calls' notes."""

    count: int = 0
    calls: dict[int, Row[Any]] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)

    def add(self, row: Row[Any]) -> None:
        self.count = row.total
        self.calls.setdefault(row.id, row)
        if row.body is not None:
            self.notes.setdefault(row.id, []).append(row.body)


def _customer(
    session: Session,
    customer: CardCustomer,
    today: date,
    exclude_call_id: int | None = None,
) -> dict[str, Any]:
    connection = _connection(session)
    history = _histories(connection, [customer.id], exclude_call_id=exclude_call_id or 0)
    numbers_ = _numbers_of(connection, [customer.id]).get(customer.id, [])
    return _details(customer, history.get(customer.id, _History()), numbers_, today)


def _histories(
    connection: Connection, customer_ids: list[int], exclude_call_id: int = 0
) -> dict[int, _History]:
    # ``exclude_call_id``: the call whose card this is, once it is recorded (the board's rebuild).
    histories: dict[int, _History] = {}
    if customer_ids:
        values = {f"c{i}": id_ for i, id_ in enumerate(customer_ids)}
        values["call"] = exclude_call_id
        for row in connection.execute(_histories_sql(len(customer_ids)), values):
            histories.setdefault(row.customer_id, _History()).add(row)
    return histories


@lru_cache(maxsize=128)
def _histories_sql(count: int) -> TextualSelect:
    # One indexed "last three calls" per customer, glued with UNION ALL: a window over all of a
    # regular's calls would read thousands of rows where this reads three. Cached per size.
    parts = " UNION ALL ".join(
        f"SELECT * FROM (SELECT id, customer_id, call_sid, received_at, status, is_missed, "
        f"outcome, answered_by, (SELECT count(*) FROM calls WHERE customer_id = :c{i} "
        f"AND id != :call) AS total FROM calls WHERE customer_id = :c{i} AND id != :call "
        "ORDER BY received_at DESC, id DESC "
        f"LIMIT {RECENT_CALLS}) AS h{i}"
        for i in range(count)
    )
    return text(
        f"SELECT r.*, n.body FROM ({parts}) r LEFT JOIN notes n ON n.call_id = r.id "
        "ORDER BY r.customer_id, r.received_at DESC, r.id DESC, n.id"
    ).columns(received_at=UTCDateTime(), is_missed=Boolean())


def _numbers_of(connection: Connection, customer_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if customer_ids:
        for customer_id, number in connection.execute(_MANY_NUMBERS, {"ids": customer_ids}):
            found.setdefault(customer_id, []).append(number)
    return found


def _details(
    customer: CardCustomer, history: _History, numbers_: list[str], today: date
) -> dict[str, Any]:
    calls = list(history.calls.values())
    return {
        "id": customer.id,
        "name": customer.name,
        "salutation": customer.salutation,
        "preferred_name": customer.preferred_name,
        "notes": customer.notes,
        "preferences": customer.preferences,
        "alerts": customer.alerts,
        "pronunciation": customer.pronunciation,
        "tags": [tag.strip() for tag in customer.tags.split(",") if tag.strip()],
        "vip": customer.is_vip,
        "do_not_greet": customer.do_not_greet,
        # Asked never to be contacted by us: screens offer no call-back.
        "do_not_contact": bool(customer.do_not_contact),
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "anniversary": customer.anniversary.isoformat() if customer.anniversary else None,
        "occasion": occasion(customer, today),
        "numbers": numbers_,
        "calls_count": history.count,
        "last_call_at": iso(calls[0].received_at) if calls else None,
        "recent_calls": [
            {
                "call_sid": c.call_sid,
                "received_at": iso(c.received_at),
                "status": c.status,
                "is_missed": c.is_missed,
                "outcome": c.outcome,
                "answered_by": c.answered_by,
                "notes": history.notes.get(c.id, []),
            }
            for c in calls
        ],
    }


def _connection(session: Session) -> Connection:
    # Plain SQL does not autoflush: changes the session holds must be visible to it.
    session.flush()
    return session.connection()


def occasion(customer: CardCustomer, today: date) -> str | None:
    """ "Birthday today", "Anniversary in 3 days" when one falls within a week, else None."""
    for label, day in (("Birthday", customer.birthday), ("Anniversary", customer.anniversary)):
        if day is None:
            continue
        days = _days_until(day, today)
        if days == 0:
            return f"{label} today"
        if days <= OCCASION_DAYS:
            return f"{label} in {days} day{'s' if days > 1 else ''}"
    return None


def _days_until(day: date, today: date) -> int:
    for year in (today.year, today.year + 1):
        try:
            upcoming = day.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on the 28th.
            upcoming = date(year, 2, 28)
        if upcoming >= today:
            return (upcoming - today).days
    return 366
