"""Rollups of closed days for insights: per quarter hour (UTC) the calls, answered, missed and
returning; per day the screen-pop histogram and the customers who called more than once.

Insights over a month would otherwise read ~200k calls per request. A UTC day is rolled up the
first time a window covers it once it is ``SETTLE`` old (status callbacks have arrived by then),
in a side transaction committed at once, so the next request finds it; the rest of a window
(its first partial day, and today) is counted from the calls. Nothing is added to the webhook.

What can change a closed day afterwards is which customer a call belongs to: merging two
customers, erasing one, anonymising old calls. Those services wrap the change in
``relinking()``, which recounts the days whose "first call of a customer" moved and the
customers' rows in ``caller_days``. Calling back a missed call changes no rollup: insights count
the open missed calls from the calls (a small partial index).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..models import Call, CallerDay, CallSlot, ScreenPopDay

# Every time zone in use today is a whole number of quarter hours from UTC (India +5:30, Nepal
# +5:45), so quarter hours in UTC can be placed in local days and hours.
SLOT = 15 * 60
DAY = 24 * 60 * 60
SLOTS_PER_DAY = DAY // SLOT
# A day's quarter hours are written all at once when the day is rolled up, so its last one
# says the day is done (the settled quarter hours of the current day come earlier, without it).
DONE = SLOTS_PER_DAY - 1
# How old a day must be before it is rolled up: calls ringing at midnight have ended by then.
SETTLE = timedelta(hours=2)
# Days filled per side transaction: a first, cold request keeps what it already counted.
FILL_DAYS = 31
# Customers per IN (...) list.
BATCH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RETURNING = "returning"  # history.retention's mark (imported there from here would loop)


class epoch_slot(FunctionElement[int]):  # noqa: N801  (an SQL function, named like one)
    """Which ``SLOT``-second slot since 1970 a timestamp falls in."""

    type = BigInteger()
    inherit_cache = True


class epoch_day(FunctionElement[int]):  # noqa: N801
    """Which UTC day since 1970 a timestamp falls in."""

    type = BigInteger()
    inherit_cache = True


class millis_between(FunctionElement[float]):  # noqa: N801
    """Whole milliseconds from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


def _epoch_sqlite(moment: str, seconds: int) -> str:
    # SQLite keeps UTC text; strftime('%s') reads it as UTC.
    return f"(CAST(strftime('%s', {moment}) AS INTEGER) / {seconds})"


def _epoch_postgresql(moment: str, seconds: int) -> str:
    # date_part is double precision; EXTRACT's numeric costs twice the time per row.
    return f"CAST(FLOOR(date_part('epoch', {moment}) / {seconds}) AS BIGINT)"


@compiles(epoch_slot, "sqlite")
def _slot_sqlite(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    return _epoch_sqlite(compiler.process(element.clauses, **kw), SLOT)


@compiles(epoch_slot, "postgresql")
def _slot_postgresql(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    return _epoch_postgresql(compiler.process(element.clauses, **kw), SLOT)


@compiles(epoch_day, "sqlite")
def _day_sqlite(element: epoch_day, compiler: SQLCompiler, **kw: Any) -> str:
    return _epoch_sqlite(compiler.process(element.clauses, **kw), DAY)


@compiles(epoch_day, "postgresql")
def _day_postgresql(element: epoch_day, compiler: SQLCompiler, **kw: Any) -> str:
    return _epoch_postgresql(compiler.process(element.clauses, **kw), DAY)


@compiles(millis_between, "sqlite")
def _millis_sqlite(element: millis_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # SQLite times carry milliseconds; rounding drops julianday's floating-point noise.
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000.0)"


@compiles(millis_between, "postgresql")
def _millis_postgresql(element: millis_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND(CAST(date_part('epoch', {end} - {start}) * 1000 AS NUMERIC))"


# Days ---------------------------------------------------------------------------------------
def day_of(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(days=1)


def day_start(day: int) -> datetime:
    return EPOCH + timedelta(days=day)


def slot_of(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=SLOT)


def slot_start(slot: int) -> datetime:
    return EPOCH + timedelta(seconds=slot * SLOT)


def settled_slot(now: datetime) -> int:
    """The first quarter hour not settled yet."""
    return slot_of(now - SETTLE)


def settled_days(since: datetime, until: datetime, now: datetime) -> tuple[int, int]:
    """The settled UTC days a window [since, until) covers, its first one maybe in part:
    ``range(first, last)``, empty when none."""
    first = day_of(since)
    last = min(day_of(until), day_of(now - SETTLE))
    return first, max(first, last)


# Counting from the calls (for the rollup, and for the parts of a window it does not cover) ---
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


# Reading the rollup ---------------------------------------------------------------------------
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
    _insert_slots(session, lowest, highest, slot_counts(session, window))


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
    _insert_slots(session, lowest, highest, slot_counts(session, window))
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


def _insert_slots(
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


# Keeping it right when calls change customer ----------------------------------------------
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
    _insert_slots(session, lowest, highest, slot_counts(session, window))


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
