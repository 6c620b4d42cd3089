"""Calls: record a ring and move a call forward (never back)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import db, directory, textback
from .db import utcnow
from .events import store as events
from .models import Call, Customer
from .models.calls import RANK, TERMINAL
from .ringing import Ring, record

MISSED_STATUSES = {"busy", "no-answer", "canceled", "failed"}
# The <Dial action>'s DialCallStatus values that mean someone at the desk took the call.
DIAL_ANSWERED = {"completed", "answered"}


class CallNotYetKnown(LookupError):
    """A desk leg's callback for a call not recorded yet (its voice webhook is still in a spool
    or in flight): apply it later, after the call."""


# A call first heard of later than this after it rang is history, not a phone ringing now.
RINGING_FOR_AT_MOST = timedelta(seconds=60)


def progress(
    session: Session,
    call: Call,
    status: str,
    region: str,
    *,
    at: datetime | None = None,
    duration: int | None = None,
    answered_by: str = "",
    today: date,
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
                return announce(session, call, "call.ended", region, today=today)
        return None
    call.status = status
    if rank == RANK["in-progress"]:
        call.answered_at = at
        call.answered_by = call.answered_by or answered_by
        return announce(session, call, "call.answered", region, today=today)
    if rank == TERMINAL:
        call.ended_at = at
        call.duration = duration if duration is not None else call.duration
        call.is_missed = call.answered_at is None or status in MISSED_STATUSES
        if call.is_missed:
            textback.missed(session, call)
        return announce(session, call, "call.ended", region, today=today)
    return None


def claim(session: Session, call: Call, who: str, region: str, *, today: date) -> int | None:
    """Someone at the desk says "I've got it": the call counts as answered by ``who``."""
    if call.answered_by or RANK.get(call.status, 0) >= TERMINAL:
        return None
    call.answered_by = who
    if RANK.get(call.status, 0) < RANK["in-progress"]:
        return progress(session, call, "in-progress", region, answered_by=who, today=today)
    return announce(session, call, "call.answered", region, today=today)


def hand_over(session: Session, call: Call, who: str, region: str, *, today: date) -> int:
    """A transfer: the answered call is ``who``'s now. Screens hear it as ``call.answered``
    again (``call.ended``, redrawn, when the end was reported first)."""
    call.answered_by = who
    over = RANK.get(call.status, 0) >= TERMINAL
    return announce(session, call, "call.ended" if over else "call.answered", region, today=today)


def find(session: Session, call_sid: str, *, to_change: bool = False) -> Call | None:
    """The call with this CallSid, or the inbound call whose desk leg it is. ``to_change``
    locks it until commit: two callbacks of one call applied at once would otherwise both
    decide from the same old row, and the later commit would undo the earlier's news."""
    query = select(Call)
    if to_change:
        db.lock_for_writing(session)
        query = query.with_for_update()
    call = session.scalar(query.where(Call.call_sid == call_sid))
    if call is None:
        call = session.scalar(query.where(Call.desk_call_sid == call_sid))
    return call


def announce(
    session: Session,
    call: Call,
    kind: str,
    region: str,
    customers: list[Customer] | None = None,
    *,
    today: date,
) -> int:
    """Append the event ``kind`` carrying the call's card (``today``: the business's date, for
    its occasions)."""
    if customers is None:
        customers = customers_of(session, call)
    card = directory.card_for_call(session, call, customers, region, today=today)
    return events.append(session, kind, card)


def customers_of(session: Session, call: Call) -> list[Customer]:
    if not call.from_number:
        return []
    customers = directory.find_by_number(session, call.from_number)
    if call.customer is not None and call.customer in customers:
        customers.remove(call.customer)
        customers.insert(0, call.customer)
    return customers


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
    today: date,
) -> int | None:
    """Apply a Twilio status callback, for the inbound call itself or for its dialled desk leg
    (``parent_call_sid`` set); return the id of the event it caused, if any.

    Safe to repeat and to reorder. A callback for an inbound call we never recorded (its voice
    webhook hit a database failure) records the call now, so the log stays complete.
    """
    if parent_call_sid:
        return _desk_leg(
            session, call_sid, parent_call_sid, status, raw_to, region, at, duration, today
        )
    call = find(session, call_sid, to_change=True)
    if call is None:
        if direction != "inbound":
            return None
        # Recorded now, so the log stays complete; a card says "ringing" only while it may be.
        over = is_final(status) or is_stale(at)
        call = record_ring(
            session,
            Ring(call_sid, raw_from, raw_to, received_at=at, quiet=over),
            region,
            today=today,
        )
    return progress(session, call, status, region, at=at, duration=duration, today=today)


