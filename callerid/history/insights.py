"""Insights: how many called, when, how many came back, were answered or missed, and how fast
the card appeared. Settled days come from ``history.rollup``; the rest is counted by the database,
on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import Call, Customer
from . import counting, epoch, outreach, rollup
from .epoch import SLOT
from .missed import waiting
from .outreach import Outreach

DEFAULT_DAYS = 30
TOP_CALLERS = 10
# More candidates than this for the top callers (flat call counts): count them all at once.
MAX_CANDIDATES = 1000


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
    # Missed calls called back and the missed-call texts (``history.outreach``).
    outreach: Outreach = field(default_factory=Outreach)

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

    Settled whole UTC days come from ``history.rollup``; the partial first day and the last
    hours are counted from the calls, so the answer is the same as counting every call.
    """
    found = Insights(since, until, zone.key)
    now = utcnow()
    first, last = epoch.settled_days(since, until, now)
    # Whole quarter hours inside the window that have settled come from the rollup too.
    lead = epoch.slot_of(since) + (epoch.slot_start(epoch.slot_of(since)) < since)
    upto = max(lead, min(epoch.slot_of(until), epoch.settled_slot(now)))
    rolled = rollup.read(session, first, last, upto)
    slots = [row for row in rolled.slots if lead <= row[0] < upto]
    for start, end in [
        (since, min(epoch.slot_start(lead), until)),
        (max(epoch.slot_start(upto), since), until),
    ]:
        if start < end:
            slots += counting.slot_counts(session, counting.inbound_between(start, end))
    pops = rolled.screen_pops
    if rolled.days:
        # Screen pops and callers come per whole day: the rollup's first day may start before
        # ``since`` (its part before ``since`` is taken off again), and the rest is live.
        live = (epoch.day_start(last), until)
        for _day, ms, n in counting.screen_pops(
            session, counting.inbound_between(epoch.day_start(first), since)
        ):
            pops[ms] -= n
    else:
        live = (since, until)
    pops.update(_live_pops(session, *live))
    _count_slots(slots, found, zone)
    found.missed_open = _missed_open(session, since, until)
    found.top_callers = _top_callers(session, since, until, rolled, live)
    found.screen_pop = _screen_pop(pops)
    found.outreach = outreach.summarise(session, since, until, zone)
    return found


def _live_pops(session: Session, since: datetime, until: datetime) -> Counter[int]:
    found: Counter[int] = Counter()
    if since < until:
        for _day, ms, n in counting.screen_pops(session, counting.inbound_between(since, until)):
            found[ms] += n
    return found


def _count_slots(slots: list[tuple[int, ...]], found: Insights, zone: ZoneInfo) -> None:
    days = {day: Day(day) for day in _local_days(found.since, found.until, zone)}
    for number, calls, answered, missed, returning in slots:
        local = datetime.fromtimestamp(int(number) * SLOT, UTC).astimezone(zone)
        day = days.setdefault(local.date(), Day(local.date()))
        day.calls += calls
        day.answered += answered
        day.missed += missed
        found.hours[local.hour] += calls
        found.calls += calls
        found.answered += answered
        found.missed += missed
        found.returning += returning
    found.days = sorted(days.values(), key=lambda d: d.date)


def _missed_open(session: Session, since: datetime, until: datetime) -> int:
    # Callers, as the badge and /missed count them (missed.WAITING): one meaning of "waiting".
    return waiting(session, since=since, until=until).callers


def _local_days(since: datetime, until: datetime, zone: ZoneInfo) -> list[date]:
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _top_callers(
    session: Session,
    since: datetime,
    until: datetime,
    rolled: rollup.Rolled,
    live: tuple[datetime, datetime],
) -> list[TopCaller]:
    """The customers with the most calls in the window (ties: lowest id first).

    The rollup keeps, per day, only customers who called at least twice: on a day without their
    row a customer called once at most. Those rows and the live part's counts bound everyone's
    count from above and below, so only the customers who could still reach the tenth place are
    counted exactly. When the bounds cannot decide (nobody calls much more often than once a
    day), every customer is counted."""
    counted_live: Counter[int] = Counter()
    if live[0] < live[1]:
        for _day, customer_id, calls in counting.caller_counts(
            session, counting.inbound_between(*live)
        ):
            counted_live[customer_id] += calls
    whole_first = epoch.day_start(epoch.day_of(since)) == since
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for customer_id in {*counted_live, *rolled.first_day_callers, *rolled.repeat_callers}:
        calls, days = rolled.repeat_callers.get(customer_id, (0, 0))
        on_first = rolled.first_day_callers.get(customer_id)
        low[customer_id] = counted_live[customer_id] + calls
        high[customer_id] = low[customer_id]
        if rolled.days:
            high[customer_id] += rolled.days - 1 - days + (1 if on_first is None else on_first)
            if whole_first and on_first is not None:
                low[customer_id] += on_first
    floor = sorted(low.values(), reverse=True)[TOP_CALLERS - 1] if len(low) >= TOP_CALLERS else 0
    window = counting.inbound_between(since, until)
    candidates = [c for c, bound in high.items() if bound >= floor]
    # Anyone else called at most once on each rolled-up day: ``rolled.days`` times in all.
    if floor <= rolled.days or len(candidates) > MAX_CANDIDATES:
        counted = _calls_per_customer(session, window)
    else:
        counted = _exact_counts(session, since, until, rolled, candidates, counted_live)
    counted = sorted(counted, key=lambda row: (-row[1], row[0]))[:TOP_CALLERS]
    if not counted:
        return []
    names = dict(
        session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_([c for c, _ in counted]))
        )
        .tuples()
        .all()
    )
    return [TopCaller(customer_id, names[customer_id], calls) for customer_id, calls in counted]


def _exact_counts(
    session: Session,
    since: datetime,
    until: datetime,
    rolled: rollup.Rolled,
    candidates: list[int],
    counted_live: Counter[int],
) -> list[tuple[int, int]]:
    """The candidates' calls in the window. A customer with a rollup row on every day after the
    first (a regular) needs only their first day counted; the others are counted in full."""
    later = rolled.days - 1
    regulars = [c for c in candidates if rolled.repeat_callers.get(c, (0, 0))[1] == later]
    others = [c for c in candidates if c not in set(regulars)]
    found: list[tuple[int, int]] = []
    if regulars:
        first_day = counting.inbound_between(since, epoch.day_start(epoch.day_of(since) + 1))
        on_first = dict(
            _calls_per_customer(
                session, and_(first_day, Call.customer_id.in_(regulars)), limit=None
            )
        )
        found += [
            (c, rolled.repeat_callers[c][0] + counted_live[c] + on_first.get(c, 0))
            for c in regulars
        ]
    if others:
        window = and_(counting.inbound_between(since, until), Call.customer_id.in_(others))
        found += _calls_per_customer(session, window, limit=None)
    return found


def _calls_per_customer(
    session: Session, window: ColumnElement[bool], *, limit: int | None = TOP_CALLERS
) -> list[tuple[int, int]]:
    rows = session.execute(
        select(Call.customer_id, func.count())
        .where(window, Call.customer_id.is_not(None))
        .group_by(Call.customer_id)
        .order_by(func.count().desc(), Call.customer_id)
        .limit(limit)
    )
    return [(int(c), int(n)) for c, n in rows]


def _screen_pop(pops: Counter[int]) -> ScreenPop:
    # A histogram by whole millisecond: a few thousand entries at most, whatever the calls.
    histogram = [(float(ms), n) for ms, n in sorted(pops.items()) if n]
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
