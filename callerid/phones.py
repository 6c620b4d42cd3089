"""Calls reported by a phone system other than Twilio (3CX, FreePBX, a hosted PBX): recorded and
announced exactly as Twilio's are (calls.py, ringing.py), known by the system's own call id.

A phone system says three things about a call: it rings, someone answered (again, for a
transfer), it ended. Each is safe to repeat and to reorder, as Twilio's callbacks are.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from . import calls, directory, numbers
from .db import utcnow
from .models import Call, Customer
from .ringing import Ring

EVENTS = ("ringing", "answered", "ended")
CALL_ID_MAX = 120
# A caller ID of at most this many digits is an extension of the system itself ("101"), not a
# phone number: the shortest numbers in E.164 have seven digits, country code included.
EXTENSION_DIGITS = 6
_EXTENSION = re.compile(rf"[*#]?\d{{1,{EXTENSION_DIGITS}}}")
# What a desk phone's caller-name field holds (3CX, Asterisk's CALLERID(name) on most handsets).
DISPLAY_MAX = 15
# Twilio's CallStatus each event moves a call to (models.calls.RANK).
_STATUS = {"ringing": "ringing", "answered": "in-progress", "ended": "completed"}


class BadPhoneEvent(ValueError):
    """An event the API refuses; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PhoneEvent:
    """One event as a phone system reported it, checked."""

    source: str
    event: str
    call_id: str
    raw_from: str
    raw_to: str
    answered_by: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Applied:
    """What an event did: the call (None for an internal call, which is not recorded)."""

    call: Call | None

    @property
    def is_recorded(self) -> bool:
        return self.call is not None


def read_event(body: Any, source: str) -> PhoneEvent:
    """Check the JSON a phone system posted. Raises ``BadPhoneEvent`` naming the field: an
    event not in ``EVENTS``, a missing or over-long ``call_id``, a field that is not text, a
    time without an offset. ``from`` may be empty or absent (a withheld caller)."""
    if not isinstance(body, dict):
        raise BadPhoneEvent("body", 'send a JSON object: {"event": "ringing", "call_id": ...}')
    event = body.get("event")
    if event not in EVENTS:
        raise BadPhoneEvent("event", f"event is one of {', '.join(EVENTS)}, not {event!r}")
    call_id = _text(body, "call_id").strip()
    if not call_id:
        raise BadPhoneEvent("call_id", "call_id is required: the phone system's id of the call")
    if len(call_id) > CALL_ID_MAX:
        raise BadPhoneEvent("call_id", f"call_id has at most {CALL_ID_MAX} characters")
    return PhoneEvent(
        source=source,
        event=event,
        call_id=call_id,
        raw_from=_text(body, "from").strip(),
        raw_to=_text(body, "to").strip(),
        answered_by=_text(body, "answered_by").strip()[:100],
        at=_moment(body.get("at")),
    )


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # extensions and call ids often come as numbers
    if not isinstance(value, str):
        raise BadPhoneEvent(field, f"{field} must be text")
    return value


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPhoneEvent("at", "at must be an ISO 8601 time with an offset")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise BadPhoneEvent("at", f"at: {value!r} is not an ISO 8601 time") from error
    if moment.tzinfo is None:
        # A phone system's clock in an unknown zone would put the call hours off.
        raise BadPhoneEvent("at", f"at: {value!r} has no offset; add Z or +01:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        # "0001-01-01T00:00+01:00" is before year 1 in UTC: a valid time datetime cannot hold.
        raise BadPhoneEvent("at", f"at: {value!r} is out of range") from error


def is_internal(raw_from: str) -> bool:
    """Whether the caller is an extension of the phone system itself: a call between desks."""
    return bool(_EXTENSION.fullmatch(raw_from.replace(" ", "")))


def call_sid_for(source: str, call_id: str) -> str:
    """The handle screens and the API use for a phone system's call (its ``call_sid``), made
    from the source and the system's own id so that every event of the call finds it. Shaped
    like a CallSid but prefixed ``PX``, which Twilio never uses."""
    digest = hashlib.sha256(f"{source}\x00{call_id}".encode()).hexdigest()
    return "PX" + digest[:32]


def apply(session: Session, event: PhoneEvent, region: str, *, today: date) -> Applied:
    """Record ``event`` and announce what changed (``call.ringing``, ``call.answered``,
    ``call.ended``) as Twilio's webhooks do. The caller commits.

    Idempotent on (source, call_id, event) and safe out of order: an event for a call not
    heard of yet records the call first (without a ringing card when it is over or old); a
    late "ringing" changes nothing; an "answered" after "ended" turns a missed call into an
    answered one. A second "answered" by someone else is a transfer: the call is theirs now.
    Calls from an internal extension are not recorded (``Applied(None)``)."""
    if is_internal(event.raw_from):
        return Applied(None)
    call = calls.find(session, call_sid_for(event.source, event.call_id), to_change=True)
    if call is None:
        call = _record(session, event, region, today)
    at = event.at or utcnow()
    if event.event == "answered":
        _answered(session, call, event.answered_by, at, region, today)
    elif event.event == "ended":
        calls.progress(
            session,
            call,
            _STATUS["ended"],
            region,
            at=at,
            duration=_duration(call, at),
            today=today,
        )
    return Applied(call)


def _record(session: Session, event: PhoneEvent, region: str, today: date) -> Call:
    quiet = event.event == "ended" or calls.is_stale(event.at)
    sid = call_sid_for(event.source, event.call_id)
    call = calls.record_ring(
        session,
        Ring(sid, event.raw_from, event.raw_to, received_at=event.at, quiet=quiet),
        region,
        today=today,
    )
    call.source, call.source_call_id = event.source, event.call_id
    return call


def _answered(
    session: Session, call: Call, who: str, at: datetime, region: str, today: date
) -> None:
    if call.answered_at is None:
        calls.progress(
            session, call, _STATUS["answered"], region, at=at, answered_by=who, today=today
        )
        return
    if at <= call.answered_at:
        # The first answer, repeated or come in late: who has the call now is unchanged.
        call.answered_at = min(at, call.answered_at)
        return
    if who and who != call.answered_by:
        calls.hand_over(session, call, who, region, today=today)


def _duration(call: Call, ended_at: datetime) -> int | None:
    if call.answered_at is None:
        return None
    return max(0, int((ended_at - call.answered_at).total_seconds()))


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
