"""Who a new caller might be: customers whose name starts like the one typed at the desk.

Staff see customers only on the cards of their calls; this look-up shows the least that tells
two people apart (the name, the last two digits of another number, the day of the last call),
so naming a caller attaches them to the right person without opening the directory to staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import Customer, PhoneNumber
from .activity import call_stats
from .customers import folded

MIN_LETTERS = 3
LIMIT = 5
_SCAN = 50  # candidates read to find LIMIT whose name (not email) matches


class TooShort(ValueError):
    """Fewer than ``MIN_LETTERS`` letters: too little to suggest anyone."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    customer_id: int
    name: str
    number_hint: str  # "87": the last two digits of one of their numbers, "" if none
    last_call_at: datetime | None


def suggest(session: Session, raw_name: str, number: str) -> list[Suggestion]:
    """At most ``LIMIT`` customers, by name, whose name has words starting with every word of
    ``raw_name`` (accents and case ignored), leaving out those who already have ``number`` (the
    caller's) and erased ones. Raises ``TooShort`` for fewer than ``MIN_LETTERS`` letters."""
    words = folded(raw_name.replace(",", " ")).split()
    if sum(c.isalpha() for c in "".join(words)) < MIN_LETTERS:
        raise TooShort(f"type at least {MIN_LETTERS} letters of the name")
    has_number = select(PhoneNumber.customer_id).where(PhoneNumber.number == number)
    starts = [
        or_(Customer.search_key.startswith(w, autoescape=True), _word_starts(w)) for w in words
    ]
    candidates = session.scalars(
        select(Customer)
        .options(selectinload(Customer.numbers))
        .where(Customer.erased_at.is_(None), Customer.id.not_in(has_number), and_(*starts))
        .order_by(func.lower(Customer.name), Customer.id)
        .limit(_SCAN)
    )
    # The key also holds the preferred name and email: only the name may match here.
    found = [c for c in candidates if _name_starts(c.name, words)][:LIMIT]
    stats = call_stats(session, [c.id for c in found])
    last_calls = {customer_id: last for customer_id, (_, last) in stats.items()}
    return [Suggestion(c.id, c.name, _hint(c, number), last_calls.get(c.id)) for c in found]


def _word_starts(word: str) -> ColumnElement[bool]:
    return Customer.search_key.contains(f" {word}", autoescape=True)


def _name_starts(name: str, words: list[str]) -> bool:
    own = folded(name).split()
    return all(any(part.startswith(word) for part in own) for word in words)


def _hint(customer: Customer, number: str) -> str:
    others = [row.number for row in customer.numbers if row.number != number]
    return others[0][-2:] if others else ""
