"""The card a screen shows for a caller, and the greeting the desk should say."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import numbers
from ..db import iso
from ..models import Call, Customer, Line, Note

NEUTRAL_GREETING = "Thank you for calling"
RECENT_CALLS = 3
OCCASION_DAYS = 7


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
    session: Session, call: Call, customers: list[Customer], region: str, *, today: date
) -> dict[str, Any]:
    """The event payload for ``call``: caller, line, greeting and (for a known number) the customer
    who last called from it, with ``also`` naming the others who share the number."""
    lead = customers[0] if customers else None
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
    session: Session, customer: Customer, today: date, exclude_call_id: int | None = None
) -> dict[str, Any]:
    previous = select(Call).where(Call.customer_id == customer.id)
    if exclude_call_id is not None:
        previous = previous.where(Call.id != exclude_call_id)
    count = session.scalar(select(func.count()).select_from(previous.subquery())) or 0
    recent = list(session.scalars(previous.order_by(Call.received_at.desc()).limit(RECENT_CALLS)))
    return {
        "id": customer.id,
        "name": customer.name,
        "salutation": customer.salutation,
        "preferred_name": customer.preferred_name,
        "notes": customer.notes,
        "preferences": customer.preferences,
        "tags": customer.tag_list,
        "vip": customer.is_vip,
        "do_not_greet": customer.do_not_greet,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "anniversary": customer.anniversary.isoformat() if customer.anniversary else None,
        "occasion": occasion(customer, today),
        "numbers": [n.number for n in customer.numbers],
        "calls_count": count,
        "last_call_at": iso(recent[0].received_at) if recent else None,
        "recent_calls": _recent_calls(session, recent),
    }


def _recent_calls(session: Session, calls: list[Call]) -> list[dict[str, Any]]:
    if not calls:
        return []
    notes: dict[int, list[str]] = {}
    rows = session.execute(
        select(Note.call_id, Note.body)
        .where(Note.call_id.in_([c.id for c in calls]))
        .order_by(Note.id)
    )
    for call_id, body in rows:
        notes.setdefault(call_id, []).append(body)
    return [
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
    ]


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
