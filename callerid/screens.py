"""The front-desk screens: what they show (the board, its cards) and what staff do from a card.

Not ``directory.desk``, which holds the changes to customers staff make from a card."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from . import calls, directory, ringing
from .db import iso, utcnow
from .directory import activity
from .events import store as events
from .models import Call, Customer, Event, Note, User
from .models.calls import OUTCOMES, RANK, TERMINAL

# A call still "ringing" after this long lost its callbacks; an answered one leaves the live area.
RINGING_FOR = timedelta(minutes=10)
ANSWERED_FOR = timedelta(minutes=15)
RECENT_LIMIT = 12
RECENT_WITHIN = timedelta(hours=24)
NOTE_MAX = 2000


class InvalidNote(ValueError):
    """A note or outcome the desk cannot record; the message says why, for the person."""


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


def card(session: Session, call: Call, region: str, *, today: date) -> dict[str, Any]:
    """The call's card, as the events announcing it carry it (``directory.card_for_call``)."""
    customers = calls.customers_of(session, call)
    return directory.card_for_call(session, call, customers, region, today=today)


SCREEN_LENGTH = 64


def claim(
    session: Session, call: Call, who: str, screen: str, region: str, *, today: date
) -> int | None:
    """ "I've got it" from the board screen ``screen`` (a browser tab's own id): the call is
    answered by ``who`` (``calls.claim``), and ``call.claimed`` tells every screen which tab took
    it, so that tab keeps the card open while the others fold it. Several screens share one
    login, so the login cannot say which screen it was. Returns the ``call.claimed`` event's id,
    or None when the call was already answered or over. The caller commits."""
    if calls.claim(session, call, who, region, today=today) is None:
        return None
    payload = {"call_sid": call.call_sid, "claimed_by": who, "screen": screen[:SCREEN_LENGTH]}
    return events.append(session, "call.claimed", payload)


def claims_of(session: Session, *, now: datetime | None = None) -> dict[str, dict[str, str]]:
    """The claims (``call.claimed`` payloads) of the calls a board can still show live, by
    CallSid: a screen opened after a claim folds the card as the others did."""
    now = now or utcnow()
    rows = session.scalars(
        select(Event.data)
        .where(Event.kind == "call.claimed")
        .where(Event.created_at >= now - RINGING_FOR - ANSWERED_FOR)
    )
    return {claim["call_sid"]: claim for claim in map(json.loads, rows)}


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
    today: date,
) -> tuple[Note | None, int]:
    """Add a note and/or set the outcome (one of ``OUTCOMES``, "" clears it) of ``call``; announce
    it as ``call.noted`` and return the note (None when only the outcome changed) and event id.

    Raises ``InvalidNote`` for an unknown outcome, a note over ``NOTE_MAX`` characters, or
    nothing to record. The caller commits."""
    body = (body or "").strip()
    if outcome is not None and outcome not in (*OUTCOMES, ""):
        raise InvalidNote(f"outcome must be one of {', '.join(OUTCOMES)}")
    if len(body) > NOTE_MAX:
        raise InvalidNote(f"a note has at most {NOTE_MAX} characters")
    if not body and outcome is None:
        raise InvalidNote("send a note body, an outcome, or both")
    if outcome is not None:
        call.outcome = outcome
    note = None
    if body:
        note = Note(call_id=call.id, customer_id=call.customer_id, author=author, body=body)
        session.add(note)
        session.flush()
    payload = {
        **card(session, call, region, today=today),
        "note": note_json(note) if note else None,
    }
    return note, events.append(session, "call.noted", payload)


def note_json(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "body": note.body,
        "author": note.author.name if note.author else "",
        "created_at": iso(note.created_at),
    }


def notes_of(session: Session, call_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The notes written on each of these calls, oldest first, keyed by call id, as JSON."""
    found = activity.notes_on(session, call_ids)
    return {call_id: [note_json(note) for note in notes] for call_id, notes in found.items()}


def save_caller(
    session: Session, call: Call, name: str, region: str, *, today: date
) -> tuple[Customer, int]:
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
    call.matched_by = ringing.matched_by(directory.find_by_number(session, call.from_number))
    return customer, customer_changed(session, customer, region, today=today)


def cards_showing(session: Session, customer: Customer, also: Sequence[Call] = ()) -> list[Call]:
    """The calls on the board (live and recent) whose card shows ``customer``: theirs, and those
    from one of their numbers (a shared number's card names them too); plus any of ``also``
    still on the board."""
    shown = board(session)
    own = {number.number for number in customer.numbers}
    return [
        call
        for call in (*shown.live, *shown.recent)
        if call.customer_id == customer.id or (call.from_number or "") in own or call in also
    ]


def customer_changed(
    session: Session,
    customer: Customer,
    region: str,
    also: Sequence[Call] = (),
    *,
    today: date,
) -> int:
    """Announce ``customer.updated`` with the customer's details and fresh cards for every call on
    the board that shows them (and for the calls ``also``, which stopped showing them), so open
    screens redraw those cards."""
    session.flush()
    calls = cards_showing(session, customer, also)
    cards = [card(session, call, region, today=today) for call in calls]
    details = directory.customer_details(session, customer, today=today)
    return events.append(
        session,
        "customer.updated",
        {"customer_id": customer.id, "customer": details, "cards": cards},
    )
