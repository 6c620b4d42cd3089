"""Attaching a new caller's number to a customer we already know, from their card, instead of
saving a second record under the same name; undone within a minute."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, directory, ringing, screens
from .db import utcnow
from .models import Call, Customer, PhoneNumber

UNDO_WITHIN = timedelta(minutes=1)
AUDIT_ATTACH = "number.attach"
AUDIT_UNDO = "number.attach.undo"


class CannotAttach(ValueError):
    """The caller has no usable number, is already known, or the customer is not there."""


class TooLate(LookupError):
    """Nothing attached to undo: the minute has passed, or the number is not theirs."""


def attach(
    session: Session,
    call: Call,
    customer_id: int,
    region: str,
    *,
    actor: str,
    user_id: int,
    today: date,
) -> Customer:
    """Give the customer ``customer_id`` the caller's number of ``call``, and nothing else: their
    other fields stay as they are. The call counts as theirs, the change is in the audit log and
    every card showing them redraws. Raises ``CannotAttach``. The caller commits."""
    if not call.from_number:
        raise CannotAttach("the caller's number is withheld or unusable")
    if call.customer is not None:
        raise CannotAttach(f"this caller is already saved as {call.customer.name}")
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise CannotAttach(f"no customer {customer_id}")
    directory.add_number(session, customer, call.from_number)
    call.customer = customer
    call.matched_by = ringing.matched_by(directory.find_by_number(session, call.from_number))
    # The trail outlives erasure: ids only, never the number.
    audit.record(
        session,
        AUDIT_ATTACH,
        f"customer {customer.id}",
        actor=actor,
        user_id=user_id,
        detail=f"added the number of call {call.call_sid} from the board",
    )
    screens.customer_changed(session, customer, region, today=today)
    return customer


def undo(
    session: Session,
    call: Call,
    customer_id: int,
    region: str,
    *,
    actor: str,
    user_id: int,
    today: date,
    now: datetime | None = None,
) -> None:
    """Take the caller's number of ``call`` away from the customer again, if it was added less
    than ``UNDO_WITHIN`` ago; the call is a new caller's again on every screen. Raises
    ``TooLate``. The caller commits."""
    row = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.customer_id == customer_id, PhoneNumber.number == call.from_number
        )
    )
    if row is None or row.created_at < (now or utcnow()) - UNDO_WITHIN:
        raise TooLate("it can only be undone within a minute")
    customer = session.get(Customer, customer_id)
    assert customer is not None  # the number row belongs to it
    customer.numbers.remove(row)
    if call.customer_id == customer_id:
        call.customer = None
        call.matched_by = None
    audit.record(
        session,
        AUDIT_UNDO,
        f"customer {customer_id}",
        actor=actor,
        user_id=user_id,
        detail=f"took back the number of call {call.call_sid}",
    )
    screens.customer_changed(session, customer, region, also=[call], today=today)
