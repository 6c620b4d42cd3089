"""Keeping the rollup right when calls change customer (merge, erase, anonymise): the days
whose "first call of a customer" moved, and the customers' repeat-caller rows, are recounted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from ..models import Call, CallerDay, CallSlot
from .counting import caller_counts, inbound_between, slot_counts
from .epoch import SLOTS_PER_DAY, day_of, day_start
from .rollup import DONE, insert_slots

# Customers per IN (...) list.
BATCH = 500


@contextmanager
def relinking(session: Session, customers: Select[Any] | Sequence[int]) -> Iterator[None]:
    """Wrap a change of which customer calls belong to (merge, erase, anonymise): afterwards the
    rolled-up days where one of ``customers`` had their first call, before or after, are
    recounted, and so are their repeat-caller rows. ``customers`` is a list of ids or a query
    for them, read before the change. Runs in the caller's transaction."""
    if session.scalar(select(CallSlot.slot).limit(1)) is None:
        yield  # nothing rolled up yet: nothing to keep right
        return
    done = _done_days(session)
    ids = list(customers) if isinstance(customers, Sequence) else list(session.scalars(customers))
    before = _first_days(session, ids)
    yield
    session.flush()
    for day in sorted((before | _first_days(session, ids)) & done):
        _recount_day(session, day)
    _recount_callers(session, ids, done)
    # Quarter hours of a day not over yet: dropped, the next insights request counts them again.
    started = set(session.scalars(select(CallSlot.slot // SLOTS_PER_DAY).distinct()))
    for day in started - done:
        session.execute(
            delete(CallSlot).where(
                CallSlot.slot >= day * SLOTS_PER_DAY, CallSlot.slot < (day + 1) * SLOTS_PER_DAY
            ),
            execution_options={"synchronize_session": False},
        )


def _batches(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _first_days(session: Session, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for part in _batches(ids):
        firsts = session.scalars(
            select(func.min(Call.received_at))
            .where(Call.customer_id.in_(part))
            .group_by(Call.customer_id)
        )
        found.update(day_of(moment) for moment in firsts if moment is not None)
    return found


def _done_days(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(CallSlot.slot // SLOTS_PER_DAY).where(CallSlot.slot % SLOTS_PER_DAY == DONE)
        )
    )


def _recount_day(session: Session, day: int) -> None:
    lowest, highest = day * SLOTS_PER_DAY, (day + 1) * SLOTS_PER_DAY
    session.execute(
        delete(CallSlot).where(CallSlot.slot >= lowest, CallSlot.slot < highest),
        execution_options={"synchronize_session": False},
    )
    window = inbound_between(day_start(day), day_start(day + 1))
    insert_slots(session, lowest, highest, slot_counts(session, window))


def _recount_callers(session: Session, ids: Sequence[int], done: set[int]) -> None:
    for part in _batches(ids):
        session.execute(
            delete(CallerDay).where(CallerDay.customer_id.in_(part)),
            execution_options={"synchronize_session": False},
        )
        rows = [
            {"day": d, "customer_id": c, "calls": n}
            for d, c, n in caller_counts(
                session,
                and_(Call.direction == "inbound", Call.customer_id.in_(part)),
                at_least=2,
            )
            if d in done
        ]
        if rows:
            session.execute(insert(CallerDay), rows)
