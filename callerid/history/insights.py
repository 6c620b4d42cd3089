"""Insights: how many called, when, how many came back, were answered or missed, and how fast
the card appeared. Counted by the database in one pass per question, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Float, and_, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..models import Call, Customer
from .retention import RETURNING

DEFAULT_DAYS = 30
TOP_CALLERS = 10
# Calls are counted per quarter hour in UTC, then placed in local days and hours: every time zone
# in use today is a whole number of quarter hours from UTC (India +5:30, Nepal +5:45).
SLOT = 15 * 60


class epoch_slot(FunctionElement[int]):  # noqa: N801  (an SQL function, named like one)
    """Which ``SLOT``-second slot since 1970 a timestamp falls in."""

    type = BigInteger()
    inherit_cache = True


class millis_between(FunctionElement[float]):  # noqa: N801
    """Whole milliseconds from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


@compiles(epoch_slot, "sqlite")
def _slot_sqlite(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC text; strftime('%s') reads it as UTC.
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / {SLOT})"


@compiles(epoch_slot, "postgresql")
def _slot_postgresql(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    # date_part is double precision; EXTRACT's numeric costs twice the time per row.
    return f"CAST(FLOOR(date_part('epoch', {moment}) / {SLOT}) AS BIGINT)"


@compiles(millis_between, "sqlite")
def _millis_sqlite(element: millis_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # SQLite times carry milliseconds; rounding drops julianday's floating-point noise.
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000.0)"


@compiles(millis_between, "postgresql")
def _millis_postgresql(element: millis_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND(CAST(date_part('epoch', {end} - {start}) * 1000 AS NUMERIC))"


@dataclass(slots=True)
class Day:
    date: date
    calls: int = 0
    answered: int = 0
    missed: int = 0


@dataclass(frozen=True, slots=True)
class TopCaller:
    customer_id: int
    name: str
    calls: int


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """Received -> card shown, over the calls a screen reported; None without any."""

    count: int
    median_ms: float | None
    p95_ms: float | None


@dataclass(slots=True)
class Insights:
    since: datetime
    until: datetime
    zone: str
    calls: int = 0
    answered: int = 0
    missed: int = 0
    missed_open: int = 0
    returning: int = 0
    days: list[Day] = field(default_factory=list)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    top_callers: list[TopCaller] = field(default_factory=list)
    screen_pop: ScreenPop = ScreenPop(0, None, None)

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    @property
    def returning_share(self) -> float | None:
        return self.returning / self.calls if self.calls else None


def default_window(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The last ``DEFAULT_DAYS`` local days, today included: from midnight that many days ago
    (in ``zone``) to ``now``."""
    first = now.astimezone(zone).date() - timedelta(days=DEFAULT_DAYS - 1)
    return datetime.combine(first, time(), zone).astimezone(UTC), now


def summarise(session: Session, since: datetime, until: datetime, zone: ZoneInfo) -> Insights:
    """Insights over inbound calls received in [``since``, ``until``), days and hours in ``zone``.

    A call is *returning* when its customer had called before it (anonymised calls keep that as a
    mark, see ``history.retention``); *answered* when someone picked up; *missed* when it ended
    unanswered, and *open* while nobody has called back. Screen-pop percentiles are over whole
    milliseconds and interpolate between ranks, as PostgreSQL's percentile_cont does.
    """
    window = and_(Call.direction == "inbound", Call.received_at >= since, Call.received_at < until)
    found = Insights(since, until, zone.key)
    _count_slots(session, window, found, zone)
    _count_customers(session, window, found)
    found.screen_pop = _screen_pop(session, window)
    return found


def _count_slots(
    session: Session, window: ColumnElement[bool], found: Insights, zone: ZoneInfo
) -> None:
    slot = epoch_slot(Call.received_at)
    rows = session.execute(
        select(
            slot,
            func.count(),
            _tally(Call.answered_at.is_not(None)),
            _tally(Call.is_missed.is_(True)),
            _tally(and_(Call.is_missed.is_(True), Call.called_back_at.is_(None))),
            _tally(Call.matched_by == RETURNING),
        )
        .where(window)
        .group_by(slot)
    )
    days = {day: Day(day) for day in _local_days(found.since, found.until, zone)}
    for number, calls, answered, missed, missed_open, marked in rows:
        local = datetime.fromtimestamp(int(number) * SLOT, UTC).astimezone(zone)
        day = days.setdefault(local.date(), Day(local.date()))
        day.calls += calls
        day.answered += answered
        day.missed += missed
        found.hours[local.hour] += calls
        found.calls += calls
        found.answered += answered
        found.missed += missed
        found.missed_open += missed_open
        found.returning += marked  # anonymised calls that came from returning customers
    found.days = sorted(days.values(), key=lambda d: d.date)


def _tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _local_days(since: datetime, until: datetime, zone: ZoneInfo) -> list[date]:
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _count_customers(session: Session, window: ColumnElement[bool], found: Insights) -> None:
    """Top callers, and the returning calls among the linked ones, from one pass per customer.

    Of a customer's calls in the window all are returning if they called before ``since``, else
    all but the first: returning = linked calls - customers new in the window. That is one index
    probe per customer rather than one per call, with the same answer as ``had_called_before``.
    """
    per = (
        select(Call.customer_id, func.count().label("calls"))
        .where(window, Call.customer_id.is_not(None))
        .group_by(Call.customer_id)
        .cte("per_customer")
    )
    earlier = aliased(Call)
    called_before = exists().where(
        earlier.customer_id == per.c.customer_id, earlier.received_at < found.since
    )
    newcomers = select(func.count()).select_from(per).where(~called_before).scalar_subquery()
    linked = select(func.sum(per.c.calls)).scalar_subquery()
    rows = session.execute(
        select(per.c.customer_id, per.c.calls, newcomers, linked)
        .order_by(per.c.calls.desc(), per.c.customer_id)
        .limit(TOP_CALLERS)
    ).all()
    if not rows:
        return
    found.returning += int(rows[0][3]) - int(rows[0][2])
    names = dict(
        session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_([r[0] for r in rows]))
        ).all()
    )
    found.top_callers = [TopCaller(row[0], names[row[0]], row[1]) for row in rows]


def _screen_pop(session: Session, window: ColumnElement[bool]) -> ScreenPop:
    # A histogram by whole millisecond: a few thousand rows at most, whatever the number of calls.
    latency = millis_between(Call.received_at, Call.card_shown_at)
    rows = session.execute(
        select(latency, func.count())
        .where(window, Call.card_shown_at.is_not(None))
        .group_by(latency)
        .order_by(latency)
    ).all()
    histogram = [(float(ms), int(n)) for ms, n in rows]
    count = sum(n for _, n in histogram)
    if not count:
        return ScreenPop(0, None, None)
    return ScreenPop(count, _percentile(histogram, count, 0.5), _percentile(histogram, count, 0.95))


def _percentile(histogram: list[tuple[float, int]], count: int, fraction: float) -> float:
    position = (count - 1) * fraction
    below = math.floor(position)
    low, high = _value_at(histogram, below), _value_at(histogram, min(below + 1, count - 1))
    return round(low + (high - low) * (position - below), 1)


def _value_at(histogram: list[tuple[float, int]], rank: int) -> float:
    """The value at 0-based ``rank`` in the sorted values the histogram counts."""
    seen = 0
    for value, n in histogram:
        seen += n
        if rank < seen:
            return value
    return histogram[-1][0]
