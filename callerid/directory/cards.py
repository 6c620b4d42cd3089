"""The card a screen shows for a caller, and the greeting the desk should say."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Connection, text
from sqlalchemy.orm import Session

from .. import numbers
from ..db import UTCDateTime, iso
from ..models import Call, Customer, Line

NEUTRAL_GREETING = "Thank you for calling"
RECENT_CALLS = 3
OCCASION_DAYS = 7

# Written once as SQL (see lookup.py for why): the customer's call count, their last three calls
# (another call may be left out: the one ringing) and those calls' notes, in one statement.
_HISTORY = text(
    "SELECT r.id, r.call_sid, r.received_at, r.status, r.is_missed, r.outcome, r.answered_by, "
    "n.body, (SELECT count(*) FROM calls WHERE customer_id = :customer AND id != :call) AS total "
    "FROM (SELECT id, call_sid, received_at, status, is_missed, outcome, answered_by FROM calls "
    "WHERE customer_id = :customer AND id != :call "
    f"ORDER BY received_at DESC, id DESC LIMIT {RECENT_CALLS}) r "
    "LEFT JOIN notes n ON n.call_id = r.id ORDER BY r.received_at DESC, r.id DESC, n.id"
).columns(received_at=UTCDateTime(), is_missed=Boolean())
_NUMBERS = text("SELECT number FROM phone_numbers WHERE customer_id = :customer ORDER BY id")


def greeting(customer: Customer | None) -> str:
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
    session: Session | Connection,
    call: Call,
    customers: list[Customer],
    region: str,
    *,
    today: date,
    line: Any = ...,
) -> dict[str, Any]:
    """The event payload for ``call``: caller, line, greeting and (for a known number) the customer
    who last called from it, with ``also`` naming the others who share the number.

    The webhook passes rows instead of models: ``call`` and ``customers`` with the same
    attributes, a Connection for ``session`` and the ``line`` row (else ``call.line`` is read).
    """
    lead = customers[0] if customers else None
    if line is ...:
        line = call.line
    return {
        "call_sid": call.call_sid,
        "status": call.status,
        "from": call.from_number,
        "caller_kind": call.caller_kind,
        "caller": _caller_details(call, region),
        "to": line.number if line else None,
        "line": _line(line),
        "greeting": greeting(lead) if call.from_number else NEUTRAL_GREETING,
        "customer": _customer(session, lead, today, exclude_call_id=call.id) if lead else None,
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
    session: Session, number: str, customers: list[Customer], region: str, *, today: date
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


def _caller_details(call: Call, region: str) -> dict[str, str]:
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


def _line(line: Line | None) -> dict[str, str] | None:
    return {"number": line.number, "label": line.label} if line else None


def _customer(
    source: Session | Connection,
    customer: Any,
    today: date,
    exclude_call_id: int | None = None,
) -> dict[str, Any]:
    # ``customer`` is a Customer or a row with the same columns (the webhook's look-up).
    connection = _connection(source)
    mine = {"customer": customer.id, "call": exclude_call_id or 0}
    recent: dict[int, Any] = {}
    notes: dict[int, list[str]] = {}
    count = 0
    for row in connection.execute(_HISTORY, mine):
        count = row.total
        recent.setdefault(row.id, row)
        if row.body is not None:
            notes.setdefault(row.id, []).append(row.body)
    calls = list(recent.values())
    return {
        "id": customer.id,
        "name": customer.name,
        "salutation": customer.salutation,
        "preferred_name": customer.preferred_name,
        "notes": customer.notes,
        "preferences": customer.preferences,
        "tags": [tag.strip() for tag in customer.tags.split(",") if tag.strip()],
        "vip": customer.is_vip,
        "do_not_greet": customer.do_not_greet,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "anniversary": customer.anniversary.isoformat() if customer.anniversary else None,
        "occasion": occasion(customer, today),
        "numbers": list(connection.execute(_NUMBERS, {"customer": customer.id}).scalars()),
        "calls_count": count,
        "last_call_at": iso(calls[0].received_at) if calls else None,
        "recent_calls": [
            {
                "call_sid": c.call_sid,
                "received_at": iso(c.received_at),
                "status": c.status,
                "is_missed": c.is_missed,
                "outcome": c.outcome,
                "answered_by": c.answered_by,
                "notes": notes.get(c.id, []),
            }
            for c in calls
        ],
    }


def _connection(source: Session | Connection) -> Connection:
    if isinstance(source, Session):
        # Plain SQL does not autoflush: changes the session holds must be visible to it.
        source.flush()
        return source.connection()
    return source


def occasion(customer: Customer, today: date) -> str | None:
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
