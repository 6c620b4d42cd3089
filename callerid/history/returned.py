"""Marking missed calls called back, undoing it, and the callers called back lately; each
change is announced so every screen's count follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import numbers
from ..db import changed_rows, iso, utcnow
from ..events import store as events
from ..models import Call
from .missed import CALLER, OPEN


class UnknownCall(LookupError):
    """No call has this CallSid."""


class NotMissed(ValueError):
    """The call was answered: there is nothing to call back."""


@dataclass(frozen=True, slots=True)
class CalledBack:
    call: Call
    marked: int  # calls marked now: 0 when it had been done already


def mark_called_back(
    session: Session, call_sid: str, who: str, *, at: datetime | None = None
) -> CalledBack:
    """Mark the missed call ``call_sid`` and the caller's other open missed calls up to it as
    called back by ``who``. Newer missed calls stay open: they came after what ``who`` saw.
    Withheld and unusable caller IDs cannot be told apart, so only that call is marked.
    Idempotent: marked calls keep their first time and person. Raises ``UnknownCall``,
    ``NotMissed``. The caller commits."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        raise UnknownCall(call_sid)
    if not call.is_missed:
        raise NotMissed(call_sid)
    result = session.execute(
        update(Call)
        .where(OPEN, _same_caller(call), Call.received_at <= call.received_at)
        .values(called_back_at=at or utcnow(), called_back_by=who[:100]),
        execution_options={"synchronize_session": False},
    )
    session.refresh(call)
    return CalledBack(call, changed_rows(result))


class NotCalledBack(ValueError):
    """The call is not marked called back: there is nothing to undo."""


def undo_call_back(session: Session, call_sid: str, who: str) -> int:
    """Reopen what one "Called back" marked: the caller's calls marked at the same moment by the
    same person as ``call_sid``; return how many. Announced as ``call.called_back`` with
    ``"undone": true`` so every screen's count goes back up. Raises ``UnknownCall``,
    ``NotCalledBack``. The caller commits."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        raise UnknownCall(call_sid)
    if call.called_back_at is None:
        raise NotCalledBack(call_sid)
    result = session.execute(
        update(Call)
        .where(
            _same_caller(call),
            Call.called_back_at == call.called_back_at,
            Call.called_back_by == call.called_back_by,
        )
        .values(called_back_at=None, called_back_by=""),
        execution_options={"synchronize_session": False},
    )
    reopened = changed_rows(result)
    session.refresh(call)
    events.append(
        session,
        "call.called_back",
        {"call_sid": call_sid, "undone": True, "undone_by": who[:100], "reopened": reopened},
    )
    return reopened


def latest_open(session: Session, call: Call) -> Call | None:
    """The latest missed call of ``call``'s caller still waiting to be called back, if any."""
    return session.scalar(
        select(Call)
        .where(OPEN, _same_caller(call))
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(1)
    )


def _same_caller(call: Call) -> ColumnElement[bool]:
    if call.customer_id is not None:
        return Call.customer_id == call.customer_id
    if call.from_number is not None:
        return and_(Call.customer_id.is_(None), Call.from_number == call.from_number)
    if call.caller_kind == numbers.ADDRESS:
        return and_(Call.caller_kind == numbers.ADDRESS, Call.raw_from == call.raw_from)
    return Call.id == call.id


@dataclass(frozen=True, slots=True)
class Returned:
    """A caller whose missed calls were called back: the latest such call says by whom, when."""

    caller: str  # as ``Group.caller``
    count: int  # their missed calls called back since the time asked about
    last_call: Call


def recently_called_back(session: Session, *, since: datetime, limit: int = 100) -> list[Returned]:
    """Callers whose missed calls were called back since ``since``, most recently called back
    first; at most ``limit`` callers (read from the latest 10 calls per caller allowed)."""
    calls = session.execute(
        select(Call, CALLER)
        .options(selectinload(Call.customer))
        .where(Call.is_missed.is_(True), Call.called_back_at >= since)
        .order_by(Call.called_back_at.desc(), Call.received_at.desc(), Call.id.desc())
        .limit(limit * 10)
    )
    found: dict[str, Returned] = {}
    for call, key in calls:
        if key in found:
            found[key] = Returned(key, found[key].count + 1, found[key].last_call)
        elif len(found) < limit:
            found[key] = Returned(key, 1, call)
    return list(found.values())


def call_back(session: Session, call_sid: str, who: str) -> CalledBack:
    """``mark_called_back`` now, and tell every screen (``call.called_back``) when it marked
    anything, so their missed-call counts stay current. Raises as ``mark_called_back`` does.
    The caller commits."""
    done = mark_called_back(session, call_sid, who)
    if done.marked:
        events.append(
            session,
            "call.called_back",
            {
                "call_sid": done.call.call_sid,
                "called_back_by": done.call.called_back_by,
                "called_back_at": iso(done.call.called_back_at),
                "marked": done.marked,
            },
        )
    return done
