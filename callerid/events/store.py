"""The events table: append in the caller's transaction, read back by id, prune by age."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..models import Event

# Any constant works; it names the lock that makes event ids commit in order on PostgreSQL.
_APPEND_LOCK = 7_290_001


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    kind: str
    data: str  # JSON text, sent to screens as it is


def append(session: Session, kind: str, payload: dict[str, Any]) -> int:
    """Write an event in the session's transaction and return its id; it is visible to screens
    when that transaction commits, and not at all if it rolls back.

    On PostgreSQL a transaction-scoped lock makes appends (and so commits) happen in id order:
    otherwise event 11 could become visible before 10 and a screen that moved past 11 would never
    see 10. Append last in a transaction, just before commit, to hold that lock briefly.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    event = Event(kind=kind, data=json.dumps(payload, separators=(",", ":")))
    session.add(event)
    session.flush()
    return event.id


def since(session: Session, after_id: int, limit: int = 500) -> list[StoredEvent]:
    """Events with an id above ``after_id``, oldest first, at most ``limit``."""
    rows = session.execute(
        select(Event.id, Event.kind, Event.data)
        .where(Event.id > after_id)
        .order_by(Event.id)
        .limit(limit)
    )
    return [StoredEvent(*row) for row in rows]


def latest_id(session: Session) -> int:
    """The newest event's id, 0 when there is none."""
    return session.scalar(select(func.max(Event.id))) or 0


def prune(session: Session, older_than: datetime) -> int:
    """Delete events created before ``older_than``; return how many went."""
    result = session.execute(delete(Event).where(Event.created_at < older_than))
    return result.rowcount or 0
