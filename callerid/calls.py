"""Calls: record a ring and move a call forward (never back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text
from sqlalchemy.orm import Session

from . import clock, directory, numbers
from .db import UTCDateTime, utcnow
from .events import store as events
from .models import Call

# Twilio's CallStatus values by how far along a call is; a call only ever moves up this scale.
RANK = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "completed": 3,
    "busy": 3,
    "no-answer": 3,
    "canceled": 3,
    "failed": 3,
}
TERMINAL = 3
MISSED_STATUSES = {"busy", "no-answer", "canceled", "failed"}


@dataclass(frozen=True, slots=True)
class Received:
    call: Call
    is_new: bool
    event_id: int | None


@dataclass(frozen=True, slots=True)
class Ringing:
    """What ``ring`` recorded: the call's id, whether it is new, the ``call.ringing`` event's id."""

    call_id: int
    is_new: bool
    event_id: int | None


@dataclass(frozen=True, slots=True)
class _NewCall:
    # What the card reads of a call that has just started ringing, without loading a model.
    id: int
    call_sid: str
    from_number: str | None
    raw_from: str
    caller_kind: str
    received_at: datetime
    status: str = "ringing"
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    answered_by: str = ""
    is_missed: bool = False
    duration: int | None = None
    outcome: str = ""


# Written once as SQL: on the webhook path, building statements per call cost more than running
# them (docs/benchmarks.md). A retried webhook's insert does nothing and returns no id.
_INSERT_CALL = text(
    "INSERT INTO calls (call_sid, from_number, raw_from, caller_kind, line_id, direction, status, "
    "customer_id, matched_by, is_missed, answered_by, outcome, received_at, called_back_by) "
    "VALUES (:call_sid, :from_number, :raw_from, :caller_kind, :line_id, :direction, 'ringing', "
    ":customer_id, :matched_by, :is_missed, '', '', :received_at, '') "
    "ON CONFLICT (call_sid) DO NOTHING RETURNING id"
).bindparams(bindparam("received_at", type_=UTCDateTime()))
_CALL_ID = text("SELECT id FROM calls WHERE call_sid = :call_sid")


def ring(
    connection: Connection,
    call_sid: str,
    raw_from: str,
    raw_to: str,
    region: str,
    *,
    direction: str = "inbound",
    received_at: datetime | None = None,
) -> Ringing:
    """Record an incoming call and announce it (``call.ringing``) on ``connection``, in SQL
    written once: the voice webhook's path. Same contract as ``receive``; the caller commits.

    Everything is read before the first write, so the write lock (SQLite's, held until commit
    and shared by every worker) covers two inserts and the commit, nothing more.
    """
    caller = numbers.normalise(raw_from, region)
    to = numbers.normalise(raw_to, region)
    customers = directory.owners_of(connection, caller.number) if caller.is_number else []
    line = directory.line_of(connection, raw_to or "", to.number)
    call = _NewCall(
        id=0,  # not written yet, so none of the history the card reads is this call
        call_sid=call_sid,
        from_number=caller.number,
        raw_from=(raw_from or "")[:100],
        caller_kind=caller.kind,
        received_at=received_at or utcnow(),
    )
    today = clock.today()
    card = directory.card_for_call(connection, call, customers, region, today=today, line=line)
    call_id = connection.execute(
        _INSERT_CALL,
        {
            "call_sid": call_sid,
            "from_number": call.from_number,
            "raw_from": call.raw_from,
            "caller_kind": call.caller_kind,
            "line_id": line.id,
            "direction": direction[:20],
            "customer_id": customers[0].id if customers else None,
            "matched_by": matched_by(customers),
            "is_missed": False,
            "received_at": call.received_at,
        },
    ).scalar()
    if call_id is None:
        existing = connection.execute(_CALL_ID, {"call_sid": call_sid}).scalar_one()
        return Ringing(existing, is_new=False, event_id=None)
    return Ringing(call_id, is_new=True, event_id=events.append(connection, "call.ringing", card))


def receive(
    session: Session,
    call_sid: str,
    raw_from: str,
    raw_to: str,
    region: str,
    *,
    direction: str = "inbound",
    received_at: datetime | None = None,
) -> Received:
    """Record an incoming call and announce it to the screens (``call.ringing``).

    Idempotent per ``call_sid``: a retried webhook finds the existing call and records and
    announces nothing new. Withheld and invalid caller IDs are kept but never matched. The caller
    commits.
    """
    session.flush()  # ring() writes plain SQL, which does not autoflush
    ringing = ring(
        session.connection(),
        call_sid,
        raw_from,
        raw_to,
        region,
        direction=direction,
        received_at=received_at,
    )
    call = session.get(Call, ringing.call_id)
    assert call is not None
    return Received(call, is_new=ringing.is_new, event_id=ringing.event_id)


def progress(
    session: Session,
    call: Call,
    status: str,
    region: str,
    *,
    at: datetime | None = None,
    duration: int | None = None,
    answered_by: str = "",
) -> int | None:
    """Move ``call`` to Twilio's ``status`` if that is further along; return the new event's id.

    A repeated or late callback (``ringing`` after ``completed``) changes nothing and announces
    nothing, except a late ``in-progress``: the call was answered after all, and a call that
    ended looking missed is announced again, as answered and ended. A call that ends without
    having been answered is missed. The caller commits.
    """
    at = at or utcnow()
    rank = RANK.get(status)
    if rank is None:
        return None
    if call.status in RANK and rank <= RANK[call.status]:
        if rank == TERMINAL and duration is not None and call.duration is None:
            call.duration = duration
        if rank == RANK["in-progress"] and call.answered_at is None:
            # "answered" overtaken by "completed": the call was answered all the same.
            was_missed = call.is_missed
            call.answered_at = at
            call.answered_by = call.answered_by or answered_by
            call.is_missed = call.status in MISSED_STATUSES
            if was_missed and not call.is_missed:
                # Screens showed it missed when it ended: the same card, put right, redraws it.
                return announce(session, call, "call.ended", region)
        return None
    call.status = status
    if rank == RANK["in-progress"]:
        call.answered_at = at
        call.answered_by = call.answered_by or answered_by
        return announce(session, call, "call.answered", region)
    if rank == TERMINAL:
        call.ended_at = at
        call.duration = duration if duration is not None else call.duration
        call.is_missed = call.answered_at is None or status in MISSED_STATUSES
        return announce(session, call, "call.ended", region)
    return None


def claim(session: Session, call: Call, who: str, region: str) -> int | None:
    """Someone at the desk says "I've got it": the call counts as answered by ``who``."""
    if call.answered_by or RANK.get(call.status, 0) >= TERMINAL:
        return None
    call.answered_by = who
    if RANK.get(call.status, 0) < RANK["in-progress"]:
        return progress(session, call, "in-progress", region, answered_by=who)
    return announce(session, call, "call.answered", region)


def find(session: Session, call_sid: str) -> Call | None:
    """The call with this CallSid, or the inbound call whose desk leg it is."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        call = session.scalar(select(Call).where(Call.desk_call_sid == call_sid))
    return call


