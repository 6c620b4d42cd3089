"""Missed calls to return: open ones grouped per caller (marking them called back:
``returned``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session, selectinload

from .. import numbers
from ..models import Call
from .retention import ANONYMISED

# How far back the missed-calls list and its count start by default, in days (today included).
DEFAULT_DAYS = 30


def open_since(zone: tzinfo, now: datetime) -> datetime:
    """Where the missed-calls list and its count start by default: midnight ``DEFAULT_DAYS``
    days back in the business's ``zone`` (today, as of ``now``, included), as the insights
    page's default period."""
    first = now.astimezone(zone).date() - timedelta(days=DEFAULT_DAYS - 1)
    return datetime.combine(first, time(), zone).astimezone(UTC)


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
    # "= 1" / "= true" and "IS NULL", as ix_calls_open_missed's predicate says: SQLite uses a
    # partial index only for queries that repeat its terms.
    Call.is_missed == True,  # noqa: E712
    Call.called_back_at.is_(None),
    Call.direction == "inbound",
    # Nobody can call an anonymised caller back; insights still count the call.
    Call.caller_kind != ANONYMISED,
)


# Waiting to be called back: open, from a caller someone can call (withheld and unusable caller
# IDs cannot be). The one meaning of "waiting" for the badge, /missed, insights and the API.
WAITING = and_(OPEN, Call.caller_kind.not_in((numbers.WITHHELD, numbers.INVALID)))


@dataclass(frozen=True, slots=True)
class Waiting:
    callers: int  # distinct callers (as ``CALLER`` tells them apart) with a call waiting
    calls: int  # their missed calls waiting


def waiting(session: Session, *, since: datetime, until: datetime | None = None) -> Waiting:
    """Callers, and their missed calls, received from ``since`` (until ``until``) and waiting to
    be called back (``WAITING``)."""
    where = [WAITING, Call.received_at >= since]
    if until is not None:
        where.append(Call.received_at < until)
    callers, calls = session.execute(
        select(func.count(func.distinct(CALLER)), func.count()).select_from(Call).where(*where)
    ).one()
    return Waiting(callers or 0, calls or 0)


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
    """Missed calls waiting to be called back (``WAITING``: withheld callers cannot be), received
    since ``since`` if given, one group per caller, the group with the most recent missed call
    first; at most ``limit`` groups."""
    where = [WAITING] + ([Call.received_at >= since] if since is not None else [])
    latest = _latest_per_caller(session, where, limit)
    counted = _count_per_caller(session, where, latest)
    groups = [
        Group(key, count, first, call.received_at, call)
        for key, call in latest.items()
        for count, first in [counted[key]]
    ]
    groups.sort(key=lambda g: g.caller)
    groups.sort(key=lambda g: g.last_missed_at, reverse=True)
    return groups[:limit]


# Open missed calls read newest first, this many per group wanted at a time.
_BATCH_PER_GROUP = 2


def _latest_per_caller(
    session: Session, where: list[ColumnElement[bool]], limit: int
) -> dict[str, Call]:
    """The latest open missed call of the ``limit`` callers who missed most recently (and of
    any caller tied with the last of them), read newest first: a few hundred calls rather than
    every open missed call."""
    latest: dict[str, Call] = {}
    after: tuple[datetime, int] | None = None
    batch = max(50, limit * _BATCH_PER_GROUP)
    while True:
        keyset = (
            []
            if after is None
            else [
                (Call.received_at < after[0])
                | ((Call.received_at == after[0]) & (Call.id < after[1]))
            ]
        )
        rows = session.execute(
            select(Call, CALLER)
            .options(selectinload(Call.customer))
            .where(*where, *keyset)
            .order_by(Call.received_at.desc(), Call.id.desc())
            .limit(batch)
        ).all()
        for call, key in rows:
            if len(latest) >= limit and call.received_at < _boundary(latest):
                return latest
            latest.setdefault(key, call)
        if len(rows) < batch:
            return latest
        after = (rows[-1][0].received_at, rows[-1][0].id)


def _boundary(latest: dict[str, Call]) -> datetime:
    """When the last-met caller's latest missed call came: a call at that same time may belong
    to a caller who sorts before it."""
    return min(call.received_at for call in latest.values())


def _count_per_caller(
    session: Session, where: list[ColumnElement[bool]], latest: dict[str, Call]
) -> dict[str, tuple[int, datetime]]:
    """(open missed calls, first one's time) per caller, each kind of caller through its own
    index: customers by (customer_id, received_at), numbers by (from_number, received_at)."""
    customers = [c.customer_id for c in latest.values() if c.customer_id is not None]
    phones = [c.from_number for c in latest.values() if c.customer_id is None and c.from_number]
    # "No customer" as coalesce(...) = 0: SQLite would otherwise read every unlinked call of
    # the period through the customer index. Callers without a number (withheld, addresses)
    # are then counted from ix_calls_open_missed alone.
    unlinked = func.coalesce(Call.customer_id, 0) == 0
    queries: list[ColumnElement[bool]] = []
    if customers:
        queries.append(Call.customer_id.in_(customers))
    if phones:
        queries.append(and_(unlinked, Call.from_number.in_(phones)))
    if any(c.customer_id is None and c.from_number is None for c in latest.values()):
        queries.append(and_(unlinked, func.coalesce(Call.from_number, "") == ""))
    found: dict[str, tuple[int, datetime]] = {}
    caller = CALLER.label("caller")
    for which in queries:
        rows = session.execute(
            select(caller, func.count(), func.min(Call.received_at))
            .where(*where, which)
            .group_by(caller)
        )
        found.update({key: (count, first) for key, count, first in rows if key in latest})
    return found
