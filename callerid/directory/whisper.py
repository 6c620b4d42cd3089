"""The whisper: a few words the person who answers hears before the caller is put through.

"Mrs. Moors. VIP. Severe peanut allergy. Last called 3 days ago." At most ``MAX_WORDS`` words
(about three seconds of speech, while the caller waits), in the order name, VIP, alerts, last
call: what matters most survives the cut. Only the alerts field is spoken, never the notes:
a speakerphone may say it aloud at the desk. The manager's settings page chooses which of VIP,
alerts and last call are said (``business_settings``); the name always is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import business_settings, numbers
from ..business_settings import BusinessSettings
from ..models import Call, Customer
from .lookup import find_by_number

MAX_WORDS = 12
_WITHHELD = {numbers.WITHHELD: "Number withheld.", numbers.INVALID: "Unrecognised number."}


def for_call(session: Session, parent_sid: str, raw_from: str, region: str, now: datetime) -> str:
    """What to whisper for the inbound call ``parent_sid``. Its recorded caller decides; a call
    not recorded yet (its ring still spooled) is read from ``raw_from``, the answering leg's
    caller ID, which our ``<Dial>`` sets to the caller's own number."""
    call = session.scalar(select(Call).where(Call.call_sid == parent_sid)) if parent_sid else None
    if call is not None:
        caller = numbers.Caller(call.caller_kind, call.from_number)
        customer = call.customer
    else:
        caller = numbers.normalise(raw_from, region)
        owners = find_by_number(session, caller.number) if caller.number else []
        customer = owners[0] if owners else None
    if customer is None:
        return stranger(caller, region)
    chosen = business_settings.load(session)
    last_call = _last_call(session, customer.id, parent_sid) if chosen.whisper_last_call else None
    return regular(customer, last_call, now, chosen)


def regular(
    customer: Customer,
    last_call_at: datetime | None,
    now: datetime,
    chosen: BusinessSettings = business_settings.DEFAULTS,
) -> str:
    """The whisper for a known customer, cut to ``MAX_WORDS`` words, saying what ``chosen``
    (the manager's settings) asks for besides the name."""
    parts = [_spoken_name(customer)]
    if customer.is_vip and chosen.whisper_vip:
        parts.append("VIP")
    if customer.alerts.strip() and chosen.whisper_alerts:
        parts.append(customer.alerts)
    if last_call_at is not None and chosen.whisper_last_call:
        parts.append(f"Last called {_ago(last_call_at, now)}")
    return _fit(parts)


def stranger(caller: numbers.Caller, region: str) -> str:
    """The whisper for a caller we have no customer for."""
    if caller.kind in _WITHHELD:
        return _WITHHELD[caller.kind]
    if not caller.number:
        return "New caller."
    details = numbers.describe(caller.number, region)
    where = details["place"] or details["country"]
    return _fit([f"New caller from {where}" if where else "New caller"])


def _spoken_name(customer: Customer) -> str:
    # Someone who asked not to be greeted is not named aloud either: a speakerphone may be on.
    if customer.do_not_greet:
        return "Returning caller"
    words = customer.name.split()
    if customer.preferred_name.strip():
        return customer.preferred_name.strip()
    if customer.salutation.strip() and words:
        return f"{customer.salutation.strip()} {words[-1]}"
    return customer.name.strip() or "Returning caller"


def _fit(parts: list[str]) -> str:
    """Sentences from ``parts`` in order until ``MAX_WORDS`` words are spent: a part that does
    not fit is cut, and the rest are left out."""
    sentences: list[str] = []
    left = MAX_WORDS
    for part in parts:
        words = part.split()
        if not words or left <= 0:
            break
        taken = words[:left]
        left -= len(taken)
        sentences.append(" ".join(taken).rstrip(".,;:") + ".")
    return " ".join(sentences)


def _last_call(session: Session, customer_id: int, this_call: str) -> datetime | None:
    return session.scalar(
        select(func.max(Call.received_at)).where(
            Call.customer_id == customer_id, Call.call_sid != this_call
        )
    )


def _ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    if days < 1:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"
