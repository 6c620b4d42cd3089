"""Rollups: counts of closed UTC days, kept by history.rollup so insights need not read every call.
A day is rolled up when all 96 of its quarter-hour rows are here (rows without calls included)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class CallSlot(Base):
    """One quarter hour (UTC) of inbound calls; ``slot`` counts quarter hours since 1970."""

    __tablename__ = "call_slots"

    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    # Calls from customers who had called before (see history.insights).
    came_back: Mapped[int] = mapped_column(Integer, default=0)


class ScreenPopDay(Base):
    """How many of a UTC day's inbound calls showed their card after ``ms`` milliseconds."""

    __tablename__ = "screen_pop_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ms: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class CallerDay(Base):
    """A customer who called at least twice in a UTC day (days since 1970), and how often.
    Single calls are left out: they are most rows and never decide the top callers."""

    __tablename__ = "caller_days"
    __table_args__ = (Index("ix_caller_days_customer", "customer_id"),)

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)
