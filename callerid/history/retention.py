"""Retention: old calls become anonymous statistics; their notes and event cards go.

An anonymised call keeps its status, times, duration, line and who answered, so every count in
insights stays right; it loses the caller's number, what Twilio sent as ``From`` and the link to
the customer. Two marks tell the rest of the code what happened:

- ``caller_kind`` becomes ``ANONYMISED`` (a withheld call stays ``withheld``: no personal data);
- ``matched_by`` becomes ``RETURNING`` when the call came from a customer who had called before,
  so the share of returning callers survives the link being cut (see ``history.insights``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from .. import audit, numbers
from ..db import changed_rows, iso, utcnow
from ..events import store as events
from ..models import Call, Callback, Event, Note, TextReceived, TextSent
from . import counting, relink

ANONYMISED = "anonymised"
RETURNING = counting.RETURNING  # "returning"

# A call that still says who called: anything else is already anonymous.
IDENTIFIABLE = or_(
    Call.from_number.is_not(None), Call.raw_from != "", Call.customer_id.is_not(None)
)


def delete_notes_on(session: Session, calls: ColumnElement[bool]) -> int:
    """Delete the notes written on the calls matching ``calls``; return how many. Run it before
    ``anonymise_calls`` when ``calls`` names a customer: afterwards the link is gone."""
    result = session.execute(
        delete(Note).where(Note.call_id.in_(select(Call.id).where(calls))),
        execution_options={"synchronize_session": False},
    )
    return changed_rows(result)


def anonymise_calls(session: Session, calls: ColumnElement[bool]) -> int:
    """Blank the caller of every call matching ``calls`` that still has one; return how many.
    Set-based (two UPDATEs), so it suits millions of rows. The caller commits."""
    linked = select(Call.customer_id).where(calls, Call.customer_id.is_not(None)).distinct()
    with relink.relinking(session, linked):  # insights' rolled-up days
        return _anonymise(session, calls)


def _anonymise(session: Session, calls: ColumnElement[bool]) -> int:
    # First remember which calls came from returning customers, while the link still says so.
    session.execute(
        update(Call)
        .where(calls, Call.customer_id.is_not(None))
        .values(matched_by=case((counting.called_before(), RETURNING), else_=None)),
        execution_options={"synchronize_session": False},
    )
    result = session.execute(
        update(Call)
        .where(calls, IDENTIFIABLE)
        .values(
            from_number=None,
            raw_from="",
            customer_id=None,
            caller_kind=case(
                (Call.caller_kind == numbers.WITHHELD, numbers.WITHHELD), else_=ANONYMISED
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    return changed_rows(result)


def forget_callbacks(session: Session, which: ColumnElement[bool]) -> int:
    """Remove whom the call-backs matching ``which`` called: their number and customer go; who
    called and how it went stay. One still under way is taken as over (``lost``). Returns how
    many changed."""
    forgotten = session.execute(
        update(Callback)
        .where(which, Callback.number != "")
        .values(
            number="",
            customer_id=None,
            status="ended",
            outcome=case((Callback.ended_at.is_(None), "lost"), else_=Callback.outcome),
            ended_at=func.coalesce(Callback.ended_at, utcnow()),
        ),
        execution_options={"synchronize_session": False},
    )
    return changed_rows(forgotten)


@dataclass(frozen=True, slots=True)
class Retained:
    """What a retention run changed (or, on a dry run, would change)."""

    calls: int
    notes: int
    events: int


def anonymise_older_than(
    session: Session, cutoff: datetime, *, actor: str, dry_run: bool = False
) -> Retained:
    """Anonymise calls received before ``cutoff`` (and the call-backs started before it), delete
    the notes on them, the texts and the events (whose cards name callers) from before it, and
    record it in the audit trail; a ``dry_run`` only counts. Safe to repeat: calls already
    anonymous are not counted again. The caller commits."""
    old = Call.received_at < cutoff
    if dry_run:
        return Retained(
            calls=_count(session, select(Call.id).where(old, IDENTIFIABLE)),
            notes=_count(
                session, select(Note.id).where(Note.call_id.in_(select(Call.id).where(old)))
            ),
            events=_count(session, select(Event.id).where(Event.created_at < cutoff)),
        )
    notes = delete_notes_on(session, old)
    calls = anonymise_calls(session, old)
    forget_callbacks(session, Callback.started_at < cutoff)
    session.execute(delete(TextReceived).where(TextReceived.received_at < cutoff))
    session.execute(delete(TextSent).where(TextSent.created_at < cutoff))
    pruned = events.prune(session, cutoff)
    audit.record(
        session,
        audit.ANONYMISE,
        f"calls before {iso(cutoff)}",
        actor=actor,
        detail=f"{calls} calls anonymised, {notes} notes and {pruned} events deleted",
    )
    return Retained(calls=calls, notes=notes, events=pruned)


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0
