"""Call-backs: calls the business places itself to return a missed call, and their progress.

The staff member's phone rings first; once they answer, the customer is rung with the line they
called as caller ID. A call-back is recorded apart from the calls the business receives and has
events of its own (``callback.started``, ``callback.answered``, ``callback.ended``, each with
``"direction": "outbound"``), so it is never a missed call, never rings the board as a caller,
and stays out of answer rate and returning share. Once the customer answers, their missed calls
are closed as called back by whoever called.

Statuses, in order: ``starting`` (the provider is being asked), ``calling-staff``,
``calling-customer`` (the staff member answered), ``answered`` (the customer did), ``ended``
with an ``outcome``: ``talked``, ``customer-missed``, ``staff-missed``, ``failed`` (the provider
refused; ``detail`` says why in words) or ``lost`` (no news for ``IN_FLIGHT_FOR``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import calls, db, numbers
from .db import iso, utcnow
from .events import store as events
from .history import returned
from .models import Call, Callback, User

# A call-back with no news for this long is over: it no longer blocks the next one.
IN_FLIGHT_FOR = timedelta(minutes=10)
RANK = {"starting": 0, "calling-staff": 1, "calling-customer": 2, "answered": 3, "ended": 4}


class CannotCallBack(Exception):
    """A call-back that cannot start; the message says why, in words for the person asking."""


class UnknownCall(LookupError):
    """No call has this CallSid."""


def start(
    session: Session, call_sid: str, user: User, forward_to: str | None, region: str
) -> Callback:
    """Record a call-back to the caller of ``call_sid`` by ``user`` (ringing their phone, else
    ``forward_to``) and announce it; the caller commits, then has the call placed. Raises
    ``UnknownCall``, or ``CannotCallBack`` when nobody can be called or a call-back to that
    number is already under way."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        raise UnknownCall(call_sid)
    if not call.from_number:
        raise CannotCallBack(
            "The caller's number is withheld or unusable: there is nobody to call."
        )
    if any(customer.do_not_contact for customer in calls.customers_of(session, call)):
        raise CannotCallBack(
            f"{_name(call)} asked not to be contacted: callerid will not call back."
        )
    line = call.line.number if call.line is not None else ""
    if not line.startswith("+"):
        raise CannotCallBack("There is no line to call from: the call did not come in on a number.")
    staff = user.phone or forward_to
    if not staff:
        raise CannotCallBack(
            "There is no phone to ring for you: add one on the Users page, "
            "or set CALLERID_FORWARD_TO."
        )
    now = utcnow()
    _end_stale(session, call.from_number, now, region)
    if call.customer_id is not None and _running_for(session, call.customer_id):
        # The same customer on another of their numbers: still one call-back per caller.
        raise CannotCallBack(_busy(session, Callback.customer_id == call.customer_id, _name(call)))
    callback = Callback(
        call=call,
        customer=call.customer,
        number=call.from_number,
        line=line,
        user_id=user.id,
        by=user.name,
        staff_phone=staff,
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(callback)
    except IntegrityError:
        raise CannotCallBack(
            _busy(session, Callback.number == call.from_number, _name(call))
        ) from None
    _announce(session, "callback.started", callback, region)
    return callback


def placed(session: Session, callback_id: int, staff_call_sid: str) -> None:
    """The provider took the call: the staff member's phone is being rung."""
    callback = _locked(session, callback_id)
    if callback is not None:
        callback.staff_call_sid = staff_call_sid
        _forward(callback, "calling-staff")  # Twilio may have reported further already


def failed(session: Session, callback_id: int, detail: str, region: str) -> None:
    """The provider refused the call (``detail``, in words) or could not be reached."""
    callback = _locked(session, callback_id)
    if callback is not None:
        _end(session, callback, region, "failed", detail)


def staff_answered(session: Session, callback_id: int) -> Callback | None:
    """The staff member picked up: the customer is rung now. None for a call-back that is
    over (or unknown): the staff member is then told so and hung up on."""
    callback = _locked(session, callback_id)
    if callback is None or callback.ended_at is not None:
        return None
    _forward(callback, "calling-customer")
    return callback


def staff_leg(session: Session, callback_id: int, status: str, region: str) -> None:
    """A status of the staff member's leg. Its end ends the call-back: unanswered, it never
    reached the customer; answered, the customer's leg has ended too (or never got through)."""
    callback = _locked(session, callback_id)
    if callback is None or callback.ended_at is not None or not calls.is_final(status):
        return
    if callback.answered_at is not None:
        _end(session, callback, region, "talked")
    elif callback.status == "calling-customer" or status == "completed":
        _end(session, callback, region, "customer-missed")
    else:
        _end(session, callback, region, "staff-missed")


def customer_leg(
    session: Session,
    callback_id: int,
    status: str,
    call_sid: str,
    duration: int | None,
    region: str,
) -> None:
    """A status of the customer's leg: answered closes their missed calls; its end ends the
    call-back. Repeats and late arrivals change nothing."""
    callback = _locked(session, callback_id)
    if callback is None or callback.ended_at is not None:
        return
    callback.customer_call_sid = call_sid
    # A "completed" leg was answered, even if its "in-progress" is late or lost.
    if status in ("in-progress", "completed") and callback.answered_at is None:
        _answered(session, callback, region)
    if calls.is_final(status):
        outcome = "talked" if callback.answered_at else "customer-missed"
        _end(session, callback, region, outcome, duration=duration)


def get(session: Session, callback_id: int) -> Callback | None:
    return session.get(Callback, callback_id)


def in_flight(session: Session, now: datetime | None = None) -> list[Callback]:
    """The call-backs still under way, oldest first: a screen opened meanwhile shows them."""
    since = (now or utcnow()) - IN_FLIGHT_FOR
    return list(
        session.scalars(
            select(Callback)
            .where(Callback.ended_at.is_(None), Callback.started_at >= since)
            .order_by(Callback.started_at, Callback.id)
        )
    )


def payload(callback: Callback, region: str) -> dict[str, Any]:
    """What screens and the API show of a call-back; ``words`` says where it stands."""
    customer = callback.customer
    return {
        "callback_id": callback.id,
        "direction": "outbound",
        "status": callback.status,
        "outcome": callback.outcome or None,
        "detail": callback.detail or None,
        "to": callback.number or None,
        "display": _display(callback, region),
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "by": callback.by,
        "line": callback.line,
        "call_sid": callback.call.call_sid if callback.call else None,
        "started_at": iso(callback.started_at),
        "answered_at": iso(callback.answered_at),
        "ended_at": iso(callback.ended_at),
        "duration": callback.duration,
        "words": words(callback, region),
    }


def words(callback: Callback, region: str) -> str:
    """Where the call-back stands, in one sentence: "Calling back Anna Moors, by Anna"."""
    if callback.customer is not None:
        name = callback.customer.name
    else:
        name = _display(callback, region) if callback.number else "an erased caller"
    by = callback.by or "someone"
    if callback.status == "answered":
        return f"{name} answered {by}'s call-back"
    if callback.status != "ended":
        step = {
            # Twilio is being asked to ring the staff phone: for the person waiting, the same.
            "starting": f"ringing {by}'s phone",
            "calling-staff": f"ringing {by}'s phone",
            "calling-customer": f"ringing {name}",
        }[callback.status]
        return f"Calling back {name}, by {by}: {step}"
    seconds = f" ({callback.duration} s)" if callback.duration else ""
    return {
        "talked": f"{by} called back {name}{seconds}",
        "customer-missed": f"{name} did not answer {by}'s call-back",
        "staff-missed": f"{by}'s phone did not answer: {name} was not called",
        "failed": f"The call-back to {name} failed: {callback.detail}",
        "lost": f"No news of {by}'s call-back to {name}: it is taken as over",
    }[callback.outcome]


def _display(callback: Callback, region: str) -> str:
    return numbers.display(callback.number, region) if callback.number else "Caller erased"


def _answered(session: Session, callback: Callback, region: str) -> None:
    callback.answered_at = utcnow()
    _forward(callback, "answered")
    _announce(session, "callback.answered", callback, region)
    if callback.call is not None:
        waiting = returned.latest_open(session, callback.call)
        if waiting is not None:
            returned.call_back(session, waiting.call_sid, callback.by)


def _end(
    session: Session,
    callback: Callback,
    region: str,
    outcome: str,
    detail: str = "",
    duration: int | None = None,
) -> None:
    callback.status, callback.outcome, callback.detail = "ended", outcome, detail[:300]
    callback.ended_at = utcnow()
    if duration is not None:
        callback.duration = duration
    _announce(session, "callback.ended", callback, region)


def _forward(callback: Callback, status: str) -> None:
    # Status callbacks can arrive late or twice: a call-back never moves back.
    if RANK[status] > RANK[callback.status]:
        callback.status = status


def _announce(session: Session, kind: str, callback: Callback, region: str) -> None:
    session.flush()
    events.append(session, kind, payload(callback, region))


def _locked(session: Session, callback_id: int) -> Callback | None:
    # Both legs report at once: one change at a time per call-back (SQLite: the write lock).
    db.lock_for_writing(session)
    return session.get(Callback, callback_id, with_for_update=True, populate_existing=True)


def _end_stale(session: Session, number: str, now: datetime, region: str) -> None:
    """A call-back with no news for ``IN_FLIGHT_FOR`` (its status callbacks lost) is over."""
    stale = session.scalars(
        select(Callback).where(
            Callback.number == number,
            Callback.ended_at.is_(None),
            Callback.started_at < now - IN_FLIGHT_FOR,
        )
    )
    for callback in stale:
        _end(session, callback, region, "lost")


def _running_for(session: Session, customer_id: int) -> bool:
    running = select(Callback.id).where(
        Callback.customer_id == customer_id, Callback.ended_at.is_(None)
    )
    return session.scalar(running.limit(1)) is not None


def _busy(session: Session, which: ColumnElement[bool], name: str) -> str:
    running = session.scalar(select(Callback).where(which, Callback.ended_at.is_(None)))
    by = running.by if running is not None and running.by else "Someone"
    return f"{by} is already calling back {name}."


def _name(call: Call) -> str:
    return call.customer.name if call.customer else (call.from_number or "this caller")
