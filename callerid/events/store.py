"""The events table: append in the caller's transaction, read back by id, prune by age."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from ..db import UTCDateTime, utcnow
from ..models import Event
from .listener import CHANNEL

# Any constant works; it names the lock that makes event ids commit in order on PostgreSQL.
_APPEND_LOCK = 7_290_001
# Written once as SQL: on the webhook path, building the statement per call cost more than running
# it. On PostgreSQL the lock is taken in the same round trip, before the event's id is drawn.
_INSERT = text(
    "INSERT INTO events (kind, data, created_at) VALUES (:kind, :data, :at) RETURNING id"
).bindparams(bindparam("at", type_=UTCDateTime()))
# The same round trip sends NOTIFY, which PostgreSQL delivers at commit (and drops on rollback):
# it wakes the followers of every process at once (listener.py); they still read rows by id.
_LOCKED_INSERT = text(
    "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(:key), "
    f"pg_notify('{CHANNEL}', '')) "
    "INSERT INTO events (kind, data, created_at) SELECT :kind, :data, :at FROM locked RETURNING id"
).bindparams(bindparam("at", type_=UTCDateTime()))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    kind: str
    data: str  # JSON text, sent to screens as it is


def append(session: Session | Connection, kind: str, payload: dict[str, Any]) -> int:
    """Write an event in the transaction of ``session`` (a Session or a Connection) and return its
    id; it is visible to screens when that transaction commits, and not at all if it rolls back.

    On PostgreSQL a transaction-scoped lock makes appends (and so commits) happen in id order:
    otherwise event 11 could become visible before 10 and a screen that moved past 11 would never
    see 10. Append last in a transaction, just before commit, to hold that lock briefly.
    """
    connection = session.connection() if isinstance(session, Session) else session
    values = {"kind": kind, "data": json.dumps(payload, separators=(",", ":")), "at": utcnow()}
    if connection.dialect.name == "postgresql":
        return connection.execute(_LOCKED_INSERT, {**values, "key": _APPEND_LOCK}).scalar_one()
    return connection.execute(_INSERT, values).scalar_one()


def append_many(connection: Connection, kind: str, payloads: Sequence[dict[str, Any]]) -> list[int]:
    """``append`` for several events of one ``kind`` in one statement; their ids, in order."""
    if not payloads:
        return []
    values: dict[str, Any] = {"kind": kind, "at": utcnow(), "key": _APPEND_LOCK}
    for i, payload in enumerate(payloads):
        values[f"data{i}"] = json.dumps(payload, separators=(",", ":"))
    statement = _insert_many_sql(len(payloads), connection.dialect.name == "postgresql")
    # Ids are drawn in row order; RETURNING is not promised to keep it, sorting restores it.
    return sorted(connection.execute(statement, values).scalars())


@lru_cache(maxsize=128)
def _insert_many_sql(count: int, postgresql: bool) -> TextClause:
    rows = ", ".join(f"(:kind, :data{i}, :at)" for i in range(count))
    if postgresql:
        statement = text(
            "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(:key), "
            f"pg_notify('{CHANNEL}', '')) INSERT INTO events (kind, data, created_at) "
            f"SELECT v.kind, v.data, v.at FROM locked, (VALUES {rows}) AS v(kind, data, at) "
            "RETURNING id"
        )
    else:
        statement = text(f"INSERT INTO events (kind, data, created_at) VALUES {rows} RETURNING id")
    return statement.bindparams(bindparam("at", type_=UTCDateTime()))


BATCH = 500  # events read at once by since()


def since(session: Session, after_id: int, limit: int = BATCH) -> list[StoredEvent]:
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
