"""The demo's two months of calls: who called when (lunch and dinner, local time), who
answered, what about, and the notes staff left."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from ... import numbers
from ...models import Call, Customer, Line, Note, User
from .people import REGULARS

DAYS = 60
CALLS = 400
# The restaurant's clock (Washington, D.C. in winter); calls are stored in UTC.
LOCAL = timezone(timedelta(hours=-5))
STAFF = ("Maya", "Luis", "Ines", "Sam", "Ruth")
OUTCOMES = (("booking", 55), ("question", 30), ("complaint", 5), ("other", 10))
CALL_NOTES = {
    "booking": (
        "Booked a table for {n} on Friday at 7:30pm.",
        "Table for {n} on Saturday lunch; asked for the window.",
        "Moved Thursday's booking to 8pm, still {n} people.",
    ),
    "question": (
        "Asked whether the terrace is heated. It is.",
        "Wanted to know if we do takeaway on Sundays.",
    ),
    "complaint": ("Main course arrived cold last visit; offered dessert on the house next time.",),
    "other": ("Left a scarf on Tuesday; it is at the front desk.",),
}


def date_customers(customers: list[Customer], calls: list[Call], now: datetime) -> None:
    """Date each customer from before their first call (a regular of two months is not a
    customer "since today"); those who never called joined within the demo's months."""
    first: dict[int, datetime] = {}
    for call in calls:  # sorted by time
        if call.customer is not None:
            first.setdefault(id(call.customer), call.received_at)
    for index, customer in enumerate(customers):
        joined = first.get(id(customer), now - timedelta(days=DAYS // 2))
        customer.created_at = joined - timedelta(days=7 + index % 90)


def calls(
    rng: random.Random,
    now: datetime,
    customers: list[Customer],
    unknown: list[str],
    lines: list[Line],
) -> list[Call]:
    """``CALLS`` calls over ``DAYS`` days: regulars call most, about one in ten is missed,
    some callers are unknown and a few withhold their number."""
    weights = [
        REGULARS[i]["calls"] if i < len(REGULARS) else rng.choice((1, 1, 2, 3))
        for i in range(len(customers))
    ]
    shared = _shared_numbers(customers)
    calls = []
    for _ in range(CALLS):
        kind = rng.random()
        if kind < 0.03:
            customer, number = None, None
        elif kind < 0.18:
            customer, number = None, rng.choice(unknown)
        else:
            customer = rng.choices(customers, weights)[0]
            number = rng.choice(customer.numbers).number
        calls.append(_call(rng, _moment(rng, now), customer, number, shared, lines))
    calls.sort(key=lambda call: call.received_at)
    return calls


def _shared_numbers(customers: list[Customer]) -> set[str]:
    seen: set[str] = set()
    shared: set[str] = set()
    for customer in customers:
        for phone in customer.numbers:
            (shared if phone.number in seen else seen).add(phone.number)
    return shared


def _moment(rng: random.Random, now: datetime) -> datetime:
    # Lunch and dinner bookings, local time; nothing in the future.
    hour = rng.choices(
        (10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), (2, 5, 7, 5, 3, 2, 3, 6, 8, 6, 3, 1)
    )[0]
    local_day = now.astimezone(LOCAL).date() - timedelta(days=rng.randrange(DAYS))
    moment = datetime(
        local_day.year,
        local_day.month,
        local_day.day,
        hour,
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=LOCAL,
    )
    while moment > now:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


def _call(
    rng: random.Random,
    received_at: datetime,
    customer: Customer | None,
    number: str | None,
    shared: set[str],
    lines: list[Line],
) -> Call:
    status = rng.choices(("completed", "no-answer", "busy", "canceled"), (90, 7, 2, 1))[0]
    ring = rng.randint(4, 20)
    call = Call(
        call_sid=f"CA{rng.getrandbits(128):032x}",
        from_number=number,
        raw_from=number or "anonymous",
        caller_kind=numbers.NUMBER if number else numbers.WITHHELD,
        line=rng.choices(lines, (3, 2))[0],
        status=status,
        customer=customer,
        matched_by=("shared" if number in shared else "number") if customer else None,
        received_at=received_at,
    )
    if status == "completed":
        call.answered_at = received_at + timedelta(seconds=ring)
        call.answered_by = rng.choice(STAFF)
        call.outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        call.duration = rng.randint(30, 420)
        call.ended_at = call.answered_at + timedelta(seconds=call.duration)
    else:
        call.is_missed = True
        call.duration = ring if status != "busy" else 0
        call.ended_at = received_at + timedelta(seconds=call.duration)
    return call


def notes(
    rng: random.Random, calls: list[Call], star: Customer, authors: Sequence[User]
) -> list[Note]:
    """A note on some answered calls, and always on the star's latest one."""
    answered = [c for c in calls if c.outcome and c.customer is not None]
    chosen = set(rng.sample(range(len(answered)), 14))
    star_calls = [i for i, c in enumerate(answered) if c.customer is star]
    if star_calls:
        chosen.add(star_calls[-1])
    notes = []
    for index in sorted(chosen):
        call = answered[index]
        body = rng.choice(CALL_NOTES[call.outcome]).format(n=rng.randint(2, 8))
        author = rng.choice(authors) if authors else None
        notes.append(Note(call_id=call.id, customer_id=call.customer_id, body=body, author=author))
    return notes