def is_final(status: str) -> bool:
    """Whether Twilio's ``status`` says the call is over."""
    return RANK.get(status, 0) >= TERMINAL


def dial_missed(dial_status: str) -> bool:
    """Whether a ``<Dial action>``'s DialCallStatus says nobody at the desk took the call."""
    return dial_status not in DIAL_ANSWERED


def is_stale(rang_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a call that rang at ``rang_at`` is too old to be shown ringing."""
    return rang_at is not None and (now or utcnow()) - rang_at > RINGING_FOR_AT_MOST


def record_ring(session: Session, ring: Ring, region: str, *, today: date) -> Call:
    """``ringing.record`` for one ring in a Session's transaction; the recorded call, locked
    until commit like ``find(to_change=True)``: another transaction may have recorded it first
    (then our insert did nothing), and the callback about to change it must not read it stale."""
    session.flush()  # record() writes plain SQL, which does not autoflush
    (ringing,) = record(session.connection(), [ring], region, today=today)
    call = session.get(Call, ringing.call_id, with_for_update=True, populate_existing=True)
    assert call is not None
    return call


def voicemail_left(session: Session, call_sid: str, recording_url: str) -> bool:
    """Keep where the caller's voicemail is; False when the call is not ours."""
    call = find(session, call_sid, to_change=True)
    if call is None:
        return False
    call.voicemail_url = recording_url[:500] or call.voicemail_url
    return True


def _desk_leg(
    session: Session,
    desk_call_sid: str,
    parent_call_sid: str,
    status: str,
    raw_desk: str,
    region: str,
    at: datetime | None,
    duration: int | None,
    today: date,
) -> int | None:
    call = find(session, parent_call_sid, to_change=True)
    if call is None:
        raise CallNotYetKnown(parent_call_sid)
    call.desk_call_sid = call.desk_call_sid or desk_call_sid
    rank = RANK.get(status, 0)
    if rank == RANK["in-progress"]:
        return progress(
            session, call, status, region, at=at, answered_by=desk_name(raw_desk), today=today
        )
    if rank == TERMINAL:
        # The desk leg is over, so is the front desk's part in the call (voicemail may follow).
        return progress(session, call, status, region, at=at, duration=duration, today=today)
    return None


def dial_finished(
    session: Session,
    call_sid: str,
    dial_status: str,
    region: str,
    *,
    duration: int | None = None,
    raw_from: str = "",
    raw_to: str = "",
    at: datetime | None = None,
    today: date,
) -> bool:
    """Apply the ``<Dial action>`` request; return True when nobody at the desk answered."""
    missed = dial_missed(dial_status)
    call = find(session, call_sid, to_change=True)
    if call is None:
        # Its voice webhook is not recorded yet (spooled, or it failed open): the dial is over,
        # so record the call now, for the log, without a ringing card.
        ring = Ring(call_sid, raw_from, raw_to, received_at=at, quiet=True)
        call = record_ring(session, ring, region, today=today)
    # ``at``: when Twilio asked, also for a spooled action applied later. The text-back's rules
    # (a ring under 5 s, the 12 h drop) read the end.
    if missed:
        status = dial_status if dial_status in RANK else "no-answer"
        progress(session, call, status, region, at=at, today=today)
    else:
        # The desk answered even if its own callbacks never reached us.
        progress(session, call, "in-progress", region, at=at, today=today)
        progress(session, call, "completed", region, at=at, duration=duration, today=today)
    return call.is_missed


def desk_name(raw_desk: str) -> str:
    """How a desk leg's address reads to people: "anna" for client:anna, digits for numbers."""
    text = (raw_desk or "").strip()
    for prefix in ("client:", "sip:"):
        if text.lower().startswith(prefix):
            return text[len(prefix) :].split("@")[0]
    return text
