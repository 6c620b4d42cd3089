"""Calls: record a ring, move a call forward (never back), and read the call log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from . import directory, numbers
from .db import iso, utcnow
from .events import store as events
from .models import Call, Customer, Note, User

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
    existing = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if existing is not None:
        return Received(existing, is_new=False, event_id=None)
    caller = numbers.normalise(raw_from, region)
    to = numbers.normalise(raw_to, region)
    customers = directory.find_by_number(session, caller.number) if caller.is_number else []
    call = Call(
        call_sid=call_sid,
        from_number=caller.number,
        raw_from=(raw_from or "")[:100],
        caller_kind=caller.kind,
        line=directory.find_line(session, raw_to or "", to.number),
        direction=direction[:20],
        status="ringing",
        customer=customers[0] if customers else None,
        matched_by=_matched_by(customers),
        received_at=received_at or utcnow(),
    )
    session.add(call)
    session.flush()
    event_id = announce(session, call, "call.ringing", region, customers)
    return Received(call, is_new=True, event_id=event_id)


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
    nothing. A call that ends without having been answered is missed. The caller commits.
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
            call.answered_at = at
            call.answered_by = call.answered_by or answered_by
            call.is_missed = call.status in MISSED_STATUSES
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
        customers = _customers_of(session, call)
    card = directory.card_for_call(session, call, customers, region, today=utcnow().date())
    return events.append(session, kind, card)


def _customers_of(session: Session, call: Call) -> list[Any]:
    if not call.from_number:
        return []
    customers = directory.find_by_number(session, call.from_number)
    if call.customer is not None and call.customer in customers:
        customers.remove(call.customer)
        customers.insert(0, call.customer)
    return customers


def _matched_by(customers: list[Any]) -> str | None:
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


class BadCursor(ValueError):
    """The pagination cursor was not one we handed out."""


@dataclass(frozen=True, slots=True)
class Page:
    calls: list[Call]
    next_cursor: str | None


def log(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    line_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The call log, newest first, filtered; ``status`` may be a Twilio status, "missed" or
    "answered". Keyset pagination: a cursor names the last call of the previous page, so calls
    arriving meanwhile neither repeat nor skip a row. Raises ``BadCursor``."""
    query = (
        select(Call)
        .options(selectinload(Call.customer), selectinload(Call.line))
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(limit + 1)
    )
    if since is not None:
        query = query.where(Call.received_at >= since)
    if until is not None:
        query = query.where(Call.received_at < until)
    if customer_id is not None:
        query = query.where(Call.customer_id == customer_id)
    if line_id is not None:
        query = query.where(Call.line_id == line_id)
    if status == "missed":
        query = query.where(Call.is_missed.is_(True))
    elif status == "answered":
        query = query.where(Call.answered_at.is_not(None))
    elif status:
        query = query.where(Call.status == status)
    if cursor:
        at, call_id = _decode_cursor(cursor)
        query = query.where(
            or_(Call.received_at < at, and_(Call.received_at == at, Call.id < call_id))
        )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode_cursor(rows[-1]) if more and rows else None)


