"""Insights on reaching back to missed callers: how many missed calls were called back and how
soon, and how the "sorry we missed you" texts fared, per local day.

Counted from the rows themselves on every request, on SQLite and PostgreSQL: call-backs and
texts are few (a text per missed call at most, capped per day), and a median needs every value
anyway. Call-backs live in their own table and are never counted as calls here or anywhere.

- **Called back**: a missed call received in the window, returned by a call-back the customer
  answered (to the same number, or placed from that call) or marked "Called back", whichever
  came first. Its **time to call back** runs from the end of the missed call (its arrival when
  the end is unknown) to that moment; the day is the missed call's.
- **Texts sent**: handed to Twilio in the window (``sent_at``), on that day; **delivered**: of
  those, Twilio reported delivered; **failed**: failed or undelivered, on the day it was sent,
  or (refused before Twilio took it) the day it was refused.
- **Opted out**: numbers that asked for no more texts in the window and have not opted back in.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..models import Call, Callback, OptOut, TextSent

FAILED = ("failed", "undelivered")


@dataclass(slots=True)
class Figures:
    """One day's figures, or the window's."""

    called_back: int = 0
    call_back_median_seconds: float | None = None
    texts_sent: int = 0
    texts_delivered: int = 0
    texts_failed: int = 0
    opted_out: int = 0


@dataclass(slots=True)
class Outreach:
    total: Figures = field(default_factory=Figures)
    days: dict[date, Figures] = field(default_factory=dict)  # every local day of the window

    def day(self, which: date) -> Figures:
        return self.days.get(which) or Figures()


def summarise(session: Session, since: datetime, until: datetime, zone: ZoneInfo) -> Outreach:
    """Call-backs and texts for missed calls, texts and opt-outs in [``since``, ``until``),
    days in ``zone``."""
    found = Outreach(days={day: Figures() for day in _local_days(since, until, zone)})
    waits: dict[date, list[float]] = defaultdict(list)
    for received, seconds in _returned(session, since, until):
        waits[_day(received, zone, found)].append(seconds)
    for day, that_day in waits.items():
        found.days[day].called_back = len(that_day)
        found.days[day].call_back_median_seconds = _median(that_day)
    found.total.called_back = sum(len(that_day) for that_day in waits.values())
    found.total.call_back_median_seconds = _median([s for one in waits.values() for s in one])
    for sent_at, counted_at, status in _texts(session, since, until):
        figures = found.days[_day(counted_at, zone, found)]
        figures.texts_sent += sent_at is not None
        figures.texts_delivered += status == "delivered"
        figures.texts_failed += status in FAILED
    for opted_out_at in session.scalars(
        select(OptOut.opted_out_at).where(OptOut.opted_out_at >= since, OptOut.opted_out_at < until)
    ):
        found.days[_day(opted_out_at, zone, found)].opted_out += 1
    for name in ("texts_sent", "texts_delivered", "texts_failed", "opted_out"):
        setattr(found.total, name, sum(getattr(day, name) for day in found.days.values()))
    return found


def _returned(session: Session, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
    """(received at, seconds until called back) of each missed call of the window returned."""
    missed = session.execute(
        select(Call.id, Call.from_number, Call.received_at, Call.ended_at, Call.called_back_at)
        .where(
            Call.direction == "inbound",
            Call.is_missed.is_(True),
            Call.received_at >= since,
            Call.received_at < until,
        )
        .order_by(Call.received_at)
    ).all()
    if not missed:
        return []
    by_number: dict[str, list[datetime]] = defaultdict(list)
    by_call: dict[int, datetime] = {}
    for call_id, number, answered_at in session.execute(
        select(Callback.call_id, Callback.number, Callback.answered_at)
        .where(Callback.answered_at.is_not(None), Callback.answered_at >= since)
        .order_by(Callback.answered_at)
    ):
        if number:
            by_number[number].append(answered_at)
        if call_id is not None:
            by_call.setdefault(call_id, answered_at)
    found: list[tuple[datetime, float]] = []
    for call_id, number, received_at, ended_at, marked_at in missed:
        start = ended_at or received_at
        moments = [m for m in (marked_at, by_call.get(call_id)) if m is not None]
        answered = by_number.get(number or "", [])
        later = bisect_left(answered, start)
        if later < len(answered):
            moments.append(answered[later])
        if moments:
            found.append((received_at, max(0.0, (min(moments) - start).total_seconds())))
    return found


def _texts(
    session: Session, since: datetime, until: datetime
) -> list[tuple[datetime | None, datetime, str]]:
    """(sent at, the moment it counts at, status) of texts sent in the window or refused in it
    unsent: sent at is None for a text Twilio refused (no message SID), though it was handed
    over; it counts at its sending, else at its refusal."""
    rows = session.execute(
        select(TextSent.sent_at, TextSent.updated_at, TextSent.status, TextSent.message_sid).where(
            or_(
                and_(TextSent.sent_at >= since, TextSent.sent_at < until),
                and_(
                    TextSent.sent_at.is_(None),
                    TextSent.status.in_(FAILED),
                    TextSent.updated_at >= since,
                    TextSent.updated_at < until,
                ),
            )
        )
    )
    # "sending" stamps sent_at before the REST request; a refusal leaves it, "failed" and no SID.
    return [
        (None if status == "failed" and sid is None else sent_at, sent_at or updated_at, status)
        for sent_at, updated_at, status, sid in rows
    ]


def _day(moment: datetime, zone: ZoneInfo, found: Outreach) -> date:
    day = moment.astimezone(zone).date()  # UTCDateTime columns read back aware
    found.days.setdefault(day, Figures())
    return day


def _median(seconds: list[float]) -> float | None:
    return round(statistics.median(seconds), 1) if seconds else None


def _local_days(since: datetime, until: datetime, zone: ZoneInfo) -> list[date]:
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
