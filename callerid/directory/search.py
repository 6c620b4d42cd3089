"""Finding customers in the directory: by any words of their name, preferred name or email,
or by a number written any way, sorted and in pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from .. import numbers
from ..models import Call, Customer, PhoneNumber
from .activity import call_stats
from .customers import folded
from .record import InvalidCustomer

SORTS = ("name", "last_call", "calls", "newest")
# Only these characters: "(415) 555-0134", "+44 7912 345678", "0134".
_NUMBERISH = re.compile(r"^[\d\s()+.\-/]+$")
MIN_DIGITS = 3


@dataclass(frozen=True, slots=True)
class Listed:
    customer: Customer
    calls_count: int
    last_call_at: datetime | None


@dataclass(frozen=True, slots=True)
class Found:
    customers: list[Listed]
    total: int
    page: int
    has_more: bool


def search(
    session: Session,
    q: str = "",
    *,
    sort: str = "name",
    page: int = 1,
    limit: int = 50,
    region: str = "US",
) -> Found:
    """Customers whose name, preferred name or email contain every word of ``q`` (any case, any
    accents, any order: "tomas", "Whitfield, Eleanor"); for a ``q`` made
    of digits and phone punctuation, those with that number written in any format, or, when it
    is not a whole number, with a number containing its digits ("555 0134"). All of them when
    ``q`` is empty. Erased customers never appear. Sorted by ``sort`` (one of ``SORTS``: name
    A-Z, latest call first, most calls first, newest customer first; ties by name, then id) and
    cut into pages numbered from 1. Raises ``InvalidCustomer`` for an unknown sort."""
    if sort not in SORTS:
        raise InvalidCustomer(f"sort must be one of {', '.join(SORTS)}")
    matching = [Customer.erased_at.is_(None)]
    if q.strip():
        matching.append(_matches(q.strip(), region))
    total = session.scalar(select(func.count(Customer.id)).where(*matching)) or 0
    if sort in _BY_FIELDS:
        listed = _by_fields(session, matching, _BY_FIELDS[sort], page, limit)
    else:
        listed = _by_calls(session, matching, sort, page, limit)
    return Found(listed, total, page, has_more=page * limit < total)


_BY_NAME = (func.lower(Customer.name), Customer.id)
# Sorts by the customer's own columns; the others need each customer's calls counted.
_BY_FIELDS: dict[str, tuple[Any, ...]] = {
    "name": _BY_NAME,
    "newest": (Customer.created_at.desc(), Customer.id.desc()),
}


def _by_fields(
    session: Session, matching: list[Any], order: tuple[Any, ...], page: int, limit: int
) -> list[Listed]:
    query = select(Customer).where(*matching).order_by(*order)
    rows = list(session.scalars(_paged(query, page, limit)))
    counted = call_stats(session, [c.id for c in rows])
    return [Listed(c, *counted.get(c.id, (0, None))) for c in rows]


def _by_calls(
    session: Session, matching: list[Any], sort: str, page: int, limit: int
) -> list[Listed]:
    # Sorting by calls takes every matching customer's count: one aggregate over their calls.
    stats = (
        select(
            Call.customer_id,
            func.count().label("calls_count"),
            func.max(Call.received_at).label("last_call_at"),
        )
        .where(Call.customer_id.in_(select(Customer.id).where(*matching)))
        .group_by(Call.customer_id)
        .subquery()
    )
    calls_count = func.coalesce(stats.c.calls_count, 0)
    first = calls_count.desc() if sort == "calls" else stats.c.last_call_at.desc().nulls_last()
    query = (
        select(Customer, calls_count, stats.c.last_call_at)
        .outerjoin(stats, stats.c.customer_id == Customer.id)
        .where(*matching)
        .order_by(first, *_BY_NAME)
    )
    return [Listed(*row) for row in session.execute(_paged(query, page, limit))]


def _paged(query: Select[Any], page: int, limit: int) -> Select[Any]:
    return query.options(selectinload(Customer.numbers)).offset((page - 1) * limit).limit(limit)


def _matches(q: str, region: str) -> Any:
    digits = re.sub(r"\D", "", q)
    if not (_NUMBERISH.match(q) and len(digits) >= MIN_DIGITS):
        # Every word, in any order: "Whitfield, Eleanor" finds Eleanor Whitfield.
        words = folded(q.replace(",", " ")).split()
        return and_(*(Customer.search_key.contains(word, autoescape=True) for word in words))
    try:
        # A whole number: one look-up in the numbers' index.
        owners = select(PhoneNumber.customer_id).where(
            PhoneNumber.number == numbers.parse(q, region)
        )
    except numbers.InvalidNumber:
        # Part of a number. A national trunk 0 or an international 00 never appears in E.164.
        parts = {part for part in (digits, digits.lstrip("0")) if len(part) >= MIN_DIGITS}
        owners = select(PhoneNumber.customer_id).where(
            or_(*(PhoneNumber.number.contains(part, autoescape=True) for part in parts))
        )
    return Customer.id.in_(owners)
