"""Rollups of closed days for insights: per quarter hour (UTC) the calls, answered, missed and
returning; per day the screen-pop histogram and the customers who called more than once.

Insights over a month would otherwise read ~200k calls per request. A UTC day is rolled up the
first time a window covers it once it is ``SETTLE`` old (status callbacks have arrived by then),
in a side transaction committed at once, so the next request finds it; the rest of a window
(its first partial day, and today) is counted from the calls. Nothing is added to the webhook.

What can change a closed day afterwards is which customer a call belongs to: merging two
customers, erasing one, anonymising old calls. Those services wrap the change in
``relink.relinking()``, which recounts the days whose "first call of a customer" moved and the
customers' rows in ``caller_days``. Calling back a missed call changes no rollup: insights count
the open missed calls from the calls (a small partial index).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import (
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ..models import CallerDay, CallSlot, ScreenPopDay
from .counting import caller_counts, inbound_between, screen_pops, slot_counts
from .epoch import (
    SLOTS_PER_DAY,
    day_start,
    slot_start,
)

# A day's quarter hours are written all at once when the day is rolled up, so its last one
# says the day is done (the settled quarter hours of the current day come earlier, without it).
DONE = SLOTS_PER_DAY - 1
# Days filled per side transaction: a first, cold request keeps what it already counted.
FILL_DAYS = 31


@dataclass
class Rolled:
    """Settled whole days of a window, from the rollup."""

    days: int = 0
    slots: list[tuple[int, ...]] = field(default_factory=list)
    screen_pops: Counter[int] = field(default_factory=Counter)  # milliseconds -> calls
    # Customers who called at least twice on the first day: calls that day.
    first_day_callers: dict[int, int] = field(default_factory=dict)
    # Customers who called at least twice on a later day: (calls on such days, such days).
    repeat_callers: dict[int, tuple[int, int]] = field(default_factory=dict)


def read(session: Session, first: int, last: int, upto: int = 0) -> Rolled:
    """The rollup of UTC days ``first`` .. ``last - 1``, and the quarter hours from the start of
    day ``last`` to ``upto`` (settled ones of a day not over yet), rolling up what is not yet.

    The filling runs in its own transaction on the same engine and is committed at once (it is a
    cache of committed calls, and a GET does not commit). Should that fail (another request
    filling the same day, a locked SQLite file), it is counted from the calls instead."""
    upto = max(upto, last * SLOTS_PER_DAY)
    if first >= last and upto == last * SLOTS_PER_DAY:
        return Rolled()
    try:
        with Session(bind=session.get_bind()) as side:
            fill(side, first, last)
            _fill_slots(side, last * SLOTS_PER_DAY, upto)
            side.commit()
            return _read(side, first, last, upto)
    except (IntegrityError, DBAPIError):
        return _counted(session, first, last, upto)


def _fill_slots(session: Session, lowest: int, highest: int) -> None:
    """Quarter hours ``lowest`` .. ``highest - 1`` of a day not over yet, each with a row."""
    if lowest >= highest:
        return
    between = and_(CallSlot.slot >= lowest, CallSlot.slot < highest)
    present, newest = session.execute(
        select(func.count(), func.max(CallSlot.slot)).where(between)
    ).one()
    if present and present == newest - lowest + 1:
        lowest = newest + 1  # the earlier ones are all there: add the newly settled ones
        if lowest >= highest:
            return
    elif present:
        session.execute(
            delete(CallSlot).where(between), execution_options={"synchronize_session": False}
        )
    window = inbound_between(slot_start(lowest), slot_start(highest))
    insert_slots(session, lowest, highest, slot_counts(session, window))


def fill(session: Session, first: int, last: int) -> int:
    """Roll up the days ``first`` .. ``last - 1`` not rolled up yet, committing every
    ``FILL_DAYS`` days; return how many. ``read`` does it on demand; a backfill calls it."""
    filled = 0
    for start, end in _missing(session, first, last):
        for chunk in range(start, end, FILL_DAYS):
            _fill(session, chunk, min(end, chunk + FILL_DAYS))
            session.commit()
            filled += min(end, chunk + FILL_DAYS) - chunk
    return filled


def _missing(session: Session, first: int, last: int) -> list[tuple[int, int]]:
    """Runs of days not rolled up yet, as (first, last) pairs."""
    done = set(
        session.scalars(
            select(CallSlot.slot // SLOTS_PER_DAY).where(
                CallSlot.slot >= first * SLOTS_PER_DAY,
                CallSlot.slot < last * SLOTS_PER_DAY,
                CallSlot.slot % SLOTS_PER_DAY == DONE,
            )
        )
    )
    runs: list[tuple[int, int]] = []
    for day in range(first, last):
        if day in done:
            continue
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + 1)
        else:
            runs.append((day, day + 1))
    return runs


def _fill(session: Session, first: int, last: int) -> None:
    """Roll up days ``first`` .. ``last - 1`` (none of them rolled up yet)."""
    window = inbound_between(day_start(first), day_start(last))
    lowest, highest = first * SLOTS_PER_DAY, last * SLOTS_PER_DAY
    # Whatever a half-finished or damaged earlier fill left of these days goes first: a day is
    # only counted as done by its last quarter hour, so its other rows may still be there.
    for stale in (
        delete(CallSlot).where(CallSlot.slot >= lowest, CallSlot.slot < highest),
        delete(ScreenPopDay).where(ScreenPopDay.day >= first, ScreenPopDay.day < last),
        delete(CallerDay).where(CallerDay.day >= first, CallerDay.day < last),
    ):
        session.execute(stale, execution_options={"synchronize_session": False})
    insert_slots(session, lowest, highest, slot_counts(session, window))
    pops = screen_pops(session, window)
    if pops:
        session.execute(
            insert(ScreenPopDay), [{"day": d, "ms": ms, "calls": n} for d, ms, n in pops]
        )
    repeat = caller_counts(session, window, at_least=2)
    if repeat:
        session.execute(
            insert(CallerDay), [{"day": d, "customer_id": c, "calls": n} for d, c, n in repeat]
        )


def insert_slots(
    session: Session, lowest: int, highest: int, counted: list[tuple[int, ...]]
) -> None:
    # Every quarter hour gets a row, calls or not (see DONE).
    found = {row[0]: row for row in counted}
    rows = []
    for slot in range(lowest, highest):
        _, calls, answered, missed, returning = found.get(slot, (slot, 0, 0, 0, 0))
        rows.append(
            {
                "slot": slot,
                "calls": calls,
                "answered": answered,
                "missed": missed,
                "came_back": returning,
            }
        )
    session.execute(insert(CallSlot), rows)


def _read(session: Session, first: int, last: int, upto: int) -> Rolled:
    found = Rolled(days=last - first)
    found.slots = [
        tuple(row)
        for row in session.execute(
            select(
                CallSlot.slot,
                CallSlot.calls,
                CallSlot.answered,
                CallSlot.missed,
                CallSlot.came_back,
            ).where(
                CallSlot.slot >= first * SLOTS_PER_DAY,
                CallSlot.slot < upto,
                CallSlot.calls > 0,
            )
        )
    ]
    days = and_(ScreenPopDay.day >= first, ScreenPopDay.day < last)
    found.screen_pops = Counter(
        {
            int(ms): int(n)
            for ms, n in session.execute(
                select(ScreenPopDay.ms, func.sum(ScreenPopDay.calls))
                .where(days)
                .group_by(ScreenPopDay.ms)
            )
        }
    )
    if first >= last:
        return found
    found.first_day_callers = {
        int(c): int(n)
        for c, n in session.execute(
            select(CallerDay.customer_id, CallerDay.calls).where(CallerDay.day == first)
        )
    }
    found.repeat_callers = {
        int(c): (int(n), int(d))
        for c, n, d in session.execute(
            select(CallerDay.customer_id, func.sum(CallerDay.calls), func.count())
            .where(CallerDay.day > first, CallerDay.day < last)
            .group_by(CallerDay.customer_id)
        )
    }
    return found


def _counted(session: Session, first: int, last: int, upto: int) -> Rolled:
    """What ``_read`` gives, counted from the calls."""
    window = inbound_between(day_start(first), day_start(last))
    found = Rolled(
        days=last - first,
        slots=slot_counts(session, inbound_between(day_start(first), slot_start(upto))),
    )
    for _day, ms, n in screen_pops(session, window):
        found.screen_pops[ms] = found.screen_pops.get(ms, 0) + n
    for day, customer_id, n in caller_counts(session, window, at_least=2):
        if day == first:
            found.first_day_callers[customer_id] = n
            continue
        calls, days = found.repeat_callers.get(customer_id, (0, 0))
        found.repeat_callers[customer_id] = (calls + n, days + 1)
    return found
