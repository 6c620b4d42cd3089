"""Finding customers by number, and the lines (our own numbers) they call."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Call, Customer, Line, PhoneNumber


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
    if len(owners) < 2:
        return owners
    # A shared number (household, switchboard): lead with whoever called from it last.
    last_calls = dict(
        session.execute(
            select(Call.customer_id, func.max(Call.received_at))
            .where(Call.from_number == number, Call.customer_id.in_([c.id for c in owners]))
            .group_by(Call.customer_id)
        ).all()
    )
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(owners, key=lambda c: last_calls.get(c.id) or never, reverse=True)


def add_number(session: Session, customer: Customer, number: str, label: str = "") -> PhoneNumber:
    """Give ``customer`` the E.164 ``number`` unless they already have it; return the row."""
    for existing in customer.numbers:
        if existing.number == number:
            return existing
    row = PhoneNumber(number=number, label=label)
    customer.numbers.append(row)
    return row


def find_line(session: Session, raw_to: str, number: str | None) -> Line:
    """Return the line that was called, creating it (unlabelled) the first time it rings."""
    key = number or raw_to.strip()[:64] or "unknown"
    line = session.scalar(select(Line).where(Line.number == key))
    if line is not None:
        return line
    try:
        # A savepoint: two first calls to a new line at once must not fail the second call.
        with session.begin_nested():
            line = Line(number=key, label="")
            session.add(line)
        return line
    except IntegrityError:
        return session.scalars(select(Line).where(Line.number == key)).one()
