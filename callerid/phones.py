"""Phone systems other than Twilio (3CX, FreePBX, a hosted PBX): what they may ask about a
caller, for the desk phone's display."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from . import directory, numbers
from .models import Customer

# What a desk phone's caller-name field holds (3CX, Asterisk's CALLERID(name) on most handsets).
DISPLAY_MAX = 15


def lookup(session: Session, raw_number: str, region: str) -> dict[str, Any]:
    """What a phone system shows for a caller: name, a display name of at most ``DISPLAY_MAX``
    characters, greeting, VIP, alerts and the customer's id. A withheld or unknown number, and
    a customer who asked not to be greeted, come back with ``found`` false and no name. Raises
    ``numbers.InvalidNumber`` for text that is not a phone number at all."""
    caller = numbers.normalise(raw_number, region)
    if caller.kind == numbers.INVALID:
        numbers.parse(raw_number, region)  # raises, with the reason
    customers = directory.find_by_number(session, caller.number) if caller.number else []
    lead = next((c for c in customers if c.erased_at is None), None)
    if lead is None or lead.do_not_greet:
        return _answer(caller.number, None)
    return _answer(caller.number, lead)


def _answer(number: str | None, customer: Customer | None) -> dict[str, Any]:
    return {
        "number": number,
        "found": customer is not None,
        "customer_id": customer.id if customer else None,
        "name": customer.name if customer else None,
        "display_name": display_name(customer) if customer else "",
        "greeting": directory.greeting(customer),
        "vip": bool(customer and customer.is_vip),
        "alerts": customer.alerts if customer else "",
    }


def display_name(customer: Customer, limit: int = DISPLAY_MAX) -> str:
    """The name for a desk phone's display: "Eleanor Whitfield", else "E. Whitfield", then
    "E.Whitfield" and the surname alone, cut short only when nothing else fits; " VIP" after
    it for a VIP. Never longer than ``limit``."""
    words = "".join(ch if ch.isprintable() else " " for ch in customer.name).split()
    suffix = " VIP" if customer.is_vip else ""
    if not words:
        return suffix.strip()
    surname, first = words[-1], words[0]
    candidates = [" ".join(words)]
    if len(words) > 1:
        candidates += [f"{first[0]}. {surname}", f"{first[0]}.{surname}"]
    candidates.append(surname)
    for name in candidates:
        if len(name) + len(suffix) <= limit:
            return name + suffix
    return surname[: limit - len(suffix)] + suffix
