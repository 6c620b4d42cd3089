"""Managers' changes to customers, each announced as ``customer.updated`` so open screens redraw.

The manager pages and the JSON API change customers through these functions: the directory does
the change, then the board's cards that show the customer are sent again, fresh, in the same
transaction (see ``desk.customer_changed``). Erasure announces only cards already stripped of
the customer: the event itself must not bring back what was erased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from . import desk
from .directory import customers
from .directory import erase as erasure
from .directory import merge as merging
from .events import store as events
from .models import Customer, PhoneNumber


def create(session: Session, data: Mapping[str, Any], region: str) -> Customer:
    """``directory.customers.create``, announced (a ringing card may now know its caller)."""
    customer = customers.create(session, data, region)
    desk.customer_changed(session, customer, region)
    return customer


def update(session: Session, customer_id: int, data: Mapping[str, Any], region: str) -> Customer:
    """``directory.customers.update``, announced; raises what it raises."""
    customer = customers.update(session, customer_id, data, region)
    desk.customer_changed(session, customer, region)
    return customer


def attach_number(
    session: Session, customer_id: int, raw_number: str, label: str, region: str
) -> PhoneNumber:
    """``directory.customers.attach_number``, announced; raises what it raises."""
    row = customers.attach_number(session, customer_id, raw_number, label, region)
    desk.customer_changed(session, row.customer, region)
    return row


def merge(
    session: Session,
    customer_id: int,
    into_id: int,
    *,
    actor: str,
    user_id: int | None,
    region: str,
) -> merging.Merged:
    """``directory.merge.merge`` (audited there), announced for the survivor: the merged
    customer's calls are the survivor's now, so their cards come with it."""
    merged = merging.merge(session, customer_id, into_id, actor=actor, user_id=user_id)
    desk.customer_changed(session, merged.survivor, region)
    return merged


def erase(
    session: Session, customer_id: int, *, actor: str, user_id: int | None, region: str
) -> erasure.Erased:
    """``directory.erase.erase`` (audited there), then ``customer.updated`` with ``customer``
    null, ``erased`` true and the cards that showed them, now anonymous. Raises what it raises."""
    customer = customers.get(session, customer_id)
    own = {row.number for row in customer.numbers}
    shown = desk.board(session)
    showing = [
        call
        for call in (*shown.live, *shown.recent)
        if call.customer_id == customer.id or (call.from_number or "") in own
    ]
    erased = erasure.erase(session, customer_id, actor=actor, user_id=user_id, region=region)
    for call in showing:
        session.expire(call)  # anonymised by bulk UPDATEs the session did not see
    cards = [desk.card(session, call, region) for call in showing]
    payload = {"customer_id": customer_id, "customer": None, "erased": True, "cards": cards}
    events.append(session, "customer.updated", payload)
    return erased
