"""The events screens and webhooks follow, and the sequencer's count of positions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigId, UTCDateTime, utcnow


class Event(Base):
    """One thing screens must hear about; its position is the SSE id (see events/)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("position", name="uq_events_position"),
        # The events still waiting for a position (PostgreSQL's sequencer looks them up).
        Index(
            "ix_events_unpositioned",
            "id",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        # AUTOINCREMENT: SQLite would otherwise reuse ids once old events are pruned.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Gap-free, in the order events became visible: given at commit on SQLite (position = id),
    # by the sequencer on PostgreSQL (events/sequencer.py). None until then.
    position: Mapped[int | None] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EventCounter(Base):
    """PostgreSQL's sequencer's count of positions given (one row), kept apart from the events
    themselves: pruning or erasing the newest events must never make a position be given
    twice."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(BigId, default=0)
