"""Changes the front desk makes to customers from a card: name a new caller, correct details.

The rules for each field are the directory's (``customers``); the desk may change fewer fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..models import Customer
from . import customers, record

# What a card lets staff change (``record.FIELDS`` marks them); numbers, dates, tags, email and
# do-not-contact are the managers' (/api/customers).
DESK_FIELDS = record.DESK_FIELDS


class InvalidChange(ValueError):
    """A change the desk may not make, or a value that does not fit; the message says which."""


def new_customer(session: Session, name: str, number: str) -> Customer:
    """Add a customer named ``name`` who calls from the E.164 ``number``.
    Raises ``InvalidChange`` for an empty or overlong name. The caller commits."""
    _check_name(name)
    try:
        return customers.create(session, {"name": name, "numbers": [number]})
    except customers.InvalidCustomer as exc:
        raise InvalidChange(str(exc)) from exc


def update_customer(session: Session, customer: Customer, changes: Mapping[str, Any]) -> Customer:
    """Apply the desk's ``changes`` (keys from ``DESK_FIELDS``) to ``customer``. Raises
    ``InvalidChange`` for any other key, a wrong type, an overlong value or an empty name, and
    changes nothing then. The caller commits."""
    unknown = set(changes) - set(DESK_FIELDS)
    if unknown:
        raise InvalidChange(f"cannot change {', '.join(sorted(unknown))} from the board")
    if "name" in changes:
        _check_name(changes["name"])
    try:
        return customers.update(session, customer.id, changes)
    except (customers.InvalidCustomer, customers.ErasedCustomer) as exc:
        raise InvalidChange(str(exc)) from exc


def _check_name(name: Any) -> None:
    # The directory accepts a customer known only by a number; a name typed at the desk is not
    # optional: an empty one would greet the next call with a bare "Welcome back".
    if not isinstance(name, str) or not name.strip():
        raise InvalidChange("name cannot be empty")