def announce(
    session: Session,
    call: Call,
    kind: str,
    region: str,
    customers: list[Any] | None = None,
) -> int:
    """Append the event ``kind`` carrying the call's card."""
    if customers is None:
        customers = customers_of(session, call)
    card = directory.card_for_call(session, call, customers, region, today=clock.today())
    return events.append(session, kind, card)


def customers_of(session: Session, call: Call) -> list[Any]:
    if not call.from_number:
        return []
    customers = directory.find_by_number(session, call.from_number)
    if call.customer is not None and call.customer in customers:
        customers.remove(call.customer)
        customers.insert(0, call.customer)
    return customers


def matched_by(customers: list[Any]) -> str | None:
    if not customers:
        return None
    return "number" if len(customers) == 1 else "shared"


def callback(
    session: Session,
    call_sid: str,
    status: str,
    region: str,
    *,
    parent_call_sid: str | None = None,
    raw_from: str = "",
    raw_to: str = "",
    direction: str = "inbound",
    at: datetime | None = None,
    duration: int | None = None,
) -> int | None:
    """Apply a Twilio status callback, for the inbound call itself or for its dialled desk leg
    (``parent_call_sid`` set); return the id of the event it caused, if any.

    Safe to repeat and to reorder. A callback for an inbound call we never recorded (its voice
    webhook hit a database failure) records the call now, so the log stays complete.
    """
    if parent_call_sid:
        return _desk_leg(session, call_sid, parent_call_sid, status, raw_to, region, at, duration)
    call = find(session, call_sid)
    if call is None:
        if direction != "inbound":
            return None
        call = receive(session, call_sid, raw_from, raw_to, region, received_at=at).call
    return progress(session, call, status, region, at=at, duration=duration)


def _desk_leg(
    session: Session,
    desk_call_sid: str,
    parent_call_sid: str,
    status: str,
    raw_desk: str,
    region: str,
    at: datetime | None,
    duration: int | None,
) -> int | None:
    call = find(session, parent_call_sid)
    if call is None:
        return None
    call.desk_call_sid = call.desk_call_sid or desk_call_sid
    rank = RANK.get(status, 0)
    if rank == RANK["in-progress"]:
        return progress(session, call, status, region, at=at, answered_by=desk_name(raw_desk))
    if rank == TERMINAL:
        # The desk leg is over, so is the front desk's part in the call (voicemail may follow).
        return progress(session, call, status, region, at=at, duration=duration)
    return None


def dial_finished(
    session: Session, call_sid: str, dial_status: str, region: str, *, duration: int | None = None
) -> bool:
    """Apply the ``<Dial action>`` request; return True when nobody at the desk answered."""
    missed = dial_status not in {"completed", "answered"}
    call = find(session, call_sid)
    if call is None:
        return missed
    if missed:
        progress(session, call, dial_status if dial_status in RANK else "no-answer", region)
    else:
        # The desk answered even if its own callbacks never reached us.
        progress(session, call, "in-progress", region)
        progress(session, call, "completed", region, duration=duration)
    return call.is_missed


def desk_name(raw_desk: str) -> str:
    """How a desk leg's address reads to people: "anna" for client:anna, digits for numbers."""
    text = (raw_desk or "").strip()
    for prefix in ("client:", "sip:"):
        if text.lower().startswith(prefix):
            return text[len(prefix) :].split("@")[0]
    return text