def log_chunks(session: Session, *, chunk: int = 1000, **filters: Any) -> Iterator[list[Call]]:
    """The whole filtered call log (``log``'s filters), newest first, ``chunk`` calls at a time:
    each chunk is one keyset query, so memory stays flat however long the log, and the consumer
    may release the session between chunks."""
    cursor = None
    while True:
        page = log(session, limit=chunk, cursor=cursor, **filters)
        if page.calls:
            yield page.calls
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode_cursor(call: Call) -> str:
    micros = (call.received_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{call.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, call_id = cursor.split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), int(call_id)
    except (ValueError, OverflowError) as exc:
        raise BadCursor(cursor) from exc


# The board: what the front-desk screens show, and what the desk does from a card.

# A call still "ringing" after this long lost its callbacks; an answered one leaves the live area.
RINGING_FOR = timedelta(minutes=10)
ANSWERED_FOR = timedelta(minutes=15)
RECENT_LIMIT = 12
RECENT_WITHIN = timedelta(hours=24)
OUTCOMES = ("booking", "question", "complaint", "other")
NOTE_MAX = 2000


class NoNumber(ValueError):
    """The call has no usable caller number (withheld, invalid), so there is nobody to save."""


class AlreadyKnown(ValueError):
    """The call's caller is already a customer."""


@dataclass(frozen=True, slots=True)
class Board:
    live: list[Call]
    recent: list[Call]


def board(session: Session, *, now: datetime | None = None) -> Board:
    """The calls a screen shows: ``live`` ones (ringing, or answered in the last ``ANSWERED_FOR``)
    and the ``RECENT_LIMIT`` latest ``recent`` ended ones, each newest first."""
    now = now or utcnow()
    open_statuses = [status for status, rank in RANK.items() if rank < TERMINAL]
    candidates = session.scalars(
        select(Call)
        .options(selectinload(Call.customer), selectinload(Call.line))
        .where(Call.received_at >= now - RINGING_FOR - ANSWERED_FOR)
        .where(Call.status.in_(open_statuses))
        .order_by(Call.received_at.desc(), Call.id.desc())
    )
    live = [
        call
        for call in candidates
        if (call.answered_at or call.received_at) >= now - ANSWERED_FOR
        and (RANK[call.status] >= RANK["in-progress"] or call.received_at >= now - RINGING_FOR)
    ]
    recent = session.scalars(
        select(Call)
        .options(selectinload(Call.customer), selectinload(Call.line))
        .where(Call.received_at >= now - RECENT_WITHIN)
        .where(Call.status.not_in(open_statuses))
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(RECENT_LIMIT)
    )
    return Board(live=live, recent=list(recent))


def card(session: Session, call: Call, region: str) -> dict[str, Any]:
    """The call's card, as the events announcing it carry it (``directory.card_for_call``)."""
    customers = _customers_of(session, call)
    return directory.card_for_call(session, call, customers, region, today=utcnow().date())


def mark_shown(session: Session, call_sid: str, at: datetime | None = None) -> None:
    """Record when a screen first showed the call's card; later screens change nothing.
    One UPDATE, no read: every screen sends this for every call. The caller commits."""
    session.execute(
        update(Call)
        .where(Call.call_sid == call_sid, Call.card_shown_at.is_(None))
        .values(card_shown_at=at or utcnow())
    )


def add_note(
    session: Session,
    call: Call,
    region: str,
    *,
    body: str = "",
    outcome: str | None = None,
    author: User | None = None,
) -> tuple[Note | None, int]:
    """Add a note and/or set the outcome (one of ``OUTCOMES``, "" clears it) of ``call``; announce
    it as ``call.noted`` and return the note (None when only the outcome changed) and event id.

    Raises ValueError for an unknown outcome, a note over ``NOTE_MAX`` characters, or nothing to
    record. The caller commits."""
    body = (body or "").strip()
    if outcome is not None and outcome not in (*OUTCOMES, ""):
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if len(body) > NOTE_MAX:
        raise ValueError(f"a note has at most {NOTE_MAX} characters")
    if not body and outcome is None:
        raise ValueError("send a note body, an outcome, or both")
    if outcome is not None:
        call.outcome = outcome
    note = None
    if body:
        note = Note(call_id=call.id, customer_id=call.customer_id, author=author, body=body)
        session.add(note)
        session.flush()
    payload = {**card(session, call, region), "note": note_json(note) if note else None}
    return note, events.append(session, "call.noted", payload)


def note_json(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "body": note.body,
        "author": note.author.name if note.author else "",
        "created_at": iso(note.created_at),
    }


def notes_of(session: Session, call_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The notes written on each of these calls, oldest first, keyed by call id."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not call_ids:
        return found
    rows = session.scalars(
        select(Note)
        .options(selectinload(Note.author))
        .where(Note.call_id.in_(call_ids))
        .order_by(Note.id)
    )
    for note in rows:
        found.setdefault(note.call_id or 0, []).append(note_json(note))
    return found


def save_caller(session: Session, call: Call, name: str, region: str) -> tuple[Customer, int]:
    """Make the caller of ``call`` a customer named ``name`` (so their next call is greeted),
    link the call to them and announce ``customer.updated``; return the customer and event id.

    Raises ``NoNumber`` for a withheld caller, ``AlreadyKnown`` when the call already has a
    customer, ValueError for an unusable name. The caller commits."""
    if not call.from_number:
        raise NoNumber("the caller's number is withheld or unusable")
    if call.customer is not None:
        raise AlreadyKnown(call.customer.name)
    customer = directory.new_customer(session, name, call.from_number)
    call.customer = customer
    call.matched_by = _matched_by(directory.find_by_number(session, call.from_number))
    return customer, customer_changed(session, customer, region)


def customer_changed(session: Session, customer: Customer, region: str) -> int:
    """Announce ``customer.updated`` with the customer's details and fresh cards for every call on
    the board that shows them, so open screens redraw those cards."""
    session.flush()
    shown = board(session)
    own = {number.number for number in customer.numbers}
    cards = [
        card(session, call, region)
        for call in (*shown.live, *shown.recent)
        if call.customer_id == customer.id or (call.from_number or "") in own
    ]
    details = directory.customer_details(session, customer, today=utcnow().date())
    return events.append(
        session,
        "customer.updated",
        {"customer_id": customer.id, "customer": details, "cards": cards},
    )
