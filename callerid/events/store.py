"""The events table: append in the caller's transaction, read back by position, prune by age.

An event's id is drawn when it is inserted; its position, what screens follow, when it becomes
visible. On SQLite writers take turns, so an event's position is its id, set in its own
transaction. On PostgreSQL transactions commit in any order, so one sequencer gives committed
events their positions, gap-free, in the order it sees them (sequencer.py): no writer waits on
any other, and a follower reading ``position > N`` can never skip one that commits late.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from ..db import UTCDateTime, changed_rows, utcnow
from ..models import Event
from .listener import NEW_CHANNEL

# Written once as SQL: on the webhook path, building the statement per call cost more than running
# it. SQLite: the event's position is its id (writers take turns: ids commit in order).
_POSITIONED = text("UPDATE events SET position = id WHERE id >= :first AND position IS NULL")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int  # the event's position: what screens send back as Last-Event-ID
    kind: str
    data: str  # JSON text, sent to screens as it is


def append(session: Session | Connection, kind: str, payload: dict[str, Any]) -> int:
    """Write an event in the transaction of ``session`` (a Session or a Connection) and return its
    id; it reaches screens once that transaction commits, and not at all if it rolls back."""
    connection = session.connection() if isinstance(session, Session) else session
    return append_many(connection, kind, [payload])[0]


def append_many(connection: Connection, kind: str, payloads: Sequence[dict[str, Any]]) -> list[int]:
    """``append`` for several events of one ``kind`` in one statement; their ids, in order."""
    if not payloads:
        return []
    values: dict[str, Any] = {"kind": kind, "at": utcnow()}
    for i, payload in enumerate(payloads):
        values[f"data{i}"] = json.dumps(payload, separators=(",", ":"))
    postgresql = connection.dialect.name == "postgresql"
    statement = _insert_many_sql(len(payloads), postgresql)
    # Ids are drawn in row order; RETURNING is not promised to keep it, sorting restores it.
    ids = sorted(connection.execute(statement, values).scalars())
    if not postgresql:
        connection.execute(_POSITIONED, {"first": ids[0]})
    return ids


@lru_cache(maxsize=128)
def _insert_many_sql(count: int, postgresql: bool) -> TextClause:
    rows = ", ".join(f"(:kind, :data{i}, :at)" for i in range(count))
    if postgresql:
        # NOTIFY in the same round trip, delivered at commit (dropped on rollback): it wakes
        # the sequencer, which positions the event and then wakes every process's follower.
        statement = text(
            f"WITH woken AS MATERIALIZED (SELECT pg_notify('{NEW_CHANNEL}', '')) "
            "INSERT INTO events (kind, data, created_at) "
            f"SELECT v.kind, v.data, v.at FROM woken, (VALUES {rows}) AS v(kind, data, at) "
            "RETURNING id"
        )
    else:
        statement = text(f"INSERT INTO events (kind, data, created_at) VALUES {rows} RETURNING id")
    return statement.bindparams(bindparam("at", type_=UTCDateTime()))


BATCH = 500  # events read at once by since()


def since(session: Session, after: int, limit: int = BATCH) -> list[StoredEvent]:
    """Events with a position above ``after``, in position order, at most ``limit``."""
    rows = session.execute(
        select(Event.position, Event.kind, Event.data)
        .where(Event.position > after)
        .order_by(Event.position)
        .limit(limit)
    )
    return [StoredEvent(*row) for row in rows]


def unpositioned(session: Session) -> int:
    """How many committed events wait for a position (only ever more than a moment on
    PostgreSQL, while no sequencer runs)."""
    return session.scalar(select(func.count()).where(Event.position.is_(None))) or 0


def latest_position(session: Session) -> int:
    """The newest position given, 0 when there is none."""
    return session.scalar(select(func.max(Event.position))) or 0


def prune(session: Session, older_than: datetime) -> int:
    """Delete events created before ``older_than``; return how many went."""
    result = session.execute(delete(Event).where(Event.created_at < older_than))
    return changed_rows(result)
