"""Quarter hours (UTC) and days since 1970, in Python and as SQL functions for both engines:
the units the rollup counts in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# Every time zone in use today is a whole number of quarter hours from UTC (India +5:30, Nepal
# +5:45), so quarter hours in UTC can be placed in local days and hours.
SLOT = 15 * 60
DAY = 24 * 60 * 60
SLOTS_PER_DAY = DAY // SLOT
# How old a day must be before it is rolled up: calls ringing at midnight have ended by then.
SETTLE = timedelta(hours=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
