"""Insights read settled days from a rollup: the numbers must stay those of counting every call,
in any time zone, and after the changes that reach back into old calls."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from callerid import numbers
from callerid.db import utcnow
from callerid.directory import erase, merge
from callerid.history import insights, retention, returned
from callerid.models import Call, CallerDay, CallSlot, Customer, ScreenPopDay

from ..factories import add_call, add_customer

ZONES = ["UTC", "America/New_York", "Asia/Kathmandu"]  # -5/-4, +5:45: not whole hours


UNREACHABLE = (numbers.WITHHELD, numbers.INVALID, retention.ANONYMISED)


def waiting(call: Call) -> bool:
    """Missed, not called back, and from someone who can be called back."""
    return (
        bool(call.is_missed) and call.called_back_at is None and call.caller_kind not in UNREACHABLE
    )


def caller_of(call: Call) -> str:
    """Who called, as /missed tells callers apart: the customer, else the number or address."""
    if call.customer_id is not None:
        return f"customer:{call.customer_id}"
    return (
        f"number:{call.from_number}" if call.from_number else f"{call.caller_kind}:{call.raw_from}"
    )


def counted_by_hand(session, since: datetime, until: datetime, zone: ZoneInfo) -> dict:
    """What insights must say, counted in Python from every call."""
    calls = sorted(session.scalars(select(Call)), key=lambda c: (c.received_at, c.id))
    linked_before: set[int] = set()
    returning_ids = set()
    for call in calls:  # every direction counts as "had called before", as retention marks it
        if call.customer_id is not None:
            if call.customer_id in linked_before:
                returning_ids.add(call.id)
            linked_before.add(call.customer_id)
    window = [c for c in calls if c.direction == "inbound" and since <= c.received_at < until]
    days: Counter = Counter()
    hours = [0] * 24
    for call in window:
        local = call.received_at.astimezone(zone)
        days[local.date()] += 1
        hours[local.hour] += 1
    per_customer = Counter(c.customer_id for c in window if c.customer_id is not None)
    top = sorted(per_customer.items(), key=lambda item: (-item[1], item[0]))[:10]
    pops = sorted(
        round((c.card_shown_at - c.received_at) / timedelta(milliseconds=1))
        for c in window
        if c.card_shown_at is not None
    )
    return {
        "calls": len(window),
        "answered": sum(c.answered_at is not None for c in window),
        "missed": sum(bool(c.is_missed) for c in window),
        "missed_open": len({caller_of(c) for c in window if waiting(c)}),
        "returning": sum(
            c.matched_by == retention.RETURNING or c.id in returning_ids for c in window
        ),
        "days": {day: n for day, n in days.items()},
        "hours": hours,
        "top": top,
        "screen_pop": (len(pops), _percentile(pops, 0.5), _percentile(pops, 0.95)),
    }


def _percentile(values: list[int], fraction: float) -> float | None:
    if not values:
        return None
    position = (len(values) - 1) * fraction
    below = math.floor(position)
    low, high = values[below], values[min(below + 1, len(values) - 1)]
    return round(low + (high - low) * (position - below), 1)


def summarised(session, since: datetime, until: datetime, zone: ZoneInfo) -> dict:
    found = insights.summarise(session, since, until, zone)
    return {
        "calls": found.calls,
        "answered": found.answered,
        "missed": found.missed,
        "missed_open": found.missed_open,
        "returning": found.returning,
        "days": {d.date: d.calls for d in found.days if d.calls},
        "hours": found.hours,
        "top": [(t.customer_id, t.calls) for t in found.top_callers],
        "screen_pop": (found.screen_pop.count, found.screen_pop.median_ms, found.screen_pop.p95_ms),
    }


@pytest.fixture
def history(session):
    """Forty days of calls: twelve regulars who call several times a day, occasional callers,
    strangers and withheld numbers; missed calls, some called back; screen-pop times; and a few
    calls in the last hour, which are not settled yet."""
    rng = random.Random(5)
    now = utcnow()
    regulars = [
        add_customer(session, f"Regular {n}", numbers=(f"+1415555{1000 + n:04d}",))
        for n in range(12)
    ]
    others = [
        add_customer(session, f"Guest {n}", numbers=(f"+1312555{2000 + n:04d}",)) for n in range(8)
    ]
    for day in range(40, 0, -1):
        for customer in regulars[: 12 - day % 3]:
            for _ in range(rng.randint(2, 4)):
                _call(
                    session, rng, customer, now - timedelta(days=day, minutes=rng.randint(0, 1439))
                )
        for customer in rng.sample(others, 2):
            _call(session, rng, customer, now - timedelta(days=day, minutes=rng.randint(0, 1439)))
        when = now - timedelta(days=day, minutes=rng.randint(0, 1439))
        _call(session, rng, None, when, from_number=f"+1212555{rng.randint(100, 199):04d}")
        _call(session, rng, None, when + timedelta(minutes=3), caller_kind=numbers.WITHHELD)
    for minutes in (50, 20, 5):
        _call(session, rng, regulars[0], now - timedelta(minutes=minutes))
    _call(session, rng, others[0], now - timedelta(minutes=10), direction="outbound-api")
    session.commit()
    return {"regulars": regulars, "others": others}


def _call(session, rng, customer, at, **fields):
    """One call, added to the session (committed by the fixture): ~1,000 one at a time with
    a commit each would take minutes."""
    if rng.random() < 0.25:
        fields.update(status="no-answer", is_missed=True)
        if rng.random() < 0.4:
            fields["called_back_at"] = at + timedelta(hours=1)
    if rng.random() < 0.9:
        fields["card_shown_at"] = at + timedelta(milliseconds=rng.randint(150, 900))
    if fields.get("caller_kind") == numbers.WITHHELD:
        number = None
    else:
        number = fields.pop("from_number", None) or customer.numbers[0].number
    status = fields.pop("status", "completed")
    session.add(
        Call(
            call_sid=f"CA{rng.getrandbits(128):032x}",
            from_number=number,
            raw_from=number or "anonymous",
            customer=customer,
            matched_by="number" if customer else None,
            status=status,
            received_at=at,
            answered_at=at if status == "completed" else None,
            ended_at=at + timedelta(minutes=2),
            **fields,
        )
    )


def rolled_up_days(session) -> int:
    return session.scalar(select(func.count()).select_from(CallSlot)) // 96


def windows(zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    now = utcnow()
    return [
        insights.default_window(now, zone),
        (now - timedelta(days=33, hours=7, minutes=20, seconds=13), now - timedelta(days=2)),
        (now - timedelta(days=5), now),
    ]


@pytest.mark.parametrize("zone_name", ZONES)
def test_the_rollup_gives_the_numbers_of_counting_every_call(session, history, zone_name):
    zone = ZoneInfo(zone_name)
    for since, until in windows(zone):
        expected = counted_by_hand(session, since, until, zone)
        assert summarised(session, since, until, zone) == expected  # fills the rollup
        assert summarised(session, since, until, zone) == expected  # reads it back
    assert rolled_up_days(session) >= 30


def test_a_window_of_settled_days_only_and_one_of_live_hours_only(session, history):
    zone = ZoneInfo("UTC")
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    for since, until in [
        (today - timedelta(days=20), today - timedelta(days=10)),
        (utcnow() - timedelta(hours=1), utcnow()),
    ]:
        assert summarised(session, since, until, zone) == counted_by_hand(
            session, since, until, zone
        )


def test_top_callers_break_ties_by_customer_id(session):
    # Twelve customers with the same number of calls on the same settled days: the tenth
    # place is a tie, which the lowest ids win, as when every call is counted.
    people = [
        add_customer(session, f"Twin {n}", numbers=(f"+1415555{3000 + n:04d}",)) for n in range(12)
    ]
    start = utcnow() - timedelta(days=8)
    for day in range(6):
        for person in reversed(people):
            for minute in (0, 30, 45):
                add_call(session, person, at=start + timedelta(days=day, minutes=minute))
    since, until = start - timedelta(hours=1), utcnow()
    zone = ZoneInfo("UTC")
    found = summarised(session, since, until, zone)
    assert found["top"] == [(p.id, 18) for p in people[:10]]
    assert found == counted_by_hand(session, since, until, zone)


def assert_unchanged_by_rollup(session, zone_name: str = "America/New_York") -> None:
    zone = ZoneInfo(zone_name)
    for since, until in windows(zone):
        assert summarised(session, since, until, zone) == counted_by_hand(
            session, since, until, zone
        )


def fill_rollup(session) -> None:
    assert_unchanged_by_rollup(session)
    assert rolled_up_days(session) >= 30


def test_numbers_stay_right_after_a_merge(session, history):
    fill_rollup(session)
    # A regular merged into an occasional caller: the survivor's first call moves earlier, the
    # merged customer's first call becomes a returning call, both top-caller rows change.
    regular, guest = history["regulars"][4], history["others"][3]
    merge.merge(session, regular.id, guest.id, actor="test")
    session.commit()
    assert_unchanged_by_rollup(session)
    merge.merge(session, history["regulars"][0].id, history["regulars"][1].id, actor="test")
    session.commit()
    assert_unchanged_by_rollup(session)


def test_numbers_stay_right_after_an_erase(session, history):
    fill_rollup(session)
    erase.erase(session, history["regulars"][2].id, actor="test")
    session.commit()
    assert_unchanged_by_rollup(session)


def test_numbers_stay_right_after_old_calls_are_anonymised(session, history):
    fill_rollup(session)
    # Calls older than 25 days lose their customer: each customer's next call becomes their
    # first linked one (no longer returning), and their top-caller rows for those days go.
    retention.anonymise_older_than(session, utcnow() - timedelta(days=25), actor="test")
    session.commit()
    assert_unchanged_by_rollup(session)
    assert_unchanged_by_rollup(session, "UTC")


def test_numbers_stay_right_after_missed_calls_are_called_back(session, history):
    fill_rollup(session)
    regular = history["regulars"][5]
    latest = session.scalar(
        select(Call)
        .where(Call.customer_id == regular.id, Call.is_missed.is_(True))
        .order_by(Call.received_at.desc())
        .limit(1)
    )
    assert latest is not None
    done = returned.mark_called_back(session, latest.call_sid, "anna")
    session.commit()
    assert done.marked >= 1
    assert_unchanged_by_rollup(session)


def test_a_rollup_lost_or_never_made_is_made_again(session, history):
    fill_rollup(session)
    for table in (CallSlot, ScreenPopDay, CallerDay):
        session.execute(delete(table))
    session.commit()
    assert_unchanged_by_rollup(session, "Asia/Kathmandu")
    assert rolled_up_days(session) >= 30


def test_the_rollup_holds_only_settled_days(session, history):
    fill_rollup(session)
    newest = session.scalar(select(func.max(CallSlot.slot)))
    settled_until = utcnow() - timedelta(hours=2)
    assert datetime.fromtimestamp((newest + 1) * 15 * 60, UTC) <= settled_until
    assert session.scalar(select(func.count()).select_from(Customer)) == 20


def test_quarter_hours_settling_later_in_the_day_are_added(session, history):
    # The settled quarter hours of a day not over yet are rolled up as they settle: drop the
    # newest few, as if they had not settled at the last request, and the next adds them.
    fill_rollup(session)
    newest = session.scalar(select(func.max(CallSlot.slot)))
    session.execute(delete(CallSlot).where(CallSlot.slot > newest - 3))
    session.commit()
    assert_unchanged_by_rollup(session, "UTC")
    assert session.scalar(select(func.max(CallSlot.slot))) == newest


def test_a_day_missing_only_its_last_quarter_hour_is_rolled_up_again(session, history):
    # A fill cut short leaves a day's other rows behind; counting it again must replace them,
    # not trip over them (or fall back to counting every call on each request).
    fill_rollup(session)
    day = (utcnow() - timedelta(days=5)).date()
    last_slot = int(datetime(day.year, day.month, day.day, 23, 45, tzinfo=UTC).timestamp()) // 900
    session.execute(delete(CallSlot).where(CallSlot.slot == last_slot))
    session.commit()
    assert_unchanged_by_rollup(session, "UTC")
    assert session.scalar(select(func.count()).where(CallSlot.slot == last_slot)) == 1
