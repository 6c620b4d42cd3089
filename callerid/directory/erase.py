"""Erasing a customer: their personal data goes from everywhere it was; statistics stay.

What goes: every personal field of the customer (the row stays as an empty shell with
``erased_at`` set, so its id is never reused and the audit trail's "customer 7" keeps meaning one
person), their numbers, the notes about them or written on their calls, the caller on their calls
(see ``history.retention.anonymise_calls``) and on the call-backs to them, the texts they sent,
and the events whose cards show them (an opt-out from texts stays). Calls from a number they
shared with another customer stay that customer's; so do those events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from .. import audit, numbers
from ..db import changed_rows, utcnow
from ..history import retention
from ..models import (
    Call,
    Callback,
    Customer,
    Event,
    Note,
    PhoneNumber,
    TextReceived,
    TextSent,
)
from .cards import NEUTRAL_GREETING
from .customers import get

# Events whose payload is a call's card, which can be rewritten without the customer; any other
# event that shows them is deleted (screens only replay recent events anyway).
CARD_EVENTS = {"call.ringing", "call.answered", "call.ended"}
ERASED_CALLER = {
    "display": "Caller erased",
    "region": "",
    "country": "",
    "place": "",
    "line_type": "",
    "carrier": "",
}
# A name shorter than this is too likely to appear inside other text to look for it.
NAME_NEEDLE_LENGTH = 4


@dataclass(frozen=True, slots=True)
class Erased:
    customer_id: int
    calls: int
    notes: int
    events_rewritten: int
    events_deleted: int


def erase(
    session: Session,
    customer_id: int,
    *,
    actor: str,
    user_id: int | None = None,
    region: str = "US",
) -> Erased:
    """Erase the customer's personal data everywhere it was and record it in the audit trail
    (counts only). Raises ``UnknownCustomer``, or ``ErasedCustomer`` when already erased. The
    caller commits."""
    customer = get(session, customer_id, for_update=True)
    own = [row.number for row in customer.numbers]
    shared = set(
        session.scalars(
            select(PhoneNumber.number).where(
                PhoneNumber.number.in_(own), PhoneNumber.customer_id != customer.id
            )
        )
    )
    exclusive = [number for number in own if number not in shared]
    theirs = or_(
        Call.customer_id == customer.id,
        and_(Call.customer_id.is_(None), Call.from_number.in_(exclusive)),
    )
    notes = retention.delete_notes_on(session, theirs)
    notes += changed_rows(
        session.execute(
            delete(Note).where(Note.customer_id == customer.id),
            execution_options={"synchronize_session": False},
        )
    )
    calls = retention.anonymise_calls(session, theirs)
    retention.forget_callbacks(
        session, or_(Callback.customer_id == customer.id, Callback.number.in_(exclusive))
    )
    # Their texts go, ours to them too (due ones with them); an opt-out stays: it is the
    # record that they must not be texted.
    for table in (TextReceived, TextSent):
        session.execute(
            delete(table).where(or_(table.customer_id == customer.id, table.number.in_(exclusive))),
            execution_options={"synchronize_session": False},
        )
    rewritten, deleted = _scrub_events(session, customer, exclusive, region)
    _blank(customer)
    session.flush()
    audit.record(
        session,
        audit.ERASE,
        f"customer {customer.id}",
        actor=actor,
        user_id=user_id,
        detail=(
            f"{calls} calls anonymised, {notes} notes deleted, "
            f"{rewritten} events rewritten, {deleted} events deleted"
        ),
    )
    return Erased(customer.id, calls, notes, rewritten, deleted)


def _blank(customer: Customer) -> None:
    for field in ("name", "salutation", "preferred_name", "email", "notes", "preferences", "tags"):
        setattr(customer, field, "")
    customer.alerts = ""
    customer.pronunciation = ""
    customer.is_vip = False
    customer.do_not_greet = False
    customer.birthday = None
    customer.anniversary = None
    customer.numbers = []
    customer.erased_at = utcnow()


def _scrub_events(
    session: Session, customer: Customer, exclusive: list[str], region: str
) -> tuple[int, int]:
    """Rewrite call cards that show the customer; delete any other event that does."""
    needles = _needles(customer, exclusive, region)
    marks = [f'"{key}":{customer.id}{end}' for key in ("id", "customer_id") for end in ",}"]
    found = session.scalars(
        select(Event).where(
            or_(*(Event.data.contains(m, autoescape=True) for m in marks + needles))
        )
    )
    rewritten = deleted = 0
    for event in list(found):
        payload = json.loads(event.data)
        if not _mentions(payload, customer.id, needles):
            continue  # the text matched by chance (another customer's id in a longer number)
        if event.kind in CARD_EVENTS and isinstance(payload, dict):
            payload = _without(payload, customer.id, exclusive)
            if not _mentions(payload, customer.id, needles):
                event.data = json.dumps(payload, separators=(",", ":"))
                rewritten += 1
                continue
        session.delete(event)
        deleted += 1
    return rewritten, deleted


def _needles(customer: Customer, exclusive: list[str], region: str) -> list[str]:
    """Text that gives the customer away wherever it appears: their numbers as digits (which E.164
    contains too) and as people write them, and their full name."""
    needles = []
    for number in exclusive:
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException:
            # Stored as typed, not E.164 (a legacy import; see directory.quality): as it is.
            needles.append(number)
            continue
        needles.append(str(parsed.national_number))
        needles.append(numbers.display(number, region))
    if len(customer.name.strip()) >= NAME_NEEDLE_LENGTH:
        needles.append(customer.name.strip())
    return needles


def _mentions(value: Any, customer_id: int, needles: list[str]) -> bool:
    if isinstance(value, dict):
        if value.get("customer_id") == customer_id:
            return True
        if value.get("id") == customer_id and "name" in value:  # a customer, not a note or a line
            return True
        return any(_mentions(v, customer_id, needles) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, customer_id, needles) for v in value)
    return isinstance(value, str) and any(needle in value for needle in needles)


def _without(card: dict[str, Any], customer_id: int, exclusive: list[str]) -> dict[str, Any]:
    """The call card as if the customer had never been known and their number never seen."""
    card = dict(card)
    lead = card.get("customer")
    if isinstance(lead, dict) and lead.get("id") == customer_id:
        card["customer"] = None
        card["greeting"] = NEUTRAL_GREETING
    if isinstance(card.get("also"), list):
        card["also"] = [
            other
            for other in card["also"]
            if not (isinstance(other, dict) and other.get("id") == customer_id)
        ]
    if card.get("from") in exclusive:
        card["from"] = None
        card["caller_kind"] = retention.ANONYMISED
        card["caller"] = dict(ERASED_CALLER)
    return card
