"""Counting inbound calls straight from the calls table: for the rollup, and for the parts of a
window it does not cover (the first partial day, today)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from ..models import Call
from .epoch import epoch_day, epoch_slot, millis_between

RETURNING = "returning"  # history.retention's mark (imported there from here would loop)


def _tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def called_before() -> ColumnElement[bool]:
    """A linked call whose customer has an earlier linked call (ties broken by id). Two probes of
    the (customer_id, received_at) index; with the OR inside one EXISTS, SQLite walks every call
    of the customer for each row."""
    earlier = aliased(Call)
    same = earlier.customer_id == Call.customer_id
    return or_(
        exists().where(same, earlier.received_at < Call.received_at),
        exists().where(same, earlier.received_at == Call.received_at, earlier.id < Call.id),
    )


def came_back() -> ColumnElement[bool]:
    """A call from a customer who had called before (``called_before``), or anonymised with that
    mark (see ``history.retention``): the one meaning of "returning" in insights and the call
    log. coalesce: a NULL ``matched_by`` reads as "not returning", also under NOT."""
    return or_(
        func.coalesce(Call.matched_by, "") == RETURNING,
        and_(Call.customer_id.is_not(None), called_before()),
    )


def inbound_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Call.direction == "inbound", Call.received_at >= start, Call.received_at < end)


def slot_counts(session: Session, window: ColumnElement[bool]) -> list[tuple[int, ...]]:
    """(slot, calls, answered, missed, returning) per quarter hour with calls in ``window``."""
    slot = epoch_slot(Call.received_at)
    rows = session.execute(
        select(
            slot,
            func.count(),
            _tally(Call.answered_at.is_not(None)),
            _tally(Call.is_missed.is_(True)),
            _tally(came_back()),
        )
        .where(window)
        .group_by(slot)
    )
    return [tuple(int(value) for value in row) for row in rows]


def screen_pops(session: Session, window: ColumnElement[bool]) -> list[tuple[int, int, int]]:
    """(day, milliseconds, calls): received -> card shown, per UTC day, for ``window``."""
    latency = millis_between(Call.received_at, Call.card_shown_at)
    day = epoch_day(Call.received_at)
    rows = session.execute(
        select(day, latency, func.count())
        .where(window, Call.card_shown_at.is_not(None))
        .group_by(day, latency)
    )
    return [(int(d), int(round(float(ms))), int(n)) for d, ms, n in rows]


def caller_counts(
    session: Session, window: ColumnElement[bool], *, at_least: int = 1
) -> list[tuple[int, int, int]]:
    """(day, customer id, calls) per UTC day for customers with ``at_least`` calls that day."""
    day = epoch_day(Call.received_at)
    query = (
        select(day, Call.customer_id, func.count())
        .where(window, Call.customer_id.is_not(None))
        .group_by(day, Call.customer_id)
    )
    if at_least > 1:
        query = query.having(func.count() >= at_least)
    return [(int(d), int(c), int(n)) for d, c, n in session.execute(query)]
