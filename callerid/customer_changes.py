"""Managers' changes to customers, each announced as ``customer.updated`` so open screens redraw.

The manager pages and the JSON API change customers through these functions: the directory does
the change, then the board's cards that show the customer are sent again, fresh, in the same
transaction (see ``screens.customer_changed``). Erasure announces only cards already stripped of
the customer: the event itself must not bring back what was erased.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from . import audit, screens
from .directory import customers
from .directory import erase as erasure
from .directory import merge as merging
from .events import store as events
from .models import Customer, PhoneNumber

Actor = tuple[str, int | None]  # who, for the audit log: their name and user id
AUDIT_CREATE = "customer.create"
AUDIT_UPDATE = "customer.update"
# The fields an edit is audited by: the log names those that changed, never their values (the
# trail outlives erasure).
AUDITED: tuple[str, ...] = ("name", "salutation", "preferred_name", "email", "notes")
AUDITED += ("preferences", "alerts", "pronunciation", "tags", "is_vip", "do_not_greet")
AUDITED += ("birthday", "anniversary")


def create(
    session: Session,
    data: Mapping[str, Any],
    region: str,
    *,
    today: date,
    by: Actor | None = None,
) -> Customer:
    """``directory.customers.create``, announced (a ringing card may now know its caller), and
    in the audit log when ``by`` says who."""
    customer = customers.create(session, data, region)
    screens.customer_changed(session, customer, region, today=today)
    if by is not None:
        audit.record(session, AUDIT_CREATE, f"customer {customer.id}", actor=by[0], user_id=by[1])
    return customer


def update(
    session: Session,
    customer_id: int,
    data: Mapping[str, Any],
    region: str,
    *,
    today: date,
    by: Actor | None = None,
) -> Customer:
    """``directory.customers.update``, announced, and in the audit log (the fields that changed)
    when ``by`` says who; raises what it raises."""
    with audited(session, customer_id, by):
        customer = customers.update(session, customer_id, data, region)
    screens.customer_changed(session, customer, region, today=today)
    return customer


@contextmanager
def audited(session: Session, customer_id: int, by: Actor | None) -> Iterator[None]:
    """Record in the audit log which fields of the customer the block changed (nothing when
    none did, or when ``by`` is None)."""
    before = _snapshot(session.get(Customer, customer_id)) if by is not None else None
    yield
    if by is None or before is None:
        return
    after = _snapshot(session.get(Customer, customer_id))
    if after is None:  # deleted inside the block: no fields left to compare
        return
    changed = [name for name in after if after[name] != before.get(name)]
    if changed:
        words = ", ".join(name.removeprefix("is_") for name in changed)
        audit.record(
            session,
            AUDIT_UPDATE,
            f"customer {customer_id}",
            actor=by[0],
            user_id=by[1],
            detail=f"changed {words}",
        )


def _snapshot(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    values = {name: getattr(customer, name) for name in AUDITED}
    values["numbers"] = sorted(row.number for row in customer.numbers)
    return values


def attach_number(
    session: Session, customer_id: int, raw_number: str, label: str, region: str, *, today: date
) -> PhoneNumber:
    """``directory.customers.attach_number``, announced; raises what it raises."""
    row = customers.attach_number(session, customer_id, raw_number, label, region)
    screens.customer_changed(session, row.customer, region, today=today)
    return row


def merge(
    session: Session,
    customer_id: int,
    into_id: int,
    *,
    actor: str,
    user_id: int | None,
    region: str,
    today: date,
) -> merging.Merged:
    """``directory.merge.merge`` (audited there), announced for the survivor: the merged
    customer's calls are the survivor's now, so their cards come with it."""
    merged = merging.merge(session, customer_id, into_id, actor=actor, user_id=user_id)
    screens.customer_changed(session, merged.survivor, region, today=today)
    return merged


def erase(
    session: Session,
    customer_id: int,
    *,
    actor: str,
    user_id: int | None,
    region: str,
    today: date,
) -> erasure.Erased:
    """``directory.erase.erase`` (audited there), then ``customer.updated`` with ``customer``
    null, ``erased`` true and the cards that showed them, now anonymous. Raises what it raises."""
    customer = customers.get(session, customer_id)
    own = {row.number for row in customer.numbers}
    shown = screens.board(session)
    showing = [
        call
        for call in (*shown.live, *shown.recent)
        if call.customer_id == customer.id or (call.from_number or "") in own
    ]
    erased = erasure.erase(session, customer_id, actor=actor, user_id=user_id, region=region)
    for call in showing:
        session.expire(call)  # anonymised by bulk UPDATEs the session did not see
    cards = [screens.card(session, call, region, today=today) for call in showing]
    payload = {"customer_id": customer_id, "customer": None, "erased": True, "cards": cards}
    events.append(session, "customer.updated", payload)
    return erased
