"""Customers with the same name on different numbers: perhaps one person saved twice (the desk's
"Save name" before it offered to attach), perhaps two people. A manager looks and merges."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Customer

LIMIT = 50  # names per report


@dataclass(frozen=True, slots=True)
class Namesakes:
    name: str
    customers: list[Customer]  # oldest record first, numbers loaded


def namesakes(session: Session, limit: int = LIMIT) -> list[Namesakes]:
    """Names (compared in any case) that at least two customers share while no number is shared
    between them, at most ``limit``, in name order. Owners of one number are the data-quality
    page's duplicates and households, not listed again here."""
    key = func.lower(func.trim(Customer.name))
    shared = (
        select(key)
        .where(Customer.erased_at.is_(None), func.trim(Customer.name) != "")
        .group_by(key)
        .having(func.count() > 1)
        .order_by(key)
        .limit(limit * 2)
    )
    found = session.scalars(
        select(Customer)
        .options(selectinload(Customer.numbers))
        .where(Customer.erased_at.is_(None), key.in_(shared))
        .order_by(key, Customer.id)
    )
    groups: dict[str, list[Customer]] = {}
    for customer in found:
        groups.setdefault(customer.name.strip().lower(), []).append(customer)
    listed = [
        Namesakes(group[0].name, group) for group in groups.values() if _no_shared_number(group)
    ]
    return listed[:limit]


def _no_shared_number(group: list[Customer]) -> bool:
    seen: set[str] = set()
    for customer in group:
        own = {row.number for row in customer.numbers}
        if own & seen:
            return False
        seen |= own
    return True
