"""Missed calls to return: open ones grouped per caller, and marking them called back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal_column, select, update
from sqlalchemy.orm import Session, selectinload

from .. import numbers
from ..db import utcnow
from ..models import Call
from .retention import ANONYMISED


def _text(constant: str) -> ColumnElement[str]:
    # Inline SQL, not a parameter: PostgreSQL must see the same text in SELECT and GROUP BY.
    return literal_column(f"'{constant}'", String)


# A caller we can tell apart: the customer when known, else the number, else the SIP/client
# address. Withheld and unusable caller IDs are one group each: nobody can tell them apart.
CALLER = case(
    (Call.customer_id.is_not(None), _text("customer:") + cast(Call.customer_id, String)),
    (Call.from_number.is_not(None), _text("number:") + Call.from_number),
    (Call.caller_kind == _text(numbers.ADDRESS), _text("address:") + Call.raw_from),
    else_=Call.caller_kind,
)
OPEN = and_(
    Call.is_missed.is_(True),
    Call.called_back_at.is_(None),
    Call.direction == "inbound",
    # Nobody can call an anonymised caller back; insights still count the call.
    Call.caller_kind != ANONYMISED,
)


class UnknownCall(LookupError):
    """No call has this CallSid."""


class NotMissed(ValueError):
    """The call was answered: there is nothing to call back."""


@dataclass(frozen=True, slots=True)
class Group:
    caller: str  # "customer:7", "number:+14155550134", "address:client:anna", "withheld", "invalid"
    count: int
    first_missed_at: datetime
    last_missed_at: datetime
    last_call: Call  # the latest missed call: its number, customer and CallSid


def open_groups(
    session: Session, *, since: datetime | None = None, limit: int = 100
) -> list[Group]:
    """Missed calls nobody has called back yet (received since ``since``, if given), one group per
    caller, the group with the most recent missed call first; at most ``limit`` groups."""
    where = [OPEN] + ([Call.received_at >= since] if since is not None else [])
    caller = CALLER.label("caller")
    rows = session.execute(
        select(caller, func.count(), func.min(Call.received_at), func.max(Call.received_at))
        .where(*where)
        .group_by(caller)
        .order_by(func.max(Call.received_at).desc(), caller)
        .limit(limit)
    ).all()
    if not rows:
        return []
    # The latest call of each group: only the rows received at one of the groups' last times.
    last_at = {key: last for key, _, _, last in rows}
    latest: dict[str, Call] = {}
    calls = session.execute(
        select(Call, CALLER)
        .options(selectinload(Call.customer))
        .where(*where, Call.received_at.in_(set(last_at.values())))
        .order_by(Call.id.desc())
    )
    for call, key in calls:
        if last_at.get(key) == call.received_at:
            latest.setdefault(key, call)
    return [Group(key, count, first, last, latest[key]) for key, count, first, last in rows]


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
    return CalledBack(call, result.rowcount or 0)


def _same_caller(call: Call) -> ColumnElement[bool]:
    if call.customer_id is not None:
        return Call.customer_id == call.customer_id
    if call.from_number is not None:
        return and_(Call.customer_id.is_(None), Call.from_number == call.from_number)
    if call.caller_kind == numbers.ADDRESS:
        return and_(Call.caller_kind == numbers.ADDRESS, Call.raw_from == call.raw_from)
    return Call.id == call.id
