"""The call log: every call, newest first, filtered, in keyset pages that never repeat or skip."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import Call


class BadCursor(ValueError):
    """The pagination cursor was not one we handed out."""


@dataclass(frozen=True, slots=True)
class Page:
    calls: list[Call]
    next_cursor: str | None


def log(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    line_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The call log, newest first, filtered; ``status`` may be a Twilio status, "missed" or
    "answered". Keyset pagination: a cursor names the last call of the previous page, so calls
    arriving meanwhile neither repeat nor skip a row. Raises ``BadCursor``."""
    query = (
        select(Call)
        .options(selectinload(Call.customer), selectinload(Call.line))
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(limit + 1)
    )
    if since is not None:
        query = query.where(Call.received_at >= since)
    if until is not None:
        query = query.where(Call.received_at < until)
    if customer_id is not None:
        query = query.where(Call.customer_id == customer_id)
    if line_id is not None:
        query = query.where(Call.line_id == line_id)
    if status == "missed":
        query = query.where(Call.is_missed.is_(True))
    elif status == "answered":
        query = query.where(Call.answered_at.is_not(None))
    elif status:
        query = query.where(Call.status == status)
    if cursor:
        at, call_id = _decode_cursor(cursor)
        query = query.where(
            or_(Call.received_at < at, and_(Call.received_at == at, Call.id < call_id))
        )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode_cursor(rows[-1]) if more and rows else None)


def log_chunks(session: Session, *, chunk: int = 1000, **filters: Any) -> Iterator[list[Call]]:
    """The whole filtered call log (``log``'s filters), newest first, ``chunk`` calls at a time:
    each chunk is one keyset query, so memory stays flat however long the log, and the consumer
    may release the session between chunks."""
    cursor = None
    while True:
        page = log(session, limit=chunk, cursor=cursor, **filters)
        if page.calls:
            yield page.calls
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode_cursor(call: Call) -> str:
    micros = (call.received_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{call.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, call_id = cursor.split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), int(call_id)
    except (ValueError, OverflowError) as exc:
        raise BadCursor(cursor) from exc
